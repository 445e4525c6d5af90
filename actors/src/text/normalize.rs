//! Turns a message, as a phone keyboard really sends it, into two views of space-separated
//! syllables that phrase rules can match at syllable boundaries.
//!
//! * `toned`: lowercase, with vowel qualities (`ơ`, `â`, `đ`, ...) and the tone written as one
//!   combining mark after the syllable. Putting the tone at the end is what folds tone-mark
//!   placement (`hòa`/`hoà`, `thủy`/`thuỷ`) and the Windows-keyboard form into one spelling.
//! * `folded`: the same syllables without any diacritics (`đ`→`d`).
//!
//! Both views are produced from one token list, so token `i` of one is token `i` of the other.
//! Along the way: NFD then marks re-attached (so NFC, NFD and the Windows form agree); runs of three
//! or more equal letters collapsed (`chếttt`); letters split by spaces, dots or dashes joined and
//! cut back into syllables (`c.h.ế.t`, `t u t u`, `muonchet`); Telex and VNI leftovers decoded
//! (`buoonf`, `kho63`); digits folded to `0` so "800mg" and "20 viên" match one rule; teen code
//! expanded (`ko`→không, `mk`→mình). Emoji become one-character tokens.
//!
//! The same function normalises rule patterns, so rules and messages always agree.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

use super::syllable::{
    Letter, TONE_MARKS, apply_quality, decode_telex, decode_vni, fold_char, has_marks,
    is_valid_syllable, letter_is_vowel, segment, tone_of_mark,
};
use super::teen_code::TEEN;

/// The normalised views of one text: `toned` and `folded`, token for token.
///
/// Each view is `" tok tok tok "` (a space before and after every token) so a pattern written
/// the same way only matches whole syllables.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Views {
    toned: String,
    folded: String,
    toned_starts: Vec<u32>,
    folded_starts: Vec<u32>,
    /// Whether each token follows sentence or clause punctuation (`, . ! ? ; :` or a new line).
    clause_starts: Vec<bool>,
}

impl Views {
    /// The view that keeps vowel qualities and tones (tone as a trailing combining mark).
    pub fn toned(&self) -> &str {
        &self.toned
    }

    /// The view without any diacritics.
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// Number of tokens (syllables, words, emoji).
    pub fn len(&self) -> usize {
        self.toned_starts.len()
    }

    /// True when nothing matchable was left.
    pub fn is_empty(&self) -> bool {
        self.toned_starts.is_empty()
    }

    /// The tokens of the toned view.
    pub fn toned_tokens(&self) -> impl Iterator<Item = &str> {
        self.toned.split(' ').filter(|t| !t.is_empty())
    }

    /// The tokens of the folded view.
    pub fn folded_tokens(&self) -> impl Iterator<Item = &str> {
        self.folded.split(' ').filter(|t| !t.is_empty())
    }

    /// True when token `i` starts a clause (the first token, or one after `, . ! ? ; :`).
    pub fn clause_start(&self, i: usize) -> bool {
        self.clause_starts.get(i).copied().unwrap_or(true)
    }

    /// True when no clause boundary lies between tokens `from` and `to` (exclusive of `from`).
    pub fn same_clause(&self, from: usize, to: usize) -> bool {
        !(from + 1..=to).any(|i| self.clause_start(i))
    }

    pub fn toned_token(&self, i: usize) -> &str {
        token_at(&self.toned, &self.toned_starts, i)
    }

    pub fn folded_token(&self, i: usize) -> &str {
        token_at(&self.folded, &self.folded_starts, i)
    }

    /// The index of the token that starts right after the space at `space_offset`.
    pub(crate) fn token_index(&self, folded: bool, space_offset: usize) -> Option<usize> {
        let starts = if folded {
            &self.folded_starts
        } else {
            &self.toned_starts
        };
        let target = u32::try_from(space_offset + 1).ok()?;
        starts.binary_search(&target).ok()
    }
}

