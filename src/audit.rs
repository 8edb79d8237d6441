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

/// The shortest retention `audit prune` accepts, in days: never less than 6
/// calendar months (which can be 184 days), and prune checks the calendar too.
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
const TAIL_WINDOW: u64 = 64 * 1024;
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

/// What [`AuditLog::prune`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneReport {
    /// Entries removed by this prune.
    pub pruned: u64,
    /// Entries kept (not counting the entries this prune appended).
    pub kept: u64,
    /// Entries older than this were removed.
    pub cutoff: DateTime<Utc>,
    /// The hash the first kept entry's `prev` refers to, when anything was pruned.
    pub anchor: Option<String>,
    /// The "audit.pruned" entry appended, when anything was pruned.
    pub entry: Option<AuditEntry>,
    /// Record revisions carried forward as `record.checkpoint` entries.
    pub checkpoints: u64,
}

/// What [`AuditLog::repair`] did (all empty when there was nothing to do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairReport {
    pub removed_bytes: usize,
    pub saved_to: Option<PathBuf>,
    pub entry: Option<AuditEntry>,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    seq: u64,
    at: String,
    actor: String,
    #[serde(default)]
    incident: Option<String>,
    action: String,
    detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revision: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    record_sha256: Option<String>,
    prev: String,
    hash: String,
}

/// The fields the hash covers, in a fixed order. The optional fields are left
/// out when absent, so entries from the first format keep their hashes.
#[derive(Serialize)]
struct Hashed<'a> {
    seq: u64,
    at: &'a str,
    actor: &'a str,
    incident: Option<&'a str>,
    action: &'a str,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record_sha256: Option<&'a str>,
    prev: &'a str,
}

impl RawEntry {
    fn compute_hash(&self) -> String {
        let hashed = Hashed {
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            incident: self.incident.as_deref(),
            action: &self.action,
            detail: &self.detail,
            revision: self.revision,
            record_sha256: self.record_sha256.as_deref(),
            prev: &self.prev,
        };
        // Serialising plain strings and integers to JSON cannot fail.
        let json = serde_json::to_vec(&hashed).unwrap_or_default();
        hex::encode(Sha256::digest(&json))
    }

    fn into_entry(self) -> Result<AuditEntry, String> {
        let at = DateTime::parse_from_rfc3339(&self.at)
            .map_err(|e| format!("'at' is not an RFC 3339 time: {e}"))?
            .with_timezone(&Utc);
        Ok(AuditEntry {
            seq: self.seq,
            at,
            actor: self.actor,
            incident: self.incident,
            action: self.action,
            detail: self.detail,
            revision: self.revision,
            record_sha256: self.record_sha256,
            prev: self.prev,
            hash: self.hash,
        })
    }

    fn line(&self) -> String {
        // Plain strings and integers: serialising cannot fail.
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }
}

/// The prune marker, the first line of a pruned log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainMarker {
    /// The hash of the last pruned entry (what the first kept entry's `prev` is).
    anchor: String,
    /// The seq of the last pruned entry.
    anchor_seq: u64,
    /// How many entries have been pruned, in total.
    pruned: u64,
    /// Entries before this time were pruned (most recent prune).
    pruned_until: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkerLine {
    chain: ChainMarker,
}

/// One line of the log, parsed.
enum Line {
    Marker(ChainMarker),
    Entry(RawEntry),
}

fn parse_line(text: &str) -> Result<Line, String> {
    if text.starts_with("{\"chain\"") {
        return serde_json::from_str::<MarkerLine>(text)
            .map(|m| Line::Marker(m.chain))
            .map_err(|e| e.to_string());
    }
    serde_json::from_str::<RawEntry>(text)
        .map(Line::Entry)
        .map_err(|e| e.to_string())
}

