//! The tool's own credentials: from the environment, else from the OS keyring, where
//! `tokrot auth login` puts them (`gitlab:<host>`, `zendesk:<instance>`). The environment wins.

use secrecy::SecretString;
use url::Url;

use crate::clients::zendesk::Auth;
use crate::secret::stash::{self, StashError};

/// Where a credential came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An environment variable.
    Env(&'static str),
    /// The OS keyring, under this account.
    Keyring(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Env(v) => write!(f, "environment ({v})"),
            Source::Keyring(a) => write!(f, "OS keyring (tokrot/{a})"),
        }
    }
}

/// The keyring account of a GitLab: `gitlab:<host>[:<port>]`.
pub fn gitlab_account(url: &Url) -> String {
    let host = url.host_str().unwrap_or("gitlab");
    match url.port() {
        Some(p) => format!("gitlab:{host}:{p}"),
        None => format!("gitlab:{host}"),
    }
}

/// The keyring account of a Zendesk instance: `zendesk:<instance>`.
pub fn zendesk_account(instance: &str) -> String {
    format!("zendesk:{instance}")
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The GitLab token: `GITLAB_TOKEN`, else the keyring.
pub fn gitlab_token(url: &Url) -> Result<Option<(SecretString, Source)>, StashError> {
    if let Some(t) = env("GITLAB_TOKEN") {
        return Ok(Some((SecretString::from(t), Source::Env("GITLAB_TOKEN"))));
    }
    let account = gitlab_account(url);
    Ok(stash::lookup(&account)?.map(|t| (t, Source::Keyring(account))))
}

/// The Zendesk credential: `ZENDESK_OAUTH_TOKEN`, or `ZENDESK_EMAIL` + `ZENDESK_API_TOKEN`,
/// else the instance's keyring entry.
pub fn zendesk_auth(instance: &str) -> Result<Option<(Auth, Source)>, StashError> {
    if let Some(t) = env("ZENDESK_OAUTH_TOKEN") {
        return Ok(Some((
            Auth::OAuth(SecretString::from(t)),
            Source::Env("ZENDESK_OAUTH_TOKEN"),
        )));
    }
    if let (Some(email), Some(token)) = (env("ZENDESK_EMAIL"), env("ZENDESK_API_TOKEN")) {
        return Ok(Some((
            Auth::ApiToken {
                email,
                token: SecretString::from(token),
            },
            Source::Env("ZENDESK_EMAIL + ZENDESK_API_TOKEN"),
        )));
    }
    let account = zendesk_account(instance);
    let Some(secret) = stash::lookup(&account)? else {
        return Ok(None);
    };
    let auth = Auth::from_keyring_entry(&secret).ok_or_else(|| {
        StashError::from_message(format!(
            "tokrot/{account} is not a tokrot credential; log in again"
        ))
    })?;
    Ok(Some((auth, Source::Keyring(account))))
}

/// Stores a Zendesk credential in the keyring.
pub fn store_zendesk(instance: &str, auth: &Auth) -> Result<(), StashError> {
    stash::set(&zendesk_account(instance), &auth.to_keyring_entry())
}
