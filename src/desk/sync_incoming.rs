//! One incoming record of a sync's merge, decided: this machine's copy
//! kept entry for entry ([`crate::domain::merge::keeps_entries`]), the
//! incoming revision logged for exactly those bytes in another machine's
//! chain, then taken whole, merged with this machine's copy, or refused
//! (see `super::sync_merge`, which applies the outcome).

use super::*;
use crate::domain::incident::EntryKind;
use crate::domain::merge::{MERGE_AUTHOR, keeps_entries, merge_incident};
use crate::store::{parse_record_copy, record_bytes, record_sha256};
use crate::sync::{Refusal, Repo, SyncError};
use std::collections::{HashMap, HashSet};

pub(super) fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// How many timeline entries of `bytes` (a record) the merge wrote for
/// conflicts.
pub(super) fn conflict_entries(bytes: Option<&[u8]>) -> usize {
    let Some(value) = bytes
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|t| toml::from_str::<toml::Table>(t).ok())
    else {
        return 0;
    };
    value
        .get("timeline")
        .and_then(|t| t.as_array())
        .map(|entries| {
            entries
                .iter()
                .filter(|e| {
                    e.get("kind").and_then(|k| k.as_str()) == Some(EntryKind::Conflict.as_str())
                        && e.get("by").and_then(|b| b.as_str()) == Some(MERGE_AUTHOR)
                })
                .count()
        })
        .unwrap_or(0)
}

/// A record the merge wrote: neither side's bytes.
pub(super) struct MergedRecord {
    pub(super) id: String,
    pub(super) bytes: Vec<u8>,
    pub(super) revision: u64,
    pub(super) mine: Option<u64>,
    pub(super) other: u64,
    pub(super) conflict: bool,
}

/// One incoming record and what deciding it needs.
pub(super) struct IncomingRecord<'a> {
    pub(super) repo: &'a Repo,
    pub(super) ours: &'a str,
    pub(super) theirs: &'a str,
    pub(super) change: &'a crate::sync::Change,
    pub(super) id: &'a str,
    /// This machine's blob of it.
    pub(super) mine: &'a Option<String>,
    pub(super) ours_changed: bool,
    pub(super) blobs: &'a HashMap<String, Vec<u8>>,
    pub(super) accounted: &'a Accounted,
}

/// What became of one incoming record.
pub(super) enum RecordOutcome {
    /// Merged with this machine's copy, it adds nothing.
    Unchanged,
    /// Not taken: this machine's copy stays.
    Refused(Box<Refusal>),
    /// Theirs, whole.
    Taken,
    /// The two copies merged into new bytes.
    Merged(Box<MergedRecord>),
}

/// The (incident, revision, SHA-256) triples the chains account for.
pub(super) type Accounted = HashSet<(String, u64, String)>;

impl Desk {
    /// What becomes of one incoming record: checked against this machine's
    /// copy (every entry kept) and the incoming chains (its revision logged
    /// for exactly those bytes), then taken whole, merged, or refused.
    pub(super) fn incoming_record(
        &self,
        at: IncomingRecord<'_>,
    ) -> Result<RecordOutcome, DeskError> {
        let IncomingRecord {
            repo,
            ours,
            theirs,
            change: c,
            id,
            mine,
            ours_changed,
            blobs,
            accounted,
        } = at;
        let path = c.path.as_str();
        let bytes_of = |id: &Option<String>| id.as_ref().and_then(|id| blobs.get(id));
        let from = short(theirs).to_string();
        let conflict = |files: &str, why: String| SyncError::Conflict {
            from: from.clone(),
            files: files.to_string(),
            why,
        };
        let empty = Vec::new();
        let their_bytes = bytes_of(&c.after).unwrap_or(&empty);
        let name = Path::new(path);
        let refuse = |reason: String, keep: bool| -> Result<RecordOutcome, DeskError> {
            Ok(RecordOutcome::Refused(Box::new(self.refusal(
                repo,
                ours,
                theirs,
                path,
                id,
                reason,
                keep.then_some(their_bytes.as_slice()),
            )?)))
        };
        let their_copy = match parse_record_copy(their_bytes, id, name) {
            Ok(Some(copy)) => copy,
            Ok(None) => return refuse("the incoming copy is empty".into(), false),
            Err(e) if ours_changed => {
                return Err(conflict(
                    path,
                    format!(
                        ": {}",
                        crate::text::one_line(&format!("{path}, their copy: {e}"))
                    ),
                )
                .into());
            }
            Err(e) => return refuse(crate::text::one_line(&e.to_string()), true),
        };
        let my_copy = match bytes_of(mine) {
            Some(bytes) => parse_record_copy(bytes, id, name).map_err(|e| {
                conflict(
                    path,
                    format!(
                        ": {}",
                        crate::text::one_line(&format!("{path}, our copy: {e}"))
                    ),
                )
            })?,
            None => None,
        };
        // The result: theirs whole, or the two merged.
        let (result, merged) = match (&my_copy, ours_changed) {
            (Some(my_copy), true) => {
                let base_copy = match bytes_of(&c.before) {
                    Some(bytes) => parse_record_copy(bytes, id, name).map_err(|e| {
                        conflict(
                            path,
                            format!(
                                ": {}",
                                crate::text::one_line(&format!(
                                    "{path}, the common ancestor's copy: {e}"
                                ))
                            ),
                        )
                    })?,
                    None => None,
                };
                let m = merge_incident(base_copy.as_ref(), my_copy, &their_copy).map_err(|e| {
                    conflict(
                        path,
                        format!(
                            ": {}",
                            crate::text::one_line(&format!("{path}: cannot merge: {e}"))
                        ),
                    )
                })?;
                if &m.incident == my_copy {
                    // Nothing of theirs to add.
                    return Ok(RecordOutcome::Unchanged);
                }
                let bytes = record_bytes(&m.incident, name)?;
                if bytes == *their_bytes {
                    (their_copy.clone(), None)
                } else {
                    (m.incident, Some(bytes))
                }
            }
            _ => (their_copy.clone(), None),
        };
        if let Some(my_copy) = &my_copy
            && let Err(lost) = keeps_entries(my_copy, &result)
        {
            return refuse(lost.to_string(), true);
        }
        let sha = record_sha256(their_bytes);
        if !accounted.contains(&(id.to_string(), their_copy.revision, sha.clone())) {
            return refuse(
                format!(
                    "revision {} (SHA-256 {}…) has no audit entry for exactly these bytes in the chain of the machine that wrote it",
                    their_copy.revision,
                    sha.get(..12).unwrap_or(&sha)
                ),
                true,
            );
        }
        Ok(match merged {
            None => RecordOutcome::Taken,
            Some(bytes) => RecordOutcome::Merged(Box::new(MergedRecord {
                id: id.to_string(),
                conflict: conflict_entries(Some(&bytes))
                    > conflict_entries(bytes_of(mine).map(Vec::as_slice))
                        .max(conflict_entries(Some(their_bytes))),
                revision: result.revision,
                mine: my_copy.as_ref().map(|m| m.revision),
                other: their_copy.revision,
                bytes,
            })),
        })
    }
}
