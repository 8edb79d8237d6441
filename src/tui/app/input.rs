//! Input routing: an [`Action`] reaches the top overlay first (a form, the
//! preview, a popup); the screen's keymap sees it only when nothing on top
//! took it.

use super::{Action, App, Context, Job, MouseInput, Overlay, Pane, Screen, keymap};
use crate::tui::keymap::Cmd;
use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the top overlay makes of a key, decided before acting on it.
enum Top {
    Help,
    ConfirmQuit,
    ConfirmClose,
    Warnings,
    Preview,
    Form,
    /// The outbox, the filter, or nothing: the key table in force decides.
    Keymap,
}

impl App {
    /// The one way state changes. Returns desk jobs to run off the UI task.
    pub fn update(&mut self, action: Action, now: DateTime<Utc>) -> Vec<Job> {
        match action {
            Action::Key(key) => self.on_key(key, now),
            Action::Paste(text) => {
                match self.overlays.top() {
                    Some(Overlay::Form(_)) => {
                        if let Some(form) = self.overlays.form_mut() {
                            form.paste(&text);
                        }
                    }
                    Some(Overlay::Filter) => self
                        .board
                        .filter
                        .extend(text.chars().filter(|c| !c.is_control())),
                    _ => {}
                }
                Vec::new()
            }
            Action::Cmd(cmd) => self.command(cmd, now),
            Action::Tick => {
                let mut jobs = self.check_alerts(now);
                jobs.extend(self.outbox_round(now));
                jobs.extend(self.look_at_disk(now));
                jobs.extend(self.sync_tick(now));
                jobs
            }
            Action::Resize => Vec::new(),
            Action::Mouse(input) => self.on_mouse(input, now),
            Action::Done(done) => self.on_done(done, now),
        }
    }

    fn top(&self) -> Top {
        match self.overlays.top() {
            Some(Overlay::Help) => Top::Help,
            Some(Overlay::ConfirmQuit(_)) => Top::ConfirmQuit,
            Some(Overlay::ConfirmClose(_)) => Top::ConfirmClose,
            Some(Overlay::Warnings(_)) => Top::Warnings,
            Some(Overlay::Preview(_)) => Top::Preview,
            Some(Overlay::Form(_)) => Top::Form,
            Some(Overlay::Outbox | Overlay::Filter) | None => Top::Keymap,
        }
    }

    pub(super) fn on_key(&mut self, key: KeyEvent, now: DateTime<Utc>) -> Vec<Job> {
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        let yes = matches!(key.code, KeyCode::Char('y' | 'Y'));
        match self.top() {
            Top::Help => {
                self.overlays.pop();
            }
            Top::ConfirmQuit if yes => self.quit = true,
            Top::ConfirmQuit => {
                self.overlays.pop();
                self.say("Not quitting");
            }
            Top::ConfirmClose => {
                self.overlays.pop();
                if yes {
                    self.open_close_form();
                } else {
                    self.say("Not closed");
                }
            }
            Top::Warnings => {
                if matches!(key.code, KeyCode::Enter | KeyCode::Esc) {
                    self.overlays.pop();
                }
            }
            Top::Preview => {
                return match keymap::lookup(Context::Preview, &key) {
                    Some(cmd) => self.command(cmd, now),
                    None if ctrl_c => self.command(Cmd::Back, now),
                    None => Vec::new(),
                };
            }
            Top::Form => return self.on_form_key(key, ctrl_c, now),
            Top::Keymap => {
                let context = self.context();
                if let Some(cmd) = keymap::lookup(context, &key) {
                    return self.command(cmd, now);
                }
                if context == Context::Filter {
                    self.type_filter(key);
                }
            }
        }
        Vec::new()
    }

