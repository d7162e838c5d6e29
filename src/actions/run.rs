//! Carries out registry actions against the vendor clients. Each step keeps what it learns (the
//! old token's lifetime, a variable's settings, a webhook's URL, the new token) for the steps
//! after it, per target, so that targets can run side by side.

use crate::model::Identity;
use crate::model::Vendor;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use jiff::ToSpan;
use jiff::civil::Date;
use secrecy::SecretString;

use crate::actions::{
    Action, ActionSpec, Answer, ArgValue, Ask, Invocation, Question, Service, gitlab, local,
    zendesk,
};
use crate::clients::gitlab::{AccessToken, GitLab, Hook, Owner, VarOwner, Variable};
use crate::clients::http::{ApiError, RetryPolicy};
use crate::clients::zendesk::{Auth, OAuthToken, Zendesk};
use crate::secret::Redactor;

/// The longest lifetime GitLab gives an access token (issue 413969: 365 days).
pub const MAX_LIFETIME_DAYS: i64 = 365;

/// From this many variable targets in one project or group on, their settings are read with
/// one list call (100 a page) instead of one call each.
pub const BATCH_VARIABLE_READS: usize = 5;

pub(crate) type VariableList = Arc<OnceCell<Result<Arc<Vec<Variable>>, ActionFailure>>>;

/// An action that did not succeed, or cannot go on without an answer.
#[derive(Debug, Clone)]
pub struct ActionFailure {
    /// What went wrong, redacted.
    pub message: String,
    /// Whether the vendor may have carried out the call anyway (lost answer, 5xx).
    pub unknown: bool,
    /// A question the operator must answer before the action can run again; nothing was
    /// changed by the action when it asks.
    pub question: Option<Box<Question>>,
    /// Whether the action's write reached the vendor before it failed (a read-back that did
    /// not match): something was changed.
    pub written: bool,
}

impl ActionFailure {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            unknown: false,
            question: None,
            written: false,
        }
    }

    /// A failure after the action's write was carried out (what was read back does not match).
    pub(crate) fn after_write(message: impl Into<String>) -> Self {
        Self {
            written: true,
            ..Self::new(message)
        }
    }

    /// A failure after which the vendor may or may not have carried out the call.
    pub(crate) fn unknown(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            unknown: true,
            question: None,
            written: false,
        }
    }

    fn ask(question: Question) -> Self {
        Self {
            message: question.unanswered.clone(),
            unknown: false,
            question: Some(Box::new(question)),
            written: false,
        }
    }
}

impl From<ApiError> for ActionFailure {
    fn from(e: ApiError) -> Self {
        Self {
            unknown: e.outcome_unknown(),
            message: format!("{e}{}{}", bare_path_note(&e), access_note(&e)),
            question: None,
            written: false,
        }
    }
}

/// GitLab answers a bare 404 for a project named without its namespace (`zd-sync` for
/// `support/zd-sync`) and for a subgroup named without its parent: after a 404 on a project
/// or group whose path holds no `/` (and is not an id), how GitLab names them; else nothing.
fn bare_path_note(e: &ApiError) -> String {
    let ApiError::Status { status, url, .. } = e else {
        return String::new();
    };
    if *status != reqwest::StatusCode::NOT_FOUND {
        return String::new();
    }
    for (marker, project) in [("/api/v4/projects/", true), ("/api/v4/groups/", false)] {
        let Some(at) = url.find(marker) else {
            continue;
        };
        let segment = url[at + marker.len()..]
            .split(['/', '?'])
            .next()
            .unwrap_or_default();
        let name = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        if name.is_empty() || name.contains('/') || name.chars().all(|c| c.is_ascii_digit()) {
            return String::new();
        }
        let name = crate::text::one_line(&name);
        return if project {
            format!(
                "; GitLab names a project by its full path, with the group or user it belongs to (`GROUP/{name}`), or by its numeric id"
            )
        } else {
            format!(
                "; if `{name}` is a subgroup, GitLab names it by its full path (`PARENT/{name}`) or its numeric id"
            )
        };
    }
    String::new()
}

