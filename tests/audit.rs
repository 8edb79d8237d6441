#![allow(clippy::unwrap_used)]
//! The audit log (JSON Lines) against real files and real processes.

use breachdesk::audit::{AuditError, AuditLog, BreakKind, MIN_RETENTION_DAYS, ZERO_HASH};
use breachdesk::durable::fault::{self, Fault, Op};
use chrono::{DateTime, Duration, TimeZone, Utc};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 14, 30, 0).unwrap()
}

const AWKWARD: [&str; 8] = [
    "plain",
    "quotes \" ' \"\"\" ''' \\ and a backslash at the end \\",
    "new\nlines\r\nand\ttabs",
    "looks like a line:\n{\"seq\":1,\"hash\":\"00\"}\n",
    "]] ]]] [[entry]] {\"chain\":{}} # comment",
    "unicode £ € Zoë 東京 🔥 \u{1b}[2J \u{7f} \u{202e}",
    "'''\n\"\"\"\n'''''",
    "",
];

/// This machine's chain (the data directory has a machine id by now).
fn log_path(dir: &Path) -> PathBuf {
    breachdesk::audit::own_chain_file(dir)
        .unwrap()
        .expect("a machine id")
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(|l| format!("{l}\n")).collect()
}

/// 1-based line number of the entry with this seq.
fn line_of_seq(text: &str, seq: u64) -> usize {
    let needle = format!("{{\"seq\":{seq},");
    text.lines().position(|l| l.starts_with(&needle)).unwrap() + 1
}

fn plain_log(dir: &Path, n: u64) -> AuditLog {
    let log = AuditLog::open(dir).unwrap();
    for i in 1..=n {
        log.append(
            base() + Duration::minutes(i as i64),
            "alice",
            Some("INC-1"),
            "incident.updated",
            &format!("detail number {i:03} plain"),
        )
        .unwrap();
    }
    log
}

fn first_break(dir: &Path) -> breachdesk::audit::ChainBreak {
    AuditLog::open_read_only(dir)
        .verify()
        .unwrap()
        .first_break
        .expect("the chain should be broken")
}

#[test]
fn awkward_text_round_trips_one_line_per_entry() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    assert!(log.verify().unwrap().is_ok());
    assert_eq!(log.head().unwrap(), ZERO_HASH);
    let mut appended = Vec::new();
    for (i, text) in AWKWARD.iter().cycle().take(40).enumerate() {
        let incident = if i % 3 == 0 {
            None
        } else {
            Some(format!("INC-{}", i % 2))
        };
        let entry = log
            .append(
                base() + Duration::seconds(i as i64),
                // One actor: another name would be a signed rename entry.
                "alice \u{202e}\u{7} \"quoted\"",
                incident.as_deref(),
                "note.added",
                text,
            )
            .unwrap();
        assert_eq!(entry.seq, i as u64 + 1);
        appended.push(entry);
    }
    assert_eq!(appended[0].prev, ZERO_HASH);
    assert_eq!(appended[1].prev, appended[0].hash);
    assert_eq!(log.entries().unwrap(), appended);
    let report = log.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.first_break);
    assert_eq!(report.entries, 40);
    assert_eq!(report.last_hash, appended[39].hash);
    assert_eq!(log.head().unwrap(), appended[39].hash);
    let for_one = log.entries_for("INC-1").unwrap();
    assert!(!for_one.is_empty());
    assert!(
        for_one
            .iter()
            .all(|e| e.incident.as_deref() == Some("INC-1"))
    );
    // One JSON object per line, whatever the text held.
    let text = fs::read_to_string(log_path(dir.path())).unwrap();
    assert_eq!(text.lines().count(), 40);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["hash"].is_string());
    }
}

#[test]
fn edited_entry_is_reported_with_its_seq_and_line() {
    let dir = tempfile::tempdir().unwrap();
    plain_log(dir.path(), 10);
    let path = log_path(dir.path());
    let text = fs::read_to_string(&path).unwrap();
    let edited = text.replace("detail number 007 plain", "detail number 007 plaim");
    assert_ne!(edited, text);
    fs::write(&path, &edited).unwrap();
    let broken = first_break(dir.path());
    assert_eq!(broken.kind, BreakKind::HashMismatch);
    assert_eq!(broken.seq, Some(7));
    assert_eq!(broken.line, line_of_seq(&edited, 7));
    assert!(broken.to_string().contains("seq 7"), "{broken}");
    assert_eq!(
        AuditLog::open_read_only(dir.path())
            .verify()
            .unwrap()
            .entries,
        6
    );
}

