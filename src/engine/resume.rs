//! Reopening a run from its journal: which run, whether it may be continued, with what token,
//! and what is left to do. A one-shot call is never made again: a journal whose one-shot step
//! is still "running" (the process died during the call) or "unknown" (its answer was lost)
//! means "outcome unknown", unless the keyring shows the new token was kept, in which case the
//! call succeeded. The keyring is always looked at before anything is said about the token.

use std::collections::HashSet;
use std::path::Path;

use secrecy::SecretString;

use super::lineage;
use super::plan::Plan;
use super::protocol::{self, Finished, Session, StartError};
use super::seams::{Actions, Keeper};
use super::walk;
use crate::actions::Phase;
use crate::model::RunbookKind;
use crate::state::StateError;
use crate::state::journal::{self, Journal, JournalData, Status, StepStatus, TargetStatus};
use crate::state::lock::{LockError, Locks};

/// The form of a run id, checked where an id comes from outside (a command line).
pub use crate::state::journal::check_run_id;

/// Why a run cannot be continued.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// No such run, or the journal cannot be read.
    #[error(transparent)]
    State(#[from] StateError),
    /// No unfinished run.
    #[error("no unfinished run to resume")]
    NothingToResume,
    /// Another run holds a lock.
    #[error("{0}; nothing was done")]
    Busy(crate::state::lock::Busy),
    /// The runbook changed since the run started.
    #[error(
        "run {id}: runbook `{runbook}` has changed since the run started (step {n} was \"{title}\"); it cannot be resumed safely"
    )]
    Changed {
        /// The run.
        id: String,
        /// The runbook.
        runbook: String,
        /// The step that differs.
        n: usize,
        /// Its title then.
        title: String,
    },
    /// The one-shot call may or may not have been carried out, and no token was kept.
    #[error(
        "run {id}: the outcome of its one-shot call (step {n}, {title}) is unknown: {why}; it cannot be resumed, and the call is never made again"
    )]
    Unknown {
        /// The run.
        id: String,
        /// The step.
        n: usize,
        /// Its title.
        title: String,
        /// What the journal and the keyring say.
        why: String,
    },
    /// No one-shot call was sent, or the vendor refused it: no token was made.
    #[error("run {id} never made its new token ({why}); nothing was changed by it")]
    NeverMade {
        /// The run.
        id: String,
        /// Why.
        why: String,
        /// The command that rotates it again, in the terms the run was started in
        /// (`tokrot rotate --credential NAME` for an inventory credential).
        again: String,
    },
    /// The token was made but is not in the keyring.
    #[error(
        "run {id}: the new token was made (id {new_id}) but {why}; the targets it did not reach cannot be finished"
    )]
    NotKept {
        /// The run.
        id: String,
        /// The new token's id, or `?`.
        new_id: String,
        /// Why it is not kept.
        why: String,
    },
    /// The run's source lives on another GitLab or Zendesk instance than the one configured
    /// now: its steps must not be carried out there.
    #[error(
        "run {id} was made on {was}, and tokrot now points at {now}: nothing was sent; a resume goes where the run began"
    )]
    OtherOrigin {
        /// The run.
        id: String,
        /// Its origin, as journaled.
        was: String,
        /// The origin the configuration gives now.
        now: String,
    },
    /// The run finished while this one waited for its lock.
    #[error("run {id} has already finished")]
    Finished {
        /// The run.
        id: String,
    },
    /// The keyring cannot say whether it keeps the token.
    #[error("run {id}: the OS keyring cannot be read ({why}); nothing was done")]
    Keyring {
        /// The run.
        id: String,
        /// Why.
        why: String,
    },
    /// A run whose token came from a paste or stdin.
    #[error(
        "run {id} applied a token it was given, which tokrot never keeps; run the same `tokrot apply` again (writing a target twice is safe)"
    )]
    NotRotation {
        /// The run.
        id: String,
    },
}

impl From<LockError> for ResumeError {
    fn from(e: LockError) -> Self {
        match e {
            LockError::Busy(b) => ResumeError::Busy(b),
            LockError::State(s) => ResumeError::State(s),
        }
    }
}

/// A run ready to be continued.
pub struct Reopened {
    /// What its journal says.
    pub data: JournalData,
    /// The new token from the keyring (rotations).
    token: Option<SecretString>,
    /// Steps done before: not carried out again (one-shot steps among them, always).
    pub skip_steps: HashSet<usize>,
    /// Targets applied before.
    pub skip_targets: HashSet<usize>,
    locks: Locks,
}

