//! Deadline clocks: the elapsed-time and Working-Day clocks a playbook step can
//! declare, the paragraph 8 deadlines, and the state of a deadline at an
//! instant.
//!
//! Pure: "now" is always passed in; nothing here reads the system clock.

use crate::domain::calendar::WorkingCalendar;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest elapsed-time clock accepted: one (non-leap) year of hours.
pub const MAX_CLOCK_HOURS: u32 = 8760;
/// Longest Working-Day clock accepted: roughly one year of Working Days.
pub const MAX_CLOCK_WORKING_DAYS: u32 = 260;

/// A clock a playbook step can declare. serde form in TOML: `{ hours = 72 }`
/// or `{ working_days = 2 }` (unknown fields are denied; exactly one of the two
/// keys must be present). A zero or absurd value (more than
/// [`MAX_CLOCK_HOURS`] hours or [`MAX_CLOCK_WORKING_DAYS`] Working Days) is
/// rejected by [`ClockSpec::validate`], which deserialization also applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "RawClockSpec")]
pub enum ClockSpec {
    /// Elapsed time: due exactly this many hours after the start, day or night.
    Hours(u32),
    /// Due at the end of the N-th Working Day after the start (see
    /// [`WorkingCalendar::working_days_after`]).
    WorkingDays(u32),
}

/// The on-disk shape of a [`ClockSpec`], before the exactly-one check.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClockSpec {
    hours: Option<u32>,
    working_days: Option<u32>,
}

impl TryFrom<RawClockSpec> for ClockSpec {
    type Error = String;

    fn try_from(raw: RawClockSpec) -> Result<Self, Self::Error> {
        let spec = match (raw.hours, raw.working_days) {
            (Some(h), None) => ClockSpec::Hours(h),
            (None, Some(n)) => ClockSpec::WorkingDays(n),
            (Some(_), Some(_)) => {
                return Err(
                    "a clock takes exactly one of `hours` or `working_days`, not both".into(),
                );
            }
            (None, None) => {
                return Err("a clock needs one of `hours` or `working_days`".into());
            }
        };
        spec.validate()?;
        Ok(spec)
    }
}

impl ClockSpec {
    /// Rejects zero and absurd values (more than [`MAX_CLOCK_HOURS`] hours or
    /// [`MAX_CLOCK_WORKING_DAYS`] Working Days).
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            ClockSpec::Hours(0) => Err("a clock of 0 hours is not a deadline".into()),
            ClockSpec::Hours(h) if h > MAX_CLOCK_HOURS => Err(format!(
                "a clock of {h} hours is too long (at most {MAX_CLOCK_HOURS})"
            )),
            ClockSpec::WorkingDays(0) => Err("a clock of 0 Working Days is not a deadline".into()),
            ClockSpec::WorkingDays(n) if n > MAX_CLOCK_WORKING_DAYS => Err(format!(
                "a clock of {n} Working Days is too long (at most {MAX_CLOCK_WORKING_DAYS})"
            )),
            _ => Ok(()),
        }
    }

    /// When a clock started at `start` is due: `start` plus exactly N hours of
    /// elapsed time (so a GMT/BST change neither adds nor removes an hour), or
    /// the end of the N-th Working Day after `start` in `cal`.
    pub fn due(&self, start: DateTime<Utc>, cal: &WorkingCalendar) -> DateTime<Utc> {
        match *self {
            ClockSpec::Hours(h) => start
                .checked_add_signed(Duration::hours(i64::from(h)))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            ClockSpec::WorkingDays(n) => cal.working_days_after(start, n),
        }
    }

    /// Human wording: "1 hour", "72 hours", "1 Working Day", "2 Working Days".
    pub fn describe(&self) -> String {
        match *self {
            ClockSpec::Hours(1) => "1 hour".to_owned(),
            ClockSpec::Hours(h) => format!("{h} hours"),
            ClockSpec::WorkingDays(1) => "1 Working Day".to_owned(),
            ClockSpec::WorkingDays(n) => format!("{n} Working Days"),
        }
    }
}

impl fmt::Display for ClockSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Paragraph 8.1: notify within 1 hour of becoming aware of a Breach of Security.
pub const NOTIFICATION_WINDOW_HOURS: i64 = 1;

