//! The incoming-change gate: before `sync` merges anything (and before
//! `sync init` checks a team's repository out), every path that the fetched
//! commits change is held against a fixed allow-list. The remote is
//! untrusted input: whoever can push to it must not be able to delete or
//! rewrite the trail, nor plant a file this machine acts on.
//!
//! The rules ([`judge`]) work on a list of [`Change`]s (one path of one
//! commit against one parent, as `git diff-tree --raw` gives it) and read
//! blob sizes and bytes through [`Blobs`]; the git-reading layer is in
//! `incoming`.
//!
//! What may change:
//! - `incidents/<id>.toml` (a valid incident id), `audit/chains/<machine
//!   id>.jsonl` and `audit/signers/<machine id>.pub`, as regular files
//!   (mode 100644) of a bounded size;
//! - `.gitattributes` and `.gitignore`, only to exactly [`GITATTRIBUTES`]
//!   and [`GITIGNORE`].
//!
//! and how: a record is never deleted; another machine's chain only grows
//! by whole lines; this machine's own chain only ever holds what this
//! machine wrote (a prefix of its chain in HEAD); a signer key is added
//! once and never changed or deleted.

mod incoming;

pub use incoming::{inspect_checkout, inspect_incoming};

use super::{GITATTRIBUTES, GITIGNORE, SyncError};
use std::collections::HashMap;
use std::rc::Rc;

/// The only mode a shared file may have.
pub const REGULAR: &str = "100644";

/// The largest audit chain the gate reads (256 MiB, about half a million
/// entries); a larger one is refused.
pub const MAX_CHAIN_BYTES: u64 = 256 * 1024 * 1024;

/// The largest signer key file (an OpenSSH public key line is ~100 bytes).
pub const MAX_SIGNER_BYTES: u64 = 16 * 1024;

/// What may change, said in every refusal of a path outside it.
const ALLOWED: &str = "only incidents/, audit/chains/ and audit/signers/ may change";

/// One side of a changed path: its mode and blob id, as git gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    pub mode: String,
    pub blob: String,
}

/// One path that one commit changes against one of its parents (or, for a
/// first checkout, every path of the tree, with no `old`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The commit's full id.
    pub commit: String,
    /// The path as git stores it (bytes: it may not be UTF-8).
    pub path: Vec<u8>,
    pub old: Option<Side>,
    pub new: Option<Side>,
}

/// What the gate knows of this machine.
#[derive(Debug, Clone, Default)]
pub struct Local {
    /// This machine's id (`None` before it has one: then no chain or
    /// signer is its own).
    pub machine_id: Option<String>,
    /// The blob of each `audit/` path in HEAD (empty before a first
    /// checkout).
    pub head: HashMap<String, String>,
}

/// Where the gate reads blobs (one `git cat-file` process, or a map in
/// tests).
pub trait Blobs {
    /// The blob's size in bytes.
    fn size(&mut self, blob: &str) -> Result<u64, SyncError>;
    /// The blob's bytes (the caller has checked its size).
    fn bytes(&mut self, blob: &str) -> Result<Rc<[u8]>, SyncError>;
}

/// A change the gate refused: which commit, which path (made printable),
/// and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub commit: String,
    pub path: String,
    pub why: String,
}

/// The shared files, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shared<'a> {
    Record(&'a str),
    Chain(&'a str),
    Signer(&'a str),
    /// `.gitattributes` or `.gitignore`, with the only content allowed.
    Written(&'static str),
}

/// The shared file `path` names, or why it is none.
fn classify(path: &str) -> Result<Shared<'_>, String> {
    if path == ".gitattributes" {
        return Ok(Shared::Written(GITATTRIBUTES));
    }
    if path == ".gitignore" {
        return Ok(Shared::Written(GITIGNORE));
    }
    if let Some(id) = path
        .strip_prefix("incidents/")
        .and_then(|n| n.strip_suffix(".toml"))
        && crate::store::valid_id(id)
    {
        return Ok(Shared::Record(id));
    }
    if let Some(id) = path
        .strip_prefix("audit/chains/")
        .and_then(|n| n.strip_suffix(".jsonl"))
        && crate::paths::is_machine_id(id)
    {
        return Ok(Shared::Chain(id));
    }
    if let Some(id) = path
        .strip_prefix("audit/signers/")
        .and_then(|n| n.strip_suffix(".pub"))
        && crate::paths::is_machine_id(id)
    {
        return Ok(Shared::Signer(id));
    }
    if is_machine_local(path) {
        Err(format!("is machine-local ({ALLOWED})"))
    } else {
        Err(format!("is not a file breachdesk shares ({ALLOWED})"))
    }
}

/// Whether `path` is one [`GITIGNORE`] keeps on this machine (the list
/// there is the one source).
pub fn is_machine_local(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    GITIGNORE
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|pattern| {
            let pattern = pattern.trim_end_matches('/');
            match pattern.strip_prefix('/') {
                // Anchored: the first components match, one by one (a
                // pattern for a directory also names a file of that name:
                // both are refused alike).
                Some(anchored) => {
                    let globs: Vec<&str> = anchored.split('/').collect();
                    parts.len() >= globs.len() && globs.iter().zip(&parts).all(|(g, p)| glob(g, p))
                }
                None => parts.iter().any(|p| glob(pattern, p)),
            }
        })
}

/// `*`-only glob matching within one path component.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(mut tail) = text.strip_prefix(head) else {
                return false;
            };
            if rest.is_empty() {
                return true;
            }
            loop {
                if glob(rest, tail) {
                    return true;
                }
                let mut chars = tail.chars();
                if chars.next().is_none() {
                    return false;
                }
                tail = chars.as_str();
            }
        }
    }
}

