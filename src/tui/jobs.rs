//! Work for the desk (disk and fsync): described by the app, run off the UI
//! task, and reported back as an [`Action::Done`] on the same channel.

use crate::desk::{Desk, MitigationInput, NotificationInput};
use crate::domain::incident::{Incident, NewIncident, Requester, RootCauseCategory, StepStatus};
use crate::domain::summary::{IncidentSummary, sort_by_urgency};
use crate::tui::app::Action;
use chrono::{DateTime, Utc};

/// A change or a read, with the instant it was asked for.
#[derive(Debug, Clone)]
pub struct Job {
    pub seq: u64,
    pub now: DateTime<Utc>,
    pub kind: JobKind,
}

#[derive(Debug, Clone)]
pub enum JobKind {
    LoadBoard,
    LoadIncident(String),
    Open(NewIncident),
    Log {
        id: String,
        text: String,
    },
    AddRequest {
        id: String,
        requester: Requester,
        name: String,
        what: String,
        received_at: DateTime<Utc>,
    },
    Supply {
        id: String,
        request: String,
        at: DateTime<Utc>,
        how: String,
    },
    RootCause {
        id: String,
        category: RootCauseCategory,
        component: String,
        analysis: Option<String>,
        prevention: Vec<String>,
    },
    Mitigation {
        id: String,
        input: MitigationInput,
    },
    Isms {
        id: String,
        required: bool,
        description: String,
    },
    /// A step's status (None keeps it) and/or a note.
    Step {
        id: String,
        step: String,
        status: Option<StepStatus>,
        note: Option<String>,
    },
    Notify {
        id: String,
        input: NotificationInput,
    },
}

/// What a finished job brings back.
#[derive(Debug, Clone)]
pub enum Outcome {
    Board {
        summaries: Vec<IncidentSummary>,
        problems: Vec<String>,
    },
    Incident {
        incident: Box<Incident>,
        /// Loud warnings (paragraph 6.5 repeat root cause).
        warnings: Vec<String>,
        /// "Saved: ..." for the status line; None for a plain load.
        message: Option<String>,
        /// A new incident: show it.
        opened: bool,
    },
}

/// The result of job `seq`.
#[derive(Debug, Clone)]
pub struct Done {
    pub seq: u64,
    pub result: Result<Outcome, String>,
}

/// Every incident, most urgent first, and the load problems.
pub fn board(desk: &Desk) -> Outcome {
    let (mut summaries, problems) = desk.summaries();
    sort_by_urgency(&mut summaries);
    Outcome::Board {
        summaries,
        problems,
    }
}

impl Job {
    /// Does the work (blocking: disk, locks, fsync) and says how it went.
    pub fn run(self, desk: &Desk) -> Action {
        let now = self.now;
        let saved = |message: &str, changed: crate::desk::Changed| Outcome::Incident {
            incident: Box::new(changed.incident),
            warnings: changed.warnings,
            message: Some(message.to_string()),
            opened: false,
        };
        let result = match self.kind {
            JobKind::LoadBoard => Ok(board(desk)),
            JobKind::LoadIncident(id) => desk.load(&id).map(|incident| Outcome::Incident {
                incident: Box::new(incident),
                warnings: Vec::new(),
                message: None,
                opened: false,
            }),
            JobKind::Open(fields) => {
                desk.open_incident(fields, now)
                    .map(|incident| Outcome::Incident {
                        message: Some(format!(
                            "Opened {}: the 1-hour clock is running",
                            incident.id
                        )),
                        incident: Box::new(incident),
                        warnings: Vec::new(),
                        opened: true,
                    })
            }
            JobKind::Log { id, text } => desk.log(&id, &text, now).map(|c| saved("Logged", c)),
            JobKind::AddRequest {
                id,
                requester,
                name,
                what,
                received_at,
            } => desk
                .add_request(&id, requester, &name, &what, received_at, now)
                .map(|c| saved("Data request added", c)),
            JobKind::Supply {
                id,
                request,
                at,
                how,
            } => desk
                .supply_request(&id, &request, at, &how, &[], now)
                .map(|c| saved("Data request marked supplied", c)),
            JobKind::RootCause {
                id,
                category,
                component,
                analysis,
                prevention,
            } => desk
                .record_root_cause(&id, category, &component, analysis, prevention, now)
                .map(|c| saved("Root cause recorded", c)),
            JobKind::Mitigation { id, input } => desk
                .set_mitigation(&id, input, now)
                .map(|c| saved("Mitigation saved", c)),
            JobKind::Isms {
                id,
                required,
                description,
            } => desk
                .set_isms_change(&id, required, &description, now)
                .map(|c| saved("ISMS change saved", c)),
            JobKind::Step {
                id,
                step,
                status,
                note,
            } => {
                let status = match status {
                    Some(s) => Ok(s),
                    None => desk.load(&id).and_then(|i| {
                        i.step(&step).map(|s| s.status).ok_or_else(|| {
                            crate::desk::DeskError::Refused(format!("no step '{step}'"))
                        })
                    }),
                };
                status
                    .and_then(|status| desk.set_step(&id, &step, status, note, None, now))
                    .map(|c| saved(&format!("Step {step} saved"), c))
            }
            JobKind::Notify { id, input } => desk
                .record_notification(&id, input, now)
                .map(|c| saved("Notification recorded", c)),
        };
        Action::Done(Done {
            seq: self.seq,
            result: result.map_err(|e| crate::text::one_line(&e.to_string())),
        })
    }
}
