//! The mailer against a real SMTP server on a loopback port, started by each
//! test itself (tests/support/smtp_server.rs): STARTTLS with a test CA, AUTH,
//! implicit TLS, each notice kind with attachments parsed back, outbox
//! retries, and every refusal the responder must be able to read.

#[path = "support/smtp_server.rs"]
mod smtp_server;

use breachdesk::config::{Config, Contacts, Responder, Smtp, SmtpSecurity};
use breachdesk::domain::incident::{
    BreachKind, DataRequest, Incident, NewIncident, PartyRole, RequestStatus, Requester,
    RootCauseCategory, Severity,
};
use breachdesk::domain::notice::NoticeKind;
use breachdesk::mail::MailError;
use breachdesk::mail::compose::{Draft, compose, render_preview};
use breachdesk::mail::outbox::{self, AttemptResult, NoticeState};
use chrono::{DateTime, Duration, Utc};
use mail_parser::{MessageParser, MimeHeaders};
use smtp_server::{Options, TestServer, pki};
use std::path::{Path, PathBuf};

const USER: &str = "sam.patel";
const PASS: &str = "s3cret pass";

/// Every test's "now": Saturday 28 November 2026, 14:32 UTC (14:32 GMT).
fn fixed_now() -> DateTime<Utc> {
    at("2026-11-28T14:32:00Z")
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("fixed instant")
        .with_timezone(&Utc)
}

fn london() -> chrono_tz::Tz {
    chrono_tz::Europe::London
}

fn incident(title: &str, now: DateTime<Utc>) -> Incident {
    let mut incident = Incident::new(
        "INC-20261128-1432-7f3a9c".into(),
        NewIncident {
            title: title.into(),
            summary: "Phishing email led to a VPN login from an unknown host.".into(),
            kind: BreachKind::Potential,
            severity: Severity::High,
            personal_data: false,
            government_data: true,
            affected_assets: vec!["vpn-gateway".into(), "hr-share".into()],
            identified_at: now - Duration::minutes(30),
        },
        "Sam Patel",
        PartyRole::ServiceProvider,
        now,
    )
    .expect("incident");
    incident.data_requests.push(DataRequest {
        uid: String::new(),
        id: "R1".into(),
        deliver_to: Requester::GovCertUk,
        authority: breachdesk::domain::incident::RequestAuthority::Client,
        reference: None,
        requester_name: String::new(),
        received_at: now - Duration::minutes(10),
        what: "VPN logs for 27-28 November".into(),
        due_at: now + Duration::days(2),
        status: RequestStatus::Open,
        supplied_at: None,
        supplied_how: None,
        no_charge: true,
        attachments: Vec::new(),
        ended: None,
    });
    incident.root_cause.category = Some(RootCauseCategory::Phishing);
    incident.root_cause.component = "vpn-gateway".into();
    incident.root_cause.analysis = "Credentials phished; no MFA on the VPN.".into();
    incident
}

fn config() -> Config {
    Config {
        responder: Responder {
            name: Some("Sam Patel".into()),
            email: Some("sam.patel@provider.example".into()),
            role: PartyRole::ServiceProvider,
            ..Responder::default()
        },
        contacts: Contacts {
            other_party: Some("Client Security Rep <csr@client.example>".into()),
            govcertuk: Some("GovCertUK <incidents@ncsc.example>".into()),
            ..Contacts::default()
        },
        ..Config::default()
    }
}

fn smtp(port: u16, security: SmtpSecurity, ca_file: Option<PathBuf>, auth: bool) -> Smtp {
    Smtp {
        host: "127.0.0.1".into(),
        port: Some(port),
        security,
        username: auth.then(|| USER.to_string()),
        password_command: auth.then(|| format!("printf '%s\\n' '{PASS}'")),
        ca_file,
        timeout_secs: 5,
    }
}

fn write_ca(dir: &Path, pem: &str) -> PathBuf {
    let path = dir.join("ca.pem");
    std::fs::write(&path, pem).expect("write ca");
    path
}

fn tls_server_options(pki: &smtp_server::TestPki) -> Options {
    Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        auth: Some((USER.into(), PASS.into())),
        ..Options::default()
    }
}

/// Composes and queues an update notice for `incident`.
fn queue_update(outbox_dir: &Path, incident: &Incident, now: DateTime<Utc>) -> String {
    let config = config();
    let mut draft = Draft::new(NoticeKind::Update, incident, &config).expect("draft");
    draft.message = "Containment complete; monitoring continues.".into();
    let notice = compose(&draft, None, london(), now).expect("compose");
    outbox::queue(outbox_dir, notice, now)
        .expect("queue")
        .id()
        .to_string()
}

