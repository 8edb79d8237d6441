//! The 8.2.1 (f) full-details report, built once as a small document model
//! and rendered to plain text, Markdown and self-contained printable HTML.
//!
//! Everything in it is the record as the responder entered it. Local file
//! paths stay out unless asked for: evidence is shown by file name, size
//! and SHA-256.

use crate::domain::incident::{BreachKind, Evidence, Incident, RcaRequired, RequestStatus};
use crate::domain::register::{line, register};
use crate::present::local;
use crate::text::{one_line, terminal_safe};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::fmt::Write;

/// A document: a title, sections, an optional closing line, and the
/// protective marking that goes at its top and bottom.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub marking: Option<String>,
    pub title: String,
    pub sections: Vec<Section>,
    /// A closing line ("Exported by breachdesk at ...").
    pub footer: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub heading: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Label / value rows.
    Fields(Vec<(String, String)>),
    /// A paragraph (may span lines).
    Text(String),
    /// A bulleted list.
    List(Vec<String>),
    /// Rows under column headings.
    Table {
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

/// What goes into the report besides the record.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub marking: Option<String>,
    /// `[contract] name` / `reference`, as one line.
    pub contract: Option<String>,
    /// Show evidence files' local paths (off for what goes to the Client).
    pub include_paths: bool,
}

const UNKNOWN: &str = "not yet known";

fn or_unknown(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        UNKNOWN.to_string()
    } else {
        t.to_string()
    }
}

/// How much of an evidence file's path and hash a line shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceForm {
    /// The full local path, exact size and full SHA-256 (the record).
    Full,
    /// The file name only (what goes to the Client), exact size, full SHA-256.
    FileName,
    /// The full path, a human size and the hash's first 8 digits (screens).
    Short,
}

/// One evidence entry as a line of text, the one place this is formatted:
/// `/srv/logs/vpn.log (12 bytes, SHA-256 3f2a...)`; a note-only entry is its
/// note. Terminal-safe on one line.
pub fn evidence_line(e: &Evidence, form: EvidenceForm) -> String {
    let path = match (&e.path, &e.note) {
        (Some(path), _) => path,
        (None, Some(note)) => return one_line(note),
        (None, None) => return "-".into(),
    };
    let shown = match form {
        EvidenceForm::FileName => std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "(file)".into()),
        EvidenceForm::Full | EvidenceForm::Short => path.clone(),
    };
    let sha = e.sha256.as_deref().unwrap_or("?");
    let facts = match form {
        EvidenceForm::Short => {
            let n = e.size.unwrap_or(0);
            let size = if n < 1024 {
                format!("{n} B")
            } else if n < 1024 * 1024 {
                format!("{:.1} KiB", n as f64 / 1024.0)
            } else {
                format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
            };
            format!(
                "{size}, sha256 {}…",
                sha.chars().take(8).collect::<String>()
            )
        }
        _ => format!("{} bytes, SHA-256 {sha}", e.size.unwrap_or(0)),
    };
    one_line(&format!("{shown} ({facts})"))
}

fn file_of(e: &Evidence, include_paths: bool) -> String {
    let form = if include_paths {
        EvidenceForm::Full
    } else {
        EvidenceForm::FileName
    };
    evidence_line(e, form)
}

/// "the Breach of Security", "the potential Breach of Security", ...
pub fn breach_words(kind: BreachKind) -> &'static str {
    match kind {
        BreachKind::Breach => "the Breach of Security",
        BreachKind::Potential => "the potential Breach of Security",
        BreachKind::Attempted => "the attempted Breach of Security",
    }
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
    if incident.rca_required == RcaRequired::Yes && incident.root_cause.analysis.trim().is_empty() {
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
                r.deliver_to.label(),
                r.what.trim()
            ));
        }
    }
    missing
}

