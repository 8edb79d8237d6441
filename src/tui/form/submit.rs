//! Submission: turning what was typed into the desk job it asks for, or a
//! one-line reason why not yet. Every value is read by its [`FieldId`].

use super::{
    F, Field, FieldId, Form, FormKind, NOTICE_CHOICES, NOTICE_CHOICES_NOTIFIED, NOTIFY_AGAIN, Value,
};
use crate::desk::{Edit, MitigationInput, NotificationInput};
use crate::domain::incident::{IdentifiedBy, IncomingNotice, NewIncident, ReliefNotice};
use crate::domain::notice::NoticeKind;
use crate::domain::when::parse_past;
use crate::tui::jobs::{ComposeRequest, JobKind};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::path::PathBuf;

/// `~` and `~/...` expanded to the home directory; relative paths made
/// absolute against the current directory.
pub fn expand_path(text: &str) -> PathBuf {
    let text = text.trim();
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    let path = if text == "~" {
        home().unwrap_or_else(|| PathBuf::from(text))
    } else if let Some(rest) = text.strip_prefix("~/") {
        home().map_or_else(|| PathBuf::from(text), |h| h.join(rest))
    } else {
        PathBuf::from(text)
    };
    std::path::absolute(&path).unwrap_or(path)
}

/// Names typed in an "add" field: separated by commas (or semicolons or
/// new lines), trimmed, empty ones dropped.
fn names(text: &str) -> Vec<String> {
    text.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// Addresses typed in a Cc line.
fn cc_of(text: &str) -> Vec<String> {
    crate::address::split_addresses(text)
}
impl Form {
    /// The chosen notice on the choice form, and whether it is a second
    /// 8.1 notification.
    pub fn chosen_notice(&self) -> Option<(NoticeKind, bool)> {
        if self.kind != FormKind::EmailChoice {
            return None;
        }
        let label = self.text_of(F::Notice);
        NOTICE_CHOICES
            .iter()
            .chain(NOTICE_CHOICES_NOTIFIED.iter())
            .find(|(l, _)| *l == label)
            .map(|(l, k)| (*k, *l == NOTIFY_AGAIN))
    }

    /// The other party's notice, when the new-incident form says it
    /// identified the breach.
    fn incoming_notice(
        &self,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Result<Option<IncomingNotice>, String> {
        let by: IdentifiedBy = self.parse(F::IdentifiedBy)?;
        if by == IdentifiedBy::Us {
            return Ok(None);
        }
        if self.text_of(F::ReceivedAt).trim().is_empty() {
            return Err("Received at: say when the other party's notice reached us".into());
        }
        let from = self.text_of(F::ReceivedFrom).trim().to_string();
        if from.is_empty() {
            return Err("Received from: say who gave the notice".into());
        }
        let reference = self.text_of(F::Reference).trim().to_string();
        Ok(Some(IncomingNotice {
            received_at: self.when(F::ReceivedAt, now, tz)?,
            from,
            channel: self.parse(F::Channel)?,
            reference: (!reference.is_empty()).then_some(reference),
            source: None,
        }))
    }

    /// The field `id`, if this form has it (every read goes through here).
    pub(super) fn get(&self, id: FieldId) -> Option<&Field> {
        #[cfg(test)]
        self.reads.borrow_mut().insert(id);
        self.fields.iter().find(|f| f.id == id)
    }

    pub(super) fn text_of(&self, id: FieldId) -> String {
        self.get(id)
            .map(|f| match &f.value {
                Value::Text(s) | Value::Multi(s) => s.clone(),
                Value::Choice { options, index } => {
                    options.get(*index).copied().unwrap_or("").to_string()
                }
                Value::Flag(on) => on.to_string(),
            })
            .unwrap_or_default()
    }

    fn flag_of(&self, id: FieldId) -> bool {
        self.get(id).is_some_and(|f| f.value == Value::Flag(true))
    }

    fn parse<T: std::str::FromStr<Err = String>>(&self, id: FieldId) -> Result<T, String> {
        self.text_of(id)
            .parse()
            .map_err(|e| format!("{}: {e}", id.label()))
    }

    /// The edit form's incident facts, as typed: only changed fields are
    /// sent; an emptied time or number clears it.
    fn details_edit(&self, now: DateTime<Utc>, tz: Tz) -> Result<crate::desk::DetailsEdit, String> {
        let text = |id: FieldId| {
            self.changed(id)
                .then(|| self.text_of(id).trim().to_string())
        };
        let started_at = if self.changed(F::StartedAt) {
            Some(self.optional_when(F::StartedAt, now, tz)?)
        } else {
            None
        };
        let next_update_due = if self.changed(F::NextUpdate) {
            let t = self.text_of(F::NextUpdate);
            if t.trim().is_empty() {
                Some(None)
            } else {
                Some(Some(
                    crate::domain::when::parse_future(&t, now, tz)
                        .map_err(|e| format!("Next update: {e}"))?,
                ))
            }
        } else {
            None
        };
        let data_subjects = if self.changed(F::DataSubjects) {
            let t = self.text_of(F::DataSubjects);
            if t.trim().is_empty() {
                Some(None)
            } else {
                Some(Some(t.trim().parse::<u64>().map_err(|_| {
                    format!("Data subjects: '{}' is not a whole number", t.trim())
                })?))
            }
        } else {
            None
        };
        Ok(crate::desk::DetailsEdit {
            started_at,
            detected_how: text(F::HowDetected),
            service_impact: text(F::ServiceImpact),
            confidentiality: text(F::Confidentiality),
            integrity: text(F::Integrity),
            availability: text(F::Availability),
            containment: text(F::Containment),
            data_subjects,
            data_categories: text(F::Categories),
            government_data_details: text(F::GovernmentDataIs),
            others_told: text(F::OthersTold),
            next_update_due,
            residual_risk: text(F::ResidualRisk),
            lessons_learned: text(F::Lessons),
        })
    }

    fn when(&self, id: FieldId, now: DateTime<Utc>, tz: Tz) -> Result<DateTime<Utc>, String> {
        parse_past(&self.text_of(id), now, tz).map_err(|e| format!("{}: {e}", id.label()))
    }

    fn optional_when(
        &self,
        id: FieldId,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Result<Option<DateTime<Utc>>, String> {
        if self.text_of(id).trim().is_empty() {
            Ok(None)
        } else {
            self.when(id, now, tz).map(Some)
        }
    }

    fn changed(&self, id: FieldId) -> bool {
        self.get(id).is_some_and(|f| f.value != f.initial)
    }

    /// The Client's written relief notice, when its date or reference was
    /// changed (both, and the period, are then needed).
    fn relief_notice(&self) -> Result<Option<ReliefNotice>, String> {
        if !self.changed(F::NoticeDate) && !self.changed(F::NoticeRef) {
            return Ok(None);
        }
        let date = self.text_of(F::NoticeDate).trim().to_string();
        let dated = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
            .map_err(|_| format!("Notice date: '{date}' is not a date like 2026-12-01"))?;
        let reference = self.text_of(F::NoticeRef).trim().to_string();
        if reference.is_empty() {
            return Err("Notice ref: give the Client's reference for its notice".into());
        }
        let period = self.text_of(F::ReliefPeriod).trim().to_string();
        if period.is_empty() {
            return Err("Relief period: give the period the notice sets".into());
        }
        Ok(Some(ReliefNotice {
            dated,
            reference,
            period,
        }))
    }

    fn optional_path(&self, id: FieldId) -> Option<PathBuf> {
        let t = self.text_of(id).trim().to_string();
        (!t.is_empty()).then(|| PathBuf::from(t))
    }

    /// The desk job this form asks for, or why the input is not usable yet.
    /// `id` is the incident on screen (unused for a new incident).
    pub fn job(&self, id: &str, now: DateTime<Utc>, tz: Tz) -> Result<JobKind, String> {
        let id = id.to_string();
        let nonempty = |id: FieldId| {
            let t = self.text_of(id).trim().to_string();
            if t.is_empty() {
                Err(format!("{} is empty", id.label()))
            } else {
                Ok(t)
            }
        };
        Ok(match &self.kind {
            FormKind::NewIncident => {
                let fields = NewIncident {
                    title: nonempty(F::Title)?,
                    summary: String::new(),
                    kind: self.parse(F::Kind)?,
                    severity: self.parse(F::Severity)?,
                    personal_data: self.flag_of(F::PersonalData),
                    government_data: false,
                    affected_assets: Vec::new(),
                    identified_at: self.when(F::IdentifiedAt, now, tz)?,
                };
                match self.incoming_notice(now, tz)? {
                    None => JobKind::Open(fields),
                    // The other party's notice may not say when it identified
                    // the breach: unless told, take the receipt time.
                    Some(notice) if !self.changed(F::IdentifiedAt) => JobKind::OpenOnNotice(
                        NewIncident {
                            identified_at: notice.received_at,
                            ..fields
                        },
                        notice,
                    ),
                    Some(notice) => JobKind::OpenOnNotice(fields, notice),
                }
            }
            FormKind::Log => JobKind::Log {
                id,
                text: nonempty(F::Entry)?,
                at: self.when(F::At, now, tz)?,
            },
            FormKind::AddRequest => JobKind::AddRequest {
                id,
                requester: self.parse(F::DeliverTo)?,
                name: self.text_of(F::Name),
                what: nonempty(F::What)?,
                received_at: self.when(F::ReceivedAt, now, tz)?,
            },
            FormKind::Supply { request } => JobKind::Supply {
                id,
                request: request.clone(),
                at: self.when(F::SuppliedAt, now, tz)?,
                how: nonempty(F::How)?,
            },
            FormKind::RootCause => JobKind::RootCause {
                id,
                category: self.parse(F::Category)?,
                component: nonempty(F::Component)?,
                analysis: Some(self.text_of(F::Analysis)),
                prevention: self
                    .text_of(F::Prevention)
                    .split(';')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            },
            FormKind::Mitigation => JobKind::Mitigation {
                id,
                input: MitigationInput {
                    description: Some(self.text_of(F::What).trim().to_string()),
                    tested_how: Some(self.text_of(F::TestedHow).trim().to_string()),
                    tested: Some(self.flag_of(F::Tested)),
                    affects_kpis: Some(self.flag_of(F::AffectsKpis)),
                    relief_period: Some(self.text_of(F::ReliefPeriod).trim().to_string()),
                    relief_requested_at: if self.changed(F::ReliefAskedAt) {
                        self.optional_when(F::ReliefAskedAt, now, tz)?
                    } else {
                        None
                    },
                    relief_granted: match self.text_of(F::ReliefGranted).as_str() {
                        "granted" => Some(true),
                        "refused" => Some(false),
                        _ => None,
                    },
                    evidence_file: self.optional_path(F::EvidenceFile),
                    relief_notice: self.relief_notice()?,
                },
            },
            FormKind::RcaRequired => {
                let note = self.text_of(F::Note).trim().to_string();
                JobKind::RcaRequired {
                    id,
                    required: self.parse(F::RcaRequired)?,
                    note: (!note.is_empty()).then_some(note),
                }
            }
            FormKind::Isms => JobKind::Isms {
                id,
                required: self.flag_of(F::Required),
                description: self.text_of(F::Description),
            },
            FormKind::Notify => {
                let reference = self.text_of(F::Reference).trim().to_string();
                let delay = self.text_of(F::DelayReason).trim().to_string();
                JobKind::Notify {
                    id,
                    input: NotificationInput {
                        at: self.when(F::When, now, tz)?,
                        channel: self.parse(F::Channel)?,
                        recipient: nonempty(F::To)?,
                        reference: (!reference.is_empty()).then_some(reference),
                        server_reply: None,
                        delay_reason: (!delay.is_empty()).then_some(delay),
                    },
                }
            }
            FormKind::StepNote { step } => JobKind::Step {
                id,
                step: step.clone(),
                status: None,
                note: Some(nonempty(F::Note)?),
                evidence: None,
            },
            FormKind::StepEvidence { step } => {
                let note = self.text_of(F::Note).trim().to_string();
                JobKind::Step {
                    id,
                    step: step.clone(),
                    status: None,
                    note: (!note.is_empty()).then_some(note),
                    evidence: Some(PathBuf::from(nonempty(F::File)?)),
                }
            }
            FormKind::EmailChoice => {
                return Err("choose a notice".into());
            }
            FormKind::EmailNotification { late, again } => {
                // A second notification asks why again instead of why late.
                let delay = if *again {
                    String::new()
                } else {
                    self.text_of(F::DelayReason).trim().to_string()
                };
                if *late && delay.is_empty() {
                    return Err(
                        "Delay reason: the notification is late; give the reason for the delay"
                            .into(),
                    );
                }
                let again_reason = if *again {
                    Some(nonempty(F::AgainBecause).map_err(|_| {
                        "Again because: an 8.1 notification is already recorded; say why another must go"
                            .to_string()
                    })?)
                } else {
                    None
                };
                JobKind::Compose(ComposeRequest {
                    to: Some(nonempty(F::To)?),
                    cc: Some(cc_of(&self.text_of(F::Cc))),
                    first_actions: self.text_of(F::FirstActions).trim().to_string(),
                    delay_reason: (!delay.is_empty()).then_some(delay),
                    again: again_reason,
                    ..ComposeRequest::new(&id, NoticeKind::Notification)
                })
            }
            FormKind::EmailSupply { request } => {
                let files: Vec<PathBuf> = self
                    .text_of(F::Files)
                    .split(';')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(expand_path)
                    .collect();
                if files.is_empty() {
                    return Err("Files: give at least one file to attach".into());
                }
                JobKind::Compose(ComposeRequest {
                    request: Some(request.clone()),
                    files,
                    cc: Some(cc_of(&self.text_of(F::Cc))),
                    ..ComposeRequest::new(&id, NoticeKind::DataSupply)
                })
            }
            FormKind::EmailUpdate => JobKind::Compose(ComposeRequest {
                message: nonempty(F::Message)?,
                cc: Some(cc_of(&self.text_of(F::Cc))),
                ..ComposeRequest::new(&id, NoticeKind::Update)
            }),
            FormKind::Close { .. } if self.flag_of(F::NotABreach) => {
                let reasoning = self.text_of(F::Reason).trim().to_string();
                if reasoning.is_empty() {
                    return Err(
                        "Reason: say why it is not a Breach of Security (the reasoning is kept)"
                            .into(),
                    );
                }
                JobKind::CloseNotABreach { id, reasoning }
            }
            FormKind::EmailReport => JobKind::Compose(ComposeRequest {
                cc: Some(cc_of(&self.text_of(F::Cc))),
                ..ComposeRequest::new(&id, NoticeKind::FullReport)
            }),
            FormKind::CancelNotice { notice } => JobKind::CancelNotice {
                id: notice.clone(),
                reason: nonempty(F::Reason)?,
            },
            FormKind::Close { open_steps } => {
                let reason = self.text_of(F::Reason).trim().to_string();
                if !open_steps.is_empty() && reason.is_empty() {
                    return Err(format!(
                        "Reason: required steps {} are still open; say why you close anyway",
                        open_steps.join(", ")
                    ));
                }
                JobKind::Close {
                    id,
                    reason: (!reason.is_empty()).then_some(reason),
                }
            }
            // An empty To takes the role from whoever holds it.
            FormKind::AssignRole => match self.text_of(F::To).trim() {
                "" => JobKind::UnassignRole {
                    id,
                    role: self.parse(F::Role)?,
                },
                to => JobKind::AssignRole {
                    id,
                    role: self.parse(F::Role)?,
                    to: to.to_string(),
                },
            },
            FormKind::HandOver => JobKind::HandOver {
                id,
                to: nonempty(F::To)?,
                note: nonempty(F::Note)?,
            },
            FormKind::Reopen => JobKind::Reopen {
                id,
                reason: nonempty(F::Reason)?,
            },
            FormKind::Edit => {
                let moved = self.changed(F::IdentifiedAt);
                let identified_at = if moved {
                    let reason = self.text_of(F::WhyMoved).trim().to_string();
                    if reason.is_empty() {
                        return Err(
                            "Why moved: moving Identified at moves the 1-hour clock; give a reason"
                                .into(),
                        );
                    }
                    Some((self.when(F::IdentifiedAt, now, tz)?, reason))
                } else {
                    None
                };
                JobKind::Edit {
                    id,
                    edit: Edit {
                        title: Some(nonempty(F::Title)?),
                        summary: self
                            .changed(F::Summary)
                            .then(|| self.text_of(F::Summary).trim().to_string()),
                        add_assets: names(&self.text_of(F::AddAssets)),
                        add_responders: names(&self.text_of(F::AddResponders)),
                        kind: Some(self.parse(F::Kind)?),
                        severity: Some(self.parse(F::Severity)?),
                        personal_data: Some(self.flag_of(F::PersonalData)),
                        government_data: Some(self.flag_of(F::GovernmentData)),
                        identified_at,
                        details: Box::new(self.details_edit(now, tz)?),
                    },
                }
            }
        })
    }
}
