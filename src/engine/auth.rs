//! The tool's own credentials, checked against the vendor before they are kept in the OS
//! keyring, looked at by `auth status`, and removed by `auth logout`. A credential is kept under
//! the account of the origin it was checked on (`engine::credentials`).

use secrecy::SecretString;
use url::Url;

use super::credentials::{self, Reach, Source};
use crate::clients::gitlab::GitLab;
use crate::clients::http::RetryPolicy;
use crate::clients::zendesk::{Auth, Zendesk};
use crate::config::Instance;
use crate::secret::Redactor;
use crate::secret::stash::{self, StashError};

/// Why a credential was not kept.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The vendor did not accept it.
    #[error("the credential does not work, so it was not kept: {0}")]
    DoesNotWork(String),
    /// The vendor refused the credential itself (401): a wrong or inactive secret, or one sent
    /// as the wrong kind (an API token without its email goes as an OAuth token).
    #[error("the credential does not work, so it was not kept: {0}")]
    Unauthorized(String),
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

/// Who a credential authenticates as, and what the vendor tells of it.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The user (GitLab user name, Zendesk e-mail).
    pub user: String,
    /// The token's scopes, where the vendor tells them.
    pub scopes: Option<Vec<String>>,
    /// When it stops working, where known.
    pub expires: Option<String>,
}

/// Who a GitLab token authenticates as; an error says why it does not work. Scopes and expiry
/// come from `GET /personal_access_tokens/self`, which answers for personal, project and group
/// access tokens (an OAuth token has no such record: then they are left out).
pub async fn gitlab_user(url: &Url, token: SecretString, http: Http<'_>) -> Result<Caller, String> {
    let client =
        GitLab::new(url, token, http.redactor.clone(), http.policy).map_err(|e| e.to_string())?;
    let user = client.current_user().await.map_err(|e| e.to_string())?;
    let own = client.personal_token("self").await.ok();
    Ok(Caller {
        user: user.username,
        scopes: own.as_ref().map(|t| t.scopes.clone()),
        expires: own.map(|t| {
            t.expires_on
                .map_or_else(|| "never".into(), |d| d.to_string())
        }),
    })
}

/// The day Zendesk turns every API token off (`../shared/reference/vendor-apis.md`, Z0).
pub const ZENDESK_API_TOKENS_END: &str = "2027-04-30";

/// Who a Zendesk credential authenticates as (an anonymous answer does not count). An OAuth
/// token's scopes and expiry come from `GET /api/v2/oauth/tokens/current.json`; an API token
/// has no scopes, and stops on the day Zendesk turns them all off.
pub async fn zendesk_user(url: &Url, auth: Auth, http: Http<'_>) -> Result<Caller, String> {
    zendesk_identity(url, auth, http)
        .await
        .map_err(|e| match e {
            LoginError::DoesNotWork(why) | LoginError::Unauthorized(why) => why,
            other => other.to_string(),
        })
}

/// `zendesk_user`, saying apart a 401 (the credential itself was refused).
async fn zendesk_identity(url: &Url, auth: Auth, http: Http<'_>) -> Result<Caller, LoginError> {
    let oauth = matches!(auth, Auth::OAuth(_));
    let client = Zendesk::new(url, auth, http.redactor.clone(), http.policy)
        .map_err(|e| LoginError::DoesNotWork(e.to_string()))?;
    let me = match client.me().await {
        Ok(me) if me.authenticated() => me,
        Ok(_) => {
            return Err(LoginError::DoesNotWork(
                "Zendesk answered as an anonymous user".into(),
            ));
        }
        Err(e) if e.status().is_some_and(|s| s.as_u16() == 401) => {
            return Err(LoginError::Unauthorized(e.to_string()));
        }
        Err(e) => return Err(LoginError::DoesNotWork(e.to_string())),
    };
    let mut identity = Caller {
        user: me.email.unwrap_or_default(),
        ..Caller::default()
    };
    if oauth {
        if let Ok(token) = client.current_oauth_token().await {
            identity.scopes = Some(token.scopes);
            identity.expires = Some(token.expires_at.unwrap_or_else(|| "never".into()));
        }
    } else {
        identity.expires = Some(format!(
            "{ZENDESK_API_TOKENS_END} (Zendesk turns every API token off)"
        ));
    }
    Ok(identity)
}

/// Checks a GitLab token and keeps it: the user and the keyring account.
pub async fn login_gitlab(
    url: &Url,
    token: SecretString,
    http: Http<'_>,
) -> Result<(Caller, String), LoginError> {
    let user = gitlab_user(url, token.clone(), http)
        .await
        .map_err(LoginError::DoesNotWork)?;
    let account = credentials::gitlab_account(url);
    stash::set(&account, &token)?;
    Ok((user, account))
}

/// Checks a Zendesk credential on the origin an instance points at and keeps it under that
/// origin: the user and the keyring account. With `email`, the secret is an API token of that
/// agent; without, an OAuth access token.
pub async fn login_zendesk(
    url: &Url,
    secret: SecretString,
    email: Option<String>,
    http: Http<'_>,
) -> Result<(Caller, String), LoginError> {
    let auth = match email {
        Some(email) => Auth::ApiToken {
            email,
            token: secret,
        },
        None => Auth::OAuth(secret),
    };
    let user = zendesk_identity(url, auth.clone(), http).await?;
    credentials::store_zendesk(url, &auth)?;
    Ok((user, credentials::zendesk_account(url)))
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
    /// `gitlab` or `zendesk`.
    pub service: &'static str,
    /// The Zendesk instance's id.
    pub instance: Option<String>,
    /// The origin it is for.
    pub url: String,
    /// Where it comes from, if anywhere.
    pub source: Option<Source>,
    /// Who it authenticates as, or why it does not work.
    pub works: Result<Caller, String>,
}

impl Status {
    /// Whether a credential was found and tried, and did not work.
    pub fn failed(&self) -> bool {
        self.source.is_some() && self.works.is_err()
    }
}

/// The GitLab credential's status.
pub async fn gitlab_status(config: &crate::config::Config, http: Http<'_>) -> Status {
    let url = &config.gitlab_url;
    let (source, works) = match credentials::gitlab_token(config) {
        Err(e) => (None, Err(e.to_string())),
        Ok(None) => (None, Err("no credential".into())),
        Ok(Some((token, source))) => (Some(source), gitlab_user(url, token, http).await),
    };
    Status {
        service: "gitlab",
        instance: None,
        url: crate::config::display_url(url),
        source,
        works,
    }
}

/// A Zendesk instance's credential status; its credential is tried only where it belongs.
pub async fn zendesk_status(instance: &Instance, reach: Reach, http: Http<'_>) -> Status {
    let (source, works) = match credentials::zendesk_auth(instance, reach) {
        Err(e) => (None, Err(e.to_string())),
        Ok(None) => (None, Err("no credential".into())),
        Ok(Some((auth, source))) => (Some(source), zendesk_user(&instance.url, auth, http).await),
    };
    Status {
        service: "zendesk",
        instance: Some(instance.id.clone()),
        url: crate::config::display_url(&instance.url),
        source,
        works,
    }
}
