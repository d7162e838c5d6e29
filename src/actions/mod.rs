//! The fixed registry of typed actions a runbook step may name. A runbook cannot make an
//! arbitrary HTTP call: it can only name one of these, with arguments the registry checks, so
//! that every call tokrot makes is known, reviewed and shown by `--dry-run`.

pub mod gitlab;
pub mod local;
pub mod run;
pub mod token_format;
pub mod zendesk;

use std::fmt;

/// Who carries an action out: a vendor's API (which decides the base URL of its call:
/// `{gitlab.url}/api/v4`, or the runbook's Zendesk instance) or tokrot itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// A call to this vendor's API.
    Api(Vendor),
    /// tokrot itself (no HTTP call).
    Local,
}

pub use crate::model::Vendor;

pub use crate::model::Phase;

/// Where an argument goes in the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A path segment, percent-encoded (`grp%2Fproj`).
    Path,
    /// A query parameter.
    Query,
    /// A field of the request body.
    Body,
    /// A secret that goes into the request body; only a secret value may fill it.
    SecretBody,
    /// A secret used as the call's credential instead of the tool's own.
    Credential,
    /// The user name that goes with a `Credential` (Zendesk's `{email}/token`).
    CredentialUser,
    /// Not sent: a value tokrot checks the answer against (e.g. the setting an app must have).
    Check,
}

impl ArgKind {
    /// Whether this argument takes a secret (and only a secret).
    pub fn is_secret(self) -> bool {
        matches!(self, ArgKind::SecretBody | ArgKind::Credential)
    }
}

/// One argument an action takes.
#[derive(Debug, Clone, Copy)]
pub struct ArgSpec {
    /// Its name in the runbook's `args` table.
    pub name: &'static str,
    /// Where it goes.
    pub kind: ArgKind,
    /// Whether the runbook must give it.
    pub required: bool,
    /// The wire name when it differs from `name` (e.g. `filter[environment_scope]`).
    pub wire: Option<&'static str>,
}

pub(crate) const fn path(name: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::Path,
        required: true,
        wire: None,
    }
}
/// An argument sent as one of its endpoint's query parameters, named as the route names it.
pub(crate) const fn query(q: crate::clients::route::Query) -> ArgSpec {
    ArgSpec {
        name: q.param,
        kind: ArgKind::Query,
        required: false,
        wire: Some(q.wire),
    }
}
pub(crate) const fn body(name: &'static str, required: bool) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::Body,
        required,
        wire: None,
    }
}
pub(crate) const fn check(name: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::Check,
        required: false,
        wire: None,
    }
}
pub(crate) const fn secret_body(name: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::SecretBody,
        required: true,
        wire: None,
    }
}
pub(crate) const fn credential(name: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::Credential,
        required: true,
        wire: None,
    }
}

/// A typed action: one vendor call (or one step of tokrot's own protocol).
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    /// Which action this describes.
    pub action: Action,
    /// Name a runbook uses, e.g. `gitlab.rotate_personal_token`.
    pub name: &'static str,
    /// What it does, for `tokrot show` and the docs.
    pub summary: &'static str,
    /// Which vendor.
    pub service: Service,
    /// The endpoint it calls (`clients::route`), none for a local action.
    pub route: Option<&'static crate::clients::route::Route>,
    /// Protocol phase.
    pub phase: Phase,
    /// Arguments.
    pub args: &'static [ArgSpec],
    /// The secret this action produces, if any (available as `{secret.NAME}` to later steps).
    pub yields: Option<&'static str>,
}

impl ActionSpec {
    /// The HTTP method, or `""` for a local action.
    pub fn method(&self) -> &'static str {
        self.route.map_or("", |r| r.verb.as_str())
    }

    /// The path below the service's base, with `{arg}` placeholders, or `""`.
    pub fn path(&self) -> &'static str {
        self.route.map_or("", |r| r.path)
    }

    /// Looks up an argument.
    pub fn arg(&self, name: &str) -> Option<&'static ArgSpec> {
        self.args.iter().find(|a| a.name == name)
    }

    /// Whether this is one of the two steps that stand for the rotation's targets.
    pub fn is_targets(&self) -> bool {
        matches!(self.action, Action::TargetsPreflight | Action::TargetsApply)
    }
}

impl fmt::Display for ActionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Stands for the targets' read-only checks, placed by a rotate runbook before it changes anything.
pub const TARGETS_PREFLIGHT: &str = "targets.preflight";
/// Stands for writing the new token into every target (`--apply-to`).
pub const TARGETS_APPLY: &str = "targets.apply";

