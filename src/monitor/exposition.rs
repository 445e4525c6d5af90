//! A strict parser for the OpenMetrics text format served by `/metrics`, and the same for the
//! classic Prometheus text format.
//!
//! `cbln monitor` reads a running server's metrics with it, and the HTTP tests use it to prove
//! the exposition is well-formed (not merely that some substrings occur in it). It rejects what
//! OpenMetrics 1.0 rejects: samples outside a typed family, interleaved families, duplicate
//! series, bad escapes, negative counters, malformed histograms and a missing `# EOF`. It also
//! requires a `# TYPE` for every family, which both formats only recommend.

use std::collections::HashSet;

/// A family's declared type (`# TYPE name <type>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// `counter`: samples `_total` and `_created`.
    Counter,
    /// `gauge`: one sample named as the family.
    Gauge,
    /// `histogram`: `_bucket{le}`, `_count`, `_sum`, `_created`.
    Histogram,
    /// `gaugehistogram`: `_bucket{le}`, `_gcount`, `_gsum`.
    GaugeHistogram,
    /// `summary`: the family name (with `quantile`), `_count`, `_sum`, `_created`.
    Summary,
    /// `info`: `_info`.
    Info,
    /// `stateset`: one sample per state, named as the family.
    StateSet,
    /// `unknown`: one sample named as the family.
    Unknown,
}

impl MetricType {
    fn parse(text: &str, format: Format) -> Option<Self> {
        Some(match (text, format) {
            ("counter", _) => MetricType::Counter,
            ("gauge", _) => MetricType::Gauge,
            ("histogram", _) => MetricType::Histogram,
            ("summary", _) => MetricType::Summary,
            ("gaugehistogram", Format::OpenMetrics) => MetricType::GaugeHistogram,
            ("info", Format::OpenMetrics) => MetricType::Info,
            ("stateset", Format::OpenMetrics) => MetricType::StateSet,
            ("unknown", Format::OpenMetrics) | ("untyped", Format::PrometheusText) => {
                MetricType::Unknown
            }
            _ => return None,
        })
    }

    /// The sample-name suffixes a family of this type may expose.
    fn suffixes(self, format: Format) -> &'static [&'static str] {
        if format == Format::PrometheusText {
            return match self {
                MetricType::Histogram => &["_bucket", "_count", "_sum"],
                MetricType::Summary => &["", "_count", "_sum"],
                _ => &[""],
            };
        }
        match self {
            MetricType::Counter => &["_total", "_created"],
            MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
            MetricType::Histogram => &["_bucket", "_count", "_sum", "_created"],
            MetricType::GaugeHistogram => &["_bucket", "_gcount", "_gsum"],
            MetricType::Summary => &["", "_count", "_sum", "_created"],
            MetricType::Info => &["_info"],
        }
    }
}

/// Which of the two text formats a text is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// OpenMetrics 1.0 (`application/openmetrics-text`): counter families are named without
    /// `_total`, and the text ends with `# EOF`.
    #[default]
    OpenMetrics,
    /// The classic Prometheus format (`text/plain; version=0.0.4`): a counter family is named
    /// as its `_total` sample, and there is no `# EOF`.
    PrometheusText,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's metric name, including any suffix (`http_requests_total`).
    pub name: String,
    /// Label pairs in the order written, values unescaped.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// The optional timestamp, in seconds.
    pub timestamp: Option<f64>,
}

impl Sample {
    /// The value of label `name`, if present.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether every `(name, value)` in `filter` is among this sample's labels; `le` and
    /// `quantile` compare as numbers, since `0.1` and `1e-1` are the same bound.
    pub fn matches(&self, filter: &[(&str, &str)]) -> bool {
        filter.iter().all(|(key, wanted)| match self.label(key) {
            Some(have) => label_values_equal(key, have, wanted),
            None => false,
        })
    }
}

fn label_values_equal(key: &str, have: &str, wanted: &str) -> bool {
    if have == wanted {
        return true;
    }
    if (key == "le" || key == "quantile")
        && let (Some(a), Some(b)) = (parse_number(have), parse_number(wanted))
    {
        return a == b;
    }
    false
}

