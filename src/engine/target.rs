//! `--apply-to` specs: where a rotation puts its new token. Each spec names an apply runbook and
//! fills its parameters, so a target is carried out exactly like `tokrot apply` would.

use std::fmt;
use std::str::FromStr;

use crate::config::is_cli_id;
use crate::runbook::validate::check_namespace_path;

/// The forms a spec can take, shown whenever one is wrong.
pub const SPEC_FORMS: &[(&str, &str)] = &[
    (
        "gitlab-ci-var:PROJECT:KEY[@SCOPE]",
        "project CI/CD variable (SCOPE: environment scope, default *)",
    ),
    (
        "gitlab-group-ci-var:GROUP:KEY[@SCOPE]",
        "group CI/CD variable",
    ),
    (
        "gitlab-webhook:PROJECT:HOOK_ID",
        "project webhook secret token",
    ),
    (
        "zendesk-app:INSTANCE:INSTALLATION_ID:SETTING",
        "one setting of a Zendesk app installation",
    ),
    (
        "zendesk-webhook:INSTANCE:WEBHOOK_ID",
        "Zendesk webhook (token in its endpoint URL, or its credential)",
    ),
];

/// A target of a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// A project CI/CD variable.
    GitLabCiVar {
        /// Project id or path.
        project: String,
        /// Variable key.
        key: String,
        /// Environment scope.
        scope: String,
    },
    /// A group CI/CD variable.
    GitLabGroupCiVar {
        /// Group id or path.
        group: String,
        /// Variable key.
        key: String,
        /// Environment scope.
        scope: String,
    },
    /// A project webhook's secret token.
    GitLabWebhook {
        /// Project id or path.
        project: String,
        /// Hook id.
        hook_id: u64,
    },
    /// One setting of a Zendesk app installation.
    ZendeskApp {
        /// Instance id.
        instance: String,
        /// Installation id.
        installation_id: u64,
        /// Setting name.
        setting: String,
    },
    /// A Zendesk webhook.
    ZendeskWebhook {
        /// Instance id.
        instance: String,
        /// Webhook id (a string such as `01EJFTSCC78X5V07NPY2MHR00M`).
        webhook_id: String,
    },
}

/// A spec that cannot be understood; the message shows the right form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid target `{spec}`: {reason}\n  expected {expected}")]
pub struct TargetSpecError {
    /// What was given.
    pub spec: String,
    /// What is wrong.
    pub reason: String,
    /// The right form(s).
    pub expected: String,
}

