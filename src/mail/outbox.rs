//! The outbox: a notice is written here, durably, before the first attempt to
//! send it, and it stays until the server accepts it.
//! Longer than 600 lines: every state change (queue, retry, cancel,
//! deliver) shares the private paths, lock and durable save below.
//!
//! # Layout (`<data dir>/outbox/`, mode 0700; files 0600)
//!
//! ```text
//! outbox/N-20261128-143201-7f3a9c.toml    a notice still to go (pending, unknown or failed)
//! outbox/N-20261128-143201-7f3a9c.lock    held (File::try_lock) while sending
//! outbox/files/N-.../1-evidence.csv       the outbox's own copy of each attachment
//!                                         (deleted once sent or cancelled)
//! outbox/sent/N-20261128-143201-7f3a9c.toml       the same record once accepted
//! outbox/cancelled/N-20261128-143201-7f3a9c.toml  or once cancelled, with the reason
//! ```
//!
//! A notice moves to `sent/` or `cancelled/` by being written there durably
//! first and the pending file removed after, so `outbox/*.toml` is exactly
//! what is still to go. If a crash leaves both, the `sent/` (then
//! `cancelled/`) copy wins everywhere.
//!
//! # Delivery states
//!
//! - `pending`: not yet accepted; retried with backoff.
//! - `unknown`: the message was transmitted and no reply came, or
//!   breachdesk stopped mid-attempt. The server may have it. It is retried
//!   with backoff, with the **same** Message-ID, so a duplicate can be
//!   recognised: a duplicate legal notice is far better than a missing one.
//!   Once unknown, a notice stays unknown until it is accepted.
//! - `failed`: refused with a 5xx reply. Never retried automatically;
//!   [`retry_now`] retries it on purpose, [`cancel`] drops it.
//! - `sent`, `cancelled`: done.
//!
//! What is guaranteed: one confirmation queues one notice with one id and
//! one Message-ID; it is delivered **at least once** unless cancelled, and
//! every attempt carries the same Message-ID. Sending holds an exclusive lock
//! on `<id>.lock` (a second sender gets [`MailError::Busy`]); each attempt is
//! recorded as `in-progress` before the message is sent.
//!
//! # Retries
//!
//! A failed attempt records the error text and sets `next_attempt_at` with
//! backoff: 30 s, 1 min, 2 min, 4 min, 8 min, then every 15 min.
//! [`deliver_due`] sends every pending or unknown notice whose time has come;
//! [`retry_now`] makes one due immediately (a failed one too, on purpose);
//! [`deliver`] sends one now regardless of its schedule.

use super::compose::{Notice, read_attachment, to_message};
use super::error::MailError;
use super::transport;
use crate::config::schema::Smtp;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Where a notice is (`pending`, `unknown`, `failed`, `sent`, `cancelled`).
pub use crate::domain::incident::DeliveryState as NoticeState;

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptResult {
    /// Written before sending; still there only if breachdesk stopped mid-way.
    InProgress,
    /// Found `in-progress` by a later attempt: the outcome is unknown.
    Interrupted,
    /// The message was transmitted but no reply came.
    NoReply,
    /// Not accepted this time (not connected, refused for now, ...).
    Failed,
    /// Refused for good (5xx).
    Refused,
    Accepted,
}

/// One try at sending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub result: AttemptResult,
    /// The error in words, for `failed` and `interrupted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the server said when it accepted the notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentRecord {
    pub accepted_at: DateTime<Utc>,
    /// The server's reply line, e.g. `250 2.0.0 Ok: queued as 4XyZ`.
    pub reply: String,
    pub message_id: String,
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
}

/// The outbox file format written now: 2 since notices are recorded on
/// their incident structurally (files without the field are 1).
pub const FORMAT: u32 = 2;

fn format_1() -> u32 {
    1
}

/// A notice in the outbox, with its delivery history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedNotice {
    /// [`FORMAT`] when written; 1 for files from before the incident kept
    /// a `notices` list.
    #[serde(default = "format_1")]
    pub format: u32,
    pub state: NoticeState,
    pub queued_at: DateTime<Utc>,
    /// When [`deliver_due`] will next try; absent once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<SentRecord>,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<Cancelled>,
    /// This machine's seal of the recipients, made when the responder
    /// confirmed the notice (see [`super::screen`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
    pub notice: Notice,
}