#[test]
fn deleted_reordered_and_inserted_entries_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    plain_log(dir.path(), 10);
    let path = log_path(dir.path());
    let text = fs::read_to_string(&path).unwrap();

    let mut l = lines(&text);
    l.remove(4); // seq 5
    fs::write(&path, l.concat()).unwrap();
    let broken = first_break(dir.path());
    assert_eq!(broken.kind, BreakKind::OutOfSequence);
    assert_eq!(broken.seq, Some(6));
    assert_eq!(broken.line, 5);
    assert!(broken.message.contains("expected seq 5"), "{broken}");

    let mut l = lines(&text);
    l.swap(2, 3); // seq 3 and 4
    fs::write(&path, l.concat()).unwrap();
    let broken = first_break(dir.path());
    assert_eq!(broken.kind, BreakKind::OutOfSequence);
    assert_eq!(broken.seq, Some(4));
    assert_eq!(broken.line, 3);

    // An entry copied in from elsewhere (a valid entry of another log).
    let other = tempfile::tempdir().unwrap();
    plain_log(other.path(), 3);
    let foreign = lines(&fs::read_to_string(log_path(other.path())).unwrap())[2].clone();
    let mut l = lines(&text);
    l.insert(6, foreign);
    fs::write(&path, l.concat()).unwrap();
    let broken = first_break(dir.path());
    assert_eq!(broken.line, 7);
    assert_eq!(broken.seq, Some(3));
    assert_eq!(broken.kind, BreakKind::OutOfSequence);
}

#[test]
fn a_torn_last_line_is_reported_and_set_aside_by_repair_or_the_next_append() {
    for by_append in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        plain_log(dir.path(), 5);
        let path = log_path(dir.path());
        let text = fs::read_to_string(&path).unwrap();
        let cut = text.rfind("detail number 005").unwrap();
        let whole = text[..cut].rfind('\n').unwrap() + 1;
        fs::write(&path, &text[..cut]).unwrap();
        let log = AuditLog::open(dir.path()).unwrap();
        let report = log.verify().unwrap();
        let broken = report.first_break.unwrap();
        assert_eq!(broken.kind, BreakKind::Unparseable);
        assert_eq!(broken.line, 5);
        assert!(broken.message.contains("seq 5"), "{broken}");
        assert!(broken.message.contains("torn"), "{broken}");
        assert_eq!(report.entries, 4);

        let saved = if by_append {
            // A change after a crash: the torn bytes (never followed by a
            // record write) are set aside, logged, and the change goes on.
            let next = log
                .append(base(), "alice", None, "x", "after the crash")
                .unwrap();
            assert_eq!(next.seq, 6);
            let entries = log.entries().unwrap();
            assert_eq!(entries[4].action, "audit.repaired");
            assert_eq!(entries[5], next);
            fs::read_dir(dir.path().join("audit"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with("torn-")
                })
                .unwrap()
        } else {
            let repaired = log.repair(base(), "alice").unwrap();
            let entries = log.entries().unwrap();
            assert_eq!(entries.last().unwrap().action, "audit.repaired");
            assert_eq!(entries.last().unwrap().seq, 5);
            assert_eq!(log.repair(base(), "alice").unwrap().saved_to, None);
            repaired.saved_to.expect("torn bytes kept")
        };
        assert_eq!(
            fs::read(&saved).unwrap(),
            &text.as_bytes()[whole..cut],
            "exactly the torn bytes are set aside"
        );
        assert!(
            fs::read_to_string(&path)
                .unwrap()
                .starts_with(&text[..whole])
        );
        assert!(log.verify().unwrap().is_ok());
    }
}

