//! A run under way, as the protocol carries it out: each step journaled before it starts (a
//! one-shot call: before it is sent) and as it ends, each target as it ends, the new token
//! kept and locked the moment it exists, signals held around a one-shot call. The walk sees
//! it as its `ActionRunner`; an action never journals.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use secrecy::SecretString;

use super::{identity_key, target_status};
use crate::actions::Phase;
use crate::actions::run::ActionFailure;
use crate::engine::interrupt::{Hold, Interrupts};
use crate::engine::plan::PlanStep;
use crate::engine::seams::{Actions, Keeper};
use crate::engine::walk::{ActionRunner, Approval, StepEnd};
use crate::state::StateError;
use crate::state::journal::{self, ApprovalRecord, Journal, StepRecord, StepStatus};
use crate::state::lock::{LockError, Locks};

/// A run under way: its executor and its journal. The journal is written here, never by an
/// action: before a step (a one-shot call: before it is sent), after it, and as targets end.
pub(super) struct Run<A> {
    pub(super) executor: Arc<A>,
    pub(super) journal: Arc<Journal>,
    pub(super) journal_error: Arc<Mutex<Option<String>>>,
    pub(super) keeper: Arc<dyn Keeper>,
    /// `--no-stash`: the token is not put into the keeper.
    pub(super) no_stash: bool,
}

impl<A> Clone for Run<A> {
    fn clone(&self) -> Self {
        Self {
            executor: self.executor.clone(),
            journal: self.journal.clone(),
            journal_error: self.journal_error.clone(),
            keeper: self.keeper.clone(),
            no_stash: self.no_stash,
        }
    }
}

impl<A: Actions> Run<A> {
    pub(super) fn new(
        executor: A,
        journal: Journal,
        keeper: Arc<dyn Keeper>,
        no_stash: bool,
    ) -> Self {
        Self {
            executor: Arc::new(executor),
            journal: Arc::new(journal),
            journal_error: Arc::default(),
            keeper,
            no_stash,
        }
    }

    /// The first journal write that failed, if any.
    pub(super) fn journal_error(&self) -> Option<String> {
        self.journal_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(super) fn write(&self, result: Result<(), StateError>) {
        if let Err(e) = result {
            let mut slot = self.journal_error.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| e.to_string());
        }
    }

    pub(super) fn step(&self, step: &PlanStep, status: StepStatus, message: Option<&str>) {
        self.write(self.journal.step(
            step.n,
            &step.title,
            step.action.map(|a| a.name),
            step.phase,
            status,
            message.filter(|m| !m.is_empty()),
        ));
    }

    /// A step's end and what the run learned by then, in one journal write.
    pub(super) fn step_ended(&self, step: &PlanStep, end: StepEnd<'_>) {
        let (status, message) = match end {
            StepEnd::Done(m) => (StepStatus::Done, m),
            StepEnd::Failed(m) => (StepStatus::Failed, m),
            StepEnd::Unknown(m) => (StepStatus::Unknown, m),
            StepEnd::Skipped(m) => (StepStatus::Skipped, m),
        };
        let record = StepRecord {
            n: step.n,
            title: step.title.clone(),
            action: step.action.map(|a| a.name.to_owned()),
            phase: step.phase,
            status,
            at: journal::now(),
            message: Some(message.to_owned()).filter(|m| !m.is_empty()),
        };
        let facts = self.executor.facts();
        let memo = self.executor.memo();
        self.write(self.journal.record(record, |d| {
            d.new_id = facts.new_id.or(d.new_id);
            d.expires_at = facts.expires_at.clone().or(d.expires_at.take());
            d.stashed = facts.stashed;
            d.stash_error = facts.stash_error.clone().or(d.stash_error.take());
            d.memo = memo;
        }));
    }

    pub(super) fn target_ended(&self, index: usize, failed: Option<(usize, &str)>) {
        let (failed_step, error) = failed.unzip();
        let report = self
            .executor
            .facts()
            .targets
            .get(&index)
            .cloned()
            .unwrap_or_default();
        if !report.applied && error.is_none() {
            return; // checked, nothing to record
        }
        let error = error.map(|e| self.executor.redactor().redact(e));
        self.write(self.journal.update_target(|d| {
            if let Some(t) = d.targets.get_mut(index) {
                t.status = target_status(report.applied, error.is_some());
                t.verified = report.verified;
                t.error = error;
                t.failed_step = failed_step;
            }
        }));
    }
}

/// The walk's runner: the run, plus the protocol's hold on signals around one-shot calls and
/// the approvals it journals.
pub(super) struct Runner<A> {
    pub(super) run: Run<A>,
    /// The run's locks; the source token's, by the vendor's own id, is added before the
    /// one-shot call.
    pub(super) locks: Mutex<Locks>,
    pub(super) state_dir: PathBuf,
    pub(super) origin: String,
    pub(super) interrupts: Interrupts,
    pub(super) hold: Mutex<Option<Hold>>,
    pub(super) current: Arc<Mutex<usize>>,
    pub(super) operator: Option<String>,
}

