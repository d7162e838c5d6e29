//! GitLab project webhooks: the secret token is set by resending the same URL (a changed URL
//! wipes the token), and is never returned, so it cannot be read back.

use crate::actions::run::{ActionFailure, Executor, Verified};
use crate::actions::{Action, ActionSpec, Invocation, PROJECT, Phase, Service, path, secret_body};
use crate::clients::route;

/// The actions of this file, in registry order.
pub(crate) const SPECS: &[&ActionSpec] = &[&GET_WEBHOOK, &UPDATE_WEBHOOK_TOKEN];

/// `gitlab.get_webhook`.
pub(crate) const GET_WEBHOOK: ActionSpec = ActionSpec {
    action: Action::GitlabGetWebhook,
    name: "gitlab.get_webhook",
    summary: "read a project webhook's URL and settings (its token is never returned)",
    service: Service::GitLab,
    route: Some(&route::gitlab::HOOK),
    phase: Phase::Preflight,
    args: &[PROJECT, path("hook_id")],
    yields: None,
};

/// Carries out `gitlab.get_webhook`.
pub(crate) async fn get_webhook(ex: &Executor, step: &Invocation) -> Result<String, ActionFailure> {
    let project = ex.text(step, "project")?;
    let id = ex.number(step, "hook_id")?;
    let hook = ex.gitlab()?.hook(project, id).await?;
    if hook.url.trim().is_empty() {
        return Err(ActionFailure::new(format!(
            "webhook {id} has no URL to resend"
        )));
    }
    ex.lock().targets.entry(step.target_index).or_default().hook = Some(hook);
    Ok(format!(
        "webhook {id} found; its URL will be sent back unchanged"
    ))
}

/// `gitlab.update_webhook_token`.
pub(crate) const UPDATE_WEBHOOK_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabUpdateWebhookToken,
    name: "gitlab.update_webhook_token",
    summary: "set a project webhook's secret token, resending the same URL so that nothing else changes",
    service: Service::GitLab,
    route: Some(&route::gitlab::UPDATE_HOOK),
    phase: Phase::Apply,
    args: &[PROJECT, path("hook_id"), secret_body("token")],
    yields: None,
};

/// Carries out `gitlab.update_webhook_token`.
pub(crate) async fn update_webhook_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let project = ex.text(step, "project")?;
    let token = ex.secret(step, "token")?;
    let hook = ex
        .lock()
        .targets
        .get(&step.target_index)
        .and_then(|t| t.hook.clone())
        .ok_or_else(|| ActionFailure::new("the webhook was not read before the write"))?;
    let updated = ex
        .gitlab()?
        .update_hook_token(project, &hook, &token)
        .await?;
    if updated.url != hook.url {
        return Err(ActionFailure::new(
            "GitLab changed the webhook's URL: check its token",
        ));
    }
    ex.mark_applied(step.target_index, Some(Verified::NotReadable), None);
    Ok(
        "token set, URL and settings kept (GitLab never returns a webhook's token: not readable)"
            .into(),
    )
}
