//! Worked examples of Working-Day deadlines and clocks (fixed instants only:
//! these tests never read the system clock).

use breachdesk::domain::calendar::{Division, WorkingCalendar};
use breachdesk::domain::clock::{
    ClockState, DATA_REQUEST_WORKING_DAYS, NOTIFICATION_WINDOW_HOURS, clock_state,
    format_duration_short, notification_due,
};
use breachdesk::domain::step::{ClockStart, StepClock};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Europe::London;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad instant {s}: {e}"))
        .with_timezone(&Utc)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn cal(div: Division) -> WorkingCalendar {
    WorkingCalendar::new(div, London)
}

#[test]
fn defaults() {
    let c = cal(Division::EnglandAndWales);
    assert_eq!(c.division(), Division::EnglandAndWales);
    assert_eq!(c.tz(), London);
    assert_eq!(
        c.end_of_day(),
        NaiveTime::from_hms_opt(23, 59, 59).expect("t")
    );
    assert_eq!(WorkingCalendar::default(), c);
    assert_eq!(DATA_REQUEST_WORKING_DAYS, 2);
    assert_eq!(NOTIFICATION_WINDOW_HOURS, 1);
}

#[test]
fn christmas_2026_england_and_wales() {
    // Wednesday 23 December 2026, any time of day: Thursday 24th is Working
    // Day 1; 25th (Christmas), 26th-27th (weekend), 28th (Boxing Day
    // substitute) do not count; Tuesday 29th is Working Day 2.
    let c = cal(Division::EnglandAndWales);
    for t in [
        "2026-12-23T00:00:00Z",
        "2026-12-23T09:15:00Z",
        "2026-12-23T23:59:59Z",
    ] {
        assert_eq!(
            c.working_days_after(utc(t), DATA_REQUEST_WORKING_DAYS),
            utc("2026-12-29T23:59:59Z"),
            "{t}"
        );
    }
    assert_eq!(
        c.count_working_days(date(2026, 12, 23), date(2026, 12, 29)),
        2
    );
}

#[test]
fn saturday_receipt_starts_counting_on_monday() {
    let c = cal(Division::EnglandAndWales);
    let sat = utc("2026-11-07T10:00:00Z");
    assert_eq!(c.working_days_after(sat, 1), utc("2026-11-09T23:59:59Z"));
    assert_eq!(c.working_days_after(sat, 2), utc("2026-11-10T23:59:59Z"));
    // n = 0: end of the next Working Day when received on a non-working day...
    assert_eq!(c.working_days_after(sat, 0), utc("2026-11-09T23:59:59Z"));
    // ...and end of the same day when received on a Working Day.
    assert_eq!(
        c.working_days_after(utc("2026-11-09T10:00:00Z"), 0),
        utc("2026-11-09T23:59:59Z")
    );
}

#[test]
fn friday_in_bst_due_after_clocks_go_back() {
    // Friday 23 October 2026 12:00 BST; clocks go back Sunday 25 October.
    // Due Tuesday 27 October 23:59:59 GMT = 23:59:59Z.
    let c = cal(Division::EnglandAndWales);
    let got = c.working_days_after(utc("2026-10-23T11:00:00Z"), 2);
    assert_eq!(got, utc("2026-10-27T23:59:59Z"));
    // The same in spring: Friday 27 March 2026 (GMT), clocks go forward on
    // Sunday 29th; due Tuesday 31 March 23:59:59 BST = 22:59:59Z.
    let got = c.working_days_after(utc("2026-03-27T11:00:00Z"), 2);
    assert_eq!(got, utc("2026-03-31T22:59:59Z"));
}

#[test]
fn scotland_around_new_year() {
    // Wednesday 31 December 2025. In Scotland 1 and 2 January are both bank
    // holidays: Monday 5th is Working Day 1, Tuesday 6th Working Day 2.
    let received = utc("2025-12-31T15:00:00Z");
    assert_eq!(
        cal(Division::Scotland).working_days_after(received, 2),
        utc("2026-01-06T23:59:59Z")
    );
    // In England and Wales Friday 2 January is a Working Day.
    assert_eq!(
        cal(Division::EnglandAndWales).working_days_after(received, 2),
        utc("2026-01-05T23:59:59Z")
    );
    // Scotland 2027: 1 January Friday, 2 January Saturday -> Monday 4th.
    assert_eq!(
        cal(Division::Scotland).working_days_after(utc("2026-12-31T12:00:00Z"), 1),
        utc("2027-01-05T23:59:59Z")
    );
}