#[tokio::test]
async fn starttls_auth_delivers_each_kind_with_attachments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let server = TestServer::start(tls_server_options(&pki)).await;
    let smtp = smtp(
        server.port(),
        SmtpSecurity::Starttls,
        Some(write_ca(dir.path(), &pki.ca_pem)),
        true,
    );
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let mut inc = incident("VPN login from unknown host", now);
    let config = config();

    let logs = dir.path().join("vpn-logs.csv");
    let logs_bytes: Vec<u8> = b"time,user,ip\n2026-11-28T14:00:00Z,alice,203.0.113.9\n"
        .iter()
        .copied()
        .chain((0u8..=255).cycle().take(5000))
        .collect();
    std::fs::write(&logs, &logs_bytes).expect("write logs");
    let report_md = dir.path().join("INC-report.md");
    std::fs::write(&report_md, "# Incident\n\nUnicode: café — ✓\n").expect("write md");

    let mut notification = Draft::new(NoticeKind::Notification, &inc, &config).expect("draft");
    notification.first_actions = "Disabled the account; blocked the source IP.".into();
    let supply = Draft::supply(&inc, &config, "r1", vec![logs.clone()]).expect("supply");
    let mut report = Draft::new(NoticeKind::FullReport, &inc, &config).expect("draft");
    report.attachments = vec![report_md.clone()];
    let mut update = Draft::new(NoticeKind::Update, &inc, &config).expect("draft");
    update.message = "Containment complete. Monitoring continues — no further logins.".into();

    let notices: Vec<_> = [notification, supply, report, update]
        .iter()
        .map(|d| compose(d, None, london(), now).expect("compose"))
        .collect();
    // The preview shows exactly what goes.
    let preview = render_preview(&notices[1]);
    assert!(
        preview.contains("To:          GovCertUK <incidents@ncsc.example>"),
        "{preview}"
    );
    assert!(preview.contains("vpn-logs.csv"), "{preview}");
    assert!(preview.contains(&notices[1].subject), "{preview}");
    assert!(preview.contains("8.2.1 (e)"), "{preview}");

    let mut deliveries = Vec::new();
    for notice in notices.clone() {
        let q = outbox::queue(&outbox_dir, notice, now).expect("queue");
        let d = outbox::deliver(&outbox_dir, q.id(), &smtp, now)
            .await
            .expect("delivered");
        assert!(
            d.reply.starts_with("250 2.0.0 Ok: queued as TEST"),
            "{}",
            d.reply
        );
        assert!(d.accepted_at >= now);
        deliveries.push(d);
    }
    inc.notification.made_at = Some(deliveries[0].accepted_at);

    let received = server.messages();
    assert_eq!(received.len(), 4);
    for (i, r) in received.iter().enumerate() {
        assert!(r.tls, "message {i} went over TLS");
        assert_eq!(r.auth_user.as_deref(), Some(USER));
        assert_eq!(r.mail_from, "sam.patel@provider.example");
        let parsed = MessageParser::default().parse(&r.data).expect("parse");
        assert_eq!(parsed.subject(), Some(notices[i].subject.as_str()));
        assert_eq!(
            format!("<{}>", parsed.message_id().expect("message-id")),
            notices[i].message_id
        );
        assert_eq!(deliveries[i].message_id, notices[i].message_id);
        assert!(parsed.date().is_some(), "Date header");
        let body = parsed.body_text(0).expect("body");
        assert!(body.contains("INC-20261128-1432-7f3a9c"), "{body}");
    }
    assert_eq!(received[0].rcpt_to, vec!["csr@client.example"]);
    assert_eq!(received[1].rcpt_to, vec!["incidents@ncsc.example"]);

    // Attachments come back byte for byte.
    let supply_msg = MessageParser::default()
        .parse(&received[1].data)
        .expect("parse");
    let atts: Vec<_> = supply_msg.attachments().collect();
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0].attachment_name(), Some("vpn-logs.csv"));
    assert_eq!(atts[0].contents(), logs_bytes.as_slice());
    let report_msg = MessageParser::default()
        .parse(&received[2].data)
        .expect("parse");
    let atts: Vec<_> = report_msg.attachments().collect();
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0].attachment_name(), Some("INC-report.md"));
    assert_eq!(
        atts[0].contents(),
        std::fs::read(&report_md).expect("md").as_slice()
    );
    let raw = String::from_utf8_lossy(&received[1].data);
    assert!(raw.contains("multipart/mixed"), "{raw}");
    // UTF-8 survives.
    let update_body = MessageParser::default()
        .parse(&received[3].data)
        .expect("parse")
        .body_text(0)
        .expect("body")
        .to_string();
    assert!(
        update_body.contains("Containment complete. Monitoring continues — no further logins.")
    );
    // The notification names the kind and when it was identified, in London time.
    let notif_body = MessageParser::default()
        .parse(&received[0].data)
        .expect("parse")
        .body_text(0)
        .expect("body")
        .to_string();
    assert!(notif_body.contains("potential breach"), "{notif_body}");
    assert!(notif_body.contains("Disabled the account"), "{notif_body}");
    assert!(notif_body.contains("8.1"), "{notif_body}");

    // Nothing but EHLO/STARTTLS in clear; AUTH only inside TLS.
    let commands = server.commands();
    assert!(
        commands.iter().any(|c| c == "clear: STARTTLS"),
        "{commands:?}"
    );
    assert!(
        commands.iter().any(|c| c.starts_with("tls: AUTH")),
        "{commands:?}"
    );
    for c in commands {
        if let Some(cmd) = c.strip_prefix("clear: ") {
            let verb = cmd.to_ascii_uppercase();
            assert!(
                verb.starts_with("EHLO") || verb.starts_with("STARTTLS"),
                "sent in clear: {c}"
            );
        }
    }
    // All sent, nothing pending, sent/ holds the records.
    let all = outbox::list(&outbox_dir).expect("list");
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|q| q.state == NoticeState::Sent));
    assert!(outbox::pending(&outbox_dir).expect("pending").is_empty());
    let sent = all[0].sent.as_ref().expect("sent record");
    assert!(sent.reply.starts_with("250"));
    // Delivering again is refused: nothing goes twice.
    let again = outbox::deliver(&outbox_dir, all[0].id(), &smtp, now).await;
    assert!(
        matches!(again, Err(MailError::AlreadySent { .. })),
        "{again:?}"
    );
    assert_eq!(server.messages().len(), 4);
}

