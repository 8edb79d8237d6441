//! Where breachdesk keeps things: the data directory, the config file, and
//! this machine's id in the data directory.
//!
//! Defaults come from the `directories` crate (XDG on Linux); the command-line
//! options `--data-dir` / `--config` and the environment variables
//! `BREACHDESK_DATA_DIR` / `BREACHDESK_CONFIG` override them.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The platform's data directory for breachdesk, e.g. `~/.local/share/breachdesk`.
pub fn default_data_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.data_dir().to_path_buf())
}

/// The platform's config directory for breachdesk, e.g. `~/.config/breachdesk`.
pub fn default_config_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().to_path_buf())
}

/// `config.toml` in the platform's config directory.
pub fn default_config_file() -> Option<PathBuf> {
    default_config_dir().map(|d| d.join("config.toml"))
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "breachdesk")
}

/// The name, inside the data directory, of the file holding this machine's
/// id. It is machine-local: a data directory synced or copied to another
/// machine must not carry it (that machine makes its own).
pub const MACHINE_ID_FILE: &str = "machine-id";

/// Hex digits in a machine id (8 random bytes).
pub const MACHINE_ID_LEN: usize = 16;

/// `$DATA_DIR/machine-id`.
pub fn machine_id_file(data_dir: &Path) -> PathBuf {
    data_dir.join(MACHINE_ID_FILE)
}

/// Whether `text` is a machine id: exactly 16 lowercase hex digits.
pub fn is_machine_id(text: &str) -> bool {
    text.len() == MACHINE_ID_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// This machine's id as kept in `data_dir`, without making one: `Ok(None)`
/// when there is none yet (a new data directory, or one cloned from another
/// machine). Creates nothing, so it works on a read-only data directory. An
/// error (a link, a FIFO, or text that is not an id) is the cause only; the
/// caller names [`machine_id_file`].
pub fn read_machine_id(data_dir: &Path) -> io::Result<Option<String>> {
    let path = machine_id_file(data_dir);
    let bytes = match crate::safe_read::read_bytes(&path, 4096) {
        Ok(bytes) => bytes,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into_io()),
    };
    let text = String::from_utf8_lossy(&bytes);
    let id = text.strip_suffix('\n').unwrap_or(&text);
    if !is_machine_id(id) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "does not hold a machine id ({MACHINE_ID_LEN} lowercase hex digits on one line); delete it and breachdesk makes a new one"
            ),
        ));
    }
    Ok(Some(id.to_string()))
}

/// This machine's id, made once: read from `data_dir/machine-id`, or, when
/// there is none, 8 random bytes from the operating system written there as
/// 16 hex digits (0600). The file appears whole or not at all (written to a
/// temp file, synced, then hard-linked into place), and when two processes
/// make one at the same time, both end up with the one that landed first.
/// The caller has made `data_dir` (0700).
pub fn ensure_machine_id(data_dir: &Path) -> io::Result<String> {
    if let Some(id) = read_machine_id(data_dir)? {
        return Ok(id);
    }
    let mut bytes = [0u8; MACHINE_ID_LEN / 2];
    getrandom::fill(&mut bytes).map_err(|e| {
        io::Error::other(format!(
            "the operating system gave no random bytes for a machine id: {e}"
        ))
    })?;
    let id = hex::encode(bytes);
    let path = machine_id_file(data_dir);
    let tmp = data_dir.join(format!(
        "{}{}-{}",
        crate::durable::temp_prefix(MACHINE_ID_FILE),
        std::process::id(),
        crate::durable::random_hex(4)
    ));
    let made = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(crate::durable::FILE_MODE)
            .open(&tmp)?;
        file.write_all(format!("{id}\n").as_bytes())?;
        file.sync_all()?;
        drop(file);
        // A link never replaces: the first machine id made is the one kept.
        match fs::hard_link(&tmp, &path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    })();
    let _ = fs::remove_file(&tmp);
    made?;
    crate::durable::sync_dir(data_dir)?;
    read_machine_id(data_dir)?.ok_or_else(|| io::Error::other("vanished just after it was made"))
}
