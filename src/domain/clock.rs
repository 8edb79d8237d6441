//! TEMPORARY stub until the calendar branch merges.
use chrono::{DateTime, Duration, Utc};
pub fn notification_due(identified_at: DateTime<Utc>) -> DateTime<Utc> {
    identified_at + Duration::hours(1)
}
