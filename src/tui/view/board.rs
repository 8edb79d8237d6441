//! The home screen: every open incident, most urgent first.

use super::{countdown, safe};
use crate::domain::incident::IncidentStatus;
use crate::tui::app::App;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};

pub fn render(app: &App, now: DateTime<Utc>, frame: &mut Frame, area: Rect) {
    let board = &app.board;
    let problems = board.problems.len().min(3) as u16;
    let filter_height = u16::from(app.overlays.filtering() || !board.filter.is_empty());
    let [title, warn, filter, list] = area.layout(&Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(problems),
        Constraint::Length(filter_height),
        Constraint::Fill(1),
    ]));
    let open = board
        .summaries
        .iter()
        .filter(|s| s.status == IncidentStatus::Open)
        .count();
    let closed = board.closed;
    let mut heading = vec![
        Span::styled("breachdesk", app.theme.title()),
        Span::raw(format!("  {open} open")),
    ];
    heading.push(Span::styled(
        if board.show_closed {
            format!(", {closed} closed shown")
        } else {
            format!(", {closed} closed hidden (c)")
        },
        app.theme.dim(),
    ));
    if let Some((text, warn)) = app.sync_header() {
        heading.push(Span::raw("  "));
        heading.push(Span::styled(
            text,
            if warn {
                app.theme.error()
            } else {
                app.theme.dim()
            },
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(heading)), title);
    if problems > 0 {
        let mut lines: Vec<Line> = board
            .problems
            .iter()
            .take(2)
            .map(|p| Line::styled(format!("⚠ {}", safe(p)), app.theme.warn()))
            .collect();
        if board.problems.len() > 2 {
            lines.push(Line::styled(
                format!(
                    "⚠ … and {} more unreadable records (see quarantine/)",
                    board.problems.len() - 2
                ),
                app.theme.warn(),
            ));
        }
        frame.render_widget(Paragraph::new(lines), warn);
    }
    if filter_height > 0 {
        let cursor = if app.overlays.filtering() { "▏" } else { "" };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("filter: ", app.theme.key()),
                Span::styled(
                    format!("{}{cursor}", safe(&board.filter)),
                    app.theme.input(),
                ),
            ])),
            filter,
        );
    }
    if !board.loaded {
        frame.render_widget(
            Paragraph::new("Loading incidents…").block(Block::bordered().title(" Incidents ")),
            list,
        );
        return;
    }
    if board.summaries.is_empty() {
        let welcome = vec![
            Line::raw(""),
            Line::styled("No incidents yet.", app.theme.title()),
            Line::raw(""),
            Line::from(vec![
                Span::raw("Press "),
                Span::styled("n", app.theme.key()),
                Span::raw(" to open the first incident. Its 1-hour notification clock"),
            ]),
            Line::raw("(paragraph 8.1) starts from the time the breach was identified."),
            Line::raw(""),
            Line::from(vec![
                Span::styled("?", app.theme.key()),
                Span::raw(" lists every key. Everything is saved as you go."),
            ]),
        ];
        frame.render_widget(
            Paragraph::new(welcome)
                .wrap(Wrap { trim: false })
                .block(Block::bordered().title(" Welcome ")),
            list,
        );
        return;
    }
    let visible = board.visible();
    if visible.is_empty() {
        let text = if board.filter.is_empty() {
            "No open incidents. c shows closed ones; n opens a new one."
        } else {
            "Nothing matches the filter (Esc clears it)."
        };
        frame.render_widget(
            Paragraph::new(text).block(Block::bordered().title(" Incidents ")),
            list,
        );
        return;
    }
    // Only the rows that fit are built: with thousands of incidents shown
    // (closed ones toggled on) a frame still costs the same. The selection
    // is kept on screen; the list moves only when it would leave it.
    let page = usize::from(list.height.saturating_sub(3) / 2).max(1);
    board.page.set(page);
    let mut offset = board.offset.get().min(visible.len().saturating_sub(page));
    if board.selected < offset {
        offset = board.selected;
    } else if board.selected >= offset + page {
        offset = board.selected + 1 - page;
    }
    board.offset.set(offset);
    let below = visible.len().saturating_sub(offset + page);
    // Rows start under the top border and the header line, two lines each.
    let first = list.y + 2;
    let shown = visible.len().saturating_sub(offset).min(page);
    board
        .rows_at
        .set((first, first + u16::try_from(shown * 2).unwrap_or(u16::MAX)));
    // The incident manager: a column when there is room, else beside the
    // request count under the id (80 columns keep the title readable).
    let wide = list.width >= 120;
    // The manager column grows with the screen (20 columns at 120, up to
    // 26), so a waiting handover's "⇄ handover to NAME" fits under the
    // manager more often.
    let manager_width = list.width.saturating_sub(100).clamp(20, 26);
    let rows = visible.iter().skip(offset).take(page).map(|s| {
        let (due, due_style) = match (&s.legal_due, &s.internal_due) {
            (Some(legal), _) => {
                let (text, style) = countdown(app, legal.due_at, now);
                (format!("{} {text}", safe(&legal.clock)), style)
            }
            (None, Some(target)) if s.status == IncidentStatus::Open => {
                let (text, _) = countdown(app, target.due_at, now);
                (format!("{} {text}", safe(&target.clock)), app.theme.dim())
            }
            _ => (String::new(), app.theme.dim()),
        };
        let notified = match (s.notice_received_at, s.notified_at) {
            (Some(_), _) => Line::styled("notice received", app.theme.ok()),
            (None, notified_at) => match notified_at {
                Some(at) if at <= s.notification_due_at => {
                    Line::styled("notified ✓", app.theme.ok())
                }
                Some(_) => Line::styled("notified late", app.theme.danger()),
                None if s.notification_due_at < now => {
                    Line::styled("NOT NOTIFIED", app.theme.alarm())
                }
                None => Line::styled("not notified yet", app.theme.warn()),
            },
        };
        let next = s.next_action.as_ref().map_or_else(
            || "no open steps".to_string(),
            |n| format!("next: {} {}", safe(&n.step), safe(&n.title)),
        );
        let status = if s.status == IncidentStatus::Closed {
            " (closed)"
        } else {
            ""
        };
        // A handover waiting to be acknowledged: at 80 columns a `⇄` before
        // the title; when wide, "⇄ handover to NAME" under the manager.
        let handover = s.handover_to.as_deref().map(safe);
        let mut title = Vec::new();
        if let (Some(_), false) = (&handover, wide) {
            title.push(Span::styled("⇄ ", app.theme.warn()));
        }
        if s.repeat_root_cause {
            title.push(Span::styled("REPEAT ", app.theme.danger()));
        }
        title.push(Span::raw(format!("{}{status}", safe(&s.title))));
        let title = Line::from(title);
        let manager = s.incident_manager.as_deref().map(safe);
        let requests = match (&manager, wide) {
            (Some(name), false) => format!("{} req · IM {name}", s.open_requests),
            _ => format!("{} req open", s.open_requests),
        };
        let mut cells = vec![
            Cell::from(Text::from(vec![
                Line::raw(safe(&s.id)),
                Line::styled(requests, app.theme.dim()),
            ])),
            Cell::from(Text::from(vec![
                Line::raw(s.severity.as_str()),
                Line::styled(s.kind.as_str(), app.theme.dim()),
            ])),
            Cell::from(Text::from(vec![title, Line::styled(next, app.theme.dim())])),
        ];
        if wide {
            let mut lines = vec![match manager {
                Some(name) => Line::raw(name),
                None => Line::styled("none", app.theme.dim()),
            }];
            if let Some(to) = handover {
                let long = Line::styled(format!("⇄ handover to {to}"), app.theme.warn());
                lines.push(if long.width() <= usize::from(manager_width) {
                    long
                } else {
                    Line::styled(format!("⇄ to {to}"), app.theme.warn())
                });
            }
            cells.push(Cell::from(Text::from(lines)));
        }
        cells.push(Cell::from(Text::from(vec![
            Line::styled(due, due_style),
            notified,
        ])));
        Row::new(cells).height(2)
    });
    let mut widths = vec![
        Constraint::Length(24),
        Constraint::Length(9),
        Constraint::Fill(1),
    ];
    let mut header = vec!["Incident", "Severity", "Title / next action"];
    if wide {
        widths.push(Constraint::Length(manager_width));
        header.push("Manager");
    }
    widths.push(Constraint::Length(27));
    header.push("Nearest clock");
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(app.theme.title()))
        .row_highlight_style(app.theme.selected())
        .block({
            let block = Block::bordered()
                .title(" Incidents: legal clocks first, then internal targets (dim) ");
            if below > 0 {
                block.title_bottom(Line::styled(
                    format!(" {below} more below "),
                    app.theme.warn(),
                ))
            } else {
                block
            }
        });
    let mut state = TableState::default().with_selected(Some(board.selected - offset));
    frame.render_stateful_widget(table, list, &mut state);
}
