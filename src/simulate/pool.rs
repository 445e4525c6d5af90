//! Which message a simulated student sends next: an ordinary one or, at the requested ratio, a
//! crisis one, so that the safety path is exercised too.

use super::messages::{CRISIS, ORDINARY};
use rand::{Rng, RngExt};

/// One message to send: its text and whether it was chosen as a crisis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    /// The text.
    pub content: &'static str,
    /// Drawn from [`CRISIS`].
    pub crisis: bool,
}

/// Draws a message: a crisis one with probability `crisis_ratio` (clamped to 0..=1), otherwise
/// an ordinary one, uniformly within each list.
pub fn pick<R: Rng + ?Sized>(rng: &mut R, crisis_ratio: f64) -> Pick {
    let ratio = if crisis_ratio.is_finite() {
        crisis_ratio.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let crisis = rng.random_bool(ratio);
    let list = if crisis { CRISIS } else { ORDINARY };
    let content = list[rng.random_range(0..list.len())];
    Pick { content, crisis }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn every_message_is_valid_api_content() {
        for text in ORDINARY.iter().chain(CRISIS) {
            assert_eq!(text.trim(), *text);
            let chars = text.chars().count();
            assert!((40..=200).contains(&chars), "{chars} chars: {text}");
        }
    }

    #[test]
    fn pool_mixes_diacritics_plain_ascii_and_teen_code() {
        let ascii = ORDINARY.iter().filter(|t| t.is_ascii()).count();
        let accented = ORDINARY
            .iter()
            .filter(|t| t.contains('ả') || t.contains('ì') || t.contains('ố'))
            .count();
        assert!(ascii >= 3, "needs messages typed without diacritics");
        assert!(accented >= 10, "needs messages with diacritics");
        assert!(
            ORDINARY
                .iter()
                .any(|t| t.contains(" ko ") || t.contains(" k ") || t.contains("bt"))
        );
        assert!(CRISIS.iter().any(|t| t.is_ascii()) && CRISIS.iter().any(|t| !t.is_ascii()));
    }

    #[test]
    fn ratio_zero_and_one_are_exact() {
        let mut rng = StdRng::seed_from_u64(1);
        assert!((0..500).all(|_| !pick(&mut rng, 0.0).crisis));
        assert!((0..500).all(|_| pick(&mut rng, 1.0).crisis));
        // Out-of-range ratios are clamped rather than panicking inside `random_bool`.
        assert!((0..50).all(|_| pick(&mut rng, 7.0).crisis));
        assert!((0..50).all(|_| !pick(&mut rng, -1.0).crisis));
        assert!((0..50).all(|_| !pick(&mut rng, f64::NAN).crisis));
    }

    #[test]
    fn picks_come_from_the_matching_list_at_about_the_requested_ratio() {
        let mut rng = StdRng::seed_from_u64(42);
        let draws: Vec<Pick> = (0..20_000).map(|_| pick(&mut rng, 0.05)).collect();
        for p in &draws {
            let list = if p.crisis { CRISIS } else { ORDINARY };
            assert!(list.contains(&p.content));
        }
        let share = draws.iter().filter(|p| p.crisis).count() as f64 / draws.len() as f64;
        assert!((0.04..0.06).contains(&share), "crisis share {share}");
    }
}
