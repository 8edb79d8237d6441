//! Team sync through git, as a use case: publish this data directory to an
//! empty remote (`sync init`), and `sync` (commit local changes, fetch,
//! merge, push, retrying when another responder pushed first); what comes
//! in passes [`crate::sync::gate`] before anything is merged. Saves on
//! this machine wait while a sync rewrites records. The merge itself (each
//! incoming record checked, refused ones kept aside, entries logged first,
//! a journaled move a kill cannot tear) is in `sync_merge` and `sync_move`;
//! the git plumbing in [`crate::sync`].

use super::*;
use crate::sync::{EMPTY_TREE, Identity, Pushed, Refusal, Repo, SyncError, SyncState};

/// How many times fetch, merge and push are tried when the push is
/// rejected because another responder pushed first.
pub const SYNC_ATTEMPTS: usize = 5;

/// What a sync did, said in one line by its `Display`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub branch: String,
    /// Commits that came in, and the incidents they changed.
    pub came_in: usize,
    pub incidents_in: Vec<String>,
    /// Commits that went out, and the incidents they changed.
    pub went_out: usize,
    pub incidents_out: Vec<String>,
    /// Incidents whose merge recorded a conflict on their timeline.
    pub conflicts: Vec<String>,
    /// Pushes tried (more than one when another responder pushed first).
    pub attempts: usize,
    /// Incoming records refused (this machine's copy kept): the sync
    /// finishes, then fails naming each.
    pub refused: Vec<Refusal>,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl std::fmt::Display for SyncReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "synced with origin/{}: ", self.branch)?;
        if self.came_in == 0 {
            write!(f, "nothing came in")?;
        } else {
            write!(
                f,
                "in {} ({} changed)",
                plural(self.came_in, "commit", "commits"),
                plural(self.incidents_in.len(), "incident", "incidents")
            )?;
        }
        if self.went_out == 0 {
            write!(f, ", nothing went out")?;
        } else {
            write!(
                f,
                ", out {} ({} changed)",
                plural(self.went_out, "commit", "commits"),
                plural(self.incidents_out.len(), "incident", "incidents")
            )?;
        }
        if self.conflicts.is_empty() {
            write!(f, ", no conflicts")
        } else {
            write!(
                f,
                ", conflict resolved in {} (the other value is on its timeline)",
                self.conflicts.join(", ")
            )
        }
    }
}

/// What `sync init` did on a data directory that already existed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncInit {
    /// The records and audit trail were published to the empty remote.
    Published { remote: String, files: usize },
    /// Already a sync repository for this remote: attributes, ignore list
    /// and merge driver written again.
    Refreshed { remote: String },
}

/// The sync status the console's header shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    pub state: SyncState,
    /// Paths `git status --porcelain` lists: changes not yet synced
    /// (`None` when git could not say).
    pub waiting: Option<usize>,
}

impl Desk {
    /// Who commits: the responder's name and email from config.
    pub fn sync_identity(&self) -> Identity {
        crate::sync::identity(&self.config)
    }

    /// Whether this data directory is synced through git.
    pub fn is_synced(&self) -> bool {
        crate::sync::is_repository(self.data_dir())
    }

    /// The header's sync status; `None` when the data directory is not a
    /// sync repository. Runs `git status`.
    pub fn sync_status(&self) -> Option<SyncStatus> {
        let repo = Repo::open(self.data_dir(), self.sync_identity()).ok()?;
        Some(SyncStatus {
            state: SyncState::read(self.data_dir()),
            waiting: repo.waiting().ok(),
        })
    }

