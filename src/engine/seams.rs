//! The two things the protocol works through, as traits: the actions (the vendor calls, and
//! what they learn) and the keeper (where a new token waits, the OS keyring). Production runs
//! use the executor and the keyring; the engine's own tests drive the protocol through fakes,
//! crashing it anywhere, without a vendor or a keyring.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use secrecy::SecretString;

use crate::actions::run::{ActionFailure, Executor, RunFacts, Verified};
use crate::actions::{Answer, Invocation};
use crate::secret::Redactor;
use crate::secret::stash::{self, StashError};

/// An action's future.
pub type ActionFuture<'a> =
    Pin<Box<dyn Future<Output = Result<String, ActionFailure>> + Send + 'a>>;

/// What carries out a run's actions and remembers what they learned.
pub trait Actions: Send + Sync + 'static {
    /// Carries out one action.
    fn run<'a>(&'a self, invocation: &'a Invocation) -> ActionFuture<'a>;
    /// Takes a value the walk captured (a pasted token).
    fn captured(&self, id: &str, value: &SecretString);
    /// Records a target that failed.
    fn target_failed(&self, index: usize, message: &str);
    /// Keeps the operator's answer to a question.
    fn answer(&self, key: &str, answer: Answer);
    /// Records whether the keeper took the new token.
    fn kept(&self, result: Result<(), String>);
    /// The source token as the vendor names it, once preflight has found it.
    fn source_identity(&self) -> Option<String>;
    /// What the run produced so far.
    fn facts(&self) -> RunFacts;
    /// The new token, once made (or given).
    fn new_token(&self) -> Option<SecretString>;
    /// What earlier steps learned that later ones need; no secret.
    fn memo(&self) -> BTreeMap<String, String>;
    /// Gives back what `memo` kept (`resume`).
    fn restore(&self, memo: &BTreeMap<String, String>);
    /// Parameter values that earlier steps learned, for the steps a run announces.
    fn learned(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
    /// Takes the token an earlier run kept (`resume`, `--from`).
    fn resumed_token(&self, token: SecretString, stashed: bool);
    /// Marks a target an earlier run applied (`resume`).
    fn resumed_target(&self, index: usize, verified: Option<Verified>);
    /// The run's id.
    fn rotation_id(&self) -> &str;
    /// The redactor of the run.
    fn redactor(&self) -> &Redactor;
}

impl Actions for Executor {
    fn run<'a>(&'a self, invocation: &'a Invocation) -> ActionFuture<'a> {
        Box::pin(Executor::run(self, invocation))
    }
    fn captured(&self, id: &str, value: &SecretString) {
        Executor::captured(self, id, value);
    }
    fn target_failed(&self, index: usize, message: &str) {
        Executor::target_failed(self, index, message);
    }
    fn answer(&self, key: &str, answer: Answer) {
        Executor::answer(self, key, answer);
    }
    fn kept(&self, result: Result<(), String>) {
        Executor::kept(self, result);
    }
    fn source_identity(&self) -> Option<String> {
        Executor::source_identity(self)
    }
    fn facts(&self) -> RunFacts {
        Executor::facts(self)
    }
    fn new_token(&self) -> Option<SecretString> {
        Executor::new_token(self)
    }
    fn memo(&self) -> BTreeMap<String, String> {
        Executor::memo(self)
    }
    fn restore(&self, memo: &BTreeMap<String, String>) {
        Executor::restore(self, memo);
    }
    fn learned(&self) -> BTreeMap<String, String> {
        Executor::learned(self)
    }
    fn resumed_token(&self, token: SecretString, stashed: bool) {
        Executor::resumed_token(self, token, stashed);
    }
    fn resumed_target(&self, index: usize, verified: Option<Verified>) {
        Executor::resumed_target(self, index, verified);
    }
    fn rotation_id(&self) -> &str {
        Executor::rotation_id(self)
    }
    fn redactor(&self) -> &Redactor {
        Executor::redactor(self)
    }
}

/// Where a new token waits until the rotation has finished.
pub trait Keeper: Send + Sync {
    /// Checks that it can keep a secret and give it back, before a rotation starts.
    fn probe(&self, run: &str) -> Result<(), StashError>;
    /// Keeps the new token of a run.
    fn put(&self, run: &str, token: &SecretString) -> Result<(), StashError>;
    /// The token kept for a run: `Ok(None)` when there is none, `Err` when it cannot tell.
    fn find(&self, run: &str) -> Result<Option<SecretString>, StashError>;
    /// Forgets the token of a finished run.
    fn remove(&self, run: &str) -> Result<(), StashError>;
}

/// The OS keyring (`secret::stash`).
pub struct Keyring;

impl Keeper for Keyring {
    fn probe(&self, run: &str) -> Result<(), StashError> {
        stash::probe(run)
    }
    fn put(&self, run: &str, token: &SecretString) -> Result<(), StashError> {
        stash::put(run, token)
    }
    fn find(&self, run: &str) -> Result<Option<SecretString>, StashError> {
        stash::find(run)
    }
    fn remove(&self, run: &str) -> Result<(), StashError> {
        stash::remove(run)
    }
}
