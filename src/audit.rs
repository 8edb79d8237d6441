//! The append-only, tamper-evident audit log (Annex 1 paragraphs 7.1 and 8.3).
//!
//! One file, `audit/audit-log.toml` (directory 0700, file 0600), made of
//! appended `[[entry]]` blocks, so the whole file is valid TOML:
//!
//! ```toml
//! [[entry]]
//! seq = 1
//! at = "2026-11-28T14:32:00Z"
//! actor = "alice"
//! incident = "INC-20261128-1432-7f3a9c"
//! action = "incident.created"
//! detail = "Incident opened"
//! prev = "0000…0000"
//! hash = "…"
//! ```
//!
//! `hash` is the hex SHA-256 of the JSON encoding of the other fields (in the
//! order above, `incident` as `null` when absent, `at` exactly as stored);
//! `prev` is the previous entry's `hash` (64 zeros for the first). Appends
//! happen under an exclusive `flock` on `audit/audit.lock`, as a single
//! `write_all` followed by `sync_all`; existing bytes are never rewritten.
//!
//! The only rewrite is [`AuditLog::prune`], which drops entries older than the
//! retention period (at least [`MIN_RETENTION_DAYS`]) and starts the file with
//! a `[chain]` table whose `anchor` is the hash the first kept entry's `prev`
//! refers to, so [`AuditLog::verify`] still checks the rest of the chain.
//!
//! Limits: the chain is not keyed, so someone who can write the file can
//! rewrite it wholesale (or drop entries from the end) and recompute every
//! hash; keep copies of [`VerifyReport::last_hash`] elsewhere to detect that.

use crate::durable::{FILE_MODE, ensure_private_dir, replace_file, sync_dir};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Annex 1 paragraph 8.3: audit records are kept for at least 6 months.
pub const MIN_RETENTION_DAYS: u32 = 183;

const AUDIT_DIR: &str = "audit";
const LOG_FILE: &str = "audit-log.toml";
const LOCK_FILE: &str = "audit.lock";
const HEADER: &str = "[[entry]]";
const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const TAIL_WINDOW: u64 = 64 * 1024;

/// Why an audit-log operation failed. One line, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}:{line}: {message}", file.display())]
    Corrupt {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "refusing to keep audit records for only {days} days: Annex 1 paragraph 8.3 requires at least {min} (6 months)"
    )]
    RetentionTooShort { days: u32, min: u32 },
    #[error("refusing to prune {}: the chain does not verify ({broken}); pruning would hide that", file.display())]
    ChainBroken { file: PathBuf, broken: ChainBreak },
    #[error("cannot write an audit entry to {}: {message}", file.display())]
    Serialize { file: PathBuf, message: String },
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
    pub prev: String,
    pub hash: String,
}

/// What [`AuditLog::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked and found good (all of them when `first_break` is `None`).
    pub entries: u64,
    /// Entries removed by pruning so far (from the `[chain]` table).
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
    /// A block (or the `[chain]` table) is not valid TOML or not an entry: torn or edited.
    Unparseable,
    /// The entry's content does not match its hash: edited.
    HashMismatch,
    /// The `seq` is not the next number: an entry was deleted, reordered or inserted.
    OutOfSequence,
    /// `prev` is not the previous entry's hash.
    PrevMismatch,
}

/// The first place the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// 1-based line of the block's `[[entry]]` header (1 for the `[chain]` table).
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
    /// Entries kept (not counting the new "audit.pruned" entry).
    pub kept: u64,
    /// Entries older than this were removed.
    pub cutoff: DateTime<Utc>,
    /// The hash the first kept entry's `prev` refers to, when anything was pruned.
    pub anchor: Option<String>,
    /// The "audit.pruned" entry appended, when anything was pruned.
    pub entry: Option<AuditEntry>,
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
    warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    seq: u64,
    at: String,
    actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    incident: Option<String>,
    action: String,
    detail: String,
    prev: String,
    hash: String,
}

