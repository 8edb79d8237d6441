//! The summary index is a cache: fresh entries are reused, changed records are
//! re-read, and deleting or damaging it loses nothing.

use breachdesk::config::Config;
use breachdesk::desk::Desk;
use breachdesk::domain::calendar::WorkingCalendar;
use breachdesk::domain::incident::{BreachKind, NewIncident, Severity};
use breachdesk::domain::summary::IncidentSummary;
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

    // The saves kept the index: nothing to parse. Without it, all five.
    let kept = summaries(&store_of(&d));
    assert_eq!((kept.stats.records, kept.stats.parsed), (5, 0));
    std::fs::remove_file(dir.path().join(INDEX_FILE)).expect("rm");
    std::fs::remove_file(dir.path().join(breachdesk::index::CLOSED_INDEX_FILE)).ok();
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
    // The save updated its entry; a record changed by hand (a new file
    // renamed over it, as editors do) is re-read.
    let third = summaries(&store_of(&d));
    assert_eq!((third.stats.cached, third.stats.parsed), (5, 0));
    let path = store_of(&d).record_path(&ids[2]);
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        dir.path().join("hand.toml"),
        text.replace("revision = 2", "revision = 3"),
    )
    .expect("write");
    std::fs::rename(dir.path().join("hand.toml"), &path).expect("rename");
    let third = summaries(&store_of(&d));
    assert_eq!((third.stats.cached, third.stats.parsed), (4, 1));
    assert!(
        third
            .summaries
            .iter()
            .any(|s| s.id == ids[2] && s.title == "renamed" && s.revision == 3)
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
    // Each save kept the index exact: the fast path is trusted at once.
    let right_after = breachdesk::index::open_summaries(&store_of(&d));
    assert!(right_after.stats.fast, "{:?}", right_after.stats);
    assert_eq!((right_after.summaries.len(), right_after.closed), (3, 4));

    // A change breachdesk did not make (here: the directory's time moved
    // back) is not trusted; the scan rewrites the index.
    settle(dir.path());
    let rescan = breachdesk::index::open_summaries(&store_of(&d));
    assert!(!rescan.stats.fast);
    assert!(rescan.stats.rewritten, "rewritten (and sealed)");
    let scan = breachdesk::index::summaries(&store_of(&d));
    assert_eq!(scan.summaries.len(), 7, "all, open and closed");
    assert!(!scan.stats.rewritten, "nothing left to write");

    let fast = breachdesk::index::open_summaries(&store_of(&d));
    assert!(fast.stats.fast, "{:?}", fast.stats);
    assert_eq!(fast.closed, 4);
    let mut titles: Vec<String> = fast.summaries.iter().map(|s| s.title.clone()).collect();
    titles.sort();
    assert_eq!(titles, ["open 0", "open 1", "open 2"]);
    assert!(
        dir.path()
            .join(breachdesk::index::CLOSED_INDEX_FILE)
            .exists()
    );

    // A save is seen at once, from the index the save updated.
    d.close(&open_ids[1], Some("done".into()), now())
        .expect("close");
    let after = breachdesk::index::open_summaries(&store_of(&d));
    assert!(after.stats.fast, "{:?}", after.stats);
    assert_eq!((after.summaries.len(), after.closed), (2, 5));
    assert!(after.summaries.iter().all(|s| s.id != open_ids[1]));

    // Deleting both index files loses nothing.
    std::fs::remove_file(dir.path().join(INDEX_FILE)).expect("rm");
    std::fs::remove_file(dir.path().join(breachdesk::index::CLOSED_INDEX_FILE)).expect("rm");
    let rebuilt = breachdesk::index::summaries(&store_of(&d));
    assert_eq!(rebuilt.summaries.len(), 7);
    assert_eq!(rebuilt.stats.parsed, 7);
}

