//! No panic on any input: property tests of the WHEN parser, the id
//! resolver and record parsing with arbitrary input, and the real binary
//! given absurd times and megabyte arguments (a clear one-line error each).

mod support;

use breachdesk::domain::when::{EARLIEST_YEAR, END_YEAR, in_range, parse_past, parse_when};
use breachdesk::store::Store;
use chrono::{DateTime, Datelike, Utc};
use proptest::prelude::*;
use std::ffi::OsString;
use support::Bin;

const LONDON: chrono_tz::Tz = chrono_tz::Europe::London;

fn now() -> DateTime<Utc> {
    support::now()
}

/// Whatever happens, a result is in range and a past time is not after now.
fn check_when(text: &str) {
    if let Ok(at) = parse_when(text, now(), LONDON) {
        assert!(in_range(at), "{text:?} gave {at}");
    }
    if let Ok(at) = parse_past(text, now(), LONDON) {
        assert!(at <= now() && in_range(at), "{text:?} gave {at}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn when_parser_never_panics_on_any_text(text in ".{0,200}") {
        check_when(&text);
    }

    #[test]
    fn when_parser_never_panics_on_relative_times(
        text in "-?([0-9]{1,25}[dhmsDHMSx]){1,12}[0-9]{0,3}"
    ) {
        check_when(&text);
    }

    #[test]
    fn when_parser_never_panics_on_extreme_dates(
        text in "[+-]?[0-9]{1,7}-[0-9]{1,2}-[0-9]{1,2}([ T][0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2})?)?(Z|[+-][0-9]{2}:[0-9]{2})?"
    ) {
        check_when(&text);
    }

    #[test]
    fn when_parser_accepts_any_in_range_rfc3339(secs in 631_152_000i64..7_258_118_400) {
        // 1990-01-01 .. 2200-01-01
        let at = DateTime::<Utc>::from_timestamp(secs, 0).expect("in range");
        let text = at.to_rfc3339();
        prop_assert_eq!(parse_when(&text, now(), LONDON), Ok(at));
    }
}

#[test]
fn absurd_times_are_clear_errors() {
    for text in [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1989-12-31T23:59:59Z",
        "0001-01-01 00:00",
        "9999-12-31",
        "-99999999999999999999999d",
        "-100000d100000d100000d100000d100000d",
        "-9223372036854775807s",
    ] {
        let err = parse_when(text, now(), LONDON).expect_err(text);
        assert!(!err.to_string().contains('\n'), "{err}");
    }
    assert!(parse_when("1990-01-01T00:00:00Z", now(), LONDON).is_ok());
    assert_eq!(
        parse_when(&format!("{}-12-31T23:59:59Z", END_YEAR - 1), now(), LONDON).map(|t| t.year()),
        Ok(END_YEAR - 1)
    );
    assert_eq!(EARLIEST_YEAR, 1990);
    // A megabyte of text is refused, and not echoed back in full.
    let huge = "1".repeat(1 << 20);
    let err = parse_when(&huge, now(), LONDON).expect_err("huge");
    assert!(err.to_string().len() < 400, "{}", err.to_string().len());
}

fn store_with_incidents() -> (tempfile::TempDir, Store, Vec<String>) {
    let fx = support::fixture();
    let ids = [
        "INC-20260310-1200-aaaaaa",
        "INC-20260310-1201-aaaabb",
        "INC-X",
    ];
    for id in ids {
        fx.incident(id, "t", support::minutes(30));
    }
    let store = fx.store.clone();
    (fx.dir, store, ids.iter().map(|s| s.to_string()).collect())
}

#[test]
fn id_resolver_never_panics_and_only_names_real_incidents() {
    let (_dir, store, ids) = store_with_incidents();
    for id in &ids {
        assert_eq!(store.resolve_id(id).ok().as_ref(), Some(id));
    }
    proptest!(ProptestConfig::with_cases(512), |(text in "\\PC{0,120}|[a-zA-Z0-9_./-]{0,30}")| {
        if let Ok(id) = store.resolve_id(&text) {
            prop_assert!(ids.contains(&id), "{:?} resolved to {}", text, id);
        }
    });
    let huge = "a".repeat(1 << 20);
    let err = store.resolve_id(&huge).expect_err("huge");
    assert!(err.to_string().len() < 400);
}

#[test]
fn record_parsing_never_panics_on_arbitrary_bytes() {
    let (_dir, store, ids) = store_with_incidents();
    let target = store.record_path("INC-X");
    let valid = std::fs::read(store.record_path(&ids[0])).expect("a valid record");
    let valid_for_x = String::from_utf8_lossy(&valid)
        .replacen(&ids[0], "INC-X", 1)
        .into_bytes();
    let mutated = (
        proptest::collection::vec((0usize..valid_for_x.len(), any::<u8>()), 0..8),
        0usize..=valid_for_x.len(),
    )
        .prop_map(move |(flips, cut)| {
            let mut bytes = valid_for_x.clone();
            for (at, b) in flips {
                bytes[at] = b;
            }
            bytes.truncate(cut);
            bytes
        });
    let arbitrary = proptest::collection::vec(any::<u8>(), 0..2048);
    proptest!(ProptestConfig::with_cases(256), |(bytes in prop_oneof![mutated, arbitrary])| {
        std::fs::write(&target, &bytes).expect("write");
        if let Ok(incident) = store.load("INC-X") {
            // Whatever parsed can be summarised and shown.
            let _ = breachdesk::domain::summary::IncidentSummary::of(&incident);
            let _ = breachdesk::export::text(&incident, LONDON, now());
            let _ = breachdesk::export::markdown(&incident, LONDON, now());
            let _ = breachdesk::export::ics(&incident, now(), Some("OFFICIAL"));
            prop_assert_eq!(incident.id, "INC-X");
        }
        // Loading everything quarantines what will not parse, never panics,
        // and keeps the good records.
        let report = store.load_all();
        for id in &ids[..2] {
            prop_assert!(report.incidents.iter().any(|i| &i.id == id));
        }
    });
}

#[test]
fn the_binary_refuses_absurd_times_in_one_line() {
    let bin = Bin::new();
    let id = bin.new_incident("Times", "-30m");
    let checks: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "new",
                "--title",
                "x",
                "--identified-at",
                "0001-01-01T00:00:00Z",
            ],
            "outside",
        ),
        (
            vec![
                "new",
                "--title",
                "x",
                "--identified-at",
                "9999-12-31T23:59:59Z",
            ],
            "in the future",
        ),
        (
            vec!["new", "--title", "x", "--identified-at", "1985-06-01 10:00"],
            "outside",
        ),
        (
            vec![
                "new",
                "--title",
                "x",
                "--identified-at",
                "2199-01-01T00:00:00Z",
            ],
            "in the future",
        ),
        (
            vec![
                "new",
                "--title",
                "x",
                "--identified-at",
                "-99999999999999999999d",
            ],
            "not a time",
        ),
        (
            vec![
                "new",
                "--title",
                "x",
                "--identified-at",
                "-100000d100000d100000d",
            ],
            "outside",
        ),
        (
            vec![
                "request",
                "add",
                &id,
                "--from",
                "client",
                "--what",
                "logs",
                "--received",
                "1980-01-01T00:00:00Z",
            ],
            "outside",
        ),
        (
            vec![
                "notify",
                &id,
                "--channel",
                "phone",
                "--to",
                "CSR",
                "--at",
                "0001-01-01T00:00:00Z",
            ],
            "outside",
        ),
        (
            vec![
                "notify",
                &id,
                "--channel",
                "phone",
                "--to",
                "CSR",
                "--at",
                "-2h",
            ],
            "before the breach was identified",
        ),
        (
            vec![
                "due",
                "--from",
                "9999-12-31T00:00:00Z",
                "--hours",
                "1000000",
            ],
            "outside",
        ),
        (
            vec!["due", "--from", "-100000d", "--working-days", "10000"],
            "outside",
        ),
        (
            vec!["workdays", "--from", "0001-01-01", "--to", "9999-12-31"],
            "outside",
        ),
        (vec!["holidays", "--year", "99999"], "outside"),
    ];
    for (args, needle) in checks {
        let err = bin.fails(&args);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
    // Nothing was recorded by any of them.
    let shown = bin.ok(&["show", &id, "--format", "json"]);
    assert!(shown.contains("\"data_requests\": []"), "{shown}");
    assert!(!shown.contains("\"made_at\""), "{shown}");
    // Nor can moving the identified time put the notification before it.
    bin.ok(&[
        "notify",
        &id,
        "--channel",
        "phone",
        "--to",
        "CSR",
        "--at",
        "-20m",
    ]);
    let err = bin.fails(&["edit", &id, "--identified-at", "-10m", "--reason", "typo"]);
    assert!(
        err.contains("a notification cannot come before the breach was identified"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn megabyte_arguments_are_clear_errors() {
    let bin = Bin::new();
    let id = bin.new_incident("Big args", "-5m");
    // One argument can be at most 128 KiB on Linux; a megabyte comes as many.
    let piece = "x".repeat(131_071);
    let mut args: Vec<OsString> = vec!["log".into(), id.clone().into()];
    args.extend(std::iter::repeat_n(OsString::from(&piece), 8));
    let err = bin.fails(&args);
    assert!(err.contains("argument 3 is 131071 bytes long"), "{err}");
    assert!(err.len() < 400, "the text is not echoed: {}", err.len());
    let small = "y".repeat(50_000);
    let mut args: Vec<OsString> = vec!["log".into(), id.clone().into()];
    args.extend(std::iter::repeat_n(OsString::from(&small), 20));
    let err = bin.fails(&args);
    assert!(
        err.contains("more than 262144 bytes long together"),
        "{err}"
    );
    let err = bin.fails(&["new", "--title", &piece]);
    assert!(err.contains("at most 65536 bytes"), "{err}");
    // Under the limits it works.
    bin.ok(&["log", &id, &"z".repeat(60_000)]);
}
