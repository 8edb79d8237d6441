//! What the board and `list` show of an incident: small, derived from the
//! record, and cheap to keep in an index.

use crate::domain::incident::{
    BreachKind, Incident, IncidentStatus, RequestStatus, RootCauseCategory, Severity,
};
use crate::domain::playbook::next_action;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One incident, as the board and `list` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentSummary {
    pub id: String,
    pub revision: u64,
    pub title: String,
    pub kind: BreachKind,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub identified_at: DateTime<Utc>,
    pub logged_at: DateTime<Utc>,
    pub notification_due_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<DateTime<Utc>>,
    /// When the other party identified the breach: when its 8.1 notice
    /// reached us (no notification countdown runs for us).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_received_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_action: Option<NextAction>,
    pub open_requests: usize,
    /// The nearest open deadline (notification, next step, data request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub repeat_root_cause: bool,
    /// The root cause's category and normalised component, once recorded
    /// (what the paragraph 6.5 repeat check compares).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<(RootCauseCategory, String)>,
}

/// The first open required step by due time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextAction {
    pub step: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
}

impl IncidentSummary {
    /// Derives the summary from the full record.
    pub fn of(incident: &Incident) -> IncidentSummary {
        let next = next_action(incident).map(|s| NextAction {
            step: s.id.clone(),
            title: s.title.clone(),
            due_at: s.due_at,
        });
        let open_requests: Vec<&crate::domain::incident::DataRequest> = incident
            .data_requests
            .iter()
            .filter(|r| r.status == RequestStatus::Open)
            .collect();
        let notification_open = incident.we_notify() && incident.notification.made_at.is_none();
        let next_due_at = [
            notification_open.then_some(incident.notification.due_at),
            next.as_ref().and_then(|n| n.due_at),
            open_requests.iter().map(|r| r.due_at).min(),
        ]
        .into_iter()
        .flatten()
        .min();
        IncidentSummary {
            id: incident.id.clone(),
            revision: incident.revision,
            title: incident.title.clone(),
            kind: incident.kind,
            severity: incident.severity,
            status: incident.status,
            identified_at: incident.identified_at,
            logged_at: incident.logged_at,
            notification_due_at: incident.notification.due_at,
            notified_at: incident.notification.made_at,
            notice_received_at: if incident.we_notify() {
                None
            } else {
                incident.notice_received.as_ref().map(|n| n.received_at)
            },
            next_action: next,
            open_requests: open_requests.len(),
            next_due_at,
            repeat_root_cause: !incident.repeat_of.is_empty(),
            root_cause: incident.root_cause.repeat_key(),
        }
    }
}

/// Most urgent first: open before closed, then nearest deadline (overdue
/// ones are the earliest, so on top), then no deadline, then most severe,
/// then newest.
pub fn sort_by_urgency(summaries: &mut [IncidentSummary]) {
    summaries.sort_by(|a, b| {
        (a.status != IncidentStatus::Open)
            .cmp(&(b.status != IncidentStatus::Open))
            .then_with(|| a.next_due_at.is_none().cmp(&b.next_due_at.is_none()))
            .then_with(|| a.next_due_at.cmp(&b.next_due_at))
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| b.logged_at.cmp(&a.logged_at))
            .then_with(|| a.id.cmp(&b.id))
    });
}