#[test]
fn repair_keeps_a_complete_edited_entry_as_tamper_evidence() {
    // An edited entry in the middle, or as the last line: kept, reported.
    for seq in [3u64, 5] {
        let dir = tempfile::tempdir().unwrap();
        plain_log(dir.path(), 5);
        let path = log_path(dir.path());
        let text = fs::read_to_string(&path).unwrap();
        let edited = text.replace(
            &format!("detail number {seq:03} plain"),
            &format!("detail number {seq:03} EDITED"),
        );
        fs::write(&path, &edited).unwrap();
        let log = AuditLog::open(dir.path()).unwrap();
        let err = log.repair(base(), "tester").unwrap_err();
        assert!(err.to_string().contains("tamper"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), edited, "left as it is");
        assert!(fs::read_dir(dir.path().join("audit")).unwrap().all(|e| {
            !e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("torn-")
        }));
    }
}

#[test]
fn a_failed_append_leaves_the_log_byte_for_byte_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let log = plain_log(dir.path(), 3);
    let path = log_path(dir.path());
    let before = fs::read(&path).unwrap();
    for (kind, after_bytes) in [
        (std::io::ErrorKind::StorageFull, 40),
        (std::io::ErrorKind::PermissionDenied, 0),
        (std::io::ErrorKind::Other, 7),
    ] {
        let armed = fault::inject(
            dir.path(),
            Fault {
                op: Op::Append,
                kind,
                after_bytes,
            },
        );
        let err = log
            .append(base(), "alice", Some("INC-1"), "x", "never")
            .unwrap_err();
        drop(armed);
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert_eq!(fs::read(&path).unwrap(), before, "{kind:?}");
    }
    // And the next append continues the chain.
    let next = log.append(base(), "alice", None, "x", "after").unwrap();
    assert_eq!(next.seq, 4);
    assert!(log.verify().unwrap().is_ok());
}

#[test]
fn prune_keeps_six_months_checks_the_marker_and_carries_revisions_forward() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let now = base();
    // One entry every 20 days from 400 days ago to today; INC-OLD's only
    // revision entry is old, INC-NEW has a newer one.
    for (i, days_ago) in (0..=400).rev().step_by(20).enumerate() {
        let mut entry = breachdesk::audit::NewEntry::note(
            now - Duration::days(days_ago),
            "alice",
            None,
            "x",
            &format!("e{i} {}", AWKWARD[i % 8]),
        );
        if i == 1 {
            entry.incident = Some("INC-OLD".into());
            entry.revision = Some(4);
            entry.record_sha256 = Some("ab".repeat(32));
        }
        if i == 2 || i == 20 {
            entry.incident = Some("INC-NEW".into());
            entry.revision = Some(i as u64);
            entry.record_sha256 = Some("cd".repeat(32));
        }
        log.append_entries(&[entry]).unwrap();
    }
    let before = log.entries().unwrap();
    assert_eq!(before.len(), 21);

    for days in [100, 183] {
        let err = log.prune(now, days, "alice").unwrap_err();
        assert!(matches!(err, AuditError::RetentionTooShort { .. }), "{err}");
        assert!(err.to_string().contains("6 calendar months"), "{err}");
    }
    assert_eq!(log.entries().unwrap(), before);

    let report = log.prune(now, MIN_RETENTION_DAYS, "alice").unwrap();
    let cutoff = now - Duration::days(i64::from(MIN_RETENTION_DAYS));
    let old = before.iter().filter(|e| e.at < cutoff).count();
    assert_eq!(report.pruned, old as u64);
    assert_eq!(report.kept, (before.len() - old) as u64);
    assert_eq!(report.checkpoints, 1);
    let after = log.entries().unwrap();
    assert_eq!(&after[..before.len() - old], &before[old..]);
    let pruned = &after[before.len() - old];
    assert_eq!(pruned.action, "audit.pruned");
    let checkpoint = after.last().unwrap();
    assert_eq!(checkpoint.action, "record.checkpoint");
    assert_eq!(checkpoint.incident.as_deref(), Some("INC-OLD"));
    assert_eq!(checkpoint.revision, Some(4));
    assert_eq!(checkpoint.record_sha256, Some("ab".repeat(32)));
    assert_eq!(after[0].prev, before[old - 1].hash);
    let verified = log.verify().unwrap();
    assert!(verified.is_ok(), "{:?}", verified.first_break);
    assert_eq!(verified.pruned, old as u64);

    // Appends continue; a later prune counts cumulatively and still verifies.
    log.append(now + Duration::days(1), "bob", None, "x", "later")
        .unwrap();
    let again = log
        .prune(now + Duration::days(100), MIN_RETENTION_DAYS, "bob")
        .unwrap();
    assert!(again.pruned > 0);
    let verified = log.verify().unwrap();
    assert!(verified.is_ok(), "{:?}", verified.first_break);
    assert_eq!(verified.pruned, old as u64 + again.pruned);

    // Deleting the first kept entry after a prune is caught.
    let text = fs::read_to_string(log_path(dir.path())).unwrap();
    let mut l = lines(&text);
    l.remove(1);
    fs::write(log_path(dir.path()), l.concat()).unwrap();
    assert_eq!(
        first_break(dir.path()).kind,
        BreakKind::OutOfSequence,
        "deleted first kept entry"
    );
    // And a log that does not verify is not pruned.
    assert!(matches!(
        log.prune(now + Duration::days(900), MIN_RETENTION_DAYS, "x"),
        Err(AuditError::ChainBroken { .. })
    ));
}

