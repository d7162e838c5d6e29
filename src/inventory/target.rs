//! `--apply-to` specs: where a rotation puts its new token. A kind of consumer is one
//! `TargetKind` in `KINDS`: its spec's form, the apply runbook that carries it out and the
//! parameters each part of the spec fills, and how it is described. Parsing, printing, the
//! inventory's comparison of two specs and the way back from an apply runbook's parameters all
//! read the descriptor, so a new kind of consumer is one entry here (and its runbook).

use std::fmt;
use std::str::FromStr;

use super::source::Pick;
use crate::config::is_cli_id;
use crate::runbook::validate::check_namespace_path;

/// What one part of a spec is, and so how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A GitLab project, by id or path (compared without case).
    Project,
    /// A GitLab group, by id or path (compared without case).
    Group,
    /// A Zendesk instance id.
    Instance,
    /// A numeric id (what it is, for the error).
    Number(&'static str),
    /// A CI/CD variable's `KEY[@SCOPE]`: fills `key` and `environment_scope` (default `*`).
    KeyScope,
    /// A CI/CD variable's key alone (an instance variable has no scope).
    Key,
    /// A Zendesk webhook id (letters and digits).
    WebhookId,
    /// Free text (an app setting's name).
    Text,
}

/// A kind of consumer.
#[derive(Debug, PartialEq, Eq)]
pub struct TargetKind {
    /// The spec's first word: `gitlab-ci-var`.
    pub name: &'static str,
    /// The spec's form, shown in help and in every error about it.
    pub form: &'static str,
    /// What it is, for help.
    pub summary: &'static str,
    /// The vendor it lives at: `gitlab` or `zendesk`.
    pub service: &'static str,
    /// The apply runbook that carries it out.
    pub runbook: &'static str,
    /// Each part of the spec after the kind: the runbook parameter it fills, and what it is.
    pub parts: &'static [(&'static str, Part)],
    /// One line for the operator, `{param}` filled from the spec.
    pub describe: &'static str,
    /// The apply runbook's parameters picked from a list on a terminal, and the list.
    pub picks: &'static [(&'static str, Pick)],
}

/// Every kind of consumer, in the order help lists them.
pub const KINDS: &[&TargetKind] = &[
    &GITLAB_CI_VAR,
    &GITLAB_GROUP_CI_VAR,
    &GITLAB_INSTANCE_VAR,
    &GITLAB_WEBHOOK,
    &GITLAB_GROUP_WEBHOOK,
    &ZENDESK_APP,
    &ZENDESK_WEBHOOK,
];

/// A project CI/CD variable.
pub const GITLAB_CI_VAR: TargetKind = TargetKind {
    name: "gitlab-ci-var",
    form: "gitlab-ci-var:PROJECT:KEY[@SCOPE]",
    summary: "project CI/CD variable (SCOPE: environment scope, default *)",
    service: "gitlab",
    runbook: "gitlab-ci-var",
    parts: &[("project", Part::Project), ("key", Part::KeyScope)],
    describe: "CI/CD variable {key} of project {project} (scope {environment_scope})",
    picks: &[("key", Pick::Variables)],
};

/// A group CI/CD variable.
pub const GITLAB_GROUP_CI_VAR: TargetKind = TargetKind {
    name: "gitlab-group-ci-var",
    form: "gitlab-group-ci-var:GROUP:KEY[@SCOPE]",
    summary: "group CI/CD variable",
    service: "gitlab",
    runbook: "gitlab-ci-var",
    parts: &[("group", Part::Group), ("key", Part::KeyScope)],
    describe: "CI/CD variable {key} of group {group} (scope {environment_scope})",
    picks: &[("key", Pick::Variables)],
};

/// An instance-level CI/CD variable (self-managed GitLab, administrators).
pub const GITLAB_INSTANCE_VAR: TargetKind = TargetKind {
    name: "gitlab-instance-var",
    form: "gitlab-instance-var:KEY",
    summary: "instance-level CI/CD variable (administrators, self-managed)",
    service: "gitlab",
    runbook: "gitlab-instance-var",
    parts: &[("key", Part::Key)],
    describe: "instance CI/CD variable {key}",
    picks: &[],
};

/// A project webhook's secret token.
pub const GITLAB_WEBHOOK: TargetKind = TargetKind {
    name: "gitlab-webhook",
    form: "gitlab-webhook:PROJECT:HOOK_ID",
    summary: "project webhook secret token",
    service: "gitlab",
    runbook: "gitlab-webhook",
    parts: &[
        ("project", Part::Project),
        ("hook_id", Part::Number("hook id")),
    ],
    describe: "secret token of webhook {hook_id} of project {project}",
    picks: &[("hook_id", Pick::ProjectHooks)],
};

