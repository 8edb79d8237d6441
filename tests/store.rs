#![allow(clippy::unwrap_used)]
//! The incident store against real files and real processes.

use breachdesk::domain::incident::*;
use breachdesk::domain::playbook::{ClockStart, CloseCheck, Condition, RecordField, StepClock};
use breachdesk::domain::summary::IncidentSummary;
use breachdesk::store::{AuditNote, Store, StoreError, UpdateError};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0).unwrap()
}

fn evidence(note: &str) -> Evidence {
    Evidence {
        uid: String::new(),
        added_at: t(15, 0),
        added_by: "Zoë O'Brien".into(),
        note: Some(note.into()),
        path: Some("/srv/evidence/ファイル \"1\".pcap".into()),
        path_hex: None,
        size: Some(123_456_789),
        sha256: Some("ab".repeat(32)),
    }
}

const AWKWARD: &str = "quotes \" and ' and \"\"\" and ''' and \\ backslash\nnew line\r\n\ttab ]] [[entry]] # not a comment\nunicode: £ € Zoë 東京 🔥 \u{1b}[31m esc \u{7f}";

/// Every field and nested struct populated, with awkward text.
fn full_incident(id: &str) -> Incident {
    Incident {
        schema_version: SCHEMA_VERSION,
        id: id.into(),
        revision: 0,
        title: "Phishing → VPN \"compromise\" at Zoë's site".into(),
        summary: format!("Summary with {AWKWARD}\n\"\"\"\nend"),
        kind: BreachKind::Breach,
        severity: Severity::Critical,
        status: IncidentStatus::Closed,
        personal_data: true,
        government_data: true,
        affected_assets: vec![
            "vpn-gateway".into(),
            "mail \"relay\"".into(),
            AWKWARD.into(),
        ],
        logged_by: "alice".into(),
        responders: vec!["alice".into(), "bob".into(), "Zoë".into()],
        identified_at: t(14, 32),
        logged_at: t(14, 40),
        our_role: PartyRole::ServiceProvider,
        identified_by: IdentifiedBy::OtherParty,
        notice_received: Some(NoticeReceived {
            received_at: t(14, 35),
            from: format!("Client CSR {AWKWARD}"),
            channel: Channel::Other,
            reference: Some("<n@x>".into()),
            recorded_by: "alice".into(),
            recorded_at: t(14, 40),
            source: Some("the Date: header of n.eml".into()),
        }),
        rca_required: RcaRequired::Yes,
        playbooks: vec![
            PlaybookRef {
                name: "paragraph-8".into(),
                version: 3,
            },
            PlaybookRef {
                name: "uk-gdpr".into(),
                version: 1,
            },
        ],
        notification: Notification {
            due_at: t(15, 32),
            made_at: Some(t(15, 10)),
            made_by: Some("alice".into()),
            channel: Some(Channel::Email),
            recipient: Some("security@client.example.gov.uk".into()),
            reference: Some("<abc@x>".into()),
            server_reply: Some("250 2.0.0 OK queued as \"X\"".into()),
            met_deadline: Some(true),
            delay_reason: Some(AWKWARD.into()),
        },
        mitigation: Mitigation {
            description: "Blocked the account\nReset keys".into(),
            tested: true,
            tested_how: "Tried to log in '''".into(),
            evidence: vec![evidence("first"), evidence(AWKWARD)],
            applied_at: Some(t(16, 0)),
            affects_kpis: true,
            kpi_relief: KpiRelief {
                requested_at: Some(t(16, 5)),
                granted: Some(false),
                period: "2026-11-28 to 2026-12-05".into(),
                notice: Some(ReliefNotice {
                    dated: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
                    reference: AWKWARD.into(),
                    period: "2026-11-28 to 2026-12-05".into(),
                }),
            },
        },
        root_cause: RootCause {
            category: Some(RootCauseCategory::Phishing),
            component: "VPN Gateway".into(),
            analysis: AWKWARD.into(),
            prevention_actions: vec!["MFA".into(), "training \"again\"".into()],
            recorded_at: Some(t(17, 0)),
            recorded_by: Some("bob".into()),
        },
        data_requests: vec![DataRequest {
            uid: String::new(),
            id: "R1".into(),
            deliver_to: DataDestination::GovCertUk,
            authority: RequestAuthority::Unconfirmed,
            reference: Some("<req@x>".into()),
            requester_name: "GovCertUK duty officer".into(),
            received_at: t(16, 30),
            what: "Logs\nall of them".into(),
            due_at: t(23, 59),
            status: RequestStatus::Supplied,
            supplied_at: Some(t(18, 0)),
            supplied_how: Some("SFTP".into()),
            no_charge: true,
            attachments: vec![evidence("attached")],
            ended: None,
        }],
        report: Report {
            sent_at: Some(t(20, 0)),
            sent_to: Some("client".into()),
            reference: Some("RPT-1".into()),
        },
        isms_change: IsmsChange {
            required: true,
            description: "Add MFA to VPN".into(),
        },
        closure: Some(Closure {
            closed_at: t(22, 0),
            closed_by: "alice".into(),
            reason: Some("done".into()),
            open_steps: vec!["8.3".into()],
            not_a_breach: true,
        }),
        security_tests: vec![SecurityTest {
            uid: String::new(),
            id: "T1".into(),
            clause: TestClause::Repeat,
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
            scope: AWKWARD.into(),
            run_by: "Pen Testers Ltd".into(),
            repeats: Some("T0".into()),
            findings: vec![TestFinding {
                uid: String::new(),
                description: AWKWARD.into(),
                category: RootCauseCategory::Phishing,
                component: "vpn-gateway".into(),
                same_root_cause_as: Some("Security Test T0".into()),
                recorded_at: t(15, 0),
            }],
            recorded_by: "alice".into(),
            recorded_at: t(15, 0),
        }],
        repeat_of: vec![RepeatLink {
            uid: String::new(),
            incident: "INC-20261001-0900-000001".into(),
            category: RootCauseCategory::Phishing,
            component: "vpn-gateway".into(),
            linked_at: t(17, 5),
        }],
        steps: vec![Step {
            id: "8.2.1c".into(),
            playbook: "paragraph-8".into(),
            title: "Mitigate".into(),
            guidance: AWKWARD.into(),
            required: false,
            status: StepStatus::InProgress,
            due_at: Some(t(18, 0)),
            clock: Some(StepClock {
                internal: true,
                ..StepClock::hours(1, ClockStart::StepDone("8.1".into()))
            }),
            depends_on: vec!["8.1".into()],
            fills: vec![RecordField::Mitigation, RecordField::Timeline],
            when: vec![
                Condition::try_from("personal-data".to_string()).unwrap(),
                Condition::try_from("not government-data".to_string()).unwrap(),
            ],
            checks: vec![CloseCheck::AuditEntries, CloseCheck::ReportSent],
            who: Some("bob".into()),
            updated_at: Some(t(17, 30)),
            completed_at: Some(t(17, 45)),
            notes: vec!["n1".into(), AWKWARD.into()],
            evidence: vec![evidence("step")],
        }],
        timeline: vec![
            TimelineEntry {
                uid: String::new(),
                at: t(14, 40),
                by: "alice".into(),
                kind: EntryKind::Change,
                text: "opened".into(),
            },
            TimelineEntry {
                uid: String::new(),
                at: t(14, 41),
                by: "bob".into(),
                kind: EntryKind::Notice,
                text: AWKWARD.into(),
            },
        ],
        notices: vec![NoticeRecord {
            uid: String::new(),
            id: "N-20261128-151000-abcdef".into(),
            kind: NoticeKind::Notification,
            message_id: "<0123@breachdesk.provider.example>".into(),
            to: vec!["CSR <csr@client.example>".into()],
            cc: vec![AWKWARD.into()],
            subject: AWKWARD.into(),
            queued_at: t(15, 9),
            state: DeliveryState::Cancelled,
            attempts: 2,
            accepted_at: Some(t(15, 10)),
            server_reply: Some(AWKWARD.into()),
            request_id: Some("R1".into()),
            again_reason: Some(AWKWARD.into()),
            cancel_reason: Some(AWKWARD.into()),
            recorded_by: Some(AWKWARD.into()),
        }],
        other_notices: vec![breachdesk::domain::incident::OtherNotice {
            uid: String::new(),
            id: "G1".into(),
            direction: breachdesk::domain::incident::Direction::Sent,
            party: breachdesk::domain::incident::NoticeParty::Ico,
            channel: breachdesk::domain::incident::NoticeChannel::Portal,
            at: t(15, 20),
            counterpart: AWKWARD.into(),
            reference: Some(AWKWARD.into()),
            summary: AWKWARD.into(),
            recorded_by: "alice".into(),
            recorded_at: t(15, 21),
        }],
        details: breachdesk::domain::incident::Details {
            started_at: Some(t(13, 0)),
            detected_how: AWKWARD.into(),
            data_subjects: Some(1200),
            data_categories: AWKWARD.into(),
            next_update_due: Some(t(18, 0)),
            lessons_learned: AWKWARD.into(),
            ..Default::default()
        },
        assignments: {
            let first = Assignment::new(Role::IncidentManager, AWKWARD, "alice", t(14, 42), &[]);
            let then = Assignment::new(
                Role::Scribe,
                "",
                AWKWARD,
                t(14, 43),
                std::slice::from_ref(&first),
            );
            vec![first, then]
        },
        handovers: vec![Handover {
            acknowledged_by: Some(AWKWARD.into()),
            acknowledged_at: Some(t(15, 0)),
            ..Handover::new("alice", AWKWARD, AWKWARD, t(14, 50))
        }],
    }
}

