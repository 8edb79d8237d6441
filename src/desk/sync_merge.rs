//! Taking the team's commits in, so that a sync killed at any instant
//! leaves the old state or the merged one, and nothing a teammate's commit
//! removed or rewrote is taken:
//!
//! 1. The merge is computed before anything is written: what each side
//!    changed since their common ancestor (`diff-tree`), the copies' bytes
//!    (`cat-file`), and each record both sides changed merged in-process
//!    by [`crate::domain::merge::merge_incident`], exactly as the
//!    `merge-record` driver does.
//! 2. Every incoming record (merged or taken whole) is checked: the result
//!    keeps every entry of this machine's copy
//!    ([`crate::domain::merge::keeps_entries`]), and the incoming revision
//!    has an audit entry for exactly those bytes (incident, revision,
//!    SHA-256) in another machine's chain of the incoming tree. A record
//!    that fails keeps this machine's copy; the incoming bytes go to
//!    `refused/` and the sync says which commit, by whom, and why.
//! 3. The audit entries for the records the merge wrote, and `sync.merged`,
//!    are appended to this machine's chain (log-first, like every save).
//! 4. The merge commit is built in a temporary index (`commit-tree -p ours
//!    -p theirs`), and moved into the working tree under a journal
//!    (`super::sync_move`).

use super::sync::SyncReport;
use super::sync_incoming::{Accounted, IncomingRecord, MergedRecord, RecordOutcome, short};
use super::sync_move::{record_id, shared_path};
use super::*;
use crate::audit::NewEntry;
use crate::store::{SavesHeld, record_sha256};
use crate::sync::{EMPTY_TREE, Refusal, Repo, SyncError};
use std::collections::{HashMap, HashSet};

/// The largest audit chain read from an incoming tree.
const MAX_CHAIN_BYTES: u64 = 256 * 1024 * 1024;

/// Where refused incoming records are kept (machine-local).
const REFUSED_DIR: &str = "refused";

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What the merge decided, before anything is logged or written.
struct Outcome {
    came_in: usize,
    fast_forward: bool,
    /// Some incoming change was not taken (this machine's copy stays).
    kept_ours: bool,
    updates: Vec<(String, Option<String>)>,
    merged_records: Vec<MergedRecord>,
    refused: Vec<Refusal>,
    incidents_in: Vec<String>,
    own_chain: Option<String>,
}

impl Desk {
    pub(super) fn own_chain_path(&self) -> Option<String> {
        self.audit
            .machine_id()
            .map(|id| format!("audit/chains/{id}.jsonl"))
    }

    /// What the chains of `theirs` account for, of the records `changes`
    /// touch (nothing to read when they touch none).
    fn accounted_for(
        &self,
        repo: &Repo,
        theirs: &str,
        changes: &[crate::sync::Change],
    ) -> Result<Accounted, DeskError> {
        let ids: HashSet<String> = changes
            .iter()
            .filter_map(|c| record_id(&c.path).map(str::to_string))
            .collect();
        if ids.is_empty() {
            return Ok(Accounted::new());
        }
        self.accounted_in(repo, theirs, &ids)
    }

    /// The entries of every chain in `rev` but this machine's, for the
    /// incidents `ids`: which revisions of which bytes they account for.
    fn accounted_in(
        &self,
        repo: &Repo,
        rev: &str,
        ids: &HashSet<String>,
    ) -> Result<Accounted, DeskError> {
        #[derive(serde::Deserialize)]
        struct Line {
            incident: Option<String>,
            revision: Option<u64>,
            record_sha256: Option<String>,
        }
        let own = self.own_chain_path();
        let chains: Vec<String> = repo
            .blob_ids(rev, "audit/chains/")?
            .into_iter()
            .filter(|(path, _)| Some(path) != own.as_ref() && path.ends_with(".jsonl"))
            .map(|(_, blob)| blob)
            .collect();
        let mut out = Accounted::new();
        for bytes in repo.blobs(&chains, MAX_CHAIN_BYTES)?.values() {
            for line in bytes.split(|b| *b == b'\n') {
                // Most lines are about other incidents: skip them unparsed.
                if !ids.iter().any(|id| {
                    line.windows(id.len() + 2)
                        .any(|w| w[0] == b'"' && &w[1..=id.len()] == id.as_bytes())
                }) {
                    continue;
                }
                let Ok(entry) = serde_json::from_slice::<Line>(line) else {
                    continue;
                };
                if let (Some(id), Some(rev), Some(sha)) =
                    (entry.incident, entry.revision, entry.record_sha256)
                {
                    out.insert((id, rev, sha));
                }
            }
        }
        Ok(out)
    }

