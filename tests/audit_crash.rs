#![allow(clippy::unwrap_used)]
//! `kill -9` real processes while they change incidents, many times, and
//! check after every kill that every saved change is accounted for in the
//! audit log: the record on disk is the source of what was saved, the log
//! must hold an entry for every saved revision whose SHA-256 matches, and
//! every timeline text must appear in an entry.

use breachdesk::audit::AuditLog;
use breachdesk::config::Config;
use breachdesk::domain::incident::{BreachKind, NewIncident, Severity};
use breachdesk::setup::Setup;
use breachdesk::store::Store;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const CHILD_ENV: &str = "BREACHDESK_CRASH_DIR";

fn base() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T13:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn setup(data: &Path) -> Setup {
    let mut config = Config::default();
    config.responder.name = Some("crash test".into());
    Setup {
        data_dir: data.to_path_buf(),
        config_path: data.join("no-config.toml"),
        config,
        extra_playbooks: Vec::new(),
    }
}

fn new_fields(n: u64) -> NewIncident {
    NewIncident {
        title: format!("crash incident {n}"),
        summary: String::new(),
        kind: BreachKind::Breach,
        severity: Severity::High,
        personal_data: n.is_multiple_of(2),
        government_data: false,
        affected_assets: vec![format!("host-{n}")],
        identified_at: base() - Duration::minutes(10),
    }
}

/// The child: opens incidents and logs to them, forever.
fn churn(data: &Path) -> ! {
    let desk = setup(data).desk().unwrap();
    let store = breachdesk::store::Store::open(data).unwrap();
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).unwrap();
    let mut n = u64::from_le_bytes(random) % 1_000_000;
    loop {
        n += 1;
        let now = base() + Duration::seconds((n % 3000) as i64);
        let ids = store.ids().unwrap();
        if ids.len() < 3 || n % 9 == 0 {
            desk.open_incident(new_fields(n), now).unwrap();
            continue;
        }
        let id = &ids[(n as usize) % ids.len()];
        // Long text makes the record write a real share of each change.
        let text = format!("round {n}: {}", "x".repeat((n % 5) as usize * 4000));
        desk.log(id, &text, now).unwrap();
    }
}

fn temp_files(data: &Path) -> usize {
    fs::read_dir(data.join("incidents"))
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().starts_with('.'))
            })
            .count()
        })
        .unwrap_or(0)
}

fn log_len(data: &Path) -> u64 {
    breachdesk::audit::own_chain_file(data)
        .ok()
        .flatten()
        .and_then(|chain| fs::metadata(chain).ok())
        .map_or(0, |m| m.len())
}

#[derive(Default)]
struct Tally {
    /// (incident, revision) logged but not on disk, already counted.
    orphans: std::collections::BTreeSet<(String, u64)>,
    kills: u64,
    landed_between_log_and_record: u64,
    landed_in_record_write: u64,
    landed_in_append: u64,
}

