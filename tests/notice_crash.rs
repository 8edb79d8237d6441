//! kill -9 around the send: real `breachdesk update ... --yes` processes
//! against a real SMTP server on loopback (STARTTLS), killed with SIGKILL
//! right after the server received the message, a few milliseconds after,
//! or at a random moment. Then one `breachdesk outbox retry` runs to the end.
//!
//! What must hold: every confirmed notice (one that reached the outbox) is
//! delivered at least once, all its copies carry the same Message-ID, and it
//! is recorded on the incident exactly once (one `notices` entry in state
//! `sent`, one timeline entry, one `notice.sent` audit entry). Duplicates
//! are allowed (SMTP cannot promise otherwise) and counted.
//!
//! Runs: `BREACHDESK_CRASH_RUNS` (default 45). The numbers are printed.

#[path = "support/smtp_env.rs"]
mod smtp_env;
#[path = "support/smtp_server.rs"]
mod smtp_server;

use smtp_server::{Options, TestServer, pki};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Env {
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
}

impl Env {
    fn new(port: u16, ca_pem: &str) -> Env {
        let env = smtp_env::smtp_env(
            port,
            ca_pem,
            r#"[responder]
name = "Sam Patel"
email = "sam.patel@provider.example"
[contacts]
other_party = "Client Security Representative <csr@client.example>"
"#,
            "",
        );
        Env {
            data: env.data,
            config: env.config,
            _dir: env.dir,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_breachdesk"));
        c.args(args)
            .env("BREACHDESK_DATA_DIR", &self.data)
            .env("BREACHDESK_CONFIG", &self.config)
            .env_remove("BREACHDESK_SMTP_PASSWORD")
            .stdin(Stdio::null());
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.command(args).output().expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }
}

fn message_id(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("Message-ID")
                .then(|| v.trim().to_string())
        })
        .expect("every message has a Message-ID")
}

fn wait_until(deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

#[test]
fn kill_9_around_the_send_delivers_at_least_once_and_records_exactly_once() {
    use std::os::unix::process::ExitStatusExt;
    let runs: usize = std::env::var("BREACHDESK_CRASH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(45);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pki = pki();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
    let mut rx = rx;
    let server = rt.block_on(TestServer::start(Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        on_data: Some(tx),
        ..Options::default()
    }));
    let env = Env::new(server.port(), &pki.ca_pem);
    let id = env
        .ok(&["new", "--title", "crash test", "--identified-at", "-10m"])
        .trim()
        .to_string();

    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let (mut kills, mut kills_after_arrival, mut finished) = (0usize, 0usize, 0usize);
    for i in 0..runs {
        while rx.try_recv().is_ok() {}
        let text = format!("crash test {i}");
        let mut child = env
            .command(&["update", &id, "--message", &text, "--yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut arrived = false;
        let mut exited = false;
        match i % 3 {
            // Right after the server has the whole message (before or as it
            // replies), or a few milliseconds later (around the acceptance
            // being written to the outbox and the incident).
            0 | 1 => {
                wait_until(deadline, || {
                    arrived = rx.try_recv().is_ok();
                    exited = !arrived && child.try_wait().ok().flatten().is_some();
                    arrived || exited
                });
                if arrived && i % 3 == 1 {
                    std::thread::sleep(Duration::from_micros(rng.u64(0..30_000)));
                }
            }
            // Anywhere: composing, queueing, connecting, sending, recording.
            _ => std::thread::sleep(Duration::from_micros(rng.u64(0..120_000))),
        }
        let running = child.try_wait().expect("try_wait").is_none();
        if running {
            child.kill().expect("kill -9");
        }
        let status = child.wait().expect("wait");
        if running && status.signal() == Some(9) {
            kills += 1;
            if arrived {
                kills_after_arrival += 1;
            }
        } else {
            finished += 1;
        }
    }

    // One uninterrupted round delivers and records whatever is left.
    let out = env.command(&["outbox", "retry"]).output().expect("retry");
    assert!(
        out.status.success(),
        "outbox retry: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Confirmed = reached the outbox (queued): every one is sent now.
    let list: serde_json::Value =
        serde_json::from_str(&env.ok(&["outbox", "list", "--format", "json"])).expect("json");
    let confirmed: Vec<(String, String)> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|n| {
            assert_eq!(n["state"].as_str(), Some("sent"), "{n}");
            (
                n["id"].as_str().expect("id").to_string(),
                n["message_id"].as_str().expect("message_id").to_string(),
            )
        })
        .collect();

    // Delivered at least once, all copies with the same Message-ID.
    let mut copies: HashMap<String, usize> = HashMap::new();
    for m in server.messages() {
        *copies.entry(message_id(&m.data)).or_default() += 1;
    }
    for (_, mid) in &confirmed {
        assert!(
            copies.get(mid).is_some_and(|n| *n >= 1),
            "{mid} never delivered"
        );
    }
    assert_eq!(
        copies.len(),
        confirmed.len(),
        "nothing delivered that was not confirmed"
    );
    let delivered = copies.values().sum::<usize>();
    let duplicates = delivered - copies.len();

    // Recorded exactly once.
    let record: toml::Value = toml::from_str(
        &std::fs::read_to_string(env.data.join("incidents").join(format!("{id}.toml")))
            .expect("record"),
    )
    .expect("record parses");
    let notices = record
        .get("email_notices")
        .and_then(|n| n.as_array())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        notices.len(),
        confirmed.len(),
        "one entry per confirmed notice"
    );
    let timeline = record["timeline"].as_array().expect("timeline");
    let audit = env.ok(&["audit", "list", &id]);
    let (mut recorded, mut extra_entries) = (0, 0);
    for (nid, mid) in &confirmed {
        let entries: Vec<_> = notices
            .iter()
            .filter(|n| n["message_id"].as_str() == Some(mid.as_str()))
            .collect();
        assert_eq!(entries.len(), 1, "{nid}");
        assert_eq!(entries[0]["state"].as_str(), Some("sent"), "{nid}");
        let mentions = timeline
            .iter()
            .filter(|e| {
                e["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Update sent") && t.contains(mid.as_str()))
            })
            .count();
        assert_eq!(mentions, 1, "{nid}: timeline");
        let sent_entries = audit
            .lines()
            .filter(|l| l.contains("notice.sent") && l.contains(mid.as_str()))
            .count();
        // The entry is logged before the record is saved, so a recorded
        // notice always has one. A kill between the two can leave an entry
        // for a save that never happened; recording it again then logs a
        // second one (the first is "logged but never saved").
        assert!(sent_entries >= 1, "{nid}: no audit entry\n{audit}");
        extra_entries += sent_entries - 1;
        recorded += 1;
    }
    env.ok(&["audit", "verify"]);
    eprintln!(
        "notice crash test: {runs} runs, {kills} kills landed ({kills_after_arrival} after the server had the message), \
         {finished} finished before the kill; {} confirmed, {delivered} delivered ({duplicates} duplicates, same Message-ID), \
         {recorded} recorded exactly once on the incident; every one with its notice.sent audit entry ({extra_entries} extra entries logged by a killed process before a save that never happened)",
        confirmed.len()
    );
    assert!(kills >= runs / 2, "most kills must land: {kills} of {runs}");
    assert!(
        kills_after_arrival > 0,
        "some kills must land after the server had the message"
    );
    assert_eq!(recorded, confirmed.len());
}
