//! The email commands end to end with the real binary and a real SMTP
//! server on loopback: no accidental second 8.1 notification, `--again`,
//! `--cc`, `outbox list --format json` with honest states, `outbox retry ID`
//! on purpose and `outbox cancel ID --reason`.

#[path = "support/run_async.rs"]
mod run_async;
#[path = "support/smtp_env.rs"]
mod smtp_env;
#[path = "support/smtp_server.rs"]
mod smtp_server;

use smtp_server::{Options, TestServer, pki};
use std::path::PathBuf;
use std::process::Output;

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
reply_to = "Provider SOC <soc@provider.example>"
[contacts]
other_party = "Client Security Representative <csr@client.example>"
cc = ["GovCertUK <incidents@ncsc.example>"]
"#,
            "",
        );
        Env {
            data: env.data,
            config: env.config,
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
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_8_1_notification_needs_again_with_a_reason() {
    let pki = pki();
    let server = TestServer::start(server_options(pki.server_config.clone())).await;
    let env = Env::new(server.port(), &pki.ca_pem);
    let id = env
        .ok(&["new", "--title", "VPN breach", "--identified-at", "-10m"])
        .await
        .trim()
        .to_string();
    let said = env
        .ok(&[
            "notify",
            &id,
            "--yes",
            "--cc",
            "Legal <legal@provider.example>",
        ])
        .await;
    assert!(
        said.contains("Reply-To:    Provider SOC <soc@provider.example>"),
        "{said}"
    );
    assert_eq!(server.messages().len(), 1);
    assert_eq!(
        server.messages()[0].rcpt_to,
        [
            "csr@client.example",
            "incidents@ncsc.example",
            "legal@provider.example"
        ]
    );

    // The same command again: refused, nothing sent.
    let out = env.run(&["notify", &id, "--yes"]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("already records its 8.1 notification"),
        "{stderr}"
    );
    assert!(stderr.contains("--again"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(server.messages().len(), 1);

    // On purpose, with a reason: sent, threaded to the first, and recorded.
    let said = env
        .ok(&[
            "notify",
            &id,
            "--yes",
            "--again",
            "the CSR's mailbox was full",
        ])
        .await;
    assert!(said.contains("AGAIN:"), "{said}");
    let messages = server.messages();
    assert_eq!(messages.len(), 2);
    let record = env.record(&id);
    let notices = record["email_notices"].as_array().expect("notices");
    assert_eq!(notices.len(), 2);
    let first = notices[0]["message_id"].as_str().expect("id");
    let second = String::from_utf8_lossy(&messages[1].data).to_string();
    assert!(
        second.contains(&format!("In-Reply-To: {first}")),
        "{second}"
    );
    assert_eq!(
        notices[1]["again_reason"].as_str(),
        Some("the CSR's mailbox was full")
    );
    assert_eq!(
        record["notification"]["reference"].as_str(),
        Some(first),
        "the first stays the 8.1 notification"
    );

    // A notification recorded by phone also counts.
    let other = env
        .ok(&["new", "--title", "Second", "--identified-at", "-10m"])
        .await
        .trim()
        .to_string();
    env.ok(&[
        "notify",
        &other,
        "--channel",
        "phone",
        "--to",
        "CSR (Bob)",
        "--at",
        "-5m",
    ])
    .await;
    let out = env.run(&["notify", &other, "--yes"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("made by phone"));
    assert_eq!(server.messages().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_notices_are_listed_failed_retried_on_purpose_or_cancelled() {
    let pki = pki();
    let server = TestServer::start(Options {
        data_reply: Some("550 5.7.1 Relaying denied".into()),
        misbehave_times: Some(2),
        ..server_options(pki.server_config.clone())
    })
    .await;
    let env = Env::new(server.port(), &pki.ca_pem);
    let id = env
        .ok(&["new", "--title", "VPN breach", "--identified-at", "-10m"])
        .await
        .trim()
        .to_string();
    for text in ["first update", "second update"] {
        let out = env.run(&["update", &id, "--message", text, "--yes"]).await;
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("REFUSED for good"), "{stderr}");
        assert!(stderr.contains("550 5.7.1 Relaying denied"), "{stderr}");
    }
    let list: serde_json::Value =
        serde_json::from_str(&env.ok(&["outbox", "list", "--format", "json"]).await).expect("json");
    let rows = list.as_array().expect("array");
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(row["state"], "failed");
        assert_eq!(row["incident"], id.as_str());
        assert_eq!(row["kind"], "update");
        assert_eq!(row["attempts"], 1);
        assert!(
            row["next_attempt_at"].is_null(),
            "never retried automatically"
        );
        assert!(
            row["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("550 5.7.1"))
        );
    }
    let table = env.ok(&["outbox", "list"]).await;
    assert!(table.starts_with("FAILED"), "{table}");
    assert!(table.contains("not retried automatically"), "{table}");

    // `outbox retry` (all) leaves failed notices alone.
    let said = env.ok(&["outbox", "retry"]).await;
    assert!(said.contains("not retried"), "{said}");
    assert_eq!(server.record.lock().expect("record").arrived, 2);

    // One on purpose: the server takes it now.
    let first = rows[0]["id"].as_str().expect("id").to_string();
    let second = rows[1]["id"].as_str().expect("id").to_string();
    env.ok(&["outbox", "retry", &first]).await;
    assert_eq!(server.messages().len(), 1);

    // The other is dropped, with the reason on the incident and in the log.
    let out = env.run(&["outbox", "cancel", &second]).await;
    assert!(!out.status.success(), "--reason is required");
    env.ok(&[
        "outbox",
        "cancel",
        &second,
        "--reason",
        "sent by hand from webmail",
    ])
    .await;
    let list: serde_json::Value =
        serde_json::from_str(&env.ok(&["outbox", "list", "--format", "json"]).await).expect("json");
    let states: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states, ["sent", "cancelled"]);
    let record = env.record(&id);
    let notices = record["email_notices"].as_array().expect("notices");
    assert_eq!(notices[1]["state"].as_str(), Some("cancelled"));
    assert_eq!(
        notices[1]["cancel_reason"].as_str(),
        Some("sent by hand from webmail")
    );
    let audit = env.ok(&["audit", "list", &id]).await;
    assert!(
        audit
            .lines()
            .any(|l| l.contains("notice.cancelled") && l.contains("sent by hand from webmail")),
        "{audit}"
    );
    // Cancelled cannot be retried.
    let out = env.run(&["outbox", "retry", &second]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("was cancelled"));
    env.ok(&["audit", "verify"]).await;
}