/// The first change in `changes` that the gate refuses, if any.
pub fn judge(
    changes: &[Change],
    local: &Local,
    blobs: &mut dyn Blobs,
) -> Result<Option<Refusal>, SyncError> {
    for change in changes {
        if let Err(why) = judge_one(change, local, blobs)? {
            return Ok(Some(Refusal {
                commit: change.commit.clone(),
                path: crate::text::one_line(&String::from_utf8_lossy(&change.path)),
                why,
            }));
        }
    }
    Ok(None)
}

type Verdict = Result<(), String>;

/// Whether `path` is a shared file's (a record, a chain, a signer key,
/// `.gitattributes` or `.gitignore`): the only paths `sync` ever stages.
pub fn is_shared(path: &str) -> bool {
    classify(path).is_ok()
}

/// The changes `git diff --raw -z` (or `diff-tree`) printed.
pub fn parse_changes(raw: &[u8]) -> Result<Vec<Change>, SyncError> {
    incoming::parse_diff_tree(raw)
}

/// Whether this machine may commit `change` (staged against HEAD): a
/// shared path, a regular file, and never a deletion.
pub fn outgoing(change: &Change) -> Verdict {
    let shared = kind_of(change)?;
    match (&change.new, shared) {
        (Some(_), _) => Ok(()),
        (None, Shared::Record(id)) => Err(format!(
            "deletes the record of {id} (records are never deleted through sync)"
        )),
        (None, _) => Err("is a deletion (shared files are never deleted through sync)".into()),
    }
}

/// The shared file `change` names, if it is one and its mode is that of
/// a regular file that kept its mode.
fn kind_of(change: &Change) -> Result<Shared<'_>, String> {
    if let Some(new) = &change.new {
        match new.mode.as_str() {
            REGULAR => {}
            "120000" => return Err("is a symbolic link (never taken from a remote)".into()),
            "160000" => return Err("is a submodule (never taken from a remote)".into()),
            other => {
                return Err(format!(
                    "has mode {other} (only regular files, mode {REGULAR}, may change)"
                ));
            }
        }
        if let Some(old) = &change.old
            && old.mode != new.mode
        {
            return Err(format!("changes mode from {} to {}", old.mode, new.mode));
        }
    }
    let Ok(path) = std::str::from_utf8(&change.path) else {
        return Err(format!("is not a file breachdesk shares ({ALLOWED})"));
    };
    classify(path)
}

