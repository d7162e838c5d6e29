//! Carries out registry actions against the vendor clients. Each step keeps what it learns (the
//! old token's lifetime, a variable's settings, a webhook's URL, the new token) for the steps
//! after it, per target, so that targets can run side by side.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use jiff::ToSpan;
use jiff::civil::Date;
use secrecy::SecretString;

use crate::actions::TARGETS_APPLY;
use crate::clients::gitlab::{AccessToken, GitLab, Hook, Owner, Variable, maskable};
use crate::clients::http::ApiError;
use crate::engine::plan::{ArgValue, PlanStep};
use crate::secret::{Redactor, same, stash};

/// The longest lifetime GitLab gives an access token (issue 413969: 365 days).
pub const MAX_LIFETIME_DAYS: i64 = 365;

/// From this many variable targets in one project or group on, their settings are read with
/// one list call (100 a page) instead of one call each.
pub const BATCH_VARIABLE_READS: usize = 5;

type VariableList = Arc<OnceCell<Result<Arc<Vec<Variable>>, ActionFailure>>>;

/// An action that did not succeed.
#[derive(Debug, Clone)]
pub struct ActionFailure {
    /// What went wrong, redacted.
    pub message: String,
    /// Whether the vendor may have carried out the call anyway (lost answer, 5xx).
    pub unknown: bool,
}

impl ActionFailure {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            unknown: false,
        }
    }
}

impl From<ApiError> for ActionFailure {
    fn from(e: ApiError) -> Self {
        Self {
            unknown: e.outcome_unknown(),
            message: e.to_string(),
        }
    }
}

/// Whether a target holds the new value, as far as its API lets tokrot read it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Read back and equal.
    Yes,
    /// Read back and different.
    No,
    /// The API never returns this value.
    NotReadable,
}

impl Verified {
    /// As in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Verified::Yes => "yes",
            Verified::No => "no",
            Verified::NotReadable => "not-readable",
        }
    }
}

/// What became of one target.
#[derive(Debug, Clone, Default)]
pub struct TargetReport {
    /// The new value was written.
    pub applied: bool,
    /// The read-back.
    pub verified: Option<Verified>,
    /// Why it failed.
    pub error: Option<String>,
}

/// What a run produced, for the report.
#[derive(Debug, Clone, Default)]
pub struct RunFacts {
    /// The new token's id.
    pub new_id: Option<u64>,
    /// The new token's expiry as sent.
    pub expires_at: Option<String>,
    /// The user of the tool's GitLab credential.
    pub gitlab_user: Option<String>,
    /// Whether the new token is in the keyring.
    pub stashed: bool,
    /// Targets by index.
    pub targets: BTreeMap<usize, TargetReport>,
}

#[derive(Default)]
struct TargetState {
    variable: Option<Variable>,
    written: Option<Variable>,
    hook: Option<Hook>,
}

#[derive(Default)]
struct State {
    secrets: BTreeMap<String, SecretString>,
    token_id: Option<String>,
    old_token: Option<AccessToken>,
    old_trigger_description: Option<String>,
    facts: RunFacts,
    targets: BTreeMap<Option<usize>, TargetState>,
}

/// Carries out the action steps of one run.
pub struct Executor {
    gitlab: Option<GitLab>,
    redactor: Redactor,
    rotation_id: String,
    today: Date,
    state: Mutex<State>,
    batched: HashSet<String>,
    lists: Mutex<HashMap<String, VariableList>>,
}

impl Executor {
    /// An executor for a run; `gitlab` is `None` when the run has no GitLab action.
    pub fn new(
        gitlab: Option<GitLab>,
        redactor: Redactor,
        rotation_id: String,
        today: Date,
    ) -> Self {
        Self {
            gitlab,
            redactor,
            rotation_id,
            today,
            state: Mutex::new(State::default()),
            batched: HashSet::new(),
            lists: Mutex::new(HashMap::new()),
        }
    }

