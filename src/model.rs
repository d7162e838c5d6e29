//! The protocol's vocabulary (vendors, runbook and step kinds, phases, verification, how a run, a step and a
//! target stand, how a step ended), below everything that uses it: the journal stores these
//! values as they are (their serde names are the strings older journals hold, so those still read),
//! the engine and the actions compare them, and nothing compares their names as strings.

use serde::{Deserialize, Serialize};

/// A vendor whose API tokrot calls: what a runbook works on, what `auth` logs in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// GitLab (gitlab.com or `--gitlab-url`).
    GitLab,
    /// A Zendesk instance.
    Zendesk,
}

impl Vendor {
    /// The word used in runbooks, commands and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::GitLab => "gitlab",
            Vendor::Zendesk => "zendesk",
        }
    }
}

/// A token (or what holds one) as its vendor names it, by the vendor's own id: what locks,
/// lineage and the journal key on. Written `gitlab-token:42`, the form the journal keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// A GitLab personal, project or group access token (`gitlab-token:ID`).
    GitLabToken(u64),
    /// A GitLab pipeline trigger (`gitlab-trigger:ID`).
    GitLabTrigger(u64),
    /// A Zendesk OAuth client, whose tokens are made anew (`zendesk-oauth-client:ID`).
    ZendeskOAuthClient(u64),
    /// A Zendesk webhook, whose signing secret is reset (`zendesk-webhook:ID`).
    ZendeskWebhook(String),
}

impl Identity {
    /// The token a one-shot call made in this one's place, where the vendor gives it an id of
    /// the same kind (a rotated GitLab token, a new trigger); `None` where it does not (an
    /// OAuth client and a webhook stay what they are).
    pub fn successor(&self, new_id: u64) -> Option<Identity> {
        match self {
            Identity::GitLabToken(_) => Some(Identity::GitLabToken(new_id)),
            Identity::GitLabTrigger(_) => Some(Identity::GitLabTrigger(new_id)),
            Identity::ZendeskOAuthClient(_) | Identity::ZendeskWebhook(_) => None,
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::GitLabToken(id) => write!(f, "gitlab-token:{id}"),
            Identity::GitLabTrigger(id) => write!(f, "gitlab-trigger:{id}"),
            Identity::ZendeskOAuthClient(id) => write!(f, "zendesk-oauth-client:{id}"),
            Identity::ZendeskWebhook(id) => write!(f, "zendesk-webhook:{id}"),
        }
    }
}

impl std::str::FromStr for Identity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is no token identity");
        let (kind, id) = s.split_once(':').ok_or_else(bad)?;
        let number = || id.parse::<u64>().map_err(|_| bad());
        match kind {
            "gitlab-token" => Ok(Identity::GitLabToken(number()?)),
            "gitlab-trigger" => Ok(Identity::GitLabTrigger(number()?)),
            "zendesk-oauth-client" => Ok(Identity::ZendeskOAuthClient(number()?)),
            "zendesk-webhook" if !id.is_empty() => Ok(Identity::ZendeskWebhook(id.to_owned())),
            _ => Err(bad()),
        }
    }
}

/// What kind of step a runbook's step is: done by the operator (`manual`), a yes/no that can
/// stop the run (`gate`), a hidden value asked for (`capture`), or a call tokrot makes
/// (`action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepType {
    /// Done by the operator, confirmed.
    Manual,
    /// A question whose no stops the run.
    Gate,
    /// A hidden value asked for.
    Capture,
    /// A call tokrot makes.
    Action,
}

impl StepType {
    /// The word runbooks, checklists and JSON use.
    pub fn as_str(self) -> &'static str {
        match self {
            StepType::Manual => "manual",
            StepType::Gate => "gate",
            StepType::Capture => "capture",
            StepType::Action => "action",
        }
    }
}

impl std::fmt::Display for StepType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a runbook does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunbookKind {
    /// Makes a new token (`tokrot rotate`).
    Rotate,
    /// Puts a token into one place (`tokrot apply`, or a `--apply-to` target).
    Apply,
    /// A procedure the operator carries out, walked step by step (`tokrot run`).
    Checklist,
}

impl RunbookKind {
    /// The word used in runbooks, `list` and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RunbookKind::Rotate => "rotate",
            RunbookKind::Apply => "apply",
            RunbookKind::Checklist => "checklist",
        }
    }
}

/// The phase of the rotation protocol an action belongs to (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Read-only checks before anything changes.
    Preflight,
    /// The one non-idempotent call that makes the new token.
    Rotate,
    /// Keeping the new token safe in the OS keyring.
    Stash,
    /// Writing the new token into a target.
    Apply,
    /// Checking that the new token and the targets work.
    Verify,
    /// Revoking or deleting the old token.
    Finish,
}

