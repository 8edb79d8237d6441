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
    // Line 0 is the alert banner (a legal clock under 15 minutes).
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l
                .contains("⚠ INC-20260310-1245-00f999 Ransomware: notify now: 8.1 14m 00s left")),
        "{text}"
    );
    let first_row = text.lines().nth(4).expect("first row");
    assert!(
        first_row.contains("INC-20260310-1245-00f999") && first_row.contains("8.1 14m 00s left"),
        "{text}"
    );
    assert!(text.contains("5 more below"), "{text}");
    assert_snapshot!("board_legal_first_80x24", screen.backend().to_string());

    // G and End go to the last row and keep it on screen; g and Home back.
    f.key(&mut app, KeyCode::Char('G'));
    assert_eq!(app.board.selected, 12);
    let text = screen_text(&draw(&app, now(), 80, 24));
    assert!(text.contains("Old phishing 11"), "{text}");
    assert!(!text.contains("more below"), "{text}");
    assert!(
        !text.lines().skip(1).any(|l| l.contains("Ransomware")),
        "{text}"
    );
    f.key(&mut app, KeyCode::Home);
    assert_eq!(app.board.selected, 0);
    f.key(&mut app, KeyCode::End);
    assert_eq!(app.board.selected, 12);
    f.key(&mut app, KeyCode::Char('g'));
    assert_eq!(app.board.selected, 0);

    // PgDn moves by the page the last frame showed (8 rows at 80x24 with
    // the banner).
    draw(&app, now(), 80, 24);
    f.key(&mut app, KeyCode::PageDown);
    assert_eq!(app.board.selected, 8);
    let text = screen_text(&draw(&app, now(), 80, 24));
    let selected = &app.board.visible()[8].id;
    assert!(text.contains(selected.as_str()), "{text}");
    f.key(&mut app, KeyCode::PageDown);
    assert_eq!(app.board.selected, 12);
    f.key(&mut app, KeyCode::PageUp);
    assert_eq!(app.board.selected, 4);
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

/// A legal clock rings once per threshold: 15 minutes, 5 minutes, overdue.
#[test]
fn alerts_ring_once_at_each_threshold_and_name_the_incident() {
    use breachdesk::tui::app::Action;
    let f = fixture();
    let id = "INC-20260310-1200-00a001";
    // Identified 40 minutes ago: 20 minutes left.
    f.incident(id, "Payroll ransomware", minutes(40));
    let mut app = f.app();
    let ring = |app: &mut breachdesk::tui::app::App, at| {
        breachdesk::tui::app::dispatch(app, &f.desk, Action::Tick, at);
        app.alert.take()
    };
    assert_eq!(ring(&mut app, now()), None, "20 minutes left: quiet");
    let alert = ring(&mut app, now() + minutes(5)).expect("15 minutes left");
    assert_eq!(alert, format!("{id} Payroll ransomware: 8.1 15m 00s left"));
    assert_eq!(ring(&mut app, now() + minutes(6)), None, "once");
    let alert = ring(&mut app, now() + minutes(16)).expect("under 5 minutes");
    assert!(alert.ends_with("8.1 4m 00s left"), "{alert}");
    assert_eq!(ring(&mut app, now() + minutes(17)), None, "once");
    let alert = ring(&mut app, now() + minutes(21)).expect("overdue");
    assert!(alert.ends_with("8.1 1m 00s overdue"), "{alert}");
    assert_eq!(ring(&mut app, now() + minutes(30)), None, "once");
    // Once notified, nothing more.
    f.notify(id, minutes(-31), Some("phone line down"));
    let text = screen_text(&draw(&app, now() + minutes(30), 100, 30));
    assert!(
        text.lines().next().is_some_and(|l| l.contains(&format!("⚠ {id} Payroll ransomware: 8.1 10m 00s overdue"))),
        "{text}"
    );
}

