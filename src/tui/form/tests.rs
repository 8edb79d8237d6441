//! Unit tests of the forms: every form's submission reads each field it
//! shows by its id, and only those; a label is only what the screen shows.

use super::*;
use crate::domain::incident::{BreachKind, Incident, NewIncident, PartyRole, Severity};
use crate::tui::jobs::JobKind;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

fn now() -> DateTime<Utc> {
    at("2026-03-10T14:30:00Z")
}

fn tz() -> chrono_tz::Tz {
    chrono_tz::Europe::London
}

fn incident() -> Incident {
    Incident::new(
        "INC-20260310-1400-abcdef".into(),
        NewIncident {
            title: "Admin portal login".into(),
            summary: String::new(),
            kind: BreachKind::ALL[0],
            severity: Severity::High,
            personal_data: true,
            government_data: false,
            affected_assets: Vec::new(),
            identified_at: at("2026-03-10T14:00:00Z"),
        },
        "alice",
        PartyRole::ServiceProvider,
        at("2026-03-10T14:02:00Z"),
    )
    .expect("incident")
}

/// Every form in the catalogue, by name.
fn catalogue() -> Vec<(&'static str, Form)> {
    let record = incident();
    let cc = vec!["soc@example.org".to_string()];
    vec![
        ("new incident", Form::new_incident()),
        ("log", Form::log()),
        ("add request", Form::add_request()),
        ("supply", Form::supply("R1")),
        ("root cause", Form::root_cause(&record)),
        ("mitigation", Form::mitigation(&record)),
        ("rca required", Form::rca_required(&record)),
        ("isms", Form::isms(&record)),
        ("notify", Form::notify(Some("csr@client.example"))),
        ("step note", Form::step_note("contain")),
        ("step evidence", Form::step_evidence("contain")),
        ("email choice", Form::email_choice(0, false)),
        (
            "email notification",
            Form::email_notification(Some("csr@client.example"), &cc, true, "15:00", None),
        ),
        (
            "email notification again",
            Form::email_notification(Some("csr@client.example"), &cc, false, "15:00", Some("x")),
        ),
        ("email supply", Form::email_supply("R1", &cc)),
        ("email update", Form::email_update(&cc)),
        ("email report", Form::email_report(&cc)),
        ("cancel notice", Form::cancel_notice("N1")),
        ("close", Form::close(vec!["contain".into()])),
        ("reopen", Form::reopen()),
        ("edit", Form::edit(&record, tz())),
        ("assign role", Form::assign_role(&record)),
        ("hand over", Form::hand_over()),
    ]
}

/// A usable, changed value for every text field (so fields read only when
/// changed are read too); the other party's notice on the new-incident form.
fn fill(form: &mut Form) {
    for field in &mut form.fields {
        let usable = match field.id {
            F::IdentifiedAt
            | F::ReceivedAt
            | F::At
            | F::SuppliedAt
            | F::When
            | F::ReliefAskedAt
            | F::StartedAt => "-5m",
            F::NextUpdate => "+2h",
            F::NoticeDate => "2026-03-01",
            F::DataSubjects => "12",
            F::File | F::EvidenceFile | F::Files => "/tmp/evidence.csv",
            _ => "typed",
        };
        match &mut field.value {
            Value::Text(s) | Value::Multi(s) => *s = usable.to_string(),
            Value::Choice { options, index } if field.id == F::IdentifiedBy => {
                *index = options
                    .iter()
                    .position(|o| *o == "other-party")
                    .expect("other-party is offered");
            }
            Value::Choice { .. } | Value::Flag(_) => {}
        }
    }
}

fn defined(form: &Form) -> BTreeSet<FieldId> {
    form.fields.iter().map(|f| f.id).collect()
}

#[test]
fn every_form_submits_every_field_it_shows_and_no_other() {
    for (name, mut form) in catalogue() {
        fill(&mut form);
        form.reads.borrow_mut().clear();
        if form.kind == FormKind::EmailChoice {
            assert!(form.chosen_notice().is_some(), "{name}");
        } else {
            let job = form.job("INC-20260310-1400-abcdef", now(), tz());
            assert!(job.is_ok(), "{name}: {job:?}");
        }
        let read = form.reads.borrow().clone();
        assert_eq!(
            read,
            defined(&form),
            "{name}: submission read {:?} but the form shows {:?}",
            read.difference(&defined(&form)).collect::<Vec<_>>(),
            defined(&form).difference(&read).collect::<Vec<_>>()
        );
    }
}

#[test]
fn each_field_appears_once_and_shows_its_ids_label() {
    for (name, form) in catalogue() {
        assert_eq!(defined(&form).len(), form.fields.len(), "{name}");
        for field in &form.fields {
            assert_eq!(field.label, field.id.label(), "{name}");
        }
    }
}

#[test]
fn a_renamed_label_still_gives_the_value_typed() {
    let mut form = Form::log();
    for field in &mut form.fields {
        field.label = "Renamed on screen";
    }
    form.fields[0].value = Value::Text("Disabled the account".into());
    match form.job("INC-20260310-1400-abcdef", now(), tz()) {
        Ok(JobKind::Log { text, .. }) => assert_eq!(text, "Disabled the account"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_field_the_form_lacks_reads_as_missing_not_as_a_value() {
    let form = Form::reopen();
    assert!(form.get(F::Title).is_none());
    assert_eq!(form.text_of(F::Title), "");
    assert!(form.reads.borrow().contains(&F::Title), "the miss is seen");
}
