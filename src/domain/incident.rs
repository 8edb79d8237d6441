//! The incident record: everything paragraph 8 of the security schedule asks a
//! responder to do and keep, as one plain data structure.
//!
//! Pure data and pure functions only: no clock reads, no I/O. Code that needs
//! "now" takes it as an argument.

pub use crate::domain::notice::*;
pub use crate::domain::record::*;
pub use crate::domain::request::*;
pub use crate::domain::step::*;
pub use crate::domain::team::*;
pub use crate::domain::terms::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The record format version written into every incident file. Version 2
/// gave every list entry a `uid`; a version 1 record is brought up to date
/// when read ([`Incident::upgrade`]) and written as version 2 when next saved.
pub const SCHEMA_VERSION: u32 = 2;

/// One Breach of Security, or a potential or attempted one (which paragraph
/// 8.1 covers too, though it is not a Breach of Security), and its response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// Record format version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// e.g. `INC-20261128-1432-7f3a9c`.
    pub id: String,
    /// Bumped by the store on every save; detects a record changed underneath you.
    #[serde(default)]
    pub revision: u64,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub kind: BreachKind,
    pub severity: Severity,
    #[serde(default)]
    pub status: IncidentStatus,
    /// Personal data is involved (switches on the UK GDPR playbook).
    #[serde(default)]
    pub personal_data: bool,
    /// Government Data (Annex 1) is involved.
    #[serde(default)]
    pub government_data: bool,
    #[serde(default)]
    pub affected_assets: Vec<String>,
    pub logged_by: String,
    #[serde(default)]
    pub responders: Vec<String>,
    /// When the breach was identified: the paragraph 8.1 one-hour clock starts here.
    pub identified_at: DateTime<Utc>,
    /// When the record was opened in breachdesk (may be later than `identified_at`).
    pub logged_at: DateTime<Utc>,
    /// Our side of the contract; decides who "the other party" is.
    pub our_role: PartyRole,
    /// Who identified the breach: us (we notify the other party under 8.1)
    /// or the other party (it notified us; `notice_received` records it).
    #[serde(default)]
    pub identified_by: IdentifiedBy,
    /// The other party's paragraph 8.1 notice to us, when it identified the breach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_received: Option<NoticeReceived>,
    /// Whether the Client requires a root-cause analysis in the 8.2.1 (f)
    /// full details ("where required by the Client").
    #[serde(default)]
    pub rca_required: RcaRequired,
    /// Playbooks (name + version) this incident was opened under.
    #[serde(default)]
    pub playbooks: Vec<PlaybookRef>,
    /// Paragraph 8.1 notification of the other party.
    pub notification: Notification,
    /// Paragraph 8.2.1 (c) mitigation.
    #[serde(default)]
    pub mitigation: Mitigation,
    /// Paragraph 8.2.1 (d) and (f) root cause.
    #[serde(default)]
    pub root_cause: RootCause,
    /// Paragraph 8.2.1 (e) data requests from the Client or GovCertUK.
    #[serde(default)]
    pub data_requests: Vec<DataRequest>,
    /// Paragraph 8.2.1 (f) full-details report.
    #[serde(default)]
    pub report: Report,
    /// Paragraph 8.3 change to the ISMS (at no cost to the Client).
    #[serde(default)]
    pub isms_change: IsmsChange,
    /// Set when the incident is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<Closure>,
    /// Links to earlier incidents with the same root cause: a failure of
    /// 8.2.1 (d) prevention (not by itself a paragraph 6.5 event).
    #[serde(default)]
    pub repeat_of: Vec<RepeatLink>,
    /// Security Tests (paragraphs 6.1-6.4) tied to this incident, with their
    /// findings; a repeat test under 6.4 whose finding has the same root
    /// cause as an earlier one is the paragraph 6.5 case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_tests: Vec<SecurityTest>,
    /// Playbook steps (paragraph 8.1, 8.2.1 (a)-(f), 8.3 and any others),
    /// copied from the playbook when the incident was opened.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Timestamped, attributed entries, appended as the responder works.
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
    /// Every email notice confirmed for this incident, one entry per
    /// Message-ID, with its delivery state (older records have none).
    /// Written as `email_notices` (read from `notices` too, as the first
    /// release with it wrote them); `show --format json`'s `notices` is the
    /// whole register, built from this and the other notices.
    #[serde(
        rename = "email_notices",
        alias = "notices",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub notices: Vec<NoticeRecord>,
    /// Notices not sent by breachdesk's email (phone calls, letters, portal
    /// reports, emails sent elsewhere, notices received): ICO, NCSC, police,
    /// insurer, data subjects, the other party. Together with `notices`,
    /// `notification` and `notice_received` they make the notice register
    /// ([`crate::domain::register`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_notices: Vec<OtherNotice>,
    /// What a Client security officer and GovCertUK expect to read in a
    /// notice, beyond the title and summary (older records have none).
    #[serde(default)]
    pub details: Details,
    /// Who holds which role (incident manager, communications, scribe,
    /// technical lead): append-only; the latest assignment of a role holds it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignments: Vec<Assignment>,
    /// Handovers between responders, each shown at the top of the incident
    /// until acknowledged: append-only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handovers: Vec<Handover>,
}