fn on_board_truth(dir: &std::path::Path) -> (Vec<(String, u64)>, usize) {
    let store = breachdesk::store::Store::open_read_only(dir).expect("store");
    let report = store.load_all();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let all: Vec<_> = report
        .incidents
        .iter()
        .map(breachdesk::domain::summary::IncidentSummary::of)
        .collect();
    let mut open: Vec<(String, u64)> = all
        .iter()
        .filter(|s| s.on_board())
        .map(|s| (s.id.clone(), s.revision))
        .collect();
    open.sort();
    let closed = all.len() - open.len();
    (open, closed)
}

fn board_from_index(dir: &std::path::Path) -> (Vec<(String, u64)>, usize, bool) {
    let store = breachdesk::store::Store::open_read_only(dir).expect("store");
    let found = breachdesk::index::open_summaries(&store);
    let mut open: Vec<(String, u64)> = found
        .summaries
        .iter()
        .map(|s| (s.id.clone(), s.revision))
        .collect();
    open.sort();
    (open, found.closed, found.stats.fast)
}

#[test]
fn a_save_updates_the_index_so_the_next_list_reads_only_the_open_work() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let ids: Vec<String> = (0..4).map(|i| open(&d, &format!("n {i}"), 5 + i)).collect();
    d.close(&ids[3], Some("done".into()), now()).expect("close");
    // One change, then a read-only look (as `list` does): the index the
    // save wrote is trusted and holds the new revision; nothing is parsed.
    d.log(&ids[0], "one more entry", now()).expect("log");
    let ro = breachdesk::store::Store::open_read_only(dir.path()).expect("store");
    let after = breachdesk::index::open_summaries(&ro);
    assert!(after.stats.fast, "{:?}", after.stats);
    assert_eq!(after.stats.parsed, 0);
    assert_eq!(after.closed, 1);
    let first = after
        .summaries
        .iter()
        .find(|s| s.id == ids[0])
        .expect("row");
    assert_eq!(first.revision, 2);
    let (open, closed, _) = board_from_index(dir.path());
    assert_eq!((open, closed), on_board_truth(dir.path()));

    // Reopening moves it back from the closed side.
    d.reopen(&ids[3], "more to do", now()).expect("reopen");
    let (open, closed, fast) = board_from_index(dir.path());
    assert!(fast);
    assert_eq!((open, closed), on_board_truth(dir.path()));
    assert_eq!(closed, 0);
    // And a full scan agrees with what the saves wrote.
    let all = summaries(&store_of(&d));
    assert_eq!((all.stats.parsed, all.summaries.len()), (0, 4));
}

#[test]
fn an_interrupted_save_or_a_torn_index_is_noticed_and_rebuilt() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let ids: Vec<String> = (0..3).map(|i| open(&d, &format!("n {i}"), 5 + i)).collect();
    assert!(board_from_index(dir.path()).2, "trusted after the saves");

    // A save killed after renaming its record leaves the pending mark; here
    // the record changes behind the index's back in the same way.
    let pending = dir.path().join(breachdesk::index::PENDING_FILE);
    std::fs::write(&pending, &ids[1]).expect("mark");
    let index_before = std::fs::read(dir.path().join(INDEX_FILE)).expect("index");
    d.log(&ids[1], "after the crash", now()).expect("log");
    std::fs::write(dir.path().join(INDEX_FILE), &index_before).expect("old index back");
    std::fs::write(&pending, &ids[1]).expect("mark again");
    let (open, closed, fast) = board_from_index(dir.path());
    assert!(!fast, "a pending save is never trusted");
    assert_eq!((open.clone(), closed), on_board_truth(dir.path()));
    assert!(open.contains(&(ids[1].clone(), 2)));
    // The next writer rebuilds it and clears the mark.
    d.log(&ids[2], "next", now()).expect("log");
    assert!(!pending.exists());
    let (open, closed, fast) = board_from_index(dir.path());
    assert!(fast);
    assert_eq!((open, closed), on_board_truth(dir.path()));

    // A torn index (a write cut short) is not JSON: rebuilt from the records.
    let bytes = std::fs::read(dir.path().join(INDEX_FILE)).expect("index");
    std::fs::write(dir.path().join(INDEX_FILE), &bytes[..bytes.len() / 2]).expect("tear");
    let (open, closed, fast) = board_from_index(dir.path());
    assert!(!fast);
    assert_eq!((open, closed), on_board_truth(dir.path()));
}

