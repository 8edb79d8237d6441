//! The console's state and the one way it changes: [`App::update`] with an
//! [`Action`]. Desk work comes out as [`Job`]s for the runtime to run off the
//! UI task; their results come back as [`Action::Done`].
//!
//! This file holds the state; the rest, one concern a file:
//! - [`overlay`]: what sits over the screen, one stack (the top gets keys);
//! - `input`: routing a key, paste or click to the top overlay or the screen;
//! - `commands`: what each keymap command does (forms open and submit here);
//! - `mail`: choosing, previewing and confirming a notice; the outbox round;
//! - `outcomes`: what a finished job changes, and the once-a-second checks.

use crate::desk::Desk;
use crate::domain::incident::Incident;
use crate::domain::summary::IncidentSummary;
use crate::tui::form::Form;
use crate::tui::jobs::{Done, Job, JobKind, OutboxRow, Outcome};
use crate::tui::keymap::{self, Cmd, Context};
use crate::tui::theme::Theme;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ratatui::crossterm::event::KeyEvent;
use std::path::PathBuf;

mod commands;
mod input;
mod mail;
mod outcomes;
pub mod overlay;
mod sync;

pub use overlay::{Overlay, Overlays, Preview};
pub use sync::SyncPanel;

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Action {
    /// A key press (routed to the focused form/field first).
    Key(KeyEvent),
    /// Bracketed paste.
    Paste(String),
    /// A command, as a key would give it.
    Cmd(Cmd),
    /// The once-a-second clock tick (the clocks are recomputed from `now`).
    Tick,
    /// The terminal was resized.
    Resize,
    /// A mouse click (column, row) or wheel turn (`[ui] mouse = true`).
    Mouse(MouseInput),
    /// A desk job finished.
    Done(Done),
}

/// What the console does with the mouse: click to select, wheel to move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseInput {
    Click { column: u16, row: u16 },
    WheelUp,
    WheelDown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Board,
    Incident,
}

/// The incident screen's panes, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Steps,
    Timeline,
    Requests,
    RootCause,
    Mitigation,
    Isms,
    Notices,
}

impl Pane {
    pub const ALL: [Pane; 7] = [
        Pane::Steps,
        Pane::Timeline,
        Pane::Requests,
        Pane::RootCause,
        Pane::Mitigation,
        Pane::Isms,
        Pane::Notices,
    ];
    pub fn title(self) -> &'static str {
        match self {
            Pane::Steps => "Steps",
            Pane::Timeline => "Timeline",
            Pane::Requests => "Data requests",
            Pane::RootCause => "Root cause",
            Pane::Mitigation => "Mitigation",
            Pane::Isms => "ISMS (8.3)",
            Pane::Notices => "Notices",
        }
    }
    pub(super) fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// The home screen's state.
#[derive(Debug, Clone, Default)]
pub struct Board {
    pub summaries: Vec<IncidentSummary>,
    /// How many incidents are closed (their rows are loaded only when shown).
    pub closed: usize,
    pub problems: Vec<String>,
    pub show_closed: bool,
    pub filter: String,
    pub selected: usize,
    /// False until the first load from disk has come back.
    pub loaded: bool,
    /// How many rows the last frame had room for (PgUp/PgDn move by it).
    pub page: std::cell::Cell<usize>,
    /// The first row the last frame showed (kept while the selection stays
    /// on screen, so the list does not jump).
    pub offset: std::cell::Cell<usize>,
    /// The screen lines the last frame drew rows on (first, last + 1), for
    /// mouse clicks.
    pub rows_at: std::cell::Cell<(u16, u16)>,
}

impl Board {
    /// The rows shown: open ones (and closed if toggled) matching the filter.
    pub fn visible(&self) -> Vec<&IncidentSummary> {
        let needle = self.filter.trim().to_lowercase();
        self.summaries
            .iter()
            .filter(|s| self.show_closed || s.on_board())
            .filter(|s| {
                needle.is_empty()
                    || [
                        s.id.as_str(),
                        s.title.as_str(),
                        s.kind.as_str(),
                        s.severity.as_str(),
                        s.next_action.as_ref().map_or("", |n| n.title.as_str()),
                        s.incident_manager.as_deref().unwrap_or(""),
                        s.handover_to.as_deref().unwrap_or(""),
                    ]
                    .iter()
                    .any(|field| field.to_lowercase().contains(&needle))
            })
            .collect()
    }
}

/// The incident on screen.
#[derive(Debug, Clone)]
pub struct IncidentScreen {
    pub id: String,
    pub record: Option<Box<Incident>>,
    pub pane: Pane,
    pub step: usize,
    pub request: usize,
    pub entry: usize,
    /// How far the selected timeline entry's detail is scrolled: (the entry
    /// it was scrolled on, lines down). Another entry starts at the top.
    pub detail_scroll: (usize, u16),
    /// The most the detail can scroll, as the last frame found it.
    pub detail_room: std::cell::Cell<u16>,
}

impl IncidentScreen {
    /// Lines the selected entry's detail is scrolled down by.
    pub fn detail_offset(&self) -> u16 {
        if self.detail_scroll.0 == self.entry {
            self.detail_scroll.1.min(self.detail_room.get())
        } else {
            0
        }
    }
}

