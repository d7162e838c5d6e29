//! Zendesk Support API: one function per endpoint tokrot uses (reference/vendor-apis.md §Z2–Z6).
//! Authentication is an OAuth token (Bearer) or an email with an API token
//! (Basic `{email}/token:{token}`); lists use cursor pagination; a 429 names its wait in
//! `Retry-After`. Credentials are checked against `users/me` *and* a user id, because Zendesk
//! answers 200 with an anonymous user when some credentials are wrong.

mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use url::Url;

use super::encode_segment;
use super::http::{ApiError, Call, Credential, Http, RetryPolicy};
use super::route::{Route, zendesk};
use crate::secret::Redactor;
use wire::{
    AppOneWire, AppWire, InstallationOneWire, InstallationWire, InstallationsWire, MeWire,
    NewOAuthTokenWire, OAuthClientWire, OAuthTokenOneWire, OAuthTokenWire, SigningSecretWire,
    WebhookOneWire, WebhookWire,
};

/// How tokrot authenticates to Zendesk.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    OAuth(SecretString),
    /// `Authorization: Basic base64({email}/token:{token})`.
    ApiToken {
        /// The user's email.
        email: String,
        /// The API token.
        token: SecretString,
    },
}

/// How a Zendesk credential is kept in the OS keyring: one secret holding this JSON.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    oauth_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_token: Option<String>,
}

impl Auth {
    /// The credential as one secret, for the OS keyring.
    pub fn to_keyring_entry(&self) -> SecretString {
        let entry = match self {
            Auth::OAuth(t) => KeyringEntry {
                oauth_token: Some(t.expose_secret().to_owned()),
                email: None,
                api_token: None,
            },
            Auth::ApiToken { email, token } => KeyringEntry {
                oauth_token: None,
                email: Some(email.clone()),
                api_token: Some(token.expose_secret().to_owned()),
            },
        };
        SecretString::from(serde_json::to_string(&entry).unwrap_or_default())
    }

    /// Reads back what `to_keyring_entry` wrote; `None` when it is not such an entry.
    pub fn from_keyring_entry(secret: &SecretString) -> Option<Self> {
        match serde_json::from_str::<KeyringEntry>(secret.expose_secret()).ok()? {
            KeyringEntry {
                oauth_token: Some(t),
                ..
            } => Some(Auth::OAuth(SecretString::from(t))),
            KeyringEntry {
                email: Some(email),
                api_token: Some(t),
                ..
            } => Some(Auth::ApiToken {
                email,
                token: SecretString::from(t),
            }),
            _ => None,
        }
    }

    fn credential(self) -> Credential {
        match self {
            Auth::OAuth(t) => Credential::Bearer(t),
            Auth::ApiToken { email, token } => Credential::Basic(format!("{email}/token"), token),
        }
    }
}

/// The user a credential belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    /// Id; `None` for the anonymous user.
    pub id: Option<u64>,
    /// Email.
    pub email: Option<String>,
    /// Role.
    pub role: Option<String>,
}

impl Me {
    /// Whether the credential authenticated: a real user, not the anonymous one.
    pub fn authenticated(&self) -> bool {
        self.id.is_some()
    }
}

/// An app installation with the settings Zendesk shows (secure ones are never shown). No
/// `Debug`: shown settings can hold values too.
#[derive(Clone)]
pub struct Installation {
    /// Id.
    pub id: u64,
    /// The app's id.
    pub app_id: Option<u64>,
    /// The name Zendesk displays (`settings.name`, else `settings.title`).
    pub name: String,
    /// Names of the settings shown.
    pub settings: Vec<String>,
    /// Enabled.
    pub enabled: bool,
    /// The text values of the settings shown (a setting that is not secure can hold a token).
    values: BTreeMap<String, SecretString>,
}

/// An app: the settings its installations take.
#[derive(Debug, Clone)]
pub struct App {
    /// Its name.
    pub name: String,
    /// Its parameters: name, and whether it is secure (written, never shown again).
    pub parameters: Vec<(String, bool)>,
}

