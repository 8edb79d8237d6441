//! What sits over the screen, as one stack: the outbox, the filter line, a
//! form, the message preview, loud warnings, the `?` help and the "are you
//! sure?" questions. The top overlay gets the keys first and is drawn last;
//! the screen's own keys work only when nothing on the stack takes them.

use crate::mail::Notice;
use crate::tui::form::Form;
use crate::tui::keymap::Context;

/// The exact message, shown before it is sent.
#[derive(Debug, Clone)]
pub struct Preview {
    pub notice: Box<Notice>,
    /// What the full-details report still lacks.
    pub missing: Vec<String>,
    pub scroll: u16,
    /// Confirmed and in flight: further `y` presses are ignored.
    pub sending: bool,
}

impl Preview {
    /// About how many lines the preview has (the scroll stops there).
    pub fn lines(&self) -> u16 {
        let text = crate::mail::render_preview(&self.notice).lines().count();
        let missing = if self.missing.is_empty() {
            0
        } else {
            self.missing.len() + 2
        };
        u16::try_from(text + missing).unwrap_or(u16::MAX)
    }
}

/// One thing over the screen.
#[derive(Debug, Clone)]
pub enum Overlay {
    /// The notices still to go (`o`).
    Outbox,
    /// Typing the board's filter (`/`); the text stays on the board.
    Filter,
    /// A form being filled in.
    Form(Box<Form>),
    /// A composed notice, before `y` sends it.
    Preview(Box<Preview>),
    /// Loud warnings (a repeated root cause) until Enter or Esc.
    Warnings(Vec<String>),
    /// Every key of the screen underneath (`?`); any key closes it.
    Help,
    /// `q` while a legal clock runs or a notice waits: why; `y` quits.
    ConfirmQuit(String),
    /// `C` while notices of the incident wait in the outbox: why; `y` goes
    /// on to the close form.
    ConfirmClose(String),
}

impl Overlay {
    /// The key table this overlay puts in force; None for one that only
    /// answers a question (help, warnings, confirmations), whose footer and
    /// help are those of what lies beneath.
    pub fn context(&self) -> Option<Context> {
        match self {
            Overlay::Outbox => Some(Context::Outbox),
            Overlay::Filter => Some(Context::Filter),
            Overlay::Form(_) => Some(Context::Form),
            Overlay::Preview(_) => Some(Context::Preview),
            Overlay::Warnings(_)
            | Overlay::Help
            | Overlay::ConfirmQuit(_)
            | Overlay::ConfirmClose(_) => None,
        }
    }

    /// Whether it covers the screen for the mouse (the outbox and the filter
    /// leave the wheel to move the selection).
    pub fn is_popup(&self) -> bool {
        !matches!(self, Overlay::Outbox | Overlay::Filter)
    }
}

/// The overlays, bottom first. At most one of each kind.
#[derive(Debug, Clone, Default)]
pub struct Overlays(Vec<Overlay>);

impl Overlays {
    /// Bottom first, as they are drawn.
    pub fn iter(&self) -> impl Iterator<Item = &Overlay> {
        self.0.iter()
    }

