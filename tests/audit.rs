#![allow(clippy::unwrap_used)]
//! The audit log against real files and real processes.

use breachdesk::audit::{AuditError, AuditLog, BreakKind, MIN_RETENTION_DAYS};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 14, 30, 0).unwrap()
}

const AWKWARD: [&str; 8] = [
    "plain",
    "quotes \" ' \"\"\" ''' \\ and a backslash at the end \\",
    "new\nlines\r\nand\ttabs",
    "looks like a header:\n[[entry]]\nseq = 1\nhash = \"00\"\n",
    "]] ]]] [[entry]] [chain] # comment",
    "unicode £ € Zoë 東京 🔥 \u{1b}[2J \u{7f} \u{202e}",
    "'''\n\"\"\"\n'''''",
    "",
];

fn log_path(dir: &Path) -> std::path::PathBuf {
    dir.join("audit/audit-log.toml")
}

/// Splits the file into `[[entry]]` blocks (only for logs with one-line text).
fn blocks(text: &str) -> Vec<String> {
    text.split("[[entry]]\n")
        .filter(|b| !b.is_empty())
        .map(|b| format!("[[entry]]\n{b}"))
        .collect()
}

fn header_line_of_seq(text: &str, seq: u64) -> usize {
    let needle = format!("[[entry]]\nseq = {seq}\n");
    let at = text.find(&needle).unwrap();
    text[..at].matches('\n').count() + 1
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

#[test]
fn awkward_text_round_trips_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    assert!(log.verify().unwrap().is_ok());
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
                text,
                incident.as_deref(),
                "note.added",
                text,
            )
            .unwrap();
        assert_eq!(entry.seq, i as u64 + 1);
        appended.push(entry);
    }
    assert_eq!(appended[0].prev, "0".repeat(64));
    assert_eq!(appended[1].prev, appended[0].hash);
    let entries = log.entries().unwrap();
    assert_eq!(entries, appended);
    let report = log.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.first_break);
    assert_eq!(report.entries, 40);
    assert_eq!(report.last_hash, appended[39].hash);
    let for_one = log.entries_for("INC-1").unwrap();
    assert!(!for_one.is_empty());
    assert!(
        for_one
            .iter()
            .all(|e| e.incident.as_deref() == Some("INC-1"))
    );

    // The whole file is TOML, for this parser and another one.
    let text = fs::read_to_string(log_path(dir.path())).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(v["entry"].as_array().unwrap().len(), 40);
    let v: serde_json::Value = basic_toml::from_str(&text).unwrap();
    assert_eq!(v["entry"].as_array().unwrap().len(), 40);
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
    let log = AuditLog::open(dir.path()).unwrap();
    let broken = log.verify().unwrap().first_break.unwrap();
    assert_eq!(broken.kind, BreakKind::HashMismatch);
    assert_eq!(broken.seq, Some(7));
    assert_eq!(broken.line, header_line_of_seq(&edited, 7));
    assert!(broken.to_string().contains("seq 7"), "{broken}");
    assert_eq!(log.verify().unwrap().entries, 6);
}

#[test]
fn deleted_entry_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    plain_log(dir.path(), 10);
    let path = log_path(dir.path());
    let text = fs::read_to_string(&path).unwrap();
    let mut b = blocks(&text);
    b.remove(4); // seq 5
    let edited = b.concat();
    fs::write(&path, &edited).unwrap();
    let broken = AuditLog::open(dir.path())
        .unwrap()
        .verify()
        .unwrap()
        .first_break
        .unwrap();
    assert_eq!(broken.kind, BreakKind::OutOfSequence);
    assert_eq!(broken.seq, Some(6));
    assert_eq!(broken.line, header_line_of_seq(&edited, 6));
    assert!(broken.message.contains("expected seq 5"), "{broken}");
}

#[test]
fn deleted_and_renumbered_entry_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    plain_log(dir.path(), 6);
    let path = log_path(dir.path());
    let text = fs::read_to_string(&path).unwrap();
    let mut b = blocks(&text);
    b.remove(2); // seq 3; renumbering the rest breaks their hashes, and prev still dangles
    let edited = b.concat().replace("seq = 4\n", "seq = 3\n");
    fs::write(&path, &edited).unwrap();
    let broken = AuditLog::open(dir.path())
        .unwrap()
        .verify()
        .unwrap()
        .first_break
        .unwrap();
    assert_eq!(broken.seq, Some(3));
    assert_eq!(broken.kind, BreakKind::HashMismatch);
}

