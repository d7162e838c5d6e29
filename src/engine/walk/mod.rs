//! The walk: a plan's steps in order — manual, gate and capture steps with the operator, action
//! steps through the protocol's runner, each target's steps side by side (questions an action
//! asks are asked one at a time). A gate answered "no" (or a manual step not done) stops the
//! run; clean-up steps after that point are still walked when anything had been done, so that,
//! for instance, the Okta requirement is restored even when the scope check says STOP.

use std::collections::{BTreeMap, HashSet};
use std::io;

use secrecy::SecretString;

use super::learned::with_learned;
use super::plan::{Plan, PlanStep, WalkKind};
use super::prompt::{PromptError, Prompter};
use super::report::{Event, Reporter};
use crate::actions::run::ActionFailure;
use crate::actions::{Answer, Ask, Phase, Question};
use crate::secret::Redactor;

mod fanout;

/// Values captured during the walk, by capture id. Never printed; no `Debug`.
#[derive(Default)]
pub struct Captures {
    values: BTreeMap<String, SecretString>,
}

impl Captures {
    /// A captured secret.
    pub fn get(&self, id: &str) -> Option<&SecretString> {
        self.values.get(id)
    }

    /// How many values were captured.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Why the run stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// A gate was answered no; the runbook's message.
    Gate(String),
    /// The operator said a manual step was not done.
    Operator,
}

/// An early stop: where, why, what was left undone and what clean-up was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// The step that stopped the run.
    pub at: usize,
    /// Its title.
    pub title: String,
    /// Why.
    pub reason: StopReason,
    /// Steps not done (number, title).
    pub not_done: Vec<(usize, String)>,
    /// Clean-up steps done after the stop.
    pub cleaned: Vec<(usize, String)>,
}

/// Why the rotation is incomplete: targets that failed, and what was left undone because of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incomplete {
    /// Failed targets (index, message).
    pub failed: Vec<(usize, String)>,
    /// Steps not carried out because a target failed (number, title).
    pub skipped: Vec<(usize, String)>,
}

/// How a walk ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every step done.
    Done,
    /// Stopped by a gate or the operator.
    Stopped(Stop),
    /// Some targets failed; the others are done.
    Incomplete(Incomplete),
}

/// A walk that could not go on.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// A question got no answer.
    #[error("step {at}: {source}")]
    Prompt {
        /// The step.
        at: usize,
        /// Why.
        source: PromptError,
        /// Clean-up steps not done yet (number, title).
        cleanup_pending: Vec<(usize, String)>,
    },
    /// The terminal could not be written.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A read-only check failed: nothing was changed.
    #[error("preflight failed, nothing was changed: {}", failures.join("; "))]
    Preflight {
        /// What failed.
        failures: Vec<String>,
    },
    /// A step failed; what was done before it stays done.
    #[error("step {at} ({title}) failed: {message}")]
    Failed {
        /// The step.
        at: usize,
        /// Its title.
        title: String,
        /// Why.
        message: String,
        /// Whether anything had changed before it.
        changed: bool,
    },
    /// A token given to tokrot (pasted, or from stdin) failed verification before anything
    /// was changed: bad input.
    #[error("step {at} ({title}) failed: {message}")]
    Unverified {
        /// The step.
        at: usize,
        /// Its title.
        title: String,
        /// Why.
        message: String,
    },
    /// A signal arrived during a one-shot call; the run stopped once its answer was journaled.
    #[error(
        "interrupted during step {at}; the run stopped once the call in flight had ended and was journaled"
    )]
    Interrupted {
        /// The step the run stopped before.
        at: usize,
        /// The signal.
        signal: i32,
        /// Clean-up steps not done yet (number, title).
        cleanup_pending: Vec<(usize, String)>,
    },
    /// The protocol refused to start a step; it was not carried out.
    #[error("step {at} ({title}) was not started: {message}")]
    Refused {
        /// The step.
        at: usize,
        /// Its title.
        title: String,
        /// Why.
        message: String,
        /// Whether anything had changed before it.
        changed: bool,
    },
    /// The vendor may or may not have carried out a non-idempotent call.
    #[error("step {at} ({title}): the outcome is unknown: {message}")]
    Unknown {
        /// The step.
        at: usize,
        /// Its title.
        title: String,
        /// What happened.
        message: String,
    },
}

