#![allow(clippy::unwrap_used)]
//! Who wrote each entry, provably (issue 21 item 3): every entry signed with
//! this machine's ed25519 key (SSHSIG, checked here with stock
//! `ssh-keygen`), the key private, and `audit verify` (the real binary)
//! failing, with the file named, on a forged entry, an unknown key, a
//! replaced signer key, an actor that is not the signer, a chain from an
//! older breachdesk, a missing signer file and a rewritten own chain.

mod support;

use sha2::{Digest, Sha256};
use ssh_key::private::{Ed25519Keypair, KeypairData};
use ssh_key::{HashAlg, LineEnding, PrivateKey};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use support::Bin;

/// A responder's data directory with one incident changed twice, verified
/// (so its signer is pinned and its head remembered).
fn desk() -> (Bin, String) {
    let bin = Bin::new();
    let id = bin.new_incident("Admin portal login", "-10m");
    bin.ok(&["log", &id, "first"]);
    bin.ok(&["log", &id, "second"]);
    assert!(bin.ok(&["audit", "verify"]).contains("ok,"));
    (bin, id)
}

fn own_chain(data: &Path) -> PathBuf {
    let id = breachdesk::paths::read_machine_id(data).unwrap().unwrap();
    data.join("audit/chains").join(format!("{id}.jsonl"))
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The documented hash of an entry: the JSON of its fields in order.
fn hash_of(v: &serde_json::Value) -> String {
    let mut json = format!(
        "{{\"seq\":{},\"at\":{},\"actor\":{},\"incident\":{},\"action\":{},\"detail\":{}",
        v["seq"], v["at"], v["actor"], v["incident"], v["action"], v["detail"]
    );
    if let Some(r) = v.get("revision") {
        json.push_str(&format!(",\"revision\":{r}"));
    }
    if let Some(s) = v.get("record_sha256") {
        json.push_str(&format!(",\"record_sha256\":{s}"));
    }
    json.push_str(&format!(",\"prev\":{}}}", v["prev"]));
    hex::encode(Sha256::digest(json.as_bytes()))
}

/// The base64 SSHSIG breachdesk's format stores, made with `key`.
fn sign(key: &PrivateKey, hash: &str) -> String {
    let sig = key
        .sign("breachdesk-audit", HashAlg::Sha512, hash.as_bytes())
        .unwrap();
    let pem = sig.to_pem(LineEnding::LF).unwrap();
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

fn other_key() -> PrivateKey {
    PrivateKey::new(
        KeypairData::from(Ed25519Keypair::from_seed(&[7u8; 32])),
        "mallory",
    )
    .unwrap()
}

fn machine_key(data: &Path) -> PrivateKey {
    PrivateKey::from_openssh(fs::read_to_string(data.join("signing/id_ed25519")).unwrap()).unwrap()
}

/// An entry after `last`, with `actor`, signed by `key` (or not).
fn next_entry(last: &serde_json::Value, actor: &str, key: Option<&PrivateKey>) -> String {
    let mut v = serde_json::json!({
        "seq": last["seq"].as_u64().unwrap() + 1,
        "at": "2026-11-28T15:00:00Z",
        "actor": actor,
        "incident": null,
        "action": "note.added",
        "detail": "added by hand",
        "prev": last["hash"],
    });
    let hash = hash_of(&v);
    v["hash"] = hash.clone().into();
    if let Some(key) = key {
        v["sig"] = sign(key, &hash).into();
    }
    format!("{v}\n")
}

fn append(path: &Path, line: &str) {
    let mut text = fs::read_to_string(path).unwrap();
    text.push_str(line);
    fs::write(path, text).unwrap();
}

/// `audit verify` fails, naming `file` and saying `what` on one FAIL line.
fn verify_fails(bin: &Bin, file: &Path, what: &str) -> String {
    let ran = bin.run(&["audit", "verify"]);
    assert!(!ran.ok, "verify passed: {}", ran.out());
    let out = ran.out();
    let line = out
        .lines()
        .find(|l| l.starts_with("FAIL") && l.contains(what))
        .unwrap_or_else(|| panic!("no FAIL line saying {what:?}: {out}"));
    assert!(line.contains(&file.display().to_string()), "{line}");
    assert_eq!(ran.err().lines().count(), 1, "{}", ran.err());
    out
}

#[test]
fn every_entry_is_signed_and_the_key_is_private_and_nowhere_else() {
    let (bin, _) = desk();
    let signing = bin.data.join("signing");
    let key_file = signing.join("id_ed25519");
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&signing), 0o700);
    assert_eq!(mode(&key_file), 0o600);
    let key = machine_key(&bin.data);
    assert!(!key.is_encrypted());
    // The public key in the repository: one OpenSSH line naming the responder.
    let id = breachdesk::paths::read_machine_id(&bin.data)
        .unwrap()
        .unwrap();
    let public = fs::read_to_string(bin.data.join(format!("audit/signers/{id}.pub"))).unwrap();
    assert_eq!(public.lines().count(), 1);
    assert!(public.starts_with("ssh-ed25519 AAAA"), "{public}");
    assert!(public.trim_end().ends_with(" tester"), "{public}");
    let parsed = ssh_key::PublicKey::from_openssh(public.trim_end()).unwrap();
    assert_eq!(parsed.key_data(), key.public_key().key_data());
    // Every entry carries a signature that verifies with it.
    let entries = lines(&own_chain(&bin.data));
    assert!(entries.len() >= 3);
    for e in &entries {
        let sig =
            breachdesk::audit::signing::armored_signature(e["sig"].as_str().unwrap()).unwrap();
        let sig: ssh_key::SshSig = sig.parse().unwrap();
        parsed
            .verify(
                "breachdesk-audit",
                e["hash"].as_str().unwrap().as_bytes(),
                &sig,
            )
            .unwrap();
    }
    // The private key's bytes (raw, hex, base64 or its file's text) are in
    // no other file of the data directory.
    let seed = key.key_data().ed25519().unwrap().private.to_bytes();
    let pem = fs::read_to_string(&key_file).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let needles: Vec<Vec<u8>> = vec![
        seed.to_vec(),
        hex::encode(seed).into_bytes(),
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, seed).into_bytes(),
        // The end of the file's text holds the private part.
        body.as_bytes()[body.len() - 60..body.len() - 10].to_vec(),
    ];
    let mut stack = vec![bin.data.clone()];
    let mut looked = 0;
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() && path != key_file {
                let bytes = fs::read(&path).unwrap();
                looked += 1;
                for needle in &needles {
                    assert!(
                        !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                        "{} holds private key bytes",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(looked >= 6, "looked at {looked} files");
}

#[test]
fn a_signature_made_by_breachdesk_verifies_with_ssh_keygen() {
    let (bin, _) = desk();
    let last = lines(&own_chain(&bin.data)).pop().unwrap();
    let id = breachdesk::paths::read_machine_id(&bin.data)
        .unwrap()
        .unwrap();
    let public = fs::read_to_string(bin.data.join(format!("audit/signers/{id}.pub"))).unwrap();
    let work = bin.dir.path().join("interop");
    fs::create_dir(&work).unwrap();
    let sig_file = work.join("entry.sig");
    let armored =
        breachdesk::audit::signing::armored_signature(last["sig"].as_str().unwrap()).unwrap();
    assert!(
        armored.starts_with("-----BEGIN SSH SIGNATURE-----"),
        "{armored}"
    );
    fs::write(&sig_file, armored).unwrap();
    let key = public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let allowed = work.join("allowed_signers");
    fs::write(
        &allowed,
        format!("tester namespaces=\"breachdesk-audit\" {key}\n"),
    )
    .unwrap();
    let message = last["hash"].as_str().unwrap().to_string();
    let keygen = |message: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f"])
            .arg(&allowed)
            .args(["-I", "tester", "-n", "breachdesk-audit", "-s"])
            .arg(&sig_file)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        child.stdin.take().unwrap().write_all(message.as_bytes())?;
        child.wait_with_output()
    };
    match keygen(&message) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "SKIPPED: ssh-keygen is not on PATH; the OpenSSH interop assertion was not run"
            );
        }
        Err(e) => panic!("ssh-keygen: {e}"),
        Ok(out) => {
            assert!(
                out.status.success(),
                "ssh-keygen -Y verify refused: {} {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("Good"));
            // And it is not a rubber stamp: another message fails.
            let bad = keygen(&message.replace('a', "b")).unwrap();
            assert!(!bad.status.success());
        }
    }
}

