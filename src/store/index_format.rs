//! The summary index's two files (see [`crate::index`] for what they are
//! for): their format, reading and writing them, the lock that orders them
//! with saves, the mark a save leaves while it is between its record and the
//! index, and the rule that says when the index can be trusted without
//! listing `incidents/`.

use super::{Store, StoreError, io_err};
use crate::domain::incident::SCHEMA_VERSION;
use crate::domain::summary::IncidentSummary;
use crate::durable::FILE_MODE;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use xxhash_rust::xxh3::xxh3_64;

/// File name of the index of open incidents in the data directory.
pub const INDEX_FILE: &str = "index.json";
/// File name of the summaries of closed incidents (see [`ClosedIndex`]).
pub const CLOSED_INDEX_FILE: &str = "index-closed.rows";
/// Where they were before (JSON only); removed when the new file is written.
pub(super) const OLD_CLOSED_INDEX_FILE: &str = "index-closed.json";
/// The first word of [`CLOSED_INDEX_FILE`].
const CLOSED_TAG: &str = "breachdesk-closed-index";
/// Bump when the rows' layout changes (see `index_rows`).
pub(super) const ROWS_FORMAT: u32 = 2;
/// Present (in the data directory) while a save is between renaming its
/// record into `incidents/` and updating the index: a save killed there
/// leaves it, and the index is not trusted until rebuilt.
pub const PENDING_FILE: &str = "index.pending";
/// In `locks/`; not a valid incident id, so no incident's lock can be it.
const LOCK_FILE: &str = ".index.lock";
/// Bump when [`IncidentSummary`] or how it is derived changes: it versions
/// every record's summary line too (`summary_line`): an index or a line of
/// another version is not used (the records are parsed instead).
pub(super) const INDEX_VERSION: u32 = 7;
/// How long `incidents/` must have been unchanged, when its modification
/// time was read, for an index that breachdesk could not seal (see
/// [`Store::seal_incidents_dir`]) to be trusted: git's "racily clean" rule.
pub(super) const RACY_NS: i64 = 2_000_000_000;

/// Longer than the file system's clock tick (the kernel's jiffy: 1 to 10
/// ms): a directory time at least this old when read cannot be shared by a
/// later change.
pub(super) const TICK_NS: i64 = 20_000_000;

/// How a record file looked when its summary was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Stamp {
    pub ino: u64,
    pub len: u64,
    pub mtime_ns: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Entry {
    pub stamp: Stamp,
    pub summary: IncidentSummary,
}

/// `index.json`: what start-up and `list` read.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct OpenIndex {
    pub version: u32,
    pub schema: u32,
    /// The modification time of `incidents/` this index reflects.
    pub dir_mtime_ns: i64,
    /// When that time was read (ns since the epoch, this machine's clock).
    pub observed_ns: i64,
    /// Whether breachdesk set that time itself, to the nanosecond, under the
    /// index lock (any later change to `incidents/` then moves it).
    pub sealed: bool,
    /// The [`ROWS_FORMAT`] of the closed index written with this one (0:
    /// written before it had rows; not trusted, so the next scan that
    /// writes adds them).
    #[serde(default)]
    pub rows: u32,
    /// Summaries of the incidents on the board, with their files' stamps.
    pub open: HashMap<String, Entry>,
    /// How many records are not on the board.
    pub closed_count: usize,
    /// Closed summaries saved since `index-closed.json` was written, over
    /// it (`None`: no longer closed). Folded into that file by the next scan
    /// that writes.
    #[serde(default)]
    pub closed_changes: HashMap<String, Option<Entry>>,
    /// Files in `incidents/` that could not be read when this was written
    /// (a FIFO, a symbolic link, an oversized or damaged file...): still
    /// warned about when the index is trusted.
    #[serde(default)]
    pub unreadable: Vec<String>,
}

/// `index-closed.rows`: the closed incidents, read only when they are asked
/// for, or when the records must be checked one by one. One header line,
/// then two sections:
///
/// ```text
/// breachdesk-closed-index r2 v7.2 ROWS_LEN ROWS_XXH3 FULL_LEN FULL_XXH3
/// <the rows: one line per closed incident, what `list --all` prints, in its order>
/// <the full summaries with their records' stamps, as JSON>
/// ```
///
/// `list --all` reads the header and the rows only (a fifth of the file);
/// a scan reads the summaries. Each section's length and XXH3 hash are in
/// the header: a torn, truncated or edited file is not used (rebuilt).
#[derive(Debug, Default)]
pub(super) struct ClosedIndex {
    pub closed: HashMap<String, Entry>,
    /// Whether the file was there, of this version and whole (when not,
    /// the next scan that writes rewrites it).
    pub valid: bool,
}

