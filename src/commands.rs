//! Carrying out a command line: set up the desk, do the thing, print the
//! result. Errors come back as one line for `main` to print.

use crate::cli::{
    AuditCommand, Cli, Command, ConfigCommand, EditArgs, ExportFormat, ListFormat, MitigationArgs,
    NewArgs, NotifyArgs, OutboxCommand, PlaybookCommand, QuarantineCommand, RequestCommand,
    RootCauseArgs, ShowFormat, StepArgs,
};
use crate::config::{Config, MIN_AUDIT_RETENTION_DAYS};
use crate::desk::{Changed, Desk, Edit, EvidenceCheck, MitigationInput, NotificationInput};
use crate::domain::calendar::{Division, WorkingCalendar};
use crate::domain::incident::{Channel, IncidentStatus, RootCauseCategory, StepStatus};
use crate::domain::summary::{IncidentSummary, sort_by_urgency};
use crate::domain::when::{parse_past, parse_when};
use crate::playbooks::{PlaybookSet, read_playbook};
use crate::present::{local_rfc3339, state_seconds, state_word, verdict};
use crate::text::{SafeWriter, json_safe, one_line, terminal_safe};
use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where things are, once the command line and environment are read.
pub struct Setup {
    pub data_dir: PathBuf,
    pub config_path: PathBuf,
    pub config: Config,
    pub extra_playbooks: Vec<PathBuf>,
}

impl Setup {
    /// Resolves paths and reads the config file.
    pub fn from_cli(cli: &Cli) -> Result<Setup> {
        let data_dir = match &cli.data_dir {
            Some(dir) => dir.clone(),
            None => crate::paths::default_data_dir().ok_or_else(|| {
                anyhow!("no home directory: give --data-dir or BREACHDESK_DATA_DIR")
            })?,
        };
        let config_path = match &cli.config {
            Some(file) => file.clone(),
            None => crate::paths::default_config_file()
                .ok_or_else(|| anyhow!("no home directory: give --config or BREACHDESK_CONFIG"))?,
        };
        let initialising = matches!(
            cli.command,
            Some(Command::Config(crate::cli::ConfigCommand::Init))
        );
        if cli.config_typed && !initialising && !config_path.exists() {
            bail!(
                "{}: no such config file (--config names it; `breachdesk config init --config {}` writes one)",
                config_path.display(),
                config_path.display()
            );
        }
        let config = Config::load(&config_path)?;
        Ok(Setup {
            data_dir,
            config_path,
            config,
            extra_playbooks: cli.playbooks.clone(),
        })
    }

    /// The user's playbook directory: `playbooks/` beside the config file.
    pub fn user_playbook_dir(&self) -> Option<PathBuf> {
        self.config_path.parent().map(|d| d.join("playbooks"))
    }

    /// The time zone for showing times and for Working Days.
    pub fn tz(&self) -> Result<Tz> {
        self.config
            .timezone()
            .map_err(|m| anyhow!("{}: {m}", self.config_path.display()))
    }

    /// The Working-Day calendar from config, with an optional other division.
    pub fn calendar(&self, division: Option<&str>) -> Result<WorkingCalendar> {
        let name = division.unwrap_or(&self.config.calendar.division);
        let division: Division = name.parse().map_err(|e| anyhow!("--division: {e}"))?;
        let end = self
            .config
            .end_of_day()
            .map_err(|m| anyhow!("{}: calendar.end_of_day: {m}", self.config_path.display()))?;
        Ok(WorkingCalendar::new(division, self.tz()?)
            .with_end_of_day(end)
            .with_closures(self.config.calendar.closures.iter().copied()))
    }

    /// The playbooks in force; problems with user files are warned about.
    pub fn playbooks(&self) -> PlaybookSet {
        let set = PlaybookSet::load(self.user_playbook_dir().as_deref(), &self.extra_playbooks);
        for problem in &set.problems {
            eprintln!(
                "breachdesk: warning: playbook skipped: {}",
                one_line(&problem.to_string())
            );
        }
        set
    }

