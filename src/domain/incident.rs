//! The incident record: everything paragraph 8 of the security schedule asks a
//! responder to do and keep, as one plain data structure.
//!
//! Pure data and pure functions only: no clock reads, no I/O. Code that needs
//! "now" takes it as an argument.

use crate::domain::playbook::{CloseCheck, Condition, RecordField, StepClock};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The record format version written into every incident file.
pub const SCHEMA_VERSION: u32 = 1;

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
}

/// The facts a notice and the full-details report state, each as the
/// responder entered it; empty means "not yet known".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Details {
    /// When the breach started (distinct from when it was identified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// How it was detected.
    pub detected_how: String,
    /// Impact on the service.
    pub service_impact: String,
    /// Impact on confidentiality.
    pub confidentiality: String,
    /// Impact on integrity.
    pub integrity: String,
    /// Impact on availability.
    pub availability: String,
    /// Containment status, in the responder's words.
    pub containment: String,
    /// How many data subjects are affected (personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_subjects: Option<u64>,
    /// Categories of personal data affected.
    pub data_categories: String,
    /// Which Government Data is affected.
    pub government_data_details: String,
    /// Who else has been told (free text; the notice register has the records).
    pub others_told: String,
    /// When the next update to the other party is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_update_due: Option<DateTime<Utc>>,
    /// Residual risk after the mitigation (for the 8.2.1 (f) report).
    pub residual_risk: String,
    /// Lessons learned (for the 8.2.1 (f) report).
    pub lessons_learned: String,
}

/// A notice recorded by hand (not one breachdesk emailed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherNotice {
    /// `G1`, `G2`, ... within the incident.
    pub id: String,
    pub direction: Direction,
    pub party: NoticeParty,
    pub channel: NoticeChannel,
    /// When it was given or received.
    pub at: DateTime<Utc>,
    /// A name or address on the other end, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub counterpart: String,
    /// e.g. a Message-ID, an ICO case number, a crime reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

macro_rules! kebab_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }
        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The name used in files and on the command line.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let wanted = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == wanted)
                    .ok_or_else(|| {
                        let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        format!("'{}' is not one of: {}", s, names.join(", "))
                    })
            }
        }
    };
}

kebab_enum! {
    /// Paragraph 8.1 covers actual, potential and attempted breaches alike.
    BreachKind { Breach => "breach", Potential => "potential", Attempted => "attempted" }
}
kebab_enum! {
    /// How bad it is, in the responder's judgement.
    Severity { Low => "low", Medium => "medium", High => "high", Critical => "critical" }
}
kebab_enum! {
    /// Open until closed out.
    IncidentStatus { Open => "open", Closed => "closed" }
}
kebab_enum! {
    /// Which side of the contract we are on.
    PartyRole { ServiceProvider => "service-provider", Client => "client" }
}
kebab_enum! {
    /// Whether a notice went out from us or came in to us.
    Direction { Sent => "sent", Received => "received" }
}
kebab_enum! {
    /// Who a notice went to or came from.
    NoticeParty {
        Client => "client",
        ServiceProvider => "service-provider",
        GovCertUk => "govcertuk",
        Ico => "ico",
        Ncsc => "ncsc",
        Police => "police",
        Insurer => "insurer",
        DataSubjects => "data-subjects",
        Controller => "controller",
        Other => "other"
    }
}
kebab_enum! {
    /// How a recorded notice was given.
    NoticeChannel {
        Email => "email",
        Phone => "phone",
        InPerson => "in-person",
        Letter => "letter",
        Portal => "portal",
        Other => "other"
    }
}