const CHURN_ENV: &str = "BREACHDESK_INDEX_CHURN_DIR";

/// The child: saves forever (entries, closes, reopens) through the desk.
fn churn_forever(dir: &std::path::Path) -> ! {
    let d = desk(dir);
    let ids: Vec<String> = std::fs::read_to_string(dir.join("ids.txt"))
        .expect("ids")
        .lines()
        .map(str::to_string)
        .collect();
    let mut n: i64 = 0;
    loop {
        n += 1;
        let id = &ids[n as usize % ids.len()];
        let at = now() + Duration::seconds(n);
        let _ = match n % 7 {
            0 => d.close(id, Some("churn".into()), at).map(|_| ()),
            3 => d.reopen(id, "churn", at).map(|_| ()),
            _ => d.log(id, &format!("round {n}"), at).map(|_| ()),
        };
    }
}

fn audit_len(dir: &std::path::Path) -> u64 {
    breachdesk::audit::own_chain_file(dir)
        .ok()
        .flatten()
        .and_then(|chain| std::fs::metadata(chain).ok())
        .map_or(0, |m| m.len())
}

#[test]
fn kill_nine_during_saves_never_leaves_a_stale_index_trusted() {
    if let Ok(dir) = std::env::var(CHURN_ENV) {
        churn_forever(std::path::Path::new(&dir));
    }
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let ids: Vec<String> = (0..5).map(|i| open(&d, &format!("n {i}"), 5 + i)).collect();
    std::fs::write(dir.path().join("ids.txt"), ids.join("\n")).expect("ids");
    let exe = std::env::current_exe().expect("exe");
    let pending = dir.path().join(breachdesk::index::PENDING_FILE);
    let (mut round, mut killed_pending, mut trusted_after) = (0, 0, 0);
    while round < 20 || ((killed_pending == 0 || trusted_after == 0) && round < 300) {
        round += 1;
        let before = audit_len(dir.path());
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "kill_nine_during_saves_never_leaves_a_stale_index_trusted",
                "--nocapture",
            ])
            .env(CHURN_ENV, dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let mut r = [0u8; 3];
        getrandom::fill(&mut r).expect("random");
        // Odd rounds: after a random number of saves, plus up to 3 ms.
        // Even rounds: once a save has set its pending mark (after at least
        // one save), plus up to 0.3 ms, to land inside the index window.
        let grow_by = 1 + u64::from(r[0]) % 3000;
        let in_window = round % 2 == 0;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            let grown = audit_len(dir.path()) >= before + grow_by;
            if grown && (!in_window || pending.exists()) {
                break;
            }
            std::thread::yield_now();
        }
        let jitter_us =
            u64::from(u16::from_le_bytes([r[1], r[2]])) % if in_window { 300 } else { 3000 };
        let jitter_end = std::time::Instant::now() + std::time::Duration::from_micros(jitter_us);
        while std::time::Instant::now() < jitter_end {
            std::hint::spin_loop();
        }
        child.kill().expect("kill"); // SIGKILL
        child.wait().expect("wait");
        if pending.exists() {
            killed_pending += 1;
        }
        let (open, closed, fast) = board_from_index(dir.path());
        trusted_after += usize::from(fast);
        assert_eq!(
            (open, closed),
            on_board_truth(dir.path()),
            "round {round}: the index said something the records do not"
        );
    }
    eprintln!(
        "kill -9: {round} kills, {killed_pending} inside a save's index window, {trusted_after} left a trusted index"
    );
    assert!(killed_pending > 0, "no kill landed inside a save");
}

