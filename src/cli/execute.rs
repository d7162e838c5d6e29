//! The path `rotate`, `apply` and `run` share: resolve the plan, print it for `--dry-run`, make
//! sure every value and answer can be had (flags, stdin, or a terminal), then walk it.

use secrecy::SecretString;
use serde_json::json;

use std::collections::HashMap;

use super::{CliError, Ctx, Outcome, credentials, pick};
use crate::actions::run::{Executor, needs_zendesk_credential};
use crate::actions::{Phase, TARGETS_PREFLIGHT};
use crate::clients::gitlab::GitLab;
use crate::clients::zendesk::{Auth as ZendeskAuth, Zendesk};
use crate::config::default_state_dir;
use crate::engine::plan::{Missing, Mode, Plan, PlanStep, WalkKind, resolve};
use crate::engine::prompt::{Prompter, TerminalPrompter, Unattended};
use crate::engine::render;
use crate::engine::target::TargetSpec;
use crate::engine::walk::{self, StopReason, WalkOptions};
use crate::runbook::validate::check_value;
use crate::runbook::{ParamType, RunbookKind};
use crate::secret::stash;
use crate::state::audit::{self, AuditRecord};
use crate::state::journal::{Journal, JournalData, Status as JournalStatus, TargetRecord};

/// What to carry out.
pub struct Request {
    /// How the command was called, for messages.
    pub command: String,
    /// The runbook id.
    pub runbook: String,
    /// The kind the command expects (an override may not change it).
    pub kind: Option<RunbookKind>,
    /// Parameter values from flags.
    pub given: Vec<(String, String)>,
    /// `--apply-to` targets.
    pub targets: Vec<TargetSpec>,
    /// `--token-stdin`.
    pub token_stdin: bool,
    /// `--no-stash`.
    pub no_stash: bool,
    /// `--from ID`: the token a rotation stashed.
    pub from: Option<String>,
}

