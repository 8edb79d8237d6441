//! The bank holidays 2012-2030 of all three UK divisions, compared with
//! `bank_holidays()`.
//!
//! The expected dates are DATA, derived independently of the implementation:
//!
//! * 2012-2027: the UK government's published `bank-holidays.json` (gov.uk,
//!   keys `england-and-wales`, `scotland`, `northern-ireland`), as vendored in
//!   public repositories at various dates:
//!   2012-2016 from snapshots covering 2012-2015 / 2012-2016
//!   (plawtr/week-9-test, zoeabryant/ma-ruby-challenge),
//!   2017-2023 from gov.uk's own source data (alphagov/frontend
//!   `lib/data/bank-holidays.json`), 2018-2026 (tumux/calendar-app) and
//!   2019-2027 (dmossop/bank-holidays-data). Where snapshots overlap they agree.
//! * Scotland 2026-06-15: the World Cup bank holiday, appointed by Royal
//!   Proclamation of 3 February 2026 and published on gov.uk after the
//!   snapshots above were taken.
//! * 2028-2030: written by hand from the rules and checked against a calendar
//!   (python3 `calendar`/`datetime` for weekdays, `dateutil.easter` for Easter:
//!   2028-04-16, 2029-04-01, 2030-04-21).

use breachdesk::domain::calendar::{BankHoliday, Division, bank_holidays};
use chrono::{Datelike, NaiveDate, Weekday};

