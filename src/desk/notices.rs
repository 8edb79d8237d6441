//! The notice service: composing, sending, retrying, cancelling and
//! recording email notices. The CLI (`commands/mail.rs`) and the console
//! (`tui/jobs.rs`) are thin adapters over these methods.
//!
//! Every email notice is recorded on its incident, structurally, in
//! `notices` (one [`NoticeRecord`] per Message-ID: kind, recipients,
//! attempts, state, server reply). Each change of state is one locked update
//! of the record that looks the notice up by Message-ID, so recording the
//! same acceptance twice (a retry after a crash, two console rounds) changes
//! nothing the second time.
//!
//! Order of events for one confirmation: queue in the outbox (durable, with
//! copies of the attachments) -> record `pending` on the incident -> attempt
//! -> record the outcome (`sent` with its effects on the record, `unknown`,
//! `failed`). A crash between any two steps is repaired by
//! [`Desk::reconcile_outbox`], which records what the outbox knows and the
//! incident does not.

use super::*;
use crate::domain::incident::DeliveryState;
use crate::mail::MailError;
use crate::mail::outbox::{self, QueuedNotice};
use crate::report::missing_for_report;

/// What the responder asks to send; the rest comes from the record and the
/// config.
#[derive(Debug, Clone)]
pub struct NoticeRequest {
    /// The incident (id or a unique part of it).
    pub incident: String,
    pub kind: NoticeKind,
    /// `<config dir>/templates`, whose files override the built-in ones.
    pub templates: Option<PathBuf>,
    /// Overrides the configured recipient (not for a data supply).
    pub to: Option<String>,
    /// The whole Cc list (the console's editable Cc line); `None` keeps
    /// `[contacts] cc`.
    pub cc: Option<Vec<String>>,
    /// Added to the Cc list (`--cc`).
    pub add_cc: Vec<String>,
    pub first_actions: String,
    pub delay_reason: Option<String>,
    /// The data request answered (data supply).
    pub request: Option<String>,
    pub files: Vec<PathBuf>,
    pub message: String,
    /// Why an 8.1 notification is sent although one is already recorded.
    pub again: Option<String>,
}

impl NoticeRequest {
    /// A request for notice `kind` about `incident`, with nothing added.
    pub fn new(incident: &str, kind: NoticeKind) -> NoticeRequest {
        NoticeRequest {
            incident: incident.to_string(),
            kind,
            templates: None,
            to: None,
            cc: None,
            add_cc: Vec::new(),
            first_actions: String::new(),
            delay_reason: None,
            request: None,
            files: Vec::new(),
            message: String::new(),
            again: None,
        }
    }
}

/// A notice composed for the responder to confirm.
#[derive(Debug, Clone)]
pub struct Composed {
    pub notice: Notice,
    /// What the full-details report still lacks (shown before confirming).
    pub missing: Vec<String>,
}

/// How one attempt (or a confirmation) went, in the desk's words.
#[derive(Debug, Clone)]
pub struct Attempted {
    pub id: String,
    pub incident_id: String,
    pub kind: NoticeKind,
    pub message_id: String,
    /// The outbox state after the attempt.
    pub state: DeliveryState,
    /// The incident as recorded now, when it was written.
    pub incident: Option<Incident>,
    /// One line for the responder: what happened and what happens next.
    pub said: String,
}

impl Attempted {
    pub fn sent(&self) -> bool {
        self.state == DeliveryState::Sent
    }
}

/// One outbox round: acceptances recorded late, and every attempt made.
#[derive(Debug, Clone, Default)]
pub struct Round {
    pub reconciled: Vec<String>,
    pub attempts: Vec<Result<Attempted, String>>,
}

/// The 8.1 notice is ours to give only when we identified the breach: when
/// the other party did, its notice to us is the record.
pub(super) fn ours_to_give(incident: &Incident) -> Result<(), DeskError> {
    if incident.we_notify() {
        return Ok(());
    }
    Err(wrong_state(format!(
        "{}: the {} identified this breach and notified us (8.1); no notification is due from us (log any reply in the timeline)",
        incident.id,
        incident.our_role.other_party().label(),
    )))
}