#[test]
fn northern_ireland_around_the_twelfth() {
    // 12 July 2026 is a Sunday; NI observes Monday 13th. Received Friday 10th
    // (BST): NI Working Days are Tue 14th, Wed 15th -> 23:59:59 BST = 22:59:59Z.
    let received = utc("2026-07-10T08:00:00Z");
    assert_eq!(
        cal(Division::NorthernIreland).working_days_after(received, 2),
        utc("2026-07-15T22:59:59Z")
    );
    assert_eq!(
        cal(Division::EnglandAndWales).working_days_after(received, 2),
        utc("2026-07-14T22:59:59Z")
    );
}

#[test]
fn scotland_world_cup_bank_holiday() {
    let received = utc("2026-06-12T09:00:00Z"); // Friday
    assert_eq!(
        cal(Division::Scotland).working_days_after(received, 1),
        utc("2026-06-16T22:59:59Z")
    );
    assert_eq!(
        cal(Division::EnglandAndWales).working_days_after(received, 1),
        utc("2026-06-15T22:59:59Z")
    );
}

#[test]
fn close_of_business_1730_in_bst_is_1630_utc() {
    let c = cal(Division::EnglandAndWales)
        .with_end_of_day(NaiveTime::from_hms_opt(17, 30, 0).expect("t"));
    // Monday 1 June 2026 -> Tuesday 2 June 17:30 BST.
    assert_eq!(
        c.working_days_after(utc("2026-06-01T08:00:00Z"), 1),
        utc("2026-06-02T16:30:00Z")
    );
    // And in winter 17:30 GMT is 17:30Z.
    assert_eq!(
        c.working_days_after(utc("2026-12-01T08:00:00Z"), 1),
        utc("2026-12-02T17:30:00Z")
    );
}

#[test]
fn closure_days_never_move_a_contractual_deadline() {
    let open = cal(Division::EnglandAndWales);
    let c = open
        .clone()
        .with_closures([date(2026, 12, 24), date(2026, 12, 29)]);
    // The contract's Working Day does not depend on the office: the 24th and
    // 29th still count, and the deadline is the same as with no closures.
    assert!(c.is_working_day(date(2026, 12, 24)));
    assert!(c.is_closure_day(date(2026, 12, 24)));
    assert!(!c.is_closure_day(date(2026, 12, 30)));
    let due = c.working_days_after(utc("2026-12-23T10:00:00Z"), 2);
    assert_eq!(due, open.working_days_after(utc("2026-12-23T10:00:00Z"), 2));
    // 23rd receipt; 24th is Working Day 1, 25th/26th/27th/28th are not
    // Working Days, 29th is Working Day 2.
    assert_eq!(due, utc("2026-12-29T23:59:59Z"));
    // A deadline on a closure day warns, and says it does not move.
    let warning = c.closed_on(due).expect("closed on the 29th");
    assert!(warning.contains("Tue 29 Dec 2026"), "{warning}");
    assert!(warning.contains("does not move"), "{warning}");
    assert_eq!(c.closed_on(utc("2026-12-30T23:59:59Z")), None);
    assert_eq!(c.closures().count(), 2);
}

#[test]
fn late_evening_utc_in_summer_is_the_next_local_day() {
    let c = cal(Division::EnglandAndWales);
    // Tuesday 14 July 2026 23:30Z is Wednesday 15 July 00:30 BST: the receipt
    // day is Wednesday, so 1 Working Day is Thursday 16th.
    assert_eq!(
        c.working_days_after(utc("2026-07-14T23:30:00Z"), 1),
        utc("2026-07-16T22:59:59Z")
    );
    // 22:30Z is still Tuesday 23:30 BST: due Wednesday 15th.
    assert_eq!(
        c.working_days_after(utc("2026-07-14T22:30:00Z"), 1),
        utc("2026-07-15T22:59:59Z")
    );
    // In winter 23:30Z is 23:30 GMT, the same day.
    assert_eq!(
        c.working_days_after(utc("2026-01-13T23:30:00Z"), 1),
        utc("2026-01-14T23:59:59Z")
    );
}

