//! End to end: the real binary in a real pseudo-terminal (portable-pty), its
//! screen read back with a terminal emulator (vt100). Opens an incident, logs
//! an entry, adds a data request, records a root cause, quits with q, and
//! finds everything in the TOML file.

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROWS: u16 = 30;
const COLS: u16 = 100;
/// A deadline for conditions that normally hold within milliseconds; generous
/// so that a loaded machine does not fail the test. Nothing here measures
/// how fast the console is.
const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `done` until it holds, panicking with `what()` after [`PATIENCE`].
fn wait_until(mut done: impl FnMut() -> bool, what: impl Fn() -> String) {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > PATIENCE {
            panic!("{}", what());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Console {
    screen: Arc<Mutex<vt100::Parser>>,
    /// Set by the reader thread once the pty has nothing more to give (every
    /// byte the console wrote has been fed to the emulator).
    drained: Arc<AtomicBool>,
    /// Every byte the console wrote (bells and OSC sequences leave no trace
    /// on the emulated screen).
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Console {
    fn contents(&self) -> String {
        self.screen
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Polls the screen until `text` shows (up to [`PATIENCE`]).
    fn wait_for(&self, text: &str) {
        wait_until(
            || self.contents().contains(text),
            || format!("'{text}' did not appear; screen:\n{}", self.contents()),
        );
    }

    /// Waits for the console to exit and for its last bytes to reach the
    /// emulator; returns the exit status.
    fn wait_for_exit(&mut self, what: &str) -> portable_pty::ExitStatus {
        let mut exit = None;
        let screen = Arc::clone(&self.screen);
        let child = &mut self.child;
        wait_until(
            || {
                if exit.is_none() {
                    exit = child.try_wait().expect("wait");
                }
                exit.is_some()
            },
            || {
                let contents = screen
                    .lock()
                    .map(|p| p.screen().contents())
                    .unwrap_or_default();
                format!("breachdesk still running after {what}; screen:\n{contents}")
            },
        );
        let drained = Arc::clone(&self.drained);
        wait_until(
            || drained.load(Ordering::SeqCst),
            || "the pty never reached end of file after the console exited".into(),
        );
        exit.expect("exited")
    }

    fn send(&mut self, bytes: &str) {
        self.writer
            .write_all(bytes.as_bytes())
            .expect("write to pty");
        self.writer.flush().expect("flush pty");
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        // Never leave a console running, even when the test fails.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn start(dir: &std::path::Path) -> Console {
    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_breachdesk"));
    cmd.env("BREACHDESK_DATA_DIR", dir.join("data"));
    cmd.env("BREACHDESK_CONFIG", dir.join("config.toml"));
    cmd.env("TERM", "xterm-256color");
    cmd.env("USER", "pty-tester");
    cmd.env_remove("NO_COLOR");
    cmd.cwd(dir);
    let child = pair.slave.spawn_command(cmd).expect("spawn breachdesk");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().expect("pty reader");
    let writer = pair.master.take_writer().expect("pty writer");
    let screen = Arc::new(Mutex::new(vt100::Parser::new(
        std::num::NonZeroU16::new(ROWS).expect("rows"),
        std::num::NonZeroU16::new(COLS).expect("cols"),
        0,
    )));
    let feed = Arc::clone(&screen);
    let raw = Arc::new(Mutex::new(Vec::new()));
    let raw_feed = Arc::clone(&raw);
    let drained = Arc::new(AtomicBool::new(false));
    let done = Arc::clone(&drained);
    std::thread::spawn(move || {
        let _master = pair.master; // keep the pty open while reading
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut parser) = feed.lock() {
                parser.process(&buf[..n]);
            }
            if let Ok(mut raw) = raw_feed.lock() {
                raw.extend_from_slice(&buf[..n]);
            }
        }
        done.store(true, Ordering::SeqCst);
    });
    Console {
        screen,
        drained,
        raw,
        writer,
        child,
    }
}

#[test]
fn a_whole_response_in_a_real_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut console = start(dir.path());
    console.wait_for("No incidents yet");

    console.send("n");
    console.wait_for("Open a new incident");
    console.send("Laptop stolen from car\r");
    console.wait_for("the 1-hour clock is running");
    console.wait_for("left");
    console.wait_for("Laptop stolen from car");

    console.send("l");
    console.wait_for("Log a timeline entry");
    console.send("Remote wipe sent via MDM\r");
    console.wait_for("Logged");

    console.send("a");
    console.wait_for("Add a data request");
    console.send("\tDuty officer\tMDM wipe confirmation\r");
    console.wait_for("Data request added");

    console.send("r");
    console.wait_for("Root cause (8.2.1");
    // Right arrow twice: weak-authentication; then component, analysis, prevention.
    console.send("\x1b[C");
    console.send("\x1b[C");
    console.send("\tLaptop fleet\tDisk not encrypted.\rFound at audit.\tEncrypt all disks\x13");
    console.wait_for("Root cause recorded");

    // The 8.1 clock is running: q asks first; any key but y stays.
    console.send("q");
    console.wait_for("Quit?");
    console.wait_for("legal clock running");
    console.send("n");
    console.wait_for("Not quitting");
    console.send("q");
    console.wait_for("Quit?");
    console.send("y");
    let status = console.wait_for_exit("q");
    assert!(status.success(), "exit status {status:?}");

    let incidents = dir.path().join("data").join("incidents");
    let files: Vec<_> = std::fs::read_dir(&incidents)
        .expect("incidents dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).expect("read record");
    for needle in [
        "Laptop stolen from car",
        "Remote wipe sent via MDM",
        "Duty officer",
        "MDM wipe confirmation",
        "weak-authentication",
        "Laptop fleet",
        "Disk not encrypted.",
        "Found at audit.",
        "Encrypt all disks",
        "pty-tester",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

#[path = "support/smtp_server.rs"]
mod smtp_server;

/// The real loop sends off the UI task: the clocks keep ticking and the
/// acceptance comes back to the screen.
#[test]
fn email_notification_from_the_real_console() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pki = smtp_server::pki();
    let server = rt.block_on(smtp_server::TestServer::start(smtp_server::Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        auth: Some(("sam".into(), "pw".into())),
        ..smtp_server::Options::default()
    }));
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).expect("ca");
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            r#"[responder]
name = "Sam Patel"
email = "sam.patel@provider.example"
role = "service-provider"
[contacts]
other_party = "Client Security Representative <csr@client.example>"
[smtp]
host = "127.0.0.1"
port = {}
security = "starttls"
username = "sam"
password_command = "printf pw"
ca_file = "{}"
timeout_secs = 5
"#,
            server.port(),
            ca.display()
        ),
    )
    .expect("config");
    let mut console = start(dir.path());
    console.wait_for("No incidents yet");
    console.send("n");
    console.wait_for("Open a new incident");
    console.send("Laptop stolen from car\r");
    console.wait_for("the 1-hour clock is running");
    console.send("E");
    console.wait_for("which one?");
    console.send("\r");
    console.wait_for("Email the 8.1 notification");
    console.send("\tLaptop wiped\r");
    console.wait_for("Nothing is queued until you press y");
    console.send("y");
    console.wait_for("Sent INC-");
    assert_eq!(server.messages().len(), 1);
    console.wait_for("on time");
    console.send("q");
    let status = console.wait_for_exit("q");
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn a_closed_terminal_or_sigterm_restores_the_terminal_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut console = start(dir.path());
    console.wait_for("No incidents yet");
    assert!(
        console
            .screen
            .lock()
            .map(|p| p.screen().alternate_screen())
            .unwrap_or(false),
        "the console draws on the alternate screen"
    );
    let pid = console.child.process_id().expect("pid");
    let pid = libc::pid_t::try_from(pid).expect("pid fits");
    // SAFETY: kill(2) with our own child's pid and a valid signal number.
    let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(sent, 0, "kill failed");
    // Every byte the console wrote before exiting has reached the emulator
    // once the pty is drained, so the screen state below is final.
    let exit = console.wait_for_exit("SIGTERM");
    assert!(exit.success(), "{exit:?}");
    let parser = console.screen.lock().expect("screen");
    assert!(!parser.screen().alternate_screen(), "alternate screen left");
    assert!(!parser.screen().hide_cursor(), "cursor shown again");
}