#[test]
fn swapped_entries_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    plain_log(dir.path(), 10);
    let path = log_path(dir.path());
    let text = fs::read_to_string(&path).unwrap();
    let mut b = blocks(&text);
    b.swap(2, 3); // seq 3 and 4
    let edited = b.concat();
    fs::write(&path, &edited).unwrap();
    let broken = AuditLog::open(dir.path())
        .unwrap()
        .verify()
        .unwrap()
        .first_break
        .unwrap();
    assert_eq!(broken.kind, BreakKind::OutOfSequence);
    assert_eq!(broken.seq, Some(4));
    assert_eq!(broken.line, header_line_of_seq(&edited, 4));
}

#[test]
fn torn_last_block_is_reported_and_blocks_appends() {
    let dir = tempfile::tempdir().unwrap();
    plain_log(dir.path(), 5);
    let path = log_path(dir.path());
    let text = fs::read_to_string(&path).unwrap();
    let cut = text.rfind("detail = ").unwrap() + 15; // mid-string
    fs::write(&path, &text[..cut]).unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let report = log.verify().unwrap();
    let broken = report.first_break.unwrap();
    assert_eq!(broken.kind, BreakKind::Unparseable);
    assert_eq!(broken.line, header_line_of_seq(&text, 5));
    assert!(broken.message.contains("seq 5"), "{broken}");
    assert_eq!(report.entries, 4);
    let err = log.append(base(), "a", None, "x", "y").unwrap_err();
    assert!(matches!(err, AuditError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("torn"), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), text[..cut]);
    assert!(log.entries().is_err());
}

#[test]
fn appending_after_a_tricky_last_entry_keeps_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    for text in AWKWARD {
        log.append(base(), "a", None, "x", text).unwrap();
        // The last entry now holds a fake header: the next append must not be fooled.
        let next = log.append(base(), "a", None, "x", "after").unwrap();
        let all = log.entries().unwrap();
        assert_eq!(next.seq, all.len() as u64);
        assert_eq!(next.prev, all[all.len() - 2].hash);
    }
    assert!(log.verify().unwrap().is_ok());
}