fn token_at<'a>(view: &'a str, starts: &[u32], i: usize) -> &'a str {
    let Some(&start) = starts.get(i) else {
        return "";
    };
    let start = start as usize;
    let rest = view.get(start..).unwrap_or("");
    rest.split(' ').next().unwrap_or("")
}

/// FNV-1a: the keys here are a few bytes long and not attacker-chosen in a way that matters (the
/// tables are fixed), so SipHash's cost buys nothing.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A hasher builder for the fixed word tables.
pub(crate) type FastHash = BuildHasherDefault<Fnv>;

type TeenTable = HashMap<String, Vec<Vec<Letter>>, FastHash>;

/// Whether a character is treated as an emoji token.
pub fn is_emoji(c: char) -> bool {
    let u = c as u32;
    let in_blocks = matches!(u,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0x2300..=0x23FF | 0x2190..=0x21FF);
    in_blocks && !matches!(u, 0x1F3FB..=0x1F3FF)
}

/// Characters that carry nothing: variation selectors, joiners, zero-width spaces, skin tones.
fn is_invisible(c: char) -> bool {
    matches!(c as u32, 0xFE00..=0xFE0F | 0x200B..=0x200D | 0x2060 | 0xFEFF | 0x1F3FB..=0x1F3FF | 0xAD)
}

#[derive(Debug, Clone, Default)]
struct Tok {
    letters: Vec<Letter>,
    space_before: bool,
    clause_start: bool,
    emoji: bool,
    joined: bool,
}

impl Tok {
    fn alphabetic(&self) -> bool {
        !self.emoji && self.letters.iter().all(|l| l.ch.is_alphabetic())
    }
}

/// Normalises `text` into its views. Never panics; the result is a fixed point
/// (`normalize_views(views.toned())` gives the same views).
pub fn normalize_views(text: &str) -> Views {
    let raw = tokenize(text);
    let stage_a: Vec<Tok> = raw.into_iter().map(simple_transform_tok).collect();
    let joined = join_split_letters(stage_a);
    let mut out = Views::default();
    out.toned.reserve(text.len() + 8);
    out.folded.reserve(text.len() + 8);
    let teen = teen_table();
    let mut scratch = String::new();
    for tok in joined {
        if tok.emoji {
            push_token(&mut out, &tok.letters, tok.clause_start, &mut scratch, teen);
            continue;
        }
        let needs_cut = tok.joined
            || (tok.letters.len() >= 5 && tok.alphabetic() && !is_valid_syllable(&tok.letters));
        if needs_cut
            && !is_valid_syllable(&tok.letters)
            && let Some(ends) = segment(&tok.letters)
        {
            let mut start = 0;
            for end in ends {
                let piece = simple_transform(tok.letters[start..end].to_vec());
                push_token(
                    &mut out,
                    &piece,
                    tok.clause_start && start == 0,
                    &mut scratch,
                    teen,
                );
                start = end;
            }
            continue;
        }
        push_token(&mut out, &tok.letters, tok.clause_start, &mut scratch, teen);
    }
    if !out.toned.is_empty() {
        out.toned.push(' ');
        out.folded.push(' ');
    }
    out
}

/// Lowercase canonical decompositions of the Latin letters Vietnamese uses, computed once:
/// the general NFD iterator costs more than everything else in normalisation together.
struct FastDecomp {
    latin: Vec<[char; 4]>,
    extended: Vec<[char; 4]>,
}

const LATIN_START: u32 = 0xC0;
const LATIN_END: u32 = 0x24F;
const EXTENDED_START: u32 = 0x1E00;
const EXTENDED_END: u32 = 0x1EFF;

