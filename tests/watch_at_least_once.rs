//! `watch` sends every reminder at least once, whatever happens to it or
//! around it: the real binary killed with SIGKILL mid-run, a `reminders.json`
//! that is not its own, and a reminder outbox entry planted in the data
//! directory (a real SMTP server on loopback must receive nothing for it).
//!
//! The binary reads the real clock, so incidents are made relative to now
//! (`--identified-at -50m` leaves 10 minutes on the 8.1 clock, past "15m").

#[path = "support/smtp_server.rs"]
mod smtp_server;

use smtp_server::{Options, TestServer};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
    config: PathBuf,
    ran: PathBuf,
}

impl Env {
    /// A reminder command that appends the incident id to `ran.log`, then
    /// sleeps `sleep` (so a kill can land while it runs); `extra` goes at
    /// the end of the config (an `[smtp]` section, say).
    fn new(sleep: &str, reminders_extra: &str, extra: &str) -> Env {
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path().to_path_buf();
        let ran = root.join("ran.log");
        let script = root.join("page.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$BREACHDESK_INCIDENT\" >> '{}'\nsleep {sleep}\n",
                ran.display()
            ),
        )
        .expect("script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let config = root.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[responder]\nname = \"Sam Patel\"\nemail = \"sam.patel@provider.example\"\n\
                 [contacts]\nother_party = \"Client CSR <csr@client.example>\"\n\
                 [reminders]\nbefore = [\"15m\"]\ndesktop = false\ncommand = [\"{}\"]\n{reminders_extra}{extra}",
                script.display()
            ),
        )
        .expect("config");
        Env {
            data: root.join("data"),
            config,
            ran,
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

    fn new_incident(&self, title: &str) -> String {
        self.ok(&["new", "--title", title, "--identified-at", "-50m"])
            .trim()
            .to_string()
    }

    /// How many times the command ran for each incident.
    fn runs(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for line in std::fs::read_to_string(&self.ran)
            .unwrap_or_default()
            .lines()
        {
            *out.entry(line.to_string()).or_insert(0) += 1;
        }
        out
    }
}

fn reminder_lines(stdout: &str) -> usize {
    stdout.lines().filter(|l| l.contains(" reminder ")).count()
}

#[test]
fn a_watch_killed_again_and_again_still_runs_every_reminders_command() {
    const INCIDENTS: usize = 10;
    const KILLS: u64 = 30;
    let env = Env::new("0.3", "", "");
    let ids: Vec<String> = (0..INCIDENTS)
        .map(|i| env.new_incident(&format!("Breach {i}")))
        .collect();
    let started = Instant::now();
    let mut killed_mid_run = 0;
    for k in 0..KILLS {
        let mut child = env
            .command(&["watch", "--once"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // A different point each time: from just after start to into the
        // second command (each sleeps 0.3 s).
        let delay = Duration::from_millis(20 + (k * 173) % 500);
        std::thread::sleep(delay);
        let finished = child.try_wait().expect("wait").is_some();
        if !finished {
            // SAFETY: kill(2) on the pid of a child we spawned and have not
            // reaped, so it cannot be another process.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGKILL);
            }
            killed_mid_run += 1;
        }
        child.wait().expect("reap");
    }
    let out = env.ok(&["watch", "--once"]);
    // A command left running by a killed watch (its own process group)
    // ends within its sleep: wait for the log to stop growing.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = String::new();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = std::fs::read_to_string(&env.ran).unwrap_or_default();
        if now == last || Instant::now() > deadline {
            break;
        }
        last = now;
    }
    let runs = env.runs();
    let missing: Vec<&String> = ids.iter().filter(|id| !runs.contains_key(*id)).collect();
    let repeated = runs.values().filter(|n| **n > 1).count();
    let total: usize = runs.values().sum();
    eprintln!(
        "kill -9 loop over watch --once: {} runs ({KILLS} started, {killed_mid_run} killed mid-run, 1 final), {INCIDENTS} reminders, {total} command runs, {repeated} reminders' commands ran more than once, {} lost, {:.1} s",
        KILLS + 1,
        missing.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        missing.is_empty(),
        "never paged: {missing:?} (runs {runs:?})"
    );
    assert!(killed_mid_run >= 10, "too few kills landed mid-run");
    // Everything is recorded now: a further run pages nobody.
    let again = env.ok(&["watch", "--once"]);
    assert_eq!(reminder_lines(&again), 0, "{again}\n(final: {out})");
}

