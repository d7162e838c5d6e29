//! `tokrot resume [ID]`: finishes an interrupted or partly failed rotation from its journal and
//! the token stashed in the keyring: only what did not finish — never the rotate call again.

use std::collections::HashSet;

use super::execute::{carry_out, clients_for, state_dir};
use super::{CliError, Ctx, Outcome};
use crate::actions::Phase;
use crate::actions::run::{Executor, Verified};
use crate::engine::plan::{Mode, resolve};
use crate::engine::prompt::TerminalPrompter;
use crate::engine::target::TargetSpec;
use crate::engine::walk::WalkOptions;
use crate::exit;
use crate::secret::stash;
use crate::state::journal::{self, Journal, Status, StepStatus};

/// Arguments of `tokrot resume`.
#[derive(Debug, clap::Args)]
#[command(after_help = "`tokrot history` lists rotations and their ids.")]
pub struct ResumeArgs {
    /// The rotation to finish [default: the latest unfinished one].
    pub id: Option<String>,
}

fn unfinished(s: Status) -> bool {
    matches!(
        s,
        Status::Running | Status::Incomplete | Status::Failed | Status::Aborted
    )
}

/// Finishes a rotation.
pub async fn run(ctx: &mut Ctx, args: &ResumeArgs) -> Result<Outcome, CliError> {
    let dir = state_dir(ctx)?;
    let data = match &args.id {
        Some(id) => journal::load(&dir, id).map_err(|e| CliError::usage(e.to_string()))?,
        None => journal::list(&dir)
            .map_err(|e| CliError::usage(e.to_string()))?
            .into_iter()
            .rev()
            .find(|j| unfinished(j.status) && j.stashed)
            .ok_or_else(|| {
                CliError::usage("no unfinished rotation to resume")
                    .hint("`tokrot history` lists them")
            })?,
    };
    let id = data.id.clone();
    match data.status {
        Status::Done => {
            ctx.ui
                .status(&format!("Rotation {id} has already finished."))?;
            return Ok(Outcome::Done);
        }
        Status::Unknown => {
            return Err(CliError {
                code: exit::UNKNOWN,
                message: format!("rotation {id}: the answer to its rotate call was lost, so it cannot be resumed"),
                hint: Some(
                    "do NOT rotate the old token again: list the tokens with your admin credential to see whether \
                     a new one exists, and rotate that one with the admin credential"
                        .into(),
                ),
                quiet: false,
            });
        }
        _ => {}
    }
    let runbook = super::run::find(ctx, &data.runbook)?.clone();
    let targets: Vec<TargetSpec> = data
        .targets
        .iter()
        .map(|t| t.spec.parse())
        .collect::<Result<_, _>>()
        .map_err(|e: crate::engine::target::TargetSpecError| CliError::usage(e.to_string()))?;
    let plan = resolve(
        &runbook,
        &data.params,
        &targets,
        Mode::Resolve,
        &ctx.config,
        &ctx.catalogue,
    )?;
    for record in data.steps.iter().filter(|s| s.status == StepStatus::Done) {
        let same = plan
            .steps
            .iter()
            .any(|s| s.n == record.n && s.title == record.title);
        if !same {
            return Err(CliError::usage(format!(
                "rotation {id}: runbook `{}` has changed since the rotation started (step {} was \"{}\"); it cannot be resumed safely",
                runbook.id, record.n, record.title
            )));
        }
    }
    let rotated = plan
        .steps
        .iter()
        .filter(|s| s.action_phase() == Some(Phase::Rotate))
        .all(|s| data.step(s.n).is_some_and(|r| r.status == StepStatus::Done));
    let made = plan
        .steps
        .iter()
        .any(|s| s.action_phase() == Some(Phase::Rotate))
        || data.stashed;
    if !rotated || !made {
        return Err(CliError::usage(format!(
            "rotation {id} never made its new token, so there is nothing to finish; nothing was changed by it"
        ))
        .hint(format!("run `tokrot rotate {}` again", runbook.id)));
    }
    let token = stash::get(&id).map_err(|e| {
        CliError::usage(format!("rotation {id}: the new token is not in the keyring ({e})"))
            .hint("it was run with --no-stash, or the keyring was cleared (the kernel keyring does not survive a reboot)")
    })?;

    let (gitlab, zendesk) = clients_for(ctx, &plan.steps, &format!("tokrot resume {id}"))?;
    let unattended = ctx.global.yes;
    let interactive = !unattended && ctx.interactive();
    if !unattended && !interactive {
        return Err(CliError::usage(format!("`tokrot resume {id}` asks before it changes anything, and there is no terminal to ask on"))
            .hint("run it on a terminal, or pass --yes"));
    }
    let mut skip_steps: HashSet<usize> = data
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Done)
        .map(|s| s.n)
        .collect();
    // Never the rotate call again, whatever the journal says of it.
    skip_steps.extend(
        plan.steps
            .iter()
            .filter(|s| s.action_phase() == Some(Phase::Rotate))
            .map(|s| s.n),
    );
    let skip_targets: HashSet<usize> = data
        .targets
        .iter()
        .enumerate()
        .filter(|(_, t)| t.status == "applied")
        .map(|(i, _)| i)
        .collect();

    let journal = Journal::reopen(&dir, data.clone(), ctx.ui.redactor().clone());
    journal
        .update(|d| d.status = Status::Running)
        .map_err(|e| CliError::usage(format!("cannot keep the journal: {e}")))?;
    let remaining: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| !s.target_index.is_some_and(|t| skip_targets.contains(&t)))
        .cloned()
        .collect();
    let mut executor = Executor::new(
        gitlab,
        ctx.ui.redactor().clone(),
        id.clone(),
        super::execute::today(),
    )
    .with_policy(ctx.policy())
    .batch_variable_reads(&remaining)
    .with_zendesk(zendesk)
    .with_journal(journal);
    if interactive {
        executor = executor.with_asker(Box::new(TerminalPrompter::new(ctx.ui.color())));
    }
    executor.resumed_token(token, true);
    for (i, t) in data.targets.iter().enumerate() {
        if t.status == "applied" {
            executor.resumed_target(i, t.verified.as_deref().and_then(Verified::parse));
        }
    }
    if !ctx.json() {
        let left = plan.targets.len() - skip_targets.len();
        ctx.ui.status(&format!(
            "Resuming {id}: the new token from the keyring; {left} of {} target(s) still to update.",
            plan.targets.len()
        ))?;
    }
    let options = WalkOptions {
        skip_steps,
        skip_targets,
        ..ctx.walk_options()
    };
    carry_out(ctx, &plan, &executor, unattended, None, options).await
}
