//! A playbook step as an incident keeps it, and the words a playbook uses to
//! describe one: what record it fills, its clock, the conditions that switch
//! it on and the checks before it may be closed. What these mean for a
//! given incident (whether a condition holds, a check passes) is worked out
//! in [`crate::domain::playbook`], which knows the whole record.

use crate::domain::calendar::WorkingCalendar;
use crate::domain::kebab::kebab_enum;
use crate::domain::record::Evidence;
use crate::domain::terms::{BreachKind, IdentifiedBy, PartyRole};
use crate::domain::uid::{entry, instant};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

kebab_enum! {
    /// Progress of one playbook step.
    StepStatus { Todo => "todo", InProgress => "in-progress", Done => "done", NotApplicable => "not-applicable" }
}

/// One step of a playbook, as copied into the incident when it was opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// e.g. `8.1`, `8.2.1c`.
    pub id: String,
    /// The playbook the step came from.
    pub playbook: String,
    pub title: String,
    #[serde(default)]
    pub guidance: String,
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default = "todo")]
    pub status: StepStatus,
    /// Due time, when the step has a clock whose start is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// The step's clock, as the playbook gave it when the incident was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<StepClock>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// The parts of the record this step fills in.
    #[serde(default)]
    pub fills: Vec<RecordField>,
    /// Conditions that switch the step on (all must hold).
    #[serde(default)]
    pub when: Vec<Condition>,
    /// Checks that must pass before the step can be marked done.
    #[serde(default)]
    pub checks: Vec<CloseCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    /// Notes, oldest first (records before ids held plain strings, read as
    /// notes without a time or author).
    #[serde(default)]
    pub notes: Vec<StepNote>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// A note on a step: who wrote it and when (unknown for notes written
/// before ids existed, which were plain strings), and its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StepNoteRecord")]
pub struct StepNote {
    /// Stable id (see [`crate::domain::uid`]); derived on load when missing.
    pub uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub text: String,
}

impl StepNote {
    /// A new note (its id is given when it is added to the step).
    pub fn new(at: DateTime<Utc>, by: &str, text: String) -> StepNote {
        StepNote {
            uid: String::new(),
            at: Some(at),
            by: Some(by.to_string()),
            text,
        }
    }
}

impl From<&str> for StepNote {
    /// A note without a time or author (as records before ids held them).
    fn from(text: &str) -> StepNote {
        StepNoteRecord::Plain(text.to_string()).into()
    }
}

impl fmt::Display for StepNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A step note as stored: a table, or (before ids) a plain string.
#[derive(Deserialize)]
#[serde(untagged)]
enum StepNoteRecord {
    Plain(String),
    Entry {
        #[serde(default)]
        uid: String,
        #[serde(default)]
        at: Option<DateTime<Utc>>,
        #[serde(default)]
        by: Option<String>,
        text: String,
    },
}

impl From<StepNoteRecord> for StepNote {
    fn from(record: StepNoteRecord) -> StepNote {
        match record {
            StepNoteRecord::Plain(text) => StepNote {
                uid: String::new(),
                at: None,
                by: None,
                text,
            },
            StepNoteRecord::Entry { uid, at, by, text } => StepNote { uid, at, by, text },
        }
    }
}

entry!(StepNote, "step-note", |e| vec![
    e.at.as_ref().map(instant).unwrap_or_default(),
    e.by.clone().unwrap_or_default(),
    e.text.clone()
]);

fn todo() -> StepStatus {
    StepStatus::Todo
}

impl Step {
    /// Still needs doing.
    pub fn is_open(&self) -> bool {
        matches!(self.status, StepStatus::Todo | StepStatus::InProgress)
    }
}

fn yes() -> bool {
    true
}

/// The parts of the incident record a step fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordField {
    Notification,
    Mitigation,
    RootCause,
    DataRequests,
    Report,
    IsmsChange,
    Timeline,
    /// The other party's 8.1 notice to us.
    NoticeReceived,
    /// Whether the Client requires a root-cause analysis (8.2.1 f).
    RcaRequired,
}

