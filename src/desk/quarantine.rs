//! Putting a hand-fixed record back from `quarantine/`.

use super::*;

impl Desk {
    /// Checks a hand-fixed quarantined record and puts it back (see
    /// [`Store::restore_quarantined`]), with an audit entry saying so.
    pub fn restore_quarantined(
        &self,
        file: &Path,
        now: DateTime<Utc>,
    ) -> Result<Incident, DeskError> {
        let incident = self.store.restore_quarantined(file)?;
        self.audit.append(
            now,
            &self.actor,
            Some(&incident.id),
            "incident.restored",
            &format!(
                "restored from quarantine ({}) at revision {}",
                file.display(),
                incident.revision
            ),
        )?;
        Ok(incident)
    }
}
