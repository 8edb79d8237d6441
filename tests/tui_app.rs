//! The console driven headless by keys and actions (no terminal), with the
//! desk's work run inline: state and the TOML files on disk are checked.

mod support;

use breachdesk::domain::incident::{RootCauseCategory, StepStatus};
use breachdesk::tui::app::{Action, Pane, Screen};
use breachdesk::tui::keymap::Cmd;
use ratatui::crossterm::event::KeyCode;
use support::{draw, fixture, minutes, now, screen_text};

fn record_file(f: &support::Fixture, id: &str) -> String {
    std::fs::read_to_string(f.store.record_path(id)).expect("record file")
}

#[test]
fn open_log_request_root_cause_all_saved() {
    let f = fixture();
    let mut app = f.app();
    // New incident: n, type the title, Tab past kind/severity/personal data,
    // identified 20 minutes ago, Enter.
    f.chars(&mut app, "nVPN credential stuffing");
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::Right); // kind: potential
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "y"); // personal data
    f.key(&mut app, KeyCode::Tab);
    for _ in 0.."now".len() {
        f.key(&mut app, KeyCode::Backspace);
    }
    f.chars(&mut app, "-20m");
    f.key(&mut app, KeyCode::Enter);
    assert!(
        app.form().is_none(),
        "form closed after saving: {:?}",
        app.form()
    );
    assert_eq!(app.screen, Screen::Incident);
    let record = app
        .incident
        .as_ref()
        .and_then(|s| s.record.clone())
        .expect("incident shown");
    let id = record.id.clone();
    assert_eq!(record.title, "VPN credential stuffing");
    assert_eq!(record.kind.as_str(), "potential");
    assert!(record.personal_data);
    assert_eq!(record.identified_at, now() - minutes(20));
    assert_eq!(record.notification.due_at, now() + minutes(40));
    assert_eq!(app.board.summaries.len(), 1, "board reloaded");
    let shown = screen_text(&draw(&app, now(), 100, 30));
    assert!(shown.contains("40m 00s left"), "{shown}");

    // One key, type, Enter: a timeline entry.
    f.chars(&mut app, "lBlocked 198.51.100.7 at the edge firewall");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none());

    // A data request from GovCertUK.
    f.chars(&mut app, "a");
    f.key(&mut app, KeyCode::Right);
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "Duty officer");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "VPN auth logs for 9 March");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));

    // The root cause, with a multi-line analysis, saved with Ctrl+S.
    f.chars(&mut app, "r");
    f.key(&mut app, KeyCode::Right);
    f.key(&mut app, KeyCode::Right); // weak-authentication
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "VPN gateway");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "No MFA on the VPN.");
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "Passwords reused from a public dump.");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "Enforce MFA; Block legacy auth");
    f.ctrl(&mut app, 's');
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));

    // Step 8.1 in progress from the Steps pane.
    f.chars(&mut app, "w");
    let saved = f.desk.load(&id).expect("load");
    assert_eq!(saved.steps[0].status, StepStatus::InProgress);

    let record = app
        .incident
        .as_ref()
        .and_then(|s| s.record.clone())
        .expect("record");
    assert_eq!(record.data_requests.len(), 1);
    assert_eq!(
        record.root_cause.category,
        Some(RootCauseCategory::WeakAuthentication)
    );

    // Everything is in the TOML file, and it parses with another TOML parser.
    let text = record_file(&f, &id);
    for needle in [
        "VPN credential stuffing",
        "Blocked 198.51.100.7 at the edge firewall",
        "VPN auth logs for 9 March",
        "govcertuk",
        "Duty officer",
        "weak-authentication",
        "VPN gateway",
        "No MFA on the VPN.",
        "Passwords reused from a public dump.",
        "Enforce MFA",
        "Block legacy auth",
        "in-progress",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    let _: serde_json::Value = basic_toml::from_str(&text).expect("TOML 1.0");
}

