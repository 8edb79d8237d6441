//! Deadline clocks: the paragraph 8 deadlines and the state of a deadline
//! at an instant (a playbook step's own clock is
//! [`crate::domain::step::StepClock`]).
//!
//! Pure: "now" is always passed in; nothing here reads the system clock.

use chrono::{DateTime, Duration, Utc};

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