kebab_enum! {
    /// How a notice was given or received.
    Channel { Email => "email", Phone => "phone", InPerson => "in-person", Other => "other" }
}
kebab_enum! {
    /// Who identified the breach (paragraph 8.1 binds either party to tell the other).
    IdentifiedBy { Us => "us", OtherParty => "other-party" }
}
kebab_enum! {
    /// Whether the Client requires a root-cause analysis (8.2.1 f: "where required by the Client").
    RcaRequired { Unknown => "unknown", Yes => "yes", No => "no" }
}
kebab_enum! {
    /// Where 8.2.1 (e) data goes: the Client, or GovCertUK at the Client's request.
    DataDestination { Client => "client", GovCertUk => "govcertuk" }
}
kebab_enum! {
    /// On whose authority data was asked for. The 8.2.1 (e) duty arises on
    /// the Client's request; `unconfirmed` is only for records made before
    /// breachdesk asked (a request from GovCertUK or another party).
    RequestAuthority { Client => "client", Unconfirmed => "unconfirmed" }
}
kebab_enum! {
    /// Which paragraph a Security Test was run under.
    TestClause {
        /// 6.1/6.2: the Service Provider's own test (the Client may witness).
        ServiceProvider => "6.2",
        /// 6.3: a test the Client ran.
        Client => "6.3",
        /// 6.4: a repeat of the relevant tests after changes to the ISMS.
        Repeat => "6.4",
    }
}
kebab_enum! {
    /// Which paragraph 8 notice an email is.
    NoticeKind {
        /// Paragraph 8.1: notify the other party within 1 hour.
        Notification => "notification",
        /// Paragraph 8.2.1 (e): data supplied to the Client or GovCertUK.
        DataSupply => "data-supply",
        /// Paragraph 8.2.1 (f): full details with the root-cause analysis.
        FullReport => "full-report",
        /// A free-form update.
        Update => "update",
    }
}
kebab_enum! {
    /// Where an email notice is on its way to the recipient.
    DeliveryState {
        /// Not yet accepted; retried with backoff.
        Pending => "pending",
        /// Transmitted (or a crash hit mid-send) and no reply came: it may
        /// have arrived. Retried with the same Message-ID.
        Unknown => "unknown",
        /// Refused for good (a 5xx reply): never retried automatically.
        Failed => "failed",
        /// Accepted by the server.
        Sent => "sent",
        /// Dropped on purpose, with a reason.
        Cancelled => "cancelled",
    }
}
kebab_enum! {
    /// Progress of one playbook step.
    StepStatus { Todo => "todo", InProgress => "in-progress", Done => "done", NotApplicable => "not-applicable" }
}
/// Where the data of an 8.2.1 (e) request goes (the name older callers use).
pub type Requester = DataDestination;

kebab_enum! {
    /// `requester` as records before the 8.2.1 (e) fix wrote it.
    LegacyRequester { Client => "client", GovCertUk => "govcertuk", Other => "other" }
}
kebab_enum! {
    /// Progress of one data request.
    RequestStatus { Open => "open", Supplied => "supplied", Withdrawn => "withdrawn" }
}
kebab_enum! {
    /// Root-cause categories; the repeat check (paragraph 6.5) matches on category + component.
    RootCauseCategory {
        UnpatchedVulnerability => "unpatched-vulnerability",
        Misconfiguration => "misconfiguration",
        WeakAuthentication => "weak-authentication",
        ExcessivePrivilege => "excessive-privilege",
        Phishing => "phishing",
        Malware => "malware",
        InsiderAction => "insider-action",
        LostOrStolenDevice => "lost-or-stolen-device",
        SupplierFailure => "supplier-failure",
        ProcessFailure => "process-failure",
        Other => "other",
    }
}
kebab_enum! {
    /// What kind of timeline entry it is.
    EntryKind { Note => "note", Change => "change", Notice => "notice" }
}

#[allow(clippy::derivable_impls)] // the enum is declared by a macro
impl Default for IncidentStatus {
    fn default() -> Self {
        IncidentStatus::Open
    }
}

#[allow(clippy::derivable_impls)] // the enum is declared by a macro
impl Default for IdentifiedBy {
    fn default() -> Self {
        IdentifiedBy::Us
    }
}

#[allow(clippy::derivable_impls)] // the enum is declared by a macro
impl Default for RcaRequired {
    fn default() -> Self {
        RcaRequired::Unknown
    }
}

impl DataDestination {
    /// In words: "the Client", "GovCertUK".
    pub fn label(self) -> &'static str {
        match self {
            DataDestination::Client => "the Client",
            DataDestination::GovCertUk => "GovCertUK",
        }
    }
}

impl TestClause {
    /// In words, for screens.
    pub fn label(self) -> &'static str {
        match self {
            TestClause::ServiceProvider => "Service Provider's Security Test (6.1/6.2)",
            TestClause::Client => "Client's test (6.3)",
            TestClause::Repeat => "repeat test after ISMS changes (6.4)",
        }
    }
}

