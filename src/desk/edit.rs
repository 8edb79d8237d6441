//! Editing an incident's own fields: title, summary, kind, severity, the
//! dates that move clocks, and the 8.2.1 (f) details.

use super::*;

/// Fields of an incident a responder may edit after opening it.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub kind: Option<BreachKind>,
    pub severity: Option<Severity>,
    pub personal_data: Option<bool>,
    pub government_data: Option<bool>,
    pub add_assets: Vec<String>,
    pub add_responders: Vec<String>,
    /// Moving the start of the 1-hour clock needs a reason.
    pub identified_at: Option<(DateTime<Utc>, String)>,
    /// The facts the notices and the report state; `None` leaves a field as it is.
    pub details: Box<DetailsEdit>,
}

/// Changes to [`Details`](crate::domain::incident::Details); `None` leaves a
/// field as it is, an empty text clears it.
#[derive(Debug, Clone, Default)]
pub struct DetailsEdit {
    pub started_at: Option<Option<DateTime<Utc>>>,
    pub detected_how: Option<String>,
    pub service_impact: Option<String>,
    pub confidentiality: Option<String>,
    pub integrity: Option<String>,
    pub availability: Option<String>,
    pub containment: Option<String>,
    pub data_subjects: Option<Option<u64>>,
    pub data_categories: Option<String>,
    pub government_data_details: Option<String>,
    pub others_told: Option<String>,
    pub next_update_due: Option<Option<DateTime<Utc>>>,
    pub residual_risk: Option<String>,
    pub lessons_learned: Option<String>,
}

impl DetailsEdit {
    /// Applies the changes; returns what changed, in words.
    fn apply(
        self,
        d: &mut crate::domain::incident::Details,
        identified_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, DeskError> {
        let mut said = Vec::new();
        if let Some(Some(at)) = self.started_at {
            if at > now {
                return Err(invalid(format!(
                    "the breach start {} is in the future",
                    stamp(at)
                )));
            }
            if at > identified_at {
                return Err(invalid(format!(
                    "the breach start {} is after it was identified ({})",
                    stamp(at),
                    stamp(identified_at)
                )));
            }
        }
        if let Some(v) = self.started_at
            && v != d.started_at
        {
            said.push(match v {
                Some(at) => format!("breach started at {}", stamp(at)),
                None => "breach start cleared".to_string(),
            });
            d.started_at = v;
        }
        if let Some(v) = self.next_update_due
            && v != d.next_update_due
        {
            said.push(match v {
                Some(at) => format!("next update due {}", stamp(at)),
                None => "next update due cleared".to_string(),
            });
            d.next_update_due = v;
        }
        if let Some(v) = self.data_subjects
            && v != d.data_subjects
        {
            said.push(match v {
                Some(n) => format!("data subjects: {n}"),
                None => "data subjects cleared".to_string(),
            });
            d.data_subjects = v;
        }
        let texts: [(&str, Option<String>, &mut String); 11] = [
            ("how detected", self.detected_how, &mut d.detected_how),
            ("service impact", self.service_impact, &mut d.service_impact),
            (
                "confidentiality impact",
                self.confidentiality,
                &mut d.confidentiality,
            ),
            ("integrity impact", self.integrity, &mut d.integrity),
            (
                "availability impact",
                self.availability,
                &mut d.availability,
            ),
            ("containment", self.containment, &mut d.containment),
            (
                "data categories",
                self.data_categories,
                &mut d.data_categories,
            ),
            (
                "Government Data details",
                self.government_data_details,
                &mut d.government_data_details,
            ),
            ("others told", self.others_told, &mut d.others_told),
            ("residual risk", self.residual_risk, &mut d.residual_risk),
            (
                "lessons learned",
                self.lessons_learned,
                &mut d.lessons_learned,
            ),
        ];
        for (label, new, field) in texts {
            if let Some(new) = new {
                let new = new.trim().to_string();
                if new != *field {
                    said.push(format!("{label} -> {new:?}"));
                    *field = new;
                }
            }
        }
        Ok(said)
    }
}

impl Desk {
    /// Edits incident fields. Moving `identified_at` needs a reason, which the
    /// timeline and the audit entry both keep.
    pub fn edit(&self, id: &str, edit: Edit, now: DateTime<Utc>) -> Result<Changed, DeskError> {
        let actor = self.actor.clone();
        self.change(id, now, "incident.edited", |incident| {
            let mut said = Vec::new();
            if let Some(title) = edit.title {
                let title = title.trim().to_string();
                if title.is_empty() {
                    return Err(missing("the title is empty"));
                }
                if title != incident.title {
                    said.push(format!("title '{}' -> '{}'", incident.title, title));
                    incident.title = title;
                }
            }
            if let Some(summary) = edit.summary
                && summary != incident.summary
            {
                said.push(format!("summary -> {summary:?}"));
                incident.summary = summary;
            }
            if let Some(kind) = edit.kind
                && kind != incident.kind
            {
                said.push(format!("kind {} -> {}", incident.kind, kind));
                incident.kind = kind;
            }
            if let Some(severity) = edit.severity
                && severity != incident.severity
            {
                said.push(format!("severity {} -> {}", incident.severity, severity));
                incident.severity = severity;
            }
            if let Some(flag) = edit.personal_data
                && flag != incident.personal_data
            {
                said.push(format!("personal data involved: {flag}"));
                incident.personal_data = flag;
            }
            if let Some(flag) = edit.government_data
                && flag != incident.government_data
            {
                said.push(format!("Government Data involved: {flag}"));
                incident.government_data = flag;
            }
            for asset in edit.add_assets {
                let asset = asset.trim().to_string();
                if !asset.is_empty() && !incident.affected_assets.contains(&asset) {
                    said.push(format!("affected asset added: {asset}"));
                    incident.affected_assets.push(asset);
                }
            }
            for person in edit.add_responders {
                let person = person.trim().to_string();
                if !person.is_empty() && !incident.responders.contains(&person) {
                    said.push(format!("responder added: {person}"));
                    incident.responders.push(person);
                }
            }
            if let Some((at, reason)) = edit.identified_at
                && at != incident.identified_at
            {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(missing(
                        "moving identified_at moves the 1-hour clock: give a reason (--reason)",
                    ));
                }
                if at > now {
                    return Err(invalid(format!(
                        "identified at {} is in the future",
                        stamp(at)
                    )));
                }
                if let Some(made) = incident.notification.made_at
                    && made < at
                {
                    return Err(invalid(format!(
                        "identified at {} would be after the notification made at {}: a notification cannot come before the breach was identified",
                        stamp(at),
                        stamp(made)
                    )));
                }
                said.push(format!(
                    "identified_at {} -> {} (notification due {} -> {}); reason: {}",
                    stamp(incident.identified_at),
                    stamp(at),
                    stamp(incident.notification.due_at),
                    stamp(crate::domain::clock::notification_due(at)),
                    reason
                ));
                incident.identified_at = at;
                incident.notification.due_at = crate::domain::clock::notification_due(at);
                if let Some(made) = incident.notification.made_at {
                    incident.notification.met_deadline = Some(made <= incident.notification.due_at);
                }
            }
            said.extend(
                (*edit.details)
                    .apply(&mut incident.details, incident.identified_at, now)?,
            );
            if said.is_empty() {
                return Ok(String::new());
            }
            let text = said.join("; ");
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }
}
