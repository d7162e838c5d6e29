//! GitLab REST API v4: one function per endpoint tokrot uses (reference/vendor-apis.md §G1–G6).
//! Project and group ids are numeric or a path, percent-encoded (`grp%2Fproj`). Lists follow the
//! `Link` header to the last page. Rotate and create are POSTs and are never retried.

mod wire;

use jiff::civil::Date;
use reqwest::header::HeaderName;
use secrecy::SecretString;
use serde_json::json;
use url::Url;

use super::http::{ApiError, Call, Credential, Http, RetryPolicy};
use super::route::{Route, gitlab};
use crate::config::display_url;
use crate::secret::Redactor;
use wire::{
    AccessTokenWire, HookWire, NamespaceWire, NewTokenWire, NewTriggerWire, TriggerWire, UserWire,
    VariableWire,
};

const PER_PAGE: &str = "100";

/// The user a credential belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Numeric id.
    pub id: u64,
    /// Username.
    pub username: String,
}

/// An access token as GitLab lists it (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Usable now: not revoked, not expired.
    pub active: bool,
    /// Created on.
    pub created_on: Option<Date>,
    /// Expires on.
    pub expires_on: Option<Date>,
    /// Last use, as GitLab writes it.
    pub last_used_at: Option<String>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// The user it acts as (a project's bot user for a project access token).
    pub user_id: Option<u64>,
}

/// A token's value, returned once by a rotate or create call. No `Debug`.
pub struct NewToken {
    /// The new token's id (rotation makes a new id).
    pub id: u64,
    /// The value.
    pub token: SecretString,
    /// Its expiry.
    pub expires_at: Option<String>,
}

/// A pipeline trigger. GitLab shows its whole token only to the user who created it (others
/// see four characters), which is what lets a lost create answer be recovered. No `Debug`.
#[derive(Clone)]
pub struct Trigger {
    /// Id.
    pub id: u64,
    /// Description.
    pub description: String,
    /// Last use.
    pub last_used: Option<String>,
    /// The token as GitLab shows it to this caller.
    pub token: Option<SecretString>,
    /// When it stops working, where GitLab says (a timestamp).
    pub expires_at: Option<String>,
    /// The user who owns it.
    pub owner_id: Option<u64>,
}

impl Trigger {
    /// The whole token, when this caller created the trigger (others see four characters).
    pub fn full_token(&self) -> Option<&SecretString> {
        use secrecy::ExposeSecret;
        self.token
            .as_ref()
            .filter(|t| t.expose_secret().chars().count() > 4)
    }
}

