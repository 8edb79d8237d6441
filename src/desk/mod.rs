//! The responder's desk: every change a responder can make to an incident,
//! shared by the command line and the console.
//!
//! Each change goes through the store (locked read-modify-write, saved at
//! once), and each change that was written gets an audit-log entry. Times are
//! arguments: nothing here reads the clock.

use crate::audit::{AuditError, AuditLog};
use crate::config::Config;
use crate::domain::calendar::WorkingCalendar;
use crate::domain::clock::DATA_REQUEST_WORKING_DAYS;
use crate::domain::incident::{
    BreachKind, Channel, Closure, DataDestination, DataRequest, EntryKind, Evidence, Incident,
    IncidentStatus, IncomingNotice, NewIncident, NewIncidentError, RcaRequired, ReliefNotice,
    RepeatLink, RequestAuthority, RequestEnded, RequestEnding, RequestStatus, Requester, RootCause,
    RootCauseCategory, Severity, StepStatus, incident_id,
};
use crate::domain::notice::NoticeKind;
use crate::domain::playbook::{RecordField, apply_playbooks, refresh_due_times, waiting_on};
use crate::domain::summary::IncidentSummary;
use crate::mail::{Draft, Notice};
use crate::playbooks::PlaybookSet;
use crate::store::{AuditNote, Store, StoreError, UpdateError};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a change was not made. The message is one line a responder can act
/// on; the variant says what kind of refusal it is, for a caller to match.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Audit(#[from] AuditError),
    #[error(transparent)]
    NewIncident(#[from] NewIncidentError),
    /// A team sync through git did not complete.
    #[error(transparent)]
    Sync(#[from] crate::sync::SyncError),
    /// Something the change needs was not given: an empty entry, no
    /// recipient, no reason where the contract or the record needs one.
    #[error("{0}")]
    Missing(String),
    /// The incident has no such data request, step, Security Test or notice.
    #[error("{0}")]
    NotFound(String),
    /// The record is not in a state that allows it: already closed, already
    /// open, already supplied, already notified.
    #[error("{0}")]
    WrongState(String),
    /// A value given cannot be right: a time in the future or before the
    /// breach was identified, a retention shorter than the minimum.
    #[error("{0}")]
    Invalid(String),
    /// A step's prerequisites or record checks are not met yet.
    #[error("{0}")]
    StepBlocked(String),
    /// No `[smtp]` section: email notices are off.
    #[error(
        "no [smtp] section in the config: email notices are off (breachdesk config init shows an example)"
    )]
    EmailOff,
    /// A notice could not be composed, queued or sent (the mailer's reason).
    #[error("{0}")]
    Notice(String),
    /// An evidence file could not be opened or read.
    #[error("evidence file {}: {source}", path.display())]
    Evidence {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The machine could not do it: no randomness, no async runtime.
    #[error("{0}")]
    System(String),
}

fn missing(message: impl Into<String>) -> DeskError {
    DeskError::Missing(message.into())
}
fn not_found(message: impl Into<String>) -> DeskError {
    DeskError::NotFound(message.into())
}
fn wrong_state(message: impl Into<String>) -> DeskError {
    DeskError::WrongState(message.into())
}
fn invalid(message: impl Into<String>) -> DeskError {
    DeskError::Invalid(message.into())
}
fn blocked(message: impl Into<String>) -> DeskError {
    DeskError::StepBlocked(message.into())
}
fn system(message: impl Into<String>) -> DeskError {
    DeskError::System(message.into())
}

impl From<UpdateError<DeskError>> for DeskError {
    fn from(e: UpdateError<DeskError>) -> Self {
        match e {
            UpdateError::Store(e) => DeskError::Store(e),
            UpdateError::Change(e) => e,
        }
    }
}

/// The outcome of a change: the record as saved, and anything the responder
/// must be told loudly (e.g. a repeat root cause).
#[derive(Debug, Clone)]
pub struct Changed {
    pub incident: Incident,
    pub written: bool,
    pub warnings: Vec<String>,
}

/// Everything the CLI and the console need to change incidents.
pub struct Desk {
    store: Store,
    audit: AuditLog,
    config: Config,
    playbooks: PlaybookSet,
    calendar: WorkingCalendar,
    tz: Tz,
    /// Who is making the changes (from config, else the OS user).
    actor: String,
}

