//! The console's state and the one way it changes: [`App::update`] with an
//! [`Action`]. Desk work comes out as [`Job`]s for the runtime to run off the
//! UI task; their results come back as [`Action::Done`].

use crate::desk::Desk;
use crate::domain::incident::{Incident, RequestStatus, StepStatus};
use crate::domain::summary::IncidentSummary;
use crate::mail::{Notice, NoticeKind};
use crate::tui::form::{Form, FormKind};
use crate::tui::jobs::{Done, Job, JobKind, OutboxRow, Outcome};
use crate::tui::keymap::{self, Cmd, Context};
use crate::tui::strings;
use crate::tui::theme::Theme;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;

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
    fn index(self) -> usize {
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
    pub filtering: bool,
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
    pub form: Option<Form>,
    pub help: bool,
    pub status: Option<Status>,
    /// Loud warnings (repeat root cause) waiting to be acknowledged.
    pub warnings: Vec<String>,
    pub quit: bool,
    /// Jobs sent and not yet done.
    pub in_flight: usize,
    pub mail: MailSettings,
    pub preview: Option<Preview>,
    /// The notices still waiting in the outbox.
    pub outbox: Vec<OutboxRow>,
    pub outbox_open: bool,
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
    /// `q` was pressed while a legal clock runs or a notice waits: why, and
    /// `y` quits.
    pub confirm_quit: Option<String>,
    /// `C` on an incident with notices still in the outbox: why, and `y`
    /// goes on to the close form.
    pub confirm_close: Option<String>,
    /// The records' stamp at the last look (see [`JobKind::Stamp`]).
    pub disk_stamp: Option<crate::tui::jobs::DiskStamp>,
    /// The stamp job in flight, if any (one at a time).
    stamp_job: Option<u64>,
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
            form: None,
            help: false,
            status: None,
            warnings: Vec::new(),
            quit: false,
            in_flight: 0,
            mail: MailSettings::default(),
            preview: None,
            outbox: Vec::new(),
            outbox_open: false,
            outbox_selected: 0,
            mail_busy: None,
            outbox_round: None,
            outbox_checked: None,
            alerted: std::collections::BTreeSet::new(),
            alert: None,
            confirm_quit: None,
            confirm_close: None,
            disk_stamp: None,
            stamp_job: None,
            quiet: Vec::new(),
            next_seq: 1,
        }
    }

    /// Rings once for each legal clock that crossed 15 minutes, 5 minutes or
    /// its due time since the last check (the most urgent threshold only,
    /// when several were crossed at once); the alert names the incident.
    pub fn check_alerts(&mut self, now: DateTime<Utc>) {
        use crate::domain::reminders::{Threshold, crossed, thresholds};
        let leads: Vec<chrono::Duration> = ALERT_LEADS_MINUTES
            .iter()
            .map(|m| chrono::Duration::minutes(*m))
            .collect();
        let mut newest: Option<(DateTime<Utc>, String)> = None;
        for s in &self.board.summaries {
            let Some(due) = &s.legal_due else { continue };
            let key = |t: Threshold| {
                format!(
                    "{}/{}/{}/{}",
                    s.id,
                    due.clock,
                    due.due_at.timestamp(),
                    t.label()
                )
            };
            let crossed_now: Vec<Threshold> = thresholds(&leads)
                .into_iter()
                .filter(|t| crossed(due.due_at, *t, now))
                .collect();
            let Some(most) = crossed_now.last() else {
                continue;
            };
            if self.alerted.contains(&key(*most)) {
                continue;
            }
            for t in &crossed_now {
                self.alerted.insert(key(*t));
            }
            let text = format!(
                "{} {}: {} {}",
                s.id,
                crate::text::one_line(&s.title),
                due.clock,
                crate::domain::clock::format_countdown(due.due_at, now)
            );
            if newest.as_ref().is_none_or(|(at, _)| due.due_at < *at) {
                newest = Some((due.due_at, text));
            }
        }
        if let Some((_, text)) = newest {
            self.alert = Some(text);
        }
    }

    /// Once a second (from the tick): a stamp of the records on disk, so a
    /// change made by the CLI (or anyone) shows within about a second.
    fn look_at_disk(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        if self.stamp_job.is_some() {
            return Vec::new();
        }
        let open = match self.screen {
            Screen::Incident => self.incident.as_ref().map(|s| s.id.clone()),
            Screen::Board => None,
        };
        let job = self.quiet_job(now, JobKind::Stamp(open));
        self.stamp_job = Some(job.seq);
        vec![job]
    }

    /// A stamp came back: reload what changed, keeping the selection, the
    /// pane and any form being typed.
    fn on_stamp(&mut self, stamp: crate::tui::jobs::DiskStamp, now: DateTime<Utc>) -> Vec<Job> {
        let before = self.disk_stamp.replace(stamp);
        let Some(before) = before else {
            return Vec::new();
        };
        let mut jobs = Vec::new();
        if before.dir != stamp.dir || before.record != stamp.record {
            jobs.push(self.quiet_job(
                now,
                JobKind::LoadBoard {
                    closed: self.board.show_closed,
                },
            ));
            if self.screen == Screen::Incident
                && let Some(id) = self.incident.as_ref().map(|s| s.id.clone())
            {
                jobs.push(self.quiet_job(now, JobKind::LoadIncident(id)));
            }
        }
        jobs
    }

    /// A click on a board row selects it (a second click on the selected
    /// row opens it); the wheel moves the selection as ↑/↓ do. Ignored while
    /// a form, preview or popup is open.
    fn on_mouse(&mut self, input: MouseInput, now: DateTime<Utc>) -> Vec<Job> {
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

    /// The close form (or, for a closed incident, the reopen form).
    fn open_close_form(&mut self) {
        if let Some(record) = self.record() {
            let form = if record.is_open() {
                Form::close(
                    record
                        .open_required_steps()
                        .filter(|s| s.applies(record))
                        .map(|s| s.id.clone())
                        .collect(),
                )
            } else {
                Form::reopen()
            };
            self.open_form(form);
        }
    }

    /// Why quitting needs a second key: a legal clock still running, or
    /// notices waiting in the outbox (sent only while the console runs).
    fn quit_needs_asking(&self, now: DateTime<Utc>) -> Option<String> {
        let mut why = Vec::new();
        // The open record is fresher than the board (whose reload may still
        // be on its way after a change).
        let open = self
            .incident
            .as_ref()
            .and_then(|s| s.record.as_ref())
            .map(|r| IncidentSummary::of(r));
        let running = self
            .board
            .summaries
            .iter()
            .filter(|s| open.as_ref().is_none_or(|o| o.id != s.id))
            .chain(open.iter())
            .filter_map(|s| s.legal_due.as_ref().map(|d| (s, d)))
            .min_by_key(|(_, d)| d.due_at);
        if let Some((s, d)) = running {
            why.push(format!(
                "legal clock running ({} {} {})",
                s.id,
                d.clock,
                crate::domain::clock::format_countdown(d.due_at, now)
            ));
        }
        if !self.outbox.is_empty() {
            why.push(format!(
                "{} notice(s) waiting in the outbox are sent only while the console runs",
                self.outbox.len()
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    /// Shows what opening the data directory found (e.g. a directory other
    /// users can read) on the status line until something else is said.
    pub fn warn_on_start(&mut self, warnings: &[String]) {
        if !warnings.is_empty() {
            self.complain(format!("⚠ {}", warnings.join("; ")));
        }
    }

    /// An app with the board already loaded from `desk` (for the first frame).
    pub fn from_desk(desk: &Desk, theme: Theme) -> App {
        let mut app = App::new(desk.tz(), theme, desk.config().contacts.other_party.clone());
        app.warn_on_start(&crate::commands::directory_warnings(desk));
        app.mail.smtp = desk.config().smtp.is_some();
        app.mail.cc = desk.config().contacts.cc.clone();
        app.severity_help = desk.config().severity.help();
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

    /// Which key table is in force.
    pub fn context(&self) -> Context {
        if self.preview.is_some() {
            Context::Preview
        } else if self.form.is_some() {
            Context::Form
        } else if self.outbox_open {
            Context::Outbox
        } else if self.screen == Screen::Board && self.board.filtering {
            Context::Filter
        } else if self.screen == Screen::Board {
            Context::Board
        } else {
            Context::Incident
        }
    }

    fn job(&mut self, now: DateTime<Utc>, kind: JobKind) -> Job {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.in_flight += 1;
        Job { seq, now, kind }
    }

    /// A background job: not shown as "saving…".
    fn quiet_job(&mut self, now: DateTime<Utc>, kind: JobKind) -> Job {
        let job = self.job(now, kind);
        self.in_flight = self.in_flight.saturating_sub(1);
        self.quiet.push(job.seq);
        job
    }

    /// A mail job: one at a time, shown as "sending…".
    fn mail_job(&mut self, now: DateTime<Utc>, kind: JobKind) -> Job {
        let job = self.quiet_job(now, kind);
        self.mail_busy = Some(job.seq);
        job
    }

    /// The 30-second outbox round, from the tick: send what is due when
    /// `[smtp]` is configured, else just count what waits.
    fn outbox_round(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        let due = self
            .outbox_checked
            .is_none_or(|t| (now - t).num_seconds() >= OUTBOX_EVERY_SECS);
        if !due || self.mail_busy.is_some() || self.outbox_round.is_some() {
            return Vec::new();
        }
        self.outbox_checked = Some(now);
        if self.mail.smtp {
            // A notice confirmed meanwhile is queued after this round listed
            // what was due, so the two never send the same notice.
            let job = self.quiet_job(now, JobKind::DeliverDue);
            self.outbox_round = Some(job.seq);
            vec![job]
        } else {
            vec![self.quiet_job(now, JobKind::LoadOutbox)]
        }
    }

    fn say(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            error: false,
        });
    }

    fn complain(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            error: true,
        });
    }

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

    fn on_key(&mut self, key: KeyEvent, now: DateTime<Utc>) -> Vec<Job> {
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

    fn open_form(&mut self, form: Form) {
        self.form = Some(form);
    }

    fn selected_step(&self) -> Option<String> {
        let screen = self.incident.as_ref()?;
        let record = screen.record.as_ref()?;
        crate::domain::playbook::shown_steps(record)
            .get(screen.step)
            .map(|s| s.id.clone())
    }

    fn step_status(&mut self, status: StepStatus, now: DateTime<Utc>) -> Vec<Job> {
        let on_steps = self
            .incident
            .as_ref()
            .is_some_and(|s| s.pane == Pane::Steps);
        if !on_steps {
            self.complain("Step keys work in the Steps pane (Tab to it)");
            return Vec::new();
        }
        match (self.selected_step(), self.incident.as_ref()) {
            (Some(step), Some(screen)) => {
                let id = screen.id.clone();
                vec![self.job(
                    now,
                    JobKind::Step {
                        id,
                        step,
                        status: Some(status),
                        evidence: None,
                        note: None,
                    },
                )]
            }
            _ => Vec::new(),
        }
    }

    fn move_selection(&mut self, down: bool) {
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

    fn record(&self) -> Option<&Incident> {
        self.incident.as_ref()?.record.as_deref()
    }

    fn command(&mut self, cmd: Cmd, now: DateTime<Utc>) -> Vec<Job> {
        match cmd {
            Cmd::Quit => match self.quit_needs_asking(now) {
                Some(why) => self.confirm_quit = Some(why),
                None => self.quit = true,
            },
            Cmd::Help => self.help = true,
            Cmd::Up => self.move_selection(false),
            Cmd::Down => self.move_selection(true),
            Cmd::Back if self.preview.is_some() => {
                if self.preview.as_ref().is_some_and(|p| p.sending) {
                    // The send goes on; its result comes to the status line.
                    self.preview = None;
                    self.say(strings::SENDING);
                } else {
                    self.preview = None;
                    self.say(strings::NOT_SENT);
                }
            }
            Cmd::Back if self.outbox_open => self.outbox_open = false,
            Cmd::Back => match self.screen {
                Screen::Board => {
                    self.board.filter.clear();
                    self.board.filtering = false;
                }
                Screen::Incident => {
                    self.screen = Screen::Board;
                    let job = self.job(
                        now,
                        JobKind::LoadBoard {
                            closed: self.board.show_closed,
                        },
                    );
                    return vec![job];
                }
            },
            Cmd::Open => {
                let id = self
                    .board
                    .visible()
                    .get(self.board.selected)
                    .map(|s| s.id.clone());
                if let Some(id) = id {
                    return self.show_incident(id, None, now);
                }
            }
            Cmd::NewIncident => self.open_form(Form::new_incident_with(self.severity_help.clone())),
            Cmd::ToggleClosed => {
                self.board.show_closed = !self.board.show_closed;
                self.board.selected = 0;
                // Closed incidents' rows are read only when asked for.
                return vec![self.job(
                    now,
                    JobKind::LoadBoard {
                        closed: self.board.show_closed,
                    },
                )];
            }
            Cmd::Filter => self.board.filtering = true,
            Cmd::Refresh => {
                let mut jobs = vec![self.job(
                    now,
                    JobKind::LoadBoard {
                        closed: self.board.show_closed,
                    },
                )];
                if self.screen == Screen::Incident
                    && let Some(id) = self.incident.as_ref().map(|s| s.id.clone())
                {
                    jobs.push(self.job(now, JobKind::LoadIncident(id)));
                }
                return jobs;
            }
            Cmd::NextPane | Cmd::PrevPane => {
                if let Some(screen) = &mut self.incident {
                    let n = Pane::ALL.len();
                    let i = screen.pane.index();
                    let i = if cmd == Cmd::NextPane {
                        (i + 1) % n
                    } else {
                        (i + n - 1) % n
                    };
                    screen.pane = Pane::ALL[i];
                }
            }
            Cmd::Log => self.open_form(Form::log()),
            Cmd::AddRequest => self.open_form(Form::add_request()),
            Cmd::SupplyRequest => {
                let screen = self.incident.as_ref();
                let on_requests = screen.is_some_and(|s| s.pane == Pane::Requests);
                let request = screen.and_then(|s| {
                    s.record
                        .as_ref()
                        .and_then(|r| r.data_requests.get(s.request))
                        .map(|r| (r.id.clone(), r.status))
                });
                match request {
                    Some((id, RequestStatus::Open)) if on_requests => {
                        self.open_form(Form::supply(&id))
                    }
                    Some((id, status)) if on_requests => {
                        self.complain(format!("Request {id} is already {status}"))
                    }
                    _ => self.complain("Select an open request in the Data requests pane first"),
                }
            }
            Cmd::StepDone => return self.step_status(StepStatus::Done, now),
            Cmd::StepInProgress => return self.step_status(StepStatus::InProgress, now),
            Cmd::StepNotApplicable => return self.step_status(StepStatus::NotApplicable, now),
            Cmd::StepTodo => return self.step_status(StepStatus::Todo, now),
            Cmd::StepNote => match self.selected_step() {
                Some(step) => self.open_form(Form::step_note(&step)),
                None => self.complain("No step selected"),
            },
            Cmd::RootCause => {
                if let Some(form) = self.record().map(Form::root_cause) {
                    self.open_form(form);
                }
            }
            Cmd::Mitigation => {
                if let Some(form) = self.record().map(Form::mitigation) {
                    self.open_form(form);
                }
            }
            Cmd::Isms => {
                if let Some(form) = self.record().map(Form::isms) {
                    self.open_form(form);
                }
            }
            Cmd::RcaRequired => {
                if let Some(form) = self.record().map(Form::rca_required) {
                    self.open_form(form);
                }
            }
            Cmd::RecordNotification => {
                if self.record().is_some_and(|r| !r.we_notify()) {
                    self.complain(
                        "The other party identified this breach and notified us: no 8.1 notification is due from us",
                    )
                } else if self
                    .record()
                    .is_some_and(|r| r.notification.made_at.is_some())
                {
                    self.complain("The notification is already recorded; log any further notice")
                } else {
                    let form = Form::notify(self.other_party.as_deref());
                    self.open_form(form);
                }
            }
            Cmd::SendNoticeByEmail => self.send_notice_by_email(),
            Cmd::ConfirmSend => return self.confirm_send(now),
            Cmd::Top | Cmd::Bottom => {
                let len = self.board.visible().len();
                self.board.selected = if cmd == Cmd::Top {
                    0
                } else {
                    len.saturating_sub(1)
                };
            }
            Cmd::PageUp | Cmd::PageDown
                if self.screen == Screen::Board && self.preview.is_none() && !self.outbox_open =>
            {
                let len = self.board.visible().len();
                let page = self.board.page.get().max(1);
                self.board.selected = if cmd == Cmd::PageDown {
                    (self.board.selected + page).min(len.saturating_sub(1))
                } else {
                    self.board.selected.saturating_sub(page)
                };
            }
            Cmd::PageUp | Cmd::PageDown => {
                if let Some(preview) = &mut self.preview {
                    preview.scroll = if cmd == Cmd::PageDown {
                        preview.scroll.saturating_add(10).min(preview.lines())
                    } else {
                        preview.scroll.saturating_sub(10)
                    };
                }
            }
            Cmd::Outbox => {
                self.outbox_open = true;
                self.outbox_selected = 0;
                return vec![self.quiet_job(now, JobKind::LoadOutbox)];
            }
            Cmd::RetryNotice => {
                let id = self.outbox.get(self.outbox_selected).map(|r| r.id.clone());
                match id {
                    None => self.complain("Nothing is waiting in the outbox"),
                    Some(_) if !self.mail.smtp => self.complain(strings::NO_SMTP),
                    Some(_) if self.mail_busy.is_some() || self.outbox_round.is_some() => {
                        self.complain(strings::MAIL_BUSY)
                    }
                    Some(id) => {
                        self.say(format!("Retrying {id}; the clocks keep running"));
                        return vec![self.mail_job(now, JobKind::RetryNotice(id))];
                    }
                }
            }
            Cmd::CancelNotice => {
                match self.outbox.get(self.outbox_selected).map(|r| r.id.clone()) {
                    None => self.complain("Nothing is waiting in the outbox"),
                    Some(_) if self.mail_busy.is_some() || self.outbox_round.is_some() => {
                        self.complain(strings::MAIL_BUSY)
                    }
                    Some(id) => self.open_form(Form::cancel_notice(&id)),
                }
            }
            Cmd::CloseOrReopen => {
                let waiting: Vec<String> = match self.record() {
                    Some(record) if record.is_open() => self
                        .outbox
                        .iter()
                        .filter(|n| n.incident_id == record.id)
                        .map(|n| format!("{} ({})", n.kind, n.state.as_str()))
                        .collect(),
                    _ => Vec::new(),
                };
                if waiting.is_empty() {
                    self.open_close_form();
                } else {
                    self.confirm_close = Some(format!(
                        "{} notice(s) of this incident still wait in the outbox: {}. Closing does not cancel them; they are sent only while the console runs.",
                        waiting.len(),
                        waiting.join(", ")
                    ));
                }
            }
            Cmd::Edit => {
                if let Some(form) = self
                    .record()
                    .map(|r| Form::edit(r, self.tz).with_severity_help(self.severity_help.clone()))
                {
                    self.open_form(form);
                }
            }
            Cmd::StepEvidence => {
                let on_steps = self
                    .incident
                    .as_ref()
                    .is_some_and(|s| s.pane == Pane::Steps);
                match self.selected_step() {
                    Some(step) if on_steps => self.open_form(Form::step_evidence(&step)),
                    _ => self.complain("Step keys work in the Steps pane (Tab to it)"),
                }
            }
            Cmd::FormSubmit => {
                if self.board.filtering && self.form.is_none() {
                    self.board.filtering = false;
                    return Vec::new();
                }
                return self.submit_form(now);
            }
            Cmd::FormNext => {
                if let Some(form) = &mut self.form {
                    form.next();
                }
            }
            Cmd::FormPrev => {
                if let Some(form) = &mut self.form {
                    form.prev();
                }
            }
            Cmd::FormChoice => {
                if let Some(form) = &mut self.form {
                    form.change_choice(true);
                }
            }
            Cmd::CursorHome
            | Cmd::CursorEnd
            | Cmd::DeleteChar
            | Cmd::KillToStart
            | Cmd::KillWord
            | Cmd::KillToEnd => {}
            Cmd::FormCancel => {
                if self.board.filtering && self.form.is_none() {
                    self.board.filtering = false;
                    self.board.filter.clear();
                    return Vec::new();
                }
                if let Some(form) = &mut self.form {
                    if form.is_dirty() {
                        form.confirm_discard = true;
                    } else {
                        self.form = None;
                    }
                }
            }
        }
        Vec::new()
    }

    /// `E`: choose a notice to email (nothing is sent before the preview is
    /// confirmed).
    pub fn send_notice_by_email(&mut self) {
        if !self.mail.smtp {
            self.complain(strings::NO_SMTP);
            return;
        }
        if self.mail_busy.is_some() {
            self.complain(strings::MAIL_BUSY);
            return;
        }
        let Some(record) = self.record() else {
            return;
        };
        // Offer the notification first until it is recorded; after that an
        // update comes first and a second notification is offered last,
        // marked, never by default.
        let notified = crate::desk::notification_recorded(record).is_some();
        // Only the notices that are ours to send: no 8.1 notification when
        // the other party identified the breach, no (e) supply or (f)
        // report for a Client user.
        let supplier = record.our_role == crate::domain::incident::PartyRole::ServiceProvider;
        self.open_form(Form::email_choice_for(
            0,
            notified,
            record.we_notify(),
            supplier,
        ));
    }

    /// The choice form was submitted: open the form for that notice, or
    /// compose the report at once.
    fn notice_chosen(&mut self, kind: NoticeKind, again: bool, now: DateTime<Utc>) -> Vec<Job> {
        self.form = None;
        let Some(record) = self.record() else {
            return Vec::new();
        };
        match kind {
            NoticeKind::Notification => {
                let late =
                    record.notification.made_at.is_none() && now > record.notification.due_at;
                let due = crate::present::local(record.notification.due_at, self.tz);
                let recorded = crate::desk::notification_recorded(record);
                let warning = match (&recorded, again) {
                    (Some(how), _) => Some(how.clone()),
                    (None, true) => Some("just now".to_string()),
                    (None, false) => None,
                };
                let form = Form::email_notification(
                    self.other_party.as_deref(),
                    &self.mail.cc,
                    late,
                    &due,
                    warning.as_deref(),
                );
                self.open_form(form);
            }
            NoticeKind::DataSupply => {
                let screen = self.incident.as_ref();
                let request = screen.and_then(|s| {
                    s.record
                        .as_ref()
                        .and_then(|r| r.data_requests.get(s.request))
                        .filter(|_| s.pane == Pane::Requests)
                        .map(|r| r.id.clone())
                });
                match request {
                    Some(request) => {
                        let form = Form::email_supply(&request, &self.mail.cc);
                        self.open_form(form)
                    }
                    None => self.complain(strings::SELECT_REQUEST),
                }
            }
            NoticeKind::Update => {
                let form = Form::email_update(&self.mail.cc);
                self.open_form(form)
            }
            NoticeKind::FullReport => {
                let form = Form::email_report(&self.mail.cc);
                self.open_form(form)
            }
        }
        Vec::new()
    }

    /// `y` on the preview: queue this exact notice once and send it.
    fn confirm_send(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        let Some(preview) = &self.preview else {
            return Vec::new();
        };
        if preview.sending {
            // One confirmation, one queued notice: repeat presses do nothing.
            return Vec::new();
        }
        if self.mail_busy.is_some() {
            self.complain(strings::MAIL_BUSY);
            return Vec::new();
        }
        if !self.mail.smtp {
            self.complain(strings::NO_SMTP);
            return Vec::new();
        }
        let late = self
            .record()
            .is_some_and(|r| r.notification.made_at.is_none() && now > r.notification.due_at);
        if preview.notice.kind == NoticeKind::Notification
            && preview.notice.delay_reason.is_none()
            && late
        {
            self.complain(strings::LATE_NOW);
            return Vec::new();
        }
        let notice = preview.notice.clone();
        if let Some(preview) = &mut self.preview {
            preview.sending = true;
        }
        self.say(format!(
            "Sending the {} to {}; the clocks keep running",
            notice.kind.as_str(),
            crate::text::one_line(&notice.to.join(", "))
        ));
        vec![self.mail_job(now, JobKind::SendNotice(notice))]
    }

    fn submit_form(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        let id = self
            .incident
            .as_ref()
            .map(|s| s.id.clone())
            .unwrap_or_default();
        let tz = self.tz;
        let Some(form) = &mut self.form else {
            return Vec::new();
        };
        if form.pending.is_some() {
            return Vec::new();
        }
        if let Some((kind, again)) = form.chosen_notice() {
            return self.notice_chosen(kind, again, now);
        }
        match form.job(&id, now, tz) {
            Ok(mut kind) => {
                if let JobKind::Compose(req) = &mut kind {
                    req.templates = self.mail.templates_dir.clone();
                }
                form.error = None;
                let job = self.job(now, kind);
                if let Some(form) = &mut self.form {
                    form.pending = Some(job.seq);
                }
                vec![job]
            }
            Err(e) => {
                form.error = Some(e);
                Vec::new()
            }
        }
    }

    fn show_incident(
        &mut self,
        id: String,
        record: Option<Box<Incident>>,
        now: DateTime<Utc>,
    ) -> Vec<Job> {
        let loaded = record.is_some();
        self.incident = Some(IncidentScreen {
            entry: record
                .as_ref()
                .map_or(0, |r| r.timeline.len().saturating_sub(1)),
            id: id.clone(),
            record,
            pane: Pane::Steps,
            step: 0,
            request: 0,
        });
        self.screen = Screen::Incident;
        if loaded {
            Vec::new()
        } else {
            vec![self.job(now, JobKind::LoadIncident(id))]
        }
    }

    fn on_done(&mut self, done: Done, now: DateTime<Utc>) -> Vec<Job> {
        if let Some(i) = self.quiet.iter().position(|s| *s == done.seq) {
            self.quiet.remove(i);
        } else {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        let was_mail = self.mail_busy == Some(done.seq);
        if was_mail {
            self.mail_busy = None;
            self.preview = None;
        }
        if self.stamp_job == Some(done.seq) {
            self.stamp_job = None;
        }
        let was_round = self.outbox_round == Some(done.seq);
        if was_round {
            self.outbox_round = None;
        }
        let was_mail = was_mail || was_round;
        let for_form = self
            .form
            .as_ref()
            .is_some_and(|f| f.pending == Some(done.seq));
        match done.result {
            Err(message) => {
                let composing = self.form.as_ref().is_some_and(|f| {
                    matches!(
                        f.kind,
                        FormKind::EmailNotification { .. }
                            | FormKind::EmailSupply { .. }
                            | FormKind::EmailUpdate
                            | FormKind::EmailReport
                    )
                });
                let message = console_words(&message);
                let message = if was_mail {
                    message
                } else if composing && for_form {
                    format!("Cannot compose: {message}")
                } else {
                    format!("Not saved: {message}")
                };
                if for_form && let Some(form) = &mut self.form {
                    form.pending = None;
                    form.error = Some(message);
                } else {
                    self.complain(message);
                }
                Vec::new()
            }
            Ok(Outcome::Composed { notice, missing }) => {
                if for_form {
                    self.form = None;
                }
                self.status = None;
                self.preview = Some(Preview {
                    notice,
                    missing,
                    scroll: 0,
                    sending: false,
                });
                Vec::new()
            }
            Ok(Outcome::Outbox(rows)) => {
                self.set_outbox(rows);
                Vec::new()
            }
            Ok(Outcome::Mail {
                incidents,
                message,
                failed,
                outbox,
            }) => {
                if for_form {
                    self.form = None;
                }
                self.set_outbox(outbox);
                match message {
                    Some(m) if failed => self.complain(m),
                    Some(m) => self.say(m),
                    None => {}
                }
                let changed = !incidents.is_empty();
                for incident in incidents {
                    if let Some(screen) = &mut self.incident
                        && screen.id == incident.id
                    {
                        screen.entry = incident.timeline.len().saturating_sub(1);
                        screen.record = Some(Box::new(incident));
                    }
                }
                if changed {
                    vec![self.job(
                        now,
                        JobKind::LoadBoard {
                            closed: self.board.show_closed,
                        },
                    )]
                } else {
                    Vec::new()
                }
            }
            Ok(Outcome::Board {
                summaries,
                closed,
                problems,
            }) => {
                // The selection stays on the same incident when rows move.
                let selected = self
                    .board
                    .visible()
                    .get(self.board.selected)
                    .map(|s| s.id.clone());
                self.board.summaries = summaries;
                self.board.closed = closed;
                self.board.problems = problems;
                self.board.loaded = true;
                let visible = self.board.visible();
                let len = visible.len();
                let kept = selected.and_then(|id| visible.iter().position(|s| s.id == id));
                self.board.selected =
                    kept.unwrap_or(self.board.selected.min(len.saturating_sub(1)));
                self.check_alerts(now);
                Vec::new()
            }
            Ok(Outcome::Stamp(stamp)) => self.on_stamp(stamp, now),
            Ok(Outcome::Incident {
                incident,
                warnings,
                message,
                opened,
            }) => {
                if for_form {
                    self.form = None;
                }
                let saved = message.is_some();
                if let Some(message) = message {
                    self.say(message);
                }
                let tz = self.tz;
                self.warnings.extend(
                    warnings
                        .iter()
                        .map(|w| local_stamps(&crate::text::one_line(w), tz)),
                );
                let mut jobs = Vec::new();
                if opened {
                    jobs.extend(self.show_incident(incident.id.clone(), Some(incident), now));
                } else if let Some(screen) = &mut self.incident
                    && screen.id == incident.id
                {
                    let grew = screen
                        .record
                        .as_ref()
                        .is_none_or(|r| r.timeline.len() != incident.timeline.len());
                    if grew {
                        screen.entry = incident.timeline.len().saturating_sub(1);
                    }
                    screen.step = screen.step.min(
                        crate::domain::playbook::shown_steps(&incident)
                            .len()
                            .saturating_sub(1),
                    );
                    screen.request = screen
                        .request
                        .min(incident.data_requests.len().saturating_sub(1));
                    screen.record = Some(incident);
                }
                if saved {
                    jobs.push(self.job(
                        now,
                        JobKind::LoadBoard {
                            closed: self.board.show_closed,
                        },
                    ));
                }
                jobs
            }
        }
    }
}

impl App {
    fn set_outbox(&mut self, rows: Vec<OutboxRow>) {
        self.outbox = rows;
        self.outbox_selected = self
            .outbox_selected
            .min(self.outbox.len().saturating_sub(1));
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