pub(crate) const PROJECT: ArgSpec = path("project");
pub(crate) const GROUP: ArgSpec = path("group");
pub(crate) const TOKEN_ID: ArgSpec = path("token_id");
pub(crate) const EXPIRES_AT: ArgSpec = body("expires_at", true);
pub(crate) const SCOPE_FILTER: ArgSpec = query(crate::clients::route::gitlab::SCOPE);
pub(crate) const NEW_TOKEN: ArgSpec = credential("token");

/// Every action a runbook may name: one variant each, its spec and its code side by side in
/// the file of its vendor. The executor matches on it exhaustively, so an action without code
/// does not build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `targets.preflight`.
    TargetsPreflight,
    /// `tokrot.stash`.
    TokrotStash,
    /// `targets.apply`.
    TargetsApply,
    /// `gitlab.current_user`.
    GitlabCurrentUser,
    /// `gitlab.find_personal_token`.
    GitlabFindPersonalToken,
    /// `gitlab.get_personal_token`.
    GitlabGetPersonalToken,
    /// `gitlab.rotate_personal_token`.
    GitlabRotatePersonalToken,
    /// `gitlab.verify_personal_token`.
    GitlabVerifyPersonalToken,
    /// `gitlab.find_project_token`.
    GitlabFindProjectToken,
    /// `gitlab.get_project_token`.
    GitlabGetProjectToken,
    /// `gitlab.rotate_project_token`.
    GitlabRotateProjectToken,
    /// `gitlab.create_project_token`.
    GitlabCreateProjectToken,
    /// `gitlab.verify_project_token`.
    GitlabVerifyProjectToken,
    /// `gitlab.find_group_token`.
    GitlabFindGroupToken,
    /// `gitlab.get_group_token`.
    GitlabGetGroupToken,
    /// `gitlab.rotate_group_token`.
    GitlabRotateGroupToken,
    /// `gitlab.verify_group_token`.
    GitlabVerifyGroupToken,
    /// `gitlab.get_trigger`.
    GitlabGetTrigger,
    /// `gitlab.create_trigger`.
    GitlabCreateTrigger,
    /// `gitlab.create_trigger_as`.
    GitlabCreateTriggerAs,
    /// `gitlab.delete_trigger`.
    GitlabDeleteTrigger,
    /// `gitlab.revoke_previous_bot`.
    GitlabRevokePreviousBot,
    /// `gitlab.get_project_variable`.
    GitlabGetProjectVariable,
    /// `gitlab.update_project_variable`.
    GitlabUpdateProjectVariable,
    /// `gitlab.verify_project_variable`.
    GitlabVerifyProjectVariable,
    /// `gitlab.get_group_variable`.
    GitlabGetGroupVariable,
    /// `gitlab.update_group_variable`.
    GitlabUpdateGroupVariable,
    /// `gitlab.verify_group_variable`.
    GitlabVerifyGroupVariable,
    /// `gitlab.get_instance_variable`.
    GitlabGetInstanceVariable,
    /// `gitlab.update_instance_variable`.
    GitlabUpdateInstanceVariable,
    /// `gitlab.verify_instance_variable`.
    GitlabVerifyInstanceVariable,
    /// `gitlab.get_webhook`.
    GitlabGetWebhook,
    /// `gitlab.update_webhook_token`.
    GitlabUpdateWebhookToken,
    /// `gitlab.get_group_webhook`.
    GitlabGetGroupWebhook,
    /// `gitlab.update_group_webhook_token`.
    GitlabUpdateGroupWebhookToken,
    /// `zendesk.current_user`.
    ZendeskCurrentUser,
    /// `zendesk.verify_api_token`.
    ZendeskVerifyApiToken,
    /// `zendesk.get_installation`.
    ZendeskGetInstallation,
    /// `zendesk.update_installation_setting`.
    ZendeskUpdateInstallationSetting,
    /// `zendesk.get_webhook`.
    ZendeskGetWebhook,
    /// `zendesk.patch_webhook_token`.
    ZendeskPatchWebhookToken,
    /// `zendesk.check_signing_secret`.
    ZendeskCheckSigningSecret,
    /// `zendesk.reset_signing_secret`.
    ZendeskResetSigningSecret,
    /// `zendesk.verify_signing_secret`.
    ZendeskVerifySigningSecret,
    /// `zendesk.list_oauth_tokens`.
    ZendeskListOauthTokens,
    /// `zendesk.create_oauth_token`.
    ZendeskCreateOauthToken,
    /// `zendesk.verify_oauth_token`.
    ZendeskVerifyOauthToken,
    /// `zendesk.revoke_oauth_token`.
    ZendeskRevokeOauthToken,
}

