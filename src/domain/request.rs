//! Paragraph 8.2.1 (e) data requests: who asked, where the data goes, and
//! how older records that named a "requester" are read.

use crate::domain::kebab::kebab_enum;
use crate::domain::record::Evidence;
use crate::domain::uid::{entry, instant};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// Where the data of an 8.2.1 (e) request goes (the name older callers use).
pub type Requester = DataDestination;

kebab_enum! {
    /// `requester` as records before the 8.2.1 (e) fix wrote it.
    LegacyRequester { Client => "client", GovCertUk => "govcertuk", Other => "other" }
}
kebab_enum! {
    /// Progress of one data request. `withdrawn`: the Client withdrew its
    /// request; `not-supplied`: the data will not be supplied, for the
    /// reason recorded (no more is claimed than that reason).
    RequestStatus {
        Open => "open",
        Supplied => "supplied",
        Withdrawn => "withdrawn",
        NotSupplied => "not-supplied"
    }
}

/// How an open data request ends without the data being supplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestEnding {
    /// The Client withdrew its request.
    WithdrawnByClient,
    /// The data will not be supplied, for the reason given.
    NotSupplied,
}

impl RequestEnding {
    /// The status the request takes.
    pub fn status(self) -> RequestStatus {
        match self {
            RequestEnding::WithdrawnByClient => RequestStatus::Withdrawn,
            RequestEnding::NotSupplied => RequestStatus::NotSupplied,
        }
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

/// Paragraph 8.2.1 (e): data asked for on the Client's request, supplied to
/// the Client (or to GovCertUK) within 2 Working Days, without charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "DataRequestRecord")]
pub struct DataRequest {
    /// Stable id (see [`crate::domain::uid`]); derived on load when missing.
    #[serde(default)]
    pub uid: String,
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
    /// Why a request ended without the data being supplied (withdrawn by
    /// the Client, or not supplied), who recorded it and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<RequestEnded>,
}

/// How a data request ended without the data being supplied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestEnded {
    /// When the Client withdrew the request, or when it was decided not to
    /// supply the data.
    pub at: DateTime<Utc>,
    /// Who recorded it.
    pub by: String,
    /// Why, in the responder's words.
    pub reason: String,
}

impl DataRequest {
    /// Whether the request's 2-Working-Day clock is running: neither
    /// supplied, withdrawn by the Client, nor recorded as not supplied. The
    /// one notion of an open request the board, `list`, reminders, close
    /// checks and exports share.
    pub fn is_open(&self) -> bool {
        self.status == RequestStatus::Open
    }

    /// How the request ended without the data being supplied, in words that
    /// claim no more than was recorded: "withdrawn by the Client: REASON" or
    /// "not supplied: REASON". `None` for an open or supplied request.
    pub fn ended_words(&self) -> Option<String> {
        let reason = self
            .ended
            .as_ref()
            .map(|e| e.reason.trim())
            .filter(|r| !r.is_empty());
        let with_reason = |what: &str| match reason {
            Some(r) => format!("{what}: {r}"),
            None => what.to_string(),
        };
        match self.status {
            RequestStatus::Open | RequestStatus::Supplied => None,
            RequestStatus::Withdrawn => Some(with_reason("withdrawn by the Client")),
            RequestStatus::NotSupplied => Some(with_reason("not supplied")),
        }
    }
}

/// A data request as stored, old or new: records written before the
/// 8.2.1 (e) fix have `requester = "client" | "govcertuk" | "other"` instead
/// of `authority` and `deliver_to`, and still load.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataRequestRecord {
    #[serde(default)]
    uid: String,
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
    #[serde(default)]
    ended: Option<RequestEnded>,
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
            uid: r.uid,
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
            ended: r.ended,
        }
    }
}

fn open_request() -> RequestStatus {
    RequestStatus::Open
}
fn yes() -> bool {
    true
}

entry!(DataRequest, "data-request", |e| vec![
    e.id.clone(),
    instant(&e.received_at),
    e.what.clone()
]);