#[test]
fn a_forged_prune_marker_is_a_failure() {
    // Someone deletes the first three entries and writes a marker that claims
    // they were pruned: no audit.pruned entry backs it.
    let dir = tempfile::tempdir().unwrap();
    let log = plain_log(dir.path(), 8);
    let entries = log.entries().unwrap();
    let path = log_path(dir.path());
    let text = fs::read_to_string(&path).unwrap();
    let marker = |until: &str| {
        format!(
            "{{\"chain\":{{\"anchor\":\"{}\",\"anchor_seq\":3,\"pruned\":3,\"pruned_until\":\"{until}\"}}}}\n",
            entries[2].hash
        )
    };
    let kept: String = lines(&text)[3..].concat();
    fs::write(&path, format!("{}{kept}", marker("2026-11-28T14:34:00Z"))).unwrap();
    let broken = first_break(dir.path());
    assert_eq!(broken.kind, BreakKind::ForgedPrune);
    assert!(broken.message.contains("not backed"), "{broken}");
}

#[test]
fn a_marker_inside_the_retention_period_is_a_failure() {
    // Build a genuine prune, then move its cutoff into the retention period
    // in both the marker and the entry (recomputing the chain, as a forger
    // with write access could): verify still refuses it.
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let now = base();
    for days_ago in [400, 300, 10] {
        log.append(now - Duration::days(days_ago), "a", None, "x", "e")
            .unwrap();
    }
    log.prune(now, MIN_RETENTION_DAYS, "a").unwrap();
    let path = log_path(dir.path());
    let text = fs::read_to_string(&path).unwrap();
    let old_until = (now - Duration::days(i64::from(MIN_RETENTION_DAYS)))
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let forged_until =
        (now - Duration::days(20)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let forged = rechain(&text.replace(&old_until, &forged_until));
    fs::write(&path, forged).unwrap();
    let broken = first_break(dir.path());
    assert_eq!(broken.kind, BreakKind::ForgedPrune, "{broken}");
    assert!(broken.message.contains("retention"), "{broken}");
}

/// Recomputes every hash and prev of a JSON Lines log, as a forger would.
fn rechain(text: &str) -> String {
    let mut out = String::new();
    let mut prev: Option<String> = None;
    for line in text.lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v.get("chain").is_some() {
            prev = Some(v["chain"]["anchor"].as_str().unwrap().to_string());
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if let Some(p) = &prev {
            v["prev"] = serde_json::Value::String(p.clone());
        }
        let hash = hash_of(&v);
        v["hash"] = serde_json::Value::String(hash.clone());
        prev = Some(hash);
        out.push_str(&serde_json::to_string(&v).unwrap());
        out.push('\n');
    }
    out
}

/// The documented hash: SHA-256 of the JSON of seq, at, actor, incident,
/// action, detail, [revision, record_sha256,] prev.
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

#[test]
fn the_documented_hash_is_the_hash() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let mut entry = breachdesk::audit::NewEntry::note(base(), "a", Some("INC-1"), "x", "d\n\"q\"");
    entry.revision = Some(3);
    entry.record_sha256 = Some("ef".repeat(32));
    log.append_entries(&[entry]).unwrap();
    log.append(base(), "b", None, "y", AWKWARD[5]).unwrap();
    let text = fs::read_to_string(log_path(dir.path())).unwrap();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["hash"].as_str().unwrap(), hash_of(&v), "{line}");
    }
}