    /// Reads the variables of a project or group with one list call when many targets are in it.
    pub fn batch_variable_reads(mut self, steps: &[PlanStep]) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for s in steps {
            if matches!(
                s.action,
                Some("gitlab.get_project_variable" | "gitlab.get_group_variable")
            ) && let Ok(owner) = self.owner(s)
            {
                *counts.entry(owner_key(owner)).or_default() += 1;
            }
        }
        self.batched = counts
            .into_iter()
            .filter(|(_, n)| *n >= BATCH_VARIABLE_READS)
            .map(|(k, _)| k)
            .collect();
        self
    }

    async fn read_variable(
        &self,
        owner: Owner<'_>,
        key: &str,
        scope: &str,
    ) -> Result<Variable, ActionFailure> {
        let gitlab = self.gitlab()?;
        let name = owner_key(owner);
        if !self.batched.contains(&name) {
            return Ok(gitlab.variable(owner, key, scope).await?);
        }
        let cell = self
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
                    .map_err(ActionFailure::from)
            })
            .await
            .clone()?;
        list.iter()
            .find(|v| v.key == key && v.environment_scope == scope)
            .cloned()
            .ok_or_else(|| {
                ActionFailure::new(format!(
                    "404: no variable {key} with environment scope {scope} in {name}"
                ))
            })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The run's id (the keyring account is `pending:<id>`).
    pub fn rotation_id(&self) -> &str {
        &self.rotation_id
    }

    /// Takes a value captured by the walk (a pasted token).
    pub fn captured(&self, id: &str, value: &SecretString) {
        self.redactor.register(value);
        self.lock().secrets.insert(id.to_owned(), value.clone());
    }

    /// What the run produced so far.
    pub fn facts(&self) -> RunFacts {
        self.lock().facts.clone()
    }

    /// Records a target that failed.
    pub fn target_failed(&self, index: usize, message: &str) {
        let mut st = self.lock();
        let t = st.facts.targets.entry(index).or_default();
        t.error = Some(message.to_owned());
    }

    /// Removes the stashed token once the rotation has finished.
    pub fn clear_stash(&self) -> Result<(), stash::StashError> {
        if self.lock().facts.stashed {
            stash::remove(&self.rotation_id)?;
            self.lock().facts.stashed = false;
        }
        Ok(())
    }

    fn gitlab(&self) -> Result<&GitLab, ActionFailure> {
        self.gitlab
            .as_ref()
            .ok_or_else(|| ActionFailure::new("no GitLab credential: set GITLAB_TOKEN"))
    }

    fn secret(&self, step: &PlanStep, arg: &str) -> Result<SecretString, ActionFailure> {
        let name = match step.arg(arg) {
            Some(ArgValue::Secret(n)) => n.clone(),
            _ => {
                return Err(ActionFailure::new(format!(
                    "argument `{arg}` takes a secret"
                )));
            }
        };
        self.lock()
            .secrets
            .get(&name)
            .cloned()
            .ok_or_else(|| ActionFailure::new(format!("the secret `{name}` is not set yet")))
    }

    fn text<'s>(&self, step: &'s PlanStep, arg: &str) -> Result<&'s str, ActionFailure> {
        step.text_arg(arg)
            .ok_or_else(|| ActionFailure::new(format!("`{arg}` is not known")))
    }

    fn number(&self, step: &PlanStep, arg: &str) -> Result<u64, ActionFailure> {
        let t = self.text(step, arg)?;
        t.parse()
            .map_err(|_| ActionFailure::new(format!("`{arg}` must be a number, not `{t}`")))
    }

    /// The token id: given, or found by name in an earlier step.
    fn token_id(&self, step: &PlanStep) -> Result<String, ActionFailure> {
        match step.text_arg("token_id") {
            Some(t) => Ok(t.to_owned()),
            None => self.lock().token_id.clone().ok_or_else(|| {
                ActionFailure::new("the token id is not known: give --token-id or --token-name")
            }),
        }
    }

    /// `expires_at`: given, or the old token's lifetime from today, at most 365 days.
    fn expires_at(&self, step: &PlanStep) -> Result<Date, ActionFailure> {
        if let Some(t) = step.text_arg("expires_at") {
            return t
                .parse()
                .map_err(|_| ActionFailure::new(format!("expires_at `{t}` is not a date")));
        }
        let old = self.lock().old_token.clone();
        Ok(default_expiry(old.as_ref(), self.today))
    }

    fn remember_new(&self, id: u64, token: SecretString, expires_at: Option<String>, secret: &str) {
        self.redactor.register(&token);
        let mut st = self.lock();
        st.secrets.insert(secret.to_owned(), token);
        if secret == "token" {
            st.facts.new_id = Some(id);
            if expires_at.is_some() {
                st.facts.expires_at = expires_at;
            }
        }
    }

    fn owner<'s>(&self, step: &'s PlanStep) -> Result<Owner<'s>, ActionFailure> {
        match (step.text_arg("project"), step.text_arg("group")) {
            (Some(p), _) => Ok(Owner::Project(p)),
            (None, Some(g)) => Ok(Owner::Group(g)),
            (None, None) => Err(ActionFailure::new("no project or group")),
        }
    }

    fn check_token(&self, token: AccessToken, what: &str) -> Result<String, ActionFailure> {
        if !token.active {
            return Err(ActionFailure::new(format!(
                "{what} {} (\"{}\") is not active: revoked or expired tokens cannot be rotated",
                token.id, token.name
            )));
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
        let mut st = self.lock();
        st.token_id.get_or_insert_with(|| token.id.to_string());
        st.old_token = Some(token);
        Ok(note)
    }

    fn find_one(
        &self,
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
                self.lock().token_id = Some(token.id.to_string());
                self.check_token(token, what)
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

    /// Carries out one action step; the `Ok` text is a short note for the operator.
    pub async fn run(&self, step: &PlanStep) -> Result<String, ActionFailure> {
        let Some(name) = step.action else {
            return Err(ActionFailure::new("not an action step"));
        };
        let target = step.target_index;
        match name {
            "targets.preflight" | TARGETS_APPLY => Ok("no targets".into()),
            "tokrot.stash" => {
                let token = self.secret(step, "token")?;
                match stash::put(&self.rotation_id, &token) {
                    Ok(()) => {
                        self.lock().facts.stashed = true;
                        Ok(format!(
                            "in the keyring as tokrot/pending:{}",
                            self.rotation_id
                        ))
                    }
                    Err(e) => Ok(format!(
                        "NOT stashed ({e}); the token is only in this process's memory"
                    )),
                }
            }
            "gitlab.current_user" => {
                let user = self.gitlab()?.current_user().await?;
                let note = format!("authenticated as {} (id {})", user.username, user.id);
                self.lock().facts.gitlab_user = Some(user.username);
                Ok(note)
            }
            "gitlab.find_personal_token" => {
                let name = self.text(step, "name")?;
                let list = self
                    .gitlab()?
                    .personal_tokens(Some(name), Some("active"))
                    .await?;
                self.find_one(list, name, "personal access token")
            }
            "gitlab.get_personal_token" => {
                let id = self.token_id(step)?;
                let token = self.gitlab()?.personal_token(&id).await?;
                self.check_token(token, "personal access token")
            }
            "gitlab.rotate_personal_token" => {
                let id = self.token_id(step)?;
                let expires = self.expires_at(step)?;
                let new = self.gitlab()?.rotate_personal_token(&id, expires).await?;
                let note = format!("new token id {}, expires {expires}", new.id);
                self.lock().facts.expires_at = Some(expires.to_string());
                self.remember_new(new.id, new.token, new.expires_at, "token");
                Ok(note)
            }
            "gitlab.verify_personal_token" => {
                let token = self.secret(step, "token")?;
                let me = self
                    .gitlab()?
                    .with_token(token)
                    .personal_token("self")
                    .await?;
                if !me.active {
                    return Err(ActionFailure::new("the new token is not active"));
                }
                Ok(format!("the new token authenticates (\"{}\")", me.name))
            }
            "gitlab.find_project_token" | "gitlab.find_group_token" => {
                let name = self.text(step, "name")?;
                let owner = self.owner(step)?;
                let list = self
                    .gitlab()?
                    .resource_tokens(owner, Some(name), Some("active"))
                    .await?;
                self.find_one(list, name, access_token_kind(owner))
            }
            "gitlab.get_project_token" | "gitlab.get_group_token" => {
                let owner = self.owner(step)?;
                let id = self.token_id(step)?;
                let token = self.gitlab()?.resource_token(owner, &id).await?;
                self.check_token(token, access_token_kind(owner))
            }
            "gitlab.rotate_project_token" | "gitlab.rotate_group_token" => {
                let owner = self.owner(step)?;
                let id = self.token_id(step)?;
                let expires = self.expires_at(step)?;
                let new = self
                    .gitlab()?
                    .rotate_resource_token(owner, &id, expires)
                    .await?;
                let note = format!("new token id {}, expires {expires}", new.id);
                self.lock().facts.expires_at = Some(expires.to_string());
                self.remember_new(new.id, new.token, new.expires_at, "token");
                Ok(note)
            }
            "gitlab.create_project_token" => {
                let owner = self.owner(step)?;
                let name = self.text(step, "name")?;
                let scopes: Vec<&str> = self
                    .text(step, "scopes")?
                    .split(',')
                    .map(str::trim)
                    .collect();
                let level = step
                    .text_arg("access_level")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(40);
                let expires = self.expires_at(step)?;
                let new = self
                    .gitlab()?
                    .create_resource_token(owner, name, &scopes, level, expires)
                    .await?;
                let note = format!("project access token id {}, expires {expires}", new.id);
                self.remember_new(new.id, new.token, None, "bot_token");
                Ok(note)
            }
            "gitlab.verify_project_token" | "gitlab.verify_group_token" => {
                let owner = self.owner(step)?;
                let token = self.secret(step, "token")?;
                self.gitlab()?.with_token(token).namespace(owner).await?;
                Ok("the new token authenticates".into())
            }
            "gitlab.get_trigger" => {
                let project = self.text(step, "project")?;
                let id = self.number(step, "trigger_id")?;
                let trigger = self.gitlab()?.trigger(project, id).await?;
                let note = format!("trigger {} \"{}\"", trigger.id, trigger.description);
                self.lock().old_trigger_description = Some(trigger.description);
                Ok(note)
            }
            "gitlab.create_trigger" | "gitlab.create_trigger_as" => {
                let project = self.text(step, "project")?;
                let description = match step.text_arg("description") {
                    Some(d) => d.to_owned(),
                    None => self.lock().old_trigger_description.clone().ok_or_else(|| {
                        ActionFailure::new(
                            "no description for the new trigger: give --for or --description",
                        )
                    })?,
                };
                let client = match name {
                    "gitlab.create_trigger_as" => {
                        self.gitlab()?.with_token(self.secret(step, "as")?)
                    }
                    _ => self.gitlab()?.clone(),
                };
                let new = client.create_trigger(project, &description).await?;
                let note = format!("new trigger id {} \"{description}\"", new.id);
                self.remember_new(new.id, new.token, None, "token");
                Ok(note)
            }
            "gitlab.delete_trigger" => {
                let project = self.text(step, "project")?;
                let id = self.number(step, "trigger_id")?;
                self.gitlab()?.delete_trigger(project, id).await?;
                Ok(format!("trigger {id} deleted"))
            }
            "gitlab.get_project_variable" | "gitlab.get_group_variable" => {
                let owner = self.owner(step)?;
                let key = self.text(step, "key")?;
                let scope = step.text_arg("environment_scope").unwrap_or("*");
                let var = self.read_variable(owner, key, scope).await?;
                let note = format!(
                    "{key} found ({}{}{}scope {})",
                    flag(var.protected, "protected, "),
                    flag(var.masked, "masked, "),
                    flag(var.hidden, "hidden, "),
                    var.environment_scope
                );
                self.lock().targets.entry(target).or_default().variable = Some(var);
                Ok(note)
            }
            "gitlab.update_project_variable" | "gitlab.update_group_variable" => {
                let owner = self.owner(step)?;
                let value = self.secret(step, "value")?;
                let current = self
                    .lock()
                    .targets
                    .get_mut(&target)
                    .and_then(|t| t.variable.take())
                    .ok_or_else(|| {
                        ActionFailure::new("the variable was not read before the write")
                    })?;
                if (current.masked || current.hidden)
                    && let Err(rule) = maskable(&value)
                {
                    let key = current.key.clone();
                    self.lock().targets.entry(target).or_default().variable = Some(current);
                    return Err(ActionFailure::new(format!("not written to {key}: {rule}")));
                }
                let written = self
                    .gitlab()?
                    .update_variable(owner, &current, &value)
                    .await?;
                let mut st = self.lock();
                if let Some(i) = target {
                    st.facts.targets.entry(i).or_default().applied = true;
                }
                let t = st.targets.entry(target).or_default();
                t.variable = Some(current);
                t.written = Some(written);
                Ok("written, settings kept".into())
            }
            "gitlab.verify_project_variable" | "gitlab.verify_group_variable" => {
                let token = self.lock().secrets.get("token").cloned();
                let written = self
                    .lock()
                    .targets
                    .get_mut(&target)
                    .and_then(|t| t.written.take());
                // The write's answer carries the stored value: it serves as the read-back.
                let stored = match written {
                    Some(w) => w,
                    None => {
                        let owner = self.owner(step)?;
                        let key = self.text(step, "key")?;
                        let scope = step.text_arg("environment_scope").unwrap_or("*");
                        self.gitlab()?.variable(owner, key, scope).await?
                    }
                };
                let verified = match (&stored.value, &token) {
                    _ if stored.hidden => Verified::NotReadable,
                    (Some(v), Some(t)) if same(v, t) => Verified::Yes,
                    (None, _) => Verified::NotReadable,
                    _ => Verified::No,
                };
                if let Some(i) = target {
                    self.lock().facts.targets.entry(i).or_default().verified = Some(verified);
                }
                match verified {
                    Verified::No => Err(ActionFailure::new(format!(
                        "{} does not hold the new value",
                        stored.key
                    ))),
                    Verified::NotReadable => {
                        Ok("hidden variable: not readable, cannot be compared".into())
                    }
                    Verified::Yes => Ok("read back: holds the new value".into()),
                }
            }
            "gitlab.get_webhook" => {
                let project = self.text(step, "project")?;
                let id = self.number(step, "hook_id")?;
                let hook = self.gitlab()?.hook(project, id).await?;
                if hook.url.trim().is_empty() {
                    return Err(ActionFailure::new(format!(
                        "webhook {id} has no URL to resend"
                    )));
                }
                self.lock().targets.entry(target).or_default().hook = Some(hook);
                Ok(format!(
                    "webhook {id} found; its URL will be sent back unchanged"
                ))
            }
            "gitlab.update_webhook_token" => {
                let project = self.text(step, "project")?;
                let token = self.secret(step, "token")?;
                let hook = self
                    .lock()
                    .targets
                    .get(&target)
                    .and_then(|t| t.hook.clone())
                    .ok_or_else(|| {
                        ActionFailure::new("the webhook was not read before the write")
                    })?;
                let updated = self
                    .gitlab()?
                    .update_hook_token(project, &hook, &token)
                    .await?;
                if updated.url != hook.url {
                    return Err(ActionFailure::new(
                        "GitLab changed the webhook's URL: check its token",
                    ));
                }
                let mut st = self.lock();
                if let Some(i) = target {
                    let t = st.facts.targets.entry(i).or_default();
                    t.applied = true;
                    t.verified = Some(Verified::NotReadable);
                }
                Ok("token set, URL and settings kept (GitLab never returns a webhook's token: not readable)".into())
            }
            other => Err(ActionFailure::new(format!(
                "the action `{other}` is not available in this version"
            ))),
        }
    }
}

fn owner_key(owner: Owner<'_>) -> String {
    match owner {
        Owner::Project(p) => format!("project {p}"),
        Owner::Group(g) => format!("group {g}"),
    }
}

fn access_token_kind(owner: Owner<'_>) -> &'static str {
    match owner {
        Owner::Project(_) => "project access token",
        Owner::Group(_) => "group access token",
    }
}

fn flag(on: bool, text: &str) -> &str {
    if on { text } else { "" }
}

/// The expiry of a rotated token: the old token's lifetime counted from today, at most 365 days
/// (GitLab's limit), at least one day; 365 days when the old token never expired.
pub fn default_expiry(old: Option<&AccessToken>, today: Date) -> Date {
    let max = MAX_LIFETIME_DAYS;
    let days = match old.and_then(|t| Some((t.created_on?, t.expires_on?))) {
        Some((created, expires)) => (expires - created).get_days().into(),
        None => max,
    };
    let days: i64 = days.clamp(1, max);
    today.checked_add(days.days()).unwrap_or(today)
}

/// Whether a step's action exists in this executor (Zendesk actions come later).
pub fn supported(action: &str) -> bool {
    !action.starts_with("zendesk.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn token(created: Option<Date>, expires: Option<Date>) -> AccessToken {
        AccessToken {
            id: 1,
            name: "t".into(),
            active: true,
            created_on: created,
            expires_on: expires,
            last_used_at: None,
            scopes: vec![],
        }
    }

    #[test]
    fn the_new_expiry_keeps_the_old_lifetime_within_the_limit() {
        let today = date(2026, 11, 28);
        let ninety = token(Some(date(2026, 1, 1)), Some(date(2026, 4, 1)));
        assert_eq!(default_expiry(Some(&ninety), today), date(2027, 2, 26));
        let two_years = token(Some(date(2024, 1, 1)), Some(date(2026, 1, 1)));
        assert_eq!(default_expiry(Some(&two_years), today), date(2027, 11, 28));
        assert_eq!(
            default_expiry(Some(&token(None, None)), today),
            date(2027, 11, 28)
        );
        assert_eq!(default_expiry(None, today), date(2027, 11, 28));
        let odd = token(Some(date(2026, 5, 1)), Some(date(2026, 5, 1)));
        assert_eq!(default_expiry(Some(&odd), today), date(2026, 11, 29));
    }
}
