//! Who wrote each entry, provably: this machine's ed25519 signing key
//! (`signing/id_ed25519`, machine-local), its public key in the repository
//! (`audit/signers/<machine-id>.pub`), the signer keys this machine has
//! pinned (trust on first use), and the chain heads it last saw.
//!
//! Every entry appended carries `sig`: the base64 of an SSHSIG blob (the
//! format of `ssh-keygen -Y sign` and git's SSH signing), namespace
//! [`NAMESPACE`], hash SHA-512, over the entry's `hash` as 64 lower-case hex
//! characters. The key and its bytes never appear in a log, an error or any
//! other file.

use super::*;
use ssh_encoding::{Decode, Encode};
use ssh_key::private::{Ed25519Keypair, KeypairData};
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

/// The SSHSIG namespace of every entry's signature (`ssh-keygen -Y verify -n`).
pub const NAMESPACE: &str = "breachdesk-audit";
/// The machine-local directory holding the key, the pins and the seen heads.
pub const SIGNING_DIR: &str = "signing";
/// This machine's private key in `signing/` (OpenSSH format, 0600).
pub const KEY_FILE: &str = "id_ed25519";
/// The directory inside `audit/` holding every machine's public key.
pub const SIGNERS_DIR: &str = "signers";
/// The pinned signer keys in `signing/` (trust on first use).
pub const PINNED_FILE: &str = "pinned-signers.toml";
/// The chain heads this machine last saw, in `signing/`.
pub const SEEN_HEADS_FILE: &str = "seen-heads.toml";
/// This machine's own head after its last append, in `signing/`.
const OWN_HEAD_FILE: &str = "own-head";
/// The responder's name this machine signs as now, in `signing/` (when it
/// differs from the `.pub` comment after a rename).
const NAME_FILE: &str = "signer-name";
/// The actor of entries breachdesk writes by itself (migration, repair,
/// endorsement); any signer may write them.
pub const SYSTEM_ACTOR: &str = "breachdesk";
/// The action of the entry that endorses, by its signature, the unsigned
/// entries written before this machine had a key.
pub const SIGNING_KEY_ACTION: &str = "audit.signing-key";
/// The action of the entry that changes the name a chain's entries carry.
pub const RENAMED_ACTION: &str = "audit.signer-renamed";
/// The largest `.pub`, pin or seen-heads file read.
const MAX_SMALL_FILE: u64 = 1024 * 1024;

/// `audit/signers/<machine-id>.pub` in `data_dir`.
pub fn signer_file(data_dir: &Path, machine_id: &str) -> PathBuf {
    data_dir
        .join(AUDIT_DIR)
        .join(SIGNERS_DIR)
        .join(format!("{machine_id}.pub"))
}

/// This machine's signing key; its `Debug` shows only the fingerprint.
pub(super) struct Signer {
    key: PrivateKey,
    /// `signing/`.
    dir: PathBuf,
    /// `audit/signers/<machine-id>.pub`.
    pub_path: PathBuf,
    machine: String,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Signer({})",
            self.key.public_key().fingerprint(HashAlg::Sha256)
        )
    }
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> AuditError + 'a {
    move |source| AuditError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

fn other(message: impl Into<String>) -> io::Error {
    io::Error::other(message.into())
}

/// A responder's name as a `.pub` comment: one line, no control characters.
pub(super) fn clean_name(name: &str) -> String {
    let one = crate::text::one_line(name);
    let trimmed = one.trim();
    if trimmed.is_empty() {
        SYSTEM_ACTOR.to_string()
    } else {
        trimmed.to_string()
    }
}