/// Why and when a notice was dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cancelled {
    pub at: DateTime<Utc>,
    pub by: String,
    pub reason: String,
}

impl QueuedNotice {
    pub fn id(&self) -> &str {
        &self.notice.id
    }

    /// The most recent failure's text, if the last attempt failed.
    pub fn last_error(&self) -> Option<&str> {
        match self.attempts.last() {
            Some(a) if a.result == AttemptResult::InProgress => Some(
                "an attempt was under way when breachdesk stopped (or is under way now); \
                 the server may have the message",
            ),
            Some(a) if a.result != AttemptResult::Accepted => a.error.as_deref(),
            _ => None,
        }
    }

    /// The state as it really is: a pending notice whose last attempt never
    /// finished (breachdesk stopped mid-send) is `unknown`.
    pub fn effective_state(&self) -> NoticeState {
        match self.state {
            NoticeState::Pending
                if self
                    .attempts
                    .last()
                    .is_some_and(|a| a.result == AttemptResult::InProgress) =>
            {
                NoticeState::Unknown
            }
            other => other,
        }
    }

    fn failures(&self) -> u32 {
        self.attempts
            .iter()
            .filter(|a| a.result != AttemptResult::Accepted)
            .count() as u32
    }

    /// The server's reply when it accepted, or the refusal.
    pub fn server_reply(&self) -> Option<String> {
        if let Some(s) = &self.sent {
            return Some(s.reply.clone());
        }
        self.attempts
            .iter()
            .rev()
            .find(|a| a.result == AttemptResult::Refused)
            .and_then(|a| a.error.as_deref())
            .map(|e| {
                e.strip_prefix("server refused the message: ")
                    .unwrap_or(e)
                    .to_string()
            })
    }
}

/// The server accepted a notice: what the incident record and audit log need.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: String,
    pub incident_id: String,
    pub kind: crate::domain::notice::NoticeKind,
    pub request_id: Option<String>,
    pub message_id: String,
    pub reply: String,
    pub accepted_at: DateTime<Utc>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
}

/// `<data dir>/outbox`.
pub fn outbox_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("outbox")
}

/// The wait after `failures` failed attempts: 30 s doubling, at most 15 min.
pub fn backoff(failures: u32) -> chrono::Duration {
    let exp = failures.saturating_sub(1).min(10);
    let secs = (30u64 << exp).min(15 * 60);
    chrono::Duration::seconds(secs as i64)
}

fn check_id(id: &str) -> Result<(), MailError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(MailError::Outbox(format!(
            "'{}' is not a notice id",
            crate::text::one_line(id)
        )))
    }
}

fn pending_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.toml"))
}
fn sent_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("sent").join(format!("{id}.toml"))
}
fn cancelled_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("cancelled").join(format!("{id}.toml"))
}
fn files_dir(dir: &Path, id: &str) -> PathBuf {
    dir.join("files").join(id)
}

/// Deletes the outbox's copies of a notice's attachments (sent or
/// cancelled: they are no longer needed). Best effort.
fn remove_copies(dir: &Path, id: &str) {
    let files = files_dir(dir, id);
    if files.exists() {
        let _ = std::fs::remove_dir_all(&files);
        let _ = sync_dir(&dir.join("files"));
    }
}
fn lock_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.lock"))
}

fn make_dir(path: &Path) -> Result<(), MailError> {
    crate::durable::ensure_private_dir(path)
        .map(|_| ())
        .map_err(|e| MailError::io(path, e))
}

/// Makes the outbox and its subdirectories (0700) where missing.
fn ensure_dirs(dir: &Path) -> Result<(), MailError> {
    make_dir(dir)?;
    make_dir(&dir.join("sent"))?;
    make_dir(&dir.join("cancelled"))?;
    make_dir(&dir.join("files"))
}

fn sync_dir(dir: &Path) -> Result<(), MailError> {
    crate::durable::sync_dir(dir).map_err(|e| MailError::io(dir, e))
}