#[tokio::test]
async fn implicit_tls_delivers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let server = TestServer::start(Options {
        implicit_tls: true,
        starttls: false,
        ..tls_server_options(&pki)
    })
    .await;
    let smtp = smtp(
        server.port(),
        SmtpSecurity::Tls,
        Some(write_ca(dir.path(), &pki.ca_pem)),
        true,
    );
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("Lost laptop", now), now);
    outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect("delivered");
    let received = server.messages();
    assert_eq!(received.len(), 1);
    assert!(received[0].tls);
    assert!(server.commands().iter().all(|c| c.starts_with("tls: ")));
    // `config check` uses the same path: connect, TLS, log in, QUIT.
    let checked = breachdesk::mail::transport::check_connection(&smtp)
        .await
        .expect("check");
    assert_eq!(
        checked,
        format!("connected to 127.0.0.1:{} (TLS), logged in", server.port())
    );
}

#[tokio::test]
async fn server_down_then_up_notice_waits_and_goes_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    // The port is held (bound, not listening) from here to the end: down
    // means connection refused, and nobody else can take it meanwhile.
    let reserved = smtp_server::reserve_port();
    let port = reserved.port();
    let smtp = smtp(
        port,
        SmtpSecurity::Starttls,
        Some(write_ca(dir.path(), &pki.ca_pem)),
        true,
    );
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("Server down test", now), now);

    // Down: the attempt fails clearly and the notice waits with the error.
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect_err("server is down");
    assert_eq!(
        err.to_string(),
        format!("could not connect to 127.0.0.1:{port}: connection refused")
    );
    let q = outbox::get(&outbox_dir, &id).expect("get");
    assert_eq!(q.state, NoticeState::Pending);
    assert_eq!(q.attempts.len(), 1);
    assert_eq!(q.attempts[0].result, AttemptResult::Failed);
    assert_eq!(q.last_error(), Some(err.to_string().as_str()));
    assert_eq!(q.next_attempt_at, Some(now + Duration::seconds(30)));

    // Not yet due: deliver_due leaves it alone.
    let r = outbox::deliver_due(&outbox_dir, &smtp, now + Duration::seconds(10))
        .await
        .expect("due");
    assert!(r.is_empty());

    // Up: it goes, once.
    let server = reserved.start(tls_server_options(&pki));
    let later = now + Duration::seconds(31);
    let r = outbox::deliver_due(&outbox_dir, &smtp, later)
        .await
        .expect("due");
    assert_eq!(r.len(), 1);
    assert!(r[0].1.is_ok(), "{:?}", r[0].1);
    let r = outbox::deliver_due(&outbox_dir, &smtp, later + Duration::hours(1))
        .await
        .expect("due");
    assert!(r.is_empty());
    assert_eq!(server.messages().len(), 1);
    let q = outbox::get(&outbox_dir, &id).expect("get");
    assert_eq!(q.state, NoticeState::Sent);
    assert_eq!(q.attempts.len(), 2);
    assert!(!outbox_dir.join(format!("{id}.toml")).exists());
    assert!(outbox_dir.join("sent").join(format!("{id}.toml")).exists());
}

