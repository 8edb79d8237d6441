//! The contract both ways: opening an incident the other party identified
//! (`new --identified-by other-party`), data requests on the Client's
//! request (`request add`, `request supplied`), saved emails (`--from-eml`),
//! and Security Tests (`security-test`).

use super::common::{parse_date, past, report_change};
use crate::cli::{AddRequestArgs, EndRequestArgs, NewArgs, RequestCommand, SecurityTestCommand};
use crate::desk::{Desk, NewDataRequest, NewFinding, NewSecurityTest};
use crate::domain::incident::{
    Channel, DataDestination, IdentifiedBy, IncomingNotice, LegacyRequester, NewIncident,
    RequestEnding,
};
use crate::eml::IncomingMail;
use crate::present::{local, local_rfc3339};
use crate::setup::Setup;
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
    let identified_by = args.identified_by;
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
                (Some(text), _) => (past(text, "--received-at", now, tz)?, None),
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
                (Some(c), _) => *c,
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
        (Some(text), _) => past(text, "--identified-at", now, tz)?,
        // The other party's notice may not say when it identified the
        // breach: take the receipt time unless told otherwise.
        (None, Some(n)) => n.received_at,
        (None, None) => now,
    };
    let fields = NewIncident {
        title,
        summary,
        kind: args.kind,
        severity: args.severity,
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

/// `breachdesk request add|supplied`.
pub fn request(
    setup: &Setup,
    cmd: RequestCommand,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = setup.desk()?;
    match cmd {
        RequestCommand::Add(args) => request_add(&desk, args, now, out),
        RequestCommand::Supplied {
            id,
            request,
            how,
            at,
            files,
        } => {
            let at = past(&at, "--at", now, desk.tz())?;
            let changed = desk.supply_request(&id, &request, at, &how, &files, now)?;
            report_change(out, &changed, &format!("request {request} supplied"))
        }
        RequestCommand::Withdrawn(args) => {
            request_end(&desk, args, RequestEnding::WithdrawnByClient, now, out)
        }
        RequestCommand::NotSupplied(args) => {
            request_end(&desk, args, RequestEnding::NotSupplied, now, out)
        }
    }
}

/// `breachdesk request withdrawn|not-supplied ID R --reason TEXT [--at T]`.
fn request_end(
    desk: &Desk,
    args: EndRequestArgs,
    ending: RequestEnding,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let at = past(&args.at, "--at", now, desk.tz())?;
    let changed = desk.end_request(&args.id, &args.request, ending, &args.reason, at, now)?;
    let said = match ending {
        RequestEnding::WithdrawnByClient => "withdrawn by the Client",
        RequestEnding::NotSupplied => "recorded as not supplied",
    };
    report_change(out, &changed, &format!("request {} {said}", args.request))
}

/// `breachdesk request add`: who asked, where the data goes, and when it
/// is due.
fn request_add(
    desk: &Desk,
    args: AddRequestArgs,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let tz = desk.tz();
    let AddRequestArgs {
        id,
        requester,
        deliver_to,
        name,
        what,
        received,
        reference,
        from_eml,
    } = args;
    let deliver_to = match (requester, deliver_to) {
        (_, Some(d)) => d,
        (Some(LegacyRequester::Client), None) => DataDestination::Client,
        (Some(LegacyRequester::GovCertUk), None) => DataDestination::GovCertUk,
        (Some(LegacyRequester::Other), None) => bail!(
            "--from other: 8.2.1 (e) covers data asked for on the Client's request, supplied to the Client or GovCertUK; \
             record another party's request as a timeline entry (breachdesk log)"
        ),
        (None, None) => DataDestination::Client,
    };
    let mail = from_eml.as_deref().map(read_eml).transpose()?;
    let (received_at, source) = match (&received, &mail) {
        (Some(text), _) => (past(text, "--received", now, tz)?, None),
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
