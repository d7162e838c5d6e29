//! The protocol driven by itself: fake actions over a fake vendor, an in-memory keeper, the real
//! journal in a temporary state dir, and a crash anywhere. A crash is a panic at one of the
//! fake's points (before a call reaches the vendor, after the vendor carried it out but before
//! the answer is back, before and after the token is kept): the thread of the run dies with
//! everything in memory, and only what a dead process leaves stays (the journal on disk, the
//! keeper, the vendor). Then the operator resumes, as often as it takes.
//!
//! Whatever the crash and whichever targets fail, a rotation ends with exactly one rotate call
//! and every target holding the token, or with "outcome unknown" reported and the call never
//! made again.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use secrecy::SecretString;

use super::plan::{Mode, Plan, resolve};
use super::prompt::Unattended;
use super::protocol::{self, Request, Session};
use super::resume::{self, ResumeError};
use super::seams::{ActionFuture, Actions, Keeper};
use super::walk::{Outcome, WalkError, WalkOptions};
use crate::actions::run::{ActionFailure, RunFacts, Verified};
use crate::actions::{Action, Answer, Invocation, Phase, registry};
use crate::config::Config;
use crate::engine::report::{Reporter, Silent};
use crate::inventory::target::TargetSpec;
use crate::runbook::Catalogue;
use crate::secret::Redactor;
use crate::secret::stash::StashError;
use crate::state::journal::Status;

/// What a crash panics with, so that the panic hook can keep quiet about it.
struct Crash;

/// The vendor: what it has done, whatever became of the processes that asked.
#[derive(Default)]
struct Vendor {
    rotate_calls: usize,
    issued: Option<SecretString>,
    /// The value each target holds.
    targets: HashMap<usize, SecretString>,
    /// How many more writes each target refuses.
    refusals: HashMap<usize, usize>,
}

/// A keyring in memory: it outlives the runs, as the OS keyring outlives a process.
#[derive(Default)]
struct Memory(Mutex<HashMap<String, SecretString>>);

impl Keeper for Memory {
    fn probe(&self, _run: &str) -> Result<(), StashError> {
        Ok(())
    }
    fn put(&self, run: &str, token: &SecretString) -> Result<(), StashError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(run.to_owned(), token.clone());
        Ok(())
    }
    fn find(&self, run: &str) -> Result<Option<SecretString>, StashError> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(run)
            .cloned())
    }
    fn remove(&self, run: &str) -> Result<(), StashError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(run);
        Ok(())
    }
}

#[derive(Default)]
struct State {
    token: Option<SecretString>,
    facts: RunFacts,
}

/// Actions over the fake vendor. `crash_at` counts the fake's points across the run.
struct Fake {
    id: String,
    vendor: Arc<Mutex<Vendor>>,
    state: Mutex<State>,
    points: AtomicUsize,
    crash_at: Option<usize>,
    redactor: Redactor,
}

impl Fake {
    fn new(id: &str, vendor: &Arc<Mutex<Vendor>>, crash_at: Option<usize>) -> Self {
        Self {
            id: id.to_owned(),
            vendor: vendor.clone(),
            state: Mutex::default(),
            points: AtomicUsize::new(0),
            crash_at,
            redactor: Redactor::default(),
        }
    }

    /// One point where the process may die.
    fn point(&self) {
        let n = self.points.fetch_add(1, Ordering::SeqCst);
        if Some(n) == self.crash_at {
            std::panic::panic_any(Crash);
        }
    }

    fn vendor(&self) -> std::sync::MutexGuard<'_, Vendor> {
        self.vendor.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn call(&self, invocation: &Invocation) -> Result<String, ActionFailure> {
        let phase = registry()
            .find(|s| s.action == invocation.action)
            .map(|s| s.phase);
        match (invocation.action, phase) {
            (Action::GitlabRotatePersonalToken, _) => {
                let mut v = self.vendor();
                v.rotate_calls += 1;
                let token = SecretString::from(format!("glpat-new-{}", v.rotate_calls));
                v.issued = Some(token.clone());
                drop(v);
                self.point(); // carried out, the answer not back yet
                let mut st = self.state();
                st.token = Some(token);
                st.facts.new_id = Some(43);
                Ok("rotated".into())
            }
            (Action::GitlabUpdateProjectVariable, _) => {
                let target = invocation.target_index.unwrap_or_default();
                let token = self
                    .state()
                    .token
                    .clone()
                    .ok_or_else(|| ActionFailure::new("no token"))?;
                let mut v = self.vendor();
                let refusals = v.refusals.entry(target).or_default();
                if *refusals > 0 {
                    *refusals -= 1;
                    return Err(ActionFailure::new("403 Forbidden"));
                }
                v.targets.insert(target, token);
                drop(v);
                self.point();
                self.state()
                    .facts
                    .targets
                    .entry(target)
                    .or_default()
                    .applied = true;
                Ok("written".into())
            }
            (Action::GitlabVerifyProjectVariable, _) => {
                let target = invocation.target_index.unwrap_or_default();
                let mut st = self.state();
                st.facts.targets.entry(target).or_default().verified = Some(Verified::Yes);
                Ok("read back".into())
            }
            (_, Some(Phase::Preflight | Phase::Verify | Phase::Stash)) => Ok("checked".into()),
            (other, _) => Err(ActionFailure::new(format!("unexpected {other:?}"))),
        }
    }
}