/// `year division MM-DD...`; EW = england-and-wales, SC = scotland,
/// NI = northern-ireland.
const EXPECTED: &str = "
2012 EW 01-02 04-06 04-09 05-07 06-04 06-05 08-27 12-25 12-26
2012 SC 01-02 01-03 04-06 05-07 06-04 06-05 08-06 11-30 12-25 12-26
2012 NI 01-02 03-19 04-06 04-09 05-07 06-04 06-05 07-12 08-27 12-25 12-26
2013 EW 01-01 03-29 04-01 05-06 05-27 08-26 12-25 12-26
2013 SC 01-01 01-02 03-29 05-06 05-27 08-05 12-02 12-25 12-26
2013 NI 01-01 03-18 03-29 04-01 05-06 05-27 07-12 08-26 12-25 12-26
2014 EW 01-01 04-18 04-21 05-05 05-26 08-25 12-25 12-26
2014 SC 01-01 01-02 04-18 05-05 05-26 08-04 12-01 12-25 12-26
2014 NI 01-01 03-17 04-18 04-21 05-05 05-26 07-14 08-25 12-25 12-26
2015 EW 01-01 04-03 04-06 05-04 05-25 08-31 12-25 12-28
2015 SC 01-01 01-02 04-03 05-04 05-25 08-03 11-30 12-25 12-28
2015 NI 01-01 03-17 04-03 04-06 05-04 05-25 07-13 08-31 12-25 12-28
2016 EW 01-01 03-25 03-28 05-02 05-30 08-29 12-26 12-27
2016 SC 01-01 01-04 03-25 05-02 05-30 08-01 11-30 12-26 12-27
2016 NI 01-01 03-17 03-25 03-28 05-02 05-30 07-12 08-29 12-26 12-27
2017 EW 01-02 04-14 04-17 05-01 05-29 08-28 12-25 12-26
2017 SC 01-02 01-03 04-14 05-01 05-29 08-07 11-30 12-25 12-26
2017 NI 01-02 03-17 04-14 04-17 05-01 05-29 07-12 08-28 12-25 12-26
2018 EW 01-01 03-30 04-02 05-07 05-28 08-27 12-25 12-26
2018 SC 01-01 01-02 03-30 05-07 05-28 08-06 11-30 12-25 12-26
2018 NI 01-01 03-19 03-30 04-02 05-07 05-28 07-12 08-27 12-25 12-26
2019 EW 01-01 04-19 04-22 05-06 05-27 08-26 12-25 12-26
2019 SC 01-01 01-02 04-19 05-06 05-27 08-05 12-02 12-25 12-26
2019 NI 01-01 03-18 04-19 04-22 05-06 05-27 07-12 08-26 12-25 12-26
2020 EW 01-01 04-10 04-13 05-08 05-25 08-31 12-25 12-28
2020 SC 01-01 01-02 04-10 05-08 05-25 08-03 11-30 12-25 12-28
2020 NI 01-01 03-17 04-10 04-13 05-08 05-25 07-13 08-31 12-25 12-28
2021 EW 01-01 04-02 04-05 05-03 05-31 08-30 12-27 12-28
2021 SC 01-01 01-04 04-02 05-03 05-31 08-02 11-30 12-27 12-28
2021 NI 01-01 03-17 04-02 04-05 05-03 05-31 07-12 08-30 12-27 12-28
2022 EW 01-03 04-15 04-18 05-02 06-02 06-03 08-29 09-19 12-26 12-27
2022 SC 01-03 01-04 04-15 05-02 06-02 06-03 08-01 09-19 11-30 12-26 12-27
2022 NI 01-03 03-17 04-15 04-18 05-02 06-02 06-03 07-12 08-29 09-19 12-26 12-27
2023 EW 01-02 04-07 04-10 05-01 05-08 05-29 08-28 12-25 12-26
2023 SC 01-02 01-03 04-07 05-01 05-08 05-29 08-07 11-30 12-25 12-26
2023 NI 01-02 03-17 04-07 04-10 05-01 05-08 05-29 07-12 08-28 12-25 12-26
2024 EW 01-01 03-29 04-01 05-06 05-27 08-26 12-25 12-26
2024 SC 01-01 01-02 03-29 05-06 05-27 08-05 12-02 12-25 12-26
2024 NI 01-01 03-18 03-29 04-01 05-06 05-27 07-12 08-26 12-25 12-26
2025 EW 01-01 04-18 04-21 05-05 05-26 08-25 12-25 12-26
2025 SC 01-01 01-02 04-18 05-05 05-26 08-04 12-01 12-25 12-26
2025 NI 01-01 03-17 04-18 04-21 05-05 05-26 07-14 08-25 12-25 12-26
2026 EW 01-01 04-03 04-06 05-04 05-25 08-31 12-25 12-28
2026 SC 01-01 01-02 04-03 05-04 05-25 06-15 08-03 11-30 12-25 12-28
2026 NI 01-01 03-17 04-03 04-06 05-04 05-25 07-13 08-31 12-25 12-28
2027 EW 01-01 03-26 03-29 05-03 05-31 08-30 12-27 12-28
2027 SC 01-01 01-04 03-26 05-03 05-31 08-02 11-30 12-27 12-28
2027 NI 01-01 03-17 03-26 03-29 05-03 05-31 07-12 08-30 12-27 12-28
2028 EW 01-03 04-14 04-17 05-01 05-29 08-28 12-25 12-26
2028 SC 01-03 01-04 04-14 05-01 05-29 08-07 11-30 12-25 12-26
2028 NI 01-03 03-17 04-14 04-17 05-01 05-29 07-12 08-28 12-25 12-26
2029 EW 01-01 03-30 04-02 05-07 05-28 08-27 12-25 12-26
2029 SC 01-01 01-02 03-30 05-07 05-28 08-06 11-30 12-25 12-26
2029 NI 01-01 03-19 03-30 04-02 05-07 05-28 07-12 08-27 12-25 12-26
2030 EW 01-01 04-19 04-22 05-06 05-27 08-26 12-25 12-26
2030 SC 01-01 01-02 04-19 05-06 05-27 08-05 12-02 12-25 12-26
2030 NI 01-01 03-18 04-19 04-22 05-06 05-27 07-12 08-26 12-25 12-26
";

fn division(code: &str) -> Division {
    match code {
        "EW" => Division::EnglandAndWales,
        "SC" => Division::Scotland,
        "NI" => Division::NorthernIreland,
        other => panic!("bad division code {other}"),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// Parses EXPECTED into (year, division, dates).
fn expected() -> Vec<(i32, Division, Vec<NaiveDate>)> {
    EXPECTED
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut parts = line.split_whitespace();
            let year: i32 = parts.next().expect("year").parse().expect("year");
            let div = division(parts.next().expect("division"));
            let dates = parts
                .map(|md| {
                    NaiveDate::parse_from_str(&format!("{year}-{md}"), "%Y-%m-%d")
                        .unwrap_or_else(|e| panic!("bad date {md} in {line}: {e}"))
                })
                .collect();
            (year, div, dates)
        })
        .collect()
}

