//! The JSON document of a run (CLI.md; `runReport` in `schema/tokrot.schema.json`), as types:
//! its shape is written once, here, and each part is filled from one place — the plan (what a
//! dry run shows), the journal (how each step and target stands, also for what an earlier
//! process did), what this process learned, and how the command ended.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::checklist;
use super::{CliError, Outcome};
use crate::actions::Phase;
use crate::engine::plan::Plan;
use crate::engine::protocol::Finished;
use crate::engine::protocol::JournalData;
use crate::engine::walk::{self, StopReason};
use crate::inventory::target::TargetSpec;
use crate::model::{StepResult, TargetStatus};
use crate::runbook::RunbookKind;

/// A run's document.
#[derive(Debug, Serialize)]
pub(crate) struct RunDocument {
    rotation_id: Option<String>,
    runbook: String,
    status: &'static str,
    exit_code: i32,
    source: Source,
    targets: Vec<Target>,
    steps: Vec<Step>,
    notices: Vec<String>,
    missing: Vec<MissingParam>,
    runbook_info: Value,
    /// A dry run's read-only checks: null when they could not run; absent from a real run.
    #[serde(skip_serializing_if = "Option::is_none")]
    preflight: Option<Option<Vec<Check>>>,
    self_credential: Option<SelfCredential>,
    warnings: Vec<String>,
    stop: Option<Stop>,
    error: Option<Value>,
    inventory_update: Option<InventoryUpdate>,
    resume: Option<Resume>,
}

/// The token a run replaces, and the one it made.
#[derive(Debug, Serialize)]
struct Source {
    kind: String,
    service: &'static str,
    id: Value,
    instance: Option<String>,
    expires_at: Option<String>,
    params: BTreeMap<String, String>,
    new_id: Option<u64>,
    credential: Option<String>,
    stashed: bool,
    stash_error: Option<String>,
    /// Whether a refresh token came with the new token (it is never kept).
    refresh_token: bool,
}

/// One place the token goes.
#[derive(Debug, Serialize)]
struct Target {
    spec: String,
    service: &'static str,
    instance: Option<String>,
    description: String,
    runbook: String,
    status: TargetStatus,
    verified: Option<String>,
    error: Option<String>,
    note: Option<String>,
}

/// One step: the plan's (as `show` gives it) and how it ended.
#[derive(Debug, Serialize)]
struct Step {
    #[serde(flatten)]
    plan: Map<String, Value>,
    outcome: StepResult,
    message: Option<String>,
    at: Option<jiff::Timestamp>,
}

#[derive(Debug, Serialize)]
struct MissingParam {
    param: String,
    flags: Vec<String>,
}

/// A read-only check of a dry run.
#[derive(Debug, Serialize)]
pub(crate) struct Check {
    n: usize,
    check: String,
    ok: bool,
    note: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
enum SelfCredential {
    Applied { note: String },
    Failed { error: String },
}

#[derive(Debug, Serialize)]
struct Stop {
    at: usize,
    title: String,
    by: &'static str,
    reason: String,
    not_done: Vec<usize>,
    cleaned_up: Vec<usize>,
}

#[derive(Debug, Serialize)]
struct InventoryUpdate {
    credential: String,
    ok: bool,
    message: String,
}

/// What a resume would do (`resume --dry-run`).
#[derive(Debug, Serialize)]
pub(crate) struct Resume {
    /// How the run stands now.
    pub journal_status: crate::model::Standing,
    /// How many steps are left.
    pub left_steps: usize,
    /// Whether a one-shot call's outcome is not in the journal.
    pub one_shot_open: bool,
}

/// The parameters that name a run's source token, first found first.
const SOURCE_ID_PARAMS: [&str; 6] = [
    "token_id",
    "trigger_id",
    "client_id",
    "installation_id",
    "hook_id",
    "webhook_id",
];

impl RunDocument {
    /// What a dry run shows: the plan, nothing done.
    pub(crate) fn planned(plan: &Plan) -> Self {
        let id = SOURCE_ID_PARAMS
            .iter()
            .find_map(|k| plan.values.get(*k))
            .map_or(Value::Null, |v| {
                v.parse::<u64>()
                    .map_or_else(|_| v.clone().into(), Into::into)
            });
        Self {
            rotation_id: None,
            runbook: plan.runbook.id.clone(),
            status: "dry-run",
            exit_code: crate::exit::OK,
            source: Source {
                kind: plan.runbook.id.clone(),
                service: plan.runbook.service.as_str(),
                id,
                instance: plan.instance.as_ref().map(|i| i.id.clone()),
                expires_at: plan.values.get("expires_at").cloned(),
                params: plan.values.clone(),
                new_id: None,
                credential: None,
                stashed: false,
                stash_error: None,
                refresh_token: false,
            },
            targets: targets(plan),
            steps: plan
                .steps
                .iter()
                .map(|s| Step {
                    plan: match checklist::step_json(s) {
                        Value::Object(m) => m,
                        _ => Map::new(),
                    },
                    outcome: StepResult::NotRun,
                    message: None,
                    at: None,
                })
                .collect(),
            notices: plan.notices.clone(),
            missing: plan
                .missing
                .iter()
                .map(|m| MissingParam {
                    param: m.param.name.clone(),
                    flags: m.flags.clone(),
                })
                .collect(),
            runbook_info: checklist::runbook_json(plan),
            preflight: None,
            self_credential: None,
            warnings: Vec::new(),
            stop: None,
            error: None,
            inventory_update: None,
            resume: None,
        }
    }