impl RecordField {
    /// As written in playbooks.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordField::Notification => "notification",
            RecordField::Mitigation => "mitigation",
            RecordField::RootCause => "root-cause",
            RecordField::DataRequests => "data-requests",
            RecordField::Report => "report",
            RecordField::IsmsChange => "isms-change",
            RecordField::Timeline => "timeline",
            RecordField::NoticeReceived => "notice-received",
            RecordField::RcaRequired => "rca-required",
        }
    }
}

/// Something checked before a close-out step may be marked done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloseCheck {
    /// The audit log holds entries for the incident.
    AuditEntries,
    /// A root cause (category + component) is recorded.
    RootCauseRecorded,
    /// The full-details report was sent.
    ReportSent,
    /// The other party was notified.
    Notified,
    /// No data request is still open.
    RequestsClosed,
    /// Paragraph 8.1 is satisfied: we notified the other party, or (when it
    /// identified the breach) its notice to us is recorded.
    NoticeExchanged,
    /// Where the Client requires a root-cause analysis, one is recorded
    /// (category, component and analysis); the Client's answer is recorded.
    RcaWhereRequired,
    /// The Client's decision on whether it requires a root-cause analysis is recorded.
    RcaDecided,
}

impl CloseCheck {
    /// What failing it means, for the responder.
    pub fn failure(self) -> &'static str {
        match self {
            CloseCheck::AuditEntries => "the audit log holds no entries for this incident",
            CloseCheck::RootCauseRecorded => "no root cause is recorded (8.2.1 d/f)",
            CloseCheck::ReportSent => "the full-details report has not been sent (8.2.1 f)",
            CloseCheck::Notified => "the other party has not been notified (8.1)",
            CloseCheck::RequestsClosed => "a data request is still open (8.2.1 e)",
            CloseCheck::NoticeExchanged => {
                "paragraph 8.1 is not satisfied: no notice to the other party, nor one from it, is recorded"
            }
            CloseCheck::RcaWhereRequired => {
                "the Client requires a root-cause analysis (8.2.1 f) and none is recorded, or whether it requires one is not recorded"
            }
            CloseCheck::RcaDecided => {
                "whether the Client requires a root-cause analysis (8.2.1 f) is not recorded"
            }
        }
    }
}

/// Where a step's clock starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ClockStart {
    /// When the breach was identified.
    Identified,
    /// When the incident was logged.
    Logged,
    /// When we became aware: identified by us, or the other party's 8.1
    /// notice received ([`crate::domain::incident::Incident::aware_at`]).
    Aware,
    /// When each data request was received (one clock per request).
    RequestReceived,
    /// When another step was completed: `step:8.2.1c`.
    StepDone(String),
}

impl TryFrom<String> for ClockStart {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "identified" => Ok(ClockStart::Identified),
            "logged" => Ok(ClockStart::Logged),
            "aware" => Ok(ClockStart::Aware),
            "request-received" => Ok(ClockStart::RequestReceived),
            other => match other.strip_prefix("step:") {
                Some(step) if !step.trim().is_empty() => Ok(ClockStart::StepDone(step.to_string())),
                _ => Err(format!(
                    "clock start '{other}' is not one of: identified, aware, logged, request-received, step:<step id>"
                )),
            },
        }
    }
}

impl From<ClockStart> for String {
    fn from(start: ClockStart) -> String {
        start.to_string()
    }
}

impl fmt::Display for ClockStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClockStart::Identified => f.write_str("identified"),
            ClockStart::Logged => f.write_str("logged"),
            ClockStart::Aware => f.write_str("aware"),
            ClockStart::RequestReceived => f.write_str("request-received"),
            ClockStart::StepDone(step) => write!(f, "step:{step}"),
        }
    }
}

