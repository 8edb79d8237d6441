//! The incident screen's panes (Tab cycles them): steps, timeline, data
//! requests, root cause, mitigation, the ISMS change and the notices.

use super::{countdown, safe};
use crate::domain::incident::{Incident, RequestStatus, StepStatus};
use crate::domain::playbook::waiting_on;
use crate::present::{local_short, verdict};
use crate::tui::app::{App, IncidentScreen};
use crate::tui::keymap::{self, Cmd, Context};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Cell, List, ListItem, ListState, Paragraph, Row, Table, TableState, Wrap,
};
fn status_mark(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Todo => "[ ]",
        StepStatus::InProgress => "[~]",
        StepStatus::Done => "[x]",
        StepStatus::NotApplicable => "[-]",
    }
}

pub(super) fn steps(
    app: &App,
    screen: &IncidentScreen,
    incident: &Incident,
    now: DateTime<Utc>,
    frame: &mut Frame,
    area: Rect,
) {
    let [list_area, detail] = area.layout(&Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(5),
    ]));
    let shown = crate::domain::playbook::shown_steps(incident);
    let id_width = shown
        .iter()
        .map(|s| s.id.chars().count())
        .max()
        .unwrap_or(0);
    let items: Vec<ListItem> = shown
        .iter()
        .map(|step| {
            let applies = step.applies(incident);
            let mut spans = vec![
                Span::raw(format!("{} ", status_mark(step.status))),
                Span::styled(format!("{:<id_width$} ", safe(&step.id)), app.theme.key()),
                Span::raw(safe(&step.title)),
            ];
            if !applies {
                spans.push(Span::styled(" (does not apply)", app.theme.dim()));
            }
            let not_applicable = !applies || step.status == StepStatus::NotApplicable;
            if let Some(due) = step.due_at.filter(|_| !not_applicable) {
                if step.is_open() {
                    let (text, style) = countdown(app, due, now);
                    spans.push(Span::styled(format!("  {text}"), style));
                } else {
                    let text = verdict(due, step.completed_at, now);
                    spans.push(Span::styled(format!("  {text}"), app.theme.dim()));
                }
            }
            if let (Some(who), Some(at)) = (&step.who, step.updated_at) {
                spans.push(Span::styled(
                    format!("  {} {}", safe(who), local_short(at, app.tz)),
                    app.theme.dim(),
                ));
            }
            ListItem::new(Line::from(spans))
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(screen.step));
    frame.render_stateful_widget(
        List::new(items).highlight_style(app.theme.selected()),
        list_area,
        &mut state,
    );
    if let Some(step) = shown.get(screen.step) {
        let mut lines = Vec::new();
        let waiting = waiting_on(incident, step);
        if !waiting.is_empty() && step.is_open() {
            lines.push(Line::styled(
                format!("waits for {}", waiting.join(", ")),
                app.theme.warn(),
            ));
        }
        for evidence in &step.evidence {
            lines.push(Line::styled(
                format!("evidence: {}", evidence_line(evidence)),
                app.theme.dim(),
            ));
        }
        for note in step.notes.iter().rev().take(1) {
            lines.push(Line::styled(
                format!("note: {}", safe(&note.text)),
                app.theme.dim(),
            ));
        }
        lines.push(Line::raw(safe(&step.guidance.replace('\n', " "))));
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: true }).block(
                Block::new()
                    .borders(ratatui::widgets::Borders::TOP)
                    .title(" d done · w in progress · x n/a · u to-do · o note "),
            ),
            detail,
        );
    }
}

