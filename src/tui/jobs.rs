//! Work for the desk (disk and fsync): described by the app, run off the UI
//! task, and reported back as an [`Action::Done`] on the same channel.

use crate::desk::{Desk, Edit, MitigationInput, NotificationInput};
use crate::domain::incident::{
    Incident, IncomingNotice, NewIncident, Requester, RootCauseCategory, StepStatus,
};
use crate::domain::summary::{IncidentSummary, sort_by_urgency};
use crate::mail::outbox::{self, Delivery, QueuedNotice};
use crate::mail::template::missing_for_report;
use crate::mail::{Draft, MailError, Notice, NoticeKind, compose};
use crate::tui::app::Action;
use crate::tui::strings;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

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
    /// Compose a notice for the preview (reads templates and attachments;
    /// for the report, writes the Markdown export). Nothing is queued.
    Compose(ComposeRequest),
    /// The responder confirmed this exact notice: queue it once, deliver it,
    /// record the acceptance.
    SendNotice(Box<Notice>),
    /// Try a pending notice again now.
    RetryNotice(String),
    /// Send every pending notice whose backoff has expired.
    DeliverDue,
    /// Read the pending notices.
    LoadOutbox,
}

/// What to put in a notice (the rest comes from the record and config).
#[derive(Debug, Clone)]
pub struct ComposeRequest {
    pub id: String,
    pub kind: NoticeKind,
    /// `<config dir>/templates`, whose files override the built-in ones.
    pub templates: Option<PathBuf>,
    /// Overrides the configured recipient (notification only).
    pub to: Option<String>,
    pub first_actions: String,
    pub delay_reason: Option<String>,
    /// The data request answered (data supply).
    pub request: Option<String>,
    pub files: Vec<PathBuf>,
    pub message: String,
}

impl ComposeRequest {
    /// A request for notice `kind` about incident `id`, with nothing added.
    pub fn new(id: &str, kind: NoticeKind) -> ComposeRequest {
        ComposeRequest {
            id: id.to_string(),
            kind,
            templates: None,
            to: None,
            first_actions: String::new(),
            delay_reason: None,
            request: None,
            files: Vec::new(),
            message: String::new(),
        }
    }
}

/// A pending notice, as the outbox view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: String,
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
            incident_id: q.notice.incident_id.clone(),
            kind: q.notice.kind.as_str().to_string(),
            to: q.notice.to.join(", "),
            subject: q.notice.subject.clone(),
            queued_at: q.queued_at,
            attempts: q.attempts.len(),
            next_attempt_at: q.next_attempt_at,
            last_error: q.last_error().map(str::to_string),
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
}

/// The result of job `seq`.
#[derive(Debug, Clone)]
pub struct Done {
    pub seq: u64,
    pub result: Result<Outcome, String>,
}

/// The incidents, most urgent first (closed ones only when `closed`), how
/// many are closed, and the load problems.
pub fn board(desk: &Desk, closed: bool) -> Outcome {
    let found = if closed {
        crate::index::summaries(&desk.store)
    } else {
        crate::index::open_summaries(&desk.store)
    };
    let mut summaries = found.summaries;
    sort_by_urgency(&mut summaries);
    Outcome::Board {
        summaries,
        closed: found.closed,
        problems: found.problems,
    }
}

/// Runs a future to completion from blocking code: on the console's
/// runtime when called from its blocking pool, else on a runtime of its own.
/// (Never call from inside an async task.)
fn block_on<F: std::future::Future>(fut: F) -> Result<F::Output, String> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => Ok(handle.block_on(fut)),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(fut))
            .map_err(|e| format!("cannot start the async runtime: {e}")),
    }
}

fn outbox_dir(desk: &Desk) -> PathBuf {
    outbox::outbox_dir(desk.store.data_dir())
}

fn outbox_rows(dir: &Path) -> Vec<OutboxRow> {
    outbox::pending(dir)
        .map(|p| p.iter().map(OutboxRow::from_queued).collect())
        .unwrap_or_default()
}

