//! GitLab access tokens: the caller, personal, project and group access tokens. A rotate or
//! create call is one-shot (GitLab revokes the old token and shows the new one once; a second
//! rotate with the old token revokes the whole family), so it is never retried.

use crate::actions::run::{ActionFailure, Executor, access_token_kind, rotate_failure};
use crate::actions::{
    Action, ActionSpec, EXPIRES_AT, GROUP, Invocation, NEW_TOKEN, PROJECT, Phase, Service,
    TOKEN_ID, body, query,
};
use crate::clients::gitlab::AccessToken;
use crate::clients::route;
use crate::model::Identity;
use crate::model::Vendor;

/// The actions of this file, in registry order.
pub(crate) const SPECS: &[&ActionSpec] = &[
    &CURRENT_USER,
    &FIND_PERSONAL_TOKEN,
    &GET_PERSONAL_TOKEN,
    &ROTATE_PERSONAL_TOKEN,
    &VERIFY_PERSONAL_TOKEN,
    &FIND_PROJECT_TOKEN,
    &GET_PROJECT_TOKEN,
    &ROTATE_PROJECT_TOKEN,
    &CREATE_PROJECT_TOKEN,
    &VERIFY_PROJECT_TOKEN,
    &FIND_GROUP_TOKEN,
    &GET_GROUP_TOKEN,
    &ROTATE_GROUP_TOKEN,
    &VERIFY_GROUP_TOKEN,
];

/// `gitlab.current_user`.
pub(crate) const CURRENT_USER: ActionSpec = ActionSpec {
    action: Action::GitlabCurrentUser,
    name: "gitlab.current_user",
    summary: "check that the GitLab credential works",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::USER),
    phase: Phase::Preflight,
    args: &[],
    yields: None,
};

/// Carries out `gitlab.current_user`.
pub(crate) async fn current_user(
    ex: &Executor,
    _step: &Invocation,
) -> Result<String, ActionFailure> {
    let user = ex.gitlab()?.current_user().await?;
    let note = format!("authenticated as {} (id {})", user.username, user.id);
    ex.lock().facts.gitlab_user = Some(user.username);
    Ok(note)
}

/// `gitlab.find_personal_token`.
pub(crate) const FIND_PERSONAL_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabFindPersonalToken,
    name: "gitlab.find_personal_token",
    summary: "find an active personal access token by name",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::PERSONAL_TOKENS),
    phase: Phase::Preflight,
    args: &[query(route::gitlab::SEARCH), query(route::gitlab::STATE)],
    yields: None,
};

/// Carries out `gitlab.find_personal_token`.
pub(crate) async fn find_personal_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let name = ex.text(step, "name")?;
    let list = ex
        .gitlab()?
        .personal_tokens(Some(name), Some("active"))
        .await?;
    find_one(ex, list, name, "personal access token")
}

/// `gitlab.get_personal_token`.
pub(crate) const GET_PERSONAL_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabGetPersonalToken,
    name: "gitlab.get_personal_token",
    summary: "check that a personal access token exists and is active",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::PERSONAL_TOKEN),
    phase: Phase::Preflight,
    args: &[TOKEN_ID],
    yields: None,
};

/// Carries out `gitlab.get_personal_token`.
pub(crate) async fn get_personal_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let id = ex.token_id(step)?;
    let token = ex.gitlab()?.personal_token(&id).await?;
    check_token(ex, token, "personal access token")
}

/// `gitlab.rotate_personal_token`.
pub(crate) const ROTATE_PERSONAL_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabRotatePersonalToken,
    name: "gitlab.rotate_personal_token",
    summary: "rotate a personal access token (revokes the old one; never retried)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::ROTATE_PERSONAL_TOKEN),
    phase: Phase::Rotate,
    args: &[TOKEN_ID, EXPIRES_AT],
    yields: Some("token"),
};

