//! What happened to a sent notice, recorded on its incident: the outbox is
//! reconciled with the records after a crash, keyed by Message-ID, and an
//! accepted notice applies what it does (8.1 notification made, data
//! supplied, report sent).

use super::*;
use crate::domain::incident::{DeliveryState, NoticeRecord};
use crate::mail::outbox::{self, QueuedNotice};

impl Desk {
    /// Records every outbox notice of the last 30 days whose state the
    /// incident does not show yet: a crash (or a full disk) between the
    /// outbox and the incident's save leaves such a notice. Returns one line
    /// per notice recorded now.
    /// Entries that fail the outbox check are moved aside first (and said),
    /// so nothing planted is ever recorded on an incident.
    pub fn reconcile_outbox(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut said = self.screen_outbox();
        let Ok(all) = outbox::list(&self.outbox_dir()) else {
            return said;
        };
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
                uid: String::new(),
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
                    crate::domain::uid::push(&mut incident.notices, NoticeRecord {
                        uid: String::new(),
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
            // The record's own entry for this Message-ID names the request
            // as it is now: a sync that merged two requests both numbered
            // R3 renumbers one (and rewrites its notices), while the
            // outbox file on this machine still says what it said when queued.
            let request = incident
                .notices
                .iter()
                .find(|r| r.message_id == n.message_id)
                .and_then(|r| r.request_id.clone())
                .or_else(|| n.request_id.clone())
                .unwrap_or_default();
            let incident_id = incident.id.clone();
            let r = incident.request_mut(&request).ok_or_else(|| {
                not_found(format!("{incident_id} has no data request '{request}'"))
            })?;
            // Data sent after the request was withdrawn or recorded as not
            // supplied was supplied all the same: the record says so (the
            // earlier reason stays in the timeline and `ended`).
            if r.status != RequestStatus::Supplied {
                r.status = RequestStatus::Supplied;
                r.supplied_at = Some(at);
                r.supplied_how = Some(format!("email to {to} ({})", n.message_id));
                r.no_charge = true;
            }
            for file in files {
                crate::domain::uid::push(&mut r.attachments, file);
            }
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
