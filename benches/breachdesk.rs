//! `cargo bench`: the figures the README's Performance section quotes.
//!
//! Data sets come from `breachdesk demo` (10 open in 100, 200 open in 1,000
//! and in 10,000), generated once per run in a temp directory with a fixed
//! seed and a fixed "now".

use breachdesk::config::Config;
use breachdesk::demo::{DemoPlan, generate};
use breachdesk::desk::Desk;
use breachdesk::domain::calendar::{Division, WorkingCalendar};
use breachdesk::setup::Setup;
use breachdesk::tui::app::{Action, App, dispatch, run_inline};
use breachdesk::tui::theme::Theme;
use chrono::{DateTime, Duration, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};

fn main() {
    divan::main();
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T14:00:00Z")
        .expect("fixed instant")
        .with_timezone(&Utc)
}

struct DataSet {
    _dir: tempfile::TempDir,
    setup: Setup,
}

static DATA: LazyLock<Mutex<HashMap<usize, &'static DataSet>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A demo data directory of `n` incidents (built once per run).
fn data(n: usize) -> &'static DataSet {
    let mut sets = DATA.lock().expect("lock");
    sets.entry(n).or_insert_with(|| new_data_set(n))
}

/// A new demo data directory of `n` incidents, kept for the whole run.
fn new_data_set(n: usize) -> &'static DataSet {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.responder.name = Some("bench".into());
    let setup = Setup {
        data_dir: dir.path().join("data"),
        config_path: PathBuf::from("/nonexistent/breachdesk-bench/config.toml"),
        config,
        extra_playbooks: Vec::new(),
    };
    let desk = setup.desk().expect("desk");
    let mut plan = DemoPlan::new(n, 7);
    plan.open = (n / 5).min(200);
    generate(&desk, plan, false, now()).expect("demo data");
    Box::leak(Box::new(DataSet { _dir: dir, setup }))
}

const SIZES: [usize; 3] = [100, 1_000, 10_000];

/// Makes the data directory look long settled (its last save an hour ago),
/// and lets the index catch up, as on a real start.
fn settled(set: &DataSet) -> Desk {
    let incidents = std::fs::File::open(set.setup.data_dir.join("incidents")).expect("dir");
    incidents
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .expect("mtime");
    let desk = set.setup.desk().expect("desk");
    desk.summaries();
    desk
}

/// The board's rows at start-up: open incidents from the index, sorted.
#[divan::bench(args = SIZES, sample_count = 20)]
fn load_board(bencher: divan::Bencher, n: usize) {
    let desk = settled(data(n));
    bencher.bench_local(|| {
        let (mut rows, _) = desk.open_summaries();
        breachdesk::domain::summary::sort_by_urgency(&mut rows);
        rows
    });
}

/// Every incident's summary, open and closed (a full stat scan; the closed
/// toggle, `list --all` and the repeat-root-cause check).
#[divan::bench(args = SIZES, sample_count = 10)]
fn load_all_summaries(bencher: divan::Bencher, n: usize) {
    let desk = settled(data(n));
    bencher.bench_local(|| desk.summaries());
}

/// Opening the desk (store, audit log, config, playbooks) and loading the
/// board, as the console's start does.
#[divan::bench(args = SIZES, sample_count = 20)]
fn start_and_load_board(bencher: divan::Bencher, n: usize) {
    let set = data(n);
    settled(set);
    bencher.bench_local(|| {
        let desk = set.setup.desk().expect("desk");
        desk.open_summaries()
    });
}

/// Opening one incident (read + parse its record).
#[divan::bench(args = SIZES, sample_count = 50)]
fn open_incident(bencher: divan::Bencher, n: usize) {
    let desk = data(n).setup.desk().expect("desk");
    let (rows, _) = desk.summaries();
    let id = rows
        .iter()
        .find(|r| r.status == breachdesk::domain::incident::IncidentStatus::Open)
        .expect("an open incident")
        .id
        .clone();
    bencher.bench_local(|| desk.load(&id).expect("load"));
}

/// Saving one change (a timeline entry) to one incident, with fsync and the
/// audit-log append.
#[divan::bench(args = SIZES, sample_count = 30)]
fn save_one_change(bencher: divan::Bencher, n: usize) {
    let desk = data(n).setup.desk().expect("desk");
    let (rows, _) = desk.summaries();
    let id = rows
        .iter()
        .find(|r| r.status == breachdesk::domain::incident::IncidentStatus::Open)
        .expect("an open incident")
        .id
        .clone();
    let mut minute = 0;
    bencher.bench_local(|| {
        minute += 1;
        desk.log(&id, "benchmark entry", now() + Duration::seconds(minute))
            .expect("log")
    });
}

