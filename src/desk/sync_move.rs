//! Moving a merge into the working tree so that a kill at any instant
//! leaves the old state or the merged one: `sync-state.merge.json` is
//! written durably first (HEAD before, the commit after, every path whose
//! blob differs), then each changed file is replaced atomically, then the
//! index and HEAD follow, and the journal goes. A sync that finds a
//! journal finishes the move ([`Desk::finish_interrupted_merge`]): a file
//! still as it was is replaced; a record saved here since the kill is
//! merged with the merge's copy (that revision logged first).

use super::*;
use crate::audit::NewEntry;
use crate::domain::merge::{keeps_entries, merge_incident};
use crate::store::{SavesHeld, parse_record_copy, record_bytes, record_sha256};
use crate::sync::{MergeJournal, Repo};
use std::collections::HashMap;

/// The largest file a move reads (an audit chain).
pub(super) const MAX_MOVED_BYTES: u64 = 256 * 1024 * 1024;

/// The incident id of a record path, `incidents/<id>.toml`.
pub(super) fn record_id(path: &str) -> Option<&str> {
    path.strip_prefix("incidents/")?
        .strip_suffix(".toml")
        .filter(|id| crate::store::valid_id(id))
}

/// Whether a merge may write `path` in the working tree: no empty, `.`,
/// `..` or `.git` component, and nothing machine-local (see
/// [`crate::sync::GITIGNORE`]; the gate refuses such commits before the
/// merge, and this holds even without it).
pub(super) fn shared_path(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == ".." || p.eq_ignore_ascii_case(".git"))
    {
        return false;
    }
    let first = parts[0];
    let local = first.starts_with("index")
        || first.starts_with("sync-state")
        || matches!(
            first,
            "locks"
                | "outbox"
                | "quarantine"
                | "exports"
                | "logs"
                | "reminders.json"
                | "reminders.lock"
                | "reminders"
                | "machine-id"
                | "signing"
                | "refused"
        )
        || (first == "audit"
            && parts.len() == 2
            && (parts[1] == "audit.lock"
                || parts[1].starts_with("torn-")
                || parts[1].ends_with(".migrated")));
    !local && !parts.iter().any(|p| p.contains(".tmp-"))
}

/// Whether every directory on the way to `file` inside `dir` is a real
/// directory (or absent): a merge never writes through a symbolic link.
fn no_link_on_the_way(dir: &Path, path: &str) -> bool {
    let mut at = dir.to_path_buf();
    let parts: Vec<&str> = path.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.is_dir() => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
            _ => return false,
        }
    }
    match std::fs::symlink_metadata(at.join(parts[parts.len() - 1])) {
        Ok(meta) => meta.is_file(),
        Err(_) => true,
    }
}

impl Desk {
    /// Moves the working tree, index and HEAD from `ours` to `target`
    /// (whose paths differing from `ours` are `updates`), journaled. The
    /// index is told before the first record is replaced (as a save tells
    /// it before its rename), so a listing after a kill mid-move re-reads.
    pub(super) fn move_to(
        &self,
        repo: &Repo,
        ours: &str,
        target: &str,
        updates: Vec<(String, Option<String>)>,
        held: &SavesHeld,
    ) -> Result<(), DeskError> {
        let journal = MergeJournal {
            ours: ours.to_string(),
            target: target.to_string(),
            updates,
        };
        journal
            .write(self.data_dir())
            .map_err(|e| system(format!("{}: {e}", crate::sync::state::JOURNAL_FILE)))?;
        if journal.updates.iter().any(|(p, _)| record_id(p).is_some()) {
            self.store.records_rewritten(held);
        }
        self.apply_journal(repo, &journal, None)
    }

