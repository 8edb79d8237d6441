//! What the command line says about itself, generated from its own
//! definition: shell completions (`completions`) and the manual page (`man`).

use crate::cli::{Cli, CompletionShell};
use anyhow::Result;
use std::io::Write;

/// `breachdesk completions SHELL`: the script on standard output.
pub fn completions(shell: crate::cli::CompletionShell) -> Result<()> {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut cmd = Cli::command();
    // Into memory first: a closed pipe is then an error, not a panic.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "breachdesk", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(())
}

/// `breachdesk man`: the manual page as roff: clap_mangen's page for
/// `breachdesk`, then a COMMAND OPTIONS section with each command's own
/// arguments and options.
pub fn man_page() -> Result<()> {
    use clap::CommandFactory;
    use std::fmt::Write as _;
    let cmd = Cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    let mut more = String::from(".SH \"COMMAND OPTIONS\"\n");
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let _ = writeln!(more, ".SS \"breachdesk {}\"", sub.get_name());
        if let Some(about) = sub.get_about() {
            let _ = writeln!(more, "{}", roff_text(&about.to_string()));
        }
        for arg in sub.get_arguments().filter(|a| !a.is_global_set()) {
            let id = arg.get_id().as_str();
            if id == "help" {
                continue;
            }
            let name = match arg.get_long() {
                Some(long) => format!("\\-\\-{long}"),
                None => format!("<{}>", id.to_uppercase()),
            };
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let _ = writeln!(more, ".TP\n\\fB{name}\\fR\n{}", roff_text(&help));
        }
    }
    // Before the VERSION section clap_mangen ends with.
    let page = String::from_utf8(page)?;
    let at = page.find(".SH VERSION").unwrap_or(page.len());
    let mut out = std::io::stdout().lock();
    out.write_all(&page.as_bytes()[..at])?;
    out.write_all(more.as_bytes())?;
    out.write_all(&page.as_bytes()[at..])?;
    Ok(())
}

/// Text safe as a roff text line: backslashes escaped, and a line starting
/// with `.` or `'` not taken as a request.
fn roff_text(text: &str) -> String {
    let text = crate::text::one_line(text).replace('\\', "\\e");
    if text.starts_with(['.', '\'']) {
        format!("\\&{text}")
    } else {
        text
    }
}