impl Action {
    /// Every action.
    pub const ALL: &'static [Action] = &[
        Action::TargetsPreflight,
        Action::TokrotStash,
        Action::TargetsApply,
        Action::GitlabCurrentUser,
        Action::GitlabFindPersonalToken,
        Action::GitlabGetPersonalToken,
        Action::GitlabRotatePersonalToken,
        Action::GitlabVerifyPersonalToken,
        Action::GitlabFindProjectToken,
        Action::GitlabGetProjectToken,
        Action::GitlabRotateProjectToken,
        Action::GitlabCreateProjectToken,
        Action::GitlabVerifyProjectToken,
        Action::GitlabFindGroupToken,
        Action::GitlabGetGroupToken,
        Action::GitlabRotateGroupToken,
        Action::GitlabVerifyGroupToken,
        Action::GitlabGetTrigger,
        Action::GitlabCreateTrigger,
        Action::GitlabCreateTriggerAs,
        Action::GitlabDeleteTrigger,
        Action::GitlabRevokePreviousBot,
        Action::GitlabGetProjectVariable,
        Action::GitlabUpdateProjectVariable,
        Action::GitlabVerifyProjectVariable,
        Action::GitlabGetGroupVariable,
        Action::GitlabUpdateGroupVariable,
        Action::GitlabVerifyGroupVariable,
        Action::GitlabGetInstanceVariable,
        Action::GitlabUpdateInstanceVariable,
        Action::GitlabVerifyInstanceVariable,
        Action::GitlabGetWebhook,
        Action::GitlabUpdateWebhookToken,
        Action::GitlabGetGroupWebhook,
        Action::GitlabUpdateGroupWebhookToken,
        Action::ZendeskCurrentUser,
        Action::ZendeskVerifyApiToken,
        Action::ZendeskGetInstallation,
        Action::ZendeskUpdateInstallationSetting,
        Action::ZendeskGetWebhook,
        Action::ZendeskPatchWebhookToken,
        Action::ZendeskCheckSigningSecret,
        Action::ZendeskResetSigningSecret,
        Action::ZendeskVerifySigningSecret,
        Action::ZendeskListOauthTokens,
        Action::ZendeskCreateOauthToken,
        Action::ZendeskVerifyOauthToken,
        Action::ZendeskRevokeOauthToken,
    ];
}

/// Every action's spec, in registry order: tokrot's own, then GitLab's, then Zendesk's.
pub fn registry() -> impl Iterator<Item = &'static ActionSpec> {
    [
        local::SPECS,
        gitlab::tokens::SPECS,
        gitlab::triggers::SPECS,
        gitlab::variables::SPECS,
        gitlab::hooks::SPECS,
        zendesk::users::SPECS,
        zendesk::apps::SPECS,
        zendesk::webhooks::SPECS,
        zendesk::signing::SPECS,
        zendesk::oauth::SPECS,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// An action argument, resolved as far as the plan can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgValue {
    /// A value known now.
    Text(String),
    /// A secret set by an earlier step, by name; only its name is in the plan.
    Secret(String),
    /// Not known until an earlier step finds it (e.g. a token id found by name) or a default is
    /// worked out (e.g. `expires_at`).
    Missing,
}

/// One action to carry out: which, with what arguments, for which target and instance.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The action.
    pub action: Action,
    /// Its arguments.
    pub args: Vec<(String, ArgValue)>,
    /// The target (index into the plan's targets) it works for.
    pub target_index: Option<usize>,
    /// The Zendesk instance of its runbook.
    pub instance: Option<crate::config::Instance>,
}

impl Invocation {
    /// An argument's value: `None` when the step has no such argument.
    pub fn arg(&self, name: &str) -> Option<&ArgValue> {
        arg(&self.args, name)
    }

    /// An argument known now, as text.
    pub fn text_arg(&self, name: &str) -> Option<&str> {
        text_arg(&self.args, name)
    }
}

/// The value of argument `name` among `args`.
pub fn arg<'a>(args: &'a [(String, ArgValue)], name: &str) -> Option<&'a ArgValue> {
    args.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// The value of argument `name` among `args`, when it is known now, as text.
pub fn text_arg<'a>(args: &'a [(String, ArgValue)], name: &str) -> Option<&'a str> {
    match arg(args, name) {
        Some(ArgValue::Text(t)) => Some(t),
        _ => None,
    }
}