#[test]
fn prune_refuses_short_retention_and_keeps_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let now = base();
    // One entry every 20 days from 400 days ago to today.
    for (i, days_ago) in (0..=400).rev().step_by(20).enumerate() {
        log.append(
            now - Duration::days(days_ago),
            "alice",
            None,
            "x",
            &format!("e{i} {}", AWKWARD[i % 8]),
        )
        .unwrap();
    }
    let before = log.entries().unwrap();
    assert_eq!(before.len(), 21);

    let err = log.prune(now, 100, "alice").unwrap_err();
    assert!(
        matches!(err, AuditError::RetentionTooShort { days: 100, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("6 months"), "{err}");
    assert_eq!(log.entries().unwrap(), before);

    let report = log.prune(now, MIN_RETENTION_DAYS, "alice").unwrap();
    let cutoff = now - Duration::days(183);
    let old = before.iter().filter(|e| e.at < cutoff).count();
    assert_eq!(report.pruned, old as u64);
    assert_eq!(report.kept, (before.len() - old) as u64);
    let after = log.entries().unwrap();
    assert_eq!(&after[..after.len() - 1], &before[old..]);
    let last = after.last().unwrap();
    assert_eq!(last.action, "audit.pruned");
    assert_eq!(last.seq, before.last().unwrap().seq + 1);
    assert_eq!(
        report.anchor.as_deref(),
        Some(before[old - 1].hash.as_str())
    );
    assert_eq!(after[0].prev, before[old - 1].hash);

    let verified = log.verify().unwrap();
    assert!(verified.is_ok(), "{:?}", verified.first_break);
    assert_eq!(verified.pruned, old as u64);
    assert_eq!(verified.entries, after.len() as u64);
    assert_eq!(
        fs::metadata(log_path(dir.path()))
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
            .unwrap(),
        0o600
    );
    let text = fs::read_to_string(log_path(dir.path())).unwrap();
    assert!(text.starts_with("[chain]\n"), "{text}");
    let _: serde_json::Value = basic_toml::from_str(&text).unwrap();

    // Appends continue the chain; pruning again later counts cumulatively.
    log.append(now + Duration::days(1), "bob", None, "x", "later")
        .unwrap();
    let again = log
        .prune(now + Duration::days(100), MIN_RETENTION_DAYS, "bob")
        .unwrap();
    assert!(again.pruned > 0);
    let verified = log.verify().unwrap();
    assert!(verified.is_ok(), "{:?}", verified.first_break);
    assert_eq!(verified.pruned, old as u64 + again.pruned);

    // Nothing old enough: nothing changes.
    let text = fs::read_to_string(log_path(dir.path())).unwrap();
    let none = log.prune(now + Duration::days(100), 3650, "bob").unwrap();
    assert_eq!(none.pruned, 0);
    assert_eq!(fs::read_to_string(log_path(dir.path())).unwrap(), text);

    // Deleting the first kept entry after a prune is still caught.
    let mut b: Vec<String> = text.split("[[entry]]\n").map(str::to_string).collect();
    b.remove(1);
    let edited = b.join("[[entry]]\n");
    fs::write(log_path(dir.path()), edited).unwrap();
    let broken = log.verify().unwrap().first_break.unwrap();
    assert_eq!(broken.kind, BreakKind::OutOfSequence);
    // And a log that does not verify is not pruned.
    assert!(matches!(
        log.prune(now + Duration::days(900), 183, "x"),
        Err(AuditError::ChainBroken { .. })
    ));
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
            // Every third entry is multi-line, forcing the full-read path too.
            let detail = if n % 3 == 0 {
                format!("{tag} {n}\n[[entry]]")
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
    assert_eq!(report.entries, 2 * N_APPENDS as u64);
    let entries = log.entries().unwrap();
    for tag in ["a", "b"] {
        let mine: Vec<String> = entries
            .iter()
            .filter(|e| e.actor == tag)
            .map(|e| e.detail.lines().next().unwrap().to_string())
            .collect();
        let want: Vec<String> = (0..N_APPENDS).map(|n| format!("{tag} {n}")).collect();
        assert_eq!(mine, want);
    }
}

#[test]
fn repair_sets_aside_a_torn_tail_and_the_chain_goes_on() {
    for torn_at in ["detail = ", "[[entry]]\n", "[[en"] {
        let dir = tempfile::tempdir().unwrap();
        plain_log(dir.path(), 5);
        let path = log_path(dir.path());
        let text = fs::read_to_string(&path).unwrap();
        // Cut the last entry short, or leave a partial header after a whole log.
        let torn_text = match torn_at {
            "[[en" => format!("{text}[[en"),
            needle => {
                let cut = text.rfind(needle).unwrap() + needle.len() + 3;
                text[..cut.min(text.len() - 1)].to_string()
            }
        };
        fs::write(&path, &torn_text).unwrap();
        let log = AuditLog::open(dir.path()).unwrap();
        assert!(!log.verify().unwrap().is_ok());

        let report = log.repair(base(), "tester").unwrap();
        let saved = report.saved_to.expect("torn bytes kept");
        let kept = fs::read_to_string(&path).unwrap();
        let removed = fs::read(&saved).unwrap();
        assert_eq!(
            format!(
                "{}{}",
                &torn_text[..torn_text.len() - removed.len()],
                String::from_utf8_lossy(&removed)
            ),
            torn_text,
            "{torn_at}: nothing lost: the removed bytes are kept"
        );
        assert!(kept.starts_with(&torn_text[..torn_text.len() - removed.len()]));
        let verified = log.verify().unwrap();
        assert!(verified.is_ok(), "{torn_at}: {:?}", verified.first_break);
        let entries = log.entries().unwrap();
        let last = entries.last().unwrap();
        assert_eq!(last.action, "audit.repaired");
        assert!(last.detail.contains(&removed.len().to_string()));
        // Appends work again.
        log.append(base(), "a", None, "x", "after the repair")
            .unwrap();
        assert!(log.verify().unwrap().is_ok());
        // Nothing more to repair.
        assert_eq!(log.repair(base(), "tester").unwrap().saved_to, None);
    }
}

#[test]
fn repair_refuses_damage_before_the_last_entry() {
    let dir = tempfile::tempdir().unwrap();
    plain_log(dir.path(), 5);
    let path = log_path(dir.path());
    let text = fs::read_to_string(&path).unwrap();
    let edited = text.replacen("detail = \"", "detail = \"EDITED ", 1);
    fs::write(&path, &edited).unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let err = log.repair(base(), "tester").unwrap_err();
    assert!(err.to_string().contains("not a torn write"), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), edited, "left as it is");
}
