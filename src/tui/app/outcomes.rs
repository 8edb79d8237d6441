//! Job outcomes: what the console does when desk work comes back (a save,
//! a load, a composed notice, a mail attempt, a disk stamp), and the
//! once-a-second checks that ask for it (clock alerts, the disk stamp).

use super::{
    ALERT_LEADS_MINUTES, App, IncidentScreen, Job, Overlay, Pane, Preview, Screen, console_words,
    local_stamps,
};
use crate::domain::incident::Incident;
use crate::tui::form::FormKind;
use crate::tui::jobs::{Done, JobKind, Outcome};
use chrono::{DateTime, Utc};

impl App {
    /// Rings once for each legal clock that crossed 15 minutes, 5 minutes or
    /// its due time since the last check (the most urgent threshold only,
    /// when several were crossed at once); the alert names the incident.
    /// Every legal clock of an incident is followed, not only its nearest:
    /// an incident whose nearest clock is within 15 minutes (or overdue) has
    /// all its clocks read once per revision, by a background job.
    pub fn check_alerts(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        use crate::domain::reminders::{Threshold, crossed, thresholds};
        use crate::domain::summary::DueClock;
        let leads: Vec<chrono::Duration> = ALERT_LEADS_MINUTES
            .iter()
            .map(|m| chrono::Duration::minutes(*m))
            .collect();
        let window = chrono::Duration::minutes(ALERT_LEADS_MINUTES[0]);
        // Only an incident whose nearest legal clock is in the window can
        // have a clock crossing a threshold.
        let near: Vec<(String, u64, String, DueClock)> = self
            .board
            .summaries
            .iter()
            .filter_map(|s| {
                let due = s.legal_due.as_ref()?;
                (due.due_at - now <= window)
                    .then(|| (s.id.clone(), s.revision, s.title.clone(), due.clone()))
            })
            .collect();
        self.legal_clocks
            .retain(|id, _| near.iter().any(|(n, ..)| n == id));
        let unread: Vec<(String, u64)> = near
            .iter()
            .filter(|(id, revision, ..)| {
                self.legal_clocks.get(id).is_none_or(|(r, _)| r != revision)
            })
            .map(|(id, revision, ..)| (id.clone(), *revision))
            .collect();
        let mut newest: Option<(DateTime<Utc>, String)> = None;
        for (id, revision, title, nearest) in &near {
            let clocks = match self.legal_clocks.get(id) {
                Some((r, clocks)) if r == revision && !clocks.is_empty() => clocks.clone(),
                _ => vec![nearest.clone()],
            };
            for due in &clocks {
                let key = |t: Threshold| {
                    format!(
                        "{id}/{}/{}/{}",
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
                    "{id} {}: {} {}",
                    crate::text::one_line(title),
                    due.clock,
                    crate::domain::clock::format_countdown(due.due_at, now)
                );
                if newest.as_ref().is_none_or(|(at, _)| due.due_at < *at) {
                    newest = Some((due.due_at, text));
                }
            }
        }
        if let Some((_, text)) = newest {
            self.alert = Some(text);
        }
        if unread.is_empty() || self.clocks_job.is_some() {
            return Vec::new();
        }
        let job = self.quiet_job(now, JobKind::LegalClocks(unread));
        self.clocks_job = Some(job.seq);
        vec![job]
    }

    /// Once a second (from the tick): a stamp of the records on disk, so a
    /// change made by the CLI (or anyone) shows within about a second.
    pub(super) fn look_at_disk(&mut self, now: DateTime<Utc>) -> Vec<Job> {
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
    pub(super) fn on_stamp(
        &mut self,
        stamp: crate::desk::DiskStamp,
        now: DateTime<Utc>,
    ) -> Vec<Job> {
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

    pub(super) fn on_done(&mut self, done: Done, now: DateTime<Utc>) -> Vec<Job> {
        if let Some(i) = self.quiet.iter().position(|s| *s == done.seq) {
            self.quiet.remove(i);
        } else {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        let was_mail = self.mail_busy == Some(done.seq);
        if was_mail {
            self.mail_busy = None;
            self.overlays.close_preview();
        }
        if self.stamp_job == Some(done.seq) {
            self.stamp_job = None;
        }
        if self.clocks_job == Some(done.seq) {
            self.clocks_job = None;
        }
        let was_round = self.outbox_round == Some(done.seq);
        if was_round {
            self.outbox_round = None;
        }
        let was_mail = was_mail || was_round;
        let for_form = self.form().is_some_and(|f| f.pending == Some(done.seq));
        match done.result {
            Err(message) => {
                let composing = self.form().is_some_and(|f| {
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
                if for_form && let Some(form) = self.overlays.form_mut() {
                    form.pending = None;
                    form.error = Some(message);
                } else {
                    self.complain(message);
                }
                Vec::new()
            }
            Ok(Outcome::Composed { notice, missing }) => {
                if for_form {
                    self.overlays.close_form();
                }
                self.status = None;
                self.overlays.push(Overlay::Preview(Box::new(Preview {
                    notice,
                    missing,
                    scroll: 0,
                    sending: false,
                })));
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
                    self.overlays.close_form();
                }
                self.set_outbox(outbox);
                match message {
                    Some(m) if failed => self.complain(m),
                    Some(m) => self.say(m),
                    None => {}
                }
                let changed = !incidents.is_empty();
                if changed {
                    self.sync_after_change(now);
                }
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
                self.check_alerts(now)
            }
            Ok(Outcome::Stamp(stamp)) => self.on_stamp(stamp, now),
            Ok(Outcome::SyncStatus(status)) => {
                self.on_sync_status(done.seq, status);
                Vec::new()
            }
            Ok(Outcome::Synced {
                said,
                failed,
                conflicts,
                status,
            }) => self.on_synced(done.seq, said, failed, conflicts, status, now),
            Ok(Outcome::LegalClocks(found)) => {
                for (id, revision, clocks) in found {
                    self.legal_clocks.insert(id, (revision, clocks));
                }
                self.check_alerts(now)
            }
            Ok(Outcome::Incident {
                incident,
                warnings,
                message,
                opened,
            }) => {
                if for_form {
                    self.overlays.close_form();
                }
                let saved = message.is_some();
                if saved {
                    self.sync_after_change(now);
                }
                if let Some(message) = message {
                    self.say(message);
                }
                let tz = self.tz;
                self.overlays.warn(
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

    pub(super) fn show_incident(
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
            detail_scroll: (0, 0),
            detail_room: std::cell::Cell::new(0),
            step: 0,
            request: 0,
        });
        self.screen = Screen::Incident;
        // The filter line belongs to the board: typing stops (its text stays).
        self.overlays.remove(|o| matches!(o, Overlay::Filter));
        if loaded {
            Vec::new()
        } else {
            vec![self.job(now, JobKind::LoadIncident(id))]
        }
    }
}
