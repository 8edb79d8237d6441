//! Who is on the incident, as the `show` view and the exports write it:
//! the handovers waiting to be acknowledged (at the top, internal only) and
//! the current roles.

use crate::domain::incident::{Incident, current_roles, pending_handovers};
use crate::present::local;
use crate::report::{Block, Section};
use chrono_tz::Tz;

/// The handovers not yet acknowledged, oldest first, or `None`.
pub(super) fn handovers(incident: &Incident, tz: Tz) -> Option<Section> {
    let pending = pending_handovers(&incident.handovers);
    if pending.is_empty() {
        return None;
    }
    let lines = pending
        .iter()
        .map(|h| {
            format!(
                "{} handed over to {} at {}: {}",
                h.from,
                h.to,
                local(h.at, tz),
                h.note
            )
        })
        .chain(std::iter::once(format!(
            "Acknowledge with: breachdesk handover ack {}",
            incident.id
        )))
        .collect();
    Some(Section {
        heading: "HANDOVER: not yet acknowledged".to_string(),
        blocks: vec![Block::List(lines)],
    })
}

/// Who holds each role now, with since when and who assigned it, or `None`.
pub(super) fn roles(incident: &Incident, tz: Tz) -> Option<Section> {
    let rows: Vec<(String, String)> = current_roles(&incident.assignments)
        .into_iter()
        .map(|a| {
            let mut label = a.role.label().to_string();
            if let Some(first) = label.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            (
                label,
                format!("{} (since {}, assigned by {})", a.to, local(a.at, tz), a.by),
            )
        })
        .collect();
    (!rows.is_empty()).then(|| Section {
        heading: "Roles".to_string(),
        blocks: vec![Block::Fields(rows)],
    })
}
