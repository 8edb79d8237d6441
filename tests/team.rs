//! Who is on it (issue 15, item 6): roles and handovers, through the desk,
//! the real binary and the console (headless, drawn with a fixed clock).

mod support;

use breachdesk::config::Config;
use breachdesk::desk::{Desk, DeskError};
use breachdesk::domain::incident::{EntryKind, Role};
use breachdesk::domain::summary::IncidentSummary;
use breachdesk::setup::Setup;
use ratatui::crossterm::event::KeyCode;
use support::{Bin, Fixture, draw, fixture, minutes, now, screen_text};

const ID: &str = "INC-20260310-1200-00a001";

/// A second responder's desk on the fixture's data directory.
fn desk_as(f: &Fixture, name: &str) -> Desk {
    let mut config = Config::default();
    config.responder.name = Some(name.into());
    Setup {
        data_dir: f.desk.data_dir().to_path_buf(),
        config_path: f.dir.path().join(format!("{name}.toml")),
        config,
        extra_playbooks: Vec::new(),
    }
    .desk()
    .expect("desk")
}

/// The audit log's lines, as written.
fn audit_text(f: &Fixture) -> String {
    // Every chain: `audit/chains/<machine-id>.jsonl`.
    let dir = f.desk.data_dir().join("audit").join("chains");
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).expect("audit dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            all.push_str(&std::fs::read_to_string(path).expect("audit log"));
        }
    }
    all
}

#[test]
fn the_latest_assignment_holds_the_role_and_each_is_in_the_timeline_and_audit_log() {
    let f = fixture();
    f.incident(ID, "Ransomware", minutes(10));
    let changed = f
        .desk
        .assign(ID, Role::IncidentManager, " Bob Smith ", now())
        .expect("assign");
    assert!(changed.written);
    assert_eq!(changed.incident.incident_manager(), Some("Bob Smith"));
    let a = &changed.incident.assignments[0];
    assert_eq!(
        (a.by.as_str(), a.at, a.role),
        ("alice", now(), Role::IncidentManager)
    );
    assert_eq!(a.uid.len(), 16);

    // The same holder again: nothing written.
    let again = f
        .desk
        .assign(ID, Role::IncidentManager, "Bob Smith", now() + minutes(1))
        .expect("same");
    assert!(!again.written);
    assert_eq!(again.incident.revision, changed.incident.revision);

    let later = now() + minutes(5);
    let changed = f
        .desk
        .assign(ID, Role::IncidentManager, "Carol", later)
        .expect("reassign");
    assert_eq!(changed.incident.incident_manager(), Some("Carol"));
    assert_eq!(changed.incident.assignments.len(), 2, "append-only");
    let last = changed.incident.timeline.last().expect("entry");
    assert_eq!(last.kind, EntryKind::Change);
    assert_eq!(last.text, "Role incident-manager: Carol (was Bob Smith)");
    assert_eq!(
        IncidentSummary::of(&changed.incident)
            .incident_manager
            .as_deref(),
        Some("Carol")
    );

    let changed = f
        .desk
        .unassign(ID, Role::IncidentManager, later + minutes(1))
        .expect("unassign");
    assert_eq!(changed.incident.incident_manager(), None);
    assert_eq!(changed.incident.assignments.len(), 3);
    assert!(
        !f.desk
            .unassign(ID, Role::Scribe, later)
            .expect("none")
            .written
    );

    let audit = audit_text(&f);
    assert!(audit.contains("\"action\":\"role.assigned\""), "{audit}");
    assert!(audit.contains("Role incident-manager: Carol (was Bob Smith)"));
    assert!(audit.contains("\"action\":\"role.unassigned\""));
}