/// Carries out a request.
pub async fn execute(ctx: &mut Ctx, req: Request) -> Result<Outcome, CliError> {
    let runbook = super::run::find(ctx, &req.runbook)?.clone();
    if let Some(kind) = req.kind
        && runbook.kind != kind
    {
        return Err(CliError::usage(format!(
            "runbook `{}` from {} is a {} runbook, but `{}` needs a {} runbook",
            runbook.id,
            runbook.origin,
            runbook.kind.as_str(),
            req.command,
            kind.as_str()
        )));
    }
    let mut given = req.given.clone();
    let mut plan = resolve(
        &runbook,
        &given,
        &req.targets,
        Mode::Resolve,
        &ctx.config,
        &ctx.catalogue,
    )?;

    if ctx.global.dry_run {
        return dry_run(ctx, &plan, &req.command).await;
    }

    let (gitlab, _) = clients_for(ctx, &plan.steps, &req.command)?;

    let unattended = ctx.global.yes;
    let interactive = !unattended && ctx.interactive();
    if !plan.missing.is_empty() {
        if !interactive {
            return Err(missing_error(&req.command, &plan.missing, unattended));
        }
        let mut prompter = TerminalPrompter::new(ctx.ui.color());
        for m in plan.missing.clone() {
            let snapshot = given.clone();
            let known = |name: &str| {
                snapshot
                    .iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            let instance = known("instance").and_then(|i| ctx.config.instance(i).ok());
            let zendesk_client = instance.and_then(|instance| {
                let (auth, _) = credentials::zendesk_auth(&instance.id).ok()??;
                Zendesk::new(&instance.url, auth, ctx.ui.redactor().clone(), ctx.policy()).ok()
            });
            let clients = pick::Clients {
                gitlab: gitlab.as_ref(),
                zendesk: zendesk_client.as_ref(),
            };
            if let Some(source) = pick::source(&runbook.id, &m.param.name, known) {
                match pick::pick(
                    &clients,
                    source,
                    &m.param.name,
                    &m.param.prompt,
                    &mut prompter,
                )
                .await
                {
                    Ok(chosen) => {
                        given.push(chosen);
                        continue;
                    }
                    Err(pick::PickError::Prompt(source)) => {
                        return Err(walk::WalkError::Prompt {
                            at: 0,
                            source,
                            cleanup_pending: Vec::new(),
                        }
                        .into());
                    }
                    Err(other) => {
                        let line = format!("{}: {other}; type it instead", m.param.prompt);
                        ctx.ui.status(&line)?;
                    }
                }
            }
            let value = ask(ctx, &mut prompter, &m)?;
            given.push((m.param.name.clone(), value));
        }
        plan = resolve(
            &runbook,
            &given,
            &req.targets,
            Mode::Resolve,
            &ctx.config,
            &ctx.catalogue,
        )?;
    }
    if interactive && runbook.kind == RunbookKind::Rotate && req.targets.is_empty() {
        let targets = ask_targets(&mut TerminalPrompter::new(ctx.ui.color()))?;
        if !targets.is_empty() {
            plan = resolve(
                &runbook,
                &given,
                &targets,
                Mode::Resolve,
                &ctx.config,
                &ctx.catalogue,
            )?;
        }
    }
    let (_, zendesk) = clients_for(ctx, &plan.steps, &req.command)?;

    let captures: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.walk {
            WalkKind::Capture { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let asks = plan.steps.iter().any(|s| {
        !matches!(s.walk, WalkKind::Action { .. })
            || matches!(
                s.action_phase(),
                Some(Phase::Rotate | Phase::Apply | Phase::Finish)
            )
    });
    if unattended {
        if let Some(id) = captures
            .iter()
            .find(|id| **id != "token" || !(req.token_stdin || req.from.is_some()))
        {
            return Err(CliError::usage(format!(
                "`{}` captures a hidden value (`{id}`) and --yes asks for nothing",
                req.command
            ))
            .hint(if *id == "token" {
                "pass the token on stdin with --token-stdin".to_owned()
            } else {
                "run it on a terminal without --yes".to_owned()
            }));
        }
    } else if !interactive && asks {
        let mut flags = vec!["--yes (every confirmation and gate taken as yes)".to_owned()];
        if captures.contains(&"token") {
            flags.push("--token-stdin (the token on one line of stdin)".into());
        }
        return Err(CliError::usage(format!(
            "`{}` walks through {} step(s) that need answers, and there is no terminal to ask on",
            req.command,
            plan.steps.len()
        ))
        .hint(format!(
            "run it on a terminal, or pass {}",
            flags.join(" and ")
        )));
    }

    let stdin_token = match &req.from {
        Some(id) => {
            let token = stash::get(id).map_err(|e| {
                CliError::usage(format!("--from {id}: {e}")).hint(
                    "`tokrot history` lists rotations; a finished one no longer keeps its token",
                )
            })?;
            Some(token)
        }
        None if req.token_stdin && captures.contains(&"token") => Some(read_stdin_token()?),
        None => None,
    };

    let rotation_id = rotation_id(&runbook.id);
    let mut executor = Executor::new(
        gitlab,
        ctx.ui.redactor().clone(),
        rotation_id.clone(),
        today(),
    )
    .with_policy(ctx.policy())
    .batch_variable_reads(&plan.steps)
    .with_zendesk(zendesk);
    if interactive {
        executor = executor.with_asker(Box::new(TerminalPrompter::new(ctx.ui.color())));
    }
    if runbook.kind == RunbookKind::Rotate {
        if req.no_stash {
            executor = executor.without_stash();
        } else if let Err(e) = stash::probe(&rotation_id) {
            return Err(CliError::usage(format!("{e}; the rotation did not start, nothing was changed")).hint(
                "on Linux the kernel keyring (keyutils) is used; elsewhere the system's keychain. Pass --no-stash to \
                 rotate anyway: the new token is then only in this process's memory, and lost if the run dies \
                 before every target has it",
            ));
        }
        let journal = Journal::create(
            &state_dir(ctx)?,
            JournalData {
                id: rotation_id,
                runbook: runbook.id.clone(),
                params: given.clone(),
                targets: plan
                    .targets
                    .iter()
                    .map(|t| TargetRecord {
                        spec: t.spec.clone(),
                        status: "pending".into(),
                        verified: None,
                        error: None,
                    })
                    .collect(),
                instance: plan.instance.as_ref().map(|i| i.id.clone()),
                started_at: String::new(),
                updated_at: String::new(),
                status: JournalStatus::Running,
                steps: Vec::new(),
                new_id: None,
                expires_at: None,
                stashed: false,
                operator: audit::os_user(),
            },
            ctx.ui.redactor().clone(),
        )
        .map_err(|e| {
            CliError::usage(format!("cannot keep the journal: {e}; nothing was changed"))
        })?;
        executor = executor.with_journal(journal);
    }
    carry_out(
        ctx,
        &plan,
        &executor,
        unattended,
        stdin_token,
        ctx.walk_options(),
    )
    .await
}

/// `--dry-run`: the checklist, then — when the credentials are there — the read-only checks of
/// a real run (the source token, every target), so that a dry run also says whether the run
/// would get past its preflight. Nothing is written and no token to apply is read.
async fn dry_run(ctx: &mut Ctx, plan: &Plan, command: &str) -> Result<Outcome, CliError> {
    let checks: Vec<&PlanStep> = plan
        .steps
        .iter()
        .filter(|s| {
            s.action_phase() == Some(Phase::Preflight)
                && !matches!(s.action, Some(TARGETS_PREFLIGHT))
        })
        .collect();
    // Read-only checks need every value and every credential; without them the checklist is all.
    let clients = if checks.is_empty() || !plan.missing.is_empty() {
        None
    } else {
        clients_for(ctx, &plan.steps, command).ok()
    };
    let mut results: Vec<(usize, String, Result<String, String>)> = Vec::new();
    if let Some((gitlab, zendesk)) = clients {
        let executor = Executor::new(gitlab, ctx.ui.redactor().clone(), "dry-run".into(), today())
            .with_policy(ctx.policy())
            .batch_variable_reads(&plan.steps)
            .with_zendesk(zendesk);
        for step in checks {
            let result = executor.run(step).await.map_err(|f| f.message);
            let what = match &step.target {
                Some(t) => format!("{t}: {}", step.title),
                None => step.title.clone(),
            };
            results.push((step.n, what, result));
        }
    }
    let failed = results.iter().any(|(_, _, r)| r.is_err());
    if ctx.json() {
        let mut report = render::dry_run_report(plan);
        report["preflight"] = if results.is_empty() {
            serde_json::Value::Null
        } else {
            json!(
                results
                    .iter()
                    .map(
                        |(n, what, r)| json!({"n": n, "check": what, "ok": r.is_ok(),
                    "note": r.as_ref().ok(), "error": r.as_ref().err()})
                    )
                    .collect::<Vec<_>>()
            )
        };
        ctx.print_json(&report)?;
    } else {
        let mut text = render::checklist(plan, &ctx.ui, true);
        text.push('\n');
        if results.is_empty() {
            text.push_str("The read-only checks were not run: they need every value and the credentials (tokrot auth status).\n");
        } else {
            text.push_str("Read-only checks, with the credentials found:\n");
            for (n, what, r) in &results {
                match r {
                    Ok(note) => text.push_str(&format!("  ok      {n}. {what}: {note}\n")),
                    Err(e) => text.push_str(&format!("  FAILED  {n}. {what}: {e}\n")),
                }
            }
        }
        ctx.ui.out(&text)?;
    }
    if failed {
        return Err(CliError::usage(
            "the dry run found a problem: a real run would stop in its preflight",
        ));
    }
    Ok(Outcome::Done)
}

/// The state dir: `--state-dir`, `TOKROT_STATE_DIR`, or `$XDG_STATE_HOME/tokrot`.
pub fn state_dir(ctx: &Ctx) -> Result<std::path::PathBuf, CliError> {
    ctx.global
        .state_dir
        .clone()
        .or_else(default_state_dir)
        .ok_or_else(|| {
            CliError::usage("no state dir: pass --state-dir or set TOKROT_STATE_DIR (or HOME)")
        })
}

/// Walks a prepared plan, then reports, journals the outcome and writes the audit line.
pub async fn carry_out(
    ctx: &mut Ctx,
    plan: &Plan,
    executor: &Executor,
    unattended: bool,
    stdin_token: Option<SecretString>,
    options: WalkOptions,
) -> Result<Outcome, CliError> {
    if !ctx.json() {
        let header = format!(
            "{} ({} steps, run {})",
            ctx.ui.bold(&plan.runbook.title),
            plan.steps.len(),
            executor.rotation_id()
        );
        ctx.ui.status(&header)?;
        for n in &plan.notices {
            let line = format!("{} {n}", ctx.ui.warn("NOTE:"));
            ctx.ui.status(&line)?;
        }
    }
    let mut prompter: Box<dyn Prompter> = if unattended {
        Box::new(Unattended)
    } else {
        Box::new(TerminalPrompter::new(ctx.ui.color()))
    };
    let walked = walk::walk(
        plan,
        prompter.as_mut(),
        &mut ctx.ui,
        stdin_token,
        executor,
        options,
    )
    .await;
    match walked {
        Ok((outcome, captured)) => {
            drop(captured);
            let status = match &outcome {
                walk::Outcome::Done => JournalStatus::Done,
                walk::Outcome::Stopped(_) => JournalStatus::Aborted,
                walk::Outcome::Incomplete(_) => JournalStatus::Incomplete,
            };
            let result = report(ctx, plan, executor, &outcome);
            conclude(ctx, plan, executor, status)?;
            result
        }
        Err(e) => {
            let status = match &e {
                walk::WalkError::Unknown { .. } => JournalStatus::Unknown,
                walk::WalkError::Prompt {
                    source: crate::engine::prompt::PromptError::Interrupted,
                    ..
                } => JournalStatus::Aborted,
                _ => JournalStatus::Failed,
            };
            let facts = executor.facts();
            if ctx.json() {
                let mut report = run_report(plan, executor, status.as_str());
                report["error"] = json!(ctx.ui.redactor().redact(&e.to_string()));
                ctx.print_json(&report)?;
            }
            if facts.stashed {
                let line = format!(
                    "The new token is kept in the OS keyring as tokrot/pending:{id}; it was not lost: `tokrot resume {id}` finishes the rotation.",
                    id = executor.rotation_id()
                );
                ctx.ui.error(&line)?;
            }
            conclude(ctx, plan, executor, status)?;
            Err(e.into())
        }
    }
}

/// Records how the run ended: the journal's status and the audit line.
fn conclude(
    ctx: &mut Ctx,
    plan: &Plan,
    executor: &Executor,
    status: JournalStatus,
) -> Result<(), CliError> {
    let Some(journal) = executor.journal() else {
        return Ok(());
    };
    let facts = executor.facts();
    let written = journal.update(|d| {
        d.status = status;
        d.stashed = facts.stashed;
        d.new_id = facts.new_id.or(d.new_id);
    });
    let data = journal.data();
    let record = AuditRecord {
        at: crate::state::journal::now(),
        rotation_id: data.id.clone(),
        os_user: audit::os_user(),
        gitlab_user: facts.gitlab_user.clone(),
        zendesk_user: facts.zendesk_user.clone(),
        runbook: data.runbook.clone(),
        instance: data.instance.clone(),
        source: data.source(),
        new_id: data.new_id,
        targets: plan.targets.iter().map(|t| t.spec.clone()).collect(),
        outcome: status.as_str().into(),
    };
    let audited = audit::append(&state_dir(ctx)?, &record, ctx.ui.redactor());
    for problem in [
        written.err().map(|e| e.to_string()),
        audited.err().map(|e| e.to_string()),
        executor.journal_error(),
    ]
    .into_iter()
    .flatten()
    {
        let line = format!("warning: the journal or audit log could not be written: {problem}");
        ctx.ui.error(&line)?;
    }
    Ok(())
}

/// The tool's own credentials for the steps of a plan: a GitLab client, and the Zendesk
/// credential of each instance whose API the plan calls.
pub fn clients_for(
    ctx: &Ctx,
    steps: &[PlanStep],
    command: &str,
) -> Result<(Option<GitLab>, HashMap<String, ZendeskAuth>), CliError> {
    let mut zendesk = HashMap::new();
    for step in steps {
        let (Some(action), Some(instance)) = (step.action, &step.instance) else {
            continue;
        };
        if !needs_zendesk_credential(action) || zendesk.contains_key(&instance.id) {
            continue;
        }
        let found =
            credentials::zendesk_auth(&instance.id).map_err(|e| CliError::usage(e.to_string()))?;
        let Some((auth, _)) = found else {
            return Err(CliError::usage(format!(
                "`{command}` calls the Zendesk API of `{}` and no Zendesk credential is set for it; nothing was changed",
                instance.id
            ))
            .hint(format!(
                "export ZENDESK_OAUTH_TOKEN, or ZENDESK_EMAIL and ZENDESK_API_TOKEN, or run `tokrot auth login zendesk --instance {}` \
                 (a token is never given as a flag value)",
                instance.id
            )));
        };
        zendesk.insert(instance.id.clone(), auth);
    }
    let gitlab = if steps
        .iter()
        .any(|s| s.action.is_some_and(|a| a.starts_with("gitlab.")))
    {
        Some(gitlab_client(ctx, command)?)
    } else {
        None
    };
    Ok((gitlab, zendesk))
}

/// A GitLab client with the tool's own credential (`GITLAB_TOKEN`, else the keyring).
fn gitlab_client(ctx: &Ctx, command: &str) -> Result<GitLab, CliError> {
    let found = credentials::gitlab_token(&ctx.config.gitlab_url)
        .map_err(|e| CliError::usage(e.to_string()))?;
    let (token, _) = found.ok_or_else(|| {
        CliError::usage(format!("`{command}` calls the GitLab API and GITLAB_TOKEN is not set; nothing was changed")).hint(
            "export GITLAB_TOKEN with a personal access token that has the `api` scope, or run `tokrot auth login gitlab` \
             (a token is never given as a flag value)",
        )
    })?;
    GitLab::new(
        &ctx.config.gitlab_url,
        token,
        ctx.ui.redactor().clone(),
        ctx.policy(),
    )
    .map_err(|e| CliError::usage(e.to_string()))
}

/// A rotation id: when it started, the runbook, and a few random hex digits.
fn rotation_id(runbook: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let now = jiff::Timestamp::now();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(now.as_nanosecond().unsigned_abs());
    h.write_u32(std::process::id());
    format!(
        "{}-{runbook}-{:06x}",
        now.strftime("%Y%m%dT%H%M%SZ"),
        h.finish() & 0xff_ffff
    )
}

pub(crate) fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

fn missing_error(command: &str, missing: &[Missing], unattended: bool) -> CliError {
    let list: Vec<String> = missing
        .iter()
        .map(|m| format!("{} ({})", m.flags.join(" or "), m.param.prompt))
        .collect();
    let why = if unattended {
        "--yes asks for nothing"
    } else {
        "there is no terminal to ask on"
    };
    CliError::usage(format!("`{command}` is missing {}; {why}", list.join(", "))).hint(format!(
        "pass {}",
        missing
            .iter()
            .map(|m| m.flags[0].clone())
            .collect::<Vec<_>>()
            .join(" and ")
    ))
}

/// "Where does this token go?": `--apply-to` specs, one at a time, until an empty answer.
fn ask_targets(prompter: &mut dyn Prompter) -> Result<Vec<TargetSpec>, CliError> {
    let mut targets: Vec<TargetSpec> = Vec::new();
    loop {
        let prompt = if targets.is_empty() {
            "Where does the new token go? An --apply-to SPEC such as gitlab-ci-var:grp/proj:KEY (empty: nowhere)"
        } else {
            "Another target? (empty when done)"
        };
        let answer = prompter
            .optional_text(prompt, &|v| {
                v.parse::<TargetSpec>().map(drop).map_err(|e| e.to_string())
            })
            .map_err(|source| {
                CliError::from(walk::WalkError::Prompt {
                    at: 0,
                    source,
                    cleanup_pending: Vec::new(),
                })
            })?;
        match answer {
            Some(spec) => targets.push(spec.parse().map_err(
                |e: crate::engine::target::TargetSpecError| CliError::usage(e.to_string()),
            )?),
            None => return Ok(targets),
        }
    }
}

fn ask(ctx: &Ctx, prompter: &mut dyn Prompter, m: &Missing) -> Result<String, CliError> {
    let p = &m.param;
    let prompt = if m.flags.len() > 1 {
        format!("{} ({})", p.prompt, m.flags.join(" or "))
    } else {
        p.prompt.clone()
    };
    let answer = match &p.ty {
        ParamType::Instance => {
            let instances = ctx.config.ordered_instances();
            let items: Vec<String> = instances
                .iter()
                .map(|i| format!("{} ({})", i.label, i.id))
                .collect();
            prompter
                .select(&prompt, &items)
                .map(|k| instances[k].id.clone())
        }
        ParamType::Choice(choices) => prompter
            .select(&prompt, choices)
            .map(|k| choices[k].clone()),
        ParamType::Flag => prompter.gate(&prompt).map(|b| b.to_string()),
        ty => prompter.text(&prompt, &|v| check_value(ty, v)),
    };
    answer.map_err(|source| {
        CliError::from(walk::WalkError::Prompt {
            at: 0,
            source,
            cleanup_pending: Vec::new(),
        })
    })
}

pub(crate) fn read_stdin_token() -> Result<SecretString, CliError> {
    crate::secret::read_token_line(std::io::stdin().lock()).map_err(|e| {
        let err = CliError::usage(format!("--token-stdin: stdin {e}"));
        match e {
            crate::secret::TokenLineError::Empty => err.hint(
                "pipe the token in, e.g. `pass show zendesk/new-token | tokrot … --token-stdin`",
            ),
            _ => err,
        }
    })
}

fn run_report(plan: &Plan, executor: &Executor, status: &str) -> serde_json::Value {
    let facts = executor.facts();
    let mut report = render::dry_run_report(plan);
    report["rotation_id"] = json!(executor.rotation_id());
    report["status"] = json!(status);
    report["source"]["new_id"] = json!(facts.new_id);
    if let Some(e) = &facts.expires_at {
        report["source"]["expires_at"] = json!(e);
    }
    report["source"]["stashed"] = json!(facts.stashed);
    if let Some(targets) = report["targets"].as_array_mut() {
        for (i, t) in targets.iter_mut().enumerate() {
            let r = facts.targets.get(&i).cloned().unwrap_or_default();
            t["status"] = json!(if r.applied {
                "applied"
            } else if r.error.is_some() {
                "failed"
            } else {
                "pending"
            });
            t["verified"] = json!(r.verified.map(|v| v.as_str()));
            t["error"] = json!(r.error);
            t["note"] = json!(r.note);
        }
    }
    report
}

fn report(
    ctx: &mut Ctx,
    plan: &Plan,
    executor: &Executor,
    outcome: &walk::Outcome,
) -> Result<Outcome, CliError> {
    let (status, result) = match outcome {
        walk::Outcome::Done => ("done", Outcome::Done),
        walk::Outcome::Stopped(_) => ("aborted", Outcome::Stopped),
        walk::Outcome::Incomplete(_) => ("incomplete", Outcome::Incomplete),
    };
    if result == Outcome::Done
        && let Err(e) = executor.clear_stash()
    {
        let line = format!(
            "warning: the finished rotation's token could not be removed from the keyring: {e}"
        );
        ctx.ui.error(&line)?;
    }
    if ctx.json() {
        let stop = match outcome {
            walk::Outcome::Stopped(s) => json!({
                "at": s.at,
                "reason": match &s.reason { StopReason::Gate(m) => m.clone(), StopReason::Operator => "stopped by the operator".into() },
                "not_done": s.not_done.iter().map(|(n, _)| n).collect::<Vec<_>>(),
                "cleaned_up": s.cleaned.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            }),
            _ => serde_json::Value::Null,
        };
        let mut report = run_report(plan, executor, status);
        report["stop"] = stop;
        ctx.print_json(&report)?;
        return Ok(result);
    }
    let facts = executor.facts();
    let mut text = String::new();
    if let Some(id) = facts.new_id {
        text.push_str(&format!(
            "\nNew token: id {id}{} (never shown).\n",
            facts
                .expires_at
                .as_ref()
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default()
        ));
    }
    if !plan.targets.is_empty() {
        text.push_str("Targets:\n");
        let w = plan.targets.iter().map(|t| t.spec.len()).max().unwrap_or(0);
        for (i, t) in plan.targets.iter().enumerate() {
            let r = facts.targets.get(&i).cloned().unwrap_or_default();
            let state = if r.applied {
                "applied"
            } else if r.error.is_some() {
                "FAILED"
            } else {
                "pending"
            };
            let verified = r
                .verified
                .map(|v| format!(", verified: {}", v.as_str()))
                .unwrap_or_default();
            let error = r
                .error
                .or(r.note)
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            text.push_str(&format!("  {:<w$}  {state}{verified}{error}\n", t.spec));
        }
    }
    match outcome {
        walk::Outcome::Done => {
            text.push_str(&format!(
                "Done: all {} steps of {}.\n",
                plan.steps.len(),
                plan.runbook.id
            ));
            ctx.ui.status(&text)?;
        }
        walk::Outcome::Incomplete(inc) => {
            text.push_str(&format!(
                "Incomplete: {} of {} target(s) were not updated.\n",
                inc.failed.len(),
                plan.targets.len()
            ));
            for (n, t) in &inc.skipped {
                text.push_str(&format!("  not done: {n}. {t}\n"));
            }
            if facts.stashed {
                text.push_str(&format!(
                    "The new token is kept in the OS keyring as tokrot/pending:{} until the rotation is finished.\n",
                    executor.rotation_id()
                ));
            }
            ctx.ui.error(&text)?;
        }
        walk::Outcome::Stopped(s) => {
            let why = match &s.reason {
                StopReason::Gate(m) => m.clone(),
                StopReason::Operator => "you said no.".into(),
            };
            text.push_str(&format!(
                "\nStopped at step {} ({}): {why}\n",
                s.at, s.title
            ));
            if !s.not_done.is_empty() {
                text.push_str("Not done:\n");
                for (n, t) in &s.not_done {
                    text.push_str(&format!("  {n}. {t}\n"));
                }
            }
            if !s.cleaned.is_empty() {
                text.push_str("Clean-up done:\n");
                for (n, t) in &s.cleaned {
                    text.push_str(&format!("  {n}. {t}\n"));
                }
            }
            ctx.ui.error(&text)?;
        }
    }
    Ok(result)
}
