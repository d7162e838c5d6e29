//! `tokrot apply TARGET`: put a token (pasted hidden, or from stdin) into one place.

use clap::Subcommand;

use super::execute::{Request, execute};
use super::{CliError, Ctx, Outcome, given, parse_param};
use crate::runbook::RunbookKind;

/// Arguments of `tokrot apply`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The token comes from a hidden prompt, or --token-stdin (one line of stdin), or --from ID (the token a rotation keeps); never from a flag."
)]
pub struct ApplyArgs {
    /// Where the token goes.
    #[command(subcommand)]
    pub target: Target,
}

/// Options every target takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Read the token from one line of stdin instead of a hidden prompt.
    #[arg(long, conflicts_with = "from")]
    pub token_stdin: bool,
    /// Use the new token a rotation stashed in the OS keyring (its id: `tokrot history`).
    #[arg(long, value_name = "ID")]
    pub from: Option<String>,
    /// Any other parameter of the runbook (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
}

/// The targets.
#[derive(Debug, Subcommand)]
pub enum Target {
    /// A project (or group) CI/CD variable; its protected/masked/raw/scope settings are kept.
    GitlabCiVar {
        /// Project: numeric id or path like group/project.
        #[arg(long, value_name = "P", conflicts_with = "group")]
        project: Option<String>,
        /// Group: numeric id or path like group/subgroup (for a group variable).
        #[arg(long, value_name = "G")]
        group: Option<String>,
        /// The variable's key.
        #[arg(long, value_name = "KEY")]
        key: Option<String>,
        /// The variable's environment scope [default: *].
        #[arg(long, value_name = "S")]
        environment_scope: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// A project (or group) webhook's secret token; its URL and settings are kept.
    GitlabWebhook {
        /// Project: numeric id or path like group/project.
        #[arg(long, value_name = "P", conflicts_with = "group")]
        project: Option<String>,
        /// Group: numeric id or path like group/subgroup (a group webhook: GitLab Premium).
        #[arg(long, value_name = "G")]
        group: Option<String>,
        /// The webhook's id.
        #[arg(long, value_name = "N")]
        hook_id: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// An instance-level CI/CD variable (administrators of a self-managed GitLab); its
    /// protected/masked/raw settings are kept.
    GitlabInstanceVar {
        /// The variable's key.
        #[arg(long, value_name = "KEY")]
        key: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// One setting of a Zendesk app installation, and nothing else.
    ZendeskApp {
        /// The Zendesk instance.
        #[arg(long, value_name = "I")]
        instance: Option<String>,
        /// The app installation's id.
        #[arg(long, value_name = "N")]
        installation_id: Option<String>,
        /// The setting that holds the token.
        #[arg(long, value_name = "NAME")]
        setting: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// A Zendesk webhook: the token in its endpoint URL, or its credential (type kept).
    ZendeskWebhook {
        /// The Zendesk instance.
        #[arg(long, value_name = "I")]
        instance: Option<String>,
        /// The webhook's id.
        #[arg(long, value_name = "ID")]
        webhook_id: Option<String>,
        /// User name of a basic_auth webhook [default: the one Zendesk shows].
        #[arg(long, value_name = "NAME", conflicts_with = "header_name")]
        username: Option<String>,
        /// Header name of an api_key webhook [default: the one Zendesk shows, if it does].
        #[arg(long, value_name = "NAME")]
        header_name: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

impl Target {
    /// The apply runbook, the parameters its flags give, and the options every target takes.
    fn request(&self) -> (&'static str, Vec<(String, String)>, &Common) {
        match self {
            Target::GitlabCiVar {
                project,
                group,
                key,
                environment_scope,
                common,
            } => (
                "gitlab-ci-var",
                given(&[
                    ("project", project),
                    ("group", group),
                    ("key", key),
                    ("environment_scope", environment_scope),
                ]),
                common,
            ),
            Target::GitlabWebhook {
                project,
                group,
                hook_id,
                common,
            } => (
                "gitlab-webhook",
                given(&[("project", project), ("group", group), ("hook_id", hook_id)]),
                common,
            ),
            Target::GitlabInstanceVar { key, common } => {
                ("gitlab-instance-var", given(&[("key", key)]), common)
            }
            Target::ZendeskApp {
                instance,
                installation_id,
                setting,
                common,
            } => (
                "zendesk-app",
                given(&[
                    ("instance", instance),
                    ("installation_id", installation_id),
                    ("setting", setting),
                ]),
                common,
            ),
            Target::ZendeskWebhook {
                instance,
                webhook_id,
                username,
                header_name,
                common,
            } => (
                "zendesk-webhook",
                given(&[
                    ("instance", instance),
                    ("webhook_id", webhook_id),
                    ("username", username),
                    ("header_name", header_name),
                ]),
                common,
            ),
        }
    }
}

/// Applies.
pub async fn run(ctx: &mut Ctx, args: &ApplyArgs) -> Result<Outcome, CliError> {
    let (runbook, mut given, common) = args.target.request();
    given.extend(common.params.iter().cloned());
    execute(
        ctx,
        Request {
            command: format!("tokrot apply {runbook}"),
            runbook: runbook.to_owned(),
            kind: Some(RunbookKind::Apply),
            given,
            targets: Vec::new(),
            token_stdin: common.token_stdin,
            no_stash: false,
            from: common.from.clone(),
            keep: false,
            credential: None,
            allow_hosts: Default::default(),
        },
    )
    .await
}
