//! Vietnamese syllable structure: used to decide whether a Telex/VNI decoding produced a real
//! syllable and to cut a run of joined letters ("muonchet", "t u t u") back into syllables.
//!
//! The grammar is the textbook one (onset, vowel nucleus, coda) checked on the accent-free form; it
//! rejects most English words, which is what keeps English out of the decoders.

/// One letter with its vowel-quality mark applied (`ơ`, `đ`, ...) and its tone (0 = none,
/// 1 huyền, 2 sắc, 3 hỏi, 4 ngã, 5 nặng).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Letter {
    pub(crate) ch: char,
    pub(crate) tone: u8,
}

impl Letter {
    pub(crate) fn new(ch: char) -> Self {
        Letter { ch, tone: 0 }
    }
}

/// The combining mark that spells each tone in the toned view.
pub(crate) const TONE_MARKS: [char; 5] = ['\u{300}', '\u{301}', '\u{309}', '\u{303}', '\u{323}'];

/// The tone number of a combining tone mark.
pub(crate) fn tone_of_mark(mark: char) -> Option<u8> {
    TONE_MARKS
        .iter()
        .position(|&m| m == mark)
        .and_then(|i| u8::try_from(i + 1).ok())
}

/// Applies a vowel-quality mark (circumflex, breve, horn) to a base letter.
pub(crate) fn apply_quality(base: char, mark: char) -> Option<char> {
    match (base, mark) {
        ('a', '\u{302}') => Some('â'),
        ('a', '\u{306}') => Some('ă'),
        ('e', '\u{302}') => Some('ê'),
        ('o', '\u{302}') => Some('ô'),
        ('o', '\u{31b}') => Some('ơ'),
        ('u', '\u{31b}') => Some('ư'),
        _ => None,
    }
}

/// The accent-free letter (`đ`→`d`).
pub(crate) fn fold_char(ch: char) -> char {
    match ch {
        'â' | 'ă' => 'a',
        'ê' => 'e',
        'ô' | 'ơ' => 'o',
        'ư' => 'u',
        'đ' => 'd',
        other => other,
    }
}

