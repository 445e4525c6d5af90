//! Words that negate what follows them ("không muốn", "don't want").
//!
//! Written in the toned spelling; accent-free and teen-code forms (`ko`, `khong`) reach the same
//! token through the normaliser, and the folded view turns `chẳng` into `chang`.

/// Negators, Vietnamese and English. `hết` ("no longer") is deliberately absent: "hết muốn sống" is
/// a crisis statement, not a negated one.
pub const NEGATORS: &[&str] = &[
    "không", "chẳng", "chả", "chưa", "đừng", "not", "no", "never", "dont", "didnt", "isnt",
    "arent", "wasnt", "werent", "aint",
];

/// True when a token of the folded view (`khong`, `chang`, `dont`) is one of [`NEGATORS`].
pub fn is_folded_negator(token: &str) -> bool {
    static FOLDED: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| super::fold_words(NEGATORS));
    FOLDED.iter().any(|w| w == token)
}
