//! The console: a keyboard-driven terminal UI over the [`Desk`].
//!
//! - [`app`]: state, the [`app::Action`] enum and `App::update`, the only
//!   way state changes; what is over the screen is one overlay stack;
//! - [`keymap`]: the keys of each screen as data (the footer and `?` help
//!   are generated from it);
//! - [`form`]: form fields (known by a typed id) and turning them into desk
//!   jobs;
//! - [`jobs`]: desk work, run off the UI task; each reports back a
//!   [`jobs::Done`], which the loop below wraps in an [`app::Action`];
//! - [`view`]: drawing, pure functions of the state and `now`;
//! - [`theme`]: the one theme (`NO_COLOR` honoured).
//!
//! The loop below is the only place that reads the clock and the terminal.

pub mod app;
pub mod form;
pub mod jobs;
pub mod keymap;
pub mod strings;
pub mod theme;
pub mod view;

use crate::desk::Desk;
use anyhow::{Context as _, Result};
use app::{Action, App};
use chrono::Utc;
use futures::StreamExt;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, Event, EventStream};
use ratatui::crossterm::execute;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

/// Opens the console on `desk` and runs it until the responder quits;
/// `templates_dir` holds the responder's own notice templates. The terminal
/// is restored on quit, on error and on panic.
pub fn run_console(desk: Desk, templates_dir: Option<std::path::PathBuf>) -> Result<()> {
    let desk = Arc::new(desk);
    let mut app = App::for_desk(&desk, theme::Theme::from_env());
    app.mail.templates_dir = templates_dir;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .context("starting the console's runtime")?;
    // Installs the panic hook that restores the terminal.
    let mut terminal = ratatui::try_init().context("setting up the terminal")?;
    let _ = execute!(std::io::stdout(), EnableBracketedPaste);
    let desktop_alerts = desk.config().ui.desktop_alerts;
    let mouse = desk.config().ui.mouse;
    if mouse {
        let _ = execute!(
            std::io::stdout(),
            ratatui::crossterm::event::EnableMouseCapture
        );
    }
    let result = runtime.block_on(event_loop(&mut terminal, app, desk, desktop_alerts));
    let _ = execute!(std::io::stdout(), DisableBracketedPaste);
    if mouse {
        let _ = execute!(
            std::io::stdout(),
            ratatui::crossterm::event::DisableMouseCapture
        );
    }
    ratatui::restore();
    runtime.shutdown_timeout(Duration::from_secs(5));
    result
}

/// One loop over key presses, a 1 s tick and finished desk jobs. Draws only
/// after something happened; reads the clock once per pass.
async fn event_loop(
    terminal: &mut DefaultTerminal,
    mut app: App,
    desk: Arc<Desk>,
    desktop_alerts: bool,
) -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // A closed terminal (SIGHUP) or a polite kill (SIGTERM) ends the console
    // like `q` does: every change is already saved, and the terminal is
    // restored on the way out.
    let mut hangup = signal(SignalKind::hangup()).context("listening for SIGHUP")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut dirty = true;
    let first = app.initial_load(Utc::now());
    spawn_job(first, &desk, &tx);
    loop {
        if dirty {
            let now = Utc::now();
            terminal.draw(|frame| view::render(&app, now, frame))?;
            dirty = false;
        }
        let mut actions = Vec::new();
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => {
                    if let Some(key) = event.as_key_press_event() {
                        actions.push(Action::Key(key));
                    } else if let Event::Paste(text) = event {
                        actions.push(Action::Paste(text));
                    } else if let Event::Resize(..) = event {
                        actions.push(Action::Resize);
                    } else if let Event::Mouse(mouse) = event
                        && let Some(input) = mouse_input(mouse)
                    {
                        actions.push(Action::Mouse(input));
                    }
                }
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => return Ok(()),
            },
            _ = tick.tick() => actions.push(Action::Tick),
            _ = hangup.recv() => return Ok(()),
            _ = terminate.recv() => return Ok(()),
            Some(action) = rx.recv() => actions.push(action),
        }
        // Drain whatever else is queued, so a burst makes one frame.
        while let Ok(action) = rx.try_recv() {
            actions.push(action);
        }
        let now = Utc::now();
        for action in actions {
            dirty = true;
            for job in app.update(action, now) {
                spawn_job(job, &desk, &tx);
            }
        }
        if let Some(text) = app.alert.take() {
            ring(&text, desktop_alerts);
        }
        if app.quit {
            return Ok(());
        }
    }
}

/// The mouse events the console uses (only sent with `[ui] mouse = true`).
fn mouse_input(event: ratatui::crossterm::event::MouseEvent) -> Option<app::MouseInput> {
    use ratatui::crossterm::event::{MouseButton, MouseEventKind};
    match event.kind {
        MouseEventKind::Down(MouseButton::Left) => Some(app::MouseInput::Click {
            column: event.column,
            row: event.row,
        }),
        MouseEventKind::ScrollUp => Some(app::MouseInput::WheelUp),
        MouseEventKind::ScrollDown => Some(app::MouseInput::WheelDown),
        _ => None,
    }
}

/// The terminal bell, and (unless `[ui] desktop_alerts = false`) a desktop
/// notification by OSC 9 (iTerm2, Windows Terminal, kitty...) and OSC 777
/// (VTE terminals, foot, urxvt); terminals without them ignore the
/// sequences. The text is stripped of every control character first, so a
/// title cannot end the sequence early or inject one of its own.
fn ring(text: &str, desktop: bool) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(alert_sequence(text, desktop).as_bytes());
    let _ = out.flush();
}

/// The bytes [`ring`] writes.
pub fn alert_sequence(text: &str, desktop: bool) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_control() && !matches!(*c, ';' | '\u{9c}'))
        .take(200)
        .collect();
    let mut out = String::from("\x07");
    if desktop {
        out.push_str(&format!("\x1b]9;breachdesk: {clean}\x07"));
        out.push_str(&format!("\x1b]777;notify;breachdesk;{clean}\x07"));
    }
    out
}

/// Runs a desk job on the blocking pool; its result comes back on `tx`.
fn spawn_job(job: jobs::Job, desk: &Arc<Desk>, tx: &mpsc::UnboundedSender<Action>) {
    let desk = Arc::clone(desk);
    let tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        let _ = tx.send(Action::Done(job.run(&desk)));
    });
}