/// After a 401 or a 403, what the operator can check: which credential was refused, or what
/// it must be allowed to do.
fn access_note(e: &ApiError) -> &'static str {
    let ApiError::Status { status, url, .. } = e else {
        return "";
    };
    let gitlab = url.contains("/api/v4/");
    match (status.as_u16(), gitlab) {
        (401, _) => {
            "; the credential was refused (expired or revoked?): `tokrot auth status` says which one and whether it works"
        }
        (403, true) => {
            "; the GitLab credential may not do this: it needs the api scope, and the Maintainer role on the project (Owner for a group's access tokens and variables)"
        }
        (403, false) => {
            "; the Zendesk credential may not do this: it needs an admin, and an OAuth token the read and write scopes"
        }
        _ => "",
    }
}

pub use crate::model::Verified;

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
    /// Whether a new token was made and held (whatever its id; a signing secret has none).
    pub made: bool,
    /// The new token's id.
    pub new_id: Option<u64>,
    /// The new token's expiry as sent, or as the vendor's answer gave it (YYYY-MM-DD).
    pub expires_at: Option<String>,
    /// Whether the expiry is the vendor's own (an OAuth access token that expires), not one
    /// the run chose.
    pub vendor_expiry: bool,
    /// Whether a refresh token came with the new token (never kept).
    pub refresh_token: bool,
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

/// The shortest value kept as a token a vendor made: GitLab's tokens are 26 characters or more
/// (`glpat-` and 20; a trigger's 30 hex digits at the oldest), Zendesk's OAuth tokens 64 hex
/// digits, and Zendesk lists cut a token to its first 10 characters.
const MIN_NEW_TOKEN: usize = 16;

/// A token an earlier run rotated, as that run's journal tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Successor {
    /// The run that rotated it.
    pub run: String,
    /// The day of its rotate call (YYYY-MM-DD).
    pub on: String,
    /// The token that call made.
    pub new_id: u64,
}

/// What the steps of one target learn for the steps after them.
#[derive(Default)]
pub(crate) struct TargetState {
    pub(crate) variable: Option<Variable>,
    pub(crate) written: Option<Variable>,
    pub(crate) hook: Option<Hook>,
    pub(crate) webhook: Option<WebhookPlace>,
    pub(crate) unseen_setting: bool,
    /// The app installation as preflight read it: its other settings must survive the write.
    pub(crate) installation: Option<crate::clients::zendesk::Installation>,
    /// The app says the setting is secure: written, never shown.
    pub(crate) secure_setting: bool,
}

/// Where a Zendesk webhook keeps its token.
#[derive(Clone)]
pub(crate) enum WebhookPlace {
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

/// What the steps of a run learn for the steps after them.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) secrets: BTreeMap<String, SecretString>,
    pub(crate) token_id: Option<String>,
    pub(crate) old_token: Option<AccessToken>,
    pub(crate) old_trigger_description: Option<String>,
    pub(crate) old_trigger_id: Option<u64>,
    /// The old trigger's owner: for a trigger made as a bot, that bot's user.
    pub(crate) old_trigger_owner: Option<u64>,
    pub(crate) oauth_tokens: Vec<OAuthToken>,
    pub(crate) old_oauth_id: Option<u64>,
    /// Who the new OAuth token acts as, when not the old one's user (`--as-caller`).
    pub(crate) identity_change: Option<String>,
    pub(crate) requested_scopes: Vec<String>,
    pub(crate) facts: RunFacts,
    pub(crate) targets: BTreeMap<Option<usize>, TargetState>,
    pub(crate) answers: HashMap<String, Answer>,
    /// The source token as the vendor names it, once preflight has found it
    /// (`gitlab-token:42`), for the lock that keeps a second run off it.
    pub(crate) source_id: Option<String>,
}

