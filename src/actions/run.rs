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
use crate::clients::http::{ApiError, RetryPolicy};
use crate::clients::zendesk::{
    Auth, OAuthToken, WebhookCredential, Zendesk, endpoint_token, masked_endpoint,
    replace_endpoint_token, same_scopes,
};
use crate::engine::plan::{ArgValue, PlanStep};
use crate::engine::prompt::Prompter;
use crate::engine::walk::StepEnd;
use crate::secret::{Redactor, same, stash};
use crate::state::StateError;
use crate::state::journal::{Journal, StepStatus};

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
    /// Reads what `as_str` wrote.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "yes" => Some(Verified::Yes),
            "no" => Some(Verified::No),
            "not-readable" => Some(Verified::NotReadable),
            _ => None,
        }
    }

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
    /// Something the operator should know (e.g. a setting Zendesk did not show was written).
    pub note: Option<String>,
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
    /// The user of the tool's Zendesk credential.
    pub zendesk_user: Option<String>,
    /// Whether the new token is in the keyring.
    pub stashed: bool,
    /// Why the keyring refused the new token, when it did.
    pub stash_error: Option<String>,
    /// Targets by index.
    pub targets: BTreeMap<usize, TargetReport>,
}

#[derive(Default)]
struct TargetState {
    variable: Option<Variable>,
    written: Option<Variable>,
    hook: Option<Hook>,
    webhook: Option<WebhookPlace>,
    unseen_setting: bool,
}

/// Where a Zendesk webhook keeps its token.
#[derive(Clone)]
enum WebhookPlace {
    /// In the `token` query value of its endpoint URL (a GitLab pipeline trigger).
    Endpoint(SecretString),
    /// In its authentication, whose type and position are kept.
    Authentication {
        kind: String,
        position: String,
        username: Option<String>,
        header_name: Option<String>,
    },
}

#[derive(Default)]
struct State {
    secrets: BTreeMap<String, SecretString>,
    token_id: Option<String>,
    old_token: Option<AccessToken>,
    old_trigger_description: Option<String>,
    old_trigger_id: Option<u64>,
    oauth_tokens: Vec<OAuthToken>,
    old_oauth_id: Option<u64>,
    requested_scopes: Vec<String>,
    facts: RunFacts,
    targets: BTreeMap<Option<usize>, TargetState>,
}

