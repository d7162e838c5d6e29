//! GitLab pipeline triggers: read the old one, create the new one (one-shot; a lost answer is
//! recovered by the description just sent), delete the old one last.

use crate::actions::run::{ActionFailure, Executor};
use crate::actions::{
    Action, ActionSpec, Invocation, PROJECT, Phase, Service, body, credential, path,
};
use crate::clients::gitlab::GitLab;
use crate::clients::http::ApiError;
use crate::clients::route;
use crate::model::Identity;
use crate::model::Vendor;

/// The actions of this file, in registry order.
pub(crate) const SPECS: &[&ActionSpec] = &[
    &GET_TRIGGER,
    &CREATE_TRIGGER,
    &CREATE_TRIGGER_AS,
    &DELETE_TRIGGER,
    &REVOKE_PREVIOUS_BOT,
];

/// `gitlab.get_trigger`.
pub(crate) const GET_TRIGGER: ActionSpec = ActionSpec {
    action: Action::GitlabGetTrigger,
    name: "gitlab.get_trigger",
    summary: "check that the pipeline trigger exists",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::TRIGGER),
    phase: Phase::Preflight,
    args: &[PROJECT, path("trigger_id")],
    yields: None,
};

/// Carries out `gitlab.get_trigger`.
pub(crate) async fn get_trigger(ex: &Executor, step: &Invocation) -> Result<String, ActionFailure> {
    let project = ex.text(step, "project")?;
    let id = ex.number(step, "trigger_id")?;
    let trigger = ex.gitlab()?.trigger(project, id).await?;
    let note = format!("trigger {} \"{}\"", trigger.id, trigger.description);
    let mut st = ex.lock();
    st.old_trigger_description = Some(trigger.description);
    st.old_trigger_id = Some(trigger.id);
    st.old_trigger_owner = trigger.owner_id;
    st.source_id = Some(Identity::GitLabTrigger(trigger.id).to_string());
    Ok(note)
}

/// `gitlab.create_trigger`.
pub(crate) const CREATE_TRIGGER: ActionSpec = ActionSpec {
    action: Action::GitlabCreateTrigger,
    name: "gitlab.create_trigger",
    summary: "create a pipeline trigger token with a description (never retried)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::CREATE_TRIGGER),
    phase: Phase::Rotate,
    args: &[PROJECT, body("description", true)],
    yields: Some("token"),
};

/// Carries out `gitlab.create_trigger` and `gitlab.create_trigger_as`.
pub(crate) async fn create_trigger(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let project = ex.text(step, "project")?;
    let description = match step.text_arg("description") {
        Some(d) => d.to_owned(),
        None => ex.lock().old_trigger_description.clone().ok_or_else(|| {
            ActionFailure::new("no description for the new trigger: give --for or --description")
        })?,
    };
    let client = match step.action {
        Action::GitlabCreateTriggerAs => ex.gitlab()?.with_token(ex.secret(step, "as")?),
        _ => ex.gitlab()?,
    };
    let new = match client.create_trigger(project, &description).await {
        Ok(new) => new,
        Err(e) if e.outcome_unknown() => {
            return recover_trigger(ex, &client, project, &description, e).await;
        }
        Err(e) => return Err(e.into()),
    };
    let note = format!("new trigger id {} \"{description}\"", new.id);
    ex.remember_new(
        new.id,
        new.token,
        None,
        "token",
        &format!("delete trigger {} and run again", new.id),
    )?;
    Ok(note)
}

/// `gitlab.create_trigger_as`.
pub(crate) const CREATE_TRIGGER_AS: ActionSpec = ActionSpec {
    action: Action::GitlabCreateTriggerAs,
    name: "gitlab.create_trigger_as",
    summary: "create a pipeline trigger token with another token as the credential (never retried)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::CREATE_TRIGGER),
    phase: Phase::Rotate,
    args: &[PROJECT, body("description", true), credential("as")],
    yields: Some("token"),
};

/// `gitlab.delete_trigger`.
pub(crate) const DELETE_TRIGGER: ActionSpec = ActionSpec {
    action: Action::GitlabDeleteTrigger,
    name: "gitlab.delete_trigger",
    summary: "delete the old pipeline trigger",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::DELETE_TRIGGER),
    phase: Phase::Finish,
    args: &[PROJECT, path("trigger_id")],
    yields: None,
};