/// Composes the notice asked for (nothing is queued).
fn compose_notice(desk: &Desk, req: ComposeRequest, now: DateTime<Utc>) -> Result<Outcome, String> {
    let text = |e: &dyn std::fmt::Display| crate::text::one_line(&e.to_string());
    let incident = desk.load(&req.id).map_err(|e| text(&e))?;
    let mut draft = match req.kind {
        NoticeKind::DataSupply => Draft::supply(
            &incident,
            &desk.config,
            req.request.as_deref().unwrap_or_default(),
            req.files.clone(),
        ),
        kind => Draft::new(kind, &incident, &desk.config),
    }
    .map_err(|e| text(&e))?;
    if let Some(to) = req.to.filter(|t| !t.trim().is_empty()) {
        draft.to = vec![to.trim().to_string()];
    }
    draft.first_actions = req.first_actions;
    draft.delay_reason = req.delay_reason;
    draft.message = req.message;
    let mut missing = Vec::new();
    if req.kind == NoticeKind::FullReport {
        missing = missing_for_report(&incident);
        let markdown =
            crate::mail::report_attachment(desk.store.data_dir(), &incident, desk.tz, now)
                .map_err(|e| text(&e))?;
        draft.attachments = vec![markdown];
    }
    let notice = compose(&draft, req.templates.as_deref(), desk.tz, now).map_err(|e| text(&e))?;
    Ok(Outcome::Composed {
        notice: Box::new(notice),
        missing,
    })
}

/// Records an acceptance in the incident and the audit log.
fn record(
    desk: &Desk,
    delivery: &Delivery,
    notice: &Notice,
    at: DateTime<Utc>,
) -> Result<(Incident, String), String> {
    let changed = desk.record_sent_notice(delivery, notice, at).map_err(|e| {
        format!(
            "{} was accepted by the server (Message-ID {}) but not recorded: {}",
            delivery.id,
            delivery.message_id,
            crate::text::one_line(&e.to_string())
        )
    })?;
    let said = format!(
        "Sent {} {} to {} (Message-ID {}); server: {}",
        delivery.incident_id,
        delivery.kind.as_str(),
        delivery.to.join(", "),
        delivery.message_id,
        crate::text::one_line(&delivery.reply)
    );
    Ok((changed.incident, said))
}

/// The delivery a notice had, when the server accepted it but the outbox
/// could not say so.
fn accepted_anyway(dir: &Path, e: &MailError, at: DateTime<Utc>) -> Option<(Delivery, Notice)> {
    let MailError::AcceptedNotRecorded {
        id,
        message_id,
        reply,
        ..
    } = e
    else {
        return None;
    };
    let notice = outbox::get(dir, id).ok()?.notice;
    let delivery = Delivery {
        id: id.clone(),
        incident_id: notice.incident_id.clone(),
        kind: notice.kind,
        request_id: notice.request_id.clone(),
        message_id: message_id.clone(),
        reply: reply.clone(),
        accepted_at: at,
        to: notice.to.clone(),
        cc: notice.cc.clone(),
    };
    Some((delivery, notice))
}

/// One attempt at notice `id` (already queued), recorded on acceptance.
fn deliver_one(desk: &Desk, dir: &Path, id: &str, now: DateTime<Utc>) -> Result<Outcome, String> {
    let smtp = desk.config.smtp.clone().ok_or(strings::NO_SMTP)?;
    let started = std::time::Instant::now();
    let result = block_on(outbox::deliver(dir, id, &smtp, now))?;
    let at = now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
    let accepted = match result {
        Ok(delivery) => outbox::get(dir, id)
            .map(|q| (delivery, q.notice))
            .map_err(|e| e.to_string()),
        Err(e) => accepted_anyway(dir, &e, at).ok_or_else(|| e.to_string()),
    };
    let mut incidents = Vec::new();
    let (message, failed) = match accepted {
        Ok((delivery, notice)) => match record(desk, &delivery, &notice, at) {
            Ok((incident, said)) => {
                incidents.push(incident);
                (said, false)
            }
            Err(e) => (e, true),
        },
        Err(e) => (
            format!(
                "Not sent: {}. The notice {id} is kept in the outbox and will be retried (O: outbox)",
                crate::text::one_line(&e)
            ),
            true,
        ),
    };
    Ok(Outcome::Mail {
        incidents,
        message: Some(message),
        failed,
        outbox: outbox_rows(dir),
    })
}

