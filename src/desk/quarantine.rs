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
        let note = AuditNote::new(
            now,
            &self.actor,
            "incident.restored",
            &format!("restored from quarantine ({})", file.display()),
        );
        Ok(self.store.restore_quarantined(file, &note)?)
    }
}