impl Phase {
    /// Lower-case name used in the checklist and the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Preflight => "preflight",
            Phase::Rotate => "rotate",
            Phase::Stash => "stash",
            Phase::Apply => "apply",
            Phase::Verify => "verify",
            Phase::Finish => "finish",
        }
    }
}

/// Whether a target holds the new value, as far as its API lets tokrot read it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verified {
    /// Read back and equal.
    Yes,
    /// Read back and different.
    No,
    /// The API never returns this value.
    NotReadable,
}

impl Verified {
    /// As a report counts it: "2 verified", "1 not readable back".
    pub fn counted(self) -> &'static str {
        match self {
            Verified::Yes => "verified",
            Verified::No => "not matching when read back",
            Verified::NotReadable => "not readable back",
        }
    }

    /// As in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Verified::Yes => "yes",
            Verified::No => "no",
            Verified::NotReadable => "not-readable",
        }
    }
}

/// How a rotation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Under way (or the process died).
    Running,
    /// Finished.
    Done,
    /// Rotated; some targets not updated: `resume` finishes.
    Incomplete,
    /// Failed.
    Failed,
    /// The rotate call's answer was lost.
    Unknown,
    /// Stopped by the operator, a gate or a signal after something had changed.
    Aborted,
    /// Stopped (by the operator, a gate or a signal) before anything was changed.
    Stopped,
    /// Rotated with `--keep`: the new token waits in the keyring for `apply --from ID`.
    Kept,
}

impl Status {
    /// As in `history` and the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Done => "done",
            Status::Incomplete => "incomplete",
            Status::Failed => "failed",
            Status::Unknown => "unknown",
            Status::Aborted => "aborted",
            Status::Stopped => "stopped",
            Status::Kept => "kept",
        }
    }
}

/// How a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    /// Started, not known to have finished (for a rotate call: written before the call).
    Running,
    /// Done.
    Done,
    /// Failed.
    Failed,
    /// The vendor may or may not have carried it out.
    Unknown,
    /// Not carried out.
    Skipped,
}

impl StepStatus {
    /// As in the journal, `history ID` and the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Running => "running",
            StepStatus::Done => "done",
            StepStatus::Failed => "failed",
            StepStatus::Unknown => "unknown",
            StepStatus::Skipped => "skipped",
        }
    }
}

/// Where a target stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetStatus {
    /// Not written yet.
    Pending,
    /// Holds the new value.
    Applied,
    /// The write failed.
    Failed,
}

impl TargetStatus {
    /// As in the journal, `history` and the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetStatus::Pending => "pending",
            TargetStatus::Applied => "applied",
            TargetStatus::Failed => "failed",
        }
    }
}

/// How a run stands as `history`, `status` and `resume` read it: its journal's status, except
/// that a run journaled as running whose process is gone was interrupted (or, if it died during
/// its one-shot call, its outcome is unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// Under way: its process holds its lock.
    Running,
    /// Its process died between steps.
    Interrupted,
    /// Finished.
    Done,
    /// Its new token waits in the keyring for `apply --from`.
    Kept,
    /// Rotated; some targets not updated.
    Incomplete,
    /// Failed.
    Failed,
    /// The one-shot call's outcome is not known.
    Unknown,
    /// Stopped after something had changed.
    Aborted,
    /// Stopped before anything was changed.
    Stopped,
}

impl Standing {
    /// Every standing, in the order `history --status` lists them.
    pub const ALL: [Standing; 9] = [
        Standing::Running,
        Standing::Interrupted,
        Standing::Done,
        Standing::Kept,
        Standing::Incomplete,
        Standing::Failed,
        Standing::Unknown,
        Standing::Aborted,
        Standing::Stopped,
    ];

    /// As `history`, `status` and the JSON documents say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Running => "running",
            Standing::Interrupted => "interrupted",
            Standing::Done => "done",
            Standing::Kept => "kept",
            Standing::Incomplete => "incomplete",
            Standing::Failed => "failed",
            Standing::Unknown => "unknown",
            Standing::Aborted => "aborted",
            Standing::Stopped => "stopped",
        }
    }
}

impl From<Status> for Standing {
    fn from(s: Status) -> Self {
        match s {
            Status::Running => Standing::Running,
            Status::Done => Standing::Done,
            Status::Incomplete => Standing::Incomplete,
            Status::Failed => Standing::Failed,
            Status::Unknown => Standing::Unknown,
            Status::Aborted => Standing::Aborted,
            Status::Stopped => Standing::Stopped,
            Status::Kept => Standing::Kept,
        }
    }
}