    /// A dry run's read-only checks: the steps they are done (or failed), a target whose check
    /// failed says why, as in a real run's report.
    pub(crate) fn checked(
        mut self,
        plan: &Plan,
        results: &[(usize, String, Result<String, String>)],
    ) -> Self {
        for (n, _, r) in results {
            let Some(i) = plan.steps.iter().position(|s| s.n == *n) else {
                continue;
            };
            let step = &mut self.steps[i];
            step.outcome = match r {
                Ok(_) => StepResult::Done,
                Err(_) => StepResult::Failed,
            };
            step.message = Some(match r {
                Ok(note) | Err(note) => note.clone(),
            });
            if let (Err(e), Some(t)) = (r, plan.steps[i].target_index)
                && let Some(target) = self.targets.get_mut(t)
            {
                target.error = Some(e.clone());
            }
        }
        self.preflight = Some((!results.is_empty()).then(|| {
            results
                .iter()
                .map(|(n, what, r)| Check {
                    n: *n,
                    check: what.clone(),
                    ok: r.is_ok(),
                    note: r.as_ref().ok().cloned(),
                    error: r.as_ref().err().cloned(),
                })
                .collect()
        }));
        self
    }

    /// How each step and target stands in the journal (and, for the step a run stopped or was
    /// refused at, the walk's end).
    pub(crate) fn journaled(
        mut self,
        plan: &Plan,
        journal: &JournalData,
        end: Option<&Result<walk::Outcome, walk::WalkError>>,
    ) -> Self {
        self.rotation_id = Some(journal.id.clone());
        self.source.new_id = journal.new_id;
        self.source.credential = journal.credential.clone();
        self.source.stashed = journal.stashed;
        let outcomes = crate::engine::outcome::step_outcomes(plan, journal, end);
        for (s, o) in self.steps.iter_mut().zip(&outcomes) {
            s.outcome = o.outcome;
            s.message = o.message.clone();
            s.at = o.at;
        }
        for (t, record) in self.targets.iter_mut().zip(&journal.targets) {
            t.status = record.status;
            t.verified = record.verified.map(|v| v.as_str().to_owned());
            t.error = record.error.clone();
        }
        // An apply runbook's one target stands as its write step does.
        if plan.runbook.kind == RunbookKind::Apply
            && let Some(target) = self.targets.first_mut()
            && let Some((_, o)) = plan
                .steps
                .iter()
                .zip(&outcomes)
                .find(|(s, _)| s.action_phase() == Some(Phase::Apply))
        {
            target.status = match o.outcome {
                StepResult::Done => TargetStatus::Applied,
                StepResult::Failed | StepResult::Unknown => TargetStatus::Failed,
                _ => TargetStatus::Pending,
            };
            target.error = (target.status == TargetStatus::Failed)
                .then(|| o.message.clone())
                .flatten();
        }
        self
    }

    /// What a resume would do.
    pub(crate) fn resuming(mut self, resume: Resume) -> Self {
        self.preflight = Some(None);
        self.resume = Some(resume);
        self
    }

