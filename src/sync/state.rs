//! `sync-state.json`: this machine's last sync, for the console's header,
//! and `sync-state.merge.json`: the journal of a merge being moved into the
//! working tree (machine-local, never shared: see [`super::GITIGNORE`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The state file's name in the data directory.
pub const STATE_FILE: &str = "sync-state.json";

/// The merge journal's name in the data directory.
pub const JOURNAL_FILE: &str = "sync-state.merge.json";

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
    /// The incoming records the last sync that took anything in refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refusal>,
}

/// An incoming record a sync refused: this machine's copy was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub incident: String,
    /// The teammate's commit (full id) that last changed it, and its author.
    pub commit: String,
    pub author: String,
    /// Why, in one line (e.g. `timeline entry … was removed`).
    pub reason: String,
    /// Where the incoming bytes were kept, relative to the data directory
    /// (`None` when there were none, e.g. a deletion, or they were over
    /// the record size limit).
    pub kept: Option<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "refused {} from commit {} by {}: {}; kept this machine's copy",
            self.incident,
            self.commit.get(..8).unwrap_or(&self.commit),
            self.author,
            self.reason
        )?;
        match &self.kept {
            Some(kept) => write!(f, ", theirs is in {kept}"),
            None => Ok(()),
        }
    }
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

/// A merge whose commit is built (its audit entries already in this
/// machine's chain) and is being moved into the working tree, index and
/// HEAD. Written durably before the first file is touched and removed when
/// HEAD is at `target`, so the next sync finishes a move a kill cut short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeJournal {
    /// HEAD before the move, and the commit it moves to.
    pub ours: String,
    pub target: String,
    /// Every path whose blob differs between the two (`None`: removed).
    pub updates: Vec<(String, Option<String>)>,
}

impl MergeJournal {
    /// The journal in `data_dir`, if a move was under way. An unreadable one
    /// is an error: it must not be mistaken for "no move under way".
    pub fn read(data_dir: &Path) -> std::io::Result<Option<MergeJournal>> {
        let path = data_dir.join(JOURNAL_FILE);
        match crate::safe_read::read_bytes(&path, 64 * 1024 * 1024) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display()))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(std::io::Error::other(format!("{}: {e}", path.display()))),
        }
    }

    /// Writes the journal durably (0600, atomically, synced).
    pub fn write(&self, data_dir: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        crate::durable::replace_file(data_dir, JOURNAL_FILE, &json)
    }

    /// The move is done: the journal goes.
    pub fn remove(data_dir: &Path) -> std::io::Result<()> {
        match std::fs::remove_file(data_dir.join(JOURNAL_FILE)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}
