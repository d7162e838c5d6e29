//! The command line: global options, the command enum and its dispatch. Each command lives in
//! its own file with its arguments and its `run`.

mod apply;
mod auth;
mod checklist;
pub mod completions;
mod context;
mod discover;
mod document;
mod due;
pub mod error;
mod execute;
pub mod help;
mod history;
mod instances;
mod inventory;
mod jq;
mod list;
mod man;
mod report;
mod reporter;
mod resume;
mod rotate;
mod run;
mod show;
mod status;
mod vendors;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub use context::{Ctx, colour};
pub use error::CliError;

/// What `tokrot --help` says first, after the options.
pub(crate) const NEVER_SHOWN: &str = "A new token is never printed: it goes from the vendor's response (or a hidden paste) straight into its targets. --dry-run changes nothing and reads no secret.";

/// How a scheduled job reads the exit codes.
pub(crate) const SCHEDULED: &str = "`tokrot status --check` and `tokrot rotate --due` exit 1 when something needs a person (each named on stderr): a scheduled job is red exactly then.";

/// The end of `tokrot --help`: the promise, the exit codes, and where more is said.
fn after_help() -> String {
    let codes: Vec<String> = crate::exit::MEANINGS
        .iter()
        .map(|(code, meaning)| format!("  {code:<4} {meaning}"))
        .collect();
    format!(
        "{NEVER_SHOWN}\n\nExit codes:\n{}\n\n{SCHEDULED}\n\n`tokrot man` prints the manual page; `tokrot COMMAND --help` says more about each command.",
        codes.join("\n")
    )
}

/// tokrot: rotate GitLab and Zendesk API tokens and put the new token into place, without ever showing it.
#[derive(Debug, Parser)]
#[command(name = "tokrot", version, about, after_help = after_help(), propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Reads the command line. A mistake in it is an error like any other: on stderr, and under
/// `--output json` (as far as the command line says so) a JSON error document on stdout; exit 2.
pub fn parse_args() -> Cli {
    use clap::FromArgMatches;
    // Bare `tokrot`: the short help, as gh gives it, not an error.
    if std::env::args_os().len() == 1 {
        crate::ui::raw_out(help::short().trim_end());
        std::process::exit(crate::exit::OK);
    }
    let parsed = command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let err = match parsed {
        Ok(mut cli) => {
            if cli.global.jq.is_some() {
                cli.global.output = OutputFormat::Json;
            }
            return cli;
        }
        Err(e) => e,
    };
    if let Some((message, hint)) = rotate::credential_as_runbook(&err) {
        let e = CliError::usage(message).hint(hint);
        crate::terminal::raw_status(&crate::text::terminal_safe(&e.to_string(), false));
        // Under --jq, stdout is the filter's: the error is said on stderr only.
        if json_asked(std::env::args()) && !jq_asked(std::env::args()) {
            crate::ui::raw_out(&e.to_json().to_string());
        }
        std::process::exit(crate::exit::USAGE);
    }
    if !err.use_stderr() || !json_asked(std::env::args()) || jq_asked(std::env::args()) {
        err.exit();
    }
    let _ = err.print();
    let rendered = err.render().to_string();
    let message = rendered
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned();
    let doc = CliError::usage(message).to_json();
    crate::ui::raw_out(&doc.to_string());
    std::process::exit(crate::exit::USAGE);
}

/// Whether a command line has `--jq` (its stdout is the filter's).
fn jq_asked(mut args: impl Iterator<Item = String>) -> bool {
    args.any(|a| a == "--jq" || a.starts_with("--jq="))
}

/// Whether a command line asks for JSON (`--output json` or `--output=json`).
fn json_asked(args: impl Iterator<Item = String>) -> bool {
    let args: Vec<String> = args.collect();
    args.windows(2)
        .any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json")
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for people.
    Text,
    /// One JSON document on stdout, no secret in it.
    Json,
}