/// A metric family: its metadata and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    /// The family name, as in `# TYPE` (for a counter, without `_total`).
    pub name: String,
    /// The declared type.
    pub kind: MetricType,
    /// `# HELP` text, unescaped.
    pub help: Option<String>,
    /// `# UNIT`, if declared.
    pub unit: Option<String>,
    /// The samples, in exposition order.
    pub samples: Vec<Sample>,
}

/// A whole parsed exposition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exposition {
    /// The format the text was parsed as.
    pub format: Format,
    /// Families in exposition order.
    pub families: Vec<MetricFamily>,
}

impl Exposition {
    /// The family declared as `name`.
    pub fn family(&self, name: &str) -> Option<&MetricFamily> {
        self.families.iter().find(|family| family.name == name)
    }

    /// The family a sample name (e.g. `x_bucket`, `x_total`) belongs to.
    pub fn family_of_sample(&self, sample_name: &str) -> Option<&MetricFamily> {
        self.families
            .iter()
            .find(|family| belongs_to(sample_name, family, self.format))
    }

    /// Every sample named `sample_name`, across families.
    pub fn samples<'a>(&'a self, sample_name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.families
            .iter()
            .flat_map(|family| family.samples.iter())
            .filter(move |sample| sample.name == sample_name)
    }

    /// The value of the one sample named `sample_name` whose label set is exactly `labels`.
    pub fn value(&self, sample_name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples(sample_name)
            .find(|sample| sample.labels.len() == labels.len() && sample.matches(labels))
            .map(|sample| sample.value)
    }

    /// The sum of every sample named `sample_name` whose labels include `filter`; 0 when none do.
    pub fn sum(&self, sample_name: &str, filter: &[(&str, &str)]) -> f64 {
        self.samples(sample_name)
            .filter(|sample| sample.matches(filter))
            .map(|sample| sample.value)
            .sum()
    }
}

/// Why an exposition was rejected, with the 1-based line it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses OpenMetrics text strictly; see the module documentation for what is rejected.
pub fn parse(text: &str) -> Result<Exposition, ParseError> {
    parse_as(text, Format::OpenMetrics)
}

/// Parses classic Prometheus text as strictly as that format allows: comments, blank lines and
/// a missing `# EOF` are accepted; everything else is checked as in [`parse`].
pub fn parse_prometheus_text(text: &str) -> Result<Exposition, ParseError> {
    parse_as(text, Format::PrometheusText)
}

/// Parses `text` in the given format.
pub fn parse_as(text: &str, format: Format) -> Result<Exposition, ParseError> {
    let mut parser = Parser {
        format,
        ..Parser::default()
    };
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut saw_eof = false;
    for (index, line) in body.split('\n').enumerate() {
        let number = index + 1;
        let fail = |message: String| ParseError {
            line: number,
            message,
        };
        if saw_eof {
            return Err(fail("content after # EOF".to_owned()));
        }
        if format == Format::OpenMetrics && line == "# EOF" {
            saw_eof = true;
            continue;
        }
        parser.line(line).map_err(fail)?;
    }
    let last = body.split('\n').count();
    if format == Format::OpenMetrics && !saw_eof {
        return Err(ParseError {
            line: last,
            message: "missing the final # EOF".to_owned(),
        });
    }
    parser.finish().map_err(|message| ParseError {
        line: last,
        message,
    })?;
    Ok(Exposition {
        format,
        families: parser.families,
    })
}

#[derive(Default)]
struct Parser {
    format: Format,
    families: Vec<MetricFamily>,
    /// Whether the last family has received a sample (metadata must come before samples).
    current_has_samples: bool,
    current_has_type: bool,
    seen_families: HashSet<String>,
    seen_series: HashSet<String>,
}

impl Parser {
    fn line(&mut self, line: &str) -> Result<(), String> {
        let classic = self.format == Format::PrometheusText;
        if line.trim().is_empty() {
            return if classic {
                Ok(())
            } else {
                Err("empty line".to_owned())
            };
        }
        if classic {
            let comment = line.trim_start();
            if let Some(rest) = comment.strip_prefix('#') {
                let rest = rest.trim_start();
                if rest.starts_with("HELP ") || rest.starts_with("TYPE ") {
                    return self.descriptor(rest);
                }
                return Ok(());
            }
        }
        if let Some(rest) = line.strip_prefix("# ") {
            return self.descriptor(rest);
        }
        if line.starts_with('#') {
            return Err(format!("unexpected comment {line:?}"));
        }
        self.sample(line)
    }

