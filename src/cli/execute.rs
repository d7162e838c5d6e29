//! The path `rotate`, `apply` and `run` share: resolve the plan, print it for `--dry-run`, make
//! sure every value and answer can be had (flags, stdin, or a terminal), then walk it.

use secrecy::SecretString;

use std::collections::HashMap;

use super::checklist;
use super::{CliError, Ctx, Outcome};
use crate::actions::Phase;
use crate::config::default_state_dir;
use crate::engine::plan::{Missing, Mode, Plan, PlanStep, WalkKind, resolve};
use crate::engine::prompt::{Prompter, TerminalPrompter};
use crate::engine::protocol::{self, Finished, StartError};
use crate::engine::session::Session;
use crate::engine::session::{Clients, Given, SelfCredential};
use crate::engine::walk;
use crate::engine::{pick, session};
use crate::inventory::target::TargetSpec;
use crate::runbook::validate::check_value;
use crate::runbook::{ParamType, Runbook, RunbookKind};

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
    /// `--keep`: a rotation without target keeps its token in the keyring.
    pub keep: bool,
    /// The inventory credential rotated (`rotate --credential`).
    pub credential: Option<InventoryRef>,
    /// Targets (by index) the inventory allows to send the token to another host than its
    /// origin (`allow_host`).
    pub allow_hosts: HashMap<usize, String>,
}

/// An inventory credential a run rotates: its name, its file, and the parameter that holds the
/// source's id, rewritten with the new id once the rotation gives one.
pub struct InventoryRef {
    /// The credential's name.
    pub name: String,
    /// The inventory file.
    pub path: std::path::PathBuf,
    /// The parameter holding the source's id, when the credential names it by id.
    pub id_param: Option<&'static str>,
    /// The id it held when the rotation began: the entry is rewritten only while it still
    /// names that token (a teammate's edit since then is left as it is, and said).
    pub old_id: Option<String>,
}

/// Carries out a request: the plan, the values it still needs (asked on a terminal), the
/// clients, then the protocol; and the report.
pub async fn execute(ctx: &mut Ctx, req: Request) -> Result<Outcome, CliError> {
    let runbook = runbook_of_kind(ctx, &req)?;
    check_keep(&req)?;
    let mut given = req.given.clone();
    let mut plan = resolve(
        &runbook,
        &given,
        &req.targets,
        Mode::Resolve,
        &ctx.config,
        &ctx.catalogue,
    )?;
    ctx.warn_repointed(
        session::calls_gitlab(&plan.steps),
        plan.steps.iter().filter_map(|s| s.instance.as_ref()),
    );
    if ctx.global.dry_run {
        return dry_run(ctx, &plan, &req.command, (req.keep, &req.allow_hosts)).await;
    }
    // GitLab first (its pick lists ask for missing values); each client is made once: making
    // one loads the system's root certificates.
    let mut clients = match session::calls_gitlab(&plan.steps) {
        true => clients_for(ctx, &plan.steps, &req.command)?,
        false => Clients::default(),
    };
    let unattended = ctx.global.yes;
    let interactive = !unattended && ctx.interactive();
    if !plan.missing.is_empty() {
        if !interactive {
            return Err(missing_error(&req.command, &plan.missing, unattended));
        }
        ask_missing(ctx, &runbook, &plan, &mut given, &clients).await?;
    }
    let mut targets = req.targets.clone();
    if interactive && runbook.kind == RunbookKind::Rotate && targets.is_empty() && !req.keep {
        targets = ask_targets(&mut TerminalPrompter::new(ctx.ui.color()))?;
    }
    plan = resolve(
        &runbook,
        &given,
        &targets,
        Mode::Resolve,
        &ctx.config,
        &ctx.catalogue,
    )?;
    clients.zendesk = session::zendesk_for(&plan.steps, &req.command).map_err(clients_error)?;
    if clients.gitlab.is_none() && session::calls_gitlab(&plan.steps) {
        clients.gitlab = clients_for(ctx, &plan.steps, &req.command)?.gitlab;
    }
    check_answerable(&req, &plan, unattended, interactive)?;
    let token = match req.token_stdin && captures(&plan).contains(&"token") && req.from.is_none() {
        true => Some(read_stdin_token()?),
        false => None,
    };
    let self_credential = self_credential(ctx, &plan, &given, req.keep)?;
    header(ctx, &plan)?;
    let shown = plan.clone();
    let session = session(ctx, clients, unattended)?;
    let protocol_req = protocol::Request {
        plan,
        params: given,
        token,
        from: req.from.clone(),
        keep: req.keep,
        no_stash: req.no_stash,
        self_credential,
        credential: req.credential.as_ref().map(|c| c.name.clone()),
        inventory: req.credential.as_ref().map(|c| c.path.clone()),
        allow_hosts: req.allow_hosts.clone(),
    };
    let finished = protocol::run(session, protocol_req)
        .await
        .map_err(start_error)?;
    finish(ctx, &shown, finished, req.credential.as_ref())
}

