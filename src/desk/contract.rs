//! The contract both ways: incidents the other party identified (it notified
//! us under 8.1), the Client's decision on a root-cause analysis (8.2.1 f),
//! closing as not a Breach of Security, and Security Tests (paragraph 6) with
//! the real paragraph 6.5 check.
//!
//! Every change goes through [`Desk::change`] or [`Store::create`], so each
//! saved revision has its audit entry first.

use super::*;
use crate::domain::incident::{SecurityTest, TestClause, TestFinding, normalise_component};
use chrono::NaiveDate;

/// A Security Test as the responder gives it.
#[derive(Debug, Clone)]
pub struct NewSecurityTest {
    pub clause: TestClause,
    pub date: NaiveDate,
    pub scope: String,
    pub run_by: String,
    /// For a repeat test under 6.4: the test it repeats (`T1`).
    pub repeats: Option<String>,
}

/// One finding of a Security Test, with its root cause.
#[derive(Debug, Clone)]
pub struct NewFinding {
    pub description: String,
    pub category: RootCauseCategory,
    pub component: String,
}

/// The warning for KPI relief asked for on a mitigation not recorded as
/// tested: 8.2.1 (c) grants relief where reasonable testing was done.
pub(crate) fn relief_warning(incident: &Incident) -> Option<String> {
    let m = &incident.mitigation;
    (m.kpi_relief.requested_at.is_some() && !m.tested).then(|| {
        "KPI relief is requested but the mitigation is not recorded as tested: 8.2.1 (c) grants relief \
         where reasonable testing has been undertaken; record how it was tested (--tested true --tested-how)"
            .to_string()
    })
}

impl Desk {
    /// Opens an incident the other party identified and notified us of
    /// under paragraph 8.1. The notice is the record that satisfies the 8.1
    /// step ("notice received"); no notification countdown runs for us, and
    /// clocks `from = "aware"` start at the notice's receipt.
    pub fn open_incident_on_notice(
        &self,
        fields: NewIncident,
        notice: IncomingNotice,
        now: DateTime<Utc>,
    ) -> Result<Incident, DeskError> {
        let mut random = [0u8; 4];
        getrandom::fill(&mut random)
            .map_err(|e| system(format!("no randomness for a new id: {e}")))?;
        let id = incident_id(now, u32::from_le_bytes(random));
        let mut incident = Incident::new_on_notice(
            id,
            fields,
            notice,
            &self.actor,
            self.config.responder.role,
            now,
        )?;
        apply_playbooks(&mut incident, &self.playbooks.playbooks, &self.calendar);
        let received = incident
            .notice_received
            .as_ref()
            .map(|n| n.received_at)
            .unwrap_or(incident.identified_at);
        mark_filled_steps(
            &mut incident,
            RecordField::NoticeReceived,
            &self.actor,
            received,
        );
        refresh_due_times(&mut incident, &self.calendar);
        let playbooks: Vec<String> = incident
            .playbooks
            .iter()
            .map(|p| format!("{} v{}", p.name, p.version))
            .collect();
        let mut note = AuditNote::new(
            now,
            &self.actor,
            "incident.opened",
            &format!(
                "opened '{}' ({}, {}) on the other party's 8.1 notice received {}; identified at {}; playbooks: {}",
                incident.title,
                incident.kind,
                incident.severity,
                stamp(received),
                stamp(incident.identified_at),
                playbooks.join(", ")
            ),
        );
        for entry in &incident.timeline {
            if !note.detail.contains(&entry.text) {
                note.detail
                    .push_str(&format!("; timeline ({}): {}", entry.kind, entry.text));
            }
        }
        Ok(self.store.create(&incident, &note)?)
    }

