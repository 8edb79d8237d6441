//! Snapshots of every console screen with a fixed clock, fixed ids and a
//! fixed responder (TestBackend + insta).

mod support;

use breachdesk::tui::app::{Action, Pane};
use breachdesk::tui::keymap::Cmd;
use insta::assert_snapshot;
use ratatui::crossterm::event::KeyCode;
use support::{draw, fixture, minutes, now, screen_text};

const ID: &str = "INC-20260310-1200-00a001";

fn incident_screen(ago: i64, notified: Option<(i64, Option<&str>)>) -> String {
    let f = fixture();
    f.incident(ID, "Ransomware on the payroll file server", minutes(ago));
    if let Some((at, reason)) = notified {
        f.notify(ID, minutes(at), reason);
    }
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    assert!(app.incident.as_ref().is_some_and(|s| s.record.is_some()));
    draw(&app, now(), 100, 30).backend().to_string()
}

#[test]
fn incident_running() {
    assert_snapshot!(incident_screen(10, None));
}

#[test]
fn incident_amber_under_15_minutes() {
    assert_snapshot!(incident_screen(50, None));
}

#[test]
fn incident_red_under_5_minutes() {
    assert_snapshot!(incident_screen(57, None));
}

#[test]
fn incident_overdue() {
    assert_snapshot!(incident_screen(67, None));
}

#[test]
fn incident_notified_on_time() {
    assert_snapshot!(incident_screen(40, Some((17, None))));
}

#[test]
fn incident_notified_late() {
    assert_snapshot!(incident_screen(
        90,
        Some((23, Some("on-call phone was dead")))
    ));
}

#[test]
fn clock_colours_follow_the_time_left() {
    use ratatui::style::Color;
    let f = fixture();
    let mut app = f.app();
    f.incident(ID, "t", minutes(50));
    f.send(&mut app, Action::Cmd(Cmd::Refresh));
    f.key(&mut app, KeyCode::Enter);
    // The gauge's first filled cell (row 3, just inside the border).
    let fg = |at| draw(&app, at, 100, 30).backend().buffer()[(1, 3)].fg;
    assert_eq!(fg(now() - minutes(30)), Color::Green, "plenty of time");
    assert_eq!(fg(now()), Color::Rgb(255, 176, 0), "amber under 15 min");
    assert_eq!(fg(now() + minutes(7)), Color::Red, "red under 5 min");
}

#[test]
fn board_with_incidents() {
    let f = fixture();
    f.incident(
        "INC-20260310-1200-00a001",
        "Ransomware on the payroll file server",
        minutes(50),
    );
    f.incident(
        "INC-20260310-1100-00b002",
        "Phishing: 3 staff entered passwords",
        minutes(120),
    );
    f.incident(
        "INC-20260309-0900-00c003",
        "Lost laptop (encrypted)",
        minutes(28 * 60),
    );
    f.notify("INC-20260309-0900-00c003", minutes(27 * 60 + 30), None);
    f.incident(
        "INC-20260310-1250-00d004",
        "Port scan from 203.0.113.9",
        minutes(5),
    );
    f.incident("INC-20260310-1240-00e005", "Closed one", minutes(20));
    f.desk
        .close(
            "INC-20260310-1240-00e005",
            Some("false alarm".into()),
            now(),
        )
        .expect("close");
    let app = f.app();
    assert_snapshot!(draw(&app, now(), 100, 30).backend().to_string());
}

#[test]
fn board_empty_welcome() {
    let f = fixture();
    let app = f.app();
    assert_snapshot!(draw(&app, now(), 80, 24).backend().to_string());
}

#[test]
fn board_80x24_and_filter() {
    let f = fixture();
    f.incident(
        "INC-20260310-1200-00a001",
        "Ransomware on the payroll file server",
        minutes(50),
    );
    f.incident(
        "INC-20260310-1100-00b002",
        "Phishing: 3 staff entered passwords",
        minutes(120),
    );
    let mut app = f.app();
    f.chars(&mut app, "/phish");
    assert_eq!(app.board.visible().len(), 1);
    assert_snapshot!(draw(&app, now(), 80, 24).backend().to_string());
}