/// Carries out `gitlab.rotate_personal_token`.
pub(crate) async fn rotate_personal_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let id = ex.token_id(step)?;
    let expires = ex.expires_at(step)?;
    let gitlab = ex.gitlab()?;
    still_active(&id, gitlab.personal_token(&id).await)?;
    let new = gitlab
        .rotate_personal_token(&id, expires)
        .await
        .map_err(rotate_failure)?;
    // The expiry GitLab gave the new token, which the report shows too; else the one asked for.
    let note = format!(
        "new token id {}, expires {}",
        new.id,
        new.expires_at.as_deref().unwrap_or(&expires.to_string())
    );
    ex.lock().facts.expires_at = Some(expires.to_string());
    let token = new.token.clone();
    ex.remember_new(
        new.id,
        new.token,
        new.expires_at,
        "token",
        &rotated_unreadable(new.id),
    )?;
    if id == "self" {
        // The old credential is revoked now: every later call uses the new one.
        *ex.gitlab.write().unwrap_or_else(|p| p.into_inner()) = Some(gitlab.with_token(token));
    }
    Ok(note)
}

/// `gitlab.verify_personal_token`.
pub(crate) const VERIFY_PERSONAL_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabVerifyPersonalToken,
    name: "gitlab.verify_personal_token",
    summary: "check that the new token authenticates",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::PERSONAL_TOKEN_SELF),
    phase: Phase::Verify,
    args: &[NEW_TOKEN],
    yields: None,
};

/// Carries out `gitlab.verify_personal_token`.
pub(crate) async fn verify_personal_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let token = ex.secret(step, "token")?;
    let me = ex
        .gitlab()?
        .with_token(token)
        .personal_token("self")
        .await?;
    if !me.active {
        return Err(ActionFailure::new("the new token is not active"));
    }
    Ok(format!("the new token authenticates (\"{}\")", me.name))
}

/// `gitlab.find_project_token`.
pub(crate) const FIND_PROJECT_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabFindProjectToken,
    name: "gitlab.find_project_token",
    summary: "find an active project access token by name",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::PROJECT_TOKENS),
    phase: Phase::Preflight,
    args: &[
        PROJECT,
        query(route::gitlab::SEARCH),
        query(route::gitlab::STATE),
    ],
    yields: None,
};

/// Carries out `gitlab.find_project_token` and `gitlab.find_group_token`.
pub(crate) async fn find_access_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let name = ex.text(step, "name")?;
    let owner = ex.owner(step)?;
    let list = ex
        .gitlab()?
        .resource_tokens(owner, Some(name), Some("active"))
        .await?;
    find_one(ex, list, name, access_token_kind(owner))
}

/// `gitlab.get_project_token`.
pub(crate) const GET_PROJECT_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabGetProjectToken,
    name: "gitlab.get_project_token",
    summary: "check that a project access token exists and is active",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::PROJECT_TOKEN),
    phase: Phase::Preflight,
    args: &[PROJECT, TOKEN_ID],
    yields: None,
};

/// Carries out `gitlab.get_project_token` and `gitlab.get_group_token`.
pub(crate) async fn get_access_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let owner = ex.owner(step)?;
    let id = ex.token_id(step)?;
    let token = ex.gitlab()?.resource_token(owner, &id).await?;
    check_token(ex, token, access_token_kind(owner))
}

/// `gitlab.rotate_project_token`.
pub(crate) const ROTATE_PROJECT_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabRotateProjectToken,
    name: "gitlab.rotate_project_token",
    summary: "rotate a project access token (revokes the old one; never retried)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::ROTATE_PROJECT_TOKEN),
    phase: Phase::Rotate,
    args: &[PROJECT, TOKEN_ID, EXPIRES_AT],
    yields: Some("token"),
};

/// Carries out `gitlab.rotate_project_token` and `gitlab.rotate_group_token`.
pub(crate) async fn rotate_access_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let owner = ex.owner(step)?;
    let id = ex.token_id(step)?;
    let expires = ex.expires_at(step)?;
    let gitlab = ex.gitlab()?;
    still_active(&id, gitlab.resource_token(owner, &id).await)?;
    let new = gitlab
        .rotate_resource_token(owner, &id, expires)
        .await
        .map_err(rotate_failure)?;
    // The expiry GitLab gave the new token, which the report shows too; else the one asked for.
    let note = format!(
        "new token id {}, expires {}",
        new.id,
        new.expires_at.as_deref().unwrap_or(&expires.to_string())
    );
    ex.lock().facts.expires_at = Some(expires.to_string());
    ex.remember_new(
        new.id,
        new.token,
        new.expires_at,
        "token",
        &rotated_unreadable(new.id),
    )?;
    Ok(note)
}

