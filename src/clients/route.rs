//! One description of each endpoint tokrot calls: its method, its path, with `{name}` for
//! each path segment a value fills, and the query parameters an action gives it (paging is the
//! transport's). The same value builds the real request (the functions of
//! `gitlab` and `zendesk`) and the line a dry run shows (through the action registry), so the
//! two cannot drift. Paths are below the client's base: `{gitlab}/api/v4` for GitLab, the
//! instance's URL for Zendesk.

use reqwest::Method;

use super::encode_segment;

/// An HTTP method tokrot sends. There is no other, so none can fall through to another (an
/// unknown method read as a GET would turn a write into a read, or the reverse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `GET`: reads.
    Get,
    /// `POST`: creates (one-shot: never sent twice).
    Post,
    /// `PUT`: replaces.
    Put,
    /// `PATCH`: changes part.
    Patch,
    /// `DELETE`: removes.
    Delete,
}

impl Verb {
    /// As it is written in a request line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }

    /// As reqwest sends it.
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Put => Method::PUT,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
        }
    }
}

/// A query parameter an endpoint takes: the name an action gives its value, and its name on
/// the wire. The request and the dry-run line both read the wire name from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// The action's argument.
    pub param: &'static str,
    /// As sent (`filter[environment_scope]`).
    pub wire: &'static str,
}

impl Query {
    const fn new(param: &'static str, wire: &'static str) -> Self {
        Self { param, wire }
    }
}

/// An endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The method.
    pub verb: Verb,
    /// The path below the base, with `{name}` placeholders.
    pub path: &'static str,
    /// The query parameters an action may give it.
    pub query: &'static [Query],
}

impl Route {
    const fn new(verb: Verb, path: &'static str) -> Self {
        Self {
            verb,
            path,
            query: &[],
        }
    }

    const fn with_query(self, query: &'static [Query]) -> Self {
        Self { query, ..self }
    }

