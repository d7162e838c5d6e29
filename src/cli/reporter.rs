//! How a run looks on the terminal: the engine's events as status lines on stderr, a live bar
//! over a fan-out. Under `-q` the status lines are not written (failures still are); piped or
//! under `--output json` there is no bar, only the fan-out's summary line.

use std::collections::BTreeMap;
use std::io;

use super::checklist::step_details;
use crate::engine::learned::with_learned;
use crate::engine::plan::{Plan, PlanStep};
use crate::engine::report::{Event, Reporter, Tally};
use crate::ui::{Progress, Ui};

impl Reporter for Ui {
    fn report(&mut self, event: Event<'_>) -> io::Result<()> {
        match event {
            Event::Step {
                plan,
                step,
                learned,
            } => show_step(self, plan, step, learned),
            Event::DoneBefore { step, total } => self.status(&format!(
                "Step {} of {total}: done before ({})",
                step.n, step.title
            )),
            Event::LeftForLater { step, total, title } => self.status(&format!(
                "Step {} of {total}: {title} (left for later: --keep)",
                step.n
            )),
            Event::Approved { gate, evidence } => {
                let evidence = evidence
                    .map(|e| format!(" (evidence: {e})"))
                    .unwrap_or_default();
                self.status(&format!("   approved with --approve {gate}{evidence}"))
            }
            Event::Captured { chars } => {
                self.status(&format!("   captured ({chars} characters, hidden)"))
            }
            Event::Skipped { why } => self.status(&format!("   skipped: {why}")),
            Event::Done { note } => self.status(&format!("   ok: {note}")),
            Event::CleanupBegins => {
                self.status("")?;
                self.status(&self.warn("The run stops here. Clean-up steps still to do:"))
            }
            Event::TargetsBegin {
                first,
                last,
                total,
                targets,
                writes,
            } => {
                self.status("")?;
                self.status(&targets_begin(first, last, total, targets, writes))
            }
            Event::TargetEnded {
                spec,
                result: Ok(notes),
            } => self.detail(&format!("   ok: {spec}: {}", notes.join("; "))),
            Event::TargetEnded {
                spec,
                result: Err(why),
            } => self.error(&format!("   FAILED: {spec}: {why}")),
            Event::TargetsEnded {
                done,
                failed,
                writes,
                took,
            } => {
                let verb = match writes {
                    true => "applied",
                    false => "checked",
                };
                let took = took.as_secs_f64();
                let summary = format!("   {done} {verb}, {failed} failed in {took:.1} s");
                match failed {
                    0 => self.status(&summary),
                    _ => self.error(&summary),
                }
            }
        }
    }

    fn fan_out(&mut self, total: usize, writes: bool) -> Box<dyn Tally> {
        let what = match writes {
            true => "writing the new token",
            false => "checking the targets",
        };
        Box::new(self.progress(total, what))
    }

    fn fan_in(&mut self, tally: Box<dyn Tally>) {
        self.bar_down();
        drop(tally);
    }

    fn redactor(&self) -> &crate::secret::Redactor {
        Ui::redactor(self)
    }
}

impl Tally for Progress {
    fn set_total(&self, total: usize) {
        Progress::set_total(self, total);
    }
    fn inc(&self) {
        Progress::inc(self);
    }
    fn suspend(&self, f: &mut dyn FnMut()) {
        Progress::suspend(self, f);
    }
}

/// A step as a run shows it: its title in bold, then its details, each line with what earlier
/// steps learned.
fn show_step(
    ui: &mut Ui,
    plan: &Plan,
    step: &PlanStep,
    learned: &BTreeMap<String, String>,
) -> io::Result<()> {
    ui.status("")?;
    let shown = |line: &str| with_learned(plan, learned, line);
    let title = format!(
        "Step {} of {} [{}] {}",
        step.n,
        plan.steps.len(),
        step.kind,
        shown(&step.title)
    );
    ui.status(&ui.bold(&title))?;
    // An action's handbook words say what the call stands for: `show` has them; a run does not
    // need them, the operator only confirms.
    let is_action = step.action.is_some();
    for line in step_details(step, ui) {
        if is_action && line.contains("handbook: ") {
            continue;
        }
        ui.status(&format!("    {}", shown(&line)))?;
    }
    Ok(())
}

/// The line that opens a block of target steps: `Steps 4-5 of 9: writing the new token into 3
/// targets`.
fn targets_begin(first: usize, last: usize, total: usize, targets: usize, writes: bool) -> String {
    let what = match writes {
        true => "writing the new token into",
        false => "checking",
    };
    let steps = match first == last {
        true => format!("Step {first} of {total}"),
        false => format!("Steps {first}-{last} of {total}"),
    };
    let targets = match targets {
        1 => "1 target".to_owned(),
        n => format!("{n} targets"),
    };
    format!("{steps}: {what} {targets}")
}
