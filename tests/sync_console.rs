//! The console's team sync against a real bare repository: the header's
//! status, `S`, the automatic sync after a change, and an unreachable
//! remote. Jobs run inline (see `dispatch`), with the real `git`.

mod support;

use breachdesk::config::Config;
use breachdesk::desk::Desk;
use breachdesk::setup::Setup;
use breachdesk::tui::app::{Action, App, dispatch};
use breachdesk::tui::theme::Theme;
use chrono::Duration;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{draw, now, screen_text};

struct Team {
    root: tempfile::TempDir,
    remote: PathBuf,
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn team() -> Team {
    let root = tempfile::tempdir().expect("temp dir");
    let remote = root.path().join("team.git");
    git(
        root.path(),
        &["init", "--quiet", "--bare", remote.to_str().expect("utf-8")],
    );
    Team { root, remote }
}

impl Team {
    /// A responder's desk on `data-WHO` with `config`.
    fn desk(&self, who: &str, config: &str) -> Desk {
        let config_path = self.root.path().join(format!("{who}.toml"));
        std::fs::write(&config_path, config).expect("config");
        Setup {
            data_dir: self.root.path().join(format!("data-{who}")),
            config: Config::load(&config_path).expect("config parses"),
            config_path,
            extra_playbooks: Vec::new(),
        }
        .desk()
        .expect("desk")
    }

    fn url(&self) -> &str {
        self.remote.to_str().expect("utf-8")
    }

    /// A responder's desk holding one incident titled `title`, published
    /// to the team's remote; the incident's id.
    fn publisher(&self, who: &str, config: &str, title: &str) -> (Desk, String) {
        let desk = self.desk(who, config);
        let id = desk
            .open_incident(support_incident(title), now())
            .expect("open")
            .id;
        desk.sync_publish(self.url(), exe(), now())
            .expect("published");
        (desk, id)
    }

    /// Bob joins with the real binary, logs on `id` and syncs.
    fn bob_logs(&self, id: &str, text: &str) {
        let bob = self.root.path().join("data-bob");
        let run = |args: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_breachdesk"))
                .args(["--data-dir", bob.to_str().expect("utf-8")])
                .args([
                    "--config",
                    self.root.path().join("bob.toml").to_str().expect("utf-8"),
                ])
                .args(args)
                .stdin(Stdio::null())
                .output()
                .expect("breachdesk");
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        std::fs::write(
            self.root.path().join("bob.toml"),
            "[responder]\nname = \"Bob Baker\"\n",
        )
        .expect("config");
        if !bob.join(".git").exists() {
            run(&["sync", "init", self.url()]);
        }
        run(&["log", id, text]);
        run(&["sync"]);
    }
}

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_breachdesk"))
}

fn press(app: &mut App, desk: &Desk, c: char, at: chrono::DateTime<chrono::Utc>) {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    dispatch(
        app,
        desk,
        Action::Key(KeyEvent::new(KeyCode::Char(c), mods)),
        at,
    );
}

