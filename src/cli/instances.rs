//! `tokrot instances`: the Zendesk instances and the GitLab URL in force.

use serde_json::json;

use super::{CliError, Ctx, Outcome};
use crate::config::display_url;

/// Arguments of `tokrot instances`.
#[derive(Debug, clap::Args)]
pub struct InstancesArgs {}

/// Prints the instances.
pub fn run(ctx: &mut Ctx, _args: &InstancesArgs) -> Result<Outcome, CliError> {
    let instances = ctx.config.ordered_instances();
    if ctx.json() {
        let value = json!({
            "gitlab": {"url": display_url(&ctx.config.gitlab_url)},
            "zendesk": instances.iter().map(|i| json!({
                "id": i.id,
                "label": i.label,
                "url": display_url(&i.url),
                "admin_url": i.admin_url(),
                "source": if i.built_in { "built-in" } else { "config" },
            })).collect::<Vec<_>>(),
            "config": ctx.config.source.as_ref().map(|p| p.display().to_string()),
        });
        ctx.print_json(&value)?;
        return Ok(Outcome::Done);
    }
    let id_w = instances.iter().map(|i| i.id.len()).max().unwrap_or(0);
    let label_w = instances.iter().map(|i| i.label.len()).max().unwrap_or(0);
    let mut out = String::from("Zendesk instances:\n");
    for i in &instances {
        let source = if i.built_in { "" } else { "  (config)" };
        out.push_str(&format!(
            "  {:<id_w$}  {:<label_w$}  {}{source}\n",
            i.id,
            i.label,
            i.admin_url()
        ));
    }
    out.push_str(&format!(
        "\nGitLab: {}\n",
        display_url(&ctx.config.gitlab_url)
    ));
    if let Some(p) = &ctx.config.source {
        out.push_str(&format!("config: {}\n", p.display()));
    }
    ctx.ui.page(&out)?;
    Ok(Outcome::Done)
}
