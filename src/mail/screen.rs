//! Checking an outbox entry before anything is sent from it.
//!
//! The outbox lives in the data directory, which a team syncs: a file there
//! may have come from somewhere else (a remote that planted `outbox/N-….toml`
//! or `reminders/outbox/R-….toml`). So an entry never picks a recipient or a
//! file by itself:
//!
//! - every address it sends to (To and Cc) must be one this machine's
//!   `config.toml` names for that kind of message (`[contacts] other_party`
//!   and `cc` for a notification, report or update; `govcertuk` too for a
//!   data supply; `[reminders] email_to` alone for a reminder), unless the
//!   entry carries a seal made on this machine when the responder confirmed
//!   it (an HMAC-SHA256 of its id, Message-ID, kind and recipients with a key
//!   kept in `signing/outbox-seal.key`, 0600, never synced), which is how a
//!   `--to`/`--cc` address typed for one notice stays allowed on a retry;
//! - an attachment is read only from the outbox's own copy,
//!   `outbox/files/<id>/<name>`: a regular file (no symbolic link on the
//!   way), at most [`MAX_ATTACHMENT_BYTES`], whose size and SHA-256 are the
//!   ones the entry recorded. A path anywhere else is refused, never read.
//!
//! An entry that fails is not sent: it is moved to `refused/` beside it (with
//! a `.why` file holding the reason on one line), logged once, and listed by
//! `outbox list`.

use super::compose::Notice;
use crate::address::parse_mailbox;
use crate::config::schema::Contacts;
use crate::domain::notice::NoticeKind;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The largest attachment copy read back from the outbox: 64 MiB.
pub const MAX_ATTACHMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Where entries that failed the check are moved, inside the outbox.
pub const REFUSED_DIR: &str = "refused";

/// The seal key, in the data directory's machine-local `signing/`.
pub const SEAL_KEY_FILE: &str = "outbox-seal.key";

/// What this machine's config lets an outbox send.
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    /// Addresses (lower case) for a notification, report or update.
    general: BTreeSet<String>,
    /// Addresses (lower case) for a data supply.
    supply: BTreeSet<String>,
    /// Whether entries may carry attachments at all.
    attachments: bool,
    /// This machine's seal key, when there is one.
    key: Option<Vec<u8>>,
    /// The sender address (lower case) `config.toml` names, when it does.
    from: Option<String>,
}

fn address(text: &str) -> Option<String> {
    parse_mailbox("address", text)
        .ok()
        .map(|m| m.email.to_string().to_ascii_lowercase())
}

impl Allowed {
    /// The notice outbox: the contacts `config.toml` names, and entries
    /// sealed with `key`; sent from `from` (`[responder] email`).
    pub fn notices(contacts: &Contacts, from: Option<&str>, key: Option<Vec<u8>>) -> Allowed {
        let general: BTreeSet<String> = contacts
            .other_party
            .iter()
            .chain(contacts.cc.iter())
            .filter_map(|a| address(a))
            .collect();
        let mut supply = general.clone();
        supply.extend(contacts.govcertuk.iter().filter_map(|a| address(a)));
        Allowed {
            general,
            supply,
            attachments: true,
            key,
            from: from.and_then(address),
        }
    }

    /// The reminder outbox: `[reminders] email_to` only, no attachments,
    /// sent from `from`.
    pub fn reminders(email_to: &str, from: &str) -> Allowed {
        let to: BTreeSet<String> = address(email_to).into_iter().collect();
        Allowed {
            general: to.clone(),
            supply: to,
            attachments: false,
            key: None,
            from: address(from),
        }
    }

