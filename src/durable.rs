//! Files that survive a crash and stay private: the one place breachdesk
//! creates directories (0700), replaces files atomically and durably (0600),
//! and makes random names.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

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
    if !existed {
        let meta = fs::metadata(dir)?;
        if !meta.is_dir() {
            return Err(io::Error::other("exists and is not a directory"));
        }
        return Ok(None);
    }
    check_private_dir(dir)
}

/// Inspects an existing directory without changing anything: refused if it
/// is not a directory or every user can write to it without the sticky bit;
/// a warning if other users can reach it.
pub fn check_private_dir(dir: &Path) -> io::Result<Option<String>> {
    let meta = fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::other("exists and is not a directory"));
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

/// A new private temp file (0600) beside `dir/name`, filled by `write` and
/// synced when `sync`; removed again if anything fails. Its path.
fn temp_file(
    dir: &Path,
    name: &str,
    sync: bool,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<PathBuf> {
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
        write(&mut file)?;
        if sync {
            file.sync_all()?;
        }
        Ok(())
    })();
    match written {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Moves `tmp` over `dir/name` (removing `tmp` if that fails).
fn rename_into(tmp: &Path, dir: &Path, name: &str) -> io::Result<()> {
    let renamed = fs::rename(tmp, dir.join(name));
    if renamed.is_err() {
        let _ = fs::remove_file(tmp);
    }
    renamed
}

/// Replaces `dir/name` with `bytes` so that a crash at any instant leaves the
/// old file or the complete new one: a temp file (0600) in the same
/// directory, write, fsync, rename over the old, fsync the directory.
pub fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let target = dir.join(name);
    let tmp = temp_file(dir, name, true, |file| {
        fault::write_all(file, &target, fault::Op::Replace, bytes)
    })?;
    rename_into(&tmp, dir, name)?;
    sync_dir(dir)
}

/// [`replace_file`] without any fsync: for machine-local bookkeeping that
/// may be lost in a crash but must never be torn.
pub fn replace_file_unsynced(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_file(dir, name, false, |file| file.write_all(bytes))?;
    rename_into(&tmp, dir, name)
}

/// Writes `bytes` as `path` (0600) only if nothing is there: a temp file,
/// synced, hard-linked into place (a link never replaces), so two processes
/// making it at once both keep the first.
pub fn create_once(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = temp_file(dir, name, true, |file| file.write_all(bytes))?;
    let linked = match fs::hard_link(&tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    };
    let _ = fs::remove_file(&tmp);
    linked?;
    sync_dir(dir)
}

/// Opens (creating, 0600, never truncating) the lock file `path`, for a
/// `flock` the caller takes.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)
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

/// Appends `bytes` to `path` (creating it 0600) as one write and an `fsync`.
/// If anything fails, the file is cut back to the length it had (and synced),
/// so it is exactly as it was, and the error is returned. The caller holds
/// whatever lock serialises appends to `path`.
pub fn append_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(FILE_MODE)
        .open(path)?;
    let old_len = file.metadata()?.len();
    let written =
        fault::write_all(&mut file, path, fault::Op::Append, bytes).and_then(|()| file.sync_all());
    if let Err(e) = written {
        // Undo a partial write; if even that fails, say so in the same error.
        return match file.set_len(old_len).and_then(|()| file.sync_all()) {
            Ok(()) => Err(e),
            Err(undo) => Err(io::Error::new(
                e.kind(),
                format!("{e}; and cutting it back to {old_len} bytes failed too: {undo}"),
            )),
        };
    }
    Ok(())
}

/// Cuts `path` to `len` bytes and syncs it.
pub fn truncate_durably(path: &Path, len: u64) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(len)?;
    file.sync_all()
}

/// A seam for tests to make durable writes fail the way a full disk, a
/// permission problem or a failing device does, without needing either (or
/// root). Faults apply only to paths under the directory they name, so tests
/// running in parallel in one process never see each other's faults.
///
/// Debug builds of the binary also read `BREACHDESK_FAULT`
/// (`OP:KIND[:AFTER_BYTES]`, e.g. `append:storage-full:10`), applied to every
/// path; release builds ignore it.
pub mod fault {
    use std::io::{self, Write};
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Which kind of durable write a fault hits.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Op {
        /// [`super::append_durably`] (the audit log).
        Append,
        /// [`super::replace_file`] (records, index, config, exports).
        Replace,
    }

    /// How the write fails.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Fault {
        pub op: Op,
        pub kind: io::ErrorKind,
        /// Bytes written for real before the failure (a partial write).
        pub after_bytes: usize,
    }

    struct Armed {
        under: PathBuf,
        fault: Fault,
        id: u64,
    }

    static ARMED: Mutex<Vec<Armed>> = Mutex::new(Vec::new());
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);

    /// Removes its fault when dropped.
    #[must_use = "the fault is removed when this is dropped"]
    pub struct Injected {
        id: u64,
    }

    impl Drop for Injected {
        fn drop(&mut self) {
            if let Ok(mut armed) = ARMED.lock() {
                armed.retain(|a| a.id != self.id);
            }
        }
    }

    /// Makes every `fault.op` write under `under` fail with `fault.kind`
    /// (after `fault.after_bytes` bytes) until the guard is dropped.
    pub fn inject(under: &Path, fault: Fault) -> Injected {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut armed) = ARMED.lock() {
            armed.push(Armed {
                under: under.to_path_buf(),
                fault,
                id,
            });
        }
        Injected { id }
    }

    /// Parses `OP:KIND[:AFTER_BYTES]`: OP is `append` or `replace`; KIND is
    /// `storage-full`, `permission-denied` or `io`.
    pub fn parse(spec: &str) -> Result<Fault, String> {
        let mut parts = spec.split(':');
        let op = match parts.next() {
            Some("append") => Op::Append,
            Some("replace") => Op::Replace,
            other => return Err(format!("unknown fault op {other:?}")),
        };
        let kind = match parts.next() {
            Some("storage-full") => io::ErrorKind::StorageFull,
            Some("permission-denied") => io::ErrorKind::PermissionDenied,
            Some("io") => io::ErrorKind::Other,
            other => return Err(format!("unknown fault kind {other:?}")),
        };
        let after_bytes = match parts.next() {
            Some(n) => n.parse().map_err(|e| format!("fault byte count: {e}"))?,
            None => 0,
        };
        Ok(Fault {
            op,
            kind,
            after_bytes,
        })
    }

    fn armed_for(path: &Path, op: Op) -> Option<Fault> {
        let armed = ARMED.lock().ok()?;
        armed
            .iter()
            .find(|a| a.fault.op == op && path.starts_with(&a.under))
            .map(|a| a.fault)
    }

    fn error(kind: io::ErrorKind) -> io::Error {
        match kind {
            io::ErrorKind::StorageFull => io::Error::from_raw_os_error(28), // ENOSPC
            io::ErrorKind::PermissionDenied => io::Error::from_raw_os_error(13), // EACCES
            _ => io::Error::from_raw_os_error(5),                           // EIO
        }
    }

    /// `write_all`, unless a fault is armed for `path`.
    pub(crate) fn write_all(
        file: &mut impl Write,
        path: &Path,
        op: Op,
        bytes: &[u8],
    ) -> io::Result<()> {
        match armed_for(path, op) {
            None => file.write_all(bytes),
            Some(fault) => {
                let n = fault.after_bytes.min(bytes.len());
                file.write_all(&bytes[..n])?;
                file.flush()?;
                Err(error(fault.kind))
            }
        }
    }
}