fn fast_decomp() -> &'static FastDecomp {
    static TABLE: OnceLock<FastDecomp> = OnceLock::new();
    TABLE.get_or_init(|| {
        let build = |from: u32, to: u32| -> Vec<[char; 4]> {
            (from..=to)
                .map(|u| {
                    let mut out = ['\0'; 4];
                    let Some(c) = char::from_u32(u) else {
                        return out;
                    };
                    let decomposed: Vec<char> = c
                        .to_lowercase()
                        .flat_map(|l| std::iter::once(l).nfd())
                        .flat_map(char::to_lowercase)
                        .collect();
                    if decomposed.len() <= out.len() {
                        out[..decomposed.len()].copy_from_slice(&decomposed);
                    }
                    out
                })
                .collect()
        };
        FastDecomp {
            latin: build(LATIN_START, LATIN_END),
            extended: build(EXTENDED_START, EXTENDED_END),
        }
    })
}

/// Calls `f` with the lowercase canonical decomposition of `c`.
fn for_each_decomposed(c: char, table: &FastDecomp, mut f: impl FnMut(char)) {
    if c.is_ascii() {
        f(c.to_ascii_lowercase());
        return;
    }
    let u = c as u32;
    let entry = match u {
        LATIN_START..=LATIN_END => table.latin.get((u - LATIN_START) as usize),
        EXTENDED_START..=EXTENDED_END => table.extended.get((u - EXTENDED_START) as usize),
        _ => None,
    };
    if let Some(entry) = entry.filter(|e| e[0] != '\0') {
        entry.iter().take_while(|&&x| x != '\0').for_each(|&x| f(x));
        return;
    }
    for l in c.to_lowercase() {
        for d in std::iter::once(l).nfd() {
            d.to_lowercase().for_each(&mut f);
        }
    }
}

fn tokenize(text: &str) -> Vec<Tok> {
    let mut state = Tokenizer {
        toks: Vec::with_capacity(text.len() / 4 + 1),
        current: None,
        space_pending: true,
        clause_pending: true,
    };
    let table = fast_decomp();
    for c in text.chars() {
        for_each_decomposed(c, table, |d| state.push(d));
    }
    if let Some(tok) = state.current.take() {
        state.toks.push(tok);
    }
    state.toks
}

struct Tokenizer {
    toks: Vec<Tok>,
    current: Option<Tok>,
    space_pending: bool,
    clause_pending: bool,
}

impl Tokenizer {
    fn push(&mut self, c: char) {
        let Tokenizer {
            toks,
            current,
            space_pending,
            clause_pending,
        } = self;
        if is_invisible(c) {
            return;
        }
        if ('\u{300}'..='\u{36f}').contains(&c) {
            if let Some(tok) = current.as_mut()
                && let Some(last) = tok.letters.last_mut()
            {
                // Two tone marks on one letter: keep the larger, so the order the marks came in
                // (NFC and NFD order them differently) does not matter.
                if let Some(tone) = tone_of_mark(c) {
                    last.tone = last.tone.max(tone);
                } else if let Some(q) = apply_quality(last.ch, c) {
                    last.ch = q;
                }
            }
            return;
        }
        if c.is_alphanumeric() {
            let tok = current.get_or_insert_with(|| Tok {
                letters: Vec::with_capacity(8),
                space_before: *space_pending,
                clause_start: *clause_pending,
                emoji: false,
                joined: false,
            });
            tok.letters.push(Letter::new(c));
            *space_pending = false;
            *clause_pending = false;
            return;
        }
        if matches!(c, '\'' | '’' | 'ʼ') && current.is_some() {
            return;
        }
        if let Some(tok) = current.take() {
            toks.push(tok);
        }
        if is_emoji(c) {
            toks.push(Tok {
                letters: vec![Letter::new(c)],
                space_before: true,
                clause_start: *clause_pending,
                emoji: true,
                joined: false,
            });
            *space_pending = true;
            *clause_pending = false;
        } else if c.is_whitespace() {
            *space_pending = true;
            if c == '\n' {
                *clause_pending = true;
            }
        } else if matches!(c, ',' | '.' | '!' | '?' | ';' | ':' | '…') {
            *space_pending = *space_pending || c != '.';
            *clause_pending = true;
        }
    }
}

