//! The incident store: one TOML file per incident, the source of truth.
//!
//! Layout under the data directory (directories 0700, files 0600):
//!
//! ```text
//! incidents/<ID>.toml                  one record per incident
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

/// What the audit entry for a change says: when, who, and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditNote {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// e.g. `timeline.entry`, `incident.edited`.
    pub action: String,
    /// What changed, in words, including any text the responder typed.
    pub detail: String,
}

impl AuditNote {
    pub fn new(at: DateTime<Utc>, actor: &str, action: &str, detail: &str) -> AuditNote {
        AuditNote {
            at,
            actor: actor.to_string(),
            action: action.to_string(),
            detail: detail.to_string(),
        }
    }

    fn entry(&self, incident: &str, revision: u64, sha256: &str) -> NewEntry {
        NewEntry {
            at: self.at,
            actor: self.actor.clone(),
            incident: Some(incident.to_string()),
            action: self.action.clone(),
            detail: self.detail.clone(),
            revision: Some(revision),
            record_sha256: Some(sha256.to_string()),
        }
    }
}

/// One way a record on disk and the audit log disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountingProblem {
    pub incident: String,
    pub revision: u64,
    /// A failure (`true`) or a note about a change logged but never saved.
    pub failure: bool,
    pub message: String,
}

impl fmt::Display for AccountingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} revision {}: {}",
            self.incident, self.revision, self.message
        )
    }
}

/// The SHA-256 of a record file's bytes, as the audit log keeps it.
pub fn record_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
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

/// Outcome of parsing one record's text.
enum Parsed {
    Ok(Box<Incident>),
    TooNew(u32),
    Bad {
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
}

#[derive(Deserialize)]
struct VersionOnly {
    schema_version: Option<u32>,
}

/// Like [`parse_record`], for bytes that may not be UTF-8.
fn parse_record_bytes(bytes: &[u8], expected_id: &str) -> Parsed {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_record(text, expected_id),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let before = String::from_utf8_lossy(valid);
            let (line, column) = crate::text::line_col(&before, before.len());
            Parsed::Bad {
                line: Some(line),
                column: Some(column),
                message: "not UTF-8 text".into(),
            }
        }
    }
}

