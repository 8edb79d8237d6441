//! The notice service (`Desk::compose_notice`, `send_notice`,
//! `deliver_due`, `retry_notice`, `cancel_notice`, `reconcile_outbox`)
//! against a real SMTP server on loopback (STARTTLS with a test CA, AUTH),
//! including servers that are strict about line lengths, refuse with 5xx,
//! drop the connection after DATA, or stall. What the server received is
//! parsed back; the record and the audit log are read from disk.

#[path = "support/smtp_server.rs"]
mod smtp_server;
mod support;

use breachdesk::desk::{Attempted, NoticeRequest};
use breachdesk::domain::incident::{Channel, DeliveryState, NoticeKind, RequestStatus, Requester};
use breachdesk::mail::outbox;
use breachdesk::store::AuditNote;
use chrono::Duration;
use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};
use smtp_server::{AfterData, Options, TestServer};
use support::{Fixture, minutes, now};

const USER: &str = "sam.patel";
const PASS: &str = "correct horse battery staple";
const ID: &str = "INC-20260310-1250-00b001";

struct Mail {
    _rt: tokio::runtime::Runtime,
    server: TestServer,
    f: Fixture,
}

/// A server (on its own runtime's threads) and a desk configured for it.
fn mail(options: Options, extra_config: &str, timeout_secs: u64) -> Mail {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pki = smtp_server::pki();
    let server = rt.block_on(TestServer::start(Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        auth: Some((USER.into(), PASS.into())),
        ..options
    }));
    let f = support::fixture_with_config(&format!(
        r#"[responder]
name = "Sam Patel"
email = "sam.patel@provider.example"
role = "service-provider"
{extra_config}
[smtp]
host = "127.0.0.1"
port = {port}
security = "starttls"
username = "{USER}"
password_command = "printf '%s' '{PASS}'"
ca_file = "{{dir}}/ca.pem"
timeout_secs = {timeout_secs}
"#,
        port = server.port()
    ));
    std::fs::write(f.dir.path().join("ca.pem"), &pki.ca_pem).expect("ca file");
    f.incident(ID, "VPN breach", minutes(10));
    Mail { _rt: rt, server, f }
}

const CONTACTS: &str = r#"[contacts]
other_party = "Client Security Representative <csr@client.example>"
govcertuk = "GovCertUK <incidents@ncsc.example>"
"#;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn update(m: &Mail, text: &str) -> breachdesk::mail::Notice {
    let mut req = NoticeRequest::new(ID, NoticeKind::Update);
    req.message = text.to_string();
    m.f.desk.compose_notice(req, now()).expect("compose").notice
}

/// Every line of a raw message ends CRLF and none is over 998 bytes.
fn assert_strict_lines(raw: &[u8]) {
    for line in raw.split_inclusive(|b| *b == b'\n') {
        assert!(
            line.ends_with(b"\r\n"),
            "bare LF in: {:?}",
            String::from_utf8_lossy(line)
        );
        assert!(line.len() <= 1000, "line of {} bytes", line.len());
    }
}

