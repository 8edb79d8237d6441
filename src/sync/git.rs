//! Running the `git` program on the data directory: never a prompt (no
//! terminal, stdin closed, `GIT_TERMINAL_PROMPT=0`, ssh in batch mode unless
//! the responder set `GIT_SSH_COMMAND`), the responder's name and email as
//! author and committer, and files created private (umask 077).
//!
//! A git child never outlives a sync killed with `kill -9`: it is killed
//! when the thread that started it dies (`PR_SET_PDEATHSIG`), and a fetch
//! or push (and whatever it starts: `ssh`, `git-upload-pack`) holds
//! `locks/.sync-git.lock` open ([`children_lock`]), so the next sync waits
//! until the last of them has exited.

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};

/// `locks/.sync-git.lock`'s descriptor while a sync holds it, else -1:
/// fetches and pushes inherit it (see the module text).
static SYNC_LOCK_FD: AtomicI32 = AtomicI32::new(-1);

/// How long a sync waits for the git children of a killed one.
pub const CHILDREN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens and locks `LOCKS/.sync-git.lock`, waiting (up to
/// [`CHILDREN_WAIT`]) while what a killed sync's fetch or push started
/// still holds it, and from now on has every fetch and push inherit it.
/// Past the wait the sync goes on (a helper that stays behind on purpose,
/// such as `git credential-cache`'s daemon, must not stop every sync).
pub fn children_lock(locks: &Path) -> Result<std::fs::File, super::SyncError> {
    let path = locks.join(".sync-git.lock");
    let file = crate::durable::open_lock_file(&path).map_err(super::io(&path))?;
    let until = std::time::Instant::now() + CHILDREN_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < until => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                tracing::warn!(path = %path.display(), "git children of an earlier sync still running: going on");
                break;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(super::SyncError::Io { path, source: e });
            }
        }
    }
    SYNC_LOCK_FD.store(std::os::fd::AsRawFd::as_raw_fd(&file), Ordering::SeqCst);
    Ok(file)
}

/// The sync lock was released: children no longer inherit it.
pub fn children_release(fd: std::os::fd::RawFd) {
    let _ = SYNC_LOCK_FD.compare_exchange(fd, -1, Ordering::SeqCst, Ordering::SeqCst);
}

/// Why a git command failed: the command and git's own first relevant line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitError {
    /// `git` could not be started (not installed, not on PATH).
    #[error("cannot run git ({0}); install git and make sure it is on PATH")]
    Missing(String),
    /// git ran and exited non-zero; `reason` is its first relevant line.
    #[error("git {command}: {reason}")]
    Failed { command: String, reason: String },
}

impl GitError {
    /// git's reason, without the command.
    pub fn reason(&self) -> &str {
        match self {
            GitError::Missing(reason) => reason,
            GitError::Failed { reason, .. } => reason,
        }
    }
}

/// Who commits: the responder, from config (else the OS user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub email: String,
}

/// The git repository that is a data directory.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    identity: Identity,
    /// Whether the responder chose an ssh command (`core.sshCommand`),
    /// asked once.
    own_ssh: std::sync::OnceLock<bool>,
}

impl Git {
    pub fn new(dir: &Path, identity: Identity) -> Git {
        Git {
            dir: dir.to_path_buf(),
            identity,
            own_ssh: std::sync::OnceLock::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A git command in the data directory with the responder as author
    /// and committer (whether they chose an ssh command is asked once).
    fn command(&self) -> Command {
        let own_ssh = *self.own_ssh.get_or_init(|| {
            command(Some(&self.dir), true)
                .args(["config", "--get", "core.sshCommand"])
                .output()
                .is_ok_and(|o| o.status.success())
        });
        let mut command = command(Some(&self.dir), own_ssh);
        command
            .arg("-c")
            .arg(format!("user.name={}", self.identity.name))
            .arg("-c")
            .arg(format!("user.email={}", self.identity.email));
        command
    }

    /// `git ARGS` in the data directory; stdout on success.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<String, GitError> {
        let output = self.output(args)?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(failed(args, &output))
        }
    }

