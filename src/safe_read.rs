//! Reading files that may be hostile or odd: the one way breachdesk reads
//! records, the index, the config, playbooks, templates and evidence.
//!
//! - The file is opened with `O_NOFOLLOW` (a symbolic link is refused, never
//!   followed), `O_NONBLOCK` (opening a FIFO never waits for a writer) and
//!   `O_NOCTTY`, and then checked with `fstat` on the opened descriptor, so
//!   what is checked is what is read: only a regular file is read.
//! - Reading stops at a size cap ([`MAX_RECORD_BYTES`] for records and other
//!   small text files), so `/dev/zero`-like or huge files never exhaust memory.
//! - A FIFO, device, socket, directory, symbolic link or oversized file is an
//!   error naming what it is, for the caller to report with the file's path.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The largest record (and config, playbook or template) breachdesk reads:
/// 16 MiB. A real record is a few kilobytes; anything larger is refused.
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// The largest summary index breachdesk reads (256 MiB, about a million
/// incidents); a larger one is ignored and rebuilt from the records.
pub const MAX_INDEX_BYTES: u64 = 256 * 1024 * 1024;

/// Why a file was not read. Messages are the cause only; the caller names
/// the file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[source] io::Error),
    #[error("is a symbolic link (not followed)")]
    Symlink,
    #[error("is {0}, not a regular file")]
    NotRegular(&'static str),
    #[error("is {size} bytes, more than the {limit}-byte limit")]
    TooLarge { size: u64, limit: u64 },
    #[error("is not UTF-8 text")]
    NotUtf8,
}

impl ReadError {
    /// The file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }

    /// As an `io::Error` (the OS error itself when there was one).
    pub fn into_io(self) -> io::Error {
        match self {
            ReadError::Io(e) => e,
            other => io::Error::other(other.to_string()),
        }
    }
}

/// What kind of thing a non-regular file is, in words ("a FIFO", ...).
pub fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Whether a symbolic link at the path itself is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Refused: for everything inside the data directory, and evidence.
    Refuse,
    /// Followed, to a regular file only: for files the responder names
    /// outside the data directory (config, playbooks, templates), which are
    /// often links into a dotfiles checkout.
    Follow,
}

/// Opens `path` for reading only if it is a regular file (not through a
/// symbolic link; never blocking on a FIFO). Returns the file and its
/// metadata, taken from the opened descriptor.
pub fn open_regular(path: &Path) -> Result<(File, Metadata), ReadError> {
    open_with(path, Links::Refuse)
}

/// [`open_regular`], choosing whether a link at `path` is followed.
pub fn open_with(path: &Path, links: Links) -> Result<(File, Metadata), ReadError> {
    let nofollow = match links {
        Links::Refuse => libc::O_NOFOLLOW,
        Links::Follow => 0,
    };
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(nofollow | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path);
    let file = match opened {
        Ok(file) => file,
        Err(e) => {
            // ELOOP from O_NOFOLLOW, ENXIO from a socket: say what it is.
            let meta = match links {
                Links::Refuse => std::fs::symlink_metadata(path),
                Links::Follow => std::fs::metadata(path),
            };
            return Err(match meta {
                Ok(meta) if meta.file_type().is_symlink() => ReadError::Symlink,
                Ok(meta) if !meta.is_file() => ReadError::NotRegular(kind_of(&meta)),
                _ => ReadError::Io(e),
            });
        }
    };
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_of(&meta)));
    }
    Ok((file, meta))
}

/// The bytes of a regular file of at most `limit` bytes (not through a
/// symbolic link).
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    read_bytes_with(path, limit, Links::Refuse)
}

/// [`read_bytes`], choosing whether a link at `path` is followed.
pub fn read_bytes_with(path: &Path, limit: u64, links: Links) -> Result<Vec<u8>, ReadError> {
    let (file, meta) = open_with(path, links)?;
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // The file may grow after fstat: never read more than the limit + 1.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    let size = bytes.len() as u64;
    if size > limit {
        return Err(ReadError::TooLarge { size, limit });
    }
    Ok(bytes)
}

/// The text of a regular UTF-8 file of at most `limit` bytes (not through a
/// symbolic link).
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    String::from_utf8(read_bytes(path, limit)?).map_err(|_| ReadError::NotUtf8)
}

/// The text of a file the responder names outside the data directory
/// (config, playbook, template): a link is followed, but only to a regular
/// UTF-8 file of at most [`MAX_RECORD_BYTES`].
pub fn read_user_file(path: &Path) -> Result<String, ReadError> {
    String::from_utf8(read_bytes_with(path, MAX_RECORD_BYTES, Links::Follow)?)
        .map_err(|_| ReadError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn reads_a_regular_file_and_refuses_the_rest() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("a.toml");
        std::fs::write(&file, "x = 1\n").expect("write");
        assert_eq!(read_text(&file, 100).expect("read"), "x = 1\n");
        assert!(matches!(
            read_text(&file, 3),
            Err(ReadError::TooLarge { size: 6, limit: 3 })
        ));
        let link = dir.path().join("link.toml");
        symlink(&file, &link).expect("symlink");
        assert!(matches!(read_text(&link, 100), Err(ReadError::Symlink)));
        assert_eq!(read_user_file(&link).expect("followed"), "x = 1\n");
        let zero = dir.path().join("zero.toml");
        symlink("/dev/zero", &zero).expect("symlink");
        assert!(matches!(
            read_user_file(&zero),
            Err(ReadError::NotRegular("a character device"))
        ));
        assert!(matches!(
            read_text(dir.path(), 100),
            Err(ReadError::NotRegular("a directory"))
        ));
        assert!(matches!(
            read_text(Path::new("/dev/zero"), 100),
            Err(ReadError::NotRegular("a character device"))
        ));
        assert!(read_text(&dir.path().join("none"), 100).is_err_and(|e| e.is_not_found()));
        std::fs::write(&file, [0xff, 0xfe]).expect("write");
        assert!(matches!(read_text(&file, 100), Err(ReadError::NotUtf8)));
    }
}