/// Carries out the action steps of one run.
pub struct Executor {
    pub(crate) gitlab: std::sync::RwLock<Option<GitLab>>,
    pub(crate) redactor: Redactor,
    pub(crate) rotation_id: String,
    pub(crate) today: Date,
    state: Mutex<State>,
    pub(crate) batched: HashSet<String>,
    pub(crate) lists: Mutex<HashMap<String, VariableList>>,
    zendesk_auth: HashMap<String, Auth>,
    zendesk: Mutex<HashMap<String, Zendesk>>,
    pub(crate) no_stash: bool,
    pub(crate) policy: RetryPolicy,
    /// The token this run will apply, as far as it is known before it exists.
    pub(crate) incoming: Option<super::token_format::Incoming>,
    /// What earlier runs rotated, by the source token's identity (`gitlab-token:42`): read
    /// from the journals only when a source is found inactive, never on a run's way.
    successors: std::sync::OnceLock<HashMap<String, Successor>>,
    /// How to read them.
    read_successors: Option<SuccessorReader>,
    /// Hosts other than the token's own origin that a target may send it to (an inventory's
    /// `allow_host`, for a known relay), by target index.
    allowed_hosts: HashMap<usize, String>,
    /// The host of the configured GitLab: where a GitLab token may be sent, whether or not
    /// this run has a GitLab client.
    gitlab_host: Option<String>,
}

