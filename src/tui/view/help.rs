//! The `?` overlay: every key of the current screen, from the keymap table.

use crate::tui::app::App;
use crate::tui::keymap::{self, Context};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let context = app.context();
    let title = match context {
        Context::Board => " Keys: incident board ",
        Context::Filter => " Keys: filter ",
        Context::Incident => " Keys: incident ",
        Context::Form => " Keys: form ",
    };
    let mut lines: Vec<Line> = keymap::table(context)
        .iter()
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
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = area.centered(
        Constraint::Length(70.min(area.width)),
        Constraint::Length(height),
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(title)
                .title_bottom(Line::styled(" any key closes this help ", app.theme.dim()))
                .border_style(app.theme.focus_border()),
        ),
        popup,
    );
}