#[test]
fn empty_and_control_character_names_are_refused_and_nothing_is_written() {
    let f = fixture();
    let before = f.incident(ID, "Ransomware", minutes(10));
    let refused = f
        .desk
        .assign(ID, Role::Scribe, "  ", now())
        .expect_err("empty");
    assert!(matches!(refused, DeskError::Missing(_)), "{refused}");
    assert_eq!(refused.to_string(), "the name to assign is empty: say who");
    let refused = f
        .desk
        .assign(ID, Role::Scribe, "bob\u{1b}[2J", now())
        .expect_err("escape");
    let said = refused.to_string();
    assert!(matches!(refused, DeskError::Invalid(_)), "{said}");
    assert!(!said.contains('\u{1b}'), "{said}");
    assert!(
        said.contains("'bob^[[2J' contains a control character (U+001B)"),
        "{said}"
    );
    let refused = f
        .desk
        .hand_over(ID, "carol\u{9b}31m", "note", now())
        .expect_err("C1");
    assert!(refused.to_string().contains("(U+009B)"), "{refused}");
    let refused = f.desk.hand_over(ID, "carol", " ", now()).expect_err("note");
    assert!(
        refused.to_string().contains("handover note is empty"),
        "{refused}"
    );
    let refused = f.desk.hand_over(ID, "alice", "n", now()).expect_err("self");
    assert!(refused.to_string().contains("not to yourself"), "{refused}");
    assert_eq!(f.desk.load(ID).expect("load").revision, before.revision);
}

#[test]
fn a_handover_waits_until_someone_else_acknowledges_it() {
    let f = fixture();
    f.incident(ID, "Ransomware", minutes(10));
    let refused = f
        .desk
        .acknowledge_handovers(ID, now())
        .expect_err("nothing waiting");
    assert!(matches!(refused, DeskError::WrongState(_)), "{refused}");

    let changed = f
        .desk
        .hand_over(
            ID,
            "bob",
            "Firewall change pending; call Dan at 08:00",
            now(),
        )
        .expect("hand over");
    let h = &changed.incident.handovers[0];
    assert_eq!((h.from.as_str(), h.to.as_str()), ("alice", "bob"));
    assert!(h.is_pending());
    assert_eq!(
        changed.incident.timeline.last().expect("entry").text,
        "Handed over to bob: Firewall change pending; call Dan at 08:00"
    );

    // The one who handed over cannot acknowledge it.
    let refused = f
        .desk
        .acknowledge_handovers(ID, now() + minutes(1))
        .expect_err("own handover");
    assert!(
        refused
            .to_string()
            .contains("the next responder acknowledges it")
    );

    // Anyone else on the rota can; their name and the instant are kept.
    let carol = desk_as(&f, "carol");
    let at = now() + minutes(30);
    let changed = carol.acknowledge_handovers(ID, at).expect("ack");
    let h = &changed.incident.handovers[0];
    assert_eq!(h.acknowledged_by.as_deref(), Some("carol"));
    assert_eq!(h.acknowledged_at, Some(at));
    let last = changed.incident.timeline.last().expect("entry");
    assert_eq!(
        last.text,
        "Handover from alice to bob acknowledged by carol"
    );
    assert_eq!(last.by, "carol");
    let refused = carol.acknowledge_handovers(ID, at).expect_err("done");
    assert!(matches!(refused, DeskError::WrongState(_)));
    let audit = audit_text(&f);
    assert!(audit.contains("\"action\":\"handover.recorded\""));
    assert!(audit.contains("\"action\":\"handover.acknowledged\""));
}

// ---- The real binary ----

fn bob_config(bin: &Bin) -> String {
    let path = bin.dir.path().join("bob.toml");
    std::fs::write(&path, "[responder]\nname = \"bob\"\n").expect("config");
    path.display().to_string()
}