/// `q` asks while a legal clock runs; anything but `y` stays.
#[test]
fn quitting_with_a_legal_clock_running_asks_first() {
    let f = fixture();
    f.incident(
        "INC-20260310-1200-00a001",
        "Payroll ransomware",
        minutes(10),
    );
    let mut app = f.app();
    f.key(&mut app, KeyCode::Char('q'));
    assert!(!app.quit);
    let screen = draw(&app, now(), 100, 30);
    assert_snapshot!(
        "quit_asks_while_a_legal_clock_runs",
        screen.backend().to_string()
    );
    f.key(&mut app, KeyCode::Esc);
    assert!(!app.quit);
    assert!(app.confirm_quit().is_none());
    f.key(&mut app, KeyCode::Char('q'));
    f.key(&mut app, KeyCode::Char('y'));
    assert!(app.quit);

    // Nothing running, nothing waiting: q quits at once.
    let f = fixture();
    let mut app = f.app();
    f.key(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
}

/// A change made elsewhere (here straight through the desk, as the CLI
/// does) shows on the open incident at the next look, and the half-typed
/// form and the pane stay as they were.
#[test]
fn changes_on_disk_show_without_losing_the_form_being_typed() {
    use breachdesk::tui::app::{Action, Pane};
    let f = fixture();
    let id = "INC-20260310-1200-00a001";
    f.incident(id, "Payroll ransomware", minutes(10));
    f.incident("INC-20260310-1100-00b002", "Other", minutes(20));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Down);
    let selected = app.board.visible()[app.board.selected].id.clone();
    assert_eq!(selected, id);
    f.key(&mut app, KeyCode::Enter);
    f.send(&mut app, Action::Tick); // the first look: the stamp to compare with
    f.key(&mut app, KeyCode::Tab);
    assert_eq!(app.incident.as_ref().map(|s| s.pane), Some(Pane::Timeline));
    f.chars(&mut app, "lhalf typed");
    f.desk
        .log(id, "Colleague called the Client", now())
        .expect("log elsewhere");
    f.send(&mut app, Action::Tick);
    let record = app
        .incident
        .as_ref()
        .and_then(|s| s.record.as_ref())
        .expect("record");
    assert!(
        record
            .timeline
            .iter()
            .any(|e| e.text == "Colleague called the Client")
    );
    let form = app.form().expect("the form stays open");
    assert!(
        form.fields.iter().any(|fl| fl.value
            == breachdesk::tui::form::Value::Text("half typed".into())
            || fl.value == breachdesk::tui::form::Value::Multi("half typed".into())),
        "{:?}",
        form.fields.iter().map(|f| &f.value).collect::<Vec<_>>()
    );
    assert_eq!(app.incident.as_ref().map(|s| s.pane), Some(Pane::Timeline));
    // Back on the board, the selection follows the incident, not the row.
    f.key(&mut app, KeyCode::Esc);
    f.key(&mut app, KeyCode::Char('y'));
    f.key(&mut app, KeyCode::Esc);
    f.desk
        .log("INC-20260310-1100-00b002", "moves nothing", now())
        .expect("log");
    f.send(&mut app, Action::Tick);
    assert_eq!(app.board.visible()[app.board.selected].id, id);
}

