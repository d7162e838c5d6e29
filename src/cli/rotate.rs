//! `tokrot rotate SOURCE`: make a new token and put it into every `--apply-to` target.

use clap::Subcommand;

use super::execute::{Request, execute};
use super::{CliError, Ctx, Outcome, given, parse_param, parse_target};
use crate::inventory::target::{TargetSpec, spec_forms};
use crate::runbook::RunbookKind;

/// The target forms, a form a line and its meaning indented under it (no table to break on a
/// narrow terminal).
fn targets_help() -> String {
    let mut s = String::from("Targets (--apply-to SPEC, repeatable):");
    for (form, what) in spec_forms() {
        s.push_str(&format!("\n  {form}\n      {what}"));
    }
    s
}

/// Arguments of `tokrot rotate`.
#[derive(Debug, clap::Args)]
#[command(after_help = targets_help(), args_conflicts_with_subcommands = true)]
pub struct RotateArgs {
    /// The kind of token.
    #[command(subcommand)]
    pub source: Option<Source>,
    /// Rotate a credential of the inventory: its runbook, parameters and targets come from
    /// there (--apply-to adds more), and its id there is updated to the new token's.
    #[arg(long, value_name = "NAME", conflicts_with = "due")]
    pub credential: Option<String>,
    /// Rotate every inventory credential that is expired or due, each as its own run, side by
    /// side. Exits 1 (or worse) whenever a due credential was not rotated (it needs a human, it
    /// could not be read, it is expired or revoked, its entry is wrong, its run failed), naming
    /// each and why.
    #[arg(long)]
    pub due: bool,
    /// With --due: due means expiring within DAYS [default: the inventory's rotate_before_days].
    #[arg(long, value_name = "DAYS", requires = "due", value_parser = clap::value_parser!(u32).range(0..=365))]
    pub within: Option<u32>,
    /// More targets for --credential (repeatable).
    #[arg(long = "apply-to", value_name = "SPEC", value_parser = parse_target, requires = "credential")]
    pub apply_to: Vec<TargetSpec>,
    /// With --credential: see `tokrot rotate SOURCE --help`.
    #[arg(long, requires = "credential")]
    pub no_stash: bool,
    /// With --credential: see `tokrot rotate SOURCE --help`.
    #[arg(long, conflicts_with = "no_stash", requires = "credential")]
    pub keep: bool,
}

/// Options every source takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Where the new token goes (repeatable); see `tokrot rotate --help` for the forms.
    #[arg(long = "apply-to", value_name = "SPEC", value_parser = parse_target)]
    pub apply_to: Vec<TargetSpec>,
    /// Any other parameter of the runbook (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Rotate even when the OS keyring cannot keep the new token (it is then only in memory,
    /// and lost if the run dies before every target has it).
    #[arg(long)]
    pub no_stash: bool,
    /// Keep the new token in the OS keyring instead of putting it anywhere now; put it into
    /// place later with `tokrot apply TARGET --from ID` (a rotation with no target is otherwise
    /// refused: a new token that goes nowhere is a lost token). Steps that retire the old token
    /// (delete, revoke) wait too: `tokrot resume ID` carries them out once the new one is in place.
    #[arg(long, conflicts_with = "no_stash")]
    pub keep: bool,
}