fn judge_one(change: &Change, local: &Local, blobs: &mut dyn Blobs) -> Result<Verdict, SyncError> {
    let shared = match kind_of(change) {
        Ok(shared) => shared,
        Err(why) => return Ok(Err(why)),
    };
    let path = std::str::from_utf8(&change.path).unwrap_or_default();
    let own = |id: &str| local.machine_id.as_deref() == Some(id);
    let head = local.head.get(path);
    match (shared, &change.old, &change.new) {
        (_, None, None) => Ok(Ok(())),
        (Shared::Record(id), _, None) => Ok(Err(format!(
            "deletes the record of {id} (records are never deleted through sync)"
        ))),
        (Shared::Record(_), _, Some(new)) => {
            capped(blobs, new, crate::safe_read::MAX_RECORD_BYTES, "a record")
        }
        (Shared::Written(_), _, None) => Ok(Err(
            "deletes a file breachdesk writes (it must stay as written)".into(),
        )),
        (Shared::Written(text), _, Some(new)) => {
            let exact = blobs.size(&new.blob)? == text.len() as u64
                && *blobs.bytes(&new.blob)? == *text.as_bytes();
            Ok(if exact {
                Ok(())
            } else {
                Err("is not exactly what breachdesk writes there".into())
            })
        }
        (Shared::Chain(id), _, None) => Ok(Err(format!(
            "deletes machine {id}'s audit chain (chains are only ever appended to)"
        ))),
        (Shared::Chain(id), old, Some(new)) => {
            if let Err(why) = capped(blobs, new, MAX_CHAIN_BYTES, "an audit chain")? {
                return Ok(Err(why));
            }
            let grows = match old {
                Some(old) => appends(blobs, &old.blob, &new.blob)?,
                None => whole_lines(blobs, &new.blob)?,
            };
            if own(id) {
                let mine = match head {
                    Some(head) => grows && prefix_of(blobs, &new.blob, head)?,
                    None => false,
                };
                return Ok(if mine {
                    Ok(())
                } else {
                    Err(
                        "changes this machine's own audit chain (only this machine writes it)"
                            .into(),
                    )
                });
            }
            // A chain this machine already holds must stay in line with it
            // (grow from it, or be an earlier state of it).
            let in_line = match (old, head) {
                (None, Some(head)) => {
                    appends(blobs, head, &new.blob)? || prefix_of(blobs, &new.blob, head)?
                }
                _ => true,
            };
            Ok(if grows && in_line {
                Ok(())
            } else {
                Err(format!(
                    "is not a pure append to machine {id}'s audit chain (entries changed or removed)"
                ))
            })
        }
        (Shared::Signer(id), Some(_), None) => Ok(Err(format!(
            "deletes machine {id}'s signer key (a key is added once, never changed or deleted)"
        ))),
        (Shared::Signer(id), Some(_), Some(_)) => Ok(Err(format!(
            "replaces machine {id}'s signer key (a key is added once, never changed or deleted)"
        ))),
        (Shared::Signer(id), None, Some(new)) => {
            if let Err(why) = capped(blobs, new, MAX_SIGNER_BYTES, "a signer key")? {
                return Ok(Err(why));
            }
            Ok(match head {
                Some(head) if *head == new.blob => Ok(()),
                Some(_) => Err(format!(
                    "replaces machine {id}'s signer key (a key is added once, never changed or deleted)"
                )),
                None if own(id) => Err(
                    "adds a signer key for this machine (only this machine adds its own)".into(),
                ),
                None => Ok(()),
            })
        }
    }
}

fn capped(
    blobs: &mut dyn Blobs,
    side: &Side,
    limit: u64,
    what: &str,
) -> Result<Verdict, SyncError> {
    let size = blobs.size(&side.blob)?;
    Ok(if size > limit {
        Err(format!(
            "is {size} bytes, more than the {limit}-byte limit for {what}"
        ))
    } else {
        Ok(())
    })
}

/// Whether `new` is `old` followed by whole `\n`-terminated lines.
fn appends(blobs: &mut dyn Blobs, old: &str, new: &str) -> Result<bool, SyncError> {
    if old == new {
        return Ok(true);
    }
    let (old_size, new_size) = (blobs.size(old)?, blobs.size(new)?);
    if new_size < old_size || old_size > MAX_CHAIN_BYTES || new_size > MAX_CHAIN_BYTES {
        return Ok(false);
    }
    let (old, new) = (blobs.bytes(old)?, blobs.bytes(new)?);
    Ok(new.starts_with(&old[..])
        && (old.is_empty() || old.ends_with(b"\n"))
        && (new.len() == old.len() || new.ends_with(b"\n")))
}

/// Whether `blob` is empty or ends with a whole line.
fn whole_lines(blobs: &mut dyn Blobs, blob: &str) -> Result<bool, SyncError> {
    if blobs.size(blob)? == 0 {
        return Ok(true);
    }
    Ok(blobs.bytes(blob)?.ends_with(b"\n"))
}

/// Whether `part` is `whole` or an earlier state of it (a prefix ending
/// at a line's end).
fn prefix_of(blobs: &mut dyn Blobs, part: &str, whole: &str) -> Result<bool, SyncError> {
    if part == whole {
        return Ok(true);
    }
    let (part_size, whole_size) = (blobs.size(part)?, blobs.size(whole)?);
    if part_size > whole_size || whole_size > MAX_CHAIN_BYTES {
        return Ok(false);
    }
    let (part, whole) = (blobs.bytes(part)?, blobs.bytes(whole)?);
    Ok(whole.starts_with(&part[..]) && (part.is_empty() || part.ends_with(b"\n")))
}

#[cfg(test)]
mod tests;