/// Text fields: a selected default is replaced by typing; Ctrl-U/W/K;
/// pasted line breaks (CR, LF, CRLF) are new lines in a multi-line field
/// and spaces in a single-line one.
#[test]
fn text_fields_edit_like_a_shell() {
    use breachdesk::tui::form::Value;
    let f = fixture();
    let mut app = f.app();
    f.key(&mut app, KeyCode::Char('n'));
    let form = app.form().expect("new incident form");
    assert_eq!(form.fields[0].label, "Title");
    f.chars(&mut app, "Laptop stolen from the car");
    let value =
        |app: &breachdesk::tui::app::App| app.form().map(|f| f.fields[f.focus].value.clone());
    f.ctrl(&mut app, 'w');
    assert_eq!(
        value(&app),
        Some(Value::Text("Laptop stolen from the ".into()))
    );
    f.ctrl(&mut app, 'w');
    assert_eq!(value(&app), Some(Value::Text("Laptop stolen from ".into())));
    f.ctrl(&mut app, 'a');
    f.key(&mut app, KeyCode::Right);
    f.ctrl(&mut app, 'k');
    assert_eq!(value(&app), Some(Value::Text("L".into())));
    f.ctrl(&mut app, 'e');
    f.ctrl(&mut app, 'u');
    assert_eq!(value(&app), Some(Value::Text(String::new())));
    f.send(
        &mut app,
        breachdesk::tui::app::Action::Paste("two\r\nlines\rhere\n".into()),
    );
    assert_eq!(value(&app), Some(Value::Text("two lines here ".into())));
    // Tab to "Identified at": its default "now" is selected; typing replaces it.
    let form = app.form_mut().expect("form");
    let at = form
        .fields
        .iter()
        .position(|f| f.label == "Identified at")
        .expect("identified at");
    while app.form().is_some_and(|f| f.focus != at) {
        f.key(&mut app, KeyCode::Tab);
    }
    assert!(app.form().is_some_and(|f| f.selected));
    assert_eq!(value(&app), Some(Value::Text("now".into())));
    f.chars(&mut app, "-20m");
    assert_eq!(value(&app), Some(Value::Text("-20m".into())));
    // Backspace on a selected default clears it all.
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::BackTab);
    assert_eq!(
        value(&app),
        Some(Value::Text("-20m".into())),
        "not a default"
    );
    assert!(app.form().is_some_and(|f| !f.selected));
}