/// A small record for the process tests.
fn small_incident(id: &str) -> Incident {
    let mut inc = full_incident(id);
    inc.timeline.clear();
    inc.closure = None;
    inc.status = IncidentStatus::Open;
    inc
}

/// What the audit entry of a test change says.
fn note() -> AuditNote {
    AuditNote::new(t(12, 0), "test", "test.change", "a change made by a test")
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn stamp(path: &Path) -> (u64, i64, i64, Vec<u8>) {
    let m = fs::metadata(path).unwrap();
    (m.ino(), m.mtime(), m.mtime_nsec(), fs::read(path).unwrap())
}

fn random_text(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| char::from(b'a' + b % 26)).collect()
}

#[test]
fn full_record_round_trips_and_parses_with_another_toml_parser() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let inc = full_incident("INC-20261128-1432-7f3a9c");
    let created = store.create(&inc, &note()).unwrap();
    assert_eq!(created.revision, 1);
    let loaded = store.load(&inc.id).unwrap();
    assert_eq!(loaded, created);
    let mut expected = inc.clone();
    expected.revision = 1;
    // Saving gave every list entry its derived uid.
    assert!(expected.timeline.iter().all(|e| e.uid.is_empty()));
    expected.upgrade();
    assert!(expected.timeline.iter().all(|e| e.uid.len() == 16));
    assert_eq!(loaded, expected);

    let text = fs::read_to_string(store.record_path(&inc.id)).unwrap();
    let other: Incident = basic_toml::from_str(&text).expect("basic-toml parses the record");
    assert_eq!(other, expected);
    let generic: serde_json::Value = basic_toml::from_str(&text).unwrap();
    assert_eq!(generic["id"], "INC-20261128-1432-7f3a9c");

    // Creating again refuses.
    let err = store.create(&inc, &note()).unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");
    assert!(err.to_string().contains("already exists in"), "{err}");
}

