//! `breachdesk sync` and `breachdesk sync init REMOTE`: team sync of the
//! data directory through git (see [`crate::desk::Desk::sync`]).

use crate::cli::SyncCommand;
use crate::desk::SyncInit;
use crate::setup::Setup;
use crate::sync::SyncError;
use crate::text::one_line;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use std::io::Write;

/// This program, which git runs as the record merge driver.
fn this_program() -> Result<std::path::PathBuf> {
    std::env::current_exe().context(
        "cannot tell where this breachdesk program is (needed to register the record merge driver)",
    )
}

/// `breachdesk sync [init REMOTE]`.
pub fn sync(
    setup: &Setup,
    command: Option<SyncCommand>,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let exe = this_program()?;
    match command {
        None => {
            let desk = setup.desk()?;
            let report = desk.sync(&exe, now)?;
            writeln!(out, "{}", one_line(&report.to_string()))?;
            for refusal in &report.refused {
                eprintln!("{}", one_line(&refusal.to_string()));
            }
            if !report.refused.is_empty() {
                anyhow::bail!(
                    "sync refused {} incoming record(s) (named above); the rest of the sync is done",
                    report.refused.len()
                );
            }
            Ok(())
        }
        Some(SyncCommand::Init { remote }) => init(setup, &remote, &exe, now, out),
    }
}

fn init(
    setup: &Setup,
    remote: &str,
    exe: &std::path::Path,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let dir = &setup.data_dir;
    let shown = one_line(&crate::sync::git::redact(remote));
    if !crate::sync::is_repository(dir) {
        // Asked before anything is created here: opening the desk makes
        // the directory's (machine-local) files.
        if let Some(branch) = crate::sync::remote_branch(remote)? {
            if crate::sync::holds_data(dir) {
                return Err(SyncError::BothHaveHistory {
                    remote: remote.to_string(),
                    dir: dir.clone(),
                }
                .into());
            }
            let identity = crate::sync::identity(&setup.config);
            crate::sync::join(dir, identity, remote, &branch, exe)?;
            let _ = crate::sync::SyncState {
                last_synced_at: Some(now),
                ..Default::default()
            }
            .write(dir);
            let desk = setup.desk()?;
            let (all, _) = desk.summaries();
            writeln!(
                out,
                "{}: joined {shown} (branch {}): {} incident(s); `breachdesk sync` (or S in the console) keeps it in step",
                dir.display(),
                one_line(&branch),
                all.len()
            )?;
            return Ok(());
        }
    }
    let desk = setup.desk()?;
    match desk.sync_publish(remote, exe, now)? {
        SyncInit::Published { files, .. } => writeln!(
            out,
            "{}: published {files} file(s) (records and audit trail) to {shown}; on each other machine run `breachdesk sync init {shown}` with an empty data directory",
            dir.display()
        )?,
        SyncInit::Refreshed { .. } => writeln!(
            out,
            "{}: already synced with {shown}; .gitattributes, .gitignore and the record merge driver written again",
            dir.display()
        )?,
    }
    Ok(())
}