/// A multi-line field keeps pasted line breaks, and the footer and the
/// form's hint say the same thing about Enter.
#[test]
fn pasted_lines_stay_in_a_multi_line_field_and_hints_agree() {
    use breachdesk::tui::form::Value;
    let f = fixture();
    let id = "INC-20260310-1200-00a001";
    f.incident(id, "Payroll ransomware", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.key(&mut app, KeyCode::Char('r'));
    let form = app.form().expect("root cause form");
    let analysis = form
        .fields
        .iter()
        .position(|f| matches!(f.value, Value::Multi(_)))
        .expect("a multi-line field");
    while app.form().is_some_and(|f| f.focus != analysis) {
        f.key(&mut app, KeyCode::Tab);
    }
    f.send(
        &mut app,
        breachdesk::tui::app::Action::Paste("first\r\nsecond\rthird".into()),
    );
    let form = app.form().expect("form");
    assert_eq!(
        form.fields[analysis].value,
        Value::Multi("first\nsecond\nthird".into())
    );
    let screen = draw(&app, now(), 100, 30);
    let text = screen_text(&screen);
    let footer = text.lines().last().expect("footer");
    assert!(footer.starts_with("Enter new line  C-s save"), "{footer}");
    assert!(text.contains("Enter new line · C-s save"), "{text}");
    assert_snapshot!("multi_line_paste_and_hints", screen.backend().to_string());
}

/// `C` on an incident whose notice still waits in the outbox asks first.
#[test]
fn closing_with_a_notice_waiting_asks_first() {
    use breachdesk::domain::incident::DeliveryState;
    use breachdesk::tui::jobs::OutboxRow;
    let f = fixture();
    let id = "INC-20260310-1200-00a001";
    f.incident(id, "Payroll ransomware", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    // The outbox as the 30-second round lists it.
    app.outbox = vec![OutboxRow {
        id: "N1".into(),
        state: DeliveryState::Pending,
        message_id: "<n1@breachdesk.example>".into(),
        incident_id: id.into(),
        kind: "supply".into(),
        to: "csr@client.example".into(),
        subject: "Data supplied".into(),
        queued_at: now(),
        attempts: 1,
        next_attempt_at: None,
        last_error: Some("connection refused".into()),
    }];
    f.key(&mut app, KeyCode::Char('C'));
    assert!(app.form().is_none(), "asks before the close form");
    let text = screen_text(&draw(&app, now(), 100, 30));
    assert!(text.contains("Close?"), "{text}");
    assert!(
        text.contains("1 notice(s) of this incident still wait in the outbox: supply (pending)"),
        "{text}"
    );
    f.key(&mut app, KeyCode::Esc);
    assert!(app.form().is_none() && app.confirm_close().is_none());
    f.key(&mut app, KeyCode::Char('C'));
    f.key(&mut app, KeyCode::Char('y'));
    assert!(
        app.form().is_some_and(|f| f.title.contains("Close")),
        "{:?}",
        app.form().map(|f| &f.title)
    );
}

/// The console never tells the responder to pass a CLI flag, and the
/// timeline's columns are padded.
#[test]
fn refusals_name_form_fields_and_the_timeline_lines_up() {
    let f = fixture();
    let id = "INC-20260310-1200-00a001";
    f.incident(id, "Payroll ransomware", minutes(90));
    f.desk
        .log(id, "Called the Client's SOC", now())
        .expect("log");
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.key(&mut app, KeyCode::Char('N'));
    f.chars(&mut app, "\tClient CSR");
    f.key(&mut app, KeyCode::Enter);
    let error = app
        .form()
        .and_then(|f| f.error.clone())
        .expect("late without a reason is refused");
    assert!(error.contains("(the Delay reason field)"), "{error}");
    assert!(!error.contains("--"), "{error}");
    f.key(&mut app, KeyCode::Esc);
    f.key(&mut app, KeyCode::Char('y'));
    f.key(&mut app, KeyCode::Tab);
    let text = screen_text(&draw(&app, now(), 100, 30));
    assert!(text.contains("alice change Incident opened"), "{text}");
    assert!(
        text.contains("alice note   Called the Client's SOC"),
        "{text}"
    );
}

/// A step's evidence shows its path, size and short hash.
#[test]
fn evidence_shows_path_size_and_short_hash() {
    use breachdesk::domain::incident::StepStatus;
    let f = fixture();
    let id = "INC-20260310-1200-00a001";
    f.incident(id, "Payroll ransomware", minutes(10));
    let file = f.dir.path().join("call-notes.txt");
    std::fs::write(&file, "abc").expect("evidence file");
    f.desk
        .set_step(
            id,
            "8.2.1a",
            StepStatus::InProgress,
            None,
            Some(&file),
            now(),
        )
        .expect("evidence");
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.key(&mut app, KeyCode::Down);
    let text = screen_text(&draw(&app, now(), 200, 30));
    // SHA-256 of "abc" starts ba7816bf.
    assert!(
        text.contains(&format!(
            "evidence: {} (3 B, sha256 ba7816bf…)",
            file.display()
        )),
        "{text}"
    );
}

/// With `[ui] mouse = true`: a click selects a board row, a second click
/// opens it, the wheel moves the selection.
#[test]
fn mouse_clicks_select_and_open_board_rows() {
    use breachdesk::tui::app::{Action, MouseInput, Screen};
    let f = fixture();
    f.incident("INC-20260310-1200-00a001", "First", minutes(10));
    f.incident("INC-20260310-1100-00b002", "Second", minutes(20));
    let mut app = f.app();
    let text = screen_text(&draw(&app, now(), 100, 30));
    let row = text
        .lines()
        .position(|l| l.contains("INC-20260310-1200-00a001"))
        .expect("row of the second incident");
    assert_eq!(app.board.selected, 0);
    let click = Action::Mouse(MouseInput::Click {
        column: 5,
        row: u16::try_from(row + 1).expect("row"),
    });
    f.send(&mut app, click.clone());
    assert_eq!(
        app.board.visible()[app.board.selected].id,
        "INC-20260310-1200-00a001"
    );
    f.send(&mut app, Action::Mouse(MouseInput::WheelUp));
    assert_eq!(app.board.selected, 0);
    f.send(&mut app, Action::Mouse(MouseInput::WheelDown));
    assert_eq!(app.board.selected, 1);
    f.send(&mut app, click);
    assert_eq!(app.screen, Screen::Incident);
    // A click below the rows does nothing.
    f.key(&mut app, KeyCode::Esc);
    draw(&app, now(), 100, 30);
    f.send(
        &mut app,
        Action::Mouse(MouseInput::Click { column: 5, row: 25 }),
    );
    assert_eq!(app.screen, Screen::Board);
}

/// A request's state is never cut off, at 200 columns or 100.
#[test]
fn request_states_are_shown_whole() {
    use breachdesk::domain::incident::Requester;
    let f = fixture();
    let id = "INC-20260310-1200-00a001";
    f.incident(id, "Payroll ransomware", minutes(50));
    f.desk
        .add_request(
            id,
            Requester::Client,
            "Client CSR",
            "Firewall logs for the whole of the last week, every site",
            now() - minutes(40),
            now() - minutes(40),
        )
        .expect("request");
    f.desk
        .supply_request(id, "R1", now() - minutes(5), "sftp", &[], now())
        .expect("supplied");
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.key(&mut app, KeyCode::Tab);
    f.key(&mut app, KeyCode::Tab);
    let state = app
        .incident
        .as_ref()
        .and_then(|s| s.record.as_ref())
        .map(|r| r.data_requests[0].due_at)
        .expect("due");
    let verdict = breachdesk::present::verdict(state, Some(now() - minutes(5)), now())
        .replace("done, ", "supplied, ");
    for width in [200, 100] {
        let text = screen_text(&draw(&app, now(), width, 30));
        assert!(
            text.contains(&verdict),
            "{width} columns: {verdict:?} cut\n{text}"
        );
    }
}

/// A timeline entry can be backdated ("At", default now, selected); it
/// goes in the timeline in time order.
#[test]
fn timeline_entries_can_be_backdated() {
    use breachdesk::tui::app::Pane;
    let f = fixture();
    let id = "INC-20260310-1200-00a001";
    f.incident(id, "Payroll ransomware", minutes(30));
    f.desk.log(id, "Later entry", now()).expect("log");
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.key(&mut app, KeyCode::Tab);
    assert_eq!(app.incident.as_ref().map(|s| s.pane), Some(Pane::Timeline));
    f.chars(&mut app, "lCalled the Client CSR");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "-10m");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
    let record = f.desk.load(id).expect("load");
    let texts: Vec<(&str, chrono::DateTime<chrono::Utc>)> = record
        .timeline
        .iter()
        .map(|e| (e.text.as_str(), e.at))
        .collect();
    let called = texts
        .iter()
        .position(|(t, _)| *t == "Called the Client CSR")
        .expect("logged");
    let later = texts
        .iter()
        .position(|(t, _)| *t == "Later entry")
        .expect("later");
    assert!(called < later, "{texts:?}");
    assert_eq!(texts[called].1, now() - minutes(10));
    // Before the breach was identified: refused, the text stays.
    f.chars(&mut app, "lToo early");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "-45m");
    f.key(&mut app, KeyCode::Enter);
    let error = app.form().and_then(|f| f.error.clone()).expect("refused");
    assert!(
        error.contains("before the breach was identified"),
        "{error}"
    );
}