/// What the walk needs to carry out action steps.
pub trait ActionRunner {
    /// Carries out one action step; the text is a short note for the operator.
    fn run(&self, step: &PlanStep) -> impl Future<Output = Result<String, ActionFailure>>;
    /// Takes a value the walk captured, and keeps it out of every output from now on.
    fn captured(&self, id: &str, value: &SecretString);
    /// Records a target that failed.
    fn target_failed(&self, index: usize, message: &str);
    /// A step is about to be carried out (a one-shot call: before it is sent). An `Err` refuses
    /// it: the step is not carried out (another run holds the source token, the journal cannot
    /// record the call before it is sent, or a signal is ending the run).
    fn step_started(&self, _step: &PlanStep) -> Result<(), String> {
        Ok(())
    }
    /// A step has ended.
    fn step_ended(&self, _step: &PlanStep, _end: StepEnd<'_>) {}
    /// A target's steps have ended; when it failed, the step that failed and why.
    fn target_ended(&self, _index: usize, _failed: Option<(usize, &str)>) {}
    /// A gate was passed with `--approve` instead of a human's answer.
    fn approved(&self, _step: &PlanStep, _approval: &Approval) {}
    /// A signal held during a one-shot call: the walk stops before its next step.
    fn interrupted(&self) -> Option<i32> {
        None
    }
    /// The operator's answer to a question an action asked.
    fn answer(&self, _key: &str, _answer: Answer) {}
    /// Values of the plan's parameters that earlier steps learned (a token found by name, one
    /// picked from a list, what a rotate call will send), by parameter name.
    fn learned(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
}

/// `--approve GATE_ID[=EVIDENCE]`: one gate passed unattended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The gate's id.
    pub gate: String,
    /// What shows the decision was made (e.g. the access request's URL).
    pub evidence: Option<String>,
}

impl std::str::FromStr for Approval {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (gate, evidence) = match s.split_once('=') {
            Some((g, e)) => (
                g.trim(),
                Some(e.trim().to_owned()).filter(|e| !e.is_empty()),
            ),
            None => (s.trim(), None),
        };
        if gate.is_empty() {
            // The value is not echoed: what follows `=` may be a pasted secret.
            return Err("it names no gate: give GATE_ID[=EVIDENCE]".into());
        }
        // A gate id is a word of the runbook (`access-request`); anything else (a token pasted
        // without `GATE=`) is refused without being repeated.
        if gate.len() > 64
            || !gate
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(
                "a gate id is lower-case letters, digits and dashes (`tokrot show RUNBOOK` names them): give GATE_ID[=EVIDENCE]".into(),
            );
        }
        // Evidence is a link or a ticket, kept in the journal, the audit log and `history`: one
        // line of printable text, never a token.
        if let Some(e) = &evidence {
            if e.chars().count() > 512 {
                return Err(format!(
                    "the evidence for gate `{gate}` is longer than 512 characters: give a link or a ticket number"
                ));
            }
            if e.chars().any(char::is_control) {
                return Err(format!(
                    "the evidence for gate `{gate}` holds a line break or another control character: give one line"
                ));
            }
            if crate::secret::looks_like_a_token(e) {
                return Err(format!(
                    "the evidence for gate `{gate}` looks like a token, and it would be kept in the journal and the audit log: give a link or a ticket number, never a secret"
                ));
            }
        }
        Ok(Self {
            gate: gate.to_owned(),
            evidence,
        })
    }
}

/// How a step ended, for the journal.
#[derive(Debug, Clone, Copy)]
pub enum StepEnd<'a> {
    /// Done, with the note shown.
    Done(&'a str),
    /// Failed.
    Failed(&'a str),
    /// The vendor may or may not have carried it out.
    Unknown(&'a str),
    /// Not carried out.
    Skipped(&'a str),
}

/// How the walk runs.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// How many targets are worked on at once.
    pub concurrency: usize,
    /// Steps already done (`resume`): not carried out again.
    pub skip_steps: HashSet<usize>,
    /// Targets already applied (`resume`): not touched again.
    pub skip_targets: HashSet<usize>,
    /// Gates passed with `--approve`.
    pub approvals: Vec<Approval>,
    /// Something was changed before this walk began (`resume`).
    pub changed_before: bool,
    /// `--yes`: manual steps are confirmed without a person, and journaled as such.
    pub unattended: bool,
    /// `--keep` with no target: the old token stays in use until the new one is put into
    /// place later, so the steps after the targets that retire it (delete, revoke) are left
    /// for then, not carried out.
    pub retire_later: bool,
}

impl Default for WalkOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            skip_steps: HashSet::new(),
            skip_targets: HashSet::new(),
            approvals: Vec::new(),
            changed_before: false,
            unattended: false,
            retire_later: false,
        }
    }
}

