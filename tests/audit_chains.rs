#![allow(clippy::unwrap_used)]
//! One audit chain per machine (issue 15): the machine id, chains from two
//! machines combined in one data directory as git combines them, accounting
//! across chains, a tampered chain named, the old single log adopted once,
//! and prune/repair touching only this machine's chain. Real files, the real
//! binary where a responder would use it.

mod support;

use breachdesk::audit::{AuditLog, BreakKind, LEGACY_CHAIN, ZERO_HASH};
use breachdesk::config::Config;
use breachdesk::domain::incident::{BreachKind, NewIncident, Severity};
use breachdesk::paths;
use breachdesk::setup::Setup;
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use support::Bin;

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 14, 30, 0).unwrap()
}

/// What git carries from one machine's data directory to another's: the
/// records and every chain; never `machine-id`, the index, locks or the
/// audit lock. Each chain is written by one machine only, so copying it is
/// what a merge of it gives.
fn share(from: &Path, to: &Path) {
    for sub in ["incidents", "audit/chains", "audit/signers"] {
        let dst = to.join(sub);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dst)
            .unwrap();
        let Ok(listing) = fs::read_dir(from.join(sub)) else {
            continue;
        };
        for entry in listing {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if !name.to_string_lossy().starts_with('.') {
                fs::copy(entry.path(), dst.join(&name)).unwrap();
            }
        }
    }
}

fn machine_id(data: &Path) -> String {
    paths::read_machine_id(data).unwrap().expect("a machine id")
}

fn own_chain(data: &Path) -> PathBuf {
    breachdesk::audit::own_chain_file(data).unwrap().unwrap()
}

/// Two responders' machines: A opens an incident and logs to it, B (a clone)
/// logs to it too, and A receives B's change. Returns (A, B, incident id).
fn two_machines() -> (Bin, Bin, String) {
    let a = Bin::new();
    let b = Bin::new();
    let id = a.new_incident("Admin portal login", "-10m");
    a.ok(&["log", &id, "seen on machine A"]);
    share(&a.data, &b.data);
    b.ok(&["log", &id, "seen on machine B"]);
    share(&b.data, &a.data);
    (a, b, id)
}

#[test]
fn a_revision_saved_on_another_machine_is_accounted_for_by_that_machines_chain() {
    let (a, b, id) = two_machines();
    let (ida, idb) = (machine_id(&a.data), machine_id(&b.data));
    assert_ne!(ida, idb, "a clone makes its own machine id");
    assert!(own_chain(&a.data).ends_with(format!("audit/chains/{ida}.jsonl")));

    // Revision 3 (B's log entry) is logged only in B's chain.
    let a_chain = fs::read_to_string(own_chain(&a.data)).unwrap();
    assert!(!a_chain.contains("\"revision\":3"), "{a_chain}");
    let b_chain_in_a = a.data.join(format!("audit/chains/{idb}.jsonl"));
    assert!(
        fs::read_to_string(&b_chain_in_a)
            .unwrap()
            .contains("\"revision\":3")
    );

    for (machine, bin) in [("A", &a), ("B", &b)] {
        let out = bin.ok(&["audit", "verify"]);
        assert!(out.contains("in 2 chains"), "{machine}: {out}");
        assert!(out.contains("every hash chain intact"), "{machine}: {out}");
        assert!(
            out.contains("every saved record revision has its entry"),
            "{machine}: {out}"
        );
        let own = machine_id(&bin.data);
        assert!(
            out.contains(&format!("{own}.jsonl, head ")),
            "{machine}: {out}"
        );
    }

    // `audit list` shows both chains' entries, merged by time (the binary's
    // clock: ties go in chain order), each marked with its chain.
    let listed = a.ok(&["audit", "list", &id]);
    let times: Vec<&str> = listed
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    assert!(times.is_sorted(), "{listed}");
    let b_line = listed.lines().find(|l| l.contains("machine B")).unwrap();
    assert!(b_line.starts_with(&idb[..8]), "{b_line}");
    let a_line = listed.lines().find(|l| l.contains("machine A")).unwrap();
    assert!(a_line.starts_with(&ida[..8]), "{a_line}");

    // Without B's chain, A cannot account for revision 3: B's chain is what
    // accounts for it.
    let b_chain = fs::read(&b_chain_in_a).unwrap();
    fs::remove_file(&b_chain_in_a).unwrap();
    let ran = a.run(&["audit", "verify"]);
    assert!(!ran.ok);
    assert!(
        ran.out().contains(&format!(
            "FAIL  {id} revision 3: saved, but has no audit entry"
        )),
        "{}",
        ran.out()
    );
    fs::write(&b_chain_in_a, &b_chain).unwrap();
    a.ok(&["audit", "verify"]);

    // A record that differs from every chain's entry names the chain of the
    // entry it was checked against.
    let record = a.data.join(format!("incidents/{id}.toml"));
    let text = fs::read_to_string(&record).unwrap();
    fs::write(
        &record,
        text.replace("seen on machine B", "seen on machine C"),
    )
    .unwrap();
    let ran = a.run(&["audit", "verify"]);
    assert!(!ran.ok);
    assert!(
        ran.out().contains(&format!(
            "FAIL  {id} revision 3: the record on disk differs from what the audit log says was saved (seq "
        )) && ran.out().contains(&format!("of chain {idb})")),
        "{}",
        ran.out()
    );
}

