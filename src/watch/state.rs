//! What `watch` has sent: `<data dir>/reminders.json` (0600, replaced
//! atomically and durably), read and written under an exclusive lock on
//! `<data dir>/reminders.lock`.

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The state file in the data directory.
pub const STATE_FILE: &str = "reminders.json";
/// The lock file in the data directory.
pub const LOCK_FILE: &str = "reminders.lock";

/// What has been sent: reminder key -> when.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub version: u32,
    pub sent: BTreeMap<String, DateTime<Utc>>,
}

/// The state lock, released when dropped.
pub struct Locked(File);

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Takes the exclusive lock on `reminders.lock`, waiting (without blocking
/// the runtime, so a signal still stops `watch`) while another watcher holds it.
pub async fn lock(data_dir: &Path) -> Result<Locked> {
    crate::durable::ensure_private_dir(data_dir)
        .with_context(|| format!("{}", data_dir.display()))?;
    let path = data_dir.join(LOCK_FILE);
    let open = || {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(crate::durable::FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)
    };
    // The lock file is machine-local and holds nothing: a link (or FIFO)
    // in its place is removed, never followed, so it cannot stop reminders.
    let file = match open() {
        Ok(f) if f.metadata().is_ok_and(|m| m.is_file()) => f,
        _ if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir()) => {
            let _ = std::fs::remove_file(&path);
            open().with_context(|| format!("{}", path.display()))?
        }
        other => other.with_context(|| format!("{}", path.display()))?,
    };
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Locked(file)),
            Err(std::fs::TryLockError::WouldBlock) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(anyhow!("{}: cannot lock: {e}", path.display()));
            }
        }
    }
}

/// The largest state file read (a real one is a few kilobytes).
const MAX_STATE_BYTES: u64 = 4 * 1024 * 1024;

/// The state, and why the file was not trusted when it was not.
///
/// `reminders.json` only ever *silences* reminders, so a file that is not
/// ours is not allowed to: one that is not a regular file (a link, a FIFO,
/// a device), not 0600, not owned by this user, too large, or that does not
/// parse is ignored (every reminder due is sent, at least once beats never)
/// and is replaced by the next save.
pub fn read_state(data_dir: &Path) -> (State, Option<String>) {
    let path = data_dir.join(STATE_FILE);
    let untrusted = |why: String| {
        (
            State::default(),
            Some(format!(
                "{}: not trusted ({why}); reminders due are sent again (a repeated reminder beats a missing one) and the file is replaced",
                path.display()
            )),
        )
    };
    let (file, meta) = match crate::safe_read::open_regular(&path) {
        Ok(opened) => opened,
        Err(e) if e.is_not_found() => return (State::default(), None),
        Err(e) => return untrusted(e.to_string()),
    };
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode() & 0o7777;
    if mode != crate::durable::FILE_MODE {
        return untrusted(format!("mode {mode:o}, not 600"));
    }
    // SAFETY: geteuid has no preconditions and touches no memory.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return untrusted(format!("owned by uid {}, not {me}", meta.uid()));
    }
    if meta.len() > MAX_STATE_BYTES {
        return untrusted(format!("{} bytes, more than {MAX_STATE_BYTES}", meta.len()));
    }
    let mut text = String::new();
    use std::io::Read;
    if let Err(e) = file.take(MAX_STATE_BYTES).read_to_string(&mut text) {
        return untrusted(format!("cannot read: {e}"));
    }
    match serde_json::from_str::<State>(&text) {
        Ok(state) => (state, None),
        Err(e) => untrusted(format!("line {} column {}: {e}", e.line(), e.column())),
    }
}

pub fn write_state(data_dir: &Path, state: &mut State) -> Result<()> {
    state.version = 1;
    let text = serde_json::to_string_pretty(state).context("cannot write the reminder state")?;
    crate::durable::replace_file(data_dir, STATE_FILE, text.as_bytes())
        .map_err(|e| anyhow!("{}: not saved: {e}", data_dir.join(STATE_FILE).display()))
}