/// Options every command takes, before or after the command; help lists them under their own
/// heading, after the command's own.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Configuration file [default: $XDG_CONFIG_HOME/tokrot/config.toml, may be absent].
    #[arg(long, global = true, env = "TOKROT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra runbooks; one with the same id overrides the embedded one.
    #[arg(long, global = true, env = "TOKROT_RUNBOOKS", value_name = "DIR")]
    pub runbooks: Option<PathBuf>,
    /// The inventory of tokens and where each is used [default: ./tokrot.toml, else
    /// $XDG_CONFIG_HOME/tokrot/inventory.toml].
    #[arg(long, global = true, env = "TOKROT_INVENTORY", value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Journal and audit log [default: $XDG_STATE_HOME/tokrot].
    #[arg(long, global = true, env = "TOKROT_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// GitLab base URL [default: https://gitlab.com, or the config file's].
    #[arg(
        long,
        global = true,
        env = "GITLAB_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub gitlab_url: Option<String>,
    /// How many targets are checked and written at once.
    #[arg(long, global = true, env = "TOKROT_CONCURRENCY", value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Seconds one API request may take before its answer counts as lost.
    #[arg(long, global = true, env = "TOKROT_HTTP_TIMEOUT", value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub http_timeout: u64,
    /// The longest wait for a vendor's rate limit that the run accepts, in seconds, in all for
    /// one API call: a wait the vendor asks for (Retry-After, a spent window) up to this is
    /// honoured and said; past it the call fails with its target, never hangs.
    #[arg(long, global = true, env = "TOKROT_MAX_WAIT", value_name = "SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub max_wait: u64,
    /// Change nothing: print the checklist and the API calls a run would make, and run its
    /// read-only checks when the credentials are there.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Never prompt: confirmations are yes; every value must come from flags or stdin. Gates
    /// (human decisions) are not answered by --yes: see --approve.
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// Pass one gate unattended (repeatable); the evidence (e.g. the access request's URL) and
    /// who approved are kept in the journal and the audit log. `tokrot show RUNBOOK` names the gates.
    #[arg(long = "approve", global = true, value_name = "GATE_ID[=EVIDENCE]")]
    pub approve_given: Vec<String>,
    /// `--approve`, checked (`refuse_secret_evidence`): parsed here rather than by clap, whose
    /// error would print a refused value, and a refused value may be a token.
    #[arg(skip)]
    pub approve: Vec<crate::engine::walk::Approval>,
    /// Output format; json prints one document on stdout at the end.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text, value_name = "FORMAT")]
    pub output: OutputFormat,
    /// Print what this jq expression makes of the JSON document instead of the document (jq's
    /// language; implies --output json): each result on a line, a string as its text. Checked
    /// before anything runs; a mistake in it is exit 2.
    #[arg(long, global = true, value_name = "EXPR")]
    pub jq: Option<String>,
    /// More detail on stderr (repeatable).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Never page long output. Otherwise, on a terminal, it goes through TOKROT_PAGER, else
    /// PAGER, else `less -FRX`.
    #[arg(long, global = true)]
    pub no_pager: bool,
    /// No colours. Colour is decided for stdout and stderr apart: only on a terminal, never
    /// when NO_COLOR holds anything, always when CLICOLOR_FORCE does (and is not 0).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the runbooks: id, kind, title.
    List(list::ListArgs),
    /// Print a runbook's numbered checklist (no network).
    Show(show::ShowArgs),
    /// List the Zendesk instances and the GitLab URL, built-in and configured.
    Instances(instances::InstancesArgs),
    /// Make a new token and put it into place.
    Rotate(rotate::RotateArgs),
    /// Put a token into one place.
    Apply(apply::ApplyArgs),
    /// Walk through any runbook by id, e.g. zendesk-oauth-integration.
    Run(run::RunArgs),
    /// Finish an interrupted or partly failed rotation (the latest when ID is left out).
    Resume(resume::ResumeArgs),
    /// Past rotations from the journal, no secrets.
    History(history::HistoryArgs),
    /// The tool's own credentials in the OS keyring: login, logout, status.
    Auth(auth::AuthArgs),
    /// Every known token: expiry, consumers, what is due (from the inventory and the vendors).
    Status(status::StatusArgs),
    /// The inventory of tokens: check it.
    Inventory(inventory::InventoryArgs),
    /// Print a shell completion script (it completes runbook ids, instances, run ids and more).
    Completions(completions::CompletionsArgs),
    /// Print the manual page, or write every command's page into a directory.
    Man(man::ManArgs),
}