#[test]
fn cli_assign_handover_and_ack_say_one_line_and_show_lists_them() {
    let bin = Bin::new();
    let id = bin.new_incident("VPN compromise", "-10m");
    let out = bin.ok(&[
        "assign",
        &id,
        "--role",
        "incident-manager",
        "--to",
        "Alice Smith",
    ]);
    assert_eq!(out, format!("{id}: incident-manager is Alice Smith\n"));
    let out = bin.ok(&["assign", &id, "--role", "Technical_Lead", "--to", "dan"]);
    assert_eq!(out, format!("{id}: technical-lead is dan\n"));
    let out = bin.ok(&[
        "assign",
        &id,
        "--role",
        "incident-manager",
        "--to",
        "Alice Smith",
    ]);
    assert_eq!(out, format!("{id}: nothing changed\n"));
    let out = bin.ok(&["assign", &id, "--role", "scribe", "--to", "erin"]);
    assert_eq!(out, format!("{id}: scribe is erin\n"));
    let out = bin.ok(&["assign", &id, "--role", "scribe", "--unassign"]);
    assert_eq!(out, format!("{id}: scribe unassigned\n"));
    let err = bin.fails(&["assign", &id, "--role", "boss", "--to", "x"]);
    assert!(
        err.contains(
            "--role: 'boss' is not one of: incident-manager, communications, scribe, technical-lead"
        ),
        "{err}"
    );
    let err = bin.fails(&["assign", &id, "--role", "scribe"]);
    assert!(err.contains("--to"), "{err}");

    let out = bin.ok(&[
        "handover",
        &id,
        "--to",
        "bob",
        "--note",
        "Isolated web-03; waiting on the Client's CSR",
    ]);
    assert_eq!(out, format!("{id}: handed over to bob\n"));
    let list: serde_json::Value =
        serde_json::from_str(&bin.ok(&["list", "--format", "json"])).expect("json");
    assert_eq!(list[0]["handover_waiting"], "bob", "{list}");
    let shown = bin.ok(&["show", &id]);
    let handover = shown.find("HANDOVER: not yet acknowledged").expect(&shown);
    let incident = shown.find("\nIncident\n").expect("incident section");
    assert!(handover < incident, "the handover comes first:\n{shown}");
    assert!(shown.contains("tester handed over to bob at "), "{shown}");
    assert!(shown.contains("Isolated web-03; waiting on the Client's CSR"));
    assert!(shown.contains(&format!("breachdesk handover ack {id}")));
    assert!(
        shown.contains("Incident manager: Alice Smith (since "),
        "{shown}"
    );
    assert!(shown.contains("Technical lead: dan"), "{shown}");
    assert!(!shown.contains("Scribe:"), "unassigned: {shown}");

    let markdown = bin.ok(&["export", &id, "--format", "markdown"]);
    assert!(markdown.contains("## Roles"), "{markdown}");
    assert!(markdown.contains("| Incident manager | Alice Smith (since "));
    assert!(!markdown.contains("HANDOVER"), "internal only: {markdown}");
    let err = bin.fails(&["handover", "ack", &id]);
    assert!(err.contains("the next responder acknowledges it"), "{err}");
    let bob = bob_config(&bin);
    let out = bin.ok(&["--config", &bob, "handover", "ack", &id]);
    assert_eq!(out, format!("{id}: handover from tester acknowledged\n"));
    let shown = bin.ok(&["show", &id]);
    assert!(!shown.contains("HANDOVER"), "{shown}");
    assert!(
        shown.contains("Handover from tester acknowledged by bob"),
        "{shown}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&bin.ok(&["show", &id, "--format", "json"])).expect("json");
    assert_eq!(json["handovers"][0]["acknowledged_by"], "bob");
    assert_eq!(json["assignments"].as_array().map(Vec::len), Some(4));

    let list: serde_json::Value =
        serde_json::from_str(&bin.ok(&["list", "--format", "json"])).expect("json");
    assert_eq!(list[0]["incident_manager"], "Alice Smith", "{list}");
    assert!(
        list[0]["handover_waiting"].is_null(),
        "acknowledged: {list}"
    );
    let table = bin.ok(&["list"]);
    assert!(table.lines().next().expect("header").contains("MANAGER"));
    assert!(table.contains("Alice Smith"), "{table}");
    let out = bin.ok(&["audit", "verify"]);
    assert!(out.contains("hash chain intact"), "{out}");
}

#[test]
fn cli_no_manager_is_null_in_json() {
    let bin = Bin::new();
    bin.new_incident("Port scan", "-5m");
    let list: serde_json::Value =
        serde_json::from_str(&bin.ok(&["list", "--format", "json"])).expect("json");
    assert!(list[0]["incident_manager"].is_null(), "{list}");
}

#[test]
fn cli_escape_sequences_in_names_and_notes_never_reach_the_terminal() {
    let bin = Bin::new();
    let id = bin.new_incident("Escapes", "-5m");
    let err = bin.fails(&[
        "assign",
        &id,
        "--role",
        "scribe",
        "--to",
        "x\u{1b}]0;owned\u{7}",
    ]);
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(err.contains("x^[]0;owned^G"), "{err}");
    let note = "clear \u{1b}[2J screen \u{9b}31m red \u{202e}reversed";
    bin.ok(&["handover", &id, "--to", "bob", "--note", note]);
    for args in [
        vec!["show", &id],
        vec!["show", &id, "--format", "json"],
        vec!["audit", "list"],
    ] {
        let ran = bin.run(&args);
        assert!(ran.ok, "{args:?}: {}", ran.err());
        let out = ran.out();
        for c in ['\u{1b}', '\u{9b}', '\u{202e}'] {
            assert!(!out.contains(c), "{args:?} printed {c:?}: {out:?}");
        }
    }
    // The record keeps the note exactly.
    let toml_text = std::fs::read_to_string(
        std::fs::read_dir(bin.data.join("incidents"))
            .expect("incidents")
            .next()
            .expect("one record")
            .expect("entry")
            .path(),
    )
    .expect("record");
    let record: toml::Value = toml::from_str(&toml_text).expect("toml");
    assert_eq!(record["handovers"][0]["note"].as_str(), Some(note));
}

// ---- The console ----

#[test]
fn console_r_gives_a_role_and_the_board_shows_the_manager() {
    let f = fixture();
    f.incident(ID, "Ransomware on the payroll file server", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "R");
    let form = app.form().expect("role form");
    assert_eq!(form.fields[0].label, "Role");
    // Role stays incident-manager; To: type a name, Enter.
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "Bob Smith");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
    assert_eq!(
        f.desk.load(ID).expect("load").incident_manager(),
        Some("Bob Smith")
    );
    let shown = screen_text(&draw(&app, now(), 100, 30));
    assert!(shown.contains("incident manager: Bob Smith"), "{shown}");

    // A name with a bidirectional override (the form itself drops C0 and
    // C1 controls) is refused by the desk; the form stays with the text.
    f.chars(&mut app, "R");
    f.key(&mut app, KeyCode::Right); // communications
    f.key(&mut app, KeyCode::Tab);
    f.send(
        &mut app,
        breachdesk::tui::app::Action::Paste("eve\u{202e}lin".into()),
    );
    f.key(&mut app, KeyCode::Enter);
    let error = app
        .form()
        .and_then(|f| f.error.clone())
        .expect("refused, the form stays");
    assert!(error.contains("control character"), "{error}");
    f.key(&mut app, KeyCode::Esc);
    f.chars(&mut app, "y");
    f.key(&mut app, KeyCode::Esc); // back to the board

    // 80 columns: beside the request count; 120: a column of its own.
    let narrow = screen_text(&draw(&app, now(), 80, 24));
    assert!(narrow.contains("0 req · IM Bob Smith"), "{narrow}");
    let wide = screen_text(&draw(&app, now(), 120, 24));
    assert!(wide.contains("Manager"), "{wide}");
    assert!(
        wide.contains("│Bob Smith") || wide.contains(" Bob Smith "),
        "{wide}"
    );
    assert!(!wide.contains("IM Bob"), "{wide}");
    // The filter finds incidents by their manager.
    f.chars(&mut app, "/bob smith");
    assert_eq!(app.board.visible().len(), 1);
}