/// The ids of the required steps that apply and are still open, as a
/// closure keeps them.
pub(crate) fn open_required_ids(incident: &Incident) -> Vec<String> {
    incident
        .open_required_steps()
        .filter(|s| s.applies(incident))
        .map(|s| s.id.clone())
        .collect()
}

/// Marks `incident` closed at `now`, keeping the reason and the open steps,
/// and logs `text` on its timeline.
pub(crate) fn close_record(
    incident: &mut Incident,
    actor: &str,
    now: DateTime<Utc>,
    reason: Option<String>,
    open_steps: Vec<String>,
    not_a_breach: bool,
    text: &str,
) {
    incident.status = IncidentStatus::Closed;
    incident.closure = Some(Closure {
        closed_at: now,
        closed_by: actor.to_string(),
        reason,
        open_steps,
        not_a_breach,
    });
    incident.log(now, actor, EntryKind::Change, text.to_string());
}

/// Adds to an audit entry's `detail` every timeline entry the change wrote
/// that it does not already quote, word for word.
fn quote_timeline(detail: &mut String, written: &[crate::domain::incident::TimelineEntry]) {
    for entry in written {
        if !detail.contains(&entry.text) {
            detail.push_str(&format!("; timeline ({}): {}", entry.kind, entry.text));
        }
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Desk {
    /// Opens the store and audit log in `data_dir` with the given settings.
    pub fn open(
        data_dir: &Path,
        config: Config,
        playbooks: PlaybookSet,
        calendar: WorkingCalendar,
    ) -> Result<Desk, DeskError> {
        let tz = calendar.tz();
        let store = Store::open_as(data_dir, Some(&config.responder_name()))?;
        Ok(Desk {
            audit: store.audit().clone(),
            store,
            actor: config.responder_name(),
            config,
            playbooks,
            calendar,
            tz,
        })
    }

    /// The same desk for reading only: nothing in the data directory is
    /// created, locked, cleaned, quarantined or indexed, so read-only
    /// commands work on a read-only data directory. Every change is refused.
    pub fn open_read_only(
        data_dir: &Path,
        config: Config,
        playbooks: PlaybookSet,
        calendar: WorkingCalendar,
    ) -> Result<Desk, DeskError> {
        let tz = calendar.tz();
        let store = Store::open_read_only(data_dir)?;
        Ok(Desk {
            audit: store.audit().clone(),
            store,
            actor: config.responder_name(),
            config,
            playbooks,
            calendar,
            tz,
        })
    }

    /// A summary of every incident, open and closed, and the problems with
    /// records that would not load (already quarantined). A full scan of the
    /// records' stamps; see [`crate::index`].
    pub fn summaries(&self) -> (Vec<IncidentSummary>, Vec<String>) {
        let found = crate::index::summaries(&self.store);
        (found.summaries, found.problems)
    }

    /// The open incidents' summaries, as the board and `list` show them at
    /// start-up: costs what the open work costs, not the archive.
    pub fn open_summaries(&self) -> (Vec<IncidentSummary>, Vec<String>) {
        let found = crate::index::open_summaries(&self.store);
        (found.summaries, found.problems)
    }

    /// One incident, by id or a unique part of it.
    pub fn load(&self, id: &str) -> Result<Incident, DeskError> {
        let id = self.store.resolve_id(id)?;
        Ok(self.store.load(&id)?)
    }

    /// Opens a new incident under every playbook in force; its 1-hour clock
    /// runs from `fields.identified_at`.
    pub fn open_incident(
        &self,
        fields: NewIncident,
        now: DateTime<Utc>,
    ) -> Result<Incident, DeskError> {
        let mut random = [0u8; 4];
        getrandom::fill(&mut random)
            .map_err(|e| system(format!("no randomness for a new id: {e}")))?;
        let id = incident_id(now, u32::from_le_bytes(random));
        let mut incident = Incident::new(id, fields, &self.actor, self.config.responder.role, now)?;
        apply_playbooks(&mut incident, &self.playbooks.playbooks, &self.calendar);
        let playbooks: Vec<String> = incident
            .playbooks
            .iter()
            .map(|p| format!("{} v{}", p.name, p.version))
            .collect();
        let note = AuditNote::new(
            now,
            &self.actor,
            "incident.opened",
            &format!(
                "opened '{}' ({}, {}); identified at {}; notify by {}; playbooks: {}",
                incident.title,
                incident.kind,
                incident.severity,
                stamp(incident.identified_at),
                stamp(incident.notification.due_at),
                playbooks.join(", ")
            ),
        );
        let mut note = note;
        quote_timeline(&mut note.detail, &incident.timeline);
        let saved = self.store.create(&incident, &note)?;
        tracing::info!(incident = %saved.id, revision = saved.revision, action = "incident.opened", "change committed");
        Ok(saved)
    }

    /// Applies `change` under the store's lock, refreshes due times, saves if
    /// anything changed, and then writes one audit entry `action` whose detail
    /// `change` returned.
    fn change(
        &self,
        id: &str,
        now: DateTime<Utc>,
        action: &str,
        change: impl FnOnce(&mut Incident) -> Result<String, DeskError>,
    ) -> Result<Changed, DeskError> {
        let id = self.store.resolve_id(id)?;
        let calendar = &self.calendar;
        let (incident, written) = self.store.update(&id, |incident: &mut Incident| {
            let timeline_before = incident.timeline.clone();
            let mut detail = change(incident)?;
            refresh_due_times(incident, calendar);
            if detail.trim().is_empty() {
                detail = action.to_string();
            }
            // Entries are usually appended, but a backdated one is placed in
            // time order: quote whatever is new, wherever it landed.
            let written: Vec<_> = incident
                .timeline
                .iter()
                .filter(|e| !timeline_before.contains(e))
                .cloned()
                .collect();
            quote_timeline(&mut detail, &written);
            Ok::<AuditNote, DeskError>(AuditNote::new(now, &self.actor, action, &detail))
        })?;
        tracing::info!(incident = %incident.id, revision = incident.revision, action, "change committed");
        Ok(Changed {
            incident,
            written,
            warnings: Vec::new(),
        })
    }

    /// Appends a timeline entry.
    pub fn log(&self, id: &str, text: &str, now: DateTime<Utc>) -> Result<Changed, DeskError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(missing("the log entry is empty"));
        }
        let actor = self.actor.clone();
        self.change(id, now, "timeline.entry", |incident| {
            incident.log(now, &actor, EntryKind::Note, text);
            Ok(format!("timeline: {text}"))
        })
    }

    /// Appends a timeline entry that happened at `at` (now or earlier, not
    /// before the breach was identified): it goes in the timeline in time
    /// order, and the audit entry (made now) says it was backdated.
    pub fn log_at(
        &self,
        id: &str,
        text: &str,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        if at >= now {
            return self.log(id, text, now);
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(missing("the log entry is empty"));
        }
        let actor = self.actor.clone();
        self.change(id, now, "timeline.entry", |incident| {
            if at < incident.identified_at {
                return Err(invalid(format!(
                    "{} is before the breach was identified ({})",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    incident
                        .identified_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )));
            }
            let place = incident.timeline.partition_point(|e| e.at <= at);
            incident.log(at, &actor, EntryKind::Note, text);
            let entry = incident.timeline.pop().expect("just logged");
            incident.timeline.insert(place, entry);
            Ok(format!(
                "timeline (backdated to {}): {text}",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ))
        })
    }
}