impl Signer {
    /// Under the audit lock of a writable open: this machine's key
    /// (`signing/id_ed25519`, made on first use) and its public key in
    /// `audit/signers/<machine-id>.pub` (written once, with `name` as its
    /// comment; never changed after).
    pub(super) fn ensure(
        data_dir: &Path,
        machine_id: &str,
        name: Option<&str>,
    ) -> Result<Signer, AuditError> {
        let dir = data_dir.join(SIGNING_DIR);
        refuse_link(&dir)?;
        ensure_private_dir(&dir).map_err(io_error("use directory", &dir))?;
        let key_path = dir.join(KEY_FILE);
        if fs::symlink_metadata(&key_path).is_err() {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| AuditError::Io {
                action: "make signing key",
                path: key_path.clone(),
                source: other(format!("the operating system gave no random bytes: {e}")),
            })?;
            let key = PrivateKey::new(
                KeypairData::from(Ed25519Keypair::from_seed(&seed)),
                format!("breachdesk audit {machine_id}"),
            )
            .map_err(|e| AuditError::Io {
                action: "make signing key",
                path: key_path.clone(),
                source: other(e.to_string()),
            })?;
            seed.fill(0);
            let pem = key.to_openssh(LineEnding::LF).map_err(|e| AuditError::Io {
                action: "make signing key",
                path: key_path.clone(),
                source: other(e.to_string()),
            })?;
            durable::create_once(&key_path, pem.as_bytes())
                .map_err(io_error("create", &key_path))?;
        }
        let key = read_key(&key_path)?;
        let signers = data_dir.join(AUDIT_DIR).join(SIGNERS_DIR);
        refuse_link(&signers)?;
        ensure_private_dir(&signers).map_err(io_error("use directory", &signers))?;
        let signer = Signer {
            key,
            dir,
            pub_path: signer_file(data_dir, machine_id),
            machine: machine_id.to_string(),
        };
        if let Some(name) = name {
            signer.ensure_public(name)?;
        }
        Ok(signer)
    }

    /// Writes `audit/signers/<machine-id>.pub` with `name` as its comment if
    /// it is not there yet (never changed after), and pins it.
    pub(super) fn ensure_public(&self, name: &str) -> Result<(), AuditError> {
        if fs::symlink_metadata(&self.pub_path).is_ok() {
            return Ok(());
        }
        let name = clean_name(name);
        let mut public = self.key.public_key().clone();
        public.set_comment(name.clone());
        let line = public.to_openssh().map_err(|e| AuditError::Io {
            action: "write",
            path: self.pub_path.clone(),
            source: other(e.to_string()),
        })?;
        durable::create_once(&self.pub_path, format!("{line}\n").as_bytes())
            .map_err(io_error("create", &self.pub_path))?;
        let mut pins = Pins::read(&self.dir);
        if pins.pin(&self.machine, self.key.public_key(), &name, Utc::now()) {
            pins.write(&self.dir)?;
        }
        Ok(())
    }

    /// The comment of this machine's `.pub`, when it is there and readable.
    fn public_name(&self) -> Option<String> {
        read_public(&self.pub_path)
            .ok()
            .flatten()
            .map(|p| p.comment().to_string())
    }

    /// The key's fingerprint, `SHA256:…`.
    pub(super) fn fingerprint(&self) -> String {
        self.key
            .public_key()
            .fingerprint(HashAlg::Sha256)
            .to_string()
    }

    /// The base64 `sig` of an entry whose hash is `hash`.
    pub(super) fn sign(&self, hash: &str) -> Result<String, String> {
        let sig = self
            .key
            .sign(NAMESPACE, HashAlg::Sha512, hash.as_bytes())
            .map_err(|e| format!("cannot sign the entry: {e}"))?;
        let mut blob = Vec::new();
        sig.encode(&mut blob)
            .map_err(|e| format!("cannot encode the signature: {e}"))?;
        Ok(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            blob,
        ))
    }

    /// The name this machine's entries carry now: the last rename, else the
    /// `.pub` comment; `None` before the `.pub` is written. Read under the
    /// lock.
    pub(super) fn current_name(&self) -> Option<String> {
        crate::safe_read::read_text(&self.dir.join(NAME_FILE), 4096)
            .ok()
            .map(|t| t.trim_end_matches('\n').to_string())
            .filter(|t| !t.is_empty())
            .or_else(|| self.public_name())
    }

    /// Records the name this machine's entries carry after a rename.
    pub(super) fn set_current_name(&self, name: &str) -> Result<(), AuditError> {
        replace_file(&self.dir, NAME_FILE, format!("{name}\n").as_bytes())
            .map_err(io_error("replace", &self.dir.join(NAME_FILE)))
    }

    /// Remembers this machine's head after an append (not synced to disk:
    /// a stale head is only an older one, still in the chain).
    pub(super) fn remember_own_head(&self, seq: u64, hash: &str) {
        let _ = durable::replace_file_unsynced(
            &self.dir,
            OWN_HEAD_FILE,
            format!("{seq} {hash}\n").as_bytes(),
        );
    }
}