#[test]
fn incident_80x24() {
    let f = fixture();
    f.incident(ID, "Ransomware on the payroll file server", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    assert_snapshot!(draw(&app, now(), 80, 24).backend().to_string());
}

#[test]
fn too_small() {
    let f = fixture();
    let app = f.app();
    assert_snapshot!(draw(&app, now(), 79, 24).backend().to_string());
    let text = screen_text(&draw(&app, now(), 60, 10));
    assert!(text.contains("enlarge the terminal"), "{text}");
}

#[test]
fn new_incident_form() {
    let f = fixture();
    let mut app = f.app();
    f.chars(&mut app, "nWeb shell on intranet");
    assert_snapshot!(draw(&app, now(), 100, 30).backend().to_string());
}

#[test]
fn root_cause_form_with_multiline_analysis() {
    let f = fixture();
    f.incident(ID, "Ransomware", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "r");
    f.key(&mut app, KeyCode::Right);
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "VPN gateway");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "Default admin password left on.");
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "Found by the scanner.");
    assert_snapshot!(draw(&app, now(), 100, 30).backend().to_string());
}

#[test]
fn data_request_form_and_pane() {
    let f = fixture();
    f.incident(ID, "Ransomware", minutes(10));
    f.desk
        .add_request(
            ID,
            breachdesk::domain::incident::Requester::GovCertUk,
            "Duty officer",
            "Firewall logs 01:00-04:00",
            now() - minutes(5),
            now() - minutes(5),
        )
        .expect("request");
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::Tab);
    assert_eq!(app.incident.as_ref().map(|s| s.pane), Some(Pane::Requests));
    assert_snapshot!(
        "requests_pane",
        draw(&app, now(), 100, 30).backend().to_string()
    );
    f.chars(&mut app, "a");
    assert_snapshot!(
        "request_form",
        draw(&app, now(), 100, 30).backend().to_string()
    );
}

#[test]
fn help_overlays() {
    let f = fixture();
    f.incident(ID, "Ransomware", minutes(10));
    let mut app = f.app();
    f.chars(&mut app, "?");
    assert_snapshot!(
        "help_board",
        draw(&app, now(), 80, 24).backend().to_string()
    );
    f.key(&mut app, KeyCode::Esc);
    assert!(!app.help_open());
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "?");
    assert_snapshot!(
        "help_incident",
        draw(&app, now(), 100, 30).backend().to_string()
    );
}

#[test]
fn hostile_title_is_drawn_harmlessly() {
    let f = fixture();
    let title = "pwn\u{1b}]0;pwned\u{7} \u{1b}[2J gone\u{9b}31m";
    f.incident(ID, title, minutes(10));
    let mut app = f.app();
    for at_incident in [false, true] {
        if at_incident {
            f.key(&mut app, KeyCode::Enter);
        }
        let terminal = draw(&app, now(), 100, 30);
        let buffer = terminal.backend().buffer();
        for cell in buffer.content() {
            assert!(
                !cell.symbol().chars().any(|c| c.is_control()),
                "control character in a cell: {:?}",
                cell.symbol()
            );
        }
        let text = screen_text(&terminal);
        assert!(text.contains("pwn^[]0;pwned^G ^[[2J gone"), "{text}");
    }
}

#[test]
fn monochrome_has_no_colour() {
    use ratatui::style::Color;
    let f = fixture();
    f.incident(ID, "Ransomware", minutes(67));
    let mut app = f.app();
    app.theme = breachdesk::tui::theme::Theme::monochrome();
    f.key(&mut app, KeyCode::Enter);
    let terminal = draw(&app, now(), 100, 30);
    for cell in terminal.backend().buffer().content() {
        assert_eq!(cell.fg, Color::Reset);
        assert_eq!(cell.bg, Color::Reset);
    }
}

/// A notice built by hand (fixed ids, no random Message-ID).
fn fixed_notice() -> breachdesk::mail::Notice {
    use breachdesk::domain::notice::NoticeKind;
    use breachdesk::mail::{AttachmentInfo, Notice};
    Notice {
        id: "N-20260310-130000-000001".into(),
        incident_id: ID.into(),
        kind: NoticeKind::FullReport,
        request_id: None,
        delay_reason: None,
        from: "Sam Patel <sam.patel@provider.example>".into(),
        to: vec!["Client Security Representative <csr@client.example>".into()],
        cc: Vec::new(),
        reply_to: None,
        in_reply_to: None,
        again_reason: None,
        audit_head: None,
        subject: format!("[{ID}] Full details of the Breach of Security (8.2.1 f)\x1b[2J"),
        message_id: "<00000000000000000000000000000001@breachdesk.provider.example>".into(),
        created_at: now(),
        attachments: vec![AttachmentInfo {
            path: "/data/exports/INC.md".into(),
            file_name: format!("{ID}.md"),
            size: 4321,
            sha256: "ab".repeat(32),
            content_type: "text/markdown; charset=utf-8".into(),
            source: None,
        }],
        body: "Dear Client Security Representative,\n\nRoot cause: weak authentication on the VPN gateway.\x1b]0;pwned\x07\nMitigation: MFA enforced.\n\nSam Patel".into(),
    }
}

