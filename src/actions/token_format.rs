//! What a rotation's new token will look like, known from the kind of its source
//! (`inventory::source`) before the token exists: GitLab's tokens carry a documented prefix and
//! alphabet, Zendesk's are hex or alphanumeric, a signing secret is base64. A target that could not hold a token of that form (a masked CI/CD variable) is
//! then refused in preflight, before the one-shot call, rather than after it revoked the old
//! token.

use secrecy::SecretString;

/// The form of a kind of token, with a sample holding every kind of character it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenFormat {
    /// What it is, for messages ("a GitLab access token (glpat-…)").
    pub what: &'static str,
    /// A token of this form with each character class it may contain, shortest length.
    pub sample: &'static str,
}

/// GitLab personal, project and group access tokens: `glpat-`, then letters, digits, `-`, `_`,
/// and (routable tokens) `.`.
pub const GITLAB_ACCESS: TokenFormat = TokenFormat {
    what: "a GitLab access token (glpat-…)",
    sample: "glpat-aZ09_-.x",
};

/// GitLab pipeline trigger tokens: `glptt-` and hex digits.
pub const GITLAB_TRIGGER: TokenFormat = TokenFormat {
    what: "a GitLab pipeline trigger token (glptt-…)",
    sample: "glptt-0123456789abcdef",
};

/// Zendesk OAuth access tokens: hex digits.
pub const ZENDESK_OAUTH: TokenFormat = TokenFormat {
    what: "a Zendesk OAuth access token",
    sample: "0123456789abcdef",
};

/// Zendesk API tokens: letters and digits.
pub const ZENDESK_API: TokenFormat = TokenFormat {
    what: "a Zendesk API token",
    sample: "aZ09aZ09aZ09",
};

/// Zendesk webhook signing secrets: base64 (letters, digits, `+`, `/`, `=`).
pub const ZENDESK_SIGNING: TokenFormat = TokenFormat {
    what: "a Zendesk webhook signing secret",
    sample: "aZ09+/aZ09+/==",
};

/// The token a run will apply, as far as it is known when the run starts.
#[derive(Clone)]
pub enum Incoming {
    /// The token itself (`--token-stdin`).
    Known(SecretString),
    /// Its form, from the source's kind (a rotation).
    Form(&'static TokenFormat),
}

impl Incoming {
    /// Whether the token is one of GitLab's.
    pub fn is_gitlab(&self) -> bool {
        match self {
            Incoming::Known(token) => crate::secret::is_gitlab_token(token),
            Incoming::Form(f) => f.what.starts_with("a GitLab"),
        }
    }

    /// The value to check a rule against, and what to call it.
    pub fn probe(&self) -> (SecretString, &'static str) {
        match self {
            Incoming::Known(token) => (token.clone(), "the token given"),
            Incoming::Form(f) => (SecretString::from(f.sample), f.what),
        }
    }
}
