//! tokrot's own protocol steps: the two that stand for the targets, and the stash, which
//! keeps the new token in the OS keyring from the moment it exists.

use crate::actions::run::{ActionFailure, Executor};
use crate::actions::{Action, ActionSpec, Invocation, Phase, Service, secret_body};
use crate::secret::stash;

/// The actions of this file, in registry order.
pub(crate) const SPECS: &[&ActionSpec] = &[&PREFLIGHT, &STASH, &APPLY];

/// `targets.preflight`.
pub(crate) const PREFLIGHT: ActionSpec = ActionSpec {
    action: Action::TargetsPreflight,
    name: super::TARGETS_PREFLIGHT,
    summary: "check every step.target_index (--apply-to) before anything changes",
    service: Service::Local,
    method: "",
    path: "",
    phase: Phase::Preflight,
    args: &[],
    yields: None,
};

/// `tokrot.stash`.
pub(crate) const STASH: ActionSpec = ActionSpec {
    action: Action::TokrotStash,
    name: "tokrot.stash",
    summary: "keep the new token in the OS keyring until the rotation has finished",
    service: Service::Local,
    method: "",
    path: "",
    phase: Phase::Stash,
    args: &[secret_body("token")],
    yields: None,
};

/// Carries out `tokrot.stash`.
pub(crate) async fn stash(ex: &Executor, step: &Invocation) -> Result<String, ActionFailure> {
    let token = ex.secret(step, "token")?;
    if ex.no_stash {
        return Ok("not stashed (--no-stash): the token is only in this process's memory".into());
    }
    match stash::put(&ex.rotation_id, &token) {
        Ok(()) => {
            ex.lock().facts.stashed = true;
            Ok(format!(
                "in the keyring as tokrot/pending:{}",
                ex.rotation_id
            ))
        }
        // The token exists only here now: the run goes on to put it into its
        // targets (the one way left to keep it), and says so loudly.
        Err(e) => {
            let why = ex.redactor.redact(&e.to_string());
            ex.lock().facts.stash_error = Some(why.clone());
            Ok(format!(
                "WARNING: NOT KEPT: the keyring refused the new token ({why}); it exists only in this process's memory until the targets have it"
            ))
        }
    }
}

/// `targets.apply`.
pub(crate) const APPLY: ActionSpec = ActionSpec {
    action: Action::TargetsApply,
    name: super::TARGETS_APPLY,
    summary: "write the new token into every step.target_index (--apply-to) and read it back where the API allows",
    service: Service::Local,
    method: "",
    path: "",
    phase: Phase::Apply,
    args: &[],
    yields: None,
};