/// The summary a record's first line holds, after checking the line's
/// shape and that its hash covers every byte after it (the format the
/// README describes).
fn summary_line_of(text: &str) -> IncidentSummary {
    let rest = text
        .strip_prefix("# breachdesk-summary v")
        .expect("the record starts with its summary line");
    let (versions, rest) = rest.split_once(' ').expect("versions");
    assert_eq!(versions, format!("7.{SCHEMA_VERSION}"));
    let (hash, covered) = rest.split_once(' ').expect("hash");
    assert_eq!(hash.len(), 16, "{hash}");
    assert_eq!(
        u64::from_str_radix(hash, 16).expect("hex"),
        xxhash_rust::xxh3::xxh3_64(covered.as_bytes()),
        "the hash covers the JSON and the TOML below it"
    );
    let (json, _toml) = covered.split_once('\n').expect("one line");
    assert!(
        !json.chars().any(|c| c.is_control()),
        "nothing a TOML comment may not hold: {json:?}"
    );
    serde_json::from_str(json).expect("the line's JSON is a summary")
}

#[test]
fn a_saved_record_starts_with_its_summary_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let inc = full_incident("INC-20261128-1432-7f3a9c");
    store.create(&inc, &note()).unwrap();
    let check = |expected_revision: u64| {
        let text = fs::read_to_string(store.record_path(&inc.id)).unwrap();
        let parsed: Incident = toml::from_str(&text).expect("the whole record is TOML");
        assert_eq!(parsed.revision, expected_revision);
        assert_eq!(summary_line_of(&text), IncidentSummary::of(&parsed));
        // The audit entry's SHA-256 is of the whole file, line included.
        let last = store.audit().entries().unwrap().pop().unwrap();
        assert_eq!(
            last.record_sha256.as_deref(),
            Some(breachdesk::store::record_sha256(text.as_bytes()).as_str())
        );
    };
    check(1);
    store
        .update(&inc.id, |i| {
            i.title = "renamed # with a hash\nand a line".into();
            Ok::<_, String>(note())
        })
        .unwrap();
    check(2);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

    /// Whatever the title (quotes, newlines, `#`, control characters,
    /// any Unicode), the saved record parses, and its line holds the
    /// summary of what it parses to.
    #[test]
    fn the_summary_line_never_breaks_the_record(
        title in "\\PC*|[\"'#\\\n\r\t\u{0}-\u{1f}\u{7f}\u{85}\u{2028}\u{feff}a-z ]{0,40}",
        component in "\\PC{0,20}",
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut inc = small_incident("INC-1");
        inc.title = title.clone();
        inc.root_cause.component = component;
        store.create(&inc, &note()).unwrap();
        let text = fs::read_to_string(store.record_path("INC-1")).unwrap();
        let parsed: Incident = toml::from_str(&text).expect("parses");
        proptest::prop_assert_eq!(&parsed.title, &title);
        proptest::prop_assert_eq!(&parsed, &store.load("INC-1").unwrap());
        proptest::prop_assert_eq!(summary_line_of(&text), IncidentSummary::of(&parsed));
        let other: Incident = basic_toml::from_str(&text).expect("another parser agrees");
        proptest::prop_assert_eq!(other, parsed);
    }
}