/// Whether a paragraph 8.1 notification is already recorded for the
/// incident, by any channel, or confirmed by email and not cancelled.
pub fn notification_recorded(incident: &Incident) -> Option<String> {
    if let Some(at) = incident.notification.made_at {
        return Some(format!(
            "made by {} at {}",
            incident
                .notification
                .channel
                .map(|c| c.as_str())
                .unwrap_or("?"),
            stamp(at)
        ));
    }
    incident
        .notices
        .iter()
        .find(|n| n.kind == NoticeKind::Notification && n.state != DeliveryState::Cancelled)
        .map(|n| format!("{} by email ({}, {})", n.state, n.id, n.message_id))
}

/// Runs a future to completion from blocking code: on the caller's runtime
/// when called from its blocking pool, else on a runtime of its own.
/// (Never call from inside an async task.)
fn block_on<F: std::future::Future>(fut: F) -> Result<F::Output, DeskError> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => Ok(handle.block_on(fut)),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(fut))
            .map_err(|e| system(format!("cannot start the async runtime: {e}"))),
    }
}

fn mail(e: MailError) -> DeskError {
    DeskError::Notice(crate::text::one_line(&e.to_string()))
}

impl Desk {
    /// `<data dir>/outbox`.
    pub fn outbox_dir(&self) -> PathBuf {
        outbox::outbox_dir(self.store.data_dir())
    }

    /// Checks every entry still to go against what `config.toml` allows
    /// (recipients, attachment copies) and moves aside those that fail
    /// (see [`crate::mail::screen`]); one line for each.
    pub fn screen_outbox(&self) -> Vec<String> {
        crate::mail::outbox::screen(&self.outbox_dir(), &self.outbox_allowed())
    }

    /// Why an entry still to go would be refused by the outbox check, if it
    /// would (for `outbox list`, which moves nothing).
    pub fn outbox_refusal(&self, q: &QueuedNotice) -> Option<String> {
        let file = self.outbox_dir().join(format!("{}.toml", q.id()));
        if let Err(why) = crate::mail::screen::ours(&file) {
            return Some(why);
        }
        crate::mail::screen::check(
            &self.outbox_dir(),
            &q.notice,
            q.seal.as_deref(),
            &self.outbox_allowed(),
        )
        .err()
    }

    fn outbox_allowed(&self) -> crate::mail::screen::Allowed {
        let key = crate::mail::screen::seal_key(self.store.data_dir(), false);
        crate::mail::screen::Allowed::notices(
            &self.config.contacts,
            self.config.responder.email.as_deref(),
            key,
        )
    }

    fn smtp(&self) -> Result<crate::config::Smtp, DeskError> {
        self.config.smtp.clone().ok_or(DeskError::EmailOff)
    }

    /// Composes the notice asked for, for the responder to read and confirm.
    /// Nothing is queued. Refuses a second 8.1 notification unless
    /// `again` gives the reason, and a late first one without the reason
    /// for the delay.
    pub fn compose_notice(
        &self,
        req: NoticeRequest,
        now: DateTime<Utc>,
    ) -> Result<Composed, DeskError> {
        let incident = self.load(&req.incident)?;
        if req.kind == NoticeKind::Notification {
            ours_to_give(&incident)?;
        }
        let again = req
            .again
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        if req.kind == NoticeKind::Notification {
            match (notification_recorded(&incident), &again) {
                (Some(how), None) => {
                    return Err(wrong_state(format!(
                        "{} already records its 8.1 notification ({how}); to send another on purpose, give the reason (--again REASON; in the console, choose '8.1 notification AGAIN')",
                        incident.id
                    )));
                }
                (None, _)
                    if now > incident.notification.due_at
                        && req
                            .delay_reason
                            .as_deref()
                            .is_none_or(|r| r.trim().is_empty()) =>
                {
                    return Err(missing(format!(
                        "the notification was due by {}: give the reason for the delay (--delay-reason)",
                        crate::present::local(incident.notification.due_at, self.tz)
                    )));
                }
                _ => {}
            }
        }
        let mut draft = match req.kind {
            NoticeKind::DataSupply => Draft::supply(
                &incident,
                &self.config,
                req.request.as_deref().unwrap_or_default(),
                req.files.clone(),
            ),
            kind => Draft::new(kind, &incident, &self.config),
        }
        .map_err(mail)?;
        if req.kind != NoticeKind::DataSupply
            && let Some(to) = req.to.as_deref().filter(|t| !t.trim().is_empty())
        {
            draft.to = vec![to.trim().to_string()];
        }
        if let Some(cc) = req.cc {
            draft.cc = cc;
        }
        draft.cc.extend(req.add_cc);
        draft.first_actions = req.first_actions;
        draft.delay_reason = req.delay_reason.filter(|r| !r.trim().is_empty());
        draft.message = req.message;
        draft.again_reason = if req.kind == NoticeKind::Notification {
            again
        } else {
            None
        };
        let mut missing = Vec::new();
        if req.kind == NoticeKind::FullReport {
            missing = missing_for_report(&incident);
            draft.attachments = crate::mail::report_attachment(
                self.store.data_dir(),
                &incident,
                &self.config.contract,
                self.tz,
                now,
            )
            .map_err(mail)?;
        }
        let notice =
            crate::mail::compose(&draft, req.templates.as_deref(), self.tz, now).map_err(mail)?;
        Ok(Composed { notice, missing })
    }

