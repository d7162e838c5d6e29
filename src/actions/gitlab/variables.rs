//! GitLab CI/CD variables of projects, groups and the instance: read the settings, write the
//! value keeping them, read it back where GitLab shows it (hidden variables are never shown).
//! Instance variables are for administrators of a self-managed GitLab and have no scope.

use std::sync::Arc;

use crate::actions::run::{ActionFailure, Executor, Verified, flag, var_owner_key};
use crate::actions::{
    Action, ActionSpec, GROUP, Invocation, PROJECT, Phase, SCOPE_FILTER, Service, path, secret_body,
};
use crate::clients::gitlab::{GitLab, VarOwner, Variable, maskable};
use crate::clients::http::ApiError;
use crate::clients::route;
use crate::model::Vendor;
use crate::secret::same;

/// The actions of this file, in registry order.
pub(crate) const SPECS: &[&ActionSpec] = &[
    &GET_PROJECT_VARIABLE,
    &UPDATE_PROJECT_VARIABLE,
    &VERIFY_PROJECT_VARIABLE,
    &GET_GROUP_VARIABLE,
    &UPDATE_GROUP_VARIABLE,
    &VERIFY_GROUP_VARIABLE,
    &GET_INSTANCE_VARIABLE,
    &UPDATE_INSTANCE_VARIABLE,
    &VERIFY_INSTANCE_VARIABLE,
];

/// `gitlab.get_project_variable`.
pub(crate) const GET_PROJECT_VARIABLE: ActionSpec = ActionSpec {
    action: Action::GitlabGetProjectVariable,
    name: "gitlab.get_project_variable",
    summary: "read a project CI/CD variable's flags (protected, masked, raw, scope)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::PROJECT_VARIABLE),
    phase: Phase::Preflight,
    args: &[PROJECT, path("key"), SCOPE_FILTER],
    yields: None,
};

/// Carries out `gitlab.get_project_variable` and `gitlab.get_group_variable`.
pub(crate) async fn get_variable(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let owner = ex.var_owner(step)?;
    let key = ex.text(step, "key")?;
    let scope = step.text_arg("environment_scope").unwrap_or("*");
    let var = read_variable(ex, owner, key, scope).await?;
    if (var.masked || var.hidden)
        && let Some(incoming) = &ex.incoming
    {
        let (probe, what) = incoming.probe();
        if let Err(rule) = maskable(&probe, var.raw) {
            return Err(ActionFailure::new(format!(
                "{key} is {}, and {what} cannot go into it: {rule}; nothing was changed",
                if var.hidden { "hidden" } else { "masked" }
            )));
        }
    }
    let note = format!(
        "{key} found ({}{}{}scope {})",
        flag(var.protected, "protected, "),
        flag(var.masked, "masked, "),
        flag(var.hidden, "hidden, "),
        var.environment_scope
    );
    ex.lock()
        .targets
        .entry(step.target_index)
        .or_default()
        .variable = Some(var);
    Ok(note)
}

/// `gitlab.update_project_variable`.
pub(crate) const UPDATE_PROJECT_VARIABLE: ActionSpec = ActionSpec {
    action: Action::GitlabUpdateProjectVariable,
    name: "gitlab.update_project_variable",
    summary: "write the new value into a project CI/CD variable, keeping its flags",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::UPDATE_PROJECT_VARIABLE),
    phase: Phase::Apply,
    args: &[PROJECT, path("key"), SCOPE_FILTER, secret_body("value")],
    yields: None,
};

