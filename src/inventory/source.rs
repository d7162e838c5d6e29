//! Kinds of token: what each rotate runbook makes, as one `SourceKind` in `KINDS`. The new
//! token's form (checked against masked variables before the one-shot call), where the token
//! lives, the parameter that names it and that a rotation rewrites in the inventory, the
//! parameters that name it for its lock, the lists its parameters are picked from, how `status`
//! reads it and whether its rotation is a call on the old token all read this table, so a kind
//! of token is one entry here (and its runbook). A team's own rotate runbook (`--runbooks`) has
//! no entry: every use says what it cannot know for it.

use crate::actions::token_format::{self, TokenFormat};

/// Where a kind of token lives: the caller's user, or the project, group or Zendesk instance
/// its parameter of that name gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// The caller's GitLab user (a personal access token).
    User,
    /// A GitLab project (`project`).
    Project,
    /// A GitLab group (`group`).
    Group,
    /// A Zendesk instance (`instance`).
    Instance,
}

/// A list a parameter is picked from on a terminal (of a kind of token, or of consumer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The caller's personal access tokens.
    PersonalTokens,
    /// The project's or group's access tokens.
    ResourceTokens,
    /// The project's pipeline triggers.
    Triggers,
    /// The instance's OAuth clients.
    OAuthClients,
    /// The instance's webhooks.
    Webhooks,
    /// The project's or group's CI/CD variables.
    Variables,
    /// The project's webhooks.
    ProjectHooks,
    /// The instance's app installations.
    Installations,
}

/// How `status` reads a token of this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// A personal access token, by `token_id` or `token_name`.
    PersonalToken,
    /// A project or group access token, by `token_id` or `token_name`.
    ResourceToken,
    /// A pipeline trigger, by the id parameter.
    Trigger,
    /// An OAuth token among its client's.
    OAuth,
    /// A Zendesk API token: they all stop on one day.
    ApiToken,
    /// A webhook signing secret: it does not expire; its webhook must exist.
    WebhookSecret,
}

/// A kind of token.
#[derive(Debug, PartialEq, Eq)]
pub struct SourceKind {
    /// The rotate runbook that makes it.
    pub runbook: &'static str,
    /// The new token's form.
    pub format: &'static TokenFormat,
    /// Where it lives.
    pub home: Home,
    /// The parameter that names the token by its vendor id, which a rotation that makes a new
    /// id rewrites in the inventory (`None`: the token keeps its name).
    pub id_param: Option<&'static str>,
    /// The parameters that name the token, for its lock (with the runbook and the origin).
    pub lock_params: &'static [&'static str],
    /// The parameters picked from a list on a terminal, and the list.
    pub picks: &'static [(&'static str, Pick)],
    /// How `status` reads it.
    pub reader: Reader,
    /// Whether its rotation is a call on the old token (GitLab refuses an expired one).
    pub rotated_in_place: bool,
}

/// Every kind of token, in the order `rotate --help` lists them.
pub const KINDS: &[&SourceKind] = &[
    &ZENDESK_API,
    &ZENDESK_OAUTH,
    &ZENDESK_WEBHOOK_SECRET,
    &GITLAB_PAT,
    &GITLAB_PROJECT_TOKEN,
    &GITLAB_GROUP_TOKEN,
    &GITLAB_TRIGGER,
    &GITLAB_TRIGGER_BOT,
];

/// The kind a rotate runbook makes; `None` for a runbook tokrot does not know.
pub fn of(runbook: &str) -> Option<&'static SourceKind> {
    KINDS.iter().copied().find(|k| k.runbook == runbook)
}

/// A Zendesk API token, made by hand and pasted.
pub const ZENDESK_API: SourceKind = SourceKind {
    runbook: "zendesk-api",
    format: &token_format::ZENDESK_API,
    home: Home::Instance,
    id_param: None,
    lock_params: &[],
    picks: &[],
    reader: Reader::ApiToken,
    rotated_in_place: false,
};

/// A Zendesk OAuth access token.
pub const ZENDESK_OAUTH: SourceKind = SourceKind {
    runbook: "zendesk-oauth",
    format: &token_format::ZENDESK_OAUTH,
    home: Home::Instance,
    id_param: Some("old_token_id"),
    lock_params: &["client_id"],
    picks: &[("client_id", Pick::OAuthClients)],
    reader: Reader::OAuth,
    rotated_in_place: false,
};