    fn recipients(&self, kind: NoticeKind) -> &BTreeSet<String> {
        match kind {
            NoticeKind::DataSupply => &self.supply,
            _ => &self.general,
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

fn seal_text(n: &Notice) -> Vec<u8> {
    format!(
        "breachdesk outbox seal 1\n{}\n{}\n{}\n{}\n\n{}\n",
        n.id,
        n.message_id,
        n.kind,
        n.to.join("\n"),
        n.cc.join("\n")
    )
    .into_bytes()
}

/// The seal of a notice's recipients with `key` (hex).
pub fn seal(key: &[u8], notice: &Notice) -> Option<String> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(&seal_text(notice));
    Some(hex::encode(mac.finalize().into_bytes()))
}

fn seal_holds(key: &[u8], notice: &Notice, seal: &str) -> bool {
    let Ok(tag) = hex::decode(seal) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return false;
    };
    mac.update(&seal_text(notice));
    mac.verify_slice(&tag).is_ok()
}

/// This machine's seal key (`<data dir>/signing/outbox-seal.key`), made
/// once (32 random bytes, 0600 in a 0700 directory). A key file that is not
/// a regular 0600 file of this user is not used (`None`: only addresses the
/// config names are then allowed).
pub fn seal_key(data_dir: &Path, create: bool) -> Option<Vec<u8>> {
    let dir = data_dir.join("signing");
    let path = dir.join(SEAL_KEY_FILE);
    let read = || -> Option<Vec<u8>> {
        use std::os::unix::fs::MetadataExt;
        let (file, meta) = crate::safe_read::open_regular(&path).ok()?;
        // SAFETY: geteuid has no preconditions and touches no memory.
        let me = unsafe { libc::geteuid() };
        if meta.mode() & 0o7777 != crate::durable::FILE_MODE || meta.uid() != me {
            return None;
        }
        let mut text = String::new();
        use std::io::Read;
        file.take(256).read_to_string(&mut text).ok()?;
        hex::decode(text.trim()).ok().filter(|k| k.len() == 32)
    };
    if let Some(key) = read() {
        return Some(key);
    }
    if !create || std::fs::symlink_metadata(&path).is_ok() {
        return None;
    }
    crate::durable::ensure_private_dir(&dir).ok()?;
    let key = crate::durable::random_hex(32);
    crate::durable::create_private_file(&path, format!("{key}\n").as_bytes()).ok()?;
    read()
}

/// Whether the file at `path` is one breachdesk wrote on this machine: a
/// regular file (not a link, FIFO or device), mode 0600, owned by this
/// user. git never checks a file out as 0600, so an entry a sync brought
/// fails this (with the default umask) whatever it says.
pub fn ours(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let (_, meta) = crate::safe_read::open_regular(path).map_err(|e| e.to_string())?;
    let mode = meta.mode() & 0o7777;
    if mode != crate::durable::FILE_MODE {
        return Err(format!(
            "mode {mode:o}, not 600: not written by breachdesk here"
        ));
    }
    // SAFETY: geteuid has no preconditions and touches no memory.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!("owned by uid {}, not {me}", meta.uid()));
    }
    Ok(())
}

/// Checks one entry against what the config allows; the reason when it
/// fails. `dir` is the outbox the entry is in.
/// `seal` is the entry's seal, if it has one.
pub fn check(dir: &Path, n: &Notice, seal: Option<&str>, allowed: &Allowed) -> Result<(), String> {
    let wanted = allowed.recipients(n.kind);
    let sealed = match (&allowed.key, seal) {
        (Some(key), Some(seal)) => seal_holds(key, n, seal),
        _ => false,
    };
    for (field, list) in [("to", &n.to), ("cc", &n.cc)] {
        for a in list.iter() {
            let Some(addr) = address(a) else {
                return Err(format!(
                    "{field} '{}' is not an email address",
                    crate::text::one_line(a)
                ));
            };
            if !wanted.contains(&addr) && !sealed {
                return Err(format!(
                    "{field} {addr} is not an address config.toml names for a {}",
                    n.kind
                ));
            }
        }
    }
    if n.to.is_empty() {
        return Err("it has no recipient".into());
    }
    if let Some(from) = &allowed.from
        && address(&n.from).as_ref() != Some(from)
    {
        return Err(format!(
            "from '{}' is not the sender config.toml names",
            crate::text::one_line(&n.from)
        ));
    }
    if !allowed.attachments && !n.attachments.is_empty() {
        return Err("it carries attachments, which this outbox never sends".into());
    }
    check_attachments(dir, n)
}

