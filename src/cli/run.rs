//! `tokrot run RUNBOOK`: any runbook by id, e.g. the zendesk-oauth-integration checklist.

use super::execute::{Request, execute, find};
use super::{CliError, Ctx, Outcome, parse_param, parse_target};
use crate::inventory::target::TargetSpec;

/// Arguments of `tokrot run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The runbook id (see `tokrot list`).
    pub runbook: String,
    /// The Zendesk instance, for runbooks that have one.
    #[arg(long, value_name = "I")]
    pub instance: Option<String>,
    /// A parameter of the runbook (repeatable); `tokrot show RUNBOOK` lists them.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Where the new token goes, for rotate runbooks (repeatable).
    #[arg(long = "apply-to", value_name = "SPEC", value_parser = parse_target)]
    pub apply_to: Vec<TargetSpec>,
    /// Read the token for the runbook's capture step from one line of stdin.
    #[arg(long)]
    pub token_stdin: bool,
    /// For rotate runbooks: rotate even when the OS keyring cannot keep the new token.
    #[arg(long)]
    pub no_stash: bool,
    /// For rotate runbooks: keep the new token in the keyring, for `tokrot apply … --from ID`.
    #[arg(long, conflicts_with = "no_stash")]
    pub keep: bool,
}

/// Walks the runbook.
pub async fn run(ctx: &mut Ctx, args: &RunArgs) -> Result<Outcome, CliError> {
    let runbook = find(ctx, &args.runbook)?.id.clone();
    let mut given = args.params.clone();
    if let Some(i) = &args.instance {
        given.push(("instance".into(), i.clone()));
    }
    execute(
        ctx,
        Request {
            command: format!("tokrot run {runbook}"),
            runbook,
            kind: None,
            given,
            targets: args.apply_to.clone(),
            token_stdin: args.token_stdin,
            no_stash: args.no_stash,
            from: None,
            keep: args.keep,
            credential: None,
            allow_hosts: Default::default(),
        },
    )
    .await
}