/// Runs the real binary as the CLI, on the console's data directory.
fn cli(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_breachdesk"))
        .args(args)
        .env("BREACHDESK_DATA_DIR", dir.join("data"))
        .env("BREACHDESK_CONFIG", dir.join("config.toml"))
        .env("USER", "colleague")
        .output()
        .expect("run breachdesk");
    assert!(
        out.status.success(),
        "breachdesk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

impl Console {
    fn raw_contains(&self, needle: &[u8]) -> bool {
        self.raw
            .lock()
            .map(|raw| raw.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
    }
}

/// A legal clock under 15 minutes rings the bell (and asks for a desktop
/// notification) and shows a banner naming the incident; a change made by
/// the CLI shows on the open incident without a key being pressed.
#[test]
fn alerts_and_changes_from_the_cli_show_while_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let id = cli(
        dir.path(),
        &[
            "new",
            "--title",
            "Payroll ransomware",
            "--identified-at",
            "-50m",
        ],
    );
    let id = id.trim().to_string();
    let mut console = start(dir.path());
    console.wait_for(&format!("⚠ {id} Payroll ransomware: 8.1"));
    wait_until(|| console.raw_contains(b"\x07"), || "no bell".to_string());
    wait_until(
        || console.raw_contains(b"\x1b]777;notify;breachdesk;"),
        || "no OSC 777 notification".to_string(),
    );
    assert!(console.raw_contains(b"\x1b]9;breachdesk: "));
    // The mouse is off by default: no mouse reporting asked of the terminal.
    assert!(!console.raw_contains(b"\x1b[?1000h"));

    // A colleague's change on the board, then on the open incident.
    cli(
        dir.path(),
        &["new", "--title", "Second incident from the CLI"],
    );
    console.wait_for("Second incident from the CLI");
    console.send("\r");
    console.wait_for("Timeline");
    console.send("\t");
    console.wait_for("┌ Timeline");
    cli(dir.path(), &["log", &id, "Colleague called the Client"]);
    console.wait_for("Colleague called the Client");
    cli(
        dir.path(),
        &["edit", &id, "--title", "Payroll ransomware (renamed)"],
    );
    console.wait_for("Payroll ransomware (renamed)");
    console.send("q");
    console.wait_for("Quit?");
    console.send("y");
    let status = console.wait_for_exit("q then y");
    assert!(status.success(), "exit status {status:?}");
}

/// `[ui] desktop_alerts = false`: the bell only; `mouse = true` asks the
/// terminal for mouse reports.
#[test]
fn desktop_alerts_can_be_switched_off() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("config.toml"),
        "[ui]\ndesktop_alerts = false\nmouse = true\n",
    )
    .expect("config");
    let id = cli(
        dir.path(),
        &["new", "--title", "Overdue one", "--identified-at", "-70m"],
    );
    let id = id.trim().to_string();
    let mut console = start(dir.path());
    console.wait_for(&format!("⚠ {id} Overdue one: 8.1"));
    console.wait_for("overdue");
    wait_until(|| console.raw_contains(b"\x07"), || "no bell".to_string());
    assert!(!console.raw_contains(b"\x1b]777;"));
    assert!(!console.raw_contains(b"\x1b]9;"));
    // `mouse = true`: mouse reporting on while open.
    assert!(console.raw_contains(b"\x1b[?1000h"));
    console.send("q");
    console.wait_for("Quit?");
    console.send("y");
    console.wait_for_exit("q then y");
}