/// Carries out `gitlab.update_project_variable` and `gitlab.update_group_variable`.
pub(crate) async fn update_variable(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let owner = ex.var_owner(step)?;
    let value = ex.secret(step, "value")?;
    let current = ex
        .lock()
        .targets
        .get_mut(&step.target_index)
        .and_then(|t| t.variable.take())
        .ok_or_else(|| ActionFailure::new("the variable was not read before the write"))?;
    if (current.masked || current.hidden)
        && let Err(rule) = maskable(&value, current.raw)
    {
        let key = current.key.clone();
        ex.lock()
            .targets
            .entry(step.target_index)
            .or_default()
            .variable = Some(current);
        return Err(ActionFailure::new(format!("not written to {key}: {rule}")));
    }
    let written = ex
        .gitlab()?
        .update_variable(owner, &current, &value)
        .await?;
    if written.environment_scope != current.environment_scope {
        if let Some(i) = step.target_index {
            ex.lock().facts.targets.entry(i).or_default().applied = true;
        }
        return Err(ActionFailure::after_write(format!(
            "GitLab wrote {} of environment scope `{}`, not `{}`: it did not honour the scope filter; check both in the project's CI/CD settings",
            current.key, written.environment_scope, current.environment_scope
        )));
    }
    let mut st = ex.lock();
    if let Some(i) = step.target_index {
        st.facts.targets.entry(i).or_default().applied = true;
    }
    let t = st.targets.entry(step.target_index).or_default();
    t.variable = Some(current);
    t.written = Some(written);
    Ok("written, settings kept".into())
}

/// `gitlab.verify_project_variable`.
pub(crate) const VERIFY_PROJECT_VARIABLE: ActionSpec = ActionSpec {
    action: Action::GitlabVerifyProjectVariable,
    name: "gitlab.verify_project_variable",
    summary: "read the project CI/CD variable back and compare (hidden variables: not readable)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::PROJECT_VARIABLE),
    phase: Phase::Verify,
    args: &[PROJECT, path("key"), SCOPE_FILTER],
    yields: None,
};

/// Carries out `gitlab.verify_project_variable` and `gitlab.verify_group_variable`.
pub(crate) async fn verify_variable(
    ex: &Executor,
    step: &Invocation,
) -> Result<String, ActionFailure> {
    let token = ex.lock().secrets.get("token").cloned();
    let written = ex
        .lock()
        .targets
        .get_mut(&step.target_index)
        .and_then(|t| t.written.take());
    // The write's answer carries the stored value: it serves as the read-back.
    let stored = match written {
        Some(w) => w,
        None => {
            let owner = ex.var_owner(step)?;
            let key = ex.text(step, "key")?;
            let scope = step.text_arg("environment_scope").unwrap_or("*");
            scoped(ex.gitlab()?.variable(owner, key, scope).await?, scope)?
        }
    };
    let verified = match (&stored.value, &token) {
        _ if stored.hidden => Verified::NotReadable,
        (Some(v), Some(t)) if same(v, t) => Verified::Yes,
        (None, _) => Verified::NotReadable,
        _ => Verified::No,
    };
    if let Some(i) = step.target_index {
        ex.lock().facts.targets.entry(i).or_default().verified = Some(verified);
    }
    match verified {
        Verified::No => Err(ActionFailure::new(format!(
            "{} does not hold the new value",
            stored.key
        ))),
        Verified::NotReadable => Ok("hidden variable: not readable, cannot be compared".into()),
        Verified::Yes => Ok("read back: holds the new value".into()),
    }
}

/// `gitlab.get_group_variable`.
pub(crate) const GET_GROUP_VARIABLE: ActionSpec = ActionSpec {
    action: Action::GitlabGetGroupVariable,
    name: "gitlab.get_group_variable",
    summary: "read a group CI/CD variable's flags (protected, masked, raw, scope)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::GROUP_VARIABLE),
    phase: Phase::Preflight,
    args: &[GROUP, path("key"), SCOPE_FILTER],
    yields: None,
};

/// `gitlab.update_group_variable`.
pub(crate) const UPDATE_GROUP_VARIABLE: ActionSpec = ActionSpec {
    action: Action::GitlabUpdateGroupVariable,
    name: "gitlab.update_group_variable",
    summary: "write the new value into a group CI/CD variable, keeping its flags",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::UPDATE_GROUP_VARIABLE),
    phase: Phase::Apply,
    args: &[GROUP, path("key"), SCOPE_FILTER, secret_body("value")],
    yields: None,
};

/// `gitlab.verify_group_variable`.
pub(crate) const VERIFY_GROUP_VARIABLE: ActionSpec = ActionSpec {
    action: Action::GitlabVerifyGroupVariable,
    name: "gitlab.verify_group_variable",
    summary: "read the group CI/CD variable back and compare (hidden variables: not readable)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::GROUP_VARIABLE),
    phase: Phase::Verify,
    args: &[GROUP, path("key"), SCOPE_FILTER],
    yields: None,
};

