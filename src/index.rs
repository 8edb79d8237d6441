//! The summary index: what the board and `list` show of every incident,
//! cached beside the records so start-up costs what the open work costs, not
//! what the archive costs.
//!
//! Two files in the data directory:
//! - `index.json`: the summaries of OPEN incidents, the file stamps (inode,
//!   size, modification time) of closed ones, and the modification time of
//!   `incidents/` when it was written;
//! - `index-closed.json`: the summaries of closed incidents, read only when
//!   closed incidents are asked for (the board's closed toggle, `list --all`,
//!   the paragraph 6.5 repeat check).
//!
//! Every save renames a new file into `incidents/`, which changes that
//! directory's modification time and the record's inode. So when the
//! directory is unchanged since the index was written (and was already
//! unchanged for a while then, to rule out two changes within one timestamp
//! tick — git's "racily clean" rule), start-up only checks the open records'
//! stamps. Otherwise every record is stat()ed and those whose stamp changed
//! are re-read (in parallel). A record edited in place by hand (not through
//! breachdesk, which always renames) is noticed at the next full scan, which
//! any save or `list --all` triggers.
//!
//! The TOML records stay the source of truth: delete or damage either file
//! and it is rebuilt from them, and nothing is lost. The index is JSON because
//! it is a machine cache read on every start, not a record anyone edits.

use crate::domain::incident::SCHEMA_VERSION;
use crate::domain::summary::IncidentSummary;
use crate::durable::replace_file;
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// File name of the index of open incidents in the data directory.
pub const INDEX_FILE: &str = "index.json";
/// File name of the summaries of closed incidents.
pub const CLOSED_INDEX_FILE: &str = "index-closed.json";
const INDEX_VERSION: u32 = 4;
/// How long `incidents/` must have been unchanged when the index was written
/// for the fast start-up path to trust it.
const RACY_NS: i64 = 2_000_000_000;

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
struct OpenIndex {
    version: u32,
    schema: u32,
    /// Modification time of `incidents/` seen before the scan that wrote this.
    dir_mtime_ns: i64,
    /// When this index was written (the machine's clock, ns since the epoch).
    written_ns: i64,
    open: HashMap<String, Entry>,
    closed: HashMap<String, Stamp>,
    /// Files in `incidents/` that could not be read when this was written
    /// (a FIFO, a symbolic link, an oversized file...): still warned about
    /// on the fast path.
    #[serde(default)]
    unreadable: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ClosedIndex {
    version: u32,
    schema: u32,
    closed: HashMap<String, Entry>,
}

/// What reading the index cost, for tests, benchmarks and the closing note.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub records: usize,
    /// Records whose summary came from the index.
    pub cached: usize,
    /// Records parsed because the index lacked them or they had changed.
    pub parsed: usize,
    /// Whether the index was rewritten.
    pub rewritten: bool,
    /// Whether only the open records were checked (the fast start-up path).
    pub fast: bool,
}

/// Summaries, and problems (quarantined records, records from a newer
/// version, an index that could not be written).
pub struct Summaries {
    pub summaries: Vec<IncidentSummary>,
    /// How many closed incidents there are (their summaries are only in
    /// `summaries` when they were asked for).
    pub closed: usize,
    pub problems: Vec<String>,
    pub stats: IndexStats,
}

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    Stamp {
        ino: meta.ino(),
        len: meta.len(),
        mtime_ns: mtime_ns(meta),
    }
}

fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.mtime() * 1_000_000_000 + meta.mtime_nsec()
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default()
}

/// The index in `path`, or the default (rebuilt from the records) when it
/// is missing, damaged, not a regular file or too large.
fn read_json<T: for<'de> Deserialize<'de> + Default>(path: &Path, valid: impl Fn(&T) -> bool) -> T {
    crate::safe_read::read_bytes(path, crate::safe_read::MAX_INDEX_BYTES)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<T>(&bytes).ok())
        .filter(valid)
        .unwrap_or_default()
}

fn read_open(store: &Store) -> OpenIndex {
    read_json(&store.data_dir().join(INDEX_FILE), |f: &OpenIndex| {
        f.version == INDEX_VERSION && f.schema == SCHEMA_VERSION
    })
}

fn read_closed(store: &Store) -> ClosedIndex {
    read_json(
        &store.data_dir().join(CLOSED_INDEX_FILE),
        |f: &ClosedIndex| f.version == INDEX_VERSION && f.schema == SCHEMA_VERSION,
    )
}

/// A file's stamp, not following a symbolic link.
fn file_stamp(path: &Path) -> Option<Stamp> {
    std::fs::symlink_metadata(path).ok().map(|m| stamp(&m))
}

