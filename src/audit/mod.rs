//! The append-only, hash-chained log of breachdesk's own response record:
//! who changed which incident, when, and what changed.
//!
//! This is breachdesk's record of the *response*. It is not the audit
//! records of the ICT Environment that Annex 1 paragraphs 7.1 and 8.3 ask
//! the Service Provider to keep (DHCP, proxy, firewall and security-event
//! logs); breachdesk makes no claim to satisfy those.
//!
//! # Format: JSON Lines
//!
//! `audit/audit-log.jsonl` (directory 0700, file 0600) holds one JSON object
//! per line, each line ending in `\n`:
//!
//! ```text
//! {"seq":1,"at":"2026-11-28T14:32:00Z","actor":"alice","incident":"INC-…","action":"incident.opened","detail":"…","revision":1,"record_sha256":"…","prev":"000…","hash":"…"}
//! ```
//!
//! `hash` is the hex SHA-256 of the JSON encoding of the other fields (in the
//! order above, `incident` as `null` when absent, `revision` and
//! `record_sha256` left out when absent); `prev` is the previous entry's
//! `hash` (64 zeros for the first). An entry that changed a record carries the
//! record's new `revision` and the SHA-256 of the record file's exact bytes,
//! so [`crate::store::Store::account`] can prove every saved revision was
//! logged.
//!
//! Appends happen under an exclusive `flock` on `audit/audit.lock`, as one
//! `write` followed by `fsync`. A failed append truncates the file back to its
//! old length (and syncs), so the log is exactly as it was.
//!
//! The only rewrite is [`AuditLog::prune`]: it drops entries older than the
//! retention period (at least 6 calendar months), starts the file with a
//! `{"chain":{…}}` line whose `anchor` is the hash the first kept entry's
//! `prev` refers to, appends an `audit.pruned` entry that states the same
//! anchor and cutoff (so a forged marker is caught), and carries forward, as
//! `record.checkpoint` entries, the last logged revision of every incident
//! whose entries were pruned.
//!
//! Logs in the first format (`audit-log.toml`, `[[entry]]` blocks with the
//! same hashes) are converted on first writable open; the old file is kept as
//! `audit-log.toml.migrated`.
//!
//! Limits: the chain is not keyed, so someone who can write the file can
//! rewrite it wholesale and recompute every hash. Every email notice carries
//! the head hash (`X-Breachdesk-Audit-Head`) so the other party holds a
//! witness: a genuine log contains that hash as one of its entries.

use crate::durable::{self, FILE_MODE, ensure_private_dir, replace_file, sync_dir};
use chrono::{DateTime, Months, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

mod chain;
mod maintenance;
pub use maintenance::{PruneReport, RepairReport};

use chain::{Line, RawEntry, format_at, parse_line, tip_of, verify_text};

pub const MIN_RETENTION_DAYS: u32 = 184;
/// Retention in calendar months that no prune may go below.
pub const MIN_RETENTION_MONTHS: u32 = 6;

const AUDIT_DIR: &str = "audit";
/// The log's file name inside `audit/`.
pub const LOG_FILE: &str = "audit-log.jsonl";
const OLD_LOG_FILE: &str = "audit-log.toml";
const LOCK_FILE: &str = "audit.lock";
/// The `prev` of the first entry.
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const TAIL_WINDOW: u64 = 8 * 1024;
/// The largest log read whole (verify, list, prune): far beyond years of
/// incidents, small enough that a hostile file cannot exhaust memory.
const MAX_LOG_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Why an audit-log operation failed. One line, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{}:{line}: {message}", file.display())]
    Corrupt {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "refusing to keep audit records for only {days} days: breachdesk keeps its log at least {min} days (6 calendar months)"
    )]
    RetentionTooShort { days: u32, min: u32 },
    #[error("refusing to prune {}: the chain does not verify ({broken}); pruning would hide that", file.display())]
    ChainBroken { file: PathBuf, broken: ChainBreak },
    #[error("cannot write an audit entry to {}: {message}", file.display())]
    Serialize { file: PathBuf, message: String },
    #[error("{} is read-only here: {what} needs a writable data directory", file.display())]
    ReadOnly { file: PathBuf, what: &'static str },
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub incident: Option<String>,
    pub action: String,
    pub detail: String,
    /// The record revision this entry's change produced, when it changed one.
    pub revision: Option<u64>,
    /// SHA-256 of the record file's bytes at that revision.
    pub record_sha256: Option<String>,
    pub prev: String,
    pub hash: String,
}