/// `gitlab.get_instance_variable`.
pub(crate) const GET_INSTANCE_VARIABLE: ActionSpec = ActionSpec {
    action: Action::GitlabGetInstanceVariable,
    name: "gitlab.get_instance_variable",
    summary: "read an instance CI/CD variable's flags (protected, masked, raw; administrators only)",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::INSTANCE_VARIABLE),
    phase: Phase::Preflight,
    args: &[path("key")],
    yields: None,
};

/// `gitlab.update_instance_variable`.
pub(crate) const UPDATE_INSTANCE_VARIABLE: ActionSpec = ActionSpec {
    action: Action::GitlabUpdateInstanceVariable,
    name: "gitlab.update_instance_variable",
    summary: "write the new value into an instance CI/CD variable, keeping its flags",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::UPDATE_INSTANCE_VARIABLE),
    phase: Phase::Apply,
    args: &[path("key"), secret_body("value")],
    yields: None,
};

/// `gitlab.verify_instance_variable`.
pub(crate) const VERIFY_INSTANCE_VARIABLE: ActionSpec = ActionSpec {
    action: Action::GitlabVerifyInstanceVariable,
    name: "gitlab.verify_instance_variable",
    summary: "read the instance CI/CD variable back and compare",
    service: Service::Api(Vendor::GitLab),
    route: Some(&route::gitlab::INSTANCE_VARIABLE),
    phase: Phase::Verify,
    args: &[path("key")],
    yields: None,
};

/// The variable GitLab answered with, when it is of the scope asked for: a GitLab that ignores
/// `filter[environment_scope]` answers with any of the key's scopes.
fn scoped(var: Variable, scope: &str) -> Result<Variable, ActionFailure> {
    if var.environment_scope == scope {
        return Ok(var);
    }
    Err(ActionFailure::new(format!(
        "asked for {} of environment scope `{scope}`, GitLab answered with the one of scope `{}`: \
         it did not honour the scope filter (some GitLab versions and tiers ignore it), so which of \
         the key's scopes a write would reach is not known",
        var.key, var.environment_scope
    )))
}

pub(crate) async fn read_variable(
    ex: &Executor,
    owner: VarOwner<'_>,
    key: &str,
    scope: &str,
) -> Result<Variable, ActionFailure> {
    let gitlab = ex.gitlab()?;
    let name = var_owner_key(owner);
    if !ex.batched.contains(&name) {
        return match gitlab.variable(owner, key, scope).await {
            Ok(var) => scoped(var, scope),
            Err(e) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => {
                Err(not_found(&gitlab, owner, key, scope, e).await)
            }
            Err(e) if owner == VarOwner::Instance => Err(not_admin(e)),
            Err(e) => Err(e.into()),
        };
    }
    let cell = ex
        .lists
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(name.clone())
        .or_default()
        .clone();
    let list = cell
        .get_or_init(|| async {
            gitlab
                .variables(owner)
                .await
                .map(Arc::new)
                .map_err(|e| match owner {
                    VarOwner::Instance => not_admin(e),
                    VarOwner::Of(_) => ActionFailure::from(e),
                })
        })
        .await
        .clone()?;
    list.iter()
        .find(|v| v.key == key && v.environment_scope == scope)
        .cloned()
        .ok_or_else(|| {
            ActionFailure::new(format!(
                "404: no variable {key} with environment scope {scope} in {name}; {}",
                keys_note(&list, key, scope, &name)
            ))
        })
}

/// The most keys a missing variable's error lists.
const LISTED_KEYS: usize = 20;
/// The most characters of one vendor-given key or scope a note shows.
const SHOWN_CHARS: usize = 60;

/// A variable GitLab does not find, with the keys its project or group does have (one more
/// list call; keys and scopes only, never a value). A list that cannot be read leaves the 404
/// as it is: the project itself may be what is missing.
async fn not_found(
    gitlab: &GitLab,
    owner: VarOwner<'_>,
    key: &str,
    scope: &str,
    e: ApiError,
) -> ActionFailure {
    let mut failure = ActionFailure::from(e);
    if let Ok(vars) = gitlab.variables(owner).await {
        let note = keys_note(&vars, key, scope, &var_owner_key(owner));
        failure.message = format!("{}; {note}", failure.message);
    }
    failure
}

