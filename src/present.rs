//! Words and times as a responder reads them, shared by the CLI, the
//! exports and the console: local times, clock verdicts, durations.

use crate::domain::clock::{ClockState, clock_state, format_duration_short};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// `2026-11-28 14:32 GMT`.
pub fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `Sat 28 Nov 14:32`.
pub fn local_short(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%a %d %b %H:%M").to_string()
}

/// RFC 3339 in the local offset, e.g. `2026-12-29T23:59:59+00:00`.
pub fn local_rfc3339(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A deadline in words: "due in 23 min", "OVERDUE by 7 min",
/// "done, on time by 23 min", "done, late by 7 min".
pub fn verdict(due: DateTime<Utc>, done: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match clock_state(due, done, now) {
        ClockState::Running { remaining } => format!("due in {}", format_duration_short(remaining)),
        ClockState::Overdue { by } => format!("OVERDUE by {}", format_duration_short(by)),
        ClockState::MetOnTime { margin } => {
            format!("done, on time by {}", format_duration_short(margin))
        }
        ClockState::MetLate { by } => format!("done, late by {}", format_duration_short(by)),
    }
}

/// A machine word for the state: running, overdue, on-time, late.
pub fn state_word(
    due: DateTime<Utc>,
    done: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> &'static str {
    match clock_state(due, done, now) {
        ClockState::Running { .. } => "running",
        ClockState::Overdue { .. } => "overdue",
        ClockState::MetOnTime { .. } => "on-time",
        ClockState::MetLate { .. } => "late",
    }
}

/// Signed seconds: remaining (running), overdue (overdue), margin (on-time), lateness (late).
pub fn state_seconds(due: DateTime<Utc>, done: Option<DateTime<Utc>>, now: DateTime<Utc>) -> i64 {
    match clock_state(due, done, now) {
        ClockState::Running { remaining } => remaining.num_seconds(),
        ClockState::Overdue { by } => by.num_seconds(),
        ClockState::MetOnTime { margin } => margin.num_seconds(),
        ClockState::MetLate { by } => by.num_seconds(),
    }
}

/// The notice-received record, for screens: "from WHO by CHANNEL at T".
pub fn notice_received_line(notice: &crate::domain::incident::NoticeReceived) -> String {
    format!(
        "from {} by {} at {}{}",
        notice.from,
        notice.channel,
        notice
            .received_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        notice
            .reference
            .as_deref()
            .map(|r| format!(" (ref {r})"))
            .unwrap_or_default()
    )
}
