//! Unit tests of `incident`.

use super::*;
use chrono::TimeZone;

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0)
        .single()
        .expect("valid time")
}

fn fields(identified: DateTime<Utc>) -> NewIncident {
    NewIncident {
        title: "t".into(),
        summary: String::new(),
        kind: BreachKind::Potential,
        severity: Severity::High,
        personal_data: false,
        government_data: false,
        affected_assets: Vec::new(),
        identified_at: identified,
    }
}

fn notice(received: DateTime<Utc>) -> IncomingNotice {
    IncomingNotice {
        received_at: received,
        from: "Jo".into(),
        channel: Channel::Email,
        reference: Some("<m@x>".into()),
        source: None,
    }
}

#[test]
fn awareness_is_identification_or_the_notice_received() {
    let ours = Incident::new(
        "INC-1".into(),
        fields(at(9, 0)),
        "a",
        PartyRole::ServiceProvider,
        at(10, 0),
    )
    .expect("new");
    assert!(ours.we_notify());
    assert_eq!(ours.aware_at(), at(9, 0));

    let theirs = Incident::new_on_notice(
        "INC-2".into(),
        fields(at(9, 0)),
        notice(at(9, 40)),
        "a",
        PartyRole::ServiceProvider,
        at(10, 0),
    )
    .expect("new");
    assert!(!theirs.we_notify());
    assert_eq!(theirs.identified_by, IdentifiedBy::OtherParty);
    assert_eq!(theirs.aware_at(), at(9, 40), "8.2 runs from the notice");
    assert!(theirs.timeline.iter().any(|e| {
        e.kind == EntryKind::Notice
            && e.text
                .contains("notice received from the Client (Jo) by email")
    }));
}

#[test]
fn a_notice_from_nobody_from_the_future_or_before_identification_is_refused() {
    let open = |from: &str, received, identified| {
        Incident::new_on_notice(
            "INC-3".into(),
            fields(identified),
            IncomingNotice {
                from: from.into(),
                ..notice(received)
            },
            "a",
            PartyRole::Client,
            at(10, 0),
        )
    };
    assert_eq!(
        open(" ", at(9, 0), at(9, 0)).expect_err("refused"),
        NewIncidentError::NoNoticeSender
    );
    assert!(matches!(
        open("Jo", at(10, 1), at(9, 0)),
        Err(NewIncidentError::ReceivedInFuture { .. })
    ));
    assert!(matches!(
        open("Jo", at(8, 59), at(9, 0)),
        Err(NewIncidentError::ReceivedBeforeIdentified { .. })
    ));
}

#[test]
fn a_potential_breach_is_not_called_a_breach_of_security() {
    assert_eq!(BreachKind::Breach.contract_label(), "a Breach of Security");
    assert_eq!(
        BreachKind::Potential.contract_label(),
        "a potential Breach of Security"
    );
    assert_eq!(
        BreachKind::Attempted.contract_label(),
        "an attempted Breach of Security"
    );
    let i = Incident::new(
        "INC-4".into(),
        fields(at(9, 0)),
        "a",
        PartyRole::ServiceProvider,
        at(10, 0),
    )
    .expect("new");
    assert!(
        i.timeline[0]
            .text
            .starts_with("Incident opened (a potential Breach of Security, severity high)")
    );
}

fn request_toml(requester: Option<&str>, extra: &str) -> String {
    format!(
        "id = \"R1\"\n{}requester_name = \"Jo\"\nreceived_at = \"2026-11-28T09:00:00Z\"\nwhat = \"logs\"\ndue_at = \"2026-12-01T23:59:59Z\"\n{extra}",
        requester
            .map(|r| format!("requester = \"{r}\"\n"))
            .unwrap_or_default()
    )
}

#[test]
fn old_requester_values_migrate_to_authority_and_destination() {
    for (old, authority, deliver_to) in [
        ("client", RequestAuthority::Client, DataDestination::Client),
        (
            "govcertuk",
            RequestAuthority::Unconfirmed,
            DataDestination::GovCertUk,
        ),
        (
            "other",
            RequestAuthority::Unconfirmed,
            DataDestination::Client,
        ),
    ] {
        let r: DataRequest = toml::from_str(&request_toml(Some(old), "")).expect(old);
        assert_eq!(
            (r.authority, r.deliver_to),
            (authority, deliver_to),
            "{old}"
        );
        assert_eq!(r.requester_name, "Jo");
        assert_eq!(r.status, RequestStatus::Open);
        // Saved again, it is in the new form only.
        let saved = toml::to_string(&r).expect("serialise");
        assert!(!saved.contains("requester ="), "{saved}");
        let again: DataRequest = toml::from_str(&saved).expect("reload");
        assert_eq!(again, r);
    }
    let new: DataRequest = toml::from_str(&request_toml(
        None,
        "authority = \"client\"\ndeliver_to = \"govcertuk\"\n",
    ))
    .expect("new form");
    assert_eq!(new.deliver_to, DataDestination::GovCertUk);
    assert!(
        toml::from_str::<DataRequest>(&request_toml(Some("police"), "")).is_err(),
        "an unknown old value is refused"
    );
    assert!(
        toml::from_str::<DataRequest>(&request_toml(None, "surprise = 1\n")).is_err(),
        "unknown fields are still refused"
    );
}

#[test]
fn test_and_request_ids_count_up() {
    let mut i = Incident::new(
        "INC-5".into(),
        fields(at(9, 0)),
        "a",
        PartyRole::ServiceProvider,
        at(10, 0),
    )
    .expect("new");
    assert_eq!(i.next_test_id(), "T1");
    i.security_tests.push(SecurityTest {
        uid: String::new(),
        id: "T7".into(),
        clause: TestClause::ServiceProvider,
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"),
        scope: "s".into(),
        run_by: "r".into(),
        repeats: None,
        findings: Vec::new(),
        recorded_by: "a".into(),
        recorded_at: at(10, 0),
    });
    assert_eq!(i.next_test_id(), "T8");
    assert_eq!("6.4".parse::<TestClause>(), Ok(TestClause::Repeat));
}
