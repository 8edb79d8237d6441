//! The commands that read: `list`, `show`, `export` and `evidence`. The
//! rows and documents come from the desk; this is only their printing.

use crate::cli::{ExportFormat, ListFormat, ShowFormat};
use crate::desk::{Document, EvidenceCheck, Listing};
use crate::domain::summary::IncidentSummary;
use crate::present::{state_seconds, state_word, verdict};
use crate::setup::Setup;
use crate::text::{json_safe, one_line};
use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `breachdesk list [--all|--closed] [--check] [--format table|json]`.
pub fn list(
    setup: &Setup,
    format: ListFormat,
    which: Listing,
    check: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = setup.reader()?;
    if format == ListFormat::Json {
        // Every record checked: what scripts read is exact.
        let (summaries, problems) = desk.listing(which);
        warn(&problems);
        let items: Vec<serde_json::Value> =
            summaries.iter().map(|s| summary_json(s, now)).collect();
        writeln!(out, "{}", json_safe(&serde_json::to_string_pretty(&items)?))?;
        return Ok(());
    }
    let found = desk.list_rows(which, check);
    let (rows, problems) = found.rows();
    warn(&problems);
    if rows.is_empty() {
        writeln!(
            out,
            "No incidents. Open one with: breachdesk new --title \"...\""
        )?;
        return Ok(());
    }
    // Rows built first and written at once: one pass of the safe writer
    // and one write(2), not one per row. Every text field is one line
    // already (see `ListRow`).
    let mut table = String::with_capacity(160 * (rows.len() + 1));
    let _ = writeln!(
        table,
        "{:<24}  {:<8}  {:<9}  {:<24}  {:<30}  {:<16}  TITLE",
        "ID", "SEVERITY", "KIND", "NOTIFICATION (8.1)", "NEXT ACTION", "MANAGER"
    );
    for row in &rows {
        let notification = if row.notice_received {
            Cow::Borrowed("notice received")
        } else {
            Cow::Owned(verdict(row.notification_due_at, row.notified_at, now))
        };
        // As `{:<24}  {:<8}  {:<9}  {:<24}  {:<30}  {:<16}  {}` would, a tenth of the time.
        pad(&mut table, &row.id, 24);
        pad(&mut table, row.severity.as_str(), 8);
        pad(&mut table, row.kind.as_str(), 9);
        pad(&mut table, &notification, 24);
        pad(&mut table, &truncate(&row.next, 30), 30);
        pad(&mut table, &truncate(&row.manager, 16), 16);
        table.push_str(&row.title);
        table.push('\n');
    }
    out.write_all(table.as_bytes())?;
    Ok(())
}

/// `text` left-aligned in `width` characters, then two spaces.
fn pad(out: &mut String, text: &str, width: usize) {
    const SPACES: &str = "                                  ";
    out.push_str(text);
    let fill = width.saturating_sub(text.chars().count());
    out.push_str(&SPACES[..fill.min(SPACES.len() - 2) + 2]);
}

fn warn(problems: &[String]) {
    for problem in problems {
        eprintln!("breachdesk: warning: {}", one_line(problem));
    }
}

fn truncate(text: &str, width: usize) -> Cow<'_, str> {
    match text.char_indices().nth(width) {
        None => Cow::Borrowed(text),
        Some(_) => {
            let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
            cut.push('…');
            Cow::Owned(cut)
        }
    }
}

