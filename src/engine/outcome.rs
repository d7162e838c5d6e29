//! How each step of a run ended, for the report: from the journal (which also knows what an
//! earlier process did) and the walk's own end. Apart from the checklist's rendering, which
//! knows nothing of how a walk ends.

use super::plan::Plan;
use super::walk;
use crate::model::Phase;
use crate::state::journal::{JournalData, StepStatus, TargetStatus};

/// How one step of a run ended: `done`, `skipped`, `failed`, `unknown` (started, not known to
/// have finished), `stopped` (where a gate or the operator stopped the run) or `not-run`, with
/// the journal's message and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    /// The outcome.
    pub outcome: &'static str,
    /// What the step said, or why it failed (redacted when journaled).
    pub message: Option<String>,
    /// When (RFC 3339), when the journal knows.
    pub at: Option<String>,
}

/// How each step of `plan` ended, from the journal (which also knows what an earlier process
/// did) and, for the step a run stopped at or was refused at, the walk's end.
pub fn step_outcomes(
    plan: &Plan,
    journal: &JournalData,
    end: Option<&Result<walk::Outcome, walk::WalkError>>,
) -> Vec<StepOutcome> {
    let outcome = |outcome, message: Option<&String>, at: Option<&String>| StepOutcome {
        outcome,
        message: message.cloned(),
        at: at.cloned(),
    };
    let not_run = || outcome("not-run", None, None);
    let stop = match end {
        Some(Ok(walk::Outcome::Stopped(s))) => Some(s),
        _ => None,
    };
    // The targets' checks ran, and those that did not fail passed: something after them was
    // started, or the checks themselves failed (the failures are journaled with their step).
    let checked = journal
        .steps
        .iter()
        .any(|r| matches!(r.phase, Some(p) if p != Phase::Preflight))
        || journal
            .targets
            .iter()
            .any(|t| t.status == TargetStatus::Applied)
        || matches!(end, Some(Err(walk::WalkError::Preflight { .. })));
    // A run stopped after them (at the go-ahead or a gate) had passed them too.
    let stopped_at = stop.map(|s| s.at);
    plan.steps
        .iter()
        .map(|s| {
            if let Some(t) = s.target_index {
                let Some(tr) = journal.targets.get(t) else {
                    return not_run();
                };
                return match (tr.status, tr.failed_step) {
                    (TargetStatus::Applied, _) => outcome("done", None, None),
                    (_, Some(f)) if f == s.n => outcome("failed", tr.error.as_ref(), None),
                    (_, Some(f)) if s.n < f => outcome("done", None, None),
                    (_, Some(_)) => not_run(),
                    (TargetStatus::Failed, None) => outcome("unknown", tr.error.as_ref(), None),
                    (TargetStatus::Pending, None)
                        if s.action_phase() == Some(Phase::Preflight)
                            && (checked || stopped_at.is_some_and(|at| at > s.n)) =>
                    {
                        outcome("done", None, None)
                    }
                    (TargetStatus::Pending, None) => not_run(),
                };
            }
            if let Some(stop) = stop {
                if stop.at == s.n {
                    let why = match &stop.reason {
                        walk::StopReason::Gate(m) => m.clone(),
                        walk::StopReason::Operator => "stopped by the operator".to_owned(),
                    };
                    return outcome("stopped", Some(&why), None);
                }
                if stop.cleaned.iter().any(|(n, _)| *n == s.n) {
                    return outcome("done", None, None);
                }
            }
            let Some(r) = journal.steps.iter().rev().find(|r| r.n == s.n) else {
                return match end {
                    Some(Err(walk::WalkError::Refused { at, message, .. })) if *at == s.n => {
                        outcome("failed", Some(message), None)
                    }
                    _ => not_run(),
                };
            };
            let (message, at) = (r.message.as_ref().filter(|m| !m.is_empty()), Some(&r.at));
            match r.status {
                StepStatus::Done => outcome("done", message, at),
                StepStatus::Skipped => outcome("skipped", message, at),
                StepStatus::Failed => outcome("failed", message, at),
                StepStatus::Unknown => outcome("unknown", message, at),
                StepStatus::Running if s.action.is_some() => outcome("unknown", message, at),
                StepStatus::Running => not_run(),
            }
        })
        .collect()
}