    fn descriptor(&mut self, rest: &str) -> Result<(), String> {
        let (keyword, rest) = rest
            .split_once(' ')
            .ok_or_else(|| format!("malformed descriptor {rest:?}"))?;
        let known = match self.format {
            Format::OpenMetrics => matches!(keyword, "TYPE" | "HELP" | "UNIT"),
            Format::PrometheusText => matches!(keyword, "TYPE" | "HELP"),
        };
        if !known {
            return Err(format!("unknown descriptor # {keyword}"));
        }
        let (name, value) = rest.split_once(' ').unwrap_or((rest, ""));
        check_metric_name(name)?;
        self.enter_family(name)?;
        let family = self
            .families
            .last_mut()
            .ok_or_else(|| "no family".to_owned())?;
        if self.current_has_samples {
            return Err(format!("# {keyword} for {name} after its samples"));
        }
        match keyword {
            "TYPE" => {
                if self.current_has_type {
                    return Err(format!("second # TYPE for {name}"));
                }
                family.kind = MetricType::parse(value, self.format)
                    .ok_or_else(|| format!("unknown type {value:?} for {name}"))?;
                self.current_has_type = true;
            }
            "HELP" => {
                if family.help.is_some() {
                    return Err(format!("second # HELP for {name}"));
                }
                family.help = Some(unescape(value, false)?);
            }
            "UNIT" => {
                if family.unit.is_some() {
                    return Err(format!("second # UNIT for {name}"));
                }
                if !value.is_empty() && !name.ends_with(&format!("_{value}")) {
                    return Err(format!("{name} does not end with its unit {value:?}"));
                }
                family.unit = Some(value.to_owned());
            }
            other => return Err(format!("unknown descriptor # {other}")),
        }
        Ok(())
    }

    /// Makes `name` the current family, opening it if it is new.
    fn enter_family(&mut self, name: &str) -> Result<(), String> {
        if self
            .families
            .last()
            .is_some_and(|family| family.name == name)
        {
            return Ok(());
        }
        self.close_family()?;
        if !self.seen_families.insert(name.to_owned()) {
            return Err(format!(
                "family {name} appears twice (families must not interleave)"
            ));
        }
        self.families.push(MetricFamily {
            name: name.to_owned(),
            kind: MetricType::Unknown,
            help: None,
            unit: None,
            samples: Vec::new(),
        });
        self.current_has_samples = false;
        self.current_has_type = false;
        Ok(())
    }

