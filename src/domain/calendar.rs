//! UK bank holidays and the Working-Day calendar.
//! Longer than 600 lines: the holiday rules and tables per division are
//! read beside the Working-Day arithmetic that uses them.
//!
//! The regular bank holidays of each UK division are computed by rule for any
//! year (including weekend substitute days); one-off changes made by Royal
//! Proclamation (jubilees, royal events, moved holidays) are data, kept in
//! `assets/bank-holidays.toml` and embedded at compile time.
//!
//! On top of that, [`WorkingCalendar`] answers "is this a Working Day?" and
//! "when is a deadline of N Working Days from this instant?", converting local
//! (e.g. `Europe/London`) dates to UTC instants correctly across GMT/BST.
//!
//! Pure: no clock reads, no I/O (the asset is compiled in with `include_str!`).
//!
//! The rules model the current statutory framework (Banking and Financial
//! Dealings Act 1971 plus the long-standing annual proclamations): they are
//! exact for the modern period (the early May bank holiday exists since 1978)
//! and simply apply the same rules to earlier years.
//!
//! Rule choices (checked against gov.uk's published `bank-holidays.json`,
//! see `tests/calendar_holidays.rs`):
//!
//! * Good Friday and Christmas Day are listed as bank holidays in every
//!   division, as gov.uk does (in England and Wales they are common-law
//!   holidays, which makes no difference to a Working-Day count).
//! * Substitute days: a holiday on a weekday keeps its day; a weekend holiday
//!   moves to the next weekday not already a holiday, in date order. Dates
//!   always match gov.uk. Titles follow the statute (Banking and Financial
//!   Dealings Act 1971, Sch. 1): when 1 January is a Sunday in Scotland,
//!   Monday 2nd is "2nd January" and Tuesday 3rd is the "New Year’s Day"
//!   substitute (gov.uk labels 2017 this way but labels the same two dates the
//!   other way round for 2023).
//! * A substitute day keeps the plain title and sets
//!   [`BankHoliday::substitute`].

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

/// A UK jurisdiction with its own list of bank holidays (the keys gov.uk uses).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Division {
    /// England and Wales (`england-and-wales`). The default.
    #[default]
    EnglandAndWales,
    /// Scotland (`scotland`).
    Scotland,
    /// Northern Ireland (`northern-ireland`).
    NorthernIreland,
}

impl Division {
    /// All divisions, in gov.uk order.
    pub const ALL: [Division; 3] = [
        Division::EnglandAndWales,
        Division::Scotland,
        Division::NorthernIreland,
    ];

    /// The kebab-case name used by gov.uk, serde, `FromStr` and `Display`.
    pub fn as_str(self) -> &'static str {
        match self {
            Division::EnglandAndWales => "england-and-wales",
            Division::Scotland => "scotland",
            Division::NorthernIreland => "northern-ireland",
        }
    }
}

impl fmt::Display for Division {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when parsing an unknown [`Division`] name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown division `{0}`: expected one of england-and-wales, scotland, northern-ireland")]
pub struct ParseDivisionError(pub String);

impl FromStr for Division {
    type Err = ParseDivisionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Division::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| ParseDivisionError(s.to_owned()))
    }
}

/// One bank holiday as observed (i.e. after any weekend substitution or move).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BankHoliday {
    /// The day the holiday is observed.
    pub date: NaiveDate,
    /// The title gov.uk uses, e.g. `Christmas Day`. A substitute day keeps the
    /// plain title of the holiday it replaces (as gov.uk does).
    pub title: String,
    /// `true` when this is a weekend holiday's substitute day (gov.uk's
    /// "Substitute day" note).
    #[serde(default)]
    pub substitute: bool,
}

// ---------------------------------------------------------------------------
// Rule-based holidays
// ---------------------------------------------------------------------------

