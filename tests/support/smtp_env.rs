//! A temp directory for a test that runs the real binary against the
//! loopback SMTP server: the server's CA in `ca.pem`, and `config.toml` made
//! of the test's own settings and an `[smtp]` section pointing at `port`
//! over STARTTLS, trusting that CA.
#![allow(dead_code)]

use std::path::PathBuf;

pub struct SmtpEnv {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub data: PathBuf,
    pub config: PathBuf,
}

/// `settings` is everything in the config before `[smtp]`; `smtp_extra`
/// is more `[smtp]` keys (e.g. a username), one per line.
pub fn smtp_env(port: u16, ca_pem: &str, settings: &str, smtp_extra: &str) -> SmtpEnv {
    let dir = tempfile::tempdir().expect("temp");
    let root = dir.path().to_path_buf();
    let ca = root.join("ca.pem");
    std::fs::write(&ca, ca_pem).expect("ca");
    let config = root.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "{settings}[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"starttls\"\n{smtp_extra}ca_file = \"{}\"\ntimeout_secs = 5\n",
            ca.display()
        ),
    )
    .expect("config");
    SmtpEnv {
        data: root.join("data"),
        config,
        root,
        dir,
    }
}
