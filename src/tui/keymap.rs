//! The keys of every screen, as data. The key handler, the footer and the
//! `?` help overlay all read these tables, so they cannot drift apart.
//! Longer than 600 lines: it is the tables themselves, one entry per key
//! per screen, kept together so a key and its description are read at once.

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
    /// Sync the data directory with the team now (git).
    Sync,
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
    /// Whether the Client requires a root-cause analysis (8.2.1 f).
    RcaRequired,
    /// Give a responder a role on the incident.
    AssignRole,
    /// Hand the incident over to the next responder.
    HandOver,
    /// Acknowledge the handover shown at the top of the incident.
    AcknowledgeHandover,
    RecordNotification,
    SendNoticeByEmail,
    Outbox,
    RetryNotice,
    CancelNotice,
    CloseOrReopen,
    Edit,
    StepEvidence,
    ConfirmSend,
    PageUp,
    PageDown,
    /// Scroll the selected timeline entry's detail down / up.
    DetailDown,
    DetailUp,
    /// The first row of a list.
    Top,
    /// The last row of a list.
    Bottom,
    FormSubmit,
    FormNext,
    FormPrev,
    FormChoice,
    CursorHome,
    CursorEnd,
    DeleteChar,
    /// Ctrl-U: delete from the start of the text to the cursor.
    KillToStart,
    /// Ctrl-W: delete the word before the cursor.
    KillWord,
    /// Ctrl-K: delete from the cursor to the end of the text.
    KillToEnd,
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
    /// The footer's word for it (the main keys only; empty: help only).
    pub footer: &'static str,
}

const fn b(
    keys: &'static [Key],
    label: &'static str,
    cmd: Cmd,
    desc: &'static str,
    footer: &'static str,
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
    /// The exact message, before it is sent.
    Preview,
    /// The notices waiting in the outbox.
    Outbox,
}

pub const BOARD: &[Binding] = &[
    b(
        &[code(KeyCode::Enter)],
        "Enter",
        Cmd::Open,
        "open the selected incident",
        "open",
    ),
    b(
        &[k('n')],
        "n",
        Cmd::NewIncident,
        "open a new incident (starts the 1-hour clock)",
        "new incident",
    ),
    b(
        &[code(KeyCode::Down), k('j')],
        "↓/j",
        Cmd::Down,
        "next incident",
        "",
    ),
    b(
        &[code(KeyCode::Up), k('k')],
        "↑/k",
        Cmd::Up,
        "previous incident",
        "",
    ),
    b(
        &[k('g'), code(KeyCode::Home)],
        "g/Home",
        Cmd::Top,
        "first incident",
        "",
    ),
    b(
        &[k('G'), code(KeyCode::End)],
        "G/End",
        Cmd::Bottom,
        "last incident",
        "",
    ),
    b(
        &[code(KeyCode::PageUp)],
        "PgUp",
        Cmd::PageUp,
        "a page up",
        "",
    ),
    b(
        &[code(KeyCode::PageDown)],
        "PgDn",
        Cmd::PageDown,
        "a page down",
        "",
    ),
    b(&[k('/')], "/", Cmd::Filter, "filter by text", "filter"),
    b(
        &[k('c')],
        "c",
        Cmd::ToggleClosed,
        "show or hide closed incidents",
        "closed",
    ),
    b(&[k('r')], "r", Cmd::Refresh, "reload from disk", ""),
    b(
        &[k('S')],
        "S",
        Cmd::Sync,
        "sync with the team now (after `breachdesk sync init`)",
        "sync",
    ),
    b(
        &[k('O')],
        "O",
        Cmd::Outbox,
        "outbox: notices waiting, with their last error",
        "outbox",
    ),
    b(
        &[code(KeyCode::Esc)],
        "Esc",
        Cmd::Back,
        "clear the filter",
        "",
    ),
    b(
        &[k('?')],
        "?",
        Cmd::Help,
        "help: every key on this screen",
        "help",
    ),
    b(
        &[k('q'), ctrl('c')],
        "q",
        Cmd::Quit,
        "quit (everything is already saved)",
        "quit",
    ),
];

pub const FILTER: &[Binding] = &[
    b(
        &[code(KeyCode::Enter)],
        "Enter",
        Cmd::FormSubmit,
        "keep the filter",
        "keep",
    ),
    b(
        &[code(KeyCode::Esc)],
        "Esc",
        Cmd::FormCancel,
        "clear the filter",
        "clear",
    ),
    b(&[code(KeyCode::Down)], "↓", Cmd::Down, "next incident", ""),
    b(&[code(KeyCode::Up)], "↑", Cmd::Up, "previous incident", ""),
];