/// The status line: the last thing that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// What the mailer needs from the console.
#[derive(Debug, Clone, Default)]
pub struct MailSettings {
    /// `[smtp]` is configured.
    pub smtp: bool,
    /// `<config dir>/templates` (user overrides of the notice templates).
    pub templates_dir: Option<PathBuf>,
    /// `[contacts] cc`: the Cc line every compose form starts with.
    pub cc: Vec<String>,
}

/// How often the outbox is looked at (and due notices sent).
pub const OUTBOX_EVERY_SECS: i64 = 30;

/// The console's state.
#[derive(Debug, Clone)]
pub struct App {
    pub tz: Tz,
    pub theme: Theme,
    /// Default recipient for a notification (config `contacts.other_party`).
    pub other_party: Option<String>,
    /// What each severity level means (config `[severity]`), shown in forms.
    pub severity_help: Vec<String>,
    pub screen: Screen,
    pub board: Board,
    pub incident: Option<IncidentScreen>,
    /// What sits over the screen (forms, popups), bottom first: the top
    /// one gets the keys and is drawn last.
    pub overlays: Overlays,
    pub status: Option<Status>,
    pub quit: bool,
    /// Jobs sent and not yet done.
    pub in_flight: usize,
    pub mail: MailSettings,
    /// The notices still waiting in the outbox.
    pub outbox: Vec<OutboxRow>,
    pub outbox_selected: usize,
    /// The mail job in flight (one at a time), if any.
    pub mail_busy: Option<u64>,
    /// The background outbox round in flight, if any.
    pub outbox_round: Option<u64>,
    /// When the outbox was last looked at from the tick.
    pub outbox_checked: Option<DateTime<Utc>>,
    /// Legal-clock alerts already given (incident/clock/due/threshold), so
    /// each threshold rings once.
    pub alerted: std::collections::BTreeSet<String>,
    /// An alert to ring now (the loop takes it: bell, desktop notification).
    pub alert: Option<String>,
    /// Every legal clock of the incidents near a threshold, by id, with the
    /// revision read (the board's summary keeps only the nearest).
    pub legal_clocks:
        std::collections::BTreeMap<String, (u64, Vec<crate::domain::summary::DueClock>)>,
    /// The legal-clocks job in flight, if any (one at a time).
    clocks_job: Option<u64>,
    /// The records' stamp at the last look (see [`JobKind::Stamp`]).
    pub disk_stamp: Option<crate::desk::DiskStamp>,
    /// The stamp job in flight, if any (one at a time).
    stamp_job: Option<u64>,
    /// Team sync, when the data directory is a sync repository.
    pub sync: Option<SyncPanel>,
    /// Background jobs that do not count as "saving".
    quiet: Vec<u64>,
    next_seq: u64,
}

/// A refusal from the desk in the console's words: the desk names the CLI
/// flag (`--delay-reason`), the console the form field.
pub fn console_words(message: &str) -> String {
    message
        .replace("(--delay-reason)", "(the Delay reason field)")
        .replace("(--reason)", "(the Reason field)")
}

