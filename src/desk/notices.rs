//! The notice service: composing, sending, retrying, cancelling and
//! recording email notices. The CLI (`mailcli.rs`) and the console
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
use crate::domain::incident::{DeliveryState, NoticeRecord};
use crate::mail::MailError;
use crate::mail::outbox::{self, QueuedNotice};
use crate::mail::template::missing_for_report;

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
        let queued = outbox::queue(&dir, notice, now)
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

    /// Records every outbox notice of the last 30 days whose state the
    /// incident does not show yet: a crash (or a full disk) between the
    /// outbox and the incident's save leaves such a notice. Returns one line
    /// per notice recorded now.
    pub fn reconcile_outbox(&self, now: DateTime<Utc>) -> Vec<String> {
        let Ok(all) = outbox::list(&self.outbox_dir()) else {
            return Vec::new();
        };
        let mut said = Vec::new();
        for q in all {
            if q.queued_at < now - chrono::Duration::days(30) {
                continue;
            }
            match self.record_notice_state(&q, now) {
                Ok(changed) if changed.written => said.push(format!(
                    "{}: recorded {} {} as {}",
                    q.notice.incident_id,
                    q.notice.kind,
                    q.id(),
                    q.effective_state()
                )),
                Ok(_) => {}
                Err(e) => said.push(format!("{}: still not recorded: {e}", q.id())),
            }
        }
        said
    }

    /// Records the outbox's view of one notice on its incident, in one
    /// locked update keyed by Message-ID: adds the notice if the incident
    /// does not have it, moves its state on, and, the first time it is seen
    /// as sent, applies what the notice does to the record (the 8.1
    /// notification made, the data request supplied, the report sent, or a
    /// timeline entry). Changes nothing when the incident already shows it.
    pub fn record_notice_state(
        &self,
        q: &QueuedNotice,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let state = match q.effective_state() {
            // A notice found mid-attempt is shown as pending on the record
            // until the outbox knows more.
            DeliveryState::Unknown if q.attempts.is_empty() => DeliveryState::Pending,
            s => s,
        };
        let n = &q.notice;
        let attempts = q.attempts.len() as u32;
        let actor = self.actor.clone();
        let action = match state {
            DeliveryState::Pending => "notice.pending",
            DeliveryState::Unknown => "notice.unknown",
            DeliveryState::Failed => "notice.failed",
            DeliveryState::Sent => "notice.sent",
            DeliveryState::Cancelled => "notice.cancelled",
        };
        let files: Vec<Evidence> = n
            .attachments
            .iter()
            .map(|a| Evidence {
                added_at: now,
                added_by: actor.clone(),
                note: Some(format!("sent as {}", a.file_name)),
                path: Some(a.source.as_ref().unwrap_or(&a.path).display().to_string()),
                path_hex: super::evidence::path_hex(a.source.as_ref().unwrap_or(&a.path)),
                size: Some(a.size),
                sha256: Some(a.sha256.clone()),
            })
            .collect();
        self.change(&n.incident_id, now, action, |incident| {
            let existing = incident
                .notices
                .iter()
                .position(|r| r.message_id == n.message_id);
            let legacy = existing.is_none()
                && q.format < outbox::FORMAT
                && legacy_recorded(incident, &n.message_id);
            let index = match existing {
                Some(i) => i,
                None => {
                    incident.notices.push(NoticeRecord {
                        id: n.id.clone(),
                        kind: n.kind,
                        message_id: n.message_id.clone(),
                        to: n.to.clone(),
                        cc: n.cc.clone(),
                        subject: n.subject.clone(),
                        queued_at: q.queued_at,
                        state: DeliveryState::Pending,
                        attempts: 0,
                        accepted_at: None,
                        server_reply: None,
                        request_id: n.request_id.clone(),
                        again_reason: n.again_reason.clone(),
                        cancel_reason: None,
                        recorded_by: Some(actor.clone()),
                    });
                    incident.notices.len() - 1
                }
            };
            let record = &mut incident.notices[index];
            if record.state == DeliveryState::Sent
                || (existing.is_some() && record.state == state)
            {
                // Already recorded: nothing changes.
                return Ok(String::new());
            }
            let from = record.state;
            record.state = state;
            record.attempts = attempts;
            record.server_reply = q
                .server_reply()
                .map(|r| crate::text::one_line(&r))
                .or(record.server_reply.take());
            record.cancel_reason = q.cancelled.as_ref().map(|c| c.reason.clone());
            let to = n.to.iter().chain(n.cc.iter()).cloned().collect::<Vec<_>>().join(", ");
            let mut detail = format!(
                "{} {} ({}) {} -> {state} after {attempts} attempt(s); Message-ID {}; to {to}",
                n.kind,
                n.id,
                crate::text::one_line(&n.subject),
                if existing.is_some() { from.as_str() } else { "new" },
                n.message_id,
            );
            match state {
                DeliveryState::Sent => {
                    let sent = q.sent.clone().ok_or_else(|| {
                        not_found(format!("notice {} has no acceptance to record", n.id))
                    })?;
                    record.accepted_at = Some(sent.accepted_at);
                    detail.push_str(&format!(
                        "; accepted at {}; server said: {}",
                        stamp(sent.accepted_at),
                        crate::text::one_line(&sent.reply)
                    ));
                    if !legacy {
                        let text = apply_sent(incident, n, &sent, &to, files, &actor, now)?;
                        detail.push_str(&format!("; {text}"));
                    }
                }
                DeliveryState::Cancelled => {
                    let reason = record.cancel_reason.clone().unwrap_or_default();
                    detail.push_str(&format!("; reason: {reason}"));
                    let text = format!(
                        "{} notice {} cancelled before it was accepted (Message-ID {}); reason: {reason}",
                        n.kind, n.id, n.message_id
                    );
                    incident.log(now, &actor, EntryKind::Notice, text);
                }
                DeliveryState::Failed => {
                    let text = format!(
                        "{} notice {} REFUSED by the mail server: {} (Message-ID {}); not retried automatically",
                        n.kind,
                        n.id,
                        record.server_reply.clone().unwrap_or_default(),
                        n.message_id
                    );
                    detail.push_str(&format!(
                        "; server said: {}",
                        record.server_reply.clone().unwrap_or_default()
                    ));
                    incident.log(now, &actor, EntryKind::Notice, text);
                }
                DeliveryState::Pending | DeliveryState::Unknown => {}
            }
            Ok(detail)
        })
    }
}