#[test]
fn a_first_format_log_is_converted_with_its_hashes() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("audit")).unwrap();
    // Three entries as the first format wrote them ([[entry]] TOML blocks).
    let mut toml_text = String::new();
    let mut prev = ZERO_HASH.to_string();
    let mut hashes = Vec::new();
    for seq in 1..=3u64 {
        let detail = if seq == 2 { "two\nlines" } else { "plain" };
        let v = serde_json::json!({
            "seq": seq, "at": "2026-11-28T14:32:00Z", "actor": "alice",
            "incident": "INC-1", "action": "x", "detail": detail, "prev": prev,
        });
        let hash = hash_of(&v);
        toml_text.push_str(&format!(
            "[[entry]]\nseq = {seq}\nat = \"2026-11-28T14:32:00Z\"\nactor = \"alice\"\nincident = \"INC-1\"\naction = \"x\"\ndetail = {}\nprev = \"{prev}\"\nhash = \"{hash}\"\n\n",
            toml::Value::String(detail.into())
        ));
        prev = hash.clone();
        hashes.push(hash);
    }
    fs::write(dir.path().join("audit/audit-log.toml"), &toml_text).unwrap();

    // Read-only: converted in memory, nothing written (not even a machine id).
    let reader = AuditLog::open_read_only(dir.path());
    assert!(reader.verify().unwrap().is_ok());
    assert_eq!(reader.entries().unwrap().len(), 3);
    assert_eq!(reader.head().unwrap(), hashes[2]);
    assert!(!dir.path().join("audit/audit-log.jsonl").exists());
    assert!(!dir.path().join("machine-id").exists());
    assert!(!dir.path().join("audit/chains").exists());

    let log = AuditLog::open(dir.path()).unwrap();
    let entries = log.entries().unwrap();
    assert_eq!(
        entries
            .iter()
            .take(3)
            .map(|e| e.hash.clone())
            .collect::<Vec<_>>(),
        hashes
    );
    assert_eq!(entries[1].detail, "two\nlines");
    // Converted, then the converted log became this machine's chain.
    assert_eq!(entries[3].action, "audit.migrated");
    assert!(entries[3].detail.contains("to JSON Lines"), "{entries:?}");
    assert_eq!(entries[4].action, "audit.migrated");
    assert!(
        entries[4].detail.contains("became this machine's chain"),
        "{entries:?}"
    );
    // The first signed entry (the adoption's) endorses the unsigned history.
    assert!(entries[4].signed && !entries[3].signed);
    assert_eq!(entries.len(), 5);
    assert!(entries.iter().all(|e| e.chain == log.machine_id().unwrap()));
    assert!(log.verify().unwrap().is_ok());
    assert!(!dir.path().join("audit/audit-log.jsonl").exists());
    assert!(dir.path().join("audit/audit-log.toml.migrated").exists());
    assert!(!dir.path().join("audit/audit-log.toml").exists());
    // Opening again changes nothing.
    let text = fs::read_to_string(log_path(dir.path())).unwrap();
    AuditLog::open(dir.path()).unwrap();
    assert_eq!(fs::read_to_string(log_path(dir.path())).unwrap(), text);
}

