//! The keys of every screen, as data. The key handler, the footer and the
//! `?` help overlay all read these tables, so they cannot drift apart.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for (no payload: typed text goes to the focused field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Quit,
    Help,
    Back,
    Up,
    Down,
    Open,
    NewIncident,
    ToggleClosed,
    Filter,
    Refresh,
    NextPane,
    PrevPane,
    Log,
    AddRequest,
    SupplyRequest,
    StepDone,
    StepInProgress,
    StepNotApplicable,
    StepTodo,
    StepNote,
    RootCause,
    Mitigation,
    Isms,
    RecordNotification,
    SendNoticeByEmail,
    FormSubmit,
    FormNext,
    FormPrev,
    FormChoice,
    FormCancel,
}

/// One key: a code and the modifiers that must be held (Shift is ignored,
/// since it is already in the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub KeyCode, pub KeyModifiers);

const fn k(c: char) -> Key {
    Key(KeyCode::Char(c), KeyModifiers::NONE)
}
const fn ctrl(c: char) -> Key {
    Key(KeyCode::Char(c), KeyModifiers::CONTROL)
}
const fn code(c: KeyCode) -> Key {
    Key(c, KeyModifiers::NONE)
}

/// A line of the keymap: the keys, how they are written, what they do.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Key],
    pub label: &'static str,
    pub cmd: Cmd,
    pub desc: &'static str,
    /// Shown in the footer (the main keys); every binding is in the help.
    pub footer: bool,
}

const fn b(
    keys: &'static [Key],
    label: &'static str,
    cmd: Cmd,
    desc: &'static str,
    footer: bool,
) -> Binding {
    Binding {
        keys,
        label,
        cmd,
        desc,
        footer,
    }
}

/// Which table is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Board,
    Filter,
    Incident,
    Form,
}

pub const BOARD: &[Binding] = &[
    b(
        &[code(KeyCode::Enter)],
        "Enter",
        Cmd::Open,
        "open the selected incident",
        true,
    ),
    b(
        &[k('n')],
        "n",
        Cmd::NewIncident,
        "open a new incident (starts the 1-hour clock)",
        true,
    ),
    b(
        &[code(KeyCode::Down), k('j')],
        "↓/j",
        Cmd::Down,
        "next incident",
        false,
    ),
    b(
        &[code(KeyCode::Up), k('k')],
        "↑/k",
        Cmd::Up,
        "previous incident",
        false,
    ),
    b(&[k('/')], "/", Cmd::Filter, "filter by text", true),
    b(
        &[k('c')],
        "c",
        Cmd::ToggleClosed,
        "show or hide closed incidents",
        true,
    ),
    b(&[k('r')], "r", Cmd::Refresh, "reload from disk", false),
    b(
        &[code(KeyCode::Esc)],
        "Esc",
        Cmd::Back,
        "clear the filter",
        false,
    ),
    b(
        &[k('?')],
        "?",
        Cmd::Help,
        "help: every key on this screen",
        true,
    ),
    b(
        &[k('q'), ctrl('c')],
        "q",
        Cmd::Quit,
        "quit (everything is already saved)",
        true,
    ),
];

pub const FILTER: &[Binding] = &[
    b(
        &[code(KeyCode::Enter)],
        "Enter",
        Cmd::FormSubmit,
        "keep the filter",
        true,
    ),
    b(
        &[code(KeyCode::Esc)],
        "Esc",
        Cmd::FormCancel,
        "clear the filter",
        true,
    ),
    b(
        &[code(KeyCode::Down)],
        "↓",
        Cmd::Down,
        "next incident",
        false,
    ),
    b(
        &[code(KeyCode::Up)],
        "↑",
        Cmd::Up,
        "previous incident",
        false,
    ),
];