    /// The query parameter an action's argument `param` is sent as, if the endpoint takes it.
    pub fn takes(&self, param: &str) -> Option<&'static Query> {
        self.query.iter().find(|q| q.param == param)
    }

    /// The HTTP method.
    pub fn method(&self) -> Method {
        self.verb.method()
    }

    /// The names of the placeholders, in order.
    pub fn params(&self) -> impl Iterator<Item = &'static str> {
        let path = self.path;
        path.match_indices('{').filter_map(move |(start, _)| {
            let end = path[start..].find('}')? + start;
            Some(&path[start + 1..end])
        })
    }

    /// The path with each placeholder filled by `render(name)`: the request fills in the
    /// values percent-encoded (`fill`), a dry run what it knows.
    pub fn render(&self, mut value: impl FnMut(&str) -> String) -> String {
        let mut out = String::new();
        let mut rest = self.path;
        while let Some(start) = rest.find('{') {
            let Some(end) = rest[start..].find('}').map(|e| start + e) else {
                break;
            };
            out.push_str(&rest[..start]);
            out.push_str(&value(&rest[start + 1..end]));
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// The path with each placeholder filled from `args`, each value percent-encoded as one
    /// segment (`grp/proj` → `grp%2Fproj`).
    pub fn fill(&self, args: &[(&str, &str)]) -> String {
        self.render(|name| {
            args.iter()
                .find(|(n, _)| *n == name)
                .map_or_else(|| format!("{{{name}}}"), |(_, v)| encode_segment(v))
        })
    }
}

/// GitLab's endpoints (REST API v4).
pub mod gitlab {
    use super::{Query, Route, Verb};

    /// A token list's filter by name.
    pub const SEARCH: Query = Query::new("name", "search");
    /// A token list's filter by state (`active`, `inactive`).
    pub const STATE: Query = Query::new("state", "state");
    /// A variable's environment scope, where one key has several.
    pub const SCOPE: Query = Query::new("environment_scope", "filter[environment_scope]");

    /// The caller.
    pub const USER: Route = Route::new(Verb::Get, "/user");
    /// Personal access tokens of the caller.
    pub const PERSONAL_TOKENS: Route =
        Route::new(Verb::Get, "/personal_access_tokens").with_query(&[SEARCH, STATE]);
    /// One personal access token.
    pub const PERSONAL_TOKEN: Route = Route::new(Verb::Get, "/personal_access_tokens/{token_id}");
    /// The personal access token that authenticates the call.
    pub const PERSONAL_TOKEN_SELF: Route = Route::new(Verb::Get, "/personal_access_tokens/self");
    /// Rotating a personal access token (one-shot).
    pub const ROTATE_PERSONAL_TOKEN: Route =
        Route::new(Verb::Post, "/personal_access_tokens/{token_id}/rotate");
    /// Revoking a personal access token.
    pub const REVOKE_PERSONAL_TOKEN: Route =
        Route::new(Verb::Delete, "/personal_access_tokens/{token_id}");
    /// A project.
    pub const PROJECT: Route = Route::new(Verb::Get, "/projects/{project}");
    /// A group.
    pub const GROUP: Route = Route::new(Verb::Get, "/groups/{group}");
    /// A project's access tokens.
    pub const PROJECT_TOKENS: Route =
        Route::new(Verb::Get, "/projects/{project}/access_tokens").with_query(&[SEARCH, STATE]);
    /// A group's access tokens.
    pub const GROUP_TOKENS: Route =
        Route::new(Verb::Get, "/groups/{group}/access_tokens").with_query(&[SEARCH, STATE]);
    /// One project access token.
    pub const PROJECT_TOKEN: Route =
        Route::new(Verb::Get, "/projects/{project}/access_tokens/{token_id}");
    /// One group access token.
    pub const GROUP_TOKEN: Route =
        Route::new(Verb::Get, "/groups/{group}/access_tokens/{token_id}");
    /// Creating a project access token (one-shot).
    pub const CREATE_PROJECT_TOKEN: Route =
        Route::new(Verb::Post, "/projects/{project}/access_tokens");
    /// Creating a group access token (one-shot).
    pub const CREATE_GROUP_TOKEN: Route = Route::new(Verb::Post, "/groups/{group}/access_tokens");
    /// Rotating a project access token (one-shot).
    pub const ROTATE_PROJECT_TOKEN: Route = Route::new(
        Verb::Post,
        "/projects/{project}/access_tokens/{token_id}/rotate",
    );
    /// Rotating a group access token (one-shot).
    pub const ROTATE_GROUP_TOKEN: Route = Route::new(
        Verb::Post,
        "/groups/{group}/access_tokens/{token_id}/rotate",
    );
    /// Revoking a project access token.
    pub const REVOKE_PROJECT_TOKEN: Route =
        Route::new(Verb::Delete, "/projects/{project}/access_tokens/{token_id}");
    /// Revoking a group access token.
    pub const REVOKE_GROUP_TOKEN: Route =
        Route::new(Verb::Delete, "/groups/{group}/access_tokens/{token_id}");
    /// A project's pipeline triggers.
    pub const TRIGGERS: Route = Route::new(Verb::Get, "/projects/{project}/triggers");
    /// One pipeline trigger.
    pub const TRIGGER: Route = Route::new(Verb::Get, "/projects/{project}/triggers/{trigger_id}");
    /// Creating a pipeline trigger (one-shot).
    pub const CREATE_TRIGGER: Route = Route::new(Verb::Post, "/projects/{project}/triggers");
    /// Deleting a pipeline trigger.
    pub const DELETE_TRIGGER: Route =
        Route::new(Verb::Delete, "/projects/{project}/triggers/{trigger_id}");
    /// A project's CI/CD variables.
    pub const PROJECT_VARIABLES: Route = Route::new(Verb::Get, "/projects/{project}/variables");
    /// A group's CI/CD variables.
    pub const GROUP_VARIABLES: Route = Route::new(Verb::Get, "/groups/{group}/variables");
    /// One project CI/CD variable.
    pub const PROJECT_VARIABLE: Route =
        Route::new(Verb::Get, "/projects/{project}/variables/{key}").with_query(&[SCOPE]);
    /// One group CI/CD variable.
    pub const GROUP_VARIABLE: Route =
        Route::new(Verb::Get, "/groups/{group}/variables/{key}").with_query(&[SCOPE]);
    /// Writing a project CI/CD variable.
    pub const UPDATE_PROJECT_VARIABLE: Route =
        Route::new(Verb::Put, "/projects/{project}/variables/{key}").with_query(&[SCOPE]);
    /// Writing a group CI/CD variable.
    pub const UPDATE_GROUP_VARIABLE: Route =
        Route::new(Verb::Put, "/groups/{group}/variables/{key}").with_query(&[SCOPE]);
    /// A project's webhooks.
    pub const HOOKS: Route = Route::new(Verb::Get, "/projects/{project}/hooks");
    /// One project webhook.
    pub const HOOK: Route = Route::new(Verb::Get, "/projects/{project}/hooks/{hook_id}");
    /// Writing a project webhook.
    pub const UPDATE_HOOK: Route = Route::new(Verb::Put, "/projects/{project}/hooks/{hook_id}");
    /// One group webhook (Premium).
    pub const GROUP_HOOK: Route = Route::new(Verb::Get, "/groups/{group}/hooks/{hook_id}");
    /// Writing a group webhook (Premium).
    pub const UPDATE_GROUP_HOOK: Route = Route::new(Verb::Put, "/groups/{group}/hooks/{hook_id}");
    /// The instance's CI/CD variables (administrators, self-managed).
    pub const INSTANCE_VARIABLES: Route = Route::new(Verb::Get, "/admin/ci/variables");
    /// One instance CI/CD variable.
    pub const INSTANCE_VARIABLE: Route = Route::new(Verb::Get, "/admin/ci/variables/{key}");
    /// Writing an instance CI/CD variable.
    pub const UPDATE_INSTANCE_VARIABLE: Route = Route::new(Verb::Put, "/admin/ci/variables/{key}");
}

/// Zendesk's endpoints (Support API v2).
pub mod zendesk {
    use super::{Query, Route, Verb};

    /// An OAuth token list's filter by client.
    pub const CLIENT_ID: Query = Query::new("client_id", "client_id");

    /// The caller (an unknown credential gets the anonymous user, with 200).
    pub const ME: Route = Route::new(Verb::Get, "/api/v2/users/me");
    /// App installations.
    pub const INSTALLATIONS: Route = Route::new(Verb::Get, "/api/v2/apps/installations.json");
    /// One app installation.
    pub const INSTALLATION: Route = Route::new(
        Verb::Get,
        "/api/v2/apps/installations/{installation_id}.json",
    );
    /// An app: its name and its parameters, each secure or not.
    pub const APP: Route = Route::new(Verb::Get, "/api/v2/apps/{app_id}.json");
    /// Writing an app installation's settings.
    pub const UPDATE_INSTALLATION: Route = Route::new(
        Verb::Put,
        "/api/v2/apps/installations/{installation_id}.json",
    );
    /// Webhooks.
    pub const WEBHOOKS: Route = Route::new(Verb::Get, "/api/v2/webhooks");
    /// One webhook.
    pub const WEBHOOK: Route = Route::new(Verb::Get, "/api/v2/webhooks/{webhook_id}");
    /// A webhook's signing secret (the one receivers verify its signatures with).
    pub const SIGNING_SECRET: Route =
        Route::new(Verb::Get, "/api/v2/webhooks/{webhook_id}/signing_secret");
    /// Resetting a webhook's signing secret: the old one stops at once (one-shot).
    pub const RESET_SIGNING_SECRET: Route =
        Route::new(Verb::Post, "/api/v2/webhooks/{webhook_id}/signing_secret");
    /// Changing a webhook.
    pub const PATCH_WEBHOOK: Route = Route::new(Verb::Patch, "/api/v2/webhooks/{webhook_id}");
    /// OAuth clients.
    pub const OAUTH_CLIENTS: Route = Route::new(Verb::Get, "/api/v2/oauth/clients");
    /// OAuth tokens.
    pub const OAUTH_TOKENS: Route =
        Route::new(Verb::Get, "/api/v2/oauth/tokens").with_query(&[CLIENT_ID]);
    /// Creating an OAuth token (one-shot).
    pub const CREATE_OAUTH_TOKEN: Route = Route::new(Verb::Post, "/api/v2/oauth/tokens");
    /// The OAuth token that authenticates the call.
    pub const CURRENT_OAUTH_TOKEN: Route =
        Route::new(Verb::Get, "/api/v2/oauth/tokens/current.json");
    /// Revoking an OAuth token.
    pub const REVOKE_OAUTH_TOKEN: Route =
        Route::new(Verb::Delete, "/api/v2/oauth/tokens/{old_token_id}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_fills_its_segments_encoded_and_names_its_placeholders() {
        let r = gitlab::UPDATE_PROJECT_VARIABLE;
        assert_eq!(
            r.fill(&[("project", "grp/proj"), ("key", "API_TOKEN")]),
            "/projects/grp%2Fproj/variables/API_TOKEN"
        );
        assert_eq!(r.params().collect::<Vec<_>>(), ["project", "key"]);
        assert_eq!(r.method(), Method::PUT);
        assert_eq!(
            zendesk::INSTALLATION.fill(&[("installation_id", "360001")]),
            "/api/v2/apps/installations/360001.json"
        );
    }
}