    /// How a run of this process ended: its status, what it learned (shown instead of the
    /// plan's placeholders, as on the terminal), the new token, each target's read-back, the
    /// stop, and the inventory's new id.
    pub(crate) fn finished(
        mut self,
        plan: &Plan,
        finished: &Finished,
        update: Option<&(&str, Result<String, String>)>,
    ) -> Self {
        let (facts, journal) = (&finished.facts, &finished.journal);
        self = self.journaled(plan, journal, Some(&finished.result));
        self.rotation_id = Some(finished.id.clone());
        self.status = finished.status.as_str();
        let shown =
            |text: &str| crate::engine::learned::with_learned(plan, &finished.learned, text);
        for step in &mut self.steps {
            for key in ["title", "call", "sends"] {
                let value = match step.plan.get(key) {
                    Some(Value::String(s)) => Value::String(shown(s)),
                    Some(Value::Array(a)) => a
                        .iter()
                        .map(|s| Value::String(shown(s.as_str().unwrap_or_default())))
                        .collect(),
                    _ => continue,
                };
                step.plan.insert(key.to_owned(), value);
            }
        }
        self.source.new_id = facts.new_id.or(journal.new_id);
        if let Some(e) = facts
            .expires_at
            .clone()
            .or_else(|| journal.expires_at.clone())
        {
            self.source.expires_at = Some(e);
        }
        self.source.stashed = facts.stashed;
        self.source.refresh_token = facts.refresh_token;
        self.source.stash_error = facts.stash_error.clone();
        for (i, t) in self.targets.iter_mut().enumerate() {
            let Some(r) = facts.targets.get(&i) else {
                continue;
            };
            if journal.targets.get(i).is_none() {
                let status = crate::engine::protocol::target_status(r.applied, r.error.is_some());
                t.status = status;
                t.verified = r.verified.map(|v| v.as_str().to_owned());
                t.error = r.error.clone();
            }
            t.note = r.note.clone();
        }
        self.self_credential = finished.self_credential.as_ref().map(|s| match s {
            Ok(note) => SelfCredential::Applied { note: note.clone() },
            Err(error) => SelfCredential::Failed {
                error: error.clone(),
            },
        });
        self.warnings = finished.warnings.clone();
        if let Ok(walk::Outcome::Stopped(s)) = &finished.result {
            let (by, reason) = match &s.reason {
                StopReason::Gate(m) => ("gate", m.clone()),
                StopReason::Operator => ("operator", "stopped by the operator".to_owned()),
            };
            self.stop = Some(Stop {
                at: s.at,
                title: s.title.clone(),
                by,
                reason,
                not_done: s.not_done.iter().map(|(n, _)| *n).collect(),
                cleaned_up: s.cleaned.iter().map(|(n, _)| *n).collect(),
            });
        }
        self.inventory_update = update.map(|(name, r)| InventoryUpdate {
            credential: (*name).to_owned(),
            ok: r.is_ok(),
            message: match r {
                Ok(m) | Err(m) => m.clone(),
            },
        });
        self
    }

    /// How the command ends: its exit code, and the error as `main` would print it.
    pub(crate) fn ended(
        mut self,
        end: &Result<Outcome, CliError>,
        redactor: &crate::secret::Redactor,
    ) -> Self {
        self.exit_code = end.as_ref().map_or_else(|e| e.code, |o| o.exit_code());
        self.error = end
            .as_ref()
            .err()
            .map(|e| e.clone_redacted(redactor).error_json());
        self
    }

    /// As `print_json` takes it.
    pub(crate) fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The report's targets: a rotation's, or the one place an apply runbook writes (once its
/// parameters are all known).
fn targets(plan: &Plan) -> Vec<Target> {
    let pending = |spec: String, service, instance: Option<String>, description, runbook| Target {
        spec,
        service,
        instance,
        description,
        runbook,
        status: TargetStatus::Pending,
        verified: None,
        error: None,
        note: None,
    };
    if plan.runbook.kind == RunbookKind::Apply {
        let value = |k: &str| plan.values.get(k).cloned();
        return TargetSpec::of_apply(&plan.runbook.id, &value)
            .map(|t| {
                pending(
                    t.to_string(),
                    t.service(),
                    t.instance().map(str::to_owned),
                    t.describe(),
                    plan.runbook.id.clone(),
                )
            })
            .into_iter()
            .collect();
    }
    plan.targets
        .iter()
        .map(|t| {
            pending(
                t.spec.clone(),
                t.service,
                t.instance.clone(),
                t.description.clone(),
                t.runbook.clone(),
            )
        })
        .collect()
}