/// Every legal clock alerts, not only the nearest of each incident: two
/// incidents whose 8.1 clocks cross at different times both ring, once per
/// threshold each, while a third, long overdue, rang once.
#[test]
fn every_legal_clock_alerts_once_per_threshold() {
    use breachdesk::tui::app::Action;
    let f = fixture();
    let early = "INC-20260310-1200-00a001";
    let late = "INC-20260310-1200-00a002";
    let old = "INC-20260307-1200-00a003";
    // 8.1 due in 20 and 32 minutes.
    f.incident(early, "Payroll ransomware", minutes(40));
    f.incident(late, "Lost laptop", minutes(28));
    // 8.1 overdue for 70 h 40 m.
    f.incident(old, "Old breach", minutes(72 * 60 - 20));
    let mut app = f.app();
    let ring = |app: &mut breachdesk::tui::app::App, at| {
        breachdesk::tui::app::dispatch(app, &f.desk, Action::Tick, at);
        app.alert.take()
    };
    let first = ring(&mut app, now()).expect("the overdue 8.1 rings once");
    assert!(
        first.starts_with(old) && first.contains("8.1") && first.ends_with("overdue"),
        "{first}"
    );
    assert_eq!(ring(&mut app, now() + minutes(1)), None, "once");
    let rings = [
        (5, early, "8.1 15m 00s left"),
        (15, early, "8.1 5m 00s left"),
        (17, late, "8.1 15m 00s left"),
        (21, early, "8.1 1m 00s overdue"),
        (27, late, "8.1 5m 00s left"),
        (33, late, "8.1 1m 00s overdue"),
    ];
    for (at, id, clock) in rings {
        let alert = ring(&mut app, now() + minutes(at)).unwrap_or_default();
        assert!(
            alert.starts_with(id) && alert.ends_with(clock),
            "+{at}m: {alert}"
        );
        assert_eq!(ring(&mut app, now() + minutes(at)), None, "+{at}m: once");
    }
    assert_eq!(ring(&mut app, now() + minutes(60)), None, "nothing more");
}

