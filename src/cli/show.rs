//! `tokrot show RUNBOOK`: the numbered checklist, with every alternative. No network.

use super::checklist;
use super::{CliError, Ctx, Outcome};
use crate::engine::plan::{Mode, resolve};

/// Arguments of `tokrot show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The runbook id (see `tokrot list`).
    pub runbook: String,
    /// Fill in the links of this Zendesk instance instead of listing all of them.
    #[arg(long, value_name = "I")]
    pub instance: Option<String>,
}

/// Prints the checklist.
pub fn run(ctx: &mut Ctx, args: &ShowArgs) -> Result<Outcome, CliError> {
    let runbook = super::execute::find(ctx, &args.runbook)?.clone();
    let mut given = Vec::new();
    if let Some(i) = &args.instance {
        if runbook.param("instance").is_none() {
            return Err(CliError::usage(format!(
                "runbook `{}` has no instance",
                runbook.id
            )));
        }
        given.push(("instance".to_owned(), i.clone()));
    }
    let plan = resolve(
        &runbook,
        &given,
        &[],
        Mode::Show,
        &ctx.config,
        &ctx.catalogue,
    )?;
    if ctx.json() {
        ctx.print_json(&checklist::show_json(&plan))?;
    } else {
        let text = checklist::checklist(&plan, &ctx.ui, false);
        ctx.ui.page(&text)?;
    }
    Ok(Outcome::Done)
}
