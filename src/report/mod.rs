//! Documents for people, built once as a small model ([`Doc`]) and rendered
//! to plain text, Markdown and self-contained printable HTML ([`render`]):
//! the 8.2.1 (f) full-details report ([`full_details`]) and the incident
//! export and `show` view ([`crate::export`]). An evidence entry is written
//! one way everywhere ([`evidence_line`]).

use crate::domain::incident::Evidence;
use crate::text::one_line;

mod full_details;
mod render;

pub use full_details::{ReportOptions, breach_words, full_details, missing_for_report};
pub use render::{html_escape, to_html, to_markdown, to_text};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_evidence_line_in_three_forms() {
        let e = Evidence {
            uid: String::new(),
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
            uid: String::new(),
            path: None,
            note: Some("seen on screen".into()),
            ..e
        };
        assert_eq!(evidence_line(&note, EvidenceForm::Full), "seen on screen");
    }
}