    /// Records whether the Client requires a root-cause analysis in the
    /// 8.2.1 (f) full details; a yes or no completes the steps that fill it.
    pub fn set_rca_required(
        &self,
        id: &str,
        required: RcaRequired,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let actor = self.actor.clone();
        let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        self.change(id, now, "rca-required.updated", |incident| {
            if incident.rca_required == required && note.is_none() {
                return Ok(String::new());
            }
            incident.rca_required = required;
            let said = match required {
                RcaRequired::Yes => "the Client requires a root-cause analysis (8.2.1 f)",
                RcaRequired::No => "the Client does not require a root-cause analysis (8.2.1 f)",
                RcaRequired::Unknown => {
                    "whether the Client requires a root-cause analysis (8.2.1 f) is not known yet"
                }
            };
            let text = match &note {
                Some(n) => format!("Recorded that {said}: {n}"),
                None => format!("Recorded that {said}"),
            };
            if required != RcaRequired::Unknown {
                mark_filled_steps(incident, RecordField::RcaRequired, &actor, now);
            } else {
                for step in incident
                    .steps
                    .iter_mut()
                    .filter(|s| s.fills.contains(&RecordField::RcaRequired))
                {
                    step.status = StepStatus::Todo;
                    step.completed_at = None;
                }
            }
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }

    /// Closes an incident as not a Breach of Security (nor a potential or
    /// attempted one), with the reasoning kept in the closure, the timeline
    /// and the audit log.
    pub fn close_not_a_breach(
        &self,
        id: &str,
        reasoning: &str,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let reasoning = reasoning.trim().to_string();
        if reasoning.is_empty() {
            return Err(missing(
                "closing as not a Breach of Security needs the reasoning (--reason)",
            ));
        }
        let actor = self.actor.clone();
        self.change(id, now, "incident.closed", |incident| {
            if !incident.is_open() {
                return Err(wrong_state(format!("{} is already closed", incident.id)));
            }
            let open = super::open_required_ids(incident);
            let text = format!("Incident closed as not a Breach of Security: {reasoning}");
            super::close_record(
                incident,
                &actor,
                now,
                Some(reasoning.clone()),
                open,
                true,
                &text,
            );
            Ok(text)
        })
    }

    /// Records a Security Test on the incident it relates to.
    pub fn add_security_test(
        &self,
        id: &str,
        input: NewSecurityTest,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let scope = input.scope.trim().to_string();
        let run_by = input.run_by.trim().to_string();
        if scope.is_empty() {
            return Err(missing("say what the Security Test covered (--scope)"));
        }
        if run_by.is_empty() {
            return Err(missing("say who ran the Security Test (--run-by)"));
        }
        if input.date > now.date_naive() {
            return Err(invalid(format!(
                "test date {} is in the future",
                input.date
            )));
        }
        let clause = match (&input.repeats, input.clause) {
            (Some(_), _) => TestClause::Repeat,
            (None, TestClause::Repeat) => {
                return Err(missing(
                    "a repeat test under 6.4 names the test it repeats (--repeats T1)",
                ));
            }
            (None, clause) => clause,
        };
        let actor = self.actor.clone();
        self.change(id, now, "security-test.added", |incident| {
            let repeats = match &input.repeats {
                Some(t) => {
                    let earlier = incident
                        .security_tests
                        .iter()
                        .find(|x| x.id.eq_ignore_ascii_case(t.trim()))
                        .ok_or_else(|| {
                            not_found(format!("{} has no Security Test '{}'", incident.id, t))
                        })?;
                    Some(earlier.id.clone())
                }
                None => None,
            };
            let test = SecurityTest {
                uid: String::new(),
                id: incident.next_test_id(),
                clause,
                date: input.date,
                scope: scope.clone(),
                run_by: run_by.clone(),
                repeats: repeats.clone(),
                findings: Vec::new(),
                recorded_by: actor.clone(),
                recorded_at: now,
            };
            let text = format!(
                "Security Test {} recorded: {}, {} by {}, scope: {}{}",
                test.id,
                clause.label(),
                input.date,
                run_by,
                scope,
                repeats
                    .as_deref()
                    .map(|r| format!("; repeats {r}"))
                    .unwrap_or_default()
            );
            crate::domain::uid::push(&mut incident.security_tests, test);
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }

    /// Records a finding of a Security Test. A finding of a repeat test
    /// under 6.4 with the same root cause as an earlier test's finding, or as
    /// the incident's root cause, is the paragraph 6.5 case: it is marked
    /// and warned about (internally).
    pub fn add_test_finding(
        &self,
        id: &str,
        test: &str,
        input: NewFinding,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let description = input.description.trim().to_string();
        if description.is_empty() {
            return Err(missing("say what the test found (--description)"));
        }
        if normalise_component(&input.component).is_empty() {
            return Err(missing("say which asset or component (--component)"));
        }
        let actor = self.actor.clone();
        let mut same_as: Option<String> = None;
        let mut changed = self.change(id, now, "security-test.finding", |incident| {
            let incident_id = incident.id.clone();
            let index = incident
                .security_tests
                .iter()
                .position(|t| t.id.eq_ignore_ascii_case(test.trim()))
                .ok_or_else(|| not_found(format!("{incident_id} has no Security Test '{test}'")))?;
            let finding = TestFinding {
                uid: String::new(),
                description: description.clone(),
                category: input.category,
                component: input.component.trim().to_string(),
                same_root_cause_as: None,
                recorded_at: now,
            };
            let key = finding.repeat_key();
            let this = &incident.security_tests[index];
            if this.clause == TestClause::Repeat {
                // Earlier root causes: the findings of every other test run
                // on or before this one, then the incident's own root cause.
                let earlier = incident
                    .security_tests
                    .iter()
                    .filter(|t| t.id != this.id && t.date <= this.date)
                    .flat_map(|t| t.findings.iter().map(move |f| (t, f)))
                    .find(|(_, f)| f.repeat_key() == key)
                    .map(|(t, _)| format!("Security Test {}", t.id))
                    .or_else(|| {
                        (incident.root_cause.repeat_key() == key)
                            .then(|| "the incident's root cause".to_string())
                    });
                same_as = earlier;
            }
            let test_id = this.id.clone();
            let mut finding = finding;
            finding.same_root_cause_as = same_as.clone();
            // The timeline (part of the report sent to the Client) states the
            // finding; the paragraph 6.5 match is internal: the record and
            // the audit entry.
            let text = format!(
                "Security Test {test_id} finding: {description} (root cause {} in {})",
                input.category,
                input.component.trim(),
            );
            let detail = match same_as.as_deref() {
                Some(s) => format!(
                    "{text}; internal: repeat test under 6.4 found the same root cause as {s} (paragraph 6.5)"
                ),
                None => text.clone(),
            };
            crate::domain::uid::push(&mut incident.security_tests[index].findings, finding);
            incident.log(now, &actor, EntryKind::Change, text);
            Ok(detail)
        })?;
        if let Some(earlier) = same_as {
            changed.warnings.push(format!(
                "PARAGRAPH 6.5: a repeat Security Test under 6.4 revealed a finding exploiting the same root cause as {earlier} ({} in {}). \
                 Under paragraph 6.5 this is a substantial failure by the Service Provider. Internal: escalate now; do not characterise it in notices to the Client.",
                input.category,
                normalise_component(&input.component)
            ));
        }
        Ok(changed)
    }
}