/// A project or a group: whose access tokens or variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    /// A project, by id or path.
    Project(&'a str),
    /// A group, by id or path.
    Group(&'a str),
}

impl<'a> Owner<'a> {
    /// Of a project's route and a group's, the one for this owner, and the argument that
    /// names the owner.
    fn route(self, project: Route, group: Route) -> (Route, (&'static str, &'a str)) {
        match self {
            Owner::Project(p) => (project, ("project", p)),
            Owner::Group(g) => (group, ("group", g)),
        }
    }
}

/// Whose CI/CD variables: a project's, a group's, or the instance's (administrators of a
/// self-managed GitLab; an instance variable has no environment scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarOwner<'a> {
    /// A project's or a group's.
    Of(Owner<'a>),
    /// The instance's.
    Instance,
}

impl<'a> VarOwner<'a> {
    /// Of the project's, the group's and the instance's route, the one for this owner, and the
    /// arguments that name the owner (none for the instance).
    fn route(
        self,
        project: Route,
        group: Route,
        instance: Route,
    ) -> (Route, Vec<(&'static str, &'a str)>) {
        match self {
            VarOwner::Of(owner) => {
                let (route, arg) = owner.route(project, group);
                (route, vec![arg])
            }
            VarOwner::Instance => (instance, Vec::new()),
        }
    }
}

/// A CI/CD variable's settings, kept as they are when its value is replaced. No `Debug`: the
/// value is a secret.
#[derive(Clone)]
pub struct Variable {
    /// Key.
    pub key: String,
    /// The value; `None` for a hidden variable, which GitLab never returns.
    pub value: Option<SecretString>,
    /// `env_var` or `file`.
    pub variable_type: String,
    /// Protected.
    pub protected: bool,
    /// Masked.
    pub masked: bool,
    /// Hidden (masked and never shown, set only at creation).
    pub hidden: bool,
    /// Raw (no expansion).
    pub raw: bool,
    /// Environment scope.
    pub environment_scope: String,
}

impl From<VariableWire> for Variable {
    fn from(w: VariableWire) -> Self {
        Self {
            key: w.key,
            value: if w.hidden { None } else { w.value },
            variable_type: w.variable_type.unwrap_or_else(|| "env_var".into()),
            protected: w.protected,
            masked: w.masked,
            hidden: w.hidden,
            raw: w.raw,
            environment_scope: w.environment_scope.unwrap_or_else(|| "*".into()),
        }
    }
}

/// A project webhook (the URL may hold credentials: never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct Hook {
    /// Id.
    pub id: u64,
    /// The URL, resent as is when the token changes (a new URL would wipe the token).
    pub url: String,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn date(s: &Option<String>) -> Option<Date> {
    s.as_deref()
        .and_then(|s| s.get(..10))
        .and_then(|d| d.parse().ok())
}

impl From<AccessTokenWire> for AccessToken {
    fn from(w: AccessTokenWire) -> Self {
        // A revoked token is not active, whatever `active` says (a vendor that ignores a
        // filter, or an answer with one of the two fields only).
        let active = w.active.unwrap_or(true) && !w.revoked.unwrap_or(false);
        Self {
            id: w.id,
            name: w.name,
            active,
            created_on: date(&w.created_at),
            expires_on: date(&w.expires_at),
            last_used_at: w.last_used_at,
            scopes: w.scopes,
            user_id: w.user_id,
        }
    }
}

impl From<NewTokenWire> for NewToken {
    fn from(w: NewTokenWire) -> Self {
        Self {
            id: w.id,
            token: w.token,
            expires_at: w.expires_at,
        }
    }
}

/// A GitLab API client with one credential.
#[derive(Clone)]
pub struct GitLab {
    http: Http,
    credential: std::sync::Arc<Credential>,
}

impl GitLab {
    /// The host GitLab answers on (lower-cased): where its tokens may be sent.
    pub fn host(&self) -> Option<String> {
        self.http.base().host_str().map(str::to_ascii_lowercase)
    }

    /// A client for the GitLab at `base` (e.g. `https://gitlab.com`), using `token`.
    pub fn new(
        base: &Url,
        token: SecretString,
        redactor: Redactor,
        policy: RetryPolicy,
    ) -> Result<Self, ApiError> {
        redactor.register(&token);
        let api = Url::parse(&format!("{}/api/v4", display_url(base)))
            .map_err(|e| ApiError::Client(format!("bad GitLab URL: {e}")))?;
        Ok(Self {
            http: Http::new(api, redactor, policy)?,
            credential: std::sync::Arc::new(private_token(token)),
        })
    }

    /// The same client with another token (the new one, to verify it; a bot's, to act as it).
    pub fn with_token(&self, token: SecretString) -> Self {
        Self {
            http: self.http.clone(),
            credential: std::sync::Arc::new(private_token(token)),
        }
    }

    /// A call of `route` with its path segments from `args`, with this client's credential.
    fn at(&self, route: &Route, args: &[(&str, &str)]) -> Call<'_> {
        Call::new(route.method(), route.fill(args), Some(&self.credential))
    }

    /// `GET /user`: whose credential this is.
    pub async fn current_user(&self) -> Result<User, ApiError> {
        let w: UserWire = self.http.json(self.at(&gitlab::USER, &[])).await?;
        Ok(User {
            id: w.id,
            username: w.username,
        })
    }

    /// `GET /personal_access_tokens?search=&state=`, every page.
    pub async fn personal_tokens(
        &self,
        search: Option<&str>,
        state: Option<&str>,
    ) -> Result<Vec<AccessToken>, ApiError> {
        self.token_list(self.at(&gitlab::PERSONAL_TOKENS, &[]), search, state)
            .await
    }

    /// The caller's own personal access tokens: `GET /personal_access_tokens?user_id=` with
    /// the caller's id (without it, an administrator gets every user's).
    pub async fn own_personal_tokens(
        &self,
        state: Option<&str>,
    ) -> Result<Vec<AccessToken>, ApiError> {
        let me = self.current_user().await?;
        let call = self
            .at(&gitlab::PERSONAL_TOKENS, &[])
            .query("user_id", me.id.to_string());
        self.token_list(call, None, state).await
    }

    /// `GET /personal_access_tokens/:id` (`id` may be `self`).
    pub async fn personal_token(&self, id: &str) -> Result<AccessToken, ApiError> {
        let call = match id {
            "self" => self.at(&gitlab::PERSONAL_TOKEN_SELF, &[]),
            _ => self.at(&gitlab::PERSONAL_TOKEN, &[("token_id", id)]),
        };
        let w: AccessTokenWire = self.http.json(call).await?;
        Ok(w.into())
    }

    /// `POST /personal_access_tokens/:id/rotate`: revokes the old token. Never retried.
    pub async fn rotate_personal_token(
        &self,
        id: &str,
        expires_at: Date,
    ) -> Result<NewToken, ApiError> {
        let call = self
            .at(&gitlab::ROTATE_PERSONAL_TOKEN, &[("token_id", id)])
            .json(json!({ "expires_at": expires_at.to_string() }));
        let w: NewTokenWire = self.http.json(call).await?;
        Ok(w.into())
    }

    /// `DELETE /personal_access_tokens/:id`.
    pub async fn revoke_personal_token(&self, id: &str) -> Result<(), ApiError> {
        self.http
            .send(self.at(&gitlab::REVOKE_PERSONAL_TOKEN, &[("token_id", id)]))
            .await
            .map(drop)
    }

    /// `GET /projects/:id/access_tokens` or `/groups/:id/access_tokens`, every page.
    pub async fn resource_tokens(
        &self,
        owner: Owner<'_>,
        search: Option<&str>,
        state: Option<&str>,
    ) -> Result<Vec<AccessToken>, ApiError> {
        let (route, owner) = owner.route(gitlab::PROJECT_TOKENS, gitlab::GROUP_TOKENS);
        self.token_list(self.at(&route, &[owner]), search, state)
            .await
    }

    /// A list of access tokens (personal, project or group), every page, with its filters.
    async fn token_list(
        &self,
        call: Call<'_>,
        search: Option<&str>,
        state: Option<&str>,
    ) -> Result<Vec<AccessToken>, ApiError> {
        let mut call = call.query("per_page", PER_PAGE);
        if let Some(s) = search {
            call = call.query(gitlab::SEARCH.wire, s);
        }
        if let Some(s) = state {
            call = call.query(gitlab::STATE.wire, s);
        }
        let list: Vec<AccessTokenWire> = self.http.paged(call).await?;
        Ok(list.into_iter().map(AccessToken::from).collect())
    }

    /// `GET /projects/:id/access_tokens/:token_id` (or the group's).
    pub async fn resource_token(
        &self,
        owner: Owner<'_>,
        token_id: &str,
    ) -> Result<AccessToken, ApiError> {
        let (route, owner) = owner.route(gitlab::PROJECT_TOKEN, gitlab::GROUP_TOKEN);
        let call = self.at(&route, &[owner, ("token_id", token_id)]);
        let w: AccessTokenWire = self.http.json(call).await?;
        Ok(w.into())
    }

    /// `POST /projects/:id/access_tokens` (or the group's): a new token and its bot user. Never retried.
    pub async fn create_resource_token(
        &self,
        owner: Owner<'_>,
        name: &str,
        scopes: &[&str],
        access_level: u32,
        expires_at: Date,
    ) -> Result<NewToken, ApiError> {
        let (route, owner) = owner.route(gitlab::CREATE_PROJECT_TOKEN, gitlab::CREATE_GROUP_TOKEN);
        let call = self.at(&route, &[owner]).json(json!({
            "name": name,
            "scopes": scopes,
            "access_level": access_level,
            "expires_at": expires_at.to_string(),
        }));
        let w: NewTokenWire = self.http.json(call).await?;
        Ok(w.into())
    }

    /// `POST /projects/:id/access_tokens/:token_id/rotate` (or the group's). Never retried.
    pub async fn rotate_resource_token(
        &self,
        owner: Owner<'_>,
        token_id: &str,
        expires_at: Date,
    ) -> Result<NewToken, ApiError> {
        let (route, owner) = owner.route(gitlab::ROTATE_PROJECT_TOKEN, gitlab::ROTATE_GROUP_TOKEN);
        let call = self
            .at(&route, &[owner, ("token_id", token_id)])
            .json(json!({ "expires_at": expires_at.to_string() }));
        let w: NewTokenWire = self.http.json(call).await?;
        Ok(w.into())
    }

    /// `DELETE /projects/:id/access_tokens/:token_id` (or the group's).
    pub async fn revoke_resource_token(
        &self,
        owner: Owner<'_>,
        token_id: &str,
    ) -> Result<(), ApiError> {
        let (route, owner) = owner.route(gitlab::REVOKE_PROJECT_TOKEN, gitlab::REVOKE_GROUP_TOKEN);
        self.http
            .send(self.at(&route, &[owner, ("token_id", token_id)]))
            .await
            .map(drop)
    }

    /// `GET /projects/:id` or `/groups/:id`: whether this credential can read it.
    pub async fn namespace(&self, owner: Owner<'_>) -> Result<u64, ApiError> {
        let (route, owner) = owner.route(gitlab::PROJECT, gitlab::GROUP);
        let w: NamespaceWire = self.http.json(self.at(&route, &[owner])).await?;
        Ok(w.id)
    }

    /// `GET /projects/:id/triggers`, every page.
    pub async fn triggers(&self, project: &str) -> Result<Vec<Trigger>, ApiError> {
        let call = self
            .at(&gitlab::TRIGGERS, &[("project", project)])
            .query("per_page", PER_PAGE);
        let list: Vec<TriggerWire> = self.http.paged(call).await?;
        Ok(list.into_iter().map(trigger).collect())
    }

    /// `GET /projects/:id/triggers/:trigger_id`.
    pub async fn trigger(&self, project: &str, trigger_id: u64) -> Result<Trigger, ApiError> {
        let id = trigger_id.to_string();
        let call = self.at(
            &gitlab::TRIGGER,
            &[("project", project), ("trigger_id", &id)],
        );
        let w: TriggerWire = self.http.json(call).await?;
        Ok(trigger(w))
    }

    /// `POST /projects/:id/triggers` with a description. Never retried.
    pub async fn create_trigger(
        &self,
        project: &str,
        description: &str,
    ) -> Result<NewToken, ApiError> {
        let call = self
            .at(&gitlab::CREATE_TRIGGER, &[("project", project)])
            .json(json!({ "description": description }));
        let w: NewTriggerWire = self.http.json(call).await?;
        Ok(NewToken {
            id: w.id,
            token: w.token,
            expires_at: None,
        })
    }

    /// `DELETE /projects/:id/triggers/:trigger_id`.
    pub async fn delete_trigger(&self, project: &str, trigger_id: u64) -> Result<(), ApiError> {
        let id = trigger_id.to_string();
        let call = self.at(
            &gitlab::DELETE_TRIGGER,
            &[("project", project), ("trigger_id", &id)],
        );
        self.http.send(call).await.map(drop)
    }

    /// `GET /projects/:id/variables/:key?filter[environment_scope]=` (or the group's), or
    /// `GET /admin/ci/variables/:key` (the instance's: no scope).
    pub async fn variable(
        &self,
        owner: VarOwner<'_>,
        key: &str,
        scope: &str,
    ) -> Result<Variable, ApiError> {
        let (route, mut args) = owner.route(
            gitlab::PROJECT_VARIABLE,
            gitlab::GROUP_VARIABLE,
            gitlab::INSTANCE_VARIABLE,
        );
        args.push(("key", key));
        let mut call = self.at(&route, &args);
        // The instance's variables have no scope: its route takes none.
        if let Some(q) = route.takes(gitlab::SCOPE.param) {
            call = call.query(q.wire, scope);
        }
        let w: VariableWire = self.http.json(call).await?;
        Ok(w.into())
    }

    /// `GET /projects/:id/variables` (or the group's, or the instance's), every page: one call
    /// for many targets.
    pub async fn variables(&self, owner: VarOwner<'_>) -> Result<Vec<Variable>, ApiError> {
        let (route, args) = owner.route(
            gitlab::PROJECT_VARIABLES,
            gitlab::GROUP_VARIABLES,
            gitlab::INSTANCE_VARIABLES,
        );
        let call = self.at(&route, &args).query("per_page", PER_PAGE);
        let list: Vec<VariableWire> = self.http.paged(call).await?;
        Ok(list.into_iter().map(Variable::from).collect())
    }

    /// `PUT /projects/:id/variables/:key?filter[environment_scope]=` (or the group's, or
    /// `PUT /admin/ci/variables/:key`): the new value with the variable's settings sent back as
    /// they were, so that none changes. The scope is not in the body: a GitLab that ignores the
    /// filter would move whichever variable it matched into it; without it, the answer shows
    /// the scope that was really written.
    pub async fn update_variable(
        &self,
        owner: VarOwner<'_>,
        current: &Variable,
        value: &SecretString,
    ) -> Result<Variable, ApiError> {
        use secrecy::ExposeSecret;
        let (route, mut args) = owner.route(
            gitlab::UPDATE_PROJECT_VARIABLE,
            gitlab::UPDATE_GROUP_VARIABLE,
            gitlab::UPDATE_INSTANCE_VARIABLE,
        );
        args.push(("key", &current.key));
        let mut call = self.at(&route, &args);
        if let Some(q) = route.takes(gitlab::SCOPE.param) {
            call = call.query(q.wire, current.environment_scope.clone());
        }
        let call = call.json(json!({
            "value": value.expose_secret(),
            "variable_type": current.variable_type,
            "protected": current.protected,
            "masked": current.masked,
            "raw": current.raw,
        }));
        let w: VariableWire = self.http.json(call).await?;
        Ok(w.into())
    }

    /// `GET /projects/:id/hooks`, every page.
    pub async fn hooks(&self, project: &str) -> Result<Vec<Hook>, ApiError> {
        let call = self
            .at(&gitlab::HOOKS, &[("project", project)])
            .query("per_page", PER_PAGE);
        let list: Vec<HookWire> = self.http.paged(call).await?;
        Ok(list
            .into_iter()
            .map(|w| Hook {
                id: w.id,
                url: w.url,
            })
            .collect())
    }

    /// `GET /projects/:id/hooks/:hook_id` (or `/groups/:id/hooks/:hook_id`, Premium).
    pub async fn hook(&self, owner: Owner<'_>, hook_id: u64) -> Result<Hook, ApiError> {
        let id = hook_id.to_string();
        let (route, arg) = owner.route(gitlab::HOOK, gitlab::GROUP_HOOK);
        let call = self.at(&route, &[arg, ("hook_id", &id)]);
        let w: HookWire = self.http.json(call).await?;
        Ok(Hook {
            id: w.id,
            url: w.url,
        })
    }

    /// `PUT /projects/:id/hooks/:hook_id` (or the group's) with the same `url` and the new
    /// `token`: GitLab wipes the token when the URL changes, and keeps every setting that is
    /// not sent.
    pub async fn update_hook_token(
        &self,
        owner: Owner<'_>,
        hook: &Hook,
        token: &SecretString,
    ) -> Result<Hook, ApiError> {
        use secrecy::ExposeSecret;
        let id = hook.id.to_string();
        let (route, arg) = owner.route(gitlab::UPDATE_HOOK, gitlab::UPDATE_GROUP_HOOK);
        let call = self
            .at(&route, &[arg, ("hook_id", &id)])
            .json(json!({ "url": hook.url, "token": token.expose_secret() }));
        let w: HookWire = self.http.json(call).await?;
        Ok(Hook {
            id: w.id,
            url: w.url,
        })
    }
}