/// One line per file in `quarantine/`, naming it and what to do, except
/// those in `reported` (quarantined just now and already reported with the
/// reason).
fn quarantine_lines(store: &Store, reported: &[PathBuf]) -> Vec<String> {
    match store.quarantined() {
        Ok(files) => files
            .into_iter()
            .filter(|q| !reported.contains(&q.path))
            .map(|q| {
                format!(
                    "{} is in quarantine: {} (it would not parse; fix it, then `breachdesk quarantine restore {}`)",
                    q.id.as_deref().unwrap_or("a record"),
                    q.path.display(),
                    q.path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                )
            })
            .collect(),
        Err(e) => vec![e.to_string()],
    }
}

fn dir_mtime(store: &Store) -> Option<i64> {
    std::fs::metadata(store.incidents_dir())
        .ok()
        .map(|m| mtime_ns(&m))
}

/// The board's rows at start-up: the open incidents' summaries, and how many
/// closed ones there are. Costs what the open work costs when the records
/// have not changed since the index was written.
pub fn open_summaries(store: &Store) -> Summaries {
    let index = read_open(store);
    let trusted = index.version == INDEX_VERSION
        && dir_mtime(store) == Some(index.dir_mtime_ns)
        && index.written_ns - index.dir_mtime_ns > RACY_NS;
    if trusted {
        let all_fresh = index
            .open
            .iter()
            .all(|(id, entry)| file_stamp(&store.record_path(id)) == Some(entry.stamp));
        if all_fresh {
            let summaries: Vec<IncidentSummary> =
                index.open.into_values().map(|e| e.summary).collect();
            return Summaries {
                stats: IndexStats {
                    records: summaries.len() + index.closed.len(),
                    cached: summaries.len(),
                    fast: true,
                    ..IndexStats::default()
                },
                summaries,
                closed: index.closed.len(),
                problems: index
                    .unreadable
                    .into_iter()
                    .chain(quarantine_lines(store, &[]))
                    .collect(),
            };
        }
    }
    let mut all = scan(store, index, false);
    all.summaries.retain(|s| s.on_board());
    all
}

/// Every incident's summary, open and closed (a full scan: every record is
/// stat()ed, changed ones re-read).
pub fn summaries(store: &Store) -> Summaries {
    scan(store, read_open(store), true)
}

type Loaded = (String, Stamp, Result<IncidentSummary, StoreError>);

fn summarise(store: &Store, id: &str) -> Result<IncidentSummary, StoreError> {
    store
        .load(id)
        .map(|incident| IncidentSummary::of(&incident))
}

