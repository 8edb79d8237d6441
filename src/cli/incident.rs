//! The arguments of the commands that change one incident: open, edit,
//! notify, steps, root cause, mitigation; and how one is shown or exported.

use super::choice::choice;
use crate::domain::incident::{
    BreachKind, Channel, IdentifiedBy, RootCauseCategory, Severity, StepStatus,
};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct NewArgs {
    /// What happened (with --from-eml, the message's subject if not given).
    #[arg(long, required_unless_present = "from_eml")]
    pub title: Option<String>,
    /// What is known so far, in a few sentences.
    #[arg(long, default_value = "")]
    pub summary: String,
    /// When the breach was identified: RFC 3339, HH:MM, -20m (default now;
    /// for --identified-by other-party, the time the notice was received).
    #[arg(long, allow_hyphen_values = true)]
    pub identified_at: Option<String>,
    /// us (we notify the other party within 1 hour, 8.1) or other-party
    /// (it notified us: give --received-at, --received-from, --channel).
    #[arg(long, default_value = "us", value_parser = choice::<IdentifiedBy>())]
    pub identified_by: IdentifiedBy,
    /// When the other party's 8.1 notice reached us.
    #[arg(long, allow_hyphen_values = true)]
    pub received_at: Option<String>,
    /// Who gave the notice.
    #[arg(long)]
    pub received_from: Option<String>,
    /// How the notice came.
    #[arg(long, value_parser = choice::<Channel>())]
    pub channel: Option<Channel>,
    /// The notice's reference (e.g. its Message-ID or a call reference).
    #[arg(long)]
    pub reference: Option<String>,
    /// Read the notice from a saved email (RFC 5322 .eml): received time from
    /// its Date: header, sender from From:, title from Subject:, summary from
    /// the body, reference from Message-ID:.
    #[arg(long, value_name = "FILE")]
    pub from_eml: Option<PathBuf>,
    /// The kind: a breach, or a potential or attempted one.
    #[arg(long, default_value = "breach", value_parser = choice::<BreachKind>())]
    pub kind: BreachKind,
    /// How bad it is (`[severity]` in the config defines each level).
    #[arg(long, default_value = "high", value_parser = choice::<Severity>())]
    pub severity: Severity,
    /// Personal data is involved (the UK GDPR steps apply).
    #[arg(long)]
    pub personal_data: bool,
    /// Government data is involved.
    #[arg(long)]
    pub government_data: bool,
    /// An affected asset (may be repeated).
    #[arg(long = "asset")]
    pub assets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The incident's id (INC-...).
    pub id: String,
    /// A new title.
    #[arg(long)]
    pub title: Option<String>,
    /// A new summary.
    #[arg(long)]
    pub summary: Option<String>,
    /// A new kind: a breach, or a potential or attempted one.
    #[arg(long, value_parser = choice::<BreachKind>())]
    pub kind: Option<BreachKind>,
    /// A new severity.
    #[arg(long, value_parser = choice::<Severity>())]
    pub severity: Option<Severity>,
    /// true or false: whether personal data is involved.
    #[arg(long, action = clap::ArgAction::Set)]
    pub personal_data: Option<bool>,
    /// true or false: whether government data is involved.
    #[arg(long, action = clap::ArgAction::Set)]
    pub government_data: Option<bool>,
    /// Add an affected asset (may be repeated).
    #[arg(long = "asset")]
    pub assets: Vec<String>,
    /// Add a responder (may be repeated).
    #[arg(long = "responder")]
    pub responders: Vec<String>,
    /// Moves the start of the 1-hour clock; needs --reason.
    #[arg(long, requires = "reason", allow_hyphen_values = true)]
    pub identified_at: Option<String>,
    /// Why --identified-at moves (kept in the record and the audit log).
    #[arg(long)]
    pub reason: Option<String>,
    /// When the breach started (distinct from when it was identified); "none" clears it.
    #[arg(long, allow_hyphen_values = true)]
    pub started_at: Option<String>,
    /// How the breach was detected.
    #[arg(long)]
    pub detected_how: Option<String>,
    /// Impact on the service.
    #[arg(long)]
    pub service_impact: Option<String>,
    /// Impact on confidentiality.
    #[arg(long)]
    pub confidentiality: Option<String>,
    /// Impact on integrity.
    #[arg(long)]
    pub integrity: Option<String>,
    /// Impact on availability.
    #[arg(long)]
    pub availability: Option<String>,
    /// Containment status, e.g. "contained at 15:10: VPN account disabled".
    #[arg(long)]
    pub containment: Option<String>,
    /// How many data subjects are affected; "none" clears it.
    #[arg(long)]
    pub data_subjects: Option<String>,
    /// Categories of personal data affected.
    #[arg(long)]
    pub data_categories: Option<String>,
    /// Which Government Data is affected.
    #[arg(long)]
    pub government_data_details: Option<String>,
    /// Who else has been told (the notice register holds the records).
    #[arg(long)]
    pub others_told: Option<String>,
    /// When the next update to the other party is due; "none" clears it.
    #[arg(long, allow_hyphen_values = true)]
    pub next_update: Option<String>,
    /// Residual risk after the mitigation (for the 8.2.1 (f) report).
    #[arg(long)]
    pub residual_risk: Option<String>,
    /// Lessons learned (for the 8.2.1 (f) report).
    #[arg(long)]
    pub lessons_learned: Option<String>,
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// The incident's id (INC-...).
    pub id: String,
    /// phone or in-person to record a notification already made (email sends one).
    #[arg(long, value_parser = choice::<Channel>())]
    pub channel: Option<Channel>,
    /// Who was notified.
    #[arg(long)]
    pub to: Option<String>,
    /// When (default now).
    #[arg(long, default_value = "now", allow_hyphen_values = true)]
    pub at: String,
    /// A reference for the notification (e.g. a call log number).
    #[arg(long)]
    pub reference: Option<String>,
    /// Why the notification was after its 1-hour deadline.
    #[arg(long)]
    pub delay_reason: Option<String>,
    /// For an email notification: what has been done so far.
    #[arg(long, default_value = "")]
    pub first_actions: String,
    /// Copy the email to ADDR too (repeatable; on top of `[contacts] cc`).
    #[arg(long = "cc", value_name = "ADDR")]
    pub cc: Vec<String>,
    /// Send an 8.1 notification by email although one is already recorded,
    /// for this reason (kept in the notice, the record and the audit log).
    #[arg(long, value_name = "REASON")]
    pub again: Option<String>,
    /// Send without asking.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct RootCauseArgs {
    /// The incident's id (INC-...).
    pub id: String,
    /// The root cause's category.
    #[arg(long, value_parser = choice::<RootCauseCategory>())]
    pub category: RootCauseCategory,
    /// The asset or component that failed.
    #[arg(long)]
    pub component: String,
    /// The analysis, in words.
    #[arg(long)]
    pub analysis: Option<String>,
    /// A prevention action (may be repeated).
    #[arg(long = "prevention")]
    pub prevention: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MitigationArgs {
    /// The incident's id (INC-...).
    pub id: String,
    /// What was done to mitigate the breach.
    #[arg(long)]
    pub description: Option<String>,
    /// How the mitigation was tested.
    #[arg(long)]
    pub tested_how: Option<String>,
    /// true or false: whether the mitigation has been tested.
    #[arg(long, action = clap::ArgAction::Set)]
    pub tested: Option<bool>,
    /// true or false: whether the breach affects KPIs.
    #[arg(long, action = clap::ArgAction::Set)]
    pub affects_kpis: Option<bool>,
    /// When KPI relief was requested from the Client.
    #[arg(long, allow_hyphen_values = true)]
    pub relief_requested: Option<String>,
    /// true or false: whether the Client granted KPI relief.
    #[arg(long, action = clap::ArgAction::Set)]
    pub relief_granted: Option<bool>,
    /// The relief period, in words (e.g. "2 weeks from 3 March").
    #[arg(long)]
    pub relief_period: Option<String>,
    /// A file evidencing the mitigation (hashed into the record).
    #[arg(long)]
    pub evidence_file: Option<PathBuf>,
    /// The date of the Client's written notice setting the relief period
    /// (8.2.1 c), YYYY-MM-DD; needs --relief-notice-ref and --relief-period.
    #[arg(long, requires_all = ["relief_notice_ref", "relief_period"])]
    pub relief_notice_date: Option<String>,
    /// The Client's reference for that notice.
    #[arg(long, requires = "relief_notice_date")]
    pub relief_notice_ref: Option<String>,
}

#[derive(Debug, Args)]
pub struct StepArgs {
    /// The incident's id (INC-...).
    pub id: String,
    /// The step's id, as the playbook names it (e.g. 8.2.1c).
    pub step: String,
    /// The step's new status (default: it keeps its status).
    #[arg(long, value_parser = choice::<StepStatus>())]
    pub status: Option<StepStatus>,
    /// A note on the step.
    #[arg(long)]
    pub note: Option<String>,
    /// A file evidencing the step (hashed into the record).
    #[arg(long)]
    pub evidence_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Text,
    Json,
    Toml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Markdown,
    /// The Markdown export's content as self-contained HTML.
    Html,
    Json,
    Ics,
    /// The 8.2.1 (f) full-details report as plain text.
    ReportText,
    /// The 8.2.1 (f) full-details report as Markdown (as attached to the report email).
    ReportMarkdown,
    /// The 8.2.1 (f) full-details report as self-contained printable HTML.
    ReportHtml,
}
