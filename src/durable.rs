//! Files that survive a crash and stay private: the one place breachdesk
//! creates directories (0700), replaces files atomically and durably (0600),
//! and makes random names.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of every directory breachdesk creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file breachdesk creates.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) with mode 0700. The mode of a
/// directory that already existed is never changed (it may be a team's
/// shared directory): one that other users can reach gives a warning, and
/// one that every user can write to without the sticky bit (so anyone could
/// replace the files in it) is refused.
pub fn ensure_private_dir(dir: &Path) -> io::Result<Option<String>> {
    let existed = fs::symlink_metadata(dir).is_ok();
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    let meta = fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::other("exists and is not a directory"));
    }
    if !existed {
        return Ok(None);
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o002 != 0 && mode & 0o1000 == 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "every user can write to it (mode {mode:o}) and it has no sticky bit, so anyone could replace its files: refused (chmod 700 it if it is yours)"
            ),
        ));
    }
    if mode & 0o077 != 0 {
        return Ok(Some(format!(
            "{} is accessible to other users (mode {:o}); left as it is (chmod 700 it to keep incidents private)",
            dir.display(),
            mode & 0o777
        )));
    }
    Ok(None)
}

/// `sync_all` on a directory, so a rename or new entry in it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// `bytes` random bytes as hex (falls back to the clock and pid if the OS
/// has no randomness to give; uniqueness of temp names also comes from
/// `create_new`).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() {
        let seed = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default() as u128
            ^ u128::from(std::process::id());
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8;
        }
    }
    hex::encode(buf)
}

/// The prefix of temp files [`replace_file`] makes for `name`: `.{name}.tmp-`.
pub fn temp_prefix(name: &str) -> String {
    format!(".{name}.tmp-")
}

/// Replaces `dir/name` with `bytes` so that a crash at any instant leaves the
/// old file or the complete new one: a temp file (0600) in the same
/// directory, write, fsync, rename over the old, fsync the directory.
pub fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(
        "{}{}-{}",
        temp_prefix(name),
        std::process::id(),
        random_hex(8)
    ));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, dir.join(name))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_dir(dir)
}

/// Creates a new private file (0600) holding `bytes`, synced; refuses to
/// overwrite an existing one.
pub fn create_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
