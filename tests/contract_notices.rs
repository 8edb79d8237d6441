//! Issue 12 items 2, 4 and 5 end to end with the real binary and a real
//! SMTP server on loopback: the notice register (`notice add`, `notice
//! list`, `show --format json`), the incident facts a notice states, the
//! `[contract] marking` and `[responder] phone` in every notice, the 8.1
//! wording, the data supply to GovCertUK, and the full-details report with
//! its printable HTML attachment.

#[path = "support/run_async.rs"]
mod run_async;
#[path = "support/smtp_env.rs"]
mod smtp_env;
#[path = "support/smtp_server.rs"]
mod smtp_server;

use mail_parser::{MessageParser, MimeHeaders};
use smtp_server::{Options, TestServer, pki};
use std::path::PathBuf;

const MARKING: &str = "OFFICIAL-SENSITIVE";
const PHONE: &str = "+44 20 7946 0000";

struct Env {
    dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
}

impl Env {
    fn new(port: u16, ca_pem: &str) -> Env {
        let env = smtp_env::smtp_env(
            port,
            ca_pem,
            &format!(
                r#"[responder]
name = "Sam Patel"
email = "sam.patel@provider.example"
phone = "{PHONE}"
[contract]
name = "Managed Hosting Services"
reference = "CCS-0042"
marking = "{MARKING}"
[contacts]
other_party = "Client Security Representative <csr@client.example>"
govcertuk = "GovCertUK <incidents@ncsc.example>"
"#
            ),
            "",
        );
        Env {
            data: env.data,
            config: env.config,
            dir: env.dir,
        }
    }

    async fn ok(&self, args: &[&str]) -> String {
        run_async::ok(&self.data, &self.config, args).await
    }

    async fn fails(&self, args: &[&str]) -> String {
        run_async::fails(&self.data, &self.config, args).await
    }

    async fn show(&self, id: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["show", id, "--format", "json"]).await).expect("json")
    }

    async fn open(&self, args: &[&str]) -> String {
        let mut all = vec!["new", "--identified-at", "-10m"];
        all.extend_from_slice(args);
        self.ok(&all).await.trim().to_string()
    }
}

async fn start() -> (TestServer, Env) {
    let pki = pki();
    let server = TestServer::start(Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        ..Options::default()
    })
    .await;
    let env = Env::new(server.port(), &pki.ca_pem);
    (server, env)
}

