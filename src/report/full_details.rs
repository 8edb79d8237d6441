//! The 8.2.1 (f) full-details report as a [`Doc`].
//!
//! Everything in it is the record as the responder entered it. Local file
//! paths stay out unless asked for: evidence is shown by file name, size
//! and SHA-256.

use super::{Block, Doc, EvidenceForm, Section, evidence_line};
use crate::domain::incident::{BreachKind, Evidence, Incident, RcaRequired};
use crate::domain::register::{line, register};
use crate::present::local;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

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
        if r.is_open() {
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
                    let status = match (q.ended_words(), &q.ended) {
                        (Some(words), Some(end)) => format!("{words}, {}", t(end.at)),
                        (Some(words), None) => words,
                        (None, _) => q.status.to_string(),
                    };
                    let mut s = format!(
                        "{}: {} (received {}, due {}, {})",
                        q.id,
                        q.what.trim(),
                        t(q.received_at),
                        t(q.due_at),
                        status
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
