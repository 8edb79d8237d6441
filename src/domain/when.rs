//! Reading the times a responder types: `now`, RFC 3339, a local `HH:MM`,
//! a local date and time, or a relative `-20m` / `-2h` / `-1h30m` / `-1d`.
//!
//! Pure: the current instant and the local zone are arguments.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The earliest instant breachdesk accepts: 1990-01-01T00:00:00Z. Nothing
/// a responder records happened before then; an earlier time is a typo.
pub const EARLIEST_YEAR: i32 = 1990;
/// Instants from this year on are refused (the holiday calendar and every
/// deadline computed from a time stay in range).
pub const END_YEAR: i32 = 2200;

/// Why a typed time was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    #[error(
        "'{}' is not a time: use RFC 3339 (2026-11-28T14:05:00Z), a local HH:MM (14:05), a local date and time (2026-11-28 14:05), or a relative time (-20m, -2h, -1h30m)",
        crate::text::quote_short(.0)
    )]
    Unrecognised(String),
    #[error("'{}' does not exist in {} (the clocks went forward then)", crate::text::quote_short(.0), .1)]
    Skipped(String, Tz),
    #[error(
        "'{}' is in the future ({at}); a breach cannot be identified after now",
        crate::text::quote_short(text)
    )]
    InFuture { text: String, at: DateTime<Utc> },
    #[error(
        "'{}' is outside the times breachdesk accepts ({EARLIEST_YEAR}-01-01 to {}-12-31)",
        crate::text::quote_short(.0),
        END_YEAR - 1
    )]
    OutOfRange(String),
}

/// Whether `at` is in [`EARLIEST_YEAR`, `END_YEAR`).
pub fn in_range(at: DateTime<Utc>) -> bool {
    use chrono::Datelike;
    (EARLIEST_YEAR..END_YEAR).contains(&at.year())
}

/// Parses a typed time.
///
/// - `now`;
/// - RFC 3339 with an offset, e.g. `2026-11-28T14:05:00Z` or `2026-11-28T14:05:00+00:00`;
/// - a local date and time in `tz`: `2026-11-28 14:05`, `2026-11-28T14:05`, `2026-11-28 14:05:30`;
/// - a local date, meaning the start of that day in `tz`: `2026-11-28`;
/// - a local `HH:MM` (or `HH:MM:SS`): the most recent such time that is not
///   after `now`, so at 00:10 typing `23:50` means ten minutes before midnight
///   yesterday, not 23 hours from now;
/// - a relative time before now: `-20m`, `-2h`, `-1h30m`, `-90s`, `-1d`
///   (a bare `20m` means the same as `-20m`).
///
/// When a local time is ambiguous (the hour repeated when the clocks go back)
/// the earlier instant is taken. A local time skipped when the clocks go
/// forward is an error.
///
/// Times before 1990 or from 2200 on are refused ([`WhenError::OutOfRange`]),
/// as is any text longer than 100 characters; nothing panics.
pub fn parse_when(text: &str, now: DateTime<Utc>, tz: Tz) -> Result<DateTime<Utc>, WhenError> {
    let at = parse_any(text, now, tz)?;
    if in_range(at) {
        Ok(at)
    } else {
        Err(WhenError::OutOfRange(text.to_string()))
    }
}