#[test]
fn q_in_a_form_types_q_and_esc_asks_before_discarding() {
    let f = fixture();
    let mut app = f.app();
    f.chars(&mut app, "nquarantine q");
    assert!(!app.quit);
    f.key(&mut app, KeyCode::Esc);
    let form = app.form().expect("form still open");
    assert!(form.confirm_discard);
    f.chars(&mut app, "n");
    assert!(!app.form().expect("kept").confirm_discard);
    f.key(&mut app, KeyCode::Esc);
    f.chars(&mut app, "y");
    assert!(app.form().is_none());
    // An untouched form closes at once.
    f.chars(&mut app, "n");
    f.key(&mut app, KeyCode::Esc);
    assert!(app.form().is_none());
    f.chars(&mut app, "q");
    assert!(app.quit);
}

#[test]
fn a_refused_save_keeps_the_text_and_says_why() {
    let f = fixture();
    let id = "INC-20260310-1100-00b002";
    f.incident(id, "Phishing", minutes(90));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    // Late notification without a delay reason: the desk refuses.
    f.chars(&mut app, "N");
    f.key(&mut app, KeyCode::Tab);
    let to = "csr@client.example";
    assert!(
        app.form()
            .is_some_and(|form| format!("{:?}", form.fields[1].value).contains(to)),
        "recipient defaults from config"
    );
    f.key(&mut app, KeyCode::Tab);
    for _ in 0..3 {
        f.key(&mut app, KeyCode::Backspace);
    }
    f.chars(&mut app, "-5m");
    f.key(&mut app, KeyCode::Enter);
    let form = app.form().expect("form kept open");
    let error = form.error.clone().unwrap_or_default();
    assert!(error.contains("reason for the delay"), "{error}");
    assert!(
        format!("{:?}", form.fields[2].value).contains("-5m"),
        "text kept"
    );
    // Give the reason: saved.
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "on-call phone flat");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none());
    let record = f.desk.load(id).expect("load");
    assert_eq!(record.notification.met_deadline, Some(false));
    let shown = screen_text(&draw(&app, now(), 100, 30));
    assert!(shown.contains("late by 25 min"), "{shown}");
    // A bad time is refused in the form, before the desk.
    f.chars(&mut app, "a");
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "logs");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "xx");
    f.key(&mut app, KeyCode::Enter);
    let error = app.form().and_then(|f| f.error.clone()).unwrap_or_default();
    assert!(error.starts_with("Received at"), "{error}");
}

#[test]
fn repeat_root_cause_is_loud() {
    let f = fixture();
    let first = "INC-20260301-0900-00a001";
    let second = "INC-20260310-1200-00b002";
    f.incident(first, "Earlier", minutes(9 * 24 * 60));
    f.desk
        .record_root_cause(
            first,
            RootCauseCategory::Misconfiguration,
            "S3 bucket",
            None,
            Vec::new(),
            now() - minutes(8 * 24 * 60),
        )
        .expect("first root cause");
    f.incident(second, "Again", minutes(10));
    let mut app = f.app();
    // Second row is the newer incident (the older one has no close deadline... find it).
    let row = app
        .board
        .visible()
        .iter()
        .position(|s| s.id == second)
        .expect("on board");
    for _ in 0..row {
        f.chars(&mut app, "j");
    }
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "r");
    f.key(&mut app, KeyCode::Right); // misconfiguration
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "s3 Bucket");
    f.ctrl(&mut app, 's');
    assert!(app.form().is_none());
    assert_eq!(app.warnings().len(), 1, "{:?}", app.warnings());
    let shown = screen_text(&draw(&app, now(), 100, 30));
    assert!(shown.contains("REPEAT ROOT CAUSE"), "{shown}");
    insta::assert_snapshot!(
        "repeat_warning",
        draw(&app, now(), 100, 30).backend().to_string()
    );
    f.key(&mut app, KeyCode::Enter);
    assert!(app.warnings().is_empty());
    for _ in 0..3 {
        f.send(&mut app, Action::Cmd(Cmd::NextPane));
    }
    assert_eq!(app.incident.as_ref().map(|s| s.pane), Some(Pane::RootCause));
    insta::assert_snapshot!(
        "root_cause_pane_repeat",
        draw(&app, now(), 100, 30).backend().to_string()
    );
}

#[test]
fn email_without_smtp_says_so_clearly() {
    let f = fixture();
    f.incident("INC-20260310-1200-00a001", "x", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "E");
    let status = app.status.clone().expect("status");
    assert!(status.error);
    assert!(status.text.contains("no [smtp] section"), "{}", status.text);
    assert!(app.form().is_none(), "nothing to compose without [smtp]");
}

