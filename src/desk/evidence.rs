//! Evidence files: fixed by path, size and SHA-256, and re-checked.
//!
//! Only regular files are evidence: a FIFO, device, socket or directory is
//! refused (opening never blocks; see [`crate::safe_read`]). Files of any
//! size are hashed by streaming, 64 KiB at a time. A path that is not UTF-8
//! is kept exactly (`path_hex`) next to a readable form, so re-checking
//! finds the same file.

use super::*;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// Evidence fixed by path, size and SHA-256 (chain of custody).
pub fn evidence_file(path: &Path, actor: &str, now: DateTime<Utc>) -> Result<Evidence, DeskError> {
    let unreadable = |source| DeskError::Evidence {
        path: path.to_path_buf(),
        source,
    };
    let absolute = std::fs::canonicalize(path).map_err(unreadable)?;
    let (size, sha256) = hash_file(&absolute).map_err(unreadable)?;
    Ok(Evidence {
        uid: String::new(),
        added_at: now,
        added_by: actor.to_string(),
        note: None,
        path: Some(absolute.display().to_string()),
        path_hex: path_hex(&absolute),
        size: Some(size),
        sha256: Some(sha256),
    })
}

/// The exact bytes of a path that is not UTF-8, in hex (`None` for UTF-8).
pub fn path_hex(path: &Path) -> Option<String> {
    match path.to_str() {
        Some(_) => None,
        None => Some(hex::encode(path.as_os_str().as_bytes())),
    }
}

/// The exact path an evidence entry recorded: from `path_hex` when the
/// path was not UTF-8, else `path`.
pub fn evidence_path(e: &Evidence) -> Option<PathBuf> {
    if let Some(bytes) = e.path_hex.as_deref().and_then(|h| hex::decode(h).ok()) {
        return Some(PathBuf::from(OsStr::from_bytes(&bytes)));
    }
    e.path.as_deref().map(PathBuf::from)
}

/// Size and hex SHA-256 of a regular file's bytes, streamed. Anything else
/// (a FIFO, device, socket, directory, symbolic link) is refused without
/// blocking.
pub fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let (mut file, _) = crate::safe_read::open_regular(path).map_err(|e| e.into_io())?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buffer) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// How an evidence file compares with what was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceCheck {
    Unchanged,
    Changed { size: u64, sha256: String },
    Unreadable(String),
}

/// Re-hashes every evidence file of an incident: (where, path as shown,
/// result).
pub fn check_evidence(incident: &Incident) -> Vec<(String, String, EvidenceCheck)> {
    let mut places: Vec<(String, &Evidence)> = Vec::new();
    for step in &incident.steps {
        places.extend(
            step.evidence
                .iter()
                .map(|e| (format!("step {}", step.id), e)),
        );
    }
    places.extend(
        incident
            .mitigation
            .evidence
            .iter()
            .map(|e| ("mitigation".to_string(), e)),
    );
    for r in &incident.data_requests {
        places.extend(
            r.attachments
                .iter()
                .map(|e| (format!("request {}", r.id), e)),
        );
    }
    places
        .into_iter()
        .filter_map(|(place, e)| {
            let path = evidence_path(e)?;
            let shown = e.path.clone().unwrap_or_else(|| path.display().to_string());
            let result = match hash_file(&path) {
                Ok((size, sha)) if Some(size) == e.size && Some(&sha) == e.sha256.as_ref() => {
                    EvidenceCheck::Unchanged
                }
                Ok((size, sha256)) => EvidenceCheck::Changed { size, sha256 },
                Err(err) => EvidenceCheck::Unreadable(err.to_string()),
            };
            Some((place, shown, result))
        })
        .collect()
}