#[test]
fn an_entry_signed_with_another_key_fails_naming_the_chain() {
    let (bin, _) = desk();
    let chain = own_chain(&bin.data);
    let last = lines(&chain).pop().unwrap();
    append(&chain, &next_entry(&last, "tester", Some(&other_key())));
    verify_fails(&bin, &chain, "signed by an unknown key");
}

#[test]
fn an_unsigned_entry_after_signed_ones_fails() {
    let (bin, _) = desk();
    let chain = own_chain(&bin.data);
    let last = lines(&chain).pop().unwrap();
    append(&chain, &next_entry(&last, "tester", None));
    verify_fails(&bin, &chain, "not signed, after signed entries");
}

#[test]
fn a_signature_copied_from_another_entry_fails() {
    // The right key inside the blob, but a signature over another hash.
    let (bin, _) = desk();
    let chain = own_chain(&bin.data);
    let last = lines(&chain).pop().unwrap();
    let mut forged: serde_json::Value =
        serde_json::from_str(&next_entry(&last, "tester", None)).unwrap();
    forged["sig"] = last["sig"].clone();
    append(&chain, &format!("{forged}\n"));
    verify_fails(&bin, &chain, "does not verify with the chain's signer key");
}

#[test]
fn a_replaced_signer_key_fails_against_its_pin() {
    let (bin, _) = desk();
    let id = breachdesk::paths::read_machine_id(&bin.data)
        .unwrap()
        .unwrap();
    let pub_file = bin.data.join(format!("audit/signers/{id}.pub"));
    let mut replaced = other_key().public_key().clone();
    replaced.set_comment("tester");
    fs::write(&pub_file, format!("{}\n", replaced.to_openssh().unwrap())).unwrap();
    verify_fails(&bin, &pub_file, "differs from the one pinned");
}