fn simple_transform_tok(mut tok: Tok) -> Tok {
    if !tok.emoji {
        tok.letters = simple_transform(std::mem::take(&mut tok.letters));
    }
    tok
}

/// Per-token clean-up that does not depend on neighbours, repeated until it changes nothing:
/// decoding can expose a new doubled letter or Telex form ("wuw" → "ưư" → "ư"), and the views
/// must be idempotent. Tokens are short and almost always settle after one pass.
fn simple_transform(letters: Vec<Letter>) -> Vec<Letter> {
    let mut current = letters;
    for _ in 0..4 {
        let next = simple_transform_once(current.clone());
        if next == current {
            break;
        }
        current = next;
    }
    current
}

fn simple_transform_once(letters: Vec<Letter>) -> Vec<Letter> {
    let mut letters = collapse_runs(letters, 3);
    if letters.first().is_some_and(|l| l.ch.is_ascii_digit()) {
        let digits = letters.iter().take_while(|l| l.ch.is_ascii_digit()).count();
        let mut out = Vec::with_capacity(letters.len() - digits + 1);
        out.push(Letter::new('0'));
        out.extend_from_slice(&letters[digits..]);
        return out;
    }
    if letters.iter().any(|l| l.ch.is_ascii_digit()) {
        return decode_vni(&letters).unwrap_or(letters);
    }
    if letters
        .iter()
        .all(|l| l.ch.is_ascii_lowercase() && l.tone == 0)
    {
        if let Some(decoded) = decode_telex(&letters) {
            return decoded;
        }
        // Collapsing can expose a Telex form ("wwa" → "wa" → "ưa"); decode it now, or a
        // second normalisation would and the views would not be idempotent.
        let collapsed = collapse_runs(letters, 2);
        return decode_telex(&collapsed).unwrap_or(collapsed);
    }
    if has_marks(&letters) {
        letters = collapse_runs(letters, 2);
    }
    letters
}

/// Collapses runs of at least `min` equal letters into one, keeping any tone found in the run.
fn collapse_runs(mut letters: Vec<Letter>, min: usize) -> Vec<Letter> {
    let has_run = letters
        .windows(2)
        .any(|w| w[0].ch == w[1].ch || (min >= 3 && fold_char(w[0].ch) == fold_char(w[1].ch)));
    if !has_run {
        return letters;
    }
    let mut out: Vec<Letter> = Vec::with_capacity(letters.len());
    let mut i = 0;
    while i < letters.len() {
        let ch = letters[i].ch;
        // Long runs compare accent-free so "tửuuuu" (ư then u...) collapses to "tử"; doubled
        // letters compare exactly so "hưu" keeps both vowels.
        let same = |l: &Letter| {
            if min >= 3 {
                fold_char(l.ch) == fold_char(ch)
            } else {
                l.ch == ch
            }
        };
        let mut run = letters[i..].iter().take_while(|l| same(l)).count();
        if min >= 3 && run < 3 {
            run = letters[i..].iter().take_while(|l| l.ch == ch).count();
        }
        if run >= min && !ch.is_ascii_digit() {
            let tone = letters[i..i + run]
                .iter()
                .rev()
                .find(|l| l.tone != 0)
                .map_or(0, |l| l.tone);
            out.push(Letter { ch, tone });
        } else {
            out.extend_from_slice(&letters[i..i + run]);
        }
        i += run;
    }
    letters.clear();
    letters.extend_from_slice(&out);
    letters
}