#[test]
fn console_r_with_an_empty_to_takes_the_role_back() {
    let f = fixture();
    f.incident(ID, "Ransomware on the payroll file server", minutes(10));
    f.desk
        .assign(ID, Role::IncidentManager, "Bob Smith", now())
        .expect("assign");
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "R");
    // Role stays incident-manager; To left empty (spaces count as empty).
    // Its hint says what an empty name does, and who holds the role now.
    f.key(&mut app, KeyCode::Tab);
    let shown = screen_text(&draw(&app, now(), 120, 30));
    assert!(shown.contains("empty: nobody (unassign)"), "{shown}");
    assert!(shown.contains("now: incident-manager Bob Smith"), "{shown}");
    f.chars(&mut app, "  ");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
    let status = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert_eq!(status, "Saved: nobody is incident manager now");
    // The same change as `assign --unassign`: an assignment to nobody, its
    // timeline entry and audit entry.
    let record = f.desk.load(ID).expect("load");
    assert_eq!(record.incident_manager(), None);
    let last = record.assignments.last().expect("assignment");
    assert_eq!((last.role, last.to.as_str()), (Role::IncidentManager, ""));
    assert_eq!(
        record.timeline.last().expect("entry").text,
        "Role incident-manager: unassigned (was Bob Smith)"
    );
    assert!(audit_text(&f).contains("\"action\":\"role.unassigned\""));
    f.key(&mut app, KeyCode::Esc);
    let board = screen_text(&draw(&app, now(), 120, 24));
    assert!(!board.contains("Bob Smith"), "{board}");

    // Nobody holds it now: nothing is written, and the console says so.
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "R");
    f.key(&mut app, KeyCode::Enter);
    let status = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert_eq!(status, "Nothing changed: nobody was incident manager");
    assert_eq!(
        f.desk.load(ID).expect("load").revision,
        record.revision,
        "nothing written"
    );
}

