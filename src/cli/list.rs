//! `tokrot list`: the runbooks, one line each.

use serde_json::json;

use super::{CliError, Ctx, Outcome};

/// Arguments of `tokrot list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// List the action registry (what a runbook's action steps may name) instead.
    #[arg(long)]
    pub actions: bool,
}

/// Prints id, kind and title of every runbook.
pub fn run(ctx: &mut Ctx, args: &ListArgs) -> Result<Outcome, CliError> {
    if args.actions {
        return list_actions(ctx);
    }
    if ctx.json() {
        let items: Vec<_> = ctx
            .catalogue
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "kind": r.kind.as_str(),
                    "service": r.service.as_str(),
                    "title": r.title,
                    "section": r.section,
                    "origin": r.origin.to_string(),
                })
            })
            .collect();
        ctx.print_json(&json!({"runbooks": items}))?;
        return Ok(Outcome::Done);
    }
    use crate::table::{Kind::Free, Kind::Key, Table};
    let mut table = Table::new(&[("ID", Key), ("KIND", Key), ("TITLE", Free)]);
    for r in ctx.catalogue.iter() {
        let origin = match &r.origin {
            crate::runbook::Origin::Embedded => String::new(),
            other => format!("  [{other}]"),
        };
        table.row(vec![
            r.id.clone(),
            r.kind.as_str().to_owned(),
            crate::text::one_line(&format!("{}{origin}", r.title)),
        ]);
    }
    ctx.ui.table(&table.render(ctx.table_layout()))?;
    Ok(Outcome::Done)
}

fn list_actions(ctx: &mut Ctx) -> Result<Outcome, CliError> {
    use crate::actions::registry;
    if ctx.json() {
        let items: Vec<_> = registry()
            .map(|a| {
                json!({
                    "name": a.name,
                    "method": a.method(),
                    "path": a.path(),
                    "phase": a.phase.as_str(),
                    "args": a.args.iter().map(|g| json!({"name": g.name, "required": g.required, "secret": g.kind.is_secret()})).collect::<Vec<_>>(),
                    "yields": a.yields,
                    "summary": a.summary,
                })
            })
            .collect();
        ctx.print_json(&json!({"actions": items}))?;
        return Ok(Outcome::Done);
    }
    let name_w = registry().map(|a| a.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for a in registry() {
        let call = if a.method().is_empty() {
            "(tokrot)".to_owned()
        } else {
            format!("{} {}", a.method(), a.path())
        };
        let args: Vec<String> = a
            .args
            .iter()
            .map(|g| {
                if g.required {
                    g.name.to_owned()
                } else {
                    format!("[{}]", g.name)
                }
            })
            .collect();
        out.push_str(&format!(
            "{:<name_w$}  {:<9}  {call}\n",
            a.name,
            a.phase.as_str()
        ));
        out.push_str(&format!(
            "{:<name_w$}  {:<9}  {}; args: {}\n",
            "",
            "",
            a.summary,
            if args.is_empty() {
                "none".into()
            } else {
                args.join(", ")
            }
        ));
    }
    ctx.ui.page(&out)?;
    Ok(Outcome::Done)
}
