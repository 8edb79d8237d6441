//! `breachdesk watch`: reminders of legal clocks while the console is closed.
//!
//! The pure part (which clocks are open, which reminders are due) is
//! [`crate::domain::reminders`]; this is the edge around it: reading the open
//! incidents cheaply, remembering what was sent, and reaching the responder
//! (a command, an email through the outbox, a desktop notification).
//!
//! # Once per clock and threshold
//!
//! What was sent is kept in `<data dir>/reminders.json` (0600, replaced
//! atomically and durably), read and written under an exclusive lock on
//! `<data dir>/reminders.lock`, so restarts and overlapping `--once` runs
//! never repeat a reminder. Under the lock a check: reads the state, works
//! out what is due, queues each reminder's email in the reminders' own outbox
//! (`<data dir>/reminders/outbox/`, with a notice id derived from the
//! reminder's key, so queuing it twice is refused), records the reminders as
//! sent, and appends a `reminder.sent` audit note (no incident record is
//! changed). Then, with the lock released, it runs the command, shows the
//! desktop notification and delivers the queued emails (a failed email is
//! retried with the outbox's backoff by later checks).
//!
//! Reminder emails live in their own outbox so that nothing treats them as
//! notices to the other party: they are never recorded on the incident.

use crate::config::{ReminderCommand, Reminders, Smtp};
use crate::desk::Desk;
use crate::domain::reminders::{
    OpenClock, Reminder, due_reminders, key_is_open, may_remind, next_crossing, open_clocks,
    reminder_line,
};
use crate::domain::summary::IncidentSummary;
use crate::setup::Setup;
use crate::text::one_line;
use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The longest sleep between checks, so edits are seen.
pub const MAX_SLEEP_SECS: i64 = 30;
/// The state file in the data directory.
pub const STATE_FILE: &str = "reminders.json";
/// The lock file in the data directory.
pub const LOCK_FILE: &str = "reminders.lock";
/// How long a desktop notification may take.
const DESKTOP_TIMEOUT_SECS: u64 = 5;

/// `<data dir>/reminders/outbox`: reminder emails waiting to go.
pub fn reminder_outbox(data_dir: &Path) -> PathBuf {
    data_dir.join("reminders").join("outbox")
}

/// What has been sent: reminder key -> when.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    version: u32,
    sent: BTreeMap<String, DateTime<Utc>>,
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Runs `watch` (until SIGTERM or SIGINT) or `watch --once`.
pub fn run(setup: &Setup, once: bool, now: DateTime<Utc>, out: &mut dyn Write) -> Result<()> {
    let desk = setup.desk()?;
    let mut watcher = Watcher::new(desk, setup)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        if once {
            watcher.check(now, out).await?;
            return Ok(());
        }
        watcher.watch(out).await
    })
}

/// The email side of a reminder, when `email_to` is set.
struct Email {
    smtp: Smtp,
    from: String,
    to: String,
    /// `[contract] marking` and `reference`.
    marking: Option<String>,
    contract_reference: Option<String>,
}

struct Watcher {
    desk: Desk,
    settings: Reminders,
    leads: Vec<Duration>,
    email: Option<Email>,
    data_dir: PathBuf,
    /// Clocks of incidents already read, with the summary they were read at.
    cache: HashMap<String, (IncidentSummary, Vec<OpenClock>)>,
    /// Problems already reported (each is said once).
    said: BTreeSet<String>,
}

impl Watcher {
    fn new(desk: Desk, setup: &Setup) -> Result<Watcher> {
        let settings = setup.config.reminders.clone();
        let config_file = setup.config_path.display().to_string();
        let email = match &settings.email_to {
            None => None,
            Some(to) => {
                let smtp = setup.config.smtp.clone().ok_or_else(|| {
                    anyhow!("{config_file}: reminders.email_to is set but there is no [smtp] section to send with")
                })?;
                let from = setup
                    .config
                    .responder
                    .email
                    .clone()
                    .filter(|e| !e.trim().is_empty())
                    .ok_or_else(|| {
                        anyhow!("{config_file}: reminders.email_to is set but [responder] email (the sender) is not")
                    })?;
                Some(Email {
                    smtp,
                    from,
                    to: to.0.clone(),
                    marking: setup.config.contract.marking(),
                    contract_reference: setup.config.contract.reference(),
                })
            }
        };
        Ok(Watcher {
            leads: settings.leads(),
            settings,
            email,
            data_dir: setup.data_dir.clone(),
            desk,
            cache: HashMap::new(),
            said: BTreeSet::new(),
        })
    }

