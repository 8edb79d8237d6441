//! Unit tests of reading and checking `config.toml`.

use super::*;
use crate::domain::calendar::Division;
use crate::domain::incident::PartyRole;

#[test]
fn the_example_config_parses() {
    let config = Config::parse(EXAMPLE, Path::new("config.example.toml")).expect("example parses");
    // Every name and address is an example, commented out: none is
    // used as a live recipient (or signs the audit log) by mistake.
    assert_eq!(config.responder.name, None);
    assert_eq!(config.responder.email, None);
    assert_eq!(config.contacts.other_party, None);
    assert_eq!(config.contacts.govcertuk, None);
    assert!(config.contacts.cc.is_empty());
    assert_eq!(config.responder.role, PartyRole::ServiceProvider);
    assert!(config.smtp.is_none());
}

#[test]
fn copies_and_reply_to_are_checked_addresses() {
    let config = Config::parse(
        "[responder]\nreply_to = \"SOC <soc@p.example>\"\n[contacts]\ncc = [\"a@p.example\", \"B <b@p.example>\"]\n",
        Path::new("c.toml"),
    )
    .expect("parses");
    assert_eq!(config.contacts.cc.len(), 2);
    assert_eq!(
        config.responder.reply_to.as_deref(),
        Some("SOC <soc@p.example>")
    );
    let err = Config::parse(
        "[contacts]\ncc = [\"a@p.example\", \"a@p.example, evil@x.example\"]\n",
        Path::new("c.toml"),
    )
    .expect_err("two in one entry");
    assert!(
        err.to_string()
            .starts_with("c.toml:2:6: contacts.cc: entry 2: 'a@p.example, evil@x.example' is not"),
        "{err}"
    );
    let err = Config::parse(
        "[responder]\nreply_to = \"not an address\"\n",
        Path::new("c.toml"),
    )
    .expect_err("bad reply_to");
    assert_eq!(
        err.to_string().matches("responder.reply_to").count(),
        1,
        "{err}"
    );
}

#[test]
fn errors_name_the_line_and_field() {
    let err = Config::parse(
        "[responder]\nname = \"x\"\nrole = \"vendor\"\n",
        Path::new("c.toml"),
    )
    .expect_err("bad role");
    let text = err.to_string();
    assert!(text.starts_with("c.toml:3:"), "{text}");
    let err = Config::parse(
        "[calendar]\ntimezone = \"Mars/Olympus\"\n",
        Path::new("c.toml"),
    )
    .expect_err("bad zone");
    assert!(err.to_string().contains("calendar.timezone"), "{err}");
    let err =
        Config::parse("[audit]\nretention_days = 30\n", Path::new("c.toml")).expect_err("short");
    assert!(err.to_string().contains("6 calendar months"), "{err}");
    let err = Config::parse(
        "[smtp]\nhost = \"x\"\npasword = \"oops\"\n",
        Path::new("c.toml"),
    )
    .expect_err("typo");
    assert!(err.to_string().contains("c.toml:3:"), "{err}");
}

#[test]
fn severity_levels_have_definitions_and_may_map_to_the_clients_scale() {
    use crate::domain::incident::Severity;
    let c = Config::parse(
        r#"
[severity]
low = "cosmetic"
[severity.client_scale]
low = "P4"
"#,
        Path::new("c.toml"),
    )
    .expect("parses");
    assert_eq!(
        c.severity.describe(Severity::Low),
        "low: cosmetic (Client's scale: P4)"
    );
    assert!(
        c.severity
            .describe(Severity::Critical)
            .starts_with("critical: ongoing compromise")
    );
    assert_eq!(c.severity.help().len(), Severity::ALL.len());
    let err = Config::parse("[severity]\nsevere = \"x\"\n", Path::new("c.toml"))
        .expect_err("unknown level");
    assert!(err.to_string().contains("c.toml:2:"), "{err}");
    // The example config parses (its [severity] section is commented out).
    Config::parse(EXAMPLE, Path::new("example.toml")).expect("example parses");
}

#[test]
fn reminders_default_and_parse() {
    let config = Config::parse("", Path::new("c.toml")).expect("empty");
    assert_eq!(
        config.reminders.leads(),
        vec![chrono::Duration::minutes(15), chrono::Duration::minutes(5)]
    );
    assert!(config.reminders.desktop);
    assert!(!config.reminders.internal_targets);
    assert_eq!(config.reminders.command, None);
    let config = Config::parse(
        "[reminders]\nbefore = [\"1h\", \"10m\"]\nemail_to = \"On-call <oncall@provider.example>\"\ncommand = \"page-oncall  --urgent\"\ndesktop = false\ninternal_targets = true\n",
        Path::new("c.toml"),
    )
    .expect("parses");
    let r = &config.reminders;
    assert_eq!(
        r.leads(),
        vec![chrono::Duration::hours(1), chrono::Duration::minutes(10)]
    );
    assert_eq!(
        r.command,
        Some(ReminderCommand::Direct(vec![
            "page-oncall".into(),
            "--urgent".into()
        ]))
    );
    let argv = Config::parse(
        "[reminders]\ncommand = [\"page\", \"two words\"]\n",
        Path::new("c.toml"),
    )
    .expect("argv");
    assert_eq!(
        argv.reminders.command,
        Some(ReminderCommand::Direct(vec![
            "page".into(),
            "two words".into()
        ]))
    );
    let shell = Config::parse(
        "[reminders]\ncommand = { shell = \"env > /tmp/x\" }\n",
        Path::new("c.toml"),
    )
    .expect("shell");
    assert_eq!(
        shell.reminders.command,
        Some(ReminderCommand::Shell("env > /tmp/x".into()))
    );
}

