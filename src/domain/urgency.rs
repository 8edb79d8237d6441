//! Which deadlines of an incident are legal clocks and which are internal
//! targets: the one classifier `watch`, the board and `list` share.
//!
//! Legal clocks: the paragraph 8.1 notification (when we notify), each open
//! 8.2.1 (e) data request, and every required playbook step whose clock the
//! playbook does not mark `internal` (the ICO's 72 hours, ...). Internal
//! targets: a clock on a step that is not required, or one marked
//! `internal = true` (the GDPR 24 h assessment).

use crate::domain::incident::Incident;
use crate::domain::step::{ClockStart, RecordField};
use chrono::{DateTime, Utc};

/// One open deadline of one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenClock {
    pub incident: String,
    /// The incident's title.
    pub title: String,
    /// `8.1`, `8.2.1e/R1` (one per data request), or a playbook step id
    /// such as `gdpr-ico`.
    pub clock: String,
    /// What has to happen, in the responder's words.
    pub what: String,
    pub due_at: DateTime<Utc>,
    /// An internal target (a clock on a step that is not required, or one
    /// the playbook marks internal) rather than a legal clock.
    pub internal: bool,
}

/// The open clocks of an incident: the paragraph 8.1 notification until it
/// is made (when we are the party that notifies), each open 8.2.1 (e) data
/// request until supplied, and every open, applicable playbook step with a
/// running clock (e.g. the ICO's 72 hours). Clocks of steps that are not
/// required are internal targets, included only when `internal_targets` is
/// set. A closed incident has none (see [`board_clocks`]).
pub fn open_clocks(incident: &Incident, internal_targets: bool) -> Vec<OpenClock> {
    if !incident.is_open() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if incident.we_notify() && incident.notification.made_at.is_none() {
        out.push(clock(
            incident,
            "8.1".into(),
            "Notify the other party (8.1)".into(),
            incident.notification.due_at,
            false,
        ));
    }
    out.extend(request_clocks(incident));
    for step in &incident.steps {
        // The notification and the data requests have their own clocks above.
        let covered = step.fills.contains(&RecordField::Notification)
            || step
                .clock
                .as_ref()
                .is_some_and(|c| c.from == ClockStart::RequestReceived);
        let Some(due_at) = step.due_at else { continue };
        if covered || !step.is_open() || !step.applies(incident) {
            continue;
        }
        // An internal target: a step that is not required, or whose clock
        // the playbook marks as the organisation's own.
        let internal = !step.required || step.clock.as_ref().is_some_and(|c| c.internal);
        if internal && !internal_targets {
            continue;
        }
        out.push(clock(
            incident,
            step.id.clone(),
            format!("{} ({})", step.title, step.id),
            due_at,
            internal,
        ));
    }
    out
}

/// The clocks the board and `list` rank an incident by: [`open_clocks`] with
/// internal targets for an open incident; for a closed one, its data
/// requests still open (closing does not stop 8.2.1 (e)).
pub fn board_clocks(incident: &Incident) -> Vec<OpenClock> {
    if incident.is_open() {
        open_clocks(incident, true)
    } else {
        request_clocks(incident)
    }
}

fn request_clocks(incident: &Incident) -> Vec<OpenClock> {
    incident
        .data_requests
        .iter()
        .filter(|r| r.is_open())
        .map(|r| {
            clock(
                incident,
                format!("8.2.1e/{}", r.id),
                format!("Supply the data of request {} (8.2.1 e)", r.id),
                r.due_at,
                false,
            )
        })
        .collect()
}

fn clock(
    incident: &Incident,
    clock: String,
    what: String,
    due_at: DateTime<Utc>,
    internal: bool,
) -> OpenClock {
    OpenClock {
        incident: incident.id.clone(),
        title: incident.title.clone(),
        clock,
        what,
        due_at,
        internal,
    }
}

/// The nearest legal clock and the nearest internal target among `clocks`.
pub fn nearest(clocks: &[OpenClock]) -> (Option<&OpenClock>, Option<&OpenClock>) {
    let pick = |internal: bool| {
        clocks
            .iter()
            .filter(|c| c.internal == internal)
            .min_by_key(|c| c.due_at)
    };
    (pick(false), pick(true))
}