impl TargetSpec {
    /// The vendor the target lives at: `gitlab` or `zendesk`.
    pub fn service(&self) -> &'static str {
        match self {
            TargetSpec::GitLabCiVar { .. }
            | TargetSpec::GitLabGroupCiVar { .. }
            | TargetSpec::GitLabWebhook { .. } => "gitlab",
            TargetSpec::ZendeskApp { .. } | TargetSpec::ZendeskWebhook { .. } => "zendesk",
        }
    }

    /// The Zendesk instance of a Zendesk target.
    pub fn instance(&self) -> Option<&str> {
        match self {
            TargetSpec::ZendeskApp { instance, .. }
            | TargetSpec::ZendeskWebhook { instance, .. } => Some(instance),
            _ => None,
        }
    }

    /// The apply runbook that carries this target out.
    pub fn runbook_id(&self) -> &'static str {
        match self {
            TargetSpec::GitLabCiVar { .. } | TargetSpec::GitLabGroupCiVar { .. } => "gitlab-ci-var",
            TargetSpec::GitLabWebhook { .. } => "gitlab-webhook",
            TargetSpec::ZendeskApp { .. } => "zendesk-app",
            TargetSpec::ZendeskWebhook { .. } => "zendesk-webhook",
        }
    }

    /// The apply runbook's parameters this spec fills.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            TargetSpec::GitLabCiVar {
                project,
                key,
                scope,
            } => vec![
                ("project", project.clone()),
                ("key", key.clone()),
                ("environment_scope", scope.clone()),
            ],
            TargetSpec::GitLabGroupCiVar { group, key, scope } => vec![
                ("group", group.clone()),
                ("key", key.clone()),
                ("environment_scope", scope.clone()),
            ],
            TargetSpec::GitLabWebhook { project, hook_id } => {
                vec![
                    ("project", project.clone()),
                    ("hook_id", hook_id.to_string()),
                ]
            }
            TargetSpec::ZendeskApp {
                instance,
                installation_id,
                setting,
            } => vec![
                ("instance", instance.clone()),
                ("installation_id", installation_id.to_string()),
                ("setting", setting.clone()),
            ],
            TargetSpec::ZendeskWebhook {
                instance,
                webhook_id,
            } => {
                vec![
                    ("instance", instance.clone()),
                    ("webhook_id", webhook_id.clone()),
                ]
            }
        }
    }

    /// The target an apply runbook's parameters name (the inverse of `params`), once they are
    /// all known; `None` for another runbook.
    pub fn of_apply(runbook: &str, value: &dyn Fn(&str) -> Option<String>) -> Option<Self> {
        let scope = || value("environment_scope").unwrap_or_else(|| "*".to_owned());
        Some(match runbook {
            "gitlab-ci-var" => match value("group") {
                Some(group) => TargetSpec::GitLabGroupCiVar {
                    group,
                    key: value("key")?,
                    scope: scope(),
                },
                None => TargetSpec::GitLabCiVar {
                    project: value("project")?,
                    key: value("key")?,
                    scope: scope(),
                },
            },
            "gitlab-webhook" => TargetSpec::GitLabWebhook {
                project: value("project")?,
                hook_id: value("hook_id")?.parse().ok()?,
            },
            "zendesk-app" => TargetSpec::ZendeskApp {
                instance: value("instance")?,
                installation_id: value("installation_id")?.parse().ok()?,
                setting: value("setting")?,
            },
            "zendesk-webhook" => TargetSpec::ZendeskWebhook {
                instance: value("instance")?,
                webhook_id: value("webhook_id")?,
            },
            _ => return None,
        })
    }

    /// One line for the operator.
    pub fn describe(&self) -> String {
        match self {
            TargetSpec::GitLabCiVar {
                project,
                key,
                scope,
            } => {
                format!("CI/CD variable {key} of project {project} (scope {scope})")
            }
            TargetSpec::GitLabGroupCiVar { group, key, scope } => {
                format!("CI/CD variable {key} of group {group} (scope {scope})")
            }
            TargetSpec::GitLabWebhook { project, hook_id } => {
                format!("secret token of webhook {hook_id} of project {project}")
            }
            TargetSpec::ZendeskApp {
                instance,
                installation_id,
                setting,
            } => {
                format!("setting `{setting}` of app installation {installation_id} on {instance}")
            }
            TargetSpec::ZendeskWebhook {
                instance,
                webhook_id,
            } => {
                format!("webhook {webhook_id} on {instance}")
            }
        }
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::GitLabCiVar {
                project,
                key,
                scope,
            } => {
                write!(f, "gitlab-ci-var:{project}:{key}")?;
                if scope != "*" {
                    write!(f, "@{scope}")?;
                }
                Ok(())
            }
            TargetSpec::GitLabGroupCiVar { group, key, scope } => {
                write!(f, "gitlab-group-ci-var:{group}:{key}")?;
                if scope != "*" {
                    write!(f, "@{scope}")?;
                }
                Ok(())
            }
            TargetSpec::GitLabWebhook { project, hook_id } => {
                write!(f, "gitlab-webhook:{project}:{hook_id}")
            }
            TargetSpec::ZendeskApp {
                instance,
                installation_id,
                setting,
            } => {
                write!(f, "zendesk-app:{instance}:{installation_id}:{setting}")
            }
            TargetSpec::ZendeskWebhook {
                instance,
                webhook_id,
            } => write!(f, "zendesk-webhook:{instance}:{webhook_id}"),
        }
    }
}