/// The stable JSON form of one `list` row (documented in the README).
pub fn summary_json(s: &IncidentSummary, now: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({
        "id": s.id,
        "title": s.title,
        "kind": s.kind,
        "severity": s.severity,
        "status": s.status,
        "identified_at": s.identified_at,
        "logged_at": s.logged_at,
        "notification": match s.notice_received_at {
            // The other party identified the breach and notified us (8.1):
            // no countdown runs for us.
            Some(received) => serde_json::json!({
                "due_at": s.notification_due_at,
                "made_at": null,
                "received_at": received,
                "state": "received",
                "seconds": null,
            }),
            None => serde_json::json!({
                "due_at": s.notification_due_at,
                "made_at": s.notified_at,
                "state": state_word(s.notification_due_at, s.notified_at, now),
                "seconds": state_seconds(s.notification_due_at, s.notified_at, now),
            }),
        },
        "next_action": s.next_action.as_ref().map(|n| serde_json::json!({
            "step": n.step,
            "title": n.title,
            "due_at": n.due_at,
        })),
        "next_due_at": s.next_due_at,
        "open_requests": s.open_requests,
        "repeat_root_cause": s.repeat_root_cause,
        "incident_manager": s.incident_manager,
        "handover_waiting": s.handover_to,
        "revision": s.revision,
    })
}

/// `breachdesk show ID [--format text|json|toml]`.
pub fn show(
    setup: &Setup,
    id: &str,
    format: ShowFormat,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = setup.reader()?;
    match format {
        ShowFormat::Text => write!(out, "{}", desk.document(id, Document::Text, false, now)?)?,
        ShowFormat::Json => {
            // The record, plus `notices`: the register built from it, every
            // notice sent or received (`email_notices` holds the email ones).
            let incident = desk.load(id)?;
            let mut value = serde_json::to_value(&incident)?;
            if let Some(map) = value.as_object_mut() {
                map.insert(
                    "notices".into(),
                    serde_json::to_value(crate::domain::register::register(&incident))?,
                );
            }
            writeln!(out, "{}", json_safe(&serde_json::to_string_pretty(&value)?))?
        }
        ShowFormat::Toml => write!(out, "{}", toml::to_string(&desk.load(id)?)?)?,
    }
    Ok(())
}

/// `breachdesk export ID --format F [--output FILE] [--include-paths]`.
pub fn export(
    setup: &Setup,
    id: &str,
    format: ExportFormat,
    output: Option<PathBuf>,
    include_paths: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let document = match format {
        ExportFormat::Markdown => Document::Markdown,
        ExportFormat::Html => Document::Html,
        ExportFormat::Json => Document::Json,
        ExportFormat::Ics => Document::Ics,
        ExportFormat::ReportText => Document::ReportText,
        ExportFormat::ReportMarkdown => Document::ReportMarkdown,
        ExportFormat::ReportHtml => Document::ReportHtml,
    };
    let text = setup.reader()?.document(id, document, include_paths, now)?;
    let Some(path) = output else {
        out.write_all(text.as_bytes())?;
        return Ok(());
    };
    // Exports hold incident detail: private, and written atomically.
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("--output {}: not a file name", path.display()))?
        .to_string_lossy()
        .into_owned();
    crate::durable::replace_file(dir, &name, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `breachdesk evidence ID`: every evidence file re-hashed; fails when one
/// changed or went missing.
pub fn evidence(setup: &Setup, id: &str, out: &mut impl Write) -> Result<()> {
    let incident = setup.reader()?.load(id)?;
    let checks = crate::desk::check_evidence(&incident);
    if checks.is_empty() {
        writeln!(out, "{}: no evidence files recorded", incident.id)?;
        return Ok(());
    }
    let mut bad = 0;
    for (place, path, result) in &checks {
        match result {
            EvidenceCheck::Unchanged => writeln!(out, "ok       {place}: {path}")?,
            EvidenceCheck::Changed { size, sha256 } => {
                bad += 1;
                writeln!(
                    out,
                    "CHANGED  {place}: {path} (now {size} bytes, sha256 {sha256})"
                )?
            }
            EvidenceCheck::Unreadable(e) => {
                bad += 1;
                writeln!(out, "MISSING  {place}: {path} ({e})")?
            }
        }
    }
    if bad > 0 {
        bail!("{bad} evidence file(s) changed or missing since they were recorded");
    }
    Ok(())
}
