//! Zendesk webhook signing secrets as a kind of token: receivers (a relay, a CI job) verify the
//! `X-Zendesk-Webhook-Signature` of each request with it. Resetting it is one-shot and the old
//! secret stops at once, so the reset is sent exactly once, never retried, and the new secret
//! goes to the receivers in the same run. A webhook a Zendesk app made cannot have its secret
//! reset by an admin: that is found before anything changes.

use crate::actions::run::{ActionFailure, Executor};
use crate::actions::{Action, ActionSpec, Invocation, Phase, Service, path};
use crate::clients::route;
use crate::model::Identity;
use crate::model::Vendor;
use crate::secret::same;

/// The actions of this file, in registry order.
pub(crate) const SPECS: &[&ActionSpec] = &[
    &CHECK_SIGNING_SECRET,
    &RESET_SIGNING_SECRET,
    &VERIFY_SIGNING_SECRET,
];

/// `zendesk.check_signing_secret`.
pub(crate) const CHECK_SIGNING_SECRET: ActionSpec = ActionSpec {
    action: Action::ZendeskCheckSigningSecret,
    name: "zendesk.check_signing_secret",
    summary: "read a webhook and check that its signing secret can be reset (not one a Zendesk app made)",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::WEBHOOK),
    phase: Phase::Preflight,
    args: &[path("webhook_id")],
    yields: None,
};

/// Carries out `zendesk.check_signing_secret`.
pub(crate) async fn check_signing_secret(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let id = ex.text(step, "webhook_id")?;
    let hook = ex.zendesk(step)?.webhook(id).await?;
    if hook.made_by_app {
        return Err(ActionFailure::new(format!(
            "webhook {id} was made by a Zendesk app (it has an external source): Zendesk does not let an admin reset its signing secret; nothing was changed"
        )));
    }
    ex.lock().source_id = Some(Identity::ZendeskWebhook(id.to_string()).to_string());
    Ok(format!(
        "webhook {id} (\"{}\") found; its signing secret can be reset",
        crate::text::one_line(&hook.name)
    ))
}

/// `zendesk.reset_signing_secret`.
pub(crate) const RESET_SIGNING_SECRET: ActionSpec = ActionSpec {
    action: Action::ZendeskResetSigningSecret,
    name: "zendesk.reset_signing_secret",
    summary: "reset a webhook's signing secret: the old one stops at once (never retried)",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::RESET_SIGNING_SECRET),
    phase: Phase::Rotate,
    args: &[path("webhook_id")],
    yields: Some("token"),
};

/// Carries out `zendesk.reset_signing_secret`.
pub(crate) async fn reset_signing_secret(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let id = ex.text(step, "webhook_id")?;
    let client = ex.zendesk(step)?;
    let answered = match client.reset_signing_secret(id).await {
        Ok(answered) => answered,
        // A lost answer: the reset may have been made (the old secret then stopped). It is
        // never sent again; the operator reads the secret in Admin Center.
        Err(e) if e.outcome_unknown() => {
            return Err(ActionFailure::unknown(format!(
                "{e}; webhook {id}'s signing secret may have been reset (the old one then stopped): it is not reset again. \
                 Admin Center shows the webhook's current secret; put it in place with `tokrot apply TARGET --token-stdin`"
            )));
        }
        Err(e) => return Err(app_refusal(id, e)),
    };
    // The answer's body varies: without the secret in it, the secret is read (a GET, which
    // changes nothing and may be repeated).
    let (secret, how) = match answered {
        Some(secret) => (secret, "the reset's answer"),
        None => match client.signing_secret(id).await {
            Ok(secret) => (secret, "a read after the reset"),
            Err(e) => {
                return Err(ActionFailure::after_write(format!(
                    "webhook {id}'s signing secret was reset (the old one stopped), but the new one could not be read: {e}; \
                     Admin Center shows it; put it in place with `tokrot apply TARGET --token-stdin`"
                )));
            }
        },
    };
    ex.remember_secret(
        secret,
        &format!("Admin Center shows webhook {id}'s new signing secret; put it in place with `tokrot apply TARGET --token-stdin`"),
    )?;
    Ok(format!(
        "signing secret of webhook {id} reset (from {how}); the old one stopped at once"
    ))
}

/// A refused reset: nothing was reset. Zendesk refuses an admin the secret of a webhook an app
/// made (which preflight did not see), or the credential lacks the admin role.
fn app_refusal(id: &str, e: crate::clients::http::ApiError) -> ActionFailure {
    let refused = matches!(
        e.status(),
        Some(reqwest::StatusCode::FORBIDDEN | reqwest::StatusCode::UNPROCESSABLE_ENTITY)
    );
    let mut failure = ActionFailure::from(e);
    if refused {
        failure.message = format!(
            "{}; Zendesk did not reset webhook {id}'s signing secret: the credential's user must be an admin, and a webhook a Zendesk app made cannot have its secret reset at all",
            failure.message
        );
    }
    failure
}

/// `zendesk.verify_signing_secret`.
pub(crate) const VERIFY_SIGNING_SECRET: ActionSpec = ActionSpec {
    action: Action::ZendeskVerifySigningSecret,
    name: "zendesk.verify_signing_secret",
    summary: "read the webhook's signing secret back and compare it with the new one, without printing either",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::SIGNING_SECRET),
    phase: Phase::Verify,
    args: &[path("webhook_id")],
    yields: None,
};

/// Carries out `zendesk.verify_signing_secret`.
pub(crate) async fn verify_signing_secret(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let id = ex.text(step, "webhook_id")?;
    let new = ex
        .lock()
        .secrets
        .get("token")
        .cloned()
        .ok_or_else(|| ActionFailure::new("there is no new signing secret to compare"))?;
    let shown = ex.zendesk(step)?.signing_secret(id).await?;
    match same(&shown, &new) {
        true => Ok(format!(
            "Zendesk signs webhook {id}'s requests with the new secret"
        )),
        false => Err(ActionFailure::new(format!(
            "Zendesk shows another signing secret for webhook {id} than the reset gave: it was reset again since"
        ))),
    }
}