/// Marks open steps that fill `field` done (e.g. recording the notification
/// completes step 8.1).
pub(crate) fn mark_filled_steps(
    incident: &mut Incident,
    field: RecordField,
    actor: &str,
    at: DateTime<Utc>,
) {
    // The same dependency rule as marking a step done by hand: a step
    // whose prerequisites are still open stays open (the record keeps what
    // was sent), and is marked done once they are.
    let snapshot = incident.clone();
    let ready: Vec<String> = snapshot
        .steps
        .iter()
        .filter(|s| s.fills.contains(&field) && s.is_open())
        .filter(|s| crate::domain::playbook::waiting_on(&snapshot, s).is_empty())
        .map(|s| s.id.clone())
        .collect();
    for step in incident.steps.iter_mut().filter(|s| ready.contains(&s.id)) {
        step.status = StepStatus::Done;
        step.completed_at = Some(at);
        step.updated_at = Some(at);
        step.who = Some(actor.to_string());
    }
}

mod console;
mod contract;
mod documents;
mod edit;
mod evidence;
mod notice_records;
mod notices;
mod notification;
mod requests;
mod root_cause;
mod steps;
mod sync;
mod sync_incoming;
mod sync_merge;
mod sync_move;
mod team;
mod upkeep;
pub use contract::*;
pub use documents::*;
pub use edit::*;
pub use evidence::*;
pub use notices::*;
pub use notification::*;
pub use requests::*;
pub use root_cause::*;
pub use sync::*;
pub use upkeep::*;
