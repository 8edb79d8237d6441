//! Notice templates: `Subject: ...`, a blank line, then a plain-text body with
//! named fields such as `{incident.id}` or `{identified_at}`.
//!
//! The built-in templates live in `assets/templates/` and are compiled in. A
//! file of the same name in `<config dir>/templates/` replaces the built-in
//! one. `{{` and `}}` stand for literal braces. A field name the template
//! language does not know is an error naming the template file and line, so a
//! typo is caught when the notice is composed, not after it is sent.

use super::error::MailError;
use crate::domain::notice::NoticeKind;
use crate::domain::incident::{BreachKind, Incident, RequestStatus, Requester};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::collections::BTreeMap;
use std::path::Path;

/// Every field a template may use.
pub const FIELDS: &[&str] = &[
    "incident.id",
    "incident.title",
    "incident.summary",
    "incident.severity",
    "kind",
    "identified_at",
    "logged_at",
    "notification.due_at",
    "notification.made_at",
    "assets",
    "first_actions",
    "responder.name",
    "responder.email",
    "our_role",
    "other_party",
    "delay_reason",
    "delay_note",
    "root_cause.category",
    "root_cause.component",
    "root_cause.analysis",
    "root_cause.prevention",
    "mitigation.description",
    "mitigation.tested",
    "data_requests",
    "request.id",
    "request.requester",
    "request.what",
    "request.received_at",
    "request.due_at",
    "attachments",
    "missing",
    "message",
    "now",
    "opening",
    "breach_words",
    "followup",
    "contract",
    "contact",
    "responder.phone",
    "started_at",
    "detected_how",
    "impact",
    "containment",
    "personal_data",
    "government_data",
    "others_told",
    "next_update",
    "not_yet_known",
    "request.basis",
    "request.recipient",
    "rca",
    "relief",
    "isms_change",
    "notices",
    "residual_risk",
    "lessons_learned",
];

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// Where it came from, for error messages (a path, or `built-in:<name>`).
    pub source: String,
    pub subject: String,
    pub body: String,
}

/// The built-in text of a template.
pub fn builtin(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Notification => include_str!("../../assets/templates/notification.txt"),
        NoticeKind::DataSupply => include_str!("../../assets/templates/data-supply.txt"),
        NoticeKind::FullReport => include_str!("../../assets/templates/full-report.txt"),
        NoticeKind::Update => include_str!("../../assets/templates/update.txt"),
    }
}

/// The file name of a kind's template, e.g. `notification.txt`.
pub fn file_name(kind: NoticeKind) -> String {
    format!("{}.txt", kind.as_str())
}

/// The template for `kind`: `<override_dir>/<kind>.txt` when it exists,
/// otherwise the built-in one. `override_dir` is `<config dir>/templates`.
pub fn load(kind: NoticeKind, override_dir: Option<&Path>) -> Result<Template, MailError> {
    let name = file_name(kind);
    if let Some(dir) = override_dir {
        let path = dir.join(&name);
        match crate::safe_read::read_user_file(&path) {
            Ok(text) => return parse(&text, &path.display().to_string()),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(MailError::io(path, e.into_io())),
        }
    }
    parse(builtin(kind), &format!("built-in:{name}"))
}

/// Parses and checks template text; `source` names it in errors.
pub fn parse(text: &str, source: &str) -> Result<Template, MailError> {
    let text = text.replace("\r\n", "\n");
    let err = |line: usize, message: String| MailError::Template {
        file: source.to_string(),
        line,
        message,
    };
    let (first, rest) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let subject = first
        .strip_prefix("Subject:")
        .ok_or_else(|| err(1, "the first line must be 'Subject: ...'".into()))?
        .trim()
        .to_string();
    let rest = match rest.split_once('\n') {
        Some((blank, body)) if blank.trim().is_empty() => body,
        None if rest.trim().is_empty() => "",
        _ => return Err(err(2, "the second line must be blank".into())),
    };
    let template = Template {
        source: source.to_string(),
        subject,
        body: rest.to_string(),
    };
    // Check every placeholder now, with its line.
    scan(&template.subject, |name| {
        check_name(name).map_err(|m| err(1, m))
    })?;
    for (i, line) in template.body.lines().enumerate() {
        scan(line, |name| check_name(name).map_err(|m| err(3 + i, m)))?;
    }
    Ok(template)
}