#[test]
fn a_tampered_entry_in_another_machines_chain_is_caught_and_named() {
    let (a, _b, id) = two_machines();
    let idb = {
        let own = machine_id(&a.data);
        fs::read_dir(a.data.join("audit/chains"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .find(|n| !n.starts_with(&own))
            .unwrap()
    };
    let b_chain = a.data.join("audit/chains").join(&idb);
    let text = fs::read_to_string(&b_chain).unwrap();
    let edited = text.replace("seen on machine B", "seen on machine b");
    assert_ne!(edited, text);
    fs::write(&b_chain, &edited).unwrap();
    let line = edited
        .lines()
        .position(|l| l.contains("machine b"))
        .unwrap()
        + 1;

    let err = a.fails(&["audit", "verify"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&b_chain.display().to_string()), "{err}");
    assert!(err.contains(&format!("line {line} (seq ")), "{err}");
    assert!(err.contains("edited"), "{err}");
    let report = AuditLog::open_read_only(&a.data).verify().unwrap();
    let broken = report.first_break.unwrap();
    assert_eq!(broken.kind, BreakKind::HashMismatch);
    assert_eq!(broken.file, b_chain);
    let chain = report.chains.iter().find(|c| c.file == b_chain).unwrap();
    assert!(!chain.own);
    assert!(chain.first_break.is_some());
    assert!(
        report
            .chains
            .iter()
            .any(|c| c.own && c.first_break.is_none())
    );

    // A's own chain is intact, so A keeps working, and neither repair nor
    // a change on A touches B's chain: it is B's evidence, left as it is.
    a.ok(&["log", &id, "more on machine A"]);
    let repaired = a.ok(&["audit", "repair"]);
    assert!(repaired.contains("nothing to repair"), "{repaired}");
    assert_eq!(fs::read_to_string(&b_chain).unwrap(), edited);
}

#[test]
fn the_old_single_log_becomes_this_machines_chain_once_and_only_on_a_writable_open() {
    let bin = Bin::new();
    let id = bin.new_incident("Admin portal login", "-10m");
    bin.ok(&["log", &id, "first"]);
    bin.ok(&["log", &id, "second"]);
    // Make it a data directory from before chains: one audit/audit-log.jsonl
    // (the same format, so the same bytes) and no machine id.
    let legacy = bin.data.join("audit/audit-log.jsonl");
    fs::rename(own_chain(&bin.data), &legacy).unwrap();
    fs::remove_dir(bin.data.join("audit/chains")).unwrap();
    fs::remove_file(paths::machine_id_file(&bin.data)).unwrap();
    let old = fs::read(&legacy).unwrap();

    // Read-only commands read it where it is and move nothing.
    let out = bin.ok(&["audit", "verify"]);
    assert!(out.contains("in 1 chain,"), "{out}");
    assert!(
        out.contains("every saved record revision has its entry"),
        "{out}"
    );
    assert!(bin.ok(&["audit", "list", &id]).contains("second"));
    bin.ok(&["list"]);
    assert_eq!(fs::read(&legacy).unwrap(), old);
    assert!(!paths::machine_id_file(&bin.data).exists());
    assert!(!bin.data.join("audit/chains").exists());
    let reader = AuditLog::open_read_only(&bin.data);
    assert_eq!(reader.machine_id(), None);
    assert_eq!(reader.verify().unwrap().chains[0].chain, LEGACY_CHAIN);
    assert!(reader.verify().unwrap().chains[0].own);

    // The first writable command adopts it: a rename (every byte, so every
    // hash, kept) and an `audit.migrated` entry after it.
    bin.ok(&["log", &id, "third"]);
    assert!(!legacy.exists());
    let chain = own_chain(&bin.data);
    let adopted = fs::read(&chain).unwrap();
    assert!(adopted.starts_with(&old));
    let added = String::from_utf8_lossy(&adopted[old.len()..]).into_owned();
    let first_added: serde_json::Value =
        serde_json::from_str(added.lines().next().unwrap()).unwrap();
    assert_eq!(first_added["action"], "audit.migrated");
    assert!(
        first_added["detail"]
            .as_str()
            .unwrap()
            .contains("became this machine's chain"),
        "{first_added}"
    );
    assert!(added.contains("third"));
    let out = bin.ok(&["audit", "verify"]);
    assert!(out.contains("in 1 chain,"), "{out}");
    assert!(
        out.contains("every saved record revision has its entry"),
        "{out}"
    );

    // Idempotent: opening again (twice) changes nothing.
    let before = fs::read(&chain).unwrap();
    AuditLog::open(&bin.data).unwrap();
    bin.ok(&["audit", "repair"]);
    assert_eq!(fs::read(&chain).unwrap(), before);
    assert!(!legacy.exists());
}

#[test]
fn an_old_log_beside_this_machines_chain_is_kept_and_read_as_a_legacy_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    log.append(base(), "alice", Some("INC-1"), "x", "mine")
        .unwrap();
    // An old single log from elsewhere, copied in by hand.
    let elsewhere = tempfile::tempdir().unwrap();
    let other = AuditLog::open(elsewhere.path()).unwrap();
    other
        .append(
            base() - Duration::minutes(5),
            "bob",
            Some("INC-1"),
            "x",
            "old",
        )
        .unwrap();
    let legacy = dir.path().join("audit/audit-log.jsonl");
    fs::copy(other.path(), &legacy).unwrap();
    let legacy_bytes = fs::read(&legacy).unwrap();
    let mine = fs::read(log.path()).unwrap();

    let log = AuditLog::open(dir.path()).unwrap();
    assert_eq!(fs::read(&legacy).unwrap(), legacy_bytes, "left as it is");
    assert_eq!(fs::read(log.path()).unwrap(), mine);
    let report = log.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.first_break);
    assert_eq!(report.entries, 2);
    let names: Vec<&str> = report.chains.iter().map(|c| c.chain.as_str()).collect();
    assert_eq!(names, [log.machine_id().unwrap(), LEGACY_CHAIN]);
    let entries = log.entries_for("INC-1").unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (entries[0].chain.as_str(), entries[0].detail.as_str()),
        (LEGACY_CHAIN, "old")
    );
    // Appends go to this machine's chain, never the old log.
    log.append(base(), "alice", None, "x", "more").unwrap();
    assert_eq!(fs::read(&legacy).unwrap(), legacy_bytes);

    fs::write(
        &legacy,
        String::from_utf8(legacy_bytes)
            .unwrap()
            .replace("old", "OLD"),
    )
    .unwrap();
    let broken = log.verify().unwrap().first_break.unwrap();
    assert_eq!(broken.file, legacy);
    assert_eq!(broken.kind, BreakKind::HashMismatch);
}

