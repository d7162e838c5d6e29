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
    // One table: GitLab, then each Zendesk instance with its Admin Center, where the
    // handbook starts.
    use crate::table::{Kind::Free, Kind::Key, Table};
    let mut table = Table::new(&[
        ("ID", Key),
        ("SERVICE", Key),
        ("LABEL", Free),
        ("URL", Key),
        ("SOURCE", Key),
    ]);
    let gitlab_source = match &ctx.config.gitlab_repointed_by {
        Some(_) => "config",
        None => "built-in",
    };
    table.row(vec![
        "gitlab".into(),
        "gitlab".into(),
        "GitLab".into(),
        display_url(&ctx.config.gitlab_url),
        gitlab_source.into(),
    ]);
    for i in &instances {
        table.row(vec![
            i.id.clone(),
            "zendesk".into(),
            crate::text::one_line(&i.label),
            i.admin_url(),
            if i.built_in { "built-in" } else { "config" }.into(),
        ]);
    }
    ctx.ui.table(&table.render(ctx.table_layout()))?;
    if let Some(p) = &ctx.config.source {
        ctx.ui.status(&format!("config: {}", p.display()))?;
    }
    Ok(Outcome::Done)
}
