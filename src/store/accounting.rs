//! Checking the records on disk against the audit log.

use super::*;

/// One way a record on disk and the audit log disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountingProblem {
    pub incident: String,
    pub revision: u64,
    /// A failure (`true`) or a note about a change logged but never saved.
    pub failure: bool,
    pub message: String,
}

impl fmt::Display for AccountingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} revision {}: {}",
            self.incident, self.revision, self.message
        )
    }
}

impl Store {
    /// Checks every record in `incidents/` against the audit log: its saved
    /// revision must have an entry whose SHA-256 matches the file's bytes,
    /// and every revision from the first one logged up to it must have an
    /// entry. A change logged but never saved (a crash between the two, or a
    /// failed write) is reported as a note, not a failure. Reads only.
    pub fn account(&self, entries: &[AuditEntry]) -> Vec<AccountingProblem> {
        let mut logged: BTreeMap<&str, BTreeMap<u64, Vec<&AuditEntry>>> = BTreeMap::new();
        for e in entries {
            if let (Some(id), Some(rev)) = (e.incident.as_deref(), e.revision) {
                logged
                    .entry(id)
                    .or_default()
                    .entry(rev)
                    .or_default()
                    .push(e);
            }
        }
        let mut problems = Vec::new();
        let Ok(files) = self.record_files() else {
            return problems;
        };
        for (id, path) in files {
            let Ok(bytes) = fs::read(&path) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            let Parsed::Ok(incident) = parse_record(&text, &id) else {
                continue;
            };
            let sha = record_sha256(&bytes);
            let revision = incident.revision;
            let mut fail = |revision: u64, message: String| {
                problems.push(AccountingProblem {
                    incident: id.clone(),
                    revision,
                    failure: true,
                    message,
                })
            };
            let Some(revisions) = logged.get(id.as_str()) else {
                fail(
                    revision,
                    "saved, but the audit log has no entry for this incident at all".into(),
                );
                continue;
            };
            match revisions.get(&revision) {
                None => fail(revision, "saved, but has no audit entry".into()),
                Some(list)
                    if !list
                        .iter()
                        .any(|e| e.record_sha256.as_deref() == Some(&sha)) =>
                {
                    fail(
                        revision,
                        format!(
                            "the record on disk differs from what the audit log says was saved (seq {}): changed outside breachdesk",
                            list.last().map_or(0, |e| e.seq)
                        ),
                    )
                }
                Some(_) => {}
            }
            let first = revisions.keys().next().copied().unwrap_or(revision);
            for r in first..revision {
                if !revisions.contains_key(&r) {
                    fail(
                        r,
                        "was saved (a later revision exists) but has no audit entry".into(),
                    );
                }
            }
            for (r, list) in revisions.range(revision + 1..) {
                for e in list {
                    problems.push(AccountingProblem {
                        incident: id.clone(),
                        revision: *r,
                        failure: false,
                        message: format!(
                            "logged at seq {} ({}) but never saved: the record stayed at revision {revision}",
                            e.seq, e.action
                        ),
                    });
                }
            }
        }
        problems
    }
}
