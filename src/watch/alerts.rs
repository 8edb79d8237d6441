//! Reaching the responder for a reminder other than by email: the
//! configured command, and a desktop notification.

use crate::config::ReminderCommand;
use crate::domain::reminders::{Reminder, reminder_line};
use crate::text::one_line;
use chrono::{DateTime, SecondsFormat, Utc};
use std::path::PathBuf;

/// How long a desktop notification may take.
const DESKTOP_TIMEOUT_SECS: u64 = 5;

/// An instant as RFC 3339 in UTC, to the second.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The environment a reminder command gets.
pub(super) fn reminder_env(reminder: &Reminder) -> Vec<(&'static str, String)> {
    let clean = |s: &str| s.replace('\0', "");
    vec![
        ("BREACHDESK_INCIDENT", reminder.clock.incident.clone()),
        ("BREACHDESK_TITLE", clean(&reminder.clock.title)),
        ("BREACHDESK_CLOCK", clean(&reminder.clock.clock)),
        ("BREACHDESK_DUE_AT", stamp(reminder.clock.due_at)),
        (
            "BREACHDESK_LEFT_SECONDS",
            reminder.left.num_seconds().to_string(),
        ),
        ("BREACHDESK_THRESHOLD", reminder.threshold.label()),
        // One line: control characters (CR, LF, ESC...) made visible.
        ("BREACHDESK_MESSAGE", one_line(&reminder_line(reminder))),
    ]
}

/// Runs the reminder command (directly, or with `sh -c` when configured so),
/// its output going to our standard error; kills it after `timeout`.
pub async fn run_command(
    command: &ReminderCommand,
    reminder: &Reminder,
    timeout: std::time::Duration,
) -> Result<(), String> {
    let (program, mut cmd) = match command {
        ReminderCommand::Direct(argv) => {
            let Some((program, args)) = argv.split_first() else {
                return Err("the command is empty".into());
            };
            let mut c = tokio::process::Command::new(program);
            c.args(args);
            (program.clone(), c)
        }
        ReminderCommand::Shell(line) => {
            let mut c = tokio::process::Command::new("/bin/sh");
            c.arg("-c").arg(line);
            ("/bin/sh".to_string(), c)
        }
    };
    cmd.envs(reminder_env(reminder))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::from(std::io::stderr().as_fd_owned()?))
        .stderr(std::process::Stdio::from(std::io::stderr().as_fd_owned()?))
        .kill_on_drop(true)
        // Its own process group, so a hung command is killed with anything
        // it started (a shell's background jobs included).
        .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let group = child.id().and_then(|pid| i32::try_from(pid).ok());
    // If this future is dropped (watch stopped by a signal mid-command),
    // the whole group goes, not just the direct child.
    let mut guard = KillGroup(group);
    let waited = tokio::time::timeout(timeout, child.wait()).await;
    if matches!(waited, Ok(Ok(_))) {
        guard.0 = None;
    }
    match waited {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("{program} failed ({status})")),
        Ok(Err(e)) => Err(format!("{program}: {e}")),
        Err(_) => {
            drop(guard);
            let _ = child.kill().await;
            Err(format!(
                "{program} did not finish within {} s and was killed",
                timeout.as_secs()
            ))
        }
    }
}

/// Kills a command's process group when dropped (unless disarmed by
/// setting it to `None`).
struct KillGroup(Option<i32>);

impl Drop for KillGroup {
    fn drop(&mut self) {
        if let Some(pgid) = self.0.take() {
            // SAFETY: kill(2) with a negative pid signals that process
            // group; it touches no memory of ours.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

/// A duplicate of standard error, for a child's output.
trait StderrFd {
    fn as_fd_owned(&self) -> Result<std::os::fd::OwnedFd, String>;
}

impl StderrFd for std::io::Stderr {
    fn as_fd_owned(&self) -> Result<std::os::fd::OwnedFd, String> {
        use std::os::fd::AsFd;
        self.as_fd()
            .try_clone_to_owned()
            .map_err(|e| format!("cannot pass on standard error: {e}"))
    }
}

/// A desktop notification with `notify-send`, only where a session bus
/// exists and the program is installed; anything else is skipped quietly.
pub async fn desktop(reminder: &Reminder) -> Result<(), String> {
    if !session_bus() {
        return Ok(());
    }
    let Some(program) = find_program("notify-send") else {
        return Ok(());
    };
    let summary = format!(
        "{}: {}",
        crate::domain::reminders::time_left_words(reminder.left),
        reminder.clock.what
    );
    let body = format!("{} {}", reminder.clock.incident, reminder.clock.title);
    let mut child = tokio::process::Command::new(&program)
        .arg("--urgency=critical")
        .arg("--app-name=breachdesk")
        .arg("--")
        .arg(one_line(&summary))
        .arg(one_line(&body))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    match tokio::time::timeout(
        std::time::Duration::from_secs(DESKTOP_TIMEOUT_SECS),
        child.wait(),
    )
    .await
    {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("notify-send failed ({status})")),
        Ok(Err(e)) => Err(format!("notify-send: {e}")),
        Err(_) => {
            let _ = child.kill().await;
            Err(format!(
                "notify-send did not finish within {DESKTOP_TIMEOUT_SECS} s"
            ))
        }
    }
}

/// Whether a desktop session bus is there to show notifications on.
pub fn session_bus() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty())
}

fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
