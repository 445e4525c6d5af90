//! Recall and false-positive rate of the default rules over the labelled corpus in
//! `corpus/crisis/train/w0-team/*.tsv` (the team-written corpus the rules were tuned on), overall, per category and per way of typing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use cbln_actors::crisis::{CrisisDetector, ORIGINAL_KEYWORDS, default_rules};

struct Row {
    file: String,
    line: usize,
    label: bool,
    category: String,
    variant: String,
    text: String,
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/crisis/train/w0-team")
}

fn load() -> Vec<Row> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut rows = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let content = std::fs::read_to_string(&path).unwrap_or_default();
        for (i, line) in content.lines().enumerate().skip(1) {
            if line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.splitn(4, '\t').collect();
            assert_eq!(cols.len(), 4, "{name}:{} has {} columns", i + 1, cols.len());
            rows.push(Row {
                file: name.clone(),
                line: i + 1,
                label: cols[0] == "1",
                category: cols[1].to_owned(),
                variant: cols[2].to_owned(),
                text: cols[3].to_owned(),
            });
        }
    }
    rows
}

#[derive(Default)]
struct Tally {
    positives: usize,
    detected: usize,
    category_right: usize,
    negatives: usize,
    false_alarms: usize,
}

impl Tally {
    fn recall(&self) -> f64 {
        if self.positives == 0 {
            return f64::NAN;
        }
        self.detected as f64 / self.positives as f64
    }

    fn fpr(&self) -> f64 {
        if self.negatives == 0 {
            return f64::NAN;
        }
        self.false_alarms as f64 / self.negatives as f64
    }
}

fn fmt_rate(x: f64) -> String {
    if x.is_nan() {
        "    -".to_owned()
    } else {
        format!("{x:5.3}")
    }
}

fn table(title: &str, groups: &BTreeMap<String, Tally>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{title}");
    let _ = writeln!(
        out,
        "{:<20} {:>5} {:>6} {:>8} {:>5} {:>6}",
        "group", "pos", "recall", "cat_ok", "neg", "fpr"
    );
    for (name, t) in groups {
        let cat_ok = if t.detected == 0 {
            f64::NAN
        } else {
            t.category_right as f64 / t.detected as f64
        };
        let _ = writeln!(
            out,
            "{:<20} {:>5} {:>6} {:>8} {:>5} {:>6}",
            name,
            t.positives,
            fmt_rate(t.recall()),
            fmt_rate(cat_ok),
            t.negatives,
            fmt_rate(t.fpr())
        );
    }
    out
}

#[test]
fn corpus_recall_and_false_positive_rate() {
    let detector = match CrisisDetector::compile(&default_rules()) {
        Ok(d) => d,
        Err(e) => panic!("default rules must compile: {e}"),
    };
    let rows = load();
    assert!(rows.len() >= 600, "corpus has only {} messages", rows.len());

    let mut overall = Tally::default();
    let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_variant: BTreeMap<String, Tally> = BTreeMap::new();
    let mut misses = String::new();
    for row in &rows {
        let a = detector.assess(&row.text);
        let right_category = a.categories.iter().any(|c| c.as_str() == row.category);
        for t in [
            &mut overall,
            by_category.entry(row.category.clone()).or_default(),
            by_variant.entry(row.variant.clone()).or_default(),
        ] {
            if row.label {
                t.positives += 1;
                if a.is_crisis {
                    t.detected += 1;
                    if right_category {
                        t.category_right += 1;
                    }
                }
            } else {
                t.negatives += 1;
                if a.is_crisis {
                    t.false_alarms += 1;
                }
            }
        }
        if row.label != a.is_crisis {
            let _ = writeln!(
                misses,
                "  {} {}:{} [{}/{}] {:?} -> {:?}",
                if row.label { "MISS" } else { "FALSE ALARM" },
                row.file,
                row.line,
                row.category,
                row.variant,
                row.text,
                a.rule_ids
            );
        }
    }
    let mut report = String::new();
    let _ = writeln!(
        report,
        "crisis corpus: {} messages ({} positive, {} negative), {} rules",
        rows.len(),
        overall.positives,
        overall.negatives,
        detector.rule_count()
    );
    let mut all = BTreeMap::new();
    all.insert("overall".to_owned(), overall);
    report.push_str(&table("overall", &all));
    report.push_str(&table(
        "per category (negatives: kind of hard negative)",
        &by_category,
    ));
    report.push_str(&table("per variant", &by_variant));
    if !misses.is_empty() {
        report.push_str("\nerrors:\n");
        report.push_str(&misses);
    }
    println!("{report}");
    let overall = &all["overall"];
    assert!(
        overall.recall() >= 0.95 && overall.fpr() <= 0.05,
        "recall {:.3} (need >= 0.95), false-positive rate {:.3} (need <= 0.05)\n{report}",
        overall.recall(),
        overall.fpr()
    );
}

#[test]
fn original_keywords_each_trigger() {
    let detector = match CrisisDetector::compile(&default_rules()) {
        Ok(d) => d,
        Err(e) => panic!("default rules must compile: {e}"),
    };
    for keyword in ORIGINAL_KEYWORDS {
        for text in [keyword.to_owned(), format!("mình {keyword}")] {
            let a = detector.assess(&text);
            assert!(a.is_crisis, "{text:?} must be a crisis: {a:?}");
        }
    }
}
