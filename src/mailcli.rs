//! Sending notices from the command line: compose, show the exact message,
//! confirm (or `--yes`), queue durably in the outbox, deliver, and record the
//! acceptance in the incident and the audit log.

use crate::cli::NotifyArgs;
use crate::commands::Setup;
use crate::config::Smtp;
use crate::desk::Desk;
use crate::domain::incident::Incident;
use crate::mail::outbox::{self, NoticeState};
use crate::mail::template::missing_for_report;
use crate::mail::{Draft, Notice, NoticeKind, compose, render_preview};
use crate::present::local;
use crate::text::one_line;
use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

fn smtp(setup: &Setup) -> Result<&Smtp> {
    setup.config.smtp.as_ref().ok_or_else(|| {
        anyhow!(
            "no [smtp] section in {}: add one (breachdesk config init shows an example), or record a phone or in-person notification with --channel",
            setup.config_path.display()
        )
    })
}

fn templates_dir(setup: &Setup) -> Option<PathBuf> {
    setup.config_path.parent().map(|d| d.join("templates"))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Asks on the terminal; without one, `--yes` is required.
fn confirm(question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "not sent: standard input is not a terminal, so nobody can confirm; add --yes to send"
        );
    }
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Asks for a line of text on the terminal (for the reason for a delay).
fn ask(question: &str) -> Result<Option<String>> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    eprint!("{question} ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(Some(line.trim().to_string()).filter(|l| !l.is_empty()))
}

/// Queues a composed notice and tries it once; on acceptance records it.
fn send(
    setup: &Setup,
    desk: &Desk,
    notice: Notice,
    yes: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let smtp = smtp(setup)?;
    writeln!(out, "{}", render_preview(&notice))?;
    out.flush()?;
    if !confirm("Send this notice?", yes)? {
        writeln!(out, "Not sent; nothing was queued.")?;
        return Ok(());
    }
    let dir = outbox::outbox_dir(&setup.data_dir);
    let queued = outbox::queue(&dir, notice, now)?;
    let id = queued.id().to_string();
    deliver_and_record(desk, &dir, &id, smtp, out)
}

fn deliver_and_record(
    desk: &Desk,
    dir: &Path,
    id: &str,
    smtp: &Smtp,
    out: &mut impl Write,
) -> Result<()> {
    let attempt_at = Utc::now();
    let result = runtime()?.block_on(outbox::deliver(dir, id, smtp, attempt_at));
    match result {
        Ok(delivery) => {
            let notice = outbox::get(dir, id)?.notice;
            let changed = desk.record_sent_notice(&delivery, &notice, Utc::now())?;
            writeln!(
                out,
                "{}: {} sent to {} at {} (Message-ID {}); server: {}",
                changed.incident.id,
                delivery.kind.as_str(),
                delivery.to.join(", "),
                local(delivery.accepted_at, desk.tz),
                delivery.message_id,
                one_line(&delivery.reply)
            )?;
            Ok(())
        }
        Err(e) => bail!(
            "{e}; the notice {id} is kept in the outbox and will be retried (breachdesk outbox retry {id})"
        ),
    }
}

/// The start of every email command: mail is configured, and the incident.
fn open(setup: &Setup, id: &str) -> Result<(Desk, Incident)> {
    smtp(setup)?;
    let desk = setup.desk()?;
    let incident = desk.load(id)?;
    Ok((desk, incident))
}

/// The end of every email command: compose the draft, show it, confirm, send.
fn compose_and_send(
    setup: &Setup,
    desk: &Desk,
    draft: &Draft<'_>,
    yes: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let notice = compose(draft, templates_dir(setup).as_deref(), desk.tz, now)?;
    send(setup, desk, notice, yes, now, out)
}

/// `breachdesk notify ID` by email: the paragraph 8.1 notification.
pub fn notify(
    setup: &Setup,
    args: &NotifyArgs,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let (desk, incident) = open(setup, &args.id)?;
    let mut draft = Draft::new(NoticeKind::Notification, &incident, &setup.config)?;
    draft.first_actions = args.first_actions.clone();
    if let Some(to) = &args.to {
        draft.to = vec![to.clone()];
    }
    draft.delay_reason = args.delay_reason.clone();
    if incident.notification.made_at.is_none()
        && now > incident.notification.due_at
        && draft.delay_reason.is_none()
    {
        draft.delay_reason = ask(&format!(
            "The notification was due by {}. Reason for the delay:",
            local(incident.notification.due_at, desk.tz)
        ))?;
        if draft.delay_reason.is_none() {
            bail!(
                "the notification was due by {}: give the reason for the delay (--delay-reason)",
                local(incident.notification.due_at, desk.tz)
            );
        }
    }
    compose_and_send(setup, &desk, &draft, args.yes, now, out)
}

