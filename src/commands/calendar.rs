//! Working Days and bank holidays: `holidays`, `due`, `workdays`.

use super::common::parse_date;
use crate::domain::calendar::Division;
use crate::domain::when::parse_when;
use crate::present::local_rfc3339;
use crate::setup::Setup;
use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, Utc};
use std::io::Write;

/// `breachdesk holidays --year Y [--division D]`: `YYYY-MM-DD<TAB>Title`.
pub fn holidays(
    setup: &Setup,
    division: Option<Division>,
    year: i32,
    out: &mut impl Write,
) -> Result<()> {
    if !(1900..=2200).contains(&year) {
        bail!("--year {year} is outside 1900-2200");
    }
    for holiday in setup.calendar(division)?.holidays(year) {
        writeln!(
            out,
            "{}\t{}",
            holiday.date.format("%Y-%m-%d"),
            holiday.title
        )?;
    }
    Ok(())
}

/// `breachdesk due --from WHEN (--working-days N | --hours N)`.
pub fn due(
    setup: &Setup,
    from: &str,
    working_days: Option<i64>,
    hours: Option<i64>,
    division: Option<Division>,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let calendar = setup.calendar(division)?;
    let tz = calendar.tz();
    let start = parse_when(from, now, tz).map_err(|e| anyhow!("--from: {e}"))?;
    let due = match (working_days, hours) {
        (Some(n), _) => {
            let n = u32::try_from(n)
                .ok()
                .filter(|n| *n <= 10_000)
                .ok_or_else(|| anyhow!("--working-days {n} must be between 0 and 10000"))?;
            let due = calendar.working_days_after(start, n);
            if let Some(warning) = calendar.closed_on(due) {
                eprintln!("breachdesk: warning: {warning}");
            }
            due
        }
        (None, Some(h)) => {
            if !(0..=1_000_000).contains(&h) {
                bail!("--hours {h} must be between 0 and 1000000");
            }
            start + chrono::Duration::hours(h)
        }
        (None, None) => bail!("give --working-days N or --hours N"),
    };
    writeln!(out, "{}", local_rfc3339(due, tz))?;
    Ok(())
}

/// `breachdesk workdays --from DATE --to DATE`: Working Days after `from`
/// up to and including `to`.
pub fn workdays(
    setup: &Setup,
    from: &str,
    to: &str,
    division: Option<Division>,
    out: &mut impl Write,
) -> Result<()> {
    let calendar = setup.calendar(division)?;
    let from = parse_date(from, "--from")?;
    let to = parse_date(to, "--to")?;
    if to < from {
        bail!("--to {to} is before --from {from}");
    }
    writeln!(out, "{}", calendar.count_working_days(from, to))?;
    Ok(())
}
