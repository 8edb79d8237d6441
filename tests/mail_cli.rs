//! The email commands end to end: the real binary, a real SMTP server on a
//! loopback port (STARTTLS with a test CA, AUTH), and the incident record and
//! audit log read back from disk.

#[path = "support/run_async.rs"]
mod run_async;
#[path = "support/smtp_env.rs"]
mod smtp_env;
#[path = "support/smtp_server.rs"]
mod smtp_server;

use smtp_server::{Options, TestServer, pki};
use std::path::{Path, PathBuf};
use std::process::Output;

const USER: &str = "sam.patel";
const PASS: &str = "correct horse battery staple";

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
    config: PathBuf,
}

impl Env {
    fn new(port: u16, ca_pem: &str) -> Env {
        Env::with_password_command(port, ca_pem, &format!("printf '%s' '{PASS}'"))
    }

    fn with_password_command(port: u16, ca_pem: &str, password_command: &str) -> Env {
        let env = smtp_env::smtp_env(
            port,
            ca_pem,
            r#"[responder]
name = "Sam Patel"
email = "sam.patel@provider.example"
role = "service-provider"
[contacts]
other_party = "Client Security Representative <csr@client.example>"
govcertuk = "GovCertUK <incidents@ncsc.example>"
"#,
            &format!(
                r#"username = "{USER}"
password_command = {password_command:?}
"#
            ),
        );
        Env {
            data: env.data,
            config: env.config,
            root: env.root,
            _dir: env.dir,
        }
    }

    async fn run(&self, args: &[&str]) -> Output {
        run_async::run(&self.data, &self.config, args).await
    }

    async fn ok(&self, args: &[&str]) -> String {
        run_async::ok(&self.data, &self.config, args).await
    }

    fn record(&self, id: &str) -> toml::Value {
        let text = std::fs::read_to_string(self.data.join("incidents").join(format!("{id}.toml")))
            .expect("record");
        toml::from_str(&text).expect("parses")
    }
}

fn server_options(tls: std::sync::Arc<tokio_rustls::rustls::ServerConfig>) -> Options {
    Options {
        tls: Some(tls),
        starttls: true,
        auth: Some((USER.into(), PASS.into())),
        ..Options::default()
    }
}

