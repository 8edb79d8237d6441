//! Input routing: an [`Action`] reaches the top overlay first (a form, the
//! preview, a popup); the screen's keymap sees it only when nothing on top
//! took it.

use super::*;

impl App {
    /// The one way state changes. Returns desk jobs to run off the UI task.
    pub fn update(&mut self, action: Action, now: DateTime<Utc>) -> Vec<Job> {
        match action {
            Action::Key(key) => self.on_key(key, now),
            Action::Paste(text) => {
                if let Some(form) = &mut self.form {
                    form.paste(&text);
                } else if self.board.filtering {
                    self.board
                        .filter
                        .extend(text.chars().filter(|c| !c.is_control()));
                }
                Vec::new()
            }
            Action::Cmd(cmd) => self.command(cmd, now),
            Action::Tick => {
                self.check_alerts(now);
                let mut jobs = self.outbox_round(now);
                jobs.extend(self.look_at_disk(now));
                jobs
            }
            Action::Resize => Vec::new(),
            Action::Mouse(input) => self.on_mouse(input, now),
            Action::Done(done) => self.on_done(done, now),
        }
    }

    pub(super) fn on_key(&mut self, key: KeyEvent, now: DateTime<Utc>) -> Vec<Job> {
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        if self.help {
            self.help = false;
            return Vec::new();
        }
        if self.confirm_quit.is_some() {
            if matches!(key.code, KeyCode::Char('y' | 'Y')) {
                self.quit = true;
            } else {
                self.confirm_quit = None;
                self.say("Not quitting");
            }
            return Vec::new();
        }
        if self.confirm_close.take().is_some() {
            if matches!(key.code, KeyCode::Char('y' | 'Y')) {
                self.open_close_form();
            } else {
                self.say("Not closed");
            }
            return Vec::new();
        }
        if !self.warnings.is_empty() {
            if matches!(key.code, KeyCode::Enter | KeyCode::Esc) {
                self.warnings.clear();
            }
            return Vec::new();
        }
        if self.preview.is_some() {
            return match keymap::lookup(Context::Preview, &key) {
                Some(cmd) => self.command(cmd, now),
                None if ctrl_c => self.command(Cmd::Back, now),
                None => Vec::new(),
            };
        }
        if let Some(form) = &mut self.form {
            if form.confirm_discard {
                match key.code {
                    KeyCode::Char('y') | KeyCode::Char('Y') => self.form = None,
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
                        form.move_cursor(key.code == KeyCode::Right);
                        return Vec::new();
                    }
                    Cmd::FormChoice => {
                        form.change_choice(key.code == KeyCode::Right);
                        return Vec::new();
                    }
                    Cmd::CursorHome => {
                        form.cursor_home();
                        return Vec::new();
                    }
                    Cmd::CursorEnd => {
                        form.cursor_to_end();
                        return Vec::new();
                    }
                    Cmd::DeleteChar => {
                        form.delete();
                        return Vec::new();
                    }
                    Cmd::KillToStart => {
                        form.kill_to_start();
                        return Vec::new();
                    }
                    Cmd::KillWord => {
                        form.kill_word();
                        return Vec::new();
                    }
                    Cmd::KillToEnd => {
                        form.kill_to_end();
                        return Vec::new();
                    }
                    _ => {}
                }
                return self.command(cmd, now);
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
            return Vec::new();
        }
        let context = self.context();
        if context == Context::Filter {
            if let Some(cmd) = keymap::lookup(context, &key) {
                return self.command(cmd, now);
            }
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
            return Vec::new();
        }
        match keymap::lookup(context, &key) {
            Some(cmd) => self.command(cmd, now),
            None => Vec::new(),
        }
    }

    /// A click on a board row selects it (a second click on the selected
    /// row opens it); the wheel moves the selection as ↑/↓ do. Ignored while
    /// a form, preview or popup is open.
    pub(super) fn on_mouse(&mut self, input: MouseInput, now: DateTime<Utc>) -> Vec<Job> {
        let popup = self.form.is_some()
            || self.preview.is_some()
            || self.help
            || !self.warnings.is_empty()
            || self.confirm_quit.is_some()
            || self.confirm_close.is_some();
        if popup {
            return Vec::new();
        }
        match input {
            MouseInput::WheelUp => self.command(Cmd::Up, now),
            MouseInput::WheelDown => self.command(Cmd::Down, now),
            MouseInput::Click { row, .. } if self.screen == Screen::Board && !self.outbox_open => {
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
        if let Some(preview) = &mut self.preview {
            preview.scroll = if down {
                preview.scroll.saturating_add(1).min(preview.lines())
            } else {
                preview.scroll.saturating_sub(1)
            };
            return;
        }
        if self.outbox_open {
            self.outbox_selected = step(self.outbox_selected, self.outbox.len());
            return;
        }
        match self.screen {
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
                        Pane::Timeline => screen.entry = step(screen.entry, record.timeline.len()),
                        _ => {}
                    }
                }
            }
        }
    }
}
