//! TEMPORARY stub until the calendar branch merges.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
pub fn notification_due(identified_at: DateTime<Utc>) -> DateTime<Utc> {
    identified_at + Duration::hours(1)
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ClockSpec {
    Hours(u32),
    WorkingDays(u32),
}
impl ClockSpec {
    pub fn due(&self, start: DateTime<Utc>, _cal: &crate::domain::calendar::WorkingCalendar) -> DateTime<Utc> {
        match self {
            ClockSpec::Hours(h) => start + Duration::hours(*h as i64),
            ClockSpec::WorkingDays(d) => start + Duration::days(*d as i64),
        }
    }
    pub fn describe(&self) -> String {
        match self {
            ClockSpec::Hours(1) => "1 hour".into(),
            ClockSpec::Hours(h) => format!("{h} hours"),
            ClockSpec::WorkingDays(1) => "1 Working Day".into(),
            ClockSpec::WorkingDays(d) => format!("{d} Working Days"),
        }
    }
}
