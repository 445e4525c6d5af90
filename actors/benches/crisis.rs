//! Scan time of the crisis detector per message (50, 200 and 2,000 characters): the rules alone,
//! and the whole layered judgement (rules, learned model, two earlier turns of context) that the
//! service runs. Targets in release: rules under 20 µs, the layered judgement under 50 µs, for a
//! 200-character message.

use std::hint::black_box;

use cbln_actors::crisis::{CrisisDetector, Layers, RiskLevel, RiskModel, default_rules};
use cbln_actors::text::normalize_views;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Realistic chat text: mostly ordinary, some teen code and no diacritics, one crisis phrase.
const SAMPLE: &str = "hôm nay đi học về mệt quá, mk ko muốn làm bài tập gì hết, mẹ lại mắng \
    vì điểm kém. tối nay chắc thức khuya chơi game với tụi bạn cho đỡ chán. minh buon lam, \
    đôi khi mình chỉ muốn chết đi cho xong 😭 nhưng mà thôi, mai còn kiểm tra toán. ";

fn text_of(chars: usize) -> String {
    SAMPLE.chars().cycle().take(chars).collect()
}

fn bench(c: &mut Criterion) {
    let detector = match CrisisDetector::compile(&default_rules()) {
        Ok(d) => d,
        Err(e) => panic!("default rules must compile: {e}"),
    };
    println!(
        "compiled rules: {} rules, ~{} KiB",
        detector.rule_count(),
        detector.rules_memory_bytes() / 1024
    );
    let mut group = c.benchmark_group("crisis_assess");
    for chars in [50usize, 200, 2000] {
        let text = text_of(chars);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(chars), &text, |b, t| {
            b.iter(|| detector.assess(black_box(t)));
        });
    }
    group.finish();

    let model = match RiskModel::embedded() {
        Ok(m) => m,
        Err(e) => panic!("the embedded model must load: {e}"),
    };
    let layers = Layers {
        rules: &detector,
        model: &model,
    };
    let mut group = c.benchmark_group("crisis_judge_layered_first_turn");
    for chars in [50usize, 200, 2000] {
        let text = text_of(chars);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(chars), &text, |b, t| {
            b.iter(|| layers.judge(black_box(t), &[], RiskLevel::None));
        });
    }
    group.finish();

    let earlier = vec![text_of(120), text_of(80)];
    let mut group = c.benchmark_group("crisis_judge_layered");
    for chars in [50usize, 200, 2000] {
        let text = text_of(chars);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(chars), &text, |b, t| {
            b.iter(|| layers.judge(black_box(t), black_box(&earlier), RiskLevel::Elevated));
        });
    }
    group.finish();

    // The turn the step head exists for: a conversation in crisis, a message in a step's words
    // (the gate opens, the head scores it, the message is read once more on its own).
    let crisis_turns = vec![
        "mình gom đủ thuốc ngủ rồi, tối nay mình sẽ uống hết".to_string(),
        "không ai hiểu mình cả".to_string(),
    ];
    let step = "chị mình vừa tới rồi, chị đang ngồi ôm mình, nói tối nay không đi đâu hết, mình đỡ \
                sợ hơn một chút, chị bảo sẽ ở đây với mình tới sáng";
    c.bench_function("crisis_judge_layered_step_turn", |b| {
        b.iter(|| layers.judge(black_box(step), black_box(&crisis_turns), RiskLevel::Crisis))
    });

    let text = text_of(200);
    c.bench_function("normalize_views/200", |b| {
        b.iter(|| normalize_views(black_box(&text)))
    });
    c.bench_function("compile_default_rules", |b| {
        b.iter(|| CrisisDetector::compile(black_box(&default_rules())).map(|d| d.rule_count()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
