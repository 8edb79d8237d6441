//! An incident as a document for people, built once ([`document`]) and
//! rendered by [`crate::report`]: the `show` view (text), a Markdown or HTML
//! report to paste into a ticket (and attach to the 8.2.1 (f) report); and
//! its open deadlines as iCalendar events (RFC 5545).

use crate::domain::incident::{EntryKind, Incident, RcaRequired, RequestAuthority, RequestStatus};
use crate::domain::playbook::{next_action, waiting_on};
use crate::present::{local, verdict};
use crate::report::{
    Block, Doc, EvidenceForm, Section, evidence_line, to_html, to_markdown, to_text,
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

mod calendar;
mod team;

pub use calendar::{OpenDeadline, ics, open_deadlines};

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

fn rca_words(required: RcaRequired) -> &'static str {
    match required {
        RcaRequired::Yes => "yes",
        RcaRequired::No => "no",
        RcaRequired::Unknown => "not yet known",
    }
}

/// Who an incident document is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The responder (`show`): everything, with the internal warnings (a
    /// repeated root cause, paragraph 6.5), step notes and evidence.
    Internal,
    /// A ticket or the Client (`export --format markdown|html`): the record
    /// without the internal warnings.
    Client,
}

/// The `show` view: everything about one incident, terminal-safe.
pub fn text(incident: &Incident, tz: Tz, now: DateTime<Utc>) -> String {
    to_text(&document(incident, tz, now, Audience::Internal, None))
}

/// A report a person can paste into a ticket.
pub fn markdown(incident: &Incident, tz: Tz, now: DateTime<Utc>) -> String {
    to_markdown(&document(incident, tz, now, Audience::Client, None))
}

/// The same report as a self-contained HTML page, every piece of the record
/// escaped.
pub fn html(incident: &Incident, tz: Tz, now: DateTime<Utc>, marking: Option<String>) -> String {
    to_html(&document(incident, tz, now, Audience::Client, marking))
}

