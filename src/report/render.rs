//! A [`Doc`] as plain text (terminal-safe), Markdown, or a self-contained
//! printable HTML page; each escapes the record's text for where it goes.

use super::{Block, Doc};
use crate::text::{one_line, terminal_safe};
use std::fmt::Write;

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
    use super::super::Section;
    use super::*;

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