fn check_name(name: &str) -> Result<(), String> {
    if FIELDS.contains(&name) {
        Ok(())
    } else {
        Err(format!(
            "unknown field {{{name}}}; known fields: {}",
            FIELDS.join(", ")
        ))
    }
}

/// Walks `text`, calling `on_field` for each `{name}`; returns the text with
/// each field replaced by what `on_field` returns.
fn scan(
    text: &str,
    mut on_field: impl FnMut(&str) -> Result<(), MailError>,
) -> Result<(), MailError> {
    substitute(text, |name| on_field(name).map(|()| String::new())).map(|_| ())
}

fn substitute(
    text: &str,
    mut value: impl FnMut(&str) -> Result<String, MailError>,
) -> Result<String, MailError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(['{', '}']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if tail.starts_with('{') {
            match tail.find('}') {
                Some(end) => {
                    out.push_str(&value(tail[1..end].trim())?);
                    rest = &tail[end + 1..];
                }
                None => {
                    out.push_str(tail);
                    rest = "";
                }
            }
        } else {
            out.push('}');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

impl Template {
    /// Fills the fields in; returns `(subject, body)`. Fields missing from
    /// `fields` render as empty text.
    pub fn render(
        &self,
        fields: &BTreeMap<&'static str, String>,
    ) -> Result<(String, String), MailError> {
        let get = |name: &str| -> Result<String, MailError> {
            Ok(fields.get(name).cloned().unwrap_or_default())
        };
        let subject = substitute(&self.subject, get)?;
        let body = substitute(&self.body, get)?;
        Ok((subject, tidy_body(&body)))
    }
}

/// Trailing spaces removed, runs of more than two blank lines folded, and a
/// single final newline.
fn tidy_body(body: &str) -> String {
    let mut out = String::new();
    let mut blanks = 0;
    for line in body.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blanks += 1;
            if blanks > 1 {
                continue;
            }
        } else {
            blanks = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let trimmed = out.trim_end().to_string();
    format!("{trimmed}\n")
}

/// A time as the responder and the recipient read it, in `tz`.
pub fn show_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%a %-d %b %Y %H:%M %Z")
        .to_string()
}

/// "actual breach", "potential breach", "attempted breach".
pub fn kind_words(kind: BreachKind) -> &'static str {
    match kind {
        BreachKind::Breach => "actual breach",
        BreachKind::Potential => "potential breach",
        BreachKind::Attempted => "attempted breach",
    }
}

fn bullets(items: impl IntoIterator<Item = String>, empty: &str) -> String {
    let lines: Vec<String> = items
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| format!("  - {}", s.trim()))
        .collect();
    if lines.is_empty() {
        format!("  {empty}")
    } else {
        lines.join("\n")
    }
}

fn indent(text: &str, empty: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return format!("  {empty}");
    }
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the 8.2.1 (f) report still lacks; shown to the responder before they
/// confirm and listed in the report itself.
pub fn missing_for_report(incident: &Incident) -> Vec<String> {
    let mut missing = Vec::new();
    // 8.1 is ours to give only when we identified the breach.
    if incident.we_notify() && incident.notification.made_at.is_none() {
        missing.push("the 8.1 notification is not recorded as made".to_string());
    }
    if !incident.root_cause.is_recorded() {
        missing.push("no root cause recorded (category and component)".to_string());
    }
    // 8.2.1 (f): a root-cause analysis "where required by the Client".
    if incident.rca_required == crate::domain::incident::RcaRequired::Yes
        && incident.root_cause.analysis.trim().is_empty()
    {
        missing.push("no root-cause analysis written (the Client requires one)".to_string());
    }
    if incident.root_cause.prevention_actions.is_empty() {
        missing.push("no actions to prevent a repeat".to_string());
    }
    if incident.mitigation.description.trim().is_empty() {
        missing.push("no mitigation described (8.2.1 (c))".to_string());
    } else if !incident.mitigation.tested {
        missing.push("the mitigation has not been tested".to_string());
    }
    for r in &incident.data_requests {
        if r.status == RequestStatus::Open {
            missing.push(format!(
                "data request {} (the Client's, to {}) is still open: {}",
                r.id,
                requester_label(r.deliver_to),
                r.what.trim()
            ));
        }
    }
    missing
}

fn requester_label(r: Requester) -> &'static str {
    match r {
        Requester::Client => "the Client",
        Requester::GovCertUk => "GovCertUK",
    }
}

