//! `tokrot inventory discover`: inventory entries drafted from what the vendors list, reading no
//! secret, printed as TOML to add or (`--write`) added to the inventory, keeping what is there.

use serde_json::json;

use super::error::inventory_error;
use super::{CliError, Ctx, Outcome};
use crate::inventory::{self, InventoryError};

/// Arguments of `tokrot inventory discover`.
#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    /// A project whose access tokens, triggers and variables are read (repeatable).
    #[arg(long, value_name = "P")]
    pub project: Vec<String>,
    /// A group whose access tokens and variables are read (repeatable).
    #[arg(long, value_name = "G")]
    pub group: Vec<String>,
    /// A Zendesk instance whose OAuth tokens and webhooks are read (repeatable).
    #[arg(long, value_name = "I")]
    pub instance: Vec<String>,
    /// Add the drafts to the inventory (created if need be), keeping what is there.
    #[arg(long)]
    pub write: bool,
}

/// Drafts entries, and prints or writes them.
pub async fn run(ctx: &mut Ctx, args: &DiscoverArgs) -> Result<Outcome, CliError> {
    use crate::inventory::discover::{self, Scope};
    for p in args.project.iter().chain(&args.group) {
        crate::runbook::validate::check_namespace_path(p)
            .map_err(|e| CliError::usage(format!("`{p}` {e}")))?;
    }
    for i in &args.instance {
        ctx.config.instance(i)?;
    }
    let existing = match inventory::load(ctx.global.inventory.as_deref(), &ctx.catalogue) {
        Ok(inv) => Some(inv),
        Err(InventoryError::Missing) => None,
        Err(InventoryError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            None
        }
        Err(e) => return Err(inventory_error(e)),
    };
    ctx.warn_repointed(true, []);
    let gitlab = crate::engine::session::gitlab_client(
        "tokrot inventory discover",
        &ctx.config,
        ctx.ui.redactor(),
        ctx.policy(),
    )
    .ok();
    let zendesk = super::vendors::clients_of(ctx, &args.instance);
    let vendors = inventory::status::Vendors {
        gitlab: gitlab.as_ref(),
        zendesk: &zendesk,
    };
    let scope = Scope {
        projects: args.project.clone(),
        groups: args.group.clone(),
        instances: args.instance.clone(),
    };
    let found = discover::discover(&scope, &ctx.config, &vendors, existing.as_ref()).await;
    for note in &found.notes {
        ctx.ui.error(&format!("note: {note}"))?;
    }
    let text = discover::render(&found.drafts);
    if ctx.json() {
        let drafts: Vec<_> = found.drafts.iter().map(|d| json!({
            "name": d.name, "runbook": d.runbook, "found": d.found,
            "params": d.params.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "targets": d.targets.iter().map(|(t, how)| json!({"spec": t.to_string(), "found": how})).collect::<Vec<_>>(),
            "todos": d.todos,
        })).collect();
        ctx.print_json(&json!({"schema_version": 1, "drafts": drafts, "notes": found.notes}))?;
    } else if !args.write {
        ctx.ui.out(&format!(
            "# Drafted by `tokrot inventory discover`: review before use.{text}"
        ))?;
    }
    if args.write && !found.drafts.is_empty() {
        let path = existing
            .as_ref()
            .map(|i| i.path.clone())
            .or_else(|| ctx.global.inventory.clone())
            .unwrap_or_else(|| std::path::PathBuf::from("tokrot.toml"));
        let state = super::execute::state_dir(ctx)?;
        let merged =
            inventory::append(&state, &path, &text, &ctx.catalogue).map_err(inventory_error)?;
        ctx.ui.status(&format!(
            "{} draft(s) added to {}; it now has {} credential(s)",
            found.drafts.len(),
            path.display(),
            merged.credentials.len()
        ))?;
    } else if found.drafts.is_empty() {
        ctx.ui
            .status("Nothing new: every token found is in the inventory already.")?;
    }
    Ok(Outcome::Done)
}
