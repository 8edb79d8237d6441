//! What every command family shares: saying what a change did, and reading
//! a date or a time given on the command line.

use crate::desk::Changed;
use crate::domain::when::parse_past;
use crate::text::one_line;
use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::io::Write;

/// `ID: what` when the record was written, `ID: nothing changed` when it
/// already said so; the change's warnings on stderr first.
pub fn report_change(out: &mut impl Write, changed: &Changed, what: &str) -> Result<()> {
    for warning in &changed.warnings {
        eprintln!("breachdesk: WARNING: {}", one_line(warning));
    }
    if changed.written {
        writeln!(out, "{}: {what}", changed.incident.id)?;
    } else {
        writeln!(out, "{}: nothing changed", changed.incident.id)?;
    }
    Ok(())
}

/// A date like 2026-12-23, in 1900-2200; errors name the option.
pub fn parse_date(text: &str, what: &str) -> Result<NaiveDate> {
    use chrono::Datelike;
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        anyhow!(
            "{what}: '{}' is not a date like 2026-12-23",
            crate::text::quote_short(text)
        )
    })?;
    if !(1900..=2200).contains(&date.year()) {
        bail!("{what}: {date} is outside 1900-2200");
    }
    Ok(date)
}

/// A time not in the future (RFC 3339, HH:MM, -20m...); errors name the option.
pub fn past(text: &str, what: &str, now: DateTime<Utc>, tz: Tz) -> Result<DateTime<Utc>> {
    parse_past(text, now, tz).map_err(|e| anyhow!("{what}: {e}"))
}