fn fields(rows: Vec<(&str, String)>) -> Block {
    Block::Fields(rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn section(heading: &str, blocks: Vec<Block>) -> Section {
    Section {
        heading: heading.to_string(),
        blocks,
    }
}

/// An incident as one document, rendered by [`crate::report`] to text,
/// Markdown or HTML. The renderers make it safe for where it goes.
pub fn document(
    incident: &Incident,
    tz: Tz,
    now: DateTime<Utc>,
    audience: Audience,
    marking: Option<String>,
) -> Doc {
    let i = incident;
    let internal = audience == Audience::Internal;
    let t = |at: DateTime<Utc>| local(at, tz);
    let mut sections = Vec::new();
    // A handover waiting to be acknowledged is the first thing the next
    // responder reads.
    if internal {
        sections.extend(team::handovers(i, tz));
    }

    let mut facts = vec![
        ("Kind", i.kind.to_string()),
        ("Severity", i.severity.to_string()),
        ("Status", i.status.to_string()),
    ];
    if internal {
        facts.push(("Revision", i.revision.to_string()));
    }
    facts.extend([
        ("Identified", t(i.identified_at)),
        ("Logged", format!("{} by {}", t(i.logged_at), i.logged_by)),
        ("Our role", i.our_role.label().to_string()),
    ]);
    if internal {
        let other = i.our_role.other_party().label();
        facts.push((
            "Who notifies (8.1)",
            if i.we_notify() {
                format!("we identified it and notify the {other}")
            } else {
                format!("the {other} identified it and notified us")
            },
        ));
    }
    facts.extend([
        ("Personal data", yes_no(i.personal_data).to_string()),
        ("Government Data", yes_no(i.government_data).to_string()),
    ]);
    if !(internal && i.affected_assets.is_empty()) {
        facts.push(("Affected assets", i.affected_assets.join(", ")));
    }
    facts.push((
        "Playbooks",
        i.playbooks
            .iter()
            .map(|p| format!("{} v{}", p.name, p.version))
            .collect::<Vec<_>>()
            .join(", "),
    ));
    sections.push(section("Incident", vec![fields(facts)]));
    sections.extend(team::roles(i, tz));
    if !i.summary.is_empty() {
        sections.push(section("Summary", vec![Block::Text(i.summary.clone())]));
    }

    let n = &i.notification;
    let mut notification = Vec::new();
    if let Some(r) = i.notice_received.as_ref().filter(|_| !i.we_notify()) {
        notification.push(format!(
            "Notice received (8.1) from the {}: {}{}",
            i.our_role.other_party().label(),
            crate::present::notice_received_line(r),
            r.source
                .as_deref()
                .map(|s| format!(" — time from {s}"))
                .unwrap_or_default()
        ));
    } else {
        notification.push(format!(
            "Due: {} — {}",
            t(n.due_at),
            verdict(n.due_at, n.made_at, now)
        ));
    }
    if let Some(made) = n.made_at {
        notification.push(format!(
            "Made: {} by {} via {} to {}",
            t(made),
            n.made_by.as_deref().unwrap_or("?"),
            n.channel.map(|c| c.as_str()).unwrap_or("?"),
            n.recipient.as_deref().unwrap_or("?")
        ));
        if let Some(r) = &n.reference {
            notification.push(format!("Reference: {r}"));
        }
        if let Some(r) = &n.delay_reason {
            notification.push(format!("Reason for delay: {r}"));
        }
    }
    if internal && let Some(next) = next_action(i) {
        notification.push(format!(
            "Next action: [{}] {}{}",
            next.id,
            next.title,
            next.due_at
                .map(|d| format!(" — {}", verdict(d, None, now)))
                .unwrap_or_default()
        ));
    }
    sections.push(section(
        "Notification (paragraph 8.1)",
        vec![Block::List(notification)],
    ));

    let mut steps = Vec::new();
    let mut step_notes = Vec::new();
    for s in i.steps.iter().filter(|s| s.applies(i)) {
        let mut due = s.due_at.map(t).unwrap_or_else(|| "-".into());
        if internal {
            let mut extra = Vec::new();
            if let Some(d) = s.due_at {
                extra.push(verdict(d, s.completed_at, now));
            }
            let waiting = waiting_on(i, s);
            if s.is_open() && !waiting.is_empty() {
                extra.push(format!("after {}", waiting.join(", ")));
            }
            if !s.required {
                extra.push("optional".into());
            }
            if !extra.is_empty() {
                let extra = extra.join("; ");
                due = match s.due_at {
                    Some(_) => format!("{due} ({extra})"),
                    None => format!("({extra})"),
                };
            }
            step_notes.extend(s.notes.iter().map(|n| format!("{} note: {n}", s.id)));
            step_notes.extend(s.evidence.iter().map(|e| {
                format!(
                    "{} evidence: {}",
                    s.id,
                    evidence_line(e, EvidenceForm::Full)
                )
            }));
        }
        steps.push(vec![
            s.id.clone(),
            s.title.clone(),
            s.status.to_string(),
            due,
            match (&s.who, s.updated_at) {
                (Some(w), Some(at)) => format!("{w} {}", t(at)),
                _ => "-".into(),
            },
        ]);
    }
    let mut blocks = vec![Block::Table {
        columns: ["Step", "What", "Status", "Due", "Who / when"]
            .map(String::from)
            .to_vec(),
        rows: steps,
    }];
    if !step_notes.is_empty() {
        blocks.push(Block::List(step_notes));
    }
    sections.push(section("Steps", blocks));

    if !i.data_requests.is_empty() {
        let rows = i
            .data_requests
            .iter()
            .map(|r| {
                let asked = match (r.requester_name.is_empty(), r.authority) {
                    (true, RequestAuthority::Client) => {
                        format!("the Client, to {}", r.deliver_to.label())
                    }
                    (false, RequestAuthority::Client) => format!(
                        "{} (the Client's request), to {}",
                        r.requester_name,
                        r.deliver_to.label()
                    ),
                    // Recorded before breachdesk asked on whose authority.
                    (_, RequestAuthority::Unconfirmed) => format!(
                        "{} (authority not recorded), to {}",
                        if r.requester_name.is_empty() {
                            "-"
                        } else {
                            &r.requester_name
                        },
                        r.deliver_to.label()
                    ),
                };
                let status = match (internal, r.status) {
                    (true, RequestStatus::Open) => {
                        format!("open — {}", verdict(r.due_at, None, now))
                    }
                    (true, RequestStatus::Supplied) => {
                        format!("supplied — {}", verdict(r.due_at, r.supplied_at, now))
                    }
                    _ => match (r.ended_words(), &r.ended) {
                        (Some(words), Some(end)) if internal => {
                            format!("{words} ({}, recorded by {})", t(end.at), end.by)
                        }
                        (Some(words), Some(end)) => format!("{words} ({})", t(end.at)),
                        (Some(words), None) => words,
                        (None, _) => r.status.to_string(),
                    },
                };
                vec![
                    r.id.clone(),
                    asked,
                    t(r.received_at),
                    r.what.clone(),
                    t(r.due_at),
                    status,
                    r.supplied_at
                        .map(|at| {
                            format!(
                                "{} ({}), no charge",
                                t(at),
                                r.supplied_how.as_deref().unwrap_or("")
                            )
                        })
                        .unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        sections.push(section(
            "Data requests (paragraph 8.2.1 (e): 2 Working Days, without charge)",
            vec![Block::Table {
                columns: [
                    "Id",
                    "Asked by, to",
                    "Received",
                    "What",
                    "Due",
                    "Status",
                    "Supplied",
                ]
                .map(String::from)
                .to_vec(),
                rows,
            }],
        ));
    }

    let m = &i.mitigation;
    let mut mitigation = vec![
        format!(
            "What: {}",
            if m.description.is_empty() {
                "not recorded"
            } else {
                &m.description
            }
        ),
        format!(
            "Tested: {}{}",
            yes_no(m.tested),
            if m.tested_how.is_empty() {
                String::new()
            } else {
                format!(" — {}", m.tested_how)
            }
        ),
    ];
    mitigation.extend(
        m.evidence
            .iter()
            .map(|e| format!("Evidence: {}", evidence_line(e, EvidenceForm::Full))),
    );
    mitigation.push(format!("Affects KPIs: {}", yes_no(m.affects_kpis)));
    if m.affects_kpis {
        let r = &m.kpi_relief;
        mitigation.push(format!(
            "KPI relief: requested {}, granted {}, period {}",
            r.requested_at.map(t).unwrap_or_else(|| "no".into()),
            r.granted.map(yes_no).unwrap_or("not yet"),
            if r.period.is_empty() { "-" } else { &r.period }
        ));
        if let Some(n) = &r.notice {
            mitigation.push(format!(
                "The Client's written notice setting the relief period: dated {}, reference {}, period {}",
                n.dated, n.reference, n.period
            ));
        }
    }
    sections.push(section(
        "Mitigation (paragraph 8.2.1 (c))",
        vec![Block::List(mitigation)],
    ));

    let rc = &i.root_cause;
    let mut facts = vec![format!(
        "Root-cause analysis required by the Client (8.2.1 (f)): {}",
        rca_words(i.rca_required)
    )];
    match rc.category {
        Some(c) => {
            facts.push(format!("Category: {c}"));
            facts.push(format!("Asset/component: {}", rc.component));
        }
        None => facts.push("Not recorded yet.".into()),
    }
    let mut blocks = vec![Block::List(facts)];
    if !rc.analysis.is_empty() {
        blocks.push(Block::Text(rc.analysis.clone()));
    }
    let mut after = Vec::new();
    after.extend(
        rc.prevention_actions
            .iter()
            .map(|a| format!("Prevention: {a}")),
    );
    // A repeated root cause is an internal matter (8.2.1 (d) prevention):
    // `show` and the console show it; the export, which is attached to what
    // is sent to the Client, does not.
    if internal {
        after.extend(i.repeat_of.iter().map(|link| {
            format!(
                "!! REPEAT ROOT CAUSE (internal): same as {} ({} in {}) — a further breach from the same root cause, which 8.2.1 (d) prevention is meant to stop",
                link.incident, link.category, link.component
            )
        }));
    }
    if !after.is_empty() {
        blocks.push(Block::List(after));
    }
    sections.push(section("Root cause (paragraphs 8.2.1 (d) and (f))", blocks));

    // Security Tests and paragraph 6.5 are internal too.
    if internal && !i.security_tests.is_empty() {
        let mut tests = Vec::new();
        for st in &i.security_tests {
            tests.push(format!(
                "{} {} — {} by {}: {}{}",
                st.id,
                st.date,
                st.clause.label(),
                st.run_by,
                st.scope,
                st.repeats
                    .as_deref()
                    .map(|r| format!(" (repeats {r})"))
                    .unwrap_or_default()
            ));
            for f in &st.findings {
                tests.push(format!(
                    "{} finding: {} ({} in {}){}",
                    st.id,
                    f.description,
                    f.category,
                    f.component,
                    f.same_root_cause_as
                        .as_deref()
                        .map(|s| format!(
                            " — !! PARAGRAPH 6.5 (internal): same root cause as {s} on a repeat test under 6.4"
                        ))
                        .unwrap_or_default()
                ));
            }
        }
        sections.push(section(
            "Security Tests (paragraph 6)",
            vec![Block::List(tests)],
        ));
    }

    sections.push(section(
        "ISMS change (paragraph 8.3)",
        vec![Block::Text(if i.isms_change.required {
            format!(
                "Required, at no cost to the Client: {}",
                i.isms_change.description
            )
        } else {
            "Not flagged.".into()
        })],
    ));
    if internal && let Some(sent) = i.report.sent_at {
        sections.push(section(
            "Full-details report (8.2.1 (f))",
            vec![Block::Text(format!(
                "Sent {} to {}",
                t(sent),
                i.report.sent_to.as_deref().unwrap_or("?")
            ))],
        ));
    }
    if let Some(c) = &i.closure {
        sections.push(section(
            "Closure",
            vec![Block::Text(format!(
                "Closed{} {} by {}{}",
                if c.not_a_breach {
                    " as not a Breach of Security"
                } else {
                    ""
                },
                t(c.closed_at),
                c.closed_by,
                c.reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ))],
        ));
    }
    let rows = details_rows(i, tz);
    if !rows.is_empty() {
        sections.push(section("Details", vec![fields(rows)]));
    }
    let notices: Vec<String> = crate::domain::register::register(i)
        .iter()
        .map(|e| crate::domain::register::line(e, tz))
        .collect();
    sections.push(section(
        "Notices given and received",
        vec![Block::List(if notices.is_empty() {
            vec!["none recorded".into()]
        } else {
            notices
        })],
    ));
    sections.push(section(
        "Timeline",
        vec![Block::Table {
            columns: ["When", "Who", "What"].map(String::from).to_vec(),
            // A merge's own entries (a field both responders changed, an id
            // renumbered) are the team's bookkeeping, not the breach's
            // story: shown to the responder, left out of what the Client gets.
            rows: i
                .timeline
                .iter()
                .filter(|e| internal || e.kind != EntryKind::Conflict)
                .map(|e| vec![t(e.at), e.by.clone(), e.text.clone()])
                .collect(),
        }],
    ));
    Doc {
        marking: marking.filter(|m| !m.trim().is_empty()),
        title: format!("{} — {}", i.id, i.title),
        sections,
        footer: (!internal).then(|| format!("Exported by breachdesk at {}.", t(now))),
    }
}

/// The facts entered for notices and the report, those that are set.
fn details_rows(i: &Incident, tz: Tz) -> Vec<(&'static str, String)> {
    let d = &i.details;
    let mut rows = Vec::new();
    if let Some(at) = d.started_at {
        rows.push(("Breach started", local(at, tz)));
    }
    for (k, v) in [
        ("How detected", &d.detected_how),
        ("Service impact", &d.service_impact),
        ("Confidentiality", &d.confidentiality),
        ("Integrity", &d.integrity),
        ("Availability", &d.availability),
        ("Containment", &d.containment),
    ] {
        if !v.trim().is_empty() {
            rows.push((k, v.trim().to_string()));
        }
    }
    if let Some(n) = d.data_subjects {
        rows.push(("Data subjects", n.to_string()));
    }
    for (k, v) in [
        ("Data categories", &d.data_categories),
        ("Government Data", &d.government_data_details),
        ("Others told", &d.others_told),
    ] {
        if !v.trim().is_empty() {
            rows.push((k, v.trim().to_string()));
        }
    }
    if let Some(at) = d.next_update_due {
        rows.push(("Next update due", local(at, tz)));
    }
    for (k, v) in [
        ("Residual risk", &d.residual_risk),
        ("Lessons learned", &d.lessons_learned),
    ] {
        if !v.trim().is_empty() {
            rows.push((k, v.trim().to_string()));
        }
    }
    rows
}

/// `body` with the protective marking line at its top and bottom (as is
/// when there is no marking).
pub fn marked(body: String, marking: Option<String>) -> String {
    match marking {
        Some(m) if !m.trim().is_empty() => {
            format!("{m}\n\n{}\n\n{m}\n", body.trim_end())
        }
        _ => body,
    }
}