/// Walks `plan`. `stdin_token` is the value of `--token-stdin`, used for the capture `token`;
/// a captured value is registered with `redactor` (the output's) before anything else is done.
pub async fn walk<R: ActionRunner>(
    plan: &Plan,
    prompter: &mut dyn Prompter,
    reporter: &mut dyn Reporter,
    redactor: &Redactor,
    stdin_token: Option<SecretString>,
    runner: &R,
    options: WalkOptions,
) -> Result<(Outcome, Captures), WalkError> {
    let changed_before = options.changed_before;
    let mut w = Walker {
        plan,
        prompter,
        reporter,
        redactor,
        runner,
        options,
        stdin_token,
        captures: Captures::default(),
        confirmed: false,
        changed: changed_before,
        failed: Vec::new(),
        skipped: Vec::new(),
    };
    let mut i = 0;
    while i < plan.steps.len() {
        match w.step(i).await? {
            Next::Step(next) => i = next,
            Next::Stop(stop) => return Ok((Outcome::Stopped(stop), w.captures)),
        }
    }
    let outcome = if w.failed.is_empty() {
        Outcome::Done
    } else {
        Outcome::Incomplete(Incomplete {
            failed: w.failed,
            skipped: w.skipped,
        })
    };
    Ok((outcome, w.captures))
}

/// Where the walk goes after a step.
enum Next {
    /// To this step index.
    Step(usize),
    /// It stops.
    Stop(Stop),
}

/// The state of one walk.
struct Walker<'a, R> {
    plan: &'a Plan,
    prompter: &'a mut dyn Prompter,
    reporter: &'a mut dyn Reporter,
    redactor: &'a Redactor,
    runner: &'a R,
    options: WalkOptions,
    stdin_token: Option<SecretString>,
    captures: Captures,
    /// The operator said "go ahead" before the first change.
    confirmed: bool,
    /// Something that changes things was carried out.
    changed: bool,
    failed: Vec<(usize, String)>,
    skipped: Vec<(usize, String)>,
}