fn private_token(token: SecretString) -> Credential {
    Credential::Header(HeaderName::from_static("private-token"), token)
}

fn trigger(w: TriggerWire) -> Trigger {
    Trigger {
        id: w.id,
        description: w.description.unwrap_or_default(),
        last_used: w.last_used,
        token: w.token,
        expires_at: w.expires_at,
        owner_id: w.owner.map(|o| o.id),
    }
}

/// A rule of GitLab's masked variables that a value breaks (doc/ci/variables: "Mask a CI/CD
/// variable"; the server-side check is `\A[a-zA-Z0-9_+=/@:.~-]{8,}\z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MaskRule {
    /// More than one line, or spaces.
    #[error("a masked variable's value must be a single line with no spaces")]
    SingleLine,
    /// Shorter than 8 characters.
    #[error("a masked variable's value must be 8 characters or longer")]
    Length,
    /// A character outside the allowed set.
    #[error("a masked variable's value may only hold letters, digits and @ _ - : + . ~ = /")]
    Alphabet,
}

/// Checks that a masked variable can hold `value`, before anything is written. A raw variable
/// (not expanded) takes any character but white space (GitLab's masking rules for raw
/// variables, reference/vendor-apis.md), the others only the alphabet below.
pub fn maskable(value: &SecretString, raw: bool) -> Result<(), MaskRule> {
    use secrecy::ExposeSecret;
    let v = value.expose_secret();
    if v.chars().any(char::is_whitespace) {
        return Err(MaskRule::SingleLine);
    }
    if v.chars().count() < 8 {
        return Err(MaskRule::Length);
    }
    if !raw
        && !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@_-:+.~=/".contains(c))
    {
        return Err(MaskRule::Alphabet);
    }
    Ok(())
}

