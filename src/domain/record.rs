//! The parts of an incident record other than its steps, requests and
//! notices: the facts for the notices and report, evidence, mitigation and
//! KPI relief, root cause, the report, the ISMS change, closure, repeats,
//! Security Tests and the timeline.

use crate::domain::terms::{EntryKind, RootCauseCategory, TestClause};
use crate::domain::uid::{entry, instant};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The facts a notice and the full-details report state, each as the
/// responder entered it; empty means "not yet known".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Details {
    /// When the breach started (distinct from when it was identified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// How it was detected.
    pub detected_how: String,
    /// Impact on the service.
    pub service_impact: String,
    /// Impact on confidentiality.
    pub confidentiality: String,
    /// Impact on integrity.
    pub integrity: String,
    /// Impact on availability.
    pub availability: String,
    /// Containment status, in the responder's words.
    pub containment: String,
    /// How many data subjects are affected (personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_subjects: Option<u64>,
    /// Categories of personal data affected.
    pub data_categories: String,
    /// Which Government Data is affected.
    pub government_data_details: String,
    /// Who else has been told (free text; the notice register has the records).
    pub others_told: String,
    /// When the next update to the other party is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_update_due: Option<DateTime<Utc>>,
    /// Residual risk after the mitigation (for the 8.2.1 (f) report).
    pub residual_risk: String,
    /// Lessons learned (for the 8.2.1 (f) report).
    pub lessons_learned: String,
}

/// The playbook (name + version) an incident was opened under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookRef {
    pub name: String,
    pub version: u32,
}

/// A piece of evidence: a note, or a file fixed by size and SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Stable id (see [`crate::domain::uid`]); derived on load when missing.
    #[serde(default)]
    pub uid: String,
    pub added_at: DateTime<Utc>,
    pub added_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Absolute path of an evidence file, as it was when recorded (when the
    /// path is not UTF-8, a lossy form for reading; `path_hex` has it exactly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The path's exact bytes in hex, only when they are not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Hex SHA-256 of the file's bytes when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// Paragraph 8.2.1 (c): a tested mitigation, and KPI relief if it hurts service levels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mitigation {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tested: bool,
    #[serde(default)]
    pub tested_how: String,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<DateTime<Utc>>,
    /// The mitigation adversely affects the KPIs.
    #[serde(default)]
    pub affects_kpis: bool,
    #[serde(default)]
    pub kpi_relief: KpiRelief,
}

/// KPI relief under 8.2.1 (c): the Client specifies the period by written notice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiRelief {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted: Option<bool>,
    /// The period the Client specified, in its words (e.g. "2026-11-28 to 2026-12-05").
    #[serde(default)]
    pub period: String,
    /// The Client's written notice setting the period (8.2.1 c).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<ReliefNotice>,
}

/// The Client's written notice of the KPI relief period under 8.2.1 (c).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReliefNotice {
    /// The date of the notice.
    pub dated: chrono::NaiveDate,
    /// The Client's reference for it (letter, email Message-ID).
    pub reference: String,
    /// The period it specifies, in its words.
    pub period: String,
}

/// Paragraph 8.2.1 (d) and (f): the root cause, and how a repeat is prevented.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootCause {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<RootCauseCategory>,
    /// The asset or component that failed, e.g. "vpn-gateway".
    #[serde(default)]
    pub component: String,
    #[serde(default)]
    pub analysis: String,
    #[serde(default)]
    pub prevention_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
}

impl RootCause {
    /// A root cause counts as recorded once it has a category and a component.
    pub fn is_recorded(&self) -> bool {
        self.category.is_some() && !self.component.trim().is_empty()
    }

    /// The key the paragraph 6.5 repeat check compares: category + normalised component.
    pub fn repeat_key(&self) -> Option<(RootCauseCategory, String)> {
        let category = self.category?;
        let component = normalise_component(&self.component);
        (!component.is_empty()).then_some((category, component))
    }
}

