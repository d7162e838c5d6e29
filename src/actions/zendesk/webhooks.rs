//! Zendesk webhooks: the token lives in the endpoint URL (a GitLab pipeline trigger) or in
//! the authentication, whose type and position are kept. Zendesk never returns a credential's
//! secret, but it does return a basic_auth's user name (`authentication.data.username`), which
//! is kept as it is; an endpoint, token included, is read back and compared after the write.

use crate::actions::run::{ActionFailure, Executor, Verified, WebhookPlace};
use crate::actions::{
    Action, ActionSpec, Invocation, Phase, Service, body, check, path, secret_body,
};
use crate::clients::route;
use crate::clients::zendesk::{
    WebhookCredential, endpoint_host, endpoint_token, is_trigger_url, masked_endpoint,
    replace_endpoint_token,
};
use crate::model::Vendor;

/// The actions of this file, in registry order.
pub(crate) const SPECS: &[&ActionSpec] = &[&GET_WEBHOOK, &PATCH_WEBHOOK_TOKEN];

/// `zendesk.get_webhook`.
pub(crate) const GET_WEBHOOK: ActionSpec = ActionSpec {
    action: Action::ZendeskGetWebhook,
    name: "zendesk.get_webhook",
    summary: "read a webhook and find where its token lives (endpoint URL or authentication)",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::WEBHOOK),
    phase: Phase::Preflight,
    args: &[path("webhook_id"), check("username"), check("header_name")],
    yields: None,
};

/// Carries out `zendesk.get_webhook`.
pub(crate) async fn get_webhook(ex: &Executor, step: &Invocation) -> Result<String, ActionFailure> {
    let id = ex.text(step, "webhook_id")?;
    let hook = ex.zendesk(step)?.webhook(id).await?;
    let place = if let Some(old) = endpoint_token(&hook.endpoint) {
        ex.redactor.register(&old);
        ex.redactor.register(&hook.endpoint);
        WebhookPlace::Endpoint(hook.endpoint.clone())
    } else if let Some(auth) = &hook.authentication {
        let mut username = step
            .text_arg("username")
            .map(str::to_owned)
            .or_else(|| auth.username.clone());
        let mut header_name = step
            .text_arg("header_name")
            .map(str::to_owned)
            .or_else(|| auth.header_name.clone());
        match auth.kind.as_str() {
            "bearer_token" => {}
            "basic_auth" if username.is_none() => {
                username = Some(ex.text_answer(
                        &format!("webhook-username:{id}"),
                        format!("User name of webhook {id}'s basic authentication (Zendesk's answer does not show it)"),
                        format!("webhook {id} uses basic authentication, and Zendesk's answer does not show its user name: give --username"),
                    )?);
            }
            "api_key" if header_name.is_none() => {
                header_name = Some(ex.text_answer(
                        &format!("webhook-header:{id}"),
                        format!("Header name of webhook {id}'s API key (Zendesk's answer does not show it)"),
                        format!("webhook {id} uses an API key, and Zendesk's answer does not show its header name: give --header-name"),
                    )?);
            }
            "basic_auth" | "api_key" => {}
            other => {
                return Err(ActionFailure::new(format!(
                    "webhook {id} has an authentication type tokrot does not know: {other}"
                )));
            }
        }
        WebhookPlace::Authentication {
            kind: auth.kind.clone(),
            position: auth.add_position.clone(),
            username,
            header_name,
        }
    } else {
        return Err(ActionFailure::new(format!(
            "webhook {id} has neither a token in its endpoint URL nor an authentication: there is no token to replace"
        )));
    };
    // Wherever the token lives, the webhook sends it to its endpoint's host. Checked here,
    // before anything changes, with what is known of the token; and again at the write.
    ex.check_host(
        step.target_index,
        endpoint_host(&hook.endpoint).as_deref(),
        &format!("webhook {id}"),
        (None, is_trigger_url(&hook.endpoint)),
    )?;
    let note = match &place {
        WebhookPlace::Endpoint(e) => format!(
            "webhook {id} \"{}\": the token is in its endpoint, {}",
            hook.name,
            masked_endpoint(e)
        ),
        WebhookPlace::Authentication { kind, .. } => format!(
            "webhook {id} \"{}\": the token is its {kind} credential",
            hook.name
        ),
    };
    ex.lock()
        .targets
        .entry(step.target_index)
        .or_default()
        .webhook = Some(place);
    Ok(note)
}

