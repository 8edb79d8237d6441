//! The console for the contract both ways: opening an incident the other
//! party identified (its 8.1 notice, no countdown for us), and severity
//! definitions from config shown as the Severity field's hint.

mod support;

use breachdesk::domain::incident::{Channel, IdentifiedBy};
use insta::assert_snapshot;
use ratatui::crossterm::event::KeyCode;
use support::{draw, fixture, fixture_with_config, now, screen_text};

#[test]
fn a_notice_from_the_other_party_opens_an_incident_with_no_countdown() {
    let f = fixture();
    let mut app = f.app();
    f.chars(&mut app, "nClient reports phishing wave");
    for _ in 0..5 {
        f.key(&mut app, KeyCode::Tab);
    }
    // Identified by: other-party.
    f.key(&mut app, KeyCode::Right);
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "-25m");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "Jo Bloggs, Client CSR");
    f.key(&mut app, KeyCode::Tab);
    // Channel: email -> phone.
    f.key(&mut app, KeyCode::Right);
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "CALL-42");
    let form = screen_text(&draw(&app, now(), 100, 30));
    assert!(form.contains("[other-party]"), "{form}");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "the form was accepted");

    let record = app
        .incident
        .as_ref()
        .and_then(|s| s.record.clone())
        .expect("the new incident is on screen");
    assert_eq!(record.identified_by, IdentifiedBy::OtherParty);
    let notice = record.notice_received.as_ref().expect("notice recorded");
    assert_eq!(notice.received_at, now() - chrono::Duration::minutes(25));
    assert_eq!(notice.channel, Channel::Phone);
    assert_eq!(notice.reference.as_deref(), Some("CALL-42"));
    // Unless told otherwise, it was identified when the notice arrived.
    assert_eq!(record.identified_at, notice.received_at);
    assert_eq!(
        record.step("8.1-received").map(|s| s.status),
        Some(breachdesk::domain::incident::StepStatus::Done)
    );
    assert!(!record.step("8.1").expect("step").applies(&record));

    let screen = draw(&app, now(), 100, 30).backend().to_string();
    assert!(!screen.contains("to notify the Client"), "{screen}");
    // N (record our 8.1 notification) has nothing to record here.
    f.chars(&mut app, "N");
    assert!(app.form().is_none());
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.error && s.text.contains("no 8.1 notification is due from us"))
    );
    app.status = None;
    // The id is random: keep the snapshot stable.
    assert_snapshot!(screen.replace(&record.id, "INC-20260310-1300-xxxxxx"));
}

#[test]
fn the_board_says_notice_received_instead_of_a_countdown() {
    let f = fixture();
    let mut app = f.app();
    f.chars(&mut app, "nClient reports phishing wave");
    for _ in 0..5 {
        f.key(&mut app, KeyCode::Tab);
    }
    f.key(&mut app, KeyCode::Right);
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "-25m");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "Jo Bloggs");
    f.key(&mut app, KeyCode::Enter);
    f.key(&mut app, KeyCode::Esc);
    let board = screen_text(&draw(&app, now(), 100, 30));
    assert!(board.contains("notice received"), "{board}");
    assert!(!board.contains("notify in"), "{board}");
}

#[test]
fn the_other_party_fields_are_required_when_it_identified_the_breach() {
    let f = fixture();
    let mut app = f.app();
    f.chars(&mut app, "nSomething");
    for _ in 0..5 {
        f.key(&mut app, KeyCode::Tab);
    }
    f.key(&mut app, KeyCode::Right);
    f.key(&mut app, KeyCode::Enter);
    let error = app.form().and_then(|f| f.error.clone()).expect("refused");
    assert!(error.starts_with("Received at:"), "{error}");
}