#[test]
fn the_machine_id_is_made_once_private_and_anew_on_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::DirBuilder::new().mode(0o700).create(&data).unwrap();
    // Eight openers at once on a new data directory agree on one id.
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| paths::ensure_machine_id(&data).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
    let id = &ids[0];
    assert!(paths::is_machine_id(id), "{id}");
    let file = paths::machine_id_file(&data);
    assert_eq!(fs::read_to_string(&file).unwrap(), format!("{id}\n"));
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // No temp file is left behind.
    assert_eq!(fs::read_dir(&data).unwrap().count(), 1);

    let log = AuditLog::open(&data).unwrap();
    assert_eq!(log.machine_id(), Some(id.as_str()));
    assert_eq!(log.path(), breachdesk::audit::chain_file(&data, id));
    let chains = data.join("audit/chains");
    assert_eq!(
        fs::metadata(&chains).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        fs::metadata(log.path()).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        AuditLog::open(&data).unwrap().machine_id(),
        Some(id.as_str())
    );

    // A copy of the data directory without the machine-local file (what a
    // git clone gives) is another machine.
    let copy = dir.path().join("copy");
    fs::DirBuilder::new().mode(0o700).create(&copy).unwrap();
    share(&data, &copy);
    let copied = AuditLog::open(&copy).unwrap();
    assert_ne!(copied.machine_id(), Some(id.as_str()));

    // A machine-id that is not one is refused by name; a reader says so and
    // still reads every chain.
    fs::write(&file, "../../etc/passwd\n").unwrap();
    let err = AuditLog::open(&data).unwrap_err().to_string();
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("does not hold a machine id"), "{err}");
    let reader = AuditLog::open_read_only(&data);
    assert_eq!(reader.machine_id(), None);
    assert!(
        reader.warnings()[0].contains("machine-id"),
        "{:?}",
        reader.warnings()
    );
    assert!(reader.verify().unwrap().is_ok());
}