/// A long timeline entry is shown whole: its detail scrolls with the keys
/// the keymap names until the last line is on screen.
#[test]
fn a_long_timeline_entry_scrolls_to_its_last_line() {
    let f = fixture();
    let id = "INC-20260310-1200-00a001";
    f.incident(id, "Payroll ransomware", minutes(10));
    let text: Vec<String> = (1..=30).map(|n| format!("finding line {n}")).collect();
    f.desk.log(id, &text.join("\n"), now()).expect("log");
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.key(&mut app, KeyCode::Tab); // the timeline
    let shown = screen_text(&draw(&app, now(), 80, 24));
    assert!(
        shown.contains("finding line 1\n") || shown.contains("finding line 1 "),
        "{shown}"
    );
    assert!(!shown.contains("finding line 30"), "{shown}");
    assert!(shown.contains("PgDn/PgUp scroll"), "{shown}");
    for _ in 0..10 {
        f.key(&mut app, KeyCode::PageDown);
        let _ = draw(&app, now(), 80, 24);
    }
    let shown = screen_text(&draw(&app, now(), 80, 24));
    assert!(shown.contains("finding line 30"), "{shown}");
    assert!(shown.contains("of 30"), "{shown}");
    assert_snapshot!(
        "timeline_entry_scrolled_to_its_end",
        draw(&app, now(), 80, 24).backend().to_string()
    );
    f.key(&mut app, KeyCode::PageUp);
    let shown = screen_text(&draw(&app, now(), 80, 24));
    assert!(!shown.contains("finding line 30"), "{shown}");
}

/// An incident's other legal clocks alert too, not only its nearest: with
/// its 8.1 notification long overdue, its data request still rings at 15
/// minutes left, 5 minutes left and overdue, once each.
#[test]
fn a_data_request_alerts_while_the_notification_is_overdue() {
    use breachdesk::domain::incident::Requester;
    use breachdesk::tui::app::Action;
    let f = fixture();
    let id = "INC-20260310-1200-00a001";
    f.incident(id, "Payroll ransomware", minutes(10));
    f.desk
        .add_request(
            id,
            Requester::GovCertUk,
            "Duty officer",
            "VPN logs",
            now(),
            now(),
        )
        .expect("request");
    let due = f.desk.load(id).expect("load").data_requests[0].due_at;
    let mut app = f.app();
    let ring = |app: &mut breachdesk::tui::app::App, at| {
        breachdesk::tui::app::dispatch(app, &f.desk, Action::Tick, at);
        app.alert.take()
    };
    let alert = ring(&mut app, now() + minutes(51)).expect("8.1 overdue");
    assert!(alert.ends_with("8.1 1m 00s overdue"), "{alert}");
    let alert = ring(&mut app, due - minutes(15)).expect("the request: 15 minutes left");
    assert!(
        alert.starts_with(id) && alert.ends_with("8.2.1e/R1 15m 00s left"),
        "{alert}"
    );
    assert_eq!(ring(&mut app, due - minutes(14)), None, "once");
    let alert = ring(&mut app, due - minutes(4)).expect("the request: under 5 minutes");
    assert!(alert.ends_with("8.2.1e/R1 4m 00s left"), "{alert}");
    let alert = ring(&mut app, due + minutes(1)).expect("the request: overdue");
    assert!(alert.ends_with("8.2.1e/R1 1m 00s overdue"), "{alert}");
    assert_eq!(ring(&mut app, due + minutes(2)), None, "once");
}
