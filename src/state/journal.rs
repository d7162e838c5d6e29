//! The journal: one JSON file per rotation under `<state dir>/rotations/`, rewritten atomically
//! before and after each step, so that after any stop it says what was done, what was not, and
//! whether the rotate call's outcome is known. `resume` reads it back; `history` lists it.

use crate::model::{Phase, RunbookKind, Verified};
pub use crate::model::{Status, StepStatus, TargetStatus};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{StateError, io_err, write_atomic};
use crate::secret::Redactor;

/// One step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Its number in the plan.
    pub n: usize,
    /// Its title.
    pub title: String,
    /// Its action.
    #[serde(default)]
    pub action: Option<String>,
    /// Its protocol phase.
    #[serde(default)]
    pub phase: Option<Phase>,
    /// How it stands.
    pub status: StepStatus,
    /// When it last changed (RFC 3339).
    pub at: jiff::Timestamp,
    /// What happened (redacted).
    #[serde(default)]
    pub message: Option<String>,
}

/// One target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// The spec.
    pub spec: String,
    /// Where it stands.
    pub status: TargetStatus,
    /// Whether it was read back (`yes`, `no`, `not-readable` in the file).
    #[serde(default)]
    pub verified: Option<Verified>,
    /// Why it failed (redacted).
    #[serde(default)]
    pub error: Option<String>,
    /// The number of the step that failed, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<usize>,
    /// A host other than the token's origin this target may send it to (the inventory's
    /// `allow_host`), kept so that `resume` allows the same and no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_host: Option<String>,
}

/// A gate passed unattended with `--approve`: who, when, and the evidence given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// The gate's id.
    pub gate: String,
    /// The evidence (e.g. the access request's URL), as given.
    #[serde(default)]
    pub evidence: Option<String>,
    /// The OS user that ran tokrot with `--approve`.
    #[serde(default)]
    pub by: Option<String>,
    /// When the gate was passed (RFC 3339).
    pub at: jiff::Timestamp,
}

/// A run as the journal keeps it. No secret, no hash of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalData {
    /// The run id.
    pub id: String,
    /// The runbook.
    pub runbook: String,
    /// The runbook's kind: `rotate`, `apply` or `checklist`.
    #[serde(default = "rotate_kind")]
    pub kind: RunbookKind,
    /// The parameters it was given (none is ever a secret).
    pub params: Vec<(String, String)>,
    /// Its targets.
    pub targets: Vec<TargetRecord>,
    /// The instance, for Zendesk runbooks.
    #[serde(default)]
    pub instance: Option<String>,
    /// When it started (RFC 3339, to the nanosecond).
    pub started_at: jiff::Timestamp,
    /// When the journal last changed.
    pub updated_at: jiff::Timestamp,
    /// How it stands.
    pub status: Status,
    /// Its steps, as far as they went.
    pub steps: Vec<StepRecord>,
    /// The new token's id.
    #[serde(default)]
    pub new_id: Option<u64>,
    /// The new token's expiry.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Whether the new token is in the keyring (`tokrot/pending:<id>`).
    #[serde(default)]
    pub stashed: bool,
    /// Why the keyring did not keep the new token, when it did not.
    #[serde(default)]
    pub stash_error: Option<String>,
    /// Gates passed unattended.
    #[serde(default)]
    pub approvals: Vec<ApprovalRecord>,
    /// The OS user that ran it.
    #[serde(default)]
    pub operator: Option<String>,
    /// tokrot's own keyring credential, when the rotation replaces it (`--self`).
    #[serde(default)]
    pub self_account: Option<String>,
    /// `--keep`: the new token stays in the keyring when the rotation ends.
    #[serde(default)]
    pub keep: bool,
    /// The kept run whose token this run put into place (`apply --from ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The origin its source lives on (GitLab's URL, or the Zendesk instance's): a token's id
    /// means something only there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The inventory credential this run rotates (`rotate --credential`), so that its chain of
    /// ids (the source's old id in `params`, the new one in `new_id`) can be followed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// The inventory file that names `credential` (an absolute path when it was given as one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<String>,
    /// What earlier steps learned that later ones need (the old token's id, the scopes asked
    /// for): no secret. `resume` gives it back to the steps it has left.
    #[serde(default)]
    pub memo: std::collections::BTreeMap<String, String>,
}

