//! A teammate's chain as it arrives through sync, checked before the sync
//! takes it: the whole incoming chain verifies (hashes, order), and every
//! entry it appends is signed by that machine's signer key (the one this
//! machine pinned, if it pinned one) with the signer's name as its actor.
//! `audit verify` finds the same faults after the fact; this keeps them
//! from arriving at all.

use super::chain::verify_collect;
use super::signing::{self, ChainSigner, Pins, SIGNING_DIR};
use ssh_key::PublicKey;
use std::path::Path;

/// Checks `text`, the incoming chain of machine `machine`, of which the
/// first `old_len` bytes are already held here, against `signer`, the
/// incoming `audit/signers/<machine>.pub` text (if any) and the signer
/// pinned in `data_dir`; why it must not be taken, in one line.
pub fn check_incoming_chain(
    data_dir: &Path,
    machine: &str,
    text: &str,
    old_len: usize,
    signer: Option<&str>,
) -> Result<(), String> {
    let (report, raws) = verify_collect(text, true);
    if let Some(broken) = &report.first_break {
        return Err(format!("does not verify at {broken}"));
    }
    let held_lines = text
        .get(..old_len.min(text.len()))
        .unwrap_or("")
        .matches('\n')
        .count();
    let appended = raws.iter().filter(|(line, _)| *line > held_lines).count();
    if appended == 0 {
        return Ok(());
    }
    let Some(signer) = signer else {
        return Err(format!(
            "appends {appended} entries, but machine {machine} has no signer key (audit/signers/{machine}.pub)"
        ));
    };
    let line = signer.lines().next().unwrap_or("");
    let key = PublicKey::from_openssh(line).map_err(|e| {
        format!("machine {machine}'s signer key is not an OpenSSH public key ({e})")
    })?;
    if !key.key_data().is_ed25519() {
        return Err(format!(
            "machine {machine}'s signer key is not an ed25519 key"
        ));
    }
    let pins = Pins::read(&data_dir.join(SIGNING_DIR));
    if let Some(pin) = pins.signers.get(machine)
        && pin.key != signing::key_text(&key)
    {
        return Err(format!(
            "machine {machine}'s signer key differs from the one pinned here on {}: a replaced key",
            pin.first_seen
        ));
    }
    let signer = ChainSigner {
        name: key.comment().to_string(),
        key,
    };
    // Every appended signature is verified, not only the last ones.
    let problems = signing::check_signatures(&raws, &signer, appended);
    match problems
        .iter()
        .find(|(line, _, kind, _)| *line > held_lines || *kind == "unsigned-chain")
    {
        Some((line, seq, _, message)) => Err(format!("line {line} (seq {seq}): {message}")),
        None => Ok(()),
    }
}
