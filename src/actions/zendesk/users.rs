//! Zendesk users: the caller, and the check that a pasted API token authenticates as the
//! right user (Zendesk answers an unknown credential as an anonymous user, with 200).

use crate::actions::run::{ActionFailure, Executor};
use crate::actions::{Action, ActionSpec, ArgKind, ArgSpec, Invocation, NEW_TOKEN, Phase, Service};
use crate::clients::route;
use crate::clients::zendesk::Auth;
use crate::model::Vendor;

/// The actions of this file, in registry order.
pub(crate) const SPECS: &[&ActionSpec] = &[&CURRENT_USER, &VERIFY_API_TOKEN];

/// `zendesk.current_user`.
pub(crate) const CURRENT_USER: ActionSpec = ActionSpec {
    action: Action::ZendeskCurrentUser,
    name: "zendesk.current_user",
    summary: "check that the Zendesk credential works (an anonymous answer does not count)",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::ME),
    phase: Phase::Preflight,
    args: &[],
    yields: None,
};

/// Carries out `zendesk.current_user`.
pub(crate) async fn current_user(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let me = ex.zendesk(step)?.me().await?;
    if !me.authenticated() {
        return Err(ActionFailure::new(
            "the Zendesk credential did not authenticate: Zendesk answered as an anonymous user",
        ));
    }
    let note = format!(
        "authenticated as {} ({})",
        me.email.clone().unwrap_or_default(),
        me.role.unwrap_or_else(|| "no role".into())
    );
    ex.lock().facts.zendesk_user = me.email;
    Ok(note)
}

/// `zendesk.verify_api_token`.
pub(crate) const VERIFY_API_TOKEN: ActionSpec = ActionSpec {
    action: Action::ZendeskVerifyApiToken,
    name: "zendesk.verify_api_token",
    summary: "check that the new API token authenticates as the given user (an anonymous answer does not count)",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::ME),
    phase: Phase::Verify,
    args: &[
        ArgSpec {
            name: "email",
            kind: ArgKind::CredentialUser,
            required: true,
            wire: None,
        },
        NEW_TOKEN,
    ],
    yields: None,
};

/// Carries out `zendesk.verify_api_token`.
pub(crate) async fn verify_api_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let email = step
        .text_arg("email")
        .ok_or_else(|| {
            ActionFailure::new(
                "no email to verify the token with: give --email or set ZENDESK_EMAIL",
            )
        })?
        .to_owned();
    let token = ex.secret(step, "token")?;
    let me = ex
        .zendesk_as(
            step,
            Auth::ApiToken {
                email: email.clone(),
                token,
            },
        )?
        .me()
        .await
        .map_err(|e| ActionFailure::new(format!("the new token is not verified: {e}")))?;
    if !me.authenticated() {
        return Err(ActionFailure::new(
            "the new token is not verified: Zendesk answered as an anonymous user; nothing was applied",
        ));
    }
    if !me
        .email
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case(&email))
    {
        return Err(ActionFailure::new(format!(
            "the new token is not verified: it authenticates as {}, not {email}; nothing was applied",
            me.email.unwrap_or_else(|| "an unknown user".into())
        )));
    }
    Ok(format!("the new token authenticates as {email}"))
}