#[test]
fn reminder_errors_name_the_line() {
    for (text, line, words) in [
        (
            "[reminders]\n\nbefore = [\"15m\", \"5 minutes\"]\n",
            3,
            "lead time",
        ),
        (
            "[reminders]\nemail_to = \"not an address\"\n",
            2,
            "email address",
        ),
        ("[reminders]\ncommand = \"  \"\n", 2, "empty"),
        ("[reminders]\ncommand = { shell = \"\" }\n", 2, "empty"),
        ("[reminders]\ndesktp = true\n", 2, "unknown field"),
    ] {
        let err = Config::parse(text, Path::new("c.toml")).expect_err(text);
        let said = err.to_string();
        assert!(said.starts_with(&format!("c.toml:{line}:")), "{said}");
        assert!(said.contains(words), "{said}");
    }
    let err = Config::parse(
        "[reminders]\ncommand_timeout_secs = 0\n",
        Path::new("c.toml"),
    )
    .expect_err("zero");
    assert!(
        err.to_string().contains("reminders.command_timeout_secs"),
        "{err}"
    );
}

#[test]
fn calendar_values_are_typed_and_bad_ones_name_file_line_and_field() {
    let config = Config::parse(
        "[calendar]\ndivision = \"scotland\"\ntimezone = \"Europe/Belfast\"\nend_of_day = \"17:30\"\n",
        Path::new("c.toml"),
    )
    .expect("parses");
    assert_eq!(config.calendar.division, Division::Scotland);
    assert_eq!(config.timezone(), chrono_tz::Europe::Belfast);
    assert_eq!(
        config.end_of_day(),
        chrono::NaiveTime::from_hms_opt(17, 30, 0).expect("time")
    );
    // Defaults: England and Wales, Europe/London, 23:59:59.
    let plain = Config::parse("", Path::new("c.toml")).expect("parses");
    assert_eq!(plain.calendar.division, Division::EnglandAndWales);
    assert_eq!(plain.timezone(), chrono_tz::Europe::London);
    assert_eq!(
        plain.end_of_day(),
        chrono::NaiveTime::from_hms_opt(23, 59, 59).expect("time")
    );
    // Written back in the same words.
    let text = toml::to_string(&config).expect("serializes");
    assert_eq!(
        Config::parse(&text, Path::new("c.toml")).expect("reads back"),
        config
    );

    for (text, wanted) in [
        (
            "[responder]\nname = \"Al\"\n\n[calendar]\ndivision = \"wales\"\n",
            "c.toml:5:12: calendar.division: unknown division `wales`",
        ),
        (
            "[calendar]\n\ntimezone = \"Mars/Olympus\"\n",
            "c.toml:3:12: calendar.timezone: 'Mars/Olympus' is not an IANA time zone",
        ),
        (
            "# end of day\n[calendar]\nend_of_day = \"25:00\"\n",
            "c.toml:3:14: calendar.end_of_day: '25:00' is not a time of day like 17:30 or 23:59:59",
        ),
    ] {
        let err = Config::parse(text, Path::new("c.toml")).expect_err(wanted);
        let err = err.to_string();
        assert!(err.starts_with(wanted), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn a_reminder_address_is_checked_by_the_common_rules() {
    for (value, why) in [
        (
            "not an address",
            "'not an address' is not a valid email address: ",
        ),
        ("", "'' is not a valid email address: it is empty"),
    ] {
        let err = Config::parse(
            &format!("[reminders]\nemail_to = \"{value}\"\n"),
            Path::new("c.toml"),
        )
        .expect_err(value);
        let said = err.to_string();
        assert!(said.starts_with("c.toml:2:"), "{said}");
        assert!(said.contains(why), "{said}");
    }
}

#[test]
fn day_and_second_counts_are_held_to_their_range_naming_line_column_and_field() {
    for (text, wanted) in [
        (
            "[reminders]\nbefore = [\"31d\"]\n",
            "c.toml:2:10: reminders.before: '31d' is more than 30 days",
        ),
        (
            "[reminders]\nbefore = [\"99999999999999999999d\"]\n",
            "c.toml:2:10: reminders.before: '99999999999999999999d' is not a lead time",
        ),
        (
            "[reminders]\ncommand_timeout_secs = 4294967295\n",
            "c.toml:2:24: reminders.command_timeout_secs: 4294967295 is not between 1 and 600",
        ),
        (
            "[reminders]\ncommand_timeout_secs = -1\n",
            "c.toml:2:24: reminders.command_timeout_secs: ",
        ),
        (
            "[smtp]\nhost = \"mail.example\"\ntimeout_secs = 18446744073709551615\n",
            "c.toml:3:16: smtp.timeout_secs: 18446744073709551615 is not between 1 and 600",
        ),
        (
            "[sync]\ninterval = \"99999999999999d\"\n",
            "c.toml:2:12: sync.interval: ",
        ),
    ] {
        let err = Config::parse(text, Path::new("c.toml"))
            .expect_err(text)
            .to_string();
        assert!(err.starts_with(wanted), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
