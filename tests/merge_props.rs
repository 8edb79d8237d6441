//! Properties of the record merge (`domain::merge`): two copies grown from
//! one base by random edits on two sides (timeline entries, data requests,
//! notices, evidence, step notes, field edits, closing) merge so that
//! nothing from either side is lost, in either order to the same record,
//! a copy merged with itself is unchanged, and the result survives TOML.

use breachdesk::domain::incident::{
    BreachKind, Closure, DataDestination, DataRequest, Direction, EntryKind, Evidence, Incident,
    IncidentStatus, NewIncident, NoticeChannel, NoticeParty, OtherNotice, PartyRole,
    RequestAuthority, RequestStatus, Severity, Step, StepNote, StepStatus,
};
use breachdesk::domain::merge::{MERGE_AUTHOR, merge_incident};
use breachdesk::domain::uid;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T09:00:00Z")
        .expect("instant")
        .to_utc()
}

fn base() -> Incident {
    let fields = NewIncident {
        title: "Lost laptop".into(),
        summary: "A laptop was left on a train".into(),
        kind: BreachKind::Breach,
        severity: Severity::High,
        personal_data: true,
        government_data: false,
        affected_assets: vec!["laptop-17".into()],
        identified_at: t0(),
    };
    let mut i = Incident::new(
        "INC-20260310-0900-abcdef".into(),
        fields,
        "carol",
        PartyRole::ServiceProvider,
        t0(),
    )
    .expect("incident");
    i.steps.push(Step {
        id: "8.2.1a".into(),
        playbook: "schedule-6".into(),
        title: "Minimise the harm".into(),
        guidance: String::new(),
        required: true,
        status: StepStatus::Todo,
        due_at: None,
        clock: None,
        depends_on: Vec::new(),
        fills: Vec::new(),
        when: Vec::new(),
        checks: Vec::new(),
        who: None,
        updated_at: None,
        completed_at: None,
        notes: vec![StepNote::from("old plain note")],
        evidence: Vec::new(),
    });
    i.log(t0(), "carol", EntryKind::Note, "base entry");
    i.upgrade();
    i.revision = 3;
    i
}

/// One responder's edit; `minute` places it after the base.
#[derive(Debug, Clone)]
enum Edit {
    Log(String),
    Request(String),
    Notice(String),
    Evidence(String),
    StepNote(String),
    Title(String),
    Summary(String),
    Containment(String),
    Severity(Severity),
    Asset(String),
    Close(String),
}

fn words() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "line\nbreak",
        "quote \"q\"",
        "ünï",
    ])
    .prop_map(str::to_string)
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        words().prop_map(Edit::Log),
        words().prop_map(Edit::Request),
        words().prop_map(Edit::Notice),
        words().prop_map(Edit::Evidence),
        words().prop_map(Edit::StepNote),
        words().prop_map(Edit::Title),
        words().prop_map(Edit::Summary),
        words().prop_map(Edit::Containment),
        prop::sample::select(Severity::ALL.to_vec()).prop_map(Edit::Severity),
        words().prop_map(Edit::Asset),
        words().prop_map(Edit::Close),
    ]
}

