//! `breachdesk watch` end to end: the real binary, a real SMTP server on a
//! loopback port this test bound itself (STARTTLS with a test CA, AUTH), and
//! a reminder command that appends its environment to a file.
//!
//! The binary reads the real clock, so incidents are made relative to now
//! (`--identified-at -50m` leaves 10 minutes on the 8.1 clock, past the
//! "15m" threshold) and the tests assert which thresholds fired, never
//! exact times.

#[path = "support/smtp_server.rs"]
mod smtp_server;

use smtp_server::{Options, TestServer, pki};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "sam.patel";
const PASS: &str = "correct horse battery staple";

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
    config: PathBuf,
    env_log: PathBuf,
}

impl Env {
    /// A data dir and config whose reminder command appends its environment
    /// to `env.log`, with email to the on-call address when `smtp` is given
    /// (port, CA PEM).
    fn new(smtp: Option<(u16, &str)>, extra: &str) -> Env {
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path().to_path_buf();
        let env_log = root.join("env.log");
        let mut config = String::from(
            "[responder]\nname = \"Sam Patel\"\nemail = \"sam.patel@provider.example\"\n\
             [contacts]\nother_party = \"Client CSR <csr@client.example>\"\n",
        );
        if let Some((port, ca_pem)) = smtp {
            let ca = root.join("ca.pem");
            std::fs::write(&ca, ca_pem).expect("ca");
            config.push_str(&format!(
                "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"starttls\"\n\
                 username = \"{USER}\"\npassword_command = \"printf '%s' '{PASS}'\"\n\
                 ca_file = \"{}\"\ntimeout_secs = 5\n",
                ca.display()
            ));
        }
        config.push_str("[reminders]\nbefore = [\"15m\", \"5m\"]\ndesktop = false\n");
        if smtp.is_some() {
            config.push_str("email_to = \"On-call <oncall@provider.example>\"\n");
        }
        config.push_str(extra);
        if !extra.contains("command") {
            // No shell is configured: the command runs directly, and the
            // script is the one that appends its environment.
            let script = root.join("record-env.sh");
            std::fs::write(
                &script,
                format!(
                    "#!/bin/sh\n{{ env; echo ----; }} >> '{}'\n",
                    env_log.display()
                ),
            )
            .expect("script");
            make_executable(&script);
            config.push_str(&format!("command = [\"{}\"]\n", script.display()));
        }
        let config_path = root.join("config.toml");
        std::fs::write(&config_path, config).expect("config");
        Env {
            data: root.join("data"),
            config: config_path,
            env_log,
            root,
            _dir: dir,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_breachdesk"));
        cmd.args(args)
            .env("BREACHDESK_DATA_DIR", &self.data)
            .env("BREACHDESK_CONFIG", &self.config)
            .env_remove("BREACHDESK_SMTP_PASSWORD")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn new_incident(&self, title: &str, identified: &str, extra: &[&str]) -> String {
        let mut args = vec!["new", "--title", title, "--identified-at", identified];
        args.extend_from_slice(extra);
        self.ok(&args).trim().to_string()
    }

    /// Each reminder the command saw: (incident, clock, threshold) with the
    /// rest of its environment.
    fn command_runs(&self) -> Vec<Vec<(String, String)>> {
        let text = std::fs::read_to_string(&self.env_log).unwrap_or_default();
        let mut blocks: Vec<&str> = text.split("----\n").collect();
        // The piece after the last separator is empty, or a run still writing.
        blocks.pop();
        blocks
            .into_iter()
            .map(|block| {
                block
                    .lines()
                    .filter_map(|l| l.split_once('='))
                    .filter(|(k, _)| k.starts_with("BREACHDESK_"))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }

    fn revision(&self, id: &str) -> i64 {
        let text = std::fs::read_to_string(self.data.join("incidents").join(format!("{id}.toml")))
            .expect("record");
        let value: toml::Value = toml::from_str(&text).expect("parses");
        value["revision"].as_integer().expect("revision")
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).expect("chmod");
}

fn var<'a>(run: &'a [(String, String)], key: &str) -> &'a str {
    run.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{key} not set: {run:?}"))
}

/// (incident, clock, threshold) of each reminder the command was run for.
fn fired(env: &Env) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = env
        .command_runs()
        .iter()
        .map(|r| {
            (
                var(r, "BREACHDESK_INCIDENT").to_string(),
                var(r, "BREACHDESK_CLOCK").to_string(),
                var(r, "BREACHDESK_THRESHOLD").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn triple(id: &str, clock: &str, threshold: &str) -> (String, String, String) {
    (id.to_string(), clock.to_string(), threshold.to_string())
}

fn reminder_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.contains(" reminder "))
        .collect()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_are_crossed_once_across_runs_and_satisfied_clocks_stay_quiet() {
    let pki = pki();
    let server = TestServer::start(Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        auth: Some((USER.into(), PASS.into())),
        ..Options::default()
    })
    .await;
    let env = std::sync::Arc::new(Env::new(Some((server.port(), &pki.ca_pem)), ""));

    // 10 min left: past "15m". 3 min left: past "5m". 1 h overdue.
    let a = env.new_incident("Portal login", "-50m", &[]);
    let b = env.new_incident("VPN token reuse", "-57m", &[]);
    let c = env.new_incident("Lost laptop", "-2h", &[]);
    // Notified already: the 8.1 clock is satisfied.
    let quiet = env.new_incident("Phishing attempt", "-52m", &[]);
    env.ok(&["notify", &quiet, "--channel", "phone", "--to", "Client CSR"]);
    // Notified late, with a data request received 20 days ago (overdue) and
    // another, equally old, already supplied.
    let d = env.new_incident("Database export", "-3h", &[]);
    env.ok(&[
        "notify",
        &d,
        "--channel",
        "phone",
        "--to",
        "Client CSR",
        "--delay-reason",
        "on-call handover",
    ]);
    for what in ["firewall logs", "access logs"] {
        env.ok(&[
            "request",
            "add",
            &d,
            "--from",
            "client",
            "--what",
            what,
            "--received",
            "-20d",
        ]);
    }
    env.ok(&["request", "supplied", &d, "R2", "--how", "SFTP"]);
    let revisions: Vec<i64> = [&a, &b, &c, &quiet, &d]
        .iter()
        .map(|id| env.revision(id))
        .collect();

    // Two --once runs at the same moment: the lock lets one send.
    let (first, second) = tokio::join!(
        blocking({
            let env = env.clone();
            move || env.run(&["watch", "--once"])
        }),
        blocking({
            let env = env.clone();
            move || env.run(&["watch", "--once"])
        })
    );
    for out in [&first, &second] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let expected = {
        let mut e = vec![
            triple(&a, "8.1", "15m"),
            triple(&b, "8.1", "5m"),
            triple(&c, "8.1", "overdue"),
            triple(&d, "8.2.1e/R1", "overdue"),
        ];
        e.sort();
        e
    };
    assert_eq!(fired(&env), expected);
    let stdout = format!(
        "{}{}",
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&second.stdout)
    );
    let lines = reminder_lines(&stdout);
    assert_eq!(lines.len(), 4, "one line per reminder: {stdout}");
    for (id, clock, threshold) in &expected {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!(" reminder {threshold} {id} {clock}: "))),
            "{id} {clock} {threshold}: {stdout}"
        );
    }

    // The command's environment describes the clock.
    for run in env.command_runs() {
        let left: i64 = var(&run, "BREACHDESK_LEFT_SECONDS")
            .parse()
            .expect("seconds");
        let due = var(&run, "BREACHDESK_DUE_AT");
        assert!(
            chrono::DateTime::parse_from_rfc3339(due).is_ok(),
            "RFC 3339: {due}"
        );
        assert!(due.ends_with('Z'), "UTC: {due}");
        let message = var(&run, "BREACHDESK_MESSAGE");
        assert!(
            message.contains(var(&run, "BREACHDESK_INCIDENT")),
            "{message}"
        );
        match var(&run, "BREACHDESK_THRESHOLD") {
            "overdue" => {
                assert!(left < 0, "{run:?}");
                assert!(message.starts_with("overdue by "), "{message}");
            }
            "15m" => {
                assert!((0..=15 * 60).contains(&left), "{run:?}");
                assert!(left > 5 * 60, "{run:?}");
                assert!(message.contains(" min left: "), "{message}");
            }
            "5m" => assert!((0..=5 * 60).contains(&left), "{run:?}"),
            other => panic!("unexpected threshold {other}"),
        }
        if var(&run, "BREACHDESK_INCIDENT") == a {
            assert_eq!(var(&run, "BREACHDESK_TITLE"), "Portal login");
            assert!(
                message.contains("Notify the other party (8.1)"),
                "{message}"
            );
        }
    }

    // One email per reminder, to the on-call address, over TLS; the subject
    // leads with the time left and names the incident.
    let messages = server.messages();
    assert_eq!(messages.len(), 4);
    let mut subjects = BTreeSet::new();
    for m in &messages {
        assert!(m.tls);
        assert_eq!(m.rcpt_to, ["oncall@provider.example"]);
        let parsed = mail_parser::MessageParser::default()
            .parse(&m.data)
            .expect("a message");
        let subject = parsed.subject().expect("subject").to_string();
        let body = parsed.body_text(0).expect("body").to_string();
        assert!(body.contains("not a notice"), "{body}");
        assert!(body.lines().count() < 12, "short: {body}");
        assert!(
            subject.starts_with("overdue by ") || subject.contains(" min left: "),
            "{subject}"
        );
        assert!(
            [&a, &b, &c, &d]
                .iter()
                .any(|id| subject.contains(id.as_str())),
            "{subject}"
        );
        subjects.insert(subject);
    }
    assert_eq!(subjects.len(), 4);

    // Reminders change no incident record, and are not notices.
    let after: Vec<i64> = [&a, &b, &c, &quiet, &d]
        .iter()
        .map(|id| env.revision(id))
        .collect();
    assert_eq!(after, revisions);
    let outbox = env.ok(&["outbox", "list"]);
    assert!(!outbox.contains(&a), "{outbox}");
    let audit = env.ok(&["audit", "list"]);
    assert_eq!(audit.matches("reminder.sent").count(), 4, "{audit}");
    env.ok(&["audit", "verify"]);

    // The state file is private.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.data.join("reminders.json"))
            .expect("state")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Nothing repeats on later runs.
    let again = env.ok(&["watch", "--once"]);
    assert!(reminder_lines(&again).is_empty(), "{again}");
    assert_eq!(fired(&env), expected);
    assert_eq!(server.messages().len(), 4);

    // Supplying the overdue request and notifying a, b and c: quiet for good.
    env.ok(&["request", "supplied", &d, "R1", "--how", "SFTP"]);
    for id in [&a, &b, &c] {
        env.ok(&[
            "notify",
            id,
            "--channel",
            "phone",
            "--to",
            "Client CSR",
            "--delay-reason",
            "late",
        ]);
    }
    let quiet_run = env.ok(&["watch", "--once"]);
    assert!(reminder_lines(&quiet_run).is_empty(), "{quiet_run}");
    assert_eq!(fired(&env).len(), 4);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_reminder_email_is_retried_and_the_reminder_not_repeated() {
    let pki = pki();
    // The port is held but not listening: the first attempt is refused.
    let reserved = smtp_server::reserve_port();
    let env = std::sync::Arc::new(Env::new(Some((reserved.port(), &pki.ca_pem)), ""));
    let id = env.new_incident("Portal login", "-50m", &[]);
    let out = blocking({
        let env = env.clone();
        move || env.run(&["watch", "--once"])
    })
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("reminder email"), "{stderr}");
    assert_eq!(fired(&env), vec![triple(&id, "8.1", "15m")]);
    let pending: Vec<_> = std::fs::read_dir(env.data.join("reminders").join("outbox"))
        .expect("reminder outbox")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".toml"))
        .collect();
    assert_eq!(pending.len(), 1, "the email waits in the reminders' outbox");

    // The server comes up; the watcher retries after the outbox's backoff.
    let server = reserved.start(Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        auth: Some((USER.into(), PASS.into())),
        ..Options::default()
    });
    let mut child = env
        .command(&["watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("watch");
    let deadline = Instant::now() + Duration::from_secs(120);
    while server.messages().is_empty() {
        assert!(Instant::now() < deadline, "the email was never retried");
        assert!(child.try_wait().expect("wait").is_none(), "watch exited");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // SAFETY: signalling the child this test started, by its pid.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let out = blocking(move || child.wait_with_output().expect("output")).await;
    assert!(out.status.success());
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let parsed = mail_parser::MessageParser::default()
        .parse(&messages[0].data)
        .expect("message");
    let subject = parsed.subject().expect("subject");
    assert!(
        subject.contains(" min left: ") && subject.contains(&id),
        "{subject}"
    );
    // Retrying the email is not a new reminder.
    assert_eq!(fired(&env).len(), 1);
    assert!(reminder_lines(&String::from_utf8_lossy(&out.stdout)).is_empty());
}

#[test]
fn a_corrected_identified_at_re_arms_its_reminders() {
    let env = Env::new(None, "");
    let id = env.new_incident("Admin portal", "-50m", &[]);
    env.ok(&["watch", "--once"]);
    assert_eq!(fired(&env), vec![triple(&id, "8.1", "15m")]);
    env.ok(&["watch", "--once"]);
    assert_eq!(fired(&env).len(), 1, "not repeated");

    // Identified earlier than first thought: 3 minutes left on the moved clock.
    env.ok(&[
        "edit",
        &id,
        "--identified-at",
        "-57m",
        "--reason",
        "the alert was raised earlier",
    ]);
    env.ok(&["watch", "--once"]);
    assert_eq!(
        fired(&env),
        vec![triple(&id, "8.1", "15m"), triple(&id, "8.1", "5m")]
    );
    let runs = env.command_runs();
    let left: i64 = var(&runs[1], "BREACHDESK_LEFT_SECONDS")
        .parse()
        .expect("seconds");
    assert!((0..=5 * 60).contains(&left), "{left}");
    assert_ne!(
        var(&runs[0], "BREACHDESK_DUE_AT"),
        var(&runs[1], "BREACHDESK_DUE_AT"),
        "the clock moved"
    );

    // Moved later again (25 min left): nothing is due on the new clock yet.
    env.ok(&[
        "edit",
        &id,
        "--identified-at",
        "-35m",
        "--reason",
        "that alert was another host",
    ]);
    let out = env.ok(&["watch", "--once"]);
    assert!(reminder_lines(&out).is_empty(), "{out}");
    assert_eq!(fired(&env).len(), 2);
}

#[test]
fn regulator_clocks_are_reminded() {
    // As the Client (the controller): the ICO's 72 hours, 10 minutes from
    // running out. The 24-hour assessment is overdue too, but it is an
    // internal target, not a legal clock: no reminder by default.
    let env = Env::new(None, "");
    let config = std::fs::read_to_string(&env.config).expect("config");
    std::fs::write(
        &env.config,
        config.replacen("[responder]\n", "[responder]\nrole = \"client\"\n", 1),
    )
    .expect("config");
    let id = env.new_incident("Customer records", "-71h50m", &["--personal-data"]);
    env.ok(&[
        "notify",
        &id,
        "--channel",
        "phone",
        "--to",
        "Client CSR",
        "--delay-reason",
        "found in an old ticket",
    ]);
    env.ok(&["watch", "--once"]);
    assert_eq!(fired(&env), vec![triple(&id, "gdpr-ico", "15m")]);
    // Done (the assessment first: the ICO step depends on it): quiet.
    env.ok(&["step", &id, "gdpr-assess", "--status", "done"]);
    env.ok(&["step", &id, "gdpr-ico", "--status", "done"]);
    let out = env.ok(&["watch", "--once"]);
    assert!(reminder_lines(&out).is_empty(), "{out}");
}

#[test]
fn internal_targets_only_when_switched_on() {
    for internal in [false, true] {
        let env = Env::new(None, &format!("internal_targets = {internal}\n"));
        let playbook = env.root.join("targets.toml");
        std::fs::write(
            &playbook,
            "name = \"house-targets\"\nversion = 1\ntitle = \"Our own targets\"\n\
             clause = \"internal\"\n[[step]]\nid = \"page-lead\"\n\
             title = \"Tell the incident lead\"\nrequired = false\n\
             clock = { hours = 1, from = \"identified\" }\n",
        )
        .expect("playbook");
        let playbook = playbook.display().to_string();
        let id = env.new_incident("Portal", "-50m", &["--playbook", &playbook]);
        env.ok(&["notify", &id, "--channel", "phone", "--to", "Client CSR"]);
        env.ok(&["watch", "--once"]);
        if internal {
            assert_eq!(fired(&env), vec![triple(&id, "page-lead", "15m")]);
        } else {
            assert!(fired(&env).is_empty(), "{:?}", fired(&env));
        }
    }
}

#[test]
fn a_hung_command_is_killed_and_reported_and_not_repeated() {
    let env = Env::new(
        None,
        "command = { shell = \"echo from-the-command; d=$(dirname \\\"$BREACHDESK_CONFIG\\\"); echo started >> \\\"$d/hung.log\\\"; sleep 600 & echo $! > \\\"$d/bg.pid\\\"; wait\" }\ncommand_timeout_secs = 1\n",
    );
    let id = env.new_incident("Hung pager", "-50m", &[]);
    let out = env.run(&["watch", "--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("did not finish within 1 s and was killed"),
        "{stderr}"
    );
    assert!(stderr.contains(&id), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(reminder_lines(&stdout).len(), 1, "{stdout}");
    // The command's output goes to standard error, never into the log lines.
    assert!(stderr.contains("from-the-command"), "{stderr}");
    assert!(!stdout.contains("from-the-command"), "{stdout}");
    let again = env.ok(&["watch", "--once"]);
    assert!(reminder_lines(&again).is_empty(), "{again}");
    let started = std::fs::read_to_string(env.root.join("hung.log")).expect("ran");
    assert_eq!(started.lines().count(), 1, "run once: {started}");
    // What the command started in the background was killed with it (its
    // process group), not left running.
    let pid = std::fs::read_to_string(env.root.join("bg.pid")).expect("bg pid");
    let stat = format!("/proc/{}/stat", pid.trim());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let gone = || {
        std::fs::read_to_string(&stat).map_or(true, |s| {
            s.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        })
    };
    while !gone() && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert!(
        gone(),
        "the background sleep {} is still running",
        pid.trim()
    );
}

// A damaged or foreign reminders.json: tests/watch_at_least_once.rs.

#[test]
fn email_without_smtp_is_refused_at_start() {
    let env = Env::new(None, "email_to = \"oncall@provider.example\"\n");
    env.new_incident("Portal", "-50m", &[]);
    let out = env.run(&["watch", "--once"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("config.toml: reminders.email_to is set but there is no [smtp]"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(fired(&env).is_empty());
}

#[test]
fn sigterm_ends_watch_promptly_and_cleanly() {
    let env = Env::new(None, "");
    let id = env.new_incident("Portal", "-50m", &[]);
    let mut child = env
        .command(&["watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("watch");
    // Wait (with a generous deadline) until the first check has run.
    let deadline = Instant::now() + Duration::from_secs(60);
    while fired(&env).is_empty() {
        assert!(Instant::now() < deadline, "watch never reminded");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "watch exited early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(fired(&env), vec![triple(&id, "8.1", "15m")]);
    let pid = child.id() as libc::pid_t;
    // SAFETY: signalling the child this test started, by its pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "watch still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("output");
    assert!(
        status.success(),
        "{status}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(reminder_lines(&stdout).len(), 1, "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("watch stopped"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The state written before stopping is whole: a new run repeats nothing.
    let again = env.ok(&["watch", "--once"]);
    assert!(reminder_lines(&again).is_empty(), "{again}");
}

/// `[contract] marking` leads the reminder email's subject and heads and
/// ends its body; the body names the contract reference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_email_carries_the_contract_marking() {
    let pki = pki();
    let server = TestServer::start(Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        auth: Some((USER.into(), PASS.into())),
        ..Options::default()
    })
    .await;
    let env = std::sync::Arc::new(Env::new(
        Some((server.port(), &pki.ca_pem)),
        // `command` here (the reminders' own) so that nothing follows [contract].
        "command = [\"true\"]\n[contract]\nmarking = \"OFFICIAL-SENSITIVE\"\nreference = \"CCS-0042\"\n",
    ));
    let id = env.new_incident("Portal login", "-50m", &[]);
    let out = blocking({
        let env = env.clone();
        move || env.run(&["watch", "--once"])
    })
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let parsed = mail_parser::MessageParser::default()
        .parse(&messages[0].data)
        .expect("message");
    let subject = parsed.subject().expect("subject");
    assert!(subject.starts_with("OFFICIAL-SENSITIVE "), "{subject}");
    assert!(subject.contains(&id), "{subject}");
    let body = parsed.body_text(0).expect("body").replace("\r\n", "\n");
    assert!(body.starts_with("OFFICIAL-SENSITIVE"), "{body}");
    assert!(body.trim_end().ends_with("OFFICIAL-SENSITIVE"), "{body}");
    assert!(body.contains("CCS-0042"), "{body}");
}