/// Reads what earlier runs rotated (the journals of this origin).
pub type SuccessorReader = Box<dyn Fn() -> HashMap<String, Successor> + Send + Sync>;

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
            allowed_hosts: HashMap::new(),
            gitlab_host: None,
            zendesk: Mutex::new(HashMap::new()),
            no_stash: false,
            policy: RetryPolicy::default(),
            incoming: None,
            successors: std::sync::OnceLock::new(),
            read_successors: None,
        }
    }

    /// What earlier runs rotated, by the source token's identity (`gitlab-token:42`): a source
    /// that preflight finds inactive is then named with its successor.
    pub fn with_successors(mut self, read: SuccessorReader) -> Self {
        self.read_successors = Some(read);
        self
    }

    /// The run that rotated `identity`, and the ids its line of successors has had since, in
    /// order (42 → 5001 → 6002 gives `[5001, 6002]`: the last is the one to rotate now).
    pub(crate) fn successors_of(&self, identity: &Identity) -> Option<(&Successor, Vec<u64>)> {
        let successors = self.successors.get_or_init(|| {
            self.read_successors
                .as_ref()
                .map(|read| read())
                .unwrap_or_default()
        });
        let first = successors.get(&identity.to_string())?;
        let mut line = vec![first.new_id];
        while let Some(next) = line
            .last()
            .and_then(|id| identity.successor(*id))
            .and_then(|next| successors.get(&next.to_string()))
        {
            if line.contains(&next.new_id) {
                break;
            }
            line.push(next.new_id);
        }
        Some((first, line))
    }

    /// The HTTP policy for the clients the executor makes itself (Zendesk instances).
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
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
    pub(crate) fn mark_applied(
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

    /// Targets (by index) that may send the token to a host other than its own origin.
    pub fn allowing_hosts(mut self, hosts: HashMap<usize, String>) -> Self {
        self.allowed_hosts = hosts;
        self
    }

    /// The configured GitLab's URL: its host is where a GitLab token may go.
    pub fn with_gitlab_url(mut self, url: &str) -> Self {
        self.gitlab_host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
        self
    }

    /// Refuses a target that would send a GitLab token to a host other than GitLab's (a
    /// Zendesk webhook re-pointed elsewhere would hand the new token to whoever is there),
    /// unless the inventory allows that host for this target. A token is GitLab's by the
    /// source's kind, by its prefix (`token`, the value about to be written, or the run's new
    /// token), or because the consumer is a GitLab pipeline trigger URL.
    pub(crate) fn check_host(
        &self,
        target: Option<usize>,
        host: Option<&str>,
        what: &str,
        (token, trigger_url): (Option<&SecretString>, bool),
    ) -> Result<(), ActionFailure> {
        let gitlab_token = trigger_url
            || self
                .incoming
                .as_ref()
                .is_some_and(super::token_format::Incoming::is_gitlab)
            || token.is_some_and(crate::secret::is_gitlab_token)
            || self
                .new_token()
                .is_some_and(|t| crate::secret::is_gitlab_token(&t));
        if !gitlab_token {
            return Ok(());
        }
        let own = self.gitlab_host.as_deref();
        let host = host.unwrap_or("(no host)");
        if own == Some(host) {
            return Ok(());
        }
        if target
            .and_then(|t| self.allowed_hosts.get(&t))
            .is_some_and(|a| a.eq_ignore_ascii_case(host))
        {
            return Ok(());
        }
        let host = crate::text::one_line(host);
        Err(ActionFailure::new(format!(
            "{what} sends the token to {host}, not to GitLab ({}): a GitLab token goes only to GitLab, so nothing was sent to it; if {host} is a relay you trust, allow it for this target in the inventory: {{ spec = \"…\", allow_host = \"{host}\" }}",
            own.unwrap_or("unknown")
        )))
    }

    /// What is known of the token the run will apply, for rules a target checks in preflight.
    pub fn expecting(mut self, incoming: Option<super::token_format::Incoming>) -> Self {
        self.incoming = incoming;
        self
    }

    /// The tool's own Zendesk credentials, by instance id.
    pub fn with_zendesk(mut self, auth: HashMap<String, Auth>) -> Self {
        self.zendesk_auth = auth;
        self
    }

    /// The client for the step's instance, with the tool's own credential.
    pub(crate) fn zendesk(&self, step: &Invocation) -> Result<Zendesk, ActionFailure> {
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
    pub(crate) fn zendesk_as(
        &self,
        step: &Invocation,
        auth: Auth,
    ) -> Result<Zendesk, ActionFailure> {
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

    /// Reads the variables of a project or group with one list call when many targets are in it.
    pub fn batch_variable_reads(mut self, steps: &[Invocation]) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for s in steps {
            if matches!(
                s.action,
                Action::GitlabGetProjectVariable
                    | Action::GitlabGetGroupVariable
                    | Action::GitlabGetInstanceVariable
            ) && let Ok(owner) = self.var_owner(s)
            {
                *counts.entry(var_owner_key(owner)).or_default() += 1;
            }
        }
        self.batched = counts
            .into_iter()
            .filter(|(_, n)| *n >= BATCH_VARIABLE_READS)
            .map(|(k, _)| k)
            .collect();
        self
    }

    /// Carries out one action; the `Ok` text is a short note for the operator. Every action
    /// has its arm: one without code does not build.
    pub async fn run(&self, step: &Invocation) -> Result<String, ActionFailure> {
        use gitlab::{hooks, tokens, triggers, variables};
        use zendesk::{apps, oauth, signing, users, webhooks};
        tracing::debug!(action = ?step.action, target = ?step.target_index, "action");
        match step.action {
            Action::TargetsPreflight | Action::TargetsApply => Ok("no targets".into()),
            Action::TokrotStash => local::stash(self, step).await,
            Action::GitlabCurrentUser => tokens::current_user(self, step).await,
            Action::GitlabFindPersonalToken => tokens::find_personal_token(self, step).await,
            Action::GitlabGetPersonalToken => tokens::get_personal_token(self, step).await,
            Action::GitlabRotatePersonalToken => tokens::rotate_personal_token(self, step).await,
            Action::GitlabVerifyPersonalToken => tokens::verify_personal_token(self, step).await,
            Action::GitlabFindProjectToken | Action::GitlabFindGroupToken => {
                tokens::find_access_token(self, step).await
            }
            Action::GitlabGetProjectToken | Action::GitlabGetGroupToken => {
                tokens::get_access_token(self, step).await
            }
            Action::GitlabRotateProjectToken | Action::GitlabRotateGroupToken => {
                tokens::rotate_access_token(self, step).await
            }
            Action::GitlabCreateProjectToken => tokens::create_project_token(self, step).await,
            Action::GitlabVerifyProjectToken | Action::GitlabVerifyGroupToken => {
                tokens::verify_access_token(self, step).await
            }
            Action::GitlabGetTrigger => triggers::get_trigger(self, step).await,
            Action::GitlabCreateTrigger | Action::GitlabCreateTriggerAs => {
                triggers::create_trigger(self, step).await
            }
            Action::GitlabDeleteTrigger => triggers::delete_trigger(self, step).await,
            Action::GitlabRevokePreviousBot => triggers::revoke_previous_bot(self, step).await,
            Action::GitlabGetProjectVariable
            | Action::GitlabGetGroupVariable
            | Action::GitlabGetInstanceVariable => variables::get_variable(self, step).await,
            Action::GitlabUpdateProjectVariable
            | Action::GitlabUpdateGroupVariable
            | Action::GitlabUpdateInstanceVariable => variables::update_variable(self, step).await,
            Action::GitlabVerifyProjectVariable
            | Action::GitlabVerifyGroupVariable
            | Action::GitlabVerifyInstanceVariable => variables::verify_variable(self, step).await,
            Action::GitlabGetWebhook | Action::GitlabGetGroupWebhook => {
                hooks::get_webhook(self, step).await
            }
            Action::GitlabUpdateWebhookToken | Action::GitlabUpdateGroupWebhookToken => {
                hooks::update_webhook_token(self, step).await
            }
            Action::ZendeskCurrentUser => users::current_user(self, step).await,
            Action::ZendeskVerifyApiToken => users::verify_api_token(self, step).await,
            Action::ZendeskGetInstallation => apps::get_installation(self, step).await,
            Action::ZendeskUpdateInstallationSetting => {
                apps::update_installation_setting(self, step).await
            }
            Action::ZendeskGetWebhook => webhooks::get_webhook(self, step).await,
            Action::ZendeskPatchWebhookToken => webhooks::patch_webhook_token(self, step).await,
            Action::ZendeskCheckSigningSecret => signing::check_signing_secret(self, step).await,
            Action::ZendeskResetSigningSecret => signing::reset_signing_secret(self, step).await,
            Action::ZendeskVerifySigningSecret => signing::verify_signing_secret(self, step).await,
            Action::ZendeskListOauthTokens => oauth::list_oauth_tokens(self, step).await,
            Action::ZendeskCreateOauthToken => oauth::create_oauth_token(self, step).await,
            Action::ZendeskVerifyOauthToken => oauth::verify_oauth_token(self, step).await,
            Action::ZendeskRevokeOauthToken => oauth::revoke_oauth_token(self, step).await,
        }
    }

    /// Records whether the keeper took the new token (the protocol keeps it, the moment it
    /// exists); a refusal is kept as said (redacted), for the report and the journal.
    pub fn kept(&self, result: Result<(), String>) {
        let mut st = self.lock();
        match result {
            Ok(()) => st.facts.stashed = true,
            Err(why) => st.facts.stash_error = Some(self.redactor.redact(&why)),
        }
    }

    /// Where the new token is, in a line for the `tokrot.stash` step.
    pub fn where_kept(&self) -> String {
        let facts = self.facts();
        if let Some(why) = facts.stash_error {
            return format!(
                "WARNING: NOT KEPT: the keyring refused the new token ({why}); it exists only in this process's memory until the targets have it"
            );
        }
        if facts.stashed {
            return format!("in the keyring as tokrot/pending:{}", self.rotation_id);
        }
        if self.no_stash {
            return "not stashed (--no-stash): the token is only in this process's memory".into();
        }
        "no new token to keep".into()
    }

    /// What earlier steps learned that later ones need, for the journal: ids, names, scopes;
    /// never a secret.
    pub fn memo(&self) -> BTreeMap<String, String> {
        let st = self.lock();
        let mut memo = BTreeMap::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                memo.insert(k.to_owned(), v);
            }
        };
        put("token_id", st.token_id.clone());
        put("old_trigger_id", st.old_trigger_id.map(|i| i.to_string()));
        put(
            "old_trigger_owner",
            st.old_trigger_owner.map(|i| i.to_string()),
        );
        put(
            "old_trigger_description",
            st.old_trigger_description.clone(),
        );
        put("old_oauth_id", st.old_oauth_id.map(|i| i.to_string()));
        put("identity_change", st.identity_change.clone());
        put(
            "refresh_token",
            st.facts
                .refresh_token
                .then(|| "issued, not kept".to_owned()),
        );
        put(
            "vendor_expiry",
            st.facts.vendor_expiry.then(|| "yes".to_owned()),
        );
        put(
            "requested_scopes",
            (!st.requested_scopes.is_empty()).then(|| st.requested_scopes.join(" ")),
        );
        put("source_id", st.source_id.clone());
        memo
    }

    /// Gives back what `memo` kept (`resume`).
    pub fn restore(&self, memo: &BTreeMap<String, String>) {
        let mut st = self.lock();
        let get = |k: &str| memo.get(k).cloned();
        st.token_id = get("token_id").or(st.token_id.take());
        st.old_trigger_id = get("old_trigger_id").and_then(|v| v.parse().ok());
        st.old_trigger_owner = get("old_trigger_owner").and_then(|v| v.parse().ok());
        st.old_trigger_description = get("old_trigger_description");
        st.old_oauth_id = get("old_oauth_id").and_then(|v| v.parse().ok());
        st.identity_change = get("identity_change");
        st.facts.refresh_token = memo.contains_key("refresh_token");
        st.facts.vendor_expiry = memo.contains_key("vendor_expiry");
        st.requested_scopes = get("requested_scopes")
            .map(|v| v.split(' ').map(str::to_owned).collect())
            .unwrap_or_default();
        st.source_id = get("source_id");
    }

    /// Values of runbook parameters that the steps so far have learned, by parameter name: the
    /// token found by name, the old token picked from a list, and what a create or rotate call
    /// will send where the operator gave no value. No secret. A run shows them in the steps it
    /// announces.
    pub fn learned(&self) -> BTreeMap<String, String> {
        let st = self.lock();
        let mut out = BTreeMap::new();
        if let Some(id) = &st.token_id {
            out.insert("token_id".to_owned(), id.clone());
        }
        if let Some(old) = &st.old_token {
            let expires = default_expiry(Some(old), self.today);
            out.insert("expires_at".to_owned(), expires.to_string());
        }
        if let Some(description) = &st.old_trigger_description {
            out.insert(
                "description".to_owned(),
                crate::text::short(description, 200),
            );
        }
        if let Some(id) = st.old_oauth_id {
            out.insert("old_token_id".to_owned(), id.to_string());
            if let Some(old) = st.oauth_tokens.iter().find(|t| t.id == id) {
                out.insert(
                    "scopes".to_owned(),
                    crate::text::short(&old.scopes.join(","), 200),
                );
            }
        }
        out
    }

    /// The source token as the vendor names it, once preflight has found it.
    pub fn source_identity(&self) -> Option<String> {
        self.lock().source_id.clone()
    }

    /// Keeps the operator's answer to a question an action asked; the action then runs again.
    pub fn answer(&self, key: &str, answer: Answer) {
        self.lock().answers.insert(key.to_owned(), answer);
    }

    /// A line the operator typed, or the question that asks for it.
    pub(crate) fn text_answer(
        &self,
        key: &str,
        prompt: String,
        unanswered: String,
    ) -> Result<String, ActionFailure> {
        if let Some(Answer::Text(t)) = self.lock().answers.get(key) {
            return Ok(t.clone());
        }
        Err(ActionFailure::ask(Question {
            key: key.to_owned(),
            ask: Ask::Text(prompt),
            unanswered,
        }))
    }

    /// Whether the operator confirmed (`--yes` does), or the question that asks.
    pub(crate) fn confirmed(&self, key: &str, prompt: String) -> Result<bool, ActionFailure> {
        if let Some(Answer::Yes(yes)) = self.lock().answers.get(key) {
            return Ok(*yes);
        }
        Err(ActionFailure::ask(Question {
            key: key.to_owned(),
            unanswered: format!("{prompt}: not confirmed"),
            ask: Ask::Confirm(prompt),
        }))
    }

    /// The value of the item the operator picked, or the question that asks; `items` are
    /// `(line shown, value)`.
    pub(crate) fn picked(
        &self,
        key: &str,
        prompt: String,
        items: Vec<(String, String)>,
        unanswered: String,
    ) -> Result<String, ActionFailure> {
        if let Some(Answer::Picked(v)) = self.lock().answers.get(key) {
            return Ok(v.clone());
        }
        let (lines, values) = items.into_iter().unzip();
        Err(ActionFailure::ask(Question {
            key: key.to_owned(),
            ask: Ask::Pick(prompt, lines, values),
            unanswered,
        }))
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
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

    pub(crate) fn gitlab(&self) -> Result<GitLab, ActionFailure> {
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

    pub(crate) fn secret(
        &self,
        step: &Invocation,
        arg: &str,
    ) -> Result<SecretString, ActionFailure> {
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

    pub(crate) fn text<'s>(
        &self,
        step: &'s Invocation,
        arg: &str,
    ) -> Result<&'s str, ActionFailure> {
        step.text_arg(arg)
            .ok_or_else(|| ActionFailure::new(format!("`{arg}` is not known")))
    }

    pub(crate) fn number(&self, step: &Invocation, arg: &str) -> Result<u64, ActionFailure> {
        let t = self.text(step, arg)?;
        t.parse()
            .map_err(|_| ActionFailure::new(format!("`{arg}` must be a number, not `{t}`")))
    }

    /// The token id: given, or found by name in an earlier step.
    pub(crate) fn token_id(&self, step: &Invocation) -> Result<String, ActionFailure> {
        match step.text_arg("token_id") {
            Some(t) => Ok(t.to_owned()),
            None => self.lock().token_id.clone().ok_or_else(|| {
                ActionFailure::new("the token id is not known: give --token-id or --token-name")
            }),
        }
    }

    /// `expires_at`: given, or the old token's lifetime from today, at most 365 days.
    pub(crate) fn expires_at(&self, step: &Invocation) -> Result<Date, ActionFailure> {
        if let Some(t) = step.text_arg("expires_at") {
            return t
                .parse()
                .map_err(|_| ActionFailure::new(format!("expires_at `{t}` is not a date")));
        }
        let old = self.lock().old_token.clone();
        Ok(default_expiry(old.as_ref(), self.today))
    }

    /// Keeps a token the vendor just made, once it is seen to be a whole token: a value that is
    /// not (too short for any token of either vendor, or with spaces: a cut or a placeholder)
    /// is never kept or applied. The call was carried out all the same, so the failure says so,
    /// with `recover`: what to do about the token that was made.
    pub(crate) fn remember_new(
        &self,
        id: u64,
        token: SecretString,
        expires_at: Option<String>,
        secret: &str,
        recover: &str,
    ) -> Result<(), ActionFailure> {
        self.redactor.register(&token);
        if !crate::secret::whole_token(&token, MIN_NEW_TOKEN) {
            return Err(ActionFailure::after_write(format!(
                "the vendor made token {id}, but its answer holds no whole token (fewer than {MIN_NEW_TOKEN} characters, or spaces): \
                 nothing was kept or applied; {recover}"
            )));
        }
        let mut st = self.lock();
        st.secrets.insert(secret.to_owned(), token);
        if secret == "token" {
            st.facts.made = true;
            st.facts.new_id = Some(id);
            if expires_at.is_some() {
                st.facts.expires_at = expires_at;
            }
        }
        Ok(())
    }

    /// Keeps a new secret that has no id of its own (a webhook's signing secret) as the
    /// run's new token, when it is whole; the failure says how to recover.
    pub(crate) fn remember_secret(
        &self,
        secret: SecretString,
        recover: &str,
    ) -> Result<(), ActionFailure> {
        self.redactor.register(&secret);
        if !crate::secret::whole_token(&secret, MIN_NEW_TOKEN) {
            return Err(ActionFailure::after_write(format!(
                "the vendor's answer holds no whole secret (fewer than {MIN_NEW_TOKEN} characters, or spaces): \
                 nothing was kept or applied; {recover}"
            )));
        }
        let mut st = self.lock();
        st.secrets.insert("token".to_owned(), secret);
        st.facts.made = true;
        Ok(())
    }

    /// Whose CI/CD variables a step reads or writes: the instance's for the instance actions,
    /// else the project's or the group's its arguments name.
    pub(crate) fn var_owner<'s>(
        &self,
        step: &'s Invocation,
    ) -> Result<VarOwner<'s>, ActionFailure> {
        match step.action {
            Action::GitlabGetInstanceVariable
            | Action::GitlabUpdateInstanceVariable
            | Action::GitlabVerifyInstanceVariable => Ok(VarOwner::Instance),
            _ => self.owner(step).map(VarOwner::Of),
        }
    }

    pub(crate) fn owner<'s>(&self, step: &'s Invocation) -> Result<Owner<'s>, ActionFailure> {
        match (step.text_arg("project"), step.text_arg("group")) {
            (Some(p), _) => Ok(Owner::Project(p)),
            (None, Some(g)) => Ok(Owner::Group(g)),
            (None, None) => Err(ActionFailure::new("no project or group")),
        }
    }
}

