//! The append-only, hash-chained audit trail of breachdesk's own response
//! record: who changed which incident, when, and what changed.
//!
//! This is breachdesk's record of the *response*. It is not the audit
//! records of the ICT Environment that Annex 1 paragraphs 7.1 and 8.3 ask
//! the Service Provider to keep (DHCP, proxy, firewall and security-event
//! logs); breachdesk makes no claim to satisfy those.
//!
//! # One chain per machine
//!
//! A data directory may be shared between machines (synced through git), so
//! the trail is a set of chains, one per machine, and each machine appends
//! only to its own: `audit/chains/<machine-id>.jsonl`, where the machine id
//! is 16 hex digits made once and kept in `$DATA_DIR/machine-id`
//! ([`crate::paths::ensure_machine_id`]; machine-local, never synced: a data
//! directory cloned onto another machine makes a new one). Two machines
//! never write the same file, so merging their trails never conflicts.
//! Reading ([`AuditLog::entries`], [`AuditLog::verify`]) covers every chain
//! in `audit/chains/`; [`AuditLog::head`], appends, repair and prune touch
//! only this machine's chain (another machine's chain is never rewritten).
//!
//! A log from before chains (`audit/audit-log.jsonl`) becomes this
//! machine's chain on the first writable open, by one `rename` (so every
//! hash stays valid), followed by an `audit.migrated` entry. If this machine
//! already has a chain, the old file is left where it is and read as a
//! read-only chain named `legacy`. Read-only opens never move anything.
//!
//! # Format: JSON Lines
//!
//! Each chain file (directory 0700, file 0600) holds one JSON object per
//! line, each line ending in `\n`:
//!
//! ```text
//! {"seq":1,"at":"2026-11-28T14:32:00Z","actor":"alice","incident":"INC-…","action":"incident.opened","detail":"…","revision":1,"record_sha256":"…","prev":"000…","hash":"…"}
//! ```
//!
//! `hash` is the hex SHA-256 of the JSON encoding of the other fields (in the
//! order above, `incident` as `null` when absent, `revision` and
//! `record_sha256` left out when absent); `prev` is the previous entry's
//! `hash` in the same chain (64 zeros for the first); `seq` counts from 1 in
//! each chain. An entry that changed a record carries the record's new
//! `revision` and the SHA-256 of the record file's exact bytes, so
//! [`crate::store::Store::account`] can prove every saved revision was
//! logged, in whichever machine's chain.
//!
//! Appends happen under an exclusive `flock` on `audit/audit.lock`, as one
//! `write` followed by `fsync`. A failed append truncates the file back to its
//! old length (and syncs), so the chain is exactly as it was.
//!
//! The only rewrite is [`AuditLog::prune`], of this machine's chain: it drops
//! entries older than the retention period (at least 6 calendar months),
//! starts the file with a `{"chain":{…}}` line whose `anchor` is the hash the
//! first kept entry's `prev` refers to, appends an `audit.pruned` entry that
//! states the same anchor and cutoff (so a forged marker is caught), and
//! carries forward, as `record.checkpoint` entries, the last logged revision
//! of every incident whose entries were pruned.
//!
//! Logs in the first format (`audit-log.toml`, `[[entry]]` blocks with the
//! same hashes) are converted on first writable open; the old file is kept as
//! `audit-log.toml.migrated`.
//!
//! # Signatures: who wrote each entry
//!
//! Each machine has an ed25519 key of its own, made on its first writable
//! open (race-safe, like `machine-id`) and kept machine-local in
//! `signing/id_ed25519` (OpenSSH private key format, directory 0700, file
//! 0600; never synced, logged or shown). Its public key is written once to
//! `audit/signers/<machine-id>.pub`: one OpenSSH line whose comment is the
//! responder's name (`ssh-ed25519 AAAA… Alex Oncall`). Every entry appended
//! carries a last field, `sig`, not covered by `hash`:
//!
//! ```text
//! {"seq":2,…,"prev":"…","hash":"…","sig":"U1NIU0lH…"}
//! ```
//!
//! `sig` is the base64 of an SSHSIG blob (the format of `ssh-keygen -Y
//! sign`), namespace `breachdesk-audit`, hash SHA-512, over the entry's
//! `hash` as its 64 hex characters; `ssh-keygen -Y verify -n
//! breachdesk-audit -I <name> -f allowed_signers -s entry.sig` checks it
//! once the blob is armored. As `hash` chains every earlier entry, the
//! signature of a chain's last entry covers the whole chain: `audit verify`
//! verifies the signatures of each chain's last 1,024 entries and of every
//! rename and endorsement, and checks every other entry's signature for
//! form and key (verifying all of them would double its time at 10,000
//! incidents).
//!
//! Entries written before signing (unsigned) are accepted only as a prefix
//! endorsed by a later signed entry: the first writable open after the
//! upgrade appends `audit.signing-key` (actor `breachdesk`), whose signature
//! covers them. A chain with no signed entry was written by an older
//! breachdesk; after the first signed entry every entry must be signed.
//!
//! Names: a signed entry's `actor` must be the signer's name (the `.pub`
//! comment) or `breachdesk` (entries breachdesk writes by itself). When the
//! responder's configured name changes, the next append first writes an
//! `audit.signer-renamed` entry whose actor is the new name; entries after
//! it must carry that name. The `.pub` file itself is never changed.
//!
//! Pins (trust on first use): `signing/pinned-signers.toml` keeps, per
//! machine id, the public key first seen (with its name and when);
//! `signing/seen-heads.toml` keeps each chain's head at the last `audit
//! verify` that passed, and `signing/own-head` this machine's head after its
//! last append. `audit verify` fails on a chain with no signer file, a
//! signer key that differs from its pin, an entry signed by another key or
//! not verifying, an actor that is not the signer, unsigned entries after
//! signed ones, and a chain in which a head seen before is gone (rewritten
//! or deleted).
//!
//! Limits: every email notice also carries this machine's chain head
//! (`X-Breachdesk-Audit-Head`) so the other party holds a witness: a genuine
//! chain contains that hash as one of its entries.

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