#[test]
fn console_banner_shows_a_handover_until_y_acknowledges_it() {
    let f = fixture();
    f.incident(ID, "Ransomware on the payroll file server", minutes(10));
    // Alice (the fixture's responder) hands over with H.
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "H");
    f.chars(&mut app, "bob");
    f.key(&mut app, KeyCode::Tab);
    f.chars(&mut app, "Firewall change at 08:00");
    f.ctrl(&mut app, 's');
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
    let record = f.desk.load(ID).expect("load");
    assert_eq!(record.handovers.len(), 1);
    assert_eq!(record.handovers[0].to, "bob");

    let banner = |app: &breachdesk::tui::app::App| {
        let terminal = draw(app, now(), 100, 30);
        screen_text(&terminal)
    };
    let shown = banner(&app);
    let first = shown.lines().next().expect("line");
    assert!(
        first.contains("HANDOVER (Y acknowledge) from alice to bob"),
        "the banner is the first line: {shown}"
    );
    assert!(first.contains("Firewall change at 08:00"), "{first}");
    // A note from another machine may hold anything: shown made safe.
    f.desk
        .hand_over(ID, "carol", "clear \u{1b}[2J \u{9b}31m red", now())
        .expect("second handover");
    f.send(
        &mut app,
        breachdesk::tui::app::Action::Cmd(breachdesk::tui::keymap::Cmd::Refresh),
    );
    let shown = banner(&app);
    let second = shown
        .lines()
        .take(2)
        .find(|l| l.contains("from alice to carol"))
        .expect(&shown);
    assert!(second.contains("clear ^[[2J <U+009B>31m red"), "{second}");
    assert!(!shown.contains('\u{1b}') && !shown.contains('\u{9b}'));

    // A third waiting: two lines, then how many more.
    f.desk
        .hand_over(ID, "dan", "third", now())
        .expect("third handover");
    f.send(
        &mut app,
        breachdesk::tui::app::Action::Cmd(breachdesk::tui::keymap::Cmd::Refresh),
    );
    let shown = banner(&app);
    assert_eq!(shown.matches("⇄ HANDOVER").count(), 2, "{shown}");
    assert!(
        shown
            .lines()
            .nth(2)
            .expect("line")
            .contains("… and 1 more handovers"),
        "{shown}"
    );

    // Alice cannot acknowledge her own handover: the banner stays.
    f.chars(&mut app, "Y");
    let status = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert!(
        status.contains("the next responder acknowledges it"),
        "{status}"
    );
    assert!(banner(&app).contains("HANDOVER"));

    // Bob's console: Y acknowledges and the banner goes.
    let bob = desk_as(&f, "bob");
    let mut app =
        breachdesk::tui::app::App::from_desk(&bob, breachdesk::tui::theme::Theme::colored());
    let send = |app: &mut breachdesk::tui::app::App, code: KeyCode| {
        breachdesk::tui::app::dispatch(
            app,
            &bob,
            breachdesk::tui::app::Action::Key(ratatui::crossterm::event::KeyEvent::new(
                code,
                ratatui::crossterm::event::KeyModifiers::NONE,
            )),
            now(),
        )
    };
    send(&mut app, KeyCode::Enter);
    assert!(banner(&app).contains("HANDOVER (Y acknowledge) from alice to bob"));
    send(&mut app, KeyCode::Char('Y'));
    let shown = banner(&app);
    assert!(!shown.contains("HANDOVER"), "{shown}");
    let record = f.desk.load(ID).expect("load");
    assert!(
        record
            .handovers
            .iter()
            .all(|h| h.acknowledged_by.as_deref() == Some("bob")),
        "both acknowledged: {:?}",
        record.handovers
    );
    // Nothing left to acknowledge: said so.
    send(&mut app, KeyCode::Char('Y'));
    let status = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert!(status.contains("No handover is waiting"), "{status}");
}

