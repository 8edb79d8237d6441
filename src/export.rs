//! An incident as text for people: the `show` view, a Markdown report to
//! paste into a ticket (and attach to the 8.2.1 (f) report), and its open
//! deadlines as iCalendar events (RFC 5545).

use crate::domain::incident::{
    Evidence, Incident, RcaRequired, RequestAuthority, RequestStatus, StepStatus,
};
use crate::domain::playbook::{RecordField, next_action, waiting_on};
use crate::present::{local, verdict};
use crate::text::{one_line, terminal_safe};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use std::fmt::Write;

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

/// The `show` view: everything about one incident, terminal-safe.
pub fn text(incident: &Incident, tz: Tz, now: DateTime<Utc>) -> String {
    let mut o = String::new();
    let i = incident;
    let _ = writeln!(o, "{}  {}", i.id, one_line(&i.title));
    let _ = writeln!(
        o,
        "{} | severity {} | {} | revision {}",
        i.kind, i.severity, i.status, i.revision
    );
    let _ = writeln!(
        o,
        "Identified {}   Logged {} by {}",
        local(i.identified_at, tz),
        local(i.logged_at, tz),
        one_line(&i.logged_by)
    );
    let _ = writeln!(
        o,
        "We are the {}; {}. Personal data: {}. Government Data: {}.",
        i.our_role.label(),
        if i.we_notify() {
            format!(
                "we identified it and notify the {}",
                i.our_role.other_party().label()
            )
        } else {
            format!(
                "the {} identified it and notified us",
                i.our_role.other_party().label()
            )
        },
        yes_no(i.personal_data),
        yes_no(i.government_data)
    );
    if !i.affected_assets.is_empty() {
        let assets: Vec<String> = i.affected_assets.iter().map(|a| one_line(a)).collect();
        let _ = writeln!(o, "Assets: {}", assets.join(", "));
    }
    if !i.summary.is_empty() {
        let _ = writeln!(o, "\n{}", terminal_safe(&i.summary, true));
    }
    let n = &i.notification;
    if let Some(r) = i.notice_received.as_ref().filter(|_| !i.we_notify()) {
        let _ = writeln!(
            o,
            "\nNotice received (8.1) from the {}: {}{}",
            i.our_role.other_party().label(),
            one_line(&crate::desk::notice_received_line(r)),
            r.source
                .as_deref()
                .map(|s| format!(" — time from {}", one_line(s)))
                .unwrap_or_default()
        );
    } else {
        let _ = writeln!(
            o,
            "\nNotification (8.1): due {} — {}",
            local(n.due_at, tz),
            verdict(n.due_at, n.made_at, now)
        );
    }
    if let Some(made) = n.made_at {
        let _ = writeln!(
            o,
            "  made {} by {} via {} to {}{}",
            local(made, tz),
            one_line(n.made_by.as_deref().unwrap_or("?")),
            n.channel.map(|c| c.as_str()).unwrap_or("?"),
            one_line(n.recipient.as_deref().unwrap_or("?")),
            n.reference
                .as_deref()
                .map(|r| format!(" (ref {})", one_line(r)))
                .unwrap_or_default()
        );
        if let Some(reason) = &n.delay_reason {
            let _ = writeln!(o, "  reason for delay: {}", one_line(reason));
        }
    }
    if let Some(next) = next_action(i) {
        let _ = writeln!(
            o,
            "Next action: [{}] {}{}",
            next.id,
            one_line(&next.title),
            next.due_at
                .map(|d| format!(" — {}", verdict(d, None, now)))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(o, "\nSteps:");
    for s in i.steps.iter().filter(|s| s.applies(i)) {
        let mark = match s.status {
            StepStatus::Done => "[x]",
            StepStatus::InProgress => "[~]",
            StepStatus::NotApplicable => "[-]",
            StepStatus::Todo => "[ ]",
        };
        let mut extra = Vec::new();
        if let Some(due) = s.due_at {
            extra.push(verdict(due, s.completed_at, now));
        }
        let waiting = waiting_on(i, s);
        if s.is_open() && !waiting.is_empty() {
            extra.push(format!("after {}", waiting.join(", ")));
        }
        if let Some(who) = &s.who {
            extra.push(format!(
                "{} {}",
                one_line(who),
                s.updated_at.map(|t| local(t, tz)).unwrap_or_default()
            ));
        }
        if !s.required {
            extra.push("optional".into());
        }
        let _ = writeln!(
            o,
            "  {mark} {:<13} {}{}",
            s.id,
            one_line(&s.title),
            if extra.is_empty() {
                String::new()
            } else {
                format!("  ({})", extra.join("; "))
            }
        );
        for note in &s.notes {
            let _ = writeln!(o, "        note: {}", one_line(note));
        }
        for e in &s.evidence {
            let _ = writeln!(o, "        evidence: {}", evidence_line(e));
        }
    }
    if !i.data_requests.is_empty() {
        let _ = writeln!(o, "\nData requests (8.2.1 e, 2 Working Days, no charge):");
        for r in &i.data_requests {
            let state = match r.status {
                RequestStatus::Open => verdict(r.due_at, None, now),
                RequestStatus::Supplied => verdict(r.due_at, r.supplied_at, now),
                RequestStatus::Withdrawn => "withdrawn".into(),
            };
            let _ = writeln!(
                o,
                "  {} {}{}, to {}, received {}: {} — due {} — {}",
                r.id,
                if r.authority == RequestAuthority::Unconfirmed {
                    "(on whose authority was not recorded)"
                } else {
                    "on the Client's request"
                },
                if r.requester_name.is_empty() {
                    String::new()
                } else {
                    format!(", asked by {}", one_line(&r.requester_name))
                },
                r.deliver_to.label(),
                local(r.received_at, tz),
                one_line(&r.what),
                local(r.due_at, tz),
                state
            );
            if let Some(how) = &r.supplied_how {
                let _ = writeln!(o, "      supplied by {}", one_line(how));
            }
        }
    }
    let m = &i.mitigation;
    if !m.description.is_empty() || m.tested || m.affects_kpis {
        let _ = writeln!(o, "\nMitigation (8.2.1 c): {}", one_line(&m.description));
        let _ = writeln!(
            o,
            "  tested: {}{}; affects KPIs: {}",
            yes_no(m.tested),
            if m.tested_how.is_empty() {
                String::new()
            } else {
                format!(" ({})", one_line(&m.tested_how))
            },
            yes_no(m.affects_kpis)
        );
        if m.affects_kpis {
            let r = &m.kpi_relief;
            let _ = writeln!(
                o,
                "  KPI relief: requested {}; granted {}; period {}",
                r.requested_at
                    .map(|t| local(t, tz))
                    .unwrap_or_else(|| "no".into()),
                r.granted.map(yes_no).unwrap_or("not yet"),
                if r.period.is_empty() {
                    "-".to_string()
                } else {
                    one_line(&r.period)
                }
            );
            if let Some(n) = &r.notice {
                let _ = writeln!(
                    o,
                    "  the Client's written notice of {} (ref {}) sets the period: {}",
                    n.dated,
                    one_line(&n.reference),
                    one_line(&n.period)
                );
            }
        }
    }
    let rc = &i.root_cause;
    if rc.category.is_some() || !rc.analysis.is_empty() {
        let _ = writeln!(
            o,
            "\nRoot cause (8.2.1 d/f): {} in {}",
            rc.category.map(|c| c.as_str()).unwrap_or("?"),
            one_line(&rc.component)
        );
        if !rc.analysis.is_empty() {
            let _ = writeln!(o, "{}", terminal_safe(&rc.analysis, true));
        }
        for a in &rc.prevention_actions {
            let _ = writeln!(o, "  prevent: {}", one_line(a));
        }
    }
    for link in &i.repeat_of {
        let _ = writeln!(
            o,
            "!! REPEAT ROOT CAUSE (internal): same as {} ({} in {}) — a further breach from the same root cause, which 8.2.1 (d) prevention is meant to stop",
            link.incident,
            link.category,
            one_line(&link.component)
        );
    }
    let _ = writeln!(
        o,
        "Root-cause analysis required by the Client (8.2.1 f): {}",
        rca_words(i.rca_required)
    );
    if !i.security_tests.is_empty() {
        let _ = writeln!(o, "\nSecurity Tests (paragraph 6):");
        for t in &i.security_tests {
            let _ = writeln!(
                o,
                "  {} {} — {} by {}: {}{}",
                t.id,
                t.date,
                t.clause.label(),
                one_line(&t.run_by),
                one_line(&t.scope),
                t.repeats
                    .as_deref()
                    .map(|r| format!(" (repeats {r})"))
                    .unwrap_or_default()
            );
            for f in &t.findings {
                let _ = writeln!(
                    o,
                    "      finding: {} ({} in {}){}",
                    one_line(&f.description),
                    f.category,
                    one_line(&f.component),
                    f.same_root_cause_as
                        .as_deref()
                        .map(|s| format!(
                            " — !! PARAGRAPH 6.5 (internal): same root cause as {s} on a repeat test under 6.4"
                        ))
                        .unwrap_or_default()
                );
            }
        }
    }
    if i.isms_change.required {
        let _ = writeln!(
            o,
            "\nISMS change required (8.3, no cost to the Client): {}",
            one_line(&i.isms_change.description)
        );
    }
    if let Some(sent) = i.report.sent_at {
        let _ = writeln!(
            o,
            "\nFull-details report (8.2.1 f) sent {} to {}",
            local(sent, tz),
            one_line(i.report.sent_to.as_deref().unwrap_or("?"))
        );
    }
    if let Some(c) = &i.closure {
        let _ = writeln!(
            o,
            "\nClosed{} {} by {}{}",
            if c.not_a_breach {
                " as not a Breach of Security"
            } else {
                ""
            },
            local(c.closed_at, tz),
            one_line(&c.closed_by),
            c.reason
                .as_deref()
                .map(|r| format!(": {}", one_line(r)))
                .unwrap_or_default()
        );
    }
    let rows = details_rows(i, tz);
    if !rows.is_empty() {
        let _ = writeln!(o, "\nDetails:");
        for (k, v) in rows {
            let _ = writeln!(o, "  {k}: {}", one_line(&v));
        }
    }
    let notices = crate::domain::register::register(i);
    let _ = writeln!(o, "\nNotices given and received:");
    if notices.is_empty() {
        let _ = writeln!(o, "  none recorded");
    }
    for e in &notices {
        let _ = writeln!(o, "  {}", one_line(&crate::domain::register::line(e, tz)));
    }
    let _ = writeln!(o, "\nTimeline:");
    for e in &i.timeline {
        let _ = writeln!(
            o,
            "  {}  {:<12} {}",
            local(e.at, tz),
            one_line(&e.by),
            one_line(&e.text)
        );
    }
    o
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

fn evidence_line(e: &Evidence) -> String {
    match (&e.path, &e.note) {
        (Some(path), _) => format!(
            "{} ({} bytes, sha256 {})",
            one_line(path),
            e.size.unwrap_or(0),
            e.sha256.as_deref().unwrap_or("?")
        ),
        (None, Some(note)) => one_line(note),
        (None, None) => "-".into(),
    }
}

/// Markdown text, with table-breaking characters escaped.
fn md(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// A report a person can paste into a ticket.
pub fn markdown(incident: &Incident, tz: Tz, now: DateTime<Utc>) -> String {
    let i = incident;
    let mut o = String::new();
    let _ = writeln!(o, "# {} — {}\n", i.id, md(&i.title));
    let _ = writeln!(o, "| | |\n|---|---|");
    let rows = [
        ("Kind", i.kind.to_string()),
        ("Severity", i.severity.to_string()),
        ("Status", i.status.to_string()),
        ("Identified", local(i.identified_at, tz)),
        (
            "Logged",
            format!("{} by {}", local(i.logged_at, tz), md(&i.logged_by)),
        ),
        ("Our role", i.our_role.label().to_string()),
        ("Personal data", yes_no(i.personal_data).to_string()),
        ("Government Data", yes_no(i.government_data).to_string()),
        (
            "Affected assets",
            i.affected_assets
                .iter()
                .map(|a| md(a))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "Playbooks",
            i.playbooks
                .iter()
                .map(|p| format!("{} v{}", p.name, p.version))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(o, "| {k} | {v} |");
    }
    if !i.summary.is_empty() {
        let _ = writeln!(o, "\n## Summary\n\n{}", terminal_safe(&i.summary, true));
    }
    let n = &i.notification;
    let _ = writeln!(o, "\n## Notification (paragraph 8.1)\n");
    if let Some(r) = i.notice_received.as_ref().filter(|_| !i.we_notify()) {
        let _ = writeln!(
            o,
            "- Notice received from the {}: {} by {} at {}{}",
            i.our_role.other_party().label(),
            md(&r.from),
            r.channel,
            local(r.received_at, tz),
            r.reference
                .as_deref()
                .map(|x| format!(" (reference {})", md(x)))
                .unwrap_or_default()
        );
    } else {
        let _ = writeln!(
            o,
            "- Due: {} ({})",
            local(n.due_at, tz),
            verdict(n.due_at, n.made_at, now)
        );
    }
    if let Some(made) = n.made_at {
        let _ = writeln!(
            o,
            "- Made: {} by {} via {} to {}",
            local(made, tz),
            md(n.made_by.as_deref().unwrap_or("?")),
            n.channel.map(|c| c.as_str()).unwrap_or("?"),
            md(n.recipient.as_deref().unwrap_or("?"))
        );
        if let Some(r) = &n.reference {
            let _ = writeln!(o, "- Reference: {}", md(r));
        }
        if let Some(r) = &n.delay_reason {
            let _ = writeln!(o, "- Reason for delay: {}", md(r));
        }
    }
    let _ = writeln!(
        o,
        "\n## Steps\n\n| Step | What | Status | Due | Who / when |\n|---|---|---|---|---|"
    );
    for s in i.steps.iter().filter(|s| s.applies(i)) {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            md(&s.id),
            md(&s.title),
            s.status,
            s.due_at.map(|d| local(d, tz)).unwrap_or_else(|| "-".into()),
            match (&s.who, s.updated_at) {
                (Some(w), Some(t)) => format!("{} {}", md(w), local(t, tz)),
                _ => "-".into(),
            }
        );
    }
    if !i.data_requests.is_empty() {
        let _ = writeln!(
            o,
            "\n## Data requests (paragraph 8.2.1 (e): 2 Working Days, without charge)\n\n| Id | Asked by, to | Received | What | Due | Status | Supplied |\n|---|---|---|---|---|---|---|"
        );
        for r in &i.data_requests {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.id,
                match (r.requester_name.is_empty(), r.authority) {
                    (true, RequestAuthority::Client) => {
                        format!("the Client, to {}", r.deliver_to.label())
                    }
                    (false, RequestAuthority::Client) => format!(
                        "{} (the Client's request), to {}",
                        md(&r.requester_name),
                        r.deliver_to.label()
                    ),
                    // Recorded before breachdesk asked on whose authority.
                    (_, RequestAuthority::Unconfirmed) => format!(
                        "{} (authority not recorded), to {}",
                        if r.requester_name.is_empty() {
                            "-".to_string()
                        } else {
                            md(&r.requester_name)
                        },
                        r.deliver_to.label()
                    ),
                },
                local(r.received_at, tz),
                md(&r.what),
                local(r.due_at, tz),
                r.status,
                r.supplied_at
                    .map(|t| format!(
                        "{} ({}), no charge",
                        local(t, tz),
                        md(r.supplied_how.as_deref().unwrap_or(""))
                    ))
                    .unwrap_or_else(|| "-".into())
            );
        }
    }
    let m = &i.mitigation;
    let _ = writeln!(o, "\n## Mitigation (paragraph 8.2.1 (c))\n");
    let _ = writeln!(
        o,
        "- What: {}",
        if m.description.is_empty() {
            "not recorded".into()
        } else {
            md(&m.description)
        }
    );
    let _ = writeln!(
        o,
        "- Tested: {}{}",
        yes_no(m.tested),
        if m.tested_how.is_empty() {
            String::new()
        } else {
            format!(" — {}", md(&m.tested_how))
        }
    );
    for e in &m.evidence {
        let _ = writeln!(o, "- Evidence: {}", evidence_line(e));
    }
    let _ = writeln!(o, "- Affects KPIs: {}", yes_no(m.affects_kpis));
    if m.affects_kpis {
        let _ = writeln!(
            o,
            "- KPI relief: requested {}, granted {}, period {}",
            m.kpi_relief
                .requested_at
                .map(|t| local(t, tz))
                .unwrap_or_else(|| "no".into()),
            m.kpi_relief.granted.map(yes_no).unwrap_or("not yet"),
            md(&m.kpi_relief.period)
        );
        if let Some(n) = &m.kpi_relief.notice {
            let _ = writeln!(
                o,
                "- The Client's written notice setting the relief period: dated {}, reference {}, period {}",
                n.dated,
                md(&n.reference),
                md(&n.period)
            );
        }
    }
    let rc = &i.root_cause;
    let _ = writeln!(o, "\n## Root cause (paragraphs 8.2.1 (d) and (f))\n");
    let _ = writeln!(
        o,
        "- Root-cause analysis required by the Client (8.2.1 (f)): {}",
        rca_words(i.rca_required)
    );
    match rc.category {
        Some(c) => {
            let _ = writeln!(
                o,
                "- Category: {c}\n- Asset/component: {}",
                md(&rc.component)
            );
        }
        None => {
            let _ = writeln!(o, "- Not recorded yet.");
        }
    }
    if !rc.analysis.is_empty() {
        let _ = writeln!(o, "\n{}\n", terminal_safe(&rc.analysis, true));
    }
    for a in &rc.prevention_actions {
        let _ = writeln!(o, "- Prevention: {}", md(a));
    }
    // A repeated root cause is an internal matter (8.2.1 (d) prevention):
    // `show` and the console show it; this report, which is attached to what
    // is sent to the Client, does not.
    let _ = writeln!(o, "\n## ISMS change (paragraph 8.3)\n");
    let _ = writeln!(
        o,
        "{}",
        if i.isms_change.required {
            format!(
                "Required, at no cost to the Client: {}",
                md(&i.isms_change.description)
            )
        } else {
            "Not flagged.".into()
        }
    );
    if let Some(c) = &i.closure {
        let _ = writeln!(
            o,
            "\n## Closure\n\nClosed{} {} by {}{}",
            if c.not_a_breach {
                " as not a Breach of Security"
            } else {
                ""
            },
            local(c.closed_at, tz),
            md(&c.closed_by),
            c.reason
                .as_deref()
                .map(|r| format!(": {}", md(r)))
                .unwrap_or_default()
        );
    }
    let rows = details_rows(i, tz);
    if !rows.is_empty() {
        let _ = writeln!(o, "\n## Details\n\n| | |\n|---|---|");
        for (k, v) in rows {
            let _ = writeln!(o, "| {k} | {} |", md(&v));
        }
    }
    let notices = crate::domain::register::register(i);
    let _ = writeln!(o, "\n## Notices given and received\n");
    if notices.is_empty() {
        let _ = writeln!(o, "- none recorded");
    }
    for e in &notices {
        let _ = writeln!(o, "- {}", md(&crate::domain::register::line(e, tz)));
    }
    let _ = writeln!(o, "\n## Timeline\n\n| When | Who | What |\n|---|---|---|");
    for e in &i.timeline {
        let _ = writeln!(
            o,
            "| {} | {} | {} |",
            local(e.at, tz),
            md(&e.by),
            md(&e.text)
        );
    }
    let _ = writeln!(o, "\n_Exported by breachdesk at {}._", local(now, tz));
    o
}

/// One open deadline of an incident.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenDeadline {
    pub key: String,
    pub title: String,
    pub due_at: DateTime<Utc>,
}

/// Every deadline still open: the 8.1 notification, open steps with a due
/// time, and open data requests.
pub fn open_deadlines(i: &Incident) -> Vec<OpenDeadline> {
    let mut out = Vec::new();
    if i.we_notify() && i.notification.made_at.is_none() {
        out.push(OpenDeadline {
            key: "notification".into(),
            title: "Notify the other party (8.1)".into(),
            due_at: i.notification.due_at,
        });
    }
    for s in i.steps.iter().filter(|s| s.is_open() && s.applies(i)) {
        if let Some(due) = s.due_at {
            // The notification and each data request are listed on their own.
            if s.fills.contains(&RecordField::Notification)
                || s.fills.contains(&RecordField::DataRequests)
            {
                continue;
            }
            out.push(OpenDeadline {
                key: format!("step-{}", s.id),
                title: format!("{} ({})", s.title, s.id),
                due_at: due,
            });
        }
    }
    for r in i
        .data_requests
        .iter()
        .filter(|r| r.status == RequestStatus::Open)
    {
        out.push(OpenDeadline {
            key: format!("request-{}", r.id),
            title: format!(
                "Supply data request {} to {} (8.2.1 e)",
                r.id,
                r.deliver_to.label()
            ),
            due_at: r.due_at,
        });
    }
    out
}

/// iCalendar text escaping (RFC 5545 3.3.11), control characters dropped.
fn ics_text(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (RFC 5545 3.1), never inside a character.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

fn ics_time(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The incident's open deadlines as iCalendar events, each ending at its
/// deadline with an alarm before it (15 minutes for the 1-hour clock, an
/// hour for the rest).
pub fn ics(incident: &Incident, now: DateTime<Utc>, marking: Option<&str>) -> String {
    let marking = marking.map(one_line).filter(|m| !m.trim().is_empty());
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//breachdesk//breachdesk//EN".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:PUBLISH".to_string(),
    ];
    for d in open_deadlines(incident) {
        let (length, alarm) = if d.key == "notification" {
            (Duration::minutes(15), "-PT15M")
        } else {
            (Duration::minutes(30), "-PT1H")
        };
        let summary = match &marking {
            Some(m) => format!("{m} DEADLINE {}: {}", incident.id, d.title),
            None => format!("DEADLINE {}: {}", incident.id, d.title),
        };
        lines.extend([
            "BEGIN:VEVENT".to_string(),
            format!("UID:{}-{}@breachdesk", incident.id, d.key),
            format!("DTSTAMP:{}", ics_time(now)),
            format!("DTSTART:{}", ics_time(d.due_at - length)),
            format!("DTEND:{}", ics_time(d.due_at)),
            format!("SUMMARY:{}", ics_text(&summary)),
            format!(
                "DESCRIPTION:{}",
                ics_text(&crate::export::marked(
                    format!("{}\nDue {}", incident.title, d.due_at.to_rfc3339()),
                    marking.clone()
                ))
            ),
            "BEGIN:VALARM".to_string(),
            "ACTION:DISPLAY".to_string(),
            format!("DESCRIPTION:{}", ics_text(&summary)),
            format!("TRIGGER;RELATED=END:{alarm}"),
            "END:VALARM".to_string(),
            "END:VEVENT".to_string(),
        ]);
    }
    lines.push("END:VCALENDAR".to_string());
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_lines_under_75_octets_and_characters_whole() {
        let long = format!("SUMMARY:{}", "é".repeat(100));
        let folded = fold(&long);
        for line in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        let unfolded = folded.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end(), long);
    }

    #[test]
    fn ics_text_escapes_separators() {
        assert_eq!(ics_text("a,b;c\\d\ne\u{1b}"), "a\\,b\\;c\\\\d\\ne");
    }
}
