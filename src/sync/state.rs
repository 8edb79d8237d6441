//! `sync-state.json`: this machine's last sync, for the console's header
//! (machine-local, never shared: see [`super::GITIGNORE`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The state file's name in the data directory.
pub const STATE_FILE: &str = "sync-state.json";

/// How the last sync went on this machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// When a sync last completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_synced_at: Option<DateTime<Utc>>,
    /// When the last sync was tried, and why it failed (one line), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Whether the last failure was the remote being unreachable.
    #[serde(default)]
    pub unreachable: bool,
    /// The incidents whose merge (in the last sync that merged) recorded
    /// a conflict on their timeline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

impl SyncState {
    /// The state in `data_dir` (the default when missing or unreadable:
    /// it is only a convenience for the header).
    pub fn read(data_dir: &Path) -> SyncState {
        crate::safe_read::read_bytes(
            &data_dir.join(STATE_FILE),
            crate::safe_read::MAX_RECORD_BYTES,
        )
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
    }

    /// Writes the state (0600, atomically).
    pub fn write(&self, data_dir: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        crate::durable::replace_file(data_dir, STATE_FILE, &json)
    }
}
