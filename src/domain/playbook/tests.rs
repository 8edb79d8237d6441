//! Unit tests of `playbook`.

use super::*;
use crate::domain::incident::{
    BreachKind, Channel, IncomingNotice, NewIncident, PartyRole, Severity,
};
use chrono::TimeZone;

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0)
        .single()
        .expect("valid time")
}

fn incident(role: PartyRole, theirs: bool) -> Incident {
    let fields = NewIncident {
        title: "t".into(),
        summary: String::new(),
        kind: BreachKind::Breach,
        severity: Severity::High,
        personal_data: true,
        government_data: false,
        affected_assets: Vec::new(),
        identified_at: at(9, 0),
    };
    let mut i = if theirs {
        Incident::new_on_notice(
            "INC-1".into(),
            fields,
            IncomingNotice {
                received_at: at(9, 30),
                from: "Jo".into(),
                channel: Channel::Phone,
                reference: None,
                source: None,
            },
            "a",
            role,
            at(10, 0),
        )
    } else {
        Incident::new("INC-1".into(), fields, "a", role, at(10, 0))
    }
    .expect("new");
    let builtin: Vec<Playbook> = [
        include_str!("../../../playbooks/schedule6-paragraph8.toml"),
        include_str!("../../../playbooks/uk-gdpr-personal-data.toml"),
    ]
    .iter()
    .map(|t| Playbook::parse(t, "built-in").expect("parses"))
    .collect();
    apply_playbooks(&mut i, &builtin, &WorkingCalendar::default());
    i
}

fn applying(i: &Incident) -> Vec<&str> {
    i.steps
        .iter()
        .filter(|s| s.applies(i))
        .map(|s| s.id.as_str())
        .collect()
}

#[test]
fn the_built_in_playbook_fits_all_four_cases() {
    use PartyRole::{Client, ServiceProvider};
    let sp_us = incident(ServiceProvider, false);
    let sp_them = incident(ServiceProvider, true);
    let cl_us = incident(Client, false);
    let cl_them = incident(Client, true);
    for (i, notify, received) in [
        (&sp_us, true, false),
        (&sp_them, false, true),
        (&cl_us, true, false),
        (&cl_them, false, true),
    ] {
        let steps = applying(i);
        assert_eq!(steps.contains(&"8.1"), notify, "{steps:?}");
        assert_eq!(steps.contains(&"8.1-received"), received, "{steps:?}");
    }
    for i in [&sp_us, &sp_them] {
        let steps = applying(i);
        for id in ["8.2.1a", "8.2.1e", "8.2.1f", "close-out", "gdpr-controller"] {
            assert!(steps.contains(&id), "{id}: {steps:?}");
        }
        assert!(!steps.iter().any(|s| s.starts_with("client-")), "{steps:?}");
        assert!(
            !steps.contains(&"gdpr-ico"),
            "the processor does not report to the ICO"
        );
    }
    for i in [&cl_us, &cl_them] {
        let steps = applying(i);
        for id in [
            "client-track",
            "client-rca",
            "client-details",
            "client-close-out",
            "gdpr-ico",
        ] {
            assert!(steps.contains(&id), "{id}: {steps:?}");
        }
        assert!(!steps.iter().any(|s| s.starts_with("8.2.1")), "{steps:?}");
        let close = i.step("client-close-out").expect("step");
        assert!(
            !close.checks.contains(&CloseCheck::ReportSent),
            "no report for the Client to send"
        );
    }
    assert!(applying(&cl_them).contains(&"client-acknowledge"));
    assert!(!applying(&cl_us).contains(&"client-acknowledge"));
}

#[test]
fn clocks_from_aware_start_at_the_notice_for_the_other_partys_breach() {
    let ours = incident(PartyRole::Client, false);
    let theirs = incident(PartyRole::Client, true);
    // Controller's ICO report: 72 h from becoming aware.
    assert_eq!(
        ours.step("gdpr-ico").and_then(|s| s.due_at),
        Some(at(9, 0) + chrono::Duration::hours(72))
    );
    assert_eq!(
        theirs.step("gdpr-ico").and_then(|s| s.due_at),
        Some(at(9, 30) + chrono::Duration::hours(72))
    );
}