fn app_for(n: usize) -> (App, Desk) {
    let desk = data(n).setup.desk().expect("desk");
    let mut app = App::from_desk(&desk, Theme::colored());
    let job = app.initial_load(now());
    run_inline(&mut app, &desk, vec![job], now());
    (app, desk)
}

/// Rendering the board into a 200x50 TestBackend.
#[divan::bench(args = SIZES, sample_count = 50)]
fn render_board(bencher: divan::Bencher, n: usize) {
    let (app, _desk) = app_for(n);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    bencher.bench_local(|| {
        terminal
            .draw(|frame| breachdesk::tui::view::render(&app, now(), frame))
            .expect("draw");
    });
}

/// Rendering the incident screen into a 200x50 TestBackend.
#[divan::bench(args = SIZES, sample_count = 50)]
fn render_incident(bencher: divan::Bencher, n: usize) {
    let (mut app, desk) = app_for(n);
    let enter = Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    dispatch(&mut app, &desk, enter, now());
    assert!(app.incident.is_some(), "an incident is open");
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    bencher.bench_local(|| {
        terminal
            .draw(|frame| breachdesk::tui::view::render(&app, now(), frame))
            .expect("draw");
    });
}

/// 10,000 Working-Day due dates (2 Working Days, England and Wales),
/// receipts spread over 2026-2027 every 53 minutes.
#[divan::bench(sample_count = 20)]
fn working_day_due_dates_10k(bencher: divan::Bencher) {
    let calendar = WorkingCalendar::new(Division::EnglandAndWales, chrono_tz::Europe::London);
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("instant")
        .with_timezone(&Utc);
    bencher.bench_local(|| {
        (0..10_000)
            .map(|i| calendar.working_days_after(start + Duration::minutes(53 * i), 2))
            .max()
    });
}

// ------------------------------------------------------------------
// Item 7 of issue 13, side by side: the cold rebuild against the read
// floor, and `list` right after a change against a settled `list`.

const BIG: [usize; 2] = [1_000, 10_000];

/// The read floor: every record file read once (no parsing).
#[divan::bench(args = BIG, sample_count = 5)]
fn read_floor(bencher: divan::Bencher, n: usize) {
    let set = data(n);
    let incidents = set.setup.data_dir.join("incidents");
    let files: Vec<PathBuf> = std::fs::read_dir(&incidents)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    bencher.bench_local(|| {
        files
            .iter()
            .map(|f| std::fs::read(f).expect("read").len())
            .sum::<usize>()
    });
}

/// Deletes the index and makes `incidents/` look an hour old, as on a real
/// start (not sealed by the previous sample a moment ago).
fn as_on_a_cold_start(dir: &std::path::Path) {
    for name in [
        breachdesk::index::INDEX_FILE,
        breachdesk::index::CLOSED_INDEX_FILE,
    ] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    std::fs::File::open(dir.join("incidents"))
        .and_then(|d| {
            d.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        })
        .expect("mtime");
}

/// A cold start with no index: the board's rows from the records alone
/// (before each sample the index is deleted and `incidents/` is made to
/// look an hour old, as on a real start, rather than sealed by the previous
/// sample a moment ago, which would make the scan wait out a clock tick;
/// then every record is read, the index rebuilt and written). Every record
/// here was written with its summary line, so none is parsed in full.
#[divan::bench(args = BIG, sample_count = 5)]
fn cold_rebuild(bencher: divan::Bencher, n: usize) {
    let set = data(n);
    let dir = set.setup.data_dir.clone();
    let store = breachdesk::store::Store::open(&dir).expect("store");
    bencher
        .with_inputs(|| as_on_a_cold_start(&dir))
        .bench_local_values(|()| {
            let found = breachdesk::index::open_summaries(&store);
            assert!(found.stats.parsed >= n, "{:?}", found.stats);
            assert_eq!(
                found.stats.from_line, found.stats.parsed,
                "{:?}",
                found.stats
            );
            found
        });
}

/// The same cold start over records written before the summary line
/// existed (the line removed from each, once), so every record is parsed
/// in full: what `cold_rebuild` cost before.
#[divan::bench(args = BIG, sample_count = 3)]
fn cold_rebuild_without_summary_lines(bencher: divan::Bencher, n: usize) {
    let set = without_lines(n);
    let dir = set.setup.data_dir.clone();
    let store = breachdesk::store::Store::open(&dir).expect("store");
    bencher
        .with_inputs(|| as_on_a_cold_start(&dir))
        .bench_local_values(|()| {
            let found = breachdesk::index::open_summaries(&store);
            assert!(found.stats.parsed >= n, "{:?}", found.stats);
            assert_eq!(found.stats.from_line, 0, "{:?}", found.stats);
            found
        });
}

