//! `tokrot history`: past runs from the journal (rotations, applies, checklists), no secrets.

use serde_json::json;

use super::execute::state_dir;
use super::{CliError, Ctx, Outcome};
use crate::engine::protocol::TargetStatus;
use crate::engine::resume;

/// Arguments of `tokrot history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {}

/// Lists rotations, oldest first.
pub fn run(ctx: &mut Ctx, _args: &HistoryArgs) -> Result<Outcome, CliError> {
    let dir = state_dir(ctx)?;
    let all = resume::runs(&dir).map_err(|e| CliError::usage(e.to_string()))?;
    if ctx.json() {
        let items: Vec<_> = all
            .iter()
            .map(|(j, standing)| {
                json!({
                    "id": j.id, "started_at": j.started_at, "updated_at": j.updated_at, "runbook": j.runbook,
                    "source": j.source(), "status": standing, "kind": j.kind, "new_id": j.new_id,
                    "targets": j.targets, "stashed": j.stashed,
                })
            })
            .collect();
        ctx.print_json(&json!(items))?;
        return Ok(Outcome::Done);
    }
    if all.is_empty() {
        ctx.ui.status(&format!(
            "No runs in {} yet.",
            dir.join("rotations").display()
        ))?;
        return Ok(Outcome::Done);
    }
    let id_w = all.iter().map(|(j, _)| j.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (j, standing) in &all {
        let applied = j
            .targets
            .iter()
            .filter(|t| t.status == TargetStatus::Applied)
            .count();
        out.push_str(&format!(
            "{:<id_w$}  {}  {:<20}  {:<10}  {}/{} targets  {}\n",
            j.id,
            seconds(&j.started_at),
            j.runbook,
            standing,
            applied,
            j.targets.len(),
            j.source()
        ));
    }
    ctx.ui.out(&out)?;
    Ok(Outcome::Done)
}

/// A time to the second, as the table shows it.
fn seconds(at: &str) -> String {
    at.parse::<jiff::Timestamp>()
        .ok()
        .and_then(|t| t.round(jiff::Unit::Second).ok())
        .map_or_else(|| at.to_owned(), |t| t.to_string())
}
