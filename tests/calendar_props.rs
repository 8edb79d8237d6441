//! Property tests of the Working-Day deadline engine, for all three divisions
//! and n in 0..=10, over receipt instants 2012-2031 (plus organisation
//! closure days and different ends of day).
//!
//! `n = 0` is defined as "by the end of the receipt day if that is a Working
//! Day, otherwise by the end of the next Working Day". The single property
//! covering every n: the due date is the EARLIEST Working Day D on or after
//! the local receipt date with `count_working_days(receipt, D) >= n`. For
//! n >= 1 the count is exactly n; for n = 0 it is 0 (receipt on a Working Day)
//! or 1 (receipt on a non-working day).

use breachdesk::domain::calendar::{Division, WorkingCalendar};
use breachdesk::domain::clock::{ClockState, clock_state, notification_due};
use breachdesk::domain::step::{ClockStart, StepClock};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use proptest::prelude::*;

/// 2012-01-01T00:00:00Z .. 2031-01-01T00:00:00Z
const FROM: i64 = 1_325_376_000;
const TO: i64 = 1_924_992_000;

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (FROM..TO).prop_map(|s| DateTime::<Utc>::from_timestamp(s, 0).unwrap_or(DateTime::UNIX_EPOCH))
}

fn division() -> impl Strategy<Value = Division> {
    prop::sample::select(Division::ALL.to_vec())
}

fn end_of_day() -> impl Strategy<Value = NaiveTime> {
    prop::sample::select(vec![
        NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN),
        NaiveTime::from_hms_opt(17, 30, 0).unwrap_or(NaiveTime::MIN),
        NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
        NaiveTime::from_hms_opt(0, 30, 0).unwrap_or(NaiveTime::MIN),
    ])
}

/// A calendar with a division, an end of day and a few random closure days
/// near the receipt instant (so they actually interfere).
fn calendar_near(at: DateTime<Utc>) -> impl Strategy<Value = WorkingCalendar> {
    let base = at.date_naive();
    (
        division(),
        end_of_day(),
        prop::collection::vec(0i64..20, 0..4),
    )
        .prop_map(move |(div, eod, offsets)| {
            WorkingCalendar::new(div, chrono_tz::Europe::London)
                .with_end_of_day(eod)
                .with_closures(offsets.into_iter().map(|o| base + Duration::days(o)))
        })
}

fn case() -> impl Strategy<Value = (DateTime<Utc>, WorkingCalendar, u32)> {
    instant().prop_flat_map(|at| (Just(at), calendar_near(at), 0u32..=10))
}