/// Something only the operator knows, that an action needs before it can go on (a webhook's
/// user name, whether to write a setting Zendesk does not show, which old token to revoke).
/// Actions never prompt: they return the question, the engine asks it (or cannot), and the
/// action runs again with the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// What the answer is kept under, for the run.
    pub key: String,
    /// What to ask.
    pub ask: Ask,
    /// The failure when nobody can answer (no terminal, `--yes`): which flag to give instead.
    pub unanswered: String,
}

/// The kinds of question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A visible, non-empty line.
    Text(String),
    /// Yes or no; `--yes` answers yes.
    Confirm(String),
    /// One item of a list.
    /// The prompt, the lines shown, and the value each stands for (the answer is the value,
    /// not its place in a list that may be read again in another order).
    Pick(String, Vec<String>, Vec<String>),
}

/// An answer to a `Question`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A line.
    Text(String),
    /// Yes or no.
    Yes(bool),
    /// The value of the item picked.
    Picked(String),
}

/// Looks up an action by name.
pub fn lookup(name: &str) -> Option<&'static ActionSpec> {
    registry().find(|a| a.name == name)
}

/// The action names closest to `name`, for "did you mean" hints.
pub fn suggest(name: &str) -> Vec<&'static str> {
    let mut scored: Vec<(usize, &'static str)> = registry()
        .map(|a| (crate::text::edit_distance(name, a.name), a.name))
        .filter(|(d, _)| *d <= 6)
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A dry-run line shows an action's query arguments by their wire names and the request
    /// sends them by its route's: both come from the route's description.
    #[test]
    fn every_query_argument_is_one_its_route_takes_under_the_same_wire_name() {
        let mut seen = 0;
        for spec in registry() {
            for a in spec.args.iter().filter(|a| a.kind == ArgKind::Query) {
                let route = spec
                    .route
                    .unwrap_or_else(|| panic!("{}: a query argument with no route", spec.name));
                let q = route
                    .takes(a.name)
                    .unwrap_or_else(|| panic!("{}: its route takes no `{}`", spec.name, a.name));
                assert_eq!(a.wire, Some(q.wire), "{}", spec.name);
                seen += 1;
            }
        }
        assert!(seen >= 5, "only {seen} query arguments");
    }

    #[test]
    fn names_are_unique_and_namespaced() {
        let mut seen = HashSet::new();
        for a in registry() {
            assert!(seen.insert(a.name), "duplicate action {}", a.name);
            let ns = a.name.split('.').next().unwrap();
            let expected = match a.service {
                Service::Api(vendor) => vendor.as_str(),
                Service::Local => {
                    assert!(ns == "targets" || ns == "tokrot", "{}", a.name);
                    continue;
                }
            };
            assert_eq!(ns, expected, "{}", a.name);
        }
    }

    #[test]
    fn every_path_placeholder_is_a_path_argument() {
        for a in registry() {
            let mut rest = a.path();
            while let Some(start) = rest.find('{') {
                let end = rest[start..].find('}').unwrap() + start;
                let name = &rest[start + 1..end];
                let arg = a
                    .arg(name)
                    .unwrap_or_else(|| panic!("{}: no arg {name}", a.name));
                assert_eq!(arg.kind, ArgKind::Path, "{}: {name}", a.name);
                rest = &rest[end + 1..];
            }
            for arg in a.args.iter().filter(|g| g.kind == ArgKind::Path) {
                assert!(
                    a.path().contains(&format!("{{{}}}", arg.name)),
                    "{}: {}",
                    a.name,
                    arg.name
                );
            }
        }
    }

    #[test]
    fn only_rotate_actions_yield_secrets_and_none_is_idempotent() {
        for a in registry() {
            if a.yields.is_some() {
                assert_eq!(a.phase, Phase::Rotate, "{}", a.name);
                assert_eq!(a.method(), "POST", "{}", a.name);
            }
        }
    }

    #[test]
    fn every_action_has_one_spec_and_every_spec_one_action() {
        for a in Action::ALL {
            assert_eq!(registry().filter(|s| s.action == *a).count(), 1, "{a:?}");
        }
        assert_eq!(registry().count(), Action::ALL.len());
    }

    #[test]
    fn suggestions_find_near_misses() {
        assert_eq!(
            suggest("gitlab.rotate_personal_tokn")[0],
            "gitlab.rotate_personal_token"
        );
        assert!(suggest("completely.different.thing.here").is_empty());
    }
}
