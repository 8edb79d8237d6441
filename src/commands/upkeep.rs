//! Keeping the data directory: the audit log (`audit verify|list|repair|prune`),
//! the quarantine (`quarantine list|sweep|restore`) and demo data (`demo`).

use crate::cli::{AuditCommand, QuarantineCommand, VerifyFormat};
use crate::desk::AuditCheck;
use crate::desk::DeskError;
use crate::setup::Setup;
use crate::text::one_line;
use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, Utc};
use std::io::Write;

/// `breachdesk audit verify|list|repair|prune`.
pub fn audit(
    setup: &Setup,
    cmd: AuditCommand,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        AuditCommand::Verify { format } => {
            let desk = setup.reader()?;
            let check = desk.verify_audit(now)?;
            if format == VerifyFormat::Json {
                serde_json::to_writer_pretty(&mut *out, &verify_json(&check))?;
                writeln!(out)?;
            } else {
                for line in verify_lines(&check) {
                    writeln!(out, "{line}")?;
                }
            }
            let log = one_line(&check.log.display().to_string());
            let mut failed = Vec::new();
            if let Some(broken) = check.chain.chains.iter().find(|c| c.first_break.is_some())
                && let Some(first) = &broken.first_break
            {
                failed.push(format!(
                    "{}: hash chain broken at {} ({} entries before it verified)",
                    broken.file.display(),
                    one_line(&first.to_string()),
                    broken.entries
                ));
            }
            let findings = check.chain.findings.iter().filter(|f| f.failure).count();
            if findings > 0 {
                failed.push(format!(
                    "{log}: {findings} problem(s) with the chains' signers, signatures or heads (listed above)"
                ));
            }
            let unaccounted = check.accounting.iter().filter(|p| p.failure).count();
            if unaccounted > 0 {
                failed.push(format!(
                    "{log}: {unaccounted} record problem(s): saved revisions not accounted for in the audit log, or records unreadable or missing (listed above)"
                ));
            }
            if !failed.is_empty() {
                bail!("{}", failed.join("; "));
            }
            if format == VerifyFormat::Json {
                return Ok(());
            }
            let chains = check.chain.chains.len();
            writeln!(
                out,
                "{log}: ok, {} entries in {chains} chain{}, every hash chain intact and signed by its pinned signer{}; every saved record revision has its entry; {}, head {}",
                check.chain.entries,
                if chains == 1 { "" } else { "s" },
                if check.chain.pruned > 0 {
                    format!(" ({} older entries pruned)", check.chain.pruned)
                } else {
                    String::new()
                },
                match check.chain.chains.iter().find(|c| c.own) {
                    Some(own) => format!(
                        "this machine's chain {}",
                        one_line(&own.file.display().to_string())
                    ),
                    None => "this machine has no chain yet".to_string(),
                },
                check.chain.last_hash
            )?;
            Ok(())
        }
        AuditCommand::List { id } => {
            let desk = setup.reader()?;
            let entries = desk.audit_entries(id.as_deref())?;
            for e in entries {
                writeln!(
                    out,
                    "{:<8.8}  {:>6}  {}  {:<16}  {:<24}  {:<22}  {}",
                    one_line(&e.chain),
                    e.seq,
                    e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    one_line(&e.actor),
                    one_line(e.incident.as_deref().unwrap_or("-")),
                    one_line(&e.action),
                    one_line(&e.detail)
                )?;
            }
            Ok(())
        }
        AuditCommand::Repair => {
            let desk = setup.desk()?;
            let report = desk.repair_audit(now)?;
            match report.saved_to {
                Some(saved) => writeln!(
                    out,
                    "set aside {} torn bytes (kept in {}); the hash chain verifies again",
                    report.removed_bytes,
                    saved.display()
                )?,
                None => writeln!(out, "nothing to repair: the hash chain verifies")?,
            }
            Ok(())
        }
        AuditCommand::Prune { older_than_days } => {
            let desk = setup.desk()?;
            let report =
                desk.prune_audit(now, older_than_days)
                    .map_err(|e| match (older_than_days, e) {
                        (Some(days), e @ DeskError::Invalid(_)) => {
                            anyhow!("--older-than-days {days}: {e}")
                        }
                        (_, e) => anyhow!(e),
                    })?;
            writeln!(
                out,
                "pruned {} entries older than {}; kept {}; {} record revision(s) carried forward",
                report.pruned,
                report
                    .cutoff
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                report.kept,
                report.checkpoints
            )?;
            Ok(())
        }
    }
}