/// An entry to append: everything but the chain fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub incident: Option<String>,
    pub action: String,
    pub detail: String,
    pub revision: Option<u64>,
    pub record_sha256: Option<String>,
}

impl NewEntry {
    /// An entry that changes no record.
    pub fn note(
        at: DateTime<Utc>,
        actor: &str,
        incident: Option<&str>,
        action: &str,
        detail: &str,
    ) -> NewEntry {
        NewEntry {
            at,
            actor: actor.to_string(),
            incident: incident.map(str::to_string),
            action: action.to_string(),
            detail: detail.to_string(),
            revision: None,
            record_sha256: None,
        }
    }
}

/// What [`AuditLog::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked and found good (all of them when `first_break` is `None`).
    pub entries: u64,
    /// Entries removed by pruning so far (from the chain marker).
    pub pruned: u64,
    /// The hash of the last good entry (the anchor or zeros if none).
    pub last_hash: String,
    /// The first place the chain breaks, if it does.
    pub first_break: Option<ChainBreak>,
}

impl VerifyReport {
    /// The whole chain verified.
    pub fn is_ok(&self) -> bool {
        self.first_break.is_none()
    }
}

/// How the chain broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// A line is not a complete entry: torn or edited.
    Unparseable,
    /// The entry's content does not match its hash: edited.
    HashMismatch,
    /// The `seq` is not the next number: an entry was deleted, reordered or inserted.
    OutOfSequence,
    /// `prev` is not the previous entry's hash.
    PrevMismatch,
    /// The prune marker is not backed by an `audit.pruned` entry, or claims
    /// to have pruned entries still inside the retention period.
    ForgedPrune,
}

/// The first place the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// 1-based line of the entry.
    pub line: usize,
    /// The entry's `seq` when it could be read.
    pub seq: Option<u64>,
    pub kind: BreakKind,
    pub message: String,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "line {} (seq {}): {}", self.line, seq, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// The audit log of one data directory. Holds no open files.
#[derive(Debug, Clone)]
pub struct AuditLog {
    dir: PathBuf,
    file: PathBuf,
    lock: PathBuf,
    read_only: bool,
    warnings: Vec<String>,
}

/// An exclusive flock released on drop.
struct Locked {
    file: File,
}

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