    /// Opens the store, audit log and everything else a change needs.
    pub fn desk(&self) -> Result<Desk> {
        let desk = Desk::open(
            &self.data_dir,
            self.config.clone(),
            self.playbooks(),
            self.calendar(None)?,
        )?;
        Ok(warned(desk))
    }

    /// The desk for a command that only reads: opens nothing for writing
    /// (see [`Desk::open_read_only`]).
    pub fn reader(&self) -> Result<Desk> {
        let desk = Desk::open_read_only(
            &self.data_dir,
            self.config.clone(),
            self.playbooks(),
            self.calendar(None)?,
        )?;
        Ok(warned(desk))
    }
}

/// Says on stderr what opening the data directory found, then hands the
/// desk on.
fn warned(desk: Desk) -> Desk {
    for warning in directory_warnings(&desk) {
        eprintln!("breachdesk: warning: {}", one_line(&warning));
    }
    desk
}

/// What opening the data directory found that the responder should know
/// (a directory other users can reach), once each.
pub fn directory_warnings(desk: &Desk) -> Vec<String> {
    let mut warnings: Vec<String> = Vec::new();
    for w in desk.store.warnings().iter().chain(desk.audit.warnings()) {
        if !warnings.contains(w) {
            warnings.push(w.clone());
        }
    }
    warnings
}

