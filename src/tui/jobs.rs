//! Work for the desk (disk and fsync): described by the app, run off the UI
//! task, and reported back as a [`Done`] (the event loop wraps it in the
//! app's `Action::Done`). Each job calls one `Desk` method.

use crate::desk::{Attempted, Desk, DeskError, Edit, MitigationInput, NotificationInput};
use crate::domain::incident::{
    DeliveryState, Incident, IncomingNotice, NewIncident, Requester, RootCauseCategory, StepStatus,
};
use crate::domain::summary::IncidentSummary;
use crate::mail::Notice;
use crate::mail::outbox::QueuedNotice;
use crate::tui::strings;
use chrono::{DateTime, Utc};
use std::path::PathBuf;

/// A change or a read, with the instant it was asked for.
#[derive(Debug, Clone)]
pub struct Job {
    pub seq: u64,
    pub now: DateTime<Utc>,
    pub kind: JobKind,
}

#[derive(Debug, Clone)]
pub enum JobKind {
    /// The board's rows: the open incidents, and the closed ones too when asked.
    LoadBoard {
        closed: bool,
    },
    LoadIncident(String),
    Open(NewIncident),
    /// A new incident the other party identified: its 8.1 notice to us.
    OpenOnNotice(NewIncident, IncomingNotice),
    Log {
        id: String,
        text: String,
        /// When it happened (now, or backdated).
        at: DateTime<Utc>,
    },
    AddRequest {
        id: String,
        requester: Requester,
        name: String,
        what: String,
        received_at: DateTime<Utc>,
    },
    Supply {
        id: String,
        request: String,
        at: DateTime<Utc>,
        how: String,
    },
    RootCause {
        id: String,
        category: RootCauseCategory,
        component: String,
        analysis: Option<String>,
        prevention: Vec<String>,
    },
    Mitigation {
        id: String,
        input: MitigationInput,
    },
    Isms {
        id: String,
        required: bool,
        description: String,
    },
    /// A step's status (None keeps it), a note and/or an evidence file
    /// (hashed by the desk).
    Step {
        id: String,
        step: String,
        status: Option<StepStatus>,
        note: Option<String>,
        evidence: Option<PathBuf>,
    },
    Notify {
        id: String,
        input: NotificationInput,
    },
    Close {
        id: String,
        reason: Option<String>,
    },
    /// Whether the Client requires a root-cause analysis (8.2.1 f).
    RcaRequired {
        id: String,
        required: crate::domain::incident::RcaRequired,
        note: Option<String>,
    },
    /// Close as not a Breach of Security, with the reasoning.
    CloseNotABreach {
        id: String,
        reasoning: String,
    },
    Reopen {
        id: String,
        reason: String,
    },
    Edit {
        id: String,
        edit: Edit,
    },
    /// Give a responder a role.
    AssignRole {
        id: String,
        role: crate::domain::incident::Role,
        to: String,
    },
    /// Take a role from whoever holds it (`assign --unassign`).
    UnassignRole {
        id: String,
        role: crate::domain::incident::Role,
    },
    /// Hand the incident over to the next responder.
    HandOver {
        id: String,
        to: String,
        note: String,
    },
    /// Acknowledge the handovers waiting on the incident.
    AcknowledgeHandovers(String),
    /// Compose a notice for the preview (reads templates and attachments;
    /// for the report, writes the report as Markdown and HTML). Nothing is queued.
    Compose(ComposeRequest),
    /// The responder confirmed this exact notice: queue it once, deliver it,
    /// record the acceptance.
    SendNotice(Box<Notice>),
    /// Try a notice again now, on purpose (a failed one too).
    RetryNotice(String),
    /// Drop a notice that has not been accepted, with the reason.
    CancelNotice {
        id: String,
        reason: String,
    },
    /// Send every pending notice whose backoff has expired.
    DeliverDue,
    /// Read the pending notices.
    LoadOutbox,
    /// The stamps that say whether records changed on disk (another
    /// `breachdesk` wrote): the incidents directory, and the open record.
    Stamp(Option<String>),
    /// Every legal clock of these incidents (id, the revision the board
    /// showed), for the alerts.
    LegalClocks(Vec<(String, u64)>),
    /// Sync the data directory with the team (git): commit, fetch, merge, push.
    Sync,
    /// The sync status for the header (`git status`, the state file).
    SyncStatus,
}

/// What to put in a notice: the desk's [`crate::desk::NoticeRequest`].
pub type ComposeRequest = crate::desk::NoticeRequest;

