//! A log for bug reports: off unless asked for, and only ever a file.
//!
//! `--verbose` turns on `debug` for breachdesk; `BREACHDESK_LOG` takes a
//! filter directive instead (`info`, `debug`, `breachdesk::mail=debug`; see
//! `tracing_subscriber::EnvFilter`). Either way events go to
//! `<data dir>/logs/breachdesk.log` (0600, in a 0700 directory), appended,
//! with UTC RFC 3339 times. Nothing is ever written to the terminal: the
//! console draws on it. What is logged names incidents, revisions, actions,
//! hosts and Message-IDs, never timeline text, email bodies or credentials.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tracing_subscriber::EnvFilter;

/// The environment variable holding a filter directive.
pub const ENV: &str = "BREACHDESK_LOG";

/// `logs/breachdesk.log` under the data directory.
pub fn log_file(data_dir: &Path) -> PathBuf {
    data_dir.join("logs").join("breachdesk.log")
}

/// The filter asked for: `BREACHDESK_LOG` when set (and not empty), else
/// `breachdesk=debug` with `--verbose`, else none (logging off).
pub fn filter(env: Option<&str>, verbose: bool) -> Result<Option<EnvFilter>, String> {
    match env.map(str::trim).filter(|d| !d.is_empty()) {
        Some(directive) => EnvFilter::try_new(directive)
            .map(Some)
            .map_err(|e| format!("{ENV}={directive}: not a log filter: {e}")),
        None if verbose => Ok(Some(EnvFilter::new("breachdesk=debug"))),
        None => Ok(None),
    }
}

/// Starts logging to [`log_file`] when `--verbose` or `BREACHDESK_LOG` asks
/// for it. Returns the file logged to, or `None` when logging is off (no
/// file or directory is created then).
pub fn init(data_dir: &Path, verbose: bool) -> Result<Option<PathBuf>, String> {
    let env = std::env::var(ENV).ok();
    let Some(filter) = filter(env.as_deref(), verbose)? else {
        return Ok(None);
    };
    let path = log_file(data_dir);
    let dir = path.parent().unwrap_or(data_dir);
    crate::durable::ensure_private_dir(dir)
        .map_err(|e| format!("log directory {}: {e}", dir.display()))?;
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(crate::durable::FILE_MODE)
        .open(&path)
        .map_err(|e| format!("log file {}: {e}", path.display()))?;
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| format!("log file {}: {e}", path.display()))?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_unless_asked_for() {
        assert!(filter(None, false).expect("ok").is_none());
        assert!(filter(Some("  "), false).expect("ok").is_none());
        assert!(filter(None, true).expect("ok").is_some());
        assert!(filter(Some("debug"), false).expect("ok").is_some());
    }

    #[test]
    fn a_bad_directive_is_named() {
        let e = filter(Some("breachdesk=loud"), false).expect_err("refused");
        assert!(e.starts_with("BREACHDESK_LOG=breachdesk=loud: "), "{e}");
    }
}