// ---------------------------------------------------------------------------
// Email from the console, against a real loopback SMTP server (STARTTLS with
// a test CA, AUTH with the password from `password_command`).

#[path = "support/smtp_server.rs"]
mod smtp_server;

use breachdesk::tui::app::App;
use ratatui::crossterm::event::{KeyEvent, KeyModifiers};

const ID: &str = "INC-20260310-1250-00a001";
const USER: &str = "sam.patel";
const PASS: &str = "correct horse battery staple";

fn mail_fixture(port: u16, ca_pem: &str) -> support::Fixture {
    let f = support::fixture_with_config(&format!(
        r#"[responder]
name = "Sam Patel"
email = "sam.patel@provider.example"
role = "service-provider"
[contacts]
other_party = "Client Security Representative <csr@client.example>"
govcertuk = "GovCertUK <incidents@ncsc.example>"
[smtp]
host = "127.0.0.1"
port = {port}
security = "starttls"
username = "{USER}"
password_command = "printf '%s' '{PASS}'"
ca_file = "{{dir}}/ca.pem"
timeout_secs = 5
"#
    ));
    std::fs::write(f.dir.path().join("ca.pem"), ca_pem).expect("ca file");
    f
}

fn press(app: &mut App, c: char) -> Vec<breachdesk::tui::jobs::Job> {
    app.update(
        Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        now(),
    )
}

fn server_less_attempts(f: &support::Fixture) -> usize {
    breachdesk::mail::outbox::pending(&f.dir.path().join("data").join("outbox"))
        .expect("outbox")
        .iter()
        .map(|q| q.attempts.len())
        .sum()
}

fn outbox_pending(f: &support::Fixture) -> Vec<String> {
    std::fs::read_dir(f.dir.path().join("data").join("outbox"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.ends_with(".toml"))
                .collect()
        })
        .unwrap_or_default()
}

/// Opens the incident and composes the 8.1 notification up to the preview.
fn compose_notification(f: &support::Fixture, app: &mut App) {
    f.key(app, KeyCode::Enter); // open the incident
    f.chars(app, "E");
    assert!(app.form().is_some(), "{:?}", app.status);
    f.key(app, KeyCode::Enter); // the 8.1 notification is offered first
    f.key(app, KeyCode::Tab); // past To (from the config)
    f.chars(app, "VPN account disabled");
    f.key(app, KeyCode::Enter);
    let preview = app.preview().expect("the exact message is shown");
    assert_eq!(preview.notice.kind.as_str(), "notification");
    assert!(preview.notice.body.contains("VPN account disabled"));
    let shown = screen_text(&draw(app, now(), 100, 30));
    assert!(shown.contains("Subject:"), "{shown}");
    assert!(shown.contains("csr@client.example"), "{shown}");
    assert!(outbox_pending(f).is_empty(), "nothing queued before y");
}

