//! One record file outside a data directory: how the git merge driver
//! (`breachdesk merge-record`) reads the three copies git hands it and
//! writes the merged one, with the store's own parsing (and migration of
//! older records) and its own canonical text (the summary line, then the
//! TOML), written atomically and durably.

use super::read::parse_record_bytes;
use super::summary_line::record_text;
use super::*;

/// Reads and parses the record at `path`, whose id must be `expected_id`.
/// `Ok(None)` when the file is missing or empty (git's base when both sides
/// added the record). Errors name the file, and the line and column when
/// the text does not parse.
pub fn read_record_file(path: &Path, expected_id: &str) -> Result<Option<Incident>, StoreError> {
    let bytes = match read_bytes(path, MAX_RECORD_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(unreadable(path, e)),
    };
    if bytes.is_empty() {
        return Ok(None);
    }
    parse_record_bytes(&bytes, expected_id)
        .into_result(path.to_path_buf())
        .map(Some)
}

/// Replaces the file at `path` with `incident` as the store writes records:
/// a temp file in the same directory, synced, renamed over it.
pub fn write_record_file(path: &Path, incident: &Incident) -> Result<(), StoreError> {
    let text = record_text(incident).map_err(|message| StoreError::Serialize {
        file: path.to_path_buf(),
        message,
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| StoreError::Io {
            action: "replace",
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
        })?
        .to_string_lossy()
        .into_owned();
    replace_file(dir, &name, text.as_bytes()).map_err(io_err("replace", path))
}

/// Parses a copy of a record held in memory (a blob a sync read from git),
/// whose id must be `expected_id`; `name` is what errors call it.
/// `Ok(None)` when it is empty.
pub fn parse_record_copy(
    bytes: &[u8],
    expected_id: &str,
    name: &Path,
) -> Result<Option<Incident>, StoreError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    parse_record_bytes(bytes, expected_id)
        .into_result(name.to_path_buf())
        .map(Some)
}

/// The bytes the store writes for `incident` (the summary line, then the
/// canonical TOML); `name` is what an error calls it.
pub fn record_bytes(incident: &Incident, name: &Path) -> Result<Vec<u8>, StoreError> {
    record_text(incident)
        .map(String::into_bytes)
        .map_err(|message| StoreError::Serialize {
            file: name.to_path_buf(),
            message,
        })
}
