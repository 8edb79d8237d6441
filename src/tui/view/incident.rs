//! The incident screen: the 8.1 notification clock on top, then the panes.

use super::{countdown, safe};
use crate::domain::clock::{ClockState, clock_state, format_duration_short};
use crate::domain::incident::{Incident, RequestStatus, StepStatus};
use crate::domain::playbook::waiting_on;
use crate::present::{local_short, verdict};
use crate::tui::app::{App, IncidentScreen, Pane};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Cell, Gauge, List, ListItem, ListState, Paragraph, Row, Table, TableState, Tabs, Wrap,
};

pub fn render(app: &App, now: DateTime<Utc>, frame: &mut Frame, area: Rect) {
    let Some(screen) = &app.incident else {
        return;
    };
    let Some(incident) = screen.record.as_deref() else {
        frame.render_widget(
            Paragraph::new(format!("Loading {}…", safe(&screen.id))),
            area,
        );
        return;
    };
    let [head, clock_area, tabs, pane] = area.layout(&Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(4),
        Constraint::Length(1),
        Constraint::Fill(1),
    ]));
    render_head(app, incident, frame, head);
    render_clock(app, incident, now, frame, clock_area);
    let titles = Pane::ALL.iter().map(|p| p.title());
    frame.render_widget(
        Tabs::new(titles)
            .select(screen.pane as usize)
            .highlight_style(app.theme.selected())
            .divider("│"),
        tabs,
    );
    let block = Block::bordered()
        .title(format!(" {} ", screen.pane.title()))
        .border_style(app.theme.focus_border());
    let inner = block.inner(pane);
    frame.render_widget(block, pane);
    match screen.pane {
        Pane::Steps => steps(app, screen, incident, now, frame, inner),
        Pane::Timeline => timeline(app, screen, incident, frame, inner),
        Pane::Requests => requests(app, screen, incident, now, frame, inner),
        Pane::RootCause => root_cause(app, incident, frame, inner),
        Pane::Mitigation => mitigation(app, incident, frame, inner),
        Pane::Isms => isms(app, incident, frame, inner),
        Pane::Notices => notices(app, incident, frame, inner),
    }
}