impl Installation {
    /// Whether a shown setting holds `value` (compared without printing either); `None` when
    /// the setting is not shown (secure settings never are).
    pub fn setting_holds(&self, setting: &str, value: &SecretString) -> Option<bool> {
        self.values
            .get(setting)
            .map(|v| crate::secret::same(v, value))
    }

    /// The settings shown before (`self`) that `after` no longer shows, or whose text changed,
    /// other than `written`: what a write of one setting must not touch. Compared without
    /// printing any value; each with what it was, when that cannot be a secret.
    pub fn changed_besides(
        &self,
        after: &Installation,
        written: &str,
    ) -> Vec<(String, Option<String>)> {
        self.settings
            .iter()
            .filter(|s| *s != written)
            .filter(|s| {
                !after.settings.contains(s)
                    || match (self.values.get(*s), after.values.get(*s)) {
                        (Some(a), Some(b)) => !crate::secret::same(a, b),
                        (None, None) => false,
                        _ => true,
                    }
            })
            .map(|s| (s.clone(), self.harmless_value(s)))
            .collect()
    }

    /// A setting's text as shown, when it cannot be a secret (short, and nothing in it looks
    /// like a token): what the operator needs to set it again.
    fn harmless_value(&self, setting: &str) -> Option<String> {
        let value = self.values.get(setting)?.expose_secret().to_owned();
        (value.chars().count() <= 200 && !crate::secret::looks_like_a_token(&value))
            .then_some(value)
    }
}

impl From<InstallationWire> for Installation {
    fn from(w: InstallationWire) -> Self {
        let text = |k: &str| {
            w.settings
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let name = text("name")
            .or_else(|| text("title"))
            .unwrap_or_else(|| format!("installation {}", w.id));
        Self {
            id: w.id,
            app_id: w.app_id,
            name,
            settings: w.settings.keys().cloned().collect(),
            enabled: w.enabled.unwrap_or(true),
            values: w
                .settings
                .iter()
                .filter_map(|(k, v)| {
                    v.as_str()
                        .map(|s| (k.clone(), SecretString::from(s.to_owned())))
                })
                .collect(),
        }
    }
}

/// Where a webhook's authentication goes; its secret part is never returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAuth {
    /// `bearer_token`, `basic_auth` or `api_key`.
    pub kind: String,
    /// `header`.
    pub add_position: String,
    /// A basic_auth's user name, when Zendesk shows it (it does: `data.username`).
    pub username: Option<String>,
    /// An api_key's header name, when Zendesk shows it (`data.name`).
    pub header_name: Option<String>,
}

/// A webhook. Its endpoint can hold a token, so it is a secret. No `Debug`.
pub struct Webhook {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Endpoint URL.
    pub endpoint: SecretString,
    /// Authentication, when it has one.
    pub authentication: Option<WebhookAuth>,
    /// Whether a Zendesk app made it (`external_source` set): admins cannot reset its signing
    /// secret.
    pub made_by_app: bool,
}

impl From<WebhookWire> for Webhook {
    fn from(w: WebhookWire) -> Self {
        Self {
            name: w.name.unwrap_or_default(),
            id: w.id,
            endpoint: w.endpoint,
            made_by_app: w.external_source.is_some(),
            authentication: w.authentication.map(|a| WebhookAuth {
                kind: a.kind,
                add_position: a.add_position.unwrap_or_else(|| "header".into()),
                username: a.data.as_ref().and_then(|d| d.username.clone()),
                header_name: a.data.and_then(|d| d.name),
            }),
        }
    }
}

/// A webhook credential to set, its type kept.
pub enum WebhookCredential {
    /// `bearer_token` → `data.token`.
    Bearer(SecretString),
    /// `basic_auth` → `data.username`, `data.password`.
    Basic {
        /// User name.
        username: String,
        /// Password: the new token.
        password: SecretString,
    },
    /// `api_key` → `data.name`, `data.value`.
    ApiKey {
        /// Header name.
        name: String,
        /// Value: the new token.
        value: SecretString,
    },
}