/// The 8.2.1 (f) full-details report of `incident`.
pub fn full_details(
    incident: &Incident,
    tz: Tz,
    now: DateTime<Utc>,
    options: &ReportOptions,
) -> Doc {
    let i = incident;
    let d = &i.details;
    let t = |at: DateTime<Utc>| local(at, tz);
    let mut sections = Vec::new();

    let notified = if i.we_notify() {
        i.notification
            .made_at
            .map(t)
            .unwrap_or_else(|| "not yet recorded".into())
    } else {
        match &i.notice_received {
            Some(r) => format!("received from {} at {}", r.from.trim(), t(r.received_at)),
            None => "not recorded".into(),
        }
    };
    sections.push(Section {
        heading: "Incident".into(),
        blocks: vec![Block::Fields(vec![
            ("Reference".into(), i.id.clone()),
            (
                "Contract".into(),
                options
                    .contract
                    .clone()
                    .unwrap_or_else(|| "not configured".into()),
            ),
            ("What happened".into(), i.title.clone()),
            ("Kind".into(), i.kind.to_string()),
            ("Severity".into(), i.severity.to_string()),
            ("Status".into(), i.status.to_string()),
            (
                "Breach started".into(),
                d.started_at.map(t).unwrap_or_else(|| UNKNOWN.into()),
            ),
            ("Identified".into(), t(i.identified_at)),
            ("Notification (8.1)".into(), notified),
            ("How detected".into(), or_unknown(&d.detected_how)),
            ("Containment".into(), or_unknown(&d.containment)),
            ("Report prepared".into(), t(now)),
        ])],
    });
    if !i.summary.trim().is_empty() {
        sections.push(Section {
            heading: "Summary".into(),
            blocks: vec![Block::Text(i.summary.trim().to_string())],
        });
    }
    sections.push(Section {
        heading: "Impact".into(),
        blocks: vec![
            Block::Fields(vec![
                ("Service".into(), or_unknown(&d.service_impact)),
                ("Confidentiality".into(), or_unknown(&d.confidentiality)),
                ("Integrity".into(), or_unknown(&d.integrity)),
                ("Availability".into(), or_unknown(&d.availability)),
            ]),
            Block::List(if i.affected_assets.is_empty() {
                vec!["no affected assets recorded".into()]
            } else {
                i.affected_assets
                    .iter()
                    .map(|a| format!("Affected asset: {a}"))
                    .collect()
            }),
        ],
    });
    let mut data = vec![(
        "Personal data".into(),
        if i.personal_data {
            "yes"
        } else {
            "none known to be involved"
        }
        .to_string(),
    )];
    if i.personal_data {
        data.push((
            "Data subjects".into(),
            d.data_subjects
                .map(|n| n.to_string())
                .unwrap_or_else(|| UNKNOWN.into()),
        ));
        data.push(("Categories".into(), or_unknown(&d.data_categories)));
    }
    data.push((
        "Government Data".into(),
        if i.government_data {
            if d.government_data_details.trim().is_empty() {
                "yes".to_string()
            } else {
                format!("yes: {}", d.government_data_details.trim())
            }
        } else {
            "none known to be involved".to_string()
        },
    ));
    data.push((
        "Others told".into(),
        if d.others_told.trim().is_empty() {
            "none recorded".into()
        } else {
            d.others_told.trim().to_string()
        },
    ));
    sections.push(Section {
        heading: "Personal data and Government Data".into(),
        blocks: vec![Block::Fields(data)],
    });

    let rc = &i.root_cause;
    let rca = match i.rca_required {
        RcaRequired::No => "The Client has not required a root-cause analysis.".to_string(),
        RcaRequired::Yes if rc.analysis.trim().is_empty() => {
            "Required by the Client; not yet written.".to_string()
        }
        RcaRequired::Unknown if rc.analysis.trim().is_empty() => "Not yet written.".to_string(),
        _ => rc.analysis.trim().to_string(),
    };
    sections.push(Section {
        heading: format!("Root cause of {}", breach_words(i.kind)),
        blocks: vec![
            Block::Fields(vec![
                (
                    "Category".into(),
                    rc.category
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "not yet determined".into()),
                ),
                ("Component".into(), or_unknown(&rc.component)),
            ]),
            Block::Text(rca),
        ],
    });
    sections.push(Section {
        heading: "Preventing a further breach from the same root cause (8.2.1 (d))".into(),
        blocks: vec![Block::List(if rc.prevention_actions.is_empty() {
            vec!["none recorded yet".into()]
        } else {
            rc.prevention_actions.clone()
        })],
    });
    let m = &i.mitigation;
    let mut mitigation = vec![
        ("Mitigation".into(), {
            let s = m.description.trim();
            if s.is_empty() {
                "none described yet".to_string()
            } else {
                s.to_string()
            }
        }),
        (
            "Tested".into(),
            if m.tested {
                if m.tested_how.trim().is_empty() {
                    "yes".into()
                } else {
                    format!("yes: {}", m.tested_how.trim())
                }
            } else {
                "no".into()
            },
        ),
    ];
    let r = &m.kpi_relief;
    let relief = match (r.requested_at, r.granted) {
        (_, Some(true)) => {
            let mut s = "granted".to_string();
            if !r.period.trim().is_empty() {
                s.push_str(&format!(" for {}", r.period.trim()));
            }
            if let Some(n) = &r.notice {
                s.push_str(&format!(
                    " (the Client's written notice dated {}, reference {})",
                    n.dated, n.reference
                ));
            }
            s
        }
        (Some(at), Some(false)) => format!("requested {}; not granted", t(at)),
        (Some(at), None) => format!("requested {}", t(at)),
        (None, _) => "not requested".into(),
    };
    mitigation.push(("KPI relief".into(), relief));
    let mut blocks = vec![Block::Fields(mitigation)];
    if !m.evidence.is_empty() {
        blocks.push(Block::List(
            m.evidence
                .iter()
                .map(|e| format!("Evidence of testing: {}", file_of(e, options.include_paths)))
                .collect(),
        ));
    }
    sections.push(Section {
        heading: "Mitigation (8.2.1 (c))".into(),
        blocks,
    });
    sections.push(Section {
        heading: "Change to the ISMS (8.3)".into(),
        blocks: vec![Block::Text(
            if i.isms_change.description.trim().is_empty() {
                "No change to the ISMS recorded.".into()
            } else {
                i.isms_change.description.trim().to_string()
            },
        )],
    });
    sections.push(Section {
        heading: "Data requests (8.2.1 (e))".into(),
        blocks: vec![Block::List(if i.data_requests.is_empty() {
            vec!["none".into()]
        } else {
            i.data_requests
                .iter()
                .map(|q| {
                    let mut s = format!(
                        "{}: {} (received {}, due {}, {})",
                        q.id,
                        q.what.trim(),
                        t(q.received_at),
                        t(q.due_at),
                        q.status
                    );
                    for a in &q.attachments {
                        s.push_str(&format!("; supplied {}", file_of(a, options.include_paths)));
                    }
                    s
                })
                .collect()
        })],
    });
    let notices: Vec<String> = register(i).iter().map(|e| line(e, tz)).collect();
    sections.push(Section {
        heading: "Notices given and received".into(),
        blocks: vec![Block::List(if notices.is_empty() {
            vec!["none recorded".into()]
        } else {
            notices
        })],
    });
    sections.push(Section {
        heading: "Residual risk".into(),
        blocks: vec![Block::Text(or_unknown(&d.residual_risk))],
    });
    sections.push(Section {
        heading: "Lessons learned".into(),
        blocks: vec![Block::Text(or_unknown(&d.lessons_learned))],
    });
    let missing = missing_for_report(i);
    sections.push(Section {
        heading: "Still outstanding".into(),
        blocks: vec![Block::List(if missing.is_empty() {
            vec!["nothing outstanding".into()]
        } else {
            missing
        })],
    });
    Doc {
        marking: options.marking.clone(),
        title: format!(
            "{}: full details under paragraph 8.2.1 (f): {}",
            i.id, i.title
        ),
        sections,
        footer: None,
    }
}