#[test]
fn the_head_is_this_machines_chain_head() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let log_a = AuditLog::open(a.path()).unwrap();
    let log_b = AuditLog::open(b.path()).unwrap();
    assert_eq!(log_a.head().unwrap(), ZERO_HASH);
    let mine = log_a.append(base(), "alice", None, "x", "a1").unwrap();
    share(b.path(), a.path());
    log_b
        .append(base() + Duration::hours(1), "bob", None, "x", "b1")
        .unwrap();
    share(b.path(), a.path());
    // B's entry is later, but the head a notice from A carries is A's.
    assert_eq!(log_a.head().unwrap(), mine.hash);
    let report = log_a.verify().unwrap();
    assert_eq!(report.last_hash, mine.hash);
    assert_eq!(report.entries, 2);
    let entries = log_a.entries().unwrap();
    assert_eq!(entries.last().unwrap().detail, "b1");
    // Each chain counts its own seq from 1.
    assert!(entries.iter().all(|e| e.seq == 1));
}

fn setup(data: &Path) -> Setup {
    let mut config = Config::default();
    config.responder.name = Some("chain test".into());
    Setup {
        data_dir: data.to_path_buf(),
        config_path: data.join("no-config.toml"),
        config,
        extra_playbooks: Vec::new(),
    }
}

#[test]
fn prune_rewrites_only_this_machines_chain_and_accounting_holds_across_pruned_chains() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let now = base();
    let long_ago = now - Duration::days(400);
    let desk_a = setup(&a).desk().unwrap();
    let incident = desk_a
        .open_incident(
            NewIncident {
                title: "Old incident".into(),
                summary: String::new(),
                kind: BreachKind::Breach,
                severity: Severity::High,
                personal_data: false,
                government_data: false,
                affected_assets: Vec::new(),
                identified_at: long_ago - Duration::minutes(10),
            },
            long_ago,
        )
        .unwrap();
    let id = incident.id;
    desk_a.log(&id, "revision 2 on A", long_ago).unwrap();
    share(&a, &b);
    let desk_b = setup(&b).desk().unwrap();
    desk_b
        .log(&id, "revision 3 on B", long_ago + Duration::days(1))
        .unwrap();
    desk_b
        .log(&id, "revision 4 on B", long_ago + Duration::days(2))
        .unwrap();
    share(&b, &a);
    desk_a.log(&id, "revision 5 on A", now).unwrap();
    share(&a, &b);
    let a_chain_in_b = b.join(format!("audit/chains/{}.jsonl", machine_id(&a)));
    let a_chain_before = fs::read(&a_chain_in_b).unwrap();

    // B prunes: only B's chain is rewritten, revisions 3 and 4 carried
    // forward as a checkpoint of revision 4; A's chain (revisions 1, 2, 5)
    // is untouched.
    let pruned = desk_b.prune_audit(now, Some(184)).unwrap();
    assert!(pruned.pruned >= 2, "{pruned:?}");
    assert_eq!(pruned.checkpoints, 1);
    assert_eq!(fs::read(&a_chain_in_b).unwrap(), a_chain_before);
    share(&b, &a);

    // Revision 3 is now in no chain, but a checkpoint says it was pruned:
    // accounting holds on both machines.
    for (machine, desk) in [("A", &desk_a), ("B", &desk_b)] {
        let check = desk.verify_audit(now).unwrap();
        assert!(
            check.chain.is_ok(),
            "{machine}: {:?}",
            check.chain.first_break
        );
        assert_eq!(check.chain.chains.len(), 2);
        let failures: Vec<String> = check
            .accounting
            .iter()
            .filter(|p| p.failure)
            .map(ToString::to_string)
            .collect();
        assert!(failures.is_empty(), "{machine}: {failures:?}");
    }
    let entries = AuditLog::open_read_only(&a).entries_for(&id).unwrap();
    assert!(!entries.iter().any(|e| e.revision == Some(3)));
    assert!(
        entries
            .iter()
            .any(|e| e.action == "record.checkpoint" && e.revision == Some(4))
    );
}

