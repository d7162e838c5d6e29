//! A GitLab that holds personal access token 42, as the protocol, fault and rate suites meet
//! it: the caller, the token, its rotation (sent as often as the test expects, and never more:
//! the call is one-shot), and the variables of `grp/proj`, read one by one. Each suite mounts
//! what it needs on top: the new token's check, a variable's writes with their count, a list
//! call, a trigger.

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::day;

/// tokrot's own GitLab credential.
pub(crate) const CALLER: &str = "glpat-caller-CANARY-ff01";
/// The token the rotation makes.
pub(crate) const NEW: &str = "glpat-NEW-CANARY-ff02";
/// What every variable holds before the rotation.
pub(crate) const OLD_VALUE: &str = "old-CANARY-ff03";
/// The one-shot call.
pub(crate) const ROTATE: &str = "/api/v4/personal_access_tokens/42/rotate";

/// A personal access token as GitLab describes it, expiring in ten days.
pub(crate) fn token(id: u64) -> Value {
    json!({"id": id, "name": "t", "active": true, "created_at": format!("{}T00:00:00Z", day(-60)), "expires_at": day(10)})
}

/// A project variable as GitLab describes it.
pub(crate) fn variable(key: &str, value: &str) -> Value {
    json!({"key": key, "value": value, "variable_type": "env_var", "protected": false, "masked": false,
           "hidden": false, "raw": false, "environment_scope": "*"})
}

/// Answers a variable read (the old value) or write (the new token) with the variable named in
/// the path.
pub(crate) fn variable_answer(req: &Request) -> ResponseTemplate {
    let key = req.url.path().rsplit('/').next().unwrap_or("X").to_owned();
    let value = match req.method.as_str() {
        "PUT" => NEW,
        _ => OLD_VALUE,
    };
    ResponseTemplate::new(200).set_body_json(variable(&key, value))
}

/// The rotate call's answer: token 43, holding `NEW`.
pub(crate) fn rotated() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"id": 43, "name": "t", "token": NEW, "expires_at": "2027-03-01"}))
}

/// GitLab's caller: `ops`, user 1.
pub(crate) async fn mount_caller(server: &MockServer) {
    Mock::given(path("/api/v4/user"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1, "username": "ops"})))
        .mount(server)
        .await;
}

/// The variables of `grp/proj`: read one by one, and written `writes` times in all.
pub(crate) async fn mount_variables(server: &MockServer, writes: u64) {
    mount_variable_reads(server).await;
    mount_variable_writes(server, writes).await;
}

/// The variables of `grp/proj` written `writes` times in all (`pat_gitlab` reads them).
pub(crate) async fn mount_variable_writes(server: &MockServer, writes: u64) {
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/"))
        .respond_with(variable_answer)
        .expect(writes)
        .mount(server)
        .await;
}

async fn mount_variable_reads(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/"))
        .respond_with(variable_answer)
        .mount(server)
        .await;
}

/// The caller, token 42, its rotation answered by `rotate` and expected `rotations` times, and
/// the variables of `grp/proj` read one by one.
pub(crate) async fn pat_gitlab(rotate: impl Respond + 'static, rotations: u64) -> MockServer {
    let server = MockServer::start().await;
    mount_caller(&server).await;
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(ROTATE))
        .respond_with(rotate)
        .expect(rotations)
        .mount(&server)
        .await;
    mount_variable_reads(&server).await;
    server
}