/// Carries out the action steps of one run.
pub struct Executor {
    gitlab: std::sync::RwLock<Option<GitLab>>,
    redactor: Redactor,
    rotation_id: String,
    today: Date,
    state: Mutex<State>,
    batched: HashSet<String>,
    lists: Mutex<HashMap<String, VariableList>>,
    zendesk_auth: HashMap<String, Auth>,
    zendesk: Mutex<HashMap<String, Zendesk>>,
    asker: Option<Mutex<Box<dyn Prompter + Send>>>,
    journal: Option<Arc<Journal>>,
    journal_error: Mutex<Option<String>>,
    no_stash: bool,
    policy: RetryPolicy,
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
            gitlab: std::sync::RwLock::new(gitlab),
            redactor,
            rotation_id,
            today,
            state: Mutex::new(State::default()),
            batched: HashSet::new(),
            lists: Mutex::new(HashMap::new()),
            zendesk_auth: HashMap::new(),
            zendesk: Mutex::new(HashMap::new()),
            asker: None,
            journal: None,
            journal_error: Mutex::new(None),
            no_stash: false,
            policy: RetryPolicy::default(),
        }
    }

    /// The HTTP policy for the clients the executor makes itself (Zendesk instances).
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Keeps the run's journal up to date.
    pub fn with_journal(mut self, journal: Arc<Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Does not stash the new token (`--no-stash`).
    pub fn without_stash(mut self) -> Self {
        self.no_stash = true;
        self
    }

    /// Takes a token stashed by an earlier run (`resume`).
    pub fn resumed_token(&self, token: SecretString, stashed: bool) {
        self.redactor.register(&token);
        let mut st = self.lock();
        st.secrets.insert("token".into(), token);
        st.facts.stashed = stashed;
    }

    /// Marks targets already applied by an earlier run (`resume`).
    pub fn resumed_target(&self, index: usize, verified: Option<Verified>) {
        self.mark_applied(Some(index), verified, None);
    }

    /// Records that a target (when the step belongs to one) holds the new value.
    fn mark_applied(
        &self,
        target: Option<usize>,
        verified: Option<Verified>,
        note: Option<String>,
    ) {
        let Some(index) = target else { return };
        let mut st = self.lock();
        let t = st.facts.targets.entry(index).or_default();
        t.applied = true;
        t.verified = verified;
        if note.is_some() {
            t.note = note;
        }
    }

    /// The journal, if the run keeps one.
    pub fn journal(&self) -> Option<&Arc<Journal>> {
        self.journal.as_ref()
    }

    /// The first journal write that failed, if any.
    pub fn journal_error(&self) -> Option<String> {
        self.journal_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn journal_write(&self, f: impl FnOnce(&Journal) -> Result<(), StateError>) {
        if let Some(j) = &self.journal
            && let Err(e) = f(j)
        {
            let mut slot = self.journal_error.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| e.to_string());
        }
    }

    /// Journal: a step is about to be carried out.
    pub fn step_started(&self, step: &PlanStep) {
        self.journal_write(|j| {
            j.step(
                step.n,
                &step.title,
                step.action,
                step.phase,
                StepStatus::Running,
                None,
            )
        });
    }

    /// Journal: a step has ended.
    pub fn step_ended(&self, step: &PlanStep, end: StepEnd<'_>) {
        let (status, message) = match end {
            StepEnd::Done(m) => (StepStatus::Done, m),
            StepEnd::Failed(m) => (StepStatus::Failed, m),
            StepEnd::Unknown(m) => (StepStatus::Unknown, m),
            StepEnd::Skipped(m) => (StepStatus::Skipped, m),
        };
        let facts = self.facts();
        self.journal_write(|j| {
            j.step(
                step.n,
                &step.title,
                step.action,
                step.phase,
                status,
                Some(message).filter(|m| !m.is_empty()),
            )?;
            j.update(|d| {
                d.new_id = facts.new_id.or(d.new_id);
                d.expires_at = facts.expires_at.clone().or(d.expires_at.take());
                d.stashed = facts.stashed;
            })
        });
    }

    /// Journal: a target's steps have ended.
    pub fn target_ended(&self, index: usize, error: Option<&str>) {
        let report = self
            .facts()
            .targets
            .get(&index)
            .cloned()
            .unwrap_or_default();
        if !report.applied && error.is_none() {
            return; // checked, nothing to record
        }
        let error = error.map(|e| self.redactor.redact(e));
        self.journal_write(|j| {
            j.update_target(|d| {
                if let Some(t) = d.targets.get_mut(index) {
                    t.status = if report.applied {
                        "applied"
                    } else if error.is_some() {
                        "failed"
                    } else {
                        "pending"
                    }
                    .into();
                    t.verified = report.verified.map(|v| v.as_str().to_owned());
                    t.error = error;
                }
            })
        });
    }

    /// The tool's own Zendesk credentials, by instance id.
    pub fn with_zendesk(mut self, auth: HashMap<String, Auth>) -> Self {
        self.zendesk_auth = auth;
        self
    }

    /// A prompter for what only the operator knows (a webhook's user name, whether to write a
    /// setting Zendesk does not show); without one, such a question is a failure that says
    /// which flag to give.
    pub fn with_asker(mut self, asker: Box<dyn Prompter + Send>) -> Self {
        self.asker = Some(Mutex::new(asker));
        self
    }

    fn ask_text(&self, prompt: &str) -> Option<String> {
        let asker = self.asker.as_ref()?;
        let mut p = asker.lock().unwrap_or_else(|e| e.into_inner());
        p.text(prompt, &|v: &str| {
            if v.trim().is_empty() {
                Err("required".into())
            } else {
                Ok(())
            }
        })
        .ok()
    }

    /// A confirmation: `--yes` (no asker) confirms; on a terminal only the operator's yes does,
    /// and an error or an interrupt is a no, so that a prompt that fails never leads to a write.
    fn ask_yes(&self, question: &str) -> bool {
        let Some(asker) = self.asker.as_ref() else {
            return true;
        };
        let mut p = asker.lock().unwrap_or_else(|e| e.into_inner());
        matches!(p.confirm(question), Ok(true))
    }

    fn ask_pick(&self, prompt: &str, items: &[String]) -> Option<usize> {
        let asker = self.asker.as_ref()?;
        let mut p = asker.lock().unwrap_or_else(|e| e.into_inner());
        p.select(prompt, items).ok()
    }

    /// The client for the step's instance, with the tool's own credential.
    fn zendesk(&self, step: &PlanStep) -> Result<Zendesk, ActionFailure> {
        let instance = step
            .instance
            .as_ref()
            .ok_or_else(|| ActionFailure::new("no Zendesk instance"))?;
        let auth = self.zendesk_auth.get(&instance.id).cloned().ok_or_else(|| {
            ActionFailure::new(format!(
                "no Zendesk credential for {}: set ZENDESK_OAUTH_TOKEN, or ZENDESK_EMAIL and ZENDESK_API_TOKEN",
                instance.id
            ))
        })?;
        let mut clients = self.zendesk.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(&instance.id) {
            return Ok(c.clone());
        }
        let client = Zendesk::new(&instance.url, auth, self.redactor.clone(), self.policy)?;
        clients.insert(instance.id.clone(), client.clone());
        Ok(client)
    }

    /// A client for the step's instance with a credential of its own (to verify a new token).
    fn zendesk_as(&self, step: &PlanStep, auth: Auth) -> Result<Zendesk, ActionFailure> {
        let instance = step
            .instance
            .as_ref()
            .ok_or_else(|| ActionFailure::new("no Zendesk instance"))?;
        Ok(Zendesk::new(
            &instance.url,
            auth,
            self.redactor.clone(),
            self.policy,
        )?)
    }

    async fn run_zendesk(&self, name: &str, step: &PlanStep) -> Result<String, ActionFailure> {
        let target = step.target_index;
        match name {
            "zendesk.current_user" => {
                let me = self.zendesk(step)?.me().await?;
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
                self.lock().facts.zendesk_user = me.email;
                Ok(note)
            }
            "zendesk.verify_api_token" => {
                let email = step
                    .text_arg("email")
                    .ok_or_else(|| {
                        ActionFailure::new(
                            "no email to verify the token with: give --email or set ZENDESK_EMAIL",
                        )
                    })?
                    .to_owned();
                let token = self.secret(step, "token")?;
                let me = self
                    .zendesk_as(
                        step,
                        Auth::ApiToken {
                            email: email.clone(),
                            token,
                        },
                    )?
                    .me()
                    .await
                    .map_err(|e| {
                        ActionFailure::new(format!("the new token is not verified: {e}"))
                    })?;
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
            "zendesk.get_installation" => {
                let id = self.number(step, "installation_id")?;
                let inst = self.zendesk(step)?.installation(id).await?;
                let mut note = format!("app installation {id} \"{}\"", inst.name);
                if let Some(setting) = step.text_arg("setting")
                    && !inst.settings.iter().any(|s| s == setting)
                {
                    let near =
                        crate::text::closest(setting, inst.settings.iter().map(String::as_str));
                    note.push_str(&format!(
                        "; it does not show a setting `{setting}`: a secure setting (Zendesk never shows those) or a typo{}",
                        if near.is_empty() { String::new() } else { format!(" (close: {})", near.join(", ")) }
                    ));
                    self.lock()
                        .targets
                        .entry(target)
                        .or_default()
                        .unseen_setting = true;
                }
                Ok(note)
            }
            "zendesk.update_installation_setting" => {
                let id = self.number(step, "installation_id")?;
                let setting = self.text(step, "setting")?;
                let value = self.secret(step, "value")?;
                let unseen = self
                    .lock()
                    .targets
                    .get(&target)
                    .is_some_and(|t| t.unseen_setting);
                if unseen
                    && !self.ask_yes(&format!(
                        "Installation {id} does not show `{setting}` (secure, or a typo). Write it anyway?"
                    ))
                {
                    return Err(ActionFailure::new(format!(
                        "not written: installation {id} does not show `{setting}` (a secure setting, or a typo), and the write was not confirmed"
                    )));
                }
                let client = self.zendesk(step)?;
                client
                    .update_installation_setting(id, setting, &value)
                    .await?;
                if unseen {
                    let note = format!(
                        "`{setting}` was not shown by the installation (a secure setting, or a typo)"
                    );
                    self.mark_applied(target, Some(Verified::NotReadable), Some(note));
                    return Ok(format!(
                        "`{setting}` written, though the installation did not show it; not readable (secure settings are never returned)"
                    ));
                }
                // A shown setting is read back and compared, without printing either value.
                let verified = match client
                    .installation(id)
                    .await?
                    .setting_holds(setting, &value)
                {
                    Some(true) => Verified::Yes,
                    Some(false) => Verified::No,
                    None => Verified::NotReadable,
                };
                self.mark_applied(target, Some(verified), None);
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
            "zendesk.get_webhook" => {
                let id = self.text(step, "webhook_id")?;
                let hook = self.zendesk(step)?.webhook(id).await?;
                let place = if let Some(old) = endpoint_token(&hook.endpoint) {
                    self.redactor.register(&old);
                    self.redactor.register(&hook.endpoint);
                    WebhookPlace::Endpoint(hook.endpoint.clone())
                } else if let Some(auth) = &hook.authentication {
                    let mut username = step.text_arg("username").map(str::to_owned);
                    let mut header_name = step.text_arg("header_name").map(str::to_owned);
                    match auth.kind.as_str() {
                        "bearer_token" => {}
                        "basic_auth" if username.is_none() => {
                            username = self.ask_text(&format!("User name of webhook {id}'s basic authentication (Zendesk does not return it)"));
                            if username.is_none() {
                                return Err(ActionFailure::new(format!(
                                    "webhook {id} uses basic authentication, whose user name Zendesk does not return: give --username"
                                )));
                            }
                        }
                        "api_key" if header_name.is_none() => {
                            header_name = self.ask_text(&format!(
                                "Header name of webhook {id}'s API key (Zendesk does not return it)"
                            ));
                            if header_name.is_none() {
                                return Err(ActionFailure::new(format!(
                                    "webhook {id} uses an API key, whose header name Zendesk does not return: give --header-name"
                                )));
                            }
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
                self.lock().targets.entry(target).or_default().webhook = Some(place);
                Ok(note)
            }
            "zendesk.patch_webhook_token" => {
                let id = self.text(step, "webhook_id")?;
                let token = self.secret(step, "token")?;
                let place = self
                    .lock()
                    .targets
                    .get(&target)
                    .and_then(|t| t.webhook.clone())
                    .ok_or_else(|| {
                        ActionFailure::new("the webhook was not read before the write")
                    })?;
                let client = self.zendesk(step)?;
                let note = match place {
                    WebhookPlace::Endpoint(old) => {
                        let new = replace_endpoint_token(&old, &token).ok_or_else(|| {
                            ActionFailure::new("the endpoint lost its token parameter")
                        })?;
                        self.redactor.register(&new);
                        client.patch_webhook_endpoint(id, &new).await?;
                        "the token in the endpoint URL replaced, the rest of the URL kept; only `endpoint` sent".to_owned()
                    }
                    WebhookPlace::Authentication {
                        kind,
                        position,
                        username,
                        header_name,
                    } => {
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
                self.mark_applied(target, Some(Verified::NotReadable), None);
                Ok(format!(
                    "{note} (Zendesk never returns webhook credentials: not readable)"
                ))
            }
            "zendesk.list_oauth_tokens" => {
                let client_id = self.number(step, "client_id")?;
                let tokens = self.zendesk(step)?.oauth_tokens(client_id).await?;
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
                    None => {
                        let items: Vec<String> = tokens
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
                            .collect();
                        match self
                            .ask_pick("OAuth token to revoke once the new one is in place", &items)
                        {
                            Some(k) => tokens.get(k).map(|t| t.id),
                            None => {
                                return Err(ActionFailure::new(format!(
                                    "OAuth client {client_id} has {} tokens ({}): give --old-token-id",
                                    tokens.len(),
                                    tokens
                                        .iter()
                                        .map(|t| t.id.to_string())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )));
                            }
                        }
                    }
                };
                let note = format!(
                    "{} token(s) for client {client_id}; {}",
                    tokens.len(),
                    old.map_or_else(
                        || "no old token to revoke".into(),
                        |id| format!("token {id} is revoked at the end")
                    )
                );
                let mut st = self.lock();
                st.old_oauth_id = old;
                st.oauth_tokens = tokens;
                Ok(note)
            }
            "zendesk.create_oauth_token" => {
                let client_id = self.number(step, "client_id")?;
                let scopes: Vec<String> = match step.text_arg("scopes") {
                    Some(s) => s
                        .split(',')
                        .map(|x| x.trim().to_owned())
                        .filter(|x| !x.is_empty())
                        .collect(),
                    None => {
                        let st = self.lock();
                        let old = st
                            .old_oauth_id
                            .and_then(|id| st.oauth_tokens.iter().find(|t| t.id == id));
                        old.map(|t| t.scopes.clone())
                            .ok_or_else(|| ActionFailure::new("no scopes: give --scopes (there is no old token to copy them from)"))?
                    }
                };
                if scopes.is_empty() {
                    return Err(ActionFailure::new("no scopes: give --scopes"));
                }
                let client = self.zendesk(step)?;
                let (new, recovered) = match client.create_oauth_token(client_id, &scopes).await {
                    Ok(new) => (new, String::new()),
                    Err(e) if e.outcome_unknown() => {
                        // A lost answer: the token, if made, can never be read back (lists show 10
                        // characters). Creating does not revoke the old token, so revoke the orphan
                        // and create again.
                        let known: HashSet<u64> =
                            self.lock().oauth_tokens.iter().map(|t| t.id).collect();
                        let now = client.oauth_tokens(client_id).await.map_err(|l| {
                            ActionFailure {
                                message: format!(
                                    "{e}; listing the client's tokens to clean up failed too: {l}"
                                ),
                                unknown: true,
                            }
                        })?;
                        let orphans: Vec<u64> = now
                            .iter()
                            .map(|t| t.id)
                            .filter(|id| !known.contains(id))
                            .collect();
                        for id in &orphans {
                            client
                                .revoke_oauth_token(*id)
                                .await
                                .map_err(|r| ActionFailure {
                                    message: format!(
                                        "{e}; revoking the orphan token {id} failed: {r}"
                                    ),
                                    unknown: true,
                                })?;
                        }
                        let new = client.create_oauth_token(client_id, &scopes).await?;
                        let cleaned = if orphans.is_empty() {
                            "none had been made".to_owned()
                        } else {
                            format!("revoked the orphan {:?}", orphans)
                        };
                        (
                            new,
                            format!(" (the first answer was lost; {cleaned}, then created again)"),
                        )
                    }
                    Err(e) => return Err(e.into()),
                };
                let note = format!(
                    "new OAuth token id {} for scopes {}{recovered}",
                    new.id,
                    scopes.join(" ")
                );
                self.lock().requested_scopes = scopes;
                self.remember_new(new.id, new.token, None, "token");
                Ok(note)
            }
            "zendesk.verify_oauth_token" => {
                let token = self.secret(step, "token")?;
                let current = self
                    .zendesk_as(step, Auth::OAuth(token))?
                    .current_oauth_token()
                    .await
                    .map_err(|e| {
                        ActionFailure::new(format!(
                            "the new token is not verified, nothing was applied: {e}"
                        ))
                    })?;
                let asked = self.lock().requested_scopes.clone();
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
            "zendesk.revoke_oauth_token" => {
                let id = match step.text_arg("old_token_id") {
                    Some(t) => t
                        .parse()
                        .map_err(|_| ActionFailure::new("--old-token-id must be a number"))?,
                    None => match self.lock().old_oauth_id {
                        Some(id) => id,
                        None => return Ok("no old token to revoke".into()),
                    },
                };
                self.zendesk(step)?.revoke_oauth_token(id).await?;
                Ok(format!("old token {id} revoked"))
            }
            other => Err(ActionFailure::new(format!(
                "the action `{other}` is not available in this version"
            ))),
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

    /// The redactor every message of the run goes through.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
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

    fn gitlab(&self) -> Result<GitLab, ActionFailure> {
        self.gitlab
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| ActionFailure::new("no GitLab credential: set GITLAB_TOKEN"))
    }

    /// The new token, once a rotate step has made it (or a capture or `resume` gave it).
    pub fn new_token(&self) -> Option<SecretString> {
        self.lock().secrets.get("token").cloned()
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

    /// The answer to creating a trigger was lost: GitLab shows a trigger's whole token to the
    /// user who created it, so the new trigger is found by the description just sent (not the
    /// old trigger) and its token recovered. Anything less certain stays "outcome unknown".
    async fn recover_trigger(
        &self,
        client: &GitLab,
        project: &str,
        description: &str,
        lost: ApiError,
    ) -> Result<String, ActionFailure> {
        let old = self.lock().old_trigger_id;
        let unknown = |why: String| ActionFailure {
            message: format!("{lost}; {why}"),
            unknown: true,
        };
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
                self.remember_new(id, token, None, "token");
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

    /// Carries out one action step; the `Ok` text is a short note for the operator.
    pub async fn run(&self, step: &PlanStep) -> Result<String, ActionFailure> {
        let Some(name) = step.action else {
            return Err(ActionFailure::new("not an action step"));
        };
        tracing::debug!(step = step.n, action = name, target = ?step.target, "action");
        let target = step.target_index;
        match name {
            "targets.preflight" | TARGETS_APPLY => Ok("no targets".into()),
            "tokrot.stash" => {
                let token = self.secret(step, "token")?;
                if self.no_stash {
                    return Ok(
                        "not stashed (--no-stash): the token is only in this process's memory"
                            .into(),
                    );
                }
                match stash::put(&self.rotation_id, &token) {
                    Ok(()) => {
                        self.lock().facts.stashed = true;
                        Ok(format!(
                            "in the keyring as tokrot/pending:{}",
                            self.rotation_id
                        ))
                    }
                    // The token exists only here now: the run goes on to put it into its
                    // targets (the one way left to keep it), and says so loudly.
                    Err(e) => {
                        let why = self.redactor.redact(&e.to_string());
                        self.lock().facts.stash_error = Some(why.clone());
                        Ok(format!(
                            "WARNING: NOT KEPT: the keyring refused the new token ({why}); it exists only in this process's memory until the targets have it"
                        ))
                    }
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
                let gitlab = self.gitlab()?;
                let new = gitlab
                    .rotate_personal_token(&id, expires)
                    .await
                    .map_err(rotate_failure)?;
                if id == "self" {
                    // The old credential is revoked now: every later call uses the new one.
                    *self.gitlab.write().unwrap_or_else(|p| p.into_inner()) =
                        Some(gitlab.with_token(new.token.clone()));
                }
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
                    .await
                    .map_err(rotate_failure)?;
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
                let mut st = self.lock();
                st.old_trigger_description = Some(trigger.description);
                st.old_trigger_id = Some(trigger.id);
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
                    _ => self.gitlab()?,
                };
                let new = match client.create_trigger(project, &description).await {
                    Ok(new) => new,
                    Err(e) if e.outcome_unknown() => {
                        return self
                            .recover_trigger(&client, project, &description, e)
                            .await;
                    }
                    Err(e) => return Err(e.into()),
                };
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
                self.mark_applied(target, Some(Verified::NotReadable), None);
                Ok("token set, URL and settings kept (GitLab never returns a webhook's token: not readable)".into())
            }
            zendesk if zendesk.starts_with("zendesk.") => self.run_zendesk(zendesk, step).await,
            other => Err(ActionFailure::new(format!(
                "the action `{other}` is not available in this version"
            ))),
        }
    }
}

/// A failed rotate call. A 401 is never "nothing changed": GitLab answers 401 when a token that
/// was already rotated is rotated again, and revokes the whole token family (new token too).
fn rotate_failure(e: ApiError) -> ActionFailure {
    if e.status() == Some(reqwest::StatusCode::UNAUTHORIZED) {
        return ActionFailure {
            message: format!(
                "{e}; the token family may have been revoked by GitLab's reuse detection (a token rotated twice)"
            ),
            unknown: true,
        };
    }
    e.into()
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

/// Whether an action needs the tool's own Zendesk credential (verifying a new token does not).
pub fn needs_zendesk_credential(action: &str) -> bool {
    action.starts_with("zendesk.")
        && !matches!(
            action,
            "zendesk.verify_api_token" | "zendesk.verify_oauth_token"
        )
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