/// A group webhook's secret token (GitLab Premium).
pub const GITLAB_GROUP_WEBHOOK: TargetKind = TargetKind {
    name: "gitlab-group-webhook",
    form: "gitlab-group-webhook:GROUP:HOOK_ID",
    summary: "group webhook secret token (Premium)",
    service: "gitlab",
    runbook: "gitlab-webhook",
    parts: &[("group", Part::Group), ("hook_id", Part::Number("hook id"))],
    describe: "secret token of webhook {hook_id} of group {group}",
    picks: &[],
};

/// One setting of a Zendesk app installation.
pub const ZENDESK_APP: TargetKind = TargetKind {
    name: "zendesk-app",
    form: "zendesk-app:INSTANCE:INSTALLATION_ID:SETTING",
    summary: "one setting of a Zendesk app installation",
    service: "zendesk",
    runbook: "zendesk-app",
    parts: &[
        ("instance", Part::Instance),
        ("installation_id", Part::Number("installation id")),
        ("setting", Part::Text),
    ],
    describe: "setting `{setting}` of app installation {installation_id} on {instance}",
    picks: &[("installation_id", Pick::Installations)],
};

/// A Zendesk webhook: the token in its endpoint URL, or its credential.
pub const ZENDESK_WEBHOOK: TargetKind = TargetKind {
    name: "zendesk-webhook",
    form: "zendesk-webhook:INSTANCE:WEBHOOK_ID",
    summary: "Zendesk webhook (token in its endpoint URL, or its credential)",
    service: "zendesk",
    runbook: "zendesk-webhook",
    parts: &[
        ("instance", Part::Instance),
        ("webhook_id", Part::WebhookId),
    ],
    describe: "webhook {webhook_id} on {instance}",
    picks: &[("webhook_id", Pick::Webhooks)],
};

/// The forms a spec can take, shown whenever one is wrong: each kind's form and summary.
pub fn spec_forms() -> impl Iterator<Item = (&'static str, &'static str)> {
    KINDS.iter().map(|k| (k.form, k.summary))
}

