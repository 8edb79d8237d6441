//! The console's team sync (only in a data directory made a sync
//! repository by `breachdesk sync init`): the header's status, `S` to sync
//! now, and with `[sync] auto = true` a sync every interval and soon after
//! each saved change. Each sync is a background job; the board and the
//! open incident reload from disk when it is done.

use super::{App, Screen};
use crate::desk::SyncStatus;
use crate::tui::jobs::{Job, JobKind};
use chrono::{DateTime, Duration, Utc};

/// How often the header's status (`git status`) is looked at.
pub const STATUS_EVERY_SECS: i64 = 5;
/// How soon after a saved change an automatic sync starts (changes made
/// in a burst go in one sync).
pub const AFTER_CHANGE_SECS: i64 = 5;

/// The console's sync state.
#[derive(Debug, Clone)]
pub struct SyncPanel {
    /// The last status read (last synced, last error, changes waiting).
    pub status: Option<SyncStatus>,
    /// The sync job in flight, if any (one at a time).
    pub busy: Option<u64>,
    status_job: Option<u64>,
    status_checked: Option<DateTime<Utc>>,
    /// `[sync] auto` and `interval`.
    pub auto: bool,
    pub interval: Duration,
    /// When a sync was last started.
    last_started: Option<DateTime<Utc>>,
    /// When a change was last saved here, if after the last sync started.
    changed_at: Option<DateTime<Utc>>,
}

impl SyncPanel {
    pub fn new(auto: bool, interval: std::time::Duration) -> SyncPanel {
        SyncPanel {
            status: None,
            busy: None,
            status_job: None,
            status_checked: None,
            auto,
            interval: Duration::from_std(interval).unwrap_or(Duration::seconds(60)),
            last_started: None,
            changed_at: None,
        }
    }
}

impl App {
    /// The data directory is a sync repository: show its status, let `S`
    /// sync, and sync on a timer when `auto`.
    pub fn enable_sync(&mut self, auto: bool, interval: std::time::Duration) {
        self.sync = Some(SyncPanel::new(auto, interval));
    }

    /// The header's words for the sync status, and whether they warn.
    pub fn sync_header(&self) -> Option<(String, bool)> {
        let sync = self.sync.as_ref()?;
        if sync.busy.is_some() {
            return Some(("⇅ syncing…".into(), false));
        }
        let Some(status) = &sync.status else {
            return Some(("⇅ sync".into(), false));
        };
        let (mut text, warn) = if status.state.unreachable {
            ("⇅ remote unreachable".to_string(), true)
        } else if status.state.last_error.is_some() {
            ("⇅ last sync failed".to_string(), true)
        } else if !status.state.refused.is_empty() {
            // Which teammate's commit, and why: `breachdesk sync` says it
            // in full; the header names the first.
            let first = &status.state.refused[0];
            (
                format!(
                    "⇅ refused {} incoming record(s): {} from {} by {}",
                    status.state.refused.len(),
                    first.incident,
                    first.commit.get(..8).unwrap_or(&first.commit),
                    first.author
                ),
                true,
            )
        } else {
            match status.state.last_synced_at {
                Some(at) => (
                    format!("⇅ synced {}", at.with_timezone(&self.tz).format("%H:%M")),
                    false,
                ),
                None => ("⇅ not synced yet".to_string(), false),
            }
        };
        match status.waiting {
            Some(0) | None => {}
            Some(1) => text.push_str(" · 1 changed file waiting"),
            Some(n) => text.push_str(&format!(" · {n} changed files waiting")),
        }
        Some((text, warn))
    }

    /// Whether the open incident's last merge (in the last sync that
    /// merged) resolved a conflict: the incident screen says so.
    pub fn sync_conflict_here(&self) -> bool {
        let (Some(sync), Some(screen)) = (&self.sync, &self.incident) else {
            return false;
        };
        self.screen == Screen::Incident
            && sync
                .status
                .as_ref()
                .is_some_and(|s| s.state.conflicts.contains(&screen.id))
    }

    /// `S`: sync now.
    pub(super) fn sync_now(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        match &self.sync {
            None => {
                self.complain(
                    "Not synced with a team: run `breachdesk sync init REMOTE` first (see README, Working as a team)",
                );
                Vec::new()
            }
            Some(sync) if sync.busy.is_some() => {
                self.say("Already syncing…");
                Vec::new()
            }
            Some(_) => self.start_sync(now),
        }
    }

    fn start_sync(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        let job = self.quiet_job(now, JobKind::Sync);
        if let Some(sync) = &mut self.sync {
            sync.busy = Some(job.seq);
            sync.last_started = Some(now);
            sync.changed_at = None;
        }
        vec![job]
    }

    /// A change was saved here: an automatic sync follows soon.
    pub(super) fn sync_after_change(&mut self, now: DateTime<Utc>) {
        if let Some(sync) = &mut self.sync {
            sync.changed_at.get_or_insert(now);
        }
    }

    /// Once a second: the status every few seconds; with `auto`, a sync
    /// when the interval has passed or a change was saved a moment ago.
    pub(super) fn sync_tick(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        let Some(sync) = &self.sync else {
            return Vec::new();
        };
        if sync.busy.is_some() {
            return Vec::new();
        }
        let interval_passed = sync.last_started.is_none_or(|at| now - at >= sync.interval);
        let changed = sync
            .changed_at
            .is_some_and(|at| now - at >= Duration::seconds(AFTER_CHANGE_SECS));
        if sync.auto && (interval_passed || changed) {
            return self.start_sync(now);
        }
        let look = sync.status_job.is_none()
            && sync
                .status_checked
                .is_none_or(|at| now - at >= Duration::seconds(STATUS_EVERY_SECS));
        if !look {
            return Vec::new();
        }
        let job = self.quiet_job(now, JobKind::SyncStatus);
        if let Some(sync) = &mut self.sync {
            sync.status_job = Some(job.seq);
            sync.status_checked = Some(now);
        }
        vec![job]
    }

    /// A job finished: whether it was the status job (then it is noted).
    pub(super) fn on_sync_status(&mut self, seq: u64, status: Option<SyncStatus>) {
        if let Some(sync) = &mut self.sync {
            if sync.status_job == Some(seq) {
                sync.status_job = None;
            }
            sync.status = status;
        }
    }

    /// A sync finished: say how it went (a resolved conflict loudly), and
    /// reload the board and the open incident from disk.
    pub(super) fn on_synced(
        &mut self,
        seq: u64,
        said: String,
        failed: bool,
        conflicts: Vec<String>,
        status: Option<SyncStatus>,
        now: DateTime<Utc>,
    ) -> Vec<Job> {
        if let Some(sync) = &mut self.sync {
            if sync.busy == Some(seq) {
                sync.busy = None;
            }
            sync.status = status;
            sync.status_checked = Some(now);
        }
        if failed {
            self.complain(said);
            return Vec::new();
        }
        if conflicts.is_empty() {
            self.say(said);
        } else {
            self.complain(format!(
                "⚠ Conflict resolved in {}: both sides changed the same field; one value was kept and the other is on its timeline. ({said})",
                conflicts.join(", ")
            ));
        }
        let mut jobs = vec![self.quiet_job(
            now,
            JobKind::LoadBoard {
                closed: self.board.show_closed,
            },
        )];
        if self.screen == Screen::Incident
            && let Some(id) = self.incident.as_ref().map(|s| s.id.clone())
        {
            jobs.push(self.quiet_job(now, JobKind::LoadIncident(id)));
        }
        jobs
    }
}
