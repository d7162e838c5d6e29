//! Zendesk's JSON, as it comes: only the fields tokrot uses (reference/vendor-apis.md §Z2–Z5).

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::Deserialize;

/// `GET /api/v2/users/me`: `id` is null for the anonymous user Zendesk answers with when the
/// credentials are wrong in some ways.
#[derive(Debug, Deserialize)]
pub struct MeWire {
    pub user: UserWire,
}

#[derive(Debug, Deserialize)]
pub struct UserWire {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
}

/// An app installation. Secure settings are not returned.
#[derive(Deserialize)]
pub struct InstallationWire {
    pub id: u64,
    #[serde(default)]
    pub app_id: Option<u64>,
    #[serde(default)]
    pub settings: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// An app of the Apps API (answered bare or wrapped in `app`): its parameters say which
/// settings exist and which are secure (written, never shown).
#[derive(Deserialize)]
pub struct AppWire {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub parameters: Vec<AppParameterWire>,
}

#[derive(Deserialize)]
pub struct AppOneWire {
    pub app: Option<AppWire>,
}

#[derive(Deserialize)]
pub struct AppParameterWire {
    pub name: String,
    #[serde(default)]
    pub secure: Option<bool>,
}

#[derive(Deserialize)]
pub struct InstallationsWire {
    pub installations: Vec<InstallationWire>,
}

#[derive(Deserialize)]
pub struct InstallationOneWire {
    pub installation: Option<InstallationWire>,
}

/// A webhook. `endpoint` may carry a token (a GitLab pipeline trigger): a secret.
#[derive(Deserialize)]
pub struct WebhookWire {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub endpoint: SecretString,
    #[serde(default)]
    pub authentication: Option<AuthenticationWire>,
    /// Set on a webhook a Zendesk app made (its signing secret cannot be reset by admins); a
    /// JSON `null` reads as `None`.
    #[serde(default)]
    pub external_source: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct AuthenticationWire {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub add_position: Option<String>,
    /// What Zendesk shows of the credential: never its secret, but a basic_auth's user name
    /// (and, where it shows it, an api_key's header name). Other fields are not read.
    #[serde(default)]
    pub data: Option<AuthenticationDataWire>,
}

#[derive(Debug, Deserialize)]
pub struct AuthenticationDataWire {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize)]
pub struct WebhookOneWire {
    pub webhook: WebhookWire,
}

/// `{"signing_secret": {"algorithm": "sha256", "secret": "…"}}`; every part may be missing from
/// a reset's answer, whose body is not documented the same way everywhere.
#[derive(Deserialize)]
pub struct SigningSecretWire {
    #[serde(default)]
    pub signing_secret: Option<SigningSecretInner>,
}

#[derive(Deserialize)]
pub struct SigningSecretInner {
    #[serde(default)]
    pub secret: Option<SecretString>,
}

/// An OAuth client.
#[derive(Debug, Deserialize)]
pub struct OAuthClientWire {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub identifier: Option<String>,
}

/// An OAuth token as lists and `current` show it: `token` is cut to 10 characters.
#[derive(Debug, Deserialize)]
pub struct OAuthTokenWire {
    pub id: u64,
    #[serde(default)]
    pub client_id: Option<u64>,
    /// The user the token acts as: the one who made it.
    #[serde(default)]
    pub user_id: Option<u64>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub used_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct OAuthTokenOneWire {
    pub token: OAuthTokenWire,
}

/// The answer to creating a token: the full value is in `full_token` on some answers and in
/// `token` on others (the documentation does not settle it).
#[derive(Deserialize)]
pub struct NewOAuthTokenWire {
    pub token: NewOAuthTokenInnerWire,
}

#[derive(Deserialize)]
pub struct NewOAuthTokenInnerWire {
    pub id: u64,
    #[serde(default)]
    pub token: Option<SecretString>,
    #[serde(default)]
    pub full_token: Option<SecretString>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When the access token stops working (Zendesk is moving clients to expiring tokens).
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Issued with new tokens; never kept.
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
}
