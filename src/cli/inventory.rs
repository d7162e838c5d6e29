//! `tokrot inventory check`: the inventory file validated, then each credential's read-only
//! preflight (the source exists and is active, every target exists and can be written), one line
//! per credential; exit 2 when any fails. Nothing is changed. (`inventory discover`: `discover`.)

use serde_json::json;

use super::execute::clients_for;
use super::{CliError, Ctx, Outcome};
use crate::engine::plan::{Mode, resolve};
use crate::engine::protocol;
use crate::inventory::{self, Credential, Inventory};
use crate::runbook::Catalogue;

/// Arguments of `tokrot inventory`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The inventory is --inventory FILE (env TOKROT_INVENTORY), else ./tokrot.toml, \
else $XDG_CONFIG_HOME/tokrot/inventory.toml. Its format: README.md, \"Keeping track of tokens\"."
)]
pub struct InventoryArgs {
    #[command(subcommand)]
    command: InventoryCommand,
}

#[derive(Debug, clap::Subcommand)]
enum InventoryCommand {
    /// Validate the inventory and run each credential's read-only preflight (changes nothing).
    Check,
    /// Draft entries from the tokens the vendors list and the consumers their names and values
    /// point to, reading no secret; prints TOML to add, or merges it with --write.
    Discover(super::discover::DiscoverArgs),
}

/// Loads the inventory the command line names, or the one found; its errors are exit 2.
pub(crate) fn load(ctx: &Ctx) -> Result<Inventory, CliError> {
    inventory::load(ctx.global.inventory.as_deref(), &ctx.catalogue)
        .map_err(super::error::inventory_error)
}

/// Runs an `inventory` command.
pub async fn run(ctx: &mut Ctx, args: &InventoryArgs) -> Result<Outcome, CliError> {
    match &args.command {
        InventoryCommand::Check => check(ctx).await,
        InventoryCommand::Discover(d) => super::discover::run(ctx, d).await,
    }
}

/// Parameters whose flag also reads an environment variable (`rotate zendesk-api --email`
/// reads `ZENDESK_EMAIL`): a credential of the inventory gets the same value the flag would.
const PARAM_ENV: &[(&str, &str)] = &[("email", "ZENDESK_EMAIL")];

/// A credential's parameters as the flags would give them: its own, and those the flags' own
/// environment variables give where it names none — only for a runbook that has that parameter
/// (`ZENDESK_EMAIL`, there for tokrot's own Zendesk credential, is no parameter of `gitlab-pat`).
pub(crate) fn params_of(c: &Credential, catalogue: &Catalogue) -> Vec<(String, String)> {
    let mut params = c.params.clone();
    let has = |name: &str| {
        catalogue
            .get(&c.runbook)
            .is_some_and(|r| r.param(name).is_some())
    };
    for (name, var) in PARAM_ENV {
        if c.param(name).is_none()
            && has(name)
            && let Ok(value) = std::env::var(var)
            && !value.trim().is_empty()
        {
            params.push(((*name).to_owned(), value));
        }
    }
    params
}

/// One credential's preflight: how many checks passed, or the first that failed.
async fn preflight(ctx: &Ctx, c: &Credential) -> Result<usize, String> {
    let runbook = ctx
        .catalogue
        .get(&c.runbook)
        .ok_or_else(|| format!("no runbook `{}`", c.runbook))?;
    let plan = resolve(
        runbook,
        &params_of(c, &ctx.catalogue),
        &c.targets,
        Mode::Resolve,
        &ctx.config,
        &ctx.catalogue,
    )
    .map_err(|e| e.to_string())?;
    if let Some(m) = plan.missing.first() {
        return Err(format!(
            "needs {} ({}) in its params",
            m.param.name, m.param.prompt
        ));
    }
    if c.targets.is_empty() {
        return Err("no targets: a rotation with nowhere to put its token is refused".into());
    }
    let command = format!("tokrot rotate --credential {}", c.name);
    let clients = clients_for(ctx, &plan.steps, &command).map_err(|e| e.message.clone())?;
    let results = protocol::read_only_checks(
        &plan,
        clients,
        ctx.ui.redactor(),
        ctx.policy(),
        c.allow_hosts.clone(),
    )
    .await;
    match results
        .iter()
        .find_map(|(n, what, r)| r.as_ref().err().map(|e| (n, what, e)))
    {
        Some((n, what, e)) => Err(format!("step {n} ({what}): {e}")),
        None => Ok(results.len()),
    }
}

async fn check(ctx: &mut Ctx) -> Result<Outcome, CliError> {
    let inventory = load(ctx)?;
    let mut rows = Vec::new();
    for c in &inventory.credentials {
        rows.push((c, preflight(ctx, c).await));
    }
    let failed = rows.iter().filter(|(_, r)| r.is_err()).count();
    if ctx.json() {
        let items: Vec<_> = rows
            .iter()
            .map(|(c, r)| {
                json!({"name": c.name, "runbook": c.runbook, "ok": r.is_ok(),
                       "checks": r.as_ref().ok(), "error": r.as_ref().err()})
            })
            .collect();
        ctx.print_json(&json!({"schema_version": 1, "inventory": inventory.path,
                               "credentials": items}))?;
    } else {
        let width = rows.iter().map(|(c, _)| c.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (c, r) in &rows {
            match r {
                Ok(n) => out.push_str(&format!(
                    "ok      {:<width$}  {} · {n} check(s) passed\n",
                    c.name, c.runbook
                )),
                Err(e) => out.push_str(&format!(
                    "FAILED  {:<width$}  {} · {e}\n",
                    c.name, c.runbook
                )),
            }
        }
        out.push_str(&format!(
            "{} credential(s) in {}: {} ok, {failed} failed\n",
            rows.len(),
            inventory.path.display(),
            rows.len() - failed
        ));
        ctx.ui.page(&out)?;
    }
    if failed > 0 {
        let mut err = CliError::usage(format!(
            "{failed} credential(s) of the inventory failed their preflight; nothing was changed"
        ));
        err.reported = ctx.json();
        return Err(err);
    }
    Ok(Outcome::Done)
}