impl Actions for Fake {
    fn run<'a>(&'a self, invocation: &'a Invocation) -> ActionFuture<'a> {
        Box::pin(async move {
            self.point(); // before the call leaves
            self.call(invocation)
        })
    }
    fn captured(&self, _id: &str, _value: &SecretString) {}
    fn target_failed(&self, index: usize, message: &str) {
        self.state().facts.targets.entry(index).or_default().error = Some(message.to_owned());
    }
    fn answer(&self, _key: &str, _answer: Answer) {}
    fn kept(&self, result: Result<(), String>) {
        self.point(); // kept, not yet recorded
        match result {
            Ok(()) => self.state().facts.stashed = true,
            Err(why) => self.state().facts.stash_error = Some(why),
        }
    }
    fn source_identity(&self) -> Option<String> {
        Some("gitlab-token:42".into())
    }
    fn facts(&self) -> RunFacts {
        self.state().facts.clone()
    }
    fn new_token(&self) -> Option<SecretString> {
        self.state().token.clone()
    }
    fn memo(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
    fn restore(&self, _memo: &BTreeMap<String, String>) {}
    fn resumed_token(&self, token: SecretString, stashed: bool) {
        let mut st = self.state();
        st.token = Some(token);
        st.facts.stashed = stashed;
    }
    fn resumed_target(&self, index: usize, verified: Option<Verified>) {
        let mut st = self.state();
        let t = st.facts.targets.entry(index).or_default();
        t.applied = true;
        t.verified = verified;
    }
    fn rotation_id(&self) -> &str {
        &self.id
    }
    fn redactor(&self) -> &Redactor {
        &self.redactor
    }
}

fn plan(targets: usize) -> Plan {
    let catalogue = Catalogue::embedded().unwrap_or_else(|e| panic!("{e}"));
    let runbook = catalogue
        .get("gitlab-pat")
        .unwrap_or_else(|| panic!("gitlab-pat"));
    let specs: Vec<TargetSpec> = (0..targets)
        .map(|i| {
            format!("gitlab-ci-var:grp/proj:K_{i}")
                .parse()
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let given = [("token_id".to_owned(), "42".to_owned())];
    resolve(
        runbook,
        &given,
        &specs,
        Mode::Resolve,
        &Config::built_in(),
        &catalogue,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn session<'u>(state_dir: &Path, told: &'u mut Silent, keeper: &Arc<Memory>) -> Session<'u> {
    Session {
        state_dir: state_dir.to_path_buf(),
        redactor: told.redactor().clone(),
        reporter: told,
        prompter: Box::new(Unattended),
        clients: Default::default(),
        policy: Default::default(),
        options: WalkOptions::default(),
        unattended: true,
        keeper: keeper.clone(),
        signals: false,
    }
}

/// How one process's run ended: its status, or a crash.
#[derive(Debug, PartialEq)]
enum Ended {
    Status(Status),
    Crashed,
    Unknown,
    NothingMade,
}

/// One process: a fresh rotation (no `resume_of`) or a resume, on its own thread and runtime,
/// dying where the fake says.
fn process(
    state_dir: &Path,
    targets: usize,
    vendor: &Arc<Mutex<Vendor>>,
    keeper: &Arc<Memory>,
    crash_at: Option<usize>,
    resume_of: Option<String>,
) -> Ended {
    let (state_dir, vendor, keeper) = (state_dir.to_path_buf(), vendor.clone(), keeper.clone());
    let joined = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        rt.block_on(async move {
            let plan = plan(targets);
            let mut told = Silent::default();
            let session = session(&state_dir, &mut told, &keeper);
            match resume_of {
                None => {
                    let req = Request {
                        plan: plan.clone(),
                        params: vec![("token_id".into(), "42".into())],
                        token: None,
                        from: None,
                        keep: false,
                        no_stash: false,
                        self_credential: None,
                        credential: None,
                        inventory: None,
                        allow_hosts: Default::default(),
                    };
                    let make = |id: &str| Fake::new(id, &vendor, crash_at);
                    let finished = protocol::start(session, req, make)
                        .await
                        .unwrap_or_else(|e| panic!("{e}"));
                    ended(finished.status, &finished.result)
                }
                Some(id) => {
                    let data =
                        resume::find(&state_dir, Some(&id)).unwrap_or_else(|e| panic!("{e}"));
                    match resume::reopen(&state_dir, data, &plan, "test", keeper.as_ref()) {
                        Ok(reopened) => {
                            let fake = Fake::new(&id, &vendor, crash_at);
                            let finished = resume::resume_with(session, &plan, reopened, fake)
                                .await
                                .unwrap_or_else(|e| panic!("{e}"));
                            ended(finished.status, &finished.result)
                        }
                        Err(ResumeError::Unknown { .. }) => Ended::Unknown,
                        Err(ResumeError::NeverMade { .. }) => Ended::NothingMade,
                        Err(ResumeError::Finished { .. }) => Ended::Status(Status::Done),
                        Err(e) => panic!("resume refused: {e}"),
                    }
                }
            }
        })
    })
    .join();
    joined.unwrap_or(Ended::Crashed)
}

fn ended(status: Status, result: &Result<Outcome, WalkError>) -> Ended {
    match result {
        Err(WalkError::Unknown { .. }) => Ended::Unknown,
        _ => Ended::Status(status),
    }
}

/// The journal's run id (one rotation per state dir until it is given up).
fn latest_id(state_dir: &Path) -> Option<String> {
    crate::state::journal::list(state_dir)
        .ok()?
        .into_iter()
        .last()
        .map(|j| j.id)
}

fn quiet_crashes() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<Crash>().is_none() {
                default(info);
            }
        }));
    });
}