#[tokio::test]
async fn auth_failure_is_clear_and_notice_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let server = TestServer::start(Options {
        auth: Some((USER.into(), "another password".into())),
        ..tls_server_options(&pki)
    })
    .await;
    let smtp = smtp(
        server.port(),
        SmtpSecurity::Starttls,
        Some(write_ca(dir.path(), &pki.ca_pem)),
        true,
    );
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("Auth failure test", now), now);
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect_err("bad password");
    // Only the reply code and a fixed description are kept from a login.
    assert_eq!(
        err.to_string(),
        "authentication failed: the server refused the login (reply 535)"
    );
    let q = outbox::get(&outbox_dir, &id).expect("get");
    assert_eq!(q.state, NoticeState::Pending);
    assert_eq!(q.last_error(), Some(err.to_string().as_str()));
    assert!(server.messages().is_empty());
    // The password is never written to the outbox.
    let stored = std::fs::read_to_string(outbox_dir.join(format!("{id}.toml"))).expect("read");
    assert!(!stored.contains(PASS));
}

/// The base64 forms of the password an AUTH exchange carries.
fn password_forms() -> Vec<String> {
    let plain = b64(format!("\0{USER}\0{PASS}").as_bytes());
    vec![PASS.to_string(), b64(PASS.as_bytes()), plain]
}

fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= n {
                out.push(char::from(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every file under `dir`, read as text.
fn all_text_under(dir: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push_str(&String::from_utf8_lossy(
                    &std::fs::read(&path).expect("read"),
                ));
            }
        }
    }
    out
}

#[tokio::test]
async fn a_server_echoing_the_credentials_leaves_no_trace_of_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    // A careless server: its refusal repeats the AUTH lines and the decoded
    // username and password.
    let server = TestServer::start(Options {
        auth: Some((USER.into(), "another password".into())),
        echo_auth: true,
        ..tls_server_options(&pki)
    })
    .await;
    let smtp = smtp(
        server.port(),
        SmtpSecurity::Starttls,
        Some(write_ca(dir.path(), &pki.ca_pem)),
        true,
    );
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("Echo test", now), now);
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect_err("bad password");
    // The server really did echo the secret (so the test can fail) ...
    let commands = server.commands();
    let auth_line = commands
        .iter()
        .find(|c| c.contains("AUTH"))
        .expect("AUTH was sent");
    assert!(auth_line.contains(&password_forms()[2]), "{auth_line}");
    // ... and none of it is kept.
    assert_eq!(
        err.to_string(),
        "authentication failed: the server refused the login (reply 535)"
    );
    let q = outbox::get(&outbox_dir, &id).expect("get");
    assert_eq!(q.last_error(), Some(err.to_string().as_str()));
    let stored = all_text_under(&outbox_dir);
    for form in password_forms() {
        assert!(!stored.contains(&form), "{form} in the outbox:\n{stored}");
    }
}

#[tokio::test]
async fn server_replies_that_quote_the_password_are_stored_redacted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let forms = password_forms();
    // A refusal at the end of DATA that quotes the password and the AUTH blob.
    let quoting = format!(
        "550 5.7.1 rejected for {USER} with password {} (AUTH PLAIN {})",
        forms[0], forms[2]
    );
    let server = TestServer::start(Options {
        data_reply: Some(quoting),
        ..tls_server_options(&pki)
    })
    .await;
    let smtp = smtp(
        server.port(),
        SmtpSecurity::Starttls,
        Some(write_ca(dir.path(), &pki.ca_pem)),
        true,
    );
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("Quoting refusal", now), now);
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        format!(
            "server refused the message: 550 5.7.1 rejected for {USER} with password [redacted] (AUTH PLAIN [redacted])"
        )
    );
    let q = outbox::get(&outbox_dir, &id).expect("get");
    assert_eq!(q.last_error(), Some(err.to_string().as_str()));
    drop(server);

    // An acceptance that quotes the password's base64 is kept redacted too.
    let server = TestServer::start(Options {
        data_reply: Some(format!("250 2.0.0 queued, login was {}", forms[1])),
        ..tls_server_options(&pki)
    })
    .await;
    let smtp = Smtp {
        port: Some(server.port()),
        ..smtp
    };
    // A 5xx is permanent: it is only tried again on purpose.
    outbox::retry_now(&outbox_dir, &id, now + Duration::minutes(1)).expect("retry on purpose");
    let d = outbox::deliver(&outbox_dir, &id, &smtp, now + Duration::minutes(1))
        .await
        .expect("accepted");
    assert_eq!(d.reply, "250 2.0.0 queued, login was [redacted]");
    let stored = all_text_under(&outbox_dir);
    assert!(stored.contains("login was [redacted]"), "{stored}");
    for form in &forms {
        assert!(
            !stored.contains(form.as_str()),
            "{form} in the outbox:\n{stored}"
        );
    }
}

