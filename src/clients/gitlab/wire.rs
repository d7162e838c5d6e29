//! GitLab's JSON, as it comes: only the fields tokrot uses (GLDOC references in
//! reference/vendor-apis.md §G1–G6). Turned into the domain types of `gitlab` at once.

use secrecy::SecretString;
use serde::Deserialize;

/// `GET /user`.
#[derive(Debug, Deserialize)]
pub struct UserWire {
    pub id: u64,
    pub username: String,
}

/// A personal, project or group access token (list, get).
#[derive(Debug, Deserialize)]
pub struct AccessTokenWire {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub revoked: Option<bool>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub last_used_at: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The user the token acts as (a project's bot user for a project access token).
    #[serde(default)]
    pub user_id: Option<u64>,
}

/// The answer to rotate or create: the token's value, once.
#[derive(Deserialize)]
pub struct NewTokenWire {
    pub id: u64,
    pub token: SecretString,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A pipeline trigger (list, get): `token` is the whole value only for its creator.
#[derive(Deserialize)]
pub struct TriggerWire {
    pub id: u64,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub last_used: Option<String>,
    #[serde(default)]
    pub token: Option<SecretString>,
    /// When it stops working (newer GitLab versions; none before).
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The user who owns it (a project's bot user, for a trigger made as the bot).
    #[serde(default)]
    pub owner: Option<TriggerOwnerWire>,
}

/// A trigger's owner: only the id is read.
#[derive(Deserialize)]
pub struct TriggerOwnerWire {
    pub id: u64,
}

/// The answer to creating a trigger.
#[derive(Deserialize)]
pub struct NewTriggerWire {
    pub id: u64,
    pub token: SecretString,
}

/// A CI/CD variable. `value` is null for a hidden variable.
#[derive(Deserialize)]
pub struct VariableWire {
    pub key: String,
    #[serde(default)]
    pub value: Option<SecretString>,
    #[serde(default)]
    pub variable_type: Option<String>,
    #[serde(default)]
    pub protected: bool,
    #[serde(default)]
    pub masked: bool,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub raw: bool,
    #[serde(default)]
    pub environment_scope: Option<String>,
}

/// A project webhook: its token is never returned.
#[derive(Debug, Deserialize)]
pub struct HookWire {
    pub id: u64,
    pub url: String,
}

/// A project or group, for checking that a token can read it.
#[derive(Debug, Deserialize)]
pub struct NamespaceWire {
    pub id: u64,
}
