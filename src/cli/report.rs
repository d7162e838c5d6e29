//! How a run ended, as the operator reads it: the JSON report of CLI.md (every step's and
//! target's outcome from the journal, the exit code, the error) or the text summary, and the
//! command's result. `rotate`, `apply`, `run` and `resume` end here.

use super::document::RunDocument;
use super::{CliError, Ctx, Outcome};
use crate::actions::run::TargetReport;
use crate::engine::plan::Plan;
use crate::engine::protocol::{self, Finished};
use crate::engine::protocol::{Status as JournalStatus, TargetStatus};
use crate::engine::walk::{self, StopReason};
use crate::model::Verified;

fn target_state(r: &TargetReport) -> TargetStatus {
    protocol::target_status(r.applied, r.error.is_some())
}

/// Renders how a run ended and turns it into the command's result; `update` is the inventory's
/// new id, when the run rotated an inventory credential (its failure makes the result exit 1).
pub fn report(
    ctx: &mut Ctx,
    plan: &Plan,
    finished: Finished,
    update: Option<(&str, Result<String, String>)>,
) -> Result<Outcome, CliError> {
    let json = ctx.json();
    let doc = json.then(|| RunDocument::planned(plan).finished(plan, &finished, update.as_ref()));
    let text = (!json).then(|| report_text(plan, &finished, ctx.global.verbose > 0));
    let clean = matches!(finished.result, Ok(walk::Outcome::Done)) && finished.warnings.is_empty();
    let mut end = outcome_of(finished, json);
    if let (Some((_, Err(why))), Ok(_)) = (&update, &end) {
        end = Err(CliError {
            code: crate::exit::FAILED,
            message: "the rotation finished, but the inventory still names the old token".into(),
            // What to write by hand: the update's own words, also under --output json.
            hint: Some(why.trim_start_matches("warning: ").to_owned()),
            quiet: false,
            reported: json,
        });
    }
    if let Some(doc) = doc {
        ctx.print_json(&doc.ended(&end, ctx.ui.redactor()).to_value())?;
    }
    if let Some(text) = text {
        match clean {
            true => ctx.ui.status(&text)?,
            false => ctx.ui.error(&text)?,
        }
        match &update {
            Some((_, Ok(line))) => ctx.ui.status(line)?,
            Some((_, Err(line))) => ctx.ui.error(line)?,
            None => {}
        }
    }
    end
}

/// The command's result for how a run ended.
fn outcome_of(finished: Finished, json: bool) -> Result<Outcome, CliError> {
    match finished.result {
        Ok(walk::Outcome::Done) if finished.status == JournalStatus::Incomplete => {
            Ok(Outcome::Incomplete)
        }
        // Every step was done, but the token is kept nowhere (`--keep` with a keyring that
        // refused it): a failure, said above.
        Ok(walk::Outcome::Done) if finished.status == JournalStatus::Failed => Err(CliError {
            code: crate::exit::FAILED,
            message: "the new token was made but is kept nowhere".into(),
            hint: None,
            quiet: false,
            reported: json,
        }),
        Ok(walk::Outcome::Done) => Ok(Outcome::Done),
        Ok(walk::Outcome::Stopped(_)) => Ok(Outcome::Stopped),
        Ok(walk::Outcome::Incomplete(_)) => Ok(Outcome::Incomplete),
        Err(e) => {
            let mut err = CliError::from(e);
            // The report says it, with the error in it.
            err.reported = json;
            // Stopped before anything changed (Ctrl-C at the go-ahead): said, and only that.
            if finished.status == JournalStatus::Stopped && err.hint.is_none() {
                err.hint = Some("nothing was changed".into());
            }
            Err(err)
        }
    }
}

fn report_text(plan: &Plan, finished: &Finished, verbose: bool) -> String {
    let facts = &finished.facts;
    let mut text = String::new();
    if let Some(id) = facts.new_id {
        text.push_str(&format!(
            "\nNew token: id {id}{} (never shown).\n",
            facts
                .expires_at
                .as_ref()
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default()
        ));
    }
    // A run stopped before it changed anything says only that: no summary of targets that
    // were never touched.
    let untouched = finished.status == JournalStatus::Stopped;
    if !untouched && (!plan.targets.is_empty() || finished.self_credential.is_some()) {
        text.push_str(&targets_text(plan, finished, verbose));
    }
    text.push_str(&outcome_text(plan, finished));
    for w in &finished.warnings {
        text.push_str(w);
        text.push('\n');
    }
    text
}

