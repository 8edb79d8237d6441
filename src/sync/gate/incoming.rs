//! The gate's git-reading layer: what the fetched commits change (`git
//! rev-list` and `git diff-tree --stdin`), what a first checkout would
//! bring (`git ls-tree`), and the blobs (one `git cat-file
//! --batch-command` process for the whole inspection).

use super::{Blobs, Change, Local, Refusal, Side, judge};
use crate::sync::{GitError, Repo, SyncError};
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::rc::Rc;

/// The largest commit object read for its author line.
const MAX_COMMIT_BYTES: u64 = 1024 * 1024;

/// Inspects every commit `theirs` has that HEAD has not, each against each
/// of its parents (a first commit against the empty tree), before anything
/// is merged: the first change refused is [`SyncError::Refused`].
pub fn inspect_incoming(repo: &Repo, theirs: &str) -> Result<(), SyncError> {
    let commits = repo.git().run(&[
        "rev-list",
        "--topo-order",
        "--reverse",
        &format!("HEAD..{theirs}"),
        "--",
    ])?;
    if commits.trim().is_empty() {
        return Ok(());
    }
    let raw = plumbing_output(
        repo.dir(),
        &[
            "diff-tree",
            "--stdin",
            "-m",
            "--root",
            "-r",
            "-z",
            "--raw",
            "--no-renames",
            "--ignore-submodules=none",
        ],
        commits.as_bytes(),
    )?;
    let changes = parse_diff_tree(&raw)?;
    let local = local(repo)?;
    let mut blobs = CatFile::start(repo.dir())?;
    let refused = judge(&changes, &local, &mut blobs)?;
    refuse(refused, &mut blobs)?;
    signed_chains(repo, theirs, &local, &mut blobs)
}

/// Every teammate's chain as `theirs` holds it, where it differs from
/// HEAD's: it verifies, and each entry it appends is signed by that
/// machine's signer key ([`crate::audit::check_incoming_chain`]). The
/// refusal names the last commit that changed the chain.
fn signed_chains(
    repo: &Repo,
    theirs: &str,
    local: &Local,
    blobs: &mut CatFile,
) -> Result<(), SyncError> {
    let tip = audit_blobs(repo, theirs)?;
    for (path, blob) in &tip {
        let Some(id) = path
            .strip_prefix("audit/chains/")
            .and_then(|p| p.strip_suffix(".jsonl"))
        else {
            continue;
        };
        let held = local.head.get(path);
        if local.machine_id.as_deref() == Some(id) || held == Some(blob) {
            continue;
        }
        let held_len = match held {
            Some(held) => usize::try_from(blobs.size(held)?).unwrap_or(usize::MAX),
            None => 0,
        };
        let bytes = blobs.bytes(blob)?;
        let signer = match tip.get(&format!("audit/signers/{id}.pub")) {
            Some(key) => Some(blobs.bytes(key)?),
            None => None,
        };
        let why = match std::str::from_utf8(&bytes) {
            Err(_) => Some("is not UTF-8 text".to_string()),
            Ok(text) => crate::audit::check_incoming_chain(
                repo.dir(),
                id,
                text,
                held_len,
                signer.as_deref().and_then(|s| std::str::from_utf8(s).ok()),
            )
            .err(),
        };
        if let Some(why) = why {
            let commit = repo
                .git()
                .run(&["log", "-1", "--format=%H", theirs, "--", path])?
                .trim()
                .to_string();
            return refuse(
                Some(Refusal {
                    commit,
                    path: path.clone(),
                    why: format!("machine {id}'s audit chain {why}"),
                }),
                blobs,
            );
        }
    }
    Ok(())
}

/// The blob of each `audit/chains` and `audit/signers` path in `rev`.
fn audit_blobs(repo: &Repo, rev: &str) -> Result<HashMap<String, String>, SyncError> {
    let mut blobs = HashMap::new();
    let raw = repo.git().output(&[
        "ls-tree",
        "-r",
        "-z",
        rev,
        "--",
        "audit/chains",
        "audit/signers",
    ])?;
    for entry in raw.stdout.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let (meta, path) = split_tab(entry)?;
        if let (Some(blob), Ok(path)) = (meta.split(' ').nth(2), std::str::from_utf8(path)) {
            blobs.insert(path.to_string(), blob.to_string());
        }
    }
    Ok(blobs)
}