/// How often `dir` itself was opened (to list it) while `run` ran, seen by
/// inotify, and how often a file in it was opened (showing the watch works).
fn opens_during(dir: &std::path::Path, run: impl FnOnce()) -> (usize, usize) {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).expect("path");
    // SAFETY: plain syscalls on a descriptor this function owns and closes;
    // the buffer outlives every read into it.
    unsafe {
        let fd = libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC);
        assert!(fd >= 0, "inotify_init1");
        assert!(libc::inotify_add_watch(fd, path.as_ptr(), libc::IN_OPEN) >= 0);
        run();
        let (mut listed, mut files) = (0, 0);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
            if n <= 0 {
                break;
            }
            let mut at = 0usize;
            while at < n as usize {
                let event: libc::inotify_event =
                    std::ptr::read_unaligned(buf.as_ptr().add(at).cast());
                if event.mask & libc::IN_ISDIR != 0 && event.len == 0 {
                    listed += 1;
                } else {
                    files += 1;
                }
                at += std::mem::size_of::<libc::inotify_event>() + event.len as usize;
            }
        }
        libc::close(fd);
        (listed, files)
    }
}

#[test]
fn read_only_commands_never_list_incidents() {
    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("data");
    let bin = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_breachdesk"))
            .args(args)
            .env("BREACHDESK_DATA_DIR", &data)
            .env("BREACHDESK_CONFIG", dir.path().join("none.toml"))
            .env("USER", "tester")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let id = bin(&["new", "--title", "Listed never", "--identified-at", "-5m"])
        .trim()
        .to_string();
    bin(&["new", "--title", "Other", "--identified-at", "-6m"]);
    let incidents = data.join("incidents");
    let suffix = &id[id.len() - 6..];
    for args in [
        vec!["show", id.as_str()],
        vec!["show", suffix],
        vec!["list"],
        vec!["list", "--format", "json"],
        vec!["list", "--all"],
    ] {
        let mut out = String::new();
        let (listed, files) = opens_during(&incidents, || out = bin(&args));
        assert!(out.contains(&id), "{args:?}: {out}");
        assert_eq!(listed, 0, "{args:?} listed incidents/");
        if args[0] == "show" {
            assert!(files > 0, "{args:?}: the watch saw the record opened");
        }
    }
    // The watch does see a listing: a writable open sweeps temp files.
    let (listed, _) = opens_during(&incidents, || {
        bin(&["new", "--title", "Third", "--identified-at", "-7m"]);
    });
    assert!(listed > 0, "a writer's open lists incidents/");
}

#[test]
fn a_damaged_record_found_by_a_save_is_still_quarantined_by_the_next_scan() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let good = open(&d, "good", 5);
    let bad = open(&d, "bad", 6);
    std::fs::remove_file(dir.path().join(INDEX_FILE)).expect("rm");
    std::fs::write(store_of(&d).record_path(&bad), b"title = \"unterminated\n").expect("corrupt");
    // The save rebuilds the index around the damaged record (it holds a
    // lock, so it moves nothing) and leaves the index untrusted...
    d.log(&good, "saved beside a damaged record", now())
        .expect("log");
    assert!(store_of(&d).record_path(&bad).exists());
    assert!(!board_from_index(dir.path()).2, "not trusted");
    // ...so the next writable look quarantines it, as before.
    let (rows, problems) = d.open_summaries();
    assert_eq!(
        rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [good.as_str()]
    );
    assert!(problems.iter().any(|p| p.contains(&bad)), "{problems:?}");
    assert!(
        !store_of(&d).record_path(&bad).exists(),
        "moved to quarantine"
    );
}

