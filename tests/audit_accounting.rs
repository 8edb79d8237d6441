#![allow(clippy::unwrap_used)]
//! Every saved change is accounted for in the audit log, and every failure
//! to log one is honest: the real binary, real files, faults injected through
//! the durable-write seam (so none of this needs root or a full disk).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Desk {
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
}

impl Desk {
    fn new() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let config = dir.path().join("config.toml");
        fs::write(&config, "[responder]\nname = \"Alex Oncall\"\n").unwrap();
        Desk {
            _dir: dir,
            data,
            config,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_breachdesk"));
        c.args(args)
            .env("BREACHDESK_DATA_DIR", &self.data)
            .env("BREACHDESK_CONFIG", &self.config)
            .env("USER", "tester")
            .env_remove("BREACHDESK_FAULT");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn run_with_fault(&self, fault: &str, args: &[&str]) -> Output {
        self.command(args)
            .env("BREACHDESK_FAULT", fault)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "breachdesk {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn new_incident(&self) -> String {
        self.ok(&[
            "new",
            "--title",
            "Admin portal login",
            "--identified-at",
            "-10m",
        ])
        .trim()
        .to_string()
    }

    /// This machine's audit chain.
    fn log_file(&self) -> PathBuf {
        breachdesk::audit::own_chain_file(&self.data)
            .unwrap()
            .expect("a machine id")
    }

    fn record(&self, id: &str) -> PathBuf {
        self.data.join(format!("incidents/{id}.toml"))
    }
}

fn one_line_error(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "expected a failure");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn every_change_has_an_entry_with_its_revision_hash_and_text() {
    let desk = Desk::new();
    let id = desk.new_incident();
    desk.ok(&["log", &id, "Isolated web-03 from the network"]);
    desk.ok(&["edit", &id, "--summary", "Login from 203.0.113.9"]);
    desk.ok(&[
        "request",
        "add",
        &id,
        "--from",
        "client",
        "--what",
        "Proxy logs for 27 Nov",
    ]);
    desk.ok(&[
        "step",
        &id,
        "8.2.1a",
        "--status",
        "in-progress",
        "--note",
        "blocking IPs",
    ]);

    let text = fs::read_to_string(desk.log_file()).unwrap();
    let entries: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mine: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["incident"] == id.as_str())
        .collect();
    // One entry per saved revision, 1..=n, in order.
    let revisions: Vec<u64> = mine.iter().filter_map(|e| e["revision"].as_u64()).collect();
    let record: toml::Value =
        toml::from_str(&fs::read_to_string(desk.record(&id)).unwrap()).unwrap();
    let saved = record["revision"].as_integer().unwrap() as u64;
    assert_eq!(revisions, (1..=saved).collect::<Vec<_>>());
    // The last entry's hash is the record file's SHA-256.
    let bytes = fs::read(desk.record(&id)).unwrap();
    use sha2::Digest;
    assert_eq!(
        mine.last().unwrap()["record_sha256"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(&bytes))
    );
    // Every timeline entry's text is in some audit entry, word for word.
    let details: String = mine
        .iter()
        .map(|e| e["detail"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    for entry in record["timeline"].as_array().unwrap() {
        let t = entry["text"].as_str().unwrap();
        assert!(
            details.contains(t),
            "timeline text not in the audit log: {t}"
        );
    }
    for needle in [
        "Isolated web-03",
        "Proxy logs for 27 Nov",
        "blocking IPs",
        "8.2.1a",
    ] {
        assert!(details.contains(needle), "{needle} missing from\n{details}");
    }
    let out = desk.ok(&["audit", "verify"]);
    assert!(
        out.contains("every saved record revision has its entry"),
        "{out}"
    );
}

#[test]
fn verify_names_a_saved_revision_without_an_entry_and_an_edited_record() {
    let desk = Desk::new();
    let id = desk.new_incident();
    desk.ok(&["log", &id, "first"]);
    desk.ok(&["log", &id, "second"]);
    let log = desk.log_file();
    let text = fs::read_to_string(&log).unwrap();

    // The log truncated at a line boundary: the chain itself still verifies,
    // but revision 3 of the record has lost its entry.
    let cut: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
    fs::write(&log, &cut).unwrap();
    let out = desk.run(&["audit", "verify"]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "FAIL  {id} revision 3: saved, but has no audit entry"
        )),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not accounted for"));

    // Restored log, record edited by hand: the bytes no longer match.
    fs::write(&log, &text).unwrap();
    desk.ok(&["audit", "verify"]);
    let record = fs::read_to_string(desk.record(&id)).unwrap();
    fs::write(desk.record(&id), record.replace("second", "SECOND")).unwrap();
    let out = desk.run(&["audit", "verify"]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "FAIL  {id} revision 3: the record on disk differs"
        )),
        "{stdout}"
    );
}

