//! The rotation protocol of DESIGN.md in one place: start (id, the rules a run must meet
//! before it may begin, locks, keyring probe, journal, signals) → walk (preflight, rotate, stash,
//! apply, verify, finish; `walk.rs` carries out the steps) → conclude (journal status, the
//! stash kept or cleared, the audit line). Every run goes through here: rotations, standalone
//! applies and checklists, and `resume` (`resume.rs` decides what is left, then continues here).
//!
//! The rules written once, here:
//! - a rotation with no target is refused before anything is sent (unless `--keep`);
//! - one run at a time per source token and per run id (OS file locks, `state/lock.rs`);
//! - a one-shot call holds SIGINT/SIGTERM until its answer (or its loss) is journaled and the
//!   new token stashed; a signal elsewhere journals how the run ended, then ends the process;
//! - a gate passes only by a human's answer or by `--approve`, which the journal keeps;
//! - the stash is cleared only when every target holds the token; a stash that fails is said.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use secrecy::SecretString;

use super::interrupt::Interrupts;
use super::plan::{Plan, PlanStep, WalkKind};
use super::seams::{Actions, Keeper};
pub use super::session::Session;
use super::session::{Clients, SelfCredential};
use super::walk::{self, Approval, WalkError};
use crate::actions::Phase;
use crate::actions::run::{Executor, RunFacts};
use crate::actions::token_format::Incoming;
use crate::clients::http::RetryPolicy;
use crate::runbook::RunbookKind;
use crate::secret::stash::{self, StashError};
use crate::state::StateError;
use crate::state::audit::{self, AuditRecord};
use crate::state::journal::{self, Journal, StepStatus, TargetRecord};
use crate::state::lock::{LockError, Locks};

/// How a run stands and what it did, as the journal keeps it and reports show it.
pub use crate::state::journal::{JournalData, Status, TargetStatus};

mod runner;
use runner::{Run, Runner};

/// A run to start.
pub struct Request {
    /// The resolved plan.
    pub plan: Plan,
    /// The parameters as given (journaled, none secret).
    pub params: Vec<(String, String)>,
    /// The token to apply, from stdin or from `--from ID`.
    pub token: Option<SecretString>,
    /// `--from ID`: the run whose stashed token this one applies (locked while in use).
    pub from: Option<String>,
    /// `--keep`: a rotation with no target keeps its token in the keyring for `apply --from`.
    pub keep: bool,
    /// `--no-stash`.
    pub no_stash: bool,
    /// tokrot's own credential, when the rotation replaces it (`--self`).
    pub self_credential: Option<SelfCredential>,
    /// The inventory credential rotated (`rotate --credential`), journaled.
    pub credential: Option<String>,
    /// The inventory file that names it, journaled so that whichever process finishes the
    /// rotation (`resume`, a `--due` child) can point the entry at the new token.
    pub inventory: Option<PathBuf>,
    /// Targets (by index) that may send the token to another host than its origin.
    pub allow_hosts: HashMap<usize, String>,
}

/// Why a run did not start. Nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A rotation with nowhere to put its token.
    #[error(
        "a rotation with no target would leave its new token nowhere; the rotation did not start, nothing was changed"
    )]
    NoTarget,
    /// `--self` with the credential in the environment, which tokrot cannot update, and no
    /// other target.
    #[error(
        "`--self` rotates the token in {var}, which tokrot cannot update; with no other target the new token would go nowhere. Nothing was changed"
    )]
    SelfFromEnv {
        /// The variable.
        var: &'static str,
    },
    /// Another run holds a lock.
    #[error("{0}; this run did not start, nothing was changed")]
    Busy(crate::state::lock::Busy),
    /// A gate that `--yes` cannot answer and no `--approve` names.
    #[error(
        "gate `{gate}` needs a human decision, and --yes does not give one; the run did not start, nothing was changed"
    )]
    Unapproved {
        /// The gate's id.
        gate: String,
    },
    /// An `--approve` that names no gate of the runbook.
    #[error("--approve {gate}: runbook `{runbook}` has no such gate (its gates: {known})")]
    UnknownGate {
        /// The id given.
        gate: String,
        /// The runbook.
        runbook: String,
        /// Its gates.
        known: String,
    },
    /// The keyring cannot keep the token.
    #[error("{0}; the rotation did not start, nothing was changed")]
    Keyring(StashError),
    /// `--from ID` names no token the keyring keeps.
    #[error("--from {id}: {source}; nothing was changed")]
    From {
        /// The run named.
        id: String,
        /// Why its token cannot be had.
        source: StashError,
    },
    /// The state dir cannot be written.
    #[error("cannot keep the journal: {0}; nothing was changed")]
    State(#[from] StateError),
}