impl BreachKind {
    /// In words: "actual breach", "potential breach", "attempted breach".
    pub fn label(self) -> &'static str {
        match self {
            BreachKind::Breach => "actual breach",
            BreachKind::Potential => "potential breach",
            BreachKind::Attempted => "attempted breach",
        }
    }

    /// In the schedule's words. A potential or attempted breach is not a
    /// Breach of Security, but paragraph 8.1 covers it too.
    pub fn contract_label(self) -> &'static str {
        match self {
            BreachKind::Breach => "a Breach of Security",
            BreachKind::Potential => "a potential Breach of Security",
            BreachKind::Attempted => "an attempted Breach of Security",
        }
    }
}

impl PartyRole {
    /// The party that must be notified under paragraph 8.1.
    pub fn other_party(self) -> PartyRole {
        match self {
            PartyRole::ServiceProvider => PartyRole::Client,
            PartyRole::Client => PartyRole::ServiceProvider,
        }
    }
    /// In words, for screens and notices.
    pub fn label(self) -> &'static str {
        match self {
            PartyRole::ServiceProvider => "Service Provider",
            PartyRole::Client => "Client",
        }
    }
}

/// The playbook (name + version) an incident was opened under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookRef {
    pub name: String,
    pub version: u32,
}

/// Paragraph 8.1: notify the other party within 1 hour of identification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    /// `identified_at` + 1 hour.
    pub due_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// e.g. the email Message-ID or a call reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The server's reply line when sent by email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_reply: Option<String>,
    /// Whether `made_at <= due_at`; set when the notification is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_deadline: Option<bool>,
    /// Why it was late, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_reason: Option<String>,
}

/// One email notice, as the incident keeps it: decided by its Message-ID
/// (recording the same Message-ID twice changes nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeRecord {
    /// The outbox id, e.g. `N-20261128-143201-7f3a9c`.
    pub id: String,
    pub kind: NoticeKind,
    /// `<...@breachdesk.domain>`: the same on every attempt.
    pub message_id: String,
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub subject: String,
    pub queued_at: DateTime<Utc>,
    pub state: DeliveryState,
    /// Attempts made when the state was last recorded.
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    /// The server's reply line: the acceptance, or the refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_reply: Option<String>,
    /// The data request a data supply answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Why a second 8.1 notification was sent on purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub again_reason: Option<String>,
    /// Why it was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    /// Who confirmed it (records older than the register have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
}

/// The other party's paragraph 8.1 notice, received by us.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeReceived {
    pub received_at: DateTime<Utc>,
    /// Who gave it (a name or address).
    pub from: String,
    pub channel: Channel,
    /// e.g. the email's Message-ID or a call reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    /// Where the details came from, e.g. "the Date: header of notice.eml".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A piece of evidence: a note, or a file fixed by size and SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub added_at: DateTime<Utc>,
    pub added_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Absolute path of an evidence file, as it was when recorded (when the
    /// path is not UTF-8, a lossy form for reading; `path_hex` has it exactly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The path's exact bytes in hex, only when they are not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Hex SHA-256 of the file's bytes when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// Paragraph 8.2.1 (c): a tested mitigation, and KPI relief if it hurts service levels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mitigation {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tested: bool,
    #[serde(default)]
    pub tested_how: String,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<DateTime<Utc>>,
    /// The mitigation adversely affects the KPIs.
    #[serde(default)]
    pub affects_kpis: bool,
    #[serde(default)]
    pub kpi_relief: KpiRelief,
}

/// KPI relief under 8.2.1 (c): the Client specifies the period by written notice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiRelief {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted: Option<bool>,
    /// The period the Client specified, in its words (e.g. "2026-11-28 to 2026-12-05").
    #[serde(default)]
    pub period: String,
    /// The Client's written notice setting the period (8.2.1 c).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<ReliefNotice>,
}

/// The Client's written notice of the KPI relief period under 8.2.1 (c).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReliefNotice {
    /// The date of the notice.
    pub dated: chrono::NaiveDate,
    /// The Client's reference for it (letter, email Message-ID).
    pub reference: String,
    /// The period it specifies, in its words.
    pub period: String,
}

/// Paragraph 8.2.1 (d) and (f): the root cause, and how a repeat is prevented.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootCause {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<RootCauseCategory>,
    /// The asset or component that failed, e.g. "vpn-gateway".
    #[serde(default)]
    pub component: String,
    #[serde(default)]
    pub analysis: String,
    #[serde(default)]
    pub prevention_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
}

impl RootCause {
    /// A root cause counts as recorded once it has a category and a component.
    pub fn is_recorded(&self) -> bool {
        self.category.is_some() && !self.component.trim().is_empty()
    }

