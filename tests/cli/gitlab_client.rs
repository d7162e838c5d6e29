//! The GitLab client against a local server that answers as GitLab documents (§G1–G6),
//! including its errors, rate limits, pagination and quirks.

use std::time::{Duration, Instant};

use jiff::civil::date;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokrot::clients::gitlab::{GitLab, Owner, VarOwner};
use tokrot::clients::http::{ApiError, RetryPolicy};
use tokrot::secret::Redactor;
use url::Url;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "glpat-caller-CANARY-0001";

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        max_total: Duration::from_secs(10),
        base: Duration::from_millis(10),
        max_backoff: Duration::from_secs(5),
        max_wait: Duration::from_secs(30),
        timeout: Duration::from_secs(10),
    }
}

fn client(server: &MockServer) -> (GitLab, Redactor) {
    let redactor = Redactor::default();
    let gl = GitLab::new(
        &Url::parse(&server.uri()).unwrap(),
        SecretString::from(TOKEN),
        redactor.clone(),
        fast(),
    )
    .unwrap();
    (gl, redactor)
}

fn status_of(e: &ApiError) -> u16 {
    e.status().map(|s| s.as_u16()).unwrap_or(0)
}

fn token_json(id: u64, name: &str) -> serde_json::Value {
    json!({"id": id, "name": name, "revoked": false, "created_at": "2026-01-10T15:00:00.000Z",
           "description": "", "scopes": ["api"], "user_id": 1, "last_used_at": null, "active": true,
           "expires_at": "2026-12-31"})
}

#[tokio::test]
async fn current_user_sends_the_token_and_the_user_agent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .and(header(
            "user-agent",
            concat!("tokrot/", env!("CARGO_PKG_VERSION")),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 7, "username": "ops-bot", "name": "Ops"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (gl, _) = client(&server);
    let user = gl.current_user().await.unwrap();
    assert_eq!((user.id, user.username.as_str()), (7, "ops-bot"));
}

#[tokio::test]
async fn a_401_403_and_404_carry_the_vendor_message() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v4/user"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "401 Unauthorized"})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/5"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not Found"})))
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/projects/grp%2Fproj/access_tokens"))
        .and(method("GET")).respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "error": "insufficient_scope",
            "error_description": "The request requires higher privileges than provided by the access token.",
            "scope": "api"})))
        .mount(&server)
        .await;
    let (gl, _) = client(&server);
    let e = gl.current_user().await.unwrap_err();
    assert_eq!(status_of(&e), 401);
    assert!(e.to_string().contains("401 Unauthorized"), "{e}");
    let e = gl.personal_token("5").await.unwrap_err();
    assert_eq!(status_of(&e), 404);
    let e = gl
        .resource_tokens(Owner::Project("grp/proj"), None, None)
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), 403);
    assert!(
        e.to_string()
            .contains("insufficient_scope: The request requires higher privileges"),
        "{e}"
    );
    assert!(!e.to_string().contains(TOKEN));
}