/// The token sources.
#[derive(Debug, Subcommand)]
pub enum Source {
    /// A Zendesk API token, made by hand in Admin Center and pasted once, hidden (retiring).
    ZendeskApi {
        /// The Zendesk instance (see `tokrot instances`).
        #[arg(long, value_name = "I")]
        instance: Option<String>,
        /// The new token's description (normally the link to the project using it).
        #[arg(long, value_name = "TEXT")]
        name: Option<String>,
        /// Email of the Zendesk user that verifies the new token.
        #[arg(
            long,
            value_name = "ADDR",
            env = "ZENDESK_EMAIL",
            hide_env_values = true
        )]
        email: Option<String>,
        /// Read the token made in Admin Center from one line of stdin instead of a hidden prompt.
        #[arg(long)]
        token_stdin: bool,
        #[command(flatten)]
        common: Common,
    },
    /// A Zendesk OAuth access token, created and the old one revoked through the API.
    ZendeskOauth {
        /// The Zendesk instance.
        #[arg(long, value_name = "I")]
        instance: Option<String>,
        /// The OAuth client's id.
        #[arg(long, value_name = "N")]
        client_id: Option<String>,
        /// Scopes of the new token, comma separated [default: the old token's].
        #[arg(long, value_name = "a,b")]
        scopes: Option<String>,
        /// The token to revoke once the new one is in place.
        #[arg(long, value_name = "N")]
        old_token_id: Option<String>,
        /// The new token may act as you when the old one acted as another user (an integration
        /// user, a colleague): its consumers then act as you, with your role.
        #[arg(long)]
        as_caller: bool,
        #[command(flatten)]
        common: Common,
    },
    /// A Zendesk webhook's signing secret: reset (the old one stops at once) and put into the
    /// receivers that verify the webhook's signatures, in the same run.
    ZendeskWebhookSecret {
        /// The Zendesk instance.
        #[arg(long, value_name = "I")]
        instance: Option<String>,
        /// The webhook's id.
        #[arg(long, value_name = "ID")]
        webhook_id: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// A GitLab personal access token.
    GitlabPat {
        /// The token's id.
        #[arg(long, value_name = "N", conflicts_with_all = ["token_name", "self_"])]
        token_id: Option<String>,
        /// The token's name.
        #[arg(long, value_name = "TEXT", conflicts_with = "self_")]
        token_name: Option<String>,
        /// The token tokrot itself uses (GITLAB_TOKEN).
        #[arg(long = "self", id = "self_")]
        self_: bool,
        /// Expiry of the new token [default: the old token's lifetime, at most 365 days].
        #[arg(long, value_name = "YYYY-MM-DD")]
        expires_at: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// A GitLab project access token.
    GitlabProjectToken {
        /// Project: numeric id or path like group/project.
        #[arg(long, value_name = "P")]
        project: Option<String>,
        /// The token's id.
        #[arg(long, value_name = "N", conflicts_with = "token_name")]
        token_id: Option<String>,
        /// The token's name.
        #[arg(long, value_name = "TEXT")]
        token_name: Option<String>,
        /// Expiry of the new token [default: the old token's lifetime, at most 365 days].
        #[arg(long, value_name = "YYYY-MM-DD")]
        expires_at: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// A GitLab group access token.
    GitlabGroupToken {
        /// Group: numeric id or path like group/subgroup.
        #[arg(long, value_name = "G")]
        group: Option<String>,
        /// The token's id.
        #[arg(long, value_name = "N", conflicts_with = "token_name")]
        token_id: Option<String>,
        /// The token's name.
        #[arg(long, value_name = "TEXT")]
        token_name: Option<String>,
        /// Expiry of the new token [default: the old token's lifetime, at most 365 days].
        #[arg(long, value_name = "YYYY-MM-DD")]
        expires_at: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// A GitLab pipeline trigger token: new trigger, apply, delete the old one.
    GitlabTrigger {
        /// Project: numeric id or path like group/project.
        #[arg(long, value_name = "P")]
        project: Option<String>,
        /// The trigger to replace.
        #[arg(long, value_name = "N")]
        trigger_id: Option<String>,
        /// Where the token is used; sets the description by the naming rule:
        /// zendesk-webhook:I:ID, zendesk-app:I:NAME_OF_APP, ci-job:NAME or project:URL.
        #[arg(long = "for", value_name = "CONSUMER")]
        consumer: Option<String>,
        /// The new trigger's description, instead of the one --for builds.
        #[arg(long, value_name = "TEXT", conflicts_with = "consumer")]
        description: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// A GitLab pipeline trigger token owned by a project's service bot.
    GitlabTriggerBot {
        /// Project: numeric id or path like group/project.
        #[arg(long, value_name = "P")]
        project: Option<String>,
        /// Where the token is used (see gitlab-trigger --for).
        #[arg(long = "for", value_name = "CONSUMER")]
        consumer: Option<String>,
        /// The new trigger's description, instead of the one --for builds.
        #[arg(long, value_name = "TEXT", conflicts_with = "consumer")]
        description: Option<String>,
        /// Name of the project access token that will own the trigger.
        #[arg(long, value_name = "TEXT")]
        bot_token_name: Option<String>,
        /// Expiry of the project access token [default: 365 days from today].
        #[arg(long, value_name = "YYYY-MM-DD")]
        expires_at: Option<String>,
        /// The trigger being replaced, deleted once the new token is in place.
        #[arg(long, value_name = "N")]
        old_trigger_id: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

type Given = Vec<(String, String)>;

impl Source {
    /// The runbook id.
    fn runbook(&self) -> &'static str {
        match self {
            Source::ZendeskApi { .. } => "zendesk-api",
            Source::ZendeskOauth { .. } => "zendesk-oauth",
            Source::ZendeskWebhookSecret { .. } => "zendesk-webhook-secret",
            Source::GitlabPat { .. } => "gitlab-pat",
            Source::GitlabProjectToken { .. } => "gitlab-project-token",
            Source::GitlabGroupToken { .. } => "gitlab-group-token",
            Source::GitlabTrigger { .. } => "gitlab-trigger",
            Source::GitlabTriggerBot { .. } => "gitlab-trigger-bot",
        }
    }

    /// The options every source takes.
    fn common(&self) -> &Common {
        match self {
            Source::ZendeskApi { common, .. }
            | Source::ZendeskOauth { common, .. }
            | Source::ZendeskWebhookSecret { common, .. }
            | Source::GitlabPat { common, .. }
            | Source::GitlabProjectToken { common, .. }
            | Source::GitlabGroupToken { common, .. }
            | Source::GitlabTrigger { common, .. }
            | Source::GitlabTriggerBot { common, .. } => common,
        }
    }

    /// The runbook's parameters the flags give (`--self` is the token id `self`): a table,
    /// one source a row, laid out as one.
    #[rustfmt::skip]
    fn given(&self) -> Given {
        match self {
            Source::ZendeskApi { instance, name, email, .. } =>
                given(&[("instance", instance), ("name", name), ("email", email)]),
            Source::ZendeskOauth { instance, client_id, scopes, old_token_id, as_caller, .. } => {
                let as_caller = as_caller.then(|| "yes".to_owned());
                given(&[("instance", instance), ("client_id", client_id), ("scopes", scopes),
                        ("old_token_id", old_token_id), ("as_caller", &as_caller)])
            }
            Source::ZendeskWebhookSecret { instance, webhook_id, .. } =>
                given(&[("instance", instance), ("webhook_id", webhook_id)]),
            Source::GitlabPat { token_id, token_name, self_, expires_at, .. } => {
                let token_id = if *self_ { Some("self".to_owned()) } else { token_id.clone() };
                given(&[("token_id", &token_id), ("token_name", token_name),
                        ("expires_at", expires_at)])
            }
            Source::GitlabProjectToken { project, token_id, token_name, expires_at, .. } =>
                given(&[("project", project), ("token_id", token_id), ("token_name", token_name),
                        ("expires_at", expires_at)]),
            Source::GitlabGroupToken { group, token_id, token_name, expires_at, .. } =>
                given(&[("group", group), ("token_id", token_id), ("token_name", token_name),
                        ("expires_at", expires_at)]),
            Source::GitlabTrigger { project, trigger_id, consumer, description, .. } =>
                given(&[("project", project), ("trigger_id", trigger_id), ("consumer", consumer),
                        ("description", description)]),
            Source::GitlabTriggerBot {
                project, consumer, description, bot_token_name, expires_at, old_trigger_id, ..
            } => given(&[("project", project), ("consumer", consumer),
                         ("description", description), ("bot_token_name", bot_token_name),
                         ("expires_at", expires_at), ("old_trigger_id", old_trigger_id)]),
        }
    }
}

/// The parameter of a rotate runbook that holds its source's id, rewritten in the inventory
/// once a rotation gives the source a new one.
/// The parameter an inventory entry's id is rewritten in after a rotation: only one the entry
/// sets (a token named by name keeps its name), and not `self`, which names tokrot's own token
/// whatever its id.
pub(crate) fn rewritten_param<'a>(
    runbook: &str,
    value_of: impl Fn(&str) -> Option<&'a str>,
) -> Option<&'static str> {
    id_param(runbook).filter(|p| value_of(p).is_some_and(|v| v != "self"))
}

pub(crate) fn id_param(runbook: &str) -> Option<&'static str> {
    crate::inventory::source::of(runbook).and_then(|k| k.id_param)
}

/// Rotates an inventory credential.
async fn rotate_credential(
    ctx: &mut Ctx,
    args: &RotateArgs,
    name: &str,
) -> Result<Outcome, CliError> {
    let inventory = super::inventory::load(ctx)?;
    let c = inventory
        .credential(name)
        .map_err(super::error::inventory_error)?
        .clone();
    let mut targets = c.targets.clone();
    for t in &args.apply_to {
        // One target, one credential, also for a target added on the command line.
        if let Some(other) = inventory.writer_of(t, &c.name) {
            return Err(CliError::usage(format!(
                "target `{t}` is written by credential `{}` of the inventory: it can hold only one token, and the other would be lost; nothing was changed",
                other.name
            ))
            .hint(format!("rotate `{}`, or move the target to `{name}` in the inventory", other.name)));
        }
        if !targets.contains(t) {
            targets.push(t.clone());
        }
    }
    let id_param = rewritten_param(&c.runbook, |p| c.param(p));
    execute(
        ctx,
        Request {
            command: format!("tokrot rotate --credential {name}"),
            runbook: c.runbook.clone(),
            kind: Some(RunbookKind::Rotate),
            given: super::inventory::params_of(&c, &ctx.catalogue),
            targets,
            token_stdin: false,
            no_stash: args.no_stash,
            from: None,
            keep: args.keep,
            credential: Some(super::execute::InventoryRef {
                name: c.name.clone(),
                // Absolute, so that a `resume` from another directory finds the same file.
                path: std::path::absolute(&inventory.path).unwrap_or(inventory.path.clone()),
                id_param,
                old_id: id_param.and_then(|p| c.param(p)).map(str::to_owned),
            }),
            allow_hosts: c.allow_hosts.clone(),
        },
    )
    .await
}

/// Rotates.
pub async fn run(ctx: &mut Ctx, args: &RotateArgs) -> Result<Outcome, CliError> {
    let source = match (&args.source, &args.credential) {
        (Some(source), _) => source,
        (None, Some(name)) => return rotate_credential(ctx, args, name).await,
        (None, None) if args.due => return super::due::run(ctx, args.within).await,
        (None, None) => {
            return Err(CliError::usage("give the kind of token to rotate, or --credential NAME")
                .hint("`tokrot rotate --help` lists the kinds; `tokrot status` the inventory's credentials"));
        }
    };
    let (runbook, mut given, common) = (source.runbook(), source.given(), source.common());
    let token_stdin = matches!(
        source,
        Source::ZendeskApi {
            token_stdin: true,
            ..
        }
    );
    given.extend(common.params.iter().cloned());
    execute(
        ctx,
        Request {
            command: format!("tokrot rotate {runbook}"),
            runbook: runbook.to_owned(),
            kind: Some(RunbookKind::Rotate),
            given,
            targets: common.apply_to.clone(),
            token_stdin,
            no_stash: common.no_stash,
            from: None,
            keep: common.keep,
            credential: None,
            allow_hosts: Default::default(),
        },
    )
    .await
}

/// `tokrot rotate NAME` where NAME is no runbook but a credential of the inventory: the
/// message and the command that takes it (`tokrot rotate --credential NAME`).
pub(super) fn credential_as_runbook(err: &clap::Error) -> Option<(String, String)> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() != ErrorKind::InvalidSubcommand {
        return None;
    }
    let Some(ContextValue::String(name)) = err.get(ContextKind::InvalidSubcommand) else {
        return None;
    };
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    if !args[..at].iter().any(|a| a == "rotate") {
        return None;
    }
    // The inventory as the command would find it; only the names are read, nothing is checked.
    let explicit = args
        .windows(2)
        .find(|w| w[0] == "--inventory")
        .map(|w| std::path::PathBuf::from(&w[1]))
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--inventory="))
                .map(std::path::PathBuf::from)
        })
        .or_else(|| std::env::var_os("TOKROT_INVENTORY").map(std::path::PathBuf::from));
    let path = explicit.or_else(crate::inventory::default_path)?;
    // Read as the inventory is: a plain file of bounded size, never a FIFO that blocks.
    let text = crate::inventory::read_bounded(&path).ok()?;
    let doc: toml::Value = toml::from_str(&text).ok()?;
    let named = doc
        .get("credential")?
        .as_array()?
        .iter()
        .any(|c| c.get("name").and_then(toml::Value::as_str) == Some(name.as_str()));
    named.then(|| {
        (
            format!(
                "`{name}` is a credential of the inventory {}, not a runbook",
                path.display()
            ),
            format!("tokrot rotate --credential {name}"),
        )
    })
}
