//! The incident store: one TOML file per incident, the source of truth.
//!
//! Layout under the data directory (directories 0700, files 0600):
//!
//! ```text
//! incidents/<ID>.toml                  one record per incident (its first
//!                                      line a comment holding its summary:
//!                                      see `summary_line`)
//! incidents/.<ID>.toml.tmp-<pid>-<rnd> a save in progress (ignored by loading)
//! locks/<ID>.lock                      flock target, held across read-modify-write
//! quarantine/<ID>.toml.<UTC stamp>     records that would not parse, moved aside
//! ```
//!
//! * Saves are atomic and durable: the new text goes to a temp file in
//!   `incidents/` that is written, `sync_all`ed, renamed over the record, and
//!   then the directory is `sync_all`ed. A process killed at any instant
//!   leaves either the old or the new record.
//! * Every write happens with an exclusive `flock` on `locks/<ID>.lock` (not on
//!   the record: a rename gives the record a new inode). Lock files are never
//!   deleted, so two processes always lock the same inode.
//! * Temp files are only ever created while holding the incident's lock, so any
//!   temp file found by the lock holder is a leftover of a killed process and is
//!   removed; [`Store::open`] also removes leftovers whose lock is free.
//! * The store bumps `revision` on every write (create writes revision 1) and
//!   only writes when something other than the revision changed.
//! * Corrupt records: [`Store::load`] never moves files; it returns
//!   [`StoreError::Corrupt`] naming file, line and column so the file can be
//!   fixed by hand. [`Store::load_all`] (the listing every screen uses) moves
//!   corrupt records to `quarantine/` under a timestamped name (never
//!   overwriting) so one bad file never hides the others. Records written by
//!   a newer breachdesk (`schema_version` > [`SCHEMA_VERSION`]) are reported by
//!   both and left where they are.
//! * Reading: a record is read only if it is a regular file of at most
//!   [`MAX_RECORD_BYTES`], never through a symbolic link and never blocking
//!   on a FIFO (see [`crate::safe_read`]). Anything else in `incidents/` (a
//!   FIFO, device, socket, directory, link, oversized file) is reported by
//!   name and left in place.
//! * Quarantined records stay visible: [`Store::quarantined`] lists them,
//!   loading a quarantined id says where it is ([`StoreError::Quarantined`]),
//!   and [`Store::restore_quarantined`] puts a hand-fixed one back.

use crate::audit::{AuditEntry, AuditError, AuditLog, NewEntry};
use crate::domain::incident::{Incident, SCHEMA_VERSION};
use crate::durable::{FILE_MODE, ensure_private_dir, replace_file, sync_dir};
use crate::safe_read::{MAX_RECORD_BYTES, ReadError, read_bytes};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

mod accounting;
pub(crate) mod index;
pub(crate) mod index_format;
pub(crate) mod index_rows;
mod quarantine;
mod read;
mod record_file;
mod summary_line;
mod sync_hold;
mod write;

use read::{Parsed, parse_record_bytes};

pub use accounting::{AccountingProblem, RecordsRead};
use quarantine::QuarantineOutcome;
pub use quarantine::{QuarantinedFile, id_from_file_name};
pub use record_file::{parse_record_copy, read_record_file, record_bytes, write_record_file};
pub use sync_hold::SavesHeld;
pub use write::{AuditNote, record_sha256};

const INCIDENTS: &str = "incidents";
const LOCKS: &str = "locks";
const QUARANTINE: &str = "quarantine";

/// Why a store operation failed. Every message is one line and names the file
/// or directory involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{id} not found in {}", dir.display())]
    NotFound { id: String, dir: PathBuf },
    #[error("{id} already exists in {}", dir.display())]
    AlreadyExists { id: String, dir: PathBuf },
    #[error(
        "'{}' is not a valid incident id: use letters, digits, '-' and '_' (at most 100), not starting with '-' or '.'",
        crate::text::quote_short(id)
    )]
    InvalidId { id: String },
    #[error("{}", location(file, *line, *column, message))]
    Corrupt {
        file: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    #[error("{}: written by a newer breachdesk (schema version {found}; this one understands up to {supported}): upgrade breachdesk to use it", file.display())]
    TooNew {
        file: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "{id} was changed by someone else (revision {found} on disk, you had {expected}): reload and try again"
    )]
    Conflict {
        id: String,
        expected: u64,
        found: u64,
    },
    #[error("the change tried to alter the id of {id} (to '{new_id}') in {}: ids never change", file.display())]
    IdChanged {
        id: String,
        new_id: String,
        file: PathBuf,
    },
    #[error("cannot write {}: {message}", file.display())]
    Serialize { file: PathBuf, message: String },
    #[error("{id}: not saved: {source}")]
    AuditFailed { id: String, source: AuditError },
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(
        "{id}: not saved: {cause} (the audit log's entry for revision {revision} stays, and verify reports it as logged but never saved)"
    )]
    WriteAfterAudit {
        id: String,
        revision: u64,
        cause: Box<StoreError>,
    },
    #[error("{} is read-only here: {what} needs a writable data directory", dir.display())]
    ReadOnly { dir: PathBuf, what: &'static str },
    #[error("cannot restore {}: {message}", file.display())]
    Restore { file: PathBuf, message: String },
    #[error("no incident matches '{}' in {}", crate::text::quote_short(text), dir.display())]
    UnknownIncident { text: String, dir: PathBuf },
    #[error(
        "{id} is in quarantine (its record would not parse): {}; fix it by hand, then run `breachdesk quarantine restore FILE`",
        files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    Quarantined { id: String, files: Vec<PathBuf> },
    #[error("'{}' matches {} incidents: {}; give more of the id", crate::text::quote_short(text), candidates.len(), candidates.join(", "))]
    Ambiguous {
        text: String,
        candidates: Vec<String>,
    },
}