#[test]
fn attachments_arrive_byte_exact_and_the_body_survives_a_strict_server() {
    let m = mail(
        Options {
            strict: true,
            ..Options::default()
        },
        CONTACTS,
        5,
    );
    let dir = m.f.dir.path();
    m.f.desk
        .add_request(
            ID,
            Requester::GovCertUk,
            "Duty officer",
            "VPN logs",
            now() - minutes(3),
            now() - minutes(3),
        )
        .expect("request");
    // The files a responder supplies: LF text with short lines (10 KB), CRLF
    // text, a line longer than 998 bytes, binary, UTF-8 and non-UTF-8 text.
    let mut lf = Vec::new();
    for i in 0..350 {
        lf.extend_from_slice(format!("2026-03-10 12:{:02} login ok u{i}\n", i % 60).as_bytes());
    }
    assert!(lf.len() >= 10_000);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("vpn.log", lf),
        (
            "windows.txt",
            b"line one\r\nline two\r\n\r\nlast\r\n".to_vec(),
        ),
        ("long-line.csv", {
            let mut v = vec![b'x'; 3000];
            v.extend_from_slice(b"\nshort\n");
            v
        }),
        ("capture.pcap", (0..=255u8).cycle().take(4096).collect()),
        ("utf8.txt", "Größe naïve café 日本語\n".as_bytes().to_vec()),
        ("latin1.txt", b"Gr\xf6\xdfe caf\xe9\r\nend\n".to_vec()),
    ];
    let mut paths = Vec::new();
    for (name, bytes) in &files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        paths.push(path);
    }
    let mut req = NoticeRequest::new(ID, NoticeKind::DataSupply);
    req.request = Some("R1".into());
    req.files = paths;
    let notice = m.f.desk.compose_notice(req, now()).expect("compose").notice;
    let outbox_id = notice.id.clone();
    let a = m.f.desk.send_notice(notice, now()).expect("queued");
    assert!(a.sent(), "{}", a.said);

    let received = m.server.messages();
    assert_eq!(received.len(), 1);
    let raw = &received[0].data;
    assert_strict_lines(raw);
    let parsed = MessageParser::default().parse(raw).expect("parse");
    let atts: Vec<_> = parsed.attachments().collect();
    assert_eq!(atts.len(), files.len());
    let record = m.f.desk.load(ID).expect("load");
    let recorded = &record.data_requests[0].attachments;
    for ((name, bytes), att) in files.iter().zip(&atts) {
        assert_eq!(att.attachment_name(), Some(*name));
        assert_eq!(
            att.content_transfer_encoding(),
            Some("base64"),
            "{name} goes base64"
        );
        assert_eq!(
            sha(att.contents()),
            sha(bytes),
            "{name}: decoded bytes differ"
        );
        let kept = recorded
            .iter()
            .find(|e| e.note.as_deref() == Some(&format!("sent as {name}")))
            .expect("recorded");
        assert_eq!(kept.sha256.as_deref(), Some(sha(bytes).as_str()), "{name}");
        assert_eq!(kept.size, Some(bytes.len() as u64));
        // The record points at the responder's file, not the outbox copy.
        assert_eq!(
            kept.path.as_deref(),
            Some(dir.join(name).display().to_string().as_str())
        );
    }
    // Sent: the outbox's copies are gone.
    let copies = outbox::outbox_dir(m.f.store.data_dir())
        .join("files")
        .join(&outbox_id);
    assert!(!copies.exists(), "copies deleted once sent");

    // The body: CRLF and no line over 998 bytes, even with a 3000-byte line.
    let long = "z".repeat(3000);
    let text = format!("First line\nSecond line\r\n{long}\nend");
    let a =
        m.f.desk
            .send_notice(update(&m, &text), now())
            .expect("queued");
    assert!(a.sent(), "{}", a.said);
    let raw = &m.server.messages()[1].data;
    assert_strict_lines(raw);
    let parsed = MessageParser::default().parse(raw).expect("parse");
    let body = parsed.body_text(0).expect("body").to_string();
    assert!(body.contains(&long), "the long line arrives whole");
    assert!(body.contains("First line\r\nSecond line\r\n"), "{body:?}");
}

#[test]
fn a_5xx_refusal_is_failed_never_retried_automatically_then_retried_on_purpose() {
    let m = mail(
        Options {
            data_reply: Some("554 5.7.1 Message rejected by policy".into()),
            misbehave_times: Some(1),
            ..Options::default()
        },
        CONTACTS,
        5,
    );
    let a =
        m.f.desk
            .send_notice(update(&m, "Containment done"), now())
            .expect("queued");
    assert_eq!(a.state, DeliveryState::Failed);
    assert!(a.said.contains("REFUSED for good"), "{}", a.said);
    assert!(a.said.contains("554 5.7.1"), "{}", a.said);
    assert!(a.said.contains("outbox retry"), "{}", a.said);
    let record = m.f.desk.load(ID).expect("load");
    assert_eq!(record.notices.len(), 1);
    assert_eq!(record.notices[0].state, DeliveryState::Failed);
    assert_eq!(record.notices[0].attempts, 1);
    assert!(
        record.notices[0]
            .server_reply
            .as_deref()
            .is_some_and(|r| r.contains("554 5.7.1"))
    );

    // Rounds a day later: never tried again.
    for hours in [1, 6, 24] {
        let round =
            m.f.desk
                .deliver_due(now() + Duration::hours(hours))
                .expect("round");
        assert!(round.attempts.is_empty());
    }
    assert_eq!(m.server.record.lock().expect("record").arrived, 1);
    // `deliver` alone refuses it too.
    let err = m.f.desk.deliver_notice(&a.id, now()).expect_err("failed");
    assert!(
        err.to_string().contains("not retried automatically"),
        "{err}"
    );

    // On purpose: the server accepts it now, with the same Message-ID.
    let again =
        m.f.desk
            .retry_notice(&a.id, now() + minutes(5))
            .expect("retry");
    assert!(again.sent(), "{}", again.said);
    assert_eq!(again.message_id, a.message_id);
    let record = m.f.desk.load(ID).expect("load");
    assert_eq!(record.notices.len(), 1);
    assert_eq!(record.notices[0].state, DeliveryState::Sent);
    assert_eq!(record.notices[0].attempts, 2);
}