/// Whether a run may still be continued.
pub fn unfinished(s: Status) -> bool {
    matches!(
        s,
        Status::Running
            | Status::Incomplete
            | Status::Failed
            | Status::Aborted
            | Status::Stopped
            | Status::Unknown
    )
}

/// The command that rotates a run's token again, as the operator started it: by its inventory
/// credential when it had one, else by its runbook.
fn rotate_again(data: &JournalData) -> String {
    match &data.credential {
        Some(name) => format!("tokrot rotate --credential {name}"),
        None => format!("tokrot rotate {}", data.runbook),
    }
}

/// The journal of `id`, or of the latest unfinished run.
pub fn find(state_dir: &Path, id: Option<&str>) -> Result<JournalData, ResumeError> {
    match id {
        Some(id) => Ok(journal::load(state_dir, id)?),
        None => journal::list(state_dir)?
            .into_iter()
            .rev()
            .find(|j| unfinished(j.status))
            .ok_or(ResumeError::NothingToResume),
    }
}

/// Locks the run and its source, checks that it can go on, and takes its token.
pub fn reopen(
    state_dir: &Path,
    data: JournalData,
    plan: &Plan,
    holder: &str,
    keeper: &dyn Keeper,
) -> Result<Reopened, ResumeError> {
    let id = data.id.clone();
    let mut locks = Locks::new();
    locks.take(state_dir, &id, &format!("run {id}"), holder)?;
    // Read again under the lock: the run that held it may have changed it.
    let data = journal::load(state_dir, &id)?;
    if data.status == Status::Done
        || (data.status == Status::Kept && left_for_later(&data).is_empty())
    {
        return Err(ResumeError::Finished { id });
    }
    same_origin(&data, plan)?;
    if data.kind == RunbookKind::Rotate {
        let (key, what) = protocol::source_key(plan, &data.params);
        locks.take(state_dir, &key, &what, holder)?;
        // The old and the new token by the vendor's own ids, as the run that made them held.
        let origin = protocol::origin(plan);
        let source = data.memo.get("source_id").cloned();
        let made = source
            .as_deref()
            .zip(data.new_id)
            .and_then(|(s, id)| lineage::new_identity(s, id));
        for identity in source.into_iter().chain(made) {
            let what = format!("{identity} on {origin}");
            locks.take(
                state_dir,
                &protocol::identity_key(&origin, &identity),
                &what,
                holder,
            )?;
        }
    }
    for record in data.steps.iter().filter(|s| s.status == StepStatus::Done) {
        if !plan
            .steps
            .iter()
            .any(|s| s.n == record.n && s.title == record.title)
        {
            return Err(ResumeError::Changed {
                id,
                runbook: data.runbook.clone(),
                n: record.n,
                title: record.title.clone(),
            });
        }
    }
    let token = match data.kind {
        // A kept run has only the old token's retirement left, which needs no new token: one the
        // keyring has let go of (the kernel keyring's lasts three days) does not hold it up.
        RunbookKind::Rotate if data.status == Status::Kept => keeper.find(&id).ok().flatten(),
        RunbookKind::Rotate => Some(rotated_token(&data, plan, keeper)?),
        RunbookKind::Apply if data.steps.iter().any(|s| s.status == StepStatus::Done) => {
            return Err(ResumeError::NotRotation { id });
        }
        _ => None,
    };
    let (skip_steps, skip_targets) = skips(&data, plan);
    Ok(Reopened {
        data,
        token,
        skip_steps,
        skip_targets,
        locks,
    })
}

/// The runs that put the token a kept run made into place (`apply --from ID`) and got it there.
pub fn applied_from(state_dir: &Path, id: &str) -> Vec<String> {
    journal::list(state_dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|j| j.from.as_deref() == Some(id) && j.status == Status::Done)
        .map(|j| j.id)
        .collect()
}