#[test]
fn count_working_days_edges() {
    let c = cal(Division::EnglandAndWales);
    let mon = date(2026, 11, 9);
    assert_eq!(c.count_working_days(mon, mon), 0);
    assert_eq!(c.count_working_days(mon, date(2026, 11, 2)), 0);
    assert_eq!(c.count_working_days(mon, date(2026, 11, 13)), 4);
    assert_eq!(c.count_working_days(mon, date(2026, 11, 16)), 5);
    // A whole year: 365 days - 104 weekend days - 8 bank holidays = 253 in 2026.
    assert_eq!(
        c.count_working_days(date(2025, 12, 31), date(2026, 12, 31)),
        253
    );
}

#[test]
fn clock_spec_due_and_describe() {
    let c = cal(Division::EnglandAndWales);
    let start = utc("2026-10-24T12:00:00Z"); // Saturday before the clocks go back
    // Elapsed hours ignore the GMT/BST change and the weekend.
    assert_eq!(
        StepClock::hours(72, ClockStart::Identified).due(start, &c),
        utc("2026-10-27T12:00:00Z")
    );
    assert_eq!(
        StepClock::working_days(2, ClockStart::Identified).due(start, &c),
        utc("2026-10-27T23:59:59Z")
    );
    assert_eq!(
        StepClock::hours(1, ClockStart::Identified).describe_length(),
        "1 hour"
    );
    assert_eq!(
        StepClock::hours(72, ClockStart::Identified).describe_length(),
        "72 hours"
    );
    assert_eq!(
        StepClock::working_days(1, ClockStart::Identified).describe_length(),
        "1 Working Day"
    );
    assert_eq!(
        StepClock::working_days(2, ClockStart::Identified).describe_length(),
        "2 Working Days"
    );
    assert_eq!(
        StepClock::working_days(2, ClockStart::RequestReceived).to_string(),
        "2 Working Days from each request's receipt"
    );
}

#[test]
fn step_clock_toml_form_and_validation() {
    #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
    struct Step {
        clock: StepClock,
    }
    let parse = |s: &str| toml::from_str::<Step>(s).map(|s| s.clock);
    assert_eq!(
        parse("clock = { hours = 72, from = \"identified\" }").ok(),
        Some(StepClock::hours(72, ClockStart::Identified))
    );
    assert_eq!(
        parse("clock = { working_days = 2, from = \"request-received\" }").ok(),
        Some(StepClock::working_days(2, ClockStart::RequestReceived))
    );
    assert_eq!(
        parse("[clock]\nworking_days = 2\nfrom = \"aware\"\ninternal = true").ok(),
        Some(StepClock {
            internal: true,
            ..StepClock::working_days(2, ClockStart::Aware)
        })
    );
    // Errors: both, neither, unknown field, zero, absurd, negative, wrong
    // type, no start, an unknown start.
    for bad in [
        "clock = { hours = 72, working_days = 2, from = \"identified\" }",
        "clock = { from = \"identified\" }",
        "clock = { days = 2, from = \"identified\" }",
        "clock = { hours = 72, minutes = 5, from = \"identified\" }",
        "clock = { hours = 0, from = \"identified\" }",
        "clock = { working_days = 0, from = \"identified\" }",
        "clock = { hours = 8761, from = \"identified\" }",
        "clock = { working_days = 261, from = \"identified\" }",
        "clock = { hours = -1, from = \"identified\" }",
        "clock = { hours = \"72\", from = \"identified\" }",
        "clock = { hours = 72 }",
        "clock = { hours = 72, from = \"tuesday\" }",
    ] {
        assert!(parse(bad).is_err(), "accepted: {bad}");
    }
    let err = parse("clock = { hours = 72, working_days = 2, from = \"identified\" }")
        .expect_err("both")
        .to_string();
    assert!(err.contains("exactly one"), "{err}");
    // Limits are inclusive.
    assert_eq!(
        parse("clock = { hours = 8760, from = \"identified\" }").ok(),
        Some(StepClock::hours(8760, ClockStart::Identified))
    );
    assert_eq!(
        parse("clock = { working_days = 260, from = \"identified\" }").ok(),
        Some(StepClock::working_days(260, ClockStart::Identified))
    );
    // validate() directly.
    let from = || ClockStart::Identified;
    assert!(StepClock::hours(1, from()).validate().is_ok());
    assert!(StepClock::hours(0, from()).validate().is_err());
    assert!(StepClock::hours(8761, from()).validate().is_err());
    assert!(StepClock::working_days(0, from()).validate().is_err());
    assert!(StepClock::working_days(261, from()).validate().is_err());
    // Serializes back to the same form.
    for clock in [
        StepClock::hours(72, ClockStart::StepDone("8.1".into())),
        StepClock {
            internal: true,
            ..StepClock::working_days(2, ClockStart::Logged)
        },
    ] {
        let text = toml::to_string(&Step {
            clock: clock.clone(),
        })
        .expect("serialize");
        assert_eq!(parse(&text).ok(), Some(clock), "{text}");
    }
}

