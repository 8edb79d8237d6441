//! Unit tests of `calendar`.

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

#[test]
fn one_offs_asset_parses() {
    let parsed = parse_one_offs(ONE_OFFS_TOML);
    assert!(parsed.is_ok(), "{:?}", parsed.err());
    let parsed = parsed.expect("checked");
    assert!(parsed.moved.len() >= 5);
    assert!(parsed.extra.len() >= 8);
}

#[test]
fn every_move_matches_a_regular_holiday() {
    for m in &ONE_OFFS.moved {
        for &div in &m.divisions {
            let regular = regular_holidays(div, m.from.year());
            assert!(
                regular.iter().any(|h| h.date == m.from),
                "moved.from {} is not a regular {div} holiday",
                m.from
            );
        }
    }
}

#[test]
fn extras_do_not_collide_with_regular_holidays_or_weekends() {
    for x in &ONE_OFFS.extra {
        assert!(!is_weekend(x.date), "extra {} is on a weekend", x.date);
        for &div in &x.divisions {
            let regular = regular_holidays(div, x.date.year());
            assert!(
                regular.iter().all(|h| h.date != x.date),
                "extra {} collides with a regular {div} holiday",
                x.date
            );
        }
    }
}

#[test]
fn parse_errors_are_reported() {
    assert!(parse_one_offs("[[extra]]\ndivisions = []\ndate = 2020-01-01\ntitle = \"x\"").is_err());
    assert!(
        parse_one_offs("[[extra]]\ndivisions = [\"wales\"]\ndate = 2020-01-01\ntitle = \"x\"")
            .is_err()
    );
    assert!(
        parse_one_offs(
            "[[extra]]\ndivisions = [\"scotland\"]\ndate = 2020-01-01T10:00:00\ntitle = \"x\""
        )
        .is_err()
    );
    assert!(
        parse_one_offs(
            "[[moved]]\ndivisions = [\"scotland\"]\nfrom = 2020-12-28\nto = 2021-01-04\ntitle = \"x\""
        )
        .is_err()
    );
    assert!(parse_one_offs("[[bogus]]\n").is_err());
    assert!(parse_one_offs("").is_ok());
}

#[test]
fn easter_known_dates() {
    for (y, m, d) in [
        (1818, 3, 22),
        (1943, 4, 25),
        (2000, 4, 23),
        (2008, 3, 23),
        (2011, 4, 24),
        (2019, 4, 21),
        (2024, 3, 31),
        (2025, 4, 20),
        (2026, 4, 5),
        (2027, 3, 28),
        (2028, 4, 16),
        (2029, 4, 1),
        (2030, 4, 21),
        (2038, 4, 25),
    ] {
        assert_eq!(easter_sunday(y), Some(date(y, m, d)), "Easter {y}");
    }
}

#[test]
fn substitution_rules() {
    // 2021: Christmas Saturday -> Monday 27, Boxing Day Sunday -> Tuesday 28.
    let h = regular_holidays(Division::EnglandAndWales, 2021);
    assert!(
        h.iter()
            .any(|h| h.date == date(2021, 12, 27) && h.title == "Christmas Day" && h.substitute)
    );
    assert!(
        h.iter()
            .any(|h| h.date == date(2021, 12, 28) && h.title == "Boxing Day" && h.substitute)
    );
    // 2022: Christmas Sunday -> Tuesday 27; Boxing Day stays Monday 26.
    let h = regular_holidays(Division::EnglandAndWales, 2022);
    assert!(
        h.iter()
            .any(|h| h.date == date(2022, 12, 26) && h.title == "Boxing Day" && !h.substitute)
    );
    assert!(
        h.iter()
            .any(|h| h.date == date(2022, 12, 27) && h.title == "Christmas Day" && h.substitute)
    );
    // Scotland 2022: 1 Jan Saturday -> Monday 3, 2 Jan Sunday -> Tuesday 4.
    let h = regular_holidays(Division::Scotland, 2022);
    assert_eq!(h[0].date, date(2022, 1, 3));
    assert_eq!(h[1].date, date(2022, 1, 4));
}

#[test]
fn division_names_round_trip() {
    for d in Division::ALL {
        assert_eq!(d.to_string().parse::<Division>(), Ok(d));
    }
    let err = "wales".parse::<Division>().expect_err("unknown");
    let msg = err.to_string();
    assert!(
        msg.contains("england-and-wales")
            && msg.contains("scotland")
            && msg.contains("northern-ireland")
    );
    assert_eq!(Division::default(), Division::EnglandAndWales);
}

#[test]
fn nonexistent_and_ambiguous_local_times() {
    let london = chrono_tz::Europe::London;
    // Spring forward 2026-03-29 01:00 GMT -> 02:00 BST: 01:30 does not exist.
    let t = local_to_utc(london, date(2026, 3, 29).and_hms_opt(1, 30, 0).expect("t"));
    assert_eq!(
        t,
        date(2026, 3, 29)
            .and_hms_opt(1, 30, 0)
            .expect("t")
            .and_utc()
    );
    // Fall back 2026-10-25 02:00 BST -> 01:00 GMT: 01:30 happens twice; earlier wins.
    let t = local_to_utc(london, date(2026, 10, 25).and_hms_opt(1, 30, 0).expect("t"));
    assert_eq!(
        t,
        date(2026, 10, 25)
            .and_hms_opt(0, 30, 0)
            .expect("t")
            .and_utc()
    );
}
