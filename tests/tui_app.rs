//! The console driven headless by keys and actions (no terminal), with the
//! desk's work run inline: state and the TOML files on disk are checked.

mod support;

use breachdesk::domain::incident::{RootCauseCategory, StepStatus};
use breachdesk::tui::app::{Action, Pane, Screen};
use breachdesk::tui::keymap::Cmd;
use ratatui::crossterm::event::KeyCode;
use support::{draw, fixture, minutes, now, screen_text};

fn record_file(f: &support::Fixture, id: &str) -> String {
    std::fs::read_to_string(f.desk.store.record_path(id)).expect("record file")
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
        app.form.is_none(),
        "form closed after saving: {:?}",
        app.form
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
    assert!(shown.contains("40:00 left"), "{shown}");

    // One key, type, Enter: a timeline entry.
    f.chars(&mut app, "lBlocked 198.51.100.7 at the edge firewall");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form.is_none());

    // A data request from GovCertUK.
    f.chars(&mut app, "a");
    f.key(&mut app, KeyCode::Right);
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "Duty officer");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "VPN auth logs for 9 March");
    f.key(&mut app, KeyCode::Enter);
    assert!(
        app.form.is_none(),
        "{:?}",
        app.form.as_ref().map(|f| &f.error)
    );

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
    assert!(
        app.form.is_none(),
        "{:?}",
        app.form.as_ref().map(|f| &f.error)
    );

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
    let form = app.form.as_ref().expect("form still open");
    assert!(form.confirm_discard);
    f.chars(&mut app, "n");
    assert!(!app.form.as_ref().expect("kept").confirm_discard);
    f.key(&mut app, KeyCode::Esc);
    f.chars(&mut app, "y");
    assert!(app.form.is_none());
    // An untouched form closes at once.
    f.chars(&mut app, "n");
    f.key(&mut app, KeyCode::Esc);
    assert!(app.form.is_none());
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
        app.form
            .as_ref()
            .is_some_and(|form| format!("{:?}", form.fields[1].value).contains(to)),
        "recipient defaults from config"
    );
    f.key(&mut app, KeyCode::Tab);
    for _ in 0..3 {
        f.key(&mut app, KeyCode::Backspace);
    }
    f.chars(&mut app, "-5m");
    f.key(&mut app, KeyCode::Enter);
    let form = app.form.as_ref().expect("form kept open");
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
    assert!(app.form.is_none());
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
    let error = app
        .form
        .as_ref()
        .and_then(|f| f.error.clone())
        .unwrap_or_default();
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
    assert!(app.form.is_none());
    assert_eq!(app.warnings.len(), 1, "{:?}", app.warnings);
    let shown = screen_text(&draw(&app, now(), 100, 30));
    assert!(shown.contains("REPEAT ROOT CAUSE"), "{shown}");
    insta::assert_snapshot!(
        "repeat_warning",
        draw(&app, now(), 100, 30).backend().to_string()
    );
    f.key(&mut app, KeyCode::Enter);
    assert!(app.warnings.is_empty());
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
    assert!(app.form.is_none(), "nothing to compose without [smtp]");
}
