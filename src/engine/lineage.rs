//! A token's line, as the journals tell it: the identity of the token a rotation made, what
//! earlier rotations made of each source token, and the later runs that rotated one again.
//! The protocol reads it before a one-shot call (a token rotated by someone else since is not
//! rotated again); `resume` and `history` read it to say where a token went.

use crate::model::Identity;
use std::collections::HashMap;
use std::path::Path;

use crate::actions::Phase;
use crate::actions::run::Successor;
use crate::state::journal::{self, JournalData, StepStatus};

/// The identity of the token a one-shot call made, by the vendor's own id, of the same kind
/// as its source (`gitlab-token:43` after `gitlab-token:42`).
pub fn new_identity(source: &str, new_id: u64) -> Option<String> {
    let source: Identity = source.parse().ok()?;
    Some(source.successor(new_id)?.to_string())
}

/// What earlier rotations on `origin` made of each source token, by the vendor's own id
/// (`gitlab-token:42`, kept in the journal's memo): the latest run whose one-shot call gave it a
/// successor. A journal of another origin (where the same id is another token), or of a run
/// whose one-shot call is not known done, gives nothing; so does one that cannot be read: this
/// only adds words to an error.
pub fn successors(state_dir: &Path, origin: &str) -> HashMap<String, Successor> {
    let mut out = HashMap::new();
    for data in journal::list(state_dir).unwrap_or_default() {
        if data.origin.as_deref() != Some(origin) {
            continue;
        }
        let (Some(source), Some(new_id), Some(at)) =
            (data.memo.get("source_id"), data.new_id, rotated_at(&data))
        else {
            continue;
        };
        out.insert(
            source.clone(),
            Successor {
                run: data.id.clone(),
                on: at
                    .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .date()
                    .to_string(),
                new_id,
            },
        );
    }
    out
}

/// When a run's one-shot call was done, if it was.
fn rotated_at(data: &JournalData) -> Option<jiff::Timestamp> {
    data.steps
        .iter()
        .find(|s| s.phase == Some(Phase::Rotate) && s.status == StepStatus::Done)
        .map(|s| s.at)
}

/// The later runs that rotated the token `run` made: same origin, their source the new token,
/// their one-shot call done.
pub fn rotated_again<'a>(
    all: &'a [super::history::Run],
    run: &JournalData,
) -> Vec<&'a JournalData> {
    let made = run
        .memo
        .get("source_id")
        .zip(run.new_id)
        .and_then(|(source, id)| new_identity(source, id));
    let Some(made) = made else {
        return Vec::new();
    };
    all.iter()
        .map(|(j, _)| j)
        .filter(|j| j.started_at > run.started_at && j.origin.is_some() && j.origin == run.origin)
        .filter(|j| j.memo.get("source_id") == Some(&made) && rotated_at(j).is_some())
        .collect()
}
