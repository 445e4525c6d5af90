//! The output rule for generated replies.
//!
//! A model's answer gets its own safety check, separate from the crisis check on the user's input:
//! NEDA's "Tessa" (2023) handed out dieting advice to people with eating disorders. The list is
//! small and deliberately eager: a false positive only swaps the answer for the built-in listener's,
//! while a missed one puts method or dosage details in front of a teenager.

use std::sync::LazyLock;

use super::lexicon::fold;
use crate::text::fold_words;

/// Folded phrases that never belong in a reply from this service: methods and means of self-harm,
/// medication and doses, encouragement to die, and dieting instructions.
const UNSAFE_PHRASES: &[&str] = &[
    // English.
    "lethal dose",
    "fatal dose",
    "overdose on",
    "how to overdose",
    "dose of",
    "dosage",
    "how to die",
    "way to die",
    "ways to die",
    "painless way",
    "kill yourself",
    "killing yourself",
    "take your own life",
    "hang yourself",
    "hanging yourself",
    "cut yourself",
    "cutting yourself",
    "cut deeper",
    "slit your",
    "your wrists",
    "jump off",
    "noose",
    "how many pills",
    "sleeping pills",
    "rat poison",
    "pesticide",
    "bleach",
    "paracetamol",
    "acetaminophen",
    "tylenol",
    "ibuprofen",
    "xanax",
    "antidepressant",
    "antidepressants",
    "you should die",
    "deserve to die",
    "better off dead",
    "better off without you",
    "nobody would miss you",
    "no one would miss you",
    "go through with it",
    "calorie deficit",
    "calories a day",
    "skip meals",
    "starve yourself",
    "make yourself throw up",
    // Vietnamese, folded (no diacritics).
    "lieu gay chet",
    "lieu chet",
    "lieu luong",
    "qua lieu",
    "cach tu tu",
    "cach de chet",
    "cach chet",
    "hay tu tu",
    "nen tu tu",
    "nen chet",
    "chet di",
    "di chet",
    "ket lieu",
    "ket thuc cuoc doi",
    "ket thuc cuoc song",
    "treo co",
    "nhay lau",
    "nhay cau",
    "cat tay",
    "cat co tay",
    "rach tay",
    "thuoc ngu",
    "thuoc chuot",
    "thuoc tru sau",
    "thuoc diet co",
    "thuoc an than",
    "thuoc giam dau",
    "thuoc chong tram cam",
    "bao nhieu vien",
    "khong ai can ban",
    "ban la ganh nang",
    "nhin an",
    "gay non",
    "moc hong",
];

/// Units that turn a number into a dose or a pill count ("500 mg", "20 viên").
const DOSE_UNITS: &[&str] = &[
    "mg",
    "mcg",
    "ml",
    "milligram",
    "milligrams",
    "vien",
    "pill",
    "pills",
    "tablet",
    "tablets",
];

/// The phrases as the text layer folds them, so phrase and answer are always spelled alike (the
/// normaliser also decodes Telex leftovers and cuts run-together syllables, in English too).
fn unsafe_patterns() -> &'static [String] {
    static PATTERNS: LazyLock<Vec<String>> =
        LazyLock::new(|| UNSAFE_PHRASES.iter().map(|p| fold(p)).collect());
    &PATTERNS
}

fn is_dose_unit(token: &str) -> bool {
    static UNITS: LazyLock<Vec<String>> = LazyLock::new(|| fold_words(DOSE_UNITS));
    UNITS.iter().any(|unit| unit == token)
}

fn is_dose(token: &str, next: Option<&str>) -> bool {
    let Some(first_letter) = token.find(|c: char| !c.is_ascii_digit()) else {
        // A bare number: a dose only when a unit follows.
        return !token.is_empty() && next.is_some_and(is_dose_unit);
    };
    // "500mg": digits glued to a unit.
    first_letter > 0 && is_dose_unit(&token[first_letter..])
}

/// True when a generated answer contains method, means, medication or dosage details, or
/// encouragement of self-harm, in Vietnamese or English (with or without diacritics).
pub fn is_unsafe_answer(answer: &str) -> bool {
    let folded = fold(answer);
    if unsafe_patterns()
        .iter()
        .any(|pattern| folded.contains(pattern.as_str()))
    {
        return true;
    }
    let tokens: Vec<&str> = folded.split_whitespace().collect();
    tokens
        .iter()
        .enumerate()
        .any(|(i, token)| is_dose(token, tokens.get(i + 1).copied()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phrase_and_every_dose_unit_is_flagged() {
        for phrase in UNSAFE_PHRASES {
            assert!(is_unsafe_answer(phrase), "{phrase:?}");
        }
        for unit in DOSE_UNITS {
            assert!(is_unsafe_answer(&format!("uống 20 {unit}")), "{unit:?}");
        }
    }

    #[test]
    fn flags_methods_doses_and_encouragement() {
        for answer in [
            "Bạn có thể uống 20 viên thuốc ngủ.",
            "Liều gây chết của paracetamol là khoảng...",
            "Take 500mg and you will feel better.",
            "Take 20ml of it.",
            "Take 2 pills before bed.",
            "A lethal dose would be high.",
            "Maybe you're better off dead.",
            "Cắt tay sẽ giúp bạn bớt đau.",
            "Try a calorie deficit of 500 a day.",
            "Hay tu tu di",
            "Nhảy cầu là cách nhanh nhất.",
        ] {
            assert!(is_unsafe_answer(answer), "{answer:?}");
        }
    }

    #[test]
    fn passes_ordinary_supportive_answers() {
        for answer in [
            "Nghe như bạn đang rất mệt. Điều gì đang khiến bạn áp lực nhất?",
            "Mình hiểu, thi cử làm bạn lo lắng lắm. Bạn đã ôn được bao nhiêu bài rồi?",
            "It sounds like exams are a lot right now. What worries you most?",
            "Lớp 10 có nhiều thay đổi, bạn thấy thế nào?",
            "If you ever feel in danger, please call 115 or talk to a trusted adult.",
            "Bạn có thể gọi 111 bất cứ lúc nào.",
        ] {
            assert!(!is_unsafe_answer(answer), "{answer:?}");
        }
    }
}