/// An instance variable GitLab refused to show: only an administrator of a self-managed GitLab
/// may (gitlab.com has no instance variables for its users).
fn not_admin(e: ApiError) -> ActionFailure {
    let refused = e.status() == Some(reqwest::StatusCode::FORBIDDEN);
    let mut failure = ActionFailure::from(e);
    if refused {
        failure.message = format!(
            "{}; instance CI/CD variables are read and written by administrators of a self-managed GitLab only: the credential's user is not one, or (with Admin Mode on) the token lacks the `admin_mode` scope",
            failure.message
        );
    }
    failure
}

/// What `owner` has instead of `key` in `scope`: the key in other scopes, or its keys (the
/// closest first, at most `LISTED_KEYS`).
fn keys_note(vars: &[Variable], key: &str, scope: &str, owner: &str) -> String {
    // Vendor text, on one line and bounded: a scope or key can hold anything.
    let scopes: Vec<String> = vars
        .iter()
        .filter(|v| v.key == key)
        .map(|v| crate::text::short(&v.environment_scope, SHOWN_CHARS))
        .collect();
    if !scopes.is_empty() {
        let more = scopes.len().saturating_sub(LISTED_KEYS);
        let listed = scopes[..scopes.len().min(LISTED_KEYS)].join(", ");
        let more = match more {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        return format!(
            "{owner} has {key} only in environment scope(s) {listed}{more}, not `{scope}`: give the scope (KEY@SCOPE, or --environment-scope)"
        );
    }
    let mut keys: Vec<&str> = vars.iter().map(|v| v.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return format!("{owner} has no CI/CD variables");
    }
    let near = crate::text::closest(key, keys.iter().copied());
    let mut shown = near.clone();
    shown.extend(keys.iter().copied().filter(|k| !near.contains(k)));
    let more = keys.len().saturating_sub(LISTED_KEYS);
    shown.truncate(LISTED_KEYS);
    let listed: Vec<String> = shown
        .iter()
        .map(|k| crate::text::short(k, SHOWN_CHARS))
        .collect();
    let listed = listed.join(", ");
    let near: Vec<String> = near
        .iter()
        .map(|k| crate::text::short(k, SHOWN_CHARS))
        .collect();
    match (near.first(), more) {
        (Some(n), 0) => format!("did you mean {n}? {owner} has: {listed}"),
        (Some(n), more) => format!("did you mean {n}? {owner} has: {listed} and {more} more"),
        (None, 0) => format!("{owner} has: {listed}"),
        (None, more) => format!("{owner} has: {listed} and {more} more"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(key: &str, scope: &str) -> Variable {
        Variable {
            key: key.into(),
            value: None,
            variable_type: "env_var".into(),
            protected: false,
            masked: false,
            hidden: false,
            raw: false,
            environment_scope: scope.into(),
        }
    }

    #[test]
    fn a_missing_key_is_told_with_the_keys_there_are() {
        let vars = [
            var("ZD_TOKEN", "*"),
            var("OTHER", "*"),
            var("API_TOKEN", "production"),
        ];
        let note = keys_note(&vars, "ZD_TOKN", "*", "project g/p");
        assert_eq!(
            note,
            "did you mean ZD_TOKEN? project g/p has: ZD_TOKEN, API_TOKEN, OTHER"
        );
        let note = keys_note(&vars, "API_TOKEN", "*", "project g/p");
        assert!(
            note.contains("only in environment scope(s) production, not `*`"),
            "{note}"
        );
        let many: Vec<Variable> = (0..25).map(|i| var(&format!("K{i:02}"), "*")).collect();
        let note = keys_note(&many, "NOPE", "*", "project g/p");
        assert!(note.ends_with("K19 and 5 more"), "{note}");
        assert_eq!(
            keys_note(&[], "K", "*", "group g"),
            "group g has no CI/CD variables"
        );
    }
}
