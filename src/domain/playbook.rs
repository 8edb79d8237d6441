//! Playbooks: the response workflow as data (see `playbooks/README.md`).
//!
//! A playbook is parsed and checked here, from text; finding the files is the
//! job of [`crate::playbooks`]. When an incident is opened, each step is
//! copied into the incident ([`Step`]), so editing a playbook later never
//! rewrites an incident's history.

use crate::domain::calendar::WorkingCalendar;
use crate::domain::incident::Incident;
use crate::domain::record::PlaybookRef;
pub use crate::domain::step::{
    ClockStart, ClockUnit, CloseCheck, Condition, Fact, RecordField, Step, StepClock, StepStatus,
};
use crate::domain::terms::{IdentifiedBy, RcaRequired};
use crate::text::line_col;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use toml::Spanned;

/// A checked playbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Playbook {
    pub name: String,
    pub version: u32,
    pub title: String,
    /// The clause it implements, e.g. "Schedule 6, paragraph 8".
    pub clause: String,
    pub description: String,
    /// Where it came from: "built-in", or a file path.
    pub source: String,
    pub steps: Vec<PlaybookStep>,
}

/// One step of a playbook.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybookStep {
    pub id: String,
    pub title: String,
    pub guidance: String,
    pub required: bool,
    pub fills: Vec<RecordField>,
    pub clock: Option<StepClock>,
    pub depends_on: Vec<String>,
    pub when: Vec<Condition>,
    pub checks: Vec<CloseCheck>,
}

// What a step's conditions and close-out checks mean for an incident. The
// types live in `step` (an incident keeps them); their meaning needs the
// whole record, so it is worked out here.

impl CloseCheck {
    /// Whether the incident passes this check; `audit_entries` is how many
    /// audit-log entries name the incident.
    pub fn passes(self, incident: &Incident, audit_entries: usize) -> bool {
        match self {
            CloseCheck::AuditEntries => audit_entries > 0,
            CloseCheck::RootCauseRecorded => incident.root_cause.is_recorded(),
            CloseCheck::ReportSent => incident.report.sent_at.is_some(),
            CloseCheck::Notified => incident.notification.made_at.is_some(),
            CloseCheck::RequestsClosed => incident.data_requests.iter().all(|r| !r.is_open()),
            CloseCheck::NoticeExchanged => match incident.identified_by {
                IdentifiedBy::Us => incident.notification.made_at.is_some(),
                IdentifiedBy::OtherParty => incident.notice_received.is_some(),
            },
            CloseCheck::RcaWhereRequired => match incident.rca_required {
                RcaRequired::Unknown => false,
                RcaRequired::No => true,
                RcaRequired::Yes => {
                    incident.root_cause.is_recorded()
                        && !incident.root_cause.analysis.trim().is_empty()
                }
            },
            CloseCheck::RcaDecided => incident.rca_required != RcaRequired::Unknown,
        }
    }
}

impl Condition {
    /// Whether the condition holds for the incident.
    pub fn holds(&self, incident: &Incident) -> bool {
        let fact = match self.fact {
            Fact::PersonalData => incident.personal_data,
            Fact::GovernmentData => incident.government_data,
            Fact::Kind(kind) => incident.kind == kind,
            Fact::Role(role) => incident.our_role == role,
            Fact::IdentifiedBy(by) => incident.identified_by == by,
        };
        fact != self.negated
    }
}

/// A playbook that was refused, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PlaybookError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlaybook {
    name: Spanned<String>,
    version: Spanned<u32>,
    title: String,
    clause: String,
    #[serde(default)]
    description: String,
    #[serde(rename = "step", default)]
    steps: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    guidance: String,
    #[serde(default = "yes")]
    required: bool,
    #[serde(default)]
    fills: Vec<RecordField>,
    #[serde(default)]
    clock: Option<Spanned<StepClock>>,
    #[serde(default)]
    depends_on: Vec<Spanned<String>>,
    #[serde(default)]
    when: Vec<Condition>,
    #[serde(default)]
    checks: Vec<CloseCheck>,
}

fn yes() -> bool {
    true
}

