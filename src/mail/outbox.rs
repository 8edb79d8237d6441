//! The outbox: a notice is written here, durably, before the first attempt to
//! send it, and it stays until the server accepts it.
//!
//! # Layout (`<data dir>/outbox/`, mode 0700; files 0600)
//!
//! ```text
//! outbox/N-20261128-143201-7f3a9c.toml    a pending notice (state = "pending")
//! outbox/N-20261128-143201-7f3a9c.lock    held (File::try_lock) while sending
//! outbox/files/N-.../1-evidence.csv       the outbox's own copy of each attachment
//! outbox/sent/N-20261128-143201-7f3a9c.toml   the same record once accepted (state = "sent")
//! ```
//!
//! Accepted notices are moved to `sent/` (written there durably first, then
//! the pending file is removed), so `outbox/*.toml` is exactly what is still
//! to go. If a crash leaves both, the `sent/` copy wins everywhere.
//!
//! # Never twice
//!
//! - One confirmation queues one file with one id and one Message-ID; queuing
//!   the same notice id again is refused.
//! - Sending holds an exclusive lock on `<id>.lock`; a second sender gets
//!   [`MailError::Busy`]. Under the lock the `sent/` copy is checked again.
//! - Each attempt is recorded as `in-progress` *before* the message is sent.
//!   If breachdesk dies between the server's acceptance and the record being
//!   marked, the next attempt finds that `in-progress` entry, marks it
//!   `interrupted` (outcome unknown) and re-sends with the **same**
//!   Message-ID, so the recipient's mail system and the responder can both
//!   recognise a duplicate.
//!
//! # Retries
//!
//! A failed attempt records the error text and sets `next_attempt_at` with
//! backoff: 30 s, 1 min, 2 min, 4 min, 8 min, then every 15 min.
//! [`deliver_due`] sends every pending notice whose time has come;
//! [`retry_now`] makes one due immediately; [`deliver`] sends one now
//! regardless of its schedule.

use super::MailError;
use super::compose::{Notice, read_attachment, to_message};
use super::transport;
use crate::config::Smtp;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Where a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeState {
    Pending,
    Sent,
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptResult {
    /// Written before sending; still there only if breachdesk stopped mid-way.
    InProgress,
    /// Found `in-progress` by a later attempt: the outcome is unknown.
    Interrupted,
    Failed,
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

/// A notice in the outbox, with its delivery history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedNotice {
    pub state: NoticeState,
    pub queued_at: DateTime<Utc>,
    /// When [`deliver_due`] will next try; absent once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<SentRecord>,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    pub notice: Notice,
}

impl QueuedNotice {
    pub fn id(&self) -> &str {
        &self.notice.id
    }

    /// The most recent failure's text, if the last attempt failed.
    pub fn last_error(&self) -> Option<&str> {
        self.attempts
            .last()
            .filter(|a| a.result != AttemptResult::Accepted)
            .and_then(|a| a.error.as_deref())
    }

    fn failures(&self) -> u32 {
        self.attempts
            .iter()
            .filter(|a| matches!(a.result, AttemptResult::Failed | AttemptResult::Interrupted))
            .count() as u32
    }
}

/// The server accepted a notice: what the incident record and audit log need.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: String,
    pub incident_id: String,
    pub kind: super::NoticeKind,
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
fn lock_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.lock"))
}

fn make_dir(path: &Path) -> Result<(), MailError> {
    crate::durable::ensure_private_dir(path)
        .map(|_| ())
        .map_err(|e| MailError::io(path, e))
}

fn ensure_dirs(dir: &Path) -> Result<(), MailError> {
    make_dir(dir)?;
    make_dir(&dir.join("sent"))?;
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
        NoticeState::Pending => (dir.to_path_buf(), format!("{}.toml", q.id())),
        NoticeState::Sent => (dir.join("sent"), format!("{}.toml", q.id())),
    };
    write_durably(&target_dir, &name, text.as_bytes())
}

fn load(path: &Path) -> Result<QueuedNotice, MailError> {
    let text = std::fs::read_to_string(path).map_err(|e| MailError::io(path, e))?;
    toml::from_str(&text)
        .map_err(|e| MailError::Outbox(format!("{}: {}", path.display(), e.message().trim())))
}