/// The paragraph 8.1 notification deadline: `identified_at` plus exactly one
/// hour of elapsed time (unaffected by GMT/BST changes).
pub fn notification_due(identified_at: DateTime<Utc>) -> DateTime<Utc> {
    identified_at
        .checked_add_signed(Duration::hours(NOTIFICATION_WINDOW_HOURS))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Paragraph 8.2.1(e): provide requested data within 2 Working Days.
pub const DATA_REQUEST_WORKING_DAYS: u32 = 2;

/// The state of a deadline at an instant `now` (always passed in; this module
/// never reads the system clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// Not done, not yet due (`remaining` may be zero exactly at the due instant).
    Running {
        /// Time left until the due instant.
        remaining: Duration,
    },
    /// Not done and past the due instant.
    Overdue {
        /// How far past due `now` is (always positive).
        by: Duration,
    },
    /// Done at or before the due instant.
    MetOnTime {
        /// How early it was done (zero if exactly at the due instant).
        margin: Duration,
    },
    /// Done after the due instant.
    MetLate {
        /// How late it was done (always positive).
        by: Duration,
    },
}

/// The state of a deadline `due` at instant `now`, given when (if ever) the
/// step was done.
///
/// Boundaries: the due instant itself is still in time. Done exactly at `due`
/// is [`ClockState::MetOnTime`] with a zero margin; not done and `now == due`
/// is [`ClockState::Running`] with zero remaining; one nanosecond later it is
/// late/overdue. Once done, `now` is irrelevant (the result is fixed).
pub fn clock_state(
    due: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ClockState {
    match done_at {
        Some(done) if done <= due => ClockState::MetOnTime { margin: due - done },
        Some(done) => ClockState::MetLate { by: done - due },
        None if now <= due => ClockState::Running {
            remaining: due - now,
        },
        None => ClockState::Overdue { by: now - due },
    }
}

/// A span of time in the one format the console and `list` use for clocks:
/// two units, the second zero-padded: `2d 03h` (two days or more),
/// `40h 01m` (an hour or more), `14m 59s` (under an hour). Truncated, never
/// rounded up; the sign is ignored.
pub fn format_span(d: Duration) -> String {
    let secs = d.num_seconds().unsigned_abs();
    let (days, hours, mins, s) = (
        secs / 86_400,
        (secs % 86_400) / 3_600,
        (secs % 3_600) / 60,
        secs % 60,
    );
    if secs >= 2 * 86_400 {
        format!("{days}d {hours:02}h")
    } else if secs >= 3_600 {
        format!("{}h {mins:02}m", secs / 3_600)
    } else {
        format!("{mins}m {s:02}s")
    }
}

/// A countdown to `due` at `now`: `14m 59s left`, `2d 03h overdue`. The due
/// instant itself is still in time (`0m 00s left`).
pub fn format_countdown(due: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if now <= due {
        format!("{} left", format_span(due - now))
    } else {
        format!("{} overdue", format_span(now - due))
    }
}

/// A short human duration for notes such as "on time by 23 min".
///
/// Units are truncated, never rounded up: under a minute "45 s"; under an
/// hour "23 min"; under a day "1 h 05 min" (or "3 h" on the hour); otherwise
/// "2 d 3 h" (or "2 d" on the day). A negative duration gets a leading "-".
pub fn format_duration_short(d: Duration) -> String {
    let total = d.num_seconds();
    let sign = if total < 0 { "-" } else { "" };
    let secs = total.unsigned_abs();
    let (days, hours, mins) = (secs / 86_400, (secs % 86_400) / 3_600, (secs % 3_600) / 60);
    let body = if secs < 60 {
        format!("{secs} s")
    } else if secs < 3_600 {
        format!("{mins} min")
    } else if secs < 86_400 {
        if mins == 0 {
            format!("{hours} h")
        } else {
            format!("{hours} h {mins:02} min")
        }
    } else if hours == 0 {
        format!("{days} d")
    } else {
        format!("{days} d {hours} h")
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod format_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn spans_use_two_units_padded() {
        assert_eq!(format_span(Duration::seconds(14 * 60 + 59)), "14m 59s");
        assert_eq!(format_span(Duration::seconds(5)), "0m 05s");
        assert_eq!(format_span(Duration::seconds(3_600)), "1h 00m");
        assert_eq!(format_span(Duration::seconds(40 * 3_600 + 61)), "40h 01m");
        assert_eq!(format_span(Duration::hours(48)), "2d 00h");
        assert_eq!(
            format_span(Duration::hours(51) + Duration::minutes(59)),
            "2d 03h"
        );
        assert_eq!(format_span(Duration::seconds(-90)), "1m 30s");
    }

    #[test]
    fn countdowns_say_left_or_overdue() {
        let due = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
        assert_eq!(format_countdown(due, due), "0m 00s left");
        assert_eq!(
            format_countdown(due, due - Duration::seconds(899)),
            "14m 59s left"
        );
        assert_eq!(
            format_countdown(due, due + Duration::seconds(1)),
            "0m 01s overdue"
        );
        assert_eq!(
            format_countdown(due, due + Duration::hours(40) + Duration::minutes(1)),
            "40h 01m overdue"
        );
    }
}