    /// The responder confirmed this exact notice: queue it once (durably,
    /// with copies of its attachments), record it as pending on the
    /// incident, make one attempt and record the outcome. `Err` means
    /// nothing was queued; once queued, the answer is an [`Attempted`]
    /// whatever the server did.
    pub fn send_notice(&self, notice: Notice, now: DateTime<Utc>) -> Result<Attempted, DeskError> {
        self.smtp()?;
        let mut notice = notice;
        if notice.kind == NoticeKind::Notification && notice.again_reason.is_none() {
            let incident = self.load(&notice.incident_id)?;
            if let Some(how) = notification_recorded(&incident) {
                return Err(wrong_state(format!(
                    "not sent, nothing queued: {} already records its 8.1 notification ({how})",
                    incident.id
                )));
            }
        }
        // The audit chain head, as a witness the recipient holds.
        notice.audit_head = self.audit.head().ok();
        let dir = self.outbox_dir();
        let key = crate::mail::screen::seal_key(self.store.data_dir(), true);
        let queued = outbox::queue_sealed(&dir, notice, now, key.as_deref())
            .map_err(|e| DeskError::Notice(format!("not sent, nothing queued: {}", one(&e))))?;
        let id = queued.id().to_string();
        // The outbox has it now; a failure to record it here is repaired by
        // the next outbox round, so it must not stop the attempt.
        let _ = self.record_notice_state(&queued, now);
        self.deliver_notice(&id, now)
    }

    /// One attempt at notice `id` now, whatever its schedule (a `failed`
    /// one is refused: use [`Desk::retry_notice`]), and its outcome recorded.
    pub fn deliver_notice(&self, id: &str, now: DateTime<Utc>) -> Result<Attempted, DeskError> {
        let smtp = self.smtp()?;
        let dir = self.outbox_dir();
        if let Some(line) = self.screen_outbox().into_iter().find(|l| l.contains(id)) {
            return Err(DeskError::Notice(line));
        }
        let started = std::time::Instant::now();
        let result = block_on(outbox::deliver(&dir, id, &smtp, now))?;
        let after = now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
        let q = outbox::get(&dir, id).map_err(mail)?;
        let error = match result {
            Ok(_) => None,
            Err(e @ MailError::AcceptedNotRecorded { .. }) => {
                // The server has it; the outbox could not say so. Record it
                // on the incident as sent all the same.
                let MailError::AcceptedNotRecorded { reply, .. } = &e else {
                    unreachable!()
                };
                let mut q = q.clone();
                q.state = DeliveryState::Sent;
                q.sent = Some(crate::mail::SentRecord {
                    accepted_at: after,
                    reply: reply.clone(),
                    message_id: q.notice.message_id.clone(),
                    to: q.notice.to.clone(),
                    cc: q.notice.cc.clone(),
                });
                return self.outcome(&q, None, after);
            }
            Err(
                e @ (MailError::Busy { .. }
                | MailError::AlreadySent { .. }
                | MailError::Outbox(_)
                | MailError::Io { .. }),
            ) => {
                return Err(mail(e));
            }
            Err(e) => Some(e),
        };
        self.outcome(&q, error.as_ref(), after)
    }

