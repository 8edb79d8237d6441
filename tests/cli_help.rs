//! The command line explains itself (issue 14, item 6): every argument and
//! option of every command has help text, global options have their own
//! help section, and usage errors are one line plus a hint.

mod support;

use breachdesk::cli::Cli;
use clap::CommandFactory;
use support::Bin;

fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        if id == "help" || id == "version" {
            continue;
        }
        if arg.get_help().is_none() && arg.get_long_help().is_none() {
            missing.push(format!("{path} {id}"));
        }
    }
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        walk(sub, &format!("{path} {}", sub.get_name()), missing);
    }
}

#[test]
fn every_argument_and_option_has_help_text() {
    let mut missing = Vec::new();
    walk(&Cli::command(), "breachdesk", &mut missing);
    assert!(
        missing.is_empty(),
        "{} arguments without help:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn global_options_have_their_own_help_section() {
    let bin = Bin::new();
    for args in [vec!["--help"], vec!["new", "--help"]] {
        let help = bin.ok(&args);
        let section = help
            .split("Global options:")
            .nth(1)
            .unwrap_or_else(|| panic!("{args:?}: no Global options section:\n{help}"));
        for option in ["--data-dir", "--config", "--playbook"] {
            assert!(
                section.contains(option),
                "{args:?}: {option} not global:\n{help}"
            );
        }
        let own = help.split("Global options:").next().expect("before");
        assert!(!own.contains("--data-dir"), "{args:?}:\n{help}");
    }
}

#[test]
fn usage_errors_are_one_line_plus_a_hint() {
    let bin = Bin::new();
    let ran = bin.run(&["new", "--titel", "x"]);
    assert!(!ran.ok);
    assert_eq!(
        ran.err(),
        "breachdesk: error: unexpected argument '--titel' found\nhint: a similar argument exists: '--title'\n"
    );
    let ran = bin.run(&["list", "--bogus"]);
    assert_eq!(
        ran.err(),
        "breachdesk: error: unexpected argument '--bogus' found\nhint: 'breachdesk list --help' lists the options\n"
    );
    let ran = bin.run(&["log"]);
    let err = ran.err();
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(
        err.starts_with("breachdesk: error: the following required arguments were not provided"),
        "{err}"
    );
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let bin = Bin::new();
    let bash = bin.ok(&["completions", "bash"]);
    assert!(bash.contains("complete -F _breachdesk"), "{bash}");
    assert!(bash.contains("--personal-data"), "options completed");
    let zsh = bin.ok(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef breachdesk"), "{zsh}");
    let fish = bin.ok(&["completions", "fish"]);
    assert!(fish.contains("complete -c breachdesk"), "{fish}");
    assert!(
        fish.contains("Personal data is involved"),
        "help text in fish"
    );
    let ran = bin.run(&["completions", "powershell-ish"]);
    assert!(!ran.ok);
    // No config is read: a broken one does not stop completions.
    std::fs::create_dir_all(bin.config.parent().expect("dir")).expect("dir");
    std::fs::write(&bin.config, "[broken").expect("config");
    bin.ok(&["completions", "bash"]);
}

#[test]
fn man_page_is_roff_with_every_command_and_its_options() {
    let bin = Bin::new();
    let page = bin.ok(&["man"]);
    assert!(page.starts_with(".ie"), "{}", &page[..80.min(page.len())]);
    assert!(page.contains(".TH breachdesk 1"), "title header");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH \"GLOBAL OPTIONS\"",
        ".SH \"COMMAND OPTIONS\"",
    ] {
        assert!(page.contains(section), "{section} missing");
    }
    assert!(page.contains(".SS \"breachdesk new\""));
    assert!(page.contains("\\fB\\-\\-personal-data\\fR\nPersonal data is involved"));
    assert!(page.contains(".SS \"breachdesk rca-required\""));
}

#[test]
fn config_init_writes_every_name_and_address_commented_out() {
    let bin = Bin::new();
    bin.ok(&["config", "init"]);
    let text = std::fs::read_to_string(&bin.config).expect("config");
    for key in ["other_party", "govcertuk", "email", "name", "reply_to"] {
        let live = text.lines().find(|l| l.trim_start().starts_with(key));
        assert_eq!(live, None, "{key} is live in the new config");
    }
    assert!(text.contains("# other_party = "), "{text}");
}

#[test]
fn a_typed_config_that_does_not_exist_is_an_error() {
    let bin = Bin::new();
    let missing = bin.dir.path().join("nonexistent.toml");
    let missing = missing.to_str().expect("utf-8");
    let err = bin.fails(&["--config", missing, "list"]);
    assert!(
        err.contains(&format!("{missing}: no such config file")),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // The default (here BREACHDESK_CONFIG, also missing) gives the defaults.
    bin.ok(&["list"]);
    // `config init` may name the file it is to write.
    bin.ok(&["--config", missing, "config", "init"]);
    bin.ok(&["--config", missing, "list"]);
}

#[test]
fn config_errors_name_the_file_and_line() {
    let bin = Bin::new();
    std::fs::create_dir_all(bin.config.parent().expect("dir")).expect("dir");
    let file = bin.config.display().to_string();
    std::fs::write(
        &bin.config,
        "[responder]\nname = \"Al\"\n\n[calendar]\ndivision = \"wales\"\n",
    )
    .expect("config");
    let err = bin.fails(&["list"]);
    assert!(
        err.starts_with(&format!(
            "breachdesk: error: {file}:5:12: calendar.division: unknown division `wales`"
        )),
        "{err}"
    );
    std::fs::write(&bin.config, "[calendar]\ntimezone = \"Mars/Olympus\"\n").expect("config");
    let err = bin.fails(&["config", "check"]);
    assert!(
        err.contains(&format!("{file}:2:12: calendar.timezone:")),
        "{err}"
    );
    // Addresses: checked by `config check`.
    std::fs::write(&bin.config, "[contacts]\nother_party = \"not an email\"\n").expect("config");
    let err = bin.fails(&["config", "check"]);
    assert!(
        err.contains(&format!(
            "{file}:2:15: contacts.other_party: 'not an email' is not a valid email address"
        )),
        "{err}"
    );
    std::fs::write(
        &bin.config,
        "[contacts]\nother_party = \"CSR <csr@client.example>\"\n",
    )
    .expect("config");
    let out = bin.ok(&["config", "check"]);
    assert!(out.contains(": ok"), "{out}");
}

/// Every option or argument taking one of a fixed set of named values, by
/// its id, wherever it appears in the command tree.
const NAMED_VALUES: &[&str] = &[
    "kind",
    "severity",
    "status",
    "channel",
    "division",
    "category",
    "direction",
    "party",
    "clause",
    "identified_by",
    "deliver_to",
    "requester",
    "value",
    "format",
    "shell",
    "role",
];

fn walk_values(cmd: &clap::Command, path: &str, found: &mut Vec<String>, loose: &mut Vec<String>) {
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        if !NAMED_VALUES.contains(&id) {
            continue;
        }
        if arg.get_possible_values().is_empty() {
            loose.push(format!("{path} {id}"));
        } else {
            found.push(format!("{path} {id}"));
        }
    }
    for sub in cmd.get_subcommands() {
        walk_values(sub, &format!("{path} {}", sub.get_name()), found, loose);
    }
}

#[test]
fn every_option_with_named_values_offers_them() {
    let (mut found, mut loose) = (Vec::new(), Vec::new());
    walk_values(&Cli::command(), "breachdesk", &mut found, &mut loose);
    assert!(
        loose.is_empty(),
        "free text where values are named: {loose:?}"
    );
    // The walk saw the typed options (not a tree without them).
    for expected in [
        "breachdesk new kind",
        "breachdesk edit severity",
        "breachdesk step status",
        "breachdesk notify channel",
        "breachdesk holidays division",
        "breachdesk rca-required value",
        "breachdesk notice add party",
        "breachdesk security-test add clause",
        "breachdesk assign role",
    ] {
        assert!(found.iter().any(|f| f == expected), "{expected}: {found:?}");
    }
}

#[test]
fn help_lists_the_values_and_completions_offer_them() {
    let bin = Bin::new();
    // Help wraps to the terminal's width: read it as one line.
    let help = |args: &[&str]| {
        bin.ok(args)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let text = help(&["new", "--help"]);
    assert!(
        text.contains("[possible values: breach, potential, attempted]"),
        "{text}"
    );
    assert!(
        text.contains("[possible values: low, medium, high, critical]"),
        "{text}"
    );
    let text = help(&["step", "--help"]);
    assert!(
        text.contains("[possible values: todo, in-progress, done, not-applicable]"),
        "{text}"
    );
    let text = help(&["holidays", "--help"]);
    assert!(
        text.contains("[possible values: england-and-wales, scotland, northern-ireland]"),
        "{text}"
    );
    // `request add --from other` is refused with its reason, not offered.
    let text = help(&["request", "add", "--help"]);
    assert!(
        text.contains("[possible values: client, govcertuk]"),
        "{text}"
    );
    let bash = bin.ok(&["completions", "bash"]);
    assert!(
        bash.contains("low medium high critical"),
        "severities completed"
    );
    assert!(
        bash.contains("unpatched-vulnerability"),
        "root-cause categories completed"
    );
}

#[test]
fn a_wrong_value_is_one_line_in_the_domains_words_plus_a_hint() {
    let bin = Bin::new();
    let ran = bin.run(&["new", "--title", "x", "--severity", "apocalyptic"]);
    assert!(!ran.ok);
    assert_eq!(
        ran.err(),
        "breachdesk: error: --severity: 'apocalyptic' is not one of: low, medium, high, critical\nhint: 'breachdesk new --help' lists the options\n"
    );
    let ran = bin.run(&["rca-required", "INC-1", "maybe"]);
    assert_eq!(
        ran.err(),
        "breachdesk: error: VALUE: 'maybe' is not one of: unknown, yes, no\nhint: 'breachdesk rca-required --help' lists the options\n"
    );
    // Any case, and `_` for `-`, as the domain reads them.
    let id = bin.new_incident("VPN", "-5m");
    bin.ok(&["step", &id, "8.2.1a", "--status", "In_Progress"]);
}

/// The usage line clap prints for a command after a usage error, when
/// `BREACHDESK_DATA_DIR` and `BREACHDESK_CONFIG` are set (`from_env`) or
/// not: parsed as the binary parses, with the variables looked up by a
/// closure (setting them in a test process would race the other tests).
fn usage_after(args: &[&str], from_env: bool) -> String {
    let error = Cli::try_parse_with(args.iter().copied(), |name| {
        (from_env && name.starts_with("BREACHDESK_")).then(|| "/tmp/from-env".into())
    })
    .expect_err("a usage error");
    let rendered = error.render().to_string();
    rendered
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap_or_else(|| panic!("no usage line in:\n{rendered}"))
        .to_string()
}

#[test]
fn env_variables_give_data_dir_and_config_unless_typed() {
    let vars = |name: &str| match name {
        "BREACHDESK_DATA_DIR" => Some("/env/data".into()),
        "BREACHDESK_CONFIG" => Some("/env/config.toml".into()),
        _ => None,
    };
    let cli = Cli::try_parse_with(["breachdesk", "list"], vars).expect("parses");
    assert_eq!(
        cli.data_dir.as_deref(),
        Some(std::path::Path::new("/env/data"))
    );
    assert_eq!(
        cli.config.as_deref(),
        Some(std::path::Path::new("/env/config.toml"))
    );
    assert!(!cli.config_typed, "from the environment, not typed");
    let cli = Cli::try_parse_with(
        [
            "breachdesk",
            "list",
            "--data-dir",
            "/typed",
            "--config",
            "/typed.toml",
        ],
        vars,
    )
    .expect("parses");
    assert_eq!(
        cli.data_dir.as_deref(),
        Some(std::path::Path::new("/typed"))
    );
    assert!(cli.config_typed);
    let cli = Cli::try_parse_with(["breachdesk", "list"], |_| Some("".into())).expect("parses");
    assert_eq!(cli.data_dir, None, "an empty variable counts as unset");
    assert_eq!(cli.config, None);
}

/// Issue 14: an option supplied by the environment (`--data-dir` from
/// BREACHDESK_DATA_DIR, `--config` from BREACHDESK_CONFIG) is optional and
/// the usage line never lists it as if it were required: not in clap's
/// usage line after an error, not in `--help`, not in the one-line error.
#[test]
fn env_supplied_options_are_not_shown_as_required() {
    for from_env in [false, true] {
        for args in [
            &["breachdesk", "new"][..],
            &["breachdesk", "log", "INC-1"],
            &["breachdesk", "request", "add", "INC-1"],
        ] {
            let usage = usage_after(args, from_env);
            assert!(
                !usage.contains("--data-dir") && !usage.contains("--config"),
                "{args:?} (env set: {from_env}): {usage}"
            );
        }
    }
    // The real binary, with the variables set (as Bin does) and unset.
    let bin = Bin::new();
    for set in [true, false] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_breachdesk"));
        cmd.env_remove("BREACHDESK_DATA_DIR")
            .env_remove("BREACHDESK_CONFIG");
        if set {
            cmd.env("BREACHDESK_DATA_DIR", &bin.data)
                .env("BREACHDESK_CONFIG", &bin.config);
        }
        let help = cmd.args(["new", "--help"]).output().expect("run");
        let help = String::from_utf8_lossy(&help.stdout).into_owned();
        let usage = help
            .lines()
            .find(|l| l.starts_with("Usage:"))
            .expect("usage line");
        assert_eq!(usage, "Usage: breachdesk new [OPTIONS]", "set: {set}");
        assert!(help.contains("--data-dir <DIR>"), "still documented");
        assert!(help.contains("$BREACHDESK_DATA_DIR"), "its variable named");
        assert!(help.contains("$BREACHDESK_CONFIG"), "its variable named");
    }
    let err = bin.run(&["new"]).err();
    assert!(
        !err.contains("--data-dir") && !err.contains("--config"),
        "{err}"
    );
}
