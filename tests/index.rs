//! The summary index is a cache: fresh entries are reused, changed records are
//! re-read, and deleting or damaging it loses nothing.

use breachdesk::config::Config;
use breachdesk::desk::Desk;
use breachdesk::domain::calendar::WorkingCalendar;
use breachdesk::domain::incident::{BreachKind, NewIncident, Severity};
use breachdesk::index::{INDEX_FILE, summaries};
use breachdesk::playbooks::PlaybookSet;
use chrono::{DateTime, Duration, Utc};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
        .expect("instant")
        .with_timezone(&Utc)
}

/// The desk's data directory opened as a bare store, as the index sees it.
fn store_of(d: &Desk) -> breachdesk::store::Store {
    breachdesk::store::Store::open(d.data_dir()).expect("store")
}

fn desk(dir: &std::path::Path) -> Desk {
    Desk::open(
        dir,
        Config::default(),
        PlaybookSet::load(None, &[]),
        WorkingCalendar::default(),
    )
    .expect("desk")
}

fn open(desk: &Desk, title: &str, minutes_ago: i64) -> String {
    desk.open_incident(
        NewIncident {
            title: title.into(),
            summary: String::new(),
            kind: BreachKind::Breach,
            severity: Severity::High,
            personal_data: false,
            government_data: false,
            affected_assets: vec![],
            identified_at: now() - Duration::minutes(minutes_ago),
        },
        now(),
    )
    .expect("open")
    .id
}

fn sorted_titles(desk: &Desk) -> Vec<(String, u64)> {
    let (mut rows, problems) = desk.summaries();
    assert!(problems.is_empty(), "{problems:?}");
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    rows.into_iter().map(|r| (r.title, r.revision)).collect()
}

#[test]
fn fresh_entries_are_reused_and_changed_records_reread() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let ids: Vec<String> = (0..5)
        .map(|i| open(&d, &format!("incident {i}"), 10 + i))
        .collect();

    let first = summaries(&store_of(&d));
    assert_eq!(first.stats.records, 5);
    assert_eq!(first.stats.parsed, 5);
    assert!(first.stats.rewritten);

    let second = summaries(&store_of(&d));
    assert_eq!(second.stats.cached, 5);
    assert_eq!(second.stats.parsed, 0);
    assert!(!second.stats.rewritten, "nothing changed, nothing written");

    d.edit(
        &ids[2],
        breachdesk::desk::Edit {
            title: Some("renamed".into()),
            ..Default::default()
        },
        now(),
    )
    .expect("edit");
    let third = summaries(&store_of(&d));
    assert_eq!((third.stats.cached, third.stats.parsed), (4, 1));
    assert!(
        third
            .summaries
            .iter()
            .any(|s| s.id == ids[2] && s.title == "renamed" && s.revision == 2)
    );

    // A record removed from the directory drops out of the index.
    std::fs::remove_file(store_of(&d).record_path(&ids[0])).expect("rm");
    let fourth = summaries(&store_of(&d));
    assert_eq!(fourth.stats.records, 4);
    assert!(fourth.stats.rewritten);
}

#[test]
fn deleting_or_damaging_the_index_loses_nothing() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    for i in 0..4 {
        open(&d, &format!("incident {i}"), 5 + i);
    }
    let before = sorted_titles(&d);
    let index = dir.path().join(INDEX_FILE);
    assert!(index.exists());

    std::fs::remove_file(&index).expect("rm");
    assert_eq!(sorted_titles(&d), before);
    assert!(index.exists(), "rebuilt");

    std::fs::write(&index, b"{ not json").expect("damage");
    assert_eq!(sorted_titles(&d), before);

    // An index claiming a stale revision for an unchanged file's stamp is not
    // trusted once the file changes (new inode on every save).
    std::fs::write(&index, b"{\"version\":1,\"schema\":1,\"entries\":{}}").expect("old");
    assert_eq!(sorted_titles(&d), before);
}

#[test]
fn a_corrupt_record_is_quarantined_and_reported_through_the_index() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let good = open(&d, "good", 5);
    let bad = open(&d, "bad", 6);
    d.summaries();
    std::fs::write(store_of(&d).record_path(&bad), b"title = \"unterminated\n").expect("corrupt");
    let (rows, problems) = d.summaries();
    assert_eq!(
        rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [good.as_str()]
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains(&bad) && problems[0].contains(":1:"),
        "{problems:?}"
    );
    assert!(
        !store_of(&d).record_path(&bad).exists(),
        "moved to quarantine"
    );
    let quarantined = std::fs::read_dir(dir.path().join("quarantine"))
        .expect("dir")
        .count();
    assert_eq!(quarantined, 1);
}

/// Sets the modification time of `incidents/` an hour back, as if the last
/// save was long ago.
fn settle(dir: &std::path::Path) {
    let incidents = std::fs::File::open(dir.join("incidents")).expect("open dir");
    incidents
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .expect("set mtime");
}

#[test]
fn start_up_reads_only_the_open_work_when_nothing_changed() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let open_ids: Vec<String> = (0..3)
        .map(|i| open(&d, &format!("open {i}"), 5 + i))
        .collect();
    for i in 0..4 {
        let id = open(&d, &format!("closed {i}"), 30 + i);
        d.close(&id, Some("test".into()), now()).expect("close");
    }
    // Right after a save the directory is "racy": the fast path is not trusted.
    let racy = breachdesk::index::open_summaries(&store_of(&d));
    assert!(!racy.stats.fast);
    assert_eq!((racy.summaries.len(), racy.closed), (3, 4));

    settle(dir.path());
    let scan = breachdesk::index::summaries(&store_of(&d));
    assert_eq!(scan.summaries.len(), 7, "all, open and closed");
    assert!(scan.stats.rewritten, "rewritten once the directory settled");

    let fast = breachdesk::index::open_summaries(&store_of(&d));
    assert!(fast.stats.fast, "{:?}", fast.stats);
    assert_eq!(fast.closed, 4);
    let mut titles: Vec<String> = fast.summaries.iter().map(|s| s.title.clone()).collect();
    titles.sort();
    assert_eq!(titles, ["open 0", "open 1", "open 2"]);
    assert!(dir.path().join("index-closed.json").exists());

    // A save (rename into incidents/) is seen at once.
    d.close(&open_ids[1], Some("done".into()), now())
        .expect("close");
    let after = breachdesk::index::open_summaries(&store_of(&d));
    assert!(!after.stats.fast);
    assert_eq!((after.summaries.len(), after.closed), (2, 5));
    assert!(after.summaries.iter().all(|s| s.id != open_ids[1]));

    // Deleting both index files loses nothing.
    std::fs::remove_file(dir.path().join(INDEX_FILE)).expect("rm");
    std::fs::remove_file(dir.path().join("index-closed.json")).expect("rm");
    let rebuilt = breachdesk::index::summaries(&store_of(&d));
    assert_eq!(rebuilt.summaries.len(), 7);
    assert_eq!(rebuilt.stats.parsed, 7);
}
