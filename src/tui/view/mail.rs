//! The mailer's popups: the exact message before it is sent, and the
//! notices waiting in the outbox.

use crate::domain::incident::DeliveryState;
use crate::present::local;
use crate::text::{one_line, terminal_safe};
use crate::tui::app::{App, Preview};
use crate::tui::keymap::{self, Context};
use crate::tui::strings;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

/// The preview: what the report still lacks, then exactly what will go.
pub fn render_preview(app: &App, preview: &Preview, frame: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    if !preview.missing.is_empty() {
        lines.push(Line::styled(
            "Still missing from this report:",
            app.theme.warn(),
        ));
        for m in &preview.missing {
            lines.push(Line::styled(
                format!("  - {}", one_line(m)),
                app.theme.warn(),
            ));
        }
        lines.push(Line::raw(""));
    }
    let text = terminal_safe(&crate::mail::render_preview(&preview.notice), true);
    lines.extend(text.lines().map(|l| Line::raw(l.to_string())));
    if preview.sending {
        lines.push(Line::raw(""));
        lines.push(Line::styled(strings::SENDING, app.theme.warn()));
    }
    let popup = area.centered(
        Constraint::Length(area.width.saturating_sub(2).min(100)),
        Constraint::Length(area.height),
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((preview.scroll, 0))
            .block(
                Block::bordered()
                    .title(format!(
                        " Send this {}? Nothing is queued until you press y ",
                        preview.notice.kind.as_str()
                    ))
                    .title_bottom(Line::styled(
                        keymap::hint(Context::Preview),
                        app.theme.key(),
                    ))
                    .border_style(app.theme.focus_border()),
            ),
        popup,
    );
}

/// The outbox: every pending notice with its attempts and last error.
pub fn render_outbox(app: &App, now: DateTime<Utc>, frame: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    if app.outbox.is_empty() {
        lines.push(Line::styled(
            "Nothing is waiting: every notice confirmed has been accepted by the server or cancelled.",
            app.theme.ok(),
        ));
    }
    for (i, row) in app.outbox.iter().enumerate() {
        let selected = i == app.outbox_selected;
        let marker = if selected { "▶ " } else { "  " };
        let next = match row.next_attempt_at {
            Some(t) if t <= now => "now".to_string(),
            Some(t) => local(t, app.tz),
            None => "-".to_string(),
        };
        let style = if selected {
            app.theme.selected()
        } else {
            app.theme.input()
        };
        let state_style = match row.state {
            DeliveryState::Pending => app.theme.warn(),
            _ => app.theme.error(),
        };
        lines.push(Line::from(vec![
            Span::styled(marker, app.theme.key()),
            Span::styled(
                format!("{:<8} ", row.state.as_str().to_ascii_uppercase()),
                state_style,
            ),
            Span::styled(
                format!(
                    "{}  {}  {}  to {}",
                    one_line(&row.id),
                    one_line(&row.incident_id),
                    one_line(&row.kind),
                    one_line(&row.to)
                ),
                style,
            ),
        ]));
        lines.push(Line::styled(
            format!(
                "    {}  · queued {} · {} attempt(s) · next {next}",
                one_line(&row.subject),
                local(row.queued_at, app.tz),
                row.attempts
            ),
            app.theme.dim(),
        ));
        match row.state {
            DeliveryState::Unknown => lines.push(Line::styled(
                format!(
                    "    MAY HAVE ARRIVED: no reply came. It will be sent again with the same Message-ID {} (a duplicate is better than a missing notice)",
                    one_line(&row.message_id)
                ),
                app.theme.error(),
            )),
            DeliveryState::Failed => lines.push(Line::styled(
                "    REFUSED for good by the server: not retried automatically. R retries it on purpose, X cancels it with a reason",
                app.theme.error(),
            )),
            _ => {}
        }
        if let Some(e) = &row.last_error {
            lines.push(Line::styled(
                format!("    last error: {}", one_line(e)),
                app.theme.error(),
            ));
        }
    }
    if !app.mail.smtp {
        lines.push(Line::raw(""));
        lines.push(Line::styled(strings::NO_SMTP, app.theme.warn()));
    }
    let width = area.width.saturating_sub(2).min(110);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let height = (rows as u16 + 2).clamp(5, area.height);
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .title(format!(" Outbox: {} still to go ", app.outbox.len()))
                .title_bottom(Line::styled(keymap::hint(Context::Outbox), app.theme.key()))
                .border_style(app.theme.focus_border()),
        ),
        popup,
    );
}
