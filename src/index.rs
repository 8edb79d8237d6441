//! The summary index: what the board and `list` show of every incident,
//! cached beside the records so start-up does not parse thousands of closed
//! incidents.
//!
//! The TOML records stay the source of truth. Each index entry remembers the
//! record file's inode, size and modification time; a record saved since
//! (every save renames a new file into place, so its inode changes) is
//! re-read, and an entry whose file is gone is dropped. A missing, corrupt or
//! out-of-date index is rebuilt from the records: delete it and nothing is
//! lost. The index is JSON because it is a machine cache read on every start,
//! not a record anyone edits.

use crate::domain::summary::IncidentSummary;
use crate::durable::replace_file;
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// File name of the index in the data directory.
pub const INDEX_FILE: &str = "index.json";
const INDEX_VERSION: u32 = 2;

/// How a record file looked when its summary was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    ino: u64,
    len: u64,
    mtime_ns: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    stamp: Stamp,
    summary: IncidentSummary,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct IndexFile {
    version: u32,
    /// Bumped with the summary's shape, so an index from another version is rebuilt.
    schema: u32,
    entries: HashMap<String, Entry>,
}

/// What reading the index cost, for benchmarks and the closing note.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub records: usize,
    /// Records whose summary came from the index.
    pub cached: usize,
    /// Records parsed because the index lacked them or they had changed.
    pub parsed: usize,
    /// Whether the index file was rewritten.
    pub rewritten: bool,
}

/// Summaries of every incident, and problems (already quarantined records,
/// records from a newer version, an index that could not be written).
pub struct Summaries {
    pub summaries: Vec<IncidentSummary>,
    pub problems: Vec<String>,
    pub stats: IndexStats,
}

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    Stamp {
        ino: meta.ino(),
        len: meta.len(),
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
    }
}

fn index_path(store: &Store) -> PathBuf {
    store.data_dir().join(INDEX_FILE)
}

fn read_index(path: &Path) -> IndexFile {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<IndexFile>(&bytes).ok())
        .filter(|f| {
            f.version == INDEX_VERSION && f.schema == crate::domain::incident::SCHEMA_VERSION
        })
        .unwrap_or_default()
}

type Loaded = (
    String,
    Stamp,
    Result<crate::domain::incident::Incident, StoreError>,
);

/// Reads and parses records on every core (a cold start over thousands of
/// records is parse-bound).
fn load_in_parallel(store: &Store, stale: Vec<(String, Stamp)>) -> Vec<Loaded> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if stale.len() < 64 || threads < 2 {
        return stale
            .into_iter()
            .map(|(id, stamp)| {
                let loaded = store.load(&id);
                (id, stamp, loaded)
            })
            .collect();
    }
    let chunk = stale.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = stale
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(id, stamp)| (id.clone(), *stamp, store.load(id)))
                        .collect::<Vec<Loaded>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    })
}

/// Every incident's summary, from the index where it is fresh and from the
/// record where it is not; the index is rewritten when anything changed.
pub fn summaries(store: &Store) -> Summaries {
    let path = index_path(store);
    let mut index = read_index(&path);
    let mut problems = Vec::new();
    let mut stats = IndexStats::default();
    let files = match store.record_files() {
        Ok(files) => files,
        Err(e) => {
            return Summaries {
                summaries: Vec::new(),
                problems: vec![e.to_string()],
                stats,
            };
        }
    };
    let mut fresh: HashMap<String, Entry> = HashMap::with_capacity(files.len());
    let mut stale: Vec<(String, Stamp)> = Vec::new();
    for (id, file) in &files {
        let Ok(meta) = std::fs::metadata(file) else {
            continue; // removed since listing
        };
        let now_stamp = stamp(&meta);
        match index.entries.remove(id) {
            Some(entry) if entry.stamp == now_stamp => {
                stats.cached += 1;
                fresh.insert(id.clone(), entry);
            }
            _ => stale.push((id.clone(), now_stamp)),
        }
    }
    let mut changed = !stale.is_empty();
    let mut needs_full_load = false;
    // Stamp as listed: a save racing with us changes the inode, so the next
    // start sees that record as stale and reads it again.
    for (id, stamp, loaded) in load_in_parallel(store, stale) {
        match loaded {
            Ok(incident) => {
                stats.parsed += 1;
                fresh.insert(
                    id,
                    Entry {
                        stamp,
                        summary: IncidentSummary::of(&incident),
                    },
                );
            }
            Err(StoreError::NotFound { .. }) => {}
            Err(StoreError::Corrupt { .. }) => needs_full_load = true,
            Err(e) => problems.push(e.to_string()),
        }
    }
    if !index.entries.is_empty() {
        changed = true; // records deleted or quarantined since
    }
    if needs_full_load {
        // Rare: let the store report and quarantine what will not parse.
        for problem in store.load_all().problems {
            problems.push(problem.to_string());
        }
    }
    stats.records = fresh.len();
    let summaries: Vec<IncidentSummary> = fresh.values().map(|e| e.summary.clone()).collect();
    if changed {
        let file = IndexFile {
            version: INDEX_VERSION,
            schema: crate::domain::incident::SCHEMA_VERSION,
            entries: fresh,
        };
        match serde_json::to_vec(&file) {
            Ok(bytes) => match replace_file(store.data_dir(), INDEX_FILE, &bytes) {
                Ok(()) => stats.rewritten = true,
                Err(e) => problems.push(format!(
                    "{}: could not update the summary index ({e}); the records are unaffected",
                    path.display()
                )),
            },
            Err(e) => problems.push(format!("summary index: {e}")),
        }
    }
    Summaries {
        summaries,
        problems,
        stats,
    }
}