/// What to do when a rotate call's answer holds no usable token: the call revoked the old one,
/// and the new one can be rotated by its id to get a value.
fn rotated_unreadable(new_id: u64) -> String {
    format!(
        "the rotate call revoked the old token, so its consumers stop working: rotate token {new_id} again (--token-id {new_id}) to get a value for them"
    )
}

/// `gitlab.create_project_token`.
pub(crate) const CREATE_PROJECT_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabCreateProjectToken,
    name: "gitlab.create_project_token",
    summary: "create a project access token (its bot user owns what it creates; never retried)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::CREATE_PROJECT_TOKEN),
    phase: Phase::Rotate,
    args: &[
        PROJECT,
        body("name", true),
        body("scopes", true),
        body("access_level", false),
        EXPIRES_AT,
    ],
    yields: Some("bot_token"),
};

/// Carries out `gitlab.create_project_token`.
pub(crate) async fn create_project_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let owner = ex.owner(step)?;
    let name = ex.text(step, "name")?;
    let scopes: Vec<&str> = ex.text(step, "scopes")?.split(',').map(str::trim).collect();
    let level = step
        .text_arg("access_level")
        .and_then(|l| l.parse().ok())
        .unwrap_or(40);
    let expires = ex.expires_at(step)?;
    let new = ex
        .gitlab()?
        .create_resource_token(owner, name, &scopes, level, expires)
        .await?;
    let note = format!("project access token id {}, expires {expires}", new.id);
    ex.remember_new(
        new.id,
        new.token,
        None,
        "bot_token",
        &format!("revoke project access token {} and run again", new.id),
    )?;
    Ok(note)
}

/// `gitlab.verify_project_token`.
pub(crate) const VERIFY_PROJECT_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabVerifyProjectToken,
    name: "gitlab.verify_project_token",
    summary: "check that the new project access token authenticates",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::PROJECT),
    phase: Phase::Verify,
    args: &[PROJECT, NEW_TOKEN],
    yields: None,
};

/// Carries out `gitlab.verify_project_token` and `gitlab.verify_group_token`.
pub(crate) async fn verify_access_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let owner = ex.owner(step)?;
    let token = ex.secret(step, "token")?;
    ex.gitlab()?.with_token(token).namespace(owner).await?;
    Ok("the new token authenticates".into())
}

/// `gitlab.find_group_token`.
pub(crate) const FIND_GROUP_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabFindGroupToken,
    name: "gitlab.find_group_token",
    summary: "find an active group access token by name",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::GROUP_TOKENS),
    phase: Phase::Preflight,
    args: &[
        GROUP,
        query(route::gitlab::SEARCH),
        query(route::gitlab::STATE),
    ],
    yields: None,
};

/// `gitlab.get_group_token`.
pub(crate) const GET_GROUP_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabGetGroupToken,
    name: "gitlab.get_group_token",
    summary: "check that a group access token exists and is active",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::GROUP_TOKEN),
    phase: Phase::Preflight,
    args: &[GROUP, TOKEN_ID],
    yields: None,
};

/// `gitlab.rotate_group_token`.
pub(crate) const ROTATE_GROUP_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabRotateGroupToken,
    name: "gitlab.rotate_group_token",
    summary: "rotate a group access token (revokes the old one; never retried)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::ROTATE_GROUP_TOKEN),
    phase: Phase::Rotate,
    args: &[GROUP, TOKEN_ID, EXPIRES_AT],
    yields: Some("token"),
};

/// `gitlab.verify_group_token`.
pub(crate) const VERIFY_GROUP_TOKEN: ActionSpec = ActionSpec {
    action: Action::GitlabVerifyGroupToken,
    name: "gitlab.verify_group_token",
    summary: "check that the new group access token authenticates",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::GROUP),
    phase: Phase::Verify,
    args: &[GROUP, NEW_TOKEN],
    yields: None,
};

