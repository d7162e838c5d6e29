//! The handbook's naming rule for pipeline trigger descriptions, built from `--for CONSUMER`:
//! a Zendesk webhook → its Admin Center link; a Zendesk app → `INSTANCE - NAME_OF_APP`; a CI/CD
//! job → the job's name; another project → the project's link.

use crate::config::{Config, ConfigError, is_cli_id};

/// The forms `--for` takes.
pub const CONSUMER_FORMS: &str = "zendesk-webhook:INSTANCE:WEBHOOK_ID, zendesk-app:INSTANCE:NAME_OF_APP, ci-job:NAME or project:URL";

/// Why a `--for` value cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// Not one of the forms.
    #[error("--for `{given}`: {reason}\n  expected one of: {CONSUMER_FORMS}")]
    Form {
        /// What was given.
        given: String,
        /// What is wrong.
        reason: String,
    },
    /// Names an unknown instance.
    #[error("--for: {0}")]
    Instance(#[from] ConfigError),
}

/// Builds a trigger description from a `--for` value.
pub fn trigger_description(consumer: &str, config: &Config) -> Result<String, ConsumerError> {
    let fail = |reason: &str| ConsumerError::Form {
        given: consumer.to_owned(),
        reason: reason.to_owned(),
    };
    let (kind, rest) = consumer
        .split_once(':')
        .ok_or_else(|| fail("missing `:` after the kind"))?;
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(fail("nothing after the kind"));
    }
    match kind {
        "zendesk-webhook" => {
            let (instance, id) = rest
                .split_once(':')
                .ok_or_else(|| fail("needs INSTANCE:WEBHOOK_ID"))?;
            if !is_cli_id(instance)
                || id.is_empty()
                || !id.chars().all(|c| c.is_ascii_alphanumeric())
            {
                return Err(fail(
                    "needs INSTANCE:WEBHOOK_ID, e.g. global:01EJFTSCC78X5V07NPY2MHR00M",
                ));
            }
            let instance = config.instance(instance)?;
            Ok(format!(
                "{}/apps-integrations/webhooks/webhooks/{id}/details",
                instance.admin_url()
            ))
        }
        "zendesk-app" => {
            let (instance, name) = rest
                .split_once(':')
                .ok_or_else(|| fail("needs INSTANCE:NAME_OF_APP"))?;
            if name.trim().is_empty() {
                return Err(fail("the app name is empty"));
            }
            let instance = config.instance(instance)?;
            Ok(format!("{} - {}", instance.label, name.trim()))
        }
        "ci-job" => Ok(rest.to_owned()),
        "project" => {
            if !(rest.starts_with("https://") || rest.starts_with("http://")) {
                return Err(fail(
                    "the project must be given as its link, e.g. project:https://gitlab.com/grp/proj",
                ));
            }
            Ok(rest.to_owned())
        }
        _ => Err(fail(&format!("unknown kind `{kind}`"))),
    }
}

/// Where a pipeline trigger is used, as its description names it by the handbook's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamedConsumer {
    /// A Zendesk webhook: the description is its Admin Center link.
    Webhook {
        /// The instance whose Admin Center it is.
        instance: String,
        /// The webhook's id.
        id: String,
    },
    /// A Zendesk app: `INSTANCE LABEL - NAME_OF_APP`.
    App {
        /// The instance whose label it starts with.
        instance: String,
        /// The app's name.
        name: String,
    },
    /// A GitLab project: the description is its link (a path on the GitLab).
    Project(String),
    /// A CI job of the trigger's own project: any other description.
    Job(String),
}

/// Reads a trigger's description back by the naming rule (the reverse of
/// `trigger_description`); `None` for an empty description.
pub fn consumer_of(description: &str, config: &Config) -> Option<NamedConsumer> {
    let d = description.trim();
    if d.is_empty() {
        return None;
    }
    for instance in config.ordered_instances() {
        let prefix = format!(
            "{}/apps-integrations/webhooks/webhooks/",
            instance.admin_url()
        );
        if let Some(rest) = d.strip_prefix(&prefix)
            && let Some(id) = rest.strip_suffix("/details")
            && !id.is_empty()
            && id.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Some(NamedConsumer::Webhook {
                instance: instance.id.clone(),
                id: id.to_owned(),
            });
        }
        if let Some(name) = d.strip_prefix(&format!("{} - ", instance.label))
            && !name.trim().is_empty()
        {
            return Some(NamedConsumer::App {
                instance: instance.id.clone(),
                name: name.trim().to_owned(),
            });
        }
    }
    let gitlab = crate::config::display_url(&config.gitlab_url);
    if let Some(path) = d.strip_prefix(&format!("{gitlab}/")) {
        let path = path.trim_end_matches('/');
        if crate::runbook::validate::check_namespace_path(path).is_ok() {
            return Some(NamedConsumer::Project(path.to_owned()));
        }
    }
    Some(NamedConsumer::Job(d.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_reads_back_as_its_consumer() {
        let c = Config::built_in();
        for consumer in [
            "zendesk-webhook:global:01ABC",
            "zendesk-app:us-gov:Some App",
            "project:https://gitlab.com/grp/other",
            "ci-job:deploy-docs",
        ] {
            let d = trigger_description(consumer, &c).unwrap();
            let back = match consumer_of(&d, &c).unwrap() {
                NamedConsumer::Webhook { instance, id } => {
                    format!("zendesk-webhook:{instance}:{id}")
                }
                NamedConsumer::App { instance, name } => format!("zendesk-app:{instance}:{name}"),
                NamedConsumer::Project(p) => format!("project:https://gitlab.com/{p}"),
                NamedConsumer::Job(j) => format!("ci-job:{j}"),
            };
            assert_eq!(back, consumer);
        }
        assert_eq!(consumer_of("  ", &c), None);
    }

    #[test]
    fn each_rule_of_the_handbook() {
        let c = Config::built_in();
        assert_eq!(
            trigger_description("zendesk-app:global:GitLab Sync", &c).unwrap(),
            "Zendesk Global - GitLab Sync"
        );
        assert_eq!(
            trigger_description("zendesk-app:us-gov:Some App", &c).unwrap(),
            "Zendesk US Government - Some App"
        );
        assert_eq!(
            trigger_description("zendesk-webhook:global:01ABC", &c).unwrap(),
            "https://gitlab.zendesk.com/admin/apps-integrations/webhooks/webhooks/01ABC/details"
        );
        assert_eq!(
            trigger_description("ci-job:deploy-docs", &c).unwrap(),
            "deploy-docs"
        );
        assert_eq!(
            trigger_description("project:https://gitlab.com/grp/other", &c).unwrap(),
            "https://gitlab.com/grp/other"
        );
    }

    #[test]
    fn bad_consumers_are_explained() {
        let c = Config::built_in();
        for bad in [
            "zendesk-app:nowhere:X",
            "slack:x",
            "ci-job:",
            "project:grp/proj",
            "zendesk-webhook:global",
        ] {
            let err = trigger_description(bad, &c).unwrap_err().to_string();
            assert!(err.contains("--for"), "{bad}: {err}");
        }
        assert!(
            trigger_description("zendesk-app:nowhere:X", &c)
                .unwrap_err()
                .to_string()
                .contains("known instances")
        );
    }
}