fn is_vowel(ch: char) -> bool {
    matches!(fold_char(ch), 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

/// True when the letter is one of `a e i o u y` in any quality.
pub(crate) fn letter_is_vowel(ch: char) -> bool {
    is_vowel(ch)
}

const ONSETS: &[&str] = &[
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "g", "h",
    "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
];

const NUCLEI: &[&str] = &[
    "a", "e", "i", "o", "u", "y", "ai", "ao", "au", "ay", "eo", "eu", "ia", "ie", "iu", "oa", "oe",
    "oi", "oo", "ua", "ue", "ui", "uo", "uu", "uy", "ye", "ieu", "oai", "oay", "oao", "oeo", "uay",
    "uoi", "uou", "uya", "uye", "uyu", "yeu",
];

const CODAS: &[&str] = &["", "c", "ch", "m", "n", "ng", "nh", "p", "t"];

/// Whether the letters form one Vietnamese syllable (checked accent-free).
pub(crate) fn is_valid_syllable(letters: &[Letter]) -> bool {
    if letters.is_empty() || letters.len() > 7 {
        return false;
    }
    let mut folded = [0u8; 7];
    for (slot, l) in folded.iter_mut().zip(letters) {
        let c = fold_char(l.ch);
        if !c.is_ascii_lowercase() {
            return false;
        }
        *slot = c as u8;
    }
    let folded = &folded[..letters.len()];
    ONSETS.iter().any(|onset| {
        let onset = onset.as_bytes();
        if !folded.starts_with(onset) {
            return false;
        }
        let rest = &folded[onset.len()..];
        let nucleus_len = rest
            .iter()
            .take_while(|&&b| matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y'))
            .count();
        if nucleus_len == 0 {
            return false;
        }
        let nucleus = &rest[..nucleus_len];
        let coda = &rest[nucleus_len..];
        NUCLEI.iter().any(|n| n.as_bytes() == nucleus) && CODAS.iter().any(|c| c.as_bytes() == coda)
    })
}

fn has_quality(letters: &[Letter]) -> bool {
    letters.iter().any(|l| fold_char(l.ch) != l.ch)
}

/// Decodes Telex typed with the input method switched off (`buoonf` → buồn, `tuwj` → tự).
///
/// Returns `None` unless the token is plain ASCII, carries at least one Telex marker and decodes
/// to a valid syllable, so ordinary unaccented words pass through untouched.
pub(crate) fn decode_telex(letters: &[Letter]) -> Option<Vec<Letter>> {
    if letters.len() < 2 || letters.len() > 10 || !letters.iter().all(|l| l.ch.is_ascii_lowercase())
    {
        return None;
    }
    let first_vowel = letters.iter().position(|l| is_vowel(l.ch))?;
    // Cheap check before allocating: most unaccented words carry no Telex marker at all.
    let has_marker = letters[first_vowel + 1..]
        .iter()
        .any(|l| matches!(l.ch, 'f' | 's' | 'r' | 'x' | 'j'))
        || letters.iter().any(|l| l.ch == 'w')
        || letters
            .windows(2)
            .any(|w| w[0].ch == w[1].ch && matches!(w[0].ch, 'a' | 'e' | 'o' | 'd'));
    if !has_marker {
        return None;
    }
    let mut tone = 0u8;
    let mut out: Vec<Letter> = Vec::with_capacity(letters.len());
    let mut marked = false;
    for (i, l) in letters.iter().enumerate() {
        let t = match l.ch {
            'f' => 1,
            's' => 2,
            'r' => 3,
            'x' => 4,
            'j' => 5,
            _ => 0,
        };
        if t != 0 && i > first_vowel {
            if tone != 0 {
                return None;
            }
            tone = t;
            marked = true;
            continue;
        }
        match l.ch {
            'w' => {
                marked = true;
                let target = out.iter().rposition(|x| is_vowel(x.ch));
                match target {
                    Some(p) => {
                        let horned = match out[p].ch {
                            'o' => 'ơ',
                            'u' => 'ư',
                            'a' => 'ă',
                            _ => return None,
                        };
                        out[p].ch = horned;
                        if horned == 'ơ' && p > 0 && out[p - 1].ch == 'u' {
                            out[p - 1].ch = 'ư';
                        }
                    }
                    None => out.push(Letter::new('ư')),
                }
            }
            'a' | 'e' | 'o' if out.last().map(|x| x.ch) == Some(l.ch) => {
                marked = true;
                if let Some(last) = out.last_mut() {
                    last.ch = match l.ch {
                        'a' => 'â',
                        'e' => 'ê',
                        _ => 'ô',
                    };
                }
            }
            'd' if out.len() == 1 && out[0].ch == 'd' => {
                marked = true;
                out[0].ch = 'đ';
            }
            c => out.push(Letter::new(c)),
        }
    }
    if !marked || !is_valid_syllable(&out) {
        return None;
    }
    if tone != 0
        && let Some(last) = out.last_mut()
    {
        last.tone = tone;
    }
    Some(out)
}

/// Decodes VNI typed with the input method switched off (`kho63` → khổ, `tu75` → tự).
pub(crate) fn decode_vni(letters: &[Letter]) -> Option<Vec<Letter>> {
    if letters.len() < 2 || letters.len() > 12 {
        return None;
    }
    if !letters[0].ch.is_ascii_lowercase() || !letters.iter().any(|l| l.ch.is_ascii_digit()) {
        return None;
    }
    let mut tone = 0u8;
    let mut out: Vec<Letter> = Vec::with_capacity(letters.len());
    for l in letters {
        match l.ch {
            '1'..='5' => {
                if tone != 0 {
                    return None;
                }
                tone = match l.ch {
                    '1' => 2,
                    '2' => 1,
                    '3' => 3,
                    '4' => 4,
                    _ => 5,
                };
            }
            '6' => {
                let p = out.iter().rposition(|x| matches!(x.ch, 'a' | 'e' | 'o'))?;
                out[p].ch = match out[p].ch {
                    'a' => 'â',
                    'e' => 'ê',
                    _ => 'ô',
                };
            }
            '7' => {
                let p = out.iter().rposition(|x| matches!(x.ch, 'o' | 'u'))?;
                out[p].ch = if out[p].ch == 'o' { 'ơ' } else { 'ư' };
                if out[p].ch == 'ơ' && p > 0 && out[p - 1].ch == 'u' {
                    out[p - 1].ch = 'ư';
                }
            }
            '8' => {
                let p = out.iter().rposition(|x| x.ch == 'a')?;
                out[p].ch = 'ă';
            }
            '9' => {
                let p = out.iter().rposition(|x| x.ch == 'd')?;
                out[p].ch = 'đ';
            }
            c if c.is_ascii_lowercase() => out.push(Letter::new(c)),
            _ => return None,
        }
    }
    if !is_valid_syllable(&out) {
        return None;
    }
    if tone != 0
        && let Some(last) = out.last_mut()
    {
        last.tone = tone;
    }
    Some(out)
}

/// Cuts joined letters into the fewest syllables of at least two letters each (ties go to the
/// longer first syllable, which reads `nganhang` as ngan·hang); `None` when no cut exists.
///
/// Returns the end offset of each syllable.
pub(crate) fn segment(letters: &[Letter]) -> Option<Vec<usize>> {
    let n = letters.len();
    if !(2..=48).contains(&n) {
        return None;
    }
    // best[i] = (number of syllables for letters[i..], length of the first one)
    let mut best: Vec<Option<(u16, u8)>> = vec![None; n + 1];
    best[n] = Some((0, 0));
    for i in (0..n).rev() {
        let mut choice: Option<(u16, u8)> = None;
        for len in (2..=7usize).rev() {
            if i + len > n {
                continue;
            }
            let Some((rest, _)) = best[i + len] else {
                continue;
            };
            if !is_valid_syllable(&letters[i..i + len]) {
                continue;
            }
            let count = rest + 1;
            if choice.is_none_or(|(c, _)| count < c) {
                choice = Some((count, len as u8));
            }
        }
        best[i] = choice;
    }
    let mut ends = Vec::new();
    let mut i = 0;
    while i < n {
        let (_, len) = best[i]?;
        i += usize::from(len);
        ends.push(i);
    }
    Some(ends)
}

/// True when the letters contain a vowel-quality mark or a tone.
pub(crate) fn has_marks(letters: &[Letter]) -> bool {
    has_quality(letters) || letters.iter().any(|l| l.tone != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letters(s: &str) -> Vec<Letter> {
        s.chars().map(Letter::new).collect()
    }

    fn render(ls: &[Letter]) -> String {
        let mut s: String = ls.iter().map(|l| l.ch).collect();
        if let Some(t) = ls.iter().rev().find(|l| l.tone != 0) {
            s.push(TONE_MARKS[usize::from(t.tone - 1)]);
        }
        s
    }

    #[test]
    fn valid_syllables() {
        for s in [
            "chet", "nghieng", "khong", "muon", "tu", "giet", "qua", "nguoi", "thuong", "gi",
        ] {
            assert!(is_valid_syllable(&letters(s)), "{s}");
        }
        for s in ["sleep", "kms", "sh", "good", "bridge", "xyz"] {
            assert!(!is_valid_syllable(&letters(s)), "{s}");
        }
    }

    #[test]
    fn telex_decodes_only_with_markers() {
        let d = decode_telex(&letters("buoonf")).map(|l| render(&l));
        assert_eq!(d.as_deref(), Some("buôn\u{300}"));
        let d = decode_telex(&letters("tuwj")).map(|l| render(&l));
        assert_eq!(d.as_deref(), Some("tư\u{323}"));
        let d = decode_telex(&letters("dduwowcj")).map(|l| render(&l));
        assert_eq!(d.as_deref(), Some("đươc\u{323}"));
        assert!(decode_telex(&letters("muon")).is_none());
        assert!(decode_telex(&letters("sleep")).is_none());
        assert!(decode_telex(&letters("kms")).is_none());
    }

    #[test]
    fn vni_decodes() {
        let d = decode_vni(&letters("kho63")).map(|l| render(&l));
        assert_eq!(d.as_deref(), Some("khô\u{309}"));
        let d = decode_vni(&letters("tu73")).map(|l| render(&l));
        assert_eq!(d.as_deref(), Some("tư\u{309}"));
        assert!(decode_vni(&letters("mp3")).is_none());
    }

    #[test]
    fn segments_joined_letters() {
        let cut = |s: &str| {
            let ls = letters(s);
            segment(&ls).map(|ends| {
                let mut start = 0;
                ends.iter()
                    .map(|&e| {
                        let part: String = s[start..e].to_owned();
                        start = e;
                        part
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        };
        assert_eq!(cut("tutu").as_deref(), Some("tu tu"));
        assert_eq!(cut("muonchet").as_deref(), Some("muon chet"));
        assert_eq!(
            cut("khongmuonsongnua").as_deref(),
            Some("khong muon song nua")
        );
        assert_eq!(cut("ketthuccuocdoi").as_deref(), Some("ket thuc cuoc doi"));
        assert_eq!(cut("lamhaibanthan").as_deref(), Some("lam hai ban than"));
        assert!(cut("goodbye").is_none());
    }
}