impl AuditLog {
    /// Opens (creating as needed) `audit/` (0700) with `audit-log.jsonl` and
    /// `audit.lock` (0600) under `data_dir`, converting a first-format log.
    pub fn open(data_dir: &Path) -> Result<AuditLog, AuditError> {
        let dir = data_dir.join(AUDIT_DIR);
        if fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(AuditError::Io {
                action: "use directory",
                path: dir,
                source: io::Error::other(
                    "it is a symbolic link; breachdesk keeps its audit log only in a real directory",
                ),
            });
        }
        let mut warnings = Vec::new();
        for d in [data_dir, dir.as_path()] {
            let warning = ensure_private_dir(d).map_err(|source| AuditError::Io {
                action: "use directory",
                path: d.to_path_buf(),
                source,
            })?;
            warnings.extend(warning);
        }
        let log = AuditLog {
            file: dir.join(LOG_FILE),
            lock: dir.join(LOCK_FILE),
            dir,
            read_only: false,
            warnings,
        };
        let _guard = log.lock()?;
        match fs::symlink_metadata(&log.file) {
            Ok(meta) if !meta.is_file() => {
                return Err(AuditError::Io {
                    action: "use",
                    path: log.file.clone(),
                    source: io::Error::other(format!(
                        "it is {}, not a regular file",
                        crate::safe_read::kind_of(&meta)
                    )),
                });
            }
            Ok(_) => {}
            Err(_) => log.migrate_first_format()?,
        }
        OpenOptions::new()
            .append(true)
            .create(true)
            .mode(FILE_MODE)
            .open(&log.file)
            .map_err(log.io("create", &log.file))?;
        sync_dir(&log.dir).map_err(log.io("sync directory", &log.dir))?;
        Ok(log)
    }

    /// The log of `data_dir` for reading only: creates, locks and converts
    /// nothing, so it works on a read-only data directory. Appending through
    /// it is refused.
    pub fn open_read_only(data_dir: &Path) -> AuditLog {
        let dir = data_dir.join(AUDIT_DIR);
        AuditLog {
            file: dir.join(LOG_FILE),
            lock: dir.join(LOCK_FILE),
            dir,
            read_only: true,
            warnings: Vec::new(),
        }
    }

    /// What opening found that the user should know (a directory other users
    /// can reach).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The log file, `audit/audit-log.jsonl`.
    pub fn path(&self) -> &Path {
        &self.file
    }

    fn io<'a>(
        &self,
        action: &'static str,
        path: &'a Path,
    ) -> impl FnOnce(io::Error) -> AuditError + 'a {
        move |source| AuditError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    fn writable(&self, what: &'static str) -> Result<(), AuditError> {
        if self.read_only {
            return Err(AuditError::ReadOnly {
                file: self.file.clone(),
                what,
            });
        }
        Ok(())
    }

    fn lock(&self) -> Result<Locked, AuditError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(&self.lock)
            .map_err(self.io("open lock file", &self.lock))?;
        file.lock().map_err(self.io("lock", &self.lock))?;
        Ok(Locked { file })
    }

    /// The log's text. A read-only log still in the first format is converted
    /// in memory.
    fn read_all(&self) -> Result<String, AuditError> {
        match crate::safe_read::read_bytes(&self.file, MAX_LOG_BYTES).map_err(|e| e.into_io()) {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let old = self.dir.join(OLD_LOG_FILE);
                if old.exists() {
                    Ok(self.convert_first_format(&old)?.0)
                } else {
                    Ok(String::new())
                }
            }
            Err(e) => Err(self.io("read", &self.file)(e)),
        }
    }

    fn corrupt(&self, line: usize, message: String) -> AuditError {
        AuditError::Corrupt {
            file: self.file.clone(),
            line,
            message,
        }
    }

    /// The seq and hash the next entry follows. Reads only the tail of the
    /// file. A last line that is not a complete entry is refused: nothing is
    /// appended after damage.
    fn tip(&self) -> Result<(u64, String), AuditError> {
        let mut file = match crate::safe_read::open_regular(&self.file).map_err(|e| e.into_io()) {
            Ok((f, _)) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok((0, ZERO_HASH.to_string()));
            }
            Err(e) => return Err(self.io("open", &self.file)(e)),
        };
        let len = file
            .metadata()
            .map_err(self.io("inspect", &self.file))?
            .len();
        if len == 0 {
            return Ok((0, ZERO_HASH.to_string()));
        }
        let mut window = TAIL_WINDOW;
        loop {
            let start = len.saturating_sub(window);
            file.seek(SeekFrom::Start(start))
                .map_err(self.io("read", &self.file))?;
            let mut bytes = Vec::new();
            Read::by_ref(&mut file)
                .take(len - start)
                .read_to_end(&mut bytes)
                .map_err(self.io("read", &self.file))?;
            let torn = || {
                self.corrupt(
                    0,
                    "the last line is not a complete entry (torn by a crash or a full disk); nothing is appended after damage: run `breachdesk audit repair`".into(),
                )
            };
            if bytes.last() != Some(&b'\n') {
                return Err(torn());
            }
            let body = &bytes[..bytes.len() - 1];
            match body.iter().rposition(|b| *b == b'\n') {
                Some(p) => {
                    let last = String::from_utf8_lossy(&body[p + 1..]);
                    return match parse_line(&last) {
                        Ok(Line::Entry(raw)) => Ok((raw.seq, raw.hash)),
                        Ok(Line::Marker(m)) => Ok((m.anchor_seq, m.anchor)),
                        Err(_) => Err(torn()),
                    };
                }
                None if start == 0 => {
                    let last = String::from_utf8_lossy(body);
                    return match parse_line(&last) {
                        Ok(Line::Entry(raw)) => Ok((raw.seq, raw.hash)),
                        Ok(Line::Marker(m)) => Ok((m.anchor_seq, m.anchor)),
                        Err(_) => Err(torn()),
                    };
                }
                None => window = window.saturating_mul(2),
            }
        }
    }

    fn raw_entry(seq: u64, prev: String, entry: &NewEntry) -> RawEntry {
        let mut raw = RawEntry {
            seq,
            at: format_at(entry.at),
            actor: entry.actor.clone(),
            incident: entry.incident.clone(),
            action: entry.action.clone(),
            detail: entry.detail.clone(),
            revision: entry.revision,
            record_sha256: entry.record_sha256.clone(),
            prev,
            hash: String::new(),
        };
        raw.hash = raw.compute_hash();
        raw
    }

    /// Appends one entry that changes no record.
    pub fn append(
        &self,
        at: DateTime<Utc>,
        actor: &str,
        incident: Option<&str>,
        action: &str,
        detail: &str,
    ) -> Result<AuditEntry, AuditError> {
        let mut entries =
            self.append_entries(&[NewEntry::note(at, actor, incident, action, detail)])?;
        entries
            .pop()
            .ok_or_else(|| self.corrupt(0, "no entry was appended".into()))
    }

    /// Appends entries in order, under the log's lock, as one write and one
    /// `fsync`. If that fails, the file is cut back to its old length (and
    /// synced), so the log is exactly as it was, and the error is returned.
    pub fn append_entries(&self, new: &[NewEntry]) -> Result<Vec<AuditEntry>, AuditError> {
        self.writable("appending an audit entry")?;
        let _guard = self.lock()?;
        match self.tip() {
            Ok(tip) => self.append_after(tip, new),
            Err(damaged) => {
                // A last line torn by a killed writer (its record was never
                // written: records are written only after their entry). Set
                // it aside, logged, and go on; other damage is refused.
                let at = new.first().map_or_else(Utc::now, |e| e.at);
                let Some((_, _, note)) = self.set_aside_torn_tail(at, "breachdesk")? else {
                    return Err(damaged);
                };
                let mut all = vec![note];
                all.extend_from_slice(new);
                let mut entries = self.append_locked(&all)?;
                entries.remove(0);
                Ok(entries)
            }
        }
    }

    /// [`AuditLog::append_entries`] with the lock already held.
    fn append_locked(&self, new: &[NewEntry]) -> Result<Vec<AuditEntry>, AuditError> {
        let tip = self.tip()?;
        self.append_after(tip, new)
    }

    /// Appends after the tip `(seq, hash)`, with the lock held.
    fn append_after(
        &self,
        (mut seq, mut prev): (u64, String),
        new: &[NewEntry],
    ) -> Result<Vec<AuditEntry>, AuditError> {
        let mut text = String::new();
        let mut raws = Vec::with_capacity(new.len());
        for entry in new {
            seq += 1;
            let raw = Self::raw_entry(seq, prev, entry);
            prev = raw.hash.clone();
            text.push_str(&raw.line());
            raws.push(raw);
        }
        durable::append_durably(&self.file, text.as_bytes())
            .map_err(self.io("append to", &self.file))?;
        tracing::debug!(entries = new.len(), last_seq = seq, "audit append");
        raws.into_iter()
            .map(|raw| raw.into_entry().map_err(|message| self.corrupt(0, message)))
            .collect()
    }

    /// The hash of the last entry (zeros for an empty log): what a notice
    /// sent now carries as `X-Breachdesk-Audit-Head`. Reads only the tail.
    pub fn head(&self) -> Result<String, AuditError> {
        if self.read_only && !self.file.exists() {
            return Ok(tip_of(&self.read_all()?).1);
        }
        Ok(self.tip()?.1)
    }

    /// Every entry, in file order. Fails on the first line that cannot be read.
    pub fn entries(&self) -> Result<Vec<AuditEntry>, AuditError> {
        self.entries_of(&self.read_all()?)
    }

    fn entries_of(&self, text: &str) -> Result<Vec<AuditEntry>, AuditError> {
        let mut out = Vec::new();
        for (index, line) in text.lines().enumerate() {
            match parse_line(line) {
                Ok(Line::Marker(_)) => {}
                Ok(Line::Entry(raw)) => out.push(
                    raw.into_entry()
                        .map_err(|message| self.corrupt(index + 1, message))?,
                ),
                Err(message) => return Err(self.corrupt(index + 1, message)),
            }
        }
        Ok(out)
    }

    /// The entries about one incident (exact id), in file order.
    pub fn entries_for(&self, incident: &str) -> Result<Vec<AuditEntry>, AuditError> {
        Ok(self
            .entries()?
            .into_iter()
            .filter(|e| e.incident.as_deref() == Some(incident))
            .collect())
    }

    /// Checks the whole chain. `Err` only for I/O; a broken chain is reported
    /// in [`VerifyReport::first_break`] (line and seq of the first problem).
    pub fn verify(&self) -> Result<VerifyReport, AuditError> {
        Ok(verify_text(&self.read_all()?))
    }

    /// [`AuditLog::verify`], and when the chain is intact its entries too,
    /// from one read of the file (for `audit verify`'s accounting).
    pub fn verify_with_entries(
        &self,
    ) -> Result<(VerifyReport, Option<Vec<AuditEntry>>), AuditError> {
        let text = self.read_all()?;
        let report = verify_text(&text);
        let entries = if report.is_ok() {
            Some(self.entries_of(&text)?)
        } else {
            None
        };
        Ok((report, entries))
    }
}