/// Deletes both index files: the next look is a cold start.
fn drop_index(dir: &std::path::Path) {
    for name in [INDEX_FILE, breachdesk::index::CLOSED_INDEX_FILE] {
        match std::fs::remove_file(dir.join(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("rm {name}: {e}"),
        }
    }
}

/// Every record's summary computed from the parsed record, by id.
fn parsed_truth(d: &Desk) -> Vec<IncidentSummary> {
    let store = store_of(d);
    let mut all: Vec<IncidentSummary> = store
        .ids()
        .expect("ids")
        .iter()
        .map(|id| IncidentSummary::of(&store.load(id).expect("load")))
        .collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

fn cold_summaries(d: &Desk) -> breachdesk::index::Summaries {
    drop_index(d.data_dir());
    let mut found = summaries(&store_of(d));
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    found.summaries.sort_by(|a, b| a.id.cmp(&b.id));
    found
}

/// Rewrites a record file in place, as an editor saving over it would.
fn rewrite(d: &Desk, id: &str, change: impl FnOnce(String) -> String) {
    let path = store_of(d).record_path(id);
    let text = std::fs::read_to_string(&path).expect("read");
    let changed = change(text.clone());
    assert_ne!(changed, text, "the change applies");
    std::fs::write(&path, changed).expect("write");
}

#[test]
fn a_cold_start_reads_summary_lines_and_parses_records_edited_by_hand() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let ids: Vec<String> = (0..4)
        .map(|i| open(&d, &format!("incident {i}"), 10 + i))
        .collect();

    // Every record read, none parsed: the summaries are the lines'.
    let cold = cold_summaries(&d);
    assert_eq!((cold.stats.parsed, cold.stats.from_line), (4, 4));
    assert_eq!(cold.summaries, parsed_truth(&d));

    // The title edited by hand below the line: the line's hash no longer
    // matches, so the record is parsed and the board shows the new title.
    rewrite(&d, &ids[1], |t| {
        t.replacen("title = \"incident 1\"", "title = \"edited by hand\"", 1)
    });
    let cold = cold_summaries(&d);
    assert_eq!((cold.stats.parsed, cold.stats.from_line), (4, 3));
    assert_eq!(cold.summaries, parsed_truth(&d));
    let (board, _) = d.open_summaries();
    assert!(
        board
            .iter()
            .any(|s| s.id == ids[1] && s.title == "edited by hand"),
        "{board:?}"
    );

    // The line's own JSON edited, the record not: the record wins.
    rewrite(&d, &ids[2], |t| {
        t.replacen("\"title\":\"incident 2\"", "\"title\":\"forged\"", 1)
    });
    let cold = cold_summaries(&d);
    assert_eq!((cold.stats.parsed, cold.stats.from_line), (4, 2));
    assert_eq!(cold.summaries, parsed_truth(&d));
    assert!(cold.summaries.iter().any(|s| s.title == "incident 2"));

    // A stale line: revision 1's line over revision 2's record.
    let path = store_of(&d).record_path(&ids[3]);
    let old = std::fs::read_to_string(&path).expect("read");
    d.edit(
        &ids[3],
        breachdesk::desk::Edit {
            title: Some("renamed".into()),
            ..Default::default()
        },
        now(),
    )
    .expect("edit");
    let new = std::fs::read_to_string(&path).expect("read");
    let line = |t: &str| t.split_inclusive('\n').next().expect("line").to_string();
    rewrite(&d, &ids[3], |t| t.replacen(&line(&new), &line(&old), 1));
    let cold = cold_summaries(&d);
    assert_eq!((cold.stats.parsed, cold.stats.from_line), (4, 1));
    assert_eq!(cold.summaries, parsed_truth(&d));
    assert!(
        cold.summaries
            .iter()
            .any(|s| s.id == ids[3] && s.title == "renamed" && s.revision == 2)
    );
}

#[test]
fn records_written_without_a_summary_line_still_work() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let ids: Vec<String> = (0..3)
        .map(|i| open(&d, &format!("incident {i}"), 10 + i))
        .collect();
    let before = parsed_truth(&d);
    // As records were written before the line existed.
    for id in &ids {
        rewrite(&d, id, |t| {
            let (line, rest) = t.split_once('\n').expect("two lines");
            assert!(line.starts_with("# breachdesk-summary "), "{line}");
            rest.to_string()
        });
    }
    let cold = cold_summaries(&d);
    assert_eq!((cold.stats.parsed, cold.stats.from_line), (3, 0));
    assert_eq!(cold.summaries, before);

    // The next save of one writes the line again.
    d.log(&ids[0], "saved again", now()).expect("log");
    let cold = cold_summaries(&d);
    assert_eq!((cold.stats.parsed, cold.stats.from_line), (3, 1));
    assert_eq!(cold.summaries, parsed_truth(&d));
}

