//! `breachdesk watch`: reminders of legal clocks while the console is closed.
//!
//! The pure part (which clocks are open, which reminders are due) is
//! [`crate::domain::reminders`]; this is the edge around it: reading the open
//! incidents cheaply, remembering what was sent, and reaching the responder
//! (a command, an email through the outbox, a desktop notification).
//!
//! # At least once per clock and threshold
//!
//! What was sent is kept in `<data dir>/reminders.json` (0600, replaced
//! atomically and durably), read and written under an exclusive lock on
//! `<data dir>/reminders.lock`, so restarts and overlapping `--once` runs
//! do not repeat a reminder. Under the lock a check reads the state, works
//! out what is due, and for each reminder: queues its email in the
//! reminders' own outbox (`<data dir>/reminders/outbox/`, with a notice id
//! derived from the reminder's key, so queuing it twice is refused), runs
//! the command (to its end, or its timeout, which kills its whole process
//! group), shows the desktop notification, and only then records it as
//! sent and appends a `reminder.sent` audit note (no incident record is
//! changed). A crash before the record means the reminder is sent again:
//! a repeated page beats a missing one. Then, with the lock released, it
//! delivers the queued emails (pending and unknown ones; a failed email is
//! retried with the outbox's backoff, with the same Message-ID).
//!
//! A `reminders.json` that is not a regular 0600 file of this user that
//! parses is not trusted to silence anything (see [`state::read_state`]).
//!
//! Reminder emails live in their own outbox so that nothing treats them as
//! notices to the other party: they are never recorded on the incident.

use crate::config::Reminders;
use crate::desk::Desk;
use crate::domain::reminders::{
    OpenClock, due_reminders, key_is_open, may_remind, next_crossing, open_clocks, reminder_line,
};
use crate::domain::summary::IncidentSummary;
mod alerts;
mod email;
mod state;

pub use state::{LOCK_FILE, STATE_FILE};

use alerts::{desktop, run_command, session_bus, stamp};
use email::Email;
use state::{lock, read_state, write_state};

use crate::setup::Setup;
use crate::text::one_line;
use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The longest sleep between checks, so edits are seen.
pub const MAX_SLEEP_SECS: i64 = 30;

/// `<data dir>/reminders/outbox`: reminder emails waiting to go.
pub fn reminder_outbox(data_dir: &Path) -> PathBuf {
    data_dir.join("reminders").join("outbox")
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
    ///
    /// At least once: under the state lock, each reminder due has its
    /// email queued, its command run (to its end or its timeout) and its
    /// desktop notification shown, and only then is it recorded as sent.
    /// A crash in between means it is sent again by the next check.
    async fn check(
        &mut self,
        now: DateTime<Utc>,
        out: &mut dyn Write,
    ) -> Result<Option<DateTime<Utc>>> {
        let (clocks, open, later) = self.open_clocks(now);
        let lock = lock(&self.data_dir).await?;
        let (mut state, distrust) = read_state(&self.data_dir);
        let mut dirty = false;
        if let Some(why) = distrust {
            self.warn(why);
            dirty = true;
        }
        let sent: BTreeSet<String> = state.sent.keys().cloned().collect();
        let due = due_reminders(&clocks, &self.leads, &sent, now);
        let before = state.sent.len();
        state.sent.retain(|key, _| key_is_open(key, &open));
        if dirty || state.sent.len() != before {
            write_state(&self.data_dir, &mut state)?;
        }
        for reminder in &due {
            let queued = match &self.email {
                None => true,
                Some(email) => {
                    let outbox = reminder_outbox(&self.data_dir);
                    match email::queue(&outbox, email, reminder, self.desk.tz(), now) {
                        Ok(()) => true,
                        Err(e) => {
                            eprintln!(
                                "breachdesk: warning: reminder {}: its email could not be queued ({}); it is tried again at the next check",
                                reminder.key,
                                one_line(&e.to_string())
                            );
                            false
                        }
                    }
                }
            };
            self.alert(reminder, now, out).await?;
            if !queued {
                continue;
            }
            for key in &reminder.settles {
                state.sent.entry(key.clone()).or_insert(now);
            }
            write_state(&self.data_dir, &mut state)?;
            let channels = self.channels();
            tracing::info!(incident = %reminder.clock.incident, clock = %reminder.clock.clock, threshold = reminder.threshold.label(), "reminder sent");
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
        let mut next = next_crossing(&clocks, &self.leads, &sent_after, now);
        if let Some(email) = &self.email {
            let outbox = reminder_outbox(&self.data_dir);
            let (errors, retry_at) = email::deliver_due(&outbox, email, now).await;
            for e in errors {
                eprintln!("breachdesk: warning: reminder email: {}", one_line(&e));
            }
            next = earliest(next, retry_at);
        }
        Ok(earliest(next, later))
    }

    /// The log line, the command (waited for, or killed at its timeout with
    /// its process group) and the desktop notification of one reminder.
    async fn alert(
        &mut self,
        reminder: &crate::domain::reminders::Reminder,
        now: DateTime<Utc>,
        out: &mut dyn Write,
    ) -> Result<()> {
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
        Ok(())
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
            super::alerts::reminder_env(&reminder(-3))
                .into_iter()
                .collect();
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