#[test]
fn an_audit_log_that_cannot_be_written_refuses_the_change() {
    for (fault, cause) in [
        ("append:storage-full:25", "No space left on device"),
        ("append:permission-denied", "Permission denied"),
        ("append:io:3", "Input/output error"),
    ] {
        let desk = Desk::new();
        let id = desk.new_incident();
        let record_before = fs::read(desk.record(&id)).unwrap();
        let log_before = fs::read(desk.log_file()).unwrap();

        let out = desk.run_with_fault(fault, &["log", &id, "this must not be saved"]);
        let err = one_line_error(&out);
        assert!(
            err.contains(&desk.log_file().display().to_string()),
            "{err}"
        );
        assert!(err.contains("not saved"), "{err}");
        assert_eq!(err.matches(cause).count(), 1, "the cause once: {err}");
        assert!(!err.contains(" saved but"), "{err}");
        assert!(out.stdout.is_empty(), "nothing on stdout: {:?}", out.stdout);
        assert_eq!(
            fs::read(desk.record(&id)).unwrap(),
            record_before,
            "{fault}"
        );
        assert_eq!(fs::read(desk.log_file()).unwrap(), log_before, "{fault}");
        // And everything works again once the fault is gone.
        desk.ok(&["log", &id, "after the fault"]);
        desk.ok(&["audit", "verify"]);
    }
}

#[test]
fn new_that_cannot_be_logged_prints_no_id_and_leaves_no_incident() {
    let desk = Desk::new();
    desk.new_incident();
    let before: Vec<_> = fs::read_dir(desk.data.join("incidents"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let out = desk.run_with_fault(
        "append:storage-full:10",
        &["new", "--title", "Never opened", "--identified-at", "-5m"],
    );
    let err = one_line_error(&out);
    assert!(err.contains("not saved"), "{err}");
    assert!(out.stdout.is_empty(), "no id printed");
    let after: Vec<_> = fs::read_dir(desk.data.join("incidents"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after);
    desk.ok(&["audit", "verify"]);
}

#[test]
fn a_record_that_cannot_be_written_after_logging_is_not_called_saved() {
    let desk = Desk::new();
    let id = desk.new_incident();
    let record_before = fs::read(desk.record(&id)).unwrap();
    let out = desk.run_with_fault(
        "replace:storage-full:100",
        &["log", &id, "lost to a full disk"],
    );
    let err = one_line_error(&out);
    assert!(err.contains("not saved"), "{err}");
    assert_eq!(err.matches("No space left on device").count(), 1, "{err}");
    assert_eq!(fs::read(desk.record(&id)).unwrap(), record_before);
    // The log says what happened; verify reports it as a note, not a failure.
    let text = fs::read_to_string(desk.log_file()).unwrap();
    assert!(text.contains("record.not-saved"), "{text}");
    let out = desk.ok(&["audit", "verify"]);
    assert!(
        out.contains(&format!("note  {id} revision 2: logged at seq")),
        "{out}"
    );
    assert!(out.contains("never saved"), "{out}");
    // No temp file left behind.
    let temps = fs::read_dir(desk.data.join("incidents"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(temps, 0);
}

/// Every file and directory under `dir` with its size, mode, mtime and inode.
fn tree(dir: &Path) -> BTreeMap<PathBuf, (u64, u32, i64, i64, u64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let meta = fs::symlink_metadata(entry.path()).unwrap();
            out.insert(
                entry.path(),
                (
                    meta.size(),
                    meta.mode(),
                    meta.mtime(),
                    meta.mtime_nsec(),
                    meta.ino(),
                ),
            );
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    out
}

#[test]
fn read_only_commands_change_nothing_in_the_data_directory() {
    let desk = Desk::new();
    let id = desk.new_incident();
    desk.ok(&["log", &id, "something"]);
    // Make the index stale and leave a corrupt record, so a writer would
    // have something to refresh or quarantine.
    fs::write(desk.data.join("incidents/INC-BROKEN.toml"), "title = [").unwrap();
    let before = tree(&desk.data);
    for args in [
        vec!["list"],
        vec!["list", "--all", "--format", "json"],
        vec!["show", &id],
        vec!["show", &id, "--format", "json"],
        vec!["export", &id, "--format", "markdown"],
        vec!["evidence", &id],
        vec!["audit", "list"],
        vec!["audit", "list", &id],
        vec!["holidays", "--year", "2026"],
        vec![
            "due",
            "--from",
            "2026-11-27T10:00:00Z",
            "--working-days",
            "2",
        ],
    ] {
        let _ = desk.run(&args);
        assert_eq!(
            tree(&desk.data),
            before,
            "breachdesk {args:?} changed the data directory"
        );
    }
    // verify reads the corrupt record's neighbours and still reports. It
    // remembers the chain heads it checked, machine-local in signing/
    // (to find a chain rewritten later); nothing else changes.
    let _ = desk.run(&["audit", "verify"]);
    let outside_signing = |t: BTreeMap<PathBuf, _>| -> BTreeMap<PathBuf, _> {
        t.into_iter()
            .filter(|(p, _)| !p.starts_with(desk.data.join("signing")))
            .collect()
    };
    assert_eq!(
        outside_signing(tree(&desk.data)),
        outside_signing(before),
        "audit verify changed the data directory"
    );
    assert!(desk.data.join("signing/seen-heads.toml").is_file());
}

#[test]
fn a_read_only_store_refuses_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = breachdesk::store::Store::open_read_only(dir.path()).unwrap();
    let note = breachdesk::store::AuditNote::new(chrono::DateTime::UNIX_EPOCH, "t", "x", "y");
    let err = store
        .update::<String>("INC-1", |_| Ok(note.clone()))
        .unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(!dir.path().join("incidents").exists());
    assert!(!dir.path().join("audit").exists());
}
