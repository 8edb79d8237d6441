//! Reading the summary index (the trusted fast path and the scan that
//! checks every record), and keeping it exact from the save path. What it
//! is and why it can be trusted: [`crate::index`].

use super::index_format::{
    CLOSED_INDEX_FILE, Entry, INDEX_FILE, INDEX_VERSION, IndexLock, OLD_CLOSED_INDEX_FILE,
    OpenIndex, ROWS_FORMAT, Stamp, TICK_NS, closed_file_bytes, file_stamp, now_ns,
};
use super::index_rows::{Listed, encode_rows};
use super::{Store, StoreError};
use crate::domain::incident::{Incident, SCHEMA_VERSION};
use crate::domain::summary::IncidentSummary;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What reading the index cost, for tests, benchmarks and the closing note.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub records: usize,
    /// Records whose summary came from the index.
    pub cached: usize,
    /// Records read because the index lacked them or they had changed.
    pub parsed: usize,
    /// Of those, the records whose summary came from their summary line
    /// (the rest were parsed in full: written before the line existed,
    /// edited by hand, or from another version).
    pub from_line: usize,
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

/// The board's rows at start-up: the open incidents' summaries, and how many
/// closed ones there are. When the index is trusted (see
/// [`Store::index_trusted`]) and every open record's stamp is unchanged,
/// this reads `index.json`, stats the open records and lists `quarantine/`:
/// `incidents/` is not listed.
pub fn open_summaries(store: &Store) -> Summaries {
    let index = store.read_open_index();
    if store.index_trusted(&index) {
        let all_fresh = index
            .open
            .iter()
            .all(|(id, entry)| file_stamp(&store.record_path(id)) == Some(entry.stamp));
        if all_fresh {
            let summaries: Vec<IncidentSummary> =
                index.open.into_values().map(|e| e.summary).collect();
            return Summaries {
                stats: IndexStats {
                    records: summaries.len() + index.closed_count,
                    cached: summaries.len(),
                    fast: true,
                    ..IndexStats::default()
                },
                summaries,
                closed: index.closed_count,
                problems: index
                    .unreadable
                    .into_iter()
                    .chain(quarantine_lines(store, &[]))
                    .collect(),
            };
        }
    }
    let mut all = scan(store, false, None);
    all.summaries.retain(|s| s.on_board());
    all
}

/// `list --all` from the index alone (its rows decoded by
/// [`Listed::closed_rows`](super::index_rows::Listed::closed_rows)), when it is trusted (see
/// [`Store::index_trusted`]) and every open record's stamp is unchanged:
/// reads `index.json` and the rows of the closed index, stats the open
/// records, lists `quarantine/`. The closed records are not stat()ed, so a
/// closed record edited in place (not renamed) is not seen here. `None`:
/// not trusted (the caller scans).
pub fn trusted_listing(store: &Store) -> Option<Listed> {
    let index = store.read_open_index();
    if !store.index_trusted(&index) {
        return None;
    }
    let all_fresh = index
        .open
        .iter()
        .all(|(id, entry)| file_stamp(&store.record_path(id)) == Some(entry.stamp));
    if !all_fresh {
        return None;
    }
    let rows = store.read_closed_rows()?;
    let listed = Listed {
        board: index.open.into_values().map(|e| e.summary).collect(),
        rows,
        changes: index
            .closed_changes
            .into_iter()
            .map(|(id, entry)| (id, entry.map(|e| e.summary)))
            .collect(),
        closed_count: index.closed_count,
        problems: index
            .unreadable
            .into_iter()
            .chain(quarantine_lines(store, &[]))
            .collect(),
    };
    Some(listed)
}

/// Every incident's summary, open and closed (a full scan: every record is
/// stat()ed, changed ones re-read).
pub fn summaries(store: &Store) -> Summaries {
    scan(store, true, None)
}

type Loaded = (String, Stamp, Result<(IncidentSummary, bool), StoreError>);

fn summarise(store: &Store, id: &str) -> Result<(IncidentSummary, bool), StoreError> {
    store.load_summary(id)
}

/// Reads records on every core (a record without a usable summary line
/// must be parsed in full, which is CPU-bound), keeping only each record's
/// summary so memory stays small however many there are.
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

/// The closed summaries the index files hold: `index-closed.json` with the
/// saves since folded in.
fn known_closed(store: &Store, index: &mut OpenIndex) -> HashMap<String, Entry> {
    known_closed_file(store, index).0
}

/// [`known_closed`], and whether the closed index file was whole.
fn known_closed_file(store: &Store, index: &mut OpenIndex) -> (HashMap<String, Entry>, bool) {
    let file = store.read_closed_index();
    let mut closed = file.closed;
    for (id, change) in index.closed_changes.drain() {
        match change {
            Some(entry) => closed.insert(id, entry),
            None => closed.remove(&id),
        };
    }
    (closed, file.valid)
}