#[test]
fn a_record_a_merge_rewrote_is_accounted_for_by_its_sync_merged_entry() {
    let (a, _b, id) = two_machines();
    // What a merge leaves: the record at a revision above both sides',
    // written by git and the merge driver, not by a breachdesk change.
    let record = a.data.join(format!("incidents/{id}.toml"));
    let text = fs::read_to_string(&record).unwrap();
    assert!(text.contains("\nrevision = 3\n"), "{text}");
    let merged = text
        .replace("\nrevision = 3\n", "\nrevision = 4\n")
        .replace("\"revision\":3", "\"revision\":4");
    fs::write(&record, &merged).unwrap();
    let ran = a.run(&["audit", "verify"]);
    assert!(!ran.ok);
    assert!(
        ran.out().contains(&format!(
            "FAIL  {id} revision 4: saved, but has no audit entry"
        )),
        "{}",
        ran.out()
    );

    // The sync's entry, with the new revision and the bytes' SHA-256.
    let log = AuditLog::open(&a.data).unwrap();
    let sha = breachdesk::store::record_sha256(merged.as_bytes());
    let entry = breachdesk::audit::NewEntry::record_merged(
        base(),
        "alice",
        &id,
        "0123abcd",
        4,
        &sha,
        "both sides logged to the timeline",
    );
    assert_eq!(entry.action, breachdesk::audit::RECORD_MERGED);
    assert_eq!(entry.action, "record.merged");
    let whole = breachdesk::audit::NewEntry::sync_merged(base(), "alice", "0123abcd", "1 record");
    let logged = log.append_entries(&[entry, whole]).unwrap();
    assert_eq!(logged[0].revision, Some(4));
    assert_eq!(logged[0].record_sha256.as_deref(), Some(sha.as_str()));
    assert!(logged[0].detail.contains("0123abcd"), "{:?}", logged[0]);
    assert!(logged[1].detail.contains("merged commit 0123abcd"));
    let out = a.ok(&["audit", "verify"]);
    assert!(
        out.contains("every saved record revision has its entry"),
        "{out}"
    );
}

#[test]
fn a_linked_chains_directory_is_refused_and_odd_names_are_not_chains() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = AuditLog::open(&data).unwrap();
    log.append(base(), "alice", None, "x", "mine").unwrap();
    // Not chains: temp files of a prune, other extensions.
    let chains = data.join("audit/chains");
    fs::write(chains.join(".0123456789abcdef.jsonl.tmp-1-ff"), "junk\n").unwrap();
    fs::write(chains.join("notes.txt"), "junk\n").unwrap();
    let report = log.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.first_break);
    assert_eq!(report.chains.len(), 1);

    // audit/chains as a link elsewhere: refused by writers and readers.
    let elsewhere = dir.path().join("elsewhere");
    fs::rename(&chains, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &chains).unwrap();
    let err = AuditLog::open(&data).unwrap_err().to_string();
    assert!(err.contains("symbolic link"), "{err}");
    let err = AuditLog::open_read_only(&data)
        .verify()
        .unwrap_err()
        .to_string();
    assert!(err.contains("symbolic link"), "{err}");
}