impl From<LockError> for StartError {
    fn from(e: LockError) -> Self {
        match e {
            LockError::Busy(b) => StartError::Busy(b),
            LockError::State(s) => StartError::State(s),
        }
    }
}

/// How a run ended, for the report.
pub struct Finished {
    /// The run id.
    pub id: String,
    /// As journaled.
    pub status: Status,
    /// What the run produced.
    pub facts: RunFacts,
    /// The walk's end.
    pub result: Result<walk::Outcome, WalkError>,
    /// Things the operator must know (journal, audit or keyring problems; where the token is).
    pub warnings: Vec<String>,
    /// Whether tokrot's own credential was replaced (`--self`), and how.
    pub self_credential: Option<Result<String, String>>,
    /// The journal as the run left it: every step and target, also those an earlier process
    /// did (`resume`). No secret.
    pub journal: JournalData,
    /// Parameter values the steps learned (the token found by name, the expiry sent): what the
    /// report shows instead of the plan's placeholders.
    pub learned: std::collections::BTreeMap<String, String>,
}

/// Starts and carries out a run, its actions carried out by the executor.
pub async fn run(session: Session<'_>, req: Request) -> Result<Finished, StartError> {
    let no_stash = req.no_stash;
    let plan = req.plan.clone();
    let vendors = session.clients.clone();
    let http = (session.redactor.clone(), session.policy);
    let skip = session.options.skip_targets.clone();
    let incoming = match &req.token {
        Some(token) => Some(Incoming::Known(token.clone())),
        None if plan.runbook.kind == RunbookKind::Rotate => {
            crate::inventory::source::of(&plan.runbook.id).map(|k| Incoming::Form(k.format))
        }
        None => None,
    };
    let (state_dir, source_origin) = (session.state_dir.clone(), origin(&plan));
    let allowed = req.allow_hosts.clone();
    start(session, req, move |id| {
        executor(&plan, id, vendors, http, &skip, no_stash)
            .expecting(incoming)
            .allowing_hosts(allowed)
            .with_successors(Box::new(move || {
                super::lineage::successors(&state_dir, &source_origin)
            }))
    })
    .await
}

/// Starts and carries out a run; `actions` makes what carries out its actions, given its id.
pub(crate) async fn start<A: Actions>(
    session: Session<'_>,
    req: Request,
    actions: impl FnOnce(&str) -> A,
) -> Result<Finished, StartError> {
    let plan = &req.plan;
    let rotate = plan.runbook.kind == RunbookKind::Rotate;
    let self_account = match &req.self_credential {
        Some(SelfCredential::Keyring(account)) => Some(account.clone()),
        _ => None,
    };
    if rotate && plan.targets.is_empty() && !req.keep {
        match &req.self_credential {
            Some(SelfCredential::Keyring(_)) => {}
            Some(SelfCredential::Env(var)) => return Err(StartError::SelfFromEnv { var }),
            None => return Err(StartError::NoTarget),
        }
    }
    check_gates(plan, &session.options.approvals, session.unattended)?;
    let id = run_id(&plan.runbook.id);
    let mut locks = Locks::new();
    locks.take(&session.state_dir, &id, &format!("run {id}"), &id)?;
    if rotate {
        let (key, what) = source_key(plan, &req.params);
        locks.take(&session.state_dir, &key, &what, &id)?;
    }
    if let Some(from) = &req.from {
        locks.take(
            &session.state_dir,
            from,
            &format!("the rotation {from} whose token this applies"),
            &id,
        )?;
    }
    if rotate && !req.no_stash {
        session.keeper.probe(&id).map_err(StartError::Keyring)?;
    }
    // A stashed token is read only once its rotation is locked: no resume can be using it.
    let token = match &req.from {
        Some(from) => Some(kept_token(session.keeper.as_ref(), from)?),
        None => req.token.clone(),
    };
    // The audit log is checked before anything is sent, so that its line cannot fail at the end.
    audit::prepare(&session.state_dir)?;
    let journal = Journal::create(
        &session.state_dir,
        first_record(&id, &req, self_account.clone()),
        session.redactor.clone(),
    )?;
    let run = Run::new(actions(&id), journal, session.keeper.clone(), req.no_stash);
    let end = End {
        keep: req.keep,
        self_account,
        retire_now: false,
    };
    Ok(walk_and_conclude(session, plan, run, locks, token, end).await)
}

