//! Shared fixtures for the console tests: a desk in a temp dir with a fixed
//! responder and incidents with fixed ids and times.
#![allow(dead_code)]

use breachdesk::config::Config;
use breachdesk::desk::{Desk, NotificationInput};
use breachdesk::domain::incident::{
    BreachKind, Channel, Incident, NewIncident, PartyRole, Severity,
};
use breachdesk::domain::playbook::apply_playbooks;
use breachdesk::setup::Setup;
use breachdesk::store::Store;
use breachdesk::tui::app::{Action, App, dispatch};
use breachdesk::tui::theme::Theme;
use chrono::{DateTime, Duration, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Tuesday 10 March 2026, 13:00 GMT: every test's "now".
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T13:00:00Z")
        .expect("fixed instant")
        .with_timezone(&Utc)
}

pub fn minutes(m: i64) -> Duration {
    Duration::minutes(m)
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub desk: Desk,
    /// The same data directory opened as a bare store, for tests that
    /// plant, read or damage records underneath the desk.
    pub store: Store,
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.responder.name = Some("alice".into());
    config.contacts.other_party = Some("csr@client.example".into());
    let setup = Setup {
        data_dir: dir.path().join("data"),
        config_path: dir.path().join("config.toml"),
        config,
        extra_playbooks: Vec::new(),
    };
    let desk = setup.desk().expect("desk");
    let store = Store::open(desk.data_dir()).expect("store");
    Fixture { dir, desk, store }
}

/// A desk whose config is `config_toml` (written to `config.toml` in the
/// temp dir, so `{dir}` in it is replaced by the temp dir's path).
pub fn fixture_with_config(config_toml: &str) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let config_path = dir.path().join("config.toml");
    std::fs::write(
        &config_path,
        config_toml.replace("{dir}", &dir.path().display().to_string()),
    )
    .expect("config");
    let config = Config::load(&config_path).expect("config parses");
    let setup = Setup {
        data_dir: dir.path().join("data"),
        config_path,
        config,
        extra_playbooks: Vec::new(),
    };
    let desk = setup.desk().expect("desk");
    let store = Store::open(desk.data_dir()).expect("store");
    Fixture { dir, desk, store }
}

impl Fixture {
    /// Creates an incident with a fixed id, identified `ago` before [`now`].
    pub fn incident(&self, id: &str, title: &str, ago: Duration) -> Incident {
        let fields = NewIncident {
            title: title.into(),
            summary: String::new(),
            kind: BreachKind::Breach,
            severity: Severity::High,
            personal_data: true,
            government_data: false,
            affected_assets: Vec::new(),
            identified_at: now() - ago,
        };
        let logged = now() - ago + minutes(2).min(ago);
        let mut incident = Incident::new(
            id.into(),
            fields,
            "alice",
            PartyRole::ServiceProvider,
            logged,
        )
        .expect("incident");
        apply_playbooks(
            &mut incident,
            &self.desk.playbooks().playbooks,
            self.desk.calendar(),
        );
        let note = breachdesk::store::AuditNote::new(logged, "alice", "incident.opened", title);
        self.store.create(&incident, &note).expect("create")
    }

    pub fn notify(&self, id: &str, ago: Duration, delay_reason: Option<&str>) {
        self.desk
            .record_notification(
                id,
                NotificationInput {
                    at: now() - ago,
                    channel: Channel::Phone,
                    recipient: "Client CSR (Bob)".into(),
                    reference: Some("call log 17".into()),
                    server_reply: None,
                    delay_reason: delay_reason.map(str::to_string),
                },
                now() - ago,
            )
            .expect("notify");
    }

    pub fn app(&self) -> App {
        App::from_desk(&self.desk, Theme::colored())
    }

    pub fn send(&self, app: &mut App, action: Action) {
        dispatch(app, &self.desk, action, now());
    }

    pub fn key(&self, app: &mut App, code: KeyCode) {
        self.send(app, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    pub fn ctrl(&self, app: &mut App, c: char) {
        self.send(
            app,
            Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
        );
    }

    pub fn chars(&self, app: &mut App, text: &str) {
        for c in text.chars() {
            let mods = if c.is_ascii_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            self.send(app, Action::Key(KeyEvent::new(KeyCode::Char(c), mods)));
        }
    }
}

pub fn draw(app: &App, at: DateTime<Utc>, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|frame| breachdesk::tui::view::render(app, at, frame))
        .expect("draw");
    terminal
}

/// The screen as text, one line per row.
pub fn screen_text(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The real binary on its own data directory and config file, for tests that
/// run it as a responder would. `run` kills a process that has not finished
/// within `BIN_DEADLINE` (a hang is a failure, reported as such).
pub struct Bin {
    pub dir: tempfile::TempDir,
    pub data: std::path::PathBuf,
    pub config: std::path::PathBuf,
}

/// Past this a run is treated as hung (generous: a guard, not a timing claim).
pub const BIN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

/// What one run printed.
pub struct Ran {
    pub ok: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Ran {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

impl Bin {
    pub fn new() -> Bin {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let config = dir.path().join("config").join("config.toml");
        Bin { dir, data, config }
    }

    /// Runs `breachdesk args...` with `BREACHDESK_DATA_DIR`/`BREACHDESK_CONFIG`
    /// set; never hangs the test (see [`BIN_DEADLINE`]).
    pub fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Ran {
        use std::io::Read;
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_breachdesk"))
            .args(args)
            .env("BREACHDESK_DATA_DIR", &self.data)
            .env("BREACHDESK_CONFIG", &self.config)
            .env("USER", "tester")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run breachdesk");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let out = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = stdout.read_to_end(&mut b);
            b
        });
        let err = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = stderr.read_to_end(&mut b);
            b
        });
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if started.elapsed() > BIN_DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "breachdesk {:?} hung (killed after {BIN_DEADLINE:?})",
                    args.iter().map(|a| a.as_ref()).collect::<Vec<_>>()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let ran = Ran {
            ok: status.success(),
            stdout: out.join().expect("stdout reader"),
            stderr: err.join().expect("stderr reader"),
        };
        assert!(
            !ran.err().contains("panicked"),
            "breachdesk {:?} panicked: {}",
            args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
            ran.err()
        );
        ran
    }

    /// Runs and expects success; returns stdout.
    pub fn ok<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> String {
        let ran = self.run(args);
        assert!(
            ran.ok,
            "breachdesk {:?} failed: {}",
            args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
            ran.err()
        );
        ran.out()
    }

    /// Runs and expects failure; returns stderr.
    pub fn fails<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> String {
        let ran = self.run(args);
        assert!(
            !ran.ok,
            "breachdesk {:?} succeeded: {}",
            args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
            ran.out()
        );
        ran.err()
    }

    /// Opens an incident identified `ago` (e.g. "-20m") and returns its id.
    pub fn new_incident(&self, title: &str, ago: &str) -> String {
        self.ok(&["new", "--title", title, "--identified-at", ago])
            .trim()
            .to_string()
    }
}
