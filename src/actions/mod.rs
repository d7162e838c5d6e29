//! The fixed registry of typed actions a runbook step may name. A runbook cannot make an
//! arbitrary HTTP call: it can only name one of these, with arguments the registry checks, so
//! that every call tokrot makes is known, reviewed and shown by `--dry-run`.

pub mod run;

use std::fmt;

/// Which vendor an action talks to; decides the base URL of its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `{gitlab.url}/api/v4`.
    GitLab,
    /// The runbook's Zendesk instance.
    Zendesk,
    /// tokrot itself (no HTTP call).
    Local,
}

/// The phase of the rotation protocol an action belongs to (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Read-only checks before anything changes.
    Preflight,
    /// The one non-idempotent call that makes the new token.
    Rotate,
    /// Keeping the new token safe in the OS keyring.
    Stash,
    /// Writing the new token into a target.
    Apply,
    /// Checking that the new token and the targets work.
    Verify,
    /// Revoking or deleting the old token.
    Finish,
}

impl Phase {
    /// Lower-case name used in the checklist and the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Preflight => "preflight",
            Phase::Rotate => "rotate",
            Phase::Stash => "stash",
            Phase::Apply => "apply",
            Phase::Verify => "verify",
            Phase::Finish => "finish",
        }
    }
}

/// Where an argument goes in the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A path segment, percent-encoded (`grp%2Fproj`).
    Path,
    /// A query parameter.
    Query,
    /// A field of the request body.
    Body,
    /// A secret that goes into the request body; only a secret value may fill it.
    SecretBody,
    /// A secret used as the call's credential instead of the tool's own.
    Credential,
    /// The user name that goes with a `Credential` (Zendesk's `{email}/token`).
    CredentialUser,
    /// Not sent: a value tokrot checks the answer against (e.g. the setting an app must have).
    Check,
}

impl ArgKind {
    /// Whether this argument takes a secret (and only a secret).
    pub fn is_secret(self) -> bool {
        matches!(self, ArgKind::SecretBody | ArgKind::Credential)
    }
}

/// One argument an action takes.
#[derive(Debug, Clone, Copy)]
pub struct ArgSpec {
    /// Its name in the runbook's `args` table.
    pub name: &'static str,
    /// Where it goes.
    pub kind: ArgKind,
    /// Whether the runbook must give it.
    pub required: bool,
    /// The wire name when it differs from `name` (e.g. `filter[environment_scope]`).
    pub wire: Option<&'static str>,
}

const fn path(name: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::Path,
        required: true,
        wire: None,
    }
}
const fn query(name: &'static str, wire: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::Query,
        required: false,
        wire: Some(wire),
    }
}
const fn body(name: &'static str, required: bool) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::Body,
        required,
        wire: None,
    }
}
const fn check(name: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::Check,
        required: false,
        wire: None,
    }
}
const fn secret_body(name: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::SecretBody,
        required: true,
        wire: None,
    }
}
const fn credential(name: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::Credential,
        required: true,
        wire: None,
    }
}

/// A typed action: one vendor call (or one step of tokrot's own protocol).
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    /// Name a runbook uses, e.g. `gitlab.rotate_personal_token`.
    pub name: &'static str,
    /// What it does, for `tokrot show` and the docs.
    pub summary: &'static str,
    /// Which vendor.
    pub service: Service,
    /// HTTP method, or `""` for a local action.
    pub method: &'static str,
    /// Path below the service's base, with `{arg}` placeholders for path arguments.
    pub path: &'static str,
    /// Protocol phase.
    pub phase: Phase,
    /// Arguments.
    pub args: &'static [ArgSpec],
    /// The secret this action produces, if any (available as `{secret.NAME}` to later steps).
    pub yields: Option<&'static str>,
}

impl ActionSpec {
    /// Looks up an argument.
    pub fn arg(&self, name: &str) -> Option<&'static ArgSpec> {
        self.args.iter().find(|a| a.name == name)
    }

    /// Whether this is one of the two steps that stand for the rotation's targets.
    pub fn is_targets(&self) -> bool {
        self.name == TARGETS_PREFLIGHT || self.name == TARGETS_APPLY
    }
}

