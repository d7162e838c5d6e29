//! Interactive pick lists: a value the operator did not give is chosen from what the API lists
//! (tokens by name with expiry and last use, triggers by description, variables, webhooks)
//! rather than typed from memory.

use crate::clients::gitlab::{AccessToken, GitLab, Owner};
use crate::clients::zendesk::Zendesk;
use crate::engine::prompt::{PromptError, Prompter};
use crate::inventory::source::Pick;

/// What to list for a missing parameter, given the values known so far.
pub enum Source<'a> {
    /// Active personal access tokens.
    PersonalTokens,
    /// Active access tokens of a project or group.
    ResourceTokens(Owner<'a>),
    /// Pipeline triggers of a project.
    Triggers(&'a str),
    /// CI/CD variables of a project or group.
    Variables(Owner<'a>),
    /// Webhooks of a project.
    Hooks(&'a str),
    /// App installations of a Zendesk instance.
    Installations,
    /// Webhooks of a Zendesk instance.
    Webhooks,
    /// OAuth clients of a Zendesk instance.
    OAuthClients,
}

/// The list for `param` of `runbook`, when there is one and what it needs is known.
pub fn source<'a>(
    runbook: &str,
    param: &str,
    value: impl Fn(&str) -> Option<&'a str>,
) -> Option<Source<'a>> {
    let owner = || match (value("project"), value("group")) {
        (Some(p), _) => Some(Owner::Project(p)),
        (None, Some(g)) => Some(Owner::Group(g)),
        _ => None,
    };
    // The list belongs to the kind of token a rotate runbook makes, or to a kind of consumer
    // an apply runbook writes.
    let pick = crate::inventory::source::of(runbook)
        .and_then(|k| k.pick(param))
        .or_else(|| {
            crate::inventory::target::KINDS
                .iter()
                .filter(|k| k.runbook == runbook)
                .find_map(|k| k.picks.iter().find(|(p, _)| *p == param).map(|(_, l)| *l))
        })?;
    match pick {
        Pick::PersonalTokens => Some(Source::PersonalTokens),
        Pick::ResourceTokens => owner().map(Source::ResourceTokens),
        Pick::Triggers => value("project").map(Source::Triggers),
        Pick::Variables => owner().map(Source::Variables),
        Pick::ProjectHooks => value("project").map(Source::Hooks),
        Pick::Installations => value("instance").map(|_| Source::Installations),
        Pick::Webhooks => value("instance").map(|_| Source::Webhooks),
        Pick::OAuthClients => value("instance").map(|_| Source::OAuthClients),
    }
}

/// Why no value was picked.
#[derive(Debug, thiserror::Error)]
pub enum PickError {
    /// The list could not be read.
    #[error("cannot list them: {0}")]
    Api(#[from] crate::clients::http::ApiError),
    /// Nothing to pick from.
    #[error("there is nothing to pick from: {0}")]
    Empty(String),
    /// No answer.
    #[error(transparent)]
    Prompt(#[from] PromptError),
}

fn token_line(t: &AccessToken) -> String {
    format!(
        "{} (id {}) · expires {} · last used {}",
        t.name,
        t.id,
        t.expires_on
            .map_or_else(|| "never".into(), |d| d.to_string()),
        t.last_used_at
            .as_deref()
            .and_then(|d| d.get(..10))
            .unwrap_or("never")
    )
}

/// The clients a pick list can read from.
pub struct Clients<'a> {
    /// GitLab, when the run has a GitLab credential.
    pub gitlab: Option<&'a GitLab>,
    /// The instance's Zendesk, when the run has a Zendesk credential and instance.
    pub zendesk: Option<&'a Zendesk>,
}

/// Lists, asks, and returns `(param, value)` to use: a token is picked by id whether its id or
/// its name was missing; anything else sets `param` itself.
pub async fn pick(
    clients: &Clients<'_>,
    source: Source<'_>,
    param: &str,
    prompt: &str,
    prompter: &mut dyn Prompter,
) -> Result<(String, String), PickError> {
    let (items, values) = match source {
        Source::Webhooks | Source::OAuthClients | Source::Installations => {
            zendesk_list(clients, &source).await?
        }
        _ => gitlab_list(clients, &source).await?,
    };
    let param = match source {
        Source::PersonalTokens | Source::ResourceTokens(_) => "token_id",
        _ => param,
    };
    if items.is_empty() {
        return Err(PickError::Empty(prompt.to_owned()));
    }
    let k = prompter.select(prompt, &items)?;
    Ok((param.to_owned(), values[k].clone()))
}

/// The lines shown and the values they stand for.
type Listed = (Vec<String>, Vec<String>);

fn no_client() -> PickError {
    PickError::Empty("no credential to list them with".into())
}

/// What a Zendesk instance lists for a source. An endpoint can carry a token: a webhook is
/// shown by its name and id only.
async fn zendesk_list(clients: &Clients<'_>, source: &Source<'_>) -> Result<Listed, PickError> {
    let zendesk = clients.zendesk.ok_or_else(no_client)?;
    Ok(match source {
        Source::Webhooks => {
            let hooks = zendesk.webhooks().await?;
            (
                hooks
                    .iter()
                    .map(|h| format!("{} ({})", h.name, h.id))
                    .collect(),
                hooks.iter().map(|h| h.id.clone()).collect(),
            )
        }
        Source::OAuthClients => {
            let list = zendesk.oauth_clients().await?;
            (
                list.iter()
                    .map(|c| format!("{} ({}, id {})", c.name, c.identifier, c.id))
                    .collect(),
                list.iter().map(|c| c.id.to_string()).collect(),
            )
        }
        _ => {
            let apps = zendesk.installations().await?;
            (
                apps.iter()
                    .map(|a| {
                        let disabled = if a.enabled { "" } else { " · disabled" };
                        format!("{} (installation {}){disabled}", a.name, a.id)
                    })
                    .collect(),
                apps.iter().map(|a| a.id.to_string()).collect(),
            )
        }
    })
}

/// What GitLab lists for a source.
async fn gitlab_list(clients: &Clients<'_>, source: &Source<'_>) -> Result<Listed, PickError> {
    let gitlab = clients.gitlab.ok_or_else(no_client)?;
    Ok(match source {
        Source::ResourceTokens(owner) => {
            tokens_listed(gitlab.resource_tokens(*owner, None, Some("active")).await?)
        }
        Source::Triggers(project) => {
            let triggers = gitlab.triggers(project).await?;
            (
                triggers.iter().map(trigger_line).collect(),
                triggers.iter().map(|t| t.id.to_string()).collect(),
            )
        }
        Source::Variables(owner) => {
            let vars = gitlab
                .variables(crate::clients::gitlab::VarOwner::Of(*owner))
                .await?;
            (
                vars.iter().map(variable_line).collect(),
                vars.iter().map(|v| v.key.clone()).collect(),
            )
        }
        Source::Hooks(project) => {
            let hooks = gitlab.hooks(project).await?;
            (
                hooks.iter().map(|h| hook_line(&h.url, h.id)).collect(),
                hooks.iter().map(|h| h.id.to_string()).collect(),
            )
        }
        _ => tokens_listed(gitlab.personal_tokens(None, Some("active")).await?),
    })
}

fn tokens_listed(tokens: Vec<AccessToken>) -> Listed {
    let tokens: Vec<AccessToken> = tokens.into_iter().filter(|t| t.active).collect();
    (
        tokens.iter().map(token_line).collect(),
        tokens.iter().map(|t| t.id.to_string()).collect(),
    )
}

fn trigger_line(t: &crate::clients::gitlab::Trigger) -> String {
    let used = t
        .last_used
        .as_deref()
        .and_then(|d| d.get(..10))
        .unwrap_or("never");
    format!("{} (id {}) · last used {used}", t.description, t.id)
}

fn variable_line(v: &crate::clients::gitlab::Variable) -> String {
    let flags: Vec<&str> = [
        (v.protected, "protected"),
        (v.masked, "masked"),
        (v.hidden, "hidden"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" · {}", flags.join(", "))
    };
    format!("{} (scope {}){flags}", v.key, v.environment_scope)
}

/// A webhook's URL can hold credentials: only its host is shown.
fn hook_line(url: &str, id: u64) -> String {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    format!("webhook {id} · {host}")
}

/// Where a missing value of a run may be picked from: the runbook and the values known so far.
pub struct Missing<'a> {
    /// The runbook.
    pub runbook: &'a str,
    /// The parameter.
    pub param: &'a str,
    /// Its prompt.
    pub prompt: &'a str,
    /// The values given so far, latest last.
    pub given: &'a [(String, String)],
    /// Whether the command names one instance or several (environment credentials without
    /// `ZENDESK_INSTANCE` go to one only).
    pub reach: super::credentials::Reach,
}

/// Picks a missing value from what the API lists, when there is such a list and a credential
/// to read it: `None` when there is no list for this parameter. The Zendesk client of the
/// instance given so far is made here, with the tool's own credential.
pub async fn pick_missing(
    missing: &Missing<'_>,
    gitlab: Option<&GitLab>,
    config: &crate::config::Config,
    http: (&crate::secret::Redactor, crate::clients::http::RetryPolicy),
    prompter: &mut dyn Prompter,
) -> Option<Result<(String, String), PickError>> {
    let known = |name: &str| {
        missing
            .given
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let source = source(missing.runbook, missing.param, known)?;
    let instance = known("instance").and_then(|i| config.instance(i).ok());
    let zendesk = instance.and_then(|instance| {
        let (auth, _) = super::credentials::zendesk_auth(instance, missing.reach).ok()??;
        Zendesk::new(&instance.url, auth, http.0.clone(), http.1).ok()
    });
    let clients = Clients {
        gitlab,
        zendesk: zendesk.as_ref(),
    };
    Some(pick(&clients, source, missing.param, missing.prompt, prompter).await)
}