/// An OAuth client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// Resource id (what `client_id` means in token calls).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Unique identifier.
    pub identifier: String,
}

/// An OAuth token as Zendesk lists it (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthToken {
    /// Id.
    pub id: u64,
    /// Its client's id.
    pub client_id: Option<u64>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Created.
    pub created_at: Option<String>,
    /// Last used.
    pub used_at: Option<String>,
    /// When it stops working, if it expires.
    pub expires_at: Option<String>,
    /// The user it acts as (who made it).
    pub user_id: Option<u64>,
}

impl From<OAuthTokenWire> for OAuthToken {
    fn from(w: OAuthTokenWire) -> Self {
        Self {
            id: w.id,
            client_id: w.client_id,
            scopes: w.scopes,
            created_at: w.created_at,
            used_at: w.used_at,
            expires_at: w.expires_at,
            user_id: w.user_id,
        }
    }
}

/// A new OAuth token: its value, once. No `Debug`.
pub struct NewOAuthToken {
    /// Id.
    pub id: u64,
    /// The full value.
    pub token: SecretString,
    /// Scopes as Zendesk recorded them.
    pub scopes: Vec<String>,
    /// When it stops working, as the answer says (an access token that expires).
    pub expires_at: Option<String>,
    /// Whether a refresh token came with it. Its value is never kept: it is registered as a
    /// secret of the run (so no message shows it) and dropped.
    pub refresh_token: bool,
}

/// A Zendesk API client for one instance and one credential.
#[derive(Clone)]
pub struct Zendesk {
    http: Http,
    credential: Arc<Credential>,
}

impl Zendesk {
    /// A client for the instance at `base` (e.g. `https://gitlab.zendesk.com`).
    pub fn new(
        base: &Url,
        auth: Auth,
        redactor: Redactor,
        policy: RetryPolicy,
    ) -> Result<Self, ApiError> {
        match &auth {
            Auth::OAuth(t) | Auth::ApiToken { token: t, .. } => redactor.register(t),
        }
        Ok(Self {
            http: Http::new(base.clone(), redactor, policy)?,
            credential: Arc::new(auth.credential()),
        })
    }

    /// The same instance with another credential (to verify a new token).
    pub fn with_auth(&self, auth: Auth) -> Self {
        Self {
            http: self.http.clone(),
            credential: Arc::new(auth.credential()),
        }
    }