/// Adds request R1 (`what`) and sends its data supply with one file
/// (`name`, `bytes`) to a server that refuses it: the notice waits, failed.
fn refused_supply(m: &Mail, what: &str, name: &str, bytes: &[u8]) -> Attempted {
    m.f.desk
        .add_request(
            ID,
            Requester::Client,
            "CSR",
            what,
            now() - minutes(3),
            now() - minutes(3),
        )
        .expect("request");
    let file = m.f.dir.path().join(name);
    std::fs::write(&file, bytes).expect("write");
    let mut req = NoticeRequest::new(ID, NoticeKind::DataSupply);
    req.request = Some("R1".into());
    req.files = vec![file];
    let notice = m.f.desk.compose_notice(req, now()).expect("compose").notice;
    let a = m.f.desk.send_notice(notice, now()).expect("queued");
    assert_eq!(a.state, DeliveryState::Failed);
    a
}

/// A sync can renumber a data request while its supply waits in this
/// machine's outbox (both responders added an "R1"; the merge keeps both
/// and renumbers one, rewriting the notices that name it). When the
/// supply is then accepted, the request it answers is the one the record's
/// notice names, not the number the outbox file was queued with.
#[test]
fn a_supply_queued_before_its_request_was_renumbered_supplies_that_request() {
    let m = mail(
        Options {
            data_reply: Some("554 5.7.1 Message rejected by policy".into()),
            misbehave_times: Some(1),
            ..Options::default()
        },
        CONTACTS,
        5,
    );
    let a = refused_supply(
        &m,
        "firewall logs",
        "firewall.log",
        b"10:00 deny 10.0.0.7\n",
    );

    // What a merge does when the other responder's request was R1 too:
    // ours becomes R2 (with the notice naming it), theirs is R1.
    let mut record = m.f.store.load(ID).expect("load");
    let mut theirs = record.data_requests[0].clone();
    record.data_requests[0].id = "R2".into();
    record.notices[0].request_id = Some("R2".into());
    theirs.what = "disk image hashes".into();
    theirs.uid = "0123456789abcdef".into();
    record.data_requests.insert(0, theirs);
    m.f.store
        .save(
            &record,
            &AuditNote::new(now(), "test", "incident.merged", "renumbered R1 to R2"),
        )
        .expect("save");

    let again =
        m.f.desk
            .retry_notice(&a.id, now() + minutes(5))
            .expect("retry");
    assert!(again.sent(), "{}", again.said);
    let record = m.f.desk.load(ID).expect("load");
    let status = |id: &str| {
        let r = record
            .data_requests
            .iter()
            .find(|r| r.id == id)
            .expect("request");
        (r.what.clone(), r.status)
    };
    assert_eq!(
        status("R2"),
        ("firewall logs".into(), RequestStatus::Supplied)
    );
    assert_eq!(
        status("R1"),
        ("disk image hashes".into(), RequestStatus::Open)
    );
}

#[test]
fn a_refused_notice_is_cancelled_with_its_reason_recorded_and_audited() {
    use std::os::unix::fs::PermissionsExt;
    let m = mail(
        Options {
            data_reply: Some("550 5.1.1 No such user".into()),
            ..Options::default()
        },
        CONTACTS,
        5,
    );
    let a = refused_supply(&m, "logs", "evidence.log", b"evidence\n");
    // The copy waits, private.
    let copies = m.f.desk.outbox_dir().join("files").join(&a.id);
    let copy = std::fs::read_dir(&copies)
        .expect("copies")
        .next()
        .expect("one")
        .expect("entry")
        .path();
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&copy), 0o600);
    assert_eq!(mode(&copies), 0o700);

    let err =
        m.f.desk
            .cancel_notice(&a.id, "  ", now())
            .expect_err("no reason");
    assert!(err.to_string().contains("--reason"), "{err}");
    let changed =
        m.f.desk
            .cancel_notice(&a.id, "wrong address; supplied by hand instead", now())
            .expect("cancel");
    let n = &changed.incident.notices[0];
    assert_eq!(n.state, DeliveryState::Cancelled);
    assert_eq!(
        n.cancel_reason.as_deref(),
        Some("wrong address; supplied by hand instead")
    );
    assert!(!copies.exists(), "copies deleted once cancelled");
    let audit = m.f.store.audit().entries_for(ID).expect("audit");
    let cancelled: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "notice.cancelled")
        .collect();
    assert_eq!(cancelled.len(), 1);
    assert!(
        cancelled[0]
            .detail
            .contains("wrong address; supplied by hand instead")
    );
    // Gone from what is still to go; a retry is refused.
    assert!(
        outbox::pending(&m.f.desk.outbox_dir())
            .expect("pending")
            .is_empty()
    );
    assert!(m.f.desk.retry_notice(&a.id, now()).is_err());
    let round =
        m.f.desk
            .deliver_due(now() + Duration::days(1))
            .expect("round");
    assert!(round.attempts.is_empty());
    assert_eq!(m.server.record.lock().expect("record").arrived, 1);
}