/// A rotation crashed at `crash_at` with targets refusing writes `refusals` times each, then
/// resumed until it ends; returns how it ended and the vendor.
fn crash_and_resume(
    targets: usize,
    refusals: &[usize],
    crash_at: Option<usize>,
) -> (Ended, Vendor) {
    quiet_crashes();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vendor = Arc::new(Mutex::new(Vendor::default()));
    vendor.lock().unwrap_or_else(|p| p.into_inner()).refusals =
        refusals.iter().copied().enumerate().collect();
    let keeper = Arc::new(Memory::default());
    let mut end = process(dir.path(), targets, &vendor, &keeper, crash_at, None);
    for _ in 0..8 {
        end = match end {
            Ended::Status(Status::Done) | Ended::Unknown => break,
            // Nothing was sent: the operator rotates again, as resume says.
            Ended::NothingMade => process(dir.path(), targets, &vendor, &keeper, None, None),
            _ => {
                let id = latest_id(dir.path()).unwrap_or_else(|| panic!("no journal"));
                process(dir.path(), targets, &vendor, &keeper, None, Some(id))
            }
        };
    }
    let vendor = std::mem::take(&mut *vendor.lock().unwrap_or_else(|p| p.into_inner()));
    (end, vendor)
}

fn holds_everywhere(vendor: &Vendor, targets: usize) -> bool {
    let Some(issued) = &vendor.issued else {
        return false;
    };
    (0..targets).all(|t| {
        vendor
            .targets
            .get(&t)
            .is_some_and(|held| crate::secret::same(held, issued))
    })
}

#[test]
fn a_rotation_without_a_crash_or_a_failure_is_done_with_one_call() {
    let (end, vendor) = crash_and_resume(3, &[], None);
    assert_eq!(end, Ended::Status(Status::Done));
    assert_eq!(vendor.rotate_calls, 1);
    assert!(holds_everywhere(&vendor, 3));
}

#[test]
fn a_crash_after_the_vendor_rotated_but_before_the_token_was_kept_is_outcome_unknown() {
    // Points: preflight calls (1 + 1 + targets), then the rotate call: before it leaves, then
    // after the vendor carried it out.
    let targets = 2;
    let before_rotate = 1 + 1 + targets;
    let (end, vendor) = crash_and_resume(targets, &[], Some(before_rotate + 1));
    assert_eq!(end, Ended::Unknown);
    assert_eq!(vendor.rotate_calls, 1, "never made again");
}

