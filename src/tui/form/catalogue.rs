//! The catalogue of forms: what each one asks for, its fields in order,
//! their hints and starting values. One constructor per form.

use super::{F, Field, Form, RELIEF, Value, choice, field, flag, text};
use crate::domain::incident::{
    BreachKind, Channel, IdentifiedBy, Incident, RcaRequired, Requester, Role, RootCauseCategory,
    Severity, current_roles,
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// What a form is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    NewIncident,
    Log,
    AddRequest,
    Supply {
        request: String,
    },
    RootCause,
    Mitigation,
    Isms,
    /// Whether the Client requires a root-cause analysis (8.2.1 f).
    RcaRequired,
    Notify,
    StepNote {
        step: String,
    },
    StepEvidence {
        step: String,
    },
    /// Which notice to email.
    EmailChoice,
    /// The 8.1 notification by email; `late` when its deadline has passed
    /// (the reason for the delay is then required).
    EmailNotification {
        late: bool,
        /// An 8.1 notification is already recorded: a reason is required.
        again: bool,
    },
    EmailSupply {
        request: String,
    },
    EmailUpdate,
    /// The 8.2.1 (f) report: only the Cc line to fill in.
    EmailReport,
    /// Cancel a notice in the outbox, with the reason.
    CancelNotice {
        notice: String,
    },
    /// Close; `open_steps` are required steps still open (a reason is needed).
    Close {
        open_steps: Vec<String>,
    },
    Reopen,
    Edit,
    /// Give a responder a role.
    AssignRole,
    /// Hand the incident over to the next responder.
    HandOver,
}

/// An empty text field for names to add to a list, its hint naming the
/// ones already there.
fn listed(id: super::FieldId, hint: &'static str, already: &[String]) -> super::Field {
    let mut f = text(id, hint, "");
    if !already.is_empty() {
        // Names typed by people: made harmless before they reach the screen.
        let names: Vec<String> = already.iter().map(|n| crate::text::one_line(n)).collect();
        f.hint = std::borrow::Cow::Owned(format!("{hint}; now: {}", names.join(", ")));
    }
    f
}

impl Form {
    /// The new-incident form, with the built-in severity definitions.
    pub fn new_incident() -> Form {
        Form::new_incident_with(crate::config::SeverityScale::default().help())
    }

    /// The new-incident form. "Identified by": us (the 1-hour 8.1 clock
    /// runs) or the other party (it notified us: when, from whom, how).
    pub fn new_incident_with(severity_help: Vec<String>) -> Form {
        let kinds = BreachKind::ALL.iter().map(|k| k.as_str()).collect();
        let severities = Severity::ALL.iter().map(|s| s.as_str()).collect();
        let high = Severity::ALL
            .iter()
            .position(|s| *s == Severity::High)
            .unwrap_or(0);
        let channels = Channel::ALL.iter().map(|c| c.as_str()).collect();
        Form::new(
            FormKind::NewIncident,
            "Open a new incident (8.1: either party notifies the other within 1 hour)",
            vec![
                text(F::Title, "what happened, in a few words", ""),
                choice(F::Kind, kinds, 0),
                choice(F::Severity, severities, high),
                flag(F::PersonalData, false),
                text(F::IdentifiedAt, "now, 14:05, -20m or RFC 3339", "now"),
                field(
                    F::IdentifiedBy,
                    "us: we notify within 1 hour · other-party: it notified us (fill in below)",
                    Value::Choice {
                        options: vec![IdentifiedBy::Us.as_str(), IdentifiedBy::OtherParty.as_str()],
                        index: 0,
                    },
                ),
                text(
                    F::ReceivedAt,
                    "other-party only: when its notice reached us (now, 14:05, -20m)",
                    "",
                ),
                text(F::ReceivedFrom, "other-party only: who gave the notice", ""),
                choice(F::Channel, channels, 0),
                text(
                    F::Reference,
                    "other-party only: Message-ID or call reference",
                    "",
                ),
            ],
        )
        .with_severity_help(severity_help)
    }