    /// `git ARGS`, whatever its exit status (for commands whose status is
    /// an answer, such as `diff --quiet`).
    pub fn output<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Output, GitError> {
        let mut command = self.command();
        if talks_to_the_remote(args) {
            hold_the_sync_lock(&mut command);
        }
        command.args(args);
        let output = command
            .output()
            .map_err(|e| GitError::Missing(e.to_string()))?;
        tracing::debug!(
            args = ?args.iter().map(|a| redact(&a.as_ref().to_string_lossy())).collect::<Vec<_>>(),
            status = ?output.status.code(),
            "git"
        );
        Ok(output)
    }

    /// `git ARGS` with `input` on its stdin and, when `index` is given,
    /// that file as its index (`GIT_INDEX_FILE`); stdout's bytes on success.
    pub fn run_bytes<S: AsRef<OsStr>>(
        &self,
        args: &[S],
        input: &[u8],
        index: Option<&Path>,
    ) -> Result<Vec<u8>, GitError> {
        use std::io::Write;
        let mut command = self.command();
        command.args(args).stdin(Stdio::piped());
        if let Some(index) = index {
            command.env("GIT_INDEX_FILE", index);
        }
        let mut child = command
            .spawn()
            .map_err(|e| GitError::Missing(e.to_string()))?;
        let mut stdin = child.stdin.take();
        let output = std::thread::scope(|scope| {
            let writer = scope.spawn(move || {
                if let Some(stdin) = stdin.as_mut() {
                    let _ = stdin.write_all(input);
                }
                drop(stdin);
            });
            let output = child.wait_with_output();
            let _ = writer.join();
            output
        })
        .map_err(|e| GitError::Missing(e.to_string()))?;
        tracing::debug!(
            args = ?args.iter().map(|a| redact(&a.as_ref().to_string_lossy())).collect::<Vec<_>>(),
            status = ?output.status.code(),
            "git"
        );
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(failed(args, &output))
        }
    }

    /// Whether `git ARGS` exits 0 (any other exit is "no"; failing to run
    /// git at all is an error).
    pub fn succeeds<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<bool, GitError> {
        Ok(self.output(args)?.status.success())
    }
}

/// `git ARGS` outside any repository (e.g. `ls-remote REMOTE`).
pub fn run_outside<S: AsRef<OsStr>>(args: &[S]) -> Result<String, GitError> {
    let output = command(None, false)
        .args(args)
        .output()
        .map_err(|e| GitError::Missing(e.to_string()))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(failed(args, &output))
    }
}

/// A read-only git plumbing command in `dir` (`diff-tree --stdin`,
/// `cat-file --batch-command`) with its stdin piped: the same environment
/// hygiene as every other git command, and killed with the sync.
pub(super) fn plumbing(dir: &Path) -> Command {
    let mut command = command(Some(dir), true);
    command.stdin(Stdio::piped());
    command
}

/// A git command that never waits for a person: no stdin, no terminal
/// prompt, ssh in batch mode (unless the responder chose their own ssh
/// command: `GIT_SSH_COMMAND`, `GIT_SSH`, or `core.sshCommand` when
/// `own_ssh`), no editor, and files it creates private. Variables that
/// would point git at another repository are removed.
fn command(dir: Option<&Path>, own_ssh: bool) -> Command {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.arg("-C").arg(dir);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_MERGE_AUTOEDIT", "no")
        .env("GIT_EDITOR", "true")
        .env("LC_ALL", "C");
    for name in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_NAMESPACE",
        "GIT_CEILING_DIRECTORIES",
        // The responder's name and email from config make the commits.
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ] {
        command.env_remove(name);
    }
    if !own_ssh
        && std::env::var_os("GIT_SSH_COMMAND").is_none()
        && std::env::var_os("GIT_SSH").is_none()
    {
        command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: umask, prctl, getppid and raise are async-signal-safe and
    // touch only the child's own state between fork and exec.
    unsafe {
        command.pre_exec(move || {
            libc::umask(0o077);
            // Killed with this (the parent) thread: no orphaned fetch or push.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            if libc::getppid() != parent {
                // The parent died before prctl took effect.
                libc::raise(libc::SIGKILL);
            }
            Ok(())
        });
    }
    command
}