/// `--keep` is for a new token that goes nowhere yet: with targets it is refused.
fn check_keep(req: &Request) -> Result<(), CliError> {
    if !req.keep || req.targets.is_empty() {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "`{}` has both --keep and targets: --keep is for a new token that goes nowhere yet, and waits in the keyring",
        req.command
    ))
    .hint("leave out --keep to put the token into its targets now, or the targets to keep it for `tokrot apply … --from ID`"))
}

/// The report, with the inventory's new id for a `rotate --credential`: an update that fails
/// turns a finished rotation into exit 1 (the next one would read a revoked id).
fn finish(
    ctx: &mut Ctx,
    shown: &Plan,
    finished: Finished,
    credential: Option<&InventoryRef>,
) -> Result<Outcome, CliError> {
    let update = match credential {
        Some(c) => update_inventory(&state_dir(ctx)?, c, finished.facts.new_id)
            .map(|r| (c.name.as_str(), r)),
        None => None,
    };
    super::report::report(ctx, shown, finished, update)
}

/// Once a rotation gave its source a new id, the inventory names the new id: the one value is
/// rewritten in place, comments and layout kept. `Err` is a warning to act on.
pub(crate) fn update_inventory(
    state_dir: &std::path::Path,
    c: &InventoryRef,
    new_id: Option<u64>,
) -> Option<Result<String, String>> {
    let (param, new_id) = (c.id_param?, new_id?);
    let file = c.path.display();
    let set = crate::inventory::record_new_id(
        state_dir,
        &c.path,
        &c.name,
        param,
        c.old_id.as_deref(),
        &new_id.to_string(),
    );
    Some(match set {
        Ok(old) => Ok(format!(
            "{file}: credential `{}` now names the new token: {param} {} → {new_id}",
            c.name,
            old.as_deref().unwrap_or("(unset)")
        )),
        Err(e) => Err(format!(
            "warning: {e}; the inventory still names the old token: set {param} = \"{new_id}\" for `{}` by hand",
            c.name
        )),
    })
}

/// The runbook asked for, when it is of the kind the command expects (an override may not
/// change it).
fn runbook_of_kind(ctx: &Ctx, req: &Request) -> Result<Runbook, CliError> {
    let runbook = find(ctx, &req.runbook)?.clone();
    match req.kind {
        Some(kind) if runbook.kind != kind => Err(CliError::usage(format!(
            "runbook `{}` from {} is a {} runbook, but `{}` needs a {} runbook",
            runbook.id,
            runbook.origin,
            runbook.kind.as_str(),
            req.command,
            kind.as_str()
        ))),
        _ => Ok(runbook),
    }
}