pub const INCIDENT: &[Binding] = &[
    b(
        &[code(KeyCode::Tab)],
        "Tab",
        Cmd::NextPane,
        "next pane",
        true,
    ),
    b(
        &[code(KeyCode::BackTab)],
        "S-Tab",
        Cmd::PrevPane,
        "previous pane",
        false,
    ),
    b(
        &[code(KeyCode::Down), k('j')],
        "↓/j",
        Cmd::Down,
        "next item",
        false,
    ),
    b(
        &[code(KeyCode::Up), k('k')],
        "↑/k",
        Cmd::Up,
        "previous item",
        false,
    ),
    b(&[k('l')], "l", Cmd::Log, "log a timeline entry", true),
    b(
        &[k('N')],
        "N",
        Cmd::RecordNotification,
        "record the 8.1 notification (phone, in person)",
        true,
    ),
    b(
        &[k('E')],
        "E",
        Cmd::SendNoticeByEmail,
        "send the 8.1 notice by email",
        false,
    ),
    b(&[k('d')], "d", Cmd::StepDone, "step: mark done", false),
    b(
        &[k('w')],
        "w",
        Cmd::StepInProgress,
        "step: mark in progress",
        false,
    ),
    b(
        &[k('x')],
        "x",
        Cmd::StepNotApplicable,
        "step: mark not applicable",
        false,
    ),
    b(&[k('u')], "u", Cmd::StepTodo, "step: back to to-do", false),
    b(&[k('o')], "o", Cmd::StepNote, "step: add a note", false),
    b(
        &[k('a')],
        "a",
        Cmd::AddRequest,
        "add a data request (8.2.1 e)",
        true,
    ),
    b(
        &[k('s')],
        "s",
        Cmd::SupplyRequest,
        "data request: mark supplied",
        false,
    ),
    b(
        &[k('r')],
        "r",
        Cmd::RootCause,
        "record the root cause (8.2.1 d/f)",
        true,
    ),
    b(
        &[k('m')],
        "m",
        Cmd::Mitigation,
        "mitigation (8.2.1 c)",
        false,
    ),
    b(&[k('i')], "i", Cmd::Isms, "ISMS change flag (8.3)", false),
    b(
        &[code(KeyCode::Esc)],
        "Esc",
        Cmd::Back,
        "back to the board",
        true,
    ),
    b(
        &[k('?')],
        "?",
        Cmd::Help,
        "help: every key on this screen",
        true,
    ),
    b(
        &[k('q'), ctrl('c')],
        "q",
        Cmd::Quit,
        "quit (everything is already saved)",
        true,
    ),
];

pub const FORM: &[Binding] = &[
    b(
        &[code(KeyCode::Enter)],
        "Enter",
        Cmd::FormSubmit,
        "save (in a multi-line field: new line)",
        true,
    ),
    b(
        &[ctrl('s')],
        "C-s",
        Cmd::FormSubmit,
        "save from any field",
        true,
    ),
    b(
        &[code(KeyCode::Tab), code(KeyCode::Down)],
        "Tab/↓",
        Cmd::FormNext,
        "next field",
        true,
    ),
    b(
        &[code(KeyCode::BackTab), code(KeyCode::Up)],
        "S-Tab/↑",
        Cmd::FormPrev,
        "previous field",
        false,
    ),
    b(
        &[code(KeyCode::Left), code(KeyCode::Right)],
        "←/→/Space",
        Cmd::FormChoice,
        "change a choice or yes/no",
        true,
    ),
    b(
        &[code(KeyCode::Esc)],
        "Esc",
        Cmd::FormCancel,
        "cancel (asks first if you typed)",
        true,
    ),
    b(
        &[code(KeyCode::F(1))],
        "F1",
        Cmd::Help,
        "help: every key in this form",
        true,
    ),
];

/// The table for a context.
pub fn table(context: Context) -> &'static [Binding] {
    match context {
        Context::Board => BOARD,
        Context::Filter => FILTER,
        Context::Incident => INCIDENT,
        Context::Form => FORM,
    }
}

fn normalise(key: &KeyEvent) -> Key {
    let mut mods = key.modifiers;
    mods.remove(KeyModifiers::SHIFT);
    Key(key.code, mods)
}

/// The command a key press asks for in `context`, if any.
pub fn lookup(context: Context, key: &KeyEvent) -> Option<Cmd> {
    let key = normalise(key);
    table(context)
        .iter()
        .find(|binding| binding.keys.contains(&key))
        .map(|binding| binding.cmd)
}

/// The footer's keys for a context, in table order.
pub fn footer(context: Context) -> impl Iterator<Item = &'static Binding> {
    table(context).iter().filter(|b| b.footer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_context_has_help_or_escape_and_no_duplicate_keys() {
        for context in [
            Context::Board,
            Context::Filter,
            Context::Incident,
            Context::Form,
        ] {
            let mut seen = Vec::new();
            for binding in table(context) {
                for key in binding.keys {
                    assert!(!seen.contains(key), "{context:?}: {key:?} bound twice");
                    seen.push(*key);
                }
            }
            assert!(
                table(context)
                    .iter()
                    .any(|b| b.keys.contains(&code(KeyCode::Esc)))
            );
        }
    }

    #[test]
    fn shift_is_part_of_the_character() {
        let key = KeyEvent::new(KeyCode::Char('N'), KeyModifiers::SHIFT);
        assert_eq!(
            lookup(Context::Incident, &key),
            Some(Cmd::RecordNotification)
        );
        let key = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(lookup(Context::Incident, &key), Some(Cmd::PrevPane));
        let key = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(lookup(Context::Form, &key), None, "q types q in a form");
    }
}