#[test]
fn load_of_missing_names_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let err = store.load("INC-1").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("INC-1 not found in "), "{msg}");
    assert!(msg.contains("incidents"), "{msg}");
    assert!(matches!(
        store.load("../etc/passwd"),
        Err(StoreError::InvalidId { .. })
    ));
}

#[test]
fn resolve_id_exact_prefix_suffix_ambiguous() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for id in [
        "INC-20261128-1432-7f3a9c",
        "INC-20261128-1433-000abc",
        "INC-20261129-0900-7f3a9d",
    ] {
        store.create(&small_incident(id), &note()).unwrap();
    }
    assert_eq!(store.ids().unwrap().len(), 3);
    assert_eq!(
        store.resolve_id("inc-20261128-1432-7F3A9C").unwrap(),
        "INC-20261128-1432-7f3a9c"
    );
    assert_eq!(
        store.resolve_id("7f3a9c").unwrap(),
        "INC-20261128-1432-7f3a9c"
    );
    assert_eq!(
        store.resolve_id(" 000ABC ").unwrap(),
        "INC-20261128-1433-000abc"
    );
    assert_eq!(
        store.resolve_id("INC-20261129").unwrap(),
        "INC-20261129-0900-7f3a9d"
    );
    match store.resolve_id("INC-20261128") {
        Err(StoreError::Ambiguous { candidates, .. }) => assert_eq!(candidates.len(), 2),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store.resolve_id("zzz"),
        Err(StoreError::UnknownIncident { .. })
    ));
    assert!(matches!(
        store.resolve_id(""),
        Err(StoreError::UnknownIncident { .. })
    ));
}

