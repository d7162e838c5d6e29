//! GitLab project and group webhooks: the secret token is set by resending the same URL (a
//! changed URL wipes the token), and is never returned, so it cannot be read back. Group
//! webhooks are a Premium feature: GitLab answers 404 (or 403) for a group without them, and
//! the error says so.

use crate::actions::run::{ActionFailure, Executor, Verified};
use crate::actions::{
    Action, ActionSpec, GROUP, Invocation, PROJECT, Phase, Service, path, secret_body,
};
use crate::clients::gitlab::Owner;
use crate::clients::http::ApiError;
use crate::clients::route;
use crate::model::Vendor;

/// The actions of this file, in registry order.
pub(crate) const SPECS: &[&ActionSpec] = &[
    &GET_WEBHOOK,
    &UPDATE_WEBHOOK_TOKEN,
    &GET_GROUP_WEBHOOK,
    &UPDATE_GROUP_WEBHOOK_TOKEN,
];

/// `gitlab.get_webhook`.
pub(crate) const GET_WEBHOOK: ActionSpec = ActionSpec {
    action: Action::GitlabGetWebhook,
    name: "gitlab.get_webhook",
    summary: "read a project webhook's URL and settings (its token is never returned)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::HOOK),
    phase: Phase::Preflight,
    args: &[PROJECT, path("hook_id")],
    yields: None,
};

/// `gitlab.get_group_webhook`.
pub(crate) const GET_GROUP_WEBHOOK: ActionSpec = ActionSpec {
    action: Action::GitlabGetGroupWebhook,
    name: "gitlab.get_group_webhook",
    summary: "read a group webhook's URL and settings (Premium; its token is never returned)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::GROUP_HOOK),
    phase: Phase::Preflight,
    args: &[GROUP, path("hook_id")],
    yields: None,
};

/// `gitlab.update_group_webhook_token`.
pub(crate) const UPDATE_GROUP_WEBHOOK_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabUpdateGroupWebhookToken,
    name: "gitlab.update_group_webhook_token",
    summary: "set a group webhook's secret token, resending the same URL so that nothing else changes",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::UPDATE_GROUP_HOOK),
    phase: Phase::Apply,
    args: &[GROUP, path("hook_id"), secret_body("token")],
    yields: None,
};

/// A failed call on a hook: for a group's, a 404 or 403 may be the tier, and says so.
fn hook_failure(owner: Owner<'_>, e: ApiError) -> ActionFailure {
    let status = e.status();
    let mut failure = ActionFailure::from(e);
    if let Owner::Group(group) = owner
        && matches!(
            status,
            Some(reqwest::StatusCode::NOT_FOUND | reqwest::StatusCode::FORBIDDEN)
        )
    {
        failure.message = format!(
            "{}; group webhooks are a GitLab Premium feature (and need the Owner role): check that group {group} has them and that the webhook id is one of its own",
            failure.message
        );
    }
    failure
}

/// Carries out `gitlab.get_webhook` and `gitlab.get_group_webhook`.
pub(crate) async fn get_webhook(ex: &Executor, step: &Invocation) -> Result<String, ActionFailure> {
    let owner = ex.owner(step)?;
    let id = ex.number(step, "hook_id")?;
    let hook = ex
        .gitlab()?
        .hook(owner, id)
        .await
        .map_err(|e| hook_failure(owner, e))?;
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
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::UPDATE_HOOK),
    phase: Phase::Apply,
    args: &[PROJECT, path("hook_id"), secret_body("token")],
    yields: None,
};

/// Carries out `gitlab.update_webhook_token` and `gitlab.update_group_webhook_token`.
pub(crate) async fn update_webhook_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let owner = ex.owner(step)?;
    let token = ex.secret(step, "token")?;
    let hook = ex
        .lock()
        .targets
        .get(&step.target_index)
        .and_then(|t| t.hook.clone())
        .ok_or_else(|| ActionFailure::new("the webhook was not read before the write"))?;
    let updated = ex
        .gitlab()?
        .update_hook_token(owner, &hook, &token)
        .await
        .map_err(|e| hook_failure(owner, e))?;
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