/// Extra values a notice needs beyond the incident record.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub responder_name: String,
    pub responder_email: String,
    pub first_actions: String,
    pub delay_reason: Option<String>,
    pub request_id: Option<String>,
    pub message: String,
    pub attachment_names: Vec<String>,
    /// `[responder] phone`.
    pub phone: Option<String>,
    /// `[contract] name` and `reference`.
    pub contract_name: Option<String>,
    pub contract_reference: Option<String>,
}

/// The values of every field in [`FIELDS`] for `incident`.
pub fn fields(
    incident: &Incident,
    extras: &Extras,
    tz: Tz,
    now: DateTime<Utc>,
) -> BTreeMap<&'static str, String> {
    let mut f: BTreeMap<&'static str, String> = BTreeMap::new();
    let time = |t: DateTime<Utc>| show_time(t, tz);
    let opt_time = |t: Option<DateTime<Utc>>| t.map(time).unwrap_or_else(|| "not yet".into());
    f.insert("incident.id", incident.id.clone());
    f.insert("incident.title", incident.title.clone());
    f.insert(
        "incident.summary",
        indent(&incident.summary, "(no summary yet)"),
    );
    f.insert("incident.severity", incident.severity.to_string());
    f.insert("kind", kind_words(incident.kind).to_string());
    f.insert("identified_at", time(incident.identified_at));
    f.insert("logged_at", time(incident.logged_at));
    f.insert("notification.due_at", time(incident.notification.due_at));
    f.insert(
        "notification.made_at",
        opt_time(incident.notification.made_at),
    );
    f.insert(
        "assets",
        bullets(
            incident.affected_assets.iter().cloned(),
            "none identified yet",
        ),
    );
    f.insert(
        "first_actions",
        indent(&extras.first_actions, "none recorded yet"),
    );
    f.insert("responder.name", extras.responder_name.clone());
    f.insert("responder.email", extras.responder_email.clone());
    f.insert("our_role", incident.our_role.label().to_string());
    f.insert(
        "other_party",
        incident.our_role.other_party().label().to_string(),
    );
    let delay = extras
        .delay_reason
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    f.insert("delay_reason", delay.unwrap_or("").to_string());
    f.insert(
        "delay_note",
        match delay {
            Some(reason) => format!(
                "\nThis notice is later than the 1 hour paragraph 8.1 allows\n\
                 (it was due {}). Reason for the delay:\n{}\n",
                time(incident.notification.due_at),
                indent(reason, "")
            ),
            None => String::new(),
        },
    );
    let rc = &incident.root_cause;
    f.insert(
        "root_cause.category",
        rc.category
            .map(|c| c.to_string())
            .unwrap_or_else(|| "not yet determined".into()),
    );
    f.insert(
        "root_cause.component",
        if rc.component.trim().is_empty() {
            "not yet determined".into()
        } else {
            rc.component.clone()
        },
    );
    f.insert(
        "root_cause.analysis",
        indent(&rc.analysis, "(analysis not yet written)"),
    );
    f.insert(
        "root_cause.prevention",
        bullets(rc.prevention_actions.iter().cloned(), "none recorded yet"),
    );
    let m = &incident.mitigation;
    f.insert(
        "mitigation.description",
        indent(&m.description, "(no mitigation described yet)"),
    );
    f.insert(
        "mitigation.tested",
        if m.tested {
            if m.tested_how.trim().is_empty() {
                "yes".into()
            } else {
                format!("yes ({})", m.tested_how.trim())
            }
        } else {
            "no".into()
        },
    );
    f.insert(
        "data_requests",
        bullets(
            incident.data_requests.iter().map(|r| {
                format!(
                    "{} (the Client's, to {}): {} ({}, due {})",
                    r.id,
                    requester_label(r.deliver_to),
                    r.what.trim(),
                    r.status,
                    time(r.due_at)
                )
            }),
            "none",
        ),
    );
    let request = extras.request_id.as_deref().and_then(|id| {
        incident
            .data_requests
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id.trim()))
    });
    if let Some(r) = request {
        f.insert("request.id", r.id.clone());
        let who = requester_label(r.deliver_to).to_string();
        let who = if r.requester_name.trim().is_empty() {
            who
        } else {
            format!("{} ({})", r.requester_name.trim(), who)
        };
        f.insert("request.requester", who);
        f.insert("request.what", indent(&r.what, ""));
        f.insert("request.received_at", time(r.received_at));
        f.insert("request.due_at", time(r.due_at));
    }
    f.insert(
        "attachments",
        bullets(extras.attachment_names.iter().cloned(), "nothing attached"),
    );
    f.insert(
        "missing",
        bullets(missing_for_report(incident), "nothing outstanding"),
    );
    f.insert("message", extras.message.trim().to_string());
    f.insert("now", time(now));
    contract_fields(&mut f, incident, extras, tz);
    if let Some(r) = request {
        let requester = if r.requester_name.trim().is_empty() {
            "the Client".to_string()
        } else {
            format!("the Client ({})", r.requester_name.trim())
        };
        let (recipient, basis) = match r.deliver_to {
            Requester::GovCertUk => (
                "GovCertUK".to_string(),
                format!(
                    "{requester} asked us to supply data about incident {} ({}) to\n\
                     GovCertUK. Under paragraph 8.2.1 (e) of the security schedule, data\n\
                     is supplied on the Client's request to the Client or to GovCertUK,\n\
                     without charge, within 2 Working Days of the request.",
                    incident.id, incident.title
                ),
            ),
            Requester::Client => (
                requester.clone(),
                format!(
                    "You asked us for data about incident {} ({}).\n\
                     Under paragraph 8.2.1 (e) of the security schedule we supply it\n\
                     without charge, within 2 Working Days of the request.",
                    incident.id, incident.title
                ),
            ),
        };
        f.insert("request.recipient", recipient);
        f.insert("request.basis", basis);
    }
    f
}