#[test]
fn kill_nine_mid_write_never_leaves_a_saved_change_unaccounted_for() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        churn(&PathBuf::from(dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Opens the store and the log, so the children race only each other.
    setup(&data).desk().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut tally = Tally::default();
    let mut rounds = 0;
    while rounds < 300 && (rounds < 40 || tally.landed_between_log_and_record < 5) {
        rounds += 1;
        let start_len = log_len(&data);
        let mut r = [0u8; 4];
        getrandom::fill(&mut r).unwrap();
        let grow_by = 1 + u64::from(u16::from_le_bytes([r[0], r[1]])) % 60_000;
        // Then a random jitter of up to ~4 ms, so kills spread over the whole
        // change (serialise, log, write record, rename), not only its start.
        let jitter =
            std::time::Duration::from_micros(u64::from(u16::from_le_bytes([r[2], r[3]])) % 4000);
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "kill_nine_mid_write_never_leaves_a_saved_change_unaccounted_for",
                "--nocapture",
            ])
            .env(CHILD_ENV, &data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill once the child has written a random amount to the log (so it
        // is in the thick of its changes), or after a generous deadline.
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        while log_len(&data) < start_len + grow_by && Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the child stopped by itself: {status}");
            }
            std::thread::yield_now();
        }
        let jitter_end = Instant::now() + jitter;
        while Instant::now() < jitter_end {
            std::hint::spin_loop();
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        tally.kills += 1;
        if temp_files(&data) > 0 {
            tally.landed_in_record_write += 1;
        }
        check_after_kill(&data, rounds, &mut tally);
    }

    // The totals: every saved revision of every record is accounted for.
    let store = Store::open_read_only(&data).unwrap();
    let entries = AuditLog::open_read_only(&data).entries().unwrap();
    let mut saved_changes = 0;
    let mut accounted = 0;
    for id in store.ids().unwrap() {
        let incident = store.load(&id).unwrap();
        saved_changes += incident.revision;
        accounted += (1..=incident.revision)
            .filter(|r| {
                entries
                    .iter()
                    .any(|e| e.incident.as_deref() == Some(id.as_str()) && e.revision == Some(*r))
            })
            .count() as u64;
    }
    eprintln!(
        "kill -9 x{}: {} landed between the log entry and the record, {} inside a record write, {} inside an append; {saved_changes} changes saved, {accounted} accounted for",
        tally.kills,
        tally.landed_between_log_and_record,
        tally.landed_in_record_write,
        tally.landed_in_append
    );
    assert_eq!(saved_changes, accounted);
    assert!(
        saved_changes > 40,
        "the children saved only {saved_changes} changes"
    );
    assert!(
        tally.landed_between_log_and_record > 0,
        "no kill landed mid-write in {} kills",
        tally.kills
    );
}

fn check_after_kill(data: &Path, round: u32, tally: &mut Tally) {
    let log = AuditLog::open_read_only(data);
    let report = log.verify().unwrap();
    if let Some(broken) = &report.first_break {
        // A kill cannot tear one write(2) to a regular file, but if it ever
        // does, repair must cope and nothing else may be wrong.
        assert!(broken.message.contains("torn"), "round {round}: {broken}");
        tally.landed_in_append += 1;
        AuditLog::open(data)
            .unwrap()
            .repair(base(), "test")
            .unwrap();
    }
    let entries = log.entries().unwrap();
    let store = Store::open_read_only(data).unwrap();
    let problems = store.account(&entries);
    let failures: Vec<String> = problems
        .iter()
        .filter(|p| p.failure)
        .map(ToString::to_string)
        .collect();
    assert!(failures.is_empty(), "round {round}: {failures:#?}");

    // The newest entry of some incident names a revision that is not on
    // disk: this kill landed between the log entry and the record's rename.
    let mut newest: BTreeMap<&str, u64> = BTreeMap::new();
    for e in &entries {
        if let (Some(id), Some(rev)) = (e.incident.as_deref(), e.revision) {
            newest.insert(id, rev);
        }
    }
    let mut landed = false;
    for (id, rev) in newest {
        let on_disk = store.load(id).map_or(0, |i| i.revision); // 0: never created
        if on_disk < rev && tally.orphans.insert((id.to_string(), rev)) {
            landed = true;
        }
    }
    if landed {
        tally.landed_between_log_and_record += 1;
    }

    // Every timeline text in every record is in one of its entries.
    for id in store.ids().unwrap() {
        let incident = store.load(&id).unwrap();
        let details: Vec<&str> = entries
            .iter()
            .filter(|e| e.incident.as_deref() == Some(id.as_str()))
            .map(|e| e.detail.as_str())
            .collect();
        for t in &incident.timeline {
            assert!(
                details.iter().any(|d| d.contains(&t.text)),
                "round {round}: {id}: timeline text has no audit entry: {}",
                t.text
            );
        }
    }
}