/// A failed rotate call. A 401 is never "nothing changed": GitLab answers 401 when a token that
/// was already rotated is rotated again, and revokes the whole token family (new token too).
pub(crate) fn rotate_failure(e: ApiError) -> ActionFailure {
    if e.status() == Some(reqwest::StatusCode::UNAUTHORIZED) {
        return ActionFailure::unknown(format!(
            "{e}; the token family may have been revoked by GitLab's reuse detection (a token rotated twice)"
        ));
    }
    e.into()
}

pub(crate) fn owner_key(owner: Owner<'_>) -> String {
    match owner {
        Owner::Project(p) => format!("project {p}"),
        Owner::Group(g) => format!("group {g}"),
    }
}

/// Whose variables, for the operator and for batching reads.
pub(crate) fn var_owner_key(owner: VarOwner<'_>) -> String {
    match owner {
        VarOwner::Of(owner) => owner_key(owner),
        VarOwner::Instance => "the instance".to_owned(),
    }
}

pub(crate) fn access_token_kind(owner: Owner<'_>) -> &'static str {
    match owner {
        Owner::Project(_) => "project access token",
        Owner::Group(_) => "group access token",
    }
}

pub(crate) fn flag(on: bool, text: &str) -> &str {
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
pub fn needs_zendesk_credential(spec: &ActionSpec) -> bool {
    spec.service == Service::Api(Vendor::Zendesk)
        && !matches!(
            spec.action,
            Action::ZendeskVerifyApiToken | Action::ZendeskVerifyOauthToken
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
            user_id: None,
        }
    }

    #[test]
    fn a_404_on_a_bare_project_path_says_how_gitlab_names_projects() {
        let e = |status: u16, url: &str| ApiError::Status {
            method: reqwest::Method::GET,
            url: url.into(),
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            message: "404 Project Not Found".into(),
            retry_after: None,
        };
        let bare = e(
            404,
            "https://gitlab.com/api/v4/projects/zd-sync/access_tokens/42",
        );
        assert!(bare_path_note(&bare).contains("`GROUP/zd-sync`"));
        let group = e(404, "https://gitlab.com/api/v4/groups/sub/access_tokens/42");
        assert!(bare_path_note(&group).contains("`PARENT/sub`"));
        for quiet in [
            e(
                404,
                "https://gitlab.com/api/v4/projects/support%2Fzd-sync/variables/K",
            ),
            e(404, "https://gitlab.com/api/v4/projects/1234/triggers/5"),
            e(
                403,
                "https://gitlab.com/api/v4/projects/zd-sync/access_tokens/42",
            ),
        ] {
            assert_eq!(bare_path_note(&quiet), "");
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
