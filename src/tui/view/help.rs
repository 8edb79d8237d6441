//! The `?` overlay: every key of the current screen, from the keymap table.

use crate::tui::app::App;
use crate::tui::keymap::{self, Context};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let context = app.context();
    let title = match context {
        Context::Board => " Keys: incident board ",
        Context::Filter => " Keys: filter ",
        Context::Incident => " Keys: incident ",
        Context::Form => " Keys: form ",
        Context::Preview => " Keys: message preview ",
        Context::Outbox => " Keys: outbox ",
    };
    // A key described with its partner (PgUp with PgDn) has no line of its own.
    let mut lines: Vec<Line> = keymap::table(context)
        .iter()
        .filter(|b| !b.desc.is_empty())
        .map(|b| {
            Line::from(vec![
                Span::styled(format!(" {:<10}", b.label), app.theme.key()),
                Span::raw(b.desc),
            ])
        })
        .collect();
    if context == Context::Form {
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<10}", "y/n"), app.theme.key()),
            Span::raw("set a yes/no field; other keys type into the field"),
        ]));
    }
    // Two columns when one does not fit (a long table on a small terminal).
    let two = lines.len() as u16 + 2 > area.height;
    let rows = if two {
        lines.len().div_ceil(2)
    } else {
        lines.len()
    };
    let height = (rows as u16 + 2).min(area.height);
    let width = if two { area.width } else { 70.min(area.width) };
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::styled(" any key closes this help ", app.theme.dim()))
        .border_style(app.theme.focus_border());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    if two {
        let right = lines.split_off(rows);
        let [l, r] = inner.layout(&Layout::horizontal([
            Constraint::Fill(1),
            Constraint::Fill(1),
        ]));
        frame.render_widget(Paragraph::new(lines), l);
        frame.render_widget(Paragraph::new(right), r);
    } else {
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