#[test]
fn email_notification_is_sent_once_and_recorded() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pki = smtp_server::pki();
    let server = rt.block_on(smtp_server::TestServer::start(smtp_server::Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        auth: Some((USER.into(), PASS.into())),
        ..smtp_server::Options::default()
    }));
    let f = mail_fixture(server.port(), &pki.ca_pem);
    f.incident(ID, "VPN breach", minutes(10));
    let mut app = f.app();
    assert!(app.mail.smtp);
    compose_notification(&f, &mut app);

    // y queues and sends; y again while it is in flight does nothing.
    let jobs = press(&mut app, 'y');
    assert_eq!(jobs.len(), 1);
    assert!(app.mail_busy.is_some());
    assert!(press(&mut app, 'y').is_empty(), "one send per confirmation");
    assert!(press(&mut app, 'E').is_empty());
    let shown = screen_text(&draw(&app, now(), 100, 30));
    assert!(shown.contains("sending…"), "{shown}");
    breachdesk::tui::app::run_inline(&mut app, &f.desk, jobs, now());
    assert!(app.mail_busy.is_none());
    assert!(app.preview().is_none());
    let status = app.status.clone().expect("status");
    assert!(!status.error, "{}", status.text);
    assert!(status.text.contains("Sent"), "{}", status.text);

    let messages = server.messages();
    assert_eq!(messages.len(), 1, "exactly one message");
    assert!(messages[0].tls);
    assert_eq!(messages[0].auth_user.as_deref(), Some(USER));
    assert_eq!(messages[0].rcpt_to, ["csr@client.example"]);
    let data = String::from_utf8_lossy(&messages[0].data).to_string();

    let record: toml::Value = toml::from_str(&record_file(&f, ID)).expect("toml");
    let n = &record["notification"];
    assert_eq!(n["channel"].as_str(), Some("email"));
    assert_eq!(n["met_deadline"].as_bool(), Some(true));
    let reference = n["reference"].as_str().expect("Message-ID as reference");
    assert!(
        reference.starts_with('<') && data.contains(reference),
        "{reference}"
    );
    let audit = f.store.audit().entries_for(ID).expect("audit");
    assert_eq!(
        audit.iter().filter(|e| e.action == "notice.sent").count(),
        1
    );
    // The screen shows it notified; the outbox is empty.
    let record = app
        .incident
        .as_ref()
        .and_then(|s| s.record.clone())
        .expect("record");
    assert!(record.notification.made_at.is_some());
    assert!(app.outbox.is_empty());
    assert!(outbox_pending(&f).is_empty());
    drop(server);
}

#[test]
fn late_notification_asks_for_the_reason_first() {
    // A port held (bound, not listening) by this test: a connection would
    // be refused, never reach someone else's server.
    let reserved = smtp_server::reserve_port();
    let f = mail_fixture(reserved.port(), "not used");
    f.incident(ID, "VPN breach", minutes(75));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "E");
    f.key(&mut app, KeyCode::Enter);
    f.key(&mut app, KeyCode::Enter);
    let form = app.form().expect("still asking");
    assert!(
        form.error
            .as_deref()
            .is_some_and(|e| e.contains("Delay reason")),
        "{:?}",
        form.error
    );
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "Phones down during the outage");
    f.key(&mut app, KeyCode::Enter);
    let preview = app.preview().expect("preview");
    assert_eq!(
        preview.notice.delay_reason.as_deref(),
        Some("Phones down during the outage")
    );
    assert!(
        preview
            .notice
            .body
            .contains("Phones down during the outage")
    );
}

