//! The log for bug reports, with the real binary: off by default, a private
//! file under the data directory when `BREACHDESK_LOG` or `--verbose` asks
//! for it, and never a secret, timeline text or email body in it.

#[path = "support/smtp_server.rs"]
mod smtp_server;

use smtp_server::{Options, TestServer, pki};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

const USER: &str = "sam.patel";
const PASS: &str = "correct horse battery staple";
const TITLE: &str = "Laptop lost on the 08:12 train";

struct Env {
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
}

impl Env {
    fn new(config: &str) -> Env {
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path().to_path_buf();
        let config_path = root.join("config.toml");
        std::fs::write(&config_path, config).expect("config");
        Env {
            data: root.join("data"),
            config: config_path,
            _dir: dir,
        }
    }

    fn run(&self, args: &[&str], log: Option<&str>) -> Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_breachdesk"));
        command
            .args(args)
            .env("BREACHDESK_DATA_DIR", &self.data)
            .env("BREACHDESK_CONFIG", &self.config)
            .env("USER", "tester")
            .env_remove("BREACHDESK_SMTP_PASSWORD")
            .env_remove("BREACHDESK_LOG")
            .stdin(std::process::Stdio::null());
        if let Some(filter) = log {
            command.env("BREACHDESK_LOG", filter);
        }
        command.output().expect("run")
    }

    fn ok(&self, args: &[&str], log: Option<&str>) -> String {
        let out = self.run(args, log);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "nothing on stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn log_dir(&self) -> PathBuf {
        self.data.join("logs")
    }

    fn log_file(&self) -> PathBuf {
        self.log_dir().join("breachdesk.log")
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn no_log_unless_asked_for() {
    let env = Env::new("");
    let id = env.ok(&["new", "--title", TITLE], None);
    env.ok(&["log", id.trim(), "called the owner"], None);
    env.ok(&["list"], None);
    assert!(env.data.join("incidents").is_dir(), "the commands ran");
    assert!(!env.log_dir().exists(), "no log directory without asking");
}

#[test]
fn breachdesk_log_writes_a_private_file_naming_the_change_not_its_text() {
    let env = Env::new("");
    let id = env.ok(&["new", "--title", TITLE], Some("debug"));
    let id = id.trim();
    env.ok(&["log", id, "called the owner at 09:40"], Some("debug"));

    assert_eq!(mode(&env.log_dir()), 0o700);
    assert_eq!(mode(&env.log_file()), 0o600);
    let log = std::fs::read_to_string(env.log_file()).expect("log");
    let committed: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("change committed"))
        .collect();
    assert_eq!(committed.len(), 2, "{log}");
    assert!(committed[0].contains(&format!("incident={id}")), "{log}");
    assert!(committed[0].contains("action=\"incident.opened\""), "{log}");
    assert!(committed[1].contains("revision=2"), "{log}");
    assert!(committed[1].contains("action=\"timeline.entry\""), "{log}");
    assert!(
        log.contains("audit append"),
        "debug shows the audit append: {log}"
    );
    // UTC RFC 3339 times, no colours.
    assert!(
        committed[0]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .ends_with('Z')
    );
    assert!(!log.contains('\x1b'), "{log}");
    // Never the record's words.
    assert!(!log.contains("Laptop lost"), "{log}");
    assert!(!log.contains("called the owner"), "{log}");

    // An info filter leaves the debug events out, and appends.
    env.ok(&["log", id, "third"], Some("info"));
    let more = std::fs::read_to_string(env.log_file()).expect("log");
    assert!(more.starts_with(&log), "appended");
    assert!(!more[log.len()..].contains("audit append"), "{more}");
    assert!(more[log.len()..].contains("change committed"), "{more}");
}

#[test]
fn verbose_turns_the_log_on() {
    let env = Env::new("");
    env.ok(&["--verbose", "new", "--title", TITLE], None);
    let log = std::fs::read_to_string(env.log_file()).expect("log");
    assert!(log.contains("change committed"), "{log}");
    assert!(log.contains("breachdesk started"), "{log}");
}