static WITHOUT_LINES: LazyLock<Mutex<HashMap<usize, &'static DataSet>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A demo data directory of `n` incidents whose records have no summary
/// line, as records written before it existed (built once per run).
fn without_lines(n: usize) -> &'static DataSet {
    let mut sets = WITHOUT_LINES.lock().expect("lock");
    sets.entry(n).or_insert_with(|| {
        let set = new_data_set(n);
        let incidents = set.setup.data_dir.join("incidents");
        for entry in std::fs::read_dir(&incidents).expect("dir") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            let (line, rest) = text.split_once('\n').expect("two lines");
            assert!(line.starts_with("# breachdesk-summary "), "{line}");
            std::fs::write(&path, rest).expect("write");
        }
        set
    })
}

/// `list` as the command runs it (a read-only desk, the board in urgency
/// order) on a settled index.
#[divan::bench(args = BIG, sample_count = 20)]
fn list_settled(bencher: divan::Bencher, n: usize) {
    let set = data(n);
    settled(set);
    let reader = set.setup.reader().expect("reader");
    bencher.bench_local(|| {
        let found = reader.board(false);
        assert!(found.stats.fast, "{:?}", found.stats);
        found
    });
}

/// `list --all`'s rows as the command gets them (a read-only desk, a
/// settled index): the closed rows read from the index, not stat()ed.
#[divan::bench(args = BIG, sample_count = 20)]
fn list_all_settled(bencher: divan::Bencher, n: usize) {
    list_all(bencher, n, false);
}

/// The same with `--check`: every record stat()ed, every closed summary
/// decoded from the JSON section (what `list --all` did before).
#[divan::bench(args = BIG, sample_count = 10)]
fn list_all_checked(bencher: divan::Bencher, n: usize) {
    list_all(bencher, n, true);
}

/// `list --all` (with `--check` or not) on a read-only desk over a
/// settled index of `n` incidents.
fn list_all(bencher: divan::Bencher, n: usize, check: bool) {
    let set = data(n);
    settled(set);
    let reader = set.setup.reader().expect("reader");
    bencher.bench_local(|| {
        let found = reader.list_rows(breachdesk::desk::Listing::All, check);
        let (rows, problems) = found.rows();
        assert_eq!((rows.len(), problems.len()), (n, 0));
        rows.len()
    });
}

/// `list` right after one change (a timeline entry saved just before each
/// sample, not timed).
#[divan::bench(args = BIG, sample_count = 20)]
fn list_after_one_change(bencher: divan::Bencher, n: usize) {
    let set = data(n);
    let writer = settled(set);
    let reader = set.setup.reader().expect("reader");
    let (rows, _) = writer.open_summaries();
    let id = rows.first().expect("an open incident").id.clone();
    let mut minute = 0;
    bencher
        .with_inputs(|| {
            minute += 1;
            writer
                .log(&id, "benchmark entry", now() + Duration::minutes(minute))
                .expect("log");
        })
        .bench_local_values(|()| {
            let found = reader.board(false);
            assert!(found.stats.fast, "{:?}", found.stats);
            found
        });
}

// `audit verify` against its floor, side by side in one run at 10,000
// incidents: `nice cargo bench --bench breachdesk -- verify`.

/// The floor of `audit verify`: every record and chain file read and
/// SHA-256-hashed once, on one thread.
#[divan::bench(args = [10_000], sample_count = 5)]
fn verify_floor_read_and_hash(bencher: divan::Bencher, n: usize) {
    use sha2::{Digest, Sha256};
    let set = data(n);
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["incidents", "audit/chains"] {
        files.extend(
            std::fs::read_dir(set.setup.data_dir.join(dir))
                .expect("dir")
                .map(|e| e.expect("entry").path()),
        );
    }
    bencher.bench_local(|| {
        files
            .iter()
            .map(|f| Sha256::digest(std::fs::read(f).expect("read"))[0] as usize)
            .sum::<usize>()
    });
}

/// `audit verify` as the command runs it: every chain's hashes, signer and
/// signatures, every record read, hashed and accounted for.
#[divan::bench(args = [10_000], sample_count = 5)]
fn verify_audit(bencher: divan::Bencher, n: usize) {
    let set = data(n);
    let desk = set.setup.reader().expect("desk");
    bencher.bench_local(|| {
        let check = desk.verify_audit(now()).expect("verify");
        assert!(check.chain.is_ok() && !check.accounting.iter().any(|p| p.failure));
        check
    });
}