fn rotate_kind() -> RunbookKind {
    RunbookKind::Rotate
}

impl JournalData {
    /// A step's record.
    pub fn step(&self, n: usize) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.n == n)
    }

    /// The source of the rotation, for `history`: the runbook and its id-like parameters.
    pub fn source(&self) -> String {
        let ids: Vec<String> = self
            .params
            .iter()
            .filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "token_id"
                        | "token_name"
                        | "project"
                        | "group"
                        | "trigger_id"
                        | "client_id"
                        | "instance"
                )
            })
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        ids.join(" ")
    }
}

/// The directory journals live in.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("rotations")
}

/// The journal of a running rotation.
pub struct Journal {
    path: PathBuf,
    data: Mutex<JournalData>,
    redactor: Redactor,
    /// Held from the snapshot to the file in place, so that writers land in the order they
    /// took their snapshots; the data itself is locked only while it is read or changed.
    saved: Mutex<std::time::Instant>,
}

/// How long a target's outcome may wait in memory before it is written: targets finish many at
/// a time, and one that is applied again after a crash gets the same value (a safe repeat).
const TARGET_FLUSH: std::time::Duration = std::time::Duration::from_millis(250);

/// Now, to the second, as a step's time is journaled (RFC 3339 in the file).
pub fn now() -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    now.round(jiff::Unit::Second).unwrap_or(now)
}

impl Journal {
    /// Starts a journal and writes it at once (which also proves the state dir is writable).
    pub fn create(
        state_dir: &Path,
        mut data: JournalData,
        redactor: Redactor,
    ) -> Result<Self, StateError> {
        // The state dir itself first: a link there would take the journal elsewhere.
        super::ensure_dir(state_dir)?;
        let path = dir(state_dir).join(format!("{}.json", data.id));
        // Precise: two runs started in one second are still told apart, and `resume` without
        // an id takes the latest.
        data.started_at = jiff::Timestamp::now();
        data.updated_at = data.started_at;
        let journal = Self {
            path,
            data: Mutex::new(data),
            redactor,
            saved: Mutex::new(std::time::Instant::now()),
        };
        journal.save()?;
        Ok(journal)
    }

