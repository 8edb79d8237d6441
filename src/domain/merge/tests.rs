use super::*;
use crate::domain::incident::{
    BreachKind, Closure, DataDestination, DeliveryState, IncidentStatus, NewIncident, NoticeKind,
    NoticeRecord, PartyRole, RequestAuthority, RequestStatus, Severity,
};
use crate::domain::uid;
use chrono::Duration;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T09:00:00Z")
        .expect("instant")
        .to_utc()
}

fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

fn base() -> Incident {
    let fields = NewIncident {
        title: "Phishing".into(),
        summary: String::new(),
        kind: BreachKind::Potential,
        severity: Severity::Medium,
        personal_data: false,
        government_data: false,
        affected_assets: Vec::new(),
        identified_at: t0(),
    };
    Incident::new(
        "INC-1".into(),
        fields,
        "carol",
        PartyRole::ServiceProvider,
        t0(),
    )
    .expect("incident")
}

fn add_request(i: &mut Incident, who: &str, minutes: i64, what: &str) -> String {
    let id = i.next_request_id();
    uid::push(
        &mut i.data_requests,
        DataRequest {
            uid: String::new(),
            id: id.clone(),
            requester_name: who.into(),
            authority: RequestAuthority::Client,
            deliver_to: DataDestination::Client,
            received_at: at(minutes),
            what: what.into(),
            due_at: at(minutes + 2880),
            status: RequestStatus::Open,
            supplied_at: None,
            supplied_how: None,
            no_charge: true,
            attachments: Vec::new(),
            reference: None,
            ended: None,
        },
    );
    i.log(
        at(minutes),
        who,
        EntryKind::Change,
        format!("request {id}: {what}"),
    );
    id
}

#[test]
fn the_same_request_id_on_both_sides_is_renumbered_with_its_references() {
    let base = base();
    let (mut ours, mut theirs) = (base.clone(), base.clone());
    add_request(&mut ours, "alice", 5, "VPN logs");
    add_request(&mut theirs, "bob", 7, "mail gateway logs");
    // Bob's copy supplied its R1 by email.
    uid::push(
        &mut theirs.notices,
        NoticeRecord {
            uid: String::new(),
            id: "N-1".into(),
            kind: NoticeKind::DataSupply,
            message_id: "<1@breachdesk.example>".into(),
            to: vec!["csr@client.example".into()],
            cc: Vec::new(),
            subject: "Data".into(),
            queued_at: at(8),
            state: DeliveryState::Sent,
            attempts: 1,
            accepted_at: Some(at(8)),
            server_reply: None,
            request_id: Some("R1".into()),
            again_reason: None,
            cancel_reason: None,
            recorded_by: Some("bob".into()),
        },
    );
    let merged = merge_incident(Some(&base), &ours, &theirs).expect("merges");
    let m = &merged.incident;
    let ids: Vec<(&str, &str)> = m
        .data_requests
        .iter()
        .map(|r| (r.id.as_str(), r.what.as_str()))
        .collect();
    assert_eq!(ids, [("R1", "VPN logs"), ("R2", "mail gateway logs")]);
    assert_eq!(m.notices[0].request_id.as_deref(), Some("R2"));
    assert_eq!(merged.renumbered.len(), 1);
    let last = m.timeline.last().expect("entry");
    assert_eq!(
        (last.kind, last.by.as_str()),
        (EntryKind::Conflict, MERGE_AUTHOR)
    );
    assert!(
        last.text.contains("data request R1") && last.text.contains("now R2"),
        "{}",
        last.text
    );
    // Stamped with the latest instant of either copy, not a clock.
    assert_eq!(last.at, at(7));
    assert_eq!(
        merge_incident(Some(&base), &theirs, &ours)
            .expect("merges")
            .incident,
        *m
    );
}