#[test]
fn a_crash_just_after_the_token_was_kept_is_finished_by_resume() {
    let targets = 2;
    let kept = 1 + 1 + targets + 2; // the token is in the keeper, not yet recorded
    let (end, vendor) = crash_and_resume(targets, &[], Some(kept));
    assert_eq!(end, Ended::Status(Status::Done));
    assert_eq!(vendor.rotate_calls, 1);
    assert!(holds_everywhere(&vendor, targets));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_crash_and_failure_pattern_ends_with_one_rotate_call_and_every_target_or_unknown(
        targets in 1usize..=3,
        refusals in proptest::collection::vec(0usize..=2, 3),
        crash_at in proptest::option::of(0usize..20),
    ) {
        let (end, vendor) = crash_and_resume(targets, &refusals[..targets], crash_at);
        prop_assert!(vendor.rotate_calls <= 1, "rotate called {} times", vendor.rotate_calls);
        match end {
            Ended::Status(Status::Done) => {
                prop_assert_eq!(vendor.rotate_calls, 1);
                prop_assert!(holds_everywhere(&vendor, targets), "targets: {:?}", vendor.targets);
            }
            // The call may or may not have left before the crash: never made again.
            Ended::Unknown => prop_assert!(vendor.rotate_calls <= 1),
            other => prop_assert!(false, "ended {:?} after resuming", other),
        }
    }
}

/// Answers confirmations from a script; an empty script is Ctrl-C.
struct Script(Vec<bool>);

impl super::prompt::Prompter for Script {
    fn confirm(&mut self, _prompt: &str) -> Result<bool, super::prompt::PromptError> {
        self.0.pop().ok_or(super::prompt::PromptError::Interrupted)
    }
    fn gate(&mut self, prompt: &str) -> Result<bool, super::prompt::PromptError> {
        self.confirm(prompt)
    }
    fn secret(&mut self, _prompt: &str) -> Result<SecretString, super::prompt::PromptError> {
        Err(super::prompt::PromptError::Interrupted)
    }
    fn text(
        &mut self,
        _prompt: &str,
        _validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, super::prompt::PromptError> {
        Err(super::prompt::PromptError::Interrupted)
    }
    fn select(
        &mut self,
        _prompt: &str,
        _items: &[String],
    ) -> Result<usize, super::prompt::PromptError> {
        Err(super::prompt::PromptError::Interrupted)
    }
    fn optional_text(
        &mut self,
        _prompt: &str,
        _validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, super::prompt::PromptError> {
        Ok(None)
    }
}

/// A rotation on a terminal whose operator answers from `script`.
fn on_a_terminal(script: Vec<bool>) -> (protocol::Finished, Vendor) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vendor = Arc::new(Mutex::new(Vendor::default()));
    let keeper = Arc::new(Memory::default());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let finished = rt.block_on(async {
        let mut told = Silent::default();
        let mut session = session(dir.path(), &mut told, &keeper);
        session.prompter = Box::new(Script(script));
        session.unattended = false;
        let req = Request {
            plan: plan(1),
            params: vec![("token_id".into(), "42".into())],
            token: None,
            from: None,
            keep: false,
            no_stash: false,
            self_credential: None,
            credential: None,
            inventory: None,
            allow_hosts: Default::default(),
        };
        protocol::start(session, req, |id| Fake::new(id, &vendor, None))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    });
    let vendor = std::mem::take(&mut *vendor.lock().unwrap_or_else(|p| p.into_inner()));
    (finished, vendor)
}

#[test]
fn a_no_at_the_first_confirmation_sends_nothing_and_is_journaled_stopped() {
    let (finished, vendor) = on_a_terminal(vec![false]);
    assert_eq!(finished.status, Status::Stopped);
    assert!(matches!(finished.result, Ok(Outcome::Stopped(_))));
    assert_eq!(vendor.rotate_calls, 0);
}

#[test]
fn an_interrupted_confirmation_sends_nothing_and_is_journaled_stopped() {
    let (finished, vendor) = on_a_terminal(Vec::new());
    assert_eq!(finished.status, Status::Stopped);
    assert!(matches!(finished.result, Err(WalkError::Prompt { .. })));
    assert_eq!(vendor.rotate_calls, 0);
}

#[test]
fn a_yes_on_a_terminal_rotates_once_and_puts_the_token_everywhere() {
    let (finished, vendor) = on_a_terminal(vec![true]);
    assert_eq!(finished.status, Status::Done);
    assert_eq!(vendor.rotate_calls, 1);
    assert!(holds_everywhere(&vendor, 1));
}