    fn close_family(&mut self) -> Result<(), String> {
        let Some(family) = self.families.last() else {
            return Ok(());
        };
        if !self.current_has_type {
            return Err(format!("family {} has no # TYPE", family.name));
        }
        if matches!(
            family.kind,
            MetricType::Histogram | MetricType::GaugeHistogram
        ) {
            check_histogram(family)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), String> {
        self.close_family()
    }

    fn sample(&mut self, line: &str) -> Result<(), String> {
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let name = &line[..name_end];
        check_metric_name(name)?;
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if rest.starts_with('{') {
            let (parsed, after) = parse_labels(rest)?;
            labels = parsed;
            rest = after;
        }
        let rest = rest
            .strip_prefix(' ')
            .ok_or_else(|| format!("expected a space before the value of {name}"))?;
        let (sample_part, exemplar) = match rest.split_once(" # ") {
            Some((sample_part, exemplar)) => (sample_part, Some(exemplar)),
            None => (rest, None),
        };
        let mut fields = sample_part.split(' ');
        let value_text = fields.next().unwrap_or("");
        let value = parse_number(value_text)
            .ok_or_else(|| format!("bad value {value_text:?} for {name}"))?;
        let timestamp = match fields.next() {
            Some(ts) => Some(parse_number(ts).ok_or_else(|| format!("bad timestamp {ts:?}"))?),
            None => None,
        };
        if fields.next().is_some() {
            return Err(format!("trailing fields after the sample of {name}"));
        }

        let family = self
            .families
            .last()
            .filter(|family| belongs_to(name, family, self.format))
            .ok_or_else(|| match self.families.last() {
                Some(family) => format!(
                    "sample {name} does not belong to the current family {} ({:?})",
                    family.name, family.kind
                ),
                None => format!("sample {name} before any # TYPE"),
            })?;
        if !self.current_has_type {
            return Err(format!("sample {name} before the # TYPE of its family"));
        }
        let kind = family.kind;
        if let Some(exemplar) = exemplar {
            let allowed = (kind == MetricType::Counter && name.ends_with("_total"))
                || (matches!(kind, MetricType::Histogram | MetricType::GaugeHistogram)
                    && name.ends_with("_bucket"));
            if !allowed {
                return Err(format!("exemplar on {name}, which may not carry one"));
            }
            check_exemplar(exemplar)?;
        }
        if kind == MetricType::Counter && (value.is_nan() || value < 0.0) {
            return Err(format!("counter {name} has a negative or NaN value"));
        }
        if name.ends_with("_bucket") && !labels.iter().any(|(key, _)| key == "le") {
            return Err(format!("{name} has no le label"));
        }
        if !name.ends_with("_bucket") && labels.iter().any(|(key, _)| key == "le") {
            return Err(format!("{name} has an le label but is not a bucket"));
        }

        let mut key_labels: Vec<_> = labels.iter().collect();
        key_labels.sort();
        let series_key = format!("{name}{key_labels:?}");
        if !self.seen_series.insert(series_key) {
            return Err(format!("duplicate series {name}{labels:?}"));
        }
        self.current_has_samples = true;
        let family = self
            .families
            .last_mut()
            .ok_or_else(|| "no family".to_owned())?;
        family.samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
            timestamp,
        });
        Ok(())
    }
}

fn belongs_to(sample_name: &str, family: &MetricFamily, format: Format) -> bool {
    family.kind.suffixes(format).iter().any(|suffix| {
        sample_name
            .strip_suffix(suffix)
            .is_some_and(|base| base == family.name)
    })
}

fn check_metric_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if valid {
        Ok(())
    } else {
        Err(format!("invalid metric name {name:?}"))
    }
}

fn check_label_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!("invalid label name {name:?}"));
    }
    if name.starts_with("__") {
        return Err(format!("reserved label name {name:?}"));
    }
    Ok(())
}

type Labels = Vec<(String, String)>;

/// Parses `{a="x",b="y"}` at the start of `text`, returning the pairs and the rest of the line.
fn parse_labels(text: &str) -> Result<(Labels, &str), String> {
    let mut rest = text
        .strip_prefix('{')
        .ok_or_else(|| "expected {".to_owned())?;
    let mut labels: Vec<(String, String)> = Vec::new();
    if let Some(after) = rest.strip_prefix('}') {
        return Ok((labels, after));
    }
    loop {
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("label without = in {text:?}"))?;
        let name = &rest[..eq];
        check_label_name(name)?;
        if labels.iter().any(|(key, _)| key == name) {
            return Err(format!("label {name} given twice"));
        }
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or_else(|| format!("value of label {name} is not quoted"))?;
        let close = find_closing_quote(rest)
            .ok_or_else(|| format!("unterminated value of label {name}"))?;
        let value = unescape(&rest[..close], true)?;
        labels.push((name.to_owned(), value));
        rest = &rest[close + 1..];
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        rest = rest
            .strip_prefix(',')
            .ok_or_else(|| format!("expected , or }} after label {name}"))?;
        if rest.starts_with('}') {
            return Err("trailing comma in label set".to_owned());
        }
    }
}

fn find_closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (index, byte) in text.bytes().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some(index),
            _ => {}
        }
    }
    None
}