/// The error from [`Store::update`]: the store failed, or the change refused.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Change(E),
}

fn location(file: &Path, line: Option<usize>, column: Option<usize>, message: &str) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}: {message}", file.display()),
        (Some(l), None) => format!("{}:{l}: {message}", file.display()),
        _ => format!("{}: {message}", file.display()),
    }
}

/// Everything [`Store::load_all`] found.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Every record that parsed, sorted by id.
    pub incidents: Vec<Incident>,
    /// Files that did not, in file-name order.
    pub problems: Vec<LoadProblem>,
}

/// One file [`Store::load_all`] could not load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    /// Full path of the file as it was found in `incidents/`.
    pub file: PathBuf,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters) of the problem, when known.
    pub column: Option<usize>,
    /// One line saying what is wrong.
    pub message: String,
    /// Where the file was moved to (full path), if it was quarantined.
    pub quarantined_to: Option<PathBuf>,
}

/// The last two components of a path (`incidents/INC-x.toml`), for messages.
fn short(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match path.parent().and_then(Path::file_name) {
        Some(dir) => format!("{}/{}", dir.to_string_lossy(), name),
        None => name,
    }
}

impl fmt::Display for LoadProblem {
    /// `incidents/INC-x.toml:12:5: message (moved to quarantine/INC-x.toml.20261128T143000Z)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&location(
            Path::new(&short(&self.file)),
            self.line,
            self.column,
            &self.message,
        ))?;
        if let Some(to) = &self.quarantined_to {
            write!(f, " (moved to {})", short(to))?;
        }
        Ok(())
    }
}

/// The incident store. Cheap to keep around; holds no open files.
#[derive(Debug, Clone)]
pub struct Store {
    data_dir: PathBuf,
    incidents: PathBuf,
    locks: PathBuf,
    quarantine: PathBuf,
    warnings: Vec<String>,
    audit: AuditLog,
    read_only: bool,
}

/// An exclusive flock on `locks/<ID>.lock`, released when dropped.
struct LockGuard {
    file: File,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first is explicit.
        let _ = self.file.unlock();
    }
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// A file that could not be read (or was refused: a FIFO, device, symbolic
/// link, oversized file), as one line naming it.
fn unreadable(path: &Path, e: ReadError) -> StoreError {
    StoreError::Io {
        action: "read",
        path: path.to_path_buf(),
        source: e.into_io(),
    }
}

/// A link in place of one of the data directory's own directories is never
/// followed. (The data directory itself may be a link: it is the responder's
/// choice.)
fn refuse_linked_dirs(dirs: &[&PathBuf]) -> Result<(), StoreError> {
    for dir in dirs {
        if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(StoreError::Io {
                action: "use directory",
                path: dir.to_path_buf(),
                source: io::Error::other("is a symbolic link (not followed)"),
            });
        }
    }
    Ok(())
}

/// Ids are file names: letters, digits, `-`, `_`; 1..=100 long; not starting with `-`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && !id.starts_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_id(id: &str) -> Result<(), StoreError> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(StoreError::InvalidId { id: id.to_string() })
    }
}

/// The id a temp file `.<ID>.toml.tmp-...` belongs to.
fn temp_owner(name: &str) -> Option<&str> {
    let rest = name.strip_prefix('.')?;
    let (id, _) = rest.split_once(".toml.tmp-")?;
    valid_id(id).then_some(id)
}

/// Equal apart from the revision.
fn same_content(a: &Incident, b: &Incident) -> bool {
    let mut b = b.clone();
    b.revision = a.revision;
    *a == b
}

