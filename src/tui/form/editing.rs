//! Field editing: the cursor, typing, pasting, deleting, moving between
//! fields and changing a choice. Nothing here knows what a form is for.

use super::{Form, FormKind, Value};

impl Form {
    /// The focused field's text, if it is a text field.
    fn focused_text(&mut self) -> Option<&mut String> {
        match self.fields.get_mut(self.focus).map(|f| &mut f.value) {
            Some(Value::Text(s) | Value::Multi(s)) => Some(s),
            _ => None,
        }
    }

    /// The byte offset of the cursor in `s`.
    fn at(s: &str, cursor: usize) -> usize {
        s.char_indices().nth(cursor).map_or(s.len(), |(i, _)| i)
    }

    fn insert(&mut self, text: &str) {
        if std::mem::take(&mut self.selected)
            && let Some(s) = self.focused_text()
        {
            s.clear();
            self.cursor = 0;
        }
        let cursor = self.cursor;
        if let Some(s) = self.focused_text() {
            let at = Form::at(s, cursor);
            s.insert_str(at, text);
            self.cursor += text.chars().count();
        }
    }

    pub fn cursor_to_end(&mut self) {
        self.selected = false;
        self.cursor = self.focused_text().map_or(0, |s| s.chars().count());
    }

    pub fn cursor_home(&mut self) {
        self.selected = false;
        self.cursor = 0;
    }

    /// After a move to another field: the cursor at the end, and a time
    /// field's untouched default ("now") selected so that typing `-20m`
    /// replaces it. (Existing text, such as a title being edited or the Cc
    /// line, is not selected: typing adds to it.)
    pub(super) fn focus_changed(&mut self) {
        self.cursor_to_end();
        self.selected = self
            .fields
            .get(self.focus)
            .is_some_and(|f| f.value == f.initial && f.value == Value::Text("now".into()));
    }

    /// Ctrl-U: deletes from the start of the text to the cursor.
    pub fn kill_to_start(&mut self) {
        self.selected = false;
        let cursor = self.cursor;
        if let Some(s) = self.focused_text() {
            let at = Form::at(s, cursor);
            s.replace_range(..at, "");
            self.cursor = 0;
        }
    }

    /// Ctrl-K: deletes from the cursor to the end of the text.
    pub fn kill_to_end(&mut self) {
        self.selected = false;
        let cursor = self.cursor;
        if let Some(s) = self.focused_text() {
            let at = Form::at(s, cursor);
            s.truncate(at);
        }
    }

    /// Ctrl-W: deletes the word before the cursor (and the spaces after it).
    pub fn kill_word(&mut self) {
        self.selected = false;
        let cursor = self.cursor;
        if let Some(s) = self.focused_text() {
            let end = Form::at(s, cursor);
            let before = &s[..end];
            let trimmed = before.trim_end_matches(char::is_whitespace);
            let start = trimmed.rfind(char::is_whitespace).map_or(0, |i| {
                i + trimmed[i..].chars().next().map_or(1, char::len_utf8)
            });
            let removed = s[start..end].chars().count();
            s.replace_range(start..end, "");
            self.cursor = cursor - removed;
        }
    }

    /// Left/Right in a text field.
    pub fn move_cursor(&mut self, forward: bool) {
        self.selected = false;
        let len = self.focused_text().map_or(0, |s| s.chars().count());
        self.cursor = if forward {
            (self.cursor + 1).min(len)
        } else {
            self.cursor.saturating_sub(1)
        };
    }

    /// Delete: the character at the cursor.
    pub fn delete(&mut self) {
        let cursor = self.cursor;
        if let Some(s) = self.focused_text() {
            let at = Form::at(s, cursor);
            if at < s.len() {
                s.remove(at);
            }
        }
    }

    /// The focused text split at the cursor (for drawing).
    pub fn split_at_cursor(&self, s: &str) -> (String, String) {
        let at = Form::at(s, self.cursor.min(s.chars().count()));
        (s[..at].to_string(), s[at..].to_string())
    }

    pub fn next(&mut self) {
        self.focus = (self.focus + 1) % self.fields.len().max(1);
        self.focus_changed();
    }

    pub fn prev(&mut self) {
        let n = self.fields.len().max(1);
        self.focus = (self.focus + n - 1) % n;
        self.focus_changed();
    }

    /// Left/Right/Space on a choice or flag.
    pub fn change_choice(&mut self, forward: bool) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            match &mut f.value {
                Value::Choice { options, index } if self.kind == FormKind::EmailChoice => {
                    // The notice chooser stops at both ends: never wraps
                    // round from an update to a notification.
                    *index = if forward {
                        (*index + 1).min(options.len().saturating_sub(1))
                    } else {
                        index.saturating_sub(1)
                    };
                }
                Value::Choice { options, index } => {
                    let n = options.len().max(1);
                    *index = if forward {
                        (*index + 1) % n
                    } else {
                        (*index + n - 1) % n
                    };
                }
                Value::Flag(on) => *on = !*on,
                _ => {}
            }
        }
        self.refresh_severity_hint();
    }

    /// A typed character. Returns whether it was used.
    pub fn type_char(&mut self, c: char) -> bool {
        if c.is_control() {
            return false;
        }
        if self.focused_is_text() {
            self.insert(c.encode_utf8(&mut [0; 4]));
            return true;
        }
        let Some(f) = self.fields.get_mut(self.focus) else {
            return false;
        };
        match &mut f.value {
            Value::Text(_) | Value::Multi(_) => {}
            Value::Flag(on) => match c {
                'y' | 'Y' => *on = true,
                'n' | 'N' => *on = false,
                ' ' => *on = !*on,
                _ => return false,
            },
            Value::Choice { .. } => match c {
                ' ' => self.change_choice(true),
                _ => return false,
            },
        }
        true
    }

    /// Pasted text (bracketed paste): new lines kept only in a multi-line field.
    /// Terminals send a pasted line break as CR, LF or CRLF: each is one
    /// new line in a multi-line field and one space in a single-line one.
    pub fn paste(&mut self, pasted: &str) {
        let pasted = pasted.replace("\r\n", "\n").replace('\r', "\n");
        let text: String = match self.fields.get(self.focus).map(|f| &f.value) {
            Some(Value::Multi(_)) => pasted
                .chars()
                .filter(|c| *c == '\n' || !c.is_control())
                .collect(),
            Some(Value::Text(_)) => pasted
                .chars()
                .map(|c| if c == '\n' { ' ' } else { c })
                .filter(|c| !c.is_control())
                .collect(),
            _ => return,
        };
        self.insert(&text);
    }

    pub fn newline(&mut self) {
        if self.focused_is_multiline() {
            self.insert("\n");
        }
    }

    /// Backspace: the character before the cursor (a selected default:
    /// all of it).
    pub fn backspace(&mut self) {
        if std::mem::take(&mut self.selected) {
            if let Some(s) = self.focused_text() {
                s.clear();
            }
            self.cursor = 0;
            return;
        }
        if self.cursor == 0 {
            return;
        }
        let cursor = self.cursor;
        if let Some(s) = self.focused_text() {
            let at = Form::at(s, cursor - 1);
            if at < s.len() {
                s.remove(at);
                self.cursor -= 1;
            }
        }
    }
}