/// Joins `c.h.ế.t`-style chunks and runs of three or more one-letter tokens (`t u t u`).
fn join_split_letters(mut toks: Vec<Tok>) -> Vec<Tok> {
    let short = |t: &Tok| t.alphabetic() && t.letters.len() <= 2;
    let single = |t: &Tok| t.alphabetic() && t.letters.len() == 1;
    // Nothing to join in ordinary text: skip the rebuild.
    let any_chunk = toks
        .windows(2)
        .any(|w| !w[1].space_before && short(&w[0]) && short(&w[1]));
    let any_run = toks.windows(3).any(|w| w.iter().all(single));
    if !any_chunk && !any_run {
        return toks;
    }
    let mut chunked: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let mut j = i + 1;
        while j < toks.len() && !toks[j].space_before && !toks[j].emoji && !toks[i].emoji {
            j += 1;
        }
        let chunk = &mut toks[i..j];
        let joinable = chunk.len() >= 2
            && chunk
                .iter()
                .all(|t| t.alphabetic() && (1..=2).contains(&t.letters.len()));
        if joinable {
            chunked.push(merge(chunk));
        } else {
            chunked.extend(chunk.iter_mut().map(take_tok));
        }
        i = j;
    }
    let mut out: Vec<Tok> = Vec::with_capacity(chunked.len());
    let mut i = 0;
    while i < chunked.len() {
        let run = chunked[i..].iter().take_while(|t| single(t)).count();
        let has_vowel = chunked[i..i + run]
            .iter()
            .any(|t| t.letters.iter().any(|l| letter_is_vowel(l.ch)));
        if run >= 3 && has_vowel {
            out.push(merge(&chunked[i..i + run]));
            i += run;
        } else {
            let step = run.max(1);
            out.extend(chunked[i..i + step].iter_mut().map(take_tok));
            i += step;
        }
    }
    out
}

fn take_tok(t: &mut Tok) -> Tok {
    Tok {
        letters: std::mem::take(&mut t.letters),
        ..*t
    }
}

fn merge(chunk: &[Tok]) -> Tok {
    let letters: Vec<Letter> = chunk
        .iter()
        .flat_map(|t| t.letters.iter().copied())
        .collect();
    Tok {
        letters: simple_transform(letters),
        space_before: chunk.first().is_none_or(|t| t.space_before),
        clause_start: chunk.first().is_none_or(|t| t.clause_start),
        emoji: false,
        joined: true,
    }
}

fn render_toned(letters: &[Letter], out: &mut String) {
    for l in letters {
        out.push(l.ch);
    }
    if let Some(t) = letters.iter().rev().find(|l| l.tone != 0) {
        let idx = usize::from(t.tone.saturating_sub(1)).min(TONE_MARKS.len() - 1);
        out.push(TONE_MARKS[idx]);
    }
}

fn push_token(
    out: &mut Views,
    letters: &[Letter],
    clause_start: bool,
    scratch: &mut String,
    teen: &TeenTable,
) {
    if letters.is_empty() {
        return;
    }
    // Every teen-code key is short; skip the lookup for longer words.
    let expansion = if letters.len() <= 5 {
        scratch.clear();
        render_toned(letters, scratch);
        teen.get(scratch.as_str())
    } else {
        None
    };
    if let Some(expansion) = expansion {
        for (i, word) in expansion.iter().enumerate() {
            push_plain(out, word, clause_start && i == 0);
        }
        return;
    }
    push_plain(out, letters, clause_start);
}

fn push_plain(out: &mut Views, letters: &[Letter], clause_start: bool) {
    out.clause_starts.push(clause_start);
    out.toned.push(' ');
    out.folded.push(' ');
    out.toned_starts
        .push(u32::try_from(out.toned.len()).unwrap_or(u32::MAX));
    out.folded_starts
        .push(u32::try_from(out.folded.len()).unwrap_or(u32::MAX));
    render_toned(letters, &mut out.toned);
    for l in letters {
        out.folded.push(fold_char(l.ch));
    }
}

/// Parses one word written normally (any Unicode form) into letters.
fn parse_word(word: &str) -> Vec<Letter> {
    tokenize(word).into_iter().flat_map(|t| t.letters).collect()
}