/// Decodes a body as every GitLab answer tokrot reads, converted as the client converts it;
/// how many shapes it fits. For the fuzz targets and property tests: whatever the bytes, this
/// must return, never panic.
pub fn decode_any(body: &[u8]) -> usize {
    fn fits<W: serde::de::DeserializeOwned, T>(body: &[u8], convert: impl Fn(W) -> T) -> usize {
        serde_json::from_slice::<W>(body)
            .map(convert)
            .is_ok()
            .into()
    }
    fits::<UserWire, _>(body, |w| w.username)
        + fits::<AccessTokenWire, _>(body, AccessToken::from)
        + fits::<Vec<AccessTokenWire>, _>(body, |l| l.into_iter().map(AccessToken::from).count())
        + fits::<NewTokenWire, _>(body, NewToken::from)
        + fits::<TriggerWire, _>(body, trigger)
        + fits::<Vec<TriggerWire>, _>(body, |l| l.into_iter().map(trigger).count())
        + fits::<NewTriggerWire, _>(body, |w| w.id)
        + fits::<VariableWire, _>(body, Variable::from)
        + fits::<Vec<VariableWire>, _>(body, |l| l.into_iter().map(Variable::from).count())
        + fits::<HookWire, _>(body, |w| w.id)
        + fits::<NamespaceWire, _>(body, |w| w.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_variable_rules() {
        let check = |s: &str| maskable(&SecretString::from(s.to_owned()), false);
        assert_eq!(check("glpat-abcdefghij0123456789"), Ok(()));
        assert_eq!(check("glptt-0123.abc_DEF:x+y=z/~@"), Ok(()));
        assert_eq!(check("two words here"), Err(MaskRule::SingleLine));
        assert_eq!(check("line\nbreak-long"), Err(MaskRule::SingleLine));
        assert_eq!(check("short"), Err(MaskRule::Length));
        assert_eq!(check("has#hash-long"), Err(MaskRule::Alphabet));
        // A raw variable takes any character but white space, still 8 or more.
        let raw = |s: &str| maskable(&SecretString::from(s.to_owned()), true);
        assert_eq!(raw("has#hash-long$"), Ok(()));
        assert_eq!(raw("two words here"), Err(MaskRule::SingleLine));
        assert_eq!(raw("sh#rt"), Err(MaskRule::Length));
    }

    #[test]
    fn dates_are_read_from_datetimes_and_dates() {
        assert_eq!(
            date(&Some("2026-01-10T15:00:00.000Z".into())),
            Some(jiff::civil::date(2026, 1, 10))
        );
        assert_eq!(
            date(&Some("2027-03-31".into())),
            Some(jiff::civil::date(2027, 3, 31))
        );
        assert_eq!(date(&None), None);
    }
}