fn text_body(raw: &[u8]) -> (String, String) {
    let m = MessageParser::default().parse(raw).expect("parse");
    (
        m.subject().expect("subject").to_string(),
        m.body_text(0).expect("body").replace("\r\n", "\n"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_lists_every_notice_sent_or_received() {
    let (server, env) = start().await;
    let id = env.open(&["--title", "VPN breach"]).await;
    // A portal report to the ICO and a letter received from the police,
    // recorded by hand; then our 8.1 notification by email.
    env.ok(&[
        "notice",
        "add",
        &id,
        "--direction",
        "sent",
        "--party",
        "ico",
        "--channel",
        "portal",
        "--at",
        "-5m",
        "--reference",
        "ICO-123",
        "--summary",
        "initial report under Art. 33(4)",
    ])
    .await;
    env.ok(&[
        "notice",
        "add",
        &id,
        "--direction",
        "received",
        "--party",
        "police",
        "--channel",
        "letter",
        "--at",
        "-1m",
        "--with",
        "Action Fraud",
        "--reference",
        "NFRC-9",
    ])
    .await;
    env.ok(&["notify", &id, "--yes"]).await;
    assert_eq!(server.messages().len(), 1);
    let record = env.show(&id).await;
    let register = record["notices"].as_array().expect("register");
    assert_eq!(register.len(), 3, "{register:#?}");
    let parties: Vec<&str> = register
        .iter()
        .map(|e| e["party"].as_str().expect("party"))
        .collect();
    assert_eq!(parties, ["ico", "police", "client"], "oldest first");
    assert_eq!(register[2]["direction"], "sent");
    assert_eq!(register[2]["channel"], "email");
    assert!(
        register[2]["reference"]
            .as_str()
            .expect("message-id")
            .starts_with('<'),
        "the Message-ID: {register:#?}"
    );
    assert_eq!(register[2]["delivery"], "sent");
    assert_eq!(register[0]["channel"], "portal");
    assert_eq!(register[0]["reference"], "ICO-123");
    assert_eq!(register[1]["direction"], "received");
    assert_eq!(register[1]["channel"], "letter");
    for e in register {
        assert!(
            e["recorded_by"].as_str().is_some_and(|s| !s.is_empty()),
            "{e}"
        );
    }
    // The record keeps the hand-recorded ones; the audit log has them.
    assert_eq!(record["other_notices"].as_array().expect("other").len(), 2);
    let audit = env.ok(&["audit", "list", &id]).await;
    assert!(audit.contains("notice.recorded"), "{audit}");
    let listed = env.ok(&["notice", "list", &id]).await;
    assert!(listed.contains("sent to ico by portal"), "{listed}");
    assert!(
        listed.contains("received from police by letter"),
        "{listed}"
    );
    // Refusals name the flag.
    let err = env
        .fails(&[
            "notice",
            "add",
            &id,
            "--direction",
            "sent",
            "--party",
            "press",
            "--channel",
            "phone",
        ])
        .await;
    assert!(err.contains("--party") && err.contains("'press'"), "{err}");
    let err = env
        .fails(&[
            "notice",
            "add",
            &id,
            "--direction",
            "sent",
            "--party",
            "ico",
            "--channel",
            "phone",
            "--at",
            "+1h",
        ])
        .await;
    assert!(err.contains("--at"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_records_the_facts_a_notice_states() {
    let (_server, env) = start().await;
    let id = env.open(&["--title", "Laptop lost"]).await;
    env.ok(&[
        "edit",
        &id,
        "--started-at",
        "-40m",
        "--detected-how",
        "user reported it",
        "--service-impact",
        "none",
        "--confidentiality",
        "payroll data on the disk",
        "--containment",
        "remote wipe sent",
        "--personal-data",
        "true",
        "--data-subjects",
        "120",
        "--data-categories",
        "names, salaries",
        "--next-update",
        "+2h",
        "--residual-risk",
        "low",
        "--lessons-learned",
        "encrypt the spares",
    ])
    .await;
    let record = env.show(&id).await;
    let d = &record["details"];
    assert_eq!(d["data_subjects"], 120);
    assert_eq!(d["containment"], "remote wipe sent");
    assert_eq!(d["lessons_learned"], "encrypt the spares");
    assert!(d["started_at"].as_str().is_some() && d["next_update_due"].as_str().is_some());
    // Refused: a start after identification, a count that is not a number.
    let err = env.fails(&["edit", &id, "--started-at", "-1m"]).await;
    assert!(err.contains("after it was identified"), "{err}");
    let err = env.fails(&["edit", &id, "--data-subjects", "many"]).await;
    assert!(err.contains("--data-subjects"), "{err}");
    // Cleared with "none".
    env.ok(&["edit", &id, "--data-subjects", "none"]).await;
    assert!(
        env.show(&id).await["details"]
            .get("data_subjects")
            .is_none()
    );
    // Shown, with the marking, by `show`.
    let shown = env.ok(&["show", &id]).await;
    assert!(shown.starts_with(MARKING), "{shown}");
    assert!(shown.trim_end().ends_with(MARKING), "{shown}");
    assert!(shown.contains("Containment: remote wipe sent"), "{shown}");
    // And by the exports.
    let md = env.ok(&["export", &id, "--format", "markdown"]).await;
    assert!(md.starts_with(&format!("**{MARKING}**")), "{md}");
    assert!(md.trim_end().ends_with(&format!("**{MARKING}**")), "{md}");
    assert!(md.contains("| Containment | remote wipe sent |"), "{md}");
    let text = env.ok(&["export", &id, "--format", "report-text"]).await;
    assert!(text.starts_with(MARKING), "{text}");
    assert!(text.trim_end().ends_with(MARKING), "{text}");
    assert!(text.contains("Lessons learned"), "{text}");
    assert!(text.contains("encrypt the spares"), "{text}");
    // The JSON export carries it as a field; each calendar event leads with it.
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["export", &id, "--format", "json"]).await).expect("json");
    assert_eq!(json["marking"].as_str(), Some(MARKING));
    let ics = env.ok(&["export", &id, "--format", "ics"]).await;
    assert!(
        ics.contains("SUMMARY:"),
        "an open deadline to export: {ics}"
    );
    for summary in ics.lines().filter(|l| l.starts_with("SUMMARY:")) {
        assert!(
            summary.starts_with(&format!("SUMMARY:{MARKING} ")),
            "{summary}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_8_1_notification_carries_the_marking_phone_and_what_is_not_known() {
    let (server, env) = start().await;
    let id = env
        .open(&["--title", "Phishing wave", "--kind", "potential"])
        .await;
    env.ok(&[
        "edit",
        &id,
        "--containment",
        "sender blocked",
        "--next-update",
        "+2h",
    ])
    .await;
    env.ok(&["notify", &id, "--yes"]).await;
    let (subject, body) = text_body(&server.messages()[0].data);
    assert!(
        subject.starts_with(&format!("{MARKING} [{id}]")),
        "{subject}"
    );
    assert!(body.starts_with(MARKING), "{body}");
    assert!(body.trim_end().ends_with(MARKING), "{body}");
    assert!(body.contains(PHONE), "{body}");
    assert!(
        body.contains("Managed Hosting Services (CCS-0042)"),
        "{body}"
    );
    assert!(
        body.contains("which\nrequires") || body.contains("requires either party"),
        "{body}"
    );
    assert!(!body.contains(" asks "), "{body}");
    // A potential breach is not called a Breach of Security.
    assert!(body.contains("potential Breach of Security"), "{body}");
    assert!(
        !body.contains("We have identified a Breach of Security"),
        "{body}"
    );
    assert!(!body.contains("a Breach of Security ("), "{body}");
    // What is known, what is not, and when the next update comes.
    assert!(
        body.contains("Containment:        sender blocked"),
        "{body}"
    );
    assert!(body.contains("Not yet known:"), "{body}");
    assert!(body.contains("- when the breach started"), "{body}");
    assert!(!body.contains("- whether it is contained"), "{body}");
    assert!(body.contains("Next update:"), "{body}");
    assert!(!body.contains("not yet set"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_for_govcertuk_is_supplied_at_the_clients_request() {
    let (server, env) = start().await;
    let id = env.open(&["--title", "Beaconing"]).await;
    env.ok(&[
        "request",
        "add",
        &id,
        "--deliver-to",
        "govcertuk",
        "--name",
        "Jo Client",
        "--what",
        "proxy logs for 10.0.0.7",
    ])
    .await;
    let logs = env.dir.path().join("proxy.log");
    std::fs::write(&logs, "10:00 10.0.0.7 GET evil.example\n").expect("logs");
    env.ok(&[
        "supply",
        &id,
        "R1",
        "--attach",
        logs.to_str().expect("path"),
        "--yes",
    ])
    .await;
    let message = &server.messages()[0];
    assert_eq!(message.rcpt_to, ["incidents@ncsc.example"]);
    let (subject, body) = text_body(&message.data);
    assert!(subject.starts_with(MARKING), "{subject}");
    assert!(!body.contains("You asked us"), "{body}");
    assert!(
        body.contains("the Client (Jo Client) asked us to supply data"),
        "{body}"
    );
    assert!(body.contains("To GovCertUK,"), "{body}");
    assert!(body.contains(PHONE), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_details_report_attaches_marked_html_without_local_paths() {
    let (server, env) = start().await;
    let id = env
        .open(&["--title", "Payroll <script>alert(1)</script>"])
        .await;
    env.ok(&["notify", &id, "--yes"]).await;
    let proof = env.dir.path().join("mfa-test-results.txt");
    std::fs::write(&proof, "all VPN logins now need MFA\n").expect("proof");
    env.ok(&[
        "mitigation",
        &id,
        "--description",
        "MFA on the VPN",
        "--tested-how",
        "login test",
        "--tested",
        "true",
        "--evidence-file",
        proof.to_str().expect("path"),
    ])
    .await;
    env.ok(&[
        "edit",
        &id,
        "--residual-risk",
        "low: MFA enforced",
        "--lessons-learned",
        "review VPN config quarterly",
    ])
    .await;
    env.ok(&[
        "notice",
        "add",
        &id,
        "--direction",
        "sent",
        "--party",
        "insurer",
        "--channel",
        "phone",
        "--at",
        "-2m",
    ])
    .await;
    env.ok(&["report", &id, "--yes"]).await;
    let raw = &server.messages()[1].data;
    let m = MessageParser::default().parse(raw).expect("parse");
    assert!(m.subject().expect("subject").starts_with(MARKING));
    let body = m.body_text(0).expect("body").to_string();
    assert!(body.contains("Notices given and received:"), "{body}");
    assert!(body.contains("sent to insurer by phone"), "{body}");
    assert!(
        body.contains("Lessons learned:\n  review VPN config quarterly")
            || body.contains("review VPN config quarterly"),
        "{body}"
    );
    let html = m
        .attachments()
        .find(|a| {
            a.content_type()
                .is_some_and(|c| c.subtype() == Some("html"))
        })
        .expect("an HTML attachment");
    let html = String::from_utf8_lossy(html.contents()).to_string();
    assert_eq!(
        html.matches(&format!("<div class=\"marking\">{MARKING}</div>"))
            .count(),
        2
    );
    assert!(
        html.contains("Payroll &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "record text is escaped");
    assert!(!html.contains("://"), "no external resources");
    assert!(
        html.contains("mfa-test-results.txt"),
        "evidence by file name"
    );
    let root = env.dir.path().display().to_string();
    assert!(!html.contains(&root), "no local paths: {html}");
    assert!(html.contains("Residual risk") && html.contains("low: MFA enforced"));
    assert!(html.contains("sent to insurer by phone"));
    let md = m
        .attachments()
        .find(|a| a.attachment_name().is_some_and(|n| n.ends_with(".md")))
        .expect("a Markdown attachment");
    let md = String::from_utf8_lossy(md.contents()).to_string();
    assert!(md.starts_with(&format!("**{MARKING}**")), "{md}");
    assert!(!md.contains(&root), "no local paths: {md}");
    // Asked for: the paths are there.
    let with_paths = env
        .ok(&["export", &id, "--format", "report-html", "--include-paths"])
        .await;
    assert!(with_paths.contains(&root), "{with_paths}");
}

/// The console's `E` chooser offers only the notices that are ours: no 8.1
/// notification when the other party identified the breach, no 8.2.1 (e)
/// supply or (f) report for a Client user.
#[test]
fn the_email_chooser_offers_only_our_notices() {
    use breachdesk::tui::form::{Form, Value};
    let offered = |we_notify: bool, supplier: bool| -> Vec<String> {
        let form = Form::email_choice_for(0, false, we_notify, supplier);
        match &form.fields[0].value {
            Value::Choice { options, .. } => options.iter().map(|o| o.to_string()).collect(),
            other => panic!("a choice, not {other:?}"),
        }
    };
    assert_eq!(
        offered(true, true),
        [
            "8.1 notification",
            "8.2.1(f) report",
            "8.2.1(e) data supply",
            "update"
        ]
    );
    // A Service Provider told by the Client: no 8.1 notification of ours.
    assert_eq!(
        offered(false, true),
        ["8.2.1(f) report", "8.2.1(e) data supply", "update"]
    );
    // A Client user who identified it: notifies the supplier; no (e)/(f).
    assert_eq!(offered(true, false), ["8.1 notification", "update"]);
    // A Client user told by the supplier: updates only.
    assert_eq!(offered(false, false), ["update"]);
}