impl<R: ActionRunner> Walker<'_, R> {
    fn total(&self) -> usize {
        self.plan.steps.len()
    }

    /// One step (or one block of target steps) at index `i`.
    async fn step(&mut self, i: usize) -> Result<Next, WalkError> {
        let plan = self.plan;
        let step = &plan.steps[i];
        if let Some(signal) = self.runner.interrupted() {
            return Err(WalkError::Interrupted {
                at: step.n,
                signal,
                cleanup_pending: cleanup_after(plan, i),
            });
        }
        if step.target_index.is_none() && self.options.skip_steps.contains(&step.n) {
            let total = self.total();
            self.reporter.report(Event::DoneBefore { step, total })?;
            return Ok(Next::Step(i + 1));
        }
        if self.options.retire_later && retires_old(plan, i) {
            let title = with_learned(plan, &self.runner.learned(), &step.title);
            let (total, title) = (self.total(), title.as_str());
            self.reporter
                .report(Event::LeftForLater { step, total, title })?;
            // The step as it will be carried out (its values known now), for the report and
            // `resume`: the plan's title keeps its placeholders.
            let why = format!("{LEFT_FOR_LATER}: {title}");
            self.runner.step_ended(step, StepEnd::Skipped(&why));
            self.skipped.push((step.n, step.title.clone()));
            return Ok(Next::Step(i + 1));
        }
        if is_change(step)
            && !self.confirmed
            && let Some(stop) = self.go_ahead(i)?
        {
            return Ok(Next::Stop(stop));
        }
        if step.target_index.is_some() && step.action.is_some() {
            return self.target_block(i).await.map(Next::Step);
        }
        let learned = &self.runner.learned();
        self.reporter.report(Event::Step {
            plan,
            step,
            learned,
        })?;
        if !matches!(step.walk, WalkKind::Action { .. }) {
            // Best effort: a manual step's record helps `resume`, and sends nothing.
            let _ = self.runner.step_started(step);
        }
        let answer = match &step.walk {
            WalkKind::Manual => self
                .prompter
                .confirm("Done?")
                .map(|yes| (!yes).then_some(StopReason::Operator)),
            WalkKind::Gate { id, question, stop } => self.gate(step, id, question, stop),
            WalkKind::Capture { id, prompt } => self.capture(id, prompt),
            WalkKind::Action { .. } => return self.action(i).await,
        };
        let stop = answer.map_err(|source| WalkError::Prompt {
            at: step.n,
            source,
            cleanup_pending: cleanup_after(plan, i + 1),
        })?;
        match stop {
            None => {
                self.passed(step);
                Ok(Next::Step(i + 1))
            }
            Some(reason) => self.stop(i, reason).map(Next::Stop),
        }
    }

    /// A manual, gate or capture step passed: journaled as done, saying when no person
    /// confirmed it.
    fn passed(&self, step: &PlanStep) {
        let note = match &step.walk {
            WalkKind::Manual if self.options.unattended => "confirmed by --yes, not by a person",
            // Journaled with who approved it, by `approved`.
            WalkKind::Gate { id, .. } if self.options.approvals.iter().any(|a| &a.gate == id) => {
                return;
            }
            _ => "",
        };
        self.runner.step_ended(step, StepEnd::Done(note));
    }

    /// "Go ahead?" before the first step that changes anything; a no stops the run there.
    fn go_ahead(&mut self, i: usize) -> Result<Option<Stop>, WalkError> {
        let step = &self.plan.steps[i];
        self.confirmed = true;
        let (plan, learned) = (self.plan, self.runner.learned());
        let shown = |title: &str| with_learned(plan, &learned, title);
        let question = format!(
            "Checks passed. Go ahead and change things, starting with: {}?",
            shown(&step.title)
        );
        let yes = self
            .prompter
            .confirm(&question)
            .map_err(|source| WalkError::Prompt {
                at: step.n,
                source,
                cleanup_pending: Vec::new(),
            })?;
        Ok((!yes).then(|| Stop {
            at: step.n,
            title: shown(&step.title),
            reason: StopReason::Operator,
            not_done: plan.steps[i..]
                .iter()
                .map(|s| (s.n, shown(&s.title)))
                .collect(),
            cleaned: Vec::new(),
        }))
    }

    /// A gate: passed by `--approve`, else a human's yes; a no stops the run.
    fn gate(
        &mut self,
        step: &PlanStep,
        id: &str,
        question: &str,
        stop: &str,
    ) -> Result<Option<StopReason>, PromptError> {
        let Some(approval) = self.options.approvals.iter().find(|a| a.gate == id) else {
            return self
                .prompter
                .gate(question)
                .map(|yes| (!yes).then(|| StopReason::Gate(stop.to_owned())));
        };
        let evidence = approval.evidence.as_deref();
        let _ = self.reporter.report(Event::Approved { gate: id, evidence });
        self.runner.approved(step, approval);
        Ok(None)
    }

    /// A hidden value: from `--token-stdin` for `token`, else the hidden prompt.
    fn capture(&mut self, id: &str, prompt: &str) -> Result<Option<StopReason>, PromptError> {
        let value = match (id, self.stdin_token.take()) {
            ("token", Some(v)) => v,
            (_, other) => {
                self.stdin_token = other;
                self.prompter.secret(prompt)?
            }
        };
        self.redactor.register(&value);
        self.runner.captured(id, &value);
        let chars = crate::secret::char_count(&value);
        self.captures.values.insert(id.to_owned(), value);
        let _ = self.reporter.report(Event::Captured { chars });
        Ok(None)
    }

    /// An action step of the source (not a target's).
    async fn action(&mut self, i: usize) -> Result<Next, WalkError> {
        let step = &self.plan.steps[i];
        let phase = step.action_phase();
        if phase == Some(Phase::Finish) && !self.failed.is_empty() {
            let why = "some targets were not updated, so the old token is kept";
            self.reporter.report(Event::Skipped { why })?;
            self.runner.step_ended(step, StepEnd::Skipped(why));
            self.skipped.push((step.n, step.title.clone()));
            return Ok(Next::Step(i + 1));
        }
        if let Err(message) = self.runner.step_started(step) {
            return Err(WalkError::Refused {
                at: step.n,
                title: step.title.clone(),
                message,
                changed: self.changed,
            });
        }
        let result = run_asking(self.runner, step, self.prompter)
            .await
            .map_err(|source| WalkError::Prompt {
                at: step.n,
                source,
                cleanup_pending: cleanup_after(self.plan, i + 1),
            })?;
        match result {
            Ok(note) => {
                // Journaled first; the terminal may be gone (a closed pipe) and must not stop
                // the run between a one-shot call and the steps that keep its token.
                self.runner.step_ended(step, StepEnd::Done(&note));
                let _ = self.reporter.report(Event::Done { note: &note });
                self.changed |= is_change(step);
                Ok(Next::Step(i + 1))
            }
            Err(f) => Err(self.action_failed(step, f)),
        }
    }

    /// What a failed action step means, by its phase; journaled first.
    fn action_failed(&self, step: &PlanStep, f: ActionFailure) -> WalkError {
        let phase = step.action_phase();
        let unknown = phase == Some(Phase::Rotate) && f.unknown;
        // A one-shot call that was carried out but whose token could not be kept (its answer
        // cut short, a read after it failed) is journaled as sent with its outcome unknown to
        // `resume`, never as a refusal: it must not be called "nothing was changed", nor be
        // advised to be sent again. The run itself says what happened (exit 1).
        let sent = phase == Some(Phase::Rotate) && f.written;
        let end = if unknown || sent {
            StepEnd::Unknown(&f.message)
        } else {
            StepEnd::Failed(&f.message)
        };
        self.runner.step_ended(step, end);
        // A write that was carried out, or may have been (a lost answer, a 5xx), changed
        // something: the run must not say "nothing was changed".
        let changed = self.changed || f.written || (phase == Some(Phase::Apply) && f.unknown);
        let title = with_learned(self.plan, &self.runner.learned(), &step.title);
        let (at, message) = (step.n, f.message);
        match phase {
            Some(Phase::Preflight) => WalkError::Preflight {
                failures: vec![format!("step {at} ({title}): {message}")],
            },
            Some(Phase::Rotate) if unknown => WalkError::Unknown { at, title, message },
            Some(Phase::Verify) if !changed => WalkError::Unverified { at, title, message },
            _ => WalkError::Failed {
                at,
                title,
                message,
                changed,
            },
        }
    }

    /// A stop by a gate or the operator at index `i`: the clean-up steps after it still run
    /// when anything had been done.
    fn stop(&mut self, i: usize, reason: StopReason) -> Result<Stop, WalkError> {
        let plan = self.plan;
        let step = &plan.steps[i];
        let learned = self.runner.learned();
        let cleaned = if i > 0 {
            run_cleanup(plan, i + 1, self.prompter, self.reporter, &learned)?
        } else {
            Vec::new()
        };
        let not_done = plan.steps[i + 1..]
            .iter()
            .filter(|s| !cleaned.iter().any(|(n, _)| *n == s.n))
            .map(|s| (s.n, with_learned(plan, &learned, &s.title)))
            .collect();
        Ok(Stop {
            at: step.n,
            title: with_learned(plan, &learned, &step.title),
            reason,
            not_done,
            cleaned,
        })
    }

    /// The block of target steps that starts at index `i`; returns the index after it.
    async fn target_block(&mut self, i: usize) -> Result<usize, WalkError> {
        let plan = self.plan;
        let end = plan.steps[i..]
            .iter()
            .position(|s| s.target_index.is_none() || s.action.is_none())
            .map_or(plan.steps.len(), |k| i + k);
        // Targets done before (`resume`) and targets that failed their checks are left out.
        let block: Vec<&PlanStep> = plan.steps[i..end]
            .iter()
            .filter(|s| {
                !s.target_index.is_some_and(|t| {
                    self.options.skip_targets.contains(&t)
                        || self.failed.iter().any(|(f, _)| *f == t)
                })
            })
            .collect();
        if block.is_empty() {
            return Ok(end);
        }
        let preflight = block
            .iter()
            .all(|s| s.action_phase() == Some(Phase::Preflight));
        let failures = fanout::run_targets(
            plan,
            &block,
            self.runner,
            self.reporter,
            self.prompter,
            &self.options,
        )
        .await?;
        // Before anything changed, a failed check stops the run ("nothing was changed" is
        // true). After (a resume: the token exists), the target is one that failed.
        if preflight && !failures.is_empty() && !self.changed {
            return Err(WalkError::Preflight {
                failures: failures
                    .into_iter()
                    .map(|(t, m)| format!("{}: {m}", plan.targets[t].spec))
                    .collect(),
            });
        }
        self.changed |= !preflight;
        for (t, m) in failures {
            self.runner.target_failed(t, &m);
            self.failed.push((t, m));
        }
        Ok(end)
    }
}