    pub fn log() -> Form {
        Form::new(
            FormKind::Log,
            "Log a timeline entry",
            vec![
                text(F::Entry, "what was done or found", ""),
                text(
                    F::At,
                    "when it happened: now, 14:05, -20m or RFC 3339",
                    "now",
                ),
            ],
        )
    }

    pub fn add_request() -> Form {
        let destinations = Requester::ALL.iter().map(|r| r.as_str()).collect();
        Form::new(
            FormKind::AddRequest,
            "Add a data request made on the Client's request (8.2.1 e: 2 Working Days)",
            vec![
                field(
                    F::DeliverTo,
                    "where the data goes: the Client, or GovCertUK at the Client's request",
                    Value::Choice {
                        options: destinations,
                        index: 0,
                    },
                ),
                text(F::Name, "who asked (optional)", ""),
                text(F::What, "the data asked for", ""),
                text(F::ReceivedAt, "now, 14:05, -20m or RFC 3339", "now"),
            ],
        )
    }

    pub fn supply(request: &str) -> Form {
        Form::new(
            FormKind::Supply {
                request: request.to_string(),
            },
            format!("Mark data request {request} supplied (free of charge)"),
            vec![
                text(F::SuppliedAt, "now, 14:05, -20m or RFC 3339", "now"),
                text(F::How, "e.g. sftp to the Client's CSR", ""),
            ],
        )
    }

    pub fn root_cause(incident: &Incident) -> Form {
        let rc = &incident.root_cause;
        let categories = RootCauseCategory::ALL.iter().map(|c| c.as_str()).collect();
        let index = rc
            .category
            .and_then(|c| RootCauseCategory::ALL.iter().position(|x| *x == c))
            .unwrap_or(0);
        Form::new(
            FormKind::RootCause,
            "Root cause (8.2.1 d/f; a repeat of an earlier incident's is flagged)",
            vec![
                choice(F::Category, categories, index),
                text(
                    F::Component,
                    "the asset or component that failed",
                    &rc.component,
                ),
                field(
                    F::Analysis,
                    "several lines (Enter: new line)",
                    Value::Multi(rc.analysis.clone()),
                ),
                text(
                    F::Prevention,
                    "actions to stop a repeat, separated by ;",
                    "",
                ),
            ],
        )
    }

    pub fn mitigation(incident: &Incident) -> Form {
        let m = &incident.mitigation;
        Form::new(
            FormKind::Mitigation,
            "Mitigation (8.2.1 c: applied and reasonably tested)",
            vec![
                text(F::What, "the mitigation applied", &m.description),
                text(F::TestedHow, "how it was tested", &m.tested_how),
                flag(F::Tested, m.tested),
                flag(F::AffectsKpis, m.affects_kpis),
                text(
                    F::ReliefAskedAt,
                    "when KPI relief was requested: 14:05, -20m, RFC 3339 (optional)",
                    &m.kpi_relief
                        .requested_at
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                        .unwrap_or_default(),
                ),
                choice(
                    F::ReliefGranted,
                    RELIEF.to_vec(),
                    match m.kpi_relief.granted {
                        None => 0,
                        Some(true) => 1,
                        Some(false) => 2,
                    },
                ),
                text(
                    F::ReliefPeriod,
                    "KPI relief asked of the Client, or the period its written notice sets",
                    &m.kpi_relief.period,
                ),
                text(
                    F::NoticeDate,
                    "the Client's written notice setting the period (8.2.1 c): YYYY-MM-DD",
                    &m.kpi_relief
                        .notice
                        .as_ref()
                        .map(|n| n.dated.to_string())
                        .unwrap_or_default(),
                ),
                text(
                    F::NoticeRef,
                    "the Client's reference for that notice",
                    &m.kpi_relief
                        .notice
                        .as_ref()
                        .map(|n| n.reference.clone())
                        .unwrap_or_default(),
                ),
                text(
                    F::EvidenceFile,
                    "path of the test evidence to hash and keep (optional)",
                    "",
                ),
            ],
        )
    }