pub const INCIDENT: &[Binding] = &[
    b(
        &[code(KeyCode::Tab)],
        "Tab",
        Cmd::NextPane,
        "next pane",
        "pane",
    ),
    b(
        &[code(KeyCode::BackTab)],
        "S-Tab",
        Cmd::PrevPane,
        "previous pane",
        "",
    ),
    b(
        &[code(KeyCode::Down), k('j')],
        "↓/j",
        Cmd::Down,
        "next item",
        "",
    ),
    b(
        &[code(KeyCode::Up), k('k')],
        "↑/k",
        Cmd::Up,
        "previous item",
        "",
    ),
    b(&[k('l')], "l", Cmd::Log, "log a timeline entry", "log"),
    b(
        &[code(KeyCode::PageDown)],
        "PgDn/PgUp",
        Cmd::DetailDown,
        "timeline: scroll the selected entry down / up",
        "",
    ),
    b(
        &[code(KeyCode::PageUp)],
        "PgUp",
        Cmd::DetailUp,
        // Described with PgDn (help lists keys with a description).
        "",
        "",
    ),
    b(
        &[k('N')],
        "N",
        Cmd::RecordNotification,
        "record the 8.1 notification (phone, in person)",
        "notified",
    ),
    b(
        &[k('E')],
        "E",
        Cmd::SendNoticeByEmail,
        "email a notice (8.1, 8.2.1 f report, data supply, update)",
        "email",
    ),
    b(
        &[k('O')],
        "O",
        Cmd::Outbox,
        "outbox: notices waiting, with their last error",
        "",
    ),
    b(
        &[k('e')],
        "e",
        Cmd::Edit,
        "edit the incident: summary, assets, responders, facts",
        "",
    ),
    b(
        &[k('C')],
        "C",
        Cmd::CloseOrReopen,
        "close the incident (or reopen a closed one)",
        "",
    ),
    b(&[k('d')], "d", Cmd::StepDone, "step: mark done", ""),
    b(
        &[k('w')],
        "w",
        Cmd::StepInProgress,
        "step: mark in progress",
        "",
    ),
    b(
        &[k('x')],
        "x",
        Cmd::StepNotApplicable,
        "step: mark not applicable",
        "",
    ),
    b(&[k('u')], "u", Cmd::StepTodo, "step: back to to-do", ""),
    b(&[k('o')], "o", Cmd::StepNote, "step: add a note", ""),
    b(
        &[k('v')],
        "v",
        Cmd::StepEvidence,
        "step: attach an evidence file (hashed)",
        "",
    ),
    b(
        &[k('a')],
        "a",
        Cmd::AddRequest,
        "add a data request (8.2.1 e)",
        "request",
    ),
    b(
        &[k('s')],
        "s",
        Cmd::SupplyRequest,
        "data request: mark supplied",
        "",
    ),
    b(
        &[k('r')],
        "r",
        Cmd::RootCause,
        "record the root cause (8.2.1 d/f)",
        "root cause",
    ),
    b(&[k('m')], "m", Cmd::Mitigation, "mitigation (8.2.1 c)", ""),
    b(&[k('i')], "i", Cmd::Isms, "ISMS change flag (8.3)", ""),
    b(
        &[k('A')],
        "A",
        Cmd::RcaRequired,
        "does the Client require a root-cause analysis? (8.2.1 f)",
        "",
    ),
    b(
        &[k('R')],
        "R",
        Cmd::AssignRole,
        "give a responder a role (incident manager...)",
        "",
    ),
    b(
        &[k('H')],
        "H",
        Cmd::HandOver,
        "hand over to the next responder, with a note",
        "",
    ),
    b(
        &[k('Y')],
        "Y",
        Cmd::AcknowledgeHandover,
        "acknowledge the handover at the top",
        "",
    ),
    b(
        &[k('S')],
        "S",
        Cmd::Sync,
        "sync with the team now (after `breachdesk sync init`)",
        "sync",
    ),
    b(
        &[code(KeyCode::Esc)],
        "Esc",
        Cmd::Back,
        "back to the board",
        "",
    ),
    b(
        &[k('?')],
        "?",
        Cmd::Help,
        "help: every key on this screen",
        "help",
    ),
    b(
        &[k('q'), ctrl('c')],
        "q",
        Cmd::Quit,
        "quit (everything is already saved)",
        "quit",
    ),
];