fn first_line(app: &App, at: chrono::DateTime<chrono::Utc>) -> String {
    screen_text(&draw(app, at, 120, 30))
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn status_line(app: &App) -> String {
    app.status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

const ALICE: &str = "[responder]\nname = \"Alice Able\"\nemail = \"alice@provider.example\"\n";

#[test]
fn the_header_shows_the_status_and_s_brings_the_teams_changes_in() {
    let team = team();
    let (alice, id) = team.publisher("alice", ALICE, "Exfiltration");

    let mut app = App::from_desk(&alice, Theme::colored());
    assert!(app.sync.is_some(), "a sync repository");
    dispatch(&mut app, &alice, Action::Tick, now());
    let header = first_line(&app, now());
    assert!(header.contains("⇅ synced 13:00"), "{header}");
    assert!(!header.contains("waiting"), "{header}");

    // Bob's entry arrives with S, and the board and incident reload.
    team.bob_logs(&id, "Bob's entry from the other shift");
    press(&mut app, &alice, 'S', now() + Duration::seconds(7));
    let said = status_line(&app);
    assert!(
        said.starts_with("synced with origin/main: in 1 commit (1 incident changed)"),
        "{said}"
    );
    let shown = alice.load(&id).expect("load");
    assert!(
        shown
            .timeline
            .iter()
            .any(|e| e.text == "Bob's entry from the other shift")
    );
    assert_eq!(git(alice.data_dir(), &["status", "--porcelain"]), "");

    // A change made here waits for the next sync: the record and the
    // audit log changed.
    alice.log(&id, "Alice's note", now()).expect("logged");
    dispatch(
        &mut app,
        &alice,
        Action::Tick,
        now() + Duration::seconds(20),
    );
    let header = first_line(&app, now());
    assert!(header.contains("· 2 changed files waiting"), "{header}");
    press(&mut app, &alice, 'S', now() + Duration::seconds(21));
    let header = first_line(&app, now());
    assert!(
        header.contains("⇅ synced 13:00") && !header.contains("waiting"),
        "{header}"
    );
}

#[test]
fn an_unreachable_remote_shows_in_the_header_until_a_sync_succeeds() {
    let team = team();
    let (alice, _) = team.publisher("alice", ALICE, "Lost laptop");
    let mut app = App::from_desk(&alice, Theme::colored());

    let away = team.root.path().join("away.git");
    std::fs::rename(&team.remote, &away).expect("remote away");
    press(&mut app, &alice, 'S', now());
    let said = status_line(&app);
    assert!(
        said.starts_with("Sync failed: remote ") && said.contains("unreachable"),
        "{said}"
    );
    assert!(app.status.as_ref().is_some_and(|s| s.error));
    assert!(first_line(&app, now()).contains("⇅ remote unreachable"));

    std::fs::rename(&away, &team.remote).expect("remote back");
    press(&mut app, &alice, 'S', now() + Duration::seconds(60));
    assert!(status_line(&app).starts_with("synced with origin/main"));
    assert!(first_line(&app, now()).contains("⇅ synced 13:01"));
}

#[test]
fn with_auto_sync_a_saved_change_goes_out_by_itself() {
    let team = team();
    let (alice, id) = team.publisher(
        "alice",
        &format!("{ALICE}[sync]\nauto = true\ninterval = \"10m\"\n"),
        "Auto",
    );
    let mut app = App::from_desk(&alice, Theme::colored());
    // The first tick syncs (nothing to do), then the interval runs.
    dispatch(&mut app, &alice, Action::Tick, now());
    let pushed = git(&team.remote, &["rev-parse", "main"]);
    dispatch(
        &mut app,
        &alice,
        Action::Tick,
        now() + Duration::seconds(30),
    );
    assert_eq!(
        git(&team.remote, &["rev-parse", "main"]),
        pushed,
        "no change, no sync"
    );

    // A change saved through the console: synced a few seconds later.
    app.update(
        Action::Done(
            breachdesk::tui::jobs::Job {
                seq: 999_999,
                now: now(),
                kind: breachdesk::tui::jobs::JobKind::Log {
                    id: id.clone(),
                    text: "Auto-synced entry".into(),
                    at: now() + Duration::seconds(40),
                },
            }
            .run(&alice),
        ),
        now() + Duration::seconds(40),
    );
    dispatch(
        &mut app,
        &alice,
        Action::Tick,
        now() + Duration::seconds(41),
    );
    assert_eq!(git(&team.remote, &["rev-parse", "main"]), pushed, "not yet");
    dispatch(
        &mut app,
        &alice,
        Action::Tick,
        now() + Duration::seconds(46),
    );
    assert_ne!(
        git(&team.remote, &["rev-parse", "main"]),
        pushed,
        "synced after the change"
    );
    let remote_record = git(
        &team.remote,
        &["show", &format!("main:incidents/{id}.toml")],
    );
    assert!(remote_record.contains("Auto-synced entry"));
}

#[test]
fn without_a_sync_repository_s_says_how_to_start() {
    let team = team();
    let alice = team.desk("alice", ALICE);
    let mut app = App::from_desk(&alice, Theme::colored());
    assert!(app.sync.is_none());
    assert!(!first_line(&app, now()).contains('⇅'));
    press(&mut app, &alice, 'S', now());
    assert!(status_line(&app).contains("run `breachdesk sync init REMOTE` first"));
    // Not a sync repository: the footer does not offer S (help still lists it).
    assert!(
        !footer(&app, 200).contains("S sync"),
        "{}",
        footer(&app, 200)
    );
}

/// The footer: the screen's last line at `width` columns.
fn footer(app: &App, width: u16) -> String {
    screen_text(&draw(app, now(), width, 24))
        .lines()
        .last()
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

#[test]
fn s_sync_is_in_the_footer_of_a_sync_repository_and_works_on_the_incident_screen() {
    let team = team();
    let (alice, id) = team.publisher("alice", ALICE, "Footer");
    let mut app = App::from_desk(&alice, Theme::colored());
    // The board's keys all fit at 80 columns, S sync among them.
    let board = footer(&app, 80);
    assert_eq!(
        board,
        "Enter open  n new incident  / filter  c closed  S sync  O outbox  ? help  q quit"
    );

    // The incident screen: at 80 columns q quit makes room for S sync.
    dispatch(
        &mut app,
        &alice,
        Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        now(),
    );
    let narrow = footer(&app, 80);
    assert!(narrow.contains("S sync  ? help"), "{narrow}");
    assert!(!narrow.contains("q quit"), "{narrow}");
    assert!(narrow.chars().count() <= 80, "{narrow}");
    let wide = footer(&app, 120);
    assert!(wide.ends_with("S sync  ? help  q quit"), "{wide}");

    // S there syncs, and the open incident shows what came in.
    team.bob_logs(&id, "Bob's entry, synced from the incident screen");
    press(&mut app, &alice, 'S', now() + Duration::seconds(7));
    let said = status_line(&app);
    assert!(
        said.starts_with("synced with origin/main: in 1 commit"),
        "{said}"
    );
    let record = app
        .incident
        .as_ref()
        .and_then(|screen| screen.record.as_ref())
        .expect("incident open");
    assert!(
        record
            .timeline
            .iter()
            .any(|e| e.text == "Bob's entry, synced from the incident screen")
    );
}

fn support_incident(title: &str) -> breachdesk::domain::incident::NewIncident {
    breachdesk::domain::incident::NewIncident {
        title: title.into(),
        summary: String::new(),
        kind: breachdesk::domain::incident::BreachKind::Breach,
        severity: breachdesk::domain::incident::Severity::High,
        personal_data: false,
        government_data: false,
        affected_assets: Vec::new(),
        identified_at: now() - support::minutes(10),
    }
}

#[test]
fn a_merge_that_resolved_a_conflict_says_so_loudly() {
    let team = team();
    let (alice, _) = team.publisher("alice", ALICE, "Both");
    let mut app = App::from_desk(&alice, Theme::colored());
    press(&mut app, &alice, 'S', now());
    // What the sync job brings back after the merge driver recorded a
    // conflict (the driver itself is tested where it is built).
    let jobs = app.update(
        Action::Done(breachdesk::tui::jobs::Done {
            seq: 424_242,
            result: Ok(breachdesk::tui::jobs::Outcome::Synced {
                said: "synced with origin/main: in 1 commit (1 incident changed), nothing went out, conflict resolved in INC-20260310-1250-abcdef (the other value is on its timeline)".into(),
                failed: false,
                conflicts: vec!["INC-20260310-1250-abcdef".into()],
                status: alice.sync_status(),
            }),
        }),
        now(),
    );
    let said = status_line(&app);
    assert!(
        said.starts_with(
            "⚠ Conflict resolved in INC-20260310-1250-abcdef: both sides changed the same field"
        ),
        "{said}"
    );
    assert!(
        app.status.as_ref().is_some_and(|s| s.error),
        "shown as a warning"
    );
    assert!(
        jobs.iter()
            .any(|j| matches!(j.kind, breachdesk::tui::jobs::JobKind::LoadBoard { .. })),
        "the board reloads"
    );
}

#[test]
fn the_incident_screen_says_when_its_last_merge_resolved_a_conflict() {
    let team = team();
    let (alice, id) = team.publisher("alice", ALICE, "Merged");
    let mut app = App::from_desk(&alice, Theme::colored());
    dispatch(
        &mut app,
        &alice,
        Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        now(),
    );
    assert!(!app.sync_conflict_here());
    let mut status = alice.sync_status().expect("a sync repository");
    status.state.conflicts = vec![id.clone()];
    app.update(
        Action::Done(breachdesk::tui::jobs::Done {
            seq: 77_777,
            result: Ok(breachdesk::tui::jobs::Outcome::SyncStatus(Some(status))),
        }),
        now(),
    );
    assert!(app.sync_conflict_here());
    let screen = screen_text(&draw(&app, now(), 160, 30));
    assert!(
        screen
            .contains("⚠ the last sync merged a conflict here: the other value is on the timeline"),
        "{screen}"
    );
}