/// Plain text (terminal-safe).
pub fn to_text(doc: &Doc) -> String {
    let mut o = String::new();
    if let Some(m) = &doc.marking {
        let _ = writeln!(o, "{}\n", one_line(m));
    }
    let _ = writeln!(o, "{}", one_line(&doc.title));
    for s in &doc.sections {
        let _ = writeln!(o, "\n{}", one_line(&s.heading));
        for b in &s.blocks {
            match b {
                Block::Fields(rows) => {
                    for (k, v) in rows {
                        let _ = writeln!(o, "  {}: {}", one_line(k), one_line(v));
                    }
                }
                Block::Text(text) => {
                    for l in terminal_safe(text, true).lines() {
                        let _ = writeln!(o, "  {l}");
                    }
                }
                Block::List(items) => {
                    for item in items {
                        let _ = writeln!(o, "  - {}", one_line(item));
                    }
                }
                Block::Table { rows, .. } => {
                    // One line a row, its cells (the empty and "-" ones left
                    // out) two spaces apart.
                    for row in rows {
                        let cells: Vec<String> = row
                            .iter()
                            .filter(|c| !c.trim().is_empty() && c.trim() != "-")
                            .map(|c| one_line(c))
                            .collect();
                        let _ = writeln!(o, "  {}", cells.join("  "));
                    }
                }
            }
        }
    }
    if let Some(f) = &doc.footer {
        let _ = writeln!(o, "\n{}", one_line(f));
    }
    if let Some(m) = &doc.marking {
        let _ = writeln!(o, "\n{}", one_line(m));
    }
    o
}

