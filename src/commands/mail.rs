//! The email commands (`notify` by email, `report`, `supply`, `update`,
//! `outbox`): a thin adapter over the desk's notice service
//! ([`crate::desk::NoticeRequest`], `Desk::compose_notice`,
//! `Desk::send_notice`, ...). It shows the exact message, asks (or takes
//! `--yes`), and prints what happened.

use crate::cli::NotifyArgs;
use crate::desk::{Attempted, Desk, NoticeRequest};
use crate::domain::incident::DeliveryState;
use crate::domain::notice::NoticeKind;
use crate::mail::outbox::QueuedNotice;
use crate::mail::render_preview;
use crate::present::local;
use crate::setup::Setup;
use crate::text::one_line;
use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

fn desk(setup: &Setup) -> Result<Desk> {
    if setup.config.smtp.is_none() {
        bail!(
            "no [smtp] section in {}: add one (breachdesk config init shows an example), or record a phone or in-person notification with --channel",
            setup.config_path.display()
        );
    }
    setup.desk()
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

/// Composes, shows, confirms, sends and says how it went. Exits non-zero
/// unless the server accepted the notice.
fn compose_and_send(
    setup: &Setup,
    mut req: NoticeRequest,
    yes: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = desk(setup)?;
    req.templates = setup.templates_dir();
    let composed = desk.compose_notice(req, now)?;
    if !composed.missing.is_empty() {
        writeln!(out, "Still missing from this report:")?;
        for m in &composed.missing {
            writeln!(out, "  - {}", one_line(m))?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{}", render_preview(&composed.notice))?;
    out.flush()?;
    if !confirm("Send this notice?", yes)? {
        writeln!(out, "Not sent; nothing was queued.")?;
        return Ok(());
    }
    let attempted = desk.send_notice(composed.notice, Utc::now().max(now))?;
    said(&attempted, out)
}

fn said(attempted: &Attempted, out: &mut impl Write) -> Result<()> {
    if attempted.sent() {
        writeln!(out, "{}", one_line(&attempted.said))?;
        Ok(())
    } else {
        bail!("{}", one_line(&attempted.said))
    }
}

fn cc_list(cc: &[String]) -> Vec<String> {
    cc.iter()
        .flat_map(|c| crate::address::split_addresses(c))
        .collect()
}

/// `breachdesk notify ID` by email: the paragraph 8.1 notification.
pub fn notify(
    setup: &Setup,
    args: &NotifyArgs,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let mut req = NoticeRequest::new(&args.id, NoticeKind::Notification);
    req.first_actions = args.first_actions.clone();
    req.to = args.to.clone();
    req.add_cc = cc_list(&args.cc);
    req.again = args.again.clone();
    req.delay_reason = args.delay_reason.clone();
    if req.delay_reason.is_none() && req.again.is_none() {
        let desk = desk(setup)?;
        let incident = desk.load(&args.id)?;
        if incident.notification.made_at.is_none() && now > incident.notification.due_at {
            req.delay_reason = ask(&format!(
                "The notification was due by {}. Reason for the delay:",
                local(incident.notification.due_at, desk.tz())
            ))?;
        }
    }
    compose_and_send(setup, req, args.yes, now, out)
}

/// `breachdesk report ID`: the 8.2.1 (f) full-details report.
pub fn report(
    setup: &Setup,
    id: &str,
    cc: &[String],
    yes: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let mut req = NoticeRequest::new(id, NoticeKind::FullReport);
    req.add_cc = cc_list(cc);
    compose_and_send(setup, req, yes, now, out)
}

/// `breachdesk supply ID REQUEST --attach FILE...`: 8.2.1 (e) data supply.
#[allow(clippy::too_many_arguments)]
pub fn supply(
    setup: &Setup,
    id: &str,
    request: &str,
    attach: Vec<PathBuf>,
    cc: &[String],
    yes: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let mut req = NoticeRequest::new(id, NoticeKind::DataSupply);
    req.request = Some(request.to_string());
    req.files = attach;
    req.add_cc = cc_list(cc);
    compose_and_send(setup, req, yes, now, out)
}

/// `breachdesk update ID --message TEXT`: a free-form update.
pub fn update(
    setup: &Setup,
    id: &str,
    message: &str,
    cc: &[String],
    yes: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    if message.trim().is_empty() {
        bail!("--message is empty");
    }
    let mut req = NoticeRequest::new(id, NoticeKind::Update);
    req.message = message.to_string();
    req.add_cc = cc_list(cc);
    compose_and_send(setup, req, yes, now, out)
}

/// One outbox row for `outbox list --format json`.
#[derive(serde::Serialize)]
struct OutboxJson<'a> {
    id: &'a str,
    incident: &'a str,
    kind: &'a str,
    state: &'a str,
    attempts: usize,
    next_attempt_at: Option<String>,
    last_error: Option<String>,
    message_id: &'a str,
    to: &'a [String],
    cc: &'a [String],
    queued_at: String,
    accepted_at: Option<String>,
    server_reply: Option<String>,
    cancel_reason: Option<String>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `breachdesk outbox list [--format table|json]`.
pub fn outbox_list(
    setup: &Setup,
    json: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = setup.reader()?;
    let tz = desk.tz();
    let notices: Vec<QueuedNotice> = desk.outbox_notices()?;
    if json {
        let rows: Vec<OutboxJson<'_>> = notices
            .iter()
            .map(|q| OutboxJson {
                id: q.id(),
                incident: &q.notice.incident_id,
                kind: q.notice.kind.as_str(),
                state: q.effective_state().as_str(),
                attempts: q.attempts.len(),
                next_attempt_at: q.next_attempt_at.map(rfc3339),
                last_error: q.last_error().map(one_line),
                message_id: &q.notice.message_id,
                to: &q.notice.to,
                cc: &q.notice.cc,
                queued_at: rfc3339(q.queued_at),
                accepted_at: q.sent.as_ref().map(|s| rfc3339(s.accepted_at)),
                server_reply: q.server_reply().map(|r| one_line(&r)),
                cancel_reason: q.cancelled.as_ref().map(|c| one_line(&c.reason)),
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    let refused = crate::mail::screen::refused(&desk.outbox_dir());
    for (file, why) in &refused {
        writeln!(
            out,
            "REFUSED  outbox/refused/{}  not sent: {}",
            one_line(file),
            one_line(why)
        )?;
    }
    if notices.is_empty() {
        if refused.is_empty() {
            writeln!(out, "The outbox is empty.")?;
        }
        return Ok(());
    }
    for q in notices {
        let n = &q.notice;
        let state = q.effective_state();
        let head = format!(
            "{:<9}{}  {}  {}  to {}",
            state.as_str().to_ascii_uppercase(),
            n.id,
            n.incident_id,
            n.kind.as_str(),
            one_line(&n.to.join(", "))
        );
        let next = || {
            q.next_attempt_at
                .map(|t| {
                    if t <= now {
                        "now".to_string()
                    } else {
                        local(t, tz)
                    }
                })
                .unwrap_or_else(|| "-".into())
        };
        let error = q
            .last_error()
            .map(|e| format!("  last error: {}", one_line(e)))
            .unwrap_or_default();
        let refusal = matches!(
            state,
            DeliveryState::Pending | DeliveryState::Unknown | DeliveryState::Failed
        )
        .then(|| desk.outbox_refusal(&q))
        .flatten();
        let line = match state {
            _ if refusal.is_some() => format!(
                "{head}  WILL NOT BE SENT: {} (moved to outbox/refused/ by the next outbox round)",
                one_line(refusal.as_deref().unwrap_or_default())
            ),
            DeliveryState::Pending => {
                format!(
                    "{head}  attempts {}  next {}{error}",
                    q.attempts.len(),
                    next()
                )
            }
            DeliveryState::Unknown => format!(
                "{head}  attempts {}  next {}  MAY HAVE ARRIVED: it will be sent again with the same Message-ID {}{error}",
                q.attempts.len(),
                next(),
                n.message_id
            ),
            DeliveryState::Failed => format!(
                "{head}  attempts {}  REFUSED: {}  not retried automatically: outbox retry {} or outbox cancel {} --reason TEXT",
                q.attempts.len(),
                one_line(&q.server_reply().unwrap_or_default()),
                n.id,
                n.id
            ),
            DeliveryState::Sent => {
                let sent = q.sent.as_ref();
                format!(
                    "{head}  at {}  {}",
                    sent.map(|s| local(s.accepted_at, tz)).unwrap_or_default(),
                    sent.map(|s| one_line(&s.reply)).unwrap_or_default()
                )
            }
            DeliveryState::Cancelled => format!(
                "{head}  reason: {}",
                q.cancelled
                    .as_ref()
                    .map(|c| one_line(&c.reason))
                    .unwrap_or_default()
            ),
        };
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `breachdesk outbox retry [ID]`: one notice now, on purpose (a failed
/// one too), or every pending and unknown one.
pub fn outbox_retry(
    setup: &Setup,
    id: Option<&str>,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = desk(setup)?;
    // First, anything a crash kept out of its incident.
    for line in desk.reconcile_outbox(now) {
        writeln!(out, "{}", one_line(&line))?;
    }
    if let Some(id) = id {
        let attempted = desk.retry_notice(id, now)?;
        return said(&attempted, out);
    }
    let waiting: Vec<QueuedNotice> = desk.notices_to_go()?;
    if waiting.is_empty() {
        writeln!(out, "Nothing is waiting in the outbox.")?;
        return Ok(());
    }
    let (mut tried, mut failed) = (0, 0);
    for q in &waiting {
        if q.state == DeliveryState::Failed {
            writeln!(
                out,
                "{}: refused for good earlier; not retried (outbox retry {} to try on purpose)",
                q.id(),
                q.id()
            )?;
            continue;
        }
        tried += 1;
        let _ = crate::mail::outbox::retry_now(&desk.outbox_dir(), q.id(), now);
        match desk.deliver_notice(q.id(), now) {
            Ok(a) if a.sent() => writeln!(out, "{}", one_line(&a.said))?,
            Ok(a) => {
                failed += 1;
                eprintln!("breachdesk: {}", one_line(&a.said));
            }
            Err(e) => {
                failed += 1;
                eprintln!("breachdesk: {}", one_line(&format!("{}: {e:#}", q.id())));
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {tried} notices could not be sent");
    }
    Ok(())
}

/// `breachdesk outbox cancel ID --reason TEXT`.
pub fn outbox_cancel(
    setup: &Setup,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = setup.desk()?;
    let changed = desk.cancel_notice(id, reason, now)?;
    writeln!(
        out,
        "{}: notice {id} cancelled; the reason is recorded on the incident and in the audit log",
        changed.incident.id
    )?;
    Ok(())
}
