//! Playbooks: every refusal, overriding, conditions, next-action order,
//! version pinning, and the paragraph 6.5 repeat-root-cause warning.

use breachdesk::config::Config;
use breachdesk::desk::Desk;
use breachdesk::domain::calendar::{Division, WorkingCalendar};
use breachdesk::domain::incident::{
    BreachKind, NewIncident, RootCauseCategory, Severity, StepStatus,
};
use breachdesk::domain::playbook::{Playbook, next_action, open_steps_by_urgency};
use breachdesk::playbooks::PlaybookSet;
use chrono::{DateTime, Duration, Utc};
use std::path::{Path, PathBuf};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test time")
        .with_timezone(&Utc)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/playbooks")
}

fn desk(dir: &Path, user_dir: Option<&Path>, extra: &[PathBuf]) -> Desk {
    Desk::open(
        dir,
        Config::default(),
        PlaybookSet::load(user_dir, extra),
        WorkingCalendar::new(Division::EnglandAndWales, chrono_tz::Europe::London),
    )
    .expect("desk")
}

fn fields(title: &str, identified: DateTime<Utc>) -> NewIncident {
    NewIncident {
        title: title.into(),
        summary: String::new(),
        kind: BreachKind::Breach,
        severity: Severity::High,
        personal_data: false,
        government_data: false,
        affected_assets: vec![],
        identified_at: identified,
    }
}

#[test]
fn every_invalid_fixture_is_refused_with_its_line_and_reason() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures().join("invalid")).expect("fixtures") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .expect("first line is '# expect: LINE: message'");
        let (line, message) = expect.split_once(": ").expect("LINE: message");
        let err = Playbook::parse(&text, &path.display().to_string())
            .expect_err(&format!("{} was accepted", path.display()));
        assert_eq!(err.file, path.display().to_string());
        assert_eq!(err.line.to_string(), line, "{}: {err}", path.display());
        assert!(err.message.contains(message), "{}: {err}", path.display());
        seen += 1;
    }
    assert!(seen >= 14, "only {seen} invalid fixtures");
}

#[test]
fn playbook_check_exits_non_zero_on_a_bad_file() {
    let bad = fixtures().join("invalid/duplicate-step.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_breachdesk"))
        .args(["playbook", "check"])
        .arg(&bad)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("duplicate-step.toml:12:"), "{stderr}");
    let good = fixtures().join("valid/override-schedule6.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_breachdesk"))
        .args(["playbook", "check"])
        .arg(&good)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_users_playbook_overrides_the_built_in_one_and_a_bad_one_is_skipped() {
    let user = tempfile::tempdir().expect("temp");
    std::fs::copy(
        fixtures().join("valid/override-schedule6.toml"),
        user.path().join("a-override.toml"),
    )
    .expect("copy");
    std::fs::copy(
        fixtures().join("invalid/dependency-cycle.toml"),
        user.path().join("b-broken.toml"),
    )
    .expect("copy");
    let set = PlaybookSet::load(Some(user.path()), &[]);
    assert_eq!(set.problems.len(), 1, "{:?}", set.problems);
    assert!(set.problems[0].file.ends_with("b-broken.toml"));
    let p = set.get("schedule6-paragraph8").expect("still there");
    assert_eq!(p.version, 3);
    assert!(p.source.ends_with("a-override.toml"));
    // The built-in GDPR playbook still loads beside it.
    assert!(set.get("uk-gdpr-personal-data").is_some());
}

#[test]
fn an_incident_keeps_the_steps_of_the_version_it_was_opened_under() {
    let dir = tempfile::tempdir().expect("temp");
    let now = at("2026-11-28T10:00:00Z");
    let v1 = desk(dir.path(), None, &[]);
    let old = v1
        .open_incident(fields("under v1", at("2026-11-28T09:50:00Z")), now)
        .expect("open");
    assert!(
        old.playbooks
            .iter()
            .any(|p| p.name == "schedule6-paragraph8" && p.version == 2)
    );
    let v1_steps: Vec<String> = old.steps.iter().map(|s| s.title.clone()).collect();

    let v2 = desk(
        dir.path(),
        None,
        &[fixtures().join("valid/override-schedule6.toml")],
    );
    let new = v2
        .open_incident(fields("under v2", at("2026-11-28T09:55:00Z")), now)
        .expect("open");
    assert!(
        new.playbooks
            .iter()
            .any(|p| p.name == "schedule6-paragraph8" && p.version == 3)
    );
    assert_eq!(
        new.step("8.1").map(|s| s.title.as_str()),
        Some("Phone the Client's security representative")
    );

    // Changing the old incident under v2 keeps its v1 steps.
    v2.log(&old.id, "still here", now + Duration::minutes(1))
        .expect("log");
    let reloaded = v2.load(&old.id).expect("load");
    let titles: Vec<String> = reloaded.steps.iter().map(|s| s.title.clone()).collect();
    assert_eq!(titles, v1_steps);
    assert_eq!(reloaded.playbooks, old.playbooks);
}