/// Applies `edits` as `who` would, one minute apart from `start` minutes
/// after the base, the way the desk does (each change logs an entry).
fn grow(base: &Incident, who: &str, start: i64, edits: &[(Edit, i64)]) -> Incident {
    let mut i = base.clone();
    for (n, (edit, jitter)) in edits.iter().enumerate() {
        let at = t0() + Duration::minutes(start + n as i64 * 3 + jitter);
        match edit {
            Edit::Log(text) => i.log(at, who, EntryKind::Note, text.clone()),
            Edit::Request(what) => {
                let request = DataRequest {
                    uid: String::new(),
                    id: i.next_request_id(),
                    requester_name: who.into(),
                    authority: RequestAuthority::Client,
                    deliver_to: DataDestination::Client,
                    received_at: at,
                    what: what.clone(),
                    due_at: at + Duration::days(2),
                    status: RequestStatus::Open,
                    supplied_at: None,
                    supplied_how: None,
                    no_charge: true,
                    attachments: Vec::new(),
                    reference: None,
                    ended: None,
                };
                let text = format!("Data request {} added: {what}", request.id);
                uid::push(&mut i.data_requests, request);
                i.log(at, who, EntryKind::Change, text);
            }
            Edit::Notice(summary) => {
                let id = format!("G{}", i.other_notices.len() + 1);
                uid::push(
                    &mut i.other_notices,
                    OtherNotice {
                        uid: String::new(),
                        id,
                        direction: Direction::Sent,
                        party: NoticeParty::Ico,
                        channel: NoticeChannel::Portal,
                        at,
                        counterpart: String::new(),
                        reference: None,
                        summary: summary.clone(),
                        recorded_by: who.into(),
                        recorded_at: at,
                    },
                );
                i.log(at, who, EntryKind::Notice, format!("notice: {summary}"));
            }
            Edit::Evidence(note) => {
                uid::push(
                    &mut i.mitigation.evidence,
                    Evidence {
                        uid: String::new(),
                        added_at: at,
                        added_by: who.into(),
                        note: Some(note.clone()),
                        path: None,
                        path_hex: None,
                        size: None,
                        sha256: None,
                    },
                );
                i.log(at, who, EntryKind::Change, format!("evidence: {note}"));
            }
            Edit::StepNote(text) => {
                let step = i.step_mut("8.2.1a").expect("step");
                uid::push(&mut step.notes, StepNote::new(at, who, text.clone()));
                step.updated_at = Some(at);
                step.who = Some(who.into());
                i.log(at, who, EntryKind::Change, format!("note: {text}"));
            }
            Edit::Title(text) => {
                i.title = format!("{who}: {text}");
                i.log(at, who, EntryKind::Change, "title edited");
            }
            Edit::Summary(text) => {
                i.summary = format!("{who}: {text}");
                i.log(at, who, EntryKind::Change, "summary edited");
            }
            Edit::Containment(text) => {
                i.details.containment = format!("{who}: {text}");
                i.log(at, who, EntryKind::Change, "containment edited");
            }
            Edit::Severity(s) => {
                i.severity = *s;
                i.log(at, who, EntryKind::Change, "severity edited");
            }
            Edit::Asset(name) => {
                if !i.affected_assets.contains(name) {
                    i.affected_assets.push(name.clone());
                }
                i.log(at, who, EntryKind::Change, "asset added");
            }
            Edit::Close(reason) => {
                if i.is_open() {
                    i.status = IncidentStatus::Closed;
                    i.closure = Some(Closure {
                        closed_at: at,
                        closed_by: who.into(),
                        reason: Some(reason.clone()),
                        open_steps: Vec::new(),
                        not_a_breach: false,
                    });
                    i.log(at, who, EntryKind::Change, format!("closed: {reason}"));
                }
            }
        }
    }
    i.revision += edits.len() as u64;
    i
}

fn uids(i: &Incident) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    out.extend(i.timeline.iter().map(|e| format!("timeline {}", e.uid)));
    out.extend(i.data_requests.iter().map(|e| format!("request {}", e.uid)));
    out.extend(i.other_notices.iter().map(|e| format!("notice {}", e.uid)));
    out.extend(
        i.mitigation
            .evidence
            .iter()
            .map(|e| format!("evidence {}", e.uid)),
    );
    for s in &i.steps {
        out.extend(s.notes.iter().map(|e| format!("note {}", e.uid)));
    }
    out
}

