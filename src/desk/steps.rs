//! Playbook steps done, skipped or not applicable; closing and reopening.

use super::*;

impl Desk {
    /// Sets a playbook step's status, with an optional note and evidence file.
    pub fn set_step(
        &self,
        id: &str,
        step_id: &str,
        status: StepStatus,
        note: Option<String>,
        evidence: Option<&Path>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let evidence = evidence
            .map(|f| evidence_file(f, &self.actor, now))
            .transpose()?;
        let resolved = self.store.resolve_id(id)?;
        let audit_entries = if status == StepStatus::Done {
            self.audit.entries_for(&resolved)?.len()
        } else {
            0
        };
        let actor = self.actor.clone();
        self.change(&resolved, now, "step.updated", |incident| {
            let snapshot = incident.clone();
            let incident_id = incident.id.clone();
            let step = incident.step_mut(step_id).ok_or_else(|| {
                let ids: Vec<&str> = snapshot.steps.iter().map(|s| s.id.as_str()).collect();
                not_found(format!(
                    "{incident_id} has no step '{step_id}' (steps: {})",
                    ids.join(", ")
                ))
            })?;
            if status == StepStatus::Done {
                let waiting = waiting_on(&snapshot, step);
                if !waiting.is_empty() {
                    return Err(blocked(format!(
                        "step {step_id} waits for {} to be done first",
                        waiting.join(", ")
                    )));
                }
                let failing: Vec<&str> = step
                    .checks
                    .iter()
                    .filter(|c| !c.passes(&snapshot, audit_entries))
                    .map(|c| c.failure())
                    .collect();
                if !failing.is_empty() {
                    return Err(blocked(format!(
                        "step {step_id} cannot be done yet: {}",
                        failing.join("; ")
                    )));
                }
            }
            let mut said = Vec::new();
            if step.status != status {
                said.push(format!("status {} -> {}", step.status, status));
                step.status = status;
                step.completed_at = (status == StepStatus::Done).then_some(now);
            }
            if let Some(note) = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) {
                said.push(format!("note: {note}"));
                crate::domain::uid::push(
                    &mut step.notes,
                    crate::domain::incident::StepNote::new(now, &actor, note),
                );
            }
            if let Some(e) = evidence {
                said.push(format!(
                    "evidence {}",
                    crate::report::evidence_line(&e, crate::report::EvidenceForm::Full)
                ));
                crate::domain::uid::push(&mut step.evidence, e);
            }
            if said.is_empty() {
                return Ok(String::new());
            }
            step.who = Some(actor.clone());
            step.updated_at = Some(now);
            let text = format!("Step {step_id} ({}): {}", step.title, said.join("; "));
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }

    /// Closes an incident. With a required step still open, a reason is needed
    /// and kept with the list of open steps.
    pub fn close(
        &self,
        id: &str,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let actor = self.actor.clone();
        self.change(id, now, "incident.closed", |incident| {
            if !incident.is_open() {
                return Err(wrong_state(format!("{} is already closed", incident.id)));
            }
            let open = open_required_ids(incident);
            let reason = reason
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty());
            if !open.is_empty() && reason.is_none() {
                return Err(missing(format!(
                    "required steps are still open ({}): give a reason to close anyway (--reason)",
                    open.join(", ")
                )));
            }
            let text = match &reason {
                Some(r) if !open.is_empty() => {
                    format!(
                        "Incident closed with steps {} open; reason: {r}",
                        open.join(", ")
                    )
                }
                Some(r) => format!("Incident closed: {r}"),
                None => "Incident closed".to_string(),
            };
            close_record(incident, &actor, now, reason, open, false, &text);
            Ok(text)
        })
    }

    /// Reopens a closed incident (the closure is kept in the timeline).
    pub fn reopen(&self, id: &str, reason: &str, now: DateTime<Utc>) -> Result<Changed, DeskError> {
        if reason.trim().is_empty() {
            return Err(missing("give a reason to reopen (--reason)"));
        }
        let actor = self.actor.clone();
        self.change(id, now, "incident.reopened", |incident| {
            if incident.is_open() {
                return Err(wrong_state(format!("{} is already open", incident.id)));
            }
            incident.status = IncidentStatus::Open;
            incident.closure = None;
            let text = format!("Incident reopened: {}", reason.trim());
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }
}
