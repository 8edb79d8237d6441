//! An incident's open deadlines as iCalendar events (RFC 5545).

use crate::domain::incident::Incident;
use crate::domain::playbook::RecordField;
use crate::text::one_line;
use chrono::{DateTime, Duration, Utc};

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
    for r in i.data_requests.iter().filter(|r| r.is_open()) {
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
