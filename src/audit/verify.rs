//! `audit verify`'s checks beyond each chain's hashes: every chain's signer
//! (its `.pub` file, pinned on first sight), every entry's signature and
//! actor, and the heads this machine saw before (a chain rewritten or
//! deleted since). I/O: reads `audit/signers/` and `signing/`; records pins
//! and heads after a verify that found nothing wrong.

use super::signing::{self, ChainSigner, Pins, SeenHead, SeenHeads};
use super::*;

/// One thing `audit verify` found wrong (or, for a note, worth saying)
/// about the chains, naming the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A failure (`true`) or a note.
    pub failure: bool,
    /// A stable name for the kind (`--format json`): `chain-broken`,
    /// `signer-missing`, `signer-unreadable`, `signer-replaced`,
    /// `unsigned-chain`, `unsigned-entry`, `unknown-key`, `bad-signature`,
    /// `actor-mismatch`, `head-gone`, `chain-gone`; notes: `signer-renamed`.
    pub kind: &'static str,
    /// The file concerned (a chain, or a signer's `.pub`).
    pub file: PathBuf,
    /// The chain (machine id).
    pub chain: String,
    /// 1-based line in the chain, when it is about an entry.
    pub line: Option<usize>,
    pub seq: Option<u64>,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file.display())?;
        match (self.line, self.seq) {
            (Some(line), Some(seq)) => write!(f, "line {line} (seq {seq}): ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            _ => {}
        }
        write!(f, "{}", self.message)
    }
}

/// How many of each chain's last entries have their signatures verified
/// (besides every rename and endorsement). Verifying one costs about 25 µs:
/// all 50,000 entries of a 10,000-incident trail would double `audit
/// verify`. The older entries' signatures are checked for form and key;
/// their content is covered by the verified signatures after them, since
/// each `hash` chains every entry before it.
pub(super) const VERIFY_LAST: usize = 1024;

impl AuditLog {
    /// The signer checks of one chain whose hashes verified (`raws`, in
    /// order), against its `.pub`, the pins and the heads seen before.
    pub(super) fn check_signer(
        &self,
        chain: &str,
        file: &Path,
        raws: &[(usize, RawEntry)],
        pruned_to: u64,
        pins: &Pins,
        seen: &SeenHeads,
    ) -> (Vec<Finding>, Option<(String, PublicKey)>) {
        let data_dir = self.dir.parent().unwrap_or(&self.dir);
        let finding = |kind, file: &Path, line, seq, message: String| Finding {
            failure: true,
            kind,
            file: file.to_path_buf(),
            chain: chain.to_string(),
            line,
            seq,
            message,
        };
        let mut out = Vec::new();
        if let Some(head) = seen.chains.get(chain) {
            let found = raws.iter().find(|(_, r)| r.seq == head.seq);
            let intact = found.is_some_and(|(_, r)| r.hash == head.hash);
            if !intact {
                out.push(finding(
                    "head-gone",
                    file,
                    found.map(|(l, _)| *l),
                    Some(head.seq),
                    format!(
                        "the head this machine saw before (seq {}, hash {}) is gone{}: the chain was rewritten",
                        head.seq,
                        head.hash.chars().take(16).collect::<String>(),
                        if found.is_some() {
                            " (that seq now has another hash)"
                        } else if head.seq <= pruned_to {
                            " (pruned away)"
                        } else {
                            " (the chain is shorter)"
                        }
                    ),
                ));
            }
        }
        let pub_path = signing::signer_file(data_dir, chain);
        let key = match signing::read_public(&pub_path) {
            Ok(Some(key)) => key,
            // An empty chain (a machine that wrote nothing yet) has nothing to check.
            Ok(None) if raws.is_empty() => return (out, None),
            Ok(None) => {
                out.push(finding(
                    "signer-missing",
                    &pub_path,
                    None,
                    None,
                    format!(
                        "chain {} has no signer file: its entries cannot be checked",
                        file.display()
                    ),
                ));
                return (out, None);
            }
            Err(e) => {
                out.push(finding("signer-unreadable", &pub_path, None, None, e));
                return (out, None);
            }
        };
        if let Some(pin) = pins.signers.get(chain)
            && pin.key != signing::key_text(&key)
        {
            out.push(finding(
                "signer-replaced",
                &pub_path,
                None,
                None,
                format!(
                    "the signer key ({}) differs from the one pinned on {} for '{}': a replaced key",
                    key.fingerprint(ssh_key::HashAlg::Sha256),
                    pin.first_seen,
                    crate::text::one_line(&pin.name)
                ),
            ));
            return (out, None);
        }
        let signer = ChainSigner {
            name: key.comment().to_string(),
            key,
        };
        for (line, seq, kind, message) in signing::check_signatures(raws, &signer, VERIFY_LAST) {
            out.push(finding(kind, file, Some(line), Some(seq), message));
        }
        // A rename is the signer's own signed statement: shown, not failed.
        for (line, raw) in raws
            .iter()
            .filter(|(_, r)| r.action == signing::RENAMED_ACTION && r.sig.is_some())
        {
            out.push(Finding {
                failure: false,
                ..finding(
                    "signer-renamed",
                    file,
                    Some(*line),
                    Some(raw.seq),
                    format!(
                        "the signer ('{}' in {}) signs as '{}' from here on",
                        crate::text::one_line(&signer.name),
                        pub_path.display(),
                        crate::text::one_line(&raw.actor)
                    ),
                )
            });
        }
        (out, Some((signer.name, signer.key)))
    }

    /// After a verify that found nothing wrong: pins every signer not yet
    /// pinned, and remembers every chain's head. Best effort (a read-only
    /// data directory keeps none).
    pub(super) fn remember(
        &self,
        now: DateTime<Utc>,
        signers: &[(String, String, PublicKey)],
        heads: &[(String, u64, String)],
    ) {
        let data_dir = self.dir.parent().unwrap_or(&self.dir);
        let dir = data_dir.join(signing::SIGNING_DIR);
        if ensure_private_dir(&dir).is_err() {
            return;
        }
        let mut pins = Pins::read(&dir);
        let mut changed = false;
        for (chain, name, key) in signers {
            changed |= pins.pin(chain, key, name, now);
        }
        if changed {
            let _ = pins.write(&dir);
        }
        let mut seen = SeenHeads::read(data_dir, None);
        for (chain, seq, hash) in heads {
            seen.chains.insert(
                chain.clone(),
                SeenHead {
                    seq: *seq,
                    hash: hash.clone(),
                },
            );
        }
        let _ = seen.write(data_dir);
    }
}

use ssh_key::PublicKey;