/// A condition that switches a step on. Written as `personal-data`,
/// `government-data`, `breach`, `potential`, `attempted`,
/// `service-provider`, `client`, `identified-by-us`,
/// `identified-by-other-party`, each optionally prefixed `not `.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Condition {
    pub negated: bool,
    pub fact: Fact,
}

/// A fact about an incident that a condition can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fact {
    PersonalData,
    GovernmentData,
    Kind(BreachKind),
    Role(PartyRole),
    IdentifiedBy(IdentifiedBy),
}

impl TryFrom<String> for Condition {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let trimmed = text.trim();
        let (negated, body) = match trimmed.strip_prefix("not ") {
            Some(rest) => (true, rest.trim()),
            None => (false, trimmed),
        };
        let fact = match body {
            "personal-data" => Fact::PersonalData,
            "government-data" => Fact::GovernmentData,
            "service-provider" => Fact::Role(PartyRole::ServiceProvider),
            "client" => Fact::Role(PartyRole::Client),
            "identified-by-us" => Fact::IdentifiedBy(IdentifiedBy::Us),
            "identified-by-other-party" => Fact::IdentifiedBy(IdentifiedBy::OtherParty),
            other => Fact::Kind(other.parse::<BreachKind>().map_err(|_| {
                format!(
                    "condition '{text}' is not one of: personal-data, government-data, breach, potential, attempted, service-provider, client, identified-by-us, identified-by-other-party (optionally prefixed 'not ')"
                )
            })?),
        };
        Ok(Condition { negated, fact })
    }
}

impl From<Condition> for String {
    fn from(c: Condition) -> String {
        let fact = match c.fact {
            Fact::PersonalData => "personal-data",
            Fact::GovernmentData => "government-data",
            Fact::Kind(kind) => kind.as_str(),
            Fact::Role(role) => role.as_str(),
            Fact::IdentifiedBy(IdentifiedBy::Us) => "identified-by-us",
            Fact::IdentifiedBy(IdentifiedBy::OtherParty) => "identified-by-other-party",
        };
        if c.negated {
            format!("not {fact}")
        } else {
            fact.to_string()
        }
    }
}

/// Longest elapsed-time clock accepted: one (non-leap) year of hours.
pub const MAX_CLOCK_HOURS: u32 = 8760;
/// Longest Working-Day clock accepted: roughly one year of Working Days.
pub const MAX_CLOCK_WORKING_DAYS: u32 = 260;

/// A step's clock: an amount of time (elapsed hours or Working Days) from a
/// named start. In TOML: `clock = { hours = 1, from = "identified" }` or
/// `clock = { working_days = 2, from = "request-received" }`, with
/// `internal = true` for the organisation's own target. Exactly one of
/// `hours` and `working_days`; unknown keys, zero and absurd lengths (more
/// than [`MAX_CLOCK_HOURS`] hours or [`MAX_CLOCK_WORKING_DAYS`] Working
/// Days) are refused when read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "StepClockRecord", into = "StepClockRecord")]
pub struct StepClock {
    /// How many hours or Working Days.
    pub length: u32,
    pub unit: ClockUnit,
    pub from: ClockStart,
    /// `internal = true`: the organisation's own target, not a clock set by
    /// the contract or the law (reminded of only when asked, and never
    /// presented as a legal deadline).
    pub internal: bool,
}

/// What a [`StepClock`]'s length counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClockUnit {
    /// Elapsed time: due exactly this many hours after the start, day or night.
    Hours,
    /// Due at the end of the N-th Working Day after the start (see
    /// [`WorkingCalendar::working_days_after`]).
    WorkingDays,
}

/// The on-disk shape of a [`StepClock`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepClockRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    working_days: Option<u32>,
    from: ClockStart,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    internal: bool,
}

impl TryFrom<StepClockRecord> for StepClock {
    type Error = String;