/// "the Breach of Security", "the potential Breach of Security", ...
pub fn breach_words(kind: BreachKind) -> &'static str {
    match kind {
        BreachKind::Breach => "the Breach of Security",
        BreachKind::Potential => "the potential Breach of Security",
        BreachKind::Attempted => "the attempted Breach of Security",
    }
}

fn known(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// What the notices state beyond the basic record: each fact as the
/// responder entered it, or "not yet known".
fn contract_fields(
    f: &mut BTreeMap<&'static str, String>,
    incident: &Incident,
    extras: &Extras,
    tz: Tz,
) {
    use crate::domain::incident::{PartyRole, RcaRequired};
    const UNKNOWN: &str = "not yet known";
    let d = &incident.details;
    let time = |t: DateTime<Utc>| show_time(t, tz);
    let mut unknown: Vec<&str> = Vec::new();
    let mut fact = |name: &'static str, value: Option<String>, what: &'static str| match value {
        Some(v) => {
            f.insert(name, v);
        }
        None => {
            unknown.push(what);
            f.insert(name, UNKNOWN.to_string());
        }
    };
    fact(
        "started_at",
        d.started_at.map(time),
        "when the breach started",
    );
    fact(
        "detected_how",
        known(&d.detected_how),
        "how it was detected",
    );
    fact(
        "containment",
        known(&d.containment),
        "whether it is contained",
    );
    let impact_parts = [
        ("Service", &d.service_impact, "the impact on the service"),
        (
            "Confidentiality",
            &d.confidentiality,
            "the impact on confidentiality",
        ),
        ("Integrity", &d.integrity, "the impact on integrity"),
        (
            "Availability",
            &d.availability,
            "the impact on availability",
        ),
    ];
    let mut impact = Vec::new();
    for (label, value, what) in impact_parts {
        match known(value) {
            Some(v) => impact.push(format!("  {label}: {v}")),
            None => {
                impact.push(format!("  {label}: {UNKNOWN}"));
                unknown.push(what);
            }
        }
    }
    f.insert("impact", impact.join("\n"));
    let personal = if incident.personal_data {
        let mut s = "yes".to_string();
        match d.data_subjects {
            Some(n) => s.push_str(&format!("; data subjects: {n}")),
            None => {
                s.push_str("; number of data subjects not yet known");
                unknown.push("how many data subjects are affected");
            }
        }
        match known(&d.data_categories) {
            Some(c) => s.push_str(&format!("; categories: {c}")),
            None => {
                s.push_str("; categories not yet known");
                unknown.push("which categories of personal data");
            }
        }
        s
    } else {
        "none known to be involved".to_string()
    };
    f.insert("personal_data", personal);
    let government = if incident.government_data {
        match known(&d.government_data_details) {
            Some(g) => format!("yes: {g}"),
            None => "yes".to_string(),
        }
    } else {
        "none known to be involved".to_string()
    };
    f.insert("government_data", government);
    f.insert(
        "others_told",
        indent(&d.others_told, "no one else recorded as told"),
    );
    if incident.affected_assets.is_empty() {
        unknown.push("which assets are affected");
    }
    if !incident.root_cause.is_recorded() {
        unknown.push("the root cause");
    }
    let next = match d.next_update_due {
        Some(at) => time(at),
        None => "not yet set; we will tell you when it is".to_string(),
    };
    f.insert("next_update", next);
    f.insert(
        "not_yet_known",
        bullets(unknown.into_iter().map(String::from), "nothing outstanding"),
    );
    let opening = match incident.kind {
        BreachKind::Breach => "We have identified a Breach of Security.",
        BreachKind::Potential => {
            "We have identified a potential Breach of Security (not, as far as we\n\
             know now, an actual one). Paragraph 8.1 covers potential breaches too."
        }
        BreachKind::Attempted => {
            "We have identified an attempted Breach of Security. Paragraph 8.1\n\
             covers attempted breaches too."
        }
    };
    f.insert("opening", opening.to_string());
    f.insert("breach_words", breach_words(incident.kind).to_string());
    // When the other party identified the breach, its notice to us is the
    // 8.1 notice: say so rather than "not yet".
    if !incident.we_notify()
        && let Some(r) = &incident.notice_received
    {
        f.insert(
            "notification.made_at",
            format!(
                "your notice received {} ({})",
                time(r.received_at),
                r.from.trim()
            ),
        );
    }
    f.insert(
        "followup",
        match incident.our_role {
            PartyRole::ServiceProvider => {
                "Full details will follow under paragraph 8.2.1 (f).".to_string()
            }
            PartyRole::Client => String::new(),
        },
    );
    let contract = match (&extras.contract_name, &extras.contract_reference) {
        (Some(n), Some(r)) => format!("{n} ({r})"),
        (Some(n), None) => n.clone(),
        (None, Some(r)) => r.clone(),
        (None, None) => "not configured".to_string(),
    };
    f.insert("contract", contract);
    let phone = extras
        .phone
        .clone()
        .unwrap_or_else(|| "no phone number configured".to_string());
    f.insert("responder.phone", phone.clone());
    f.insert(
        "contact",
        format!(
            "{} <{}>, phone {}, for the {}",
            extras.responder_name,
            extras.responder_email,
            phone,
            incident.our_role.label()
        ),
    );
    let rc = &incident.root_cause;
    let rca = match incident.rca_required {
        RcaRequired::No => "The Client has not required a root-cause analysis.".to_string(),
        RcaRequired::Yes => indent(&rc.analysis, "(required by the Client; not yet written)"),
        RcaRequired::Unknown => indent(&rc.analysis, "(not yet written)"),
    };
    f.insert("rca", rca);
    let m = &incident.mitigation;
    let relief = match (m.kpi_relief.requested_at, m.kpi_relief.granted) {
        (_, Some(true)) => {
            let mut s = "  Relief granted".to_string();
            if !m.kpi_relief.period.trim().is_empty() {
                s.push_str(&format!(" for {}", m.kpi_relief.period.trim()));
            }
            if let Some(n) = &m.kpi_relief.notice {
                s.push_str(&format!(
                    " (the Client's written notice dated {}, reference {})",
                    n.dated, n.reference
                ));
            }
            s
        }
        (Some(at), _) => format!("  Relief requested {}", time(at)),
        (None, _) => "  No relief requested".to_string(),
    };
    f.insert("relief", relief);
    let isms = &incident.isms_change;
    f.insert(
        "isms_change",
        indent(&isms.description, "no change to the ISMS recorded"),
    );
    f.insert(
        "notices",
        bullets(
            crate::domain::register::register(incident)
                .iter()
                .map(|e| crate::domain::register::line(e, tz)),
            "none recorded",
        ),
    );
    f.insert(
        "residual_risk",
        indent(&d.residual_risk, "not yet assessed"),
    );
    f.insert(
        "lessons_learned",
        indent(&d.lessons_learned, "not yet recorded"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incident::{Channel, NewIncident, NoticeReceived, PartyRole, Severity};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .expect("time")
    }

    fn incident(kind: BreachKind, role: PartyRole) -> Incident {
        Incident::new(
            "INC-20260310-1400-abcdef".into(),
            NewIncident {
                title: "Admin portal login".into(),
                summary: String::new(),
                kind,
                severity: Severity::High,
                personal_data: true,
                government_data: false,
                affected_assets: Vec::new(),
                identified_at: at("2026-03-10T14:00:00Z"),
            },
            "alice",
            role,
            at("2026-03-10T14:02:00Z"),
        )
        .expect("incident")
    }

    fn render(kind: NoticeKind, incident: &Incident, extras: &Extras) -> String {
        let f = fields(
            incident,
            extras,
            chrono_tz::Europe::London,
            at("2026-03-10T14:30:00Z"),
        );
        load(kind, None)
            .expect("template")
            .render(&f)
            .expect("render")
            .1
    }

    #[test]
    fn the_notification_never_calls_a_potential_breach_a_breach_of_security() {
        let extras = Extras {
            phone: Some("+44 1".into()),
            ..Extras::default()
        };
        for kind in [BreachKind::Potential, BreachKind::Attempted] {
            let body = render(
                NoticeKind::Notification,
                &incident(kind, PartyRole::ServiceProvider),
                &extras,
            );
            assert!(
                !body.contains("We have identified a Breach of Security"),
                "{body}"
            );
            assert!(!body.contains("a Breach of Security ("), "{body}");
            assert!(body.contains("requires either party"), "{body}");
            assert!(body.contains("phone +44 1"), "{body}");
        }
        let body = render(
            NoticeKind::Notification,
            &incident(BreachKind::Breach, PartyRole::ServiceProvider),
            &Extras::default(),
        );
        assert!(
            body.contains("We have identified a Breach of Security."),
            "{body}"
        );
        assert!(body.contains("Full details will follow under paragraph 8.2.1 (f)."));
        assert!(body.contains("phone no phone number configured"), "{body}");
        // Personal data involved, numbers not given: listed as not yet known.
        assert!(
            body.contains("- how many data subjects are affected"),
            "{body}"
        );
        // A Client notifying its supplier promises no 8.2.1 (f) report.
        let body = render(
            NoticeKind::Notification,
            &incident(BreachKind::Breach, PartyRole::Client),
            &Extras::default(),
        );
        assert!(!body.contains("8.2.1 (f)"), "{body}");
    }

    #[test]
    fn the_report_to_the_party_that_told_us_names_its_notice() {
        let mut i = incident(BreachKind::Breach, PartyRole::ServiceProvider);
        i.identified_by = crate::domain::incident::IdentifiedBy::OtherParty;
        i.notice_received = Some(NoticeReceived {
            received_at: at("2026-03-10T14:00:00Z"),
            from: "Jo, Client CSR".into(),
            channel: Channel::Phone,
            reference: None,
            recorded_by: "alice".into(),
            recorded_at: at("2026-03-10T14:01:00Z"),
            source: None,
        });
        let body = render(NoticeKind::FullReport, &i, &Extras::default());
        assert!(
            body.contains("Notified (8.1):     your notice received Tue 10 Mar 2026 14:00 GMT (Jo, Client CSR)"),
            "{body}"
        );
        assert!(body.contains("Notices given and received:"), "{body}");
        assert!(body.contains("received from client by phone"), "{body}");
    }

    #[test]
    fn builtin_templates_parse() {
        for kind in NoticeKind::ALL {
            let t = load(*kind, None).expect("built-in template parses");
            assert!(!t.subject.is_empty());
        }
    }

    #[test]
    fn unknown_field_names_file_and_line() {
        let err = parse(
            "Subject: {incident.id}\n\nHello\n{incident.titel}\n",
            "x.txt",
        )
        .expect_err("unknown field");
        let text = err.to_string();
        assert!(
            text.starts_with("x.txt:4: unknown field {incident.titel}"),
            "{text}"
        );
    }

    #[test]
    fn override_dir_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("update.txt"),
            "Subject: Custom {incident.id}\n\nBody {{x}}\n",
        )
        .expect("write");
        let t = load(NoticeKind::Update, Some(dir.path())).expect("load");
        assert_eq!(t.subject, "Custom {incident.id}");
        let mut f = BTreeMap::new();
        f.insert("incident.id", "INC-1".to_string());
        let (s, b) = t.render(&f).expect("render");
        assert_eq!(s, "Custom INC-1");
        assert_eq!(b, "Body {x}\n");
    }
}