/// Ends a kept run whose token is in place (an `apply --from` put it somewhere) and whose old
/// token's retirement is done or was never left for later: the keyring copy is dropped and the
/// run is done, with an audit line. Under the run's lock; the journal is read again under it.
pub fn close_kept(
    state_dir: &Path,
    id: &str,
    keeper: &dyn Keeper,
    redactor: &crate::secret::Redactor,
) -> Result<JournalData, ResumeError> {
    let mut locks = Locks::new();
    locks.take(
        state_dir,
        id,
        &format!("run {id}"),
        &format!("resume of {id} (pid {})", std::process::id()),
    )?;
    let data = journal::load(state_dir, id)?;
    if data.status != Status::Kept || !left_for_later(&data).is_empty() {
        return Err(ResumeError::Finished { id: id.to_owned() });
    }
    // Forgotten first: a run marked done whose token is still kept would be a token no run
    // says it holds.
    keeper.remove(id).map_err(|e| ResumeError::Keyring {
        id: id.to_owned(),
        why: e.to_string(),
    })?;
    let journal = Journal::reopen(state_dir, data, redactor.clone());
    journal.update(|d| {
        d.status = Status::Done;
        d.stashed = false;
    })?;
    let data = journal.data();
    let record = crate::state::audit::AuditRecord {
        at: journal::now(),
        rotation_id: data.id.clone(),
        os_user: crate::state::audit::os_user(),
        gitlab_user: None,
        zendesk_user: None,
        runbook: data.runbook.clone(),
        instance: data.instance.clone(),
        source: data.source(),
        new_id: data.new_id,
        targets: applied_from(state_dir, id),
        outcome: "done".into(),
        approvals: Vec::new(),
    };
    crate::state::audit::append(state_dir, &record, redactor)?;
    Ok(data)
}

/// Refuses a run whose source lives elsewhere than the plan now points (another GitLab, a
/// re-pointed instance): its steps, and its new token, belong where it began. A journal from
/// before origins were kept cannot be checked.
pub fn same_origin(data: &JournalData, plan: &Plan) -> Result<(), ResumeError> {
    let now = protocol::origin(plan);
    match data.origin.as_ref().filter(|was| **was != now) {
        Some(was) => Err(ResumeError::OtherOrigin {
            id: data.id.clone(),
            was: was.clone(),
            now,
        }),
        None => Ok(()),
    }
}

/// The steps a `--keep` run left for later (those that retire the old token), not yet done:
/// `resume` carries them out, once the new token is in place.
pub fn left_for_later(data: &JournalData) -> Vec<(usize, String)> {
    let mut left: Vec<(usize, String)> = Vec::new();
    for s in &data.steps {
        left.retain(|(n, _)| *n != s.n);
        let message = s.message.as_deref().unwrap_or_default();
        if s.status == StepStatus::Skipped
            && let Some(rest) = message.strip_prefix(walk::LEFT_FOR_LATER)
        {
            let title = rest.strip_prefix(": ").unwrap_or(&s.title);
            left.push((s.n, title.to_owned()));
        }
    }
    left
}

/// What a resume of `data` leaves out: the steps done before (and every one-shot call,
/// whatever the journal says of it), and the targets applied before. Reads nothing else.
pub fn skips(data: &JournalData, plan: &Plan) -> (HashSet<usize>, HashSet<usize>) {
    let mut steps: HashSet<usize> = data
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Done)
        .map(|s| s.n)
        .collect();
    steps.extend(
        plan.steps
            .iter()
            .filter(|s| s.action_phase() == Some(Phase::Rotate))
            .map(|s| s.n),
    );
    let targets = data
        .targets
        .iter()
        .enumerate()
        .filter(|(_, t)| t.status == TargetStatus::Applied)
        .map(|(i, _)| i)
        .collect();
    (steps, targets)
}

/// The token a rotation made, from the keyring; or why there is none, told truthfully.
fn rotated_token(
    data: &JournalData,
    plan: &Plan,
    keeper: &dyn Keeper,
) -> Result<SecretString, ResumeError> {
    let id = data.id.clone();
    let kept = keeper.find(&id).map_err(|e| ResumeError::Keyring {
        id: id.clone(),
        why: e.to_string(),
    })?;
    // The keyring first: a kept token means the one-shot call succeeded, whatever the journal
    // had time to say.
    if let Some(token) = kept {
        return Ok(token);
    }
    let sent = one_shots_sent(data, plan)?;
    if !sent {
        return Err(ResumeError::NeverMade {
            id,
            why: "it stopped before its one-shot call was sent".into(),
            again: rotate_again(data),
        });
    }
    Err(ResumeError::NotKept {
        id,
        new_id: new_id(data),
        why: match &data.stash_error {
            Some(e) => format!("it was never kept: the keyring refused it ({e})"),
            None if data.stashed => "the keyring no longer has it (the kernel keyring does not survive a reboot, and expires after 3 days)".into(),
            None => "it was never kept (--no-stash)".into(),
        },
    })
}