    /// A call of `route` with its path segments from `args`, with this client's credential.
    fn at(&self, route: &Route, args: &[(&str, &str)]) -> Call<'_> {
        Call::new(route.method(), route.fill(args), Some(&self.credential))
    }

    /// `GET /api/v2/users/me`.
    pub async fn me(&self) -> Result<Me, ApiError> {
        let w: MeWire = self.http.json(self.at(&zendesk::ME, &[])).await?;
        Ok(Me {
            id: w.user.id,
            email: w.user.email,
            role: w.user.role,
        })
    }

    /// `GET /api/v2/apps/installations.json`.
    pub async fn installations(&self) -> Result<Vec<Installation>, ApiError> {
        let w: InstallationsWire = self
            .http
            .json(self.at(&zendesk::INSTALLATIONS, &[]))
            .await?;
        Ok(w.installations
            .into_iter()
            .map(Installation::from)
            .collect())
    }

    /// `GET /api/v2/apps/installations/{id}.json` (answered with the object itself or wrapped in
    /// `installation`: both are read).
    pub async fn installation(&self, id: u64) -> Result<Installation, ApiError> {
        let id = id.to_string();
        let call = self.at(&zendesk::INSTALLATION, &[("installation_id", &id)]);
        let url = call.path.clone();
        let v: serde_json::Value = self.http.json(call).await?;
        let wrapped = serde_json::from_value::<InstallationOneWire>(v.clone())
            .ok()
            .and_then(|o| o.installation);
        let w = match wrapped {
            Some(w) => w,
            None => {
                serde_json::from_value::<InstallationWire>(v).map_err(|e| ApiError::Decode {
                    method: Method::GET,
                    url,
                    message: super::http::without_values(&e.to_string()),
                })?
            }
        };
        Ok(w.into())
    }

    /// `GET /api/v2/apps/{app_id}.json` (bare or wrapped in `app`): its parameters.
    pub async fn app(&self, app_id: u64) -> Result<App, ApiError> {
        let id = app_id.to_string();
        let call = self.at(&zendesk::APP, &[("app_id", &id)]);
        let url = call.path.clone();
        let v: serde_json::Value = self.http.json(call).await?;
        let wrapped = serde_json::from_value::<AppOneWire>(v.clone())
            .ok()
            .and_then(|o| o.app);
        let w = match wrapped {
            Some(w) => w,
            None => serde_json::from_value::<AppWire>(v).map_err(|e| ApiError::Decode {
                method: Method::GET,
                url,
                message: super::http::without_values(&e.to_string()),
            })?,
        };
        Ok(App {
            name: w.name.unwrap_or_else(|| format!("app {app_id}")),
            parameters: w
                .parameters
                .into_iter()
                .map(|p| (p.name, p.secure.unwrap_or(false)))
                .collect(),
        })
    }

    /// `PUT /api/v2/apps/installations/{id}.json` with `{"settings": {SETTING: value}}` and
    /// nothing else, so that no other setting is touched.
    pub async fn update_installation_setting(
        &self,
        id: u64,
        setting: &str,
        value: &SecretString,
    ) -> Result<(), ApiError> {
        let mut settings = serde_json::Map::new();
        settings.insert(setting.to_owned(), json!(value.expose_secret()));
        let id = id.to_string();
        let call = self
            .at(&zendesk::UPDATE_INSTALLATION, &[("installation_id", &id)])
            .json(json!({ "settings": settings }));
        self.http.send(call).await.map(drop)
    }

    /// `GET /api/v2/webhooks`, every page.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>, ApiError> {
        let call = self.at(&zendesk::WEBHOOKS, &[]).query("page[size]", "100");
        let list: Vec<WebhookWire> = self.http.cursor_paged(call, "webhooks").await?;
        Ok(list.into_iter().map(Webhook::from).collect())
    }

    /// `GET /api/v2/webhooks/{id}`.
    pub async fn webhook(&self, id: &str) -> Result<Webhook, ApiError> {
        let call = self.at(&zendesk::WEBHOOK, &[("webhook_id", id)]);
        let w: WebhookOneWire = self.http.json(call).await?;
        Ok(w.webhook.into())
    }

    /// `GET /api/v2/webhooks/{id}/signing_secret`: the secret receivers verify the webhook's
    /// signatures with. Registered for redaction the moment it is read.
    pub async fn signing_secret(&self, id: &str) -> Result<SecretString, ApiError> {
        let call = self.at(&zendesk::SIGNING_SECRET, &[("webhook_id", id)]);
        let w: SigningSecretWire = self.http.json(call).await?;
        let secret = w
            .signing_secret
            .and_then(|s| s.secret)
            .ok_or_else(|| ApiError::Decode {
                method: zendesk::SIGNING_SECRET.method(),
                url: zendesk::SIGNING_SECRET.fill(&[("webhook_id", id)]),
                message: "the answer holds no signing secret".into(),
            })?;
        self.http.redactor().register(&secret);
        Ok(secret)
    }

    /// `POST /api/v2/webhooks/{id}/signing_secret`: a new signing secret; the old one stops at
    /// once. Sent once, never again (a POST is never retried). The answer's body is not
    /// documented the same way everywhere: the new secret when it holds one, else `None` (read
    /// it with `signing_secret`).
    pub async fn reset_signing_secret(&self, id: &str) -> Result<Option<SecretString>, ApiError> {
        let call = self.at(&zendesk::RESET_SIGNING_SECRET, &[("webhook_id", id)]);
        let answer = self.http.send(call).await?;
        let secret = serde_json::from_slice::<SigningSecretWire>(&answer.body)
            .ok()
            .and_then(|w| w.signing_secret)
            .and_then(|s| s.secret);
        if let Some(secret) = &secret {
            self.http.redactor().register(secret);
        }
        Ok(secret)
    }

    /// `PATCH /api/v2/webhooks/{id}` with only `endpoint`.
    pub async fn patch_webhook_endpoint(
        &self,
        id: &str,
        endpoint: &SecretString,
    ) -> Result<(), ApiError> {
        let call = self
            .at(&zendesk::PATCH_WEBHOOK, &[("webhook_id", id)])
            .json(json!({ "webhook": { "endpoint": endpoint.expose_secret() } }));
        self.http.send(call).await.map(drop)
    }

    /// `PATCH /api/v2/webhooks/{id}` with only `authentication`, its type and position kept.
    pub async fn patch_webhook_authentication(
        &self,
        id: &str,
        credential: &WebhookCredential,
        add_position: &str,
    ) -> Result<(), ApiError> {
        let (kind, data) = match credential {
            WebhookCredential::Bearer(t) => ("bearer_token", json!({ "token": t.expose_secret() })),
            WebhookCredential::Basic { username, password } => (
                "basic_auth",
                json!({ "username": username, "password": password.expose_secret() }),
            ),
            WebhookCredential::ApiKey { name, value } => (
                "api_key",
                json!({ "name": name, "value": value.expose_secret() }),
            ),
        };
        let call = self
            .at(&zendesk::PATCH_WEBHOOK, &[("webhook_id", id)])
            .json(json!({ "webhook": { "authentication": {
                "type": kind, "data": data, "add_position": add_position } } }));
        self.http.send(call).await.map(drop)
    }

    /// `GET /api/v2/oauth/clients`, every page.
    pub async fn oauth_clients(&self) -> Result<Vec<OAuthClient>, ApiError> {
        let call = self
            .at(&zendesk::OAUTH_CLIENTS, &[])
            .query("page[size]", "100");
        let list: Vec<OAuthClientWire> = self.http.cursor_paged(call, "clients").await?;
        Ok(list
            .into_iter()
            .map(|w| OAuthClient {
                id: w.id,
                name: w.name.unwrap_or_default(),
                identifier: w.identifier.unwrap_or_default(),
            })
            .collect())
    }

    /// `GET /api/v2/oauth/tokens?client_id=&all=true`, every page: the client's tokens of every
    /// user. Without `all=true` Zendesk lists the caller's own only, so a token a colleague
    /// made would be neither found nor revoked; a caller who may not ask for all (not an admin,
    /// 403) gets its own.
    pub async fn oauth_tokens(&self, client_id: u64) -> Result<Vec<OAuthToken>, ApiError> {
        let call = |all: bool| {
            let call = self
                .at(&zendesk::OAUTH_TOKENS, &[])
                .query(zendesk::CLIENT_ID.wire, client_id.to_string());
            let call = if all { call.query("all", "true") } else { call };
            call.query("page[size]", "100")
        };
        let list: Vec<OAuthTokenWire> = match self.http.cursor_paged(call(true), "tokens").await {
            Err(e) if e.status().is_some_and(|s| s.as_u16() == 403) => {
                self.http.cursor_paged(call(false), "tokens").await?
            }
            other => other?,
        };
        Ok(list.into_iter().map(OAuthToken::from).collect())
    }

    /// `GET /api/v2/oauth/tokens?all=true`, every page: every OAuth token of the account (an
    /// admin's view; others get their own).
    pub async fn all_oauth_tokens(&self) -> Result<Vec<OAuthToken>, ApiError> {
        let call = self
            .at(&zendesk::OAUTH_TOKENS, &[])
            .query("all", "true")
            .query("page[size]", "100");
        let list: Vec<OAuthTokenWire> = self.http.cursor_paged(call, "tokens").await?;
        Ok(list.into_iter().map(OAuthToken::from).collect())
    }

    /// `POST /api/v2/oauth/tokens`: a new token for a client. Never retried. The full value is
    /// taken from `full_token` when present, else `token`.
    pub async fn create_oauth_token(
        &self,
        client_id: u64,
        scopes: &[String],
    ) -> Result<NewOAuthToken, ApiError> {
        let call = self
            .at(&zendesk::CREATE_OAUTH_TOKEN, &[])
            .json(json!({ "token": { "client_id": client_id, "scopes": scopes } }));
        let w: NewOAuthTokenWire = self.http.json(call).await?;
        let token = w
            .token
            .full_token
            .or(w.token.token)
            .ok_or_else(|| ApiError::Decode {
                method: Method::POST,
                url: zendesk::CREATE_OAUTH_TOKEN.path.into(),
                message: "the answer holds no token value".into(),
            })?;
        if let Some(refresh) = &w.token.refresh_token {
            self.http.redactor().register(refresh);
        }
        Ok(NewOAuthToken {
            id: w.token.id,
            token,
            scopes: w.token.scopes,
            expires_at: w.token.expires_at.filter(|e| !e.trim().is_empty()),
            refresh_token: w.token.refresh_token.is_some(),
        })
    }

    /// `GET /api/v2/oauth/tokens/current.json`: the token making the call.
    pub async fn current_oauth_token(&self) -> Result<OAuthToken, ApiError> {
        let w: OAuthTokenOneWire = self
            .http
            .json(self.at(&zendesk::CURRENT_OAUTH_TOKEN, &[]))
            .await?;
        Ok(w.token.into())
    }

    /// `DELETE /api/v2/oauth/tokens/{id}`.
    pub async fn revoke_oauth_token(&self, id: u64) -> Result<(), ApiError> {
        let id = id.to_string();
        self.http
            .send(self.at(&zendesk::REVOKE_OAUTH_TOKEN, &[("old_token_id", &id)]))
            .await
            .map(drop)
    }
}