fn header<'a>(data: &'a str, name: &str) -> Vec<&'a str> {
    data.split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .lines()
        .filter(|l| {
            l.split_once(':')
                .is_some_and(|(k, _)| k.eq_ignore_ascii_case(name))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_supply_and_report_are_sent_and_recorded() {
    let pki = pki();
    let server = TestServer::start(server_options(pki.server_config.clone())).await;
    let env = Env::new(server.port(), &pki.ca_pem);

    // A title that tries to add a header.
    let id = env
        .ok(&[
            "new",
            "--title",
            "VPN breach\r\nBcc: evil@attacker.example",
            "--identified-at",
            "-10m",
        ])
        .await
        .trim()
        .to_string();

    // Without --yes and no terminal to confirm on, nothing is queued.
    let out = env.run(&["notify", &id]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert!(server.messages().is_empty());

    let said = env
        .ok(&[
            "notify",
            &id,
            "--yes",
            "--first-actions",
            "Account disabled",
        ])
        .await;
    assert!(
        said.contains("Subject:"),
        "the exact message is shown: {said}"
    );
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert!(m.tls, "sent over TLS");
    assert_eq!(m.auth_user.as_deref(), Some(USER));
    assert_eq!(m.rcpt_to, ["csr@client.example"], "no injected recipient");
    let data = String::from_utf8_lossy(&m.data).to_string();
    assert!(header(&data, "Bcc").is_empty(), "{data}");
    assert_eq!(header(&data, "Message-ID").len(), 1);
    assert!(data.contains("Account disabled"));

    let record = env.record(&id);
    let n = &record["notification"];
    assert_eq!(n["channel"].as_str(), Some("email"));
    assert_eq!(n["met_deadline"].as_bool(), Some(true));
    let reference = n["reference"].as_str().expect("Message-ID recorded");
    assert!(
        header(&data, "Message-ID")[0].contains(reference),
        "{reference}"
    );
    assert!(
        n["server_reply"]
            .as_str()
            .is_some_and(|r| r.starts_with("250"))
    );
    let steps = record["steps"].as_array().expect("steps");
    let notify_step = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("8.1"))
        .expect("8.1");
    assert_eq!(notify_step["status"].as_str(), Some("done"));

    // 8.2.1 (e): a GovCertUK request supplied with a file attached.
    env.ok(&[
        "request",
        "add",
        &id,
        "--from",
        "govcertuk",
        "--what",
        "VPN logs",
    ])
    .await;
    let logs = env.root.join("vpn.log");
    std::fs::write(&logs, b"2026-11-28 03:12 login admin from 203.0.113.7\n").expect("logs");
    env.ok(&[
        "supply",
        &id,
        "R1",
        "--attach",
        logs.to_str().expect("path"),
        "--yes",
    ])
    .await;
    let messages = server.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].rcpt_to, ["incidents@ncsc.example"]);
    let record = env.record(&id);
    let r1 = &record["data_requests"][0];
    assert_eq!(r1["status"].as_str(), Some("supplied"));
    assert_eq!(r1["no_charge"].as_bool(), Some(true));
    assert_eq!(r1["attachments"][0]["size"].as_integer(), Some(46));

    // 8.2.1 (f): the full report, with the incident as Markdown attached.
    let said = env.ok(&["report", &id, "--yes"]).await;
    assert!(said.contains("Still missing"), "{said}");
    let messages = server.messages();
    assert_eq!(messages.len(), 3);
    let report = String::from_utf8_lossy(&messages[2].data).to_string();
    assert!(report.contains(".md"), "markdown attached");
    let record = env.record(&id);
    assert!(record["report"]["sent_at"].as_str().is_some());
    // Sending follows the same dependency rule as marking the step done by
    // hand: 8.2.1 (f) waits for 8.2.1 (d), still open, so it stays open.
    let step_f = record["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"].as_str() == Some("8.2.1f"))
        .expect("8.2.1f");
    assert_ne!(step_f["status"].as_str(), Some("done"), "{step_f:?}");
    let out = env.run(&["step", &id, "8.2.1f", "--status", "done"]).await;
    let refused = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(refused.contains("waits for 8.2.1d"), "{refused}");

    let audit = env.ok(&["audit", "list", &id]).await;
    assert_eq!(audit.matches("notice.sent").count(), 3, "{audit}");
    env.ok(&["audit", "verify"]).await;
    // No secret on disk.
    for path in walk(&env.data) {
        let bytes = std::fs::read(&path).expect("read");
        assert!(
            !String::from_utf8_lossy(&bytes).contains(PASS),
            "password written to {}",
            path.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_waits_in_the_outbox_while_the_server_is_down_and_goes_once() {
    let pki = pki();
    // A port held (bound, not listening) for the whole test: connecting is
    // refused until the server starts on the same socket.
    let reserved = smtp_server::reserve_port();
    let port = reserved.port();
    let env = Env::new(port, &pki.ca_pem);
    let id = env
        .ok(&["new", "--title", "outbox test"])
        .await
        .trim()
        .to_string();

    let out = env
        .run(&["update", &id, "--message", "Containment done", "--yes"])
        .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("could not connect"), "{stderr}");
    assert!(stderr.contains("kept in the outbox"), "{stderr}");
    let list = env.ok(&["outbox", "list"]).await;
    assert!(list.starts_with("PENDING"), "{list}");
    assert!(list.contains("last error: could not connect"), "{list}");

    let server = reserved.start(server_options(pki.server_config.clone()));
    env.ok(&["outbox", "retry"]).await;
    assert_eq!(server.messages().len(), 1);
    let list = env.ok(&["outbox", "list"]).await;
    assert!(list.starts_with("SENT"), "{list}");
    // Retrying again sends nothing more.
    env.ok(&["outbox", "retry"]).await;
    assert_eq!(server.messages().len(), 1);
    let record = env.record(&id);
    let timeline = record["timeline"].as_array().expect("timeline");
    assert!(timeline.iter().any(|e| {
        e["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Update sent by email"))
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_password_command_shows_only_its_exit_status() {
    let pki = pki();
    let server = TestServer::start(server_options(pki.server_config.clone())).await;
    // A secret helper that prints (part of) the secret on both streams and fails.
    let env = Env::with_password_command(
        server.port(),
        &pki.ca_pem,
        "echo leaked-secret-out; echo vault locked: leaked-secret-err >&2; exit 7",
    );
    let id = env
        .ok(&["new", "--title", "password helper"])
        .await
        .trim()
        .to_string();
    let out = env
        .run(&["update", &id, "--message", "Containment done", "--yes"])
        .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stderr.contains("smtp password: password_command failed (exit 7); its output is not shown"),
        "{stderr}"
    );
    assert!(stderr.contains("kept in the outbox"), "{stderr}");
    assert_eq!(
        server.connections(),
        0,
        "nothing connects without a password"
    );
    let list = env.ok(&["outbox", "list"]).await;
    assert!(list.contains("password_command failed (exit 7)"), "{list}");
    for text in [stderr.to_string(), stdout.to_string(), list] {
        assert!(!text.contains("leaked-secret"), "{text}");
    }
    for path in walk(&env.data) {
        let bytes = std::fs::read(&path).expect("read");
        assert!(
            !String::from_utf8_lossy(&bytes).contains("leaked-secret"),
            "helper output written to {}",
            path.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acceptance_lost_by_a_crash_is_recorded_once_by_outbox_retry() {
    let pki = pki();
    let server = TestServer::start(server_options(pki.server_config.clone())).await;
    let env = Env::new(server.port(), &pki.ca_pem);
    let id = env
        .ok(&["new", "--title", "reconcile"])
        .await
        .trim()
        .to_string();
    let path = env.data.join("incidents").join(format!("{id}.toml"));
    let before = std::fs::read(&path).expect("record");

    env.ok(&["notify", &id, "--yes"]).await;
    assert_eq!(server.messages().len(), 1);
    let reference = env.record(&id)["notification"]["reference"]
        .as_str()
        .expect("recorded")
        .to_string();

    // As if breachdesk died after the server accepted but before the record was saved.
    std::fs::write(&path, &before).expect("roll back");
    assert!(env.record(&id)["notification"].get("made_at").is_none());

    let said = env.ok(&["outbox", "retry"]).await;
    assert!(said.contains("recorded notification"), "{said}");
    let record = env.record(&id);
    assert_eq!(
        record["notification"]["reference"].as_str(),
        Some(reference.as_str())
    );
    assert_eq!(server.messages().len(), 1, "nothing sent again");

    // Idempotent: a second reconcile records nothing more.
    env.ok(&["outbox", "retry"]).await;
    let timeline = env.record(&id)["timeline"]
        .as_array()
        .expect("timeline")
        .clone();
    let mentions = timeline
        .iter()
        .filter(|e| e["text"].as_str().is_some_and(|t| t.contains(&reference)))
        .count();
    assert_eq!(mentions, 1);
}