fn parse_any(text: &str, now: DateTime<Utc>, tz: Tz) -> Result<DateTime<Utc>, WhenError> {
    let t = text.trim();
    if t.len() > 100 {
        return Err(WhenError::Unrecognised(text.to_string()));
    }
    let unrecognised = || WhenError::Unrecognised(text.to_string());
    if t.is_empty() {
        return Err(unrecognised());
    }
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Some(ago) = parse_relative(t) {
        return now
            .checked_sub_signed(ago)
            .ok_or_else(|| WhenError::OutOfRange(text.to_string()));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(t, format) {
            if !local_in_range(local) {
                return Err(WhenError::OutOfRange(text.to_string()));
            }
            return local_to_utc(local, tz).ok_or_else(|| WhenError::Skipped(text.to_string(), tz));
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        if !local_in_range(date.and_time(NaiveTime::MIN)) {
            return Err(WhenError::OutOfRange(text.to_string()));
        }
        let midnight = date.and_time(NaiveTime::MIN);
        return local_to_utc(midnight, tz).ok_or_else(|| WhenError::Skipped(text.to_string(), tz));
    }
    let time = NaiveTime::parse_from_str(t, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
        .map_err(|_| unrecognised())?;
    let today = now.with_timezone(&tz).date_naive();
    let candidate = local_to_utc(today.and_time(time), tz);
    match candidate {
        Some(at) if at <= now => Ok(at),
        _ => {
            let yesterday = today.pred_opt().ok_or_else(unrecognised)?;
            local_to_utc(yesterday.and_time(time), tz)
                .ok_or_else(|| WhenError::Skipped(text.to_string(), tz))
        }
    }
}

/// A time still to come, e.g. when the next update is due: `+2h` or `+1h30m`
/// from now, a local `HH:MM` (today, or tomorrow once it has passed), or
/// anything [`parse_when`] reads.
pub fn parse_future(text: &str, now: DateTime<Utc>, tz: Tz) -> Result<DateTime<Utc>, WhenError> {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix('+')
        && t.len() <= 100
    {
        let ahead =
            parse_relative(rest).ok_or_else(|| WhenError::Unrecognised(text.to_string()))?;
        let at = now
            .checked_add_signed(ahead)
            .ok_or_else(|| WhenError::OutOfRange(text.to_string()))?;
        return if in_range(at) {
            Ok(at)
        } else {
            Err(WhenError::OutOfRange(text.to_string()))
        };
    }
    if let Ok(time) =
        NaiveTime::parse_from_str(t, "%H:%M").or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
    {
        let today = now.with_timezone(&tz).date_naive();
        for day in [Some(today), today.succ_opt()].into_iter().flatten() {
            if let Some(at) = local_to_utc(day.and_time(time), tz)
                && at > now
            {
                return Ok(at);
            }
        }
        return Err(WhenError::Skipped(text.to_string(), tz));
    }
    parse_when(text, now, tz)
}

/// Like [`parse_when`], but refuses an instant after `now` (a breach cannot be
/// identified in the future).
pub fn parse_past(text: &str, now: DateTime<Utc>, tz: Tz) -> Result<DateTime<Utc>, WhenError> {
    let at = parse_any(text, now, tz)?;
    if at > now {
        return Err(WhenError::InFuture {
            text: text.to_string(),
            at,
        });
    }
    if !in_range(at) {
        return Err(WhenError::OutOfRange(text.to_string()));
    }
    Ok(at)
}

/// A local time near enough the accepted range to convert safely (a day
/// either side of it, so the range check is made on the instant).
fn local_in_range(local: NaiveDateTime) -> bool {
    use chrono::Datelike;
    (EARLIEST_YEAR - 1..=END_YEAR).contains(&local.year())
}

/// A local wall-clock time as an instant: the earlier one when ambiguous,
/// `None` when the clocks skipped it.
pub fn local_to_utc(local: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => Some(at.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

/// `-1h30m` -> 90 minutes. Units: d, h, m, s. The leading `-` is optional.
fn parse_relative(text: &str) -> Option<Duration> {
    let body = text.strip_prefix('-').unwrap_or(text);
    if body.is_empty() || !body.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let mut total = Duration::zero();
    let mut number = String::new();
    let mut saw_unit = false;
    for c in body.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().ok()?;
        if n > 100_000 {
            return None;
        }
        number.clear();
        let part = match c.to_ascii_lowercase() {
            'd' => Duration::try_days(n),
            'h' => Duration::try_hours(n),
            'm' => Duration::try_minutes(n),
            's' => Duration::try_seconds(n),
            _ => return None,
        }?;
        total = total.checked_add(&part)?;
        saw_unit = true;
    }
    (number.is_empty() && saw_unit).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .expect("valid test time")
    }

    #[test]
    fn future_times_for_the_next_update() {
        let now = at("2026-11-28T15:00:00Z");
        let tz = chrono_tz::Europe::London;
        assert_eq!(
            parse_future("+2h", now, tz).expect("+2h"),
            at("2026-11-28T17:00:00Z")
        );
        // A time of day still to come is today; one gone by is tomorrow.
        assert_eq!(
            parse_future("17:30", now, tz).expect("17:30"),
            at("2026-11-28T17:30:00Z")
        );
        assert_eq!(
            parse_future("09:00", now, tz).expect("09:00"),
            at("2026-11-29T09:00:00Z")
        );
        assert!(parse_future("+soon", now, tz).is_err());
    }
    const LONDON: Tz = chrono_tz::Europe::London;

    #[test]
    fn forms_that_are_understood() {
        let now = at("2026-07-01T12:00:00Z"); // 13:00 BST
        assert_eq!(parse_when("now", now, LONDON), Ok(now));
        assert_eq!(
            parse_when("-20m", now, LONDON),
            Ok(at("2026-07-01T11:40:00Z"))
        );
        assert_eq!(
            parse_when("-1h30m", now, LONDON),
            Ok(at("2026-07-01T10:30:00Z"))
        );
        assert_eq!(
            parse_when("2h", now, LONDON),
            Ok(at("2026-07-01T10:00:00Z"))
        );
        assert_eq!(
            parse_when("12:05", now, LONDON),
            Ok(at("2026-07-01T11:05:00Z"))
        );
        assert_eq!(
            parse_when("2026-06-30 09:00", now, LONDON),
            Ok(at("2026-06-30T08:00:00Z"))
        );
        assert_eq!(
            parse_when("2026-06-30T09:00:00+02:00", now, LONDON),
            Ok(at("2026-06-30T07:00:00Z"))
        );
        assert_eq!(
            parse_when("2026-12-01", now, LONDON),
            Ok(at("2026-12-01T00:00:00Z"))
        );
    }

    #[test]
    fn hh_mm_after_now_means_yesterday() {
        let now = at("2026-11-28T00:10:00Z"); // 00:10 GMT
        assert_eq!(
            parse_when("23:50", now, LONDON),
            Ok(at("2026-11-27T23:50:00Z"))
        );
    }

    #[test]
    fn clock_changes() {
        let now = at("2026-11-01T00:00:00Z");
        // 25 Oct 2026 01:30 happened twice: the earlier (BST) one is taken.
        assert_eq!(
            parse_when("2026-10-25 01:30", now, LONDON),
            Ok(at("2026-10-25T00:30:00Z"))
        );
        // 29 Mar 2026 01:30 never happened in London.
        assert!(matches!(
            parse_when("2026-03-29 01:30", now, LONDON),
            Err(WhenError::Skipped(..))
        ));
    }

    #[test]
    fn rubbish_and_future_are_refused() {
        let now = at("2026-07-01T12:00:00Z");
        for bad in ["", "soon", "25:00", "-5x", "-", "12:", "2026-13-01", "-5m3"] {
            assert!(
                parse_when(bad, now, LONDON).is_err(),
                "{bad:?} was accepted"
            );
        }
        assert!(matches!(
            parse_past("2026-07-01T12:00:01Z", now, LONDON),
            Err(WhenError::InFuture { .. })
        ));
        assert_eq!(parse_past("2026-07-01T12:00:00Z", now, LONDON), Ok(now));
    }

    #[test]
    fn out_of_range_overflowing_and_long_input_are_errors() {
        let now = at("2026-07-01T12:00:00Z");
        for text in [
            "0001-01-01T00:00:00Z",
            "1989-12-31 23:59",
            "2200-01-01",
            "-100000d",
            "-100000d100000d100000d100000d100000d100000d100000d100000d",
        ] {
            assert_eq!(
                parse_when(text, now, LONDON),
                Err(WhenError::OutOfRange(text.into())),
                "{text}"
            );
        }
        assert!(matches!(
            parse_when("-99999999999999999999s", now, LONDON),
            Err(WhenError::Unrecognised(_))
        ));
        let long = format!("{}m", "1".repeat(200));
        let message = parse_when(&long, now, LONDON)
            .expect_err("too long")
            .to_string();
        assert!(message.contains('…') && message.len() < 400, "{message}");
        assert_eq!(
            parse_when("1990-01-01T00:00:00Z", now, LONDON),
            Ok(at("1990-01-01T00:00:00Z"))
        );
    }
}
