//! A form as a centred popup.

use crate::tui::app::App;
use crate::tui::form::{Form, Value};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

pub fn render(app: &App, form: &Form, frame: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    // The line the focused field starts on, to keep it in view.
    let mut focus_line = 0usize;
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        if focused {
            focus_line = lines.len();
        }
        let marker = if focused { "▶ " } else { "  " };
        let label_style = if focused {
            app.theme.key()
        } else {
            app.theme.dim()
        };
        let mut spans = vec![
            Span::styled(marker, app.theme.key()),
            Span::styled(format!("{:<14} ", field.label), label_style),
        ];
        let cursor = if focused { "▏" } else { "" };
        match &field.value {
            Value::Text(s) if focused && form.selected => {
                // A default, selected: typing replaces it.
                spans.push(Span::styled(
                    crate::text::one_line(s),
                    app.theme
                        .input()
                        .add_modifier(ratatui::style::Modifier::REVERSED),
                ));
            }
            Value::Text(s) if focused => {
                let (before, after) = form.split_at_cursor(s);
                spans.push(Span::styled(
                    format!(
                        "{}{cursor}{}",
                        crate::text::one_line(&before),
                        crate::text::one_line(&after)
                    ),
                    app.theme.input(),
                ));
            }
            Value::Text(s) => {
                spans.push(Span::styled(crate::text::one_line(s), app.theme.input()));
            }
            Value::Multi(s) => {
                // The cursor marker goes in at the cursor; each side is made
                // safe on its own.
                let safe = if focused {
                    let (before, after) = form.split_at_cursor(s);
                    format!(
                        "{}{cursor}{}",
                        crate::text::terminal_safe(&before, true),
                        crate::text::terminal_safe(&after, true)
                    )
                } else {
                    crate::text::terminal_safe(s, true)
                };
                let mut parts = safe.split('\n');
                let first = parts.next().unwrap_or("");
                spans.push(Span::styled(first.to_string(), app.theme.input()));
                lines.push(Line::from(std::mem::take(&mut spans)));
                for part in parts {
                    lines.push(Line::from(vec![
                        Span::raw(" ".repeat(17)),
                        Span::styled(part.to_string(), app.theme.input()),
                    ]));
                }
            }
            Value::Choice { options, index } => {
                for (j, option) in options.iter().enumerate() {
                    if j == *index {
                        spans.push(Span::styled(format!("[{option}]"), app.theme.selected()));
                    } else if focused || options.len() <= 4 {
                        spans.push(Span::styled(format!(" {option} "), app.theme.dim()));
                    }
                }
            }
            Value::Flag(on) => {
                spans.push(Span::styled(
                    if *on { "[yes]" } else { "[no]" },
                    app.theme.selected(),
                ));
            }
        }
        if !spans.is_empty() {
            lines.push(Line::from(spans));
        }
        if focused && !field.hint.is_empty() {
            lines.push(Line::styled(
                format!("{:16}{}", "", field.hint),
                app.theme.dim(),
            ));
        }
    }
    lines.push(Line::raw(""));
    // The error, "saving…" and the keys stay on the popup's last lines
    // while the fields above them scroll.
    let mut tail = Vec::new();
    if let Some(error) = &form.error {
        tail.push(Line::styled(
            crate::text::one_line(error),
            app.theme.error(),
        ));
    }
    if form.pending.is_some() {
        tail.push(Line::styled("saving…", app.theme.warn()));
    }
    if form.confirm_discard {
        tail.push(Line::styled(
            "Discard what you typed? y: discard · n/Esc: keep editing",
            app.theme.alarm(),
        ));
    } else {
        // The same keys, from the same table, as the footer.
        let hint: Vec<String> = crate::tui::keymap::form_footer(form.focused_is_multiline())
            .into_iter()
            .map(|(key, what)| format!("{key} {what}"))
            .collect();
        tail.push(Line::styled(hint.join(" · "), app.theme.dim()));
    }
    let width = area.width.saturating_sub(4).min(96);
    // Rows after wrapping (long hints and errors take more than one).
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let rows_of =
        |lines: &[Line]| -> usize { lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum() };
    let rows = rows_of(&lines);
    let tail_rows = rows_of(&tail);
    let height = ((rows + tail_rows) as u16 + 2).min(area.height);
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    let block = Block::bordered()
        .title(format!(" {} ", form.title))
        .border_style(app.theme.focus_border());
    let [fields_area, tail_area] = block
        .inner(popup)
        .layout(&ratatui::layout::Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(u16::try_from(tail_rows).unwrap_or(u16::MAX)),
        ]));
    // A form taller than the screen scrolls so the focused field (and its
    // hint) stay in view.
    let visible = usize::from(fields_area.height);
    let scroll = if rows > visible {
        (focus_line + 3).saturating_sub(visible).min(rows - visible)
    } else {
        0
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        fields_area,
    );
    frame.render_widget(Paragraph::new(tail).wrap(Wrap { trim: false }), tail_area);
}
