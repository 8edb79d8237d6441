//! The config file (`config init|check|path`) and the playbooks in force
//! (`playbook list|show|check`).

use crate::cli::{ConfigCommand, PlaybookCommand};
use crate::config::Config;
use crate::playbooks::read_playbook;
use crate::setup::Setup;
use crate::text::{one_line, terminal_safe};
use anyhow::{Context, Result, anyhow, bail};
use std::io::Write;

/// `breachdesk playbook list|show|check`.
pub fn playbook(setup: &Setup, cmd: PlaybookCommand, out: &mut impl Write) -> Result<()> {
    match cmd {
        PlaybookCommand::List => {
            let set = setup.playbooks();
            for p in &set.playbooks {
                writeln!(
                    out,
                    "{}\tv{}\t{}\t{}\t({})",
                    p.name,
                    p.version,
                    p.steps.len(),
                    one_line(&p.title),
                    one_line(&p.source)
                )?;
            }
            Ok(())
        }
        PlaybookCommand::Show { name } => {
            let set = setup.playbooks();
            let p = set.get(&name).ok_or_else(|| {
                let names: Vec<&str> = set.playbooks.iter().map(|p| p.name.as_str()).collect();
                anyhow!("no playbook '{name}' (have: {})", names.join(", "))
            })?;
            writeln!(out, "{} v{} — {}", p.name, p.version, one_line(&p.title))?;
            writeln!(
                out,
                "Implements: {}   Source: {}",
                one_line(&p.clause),
                one_line(&p.source)
            )?;
            if !p.description.is_empty() {
                writeln!(out, "\n{}", terminal_safe(&p.description, true))?;
            }
            for s in &p.steps {
                writeln!(out)?;
                let mut flags = Vec::new();
                if !s.required {
                    flags.push("optional".to_string());
                }
                if let Some(clock) = &s.clock {
                    flags.push(clock.describe());
                }
                if !s.depends_on.is_empty() {
                    flags.push(format!("after {}", s.depends_on.join(", ")));
                }
                if !s.when.is_empty() {
                    let when: Vec<String> = s.when.iter().cloned().map(String::from).collect();
                    flags.push(format!("when {}", when.join(" and ")));
                }
                writeln!(
                    out,
                    "[{}] {}  ({})",
                    s.id,
                    one_line(&s.title),
                    flags.join("; ")
                )?;
                for line in s.guidance.lines() {
                    writeln!(out, "    {}", one_line(line))?;
                }
            }
            Ok(())
        }
        PlaybookCommand::Check { file } => {
            let p = read_playbook(&file)?;
            writeln!(
                out,
                "{}: ok ({} v{}, {} steps)",
                file.display(),
                p.name,
                p.version,
                p.steps.len()
            )?;
            Ok(())
        }
    }
}

/// `breachdesk config init|check|path`.
pub fn config(setup: &Setup, cmd: ConfigCommand, out: &mut impl Write) -> Result<()> {
    match cmd {
        ConfigCommand::Path => {
            writeln!(out, "{}", setup.config_path.display())?;
            Ok(())
        }
        ConfigCommand::Init => {
            let path = &setup.config_path;
            if path.exists() {
                bail!(
                    "{} already exists; edit it or remove it first",
                    path.display()
                );
            }
            if let Some(dir) = path.parent() {
                crate::durable::ensure_private_dir(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            crate::durable::create_private_file(path, crate::config::EXAMPLE.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(out, "wrote {}", path.display())?;
            Ok(())
        }
        ConfigCommand::Check => {
            // Setup::resolve already parsed and validated it; the
            // addresses are checked here too.
            Config::check(&setup.config_path)?;
            let exists = setup.config_path.exists();
            setup.calendar(None)?;
            writeln!(
                out,
                "{}: {}",
                setup.config_path.display(),
                if exists {
                    "ok"
                } else {
                    "not found; using defaults"
                }
            )?;
            check_connection(setup, out)
        }
    }
}

/// `breachdesk config check`: connect to the SMTP server (no mail is sent).
fn check_connection(setup: &Setup, out: &mut impl Write) -> Result<()> {
    let Some(smtp) = setup.config.smtp.as_ref() else {
        writeln!(out, "no [smtp] section: email notices are off")?;
        return Ok(());
    };
    let said = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(crate::mail::transport::check_connection(smtp))
        .map_err(|e| anyhow!("{e}"))?;
    writeln!(out, "smtp {}: {}", smtp.host, one_line(&said))?;
    Ok(())
}