impl Incident {
    /// Still being worked.
    pub fn is_open(&self) -> bool {
        self.status == IncidentStatus::Open
    }

    /// Appends a timeline entry.
    pub fn log(&mut self, at: DateTime<Utc>, by: &str, kind: EntryKind, text: impl Into<String>) {
        crate::domain::uid::push(
            &mut self.timeline,
            TimelineEntry {
                uid: String::new(),
                at,
                by: by.to_string(),
                kind,
                text: text.into(),
            },
        );
    }

    /// Brings a record read from an older format up to date: every list
    /// entry without a `uid` (or with one an earlier entry of its list
    /// already has) gets its derived id, so every machine migrates the same
    /// old record to the same ids, and the schema version becomes
    /// [`SCHEMA_VERSION`]. Changes nothing in a current record.
    pub fn upgrade(&mut self) {
        use crate::domain::uid::fill;
        if self.schema_version < SCHEMA_VERSION {
            self.schema_version = SCHEMA_VERSION;
        }
        fill(&mut self.timeline);
        fill(&mut self.data_requests);
        for request in &mut self.data_requests {
            fill(&mut request.attachments);
        }
        fill(&mut self.notices);
        fill(&mut self.other_notices);
        fill(&mut self.mitigation.evidence);
        fill(&mut self.repeat_of);
        fill(&mut self.security_tests);
        for test in &mut self.security_tests {
            fill(&mut test.findings);
        }
        for step in &mut self.steps {
            fill(&mut step.notes);
            fill(&mut step.evidence);
        }
        fill(&mut self.assignments);
        fill(&mut self.handovers);
    }

    /// Looks up a step by id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Looks up a step by id, for changing it.
    pub fn step_mut(&mut self, id: &str) -> Option<&mut Step> {
        self.steps.iter_mut().find(|s| s.id == id)
    }

    /// Required steps still open.
    pub fn open_required_steps(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.required && s.is_open())
    }

    /// When we became aware of the breach: when we identified it, or, when the
    /// other party identified it, when its notice reached us. The paragraph
    /// 8.2 duties run from here ("upon becoming aware").
    pub fn aware_at(&self) -> DateTime<Utc> {
        match (&self.identified_by, &self.notice_received) {
            (IdentifiedBy::OtherParty, Some(notice)) => notice.received_at,
            _ => self.identified_at,
        }
    }

    /// Whether the 8.1 notice is ours to give (we identified the breach).
    pub fn we_notify(&self) -> bool {
        self.identified_by == IdentifiedBy::Us
    }

    /// The id the next Security Test gets: `T<n>`.
    pub fn next_test_id(&self) -> String {
        let highest = self
            .security_tests
            .iter()
            .filter_map(|t| t.id.strip_prefix('T')?.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        format!("T{}", highest + 1)
    }

    /// The id the next data request gets: `R<n>` one past the highest so far.
    pub fn next_request_id(&self) -> String {
        let highest = self
            .data_requests
            .iter()
            .filter_map(|r| r.id.strip_prefix('R')?.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        format!("R{}", highest + 1)
    }

    /// Who is the incident manager now, if anyone.
    pub fn incident_manager(&self) -> Option<&str> {
        crate::domain::team::holder(&self.assignments, Role::IncidentManager)
    }

    /// Looks up a data request by id (case-insensitive).
    pub fn request_mut(&mut self, id: &str) -> Option<&mut DataRequest> {
        self.data_requests
            .iter_mut()
            .find(|r| r.id.eq_ignore_ascii_case(id.trim()))
    }
}

/// What a responder gives to open an incident.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIncident {
    pub title: String,
    pub summary: String,
    pub kind: BreachKind,
    pub severity: Severity,
    pub personal_data: bool,
    pub government_data: bool,
    pub affected_assets: Vec<String>,
    pub identified_at: DateTime<Utc>,
}

/// Why a new incident was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewIncidentError {
    #[error("the title is empty: say in a few words what happened")]
    EmptyTitle,
    #[error("the title is {0} characters long; keep it under 200 and put the rest in the summary")]
    TitleTooLong(usize),
    #[error("say who gave the notice (--received-from)")]
    NoNoticeSender,
    #[error("notice received at {received} is after now ({now})")]
    ReceivedInFuture {
        received: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("notice received at {received} is before the breach was identified ({identified})")]
    ReceivedBeforeIdentified {
        received: DateTime<Utc>,
        identified: DateTime<Utc>,
    },
    #[error(
        "identified at {identified} is after now ({now}): a breach cannot be identified in the future"
    )]
    IdentifiedInFuture {
        identified: DateTime<Utc>,
        now: DateTime<Utc>,
    },
}