    /// Continues an existing journal (resume).
    pub fn reopen(state_dir: &Path, data: JournalData, redactor: Redactor) -> Self {
        Self {
            path: dir(state_dir).join(format!("{}.json", data.id)),
            data: Mutex::new(data),
            redactor,
            saved: Mutex::new(std::time::Instant::now()),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A copy of what it holds.
    pub fn data(&self) -> JournalData {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, JournalData> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn save(&self) -> Result<(), StateError> {
        // Two writers (the walk and the signal listener, or targets side by side) land in the
        // order they took their snapshots, never an older one last; the data is not held
        // during the write, so targets that only change it do not wait for a disk.
        let mut saved = self.saved.lock().unwrap_or_else(|p| p.into_inner());
        let bytes = {
            let data = self.lock();
            serde_json::to_vec_pretty(&*data).map_err(|e| StateError::Corrupt {
                path: self.path.clone(),
                message: e.to_string(),
            })?
        };
        let text = self.redactor.redact(&String::from_utf8_lossy(&bytes));
        write_atomic(&self.path, text.as_bytes())?;
        *saved = std::time::Instant::now();
        Ok(())
    }

    /// Changes a target's record; written at once when the last write is older than 250 ms,
    /// else with the next write.
    pub fn update_target(&self, f: impl FnOnce(&mut JournalData)) -> Result<(), StateError> {
        {
            let mut data = self.lock();
            f(&mut data);
            data.updated_at = now();
        }
        // A write under way takes this change or the next one will: a target never waits for
        // another's disk write.
        let due = match self.saved.try_lock() {
            Ok(saved) => saved.elapsed() >= TARGET_FLUSH,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().elapsed() >= TARGET_FLUSH,
            Err(std::sync::TryLockError::WouldBlock) => false,
        };
        if due { self.save() } else { Ok(()) }
    }

    /// Changes the journal and writes it.
    pub fn update(&self, f: impl FnOnce(&mut JournalData)) -> Result<(), StateError> {
        {
            let mut data = self.lock();
            f(&mut data);
            data.updated_at = now();
        }
        self.save()
    }

    /// Records a step's state and, in the same write, whatever else `also` changes.
    pub fn record(
        &self,
        mut record: StepRecord,
        also: impl FnOnce(&mut JournalData),
    ) -> Result<(), StateError> {
        record.message = record.message.map(|m| self.redactor.redact(&m));
        record.at = now();
        self.update(|d| {
            match d.steps.iter_mut().find(|s| s.n == record.n) {
                Some(s) => *s = record,
                None => d.steps.push(record),
            }
            also(d);
        })
    }

    /// Records a step's state.
    pub fn step(
        &self,
        n: usize,
        title: &str,
        action: Option<&str>,
        phase: Option<Phase>,
        status: StepStatus,
        message: Option<&str>,
    ) -> Result<(), StateError> {
        let record = StepRecord {
            n,
            title: title.to_owned(),
            action: action.map(str::to_owned),
            phase,
            status,
            at: now(),
            message: message.map(str::to_owned),
        };
        self.record(record, |_| {})
    }
}

/// Checks that `id` has the form of a run id, `YYYYMMDDTHHMMSSZ-<runbook>-<6 hex digits>` (as
/// `tokrot history` lists them): an id names a journal in the state dir, never a path.
pub fn check_run_id(id: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "`{}` is not a run id; a run id looks like 20261128T093000Z-gitlab-pat-1a2b3c (`tokrot history` lists them)",
            id.escape_debug()
        )
    };
    let (stamp, rest) = id.split_at_checked(16).ok_or_else(bad)?;
    let stamp_ok = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", stamp).is_ok();
    let (runbook, hex) = rest
        .strip_prefix('-')
        .and_then(|r| r.rsplit_once('-'))
        .ok_or_else(bad)?;
    let hex_ok = hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit());
    if stamp_ok && hex_ok && crate::config::is_cli_id(runbook) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// Reads one journal.
pub fn load(state_dir: &Path, id: &str) -> Result<JournalData, StateError> {
    // An id names a file in the journal dir, never a path elsewhere.
    if check_run_id(id).is_err() {
        return Err(StateError::Unknown(id.to_owned()));
    }
    let path = dir(state_dir).join(format!("{id}.json"));
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(StateError::Unknown(id.to_owned()));
    }
    super::check_dir(state_dir)?;
    super::check_dir(&dir(state_dir))?;
    read(&path)
}