    /// Keeps refused incoming bytes in `refused/` (0700/0600), as
    /// `<commit>-<id>.toml`; its path relative to the data directory.
    fn keep_refused(&self, commit: &str, id: &str, bytes: &[u8]) -> Option<String> {
        if bytes.len() as u64 > crate::safe_read::MAX_RECORD_BYTES {
            return None;
        }
        let dir = self.data_dir().join(REFUSED_DIR);
        crate::durable::ensure_private_dir(&dir).ok()?;
        let name = format!("{}-{id}.toml", commit.get(..8).unwrap_or(commit));
        crate::durable::replace_file(&dir, &name, bytes).ok()?;
        Some(format!("{REFUSED_DIR}/{name}"))
    }

    /// Merges `theirs` into HEAD with every save held off (see the module
    /// text), and makes the index re-check the records.
    pub(super) fn merge_in(
        &self,
        repo: &Repo,
        theirs: &str,
        now: DateTime<Utc>,
        report: &mut SyncReport,
    ) -> Result<(), DeskError> {
        let held = self.store.hold_saves()?;
        // Anything saved here since the sync began goes in first, so the
        // merge never meets an uncommitted change.
        repo.commit_all(&format!("{}: changes made on this machine", self.actor))?;
        let ours = repo
            .commit_of("HEAD")?
            .ok_or_else(|| system("the data directory's repository has no commit"))?;
        let came_in = repo.count(&ours, theirs)?;
        let base = repo.merge_base(&ours, theirs)?;
        let fast_forward = base.as_deref() == Some(ours.as_str());
        let base_ref = base.as_deref().unwrap_or(EMPTY_TREE);
        let their_changes = repo.changes(base_ref, theirs)?;
        let our_changes: HashMap<String, Option<String>> = if fast_forward {
            HashMap::new()
        } else {
            repo.changes(base_ref, &ours)?
                .into_iter()
                .map(|c| (c.path, c.after))
                .collect()
        };
        let blobs = repo.blobs(
            &record_blobs(&their_changes, &our_changes),
            crate::safe_read::MAX_RECORD_BYTES,
        )?;
        let accounted = self.accounted_for(repo, theirs, &their_changes)?;
        let own_chain = self.own_chain_path();
        let from = short(theirs).to_string();
        let conflict = |files: &str, why: String| SyncError::Conflict {
            from: from.clone(),
            files: files.to_string(),
            why,
        };

        let mut updates: Vec<(String, Option<String>)> = Vec::new();
        let mut merged_records = Vec::new();
        let mut refused: Vec<Refusal> = Vec::new();
        let mut kept_ours = false;
        let mut incidents_in = Vec::new();
        for c in &their_changes {
            let path = c.path.as_str();
            let mine = match our_changes.get(path) {
                Some(after) => after.clone(),
                None => c.before.clone(),
            };
            if c.after == mine {
                continue;
            }
            let ours_changed = our_changes.contains_key(path);
            let regular = c.mode == "100644" || c.mode == "100755";
            if !shared_path(path)
                || (path.starts_with("incidents/") && record_id(path).is_none())
                || !regular
                || Some(path) == own_chain.as_deref()
                || c.after.is_none()
            {
                // Not the remote's to change (the gate refuses these before
                // the merge): this machine's copy stays.
                if let Some(id) = record_id(path) {
                    refused.push(self.refusal(
                        repo,
                        &ours,
                        theirs,
                        path,
                        id,
                        if c.after.is_none() {
                            "the record was deleted".into()
                        } else {
                            "not a regular file".into()
                        },
                        None,
                    )?);
                }
                kept_ours = true;
                continue;
            }
            let Some(id) = record_id(path) else {
                if !ours_changed {
                    updates.push((c.path.clone(), c.after.clone()));
                    continue;
                }
                // Both sides changed the same chain (a third machine's, seen
                // at different lengths): the longer, if the other is its start.
                match longer_chain(repo, path, &mine, &c.after)? {
                    Some(true) => updates.push((c.path.clone(), c.after.clone())),
                    Some(false) => {}
                    None => return Err(conflict(path, String::new()).into()),
                }
                continue;
            };
            match self.incoming_record(IncomingRecord {
                repo,
                ours: &ours,
                theirs,
                change: c,
                id,
                mine: &mine,
                ours_changed,
                blobs: &blobs,
                accounted: &accounted,
            })? {
                RecordOutcome::Unchanged => {}
                RecordOutcome::Refused(refusal) => {
                    refused.push(*refusal);
                    kept_ours = true;
                }
                RecordOutcome::Taken => {
                    incidents_in.push(id.to_string());
                    updates.push((c.path.clone(), c.after.clone()));
                }
                RecordOutcome::Merged(record) => {
                    incidents_in.push(id.to_string());
                    let blob = repo.write_blob(&record.bytes)?;
                    updates.push((c.path.clone(), Some(blob)));
                    merged_records.push(*record);
                }
            }
        }

        self.log_and_move(
            repo,
            &ours,
            theirs,
            Outcome {
                came_in,
                fast_forward,
                kept_ours,
                updates,
                merged_records,
                refused,
                incidents_in,
                own_chain,
            },
            &held,
            now,
            report,
        )?;
        // (The index was told by the move, before any record was replaced.)
        drop(held);
        Ok(())
    }

