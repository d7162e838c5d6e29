//! What the inventory benchmarks share: a local GitLab that adds 20 ms to every answer, answers
//! any token, variable or list, and counts what it was asked.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What every answer waits before it leaves.
pub const DELAY: Duration = Duration::from_millis(20);

/// `today` plus `days`.
pub fn day(days: i64) -> String {
    jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}

/// Answers with a body made from the request, after `DELAY`.
pub struct Answer(pub fn(&Request) -> serde_json::Value);

impl Respond for Answer {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        ResponseTemplate::new(200)
            .set_delay(DELAY)
            .set_body_json((self.0)(req))
    }
}

/// The last numeric segment of a path (a token's id).
pub fn id_in(req: &Request) -> u64 {
    req.url
        .path_segments()
        .and_then(|s| s.rev().find_map(|p| p.parse().ok()))
        .unwrap_or(1)
}

/// A token expiring in 5 days (due).
pub fn token(req: &Request) -> serde_json::Value {
    let id = id_in(req);
    json!({"id": id, "name": format!("bench-{id}"), "active": true, "scopes": ["api"],
           "expires_at": day(5), "last_used_at": null})
}

/// A variable named by the path; a write's answer holds the value written.
pub fn variable(req: &Request) -> serde_json::Value {
    let key = req.url.path().rsplit('/').next().unwrap_or("X").to_owned();
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
    let value = body
        .get("value")
        .cloned()
        .unwrap_or(json!("old-value-0123456789"));
    json!({"key": key, "value": value, "variable_type": "env_var", "protected": false,
           "masked": false, "hidden": false, "raw": false, "environment_scope": "*"})
}

/// A rotated token: a new id, a value that differs by id.
pub fn rotated(req: &Request) -> serde_json::Value {
    let id = id_in(req) + 100_000;
    json!({"id": id, "name": "bench", "token": format!("glpat-bench-new-{id}-0123456789"),
           "expires_at": day(90), "active": true})
}

/// A GitLab that answers everything the inventory commands ask.
pub async fn gitlab() -> MockServer {
    let server = MockServer::start().await;
    let at = |re: &str| Mock::given(path_regex(re.to_owned()));
    Mock::given(path("/api/v4/user"))
        .respond_with(Answer(|_| json!({"id": 1, "username": "bench"})))
        .mount(&server)
        .await;
    at(r"^/api/v4/personal_access_tokens/self$")
        .respond_with(Answer(token))
        .with_priority(1)
        .mount(&server)
        .await;
    at(r"^/api/v4/personal_access_tokens/\d+$")
        .respond_with(Answer(token))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(
            r"^/api/v4/(personal_access_tokens|projects/[^/]+/access_tokens)/\d+/rotate$",
        ))
        .respond_with(Answer(rotated))
        .mount(&server)
        .await;
    at(r"^/api/v4/projects/[^/]+/access_tokens/\d+$")
        .respond_with(Answer(token))
        .mount(&server)
        .await;
    at(r"^/api/v4/(personal_access_tokens|projects/[^/]+/(access_tokens|triggers))$")
        .respond_with(Answer(|_| json!([])))
        .with_priority(5)
        .mount(&server)
        .await;
    at(r"^/api/v4/projects/[^/]+/variables/[^/]+$")
        .respond_with(Answer(variable))
        .mount(&server)
        .await;
    at(r"^/api/v4/projects/[^/]+/variables$")
        .respond_with(Answer(|req| {
            let n = 5;
            let _ = req;
            json!(
                (0..n)
                    .map(
                        |i| json!({"key": format!("K{i}"), "value": "old-value-0123456789",
                "variable_type": "env_var", "protected": false, "masked": false, "hidden": false,
                "raw": false, "environment_scope": "*"})
                    )
                    .collect::<Vec<_>>()
            )
        }))
        .mount(&server)
        .await;
    at(r"^/api/v4/projects/[^/]+$")
        .respond_with(Answer(
            |_| json!({"id": 7, "path_with_namespace": "bench/p"}),
        ))
        .mount(&server)
        .await;
    server
}

/// `tokrot` with a fresh HOME, the bench's GitLab and its credential.
pub fn tokrot(home: &std::path::Path, server: &MockServer) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tokrot"));
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITLAB_TOKEN", "glpat-bench-caller-0123456789")
        .args(["--gitlab-url", &server.uri()]);
    cmd
}
