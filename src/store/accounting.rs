//! Checking the records on disk against the audit trail: every machine's
//! chain together, so a revision saved on one machine and synced to another
//! is accounted for by the chain of the machine that saved it.
//!
//! Every entry of `incidents/` is looked at: a symbolic link, FIFO, device
//! or directory is reported (never followed or opened); a record is read
//! through the safe reader (size cap, no link followed, never blocking) and
//! hashed once, its revision taken from its summary line when that line
//! holds (its hash covers the whole file), else from a full parse. The
//! files are read on two threads.

use super::read::parse_record_bytes;
use super::summary_line::summary_from_line;
use super::*;
use crate::safe_read::kind_of;

/// One way a record on disk and the audit log disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountingProblem {
    /// The incident (the file's name without `.toml`).
    pub incident: String,
    /// The revision concerned; `None` for a file that could not be read.
    pub revision: Option<u64>,
    /// A failure (`true`) or a note about a change logged but never saved.
    pub failure: bool,
    /// A stable name for the kind of problem (`--format json`): see
    /// [`Store::account`].
    pub kind: &'static str,
    /// The record file concerned.
    pub file: PathBuf,
    pub message: String,
}

impl fmt::Display for AccountingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.revision {
            Some(revision) => write!(
                f,
                "{} revision {}: {} (file {})",
                self.incident,
                revision,
                self.message,
                self.file.display()
            ),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// The records of `incidents/` as read by [`Store::read_records`].
pub struct RecordsRead {
    files: Vec<(String, PathBuf)>,
    odd: Vec<OddEntry>,
    read: Vec<Read>,
}

/// An entry of `incidents/` that is not a regular file: its name without
/// `.toml`, its path, and what it is.
type OddEntry = (String, PathBuf, String);

/// What reading one record found.
enum Read {
    /// Its revision (when known) and the SHA-256 of its bytes; `too_new`
    /// when written by a newer breachdesk.
    Record {
        revision: Option<u64>,
        sha: String,
        too_new: Option<u32>,
    },
    /// Not readable or not parseable: kind and why.
    Bad(&'static str, String),
}

/// Reads and hashes one record file.
fn read_one(id: &str, path: &Path) -> Read {
    let bytes = match read_bytes(path, MAX_RECORD_BYTES) {
        Ok(bytes) => bytes,
        Err(e @ ReadError::Symlink) | Err(e @ ReadError::NotRegular(_)) => {
            return Read::Bad("not-a-regular-file", format!("{e}; not read"));
        }
        Err(e) => return Read::Bad("record-unreadable", format!("cannot be read: {e}")),
    };
    let sha = record_sha256(&bytes);
    if let Some(summary) = summary_from_line(&bytes, id) {
        return Read::Record {
            revision: Some(summary.revision),
            sha,
            too_new: None,
        };
    }
    match parse_record_bytes(&bytes, id) {
        Parsed::Ok(incident) => Read::Record {
            revision: Some(incident.revision),
            sha,
            too_new: None,
        },
        Parsed::TooNew(found) => Read::Record {
            revision: None,
            sha,
            too_new: Some(found),
        },
        Parsed::Bad {
            line,
            column,
            message,
        } => Read::Bad(
            "record-unparseable",
            format!(
                "{}cannot be parsed: {message} (damaged: compare with a backup or a teammate's copy)",
                match (line, column) {
                    (Some(l), Some(c)) => format!("line {l}, column {c}: "),
                    (Some(l), None) => format!("line {l}: "),
                    _ => String::new(),
                }
            ),
        ),
    }
}

impl Store {
    /// Checks every entry of `incidents/` against `entries`, the entries of
    /// every chain of the audit trail. Failures (`kind`):
    ///
    /// - `not-a-regular-file`: a symbolic link, FIFO, device, socket or
    ///   directory (never followed or opened);
    /// - `record-unreadable`, `record-unparseable`: a record that cannot be
    ///   read (too large, not UTF-8...) or parsed (truncated, a key twice);
    /// - `no-entry-for-incident`, `no-entry`: a saved revision with no entry;
    /// - `sha256-mismatch`: entries for the revision exist, but none for the
    ///   file's SHA-256 (another machine's unrelated entry for the same
    ///   revision number accounts for nothing);
    /// - `missing-revision`: a revision below the saved one has no entry
    ///   (except at or below a `record.checkpoint`, which says earlier
    ///   entries were pruned from its chain);
    /// - `record-missing`: a logged incident with no record file, when a
    ///   revision after its first was logged (so the record was saved) and
    ///   it is not in quarantine.
    ///
    /// Notes: `logged-never-saved` (a revision logged whose record was never
    /// written: a crash between the two, a full disk, or a version a merge
    /// replaced), `record-in-quarantine`, `record-too-new` (written by a
    /// newer breachdesk: its SHA-256 must still be logged). Reads only.
    pub fn account(&self, entries: &[AuditEntry]) -> Vec<AccountingProblem> {
        self.account_read(self.read_records(), entries)
    }

