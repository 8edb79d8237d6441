//! Drawing. Every view is a pure function of the app state and `now`: no
//! clock, no disk, no mutation. Text from records goes through
//! [`crate::text`] before it reaches a cell.

mod board;
mod form;
mod help;
mod incident;
mod mail;
mod panes;

use crate::tui::app::{App, Overlay, Screen};
use crate::tui::keymap;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

/// The smallest terminal the console draws in.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Draws the whole console for instant `now`.
pub fn render(app: &App, now: DateTime<Utc>, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "Please enlarge the terminal: breachdesk needs {MIN_WIDTH}x{MIN_HEIGHT}, this is {}x{}.",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(text)
                .style(app.theme.warn())
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let banner = crate::tui::app::alert_banner(&app.board, now);
    let [banner_area, body, status, footer] = area.layout(&Layout::vertical([
        Constraint::Length(u16::from(banner.is_some())),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ]));
    if let Some((summary, due)) = banner {
        let style = if due.due_at < now {
            app.theme.alarm()
        } else {
            app.theme.clock((due.due_at - now).num_seconds())
        };
        let text = format!(
            " ⚠ {} {}: {} {} ",
            safe(&summary.id),
            safe(&summary.title),
            safe(&due.clock),
            crate::domain::clock::format_countdown(due.due_at, now)
        );
        frame.render_widget(
            Paragraph::new(Line::styled(
                text,
                style.add_modifier(ratatui::style::Modifier::REVERSED),
            )),
            banner_area,
        );
    }
    match app.screen {
        Screen::Board => board::render(app, now, frame, body),
        Screen::Incident => incident::render(app, now, frame, body),
    }
    render_status(app, frame, status);
    render_footer(app, frame, footer);
    // The overlays, bottom first: the one on top (which gets the keys) is
    // drawn last.
    for overlay in app.overlays.iter() {
        match overlay {
            Overlay::Outbox => mail::render_outbox(app, now, frame, body),
            Overlay::Filter => {}
            Overlay::Form(form) => form::render(app, form, frame, body),
            Overlay::Preview(preview) => mail::render_preview(app, preview, frame, body),
            Overlay::Warnings(warnings) => render_warnings(app, warnings, frame, body),
            Overlay::Help => help::render(app, frame, body),
            Overlay::ConfirmQuit(why) => render_confirm(
                app,
                (" Quit? ", why, " quit anyway · any other key stays"),
                frame,
                body,
            ),
            Overlay::ConfirmClose(why) => render_confirm(
                app,
                (" Close? ", why, " go on to close · any other key stays"),
                frame,
                body,
            ),
        }
    }
}

/// "Are you sure?": why it asks, and what `y` does.
fn render_confirm(app: &App, (title, why, yes): (&str, &str, &str), frame: &mut Frame, body: Rect) {
    let popup = body.centered(Constraint::Percentage(80), Constraint::Length(7));
    frame.render_widget(Clear, popup);
    let lines = vec![
        Line::styled(crate::text::one_line(why), app.theme.warn()),
        Line::raw(""),
        Line::from(vec![Span::styled("y", app.theme.key()), Span::raw(yes)]),
    ];
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::bordered()
                .title(title)
                .border_style(app.theme.danger()),
        ),
        popup,
    );
}

fn render_status(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    if !app.outbox.is_empty() {
        spans.push(Span::styled(
            format!(
                "✉ {} pending ({}) ",
                app.outbox.len(),
                keymap::label(keymap::Context::Board, keymap::Cmd::Outbox)
            ),
            app.theme.warn(),
        ));
    }
    if app.mail_busy.is_some() {
        spans.push(Span::styled("sending… ", app.theme.warn()));
    }
    if app.in_flight > 0 {
        spans.push(Span::styled("saving… ", app.theme.warn()));
    }
    // The board's header shows the sync status; the incident screen's
    // status line does.
    if app.screen == Screen::Incident
        && let Some((text, warn)) = app.sync_header()
    {
        let style = if warn {
            app.theme.error()
        } else {
            app.theme.dim()
        };
        spans.push(Span::styled(format!("{text} "), style));
    }
    if app.sync_conflict_here() {
        spans.push(Span::styled(
            "⚠ the last sync merged a conflict here: the other value is on the timeline ",
            app.theme.warn(),
        ));
    }
    if let Some(status) = &app.status {
        let style = if status.error {
            app.theme.error()
        } else {
            app.theme.ok()
        };
        spans.push(Span::styled(crate::text::one_line(&status.text), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_footer(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    let keys: Vec<(&str, &str)> = match (app.form(), app.context()) {
        (Some(form), keymap::Context::Form) => keymap::form_footer(form.focused_is_multiline()),
        (_, context) => keymap::footer_keys(context, app.sync.is_some(), area.width),
    };
    for (label, what) in keys {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(label, app.theme.key()));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(what, app.theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_warnings(app: &App, warnings: &[String], frame: &mut Frame, area: Rect) {
    let popup = area.centered(Constraint::Percentage(90), Constraint::Percentage(60));
    frame.render_widget(Clear, popup);
    let mut lines: Vec<Line> = warnings
        .iter()
        .map(|w| Line::styled(crate::text::one_line(w), app.theme.danger()))
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled("Enter: acknowledged", app.theme.key()));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::bordered()
                .title(" ⚠ WARNING (internal) ")
                .border_style(app.theme.danger())
                .title_style(app.theme.alarm()),
        ),
        popup,
    );
}

/// A deadline as a live countdown and its style: `14m 59s left`,
/// `40h 01m overdue`, `2d 03h left`.
pub fn countdown(app: &App, due: DateTime<Utc>, now: DateTime<Utc>) -> (String, Style) {
    let secs = (due - now).num_seconds();
    let text = crate::domain::clock::format_countdown(due, now);
    (text, app.theme.clock(secs))
}

/// Record text made safe for one line.
pub fn safe(text: &str) -> String {
    crate::text::one_line(text)
}