fn read(path: &Path) -> Result<JournalData, StateError> {
    use std::io::Read;
    let mut options = super::private_options();
    options.read(true);
    let mut text = String::new();
    super::open_private(path, &options)?
        .read_to_string(&mut text)
        .map_err(io_err(path))?;
    serde_json::from_str(&text).map_err(|e| StateError::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Every run in the journal, oldest first. A journal that cannot be read (cut short by a full
/// disk, edited by hand) does not hide the others: it is said (a warning) and passed over.
pub fn list(state_dir: &Path) -> Result<Vec<JournalData>, StateError> {
    let (runs, unread) = list_all(state_dir)?;
    for e in unread {
        tracing::warn!("a journal was passed over: {e}");
    }
    Ok(runs)
}

/// Every run in the journal, oldest first, and the journals that could not be read (for a
/// check that must not pass what it could not read).
pub fn list_all(state_dir: &Path) -> Result<(Vec<JournalData>, Vec<StateError>), StateError> {
    let d = dir(state_dir);
    if !d.exists() {
        return Ok((Vec::new(), Vec::new()));
    }
    super::check_dir(state_dir)?;
    super::check_dir(&d)?;
    let mut out = Vec::new();
    let mut unread = Vec::new();
    for entry in std::fs::read_dir(&d).map_err(io_err(&d))? {
        let entry = entry.map_err(io_err(&d))?;
        let path = entry.path();
        let plain = entry.file_type().is_ok_and(|t| t.is_file());
        if plain && path.extension().is_some_and(|e| e == "json") {
            match read(&path) {
                Ok(j) => out.push(j),
                Err(e) => unread.push(e),
            }
        }
    }
    out.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    Ok((out, unread))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(id: &str) -> JournalData {
        JournalData {
            id: id.into(),
            runbook: "gitlab-pat".into(),
            kind: RunbookKind::Rotate,
            stash_error: None,
            approvals: vec![],
            self_account: None,
            keep: false,
            credential: None,
            inventory: None,
            origin: None,
            from: None,
            memo: Default::default(),
            params: vec![("token_id".into(), "42".into())],
            targets: vec![],
            instance: None,
            started_at: now(),
            updated_at: now(),
            status: Status::Running,
            steps: vec![],
            new_id: None,
            expires_at: None,
            stashed: false,
            operator: None,
        }
    }

    #[test]
    fn a_journal_is_written_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let redactor = Redactor::default();
        redactor.register(&secrecy::SecretString::from("glpat-secret-value"));
        let id = "20261128T093000Z-gitlab-pat-1a2b3c";
        let j = Journal::create(&state, data(id), redactor).unwrap();
        j.step(
            5,
            "Rotate",
            Some("gitlab.rotate_personal_token"),
            Some(Phase::Rotate),
            StepStatus::Running,
            None,
        )
        .unwrap();
        j.step(
            5,
            "Rotate",
            Some("gitlab.rotate_personal_token"),
            Some(Phase::Rotate),
            StepStatus::Failed,
            Some("echo glpat-secret-value"),
        )
        .unwrap();
        let back = load(&state, id).unwrap();
        assert!(
            check_run_id("../x").is_err()
                && check_run_id("20261128T093000Z-gitlab-pat-1a2b3").is_err()
        );
        assert_eq!(back.steps.len(), 1);
        assert_eq!(back.steps[0].status, StepStatus::Failed);
        assert_eq!(back.steps[0].message.as_deref(), Some("echo [redacted]"));
        let text = std::fs::read_to_string(j.path()).unwrap();
        assert!(!text.contains("glpat-secret-value"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(j.path()), 0o600);
            assert_eq!(mode(&dir_of(&state)), 0o700);
            assert_eq!(mode(&state), 0o700);
        }
        assert_eq!(list(&state).unwrap().len(), 1);
        assert!(matches!(load(&state, "nope"), Err(StateError::Unknown(_))));
    }

    /// A journal as earlier versions wrote it (times as strings, one to the nanosecond and one
    /// to the second, statuses and phases as words) reads into the typed vocabulary, and is
    /// written back in the same words.
    #[test]
    fn a_journal_of_an_earlier_version_still_reads() {
        let text = r#"{
            "id": "gitlab-pat-20261205T120000Z-a1b2c3", "runbook": "gitlab-pat",
            "params": [["token_id", "42"]], "targets": [
                {"spec": "gitlab-ci-var:group/app:TOKEN", "status": "applied", "verified": "not-readable"}
            ],
            "started_at": "2026-12-05T12:00:00.123456789Z", "updated_at": "2026-12-05T12:00:09Z",
            "status": "incomplete",
            "steps": [{"n": 3, "title": "Rotate", "action": "gitlab.rotate_pat", "phase": "rotate",
                       "status": "done", "at": "2026-12-05T12:00:05Z"}],
            "approvals": [{"gate": "access-request", "by": "ops", "at": "2026-12-05T12:00:01Z"}]
        }"#;
        let d: JournalData = serde_json::from_str(text).unwrap();
        assert_eq!(d.kind, RunbookKind::Rotate);
        assert_eq!(d.status, Status::Incomplete);
        assert_eq!(d.targets[0].status, TargetStatus::Applied);
        assert_eq!(d.targets[0].verified, Some(Verified::NotReadable));
        assert_eq!(d.steps[0].phase, Some(Phase::Rotate));
        assert_eq!(d.steps[0].status, StepStatus::Done);
        let started: jiff::Timestamp = "2026-12-05T12:00:00.123456789Z".parse().unwrap();
        assert_eq!(d.started_at, started);
        assert!(d.started_at < d.steps[0].at && d.steps[0].at < d.updated_at);
        assert!(d.approvals[0].at < d.steps[0].at);
        let back = serde_json::to_value(&d).unwrap();
        assert_eq!(back["started_at"], "2026-12-05T12:00:00.123456789Z");
        assert_eq!(back["steps"][0]["at"], "2026-12-05T12:00:05Z");
        assert_eq!(back["status"], "incomplete");
        assert_eq!(back["targets"][0]["verified"], "not-readable");
    }

    fn dir_of(state: &Path) -> PathBuf {
        dir(state)
    }
}