/// Whether a step changes something (the targets' own steps aside: they stand for others).
fn is_change(step: &PlanStep) -> bool {
    matches!(
        step.action_phase(),
        Some(Phase::Rotate | Phase::Apply | Phase::Finish)
    ) && !step
        .action
        .is_some_and(crate::actions::ActionSpec::is_targets)
}

/// Runs an action; when it asks a question, asks the operator and runs it again with the
/// answer. Nobody to answer (no terminal, `--yes`): the action's own failure, naming the flag.
/// An interrupted question stops the walk (the `Err`): it never leads to a write.
async fn run_asking<R: ActionRunner>(
    runner: &R,
    step: &PlanStep,
    prompter: &mut dyn Prompter,
) -> Result<Result<String, ActionFailure>, PromptError> {
    loop {
        match runner.run(step).await {
            Err(ActionFailure {
                question: Some(q),
                message,
                ..
            }) => match ask(prompter, &q)? {
                Some(answer) => runner.answer(&q.key, answer),
                None => return Ok(Err(ActionFailure::new(message))),
            },
            other => return Ok(other),
        }
    }
}

/// Asks an action's question; `None` when nobody can answer.
fn ask(prompter: &mut dyn Prompter, q: &Question) -> Result<Option<Answer>, PromptError> {
    let non_empty = |v: &str| {
        if v.trim().is_empty() {
            Err("required".to_owned())
        } else {
            Ok(())
        }
    };
    let answer = match &q.ask {
        Ask::Text(prompt) => prompter.text(prompt, &non_empty).map(Answer::Text),
        Ask::Confirm(prompt) => prompter.confirm(prompt).map(Answer::Yes),
        Ask::Pick(prompt, items, values) => prompter
            .select(prompt, items)
            .map(|k| Answer::Picked(values.get(k).cloned().unwrap_or_default())),
    };
    match answer {
        Ok(a) => Ok(Some(a)),
        Err(PromptError::Unattended { .. } | PromptError::NotATerminal) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What the journal says of a step that retires the old token, left for later by `--keep`
/// (followed by the step as it will be carried out): `resume` carries such steps out.
pub const LEFT_FOR_LATER: &str = "left for later (--keep), the old token being in use";

/// Whether the step at `i` retires the old token: a manual step or a finish action after the
/// step that puts the new token into the targets.
pub(crate) fn retires_old(plan: &Plan, i: usize) -> bool {
    let after_targets = plan.steps[..i]
        .iter()
        .any(|s| s.action_phase() == Some(Phase::Apply) && s.target_index.is_none());
    let step = &plan.steps[i];
    // A clean-up step is never put off: it undoes something the run did.
    after_targets
        && !step.cleanup
        && step.target_index.is_none()
        && (matches!(step.walk, WalkKind::Manual) || step.action_phase() == Some(Phase::Finish))
}

/// The clean-up steps from index `from` on: what is still to do by hand when the run stops.
pub(crate) fn cleanup_after(plan: &Plan, from: usize) -> Vec<(usize, String)> {
    plan.steps[from.min(plan.steps.len())..]
        .iter()
        .filter(|s| s.cleanup)
        .map(|s| (s.n, s.title.clone()))
        .collect()
}

fn run_cleanup(
    plan: &Plan,
    from: usize,
    prompter: &mut dyn Prompter,
    reporter: &mut dyn Reporter,
    learned: &BTreeMap<String, String>,
) -> Result<Vec<(usize, String)>, WalkError> {
    let mut cleaned = Vec::new();
    let cleanups: Vec<&PlanStep> = plan.steps[from..].iter().filter(|s| s.cleanup).collect();
    if cleanups.is_empty() {
        return Ok(cleaned);
    }
    reporter.report(Event::CleanupBegins)?;
    for (k, step) in cleanups.iter().enumerate() {
        reporter.report(Event::Step {
            plan,
            step,
            learned,
        })?;
        let yes = prompter
            .confirm("Done?")
            .map_err(|source| WalkError::Prompt {
                at: step.n,
                source,
                cleanup_pending: cleanups[k..]
                    .iter()
                    .map(|s| (s.n, s.title.clone()))
                    .collect(),
            })?;
        if yes {
            cleaned.push((step.n, step.title.clone()));
        }
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::plan::{Mode, resolve};
    use crate::engine::report::Silent;
    use crate::runbook::Catalogue;
    use std::collections::VecDeque;

    /// Answers from a script; records what was asked.
    struct Scripted {
        answers: VecDeque<&'static str>,
        asked: Vec<String>,
    }

    impl Scripted {
        fn new(answers: &[&'static str]) -> Self {
            Self {
                answers: answers.iter().copied().collect(),
                asked: Vec::new(),
            }
        }
        fn next(&mut self, q: &str) -> Result<&'static str, PromptError> {
            self.asked.push(q.to_owned());
            self.answers.pop_front().ok_or(PromptError::Interrupted)
        }
    }

    impl Prompter for Scripted {
        fn confirm(&mut self, p: &str) -> Result<bool, PromptError> {
            Ok(self.next(p)? == "y")
        }
        fn gate(&mut self, q: &str) -> Result<bool, PromptError> {
            Ok(self.next(q)? == "y")
        }
        fn secret(&mut self, p: &str) -> Result<SecretString, PromptError> {
            Ok(SecretString::from(self.next(p)?.to_owned()))
        }
        fn text(
            &mut self,
            p: &str,
            _v: &dyn Fn(&str) -> Result<(), String>,
        ) -> Result<String, PromptError> {
            Ok(self.next(p)?.to_owned())
        }
        fn optional_text(
            &mut self,
            p: &str,
            _v: &dyn Fn(&str) -> Result<(), String>,
        ) -> Result<Option<String>, PromptError> {
            let a = self.next(p)?;
            Ok((!a.is_empty()).then(|| a.to_owned()))
        }
        fn select(&mut self, p: &str, _items: &[String]) -> Result<usize, PromptError> {
            Ok(self.next(p)?.parse().unwrap_or(0))
        }
    }

    fn integration_plan() -> Plan {
        let c = Catalogue::embedded().unwrap();
        let rb = c.get("zendesk-oauth-integration").unwrap();
        resolve(
            rb,
            &[("instance".into(), "global".into())],
            &[],
            Mode::Resolve,
            &Config::built_in(),
            &c,
        )
        .unwrap()
    }

    struct NoActions;
    impl ActionRunner for NoActions {
        async fn run(&self, step: &PlanStep) -> Result<String, ActionFailure> {
            panic!("no action expected, got step {}", step.n)
        }
        fn captured(&self, _id: &str, _value: &SecretString) {}
        fn target_failed(&self, _index: usize, _message: &str) {}
    }

    async fn run(
        plan: &Plan,
        p: &mut Scripted,
        told: &mut Silent,
    ) -> Result<(Outcome, Captures), WalkError> {
        let redactor = Redactor::default();
        let options = WalkOptions::default();
        walk(plan, p, told, &redactor, None, &NoActions, options).await
    }

    /// Says yes to everything and pastes `CANARY` where a hidden value is asked for.
    struct Pasting;

    impl Prompter for Pasting {
        fn confirm(&mut self, _p: &str) -> Result<bool, PromptError> {
            Ok(true)
        }
        fn gate(&mut self, _q: &str) -> Result<bool, PromptError> {
            Ok(true)
        }
        fn secret(&mut self, _p: &str) -> Result<SecretString, PromptError> {
            Ok(SecretString::from(CANARY.to_owned()))
        }
        fn text(
            &mut self,
            _p: &str,
            _v: &dyn Fn(&str) -> Result<(), String>,
        ) -> Result<String, PromptError> {
            Err(PromptError::Interrupted)
        }
        fn optional_text(
            &mut self,
            _p: &str,
            _v: &dyn Fn(&str) -> Result<(), String>,
        ) -> Result<Option<String>, PromptError> {
            Err(PromptError::Interrupted)
        }
        fn select(&mut self, _p: &str, _items: &[String]) -> Result<usize, PromptError> {
            Err(PromptError::Interrupted)
        }
    }

    const CANARY: &str = "glpat-PASTED-CANARY-ww01";

    /// Carries out every action with a note, keeping nothing.
    struct Noting;
    impl ActionRunner for Noting {
        async fn run(&self, step: &PlanStep) -> Result<String, ActionFailure> {
            Ok(format!("step {}", step.n))
        }
        fn captured(&self, _id: &str, _value: &SecretString) {}
        fn target_failed(&self, _index: usize, _message: &str) {}
    }

    /// The walk itself keeps a pasted value out of every output from the moment it is pasted,
    /// whatever its runner does with it.
    #[tokio::test]
    async fn a_captured_value_is_registered_with_the_redactor_before_anything_else() {
        let c = Catalogue::embedded().unwrap();
        let params = [
            ("project".into(), "grp/proj".into()),
            ("key".into(), "API_TOKEN".into()),
        ];
        let rb = c.get("gitlab-ci-var").unwrap();
        let plan = resolve(rb, &params, &[], Mode::Resolve, &Config::built_in(), &c).unwrap();
        let redactor = Redactor::default();
        let mut told = Silent::default();
        let options = WalkOptions::default();
        let mut prompter = Pasting;
        let walked = walk(
            &plan,
            &mut prompter,
            &mut told,
            &redactor,
            None,
            &Noting,
            options,
        );
        let (outcome, captures) = walked.await.unwrap();
        assert_eq!(outcome, Outcome::Done);
        assert_eq!(captures.len(), 1);
        let shown = redactor.redact(&format!("the token is {CANARY}"));
        assert!(!shown.contains(CANARY), "{shown}");
        assert!(told.told.contains(&"captured"), "{:?}", told.told);
    }

    #[tokio::test]
    async fn a_confirmed_walk_is_done() {
        let plan = integration_plan();
        let mut told = Silent::default();
        let mut p = Scripted::new(&["y"; 8]);
        let (outcome, captures) = run(&plan, &mut p, &mut told).await.unwrap();
        assert_eq!(outcome, Outcome::Done);
        assert!(captures.is_empty());
        assert_eq!(p.asked.len(), plan.steps.len());
        // Each step is told once, as it begins; nothing else happened.
        assert_eq!(told.told, vec!["step"; plan.steps.len()]);
    }

    #[tokio::test]
    async fn the_scope_gate_stops_the_run_but_the_okta_requirement_is_restored() {
        let plan = integration_plan();
        let mut told = Silent::default();
        // gate yes, remove Okta, log in, start flow, scope gate NO, then two clean-up confirmations
        let mut p = Scripted::new(&["y", "y", "y", "y", "n", "y", "y"]);
        let (outcome, _) = run(&plan, &mut p, &mut told).await.unwrap();
        let Outcome::Stopped(stop) = outcome else {
            panic!("should stop")
        };
        assert_eq!(stop.at, 5);
        assert!(matches!(stop.reason, StopReason::Gate(ref m) if m.contains("STOP")));
        let cleaned: Vec<usize> = stop.cleaned.iter().map(|(n, _)| *n).collect();
        assert_eq!(cleaned, [7, 8]);
        assert!(stop.cleaned[1].1.contains("Restore the Okta"));
        let not_done: Vec<usize> = stop.not_done.iter().map(|(n, _)| *n).collect();
        assert_eq!(not_done, [6]);
        assert!(p.answers.is_empty());
        // Steps 1-5, then the clean-up steps 7 and 8 after the stop is told.
        let mut expected = vec!["step"; 5];
        expected.extend(["cleanup-begins", "step", "step"]);
        assert_eq!(told.told, expected);
    }

    #[tokio::test]
    async fn a_stop_before_anything_was_done_needs_no_clean_up() {
        let plan = integration_plan();
        let mut told = Silent::default();
        let mut p = Scripted::new(&["n"]);
        let (outcome, _) = run(&plan, &mut p, &mut told).await.unwrap();
        let Outcome::Stopped(stop) = outcome else {
            panic!("should stop")
        };
        assert_eq!(stop.at, 1);
        assert!(stop.cleaned.is_empty());
        assert_eq!(stop.not_done.len(), plan.steps.len() - 1);
        assert_eq!(p.asked.len(), 1);
    }

    #[tokio::test]
    async fn an_interrupted_walk_names_the_clean_up_still_to_do() {
        let plan = integration_plan();
        let mut told = Silent::default();
        let mut p = Scripted::new(&["y", "y"]);
        let err = run(&plan, &mut p, &mut told).await.err().unwrap();
        let WalkError::Prompt {
            at,
            source: PromptError::Interrupted,
            cleanup_pending,
        } = err
        else {
            panic!()
        };
        assert_eq!(at, 3);
        assert_eq!(cleanup_pending.len(), 2);
    }
}