/// Writes `bytes` to `dir/name` atomically and durably (see
/// [`crate::durable::replace_file`]).
fn write_durably(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), MailError> {
    crate::durable::replace_file(dir, name, bytes).map_err(|e| MailError::io(dir.join(name), e))
}

fn save(dir: &Path, q: &QueuedNotice) -> Result<(), MailError> {
    let text = toml::to_string(q)
        .map_err(|e| MailError::Outbox(format!("cannot write notice {}: {e}", q.id())))?;
    let (target_dir, name) = match q.state {
        NoticeState::Sent => (dir.join("sent"), format!("{}.toml", q.id())),
        NoticeState::Cancelled => (dir.join("cancelled"), format!("{}.toml", q.id())),
        _ => (dir.to_path_buf(), format!("{}.toml", q.id())),
    };
    if q.state == NoticeState::Cancelled {
        make_dir(&target_dir)?;
    }
    write_durably(&target_dir, &name, text.as_bytes())
}

/// Reads one entry: a regular file (no link, FIFO or device) of at most
/// [`crate::safe_read::MAX_RECORD_BYTES`].
fn load(path: &Path) -> Result<QueuedNotice, MailError> {
    let text = crate::safe_read::read_text(path, crate::safe_read::MAX_RECORD_BYTES)
        .map_err(|e| MailError::Outbox(format!("{}: {e}", path.display())))?;
    toml::from_str(&text)
        .map_err(|e| MailError::Outbox(format!("{}: {}", path.display(), e.message().trim())))
}

/// Stores a confirmed notice, with copies of its attachments, before any
/// attempt to send it. The attachments must still match what the responder
/// was shown (size and SHA-256). The notice is due at once. If anything
/// fails, no copy is left behind.
pub fn queue(dir: &Path, notice: Notice, now: DateTime<Utc>) -> Result<QueuedNotice, MailError> {
    queue_sealed(dir, notice, now, None)
}

/// [`queue`], sealing the notice's recipients with this machine's key (see
/// [`super::screen`]): addresses the responder confirmed for this notice
/// that `config.toml` does not name stay allowed on every retry.
pub fn queue_sealed(
    dir: &Path,
    notice: Notice,
    now: DateTime<Utc>,
    key: Option<&[u8]>,
) -> Result<QueuedNotice, MailError> {
    check_id(&notice.id)?;
    ensure_dirs(dir)?;
    if pending_path(dir, &notice.id).exists()
        || sent_path(dir, &notice.id).exists()
        || cancelled_path(dir, &notice.id).exists()
    {
        return Err(MailError::Outbox(format!(
            "notice {} is already in the outbox; it will not be queued twice",
            notice.id
        )));
    }
    let id = notice.id.clone();
    let seal = key.and_then(|k| super::screen::seal(k, &notice));
    let result = queue_inner(dir, notice, now, seal);
    if result.is_err() {
        remove_copies(dir, &id);
    }
    result
}

/// The name of the outbox's copy of attachment `index`: `N-name`, with the
/// name made safe and cut to at most 100 bytes (keeping the extension), so a
/// long file name never makes the copy fail.
fn copy_name(index: usize, file_name: &str) -> String {
    let safe: String = file_name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    const MAX: usize = 100;
    let cut = if safe.len() <= MAX {
        safe.to_string()
    } else {
        let ext = std::path::Path::new(safe)
            .extension()
            .and_then(|e| e.to_str())
            .filter(|e| e.len() <= 16)
            .map(|e| format!(".{e}"))
            .unwrap_or_default();
        let mut end = MAX - ext.len();
        while !safe.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}{ext}", &safe[..end])
    };
    format!("{}-{cut}", index + 1)
}