impl Playbook {
    /// Parses and checks a playbook. `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Playbook, PlaybookError> {
        let at = |offset: usize, message: String| {
            let (line, column) = line_col(text, offset);
            PlaybookError {
                file: file.to_string(),
                line,
                column,
                message,
            }
        };
        let raw: RawPlaybook = toml::from_str(text).map_err(|e| {
            at(
                e.span().map(|s| s.start).unwrap_or(0),
                e.message().trim().to_string(),
            )
        })?;
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(at(
                raw.name.span().start,
                format!("name '{name}' must be non-empty letters, digits, '-', '_' or '.'"),
            ));
        }
        if *raw.version.get_ref() == 0 {
            return Err(at(raw.version.span().start, "version starts at 1".into()));
        }
        if raw.steps.is_empty() {
            return Err(at(0, "a playbook needs at least one [[step]]".into()));
        }

        let mut first_seen: HashMap<String, usize> = HashMap::new();
        for step in &raw.steps {
            let id = step.id.get_ref().trim();
            if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(at(
                    step.id.span().start,
                    format!("step id '{id}' must be non-empty with no spaces"),
                ));
            }
            if step.title.get_ref().trim().is_empty() {
                return Err(at(
                    step.title.span().start,
                    format!("step {id} has an empty title"),
                ));
            }
            if let Some(first) = first_seen.get(id) {
                let (line, _) = line_col(text, *first);
                return Err(at(
                    step.id.span().start,
                    format!("duplicate step id '{id}' (first used at line {line})"),
                ));
            }
            first_seen.insert(id.to_string(), step.id.span().start);
        }

        // Edges: depends_on, plus a clock that starts at another step's completion.
        let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for step in &raw.steps {
            let id = step.id.get_ref().trim().to_string();
            let mut after = Vec::new();
            for dep in &step.depends_on {
                let dep_id = dep.get_ref().trim();
                if !first_seen.contains_key(dep_id) {
                    return Err(at(
                        dep.span().start,
                        format!(
                            "step {id} depends on '{dep_id}', which is not a step of this playbook"
                        ),
                    ));
                }
                if dep_id == id {
                    return Err(at(dep.span().start, format!("step {id} depends on itself")));
                }
                after.push(dep_id.to_string());
            }
            if let Some(clock) = &step.clock {
                let offset = clock.span().start;
                let clock = clock.get_ref();
                match &clock.from {
                    ClockStart::StepDone(other) if other == &id => {
                        return Err(at(
                            offset,
                            format!(
                                "step {id}: its clock starts when it is itself done, so it can never run"
                            ),
                        ));
                    }
                    ClockStart::StepDone(other) if !first_seen.contains_key(other.as_str()) => {
                        return Err(at(
                            offset,
                            format!(
                                "step {id}: clock starts at step '{other}', which is not a step of this playbook"
                            ),
                        ));
                    }
                    ClockStart::StepDone(other) => after.push(other.clone()),
                    ClockStart::RequestReceived
                        if !step.fills.contains(&RecordField::DataRequests) =>
                    {
                        return Err(at(
                            offset,
                            format!(
                                "step {id}: a clock from request-received needs fills = [\"data-requests\"]"
                            ),
                        ));
                    }
                    _ => {}
                }
            }
            edges.insert(id, after);
        }
        if let Some(cycle) = find_cycle(&edges) {
            let start = first_seen.get(&cycle[0]).copied().unwrap_or(0);
            return Err(at(
                start,
                format!("dependency cycle: {}", cycle.join(" -> ")),
            ));
        }

        Ok(Playbook {
            name,
            version: *raw.version.get_ref(),
            title: raw.title,
            clause: raw.clause,
            description: raw.description,
            source: file.to_string(),
            steps: raw
                .steps
                .into_iter()
                .map(|s| PlaybookStep {
                    id: s.id.into_inner().trim().to_string(),
                    title: s.title.into_inner().trim().to_string(),
                    guidance: s.guidance.trim().to_string(),
                    required: s.required,
                    fills: s.fills,
                    clock: s.clock.map(Spanned::into_inner),
                    depends_on: s
                        .depends_on
                        .into_iter()
                        .map(|d| d.into_inner().trim().to_string())
                        .collect(),
                    when: s.when,
                    checks: s.checks,
                })
                .collect(),
        })
    }

    /// The reference an incident keeps.
    pub fn reference(&self) -> PlaybookRef {
        PlaybookRef {
            name: self.name.clone(),
            version: self.version,
        }
    }

    /// The steps as copied into an incident (status todo).
    pub fn instantiate(&self) -> Vec<Step> {
        self.steps
            .iter()
            .map(|s| Step {
                id: s.id.clone(),
                playbook: self.name.clone(),
                title: s.title.clone(),
                guidance: s.guidance.clone(),
                required: s.required,
                status: StepStatus::Todo,
                due_at: None,
                clock: s.clock.clone(),
                depends_on: s.depends_on.clone(),
                fills: s.fills.clone(),
                when: s.when.clone(),
                checks: s.checks.clone(),
                who: None,
                updated_at: None,
                completed_at: None,
                notes: Vec::new(),
                evidence: Vec::new(),
            })
            .collect()
    }
}