pub(crate) fn check_token(
    ex: &Executor,
    token: AccessToken,
    what: &str,
) -> Result<String, ActionFailure> {
    if !token.active {
        return Err(ActionFailure::new(inactive(ex, &token, what)));
    }
    let note = format!(
        "\"{}\" (id {}), expires {}, last used {}",
        token.name,
        token.id,
        token
            .expires_on
            .map_or_else(|| "never".into(), |d| d.to_string()),
        token.last_used_at.clone().unwrap_or_else(|| "never".into())
    );
    let mut st = ex.lock();
    st.token_id.get_or_insert_with(|| token.id.to_string());
    st.source_id = Some(Identity::GitLabToken(token.id).to_string());
    st.old_token = Some(token);
    Ok(note)
}

/// Why an inactive token cannot be rotated, and which one to rotate instead: the successor an
/// earlier run made (its journal knows), else the token that now holds the name (GitLab's rotate
/// gives the new token the old one's name).
fn inactive(ex: &Executor, token: &AccessToken, what: &str) -> String {
    let (id, name) = (token.id, crate::text::one_line(&token.name));
    let Some((by, line)) = ex.successors_of(&Identity::GitLabToken(id)) else {
        // Expired: no rotation can mend it, whatever is tried again.
        if let Some(on) = token.expires_on.filter(|on| *on <= ex.today) {
            return format!(
                "{what} {id} (\"{name}\") expired on {on}, and GitLab rotates only a token that still works: \
                 make a new token by hand (same scopes) and put it into each of its targets with `tokrot apply TARGET --token-stdin`"
            );
        }
        // Revoked, expired, or rotated outside tokrot: a rotated token's successor keeps its
        // name, but so could an unrelated token; the operator looks, tokrot does not guess.
        return format!(
            "{what} {id} (\"{name}\") is not active (revoked, expired, or rotated outside tokrot), so it cannot be rotated; \
             if it was rotated, its successor has the same name: check the active tokens with that name before rotating one"
        );
    };
    let latest = line.last().copied().unwrap_or(by.new_id);
    let since = if line.len() > 1 {
        format!(
            " (rotated since: {})",
            line.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" → ")
        )
    } else {
        String::new()
    };
    format!(
        "{what} {id} (\"{name}\") was rotated by run {} on {}; its successor is {}{since}: rotate {latest} instead (--token-id {latest})",
        by.run, by.on, by.new_id
    )
}

pub(crate) fn find_one(
    ex: &Executor,
    list: Vec<AccessToken>,
    name: &str,
    what: &str,
) -> Result<String, ActionFailure> {
    let matches: Vec<AccessToken> = list
        .into_iter()
        .filter(|t| t.name == name && t.active)
        .collect();
    match matches.len() {
        0 => Err(ActionFailure::new(format!(
            "no active {what} is named \"{name}\""
        ))),
        1 => {
            let token = matches
                .into_iter()
                .next()
                .ok_or_else(|| ActionFailure::new("no token"))?;
            ex.lock().token_id = Some(token.id.to_string());
            check_token(ex, token, what)
        }
        n => Err(ActionFailure::new(format!(
            "{n} active {what}s are named \"{name}\" (ids {}): give --token-id",
            matches
                .iter()
                .map(|t| t.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Right before the rotate call, under the lock on the token, the token is read again: a run
/// that waited (at "Go ahead?", or on a long preflight) must not rotate a token another run has
/// rotated meanwhile, since GitLab's reuse detection would then revoke the new one too. Nothing
/// is sent when it fails, so its errors are never an unknown outcome.
fn still_active(
    id: &str,
    fresh: Result<AccessToken, crate::clients::http::ApiError>,
) -> Result<(), ActionFailure> {
    match fresh {
        Ok(t) if t.active => Ok(()),
        Ok(t) => Err(ActionFailure::new(format!(
            "token {} is no longer active: it was rotated or revoked since the checks (by another run?); the rotate call was not sent",
            t.id
        ))),
        Err(e) => Err(ActionFailure::new(format!(
            "reading token {id} again before rotating it failed ({e}); the rotate call was not sent"
        ))),
    }
}
