//! The mail flow: choose a notice, fill its form, preview the exact
//! message, confirm once; and the 30-second outbox round.

use super::{App, Job, OUTBOX_EVERY_SECS, Pane};
use crate::domain::notice::NoticeKind;
use crate::tui::form::Form;
use crate::tui::jobs::{JobKind, OutboxRow};
use crate::tui::strings;
use chrono::{DateTime, Utc};

impl App {
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
    pub(super) fn notice_chosen(
        &mut self,
        kind: NoticeKind,
        again: bool,
        now: DateTime<Utc>,
    ) -> Vec<Job> {
        self.overlays.close_form();
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
    pub(super) fn confirm_send(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        let Some(preview) = self.preview() else {
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
        if let Some(preview) = self.overlays.preview_mut() {
            preview.sending = true;
        }
        self.say(format!(
            "Sending the {} to {}; the clocks keep running",
            notice.kind.as_str(),
            crate::text::one_line(&notice.to.join(", "))
        ));
        vec![self.mail_job(now, JobKind::SendNotice(notice))]
    }

    /// The 30-second outbox round, from the tick: send what is due when
    /// `[smtp]` is configured, else just count what waits.
    pub(super) fn outbox_round(&mut self, now: DateTime<Utc>) -> Vec<Job> {
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

    pub(super) fn set_outbox(&mut self, rows: Vec<OutboxRow>) {
        self.outbox = rows;
        self.outbox_selected = self
            .outbox_selected
            .min(self.outbox.len().saturating_sub(1));
    }
}