/// A run's journal as it starts: what was asked, nothing done yet.
fn first_record(id: &str, req: &Request, self_account: Option<String>) -> JournalData {
    let plan = &req.plan;
    JournalData {
        id: id.to_owned(),
        runbook: plan.runbook.id.clone(),
        kind: plan.runbook.kind,
        params: req.params.clone(),
        targets: plan
            .targets
            .iter()
            .enumerate()
            .map(|(i, t)| TargetRecord {
                spec: t.spec.clone(),
                status: TargetStatus::Pending,
                verified: None,
                error: None,
                failed_step: None,
                allow_host: req.allow_hosts.get(&i).cloned(),
            })
            .collect(),
        from: req.from.clone(),
        origin: Some(origin(plan)),
        instance: plan.instance.as_ref().map(|i| i.id.clone()),
        started_at: journal::now(),
        updated_at: journal::now(),
        status: Status::Running,
        steps: Vec::new(),
        new_id: None,
        expires_at: None,
        stashed: false,
        stash_error: None,
        approvals: Vec::new(),
        operator: audit::os_user(),
        self_account,
        keep: req.keep,
        credential: req.credential.clone(),
        inventory: req.inventory.as_ref().map(|p| p.display().to_string()),
        memo: Default::default(),
    }
}

/// The token a rotation kept, for `--from`.
fn kept_token(keeper: &dyn Keeper, from: &str) -> Result<SecretString, StartError> {
    let found = keeper.find(from).map_err(|source| StartError::From {
        id: from.to_owned(),
        source,
    })?;
    found.ok_or_else(|| StartError::From {
        id: from.to_owned(),
        source: StashError::from_message(format!("no entry tokrot/pending:{from}")),
    })
}

/// What the end of a run depends on besides its walk.
struct End {
    keep: bool,
    self_account: Option<String>,
    /// Steps a `--keep` run left for later are carried out now: the resume of a kept run (one
    /// that did not get that far still puts them off).
    retire_now: bool,
}

/// Continues a run `resume.rs` reopened: its journal, its locks, its token.
pub(crate) async fn carry_on<A: Actions>(
    session: Session<'_>,
    plan: &Plan,
    actions: A,
    (journal, locks): (Journal, Locks),
    retire_now: bool,
) -> Finished {
    let data = journal.data();
    let end = End {
        keep: data.keep,
        self_account: data.self_account,
        retire_now,
    };
    let run = Run::new(actions, journal, session.keeper.clone(), false);
    walk_and_conclude(session, plan, run, locks, None, end).await
}

/// The executor of a run: the clients, the policy, the variables read in bulk (those of the
/// targets `skip` leaves to do).
pub(crate) fn executor(
    plan: &Plan,
    id: &str,
    vendors: Clients,
    http: (crate::secret::Redactor, RetryPolicy),
    skip: &std::collections::HashSet<usize>,
    no_stash: bool,
) -> Executor {
    let remaining: Vec<crate::actions::Invocation> = plan
        .steps
        .iter()
        .filter(|s| !s.target_index.is_some_and(|t| skip.contains(&t)))
        .filter_map(PlanStep::invocation)
        .collect();
    let mut executor = Executor::new(vendors.gitlab, http.0, id.to_owned(), today())
        .with_gitlab_url(&plan.gitlab_url)
        .with_policy(http.1)
        .batch_variable_reads(&remaining)
        .with_zendesk(vendors.zendesk);
    if no_stash {
        executor = executor.without_stash();
    }
    executor
}