#[test]
fn an_actor_that_is_not_the_signer_fails() {
    // Signed with the machine's own key, but claiming to be someone else.
    let (bin, _) = desk();
    let chain = own_chain(&bin.data);
    let last = lines(&chain).pop().unwrap();
    let key = machine_key(&bin.data);
    append(&chain, &next_entry(&last, "Alex Oncall", Some(&key)));
    verify_fails(
        &bin,
        &chain,
        "the actor 'Alex Oncall' is not the signer 'tester'",
    );
}

#[test]
fn a_chain_from_an_older_breachdesk_or_without_a_signer_fails() {
    let (bin, _) = desk();
    let other = "0123456789abcdef";
    let chain = bin.data.join(format!("audit/chains/{other}.jsonl"));
    let mut v = serde_json::json!({
        "seq": 1, "at": "2026-11-28T14:00:00Z", "actor": "Alex Oncall",
        "incident": null, "action": "note.added", "detail": "unsigned",
        "prev": "0".repeat(64),
    });
    v["hash"] = hash_of(&v).into();
    fs::write(&chain, format!("{v}\n")).unwrap();
    let pub_file = bin.data.join(format!("audit/signers/{other}.pub"));
    verify_fails(&bin, &pub_file, "has no signer file");
    let mut public = other_key().public_key().clone();
    public.set_comment("Alex Oncall");
    fs::write(&pub_file, format!("{}\n", public.to_openssh().unwrap())).unwrap();
    verify_fails(
        &bin,
        &chain,
        "written by an older breachdesk (upgrade it on that machine)",
    );
}

#[test]
fn an_unsigned_history_is_endorsed_by_the_first_writable_open_after_the_upgrade() {
    let (bin, id) = desk();
    // As an older breachdesk left it: no signatures, no key, no signer file.
    let chain = own_chain(&bin.data);
    let unsigned: String = lines(&chain)
        .into_iter()
        .map(|mut v| {
            v.as_object_mut().unwrap().remove("sig");
            format!("{v}\n")
        })
        .collect();
    fs::write(&chain, &unsigned).unwrap();
    fs::remove_dir_all(bin.data.join("signing")).unwrap();
    fs::remove_dir_all(bin.data.join("audit/signers")).unwrap();
    let before = lines(&chain).len();

    bin.ok(&["log", &id, "after the upgrade"]);
    let after = lines(&chain);
    assert_eq!(after[before]["action"], "audit.signing-key");
    assert!(after[before]["sig"].is_string());
    assert!(
        after[before]["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("endorses the {before} unsigned entries")),
        "{}",
        after[before]
    );
    assert!(bin.ok(&["audit", "verify"]).contains("ok,"));
}

#[test]
fn this_machines_own_chain_rewritten_and_rehashed_fails() {
    let (bin, id) = desk();
    for n in 0..3 {
        bin.ok(&["log", &id, &format!("more {n}")]);
    }
    let chain = own_chain(&bin.data);
    let entries = lines(&chain);
    // Two entries removed, every later one renumbered, rehashed and signed
    // again with the machine's own key: only the head remembered catches it.
    let key = machine_key(&bin.data);
    let mut kept: Vec<serde_json::Value> = entries.clone();
    kept.drain(1..3);
    let mut prev = "0".repeat(64);
    let mut text = String::new();
    for (i, v) in kept.iter_mut().enumerate() {
        v["seq"] = (i as u64 + 1).into();
        v["prev"] = prev.clone().into();
        let map = v.as_object_mut().unwrap();
        map.remove("hash");
        map.remove("sig");
        let hash = hash_of(v);
        v["hash"] = hash.clone().into();
        v["sig"] = sign(&key, &hash).into();
        prev = hash;
        text.push_str(&format!("{v}\n"));
    }
    fs::write(&chain, text).unwrap();
    let out = verify_fails(&bin, &chain, "is gone");
    assert!(out.contains("the chain was rewritten"), "{out}");
}