    pub fn rca_required(incident: &Incident) -> Form {
        let options: Vec<&'static str> = RcaRequired::ALL.iter().map(|r| r.as_str()).collect();
        let index = RcaRequired::ALL
            .iter()
            .position(|r| *r == incident.rca_required)
            .unwrap_or(0);
        Form::new(
            FormKind::RcaRequired,
            "Does the Client require a root-cause analysis? (8.2.1 f: \"where required by the Client\")",
            vec![
                field(
                    F::RcaRequired,
                    "the Client's answer: yes, no, or unknown (not asked or not answered yet)",
                    Value::Choice { options, index },
                ),
                text(F::Note, "who said so, when, and how (optional)", ""),
            ],
        )
    }

    pub fn isms(incident: &Incident) -> Form {
        Form::new(
            FormKind::Isms,
            "ISMS change (8.3)",
            vec![
                flag(F::Required, incident.isms_change.required),
                text(
                    F::Description,
                    "what must change",
                    &incident.isms_change.description,
                ),
            ],
        )
    }

    pub fn notify(recipient: Option<&str>) -> Form {
        let channels = vec![
            Channel::Phone.as_str(),
            Channel::InPerson.as_str(),
            Channel::Email.as_str(),
        ];
        Form::new(
            FormKind::Notify,
            "Record the 8.1 notification made",
            vec![
                choice(F::Channel, channels, 0),
                text(F::To, "who was told", recipient.unwrap_or("")),
                text(F::When, "now, 14:05, -20m or RFC 3339", "now"),
                text(
                    F::Reference,
                    "call notes, ticket, Message-ID (optional)",
                    "",
                ),
                text(F::DelayReason, "needed if after the deadline", ""),
            ],
        )
    }

    pub fn step_note(step: &str) -> Form {
        Form::new(
            FormKind::StepNote {
                step: step.to_string(),
            },
            format!("Add a note to step {step}"),
            vec![text(F::Note, "", "")],
        )
    }

    pub fn step_evidence(step: &str) -> Form {
        Form::new(
            FormKind::StepEvidence {
                step: step.to_string(),
            },
            format!("Attach an evidence file to step {step} (hashed: SHA-256)"),
            vec![
                text(F::File, "path of the file, e.g. /tmp/fw-export.csv", ""),
                text(F::Note, "what it shows (optional)", ""),
            ],
        )
    }

    pub fn close(open_steps: Vec<String>) -> Form {
        let title = if open_steps.is_empty() {
            "Close the incident".to_string()
        } else {
            format!(
                "Close the incident: {} required step(s) still open",
                open_steps.len()
            )
        };
        let hint = if open_steps.is_empty() {
            "optional".to_string()
        } else {
            format!(
                "REQUIRED: why close with {} still open",
                open_steps.join(", ")
            )
        };
        Form::new(
            FormKind::Close { open_steps },
            title,
            vec![
                Field {
                    id: F::Reason,
                    label: F::Reason.label(),
                    hint: std::borrow::Cow::Owned(hint),
                    initial: Value::Text(String::new()),
                    value: Value::Text(String::new()),
                },
                field(
                    F::NotABreach,
                    "yes: on assessment not a Breach of Security (nor potential or attempted); the reason is the reasoning",
                    Value::Flag(false),
                ),
            ],
        )
    }

    /// Give a responder a role, or (To left empty) take it from whoever
    /// holds it; the hint names who holds each role now.
    pub fn assign_role(incident: &Incident) -> Form {
        let roles = Role::ALL.iter().map(|r| r.as_str()).collect();
        let holders: Vec<String> = current_roles(&incident.assignments)
            .iter()
            .map(|a| format!("{} {}", a.role, crate::text::one_line(&a.to)))
            .collect();
        let mut to = text(
            F::To,
            "who takes the role (a name on one line); empty: nobody (unassign)",
            "",
        );
        if !holders.is_empty() {
            to.hint = std::borrow::Cow::Owned(format!(
                "who takes the role, empty: nobody (unassign); now: {}",
                holders.join(", ")
            ));
        }
        Form::new(
            FormKind::AssignRole,
            "Give a responder a role, or take it back (empty To)",
            vec![choice(F::Role, roles, 0), to],
        )
    }

