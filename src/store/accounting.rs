//! Checking the records on disk against the audit trail: every machine's
//! chain together, so a revision saved on one machine and synced to another
//! is accounted for by the chain of the machine that saved it.

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
    /// Checks every record in `incidents/` against `entries`, the entries of
    /// every chain of the audit trail: its saved revision must have an entry
    /// (in any chain) whose SHA-256 matches the file's bytes, and every
    /// revision from the first one logged up to it must have an entry (in
    /// any chain), except revisions at or below a `record.checkpoint`, which
    /// says earlier entries were pruned from its chain. A change logged but
    /// never saved (a crash between the two, a failed write, or a version a
    /// merge replaced by a later revision) is reported as a note, not a
    /// failure. Reads only.
    pub fn account(&self, entries: &[AuditEntry]) -> Vec<AccountingProblem> {
        let mut logged: BTreeMap<&str, BTreeMap<u64, Vec<&AuditEntry>>> = BTreeMap::new();
        // The highest revision a prune carried forward, per incident.
        let mut checkpoint: BTreeMap<&str, u64> = BTreeMap::new();
        for e in entries {
            if let (Some(id), Some(rev)) = (e.incident.as_deref(), e.revision) {
                if e.action == CHECKPOINT_ACTION {
                    let top = checkpoint.entry(id).or_default();
                    *top = (*top).max(rev);
                }
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
                            "the record on disk differs from what the audit log says was saved ({}): changed outside breachdesk",
                            list.last().map_or_else(String::new, |e| where_logged(e))
                        ),
                    )
                }
                Some(_) => {}
            }
            let first = revisions.keys().next().copied().unwrap_or(revision);
            let first = checkpoint.get(id.as_str()).map_or(first, |c| first.max(*c));
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
                            "logged at {} ({}) but never saved: the record stayed at revision {revision}",
                            where_logged(e),
                            e.action
                        ),
                    });
                }
            }
        }
        problems
    }
}

/// The action of an entry a prune writes to carry a pruned revision forward.
const CHECKPOINT_ACTION: &str = "record.checkpoint";

/// Where an entry is: "seq 7 of chain 3f0c9a51d27e8b64".
fn where_logged(e: &AuditEntry) -> String {
    format!("seq {} of chain {}", e.seq, e.chain)
}