pub(super) fn timeline(
    app: &App,
    screen: &IncidentScreen,
    incident: &Incident,
    frame: &mut Frame,
    area: Rect,
) {
    if incident.timeline.is_empty() {
        frame.render_widget(Paragraph::new("Nothing logged yet: press l."), area);
        return;
    }
    // The selected entry in full below the list: as many lines as it needs
    // (wrapped); a longer one than fits scrolls (PgDn/PgUp, from
    // the keymap table) so its last line can be reached.
    let detail_text = incident.timeline.get(screen.entry).map(|e| {
        Paragraph::new(crate::text::terminal_safe(&e.text, true)).wrap(Wrap { trim: true })
    });
    let wrapped = detail_text
        .as_ref()
        .map_or(1, |p| p.line_count(area.width.max(1)).max(1));
    // The list keeps a row per entry, up to half the pane; the detail has
    // the rest.
    let list_rows = u16::try_from(incident.timeline.len())
        .unwrap_or(u16::MAX)
        .min(area.height / 2);
    let detail_height = u16::try_from(wrapped + 1)
        .unwrap_or(u16::MAX)
        .min(area.height.saturating_sub(list_rows))
        .max(3);
    let [list_area, detail] = area.layout(&Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(detail_height),
    ]));
    // Padded columns: who and what kind, as wide as the widest shown.
    let by_width = incident
        .timeline
        .iter()
        .map(|e| safe(&e.by).chars().count())
        .max()
        .unwrap_or(0)
        .min(24);
    let kind_width = incident
        .timeline
        .iter()
        .map(|e| e.kind.as_str().len())
        .max()
        .unwrap_or(0);
    let items: Vec<ListItem> = incident
        .timeline
        .iter()
        .map(|e| {
            let by: String = safe(&e.by).chars().take(by_width).collect();
            ListItem::new(Line::from(vec![
                Span::styled(local_short(e.at, app.tz), app.theme.dim()),
                Span::raw(" "),
                Span::styled(format!("{by:<by_width$} "), app.theme.key()),
                Span::styled(
                    format!("{:<kind_width$} ", e.kind.as_str()),
                    app.theme.dim(),
                ),
                Span::raw(safe(&e.text)),
            ]))
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(screen.entry));
    frame.render_stateful_widget(
        List::new(items).highlight_style(app.theme.selected()),
        list_area,
        &mut state,
    );
    if let Some(paragraph) = detail_text {
        let shown = usize::from(detail.height.saturating_sub(1)).max(1);
        let room = u16::try_from(wrapped.saturating_sub(shown)).unwrap_or(u16::MAX);
        screen.detail_room.set(room);
        let offset = screen.detail_offset();
        let mut block = Block::new().borders(ratatui::widgets::Borders::TOP);
        if room > 0 {
            let keys = keymap::label(Context::Incident, Cmd::DetailDown);
            let first = usize::from(offset) + 1;
            let last = (usize::from(offset) + shown).min(wrapped);
            block = block.title(format!(
                " lines {first}-{last} of {wrapped} · {keys} scroll "
            ));
        }
        frame.render_widget(paragraph.scroll((offset, 0)).block(block), detail);
    }
}

pub(super) fn requests(
    app: &App,
    screen: &IncidentScreen,
    incident: &Incident,
    now: DateTime<Utc>,
    frame: &mut Frame,
    area: Rect,
) {
    if incident.data_requests.is_empty() {
        frame.render_widget(
            Paragraph::new(
                "No data requests. Press a to add one: it is due 2 Working Days after receipt (8.2.1 e).",
            )
            .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let states: Vec<(String, ratatui::style::Style)> = incident
        .data_requests
        .iter()
        .map(|r| match r.status {
            RequestStatus::Open => countdown(app, r.due_at, now),
            RequestStatus::Supplied => (
                verdict(r.due_at, r.supplied_at, now).replace("done, ", "supplied, "),
                app.theme.ok(),
            ),
            RequestStatus::Withdrawn => ("withdrawn by the Client".to_string(), app.theme.dim()),
            RequestStatus::NotSupplied => ("not supplied".to_string(), app.theme.dim()),
        })
        .collect();
    // The state column as wide as its longest entry, so it is never cut
    // (the "what" column gives way).
    let state_width = states
        .iter()
        .map(|(s, _)| s.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(14, 40);
    let rows = incident
        .data_requests
        .iter()
        .zip(states)
        .map(|(r, (state, style))| {
            let from = if r.requester_name.is_empty() {
                format!("to {}", r.deliver_to.as_str())
            } else {
                format!("{} (to {})", safe(&r.requester_name), r.deliver_to.as_str())
            };
            Row::new(vec![
                Cell::from(safe(&r.id)),
                Cell::from(from),
                Cell::from(safe(&r.what)),
                Cell::from(local_short(r.received_at, app.tz)),
                Cell::from(local_short(r.due_at, app.tz)),
                Cell::from(Span::styled(state, style)),
            ])
        });
    let table = Table::new(
        rows,
        [
            Constraint::Length(4),
            Constraint::Length(12),
            Constraint::Fill(1),
            Constraint::Length(16),
            Constraint::Length(16),
            Constraint::Length(u16::try_from(state_width).unwrap_or(40)),
        ],
    )
    .header(
        Row::new(["id", "asked by", "what", "received", "due", "state"]).style(app.theme.title()),
    )
    .row_highlight_style(app.theme.selected());
    let mut state = TableState::default().with_selected(Some(screen.request));
    frame.render_stateful_widget(table, area, &mut state);
}

fn field<'a>(app: &App, label: &'a str, value: String) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<14}"), app.theme.key()),
        Span::raw(value),
    ])
}

fn or_none(text: &str) -> String {
    if text.trim().is_empty() {
        "—".into()
    } else {
        safe(text)
    }
}

