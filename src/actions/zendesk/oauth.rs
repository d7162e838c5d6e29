//! Zendesk OAuth tokens: list the client's tokens, create the new one (one-shot: a lost answer
//! is an unknown outcome that names the tokens that appeared, and the call is never sent again),
//! verify its scopes, revoke the old one last.

use crate::model::Identity;
use crate::model::Vendor;
use std::collections::HashSet;

use crate::actions::run::{ActionFailure, Executor};
use crate::actions::{
    Action, ActionSpec, Invocation, NEW_TOKEN, Phase, Service, body, check, path, query,
};
use crate::clients::route;
use crate::clients::zendesk::{Auth, same_scopes};

/// The actions of this file, in registry order.
pub(crate) const SPECS: &[&ActionSpec] = &[
    &LIST_OAUTH_TOKENS,
    &CREATE_OAUTH_TOKEN,
    &VERIFY_OAUTH_TOKEN,
    &REVOKE_OAUTH_TOKEN,
];

/// `zendesk.list_oauth_tokens`.
pub(crate) const LIST_OAUTH_TOKENS: ActionSpec = ActionSpec {
    action: Action::ZendeskListOauthTokens,
    name: "zendesk.list_oauth_tokens",
    summary: "list the OAuth client's tokens (values cut to 10 characters)",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::OAUTH_TOKENS),
    phase: Phase::Preflight,
    args: &[
        query(route::zendesk::CLIENT_ID),
        check("old_token_id"),
        check("as_caller"),
    ],
    yields: None,
};

/// Carries out `zendesk.list_oauth_tokens`.
pub(crate) async fn list_oauth_tokens(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let client_id = ex.number(step, "client_id")?;
    let tokens = ex.zendesk(step)?.oauth_tokens(client_id).await?;
    let old = match step.text_arg("old_token_id") {
        Some(t) => {
            let id: u64 = t
                .parse()
                .map_err(|_| ActionFailure::new("--old-token-id must be a number"))?;
            if !tokens.iter().any(|k| k.id == id) {
                return Err(ActionFailure::new(format!(
                    "OAuth client {client_id} has no token {id}"
                )));
            }
            Some(id)
        }
        None if tokens.len() == 1 => tokens.first().map(|t| t.id),
        None if tokens.is_empty() => None,
        None => Some(pick_old(ex, client_id, &tokens)?),
    };
    let mut note = format!(
        "{} token(s) for client {client_id}; {}",
        tokens.len(),
        old.map_or_else(
            || "no old token to revoke".into(),
            |id| format!("token {id} is revoked once the new one is in place")
        )
    );
    let change = identity_change(ex, step, &tokens, old).await?;
    if let Some(change) = &change {
        note.push_str(&format!("; {change}"));
    }
    let mut st = ex.lock();
    st.identity_change = change;
    st.old_oauth_id = old;
    st.source_id = Some(Identity::ZendeskOAuthClient(client_id).to_string());
    st.oauth_tokens = tokens;
    Ok(note)
}

/// The old token, picked by the operator when the client has several (no terminal: the
/// action's failure names `--old-token-id`).
fn pick_old(
    ex: &Executor,
    client_id: u64,
    tokens: &[crate::clients::zendesk::OAuthToken],
) -> Result<u64, ActionFailure> {
    let ids: Vec<String> = tokens.iter().map(|t| t.id.to_string()).collect();
    let items = tokens
        .iter()
        .map(|t| {
            format!(
                "token {} · scopes {} · created {} · last used {}",
                t.id,
                t.scopes.join(" "),
                t.created_at.as_deref().unwrap_or("?"),
                t.used_at.as_deref().unwrap_or("never")
            )
        })
        .zip(ids.iter().cloned())
        .collect();
    let unanswered = format!(
        "OAuth client {client_id} has {} tokens ({}): give --old-token-id",
        tokens.len(),
        ids.join(", ")
    );
    let picked = ex.picked(
        &format!("old-oauth-token:{client_id}"),
        "OAuth token to revoke once the new one is in place".into(),
        items,
        unanswered,
    )?;
    tokens
        .iter()
        .map(|t| t.id)
        .find(|id| id.to_string() == picked)
        .ok_or_else(|| {
            ActionFailure::new(format!(
                "OAuth token {picked} is no longer listed for client {client_id}"
            ))
        })
}

