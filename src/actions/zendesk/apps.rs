//! Zendesk app installations: one setting written and nothing else. Zendesk never shows a
//! secure setting, and an app's token is held in one: the app's own parameters (Apps API) tell
//! a secure setting (known, written, never read back) from a typo (refused, naming the
//! parameters). Only where they cannot be read is an unshown setting written once confirmed.

use crate::actions::run::{ActionFailure, Executor, Verified};
use crate::actions::{
    Action, ActionSpec, Invocation, Phase, Service, body, check, path, secret_body,
};
use crate::clients::route;
use crate::model::Vendor;

/// The actions of this file, in registry order.
pub(crate) const SPECS: &[&ActionSpec] = &[&GET_INSTALLATION, &UPDATE_INSTALLATION_SETTING];

/// `zendesk.get_installation`.
pub(crate) const GET_INSTALLATION: ActionSpec = ActionSpec {
    action: Action::ZendeskGetInstallation,
    name: "zendesk.get_installation",
    summary: "read an app installation and the settings it shows",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::INSTALLATION),
    phase: Phase::Preflight,
    args: &[path("installation_id"), check("setting")],
    yields: None,
};

/// Carries out `zendesk.get_installation`.
pub(crate) async fn get_installation(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let id = ex.number(step, "installation_id")?;
    let inst = ex.zendesk(step)?.installation(id).await?;
    let mut note = format!("app installation {id} \"{}\"", inst.name);
    ex.lock()
        .targets
        .entry(step.target_index)
        .or_default()
        .installation = Some(inst.clone());
    let Some(setting) = step.text_arg("setting") else {
        return Ok(note);
    };
    if inst.settings.iter().any(|shown| shown == setting) {
        // Shown, so not secure: the token would be readable wherever the settings are.
        note.push_str(&format!(
            "; warning: `{setting}` is not a secure setting, so Zendesk shows its value to whoever can see the app's settings (a secure parameter keeps a token hidden)"
        ));
        return Ok(note);
    }
    // Not shown: the app's parameters say whether it is secure, or not there at all.
    let app = match inst.app_id {
        Some(app_id) => ex
            .zendesk(step)?
            .app(app_id)
            .await
            .map_err(|e| e.to_string()),
        None => Err("the installation names no app".into()),
    };
    match app {
        Ok(app) => by_parameters(ex, step, id, setting, &app, &mut note)?,
        Err(why) => unseen(ex, step, id, setting, &inst.settings, &why, &mut note)?,
    }
    Ok(note)
}

/// A setting the installation does not show, as the app's parameters say it is: secure
/// (written, never shown), not set yet, or not one of the app's at all (refused).
fn by_parameters(
    ex: &Executor,
    step: &Invocation,
    id: u64,
    setting: &str,
    app: &crate::clients::zendesk::App,
    note: &mut String,
) -> Result<(), ActionFailure> {
    match app.parameters.iter().find(|(name, _)| name == setting) {
        Some((_, true)) => {
            note.push_str(&format!(
                "; `{setting}` is a secure parameter of {}: written, never shown, so it cannot be read back",
                crate::text::one_line(&app.name)
            ));
            ex.lock()
                .targets
                .entry(step.target_index)
                .or_default()
                .secure_setting = true;
            Ok(())
        }
        Some((_, false)) => {
            note.push_str(&format!("; `{setting}` is not set yet"));
            Ok(())
        }
        None => {
            let names: Vec<String> = app
                .parameters
                .iter()
                .map(|(n, secure)| {
                    let n = crate::text::one_line(n);
                    if *secure { format!("{n} (secure)") } else { n }
                })
                .collect();
            Err(ActionFailure::new(format!(
                "{} (installation {id}) has no setting `{setting}`; its parameters: {}",
                crate::text::one_line(&app.name),
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            )))
        }
    }
}

/// A setting the installation does not show, whose app's parameters could not be read: a
/// secure setting or a typo. Asked here, before anything changes (the rotate call comes after
/// the checks): a no stops the run with nothing sent; `--yes` answers yes.
fn unseen(
    ex: &Executor,
    step: &Invocation,
    id: u64,
    setting: &str,
    shown: &[String],
    why: &str,
    note: &mut String,
) -> Result<(), ActionFailure> {
    let near = crate::text::closest(setting, shown.iter().map(String::as_str));
    note.push_str(&format!(
        "; it does not show a setting `{setting}`, and the app's parameters could not be read ({why}): unverified, a secure setting or a typo{}",
        if near.is_empty() { String::new() } else { format!(" (close: {})", near.join(", ")) }
    ));
    if !ex.confirmed(
        &format!("write-unseen:{id}:{setting}"),
        format!(
            "Installation {id} does not show `{setting}` (secure, or a typo). Write the new token into it anyway?"
        ),
    )? {
        return Err(ActionFailure::new(format!(
            "installation {id} does not show `{setting}` (a secure setting, or a typo), and writing it was not confirmed"
        )));
    }
    ex.lock()
        .targets
        .entry(step.target_index)
        .or_default()
        .unseen_setting = true;
    Ok(())
}

