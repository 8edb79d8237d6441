//! The incident screen: the 8.1 notification clock on top, then the panes.

use super::panes::{isms, mitigation, notices, requests, root_cause, steps, timeline};
use super::safe;
use crate::domain::clock::{ClockState, clock_state, format_duration_short};
use crate::domain::incident::{Handover, Incident, current_roles, pending_handovers};
use crate::present::local_short;
use crate::tui::app::{App, Pane};
use crate::tui::keymap;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph, Tabs};

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
    let handovers = pending_handovers(&incident.handovers);
    // One line a handover waiting (at most two, then how many more).
    let banner_lines = match handovers.len() {
        0 => 0,
        n @ 1..=2 => n,
        _ => 3,
    };
    let roles = current_roles(&incident.assignments);
    let head_lines = 2 + u16::from(!roles.is_empty());
    let [banner, head, clock_area, tabs, pane] = area.layout(&Layout::vertical([
        Constraint::Length(banner_lines as u16),
        Constraint::Length(head_lines),
        Constraint::Length(4),
        Constraint::Length(1),
        Constraint::Fill(1),
    ]));
    render_handovers(app, &handovers, frame, banner);
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
    let mut lines = vec![
        Line::from(vec![
            Span::styled(safe(&incident.id), app.theme.title()),
            Span::raw("  "),
            Span::styled(safe(&incident.title), app.theme.title()),
        ]),
        Line::styled(facts.join(" · "), app.theme.dim()),
    ];
    let roles: Vec<String> = current_roles(&incident.assignments)
        .iter()
        .map(|a| format!("{}: {}", a.role.label(), safe(&a.to)))
        .collect();
    if !roles.is_empty() {
        lines.push(Line::raw(roles.join(" · ")));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// The handovers waiting to be acknowledged, one line each (the key
/// first, so a narrow screen cuts the note, not how to acknowledge).
fn render_handovers(app: &App, handovers: &[&Handover], frame: &mut Frame, area: Rect) {
    if handovers.is_empty() {
        return;
    }
    let key = keymap::label(keymap::Context::Incident, keymap::Cmd::AcknowledgeHandover);
    let style = app
        .theme
        .warn()
        .add_modifier(ratatui::style::Modifier::REVERSED);
    let mut lines: Vec<Line> = handovers
        .iter()
        .take(2)
        .map(|h| {
            Line::styled(
                format!(
                    " ⇄ HANDOVER ({key} acknowledge) from {} to {}, {}: {} ",
                    safe(&h.from),
                    safe(&h.to),
                    local_short(h.at, app.tz),
                    safe(&h.note)
                ),
                style,
            )
        })
        .collect();
    if handovers.len() > 2 {
        lines.push(Line::styled(
            format!(" … and {} more handovers ", handovers.len() - 2),
            style,
        ));
    }
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
