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
    RepeatLink, RequestAuthority, RequestStatus, Requester, RootCause, RootCauseCategory, Severity,
    StepStatus, incident_id,
};
use crate::domain::playbook::{RecordField, apply_playbooks, refresh_due_times, waiting_on};
use crate::domain::summary::IncidentSummary;
use crate::mail::{Draft, Notice, NoticeKind};
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

/// Fields of an incident a responder may edit after opening it.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub kind: Option<BreachKind>,
    pub severity: Option<Severity>,
    pub personal_data: Option<bool>,
    pub government_data: Option<bool>,
    pub add_assets: Vec<String>,
    pub add_responders: Vec<String>,
    /// Moving the start of the 1-hour clock needs a reason.
    pub identified_at: Option<(DateTime<Utc>, String)>,
    /// The facts the notices and the report state; `None` leaves a field as it is.
    pub details: Box<DetailsEdit>,
}

/// Changes to [`Details`](crate::domain::incident::Details); `None` leaves a
/// field as it is, an empty text clears it.
#[derive(Debug, Clone, Default)]
pub struct DetailsEdit {
    pub started_at: Option<Option<DateTime<Utc>>>,
    pub detected_how: Option<String>,
    pub service_impact: Option<String>,
    pub confidentiality: Option<String>,
    pub integrity: Option<String>,
    pub availability: Option<String>,
    pub containment: Option<String>,
    pub data_subjects: Option<Option<u64>>,
    pub data_categories: Option<String>,
    pub government_data_details: Option<String>,
    pub others_told: Option<String>,
    pub next_update_due: Option<Option<DateTime<Utc>>>,
    pub residual_risk: Option<String>,
    pub lessons_learned: Option<String>,
}

impl DetailsEdit {
    /// Applies the changes; returns what changed, in words.
    fn apply(
        self,
        d: &mut crate::domain::incident::Details,
        identified_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, DeskError> {
        let mut said = Vec::new();
        if let Some(Some(at)) = self.started_at {
            if at > now {
                return Err(invalid(format!(
                    "the breach start {} is in the future",
                    stamp(at)
                )));
            }
            if at > identified_at {
                return Err(invalid(format!(
                    "the breach start {} is after it was identified ({})",
                    stamp(at),
                    stamp(identified_at)
                )));
            }
        }
        if let Some(v) = self.started_at
            && v != d.started_at
        {
            said.push(match v {
                Some(at) => format!("breach started at {}", stamp(at)),
                None => "breach start cleared".to_string(),
            });
            d.started_at = v;
        }
        if let Some(v) = self.next_update_due
            && v != d.next_update_due
        {
            said.push(match v {
                Some(at) => format!("next update due {}", stamp(at)),
                None => "next update due cleared".to_string(),
            });
            d.next_update_due = v;
        }
        if let Some(v) = self.data_subjects
            && v != d.data_subjects
        {
            said.push(match v {
                Some(n) => format!("data subjects: {n}"),
                None => "data subjects cleared".to_string(),
            });
            d.data_subjects = v;
        }
        let texts: [(&str, Option<String>, &mut String); 11] = [
            ("how detected", self.detected_how, &mut d.detected_how),
            ("service impact", self.service_impact, &mut d.service_impact),
            (
                "confidentiality impact",
                self.confidentiality,
                &mut d.confidentiality,
            ),
            ("integrity impact", self.integrity, &mut d.integrity),
            (
                "availability impact",
                self.availability,
                &mut d.availability,
            ),
            ("containment", self.containment, &mut d.containment),
            (
                "data categories",
                self.data_categories,
                &mut d.data_categories,
            ),
            (
                "Government Data details",
                self.government_data_details,
                &mut d.government_data_details,
            ),
            ("others told", self.others_told, &mut d.others_told),
            ("residual risk", self.residual_risk, &mut d.residual_risk),
            (
                "lessons learned",
                self.lessons_learned,
                &mut d.lessons_learned,
            ),
        ];
        for (label, new, field) in texts {
            if let Some(new) = new {
                let new = new.trim().to_string();
                if new != *field {
                    said.push(format!("{label} -> {new:?}"));
                    *field = new;
                }
            }
        }
        Ok(said)
    }
}

/// A notice given or received other than by breachdesk's email, as typed.
#[derive(Debug, Clone)]
pub struct OtherNoticeInput {
    pub direction: crate::domain::incident::Direction,
    pub party: crate::domain::incident::NoticeParty,
    pub channel: crate::domain::incident::NoticeChannel,
    pub at: DateTime<Utc>,
    pub counterpart: String,
    pub reference: Option<String>,
    pub summary: String,
}

/// The paragraph 8.2.1 (c) mitigation, as typed.
#[derive(Debug, Clone, Default)]
pub struct MitigationInput {
    pub description: Option<String>,
    pub tested_how: Option<String>,
    pub tested: Option<bool>,
    pub affects_kpis: Option<bool>,
    pub relief_requested_at: Option<DateTime<Utc>>,
    pub relief_granted: Option<bool>,
    pub relief_period: Option<String>,
    pub evidence_file: Option<PathBuf>,
    /// The Client's written notice setting the relief period (8.2.1 c).
    pub relief_notice: Option<ReliefNotice>,
}

/// An 8.2.1 (e) data request, as the responder gives it. The request is
/// the Client's (its authority); `requester_name` is who asked.
#[derive(Debug, Clone)]
pub struct NewDataRequest {
    pub requester_name: String,
    pub deliver_to: DataDestination,
    pub what: String,
    pub received_at: DateTime<Utc>,
    /// e.g. the Message-ID of the email that made the request.
    pub reference: Option<String>,
}

/// A notification (8.1) made outside breachdesk's mailer, or by it.
#[derive(Debug, Clone)]
pub struct NotificationInput {
    pub at: DateTime<Utc>,
    pub channel: Channel,
    pub recipient: String,
    pub reference: Option<String>,
    pub server_reply: Option<String>,
    pub delay_reason: Option<String>,
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
        let store = Store::open(data_dir)?;
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

