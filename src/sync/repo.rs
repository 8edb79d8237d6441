//! The data directory as a git repository: each operation a sync needs,
//! as one or two runs of the `git` program.

use super::git::{self, Git, GitError, Identity};
use super::{BRANCH, DRIVER, GITATTRIBUTES, GITIGNORE, SyncError, io, is_repository};
use std::path::Path;

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

    /// The git program on this repository (for the [`super::gate`] and
    /// the plumbing in `tree`).
    pub(super) fn git(&self) -> &Git {
        &self.git
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
    /// Nothing is checked out unless the whole tree passes the gate.
    pub fn check_out_remote(&self, branch: &str) -> Result<(), SyncError> {
        self.fetch()?;
        super::gate::inspect_checkout(self, &format!("refs/remotes/origin/{branch}"))?;
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

    /// Stages the shared files that are new or changed ([`stage_shared`](Repo::stage_shared)),
    /// checks what is staged ([`check_staged`](Repo::check_staged)) and, when
    /// anything is, makes one commit with `message`. Whether a commit was
    /// made.
    pub fn commit_all(&self, message: &str) -> Result<bool, SyncError> {
        self.stage_shared()?;
        self.check_staged()?;
        if self.git.succeeds(&["diff", "--cached", "--quiet"])? {
            return Ok(false);
        }
        self.git
            .run(&["commit", "--quiet", "--no-verify", "-m", message])?;
        Ok(true)
    }

    /// Stages, by explicit path, each shared file (a record, an audit
    /// chain, a signer key, `.gitattributes`, `.gitignore`) that is a
    /// regular file, new or changed on disk. Nothing else is ever staged,
    /// whatever `.gitignore` says, and a file gone from disk (a record
    /// quarantined here) is never staged as a deletion.
    pub fn stage_shared(&self) -> Result<(), SyncError> {
        let listed = self.git.output(&[
            "ls-files",
            "-z",
            "--others",
            "--modified",
            "--",
            ":(glob)incidents/*.toml",
            ":(glob)audit/chains/*.jsonl",
            ":(glob)audit/signers/*.pub",
            ".gitattributes",
            ".gitignore",
        ])?;
        if !listed.status.success() {
            return Err(GitError::Failed {
                command: "ls-files".into(),
                reason: git::first_relevant_line(&listed.stderr, &listed.stdout),
            }
            .into());
        }
        let mut paths: Vec<&str> = listed
            .stdout
            .split(|b| *b == 0)
            .filter_map(|p| std::str::from_utf8(p).ok())
            .filter(|p| super::gate::is_shared(p))
            .filter(|p| {
                std::fs::symlink_metadata(self.dir().join(p)).is_ok_and(|m| m.file_type().is_file())
            })
            .collect();
        paths.sort_unstable();
        paths.dedup();
        for path in paths.iter().filter(|p| p.starts_with("audit/chains/")) {
            torn_check(&self.dir().join(path))?;
        }
        for chunk in paths.chunks(500) {
            // Literal paths, forced past any ignore file of the responder's
            // (each is a shared path, checked above).
            let mut args = vec!["--literal-pathspecs", "add", "--force", "--"];
            args.extend_from_slice(chunk);
            self.git.run(&args)?;
        }
        Ok(())
    }

    /// Refuses (naming the path) when anything staged is not a shared file
    /// as the gate allows it: a machine-local path, a link, a deletion.
    pub fn check_staged(&self) -> Result<(), SyncError> {
        let staged = self.git.run(&[
            "diff",
            "--cached",
            "-z",
            "--raw",
            "--no-renames",
            "--no-abbrev",
            "--no-color",
            "--no-relative",
        ])?;
        for change in super::gate::parse_changes(staged.as_bytes())? {
            if let Err(why) = super::gate::outgoing(&change) {
                return Err(SyncError::NotShared {
                    dir: self.dir().to_path_buf(),
                    path: crate::text::one_line(&String::from_utf8_lossy(&change.path)),
                    why,
                });
            }
        }
        Ok(())
    }

    /// How many paths `git status --porcelain` lists: local changes not
    /// yet committed for the team. A file gone from disk (a record
    /// quarantined here) is not counted: sync never sends a deletion.
    pub fn waiting(&self) -> Result<usize, SyncError> {
        Ok(self
            .git
            // No optional locks: looking never gets in a sync's way.
            .run(&["--no-optional-locks", "status", "--porcelain"])?
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with(" D "))
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

    /// Whether a merge is in progress (left by an interrupted sync).
    pub fn merging(&self) -> bool {
        self.dir().join(".git").join("MERGE_HEAD").exists()
    }

    /// Abandons a merge in progress.
    pub fn abort_merge(&self) -> Result<(), SyncError> {
        self.git.run(&["merge", "--abort"])?;
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

/// Refuses to commit a chain whose last line is torn (a crash mid-append):
/// teammates take a chain only as whole lines, and the torn bytes would
/// stay in the team's history for good.
fn torn_check(chain: &Path) -> Result<(), SyncError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(chain).map_err(io(chain))?;
    if file.seek(SeekFrom::End(0)).map_err(io(chain))? == 0 {
        return Ok(());
    }
    file.seek(SeekFrom::End(-1)).map_err(io(chain))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last).map_err(io(chain))?;
    if last[0] == b'\n' {
        return Ok(());
    }
    Err(SyncError::Io {
        path: chain.to_path_buf(),
        source: std::io::Error::other(
            "ends in a torn audit entry (a crash mid-append); nothing was committed: run `breachdesk audit repair`, then sync again",
        ),
    })
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