    fn longest_lead(&self) -> Duration {
        self.leads
            .iter()
            .copied()
            .max()
            .unwrap_or_else(Duration::zero)
    }

    fn warn(&mut self, text: String) {
        if self.said.insert(text.clone()) {
            eprintln!("breachdesk: warning: {}", one_line(&text));
        }
    }

    /// Checks until SIGTERM or SIGINT, sleeping until the next threshold
    /// (at most [`MAX_SLEEP_SECS`]) in between.
    async fn watch(&mut self, out: &mut dyn Write) -> Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
        eprintln!(
            "breachdesk: watching {} (reminders {}); stop with SIGTERM or Ctrl-C",
            self.data_dir.display(),
            self.describe_thresholds()
        );
        loop {
            let now = Utc::now();
            let next = tokio::select! {
                next = self.check(now, out) => next,
                _ = term.recv() => break,
                _ = int.recv() => break,
            };
            let next = match next {
                Ok(next) => next,
                Err(e) => {
                    eprintln!("breachdesk: error: {}", one_line(&format!("{e:#}")));
                    None
                }
            };
            let now = Utc::now();
            let cap = now + Duration::seconds(MAX_SLEEP_SECS);
            let wake = next.map_or(cap, |n| n.min(cap));
            let pause = (wake - now)
                .to_std()
                .unwrap_or_default()
                .max(std::time::Duration::from_millis(200));
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = term.recv() => break,
                _ = int.recv() => break,
            }
        }
        eprintln!("breachdesk: watch stopped");
        Ok(())
    }

    fn describe_thresholds(&self) -> String {
        let mut words: Vec<String> = crate::domain::reminders::thresholds(&self.leads)
            .iter()
            .map(|t| t.label())
            .collect();
        let last = words.pop().unwrap_or_default();
        if words.is_empty() {
            format!("when {last}")
        } else {
            format!("at {} before and when {last}", words.join(", "))
        }
    }

    /// The open clocks of every incident that may need a reminder now, and
    /// the earliest instant any other open incident might.
    fn open_clocks(
        &mut self,
        now: DateTime<Utc>,
    ) -> (Vec<OpenClock>, BTreeSet<String>, Option<DateTime<Utc>>) {
        let (summaries, problems) = self.desk.open_summaries();
        for p in problems {
            self.warn(p);
        }
        let lead = self.longest_lead();
        let internal = self.settings.internal_targets;
        let mut clocks = Vec::new();
        let mut later: Option<DateTime<Utc>> = None;
        let open: BTreeSet<String> = summaries.iter().map(|s| s.id.clone()).collect();
        self.cache.retain(|id, _| open.contains(id));
        for summary in summaries {
            if let Some((seen, cached)) = self.cache.get(&summary.id)
                && *seen == summary
            {
                clocks.extend(cached.iter().cloned());
                continue;
            }
            if !may_remind(&summary, lead, internal, now) {
                self.cache.remove(&summary.id);
                if let Some(due) = summary.next_due_at {
                    let at = due - lead;
                    later = Some(later.map_or(at, |l: DateTime<Utc>| l.min(at)));
                }
                continue;
            }
            match self.desk.load(&summary.id) {
                Ok(incident) => {
                    let found = open_clocks(&incident, internal);
                    clocks.extend(found.iter().cloned());
                    self.cache.insert(summary.id.clone(), (summary, found));
                }
                Err(e) => self.warn(format!("{}: {e}", summary.id)),
            }
        }
        (clocks, open, later)
    }

    /// One check at `now`: sends what is due and returns when the next
    /// reminder could fall due (or an email retry is scheduled).
    async fn check(
        &mut self,
        now: DateTime<Utc>,
        out: &mut dyn Write,
    ) -> Result<Option<DateTime<Utc>>> {
        let (clocks, open, later) = self.open_clocks(now);
        let lock = lock(&self.data_dir).await?;
        let mut state = read_state(&self.data_dir)?;
        let sent: BTreeSet<String> = state.sent.keys().cloned().collect();
        let due = due_reminders(&clocks, &self.leads, &sent, now);
        for reminder in &due {
            if let Some(email) = &self.email {
                let outbox = reminder_outbox(&self.data_dir);
                email::queue(&outbox, email, reminder, self.desk.tz(), now).map_err(|e| {
                    anyhow!(
                        "reminder {} not sent: its email could not be queued: {e}",
                        reminder.key
                    )
                })?;
            }
            for key in &reminder.settles {
                state.sent.entry(key.clone()).or_insert(now);
            }
        }
        let before = state.sent.len();
        state.sent.retain(|key, _| key_is_open(key, &open));
        if !due.is_empty() || state.sent.len() != before {
            write_state(&self.data_dir, &mut state)?;
        }
        for reminder in &due {
            let channels = self.channels();
            let detail = format!(
                "{} reminder for clock {}: {} (by {channels})",
                reminder.threshold.label(),
                reminder.clock.clock,
                reminder_line(reminder)
            );
            if let Err(e) = self.desk.note(
                now,
                Some(&reminder.clock.incident),
                "reminder.sent",
                &detail,
            ) {
                self.warn(format!(
                    "reminder {}: audit note not written: {e}",
                    reminder.key
                ));
            }
        }
        drop(lock);
        let sent_after: BTreeSet<String> = state.sent.keys().cloned().collect();

        for reminder in &due {
            writeln!(
                out,
                "{} reminder {} {} {}: {}",
                stamp(now),
                reminder.threshold.label(),
                reminder.clock.incident,
                one_line(&reminder.clock.clock),
                one_line(&reminder_line(reminder))
            )?;
            out.flush()?;
            if let Some(command) = &self.settings.command {
                let timeout = std::time::Duration::from_secs(self.settings.command_timeout_secs);
                if let Err(e) = run_command(command, reminder, timeout).await {
                    eprintln!(
                        "breachdesk: warning: reminder command for {} {}: {}",
                        reminder.clock.incident,
                        one_line(&reminder.clock.clock),
                        one_line(&e)
                    );
                }
            }
            if self.settings.desktop
                && let Err(e) = desktop(reminder).await
            {
                self.warn(format!("desktop notification: {e}"));
            }
        }
        let mut next = next_crossing(&clocks, &self.leads, &sent_after, now);
        if let Some(email) = &self.email {
            let outbox = reminder_outbox(&self.data_dir);
            let (errors, retry_at) = email::deliver_due(&outbox, &email.smtp, now).await;
            for e in errors {
                eprintln!("breachdesk: warning: reminder email: {}", one_line(&e));
            }
            next = earliest(next, retry_at);
        }
        Ok(earliest(next, later))
    }

    fn channels(&self) -> String {
        let mut c = vec!["log"];
        if self.email.is_some() {
            c.push("email");
        }
        if self.settings.command.is_some() {
            c.push("command");
        }
        if self.settings.desktop && session_bus() {
            c.push("desktop");
        }
        c.join(", ")
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The state lock, released when dropped.
struct Locked(File);

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Takes the exclusive lock on `reminders.lock`, waiting (without blocking
/// the runtime, so a signal still stops `watch`) while another watcher holds it.
async fn lock(data_dir: &Path) -> Result<Locked> {
    crate::durable::ensure_private_dir(data_dir)
        .with_context(|| format!("{}", data_dir.display()))?;
    let path = data_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(crate::durable::FILE_MODE)
        .open(&path)
        .with_context(|| format!("{}", path.display()))?;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Locked(file)),
            Err(std::fs::TryLockError::WouldBlock) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(anyhow!("{}: cannot lock: {e}", path.display()));
            }
        }
    }
}