/// The private key in `path`: a regular file (not a link), 0600, an
/// unencrypted OpenSSH ed25519 key. Errors name the file, never its bytes.
fn read_key(path: &Path) -> Result<PrivateKey, AuditError> {
    let refuse = |why: String| AuditError::Io {
        action: "use signing key",
        path: path.to_path_buf(),
        source: other(why),
    };
    let (file, meta) = crate::safe_read::open_regular(path).map_err(|e| refuse(e.to_string()))?;
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(refuse(format!(
            "other users can read it (mode {:o}); chmod 600 it",
            meta.permissions().mode() & 0o777
        )));
    }
    let mut text = zeroize_string(Vec::new());
    file.take(64 * 1024)
        .read_to_end(&mut text.0)
        .map_err(|e| refuse(e.to_string()))?;
    let key = PrivateKey::from_openssh(&text.0)
        .map_err(|_| refuse("not an OpenSSH private key".into()))?;
    if key.is_encrypted() || !key.key_data().is_ed25519() {
        return Err(refuse(
            "not an unencrypted ed25519 key (breachdesk signs with ed25519 only)".into(),
        ));
    }
    Ok(key)
}

/// Bytes wiped on drop (the private key's text).
struct Wiped(Vec<u8>);

impl Drop for Wiped {
    fn drop(&mut self) {
        self.0.fill(0);
    }
}

fn zeroize_string(bytes: Vec<u8>) -> Wiped {
    Wiped(bytes)
}

/// The public key in `path` (`audit/signers/<id>.pub`): `None` when absent.
pub(super) fn read_public(path: &Path) -> Result<Option<PublicKey>, String> {
    match crate::safe_read::read_text(path, MAX_SMALL_FILE) {
        Ok(text) => {
            let line = text.lines().next().unwrap_or("");
            if text.lines().filter(|l| !l.trim().is_empty()).count() != 1 {
                return Err("is not one OpenSSH public key line".into());
            }
            let key = PublicKey::from_openssh(line)
                .map_err(|e| format!("is not an OpenSSH public key ({e})"))?;
            if !key.key_data().is_ed25519() {
                return Err("is not an ed25519 key".into());
            }
            Ok(Some(key))
        }
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// A signature blob decoded from an entry's `sig`.
pub(super) fn decode_sig(sig: &str) -> Result<SshSig, String> {
    let blob = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sig)
        .map_err(|_| "its signature is not base64".to_string())?;
    SshSig::decode(&mut blob.as_slice()).map_err(|_| "its signature is not an SSHSIG".to_string())
}

/// The armored `-----BEGIN SSH SIGNATURE-----` form of an entry's `sig`,
/// for `ssh-keygen -Y verify`.
pub fn armored_signature(sig: &str) -> Result<String, String> {
    decode_sig(sig)?
        .to_pem(LineEnding::LF)
        .map_err(|e| e.to_string())
}

/// One pinned signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Pin {
    /// The OpenSSH public key line, without comment.
    pub(super) key: String,
    pub(super) name: String,
    pub(super) first_seen: String,
}

/// `signing/pinned-signers.toml`: machine id -> key, name, first seen.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Pins {
    #[serde(default)]
    pub(super) signers: BTreeMap<String, Pin>,
}

/// The key part of an OpenSSH public key line (algorithm and base64).
pub(super) fn key_text(key: &PublicKey) -> String {
    let mut bare = key.clone();
    bare.set_comment("");
    bare.to_openssh().unwrap_or_default().trim_end().to_string()
}

impl Pins {
    /// The pins in `dir` (`signing/`); none when absent or unreadable.
    pub(super) fn read(dir: &Path) -> Pins {
        crate::safe_read::read_text(&dir.join(PINNED_FILE), MAX_SMALL_FILE)
            .ok()
            .and_then(|t| toml::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Pins `key` for `machine` if nothing is pinned for it yet; whether
    /// anything changed.
    pub(super) fn pin(
        &mut self,
        machine: &str,
        key: &PublicKey,
        name: &str,
        now: DateTime<Utc>,
    ) -> bool {
        if self.signers.contains_key(machine) {
            return false;
        }
        self.signers.insert(
            machine.to_string(),
            Pin {
                key: key_text(key),
                name: name.to_string(),
                first_seen: format_at(now),
            },
        );
        true
    }

    pub(super) fn write(&self, dir: &Path) -> Result<(), AuditError> {
        let text = toml::to_string(self).map_err(|e| AuditError::Serialize {
            file: dir.join(PINNED_FILE),
            message: e.to_string(),
        })?;
        replace_file(dir, PINNED_FILE, text.as_bytes())
            .map_err(io_error("replace", &dir.join(PINNED_FILE)))
    }
}

/// One chain's head as this machine last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SeenHead {
    pub(super) seq: u64,
    pub(super) hash: String,
}

/// `signing/seen-heads.toml`: chain -> the head seen at the last verify.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SeenHeads {
    #[serde(default)]
    pub(super) chains: BTreeMap<String, SeenHead>,
}