/// A new OAuth token acts as the user who makes it: the caller. When the old token acted as
/// another user (an integration user, a colleague), the consumers would act as the caller from
/// now on, with the caller's role: refused before anything is made, unless `as_caller` says
/// the operator means it; then the change is said and journaled.
async fn identity_change(
    ex: &Executor,
    step: &Invocation,
    tokens: &[crate::clients::zendesk::OAuthToken],
    old: Option<u64>,
) -> Result<Option<String>, ActionFailure> {
    let as_caller = match step.text_arg("as_caller") {
        None => false,
        Some("yes" | "true") => true,
        Some(_) => return Err(ActionFailure::new("as_caller is `yes` or left out")),
    };
    let Some(old_user) = old
        .and_then(|id| tokens.iter().find(|t| t.id == id))
        .and_then(|t| t.user_id)
    else {
        return Ok(None);
    };
    let me = ex.zendesk(step)?.me().await?;
    let Some(me) = me.id.filter(|me| *me != old_user) else {
        return Ok(None);
    };
    let old_id = old.unwrap_or_default();
    if !as_caller {
        return Err(ActionFailure::new(format!(
            "OAuth token {old_id} acts as user {old_user}, and a new token would act as you (user {me}), with your role: \
             its consumers would change who they act as; nothing was changed. \
             Run as user {old_user} (its credential), or pass --as-caller (inventory: as_caller = \"yes\") if the new token should act as you"
        )));
    }
    Ok(Some(format!(
        "the new token acts as you (user {me}), not as user {old_user} like token {old_id} (--as-caller)"
    )))
}

/// `zendesk.create_oauth_token`.
pub(crate) const CREATE_OAUTH_TOKEN: ActionSpec = ActionSpec {
    action: Action::ZendeskCreateOauthToken,
    name: "zendesk.create_oauth_token",
    summary: "create an OAuth access token for a client with the given scopes (never retried)",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::CREATE_OAUTH_TOKEN),
    phase: Phase::Rotate,
    args: &[body("client_id", true), body("scopes", true)],
    yields: Some("token"),
};

/// Carries out `zendesk.create_oauth_token`.
pub(crate) async fn create_oauth_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let client_id = ex.number(step, "client_id")?;
    let scopes: Vec<String> = match step.text_arg("scopes") {
        Some(s) => s
            .split(',')
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect(),
        None => {
            let st = ex.lock();
            let old = st
                .old_oauth_id
                .and_then(|id| st.oauth_tokens.iter().find(|t| t.id == id));
            old.map(|t| t.scopes.clone()).ok_or_else(|| {
                ActionFailure::new(
                    "no scopes: give --scopes (there is no old token to copy them from)",
                )
            })?
        }
    };
    if scopes.is_empty() {
        return Err(ActionFailure::new("no scopes: give --scopes"));
    }
    let client = ex.zendesk(step)?;
    let new = match client.create_oauth_token(client_id, &scopes).await {
        Ok(new) => new,
        // A lost answer: the token, if made, can never be read back (lists show 10
        // characters), and the create call is one-shot: it is never sent again. The client's
        // tokens are listed to say what may have been made; nothing is revoked (a token that
        // appeared may be a colleague's).
        Err(e) if e.outcome_unknown() => return Err(lost_create(ex, &client, client_id, e).await),
        Err(e) => return Err(e.into()),
    };
    let note = format!(
        "new OAuth token id {} for scopes {}",
        new.id,
        scopes.join(" ")
    );
    // A full token or nothing: Zendesk lists a token cut to its first 10 characters, and an
    // answer without `full_token` may carry only that. Such a value is never kept or applied;
    // the token was made all the same, so the run says so (never "nothing was changed").
    if !crate::secret::whole_token(&new.token, MIN_OAUTH_TOKEN) {
        return Err(ActionFailure::after_write(format!(
            "Zendesk made OAuth token {id}, but its answer holds only the first characters of it (no `full_token`): \
             it cannot be used, so nothing was kept or applied and the old token still works; \
             revoke token {id} (Admin Center, or DELETE /api/v2/oauth/tokens/{id}) and run again",
            id = new.id
        )));
    }
    let mut note = note;
    // Zendesk is moving clients to expiring access tokens: the answer's expiry is the token's
    // own, kept for the journal, the report and `status`.
    let expires = new.expires_at.as_deref().and_then(day_of);
    if let Some(day) = &expires {
        note.push_str(&format!("; it expires on {day} (Zendesk's lifetime)"));
    }
    if new.refresh_token {
        note.push_str(
            "; Zendesk issued a refresh token with it, which is not kept or applied: a consumer that refreshes needs its own OAuth flow",
        );
    }
    {
        let mut st = ex.lock();
        st.requested_scopes = scopes;
        st.facts.vendor_expiry = expires.is_some();
        st.facts.refresh_token = new.refresh_token;
    }
    ex.remember_new(
        new.id,
        new.token,
        expires,
        "token",
        &format!("revoke OAuth token {} and run again", new.id),
    )?;
    Ok(note)
}