/// Runs one command. `now` is read once, by the caller.
pub fn run(cli: Cli, now: DateTime<Utc>) -> Result<()> {
    // Generated from the command line's own definition: no config needed.
    match cli.command {
        Some(Command::Completions { shell }) => return completions(shell),
        Some(Command::Man) => return man_page(),
        _ => {}
    }
    let setup = Setup::from_cli(&cli)?;
    let command = cli.command.unwrap_or(Command::Console);
    // Everything printed passes through a writer that shows control
    // characters as visible text: nothing from a record, a file name or a
    // server reply reaches the terminal raw.
    let out = &mut SafeWriter::new(std::io::stdout().lock());
    match command {
        Command::Console => crate::tui::run_console(&setup),
        Command::New(args) => new(&setup, args, now, out),
        Command::Log { id, text } => {
            let desk = setup.desk()?;
            let changed = desk.log(&id, &text.join(" "), now)?;
            writeln!(out, "{}: logged", changed.incident.id)?;
            Ok(())
        }
        Command::List {
            format,
            all,
            closed,
        } => list(&setup, format, all, closed, now, out),
        Command::Show { id, format } => show(&setup, &id, format, now, out),
        Command::Edit(args) => edit(&setup, *args, now, out),
        Command::Notify(args) => notify(&setup, args, now, out),
        Command::Report { id, cc, yes } => crate::mailcli::report(&setup, &id, &cc, yes, now, out),
        Command::Supply {
            id,
            request,
            attach,
            cc,
            yes,
        } => crate::mailcli::supply(&setup, &id, &request, attach, &cc, yes, now, out),
        Command::Update {
            id,
            message,
            cc,
            yes,
        } => crate::mailcli::update(&setup, &id, &message, &cc, yes, now, out),
        Command::Outbox(OutboxCommand::List { format }) => {
            crate::mailcli::outbox_list(&setup, format == crate::cli::OutboxFormat::Json, now, out)
        }
        Command::Outbox(OutboxCommand::Retry { id }) => {
            crate::mailcli::outbox_retry(&setup, id.as_deref(), now, out)
        }
        Command::Outbox(OutboxCommand::Cancel { id, reason }) => {
            crate::mailcli::outbox_cancel(&setup, &id, &reason, now, out)
        }
        Command::Request(cmd) => request(&setup, cmd, now, out),
        Command::RootCause(args) => root_cause(&setup, args, now, out),
        Command::Mitigation(args) => mitigation(&setup, args, now, out),
        Command::Isms {
            id,
            required,
            description,
        } => {
            let changed = setup
                .desk()?
                .set_isms_change(&id, required, &description, now)?;
            report_change(out, &changed, "ISMS change flag saved")
        }
        Command::Step(args) => step(&setup, args, now, out),
        Command::Close {
            id,
            reason,
            not_a_breach: true,
        } => {
            let changed =
                setup
                    .desk()?
                    .close_not_a_breach(&id, reason.as_deref().unwrap_or(""), now)?;
            report_change(out, &changed, "closed as not a Breach of Security")
        }
        Command::Close {
            id,
            reason,
            not_a_breach: false,
        } => {
            let changed = setup.desk()?.close(&id, reason, now)?;
            report_change(out, &changed, "closed")
        }
        Command::RcaRequired { id, value, note } => {
            let value = parse_enum(&value, "VALUE")?;
            let changed = setup.desk()?.set_rca_required(&id, value, note, now)?;
            report_change(out, &changed, "root-cause analysis requirement saved")
        }
        Command::SecurityTest(cmd) => crate::contractcli::security_test(&setup, cmd, now, out),
        Command::Notice(cmd) => crate::noticecli::notice(&setup, cmd, now, out),
        Command::Reopen { id, reason } => {
            let changed = setup.desk()?.reopen(&id, &reason, now)?;
            report_change(out, &changed, "reopened")
        }
        Command::Evidence { id } => evidence(&setup, &id, out),
        Command::Export {
            id,
            format,
            output,
            include_paths,
        } => export(&setup, &id, format, output, include_paths, now, out),
        Command::Audit(cmd) => audit(&setup, cmd, now, out),
        Command::Quarantine(cmd) => quarantine(&setup, cmd, now, out),
        Command::Playbook(cmd) => playbook(&setup, cmd, out),
        Command::Holidays { division, year } => {
            if !(1900..=2200).contains(&year) {
                bail!("--year {year} is outside 1900-2200");
            }
            let calendar = setup.calendar(division.as_deref())?;
            for holiday in calendar.holidays(year) {
                writeln!(
                    out,
                    "{}\t{}",
                    holiday.date.format("%Y-%m-%d"),
                    holiday.title
                )?;
            }
            Ok(())
        }
        Command::Due {
            from,
            working_days,
            hours,
            division,
        } => {
            let calendar = setup.calendar(division.as_deref())?;
            let tz = calendar.tz();
            let start = parse_when(&from, now, tz).map_err(|e| anyhow!("--from: {e}"))?;
            let due = match (working_days, hours) {
                (Some(n), _) => {
                    let n = u32::try_from(n)
                        .ok()
                        .filter(|n| *n <= 10_000)
                        .ok_or_else(|| anyhow!("--working-days {n} must be between 0 and 10000"))?;
                    let due = calendar.working_days_after(start, n);
                    if let Some(warning) = calendar.closed_on(due) {
                        eprintln!("breachdesk: warning: {warning}");
                    }
                    due
                }
                (None, Some(h)) => {
                    if !(0..=1_000_000).contains(&h) {
                        bail!("--hours {h} must be between 0 and 1000000");
                    }
                    start + chrono::Duration::hours(h)
                }
                (None, None) => bail!("give --working-days N or --hours N"),
            };
            writeln!(out, "{}", local_rfc3339(due, tz))?;
            Ok(())
        }
        Command::Workdays { from, to, division } => {
            let calendar = setup.calendar(division.as_deref())?;
            let from = parse_date(&from, "--from")?;
            let to = parse_date(&to, "--to")?;
            if to < from {
                bail!("--to {to} is before --from {from}");
            }
            writeln!(out, "{}", calendar.count_working_days(from, to))?;
            Ok(())
        }
        Command::Config(cmd) => config(&setup, cmd, out),
        Command::Watch { once } => crate::watch::run(&setup, once, now, out),
        Command::Completions { .. } | Command::Man => unreachable!("handled above"),
        Command::Demo {
            incidents,
            open,
            seed,
            force,
        } => {
            if incidents > 100_000 {
                bail!("--incidents {incidents}: at most 100000");
            }
            let mut plan = crate::demo::DemoPlan::new(incidents, seed);
            if let Some(open) = open {
                if open > incidents {
                    bail!("--open {open} is more than --incidents {incidents}");
                }
                plan.open = open;
            }
            let desk = setup.desk()?;
            let report = crate::demo::generate(&desk, plan, force, now)?;
            writeln!(
                out,
                "{}: {} demo incidents ({} open, {} closed, {} repeat root causes). Open the console with: breachdesk --data-dir {}",
                setup.data_dir.display(),
                report.open + report.closed,
                report.open,
                report.closed,
                report.repeats,
                setup.data_dir.display()
            )?;
            Ok(())
        }
    }
}