fn local_date(cal: &WorkingCalendar, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&cal.tz()).date_naive()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn due_is_end_of_day_on_a_working_day((at, cal, n) in case()) {
        let due = cal.working_days_after(at, n);
        let local = due.with_timezone(&cal.tz());
        prop_assert!(cal.is_working_day(local.date_naive()), "due {local} is not a Working Day");
        prop_assert_eq!(local.time(), cal.end_of_day());
    }

    #[test]
    fn due_is_not_before_the_first_working_day_after_receipt((at, cal, n) in case()) {
        let receipt = local_date(&cal, at);
        let due_date = local_date(&cal, cal.working_days_after(at, n));
        let floor = if n == 0 {
            cal.working_day_on_or_after(receipt)
        } else {
            cal.next_working_day(receipt)
        };
        prop_assert!(due_date >= floor, "due {due_date} < first Working Day {floor}");
        prop_assert!(due_date > receipt || (n == 0 && due_date == receipt));
    }

    #[test]
    fn count_agrees_with_due((at, cal, n) in case()) {
        let receipt = local_date(&cal, at);
        let due_date = local_date(&cal, cal.working_days_after(at, n));
        let count = cal.count_working_days(receipt, due_date);
        if n >= 1 {
            prop_assert_eq!(count, n);
        } else {
            prop_assert_eq!(count, u32::from(!cal.is_working_day(receipt)));
        }
        // Minimality: no earlier Working Day on or after receipt reaches n.
        let mut d = receipt;
        while d < due_date {
            if cal.is_working_day(d) {
                prop_assert!(cal.count_working_days(receipt, d) < n.max(1),
                    "{d} already reaches {n} Working Days");
            }
            d = d.succ_opt().unwrap_or(due_date);
        }
    }

    #[test]
    fn due_is_monotonic_in_receipt_time(
        (at, cal, n) in case(),
        later_by in 0i64..(10 * 86_400),
    ) {
        let later = at + Duration::seconds(later_by);
        prop_assert!(cal.working_days_after(at, n) <= cal.working_days_after(later, n));
    }

    #[test]
    fn due_is_monotonic_in_n((at, cal, n) in case()) {
        prop_assert!(cal.working_days_after(at, n) <= cal.working_days_after(at, n + 1));
        if n >= 1 {
            prop_assert!(cal.working_days_after(at, n) < cal.working_days_after(at, n + 1));
        }
    }

    #[test]
    fn count_is_additive(
        div in division(),
        start in 0i64..7000,
        a in 0i64..40,
        b in 0i64..40,
    ) {
        let cal = WorkingCalendar::new(div, chrono_tz::Europe::London);
        let base = NaiveDate::from_ymd_opt(2012, 1, 1).unwrap_or(NaiveDate::MIN);
        let x = base + Duration::days(start);
        let y = x + Duration::days(a);
        let z = y + Duration::days(b);
        prop_assert_eq!(
            cal.count_working_days(x, z),
            cal.count_working_days(x, y) + cal.count_working_days(y, z)
        );
        prop_assert_eq!(cal.count_working_days(z, x), 0);
    }

    #[test]
    fn working_days_clock_matches_calendar((at, cal, n) in case()) {
        prop_assume!(n >= 1);
        prop_assert_eq!(StepClock::working_days(n, ClockStart::Identified).due(at, &cal), cal.working_days_after(at, n));
    }

    #[test]
    fn hours_clock_and_notification_are_elapsed_time(at in instant(), h in 1u32..=8760) {
        let cal = WorkingCalendar::default();
        prop_assert_eq!(StepClock::hours(h, ClockStart::Identified).due(at, &cal) - at, Duration::hours(i64::from(h)));
        prop_assert_eq!(notification_due(at) - at, Duration::hours(1));
    }

    #[test]
    fn clock_state_is_consistent(
        due in instant(),
        now_off in -200_000i64..200_000,
        done_off in prop::option::of(-200_000i64..200_000),
    ) {
        let now = due + Duration::seconds(now_off);
        let done = done_off.map(|o| due + Duration::seconds(o));
        match clock_state(due, done, now) {
            ClockState::Running { remaining } => {
                prop_assert!(done.is_none() && now <= due);
                prop_assert_eq!(now + remaining, due);
            }
            ClockState::Overdue { by } => {
                prop_assert!(done.is_none() && now > due && by > Duration::zero());
                prop_assert_eq!(due + by, now);
            }
            ClockState::MetOnTime { margin } => {
                let d = done.unwrap_or(DateTime::UNIX_EPOCH);
                prop_assert!(done.is_some() && d <= due);
                prop_assert_eq!(d + margin, due);
            }
            ClockState::MetLate { by } => {
                let d = done.unwrap_or(DateTime::UNIX_EPOCH);
                prop_assert!(done.is_some() && d > due && by > Duration::zero());
                prop_assert_eq!(due + by, d);
            }
        }
    }
}

proptest! {
    /// The organisation's closure days never move a contractual deadline.
    #[test]
    fn closures_never_move_a_deadline((at, cal, n) in case()) {
        let plain = WorkingCalendar::new(cal.division(), cal.tz()).with_end_of_day(cal.end_of_day());
        prop_assert_eq!(cal.working_days_after(at, n), plain.working_days_after(at, n));
    }
}
