//! Notices under paragraph 8: the 8.1 notification we owe, the other
//! party's notice to us, the emailed notices (their kind and delivery
//! state) and the register of notices recorded by hand.

use crate::domain::kebab::kebab_enum;
use crate::domain::uid::{entry, instant};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// One email notice, as the incident keeps it: decided by its Message-ID
/// (recording the same Message-ID twice changes nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeRecord {
    /// Stable id (see [`crate::domain::uid`]); derived on load when missing.
    #[serde(default)]
    pub uid: String,
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

/// A notice recorded by hand (not one breachdesk emailed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherNotice {
    /// Stable id (see [`crate::domain::uid`]); derived on load when missing.
    #[serde(default)]
    pub uid: String,
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

entry!(NoticeRecord, "email-notice", |e| vec![e.message_id.clone()]);
entry!(OtherNotice, "other-notice", |e| vec![
    e.id.clone(),
    instant(&e.recorded_at)
]);