    /// The key the paragraph 6.5 repeat check compares: category + normalised component.
    pub fn repeat_key(&self) -> Option<(RootCauseCategory, String)> {
        let category = self.category?;
        let component = normalise_component(&self.component);
        (!component.is_empty()).then_some((category, component))
    }
}

/// Lower-case, with runs of space, `_` and `-` folded to one `-`.
pub fn normalise_component(text: &str) -> String {
    let mut out = String::new();
    for word in text
        .split(|c: char| c.is_whitespace() || c == '_' || c == '-')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_lowercase());
    }
    out
}

/// Paragraph 8.2.1 (e): data asked for on the Client's request, supplied to
/// the Client (or to GovCertUK) within 2 Working Days, without charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "DataRequestRecord")]
pub struct DataRequest {
    /// `R1`, `R2`, ... within the incident.
    pub id: String,
    /// Who asked (a name or address), if known.
    #[serde(default)]
    pub requester_name: String,
    /// On whose authority: the Client's.
    pub authority: RequestAuthority,
    /// Where the data goes: the Client, or GovCertUK at the Client's request.
    pub deliver_to: DataDestination,
    pub received_at: DateTime<Utc>,
    pub what: String,
    pub due_at: DateTime<Utc>,
    #[serde(default = "open_request")]
    pub status: RequestStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplied_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplied_how: Option<String>,
    /// 8.2.1 (e): supplied without charge. Always true; recorded so the report says so.
    #[serde(default = "yes")]
    pub no_charge: bool,
    #[serde(default)]
    pub attachments: Vec<Evidence>,
    /// The request's own reference, e.g. the Message-ID of the email that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A data request as stored, old or new: records written before the
/// 8.2.1 (e) fix have `requester = "client" | "govcertuk" | "other"` instead
/// of `authority` and `deliver_to`, and still load.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataRequestRecord {
    id: String,
    #[serde(default)]
    requester: Option<LegacyRequester>,
    #[serde(default)]
    requester_name: String,
    #[serde(default)]
    authority: Option<RequestAuthority>,
    #[serde(default)]
    deliver_to: Option<DataDestination>,
    received_at: DateTime<Utc>,
    what: String,
    due_at: DateTime<Utc>,
    #[serde(default = "open_request")]
    status: RequestStatus,
    #[serde(default)]
    supplied_at: Option<DateTime<Utc>>,
    #[serde(default)]
    supplied_how: Option<String>,
    #[serde(default = "yes")]
    no_charge: bool,
    #[serde(default)]
    attachments: Vec<Evidence>,
    #[serde(default)]
    reference: Option<String>,
}

impl From<DataRequestRecord> for DataRequest {
    fn from(r: DataRequestRecord) -> DataRequest {
        // Old records: "client" was the Client asking for itself; "govcertuk"
        // was GovCertUK as the destination, with the Client's authority not
        // recorded; "other" was outside 8.2.1 (e) altogether.
        let (authority, deliver_to) = match r.requester {
            Some(LegacyRequester::Client) => (RequestAuthority::Client, DataDestination::Client),
            Some(LegacyRequester::GovCertUk) => {
                (RequestAuthority::Unconfirmed, DataDestination::GovCertUk)
            }
            Some(LegacyRequester::Other) => {
                (RequestAuthority::Unconfirmed, DataDestination::Client)
            }
            None => (RequestAuthority::Client, DataDestination::Client),
        };
        DataRequest {
            id: r.id,
            requester_name: r.requester_name,
            authority: r.authority.unwrap_or(authority),
            deliver_to: r.deliver_to.unwrap_or(deliver_to),
            received_at: r.received_at,
            what: r.what,
            due_at: r.due_at,
            status: r.status,
            supplied_at: r.supplied_at,
            supplied_how: r.supplied_how,
            no_charge: r.no_charge,
            attachments: r.attachments,
            reference: r.reference,
        }
    }
}

fn open_request() -> RequestStatus {
    RequestStatus::Open
}
fn yes() -> bool {
    true
}

/// Paragraph 8.2.1 (f): full details of the breach, with a root-cause analysis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Paragraph 8.3: the response showed the ISMS needs changing (at no cost to the Client).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsmsChange {
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: String,
}

/// How and why an incident was closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub closed_at: DateTime<Utc>,
    pub closed_by: String,
    /// Required when a required step was still open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Required steps that were open at closing.
    #[serde(default)]
    pub open_steps: Vec<String>,
    /// Closed because, on assessment, it was not a Breach of Security (nor a
    /// potential or attempted one); the reasoning is in `reason`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_a_breach: bool,
}