/// A cycle in `edges` (step -> steps it waits for), as a path that returns to its start.
fn find_cycle(edges: &BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit(
        node: &str,
        edges: &BTreeMap<String, Vec<String>>,
        marks: &mut HashMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Visiting) => {
                let start = path.iter().position(|p| p == node).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_string(), Mark::Visiting);
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = HashMap::new();
    for node in edges.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(node, edges, &mut marks, &mut path) {
            return Some(cycle);
        }
    }
    None
}

impl Step {
    /// Whether the step's conditions hold for the incident (a step with no
    /// conditions always applies).
    pub fn applies(&self, incident: &Incident) -> bool {
        self.when.iter().all(|c| c.holds(incident))
    }
}

/// Copies the playbooks' steps into a new incident and records which
/// playbooks (name + version) it was opened under. A step id used by two
/// playbooks is kept from the first only.
pub fn apply_playbooks(
    incident: &mut Incident,
    playbooks: &[Playbook],
    calendar: &WorkingCalendar,
) {
    for playbook in playbooks {
        if incident.playbooks.iter().any(|p| p.name == playbook.name) {
            continue;
        }
        incident.playbooks.push(playbook.reference());
        for step in playbook.instantiate() {
            if incident.step(&step.id).is_none() {
                incident.steps.push(step);
            }
        }
    }
    refresh_due_times(incident, calendar);
}

/// Recomputes every step's due time from its clock and the record: call after
/// any change (a clock start moved, a step done, a request added).
pub fn refresh_due_times(incident: &mut Incident, calendar: &WorkingCalendar) {
    let completed: HashMap<String, DateTime<Utc>> = incident
        .steps
        .iter()
        .filter_map(|s| Some((s.id.clone(), s.completed_at?)))
        .collect();
    let earliest_open_request = incident
        .data_requests
        .iter()
        .filter(|r| r.is_open())
        .map(|r| r.due_at)
        .min();
    let identified = incident.identified_at;
    let aware = incident.aware_at();
    let logged = incident.logged_at;
    for step in &mut incident.steps {
        step.due_at = step.clock.as_ref().and_then(|clock| match &clock.from {
            ClockStart::Identified => Some(clock.due(identified, calendar)),
            ClockStart::Logged => Some(clock.due(logged, calendar)),
            ClockStart::Aware => Some(clock.due(aware, calendar)),
            ClockStart::RequestReceived => earliest_open_request,
            ClockStart::StepDone(other) => completed.get(other).map(|t| clock.due(*t, calendar)),
        });
    }
}

/// The steps still to do, most pressing first: open, required and switched
/// on, ordered by due time (steps with no clock after those with one), then
/// by playbook order.
pub fn open_steps_by_urgency(incident: &Incident) -> Vec<&Step> {
    let mut open: Vec<(usize, &Step)> = incident
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.required && s.is_open() && s.applies(incident))
        .collect();
    open.sort_by_key(|(index, s)| (s.due_at.is_none(), s.due_at, *index));
    open.into_iter().map(|(_, s)| s).collect()
}

/// The incident's next action: the first open required step by due time.
pub fn next_action(incident: &Incident) -> Option<&Step> {
    open_steps_by_urgency(incident).into_iter().next()
}

/// Steps this one waits for that are not done yet.
pub fn waiting_on<'a>(incident: &'a Incident, step: &Step) -> Vec<&'a str> {
    step.depends_on
        .iter()
        .filter_map(|dep| incident.step(dep))
        .filter(|dep| dep.is_open() && dep.applies(incident))
        .map(|dep| dep.id.as_str())
        .collect()
}

/// The steps a responder is shown: those whose conditions hold, and any
/// other step already worked on (so nothing done is hidden after, say, the
/// personal-data flag changes). Steps for the other role or the other
/// identifier (e.g. the Client's steps, for a Service Provider) are left out.
pub fn shown_steps(incident: &Incident) -> Vec<&Step> {
    incident
        .steps
        .iter()
        .filter(|s| s.applies(incident) || s.status != StepStatus::Todo)
        .collect()
}

#[cfg(test)]
mod tests;
