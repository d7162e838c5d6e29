//! `tokrot resume [ID]`: continues an interrupted or partly failed run from its journal. The
//! engine (`engine/resume.rs`) decides whether it may go on and what is left; this file turns
//! the answer into words and an exit code.

use serde_json::json;

use super::checklist;
use super::document::{Resume, RunDocument};
use super::execute::{InventoryRef, clients_for, session, start_error, state_dir};
use super::report::report;
use super::{CliError, Ctx, Outcome};
use crate::engine::plan::Plan;
use crate::engine::plan::{Mode, resolve};
use crate::engine::protocol::{JournalData, Status};
use crate::engine::resume::{self, ResumeError};
use crate::engine::seams::Keyring;
use crate::exit;
use crate::inventory::target::TargetSpec;

/// Arguments of `tokrot resume`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "`tokrot history` lists runs and their ids. With --dry-run, resume says what it would do and does nothing."
)]
pub struct ResumeArgs {
    /// The run to finish [default: the latest unfinished one].
    #[arg(value_parser = run_id)]
    pub id: Option<String>,
}

/// A run id as `tokrot history` lists it (refused at the door otherwise, exit 2).
pub(crate) fn run_id(value: &str) -> Result<String, String> {
    resume::check_run_id(value).map(|()| value.to_owned())
}

/// Finishes a run.
pub async fn run(ctx: &mut Ctx, args: &ResumeArgs) -> Result<Outcome, CliError> {
    let dir = state_dir(ctx)?;
    let data = resume::find(&dir, args.id.as_deref()).map_err(resume_error)?;
    let id = data.id.clone();
    if let Some(over) = over_or_kept(ctx, &dir, &data)? {
        return Ok(over);
    }
    let plan = plan_of(ctx, &data)?;
    resume::same_origin(&data, &plan).map_err(resume_error)?;
    if data.status == Status::Kept {
        held_somewhere(ctx, &dir, &id)?;
    }
    // What is left, from the journal alone: a dry run reads no secret and takes no lock.
    let left = left_steps(&data, &plan);
    if ctx.global.dry_run {
        return dry_run(ctx, &data, &plan, &left);
    }
    let credential = inventory_ref(&data);
    let holder = format!("resume of {id} (pid {})", std::process::id());
    let reopened = match resume::reopen(&dir, data, &plan, &holder, &Keyring) {
        Err(ResumeError::Finished { id }) => {
            return already_over(ctx, &id, "done", format!("Run {id} has already finished."));
        }
        other => other.map_err(resume_error)?,
    };
    let clients = clients_for(ctx, &plan.steps, &format!("tokrot resume {id}"))?;
    let unattended = ctx.global.yes;
    let interactive = !unattended && ctx.interactive();
    if !unattended && !interactive {
        return Err(CliError::usage(format!("`tokrot resume {id}` asks before it changes anything, and there is no terminal to ask on"))
            .hint("run it on a terminal, or pass --yes"));
    }
    if !ctx.json() {
        let left_targets = plan.targets.len() - reopened.skip_targets.len();
        ctx.ui.status(&format!(
            "Resuming {id}: {} step(s) left; {left_targets} of {} target(s) still to update.",
            left.len(),
            plan.targets.len()
        ))?;
    }
    let session = session(ctx, clients, unattended)?;
    let finished = resume::resume(session, &plan, reopened)
        .await
        .map_err(start_error)?;
    if finished.status == Status::Kept {
        end_if_applied(ctx, &dir, &id)?;
    }
    // The inventory follows the token, whichever process finishes the rotation.
    let update = match &credential {
        Some(c) => super::execute::update_inventory(
            &dir,
            c,
            finished.facts.new_id.or(finished.journal.new_id),
        )
        .map(|r| (c.name.as_str(), r)),
        None => None,
    };
    report(ctx, &plan, finished, update)
}

