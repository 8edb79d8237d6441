//! The real binary, run from async tests (which serve SMTP on the same
//! runtime, so the child runs off the runtime's threads), on one data
//! directory and config file, with no SMTP password in its environment.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

pub async fn run(data: &Path, config: &Path, args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let (data, config) = (data.to_path_buf(), config.to_path_buf());
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_breachdesk"))
            .args(&args)
            .env("BREACHDESK_DATA_DIR", data)
            .env("BREACHDESK_CONFIG", config)
            .env_remove("BREACHDESK_SMTP_PASSWORD")
            .stdin(Stdio::null())
            .output()
            .expect("run")
    })
    .await
    .expect("join")
}

/// Runs `args`, asserts success, returns stdout.
pub async fn ok(data: &Path, config: &Path, args: &[&str]) -> String {
    let out = run(data, config, args).await;
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Runs `args`, asserts failure, returns stderr.
pub async fn fails(data: &Path, config: &Path, args: &[&str]) -> String {
    let out = run(data, config, args).await;
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).to_string()
}
