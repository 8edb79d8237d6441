//! The documents made from one incident, as `show` and `export` write them:
//! the record as text, Markdown, JSON or iCalendar, and the 8.2.1 (f)
//! full-details report, each carrying the `[contract] marking`.

use super::*;

/// Which document to make from an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// The record, for reading on a terminal.
    Text,
    /// The record as Markdown.
    Markdown,
    /// The record as self-contained HTML (the Markdown export's content).
    Html,
    /// The record as JSON, with the marking.
    Json,
    /// The incident's open deadlines as iCalendar events.
    Ics,
    /// The 8.2.1 (f) full-details report as plain text.
    ReportText,
    /// The 8.2.1 (f) full-details report as Markdown (as attached to the report email).
    ReportMarkdown,
    /// The 8.2.1 (f) full-details report as self-contained printable HTML.
    ReportHtml,
}

impl Desk {
    /// Makes `document` from incident `id` as of `now`. `include_paths`
    /// shows evidence files' local paths in the report (by default only
    /// file name, size and SHA-256, as sent to the Client).
    pub fn document(
        &self,
        id: &str,
        document: Document,
        include_paths: bool,
        now: DateTime<Utc>,
    ) -> Result<String, DeskError> {
        let incident = self.load(id)?;
        let contract = &self.config.contract;
        let marking = contract.marking();
        let report = || {
            let options = crate::report::ReportOptions {
                marking: marking.clone(),
                contract: contract.line(),
                include_paths,
            };
            crate::report::full_details(&incident, self.tz, now, &options)
        };
        Ok(match document {
            Document::Text => crate::export::marked(
                crate::export::text(&incident, self.tz, now),
                marking.as_deref().map(crate::text::one_line),
            ),
            Document::Markdown => crate::export::marked(
                crate::export::markdown(&incident, self.tz, now),
                marking
                    .as_deref()
                    .map(|m| format!("**{}**", crate::text::one_line(m))),
            ),
            Document::Html => crate::export::html(&incident, self.tz, now, marking.clone()),
            Document::ReportText => crate::report::to_text(&report()),
            Document::ReportMarkdown => crate::report::to_markdown(&report()),
            Document::ReportHtml => crate::report::to_html(&report()),
            Document::Json => {
                let json =
                    |e: serde_json::Error| DeskError::System(format!("{}: {e}", incident.id));
                let mut value = serde_json::to_value(&incident).map_err(json)?;
                if let (Some(m), Some(map)) = (&marking, value.as_object_mut()) {
                    map.insert("marking".into(), serde_json::Value::String(m.clone()));
                }
                crate::text::json_safe(&serde_json::to_string_pretty(&value).map_err(json)?) + "\n"
            }
            Document::Ics => crate::export::ics(&incident, now, marking.as_deref()),
        })
    }
}
