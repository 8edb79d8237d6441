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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holding_saves_holds_the_lock_every_save_takes_first_and_rewritten_records_distrust_the_index()
     {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let lock_file = dir.path().join("locks").join(".index.lock");
        let held = store.hold_saves().expect("held");
        let other = std::fs::File::open(&lock_file).expect("lock file");
        assert!(other.try_lock().is_err(), "a save would wait");
        assert!(store.records_rewritten(&held));
        assert!(
            dir.path()
                .join(super::super::index_format::PENDING_FILE)
                .exists(),
            "the next listing re-checks every record"
        );
        drop(held);
        assert!(other.try_lock().is_ok(), "released");
    }
}