/// The text of the merge's conflict entries.
fn conflict_text(i: &Incident) -> String {
    i.timeline
        .iter()
        .filter(|e| e.kind == EntryKind::Conflict && e.by == MERGE_AUTHOR)
        .map(|e| e.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Each side's edits (with a minute of jitter each), and when each starts.
type Sides = (Vec<(Edit, i64)>, Vec<(Edit, i64)>, i64, i64);

fn sides() -> impl Strategy<Value = Sides> {
    (
        prop::collection::vec((edit(), 0i64..3), 0..7),
        prop::collection::vec((edit(), 0i64..3), 0..7),
        0i64..5,
        0i64..5,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn nothing_typed_is_lost_and_the_order_does_not_matter(
        (ours_edits, theirs_edits, ours_start, theirs_start) in sides()
    ) {
        let base = base();
        let ours = grow(&base, "alice", 10 + ours_start, &ours_edits);
        let theirs = grow(&base, "bob", 10 + theirs_start, &theirs_edits);
        let merged = merge_incident(Some(&base), &ours, &theirs).expect("merges");
        let swapped = merge_incident(Some(&base), &theirs, &ours).expect("merges");
        let m = &merged.incident;

        // Symmetric: the same record whichever copy is ours.
        prop_assert_eq!(m, &swapped.incident);

        // Every entry of either side is in the result, as new as it was.
        let all = uids(m);
        for side in [&ours, &theirs] {
            for uid in uids(side) {
                prop_assert!(all.contains(&uid), "{} lost", uid);
            }
            for r in &side.data_requests {
                let kept = m.data_requests.iter().find(|x| x.uid == r.uid).expect("request kept");
                prop_assert_eq!(&kept.what, &r.what);
            }
            for asset in &side.affected_assets {
                prop_assert!(m.affected_assets.contains(asset));
            }
        }
        // Visible ids stay unique.
        let mut ids: Vec<&str> = m.data_requests.iter().map(|r| r.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), m.data_requests.len());

        // Every value typed on either side is kept, or in a conflict entry.
        let conflicts = conflict_text(m);
        for side in [&ours, &theirs] {
            for (field, mine, was, kept) in [
                ("title", &side.title, &base.title, &m.title),
                ("summary", &side.summary, &base.summary, &m.summary),
                ("details.containment", &side.details.containment, &base.details.containment, &m.details.containment),
            ] {
                prop_assert!(
                    mine == was ||
                    mine == kept || conflicts.contains(&format!("changed {field} differently")) && conflicts.contains(mine.as_str()),
                    "{} {:?} lost (kept {:?}; conflicts: {})", field, mine, kept, conflicts
                );
            }
        }
        // A closed side stays closed, with its closure.
        if ours.closure.is_some() || theirs.closure.is_some() {
            prop_assert_eq!(m.status, IncidentStatus::Closed);
            prop_assert!(m.closure.is_some());
        }

        // The revision is past both, when there was anything to merge.
        if ours != theirs && ours != base && theirs != base {
            prop_assert!(m.revision > ours.revision.max(theirs.revision));
        }

        // Merging with itself, or with the base, changes nothing.
        let same = merge_incident(Some(&base), m, m).expect("merges");
        prop_assert_eq!(&same.incident, m);
        prop_assert!(same.conflicts.is_empty());
        let from_base = merge_incident(Some(&base), &base, &theirs).expect("merges");
        prop_assert_eq!(&from_base.incident, &theirs);

        // Merging the result with either side again adds nothing.
        let again = merge_incident(Some(&ours), m, &ours).expect("merges");
        prop_assert_eq!(&again.incident, m);

        // The result is canonical TOML that reads back as the same record.
        let text = toml::to_string(m).expect("serialises");
        let mut back: Incident = toml::from_str(&text).expect("parses");
        back.upgrade();
        prop_assert_eq!(&back, m);
    }

    #[test]
    fn both_sides_adding_a_record_merge_without_a_base(
        (ours_edits, theirs_edits, ours_start, theirs_start) in sides()
    ) {
        let base = base();
        let ours = grow(&base, "alice", 10 + ours_start, &ours_edits);
        let theirs = grow(&base, "bob", 10 + theirs_start, &theirs_edits);
        let merged = merge_incident(None, &ours, &theirs).expect("merges");
        let swapped = merge_incident(None, &theirs, &ours).expect("merges");
        prop_assert_eq!(&merged.incident, &swapped.incident);
        let all = uids(&merged.incident);
        for side in [&ours, &theirs] {
            for uid in uids(side) {
                prop_assert!(all.contains(&uid), "{} lost", uid);
            }
        }
    }
}