fn render_head(app: &App, incident: &Incident, frame: &mut Frame, area: Rect) {
    let mut facts = vec![
        incident.kind.label().to_string(),
        incident.severity.as_str().to_string(),
    ];
    if incident.personal_data {
        facts.push("personal data".into());
    }
    facts.push(if incident.we_notify() {
        format!(
            "identified {} by {}",
            local_short(incident.identified_at, app.tz),
            safe(&incident.logged_by)
        )
    } else {
        format!(
            "identified {} by the {}",
            local_short(incident.identified_at, app.tz),
            incident.our_role.other_party().label()
        )
    });
    if !incident.is_open() {
        let not_a_breach = incident.closure.as_ref().is_some_and(|c| c.not_a_breach);
        facts.push(if not_a_breach {
            "CLOSED: not a Breach of Security".into()
        } else {
            "CLOSED".into()
        });
    }
    let lines = vec![
        Line::from(vec![
            Span::styled(safe(&incident.id), app.theme.title()),
            Span::raw("  "),
            Span::styled(safe(&incident.title), app.theme.title()),
        ]),
        Line::styled(facts.join(" · "), app.theme.dim()),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

fn render_clock(app: &App, incident: &Incident, now: DateTime<Utc>, frame: &mut Frame, area: Rect) {
    if let Some(r) = incident
        .notice_received
        .as_ref()
        .filter(|_| !incident.we_notify())
    {
        // The other party identified it and notified us: no countdown runs for us.
        let party = incident.our_role.other_party().label();
        let block = Block::bordered()
            .title(format!(" 8.1 Notice received from the {party} "))
            .border_style(app.theme.ok());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let mut second = vec![format!("recorded by {}", safe(&r.recorded_by))];
        if let Some(reference) = &r.reference {
            second.push(format!("ref {}", safe(reference)));
        }
        second.push("8.2 runs from this notice".to_string());
        let lines = vec![
            Line::styled(
                format!(
                    "Received {} by {} from {}",
                    local_short(r.received_at, app.tz),
                    r.channel,
                    safe(&r.from)
                ),
                app.theme.ok(),
            ),
            Line::styled(second.join(" · "), app.theme.dim()),
        ];
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let n = &incident.notification;
    let party = incident.our_role.other_party().label();
    let due = local_short(n.due_at, app.tz);
    let title = format!(" 8.1 Notify the {party} within 1 hour · due {due} ");
    match clock_state(n.due_at, n.made_at, now) {
        ClockState::Running { remaining } => {
            let secs = remaining.num_seconds();
            let style = app.theme.clock(secs);
            let ratio = (secs as f64 / 3600.0).clamp(0.0, 1.0);
            let block = Block::bordered().title(title).border_style(style);
            let inner = block.inner(area);
            frame.render_widget(block, area);
            let [bar, words] = inner.layout(&Layout::vertical([
                Constraint::Length(1),
                Constraint::Length(1),
            ]));
            frame.render_widget(
                Gauge::default()
                    .ratio(ratio)
                    .gauge_style(style)
                    .use_unicode(true)
                    .label(Span::styled(
                        crate::domain::clock::format_countdown(n.due_at, now),
                        app.theme.title(),
                    )),
                bar,
            );
            let urgency = if secs < 5 * 60 {
                "NOTIFY NOW: under 5 minutes left"
            } else if secs < 15 * 60 {
                "under 15 minutes left: notify now"
            } else if app.mail.smtp {
                "notify now: E emails the notice, or call and record it with N"
            } else {
                "notify now: phone or in person, then record it with N"
            };
            frame.render_widget(
                Paragraph::new(Line::styled(
                    format!(
                        "{} to notify the {party} · {urgency}",
                        crate::domain::clock::format_span(remaining)
                    ),
                    style,
                )),
                words,
            );
        }
        ClockState::Overdue { by } => {
            let style = app.theme.alarm();
            let block = Block::bordered()
                .title(title)
                .border_style(app.theme.danger());
            let inner = block.inner(area);
            frame.render_widget(block, area);
            let text = vec![
                Line::styled(
                    format!(
                        " OVERDUE by {} · the {party} has NOT been notified · notify now ",
                        crate::domain::clock::format_span(by)
                    ),
                    style,
                ),
                Line::styled(
                    if app.mail.smtp {
                        "Notify now: E emails the notice, or call and record it with N (say why it was late)."
                    } else {
                        "Notify by phone or in person, then record it with N (say why it was late)."
                    },
                    app.theme.danger(),
                ),
            ];
            frame.render_widget(Paragraph::new(text).style(app.theme.danger()), inner);
        }
        ClockState::MetOnTime { margin } => {
            notified(app, incident, frame, area, &title, true, margin);
        }
        ClockState::MetLate { by } => {
            notified(app, incident, frame, area, &title, false, by);
        }
    }
}

fn notified(
    app: &App,
    incident: &Incident,
    frame: &mut Frame,
    area: Rect,
    title: &str,
    on_time: bool,
    margin: chrono::Duration,
) {
    let n = &incident.notification;
    let style = if on_time {
        app.theme.ok()
    } else {
        app.theme.danger()
    };
    let verdict = if on_time {
        format!("on time by {}", format_duration_short(margin))
    } else {
        format!("late by {}", format_duration_short(margin))
    };
    let when = n
        .made_at
        .map(|at| local_short(at, app.tz))
        .unwrap_or_default();
    let how = n.channel.map(|c| c.as_str()).unwrap_or("?");
    let mut lines = vec![Line::styled(
        format!(
            "Notified {when} by {how} to {} · {verdict}",
            safe(n.recipient.as_deref().unwrap_or("?"))
        ),
        style,
    )];
    let mut second = Vec::new();
    if let Some(by) = &n.made_by {
        second.push(format!("recorded by {}", safe(by)));
    }
    if let Some(reference) = &n.reference {
        second.push(format!("ref {}", safe(reference)));
    }
    if let Some(reason) = &n.delay_reason {
        second.push(format!("delay: {}", safe(reason)));
    }
    lines.push(Line::styled(second.join(" · "), app.theme.dim()));
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(title.to_string())
                .border_style(style),
        ),
        area,
    );
}

fn status_mark(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Todo => "[ ]",
        StepStatus::InProgress => "[~]",
        StepStatus::Done => "[x]",
        StepStatus::NotApplicable => "[-]",
    }
}

fn steps(
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
                format!("note: {}", safe(note)),
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

fn timeline(
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
    // (wrapped), up to half the pane.
    let detail_lines = incident.timeline.get(screen.entry).map_or(1, |e| {
        let width = usize::from(area.width.max(1));
        e.text
            .lines()
            .map(|l| l.chars().count().div_ceil(width).max(1))
            .sum::<usize>()
            .max(1)
    });
    let detail_height = u16::try_from(detail_lines + 1)
        .unwrap_or(u16::MAX)
        .clamp(3, (area.height / 2).max(3));
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
    if let Some(e) = incident.timeline.get(screen.entry) {
        frame.render_widget(
            Paragraph::new(crate::text::terminal_safe(&e.text, true))
                .wrap(Wrap { trim: true })
                .block(Block::new().borders(ratatui::widgets::Borders::TOP)),
            detail,
        );
    }
}

fn requests(
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
            RequestStatus::Withdrawn => ("withdrawn".to_string(), app.theme.dim()),
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

fn root_cause(app: &App, incident: &Incident, frame: &mut Frame, area: Rect) {
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

fn mitigation(app: &App, incident: &Incident, frame: &mut Frame, area: Rect) {
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

fn isms(app: &App, incident: &Incident, frame: &mut Frame, area: Rect) {
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
fn notices(app: &App, incident: &Incident, frame: &mut Frame, area: Rect) {
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
