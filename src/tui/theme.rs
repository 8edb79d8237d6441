//! The one theme. With `NO_COLOR` set (to anything non-empty) there is no
//! colour at all: emphasis is bold, reversed and underlined only.

use ratatui::style::{Color, Modifier, Style};

/// Every style the views use, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

/// Amber, for "running out" (under 15 minutes).
const AMBER: Color = Color::Rgb(255, 176, 0);

impl Theme {
    /// The theme for this environment: no colour when `NO_COLOR` is set.
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }

    pub fn colored() -> Theme {
        Theme { color: true }
    }

    pub fn monochrome() -> Theme {
        Theme { color: false }
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn warn(&self) -> Style {
        self.fg(AMBER).add_modifier(Modifier::BOLD)
    }
    pub fn danger(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    /// Overdue: inverted and blinking (the terminal blinks it; no redraws needed).
    pub fn alarm(&self) -> Style {
        let base = if self.color {
            Style::new().fg(Color::White).bg(Color::Red)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        };
        base.add_modifier(Modifier::BOLD | Modifier::SLOW_BLINK)
    }
    pub fn error(&self) -> Style {
        self.danger()
    }
    pub fn focus_border(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn input(&self) -> Style {
        Style::new().add_modifier(Modifier::UNDERLINED)
    }
    /// The gauge colour for a clock with `remaining` seconds left.
    pub fn clock(&self, remaining_secs: i64) -> Style {
        if remaining_secs < 0 {
            self.alarm()
        } else if remaining_secs < 5 * 60 {
            self.danger()
        } else if remaining_secs < 15 * 60 {
            self.warn()
        } else {
            self.ok()
        }
    }
}