#[tokio::test]
async fn untrusted_certificate_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let server = TestServer::start(tls_server_options(&pki)).await;
    // No ca_file: the test CA is not trusted.
    let smtp = smtp(server.port(), SmtpSecurity::Starttls, None, true);
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("TLS failure test", now), now);
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect_err("untrusted");
    assert!(matches!(err, MailError::Certificate(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("certificate not trusted: "), "{text}");
    assert!(text.contains("unknown authority"), "{text}");
    let q = outbox::get(&outbox_dir, &id).expect("get");
    assert_eq!(q.state, NoticeState::Pending);
    assert_eq!(q.last_error(), Some(text.as_str()));
    assert!(server.messages().is_empty());
    // No AUTH or MAIL was ever sent.
    assert!(
        server
            .commands()
            .iter()
            .all(|c| !c.contains("AUTH") && !c.contains("MAIL")),
        "{:?}",
        server.commands()
    );
}

#[tokio::test]
async fn server_without_starttls_is_refused_nothing_in_clear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let server = TestServer::start(Options {
        starttls: false,
        ..tls_server_options(&pki)
    })
    .await;
    let smtp = smtp(
        server.port(),
        SmtpSecurity::Starttls,
        Some(write_ca(dir.path(), &pki.ca_pem)),
        true,
    );
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("No STARTTLS test", now), now);
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect_err("no starttls");
    assert_eq!(
        err.to_string(),
        format!(
            "127.0.0.1:{} does not offer STARTTLS; refusing to send in clear text",
            server.port()
        )
    );
    assert!(server.messages().is_empty());
    for c in server.commands() {
        let upper = c.to_ascii_uppercase();
        assert!(
            !upper.contains("AUTH") && !upper.contains("MAIL") && !upper.contains("RCPT"),
            "sent in clear: {c}"
        );
    }
    assert_eq!(
        outbox::get(&outbox_dir, &id).expect("get").state,
        NoticeState::Pending
    );
}

#[tokio::test]
async fn header_injection_in_title_adds_no_header_or_recipient() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let server = TestServer::start(tls_server_options(&pki)).await;
    let smtp = smtp(
        server.port(),
        SmtpSecurity::Starttls,
        Some(write_ca(dir.path(), &pki.ca_pem)),
        true,
    );
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let inc = incident("x\r\nBcc: evil@x", now);
    let mut config = config();
    // A display name with CR/LF in the config must not panic or inject either.
    config.responder.name = Some("Sam\r\nBcc: evil2@x".into());
    let mut draft = Draft::new(NoticeKind::Notification, &inc, &config).expect("draft");
    draft.first_actions = "line one\r\nBcc: evil3@x".into();
    let notice = compose(&draft, None, london(), now).expect("compose");
    assert!(!notice.subject.contains('\r') && !notice.subject.contains('\n'));
    let q = outbox::queue(&outbox_dir, notice, now).expect("queue");
    outbox::deliver(&outbox_dir, q.id(), &smtp, now)
        .await
        .expect("delivered");

    let received = server.messages();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_to, vec!["csr@client.example"]);
    let raw = &received[0].data;
    let text = String::from_utf8_lossy(raw);
    let header_end = text.find("\r\n\r\n").expect("header block");
    let headers = &text[..header_end];
    for line in headers.split("\r\n") {
        assert!(
            !line.to_ascii_lowercase().starts_with("bcc"),
            "injected header: {line}\n{headers}"
        );
    }
    let parsed = MessageParser::default().parse(raw).expect("parse");
    assert!(parsed.bcc().is_none());
    let subject = parsed.subject().expect("subject");
    assert!(subject.contains("x Bcc: evil@x"), "{subject}");
    let to: Vec<_> = parsed
        .to()
        .expect("to")
        .iter()
        .filter_map(|a| a.address())
        .collect();
    assert_eq!(to, vec!["csr@client.example"]);
    // The display name with CR/LF stays a display name: one sender.
    let from: Vec<_> = parsed
        .from()
        .expect("from")
        .iter()
        .filter_map(|a| a.address())
        .collect();
    assert_eq!(from, vec!["sam.patel@provider.example"]);
}