#[test]
fn update_bumps_revision_and_no_change_means_no_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = "INC-A";
    store.create(&small_incident(id), &note()).unwrap();
    let path = store.record_path(id);
    // A write renames a new file over the record, so its inode changes:
    // comparing stamps needs no pause for the clock to tick.
    let before = stamp(&path);

    let (same, written) = store.update::<String>(id, |_| Ok(note())).unwrap();
    assert!(!written);
    assert_eq!(same.revision, 1);
    // Setting a field to the value it already has is no change either.
    let (_, written) = store
        .update::<String>(id, |i| {
            i.title = i.title.clone();
            i.revision = 99;
            Ok(note())
        })
        .unwrap();
    assert!(!written);
    assert_eq!(stamp(&path), before);

    let (after, written) = store
        .update::<String>(id, |i| {
            i.log(t(15, 0), "bob", EntryKind::Note, "hello");
            Ok(note())
        })
        .unwrap();
    assert!(written);
    assert_eq!(after.revision, 2);
    assert_eq!(store.load(id).unwrap(), after);

    // A refused change writes nothing and comes back as Change.
    let err = store.update::<&str>(id, |_| Err("no")).unwrap_err();
    assert!(matches!(err, UpdateError::Change("no")));
    let err = store
        .update::<String>(id, |i| {
            i.id = "INC-B".into();
            Ok(note())
        })
        .unwrap_err();
    assert!(
        matches!(err, UpdateError::Store(StoreError::IdChanged { .. })),
        "{err}"
    );
    assert_eq!(store.load(id).unwrap().revision, 2);

    // save() with nothing changed does not write either.
    let loaded = store.load(id).unwrap();
    let before = stamp(&path);
    let saved = store.save(&loaded, &note()).unwrap();
    assert_eq!(saved.revision, 2);
    assert_eq!(stamp(&path), before);
}

#[test]
fn optimistic_save_conflict_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = "INC-C";
    store.create(&small_incident(id), &note()).unwrap();
    let mut mine = store.load(id).unwrap();
    store
        .update::<String>(id, |i| {
            i.summary = "theirs".into();
            Ok(note())
        })
        .unwrap();
    let path = store.record_path(id);
    let before = stamp(&path);
    mine.summary = "mine".into();
    let err = store.save(&mine, &note()).unwrap_err();
    match &err {
        StoreError::Conflict {
            id: e_id,
            expected,
            found,
        } => {
            assert_eq!((e_id.as_str(), *expected, *found), (id, 1, 2));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "INC-C was changed by someone else (revision 2 on disk, you had 1): reload and try again"
    );
    assert_eq!(stamp(&path), before);
    // Reload and try again works.
    let mut fresh = store.load(id).unwrap();
    fresh.summary = "mine".into();
    assert_eq!(store.save(&fresh, &note()).unwrap().revision, 3);
}

