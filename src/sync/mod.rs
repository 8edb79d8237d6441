//! Team sync of a data directory through git: the data directory is a git
//! working tree whose remote `origin` is the one given to `sync init`, and
//! everything here runs the `git` program (see [`git`]); nothing
//! reimplements it. What is shared is what git tracks (records, the audit
//! trail, `.gitattributes`, `.gitignore`); what is machine-local is listed
//! in [`GITIGNORE`]. The use cases (committing, merging, accounting for
//! merged records in the audit log) are in [`crate::desk`]; this module is
//! the plumbing and the machine-local [`state`].

pub mod git;
pub mod state;

pub use git::{GitError, Identity};
pub use state::SyncState;

use git::Git;
use std::path::{Path, PathBuf};

/// The name of the merge driver `.gitattributes` names for records.
pub const DRIVER: &str = "breachdesk-record";

/// `.gitattributes`: records merge field by field through
/// `breachdesk merge-record`. Audit chains are per machine (only their
/// machine appends to each), so they never conflict and keep git's default.
pub const GITATTRIBUTES: &str = "\
# Written by `breachdesk sync init`.
# Incident records merge field by field (breachdesk merge-record).
incidents/*.toml merge=breachdesk-record
";

/// `.gitignore`: what stays on this machine.
pub const GITIGNORE: &str = "\
# Written by `breachdesk sync init`: what stays on this machine.
/index*.json
/index.pending
/locks/
/outbox/
/quarantine/
/exports/
/logs/
/reminders.json
/reminders.lock
/reminders/
/machine-id
/sync-state*
/audit/torn-*.bin
/audit/*.migrated
.*.tmp-*
";

/// The branch a published data directory uses.
pub const BRANCH: &str = "main";

/// Why a sync did not happen, in one line.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{}: not a sync repository (run `breachdesk sync init REMOTE` first)", .0.display())]
    NotARepository(PathBuf),
    /// The remote could not be reached or refused us.
    #[error(
        "remote {remote} unreachable: {reason} (local changes are committed and kept; the next sync sends them)"
    )]
    Unreachable { remote: String, reason: String },
    /// `sync init` on a directory with records, to a remote with history.
    #[error("{remote} already has history and {} holds records: to join the team, run `breachdesk --data-dir NEW_DIR sync init {remote}` with an empty NEW_DIR", .dir.display())]
    BothHaveHistory { remote: String, dir: PathBuf },
    /// `sync init` on a repository with another remote.
    #[error("{}: already synced with {current}, not {asked}", .dir.display())]
    OtherRemote {
        dir: PathBuf,
        current: String,
        asked: String,
    },
    /// The merge stopped on a conflict git could not resolve.
    #[error(
        "merging {from} stopped on a conflict in {files}; nothing was merged (local changes are committed and kept)"
    )]
    Conflict { from: String, files: String },
    /// Another sync of this data directory is under way on this machine.
    #[error("another sync of {} is under way on this machine; try again when it has finished", .0.display())]
    Busy(PathBuf),
    /// Another responder kept pushing first.
    #[error(
        "the remote kept changing: gave up after {0} attempts (local changes are committed and kept; sync again)"
    )]
    Raced(usize),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SyncError + '_ {
    move |source| SyncError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `dir` is a data directory synced through git.
pub fn is_repository(dir: &Path) -> bool {
    dir.join(".git").is_dir()
}

/// Whether `dir` holds shared data: a record in `incidents/`, or a
/// non-empty audit file. Empty directories and machine-local files do not
/// count (breachdesk creates those just by being opened).
pub fn holds_data(dir: &Path) -> bool {
    let any_file = |sub: &str, nonempty: bool| {
        std::fs::read_dir(dir.join(sub))
            .map(|entries| {
                entries.flatten().any(|e| {
                    e.file_type().is_ok_and(|t| t.is_file())
                        && !e.file_name().to_string_lossy().starts_with('.')
                        && (!nonempty || e.metadata().is_ok_and(|m| m.len() > 0))
                })
            })
            .unwrap_or(false)
    };
    any_file("incidents", false) || any_file("audit", true)
}

/// The remote's branches (`git ls-remote --symref REMOTE`): the branch its
/// HEAD names when it has it, else `main`, else the first; `None` when
/// the remote has no history. Unreachable is [`SyncError::Unreachable`].
pub fn remote_branch(remote: &str) -> Result<Option<String>, SyncError> {
    let listing = git::run_outside(&["ls-remote", "--symref", "--", remote]).map_err(|e| {
        SyncError::Unreachable {
            remote: remote.to_string(),
            reason: e.reason().to_string(),
        }
    })?;
    let mut head = None;
    let mut branches = Vec::new();
    for line in listing.lines() {
        if let Some(rest) = line.strip_prefix("ref: refs/heads/") {
            head = rest.split('\t').next().map(str::to_string);
        } else if let Some((_, name)) = line.split_once('\t')
            && let Some(branch) = name.strip_prefix("refs/heads/")
        {
            branches.push(branch.to_string());
        }
    }
    Ok(head
        .filter(|h| branches.contains(h))
        .or_else(|| branches.iter().find(|b| *b == BRANCH).cloned())
        .or_else(|| branches.first().cloned()))
}

/// Who commits: `[responder] name` and the address in `[responder]
/// email`, else the OS user at this host (git needs no identity of its
/// own configured).
pub fn identity(config: &crate::config::Config) -> Identity {
    let name = config.responder_name();
    let configured = config
        .responder
        .email
        .as_deref()
        .and_then(|e| crate::address::parse_mailbox("responder.email", e).ok())
        .map(|m| m.email.to_string());
    let email = configured.unwrap_or_else(|| {
        let user: String = crate::config::os_user()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .collect();
        let host = whoami::hostname().unwrap_or_else(|_| "localhost".into());
        let user = if user.is_empty() {
            "breachdesk".into()
        } else {
            user
        };
        format!("{user}@{host}")
    });
    Identity { name, email }
}

/// `sync init REMOTE` on a data directory that holds no records yet, when
/// the remote has history: makes `dir` a repository tracking the remote's
/// `branch` and checks it out (what `git clone` does, but into a directory
/// that may already hold machine-local files), writes the attributes,
/// ignore list and merge driver (`exe`), and makes every file private.
/// On failure the repository made here is removed again.
pub fn join(
    dir: &Path,
    identity: Identity,
    remote: &str,
    branch: &str,
    exe: &Path,
) -> Result<Repo, SyncError> {
    crate::durable::ensure_private_dir(dir).map_err(io(dir))?;
    let joined = (|| {
        let repo = Repo::init(dir, identity, remote)?;
        repo.check_out_remote(branch)?;
        repo.configure(exe)?;
        repo.make_private()?;
        Ok(repo)
    })();
    if joined.is_err() {
        let _ = std::fs::remove_dir_all(dir.join(".git"));
    }
    joined
}

/// Held for the whole of one sync, so two syncs on one machine (the
/// console's and a command's) never run git on the directory at once.
pub struct SyncLock {
    _file: std::fs::File,
}

/// Takes `locks/.sync.lock`, or says another sync holds it.
pub fn lock_sync(dir: &Path) -> Result<SyncLock, SyncError> {
    use std::os::unix::fs::OpenOptionsExt;
    let locks = dir.join("locks");
    crate::durable::ensure_private_dir(&locks).map_err(io(&locks))?;
    let path = locks.join(".sync.lock");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(SyncLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(SyncError::Busy(dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(SyncError::Io { path, source: e }),
    }
}

/// The data directory as a git repository, for the use cases.
#[derive(Debug, Clone)]
pub struct Repo {
    git: Git,
}

/// How one `git push` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    Done,
    /// Another responder pushed first: fetch, merge and try again.
    Rejected,
}

impl Repo {
    /// The repository in `dir`, committing as `identity`.
    pub fn open(dir: &Path, identity: Identity) -> Result<Repo, SyncError> {
        if !is_repository(dir) {
            return Err(SyncError::NotARepository(dir.to_path_buf()));
        }
        Ok(Repo::at(dir, identity))
    }

    fn at(dir: &Path, identity: Identity) -> Repo {
        Repo {
            git: Git::new(dir, identity),
        }
    }

    pub fn dir(&self) -> &Path {
        self.git.dir()
    }

    /// `git init` in `dir` (on [`BRANCH`]) with `origin` = `remote`.
    pub fn init(dir: &Path, identity: Identity, remote: &str) -> Result<Repo, SyncError> {
        let repo = Repo::at(dir, identity);
        repo.git
            .run(&["init", "--quiet", "--initial-branch", BRANCH])?;
        repo.git.run(&["remote", "add", "origin", "--", remote])?;
        Ok(repo)
    }

    /// The URL of `origin`.
    pub fn remote(&self) -> Result<String, SyncError> {
        Ok(self
            .git
            .run(&["remote", "get-url", "origin"])?
            .trim()
            .to_string())
    }

    /// Writes `.gitattributes` and `.gitignore` (when different) and
    /// registers the record merge driver in this repository's own config,
    /// as `exe merge-record %O %A %B %P`.
    pub fn configure(&self, exe: &Path) -> Result<(), SyncError> {
        for (name, text) in [(".gitattributes", GITATTRIBUTES), (".gitignore", GITIGNORE)] {
            let path = self.dir().join(name);
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
                crate::durable::replace_file(self.dir(), name, text.as_bytes())
                    .map_err(io(&path))?;
            }
        }
        self.register_driver(exe)
    }

    /// Registers (or re-points) the merge driver at `exe`.
    pub fn register_driver(&self, exe: &Path) -> Result<(), SyncError> {
        let driver = format!(
            "{} merge-record %O %A %B %P",
            git::sh_quote(&exe.to_string_lossy())
        );
        let key = format!("merge.{DRIVER}.driver");
        let current = self
            .git
            .output(&["config", "--local", "--get", &key])?
            .stdout;
        if String::from_utf8_lossy(&current).trim() != driver {
            self.git.run(&[
                "config",
                "--local",
                &format!("merge.{DRIVER}.name"),
                "breachdesk record merge",
            ])?;
            self.git.run(&["config", "--local", &key, &driver])?;
        }
        Ok(())
    }

    /// Fetches `branch` from `origin` and checks it out as the local
    /// branch tracking it (joining a team's existing repository).
    pub fn check_out_remote(&self, branch: &str) -> Result<(), SyncError> {
        self.fetch()?;
        self.git.run(&[
            "checkout",
            "--quiet",
            "-B",
            branch,
            "--track",
            &format!("origin/{branch}"),
        ])?;
        Ok(())
    }

    /// The current branch.
    pub fn branch(&self) -> Result<String, SyncError> {
        Ok(self
            .git
            .run(&["symbolic-ref", "--short", "HEAD"])?
            .trim()
            .to_string())
    }

    /// `git add -A` and, when anything is staged, one commit with
    /// `message`. Whether a commit was made.
    pub fn commit_all(&self, message: &str) -> Result<bool, SyncError> {
        self.git.run(&["add", "--all"])?;
        if self.git.succeeds(&["diff", "--cached", "--quiet"])? {
            return Ok(false);
        }
        self.git
            .run(&["commit", "--quiet", "--no-verify", "-m", message])?;
        Ok(true)
    }

    /// How many paths `git status --porcelain` lists: local changes not
    /// yet committed for the team.
    pub fn waiting(&self) -> Result<usize, SyncError> {
        Ok(self
            .git
            .run(&["status", "--porcelain"])?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count())
    }

    /// `git fetch origin`; failure means the remote is unreachable.
    pub fn fetch(&self) -> Result<(), SyncError> {
        self.git
            .run(&["fetch", "--quiet", "origin"])
            .map_err(|e| self.unreachable(e))?;
        Ok(())
    }

    fn unreachable(&self, e: GitError) -> SyncError {
        match e {
            GitError::Failed { reason, .. } => SyncError::Unreachable {
                remote: self.remote().unwrap_or_else(|_| "origin".into()),
                reason,
            },
            other => SyncError::Git(other),
        }
    }

    /// The commit `rev` names, if any.
    pub fn commit_of(&self, rev: &str) -> Result<Option<String>, SyncError> {
        let out = self.git.output(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()))
    }

    /// How many commits `to` has that `from` has not.
    pub fn count(&self, from: &str, to: &str) -> Result<usize, SyncError> {
        let out = self
            .git
            .run(&["rev-list", "--count", &format!("{from}..{to}")])?;
        Ok(out.trim().parse().unwrap_or(0))
    }

    /// Whether `ancestor` is an ancestor of (or is) `of`.
    pub fn is_ancestor(&self, ancestor: &str, of: &str) -> Result<bool, SyncError> {
        Ok(self
            .git
            .succeeds(&["merge-base", "--is-ancestor", ancestor, of])?)
    }

    /// The incident ids whose records differ between `revs` as `git diff`
    /// takes them (`[A, B]`, `["A...B"]`, `["HEAD", "--cached"]`).
    pub fn changed_records(&self, revs: &[&str]) -> Result<Vec<String>, SyncError> {
        let mut args = vec!["diff", "--name-only", "--no-renames"];
        args.extend(revs);
        args.extend(["--", "incidents/"]);
        Ok(self
            .git
            .run(&args)?
            .lines()
            .filter_map(|p| p.strip_prefix("incidents/")?.strip_suffix(".toml"))
            .map(str::to_string)
            .collect())
    }

    /// How many commits lead to `rev`.
    pub fn count_all(&self, rev: &str) -> Result<usize, SyncError> {
        let out = self.git.run(&["rev-list", "--count", rev])?;
        Ok(out.trim().parse().unwrap_or(0))
    }

    /// How many files `rev` tracks.
    pub fn count_files(&self, rev: &str) -> Result<usize, SyncError> {
        Ok(self
            .git
            .run(&["ls-tree", "-r", "--name-only", rev])?
            .lines()
            .count())
    }

    /// The blob id of `path` in `rev` (`None` for the index when `rev` is
    /// empty), or `None` when absent.
    pub fn blob(&self, rev: &str, path: &str) -> Result<Option<String>, SyncError> {
        let out =
            self.git
                .output(&["rev-parse", "--verify", "--quiet", &format!("{rev}:{path}")])?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()))
    }

    /// The bytes of `path` in `rev` (`None` when absent).
    pub fn show(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, SyncError> {
        let out = self.git.output(&["show", &format!("{rev}:{path}")])?;
        Ok(out.status.success().then_some(out.stdout))
    }

    /// `git merge --ff-only REV`.
    pub fn fast_forward(&self, rev: &str) -> Result<(), SyncError> {
        self.git.run(&["merge", "--quiet", "--ff-only", rev])?;
        Ok(())
    }

    /// `git merge --no-commit --no-ff REV`: the merged files are in the
    /// working tree and index, not committed. On a conflict the merge is
    /// aborted (nothing changes) and the conflicted files named.
    pub fn merge_uncommitted(&self, rev: &str) -> Result<(), SyncError> {
        let out = self
            .git
            .output(&["merge", "--no-commit", "--no-ff", "--no-edit", rev])?;
        if out.status.success() {
            return Ok(());
        }
        let conflicted = self
            .git
            .run(&["diff", "--name-only", "--diff-filter=U"])
            .unwrap_or_default();
        let files: Vec<&str> = conflicted.lines().filter(|l| !l.is_empty()).collect();
        let _ = self.git.run(&["merge", "--abort"]);
        Err(SyncError::Conflict {
            from: rev.get(..12).unwrap_or(rev).to_string(),
            files: if files.is_empty() {
                git::first_relevant_line(&out.stderr, &out.stdout)
            } else {
                files.join(", ")
            },
        })
    }

    /// Whether a merge is in progress (left by an interrupted sync).
    pub fn merging(&self) -> bool {
        self.dir().join(".git").join("MERGE_HEAD").exists()
    }

    /// Abandons a merge in progress.
    pub fn abort_merge(&self) -> Result<(), SyncError> {
        self.git.run(&["merge", "--abort"])?;
        Ok(())
    }

    /// Commits everything (a merge in progress is concluded by it).
    pub fn commit_merge(&self, message: &str) -> Result<(), SyncError> {
        self.git.run(&["add", "--all"])?;
        self.git.run(&[
            "commit",
            "--quiet",
            "--no-verify",
            "--no-edit",
            "-m",
            message,
        ])?;
        Ok(())
    }

    /// `git push origin HEAD:BRANCH`, telling a rejection (someone pushed
    /// first) from an unreachable remote.
    pub fn push(&self, branch: &str) -> Result<Pushed, SyncError> {
        let out = self.git.output(&[
            "push",
            "--quiet",
            "--porcelain",
            "origin",
            &format!("HEAD:refs/heads/{branch}"),
        ])?;
        if out.status.success() {
            return Ok(Pushed::Done);
        }
        // `--porcelain` reports each ref on stdout, `!` for one refused:
        // behind the remote (someone pushed first), or the remote's ref
        // moved while this push was under way.
        let refused = String::from_utf8_lossy(&out.stdout).lines().any(|line| {
            line.starts_with('!')
                && (line.contains("[rejected]")
                    || line.contains("[remote rejected]")
                        && (line.contains("cannot lock ref")
                            || line.contains("failed to update ref")))
        });
        if refused {
            return Ok(Pushed::Rejected);
        }
        Err(self.unreachable(GitError::Failed {
            command: "push origin".into(),
            reason: git::first_relevant_line(&out.stderr, &out.stdout),
        }))
    }

    /// Makes every directory 0700 and every file owner-only (0600, or
    /// 0400 for git's read-only objects) inside the data directory (whose
    /// own mode, if it already existed, is left as it is).
    pub fn make_private(&self) -> Result<(), SyncError> {
        for entry in std::fs::read_dir(self.dir()).map_err(io(self.dir()))? {
            let entry = entry.map_err(io(self.dir()))?;
            make_private(&entry.path())?;
        }
        Ok(())
    }
}

fn make_private(dir: &Path) -> Result<(), SyncError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(dir).map_err(io(dir))?;
    if meta.is_dir() {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            make_private(&entry.path())?;
        }
    } else if meta.is_file() {
        let mode = meta.permissions().mode() & 0o777;
        let private = if mode & 0o200 == 0 { 0o400 } else { 0o600 };
        if mode != private {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(private))
                .map_err(io(dir))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sync_at_a_time_on_a_machine() {
        let dir = tempfile::tempdir().expect("temp dir");
        let held = lock_sync(dir.path()).expect("first");
        let err = lock_sync(dir.path()).err().expect("second refused");
        assert!(
            err.to_string()
                .ends_with("is under way on this machine; try again when it has finished"),
            "{err}"
        );
        drop(held);
        lock_sync(dir.path()).expect("free again");
    }

    #[test]
    fn empty_directories_and_an_empty_audit_file_hold_no_data() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(!holds_data(&dir.path().join("absent")));
        for sub in ["incidents", "audit", "locks"] {
            std::fs::create_dir(dir.path().join(sub)).expect("dir");
        }
        std::fs::write(dir.path().join("audit/audit-log.jsonl"), "").expect("empty log");
        std::fs::write(dir.path().join("locks/x.lock"), "").expect("lock");
        std::fs::write(dir.path().join("incidents/.INC-1.toml.tmp-1"), "x").expect("temp");
        assert!(!holds_data(dir.path()));
        std::fs::write(dir.path().join("incidents/INC-1.toml"), "x").expect("record");
        assert!(holds_data(dir.path()));
    }
}