    /// Records the outbox's state of `q` on its incident and puts it into
    /// words.
    fn outcome(
        &self,
        q: &QueuedNotice,
        error: Option<&MailError>,
        now: DateTime<Utc>,
    ) -> Result<Attempted, DeskError> {
        let recorded = self.record_notice_state(q, now);
        let n = &q.notice;
        let state = q.effective_state();
        let id = n.id.as_str();
        let said = match state {
            DeliveryState::Sent => {
                let sent = q.sent.as_ref();
                let base = format!(
                    "Sent {} {} to {} at {} (Message-ID {}); server: {}",
                    n.incident_id,
                    n.kind,
                    n.to.iter()
                        .chain(n.cc.iter())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    sent.map(|s| crate::present::local(s.accepted_at, self.tz))
                        .unwrap_or_default(),
                    n.message_id,
                    sent.map(|s| s.reply.as_str()).unwrap_or_default()
                );
                match &recorded {
                    Err(e) => format!(
                        "{base}. NOT YET RECORDED on the incident ({e}); the next outbox round records it"
                    ),
                    Ok(_) => base,
                }
            }
            DeliveryState::Unknown => format!(
                "{id}: delivery UNKNOWN: {}. It will be sent again with the same Message-ID {} \
                 (a duplicate notice is better than a missing one; recipients can de-duplicate by Message-ID)",
                error
                    .map(|e| one(e))
                    .or_else(|| q.last_error().map(str::to_string))
                    .unwrap_or_default(),
                n.message_id
            ),
            DeliveryState::Failed => format!(
                "{id}: REFUSED for good by the server: {}. It is not retried automatically: \
                 retry it on purpose (outbox retry {id}) or cancel it with a reason (outbox cancel {id} --reason TEXT)",
                q.server_reply().unwrap_or_default()
            ),
            DeliveryState::Pending => format!(
                "{id}: not sent yet: {}; kept in the outbox and retried{}",
                error
                    .map(|e| one(e))
                    .or_else(|| q.last_error().map(str::to_string))
                    .unwrap_or_default(),
                q.next_attempt_at
                    .map(|t| format!(" from {}", crate::present::local(t, self.tz)))
                    .unwrap_or_default()
            ),
            DeliveryState::Cancelled => format!("{id}: cancelled"),
        };
        Ok(Attempted {
            id: n.id.clone(),
            incident_id: n.incident_id.clone(),
            kind: n.kind,
            message_id: n.message_id.clone(),
            state,
            incident: recorded.ok().map(|c| c.incident),
            said: crate::text::one_line(&said),
        })
    }

    /// Tries notice `id` again now, on purpose: a `failed` notice (refused
    /// for good) becomes pending again and is attempted.
    pub fn retry_notice(&self, id: &str, now: DateTime<Utc>) -> Result<Attempted, DeskError> {
        self.smtp()?;
        let q = outbox::retry_now(&self.outbox_dir(), id, now).map_err(mail)?;
        let _ = self.record_notice_state(&q, now);
        self.deliver_notice(id, now)
    }

    /// Sends every pending or unknown notice whose backoff has expired
    /// (never a failed one), after recording anything a crash kept out of
    /// its incident.
    pub fn deliver_due(&self, now: DateTime<Utc>) -> Result<Round, DeskError> {
        self.smtp()?;
        let reconciled = self.reconcile_outbox(now);
        let dir = self.outbox_dir();
        let mut attempts = Vec::new();
        for q in outbox::pending(&dir).map_err(mail)? {
            let due =
                q.state != DeliveryState::Failed && q.next_attempt_at.is_some_and(|t| t <= now);
            if due {
                attempts.push(
                    self.deliver_notice(q.id(), now)
                        .map_err(|e| format!("{}: {}", q.id(), one(&e))),
                );
            }
        }
        Ok(Round {
            reconciled,
            attempts,
        })
    }

    /// Drops a notice that has not been accepted, keeping it with `reason`
    /// in `outbox/cancelled/`, deleting its attachment copies, and recording
    /// the cancellation and its reason on the incident and in the audit log.
    pub fn cancel_notice(
        &self,
        id: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let q = outbox::cancel(&self.outbox_dir(), id, &self.actor, reason, now).map_err(mail)?;
        self.record_notice_state(&q, now)
    }

    /// Every notice in the outbox (still to go, sent and cancelled).
    pub fn outbox_notices(&self) -> Result<Vec<QueuedNotice>, DeskError> {
        outbox::list(&self.outbox_dir()).map_err(mail)
    }
}

fn one(e: &dyn std::fmt::Display) -> String {
    crate::text::one_line(&e.to_string())
}
