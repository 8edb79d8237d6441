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
use std::collections::BTreeMap;
use std::path::Path;

// What each field says for an incident is worked out in `fields`.
pub use super::fields::{Extras, fields, kind_words, show_time};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incident::{BreachKind, Incident};
    use crate::domain::incident::{Channel, NewIncident, NoticeReceived, PartyRole, Severity};
    use chrono::{DateTime, Utc};

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