#[test]
fn failed_send_shows_the_error_and_keeps_the_notice() {
    // A port held (bound, not listening) for the whole test: nobody listens
    // on it yet, and nobody else can take it.
    let reserved = smtp_server::reserve_port();
    let port = reserved.port();
    let pki = smtp_server::pki();
    let f = mail_fixture(port, &pki.ca_pem);
    f.incident(ID, "VPN breach", minutes(10));
    let mut app = f.app();
    compose_notification(&f, &mut app);
    f.chars(&mut app, "y");
    let status = app.status.clone().expect("status");
    assert!(status.error);
    assert!(status.text.contains("could not connect"), "{}", status.text);
    assert!(
        status.text.contains("kept in the outbox"),
        "{}",
        status.text
    );
    assert_eq!(outbox_pending(&f).len(), 1, "the notice waits in outbox/");
    assert_eq!(app.outbox.len(), 1);
    assert!(app.outbox[0].last_error.is_some());
    assert!(
        f.desk
            .load(ID)
            .expect("load")
            .notification
            .made_at
            .is_none()
    );
    // The outbox view lists it with its error; R retries (and fails again).
    f.chars(&mut app, "O");
    assert!(app.outbox_open());
    let shown = screen_text(&draw(&app, now(), 100, 30));
    assert!(shown.contains("1 still to go"), "{shown}");
    assert!(shown.contains("PENDING"), "{shown}");
    assert!(shown.contains("last error"), "{shown}");
    f.chars(&mut app, "R");
    assert_eq!(app.outbox.len(), 1);
    assert_eq!(app.outbox[0].attempts, 2);
    f.key(&mut app, KeyCode::Esc);
    assert!(!app.outbox_open());
    // The 30 s round tries due notices (backoff: not yet due) without a key.
    let jobs = app.update(Action::Tick, now());
    // The round's job, besides the once-a-second look at the records on disk.
    let rounds = jobs
        .iter()
        .filter(|j| !matches!(j.kind, breachdesk::tui::jobs::JobKind::Stamp(_)))
        .count();
    assert_eq!(rounds, 1);
    assert!(
        app.update(Action::Tick, now()).is_empty(),
        "one round at a time"
    );
    breachdesk::tui::app::run_inline(&mut app, &f.desk, jobs, now());
    assert!(app.outbox_round.is_none());
    assert_eq!(server_less_attempts(&f), 2, "not due yet: no attempt");

    // The server comes up; the next round (after the backoff) sends the
    // notice once and records it, without closing a preview on screen.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let options = smtp_server::Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        auth: Some((USER.into(), PASS.into())),
        ..smtp_server::Options::default()
    };
    let server = rt.block_on(async { reserved.start(options) });
    // A notification is confirmed (pending): the chooser offers an update first.
    f.chars(&mut app, "E");
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "Still working on it");
    f.ctrl(&mut app, 's');
    assert!(
        app.preview().is_some(),
        "{:?} {:?}",
        app.status,
        app.form().map(|f| (&f.title, &f.error))
    );
    let later = now() + minutes(2);
    let jobs = app.update(Action::Tick, later);
    // The round's job, besides the once-a-second look at the records on disk.
    let rounds = jobs
        .iter()
        .filter(|j| !matches!(j.kind, breachdesk::tui::jobs::JobKind::Stamp(_)))
        .count();
    assert_eq!(rounds, 1);
    breachdesk::tui::app::run_inline(&mut app, &f.desk, jobs, later);
    assert!(
        app.preview().is_some(),
        "the round leaves the preview alone"
    );
    assert_eq!(server.messages().len(), 1);
    assert!(app.outbox.is_empty());
    assert!(outbox_pending(&f).is_empty());
    let saved = f.desk.load(ID).expect("load");
    assert_eq!(
        saved.notification.channel,
        Some(breachdesk::domain::incident::Channel::Email)
    );
    f.key(&mut app, KeyCode::Esc);
    assert!(app.preview().is_none());
    assert_eq!(
        server.messages().len(),
        1,
        "the cancelled preview sent nothing"
    );
}

#[test]
fn close_with_open_steps_needs_a_reason() {
    let f = fixture();
    f.incident(ID, "VPN breach", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "C");
    f.key(&mut app, KeyCode::Enter);
    let form = app.form().expect("asks for a reason");
    assert!(form.error.as_deref().is_some_and(|e| e.contains("Reason")));
    f.chars(&mut app, "Duplicate of INC-20260309-0900-00b002");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
    let text = record_file(&f, ID);
    let record: toml::Value = toml::from_str(&text).expect("toml");
    assert_eq!(record["status"].as_str(), Some("closed"));
    assert!(text.contains("Duplicate of INC-20260309-0900-00b002"));
    // And reopen, with a reason.
    f.chars(&mut app, "C");
    f.chars(&mut app, "Not a duplicate after all");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
    let record: toml::Value = toml::from_str(&record_file(&f, ID)).expect("toml");
    assert_eq!(record["status"].as_str(), Some("open"));
}

#[test]
fn moving_identified_at_needs_a_reason() {
    let f = fixture();
    f.incident(ID, "VPN breach", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "e");
    // Title, Summary, Kind, Severity, Personal data, Govt. data, Add assets,
    // Add responders, then Identified at.
    for _ in 0..8 {
        f.key(&mut app, KeyCode::Tab);
    }
    for _ in 0..40 {
        f.key(&mut app, KeyCode::Backspace);
    }
    f.chars(&mut app, "-30m");
    f.key(&mut app, KeyCode::Enter);
    let form = app.form().expect("asks why");
    assert!(
        form.error
            .as_deref()
            .is_some_and(|e| e.contains("Why moved")),
        "{:?}",
        form.error
    );
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "Firewall alert seen earlier in the SIEM");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
    let saved = f.desk.load(ID).expect("load");
    assert_eq!(saved.identified_at, now() - minutes(30));
    assert_eq!(saved.notification.due_at, now() + minutes(30));
    assert!(record_file(&f, ID).contains("Firewall alert seen earlier in the SIEM"));
}