/// Stores a confirmed notice, with copies of its attachments, before any
/// attempt to send it. The attachments must still match what the responder
/// was shown (size and SHA-256). The notice is due at once.
pub fn queue(dir: &Path, notice: Notice, now: DateTime<Utc>) -> Result<QueuedNotice, MailError> {
    check_id(&notice.id)?;
    ensure_dirs(dir)?;
    if pending_path(dir, &notice.id).exists() || sent_path(dir, &notice.id).exists() {
        return Err(MailError::Outbox(format!(
            "notice {} is already in the outbox; it will not be queued twice",
            notice.id
        )));
    }
    let mut notice = notice;
    if !notice.attachments.is_empty() {
        let files = dir.join("files").join(&notice.id);
        make_dir(&files)?;
        for (i, a) in notice.attachments.iter_mut().enumerate() {
            let (info, bytes) = read_attachment(&a.path)?;
            if info.sha256 != a.sha256 || info.size != a.size {
                return Err(MailError::Attachment {
                    path: a.path.clone(),
                    reason: "has changed since the notice was shown; compose it again".into(),
                });
            }
            let safe_name: String = a
                .file_name
                .chars()
                .map(|c| {
                    if c == '/' || c == '\\' || c.is_control() {
                        '_'
                    } else {
                        c
                    }
                })
                .collect();
            let name = format!("{}-{}", i + 1, safe_name.trim_start_matches('.'));
            write_durably(&files, &name, &bytes)?;
            a.path = files.join(name);
        }
    }
    let queued = QueuedNotice {
        state: NoticeState::Pending,
        queued_at: now,
        next_attempt_at: Some(now),
        sent: None,
        attempts: Vec::new(),
        notice,
    };
    save(dir, &queued)?;
    Ok(queued)
}

/// Every notice, pending and sent, oldest first.
pub fn list(dir: &Path) -> Result<Vec<QueuedNotice>, MailError> {
    let mut out: Vec<QueuedNotice> = Vec::new();
    for sub in [dir.join("sent"), dir.to_path_buf()] {
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
            // The sent/ copy (read first) wins over a leftover pending file.
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

/// Only the notices still to go.
pub fn pending(dir: &Path) -> Result<Vec<QueuedNotice>, MailError> {
    Ok(list(dir)?
        .into_iter()
        .filter(|q| q.state == NoticeState::Pending)
        .collect())
}

/// One notice by id (the sent copy if there is one).
pub fn get(dir: &Path, id: &str) -> Result<QueuedNotice, MailError> {
    check_id(id)?;
    let sent = sent_path(dir, id);
    if sent.exists() {
        return load(&sent);
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
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| MailError::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(Locked { file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(MailError::Busy { id: id.to_string() }),
        Err(std::fs::TryLockError::Error(e)) => Err(MailError::io(&path, e)),
    }
}

/// Makes a pending notice due now (after fixing the settings, say).
pub fn retry_now(dir: &Path, id: &str, now: DateTime<Utc>) -> Result<QueuedNotice, MailError> {
    check_id(id)?;
    let _lock = lock(dir, id)?;
    let mut q = get(dir, id)?;
    if q.state == NoticeState::Sent {
        return Err(already_sent(&q));
    }
    q.next_attempt_at = Some(now);
    save(dir, &q)?;
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
    if sent_path(dir, id).exists() {
        return Err(already_sent(&get(dir, id)?));
    }
    let guard = lock(dir, id)?;
    let mut q = get(dir, id)?;
    if q.state == NoticeState::Sent {
        return Err(already_sent(&q));
    }
    for a in q.attempts.iter_mut() {
        if a.result == AttemptResult::InProgress {
            a.result = AttemptResult::Interrupted;
            a.error = Some(
                "breachdesk stopped during this attempt; the server may have accepted it \
                 (a re-send carries the same Message-ID)"
                    .into(),
            );
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
            q.attempts[last].result = AttemptResult::Failed;
            q.attempts[last].error = Some(e.to_string());
            q.next_attempt_at = Some(now + backoff(q.failures()));
            save(dir, &q)?;
            drop(guard);
            Err(e)
        }
    }
}

/// Sends every pending notice whose `next_attempt_at` has come, one at a
/// time. Returns each notice id tried with its outcome.
pub async fn deliver_due(
    dir: &Path,
    smtp: &Smtp,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Result<Delivery, MailError>)>, MailError> {
    let mut results = Vec::new();
    for q in pending(dir)? {
        if q.next_attempt_at.is_some_and(|t| t <= now) {
            let id = q.id().to_string();
            let r = deliver(dir, &id, smtp, now).await;
            results.push((id, r));
        }
    }
    Ok(results)
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
