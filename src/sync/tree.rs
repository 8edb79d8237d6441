//! git plumbing for a merge computed before anything is written to the
//! working tree: what each side changed (`diff-tree`), the blobs' bytes
//! (`cat-file --batch`, each bounded), new blobs (`hash-object -w`), a tree
//! built in a temporary index (`read-tree`, `update-index --index-info`,
//! `write-tree`), the merge commit (`commit-tree -p ours -p theirs`), and
//! moving the index and HEAD to it (`update-index`, `update-ref`).

use super::git::GitError;
use super::{Repo, SyncError};
use std::collections::HashMap;

/// The tree of no files.
pub const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/// A blob id that means "absent" in git's raw diff output.
const NO_BLOB: &str = "0000000000000000000000000000000000000000";

/// One path one side changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    /// The blob before and after (`None`: absent).
    pub before: Option<String>,
    pub after: Option<String>,
    /// The mode after (`100644`, `120000` for a symbolic link...).
    pub mode: String,
}

impl Repo {
    /// Removes the lock files a git killed mid-write leaves (the index's,
    /// HEAD's and the branches', the config's, the merge's temporary
    /// index). Only with the sync lock held: a killed sync's git children
    /// died with it (`PR_SET_PDEATHSIG`), and what its fetches and pushes
    /// started has been waited for (`locks/.sync-git.lock`).
    pub fn clear_stale_locks(&self, _held: &super::SyncLock) {
        let git = self.dir().join(".git");
        let mut stale = vec![
            git.join("index.lock"),
            git.join("HEAD.lock"),
            git.join("ORIG_HEAD.lock"),
            git.join("config.lock"),
            git.join("packed-refs.lock"),
            git.join("shallow.lock"),
            git.join("breachdesk-merge.index"),
            git.join("breachdesk-merge.index.lock"),
        ];
        for refs in ["refs/heads", "refs/remotes/origin"] {
            if let Ok(entries) = std::fs::read_dir(git.join(refs)) {
                stale.extend(
                    entries
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "lock")),
                );
            }
        }
        for path in stale {
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed a lock a killed git left")
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "stale git lock not removed")
                }
            }
        }
    }

    /// The best common ancestor of `a` and `b`, if they have one.
    pub fn merge_base(&self, a: &str, b: &str) -> Result<Option<String>, SyncError> {
        let out = self.git().output(&["merge-base", a, b])?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .filter(|s| !s.is_empty()))
    }

    /// Every path that differs between `from` and `to` (commits or trees),
    /// recursively, no rename detection.
    pub fn changes(&self, from: &str, to: &str) -> Result<Vec<Change>, SyncError> {
        let out = self.git().run_bytes(
            &["diff-tree", "-r", "-z", "--no-renames", "--raw", from, to],
            b"",
            None,
        )?;
        let mut fields = out.split(|b| *b == 0);
        let mut changes = Vec::new();
        while let Some(meta) = fields.next() {
            if meta.is_empty() {
                continue;
            }
            let meta = String::from_utf8_lossy(meta);
            let Some(path) = fields.next() else { break };
            let words: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
            if words.len() < 4 {
                continue;
            }
            let blob = |id: &str| (id != NO_BLOB).then(|| id.to_string());
            changes.push(Change {
                path: String::from_utf8_lossy(path).into_owned(),
                before: blob(words[2]),
                after: blob(words[3]),
                mode: words[1].to_string(),
            });
        }
        Ok(changes)
    }

    /// The bytes of each blob in `ids` (one `cat-file --batch`); a blob over
    /// `max` bytes is an error naming it.
    pub fn blobs(&self, ids: &[String], max: u64) -> Result<HashMap<String, Vec<u8>>, SyncError> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        // Sizes first, so nothing too large is ever read into memory.
        let mut input = ids.join("\n");
        input.push('\n');
        let sizes = self.git().run_bytes(
            &[
                "cat-file",
                "--batch-check=%(objectname) %(objecttype) %(objectsize)",
            ],
            input.as_bytes(),
            None,
        )?;
        for line in String::from_utf8_lossy(&sizes).lines() {
            let words: Vec<&str> = line.split(' ').collect();
            let bad = match words.as_slice() {
                [_, "blob", size] => size.parse::<u64>().map_or(true, |s| s > max),
                _ => true,
            };
            if bad {
                return Err(GitError::Failed {
                    command: "cat-file".into(),
                    reason: format!(
                        "{}: not a file of at most {max} bytes",
                        crate::text::one_line(line)
                    ),
                }
                .into());
            }
        }
        let bytes = self
            .git()
            .run_bytes(&["cat-file", "--batch"], input.as_bytes(), None)?;
        let mut rest = &bytes[..];
        for id in ids {
            let Some(eol) = rest.iter().position(|b| *b == b'\n') else {
                break;
            };
            let header = String::from_utf8_lossy(&rest[..eol]).into_owned();
            let size: usize = header
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let start = eol + 1;
            let end = (start + size).min(rest.len());
            out.insert(id.clone(), rest[start..end].to_vec());
            rest = rest.get(end + 1..).unwrap_or(&[]);
        }
        Ok(out)
    }

    /// The blob of each path in `rev` (`ls-tree`), by path.
    pub fn blob_ids(&self, rev: &str, under: &str) -> Result<Vec<(String, String)>, SyncError> {
        let out = self
            .git()
            .run_bytes(&["ls-tree", "-r", "-z", rev, "--", under], b"", None)?;
        Ok(out
            .split(|b| *b == 0)
            .filter_map(|entry| {
                let entry = String::from_utf8_lossy(entry);
                let (meta, path) = entry.split_once('\t')?;
                let mut words = meta.split(' ');
                let (_mode, kind, id) = (words.next()?, words.next()?, words.next()?);
                (kind == "blob").then(|| (path.to_string(), id.to_string()))
            })
            .collect())
    }

    /// Stores `bytes` as a blob (no filters) and returns its id.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<String, SyncError> {
        let out = self.git().run_bytes(
            &["hash-object", "-w", "--no-filters", "--stdin"],
            bytes,
            None,
        )?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// The tree of `base` with each `(path, blob)` of `updates` put in (a
    /// regular file) or taken out (`None`), built in a temporary index so
    /// the real index and working tree are untouched.
    pub fn tree_with(
        &self,
        base: &str,
        updates: &[(String, Option<String>)],
    ) -> Result<String, SyncError> {
        let index = self.dir().join(".git").join("breachdesk-merge.index");
        let _ = std::fs::remove_file(&index);
        let built = (|| {
            self.git()
                .run_bytes(&["read-tree", base], b"", Some(&index))?;
            self.git().run_bytes(
                &["update-index", "-z", "--index-info"],
                &index_info(updates),
                Some(&index),
            )?;
            let tree = self.git().run_bytes(&["write-tree"], b"", Some(&index))?;
            Ok::<_, SyncError>(String::from_utf8_lossy(&tree).trim().to_string())
        })();
        let _ = std::fs::remove_file(&index);
        built
    }

    /// `commit-tree TREE -p P... -m MESSAGE` as the responder.
    pub fn commit_tree(
        &self,
        tree: &str,
        parents: &[&str],
        message: &str,
    ) -> Result<String, SyncError> {
        let mut args = vec!["commit-tree", tree];
        for p in parents {
            args.extend(["-p", p]);
        }
        args.extend(["-m", message]);
        let out = self.git().run_bytes(&args, b"", None)?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// Puts each `(path, blob)` in the real index (the working tree is the
    /// caller's: it wrote the files first).
    pub fn index_updates(&self, updates: &[(String, Option<String>)]) -> Result<(), SyncError> {
        if updates.is_empty() {
            return Ok(());
        }
        self.git().run_bytes(
            &["update-index", "-z", "--index-info"],
            &index_info(updates),
            None,
        )?;
        Ok(())
    }

    /// Moves HEAD's branch from `old` to `new` (refused if it is not at `old`).
    pub fn move_head(&self, new: &str, old: &str, why: &str) -> Result<(), SyncError> {
        self.git()
            .run(&["update-ref", "-m", why, "HEAD", new, old])?;
        Ok(())
    }

    /// The last commit in `range` that changed `path`, and its author
    /// (`Name <email>`), as git has them.
    pub fn last_change(
        &self,
        range: &str,
        path: &str,
    ) -> Result<Option<(String, String)>, SyncError> {
        let out = self
            .git()
            .run(&["log", "-1", "--format=%H%x09%an <%ae>", range, "--", path])?;
        Ok(out
            .trim()
            .split_once('\t')
            .map(|(c, a)| (c.to_string(), crate::text::one_line(a))))
    }
}

fn index_info(updates: &[(String, Option<String>)]) -> Vec<u8> {
    let mut input = Vec::new();
    for (path, blob) in updates {
        match blob {
            Some(blob) => input.extend_from_slice(format!("100644 {blob}\t{path}").as_bytes()),
            None => input.extend_from_slice(format!("0 {NO_BLOB}\t{path}").as_bytes()),
        }
        input.push(0);
    }
    input
}