#[test]
fn email_preview_popup() {
    let f = fixture();
    f.incident(ID, "Ransomware on the payroll file server", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    app.overlays
        .push(breachdesk::tui::app::Overlay::Preview(Box::new(
            breachdesk::tui::app::Preview {
                notice: Box::new(fixed_notice()),
                missing: vec!["no mitigation test recorded (8.2.1 c)".into()],
                scroll: 0,
                sending: false,
            },
        )));
    let shown = draw(&app, now(), 100, 30).backend().to_string();
    assert!(!shown.contains('\x1b'));
    assert_snapshot!(shown);
    // Scrolled, and sending.
    f.key(&mut app, KeyCode::Down);
    f.key(&mut app, KeyCode::Down);
    app.preview_mut()
        .expect("the preview is still open")
        .sending = true;
    assert_snapshot!(
        "email_preview_scrolled_sending",
        draw(&app, now(), 100, 30).backend().to_string()
    );
}

#[test]
fn outbox_view() {
    use breachdesk::tui::jobs::OutboxRow;
    let f = fixture();
    f.incident(ID, "Ransomware on the payroll file server", minutes(10));
    let mut app = f.app();
    app.outbox = vec![
        OutboxRow {
            id: "N-20260310-125500-000001".into(),
            state: breachdesk::domain::incident::DeliveryState::Pending,
            message_id: "<01@breachdesk.provider.example>".into(),
            incident_id: ID.into(),
            kind: "notification".into(),
            to: "Client Security Representative <csr@client.example>".into(),
            subject: format!("[{ID}] Breach of Security notification"),
            queued_at: now() - minutes(5),
            attempts: 2,
            next_attempt_at: Some(now() + minutes(1)),
            last_error: Some(
                "could not connect to smtp.provider.example:587: connection refused".into(),
            ),
        },
        OutboxRow {
            id: "N-20260310-125900-000002".into(),
            state: breachdesk::domain::incident::DeliveryState::Unknown,
            message_id: "<02@breachdesk.provider.example>".into(),
            incident_id: ID.into(),
            kind: "update".into(),
            to: "csr@client.example".into(),
            subject: format!("[{ID}] Update"),
            queued_at: now() - minutes(1),
            attempts: 0,
            next_attempt_at: Some(now()),
            last_error: None,
        },
    ];
    app.overlays.push(breachdesk::tui::app::Overlay::Outbox);
    assert_snapshot!(draw(&app, now(), 100, 30).backend().to_string());
}

#[test]
fn edit_and_close_forms() {
    let f = fixture();
    f.incident(ID, "Ransomware on the payroll file server", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "e");
    assert_snapshot!(
        "edit_form",
        draw(&app, now(), 100, 30).backend().to_string()
    );
    f.key(&mut app, KeyCode::Esc);
    f.chars(&mut app, "C");
    assert_snapshot!(
        "close_form_with_open_steps",
        draw(&app, now(), 100, 30).backend().to_string()
    );
}

#[test]
fn the_board_scrolls_to_keep_the_selection_on_screen() {
    let f = fixture();
    let ids: Vec<String> = (0..40)
        .map(|i| format!("INC-20260310-1200-{i:06x}"))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        f.incident(id, &format!("incident number {i}"), minutes(40 - i as i64));
    }
    let mut app = f.app();
    f.send(&mut app, Action::Cmd(Cmd::Refresh));
    for _ in 0..30 {
        f.key(&mut app, KeyCode::Down);
    }
    let selected = app.board.visible()[30].id.clone();
    let screen = screen_text(&draw(&app, now(), 100, 30));
    assert!(
        screen.contains(&selected),
        "{selected} not on screen:\n{screen}"
    );
    let first = app.board.visible()[0].id.clone();
    assert!(!screen.contains(&first), "scrolled past the first row");
}