    /// `sync init REMOTE` on this data directory: publishes the records and
    /// audit trail to `remote`, which must have no history (the caller
    /// checked), or, when already synced with `remote`, writes the
    /// attributes, ignore list and driver again. `exe` is this program, run
    /// by git as the record merge driver.
    pub fn sync_publish(
        &self,
        remote: &str,
        exe: &Path,
        now: DateTime<Utc>,
    ) -> Result<SyncInit, DeskError> {
        let dir = self.data_dir();
        if crate::sync::is_repository(dir) {
            let repo = Repo::open(dir, self.sync_identity())?;
            let current = repo.remote()?;
            if current != remote {
                return Err(SyncError::OtherRemote {
                    dir: dir.to_path_buf(),
                    current,
                    asked: remote.to_string(),
                }
                .into());
            }
            repo.configure(exe)?;
            return Ok(SyncInit::Refreshed { remote: current });
        }
        let held = self.store.hold_saves()?;
        let repo = Repo::init(dir, self.sync_identity(), remote)?;
        repo.configure(exe)?;
        repo.commit_all(&format!(
            "breachdesk sync init: the records and audit trail of {}",
            self.actor
        ))?;
        let files = repo.count_files("HEAD")?;
        repo.make_private()?;
        drop(held);
        match repo.push(crate::sync::BRANCH)? {
            Pushed::Done => {}
            Pushed::Rejected => {
                return Err(SyncError::Unreachable {
                    remote: remote.to_string(),
                    reason: "the remote refused the first push (did someone else publish to it just now? run `breachdesk sync`)".into(),
                }
                .into());
            }
        }
        let _ = SyncState {
            last_synced_at: Some(now),
            ..SyncState::default()
        }
        .write(dir);
        Ok(SyncInit::Published {
            remote: remote.to_string(),
            files,
        })
    }

    /// `sync`: commits local changes as the responder, fetches, merges
    /// and pushes, trying again (up to [`SYNC_ATTEMPTS`]) when another
    /// responder pushed first. The outcome is kept in `sync-state.json`
    /// for the console.
    pub fn sync(&self, exe: &Path, now: DateTime<Utc>) -> Result<SyncReport, DeskError> {
        let result = self.sync_once(exe, now);
        let dir = self.data_dir();
        if let Err(DeskError::Sync(SyncError::NotARepository(_))) = &result {
            return result;
        }
        let mut state = SyncState::read(dir);
        match &result {
            Ok(report) => {
                state.last_synced_at = Some(now);
                state.last_error = None;
                state.last_error_at = None;
                state.unreachable = false;
                if report.came_in > 0 {
                    state.conflicts = report.conflicts.clone();
                    state.refused = report.refused.clone();
                }
            }
            Err(e) => {
                state.last_error_at = Some(now);
                state.last_error = Some(crate::text::one_line(&e.to_string()));
                state.unreachable = matches!(e, DeskError::Sync(SyncError::Unreachable { .. }));
            }
        }
        if let Err(e) = state.write(dir) {
            tracing::warn!(error = %e, "sync state not written");
        }
        result
    }

    fn sync_once(&self, exe: &Path, now: DateTime<Utc>) -> Result<SyncReport, DeskError> {
        let repo = Repo::open(self.data_dir(), self.sync_identity())?;
        let one_at_a_time = crate::sync::lock_sync(self.data_dir())?;
        repo.clear_stale_locks(&one_at_a_time);
        // Re-asserted on every run: .gitattributes, .gitignore and the
        // merge driver (changed files are committed below).
        repo.configure(exe)?;
        let branch = repo.branch()?;
        let upstream = format!("refs/remotes/origin/{branch}");
        {
            let held = self.store.hold_saves()?;
            if repo.merging() {
                // Left by an older version's sync that was interrupted
                // before it committed the merge: start it again.
                repo.abort_merge()?;
            }
            // A merge a killed sync was moving in: finished first.
            self.finish_interrupted_merge(&repo, &held, now)?;
            repo.commit_all(&format!("{}: changes made on this machine", self.actor))?;
        }
        let mut report = SyncReport {
            branch: branch.clone(),
            ..SyncReport::default()
        };
        for attempt in 1..=SYNC_ATTEMPTS {
            report.attempts = attempt;
            repo.fetch()?;
            let theirs = repo.commit_of(&upstream)?;
            if let Some(theirs) = &theirs
                && !repo.is_ancestor(theirs, "HEAD")?
            {
                crate::sync::gate::inspect_incoming(&repo, theirs)?;
                self.merge_in(&repo, theirs, now, &mut report)?;
            }
            let base = theirs.as_deref().unwrap_or(EMPTY_TREE);
            let out = match &theirs {
                Some(theirs) => repo.count(theirs, "HEAD")?,
                None => repo.count_all("HEAD")?,
            };
            if out == 0 {
                return Ok(report);
            }
            if repo.push(&branch)? == Pushed::Done {
                report.went_out = out;
                report.incidents_out = repo.changed_records(&[base, "HEAD"])?;
                // The remote-tracking branch follows (a later `git status`
                // and the next sync see it pushed).
                let _ = repo.fetch();
                return Ok(report);
            }
            tracing::info!(attempt, "push rejected: another responder pushed first");
        }
        Err(SyncError::Raced(SYNC_ATTEMPTS).into())
    }
}