#[test]
fn summary_assets_and_responders_are_edited_from_the_console() {
    let f = fixture();
    f.incident(ID, "VPN breach", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "e");
    f.key(&mut app, KeyCode::Tab); // Summary: multi-line, Enter types a new line
    f.chars(&mut app, "Credential stuffing on the VPN.");
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "Two accounts used from abroad.");
    for _ in 0..5 {
        f.key(&mut app, KeyCode::Tab);
    }
    f.chars(&mut app, "vpn-gw-01, payroll-db");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "Sam Duty; Alex Oncall");
    f.ctrl(&mut app, 's');
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
    let saved = f.desk.load(ID).expect("load");
    assert_eq!(
        saved.summary,
        "Credential stuffing on the VPN.\nTwo accounts used from abroad."
    );
    assert_eq!(saved.affected_assets, ["vpn-gw-01", "payroll-db"]);
    assert!(
        saved
            .responders
            .ends_with(&["Sam Duty".to_string(), "Alex Oncall".to_string()]),
        "{:?}",
        saved.responders
    );
    let text = record_file(&f, ID);
    assert!(
        text.contains("payroll-db") && text.contains("Alex Oncall"),
        "{text}"
    );

    // Opened again, the summary is there to change and the hints name what is
    // already listed; an unchanged form adds nothing twice.
    f.chars(&mut app, "e");
    let form = app.form().expect("edit form");
    let hint = |id: &str| {
        form.fields
            .iter()
            .find(|x| x.label == id)
            .map(|x| x.hint.to_string())
            .unwrap_or_default()
    };
    assert!(
        hint("Add assets").ends_with("now: vpn-gw-01, payroll-db"),
        "{}",
        hint("Add assets")
    );
    assert!(hint("Add responders").contains("Alex Oncall"));

    f.chars(&mut app, " (confirmed)");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
    let saved = f.desk.load(ID).expect("load");
    assert_eq!(saved.title, "VPN breach (confirmed)");
    assert_eq!(saved.affected_assets.len(), 2);
    assert!(saved.summary.ends_with("from abroad."));
    // A name with a terminal escape in it (from the command line) is shown
    // harmlessly in the hint.
    f.desk
        .edit(
            ID,
            breachdesk::desk::Edit {
                add_assets: vec!["\u{1b}]0;owned\u{7}db".into()],
                ..Default::default()
            },
            now(),
        )
        .expect("edit");
    f.send(&mut app, breachdesk::tui::app::Action::Cmd(Cmd::Refresh));
    f.chars(&mut app, "e");
    let form = app.form().expect("edit form");
    let assets = form
        .fields
        .iter()
        .find(|x| x.label == "Add assets")
        .map(|x| x.hint.to_string())
        .unwrap_or_default();
    assert!(
        assets.ends_with("^[]0;owned^Gdb") && !assets.contains('\u{1b}'),
        "{assets:?}"
    );
}

#[test]
fn evidence_file_on_a_step_is_hashed() {
    let f = fixture();
    f.incident(ID, "VPN breach", minutes(10));
    let file = f.dir.path().join("fw.csv");
    std::fs::write(&file, b"time,src\n12:49,198.51.100.7\n").expect("file");
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "v");
    f.chars(&mut app, &file.display().to_string());
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
    let text = record_file(&f, ID);
    assert!(text.contains("sha256"), "{text}");
    assert!(text.contains("fw.csv"));
}

#[test]
fn text_fields_edit_at_the_cursor() {
    let f = fixture();
    f.incident(ID, "VPN breach", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "lwrld");
    f.key(&mut app, KeyCode::Home);
    f.chars(&mut app, "hello ");
    f.key(&mut app, KeyCode::Right);
    f.chars(&mut app, "o");
    f.key(&mut app, KeyCode::End);
    f.chars(&mut app, "!?");
    f.key(&mut app, KeyCode::Left);
    f.key(&mut app, KeyCode::Delete);
    f.key(&mut app, KeyCode::Left);
    f.key(&mut app, KeyCode::Backspace); // the d, before the cursor
    f.chars(&mut app, "d");
    f.key(&mut app, KeyCode::End);
    let shown = screen_text(&draw(&app, now(), 100, 30));
    assert!(shown.contains("hello world!▏"), "{shown}");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none());
    assert!(record_file(&f, ID).contains("hello world!"));
}

