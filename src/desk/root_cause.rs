//! 8.2.1 (b)-(d): the root cause, the tested mitigation (and any relief
//! notice under (c)), and the ISMS change that prevents a repeat.

use super::*;

/// The paragraph 8.2.1 (c) mitigation, as typed.
#[derive(Debug, Clone, Default)]
pub struct MitigationInput {
    pub description: Option<String>,
    pub tested_how: Option<String>,
    pub tested: Option<bool>,
    pub affects_kpis: Option<bool>,
    pub relief_requested_at: Option<DateTime<Utc>>,
    pub relief_granted: Option<bool>,
    pub relief_period: Option<String>,
    pub evidence_file: Option<PathBuf>,
    /// The Client's written notice setting the relief period (8.2.1 c).
    pub relief_notice: Option<ReliefNotice>,
}

impl Desk {
    /// Records the root cause (8.2.1 d/f) and looks through every other
    /// incident for the same root cause, linking and warning: a further
    /// breach exploiting the same root cause is what 8.2.1 (d) asks the
    /// Service Provider to prevent. (Paragraph 6.5 is narrower: see
    /// [`Desk::add_test_finding`].) The warning is internal.
    #[allow(clippy::too_many_arguments)]
    pub fn record_root_cause(
        &self,
        id: &str,
        category: RootCauseCategory,
        component: &str,
        analysis: Option<String>,
        prevention: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        if component.trim().is_empty() {
            return Err(missing("say which asset or component failed (--component)"));
        }
        let id = self.store.resolve_id(id)?;
        let probe = RootCause {
            category: Some(category),
            component: component.trim().to_string(),
            ..RootCause::default()
        };
        let key = probe.repeat_key();
        let this = self.store.load(&id)?;
        // Earlier incidents with the same root cause, from the summary index
        // (no need to parse every record in the archive).
        let (summaries, _) = self.summaries();
        let earlier: Vec<(String, DateTime<Utc>)> = summaries
            .into_iter()
            .filter(|other| other.id != id && other.identified_at <= this.identified_at)
            .filter(|other| key.is_some() && other.root_cause.as_ref() == key.as_ref())
            .map(|other| (other.id, other.identified_at))
            .collect();
        let actor = self.actor.clone();
        let mut changed = self.change(&id, now, "root-cause.recorded", |incident| {
            let rc = &mut incident.root_cause;
            rc.category = Some(category);
            rc.component = component.trim().to_string();
            if let Some(analysis) = analysis {
                rc.analysis = analysis;
            }
            for action in prevention {
                let action = action.trim().to_string();
                if !action.is_empty() && !rc.prevention_actions.contains(&action) {
                    rc.prevention_actions.push(action);
                }
            }
            rc.recorded_at = Some(now);
            rc.recorded_by = Some(actor.clone());
            // The timeline states the fact; the repeat (internal) goes only
            // into the audit entry and the record's links, because the
            // timeline is part of the report sent to the Client.
            let text = format!("Root cause recorded: {category} in {}", component.trim());
            let mut detail = text.clone();
            for (other, _) in &earlier {
                if !incident.repeat_of.iter().any(|l| &l.incident == other) {
                    crate::domain::uid::push(
                        &mut incident.repeat_of,
                        RepeatLink {
                            uid: String::new(),
                            incident: other.clone(),
                            category,
                            component: crate::domain::incident::normalise_component(component),
                            linked_at: now,
                        },
                    );
                    detail.push_str(&format!(
                        "; same root cause as {other} (internal: 8.2.1 d prevention)"
                    ));
                }
            }
            incident.log(now, &actor, EntryKind::Change, text);
            Ok(detail)
        })?;
        for (other, identified) in &earlier {
            changed.warnings.push(format!(
                "REPEAT ROOT CAUSE: {other} (identified {}) had the same root cause ({category} in {}). \
                 8.2.1 (d) asks the Service Provider to prevent a further breach exploiting the same root cause, \
                 so this is a prevention failure the Client will ask about: escalate internally and check the (d) prevention actions.",
                stamp(*identified),
                crate::domain::incident::normalise_component(component)
            ));
        }
        if !earlier.is_empty() && changed.written {
            // The change and its entry (which names the repeat) are saved;
            // this extra note only makes the repeat easy to find.
            if let Err(e) = self.audit.append(
                now,
                &self.actor,
                Some(&changed.incident.id),
                "root-cause.repeat",
                &format!(
                    "same root cause as {}",
                    earlier
                        .iter()
                        .map(|(i, _)| i.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ) {
                changed.warnings.push(format!(
                    "saved and logged, but the extra root-cause.repeat note was not: {e}"
                ));
            }
        }
        Ok(changed)
    }

    /// Updates the 8.2.1 (c) mitigation.
    pub fn set_mitigation(
        &self,
        id: &str,
        input: MitigationInput,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let evidence = input
            .evidence_file
            .as_deref()
            .map(|f| evidence_file(f, &self.actor, now))
            .transpose()?;
        let actor = self.actor.clone();
        self.change(id, now, "mitigation.updated", |incident| {
            let m = &mut incident.mitigation;
            let mut said = Vec::new();
            if let Some(d) = input.description {
                m.description = d;
                m.applied_at.get_or_insert(now);
                said.push("description".to_string());
            }
            if let Some(t) = input.tested_how {
                m.tested_how = t;
                said.push("tested how".to_string());
            }
            if let Some(t) = input.tested {
                m.tested = t;
                said.push(format!("tested: {t}"));
            }
            if let Some(k) = input.affects_kpis {
                m.affects_kpis = k;
                said.push(format!("affects KPIs: {k}"));
            }
            if let Some(at) = input.relief_requested_at {
                m.kpi_relief.requested_at = Some(at);
                said.push(format!("KPI relief requested {}", stamp(at)));
            }
            if let Some(g) = input.relief_granted {
                m.kpi_relief.granted = Some(g);
                said.push(format!("KPI relief granted: {g}"));
            }
            if let Some(p) = input.relief_period {
                m.kpi_relief.period = p;
                said.push("KPI relief period".to_string());
            }
            if let Some(notice) = input.relief_notice {
                if notice.reference.trim().is_empty() || notice.period.trim().is_empty() {
                    return Err(missing(
                        "the Client's written notice needs its reference and the period it sets",
                    ));
                }
                said.push(format!(
                    "the Client's written notice of {} (ref {}) sets the relief period: {}",
                    notice.dated,
                    notice.reference.trim(),
                    notice.period.trim()
                ));
                m.kpi_relief.period = notice.period.trim().to_string();
                m.kpi_relief.granted = Some(true);
                m.kpi_relief.notice = Some(ReliefNotice {
                    dated: notice.dated,
                    reference: notice.reference.trim().to_string(),
                    period: notice.period.trim().to_string(),
                });
            }
            if let Some(e) = evidence {
                said.push(format!(
                    "test evidence {}",
                    crate::report::evidence_line(&e, crate::report::EvidenceForm::Full)
                ));
                crate::domain::uid::push(&mut m.evidence, e);
            }
            if said.is_empty() {
                return Ok(String::new());
            }
            let text = format!("Mitigation (8.2.1 c): {}", said.join(", "));
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
        .map(|mut changed| {
            changed.warnings.extend(relief_warning(&changed.incident));
            changed
        })
    }

    /// Sets the paragraph 8.3 ISMS-change flag.
    pub fn set_isms_change(
        &self,
        id: &str,
        required: bool,
        description: &str,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let actor = self.actor.clone();
        self.change(id, now, "isms-change.updated", |incident| {
            if incident.isms_change.required == required
                && incident.isms_change.description == description.trim()
            {
                return Ok(String::new());
            }
            incident.isms_change.required = required;
            incident.isms_change.description = description.trim().to_string();
            let text = format!(
                "ISMS change (8.3) {}{}",
                if required {
                    "required, at no cost to the Client"
                } else {
                    "not required"
                },
                if description.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", description.trim())
                }
            );
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }
}