/// A target of a rotation: a kind and the runbook parameters its spec fills, in the kind's
/// order (a `KEY[@SCOPE]` part fills two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    kind: &'static TargetKind,
    values: Vec<(&'static str, String)>,
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

/// The parameter a `KEY[@SCOPE]` part fills besides `key`.
const SCOPE: &str = "environment_scope";

impl TargetSpec {
    /// A target of `kind` from its parameters (each of the kind's, a scope `*` when left
    /// out); `None` when one is missing. Values are taken as they are (a vendor named them).
    /// Each part is checked and written as `--apply-to` would take it (a number without
    /// leading zeros); `None` when one is missing or is not what its part must be (a key with
    /// a `-`, a setting with a `:`, an empty scope), so that every spec made prints as one that
    /// parses.
    pub fn new(kind: &'static TargetKind, value: &dyn Fn(&str) -> Option<String>) -> Option<Self> {
        let parser = SpecParser {
            spec: kind.name,
            form: kind.form,
        };
        let mut values = Vec::new();
        for (param, part) in kind.parts {
            let given = value(param)?;
            if given.is_empty() || given.contains(':') {
                return None;
            }
            match part {
                Part::KeyScope => {
                    let scope = value(SCOPE).unwrap_or_else(|| "*".to_owned());
                    if scope.contains(':') {
                        return None;
                    }
                    let (key, scope) = parser.key_scope(&format!("{given}@{scope}")).ok()?;
                    values.push((*param, key));
                    values.push((SCOPE, scope));
                }
                _ => values.push((*param, parser.part(*part, &given).ok()?)),
            }
        }
        Some(Self { kind, values })
    }

    /// A target of `kind` from `(parameter, value)` pairs (a vendor's names for it); `None` as
    /// for `new`.
    pub fn from_pairs(kind: &'static TargetKind, pairs: &[(&str, &str)]) -> Option<Self> {
        Self::new(kind, &|p| {
            pairs
                .iter()
                .find(|(k, _)| *k == p)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    /// Its kind.
    pub fn kind(&self) -> &'static TargetKind {
        self.kind
    }

    /// A parameter's value, if the kind has it.
    pub fn value(&self, param: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(p, _)| *p == param)
            .map(|(_, v)| v.as_str())
    }

    /// The vendor the target lives at: `gitlab` or `zendesk`.
    pub fn service(&self) -> &'static str {
        self.kind.service
    }

    /// The Zendesk instance of a Zendesk target.
    pub fn instance(&self) -> Option<&str> {
        self.part_value(Part::Instance)
    }

    /// The GitLab project of a project's target.
    pub fn project(&self) -> Option<&str> {
        self.part_value(Part::Project)
    }

    /// The GitLab group of a group's target.
    pub fn group(&self) -> Option<&str> {
        self.part_value(Part::Group)
    }

    fn part_value(&self, want: Part) -> Option<&str> {
        let (param, _) = self.kind.parts.iter().find(|(_, p)| *p == want)?;
        self.value(param)
    }

    /// The apply runbook that carries this target out.
    pub fn runbook_id(&self) -> &'static str {
        self.kind.runbook
    }

    /// The apply runbook's parameters this spec fills.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        self.values.clone()
    }

    /// The target an apply runbook's parameters name (the inverse of `params`), once they are
    /// all known; `None` for another runbook. Of the kinds the runbook carries out, the one
    /// whose first part's parameter is given (`group` rather than `project`).
    pub fn of_apply(runbook: &str, value: &dyn Fn(&str) -> Option<String>) -> Option<Self> {
        let kind = KINDS
            .iter()
            .filter(|k| k.runbook == runbook)
            .find(|k| k.parts.first().is_none_or(|(p, _)| value(p).is_some()))?;
        Self::new(kind, value)
    }

    /// One line for the operator.
    pub fn describe(&self) -> String {
        let mut out = self.kind.describe.to_owned();
        for (param, value) in &self.values {
            out = out.replace(&format!("{{{param}}}"), value);
        }
        out
    }

    /// What two specs of one consumer share: GitLab paths compared without case (GitLab finds
    /// `Support/ZD-Sync` and `support/zd-sync` alike), a scope always written out; keys, ids
    /// and settings as written.
    pub fn identity(&self) -> String {
        let mut out = self.kind.name.to_owned();
        for (param, part) in self.kind.parts {
            let value = self.value(param).unwrap_or_default();
            out.push(':');
            match part {
                Part::Project | Part::Group => out.push_str(&value.to_lowercase()),
                Part::KeyScope => {
                    let scope = self.value(SCOPE).unwrap_or("*");
                    out.push_str(&format!("{value}@{scope}"));
                }
                _ => out.push_str(value),
            }
        }
        out
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind.name)?;
        for (param, part) in self.kind.parts {
            write!(f, ":{}", self.value(param).unwrap_or_default())?;
            if *part == Part::KeyScope {
                match self.value(SCOPE) {
                    Some(scope) if scope != "*" => write!(f, "@{scope}")?,
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

impl FromStr for TargetSpec {
    type Err = TargetSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (name, rest) = spec.split_once(':').unwrap_or((spec, ""));
        let Some(kind) = KINDS.iter().find(|k| k.name == name) else {
            return Err(unknown_kind(spec, name));
        };
        let parser = SpecParser {
            spec,
            form: kind.form,
        };
        let parts: Vec<&str> = rest.split(':').collect();
        let want = kind.parts.len();
        if parts.len() != want || parts.iter().any(|p| p.is_empty()) {
            return Err(parser.fail(format!(
                "needs {want} non-empty part(s) after `{name}:`, separated by `:`"
            )));
        }
        let mut values = Vec::new();
        for ((param, part), given) in kind.parts.iter().zip(parts) {
            match part {
                Part::KeyScope => {
                    let (key, scope) = parser.key_scope(given)?;
                    values.push((*param, key));
                    values.push((SCOPE, scope));
                }
                _ => values.push((*param, parser.part(*part, given)?)),
            }
        }
        Ok(TargetSpec { kind, values })
    }
}

/// The error for a spec whose kind is none of `KINDS`: it lists them all.
fn unknown_kind(spec: &str, kind: &str) -> TargetSpecError {
    TargetSpecError {
        spec: spec.to_owned(),
        reason: format!("unknown target kind `{kind}`"),
        expected: format!(
            "one of:\n{}",
            spec_forms()
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
    /// The form of its kind.
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

    /// One non-empty part, checked as what it is.
    fn part(&self, part: Part, value: &str) -> Result<String, TargetSpecError> {
        match part {
            Part::Project => self.namespace(value, "project"),
            Part::Group => self.namespace(value, "group"),
            Part::Instance => self.instance(value),
            Part::Number(what) => self.number(value, what),
            Part::Key | Part::KeyScope => self.key(value),
            Part::WebhookId => {
                if value.chars().all(|c| c.is_ascii_alphanumeric()) {
                    Ok(value.to_owned())
                } else {
                    Err(self.fail(format!(
                        "webhook id `{value}` must be letters and digits, e.g. 01EJFTSCC78X5V07NPY2MHR00M"
                    )))
                }
            }
            Part::Text => Ok(value.to_owned()),
        }
    }

    /// A GitLab project or group.
    fn namespace(&self, value: &str, what: &str) -> Result<String, TargetSpecError> {
        check_namespace_path(value).map_err(|e| self.fail(format!("{what} `{value}` {e}")))?;
        Ok(value.to_owned())
    }

    /// A numeric id.
    fn number(&self, value: &str, what: &str) -> Result<String, TargetSpecError> {
        value
            .parse::<u64>()
            .map(|n| n.to_string())
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

    /// A CI/CD variable's key.
    fn key(&self, key: &str) -> Result<String, TargetSpecError> {
        let key_ok = !key.is_empty()
            && key.len() <= 255
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !key_ok {
            return Err(self.fail(format!(
                "variable key `{key}` must be 1 to 255 letters, digits and underscores"
            )));
        }
        Ok(key.to_owned())
    }

    /// A CI/CD variable's `KEY[@SCOPE]`, the scope `*` when not given.
    fn key_scope(&self, value: &str) -> Result<(String, String), TargetSpecError> {
        let (key, scope) = match value.split_once('@') {
            Some((k, s)) if !s.is_empty() => (k, s),
            Some(_) => return Err(self.fail("the environment scope after `@` is empty".into())),
            None => (value, "*"),
        };
        Ok((self.key(key)?, scope.to_owned()))
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
            "gitlab-group-webhook:grp/sub:8",
            "gitlab-instance-var:RELAY_SECRET",
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
        let star = parse("gitlab-ci-var:grp/proj:K@*");
        assert_eq!(star.to_string(), "gitlab-ci-var:grp/proj:K");
        assert_eq!(star.value("environment_scope"), Some("*"));
        assert_eq!(star.project(), Some("grp/proj"));
        // Every kind's form starts with its name and has one placeholder a part.
        for kind in KINDS {
            assert!(
                kind.form.starts_with(&format!("{}:", kind.name)),
                "{}",
                kind.name
            );
            assert_eq!(
                kind.form.split(':').count(),
                kind.parts.len() + 1,
                "{}",
                kind.name
            );
        }
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
                "gitlab-instance-var:A@b",
                "variable key",
                "gitlab-instance-var:KEY",
            ),
            (
                "gitlab-group-webhook:g:x",
                "must be a number",
                "gitlab-group-webhook:GROUP:HOOK_ID",
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

    /// The JSON schema's pattern for a spec names every kind: a document with a new kind is
    /// still one of the schema.
    #[test]
    fn the_schema_knows_every_kind() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../schema/tokrot.schema.json")).unwrap();
        let pattern = schema["$defs"]["targetSpec"]["pattern"].as_str().unwrap();
        for kind in KINDS {
            assert!(
                pattern.contains(&format!("|{}|", kind.name))
                    || pattern.contains(&format!("({}|", kind.name))
                    || pattern.contains(&format!("|{})", kind.name)),
                "{} is not in {pattern}",
                kind.name
            );
        }
    }

    #[test]
    fn a_spec_made_from_values_parses_back_or_is_not_made() {
        let made = |kind: &'static TargetKind, pairs: &[(&str, &str)]| {
            TargetSpec::from_pairs(kind, pairs).map(|t| t.to_string())
        };
        assert_eq!(
            made(&GITLAB_WEBHOOK, &[("project", "g/p"), ("hook_id", "007")]).as_deref(),
            Some("gitlab-webhook:g/p:7")
        );
        assert_eq!(made(&GITLAB_INSTANCE_VAR, &[("key", "MY-KEY")]), None);
        assert_eq!(
            made(
                &ZENDESK_APP,
                &[
                    ("instance", "global"),
                    ("installation_id", "1"),
                    ("setting", "a:b")
                ]
            ),
            None
        );
        assert_eq!(made(&GITLAB_WEBHOOK, &[("project", "g/p")]), None);
        assert_eq!(
            made(
                &GITLAB_CI_VAR,
                &[("project", "g/p"), ("key", "K"), ("environment_scope", "")]
            ),
            None
        );
        for spec in [
            "gitlab-ci-var:g/p:K@prod",
            "zendesk-app:global:3:api_token",
            "gitlab-group-webhook:g:4",
        ] {
            let t = parse(spec);
            let params = t.params();
            let again = TargetSpec::new(t.kind(), &|p| {
                params.iter().find(|(k, _)| *k == p).map(|(_, v)| v.clone())
            });
            assert_eq!(again.map(|a| a.to_string()).as_deref(), Some(spec));
        }
    }

    #[test]
    fn specs_map_to_apply_runbooks() {
        assert_eq!(
            parse("gitlab-group-ci-var:g:K").runbook_id(),
            "gitlab-ci-var"
        );
        assert_eq!(
            parse("gitlab-group-webhook:g:3").runbook_id(),
            "gitlab-webhook"
        );
        assert_eq!(
            parse("zendesk-app:global:1:s").params()[2],
            ("setting", "s".into())
        );
        // Paths are one consumer whatever their case; a scope is always part of it.
        assert_eq!(
            parse("gitlab-ci-var:Support/ZD:K").identity(),
            parse("gitlab-ci-var:support/zd:K@*").identity()
        );
    }
}