/// Undoes `\\`, `\n` and (in label values) `\"`; any other escape is an error.
fn unescape(text: &str, quote_allowed: bool) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            if c == '\n' {
                return Err("raw newline in text".to_owned());
            }
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quote_allowed => out.push('"'),
            other => return Err(format!("invalid escape \\{}", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

fn check_exemplar(text: &str) -> Result<(), String> {
    let (_, rest) = parse_labels(text)?;
    let rest = rest
        .strip_prefix(' ')
        .ok_or_else(|| "exemplar without a value".to_owned())?;
    let mut fields = rest.split(' ');
    let value = fields.next().unwrap_or("");
    parse_number(value).ok_or_else(|| format!("bad exemplar value {value:?}"))?;
    if let Some(ts) = fields.next() {
        parse_number(ts).ok_or_else(|| format!("bad exemplar timestamp {ts:?}"))?;
    }
    if fields.next().is_some() {
        return Err("trailing fields after the exemplar".to_owned());
    }
    Ok(())
}

/// Parses a number as OpenMetrics writes it; Rust's `f64::from_str` alone would also take
/// `inf`, `infinity` and `nan` in any case, which the format does not allow.
pub fn parse_number(text: &str) -> Option<f64> {
    match text {
        "+Inf" => return Some(f64::INFINITY),
        "-Inf" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let well_formed = !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !well_formed {
        return None;
    }
    text.parse().ok()
}

/// Checks each histogram series: ascending `le`, cumulative counts, a `+Inf` bucket equal to
/// `_count` (or `_gcount`).
fn check_histogram(family: &MetricFamily) -> Result<(), String> {
    type Series<'a> = (Vec<&'a (String, String)>, Vec<(f64, f64)>);
    let mut series: Vec<Series<'_>> = Vec::new();
    let bucket_name = format!("{}_bucket", family.name);
    for sample in family.samples.iter().filter(|s| s.name == bucket_name) {
        let mut others: Vec<_> = sample.labels.iter().filter(|(k, _)| k != "le").collect();
        others.sort();
        let le_text = sample.label("le").unwrap_or("");
        let le =
            parse_number(le_text).ok_or_else(|| format!("{}: bad le {le_text:?}", family.name))?;
        match series.iter_mut().find(|(labels, _)| *labels == others) {
            Some((_, buckets)) => buckets.push((le, sample.value)),
            None => series.push((others, vec![(le, sample.value)])),
        }
    }
    let count_suffix = if family.kind == MetricType::Histogram {
        "_count"
    } else {
        "_gcount"
    };
    let count_name = format!("{}{count_suffix}", family.name);
    for (labels, buckets) in &series {
        for pair in buckets.windows(2) {
            if pair[1].0 <= pair[0].0 {
                return Err(format!("{}{labels:?}: le not ascending", family.name));
            }
            if pair[1].1 < pair[0].1 {
                return Err(format!("{}{labels:?}: buckets not cumulative", family.name));
            }
        }
        let Some(&(last_le, inf_count)) = buckets.last() else {
            continue;
        };
        if last_le != f64::INFINITY {
            return Err(format!("{}{labels:?}: no +Inf bucket", family.name));
        }
        let count = family.samples.iter().find(|s| {
            s.name == count_name && {
                let mut own: Vec<_> = s.labels.iter().collect();
                own.sort();
                own == *labels
            }
        });
        if let Some(count) = count
            && count.value != inf_count
        {
            return Err(format!(
                "{}{labels:?}: {count_suffix} {} differs from the +Inf bucket {inf_count}",
                family.name, count.value
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = concat!(
        "# HELP requests Requests.\n",
        "# TYPE requests counter\n",
        "requests_total{route=\"/a\",status=\"200\"} 3\n",
        "requests_total{route=\"/q\\\"x\\\\\\n\",status=\"500\"} 1 # {trace_id=\"ab\"} 1.0 1.5\n",
        "# TYPE depth gauge\n",
        "depth{actor=\"session\"} -2\n",
        "# TYPE lat_seconds histogram\n",
        "# UNIT lat_seconds seconds\n",
        "lat_seconds_sum{route=\"/a\"} 0.3\n",
        "lat_seconds_count{route=\"/a\"} 3\n",
        "lat_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n",
        "lat_seconds_bucket{route=\"/a\",le=\"1.0\"} 3\n",
        "lat_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n",
        "# TYPE build info\n",
        "build_info{version=\"1\"} 1\n",
        "# EOF\n",
    );

    #[test]
    fn parses_a_well_formed_exposition() {
        let parsed = parse(GOOD).unwrap();
        assert_eq!(parsed.families.len(), 4);
        let requests = parsed.family("requests").unwrap();
        assert_eq!(requests.kind, MetricType::Counter);
        assert_eq!(requests.help.as_deref(), Some("Requests."));
        assert_eq!(requests.samples[1].label("route"), Some("/q\"x\\\n"));
        assert_eq!(parsed.sum("requests_total", &[]), 4.0);
        assert_eq!(parsed.value("depth", &[("actor", "session")]), Some(-2.0));
        assert_eq!(
            parsed.value("lat_seconds_bucket", &[("route", "/a"), ("le", "1")]),
            Some(3.0)
        );
        assert_eq!(
            parsed.family_of_sample("lat_seconds_bucket").unwrap().name,
            "lat_seconds"
        );
        assert_eq!(parsed.family_of_sample("build_info").unwrap().name, "build");
        assert!(parsed.family_of_sample("requests").is_none());
    }

    fn rejects(text: &str, needle: &str) {
        match parse(text) {
            Ok(_) => panic!("accepted {text:?}"),
            Err(err) => assert!(
                err.to_string().contains(needle),
                "{err} does not mention {needle:?}"
            ),
        }
    }

    #[test]
    fn rejects_what_openmetrics_rejects() {
        rejects("# TYPE a gauge\na 1\n", "EOF");
        rejects("# TYPE a gauge\na 1\n# EOF\nb 1\n", "after # EOF");
        rejects("a 1\n# EOF\n", "before any # TYPE");
        rejects("# HELP a x\na 1\n# EOF\n", "before the # TYPE");
        rejects("# HELP a x\n# TYPE b gauge\nb 1\n# EOF\n", "no # TYPE");
        rejects("# TYPE a counter\na 1\n# EOF\n", "does not belong");
        rejects("# TYPE a counter\na_total -1\n# EOF\n", "negative");
        rejects("# TYPE a gauge\na{x=\"1\",} 1\n# EOF\n", "trailing comma");
        rejects("# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n# EOF\n", "twice");
        rejects("# TYPE a gauge\na{x=1} 1\n# EOF\n", "not quoted");
        rejects("# TYPE a gauge\na{x=\"\\t\"} 1\n# EOF\n", "invalid escape");
        rejects("# TYPE a gauge\na inf\n# EOF\n", "bad value");
        rejects("# TYPE a gauge\na 1\na 2\n# EOF\n", "duplicate series");
        rejects(
            "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n# EOF\n",
            "appears twice",
        );
        rejects(
            "# TYPE a gauge\na 1\n# HELP a late\n# EOF\n",
            "after its samples",
        );
        rejects("# TYPE a gauge\n\na 1\n# EOF\n", "empty line");
        rejects(
            "# TYPE a gauge\n# random words\na 1\n# EOF\n",
            "unknown descriptor",
        );
        rejects(
            "# TYPE a_bytes gauge\n# UNIT a_bytes seconds\n# EOF\n",
            "unit",
        );
        rejects("# TYPE a gauge\na 1 # {x=\"1\"} 1\n# EOF\n", "exemplar");
        rejects(
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
            "cumulative",
        );
        rejects("# TYPE h histogram\nh_bucket{le=\"1\"} 2\n# EOF\n", "+Inf");
        rejects(
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n# EOF\n",
            "differs",
        );
        rejects("# TYPE h histogram\nh_bucket 2\n# EOF\n", "no le");
        rejects("# TYPE a gauge\n9a 1\n# EOF\n", "invalid metric name");
    }

    #[test]
    fn classic_text_allows_comments_and_blank_lines() {
        let text = "# a comment\n\n# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n";
        assert_eq!(
            parse_prometheus_text(text).unwrap().sum("x_total", &[]),
            1.0
        );
        assert!(parse_prometheus_text("# TYPE x unknown\nx 1\n").is_err());
        assert!(parse_prometheus_text("# TYPE x untyped\nx 1\n").is_ok());
    }

    #[test]
    fn numbers_follow_the_format() {
        assert_eq!(parse_number("1e-5"), Some(1e-5));
        assert_eq!(parse_number("-0.5"), Some(-0.5));
        assert_eq!(parse_number("+Inf"), Some(f64::INFINITY));
        assert!(parse_number("NaN").is_some_and(f64::is_nan));
        for bad in ["inf", "Infinity", "nan", "", "0x10", "1_000", "e5"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}