    /// Edits incident fields. Moving `identified_at` needs a reason, which the
    /// timeline and the audit entry both keep.
    pub fn edit(&self, id: &str, edit: Edit, now: DateTime<Utc>) -> Result<Changed, DeskError> {
        let actor = self.actor.clone();
        self.change(id, now, "incident.edited", |incident| {
            let mut said = Vec::new();
            if let Some(title) = edit.title {
                let title = title.trim().to_string();
                if title.is_empty() {
                    return Err(missing("the title is empty"));
                }
                if title != incident.title {
                    said.push(format!("title '{}' -> '{}'", incident.title, title));
                    incident.title = title;
                }
            }
            if let Some(summary) = edit.summary
                && summary != incident.summary
            {
                said.push(format!("summary -> {summary:?}"));
                incident.summary = summary;
            }
            if let Some(kind) = edit.kind
                && kind != incident.kind
            {
                said.push(format!("kind {} -> {}", incident.kind, kind));
                incident.kind = kind;
            }
            if let Some(severity) = edit.severity
                && severity != incident.severity
            {
                said.push(format!("severity {} -> {}", incident.severity, severity));
                incident.severity = severity;
            }
            if let Some(flag) = edit.personal_data
                && flag != incident.personal_data
            {
                said.push(format!("personal data involved: {flag}"));
                incident.personal_data = flag;
            }
            if let Some(flag) = edit.government_data
                && flag != incident.government_data
            {
                said.push(format!("Government Data involved: {flag}"));
                incident.government_data = flag;
            }
            for asset in edit.add_assets {
                let asset = asset.trim().to_string();
                if !asset.is_empty() && !incident.affected_assets.contains(&asset) {
                    said.push(format!("affected asset added: {asset}"));
                    incident.affected_assets.push(asset);
                }
            }
            for person in edit.add_responders {
                let person = person.trim().to_string();
                if !person.is_empty() && !incident.responders.contains(&person) {
                    said.push(format!("responder added: {person}"));
                    incident.responders.push(person);
                }
            }
            if let Some((at, reason)) = edit.identified_at
                && at != incident.identified_at
            {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(missing(
                        "moving identified_at moves the 1-hour clock: give a reason (--reason)",
                    ));
                }
                if at > now {
                    return Err(invalid(format!(
                        "identified at {} is in the future",
                        stamp(at)
                    )));
                }
                if let Some(made) = incident.notification.made_at
                    && made < at
                {
                    return Err(invalid(format!(
                        "identified at {} would be after the notification made at {}: a notification cannot come before the breach was identified",
                        stamp(at),
                        stamp(made)
                    )));
                }
                said.push(format!(
                    "identified_at {} -> {} (notification due {} -> {}); reason: {}",
                    stamp(incident.identified_at),
                    stamp(at),
                    stamp(incident.notification.due_at),
                    stamp(crate::domain::clock::notification_due(at)),
                    reason
                ));
                incident.identified_at = at;
                incident.notification.due_at = crate::domain::clock::notification_due(at);
                if let Some(made) = incident.notification.made_at {
                    incident.notification.met_deadline = Some(made <= incident.notification.due_at);
                }
            }
            said.extend(
                (*edit.details)
                    .apply(&mut incident.details, incident.identified_at, now)?,
            );
            if said.is_empty() {
                return Ok(String::new());
            }
            let text = said.join("; ");
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }

    /// Adds a notice given or received other than by breachdesk's email
    /// (a call to the ICO, a letter to data subjects, a police report, an
    /// update received) to the notice register.
    pub fn record_other_notice(
        &self,
        id: &str,
        input: OtherNoticeInput,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        use crate::domain::incident::{Direction, OtherNotice};
        let actor = self.actor.clone();
        if input.at > now {
            return Err(invalid(format!(
                "the notice time {} is in the future",
                stamp(input.at)
            )));
        }
        self.change(id, now, "notice.recorded", |incident| {
            let next = incident.other_notices.len() + 1;
            let notice_id = format!("G{next}");
            let reference = input
                .reference
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty());
            let verb = match input.direction {
                Direction::Sent => "sent to",
                Direction::Received => "received from",
            };
            let mut text = format!(
                "notice {notice_id} {verb} {} by {} at {}",
                input.party,
                input.channel,
                stamp(input.at)
            );
            if let Some(r) = &reference {
                text.push_str(&format!(" (reference {r})"));
            }
            let summary = input.summary.trim().to_string();
            if !summary.is_empty() {
                text.push_str(&format!(": {summary}"));
            }
            incident.other_notices.push(OtherNotice {
                id: notice_id,
                direction: input.direction,
                party: input.party,
                channel: input.channel,
                at: input.at,
                counterpart: input.counterpart.trim().to_string(),
                reference,
                summary,
                recorded_by: actor.clone(),
                recorded_at: now,
            });
            incident.log(now, &actor, EntryKind::Notice, text.clone());
            Ok(text)
        })
    }