#[test]
fn a_bad_filter_is_one_warning_and_the_command_still_runs() {
    let env = Env::new("");
    let out = env.run(&["new", "--title", TITLE], Some("breachdesk=loud"));
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("breachdesk: warning: BREACHDESK_LOG=breachdesk=loud: "),
        "{stderr}"
    );
    assert!(!env.log_dir().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_send_is_logged_without_the_password() {
    let pki = pki();
    let server = TestServer::start(Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        auth: Some((USER.into(), PASS.into())),
        ..Options::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("temp");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).expect("ca");
    let env = Env::new(&format!(
        r#"[responder]
name = "Sam Patel"
email = "sam.patel@provider.example"
role = "service-provider"
[contacts]
other_party = "Client Security Representative <csr@client.example>"
[smtp]
host = "127.0.0.1"
port = {port}
security = "starttls"
username = "{USER}"
password_command = "printf '%s' '{PASS}'"
ca_file = "{ca}"
timeout_secs = 5
"#,
        port = server.port(),
        ca = ca.display()
    ));
    let env = std::sync::Arc::new(env);
    let e = env.clone();
    tokio::task::spawn_blocking(move || {
        let id = e.ok(&["new", "--title", TITLE], Some("debug"));
        e.ok(
            &["notify", id.trim(), "--yes", "--first-actions", "Wiped it"],
            Some("debug"),
        );
    })
    .await
    .expect("join");
    assert_eq!(server.messages().len(), 1);
    let log = std::fs::read_to_string(env.log_file()).expect("log");
    let sent: Vec<&str> = log.lines().filter(|l| l.contains("smtp send")).collect();
    assert_eq!(sent.len(), 1, "{log}");
    assert!(sent[0].contains("host=127.0.0.1"), "{log}");
    assert!(
        sent[0].contains(&format!("port=Some({})", server.port())),
        "{log}"
    );
    assert!(sent[0].contains("status=\"accepted\""), "{log}");
    assert!(sent[0].contains("message_id="), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("smtp connect") && l.contains("host=127.0.0.1")),
        "{log}"
    );
    assert!(!log.contains(PASS), "never the password: {log}");
    assert!(!log.contains("horse"), "{log}");
    assert!(!log.contains("Wiped it"), "never the email body: {log}");
}

/// The console with `BREACHDESK_LOG=debug` in a real pseudo-terminal: the
/// log fills while nothing of it reaches the terminal the console draws on.
#[test]
fn the_console_logs_to_the_file_never_to_its_terminal() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().expect("temp dir");
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 30,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_breachdesk"));
    cmd.env("BREACHDESK_DATA_DIR", dir.path().join("data"));
    cmd.env("BREACHDESK_CONFIG", dir.path().join("config.toml"));
    cmd.env("BREACHDESK_LOG", "debug");
    cmd.env("TERM", "xterm-256color");
    cmd.env("USER", "pty-tester");
    cmd.cwd(dir.path());
    let mut child = pair.slave.spawn_command(cmd).expect("spawn breachdesk");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().expect("pty reader");
    let mut writer = pair.master.take_writer().expect("pty writer");
    let raw = Arc::new(Mutex::new(Vec::new()));
    let feed = Arc::clone(&raw);
    let reading = std::thread::spawn(move || {
        let _master = pair.master; // open while reading
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            feed.lock().expect("lock").extend_from_slice(&buf[..n]);
        }
    });
    // Polls for a condition; the deadline is generous for a loaded machine
    // and measures nothing.
    let wait = |what: &str, done: &mut dyn FnMut() -> bool| {
        let start = Instant::now();
        while !done() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{what}: {}",
                String::from_utf8_lossy(&raw.lock().expect("lock"))
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let shown = |text: &str| {
        let text = text.to_string();
        let raw = Arc::clone(&raw);
        move || String::from_utf8_lossy(&raw.lock().expect("lock")).contains(&text)
    };
    let log_file = dir.path().join("data").join("logs").join("breachdesk.log");
    let logged = |text: &'static str| {
        let file = log_file.clone();
        move || std::fs::read_to_string(&file).is_ok_and(|l| l.contains(text))
    };

    wait("the board", &mut shown("No incidents yet"));
    writer.write_all(b"n").expect("write");
    writer.flush().expect("flush");
    wait("the new-incident form", &mut shown("Open a new incident"));
    writer.write_all(b"Laptop stolen\r").expect("write");
    writer.flush().expect("flush");
    wait("the change in the log", &mut logged("change committed"));
    writer.write_all(b"q").expect("write");
    writer.flush().expect("flush");
    wait("the quit question", &mut shown("Quit?"));
    writer.write_all(b"y").expect("write");
    writer.flush().expect("flush");
    let mut exited = || child.try_wait().expect("wait").is_some();
    wait("the console to exit", &mut exited);
    drop(writer);
    reading.join().expect("reader");

    let screen = String::from_utf8_lossy(&raw.lock().expect("lock")).to_string();
    for word in [
        "change committed",
        "audit append",
        "breachdesk started",
        "DEBUG",
        "INFO",
    ] {
        assert!(!screen.contains(word), "{word} reached the terminal");
    }
    let log = std::fs::read_to_string(&log_file).expect("log");
    assert!(log.contains("action=\"incident.opened\""), "{log}");
    assert!(!log.contains("Laptop stolen"), "{log}");
}
