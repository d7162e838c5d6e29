//! The tool's own credentials: from the environment, else from the OS keyring, where
//! `tokrot auth login` puts them. A credential belongs to one origin (scheme, host, port) and is
//! looked up by the origin it is about to be sent to, so that re-pointing an instance in the
//! config does not carry its old credential along:
//!
//! - keyring accounts are `gitlab:<origin>` and `zendesk:<origin>`;
//! - `GITLAB_TOKEN` belongs to the GitLab of `GITLAB_URL` when that is set, else to the one the
//!   command line names (`--gitlab-url`) or gitlab.com; never to one a config file points at;
//! - Zendesk environment credentials belong to the instance `ZENDESK_INSTANCE` names (an id or a
//!   URL), else only to an instance the command names itself, never to every instance.
//!
//! The environment wins over the keyring.

use secrecy::SecretString;
use url::Url;

use crate::clients::zendesk::Auth;
use crate::config::{Config, Instance, parse_base_url};
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

/// A URL's origin, as the keyring account names it: `https://gitlab.com`, `http://127.0.0.1:8080`.
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The keyring account of a GitLab: `gitlab:<origin>`.
pub fn gitlab_account(url: &Url) -> String {
    format!("gitlab:{}", origin(url))
}

/// The keyring account of a Zendesk instance: `zendesk:<origin>`, by where it points now.
pub fn zendesk_account(url: &Url) -> String {
    format!("zendesk:{}", origin(url))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether `GITLAB_TOKEN` may go to the GitLab of `config`: to the origin `GITLAB_URL` names
/// when that is set (a `--gitlab-url` elsewhere does not take it along); else to the GitLab the
/// command line or the default names, never to one a config file points at.
fn gitlab_env_belongs_to(config: &Config) -> bool {
    match env("GITLAB_URL") {
        Some(raw) => {
            parse_base_url(&raw).is_ok_and(|own| own.origin() == config.gitlab_url.origin())
        }
        None => config.gitlab_repointed_by.is_none(),
    }
}

/// The GitLab token for the GitLab of `config`: `GITLAB_TOKEN` where it belongs, else the
/// keyring entry of its origin.
pub fn gitlab_token(config: &Config) -> Result<Option<(SecretString, Source)>, StashError> {
    if let Some(t) = env("GITLAB_TOKEN").filter(|_| gitlab_env_belongs_to(config)) {
        return Ok(Some((SecretString::from(t), Source::Env("GITLAB_TOKEN"))));
    }
    let account = gitlab_account(&config.gitlab_url);
    Ok(stash::lookup(&account)?.map(|t| (t, Source::Keyring(account))))
}

/// How the command came to an instance: the one instance it names (`--instance`, a target
/// spec, a pick), or one of several (a plan on two instances, `auth status` going through every
/// instance), to none of which environment credentials belong without `ZENDESK_INSTANCE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The command names this instance and no other.
    Named,
    /// The command names several instances, or goes through instances it was not told about.
    Listed,
}

/// Whether the Zendesk environment credentials may go to `instance`: to the one
/// `ZENDESK_INSTANCE` names (its id, unless a config file re-points it; or a URL of its origin),
/// else to the one instance the command names.
fn zendesk_env_belongs_to(instance: &Instance, reach: Reach) -> bool {
    match env("ZENDESK_INSTANCE") {
        Some(named) if named == instance.id => instance.repointed_by.is_none(),
        Some(named) => {
            parse_base_url(&named).is_ok_and(|url| url.origin() == instance.url.origin())
        }
        None => reach == Reach::Named,
    }
}

/// The Zendesk credential from the environment, wherever it belongs.
fn zendesk_env() -> Option<(Auth, Source)> {
    if let Some(t) = env("ZENDESK_OAUTH_TOKEN") {
        return Some((
            Auth::OAuth(SecretString::from(t)),
            Source::Env("ZENDESK_OAUTH_TOKEN"),
        ));
    }
    let (email, token) = (env("ZENDESK_EMAIL")?, env("ZENDESK_API_TOKEN")?);
    Some((
        Auth::ApiToken {
            email,
            token: SecretString::from(token),
        },
        Source::Env("ZENDESK_EMAIL + ZENDESK_API_TOKEN"),
    ))
}

/// The Zendesk credential for an instance: the environment's where it belongs, else the
/// keyring entry of the origin the instance points at.
pub fn zendesk_auth(
    instance: &Instance,
    reach: Reach,
) -> Result<Option<(Auth, Source)>, StashError> {
    if zendesk_env_belongs_to(instance, reach)
        && let Some(found) = zendesk_env()
    {
        return Ok(Some(found));
    }
    let account = zendesk_account(&instance.url);
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

/// Stores a Zendesk credential in the keyring, under the origin it was checked on.
pub fn store_zendesk(url: &Url, auth: &Auth) -> Result<(), StashError> {
    stash::set(&zendesk_account(url), &auth.to_keyring_entry())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_named_by_origin() {
        let url = Url::parse("https://gitlab.example.com/sub").unwrap();
        assert_eq!(gitlab_account(&url), "gitlab:https://gitlab.example.com");
        let local = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(zendesk_account(&local), "zendesk:http://127.0.0.1:8080");
    }
}
