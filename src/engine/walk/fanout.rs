//! The fan-out: a block of target steps, each target's steps in order and the targets side by
//! side (`--concurrency`). A target whose step asks a question waits for the others; the
//! questions are then asked one at a time, with the tally off the screen, and those targets go
//! on from the step that asked. What each target did is reported once all have ended, in the
//! plan's order.

use std::time::Instant;

use futures_util::{StreamExt, stream};

use super::{ActionRunner, WalkError, WalkOptions, ask};
use crate::actions::run::ActionFailure;
use crate::actions::{Phase, Question};
use crate::engine::plan::{Plan, PlanStep};
use crate::engine::prompt::Prompter;
use crate::engine::report::{Event, Reporter, Tally};

/// One target's steps from `from` on.
async fn run_target<R: ActionRunner>(runner: &R, steps: &[&PlanStep], from: usize) -> TargetRun {
    let mut notes = Vec::new();
    for (k, s) in steps.iter().enumerate().skip(from) {
        match runner.run(s).await {
            Ok(n) => notes.push(n),
            Err(ActionFailure {
                question: Some(q), ..
            }) => return TargetRun::Asks(k, *q, notes),
            Err(f) => return TargetRun::Failed(s.n, f.message),
        }
    }
    TargetRun::Done(notes)
}

/// How one pass over a target's steps ended.
enum TargetRun {
    Done(Vec<String>),
    /// The step that failed (its number), and why.
    Failed(usize, String),
    /// Step `k` asks a question; the notes so far.
    Asks(usize, Question, Vec<String>),
}

/// The block's steps by target (target index, its steps in order), targets in plan order.
type Groups<'p> = Vec<(usize, Vec<&'p PlanStep>)>;

/// Where each target stands: the notes of its steps, and how it ended once it has.
struct Standings {
    notes: Vec<Vec<String>>,
    ended: Vec<(usize, Result<(), String>)>,
}

/// Runs a block of target steps; the targets that failed (index, why).
pub(super) async fn run_targets<R: ActionRunner>(
    plan: &Plan,
    block: &[&PlanStep],
    runner: &R,
    reporter: &mut dyn Reporter,
    prompter: &mut dyn Prompter,
    options: &WalkOptions,
) -> Result<Vec<(usize, String)>, WalkError> {
    let mut groups: Groups<'_> = Vec::new();
    for &s in block {
        let t = s.target_index.unwrap_or_default();
        match groups.iter_mut().find(|(g, _)| *g == t) {
            Some((_, steps)) => steps.push(s),
            None => groups.push((t, vec![s])),
        }
    }
    let writes = !block
        .iter()
        .all(|s| s.action_phase() == Some(Phase::Preflight));
    reporter.report(Event::TargetsBegin {
        first: block.first().map_or(0, |s| s.n),
        last: block.last().map_or(0, |s| s.n),
        total: plan.steps.len(),
        targets: groups.len(),
        writes,
    })?;
    let started = Instant::now();
    let tally = reporter.fan_out(groups.len(), writes);
    let run = run_groups(&groups, runner, &*tally, prompter, options.concurrency).await;
    reporter.fan_in(tally);
    let mut progress = run?;
    progress.ended.sort_by_key(|(g, _)| *g);
    let mut failures = Vec::new();
    for (g, r) in progress.ended {
        let t = groups[g].0;
        let spec = &plan.targets[t].spec;
        let result = match &r {
            Ok(()) => Ok(progress.notes[g].as_slice()),
            Err(m) => Err(m.as_str()),
        };
        reporter.report(Event::TargetEnded { spec, result })?;
        if let Err(m) = r {
            failures.push((t, m));
        }
    }
    reporter.report(Event::TargetsEnded {
        done: groups.len() - failures.len(),
        failed: failures.len(),
        writes,
        took: started.elapsed(),
    })?;
    Ok(failures)
}

/// Passes over the targets until each has ended: side by side, then the questions one at a
/// time, then those targets again from the step that asked.
async fn run_groups<R: ActionRunner>(
    groups: &Groups<'_>,
    runner: &R,
    tally: &dyn Tally,
    prompter: &mut dyn Prompter,
    concurrency: usize,
) -> Result<Standings, WalkError> {
    let mut pending: Vec<(usize, usize)> = (0..groups.len()).map(|g| (g, 0)).collect();
    let mut progress = Standings {
        notes: vec![Vec::new(); groups.len()],
        ended: Vec::new(),
    };
    while !pending.is_empty() {
        let mut passes: Vec<(usize, TargetRun)> = stream::iter(pending.drain(..))
            .map(|(g, from)| async move { (g, run_target(runner, &groups[g].1, from).await) })
            .buffer_unordered(concurrency.max(1))
            .inspect(|(_, pass)| {
                if !matches!(pass, TargetRun::Asks(..)) {
                    tally.inc();
                }
            })
            .collect()
            .await;
        passes.sort_by_key(|(g, _)| *g);
        for (g, pass) in passes {
            let t = groups[g].0;
            match pass {
                TargetRun::Done(n) => {
                    progress.notes[g].extend(n);
                    runner.target_ended(t, None);
                    progress.ended.push((g, Ok(())));
                }
                TargetRun::Failed(n, m) => {
                    runner.target_ended(t, Some((n, &m)));
                    progress.ended.push((g, Err(m)));
                }
                TargetRun::Asks(k, q, n) => {
                    progress.notes[g].extend(n);
                    let at = groups[g].1[k].n;
                    match asked(prompter, tally, &q, at)? {
                        Some(answer) => {
                            runner.answer(&q.key, answer);
                            pending.push((g, k));
                        }
                        None => {
                            tally.inc();
                            runner.target_ended(t, Some((at, &q.unanswered)));
                            progress.ended.push((g, Err(q.unanswered.clone())));
                        }
                    }
                }
            }
        }
    }
    Ok(progress)
}

/// A target's question, asked with the tally off the screen; `None` when nobody can answer.
fn asked(
    prompter: &mut dyn Prompter,
    tally: &dyn Tally,
    q: &Question,
    at: usize,
) -> Result<Option<crate::actions::Answer>, WalkError> {
    let mut answer = None;
    tally.suspend(&mut || answer = Some(ask(prompter, q)));
    answer
        .unwrap_or(Ok(None))
        .map_err(|source| WalkError::Prompt {
            at,
            source,
            cleanup_pending: Vec::new(),
        })
}
