//! The command line for the contract both ways: opening an incident the
//! other party identified (`new --identified-by other-party`), data requests
//! on the Client's request (`request add`), saved emails (`--from-eml`),
//! the Client's written relief notice, and Security Tests.

use crate::cli::{NewArgs, RequestCommand, SecurityTestCommand};
use crate::commands::{Setup, parse_date, parse_enum, report_change};
use crate::desk::{Desk, NewDataRequest, NewFinding, NewSecurityTest};
use crate::domain::incident::{
    BreachKind, Channel, DataDestination, IdentifiedBy, IncomingNotice, NewIncident, ReliefNotice,
    RootCauseCategory, Severity, TestClause,
};
use crate::domain::when::parse_past;
use crate::eml::IncomingMail;
use crate::present::{local, local_rfc3339};
use crate::text::one_line;
use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, Utc};
use std::io::Write;
use std::path::Path;

/// Reads and parses a saved email; errors name the file.
fn read_eml(path: &Path) -> Result<IncomingMail> {
    let bytes = std::fs::read(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    crate::eml::read(&bytes, &path.display().to_string()).map_err(|e| anyhow!(e))
}

fn date_source(path: &Path) -> String {
    format!("the Date: header of {}", path.display())
}

/// `breachdesk new`: identified by us (the 1-hour clock runs), or by the
/// other party (its notice is recorded; no clock runs for us).
pub fn new(setup: &Setup, args: NewArgs, now: DateTime<Utc>, out: &mut impl Write) -> Result<()> {
    let tz = setup.tz()?;
    let identified_by: IdentifiedBy = parse_enum(&args.identified_by, "--identified-by")?;
    let mail = args.from_eml.as_deref().map(read_eml).transpose()?;
    if identified_by == IdentifiedBy::Us {
        for (given, flag) in [
            (args.received_at.is_some(), "--received-at"),
            (args.received_from.is_some(), "--received-from"),
            (args.channel.is_some(), "--channel"),
            (args.reference.is_some(), "--reference"),
            (args.from_eml.is_some(), "--from-eml"),
        ] {
            if given {
                bail!(
                    "{flag} describes the other party's notice: give --identified-by other-party"
                );
            }
        }
    }
    let title = match (&args.title, &mail) {
        (Some(t), _) => t.clone(),
        (None, Some(m)) if !m.subject.is_empty() => m.subject.clone(),
        (None, Some(_)) => bail!(
            "{}: no Subject: header to use as the title (give --title)",
            args.from_eml
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ),
        (None, None) => bail!("--title: say what happened"),
    };
    let summary = match (&mail, args.summary.is_empty()) {
        (Some(m), true) => m.body.clone(),
        _ => args.summary.clone(),
    };
    let notice = match identified_by {
        IdentifiedBy::Us => None,
        IdentifiedBy::OtherParty => {
            let (received_at, source) = match (&args.received_at, &mail) {
                (Some(text), _) => (
                    parse_past(text, now, tz).map_err(|e| anyhow!("--received-at: {e}"))?,
                    None,
                ),
                (None, Some(m)) => (m.date, args.from_eml.as_deref().map(date_source)),
                (None, None) => bail!(
                    "--received-at: say when the other party's notice reached us (or give --from-eml FILE)"
                ),
            };
            let from = match (&args.received_from, &mail) {
                (Some(f), _) => f.clone(),
                (None, Some(m)) => m.from.clone(),
                (None, None) => bail!("--received-from: say who gave the notice"),
            };
            let channel = match (&args.channel, &mail) {
                (Some(c), _) => parse_enum::<Channel>(c, "--channel")?,
                (None, Some(_)) => Channel::Email,
                (None, None) => {
                    bail!("--channel: say how the notice came (email, phone, in-person, other)")
                }
            };
            let reference = args
                .reference
                .clone()
                .or_else(|| mail.as_ref().map(|m| m.message_id.clone()));
            Some(IncomingNotice {
                received_at,
                from,
                channel,
                reference,
                source,
            })
        }
    };
    let identified_at = match (&args.identified_at, &notice) {
        (Some(text), _) => {
            parse_past(text, now, tz).map_err(|e| anyhow!("--identified-at: {e}"))?
        }
        // The other party's notice may not say when it identified the
        // breach: take the receipt time unless told otherwise.
        (None, Some(n)) => n.received_at,
        (None, None) => now,
    };
    let fields = NewIncident {
        title,
        summary,
        kind: parse_enum::<BreachKind>(&args.kind, "--kind")?,
        severity: parse_enum::<Severity>(&args.severity, "--severity")?,
        personal_data: args.personal_data,
        government_data: args.government_data,
        affected_assets: args.assets,
        identified_at,
    };
    let desk = setup.desk()?;
    let incident = match notice {
        None => desk.open_incident(fields, now)?,
        Some(notice) => {
            let said = format!(
                "notice received {} ({}){}",
                local_rfc3339(notice.received_at, tz),
                local(notice.received_at, tz),
                notice
                    .source
                    .as_deref()
                    .map(|s| format!(", from {s}"))
                    .unwrap_or_default()
            );
            let incident = desk.open_incident_on_notice(fields, notice, now)?;
            eprintln!("breachdesk: {}: {}", incident.id, one_line(&said));
            incident
        }
    };
    writeln!(out, "{}", incident.id)?;
    Ok(())
}

/// `breachdesk request add`.
pub fn request_add(
    desk: &Desk,
    cmd: RequestCommand,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let RequestCommand::Add {
        id,
        requester,
        deliver_to,
        name,
        what,
        received,
        reference,
        from_eml,
    } = cmd
    else {
        bail!("not a request add");
    };
    let tz = desk.tz();
    let deliver_to = match (requester.as_deref(), deliver_to.as_deref()) {
        (_, Some(d)) => parse_enum::<DataDestination>(d, "--deliver-to")?,
        (Some(from), None) => match from.trim().to_ascii_lowercase().as_str() {
            "client" => DataDestination::Client,
            "govcertuk" => DataDestination::GovCertUk,
            "other" => bail!(
                "--from other: 8.2.1 (e) covers data asked for on the Client's request, supplied to the Client or GovCertUK; \
                 record another party's request as a timeline entry (breachdesk log)"
            ),
            _ => bail!("--from: '{from}' is not one of: client, govcertuk (use --deliver-to)"),
        },
        (None, None) => DataDestination::Client,
    };
    let mail = from_eml.as_deref().map(read_eml).transpose()?;
    let (received_at, source) = match (&received, &mail) {
        (Some(text), _) => (
            parse_past(text, now, tz).map_err(|e| anyhow!("--received: {e}"))?,
            None,
        ),
        (None, Some(m)) => (m.date, from_eml.as_deref().map(date_source)),
        (None, None) => (now, None),
    };
    let input = NewDataRequest {
        requester_name: name
            .or_else(|| mail.as_ref().map(|m| m.from.clone()))
            .unwrap_or_default(),
        deliver_to,
        what: what
            .or_else(|| mail.as_ref().map(IncomingMail::what))
            .unwrap_or_default(),
        received_at,
        reference: reference.or_else(|| mail.as_ref().map(|m| m.message_id.clone())),
    };
    let changed = desk.add_data_request(&id, input, now)?;
    for warning in &changed.warnings {
        eprintln!("breachdesk: warning: {}", one_line(warning));
    }
    let request = changed
        .incident
        .data_requests
        .last()
        .ok_or_else(|| anyhow!("the request was not saved"))?;
    if let Some(source) = source {
        eprintln!(
            "breachdesk: request {} received {} (from {})",
            request.id,
            local_rfc3339(request.received_at, tz),
            one_line(&source)
        );
    }
    writeln!(
        out,
        "{}: request {} due {} ({})",
        changed.incident.id,
        request.id,
        local_rfc3339(request.due_at, tz),
        local(request.due_at, tz)
    )?;
    Ok(())
}

/// The Client's written relief notice from `--relief-notice-date`,
/// `--relief-notice-ref` and `--relief-period`.
pub fn relief_notice(
    date: Option<&str>,
    reference: Option<&str>,
    period: Option<&str>,
) -> Result<Option<ReliefNotice>> {
    let Some(date) = date else {
        return Ok(None);
    };
    let dated = parse_date(date, "--relief-notice-date")?;
    Ok(Some(ReliefNotice {
        dated,
        reference: reference.unwrap_or("").to_string(),
        period: period.unwrap_or("").to_string(),
    }))
}

/// `breachdesk security-test add|finding|list`.
pub fn security_test(
    setup: &Setup,
    cmd: SecurityTestCommand,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        SecurityTestCommand::Add {
            id,
            date,
            scope,
            run_by,
            clause,
            repeats,
        } => {
            let date = parse_date(&date, "--date")?;
            let clause: TestClause = parse_enum(&clause, "--clause")?;
            let changed = setup.desk()?.add_security_test(
                &id,
                NewSecurityTest {
                    clause,
                    date,
                    scope,
                    run_by,
                    repeats,
                },
                now,
            )?;
            let test = changed
                .incident
                .security_tests
                .last()
                .ok_or_else(|| anyhow!("the test was not saved"))?;
            writeln!(
                out,
                "{}: Security Test {} saved",
                changed.incident.id, test.id
            )?;
            Ok(())
        }
        SecurityTestCommand::Finding {
            id,
            test,
            description,
            category,
            component,
        } => {
            let category: RootCauseCategory = parse_enum(&category, "--category")?;
            let changed = setup.desk()?.add_test_finding(
                &id,
                &test,
                NewFinding {
                    description,
                    category,
                    component,
                },
                now,
            )?;
            report_change(out, &changed, &format!("finding on {test} saved"))
        }
        SecurityTestCommand::List { id } => {
            let incident = setup.reader()?.load(&id)?;
            if incident.security_tests.is_empty() {
                writeln!(out, "{}: no Security Tests recorded", incident.id)?;
            }
            for t in &incident.security_tests {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}{}",
                    t.id,
                    t.date,
                    t.clause,
                    one_line(&t.run_by),
                    one_line(&t.scope),
                    t.repeats
                        .as_deref()
                        .map(|r| format!("\trepeats {r}"))
                        .unwrap_or_default()
                )?;
                for f in &t.findings {
                    writeln!(
                        out,
                        "  finding\t{}\t{}\t{}{}",
                        f.category,
                        one_line(&f.component),
                        one_line(&f.description),
                        f.same_root_cause_as
                            .as_deref()
                            .map(|s| format!(
                                "\tPARAGRAPH 6.5 (internal): same root cause as {s} on a repeat test under 6.4"
                            ))
                            .unwrap_or_default()
                    )?;
                }
            }
            Ok(())
        }
    }
}

/// The 8.1 notice is ours to give only when we identified the breach: when
/// the other party did, its notice to us is the record, and `notify` says so.
pub fn refuse_notice_when_theirs(setup: &Setup, id: &str) -> Result<()> {
    let incident = setup.reader()?.load(id)?;
    if incident.we_notify() {
        return Ok(());
    }
    bail!(
        "{}: the {} identified this breach and notified us (8.1); no notification is due from us (log a reply with: breachdesk log {} TEXT)",
        incident.id,
        incident.our_role.other_party().label(),
        incident.id
    )
}