#[test]
fn a_damaged_record_with_its_summary_line_intact_is_still_quarantined() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let good = open(&d, "good", 5);
    let bad = open(&d, "bad", 6);
    let mut damaged_line = 0;
    rewrite(&d, &bad, |t| {
        let at = t.find("\nrevision = ").expect("revision") + 1;
        damaged_line = t[..at].lines().count() + 1;
        t.replacen("\nrevision = ", "\nrevision = = ", 1)
    });
    drop_index(dir.path());
    let (rows, problems) = d.open_summaries();
    assert_eq!(
        rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [good.as_str()]
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    // Named with the damaged line as the file counts it (the summary line
    // is line 1).
    assert!(
        problems[0].contains(&format!("{bad}.toml:{damaged_line}:")),
        "{problems:?}"
    );
    assert!(
        !store_of(&d).record_path(&bad).exists(),
        "moved to quarantine"
    );
}

fn reader(dir: &std::path::Path) -> Desk {
    Desk::open_read_only(
        dir,
        Config::default(),
        PlaybookSet::load(None, &[]),
        WorkingCalendar::default(),
    )
    .expect("reader")
}

/// `list --all` as the command prints it: (id, title) in order.
fn listed(d: &Desk, which: breachdesk::desk::Listing, check: bool) -> Vec<(String, String)> {
    let found = d.list_rows(which, check);
    let (rows, problems) = found.rows();
    assert!(problems.is_empty(), "{problems:?}");
    rows.iter()
        .map(|r| (r.id.to_string(), r.title.to_string()))
        .collect()
}

/// What a full scan finds, in the board's order.
fn scanned(d: &Desk, which: breachdesk::desk::Listing) -> Vec<(String, String)> {
    let (rows, problems) = d.listing(which);
    assert!(problems.is_empty(), "{problems:?}");
    rows.into_iter().map(|s| (s.id, s.title)).collect()
}

#[test]
fn list_all_reads_the_closed_rows_and_check_sees_a_closed_record_edited_in_place() {
    use breachdesk::desk::Listing;
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let ids: Vec<String> = (0..6)
        .map(|i| open(&d, &format!("incident {i}"), 5 + i))
        .collect();
    for id in &ids[..2] {
        d.close(id, Some("done".into()), now()).expect("close");
    }
    // Settled by a writer's scan: the closed rows file holds the two.
    settle(dir.path());
    d.open_summaries();
    for id in &ids[2..4] {
        d.close(id, Some("done".into()), now()).expect("close");
    }
    // Two closed in the rows file, two saved since (in index.json): the
    // same rows, in the same order, as a full scan finds.
    let ro = reader(dir.path());
    let store = breachdesk::store::Store::open_read_only(dir.path()).expect("store");
    let fast = breachdesk::index::trusted_listing(&store).expect("trusted");
    assert_eq!(fast.closed_rows().expect("rows").len(), 4);
    for which in [Listing::All, Listing::Closed, Listing::Board] {
        assert_eq!(listed(&ro, which, false), scanned(&ro, which), "{which:?}");
    }
    assert_eq!(listed(&ro, Listing::All, false).len(), 6);
    assert_eq!(listed(&ro, Listing::Closed, false).len(), 4);

    // A closed record edited in place by hand (same name, so the
    // directory does not change): `list --all` trusts the index and shows
    // the title it holds; `--check` stats every record and shows the edit.
    rewrite(&d, &ids[0], |t| {
        t.replacen("title = \"incident 0\"", "title = \"edited in place\"", 1)
    });
    let title_of = |rows: Vec<(String, String)>| {
        rows.into_iter()
            .find(|(id, _)| *id == ids[0])
            .map(|(_, title)| title)
            .expect("row")
    };
    assert_eq!(title_of(listed(&ro, Listing::All, false)), "incident 0");
    assert_eq!(title_of(listed(&ro, Listing::All, true)), "edited in place");
    assert_eq!(
        title_of(listed(&ro, Listing::Closed, true)),
        "edited in place"
    );

    // The rows section damaged (one byte): not used, so the listing is a
    // full scan, which sees the edit.
    let file = dir.path().join(breachdesk::index::CLOSED_INDEX_FILE);
    let mut bytes = std::fs::read(&file).expect("closed index");
    let header = bytes.iter().position(|&b| b == b'\n').expect("header") + 1;
    let at = bytes[header..]
        .iter()
        .position(|&b| b == b'\t')
        .expect("tab")
        + header
        + 1;
    bytes[at] = if bytes[at] == b'l' { b'h' } else { b'l' };
    std::fs::write(&file, &bytes).expect("damage");
    assert_eq!(
        title_of(listed(&ro, Listing::All, false)),
        "edited in place"
    );
    assert_eq!(listed(&ro, Listing::All, false), scanned(&ro, Listing::All));

    // Truncated (a torn write): the same; a writer's scan rewrites it
    // whole, and the index is trusted again.
    std::fs::write(&file, &bytes[..bytes.len() / 2]).expect("tear");
    assert_eq!(listed(&ro, Listing::All, false), scanned(&ro, Listing::All));
    settle(dir.path());
    d.open_summaries();
    assert!(
        breachdesk::store::Store::open_read_only(dir.path())
            .map(|s| breachdesk::index::trusted_listing(&s).is_some())
            .expect("store")
    );
    assert_eq!(
        title_of(listed(&ro, Listing::All, false)),
        "edited in place"
    );
    assert_eq!(listed(&ro, Listing::All, false), scanned(&ro, Listing::All));
}

