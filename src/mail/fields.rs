//! What each template field says for an incident: the values behind
//! `{incident.id}`, `{identified_at}` and the rest (the names are listed in
//! [`super::template::FIELDS`]), in the words a notice uses, and what the
//! 8.2.1 (f) full-details report still lacks.

use crate::domain::incident::{BreachKind, Incident, Requester};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::collections::BTreeMap;

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

// About the incident, not mail: kept with the report, used here too.
use crate::report::{breach_words, missing_for_report};

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

/// The values of every field in [`super::template::FIELDS`] for `incident`.
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
