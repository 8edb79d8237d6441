//! Use cases both frontends ask for in the same words: a step updated with
//! its status kept when none is given, and the notices still to go. The console's jobs and the command line call these.

use super::*;
use crate::domain::incident::{DeliveryState, StepStatus};
use crate::mail::outbox::QueuedNotice;

impl Desk {
    /// [`Desk::set_step`], keeping the step's status when `status` is None
    /// (a note or an evidence file alone).
    pub fn update_step(
        &self,
        id: &str,
        step: &str,
        status: Option<StepStatus>,
        note: Option<String>,
        evidence: Option<&Path>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let status = match status {
            Some(status) => status,
            None => {
                let incident = self.load(id)?;
                incident
                    .step(step)
                    .map(|s| s.status)
                    .ok_or_else(|| not_found(format!("{} has no step '{step}'", incident.id)))?
            }
        };
        self.set_step(id, step, status, note, evidence, now)
    }

    /// The outbox notices still to go: pending, unknown (may have arrived)
    /// or failed (refused for good, waiting to be retried or cancelled).
    pub fn notices_to_go(&self) -> Result<Vec<QueuedNotice>, DeskError> {
        Ok(self
            .outbox_notices()?
            .into_iter()
            .filter(|q| {
                matches!(
                    q.effective_state(),
                    DeliveryState::Pending | DeliveryState::Unknown | DeliveryState::Failed
                )
            })
            .collect())
    }

    /// Every running legal clock of each incident named (the 8.1
    /// notification, each open 8.2.1 (e) request, a regulator's clock), not
    /// only the nearest the index keeps, so the console can alert on each.
    /// An incident that cannot be read has none here (the board says why).
    pub fn legal_clocks(
        &self,
        ids: &[String],
    ) -> Vec<(String, Vec<crate::domain::summary::DueClock>)> {
        ids.iter()
            .map(|id| {
                let clocks = self
                    .load(id)
                    .map(|incident| {
                        crate::domain::urgency::board_clocks(&incident)
                            .into_iter()
                            .filter(|c| !c.internal)
                            .map(|c| crate::domain::summary::DueClock {
                                clock: c.clock,
                                due_at: c.due_at,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (id.clone(), clocks)
            })
            .collect()
    }
}