#[test]
fn an_index_written_before_the_closed_rows_existed_is_rebuilt_with_them() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let id = open(&d, "closed one", 5);
    open(&d, "open one", 6);
    d.close(&id, Some("done".into()), now()).expect("close");
    let index = dir.path().join(INDEX_FILE);
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index).expect("index")).expect("json");
    value.as_object_mut().expect("object").remove("rows");
    std::fs::write(&index, serde_json::to_vec(&value).expect("json")).expect("old index");
    std::fs::remove_file(dir.path().join(breachdesk::index::CLOSED_INDEX_FILE)).expect("rm");
    // The closed summaries' file of that version.
    let old_closed = dir.path().join("index-closed.json");
    std::fs::write(&old_closed, b"{\"version\":5,\"schema\":1,\"closed\":{}}").expect("old");
    let ro = breachdesk::store::Store::open_read_only(dir.path()).expect("store");
    assert!(
        !breachdesk::index::open_summaries(&ro).stats.fast,
        "not trusted"
    );
    assert!(breachdesk::index::trusted_listing(&ro).is_none());
    // The next writer's look rebuilds both files.
    assert!(
        breachdesk::index::open_summaries(&store_of(&d))
            .stats
            .rewritten
    );
    assert!(!old_closed.exists(), "the old file is removed");
    let listed = breachdesk::index::trusted_listing(&ro).expect("trusted");
    let rows = listed.closed_rows().expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].id.as_ref(), rows[0].title.as_ref()),
        (id.as_str(), "closed one")
    );
}

#[test]
fn closed_rows_that_do_not_add_up_to_the_index_count_are_not_used() {
    use breachdesk::desk::Listing;
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path());
    let ids: Vec<String> = (0..3).map(|i| open(&d, &format!("n {i}"), 5 + i)).collect();
    d.close(&ids[0], Some("done".into()), now()).expect("close");
    settle(dir.path());
    d.open_summaries();
    // index.json claims one closed incident more than the rows hold (it
    // is still trusted: `incidents/` did not change).
    let index = dir.path().join(INDEX_FILE);
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index).expect("index")).expect("json");
    value["closed_count"] = serde_json::json!(2);
    std::fs::write(&index, serde_json::to_vec(&value).expect("json")).expect("index");
    let store = breachdesk::store::Store::open_read_only(dir.path()).expect("store");
    let fast = breachdesk::index::trusted_listing(&store).expect("trusted");
    assert!(fast.closed_rows().is_none(), "do not add up");
    // So the listing checks every record, and is right.
    let ro = reader(dir.path());
    let rows = listed(&ro, Listing::All, false);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows, scanned(&ro, Listing::All));
}