    /// Records the paragraph 8.1 notification and marks the steps that fill
    /// it done. A late notification needs a reason for the delay.
    pub fn record_notification(
        &self,
        id: &str,
        input: NotificationInput,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        if input.recipient.trim().is_empty() {
            return Err(missing("say who was notified (the recipient)"));
        }
        if input.at > now {
            return Err(invalid(format!(
                "notified at {} is in the future",
                stamp(input.at)
            )));
        }
        let actor = self.actor.clone();
        self.change(id, now, "notification.recorded", |incident| {
            if incident.notification.made_at.is_some() {
                return Err(wrong_state(format!(
                    "{} already records a notification; log any further notice in the timeline",
                    incident.id
                )));
            }
            if input.at < incident.identified_at {
                return Err(invalid(format!(
                    "notified at {} is before the breach was identified ({})",
                    stamp(input.at),
                    stamp(incident.identified_at)
                )));
            }
            let on_time = input.at <= incident.notification.due_at;
            let reason = input.delay_reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
            if !on_time && reason.is_none() {
                return Err(missing(format!(
                    "the notification was due by {}: give the reason for the delay (--delay-reason)",
                    stamp(incident.notification.due_at)
                )));
            }
            let n = &mut incident.notification;
            n.made_at = Some(input.at);
            n.made_by = Some(actor.clone());
            n.channel = Some(input.channel);
            n.recipient = Some(input.recipient.trim().to_string());
            n.reference = input.reference;
            n.server_reply = input.server_reply;
            n.met_deadline = Some(on_time);
            n.delay_reason = reason;
            let margin = crate::domain::clock::format_duration_short(
                (input.at - n.due_at).abs(),
            );
            let verdict = if on_time {
                format!("on time by {margin}")
            } else {
                format!("late by {margin}")
            };
            let text = format!(
                "Paragraph 8.1 notification made by {} to {} at {} ({verdict}){}",
                input.channel,
                input.recipient.trim(),
                stamp(input.at),
                n.reference
                    .as_deref()
                    .map(|r| format!(" ref {r}"))
                    .unwrap_or_default()
            );
            mark_filled_steps(incident, RecordField::Notification, &actor, input.at);
            incident.log(now, &actor, EntryKind::Notice, text.clone());
            Ok(text)
        })
    }