#[tokio::test]
async fn plain_smtp_to_non_loopback_host_is_refused_without_connecting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("Plain text test", now), now);
    // TEST-NET-1: nothing answers there; a refusal that names the address
    // proves the check ran on the resolved address before any connection.
    let smtp = Smtp {
        host: "192.0.2.25".into(),
        port: Some(25),
        security: SmtpSecurity::None,
        username: None,
        password_command: None,
        ca_file: None,
        timeout_secs: 30,
    };
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect_err("refused");
    assert!(matches!(err, MailError::Insecure(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "refused: security = \"none\" sends mail in clear text; it is only allowed to a loopback host, and 192.0.2.25 resolves to 192.0.2.25, which is not loopback"
    );
    let q = outbox::get(&outbox_dir, &id).expect("get");
    assert_eq!(q.state, NoticeState::Pending);
    assert_eq!(q.last_error(), Some(err.to_string().as_str()));

    // Credentials are never sent without TLS, even to loopback; the password
    // command is not even run.
    let marker = dir.path().join("password-command-ran");
    let with_user = Smtp {
        host: "127.0.0.1".into(),
        username: Some(USER.into()),
        password_command: Some(format!("touch '{}'; echo x", marker.display())),
        ..smtp.clone()
    };
    let err = outbox::deliver(&outbox_dir, &id, &with_user, now)
        .await
        .expect_err("refused");
    assert!(matches!(err, MailError::Insecure(_)), "{err:?}");
    assert!(err.to_string().contains("with a username"), "{err}");
    assert!(!marker.exists(), "password_command ran");
}

#[tokio::test]
async fn plain_smtp_to_loopback_is_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(Options::default()).await;
    let smtp = smtp(server.port(), SmtpSecurity::None, None, false);
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("Loopback relay", now), now);
    outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect("delivered");
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn plain_smtp_to_a_name_goes_to_the_loopback_address_it_resolved_to() {
    let server = TestServer::start(Options::default()).await;
    // `localhost` is resolved once; every address it has is loopback, and
    // the session goes to the address checked (the server is on 127.0.0.1).
    let smtp = Smtp {
        host: "localhost".into(),
        ..smtp(server.port(), SmtpSecurity::None, None, false)
    };
    let said = breachdesk::mail::transport::check_connection(&smtp)
        .await
        .expect("check");
    assert_eq!(
        said,
        format!(
            "connected to localhost:{} at 127.0.0.1 (plain text, loopback)",
            server.port()
        )
    );
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn silent_server_times_out_within_configured_seconds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(Options {
        hang: true,
        ..Options::default()
    })
    .await;
    let mut smtp = smtp(server.port(), SmtpSecurity::Starttls, None, false);
    smtp.timeout_secs = 1;
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("Timeout test", now), now);
    // The deadline is ours, not the test's: the error says which stage
    // timed out after the configured second (no wall-clock assertion here).
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect_err("timeout");
    assert!(matches!(err, MailError::Timeout { .. }), "{err:?}");
    assert_eq!(err.to_string(), "server did not answer in 1 s (connecting)");
    assert_eq!(server.connections(), 1);
    let q = outbox::get(&outbox_dir, &id).expect("get");
    assert_eq!(q.state, NoticeState::Pending);
    assert_eq!(q.last_error(), Some(err.to_string().as_str()));
}

#[tokio::test]
async fn refused_message_is_reported_with_the_reply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let server = TestServer::start(Options {
        data_reply: Some("550 5.7.1 Message rejected as spam".into()),
        ..tls_server_options(&pki)
    })
    .await;
    let smtp = smtp(
        server.port(),
        SmtpSecurity::Starttls,
        Some(write_ca(dir.path(), &pki.ca_pem)),
        true,
    );
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("Rejected test", now), now);
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect_err("rejected");
    assert_eq!(
        err.to_string(),
        "server refused the message: 550 5.7.1 Message rejected as spam"
    );
    // A 5xx is permanent: failed, and never retried automatically.
    let q = outbox::get(&outbox_dir, &id).expect("get");
    assert_eq!(q.state, NoticeState::Failed);
    assert_eq!(q.next_attempt_at, None);
}

#[tokio::test]
async fn missing_or_unreadable_attachment_is_refused_before_queueing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = fixed_now();
    let inc = incident("Attachment test", now);
    let config = config();
    let missing = dir.path().join("nope.csv");
    let draft = Draft::supply(&inc, &config, "R1", vec![missing.clone()]).expect("draft");
    let err = compose(&draft, None, london(), now).expect_err("missing");
    assert_eq!(
        err.to_string(),
        format!("attachment {}: does not exist", missing.display())
    );
    let draft = Draft::supply(&inc, &config, "R1", vec![dir.path().to_path_buf()]).expect("draft");
    let err = compose(&draft, None, london(), now).expect_err("a directory");
    assert!(err.to_string().ends_with("is not a regular file"), "{err}");

    let draft = Draft::supply(&inc, &config, "R1", vec![]).expect("draft");
    let err = compose(&draft, None, london(), now).expect_err("nothing attached");
    assert_eq!(
        err.to_string(),
        "a data supply needs at least one file attached"
    );

    // A file changed between preview and confirmation is refused at queue time.
    let file = dir.path().join("logs.txt");
    std::fs::write(&file, "v1").expect("write");
    let draft = Draft::supply(&inc, &config, "R1", vec![file.clone()]).expect("draft");
    let notice = compose(&draft, None, london(), now).expect("compose");
    std::fs::write(&file, "v2 changed").expect("write");
    let outbox_dir = dir.path().join("outbox");
    let err = outbox::queue(&outbox_dir, notice, now).expect_err("changed");
    assert!(err.to_string().contains("has changed"), "{err}");
    assert!(outbox::list(&outbox_dir).expect("list").is_empty());
}