/// A run that is over (done; kept with nothing left but applying its token, or ending it now
/// that it is applied) says so and is not reopened: `Some` is what the command ends with. A kept
/// run with its old token's retirement left says what is left first.
fn over_or_kept(
    ctx: &mut Ctx,
    dir: &std::path::Path,
    data: &JournalData,
) -> Result<Option<Outcome>, CliError> {
    let id = &data.id;
    match data.status {
        Status::Done => {
            already_over(ctx, id, "done", format!("Run {id} has already finished.")).map(Some)
        }
        Status::Kept if resume::left_for_later(data).is_empty() => {
            let applies = resume::applied_from(dir, id);
            if applies.is_empty() {
                let line = format!(
                    "Run {id} kept its new token on purpose (--keep): put it into place with `tokrot apply TARGET … --from {id}`, then `tokrot resume {id}` ends it."
                );
                return already_over(ctx, id, "kept", line).map(Some);
            }
            close_kept(ctx, dir, id, &applies).map(Some)
        }
        Status::Kept => {
            let steps: Vec<String> = resume::left_for_later(data)
                .iter()
                .map(|(n, t)| format!("  {n}. {t}"))
                .collect();
            ctx.ui.status(&format!(
                "Run {id} kept its new token (--keep) and left the old token's retirement for now:\n{}\nDo them only once everything that used the old token holds the new one (`tokrot apply … --from {id}`).",
                steps.join("\n")
            ))?;
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// A kept run whose old token is now retired, and whose new one is in place, is over.
fn end_if_applied(ctx: &mut Ctx, dir: &std::path::Path, id: &str) -> Result<(), CliError> {
    let applies = resume::applied_from(dir, id);
    if !applies.is_empty() && may_close(ctx, id, &applies)? {
        match resume::close_kept(dir, id, &Keyring, ctx.ui.redactor()) {
            Ok(_) => ctx.ui.status(&format!(
                "Run {id} is done: its new token is in place ({}) and its keyring copy is gone.",
                applies.join(", ")
            ))?,
            Err(e) => ctx
                .ui
                .status(&format!("warning: run {id} stays kept: {e}"))?,
        }
    }
    Ok(())
}

/// The inventory entry a journaled rotation was started from, to point at its new token.
fn inventory_ref(data: &JournalData) -> Option<InventoryRef> {
    let (name, path) = (data.credential.clone()?, data.inventory.clone()?);
    let param = |p: &str| {
        data.params
            .iter()
            .find(|(k, _)| k == p)
            .map(|(_, v)| v.as_str())
    };
    let id_param = super::rotate::rewritten_param(&data.runbook, param);
    Some(InventoryRef {
        name,
        path: path.into(),
        id_param,
        old_id: id_param.and_then(param).map(str::to_owned),
    })
}

/// The plan of a journaled run, resolved again from its runbook, parameters and targets.
fn plan_of(ctx: &Ctx, data: &JournalData) -> Result<Plan, CliError> {
    let runbook = super::execute::find(ctx, &data.runbook)?.clone();
    let targets: Vec<TargetSpec> = data
        .targets
        .iter()
        .map(|t| t.spec.parse())
        .collect::<Result<_, _>>()
        .map_err(|e: crate::inventory::target::TargetSpecError| CliError::usage(e.to_string()))?;
    Ok(resolve(
        &runbook,
        &data.params,
        &targets,
        Mode::Resolve,
        &ctx.config,
        &ctx.catalogue,
    )?)
}

/// The steps a resume would carry out, a line each.
fn left_steps(data: &JournalData, plan: &Plan) -> Vec<String> {
    let (skip_steps, skip_targets) = resume::skips(data, plan);
    // A step put off by --keep was journaled with its values known.
    let later = resume::left_for_later(data);
    plan.steps
        .iter()
        .filter(|s| match s.target_index {
            Some(t) => !skip_targets.contains(&t),
            None => !skip_steps.contains(&s.n),
        })
        .map(|s| match later.iter().find(|(n, _)| *n == s.n) {
            Some((n, title)) => format!("  {n}. {title}"),
            None => format!("  {}. {}", s.n, checklist::one_line(s)),
        })
        .collect()
}

/// Before the old token of a kept run is retired: the new one is held somewhere. It is never
/// shown, so only `tokrot apply … --from ID` can have put it anywhere; with no such apply
/// done, retiring the old token would leave everything that uses it without a working one.
/// Asked on a terminal; refused with `--yes`. A dry run only says so.
fn held_somewhere(ctx: &mut Ctx, dir: &std::path::Path, id: &str) -> Result<(), CliError> {
    let applies = resume::applied_from(dir, id);
    if !applies.is_empty() {
        let line = format!(
            "Its new token was put into place by {}.",
            applies.join(", ")
        );
        ctx.ui.status(&line)?;
        return Ok(());
    }
    let why = format!(
        "no `tokrot apply … --from {id}` has put run {id}'s new token anywhere, so retiring the old token would leave what uses it without a working token"
    );
    if ctx.global.dry_run {
        let line = format!("note: {why}.");
        return Ok(ctx.ui.status(&line)?);
    }
    let hint = format!(
        "put the new token into place first (`tokrot apply TARGET … --from {id}`), then resume"
    );
    if ctx.global.yes || !ctx.interactive() {
        return Err(CliError::usage(format!("{why}; nothing was sent")).hint(hint));
    }
    use crate::engine::prompt::{Prompter, TerminalPrompter};
    let line = format!("{} {why}.", ctx.ui.warn("WARNING:"));
    ctx.ui.status(&line)?;
    let yes = TerminalPrompter::new(ctx.ui.color())
        .confirm("Retire the old token anyway?")
        .map_err(|e| CliError::usage(format!("no answer: {e}; nothing was sent")))?;
    match yes {
        true => Ok(()),
        false => {
            let mut err = CliError::usage("stopped before anything was sent").hint(hint);
            err.code = exit::STOPPED;
            Err(err)
        }
    }
}

/// Ends a kept run that has nothing left to carry out and whose token an `apply --from` put
/// into place: asked on a terminal, done with `--yes`; a dry run only says so.
fn close_kept(
    ctx: &mut Ctx,
    dir: &std::path::Path,
    id: &str,
    applies: &[String],
) -> Result<Outcome, CliError> {
    if ctx.global.dry_run {
        let line = format!(
            "Run {id} kept its new token, and {} put it into place. Dry run: resume would drop the keyring copy and mark the run done; nothing was changed.",
            applies.join(", ")
        );
        return already_over(ctx, id, "kept", line);
    }
    if !ctx.global.yes && !ctx.interactive() {
        return Err(CliError::usage(format!(
            "run {id} kept its new token, and {} put it into place; ending it drops the keyring copy, and there is no terminal to ask on; nothing was changed",
            applies.join(", ")
        ))
        .hint(format!("once every consumer holds the token: `tokrot resume {id} --yes`")));
    }
    if !may_close(ctx, id, applies)? {
        let mut err = CliError::usage(format!("run {id} stays kept; nothing was changed"));
        err.code = exit::STOPPED;
        return Err(err);
    }
    resume::close_kept(dir, id, &Keyring, ctx.ui.redactor()).map_err(resume_error)?;
    let line = format!("Run {id} is done: its keyring copy is gone.");
    already_over(ctx, id, "done", line)
}

/// Whether a kept run whose token is in place may end (its keyring copy dropped): `--yes`
/// says so; on a terminal the operator is asked, since only they know that every consumer
/// holds it (a write-only target cannot be read to give it to another); without either, the
/// run stays kept and the command that ends it is said.
fn may_close(ctx: &mut Ctx, id: &str, applies: &[String]) -> Result<bool, CliError> {
    if ctx.global.yes {
        return Ok(true);
    }
    if !ctx.interactive() {
        ctx.ui.status(&format!(
            "Run {id} stays kept: `tokrot resume {id} --yes` ends it, dropping the keyring copy, once every consumer holds the token."
        ))?;
        return Ok(false);
    }
    ctx.ui.status(&format!(
        "Run {id} kept its new token, and {} put it into place.",
        applies.join(", ")
    ))?;
    use crate::engine::prompt::{Prompter, TerminalPrompter};
    TerminalPrompter::new(ctx.ui.color())
        .confirm("Is it in place everywhere? End the run and drop the keyring copy")
        .map_err(|e| CliError::usage(format!("no answer: {e}; nothing was changed")))
}

/// A run with nothing left to do: said on stderr, and as a document under `--output json`.
fn already_over(ctx: &mut Ctx, id: &str, status: &str, line: String) -> Result<Outcome, CliError> {
    ctx.ui.status(&line)?;
    if ctx.json() {
        let doc = json!({"rotation_id": id, "status": status, "resumed": false, "message": line});
        ctx.print_json(&doc)?;
    }
    Ok(Outcome::Done)
}

/// `resume --dry-run`: what a resume would do, from the journal alone.
fn dry_run(
    ctx: &mut Ctx,
    data: &JournalData,
    plan: &Plan,
    left: &[String],
) -> Result<Outcome, CliError> {
    if ctx.json() {
        let resume = Resume {
            journal_status: crate::engine::history::standing(&state_dir(ctx)?, data),
            left_steps: left.len(),
            one_shot_open: crate::engine::history::one_shot_open(data),
        };
        let doc = RunDocument::planned(plan)
            .journaled(plan, data, None)
            .resuming(resume);
        ctx.print_json(&doc.to_value())?;
        return Ok(Outcome::Done);
    }
    let mut text = format!(
        "Dry run: resume {} would carry out {} step(s) and change nothing now:\n{}\n",
        data.id,
        left.len(),
        left.join("\n")
    );
    if crate::engine::history::one_shot_open(data) {
        text.push_str("The outcome of its one-shot call is not in the journal: a real resume looks for the new token in the keyring first, and stops with \"outcome unknown\" when it is not there.\n");
    }
    ctx.ui.page(&text)?;
    Ok(Outcome::Done)
}

fn resume_error(e: ResumeError) -> CliError {
    let hint = match &e {
        ResumeError::NothingToResume | ResumeError::State(_) => {
            Some("`tokrot history` lists the runs".to_owned())
        }
        ResumeError::Busy(b) => Some(format!("wait for run {} to end, then try again", b.holder)),
        ResumeError::OtherOrigin { was, .. } => Some(format!(
            "point tokrot at {was} again (--gitlab-url, GITLAB_URL, or the instance in the config file) and resume there"
        )),
        ResumeError::Unknown { .. } => Some(
            "do NOT rotate the old token again: GitLab would revoke the whole token family. List the tokens with \
             your admin credential to see whether a new one exists, and rotate that one"
                .into(),
        ),
        ResumeError::NeverMade { again, .. } => Some(format!("run `{again}` again")),
        ResumeError::NotKept { .. } => Some(
            "the new token exists only where it was applied; rotate again to get one that can be put everywhere"
                .into(),
        ),
        _ => None,
    };
    let code = match &e {
        ResumeError::Unknown { .. } => exit::UNKNOWN,
        ResumeError::NotKept { .. } => exit::FAILED,
        _ => exit::USAGE,
    };
    let mut err = CliError::usage(e.to_string());
    err.code = code;
    err.hint = hint;
    err
}