fn new_id(data: &JournalData) -> String {
    data.new_id.map_or_else(|| "?".into(), |n| n.to_string())
}

/// With no token kept: whether the run made one (a one-shot call done, a token pasted, a target
/// written), or why it cannot be resumed (a one-shot call whose outcome is unknown; one refused).
fn one_shots_sent(data: &JournalData, plan: &Plan) -> Result<bool, ResumeError> {
    let id = data.id.clone();
    // A token pasted by hand (`zendesk-api`), or one a target already holds, was made: no
    // one-shot call stands for it, and "nothing was changed" would be false.
    let mut sent = data
        .targets
        .iter()
        .any(|t| t.status == TargetStatus::Applied)
        || plan.steps.iter().any(|s| {
            matches!(s.walk, super::plan::WalkKind::Capture { .. })
                && data.step(s.n).is_some_and(|r| r.status == StepStatus::Done)
        });
    let one_shots = plan
        .steps
        .iter()
        .filter(|s| s.action_phase() == Some(Phase::Rotate));
    // The one-shot call that made a token, when a later one did not follow (`gitlab-trigger-bot`
    // makes the bot's project access token, then the trigger with it).
    let mut made: Option<&super::plan::PlanStep> = None;
    for s in one_shots {
        let record = data.step(s.n);
        match record.map(|r| r.status) {
            None if made.is_some() => {
                let first = made.map_or(0, |m| m.n);
                return Err(ResumeError::NotKept {
                    id,
                    new_id: new_id(data),
                    why: format!(
                        "step {} ({}) was never sent after step {first} made a token, which is still active: revoke it",
                        s.n, s.title
                    ),
                });
            }
            Some(status @ (StepStatus::Running | StepStatus::Unknown)) => {
                return Err(ResumeError::Unknown {
                    id,
                    n: s.n,
                    title: s.title.clone(),
                    why: if status == StepStatus::Running {
                        "the journal shows the call started and never ended (the process died during it), and no new token is in the keyring".into()
                    } else {
                        "its answer was lost, and no new token is in the keyring".into()
                    },
                });
            }
            Some(StepStatus::Failed) => {
                let why = record
                    .and_then(|r| r.message.clone())
                    .unwrap_or_else(|| "the vendor refused it".into());
                if !sent {
                    return Err(ResumeError::NeverMade {
                        id,
                        why: format!("its one-shot call was refused: {why}"),
                        again: rotate_again(data),
                    });
                }
                // An earlier one-shot call made something (the bot's project access token):
                // "nothing was changed" would be false.
                return Err(ResumeError::NotKept {
                    id,
                    new_id: new_id(data),
                    why: format!(
                        "step {} ({}) was refused ({why}) after an earlier one-shot call made a token, which is still active: revoke it",
                        s.n, s.title
                    ),
                });
            }
            Some(StepStatus::Done) => {
                sent = true;
                made = Some(s);
            }
            Some(StepStatus::Skipped) | None => {}
        }
    }
    Ok(sent)
}

/// Continues a reopened run through the protocol, its actions carried out by the executor.
pub async fn resume(
    session: Session<'_>,
    plan: &Plan,
    reopened: Reopened,
) -> Result<Finished, StartError> {
    let vendors = session.clients.clone();
    let http = (session.redactor.clone(), session.policy);
    let allowed = reopened
        .data
        .targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.allow_host.clone().map(|h| (i, h)))
        .collect();
    let executor = protocol::executor(
        plan,
        &reopened.data.id,
        vendors,
        http,
        &reopened.skip_targets,
        false,
    )
    .allowing_hosts(allowed);
    resume_with(session, plan, reopened, executor).await
}

