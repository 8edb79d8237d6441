//! Evidence files: fixed by path, size and SHA-256, and re-checked.

use super::*;

/// Evidence fixed by path, size and SHA-256 (chain of custody).
pub fn evidence_file(path: &Path, actor: &str, now: DateTime<Utc>) -> Result<Evidence, DeskError> {
    let absolute = std::fs::canonicalize(path)
        .map_err(|e| refused(format!("evidence file {}: {e}", path.display())))?;
    let (size, sha256) = hash_file(&absolute)
        .map_err(|e| refused(format!("evidence file {}: {e}", path.display())))?;
    Ok(Evidence {
        added_at: now,
        added_by: actor.to_string(),
        note: None,
        path: Some(absolute.display().to_string()),
        size: Some(size),
        sha256: Some(sha256),
    })
}

/// Size and hex SHA-256 of a file's bytes.
pub fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
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

/// Re-hashes every evidence file of an incident: (where, path, result).
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
            let path = e.path.clone()?;
            let result = match hash_file(Path::new(&path)) {
                Ok((size, sha)) if Some(size) == e.size && Some(&sha) == e.sha256.as_ref() => {
                    EvidenceCheck::Unchanged
                }
                Ok((size, sha256)) => EvidenceCheck::Changed { size, sha256 },
                Err(err) => EvidenceCheck::Unreadable(err.to_string()),
            };
            Some((place, path, result))
        })
        .collect()
}