/// A notice still to go, as the outbox view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: String,
    /// pending, unknown (may have arrived) or failed (refused for good).
    pub state: DeliveryState,
    pub message_id: String,
    pub incident_id: String,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub queued_at: DateTime<Utc>,
    pub attempts: usize,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl OutboxRow {
    pub fn from_queued(q: &QueuedNotice) -> OutboxRow {
        OutboxRow {
            id: q.id().to_string(),
            state: q.effective_state(),
            message_id: q.notice.message_id.clone(),
            incident_id: q.notice.incident_id.clone(),
            kind: q.notice.kind.as_str().to_string(),
            to: q.notice.to.join(", "),
            subject: q.notice.subject.clone(),
            queued_at: q.queued_at,
            attempts: q.attempts.len(),
            next_attempt_at: q.next_attempt_at,
            last_error: match q.effective_state() {
                DeliveryState::Failed => q.server_reply(),
                _ => q.last_error().map(str::to_string),
            },
        }
    }
}

/// What a finished job brings back.
#[derive(Debug, Clone)]
pub enum Outcome {
    Board {
        summaries: Vec<IncidentSummary>,
        closed: usize,
        problems: Vec<String>,
    },
    Incident {
        incident: Box<Incident>,
        /// Loud warnings (paragraph 6.5 repeat root cause).
        warnings: Vec<String>,
        /// "Saved: ..." for the status line; None for a plain load.
        message: Option<String>,
        /// A new incident: show it.
        opened: bool,
    },
    /// A notice composed for the preview.
    Composed {
        notice: Box<Notice>,
        /// What the full-details report still lacks (shown before confirming).
        missing: Vec<String>,
    },
    /// Mail was tried: what happened, the incident as recorded after an
    /// acceptance, and the outbox as it is now.
    Mail {
        incidents: Vec<Incident>,
        message: Option<String>,
        failed: bool,
        outbox: Vec<OutboxRow>,
    },
    /// The pending notices.
    Outbox(Vec<OutboxRow>),
    /// See [`JobKind::Stamp`].
    Stamp(DiskStamp),
    /// Each incident's legal clocks: (id, revision asked about, clocks).
    LegalClocks(Vec<(String, u64, Vec<crate::domain::summary::DueClock>)>),
    /// A sync ended: its one line (or why it failed), the incidents whose
    /// merge resolved a conflict, and the status after it.
    Synced {
        said: String,
        failed: bool,
        conflicts: Vec<String>,
        status: Option<crate::desk::SyncStatus>,
    },
    /// See [`JobKind::SyncStatus`].
    SyncStatus(Option<crate::desk::SyncStatus>),
}

use crate::desk::DiskStamp;

/// The result of job `seq`.
#[derive(Debug, Clone)]
pub struct Done {
    pub seq: u64,
    pub result: Result<Outcome, String>,
}

/// The incidents, most urgent first (closed ones only when `closed`), how
/// many are closed, and the load problems.
pub fn board(desk: &Desk, closed: bool) -> Outcome {
    let found = desk.board(closed);
    Outcome::Board {
        summaries: found.summaries,
        closed: found.closed,
        problems: found.problems,
    }
}

/// A refusal in one line, in the console's words where they differ (email
/// off: what to do instead).
fn said(e: &DeskError) -> String {
    match e {
        DeskError::EmailOff => strings::NO_SMTP.to_string(),
        e => crate::text::one_line(&e.to_string()),
    }
}

/// The notices still to go (pending, unknown, failed).
fn outbox_rows(desk: &Desk) -> Vec<OutboxRow> {
    desk.notices_to_go()
        .map(|all| all.iter().map(OutboxRow::from_queued).collect())
        .unwrap_or_default()
}

/// The outcome of one attempt, for the status line and the screens.
fn attempted(desk: &Desk, result: Result<Attempted, crate::desk::DeskError>) -> Outcome {
    let (incidents, message, failed) = match result {
        Ok(a) => {
            let failed = !a.sent();
            (a.incident.into_iter().collect(), a.said, failed)
        }
        Err(e) => (Vec::new(), said(&e), true),
    };
    Outcome::Mail {
        incidents,
        message: Some(message),
        failed,
        outbox: outbox_rows(desk),
    }
}