#[test]
fn a_reply_lost_after_data_is_unknown_and_resent_with_the_same_message_id() {
    let m = mail(
        Options {
            after_data: AfterData::Drop,
            misbehave_times: Some(1),
            ..Options::default()
        },
        CONTACTS,
        5,
    );
    let a =
        m.f.desk
            .send_notice(update(&m, "Containment done"), now())
            .expect("queued");
    assert_eq!(a.state, DeliveryState::Unknown);
    assert!(a.said.contains("UNKNOWN"), "{}", a.said);
    assert!(a.said.contains("same Message-ID"), "{}", a.said);
    assert_eq!(m.server.messages().len(), 1, "the server did get it");
    let q = outbox::get(&m.f.desk.outbox_dir(), &a.id).expect("get");
    assert_eq!(q.effective_state(), DeliveryState::Unknown);
    assert_eq!(
        m.f.desk.load(ID).expect("load").notices[0].state,
        DeliveryState::Unknown
    );

    // Not due before its backoff; then resent, and accepted.
    let round =
        m.f.desk
            .deliver_due(now() + Duration::seconds(10))
            .expect("round");
    assert!(round.attempts.is_empty());
    let round =
        m.f.desk
            .deliver_due(now() + Duration::minutes(1))
            .expect("round");
    assert_eq!(round.attempts.len(), 1);
    assert!(round.attempts[0].as_ref().is_ok_and(|a| a.sent()));
    let messages = m.server.messages();
    assert_eq!(messages.len(), 2, "at least once: here twice");
    let ids: Vec<String> = messages
        .iter()
        .map(|r| {
            MessageParser::default()
                .parse(&r.data)
                .and_then(|p| p.message_id().map(str::to_string))
                .expect("Message-ID")
        })
        .collect();
    assert_eq!(ids[0], ids[1], "the same Message-ID on both");
    assert_eq!(format!("<{}>", ids[0]), a.message_id);
    // Recorded exactly once.
    let record = m.f.desk.load(ID).expect("load");
    assert_eq!(record.notices.len(), 1);
    assert_eq!(record.notices[0].state, DeliveryState::Sent);
    let mentions = record
        .timeline
        .iter()
        .filter(|e| e.text.contains(&a.message_id) && e.text.starts_with("Update sent"))
        .count();
    assert_eq!(mentions, 1);
}

#[test]
fn a_stalled_server_leaves_the_notice_unknown() {
    let m = mail(
        Options {
            after_data: AfterData::Stall,
            ..Options::default()
        },
        CONTACTS,
        1,
    );
    let a =
        m.f.desk
            .send_notice(update(&m, "Containment done"), now())
            .expect("queued");
    assert_eq!(a.state, DeliveryState::Unknown, "{}", a.said);
    assert!(a.said.contains("did not answer"), "{}", a.said);
    let q = outbox::get(&m.f.desk.outbox_dir(), &a.id).expect("get");
    assert_eq!(q.state, DeliveryState::Unknown);
    assert!(q.next_attempt_at.is_some(), "it will be retried");
}

#[test]
fn a_second_8_1_notification_needs_a_reason() {
    let m = mail(Options::default(), CONTACTS, 5);
    // Made by phone first.
    m.f.notify(ID, minutes(5), None);
    let err =
        m.f.desk
            .compose_notice(NoticeRequest::new(ID, NoticeKind::Notification), now())
            .expect_err("already notified");
    assert!(
        err.to_string()
            .contains("already records its 8.1 notification"),
        "{err}"
    );
    assert!(err.to_string().contains("--again"), "{err}");
    // A notice composed before it was recorded is refused at sending too.
    let mut req = NoticeRequest::new(ID, NoticeKind::Notification);
    req.again = Some("the CSR asked for it in writing".into());
    let notice =
        m.f.desk
            .compose_notice(req, now())
            .expect("with a reason")
            .notice;
    assert!(notice.again_reason.is_some());
    let mut forged = notice.clone();
    forged.again_reason = None;
    forged.id = format!("{}0", &forged.id[..forged.id.len() - 1]);
    let err = m.f.desk.send_notice(forged, now()).expect_err("refused");
    assert!(err.to_string().contains("nothing queued"), "{err}");
    assert!(m.server.messages().is_empty());

    let a = m.f.desk.send_notice(notice, now()).expect("sent");
    assert!(a.sent(), "{}", a.said);
    let record = m.f.desk.load(ID).expect("load");
    // The phone notification stays the 8.1 notification.
    assert_eq!(record.notification.channel, Some(Channel::Phone));
    assert_eq!(
        record.notices[0].again_reason.as_deref(),
        Some("the CSR asked for it in writing")
    );
    assert!(record.timeline.iter().any(|e| {
        e.text
            .contains("sent again because: the CSR asked for it in writing")
    }));
    let raw = String::from_utf8_lossy(&m.server.messages()[0].data).to_string();
    assert!(raw.contains("Subject:"));
}

