//! Notices the mail server accepted, recorded on their incident.

use super::*;

impl Desk {
    /// Records a notice the mail server accepted, in the incident and the
    /// audit log: the 8.1 notification (made at the acceptance time), a data
    /// request supplied, the 8.2.1 (f) report sent, or an update.
    pub fn record_sent_notice(
        &self,
        delivery: &Delivery,
        notice: &Notice,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let to = delivery.to.join(", ");
        let incident = self.load(&delivery.incident_id)?;
        if notice_recorded(&incident, &delivery.message_id) {
            // Recording is idempotent: reconciling the outbox after a crash
            // must not record one acceptance twice.
            return Ok(Changed {
                incident,
                written: false,
                warnings: Vec::new(),
            });
        }
        let already_notified = incident.notification.made_at.is_some();
        let changed = match delivery.kind {
            NoticeKind::Notification if !already_notified => self.record_notification(
                &delivery.incident_id,
                NotificationInput {
                    at: delivery.accepted_at.min(now),
                    channel: Channel::Email,
                    recipient: to.clone(),
                    reference: Some(delivery.message_id.clone()),
                    server_reply: Some(delivery.reply.clone()),
                    delay_reason: notice.delay_reason.clone(),
                },
                now,
            )?,
            NoticeKind::DataSupply => {
                let request = delivery.request_id.clone().unwrap_or_default();
                let actor = self.actor.clone();
                let attachments: Vec<Evidence> = notice
                    .attachments
                    .iter()
                    .map(|a| Evidence {
                        added_at: now,
                        added_by: actor.clone(),
                        note: Some(format!("sent as {}", a.file_name)),
                        path: Some(a.path.display().to_string()),
                        path_hex: super::evidence::path_hex(&a.path),
                        size: Some(a.size),
                        sha256: Some(a.sha256.clone()),
                    })
                    .collect();
                self.change(&delivery.incident_id, now, "request.supplied", |incident| {
                    let incident_id = incident.id.clone();
                    let r = incident.request_mut(&request).ok_or_else(|| {
                        refused(format!("{incident_id} has no data request '{request}'"))
                    })?;
                    if r.status == RequestStatus::Open {
                        r.status = RequestStatus::Supplied;
                        r.supplied_at = Some(delivery.accepted_at);
                        r.supplied_how = Some(format!("email to {to} ({})", delivery.message_id));
                        r.no_charge = true;
                    }
                    r.attachments.extend(attachments);
                    let text = format!(
                        "Data request {} supplied by email to {to}, without charge (Message-ID {})",
                        r.id, delivery.message_id
                    );
                    incident.log(now, &actor, EntryKind::Notice, text.clone());
                    Ok(text)
                })?
            }
            NoticeKind::FullReport => self.record_report(
                &delivery.incident_id,
                delivery.accepted_at,
                &to,
                Some(delivery.message_id.clone()),
                now,
            )?,
            NoticeKind::Notification | NoticeKind::Update => {
                let actor = self.actor.clone();
                let what = if delivery.kind == NoticeKind::Update {
                    "Update"
                } else {
                    "Further notification"
                };
                self.change(&delivery.incident_id, now, "notice.logged", |incident| {
                    let text = format!(
                        "{what} sent by email to {to}: {} (Message-ID {})",
                        notice.subject, delivery.message_id
                    );
                    incident.log(now, &actor, EntryKind::Notice, text.clone());
                    Ok(text)
                })?
            }
        };
        self.audit.append(
            now,
            &self.actor,
            Some(&delivery.incident_id),
            "notice.sent",
            &format!(
                "{} {} accepted at {} for {to}; Message-ID {}; server said: {}",
                delivery.kind.as_str(),
                delivery.id,
                stamp(delivery.accepted_at),
                delivery.message_id,
                delivery.reply
            ),
        )?;
        Ok(changed)
    }
}

/// Whether the incident already records the notice with this Message-ID
/// (every timeline entry made for a sent notice carries it).
pub fn notice_recorded(incident: &Incident, message_id: &str) -> bool {
    !message_id.is_empty()
        && incident
            .timeline
            .iter()
            .any(|e| e.text.contains(message_id))
}

impl Desk {
    /// Records every notice the server accepted in the last 30 days that the
    /// incident does not show yet: a crash (or a full disk) between the
    /// server's acceptance and the incident's save leaves such a notice in
    /// `outbox/sent/`. Returns one line per notice recorded now.
    pub fn reconcile_outbox(&self, now: DateTime<Utc>) -> Vec<String> {
        let dir = crate::mail::outbox::outbox_dir(self.store.data_dir());
        let Ok(sent) = crate::mail::outbox::sent(&dir) else {
            return Vec::new();
        };
        let mut said = Vec::new();
        for q in sent {
            let Some(record) = q.sent.as_ref() else {
                continue;
            };
            if record.accepted_at < now - chrono::Duration::days(30) {
                continue;
            }
            let delivery = Delivery {
                id: q.notice.id.clone(),
                incident_id: q.notice.incident_id.clone(),
                kind: q.notice.kind,
                request_id: q.notice.request_id.clone(),
                message_id: record.message_id.clone(),
                reply: record.reply.clone(),
                accepted_at: record.accepted_at,
                to: record.to.clone(),
                cc: record.cc.clone(),
            };
            match self.record_sent_notice(&delivery, &q.notice, now) {
                Ok(changed) if changed.written => said.push(format!(
                    "{}: recorded {} {} accepted at {}",
                    delivery.incident_id,
                    delivery.kind.as_str(),
                    delivery.id,
                    stamp(delivery.accepted_at)
                )),
                Ok(_) => {}
                Err(e) => said.push(format!("{}: still not recorded: {e}", delivery.id)),
            }
        }
        said
    }
}