    /// Hand the incident over: to whom, and what they must know.
    pub fn hand_over() -> Form {
        Form::new(
            FormKind::HandOver,
            "Hand over to the next responder (shown at the top until acknowledged)",
            vec![
                text(F::To, "the next responder's name", ""),
                field(
                    F::Note,
                    "what they must know: state, next steps, who to call",
                    Value::Multi(String::new()),
                ),
            ],
        )
    }

    pub fn reopen() -> Form {
        Form::new(
            FormKind::Reopen,
            "Reopen the incident",
            vec![text(F::Reason, "why it is reopened (required)", "")],
        )
    }

    pub fn edit(incident: &Incident, tz: Tz) -> Form {
        let kinds = BreachKind::ALL.iter().map(|k| k.as_str()).collect();
        let severities = Severity::ALL.iter().map(|s| s.as_str()).collect();
        let kind = BreachKind::ALL
            .iter()
            .position(|k| *k == incident.kind)
            .unwrap_or(0);
        let severity = Severity::ALL
            .iter()
            .position(|s| *s == incident.severity)
            .unwrap_or(0);
        // Local time, as the rest of the screen shows it (seconds only when
        // there are any); the WHEN grammar reads it back.
        let local_text = |t: DateTime<Utc>| {
            let local = t.with_timezone(&tz);
            if chrono::Timelike::second(&local) == 0 {
                local.format("%Y-%m-%d %H:%M").to_string()
            } else {
                local.format("%Y-%m-%d %H:%M:%S").to_string()
            }
        };
        let identified = local_text(incident.identified_at);
        let d = &incident.details;
        let opt_time = |at: Option<DateTime<Utc>>| at.map(local_text).unwrap_or_default();
        Form::new(
            FormKind::Edit,
            "Edit the incident (every change is logged)",
            vec![
                text(F::Title, "what happened, in a few words", &incident.title),
                field(
                    F::Summary,
                    "what is known so far (every notice states it)",
                    Value::Multi(incident.summary.clone()),
                ),
                choice(F::Kind, kinds, kind),
                choice(F::Severity, severities, severity),
                flag(F::PersonalData, incident.personal_data),
                flag(F::GovernmentData, incident.government_data),
                listed(
                    F::AddAssets,
                    "affected assets to add, separated by ,",
                    &incident.affected_assets,
                ),
                listed(
                    F::AddResponders,
                    "responders to add, separated by ,",
                    &incident.responders,
                ),
                text(
                    F::IdentifiedAt,
                    "local time; moving it moves the 1-hour clock: 14:05, -20m or RFC 3339",
                    &identified,
                ),
                text(F::WhyMoved, "required if Identified at changes", ""),
                text(
                    F::StartedAt,
                    "when the breach started (not when identified); empty if not known",
                    &opt_time(d.started_at),
                ),
                text(
                    F::HowDetected,
                    "e.g. SOC alert on impossible travel",
                    &d.detected_how,
                ),
                text(F::ServiceImpact, "impact on the service", &d.service_impact),
                text(
                    F::Confidentiality,
                    "impact on confidentiality",
                    &d.confidentiality,
                ),
                text(F::Integrity, "impact on integrity", &d.integrity),
                text(F::Availability, "impact on availability", &d.availability),
                text(
                    F::Containment,
                    "e.g. contained 15:10: account disabled",
                    &d.containment,
                ),
                text(
                    F::DataSubjects,
                    "how many (personal data); empty if not known",
                    &d.data_subjects.map(|n| n.to_string()).unwrap_or_default(),
                ),
                text(
                    F::Categories,
                    "categories of personal data",
                    &d.data_categories,
                ),
                text(
                    F::GovernmentDataIs,
                    "which Government Data",
                    &d.government_data_details,
                ),
                text(F::OthersTold, "who else has been told", &d.others_told),
                text(
                    F::NextUpdate,
                    "when the next update is due: 17:00, +2h or RFC 3339",
                    &opt_time(d.next_update_due),
                ),
                text(
                    F::ResidualRisk,
                    "after the mitigation (for the report)",
                    &d.residual_risk,
                ),
                text(
                    F::Lessons,
                    "lessons learned (for the report)",
                    &d.lessons_learned,
                ),
            ],
        )
        .with_severity_help(crate::config::SeverityScale::default().help())
    }
}