/// Lower-case, with runs of space, `_` and `-` folded to one `-`.
pub fn normalise_component(text: &str) -> String {
    let mut out = String::new();
    for word in text
        .split(|c: char| c.is_whitespace() || c == '_' || c == '-')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_lowercase());
    }
    out
}

/// Paragraph 8.2.1 (f): full details of the breach, with a root-cause analysis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Paragraph 8.3: the response showed the ISMS needs changing (at no cost to the Client).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsmsChange {
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: String,
}

/// How and why an incident was closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub closed_at: DateTime<Utc>,
    pub closed_by: String,
    /// Required when a required step was still open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Required steps that were open at closing.
    #[serde(default)]
    pub open_steps: Vec<String>,
    /// Closed because, on assessment, it was not a Breach of Security (nor a
    /// potential or attempted one); the reasoning is in `reason`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_a_breach: bool,
}

/// A link to an earlier incident with the same root cause: the further breach
/// 8.2.1 (d) asks the Service Provider to prevent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatLink {
    /// Stable id (see [`crate::domain::uid`]); derived on load when missing.
    #[serde(default)]
    pub uid: String,
    pub incident: String,
    pub category: RootCauseCategory,
    pub component: String,
    pub linked_at: DateTime<Utc>,
}

/// A Security Test (paragraphs 6.1-6.4): validates the ISMS, processes,
/// systems, incident response plans, patches and mitigations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityTest {
    /// Stable id (see [`crate::domain::uid`]); derived on load when missing.
    #[serde(default)]
    pub uid: String,
    /// `T1`, `T2`, ... within the incident.
    pub id: String,
    pub clause: TestClause,
    pub date: chrono::NaiveDate,
    pub scope: String,
    /// Who ran it (a person or firm).
    pub run_by: String,
    /// For a repeat test under 6.4: the test it repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats: Option<String>,
    #[serde(default)]
    pub findings: Vec<TestFinding>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// What a Security Test revealed, with its root cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFinding {
    /// Stable id (see [`crate::domain::uid`]); derived on load when missing.
    #[serde(default)]
    pub uid: String,
    pub description: String,
    pub category: RootCauseCategory,
    pub component: String,
    /// Set when a repeat test under 6.4 found the same root cause as an
    /// earlier finding or the incident's root cause (the paragraph 6.5 case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_root_cause_as: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl TestFinding {
    /// The root cause as the repeat checks compare it.
    pub fn repeat_key(&self) -> Option<(RootCauseCategory, String)> {
        let component = normalise_component(&self.component);
        (!component.is_empty()).then_some((self.category, component))
    }
}

/// One timestamped, attributed line of the incident's story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    /// Stable id (see [`crate::domain::uid`]); derived on load when missing.
    #[serde(default)]
    pub uid: String,
    pub at: DateTime<Utc>,
    pub by: String,
    #[serde(default = "note")]
    pub kind: EntryKind,
    pub text: String,
}

fn note() -> EntryKind {
    EntryKind::Note
}

entry!(TimelineEntry, "timeline", |e| vec![
    instant(&e.at),
    e.by.clone(),
    e.kind.to_string(),
    e.text.clone()
]);
entry!(Evidence, "evidence", |e| vec![
    instant(&e.added_at),
    e.added_by.clone(),
    e.note.clone().unwrap_or_default(),
    e.path.clone().unwrap_or_default(),
    e.path_hex.clone().unwrap_or_default(),
    e.sha256.clone().unwrap_or_default()
]);
entry!(RepeatLink, "repeat-link", |e| vec![
    e.incident.clone(),
    instant(&e.linked_at)
]);
entry!(SecurityTest, "security-test", |e| vec![
    e.id.clone(),
    instant(&e.recorded_at)
]);
entry!(TestFinding, "test-finding", |e| vec![
    instant(&e.recorded_at),
    e.description.clone(),
    e.component.clone()
]);
