//! Holding every save off while something other than breachdesk rewrites
//! records (a team sync's `git merge`), and making the index rebuild after.

use super::index_format::IndexLock;
use super::{Store, StoreError};

/// Every save on this machine waits while this is held (it is the index
/// lock each save takes first); released when dropped.
pub struct SavesHeld {
    lock: IndexLock,
}

impl Store {
    /// Waits for any save under way to finish and holds off new ones.
    pub fn hold_saves(&self) -> Result<SavesHeld, StoreError> {
        self.writable("syncing")?;
        Ok(SavesHeld {
            lock: self.lock_index()?,
        })
    }

    /// Records in `incidents/` were rewritten from outside: the next
    /// listing must not trust the index, and re-checks every record (the
    /// same mark a save sets before it renames its record).
    pub fn records_rewritten(&self, held: &SavesHeld) -> bool {
        self.mark_index_pending(&held.lock, "sync")
    }
}