/// Parses a record's text, checking that its id is `expected_id`.
fn parse_record(text: &str, expected_id: &str) -> Parsed {
    match toml::from_str::<Incident>(text) {
        Ok(incident) => {
            if incident.schema_version > SCHEMA_VERSION {
                return Parsed::TooNew(incident.schema_version);
            }
            if incident.id != expected_id {
                let (line, column) = find_key_position(text, "id");
                return Parsed::Bad {
                    line,
                    column,
                    message: format!(
                        "the record's id '{}' does not match its file name ('{}.toml')",
                        crate::text::one_line(&incident.id),
                        expected_id
                    ),
                };
            }
            Parsed::Ok(Box::new(incident))
        }
        Err(err) => {
            // A newer format may add fields or change types: don't call that corrupt.
            if let Ok(VersionOnly {
                schema_version: Some(v),
            }) = toml::from_str::<VersionOnly>(text)
                && v > SCHEMA_VERSION
            {
                return Parsed::TooNew(v);
            }
            let (line, column) = match err.span() {
                Some(span) => {
                    let (l, c) = crate::text::line_col(text, span.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            Parsed::Bad {
                line,
                column,
                message: crate::text::one_line(err.message().trim()),
            }
        }
    }
}

/// Line/column of a top-level `key = ` line, for messages about a field's value.
fn find_key_position(text: &str, key: &str) -> (Option<usize>, Option<usize>) {
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            break;
        }
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return (Some(n + 1), Some(line.len() - trimmed.len() + 1));
        }
    }
    (None, None)
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
        let audit = AuditLog::open(&data_dir)?;
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

    /// Logs `note` for `incident` (revision already set) and then writes the
    /// record: the audit entry is durable before the record changes, so every
    /// saved revision has an entry. If the log cannot be written the record is
    /// left as it was; if the record cannot be written after the entry was
    /// logged, a `record.not-saved` entry says so (best effort) and the error
    /// says "not saved".
    fn commit(&self, incident: &Incident, note: &AuditNote) -> Result<(), StoreError> {
        let path = self.record_path(&incident.id);
        let text = toml::to_string(incident).map_err(|e| StoreError::Serialize {
            file: path.clone(),
            message: e.to_string(),
        })?;
        let sha = record_sha256(text.as_bytes());
        let logged = self
            .audit
            .append_entries(&[note.entry(&incident.id, incident.revision, &sha)])
            .map_err(|source| StoreError::AuditFailed {
                id: incident.id.clone(),
                source,
            })?;
        if let Err(cause) = self.write_text(&incident.id, &text) {
            let seq = logged.first().map_or(0, |e| e.seq);
            let _ = self.audit.append(
                note.at,
                &note.actor,
                Some(&incident.id),
                "record.not-saved",
                &format!(
                    "revision {} (logged at seq {seq}) was not written: {cause}",
                    incident.revision
                ),
            );
            return Err(StoreError::WriteAfterAudit {
                id: incident.id.clone(),
                revision: incident.revision,
                cause: Box::new(cause),
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
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(&path)
            .map_err(io_err("open lock file", &path))
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

    /// Writes a record's text atomically and durably. Caller holds the lock
    /// and has logged the change ([`Store::commit`]).
    fn write_text(&self, id: &str, text: &str) -> Result<(), StoreError> {
        let path = self.record_path(id);
        // Temp files left by a killed writer are ignored by loading and
        // removed by `open`; not listing the directory here keeps a save's
        // cost independent of how many incidents there are.
        replace_file(&self.incidents, &format!("{id}.toml"), text.as_bytes())
            .map_err(io_err("replace", &path))
    }

    /// The bytes of `incidents/<ID>.toml`, read only if it is a regular file
    /// (never through a symbolic link, never blocking on a FIFO) of at most
    /// [`MAX_RECORD_BYTES`]. A missing record that is in quarantine says so.
    fn read_record_bytes(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.record_path(id);
        read_bytes(&path, MAX_RECORD_BYTES).map_err(|e| {
            if e.is_not_found() {
                let files = self.quarantined_files_of(id);
                if files.is_empty() {
                    StoreError::NotFound {
                        id: id.to_string(),
                        dir: self.incidents.clone(),
                    }
                } else {
                    StoreError::Quarantined {
                        id: id.to_string(),
                        files,
                    }
                }
            } else {
                unreadable(&path, e)
            }
        })
    }

    /// Creates a new record at revision 1, logging `note` first. Fails if
    /// that id already exists.
    pub fn create(&self, incident: &Incident, note: &AuditNote) -> Result<Incident, StoreError> {
        self.writable("opening an incident")?;
        check_id(&incident.id)?;
        let _guard = self.lock(&incident.id)?;
        let path = self.record_path(&incident.id);
        match fs::symlink_metadata(&path) {
            Ok(_) => {
                return Err(StoreError::AlreadyExists {
                    id: incident.id.clone(),
                    dir: self.incidents.clone(),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("inspect", &path)(e)),
        }
        let mut saved = incident.clone();
        saved.revision = 1;
        self.commit(&saved, note)?;
        Ok(saved)
    }

    /// Creates many new records at once (for `demo` and imports), each at
    /// revision 1, refusing any id that already exists. Durable like
    /// [`Store::create`], but batched: all temp files are written, then all
    /// synced, then all renamed, then the directory is synced once, so ten
    /// thousand records cost seconds rather than minutes of fsyncs.
    /// Each gets its own audit entry (`note`, with the record's revision and
    /// SHA-256), all appended in one write before any record is renamed into
    /// place.
    pub fn create_many(
        &self,
        incidents: &[Incident],
        note: &AuditNote,
    ) -> Result<usize, StoreError> {
        self.writable("creating incidents")?;
        let mut temps = Vec::with_capacity(incidents.len());
        let mut entries = Vec::with_capacity(incidents.len());
        let result = (|| {
            for incident in incidents {
                check_id(&incident.id)?;
                let path = self.record_path(&incident.id);
                if fs::symlink_metadata(&path).is_ok() {
                    return Err(StoreError::AlreadyExists {
                        id: incident.id.clone(),
                        dir: self.incidents.clone(),
                    });
                }
                let mut saved = incident.clone();
                saved.revision = 1;
                let text = toml::to_string(&saved).map_err(|e| StoreError::Serialize {
                    file: path.clone(),
                    message: e.to_string(),
                })?;
                let tmp = self.incidents.join(format!(
                    "{}{}-{}",
                    crate::durable::temp_prefix(&format!("{}.toml", saved.id)),
                    std::process::id(),
                    crate::durable::random_hex(8)
                ));
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(FILE_MODE)
                    .open(&tmp)
                    .map_err(io_err("create", &tmp))?;
                temps.push((tmp.clone(), path, saved.id.clone()));
                std::io::Write::write_all(&mut file, text.as_bytes())
                    .map_err(io_err("write", &tmp))?;
                entries.push(note.entry(&saved.id, 1, &record_sha256(text.as_bytes())));
            }
            for (tmp, _, _) in &temps {
                File::open(tmp)
                    .and_then(|f| f.sync_all())
                    .map_err(io_err("sync", tmp))?;
            }
            self.audit
                .append_entries(&entries)
                .map_err(|source| StoreError::AuditFailed {
                    id: format!("{} new incidents", entries.len()),
                    source,
                })?;
            for (tmp, path, id) in &temps {
                let _guard = self.lock(id)?;
                if fs::symlink_metadata(path).is_ok() {
                    return Err(StoreError::AlreadyExists {
                        id: id.clone(),
                        dir: self.incidents.clone(),
                    });
                }
                fs::rename(tmp, path).map_err(io_err("replace", path))?;
            }
            sync_dir(&self.incidents).map_err(io_err("sync directory", &self.incidents))?;
            Ok(temps.len())
        })();
        if result.is_err() {
            for (tmp, _, _) in &temps {
                let _ = fs::remove_file(tmp);
            }
        }
        result
    }

    /// Loads one record. Never moves files: a corrupt record is reported as
    /// [`StoreError::Corrupt`] with file, line and column.
    pub fn load(&self, id: &str) -> Result<Incident, StoreError> {
        check_id(id)?;
        let bytes = self.read_record_bytes(id)?;
        let file = self.record_path(id);
        match parse_record_bytes(&bytes, id) {
            Parsed::Ok(incident) => Ok(*incident),
            Parsed::TooNew(found) => Err(StoreError::TooNew {
                file,
                found,
                supported: SCHEMA_VERSION,
            }),
            Parsed::Bad {
                line,
                column,
                message,
            } => Err(StoreError::Corrupt {
                file,
                line,
                column,
                message,
            }),
        }
    }

    /// Every record file (not temp files) in `incidents/` as (id, path),
    /// sorted by id. Whatever the entries are (symbolic links, FIFOs...):
    /// reading them is what refuses the odd ones, with a warning.
    pub fn record_files(&self) -> Result<Vec<(String, PathBuf)>, StoreError> {
        let entries = match fs::read_dir(&self.incidents) {
            Ok(entries) => entries,
            // A read-only look at a data directory nobody has written to yet.
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.read_only => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(io_err("list", &self.incidents)(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("list", &self.incidents))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if let Some(stem) = name.strip_suffix(".toml") {
                out.push((stem.to_string(), entry.path()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Every record that parses (sorted by id), and a problem for every file
    /// that does not. Corrupt files are moved to `quarantine/`; records from a
    /// newer breachdesk are reported and left in place.
    pub fn load_all(&self) -> LoadReport {
        let mut report = LoadReport::default();
        let files = match self.record_files() {
            Ok(files) => files,
            Err(e) => {
                report.problems.push(LoadProblem {
                    file: self.incidents.clone(),
                    line: None,
                    column: None,
                    message: e.to_string(),
                    quarantined_to: None,
                });
                return report;
            }
        };
        for (stem, path) in files {
            let text = match read_bytes(&path, MAX_RECORD_BYTES) {
                Ok(text) => text,
                Err(e) if e.is_not_found() => continue,
                Err(e) => {
                    report.problems.push(LoadProblem {
                        file: path,
                        line: None,
                        column: None,
                        message: format!("{e}; skipped, left in place"),
                        quarantined_to: None,
                    });
                    continue;
                }
            };
            match parse_record_bytes(&text, &stem) {
                Parsed::Ok(incident) => report.incidents.push(*incident),
                Parsed::TooNew(found) => report.problems.push(LoadProblem {
                    file: path,
                    line: None,
                    column: None,
                    message: format!(
                        "written by a newer breachdesk (schema version {found}; this one understands up to {SCHEMA_VERSION}): left in place"
                    ),
                    quarantined_to: None,
                }),
                Parsed::Bad {
                    line,
                    column,
                    message,
                } if self.read_only => report.problems.push(LoadProblem {
                    file: path,
                    line,
                    column,
                    message: format!(
                        "{message} (left in place by this read-only command: `breachdesk quarantine sweep` or the console moves it to quarantine/)"
                    ),
                    quarantined_to: None,
                }),
                Parsed::Bad {
                    line,
                    column,
                    message,
                } => {
                    let (quarantined_to, message) = match self.quarantine_file(&stem, &path, &text)
                    {
                        Ok(QuarantineOutcome::Moved(to)) => (Some(to), message),
                        Ok(QuarantineOutcome::Changed) => {
                            // Rewritten between our read and the lock: look again.
                            match self.load(&stem) {
                                Ok(incident) => {
                                    report.incidents.push(incident);
                                    continue;
                                }
                                Err(_) => (None, message),
                            }
                        }
                        Ok(QuarantineOutcome::Gone) => continue,
                        Err(e) => (None, format!("{message} (could not quarantine: {e})")),
                    };
                    report.problems.push(LoadProblem {
                        file: path,
                        line,
                        column,
                        message,
                        quarantined_to,
                    });
                }
            }
        }
        report.incidents.sort_by(|a, b| a.id.cmp(&b.id));
        report
    }

    /// Moves a corrupt record to `quarantine/<name>.<UTC stamp>[-n]`, under the
    /// incident's lock and only if the file still holds the text we judged.
    fn quarantine_file(
        &self,
        stem: &str,
        path: &Path,
        judged: &[u8],
    ) -> Result<QuarantineOutcome, StoreError> {
        let _guard = if valid_id(stem) {
            Some(self.lock(stem)?)
        } else {
            None
        };
        match read_bytes(path, MAX_RECORD_BYTES) {
            Ok(now) if now == judged => {}
            Ok(_) => return Ok(QuarantineOutcome::Changed),
            Err(e) if e.is_not_found() => return Ok(QuarantineOutcome::Gone),
            Err(e) => return Err(unreadable(path, e)),
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        for n in 0..1000u32 {
            let target = if n == 0 {
                self.quarantine.join(format!("{name}.{stamp}"))
            } else {
                self.quarantine.join(format!("{name}.{stamp}-{n}"))
            };
            // hard_link never overwrites: it fails if the target exists.
            match fs::hard_link(path, &target) {
                Ok(()) => {
                    sync_dir(&self.quarantine)
                        .map_err(io_err("sync directory", &self.quarantine))?;
                    fs::remove_file(path).map_err(io_err("remove", path))?;
                    sync_dir(&self.incidents).map_err(io_err("sync directory", &self.incidents))?;
                    // Best effort: the move is done and reported either way.
                    let _ = self.audit.append(
                        Utc::now(),
                        "breachdesk",
                        valid_id(stem).then_some(stem),
                        "record.quarantined",
                        &format!(
                            "{} would not parse; moved to {}",
                            path.display(),
                            target.display()
                        ),
                    );
                    return Ok(QuarantineOutcome::Moved(target));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err("move to quarantine", &target)(e)),
            }
        }
        Err(StoreError::Io {
            action: "find a free quarantine name in",
            path: self.quarantine.clone(),
            source: io::Error::other("too many quarantined copies with this timestamp"),
        })
    }

    /// Ids of the records in `incidents/` (by file name), sorted.
    pub fn ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .record_files()?
            .into_iter()
            .map(|(stem, _)| stem)
            .filter(|stem| valid_id(stem))
            .collect())
    }

    /// The id `text` means: an exact id (case-insensitive), or the one id it is
    /// a prefix or suffix of (case-insensitive), e.g. `7f3a9c`.
    pub fn resolve_id(&self, text: &str) -> Result<String, StoreError> {
        let wanted = text.trim().to_ascii_lowercase();
        let unknown = || StoreError::UnknownIncident {
            text: text.to_string(),
            dir: self.incidents.clone(),
        };
        if wanted.is_empty() {
            return Err(unknown());
        }
        // The usual case, a full id as printed: no need to list the directory.
        let exact = text.trim().to_string();
        if valid_id(&exact)
            && fs::symlink_metadata(self.record_path(&exact)).is_ok_and(|m| m.is_file())
        {
            return Ok(exact);
        }
        let ids = self.ids()?;
        if let Some(id) = ids.iter().find(|id| id.to_ascii_lowercase() == wanted) {
            return Ok(id.clone());
        }
        let candidates: Vec<String> = ids
            .into_iter()
            .filter(|id| {
                let lower = id.to_ascii_lowercase();
                lower.starts_with(&wanted) || lower.ends_with(&wanted)
            })
            .collect();
        match candidates.len() {
            0 => Err(self.quarantined_match(&wanted).unwrap_or_else(unknown)),
            1 => Ok(candidates.into_iter().next().unwrap_or_default()),
            _ => Err(StoreError::Ambiguous {
                text: text.to_string(),
                candidates,
            }),
        }
    }

    /// Locks the incident, re-reads the latest record, applies `change` and
    /// writes (revision + 1) only if anything but the revision changed.
    /// Returns the record as saved (or as it is, unchanged) and whether it was
    /// written. `change` must not alter the id.
    pub fn update<E>(
        &self,
        id: &str,
        change: impl FnOnce(&mut Incident) -> Result<AuditNote, E>,
    ) -> Result<(Incident, bool), UpdateError<E>> {
        self.writable("changing an incident")?;
        check_id(id)?;
        let _guard = self.lock(id)?;
        let before = self.load(id)?;
        let mut after = before.clone();
        let note = change(&mut after).map_err(UpdateError::Change)?;
        if after.id != before.id {
            return Err(StoreError::IdChanged {
                id: before.id,
                new_id: after.id,
                file: self.record_path(id),
            }
            .into());
        }
        after.revision = before.revision;
        if after == before {
            return Ok((before, false));
        }
        after.revision = before.revision + 1;
        self.commit(&after, &note)?;
        Ok((after, true))
    }

    /// Optimistic save of a record the caller loaded and edited: fails with
    /// [`StoreError::Conflict`] (writing nothing) if the record on disk is no
    /// longer at `incident.revision`; writes nothing if nothing changed;
    /// otherwise writes it at revision + 1 and returns it as saved.
    pub fn save(&self, incident: &Incident, note: &AuditNote) -> Result<Incident, StoreError> {
        self.writable("saving an incident")?;
        check_id(&incident.id)?;
        let _guard = self.lock(&incident.id)?;
        let current = self.load(&incident.id)?;
        if current.revision != incident.revision {
            return Err(StoreError::Conflict {
                id: incident.id.clone(),
                expected: incident.revision,
                found: current.revision,
            });
        }
        if same_content(&current, incident) {
            return Ok(current);
        }
        let mut saved = incident.clone();
        saved.revision = current.revision + 1;
        self.commit(&saved, note)?;
        Ok(saved)
    }

    /// Checks every record in `incidents/` against the audit log: its saved
    /// revision must have an entry whose SHA-256 matches the file's bytes,
    /// and every revision from the first one logged up to it must have an
    /// entry. A change logged but never saved (a crash between the two, or a
    /// failed write) is reported as a note, not a failure. Reads only.
    pub fn account(&self, entries: &[AuditEntry]) -> Vec<AccountingProblem> {
        let mut logged: BTreeMap<&str, BTreeMap<u64, Vec<&AuditEntry>>> = BTreeMap::new();
        for e in entries {
            if let (Some(id), Some(rev)) = (e.incident.as_deref(), e.revision) {
                logged
                    .entry(id)
                    .or_default()
                    .entry(rev)
                    .or_default()
                    .push(e);
            }
        }
        let mut problems = Vec::new();
        let Ok(files) = self.record_files() else {
            return problems;
        };
        for (id, path) in files {
            let Ok(bytes) = fs::read(&path) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            let Parsed::Ok(incident) = parse_record(&text, &id) else {
                continue;
            };
            let sha = record_sha256(&bytes);
            let revision = incident.revision;
            let mut fail = |revision: u64, message: String| {
                problems.push(AccountingProblem {
                    incident: id.clone(),
                    revision,
                    failure: true,
                    message,
                })
            };
            let Some(revisions) = logged.get(id.as_str()) else {
                fail(
                    revision,
                    "saved, but the audit log has no entry for this incident at all".into(),
                );
                continue;
            };
            match revisions.get(&revision) {
                None => fail(revision, "saved, but has no audit entry".into()),
                Some(list)
                    if !list
                        .iter()
                        .any(|e| e.record_sha256.as_deref() == Some(&sha)) =>
                {
                    fail(
                        revision,
                        format!(
                            "the record on disk differs from what the audit log says was saved (seq {}): changed outside breachdesk",
                            list.last().map_or(0, |e| e.seq)
                        ),
                    )
                }
                Some(_) => {}
            }
            let first = revisions.keys().next().copied().unwrap_or(revision);
            for r in first..revision {
                if !revisions.contains_key(&r) {
                    fail(
                        r,
                        "was saved (a later revision exists) but has no audit entry".into(),
                    );
                }
            }
            for (r, list) in revisions.range(revision + 1..) {
                for e in list {
                    problems.push(AccountingProblem {
                        incident: id.clone(),
                        revision: *r,
                        failure: false,
                        message: format!(
                            "logged at seq {} ({}) but never saved: the record stayed at revision {revision}",
                            e.seq, e.action
                        ),
                    });
                }
            }
        }
        problems
    }
}

enum QuarantineOutcome {
    Moved(PathBuf),
    Changed,
    Gone,
}

/// A file in `quarantine/`: a record that would not parse, moved aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedFile {
    /// Full path of the file.
    pub path: PathBuf,
    /// The incident its name says it holds (`INC-x` of
    /// `INC-x.toml.20261128T143000Z`), if the name says.
    pub id: Option<String>,
    /// Its size in bytes.
    pub size: u64,
}

/// The incident id a quarantined (or hand-fixed) file's name says it holds:
/// the part before `.toml`, when that is a valid id.
pub fn id_from_file_name(name: &str) -> Option<&str> {
    let (id, _) = name.split_once(".toml")?;
    valid_id(id).then_some(id)
}

impl Store {
    /// Every file in `quarantine/`, sorted by name.
    pub fn quarantined(&self) -> Result<Vec<QuarantinedFile>, StoreError> {
        let entries = match fs::read_dir(&self.quarantine) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("list", &self.quarantine)(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("list", &self.quarantine))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // DirEntry::metadata does not follow symbolic links.
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            out.push(QuarantinedFile {
                path: entry.path(),
                id: id_from_file_name(&name).map(str::to_string),
                size,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// The quarantined files of incident `id`.
    fn quarantined_files_of(&self, id: &str) -> Vec<PathBuf> {
        self.quarantined()
            .unwrap_or_default()
            .into_iter()
            .filter(|q| q.id.as_deref() == Some(id))
            .map(|q| q.path)
            .collect()
    }

    /// [`StoreError::Quarantined`] when `wanted` (lower case) names exactly
    /// one quarantined incident (in full, or by a prefix or suffix).
    fn quarantined_match(&self, wanted: &str) -> Option<StoreError> {
        let mut ids: Vec<String> = self
            .quarantined()
            .ok()?
            .into_iter()
            .filter_map(|q| q.id)
            .filter(|id| {
                let lower = id.to_ascii_lowercase();
                lower.starts_with(wanted) || lower.ends_with(wanted)
            })
            .collect();
        ids.sort();
        ids.dedup();
        if ids.len() != 1 {
            return None;
        }
        let id = ids.remove(0);
        Some(StoreError::Quarantined {
            files: self.quarantined_files_of(&id),
            id,
        })
    }

    /// Checks that `file` (a name in `quarantine/`, or any path) could be
    /// restored: a regular file whose name starts with the incident id, that
    /// parses, whose id matches its name, and whose incident is not in
    /// `incidents/` already. Returns its path, the id and its bytes.
    pub fn restorable(&self, file: &Path) -> Result<(PathBuf, String, Vec<u8>), StoreError> {
        let in_quarantine = self.quarantine.join(file);
        let path = if file.components().count() == 1 && fs::symlink_metadata(&in_quarantine).is_ok()
        {
            in_quarantine
        } else {
            file.to_path_buf()
        };
        let refuse = |message: String| StoreError::Restore {
            file: path.clone(),
            message,
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let id = id_from_file_name(&name)
            .ok_or_else(|| {
                refuse(
                    "its name must start with the incident id and .toml (e.g. INC-20261128-1305-fce27e.toml.20261128T143000Z)"
                        .into(),
                )
            })?
            .to_string();
        let bytes = read_bytes(&path, MAX_RECORD_BYTES).map_err(|e| refuse(e.to_string()))?;
        match parse_record_bytes(&bytes, &id) {
            Parsed::Ok(_) => {}
            Parsed::TooNew(found) => {
                return Err(StoreError::TooNew {
                    file: path,
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            Parsed::Bad {
                line,
                column,
                message,
            } => {
                return Err(StoreError::Corrupt {
                    file: path,
                    line,
                    column,
                    message,
                });
            }
        }
        if fs::symlink_metadata(self.record_path(&id)).is_ok() {
            return Err(refuse(format!(
                "{id} is already in {} (remove or rename that record first)",
                self.incidents.display()
            )));
        }
        Ok((path, id, bytes))
    }

    /// Puts a hand-fixed record back (see [`Store::restorable`] for the
    /// checks). It is written atomically (0600) under the
    /// incident's lock; a file that was in `quarantine/` is then removed
    /// from there. Returns the record as restored.
    pub fn restore_quarantined(
        &self,
        file: &Path,
        note: &AuditNote,
    ) -> Result<Incident, StoreError> {
        self.writable("restoring a record")?;
        let (path, id, bytes) = self.restorable(file)?;
        let refuse = |message: String| StoreError::Restore {
            file: path.clone(),
            message,
        };
        let from_quarantine = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .and_then(|p| fs::canonicalize(p).ok())
            .zip(fs::canonicalize(&self.quarantine).ok())
            .is_some_and(|(a, b)| a == b);
        let _guard = self.lock(&id)?;
        let target = self.record_path(&id);
        if fs::symlink_metadata(&target).is_ok() {
            return Err(refuse(format!(
                "{id} is already in {} (remove or rename that record first)",
                self.incidents.display()
            )));
        }
        // Logged first, like every record write: the restored bytes become a
        // revision the audit log accounts for.
        let revision = match parse_record_bytes(&bytes, &id) {
            Parsed::Ok(incident) => incident.revision,
            _ => return Err(refuse("it no longer parses".into())),
        };
        self.audit
            .append_entries(&[note.entry(&id, revision, &record_sha256(&bytes))])
            .map_err(|source| StoreError::AuditFailed {
                id: id.clone(),
                source,
            })?;
        replace_file(&self.incidents, &format!("{id}.toml"), &bytes)
            .map_err(io_err("write", &target))?;
        if from_quarantine {
            fs::remove_file(&path).map_err(io_err("remove", &path))?;
            sync_dir(&self.quarantine).map_err(io_err("sync directory", &self.quarantine))?;
        }
        self.load(&id)
    }
}