/// Easter Sunday of a Gregorian year, by the Anonymous Gregorian algorithm
/// (Meeus/Jones/Butcher computus).
///
/// Returns `None` only for years outside chrono's supported range.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn first_monday(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 1)
}

fn last_monday(year: i32, month: u32) -> Option<NaiveDate> {
    // The 5th Monday if it exists, else the 4th.
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 5)
        .or_else(|| NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 4))
}

/// A rule-based holiday before weekend substitution.
struct Nominal {
    date: NaiveDate,
    title: &'static str,
}

/// The regular (rule-based) holidays of a division before substitution, in
/// date order.
fn nominal_holidays(division: Division, year: i32) -> Vec<Nominal> {
    use Division::*;
    let ymd = |m: u32, d: u32| NaiveDate::from_ymd_opt(year, m, d);
    let easter = easter_sunday(year);
    let mut out: Vec<(Option<NaiveDate>, &'static str)> = vec![(ymd(1, 1), "New Year’s Day")];
    if division == Scotland {
        out.push((ymd(1, 2), "2nd January"));
    }
    if division == NorthernIreland {
        out.push((ymd(3, 17), "St Patrick’s Day"));
    }
    out.push((
        easter.and_then(|e| e.checked_sub_signed(Duration::days(2))),
        "Good Friday",
    ));
    if division != Scotland {
        out.push((easter.and_then(|e| e.succ_opt()), "Easter Monday"));
    }
    out.push((first_monday(year, 5), "Early May bank holiday"));
    out.push((last_monday(year, 5), "Spring bank holiday"));
    if division == NorthernIreland {
        out.push((ymd(7, 12), "Battle of the Boyne (Orangemen’s Day)"));
    }
    out.push((
        if division == Scotland {
            first_monday(year, 8)
        } else {
            last_monday(year, 8)
        },
        "Summer bank holiday",
    ));
    if division == Scotland {
        out.push((ymd(11, 30), "St Andrew’s Day"));
    }
    out.push((ymd(12, 25), "Christmas Day"));
    out.push((ymd(12, 26), "Boxing Day"));
    let mut v: Vec<Nominal> = out
        .into_iter()
        .filter_map(|(date, title)| date.map(|date| Nominal { date, title }))
        .collect();
    v.sort_by_key(|n| n.date);
    v
}

/// The rule-based holidays of a division with weekend substitute days applied.
///
/// Substitution: a holiday falling on a weekday stays where it is; a holiday
/// falling on a Saturday or Sunday moves to the next weekday that is not
/// already a holiday, weekend holidays being placed in date order. So Christmas
/// on Saturday gives Monday 27th and Boxing Day on Sunday gives Tuesday 28th;
/// Christmas on Sunday gives Tuesday 27th because Boxing Day keeps Monday 26th;
/// likewise for 1 and 2 January in Scotland.
fn regular_holidays(division: Division, year: i32) -> Vec<BankHoliday> {
    let nominal = nominal_holidays(division, year);
    let mut taken: BTreeSet<NaiveDate> = nominal
        .iter()
        .filter(|n| !is_weekend(n.date))
        .map(|n| n.date)
        .collect();
    let mut out = Vec::with_capacity(nominal.len());
    for n in nominal {
        if !is_weekend(n.date) {
            out.push(BankHoliday {
                date: n.date,
                title: n.title.to_owned(),
                substitute: false,
            });
            continue;
        }
        let mut d = n.date;
        while is_weekend(d) || taken.contains(&d) {
            match d.succ_opt() {
                Some(next) => d = next,
                None => break,
            }
        }
        taken.insert(d);
        out.push(BankHoliday {
            date: d,
            title: n.title.to_owned(),
            substitute: true,
        });
    }
    out
}

// ---------------------------------------------------------------------------
// One-off changes (assets/bank-holidays.toml)
// ---------------------------------------------------------------------------

/// The embedded one-off data file.
const ONE_OFFS_TOML: &str = include_str!("../../assets/bank-holidays.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOneOffs {
    #[serde(default)]
    moved: Vec<RawMoved>,
    #[serde(default)]
    extra: Vec<RawExtra>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMoved {
    divisions: Vec<Division>,
    from: toml::value::Datetime,
    to: toml::value::Datetime,
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtra {
    divisions: Vec<Division>,
    date: toml::value::Datetime,
    title: String,
}

/// A regular holiday moved to another day by proclamation.
#[derive(Debug, Clone)]
struct Moved {
    divisions: Vec<Division>,
    from: NaiveDate,
    to: NaiveDate,
    title: String,
}

/// An additional one-off bank holiday.
#[derive(Debug, Clone)]
struct Extra {
    divisions: Vec<Division>,
    date: NaiveDate,
    title: String,
}

#[derive(Debug, Clone)]
struct OneOffs {
    moved: Vec<Moved>,
    extra: Vec<Extra>,
}

fn toml_date(dt: &toml::value::Datetime, what: &str) -> Result<NaiveDate, String> {
    match (dt.date, dt.time, dt.offset) {
        (Some(d), None, None) => {
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                .ok_or_else(|| format!("{what}: invalid date {dt}"))
        }
        _ => Err(format!(
            "{what}: expected a plain date (YYYY-MM-DD), got {dt}"
        )),
    }
}

fn check_common(divisions: &[Division], title: &str, what: &str) -> Result<(), String> {
    if divisions.is_empty() {
        return Err(format!("{what}: `divisions` is empty"));
    }
    if title.trim().is_empty() {
        return Err(format!("{what}: `title` is empty"));
    }
    Ok(())
}

fn parse_one_offs(text: &str) -> Result<OneOffs, String> {
    let raw: RawOneOffs =
        toml::from_str(text).map_err(|e| format!("assets/bank-holidays.toml: {e}"))?;
    let mut moved = Vec::with_capacity(raw.moved.len());
    for m in raw.moved {
        let what = format!("[[moved]] {}", m.from);
        check_common(&m.divisions, &m.title, &what)?;
        let from = toml_date(&m.from, &what)?;
        let to = toml_date(&m.to, &what)?;
        if from.year() != to.year() {
            return Err(format!("{what}: `from` and `to` must be in the same year"));
        }
        moved.push(Moved {
            divisions: m.divisions,
            from,
            to,
            title: m.title,
        });
    }
    let mut extra = Vec::with_capacity(raw.extra.len());
    for x in raw.extra {
        let what = format!("[[extra]] {}", x.date);
        check_common(&x.divisions, &x.title, &what)?;
        let date = toml_date(&x.date, &what)?;
        extra.push(Extra {
            divisions: x.divisions,
            date,
            title: x.title,
        });
    }
    Ok(OneOffs { moved, extra })
}

/// Parsed once. The file is compiled into the binary and checked by a unit
/// test, so a parse failure here is a build-time bug, never a user error.
static ONE_OFFS: LazyLock<OneOffs> = LazyLock::new(|| {
    parse_one_offs(ONE_OFFS_TOML)
        .expect("assets/bank-holidays.toml is embedded and validated by a unit test")
});

/// The bank holidays of `division` observed in `year`, in date order: the
/// regular rule-based holidays (with weekend substitute days) adjusted by the
/// one-off changes in `assets/bank-holidays.toml`.
pub fn bank_holidays(division: Division, year: i32) -> Vec<BankHoliday> {
    let mut list = regular_holidays(division, year);
    let one_offs = &*ONE_OFFS;
    for m in one_offs
        .moved
        .iter()
        .filter(|m| m.from.year() == year && m.divisions.contains(&division))
    {
        if let Some(h) = list.iter_mut().find(|h| h.date == m.from) {
            h.date = m.to;
            h.title.clone_from(&m.title);
            h.substitute = false;
        }
    }
    for x in one_offs
        .extra
        .iter()
        .filter(|x| x.date.year() == year && x.divisions.contains(&division))
    {
        list.push(BankHoliday {
            date: x.date,
            title: x.title.clone(),
            substitute: false,
        });
    }
    list.sort();
    list.dedup_by_key(|h| h.date);
    list
}

/// Whether `d` is a bank holiday of `division`.
pub fn is_bank_holiday(division: Division, d: NaiveDate) -> bool {
    bank_holidays(division, d.year())
        .iter()
        .any(|h| h.date == d)
}

// ---------------------------------------------------------------------------
// Working-Day calendar
// ---------------------------------------------------------------------------

/// The Working-Day calendar of one organisation: which days count, in which
/// time zone, and at what local time a day's deadline falls.
///
/// A Working Day is Monday to Friday and not a bank holiday of the division.
/// The contract's Working Day does not depend on when an office is shut: the
/// organisation's own closure days never move a deadline; they only give a
/// warning when a deadline falls on one ([`WorkingCalendar::closed_on`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    division: Division,
    tz: Tz,
    end_of_day: NaiveTime,
    closures: BTreeSet<NaiveDate>,
}

impl Default for WorkingCalendar {
    /// England and Wales, `Europe/London`, end of day 23:59:59.
    fn default() -> Self {
        WorkingCalendar::new(Division::default(), chrono_tz::Europe::London)
    }
}

/// 23:59:59, the default end of a Working Day.
fn default_end_of_day() -> NaiveTime {
    NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN)
}

impl WorkingCalendar {
    /// A calendar for `division` in time zone `tz`, with the end of day at
    /// 23:59:59 local time and no closure days.
    pub fn new(division: Division, tz: Tz) -> Self {
        WorkingCalendar {
            division,
            tz,
            end_of_day: default_end_of_day(),
            closures: BTreeSet::new(),
        }
    }

    /// Sets the local time at which a Working Day's deadline falls, e.g. a
    /// close of business of 17:30.
    pub fn with_end_of_day(mut self, t: NaiveTime) -> Self {
        self.end_of_day = t;
        self
    }

    /// Adds the organisation's own closure days. They never change which days
    /// are Working Days; see [`WorkingCalendar::closed_on`].
    pub fn with_closures(mut self, days: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.closures.extend(days);
        self
    }

    /// The division whose bank holidays apply.
    pub fn division(&self) -> Division {
        self.division
    }

    /// The time zone in which dates are reckoned.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The local time at which a Working Day's deadline falls.
    pub fn end_of_day(&self) -> NaiveTime {
        self.end_of_day
    }

    /// The organisation's closure days, in date order.
    pub fn closures(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.closures.iter().copied()
    }

    /// Monday to Friday and not a bank holiday of the division. (Closure
    /// days do not count here: they are the organisation's, not the
    /// contract's.)
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        !is_weekend(d) && !is_bank_holiday(self.division, d)
    }

    /// Whether `d` is one of the organisation's own closure days.
    pub fn is_closure_day(&self, d: NaiveDate) -> bool {
        self.closures.contains(&d)
    }

    /// A warning when the deadline `due` falls on one of the organisation's
    /// closure days: the deadline itself does not move.
    pub fn closed_on(&self, due: DateTime<Utc>) -> Option<String> {
        let day = self.local_date(due);
        self.is_closure_day(day).then(|| {
            format!(
                "the office is closed on the due day ({}, one of calendar.closures); the contractual deadline does not move, so plan to supply before it",
                day.format("%a %-d %b %Y")
            )
        })
    }

    /// The bank holidays of the division for `year` (closure days excluded).
    pub fn holidays(&self, year: i32) -> Vec<BankHoliday> {
        bank_holidays(self.division, year)
    }

    /// The local date (in [`tz`](Self::tz)) of an instant.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The first Working Day strictly after `d`.
    pub fn next_working_day(&self, d: NaiveDate) -> NaiveDate {
        let mut cur = d;
        while let Some(next) = cur.succ_opt() {
            cur = next;
            if self.is_working_day(cur) {
                return cur;
            }
        }
        cur
    }

    /// The first Working Day on or after `d`.
    pub fn working_day_on_or_after(&self, d: NaiveDate) -> NaiveDate {
        if self.is_working_day(d) {
            d
        } else {
            self.next_working_day(d)
        }
    }

    /// Deadline of N Working Days from an instant: the day of receipt (its
    /// local date in tz) does not count; the deadline is end_of_day (local) on
    /// the N-th Working Day strictly after the local receipt date. So a
    /// request received on a non-working day starts counting on the next
    /// Working Day.
    ///
    /// `n = 0` means "by the end of the receipt day if that is a Working Day,
    /// otherwise by the end of the next Working Day". In general the due date
    /// is the earliest Working Day `D` on or after the receipt date with
    /// `count_working_days(receipt, D) >= n`; for `n >= 1` that count is
    /// exactly `n`.
    pub fn working_days_after(&self, received: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let receipt = self.local_date(received);
        let mut d = self.working_day_on_or_after(receipt);
        if d == receipt {
            for _ in 0..n {
                d = self.next_working_day(d);
            }
        } else {
            // Received on a non-working day: `d` is already Working Day 1.
            for _ in 1..n {
                d = self.next_working_day(d);
            }
        }
        self.end_of_day_utc(d)
    }

    /// Number of Working Days `d` with `from < d <= to` (0 if `to <= from`).
    /// Agrees with [`working_days_after`](Self::working_days_after): for
    /// `n >= 1`, `count(local date of receipt, local date of the deadline) == n`.
    pub fn count_working_days(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut count = 0u32;
        let mut d = from;
        while d < to {
            match d.succ_opt() {
                Some(next) => d = next,
                None => break,
            }
            if self.is_working_day(d) {
                count = count.saturating_add(1);
            }
        }
        count
    }

    /// The UTC instant of [`end_of_day`](Self::end_of_day) on local date `d`.
    pub fn end_of_day_utc(&self, d: NaiveDate) -> DateTime<Utc> {
        local_to_utc(self.tz, d.and_time(self.end_of_day))
    }
}