/// Reads a webhook back after its endpoint was written and compares the token in it with the
/// new one, in constant time and without printing either. A read that fails leaves the write
/// applied but not compared.
async fn endpoint_read_back(
    ex: &Executor,
    step: &Invocation,
    id: &str,
    token: &secrecy::SecretString,
) -> Result<String, ActionFailure> {
    const WRITTEN: &str =
        "the token in the endpoint URL replaced, the rest of the URL kept; only `endpoint` sent";
    let back = match ex.zendesk(step)?.webhook(id).await {
        Ok(hook) => hook,
        Err(e) => {
            ex.mark_applied(step.target_index, None, None);
            return Ok(format!("{WRITTEN}; not read back ({e})"));
        }
    };
    ex.redactor.register(&back.endpoint);
    let holds = endpoint_token(&back.endpoint).is_some_and(|t| crate::secret::same(&t, token));
    let verified = if holds { Verified::Yes } else { Verified::No };
    ex.mark_applied(step.target_index, Some(verified), None);
    if holds {
        Ok(format!("{WRITTEN}; read back: holds the new token"))
    } else {
        Err(ActionFailure::after_write(format!(
            "webhook {id} was written, but its endpoint read back does not hold the new token"
        )))
    }
}

/// `zendesk.patch_webhook_token`.
pub(crate) const PATCH_WEBHOOK_TOKEN: ActionSpec = ActionSpec {
    action: Action::ZendeskPatchWebhookToken,
    name: "zendesk.patch_webhook_token",
    summary: "replace the webhook's token (in its endpoint URL, or its credential with the type kept) and nothing else; an endpoint is read back and compared",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::PATCH_WEBHOOK),
    phase: Phase::Apply,
    args: &[
        path("webhook_id"),
        body("username", false),
        body("header_name", false),
        secret_body("token"),
    ],
    yields: None,
};

/// Carries out `zendesk.patch_webhook_token`.
pub(crate) async fn patch_webhook_token(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let id = ex.text(step, "webhook_id")?;
    let token = ex.secret(step, "token")?;
    let place = ex
        .lock()
        .targets
        .get(&step.target_index)
        .and_then(|t| t.webhook.clone())
        .ok_or_else(|| ActionFailure::new("the webhook was not read before the write"))?;
    let client = ex.zendesk(step)?;
    let what = format!("webhook {id}");
    let note = match place {
        WebhookPlace::Endpoint(old) => {
            // The URL written is the one read in preflight, with the token replaced: its host is
            // where the token goes, checked now that the token itself is known.
            ex.check_host(
                step.target_index,
                endpoint_host(&old).as_deref(),
                &what,
                (Some(&token), is_trigger_url(&old)),
            )?;
            let new = replace_endpoint_token(&old, &token)
                .ok_or_else(|| ActionFailure::new("the endpoint lost its token parameter"))?;
            ex.redactor.register(&new);
            client.patch_webhook_endpoint(id, &new).await?;
            return endpoint_read_back(ex, step, id, &token).await;
        }
        WebhookPlace::Authentication {
            kind,
            position,
            username,
            header_name,
        } => {
            // Only the credential is sent; the endpoint it goes to is read again, so that one
            // re-pointed since the checks does not receive it.
            let now = client.webhook(id).await?;
            ex.redactor.register(&now.endpoint);
            ex.check_host(
                step.target_index,
                endpoint_host(&now.endpoint).as_deref(),
                &what,
                (Some(&token), is_trigger_url(&now.endpoint)),
            )?;
            let credential = match kind.as_str() {
                "basic_auth" => WebhookCredential::Basic {
                    username: username.unwrap_or_default(),
                    password: token,
                },
                "api_key" => WebhookCredential::ApiKey {
                    name: header_name.unwrap_or_default(),
                    value: token,
                },
                _ => WebhookCredential::Bearer(token),
            };
            client
                .patch_webhook_authentication(id, &credential, &position)
                .await?;
            format!(
                "{kind} credential replaced, type and position kept; only `authentication` sent"
            )
        }
    };
    ex.mark_applied(step.target_index, Some(Verified::NotReadable), None);
    Ok(format!(
        "{note} (Zendesk never returns webhook credentials: not readable)"
    ))
}
