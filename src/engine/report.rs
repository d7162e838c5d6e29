//! What a run tells the operator as it goes, as typed events. The engine decides what happened;
//! whoever holds the session (`cli`) decides how it looks: status lines on stderr (none under
//! `-q`), a live bar over a fan-out on a terminal. The engine names no terminal, colour or
//! table. Text in an event may come from a vendor's answer: the renderer redacts what it shows.

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use super::plan::{Plan, PlanStep};
use crate::secret::Redactor;
#[cfg(test)]
use crate::tally::NoTally;
pub use crate::tally::Tally;

/// One thing a run tells as it goes. No event carries a secret the engine holds (a captured
/// value is told by its length); a vendor's words in a note or an error are redacted where
/// they are shown.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A step begins: its title and details read with what earlier steps learned.
    Step {
        /// The plan the step is in.
        plan: &'a Plan,
        /// The step.
        step: &'a PlanStep,
        /// Parameter values learned so far, by name (`learned::with_learned` shows them).
        learned: &'a BTreeMap<String, String>,
    },
    /// A step that `resume` finds done by an earlier process: not carried out again.
    DoneBefore {
        /// The step.
        step: &'a PlanStep,
        /// How many steps the plan has.
        total: usize,
    },
    /// A step that retires the old token, left for later by `--keep`.
    LeftForLater {
        /// The step.
        step: &'a PlanStep,
        /// How many steps the plan has.
        total: usize,
        /// Its title as it will be carried out.
        title: &'a str,
    },
    /// A gate passed with `--approve`.
    Approved {
        /// The gate's id.
        gate: &'a str,
        /// What shows the decision was made.
        evidence: Option<&'a str>,
    },
    /// A hidden value was captured; only its length is told.
    Captured {
        /// Its length in characters.
        chars: usize,
    },
    /// A step was not carried out, and why.
    Skipped {
        /// Why.
        why: &'a str,
    },
    /// A step was carried out; the action's short note.
    Done {
        /// The note.
        note: &'a str,
    },
    /// The run stops early; the clean-up steps that follow are walked with the operator.
    CleanupBegins,
    /// A block of targets' steps begins, the targets side by side.
    TargetsBegin {
        /// The block's first step number.
        first: usize,
        /// Its last.
        last: usize,
        /// How many steps the plan has.
        total: usize,
        /// How many targets.
        targets: usize,
        /// Whether the block writes the new token (else it checks).
        writes: bool,
    },
    /// One target's steps ended: its notes, or why it failed.
    TargetEnded {
        /// The target as given (`gitlab-ci-var:group/app:KEY`).
        spec: &'a str,
        /// The notes of its steps, or why it failed.
        result: Result<&'a [String], &'a str>,
    },
    /// A block of targets ended.
    TargetsEnded {
        /// Targets done.
        done: usize,
        /// Targets that failed.
        failed: usize,
        /// Whether the block wrote the new token.
        writes: bool,
        /// How long the block took.
        took: Duration,
    },
}

/// Whoever shows a run. An `Err` is the terminal gone away: the walk stops where nothing is in
/// flight (a one-shot call's answer is journaled before anything is reported).
pub trait Reporter {
    /// Tells one event.
    fn report(&mut self, event: Event<'_>) -> io::Result<()>;
    /// Work on `total` things side by side begins (`writes`: putting the token into targets,
    /// else checking them); the tally is told as each ends, and taken down by `fan_in`.
    fn fan_out(&mut self, total: usize, writes: bool) -> Box<dyn Tally>;
    /// The fan-out is over.
    fn fan_in(&mut self, tally: Box<dyn Tally>);
    /// What keeps secrets out of what it shows: a run registers every secret it comes to hold
    /// (a captured value, a new token) with it, so the session takes its redactor from here.
    fn redactor(&self) -> &Redactor;
}

/// A reporter that shows nothing and keeps the kinds of event told (the engine's tests).
#[cfg(test)]
#[derive(Debug, Default)]
pub struct Silent {
    /// The events told, by name, in order.
    pub told: Vec<&'static str>,
    redactor: Redactor,
}

#[cfg(test)]
impl Reporter for Silent {
    fn report(&mut self, event: Event<'_>) -> io::Result<()> {
        self.told.push(event.name());
        Ok(())
    }
    fn fan_out(&mut self, _total: usize, _writes: bool) -> Box<dyn Tally> {
        Box::new(NoTally)
    }
    fn fan_in(&mut self, _tally: Box<dyn Tally>) {}
    fn redactor(&self) -> &Redactor {
        &self.redactor
    }
}

#[cfg(test)]
impl Event<'_> {
    /// The event's name, as the engine's tests compare them.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Step { .. } => "step",
            Event::DoneBefore { .. } => "done-before",
            Event::LeftForLater { .. } => "left-for-later",
            Event::Approved { .. } => "approved",
            Event::Captured { .. } => "captured",
            Event::Skipped { .. } => "skipped",
            Event::Done { .. } => "done",
            Event::CleanupBegins => "cleanup-begins",
            Event::TargetsBegin { .. } => "targets-begin",
            Event::TargetEnded { .. } => "target-ended",
            Event::TargetsEnded { .. } => "targets-ended",
        }
    }
}