/// A [`CLOSED_INDEX_FILE`] header.
struct ClosedHeader {
    len: usize,
    rows: (usize, u64),
    full: (usize, u64),
}

fn closed_header_line(rows: &[u8], full: &[u8]) -> String {
    format!(
        "{CLOSED_TAG} r{ROWS_FORMAT} v{INDEX_VERSION}.{SCHEMA_VERSION} {} {:016x} {} {:016x}\n",
        rows.len(),
        xxh3_64(rows),
        full.len(),
        xxh3_64(full)
    )
}

/// The header at the start of `bytes`, when it is of this format and these
/// versions.
fn parse_closed_header(bytes: &[u8]) -> Option<ClosedHeader> {
    let end = bytes.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut words = line.split(' ');
    let wanted = [
        CLOSED_TAG.to_string(),
        format!("r{ROWS_FORMAT}"),
        format!("v{INDEX_VERSION}.{SCHEMA_VERSION}"),
    ];
    if !wanted.iter().all(|w| words.next() == Some(w.as_str())) {
        return None;
    }
    let mut number = |radix: u32| u64::from_str_radix(words.next()?, radix).ok();
    let rows = (usize::try_from(number(10)?).ok()?, number(16)?);
    let full = (usize::try_from(number(10)?).ok()?, number(16)?);
    words.next().is_none().then_some(ClosedHeader {
        len: end + 1,
        rows,
        full,
    })
}

/// The bytes of a closed index file: header, rows, full summaries.
pub(super) fn closed_file_bytes(rows: &[u8], full: &[u8]) -> Vec<u8> {
    let header = closed_header_line(rows, full);
    let mut bytes = Vec::with_capacity(header.len() + rows.len() + full.len());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(rows);
    bytes.extend_from_slice(full);
    bytes
}

/// The exclusive lock on `locks/.index.lock`, released when dropped. Every
/// save holds it from before it reads its record until the index is
/// updated, and so does every scan that rewrites the index: no change made
/// through breachdesk can fall between a scan's listing and its writing.
/// Always taken before an incident's lock.
pub(super) struct IndexLock {
    _file: File,
}

pub(super) fn stamp(meta: &fs::Metadata) -> Stamp {
    Stamp {
        ino: meta.ino(),
        len: meta.len(),
        mtime_ns: mtime_ns(meta),
    }
}

fn mtime_ns(meta: &fs::Metadata) -> i64 {
    meta.mtime() * 1_000_000_000 + meta.mtime_nsec()
}

pub(super) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default()
}

/// A file's stamp, not following a symbolic link.
pub(super) fn file_stamp(path: &Path) -> Option<Stamp> {
    fs::symlink_metadata(path).ok().map(|m| stamp(&m))
}

/// The file in `path`, or the default (rebuilt from the records) when it
/// is missing, damaged, of another version, not a regular file or too large.
fn read_json<T: for<'de> Deserialize<'de> + Default>(path: &Path, valid: impl Fn(&T) -> bool) -> T {
    crate::safe_read::read_bytes(path, crate::safe_read::MAX_INDEX_BYTES)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<T>(&bytes).ok())
        .filter(valid)
        .unwrap_or_default()
}

impl Store {
    pub(super) fn read_open_index(&self) -> OpenIndex {
        read_json(&self.data_dir.join(INDEX_FILE), |f: &OpenIndex| {
            f.version == INDEX_VERSION && f.schema == SCHEMA_VERSION
        })
    }

    /// The closed summaries (empty when the file is missing, damaged, of
    /// another version, not a regular file or too large: rebuilt).
    pub(super) fn read_closed_index(&self) -> ClosedIndex {
        let path = self.data_dir.join(CLOSED_INDEX_FILE);
        let closed = crate::safe_read::read_bytes(&path, crate::safe_read::MAX_INDEX_BYTES)
            .ok()
            .and_then(|bytes| {
                let header = parse_closed_header(&bytes)?;
                let start = header.len.checked_add(header.rows.0)?;
                let rows = bytes.get(header.len..start)?;
                let full = bytes.get(start..)?;
                let whole = xxh3_64(rows) == header.rows.1
                    && full.len() == header.full.0
                    && xxh3_64(full) == header.full.1;
                whole.then(|| serde_json::from_slice(full).ok())?
            });
        ClosedIndex {
            valid: closed.is_some(),
            closed: closed.unwrap_or_default(),
        }
    }