/// Who is on it, in the real terminal: a colleague's handover (its note
/// holding an escape sequence) is the banner on top of the incident until
/// `Y` acknowledges it; `R` gives a role, shown under the title.
#[test]
fn a_handover_banner_and_a_role_in_a_real_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let id = cli(
        dir.path(),
        &["new", "--title", "Handover test", "--identified-at", "-5m"],
    );
    let id = id.trim().to_string();
    cli(
        dir.path(),
        &[
            "handover",
            &id,
            "--to",
            "pty-tester",
            "--note",
            "Check fw \u{1b}]0;pwned\u{7} rules",
        ],
    );
    let mut console = start(dir.path());
    console.wait_for("Handover test");
    console.send("\r");
    console.wait_for("HANDOVER (Y acknowledge) from colleague to pty-tester");
    console.wait_for("Check fw ^[]0;pwned^G");
    assert!(
        !console.raw_contains(b"\x1b]0;pwned"),
        "the note's OSC reached the terminal"
    );

    console.send("R");
    console.wait_for("Give a responder a role");
    console.send("\t");
    console.send("Dana Lee");
    console.send("\r");
    console.wait_for("incident manager: Dana Lee");

    console.send("Y");
    wait_until(
        || !console.contents().contains("HANDOVER"),
        || format!("the banner stayed:\n{}", console.contents()),
    );
    console.send("q");
    console.wait_for("Quit?");
    console.send("y");
    let status = console.wait_for_exit("q then y");
    assert!(status.success(), "exit status {status:?}");

    let json: serde_json::Value =
        serde_json::from_str(&cli(dir.path(), &["show", &id, "--format", "json"])).expect("json");
    assert_eq!(json["handovers"][0]["acknowledged_by"], "pty-tester");
    assert_eq!(json["assignments"][0]["to"], "Dana Lee");
}