/// An incident id that needs no shared counter: the UTC minute it was logged
/// plus 24 random bits, e.g. `INC-20261128-1432-7f3a9c`.
pub fn incident_id(logged_at: DateTime<Utc>, random: u32) -> String {
    format!(
        "INC-{}-{:06x}",
        logged_at.format("%Y%m%d-%H%M"),
        random & 0x00ff_ffff
    )
}

impl Incident {
    /// A new open incident, at revision 0 (the store makes it 1), with its
    /// paragraph 8.1 notification due one hour after `identified_at`.
    pub fn new(
        id: String,
        fields: NewIncident,
        logged_by: &str,
        our_role: PartyRole,
        now: DateTime<Utc>,
    ) -> Result<Incident, NewIncidentError> {
        let title = fields.title.trim().to_string();
        if title.is_empty() {
            return Err(NewIncidentError::EmptyTitle);
        }
        let length = title.chars().count();
        if length > 200 {
            return Err(NewIncidentError::TitleTooLong(length));
        }
        if fields.identified_at > now {
            return Err(NewIncidentError::IdentifiedInFuture {
                identified: fields.identified_at,
                now,
            });
        }
        let mut incident = Incident {
            schema_version: SCHEMA_VERSION,
            id,
            revision: 0,
            title,
            summary: fields.summary,
            kind: fields.kind,
            severity: fields.severity,
            status: IncidentStatus::Open,
            personal_data: fields.personal_data,
            government_data: fields.government_data,
            affected_assets: fields.affected_assets,
            logged_by: logged_by.to_string(),
            responders: vec![logged_by.to_string()],
            identified_at: fields.identified_at,
            logged_at: now,
            our_role,
            identified_by: IdentifiedBy::Us,
            notice_received: None,
            rca_required: RcaRequired::Unknown,
            playbooks: Vec::new(),
            notification: Notification {
                due_at: crate::domain::clock::notification_due(fields.identified_at),
                made_at: None,
                made_by: None,
                channel: None,
                recipient: None,
                reference: None,
                server_reply: None,
                met_deadline: None,
                delay_reason: None,
            },
            mitigation: Mitigation::default(),
            root_cause: RootCause::default(),
            data_requests: Vec::new(),
            report: Report::default(),
            isms_change: IsmsChange::default(),
            closure: None,
            repeat_of: Vec::new(),
            security_tests: Vec::new(),
            steps: Vec::new(),
            timeline: Vec::new(),
            notices: Vec::new(),
            other_notices: Vec::new(),
            details: Details::default(),
            assignments: Vec::new(),
            handovers: Vec::new(),
        };
        let text = format!(
            "Incident opened ({}, severity {}); identified at {}",
            incident.kind.contract_label(),
            incident.severity,
            incident
                .identified_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        incident.log(now, logged_by, EntryKind::Change, text);
        Ok(incident)
    }
}

impl Incident {
    /// A new open incident the other party identified and notified us of
    /// under paragraph 8.1. No notification countdown runs for us; the
    /// paragraph 8.2 duties run from the notice's receipt ([`Incident::aware_at`]).
    pub fn new_on_notice(
        id: String,
        fields: NewIncident,
        notice: IncomingNotice,
        logged_by: &str,
        our_role: PartyRole,
        now: DateTime<Utc>,
    ) -> Result<Incident, NewIncidentError> {
        let from = notice.from.trim().to_string();
        if from.is_empty() {
            return Err(NewIncidentError::NoNoticeSender);
        }
        if notice.received_at > now {
            return Err(NewIncidentError::ReceivedInFuture {
                received: notice.received_at,
                now,
            });
        }
        if notice.received_at < fields.identified_at {
            return Err(NewIncidentError::ReceivedBeforeIdentified {
                received: notice.received_at,
                identified: fields.identified_at,
            });
        }
        let mut incident = Incident::new(id, fields, logged_by, our_role, now)?;
        incident.identified_by = IdentifiedBy::OtherParty;
        let text = format!(
            "Paragraph 8.1 notice received from the {} ({}) by {} at {}{}{}",
            our_role.other_party().label(),
            from,
            notice.channel,
            notice
                .received_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            notice
                .reference
                .as_deref()
                .map(|r| format!(" ref {r}"))
                .unwrap_or_default(),
            notice
                .source
                .as_deref()
                .map(|s| format!(" (time from {s})"))
                .unwrap_or_default()
        );
        incident.notice_received = Some(NoticeReceived {
            received_at: notice.received_at,
            from,
            channel: notice.channel,
            reference: notice.reference,
            recorded_by: logged_by.to_string(),
            recorded_at: now,
            source: notice.source,
        });
        incident.log(now, logged_by, EntryKind::Notice, text);
        Ok(incident)
    }
}

#[cfg(test)]
mod tests;