/// Every due notice, each outcome recorded.
fn deliver_due(desk: &Desk, now: DateTime<Utc>) -> Result<Outcome, String> {
    let round = desk.deliver_due(now).map_err(|e| said(&e))?;
    let mut incidents = Vec::new();
    let (mut sent, mut problems) = (0, Vec::new());
    for a in &round.attempts {
        match a {
            Ok(a) if a.sent() => {
                sent += 1;
                incidents.extend(a.incident.clone());
            }
            Ok(a) => {
                incidents.extend(a.incident.clone());
                problems.push(a.said.clone());
            }
            Err(e) => problems.push(e.clone()),
        }
    }
    let message = (!round.attempts.is_empty() || !round.reconciled.is_empty()).then(|| {
        let mut said = format!("Outbox: {sent} of {} sent", round.attempts.len());
        if let Some(e) = problems.first() {
            said.push_str(&format!("; {}", crate::text::one_line(e)));
        }
        if let Some(first) = round.reconciled.first() {
            said.push_str(&format!("; {}", crate::text::one_line(first)));
        }
        said
    });
    Ok(Outcome::Mail {
        incidents,
        message,
        failed: !problems.is_empty(),
        outbox: outbox_rows(desk),
    })
}

/// One sync (this program is the merge driver git runs), and the status
/// after it.
fn synced(desk: &Desk, now: DateTime<Utc>) -> Outcome {
    let result = std::env::current_exe()
        .map_err(|e| format!("cannot tell where this breachdesk program is: {e}"))
        .and_then(|exe| desk.sync(&exe, now).map_err(|e| said(&e)));
    let (said, failed, conflicts) = match result {
        Ok(report) if !report.refused.is_empty() => (
            crate::text::one_line(&format!(
                "Sync {}",
                report
                    .refused
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            // The rest came in: the board reloads; the header warns.
            false,
            report.conflicts,
        ),
        Ok(report) => (
            crate::text::one_line(&report.to_string()),
            false,
            report.conflicts,
        ),
        Err(message) => (format!("Sync failed: {message}"), true, Vec::new()),
    };
    Outcome::Synced {
        said,
        failed,
        conflicts,
        status: desk.sync_status(),
    }
}

/// Runs a mailer job, or gives back a job that is not one.
fn run_mail(
    kind: JobKind,
    desk: &Desk,
    now: DateTime<Utc>,
) -> Result<Result<Outcome, String>, Box<JobKind>> {
    Ok(match kind {
        JobKind::Compose(req) => desk
            .compose_notice(req, now)
            .map(|c| Outcome::Composed {
                notice: Box::new(c.notice),
                missing: c.missing,
            })
            .map_err(|e| said(&e)),
        JobKind::SendNotice(notice) => match desk.send_notice(*notice, now) {
            Err(e @ DeskError::EmailOff) => Err(said(&e)),
            result => Ok(attempted(desk, result)),
        },
        JobKind::RetryNotice(id) => Ok(attempted(desk, desk.retry_notice(&id, now))),
        JobKind::CancelNotice { id, reason } => match desk.cancel_notice(&id, &reason, now) {
            Ok(changed) => Ok(Outcome::Mail {
                message: Some(format!(
                    "Cancelled {id}; the reason is recorded on {} and in the audit log",
                    changed.incident.id
                )),
                incidents: vec![changed.incident],
                failed: false,
                outbox: outbox_rows(desk),
            }),
            Err(e) => Err(said(&e)),
        },
        JobKind::DeliverDue => deliver_due(desk, now),
        JobKind::LoadOutbox => Ok(Outcome::Outbox(outbox_rows(desk))),
        JobKind::Sync => Ok(synced(desk, now)),
        JobKind::SyncStatus => Ok(Outcome::SyncStatus(desk.sync_status())),
        JobKind::Stamp(id) => Ok(Outcome::Stamp(desk.disk_stamp(id.as_deref()))),
        JobKind::LegalClocks(asked) => {
            let ids: Vec<String> = asked.iter().map(|(id, _)| id.clone()).collect();
            Ok(Outcome::LegalClocks(
                asked
                    .into_iter()
                    .zip(desk.legal_clocks(&ids))
                    .map(|((id, revision), (_, clocks))| (id, revision, clocks))
                    .collect(),
            ))
        }
        other => return Err(Box::new(other)),
    })
}

impl Job {
    /// Whether this job sends mail (at most one at a time).
    pub fn is_mail(&self) -> bool {
        matches!(
            self.kind,
            JobKind::SendNotice(_)
                | JobKind::RetryNotice(_)
                | JobKind::CancelNotice { .. }
                | JobKind::DeliverDue
        )
    }

    /// Does the work (blocking: disk, locks, fsync, SMTP) and says how it went.
    pub fn run(self, desk: &Desk) -> Done {
        let now = self.now;
        let seq = self.seq;
        let kind = match run_mail(self.kind, desk, now) {
            Ok(result) => return Done { seq, result },
            Err(kind) => *kind,
        };
        let saved = |message: &str, changed: crate::desk::Changed| Outcome::Incident {
            incident: Box::new(changed.incident),
            warnings: changed.warnings,
            message: Some(message.to_string()),
            opened: false,
        };
        let result = match kind {
            JobKind::LoadBoard { closed } => Ok(board(desk, closed)),
            JobKind::LoadIncident(id) => desk.load(&id).map(|incident| Outcome::Incident {
                incident: Box::new(incident),
                warnings: Vec::new(),
                message: None,
                opened: false,
            }),
            JobKind::Open(fields) => {
                desk.open_incident(fields, now)
                    .map(|incident| Outcome::Incident {
                        message: Some(format!(
                            "Opened {}: the 1-hour clock is running",
                            incident.id
                        )),
                        incident: Box::new(incident),
                        warnings: Vec::new(),
                        opened: true,
                    })
            }
            JobKind::OpenOnNotice(fields, notice) => desk
                .open_incident_on_notice(fields, notice, now)
                .map(|incident| Outcome::Incident {
                    message: Some(format!(
                        "Opened {}: the other party's 8.1 notice is recorded",
                        incident.id
                    )),
                    incident: Box::new(incident),
                    warnings: Vec::new(),
                    opened: true,
                }),
            JobKind::Log { id, text, at } => {
                desk.log_at(&id, &text, at, now).map(|c| saved("Logged", c))
            }
            JobKind::AddRequest {
                id,
                requester,
                name,
                what,
                received_at,
            } => desk
                .add_request(&id, requester, &name, &what, received_at, now)
                .map(|c| saved("Data request added", c)),
            JobKind::Supply {
                id,
                request,
                at,
                how,
            } => desk
                .supply_request(&id, &request, at, &how, &[], now)
                .map(|c| saved("Data request marked supplied", c)),
            JobKind::RootCause {
                id,
                category,
                component,
                analysis,
                prevention,
            } => desk
                .record_root_cause(&id, category, &component, analysis, prevention, now)
                .map(|c| saved("Root cause recorded", c)),
            JobKind::Mitigation { id, input } => desk
                .set_mitigation(&id, input, now)
                .map(|c| saved("Mitigation saved", c)),
            JobKind::Isms {
                id,
                required,
                description,
            } => desk
                .set_isms_change(&id, required, &description, now)
                .map(|c| saved("ISMS change saved", c)),
            JobKind::Step {
                id,
                step,
                status,
                note,
                evidence,
            } => desk
                .update_step(&id, &step, status, note, evidence.as_deref(), now)
                .map(|c| saved(&format!("Step {step} saved"), c)),
            JobKind::Notify { id, input } => desk
                .record_notification(&id, input, now)
                .map(|c| saved("Notification recorded", c)),
            JobKind::Close { id, reason } => desk
                .close(&id, reason, now)
                .map(|c| saved("Incident closed", c)),
            JobKind::RcaRequired { id, required, note } => desk
                .set_rca_required(&id, required, note, now)
                .map(|c| saved("Saved whether the Client requires an RCA", c)),
            JobKind::CloseNotABreach { id, reasoning } => desk
                .close_not_a_breach(&id, &reasoning, now)
                .map(|c| saved("Incident closed as not a Breach of Security", c)),
            JobKind::Reopen { id, reason } => desk
                .reopen(&id, &reason, now)
                .map(|c| saved("Incident reopened", c)),
            JobKind::Edit { id, edit } => desk
                .edit(&id, edit, now)
                .map(|c| saved("Incident updated", c)),
            JobKind::AssignRole { id, role, to } => desk.assign(&id, role, &to, now).map(|c| {
                let said = if c.written {
                    format!("Saved: {} is {}", role.label(), to.trim())
                } else {
                    format!("Nothing changed: {} is already {}", to.trim(), role.label())
                };
                saved(&said, c)
            }),
            JobKind::UnassignRole { id, role } => desk.unassign(&id, role, now).map(|c| {
                let said = if c.written {
                    format!("Saved: nobody is {} now", role.label())
                } else {
                    format!("Nothing changed: nobody was {}", role.label())
                };
                saved(&said, c)
            }),
            JobKind::HandOver { id, to, note } => desk
                .hand_over(&id, &to, &note, now)
                .map(|c| saved(&format!("Handover to {} saved", to.trim()), c)),
            JobKind::AcknowledgeHandovers(id) => desk
                .acknowledge_handovers(&id, now)
                .map(|c| saved("Handover acknowledged", c)),
            other => Err(crate::desk::DeskError::System(format!(
                "not a desk job: {other:?}"
            ))),
        };
        Done {
            seq,
            result: result.map_err(|e| said(&e)),
        }
    }
}