#[test]
fn help_lists_the_team_keys() {
    let f = fixture();
    f.incident(ID, "Ransomware", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "?");
    let shown = screen_text(&draw(&app, now(), 120, 50));
    for needle in [
        "give a responder a role",
        "hand over to the next responder",
        "acknowledge the handover at the top",
    ] {
        assert!(shown.contains(needle), "{needle}: {shown}");
    }
}

#[test]
fn the_board_marks_an_incident_whose_handover_waits() {
    const OTHER: &str = "INC-20260310-1201-00a002";
    let f = fixture();
    f.incident(ID, "Ransomware on the payroll file server", minutes(10));
    f.incident(OTHER, "Phishing reported by the service desk", minutes(20));
    // Two waiting on ID: the board names the oldest's responder.
    f.desk
        .hand_over(ID, "Carol Jones", "CSR call at 08:00", now())
        .expect("handover");
    f.desk
        .hand_over(ID, "dan", "later one", now() + minutes(1))
        .expect("second handover");
    let summary = IncidentSummary::of(&f.desk.load(ID).expect("load"));
    assert_eq!(summary.handover_to.as_deref(), Some("Carol Jones"));
    let mut app = f.app();
    let row = |shown: &str, title: &str| {
        shown
            .lines()
            .position(|l| l.contains(title))
            .map(|i| shown.lines().skip(i).take(2).collect::<Vec<_>>().join("\n"))
            .expect(title)
    };

    // 80 columns: a glyph before the title, on that row only.
    let narrow = screen_text(&draw(&app, now(), 80, 24));
    assert!(
        row(&narrow, "Ransomware").contains("⇄ Ransomware"),
        "{narrow}"
    );
    assert_eq!(narrow.matches('⇄').count(), 1, "{narrow}");
    // 120: under the manager, with the name; shortened to fit its column.
    let wide = screen_text(&draw(&app, now(), 120, 24));
    assert!(
        row(&wide, "Ransomware").contains("⇄ to Carol Jones"),
        "{wide}"
    );
    assert!(!wide.contains("⇄ Ransomware"), "{wide}");
    assert!(!row(&wide, "Phishing").contains('⇄'), "{wide}");
    // With room, the whole phrase.
    let wider = screen_text(&draw(&app, now(), 140, 24));
    assert!(
        row(&wider, "Ransomware").contains("⇄ handover to Carol Jones"),
        "{wider}"
    );
    // The filter finds the incidents waiting for a responder.
    f.chars(&mut app, "/carol");
    assert_eq!(app.board.visible().len(), 1);
    f.key(&mut app, KeyCode::Esc);

    // Once acknowledged, the mark goes.
    let bob = desk_as(&f, "bob");
    bob.acknowledge_handovers(ID, now() + minutes(5))
        .expect("ack");
    f.send(
        &mut app,
        breachdesk::tui::app::Action::Cmd(breachdesk::tui::keymap::Cmd::Refresh),
    );
    let narrow = screen_text(&draw(&app, now(), 80, 24));
    assert!(!narrow.contains('⇄'), "acknowledged: {narrow}");

    // A name from another machine (a synced record) may hold anything: the
    // desk refuses it here, but the board shows what a record holds, safely.
    let mut record = f.desk.load(OTHER).expect("load");
    record
        .handovers
        .push(breachdesk::domain::team::Handover::new(
            "mallory",
            "eve\u{1b}[2J\u{9b}31m",
            "x",
            now(),
        ));
    let note = breachdesk::store::AuditNote::new(now(), "mallory", "handover.recorded", "x");
    f.store.save(&record, &note).expect("save");
    f.send(
        &mut app,
        breachdesk::tui::app::Action::Cmd(breachdesk::tui::keymap::Cmd::Refresh),
    );
    let wider = screen_text(&draw(&app, now(), 140, 24));
    assert!(
        row(&wider, "Phishing").contains("⇄ to eve^[[2J<U+009B>31m"),
        "{wider}"
    );
    assert!(!wider.contains('\u{1b}') && !wider.contains('\u{9b}'));
}

