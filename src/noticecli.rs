//! The command line for the notice register (`notice add`, `notice list`)
//! and the incident facts a notice states (`edit --started-at ...`).

use crate::cli::{EditArgs, NoticeCommand, NoticeListFormat};
use crate::commands::{Setup, parse_enum, report_change};
use crate::desk::{DetailsEdit, OtherNoticeInput};
use crate::domain::register::{line, register};
use crate::domain::when::{parse_future, parse_past};
use crate::text::{SafeWriter, json_safe};
use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::io::Write;

fn clearing(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("none")
}

/// The `edit` flags for [`crate::domain::incident::Details`].
pub fn details_edit(args: &EditArgs, now: DateTime<Utc>, tz: Tz) -> Result<DetailsEdit> {
    let started_at = match args.started_at.as_deref() {
        None => None,
        Some(t) if clearing(t) => Some(None),
        Some(t) => Some(Some(
            parse_past(t, now, tz).map_err(|e| anyhow!("--started-at: {e}"))?,
        )),
    };
    let next_update_due = match args.next_update.as_deref() {
        None => None,
        Some(t) if clearing(t) => Some(None),
        Some(t) => Some(Some(
            parse_future(t, now, tz).map_err(|e| anyhow!("--next-update: {e}"))?,
        )),
    };
    let data_subjects = match args.data_subjects.as_deref() {
        None => None,
        Some(t) if clearing(t) => Some(None),
        Some(t) => Some(Some(t.trim().parse::<u64>().map_err(|_| {
            anyhow!("--data-subjects: '{t}' is not a whole number (or 'none')")
        })?)),
    };
    Ok(DetailsEdit {
        started_at,
        detected_how: args.detected_how.clone(),
        service_impact: args.service_impact.clone(),
        confidentiality: args.confidentiality.clone(),
        integrity: args.integrity.clone(),
        availability: args.availability.clone(),
        containment: args.containment.clone(),
        data_subjects,
        data_categories: args.data_categories.clone(),
        government_data_details: args.government_data_details.clone(),
        others_told: args.others_told.clone(),
        next_update_due,
        residual_risk: args.residual_risk.clone(),
        lessons_learned: args.lessons_learned.clone(),
    })
}

/// `breachdesk notice ...`.
pub fn notice(
    setup: &Setup,
    cmd: NoticeCommand,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        NoticeCommand::Add {
            id,
            direction,
            party,
            channel,
            at,
            with,
            reference,
            summary,
        } => {
            let tz = setup.tz()?;
            let input = OtherNoticeInput {
                direction: parse_enum(&direction, "--direction")?,
                party: parse_enum(&party, "--party")?,
                channel: parse_enum(&channel, "--channel")?,
                at: parse_past(&at, now, tz).map_err(|e| anyhow!("--at: {e}"))?,
                counterpart: with,
                reference,
                summary,
            };
            let changed = setup.desk()?.record_other_notice(&id, input, now)?;
            report_change(out, &changed, "notice recorded")
        }
        NoticeCommand::List { id, format } => {
            let desk = setup.reader()?;
            let incident = desk.load(&id)?;
            let entries = register(&incident);
            match format {
                NoticeListFormat::Json => writeln!(
                    out,
                    "{}",
                    json_safe(&serde_json::to_string_pretty(&entries)?)
                )?,
                NoticeListFormat::Text => {
                    let mut safe = SafeWriter::new(out);
                    if entries.is_empty() {
                        writeln!(safe, "no notices recorded for {}", incident.id)?;
                    }
                    for e in &entries {
                        writeln!(safe, "{}", line(e, desk.tz()))?;
                    }
                }
            }
            Ok(())
        }
    }
}
