//! The layered detector (rules + learned model + conversation state) on the training corpus and on
//! the blind evaluation sets, with floors a little under the figures measured when the model was
//! trained (BENCHMARKS.md). The blind sets were written by helpers who saw only
//! docs/crisis/taxonomy.md and were frozen before they were evaluated; nothing here tunes on them.
//! Spent blind sets 1-13 live in the training corpus as `w8-spent-blind-*` (set 13 was spent in
//! round 12: its misses were read to choose what to change, then it joined the corpus). Set 14 was
//! evaluated once (see its test), never tuned on; the next round needs a fresh blind-15.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use cbln_actors::crisis::corpus::Corpus;
use cbln_actors::crisis::evaluation::{MessageReport, Tally, TurnReport};
use cbln_actors::crisis::model::training::fingerprint;
use cbln_actors::crisis::{CrisisDetector, Layers, RiskModel, default_rules};

fn corpus(relative: &str) -> Corpus {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/crisis")
        .join(relative);
    match Corpus::load(&path) {
        Ok(c) => c,
        Err(e) => panic!("{relative}: {e}"),
    }
}

fn with_layers<T>(f: impl FnOnce(Layers<'_>) -> T) -> T {
    let rules = CrisisDetector::compile(&default_rules()).expect("default rules compile");
    let model = RiskModel::embedded().expect("embedded model loads");
    f(Layers {
        rules: &rules,
        model: &model,
    })
}

fn assert_at_least(name: &str, tally: &Tally, recall_floor: f64, fpr_ceiling: f64, table: &str) {
    assert!(
        tally.recall() >= recall_floor,
        "{name}: recall {:.3} under {recall_floor}\n{table}",
        tally.recall()
    );
    if tally.negatives > 0 {
        assert!(
            tally.fpr() <= fpr_ceiling,
            "{name}: false-positive rate {:.3} over {fpr_ceiling}\n{table}",
            tally.fpr()
        );
    }
}

#[test]
fn the_embedded_model_was_trained_on_the_current_corpus() {
    let model = RiskModel::embedded().expect("embedded model loads");
    assert_eq!(
        model.meta().corpus_fingerprint,
        fingerprint(&corpus("train")),
        "the corpus changed since models/crisis-risk.bin was trained: run `cbln crisis train`"
    );
    assert!(model.meta().examples > 7_000, "{:?}", model.meta());
    // The learned step head ships switched on behind its gate (BENCHMARKS.md, round 7).
    assert!(
        (0.3..=1.0).contains(&model.step_threshold()),
        "{}",
        model.step_threshold()
    );
}

#[test]
fn the_corpus_is_as_large_and_varied_as_promised() {
    let train = corpus("train");
    let crisis = train
        .messages
        .iter()
        .filter(|m| m.category.is_some())
        .count();
    assert!(train.messages.len() >= 6_000, "{}", train.messages.len());
    assert!(crisis >= 2_500, "{crisis}");
    assert!(train.conversations.len() >= 150);
    let writers: std::collections::BTreeSet<&str> =
        train.messages.iter().map(|m| m.source.as_str()).collect();
    assert!(writers.len() >= 6, "{writers:?}");
    let blind = corpus("eval/blind-16");
    assert!(blind.messages.len() >= 600, "{}", blind.messages.len());
    assert!(
        blind.conversations.len() >= 40,
        "{}",
        blind.conversations.len()
    );
}

/// Floors a little under the figures the shipped model measured on one blind set.
struct Floors {
    messages: (f64, f64),
    categories: [(&'static str, f64); 5],
    style_recall: f64,
    style_fpr: f64,
    turns: (f64, f64),
    patterns: [(&'static str, f64); 2],
}

fn assert_blind_set(relative: &str, floors: &Floors) {
    let set = corpus(relative);
    with_layers(|layers| {
        let messages = MessageReport::judge(&set.messages, layers);
        let table = messages.render();
        let (recall, fpr) = floors.messages;
        assert_at_least("messages", &messages.overall, recall, fpr, &table);
        for (category, floor) in floors.categories {
            let tally = messages.by_kind.get(category).copied().unwrap_or_default();
            assert_at_least(category, &tally, floor, 1.0, &table);
        }
        for (style, tally) in &messages.by_style {
            assert_at_least(style, tally, floors.style_recall, floors.style_fpr, &table);
        }
        let turns = TurnReport::judge(&set.conversations, layers);
        let table = turns.render();
        let (recall, fpr) = floors.turns;
        assert_at_least("turns", &turns.overall, recall, fpr, &table);
        for (pattern, floor) in floors.patterns {
            let tally = turns.by_pattern.get(pattern).copied().unwrap_or_default();
            assert_at_least(pattern, &tally, floor, 1.0, &table);
        }
    });
}

/// Blind set 16: written blind (the writer, voicing city teens in international and specialised
/// schools, vocational students in Đà Nẵng and Nha Trang, village youth in Thanh Hóa, Nghệ An and
/// Bình Định, Khmer-Vietnamese youth in Sóc Trăng and Trà Vinh, delivery riders and baristas,
/// LGBTQ+ teens, teens with chronic illness, young athletes, K-pop and anime fans and students in
/// rented rooms, saw only docs/crisis/taxonomy.md) and committed before round 13 was committed or
/// evaluated on it. Evaluated three times — round 13's first cut, the round after a second
/// reader's safety fixes, and the shipped model with one more step doubt (the same figures) — and
/// with round 12's model and rules for comparison; nobody has read
/// its misses (shipped: messages 0.946 at 0.028, suicide 0.839, turns 0.900 at 0.221).
#[test]
fn blind_set_16_single_messages_and_turns() {
    assert_blind_set(
        "eval/blind-16",
        &Floors {
            messages: (0.92, 0.04),
            categories: [
                ("suicide", 0.82),
                ("self_harm", 0.97),
                ("abuse", 0.95),
                ("violence", 0.96),
                ("third_party", 0.91),
            ],
            style_recall: 0.85,
            style_fpr: 0.07,
            turns: (0.88, 0.24),
            patterns: [("joke_retraction", 0.97), ("direct_crisis", 0.90)],
        },
    );
}

/// The training corpus itself (in-sample, so near perfect): a guard that the embedded model is the
/// one trained on it and that the decision rule reads it as trained.
#[test]
fn the_training_corpus_in_sample() {
    let set = corpus("train");
    with_layers(|layers| {
        let messages = MessageReport::judge(&set.messages, layers);
        assert_at_least(
            "messages",
            &messages.overall,
            0.99,
            0.01,
            &messages.render(),
        );
        let turns = TurnReport::judge(&set.conversations, layers);
        // In-sample turn false positives are mostly safety steps neither the rule phrases nor the
        // cautious step head take (most of them in the step-rich conversations): crises that stay
        // open.
        assert_at_least("turns", &turns.overall, 0.99, 0.12, &turns.render());
    });
}

/// What only sounds like a safety step never ends a crisis: nobody is there, the means are at
/// hand, the abuser is back, the call went unanswered, a joke, a promise for later. A real step
/// in the rule phrases' words does end it, and so does one only the step head reads, told in the
/// words of a step (a friend taken to hospital: "xe cấp cứu đưa nó vào bệnh viện huyện").
#[test]
fn only_a_real_safety_step_ends_a_crisis() {
    use cbln_actors::crisis::{ConversationRisk, RiskLevel};
    with_layers(|layers| {
        let run = |opening: &str, next: &str| {
            let first = layers.judge(opening, &[], RiskLevel::None);
            let (risk, _) = ConversationRisk::default().advance(&first, false);
            assert!(risk.shows_crisis_support(), "{opening:?} opens a crisis");
            let second = layers.judge(next, &[opening.to_owned()], risk.level);
            risk.advance(&second, false).0
        };
        let pills = "mình gom đủ thuốc ngủ rồi, tối nay mình sẽ uống hết";
        let beaten = "bố say rượu về lại đánh mình chảy máu";
        for (opening, next) in [
            (pills, "không có ai ngồi cạnh mình cả"),
            (pills, "nobody is with me, i'm alone"),
            (pills, "the pills are right here with me now"),
            (pills, "mình đã gọi 2 lần cho mẹ mà không ai nghe máy"),
            (pills, "chưa ai gọi cấp cứu rồi đâu"),
            (beaten, "bố về rồi, mình sợ lắm"),
            (pills, "đùa thôi 😂 ngủ đây"),
            (pills, "mai em sẽ gọi cho mẹ, giờ thì chưa"),
            (pills, "ok i'll call the hotline tomorrow"),
            (beaten, "mẹ 11h mới về"),
            (beaten, "mẹ sắp về nhà rồi"),
            (pills, "mình không đi bệnh viện đâu"),
            (pills, "không dám gọi cho mẹ"),
            (pills, "mẹ không ở bên cạnh mình"),
            (pills, "I didn't call the hotline"),
            (pills, "I couldn't reach the hotline"),
            (pills, "đùa thôi, mình đang ngồi xem phim"),
            (pills, "jk lol I'm safe now"),
            (pills, "I took the pills"),
            (pills, "chủ nhật cả nhà đi lễ, em ở nhà một mình"),
            (pills, "mẹ ở nhà nhưng mẹ đang ngủ rồi"),
            (pills, "my roommate is home but asleep"),
            (pills, "Em đang ngồi ngoài ban công tầng 11."),
            // A second reader's probes of round 7's first gate: contact without help, farewells,
            // crying alone, a diagnosis, a hug of a pillow, a deception.
            (pills, "I told my mom I love her"),
            (pills, "I texted my sister goodbye"),
            (pills, "I called my grandma, just wanted to hear her voice"),
            (pills, "em vừa gọi điện cho mẹ, nói con thương mẹ"),
            (pills, "em gọi cho bà nội rồi, nghe giọng bà lần nữa"),
            (pills, "t ngồi khóc trong nhà tắm"),
            (pills, "em nằm ôm chặt cái gối"),
            (pills, "em gọi điện cho mẹ, mẹ bận"),
            (pills, "I called my dad, he hung up"),
            (pills, "bác sĩ nói em bị trầm cảm"),
            (pills, "my parents think I'm with them at church"),
            (pills, "em khóa cửa ở trong với lọ thuốc"),
            (beaten, "mẹ gọi cho bố rồi"),
            // A second reader's probes of round 8's first step phrases: a number that is not a
            // line (digits are one shape to the matcher), a call not made or not answered, a
            // step tomorrow or years ago, stepping back from friends.
            (pills, "i called 2 friends already"),
            (pills, "i called 911 lol"),
            (pills, "đã gọi 3 cuộc rồi mà mẹ không nghe"),
            (pills, "đã gọi 115 đâu"),
            (pills, "mẹ bảo mai mới chở mình vào viện khâu"),
            (pills, "hồi trước ba từng chở tui vào viện rồi bỏ tui ở đó"),
            (pills, "i stepped back from all my friends months ago"),
            (pills, "i wish someone was here with me"),
            (pills, "nobody is here with me"),
            // A second reader's probes of round 9's first step phrases: the abuser or the means
            // "here with me", pills handed to the writer, a wish, the means hidden, still
            // bleeding.
            (beaten, "ổng đang ở đây với em, vẫn đang chửi"),
            (beaten, "he's here with me and he's drunk"),
            (pills, "my cat is here with me"),
            (pills, "thằng bạn đưa chai thuốc cho em, bảo uống đi"),
            (pills, "mẹ bảo đem đổ đi nhưng em giấu rồi"),
            (
                pills,
                "mom is here with me, but i still have the rest of the pills hidden",
            ),
            (pills, "nếu chị đang ở đây với em thì tốt biết mấy"),
            (pills, "i hope someone is here with me soon"),
            (pills, "em đang dán băng cho vết cắt mà máu vẫn chảy"),
            // Round 11's step phrases, said of help that has not come, and a second reader's
            // probes of its first step phrases: the abuser's room, an unanswered call, sarcasm,
            // the means still at hand, the police as a threat.
            (pills, "em gọi 113 rồi mà họ chưa tới"),
            (beaten, "công an nói đang tới mà chưa thấy ai"),
            (pills, "mình gọi 113 rồi mà không ai nghe"),
            (beaten, "mình sang phòng bố mẹ rồi"),
            (beaten, "mình chạy qua phòng mẹ rồi nhưng dượng ở trong đó"),
            (pills, "em gọi 113 rồi, máy báo thuê bao"),
            (pills, "gọi 113 rồi haha ai tin"),
            (pills, "bồn cầu xả rồi, nhưng mình còn cả vỉ thuốc"),
            (beaten, "bố dọa công an đang đến bắt mình vì tội hỗn"),
            (
                beaten,
                "công an nói đang tới nhưng 1 tiếng rồi vẫn chả thấy ai",
            ),
            // A second reader's probes of round 13's first step phrases: the edge to jump from,
            // the abuser fetching the child, an ambulance too late, an idiom.
            (pills, "mình đang đứng cạnh lan can tầng 12"),
            ("ba em say rượu đánh em chảy máu đầu", "ba đón em về rồi"),
            (
                "bạn em uống cả lọ thuốc ngủ rồi",
                "xe cấp cứu chở nó đi rồi, nhưng nó mất rồi",
            ),
            (pills, "đời mình xuống cống rồi"),
            (pills, "mẹ hong có qua đón em"),
        ] {
            let after = run(opening, next);
            assert!(after.shows_crisis_support(), "{next:?} ended the crisis");
        }
        for (opening, step) in [
            (
                pills,
                "mình đưa hết thuốc cho mẹ rồi, mẹ đang ngồi cạnh mình",
            ),
            (
                beaten,
                "mình chạy sang nhà hàng xóm rồi, cô đã gọi công an rồi",
            ),
            (
                pills,
                "my roommate just got home, she is sitting with me now",
            ),
            // Round 8: a step back from the railing; being driven to the clinic right now.
            (
                "I'm on the bridge railing, i want to jump",
                "ok i called 115, someone is coming. i stepped back from the railing",
            ),
            (pills, "Ba đang chở em lên trạm y tế xã, em ngồi sau xe."),
            // Round 11: help called and on its way, a neighbour's house.
            (
                beaten,
                "e đang ở nhà bác hàng xóm, bác khóa cửa r, bác gọi 113 r",
            ),
            (
                "có thằng đi theo t từ bến xe buýt, t đi nhanh nó cũng đi nhanh",
                "Mình vào trong cửa hàng rồi, anh nhân viên gọi giúp, công an nói đang tới.",
            ),
            (
                "BỐ ĐANG ĐẬP CỬA PHÒNG EM, SAY RỒI",
                "Em sang nhà bác Tư rồi, bác cho em ở lại",
            ),
            // Round 13: the step head may read a friend taken to hospital now that "nó" is not
            // the English "no".
            (
                "Bạn em nhắn tin tạm biệt, nói đã uống thuốc.",
                "Em với mẹ em chạy qua rồi, xe cấp cứu đưa nó vào bệnh viện huyện.",
            ),
        ] {
            let after = run(opening, step);
            assert!(
                !after.shows_crisis_support(),
                "{step:?} did not end the crisis"
            );
        }
    });
}

/// The words a person opens a support chat with are never a crisis on their own: the first
/// round-8 model read "mình muốn nói chuyện với ai đó" as violence ("ai đó", someone, as in
/// "someone is following me").
#[test]
fn the_words_that_open_a_chat_are_not_a_crisis() {
    use cbln_actors::crisis::RiskLevel;
    with_layers(|layers| {
        for opener in [
            "mình muốn nói chuyện với ai đó",
            "có ai ở đây không",
            "em cần người nghe em nói",
            "I need someone to talk to",
            "is anyone there?",
            "chào bạn, mình muốn tâm sự chút",
        ] {
            let judgement = layers.judge(opener, &[], RiskLevel::None);
            assert!(!judgement.assessment.is_crisis, "{opener:?}: {judgement:?}");
        }
        let followed = layers.judge(
            "có ai đó đang theo dõi em về nhà, em sợ lắm",
            &[],
            RiskLevel::None,
        );
        assert!(followed.assessment.is_crisis, "{followed:?}");
    });
}

/// A crisis phrase about someone else is the rules' finding of a third-party crisis (a second
/// reader found "bạn mình định tự tử, mình phải làm sao" only elevated under round 8's
/// combination); a film and a general question are not, however much the model reads a friend
/// into them.
#[test]
fn a_friend_in_danger_in_the_rules_words_is_a_third_party_crisis() {
    use cbln_actors::crisis::{Category, RiskLevel};
    with_layers(|layers| {
        for text in [
            "bạn mình định tự tử, mình phải làm sao",
            "ban minh dinh tu tu, minh phai lam sao",
            // A friend's "can't get through it" is no resolved past.
            "bạn mình nói nó không vượt qua được nữa, nó muốn tự tử",
        ] {
            let judgement = layers.judge(text, &[], RiskLevel::None);
            assert!(
                judgement.assessment.is_crisis
                    && judgement
                        .assessment
                        .categories
                        .contains(&Category::ThirdParty),
                "{text:?}: {judgement:?}"
            );
        }
        for text in [
            "bạn thân mình bảo cảnh nhân vật tự tử trong phim làm nó khóc cả đêm",
            "phim này nhân vật chính định tự tử ở cuối",
            "làm sao để nhận ra một người có ý định tự tử?",
        ] {
            let judgement = layers.judge(text, &[], RiskLevel::None);
            assert!(!judgement.assessment.is_crisis, "{text:?}: {judgement:?}");
        }
    });
}