/// The endpoint with the value of its `token` query parameter replaced and every other byte
/// kept; `None` when the endpoint has no `token` parameter.
pub fn replace_endpoint_token(
    endpoint: &SecretString,
    token: &SecretString,
) -> Option<SecretString> {
    let e = endpoint.expose_secret();
    let (base, rest) = e.split_once('?')?;
    let (query, fragment) = match rest.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (rest, None),
    };
    let mut found = false;
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("token", _)) => {
                found = true;
                let mut pair = String::from("token=");
                pair.push_str(&encode_segment(token.expose_secret()));
                pair
            }
            _ => pair.to_owned(),
        })
        .collect();
    if !found {
        return None;
    }
    let mut out = format!("{base}?{}", pairs.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    Some(SecretString::from(out))
}

/// The `token` value of an endpoint, so that it can be registered as a secret.
pub fn endpoint_token(endpoint: &SecretString) -> Option<SecretString> {
    let e = endpoint.expose_secret();
    let query = e.split_once('?')?.1.split('#').next()?;
    query
        .split('&')
        .find_map(|pair| match pair.split_once('=') {
            Some(("token", v)) if !v.is_empty() => Some(SecretString::from(v.to_owned())),
            _ => None,
        })
}

/// The host an endpoint sends its requests (and the token it carries) to, lower-cased; `None`
/// when it is not a URL.
pub fn endpoint_host(endpoint: &SecretString) -> Option<String> {
    Url::parse(endpoint.expose_secret())
        .ok()?
        .host_str()
        .map(str::to_ascii_lowercase)
}