/// The day (YYYY-MM-DD, UTC) of a vendor's expiry, given as a date or a timestamp.
fn day_of(expires_at: &str) -> Option<String> {
    let t = expires_at.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Some(
            ts.to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .date()
                .to_string(),
        );
    }
    t.parse::<jiff::civil::Date>().ok().map(|d| d.to_string())
}

/// The shortest value taken as a whole OAuth access token: Zendesk's are 64 hex digits, and a
/// list shows the first 10; anything shorter than this is a cut, never a token.
const MIN_OAUTH_TOKEN: usize = 16;

/// What is known after the answer to a create call was lost: the tokens the client has now
/// that it did not have before the call.
async fn lost_create(
    ex: &Executor,
    client: &crate::clients::zendesk::Zendesk,
    client_id: u64,
    lost: crate::clients::http::ApiError,
) -> ActionFailure {
    let known: HashSet<u64> = ex.lock().oauth_tokens.iter().map(|t| t.id).collect();
    let listed = match client.oauth_tokens(client_id).await {
        Ok(now) => now,
        Err(l) => {
            return ActionFailure::unknown(format!(
                "{lost}; listing the client's tokens to see what was made failed too: {l}"
            ));
        }
    };
    let appeared: Vec<String> = listed
        .iter()
        .map(|t| t.id)
        .filter(|id| !known.contains(id))
        .map(|id| id.to_string())
        .collect();
    ActionFailure::unknown(if appeared.is_empty() {
        format!(
            "{lost}; client {client_id} lists no token that was not there before the call, so it was probably not carried out; it is not sent again"
        )
    } else {
        format!(
            "{lost}; client {client_id} now has token(s) {} that were not there before the call: the one this run made is among them and its value cannot be read back, so revoke it (DELETE /api/v2/oauth/tokens/ID) and rotate again; the call is not sent again",
            appeared.join(", ")
        )
    })
}

/// `zendesk.verify_oauth_token`.
pub(crate) const VERIFY_OAUTH_TOKEN: ActionSpec = ActionSpec {
    action: Action::ZendeskVerifyOauthToken,
    name: "zendesk.verify_oauth_token",
    summary: "check that the new OAuth token authenticates and has the requested scopes",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::CURRENT_OAUTH_TOKEN),
    phase: Phase::Verify,
    args: &[NEW_TOKEN],
    yields: None,
};

/// Carries out `zendesk.verify_oauth_token`.
pub(crate) async fn verify_oauth_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let token = ex.secret(step, "token")?;
    let current = ex
        .zendesk_as(step, Auth::OAuth(token))?
        .current_oauth_token()
        .await
        .map_err(|e| {
            ActionFailure::new(format!(
                "the new token is not verified, nothing was applied: {e}"
            ))
        })?;
    let asked = ex.lock().requested_scopes.clone();
    if !same_scopes(&asked, &current.scopes) {
        return Err(ActionFailure::new(format!(
            "scope mismatch: asked for [{}], Zendesk granted [{}]; nothing was applied. The new token (id {}) is unused: revoke it",
            asked.join(" "),
            current.scopes.join(" "),
            current.id
        )));
    }
    Ok(format!(
        "the new token works, scopes {}",
        current.scopes.join(" ")
    ))
}

/// `zendesk.revoke_oauth_token`.
pub(crate) const REVOKE_OAUTH_TOKEN: ActionSpec = ActionSpec {
    action: Action::ZendeskRevokeOauthToken,
    name: "zendesk.revoke_oauth_token",
    summary: "revoke the old OAuth token",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::REVOKE_OAUTH_TOKEN),
    phase: Phase::Finish,
    args: &[path("old_token_id")],
    yields: None,
};

/// Carries out `zendesk.revoke_oauth_token`.
pub(crate) async fn revoke_oauth_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let id = match step.text_arg("old_token_id") {
        Some(t) => t
            .parse()
            .map_err(|_| ActionFailure::new("--old-token-id must be a number"))?,
        None => match ex.lock().old_oauth_id {
            Some(id) => id,
            None => return Ok("no old token to revoke".into()),
        },
    };
    match ex.zendesk(step)?.revoke_oauth_token(id).await {
        Ok(()) => Ok(format!("old token {id} revoked")),
        // Gone now, it was revoked already (an earlier attempt whose answer was lost, or by
        // hand): the step's purpose holds.
        Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => Ok(format!(
            "old token {id} is gone already (Zendesk answers 404: revoked by an earlier attempt or by hand)"
        )),
        Err(e) => Err(e.into()),
    }
}