/// The targets: a summary line, then a line for each target that is not applied (with `-v`,
/// for every target): applied, FAILED or pending, and what the read-back said.
fn targets_text(plan: &Plan, finished: &Finished, verbose: bool) -> String {
    // This process's reports, and the journal's word for a target that failed its check (the
    // JSON report says the same).
    let reports: Vec<TargetReport> = (0..plan.targets.len())
        .map(|i| {
            let mut r = finished.facts.targets.get(&i).cloned().unwrap_or_default();
            if let Some(record) = finished.journal.targets.get(i)
                && record.status == TargetStatus::Failed
                && r.error.is_none()
            {
                r.error = Some(record.error.clone().unwrap_or_else(|| "failed".into()));
            }
            r
        })
        .collect();
    let count = |s: TargetStatus| reports.iter().filter(|r| target_state(r) == s).count();
    let (applied, failed, pending) = (
        count(TargetStatus::Applied),
        count(TargetStatus::Failed),
        count(TargetStatus::Pending),
    );
    let mut checked: Vec<String> = Vec::new();
    for v in [Verified::Yes, Verified::No, Verified::NotReadable] {
        let n = reports
            .iter()
            .filter(|r| target_state(r) == TargetStatus::Applied && r.verified == Some(v))
            .count();
        if n > 0 {
            checked.push(format!("{n} {}", v.counted()));
        }
    }
    let checked = match checked.is_empty() {
        true => String::new(),
        false => format!(" ({})", checked.join(", ")),
    };
    let pending = match pending {
        0 => String::new(),
        n => format!(", {n} pending"),
    };
    let mut text = format!("Targets: {applied} applied{checked}, {failed} failed{pending}\n");
    let w = plan.targets.iter().map(|t| t.spec.len()).max().unwrap_or(0);
    for (t, r) in plan.targets.iter().zip(&reports) {
        let state = match target_state(r) {
            TargetStatus::Applied if !verbose && r.verified != Some(Verified::No) => continue,
            TargetStatus::Failed => "FAILED",
            s => s.as_str(),
        };
        let verified = r
            .verified
            .map(|v| format!(", verified: {}", v.as_str()))
            .unwrap_or_default();
        let error = r
            .error
            .clone()
            .or(r.note.clone())
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        text.push_str(&format!("  {:<w$}  {state}{verified}{error}\n", t.spec));
    }
    match &finished.self_credential {
        Some(Ok(m)) => text.push_str(&format!("  {m}\n")),
        Some(Err(e)) => text.push_str(&format!("  FAILED: {e}\n")),
        None => {}
    }
    text
}

/// How the walk ended, in words.
fn outcome_text(plan: &Plan, finished: &Finished) -> String {
    match &finished.result {
        Ok(walk::Outcome::Done) if finished.status == JournalStatus::Kept => {
            let mut text = format!(
                "Kept: the new token waits in the OS keyring as tokrot/pending:{id}; put it into place with `tokrot apply TARGET … --from {id}`.\n",
                id = finished.id
            );
            let later: Vec<String> = crate::engine::resume::left_for_later(&finished.journal)
                .iter()
                .map(|(n, title)| format!("  {n}. {title}\n"))
                .collect();
            if !later.is_empty() {
                text.push_str("Left for after that (the old token is still in use until then):\n");
                text.push_str(&later.concat());
                text.push_str(&format!(
                    "Once everything that used the old token holds the new one, `tokrot resume {}` carries them out.\n",
                    finished.id
                ));
            }
            text
        }
        Ok(walk::Outcome::Done) if finished.status == JournalStatus::Incomplete => format!(
            "Incomplete: every step was done, but tokrot's own credential does not hold the new token yet; `tokrot resume {}` writes it.\n",
            finished.id
        ),
        Ok(walk::Outcome::Done) if finished.status == JournalStatus::Failed => {
            "Failed: every step was done, but the new token is kept nowhere (see below).\n".into()
        }
        Ok(walk::Outcome::Done) => format!(
            "Done: all {} steps of {} (run {}).\n",
            plan.steps.len(),
            plan.runbook.id,
            finished.id
        ),
        Ok(walk::Outcome::Incomplete(inc)) => {
            let mut text = format!(
                "Incomplete: {} of {} target(s) were not updated.\n",
                inc.failed.len(),
                plan.targets.len()
            );
            for (n, t) in &inc.skipped {
                text.push_str(&format!("  not done: {n}. {t}\n"));
            }
            text
        }
        Ok(walk::Outcome::Stopped(s)) => stop_text(s),
        Err(_) => String::new(),
    }
}

fn stop_text(s: &walk::Stop) -> String {
    let why = match &s.reason {
        StopReason::Gate(m) => m.clone(),
        StopReason::Operator => "you said no.".into(),
    };
    let mut text = format!("\nStopped at step {} ({}): {why}\n", s.at, s.title);
    if !s.not_done.is_empty() {
        text.push_str("Not done:\n");
        for (n, t) in &s.not_done {
            text.push_str(&format!("  {n}. {t}\n"));
        }
    }
    if !s.cleaned.is_empty() {
        text.push_str("Clean-up done:\n");
        for (n, t) in &s.cleaned {
            text.push_str(&format!("  {n}. {t}\n"));
        }
    }
    text
}
