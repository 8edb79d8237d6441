//! A refused change says what kind of refusal it is, so a frontend can match
//! on it (not on the words), and nothing is written when it is refused.

mod support;

use breachdesk::desk::DeskError;
use support::{fixture, fixture_with_config, minutes, now};

#[test]
fn each_refusal_is_a_variant_a_caller_can_match() {
    let f = fixture();
    let id = f.incident("INC-A", "Phishing", minutes(30)).id;
    let before = std::fs::read(f.store.record_path(&id)).expect("record");

    let empty = f.desk.log(&id, "   ", now()).expect_err("empty entry");
    assert!(matches!(empty, DeskError::Missing(_)), "{empty:?}");

    let too_early = f
        .desk
        .log_at(&id, "before it began", now() - minutes(90), now())
        .expect_err("before identification");
    assert!(matches!(too_early, DeskError::Invalid(_)), "{too_early:?}");

    let no_request = f
        .desk
        .supply_request(&id, "R9", now(), "email", &[], now())
        .expect_err("no such request");
    assert!(
        matches!(no_request, DeskError::NotFound(_)),
        "{no_request:?}"
    );

    let no_reason = f.desk.reopen(&id, "", now()).expect_err("no reason");
    assert!(matches!(no_reason, DeskError::Missing(_)), "{no_reason:?}");
    let open = f.desk.reopen(&id, "why", now()).expect_err("already open");
    assert!(matches!(open, DeskError::WrongState(_)), "{open:?}");

    let evidence =
        breachdesk::desk::evidence_file(&f.dir.path().join("no-such-file"), "alice", now())
            .expect_err("missing evidence file");
    match &evidence {
        DeskError::Evidence { path, .. } => assert!(path.ends_with("no-such-file")),
        other => panic!("{other:?}"),
    }

    let retention = f.desk.prune_audit(now(), Some(30)).expect_err("too short");
    assert!(matches!(retention, DeskError::Invalid(_)), "{retention:?}");
    assert!(
        retention.to_string().contains("6 calendar months"),
        "{retention}"
    );

    // Nothing was written by any of them.
    assert_eq!(
        std::fs::read(f.store.record_path(&id)).expect("record"),
        before
    );
}

#[test]
fn notices_without_smtp_are_refused_as_email_off() {
    let f = fixture_with_config(
        "[responder]\nname = \"alice\"\nemail = \"alice@provider.example\"\n\n[contacts]\nother_party = \"csr@client.example\"\n",
    );
    let id = f.incident("INC-B", "Phishing", minutes(10)).id;
    let request = breachdesk::desk::NoticeRequest::new(
        &id,
        breachdesk::domain::incident::NoticeKind::Notification,
    );
    let composed = f.desk.compose_notice(request, now()).expect("compose");
    let sent = f
        .desk
        .send_notice(composed.notice, now())
        .expect_err("no smtp");
    assert!(matches!(sent, DeskError::EmailOff), "{sent:?}");
}
