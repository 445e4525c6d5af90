use cbln_actors::crisis::*;
#[test]
fn dbg() {
    let d = CrisisDetector::compile(&default_rules()).unwrap();
    for line in std::fs::read_to_string("/tmp/dbg/in.txt").unwrap().lines() {
        let (label, t) = line.split_once('\t').unwrap();
        let a = d.assess(t);
        let wrong = (label == "1") != a.is_crisis;
        if wrong || std::env::var("ALL").is_ok() {
            let e = d.explain(t);
            let hits: Vec<String> = e
                .hits
                .iter()
                .map(|h| format!("{}:{:?}", h.rule_id, h.outcome))
                .collect();
            println!(
                "{} {label} {t}\n     {:?} {:?}",
                if wrong { "WRONG" } else { "ok" },
                a.rule_ids,
                hits
            );
        }
    }
}
