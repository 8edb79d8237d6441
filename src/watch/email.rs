//! Reminder emails, through the reminders' own outbox (queue, then
//! deliver). Kept in one place so they can move to the notice service.

use super::alerts::stamp;
use crate::address::{clean_header_text, parse_mailbox};
use crate::config::Smtp;
use crate::domain::notice::NoticeKind;
use crate::domain::reminders::{Reminder, time_left_words};
use crate::mail::compose::message_id;
use crate::mail::{MailError, Notice, NoticeState, outbox};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The email side of a reminder, when `email_to` is set.
pub struct Email {
    pub smtp: Smtp,
    pub from: String,
    pub to: String,
    /// `[contract] marking` and `reference`.
    pub marking: Option<String>,
    pub contract_reference: Option<String>,
}

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
    // Its id can be worked out from the record, so a sync could plant it
    // (in sent/, say) to silence the email: only an entry written here counts.
    for sub in [dir.to_path_buf(), dir.join("sent"), dir.join("cancelled")] {
        let name = format!("{id}.toml");
        let path = sub.join(&name);
        if std::fs::symlink_metadata(&path).is_ok()
            && let Err(why) = crate::mail::screen::ours(&path)
        {
            let line = crate::mail::screen::refuse(&sub, &name, &why);
            eprintln!(
                "breachdesk: warning: reminder email: {}",
                crate::text::one_line(&line)
            );
        }
    }
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

/// Delivers every queued reminder email whose time has come (pending, and
/// unknown: the server may have it, so it goes again with the same
/// Message-ID); returns the errors and when the next retry is due. First
/// every entry is checked (it must go to `email_to` alone, with nothing
/// attached): one that fails is moved aside, never sent. Reads only the
/// files still to go (not the sent ones), so it costs nothing when all went.
pub(super) async fn deliver_due(
    dir: &Path,
    email: &Email,
    now: DateTime<Utc>,
) -> (Vec<String>, Option<DateTime<Utc>>) {
    let mut retry_at: Option<DateTime<Utc>> = None;
    let allowed = crate::mail::screen::Allowed::reminders(&email.to, &email.from);
    let mut errors = crate::mail::outbox::screen(dir, &allowed);
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
        if !matches!(q.state, NoticeState::Pending | NoticeState::Unknown) {
            continue;
        }
        match q.next_attempt_at {
            Some(at) if at > now => {
                retry_at = Some(retry_at.map_or(at, |r: DateTime<Utc>| r.min(at)));
                continue;
            }
            _ => {}
        }
        match outbox::deliver(dir, &id, &email.smtp, now).await {
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