#[test]
fn copies_reply_to_threads_and_the_audit_head() {
    // (The extra config goes at the end of [responder].)
    let m = mail(
        Options::default(),
        r#"reply_to = "Provider SOC <soc@provider.example>"
[contacts]
other_party = "Client Security Representative <csr@client.example>"
cc = ["Provider SOC <soc@provider.example>", "GovCertUK <incidents@ncsc.example>"]
"#,
        5,
    );
    let desk = &m.f.desk;

    let mut req = NoticeRequest::new(ID, NoticeKind::Notification);
    req.add_cc = vec!["Legal <legal@provider.example>".into()];
    let first = desk.compose_notice(req, now()).expect("compose").notice;
    assert_eq!(
        first.in_reply_to, None,
        "the first notice starts the thread"
    );
    let a = desk.send_notice(first, now()).expect("sent");
    assert!(a.sent(), "{}", a.said);
    let mut req = NoticeRequest::new(ID, NoticeKind::Update);
    req.message = "Contained".into();
    let second = desk.compose_notice(req, now()).expect("compose").notice;
    let b = desk.send_notice(second, now() + minutes(1)).expect("sent");
    assert!(b.sent(), "{}", b.said);

    let messages = m.server.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(
        messages[0].rcpt_to,
        [
            "csr@client.example",
            "soc@provider.example",
            "incidents@ncsc.example",
            "legal@provider.example"
        ],
        "copies go in the envelope"
    );
    assert_eq!(
        messages[1].rcpt_to,
        [
            "csr@client.example",
            "soc@provider.example",
            "incidents@ncsc.example"
        ],
        "--cc is for one notice only"
    );
    let one = MessageParser::default()
        .parse(&messages[0].data)
        .expect("parse");
    let two = MessageParser::default()
        .parse(&messages[1].data)
        .expect("parse");
    let raw_header =
        |m: &mail_parser::Message<'_>, name: &str| m.header_raw(name).map(|v| v.trim().to_string());
    let cc = raw_header(&one, "Cc").expect("Cc header");
    assert!(
        cc.contains("soc@provider.example") && cc.contains("legal@provider.example"),
        "{cc}"
    );
    assert_eq!(
        raw_header(&one, "Reply-To").as_deref(),
        Some("\"Provider SOC\" <soc@provider.example>")
    );
    assert_eq!(raw_header(&one, "In-Reply-To"), None);
    assert_eq!(
        raw_header(&two, "In-Reply-To").as_deref(),
        Some(a.message_id.as_str())
    );
    assert_eq!(
        raw_header(&two, "References").as_deref(),
        Some(a.message_id.as_str())
    );

    // The audit head: 64 hex, and an entry hash in the log.
    let chain = breachdesk::audit::own_chain_file(desk.data_dir())
        .expect("machine id")
        .expect("this machine's chain");
    let log = std::fs::read_to_string(chain).expect("audit log");
    for m in [&one, &two] {
        let head = raw_header(m, "X-Breachdesk-Audit-Head").expect("audit head header");
        assert_eq!(head.len(), 64);
        assert!(head.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(log.contains(&head), "the head is an entry hash in the log");
    }
    let h1 = raw_header(&one, "X-Breachdesk-Audit-Head");
    let h2 = raw_header(&two, "X-Breachdesk-Audit-Head");
    assert_ne!(h1, h2, "the log moved on between the two");
    // What `breachdesk audit verify` reports as the head now.
    assert_eq!(
        desk.verify_audit(chrono::DateTime::UNIX_EPOCH)
            .expect("verify")
            .chain
            .last_hash
            .len(),
        64
    );
}

#[test]
fn recording_is_decided_by_message_id_inside_the_update() {
    let m = mail(Options::default(), CONTACTS, 5);
    let a =
        m.f.desk
            .send_notice(update(&m, "Containment done"), now())
            .expect("sent");
    assert!(a.sent());
    let q = outbox::get(&m.f.desk.outbox_dir(), &a.id).expect("get");
    let before = m.f.desk.load(ID).expect("load");
    // Recording the same acceptance again (a second round, another process)
    // changes nothing.
    for _ in 0..3 {
        let changed =
            m.f.desk
                .record_notice_state(&q, now() + minutes(1))
                .expect("record");
        assert!(!changed.written);
    }
    assert!(m.f.desk.reconcile_outbox(now() + minutes(1)).is_empty());
    let after = m.f.desk.load(ID).expect("load");
    assert_eq!(before, after);
    // A record from before the `notices` list existed still loads.
    let path = m.f.store.record_path(ID);
    let text = std::fs::read_to_string(&path).expect("read");
    let cut = text.find("[[email_notices]]").expect("notices written");
    let old: breachdesk::domain::incident::Incident =
        toml::from_str(&text[..cut]).expect("old record parses");
    assert!(old.notices.is_empty());
    // A record written while the list was called `notices` reads the same.
    let renamed: breachdesk::domain::incident::Incident =
        toml::from_str(&text.replace("[[email_notices]]", "[[notices]]"))
            .expect("record with [[notices]] parses");
    assert_eq!(renamed.notices, after.notices);
    assert!(!after.notices.is_empty());
}

#[test]
fn an_outbox_from_before_the_notices_list_is_reconciled_without_doubling() {
    let m = mail(Options::default(), CONTACTS, 5);
    let a =
        m.f.desk
            .send_notice(update(&m, "Containment done"), now())
            .expect("sent");
    assert!(a.sent());
    // As an older breachdesk left them: the outbox file has no format, and
    // the record has no notices list (its timeline says it was sent).
    let sent =
        m.f.desk
            .outbox_dir()
            .join("sent")
            .join(format!("{}.toml", a.id));
    let text = std::fs::read_to_string(&sent).expect("read");
    assert!(text.contains("format = 2"), "{text}");
    std::fs::write(&sent, text.replace("format = 2\n", "")).expect("write");
    let path = m.f.store.record_path(ID);
    let text = std::fs::read_to_string(&path).expect("read");
    let cut = text.find("[[email_notices]]").expect("notices");
    std::fs::write(&path, &text[..cut]).expect("write");

    let said = m.f.desk.reconcile_outbox(now() + minutes(1));
    assert_eq!(said.len(), 1, "{said:?}");
    let record = m.f.desk.load(ID).expect("load");
    assert_eq!(record.notices.len(), 1);
    assert_eq!(record.notices[0].state, DeliveryState::Sent);
    let mentions = record
        .timeline
        .iter()
        .filter(|e| e.text.starts_with("Update sent") && e.text.contains(&a.message_id))
        .count();
    assert_eq!(mentions, 1, "not applied twice");
}

#[test]
fn long_file_names_are_sent_and_a_failed_queue_leaves_no_copy() {
    let m = mail(Options::default(), CONTACTS, 5);
    m.f.desk
        .add_request(
            ID,
            Requester::Client,
            "CSR",
            "logs",
            now() - minutes(3),
            now() - minutes(3),
        )
        .expect("request");
    let dir = m.f.dir.path();
    let long = format!("{}.log", "a".repeat(246));
    assert_eq!(long.len(), 250);
    let path = dir.join(&long);
    std::fs::write(&path, b"long name\n").expect("write");
    let other = dir.join("second.log");
    std::fs::write(&other, b"v1").expect("write");
    let mut req = NoticeRequest::new(ID, NoticeKind::DataSupply);
    req.request = Some("R1".into());
    req.files = vec![path.clone(), other.clone()];
    let notice =
        m.f.desk
            .compose_notice(req.clone(), now())
            .expect("compose")
            .notice;
    // The second file changes after it was shown: refused, and the copy of
    // the first is not left behind.
    std::fs::write(&other, b"v2 changed").expect("write");
    let id = notice.id.clone();
    let err = m.f.desk.send_notice(notice, now()).expect_err("changed");
    assert!(err.to_string().contains("has changed"), "{err}");
    assert!(!m.f.desk.outbox_dir().join("files").join(&id).exists());
    assert!(m.f.desk.outbox_notices().expect("list").is_empty());

    // Composed again: the 250-character name goes, whole.
    let notice = m.f.desk.compose_notice(req, now()).expect("compose").notice;
    let a = m.f.desk.send_notice(notice, now()).expect("sent");
    assert!(a.sent(), "{}", a.said);
    let received = m.server.messages();
    let parsed = MessageParser::default()
        .parse(&received[0].data)
        .expect("parse");
    let names: Vec<_> = parsed
        .attachments()
        .map(|p| p.attachment_name().map(str::to_string))
        .collect();
    assert_eq!(names[0].as_deref(), Some(long.as_str()));

    // A name longer than the system allows: a clear error, nothing queued.
    let mut req = NoticeRequest::new(ID, NoticeKind::DataSupply);
    req.request = Some("R1".into());
    req.files = vec![dir.join(format!("{}.log", "b".repeat(296)))];
    let err = m.f.desk.compose_notice(req, now()).expect_err("too long");
    assert!(err.to_string().contains("the name is too long"), "{err}");
    assert!(err.to_string().contains("300 bytes"), "{err}");
}

#[test]
fn console_attachment_paths_expand_tilde_and_relative_paths() {
    use breachdesk::tui::form::expand_path;
    let cwd = std::env::current_dir().expect("cwd");
    assert_eq!(expand_path("logs/vpn.log"), cwd.join("logs/vpn.log"));
    assert_eq!(
        expand_path(" /tmp/x.log "),
        std::path::PathBuf::from("/tmp/x.log")
    );
    if let Some(home) = std::env::var_os("HOME") {
        let home = std::path::PathBuf::from(home);
        assert_eq!(
            expand_path("~/vpn.log"),
            std::path::absolute(home.join("vpn.log")).expect("abs")
        );
        assert_eq!(expand_path("~"), std::path::absolute(&home).expect("abs"));
    }
    // `~user` is not expanded (it is a relative name).
    assert_eq!(expand_path("~bob/x"), cwd.join("~bob/x"));
}

/// The console: the chooser, the warning for a second 8.1 notification,
/// and the editable Cc line.
mod console {
    use super::*;
    use breachdesk::tui::app::App;
    use ratatui::crossterm::event::KeyCode;

    fn chosen(app: &App) -> (NoticeKind, bool) {
        app.form()
            .and_then(|f| f.chosen_notice())
            .expect("the chooser is open")
    }

    #[test]
    fn the_chooser_never_offers_a_second_8_1_by_default_nor_wraps_to_it() {
        let m = mail(Options::default(), CONTACTS, 5);
        let f = &m.f;
        let mut app = f.app();
        f.key(&mut app, KeyCode::Enter);
        // Not notified yet: the notification first; Left does not wrap.
        f.chars(&mut app, "E");
        assert_eq!(chosen(&app), (NoticeKind::Notification, false));
        f.key(&mut app, KeyCode::Left);
        assert_eq!(chosen(&app), (NoticeKind::Notification, false));
        f.key(&mut app, KeyCode::Esc);

        // Notified by phone: an update first; Left stays there; the
        // notification is last, marked, and Right stops at it.
        f.notify(ID, minutes(5), None);
        f.send(
            &mut app,
            breachdesk::tui::app::Action::Cmd(breachdesk::tui::keymap::Cmd::Refresh),
        );
        f.key(&mut app, KeyCode::Esc);
        f.key(&mut app, KeyCode::Enter);
        f.chars(&mut app, "E");
        assert_eq!(chosen(&app), (NoticeKind::Update, false));
        f.key(&mut app, KeyCode::Left);
        assert_eq!(chosen(&app), (NoticeKind::Update, false), "no wrap");
        for _ in 0..5 {
            f.key(&mut app, KeyCode::Right);
        }
        assert_eq!(chosen(&app), (NoticeKind::Notification, true));
        f.key(&mut app, KeyCode::Enter);
        let form = app.form().expect("notification form");
        assert!(form.title.starts_with("WARNING"), "{}", form.title);
        assert!(form.title.contains("made by phone"), "{}", form.title);
        // Without a reason: refused, the warning stays.
        f.key(&mut app, KeyCode::Enter);
        let form = app.form().expect("still open");
        assert!(
            form.error
                .as_deref()
                .is_some_and(|e| e.contains("Again because")),
            "{:?}",
            form.error
        );
        assert!(app.preview().is_none());
        f.key(&mut app, KeyCode::Tab);
        f.key(&mut app, KeyCode::Tab);
        f.chars(&mut app, "the CSR asked for it in writing");
        f.key(&mut app, KeyCode::Enter);
        let preview = app.preview().expect("preview");
        assert_eq!(
            preview.notice.again_reason.as_deref(),
            Some("the CSR asked for it in writing")
        );
        let shown = support::screen_text(&support::draw(&app, now(), 120, 40));
        assert!(shown.contains("AGAIN:"), "{shown}");
    }

    #[test]
    fn the_cc_line_starts_from_the_config_and_can_be_edited() {
        let m = mail(
            Options::default(),
            r#"[contacts]
other_party = "Client Security Representative <csr@client.example>"
cc = ["Provider SOC <soc@provider.example>"]
"#,
            5,
        );
        let f = &m.f;
        f.notify(ID, minutes(5), None);
        let mut app = f.app();
        f.key(&mut app, KeyCode::Enter);
        f.chars(&mut app, "E");
        f.key(&mut app, KeyCode::Enter); // an update
        f.chars(&mut app, "Contained");
        f.key(&mut app, KeyCode::Tab); // the Cc line
        let shown = support::screen_text(&support::draw(&app, now(), 120, 40));
        assert!(shown.contains("soc@provider.example"), "{shown}");
        for _ in 0.."Provider SOC <soc@provider.example>".len() {
            f.key(&mut app, KeyCode::Backspace);
        }
        f.chars(
            &mut app,
            "legal@provider.example, \"Doe, J\" <jd@provider.example>",
        );
        f.ctrl(&mut app, 's');
        let preview = app.preview().unwrap_or_else(|| {
            panic!(
                "preview: {:?} {:?}",
                app.status,
                app.form().map(|f| &f.error)
            )
        });
        assert_eq!(
            preview.notice.cc,
            ["legal@provider.example", "\"Doe, J\" <jd@provider.example>"]
        );
    }

    #[test]
    fn the_outbox_shows_a_refused_notice_and_x_cancels_it_with_a_reason() {
        let m = mail(
            Options {
                data_reply: Some("554 5.7.1 Rejected".into()),
                ..Options::default()
            },
            CONTACTS,
            5,
        );
        let f = &m.f;
        f.notify(ID, minutes(5), None);
        let mut app = f.app();
        f.key(&mut app, KeyCode::Enter);
        f.chars(&mut app, "E");
        f.key(&mut app, KeyCode::Enter); // an update
        f.chars(&mut app, "Contained");
        f.ctrl(&mut app, 's');
        f.chars(&mut app, "y");
        let status = app.status.clone().expect("status");
        assert!(
            status.error && status.text.contains("REFUSED for good"),
            "{}",
            status.text
        );
        f.chars(&mut app, "O");
        let shown = support::screen_text(&support::draw(&app, now(), 120, 40));
        assert!(shown.contains("FAILED"), "{shown}");
        assert!(shown.contains("not retried automatically"), "{shown}");
        // The 30 s round never tries it again.
        let later = now() + Duration::hours(2);
        let jobs = app.update(breachdesk::tui::app::Action::Tick, later);
        breachdesk::tui::app::run_inline(&mut app, &f.desk, jobs, later);
        assert_eq!(m.server.record.lock().expect("record").arrived, 1);
        // X: the reason is required, then it is cancelled and recorded.
        f.chars(&mut app, "X");
        assert!(app.form().is_some());
        f.key(&mut app, KeyCode::Enter);
        assert!(app.form().and_then(|f| f.error.clone()).is_some());
        f.chars(&mut app, "sent by hand");
        f.key(&mut app, KeyCode::Enter);
        assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
        assert!(app.outbox.is_empty());
        let status = app.status.clone().expect("status");
        assert!(status.text.contains("Cancelled"), "{}", status.text);
        let record = f.desk.load(ID).expect("load");
        assert_eq!(record.notices[0].state, DeliveryState::Cancelled);
        assert_eq!(
            record.notices[0].cancel_reason.as_deref(),
            Some("sent by hand")
        );
    }

    #[test]
    fn a_file_name_too_long_is_a_clear_error_in_the_supply_form() {
        let m = mail(Options::default(), CONTACTS, 5);
        let f = &m.f;
        f.desk
            .add_request(
                ID,
                Requester::Client,
                "CSR",
                "logs",
                now() - minutes(3),
                now() - minutes(3),
            )
            .expect("request");
        f.notify(ID, minutes(5), None);
        let mut app = f.app();
        f.key(&mut app, KeyCode::Enter);
        f.key(&mut app, KeyCode::Tab);
        f.key(&mut app, KeyCode::Tab); // the data requests pane
        f.chars(&mut app, "E");
        f.key(&mut app, KeyCode::Right);
        f.key(&mut app, KeyCode::Right); // data supply
        f.key(&mut app, KeyCode::Enter);
        let name = format!("{}.log", "c".repeat(296));
        f.chars(&mut app, &format!("{}/{name}", f.dir.path().display()));
        f.key(&mut app, KeyCode::Enter);
        let error = app
            .form()
            .and_then(|f| f.error.clone())
            .expect("an error in the form");
        assert!(error.contains("the name is too long"), "{error}");
        assert!(app.preview().is_none());
        assert!(f.desk.outbox_notices().expect("list").is_empty());
        assert!(
            !f.desk.outbox_dir().join("files").exists()
                || std::fs::read_dir(f.desk.outbox_dir().join("files"))
                    .expect("dir")
                    .next()
                    .is_none()
        );
    }
}