#[test]
fn a_close_on_one_side_and_new_entries_on_the_other_stays_closed() {
    let base = base();
    let (mut ours, mut theirs) = (base.clone(), base.clone());
    ours.status = IncidentStatus::Closed;
    ours.closure = Some(Closure {
        closed_at: at(30),
        closed_by: "alice".into(),
        reason: None,
        open_steps: Vec::new(),
        not_a_breach: true,
    });
    ours.log(at(30), "alice", EntryKind::Change, "closed");
    theirs.log(at(40), "bob", EntryKind::Note, "one more thing");
    let m = merge_incident(Some(&base), &ours, &theirs)
        .expect("merges")
        .incident;
    assert_eq!(m.status, IncidentStatus::Closed);
    assert_eq!(m.closure, ours.closure);
    assert!(m.timeline.iter().any(|e| e.text == "one more thing"));
    assert!(m.timeline.iter().all(|e| e.kind != EntryKind::Conflict));
}

#[test]
fn a_conflict_at_the_same_instant_is_decided_by_content_not_by_side() {
    let base = base();
    let (mut ours, mut theirs) = (base.clone(), base.clone());
    ours.severity = Severity::High;
    ours.log(at(5), "alice", EntryKind::Change, "severity high");
    theirs.severity = Severity::Low;
    theirs.log(at(5), "bob", EntryKind::Change, "severity low");
    let one = merge_incident(Some(&base), &ours, &theirs).expect("merges");
    let two = merge_incident(Some(&base), &theirs, &ours).expect("merges");
    assert_eq!(one.incident, two.incident);
    assert_eq!(one.conflicts.len(), 1);
    assert_eq!(one.conflicts[0].field, "severity");
    let c = &one.conflicts[0];
    assert_eq!(
        [c.kept.as_str(), c.other.as_str()]
            .iter()
            .filter(|v| **v == "high" || **v == "low")
            .count(),
        2
    );
    // Both values are somewhere: one kept, the other in the timeline.
    let kept = one.incident.severity.to_string();
    let other = if kept == "high" { "low" } else { "high" };
    assert!(
        one.incident
            .timeline
            .iter()
            .any(|e| e.kind == EntryKind::Conflict && e.text.contains(&format!("\"{other}\"")))
    );
    // Merging the merged record with either copy again adds nothing.
    let again = merge_incident(Some(&ours), &one.incident, &ours).expect("merges");
    assert_eq!(again.incident, one.incident);
}

#[test]
fn copies_of_different_incidents_do_not_merge() {
    let ours = base();
    let mut theirs = base();
    theirs.id = "INC-2".into();
    assert!(matches!(
        merge_incident(None, &ours, &theirs),
        Err(MergeError::DifferentIncidents { .. })
    ));
}

#[test]
fn a_request_that_moves_on_keeps_the_append_only_rule_and_one_removed_or_reworded_breaks_it() {
    let mut older = base();
    add_request(&mut older, "alice", 5, "VPN logs");
    // Supplied, and renumbered by a merge: progress, not a rewrite.
    let mut newer = older.clone();
    newer.data_requests[0].status = RequestStatus::Supplied;
    newer.data_requests[0].supplied_at = Some(at(60));
    newer.data_requests[0].id = "R2".into();
    assert_eq!(keeps_entries(&older, &newer), Ok(()));
    // What was asked for is fixed when the request is made.
    let mut reworded = older.clone();
    reworded.data_requests[0].what = "nothing".into();
    let lost = keeps_entries(&older, &reworded).expect_err("refused");
    assert_eq!(
        (lost.list.as_str(), lost.changed.as_deref()),
        ("data_requests", Some("what"))
    );
    let mut removed = older.clone();
    removed.data_requests.clear();
    let lost = keeps_entries(&older, &removed).expect_err("refused");
    assert_eq!(
        (lost.list.as_str(), lost.changed.clone()),
        ("data_requests", None)
    );
    assert!(lost.to_string().contains("\"VPN logs\""), "{lost}");
    // The two-sided merge keeps every entry of both copies.
    let mut ours = older.clone();
    ours.log(at(20), "alice", EntryKind::Change, "ours");
    let mut theirs = older.clone();
    theirs.log(at(21), "bob", EntryKind::Change, "theirs");
    let merged = merge_incident(Some(&older), &ours, &theirs).expect("merged");
    assert_eq!(keeps_entries(&ours, &merged.incident), Ok(()));
    assert_eq!(keeps_entries(&theirs, &merged.incident), Ok(()));
}