#[tokio::test]
async fn invalid_recipient_is_refused_clearly() {
    let now = fixed_now();
    let inc = incident("Recipient test", now);
    let mut config = config();
    config.contacts.other_party = Some("csr@client.example, evil@x.example".into());
    let draft = Draft::new(NoticeKind::Notification, &inc, &config).expect("draft");
    let err = compose(&draft, None, london(), now).expect_err("two addresses");
    assert!(
        err.to_string()
            .starts_with("to: 'csr@client.example, evil@x.example' is not a valid email address"),
        "{err}"
    );
    config.contacts.other_party = Some("not an address".into());
    let draft = Draft::new(NoticeKind::Notification, &inc, &config).expect("draft");
    assert!(matches!(
        compose(&draft, None, london(), now),
        Err(MailError::Address { .. })
    ));
}

#[tokio::test]
async fn password_command_failure_is_clear_and_nothing_connects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let server = TestServer::start(tls_server_options(&pki)).await;
    let mut smtp = smtp(server.port(), SmtpSecurity::Starttls, None, true);
    // A helper that fails after printing the secret on both streams.
    smtp.password_command = Some(
        "echo 'half-typed-secret-1'; echo 'vault is locked: half-typed-secret-2' >&2; exit 3"
            .into(),
    );
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("Password test", now), now);
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect_err("no password");
    // Only the exit status.
    assert_eq!(
        err.to_string(),
        "smtp password: password_command failed (exit 3); its output is not shown, run it yourself to see why"
    );
    assert_eq!(server.connections(), 0);
    let q = outbox::get(&outbox_dir, &id).expect("get");
    assert_eq!(q.last_error(), Some(err.to_string().as_str()));
    let stored = all_text_under(&outbox_dir);
    assert!(!stored.contains("half-typed-secret"), "{stored}");

    // Killed by a signal: said so, nothing else.
    smtp.password_command = Some("echo 'half-typed-secret-3'; kill -9 $$".into());
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now + Duration::minutes(1))
        .await
        .expect_err("no password");
    assert_eq!(
        err.to_string(),
        "smtp password: password_command failed (killed by a signal); its output is not shown, run it yourself to see why"
    );
    assert!(!all_text_under(&outbox_dir).contains("half-typed-secret"));

    // A helper that never finishes is given up on at the deadline.
    smtp.password_command = Some("exec sleep 60".into());
    smtp.timeout_secs = 1;
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now + Duration::minutes(2))
        .await
        .expect_err("no password");
    assert_eq!(
        err.to_string(),
        "smtp password: password_command did not finish in 1 s"
    );
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn a_notice_being_sent_is_not_sent_again_and_a_crash_is_recognisable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let server = TestServer::start(tls_server_options(&pki)).await;
    let smtp = smtp(
        server.port(),
        SmtpSecurity::Starttls,
        Some(write_ca(dir.path(), &pki.ca_pem)),
        true,
    );
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let id = queue_update(&outbox_dir, &incident("Lock test", now), now);

    // Another process holds the lock: this one backs off.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(outbox_dir.join(format!("{id}.lock")))
        .expect("lock file");
    lock.lock().expect("lock");
    let err = outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect_err("busy");
    assert!(matches!(err, MailError::Busy { .. }), "{err:?}");
    lock.unlock().expect("unlock");
    drop(lock);
    assert!(server.messages().is_empty());

    // Simulate a crash after an attempt began: the record says in-progress.
    let path = outbox_dir.join(format!("{id}.toml"));
    let text = std::fs::read_to_string(&path).expect("read");
    let mut q: outbox::QueuedNotice = toml::from_str(&text).expect("parse");
    q.attempts.push(outbox::Attempt {
        at: now,
        result: AttemptResult::InProgress,
        error: None,
    });
    std::fs::write(&path, toml::to_string(&q).expect("toml")).expect("write");

    let d = outbox::deliver(&outbox_dir, &id, &smtp, now)
        .await
        .expect("delivered");
    assert_eq!(
        d.message_id, q.notice.message_id,
        "same Message-ID on re-send"
    );
    let q = outbox::get(&outbox_dir, &id).expect("get");
    assert_eq!(q.attempts[0].result, AttemptResult::Interrupted);
    assert!(
        q.attempts[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("same Message-ID")
    );
    assert_eq!(q.attempts[1].result, AttemptResult::Accepted);
}

