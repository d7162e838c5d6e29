//! The tool's own credentials, checked against the vendor before they are kept in the OS
//! keyring, looked at by `auth status`, and removed by `auth logout`. A credential is kept under
//! the account of the origin it was checked on (`engine::credentials`).

use secrecy::SecretString;
use url::Url;

use super::credentials::{self, Source};
use crate::clients::gitlab::GitLab;
use crate::clients::http::RetryPolicy;
use crate::clients::zendesk::{Auth, Zendesk};
use crate::secret::Redactor;
use crate::secret::stash::{self, StashError};

/// Why a credential was not kept.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The vendor did not accept it.
    #[error("the credential does not work, so it was not kept: {0}")]
    DoesNotWork(String),
    /// The keyring refused it.
    #[error(transparent)]
    Keyring(#[from] StashError),
}

/// How the HTTP clients of these checks are made.
#[derive(Clone, Copy)]
pub struct Http<'a> {
    /// Every message goes through it.
    pub redactor: &'a Redactor,
    /// Timeouts and retries.
    pub policy: RetryPolicy,
}

/// Who a GitLab token authenticates as; an error says why it does not work.
pub async fn gitlab_user(url: &Url, token: SecretString, http: Http<'_>) -> Result<String, String> {
    let client =
        GitLab::new(url, token, http.redactor.clone(), http.policy).map_err(|e| e.to_string())?;
    client
        .current_user()
        .await
        .map(|u| u.username)
        .map_err(|e| e.to_string())
}

/// Who a Zendesk credential authenticates as (an anonymous answer does not count).
pub async fn zendesk_user(url: &Url, auth: Auth, http: Http<'_>) -> Result<String, String> {
    let client =
        Zendesk::new(url, auth, http.redactor.clone(), http.policy).map_err(|e| e.to_string())?;
    match client.me().await {
        Ok(me) if me.authenticated() => Ok(me.email.unwrap_or_default()),
        Ok(_) => Err("Zendesk answered as an anonymous user".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Checks a GitLab token and keeps it: the user and the keyring account.
pub async fn login_gitlab(
    url: &Url,
    token: SecretString,
    http: Http<'_>,
) -> Result<(String, String), LoginError> {
    let user = gitlab_user(url, token.clone(), http)
        .await
        .map_err(LoginError::DoesNotWork)?;
    let account = credentials::gitlab_account(url);
    stash::set(&account, &token)?;
    Ok((user, account))
}

/// Checks a Zendesk credential of an instance and keeps it: the user and the keyring account.
pub async fn login_zendesk(
    instance: &str,
    url: &Url,
    auth: Auth,
    http: Http<'_>,
) -> Result<(String, String), LoginError> {
    let user = zendesk_user(url, auth.clone(), http)
        .await
        .map_err(LoginError::DoesNotWork)?;
    credentials::store_zendesk(instance, &auth)?;
    Ok((user, credentials::zendesk_account(instance)))
}

/// What `logout` did, or (dry run) would do.
pub enum Logout {
    /// The entry was there (and, unless a dry run, is gone).
    Removed,
    /// There was none.
    Absent,
}

/// Removes a keyring account; with `dry_run`, only looks.
pub fn logout(account: &str, dry_run: bool) -> Result<Logout, StashError> {
    let there = if dry_run {
        stash::lookup(account)?.is_some()
    } else {
        stash::delete(account)?
    };
    Ok(if there {
        Logout::Removed
    } else {
        Logout::Absent
    })
}

/// One credential as `auth status` shows it.
pub struct Status {
    /// `gitlab` or `zendesk ID`.
    pub what: String,
    /// The origin it is for.
    pub url: String,
    /// Where it comes from, if anywhere.
    pub source: Option<Source>,
    /// The user it authenticates as, or why it does not work.
    pub works: Result<String, String>,
}

/// The GitLab credential's status.
pub async fn gitlab_status(url: &Url, http: Http<'_>) -> Status {
    let (source, works) = match credentials::gitlab_token(url) {
        Err(e) => (None, Err(e.to_string())),
        Ok(None) => (None, Err("no credential".into())),
        Ok(Some((token, source))) => (Some(source), gitlab_user(url, token, http).await),
    };
    Status {
        what: "gitlab".into(),
        url: crate::config::display_url(url),
        source,
        works,
    }
}

/// A Zendesk instance's credential status.
pub async fn zendesk_status(instance: &str, url: &Url, http: Http<'_>) -> Status {
    let (source, works) = match credentials::zendesk_auth(instance) {
        Err(e) => (None, Err(e.to_string())),
        Ok(None) => (None, Err("no credential".into())),
        Ok(Some((auth, source))) => (Some(source), zendesk_user(url, auth, http).await),
    };
    Status {
        what: format!("zendesk {instance}"),
        url: crate::config::display_url(url),
        source,
        works,
    }
}