impl FromStr for TargetSpec {
    type Err = TargetSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (kind, rest) = spec.split_once(':').unwrap_or((spec, ""));
        let Some((form, _)) = SPEC_FORMS
            .iter()
            .find(|(f, _)| f.split(':').next() == Some(kind))
        else {
            return Err(unknown_kind(spec, kind));
        };
        let parser = SpecParser { spec, form };
        let parts: Vec<&str> = rest.split(':').collect();
        let want = form.split(':').count() - 1;
        if parts.len() != want || parts.iter().any(|p| p.is_empty()) {
            return Err(parser.fail(format!(
                "needs {want} non-empty part(s) after `{kind}:`, separated by `:`"
            )));
        }
        parser.build(kind, &parts)
    }
}

/// The error for a spec whose kind is none of `SPEC_FORMS`: it lists them all.
fn unknown_kind(spec: &str, kind: &str) -> TargetSpecError {
    TargetSpecError {
        spec: spec.to_owned(),
        reason: format!("unknown target kind `{kind}`"),
        expected: format!(
            "one of:\n{}",
            SPEC_FORMS
                .iter()
                .map(|(f, d)| format!("    {f:<46} {d}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// Reads the parts of one spec whose kind is known, so that every error shows its form.
struct SpecParser<'a> {
    /// The spec as given.
    spec: &'a str,
    /// The form of its kind, from `SPEC_FORMS`.
    form: &'a str,
}

impl SpecParser<'_> {
    /// An error for this spec.
    fn fail(&self, reason: String) -> TargetSpecError {
        TargetSpecError {
            spec: self.spec.to_owned(),
            reason,
            expected: self.form.to_owned(),
        }
    }

    /// The target of a `kind` whose `parts` (as many as its form has) are all non-empty.
    fn build(&self, kind: &str, parts: &[&str]) -> Result<TargetSpec, TargetSpecError> {
        Ok(match kind {
            "gitlab-ci-var" => {
                let (key, scope) = self.key_scope(parts[1])?;
                TargetSpec::GitLabCiVar {
                    project: self.namespace(parts[0], "project")?,
                    key,
                    scope,
                }
            }
            "gitlab-group-ci-var" => {
                let (key, scope) = self.key_scope(parts[1])?;
                TargetSpec::GitLabGroupCiVar {
                    group: self.namespace(parts[0], "group")?,
                    key,
                    scope,
                }
            }
            "gitlab-webhook" => TargetSpec::GitLabWebhook {
                project: self.namespace(parts[0], "project")?,
                hook_id: self.number(parts[1], "hook id")?,
            },
            "zendesk-app" => TargetSpec::ZendeskApp {
                instance: self.instance(parts[0])?,
                installation_id: self.number(parts[1], "installation id")?,
                setting: parts[2].to_owned(),
            },
            _ => {
                let id = parts[1];
                if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(self.fail(format!(
                        "webhook id `{id}` must be letters and digits, e.g. 01EJFTSCC78X5V07NPY2MHR00M"
                    )));
                }
                TargetSpec::ZendeskWebhook {
                    instance: self.instance(parts[0])?,
                    webhook_id: id.to_owned(),
                }
            }
        })
    }

    /// A GitLab project or group.
    fn namespace(&self, value: &str, what: &str) -> Result<String, TargetSpecError> {
        check_namespace_path(value).map_err(|e| self.fail(format!("{what} `{value}` {e}")))?;
        Ok(value.to_owned())
    }

    /// A numeric id.
    fn number(&self, value: &str, what: &str) -> Result<u64, TargetSpecError> {
        value
            .parse::<u64>()
            .map_err(|_| self.fail(format!("{what} `{value}` must be a number")))
    }

    /// A Zendesk instance id.
    fn instance(&self, value: &str) -> Result<String, TargetSpecError> {
        if is_cli_id(value) {
            Ok(value.to_owned())
        } else {
            Err(self.fail(format!(
                "instance `{value}` must be an instance id such as `global`"
            )))
        }
    }

    /// A CI/CD variable's `KEY[@SCOPE]`, the scope `*` when not given.
    fn key_scope(&self, value: &str) -> Result<(String, String), TargetSpecError> {
        let (key, scope) = match value.split_once('@') {
            Some((k, s)) if !s.is_empty() => (k, s),
            Some(_) => return Err(self.fail("the environment scope after `@` is empty".into())),
            None => (value, "*"),
        };
        let key_ok = !key.is_empty()
            && key.len() <= 255
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !key_ok {
            return Err(self.fail(format!(
                "variable key `{key}` must be 1 to 255 letters, digits and underscores"
            )));
        }
        Ok((key.to_owned(), scope.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> TargetSpec {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn every_form_parses_and_round_trips() {
        for s in [
            "gitlab-ci-var:grp/proj:API_TOKEN",
            "gitlab-ci-var:42:API_TOKEN@production",
            "gitlab-group-ci-var:grp/sub:TOKEN@review/*",
            "gitlab-webhook:grp/proj:7",
            "zendesk-app:global:360001:api_token",
            "zendesk-webhook:us-gov:01EJFTSCC78X5V07NPY2MHR00M",
        ] {
            let spec = parse(s);
            assert_eq!(spec.to_string(), s);
            // The apply runbook's parameters name the same target.
            let params = spec.params();
            let value = |k: &str| params.iter().find(|(p, _)| *p == k).map(|(_, v)| v.clone());
            assert_eq!(TargetSpec::of_apply(spec.runbook_id(), &value), Some(spec));
        }
        assert_eq!(
            parse("gitlab-ci-var:grp/proj:K@*"),
            TargetSpec::GitLabCiVar {
                project: "grp/proj".into(),
                key: "K".into(),
                scope: "*".into()
            }
        );
    }

    #[test]
    fn bad_specs_say_what_is_wrong_and_show_the_form() {
        for (spec, reason, form) in [
            (
                "gitlab-ci-var:grp/proj",
                "needs 2",
                "gitlab-ci-var:PROJECT:KEY[@SCOPE]",
            ),
            (
                "gitlab-ci-var:grp/proj:BAD-KEY",
                "variable key",
                "gitlab-ci-var:PROJECT:KEY",
            ),
            (
                "gitlab-ci-var:grp/proj:KEY@",
                "scope",
                "gitlab-ci-var:PROJECT:KEY",
            ),
            (
                "gitlab-ci-var:grp//proj:KEY",
                "project",
                "gitlab-ci-var:PROJECT:KEY",
            ),
            (
                "gitlab-webhook:grp/proj:abc",
                "must be a number",
                "gitlab-webhook:PROJECT:HOOK_ID",
            ),
            (
                "zendesk-app:global:12",
                "needs 3",
                "zendesk-app:INSTANCE:INSTALLATION_ID:SETTING",
            ),
            (
                "zendesk-app:Global:12:x",
                "instance",
                "zendesk-app:INSTANCE",
            ),
            (
                "zendesk-webhook:global:a/b",
                "webhook id",
                "zendesk-webhook:INSTANCE:WEBHOOK_ID",
            ),
            (
                "slack:foo",
                "unknown target kind",
                "gitlab-webhook:PROJECT:HOOK_ID",
            ),
            ("", "unknown target kind", "zendesk-app:INSTANCE"),
        ] {
            let err = spec.parse::<TargetSpec>().unwrap_err().to_string();
            assert!(err.contains(reason), "{spec}: {err}");
            assert!(err.contains(form), "{spec}: {err}");
        }
    }

    #[test]
    fn specs_map_to_apply_runbooks() {
        assert_eq!(
            parse("gitlab-group-ci-var:g:K").runbook_id(),
            "gitlab-ci-var"
        );
        assert_eq!(
            parse("zendesk-app:global:1:s").params()[2],
            ("setting", "s".into())
        );
    }
}
