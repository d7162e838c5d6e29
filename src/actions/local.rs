//! tokrot's own protocol steps: the two that stand for the targets, and the stash, which
//! keeps the new token in the OS keyring from the moment it exists.

use crate::actions::run::{ActionFailure, Executor};
use crate::actions::{Action, ActionSpec, Invocation, Phase, Service, secret_body};

/// The actions of this file, in registry order.
pub(crate) const SPECS: &[&ActionSpec] = &[&PREFLIGHT, &STASH, &APPLY];

/// `targets.preflight`.
pub(crate) const PREFLIGHT: ActionSpec = ActionSpec {
    action: Action::TargetsPreflight,
    name: super::TARGETS_PREFLIGHT,
    summary: "check every target (--apply-to) before anything changes",
    service: Service::Local,
    route: None,
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
    route: None,
    phase: Phase::Stash,
    args: &[secret_body("token")],
    yields: None,
};

/// Carries out `tokrot.stash`: the protocol has already kept the token the moment the
/// one-shot call answered, or as this step starts (a pasted token): this step says where it is.
pub(crate) async fn stash(ex: &Executor, step: &Invocation) -> Result<String, ActionFailure> {
    ex.secret(step, "token")?;
    Ok(ex.where_kept())
}

/// `targets.apply`.
pub(crate) const APPLY: ActionSpec = ActionSpec {
    action: Action::TargetsApply,
    name: super::TARGETS_APPLY,
    summary: "write the new token into every target (--apply-to) and read it back where the API allows",
    service: Service::Local,
    route: None,
    phase: Phase::Apply,
    args: &[],
    yields: None,
};