#[test]
fn notification_due_is_exactly_one_hour_even_across_dst() {
    let t = utc("2026-11-28T12:34:56Z");
    assert_eq!(notification_due(t), utc("2026-11-28T13:34:56Z"));
    // Last Sunday of March 2026: clocks go forward at 01:00Z. 00:30Z (00:30
    // GMT) is due at 01:30Z (02:30 BST): one hour of elapsed time.
    assert_eq!(
        notification_due(utc("2026-03-29T00:30:00Z")),
        utc("2026-03-29T01:30:00Z")
    );
    // Last Sunday of October 2026: clocks go back at 01:00Z.
    assert_eq!(
        notification_due(utc("2026-10-25T00:30:00Z")),
        utc("2026-10-25T01:30:00Z")
    );
    assert_eq!(notification_due(t) - t, Duration::hours(1));
}

#[test]
fn clock_state_at_every_boundary() {
    let due = utc("2026-12-29T23:59:59Z");
    let ns = Duration::nanoseconds(1);
    let min = Duration::minutes(23);
    // Running: before due, and exactly at due with zero remaining.
    assert_eq!(
        clock_state(due, None, due - min),
        ClockState::Running { remaining: min }
    );
    assert_eq!(
        clock_state(due, None, due),
        ClockState::Running {
            remaining: Duration::zero()
        }
    );
    // Overdue from the next instant.
    assert_eq!(
        clock_state(due, None, due + ns),
        ClockState::Overdue { by: ns }
    );
    assert_eq!(
        clock_state(due, None, due + min),
        ClockState::Overdue { by: min }
    );
    // Done exactly at due: on time with zero margin.
    assert_eq!(
        clock_state(due, Some(due), due + min),
        ClockState::MetOnTime {
            margin: Duration::zero()
        }
    );
    assert_eq!(
        clock_state(due, Some(due - min), due),
        ClockState::MetOnTime { margin: min }
    );
    assert_eq!(
        clock_state(due, Some(due + ns), due),
        ClockState::MetLate { by: ns }
    );
    assert_eq!(
        clock_state(due, Some(due + min), due + min + min),
        ClockState::MetLate { by: min }
    );
    // Once done, `now` does not matter.
    let done = Some(due - min);
    assert_eq!(
        clock_state(due, done, due - Duration::days(3)),
        clock_state(due, done, due + Duration::days(3))
    );
}

#[test]
fn short_durations() {
    let cases = [
        (Duration::zero(), "0 s"),
        (Duration::seconds(45), "45 s"),
        (Duration::seconds(59), "59 s"),
        (Duration::seconds(60), "1 min"),
        (Duration::minutes(23), "23 min"),
        (Duration::seconds(23 * 60 + 59), "23 min"),
        (Duration::minutes(59), "59 min"),
        (Duration::minutes(60), "1 h"),
        (Duration::minutes(65), "1 h 05 min"),
        (Duration::minutes(23 * 60 + 59), "23 h 59 min"),
        (Duration::hours(24), "1 d"),
        (Duration::hours(51), "2 d 3 h"),
        (Duration::hours(51) + Duration::minutes(59), "2 d 3 h"),
        (Duration::days(400), "400 d"),
        (-Duration::minutes(23), "-23 min"),
        (-Duration::hours(51), "-2 d 3 h"),
    ];
    for (d, want) in cases {
        assert_eq!(format_duration_short(d), want, "{d:?}");
    }
}
