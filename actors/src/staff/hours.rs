//! Opening hours of the handoff: weekly spans and holidays in Vietnam's time zone (UTC+7 all year,
//! no daylight saving), checked against a clock the caller passes, so every answer is testable.
//!
//! A weekly span is `DAYS HH:MM-HH:MM`: `DAYS` is a day (`mon` … `sun`), a range (`mon-fri`, which
//! may wrap: `sat-mon`), a comma list of those, or `daily`; the span opens at the first time and
//! closes at the second (`24:00` for midnight). A span never runs past midnight: write a night
//! shift as two spans. No spans at all means every hour of every day. A holiday (`YYYY-MM-DD`) is
//! closed all day whatever the spans say.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::macros::{format_description, offset};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Vietnam's offset from UTC, in hours.
pub const VIETNAM_OFFSET_HOURS: i8 = 7;

/// Most weekly spans and holidays accepted, so a mistake cannot make every check slow.
const MAX_SPANS: usize = 64;
const MAX_HOLIDAYS: usize = 1000;

/// How far ahead the next opening is looked for (a year of holidays and then a week).
const LOOKAHEAD_DAYS: i64 = MAX_HOLIDAYS as i64 + 8;

const MINUTES_PER_DAY: u16 = 24 * 60;

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Vietnam's time zone.
pub fn vietnam_offset() -> UtcOffset {
    offset!(+7)
}

/// Opening hours as written: in the configuration (`[handoff]`), in the database, and over HTTP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursSpec {
    /// Weekly spans, e.g. `mon-fri 08:00-22:00`; empty = all hours.
    #[serde(default)]
    pub opening_hours: Vec<String>,
    /// Closed dates, `YYYY-MM-DD` in Vietnam.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// One problem with a [`HoursSpec`], naming the entry at fault (`opening_hours[1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursError {
    /// `opening_hours[i]`, `holidays[i]`, or the list itself.
    pub field: String,
    /// What is wrong.
    pub problem: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    /// Monday first.
    days: [bool; 7],
    /// Minutes after midnight; `open < close <= 24:00`.
    open: u16,
    close: u16,
}

const ALL_DAY: Span = Span {
    days: [true; 7],
    open: 0,
    close: MINUTES_PER_DAY,
};

/// Checked opening hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    spans: Vec<Span>,
    holidays: BTreeSet<Date>,
    spec: HoursSpec,
}

impl Default for OpeningHours {
    /// Every hour of every day.
    fn default() -> Self {
        OpeningHours {
            spans: Vec::new(),
            holidays: BTreeSet::new(),
            spec: HoursSpec::default(),
        }
    }
}

