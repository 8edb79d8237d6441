//! The commands that change one incident: `log`, `edit`, `step`,
//! `root-cause`, `mitigation`, `isms`, `rca-required`, `close`, `reopen`.
//! Each reads its arguments, calls one [`Desk`](crate::desk::Desk) method
//! and says what changed.

use super::common::{parse_date, past, report_change};
use crate::cli::{EditArgs, MitigationArgs, RootCauseArgs, StepArgs};
use crate::desk::{DetailsEdit, Edit, MitigationInput};
use crate::domain::incident::{RcaRequired, ReliefNotice};
use crate::domain::when::parse_future;
use crate::setup::Setup;
use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::io::Write;

/// `breachdesk log ID TEXT...`.
pub fn log(
    setup: &Setup,
    id: &str,
    text: &[String],
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let changed = setup.desk()?.log(id, &text.join(" "), now)?;
    writeln!(out, "{}: logged", changed.incident.id)?;
    Ok(())
}

/// `breachdesk edit ID ...`.
pub fn edit(setup: &Setup, args: EditArgs, now: DateTime<Utc>, out: &mut impl Write) -> Result<()> {
    let tz = setup.tz()?;
    let details = Box::new(details_edit(&args, now, tz)?);
    let identified_at = match &args.identified_at {
        Some(text) => Some((
            past(text, "--identified-at", now, tz)?,
            args.reason.clone().unwrap_or_default(),
        )),
        None => None,
    };
    let edit = Edit {
        title: args.title,
        summary: args.summary,
        kind: args.kind,
        severity: args.severity,
        personal_data: args.personal_data,
        government_data: args.government_data,
        add_assets: args.assets,
        add_responders: args.responders,
        identified_at,
        details,
    };
    let changed = setup.desk()?.edit(&args.id, edit, now)?;
    report_change(out, &changed, "saved")
}

fn clearing(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("none")
}

/// The `edit` flags for [`crate::domain::incident::Details`]; "none"
/// clears a time or a number.
fn details_edit(args: &EditArgs, now: DateTime<Utc>, tz: Tz) -> Result<DetailsEdit> {
    let started_at = match args.started_at.as_deref() {
        None => None,
        Some(t) if clearing(t) => Some(None),
        Some(t) => Some(Some(past(t, "--started-at", now, tz)?)),
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

/// `breachdesk step ID STEP [--status S] [--note TEXT] [--evidence-file F]`:
/// without `--status` the step keeps the one it has.
pub fn step(setup: &Setup, args: StepArgs, now: DateTime<Utc>, out: &mut impl Write) -> Result<()> {
    let evidence = args.evidence_file.as_deref();
    let desk = setup.desk()?;
    let changed = desk.update_step(&args.id, &args.step, args.status, args.note, evidence, now)?;
    report_change(out, &changed, &format!("step {} saved", args.step))
}

/// `breachdesk root-cause ID --category C --component X`.
pub fn root_cause(
    setup: &Setup,
    args: RootCauseArgs,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let changed = setup.desk()?.record_root_cause(
        &args.id,
        args.category,
        &args.component,
        args.analysis,
        args.prevention,
        now,
    )?;
    report_change(out, &changed, "root cause recorded")
}

/// `breachdesk mitigation ID ...`.
pub fn mitigation(
    setup: &Setup,
    args: MitigationArgs,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let tz = setup.tz()?;
    let relief_requested_at = args
        .relief_requested
        .as_deref()
        .map(|t| past(t, "--relief-requested", now, tz))
        .transpose()?;
    let relief_notice = match args.relief_notice_date.as_deref() {
        None => None,
        Some(date) => Some(ReliefNotice {
            dated: parse_date(date, "--relief-notice-date")?,
            reference: args.relief_notice_ref.clone().unwrap_or_default(),
            period: args.relief_period.clone().unwrap_or_default(),
        }),
    };
    let input = MitigationInput {
        description: args.description,
        tested_how: args.tested_how,
        tested: args.tested,
        affects_kpis: args.affects_kpis,
        relief_requested_at,
        relief_granted: args.relief_granted,
        relief_notice,
        relief_period: args.relief_period,
        evidence_file: args.evidence_file,
    };
    let changed = setup.desk()?.set_mitigation(&args.id, input, now)?;
    report_change(out, &changed, "mitigation saved")
}

/// `breachdesk isms ID --required BOOL [--description TEXT]`.
pub fn isms(
    setup: &Setup,
    id: &str,
    required: bool,
    description: &str,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let changed = setup
        .desk()?
        .set_isms_change(id, required, description, now)?;
    report_change(out, &changed, "ISMS change flag saved")
}

/// `breachdesk rca-required ID yes|no|unknown`.
pub fn rca_required(
    setup: &Setup,
    id: &str,
    value: RcaRequired,
    note: Option<String>,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let changed = setup.desk()?.set_rca_required(id, value, note, now)?;
    report_change(out, &changed, "root-cause analysis requirement saved")
}

/// `breachdesk close ID [--reason TEXT] [--not-a-breach]`.
pub fn close(
    setup: &Setup,
    id: &str,
    reason: Option<String>,
    not_a_breach: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = setup.desk()?;
    if not_a_breach {
        let changed = desk.close_not_a_breach(id, reason.as_deref().unwrap_or(""), now)?;
        report_change(out, &changed, "closed as not a Breach of Security")
    } else {
        let changed = desk.close(id, reason, now)?;
        report_change(out, &changed, "closed")
    }
}

/// `breachdesk reopen ID --reason TEXT`.
pub fn reopen(
    setup: &Setup,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let changed = setup.desk()?.reopen(id, reason, now)?;
    report_change(out, &changed, "reopened")
}