    /// The one that gets the next key.
    pub fn top(&self) -> Option<&Overlay> {
        self.0.last()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Puts `overlay` on top, replacing one of the same kind.
    pub fn push(&mut self, overlay: Overlay) {
        self.remove(|o| std::mem::discriminant(o) == std::mem::discriminant(&overlay));
        self.0.push(overlay);
    }

    /// Takes the top one off.
    pub fn pop(&mut self) -> Option<Overlay> {
        self.0.pop()
    }

    /// Takes off every overlay `which` picks.
    pub fn remove(&mut self, which: impl Fn(&Overlay) -> bool) {
        self.0.retain(|o| !which(o));
    }

    /// The key table in force on top (the screen's when None).
    pub fn context(&self) -> Option<Context> {
        self.0.iter().rev().find_map(Overlay::context)
    }

    pub fn form(&self) -> Option<&Form> {
        self.0.iter().rev().find_map(|o| match o {
            Overlay::Form(form) => Some(&**form),
            _ => None,
        })
    }

    pub fn form_mut(&mut self) -> Option<&mut Form> {
        self.0.iter_mut().rev().find_map(|o| match o {
            Overlay::Form(form) => Some(&mut **form),
            _ => None,
        })
    }

    pub fn close_form(&mut self) {
        self.remove(|o| matches!(o, Overlay::Form(_)));
    }

    pub fn preview(&self) -> Option<&Preview> {
        self.0.iter().rev().find_map(|o| match o {
            Overlay::Preview(p) => Some(&**p),
            _ => None,
        })
    }

    pub fn preview_mut(&mut self) -> Option<&mut Preview> {
        self.0.iter_mut().rev().find_map(|o| match o {
            Overlay::Preview(p) => Some(&mut **p),
            _ => None,
        })
    }

    pub fn close_preview(&mut self) {
        self.remove(|o| matches!(o, Overlay::Preview(_)));
    }

    /// The warnings waiting to be acknowledged (empty when none).
    pub fn warnings(&self) -> &[String] {
        self.0
            .iter()
            .find_map(|o| match o {
                Overlay::Warnings(w) => Some(w.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    /// Adds warnings to those showing (raising them to the top), if any.
    pub fn warn(&mut self, more: impl IntoIterator<Item = String>) {
        let mut all = self.warnings().to_vec();
        all.extend(more);
        if !all.is_empty() {
            self.push(Overlay::Warnings(all));
        }
    }

    pub fn outbox_open(&self) -> bool {
        self.has(|o| matches!(o, Overlay::Outbox))
    }

    pub fn filtering(&self) -> bool {
        self.has(|o| matches!(o, Overlay::Filter))
    }

    pub fn help_open(&self) -> bool {
        self.has(|o| matches!(o, Overlay::Help))
    }

    pub fn confirm_quit(&self) -> Option<&str> {
        self.0.iter().find_map(|o| match o {
            Overlay::ConfirmQuit(why) => Some(why.as_str()),
            _ => None,
        })
    }

    pub fn confirm_close(&self) -> Option<&str> {
        self.0.iter().find_map(|o| match o {
            Overlay::ConfirmClose(why) => Some(why.as_str()),
            _ => None,
        })
    }

    fn has(&self, which: impl Fn(&Overlay) -> bool) -> bool {
        self.0.iter().any(which)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_of_each_kind_and_the_newest_on_top() {
        let mut stack = Overlays::default();
        stack.push(Overlay::Outbox);
        stack.push(Overlay::Form(Box::new(Form::log())));
        stack.push(Overlay::Form(Box::new(Form::reopen())));
        assert_eq!(
            stack.iter().count(),
            2,
            "the second form replaced the first"
        );
        assert_eq!(
            stack.form().map(|f| f.title.as_str()),
            Some("Reopen the incident")
        );
        assert_eq!(stack.context(), Some(Context::Form));
        stack.close_form();
        assert_eq!(stack.context(), Some(Context::Outbox));
    }

    #[test]
    fn questions_keep_the_key_table_beneath_and_warnings_add_up() {
        let mut stack = Overlays::default();
        stack.push(Overlay::Filter);
        stack.push(Overlay::Help);
        assert_eq!(stack.context(), Some(Context::Filter));
        stack.warn(["first".to_string()]);
        stack.warn(Vec::new());
        stack.warn(["second".to_string()]);
        assert_eq!(stack.warnings(), ["first", "second"]);
        assert!(matches!(stack.top(), Some(Overlay::Warnings(_))));
        assert_eq!(stack.iter().count(), 3);
        stack.pop();
        assert!(matches!(stack.top(), Some(Overlay::Help)));
    }
}