pub const FORM: &[Binding] = &[
    b(
        &[code(KeyCode::Enter)],
        "Enter",
        Cmd::FormSubmit,
        "save (in a multi-line field: new line)",
        "save",
    ),
    b(
        &[ctrl('s')],
        "C-s",
        Cmd::FormSubmit,
        "save from any field",
        "save",
    ),
    b(
        &[code(KeyCode::Tab), code(KeyCode::Down)],
        "Tab/↓",
        Cmd::FormNext,
        "next field",
        "next field",
    ),
    b(
        &[code(KeyCode::BackTab), code(KeyCode::Up)],
        "S-Tab/↑",
        Cmd::FormPrev,
        "previous field",
        "",
    ),
    b(
        &[code(KeyCode::Left), code(KeyCode::Right)],
        "←/→/Space",
        Cmd::FormChoice,
        "change a choice or yes/no; in text, move the cursor",
        "change",
    ),
    b(
        &[code(KeyCode::Home), ctrl('a')],
        "Home/C-a",
        Cmd::CursorHome,
        "cursor to the start of the text",
        "",
    ),
    b(
        &[code(KeyCode::End), ctrl('e')],
        "End/C-e",
        Cmd::CursorEnd,
        "cursor to the end of the text",
        "",
    ),
    b(
        &[code(KeyCode::Delete)],
        "Del",
        Cmd::DeleteChar,
        "delete the character at the cursor (Backspace: before it)",
        "",
    ),
    b(
        &[ctrl('u')],
        "C-u",
        Cmd::KillToStart,
        "delete from the start of the text to the cursor",
        "",
    ),
    b(
        &[ctrl('w')],
        "C-w",
        Cmd::KillWord,
        "delete the word before the cursor",
        "",
    ),
    b(
        &[ctrl('k')],
        "C-k",
        Cmd::KillToEnd,
        "delete from the cursor to the end of the text",
        "",
    ),
    b(
        &[code(KeyCode::Esc)],
        "Esc",
        Cmd::FormCancel,
        "cancel (asks first if you typed)",
        "cancel",
    ),
    b(
        &[code(KeyCode::F(1))],
        "F1",
        Cmd::Help,
        "help: every key in this form",
        "help",
    ),
];

pub const PREVIEW: &[Binding] = &[
    b(
        &[k('y')],
        "y",
        Cmd::ConfirmSend,
        "send this exact message (queued once, then delivered)",
        "send",
    ),
    b(
        &[code(KeyCode::Down), k('j')],
        "↓/j",
        Cmd::Down,
        "scroll down",
        "",
    ),
    b(
        &[code(KeyCode::Up), k('k')],
        "↑/k",
        Cmd::Up,
        "scroll up",
        "",
    ),
    b(
        &[code(KeyCode::PageDown), k(' ')],
        "PgDn/Space",
        Cmd::PageDown,
        "scroll a page down",
        "scroll",
    ),
    b(
        &[code(KeyCode::PageUp)],
        "PgUp",
        Cmd::PageUp,
        "scroll a page up",
        "",
    ),
    b(
        &[code(KeyCode::Esc), k('n')],
        "Esc/n",
        Cmd::Back,
        "do not send (nothing is queued)",
        "cancel",
    ),
    b(&[k('?')], "?", Cmd::Help, "help: every key here", "help"),
];

pub const OUTBOX: &[Binding] = &[
    b(
        &[code(KeyCode::Down), k('j')],
        "↓/j",
        Cmd::Down,
        "next notice",
        "",
    ),
    b(
        &[code(KeyCode::Up), k('k')],
        "↑/k",
        Cmd::Up,
        "previous notice",
        "",
    ),
    b(
        &[k('R')],
        "R",
        Cmd::RetryNotice,
        "retry the selected notice now (a refused one too, on purpose)",
        "retry",
    ),
    b(
        &[k('X')],
        "X",
        Cmd::CancelNotice,
        "cancel the selected notice, with a reason",
        "cancel",
    ),
    b(
        &[code(KeyCode::Esc), k('O')],
        "Esc",
        Cmd::Back,
        "close the outbox",
        "close",
    ),
    b(&[k('?')], "?", Cmd::Help, "help: every key here", "help"),
];