    /// The rows section of the closed index, read without the summaries
    /// after it; `None` when the file is missing, of another version,
    /// damaged (a section's length or hash does not match) or not UTF-8.
    pub(super) fn read_closed_rows(&self) -> Option<String> {
        use std::io::Read;
        let path = self.data_dir.join(CLOSED_INDEX_FILE);
        let (mut file, meta) = crate::safe_read::open_regular(&path).ok()?;
        // The header is one short line; read a little more than it.
        let mut bytes = vec![0u8; 256.min(usize::try_from(meta.len()).ok()?)];
        file.read_exact(&mut bytes).ok()?;
        let header = parse_closed_header(&bytes)?;
        let rows_end = header.len.checked_add(header.rows.0)?;
        let total = rows_end.checked_add(header.full.0)?;
        if u64::try_from(total).ok()? != meta.len()
            || total as u64 > crate::safe_read::MAX_INDEX_BYTES
        {
            return None;
        }
        if rows_end > bytes.len() {
            let have = bytes.len();
            bytes.resize(rows_end, 0);
            file.read_exact(&mut bytes[have..]).ok()?;
        }
        bytes.truncate(rows_end);
        let rows = bytes.split_off(header.len);
        (xxh3_64(&rows) == header.rows.1)
            .then(|| String::from_utf8(rows).ok())
            .flatten()
    }

    pub(super) fn incidents_mtime(&self) -> Option<i64> {
        fs::metadata(&self.incidents).ok().map(|m| mtime_ns(&m))
    }

    /// Whether `index` still says what is in `incidents/` without listing
    /// it: it is of this version, no save was interrupted after renaming its
    /// record, the directory's modification time is the one the index
    /// reflects, and that time cannot hide a later change (breachdesk set it
    /// to the nanosecond, or it was already old when it was read). The open
    /// records' stamps are checked by the caller.
    pub(super) fn index_trusted(&self, index: &OpenIndex) -> bool {
        index.version == INDEX_VERSION
            && index.schema == SCHEMA_VERSION
            && index.rows == ROWS_FORMAT
            && fs::symlink_metadata(self.data_dir.join(PENDING_FILE)).is_err()
            && self.incidents_mtime() == Some(index.dir_mtime_ns)
            && (index.sealed || index.observed_ns - index.dir_mtime_ns > RACY_NS)
    }

    pub(super) fn lock_index(&self) -> Result<IndexLock, StoreError> {
        let path = self.locks.join(LOCK_FILE);
        let file =
            crate::durable::open_lock_file(&path).map_err(io_err("open lock file", &path))?;
        file.lock().map_err(io_err("lock", &path))?;
        Ok(IndexLock { _file: file })
    }

    /// Sets the modification time of `incidents/` to this instant, to the
    /// nanosecond, and returns it, when the file system kept it exactly
    /// (`None`: not the owner, or a coarser file system). Any later change
    /// to the directory gives it the file system's own time, which is
    /// never that instant, so an index that records it notices the change.
    pub(super) fn seal_incidents_dir(&self, _lock: &IndexLock) -> Option<i64> {
        let now = std::time::SystemTime::now();
        let wanted = now.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos() as i64;
        File::open(&self.incidents)
            .and_then(|dir| dir.set_modified(now))
            .ok()?;
        (self.incidents_mtime() == Some(wanted)).then_some(wanted)
    }

    /// Marks a save as under way (see [`PENDING_FILE`]). Not synced: it
    /// guards against a killed process; after a power cut the directory's
    /// time, which the record's save synced, differs from the index's.
    pub(super) fn mark_index_pending(&self, _lock: &IndexLock, id: &str) -> bool {
        let path = self.data_dir.join(PENDING_FILE);
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(FILE_MODE)
            .open(&path)
            .and_then(|mut f| f.write_all(id.as_bytes()))
            .is_ok()
    }

    pub(super) fn clear_index_pending(&self, _lock: &IndexLock) {
        let _ = fs::remove_file(self.data_dir.join(PENDING_FILE));
    }

    /// Writes one index file: temp file (0600), rename. Not synced: the
    /// index is a cache, and a file lost or torn by a power cut is rebuilt.
    pub(super) fn write_index_file<T: Serialize>(
        &self,
        lock: &IndexLock,
        name: &str,
        file: &T,
    ) -> Result<(), String> {
        let bytes = serde_json::to_vec(file).map_err(|e| format!("summary index: {e}"))?;
        self.write_index_bytes(lock, name, &bytes)
    }

    /// [`Store::write_index_file`] for bytes already encoded.
    pub(super) fn write_index_bytes(
        &self,
        _lock: &IndexLock,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), String> {
        let path = self.data_dir.join(name);
        let tmp = self.data_dir.join(format!(
            "{}{}-{}",
            crate::durable::temp_prefix(name),
            std::process::id(),
            crate::durable::random_hex(8)
        ));
        let written = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(FILE_MODE)
                .open(&tmp)?;
            f.write_all(bytes)?;
            drop(f);
            fs::rename(&tmp, &path)
        })();
        written.map_err(|e| {
            let _ = fs::remove_file(&tmp);
            format!(
                "{}: could not update the summary index ({e}); the records are unaffected",
                path.display()
            )
        })
    }
}