fn queue_inner(
    dir: &Path,
    notice: Notice,
    now: DateTime<Utc>,
    seal: Option<String>,
) -> Result<QueuedNotice, MailError> {
    let mut notice = notice;
    if !notice.attachments.is_empty() {
        let files = files_dir(dir, &notice.id);
        make_dir(&files)?;
        for (i, a) in notice.attachments.iter_mut().enumerate() {
            let (info, bytes) = read_attachment(&a.path)?;
            if info.sha256 != a.sha256 || info.size != a.size {
                return Err(MailError::Attachment {
                    path: a.path.clone(),
                    reason: "has changed since the notice was shown; compose it again".into(),
                });
            }
            let name = copy_name(i, &a.file_name);
            write_durably(&files, &name, &bytes)?;
            a.source.get_or_insert_with(|| a.path.clone());
            a.path = files.join(name);
        }
    }
    let queued = QueuedNotice {
        format: FORMAT,
        state: NoticeState::Pending,
        queued_at: now,
        next_attempt_at: Some(now),
        sent: None,
        attempts: Vec::new(),
        cancelled: None,
        seal,
        notice,
    };
    save(dir, &queued)?;
    Ok(queued)
}

/// Every notice, still to go, sent and cancelled, oldest first.
pub fn list(dir: &Path) -> Result<Vec<QueuedNotice>, MailError> {
    let mut out: Vec<QueuedNotice> = Vec::new();
    for sub in [dir.join("sent"), dir.join("cancelled"), dir.to_path_buf()] {
        let entries = match std::fs::read_dir(&sub) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(MailError::io(&sub, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| MailError::io(&sub, e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || !name.ends_with(".toml") || !path.is_file() {
                continue;
            }
            let q = load(&path)?;
            // The sent/ and cancelled/ copies (read first) win over a
            // leftover pending file.
            if !out.iter().any(|o| o.id() == q.id()) {
                out.push(q);
            }
        }
    }
    out.sort_by(|a, b| a.queued_at.cmp(&b.queued_at).then(a.id().cmp(b.id())));
    Ok(out)
}

/// Only the notices the server accepted.
pub fn sent(dir: &Path) -> Result<Vec<QueuedNotice>, MailError> {
    Ok(list(dir)?
        .into_iter()
        .filter(|q| q.state == NoticeState::Sent)
        .collect())
}

/// Only the notices still to go: pending, unknown or failed.
pub fn pending(dir: &Path) -> Result<Vec<QueuedNotice>, MailError> {
    Ok(list(dir)?
        .into_iter()
        .filter(|q| {
            matches!(
                q.state,
                NoticeState::Pending | NoticeState::Unknown | NoticeState::Failed
            )
        })
        .collect())
}

/// One notice by id (the sent or cancelled copy if there is one).
pub fn get(dir: &Path, id: &str) -> Result<QueuedNotice, MailError> {
    check_id(id)?;
    for done in [sent_path(dir, id), cancelled_path(dir, id)] {
        if done.exists() {
            return load(&done);
        }
    }
    let path = pending_path(dir, id);
    if !path.exists() {
        return Err(MailError::Outbox(format!("no notice {id} in the outbox")));
    }
    load(&path)
}

struct Locked {
    file: File,
}

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn lock(dir: &Path, id: &str) -> Result<Locked, MailError> {
    let path = lock_path(dir, id);
    let file = crate::durable::open_lock_file(&path).map_err(|e| MailError::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(Locked { file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(MailError::Busy { id: id.to_string() }),
        Err(std::fs::TryLockError::Error(e)) => Err(MailError::io(&path, e)),
    }
}

/// Makes a notice due now (after fixing the settings, say). A `failed`
/// notice (refused for good) is retried only this way, on purpose: it
/// becomes pending again.
pub fn retry_now(dir: &Path, id: &str, now: DateTime<Utc>) -> Result<QueuedNotice, MailError> {
    check_id(id)?;
    let _lock = lock(dir, id)?;
    let mut q = get(dir, id)?;
    match q.state {
        NoticeState::Sent => return Err(already_sent(&q)),
        NoticeState::Cancelled => return Err(was_cancelled(&q)),
        NoticeState::Failed => q.state = NoticeState::Pending,
        _ => {}
    }
    q.next_attempt_at = Some(now);
    save(dir, &q)?;
    Ok(q)
}

fn was_cancelled(q: &QueuedNotice) -> MailError {
    MailError::Outbox(format!(
        "notice {} was cancelled{}; compose a new one to send it",
        q.id(),
        q.cancelled
            .as_ref()
            .map(|c| format!(" ({})", crate::text::one_line(&c.reason)))
            .unwrap_or_default()
    ))
}

/// Drops a notice that is still to go, keeping it (with `reason`) in
/// `outbox/cancelled/`, and deletes its attachment copies. A notice the
/// server accepted cannot be cancelled.
pub fn cancel(
    dir: &Path,
    id: &str,
    by: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<QueuedNotice, MailError> {
    check_id(id)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(MailError::Incomplete(
            "say why the notice is cancelled (--reason)".into(),
        ));
    }
    let guard = lock(dir, id)?;
    let mut q = get(dir, id)?;
    match q.state {
        NoticeState::Sent => return Err(already_sent(&q)),
        NoticeState::Cancelled => return Ok(q),
        _ => {}
    }
    q.state = NoticeState::Cancelled;
    q.next_attempt_at = None;
    q.cancelled = Some(Cancelled {
        at: now,
        by: by.to_string(),
        reason: reason.to_string(),
    });
    save(dir, &q)?;
    let _ = std::fs::remove_file(pending_path(dir, id));
    let _ = sync_dir(dir);
    remove_copies(dir, id);
    let _ = std::fs::remove_file(lock_path(dir, id));
    drop(guard);
    Ok(q)
}

fn already_sent(q: &QueuedNotice) -> MailError {
    MailError::AlreadySent {
        id: q.id().to_string(),
        message_id: q.notice.message_id.clone(),
    }
}

/// Sends one pending notice now, whatever its schedule. The attempt and its
/// outcome are recorded on the notice; on acceptance it moves to `sent/`.
pub async fn deliver(
    dir: &Path,
    id: &str,
    smtp: &Smtp,
    now: DateTime<Utc>,
) -> Result<Delivery, MailError> {
    check_id(id)?;
    // A sync may have made `outbox/` without `sent/`: make what is missing
    // before sending, so an accepted notice can be recorded as sent.
    ensure_dirs(dir)?;
    if sent_path(dir, id).exists() {
        return Err(already_sent(&get(dir, id)?));
    }
    let guard = lock(dir, id)?;
    let mut q = get(dir, id)?;
    if q.attempts
        .last()
        .is_some_and(|a| a.result == AttemptResult::Accepted)
    {
        // Accepted, but the sent/ copy could not be written: never again.
        return Err(already_sent(&q));
    }
    if let Err(why) = super::screen::check_attachments(dir, &q.notice) {
        drop(guard);
        let line = super::screen::refuse(dir, &format!("{id}.toml"), &why);
        return Err(MailError::Outbox(line));
    }
    match q.state {
        NoticeState::Sent => return Err(already_sent(&q)),
        NoticeState::Cancelled => return Err(was_cancelled(&q)),
        NoticeState::Failed => {
            return Err(MailError::Outbox(format!(
                "notice {id} was refused for good ({}); it is not retried automatically: \
                 retry it on purpose (breachdesk outbox retry {id}) or cancel it \
                 (breachdesk outbox cancel {id} --reason TEXT)",
                q.server_reply().unwrap_or_default()
            )));
        }
        _ => {}
    }
    for a in q.attempts.iter_mut() {
        if a.result == AttemptResult::InProgress {
            a.result = AttemptResult::Interrupted;
            a.error = Some(
                "breachdesk stopped during this attempt; the server may have accepted it \
                 (a re-send carries the same Message-ID)"
                    .into(),
            );
            q.state = NoticeState::Unknown;
        }
    }
    q.attempts.push(Attempt {
        at: now,
        result: AttemptResult::InProgress,
        error: None,
    });
    save(dir, &q)?;

    let outcome = async {
        let message = to_message(&q.notice)?;
        let bytes = message.formatted();
        transport::send(smtp, message.envelope(), &bytes, now).await
    }
    .await;

    tracing::info!(host = %smtp.host, port = ?smtp.port, message_id = %q.notice.message_id, status = if outcome.is_ok() { "accepted" } else { "failed" }, "smtp send");
    let last = q.attempts.len() - 1;
    match outcome {
        Ok(accepted) => {
            q.attempts[last].result = AttemptResult::Accepted;
            q.state = NoticeState::Sent;
            q.next_attempt_at = None;
            let record = SentRecord {
                accepted_at: accepted.accepted_at,
                reply: accepted.reply,
                message_id: q.notice.message_id.clone(),
                to: q.notice.to.clone(),
                cc: q.notice.cc.clone(),
            };
            q.sent = Some(record.clone());
            if let Err(e) = save(dir, &q) {
                // Not in sent/: say so in the pending file itself (its last
                // attempt accepted), so it is never sent again in a loop.
                if let Ok(text) = toml::to_string(&q) {
                    let _ = write_durably(dir, &format!("{id}.toml"), text.as_bytes());
                }
                return Err(MailError::AcceptedNotRecorded {
                    id: id.to_string(),
                    message_id: record.message_id,
                    reply: record.reply,
                    reason: e.to_string(),
                });
            }
            // Best effort from here: the sent/ copy already wins over a
            // leftover pending file, and the acceptance must reach the caller.
            let _ = std::fs::remove_file(pending_path(dir, id));
            let _ = sync_dir(dir);
            remove_copies(dir, id);
            let _ = std::fs::remove_file(lock_path(dir, id));
            drop(guard);
            Ok(Delivery {
                id: q.notice.id.clone(),
                incident_id: q.notice.incident_id.clone(),
                kind: q.notice.kind,
                request_id: q.notice.request_id.clone(),
                message_id: record.message_id,
                reply: record.reply,
                accepted_at: record.accepted_at,
                to: record.to,
                cc: record.cc,
            })
        }
        Err(e) => {
            q.attempts[last].error = Some(e.to_string());
            if e.is_permanent() {
                q.attempts[last].result = AttemptResult::Refused;
                q.state = NoticeState::Failed;
                q.next_attempt_at = None;
            } else {
                q.attempts[last].result = if matches!(e, MailError::NoReply(_)) {
                    q.state = NoticeState::Unknown;
                    AttemptResult::NoReply
                } else {
                    AttemptResult::Failed
                };
                q.next_attempt_at = Some(now + backoff(q.failures()));
            }
            save(dir, &q)?;
            drop(guard);
            Err(e)
        }
    }
}

/// Sends every pending or unknown notice whose `next_attempt_at` has come, one at a
/// time. Returns each notice id tried with its outcome.
pub async fn deliver_due(
    dir: &Path,
    smtp: &Smtp,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Result<Delivery, MailError>)>, MailError> {
    let mut results = Vec::new();
    for q in pending(dir)? {
        if q.state != NoticeState::Failed && q.next_attempt_at.is_some_and(|t| t <= now) {
            let id = q.id().to_string();
            let r = deliver(dir, &id, smtp, now).await;
            results.push((id, r));
        }
    }
    Ok(results)
}

/// Checks every entry still to go in `dir` (see [`super::screen`]) and
/// moves aside those that fail
/// (or cannot be read as an entry at all); returns one line for each. Also
/// makes the outbox's subdirectories that are missing (0700), so a
/// delivered notice can always be recorded as sent.
pub fn screen(dir: &Path, allowed: &super::screen::Allowed) -> Vec<String> {
    let mut lines = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return lines;
    };
    if let Err(e) = ensure_dirs(dir) {
        lines.push(e.to_string());
    }
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.') && n.ends_with(".toml"))
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let verdict = match super::screen::ours(&path)
            .and_then(|()| load(&path).map_err(|e| format!("not an outbox entry: {e}")))
        {
            Err(why) => Err(why),
            Ok(q) if format!("{}.toml", q.id()) != name => {
                Err(format!("its id {} is not its file name", q.id()))
            }
            Ok(q) => super::screen::check(dir, &q.notice, q.seal.as_deref(), allowed),
        };
        if let Err(why) = verdict {
            lines.push(super::screen::refuse(dir, &name, &why));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let s: Vec<i64> = (1..=8).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(s, vec![30, 60, 120, 240, 480, 900, 900, 900]);
    }

    #[test]
    fn ids_are_checked() {
        assert!(check_id("N-20261128-143201-7f3a9c").is_ok());
        assert!(check_id("../x").is_err());
        assert!(check_id("").is_err());
    }
}