/// Whether `git ARGS` talks to the remote (whatever it starts, `ssh` or
/// `git-upload-pack`, may outlive a killed sync for a moment).
fn talks_to_the_remote<S: AsRef<OsStr>>(args: &[S]) -> bool {
    args.first()
        .is_some_and(|a| matches!(a.as_ref().to_str(), Some("fetch" | "push")))
}

/// The child (and what it starts) inherits `locks/.sync-git.lock`, so the
/// next sync waits until the last of them has exited. Only for fetch and
/// push, the commands that start others.
fn hold_the_sync_lock(command: &mut Command) {
    let lock_fd = SYNC_LOCK_FD.load(Ordering::SeqCst);
    if lock_fd < 0 {
        return;
    }
    // SAFETY: fcntl is async-signal-safe and changes only the child's own
    // descriptor table between fork and exec.
    unsafe {
        command.pre_exec(move || {
            let flags = libc::fcntl(lock_fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(lock_fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
            }
            Ok(())
        });
    }
}

fn failed<S: AsRef<OsStr>>(args: &[S], output: &Output) -> GitError {
    let words: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .take(2)
        .collect();
    GitError::Failed {
        command: words.join(" "),
        reason: first_relevant_line(&output.stderr, &output.stdout),
    }
}

/// The line of git's output that says what went wrong: the first `fatal:`
/// or `error:` line, else the first `CONFLICT` line, else the first
/// non-empty line; a line beginning `hint:` never.
pub fn first_relevant_line(stderr: &[u8], stdout: &[u8]) -> String {
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(stderr),
        String::from_utf8_lossy(stdout)
    );
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .collect();
    let pick = lines
        .iter()
        .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .or_else(|| lines.iter().find(|l| l.starts_with("CONFLICT")))
        .or_else(|| lines.first())
        .copied()
        .unwrap_or("failed with no message");
    crate::text::one_line(&redact(pick))
}

/// `text` with the password of every URL in it (`https://user:TOKEN@host`)
/// shown as `***`: a remote's URL may carry a credential, which is never
/// printed, logged or kept in the state file.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                let userinfo = &authority[..userinfo_end];
                match userinfo.split_once(':') {
                    Some((user, _password)) => {
                        out.push_str(user);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `text` quoted for `sh`: in single quotes, each `'` as `'\''`.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_the_fatal_line_not_the_hints() {
        let stderr = b"hint: Updates were rejected\nfatal: unable to access 'x': Could not resolve host\nmore\n";
        assert_eq!(
            first_relevant_line(stderr, b""),
            "fatal: unable to access 'x': Could not resolve host"
        );
        assert_eq!(
            first_relevant_line(
                b"",
                b"Auto-merging a\nCONFLICT (content): Merge conflict in a\n"
            ),
            "CONFLICT (content): Merge conflict in a"
        );
        assert_eq!(first_relevant_line(b"", b""), "failed with no message");
    }

    #[test]
    fn a_password_in_a_url_is_never_shown() {
        assert_eq!(
            redact("fatal: unable to access 'https://sam:ghp_SECRET@git.example/ir.git/': 403"),
            "fatal: unable to access 'https://sam:***@git.example/ir.git/': 403"
        );
        assert_eq!(
            redact("ssh://git@host:22/ir.git"),
            "ssh://git@host:22/ir.git"
        );
        assert_eq!(
            redact("/srv/ir.git and git@host:ir.git"),
            "/srv/ir.git and git@host:ir.git"
        );
        assert_eq!(
            redact("https://host/a https://u:p@h/b"),
            "https://host/a https://u:***@h/b"
        );
    }

    #[test]
    fn a_path_is_quoted_for_sh() {
        assert_eq!(sh_quote("/a b/it's"), r"'/a b/it'\''s'");
    }
}
