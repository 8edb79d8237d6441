//! The console at 3 a.m. (issue 14): legal clocks first, the board's paging
//! keys, and `list` agreeing with the board row for row.

mod support;

use insta::assert_snapshot;
use ratatui::crossterm::event::KeyCode;
use support::{Fixture, draw, fixture, minutes, now, screen_text};

/// Twelve notified incidents whose GDPR 24 h assessment (an internal target)
/// is overdue by up to 40 hours, and one un-notified breach with 14 minutes
/// left: the legal clock must be the first row.
fn busy_desk() -> Fixture {
    let f = fixture();
    for i in 0..12 {
        let id = format!("INC-20260308-1{i:03}-00a{i:03}");
        let ago = minutes(64 * 60 - i * 30);
        f.incident(&id, &format!("Old phishing {i}"), ago);
        f.notify(&id, ago - minutes(20), None);
    }
    f.incident(
        "INC-20260310-1245-00f999",
        "Ransomware: notify now",
        minutes(46),
    );
    f
}

#[test]
fn legal_clocks_come_first_and_the_board_says_more_rows_exist() {
    let f = busy_desk();
    let mut app = f.app();
    let screen = draw(&app, now(), 80, 24);
    let text = screen_text(&screen);
    let first_row = text.lines().nth(3).expect("first row");
    assert!(
        first_row.contains("INC-20260310-1245-00f999") && first_row.contains("8.1 14m 00s left"),
        "{text}"
    );
    assert!(text.contains("4 more below"), "{text}");
    assert_snapshot!("board_legal_first_80x24", screen.backend().to_string());

    // G and End go to the last row and keep it on screen; g and Home back.
    f.key(&mut app, KeyCode::Char('G'));
    assert_eq!(app.board.selected, 12);
    let text = screen_text(&draw(&app, now(), 80, 24));
    assert!(text.contains("Old phishing 11"), "{text}");
    assert!(!text.contains("more below"), "{text}");
    assert!(!text.contains("Ransomware"), "{text}");
    f.key(&mut app, KeyCode::Home);
    assert_eq!(app.board.selected, 0);
    f.key(&mut app, KeyCode::End);
    assert_eq!(app.board.selected, 12);
    f.key(&mut app, KeyCode::Char('g'));
    assert_eq!(app.board.selected, 0);

    // PgDn moves by the page the last frame showed (9 rows at 80x24).
    draw(&app, now(), 80, 24);
    f.key(&mut app, KeyCode::PageDown);
    assert_eq!(app.board.selected, 9);
    let text = screen_text(&draw(&app, now(), 80, 24));
    let selected = &app.board.visible()[9].id;
    assert!(text.contains(selected.as_str()), "{text}");
    f.key(&mut app, KeyCode::PageDown);
    assert_eq!(app.board.selected, 12);
    f.key(&mut app, KeyCode::PageUp);
    assert_eq!(app.board.selected, 3);
}

#[test]
fn list_orders_rows_as_the_board_does() {
    let f = busy_desk();
    let app = f.app();
    let board: Vec<String> = app.board.visible().iter().map(|s| s.id.clone()).collect();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_breachdesk"))
        .args(["list", "--format", "json"])
        .env("BREACHDESK_DATA_DIR", f.dir.path().join("data"))
        .env("BREACHDESK_CONFIG", f.dir.path().join("config.toml"))
        .env("USER", "tester")
        .output()
        .expect("run list");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    let listed: Vec<String> = rows
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(listed, board);
    assert_eq!(listed[0], "INC-20260310-1245-00f999");
}

#[test]
fn a_closed_incident_keeps_its_open_data_request_on_the_board() {
    use breachdesk::tui::app::Action;
    use breachdesk::tui::keymap::Cmd;
    let f = fixture();
    let id = "INC-20260310-1200-00a001";
    f.incident(id, "Closed with a request open", minutes(50));
    f.notify(id, minutes(45), None);
    f.desk
        .add_request(
            id,
            breachdesk::domain::incident::Requester::GovCertUk,
            "Duty officer",
            "VPN logs",
            now() - minutes(30),
            now() - minutes(30),
        )
        .expect("request");
    f.desk
        .close(id, Some("contained".into()), now())
        .expect("close");
    let mut app = f.app();
    f.send(&mut app, Action::Cmd(Cmd::Refresh));
    let text = screen_text(&draw(&app, now(), 100, 24));
    assert!(text.contains(id), "{text}");
    assert!(text.contains("8.2.1e/R1"), "{text}");
}