#[tokio::test]
async fn lists_follow_the_link_header_to_the_last_page() {
    let server = MockServer::start().await;
    let next = format!(
        "<{}/api/v4/personal_access_tokens?page=2&per_page=100&search=ci&state=active>; rel=\"next\"",
        server.uri()
    );
    Mock::given(path("/api/v4/personal_access_tokens"))
        .and(query_param("search", "ci"))
        .and(query_param("state", "active"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([token_json(3, "ci three")])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens"))
        .and(query_param("search", "ci"))
        .and(query_param("per_page", "100"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", next.as_str())
                .set_body_json(json!([token_json(1, "ci one"), token_json(2, "ci two")])),
        )
        .expect(1) // page 2 is answered by the mock mounted first
        .mount(&server)
        .await;
    let (gl, _) = client(&server);
    let tokens = gl
        .personal_tokens(Some("ci"), Some("active"))
        .await
        .unwrap();
    let ids: Vec<u64> = tokens.iter().map(|t| t.id).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(tokens[0].expires_on, Some(date(2026, 12, 31)));
    assert_eq!(tokens[0].created_on, Some(date(2026, 1, 10)));
    assert!(tokens[0].active);
}

#[tokio::test]
async fn rotate_sends_expires_at_once_and_is_never_retried() {
    let server = MockServer::start().await;
    let expires = crate::common::today()
        .checked_add(jiff::Span::new().days(116))
        .unwrap();
    let day = expires.to_string();
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .and(body_json(json!({"expires_at": day})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 43, "name": "Rotated Token", "revoked": false, "active": true,
            "expires_at": day, "token": "glpat-NEW-CANARY-9999"})))
        .expect(1)
        .mount(&server)
        .await;
    let (gl, _) = client(&server);
    let new = gl.rotate_personal_token("42", expires).await.unwrap();
    assert_eq!(new.id, 43);
    assert_eq!(new.token.expose_secret(), "glpat-NEW-CANARY-9999");
    assert_eq!(new.expires_at.as_deref(), Some(day.as_str()));

    for (status, body, unknown) in [
        (500, "", true),
        (429, "Retry later", false),
        (503, "", true),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v4/personal_access_tokens/self/rotate"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("retry-after", "1")
                    .set_body_string(body),
            )
            .expect(1)
            .mount(&server)
            .await;
        let (gl, _) = client(&server);
        let e = gl
            .rotate_personal_token("self", date(2027, 1, 1))
            .await
            .err()
            .unwrap();
        assert_eq!(status_of(&e), status);
        assert_eq!(e.outcome_unknown(), unknown, "{status}");
        // `.expect(1)` is checked when the server drops: exactly one rotate request.
    }
}

#[tokio::test]
async fn a_put_that_gets_a_plain_text_429_waits_and_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/API_TOKEN"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string("Retry later"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/API_TOKEN"))
        .and(query_param("filter[environment_scope]", "production"))
        .and(body_json(json!({"value": "glpat-NEW-CANARY-1", "variable_type": "env_var", "protected": true,
                              "masked": true, "raw": false})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "key": "API_TOKEN", "value": "glpat-NEW-CANARY-1", "variable_type": "env_var", "protected": true,
            "masked": true, "hidden": false, "raw": false, "environment_scope": "production"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/API_TOKEN"))
        .and(query_param("filter[environment_scope]", "production"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "key": "API_TOKEN", "value": "old-value-CANARY", "variable_type": "env_var", "protected": true,
            "masked": true, "hidden": false, "raw": false, "environment_scope": "production"})))
        .expect(1)
        .mount(&server)
        .await;
    let (gl, _) = client(&server);
    let current = gl
        .variable(
            VarOwner::Of(Owner::Project("grp/proj")),
            "API_TOKEN",
            "production",
        )
        .await
        .unwrap();
    assert!(current.protected && current.masked && !current.raw);
    let started = Instant::now();
    let written = gl
        .update_variable(
            VarOwner::Of(Owner::Project("grp/proj")),
            &current,
            &SecretString::from("glpat-NEW-CANARY-1"),
        )
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(written.value.unwrap().expose_secret(), "glpat-NEW-CANARY-1");
}

#[tokio::test]
async fn a_validation_error_with_an_object_message_is_readable_and_redacted() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v4/groups/grp/variables/K"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "message": {"value": ["is invalid: glpat-NEW-CANARY-2 cannot be masked"]}})))
        .expect(1)
        .mount(&server)
        .await;
    let (gl, redactor) = client(&server);
    let secret = SecretString::from("glpat-NEW-CANARY-2");
    redactor.register(&secret);
    let current = tokrot_variable("K");
    let e = gl
        .update_variable(VarOwner::Of(Owner::Group("grp")), &current, &secret)
        .await
        .err()
        .unwrap();
    let text = e.to_string();
    assert_eq!(status_of(&e), 400);
    assert!(
        text.contains("value is invalid: [redacted] cannot be masked"),
        "{text}"
    );
    assert!(!text.contains("CANARY"));
}