/// A link to an earlier incident with the same root cause: the further breach
/// 8.2.1 (d) asks the Service Provider to prevent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatLink {
    pub incident: String,
    pub category: RootCauseCategory,
    pub component: String,
    pub linked_at: DateTime<Utc>,
}

/// A Security Test (paragraphs 6.1-6.4): validates the ISMS, processes,
/// systems, incident response plans, patches and mitigations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityTest {
    /// `T1`, `T2`, ... within the incident.
    pub id: String,
    pub clause: TestClause,
    pub date: chrono::NaiveDate,
    pub scope: String,
    /// Who ran it (a person or firm).
    pub run_by: String,
    /// For a repeat test under 6.4: the test it repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats: Option<String>,
    #[serde(default)]
    pub findings: Vec<TestFinding>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// What a Security Test revealed, with its root cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFinding {
    pub description: String,
    pub category: RootCauseCategory,
    pub component: String,
    /// Set when a repeat test under 6.4 found the same root cause as an
    /// earlier finding or the incident's root cause (the paragraph 6.5 case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_root_cause_as: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl TestFinding {
    /// The root cause as the repeat checks compare it.
    pub fn repeat_key(&self) -> Option<(RootCauseCategory, String)> {
        let component = normalise_component(&self.component);
        (!component.is_empty()).then_some((self.category, component))
    }
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
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

fn todo() -> StepStatus {
    StepStatus::Todo
}

impl Step {
    /// Still needs doing.
    pub fn is_open(&self) -> bool {
        matches!(self.status, StepStatus::Todo | StepStatus::InProgress)
    }
}

/// One timestamped, attributed line of the incident's story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub by: String,
    #[serde(default = "note")]
    pub kind: EntryKind,
    pub text: String,
}

fn note() -> EntryKind {
    EntryKind::Note
}

impl Incident {
    /// Still being worked.
    pub fn is_open(&self) -> bool {
        self.status == IncidentStatus::Open
    }