/// `breachdesk report ID`: the 8.2.1 (f) full-details report.
pub fn report(
    setup: &Setup,
    id: &str,
    yes: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let (desk, incident) = open(setup, id)?;
    let missing = missing_for_report(&incident);
    if !missing.is_empty() {
        writeln!(out, "Still missing from this report:")?;
        for m in &missing {
            writeln!(out, "  - {m}")?;
        }
        writeln!(out)?;
    }
    // The incident as Markdown, attached; written privately beside the outbox.
    let markdown = crate::mail::report_attachment(&setup.data_dir, &incident, desk.tz, now)?;
    let mut draft = Draft::new(NoticeKind::FullReport, &incident, &setup.config)?;
    draft.attachments = vec![markdown];
    compose_and_send(setup, &desk, &draft, yes, now, out)
}

/// `breachdesk supply ID REQUEST --attach FILE...`: 8.2.1 (e) data supply.
pub fn supply(
    setup: &Setup,
    id: &str,
    request: &str,
    attach: Vec<PathBuf>,
    yes: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let (desk, incident) = open(setup, id)?;
    let draft = Draft::supply(&incident, &setup.config, request, attach)?;
    compose_and_send(setup, &desk, &draft, yes, now, out)
}

/// `breachdesk update ID --message TEXT`: a free-form update.
pub fn update(
    setup: &Setup,
    id: &str,
    message: &str,
    yes: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    if message.trim().is_empty() {
        bail!("--message is empty");
    }
    let (desk, incident) = open(setup, id)?;
    let mut draft = Draft::new(NoticeKind::Update, &incident, &setup.config)?;
    draft.message = message.to_string();
    compose_and_send(setup, &desk, &draft, yes, now, out)
}

/// `breachdesk outbox list`.
pub fn outbox_list(setup: &Setup, now: DateTime<Utc>, out: &mut impl Write) -> Result<()> {
    let tz = setup.tz()?;
    let notices = outbox::list(&outbox::outbox_dir(&setup.data_dir))?;
    if notices.is_empty() {
        writeln!(out, "The outbox is empty.")?;
        return Ok(());
    }
    for q in notices {
        let n = &q.notice;
        match q.state {
            NoticeState::Pending => {
                let next = q
                    .next_attempt_at
                    .map(|t| {
                        if t <= now {
                            "now".to_string()
                        } else {
                            local(t, tz)
                        }
                    })
                    .unwrap_or_else(|| "-".into());
                writeln!(
                    out,
                    "PENDING  {}  {}  {}  to {}  attempts {}  next {}{}",
                    n.id,
                    n.incident_id,
                    n.kind.as_str(),
                    n.to.join(", "),
                    q.attempts.len(),
                    next,
                    q.last_error()
                        .map(|e| format!("  last error: {}", one_line(e)))
                        .unwrap_or_default()
                )?;
            }
            NoticeState::Sent => {
                let sent = q.sent.as_ref();
                writeln!(
                    out,
                    "SENT     {}  {}  {}  to {}  at {}  {}",
                    n.id,
                    n.incident_id,
                    n.kind.as_str(),
                    n.to.join(", "),
                    sent.map(|s| local(s.accepted_at, tz)).unwrap_or_default(),
                    sent.map(|s| one_line(&s.reply)).unwrap_or_default()
                )?;
            }
        }
    }
    Ok(())
}

/// `breachdesk outbox retry [ID]`: try one pending notice, or all, now.
pub fn outbox_retry(
    setup: &Setup,
    id: Option<&str>,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let smtp = smtp(setup)?;
    let desk = setup.desk()?;
    // First, any acceptance a crash kept out of its incident.
    for line in desk.reconcile_outbox(now) {
        writeln!(out, "{}", one_line(&line))?;
    }
    let dir = outbox::outbox_dir(&setup.data_dir);
    let ids: Vec<String> = match id {
        Some(id) => vec![id.to_string()],
        None => outbox::pending(&dir)?
            .iter()
            .map(|q| q.id().to_string())
            .collect(),
    };
    if ids.is_empty() {
        writeln!(out, "Nothing is waiting in the outbox.")?;
        return Ok(());
    }
    let mut failed = 0;
    for id in &ids {
        outbox::retry_now(&dir, id, now)?;
        if let Err(e) = deliver_and_record(&desk, &dir, id, smtp, out) {
            failed += 1;
            eprintln!(
                "breachdesk: {}",
                crate::text::one_line(&format!("{id}: {e:#}"))
            );
        }
    }
    if failed > 0 {
        bail!("{failed} of {} notices could not be sent", ids.len());
    }
    Ok(())
}

/// `breachdesk config check`: connect to the SMTP server (no mail is sent).
pub fn check_connection(setup: &Setup, out: &mut impl Write) -> Result<()> {
    let Some(smtp) = setup.config.smtp.as_ref() else {
        writeln!(out, "no [smtp] section: email notices are off")?;
        return Ok(());
    };
    let said = runtime()?.block_on(crate::mail::transport::check_connection(smtp))?;
    writeln!(out, "smtp {}: {}", smtp.host, one_line(&said))?;
    Ok(())
}