fn format_at(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The detail of an `audit.pruned` entry; [`verify_text`] checks a marker
/// against it, so the wording is part of the format.
fn pruned_detail(count: u64, first: u64, marker: &ChainMarker) -> String {
    format!(
        "pruned {count} audit entries (seq {first} to {}) older than {}; chain anchor {}; {} pruned in all",
        marker.anchor_seq, marker.pruned_until, marker.anchor, marker.pruned
    )
}

/// Checks the chain in `text`; I/O free.
fn verify_text(text: &str) -> VerifyReport {
    let mut report = VerifyReport {
        entries: 0,
        pruned: 0,
        last_hash: ZERO_HASH.to_string(),
        first_break: None,
    };
    let mut expected_seq = 1;
    let mut marker: Option<ChainMarker> = None;
    let mut last_pruned_entry: Option<(usize, RawEntry)> = None;
    if !text.is_empty() && !text.ends_with('\n') {
        // The last line is incomplete: a torn append (or an edit).
        let cut = text.rfind('\n').map_or(0, |p| p + 1);
        let checked = verify_text(&text[..cut]);
        if checked.first_break.is_some() {
            return checked;
        }
        let expected = tip_of(&text[..cut]).0 + 1;
        return VerifyReport {
            first_break: Some(ChainBreak {
                line: text[..cut].lines().count() + 1,
                seq: None,
                kind: BreakKind::Unparseable,
                message: format!(
                    "the last line (expected to be seq {expected}) is not a complete entry: a crash or full disk tore it; `breachdesk audit repair` sets it aside"
                ),
            }),
            ..checked
        };
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() {
        return report;
    }
    for (index, line_text) in body.split('\n').enumerate() {
        let line = index + 1;
        let broken = |seq, kind, message| ChainBreak {
            line,
            seq,
            kind,
            message,
        };
        let raw = match parse_line(line_text) {
            Ok(Line::Marker(m)) if index == 0 => {
                report.pruned = m.pruned;
                report.last_hash = m.anchor.clone();
                expected_seq = m.anchor_seq + 1;
                marker = Some(m);
                continue;
            }
            Ok(Line::Marker(_)) => {
                report.first_break = Some(broken(
                    None,
                    BreakKind::ForgedPrune,
                    "a prune marker may only be the first line".into(),
                ));
                return report;
            }
            Ok(Line::Entry(raw)) => raw,
            Err(message) => {
                report.first_break = Some(broken(
                    None,
                    BreakKind::Unparseable,
                    format!(
                        "entry expected to be seq {expected_seq} is torn or unreadable: {message}"
                    ),
                ));
                return report;
            }
        };
        let seq = Some(raw.seq);
        if raw.compute_hash() != raw.hash {
            report.first_break = Some(broken(
                seq,
                BreakKind::HashMismatch,
                "the entry does not match its hash: it was edited".to_string(),
            ));
            return report;
        }
        if raw.seq != expected_seq {
            let message = if raw.seq > expected_seq {
                format!(
                    "expected seq {expected_seq}, found {}: entries were deleted or reordered",
                    raw.seq
                )
            } else {
                format!(
                    "expected seq {expected_seq}, found {}: entries were reordered or inserted",
                    raw.seq
                )
            };
            report.first_break = Some(broken(seq, BreakKind::OutOfSequence, message));
            return report;
        }
        if raw.prev != report.last_hash {
            report.first_break = Some(broken(
                seq,
                BreakKind::PrevMismatch,
                "'prev' is not the previous entry's hash: entries were removed, reordered or replaced"
                    .to_string(),
            ));
            return report;
        }
        if let Err(message) = raw.clone().into_entry() {
            report.first_break = Some(broken(seq, BreakKind::Unparseable, message));
            return report;
        }
        if raw.action == "audit.pruned" {
            last_pruned_entry = Some((line, raw.clone()));
        }
        report.last_hash = raw.hash;
        report.entries += 1;
        expected_seq += 1;
    }
    if let Some(m) = marker
        && let Some(problem) = check_marker(&m, last_pruned_entry.as_ref())
    {
        report.first_break = Some(ChainBreak {
            line: 1,
            seq: None,
            kind: BreakKind::ForgedPrune,
            message: problem,
        });
    }
    report
}

/// Whether the prune marker is backed by the last `audit.pruned` entry and
/// pruned nothing younger than the retention period.
fn check_marker(marker: &ChainMarker, pruned: Option<&(usize, RawEntry)>) -> Option<String> {
    let Some((_, entry)) = pruned else {
        return Some(
            "the prune marker is not backed by any audit.pruned entry: entries were removed from the start of the log".into(),
        );
    };
    let tail = format!(
        "to {}) older than {}; chain anchor {}; {} pruned in all",
        marker.anchor_seq, marker.pruned_until, marker.anchor, marker.pruned
    );
    if !entry.detail.ends_with(&tail) {
        return Some(format!(
            "the prune marker (anchor seq {}, until {}) does not match the last audit.pruned entry (seq {}): entries were removed from the start of the log",
            marker.anchor_seq, marker.pruned_until, entry.seq
        ));
    }
    let (Ok(until), Ok(at)) = (
        DateTime::parse_from_rfc3339(&marker.pruned_until),
        DateTime::parse_from_rfc3339(&entry.at),
    ) else {
        return Some("the prune marker's times cannot be read".into());
    };
    let limit = at
        .with_timezone(&Utc)
        .checked_sub_months(Months::new(MIN_RETENTION_MONTHS));
    if limit.is_none_or(|limit| until.with_timezone(&Utc) > limit) {
        return Some(format!(
            "the prune marker claims entries up to {} were pruned on {}: that is inside the {MIN_RETENTION_MONTHS}-month retention period",
            marker.pruned_until, entry.at
        ));
    }
    None
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

    /// The first-format file as JSON Lines, and any torn tail bytes it had.
    fn convert_first_format(&self, old: &Path) -> Result<(String, Vec<u8>), AuditError> {
        let bytes = fs::read(old).map_err(self.io("read", old))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        #[derive(Deserialize)]
        struct Old {
            chain: Option<ChainMarker>,
            #[serde(default)]
            entry: Vec<RawEntry>,
        }
        let whole = toml::from_str::<Old>(&text);
        let (old, torn) = match whole {
            Ok(old) => (old, Vec::new()),
            Err(_) => {
                // A torn last block: keep every block before it.
                let cut = text.rfind("\n[[entry]]\n").map_or(0, |p| p + 1);
                let head = &text[..cut];
                let old = toml::from_str::<Old>(head).map_err(|e| {
                    let line = e
                        .span()
                        .map_or(1, |s| crate::text::line_col(head, s.start).0);
                    AuditError::Corrupt {
                        file: old.to_path_buf(),
                        line,
                        message: format!(
                            "the first-format audit log is damaged before its last entry ({}); it is left as it is",
                            crate::text::one_line(e.message())
                        ),
                    }
                })?;
                (old, bytes[cut.min(bytes.len())..].to_vec())
            }
        };
        let mut out = String::new();
        if let Some(chain) = old.chain {
            out.push_str(&serde_json::to_string(&MarkerLine { chain }).unwrap_or_default());
            out.push('\n');
        }
        for entry in &old.entry {
            out.push_str(&entry.line());
        }
        Ok((out, torn))
    }

    /// Converts `audit-log.toml` to JSON Lines (under the lock), keeping the
    /// old file as `audit-log.toml.migrated` and any torn tail in
    /// `torn-*.bin`, and logs an `audit.migrated` entry.
    fn migrate_first_format(&self) -> Result<(), AuditError> {
        let old = self.dir.join(OLD_LOG_FILE);
        if !old.exists() {
            return Ok(());
        }
        let (mut text, torn) = self.convert_first_format(&old)?;
        let report = verify_text(&text);
        let mut detail = format!(
            "converted {} to JSON Lines ({} entries; hashes unchanged); the old file is kept as {OLD_LOG_FILE}.migrated",
            old.display(),
            report.entries
        );
        if !torn.is_empty() {
            let saved = self.set_aside(&torn, Utc::now())?;
            detail.push_str(&format!(
                "; a torn last entry ({} bytes, sha256 {}) was set aside in {}",
                torn.len(),
                hex::encode(Sha256::digest(&torn)),
                saved.display()
            ));
        }
        if report.is_ok() {
            let (seq, prev) = tip_of(&text);
            let raw = Self::raw_entry(
                seq + 1,
                prev,
                &NewEntry::note(Utc::now(), "breachdesk", None, "audit.migrated", &detail),
            );
            text.push_str(&raw.line());
        }
        replace_file(&self.dir, LOG_FILE, text.as_bytes())
            .map_err(self.io("replace", &self.file))?;
        fs::rename(&old, self.dir.join(format!("{OLD_LOG_FILE}.migrated")))
            .map_err(self.io("rename", &old))?;
        sync_dir(&self.dir).map_err(self.io("sync directory", &self.dir))
    }

    fn set_aside(&self, bytes: &[u8], now: DateTime<Utc>) -> Result<PathBuf, AuditError> {
        let saved = self.dir.join(format!(
            "torn-{}-{}.bin",
            now.format("%Y%m%dT%H%M%SZ"),
            crate::durable::random_hex(3)
        ));
        crate::durable::create_private_file(&saved, bytes).map_err(self.io("create", &saved))?;
        sync_dir(&self.dir).map_err(self.io("sync directory", &self.dir))?;
        Ok(saved)
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
                    "the last line is not a complete entry (a crash or full disk tore it); nothing is appended after damage: run `breachdesk audit repair`".into(),
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

    /// Removes temp files of a prune that was killed. Only call under the lock
    /// (temp files are only created under it). Best effort.
    fn remove_stray_temps(&self) {
        let prefix = format!(".{LOG_FILE}.tmp-");
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
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
        let (mut seq, mut prev) = self.tip()?;
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
        let text = self.read_all()?;
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

    /// Sets aside a torn last line: what a crash or a full disk in the middle
    /// of an append leaves. Only bytes after the last newline that do not
    /// parse as a complete entry are removed; they are kept in
    /// `audit/torn-*.bin` (never deleted), and an `audit.repaired` entry
    /// records how many, their SHA-256 and where they went. A complete entry
    /// that fails its hash is tamper evidence: it is kept and reported, never
    /// removed, as is any damage before the last line.
    pub fn repair(&self, now: DateTime<Utc>, actor: &str) -> Result<RepairReport, AuditError> {
        self.writable("repairing the audit log")?;
        let guard = self.lock()?;
        let bytes = match crate::safe_read::read_bytes(&self.file, MAX_LOG_BYTES)
            .map_err(|e| e.into_io())
        {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(self.io("read", &self.file)(e)),
        };
        let cut = if bytes.is_empty() || bytes.ends_with(b"\n") {
            bytes.len()
        } else {
            bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1)
        };
        let (head, tail) = bytes.split_at(cut);
        let head_text = String::from_utf8_lossy(head);
        let check = verify_text(&head_text);
        if let Some(broken) = check.first_break {
            return Err(self.corrupt(
                broken.line,
                format!(
                    "{}: that is not a torn write, so it is kept as it is (tamper evidence or a failing disk; compare with a backup)",
                    broken.message
                ),
            ));
        }
        if tail.is_empty() {
            return Ok(RepairReport::default());
        }
        if let Ok(Line::Entry(raw)) = parse_line(&String::from_utf8_lossy(tail)) {
            // A whole entry that only lacks its newline: complete it.
            if raw.compute_hash() == raw.hash {
                durable::append_durably(&self.file, b"\n")
                    .map_err(self.io("append to", &self.file))?;
                return Ok(RepairReport::default());
            }
            return Err(self.corrupt(
                head_text.lines().count() + 1,
                "the last entry is complete but does not match its hash: that is tamper evidence, so it is kept as it is".into(),
            ));
        }
        let sha = hex::encode(Sha256::digest(tail));
        let saved = self.set_aside(tail, now)?;
        durable::truncate_durably(&self.file, cut as u64)
            .map_err(self.io("truncate", &self.file))?;
        drop(guard);
        let entry = self.append(
            now,
            actor,
            None,
            "audit.repaired",
            &format!(
                "set aside {} torn bytes after the last whole entry (sha256 {sha}), kept in {}",
                tail.len(),
                saved.display()
            ),
        )?;
        Ok(RepairReport {
            removed_bytes: tail.len(),
            saved_to: Some(saved),
            entry: Some(entry),
        })
    }

    /// Removes the entries at the start of the log that are older than
    /// `retention_days` before `now` (refusing less than 6 calendar months,
    /// or a log that does not verify), atomically. It writes the prune
    /// marker, an `audit.pruned` entry stating it, and a `record.checkpoint`
    /// entry carrying forward the last pruned revision of each incident that
    /// has no later revision in the kept entries. Nothing old enough: nothing
    /// changes.
    pub fn prune(
        &self,
        now: DateTime<Utc>,
        retention_days: u32,
        actor: &str,
    ) -> Result<PruneReport, AuditError> {
        self.writable("pruning the audit log")?;
        let cutoff = now - chrono::Duration::days(i64::from(retention_days));
        let limit = now.checked_sub_months(Months::new(MIN_RETENTION_MONTHS));
        if retention_days < MIN_RETENTION_DAYS || limit.is_none_or(|limit| cutoff > limit) {
            return Err(AuditError::RetentionTooShort {
                days: retention_days,
                min: MIN_RETENTION_DAYS,
            });
        }
        let _guard = self.lock()?;
        self.remove_stray_temps();
        let text = self.read_all()?;
        let check = verify_text(&text);
        if let Some(broken) = check.first_break {
            return Err(AuditError::ChainBroken {
                file: self.file.clone(),
                broken,
            });
        }
        let mut old_marker = None;
        let mut raws = Vec::new();
        for (index, line) in text.lines().enumerate() {
            match parse_line(line).map_err(|m| self.corrupt(index + 1, m))? {
                Line::Marker(m) => old_marker = Some(m),
                Line::Entry(raw) => raws.push(raw),
            }
        }
        let entries: Vec<AuditEntry> = raws
            .iter()
            .map(|r| r.clone().into_entry().map_err(|m| self.corrupt(0, m)))
            .collect::<Result<_, _>>()?;
        let count = entries.iter().take_while(|e| e.at < cutoff).count();
        if count == 0 {
            return Ok(PruneReport {
                pruned: 0,
                kept: entries.len() as u64,
                cutoff,
                anchor: None,
                entry: None,
                checkpoints: 0,
            });
        }
        let last_pruned = &entries[count - 1];
        let first_pruned = &entries[0];
        let marker = ChainMarker {
            anchor: last_pruned.hash.clone(),
            anchor_seq: last_pruned.seq,
            pruned: old_marker.map_or(0, |c| c.pruned) + count as u64,
            pruned_until: format_at(cutoff),
        };
        let mut content = serde_json::to_string(&MarkerLine {
            chain: marker.clone(),
        })
        .unwrap_or_default();
        content.push('\n');
        for raw in &raws[count..] {
            content.push_str(&raw.line());
        }
        let (mut seq, mut prev) = entries
            .last()
            .map(|e| (e.seq, e.hash.clone()))
            .unwrap_or((0, ZERO_HASH.to_string()));
        let mut push = |entry: &NewEntry, content: &mut String| {
            seq += 1;
            let raw = Self::raw_entry(seq, prev.clone(), entry);
            prev = raw.hash.clone();
            content.push_str(&raw.line());
            raw
        };
        let detail = pruned_detail(count as u64, first_pruned.seq, &marker);
        let pruned_raw = push(
            &NewEntry::note(now, actor, None, "audit.pruned", &detail),
            &mut content,
        );
        // Carry forward each incident's last logged revision that is pruned.
        let mut carried: BTreeMap<&str, &AuditEntry> = BTreeMap::new();
        for e in &entries[..count] {
            if let (Some(id), Some(_)) = (e.incident.as_deref(), e.revision) {
                carried.insert(id, e);
            }
        }
        for e in &entries[count..] {
            if let (Some(id), Some(_)) = (e.incident.as_deref(), e.revision) {
                carried.remove(id);
            }
        }
        let checkpoints = carried.len() as u64;
        for (id, e) in carried {
            let mut entry = NewEntry::note(
                now,
                actor,
                Some(id),
                "record.checkpoint",
                &format!(
                    "revision {} was logged at seq {} on {} (pruned); carried forward",
                    e.revision.unwrap_or_default(),
                    e.seq,
                    format_at(e.at)
                ),
            );
            entry.revision = e.revision;
            entry.record_sha256 = e.record_sha256.clone();
            push(&entry, &mut content);
        }
        replace_file(&self.dir, LOG_FILE, content.as_bytes())
            .map_err(self.io("replace", &self.file))?;
        Ok(PruneReport {
            pruned: count as u64,
            kept: (entries.len() - count) as u64,
            cutoff,
            anchor: Some(marker.anchor),
            entry: Some(
                pruned_raw
                    .into_entry()
                    .map_err(|message| self.corrupt(0, message))?,
            ),
            checkpoints,
        })
    }
}

/// The seq and hash after the last line of `text` (JSON Lines), for a text
/// already verified.
fn tip_of(text: &str) -> (u64, String) {
    match text.lines().last().map(parse_line) {
        Some(Ok(Line::Entry(raw))) => (raw.seq, raw.hash),
        Some(Ok(Line::Marker(m))) => (m.anchor_seq, m.anchor),
        _ => (0, ZERO_HASH.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, prev: &str, detail: &str) -> RawEntry {
        AuditLog::raw_entry(
            seq,
            prev.to_string(),
            &NewEntry::note(
                DateTime::parse_from_rfc3339("2026-11-28T14:32:00Z")
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_default(),
                "a",
                None,
                "x",
                detail,
            ),
        )
    }

    #[test]
    fn a_line_round_trips_and_newlines_in_text_stay_inside_one_line() {
        let raw = entry(1, ZERO_HASH, "line one\n{\"chain\":1}\nend");
        let line = raw.line();
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        let Ok(Line::Entry(back)) = parse_line(line.trim_end()) else {
            panic!("did not parse: {line}");
        };
        assert_eq!(back.detail, raw.detail);
        assert_eq!(back.compute_hash(), raw.hash);
        assert!(verify_text(&line).is_ok());
    }

    #[test]
    fn the_hash_of_a_first_format_entry_is_unchanged() {
        // Entries without revision fields hash exactly as the first format did:
        // the JSON of seq, at, actor, incident, action, detail, prev.
        let raw = entry(1, ZERO_HASH, "d");
        let json = format!(
            "{{\"seq\":1,\"at\":\"2026-11-28T14:32:00Z\",\"actor\":\"a\",\"incident\":null,\"action\":\"x\",\"detail\":\"d\",\"prev\":\"{ZERO_HASH}\"}}"
        );
        assert_eq!(raw.hash, hex::encode(Sha256::digest(json.as_bytes())));
    }
}