#[test]
fn conditions_switch_steps_on_and_off() {
    let dir = tempfile::tempdir().expect("temp");
    let now = at("2026-11-28T10:00:00Z");
    let d = desk(dir.path(), None, &[]);
    let incident = d
        .open_incident(fields("no personal data", at("2026-11-28T09:00:00Z")), now)
        .expect("open");
    let ico = incident.step("gdpr-ico").expect("copied");
    assert!(
        !ico.applies(&incident),
        "GDPR steps are off without personal data"
    );
    assert!(
        open_steps_by_urgency(&incident)
            .iter()
            .all(|s| !s.id.starts_with("gdpr"))
    );

    // Personal data discovered later: as the Service Provider (normally the
    // processor) we notify the controller; the ICO report is the controller's.
    let changed = d
        .edit(
            &incident.id,
            breachdesk::desk::Edit {
                personal_data: Some(true),
                ..Default::default()
            },
            now,
        )
        .expect("edit");
    let i = changed.incident;
    assert!(i.step("gdpr-controller").expect("step").applies(&i));
    assert!(!i.step("gdpr-ico").expect("step").applies(&i));
    // The internal assessment target runs 24 h from becoming aware.
    assert_eq!(
        i.step("gdpr-assess").expect("step").due_at,
        Some(at("2026-11-29T09:00:00Z"))
    );

    // As the Client, the Service Provider's 8.2.1 steps do not apply to us.
    let mut client = Config::default();
    client.responder.role = breachdesk::domain::incident::PartyRole::Client;
    let c = Desk::open(
        dir.path(),
        client,
        PlaybookSet::load(None, &[]),
        WorkingCalendar::default(),
    )
    .expect("desk");
    let ours = c
        .open_incident(fields("as client", at("2026-11-28T09:00:00Z")), now)
        .expect("open");
    assert!(!ours.step("8.2.1c").expect("step").applies(&ours));
    assert!(ours.step("8.1").expect("step").applies(&ours));
    // As the controller with personal data, the ICO clock (72 h from
    // becoming aware) applies.
    let mut pd = fields("as client, personal data", at("2026-11-28T09:00:00Z"));
    pd.personal_data = true;
    let ours = c.open_incident(pd, now).expect("open");
    let ico = ours.step("gdpr-ico").expect("step");
    assert!(ico.applies(&ours));
    assert_eq!(ico.due_at, Some(at("2026-12-01T09:00:00Z")));
    assert!(!ours.step("gdpr-controller").expect("step").applies(&ours));
}

#[test]
fn the_next_action_is_the_first_open_required_step_by_due_time() {
    let dir = tempfile::tempdir().expect("temp");
    let identified = at("2026-11-28T09:00:00Z");
    let now = at("2026-11-28T09:10:00Z");
    let d = desk(dir.path(), None, &[]);
    let mut fields = fields("ordering", identified);
    fields.personal_data = true;
    let incident = d.open_incident(fields, now).expect("open");
    assert_eq!(next_action(&incident).map(|s| s.id.as_str()), Some("8.1"));

    let after_notice = d
        .record_notification(
            &incident.id,
            breachdesk::desk::NotificationInput {
                at: now,
                channel: breachdesk::domain::incident::Channel::Phone,
                recipient: "CSR".into(),
                reference: None,
                server_reply: None,
                delay_reason: None,
            },
            now,
        )
        .expect("notified")
        .incident;
    // Next: the GDPR assessment (24 h) comes before the ICO report (72 h).
    assert_eq!(
        next_action(&after_notice).map(|s| s.id.as_str()),
        Some("gdpr-assess")
    );
    // A data request due in 2 Working Days (Tue 1 Dec 23:59:59) comes after the 24 h target.
    let with_request = d
        .add_request(
            &incident.id,
            breachdesk::domain::incident::Requester::Client,
            "",
            "logs",
            now,
            now,
        )
        .expect("request")
        .incident;
    let order: Vec<&str> = open_steps_by_urgency(&with_request)
        .iter()
        .map(|s| s.id.as_str())
        .take(2)
        .collect();
    assert_eq!(order, ["gdpr-assess", "8.2.1e"]);
    // Steps with no clock come after those with one, in playbook order.
    let rest: Vec<&str> = open_steps_by_urgency(&with_request)
        .iter()
        .skip(2)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        rest,
        [
            "8.2.1a",
            "8.2.1b",
            "8.2.1c",
            "8.2.1d",
            "8.2.1f",
            "close-out",
            "gdpr-controller"
        ]
    );
}