impl std::fmt::Display for Standing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one step of a run ended, as a report tells it: from the journal, and for the step a run
/// stopped at, from the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepResult {
    /// Carried out.
    Done,
    /// Not carried out, with a reason.
    Skipped,
    /// Failed.
    Failed,
    /// Started, not known to have finished: the vendor may or may not have carried it out.
    Unknown,
    /// Where a gate or the operator stopped the run.
    Stopped,
    /// Never reached.
    NotRun,
}

impl StepResult {
    /// As in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            StepResult::Done => "done",
            StepResult::Skipped => "skipped",
            StepResult::Failed => "failed",
            StepResult::Unknown => "unknown",
            StepResult::Stopped => "stopped",
            StepResult::NotRun => "not-run",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUSES: [Status; 8] = [
        Status::Running,
        Status::Done,
        Status::Incomplete,
        Status::Failed,
        Status::Unknown,
        Status::Aborted,
        Status::Stopped,
        Status::Kept,
    ];

    #[test]
    fn an_identity_reads_back_as_written_and_only_rotated_kinds_have_a_successor() {
        for i in [
            Identity::GitLabToken(42),
            Identity::GitLabTrigger(7),
            Identity::ZendeskOAuthClient(223443),
            Identity::ZendeskWebhook("01GH5".into()),
        ] {
            assert_eq!(i.to_string().parse::<Identity>(), Ok(i.clone()));
        }
        assert_eq!(
            Identity::GitLabToken(42).successor(43),
            Some(Identity::GitLabToken(43))
        );
        assert_eq!(
            Identity::GitLabTrigger(7)
                .successor(8)
                .map(|i| i.to_string()),
            Some("gitlab-trigger:8".to_owned())
        );
        assert_eq!(Identity::ZendeskOAuthClient(1).successor(2), None);
        for bad in [
            "gitlab-token",
            "gitlab-token:x",
            "zendesk-webhook:",
            "other:1",
        ] {
            assert!(bad.parse::<Identity>().is_err(), "{bad}");
        }
    }

    /// `history --status` offers `Standing::ALL`: every standing is in it, and every journal
    /// status stands as itself.
    #[test]
    fn every_standing_is_listed_and_every_journal_status_stands_as_itself() {
        // A new standing fails to build here until it has a place, and then this test until
        // `ALL` lists it in that place.
        let place = |s: Standing| match s {
            Standing::Running => 0,
            Standing::Interrupted => 1,
            Standing::Done => 2,
            Standing::Kept => 3,
            Standing::Incomplete => 4,
            Standing::Failed => 5,
            Standing::Unknown => 6,
            Standing::Aborted => 7,
            Standing::Stopped => 8,
        };
        let places: Vec<usize> = Standing::ALL.iter().map(|s| place(*s)).collect();
        assert_eq!(places, (0..=8).collect::<Vec<_>>());
        for s in Standing::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in STATUSES {
            // A journal status stands as itself.
            assert_eq!(Standing::from(s).as_str(), s.as_str());
        }
    }

    #[test]
    fn the_serde_names_are_the_strings_journals_hold() {
        for p in [
            Phase::Preflight,
            Phase::Rotate,
            Phase::Stash,
            Phase::Apply,
            Phase::Verify,
            Phase::Finish,
        ] {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
            let back: Phase = serde_json::from_value(p.as_str().into()).unwrap();
            assert_eq!(back, p);
        }
        for k in [
            RunbookKind::Rotate,
            RunbookKind::Apply,
            RunbookKind::Checklist,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in STATUSES {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in [
            StepStatus::Running,
            StepStatus::Done,
            StepStatus::Failed,
            StepStatus::Unknown,
            StepStatus::Skipped,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for t in [
            TargetStatus::Pending,
            TargetStatus::Applied,
            TargetStatus::Failed,
        ] {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for r in [
            StepResult::Done,
            StepResult::Skipped,
            StepResult::Failed,
            StepResult::Unknown,
            StepResult::Stopped,
            StepResult::NotRun,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for t in [
            StepType::Manual,
            StepType::Gate,
            StepType::Capture,
            StepType::Action,
        ] {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for v in [Vendor::GitLab, Vendor::Zendesk] {
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
        for v in [Verified::Yes, Verified::No, Verified::NotReadable] {
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
            let back: Verified = serde_json::from_value(v.as_str().into()).unwrap();
            assert_eq!(back, v);
        }
    }
}
