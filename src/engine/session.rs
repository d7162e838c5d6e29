//! What a run is given: where state lives, whoever shows it, the prompter, and the clients
//! the vendors are called through, made here from the tool's own credentials for the steps of
//! a plan, and the keeper its new token waits in. A plan that calls an API whose credential is
//! missing is refused before it starts, naming the way to give one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::model::Vendor;

use super::credentials;
use super::plan::PlanStep;
use super::prompt::{Prompter, TerminalPrompter, Unattended};
use super::report::Reporter;
use super::seams::{Keeper, Keyring};
use super::walk::WalkOptions;
use crate::actions::Service;
use crate::actions::run::needs_zendesk_credential;
use crate::clients::gitlab::GitLab;
use crate::clients::http::{ApiError, RetryPolicy};
use crate::clients::zendesk::{Auth as ZendeskAuth, Zendesk};
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

/// What a run is given besides its plan.
pub struct Session<'u> {
    /// The state dir (journal, audit log, locks).
    pub state_dir: PathBuf,
    /// Whoever shows the run as it goes.
    pub reporter: &'u mut dyn Reporter,
    /// Keeps secrets out of everything shown, journaled or logged: the reporter's own (a process
    /// takes it from there), so that a value registered during the run (a captured token) is
    /// hidden everywhere.
    pub redactor: Redactor,
    /// Confirmations, gates and captures.
    pub prompter: Box<dyn Prompter>,
    /// The tool's clients for the vendors the plan calls.
    pub clients: Clients,
    /// HTTP policy.
    pub policy: RetryPolicy,
    /// How targets run, what resume skips, the gates approved.
    pub options: WalkOptions,
    /// `--yes`: nobody answers at a terminal.
    pub unattended: bool,
    /// Where a new token waits (the OS keyring).
    pub keeper: Arc<dyn Keeper>,
    /// Whether the run handles SIGINT/SIGTERM itself (a process does; the engine's tests do not).
    pub signals: bool,
}

/// What a process gives a run of its own; `Session::open` adds the rest.
pub struct Given<'u> {
    /// The state dir.
    pub state_dir: PathBuf,
    /// Whoever shows the run; the run's redactor is its.
    pub reporter: &'u mut dyn Reporter,
    /// The clients, from `clients_for`.
    pub clients: Clients,
    /// HTTP policy.
    pub policy: RetryPolicy,
    /// How the walk runs.
    pub options: WalkOptions,
    /// `--yes`.
    pub unattended: bool,
    /// Colour in prompts.
    pub color: bool,
}

impl<'u> Session<'u> {
    /// A process's run: prompts on the terminal (none with `--yes`), the new token kept in the
    /// OS keyring, SIGINT and SIGTERM handled by the run.
    pub fn open(given: Given<'u>) -> Self {
        let prompter: Box<dyn Prompter> = match given.unattended {
            true => Box::new(Unattended),
            false => Box::new(TerminalPrompter::new(given.color)),
        };
        Session {
            state_dir: given.state_dir,
            redactor: given.reporter.redactor().clone(),
            reporter: given.reporter,
            prompter,
            clients: given.clients,
            policy: given.policy,
            options: given.options,
            unattended: given.unattended,
            keeper: Arc::new(Keyring),
            signals: true,
        }
    }
}

/// The GitLab client and the Zendesk credentials (by instance) the steps of a plan need.
#[derive(Clone, Default)]
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
    steps.iter().any(|s| {
        s.action
            .is_some_and(|a| a.service == Service::Api(Vendor::GitLab))
    })
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

/// Tells the rate budgets how fast each configured host may be called: the config's limits,
/// and gitlab.com's published one for gitlab.com.
pub fn pace_hosts(config: &Config) {
    use crate::clients::budget::{Pace, set_pace};
    let gitlab = &config.gitlab_url;
    let gitlab_com = gitlab.host_str() == Some("gitlab.com");
    set_pace(
        &gitlab.origin().ascii_serialization(),
        Pace {
            configured: config.gitlab_requests_per_minute,
            assumed: gitlab_com.then_some(crate::config::GITLAB_COM_REQUESTS_PER_MINUTE),
        },
    );
    for instance in config.instances.values() {
        set_pace(
            &instance.url.origin().ascii_serialization(),
            Pace {
                configured: instance.requests_per_minute,
                assumed: None,
            },
        );
    }
}

/// How every call of a run is made: timeouts, retries, the longest wait for a rate limit.
pub type Policy = RetryPolicy;

/// The policy of a process: `--http-timeout` for one request, `--max-wait` for a rate limit.
pub fn policy(timeout: std::time::Duration, max_wait: std::time::Duration) -> Policy {
    RetryPolicy {
        timeout,
        max_wait,
        ..Default::default()
    }
}

/// The Zendesk clients of the instances a team-wide command names (`status`, `rotate --due`,
/// `inventory discover`), where a credential belongs: the environment's only when one
/// instance is named. An instance without one has no client (its tokens read as unknown).
pub fn zendesk_clients(
    config: &Config,
    ids: &[String],
    redactor: &Redactor,
    policy: Policy,
) -> ZendeskClients {
    let mut ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    let reach = match ids.len() {
        1 => credentials::Reach::Named,
        _ => credentials::Reach::Listed,
    };
    let mut out = HashMap::new();
    for id in ids {
        let Ok(instance) = config.instance(id) else {
            continue;
        };
        if let Ok(Some((auth, _))) = credentials::zendesk_auth(instance, reach)
            && let Ok(client) = Zendesk::new(&instance.url, auth, redactor.clone(), policy)
        {
            out.insert(id.to_owned(), client);
        }
    }
    out
}

/// Zendesk clients by instance id.
pub type ZendeskClients = HashMap<String, Zendesk>;
