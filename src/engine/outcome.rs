//! How each step of a run ended, for the report: from the journal (which also knows what an
//! earlier process did) and the walk's own end. Apart from the checklist's rendering, which
//! knows nothing of how a walk ends.

use super::plan::{Plan, PlanStep};
use super::walk;
use crate::model::{Phase, StepResult, StepStatus, TargetStatus};
use crate::state::journal::{JournalData, TargetRecord};

/// How one step of a run ended, with the journal's message and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    /// The outcome.
    pub outcome: StepResult,
    /// What the step said, or why it failed (redacted when journaled).
    pub message: Option<String>,
    /// When, if the journal knows.
    pub at: Option<jiff::Timestamp>,
}

impl StepOutcome {
    fn new(outcome: StepResult, message: Option<&String>, at: Option<jiff::Timestamp>) -> Self {
        Self {
            outcome,
            message: message.cloned(),
            at,
        }
    }

    fn bare(outcome: StepResult) -> Self {
        Self::new(outcome, None, None)
    }
}

/// What the whole run says of its steps: where it stopped, and whether the targets' checks
/// ran and passed.
struct RunEnd<'a> {
    end: Option<&'a Result<walk::Outcome, walk::WalkError>>,
    stop: Option<&'a walk::Stop>,
    /// The targets' checks ran, and those that did not fail passed.
    checked: bool,
}

/// How each step of `plan` ended, from the journal (which also knows what an earlier process
/// did) and, for the step a run stopped at or was refused at, the walk's end.
pub fn step_outcomes(
    plan: &Plan,
    journal: &JournalData,
    end: Option<&Result<walk::Outcome, walk::WalkError>>,
) -> Vec<StepOutcome> {
    let stop = match end {
        Some(Ok(walk::Outcome::Stopped(s))) => Some(s),
        _ => None,
    };
    // The targets' checks ran, and those that did not fail passed: something after them was
    // started, or the checks themselves failed (the failures are journaled with their step).
    // A run stopped after them (at the go-ahead or a gate) had passed them too.
    let checked = journal
        .steps
        .iter()
        .any(|r| matches!(r.phase, Some(p) if p != Phase::Preflight))
        || journal
            .targets
            .iter()
            .any(|t| t.status == TargetStatus::Applied)
        || matches!(end, Some(Err(walk::WalkError::Preflight { .. })));
    let run = RunEnd { end, stop, checked };
    plan.steps
        .iter()
        .map(|s| match s.target_index {
            Some(t) => target_step(s, journal.targets.get(t), &run),
            None => own_step(s, journal, &run),
        })
        .collect()
}

/// A target's step: as its target stands.
fn target_step(s: &PlanStep, tr: Option<&TargetRecord>, run: &RunEnd<'_>) -> StepOutcome {
    let Some(tr) = tr else {
        return StepOutcome::bare(StepResult::NotRun);
    };
    let stopped_after = run.stop.is_some_and(|stop| stop.at > s.n);
    match (tr.status, tr.failed_step) {
        (TargetStatus::Applied, _) => StepOutcome::bare(StepResult::Done),
        (_, Some(f)) if f == s.n => StepOutcome::new(StepResult::Failed, tr.error.as_ref(), None),
        (_, Some(f)) if s.n < f => StepOutcome::bare(StepResult::Done),
        (_, Some(_)) => StepOutcome::bare(StepResult::NotRun),
        (TargetStatus::Failed, None) => {
            StepOutcome::new(StepResult::Unknown, tr.error.as_ref(), None)
        }
        (TargetStatus::Pending, None)
            if s.action_phase() == Some(Phase::Preflight) && (run.checked || stopped_after) =>
        {
            StepOutcome::bare(StepResult::Done)
        }
        (TargetStatus::Pending, None) => StepOutcome::bare(StepResult::NotRun),
    }
}

/// A step of the source's own: where the run stopped, else as the journal last has it.
fn own_step(s: &PlanStep, journal: &JournalData, run: &RunEnd<'_>) -> StepOutcome {
    if let Some(stop) = run.stop {
        if stop.at == s.n {
            let why = match &stop.reason {
                walk::StopReason::Gate(m) => m.clone(),
                walk::StopReason::Operator => "stopped by the operator".to_owned(),
            };
            return StepOutcome::new(StepResult::Stopped, Some(&why), None);
        }
        if stop.cleaned.iter().any(|(n, _)| *n == s.n) {
            return StepOutcome::bare(StepResult::Done);
        }
    }
    let Some(r) = journal.steps.iter().rev().find(|r| r.n == s.n) else {
        return match run.end {
            Some(Err(walk::WalkError::Refused { at, message, .. })) if *at == s.n => {
                StepOutcome::new(StepResult::Failed, Some(message), None)
            }
            _ => StepOutcome::bare(StepResult::NotRun),
        };
    };
    let (message, at) = (r.message.as_ref().filter(|m| !m.is_empty()), Some(r.at));
    let result = match r.status {
        StepStatus::Done => StepResult::Done,
        StepStatus::Skipped => StepResult::Skipped,
        StepStatus::Failed => StepResult::Failed,
        StepStatus::Unknown => StepResult::Unknown,
        StepStatus::Running if s.action.is_some() => StepResult::Unknown,
        StepStatus::Running => return StepOutcome::bare(StepResult::NotRun),
    };
    StepOutcome::new(result, message, at)
}