/// `breachdesk quarantine list|sweep|restore`.
pub fn quarantine(
    setup: &Setup,
    cmd: QuarantineCommand,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        QuarantineCommand::Sweep => {
            let desk = setup.desk()?;
            let problems = desk.sweep_quarantine();
            if problems.is_empty() {
                writeln!(out, "nothing to move: every record in incidents/ parses")?;
            }
            for problem in problems {
                writeln!(out, "{}", one_line(&problem.to_string()))?;
            }
            Ok(())
        }
        QuarantineCommand::List => {
            let desk = setup.reader()?;
            let rows = desk.quarantined()?;
            if rows.is_empty() {
                writeln!(
                    out,
                    "{}: empty (every record parses)",
                    desk.quarantine_dir().display()
                )?;
                return Ok(());
            }
            for row in rows {
                let q = row.file;
                let name = q
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let state = match row.restorable {
                    Ok(()) => format!("parses now: breachdesk quarantine restore {name}"),
                    Err(e) => format!("not restorable: {e}"),
                };
                writeln!(
                    out,
                    "{}\t{}\t{} bytes\t{}",
                    q.path.display(),
                    q.id.as_deref().unwrap_or("-"),
                    q.size,
                    one_line(&state)
                )?;
            }
            Ok(())
        }
        QuarantineCommand::Restore { file } => {
            let desk = setup.desk()?;
            let incident = desk.restore_quarantined(&file, now)?;
            writeln!(
                out,
                "{}: restored to {} (revision {})",
                incident.id,
                desk.record_path(&incident.id).display(),
                incident.revision
            )?;
            Ok(())
        }
    }
}

/// `breachdesk demo`: fill an empty data directory with demo incidents.
pub fn demo(
    setup: &Setup,
    incidents: usize,
    open: Option<usize>,
    seed: u64,
    force: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    if incidents > 100_000 {
        bail!("--incidents {incidents}: at most 100000");
    }
    let mut plan = crate::demo::DemoPlan::new(incidents, seed);
    if let Some(open) = open {
        if open > incidents {
            bail!("--open {open} is more than --incidents {incidents}");
        }
        plan.open = open;
    }
    let report = crate::demo::generate(&setup.desk()?, plan, force, now)?;
    writeln!(
        out,
        "{}: {} demo incidents ({} open, {} closed, {} repeat root causes). Open the console with: breachdesk --data-dir {}",
        setup.data_dir.display(),
        report.open + report.closed,
        report.open,
        report.closed,
        report.repeats,
        setup.data_dir.display()
    )?;
    Ok(())
}

/// `audit verify`'s findings, one line each: the chains' (signers,
/// signatures, heads), then the records'.
fn verify_lines(check: &AuditCheck) -> Vec<String> {
    let label = |failure: bool| if failure { "FAIL" } else { "note" };
    let mut lines = Vec::new();
    for f in &check.chain.findings {
        lines.push(format!(
            "{}  {}",
            label(f.failure),
            one_line(&f.to_string())
        ));
    }
    for p in &check.accounting {
        lines.push(format!(
            "{}  {}",
            label(p.failure),
            one_line(&p.to_string())
        ));
    }
    lines
}

/// `audit verify --format json`: every chain and every finding. Field names
/// are stable (README, "audit verify --format json").
fn verify_json(check: &AuditCheck) -> serde_json::Value {
    use serde_json::json;
    let level = |failure: bool| if failure { "fail" } else { "note" };
    let mut findings = Vec::new();
    for c in &check.chain.chains {
        if let Some(b) = &c.first_break {
            findings.push(json!({
                "level": "fail",
                "kind": "chain-broken",
                "file": c.file,
                "chain": c.chain,
                "line": b.line,
                "seq": b.seq,
                "message": b.message,
            }));
        }
    }
    for f in &check.chain.findings {
        findings.push(json!({
            "level": level(f.failure),
            "kind": f.kind,
            "file": f.file,
            "chain": f.chain,
            "line": f.line,
            "seq": f.seq,
            "message": f.message,
        }));
    }
    for p in &check.accounting {
        findings.push(json!({
            "level": level(p.failure),
            "kind": p.kind,
            "file": p.file,
            "incident": p.incident,
            "revision": p.revision,
            "message": p.message,
        }));
    }
    let ok = !findings.iter().any(|f| f["level"] == "fail");
    json!({
        "ok": ok,
        "audit_dir": check.log,
        "entries": check.chain.entries,
        "pruned": check.chain.pruned,
        "head": check.chain.last_hash,
        "chains": check.chain.chains.iter().map(|c| json!({
            "chain": c.chain,
            "file": c.file,
            "own": c.own,
            "entries": c.entries,
            "pruned": c.pruned,
            "head": c.last_hash,
        })).collect::<Vec<_>>(),
        "findings": findings,
    })
}