/// Every due notice, each acceptance recorded.
fn deliver_due(desk: &Desk, dir: &Path, now: DateTime<Utc>) -> Result<Outcome, String> {
    let smtp = desk.config.smtp.clone().ok_or(strings::NO_SMTP)?;
    // First, any acceptance a crash kept out of its incident.
    let reconciled = desk.reconcile_outbox(now);
    let started = std::time::Instant::now();
    let results = block_on(outbox::deliver_due(dir, &smtp, now))?.map_err(|e| e.to_string())?;
    let at = now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
    let mut incidents = Vec::new();
    let (mut sent, mut errors) = (0, Vec::new());
    for (id, result) in &results {
        let accepted = match result {
            Ok(delivery) => outbox::get(dir, id)
                .ok()
                .map(|q| (delivery.clone(), q.notice)),
            Err(e) => accepted_anyway(dir, e, at),
        };
        match accepted {
            Some((delivery, notice)) => match record(desk, &delivery, &notice, at) {
                Ok((incident, _)) => {
                    sent += 1;
                    incidents.push(incident);
                }
                Err(e) => errors.push(e),
            },
            None => {
                if let Err(e) = result {
                    errors.push(format!("{id}: {e}"));
                }
            }
        }
    }
    let message = (!results.is_empty() || !reconciled.is_empty()).then(|| {
        let mut said = format!("Outbox: {sent} of {} sent", results.len());
        if let Some(e) = errors.first() {
            said.push_str(&format!("; kept for retry: {}", crate::text::one_line(e)));
        }
        if let Some(first) = reconciled.first() {
            said.push_str(&format!("; {}", crate::text::one_line(first)));
        }
        said
    });
    Ok(Outcome::Mail {
        incidents,
        message,
        failed: !errors.is_empty(),
        outbox: outbox_rows(dir),
    })
}

/// Runs a mailer job, or gives back a job that is not one.
fn run_mail(
    kind: JobKind,
    desk: &Desk,
    now: DateTime<Utc>,
) -> Result<Result<Outcome, String>, Box<JobKind>> {
    Ok(match kind {
        JobKind::Compose(req) => compose_notice(desk, req, now),
        JobKind::SendNotice(notice) => {
            let dir = outbox_dir(desk);
            let id = notice.id.clone();
            match desk.config.smtp {
                None => Err(strings::NO_SMTP.to_string()),
                Some(_) => match outbox::queue(&dir, *notice, now) {
                    Ok(_) => deliver_one(desk, &dir, &id, now),
                    Err(e) => Err(format!(
                        "Not sent, nothing queued: {}",
                        crate::text::one_line(&e.to_string())
                    )),
                },
            }
        }
        JobKind::RetryNotice(id) => {
            let dir = outbox_dir(desk);
            match outbox::retry_now(&dir, &id, now) {
                Ok(_) => deliver_one(desk, &dir, &id, now),
                Err(e) => Err(crate::text::one_line(&e.to_string())),
            }
        }
        JobKind::DeliverDue => deliver_due(desk, &outbox_dir(desk), now),
        JobKind::LoadOutbox => outbox::pending(&outbox_dir(desk))
            .map(|p| Outcome::Outbox(p.iter().map(OutboxRow::from_queued).collect()))
            .map_err(|e| crate::text::one_line(&e.to_string())),
        other => return Err(Box::new(other)),
    })
}

impl Job {
    /// Whether this job sends mail (at most one at a time).
    pub fn is_mail(&self) -> bool {
        matches!(
            self.kind,
            JobKind::SendNotice(_) | JobKind::RetryNotice(_) | JobKind::DeliverDue
        )
    }

    /// Does the work (blocking: disk, locks, fsync, SMTP) and says how it went.
    pub fn run(self, desk: &Desk) -> Action {
        let now = self.now;
        let seq = self.seq;
        let kind = match run_mail(self.kind, desk, now) {
            Ok(result) => return Action::Done(Done { seq, result }),
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
            JobKind::Log { id, text } => desk.log(&id, &text, now).map(|c| saved("Logged", c)),
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
            } => {
                let status = match status {
                    Some(s) => Ok(s),
                    None => desk.load(&id).and_then(|i| {
                        i.step(&step).map(|s| s.status).ok_or_else(|| {
                            crate::desk::DeskError::Refused(format!("no step '{step}'"))
                        })
                    }),
                };
                status
                    .and_then(|status| {
                        desk.set_step(&id, &step, status, note, evidence.as_deref(), now)
                    })
                    .map(|c| saved(&format!("Step {step} saved"), c))
            }
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
            other => Err(crate::desk::DeskError::Refused(format!(
                "not a desk job: {other:?}"
            ))),
        };
        Action::Done(Done {
            seq,
            result: result.map_err(|e| crate::text::one_line(&e.to_string())),
        })
    }
}