/// Asks for each value the plan still needs: from a list the API gives where there is one,
/// else typed.
async fn ask_missing(
    ctx: &mut Ctx,
    runbook: &Runbook,
    plan: &Plan,
    given: &mut Vec<(String, String)>,
    clients: &Clients,
) -> Result<(), CliError> {
    let mut prompter = TerminalPrompter::new(ctx.ui.color());
    for m in &plan.missing {
        let named: std::collections::BTreeSet<&str> = plan
            .steps
            .iter()
            .filter_map(|s| s.instance.as_ref().map(|i| i.id.as_str()))
            .chain(
                given
                    .iter()
                    .filter(|(k, _)| k == "instance")
                    .map(|(_, v)| v.as_str()),
            )
            .collect();
        let reach = match named.len() {
            0 | 1 => crate::engine::credentials::Reach::Named,
            _ => crate::engine::credentials::Reach::Listed,
        };
        let missing = pick::Missing {
            runbook: &runbook.id,
            param: &m.param.name,
            prompt: &m.param.prompt,
            given,
            reach,
        };
        let http = (ctx.ui.redactor(), ctx.policy());
        match pick::pick_missing(
            &missing,
            clients.gitlab.as_ref(),
            &ctx.config,
            http,
            &mut prompter,
        )
        .await
        {
            Some(Ok(chosen)) => {
                given.push(chosen);
                continue;
            }
            Some(Err(pick::PickError::Prompt(source))) => {
                return Err(walk::WalkError::Prompt {
                    at: 0,
                    source,
                    cleanup_pending: Vec::new(),
                }
                .into());
            }
            Some(Err(other)) => {
                let line = format!("{}: {other}; type it instead", m.param.prompt);
                ctx.ui.status(&line)?;
            }
            None => {}
        }
        let value = ask(ctx, &mut prompter, m)?;
        given.push((m.param.name.clone(), value));
    }
    Ok(())
}