/// Reads and parses records on every core (a cold start over thousands of
/// records is parse-bound), keeping only each record's summary so memory
/// stays small however many there are.
fn load_in_parallel(store: &Store, stale: Vec<(String, Stamp)>) -> Vec<Loaded> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if stale.len() < 64 || threads < 2 {
        return stale
            .into_iter()
            .map(|(id, stamp)| {
                let loaded = summarise(store, &id);
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
                        .map(|(id, stamp)| (id.clone(), *stamp, summarise(store, id)))
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

/// The full scan. Closed summaries are read from `index-closed.json` only
/// when `want_closed` or when a closed record changed.
fn scan(store: &Store, mut index: OpenIndex, want_closed: bool) -> Summaries {
    let mut problems = Vec::new();
    let mut stats = IndexStats::default();
    // Before listing: a change during the scan leaves the directory newer
    // than what we record, so the next start scans again.
    let dir_mtime_ns = dir_mtime(store).unwrap_or_default();
    let files = match store.record_files() {
        Ok(files) => files,
        Err(e) => {
            return Summaries {
                summaries: Vec::new(),
                closed: 0,
                problems: vec![e.to_string()],
                stats,
            };
        }
    };
    let mut closed_index: Option<ClosedIndex> = want_closed.then(|| read_closed(store));
    let mut open: HashMap<String, Entry> = HashMap::new();
    let mut closed_stamps: HashMap<String, Stamp> = HashMap::new();
    let mut stale: Vec<(String, Stamp)> = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    for (id, file) in &files {
        let Some(now_stamp) = file_stamp(file) else {
            continue; // removed since listing
        };
        if let Some(entry) = index.open.remove(id)
            && entry.stamp == now_stamp
        {
            stats.cached += 1;
            open.insert(id.clone(), entry);
        } else if index.closed.remove(id) == Some(now_stamp) {
            stats.cached += 1;
            closed_stamps.insert(id.clone(), now_stamp);
        } else {
            stale.push((id.clone(), now_stamp));
        }
    }
    // Entries left in the old index are records deleted or quarantined since.
    let mut changed = !stale.is_empty() || !index.open.is_empty() || !index.closed.is_empty();
    let mut closed_changed = !index.closed.is_empty();
    let mut fresh_closed: Vec<(String, Entry)> = Vec::new();
    let mut needs_full_load = false;
    for (id, stamp, loaded) in load_in_parallel(store, stale) {
        match loaded {
            Ok(summary) => {
                stats.parsed += 1;
                let is_open = summary.on_board();
                let entry = Entry { stamp, summary };
                if is_open {
                    open.insert(id, entry);
                } else {
                    closed_stamps.insert(id.clone(), stamp);
                    fresh_closed.push((id, entry));
                    closed_changed = true;
                }
            }
            // Removed since listing (or quarantined: named below).
            Err(StoreError::NotFound { .. } | StoreError::Quarantined { .. }) => {}
            Err(StoreError::Corrupt { .. }) => needs_full_load = true,
            Err(e) => {
                // Unreadable (a FIFO, a link, too large...): kept in the
                // index so the fast path warns about it too.
                let line = e.to_string();
                unreadable.push(line.clone());
                problems.push(line);
            }
        }
    }
    tracing::info!(
        cached = stats.cached,
        parsed = stats.parsed,
        problems = problems.len(),
        "index rebuild"
    );
    let mut just_quarantined = Vec::new();
    if needs_full_load {
        // Rare: let the store report and quarantine what will not parse.
        for problem in store.load_all().problems {
            if let Some(to) = &problem.quarantined_to {
                just_quarantined.push(to.clone());
            }
            if !problems.contains(&problem.to_string())
                && !unreadable
                    .iter()
                    .any(|u| u.contains(&short_name(&problem.file)))
            {
                problems.push(problem.to_string());
            }
        }
        changed = true;
    }
    problems.extend(quarantine_lines(store, &just_quarantined));
    // Closed summaries: those still fresh from index-closed.json, plus the
    // ones just read. A closed entry the file lacks is read from its record.
    if closed_changed || want_closed {
        let mut old = closed_index.take().unwrap_or_else(|| read_closed(store));
        let mut closed: HashMap<String, Entry> = fresh_closed.into_iter().collect();
        let mut missing = Vec::new();
        for (id, stamp) in &closed_stamps {
            if closed.contains_key(id) {
                continue;
            }
            match old.closed.remove(id) {
                Some(entry) if entry.stamp == *stamp => {
                    closed.insert(id.clone(), entry);
                }
                _ => missing.push((id.clone(), *stamp)),
            }
        }
        // Left over: closed records deleted since, or re-read just now.
        if !missing.is_empty() || old.closed.keys().any(|id| !closed.contains_key(id)) {
            closed_changed = true;
        }
        for (id, stamp, loaded) in load_in_parallel(store, missing) {
            if let Ok(summary) = loaded {
                stats.parsed += 1;
                closed.insert(id, Entry { stamp, summary });
            }
        }
        if closed_changed {
            let file = ClosedIndex {
                version: INDEX_VERSION,
                schema: SCHEMA_VERSION,
                closed: closed.clone(),
            };
            write(store, CLOSED_INDEX_FILE, &file, &mut problems);
        }
        closed_index = Some(ClosedIndex {
            closed,
            ..ClosedIndex::default()
        });
    }
    // Also rewrite when only the directory's time moved on (e.g. a temp
    // file came and went) or the old index was written too soon after a
    // change, once the directory has settled: the next start is then fast.
    let settled = now_ns() - dir_mtime_ns > RACY_NS;
    let untrusted = index.dir_mtime_ns != dir_mtime_ns || racy_before(&index);
    if unreadable != index.unreadable {
        changed = true;
    }
    if changed || closed_changed || (untrusted && settled) {
        let file = OpenIndex {
            version: INDEX_VERSION,
            schema: SCHEMA_VERSION,
            dir_mtime_ns,
            written_ns: now_ns(),
            open: open.clone(),
            closed: closed_stamps.clone(),
            unreadable,
        };
        stats.rewritten = write(store, INDEX_FILE, &file, &mut problems);
    }
    let closed_count = closed_stamps.len();
    stats.records = open.len() + closed_count;
    let mut summaries: Vec<IncidentSummary> = open.into_values().map(|e| e.summary).collect();
    if want_closed && let Some(closed) = closed_index {
        summaries.extend(closed.closed.into_values().map(|e| e.summary));
    }
    Summaries {
        summaries,
        closed: closed_count,
        problems,
        stats,
    }
}

/// `INC-x.toml` of a path, for matching messages.
fn short_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Whether the index on disk could not be trusted by the fast path because
/// it was written too soon after the directory last changed (rewriting it
/// once the directory has settled lets the next start take the fast path).
fn racy_before(index: &OpenIndex) -> bool {
    index.version != INDEX_VERSION || index.written_ns - index.dir_mtime_ns <= RACY_NS
}

fn write<T: Serialize>(store: &Store, name: &str, file: &T, problems: &mut Vec<String>) -> bool {
    if store.is_read_only() {
        // Read-only commands never write; the next writer refreshes the index.
        return false;
    }
    let path: PathBuf = store.data_dir().join(name);
    match serde_json::to_vec(file) {
        Ok(bytes) => match replace_file(store.data_dir(), name, &bytes) {
            Ok(()) => true,
            Err(e) => {
                problems.push(format!(
                    "{}: could not update the summary index ({e}); the records are unaffected",
                    path.display()
                ));
                false
            }
        },
        Err(e) => {
            problems.push(format!("summary index: {e}"));
            false
        }
    }
}