#[test]
fn expected_table_is_complete() {
    let rows = expected();
    assert_eq!(rows.len(), (2030 - 2012 + 1) * 3);
    for year in 2012..=2030 {
        for div in Division::ALL {
            assert_eq!(
                rows.iter()
                    .filter(|(y, d, _)| *y == year && *d == div)
                    .count(),
                1,
                "{year} {div}"
            );
        }
    }
}

#[test]
fn bank_holiday_dates_match_published_2012_to_2030() {
    let mut failures = Vec::new();
    for (year, div, want) in expected() {
        let got: Vec<NaiveDate> = bank_holidays(div, year).iter().map(|h| h.date).collect();
        if got != want {
            failures.push(format!(
                "{year} {div}:\n  expected {want:?}\n  got      {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lists_are_sorted_unique_in_year_and_on_weekdays() {
    for year in 1990..=2060 {
        for div in Division::ALL {
            let list = bank_holidays(div, year);
            assert!(
                list.windows(2).all(|w| w[0].date < w[1].date),
                "{year} {div}"
            );
            for h in &list {
                assert_eq!(h.date.year(), year, "{year} {div} {h:?}");
                assert!(
                    !matches!(h.date.weekday(), Weekday::Sat | Weekday::Sun),
                    "{year} {div} {h:?} is on a weekend"
                );
                assert!(!h.title.is_empty());
            }
            // 8 in England and Wales, 9 in Scotland, 10 in Northern Ireland,
            // plus any one-offs.
            let regular = match div {
                Division::EnglandAndWales => 8,
                Division::Scotland => 9,
                Division::NorthernIreland => 10,
            };
            assert!(list.len() >= regular, "{year} {div}: {list:?}");
        }
    }
}

fn find(div: Division, d: NaiveDate) -> Option<BankHoliday> {
    bank_holidays(div, d.year())
        .into_iter()
        .find(|h| h.date == d)
}

fn title(div: Division, d: NaiveDate) -> String {
    find(div, d)
        .unwrap_or_else(|| panic!("{d} is not a {div} bank holiday"))
        .title
}

#[test]
fn historic_one_offs_for_all_divisions() {
    for div in Division::ALL {
        // 1995 VE Day 50: early May moved from 1 May to 8 May.
        assert!(find(div, date(1995, 5, 1)).is_none(), "{div}");
        assert!(find(div, date(1995, 5, 8)).is_some(), "{div}");
        // 1999 Millennium.
        assert!(find(div, date(1999, 12, 31)).is_some(), "{div}");
        // 2002 Golden Jubilee: spring moved 27 May -> 4 June, extra 3 June.
        assert!(find(div, date(2002, 5, 27)).is_none(), "{div}");
        assert!(find(div, date(2002, 6, 3)).is_some(), "{div}");
        assert_eq!(title(div, date(2002, 6, 4)), "Spring bank holiday");
        // 2011 royal wedding.
        assert!(find(div, date(2011, 4, 29)).is_some(), "{div}");
        // 2012 Diamond Jubilee: spring moved 28 May -> 4 June, extra 5 June.
        assert!(find(div, date(2012, 5, 28)).is_none(), "{div}");
        assert_eq!(title(div, date(2012, 6, 5)), "Queen’s Diamond Jubilee");
        // 2020 VE Day 75: early May moved 4 May -> 8 May.
        assert!(find(div, date(2020, 5, 4)).is_none(), "{div}");
        assert_eq!(
            title(div, date(2020, 5, 8)),
            "Early May bank holiday (VE day)"
        );
        // 2022 Platinum Jubilee: spring moved 30 May -> 2 June, extra 3 June.
        assert!(find(div, date(2022, 5, 30)).is_none(), "{div}");
        assert_eq!(title(div, date(2022, 6, 2)), "Spring bank holiday");
        assert_eq!(
            title(div, date(2022, 6, 3)),
            "Platinum Jubilee bank holiday"
        );
        // 2022 State Funeral, 2023 Coronation.
        assert_eq!(
            title(div, date(2022, 9, 19)),
            "Bank Holiday for the State Funeral of Queen Elizabeth II"
        );
        assert_eq!(
            title(div, date(2023, 5, 8)),
            "Bank holiday for the coronation of King Charles III"
        );
    }
    // 2026 World Cup: Scotland only.
    assert_eq!(
        title(Division::Scotland, date(2026, 6, 15)),
        "World Cup bank holiday"
    );
    assert!(find(Division::EnglandAndWales, date(2026, 6, 15)).is_none());
    assert!(find(Division::NorthernIreland, date(2026, 6, 15)).is_none());
}

#[test]
fn gov_uk_titles_and_substitute_flags() {
    use Division::*;
    let cases: &[(Division, NaiveDate, &str, bool)] = &[
        (EnglandAndWales, date(2026, 1, 1), "New Year’s Day", false),
        (EnglandAndWales, date(2022, 1, 3), "New Year’s Day", true),
        (EnglandAndWales, date(2026, 4, 3), "Good Friday", false),
        (EnglandAndWales, date(2026, 4, 6), "Easter Monday", false),
        (
            EnglandAndWales,
            date(2026, 5, 4),
            "Early May bank holiday",
            false,
        ),
        (
            EnglandAndWales,
            date(2026, 5, 25),
            "Spring bank holiday",
            false,
        ),
        (
            EnglandAndWales,
            date(2026, 8, 31),
            "Summer bank holiday",
            false,
        ),
        (EnglandAndWales, date(2026, 12, 25), "Christmas Day", false),
        (EnglandAndWales, date(2026, 12, 28), "Boxing Day", true),
        (EnglandAndWales, date(2022, 12, 26), "Boxing Day", false),
        (EnglandAndWales, date(2022, 12, 27), "Christmas Day", true),
        (Scotland, date(2026, 1, 2), "2nd January", false),
        (Scotland, date(2027, 1, 4), "2nd January", true),
        (Scotland, date(2026, 8, 3), "Summer bank holiday", false),
        (Scotland, date(2026, 11, 30), "St Andrew’s Day", false),
        (Scotland, date(2025, 12, 1), "St Andrew’s Day", true),
        (
            NorthernIreland,
            date(2026, 3, 17),
            "St Patrick’s Day",
            false,
        ),
        (NorthernIreland, date(2024, 3, 18), "St Patrick’s Day", true),
        (
            NorthernIreland,
            date(2026, 7, 13),
            "Battle of the Boyne (Orangemen’s Day)",
            true,
        ),
    ];
    for &(div, d, want_title, want_sub) in cases {
        let h = find(div, d).unwrap_or_else(|| panic!("{d} is not a {div} bank holiday"));
        assert_eq!(h.title, want_title, "{div} {d}");
        assert_eq!(h.substitute, want_sub, "{div} {d}");
    }
}

#[test]
fn division_specific_days_do_not_leak() {
    use Division::*;
    // Scotland has no Easter Monday; E&W and NI have no 2 January.
    assert!(find(Scotland, date(2026, 4, 6)).is_none());
    assert!(find(EnglandAndWales, date(2026, 1, 2)).is_none());
    assert!(find(NorthernIreland, date(2026, 1, 2)).is_none());
    // St Patrick's and the Boyne are NI only; St Andrew's is Scotland only.
    assert!(find(EnglandAndWales, date(2026, 3, 17)).is_none());
    assert!(find(Scotland, date(2026, 3, 17)).is_none());
    assert!(find(EnglandAndWales, date(2026, 7, 13)).is_none());
    assert!(find(EnglandAndWales, date(2026, 11, 30)).is_none());
    assert!(find(NorthernIreland, date(2026, 11, 30)).is_none());
    // Summer: first Monday of August in Scotland, last elsewhere.
    assert!(find(Scotland, date(2026, 8, 31)).is_none());
    assert!(find(EnglandAndWales, date(2026, 8, 3)).is_none());
}
