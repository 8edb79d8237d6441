//! Where breachdesk keeps things: the data directory and the config file.
//!
//! Defaults come from the `directories` crate (XDG on Linux); the command-line
//! options `--data-dir` / `--config` and the environment variables
//! `BREACHDESK_DATA_DIR` / `BREACHDESK_CONFIG` override them.

use std::path::PathBuf;

/// The platform's data directory for breachdesk, e.g. `~/.local/share/breachdesk`.
pub fn default_data_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.data_dir().to_path_buf())
}

/// The platform's config directory for breachdesk, e.g. `~/.config/breachdesk`.
pub fn default_config_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().to_path_buf())
}

/// `config.toml` in the platform's config directory.
pub fn default_config_file() -> Option<PathBuf> {
    default_config_dir().map(|d| d.join("config.toml"))
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "breachdesk")
}