#[test]
fn outbox_files_are_private_and_toml() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let outbox_dir = dir.path().join("outbox");
    let now = fixed_now();
    let inc = incident("Permissions test", now);
    let file = dir.path().join("evidence.txt");
    std::fs::write(&file, "evidence").expect("write");
    let draft = Draft::supply(&inc, &config(), "R1", vec![file]).expect("draft");
    let notice = compose(&draft, None, london(), now).expect("compose");
    let q = outbox::queue(&outbox_dir, notice.clone(), now).expect("queue");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&outbox_dir), 0o700);
    let path = outbox_dir.join(format!("{}.toml", q.id()));
    assert_eq!(mode(&path), 0o600);
    assert!(
        q.notice.attachments[0]
            .path
            .starts_with(outbox_dir.join("files"))
    );
    assert_eq!(mode(&q.notice.attachments[0].path), 0o600);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("state = \"pending\""), "{text}");
    assert!(text.contains(&notice.message_id));
    // Queuing the same confirmation twice is refused.
    assert!(outbox::queue(&outbox_dir, notice, now).is_err());
    // retry_now makes it due at once.
    let later = now + Duration::minutes(5);
    let q = outbox::retry_now(&outbox_dir, q.id(), later).expect("retry");
    assert_eq!(q.next_attempt_at, Some(later));
}

#[test]
fn template_override_with_unknown_field_names_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).expect("mkdir");
    std::fs::write(
        templates.join("notification.txt"),
        "Subject: {incident.id}\n\nHello\n\n{incident.tilte}\n",
    )
    .expect("write");
    let now = fixed_now();
    let inc = incident("Template test", now);
    let draft = Draft::new(NoticeKind::Notification, &inc, &config()).expect("draft");
    let err = compose(&draft, Some(&templates), london(), now).expect_err("unknown field");
    let text = err.to_string();
    let expected = format!(
        "{}:5: unknown field {{incident.tilte}}",
        templates.join("notification.txt").display()
    );
    assert!(text.starts_with(&expected), "{text}");
}

#[test]
fn full_report_lists_what_is_missing_and_late_notice_gives_reason() {
    let now = fixed_now();
    let mut inc = incident("Report test", now);
    inc.identified_at = now - Duration::hours(3);
    inc.notification.due_at = now - Duration::hours(2);
    let config = config();
    let draft = Draft::new(NoticeKind::FullReport, &inc, &config).expect("draft");
    let notice = compose(&draft, None, london(), now).expect("compose");
    assert!(
        notice
            .body
            .contains("data request R1 (the Client's, to GovCertUK) is still open"),
        "{}",
        notice.body
    );
    assert!(
        notice.body.contains("no mitigation described"),
        "{}",
        notice.body
    );
    assert!(notice.body.contains("8.2.1 (f)"), "{}", notice.body);

    let mut draft = Draft::new(NoticeKind::Notification, &inc, &config).expect("draft");
    draft.delay_reason = Some("The on-call phone was out of signal.".into());
    let notice = compose(&draft, None, london(), now).expect("compose");
    assert!(
        notice.body.contains("Reason for the delay:"),
        "{}",
        notice.body
    );
    assert!(notice.body.contains("out of signal"));
    assert_eq!(
        notice.delay_reason.as_deref(),
        Some("The on-call phone was out of signal.")
    );
    // Times are shown in London time with the zone: in November that is
    // GMT (identified 11:32Z = 11:32 GMT).
    assert!(
        notice.body.contains("Sat 28 Nov 2026 11:32 GMT"),
        "{}",
        notice.body
    );
    assert!(!notice.body.contains("BST"), "{}", notice.body);
}

#[test]
fn summer_times_are_shown_in_bst() {
    // Tuesday 14 July 2026, 09:15Z: identified 30 minutes earlier, 08:45Z,
    // which is 09:45 BST in London.
    let now = at("2026-07-14T09:15:00Z");
    let inc = incident("Summer test", now);
    let draft = Draft::new(NoticeKind::Notification, &inc, &config()).expect("draft");
    let notice = compose(&draft, None, london(), now).expect("compose");
    assert!(
        notice.body.contains("Tue 14 Jul 2026 09:45 BST"),
        "{}",
        notice.body
    );
    assert!(!notice.body.contains("GMT"), "{}", notice.body);
}
