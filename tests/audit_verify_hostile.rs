#![allow(clippy::unwrap_used)]
//! `audit verify` sees everything (issue 21 item 4): the real binary fails,
//! one line per problem naming the file, on a deleted record, a record
//! truncated to 100 bytes or with a key appended twice, a symlink in
//! `incidents/` (never followed), a FIFO (never opened: no hang) and a
//! revision whose entries are all for another SHA-256; it prints the note
//! for a change logged but never saved; `--format json` carries the same
//! findings. Prune and config bounds (item 8) too.

mod support;

use std::fs;
use std::path::Path;
use support::Bin;

fn desk() -> (Bin, String) {
    let bin = Bin::new();
    let id = bin.new_incident("Admin portal login", "-10m");
    bin.ok(&["log", &id, "first"]);
    assert!(bin.ok(&["audit", "verify"]).contains("ok,"));
    (bin, id)
}

/// `audit verify` fails with a FAIL line naming `file` and saying `what`,
/// and one line on stderr.
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

fn record(bin: &Bin, id: &str) -> std::path::PathBuf {
    bin.data.join("incidents").join(format!("{id}.toml"))
}

#[test]
fn a_deleted_record_fails() {
    let (bin, id) = desk();
    fs::remove_file(record(&bin, &id)).unwrap();
    verify_fails(&bin, &record(&bin, &id), "the record was deleted");
}

#[test]
fn a_record_truncated_to_100_bytes_fails() {
    let (bin, id) = desk();
    let path = record(&bin, &id);
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..100]).unwrap();
    verify_fails(&bin, &path, "cannot be parsed");
}

#[test]
fn a_record_with_a_key_appended_twice_fails() {
    let (bin, id) = desk();
    let path = record(&bin, &id);
    let mut text = fs::read_to_string(&path).unwrap();
    // `title` is a top-level key: say it again at the end of the top table.
    let first_table = text.find("\n[").unwrap();
    text.insert_str(first_table + 1, "title = \"Nothing happened\"\n");
    fs::write(&path, text).unwrap();
    verify_fails(&bin, &path, "cannot be parsed");
}

#[test]
fn a_symlink_in_incidents_is_reported_and_never_followed() {
    let (bin, _) = desk();
    let link = bin.data.join("incidents/INC-20261128-1400-aaaaaa.toml");
    std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
    let out = verify_fails(&bin, &link, "symbolic link (not followed)");
    assert!(!out.contains("root:"), "{out}");
    // The JSON carries the same finding.
    let ran = bin.run(&["audit", "verify", "--format", "json"]);
    assert!(!ran.ok);
    let json: serde_json::Value = serde_json::from_str(&ran.out()).unwrap();
    assert_eq!(json["ok"], false);
    let findings = json["findings"].as_array().unwrap();
    let found = findings
        .iter()
        .find(|f| f["kind"] == "not-a-regular-file")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(found["level"], "fail");
    assert_eq!(found["file"], link.display().to_string());
    assert!(json["chains"].as_array().unwrap().len() == 1, "{json}");
}

#[test]
fn a_fifo_in_incidents_is_reported_without_hanging() {
    let (bin, _) = desk();
    let fifo = bin.data.join("incidents/INC-20261128-1400-bbbbbb.toml");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // Bin::run kills and fails a run that does not end (a hang).
    verify_fails(&bin, &fifo, "FIFO");
}

#[test]
fn a_revision_whose_entries_are_for_another_sha256_fails() {
    // Two machines each saved their own revision 2 of one incident; the
    // record on disk is neither: no entry for another SHA-256 accounts for it.
    let a = Bin::new();
    let id = a.new_incident("Admin portal login", "-10m");
    let b = Bin::new();
    copy_dir(&a.data.join("incidents"), &b.data.join("incidents"));
    copy_dir(&a.data.join("audit/chains"), &b.data.join("audit/chains"));
    copy_dir(&a.data.join("audit/signers"), &b.data.join("audit/signers"));
    a.ok(&["log", &id, "seen on machine A"]);
    b.ok(&["log", &id, "seen on machine B"]);
    // B's chain and signer come to A, as a sync brings them.
    let idb = breachdesk::paths::read_machine_id(&b.data)
        .unwrap()
        .unwrap();
    for file in [format!("chains/{idb}.jsonl"), format!("signers/{idb}.pub")] {
        fs::copy(
            b.data.join("audit").join(&file),
            a.data.join("audit").join(&file),
        )
        .unwrap();
    }
    a.ok(&["audit", "verify"]);
    let path = record(&a, &id);
    let text = fs::read_to_string(&path).unwrap();
    fs::write(
        &path,
        text.replace("Admin portal login", "Admin portal login (edited)"),
    )
    .unwrap();
    let out = verify_fails(&a, &path, "differs from what the audit log says was saved");
    let line = out.lines().find(|l| l.contains("differs")).unwrap();
    // Both machines' entries for that revision are named; neither counts.
    assert_eq!(line.matches("of chain").count(), 2, "{line}");
}

#[test]
fn a_change_logged_but_never_saved_gets_its_note() {
    let (bin, id) = desk();
    // What a kill -9 (or a full disk) between the entry and the record's
    // rename leaves: the record one revision behind its last entry.
    let path = record(&bin, &id);
    let before = fs::read(&path).unwrap();
    bin.ok(&["log", &id, "lost in a crash"]);
    fs::write(&path, before).unwrap();
    let out = bin.ok(&["audit", "verify"]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("note") && l.contains("but never saved")),
        "{out}"
    );
}

#[test]
fn an_honest_data_directory_passes_with_json() {
    let (bin, id) = desk();
    bin.ok(&["log", &id, "second"]);
    let ran = bin.run(&["audit", "verify", "--format", "json"]);
    assert!(ran.ok, "{}", ran.err());
    let json: serde_json::Value = serde_json::from_str(&ran.out()).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["findings"].as_array().unwrap().len(), 0, "{json}");
    assert!(json["entries"].as_u64().unwrap() >= 3);
    assert_eq!(json["chains"][0]["own"], true);
}

#[test]
fn prune_and_retention_day_counts_are_bounded() {
    let (bin, _) = desk();
    let err = bin.fails(&["audit", "prune", "--older-than-days", "100000000"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--older-than-days 100000000"), "{err}");
    assert!(err.contains("out of range"), "{err}");
    fs::create_dir_all(bin.config.parent().unwrap()).unwrap();
    fs::write(&bin.config, "[audit]\nretention_days = 4294967295\n").unwrap();
    let err = bin.fails(&["config", "check"]);
    assert!(
        err.contains(&format!("{}:2", bin.config.display()))
            && err.contains("audit.retention_days"),
        "{err}"
    );
    fs::remove_file(&bin.config).unwrap();
    // In a synced data directory prune would rewrite a shared chain.
    fs::create_dir(bin.data.join(".git")).unwrap();
    let err = bin.fails(&["audit", "prune"]);
    assert!(err.contains("synced with a team"), "{err}");
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if !entry.file_name().to_string_lossy().starts_with('.') {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}