/// The ids of the plan's hidden captures.
fn captures(plan: &Plan) -> Vec<&str> {
    plan.steps
        .iter()
        .filter_map(|s| match &s.walk {
            WalkKind::Capture { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect()
}

/// Refuses a run whose questions nobody could answer: a capture under `--yes` (but the token,
/// from stdin or `--from`), or any question without a terminal.
fn check_answerable(
    req: &Request,
    plan: &Plan,
    unattended: bool,
    interactive: bool,
) -> Result<(), CliError> {
    let captures = captures(plan);
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
        let mut flags = vec![
            "--yes (every confirmation taken as yes; gates need --approve GATE_ID)".to_owned(),
        ];
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
    Ok(())
}

/// What the protocol is given for a run: state dir, output, clients, policy; the session
/// adds the prompter and the keyring.
pub fn session(ctx: &mut Ctx, clients: Clients, unattended: bool) -> Result<Session<'_>, CliError> {
    let given = Given {
        state_dir: state_dir(ctx)?,
        clients,
        policy: ctx.policy(),
        options: ctx.walk_options(),
        unattended,
        color: ctx.ui.color(),
        reporter: &mut ctx.ui,
    };
    Ok(Session::open(given))
}

/// The run's first lines: its title, steps and notices.
fn header(ctx: &mut Ctx, plan: &Plan) -> Result<(), CliError> {
    if ctx.json() {
        return Ok(());
    }
    let header = format!(
        "{} ({} steps)",
        ctx.ui.bold(&plan.runbook.title),
        plan.steps.len()
    );
    ctx.ui.status(&header)?;
    for n in &plan.notices {
        let line = format!("{} {n}", ctx.ui.warn("NOTE:"));
        ctx.ui.status(&line)?;
    }
    Ok(())
}

/// `--self`: where tokrot's own GitLab credential lives. From the environment, the operator is
/// told the variable goes stale (the protocol refuses the run when nothing else gets the token).
fn self_credential(
    ctx: &mut Ctx,
    plan: &Plan,
    given: &[(String, String)],
    keep: bool,
) -> Result<Option<SelfCredential>, CliError> {
    let found =
        session::self_credential(&plan.runbook.id, given, &ctx.config).map_err(clients_error)?;
    let goes_somewhere = !plan.targets.is_empty() || keep;
    if let Some(SelfCredential::Env(var)) = &found
        && goes_somewhere
    {
        let holders: Vec<&str> = plan.targets.iter().map(|t| t.spec.as_str()).collect();
        let line = format!(
            "{} {var} holds the old token: once rotated it is revoked, so {var} is stale; update it wherever it is set, from {}.",
            ctx.ui.warn("NOTE:"),
            match holders.is_empty() {
                true => "the kept token (`tokrot apply … --from ID`)".to_owned(),
                false => format!(
                    "the target that holds the new token ({})",
                    holders.join(", ")
                ),
            }
        );
        ctx.ui.status(&line)?;
    }
    Ok(found)
}

/// A run that did not start: nothing was sent.
pub fn start_error(e: StartError) -> CliError {
    let hint = match &e {
        StartError::SelfFromEnv { .. } => Some(
            "add --apply-to SPEC where the new token goes (for example the CI/CD variable your pipeline reads it from), \
             or --keep and `tokrot apply … --from ID` later; or `tokrot auth login gitlab` so that tokrot keeps its own credential"
                .to_owned(),
        ),
        StartError::NoTarget => Some(
            "add --apply-to SPEC (repeatable) for each place the new token goes, or --keep to leave it in the \
             keyring for `tokrot apply TARGET --from ID`"
                .to_owned(),
        ),
        StartError::Busy(b) => Some(format!(
            "wait for {} to end (`tokrot history` lists the runs), then try again",
            b.holder
        )),
        StartError::Unapproved { gate } => Some(format!(
            "run it on a terminal, or pass --approve {gate}=EVIDENCE (for example the access request's URL): \
             the journal and the audit log keep who approved it and the evidence"
        )),
        StartError::From { .. } => Some(
            "`tokrot history` lists the runs; a finished rotation no longer keeps its token".to_owned(),
        ),
        StartError::Keyring(_) => Some(
            "on Linux the kernel keyring (keyutils) is used; elsewhere the system's keychain. Pass --no-stash to \
             rotate anyway: the new token is then only in this process's memory, and lost if the run dies \
             before every target has it"
                .to_owned(),
        ),
        _ => None,
    };
    let err = CliError::usage(e.to_string());
    match hint {
        Some(h) => err.hint(h),
        None => err,
    }
}

/// What a dry run whose read-only checks failed says.
const DRY_RUN_FAILED: &str = "the dry run found a problem: a real run would stop in its preflight";

/// `--dry-run`: the checklist, then — when the credentials are there — the read-only checks of
/// a real run (the source token, every target), so that a dry run also says whether the run
/// would get past its preflight. Nothing is written and no token to apply is read.
async fn dry_run(
    ctx: &mut Ctx,
    plan: &Plan,
    command: &str,
    (keep, allow_hosts): (bool, &HashMap<usize, String>),
) -> Result<Outcome, CliError> {
    // Read-only checks need every value and every credential; without them the checklist is all.
    let clients = if !protocol::has_read_only_checks(plan) || !plan.missing.is_empty() {
        None
    } else {
        clients_for(ctx, &plan.steps, command).ok()
    };
    let results = match clients {
        Some(clients) => {
            protocol::read_only_checks(
                plan,
                clients,
                ctx.ui.redactor(),
                ctx.policy(),
                allow_hosts.clone(),
            )
            .await
        }
        None => Vec::new(),
    };
    let failed = results.iter().any(|(_, _, r)| r.is_err());
    if ctx.json() {
        let mut doc = super::document::RunDocument::planned(plan).checked(plan, &results);
        if failed {
            doc = doc.ended(&Err(CliError::usage(DRY_RUN_FAILED)), ctx.ui.redactor());
        }
        ctx.print_json(&doc.to_value())?;
    } else {
        let mut text = checklist::checklist(plan, &ctx.ui, true);
        let later: Vec<String> = (0..plan.steps.len())
            .filter(|i| keep && plan.targets.is_empty() && walk::retires_old(plan, *i))
            .map(|i| format!("  {}. {}\n", plan.steps[i].n, plan.steps[i].title))
            .collect();
        if !later.is_empty() {
            text.push_str("\nWith --keep, these wait for `tokrot resume ID`, once the new token is in place:\n");
            text.push_str(&later.concat());
        }
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
        ctx.ui.page(&text)?;
    }
    if failed {
        let mut err = CliError::usage(DRY_RUN_FAILED);
        // The dry run's report says it.
        err.reported = ctx.json();
        return Err(err);
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

/// The tool's own credentials for the steps of a plan (`engine::session`), as the CLI says
/// it when one is missing.
pub fn clients_for(ctx: &Ctx, steps: &[PlanStep], command: &str) -> Result<Clients, CliError> {
    ctx.warn_repointed(
        session::calls_gitlab(steps),
        steps.iter().filter_map(|s| s.instance.as_ref()),
    );
    session::clients_for(steps, command, &ctx.config, ctx.ui.redactor(), ctx.policy())
        .map_err(clients_error)
}

fn clients_error(e: session::ClientsError) -> CliError {
    let set = |v: &str| std::env::var_os(v).is_some_and(|v| !v.is_empty());
    let hint = match &e {
        session::ClientsError::NoGitLab { url, .. } if set("GITLAB_TOKEN") => Some(format!(
            "GITLAB_TOKEN belongs to the GitLab of GITLAB_URL (else --gitlab-url, else https://gitlab.com), never to one a config \
             file points at: set GITLAB_URL={url} to send it there, or run `tokrot auth login gitlab`"
        )),
        session::ClientsError::NoGitLab { .. } => Some(
            "export GITLAB_TOKEN with a personal access token that has the `api` scope, or run `tokrot auth login gitlab` \
             (a token is never given as a flag value)"
                .to_owned(),
        ),
        session::ClientsError::NoZendesk { instance, .. }
            if set("ZENDESK_OAUTH_TOKEN") || set("ZENDESK_API_TOKEN") =>
        {
            Some(format!(
                "the Zendesk credentials in the environment belong to the instance ZENDESK_INSTANCE names (its URL, or its id \
                 if no config file re-points it), else to the one instance a command names: set ZENDESK_INSTANCE, or run \
                 `tokrot auth login zendesk --instance {instance}`"
            ))
        }
        session::ClientsError::NoZendesk { instance, .. } => Some(format!(
            "export ZENDESK_OAUTH_TOKEN, or ZENDESK_EMAIL and ZENDESK_API_TOKEN, or run `tokrot auth login zendesk --instance {instance}` \
             (a token is never given as a flag value)"
        )),
        _ => None,
    };
    let err = CliError::usage(e.to_string());
    match hint {
        Some(h) => err.hint(h),
        None => err,
    }
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
            "Where does the new token go? An --apply-to SPEC such as gitlab-ci-var:grp/proj:KEY (a rotation needs at least one; or --keep)"
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
                |e: crate::inventory::target::TargetSpecError| CliError::usage(e.to_string()),
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
        ParamType::Instance => ctx.pick_instance(prompter, &prompt),
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

/// Looks up a runbook; the error lists the ids and suggests the closest.
pub fn find<'c>(ctx: &'c Ctx, id: &str) -> Result<&'c Runbook, CliError> {
    ctx.catalogue.get(id).ok_or_else(|| {
        let ids = ctx.catalogue.ids();
        let near = crate::text::closest(id, ids.iter().copied());
        let err = CliError::usage(format!(
            "unknown runbook `{id}`; runbooks: {}",
            ids.join(", ")
        ));
        match near.first() {
            Some(n) => err.hint(format!("did you mean `{n}`?")),
            None => err.hint("`tokrot list` shows them"),
        }
    })
}