    fn try_from(raw: StepClockRecord) -> Result<Self, Self::Error> {
        let (length, unit) = match (raw.hours, raw.working_days) {
            (Some(h), None) => (h, ClockUnit::Hours),
            (None, Some(n)) => (n, ClockUnit::WorkingDays),
            (Some(_), Some(_)) => {
                return Err(
                    "a clock takes exactly one of `hours` or `working_days`, not both".into(),
                );
            }
            (None, None) => return Err("a clock needs one of `hours` or `working_days`".into()),
        };
        let clock = StepClock {
            length,
            unit,
            from: raw.from,
            internal: raw.internal,
        };
        clock.validate()?;
        Ok(clock)
    }
}

impl From<StepClock> for StepClockRecord {
    fn from(clock: StepClock) -> StepClockRecord {
        let (hours, working_days) = match clock.unit {
            ClockUnit::Hours => (Some(clock.length), None),
            ClockUnit::WorkingDays => (None, Some(clock.length)),
        };
        StepClockRecord {
            hours,
            working_days,
            from: clock.from,
            internal: clock.internal,
        }
    }
}

impl StepClock {
    /// A legal clock of `hours` elapsed hours from `from`.
    pub fn hours(hours: u32, from: ClockStart) -> StepClock {
        StepClock {
            length: hours,
            unit: ClockUnit::Hours,
            from,
            internal: false,
        }
    }

    /// A legal clock of `days` Working Days from `from`.
    pub fn working_days(days: u32, from: ClockStart) -> StepClock {
        StepClock {
            length: days,
            unit: ClockUnit::WorkingDays,
            from,
            internal: false,
        }
    }

    /// Rejects zero and absurd lengths (more than [`MAX_CLOCK_HOURS`] hours
    /// or [`MAX_CLOCK_WORKING_DAYS`] Working Days).
    pub fn validate(&self) -> Result<(), String> {
        match (self.unit, self.length) {
            (ClockUnit::Hours, 0) => Err("a clock of 0 hours is not a deadline".into()),
            (ClockUnit::Hours, h) if h > MAX_CLOCK_HOURS => Err(format!(
                "a clock of {h} hours is too long (at most {MAX_CLOCK_HOURS})"
            )),
            (ClockUnit::WorkingDays, 0) => {
                Err("a clock of 0 Working Days is not a deadline".into())
            }
            (ClockUnit::WorkingDays, n) if n > MAX_CLOCK_WORKING_DAYS => Err(format!(
                "a clock of {n} Working Days is too long (at most {MAX_CLOCK_WORKING_DAYS})"
            )),
            _ => Ok(()),
        }
    }

    /// When the clock is due if it started at `start`: `start` plus exactly N
    /// hours of elapsed time (so a GMT/BST change neither adds nor removes an
    /// hour), or the end of the N-th Working Day after `start` in `cal`.
    pub fn due(&self, start: DateTime<Utc>, cal: &WorkingCalendar) -> DateTime<Utc> {
        match self.unit {
            ClockUnit::Hours => start
                .checked_add_signed(Duration::hours(i64::from(self.length)))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            ClockUnit::WorkingDays => cal.working_days_after(start, self.length),
        }
    }

    /// The length in words: "1 hour", "72 hours", "1 Working Day", "2 Working Days".
    pub fn describe_length(&self) -> String {
        match (self.unit, self.length) {
            (ClockUnit::Hours, 1) => "1 hour".to_owned(),
            (ClockUnit::Hours, h) => format!("{h} hours"),
            (ClockUnit::WorkingDays, 1) => "1 Working Day".to_owned(),
            (ClockUnit::WorkingDays, n) => format!("{n} Working Days"),
        }
    }

    /// "1 hour from identification", "2 Working Days from each request's receipt".
    pub fn describe(&self) -> String {
        let from = match &self.from {
            ClockStart::Identified => "identification".to_string(),
            ClockStart::Logged => "logging".to_string(),
            ClockStart::Aware => "becoming aware".to_string(),
            ClockStart::RequestReceived => "each request's receipt".to_string(),
            ClockStart::StepDone(step) => format!("step {step} done"),
        };
        format!("{} from {from}", self.describe_length())
    }
}

impl fmt::Display for StepClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}