    /// Appends a timeline entry.
    pub fn log(&mut self, at: DateTime<Utc>, by: &str, kind: EntryKind, text: impl Into<String>) {
        self.timeline.push(TimelineEntry {
            at,
            by: by.to_string(),
            kind,
            text: text.into(),
        });
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

/// The other party's paragraph 8.1 notice, as the responder gives it when
/// opening an incident the other party identified.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingNotice {
    pub received_at: DateTime<Utc>,
    pub from: String,
    pub channel: Channel,
    pub reference: Option<String>,
    /// Where the details came from, e.g. "the Date: header of notice.eml".
    pub source: Option<String>,
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
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0)
            .single()
            .expect("valid time")
    }

    fn fields(identified: DateTime<Utc>) -> NewIncident {
        NewIncident {
            title: "t".into(),
            summary: String::new(),
            kind: BreachKind::Potential,
            severity: Severity::High,
            personal_data: false,
            government_data: false,
            affected_assets: Vec::new(),
            identified_at: identified,
        }
    }

    fn notice(received: DateTime<Utc>) -> IncomingNotice {
        IncomingNotice {
            received_at: received,
            from: "Jo".into(),
            channel: Channel::Email,
            reference: Some("<m@x>".into()),
            source: None,
        }
    }

    #[test]
    fn awareness_is_identification_or_the_notice_received() {
        let ours = Incident::new(
            "INC-1".into(),
            fields(at(9, 0)),
            "a",
            PartyRole::ServiceProvider,
            at(10, 0),
        )
        .expect("new");
        assert!(ours.we_notify());
        assert_eq!(ours.aware_at(), at(9, 0));

        let theirs = Incident::new_on_notice(
            "INC-2".into(),
            fields(at(9, 0)),
            notice(at(9, 40)),
            "a",
            PartyRole::ServiceProvider,
            at(10, 0),
        )
        .expect("new");
        assert!(!theirs.we_notify());
        assert_eq!(theirs.identified_by, IdentifiedBy::OtherParty);
        assert_eq!(theirs.aware_at(), at(9, 40), "8.2 runs from the notice");
        assert!(theirs.timeline.iter().any(|e| {
            e.kind == EntryKind::Notice
                && e.text
                    .contains("notice received from the Client (Jo) by email")
        }));
    }

    #[test]
    fn a_notice_from_nobody_from_the_future_or_before_identification_is_refused() {
        let open = |from: &str, received, identified| {
            Incident::new_on_notice(
                "INC-3".into(),
                fields(identified),
                IncomingNotice {
                    from: from.into(),
                    ..notice(received)
                },
                "a",
                PartyRole::Client,
                at(10, 0),
            )
        };
        assert_eq!(
            open(" ", at(9, 0), at(9, 0)).expect_err("refused"),
            NewIncidentError::NoNoticeSender
        );
        assert!(matches!(
            open("Jo", at(10, 1), at(9, 0)),
            Err(NewIncidentError::ReceivedInFuture { .. })
        ));
        assert!(matches!(
            open("Jo", at(8, 59), at(9, 0)),
            Err(NewIncidentError::ReceivedBeforeIdentified { .. })
        ));
    }

    #[test]
    fn a_potential_breach_is_not_called_a_breach_of_security() {
        assert_eq!(BreachKind::Breach.contract_label(), "a Breach of Security");
        assert_eq!(
            BreachKind::Potential.contract_label(),
            "a potential Breach of Security"
        );
        assert_eq!(
            BreachKind::Attempted.contract_label(),
            "an attempted Breach of Security"
        );
        let i = Incident::new(
            "INC-4".into(),
            fields(at(9, 0)),
            "a",
            PartyRole::ServiceProvider,
            at(10, 0),
        )
        .expect("new");
        assert!(
            i.timeline[0]
                .text
                .starts_with("Incident opened (a potential Breach of Security, severity high)")
        );
    }

    fn request_toml(requester: Option<&str>, extra: &str) -> String {
        format!(
            "id = \"R1\"\n{}requester_name = \"Jo\"\nreceived_at = \"2026-11-28T09:00:00Z\"\nwhat = \"logs\"\ndue_at = \"2026-12-01T23:59:59Z\"\n{extra}",
            requester
                .map(|r| format!("requester = \"{r}\"\n"))
                .unwrap_or_default()
        )
    }

    #[test]
    fn old_requester_values_migrate_to_authority_and_destination() {
        for (old, authority, deliver_to) in [
            ("client", RequestAuthority::Client, DataDestination::Client),
            (
                "govcertuk",
                RequestAuthority::Unconfirmed,
                DataDestination::GovCertUk,
            ),
            (
                "other",
                RequestAuthority::Unconfirmed,
                DataDestination::Client,
            ),
        ] {
            let r: DataRequest = toml::from_str(&request_toml(Some(old), "")).expect(old);
            assert_eq!(
                (r.authority, r.deliver_to),
                (authority, deliver_to),
                "{old}"
            );
            assert_eq!(r.requester_name, "Jo");
            assert_eq!(r.status, RequestStatus::Open);
            // Saved again, it is in the new form only.
            let saved = toml::to_string(&r).expect("serialise");
            assert!(!saved.contains("requester ="), "{saved}");
            let again: DataRequest = toml::from_str(&saved).expect("reload");
            assert_eq!(again, r);
        }
        let new: DataRequest = toml::from_str(&request_toml(
            None,
            "authority = \"client\"\ndeliver_to = \"govcertuk\"\n",
        ))
        .expect("new form");
        assert_eq!(new.deliver_to, DataDestination::GovCertUk);
        assert!(
            toml::from_str::<DataRequest>(&request_toml(Some("police"), "")).is_err(),
            "an unknown old value is refused"
        );
        assert!(
            toml::from_str::<DataRequest>(&request_toml(None, "surprise = 1\n")).is_err(),
            "unknown fields are still refused"
        );
    }

    #[test]
    fn test_and_request_ids_count_up() {
        let mut i = Incident::new(
            "INC-5".into(),
            fields(at(9, 0)),
            "a",
            PartyRole::ServiceProvider,
            at(10, 0),
        )
        .expect("new");
        assert_eq!(i.next_test_id(), "T1");
        i.security_tests.push(SecurityTest {
            id: "T7".into(),
            clause: TestClause::ServiceProvider,
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"),
            scope: "s".into(),
            run_by: "r".into(),
            repeats: None,
            findings: Vec::new(),
            recorded_by: "a".into(),
            recorded_at: at(10, 0),
        });
        assert_eq!(i.next_test_id(), "T8");
        assert_eq!("6.4".parse::<TestClause>(), Ok(TestClause::Repeat));
    }
}