#[test]
fn report_supply_and_update_by_email() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pki = smtp_server::pki();
    let server = rt.block_on(smtp_server::TestServer::start(smtp_server::Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        auth: Some((USER.into(), PASS.into())),
        ..smtp_server::Options::default()
    }));
    let f = mail_fixture(server.port(), &pki.ca_pem);
    f.incident(ID, "VPN breach", minutes(10));
    f.notify(ID, minutes(5), None);
    f.desk
        .add_request(
            ID,
            breachdesk::domain::incident::Requester::GovCertUk,
            "Duty officer",
            "VPN logs",
            now() - minutes(3),
            now() - minutes(3),
        )
        .expect("request");
    let logs = f.dir.path().join("vpn.log");
    std::fs::write(&logs, b"03:12 login admin from 203.0.113.7\n").expect("logs");
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);

    // 8.2.1 (f): the report, with what is missing shown before confirming.
    f.chars(&mut app, "E");
    f.key(&mut app, KeyCode::Right); // from the update (offered first once notified) to the report
    f.key(&mut app, KeyCode::Enter);
    f.key(&mut app, KeyCode::Enter); // the report's form: only the Cc line
    let preview = app.preview().expect("report preview");
    assert_eq!(preview.notice.kind.as_str(), "full-report");
    assert!(!preview.missing.is_empty());
    // The full details as Markdown and as printable HTML.
    assert_eq!(preview.notice.attachments.len(), 2);
    assert!(
        preview.notice.attachments[1]
            .content_type
            .starts_with("text/html"),
        "{:?}",
        preview.notice.attachments
    );
    let shown = screen_text(&draw(&app, now(), 100, 30));
    assert!(shown.contains("Still missing"), "{shown}");
    f.chars(&mut app, "y");
    assert!(
        !app.status.clone().expect("status").error,
        "{:?}",
        app.status
    );

    // 8.2.1 (e): supply the selected request, with a file.
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::Tab); // Data requests
    assert_eq!(app.incident.as_ref().map(|s| s.pane), Some(Pane::Requests));
    f.chars(&mut app, "E");
    f.key(&mut app, KeyCode::Right);
    f.key(&mut app, KeyCode::Right); // data supply
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, &logs.display().to_string());
    f.key(&mut app, KeyCode::Enter);
    let preview = app.preview().expect("supply preview");
    assert_eq!(preview.notice.kind.as_str(), "data-supply");
    assert_eq!(preview.notice.to.len(), 1);
    assert!(preview.notice.to[0].contains("incidents@ncsc.example"));
    f.chars(&mut app, "y");
    assert!(
        !app.status.clone().expect("status").error,
        "{:?}",
        app.status
    );

    // A free-form update (the default once notified).
    f.chars(&mut app, "E");
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "Logs supplied; MFA rollout tomorrow.");
    f.ctrl(&mut app, 's');
    assert!(
        app.preview().is_some(),
        "{:?}",
        app.form().map(|f| &f.error)
    );
    f.chars(&mut app, "y");
    assert!(
        !app.status.clone().expect("status").error,
        "{:?}",
        app.status
    );

    assert_eq!(server.messages().len(), 3);
    let saved = f.desk.load(ID).expect("load");
    assert_eq!(
        saved.data_requests[0].status,
        breachdesk::domain::incident::RequestStatus::Supplied
    );
    let audit = f.store.audit().entries_for(ID).expect("audit");
    assert_eq!(
        audit.iter().filter(|e| e.action == "notice.sent").count(),
        3
    );
    drop(server);
}

#[test]
fn deadline_passing_on_the_preview_asks_for_the_reason() {
    // A port held (bound, not listening) by this test: a connection would
    // be refused, never reach someone else's server.
    let reserved = smtp_server::reserve_port();
    let f = mail_fixture(reserved.port(), "not used");
    f.incident(ID, "VPN breach", minutes(59));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "E");
    f.key(&mut app, KeyCode::Enter);
    f.key(&mut app, KeyCode::Enter);
    assert!(app.preview().is_some(), "on time: no reason asked");
    let jobs = app.update(
        Action::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)),
        now() + minutes(2),
    );
    assert!(jobs.is_empty(), "nothing queued");
    let status = app.status.clone().expect("status");
    assert!(status.error && status.text.contains("reason for the delay"));
    assert!(outbox_pending(&f).is_empty());
}