#[test]
fn saving_one_incident_leaves_the_others_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for id in ["INC-1", "INC-2", "INC-3"] {
        store.create(&small_incident(id), &note()).unwrap();
    }
    let others: Vec<_> = ["INC-1", "INC-3"]
        .iter()
        .map(|id| stamp(&store.record_path(id)))
        .collect();
    for n in 0..5 {
        store
            .update::<String>("INC-2", |i| {
                i.summary = format!("change {n}");
                Ok(note())
            })
            .unwrap();
    }
    let mut two = store.load("INC-2").unwrap();
    two.title = "saved".into();
    store.save(&two, &note()).unwrap();
    let now: Vec<_> = ["INC-1", "INC-3"]
        .iter()
        .map(|id| stamp(&store.record_path(id)))
        .collect();
    assert_eq!(others, now);
    assert_eq!(store.load("INC-2").unwrap().revision, 7);
    // No temp files left behind.
    let names: Vec<String> = fs::read_dir(dir.path().join("incidents"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn modes_are_private_even_with_a_permissive_umask() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // An existing, world-readable data dir is warned about, never chmod'ed;
    // what breachdesk creates in it is 0700.
    fs::create_dir(&data).unwrap();
    fs::set_permissions(&data, fs::Permissions::from_mode(0o755)).unwrap();
    let store = Store::open(&data).unwrap();
    assert_eq!(store.warnings().len(), 1, "{:?}", store.warnings());
    assert_eq!(mode(&data), 0o755);
    for sub in ["incidents", "locks", "quarantine"] {
        assert_eq!(mode(&data.join(sub)), 0o700, "{sub}");
    }
    store.create(&small_incident("INC-M"), &note()).unwrap();
    store
        .update::<String>("INC-M", |i| {
            i.summary = "x".into();
            Ok(note())
        })
        .unwrap();
    assert_eq!(mode(&store.record_path("INC-M")), 0o600);
    assert_eq!(mode(&data.join("locks/INC-M.lock")), 0o600);

    let audit = breachdesk::audit::AuditLog::open(&data).unwrap();
    audit.append(t(1, 0), "a", None, "x", "y").unwrap();
    assert_eq!(mode(&data.join("audit")), 0o700);
    assert_eq!(mode(&data.join("audit/chains")), 0o700);
    assert_eq!(mode(audit.path()), 0o600);
    assert!(audit.path().starts_with(data.join("audit/chains")));
    assert_eq!(mode(&data.join("audit/audit.lock")), 0o600);
    assert_eq!(mode(&data.join("machine-id")), 0o600);

    // A fresh data dir in a nested path: all created 0700.
    let nested = dir.path().join("a/b/c");
    let s2 = Store::open(&nested).unwrap();
    assert!(s2.warnings().is_empty());
    assert_eq!(mode(&nested), 0o700);
}

#[test]
fn corrupt_records_are_quarantined_and_the_rest_load() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.create(&small_incident("INC-GOOD1"), &note()).unwrap();
    store.create(&small_incident("INC-GOOD2"), &note()).unwrap();
    let good = fs::read_to_string(store.record_path("INC-GOOD1")).unwrap();

    // Syntax error on line 3.
    let lines: Vec<&str> = good.lines().collect();
    let mut syntax = lines.clone();
    syntax.insert(2, "this is = = not toml");
    let syntax = syntax.join("\n").replace("INC-GOOD1", "INC-SYNTAX");
    fs::write(store.record_path("INC-SYNTAX"), &syntax).unwrap();

    // Unknown field on line 4.
    let mut unknown = lines.clone();
    unknown.insert(3, "colour = \"blue\"");
    let unknown = unknown.join("\n").replace("INC-GOOD1", "INC-UNKNOWN");
    fs::write(store.record_path("INC-UNKNOWN"), &unknown).unwrap();

    // Id not matching the file name.
    fs::write(store.record_path("INC-WRONGID"), good.clone()).unwrap();

    // Newer schema: reported, left alone.
    let newer = good
        .replace(
            &format!("schema_version = {SCHEMA_VERSION}"),
            "schema_version = 99",
        )
        .replace("INC-GOOD1", "INC-NEWER");
    fs::write(store.record_path("INC-NEWER"), &newer).unwrap();

    // Stray temp file of a killed process is ignored.
    fs::write(
        dir.path().join("incidents/.INC-GOOD1.toml.tmp-1-abc"),
        "half a rec",
    )
    .unwrap();

    // load() of a corrupt one names file:line:col and moves nothing.
    let err = store.load("INC-SYNTAX").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("INC-SYNTAX.toml:3:"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    assert!(store.record_path("INC-SYNTAX").exists());
    assert!(matches!(
        store.load("INC-NEWER"),
        Err(StoreError::TooNew { found: 99, .. })
    ));

    let report = store.load_all();
    let ids: Vec<&str> = report.incidents.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["INC-GOOD1", "INC-GOOD2"]);
    assert_eq!(report.problems.len(), 4, "{:#?}", report.problems);
    let problem = |name: &str| {
        report
            .problems
            .iter()
            .find(|p| p.file.file_name().unwrap() == name)
            .unwrap_or_else(|| panic!("no problem for {name}"))
    };
    let p = problem("INC-SYNTAX.toml");
    assert_eq!(p.line, Some(3));
    assert!(p.column.is_some());
    let shown = p.to_string();
    assert!(shown.starts_with("incidents/INC-SYNTAX.toml:3:"), "{shown}");
    assert!(
        shown.contains("(moved to quarantine/INC-SYNTAX.toml."),
        "{shown}"
    );

    let p = problem("INC-UNKNOWN.toml");
    assert_eq!(p.line, Some(4), "{p}");
    assert!(p.message.contains("colour"), "{p}");
    let p = problem("INC-WRONGID.toml");
    assert!(p.message.contains("does not match"), "{p}");
    assert!(p.line.is_some(), "{p}");
    let p = problem("INC-NEWER.toml");
    assert!(p.quarantined_to.is_none());
    assert!(p.message.contains("newer breachdesk"), "{p}");
    assert!(store.record_path("INC-NEWER").exists());

    for name in ["INC-SYNTAX", "INC-UNKNOWN", "INC-WRONGID"] {
        assert!(
            !store.record_path(name).exists(),
            "{name} still in incidents/"
        );
        let q = problem(&format!("{name}.toml"))
            .quarantined_to
            .clone()
            .unwrap();
        assert!(q.starts_with(dir.path().join("quarantine")), "{q:?}");
        assert!(q.exists());
    }
    assert_eq!(
        fs::read_to_string(problem("INC-SYNTAX.toml").quarantined_to.clone().unwrap()).unwrap(),
        syntax
    );
    // Never overwritten: the same name corrupted again in the same second gets a new name.
    fs::write(store.record_path("INC-SYNTAX"), &syntax).unwrap();
    let again = store.load_all();
    let q2 = again
        .problems
        .iter()
        .find_map(|p| p.quarantined_to.clone())
        .unwrap();
    assert_eq!(
        fs::read_dir(dir.path().join("quarantine")).unwrap().count(),
        4,
        "{q2:?}"
    );

    // Reopening cleans the stray temp file (its lock is free).
    Store::open(dir.path()).unwrap();
    assert!(
        !dir.path()
            .join("incidents/.INC-GOOD1.toml.tmp-1-abc")
            .exists()
    );
}