    /// A key for the form on top: its editing keys, else its commands,
    /// else the character typed. `q` types a q here.
    fn on_form_key(&mut self, key: KeyEvent, ctrl_c: bool, now: DateTime<Utc>) -> Vec<Job> {
        let Some(form) = self.overlays.form_mut() else {
            return Vec::new();
        };
        if form.confirm_discard {
            match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => self.overlays.close_form(),
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                    form.confirm_discard = false
                }
                _ => {}
            }
            return Vec::new();
        }
        if ctrl_c {
            return self.command(Cmd::FormCancel, now);
        }
        if form.pending.is_some() {
            // Saving: typing now would change text that is being saved.
            return Vec::new();
        }
        if key.code == KeyCode::Enter && form.focused_is_multiline() {
            form.newline();
            return Vec::new();
        }
        if key.code == KeyCode::Char(' ') && !form.focused_is_text() {
            form.change_choice(true);
            return Vec::new();
        }
        if let Some(cmd) = keymap::lookup(Context::Form, &key) {
            match cmd {
                Cmd::FormChoice if form.focused_is_text() => {
                    form.move_cursor(key.code == KeyCode::Right)
                }
                Cmd::FormChoice => form.change_choice(key.code == KeyCode::Right),
                Cmd::CursorHome => form.cursor_home(),
                Cmd::CursorEnd => form.cursor_to_end(),
                Cmd::DeleteChar => form.delete(),
                Cmd::KillToStart => form.kill_to_start(),
                Cmd::KillWord => form.kill_word(),
                Cmd::KillToEnd => form.kill_to_end(),
                _ => return self.command(cmd, now),
            }
            return Vec::new();
        }
        match key.code {
            KeyCode::Backspace => form.backspace(),
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                    && form.type_char(c) =>
            {
                form.error = None;
            }
            _ => {}
        }
        Vec::new()
    }

    /// A key typed into the board's filter line.
    fn type_filter(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Backspace => {
                self.board.filter.pop();
            }
            KeyCode::Char(c)
                if !c.is_control() && !key.modifiers.contains(KeyModifiers::CONTROL) =>
            {
                self.board.filter.push(c);
                self.board.selected = 0;
            }
            _ => {}
        }
    }

    /// A click on a board row selects it (a second click on the selected
    /// row opens it); the wheel moves the selection as ↑/↓ do. Ignored while
    /// a form, preview or popup is open.
    pub(super) fn on_mouse(&mut self, input: MouseInput, now: DateTime<Utc>) -> Vec<Job> {
        if self.overlays.iter().any(Overlay::is_popup) {
            return Vec::new();
        }
        match input {
            MouseInput::WheelUp => self.command(Cmd::Up, now),
            MouseInput::WheelDown => self.command(Cmd::Down, now),
            MouseInput::Click { row, .. }
                if self.screen == Screen::Board && !self.outbox_open() =>
            {
                let (first, end) = self.board.rows_at.get();
                if row < first || row >= end {
                    return Vec::new();
                }
                let index = self.board.offset.get() + usize::from((row - first) / 2);
                if index >= self.board.visible().len() {
                    return Vec::new();
                }
                if index == self.board.selected {
                    return self.command(Cmd::Open, now);
                }
                self.board.selected = index;
                Vec::new()
            }
            MouseInput::Click { .. } => Vec::new(),
        }
    }

    /// ↑/↓: scroll the preview, move in the outbox, or move on the screen.
    pub(super) fn move_selection(&mut self, down: bool) {
        let step = |i: usize, len: usize| {
            if len == 0 {
                0
            } else if down {
                (i + 1).min(len - 1)
            } else {
                i.saturating_sub(1)
            }
        };
        match self.context() {
            Context::Preview => {
                if let Some(preview) = self.overlays.preview_mut() {
                    preview.scroll = if down {
                        preview.scroll.saturating_add(1).min(preview.lines())
                    } else {
                        preview.scroll.saturating_sub(1)
                    };
                }
            }
            Context::Outbox => {
                self.outbox_selected = step(self.outbox_selected, self.outbox.len());
            }
            _ => match self.screen {
                Screen::Board => {
                    let len = self.board.visible().len();
                    self.board.selected = step(self.board.selected, len);
                }
                Screen::Incident => {
                    if let Some(screen) = &mut self.incident
                        && let Some(record) = &screen.record
                    {
                        match screen.pane {
                            Pane::Steps => {
                                screen.step = step(
                                    screen.step,
                                    crate::domain::playbook::shown_steps(record).len(),
                                )
                            }
                            Pane::Requests => {
                                screen.request = step(screen.request, record.data_requests.len())
                            }
                            Pane::Timeline => {
                                screen.entry = step(screen.entry, record.timeline.len())
                            }
                            _ => {}
                        }
                    }
                }
            },
        }
    }
}