#[test]
fn close_checks_follow_the_notice_and_the_clients_rca_decision() {
    let mut theirs = incident(PartyRole::ServiceProvider, true);
    assert!(CloseCheck::NoticeExchanged.passes(&theirs, 1));
    let ours = incident(PartyRole::ServiceProvider, false);
    assert!(!CloseCheck::NoticeExchanged.passes(&ours, 1));

    assert!(!CloseCheck::RcaWhereRequired.passes(&theirs, 1), "unknown");
    assert!(!CloseCheck::RcaDecided.passes(&theirs, 1));
    theirs.rca_required = RcaRequired::No;
    assert!(CloseCheck::RcaWhereRequired.passes(&theirs, 1));
    assert!(CloseCheck::RcaDecided.passes(&theirs, 1));
    theirs.rca_required = RcaRequired::Yes;
    assert!(!CloseCheck::RcaWhereRequired.passes(&theirs, 1));
    theirs.root_cause.category = Some(crate::domain::incident::RootCauseCategory::Phishing);
    theirs.root_cause.component = "vpn".into();
    assert!(
        !CloseCheck::RcaWhereRequired.passes(&theirs, 1),
        "no analysis yet"
    );
    theirs.root_cause.analysis = "MFA was off".into();
    assert!(CloseCheck::RcaWhereRequired.passes(&theirs, 1));
}

#[test]
fn new_conditions_and_clock_start_round_trip() {
    for text in ["identified-by-us", "not identified-by-other-party"] {
        let c = Condition::try_from(text.to_string()).expect(text);
        assert_eq!(String::from(c), text);
    }
    let e = Condition::try_from("identified-by-them".to_string()).expect_err("refused");
    assert!(e.contains("identified-by-other-party"), "{e}");
    assert_eq!(
        ClockStart::try_from("aware".to_string()),
        Ok(ClockStart::Aware)
    );
}

#[test]
fn shown_steps_leave_out_the_other_sides_but_keep_work_done() {
    let mut i = incident(PartyRole::ServiceProvider, false);
    let shown: Vec<String> = shown_steps(&i).iter().map(|s| s.id.clone()).collect();
    assert!(!shown.iter().any(|s| s.starts_with("client-")), "{shown:?}");
    assert!(!shown.contains(&"8.1-received".to_string()));
    if let Some(s) = i.step_mut("client-track") {
        s.status = StepStatus::Done;
    }
    assert!(shown_steps(&i).iter().any(|s| s.id == "client-track"));
}

#[test]
fn a_bad_clock_is_refused_with_its_line_and_why() {
    let playbook = |clock: &str| {
        format!(
            "name = \"p\"\nversion = 1\ntitle = \"P\"\nclause = \"c\"\n\n[[step]]\nid = \"s1\"\ntitle = \"S\"\nclock = {clock}\n"
        )
    };
    for (clock, why) in [
        (
            "{ hours = 0, from = \"identified\" }",
            "a clock of 0 hours is not a deadline",
        ),
        (
            "{ working_days = 261, from = \"identified\" }",
            "a clock of 261 Working Days is too long (at most 260)",
        ),
        (
            "{ hours = 1, working_days = 2, from = \"identified\" }",
            "a clock takes exactly one of `hours` or `working_days`, not both",
        ),
        (
            "{ from = \"identified\" }",
            "a clock needs one of `hours` or `working_days`",
        ),
        (
            "{ hours = 1, from = \"tuesday\" }",
            "clock start 'tuesday' is not one of",
        ),
    ] {
        let err = Playbook::parse(&playbook(clock), "p.toml").expect_err(clock);
        assert_eq!(
            (err.file.as_str(), err.line),
            ("p.toml", 9),
            "{clock}: {err}"
        );
        assert!(err.message.contains(why), "{clock}: {err}");
    }
    let ok = Playbook::parse(
        &playbook("{ working_days = 2, from = \"identified\", internal = true }"),
        "p.toml",
    )
    .expect("parses");
    assert_eq!(
        ok.steps[0].clock,
        Some(StepClock {
            internal: true,
            ..StepClock::working_days(2, ClockStart::Identified)
        })
    );
}