fn plain_dir(path: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(m) if m.file_type().is_symlink() => Err(format!(
            "{} is a symbolic link (not followed)",
            path.display()
        )),
        Ok(m) => Err(format!(
            "{} is {}",
            path.display(),
            crate::safe_read::kind_of(&m)
        )),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Each attachment is the outbox's own copy (`<dir>/files/<id>/<name>`), a
/// regular file of the recorded size and SHA-256, at most
/// [`MAX_ATTACHMENT_BYTES`].
pub fn check_attachments(dir: &Path, n: &Notice) -> Result<(), String> {
    if n.attachments.is_empty() {
        return Ok(());
    }
    let files = dir.join("files");
    let own = files.join(&n.id);
    for a in &n.attachments {
        let name = a.path.file_name().map(PathBuf::from);
        let inside = a.path.parent() == Some(own.as_path())
            && name.is_some_and(|n| n.to_str().is_some_and(|s| s != ".." && s != "."));
        if !inside {
            return Err(format!(
                "attachment {} is not the outbox's own copy (only {}/… is ever read)",
                crate::text::one_line(&a.path.display().to_string()),
                own.display()
            ));
        }
    }
    plain_dir(&files)?;
    plain_dir(&own)?;
    for a in &n.attachments {
        let bytes = crate::safe_read::read_bytes(&a.path, MAX_ATTACHMENT_BYTES)
            .map_err(|e| format!("attachment {}: {e}", a.path.display()))?;
        if bytes.len() as u64 != a.size || hex::encode(Sha256::digest(&bytes)) != a.sha256 {
            return Err(format!(
                "attachment {} is not the file recorded (size or SHA-256 differs)",
                a.path.display()
            ));
        }
    }
    Ok(())
}

/// Moves `<dir>/<file>` to `<dir>/refused/<file>` with the reason beside it
/// (`<file>.why`), and logs it once. Returns the line to show.
pub fn refuse(dir: &Path, file: &str, why: &str) -> String {
    let why = crate::text::one_line(why);
    let refused = dir.join(REFUSED_DIR);
    let from = dir.join(file);
    let moved = crate::durable::ensure_private_dir(&refused)
        .and_then(|_| {
            crate::durable::replace_file(
                &refused,
                &format!("{file}.why"),
                format!("{why}\n").as_bytes(),
            )
        })
        .and_then(|_| std::fs::rename(&from, refused.join(file)))
        .and_then(|_| crate::durable::sync_dir(dir));
    let line = match moved {
        Ok(()) => format!(
            "{}: refused, not sent: {why} (moved to {})",
            from.display(),
            refused.join(file).display()
        ),
        Err(e) => {
            // Cannot move it: remove it rather than let it be sent.
            let _ = std::fs::remove_file(&from);
            format!(
                "{}: refused, not sent: {why} (could not be moved aside: {e}; removed)",
                from.display()
            )
        }
    };
    tracing::warn!(file = %from.display(), reason = %why, "outbox entry refused");
    line
}

/// Every entry set aside: (file name, reason), by name.
pub fn refused(dir: &Path) -> Vec<(String, String)> {
    let refused = dir.join(REFUSED_DIR);
    let Ok(entries) = std::fs::read_dir(&refused) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            (!name.starts_with('.') && !name.ends_with(".why")).then_some(name)
        })
        .map(|name| {
            let why = crate::safe_read::read_text(&refused.join(format!("{name}.why")), 4096)
                .map(|t| crate::text::one_line(t.trim()))
                .unwrap_or_else(|_| "no reason recorded".into());
            (name, why)
        })
        .collect();
    out.sort();
    out
}