    /// Writes the journal's files (each atomically; a file changed here
    /// since the move began is merged with the target's copy, its merged
    /// revision logged first), then the index, then HEAD; then removes it.
    fn apply_journal(
        &self,
        repo: &Repo,
        journal: &MergeJournal,
        now: Option<DateTime<Utc>>,
    ) -> Result<(), DeskError> {
        let own_chain = self.own_chain_path();
        let mut ids: Vec<String> = journal
            .updates
            .iter()
            .filter(|(p, _)| Some(p) != own_chain.as_ref())
            .filter_map(|(_, b)| b.clone())
            .collect();
        let before: HashMap<String, String> = if now.is_some() {
            // Finishing: each path's blob at `ours`, to tell an untouched
            // file from one saved since.
            repo.changes(&journal.ours, &journal.target)?
                .into_iter()
                .filter_map(|c| Some((c.path, c.before?)))
                .collect()
        } else {
            HashMap::new()
        };
        ids.extend(before.values().cloned());
        ids.sort();
        ids.dedup();
        let blobs = repo.blobs(&ids, MAX_MOVED_BYTES)?;
        for (path, blob) in &journal.updates {
            if Some(path) == own_chain.as_ref()
                || !shared_path(path)
                || !no_link_on_the_way(self.data_dir(), path)
            {
                continue;
            }
            let file = self.data_dir().join(path);
            let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
                continue;
            };
            let Some(blob) = blob else {
                let _ = std::fs::remove_file(&file);
                continue;
            };
            let target = blobs.get(blob).ok_or_else(|| {
                system(format!("{path}: blob {blob} missing from the repository"))
            })?;
            let mut bytes = target.clone();
            if let Some(now) = now {
                let local = crate::safe_read::read_bytes(&file, MAX_MOVED_BYTES).ok();
                let old = before.get(path).and_then(|b| blobs.get(b));
                match (&local, record_id(path)) {
                    (Some(local), _) if local == target => continue,
                    (None, _) => {}
                    (Some(local), _) if Some(local) == old => {}
                    (Some(local), Some(id)) => {
                        match self.merge_saved_since(id, old, local, target, now)? {
                            Some(merged) => bytes = merged,
                            None => continue,
                        }
                    }
                    (Some(_), None) => {}
                }
            }
            crate::durable::ensure_private_dir(dir)
                .map_err(|e| system(format!("{}: {e}", dir.display())))?;
            crate::durable::replace_file(dir, &name.to_string_lossy(), &bytes)
                .map_err(|e| system(format!("{}: {e}", file.display())))?;
        }
        repo.index_updates(&journal.updates)?;
        repo.move_head(&journal.target, &journal.ours, "breachdesk sync: merge")?;
        MergeJournal::remove(self.data_dir())
            .map_err(|e| system(format!("{}: {e}", crate::sync::state::JOURNAL_FILE)))?;
        Ok(())
    }

    /// A record saved here after a sync was killed mid-move (`local`), and
    /// the merge's copy (`target`): `None` when `local` already holds all of
    /// `target` (it was saved on top of it), else the two merged against
    /// `old` (the copy before the move), its revision logged first.
    fn merge_saved_since(
        &self,
        id: &str,
        old: Option<&Vec<u8>>,
        local: &[u8],
        target: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<u8>>, DeskError> {
        let name = PathBuf::from(format!("incidents/{id}.toml"));
        let parse = |bytes: &[u8]| -> Result<Option<crate::domain::incident::Incident>, DeskError> {
            Ok(parse_record_copy(bytes, id, &name)?)
        };
        let (Some(local_copy), Some(target_copy)) = (parse(local)?, parse(target)?) else {
            return Ok(None);
        };
        if local_copy.revision > target_copy.revision
            && keeps_entries(&target_copy, &local_copy).is_ok()
        {
            return Ok(None);
        }
        let old_copy = match old {
            Some(bytes) => parse(bytes)?,
            None => None,
        };
        let merged = merge_incident(old_copy.as_ref(), &local_copy, &target_copy)
            .map_err(|e| system(format!("{}: cannot merge: {e}", name.display())))?;
        if merged.incident == local_copy {
            return Ok(None);
        }
        let bytes = record_bytes(&merged.incident, &name)?;
        self.audit.append_entries(&[NewEntry::record_merged(
            now,
            &self.actor,
            id,
            "a sync cut short",
            merged.incident.revision,
            &record_sha256(&bytes),
            &format!(
                "this machine's revision {} saved while the merge was moved in, and the merge's revision {}",
                local_copy.revision, target_copy.revision
            ),
        )])?;
        Ok(Some(bytes))
    }

    /// A merge a killed sync left half moved in (`sync-state.merge.json`):
    /// finished, with saves held. Whether there was one.
    pub(super) fn finish_interrupted_merge(
        &self,
        repo: &Repo,
        held: &SavesHeld,
        now: DateTime<Utc>,
    ) -> Result<bool, DeskError> {
        let dir = self.data_dir();
        let Some(journal) = MergeJournal::read(dir).map_err(|e| system(e.to_string()))? else {
            return Ok(false);
        };
        let head = repo.commit_of("HEAD")?;
        if head.as_deref() == Some(journal.target.as_str()) {
            MergeJournal::remove(dir).map_err(|e| system(e.to_string()))?;
            return Ok(true);
        }
        if head.as_deref() != Some(journal.ours.as_str()) {
            tracing::warn!(
                head = ?head,
                "a merge journal for another HEAD was set aside: HEAD moved since"
            );
            MergeJournal::remove(dir).map_err(|e| system(e.to_string()))?;
            return Ok(false);
        }
        tracing::info!(target = %journal.target, "finishing a merge a killed sync left");
        self.store.records_rewritten(held);
        self.apply_journal(repo, &journal, Some(now))?;
        Ok(true)
    }
}