/// Converts a local wall-clock time in `tz` to a UTC instant, deterministically
/// across daylight-saving changes:
///
/// * an ambiguous local time (it occurs twice when the clocks go back) maps to
///   the EARLIER instant: a deadline is never later than what the wall clock
///   first shows;
/// * a nonexistent local time (skipped when the clocks go forward) is read
///   with the UTC offset in force just before the gap, i.e. shifted later by
///   the length of the gap (01:30 on the UK spring-forward day becomes 01:30Z
///   = 02:30 BST), the same rule as `java.time`.
///
/// (In the UK the clocks change on Sundays at 01:00 UTC, so neither case
/// arises for a Working Day deadline in `Europe/London`.)
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(dt) => dt.with_timezone(&Utc),
        LocalResult::Ambiguous(earliest, _) => earliest.with_timezone(&Utc),
        LocalResult::None => {
            // Find the offset in force just before the gap.
            let mut probe = local;
            for _ in 0..(4 * 48) {
                probe -= Duration::minutes(15);
                let offset = match tz.from_local_datetime(&probe) {
                    LocalResult::Single(dt) => Some(dt.offset().fix()),
                    LocalResult::Ambiguous(_, latest) => Some(latest.offset().fix()),
                    LocalResult::None => None,
                };
                if let Some(off) = offset {
                    let secs = i64::from(off.local_minus_utc());
                    return (local - Duration::seconds(secs)).and_utc();
                }
            }
            // No valid local time within 48 hours: treat the wall clock as UTC.
            local.and_utc()
        }
    }
}

#[cfg(test)]
mod tests;