pub(super) fn root_cause(app: &App, incident: &Incident, frame: &mut Frame, area: Rect) {
    let rc = &incident.root_cause;
    let mut lines = Vec::new();
    for link in &incident.repeat_of {
        lines.push(Line::styled(
            format!(
                "⚠ REPEAT ROOT CAUSE of {} ({} in {}): an 8.2.1 (d) prevention failure (internal), escalate",
                safe(&link.incident),
                link.category,
                safe(&link.component)
            ),
            app.theme.danger(),
        ));
    }
    lines.push(field(
        app,
        "RCA required",
        match incident.rca_required {
            crate::domain::incident::RcaRequired::Yes => "yes, by the Client (8.2.1 f)",
            crate::domain::incident::RcaRequired::No => "no, the Client does not require one",
            crate::domain::incident::RcaRequired::Unknown => "not yet known (ask the Client)",
        }
        .to_string(),
    ));
    lines.push(field(
        app,
        "Category",
        rc.category.map_or("—".into(), |c| c.as_str().to_string()),
    ));
    lines.push(field(app, "Component", or_none(&rc.component)));
    if let (Some(by), Some(at)) = (&rc.recorded_by, rc.recorded_at) {
        lines.push(field(
            app,
            "Recorded",
            format!("{} by {}", local_short(at, app.tz), safe(by)),
        ));
    }
    lines.push(field(app, "Analysis", String::new()));
    for line in crate::text::terminal_safe(&rc.analysis, true).lines() {
        lines.push(Line::raw(format!("  {line}")));
    }
    lines.push(field(app, "Prevention", String::new()));
    for action in &rc.prevention_actions {
        lines.push(Line::raw(format!("  • {}", safe(action))));
    }
    lines.push(Line::styled(
        "r: record or edit the root cause",
        app.theme.dim(),
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// An evidence file as the screen shows it: path, size and short hash
/// (`/srv/logs/vpn.log (12.0 KiB, sha256 3f2a9c1b…)`).
fn evidence_line(e: &crate::domain::incident::Evidence) -> String {
    crate::report::evidence_line(e, crate::report::EvidenceForm::Short)
}

fn yes_no(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_string()
}

pub(super) fn mitigation(app: &App, incident: &Incident, frame: &mut Frame, area: Rect) {
    let m = &incident.mitigation;
    let relief = &m.kpi_relief;
    let lines = vec![
        field(app, "What", or_none(&m.description)),
        field(app, "Tested how", or_none(&m.tested_how)),
        field(app, "Tested", yes_no(m.tested)),
        field(
            app,
            "Evidence",
            if m.evidence.is_empty() {
                "none".to_string()
            } else {
                m.evidence
                    .iter()
                    .map(evidence_line)
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        ),
        field(app, "Affects KPIs", yes_no(m.affects_kpis)),
        field(
            app,
            "KPI relief",
            format!(
                "{}{}",
                or_none(&relief.period),
                match relief.granted {
                    Some(true) => " (granted)",
                    Some(false) => " (refused)",
                    None => "",
                }
            ),
        ),
        Line::styled("m: edit the mitigation", app.theme.dim()),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

pub(super) fn isms(app: &App, incident: &Incident, frame: &mut Frame, area: Rect) {
    let c = &incident.isms_change;
    let lines = vec![
        field(app, "Required", yes_no(c.required)),
        field(app, "Description", or_none(&c.description)),
        Line::styled(
            "8.3: a change to the ISMS needed because of the breach is made at no cost to the Client. i: edit",
            app.theme.dim(),
        ),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// The notice register: every notice sent or received, oldest first, and
/// the facts the next notice will state.
pub(super) fn notices(app: &App, incident: &Incident, frame: &mut Frame, area: Rect) {
    use crate::domain::incident::Direction;
    let entries = crate::domain::register::register(incident);
    let mut lines = Vec::new();
    if entries.is_empty() {
        lines.push(Line::raw("No notices sent or received yet."));
    }
    for e in &entries {
        let dir = match e.direction {
            Direction::Sent => "sent to    ",
            Direction::Received => "recv. from ",
        };
        let mut text = format!("{} by {}: {}", e.party, e.channel, safe(&e.what));
        if let Some(r) = &e.reference {
            text.push_str(&format!(" [{}]", safe(r)));
        }
        if let Some(d) = e.delivery {
            text.push_str(&format!(" ({d})"));
        }
        lines.push(Line::from(vec![
            Span::styled(local_short(e.at, app.tz), app.theme.dim()),
            Span::raw(" "),
            Span::styled(dir, app.theme.key()),
            Span::raw(text),
        ]));
    }
    let d = &incident.details;
    lines.push(Line::raw(""));
    lines.push(field(
        app,
        "Next update",
        d.next_update_due
            .map(|at| local_short(at, app.tz))
            .unwrap_or_else(|| "—".into()),
    ));
    lines.push(field(app, "Containment", or_none(&d.containment)));
    lines.push(Line::styled(
        "breachdesk notice add records a call, letter or portal report (ICO, NCSC, police, insurer, data subjects)",
        app.theme.dim(),
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
