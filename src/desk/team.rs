//! Who is on it: giving a responder a role, handing an incident over to the
//! next responder, and acknowledging a handover. Each is one saved change
//! with a timeline entry and an audit entry, like every other change.

use super::*;
use crate::domain::incident::{Assignment, Handover, Role, pending_handovers, responder_name};

/// A name as typed, checked: `what` says whose name it is in the message.
fn checked_name(text: &str, what: &str) -> Result<String, DeskError> {
    responder_name(text).map_err(|e| match e {
        crate::domain::incident::NameError::Empty => missing(format!("{what} is empty: say who")),
        e => invalid(format!("{what} '{}' {e}", crate::text::quote_short(text))),
    })
}

impl Desk {
    /// Gives `role` on incident `id` to `to` (from `now`); nothing changes
    /// when they already hold it.
    pub fn assign(
        &self,
        id: &str,
        role: Role,
        to: &str,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let to = checked_name(to, "the name to assign")?;
        let actor = self.actor.clone();
        self.change(id, now, "role.assigned", |incident| {
            let was =
                crate::domain::incident::holder(&incident.assignments, role).map(str::to_string);
            if was.as_deref() == Some(to.as_str()) {
                return Ok(String::new());
            }
            let next = Assignment::new(role, &to, &actor, now, &incident.assignments);
            incident.assignments.push(next);
            let text = match was {
                Some(was) => format!("Role {role}: {to} (was {was})"),
                None => format!("Role {role}: {to}"),
            };
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }

    /// Takes `role` on incident `id` from whoever holds it; nothing
    /// changes when nobody does.
    pub fn unassign(&self, id: &str, role: Role, now: DateTime<Utc>) -> Result<Changed, DeskError> {
        let actor = self.actor.clone();
        self.change(id, now, "role.unassigned", |incident| {
            let Some(was) =
                crate::domain::incident::holder(&incident.assignments, role).map(str::to_string)
            else {
                return Ok(String::new());
            };
            let next = Assignment::new(role, "", &actor, now, &incident.assignments);
            incident.assignments.push(next);
            let text = format!("Role {role}: unassigned (was {was})");
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }

    /// Records that the responder hands incident `id` over to `to`, with
    /// `note`: shown at the top of the incident until acknowledged.
    pub fn hand_over(
        &self,
        id: &str,
        to: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let to = checked_name(to, "the name of the next responder")?;
        if to == self.actor {
            return Err(invalid(format!(
                "you are {}: hand over to the next responder, not to yourself",
                crate::text::one_line(&self.actor)
            )));
        }
        let note = note.trim();
        if note.is_empty() {
            return Err(missing(
                "the handover note is empty: say what the next responder must know",
            ));
        }
        let actor = self.actor.clone();
        self.change(id, now, "handover.recorded", |incident| {
            incident
                .handovers
                .push(Handover::new(&actor, &to, note, now));
            let text = format!("Handed over to {to}: {note}");
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }

    /// Acknowledges every handover of incident `id` not yet acknowledged,
    /// recording who did and when. Anyone but the responder who handed over
    /// may acknowledge (the name is recorded); `changed.warnings` is empty.
    pub fn acknowledge_handovers(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let actor = self.actor.clone();
        self.change(id, now, "handover.acknowledged", |incident| {
            let pending: Vec<String> = pending_handovers(&incident.handovers)
                .iter()
                .map(|h| h.uid.clone())
                .collect();
            if pending.is_empty() {
                return Err(wrong_state(format!(
                    "{} has no handover waiting to be acknowledged",
                    incident.id
                )));
            }
            let others = incident
                .handovers
                .iter()
                .any(|h| pending.contains(&h.uid) && h.from != actor);
            if !others {
                return Err(wrong_state(format!(
                    "you ({}) handed this incident over: the next responder acknowledges it",
                    crate::text::one_line(&actor)
                )));
            }
            let mut said = Vec::new();
            let mut texts = Vec::new();
            for h in incident
                .handovers
                .iter_mut()
                .filter(|h| pending.contains(&h.uid) && h.from != actor)
            {
                h.acknowledged_by = Some(actor.clone());
                h.acknowledged_at = Some(now);
                let text = if h.to == actor {
                    format!("Handover from {} acknowledged by {actor}", h.from)
                } else {
                    format!(
                        "Handover from {} to {} acknowledged by {actor}",
                        h.from, h.to
                    )
                };
                said.push(format!("{} ({})", text, h.uid));
                texts.push(text);
            }
            for text in texts {
                incident.log(now, &actor, EntryKind::Change, text);
            }
            Ok(said.join("; "))
        })
    }
}