#[test]
fn a_repeat_root_cause_is_linked_and_warned_about() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path(), None, &[]);
    let first = d
        .open_incident(
            fields("first", at("2026-10-01T09:00:00Z")),
            at("2026-10-01T09:05:00Z"),
        )
        .expect("open");
    let unrelated = d
        .open_incident(
            fields("unrelated", at("2026-10-05T09:00:00Z")),
            at("2026-10-05T09:05:00Z"),
        )
        .expect("open");
    let first_rc = d
        .record_root_cause(
            &first.id,
            RootCauseCategory::WeakAuthentication,
            "VPN gateway",
            Some("no MFA".into()),
            vec!["enforce MFA".into()],
            at("2026-10-02T09:00:00Z"),
        )
        .expect("rc");
    assert!(first_rc.warnings.is_empty());
    d.record_root_cause(
        &unrelated.id,
        RootCauseCategory::Phishing,
        "VPN gateway",
        None,
        vec![],
        at("2026-10-06T09:00:00Z"),
    )
    .expect("rc");

    let second = d
        .open_incident(
            fields("second", at("2026-11-28T09:00:00Z")),
            at("2026-11-28T09:05:00Z"),
        )
        .expect("open");
    let repeat = d
        .record_root_cause(
            &second.id,
            RootCauseCategory::WeakAuthentication,
            "  vpn_GATEWAY ",
            None,
            vec![],
            at("2026-11-28T10:00:00Z"),
        )
        .expect("rc");
    assert_eq!(repeat.warnings.len(), 1, "{:?}", repeat.warnings);
    assert!(repeat.warnings[0].contains(&first.id));
    // A repeated root cause in a new incident is an 8.2.1 (d) prevention
    // failure, said internally; it is not by itself a paragraph 6.5 event.
    assert!(
        repeat.warnings[0].contains("8.2.1 (d)"),
        "{:?}",
        repeat.warnings
    );
    assert!(!repeat.warnings[0].contains("substantial failure"));
    assert!(!repeat.warnings[0].contains("6.5"));
    assert_eq!(repeat.incident.repeat_of.len(), 1);
    assert_eq!(repeat.incident.repeat_of[0].incident, first.id);
    assert_eq!(repeat.incident.repeat_of[0].component, "vpn-gateway");
    let audit = d.audit_entries(Some(&second.id)).expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "root-cause.repeat" && e.detail.contains(&first.id))
    );
    // The timeline (part of the report for the Client) states the fact only;
    // the repeat is in the audit entry.
    assert!(
        repeat
            .incident
            .timeline
            .iter()
            .all(|e| !e.text.contains(&first.id))
    );
    assert!(audit.iter().any(|e| {
        e.action == "root-cause.recorded"
            && e.detail
                .contains(&format!("same root cause as {}", first.id))
    }));
}

#[test]
fn evidence_files_are_hashed_and_later_changes_reported() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path(), None, &[]);
    let now = at("2026-11-28T10:00:00Z");
    let incident = d
        .open_incident(fields("evidence", at("2026-11-28T09:00:00Z")), now)
        .expect("open");
    let file = dir.path().join("firewall.log");
    std::fs::write(&file, b"deny 203.0.113.7\n").expect("write");
    let changed = d
        .set_step(
            &incident.id,
            "8.2.1a",
            StepStatus::Done,
            Some("blocked".into()),
            Some(&file),
            now,
        )
        .expect("step");
    let e = &changed.incident.step("8.2.1a").expect("step").evidence[0];
    assert_eq!(e.size, Some(17));
    use sha2::Digest;
    let expected = hex::encode(sha2::Sha256::digest(b"deny 203.0.113.7\n"));
    assert_eq!(e.sha256.as_deref(), Some(expected.as_str()));
    let checks = breachdesk::desk::check_evidence(&changed.incident);
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].2, breachdesk::desk::EvidenceCheck::Unchanged);
    std::fs::write(&file, b"deny 203.0.113.8\n").expect("tamper");
    let checks = breachdesk::desk::check_evidence(&changed.incident);
    assert!(matches!(
        checks[0].2,
        breachdesk::desk::EvidenceCheck::Changed { size: 17, .. }
    ));
    std::fs::remove_file(&file).expect("rm");
    let checks = breachdesk::desk::check_evidence(&changed.incident);
    assert!(matches!(
        checks[0].2,
        breachdesk::desk::EvidenceCheck::Unreadable(_)
    ));
}

#[test]
fn closing_checks_and_reasons() {
    let dir = tempfile::tempdir().expect("temp");
    let d = desk(dir.path(), None, &[]);
    let now = at("2026-11-28T10:00:00Z");
    let incident = d
        .open_incident(fields("closing", at("2026-11-28T09:30:00Z")), now)
        .expect("open");
    let err = d
        .close(&incident.id, None, now)
        .expect_err("needs a reason");
    assert!(
        err.to_string().contains("required steps are still open"),
        "{err}"
    );
    let closed = d
        .close(
            &incident.id,
            Some("duplicate of another ticket".into()),
            now,
        )
        .expect("closed")
        .incident;
    let closure = closed.closure.expect("closure");
    assert_eq!(
        closure.reason.as_deref(),
        Some("duplicate of another ticket")
    );
    assert!(closure.open_steps.contains(&"8.1".to_string()));
}
