//! TEMPORARY until the console lands.
pub fn run_console(_setup: &crate::commands::Setup) -> anyhow::Result<()> {
    anyhow::bail!("the console is not built yet; use the subcommands (breachdesk --help)")
}