/// Inspects the whole tree of `rev` (a team's repository about to be
/// checked out for the first time) as if every file were new.
pub fn inspect_checkout(repo: &Repo, rev: &str) -> Result<(), SyncError> {
    let commit = repo
        .commit_of(rev)?
        .ok_or_else(|| failed("rev-parse", format!("{rev} is not a commit")))?;
    let raw = repo
        .git()
        .output(&["ls-tree", "-r", "-l", "-z", "--full-tree", &commit])?;
    if !raw.status.success() {
        return Err(failed(
            "ls-tree",
            format!("cannot list the tree of {commit}"),
        ));
    }
    let mut blobs = CatFile::start(repo.dir())?;
    let mut changes = Vec::new();
    for entry in raw.stdout.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let (meta, path) = split_tab(entry)?;
        let mut fields = meta.split(' ').filter(|f| !f.is_empty());
        let (Some(mode), Some(_kind), Some(blob), Some(size)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(failed("ls-tree", "an entry git did not describe".into()));
        };
        if let Ok(size) = size.parse() {
            blobs.sizes.insert(blob.to_string(), size);
        }
        changes.push(Change {
            commit: commit.clone(),
            path: path.to_vec(),
            old: None,
            new: Some(Side {
                mode: mode.to_string(),
                blob: blob.to_string(),
            }),
        });
    }
    let local = local(repo)?;
    let refused = judge(&changes, &local, &mut blobs)?;
    refuse(refused, &mut blobs)?;
    signed_chains(repo, &commit, &local, &mut blobs)
}

/// The refusal as the sync's error, with the commit's author.
fn refuse(refused: Option<Refusal>, blobs: &mut CatFile) -> Result<(), SyncError> {
    let Some(refusal) = refused else {
        return Ok(());
    };
    let author = blobs
        .author(&refusal.commit)
        .unwrap_or_else(|| "an unknown author".into());
    Err(SyncError::Refused {
        commit: refusal
            .commit
            .get(..12)
            .unwrap_or(&refusal.commit)
            .to_string(),
        author,
        path: refusal.path,
        why: refusal.why,
    })
}

/// This machine's id and HEAD's `audit/` blobs.
fn local(repo: &Repo) -> Result<Local, SyncError> {
    let machine_id = crate::paths::read_machine_id(repo.dir()).map_err(|source| SyncError::Io {
        path: crate::paths::machine_id_file(repo.dir()),
        source,
    })?;
    let head = if repo.commit_of("HEAD")?.is_some() {
        audit_blobs(repo, "HEAD")?
    } else {
        HashMap::new()
    };
    Ok(Local { machine_id, head })
}

fn split_tab(entry: &[u8]) -> Result<(&str, &[u8]), SyncError> {
    let tab = entry
        .iter()
        .position(|b| *b == b'\t')
        .ok_or_else(|| failed("ls-tree", "an entry with no path".into()))?;
    let meta = std::str::from_utf8(&entry[..tab])
        .map_err(|_| failed("ls-tree", "an entry that is not text".into()))?;
    Ok((meta, &entry[tab + 1..]))
}

/// `git diff-tree --stdin -m --root -r -z --raw`: a commit id, then each
/// changed path as `:OLDMODE NEWMODE OLDBLOB NEWBLOB STATUS` and the path,
/// all NUL-separated; a merge's id comes once for each parent.
pub(super) fn parse_diff_tree(raw: &[u8]) -> Result<Vec<Change>, SyncError> {
    let mut changes = Vec::new();
    let mut commit = String::new();
    let mut tokens = raw.split(|b| *b == 0).filter(|t| !t.is_empty());
    while let Some(token) = tokens.next() {
        let text = std::str::from_utf8(token)
            .map_err(|_| failed("diff-tree", "output that is not text".into()))?;
        let Some(meta) = text.strip_prefix(':') else {
            commit = text.trim().to_string();
            continue;
        };
        let fields: Vec<&str> = meta.split(' ').collect();
        let path = tokens
            .next()
            .ok_or_else(|| failed("diff-tree", "a change with no path".into()))?;
        let [old_mode, new_mode, old_blob, new_blob, _status] = fields[..] else {
            return Err(failed(
                "diff-tree",
                format!("a change git did not describe: {text}"),
            ));
        };
        let side = |mode: &str, blob: &str| {
            (mode.bytes().any(|b| b != b'0')).then(|| Side {
                mode: mode.to_string(),
                blob: blob.to_string(),
            })
        };
        changes.push(Change {
            commit: commit.clone(),
            path: path.to_vec(),
            old: side(old_mode, old_blob),
            new: side(new_mode, new_blob),
        });
    }
    Ok(changes)
}

fn failed(command: &str, reason: String) -> SyncError {
    SyncError::Git(GitError::Failed {
        command: command.to_string(),
        reason,
    })
}

/// `git ARGS` with `input` on its stdin; its stdout.
fn plumbing_output(dir: &Path, args: &[&str], input: &[u8]) -> Result<Vec<u8>, SyncError> {
    let mut child = crate::sync::git::plumbing(dir)
        .args(args)
        .spawn()
        .map_err(|e| SyncError::Git(GitError::Missing(e.to_string())))?;
    let mut stdin = child.stdin.take();
    let input = input.to_vec();
    // Written from another thread, so a large output never blocks the
    // input (or the other way round).
    let writer = std::thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            let _ = stdin.write_all(&input);
        }
    });
    let output = child
        .wait_with_output()
        .map_err(|e| SyncError::Git(GitError::Missing(e.to_string())))?;
    let _ = writer.join();
    if !output.status.success() {
        return Err(failed(
            args.first().copied().unwrap_or("git"),
            crate::sync::git::first_relevant_line(&output.stderr, &output.stdout),
        ));
    }
    Ok(output.stdout)
}