pub(crate) fn parse_date(text: &str, what: &str) -> Result<NaiveDate> {
    use chrono::Datelike;
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        anyhow!(
            "{what}: '{}' is not a date like 2026-12-23",
            crate::text::quote_short(text)
        )
    })?;
    if !(1900..=2200).contains(&date.year()) {
        bail!("{what}: {date} is outside 1900-2200");
    }
    Ok(date)
}

pub(crate) fn parse_enum<T: std::str::FromStr<Err = String>>(text: &str, what: &str) -> Result<T> {
    text.parse::<T>().map_err(|e| anyhow!("{what}: {e}"))
}

pub(crate) fn report_change(out: &mut impl Write, changed: &Changed, what: &str) -> Result<()> {
    for warning in &changed.warnings {
        eprintln!("breachdesk: WARNING: {}", one_line(warning));
    }
    if changed.written {
        writeln!(out, "{}: {what}", changed.incident.id)?;
    } else {
        writeln!(out, "{}: nothing changed", changed.incident.id)?;
    }
    Ok(())
}

/// `breachdesk completions SHELL`: the script on standard output.
fn completions(shell: crate::cli::CompletionShell) -> Result<()> {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let shell = match shell {
        crate::cli::CompletionShell::Bash => Shell::Bash,
        crate::cli::CompletionShell::Zsh => Shell::Zsh,
        crate::cli::CompletionShell::Fish => Shell::Fish,
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
fn man_page() -> Result<()> {
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

fn new(setup: &Setup, args: NewArgs, now: DateTime<Utc>, out: &mut impl Write) -> Result<()> {
    crate::contractcli::new(setup, args, now, out)
}

fn list(
    setup: &Setup,
    format: ListFormat,
    all: bool,
    closed: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = setup.reader()?;
    let (summaries, problems) = if all || closed {
        desk.summaries()
    } else {
        desk.open_summaries()
    };
    for problem in &problems {
        eprintln!("breachdesk: warning: {}", one_line(problem));
    }
    let mut summaries: Vec<IncidentSummary> = summaries
        .into_iter()
        .filter(|s| {
            if closed {
                s.status != IncidentStatus::Open
            } else {
                all || s.on_board()
            }
        })
        .collect();
    sort_by_urgency(&mut summaries);
    match format {
        ListFormat::Json => {
            let items: Vec<serde_json::Value> =
                summaries.iter().map(|s| summary_json(s, now)).collect();
            writeln!(out, "{}", json_safe(&serde_json::to_string_pretty(&items)?))?;
        }
        ListFormat::Table => {
            if summaries.is_empty() {
                writeln!(
                    out,
                    "No incidents. Open one with: breachdesk new --title \"...\""
                )?;
                return Ok(());
            }
            writeln!(
                out,
                "{:<24}  {:<8}  {:<9}  {:<24}  {:<30}  TITLE",
                "ID", "SEVERITY", "KIND", "NOTIFICATION (8.1)", "NEXT ACTION"
            )?;
            // Rows built first and written at once: one pass of the safe
            // writer and one write(2), not one per row.
            let mut rows: Vec<u8> = Vec::new();
            for s in &summaries {
                let next = s
                    .next_action
                    .as_ref()
                    .map(|n| format!("{} {}", n.step, n.title))
                    .unwrap_or_else(|| "-".into());
                writeln!(
                    rows,
                    "{:<24}  {:<8}  {:<9}  {:<24}  {:<30}  {}",
                    s.id,
                    s.severity.as_str(),
                    s.kind.as_str(),
                    match s.notice_received_at {
                        Some(_) => "notice received".to_string(),
                        None => verdict(s.notification_due_at, s.notified_at, now),
                    },
                    truncate(&one_line(&next), 30),
                    one_line(&s.title)
                )?;
            }
            out.write_all(&rows)?;
        }
    }
    Ok(())
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The stable JSON form of one `list` row (documented in the README).
pub fn summary_json(s: &IncidentSummary, now: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({
        "id": s.id,
        "title": s.title,
        "kind": s.kind,
        "severity": s.severity,
        "status": s.status,
        "identified_at": s.identified_at,
        "logged_at": s.logged_at,
        "notification": match s.notice_received_at {
            // The other party identified the breach and notified us (8.1):
            // no countdown runs for us.
            Some(received) => serde_json::json!({
                "due_at": s.notification_due_at,
                "made_at": null,
                "received_at": received,
                "state": "received",
                "seconds": null,
            }),
            None => serde_json::json!({
                "due_at": s.notification_due_at,
                "made_at": s.notified_at,
                "state": state_word(s.notification_due_at, s.notified_at, now),
                "seconds": state_seconds(s.notification_due_at, s.notified_at, now),
            }),
        },
        "next_action": s.next_action.as_ref().map(|n| serde_json::json!({
            "step": n.step,
            "title": n.title,
            "due_at": n.due_at,
        })),
        "next_due_at": s.next_due_at,
        "open_requests": s.open_requests,
        "repeat_root_cause": s.repeat_root_cause,
        "revision": s.revision,
    })
}

fn show(
    setup: &Setup,
    id: &str,
    format: ShowFormat,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = setup.reader()?;
    let incident = desk.load(id)?;
    match format {
        ShowFormat::Json => {
            // The record, plus `notices`: the register built from it, every
            // notice sent or received (`email_notices` holds the email ones).
            let mut value = serde_json::to_value(&incident)?;
            if let Some(map) = value.as_object_mut() {
                map.insert(
                    "notices".into(),
                    serde_json::to_value(crate::domain::register::register(&incident))?,
                );
            }
            writeln!(out, "{}", json_safe(&serde_json::to_string_pretty(&value)?))?
        }
        ShowFormat::Toml => write!(out, "{}", toml::to_string(&incident)?)?,
        ShowFormat::Text => write!(
            out,
            "{}",
            crate::export::marked(
                crate::export::text(&incident, desk.tz, now),
                setup
                    .config
                    .contract
                    .marking()
                    .map(|m| crate::text::one_line(&m))
            )
        )?,
    }
    Ok(())
}

fn edit(setup: &Setup, args: EditArgs, now: DateTime<Utc>, out: &mut impl Write) -> Result<()> {
    let tz = setup.tz()?;
    let details = Box::new(crate::noticecli::details_edit(&args, now, tz)?);
    let identified_at = match args.identified_at {
        Some(text) => {
            let at = parse_past(&text, now, tz).map_err(|e| anyhow!("--identified-at: {e}"))?;
            Some((at, args.reason.unwrap_or_default()))
        }
        None => None,
    };
    let edit = Edit {
        title: args.title,
        summary: args.summary,
        kind: args.kind.map(|k| parse_enum(&k, "--kind")).transpose()?,
        severity: args
            .severity
            .map(|s| parse_enum(&s, "--severity"))
            .transpose()?,
        personal_data: args.personal_data,
        government_data: args.government_data,
        add_assets: args.assets,
        add_responders: args.responders,
        identified_at,
        details,
    };
    let changed = setup.desk()?.edit(&args.id, edit, now)?;
    report_change(out, &changed, "saved")
}

fn notify(setup: &Setup, args: NotifyArgs, now: DateTime<Utc>, out: &mut impl Write) -> Result<()> {
    crate::contractcli::refuse_notice_when_theirs(setup, &args.id)?;
    let tz = setup.tz()?;
    let channel = args
        .channel
        .as_deref()
        .map(|c| parse_enum::<Channel>(c, "--channel"))
        .transpose()?;
    match channel {
        Some(channel @ (Channel::Phone | Channel::InPerson)) => {
            let to = args
                .to
                .ok_or_else(|| anyhow!("--to: say who was notified"))?;
            let at = parse_past(&args.at, now, tz).map_err(|e| anyhow!("--at: {e}"))?;
            let changed = setup.desk()?.record_notification(
                &args.id,
                NotificationInput {
                    at,
                    channel,
                    recipient: to,
                    reference: args.reference,
                    server_reply: None,
                    delay_reason: args.delay_reason,
                },
                now,
            )?;
            report_change(out, &changed, "notification recorded")
        }
        _ => crate::mailcli::notify(setup, &args, now, out),
    }
}

fn request(
    setup: &Setup,
    cmd: RequestCommand,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let tz = setup.tz()?;
    let desk = setup.desk()?;
    match cmd {
        add @ RequestCommand::Add { .. } => crate::contractcli::request_add(&desk, add, now, out),
        RequestCommand::Supplied {
            id,
            request,
            how,
            at,
            files,
        } => {
            let at = parse_past(&at, now, tz).map_err(|e| anyhow!("--at: {e}"))?;
            let changed = desk.supply_request(&id, &request, at, &how, &files, now)?;
            report_change(out, &changed, &format!("request {request} supplied"))
        }
    }
}

fn root_cause(
    setup: &Setup,
    args: RootCauseArgs,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let category: RootCauseCategory = parse_enum(&args.category, "--category")?;
    let changed = setup.desk()?.record_root_cause(
        &args.id,
        category,
        &args.component,
        args.analysis,
        args.prevention,
        now,
    )?;
    report_change(out, &changed, "root cause recorded")
}

fn mitigation(
    setup: &Setup,
    args: MitigationArgs,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let tz = setup.tz()?;
    let relief_requested_at = args
        .relief_requested
        .map(|t| parse_past(&t, now, tz).map_err(|e| anyhow!("--relief-requested: {e}")))
        .transpose()?;
    let input = MitigationInput {
        description: args.description,
        tested_how: args.tested_how,
        tested: args.tested,
        affects_kpis: args.affects_kpis,
        relief_requested_at,
        relief_granted: args.relief_granted,
        relief_notice: crate::contractcli::relief_notice(
            args.relief_notice_date.as_deref(),
            args.relief_notice_ref.as_deref(),
            args.relief_period.as_deref(),
        )?,
        relief_period: args.relief_period,
        evidence_file: args.evidence_file,
    };
    let changed = setup.desk()?.set_mitigation(&args.id, input, now)?;
    report_change(out, &changed, "mitigation saved")
}

fn step(setup: &Setup, args: StepArgs, now: DateTime<Utc>, out: &mut impl Write) -> Result<()> {
    let desk = setup.desk()?;
    let status = match args.status {
        Some(s) => parse_enum::<StepStatus>(&s, "--status")?,
        None => desk
            .load(&args.id)?
            .step(&args.step)
            .map(|s| s.status)
            .ok_or_else(|| anyhow!("no step '{}'", args.step))?,
    };
    let changed = desk.set_step(
        &args.id,
        &args.step,
        status,
        args.note,
        args.evidence_file.as_deref(),
        now,
    )?;
    report_change(out, &changed, &format!("step {} saved", args.step))
}

fn evidence(setup: &Setup, id: &str, out: &mut impl Write) -> Result<()> {
    let incident = setup.reader()?.load(id)?;
    let checks = crate::desk::check_evidence(&incident);
    if checks.is_empty() {
        writeln!(out, "{}: no evidence files recorded", incident.id)?;
        return Ok(());
    }
    let mut bad = 0;
    for (place, path, result) in &checks {
        match result {
            EvidenceCheck::Unchanged => writeln!(out, "ok       {place}: {path}")?,
            EvidenceCheck::Changed { size, sha256 } => {
                bad += 1;
                writeln!(
                    out,
                    "CHANGED  {place}: {path} (now {size} bytes, sha256 {sha256})"
                )?
            }
            EvidenceCheck::Unreadable(e) => {
                bad += 1;
                writeln!(out, "MISSING  {place}: {path} ({e})")?
            }
        }
    }
    if bad > 0 {
        bail!("{bad} evidence file(s) changed or missing since they were recorded");
    }
    Ok(())
}

fn export(
    setup: &Setup,
    id: &str,
    format: ExportFormat,
    output: Option<PathBuf>,
    include_paths: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    let desk = setup.reader()?;
    let incident = desk.load(id)?;
    let contract = &setup.config.contract;
    let report = || {
        let options = crate::report::ReportOptions {
            marking: contract.marking(),
            contract: match (contract.name(), contract.reference()) {
                (Some(n), Some(r)) => Some(format!("{n} ({r})")),
                (n, r) => n.or(r),
            },
            include_paths,
        };
        crate::report::full_details(&incident, desk.tz, now, &options)
    };
    let text = match format {
        ExportFormat::Markdown => crate::export::marked(
            crate::export::markdown(&incident, desk.tz, now),
            contract
                .marking()
                .map(|m| format!("**{}**", crate::text::one_line(&m))),
        ),
        ExportFormat::ReportText => crate::report::to_text(&report()),
        ExportFormat::ReportMarkdown => crate::report::to_markdown(&report()),
        ExportFormat::ReportHtml => crate::report::to_html(&report()),
        ExportFormat::Json => {
            // The record, with the protective marking when one is set.
            let mut value = serde_json::to_value(&incident)?;
            if let (Some(m), Some(map)) = (contract.marking(), value.as_object_mut()) {
                map.insert("marking".into(), serde_json::Value::String(m));
            }
            json_safe(&serde_json::to_string_pretty(&value)?) + "\n"
        }
        ExportFormat::Ics => crate::export::ics(&incident, now, contract.marking().as_deref()),
    };
    match output {
        Some(path) => {
            // Exports hold incident detail: private, and written atomically.
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            let name = path
                .file_name()
                .ok_or_else(|| anyhow!("--output {}: not a file name", path.display()))?
                .to_string_lossy()
                .into_owned();
            crate::durable::replace_file(dir, &name, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?
        }
        None => out.write_all(text.as_bytes())?,
    }
    Ok(())
}

fn audit(setup: &Setup, cmd: AuditCommand, now: DateTime<Utc>, out: &mut impl Write) -> Result<()> {
    match cmd {
        AuditCommand::Verify => {
            let desk = setup.reader()?;
            let log = desk.store.audit();
            let (report, entries) = log.verify_with_entries()?;
            if let Some(first) = &report.first_break {
                bail!(
                    "{}: hash chain broken at {} ({} entries before it verified)",
                    log.path().display(),
                    one_line(&first.to_string()),
                    report.entries
                );
            }
            let problems = desk.store.account(&entries.unwrap_or_default());
            let failures: Vec<_> = problems.iter().filter(|p| p.failure).collect();
            for p in &problems {
                let label = if p.failure { "FAIL" } else { "note" };
                writeln!(out, "{label}  {}", one_line(&p.to_string()))?;
            }
            if !failures.is_empty() {
                bail!(
                    "{}: {} saved revision(s) not accounted for in the audit log (listed above)",
                    log.path().display(),
                    failures.len()
                );
            }
            writeln!(
                out,
                "{}: ok, {} entries, hash chain intact{}; every saved record revision has its entry; head {}",
                log.path().display(),
                report.entries,
                if report.pruned > 0 {
                    format!(" ({} older entries pruned)", report.pruned)
                } else {
                    String::new()
                },
                report.last_hash
            )?;
            Ok(())
        }
        AuditCommand::List { id } => {
            let desk = setup.reader()?;
            let entries = match id {
                Some(id) => desk.audit.entries_for(&desk.store.resolve_id(&id)?)?,
                None => desk.audit.entries()?,
            };
            for e in entries {
                writeln!(
                    out,
                    "{:>6}  {}  {:<16}  {:<24}  {:<22}  {}",
                    e.seq,
                    e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    one_line(&e.actor),
                    one_line(e.incident.as_deref().unwrap_or("-")),
                    one_line(&e.action),
                    one_line(&e.detail)
                )?;
            }
            Ok(())
        }
        AuditCommand::Repair => {
            let desk = setup.desk()?;
            let report = desk.audit.repair(now, &desk.actor)?;
            match report.saved_to {
                Some(saved) => writeln!(
                    out,
                    "set aside {} torn bytes (kept in {}); the hash chain verifies again",
                    report.removed_bytes,
                    saved.display()
                )?,
                None => writeln!(out, "nothing to repair: the hash chain verifies")?,
            }
            Ok(())
        }
        AuditCommand::Prune { older_than_days } => {
            let desk = setup.desk()?;
            let days = older_than_days.unwrap_or(desk.config.audit.retention_days);
            if days < MIN_AUDIT_RETENTION_DAYS {
                bail!(
                    "--older-than-days {days}: breachdesk's audit log is kept at least 6 calendar months ({MIN_AUDIT_RETENTION_DAYS} days)"
                );
            }
            let report = desk.audit.prune(now, days, &desk.actor)?;
            writeln!(
                out,
                "pruned {} entries older than {}; kept {}; {} record revision(s) carried forward",
                report.pruned,
                report
                    .cutoff
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                report.kept,
                report.checkpoints
            )?;
            Ok(())
        }
    }
}

fn quarantine(
    setup: &Setup,
    cmd: QuarantineCommand,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        QuarantineCommand::Sweep => {
            let desk = setup.desk()?;
            let problems = desk.store.load_all().problems;
            if problems.is_empty() {
                writeln!(out, "nothing to move: every record in incidents/ parses")?;
            }
            for problem in problems {
                writeln!(out, "{}", one_line(&problem.to_string()))?;
            }
            Ok(())
        }
        QuarantineCommand::List => {
            let desk = setup.reader()?;
            let files = desk.store.quarantined()?;
            if files.is_empty() {
                writeln!(
                    out,
                    "{}: empty (every record parses)",
                    desk.store.quarantine_dir().display()
                )?;
                return Ok(());
            }
            for q in files {
                let name = q
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let state = match desk.store.restorable(&q.path) {
                    Ok(_) => format!("parses now: breachdesk quarantine restore {name}"),
                    Err(e) => format!("not restorable: {e}"),
                };
                writeln!(
                    out,
                    "{}\t{}\t{} bytes\t{}",
                    q.path.display(),
                    q.id.as_deref().unwrap_or("-"),
                    q.size,
                    one_line(&state)
                )?;
            }
            Ok(())
        }
        QuarantineCommand::Restore { file } => {
            let desk = setup.desk()?;
            let incident = desk.restore_quarantined(&file, now)?;
            writeln!(
                out,
                "{}: restored to {} (revision {})",
                incident.id,
                desk.store.record_path(&incident.id).display(),
                incident.revision
            )?;
            Ok(())
        }
    }
}

fn playbook(setup: &Setup, cmd: PlaybookCommand, out: &mut impl Write) -> Result<()> {
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

fn config(setup: &Setup, cmd: ConfigCommand, out: &mut impl Write) -> Result<()> {
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
            // Setup::from_cli already parsed and validated it; the
            // addresses are checked here too.
            crate::config::Config::check(&setup.config_path)?;
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
            crate::mailcli::check_connection(setup, out)
        }
    }
}