#[test]
fn a_first_format_conversion_killed_before_its_last_rename_is_finished_once() {
    // What a conversion killed between writing audit-log.jsonl and renaming
    // audit-log.toml leaves: both. The next writable open finishes it and
    // adopts the converted log; the old file is not read as a second chain.
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("audit")).unwrap();
    let mut toml_text = String::new();
    let mut jsonl = String::new();
    let mut prev = ZERO_HASH.to_string();
    for seq in 1..=2u64 {
        let mut v = serde_json::json!({
            "seq": seq, "at": "2026-11-28T14:32:00Z", "actor": "alice",
            "incident": "INC-1", "action": "x", "detail": "plain", "prev": prev,
        });
        let hash = hash_of(&v);
        toml_text.push_str(&format!(
            "[[entry]]\nseq = {seq}\nat = \"2026-11-28T14:32:00Z\"\nactor = \"alice\"\nincident = \"INC-1\"\naction = \"x\"\ndetail = \"plain\"\nprev = \"{prev}\"\nhash = \"{hash}\"\n\n"
        ));
        v["hash"] = serde_json::Value::String(hash.clone());
        jsonl.push_str(&format!("{v}\n"));
        prev = hash;
    }
    fs::write(dir.path().join("audit/audit-log.toml"), &toml_text).unwrap();
    fs::write(dir.path().join("audit/audit-log.jsonl"), &jsonl).unwrap();

    let log = AuditLog::open(dir.path()).unwrap();
    assert!(!dir.path().join("audit/audit-log.toml").exists());
    assert!(dir.path().join("audit/audit-log.toml.migrated").exists());
    assert!(!dir.path().join("audit/audit-log.jsonl").exists());
    let report = log.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.first_break);
    assert_eq!(report.chains.len(), 1);
    let entries = log.entries().unwrap();
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries[1].hash, prev);
    assert_eq!(entries[2].action, "audit.migrated");
    assert!(
        entries[2].signed,
        "the adoption is signed: it endorses the history"
    );
    let chain = fs::read(log.path()).unwrap();
    AuditLog::open(dir.path()).unwrap();
    assert_eq!(fs::read(log.path()).unwrap(), chain);
}

const APPEND_ENV: &str = "BREACHDESK_AUDIT_DIR";
const APPEND_TAG: &str = "BREACHDESK_AUDIT_TAG";
const N_APPENDS: usize = 100;

#[test]
fn two_processes_appending_keep_one_chain() {
    if let Ok(dir) = std::env::var(APPEND_ENV) {
        let tag = std::env::var(APPEND_TAG).unwrap();
        let log = AuditLog::open(Path::new(&dir)).unwrap();
        for n in 0..N_APPENDS {
            let detail = if n % 3 == 0 {
                format!("{tag} {n}\n{{\"seq\":1}}")
            } else {
                format!("{tag} {n}")
            };
            log.append(base(), &tag, None, "x", &detail).unwrap();
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|tag| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "two_processes_appending_keep_one_chain",
                    "--nocapture",
                ])
                .env(APPEND_ENV, dir.path())
                .env(APPEND_TAG, tag)
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let report = log.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.first_break);
    let entries = log.entries().unwrap();
    // Each change of actor is a signed rename entry first.
    let renames = entries
        .iter()
        .filter(|e| e.action == "audit.signer-renamed")
        .count() as u64;
    assert_eq!(report.entries, 2 * N_APPENDS as u64 + renames);
    for tag in ["a", "b"] {
        let mine: Vec<String> = entries
            .iter()
            .filter(|e| e.actor == tag && e.action == "x")
            .map(|e| e.detail.lines().next().unwrap().to_string())
            .collect();
        let want: Vec<String> = (0..N_APPENDS).map(|n| format!("{tag} {n}")).collect();
        assert_eq!(mine, want);
    }
}

#[test]
fn a_fifo_or_link_in_place_of_the_log_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    plain_log(dir.path(), 2);
    let path = log_path(dir.path());
    fs::remove_file(&path).unwrap();
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let log = AuditLog::open_read_only(dir.path());
    let err = log.verify().unwrap_err().to_string();
    assert!(err.contains("FIFO"), "{err}");
    let err = AuditLog::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("FIFO"), "{err}");

    // A linked audit/ directory is refused.
    let other = tempfile::tempdir().unwrap();
    let data = other.path().join("data");
    fs::create_dir(&data).unwrap();
    std::os::unix::fs::symlink(dir.path().join("audit"), data.join("audit")).unwrap();
    let err = AuditLog::open(&data).unwrap_err().to_string();
    assert!(err.contains("symbolic link"), "{err}");
}
