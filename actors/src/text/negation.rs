//! Words that negate what follows them ("không muốn", "don't want").
//!
//! Written in the toned spelling; accent-free and teen-code forms (`ko`, `khong`) reach the same
//! token through the normaliser, and the folded view turns `chẳng` into `chang`.

use super::{Views, WordSet, looks_english};

/// Negators, Vietnamese (with the Southern "hông / hong / hổng") and English. `hết` ("no longer")
/// is deliberately absent: "hết muốn sống" is a crisis statement, not a negated one.
pub const NEGATORS: &[&str] = &[
    "không", "chẳng", "chả", "chưa", "đừng", "hông", "hong", "hổng", "not", "no", "never", "dont",
    "didnt", "isnt", "arent", "wasnt", "werent", "aint",
];

/// True when a token of the folded view (`khong`, `chang`, `dont`) is one of [`NEGATORS`].
/// Blind to accents: "nó" folds to the English "no". Where the views are at hand,
/// [`is_negator_at`] reads the accents too.
pub fn is_folded_negator(token: &str) -> bool {
    static FOLDED: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| super::fold_words(NEGATORS));
    FOLDED.iter().any(|w| w == token)
}

/// True when token `i` of `views` is one of [`NEGATORS`]: spelled with the negator's own accents,
/// or typed without any and folding to one: "nó" (it, him) is not the English "no", and nor is
/// an accent-free "no" in a message that is not English ("me don no ve nha roi").
pub fn is_negator_at(views: &Views, i: usize) -> bool {
    static SET: std::sync::LazyLock<WordSet> = std::sync::LazyLock::new(|| WordSet::new(NEGATORS));
    // Typed without accents, "no" is far more often "nó" than the English word, outside English.
    SET.contains_at(views, i) && (views.folded_token(i) != "no" || looks_english(views))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize_views;

    fn negators_in(text: &str) -> Vec<String> {
        let views = normalize_views(text);
        (0..views.len())
            .filter(|&i| is_negator_at(&views, i))
            .map(|i| views.toned_token(i).to_owned())
            .collect()
    }

    #[test]
    fn a_negator_is_read_with_its_accents() {
        assert_eq!(
            negators_in("xe cấp cứu đưa nó vào viện"),
            Vec::<String>::new()
        );
        // In a Vietnamese message an accent-free "no" is taken for "nó", even in "no worries".
        assert_eq!(negators_in("mình không sao, no worries"), vec!["không"]);
        assert_eq!(negators_in("minh khong sao").len(), 1);
        assert_eq!(negators_in("ko ai o nha").len(), 1);
        assert_eq!(negators_in("mẹ hong có qua đón em"), vec!["hong"]);
        assert_eq!(
            negators_in("me tui don no ve nha roi"),
            Vec::<String>::new()
        );
        assert_eq!(negators_in("no, i don't want help").len(), 2);
    }
}