/// A Zendesk webhook's signing secret.
pub const ZENDESK_WEBHOOK_SECRET: SourceKind = SourceKind {
    runbook: "zendesk-webhook-secret",
    format: &token_format::ZENDESK_SIGNING,
    home: Home::Instance,
    id_param: None,
    lock_params: &["webhook_id"],
    picks: &[("webhook_id", Pick::Webhooks)],
    reader: Reader::WebhookSecret,
    rotated_in_place: false,
};

/// A GitLab personal access token.
pub const GITLAB_PAT: SourceKind = SourceKind {
    runbook: "gitlab-pat",
    format: &token_format::GITLAB_ACCESS,
    home: Home::User,
    id_param: Some("token_id"),
    lock_params: &["token_id", "token_name"],
    picks: &[
        ("token_id", Pick::PersonalTokens),
        ("token_name", Pick::PersonalTokens),
    ],
    reader: Reader::PersonalToken,
    rotated_in_place: true,
};

/// A GitLab project access token.
pub const GITLAB_PROJECT_TOKEN: SourceKind = SourceKind {
    runbook: "gitlab-project-token",
    format: &token_format::GITLAB_ACCESS,
    home: Home::Project,
    id_param: Some("token_id"),
    lock_params: &["project", "token_id", "token_name"],
    picks: &[
        ("token_id", Pick::ResourceTokens),
        ("token_name", Pick::ResourceTokens),
    ],
    reader: Reader::ResourceToken,
    rotated_in_place: true,
};

/// A GitLab group access token.
pub const GITLAB_GROUP_TOKEN: SourceKind = SourceKind {
    runbook: "gitlab-group-token",
    format: &token_format::GITLAB_ACCESS,
    home: Home::Group,
    id_param: Some("token_id"),
    lock_params: &["group", "token_id", "token_name"],
    picks: &[
        ("token_id", Pick::ResourceTokens),
        ("token_name", Pick::ResourceTokens),
    ],
    reader: Reader::ResourceToken,
    rotated_in_place: true,
};

/// A GitLab pipeline trigger token (as a regular user).
pub const GITLAB_TRIGGER: SourceKind = SourceKind {
    runbook: "gitlab-trigger",
    format: &token_format::GITLAB_TRIGGER,
    home: Home::Project,
    id_param: Some("trigger_id"),
    lock_params: &["project", "trigger_id"],
    picks: &[("trigger_id", Pick::Triggers)],
    reader: Reader::Trigger,
    rotated_in_place: false,
};

/// A GitLab pipeline trigger token owned by a project's service bot.
pub const GITLAB_TRIGGER_BOT: SourceKind = SourceKind {
    runbook: "gitlab-trigger-bot",
    format: &token_format::GITLAB_TRIGGER,
    home: Home::Project,
    id_param: Some("old_trigger_id"),
    lock_params: &["project"],
    picks: &[("old_trigger_id", Pick::Triggers)],
    reader: Reader::Trigger,
    rotated_in_place: false,
};

impl SourceKind {
    /// The parameter that gives its home (`project`, `group`, `instance`); `None` for a user's.
    pub fn home_param(&self) -> Option<&'static str> {
        match self.home {
            Home::User => None,
            Home::Project => Some("project"),
            Home::Group => Some("group"),
            Home::Instance => Some("instance"),
        }
    }

    /// The list `param` is picked from, if any.
    pub fn pick(&self, param: &str) -> Option<Pick> {
        self.picks
            .iter()
            .find(|(p, _)| *p == param)
            .map(|(_, l)| *l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::gitlab::maskable;
    use secrecy::SecretString;

    #[test]
    fn every_kind_has_its_embedded_rotate_runbook_and_its_parameters() {
        let catalogue = crate::runbook::Catalogue::load(None).unwrap();
        for kind in KINDS {
            let rb = catalogue
                .get(kind.runbook)
                .unwrap_or_else(|| panic!("no runbook {}", kind.runbook));
            let has = |p: &str| rb.params.iter().any(|x| x.name == p);
            for p in kind
                .lock_params
                .iter()
                .chain(kind.id_param.iter())
                .chain(kind.picks.iter().map(|(p, _)| p))
                .chain(kind.home_param().iter())
            {
                assert!(has(p), "{}: no parameter {p}", kind.runbook);
            }
        }
        assert_eq!(of("my-own"), None);
    }

    #[test]
    fn every_form_fits_a_masked_variable() {
        for kind in KINDS {
            assert_eq!(
                maskable(&SecretString::from(kind.format.sample), false),
                Ok(()),
                "{}",
                kind.runbook
            );
        }
    }
}
