//! A runbook's shape by its kind: a rotate runbook makes, keeps and hands over its token in
//! that order; an apply or checklist runbook does not rotate.

use std::ops::Range;

use super::{Result, Validator};
use crate::actions::{Action, Phase};
use crate::runbook::{RunbookKind, Step, StepKind};

impl Validator<'_> {
    pub(super) fn check_shape(
        &self,
        id: &str,
        kind: RunbookKind,
        steps: &[Step],
        span: Range<usize>,
    ) -> Result<()> {
        match kind {
            RunbookKind::Rotate => self.check_rotate_shape(id, steps, span),
            RunbookKind::Apply | RunbookKind::Checklist => {
                self.check_other_shape(id, kind, steps, span)
            }
        }
    }

    /// A rotate runbook sets the new token and has one `targets.apply` step, after any
    /// `targets.preflight`.
    pub(super) fn check_rotate_shape(
        &self,
        id: &str,
        steps: &[Step],
        span: Range<usize>,
    ) -> Result<()> {
        let sets_token = steps.iter().any(|s| match &s.kind {
            StepKind::Capture { id, .. } => id == "token",
            StepKind::Action { spec, .. } => spec.yields == Some("token"),
            _ => false,
        });
        if !sets_token {
            return self.err(
                span,
                format!("rotate runbook `{id}` never sets the new token"),
                Some("add a rotate/create action, or a capture step with id = \"token\"".into()),
            );
        }
        // The new token is kept in the keyring before anything else is done with it: a
        // `tokrot.stash` step right after the step that makes it says where it is, and keeps a
        // pasted one.
        let made = steps.iter().position(|s| match &s.kind {
            StepKind::Capture { id, .. } => id == "token",
            StepKind::Action { spec, .. } => spec.yields == Some("token"),
            _ => false,
        });
        let stash = action_position(steps, Action::TokrotStash);
        if !matches!((made, stash), (Some(m), Some(st)) if st > m) {
            return self.err(
                span,
                format!("rotate runbook `{id}` has no `tokrot.stash` step after the step that makes the new token"),
                Some("add a step with action = \"tokrot.stash\" and args = { token = \"{secret.token}\" } right after it".into()),
            );
        }
        if action_count(steps, Action::TargetsApply) != 1
            || action_count(steps, Action::TargetsPreflight) > 1
        {
            return self.err(
                span,
                format!("rotate runbook `{id}` needs exactly one `targets.apply` step (and at most one `targets.preflight`)"),
                Some("`targets.apply` is where the new token goes into the --apply-to targets".into()),
            );
        }
        if let (Some(pre), Some(apply)) = (
            action_position(steps, Action::TargetsPreflight),
            action_position(steps, Action::TargetsApply),
        ) && pre > apply
        {
            return self.err(
                span,
                "`targets.preflight` must come before `targets.apply`",
                None,
            );
        }
        Ok(())
    }

    /// An apply or checklist runbook has no `targets.*` step; an apply runbook captures the token.
    pub(super) fn check_other_shape(
        &self,
        id: &str,
        kind: RunbookKind,
        steps: &[Step],
        span: Range<usize>,
    ) -> Result<()> {
        if action_count(steps, Action::TargetsApply) + action_count(steps, Action::TargetsPreflight)
            > 0
        {
            return self.err(
                span,
                format!(
                    "`targets.*` steps belong in rotate runbooks only (`{id}` is {})",
                    kind.as_str()
                ),
                None,
            );
        }
        // A one-shot call makes a token only a rotation keeps safe (keyring, journal, locks).
        if let Some(spec) = steps.iter().find_map(|s| match &s.kind {
            StepKind::Action { spec, .. } if spec.phase == Phase::Rotate => Some(spec),
            _ => None,
        }) {
            return self.err(
                span,
                format!(
                    "`{}` makes a new token and belongs in a rotate runbook (`{id}` is {})",
                    spec.name,
                    kind.as_str()
                ),
                Some("only a rotation keeps a new token in the keyring and journals its one-shot call".into()),
            );
        }
        if kind == RunbookKind::Apply
            && !steps
                .iter()
                .any(|s| matches!(&s.kind, StepKind::Capture { id, .. } if id == "token"))
        {
            return self.err(
                span,
                format!("apply runbook `{id}` needs a capture step with id = \"token\""),
                Some("that step asks for the token when the runbook runs on its own; a rotation skips it and hands over its new token".into()),
            );
        }
        Ok(())
    }
}

/// Where the first step that carries out `action` is.
fn action_position(steps: &[Step], action: Action) -> Option<usize> {
    steps
        .iter()
        .position(|s| s.action().is_some_and(|a| a.action == action))
}

/// How many steps carry out `action`.
fn action_count(steps: &[Step], action: Action) -> usize {
    steps
        .iter()
        .filter(|s| s.action().is_some_and(|a| a.action == action))
        .count()
}
