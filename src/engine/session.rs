//! What a run is given to talk to the vendors: the tool's own credentials for the steps of a
//! plan, as clients. A plan that calls an API whose credential is missing is refused before it
//! starts, naming the way to give one.

use std::collections::HashMap;

use crate::config::Config;

use super::credentials;
use super::plan::PlanStep;
use crate::actions::run::needs_zendesk_credential;
use crate::clients::gitlab::GitLab;
use crate::clients::http::{ApiError, RetryPolicy};
use crate::clients::zendesk::Auth as ZendeskAuth;
use crate::secret::Redactor;
use crate::secret::stash::StashError;

/// Why the clients of a run could not be made. Nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    /// No GitLab credential belongs to the GitLab the command talks to.
    #[error(
        "`{command}` calls the GitLab API of {url} and no GitLab credential belongs to it; nothing was changed"
    )]
    NoGitLab {
        /// The command.
        command: String,
        /// The GitLab.
        url: String,
    },
    /// No Zendesk credential for an instance the plan calls.
    #[error(
        "`{command}` calls the Zendesk API of `{instance}` and no Zendesk credential is set for it; nothing was changed"
    )]
    NoZendesk {
        /// The command.
        command: String,
        /// The instance.
        instance: String,
    },
    /// The keyring could not be read.
    #[error(transparent)]
    Keyring(#[from] StashError),
    /// The client could not be built.
    #[error(transparent)]
    Client(#[from] ApiError),
}

/// The GitLab client and the Zendesk credentials (by instance) the steps of a plan need.
pub struct Clients {
    /// GitLab, when a step calls it.
    pub gitlab: Option<GitLab>,
    /// Zendesk credentials, by instance id.
    pub zendesk: HashMap<String, ZendeskAuth>,
}

/// The tool's own credentials for the steps of a plan: a GitLab client, and the Zendesk
/// credential of each instance whose API the plan calls.
pub fn clients_for(
    steps: &[PlanStep],
    command: &str,
    config: &Config,
    redactor: &Redactor,
    policy: RetryPolicy,
) -> Result<Clients, ClientsError> {
    let zendesk = zendesk_for(steps, command)?;
    let gitlab = if calls_gitlab(steps) {
        Some(gitlab_client(command, config, redactor, policy)?)
    } else {
        None
    };
    Ok(Clients { gitlab, zendesk })
}

/// Whether a step of the plan calls GitLab.
pub fn calls_gitlab(steps: &[PlanStep]) -> bool {
    steps
        .iter()
        .any(|s| s.action.is_some_and(|a| a.starts_with("gitlab.")))
}

/// The Zendesk credential of each instance whose API a step of the plan calls.
pub fn zendesk_for(
    steps: &[PlanStep],
    command: &str,
) -> Result<HashMap<String, ZendeskAuth>, ClientsError> {
    let mut zendesk = HashMap::new();
    // Environment credentials without ZENDESK_INSTANCE belong to a plan's instance only when
    // the plan calls one instance: never to two at once.
    let called: std::collections::BTreeSet<&str> = steps
        .iter()
        .filter(|s| s.action.is_some_and(needs_zendesk_credential))
        .filter_map(|s| s.instance.as_ref().map(|i| i.id.as_str()))
        .collect();
    let reach = if called.len() <= 1 {
        credentials::Reach::Named
    } else {
        credentials::Reach::Listed
    };
    for step in steps {
        let (Some(action), Some(instance)) = (step.action, &step.instance) else {
            continue;
        };
        if !needs_zendesk_credential(action) || zendesk.contains_key(&instance.id) {
            continue;
        }
        let Some((auth, _)) = credentials::zendesk_auth(instance, reach)? else {
            return Err(ClientsError::NoZendesk {
                command: command.to_owned(),
                instance: instance.id.clone(),
            });
        };
        zendesk.insert(instance.id.clone(), auth);
    }
    Ok(zendesk)
}

/// A GitLab client with the tool's own credential (`GITLAB_TOKEN`, else the keyring).
pub fn gitlab_client(
    command: &str,
    config: &Config,
    redactor: &Redactor,
    policy: RetryPolicy,
) -> Result<GitLab, ClientsError> {
    let (token, _) = credentials::gitlab_token(config)?.ok_or_else(|| ClientsError::NoGitLab {
        command: command.to_owned(),
        url: crate::config::display_url(&config.gitlab_url),
    })?;
    Ok(GitLab::new(
        &config.gitlab_url,
        token,
        redactor.clone(),
        policy,
    )?)
}

/// Where the credential a `--self` rotation replaces lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelfCredential {
    /// In the OS keyring, under this account: the rotation writes the new token there.
    Keyring(String),
    /// In this environment variable: tokrot cannot update it, so it goes stale.
    Env(&'static str),
}

/// For `rotate gitlab-pat --self` (token id `self`), where tokrot's own GitLab credential
/// lives; `None` for any other rotation.
pub fn self_credential(
    runbook: &str,
    given: &[(String, String)],
    config: &Config,
) -> Result<Option<SelfCredential>, ClientsError> {
    let is_self = runbook == crate::inventory::source::GITLAB_PAT.runbook
        && given.iter().any(|(k, v)| k == "token_id" && v == "self");
    if !is_self {
        return Ok(None);
    }
    Ok(
        credentials::gitlab_token(config)?.map(|(_, source)| match source {
            credentials::Source::Keyring(account) => SelfCredential::Keyring(account),
            credentials::Source::Env(var) => SelfCredential::Env(var),
        }),
    )
}