impl OpeningHours {
    /// Checks every entry; all problems are reported at once.
    pub fn parse(spec: &HoursSpec) -> Result<Self, Vec<HoursError>> {
        let mut errors = Vec::new();
        if spec.opening_hours.len() > MAX_SPANS {
            errors.push(HoursError {
                field: "opening_hours".into(),
                problem: format!("at most {MAX_SPANS} spans"),
            });
        }
        if spec.holidays.len() > MAX_HOLIDAYS {
            errors.push(HoursError {
                field: "holidays".into(),
                problem: format!("at most {MAX_HOLIDAYS} holidays"),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut spans = Vec::new();
        let mut normal = HoursSpec::default();
        for (i, text) in spec.opening_hours.iter().enumerate() {
            match parse_span(text) {
                Ok((span, written)) => {
                    spans.push(span);
                    normal.opening_hours.push(written);
                }
                Err(problem) => errors.push(HoursError {
                    field: format!("opening_hours[{i}]"),
                    problem,
                }),
            }
        }
        let mut holidays = BTreeSet::new();
        for (i, text) in spec.holidays.iter().enumerate() {
            match parse_date(text.trim()) {
                Some(date) => {
                    if holidays.insert(date) {
                        normal.holidays.push(text.trim().to_string());
                    }
                }
                None => errors.push(HoursError {
                    field: format!("holidays[{i}]"),
                    problem: format!("{text:?} is not a date written YYYY-MM-DD"),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        normal.holidays.sort();
        Ok(OpeningHours {
            spans,
            holidays,
            spec: normal,
        })
    }

    /// The hours as written, tidied (lowercase, single spaces, holidays sorted, no duplicates).
    pub fn spec(&self) -> &HoursSpec {
        &self.spec
    }

    /// Whether any hour is closed: otherwise there is never a next opening to announce.
    pub fn is_restricted(&self) -> bool {
        !self.spans.is_empty() || !self.holidays.is_empty()
    }

    fn spans(&self) -> &[Span] {
        if self.spans.is_empty() {
            std::slice::from_ref(&ALL_DAY)
        } else {
            &self.spans
        }
    }

    /// Whether the handoff is open at `now`.
    pub fn is_open(&self, now: OffsetDateTime) -> bool {
        let local = now.to_offset(vietnam_offset());
        if self.holidays.contains(&local.date()) {
            return false;
        }
        let weekday = usize::from(local.weekday().number_days_from_monday());
        let minute = minute_of_day(local.time());
        self.spans()
            .iter()
            .any(|span| span.days[weekday] && span.open <= minute && minute < span.close)
    }

    /// [`OpeningHours::next_opening`] when the hours are restricted at all: with every hour open
    /// there is no opening to announce.
    pub fn opening_to_announce(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        if self.is_restricted() {
            self.next_opening(now)
        } else {
            None
        }
    }

    /// The first instant at or after `now` at which the handoff is open (`now` itself when it is
    /// open), in UTC; `None` when it does not open within the next few years.
    pub fn next_opening(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        if self.is_open(now) {
            return Some(now);
        }
        let local = now.to_offset(vietnam_offset());
        let minute_now = minute_of_day(local.time());
        for ahead in 0..LOOKAHEAD_DAYS {
            let date = local.date().checked_add(time::Duration::days(ahead))?;
            if self.holidays.contains(&date) {
                continue;
            }
            let weekday = usize::from(date.weekday().number_days_from_monday());
            // Today only spans opening later count: one already open would have made it open now.
            let opening = self
                .spans()
                .iter()
                .filter(|span| span.days[weekday])
                .map(|span| span.open)
                .filter(|open| ahead > 0 || *open > minute_now)
                .min();
            if let Some(open) = opening {
                let time =
                    Time::from_hms(u8::try_from(open / 60).ok()?, (open % 60) as u8, 0).ok()?;
                return Some(
                    PrimitiveDateTime::new(date, time)
                        .assume_offset(vietnam_offset())
                        .to_offset(UtcOffset::UTC),
                );
            }
        }
        None
    }
}

fn minute_of_day(time: Time) -> u16 {
    u16::from(time.hour()) * 60 + u16::from(time.minute())
}

fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text, format_description!("[year]-[month]-[day]")).ok()
}

/// One weekly span and its tidy written form.
fn parse_span(text: &str) -> Result<(Span, String), String> {
    let lowered = text.trim().to_ascii_lowercase();
    let mut parts = lowered.split_whitespace();
    let (Some(days_text), Some(times_text), None) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "{text:?} is not DAYS HH:MM-HH:MM (e.g. \"mon-fri 08:00-22:00\")"
        ));
    };
    let days = parse_days(days_text)?;
    let (open_text, close_text) = times_text
        .split_once('-')
        .ok_or_else(|| format!("{times_text:?} is not HH:MM-HH:MM"))?;
    let open = parse_minute(open_text)?;
    let close = parse_minute(close_text)?;
    if open >= MINUTES_PER_DAY {
        return Err("a span cannot open at 24:00".into());
    }
    if close <= open {
        return Err(format!(
            "{times_text:?} closes before it opens; a span ends by 24:00, so write a night shift as two spans (\"mon 22:00-24:00\", \"tue 00:00-06:00\")"
        ));
    }
    Ok((
        Span { days, open, close },
        format!("{days_text} {open_text}-{close_text}"),
    ))
}

fn parse_days(text: &str) -> Result<[bool; 7], String> {
    let mut days = [false; 7];
    if text == "daily" {
        return Ok([true; 7]);
    }
    let index = |name: &str| {
        DAY_NAMES
            .iter()
            .position(|day| *day == name)
            .ok_or_else(|| {
                format!("{name:?} is not a day (mon, tue, wed, thu, fri, sat, sun or daily)")
            })
    };
    for item in text.split(',') {
        match item.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (index(from)?, index(to)?);
                let mut day = from;
                loop {
                    days[day] = true;
                    if day == to {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
            None => days[index(item)?] = true,
        }
    }
    Ok(days)
}

fn parse_minute(text: &str) -> Result<u16, String> {
    let invalid = || format!("{text:?} is not a time HH:MM between 00:00 and 24:00");
    let (hours, minutes) = text.split_once(':').ok_or_else(invalid)?;
    if hours.len() != 2 || minutes.len() != 2 {
        return Err(invalid());
    }
    let hours: u16 = hours.parse().map_err(|_| invalid())?;
    let minutes: u16 = minutes.parse().map_err(|_| invalid())?;
    if minutes >= 60 || hours > 24 || (hours == 24 && minutes != 0) {
        return Err(invalid());
    }
    Ok(hours * 60 + minutes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn hours(spans: &[&str], holidays: &[&str]) -> OpeningHours {
        OpeningHours::parse(&HoursSpec {
            opening_hours: spans.iter().map(|s| s.to_string()).collect(),
            holidays: holidays.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
    }

    fn errors(spans: &[&str], holidays: &[&str]) -> Vec<HoursError> {
        OpeningHours::parse(&HoursSpec {
            opening_hours: spans.iter().map(|s| s.to_string()).collect(),
            holidays: holidays.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap_err()
    }

    #[test]
    fn no_spans_is_every_hour() {
        let always = OpeningHours::default();
        assert!(!always.is_restricted());
        let now = datetime!(2026-11-29 03:17 UTC);
        assert!(always.is_open(now));
        assert_eq!(always.next_opening(now), Some(now));
        assert_eq!(always.opening_to_announce(now), None);
    }

    #[test]
    fn spans_are_read_in_vietnam_time() {
        // Monday 2026-11-30, 08:00 in Hà Nội is 01:00 UTC.
        let weekdays = hours(&["mon-fri 08:00-22:00"], &[]);
        assert!(weekdays.is_restricted());
        assert!(!weekdays.is_open(datetime!(2026-11-30 00:59:59 UTC)));
        assert!(weekdays.is_open(datetime!(2026-11-30 01:00 UTC)));
        assert!(weekdays.is_open(datetime!(2026-11-30 14:59:59 UTC)));
        assert!(
            !weekdays.is_open(datetime!(2026-11-30 15:00 UTC)),
            "22:00 closes"
        );
        // Saturday 10:00 in Vietnam.
        assert!(!weekdays.is_open(datetime!(2026-12-05 03:00 UTC)));
        // A UTC instant still on Sunday is already Monday morning in Vietnam.
        assert!(weekdays.is_open(datetime!(2026-11-29 19:30 -06:00)));
    }

    #[test]
    fn the_next_opening_is_found_across_nights_weekends_and_holidays() {
        let weekdays = hours(&["mon-fri 08:00-22:00"], &["2026-12-01"]);
        // Monday 23:00 in Vietnam (16:00 UTC): Tuesday is a holiday, so Wednesday 08:00.
        assert_eq!(
            weekdays.next_opening(datetime!(2026-11-30 16:00 UTC)),
            Some(datetime!(2026-12-02 01:00 UTC))
        );
        // Friday 22:30: Monday 08:00.
        assert_eq!(
            weekdays.next_opening(datetime!(2026-12-04 15:30 UTC)),
            Some(datetime!(2026-12-07 01:00 UTC))
        );
        // Monday 07:59:30 opens at 08:00 the same morning.
        assert_eq!(
            weekdays.next_opening(datetime!(2026-11-30 00:59:30 UTC)),
            Some(datetime!(2026-11-30 01:00 UTC))
        );
        // Open now: now.
        let now = datetime!(2026-11-30 05:00 UTC);
        assert_eq!(weekdays.next_opening(now), Some(now));
        assert_eq!(weekdays.opening_to_announce(now), Some(now));
        // All hours but today is a holiday: tomorrow at midnight, Vietnam time.
        let holiday = hours(&[], &["2026-09-02"]);
        assert!(!holiday.is_open(datetime!(2026-09-02 05:00 UTC)));
        assert_eq!(
            holiday.next_opening(datetime!(2026-09-02 05:00 UTC)),
            Some(datetime!(2026-09-02 17:00 UTC))
        );
    }

    #[test]
    fn a_later_span_on_the_same_day_and_a_wrapping_range_count() {
        let split = hours(&["sat-mon 09:00-12:00", "sun 18:00-24:00"], &[]);
        // Sunday 13:00 in Vietnam: the evening span, 18:00.
        assert_eq!(
            split.next_opening(datetime!(2026-11-29 06:00 UTC)),
            Some(datetime!(2026-11-29 11:00 UTC))
        );
        assert!(
            split.is_open(datetime!(2026-11-29 16:59 UTC)),
            "Sunday 23:59"
        );
        assert!(
            split.is_open(datetime!(2026-11-30 02:00 UTC)),
            "Monday 09:00"
        );
        assert!(
            !split.is_open(datetime!(2026-12-01 02:00 UTC)),
            "not Tuesday"
        );
    }

    #[test]
    fn every_problem_is_named_with_its_entry() {
        let found = errors(
            &[
                "mon-fri 08:00-22:00",
                "funday 08:00-10:00",
                "mon 22:00-06:00",
                "tue 8:00-10:00",
                "wed",
            ],
            &["2026-02-30", "2026-09-02"],
        );
        let fields: Vec<&str> = found.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "opening_hours[1]",
                "opening_hours[2]",
                "opening_hours[3]",
                "opening_hours[4]",
                "holidays[0]"
            ]
        );
        assert!(found[0].problem.contains("funday"), "{found:?}");
        assert!(found[1].problem.contains("two spans"), "{found:?}");
        assert_eq!(
            errors(&["mon 24:00-24:00"], &[])[0].field,
            "opening_hours[0]"
        );
        assert_eq!(
            errors(&["mon 10:60-11:00"], &[])[0].field,
            "opening_hours[0]"
        );
        assert_eq!(
            errors(&["mon 10:00-24:01"], &[])[0].field,
            "opening_hours[0]"
        );
        let too_many: Vec<String> = (0..=MAX_SPANS)
            .map(|_| "daily 00:00-24:00".into())
            .collect();
        let refs: Vec<&str> = too_many.iter().map(String::as_str).collect();
        assert_eq!(errors(&refs, &[])[0].field, "opening_hours");
    }

    #[test]
    fn the_written_form_is_tidied() {
        let tidy = hours(
            &["  Mon-FRI   08:00-22:00 "],
            &["2026-12-25", "2026-01-01", "2026-12-25"],
        );
        assert_eq!(tidy.spec().opening_hours, vec!["mon-fri 08:00-22:00"]);
        assert_eq!(tidy.spec().holidays, vec!["2026-01-01", "2026-12-25"]);
    }
}