#[test]
fn closed_incidents_are_read_only_when_shown() {
    let f = fixture();
    f.incident("INC-20260310-1200-00c001", "still open", minutes(20));
    f.incident("INC-20260310-1200-00c002", "long closed", minutes(30));
    f.desk
        .close(
            "INC-20260310-1200-00c002",
            Some("false alarm".into()),
            now(),
        )
        .expect("close");
    let mut app = f.app();
    f.send(&mut app, Action::Cmd(Cmd::Refresh));
    assert_eq!(app.board.visible().len(), 1);
    assert_eq!(app.board.closed, 1);
    assert!(app.board.summaries.iter().all(|s| s.title != "long closed"));

    f.key(&mut app, KeyCode::Char('c'));
    let titles: Vec<&str> = app
        .board
        .visible()
        .iter()
        .map(|s| s.title.as_str())
        .collect();
    assert_eq!(titles, ["still open", "long closed"]);
    let screen = screen_text(&draw(&app, now(), 100, 30));
    assert!(screen.contains("long closed (closed)"), "{screen}");

    f.key(&mut app, KeyCode::Char('c'));
    assert_eq!(app.board.visible().len(), 1);
}

#[test]
fn overlays_are_one_stack_and_the_top_one_gets_the_key() {
    use breachdesk::tui::app::Overlay;
    let f = fixture();
    f.incident(ID, "Phishing", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Incident);
    // The outbox, then help over it: help shows the outbox's keys, and the
    // next key only closes help (R does not reach the outbox).
    f.chars(&mut app, "O");
    f.chars(&mut app, "?");
    assert!(matches!(app.overlays.top(), Some(Overlay::Help)));
    assert!(screen_text(&draw(&app, now(), 100, 30)).contains("Keys: outbox"));
    let said = app.status.clone();
    f.chars(&mut app, "R");
    assert!(!app.help_open());
    assert!(app.outbox_open(), "the outbox is still open under help");
    assert_eq!(app.status, said, "R went to help, not to the outbox");
    f.key(&mut app, KeyCode::Esc);
    assert!(!app.outbox_open());
    assert!(app.overlays.is_empty());
    // A form, then help over it (F1): q closes help and types nothing.
    f.chars(&mut app, "lSwitched the VPN off");
    f.key(&mut app, KeyCode::F(1));
    assert!(matches!(app.overlays.top(), Some(Overlay::Help)));
    f.chars(&mut app, "q");
    assert!(!app.quit && !app.help_open());
    let typed = app
        .form()
        .map(|form| format!("{:?}", form.fields[0].value))
        .expect("the form is still open");
    assert!(
        typed.contains("Switched the VPN off") && !typed.contains("offq"),
        "{typed}"
    );
    // Esc asks before discarding; y discards: nothing is left over the screen.
    f.key(&mut app, KeyCode::Esc);
    f.chars(&mut app, "y");
    assert!(app.form().is_none());
    assert!(app.overlays.is_empty());
}

#[test]
fn a_step_note_keeps_the_steps_status() {
    let f = fixture();
    f.incident(ID, "VPN breach", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    let step = {
        let record = f.desk.load(ID).expect("load");
        breachdesk::domain::playbook::shown_steps(&record)[0]
            .id
            .clone()
    };
    f.chars(&mut app, "w"); // in progress
    f.chars(&mut app, "o");
    f.chars(&mut app, "Asked the SOC for logs");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
    let record = f.desk.load(ID).expect("load");
    let saved = record.step(&step).expect("the step");
    assert_eq!(
        saved.status,
        StepStatus::InProgress,
        "the note kept the status"
    );
    assert!(
        format!("{saved:?}").contains("Asked the SOC for logs"),
        "{saved:?}"
    );
    // The desk refuses a step the incident does not have, naming it.
    let refused = f
        .desk
        .update_step(ID, "9.9.9", None, Some("x".into()), None, now())
        .expect_err("no such step");
    assert!(refused.to_string().contains("no step '9.9.9'"), "{refused}");
}