fn tokrot_variable(key: &str) -> tokrot::clients::gitlab::Variable {
    tokrot::clients::gitlab::Variable {
        key: key.into(),
        value: None,
        variable_type: "env_var".into(),
        protected: false,
        masked: false,
        hidden: false,
        raw: false,
        environment_scope: "*".into(),
    }
}

#[tokio::test]
async fn a_hidden_variable_has_no_value() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v4/projects/9/variables/HIDDEN"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "key": "HIDDEN", "value": null, "variable_type": "env_var", "protected": false,
            "masked": true, "hidden": true, "raw": false, "environment_scope": "*"})))
        .mount(&server)
        .await;
    let (gl, _) = client(&server);
    let v = gl
        .variable(VarOwner::Of(Owner::Project("9")), "HIDDEN", "*")
        .await
        .unwrap();
    assert!(v.hidden && v.value.is_none());
}

#[tokio::test]
async fn project_and_group_tokens_create_rotate_and_revoke() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/projects/grp%2Fproj/access_tokens"))
        .and(body_json(json!({"name": "bot", "scopes": ["api"], "access_level": 40, "expires_at": "2027-11-28"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 77, "name": "bot", "token": "glpat-BOT-CANARY", "expires_at": "2027-11-28", "access_level": 40})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/groups/grp%2Fsub/access_tokens/12/rotate"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": 13, "name": "g", "token": "glgat-NEW-CANARY", "expires_at": "2027-01-01"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/groups/grp%2Fsub/access_tokens/12"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json(12, "g")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v4/projects/grp%2Fproj/access_tokens/77"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let (gl, _) = client(&server);
    let bot = gl
        .create_resource_token(
            Owner::Project("grp/proj"),
            "bot",
            &["api"],
            40,
            date(2027, 11, 28),
        )
        .await
        .unwrap();
    assert_eq!(
        (bot.id, bot.token.expose_secret()),
        (77, "glpat-BOT-CANARY")
    );
    let got = gl
        .resource_token(Owner::Group("grp/sub"), "12")
        .await
        .unwrap();
    assert_eq!(got.name, "g");
    let rotated = gl
        .rotate_resource_token(Owner::Group("grp/sub"), "12", date(2027, 1, 1))
        .await
        .unwrap();
    assert_eq!(rotated.id, 13);
    gl.revoke_resource_token(Owner::Project("grp/proj"), "77")
        .await
        .unwrap();
}

#[tokio::test]
async fn triggers_list_get_create_and_delete() {
    let server = MockServer::start().await;
    let next = format!(
        "<{}/api/v4/projects/5/triggers?page=2&per_page=100>; rel=\"next\"",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/5/triggers"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!([{"id": 3, "description": "c", "token": "abcd", "last_used": null}]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/5/triggers"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", next.as_str())
                .set_body_json(json!([
            {"id": 1, "description": "a", "token": "6d05", "last_used": null},
            {"id": 2, "description": "b", "token": "9f1e", "last_used": "2026-11-01T10:00:00Z"}])),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/5/triggers/2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 2, "description": "b", "token": "9f1e"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/projects/5/triggers"))
        .and(body_json(json!({"description": "Zendesk Global - Sync"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": 4, "description": "Zendesk Global - Sync", "token": "glptt-NEW-CANARY"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v4/projects/5/triggers/2"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let (gl, _) = client(&server);
    let all = gl.triggers("5").await.unwrap();
    assert_eq!(all.iter().map(|t| t.id).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(gl.trigger("5", 2).await.unwrap().description, "b");
    let new = gl
        .create_trigger("5", "Zendesk Global - Sync")
        .await
        .unwrap();
    assert_eq!(new.token.expose_secret(), "glptt-NEW-CANARY");
    gl.delete_trigger("5", 2).await.unwrap();
}

#[tokio::test]
async fn a_webhook_token_is_set_with_the_same_url() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/hooks/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 7, "url": "https://hooks.example.com/in", "push_events": true}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v4/projects/grp%2Fproj/hooks/7"))
        .and(body_json(
            json!({"url": "https://hooks.example.com/in", "token": "glptt-NEW-CANARY"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 7, "url": "https://hooks.example.com/in", "push_events": true}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let (gl, _) = client(&server);
    let hook = gl.hook(Owner::Project("grp/proj"), 7).await.unwrap();
    gl.update_hook_token(
        Owner::Project("grp/proj"),
        &hook,
        &SecretString::from("glptt-NEW-CANARY"),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_cross_origin_redirect_sends_no_credential_to_the_other_origin() {
    let other = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&other)
        .await;
    let server = MockServer::start().await;
    Mock::given(path("/api/v4/user"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/api/v4/user", other.uri()).as_str()),
        )
        .mount(&server)
        .await;
    let (gl, _) = client(&server);
    let e = gl.current_user().await.unwrap_err();
    assert!(matches!(e, ApiError::CrossOriginRedirect { .. }), "{e}");
    assert!(e.to_string().contains("no credential was sent there"));
}

#[tokio::test]
async fn malformed_html_and_empty_answers_are_clear_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v4/projects/1/hooks/1"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"id\": 1, \"url\""))
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/projects/1/hooks/2"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("<!DOCTYPE html><html>Sign in</html>"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/projects/1/hooks/3"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/projects/1/hooks/4"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(502).set_body_string("<html><body>502 Bad Gateway</body></html>"),
        )
        .mount(&server)
        .await;
    let (gl, _) = client(&server);
    assert!(
        gl.hook(Owner::Project("1"), 1)
            .await
            .unwrap_err()
            .to_string()
            .contains("not the JSON expected")
    );
    assert!(
        gl.hook(Owner::Project("1"), 2)
            .await
            .unwrap_err()
            .to_string()
            .contains("an HTML page instead of JSON")
    );
    assert!(
        gl.hook(Owner::Project("1"), 3)
            .await
            .unwrap_err()
            .to_string()
            .contains("an empty body")
    );
    let e = gl.hook(Owner::Project("1"), 4).await.unwrap_err();
    assert_eq!(status_of(&e), 502, "retried, then given up");
    assert!(
        e.to_string()
            .contains("(an HTML page instead of an API answer)"),
        "{e}"
    );
}

#[tokio::test]
async fn revoke_namespace_variables_and_hooks() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/v4/personal_access_tokens/42"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v4/personal_access_tokens/43"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"message": "400 Bad request - Token could not be revoked"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/groups/grp%2Fsub"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 31, "full_path": "grp/sub"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/404"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "404 Project Not Found"})),
        )
        .mount(&server)
        .await;
    let next = format!(
        "<{}/api/v4/projects/1/variables?page=2&per_page=100>; rel=\"next\"",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/1/variables"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"key": "B", "value": null, "hidden": true, "masked": true, "environment_scope": "production"}])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/1/variables"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", next.as_str())
                .set_body_json(json!([{"key": "A", "value": "x", "environment_scope": "*"}])),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/1/hooks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 7, "url": "https://h.example.com/a"}, {"id": 8, "url": "https://h.example.com/b"}])))
        .mount(&server)
        .await;
    let (gl, _) = client(&server);
    gl.revoke_personal_token("42").await.unwrap();
    let e = gl.revoke_personal_token("43").await.unwrap_err();
    assert!(e.to_string().contains("Token could not be revoked"));
    assert_eq!(gl.namespace(Owner::Group("grp/sub")).await.unwrap(), 31);
    assert_eq!(
        status_of(&gl.namespace(Owner::Project("404")).await.unwrap_err()),
        404
    );
    let vars = gl
        .variables(VarOwner::Of(Owner::Project("1")))
        .await
        .unwrap();
    assert_eq!(
        vars.iter()
            .map(|v| (v.key.as_str(), v.environment_scope.as_str(), v.hidden))
            .collect::<Vec<_>>(),
        [("A", "*", false), ("B", "production", true)]
    );
    assert!(vars[1].value.is_none());
    let hooks = gl.hooks("1").await.unwrap();
    assert_eq!(hooks.iter().map(|h| h.id).collect::<Vec<_>>(), [7, 8]);
}
