//! Team sync of a data directory through git: the data directory is a git
//! working tree whose remote `origin` is the one given to `sync init`, and
//! everything here runs the `git` program (see [`git`]); nothing
//! reimplements it. What is shared is records, audit chains, signer keys,
//! `.gitattributes` and `.gitignore`, and nothing else is ever committed or
//! taken in (see [`gate`]); what is machine-local is listed in
//! [`GITIGNORE`]. The use cases (committing, merging, accounting for
//! merged records in the audit log) are in [`crate::desk`]; this module is
//! the plumbing and the machine-local [`state`].

pub mod gate;
pub mod git;
mod repo;
pub mod state;
mod tree;

pub use git::{GitError, Identity};
pub use repo::{Pushed, Repo};
pub use state::{MergeJournal, Refusal, SyncState};
use std::path::{Path, PathBuf};
pub use tree::{Change, EMPTY_TREE};

/// The name of the merge driver `.gitattributes` names for records.
pub const DRIVER: &str = "breachdesk-record";

/// `.gitattributes`: records merge field by field through
/// `breachdesk merge-record`. Audit chains are per machine (only their
/// machine appends to each), so they never conflict and keep git's default.
pub const GITATTRIBUTES: &str = "\
# Written by `breachdesk sync init`.
# Incident records merge field by field (breachdesk merge-record).
# Records and audit chains are kept byte for byte (-text: no line-ending
# conversion), because the audit log holds the SHA-256 of each record's bytes.
incidents/*.toml merge=breachdesk-record -text
audit/chains/*.jsonl -text
audit/signers/*.pub -text
";

/// `.gitignore`: what stays on this machine.
pub const GITIGNORE: &str = "\
# Written by `breachdesk sync init`: what stays on this machine.
/index*
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
/audit/audit.lock
/audit/torn-*.bin
/audit/*.migrated
/signing/
/refused/
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
        "remote {} unreachable: {reason} (local changes are committed and kept; the next sync sends them)",
        git::redact(.remote)
    )]
    Unreachable { remote: String, reason: String },
    /// `sync init` on a directory with records, to a remote with history.
    #[error("{} already has history and {} holds records: to join the team, run `breachdesk --data-dir NEW_DIR sync init {}` with an empty NEW_DIR", git::redact(.remote), .dir.display(), git::redact(.remote))]
    BothHaveHistory { remote: String, dir: PathBuf },
    /// `sync init` on a repository with another remote.
    #[error("{}: already synced with {}, not {}", .dir.display(), git::redact(.current), git::redact(.asked))]
    OtherRemote {
        dir: PathBuf,
        current: String,
        asked: String,
    },
    /// The merge stopped on a conflict git could not resolve.
    #[error(
        "merging {from} stopped on a conflict in {files}{why}; nothing was merged (local changes are committed and kept)"
    )]
    Conflict {
        from: String,
        files: String,
        /// `: ` and the merge driver's own one-line reason, when it gave one
        /// (e.g. a copy that does not parse, with its line and column).
        why: String,
    },
    /// Another sync of this data directory is under way on this machine.
    #[error("another sync of {} is under way on this machine; try again when it has finished", .0.display())]
    Busy(PathBuf),
    /// Another responder kept pushing first.
    #[error(
        "the remote kept changing: gave up after {0} attempts (local changes are committed and kept; sync again)"
    )]
    Raced(usize),
    /// A fetched commit changes what no remote may change (see [`gate`]).
    #[error("refused commit {commit} by {author}: {path} {why}; nothing was merged")]
    Refused {
        /// The commit's short id (12 hex digits).
        commit: String,
        /// `NAME <EMAIL>`, as the commit says (made one printable line).
        author: String,
        /// The path, made printable.
        path: String,
        why: String,
    },
    /// Committing would take in a path that is not shared (staged by hand,
    /// or a deletion of a record, a chain or a signer key).
    #[error("{path} is staged but {why}; nothing was committed (unstage it with `git -C {} restore --staged -- {path}`)", .dir.display())]
    NotShared {
        dir: PathBuf,
        path: String,
        why: String,
    },
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SyncError + '_ {
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
/// non-empty file anywhere under `audit/` (the audit chains). Empty
/// directories and machine-local files do not count (breachdesk creates
/// those just by being opened).
pub fn holds_data(dir: &Path) -> bool {
    fn any_file(dir: &Path, nonempty: bool, deep: bool) -> bool {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries.flatten().any(|e| {
                    let Ok(kind) = e.file_type() else {
                        return false;
                    };
                    if kind.is_dir() {
                        return deep && any_file(&e.path(), nonempty, deep);
                    }
                    kind.is_file()
                        && !e.file_name().to_string_lossy().starts_with('.')
                        && (!nonempty || e.metadata().is_ok_and(|m| m.len() > 0))
                })
            })
            .unwrap_or(false)
    }
    any_file(&dir.join("incidents"), false, false) || any_file(&dir.join("audit"), true, true)
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
/// console's and a command's) never run git on the directory at once;
/// with it, `locks/.sync-git.lock`, which the sync's fetches and pushes
/// (and whatever they start) inherit, so a sync after a killed one waits
/// for them (see [`git::children_lock`]).
pub struct SyncLock {
    _file: std::fs::File,
    children: std::fs::File,
}

impl Drop for SyncLock {
    fn drop(&mut self) {
        git::children_release(std::os::fd::AsRawFd::as_raw_fd(&self.children));
    }
}

/// Takes `locks/.sync.lock`, or says another sync holds it.
pub fn lock_sync(dir: &Path) -> Result<SyncLock, SyncError> {
    let locks = dir.join("locks");
    crate::durable::ensure_private_dir(&locks).map_err(io(&locks))?;
    let path = locks.join(".sync.lock");
    let file = crate::durable::open_lock_file(&path).map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => {
            let children = git::children_lock(&locks)?;
            Ok(SyncLock {
                _file: file,
                children,
            })
        }
        Err(std::fs::TryLockError::WouldBlock) => Err(SyncError::Busy(dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(SyncError::Io { path, source: e }),
    }
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
        std::fs::create_dir(dir.path().join("audit/chains")).expect("chains");
        std::fs::write(dir.path().join("audit/chains/0123.jsonl"), "").expect("empty chain");
        assert!(!holds_data(dir.path()));
        std::fs::write(dir.path().join("audit/chains/0123.jsonl"), "{}\n").expect("a chain");
        assert!(holds_data(dir.path()));
        std::fs::write(dir.path().join("audit/chains/0123.jsonl"), "").expect("empty chain");
        std::fs::write(dir.path().join("incidents/INC-1.toml"), "x").expect("record");
        assert!(holds_data(dir.path()));
    }
}