    /// Records that the 8.2.1 (f) full-details report was sent.
    pub fn record_report(
        &self,
        id: &str,
        sent_at: DateTime<Utc>,
        sent_to: &str,
        reference: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let actor = self.actor.clone();
        self.change(id, now, "report.recorded", |incident| {
            incident.report.sent_at = Some(sent_at);
            incident.report.sent_to = Some(sent_to.to_string());
            let text = format!(
                "Full-details report (8.2.1 f) sent to {sent_to} at {}{}",
                stamp(sent_at),
                reference
                    .as_deref()
                    .map(|r| format!(" ref {r}"))
                    .unwrap_or_default()
            );
            incident.report.reference = reference;
            mark_filled_steps(incident, RecordField::Report, &actor, sent_at);
            incident.log(now, &actor, EntryKind::Notice, text.clone());
            Ok(text)
        })
    }

    /// Adds a paragraph 8.2.1 (e) data request made on the Client's
    /// request, for delivery to `deliver_to`; it is due 2 Working Days after
    /// receipt.
    pub fn add_request(
        &self,
        id: &str,
        deliver_to: Requester,
        requester_name: &str,
        what: &str,
        received_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        self.add_data_request(
            id,
            NewDataRequest {
                requester_name: requester_name.to_string(),
                deliver_to,
                what: what.to_string(),
                received_at,
                reference: None,
            },
            now,
        )
    }