#[test]
fn severity_definitions_from_config_are_the_severity_hint() {
    let f = fixture_with_config(
        r#"
[responder]
name = "alice"
[severity]
critical = "a critical service is down or Government Data is leaving now"
[severity.client_scale]
critical = "P1"
"#,
    );
    let mut app = f.app();
    f.chars(&mut app, "nTitle");
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::Tab);
    let screen = screen_text(&draw(&app, now(), 100, 30));
    assert!(
        screen.contains("high: Government Data or personal data exposed"),
        "the default definition of the chosen level: {screen}"
    );
    f.key(&mut app, KeyCode::Right);
    let hint = app
        .form()
        .and_then(|form| form.focused())
        .map(|field| field.hint.to_string())
        .expect("the Severity field has focus");
    assert!(
        hint.ends_with(
            "critical: a critical service is down or Government Data is leaving now (Client's scale: P1)"
        ),
        "{hint}"
    );
    let screen = screen_text(&draw(&app, now(), 100, 30));
    assert!(
        screen.contains("critical: a critical service is down or Government Data is leaving now"),
        "{screen}"
    );
}

const ID: &str = "INC-20260310-1200-00a001";

#[test]
fn closing_as_not_a_breach_from_the_console_keeps_the_reasoning() {
    let f = fixture();
    f.incident(ID, "Odd logins", support::minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "C");
    // "Not a breach" with no reasoning is refused, the form stays.
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, " ");
    f.key(&mut app, KeyCode::Enter);
    let error = app
        .form()
        .and_then(|form| form.error.clone())
        .expect("refused");
    assert!(error.contains("not a Breach of Security"), "{error}");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "the Client's own pen test");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "accepted");
    let record = f.desk.load(ID).expect("load");
    let closure = record.closure.expect("closed");
    assert!(closure.not_a_breach);
    assert_eq!(closure.reason.as_deref(), Some("the Client's own pen test"));
    let screen = screen_text(&draw(&app, now(), 100, 30));
    assert!(screen.contains("CLOSED: not a Breach"), "{screen}");
}

#[test]
fn the_clients_written_relief_notice_is_recorded_from_the_mitigation_form() {
    let f = fixture();
    f.incident(ID, "VPN", support::minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "mMFA enforced");
    // What, Tested how, Tested, Affects KPIs, Relief asked at, Relief
    // granted, Relief period, Notice date, Notice ref.
    for _ in 0..3 {
        f.key(&mut app, KeyCode::Tab);
    }
    f.chars(&mut app, " ");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "-5m");
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "20-27 Nov");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "2026-03-09");
    f.key(&mut app, KeyCode::Enter);
    let error = app
        .form()
        .and_then(|form| form.error.clone())
        .expect("refused without a reference");
    assert!(error.starts_with("Notice ref:"), "{error}");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "CSR/41");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "accepted");
    // Relief was asked for an untested mitigation: warned, internally.
    assert!(
        app.warnings()
            .iter()
            .any(|w| w.contains("not recorded as tested") && w.contains("8.2.1 (c)")),
        "{:?}",
        app.warnings()
    );
    let relief = f.desk.load(ID).expect("load").mitigation.kpi_relief;
    let notice = relief.notice.expect("notice recorded");
    assert_eq!(notice.dated.to_string(), "2026-03-09");
    assert_eq!(notice.reference, "CSR/41");
    assert_eq!(notice.period, "20-27 Nov");
    assert_eq!(relief.granted, Some(true));
}

#[test]
fn the_clients_rca_decision_is_recorded_from_the_console() {
    let f = fixture();
    f.incident(ID, "VPN", support::minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "A");
    // unknown -> yes
    f.key(&mut app, KeyCode::Right);
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "CSR by phone");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "accepted");
    let record = f.desk.load(ID).expect("load");
    assert_eq!(
        record.rca_required,
        breachdesk::domain::incident::RcaRequired::Yes
    );
    assert!(record.timeline.iter().any(|e| e.text
        == "Recorded that the Client requires a root-cause analysis (8.2.1 f): CSR by phone"));
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::Tab);
    let screen = screen_text(&draw(&app, now(), 100, 30));
    assert!(
        screen.contains("RCA required  yes, by the Client"),
        "{screen}"
    );
}