/// The fields the hash covers, in a fixed order.
#[derive(Serialize)]
struct Hashed<'a> {
    seq: u64,
    at: &'a str,
    actor: &'a str,
    incident: Option<&'a str>,
    action: &'a str,
    detail: &'a str,
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
            prev: self.prev,
            hash: self.hash,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OneEntry {
    entry: Vec<RawEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainTable {
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
struct Preamble {
    chain: Option<ChainTable>,
}

/// A `[[entry]]` block's position in the file.
struct Block {
    start: usize,
    end: usize,
    line: usize,
}

/// The file split into the part before the first `[[entry]]` and the blocks.
struct Split {
    preamble_end: usize,
    blocks: Vec<Block>,
}

/// Where a multi-line string starting at `s` (after its opening delimiter)
/// closes: the index just past the closing delimiter, or `None`.
fn ml_close(s: &str, basic: bool) -> Option<usize> {
    let bytes = s.as_bytes();
    let quote = if basic { b'"' } else { b'\'' };
    let mut i = 0;
    while i < bytes.len() {
        if basic && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote
            && bytes.len() >= i + 3
            && bytes[i + 1] == quote
            && bytes[i + 2] == quote
        {
            // Up to two more quotes belong to the content.
            let mut j = i + 3;
            while j < bytes.len() && j < i + 5 && bytes[j] == quote {
                j += 1;
            }
            return Some(j);
        }
        i += 1;
    }
    None
}

/// Splits the log into blocks at `[[entry]]` lines that are not inside a
/// multi-line string (text fields may contain such a line).
fn split(text: &str) -> Split {
    #[derive(PartialEq)]
    enum State {
        Outside,
        InBasic,
        InLiteral,
    }
    let mut state = State::Outside;
    let mut headers: Vec<(usize, usize)> = Vec::new();
    let mut offset = 0;
    for (n, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches('\n').trim_end_matches('\r');
        match state {
            State::Outside => {
                if line == HEADER {
                    headers.push((offset, n + 1));
                } else if let Some(eq) = line.find('=') {
                    let value = line[eq + 1..].trim_start();
                    if let Some(rest) = value.strip_prefix("\"\"\"") {
                        if ml_close(rest, true).is_none() {
                            state = State::InBasic;
                        }
                    } else if let Some(rest) = value.strip_prefix("'''")
                        && ml_close(rest, false).is_none()
                    {
                        state = State::InLiteral;
                    }
                }
            }
            State::InBasic => {
                if ml_close(line, true).is_some() {
                    state = State::Outside;
                }
            }
            State::InLiteral => {
                if ml_close(line, false).is_some() {
                    state = State::Outside;
                }
            }
        }
        offset += raw.len();
    }
    let preamble_end = headers.first().map(|h| h.0).unwrap_or(text.len());
    let mut blocks = Vec::with_capacity(headers.len());
    for (i, &(start, line)) in headers.iter().enumerate() {
        let end = headers.get(i + 1).map(|h| h.0).unwrap_or(text.len());
        blocks.push(Block { start, end, line });
    }
    Split {
        preamble_end,
        blocks,
    }
}

fn parse_block(text: &str) -> Result<RawEntry, String> {
    let doc: OneEntry = toml::from_str(text).map_err(|e| e.message().trim().replace('\n', " "))?;
    let mut entries = doc.entry;
    if entries.len() != 1 {
        return Err(format!("expected one entry, found {}", entries.len()));
    }
    entries.pop().ok_or_else(|| "no entry".to_string())
}

fn parse_preamble(text: &str) -> Result<Option<ChainTable>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let pre: Preamble = toml::from_str(text).map_err(|e| e.message().trim().replace('\n', " "))?;
    Ok(pre.chain)
}

fn format_at(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Checks the chain in `text`; I/O free.
fn verify_text(text: &str) -> VerifyReport {
    let split = split(text);
    let mut report = VerifyReport {
        entries: 0,
        pruned: 0,
        last_hash: ZERO_HASH.to_string(),
        first_break: None,
    };
    let mut expected_seq = 1;
    match parse_preamble(&text[..split.preamble_end]) {
        Ok(Some(chain)) => {
            report.pruned = chain.pruned;
            report.last_hash = chain.anchor;
            expected_seq = chain.anchor_seq + 1;
        }
        Ok(None) => {}
        Err(message) => {
            report.first_break = Some(ChainBreak {
                line: 1,
                seq: None,
                kind: BreakKind::Unparseable,
                message: format!("the [chain] table cannot be read: {message}"),
            });
            return report;
        }
    }
    for block in &split.blocks {
        let broken = |seq, kind, message| ChainBreak {
            line: block.line,
            seq,
            kind,
            message,
        };
        let raw = match parse_block(&text[block.start..block.end]) {
            Ok(raw) => raw,
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
        report.last_hash = raw.hash;
        report.entries += 1;
        expected_seq += 1;
    }
    report
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
    /// Opens (creating as needed) `audit/` (0700) with `audit-log.toml` and
    /// `audit.lock` (0600) under `data_dir`. Tightens a data or audit
    /// directory that other users can read (see [`AuditLog::warnings`]).
    pub fn open(data_dir: &Path) -> Result<AuditLog, AuditError> {
        let dir = data_dir.join(AUDIT_DIR);
        let mut warnings = Vec::new();
        for d in [data_dir, dir.as_path()] {
            if let Some(w) = ensure_private_dir(d).map_err(|source| AuditError::Io {
                action: "create directory",
                path: d.to_path_buf(),
                source,
            })? {
                warnings.push(w);
            }
        }
        let log = AuditLog {
            file: dir.join(LOG_FILE),
            lock: dir.join(LOCK_FILE),
            dir,
            warnings,
        };
        for path in [&log.file, &log.lock] {
            OpenOptions::new()
                .append(true)
                .create(true)
                .mode(FILE_MODE)
                .open(path)
                .map_err(|source| AuditError::Io {
                    action: "create",
                    path: path.clone(),
                    source,
                })?;
        }
        sync_dir(&log.dir).map_err(log.io("sync directory", &log.dir))?;
        Ok(log)
    }

    /// Things [`AuditLog::open`] fixed that the user should know about.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The log file, `audit/audit-log.toml`.
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

    fn read_all(&self) -> Result<String, AuditError> {
        match fs::read_to_string(&self.file) {
            Ok(text) => Ok(text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
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

    /// The seq and hash the next entry follows, and whether the file ends in a
    /// newline. Reads only the tail when the last block is unambiguous.
    fn tip(&self) -> Result<(u64, String, bool), AuditError> {
        let mut file = match File::open(&self.file) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok((0, ZERO_HASH.to_string(), true));
            }
            Err(e) => return Err(self.io("open", &self.file)(e)),
        };
        let len = file
            .metadata()
            .map_err(self.io("inspect", &self.file))?
            .len();
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
            let ends_nl = bytes.last().is_none_or(|b| *b == b'\n');
            // Start at a line boundary so the slice is whole lines of UTF-8.
            let from = if start == 0 {
                0
            } else {
                match bytes.iter().position(|b| *b == b'\n') {
                    Some(p) => p + 1,
                    None => bytes.len(),
                }
            };
            let tail = String::from_utf8_lossy(&bytes[from..]);
            let candidate = tail
                .rmatch_indices(HEADER)
                .find(|(i, _)| {
                    (*i == 0 || tail.as_bytes()[i - 1] == b'\n')
                        && matches!(tail.as_bytes().get(i + HEADER.len()), Some(b'\n') | None)
                })
                .map(|(i, _)| i);
            if let Some(p) = candidate {
                let block = &tail[p..];
                // With no multi-line string after it, this header cannot sit
                // inside one, so it is the real last block.
                if !block.contains("\"\"\"")
                    && !block.contains("'''")
                    && let Ok(raw) = parse_block(block)
                {
                    return Ok((raw.seq, raw.hash, ends_nl));
                }
                break;
            }
            if start == 0 {
                break;
            }
            window = window.saturating_mul(2);
        }
        // Ambiguous or damaged tail: read the whole file properly.
        let text = self.read_all()?;
        let ends_nl = text.is_empty() || text.ends_with('\n');
        let split = split(&text);
        match split.blocks.last() {
            Some(block) => {
                let raw = parse_block(&text[block.start..block.end]).map_err(|message| {
                    self.corrupt(
                        block.line,
                        format!("the last entry is torn or unreadable ({message}); the log cannot be extended until it is repaired"),
                    )
                })?;
                Ok((raw.seq, raw.hash, ends_nl))
            }
            None => match parse_preamble(&text[..split.preamble_end]) {
                Ok(Some(chain)) => Ok((chain.anchor_seq, chain.anchor, ends_nl)),
                Ok(None) => Ok((0, ZERO_HASH.to_string(), ends_nl)),
                Err(message) => {
                    Err(self.corrupt(1, format!("the [chain] table cannot be read: {message}")))
                }
            },
        }
    }

    fn block_text(&self, raw: &RawEntry) -> Result<String, AuditError> {
        let text = toml::to_string(&OneEntry {
            entry: vec![raw.clone()],
        })
        .map_err(|e| AuditError::Serialize {
            file: self.file.clone(),
            message: e.to_string(),
        })?;
        Ok(format!("{text}\n"))
    }

    fn new_entry(
        seq: u64,
        prev: String,
        at: DateTime<Utc>,
        actor: &str,
        incident: Option<&str>,
        action: &str,
        detail: &str,
    ) -> RawEntry {
        let mut raw = RawEntry {
            seq,
            at: format_at(at),
            actor: actor.to_string(),
            incident: incident.map(str::to_string),
            action: action.to_string(),
            detail: detail.to_string(),
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

    /// Appends one entry (under the log's lock, one `write_all`, `sync_all`).
    pub fn append(
        &self,
        at: DateTime<Utc>,
        actor: &str,
        incident: Option<&str>,
        action: &str,
        detail: &str,
    ) -> Result<AuditEntry, AuditError> {
        let _guard = self.lock()?;
        let (last_seq, last_hash, ends_nl) = self.tip()?;
        let raw = Self::new_entry(last_seq + 1, last_hash, at, actor, incident, action, detail);
        let mut text = self.block_text(&raw)?;
        if !ends_nl {
            text.insert(0, '\n');
        }
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(FILE_MODE)
            .open(&self.file)
            .map_err(self.io("open", &self.file))?;
        file.write_all(text.as_bytes())
            .map_err(self.io("append to", &self.file))?;
        file.sync_all().map_err(self.io("sync", &self.file))?;
        raw.into_entry().map_err(|message| self.corrupt(0, message))
    }

    /// Every entry, in file order. Fails on the first block that cannot be read.
    pub fn entries(&self) -> Result<Vec<AuditEntry>, AuditError> {
        let text = self.read_all()?;
        let split = split(&text);
        if let Err(message) = parse_preamble(&text[..split.preamble_end]) {
            return Err(self.corrupt(1, format!("the [chain] table cannot be read: {message}")));
        }
        split
            .blocks
            .iter()
            .map(|block| {
                parse_block(&text[block.start..block.end])
                    .and_then(RawEntry::into_entry)
                    .map_err(|message| self.corrupt(block.line, message))
            })
            .collect()
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

    /// Sets aside a torn last entry: what a crash in the middle of an append
    /// leaves, and what otherwise stops every later append. Only a damaged
    /// TAIL is repaired: the log is cut back to the longest prefix whose
    /// chain verifies, and only if that cuts at the last entry's header or at
    /// the last line. The bytes removed are kept in `audit/torn-*.bin`
    /// (never deleted), and an "audit.repaired" entry records how many, their
    /// SHA-256 and where they went. Damage anywhere else is refused: that is
    /// tampering or a failing disk, not a torn write.
    pub fn repair(&self, now: DateTime<Utc>, actor: &str) -> Result<RepairReport, AuditError> {
        let guard = self.lock()?;
        let bytes = match fs::read(&self.file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(self.io("read", &self.file)(e)),
        };
        if let Ok(text) = std::str::from_utf8(&bytes)
            && verify_text(text).first_break.is_none()
        {
            return Ok(RepairReport::default());
        }
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(
                bytes
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .filter(|p| *p < bytes.len())
            .collect();
        let last_line = line_starts.last().copied().unwrap_or(0);
        let header_line = format!("{HEADER}\n");
        let last_header = line_starts
            .iter()
            .rev()
            .find(|p| bytes[**p..].starts_with(header_line.as_bytes()))
            .copied();
        let mut candidates: Vec<usize> = [Some(last_line), last_header]
            .into_iter()
            .flatten()
            .collect();
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        candidates.dedup();
        let cut = candidates.into_iter().find(|p| {
            std::str::from_utf8(&bytes[..*p])
                .is_ok_and(|prefix| verify_text(prefix).first_break.is_none())
        });
        let Some(cut) = cut else {
            let line = std::str::from_utf8(&bytes)
                .ok()
                .and_then(|t| verify_text(t).first_break)
                .map(|b| b.line)
                .unwrap_or(0);
            return Err(self.corrupt(
                line,
                "the audit log is damaged before its last entry; that is not a torn write, so it is left as it is (compare it with a backup)".into(),
            ));
        };
        let torn = &bytes[cut..];
        let sha = hex::encode(Sha256::digest(torn));
        let saved = self.dir.join(format!(
            "torn-{}-{}.bin",
            now.format("%Y%m%dT%H%M%SZ"),
            crate::durable::random_hex(3)
        ));
        crate::durable::create_private_file(&saved, torn).map_err(self.io("create", &saved))?;
        sync_dir(&self.dir).map_err(self.io("sync directory", &self.dir))?;
        let file = OpenOptions::new()
            .write(true)
            .open(&self.file)
            .map_err(self.io("open", &self.file))?;
        file.set_len(cut as u64)
            .map_err(self.io("truncate", &self.file))?;
        file.sync_all().map_err(self.io("sync", &self.file))?;
        drop(guard);
        let entry = self.append(
            now,
            actor,
            None,
            "audit.repaired",
            &format!(
                "set aside {} torn bytes after the last whole entry (sha256 {sha}), kept in {}",
                torn.len(),
                saved.display()
            ),
        )?;
        Ok(RepairReport {
            removed_bytes: torn.len(),
            saved_to: Some(saved),
            entry: Some(entry),
        })
    }

    /// Removes the entries at the start of the log that are older than
    /// `retention_days` before `now` (refusing fewer than
    /// [`MIN_RETENTION_DAYS`], or a log that does not verify), atomically, then
    /// records an "audit.pruned" entry. Nothing old enough: nothing changes.
    pub fn prune(
        &self,
        now: DateTime<Utc>,
        retention_days: u32,
        actor: &str,
    ) -> Result<PruneReport, AuditError> {
        if retention_days < MIN_RETENTION_DAYS {
            return Err(AuditError::RetentionTooShort {
                days: retention_days,
                min: MIN_RETENTION_DAYS,
            });
        }
        let cutoff = now - chrono::Duration::days(i64::from(retention_days));
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
        let split = split(&text);
        let old_chain = parse_preamble(&text[..split.preamble_end])
            .map_err(|message| self.corrupt(1, message))?;
        let mut entries = Vec::with_capacity(split.blocks.len());
        for block in &split.blocks {
            let raw = parse_block(&text[block.start..block.end])
                .map_err(|message| self.corrupt(block.line, message))?;
            let entry = raw
                .clone()
                .into_entry()
                .map_err(|message| self.corrupt(block.line, message))?;
            entries.push(entry);
        }
        let count = entries.iter().take_while(|e| e.at < cutoff).count();
        if count == 0 {
            return Ok(PruneReport {
                pruned: 0,
                kept: entries.len() as u64,
                cutoff,
                anchor: None,
                entry: None,
            });
        }
        let last_pruned = &entries[count - 1];
        let first_pruned = &entries[0];
        let chain = ChainTable {
            anchor: last_pruned.hash.clone(),
            anchor_seq: last_pruned.seq,
            pruned: old_chain.map_or(0, |c| c.pruned) + count as u64,
            pruned_until: format_at(cutoff),
        };
        let mut content = toml::to_string(&Preamble { chain: Some(chain) }).map_err(|e| {
            AuditError::Serialize {
                file: self.file.clone(),
                message: e.to_string(),
            }
        })?;
        content.push('\n');
        if let Some(block) = split.blocks.get(count) {
            content.push_str(&text[block.start..]);
            if !content.ends_with('\n') {
                content.push('\n');
            }
        }
        let (tip_seq, tip_hash) = entries
            .last()
            .map(|e| (e.seq, e.hash.clone()))
            .unwrap_or((0, ZERO_HASH.to_string()));
        let detail = format!(
            "pruned {count} audit entries (seq {} to {}) older than {} ({retention_days}-day retention); chain anchor {}",
            first_pruned.seq,
            last_pruned.seq,
            format_at(cutoff),
            last_pruned.hash
        );
        let raw = Self::new_entry(
            tip_seq + 1,
            tip_hash,
            now,
            actor,
            None,
            "audit.pruned",
            &detail,
        );
        content.push_str(&self.block_text(&raw)?);

        replace_file(&self.dir, LOG_FILE, content.as_bytes())
            .map_err(self.io("replace", &self.file))?;
        let anchor = last_pruned.hash.clone();
        Ok(PruneReport {
            pruned: count as u64,
            kept: (entries.len() - count) as u64,
            cutoff,
            anchor: Some(anchor),
            entry: Some(
                raw.into_entry()
                    .map_err(|message| self.corrupt(0, message))?,
            ),
        })
    }

    /// The hash of the last entry: the chain head an email notice carries
    /// (`X-Breachdesk-Audit-Head`).
    pub fn head(&self) -> Result<String, AuditError> {
        Ok(self.verify()?.last_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_ignores_headers_inside_multiline_strings() {
        let raw = RawEntry {
            seq: 1,
            at: "2026-11-28T14:32:00Z".into(),
            actor: "a".into(),
            incident: None,
            action: "x".into(),
            detail: "line one\n[[entry]]\nseq = 9\n'''\n\"\"\"\nend".into(),
            prev: ZERO_HASH.into(),
            hash: String::new(),
        };
        let block = toml::to_string(&OneEntry {
            entry: vec![raw.clone()],
        })
        .unwrap_or_default();
        let text = format!("{block}\n{block}\n");
        let s = split(&text);
        assert_eq!(s.blocks.len(), 2, "{text}");
        let back = parse_block(&text[s.blocks[0].start..s.blocks[0].end]).unwrap_or(raw.clone());
        assert_eq!(back.detail, raw.detail);
    }
}