/// Indexes and summary lines written before `handover_to` existed (version
/// 6) are not used: the board still learns of a waiting handover.
#[test]
fn summaries_cached_by_an_older_version_are_derived_again() {
    let f = fixture();
    f.incident(ID, "Ransomware", minutes(10));
    f.desk
        .hand_over(ID, "bob", "over to you", now())
        .expect("handover");
    let data = f.desk.data_dir().to_path_buf();
    let waiting = |desk: &Desk| {
        let (summaries, problems) = desk.open_summaries();
        assert!(problems.is_empty(), "{problems:?}");
        summaries[0].handover_to.clone()
    };
    assert_eq!(waiting(&f.desk).as_deref(), Some("bob"));

    // An index.json of version 6, otherwise trustworthy, without the field.
    let path = data.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("index")).expect("json");
    assert_eq!(index["version"], 7);
    index["version"] = 6.into();
    let summary = &mut index["open"][ID]["summary"];
    assert_eq!(summary["handover_to"], "bob");
    summary
        .as_object_mut()
        .expect("object")
        .remove("handover_to");
    std::fs::write(&path, index.to_string()).expect("write index");
    assert_eq!(waiting(&desk_as(&f, "carol")).as_deref(), Some("bob"));

    // No index, and the record's line of version 6 with a good hash.
    for name in ["index.json", "index-closed.rows"] {
        let _ = std::fs::remove_file(data.join(name));
    }
    let record = data.join("incidents").join(format!("{ID}.toml"));
    let text = std::fs::read_to_string(&record).expect("record");
    let (line, toml) = text.split_once('\n').expect("summary line");
    let json = line.splitn(5, ' ').nth(4).expect("json");
    let mut old: serde_json::Value = serde_json::from_str(json).expect("summary json");
    old.as_object_mut().expect("object").remove("handover_to");
    let covered = format!("{old}\n{toml}");
    let hash = xxhash_rust::xxh3::xxh3_64(covered.as_bytes());
    std::fs::write(
        &record,
        format!("# breachdesk-summary v6.2 {hash:016x} {covered}"),
    )
    .expect("write record");
    assert_eq!(waiting(&desk_as(&f, "dan")).as_deref(), Some("bob"));
}