/// `--approve` evidence is kept in the journal, the audit log and `history`: one that holds a
/// credential tokrot is given (its environment variables) is refused before anything starts.
/// (A vendor's token format is refused when the option is parsed.)
fn refuse_secret_evidence(ctx: &Ctx) -> Result<(), CliError> {
    const CREDENTIALS: [&str; 3] = ["GITLAB_TOKEN", "ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN"];
    let held: Vec<String> = CREDENTIALS
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| v.len() >= 8)
        .collect();
    for a in &ctx.global.approve {
        if let Some(e) = &a.evidence
            && held.iter().any(|h| e.contains(h.as_str()))
        {
            return Err(CliError::usage(format!(
                "the evidence for gate `{}` holds a credential tokrot is given; nothing was changed",
                a.gate
            ))
            .hint("give a link or a ticket number as evidence, never a token"));
        }
    }
    Ok(())
}

/// Runs a parsed command line.
pub async fn dispatch(cli: Cli) -> Result<Outcome, CliError> {
    // Text that needs no configuration: a broken config file or GITLAB_URL must not keep a
    // manual page or a completion script from the operator.
    let bare = || {
        crate::ui::Ui::stdio(
            crate::secret::Redactor::default(),
            (false, false),
            cli.global.quiet,
        )
    };
    match &cli.command {
        Command::Completions(args) => return completions::run(&mut bare(), args),
        Command::Man(args) => return man::run(&mut bare(), args),
        _ => {}
    }
    let mut global = cli.global;
    global.approve = global
        .approve_given
        .iter()
        .map(|a| {
            a.parse()
                .map_err(|e: String| CliError::usage(format!("--approve: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let mut ctx = Ctx::new(global)?;
    crate::logging::init(ctx.global.verbose, ctx.ui.redactor());
    refuse_secret_evidence(&ctx)?;
    let result = match &cli.command {
        Command::List(args) => list::run(&mut ctx, args),
        Command::Show(args) => show::run(&mut ctx, args),
        Command::Instances(args) => instances::run(&mut ctx, args),
        Command::Rotate(args) => rotate::run(&mut ctx, args).await,
        Command::Apply(args) => apply::run(&mut ctx, args).await,
        Command::Run(args) => run::run(&mut ctx, args).await,
        Command::Resume(args) => resume::run(&mut ctx, args).await,
        Command::History(args) => history::run(&mut ctx, args),
        Command::Auth(args) => auth::run(&mut ctx, args).await,
        Command::Inventory(args) => inventory::run(&mut ctx, args).await,
        Command::Status(args) => status::run(&mut ctx, args).await,
        // Answered above, before the configuration was read.
        Command::Completions(_) | Command::Man(_) => Ok(Outcome::Done),
    };
    let redactor = ctx.ui.redactor().clone();
    result.map_err(|e| e.map_text(|t| redactor.redact(t)))
}

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Done,
    /// Stopped by the operator or a gate (exit 4).
    Stopped,
    /// Rotated, but some targets were not updated (exit 3).
    Incomplete,
}

impl Outcome {
    /// The process's exit code for it.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Done => crate::exit::OK,
            Outcome::Stopped => crate::exit::STOPPED,
            Outcome::Incomplete => crate::exit::INCOMPLETE,
        }
    }
}

/// The command line's definition, with every page's examples and required markers (`help`),
/// and the completers of the values only tokrot knows (`completions`).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    completions::attach(help::decorate(Cli::command(), ""))
}

/// The parameters that flags gave: `(name, value)` for each flag that is set.
pub(crate) fn given(pairs: &[(&str, &Option<String>)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| ((*k).to_owned(), v.clone())))
        .collect()
}

/// Parses `KEY=VALUE` for `--param`.
pub(crate) fn parse_param(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))?;
    let key = k.trim().replace('-', "_");
    if key.is_empty() {
        return Err(format!("`{s}` has no key before `=`"));
    }
    Ok((key, v.to_owned()))
}

/// Parses an `--apply-to` spec.
pub(crate) fn parse_target(s: &str) -> Result<crate::inventory::target::TargetSpec, String> {
    s.parse()
        .map_err(|e: crate::inventory::target::TargetSpecError| e.to_string())
}