/// Whether an endpoint is a GitLab pipeline trigger URL (`…/trigger/pipeline?token=…`): the
/// token it carries is a GitLab trigger token, whatever its form.
pub fn is_trigger_url(endpoint: &SecretString) -> bool {
    Url::parse(endpoint.expose_secret()).is_ok_and(|u| u.path().ends_with("/trigger/pipeline"))
}

/// The endpoint as it may be shown: the `token` value masked.
pub fn masked_endpoint(endpoint: &SecretString) -> String {
    replace_endpoint_token(endpoint, &SecretString::from("HIDDEN".to_owned())).map_or_else(
        || endpoint.expose_secret().to_owned(),
        |s| s.expose_secret().replace("token=HIDDEN", "token=[hidden]"),
    )
}

/// Scopes as a set: order and repetition do not matter.
pub fn same_scopes(a: &[String], b: &[String]) -> bool {
    let norm = |v: &[String]| {
        v.iter()
            .map(|s| s.trim().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    norm(a) == norm(b)
}

/// Decodes a body as every Zendesk answer tokrot reads, converted as the client converts it,
/// and reads it as a webhook endpoint; how many shapes it fits. For the fuzz targets and
/// property tests: whatever the bytes, this must return, never panic.
pub fn decode_any(body: &[u8]) -> usize {
    fn fits<W: serde::de::DeserializeOwned, T>(body: &[u8], convert: impl Fn(W) -> T) -> usize {
        serde_json::from_slice::<W>(body)
            .map(convert)
            .is_ok()
            .into()
    }
    let text = SecretString::from(String::from_utf8_lossy(body).into_owned());
    let endpoint = endpoint_token(&text).is_some();
    let _ = masked_endpoint(&text);
    let _ = replace_endpoint_token(&text, &SecretString::from("x"));
    let _ = Auth::from_keyring_entry(&text);
    usize::from(endpoint)
        + fits::<MeWire, _>(body, |w| w.user.id)
        + fits::<InstallationWire, _>(body, Installation::from)
        + fits::<InstallationsWire, _>(body, |w| w.installations.len())
        + fits::<InstallationOneWire, _>(body, |w| w.installation.map(Installation::from))
        + fits::<WebhookWire, _>(body, Webhook::from)
        + fits::<WebhookOneWire, _>(body, |w| Webhook::from(w.webhook))
        + fits::<OAuthClientWire, _>(body, |w| w.id)
        + fits::<OAuthTokenWire, _>(body, OAuthToken::from)
        + fits::<OAuthTokenOneWire, _>(body, |w| OAuthToken::from(w.token))
        + fits::<NewOAuthTokenWire, _>(body, |w| w.token.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_owned())
    }

    #[test]
    fn the_token_in_an_endpoint_is_replaced_and_nothing_else() {
        let e = s(
            "https://gitlab.com/api/v4/projects/123/trigger/pipeline?token=OLD-CANARY&ref=main&variables%5BX%5D=1",
        );
        let new = replace_endpoint_token(&e, &s("glptt-new/+")).unwrap();
        assert_eq!(
            new.expose_secret(),
            "https://gitlab.com/api/v4/projects/123/trigger/pipeline?token=glptt-new%2F%2B&ref=main&variables%5BX%5D=1"
        );
        assert_eq!(endpoint_token(&e).unwrap().expose_secret(), "OLD-CANARY");
        assert_eq!(
            masked_endpoint(&e),
            "https://gitlab.com/api/v4/projects/123/trigger/pipeline?token=[hidden]&ref=main&variables%5BX%5D=1"
        );
        assert!(replace_endpoint_token(&s("https://x.example/hook?ref=main"), &s("t")).is_none());
        assert!(replace_endpoint_token(&s("https://x.example/hook"), &s("t")).is_none());
        assert!(replace_endpoint_token(&s("https://x.example/hook?mytoken=a"), &s("t")).is_none());
    }

    #[test]
    fn scopes_compare_as_sets() {
        let v = |x: &[&str]| x.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(same_scopes(
            &v(&["tickets:read", "users:write"]),
            &v(&["users:write", "tickets:read"])
        ));
        assert!(!same_scopes(&v(&["read"]), &v(&["read", "write"])));
    }
}