/// Continues a reopened run with `actions`: they get back the token, what earlier steps
/// learned and the targets already applied; the protocol skips what was done.
pub(crate) async fn resume_with<A: Actions>(
    mut session: Session<'_>,
    plan: &Plan,
    reopened: Reopened,
    actions: A,
) -> Result<Finished, StartError> {
    session.options.skip_steps = reopened.skip_steps.clone();
    session.options.skip_targets = reopened.skip_targets.clone();
    let data = reopened.data;
    session.options.changed_before = protocol::anything_changed(&data);
    let journal = Journal::reopen(&session.state_dir, data.clone(), session.redactor.clone());
    journal.update(|d| d.status = Status::Running)?;
    actions.restore(&data.memo);
    if let Some(token) = reopened.token {
        actions.resumed_token(token, true);
    }
    for (i, t) in data.targets.iter().enumerate() {
        if t.status == TargetStatus::Applied {
            actions.resumed_target(i, t.verified);
        }
    }
    // A kept run is resumed to retire the old token, now that the new one is in place; any
    // other keeps putting that off.
    let retire_now = data.status == Status::Kept;
    Ok(protocol::carry_on(
        session,
        plan,
        actions,
        (journal, reopened.locks),
        retire_now,
    )
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keyring that has let every token go (after a reboot, say).
    struct Forgotten;

    impl Keeper for Forgotten {
        fn probe(&self, _run: &str) -> Result<(), crate::secret::stash::StashError> {
            Ok(())
        }
        fn put(
            &self,
            _run: &str,
            _token: &SecretString,
        ) -> Result<(), crate::secret::stash::StashError> {
            Ok(())
        }
        fn find(
            &self,
            _run: &str,
        ) -> Result<Option<SecretString>, crate::secret::stash::StashError> {
            Ok(None)
        }
        fn remove(&self, _run: &str) -> Result<(), crate::secret::stash::StashError> {
            Ok(())
        }
    }

    /// A kept trigger rotation whose last step (delete the old trigger) was left for later.
    fn kept_run(state_dir: &Path, plan: &Plan, deferred: bool) -> JournalData {
        let id = "20261129T050000Z-gitlab-trigger-0a1b2c";
        let steps = plan
            .steps
            .iter()
            .map(|s| {
                let last = s.n == plan.steps.len();
                journal::StepRecord {
                    n: s.n,
                    title: s.title.clone(),
                    action: s.action.map(|a| a.name.to_owned()),
                    phase: s.phase,
                    status: if last && deferred {
                        StepStatus::Skipped
                    } else {
                        StepStatus::Done
                    },
                    at: journal::now(),
                    message: (last && deferred)
                        .then(|| format!("{}: {}", walk::LEFT_FOR_LATER, s.title)),
                }
            })
            .collect();
        let data = JournalData {
            id: id.into(),
            runbook: "gitlab-trigger".into(),
            kind: RunbookKind::Rotate,
            params: vec![
                ("project".into(), "grp/proj".into()),
                ("trigger_id".into(), "9".into()),
                ("description".into(), "deploy".into()),
            ],
            targets: Vec::new(),
            instance: None,
            started_at: journal::now(),
            updated_at: journal::now(),
            status: Status::Kept,
            steps,
            new_id: Some(10),
            expires_at: None,
            stashed: true,
            stash_error: None,
            approvals: Vec::new(),
            operator: None,
            self_account: None,
            keep: true,
            origin: None,
            from: None,
            credential: None,
            inventory: None,
            memo: Default::default(),
        };
        Journal::create(state_dir, data.clone(), crate::secret::Redactor::default())
            .unwrap_or_else(|e| panic!("{e}"));
        journal::load(state_dir, id).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_kept_run_resumes_its_deferred_retirement_without_the_new_token_and_only_that() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let state = dir.path().join("state");
        let catalogue = crate::runbook::Catalogue::embedded().unwrap_or_else(|e| panic!("{e}"));
        let runbook = catalogue
            .get("gitlab-trigger")
            .unwrap_or_else(|| panic!("runbook"));
        let params = vec![
            ("project".to_owned(), "grp/proj".to_owned()),
            ("trigger_id".to_owned(), "9".to_owned()),
            ("description".to_owned(), "deploy".to_owned()),
        ];
        let plan = super::super::plan::resolve(
            runbook,
            &params,
            &[],
            super::super::plan::Mode::Resolve,
            &crate::config::Config::built_in(),
            &catalogue,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let data = kept_run(&state, &plan, true);
        assert_eq!(left_for_later(&data).len(), 1);
        let reopened = reopen(&state, data, &plan, "test", &Forgotten)
            .unwrap_or_else(|e| panic!("a kept run needs no token to retire the old one: {e}"));
        assert!(reopened.token.is_none());
        // Everything but the deferred step is done and skipped.
        assert_eq!(reopened.skip_steps.len(), plan.steps.len() - 1);
        drop(reopened);
        // Once that step is done, there is nothing left to resume.
        let done = kept_run(&state, &plan, false);
        assert!(left_for_later(&done).is_empty());
        assert!(matches!(
            reopen(&state, done, &plan, "test", &Forgotten),
            Err(ResumeError::Finished { .. })
        ));
    }
}