impl Store {
    /// Opens (creating as needed) the store under `data_dir`: `incidents/`,
    /// `locks/` and `quarantine/`, all created 0700. An existing data dir
    /// (or subdirectory) keeps its mode: one other users can reach gives a
    /// warning (see [`Store::warnings`]); a world-writable one without the
    /// sticky bit is refused. Leftover temp files of
    /// killed processes are removed when their incident's lock is free.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_as(data_dir, None)
    }

    /// [`Store::open`] for the responder `name`, the name this machine's
    /// audit entries are signed as (see [`AuditLog::open_as`]).
    pub fn open_as(data_dir: &Path, name: Option<&str>) -> Result<Store, StoreError> {
        let mut warnings = Vec::new();
        let data_dir = data_dir.to_path_buf();
        let incidents = data_dir.join(INCIDENTS);
        let locks = data_dir.join(LOCKS);
        let quarantine = data_dir.join(QUARANTINE);
        refuse_linked_dirs(&[&incidents, &locks, &quarantine])?;
        for dir in [&data_dir, &incidents, &locks, &quarantine] {
            if let Some(w) = ensure_private_dir(dir).map_err(io_err("use directory", dir))? {
                warnings.push(w);
            }
        }
        let audit = AuditLog::open_as(&data_dir, name)?;
        let store = Store {
            data_dir,
            incidents,
            locks,
            quarantine,
            warnings,
            audit,
            read_only: false,
        };
        store.clean_stray_temps();
        Ok(store)
    }

    /// The store under `data_dir` for reading only: creates, locks, cleans
    /// and quarantines nothing, so it works on a read-only data directory.
    /// Every write through it is refused.
    pub fn open_read_only(data_dir: &Path) -> Result<Store, StoreError> {
        let data_dir = data_dir.to_path_buf();
        let incidents = data_dir.join(INCIDENTS);
        let locks = data_dir.join(LOCKS);
        let quarantine = data_dir.join(QUARANTINE);
        let audit_dir = data_dir.join("audit");
        refuse_linked_dirs(&[&incidents, &locks, &quarantine, &audit_dir])?;
        // Looked at, never changed: the same warnings and refusals as a
        // writer gets, for the directories that exist.
        let mut warnings = Vec::new();
        for dir in [&data_dir, &incidents, &locks, &quarantine, &audit_dir] {
            match crate::durable::check_private_dir(dir) {
                Ok(warning) => warnings.extend(warning),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("use directory", dir)(e)),
            }
        }
        Ok(Store {
            incidents,
            locks,
            quarantine,
            warnings,
            audit: AuditLog::open_read_only(&data_dir),
            read_only: true,
            data_dir,
        })
    }

    /// Whether this store was opened with [`Store::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The audit log every change to this store is written to first.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    fn writable(&self, what: &'static str) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly {
                dir: self.data_dir.clone(),
                what,
            });
        }
        Ok(())
    }

    /// Things [`Store::open`] found that the user should know about (e.g. a
    /// data directory other users can read), for the CLI's stderr and the
    /// console's status line.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The data directory this store lives in.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// `incidents/<ID>.toml`.
    pub fn record_path(&self, id: &str) -> PathBuf {
        self.incidents.join(format!("{id}.toml"))
    }

    /// The `incidents/` directory.
    pub fn incidents_dir(&self) -> &Path {
        &self.incidents
    }

    /// The `quarantine/` directory.
    pub fn quarantine_dir(&self) -> &Path {
        &self.quarantine
    }

    fn lock_path(&self, id: &str) -> PathBuf {
        self.locks.join(format!("{id}.lock"))
    }

    fn open_lock_file(&self, id: &str) -> Result<File, StoreError> {
        let path = self.lock_path(id);
        crate::durable::open_lock_file(&path).map_err(io_err("open lock file", &path))
    }

    fn lock(&self, id: &str) -> Result<LockGuard, StoreError> {
        let file = self.open_lock_file(id)?;
        file.lock().map_err(io_err("lock", &self.lock_path(id)))?;
        Ok(LockGuard { file })
    }

    fn try_lock(&self, id: &str) -> Option<LockGuard> {
        let file = self.open_lock_file(id).ok()?;
        file.try_lock().ok()?;
        Some(LockGuard { file })
    }

    /// Removes temp files whose incident is not locked by anyone (so no save is
    /// in progress and they are leftovers of a killed process). Best effort.
    fn clean_stray_temps(&self) {
        let Ok(entries) = fs::read_dir(&self.incidents) else {
            return;
        };
        let mut owners: Vec<String> = entries
            .flatten()
            .filter_map(|e| temp_owner(&e.file_name().to_string_lossy()).map(str::to_string))
            .collect();
        owners.sort();
        owners.dedup();
        for id in owners {
            if let Some(_guard) = self.try_lock(&id) {
                self.remove_temps(&id);
            }
        }
    }

    /// Removes every temp file of `id`. Only call while holding its lock.
    fn remove_temps(&self, id: &str) {
        let Ok(entries) = fs::read_dir(&self.incidents) else {
            return;
        };
        for entry in entries.flatten() {
            if temp_owner(&entry.file_name().to_string_lossy()) == Some(id) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}