fn teen_table() -> &'static TeenTable {
    static TABLE: OnceLock<TeenTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = TeenTable::with_capacity_and_hasher(TEEN.len(), FastHash::default());
        for (key, value) in TEEN {
            let key_letters = parse_word(key);
            if tokenize(key).len() != 1 {
                continue;
            }
            let mut rendered = String::new();
            render_toned(&key_letters, &mut rendered);
            let words: Vec<Vec<Letter>> = tokenize(value).into_iter().map(|t| t.letters).collect();
            map.insert(rendered, words);
        }
        map
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toned(s: &str) -> String {
        normalize_views(s).toned().trim().to_owned()
    }

    fn folded(s: &str) -> String {
        normalize_views(s).folded().trim().to_owned()
    }

    #[test]
    fn nfc_nfd_and_windows_form_agree() {
        let nfc = "muốn chết";
        let nfd: String = nfc.nfd().collect();
        // Windows Vietnamese keyboard: precomposed base letter plus a combining tone mark.
        let windows = "muô\u{301}n chê\u{301}t";
        assert_eq!(toned(nfc), toned(&nfd));
        assert_eq!(toned(nfc), toned(windows));
    }

    #[test]
    fn tone_placement_is_folded() {
        assert_eq!(toned("hòa"), toned("hoà"));
        assert_eq!(toned("thủy"), toned("thuỷ"));
        assert_eq!(toned("khóa"), toned("khoá"));
        assert_ne!(toned("từ từ"), toned("tự tử"));
    }

    #[test]
    fn caps_and_accent_free() {
        assert_eq!(toned("MUỐN CHẾT"), toned("muốn chết"));
        assert_eq!(folded("Đau Đớn"), "dau don");
    }

    #[test]
    fn split_and_repeated_letters_are_joined() {
        assert_eq!(toned("c.h.ế.t"), toned("chết"));
        assert_eq!(folded("t u t u"), "tu tu");
        assert_eq!(toned("muốnnnn chếttt"), toned("muốn chết"));
        assert_eq!(folded("m u o n c h e t"), "muon chet");
        assert_eq!(toned("t-ự t-ử"), toned("tự tử"));
        assert_eq!(folded("muonchet"), "muon chet");
    }

    #[test]
    fn telex_and_vni_leftovers_are_decoded() {
        assert_eq!(toned("buoonf"), toned("buồn"));
        assert_eq!(toned("kho63"), toned("khổ"));
        assert_eq!(toned("tuwj tuwr"), toned("tự tử"));
        assert_eq!(toned("tu75 tu73"), toned("tự tử"));
        assert_eq!(toned("muoonsn cheets"), toned("muoonsn chết"));
    }

    #[test]
    fn teen_code_is_expanded() {
        assert_eq!(
            toned("mk ko mún sống nữa"),
            toned("mình không muốn sống nữa")
        );
        assert_eq!(toned("k bt j"), toned("không biết gì"));
        assert_eq!(toned("chớt"), toned("chết"));
        assert_eq!(toned("cx dc r"), toned("cũng được rồi"));
    }

    #[test]
    fn digits_and_emoji() {
        assert_eq!(toned("800mg"), toned("20mg"));
        assert_eq!(toned("uống 30 viên"), "uông\u{301} 0 viên");
        let v = normalize_views("💊💊⚰️");
        assert_eq!(v.len(), 3);
        assert_eq!(v.toned().trim(), "💊 💊 ⚰");
    }

    #[test]
    fn idempotent_on_tricky_inputs() {
        for s in [
            "x aaa y",
            "a1 b c",
            "boong",
            "ab.c.d.xyz",
            "t k j",
            "MÌNH muốnnn c.h.ế.t 💊 800mg!!!",
            "kochet",
            "",
            "...",
        ] {
            let once = normalize_views(s);
            let twice = normalize_views(once.toned());
            assert_eq!(once.toned(), twice.toned(), "{s:?}");
            assert_eq!(once.folded(), twice.folded(), "{s:?}");
        }
    }

    #[test]
    fn empty_and_punctuation() {
        assert!(normalize_views("").is_empty());
        assert!(normalize_views("?!... ,,").is_empty());
        assert_eq!(normalize_views("").toned(), "");
    }
}