mod append;
mod chain;
mod incoming;
mod maintenance;
mod open;
pub mod signing;
mod trail;
mod verify;
pub use incoming::check_incoming_chain;
pub use maintenance::{PruneReport, RepairReport};
pub use verify::Finding;

use chain::{Line, RawEntry, format_at, parse_line, tip_of, verify_text};

pub const MIN_RETENTION_DAYS: u32 = 184;
/// The longest retention (and `audit prune --older-than-days`) accepted:
/// 100,000 days, about 273 years; anything longer is a typo.
pub const MAX_RETENTION_DAYS: u32 = 100_000;
/// Retention in calendar months that no prune may go below.
pub const MIN_RETENTION_MONTHS: u32 = 6;

const AUDIT_DIR: &str = "audit";
/// The directory inside `audit/` holding one chain per machine,
/// `<machine-id>.jsonl`.
pub const CHAINS_DIR: &str = "chains";
/// The extension of a chain file in `audit/chains/`.
pub const CHAIN_EXTENSION: &str = "jsonl";
/// The single log of data directories from before chains, inside `audit/`;
/// it becomes this machine's chain on the first writable open.
pub const LOG_FILE: &str = "audit-log.jsonl";
/// What a [`LOG_FILE`] left beside this machine's chain is called in
/// reports and [`AuditEntry::chain`].
pub const LEGACY_CHAIN: &str = "legacy";
const OLD_LOG_FILE: &str = "audit-log.toml";
/// The lock serialising this machine's appends, inside `audit/`
/// (machine-local).
pub const LOCK_FILE: &str = "audit.lock";
/// The action of the entry a sync appends for what it merged.
pub const SYNC_MERGED: &str = "sync.merged";
/// The action of the entry for one record a sync's merge wrote.
pub const RECORD_MERGED: &str = "record.merged";
/// The `prev` of the first entry.
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const TAIL_WINDOW: u64 = 8 * 1024;
/// The largest chain read whole (verify, list, prune): far beyond years of
/// incidents, small enough that a hostile file cannot exhaust memory.
const MAX_LOG_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// This machine's chain in `data_dir`: `audit/chains/<machine-id>.jsonl`,
/// or `None` when no machine id has been made there yet. Creates nothing.
pub fn own_chain_file(data_dir: &Path) -> io::Result<Option<PathBuf>> {
    Ok(crate::paths::read_machine_id(data_dir)?.map(|id| chain_file(data_dir, &id)))
}

/// The chain of machine `machine_id` in `data_dir`.
pub fn chain_file(data_dir: &Path, machine_id: &str) -> PathBuf {
    data_dir
        .join(AUDIT_DIR)
        .join(CHAINS_DIR)
        .join(format!("{machine_id}.{CHAIN_EXTENSION}"))
}

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
    #[error("a retention of {days} days is out of range: at most {max} days (about 273 years)")]
    RetentionTooLong { days: u32, max: u32 },
    #[error(
        "refusing to prune {}: this data directory is synced with a team, and pruning rewrites this machine's chain, which every teammate's sync refuses (only appends are taken); the chain is kept whole",
        file.display()
    )]
    PruneInSync { file: PathBuf },
    #[error("refusing to prune {}: the chain does not verify ({broken}); pruning would hide that", broken.file.display())]
    ChainBroken { broken: Box<ChainBreak> },
    #[error("cannot write an audit entry to {}: {message}", file.display())]
    Serialize { file: PathBuf, message: String },
    #[error("{} is read-only here: {what} needs a writable data directory", file.display())]
    ReadOnly { file: PathBuf, what: &'static str },
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The chain it is in: the machine id of `audit/chains/<id>.jsonl`, or
    /// [`LEGACY_CHAIN`]. Not part of the hash (the file says it).
    pub chain: String,
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
    /// It carries a signature (checked by [`AuditLog::verify`]).
    pub signed: bool,
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

    /// A [`SYNC_MERGED`] entry for a sync as a whole: `detail` says what
    /// came in, and `commit` is the commit it was merged from. Changes no
    /// record.
    pub fn sync_merged(at: DateTime<Utc>, actor: &str, commit: &str, detail: &str) -> NewEntry {
        NewEntry::note(
            at,
            actor,
            None,
            SYNC_MERGED,
            &format!("merged commit {commit}: {detail}"),
        )
    }

    /// A [`RECORD_MERGED`] entry for one record a merge rewrote: the merged
    /// record's new `revision` and the SHA-256 of the bytes written
    /// ([`crate::store::record_sha256`]), so the revision is accounted for
    /// like any saved change. `detail` says what was merged (e.g. a conflict
    /// kept and the other value recorded).
    pub fn record_merged(
        at: DateTime<Utc>,
        actor: &str,
        incident: &str,
        commit: &str,
        revision: u64,
        record_sha256: &str,
        detail: &str,
    ) -> NewEntry {
        NewEntry {
            revision: Some(revision),
            record_sha256: Some(record_sha256.to_string()),
            ..NewEntry::note(
                at,
                actor,
                Some(incident),
                RECORD_MERGED,
                &format!("merged from commit {commit} as revision {revision}: {detail}"),
            )
        }
    }
}