fn one(e: &dyn std::fmt::Display) -> String {
    crate::text::one_line(&e.to_string())
}

/// Whether a record written before the `notices` list existed already
/// recorded this acceptance (in the structural reference fields, or in the
/// timeline entry every sent notice was given then). A one-time migration:
/// used only for outbox files from before the list existed (format 1) that
/// the list does not have, so that reconciling an old outbox applies
/// nothing twice. Everything else is decided by Message-ID in `notices`.
fn legacy_recorded(incident: &Incident, message_id: &str) -> bool {
    !message_id.is_empty()
        && (incident.notification.reference.as_deref() == Some(message_id)
            || incident.report.reference.as_deref() == Some(message_id)
            || incident
                .timeline
                .iter()
                .any(|e| e.kind == EntryKind::Notice && e.text.contains(message_id)))
}

/// What an accepted notice does to the record, inside the locked update:
/// the first 8.1 notification fills `notification` and completes its steps
/// (made at the acceptance time); a data supply marks its request supplied
/// with the files' sizes and SHA-256; the report fills `report`; anything
/// else (an update, a second notification) is a timeline entry.
fn apply_sent(
    incident: &mut Incident,
    n: &Notice,
    sent: &crate::mail::SentRecord,
    to: &str,
    files: Vec<Evidence>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<String, DeskError> {
    let at = sent.accepted_at.min(now);
    let text = match n.kind {
        NoticeKind::Notification if incident.notification.made_at.is_none() => {
            let due = incident.notification.due_at;
            let on_time = at <= due;
            let margin = crate::domain::clock::format_duration_short((at - due).abs());
            let verdict = if on_time {
                format!("on time by {margin}")
            } else {
                format!("late by {margin}")
            };
            let notification = &mut incident.notification;
            notification.made_at = Some(at);
            notification.made_by = Some(actor.to_string());
            notification.channel = Some(Channel::Email);
            notification.recipient = Some(to.to_string());
            notification.reference = Some(n.message_id.clone());
            notification.server_reply = Some(crate::text::one_line(&sent.reply));
            notification.met_deadline = Some(on_time);
            notification.delay_reason = n.delay_reason.clone();
            mark_filled_steps(
                incident,
                crate::domain::playbook::RecordField::Notification,
                actor,
                at,
            );
            format!(
                "Paragraph 8.1 notification made by email to {to} at {} ({verdict}) ref {}",
                stamp(at),
                n.message_id
            )
        }
        NoticeKind::DataSupply => {
            let request = n.request_id.clone().unwrap_or_default();
            let incident_id = incident.id.clone();
            let r = incident.request_mut(&request).ok_or_else(|| {
                not_found(format!("{incident_id} has no data request '{request}'"))
            })?;
            if r.status == RequestStatus::Open {
                r.status = RequestStatus::Supplied;
                r.supplied_at = Some(at);
                r.supplied_how = Some(format!("email to {to} ({})", n.message_id));
                r.no_charge = true;
            }
            r.attachments.extend(files);
            format!(
                "Data request {} supplied by email to {to}, without charge (Message-ID {})",
                r.id, n.message_id
            )
        }
        NoticeKind::FullReport => {
            incident.report.sent_at = Some(at);
            incident.report.sent_to = Some(to.to_string());
            incident.report.reference = Some(n.message_id.clone());
            mark_filled_steps(
                incident,
                crate::domain::playbook::RecordField::Report,
                actor,
                at,
            );
            format!(
                "Full-details report (8.2.1 f) sent to {to} at {} ref {}",
                stamp(at),
                n.message_id
            )
        }
        NoticeKind::Notification => format!(
            "Further 8.1 notification sent by email to {to}: {} (Message-ID {}){}",
            n.subject,
            n.message_id,
            n.again_reason
                .as_deref()
                .map(|r| format!("; sent again because: {r}"))
                .unwrap_or_default()
        ),
        NoticeKind::Update => format!(
            "Update sent by email to {to}: {} (Message-ID {})",
            n.subject, n.message_id
        ),
    };
    incident.log(now, actor, EntryKind::Notice, text.clone());
    Ok(text)
}