/// Text from the desk with every RFC 3339 instant in it (`2026-03-01T13:00:00Z`)
/// shown in local time, as the rest of the screen is (`Sun 01 Mar 13:00`).
pub fn local_stamps(text: &str, tz: Tz) -> String {
    text.split(' ')
        .map(|word| {
            let core = word.trim_matches(|c: char| matches!(c, '(' | ')' | ',' | ';' | '.'));
            match DateTime::parse_from_rfc3339(core) {
                Ok(at) if core.len() >= 20 => word.replacen(
                    core,
                    &crate::present::local_short(at.with_timezone(&Utc), tz),
                    1,
                ),
                _ => word.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The thresholds the console alerts at: 15 and 5 minutes left, overdue.
pub const ALERT_LEADS_MINUTES: [i64; 2] = [15, 5];

/// The most urgent legal clock on the board that is under 15 minutes or
/// overdue at `now`: the alert banner's incident, clock and due time.
pub fn alert_banner(
    board: &Board,
    now: DateTime<Utc>,
) -> Option<(&IncidentSummary, &crate::domain::summary::DueClock)> {
    board
        .summaries
        .iter()
        .filter_map(|s| s.legal_due.as_ref().map(|d| (s, d)))
        .filter(|(_, d)| d.due_at - now <= chrono::Duration::minutes(ALERT_LEADS_MINUTES[0]))
        .min_by_key(|(_, d)| d.due_at)
}

impl App {
    pub fn new(tz: Tz, theme: Theme, other_party: Option<String>) -> App {
        App {
            tz,
            theme,
            other_party,
            severity_help: crate::config::SeverityScale::default().help(),
            screen: Screen::Board,
            board: Board::default(),
            incident: None,
            overlays: Overlays::default(),
            status: None,
            quit: false,
            in_flight: 0,
            mail: MailSettings::default(),
            outbox: Vec::new(),
            outbox_selected: 0,
            mail_busy: None,
            outbox_round: None,
            outbox_checked: None,
            alerted: std::collections::BTreeSet::new(),
            alert: None,
            legal_clocks: std::collections::BTreeMap::new(),
            clocks_job: None,
            disk_stamp: None,
            stamp_job: None,
            sync: None,
            quiet: Vec::new(),
            next_seq: 1,
        }
    }

    /// Shows what opening the data directory found (e.g. a directory other
    /// users can read) on the status line until something else is said.
    pub fn warn_on_start(&mut self, warnings: &[String]) {
        if !warnings.is_empty() {
            self.complain(format!("⚠ {}", warnings.join("; ")));
        }
    }

    /// An app set up from `desk`'s settings (zone, contacts, `[smtp]`,
    /// severity definitions) and what opening the directory found; the
    /// board is still to load (see [`App::initial_load`]).
    pub fn for_desk(desk: &Desk, theme: Theme) -> App {
        let config = desk.config();
        let mut app = App::new(desk.tz(), theme, config.contacts.other_party.clone());
        app.warn_on_start(&desk.warnings());
        app.mail.smtp = config.smtp.is_some();
        app.mail.cc = config.contacts.cc.clone();
        app.severity_help = config.severity.help();
        if desk.is_synced() {
            app.enable_sync(config.sync.auto, config.sync.interval.0);
        }
        app
    }

    /// An app with the board already loaded from `desk` (for the first frame).
    pub fn from_desk(desk: &Desk, theme: Theme) -> App {
        let mut app = App::for_desk(desk, theme);
        if let Outcome::Board {
            summaries,
            closed,
            problems,
        } = crate::tui::jobs::board(desk, false)
        {
            app.board.summaries = summaries;
            app.board.closed = closed;
            app.board.problems = problems;
            app.board.loaded = true;
        }
        app
    }

    /// The first desk job: load the board off the UI task, so the first
    /// frame is drawn at once however many incidents there are.
    pub fn initial_load(&mut self, now: DateTime<Utc>) -> Job {
        self.job(
            now,
            JobKind::LoadBoard {
                closed: self.board.show_closed,
            },
        )
    }

    /// Which key table is in force: the top overlay's, else the screen's.
    pub fn context(&self) -> Context {
        match self.overlays.context() {
            Some(context) => context,
            None if self.screen == Screen::Board => Context::Board,
            None => Context::Incident,
        }
    }

    /// The form being filled in, if any.
    pub fn form(&self) -> Option<&Form> {
        self.overlays.form()
    }

    pub fn form_mut(&mut self) -> Option<&mut Form> {
        self.overlays.form_mut()
    }

    /// The message shown before it is sent, if any.
    pub fn preview(&self) -> Option<&Preview> {
        self.overlays.preview()
    }

    pub fn preview_mut(&mut self) -> Option<&mut Preview> {
        self.overlays.preview_mut()
    }

    /// Loud warnings (repeat root cause) waiting to be acknowledged.
    pub fn warnings(&self) -> &[String] {
        self.overlays.warnings()
    }

    pub fn outbox_open(&self) -> bool {
        self.overlays.outbox_open()
    }

    pub fn help_open(&self) -> bool {
        self.overlays.help_open()
    }

    /// Why `q` asks before quitting, while it asks.
    pub fn confirm_quit(&self) -> Option<&str> {
        self.overlays.confirm_quit()
    }

    /// Why `C` asks before the close form, while it asks.
    pub fn confirm_close(&self) -> Option<&str> {
        self.overlays.confirm_close()
    }

    pub(super) fn job(&mut self, now: DateTime<Utc>, kind: JobKind) -> Job {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.in_flight += 1;
        Job { seq, now, kind }
    }

    /// A background job: not shown as "saving…".
    pub(super) fn quiet_job(&mut self, now: DateTime<Utc>, kind: JobKind) -> Job {
        let job = self.job(now, kind);
        self.in_flight = self.in_flight.saturating_sub(1);
        self.quiet.push(job.seq);
        job
    }

    /// A mail job: one at a time, shown as "sending…".
    pub(super) fn mail_job(&mut self, now: DateTime<Utc>, kind: JobKind) -> Job {
        let job = self.quiet_job(now, kind);
        self.mail_busy = Some(job.seq);
        job
    }

    pub(super) fn say(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            error: false,
        });
    }

    pub(super) fn complain(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            error: true,
        });
    }

    pub(super) fn record(&self) -> Option<&Incident> {
        self.incident.as_ref()?.record.as_deref()
    }
}

/// Runs `jobs` (and the jobs their results ask for) on this thread: for
/// tests and tools that drive the app without a runtime.
pub fn run_inline(app: &mut App, desk: &Desk, jobs: Vec<Job>, now: DateTime<Utc>) {
    let mut queue = jobs;
    while let Some(job) = queue.pop() {
        let done = job.run(desk);
        queue.extend(app.update(Action::Done(done), now));
    }
}

/// Applies `action` and runs any desk work inline (see [`run_inline`]).
pub fn dispatch(app: &mut App, desk: &Desk, action: Action, now: DateTime<Utc>) {
    let jobs = app.update(action, now);
    run_inline(app, desk, jobs, now);
}