/// The full scan: every record file is stat()ed and those whose stamp the
/// index does not hold are parsed. A writable store takes the index lock
/// (unless `held`: a save that holds it) and rewrites what changed; records
/// that will not parse are quarantined, except under a save (which holds an
/// incident's lock) and when read-only, where they are reported and left.
fn scan(store: &Store, want_closed: bool, held: Option<&IndexLock>) -> Summaries {
    let own = match held {
        None if !store.is_read_only() => store.lock_index().ok(),
        _ => None,
    };
    let lock = held.or(own.as_ref());
    let mut problems = Vec::new();
    let mut stats = IndexStats::default();
    let mut index = store.read_open_index();
    let was_trusted = store.index_trusted(&index);
    // Before listing: a change during the scan leaves the directory newer
    // than what we record, so it is not trusted and is scanned again.
    let (mut observed_ns, mut dir_mtime_ns) =
        (now_ns(), store.incidents_mtime().unwrap_or_default());
    if lock.is_some() && (0..TICK_NS).contains(&(observed_ns - dir_mtime_ns)) {
        // Changed within a clock tick: wait the tick out, so that a change
        // after the listing cannot share the time read here.
        let wait = TICK_NS - (observed_ns - dir_mtime_ns);
        std::thread::sleep(std::time::Duration::from_nanos(wait as u64));
        (observed_ns, dir_mtime_ns) = (now_ns(), store.incidents_mtime().unwrap_or_default());
    }
    let had_changes = !index.closed_changes.is_empty();
    let (mut old_closed, closed_rows_usable) = known_closed_file(store, &mut index);
    // A trusted index names every record file: nothing was added to,
    // removed from or renamed in `incidents/` since. Each is still
    // stat()ed (a record edited in place keeps its name); the directory is
    // not listed.
    let listed =
        if was_trusted && index.unreadable.is_empty() && old_closed.len() == index.closed_count {
            let mut files: Vec<(String, PathBuf)> = index
                .open
                .keys()
                .chain(old_closed.keys())
                .map(|id| (id.clone(), store.record_path(id)))
                .collect();
            files.sort();
            Ok(files)
        } else {
            store.record_files()
        };
    let files = match listed {
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
    let mut old_open = std::mem::take(&mut index.open);
    let mut open: HashMap<String, Entry> = HashMap::new();
    let mut closed: HashMap<String, Entry> = HashMap::new();
    let mut stale: Vec<(String, Stamp)> = Vec::new();
    for (id, file) in &files {
        let Some(now_stamp) = file_stamp(file) else {
            continue; // removed since listing
        };
        if let Some(entry) = old_open.remove(id)
            && entry.stamp == now_stamp
        {
            stats.cached += 1;
            open.insert(id.clone(), entry);
        } else if let Some(entry) = old_closed.remove(id)
            && entry.stamp == now_stamp
        {
            stats.cached += 1;
            closed.insert(id.clone(), entry);
        } else {
            stale.push((id.clone(), now_stamp));
        }
    }
    // Entries left over are records deleted or quarantined since.
    let mut changed = !stale.is_empty() || !old_open.is_empty() || !old_closed.is_empty();
    let mut closed_changed = had_changes || !old_closed.is_empty();
    let mut unreadable: Vec<String> = Vec::new();
    let mut needs_full_load = false;
    let mut damaged_left = false;
    for (id, stamp, loaded) in load_in_parallel(store, stale) {
        match loaded {
            Ok((summary, from_line)) => {
                stats.parsed += 1;
                stats.from_line += usize::from(from_line);
                let entry = Entry { stamp, summary };
                if entry.summary.on_board() {
                    open.insert(id, entry);
                } else {
                    closed.insert(id, entry);
                    closed_changed = true;
                }
            }
            // Removed since listing (or quarantined: named below).
            Err(StoreError::NotFound { .. } | StoreError::Quarantined { .. }) => {}
            // Quarantined by a writable scan, reported with what to do by
            // a read-only one (neither under a save, which holds a lock).
            Err(StoreError::Corrupt { .. }) if held.is_none() => needs_full_load = true,
            Err(e) => {
                // Under a save: the index is written but not trusted, so the
                // next scan outside a save quarantines the record.
                damaged_left |= matches!(e, StoreError::Corrupt { .. });
                // Unreadable (a FIFO, a link, too large, newer, damaged and
                // left in place...): kept in the index so the fast path
                // warns about it too.
                let line = e.to_string();
                unreadable.push(line.clone());
                problems.push(line);
            }
        }
    }
    tracing::info!(
        cached = stats.cached,
        parsed = stats.parsed,
        from_line = stats.from_line,
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
    if unreadable != index.unreadable {
        changed = true;
    }
    if let Some(lock) = lock
        && (changed || closed_changed || !was_trusted)
    {
        if closed_changed || !closed_rows_usable {
            let written = serde_json::to_vec(&closed)
                .map_err(|e| format!("summary index: {e}"))
                .and_then(|full| {
                    let rows = encode_rows(&closed);
                    let bytes = closed_file_bytes(rows.as_bytes(), &full);
                    store.write_index_bytes(lock, CLOSED_INDEX_FILE, &bytes)
                });
            match written {
                // The file of an older version, if any, is not needed.
                Ok(()) => {
                    let _ = std::fs::remove_file(store.data_dir.join(OLD_CLOSED_INDEX_FILE));
                }
                Err(e) => problems.push(e),
            }
        }
        // The directory's time can be sealed when it cannot hide a change
        // made after it was read: it was already old then, or it was our
        // own seal; and it has not moved during the scan.
        let safe = observed_ns - dir_mtime_ns >= TICK_NS
            || (index.sealed && index.dir_mtime_ns == dir_mtime_ns);
        let sealed = if damaged_left {
            observed_ns = 0;
            None
        } else if safe && store.incidents_mtime() == Some(dir_mtime_ns) {
            store.seal_incidents_dir(lock)
        } else {
            None
        };
        let file = OpenIndex {
            version: INDEX_VERSION,
            schema: SCHEMA_VERSION,
            dir_mtime_ns: sealed.unwrap_or(dir_mtime_ns),
            observed_ns: if sealed.is_some() {
                now_ns()
            } else {
                observed_ns
            },
            sealed: sealed.is_some(),
            rows: ROWS_FORMAT,
            open: open.clone(),
            closed_count: closed.len(),
            closed_changes: HashMap::new(),
            unreadable,
        };
        match store.write_index_file(lock, INDEX_FILE, &file) {
            Ok(()) => {
                stats.rewritten = true;
                // Everything a killed save may have left is in this scan.
                store.clear_index_pending(lock);
            }
            Err(e) => problems.push(e),
        }
    }
    let closed_count = closed.len();
    stats.records = open.len() + closed_count;
    let mut summaries: Vec<IncidentSummary> = open.into_values().map(|e| e.summary).collect();
    if want_closed {
        summaries.extend(closed.into_values().map(|e| e.summary));
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

impl Store {
    /// Before a save renames its record (the index lock held): the index as
    /// it is, made exact first by a scan if it could not be trusted, with
    /// the pending mark set. `None` when it cannot be kept exact (the next
    /// scan rebuilds it).
    pub(super) fn index_before_save(&self, lock: &IndexLock, id: &str) -> Option<OpenIndex> {
        let mut index = self.read_open_index();
        if !self.index_trusted(&index) {
            scan(self, false, Some(lock));
            index = self.read_open_index();
            if !self.index_trusted(&index) {
                return None;
            }
        }
        self.mark_index_pending(lock, id).then_some(index)
    }

    /// After `incident` was saved (renamed into place; `existed`: it was in
    /// `incidents/` before): its entry updated, the directory sealed, the
    /// index written and the pending mark cleared. Anything unexpected
    /// leaves the mark, so the index is rebuilt by the next scan.
    pub(super) fn index_after_save(
        &self,
        lock: &IndexLock,
        mut index: OpenIndex,
        incident: &Incident,
        existed: bool,
    ) {
        let id = &incident.id;
        let file_name = format!("{id}.toml");
        if index.unreadable.iter().any(|u| u.contains(&file_name)) {
            return;
        }
        let Some(stamp) = file_stamp(&self.record_path(id)) else {
            return;
        };
        let was_open = index.open.remove(id).is_some();
        let was_closed = existed && !was_open;
        let entry = Entry {
            stamp,
            summary: IncidentSummary::of(incident),
        };
        if entry.summary.on_board() {
            index.open.insert(id.clone(), entry);
            if was_closed {
                index.closed_changes.insert(id.clone(), None);
                index.closed_count = index.closed_count.saturating_sub(1);
            }
        } else {
            index.closed_changes.insert(id.clone(), Some(entry));
            if !was_closed {
                index.closed_count += 1;
            }
        }
        let Some(sealed) = self.seal_incidents_dir(lock) else {
            return;
        };
        index.dir_mtime_ns = sealed;
        index.observed_ns = now_ns();
        index.sealed = true;
        if self.write_index_file(lock, INDEX_FILE, &index).is_ok() {
            self.clear_index_pending(lock);
        }
    }
}

impl Store {
    /// Every record's id as the index holds them, sorted, when the index is
    /// trusted and its closed file agrees with it (`None`: list the
    /// directory instead). What lets a read-only command resolve part of an
    /// id without listing `incidents/`.
    pub(super) fn indexed_ids(&self) -> Option<Vec<String>> {
        let mut index = self.read_open_index();
        if !self.index_trusted(&index) {
            return None;
        }
        let closed = known_closed(self, &mut index);
        if closed.len() != index.closed_count {
            return None;
        }
        let mut ids: Vec<String> = index.open.into_keys().chain(closed.into_keys()).collect();
        ids.sort();
        Some(ids)
    }
}