impl SeenHeads {
    /// The heads last seen in `data_dir`'s `signing/`, with this machine's
    /// own head (from its last append) for `own` when that is later.
    pub(super) fn read(data_dir: &Path, own: Option<&str>) -> SeenHeads {
        let dir = data_dir.join(SIGNING_DIR);
        let mut heads: SeenHeads =
            crate::safe_read::read_text(&dir.join(SEEN_HEADS_FILE), MAX_SMALL_FILE)
                .ok()
                .and_then(|t| toml::from_str(&t).ok())
                .unwrap_or_default();
        if let Some(own) = own
            && let Ok(text) = crate::safe_read::read_text(&dir.join(OWN_HEAD_FILE), 4096)
            && let Some((seq, hash)) = text.trim_end().split_once(' ')
            && let Ok(seq) = seq.parse::<u64>()
            && heads.chains.get(own).is_none_or(|h| h.seq < seq)
        {
            heads.chains.insert(
                own.to_string(),
                SeenHead {
                    seq,
                    hash: hash.to_string(),
                },
            );
        }
        heads
    }

    pub(super) fn write(&self, data_dir: &Path) -> io::Result<()> {
        let dir = data_dir.join(SIGNING_DIR);
        ensure_private_dir(&dir)?;
        let text = toml::to_string(self).map_err(|e| other(e.to_string()))?;
        replace_file(&dir, SEEN_HEADS_FILE, text.as_bytes())
    }
}

/// What checking one chain's signatures needs: its signer's key and name.
pub(super) struct ChainSigner {
    pub(super) key: PublicKey,
    pub(super) name: String,
}

/// Checks the signatures, signers and actors of a chain's entries (already
/// hash-verified, in order); each problem is (line, seq, message).
/// The signatures of the last `verify_last` entries, and of every rename
/// and endorsement, are verified; the others are checked for form and key
/// (the verified signatures after them cover them through the hashes).
pub(super) fn check_signatures(
    raws: &[(usize, RawEntry)],
    signer: &ChainSigner,
    verify_last: usize,
) -> Vec<(usize, u64, &'static str, String)> {
    let mut problems = Vec::new();
    let Some(first_signed) = raws.iter().position(|(_, r)| r.sig.is_some()) else {
        if !raws.is_empty() {
            problems.push((
                raws[0].0,
                raws[0].1.seq,
                "unsigned-chain",
                "no entry of this chain is signed: written by an older breachdesk (upgrade it on that machine)".to_string(),
            ));
        }
        return problems;
    };
    let key_data = signer.key.key_data();
    let mut name = clean_name(&signer.name);
    let from = raws.len().saturating_sub(verify_last.max(1));
    for (i, (line, raw)) in raws.iter().enumerate().skip(first_signed) {
        let Some(sig) = &raw.sig else {
            problems.push((
                *line,
                raw.seq,
                "unsigned-entry",
                "the entry is not signed, after signed entries: forged or edited".to_string(),
            ));
            continue;
        };
        let decoded = match decode_sig(sig) {
            Ok(d) => d,
            Err(e) => {
                problems.push((*line, raw.seq, "bad-signature", e));
                continue;
            }
        };
        if decoded.public_key() != key_data {
            problems.push((
                *line,
                raw.seq,
                "unknown-key",
                format!(
                    "signed by an unknown key ({}), not the chain's signer ({})",
                    decoded.public_key().fingerprint(HashAlg::Sha256),
                    signer.key.fingerprint(HashAlg::Sha256)
                ),
            ));
            continue;
        }
        let verify = i >= from || raw.action == RENAMED_ACTION || raw.action == SIGNING_KEY_ACTION;
        if verify
            && signer
                .key
                .verify(NAMESPACE, raw.hash.as_bytes(), &decoded)
                .is_err()
        {
            problems.push((
                *line,
                raw.seq,
                "bad-signature",
                "the signature does not verify with the chain's signer key: forged".to_string(),
            ));
            continue;
        }
        let actor = clean_name(&raw.actor);
        if raw.action == RENAMED_ACTION {
            name = actor;
        } else if actor != name && raw.actor != SYSTEM_ACTOR {
            problems.push((
                *line,
                raw.seq,
                "actor-mismatch",
                format!(
                    "the actor '{}' is not the signer '{}' (audit/signers .pub comment or its last {RENAMED_ACTION} entry)",
                    crate::text::one_line(&raw.actor),
                    crate::text::one_line(&name)
                ),
            ));
        }
    }
    problems
}
