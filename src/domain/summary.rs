//! What the board and `list` show of an incident: small, derived from the
//! record, and cheap to keep in an index.

use crate::domain::incident::{BreachKind, Incident, IncidentStatus, RootCauseCategory, Severity};
use crate::domain::playbook::next_action;
use crate::domain::team::pending_handovers;
use crate::domain::urgency::{OpenClock, board_clocks, nearest};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

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
    /// The nearest legal clock (8.1, an open 8.2.1 (e) request, a
    /// regulator's clock such as the ICO's 72 hours) and what it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_due: Option<DueClock>,
    /// The nearest internal target (a step that is not required, or a
    /// clock the playbook marks internal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_due: Option<DueClock>,
    #[serde(default)]
    pub repeat_root_cause: bool,
    /// The root cause's category and normalised component, once recorded
    /// (what the paragraph 6.5 repeat check compares).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<(RootCauseCategory, String)>,
    /// Who is the incident manager now (the latest assignment of the role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_manager: Option<String>,
    /// Who the oldest handover not yet acknowledged is to (the board marks
    /// the incident so the next responder sees it waits for them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover_to: Option<String>,
}

/// One deadline as the board shows it: which clock, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DueClock {
    /// `8.1`, `8.2.1e/R1`, or a playbook step id such as `gdpr-ico`.
    pub clock: String,
    pub due_at: DateTime<Utc>,
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
            .filter(|r| r.is_open())
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
        let clocks = board_clocks(incident);
        let (legal, internal) = nearest(&clocks);
        let due = |c: Option<&OpenClock>| {
            c.map(|c| DueClock {
                clock: c.clock.clone(),
                due_at: c.due_at,
            })
        };
        IncidentSummary {
            legal_due: due(legal),
            internal_due: due(internal),
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
            incident_manager: incident.incident_manager().map(str::to_string),
            handover_to: pending_handovers(&incident.handovers)
                .first()
                .map(|h| h.to.clone()),
        }
    }
}

impl IncidentSummary {
    /// Whether the board (and `list` without `--all`) shows this incident:
    /// it is open, or a legal clock of it still runs (a data request of a
    /// closed incident, until supplied).
    pub fn on_board(&self) -> bool {
        self.status == IncidentStatus::Open || self.legal_due.is_some()
    }
}

/// The order of the board and of `list`, most urgent first:
///
/// 1. incidents with a running legal clock, by that clock's due time (the
///    most overdue first, then the least time left);
/// 2. then open incidents with only internal targets, by the nearest one;
/// 3. then open incidents with no clock, most severe first, then newest;
/// 4. closed incidents last, newest first.
///
/// Ties go to the more severe, then the newer, then the id.
pub fn urgency_order(a: &IncidentSummary, b: &IncidentSummary) -> Ordering {
    fn rank(s: &IncidentSummary) -> (u8, Option<DateTime<Utc>>) {
        match (&s.legal_due, &s.internal_due) {
            (Some(l), _) => (0, Some(l.due_at)),
            (None, _) if s.status != IncidentStatus::Open => (3, None),
            (None, Some(i)) => (1, Some(i.due_at)),
            (None, None) => (2, None),
        }
    }
    rank(a)
        .cmp(&rank(b))
        .then_with(|| b.severity.cmp(&a.severity))
        .then_with(|| b.logged_at.cmp(&a.logged_at))
        .then_with(|| a.id.cmp(&b.id))
}

/// Sorts summaries by [`urgency_order`].
pub fn sort_by_urgency(summaries: &mut [IncidentSummary]) {
    summaries.sort_by(urgency_order);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
    }

    fn summary(id: &str, legal: Option<i64>, internal: Option<i64>) -> IncidentSummary {
        let at = |mins: i64| now() + Duration::minutes(mins);
        IncidentSummary {
            id: id.into(),
            revision: 1,
            title: id.into(),
            kind: BreachKind::Breach,
            severity: Severity::Medium,
            status: IncidentStatus::Open,
            identified_at: now(),
            logged_at: now(),
            notification_due_at: at(60),
            notified_at: None,
            notice_received_at: None,
            next_action: None,
            open_requests: 0,
            next_due_at: None,
            legal_due: legal.map(|m| DueClock {
                clock: "8.1".into(),
                due_at: at(m),
            }),
            internal_due: internal.map(|m| DueClock {
                clock: "gdpr-assess".into(),
                due_at: at(m),
            }),
            repeat_root_cause: false,
            root_cause: None,
            incident_manager: None,
            handover_to: None,
        }
    }

    fn order(mut all: Vec<IncidentSummary>) -> Vec<String> {
        sort_by_urgency(&mut all);
        all.into_iter().map(|s| s.id).collect()
    }

    #[test]
    fn legal_clocks_rank_above_overdue_internal_targets() {
        let ids = order(vec![
            summary("internal-overdue-40h", None, Some(-40 * 60)),
            summary("legal-in-14m", Some(14), Some(-60)),
            summary("legal-overdue", Some(-5), None),
            summary("legal-in-3d", Some(3 * 24 * 60), None),
            summary("no-clock", None, None),
            summary("internal-in-1h", None, Some(60)),
        ]);
        assert_eq!(
            ids,
            [
                "legal-overdue",
                "legal-in-14m",
                "legal-in-3d",
                "internal-overdue-40h",
                "internal-in-1h",
                "no-clock"
            ]
        );
    }

    #[test]
    fn a_closed_incident_with_an_open_request_stays_among_legal_clocks() {
        let mut closed_with_request = summary("closed-request", Some(120), None);
        closed_with_request.status = IncidentStatus::Closed;
        let mut closed_done = summary("closed-done", None, None);
        closed_done.status = IncidentStatus::Closed;
        assert!(closed_with_request.on_board());
        assert!(!closed_done.on_board());
        let ids = order(vec![
            closed_done,
            summary("no-clock", None, None),
            closed_with_request,
            summary("internal", None, Some(5)),
        ]);
        assert_eq!(
            ids,
            ["closed-request", "internal", "no-clock", "closed-done"]
        );
    }

    #[test]
    fn ties_go_to_the_more_severe_then_the_newer() {
        let mut high = summary("b-high", None, None);
        high.severity = Severity::High;
        let mut newer = summary("c-newer", None, None);
        newer.logged_at = now() + Duration::minutes(1);
        let ids = order(vec![summary("a-old", None, None), newer, high]);
        assert_eq!(ids, ["b-high", "c-newer", "a-old"]);
    }
}