/// How many blobs' bytes are kept at once (a check reads at most three:
/// old, new and HEAD's): a chain's new version in one
/// commit is its old version in the next, so a few suffice, and memory
/// stays bounded however many versions come in.
const KEPT: usize = 3;

/// One `git cat-file --batch-command` for a whole inspection: sizes by
/// `info` (each asked once), bytes by `contents` (the last [`KEPT`] kept).
struct CatFile {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    sizes: HashMap<String, u64>,
    kept: VecDeque<(String, Rc<[u8]>)>,
}

impl CatFile {
    fn start(dir: &Path) -> Result<CatFile, SyncError> {
        let mut child = crate::sync::git::plumbing(dir)
            .args(["cat-file", "--batch-command"])
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| SyncError::Git(GitError::Missing(e.to_string())))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().map(BufReader::new);
        let Some(stdout) = stdout else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(failed("cat-file", "no output pipe".into()));
        };
        Ok(CatFile {
            child,
            stdin,
            stdout,
            sizes: HashMap::new(),
            kept: VecDeque::new(),
        })
    }

    /// Asks `command OBJECT`; the header's type and size.
    fn ask(&mut self, command: &str, object: &str) -> Result<(String, u64), SyncError> {
        let broken = |e: std::io::Error| failed("cat-file", e.to_string());
        if !object.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(failed("cat-file", format!("{object} is not an object id")));
        }
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| failed("cat-file", "closed".into()))?;
        writeln!(stdin, "{command} {object}").map_err(broken)?;
        stdin.flush().map_err(broken)?;
        let mut header = String::new();
        (&mut self.stdout)
            .take(512)
            .read_line(&mut header)
            .map_err(broken)?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        match fields[..] {
            [_, kind, size] => {
                let size = size.parse().map_err(|_| {
                    failed("cat-file", format!("a size that is not a number: {size}"))
                })?;
                Ok((kind.to_string(), size))
            }
            _ => Err(failed(
                "cat-file",
                format!("object {object} is missing from the fetched history"),
            )),
        }
    }

    /// The commit's `author NAME <EMAIL>`, made one printable line.
    fn author(&mut self, commit: &str) -> Option<String> {
        let (kind, size) = self.ask("info", commit).ok()?;
        if kind != "commit" || size > MAX_COMMIT_BYTES {
            return None;
        }
        let bytes = self.contents(commit, size).ok()?;
        let text = String::from_utf8_lossy(&bytes);
        let line = text
            .lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| l.strip_prefix("author "))?;
        // `NAME <EMAIL> SECONDS ZONE`: up to the email's closing `>`.
        let who = &line[..line.rfind('>').map_or(line.len(), |at| at + 1)];
        let who = crate::text::one_line(who);
        Some(who.chars().take(200).collect())
    }

    /// Reads `size` bytes and the newline after them, for `contents`.
    fn contents(&mut self, object: &str, size: u64) -> Result<Vec<u8>, SyncError> {
        let (_, told) = self.ask("contents", object)?;
        if told != size {
            return Err(failed(
                "cat-file",
                format!("{object} changed size while read"),
            ));
        }
        let len = usize::try_from(size).map_err(|_| failed("cat-file", "too large".into()))?;
        let mut bytes = vec![0; len + 1];
        self.stdout
            .read_exact(&mut bytes)
            .map_err(|e| failed("cat-file", e.to_string()))?;
        bytes.pop();
        Ok(bytes)
    }
}

impl Blobs for CatFile {
    fn size(&mut self, blob: &str) -> Result<u64, SyncError> {
        if let Some(size) = self.sizes.get(blob) {
            return Ok(*size);
        }
        let (kind, size) = self.ask("info", blob)?;
        if kind != "blob" {
            return Err(failed(
                "cat-file",
                format!("object {blob} is a {kind}, not a file"),
            ));
        }
        self.sizes.insert(blob.to_string(), size);
        Ok(size)
    }

    fn bytes(&mut self, blob: &str) -> Result<Rc<[u8]>, SyncError> {
        if let Some((_, bytes)) = self.kept.iter().find(|(id, _)| id == blob) {
            return Ok(Rc::clone(bytes));
        }
        let size = self.size(blob)?;
        let bytes: Rc<[u8]> = self.contents(blob, size)?.into();
        if self.kept.len() == KEPT {
            self.kept.pop_front();
        }
        self.kept.push_back((blob.to_string(), Rc::clone(&bytes)));
        Ok(bytes)
    }
}

impl Drop for CatFile {
    fn drop(&mut self) {
        // Closing its input ends cat-file; it is waited for, so nothing is
        // left running.
        drop(self.stdin.take());
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
