//! What `watch` has sent: `<data dir>/reminders.json` (0600, replaced
//! atomically and durably), read and written under an exclusive lock on
//! `<data dir>/reminders.lock`.

use anyhow::{Context, Result, anyhow, bail};
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
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(crate::durable::FILE_MODE)
        .open(&path)
        .with_context(|| format!("{}", path.display()))?;
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

pub fn read_state(data_dir: &Path) -> Result<State> {
    let path = data_dir.join(STATE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
        Err(e) => bail!("{}: cannot read: {e}", path.display()),
    };
    serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "{}:{}:{}: {} (reminders already sent are recorded here; nothing is sent until it is fixed or moved aside)",
            path.display(),
            e.line(),
            e.column(),
            e
        )
    })
}

pub fn write_state(data_dir: &Path, state: &mut State) -> Result<()> {
    state.version = 1;
    let text = serde_json::to_string_pretty(state).context("cannot write the reminder state")?;
    crate::durable::replace_file(data_dir, STATE_FILE, text.as_bytes())
        .map_err(|e| anyhow!("{}: not saved: {e}", data_dir.join(STATE_FILE).display()))
}