    /// Logs what the merge took (entries first where it wrote records of
    /// its own), builds the commit and moves the working tree, the index
    /// and HEAD to it; adds it all to `report`.
    #[allow(clippy::too_many_arguments)]
    fn log_and_move(
        &self,
        repo: &Repo,
        ours: &str,
        theirs: &str,
        outcome: Outcome,
        held: &SavesHeld,
        now: DateTime<Utc>,
        report: &mut SyncReport,
    ) -> Result<(), DeskError> {
        let Outcome {
            came_in,
            fast_forward,
            kept_ours,
            mut updates,
            merged_records,
            refused,
            incidents_in,
            own_chain,
        } = outcome;
        let message = format!(
            "{}: merged {} from {}",
            self.actor,
            plural(came_in, "commit", "commits"),
            short(theirs)
        );
        let sync_merged = (!incidents_in.is_empty()).then(|| {
            NewEntry::sync_merged(
                now,
                &self.actor,
                short(theirs),
                &format!(
                    "{} from origin/{}: {} changed: {}",
                    plural(came_in, "commit", "commits"),
                    report.branch,
                    plural(incidents_in.len(), "incident", "incidents"),
                    incidents_in.join(", ")
                ),
            )
        });
        let conflicts: Vec<String> = merged_records
            .iter()
            .filter(|m| m.conflict)
            .map(|m| m.id.clone())
            .collect();
        if fast_forward && !kept_ours {
            // Theirs whole: move to it, then log and commit the sync.
            self.move_to(repo, ours, theirs, updates, held)?;
            if let Some(entry) = sync_merged {
                self.audit.append_entries(&[entry])?;
            }
            repo.commit_all(&message)?;
        } else {
            // Log first: the merged revisions' entries, then the commit.
            let mut entries: Vec<NewEntry> = merged_records
                .iter()
                .map(|m| {
                    let rev = |r: Option<u64>| r.map_or("none".to_string(), |r| r.to_string());
                    NewEntry::record_merged(
                        now,
                        &self.actor,
                        &m.id,
                        short(theirs),
                        m.revision,
                        &record_sha256(&m.bytes),
                        &format!(
                            "this machine's revision {} and the other's revision {}{}",
                            rev(m.mine),
                            m.other,
                            if m.conflict {
                                "; a field changed on both sides: the other value is on the timeline"
                            } else {
                                ""
                            }
                        ),
                    )
                })
                .collect();
            entries.extend(sync_merged);
            if !entries.is_empty() {
                self.audit.append_entries(&entries)?;
            }
            if let Some(chain) = &own_chain {
                let file = self.data_dir().join(chain);
                if let Ok(bytes) = crate::safe_read::read_bytes(&file, MAX_CHAIN_BYTES) {
                    updates.push((chain.clone(), Some(repo.write_blob(&bytes)?)));
                }
            }
            let tree = repo.tree_with(ours, &updates)?;
            let commit = repo.commit_tree(&tree, &[ours, theirs], &message)?;
            self.move_to(repo, ours, &commit, updates, held)?;
        }
        report.came_in += came_in;
        for id in incidents_in {
            if !report.incidents_in.contains(&id) {
                report.incidents_in.push(id);
            }
        }
        report.conflicts.extend(conflicts);
        report.refused.extend(refused);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn refusal(
        &self,
        repo: &Repo,
        ours: &str,
        theirs: &str,
        path: &str,
        id: &str,
        reason: String,
        keep: Option<&[u8]>,
    ) -> Result<Refusal, DeskError> {
        let (commit, author) = repo
            .last_change(&format!("{ours}..{theirs}"), path)?
            .unwrap_or_else(|| (theirs.to_string(), "an unknown author".into()));
        let kept = keep.and_then(|bytes| self.keep_refused(&commit, id, bytes));
        let refusal = Refusal {
            incident: id.to_string(),
            commit,
            author,
            reason: crate::text::one_line(&reason),
            kept,
        };
        tracing::warn!(refusal = %refusal, "sync refused an incoming record");
        Ok(refusal)
    }
}

/// Every record blob the merge reads (each side's and the ancestor's copy
/// of every record theirs changed), to be read at once.
fn record_blobs(
    their_changes: &[crate::sync::Change],
    our_changes: &HashMap<String, Option<String>>,
) -> Vec<String> {
    let mut wanted = Vec::new();
    for c in their_changes {
        if record_id(&c.path).is_none() {
            continue;
        }
        wanted.extend(c.before.iter().cloned());
        wanted.extend(c.after.iter().cloned());
        if let Some(Some(mine)) = our_changes.get(&c.path) {
            wanted.push(mine.clone());
        }
    }
    wanted.sort();
    wanted.dedup();
    wanted
}

/// Of a chain both sides changed, whether to take theirs (it grows ours)
/// or keep ours (ours grows theirs); `None` when neither starts the other.
fn longer_chain(
    repo: &Repo,
    path: &str,
    mine: &Option<String>,
    theirs: &Option<String>,
) -> Result<Option<bool>, SyncError> {
    let (Some(m), Some(t)) = (mine.as_ref(), theirs.as_ref()) else {
        return Ok(None);
    };
    let pair = repo.blobs(&[m.clone(), t.clone()], MAX_CHAIN_BYTES)?;
    Ok(match (pair.get(m), pair.get(t)) {
        (Some(a), Some(b)) if path.ends_with(".jsonl") && b.starts_with(a) => Some(true),
        (Some(a), Some(b)) if path.ends_with(".jsonl") && a.starts_with(b) => Some(false),
        _ => None,
    })
}