fn md(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// Markdown.
pub fn to_markdown(doc: &Doc) -> String {
    let mut o = String::new();
    if let Some(m) = &doc.marking {
        let _ = writeln!(o, "**{}**\n", md(m));
    }
    let _ = writeln!(o, "# {}", md(&doc.title));
    for s in &doc.sections {
        let _ = writeln!(o, "\n## {}\n", md(&s.heading));
        for b in &s.blocks {
            match b {
                Block::Fields(rows) => {
                    let _ = writeln!(o, "| | |\n|---|---|");
                    for (k, v) in rows {
                        let _ = writeln!(o, "| {} | {} |", md(k), md(v));
                    }
                    o.push('\n');
                }
                Block::Text(text) => {
                    let _ = writeln!(o, "{}\n", terminal_safe(text, true).trim_end());
                }
                Block::List(items) => {
                    for item in items {
                        let _ = writeln!(o, "- {}", md(item));
                    }
                    o.push('\n');
                }
                Block::Table { columns, rows } => {
                    let head: Vec<String> = columns.iter().map(|c| md(c)).collect();
                    let _ = writeln!(o, "| {} |", head.join(" | "));
                    let _ = writeln!(o, "|{}", "---|".repeat(columns.len()));
                    for row in rows {
                        let cells: Vec<String> = row.iter().map(|c| md(c)).collect();
                        let _ = writeln!(o, "| {} |", cells.join(" | "));
                    }
                    o.push('\n');
                }
            }
        }
    }
    if let Some(f) = &doc.footer {
        let _ = writeln!(o, "_{}_\n", md(f));
    }
    if let Some(m) = &doc.marking {
        let _ = writeln!(o, "**{}**", md(m));
    }
    o
}

/// Escapes text for HTML element content and attribute values; control
/// characters other than newline and tab are dropped.
pub fn html_escape(text: &str) -> String {
    let mut o = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\n' | '\t' => o.push(c),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "body{font-family:sans-serif;max-width:50em;margin:2em auto;color:#000}\
.marking{text-align:center;font-weight:bold;letter-spacing:.1em;border:2px solid #000;padding:.3em}\
table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3em;vertical-align:top;text-align:left}\
th{width:12em;background:#eee}table.rows th{width:auto}.text{white-space:pre-wrap}\
@media print{.marking{position:static}h2{page-break-after:avoid}}";

/// A self-contained printable HTML page: no scripts, no external resources.
pub fn to_html(doc: &Doc) -> String {
    let e = html_escape;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">"
    );
    let _ = writeln!(
        o,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    );
    let title = match &doc.marking {
        Some(m) => format!("{} {}", m, doc.title),
        None => doc.title.clone(),
    };
    let _ = writeln!(
        o,
        "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        e(&title)
    );
    if let Some(m) = &doc.marking {
        let _ = writeln!(o, "<div class=\"marking\">{}</div>", e(m));
    }
    let _ = writeln!(o, "<h1>{}</h1>", e(&doc.title));
    for s in &doc.sections {
        let _ = writeln!(o, "<h2>{}</h2>", e(&s.heading));
        for b in &s.blocks {
            match b {
                Block::Fields(rows) => {
                    let _ = writeln!(o, "<table>");
                    for (k, v) in rows {
                        let _ = writeln!(o, "<tr><th>{}</th><td>{}</td></tr>", e(k), e(v));
                    }
                    let _ = writeln!(o, "</table>");
                }
                Block::Text(text) => {
                    let _ = writeln!(o, "<p class=\"text\">{}</p>", e(text.trim()));
                }
                Block::List(items) => {
                    let _ = writeln!(o, "<ul>");
                    for item in items {
                        let _ = writeln!(o, "<li>{}</li>", e(item));
                    }
                    let _ = writeln!(o, "</ul>");
                }
                Block::Table { columns, rows } => {
                    let _ = writeln!(o, "<table class=\"rows\">");
                    let head: String = columns
                        .iter()
                        .map(|c| format!("<th>{}</th>", e(c)))
                        .collect();
                    let _ = writeln!(o, "<tr>{head}</tr>");
                    for row in rows {
                        let cells: String =
                            row.iter().map(|c| format!("<td>{}</td>", e(c))).collect();
                        let _ = writeln!(o, "<tr>{cells}</tr>");
                    }
                    let _ = writeln!(o, "</table>");
                }
            }
        }
    }
    if let Some(f) = &doc.footer {
        let _ = writeln!(o, "<p><em>{}</em></p>", e(f));
    }
    if let Some(m) = &doc.marking {
        let _ = writeln!(o, "<div class=\"marking\">{}</div>", e(m));
    }
    let _ = writeln!(o, "</body>\n</html>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_evidence_line_in_three_forms() {
        let e = Evidence {
            added_at: chrono::DateTime::UNIX_EPOCH,
            added_by: "sam".into(),
            note: None,
            path: Some("/srv/logs/vpn\u{1b}[2J.log".into()),
            path_hex: None,
            size: Some(12 * 1024),
            sha256: Some("3f2a9c1b".repeat(8)),
        };
        let full = evidence_line(&e, EvidenceForm::Full);
        assert_eq!(
            full,
            format!(
                "/srv/logs/vpn^[[2J.log (12288 bytes, SHA-256 {})",
                "3f2a9c1b".repeat(8)
            )
        );
        assert!(evidence_line(&e, EvidenceForm::FileName).starts_with("vpn^[[2J.log (12288 bytes"));
        assert_eq!(
            evidence_line(&e, EvidenceForm::Short),
            "/srv/logs/vpn^[[2J.log (12.0 KiB, sha256 3f2a9c1b…)"
        );
        let note = Evidence {
            path: None,
            note: Some("seen on screen".into()),
            ..e
        };
        assert_eq!(evidence_line(&note, EvidenceForm::Full), "seen on screen");
    }

    #[test]
    fn html_escapes_record_text() {
        assert_eq!(
            html_escape("<script>alert('x')</script> & \"q\"\u{1b}[31m"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;[31m"
        );
    }

    #[test]
    fn marking_heads_and_ends_every_rendering() {
        let doc = Doc {
            marking: Some("OFFICIAL-SENSITIVE".into()),
            title: "T <b>".into(),
            sections: vec![Section {
                heading: "H".into(),
                blocks: vec![
                    Block::Fields(vec![("k".into(), "v|w".into())]),
                    Block::Text("line one\nline two".into()),
                    Block::List(vec!["<img src=x>".into()]),
                ],
            }],
            footer: None,
        };
        let text = to_text(&doc);
        assert!(text.starts_with("OFFICIAL-SENSITIVE\n"), "{text}");
        assert!(text.trim_end().ends_with("OFFICIAL-SENSITIVE"), "{text}");
        let md = to_markdown(&doc);
        assert!(md.starts_with("**OFFICIAL-SENSITIVE**"), "{md}");
        assert!(md.trim_end().ends_with("**OFFICIAL-SENSITIVE**"), "{md}");
        assert!(md.contains("v\\|w"), "{md}");
        let html = to_html(&doc);
        assert_eq!(
            html.matches("<div class=\"marking\">OFFICIAL-SENSITIVE</div>")
                .count(),
            2
        );
        assert!(html.contains("&lt;img src=x&gt;"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("://"), "no external resources: {html}");
    }
}