impl fmt::Display for ActionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Stands for the targets' read-only checks, placed by a rotate runbook before it changes anything.
pub const TARGETS_PREFLIGHT: &str = "targets.preflight";
/// Stands for writing the new token into every target (`--apply-to`).
pub const TARGETS_APPLY: &str = "targets.apply";

const PROJECT: ArgSpec = path("project");
const GROUP: ArgSpec = path("group");
const TOKEN_ID: ArgSpec = path("token_id");
const EXPIRES_AT: ArgSpec = body("expires_at", true);
const SCOPE_FILTER: ArgSpec = query("environment_scope", "filter[environment_scope]");
const NEW_TOKEN: ArgSpec = credential("token");

/// Every action a runbook may name.
pub static REGISTRY: &[ActionSpec] = &[
    // tokrot's own protocol steps
    ActionSpec {
        name: TARGETS_PREFLIGHT,
        summary: "check every target (--apply-to) before anything changes",
        service: Service::Local,
        method: "",
        path: "",
        phase: Phase::Preflight,
        args: &[],
        yields: None,
    },
    ActionSpec {
        name: "tokrot.stash",
        summary: "keep the new token in the OS keyring until the rotation has finished",
        service: Service::Local,
        method: "",
        path: "",
        phase: Phase::Stash,
        args: &[secret_body("token")],
        yields: None,
    },
    ActionSpec {
        name: TARGETS_APPLY,
        summary: "write the new token into every target (--apply-to) and read it back where the API allows",
        service: Service::Local,
        method: "",
        path: "",
        phase: Phase::Apply,
        args: &[],
        yields: None,
    },
    // GitLab: the caller
    ActionSpec {
        name: "gitlab.current_user",
        summary: "check that the GitLab credential works",
        service: Service::GitLab,
        method: "GET",
        path: "/user",
        phase: Phase::Preflight,
        args: &[],
        yields: None,
    },
    // GitLab: personal access tokens
    ActionSpec {
        name: "gitlab.find_personal_token",
        summary: "find an active personal access token by name",
        service: Service::GitLab,
        method: "GET",
        path: "/personal_access_tokens",
        phase: Phase::Preflight,
        args: &[query("name", "search"), query("state", "state")],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.get_personal_token",
        summary: "check that a personal access token exists and is active",
        service: Service::GitLab,
        method: "GET",
        path: "/personal_access_tokens/{token_id}",
        phase: Phase::Preflight,
        args: &[TOKEN_ID],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.rotate_personal_token",
        summary: "rotate a personal access token (revokes the old one; never retried)",
        service: Service::GitLab,
        method: "POST",
        path: "/personal_access_tokens/{token_id}/rotate",
        phase: Phase::Rotate,
        args: &[TOKEN_ID, EXPIRES_AT],
        yields: Some("token"),
    },
    ActionSpec {
        name: "gitlab.verify_personal_token",
        summary: "check that the new token authenticates",
        service: Service::GitLab,
        method: "GET",
        path: "/personal_access_tokens/self",
        phase: Phase::Verify,
        args: &[NEW_TOKEN],
        yields: None,
    },
    // GitLab: project access tokens
    ActionSpec {
        name: "gitlab.find_project_token",
        summary: "find an active project access token by name",
        service: Service::GitLab,
        method: "GET",
        path: "/projects/{project}/access_tokens",
        phase: Phase::Preflight,
        args: &[PROJECT, query("name", "search"), query("state", "state")],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.get_project_token",
        summary: "check that a project access token exists and is active",
        service: Service::GitLab,
        method: "GET",
        path: "/projects/{project}/access_tokens/{token_id}",
        phase: Phase::Preflight,
        args: &[PROJECT, TOKEN_ID],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.rotate_project_token",
        summary: "rotate a project access token (revokes the old one; never retried)",
        service: Service::GitLab,
        method: "POST",
        path: "/projects/{project}/access_tokens/{token_id}/rotate",
        phase: Phase::Rotate,
        args: &[PROJECT, TOKEN_ID, EXPIRES_AT],
        yields: Some("token"),
    },
    ActionSpec {
        name: "gitlab.create_project_token",
        summary: "create a project access token (its bot user owns what it creates; never retried)",
        service: Service::GitLab,
        method: "POST",
        path: "/projects/{project}/access_tokens",
        phase: Phase::Rotate,
        args: &[
            PROJECT,
            body("name", true),
            body("scopes", true),
            body("access_level", false),
            EXPIRES_AT,
        ],
        yields: Some("bot_token"),
    },
    ActionSpec {
        name: "gitlab.verify_project_token",
        summary: "check that the new project access token authenticates",
        service: Service::GitLab,
        method: "GET",
        path: "/projects/{project}",
        phase: Phase::Verify,
        args: &[PROJECT, NEW_TOKEN],
        yields: None,
    },
    // GitLab: group access tokens
    ActionSpec {
        name: "gitlab.find_group_token",
        summary: "find an active group access token by name",
        service: Service::GitLab,
        method: "GET",
        path: "/groups/{group}/access_tokens",
        phase: Phase::Preflight,
        args: &[GROUP, query("name", "search"), query("state", "state")],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.get_group_token",
        summary: "check that a group access token exists and is active",
        service: Service::GitLab,
        method: "GET",
        path: "/groups/{group}/access_tokens/{token_id}",
        phase: Phase::Preflight,
        args: &[GROUP, TOKEN_ID],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.rotate_group_token",
        summary: "rotate a group access token (revokes the old one; never retried)",
        service: Service::GitLab,
        method: "POST",
        path: "/groups/{group}/access_tokens/{token_id}/rotate",
        phase: Phase::Rotate,
        args: &[GROUP, TOKEN_ID, EXPIRES_AT],
        yields: Some("token"),
    },
    ActionSpec {
        name: "gitlab.verify_group_token",
        summary: "check that the new group access token authenticates",
        service: Service::GitLab,
        method: "GET",
        path: "/groups/{group}",
        phase: Phase::Verify,
        args: &[GROUP, NEW_TOKEN],
        yields: None,
    },
    // GitLab: pipeline triggers
    ActionSpec {
        name: "gitlab.get_trigger",
        summary: "check that the pipeline trigger exists",
        service: Service::GitLab,
        method: "GET",
        path: "/projects/{project}/triggers/{trigger_id}",
        phase: Phase::Preflight,
        args: &[PROJECT, path("trigger_id")],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.create_trigger",
        summary: "create a pipeline trigger token with a description (never retried)",
        service: Service::GitLab,
        method: "POST",
        path: "/projects/{project}/triggers",
        phase: Phase::Rotate,
        args: &[PROJECT, body("description", true)],
        yields: Some("token"),
    },
    ActionSpec {
        name: "gitlab.create_trigger_as",
        summary: "create a pipeline trigger token with another token as the credential (never retried)",
        service: Service::GitLab,
        method: "POST",
        path: "/projects/{project}/triggers",
        phase: Phase::Rotate,
        args: &[PROJECT, body("description", true), credential("as")],
        yields: Some("token"),
    },
    ActionSpec {
        name: "gitlab.delete_trigger",
        summary: "delete the old pipeline trigger",
        service: Service::GitLab,
        method: "DELETE",
        path: "/projects/{project}/triggers/{trigger_id}",
        phase: Phase::Finish,
        args: &[PROJECT, path("trigger_id")],
        yields: None,
    },
    // GitLab: CI/CD variables
    ActionSpec {
        name: "gitlab.get_project_variable",
        summary: "read a project CI/CD variable's flags (protected, masked, raw, scope)",
        service: Service::GitLab,
        method: "GET",
        path: "/projects/{project}/variables/{key}",
        phase: Phase::Preflight,
        args: &[PROJECT, path("key"), SCOPE_FILTER],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.update_project_variable",
        summary: "write the new value into a project CI/CD variable, keeping its flags",
        service: Service::GitLab,
        method: "PUT",
        path: "/projects/{project}/variables/{key}",
        phase: Phase::Apply,
        args: &[PROJECT, path("key"), SCOPE_FILTER, secret_body("value")],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.verify_project_variable",
        summary: "read the project CI/CD variable back and compare (hidden variables: not readable)",
        service: Service::GitLab,
        method: "GET",
        path: "/projects/{project}/variables/{key}",
        phase: Phase::Verify,
        args: &[PROJECT, path("key"), SCOPE_FILTER],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.get_group_variable",
        summary: "read a group CI/CD variable's flags (protected, masked, raw, scope)",
        service: Service::GitLab,
        method: "GET",
        path: "/groups/{group}/variables/{key}",
        phase: Phase::Preflight,
        args: &[GROUP, path("key"), SCOPE_FILTER],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.update_group_variable",
        summary: "write the new value into a group CI/CD variable, keeping its flags",
        service: Service::GitLab,
        method: "PUT",
        path: "/groups/{group}/variables/{key}",
        phase: Phase::Apply,
        args: &[GROUP, path("key"), SCOPE_FILTER, secret_body("value")],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.verify_group_variable",
        summary: "read the group CI/CD variable back and compare (hidden variables: not readable)",
        service: Service::GitLab,
        method: "GET",
        path: "/groups/{group}/variables/{key}",
        phase: Phase::Verify,
        args: &[GROUP, path("key"), SCOPE_FILTER],
        yields: None,
    },
    // GitLab: project webhooks
    ActionSpec {
        name: "gitlab.get_webhook",
        summary: "read a project webhook's URL and settings (its token is never returned)",
        service: Service::GitLab,
        method: "GET",
        path: "/projects/{project}/hooks/{hook_id}",
        phase: Phase::Preflight,
        args: &[PROJECT, path("hook_id")],
        yields: None,
    },
    ActionSpec {
        name: "gitlab.update_webhook_token",
        summary: "set a project webhook's secret token, resending the same URL so that nothing else changes",
        service: Service::GitLab,
        method: "PUT",
        path: "/projects/{project}/hooks/{hook_id}",
        phase: Phase::Apply,
        args: &[PROJECT, path("hook_id"), secret_body("token")],
        yields: None,
    },
    // Zendesk: the caller and API tokens
    ActionSpec {
        name: "zendesk.current_user",
        summary: "check that the Zendesk credential works (an anonymous answer does not count)",
        service: Service::Zendesk,
        method: "GET",
        path: "/api/v2/users/me",
        phase: Phase::Preflight,
        args: &[],
        yields: None,
    },
    ActionSpec {
        name: "zendesk.verify_api_token",
        summary: "check that the new API token authenticates as the given user (an anonymous answer does not count)",
        service: Service::Zendesk,
        method: "GET",
        path: "/api/v2/users/me",
        phase: Phase::Verify,
        args: &[
            ArgSpec {
                name: "email",
                kind: ArgKind::CredentialUser,
                required: true,
                wire: None,
            },
            NEW_TOKEN,
        ],
        yields: None,
    },
    // Zendesk: app installations
    ActionSpec {
        name: "zendesk.get_installation",
        summary: "read an app installation and the settings it shows",
        service: Service::Zendesk,
        method: "GET",
        path: "/api/v2/apps/installations/{installation_id}.json",
        phase: Phase::Preflight,
        args: &[path("installation_id"), check("setting")],
        yields: None,
    },
    ActionSpec {
        name: "zendesk.update_installation_setting",
        summary: "write one setting of an app installation and nothing else",
        service: Service::Zendesk,
        method: "PUT",
        path: "/api/v2/apps/installations/{installation_id}.json",
        phase: Phase::Apply,
        args: &[
            path("installation_id"),
            body("setting", true),
            secret_body("value"),
        ],
        yields: None,
    },
    // Zendesk: webhooks
    ActionSpec {
        name: "zendesk.get_webhook",
        summary: "read a webhook and find where its token lives (endpoint URL or authentication)",
        service: Service::Zendesk,
        method: "GET",
        path: "/api/v2/webhooks/{webhook_id}",
        phase: Phase::Preflight,
        args: &[path("webhook_id"), check("username"), check("header_name")],
        yields: None,
    },
    ActionSpec {
        name: "zendesk.patch_webhook_token",
        summary: "replace the webhook's token (in its endpoint URL, or its credential with the type kept) and nothing else",
        service: Service::Zendesk,
        method: "PATCH",
        path: "/api/v2/webhooks/{webhook_id}",
        phase: Phase::Apply,
        args: &[
            path("webhook_id"),
            body("username", false),
            body("header_name", false),
            secret_body("token"),
        ],
        yields: None,
    },
    // Zendesk: OAuth
    ActionSpec {
        name: "zendesk.list_oauth_tokens",
        summary: "list the OAuth client's tokens (values cut to 10 characters)",
        service: Service::Zendesk,
        method: "GET",
        path: "/api/v2/oauth/tokens",
        phase: Phase::Preflight,
        args: &[query("client_id", "client_id"), check("old_token_id")],
        yields: None,
    },
    ActionSpec {
        name: "zendesk.create_oauth_token",
        summary: "create an OAuth access token for a client with the given scopes (never retried)",
        service: Service::Zendesk,
        method: "POST",
        path: "/api/v2/oauth/tokens",
        phase: Phase::Rotate,
        args: &[body("client_id", true), body("scopes", true)],
        yields: Some("token"),
    },
    ActionSpec {
        name: "zendesk.verify_oauth_token",
        summary: "check that the new OAuth token authenticates and has the requested scopes",
        service: Service::Zendesk,
        method: "GET",
        path: "/api/v2/oauth/tokens/current.json",
        phase: Phase::Verify,
        args: &[NEW_TOKEN],
        yields: None,
    },
    ActionSpec {
        name: "zendesk.revoke_oauth_token",
        summary: "revoke the old OAuth token",
        service: Service::Zendesk,
        method: "DELETE",
        path: "/api/v2/oauth/tokens/{old_token_id}",
        phase: Phase::Finish,
        args: &[path("old_token_id")],
        yields: None,
    },
];