    /// Adds a paragraph 8.2.1 (e) data request: who asked, on the Client's
    /// authority, and where the data goes. Due 2 Working Days after receipt.
    pub fn add_data_request(
        &self,
        id: &str,
        input: NewDataRequest,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let what = input.what.trim();
        if what.is_empty() {
            return Err(missing("say what data was asked for"));
        }
        let received_at = input.received_at;
        if received_at > now {
            return Err(invalid(format!(
                "received at {} is in the future",
                stamp(received_at)
            )));
        }
        let due_at = self
            .calendar
            .working_days_after(received_at, DATA_REQUEST_WORKING_DAYS);
        let actor = self.actor.clone();
        let requester_name = input.requester_name.trim().to_string();
        self.change(id, now, "request.added", |incident| {
            let request = DataRequest {
                id: incident.next_request_id(),
                requester_name: requester_name.clone(),
                authority: RequestAuthority::Client,
                deliver_to: input.deliver_to,
                received_at,
                what: what.to_string(),
                due_at,
                status: RequestStatus::Open,
                supplied_at: None,
                supplied_how: None,
                no_charge: true,
                attachments: Vec::new(),
                reference: input.reference.clone(),
            };
            let text = format!(
                "Data request {} on the Client's request{} received {}: {} (to {}; due {}, 8.2.1 e){}",
                request.id,
                if requester_name.is_empty() {
                    String::new()
                } else {
                    format!(", asked by {requester_name}")
                },
                stamp(received_at),
                what,
                input.deliver_to.label(),
                stamp(due_at),
                input
                    .reference
                    .as_deref()
                    .map(|r| format!(" ref {r}"))
                    .unwrap_or_default()
            );
            incident.data_requests.push(request);
            if let Some(step) = incident.steps.iter_mut().find(|s| {
                s.fills.contains(&RecordField::DataRequests) && s.status == StepStatus::Todo
            }) {
                step.status = StepStatus::InProgress;
                step.updated_at = Some(now);
                step.who = Some(actor.clone());
            }
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
        .map(|mut changed| {
            changed.warnings.extend(self.calendar.closed_on(due_at));
            changed
        })
    }

    /// Marks a data request supplied (free of charge), optionally with the
    /// files supplied, fixed by size and SHA-256.
    pub fn supply_request(
        &self,
        id: &str,
        request: &str,
        supplied_at: DateTime<Utc>,
        how: &str,
        files: &[PathBuf],
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        if how.trim().is_empty() {
            return Err(missing(
                "say how the data was supplied (e.g. 'email to csr@client')",
            ));
        }
        let attachments = files
            .iter()
            .map(|f| evidence_file(f, &self.actor, now))
            .collect::<Result<Vec<_>, _>>()?;
        let actor = self.actor.clone();
        self.change(id, now, "request.supplied", |incident| {
            let incident_id = incident.id.clone();
            let r = incident.request_mut(request).ok_or_else(|| {
                not_found(format!("{incident_id} has no data request '{request}'"))
            })?;
            if r.status != RequestStatus::Open {
                return Err(wrong_state(format!(
                    "request {} is already {}",
                    r.id, r.status
                )));
            }
            r.status = RequestStatus::Supplied;
            r.supplied_at = Some(supplied_at);
            r.supplied_how = Some(how.trim().to_string());
            r.no_charge = true;
            r.attachments.extend(attachments);
            let late = supplied_at > r.due_at;
            let text = format!(
                "Data request {} supplied {} by {} without charge{}",
                r.id,
                stamp(supplied_at),
                how.trim(),
                if late {
                    " (after its 2 Working Day deadline)"
                } else {
                    ""
                }
            );
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }

    /// Records the root cause (8.2.1 d/f) and looks through every other
    /// incident for the same root cause, linking and warning: a further
    /// breach exploiting the same root cause is what 8.2.1 (d) asks the
    /// Service Provider to prevent. (Paragraph 6.5 is narrower: see
    /// [`Desk::add_test_finding`].) The warning is internal.
    #[allow(clippy::too_many_arguments)]
    pub fn record_root_cause(
        &self,
        id: &str,
        category: RootCauseCategory,
        component: &str,
        analysis: Option<String>,
        prevention: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        if component.trim().is_empty() {
            return Err(missing("say which asset or component failed (--component)"));
        }
        let id = self.store.resolve_id(id)?;
        let probe = RootCause {
            category: Some(category),
            component: component.trim().to_string(),
            ..RootCause::default()
        };
        let key = probe.repeat_key();
        let this = self.store.load(&id)?;
        // Earlier incidents with the same root cause, from the summary index
        // (no need to parse every record in the archive).
        let (summaries, _) = self.summaries();
        let earlier: Vec<(String, DateTime<Utc>)> = summaries
            .into_iter()
            .filter(|other| other.id != id && other.identified_at <= this.identified_at)
            .filter(|other| key.is_some() && other.root_cause.as_ref() == key.as_ref())
            .map(|other| (other.id, other.identified_at))
            .collect();
        let actor = self.actor.clone();
        let mut changed = self.change(&id, now, "root-cause.recorded", |incident| {
            let rc = &mut incident.root_cause;
            rc.category = Some(category);
            rc.component = component.trim().to_string();
            if let Some(analysis) = analysis {
                rc.analysis = analysis;
            }
            for action in prevention {
                let action = action.trim().to_string();
                if !action.is_empty() && !rc.prevention_actions.contains(&action) {
                    rc.prevention_actions.push(action);
                }
            }
            rc.recorded_at = Some(now);
            rc.recorded_by = Some(actor.clone());
            // The timeline states the fact; the repeat (internal) goes only
            // into the audit entry and the record's links, because the
            // timeline is part of the report sent to the Client.
            let text = format!("Root cause recorded: {category} in {}", component.trim());
            let mut detail = text.clone();
            for (other, _) in &earlier {
                if !incident.repeat_of.iter().any(|l| &l.incident == other) {
                    incident.repeat_of.push(RepeatLink {
                        incident: other.clone(),
                        category,
                        component: crate::domain::incident::normalise_component(component),
                        linked_at: now,
                    });
                    detail.push_str(&format!(
                        "; same root cause as {other} (internal: 8.2.1 d prevention)"
                    ));
                }
            }
            incident.log(now, &actor, EntryKind::Change, text);
            Ok(detail)
        })?;
        for (other, identified) in &earlier {
            changed.warnings.push(format!(
                "REPEAT ROOT CAUSE: {other} (identified {}) had the same root cause ({category} in {}). \
                 8.2.1 (d) asks the Service Provider to prevent a further breach exploiting the same root cause, \
                 so this is a prevention failure the Client will ask about: escalate internally and check the (d) prevention actions.",
                stamp(*identified),
                crate::domain::incident::normalise_component(component)
            ));
        }
        if !earlier.is_empty() && changed.written {
            // The change and its entry (which names the repeat) are saved;
            // this extra note only makes the repeat easy to find.
            if let Err(e) = self.audit.append(
                now,
                &self.actor,
                Some(&changed.incident.id),
                "root-cause.repeat",
                &format!(
                    "same root cause as {}",
                    earlier
                        .iter()
                        .map(|(i, _)| i.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ) {
                changed.warnings.push(format!(
                    "saved and logged, but the extra root-cause.repeat note was not: {e}"
                ));
            }
        }
        Ok(changed)
    }

    /// Updates the 8.2.1 (c) mitigation.
    pub fn set_mitigation(
        &self,
        id: &str,
        input: MitigationInput,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let evidence = input
            .evidence_file
            .as_deref()
            .map(|f| evidence_file(f, &self.actor, now))
            .transpose()?;
        let actor = self.actor.clone();
        self.change(id, now, "mitigation.updated", |incident| {
            let m = &mut incident.mitigation;
            let mut said = Vec::new();
            if let Some(d) = input.description {
                m.description = d;
                m.applied_at.get_or_insert(now);
                said.push("description".to_string());
            }
            if let Some(t) = input.tested_how {
                m.tested_how = t;
                said.push("tested how".to_string());
            }
            if let Some(t) = input.tested {
                m.tested = t;
                said.push(format!("tested: {t}"));
            }
            if let Some(k) = input.affects_kpis {
                m.affects_kpis = k;
                said.push(format!("affects KPIs: {k}"));
            }
            if let Some(at) = input.relief_requested_at {
                m.kpi_relief.requested_at = Some(at);
                said.push(format!("KPI relief requested {}", stamp(at)));
            }
            if let Some(g) = input.relief_granted {
                m.kpi_relief.granted = Some(g);
                said.push(format!("KPI relief granted: {g}"));
            }
            if let Some(p) = input.relief_period {
                m.kpi_relief.period = p;
                said.push("KPI relief period".to_string());
            }
            if let Some(notice) = input.relief_notice {
                if notice.reference.trim().is_empty() || notice.period.trim().is_empty() {
                    return Err(missing(
                        "the Client's written notice needs its reference and the period it sets",
                    ));
                }
                said.push(format!(
                    "the Client's written notice of {} (ref {}) sets the relief period: {}",
                    notice.dated,
                    notice.reference.trim(),
                    notice.period.trim()
                ));
                m.kpi_relief.period = notice.period.trim().to_string();
                m.kpi_relief.granted = Some(true);
                m.kpi_relief.notice = Some(ReliefNotice {
                    dated: notice.dated,
                    reference: notice.reference.trim().to_string(),
                    period: notice.period.trim().to_string(),
                });
            }
            if let Some(e) = evidence {
                said.push(format!(
                    "test evidence {} ({} bytes, sha256 {})",
                    e.path.clone().unwrap_or_default(),
                    e.size.unwrap_or(0),
                    e.sha256.clone().unwrap_or_default()
                ));
                m.evidence.push(e);
            }
            if said.is_empty() {
                return Ok(String::new());
            }
            let text = format!("Mitigation (8.2.1 c): {}", said.join(", "));
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
        .map(|mut changed| {
            changed.warnings.extend(relief_warning(&changed.incident));
            changed
        })
    }

    /// Sets the paragraph 8.3 ISMS-change flag.
    pub fn set_isms_change(
        &self,
        id: &str,
        required: bool,
        description: &str,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let actor = self.actor.clone();
        self.change(id, now, "isms-change.updated", |incident| {
            if incident.isms_change.required == required
                && incident.isms_change.description == description.trim()
            {
                return Ok(String::new());
            }
            incident.isms_change.required = required;
            incident.isms_change.description = description.trim().to_string();
            let text = format!(
                "ISMS change (8.3) {}{}",
                if required {
                    "required, at no cost to the Client"
                } else {
                    "not required"
                },
                if description.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", description.trim())
                }
            );
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }

    /// Sets a playbook step's status, with an optional note and evidence file.
    pub fn set_step(
        &self,
        id: &str,
        step_id: &str,
        status: StepStatus,
        note: Option<String>,
        evidence: Option<&Path>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let evidence = evidence
            .map(|f| evidence_file(f, &self.actor, now))
            .transpose()?;
        let resolved = self.store.resolve_id(id)?;
        let audit_entries = if status == StepStatus::Done {
            self.audit.entries_for(&resolved)?.len()
        } else {
            0
        };
        let actor = self.actor.clone();
        self.change(&resolved, now, "step.updated", |incident| {
            let snapshot = incident.clone();
            let incident_id = incident.id.clone();
            let step = incident.step_mut(step_id).ok_or_else(|| {
                let ids: Vec<&str> = snapshot.steps.iter().map(|s| s.id.as_str()).collect();
                not_found(format!(
                    "{incident_id} has no step '{step_id}' (steps: {})",
                    ids.join(", ")
                ))
            })?;
            if status == StepStatus::Done {
                let waiting = waiting_on(&snapshot, step);
                if !waiting.is_empty() {
                    return Err(blocked(format!(
                        "step {step_id} waits for {} to be done first",
                        waiting.join(", ")
                    )));
                }
                let failing: Vec<&str> = step
                    .checks
                    .iter()
                    .filter(|c| !c.passes(&snapshot, audit_entries))
                    .map(|c| c.failure())
                    .collect();
                if !failing.is_empty() {
                    return Err(blocked(format!(
                        "step {step_id} cannot be done yet: {}",
                        failing.join("; ")
                    )));
                }
            }
            let mut said = Vec::new();
            if step.status != status {
                said.push(format!("status {} -> {}", step.status, status));
                step.status = status;
                step.completed_at = (status == StepStatus::Done).then_some(now);
            }
            if let Some(note) = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) {
                said.push(format!("note: {note}"));
                step.notes.push(note);
            }
            if let Some(e) = evidence {
                said.push(format!(
                    "evidence {} ({} bytes, sha256 {})",
                    e.path.clone().unwrap_or_default(),
                    e.size.unwrap_or(0),
                    e.sha256.clone().unwrap_or_default()
                ));
                step.evidence.push(e);
            }
            if said.is_empty() {
                return Ok(String::new());
            }
            step.who = Some(actor.clone());
            step.updated_at = Some(now);
            let text = format!("Step {step_id} ({}): {}", step.title, said.join("; "));
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }

    /// Closes an incident. With a required step still open, a reason is needed
    /// and kept with the list of open steps.
    pub fn close(
        &self,
        id: &str,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let actor = self.actor.clone();
        self.change(id, now, "incident.closed", |incident| {
            if !incident.is_open() {
                return Err(wrong_state(format!("{} is already closed", incident.id)));
            }
            let open = open_required_ids(incident);
            let reason = reason
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty());
            if !open.is_empty() && reason.is_none() {
                return Err(missing(format!(
                    "required steps are still open ({}): give a reason to close anyway (--reason)",
                    open.join(", ")
                )));
            }
            let text = match &reason {
                Some(r) if !open.is_empty() => {
                    format!(
                        "Incident closed with steps {} open; reason: {r}",
                        open.join(", ")
                    )
                }
                Some(r) => format!("Incident closed: {r}"),
                None => "Incident closed".to_string(),
            };
            close_record(incident, &actor, now, reason, open, false, &text);
            Ok(text)
        })
    }

    /// Reopens a closed incident (the closure is kept in the timeline).
    pub fn reopen(&self, id: &str, reason: &str, now: DateTime<Utc>) -> Result<Changed, DeskError> {
        if reason.trim().is_empty() {
            return Err(missing("give a reason to reopen (--reason)"));
        }
        let actor = self.actor.clone();
        self.change(id, now, "incident.reopened", |incident| {
            if incident.is_open() {
                return Err(wrong_state(format!("{} is already open", incident.id)));
            }
            incident.status = IncidentStatus::Open;
            incident.closure = None;
            let text = format!("Incident reopened: {}", reason.trim());
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
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
mod evidence;
mod notices;
mod upkeep;
pub use contract::*;
pub use evidence::*;
pub use notices::*;
pub use upkeep::*;
