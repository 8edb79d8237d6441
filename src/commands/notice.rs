//! The notice register (`notice add`, `notice list`) and the 8.1
//! notification (`notify`): one made by phone or in person is recorded here;
//! one by email goes through [`super::mail`].

use super::common::{past, report_change};
use crate::cli::{NoticeCommand, NoticeListFormat, NotifyArgs};
use crate::desk::{NotificationInput, OtherNoticeInput};
use crate::domain::incident::Channel;
use crate::domain::register::{line, register};
use crate::setup::Setup;
use crate::text::{SafeWriter, json_safe};
use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use std::io::Write;

/// `breachdesk notify ID [--channel phone|in-person --to WHO --at WHEN]`.
pub fn notify(
    setup: &Setup,
    args: NotifyArgs,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let channel = match args.channel {
        Some(channel @ (Channel::Phone | Channel::InPerson)) => channel,
        _ => return super::mail::notify(setup, &args, now, out),
    };
    let recipient = args
        .to
        .ok_or_else(|| anyhow!("--to: say who was notified"))?;
    let input = NotificationInput {
        at: past(&args.at, "--at", now, setup.tz()?)?,
        channel,
        recipient,
        reference: args.reference,
        server_reply: None,
        delay_reason: args.delay_reason,
    };
    let changed = setup.desk()?.record_notification(&args.id, input, now)?;
    report_change(out, &changed, "notification recorded")
}

/// `breachdesk notice add|list`.
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
            let input = OtherNoticeInput {
                direction,
                party,
                channel,
                at: past(&at, "--at", now, setup.tz()?)?,
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
