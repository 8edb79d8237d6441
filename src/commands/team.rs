//! The commands that say who is on an incident: `assign` and `handover`
//! (and `handover ack`). Each calls one [`Desk`](crate::desk::Desk) method
//! and says what changed in one line.

use super::common::report_change;
use crate::cli::{AssignArgs, HandoverArgs, HandoverCommand};
use crate::setup::Setup;
use crate::text::one_line;
use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use std::io::Write;

/// `breachdesk assign ID --role R (--to NAME | --unassign)`.
pub fn assign(
    setup: &Setup,
    args: AssignArgs,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = setup.desk()?;
    let (changed, what) = match args.to {
        Some(to) if !args.unassign => {
            let changed = desk.assign(&args.id, args.role, &to, now)?;
            (changed, format!("{} is {}", args.role, one_line(to.trim())))
        }
        _ => {
            let changed = desk.unassign(&args.id, args.role, now)?;
            (changed, format!("{} unassigned", args.role))
        }
    };
    report_change(out, &changed, &what)
}

/// `breachdesk handover ID --to NAME --note TEXT` and `handover ack ID`.
pub fn handover(
    setup: &Setup,
    args: HandoverArgs,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = setup.desk()?;
    if let Some(HandoverCommand::Ack { id }) = args.command {
        let before = desk.load(&id)?;
        let changed = desk.acknowledge_handovers(&id, now)?;
        let acknowledged: Vec<String> = changed
            .incident
            .handovers
            .iter()
            .filter(|h| {
                h.acknowledged_at == Some(now)
                    && before
                        .handovers
                        .iter()
                        .any(|b| b.uid == h.uid && b.is_pending())
            })
            .map(|h| format!("from {}", one_line(&h.from)))
            .collect();
        let what = format!("handover {} acknowledged", acknowledged.join(", "));
        return report_change(out, &changed, &what);
    }
    let missing = |what: &str| anyhow!("handover: {what} is missing");
    let id = args.id.ok_or_else(|| missing("the incident's id"))?;
    let to = args.to.ok_or_else(|| missing("--to"))?;
    let note = args.note.ok_or_else(|| missing("--note"))?;
    let changed = desk.hand_over(&id, &to, &note, now)?;
    report_change(
        out,
        &changed,
        &format!("handed over to {}", one_line(to.trim())),
    )
}