/// Refuses, before anything starts, an unattended run that would meet a gate nobody can
/// answer, and an `--approve` that names no gate.
fn check_gates(plan: &Plan, approvals: &[Approval], unattended: bool) -> Result<(), StartError> {
    let gates: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.walk {
            WalkKind::Gate { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    if let Some(a) = approvals.iter().find(|a| !gates.contains(&a.gate.as_str())) {
        return Err(StartError::UnknownGate {
            gate: a.gate.clone(),
            runbook: plan.runbook.id.clone(),
            known: if gates.is_empty() {
                "none".into()
            } else {
                gates.join(", ")
            },
        });
    }
    if unattended
        && let Some(gate) = gates
            .iter()
            .find(|g| !approvals.iter().any(|a| a.gate == **g))
    {
        return Err(StartError::Unapproved {
            gate: (*gate).to_owned(),
        });
    }
    Ok(())
}

async fn walk_and_conclude<A: Actions>(
    mut session: Session<'_>,
    plan: &Plan,
    run: Run<A>,
    locks: Locks,
    token: Option<SecretString>,
    end: End,
) -> Finished {
    let interrupts = if session.signals {
        Interrupts::install()
    } else {
        Interrupts::default()
    };
    let runner = Runner {
        run: run.clone(),
        locks: Mutex::new(locks),
        state_dir: session.state_dir.clone(),
        origin: origin(plan),
        interrupts: interrupts.clone(),
        hold: Mutex::new(None),
        current: Arc::new(Mutex::new(0)),
        operator: audit::os_user(),
    };
    interrupts.on_signal(on_signal(
        plan,
        run.clone(),
        runner.current.clone(),
        session.state_dir.clone(),
    ));
    let mut options = session.options.clone();
    options.unattended = session.unattended;
    options.retire_later = end.keep && plan.targets.is_empty() && !end.retire_now;
    let walked = walk::walk(
        plan,
        session.prompter.as_mut(),
        session.reporter,
        &session.redactor,
        token,
        &runner,
        options,
    )
    .await;
    // From here the run reports its own end: a signal now only ends the process. If the
    // listener took the report first, it is journaling this end and will end the process.
    if !interrupts.claim_end() {
        return std::future::pending().await;
    }
    drop(runner.hold.lock().unwrap_or_else(|p| p.into_inner()).take());
    let result = walked.map(|(outcome, _captures)| outcome);
    let self_credential = match result {
        Err(WalkError::Unknown { .. }) => None,
        _ => write_self_credential(end.self_account.as_deref(), run.executor.new_token()),
    };
    let finished = conclude(
        &session.state_dir,
        plan,
        &run,
        result,
        (end.keep, end.retire_now),
        self_credential,
    );
    drop(runner);
    finished
}

/// `--self`: tokrot's own keyring credential gets the new token, once there is one (the old
/// one is revoked by the rotate call). Both ends of a run do it: its own and a signal's.
fn write_self_credential(
    account: Option<&str>,
    token: Option<SecretString>,
) -> Option<Result<String, String>> {
    let (account, token) = (account?, token?);
    Some(
        stash::set(account, &token)
            .map(|()| {
                format!(
                    "tokrot's own credential (keyring tokrot/{account}) now holds the new token"
                )
            })
            .map_err(|e| {
                format!("tokrot's own credential (keyring tokrot/{account}) was NOT updated: {e}")
            }),
    )
}

/// The run's end, journaled and audited. Also what a signal outside a hold runs.
fn conclude<A: Actions>(
    state_dir: &std::path::Path,
    plan: &Plan,
    run: &Run<A>,
    result: Result<walk::Outcome, WalkError>,
    (keep, retiring): (bool, bool),
    self_credential: Option<Result<String, String>>,
) -> Finished {
    let executor = &run.executor;
    let mut facts = executor.facts();
    let data = run.journal.data();
    let self_pending = data.self_account.is_some() && !matches!(self_credential, Some(Ok(_)));
    let status = match (&result, retiring) {
        // The resume of a kept run only retires the old token: done, it stays kept while the
        // keyring still has the new one (for `apply --from`); stopped, it is still kept.
        (Ok(walk::Outcome::Done), true) if !facts.stashed => Status::Done,
        (Ok(_) | Err(WalkError::Prompt { .. }), true) => Status::Kept,
        _ => status_of(
            &result,
            &facts,
            anything_changed(&data),
            keep && plan.targets.is_empty(),
            self_pending,
        ),
    };
    let mut warnings = Vec::new();
    // A token with nowhere else to be is never removed from the keyring.
    let elsewhere = !plan.targets.is_empty() || data.self_account.is_some();
    if status == Status::Done && facts.stashed && elsewhere {
        match run.keeper.remove(executor.rotation_id()) {
            Ok(()) => facts.stashed = false,
            Err(e) => warnings.push(format!(
                "the finished rotation's token could not be removed from the keyring: {e}"
            )),
        }
    }
    if let Some(w) = where_the_token_is(status, &facts, executor.rotation_id()) {
        warnings.push(w);
    }
    if let Some(w) = short_lifetime(plan, &facts, today()) {
        warnings.push(w);
    }
    let written = run.journal.update(|d| {
        d.status = status;
        d.stashed = facts.stashed;
        d.stash_error = facts.stash_error.clone().or(d.stash_error.take());
        d.new_id = facts.new_id.or(d.new_id);
        d.memo = executor.memo();
    });
    let audited = audit::append(
        state_dir,
        &audit_record(&run.journal.data(), plan, &facts, status),
        executor.redactor(),
    );
    for problem in [
        written.err().map(|e| e.to_string()),
        audited.err().map(|e| e.to_string()),
        run.journal_error(),
    ]
    .into_iter()
    .flatten()
    {
        warnings.push(format!(
            "the journal or audit log could not be written: {problem}"
        ));
    }
    Finished {
        id: executor.rotation_id().to_owned(),
        status,
        facts,
        result,
        warnings,
        self_credential,
        journal: run.journal.data(),
        learned: executor.learned(),
    }
}

/// The days within which a new token that the vendor gave a lifetime is said to expire soon.
const SHORT_LIFETIME_DAYS: i64 = 90;

/// A new token whose lifetime the vendor set (an expiring OAuth access token) and that ends
/// within 90 days: said, naming the consumers that hold it, since they stop working that day.
fn short_lifetime(plan: &Plan, facts: &RunFacts, today: jiff::civil::Date) -> Option<String> {
    if !facts.vendor_expiry {
        return None;
    }
    let day: jiff::civil::Date = facts.expires_at.as_deref()?.parse().ok()?;
    let days = (day - today).get_days() as i64;
    if days > SHORT_LIFETIME_DAYS {
        return None;
    }
    let holders = match plan.targets.is_empty() {
        true => "nothing holds it yet".to_owned(),
        false => {
            let specs: Vec<&str> = plan.targets.iter().map(|t| t.spec.as_str()).collect();
            format!("{} stop working then", specs.join(", "))
        }
    };
    Some(format!(
        "the new token expires on {day}, in {days} days, as the vendor set it: {holders} unless it is rotated before (`tokrot status` shows it)"
    ))
}

/// How a run ended, as the journal says it.
fn status_of(
    result: &Result<walk::Outcome, WalkError>,
    facts: &RunFacts,
    changed: bool,
    kept: bool,
    self_pending: bool,
) -> Status {
    let rotated = facts.made || facts.new_id.is_some() || facts.stashed;
    let stopped = matches!(
        result,
        Ok(walk::Outcome::Stopped(_))
            | Err(WalkError::Prompt { .. } | WalkError::Interrupted { .. })
    );
    match result {
        Ok(walk::Outcome::Done) if self_pending && rotated => Status::Incomplete,
        // Kept only when the keyring has it: "kept" with nothing kept would be a lost token.
        Ok(walk::Outcome::Done) if kept && facts.stashed => Status::Kept,
        Ok(walk::Outcome::Done) if kept => Status::Failed,
        Ok(walk::Outcome::Done) => Status::Done,
        Ok(walk::Outcome::Incomplete(_)) => Status::Incomplete,
        Err(WalkError::Unknown { .. }) => Status::Unknown,
        _ if !stopped => Status::Failed,
        _ if !changed => Status::Stopped,
        _ if rotated && facts.stashed => Status::Incomplete,
        _ => Status::Aborted,
    }
}

/// Where the new token is, when the run did not finish: said loudly when it is nowhere.
fn where_the_token_is(status: Status, facts: &RunFacts, id: &str) -> Option<String> {
    let unfinished = matches!(
        status,
        Status::Incomplete | Status::Failed | Status::Aborted
    );
    if status == Status::Failed
        && (facts.made || facts.new_id.is_some())
        && !facts.stashed
        && facts.stash_error.is_none()
    {
        return Some(
            "the new token is NOT kept anywhere (--no-stash) and no target holds it: it dies with this process".into(),
        );
    }
    if let Some(e) = &facts.stash_error {
        return (status != Status::Done).then(|| format!(
            "the new token is NOT kept anywhere: the keyring refused it ({e}). It dies with this process; \
             the targets that do not hold it cannot be finished by `tokrot resume`"
        ));
    }
    if unfinished && facts.stashed {
        return Some(format!(
            "The new token is kept in the OS keyring as tokrot/pending:{id}; it was not lost: `tokrot resume {id}` finishes the rotation."
        ));
    }
    (unfinished && (facts.made || facts.new_id.is_some())).then(|| {
        "the new token is NOT kept (--no-stash): it dies with this process; the targets that do not hold it cannot be finished by `tokrot resume`".to_owned()
    })
}

fn audit_record(data: &JournalData, plan: &Plan, facts: &RunFacts, status: Status) -> AuditRecord {
    AuditRecord {
        at: journal::now(),
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
        approvals: data.approvals.clone(),
    }
}

/// Whether the journal shows anything done that changes something: a manual step confirmed
/// (the operator changed something by hand), an action of the rotate, apply or finish phase
/// started, or a target written.
pub(crate) fn anything_changed(d: &JournalData) -> bool {
    d.targets.iter().any(|t| t.status == TargetStatus::Applied)
        || d.steps.iter().any(|s| match s.phase {
            Some(Phase::Rotate | Phase::Apply | Phase::Finish) => s.status != StepStatus::Skipped,
            Some(_) => false,
            None => s.status == StepStatus::Done && !s.title.is_empty() && s.action.is_none(),
        })
}

/// What a signal outside a one-shot call does: journal how the run ended, say what is left.
fn on_signal<A: Actions>(
    plan: &Plan,
    run: Run<A>,
    current: Arc<Mutex<usize>>,
    state_dir: PathBuf,
) -> super::interrupt::OnSignal {
    let plan = plan.clone();
    Box::new(move |signal| {
        let at = *current.lock().unwrap_or_else(|p| p.into_inner());
        let index = plan.steps.iter().position(|s| s.n == at).unwrap_or(0);
        let cleanup_pending = walk::cleanup_after(&plan, index);
        let self_credential = write_self_credential(
            run.journal.data().self_account.as_deref(),
            run.executor.new_token(),
        );
        let finished = conclude(
            &state_dir,
            &plan,
            &run,
            Err(WalkError::Interrupted {
                at,
                signal,
                cleanup_pending,
            }),
            (false, false),
            self_credential,
        );
        crate::terminal::restore_terminal();
        let mut text = match finished.status {
            Status::Stopped => format!(
                "interrupted at step {at}, before anything was changed: nothing was changed (run {} is journaled as stopped).",
                finished.id
            ),
            status => format!(
                "interrupted at step {at}; run {} is journaled as {}.",
                finished.id,
                status.as_str()
            ),
        };
        if let Err(WalkError::Interrupted {
            cleanup_pending, ..
        }) = &finished.result
            && !cleanup_pending.is_empty()
        {
            text.push_str("\nclean-up still to do by hand:");
            for (n, t) in cleanup_pending {
                text.push_str(&format!("\n  step {n}: {t}"));
            }
        }
        for w in &finished.warnings {
            text.push('\n');
            text.push_str(w);
        }
        crate::terminal::raw_status(&run.executor.redactor().redact(&text));
    })
}

/// Where a target stands: applied, else failed when it failed, else pending.
pub fn target_status(applied: bool, failed: bool) -> TargetStatus {
    match (applied, failed) {
        (true, _) => TargetStatus::Applied,
        (false, true) => TargetStatus::Failed,
        (false, false) => TargetStatus::Pending,
    }
}

/// The lock key of a token by its identity on an origin.
pub(crate) fn identity_key(origin: &str, identity: &str) -> String {
    format!("source:{origin}:{identity}")
}

/// The origin a plan's source lives on: its Zendesk instance, else GitLab.
pub(crate) fn origin(plan: &Plan) -> String {
    match &plan.instance {
        Some(i) => crate::config::display_url(&i.url),
        None => plan.gitlab_url.clone(),
    }
}

/// The lock key of a rotation's source token: service, origin, kind and the parameters that
/// name the token; and how the operator reads it.
pub fn source_key(plan: &Plan, params: &[(String, String)]) -> (String, String) {
    let origin = origin(plan);
    // The parameters that name the token: its kind's, or (a team's own runbook) any of those
    // that name a token in tokrot's own kinds.
    const NAMING: &[&str] = &[
        "token_id",
        "token_name",
        "project",
        "group",
        "trigger_id",
        "client_id",
        "webhook_id",
    ];
    let naming = crate::inventory::source::of(&plan.runbook.id).map_or(NAMING, |k| k.lock_params);
    let mut names: Vec<String> = params
        .iter()
        .filter(|(k, _)| naming.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    names.sort();
    names.dedup();
    let key = format!("source:{}:{origin}:{}", plan.runbook.id, names.join(","));
    let what = format!(
        "the {} source {} on {origin}",
        plan.runbook.id,
        if names.is_empty() {
            "(the instance's token)".into()
        } else {
            names.join(" ")
        }
    );
    (key, what)
}

/// A run id: when it started, the runbook, and a few random hex digits.
fn run_id(runbook: &str) -> String {
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

/// Today (UTC).
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

/// Whether a plan has read-only checks a dry run can make (the source; every target).
pub fn has_read_only_checks(plan: &Plan) -> bool {
    plan.steps.iter().any(is_read_only_check)
}

fn is_read_only_check(s: &PlanStep) -> bool {
    s.action_phase() == Some(Phase::Preflight)
        && !s
            .action
            .is_some_and(|a| a.action == crate::actions::Action::TargetsPreflight)
}

/// The dry run's read-only checks: the preflight steps of a real run and nothing else, with
/// the tool's own credentials. Nothing is journaled, locked or written.
pub async fn read_only_checks(
    plan: &Plan,
    Clients { gitlab, zendesk }: Clients,
    redactor: &crate::secret::Redactor,
    policy: RetryPolicy,
    allow_hosts: HashMap<usize, String>,
) -> Vec<(usize, String, Result<String, String>)> {
    let checks: Vec<(&PlanStep, crate::actions::Invocation)> = plan
        .steps
        .iter()
        .filter(|s| is_read_only_check(s))
        .filter_map(|s| s.invocation().map(|i| (s, i)))
        .collect();
    let invocations: Vec<_> = checks.iter().map(|(_, i)| i.clone()).collect();
    // The checks a real run makes, with what it knows of the token it will make: its form (a
    // masked variable's rules) and its vendor (where a target may send it).
    let incoming = match plan.runbook.kind {
        RunbookKind::Rotate => {
            crate::inventory::source::of(&plan.runbook.id).map(|k| Incoming::Form(k.format))
        }
        _ => None,
    };
    let executor = Executor::new(gitlab, redactor.clone(), "dry-run".into(), today())
        .with_gitlab_url(&plan.gitlab_url)
        .with_policy(policy)
        .batch_variable_reads(&invocations)
        .with_zendesk(zendesk)
        .expecting(incoming)
        .allowing_hosts(allow_hosts);
    let mut results = Vec::new();
    for (step, invocation) in checks {
        let result = executor.run(&invocation).await.map_err(|f| f.message);
        let what = match &step.target {
            Some(t) => format!("{t}: {}", step.title),
            None => step.title.clone(),
        };
        results.push((step.n, what, result));
    }
    results
}
