//! Interactive pick lists: a value the operator did not give is chosen from what the API lists
//! (tokens by name with expiry and last use, triggers by description, variables, webhooks)
//! rather than typed from memory.

use crate::clients::gitlab::{AccessToken, GitLab, Owner};
use crate::clients::zendesk::Zendesk;
use crate::engine::prompt::{PromptError, Prompter};

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
    match (runbook, param) {
        ("gitlab-pat", "token_id" | "token_name") => Some(Source::PersonalTokens),
        ("gitlab-project-token" | "gitlab-group-token", "token_id" | "token_name") => {
            owner().map(Source::ResourceTokens)
        }
        ("gitlab-trigger", "trigger_id") | ("gitlab-trigger-bot", "old_trigger_id") => {
            value("project").map(Source::Triggers)
        }
        ("gitlab-ci-var", "key") => owner().map(Source::Variables),
        ("gitlab-webhook", "hook_id") => value("project").map(Source::Hooks),
        ("zendesk-app", "installation_id") => value("instance").map(|_| Source::Installations),
        ("zendesk-webhook", "webhook_id") => value("instance").map(|_| Source::Webhooks),
        ("zendesk-oauth", "client_id") => value("instance").map(|_| Source::OAuthClients),
        _ => None,
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
    let no_client = || PickError::Empty("no credential to list them with".into());
    let gitlab = || clients.gitlab.ok_or_else(no_client);
    let (param, items, values): (&str, Vec<String>, Vec<String>) = match source {
        Source::Webhooks => {
            let zendesk = clients.zendesk.ok_or_else(no_client)?;
            let hooks = zendesk.webhooks().await?;
            // An endpoint can carry a token: only the name and id are shown.
            (
                param,
                hooks
                    .iter()
                    .map(|h| format!("{} ({})", h.name, h.id))
                    .collect(),
                hooks.iter().map(|h| h.id.clone()).collect(),
            )
        }
        Source::OAuthClients => {
            let zendesk = clients.zendesk.ok_or_else(no_client)?;
            let list = zendesk.oauth_clients().await?;
            (
                param,
                list.iter()
                    .map(|c| format!("{} ({}, id {})", c.name, c.identifier, c.id))
                    .collect(),
                list.iter().map(|c| c.id.to_string()).collect(),
            )
        }
        Source::Installations => {
            let zendesk = clients.zendesk.ok_or_else(no_client)?;
            let apps = zendesk.installations().await?;
            (
                param,
                apps.iter()
                    .map(|a| {
                        format!(
                            "{} (installation {}){}",
                            a.name,
                            a.id,
                            if a.enabled { "" } else { " · disabled" }
                        )
                    })
                    .collect(),
                apps.iter().map(|a| a.id.to_string()).collect(),
            )
        }
        Source::PersonalTokens | Source::ResourceTokens(_) => {
            let tokens = match source {
                Source::ResourceTokens(owner) => {
                    gitlab()?
                        .resource_tokens(owner, None, Some("active"))
                        .await?
                }
                _ => gitlab()?.personal_tokens(None, Some("active")).await?,
            };
            let tokens: Vec<AccessToken> = tokens.into_iter().filter(|t| t.active).collect();
            (
                "token_id",
                tokens.iter().map(token_line).collect(),
                tokens.iter().map(|t| t.id.to_string()).collect(),
            )
        }
        Source::Triggers(project) => {
            let triggers = gitlab()?.triggers(project).await?;
            (
                param,
                triggers
                    .iter()
                    .map(|t| {
                        let used = t
                            .last_used
                            .as_deref()
                            .and_then(|d| d.get(..10))
                            .unwrap_or("never");
                        format!("{} (id {}) · last used {used}", t.description, t.id)
                    })
                    .collect(),
                triggers.iter().map(|t| t.id.to_string()).collect(),
            )
        }
        Source::Variables(owner) => {
            let vars = gitlab()?.variables(owner).await?;
            (
                param,
                vars.iter()
                    .map(|v| {
                        let mut flags = Vec::new();
                        for (on, name) in [
                            (v.protected, "protected"),
                            (v.masked, "masked"),
                            (v.hidden, "hidden"),
                        ] {
                            if on {
                                flags.push(name);
                            }
                        }
                        format!(
                            "{} (scope {}){}",
                            v.key,
                            v.environment_scope,
                            if flags.is_empty() {
                                String::new()
                            } else {
                                format!(" · {}", flags.join(", "))
                            }
                        )
                    })
                    .collect(),
                vars.iter().map(|v| v.key.clone()).collect(),
            )
        }
        Source::Hooks(project) => {
            let hooks = gitlab()?.hooks(project).await?;
            (
                param,
                // A webhook's URL can hold credentials: only its host is shown.
                hooks
                    .iter()
                    .map(|h| {
                        let host = url::Url::parse(&h.url)
                            .ok()
                            .and_then(|u| u.host_str().map(str::to_owned))
                            .unwrap_or_else(|| "?".into());
                        format!("webhook {} · {host}", h.id)
                    })
                    .collect(),
                hooks.iter().map(|h| h.id.to_string()).collect(),
            )
        }
    };
    if items.is_empty() {
        return Err(PickError::Empty(prompt.to_owned()));
    }
    let k = prompter.select(prompt, &items)?;
    Ok((param.to_owned(), values[k].clone()))
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
        let (auth, _) = super::credentials::zendesk_auth(&instance.id).ok()??;
        Zendesk::new(&instance.url, auth, http.0.clone(), http.1).ok()
    });
    let clients = Clients {
        gitlab,
        zendesk: zendesk.as_ref(),
    };
    Some(pick(&clients, source, missing.param, missing.prompt, prompter).await)
}