    /// Every entry of `incidents/` read and hashed (on two threads), for
    /// [`Store::account_read`]: done while the chains are verified.
    pub fn read_records(&self) -> RecordsRead {
        let (files, odd) = self.incident_entries();
        let read = read_all(&files);
        RecordsRead { files, odd, read }
    }

    /// [`Store::account`] of records already read.
    pub fn account_read(
        &self,
        records: RecordsRead,
        entries: &[AuditEntry],
    ) -> Vec<AccountingProblem> {
        let RecordsRead { files, odd, read } = records;
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
        for (id, path, why) in odd {
            problems.push(AccountingProblem {
                incident: id,
                revision: None,
                failure: true,
                kind: "not-a-regular-file",
                file: path,
                message: why,
            });
        }
        let on_disk: std::collections::BTreeSet<&str> =
            files.iter().map(|(id, _)| id.as_str()).collect();
        for ((id, path), read) in files.iter().zip(read) {
            let (revision, sha, too_new) = match read {
                Read::Bad(kind, message) => {
                    problems.push(AccountingProblem {
                        incident: id.clone(),
                        revision: None,
                        failure: true,
                        kind,
                        file: path.clone(),
                        message,
                    });
                    continue;
                }
                Read::Record {
                    revision,
                    sha,
                    too_new,
                } => (revision, sha, too_new),
            };
            let mut fail = |revision: Option<u64>, kind: &'static str, message: String| {
                problems.push(AccountingProblem {
                    incident: id.clone(),
                    revision,
                    failure: true,
                    kind,
                    file: path.clone(),
                    message,
                })
            };
            let Some(revisions) = logged.get(id.as_str()) else {
                fail(
                    revision,
                    "no-entry-for-incident",
                    "saved, but the audit log has no entry for this incident at all".into(),
                );
                continue;
            };
            let Some(revision) = revision else {
                let version = too_new.unwrap_or_default();
                if !revisions
                    .values()
                    .flatten()
                    .any(|e| e.record_sha256.as_deref() == Some(&sha))
                {
                    fail(
                        None,
                        "sha256-mismatch",
                        format!(
                            "written by a newer breachdesk (schema version {version}), and no audit entry has its SHA-256: changed outside breachdesk"
                        ),
                    );
                } else {
                    problems.push(AccountingProblem {
                        incident: id.clone(),
                        revision: None,
                        failure: false,
                        kind: "record-too-new",
                        file: path.clone(),
                        message: format!(
                            "written by a newer breachdesk (schema version {version}): its SHA-256 is logged, but only a newer breachdesk can check it further (upgrade)"
                        ),
                    });
                }
                continue;
            };
            match revisions.get(&revision) {
                None => fail(
                    Some(revision),
                    "no-entry",
                    "saved, but has no audit entry".into(),
                ),
                Some(list)
                    if !list
                        .iter()
                        .any(|e| e.record_sha256.as_deref() == Some(&sha)) =>
                {
                    fail(
                        Some(revision),
                        "sha256-mismatch",
                        format!(
                            "the record on disk differs from what the audit log says was saved ({}): changed outside breachdesk (no entry for revision {revision} has its SHA-256 {})",
                            list.iter()
                                .map(|e| where_logged(e))
                                .collect::<Vec<_>>()
                                .join(", "),
                            &sha[..12]
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
                        Some(r),
                        "missing-revision",
                        "was saved (a later revision exists) but has no audit entry".into(),
                    );
                }
            }
            for (r, list) in revisions.range(revision + 1..) {
                for e in list {
                    problems.push(never_saved(id, path, *r, e, Some(revision)));
                }
            }
        }
        for (id, revisions) in &logged {
            if on_disk.contains(id) {
                continue;
            }
            let path = self.record_path(id);
            let quarantined = self.quarantined_files_of(id);
            let top = revisions.keys().next_back().copied().unwrap_or_default();
            if !quarantined.is_empty() {
                problems.push(AccountingProblem {
                    incident: id.to_string(),
                    revision: Some(top),
                    failure: false,
                    kind: "record-in-quarantine",
                    file: path,
                    message: format!(
                        "the record is in quarantine ({}), not in incidents/",
                        quarantined
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            } else if top >= 2 || checkpoint.contains_key(id) {
                let last = revisions.values().flatten().last();
                problems.push(AccountingProblem {
                    incident: id.to_string(),
                    revision: Some(top),
                    failure: true,
                    kind: "record-missing",
                    file: path.clone(),
                    message: format!(
                        "logged ({}) but {} is missing: the record was deleted",
                        last.map_or_else(String::new, |e| where_logged(e)),
                        path.display()
                    ),
                });
            } else {
                for e in revisions.values().flatten() {
                    problems.push(never_saved(id, &path, top, e, None));
                }
            }
        }
        problems
    }

    /// The entries of `incidents/`: the record files (regular `*.toml`,
    /// not temp files) as (id, path) sorted by id, and every other entry that
    /// is not a regular file, with what it is. Nothing is followed.
    fn incident_entries(&self) -> (Vec<(String, PathBuf)>, Vec<OddEntry>) {
        let mut files = Vec::new();
        let mut odd = Vec::new();
        let Ok(listing) = fs::read_dir(&self.incidents) else {
            return (files, odd);
        };
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let stem = name.strip_suffix(".toml").unwrap_or(&name).to_string();
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_file() => {
                    if name.ends_with(".toml") {
                        files.push((stem, path));
                    }
                }
                Ok(meta) => {
                    let what = if meta.file_type().is_symlink() {
                        "is a symbolic link (not followed)".to_string()
                    } else {
                        format!("is {}, not a regular file; not opened", kind_of(&meta))
                    };
                    odd.push((stem, path, what));
                }
                Err(_) => {}
            }
        }
        files.sort();
        odd.sort();
        (files, odd)
    }
}

/// Reads and hashes every file, on two threads.
fn read_all(files: &[(String, PathBuf)]) -> Vec<Read> {
    let half = files.len().div_ceil(2);
    if half < 64 {
        return files.iter().map(|(id, p)| read_one(id, p)).collect();
    }
    let (a, b) = files.split_at(half);
    std::thread::scope(|s| {
        let other = s.spawn(|| b.iter().map(|(id, p)| read_one(id, p)).collect::<Vec<_>>());
        let mut out: Vec<Read> = a.iter().map(|(id, p)| read_one(id, p)).collect();
        match other.join() {
            Ok(rest) => out.extend(rest),
            Err(_) => out.extend(b.iter().map(|(id, p)| read_one(id, p))),
        }
        out
    })
}

/// The note for an entry whose revision was never saved.
fn never_saved(
    id: &str,
    path: &Path,
    revision: u64,
    e: &AuditEntry,
    stayed: Option<u64>,
) -> AccountingProblem {
    AccountingProblem {
        incident: id.to_string(),
        revision: Some(e.revision.unwrap_or(revision)),
        failure: false,
        kind: "logged-never-saved",
        file: path.to_path_buf(),
        message: match stayed {
            Some(r) => format!(
                "logged at {} ({}) but never saved: the record stayed at revision {r}",
                where_logged(e),
                e.action
            ),
            None => format!(
                "logged at {} ({}) but never saved: there is no record file (a crash or a full disk before its first write)",
                where_logged(e),
                e.action
            ),
        },
    }
}

/// The action of an entry a prune writes to carry a pruned revision forward.
const CHECKPOINT_ACTION: &str = "record.checkpoint";

/// Where an entry is: "seq 7 of chain 3f0c9a51d27e8b64".
fn where_logged(e: &AuditEntry) -> String {
    format!("seq {} of chain {}", e.seq, e.chain)
}
