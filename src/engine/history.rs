//! What the journal says of past runs, beside the journal: how each stands (a run journaled as
//! running whose process is gone was interrupted), which made a token that may not be in every
//! target, and the runs a `history` query selects. `history`, `status`, `resume`, `--due` and
//! completion read runs through here, never the journal files themselves.

use std::path::Path;

use crate::actions::Phase;
use crate::model::{RunbookKind, Standing, Status, StepStatus};
use crate::state::StateError;
use crate::state::journal::{self, JournalData};

/// A run and how it stands.
pub type Run = (JournalData, Standing);

/// How a run stands: its journal's status, unless the journal says running and its process is
/// gone (its lock is free): then it died, and if it died during a one-shot call, the outcome of
/// that call is unknown.
pub fn standing(state_dir: &Path, data: &JournalData) -> Standing {
    if data.status != Status::Running || crate::state::lock::is_held(state_dir, &data.id) {
        return data.status.into();
    }
    match one_shot_open(data) {
        true => Standing::Unknown,
        false => Standing::Interrupted,
    }
}

/// Whether the journal shows a one-shot call started or sent whose outcome it does not know.
pub fn one_shot_open(data: &JournalData) -> bool {
    data.steps.iter().any(|s| {
        s.phase == Some(Phase::Rotate)
            && matches!(s.status, StepStatus::Running | StepStatus::Unknown)
    })
}

/// Whether a run's one-shot call was made (or may have been): a new token exists somewhere.
pub fn made_a_token(data: &JournalData) -> bool {
    data.steps.iter().any(|s| {
        s.phase == Some(Phase::Rotate)
            && matches!(
                s.status,
                StepStatus::Done | StepStatus::Running | StepStatus::Unknown
            )
    })
}

/// Every run in the journal, oldest first, with how it stands.
pub fn runs(state_dir: &Path) -> Result<Vec<Run>, StateError> {
    Ok(with_standing(state_dir, journal::list(state_dir)?))
}

/// Each run with how it stands.
fn with_standing(state_dir: &Path, all: Vec<JournalData>) -> Vec<Run> {
    all.into_iter()
        .map(|j| {
            let standing = standing(state_dir, &j);
            (j, standing)
        })
        .collect()
}

/// Rotations whose new token was made (or may have been) and is not known to be in every
/// target: incomplete, outcome unknown, or ended (failed, aborted, killed) after the one-shot
/// call. Their consumers may hold a revoked token; `tokrot resume ID` finishes each. A run
/// still in progress (its lock held) is not one of them; a kept run waits on purpose. The
/// journals that could not be read come second: any of them may be such a run.
pub fn unfinished_rotations(state_dir: &Path) -> Result<(Vec<Run>, Vec<StateError>), StateError> {
    let (all, unread) = journal::list_all(state_dir)?;
    let runs = with_standing(state_dir, all)
        .into_iter()
        .filter(|(data, standing)| {
            data.kind == RunbookKind::Rotate
                && match standing {
                    Standing::Incomplete | Standing::Unknown => true,
                    Standing::Interrupted | Standing::Failed | Standing::Aborted => {
                        made_a_token(data)
                    }
                    Standing::Running | Standing::Done | Standing::Kept | Standing::Stopped => {
                        false
                    }
                }
        })
        .collect();
    Ok((runs, unread))
}

/// How many targets the `apply --from ID` runs of a kept run put its token into (each writes
/// one).
pub fn applied_count(all: &[Run], id: &str) -> usize {
    all.iter()
        .filter(|(j, _)| j.from.as_deref() == Some(id) && j.status == Status::Done)
        .count()
}

/// Which runs `history` lists: every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Runs of this runbook.
    pub runbook: Option<String>,
    /// Runs that stand so; `incomplete` also takes a rotation killed after its one-shot call.
    pub standing: Option<Standing>,
    /// Runs started at or after this.
    pub since: Option<jiff::Timestamp>,
    /// Runs of this inventory credential.
    pub credential: Option<String>,
}

impl Query {
    /// Whether `run` is one the query selects.
    pub fn selects(&self, (j, standing): &Run) -> bool {
        // A rotation killed after its one-shot call is as incomplete as one that ended so.
        let standing = self.standing.is_none_or(|s| {
            s == *standing
                || (s == Standing::Incomplete
                    && *standing == Standing::Interrupted
                    && made_a_token(j))
        });
        standing
            && self.runbook.as_ref().is_none_or(|r| &j.runbook == r)
            && self.since.is_none_or(|since| j.started_at >= since)
            && self
                .credential
                .as_ref()
                .is_none_or(|c| j.credential.as_ref() == Some(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run journaled as running; `rotated`: its one-shot call was sent.
    fn run(runbook: &str, standing: Standing, rotated: bool, credential: Option<&str>) -> Run {
        let rotate = serde_json::json!({"n": 2, "title": "Rotate", "phase": "rotate",
                                        "status": "done", "at": "2026-12-05T12:00:05Z"});
        let steps = if rotated { vec![rotate] } else { Vec::new() };
        let data: JournalData = serde_json::from_value(serde_json::json!({
            "id": format!("{runbook}-20261205T120000Z-a1b2c3"), "runbook": runbook,
            "params": [], "targets": [], "status": "running", "credential": credential,
            "started_at": "2026-12-05T12:00:00Z", "updated_at": "2026-12-05T12:00:09Z",
            "steps": steps,
        }))
        .unwrap();
        (data, standing)
    }

    #[test]
    fn a_query_selects_by_every_filter_and_counts_a_killed_rotation_as_incomplete() {
        let killed_after = run("gitlab-pat", Standing::Interrupted, true, Some("sync"));
        let killed_before = run("gitlab-pat", Standing::Interrupted, false, None);
        let incomplete = Query {
            standing: Some(Standing::Incomplete),
            ..Query::default()
        };
        assert!(incomplete.selects(&killed_after));
        assert!(!incomplete.selects(&killed_before));
        let interrupted = Query {
            standing: Some(Standing::Interrupted),
            ..Query::default()
        };
        assert!(interrupted.selects(&killed_before));
        let by_credential = Query {
            credential: Some("sync".into()),
            runbook: Some("gitlab-pat".into()),
            ..Query::default()
        };
        assert!(by_credential.selects(&killed_after));
        assert!(!by_credential.selects(&killed_before));
        let later = Query {
            since: Some("2026-12-05T12:00:01Z".parse().unwrap()),
            ..Query::default()
        };
        assert!(!later.selects(&killed_after));
        assert!(Query::default().selects(&killed_before));
    }
}