/// The table for a context.
pub fn table(context: Context) -> &'static [Binding] {
    match context {
        Context::Board => BOARD,
        Context::Filter => FILTER,
        Context::Incident => INCIDENT,
        Context::Form => FORM,
        Context::Preview => PREVIEW,
        Context::Outbox => OUTBOX,
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
    table(context).iter().filter(|b| !b.footer.is_empty())
}

/// The footer keys left out first, in this order, when the footer line is
/// wider than the screen.
///
/// `S sync` is in the footer whenever the data directory is a sync
/// repository (and never otherwise), at every width: at a shift change,
/// sending one's changes to the team is what must not be forgotten. At 80
/// columns the incident screen's footer is then too wide by a few columns,
/// and `q quit` goes: it is the least urgent there (`Esc` returns to the
/// board, whose footer shows it, and `?` lists it).
const FOOTER_DROPS_FIRST: &[Cmd] = &[Cmd::Quit];

/// The footer's keys for `context` on a screen `width` columns wide, as
/// (key, word) pairs: `S sync` only when `synced`, and keys of
/// [`FOOTER_DROPS_FIRST`] left out while the line would not fit.
pub fn footer_keys(
    context: Context,
    synced: bool,
    width: u16,
) -> Vec<(&'static str, &'static str)> {
    let mut keys: Vec<&Binding> = footer(context)
        .filter(|b| synced || b.cmd != Cmd::Sync)
        .collect();
    // Every label and word is of characters one column wide.
    let wide = |keys: &[&Binding]| {
        keys.iter()
            .map(|b| b.label.chars().count() + 1 + b.footer.chars().count())
            .sum::<usize>()
            + 2 * keys.len().saturating_sub(1)
    };
    for cmd in FOOTER_DROPS_FIRST {
        if wide(&keys) <= usize::from(width) {
            break;
        }
        keys.retain(|b| b.cmd != *cmd);
    }
    keys.into_iter().map(|b| (b.label, b.footer)).collect()
}

/// The form's footer keys, as the footer and the form's own hint line both
/// show them: in a multi-line field Enter types a new line and `C-s` saves;
/// elsewhere Enter saves.
pub fn form_footer(multiline: bool) -> Vec<(&'static str, &'static str)> {
    footer(Context::Form)
        .filter_map(|b| match (b.cmd, b.label) {
            (Cmd::FormSubmit, "Enter") if multiline => Some(("Enter", "new line")),
            (Cmd::FormSubmit, "Enter") => Some(("Enter", b.footer)),
            (Cmd::FormSubmit, _) if !multiline => None,
            _ => Some((b.label, b.footer)),
        })
        .collect()
}

/// How the key for `cmd` is written in `context` (for hints in text).
pub fn label(context: Context, cmd: Cmd) -> &'static str {
    table(context)
        .iter()
        .find(|b| b.cmd == cmd)
        .map_or("", |b| b.label)
}

/// The footer keys of `context` as one line, e.g. for a popup's border.
pub fn hint(context: Context) -> String {
    let parts: Vec<String> = footer(context)
        .map(|b| format!("{}: {}", b.label, b.footer))
        .collect();
    format!(" {} ", parts.join(" · "))
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
            Context::Preview,
            Context::Outbox,
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
    fn s_sync_is_in_the_footer_only_when_synced_and_fits_at_80_columns() {
        let words = |context, synced, width| -> Vec<&str> {
            footer_keys(context, synced, width)
                .into_iter()
                .map(|(_, word)| word)
                .collect()
        };
        let line = |context, synced, width| {
            footer_keys(context, synced, width)
                .iter()
                .map(|(key, word)| format!("{key} {word}"))
                .collect::<Vec<_>>()
                .join("  ")
        };
        for context in [Context::Board, Context::Incident] {
            assert!(!words(context, false, 200).contains(&"sync"));
            assert!(words(context, true, 80).contains(&"sync"), "{context:?}");
            assert!(line(context, true, 80).chars().count() <= 80);
            // Unsynced, nothing is dropped at 80 columns.
            assert!(words(context, false, 80).contains(&"quit"));
            assert!(words(context, true, 120).contains(&"quit"));
        }
        // The board fits all its keys; the incident screen drops quit.
        assert!(words(Context::Board, true, 80).contains(&"quit"));
        assert!(!words(Context::Incident, true, 80).contains(&"quit"));
        assert!(words(Context::Incident, true, 80).contains(&"help"));
        // S syncs on both screens.
        let key = KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT);
        assert_eq!(lookup(Context::Board, &key), Some(Cmd::Sync));
        assert_eq!(lookup(Context::Incident, &key), Some(Cmd::Sync));
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
