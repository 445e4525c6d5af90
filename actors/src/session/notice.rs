//! Notices on replies: the first reply of a session says that replies come from software, and a
//! long stretch of continuous use or a late hour in Vietnam brings a gentle reminder to take a
//! break. The wording is data (`[notice]` in `content/<language>.toml`).

use crate::content;
use crate::domain::Language;
use std::time::{Duration, Instant};
use time::{OffsetDateTime, UtcOffset};

/// Vietnam's time zone (UTC+7 all year, no daylight saving).
const VIETNAM_OFFSET_HOURS: i8 = 7;

/// What kind of notice a reply carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Replies come from software, not a counsellor.
    AiDisclosure,
    /// A reminder that a break is fine.
    BreakReminder,
}

/// A notice shown with a reply, in the session's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// What it is.
    pub kind: NoticeKind,
    /// What it says.
    pub text: String,
}

/// When break reminders come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeSettings {
    /// Continuous use after which a reply reminds of a break (and again after as long).
    pub break_after: Duration,
    /// A pause longer than this ends a stretch of continuous use.
    pub stretch_gap: Duration,
    /// Late night in Vietnam, `[start, end)` hours (wrapping past midnight); `None` for never.
    pub night_hours: Option<(u8, u8)>,
}

impl Default for NoticeSettings {
    fn default() -> Self {
        Self {
            break_after: Duration::from_secs(45 * 60),
            stretch_gap: Duration::from_secs(30 * 60),
            night_hours: Some((23, 5)),
        }
    }
}

/// A session actor's memory of its stretch of use (kept while the actor lives; a new actor only
/// starts a new stretch).
#[derive(Debug, Default)]
pub struct NoticeState {
    stretch_started: Option<Instant>,
    last_reply: Option<Instant>,
    reminded: Option<Instant>,
}

/// Whether `hour` lies in the wrapping window `[start, end)`.
fn in_window(hour: u8, (start, end): (u8, u8)) -> bool {
    if start <= end {
        (start..end).contains(&hour)
    } else {
        hour >= start || hour < end
    }
}

/// The hour of the day in Vietnam at `now`.
pub fn vietnam_hour(now: OffsetDateTime) -> u8 {
    match UtcOffset::from_hms(VIETNAM_OFFSET_HOURS, 0, 0) {
        Ok(offset) => now.to_offset(offset).hour(),
        Err(_) => now.hour(),
    }
}

impl NoticeState {
    /// The notice for a reply given now. `first_reply`: the session's first; `in_crisis`: the
    /// reply is the safety protocol, where a reminder to leave would be the wrong word.
    pub fn next(
        &mut self,
        settings: &NoticeSettings,
        language: Language,
        first_reply: bool,
        in_crisis: bool,
    ) -> Option<Notice> {
        let now = Instant::now();
        let continues = self
            .last_reply
            .is_some_and(|last| now.duration_since(last) <= settings.stretch_gap);
        if !continues {
            self.stretch_started = Some(now);
            self.reminded = None;
        }
        self.last_reply = Some(now);
        let wording = &content::wording(language).notice;
        if first_reply {
            return Some(Notice {
                kind: NoticeKind::AiDisclosure,
                text: wording.ai_disclosure.clone(),
            });
        }
        if in_crisis {
            return None;
        }
        let since = self.reminded.or(self.stretch_started).unwrap_or(now);
        let due = now.duration_since(since) >= settings.break_after;
        let reminded_lately = self
            .reminded
            .is_some_and(|at| now.duration_since(at) < settings.break_after);
        let night = settings
            .night_hours
            .filter(|&(start, end)| start != end)
            .is_some_and(|window| in_window(vietnam_hour(OffsetDateTime::now_utc()), window));
        let text = if due {
            &wording.break_reminder
        } else if night && !reminded_lately {
            &wording.night_reminder
        } else {
            return None;
        };
        self.reminded = Some(now);
        Some(Notice {
            kind: NoticeKind::BreakReminder,
            text: text.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never_night(break_after: Duration) -> NoticeSettings {
        NoticeSettings {
            break_after,
            stretch_gap: Duration::from_secs(3600),
            night_hours: None,
        }
    }

    #[test]
    fn the_first_reply_discloses_and_later_ones_say_nothing_by_day() {
        let settings = never_night(Duration::from_secs(3600));
        let mut state = NoticeState::default();
        let first = state.next(&settings, Language::Vi, true, false);
        assert_eq!(first.map(|n| n.kind), Some(NoticeKind::AiDisclosure));
        assert_eq!(state.next(&settings, Language::Vi, false, false), None);
    }

    #[test]
    fn a_long_stretch_brings_one_reminder_and_none_in_a_crisis() {
        let settings = never_night(Duration::ZERO);
        let mut state = NoticeState::default();
        assert_eq!(state.next(&settings, Language::En, false, true), None);
        let reminder = state.next(&settings, Language::En, false, false);
        assert_eq!(reminder.map(|n| n.kind), Some(NoticeKind::BreakReminder));
    }

    #[test]
    fn night_windows_wrap_past_midnight() {
        assert!(in_window(23, (23, 5)));
        assert!(in_window(2, (23, 5)));
        assert!(!in_window(5, (23, 5)));
        assert!(!in_window(12, (23, 5)));
        assert!(in_window(1, (0, 6)));
        let noon_utc = time::macros::datetime!(2026-01-01 17:00 UTC);
        assert_eq!(vietnam_hour(noon_utc), 0);
    }
}