// ---------------------------------------------------------------- processes

const CHURN_ENV: &str = "BREACHDESK_CHURN_DIR";
const CHURN_IDS: [&str; 3] = ["INC-CHURN-1", "INC-CHURN-2", "INC-CHURN-3"];

/// The child: rewrites incidents forever with big records, noting each
/// revision it is about to write in `intents.log` first.
fn churn_forever(dir: &Path) -> ! {
    let store = Store::open(dir).unwrap();
    let mut intents = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join("intents.log"))
        .unwrap();
    let mut n: u64 = 0;
    loop {
        let id = CHURN_IDS[(n % 3) as usize];
        n += 1;
        let big = random_text(20_000 + (n as usize % 7) * 10_000);
        store
            .update::<std::io::Error>(id, |i| {
                i.summary = big;
                i.log(t(12, 0), "churn", EntryKind::Note, format!("round {n}"));
                // One write(2) per line, so a kill cannot leave half a line
                // that would glue itself to the next child's first line.
                intents.write_all(format!("{id} {}\n", i.revision + 1).as_bytes())?;
                Ok(note())
            })
            .unwrap();
    }
}

#[test]
fn kill_nine_never_tears_a_record() {
    if let Ok(dir) = std::env::var(CHURN_ENV) {
        churn_forever(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for id in CHURN_IDS {
        store.create(&small_incident(id), &note()).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let mut total_written = 0;
    let mut killed_mid_write = 0;
    let mut seen_ahead: HashSet<(String, Option<u64>)> = HashSet::new();
    let mut round = 0;
    while round < 30 || (killed_mid_write == 0 && round < 300) {
        round += 1;
        let intents_len = fs::metadata(dir.path().join("intents.log")).map_or(0, |m| m.len());
        let mut child = Command::new(&exe)
            .args(["--exact", "kill_nine_never_tears_a_record", "--nocapture"])
            .env(CHURN_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill once the child has announced a random number of writes (or
        // after a generous deadline), plus a random jitter of up to ~3 ms.
        let mut r = [0u8; 3];
        getrandom::fill(&mut r).unwrap();
        let grow_by = 1 + u64::from(r[0]) % 60;
        let deadline = Instant::now() + Duration::from_secs(30);
        while fs::metadata(dir.path().join("intents.log")).map_or(0, |m| m.len())
            < intents_len + grow_by
            && Instant::now() < deadline
        {
            std::thread::yield_now();
        }
        let jitter_end = Instant::now()
            + Duration::from_micros(u64::from(u16::from_le_bytes([r[1], r[2]])) % 12_000);
        while Instant::now() < jitter_end {
            std::hint::spin_loop();
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let temps_now = fs::read_dir(dir.path().join("incidents"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count();
        // Inside a save: a temp file is left, or the audit entry of the
        // revision being saved is logged while the record is not yet renamed.
        let logged_ahead = store.audit().entries().unwrap().iter().any(|e| {
            e.incident.as_deref().is_some_and(|id| {
                e.revision > store.load(id).ok().map(|i| i.revision)
                    && seen_ahead.insert((id.to_string(), e.revision))
            })
        });
        if temps_now > 0 || logged_ahead {
            killed_mid_write += 1;
        }
        let intents = fs::read_to_string(dir.path().join("intents.log")).unwrap_or_default();
        let intended: HashSet<String> = intents
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace().rev();
                let revision = words.next()?;
                let id = words.next()?;
                Some(format!("{id} {revision}"))
            })
            .collect();
        let report = store.load_all();
        assert!(
            report.problems.is_empty(),
            "round {round}: {:?}",
            report.problems
        );
        assert_eq!(report.incidents.len(), 3, "round {round}");
        for inc in &report.incidents {
            assert!(
                inc.revision == 1 || intended.contains(&format!("{} {}", inc.id, inc.revision)),
                "round {round}: {} at revision {} was never written",
                inc.id,
                inc.revision
            );
            let text = fs::read_to_string(store.record_path(&inc.id)).unwrap();
            let _: Incident = basic_toml::from_str(&text).unwrap();
        }
        total_written = report.incidents.iter().map(|i| i.revision - 1).sum::<u64>();
    }
    // Stray temp files from killed children are cleaned on open / next save.
    Store::open(dir.path()).unwrap();
    let temps = fs::read_dir(dir.path().join("incidents"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(temps, 0);
    assert!(total_written > 0, "the child never managed a write");
    eprintln!(
        "kill -9: {total_written} writes survived, {killed_mid_write} of {round} kills landed inside a save"
    );
    assert!(killed_mid_write > 0, "no kill landed inside a save");
}

const CONCURRENT_ENV: &str = "BREACHDESK_CONCURRENT_DIR";
const CONCURRENT_TAG: &str = "BREACHDESK_CONCURRENT_TAG";
const N_UPDATES: usize = 100;

#[test]
fn two_processes_updating_lose_nothing() {
    if let Ok(dir) = std::env::var(CONCURRENT_ENV) {
        let tag = std::env::var(CONCURRENT_TAG).unwrap();
        let store = Store::open(Path::new(&dir)).unwrap();
        for n in 0..N_UPDATES {
            store
                .update::<String>("INC-SHARED", |i| {
                    i.log(t(13, 0), &tag, EntryKind::Note, format!("{tag} {n}"));
                    Ok(note())
                })
                .unwrap();
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let start = store
        .create(&small_incident("INC-SHARED"), &note())
        .unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|tag| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "two_processes_updating_lose_nothing",
                    "--nocapture",
                ])
                .env(CONCURRENT_ENV, dir.path())
                .env(CONCURRENT_TAG, tag)
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let end = store.load("INC-SHARED").unwrap();
    assert_eq!(end.revision, start.revision + 2 * N_UPDATES as u64);
    let texts: HashSet<&str> = end.timeline.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts.len(), 2 * N_UPDATES);
    for tag in ["a", "b"] {
        // Each process's own entries stay in its order.
        let mine: Vec<&str> = end
            .timeline
            .iter()
            .filter(|e| e.by == tag)
            .map(|e| e.text.as_str())
            .collect();
        let want: Vec<String> = (0..N_UPDATES).map(|n| format!("{tag} {n}")).collect();
        assert_eq!(mine, want);
    }
}