/// Carries out `gitlab.delete_trigger`.
pub(crate) async fn delete_trigger(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let project = ex.text(step, "project")?;
    let id = ex.number(step, "trigger_id")?;
    match ex.gitlab()?.delete_trigger(project, id).await {
        Ok(()) => Ok(format!("trigger {id} deleted")),
        // The run checked it existed; gone now, it was deleted already (an earlier attempt
        // whose answer was lost, or someone by hand): the step's purpose holds.
        Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => Ok(format!(
            "trigger {id} is gone already (GitLab answers 404: deleted by an earlier attempt or by hand)"
        )),
        Err(e) => Err(e.into()),
    }
}

/// `gitlab.revoke_previous_bot`.
pub(crate) const REVOKE_PREVIOUS_BOT: ActionSpec = ActionSpec {
    action: Action::GitlabRevokePreviousBot,
    name: "gitlab.revoke_previous_bot",
    summary: "revoke the project access token of the bot that owned the old trigger, if a bot did",
    service: Service::Api(Vendor::GitLab),
    // The list is the call known ahead; the revoke (DELETE …/access_tokens/ID) follows for
    // the ids it finds.
    route: Some(&route::gitlab::PROJECT_TOKENS),
    phase: Phase::Finish,
    args: &[PROJECT],
    yields: None,
};

/// Carries out `gitlab.revoke_previous_bot`: the old trigger's owner, when it is the bot user
/// of one of the project's access tokens, loses that token (a Maintainer with `api` that
/// nothing needs once its trigger is deleted). An owner that is a person holds no project
/// access token and is left alone.
pub(crate) async fn revoke_previous_bot(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let project = ex.text(step, "project")?;
    let Some(owner) = ex.lock().old_trigger_owner else {
        return Ok("GitLab did not say who owned the old trigger: no bot token to revoke".into());
    };
    let gitlab = ex.gitlab()?;
    let tokens = gitlab
        .resource_tokens(
            crate::clients::gitlab::Owner::Project(project),
            None,
            Some("active"),
        )
        .await?;
    let bots: Vec<_> = tokens
        .into_iter()
        .filter(|t| t.active && t.user_id == Some(owner))
        .collect();
    if bots.is_empty() {
        return Ok(format!(
            "the old trigger's owner (user {owner}) holds no project access token of {project}: nothing to revoke"
        ));
    }
    let mut done = Vec::new();
    for t in bots {
        let id = t.id.to_string();
        match gitlab
            .revoke_resource_token(crate::clients::gitlab::Owner::Project(project), &id)
            .await
        {
            Ok(()) => done.push(format!("{id} \"{}\"", crate::text::one_line(&t.name))),
            // Gone already: what the step wants.
            Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => {
                done.push(format!("{id} (gone already)"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(format!(
        "the previous bot's project access token revoked: {}",
        done.join(", ")
    ))
}

/// The answer to creating a trigger was lost: GitLab shows a trigger's whole token to the
/// user who created it, so the new trigger is found by the description just sent (not the
/// old trigger) and its token recovered. Anything less certain stays "outcome unknown".
pub(crate) async fn recover_trigger(
    ex: &Executor,
    client: &GitLab,
    project: &str,
    description: &str,
    lost: ApiError,
) -> Result<String, ActionFailure> {
    let old = ex.lock().old_trigger_id;
    let unknown = |why: String| ActionFailure::unknown(format!("{lost}; {why}"));
    let triggers = client.triggers(project).await.map_err(|e| {
        unknown(format!(
            "listing the triggers to recover it failed too: {e}"
        ))
    })?;
    let mut found: Vec<_> = triggers
        .into_iter()
        .filter(|t| t.description == description && Some(t.id) != old)
        .filter_map(|t| t.full_token().cloned().map(|token| (t.id, token)))
        .collect();
    match found.len() {
        1 => {
            let (id, token) = found.remove(0);
            ex.remember_new(
                id,
                token,
                None,
                "token",
                &format!("delete trigger {id} and run again"),
            )?;
            Ok(format!(
                "the answer was lost, but the new trigger (id {id}) was found by its description and its token recovered"
            ))
        }
        0 => Err(unknown(format!(
            "no new trigger named \"{description}\" is listed: the create call may not have been carried out"
        ))),
        n => Err(unknown(format!(
            "{n} triggers named \"{description}\" carry a token this user can read: delete the extra ones"
        ))),
    }
}
