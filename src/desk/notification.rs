//! Notices between the parties recorded on the incident: the 8.1
//! notification made, a notice received from the other party, and the
//! 8.2.1 (f) report sent.

use super::*;

/// A notice given or received other than by breachdesk's email, as typed.
#[derive(Debug, Clone)]
pub struct OtherNoticeInput {
    pub direction: crate::domain::incident::Direction,
    pub party: crate::domain::incident::NoticeParty,
    pub channel: crate::domain::incident::NoticeChannel,
    pub at: DateTime<Utc>,
    pub counterpart: String,
    pub reference: Option<String>,
    pub summary: String,
}

/// A notification (8.1) made outside breachdesk's mailer, or by it.
#[derive(Debug, Clone)]
pub struct NotificationInput {
    pub at: DateTime<Utc>,
    pub channel: Channel,
    pub recipient: String,
    pub reference: Option<String>,
    pub server_reply: Option<String>,
    pub delay_reason: Option<String>,
}

impl Desk {
    /// Adds a notice given or received other than by breachdesk's email
    /// (a call to the ICO, a letter to data subjects, a police report, an
    /// update received) to the notice register.
    pub fn record_other_notice(
        &self,
        id: &str,
        input: OtherNoticeInput,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        use crate::domain::incident::{Direction, OtherNotice};
        let actor = self.actor.clone();
        if input.at > now {
            return Err(invalid(format!(
                "the notice time {} is in the future",
                stamp(input.at)
            )));
        }
        self.change(id, now, "notice.recorded", |incident| {
            let next = incident.other_notices.len() + 1;
            let notice_id = format!("G{next}");
            let reference = input
                .reference
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty());
            let verb = match input.direction {
                Direction::Sent => "sent to",
                Direction::Received => "received from",
            };
            let mut text = format!(
                "notice {notice_id} {verb} {} by {} at {}",
                input.party,
                input.channel,
                stamp(input.at)
            );
            if let Some(r) = &reference {
                text.push_str(&format!(" (reference {r})"));
            }
            let summary = input.summary.trim().to_string();
            if !summary.is_empty() {
                text.push_str(&format!(": {summary}"));
            }
            crate::domain::uid::push(
                &mut incident.other_notices,
                OtherNotice {
                    uid: String::new(),
                    id: notice_id,
                    direction: input.direction,
                    party: input.party,
                    channel: input.channel,
                    at: input.at,
                    counterpart: input.counterpart.trim().to_string(),
                    reference,
                    summary,
                    recorded_by: actor.clone(),
                    recorded_at: now,
                },
            );
            incident.log(now, &actor, EntryKind::Notice, text.clone());
            Ok(text)
        })
    }

    /// Records the paragraph 8.1 notification and marks the steps that fill
    /// it done. A late notification needs a reason for the delay.
    pub fn record_notification(
        &self,
        id: &str,
        input: NotificationInput,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        if input.recipient.trim().is_empty() {
            return Err(missing("say who was notified (the recipient)"));
        }
        if input.at > now {
            return Err(invalid(format!(
                "notified at {} is in the future",
                stamp(input.at)
            )));
        }
        let actor = self.actor.clone();
        self.change(id, now, "notification.recorded", |incident| {
            ours_to_give(incident)?;
            if incident.notification.made_at.is_some() {
                return Err(wrong_state(format!(
                    "{} already records a notification; log any further notice in the timeline",
                    incident.id
                )));
            }
            if input.at < incident.identified_at {
                return Err(invalid(format!(
                    "notified at {} is before the breach was identified ({})",
                    stamp(input.at),
                    stamp(incident.identified_at)
                )));
            }
            let on_time = input.at <= incident.notification.due_at;
            let reason = input.delay_reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
            if !on_time && reason.is_none() {
                return Err(missing(format!(
                    "the notification was due by {}: give the reason for the delay (--delay-reason)",
                    stamp(incident.notification.due_at)
                )));
            }
            let n = &mut incident.notification;
            n.made_at = Some(input.at);
            n.made_by = Some(actor.clone());
            n.channel = Some(input.channel);
            n.recipient = Some(input.recipient.trim().to_string());
            n.reference = input.reference;
            n.server_reply = input.server_reply;
            n.met_deadline = Some(on_time);
            n.delay_reason = reason;
            let margin = crate::domain::clock::format_duration_short(
                (input.at - n.due_at).abs(),
            );
            let verdict = if on_time {
                format!("on time by {margin}")
            } else {
                format!("late by {margin}")
            };
            let text = format!(
                "Paragraph 8.1 notification made by {} to {} at {} ({verdict}){}",
                input.channel,
                input.recipient.trim(),
                stamp(input.at),
                n.reference
                    .as_deref()
                    .map(|r| format!(" ref {r}"))
                    .unwrap_or_default()
            );
            mark_filled_steps(incident, RecordField::Notification, &actor, input.at);
            incident.log(now, &actor, EntryKind::Notice, text.clone());
            Ok(text)
        })
    }

    /// Records that the 8.2.1 (f) full-details report was sent.
    pub fn record_report(
        &self,
        id: &str,
        sent_at: DateTime<Utc>,
        sent_to: &str,
        reference: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let actor = self.actor.clone();
        self.change(id, now, "report.recorded", |incident| {
            incident.report.sent_at = Some(sent_at);
            incident.report.sent_to = Some(sent_to.to_string());
            let text = format!(
                "Full-details report (8.2.1 f) sent to {sent_to} at {}{}",
                stamp(sent_at),
                reference
                    .as_deref()
                    .map(|r| format!(" ref {r}"))
                    .unwrap_or_default()
            );
            incident.report.reference = reference;
            mark_filled_steps(incident, RecordField::Report, &actor, sent_at);
            incident.log(now, &actor, EntryKind::Notice, text.clone());
            Ok(text)
        })
    }
}