impl<A: Actions> ActionRunner for Runner<A> {
    async fn run(&self, step: &PlanStep) -> Result<String, ActionFailure> {
        // A signal is journaling the run's end on another thread and will end the process:
        // nothing more goes out (a target write, a revoke) after the journal said how it ended.
        if self.interrupts.concluding() {
            return std::future::pending().await;
        }
        match step.invocation() {
            Some(invocation) => self.run.executor.run(&invocation).await,
            None => Err(ActionFailure::new("not an action step")),
        }
    }
    fn captured(&self, id: &str, value: &SecretString) {
        self.run.executor.captured(id, value);
    }
    fn target_failed(&self, index: usize, message: &str) {
        self.run.executor.target_failed(index, message);
    }
    fn step_started(&self, step: &PlanStep) -> Result<(), String> {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = step.n;
        match step.action_phase() {
            Some(Phase::Rotate) => return self.before_one_shot(step),
            // A token that came another way (pasted) is kept as the stash step starts.
            Some(Phase::Stash) => self.keep_new_token(),
            _ => {}
        }
        self.run.step(step, StepStatus::Running, None);
        Ok(())
    }
    fn step_ended(&self, step: &PlanStep, end: StepEnd<'_>) {
        // The new token goes into the keyring the moment it exists, before the journal (a
        // crash between the two leaves the call "running" and the token kept: resume finds
        // it) and before anything that could fail on the way (the terminal, a signal).
        if step.action_phase() == Some(Phase::Rotate) && matches!(end, StepEnd::Done(_)) {
            self.keep_new_token();
            self.lock_new_token();
        }
        self.run.step_ended(step, end);
        // The hold ends with the one-shot step: its token is kept and journaled by now.
        let released = matches!(step.action_phase(), Some(Phase::Rotate | Phase::Stash));
        if released {
            drop(self.hold.lock().unwrap_or_else(|p| p.into_inner()).take());
        }
    }
    fn target_ended(&self, index: usize, failed: Option<(usize, &str)>) {
        self.run.target_ended(index, failed);
    }
    fn approved(&self, step: &PlanStep, approval: &Approval) {
        let record = ApprovalRecord {
            gate: approval.gate.clone(),
            evidence: approval.evidence.clone(),
            by: self.operator.clone(),
            at: journal::now(),
        };
        self.run
            .write(self.run.journal.update(|d| d.approvals.push(record)));
        let note = format!(
            "approved with --approve by {}",
            self.operator.as_deref().unwrap_or("an unknown user")
        );
        self.run.step_ended(step, StepEnd::Done(&note));
    }
    fn interrupted(&self) -> Option<i32> {
        let held = self
            .hold
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some();
        if held {
            None
        } else {
            self.interrupts.pending()
        }
    }
    fn answer(&self, key: &str, answer: crate::actions::Answer) {
        self.run.executor.answer(key, answer);
    }
    fn learned(&self) -> std::collections::BTreeMap<String, String> {
        self.run.executor.learned()
    }
}

impl<A: Actions> Runner<A> {
    /// Before a one-shot call: hold signals until its token is kept, lock the source token by
    /// the vendor's own id (two spellings of one token, `--token-name` and `--token-id`, meet
    /// here), and journal the call as running. If any of these fails, the call is not sent.
    pub(super) fn before_one_shot(&self, step: &PlanStep) -> Result<(), String> {
        {
            let mut hold = self.hold.lock().unwrap_or_else(|p| p.into_inner());
            if hold.is_none() {
                *hold = Some(self.interrupts.try_hold().ok_or_else(|| {
                    "interrupted: the run is ending, so the call was not sent".to_owned()
                })?);
            }
        }
        if let Some(identity) = self.run.executor.source_identity() {
            self.lock_identity(&identity)
                .map_err(|e| format!("{e}; the call was not sent"))?;
        }
        self.run
            .journal
            .step(
                step.n,
                &step.title,
                step.action.map(|a| a.name),
                step.phase,
                StepStatus::Running,
                None,
            )
            .map_err(|e| {
                format!("the journal cannot record the call before it is sent ({e}); not sent")
            })
    }
}

impl<A: Actions> Runner<A> {
    /// The new token goes into the keeper the moment it exists, once, before the journal
    /// records the call done (a crash between the two leaves the call "running" and the token
    /// kept: resume finds it) and before anything that could fail on the way (the terminal, a
    /// signal). A keeper that refuses it is recorded: the run goes on to put the token into its
    /// targets, the one way left to keep it, and says so loudly.
    pub(super) fn keep_new_token(&self) {
        let executor = &self.run.executor;
        // Once: a keyring that refused the token is not asked again (what the run says of
        // where the token is must not change under it).
        let facts = executor.facts();
        if self.run.no_stash || facts.stashed || facts.stash_error.is_some() {
            return;
        }
        let Some(token) = executor.new_token() else {
            return;
        };
        let kept = self.run.keeper.put(executor.rotation_id(), &token);
        executor.kept(kept.map_err(|e| e.to_string()));
    }

    /// The new token is locked as soon as it exists, so that no other run rotates it while
    /// this one is still putting it into place (another run could find it by name).
    pub(super) fn lock_new_token(&self) {
        let facts = self.run.executor.facts();
        let identity = self
            .run
            .executor
            .source_identity()
            .zip(facts.new_id)
            .and_then(|(source, id)| crate::engine::lineage::new_identity(&source, id));
        let Some(identity) = identity else { return };
        if let Err(e) = self.lock_identity(&identity) {
            tracing::warn!("the new token could not be locked: {e}");
        }
    }

    /// Locks a token by the vendor's own id (`gitlab-token:42`) on the run's origin.
    pub(super) fn lock_identity(&self, identity: &str) -> Result<(), LockError> {
        let key = identity_key(&self.origin, identity);
        let what = format!("{identity} on {}", self.origin);
        self.locks.lock().unwrap_or_else(|p| p.into_inner()).take(
            &self.state_dir,
            &key,
            &what,
            self.run.executor.rotation_id(),
        )
    }
}