#[test]
fn a_reminders_json_that_is_not_ours_silences_nothing() {
    let env = Env::new("0", "", "");
    let id = env.new_incident("Portal");
    assert_eq!(reminder_lines(&env.ok(&["watch", "--once"])), 1);
    let state = env.data.join("reminders.json");
    assert_eq!(
        std::fs::metadata(&state)
            .expect("state")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    // Ours and 0600: the reminder stays silenced.
    assert_eq!(reminder_lines(&env.ok(&["watch", "--once"])), 0);

    // The same content, but as git writes a file (0644): not trusted.
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = env.run(&["watch", "--once"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("reminders.json: not trusted (mode 644"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(reminder_lines(&String::from_utf8_lossy(&out.stdout)), 1);
    // Replaced by one of ours: quiet again.
    assert_eq!(
        std::fs::metadata(&state)
            .expect("state")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(reminder_lines(&env.ok(&["watch", "--once"])), 0);

    // A link to a state file elsewhere: not followed, not trusted.
    let elsewhere = env.root.join("elsewhere.json");
    std::fs::copy(&state, &elsewhere).expect("copy");
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::fs::remove_file(&state).expect("rm");
    std::os::unix::fs::symlink(&elsewhere, &state).expect("link");
    let out = env.run(&["watch", "--once"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(reminder_lines(&String::from_utf8_lossy(&out.stdout)), 1);
    assert!(
        !std::fs::symlink_metadata(&state)
            .expect("state")
            .file_type()
            .is_symlink(),
        "the link is replaced, not written through"
    );

    // Damaged: the reminder is sent (at least once beats never).
    std::fs::write(&state, "{ not json").expect("write");
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let out = env.run(&["watch", "--once"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("reminders.json: not trusted (line 1"),
        "{stderr}"
    );
    assert_eq!(reminder_lines(&String::from_utf8_lossy(&out.stdout)), 1);
    assert_eq!(env.runs()[&id], 4);

    // A link planted as the lock file is removed, not followed, and stops
    // nothing.
    let lock = env.data.join("reminders.lock");
    let target = env.root.join("not-a-lock");
    std::fs::write(&target, "keep me").expect("target");
    std::fs::remove_file(&lock).expect("rm lock");
    std::os::unix::fs::symlink(&target, &lock).expect("link");
    std::fs::remove_file(&state).expect("rm state");
    let out = env.run(&["watch", "--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(reminder_lines(&String::from_utf8_lossy(&out.stdout)), 1);
    assert!(std::fs::symlink_metadata(&lock).expect("lock").is_file());
    assert_eq!(std::fs::read_to_string(&target).expect("target"), "keep me");
}

/// A reminder outbox entry in the shape `watch` writes, to `to`, with
/// `attachment` attached (path and its true SHA-256).
fn planted_entry(id: &str, incident: &str, to: &str, attachment: Option<&Path>) -> String {
    let mut text = format!(
        "format = 2\nstate = \"pending\"\nqueued_at = \"2026-01-01T00:00:00Z\"\n\
         next_attempt_at = \"2026-01-01T00:00:00Z\"\nattempts = []\n\n[notice]\n\
         id = \"{id}\"\nincident_id = \"{incident}\"\nkind = \"update\"\n\
         from = \"sam.patel@provider.example\"\nto = [\"{to}\"]\ncc = []\n\
         subject = \"keys\"\nmessage_id = \"<x@breachdesk.provider.example>\"\n\
         created_at = \"2026-01-01T00:00:00Z\"\nbody = \"here\"\n"
    );
    if let Some(path) = attachment {
        let bytes = std::fs::read(path).expect("attachment");
        use sha2::Digest;
        text.push_str(&format!(
            "\n[[notice.attachments]]\npath = \"{}\"\nfile_name = \"id_rsa\"\nsize = {}\n\
             sha256 = \"{}\"\ncontent_type = \"application/octet-stream\"\n",
            path.display(),
            bytes.len(),
            hex::encode(sha2::Sha256::digest(&bytes))
        ));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_reminder_email_is_refused_and_never_sent() {
    let server = TestServer::start(Options::default()).await;
    let smtp = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\ntimeout_secs = 5\n",
        server.port()
    );
    let env = std::sync::Arc::new(Env::new(
        "0",
        "email_to = \"On-call <oncall@provider.example>\"\n",
        &smtp,
    ));
    let id = env.new_incident("Portal");
    let key = env.root.join("id_rsa");
    std::fs::write(&key, "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n").expect("key");
    let outbox = env.data.join("reminders").join("outbox");
    std::fs::create_dir_all(&outbox).expect("outbox");
    let cases = [
        ("R-planted1", "exfil@evil.example", None),
        ("R-planted2", "oncall@provider.example", Some(key.as_path())),
    ];
    for (name, to, attachment) in &cases {
        let path = outbox.join(format!("{name}.toml"));
        std::fs::write(&path, planted_entry(name, &id, to, *attachment)).expect("plant");
        // As on a machine whose umask makes git write 0600 files: only the
        // entry's content can give it away.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    // The real reminder's email id can be worked out from the record (its
    // key is incident/clock/due/threshold): planted as already sent, to
    // silence it.
    let record = std::fs::read_to_string(env.data.join("incidents").join(format!("{id}.toml")))
        .expect("record");
    let due = record
        .lines()
        .find_map(|l| l.strip_prefix("due_at = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("8.1 due");
    use sha2::Digest;
    let silenced = format!(
        "R-{}",
        &hex::encode(sha2::Sha256::digest(
            format!("{id}/8.1/{due}/15m").as_bytes()
        ))[..40]
    );
    std::fs::create_dir_all(outbox.join("sent")).expect("sent");
    let planted_sent = outbox.join("sent").join(format!("{silenced}.toml"));
    std::fs::write(
        &planted_sent,
        planted_entry(&silenced, &id, "oncall@provider.example", None)
            .replace("state = \"pending\"", "state = \"sent\""),
    )
    .expect("plant sent");
    let out = tokio::task::spawn_blocking({
        let env = env.clone();
        move || env.run(&["watch", "--once"])
    })
    .await
    .expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let messages = server.messages();
    // The reminder itself went, to the on-call address only; nothing else.
    assert_eq!(messages.len(), 1, "{stderr}");
    assert_eq!(messages[0].rcpt_to, ["oncall@provider.example"]);
    assert!(!String::from_utf8_lossy(&messages[0].data).contains("secret"));
    for (name, _, _) in &cases {
        let line = stderr
            .lines()
            .find(|l| l.contains(&format!("{name}.toml")))
            .unwrap_or_else(|| panic!("no line for {name}: {stderr}"));
        assert!(line.contains("refused, not sent"), "{line}");
        assert!(
            outbox
                .join("refused")
                .join(format!("{name}.toml"))
                .is_file(),
            "{name} moved aside"
        );
        assert!(!outbox.join(format!("{name}.toml")).exists());
    }
    assert!(stderr.contains("exfil@evil.example is not an address config.toml names"));
    assert!(stderr.contains("carries attachments"), "{stderr}");
    assert!(
        stderr.contains(&format!("{silenced}.toml: refused, not sent: mode 644")),
        "{stderr}"
    );
    // Moved aside; the sent/ copy there now is the one this send wrote.
    assert!(
        outbox
            .join("sent")
            .join("refused")
            .join(format!("{silenced}.toml"))
            .is_file()
    );
    assert_eq!(
        std::fs::metadata(&planted_sent)
            .expect("sent")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    // Said once: the next run has nothing to refuse and sends nothing.
    let again = env.run(&["watch", "--once"]);
    assert!(!String::from_utf8_lossy(&again.stderr).contains("refused"));
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_reminder_email_is_sent_again_with_the_same_message_id() {
    // The first message arrives but the connection drops before the reply:
    // the server may have it (unknown).
    let server = TestServer::start(Options {
        after_data: smtp_server::AfterData::Drop,
        misbehave_times: Some(1),
        ..Options::default()
    })
    .await;
    let smtp = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\ntimeout_secs = 5\n",
        server.port()
    );
    let env = std::sync::Arc::new(Env::new(
        "0",
        "email_to = \"On-call <oncall@provider.example>\"\n",
        &smtp,
    ));
    env.new_incident("Portal");
    let watch = |env: std::sync::Arc<Env>| {
        tokio::task::spawn_blocking(move || env.run(&["watch", "--once"]))
    };
    let out = watch(env.clone()).await.expect("join");
    assert!(out.status.success());
    assert_eq!(server.messages().len(), 1);
    let outbox = env.data.join("reminders").join("outbox");
    let entry = std::fs::read_dir(&outbox)
        .expect("outbox")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "toml"))
        .expect("the email waits");
    let text = std::fs::read_to_string(&entry).expect("entry");
    let mut value: toml::Value = toml::from_str(&text).expect("toml");
    assert_eq!(value["state"].as_str(), Some("unknown"), "{text}");
    // Its backoff is over (as if 30 s had passed).
    value["next_attempt_at"] = toml::Value::String("2000-01-01T00:00:00Z".into());
    std::fs::write(&entry, toml::to_string(&value).expect("toml")).expect("write");
    let out = watch(env.clone()).await.expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let messages = server.messages();
    assert_eq!(messages.len(), 2, "sent again");
    let id = |m: &smtp_server::Received| {
        mail_parser::MessageParser::default()
            .parse(&m.data)
            .and_then(|p| p.message_id().map(str::to_string))
            .expect("Message-ID")
    };
    assert_eq!(id(&messages[0]), id(&messages[1]));
    assert!(
        outbox
            .join("sent")
            .join(entry.file_name().expect("name"))
            .is_file()
    );
    // One reminder, however many attempts its email took.
    assert_eq!(env.runs().values().sum::<usize>(), 1);
}