/// Looks up an action by name.
pub fn lookup(name: &str) -> Option<&'static ActionSpec> {
    REGISTRY.iter().find(|a| a.name == name)
}

/// The action names closest to `name`, for "did you mean" hints.
pub fn suggest(name: &str) -> Vec<&'static str> {
    let mut scored: Vec<(usize, &'static str)> = REGISTRY
        .iter()
        .map(|a| (crate::text::edit_distance(name, a.name), a.name))
        .filter(|(d, _)| *d <= 6)
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_namespaced() {
        let mut seen = HashSet::new();
        for a in REGISTRY {
            assert!(seen.insert(a.name), "duplicate action {}", a.name);
            let ns = a.name.split('.').next().unwrap();
            let expected = match a.service {
                Service::GitLab => "gitlab",
                Service::Zendesk => "zendesk",
                Service::Local => {
                    assert!(ns == "targets" || ns == "tokrot", "{}", a.name);
                    continue;
                }
            };
            assert_eq!(ns, expected, "{}", a.name);
        }
    }

    #[test]
    fn every_path_placeholder_is_a_path_argument() {
        for a in REGISTRY {
            let mut rest = a.path;
            while let Some(start) = rest.find('{') {
                let end = rest[start..].find('}').unwrap() + start;
                let name = &rest[start + 1..end];
                let arg = a
                    .arg(name)
                    .unwrap_or_else(|| panic!("{}: no arg {name}", a.name));
                assert_eq!(arg.kind, ArgKind::Path, "{}: {name}", a.name);
                rest = &rest[end + 1..];
            }
            for arg in a.args.iter().filter(|g| g.kind == ArgKind::Path) {
                assert!(
                    a.path.contains(&format!("{{{}}}", arg.name)),
                    "{}: {}",
                    a.name,
                    arg.name
                );
            }
        }
    }

    #[test]
    fn only_rotate_actions_yield_secrets_and_none_is_idempotent() {
        for a in REGISTRY {
            if a.yields.is_some() {
                assert_eq!(a.phase, Phase::Rotate, "{}", a.name);
                assert_eq!(a.method, "POST", "{}", a.name);
            }
        }
    }

    #[test]
    fn suggestions_find_near_misses() {
        assert_eq!(
            suggest("gitlab.rotate_personal_tokn")[0],
            "gitlab.rotate_personal_token"
        );
        assert!(suggest("completely.different.thing.here").is_empty());
    }
}