/// `zendesk.update_installation_setting`.
pub(crate) const UPDATE_INSTALLATION_SETTING: ActionSpec = ActionSpec {
    action: Action::ZendeskUpdateInstallationSetting,
    name: "zendesk.update_installation_setting",
    summary: "write one setting of an app installation and nothing else",
    service: Service::Api(Vendor::Zendesk),
    route: Some(&route::zendesk::UPDATE_INSTALLATION),
    phase: Phase::Apply,
    args: &[
        path("installation_id"),
        body("setting", true),
        secret_body("value"),
    ],
    yields: None,
};

/// A setting the installation does not show is written only once the operator confirms it.
fn confirm_unseen(ex: &Executor, id: u64, setting: &str) -> Result<(), ActionFailure> {
    let asked = format!(
        "Installation {id} does not show `{setting}` (secure, or a typo). Write it anyway?"
    );
    if ex.confirmed(&format!("write-unseen:{id}:{setting}"), asked)? {
        return Ok(());
    }
    Err(ActionFailure::new(format!(
        "not written: installation {id} does not show `{setting}` (a secure setting, or a typo), and the write was not confirmed"
    )))
}

/// Settings that changed or vanished with a write, with what they were where that cannot be a
/// secret.
fn lost_settings(lost: &[(String, Option<String>)]) -> String {
    lost.iter()
        .map(|(name, was)| match was {
            Some(v) => format!(
                "{} (was \"{}\")",
                crate::text::one_line(name),
                crate::text::one_line(v)
            ),
            None => format!(
                "{} (its value is not kept: it may be a secret)",
                crate::text::one_line(name)
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Carries out `zendesk.update_installation_setting`.
pub(crate) async fn update_installation_setting(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let id = ex.number(step, "installation_id")?;
    let setting = ex.text(step, "setting")?;
    let value = ex.secret(step, "value")?;
    let (unseen, secure, before) = ex
        .lock()
        .targets
        .get(&step.target_index)
        .map_or((false, false, None), |t| {
            (t.unseen_setting, t.secure_setting, t.installation.clone())
        });
    if unseen {
        confirm_unseen(ex, id, setting)?;
    }
    let client = ex.zendesk(step)?;
    client
        .update_installation_setting(id, setting, &value)
        .await?;
    // The PUT carried one setting; nothing confirms that Zendesk keeps the others rather than
    // dropping them (reference/vendor-apis.md): the settings shown before are read again.
    let after = client.installation(id).await;
    if let (Some(before), Ok(after)) = (&before, &after) {
        let lost = before.changed_besides(after, setting);
        if !lost.is_empty() {
            ex.mark_applied(step.target_index, Some(Verified::No), None);
            // What they were is said (and so journaled) where it cannot be a secret.
            return Err(ActionFailure::after_write(format!(
                "`{setting}` of installation {id} was written, but other settings changed or vanished with it: {}; set them again in Admin Center",
                lost_settings(&lost)
            )));
        }
    }
    if secure {
        ex.mark_applied(step.target_index, Some(Verified::NotReadable), None);
        return Ok(format!(
            "`{setting}` written, no other setting sent; a secure setting: not readable (Zendesk never shows one)"
        ));
    }
    if unseen {
        let note =
            format!("`{setting}` was not shown by the installation (a secure setting, or a typo)");
        ex.mark_applied(step.target_index, Some(Verified::NotReadable), Some(note));
        return Ok(format!(
            "`{setting}` written, though the installation did not show it; not readable (secure settings are never returned)"
        ));
    }
    // A shown setting is read back and compared, without printing either value.
    let verified = match after?.setting_holds(setting, &value) {
        Some(true) => Verified::Yes,
        Some(false) => Verified::No,
        None => Verified::NotReadable,
    };
    ex.mark_applied(step.target_index, Some(verified), None);
    match verified {
        Verified::No => Err(ActionFailure::new(format!(
            "`{setting}` of installation {id} does not hold the new value after the update"
        ))),
        Verified::Yes => Ok(format!(
            "`{setting}` written, no other setting sent; read back: holds the new value"
        )),
        Verified::NotReadable => Ok(format!(
            "`{setting}` written, no other setting sent; no longer shown: not readable"
        )),
    }
}
