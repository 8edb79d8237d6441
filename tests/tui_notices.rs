//! The console's Notices pane: the notice register on the incident screen
//! (fixed clock, fixed ids; TestBackend + insta).

mod support;

use breachdesk::desk::{DetailsEdit, Edit, OtherNoticeInput};
use breachdesk::domain::incident::{Direction, NoticeChannel, NoticeParty};
use breachdesk::tui::app::Pane;
use insta::assert_snapshot;
use ratatui::crossterm::event::KeyCode;
use support::{draw, fixture, minutes, now, screen_text};

const ID: &str = "INC-20260310-1200-00a001";

#[test]
fn the_notices_pane_lists_the_register() {
    let f = fixture();
    f.incident(ID, "Ransomware on the payroll file server", minutes(40));
    f.notify(ID, minutes(30), None);
    f.desk
        .record_other_notice(
            ID,
            OtherNoticeInput {
                direction: Direction::Sent,
                party: NoticeParty::Ico,
                channel: NoticeChannel::Portal,
                at: now() - minutes(10),
                counterpart: String::new(),
                reference: Some("ICO-123".into()),
                summary: "initial report".into(),
            },
            now(),
        )
        .expect("notice");
    f.desk
        .edit(
            ID,
            Edit {
                details: Box::new(DetailsEdit {
                    containment: Some("file server isolated".into()),
                    next_update_due: Some(Some(now() + minutes(90))),
                    ..DetailsEdit::default()
                }),
                ..Edit::default()
            },
            now(),
        )
        .expect("edit");
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    for _ in 0..6 {
        f.key(&mut app, KeyCode::Tab);
    }
    assert_eq!(app.incident.as_ref().map(|s| s.pane), Some(Pane::Notices));
    let screen = draw(&app, now(), 100, 30);
    let text = screen_text(&screen);
    assert!(
        text.contains("sent to    ico by portal: G1: initial report [ICO-123]"),
        "{text}"
    );
    assert!(text.contains("sent to    client by phone"), "{text}");
    assert!(text.contains("file server isolated"), "{text}");
    assert_snapshot!("notices_pane", screen.backend().to_string());
}

/// The edit form holds the incident facts too; taller than a 24-line
/// screen, it scrolls so the focused field stays in view.
#[test]
fn the_edit_form_scrolls_to_the_focused_field() {
    let f = fixture();
    f.incident(ID, "Ransomware on the payroll file server", minutes(10));
    let mut app = f.app();
    f.key(&mut app, KeyCode::Enter);
    f.chars(&mut app, "e");
    assert!(app.form().is_some());
    let top = screen_text(&draw(&app, now(), 80, 24));
    assert!(top.contains("▶ Title"), "{top}");
    assert!(!top.contains("Lessons"), "the last field is below: {top}");
    let fields = app.form().map(|f| f.fields.len()).expect("form");
    for _ in 1..fields {
        f.key(&mut app, KeyCode::Tab);
    }
    let bottom = screen_text(&draw(&app, now(), 80, 24));
    assert!(bottom.contains("▶ Lessons"), "{bottom}");
    assert!(
        bottom.contains("lessons learned (for the report)"),
        "{bottom}"
    );
    // Typed into the last field and saved: it reaches the record.
    f.chars(&mut app, "patch sooner");
    f.key(&mut app, KeyCode::Enter);
    assert!(app.form().is_none(), "{:?}", app.form().map(|f| &f.error));
    assert_eq!(
        f.desk.load(ID).expect("load").details.lessons_learned,
        "patch sooner"
    );
}