/// What [`AuditLog::verify`] found, across every chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked and found good, in all chains (all of them when
    /// `first_break` is `None`).
    pub entries: u64,
    /// Entries removed by pruning so far, in all chains (from their markers).
    pub pruned: u64,
    /// This machine's head: the hash of the last good entry of its chain
    /// (the anchor, or zeros if none).
    pub last_hash: String,
    /// The first place a chain breaks (chains in name order), naming the file.
    pub first_break: Option<ChainBreak>,
    /// Each chain, in name order (a [`LEGACY_CHAIN`] last).
    pub chains: Vec<ChainReport>,
    /// Everything found wrong beyond the hashes: signers, signatures,
    /// actors, heads seen before (one per problem, naming the file).
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    /// Every chain verified: hashes, signers, signatures and seen heads.
    pub fn is_ok(&self) -> bool {
        self.first_break.is_none() && !self.findings.iter().any(|f| f.failure)
    }
}

/// What verifying one chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// The machine id, or [`LEGACY_CHAIN`].
    pub chain: String,
    pub file: PathBuf,
    /// This machine's chain (the one it appends to and whose head it gives).
    pub own: bool,
    /// Entries checked and found good (all of them when `first_break` is `None`).
    pub entries: u64,
    /// Entries removed by pruning so far (from the chain marker).
    pub pruned: u64,
    /// The hash of the last good entry (the anchor or zeros if none).
    pub last_hash: String,
    /// The first place the chain breaks, if it does.
    pub first_break: Option<ChainBreak>,
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

/// The first place a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The chain file it is in (not part of [`fmt::Display`], which callers
    /// prefix with the file).
    pub file: PathBuf,
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

/// The audit trail of one data directory: every machine's chain, and this
/// machine's to append to. Holds no open files.
#[derive(Debug, Clone)]
pub struct AuditLog {
    /// `audit/`.
    dir: PathBuf,
    /// `audit/chains/`.
    chains: PathBuf,
    /// This machine's id; `None` only when opened read-only before one was made.
    machine: Option<String>,
    /// The chain this machine appends to and takes its head from. Opened
    /// read-only before that chain exists: the legacy log, which becomes it.
    file: PathBuf,
    lock: PathBuf,
    read_only: bool,
    warnings: Vec<String>,
    /// This machine's signing key: every writable open has one.
    signer: Option<std::sync::Arc<signing::Signer>>,
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

pub(super) fn refuse_link(dir: &Path) -> Result<(), AuditError> {
    if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(AuditError::Io {
            action: "use directory",
            path: dir.to_path_buf(),
            source: io::Error::other(
                "it is a symbolic link; breachdesk keeps its audit log only in a real directory",
            ),
        });
    }
    Ok(())
}

impl AuditLog {
    /// What opening found that the user should know (a directory other users
    /// can reach).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// This machine's chain, `audit/chains/<machine-id>.jsonl` (opened
    /// read-only before it exists: the legacy `audit/audit-log.jsonl`).
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// The audit directory, `audit/`, holding every chain.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This machine's id (`$DATA_DIR/machine-id`); `None` only when opened
    /// read-only in a data directory where none was made yet.
    pub fn machine_id(&self) -> Option<&str> {
        self.machine.as_deref()
    }

    /// The name of this machine's chain in reports and [`AuditEntry::chain`].
    fn own_chain(&self) -> &str {
        if self.file.parent() == Some(self.chains.as_path()) {
            self.machine.as_deref().unwrap_or(LEGACY_CHAIN)
        } else {
            LEGACY_CHAIN
        }
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
        let file =
            durable::open_lock_file(&self.lock).map_err(self.io("open lock file", &self.lock))?;
        file.lock().map_err(self.io("lock", &self.lock))?;
        Ok(Locked { file })
    }

    fn corrupt(&self, line: usize, message: String) -> AuditError {
        AuditError::Corrupt {
            file: self.file.clone(),
            line,
            message,
        }
    }
}