fn read_state(data_dir: &Path) -> Result<State> {
    let path = data_dir.join(STATE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
        Err(e) => bail!("{}: cannot read: {e}", path.display()),
    };
    serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "{}:{}:{}: {} (reminders already sent are recorded here; nothing is sent until it is fixed or moved aside)",
            path.display(),
            e.line(),
            e.column(),
            e
        )
    })
}

fn write_state(data_dir: &Path, state: &mut State) -> Result<()> {
    state.version = 1;
    let text = serde_json::to_string_pretty(state).context("cannot write the reminder state")?;
    crate::durable::replace_file(data_dir, STATE_FILE, text.as_bytes())
        .map_err(|e| anyhow!("{}: not saved: {e}", data_dir.join(STATE_FILE).display()))
}

/// The environment a reminder command gets.
fn reminder_env(reminder: &Reminder) -> Vec<(&'static str, String)> {
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
async fn run_command(
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
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("{program} failed ({status})")),
        Ok(Err(e)) => Err(format!("{program}: {e}")),
        Err(_) => {
            if let Some(pgid) = group {
                // SAFETY: kill(2) with a negative pid signals that process
                // group; it touches no memory of ours.
                unsafe {
                    libc::kill(-pgid, libc::SIGKILL);
                }
            }
            let _ = child.kill().await;
            Err(format!(
                "{program} did not finish within {} s and was killed",
                timeout.as_secs()
            ))
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
async fn desktop(reminder: &Reminder) -> Result<(), String> {
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
fn session_bus() -> bool {
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

/// Reminder email, through the outbox as it is on this branch (queue, then
/// deliver). Kept in one place so it can move to the notice service.
mod email {
    use super::{Email, stamp};
    use crate::domain::reminders::{Reminder, time_left_words};
    use crate::mail::compose::{clean_header_text, message_id, parse_mailbox};
    use crate::mail::{MailError, Notice, NoticeKind, NoticeState, outbox};
    use chrono::{DateTime, Utc};
    use chrono_tz::Tz;
    use sha2::{Digest, Sha256};
    use std::path::Path;

    /// Queues the reminder's email. Its notice id comes from the reminder's
    /// key, so a reminder is never queued twice (a second attempt, after a
    /// crash before the state was saved, finds it already there).
    pub(super) fn queue(
        dir: &Path,
        email: &Email,
        reminder: &Reminder,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<(), MailError> {
        let id = format!(
            "R-{}",
            &hex::encode(Sha256::digest(reminder.key.as_bytes()))[..40]
        );
        if outbox::get(dir, &id).is_ok() {
            return Ok(());
        }
        let from = parse_mailbox("responder.email", &email.from)?;
        let to = parse_mailbox("reminders.email_to", &email.to)?;
        let (subject, body) = compose(
            reminder,
            email.marking.as_deref(),
            email.contract_reference.as_deref(),
            tz,
        );
        let clock = &reminder.clock;
        let notice = Notice {
            id,
            incident_id: clock.incident.clone(),
            // No reminder kind on this branch; the outbox is the reminders'
            // own, so nothing records it as a notice to the other party.
            kind: NoticeKind::Update,
            request_id: None,
            delay_reason: None,
            message_id: message_id(&from),
            from: from.to_string(),
            to: vec![to.to_string()],
            cc: Vec::new(),
            reply_to: None,
            in_reply_to: None,
            again_reason: None,
            audit_head: None,
            subject,
            created_at: now,
            attachments: Vec::new(),
            body,
        };
        outbox::queue(dir, notice, now).map(|_| ())
    }

    /// The reminder email's subject and body. The subject leads with the
    /// time left (after the protective marking, when there is one) and names
    /// the incident; the body is a few lines, with the marking at the top
    /// and bottom and the contract reference when set.
    pub(super) fn compose(
        reminder: &Reminder,
        marking: Option<&str>,
        contract_reference: Option<&str>,
        tz: Tz,
    ) -> (String, String) {
        let clock = &reminder.clock;
        let left = time_left_words(reminder.left);
        let marking = marking.map(clean_header_text).filter(|m| !m.is_empty());
        let subject = clean_header_text(&format!(
            "{}{left}: {} - {} {}",
            marking
                .as_deref()
                .map(|m| format!("{m} "))
                .unwrap_or_default(),
            clock.what,
            clock.incident,
            clock.title
        ));
        let due_local = clock
            .due_at
            .with_timezone(&tz)
            .format("%a %-d %b %Y %H:%M %Z");
        let mut body = String::new();
        if let Some(m) = &marking {
            body.push_str(&format!("{m}\n\n"));
        }
        body.push_str(&format!(
            "Reminder from breachdesk: {left}.\n\n\
             Incident:  {} \"{}\"\n\
             Clock:     {}\n\
             Due:       {due_local} ({})\n",
            clock.incident,
            crate::text::one_line(&clock.title),
            clock.what,
            stamp(clock.due_at),
        ));
        if let Some(r) = contract_reference.map(crate::text::one_line) {
            body.push_str(&format!("Contract:  {r}\n"));
        }
        body.push_str(&format!(
            "\nThis reminder went to the on-call responder only; it is not a notice\n\
             to the other party.\n\
             breachdesk show {}\n",
            clock.incident
        ));
        if let Some(m) = &marking {
            body.push_str(&format!("\n{m}\n"));
        }
        (subject, body)
    }

    /// Delivers every queued reminder email whose time has come; returns
    /// the errors and when the next retry is due. Reads only the pending
    /// files (not the sent ones), so it costs nothing when all went.
    pub(super) async fn deliver_due(
        dir: &Path,
        smtp: &crate::config::Smtp,
        now: DateTime<Utc>,
    ) -> (Vec<String>, Option<DateTime<Utc>>) {
        let mut errors = Vec::new();
        let mut retry_at: Option<DateTime<Utc>> = None;
        let Ok(entries) = std::fs::read_dir(dir) else {
            return (errors, None);
        };
        let ids: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                (!name.starts_with('.'))
                    .then(|| name.strip_suffix(".toml").map(str::to_string))
                    .flatten()
            })
            .collect();
        for id in ids {
            let q = match outbox::get(dir, &id) {
                Ok(q) => q,
                Err(e) => {
                    errors.push(e.to_string());
                    continue;
                }
            };
            if q.state != NoticeState::Pending {
                continue;
            }
            match q.next_attempt_at {
                Some(at) if at > now => {
                    retry_at = Some(retry_at.map_or(at, |r: DateTime<Utc>| r.min(at)));
                    continue;
                }
                _ => {}
            }
            match outbox::deliver(dir, &id, smtp, now).await {
                Ok(_) | Err(MailError::Busy { .. }) | Err(MailError::AlreadySent { .. }) => {}
                Err(e) => {
                    errors.push(format!("{id}: {e} (retried later)"));
                    if let Ok(q) = outbox::get(dir, &id)
                        && let Some(at) = q.next_attempt_at
                    {
                        retry_at = Some(retry_at.map_or(at, |r: DateTime<Utc>| r.min(at)));
                    }
                }
            }
        }
        (errors, retry_at)
    }
}

#[cfg(test)]
mod tests {
    use super::email::compose;
    use crate::domain::reminders::{OpenClock, Reminder, Threshold};
    use chrono::{DateTime, Duration, Utc};

    fn reminder(left_min: i64) -> Reminder {
        let due: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-10T15:00:00Z")
            .expect("instant")
            .with_timezone(&Utc);
        Reminder {
            clock: OpenClock {
                incident: "INC-20260310-1400-abcdef".into(),
                title: "Portal\r\nBcc: x@evil.example".into(),
                clock: "8.1".into(),
                what: "Notify the other party (8.1)".into(),
                due_at: due,
                internal: false,
            },
            threshold: Threshold::Before(Duration::minutes(15)),
            left: Duration::minutes(left_min),
            key: "k".into(),
            settles: vec!["k".into()],
        }
    }

    #[test]
    fn the_email_is_short_and_leads_with_the_time_left() {
        let (subject, body) = compose(&reminder(10), None, None, chrono_tz::Europe::London);
        assert_eq!(
            subject,
            "10 min left: Notify the other party (8.1) - INC-20260310-1400-abcdef Portal Bcc: x@evil.example"
        );
        assert!(
            body.starts_with("Reminder from breachdesk: 10 min left.\n"),
            "{body}"
        );
        assert!(
            body.contains("Due:       Tue 10 Mar 2026 15:00 GMT (2026-03-10T15:00:00Z)"),
            "{body}"
        );
        assert!(body.contains("not a notice"), "{body}");
        assert!(!body.contains('\r'), "{body:?}");
        assert!(body.lines().count() <= 10, "{body}");
        let (overdue, _) = compose(&reminder(-3), None, None, chrono_tz::Europe::London);
        assert!(overdue.starts_with("overdue by 3 min: "), "{overdue}");
    }

    #[test]
    fn the_command_environment_describes_the_clock_on_one_line() {
        let env: std::collections::BTreeMap<&str, String> =
            super::reminder_env(&reminder(-3)).into_iter().collect();
        assert_eq!(env["BREACHDESK_INCIDENT"], "INC-20260310-1400-abcdef");
        assert_eq!(env["BREACHDESK_CLOCK"], "8.1");
        assert_eq!(env["BREACHDESK_DUE_AT"], "2026-03-10T15:00:00Z");
        assert_eq!(env["BREACHDESK_LEFT_SECONDS"], "-180");
        assert_eq!(env["BREACHDESK_THRESHOLD"], "15m");
        assert_eq!(env["BREACHDESK_TITLE"], "Portal\r\nBcc: x@evil.example");
        let message = &env["BREACHDESK_MESSAGE"];
        assert!(message.starts_with("overdue by 3 min: "), "{message}");
        assert!(!message.contains(['\r', '\n']), "{message:?}");
    }

    #[test]
    fn marking_and_contract_reference_when_set() {
        let (subject, body) = compose(
            &reminder(10),
            Some("OFFICIAL-SENSITIVE"),
            Some("ACME/2026/017"),
            chrono_tz::Europe::London,
        );
        assert!(
            subject.starts_with("OFFICIAL-SENSITIVE 10 min left: "),
            "{subject}"
        );
        assert!(body.starts_with("OFFICIAL-SENSITIVE\n"), "{body}");
        assert!(body.trim_end().ends_with("OFFICIAL-SENSITIVE"), "{body}");
        assert!(body.contains("Contract:  ACME/2026/017\n"), "{body}");
    }
}
