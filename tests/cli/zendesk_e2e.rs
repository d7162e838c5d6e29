//! Zendesk end to end: the real binary against a local server that answers as both GitLab
//! (`/api/v4`) and a Zendesk instance from the config file (`/api/v2`), with `--yes`.

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{Env, assert_no_canary, day, stderr, stdout, writes};
use crate::stand_in::mount_caller;

const GITLAB_CALLER: &str = "glpat-caller-CANARY-zz11";
const ZD_CALLER: &str = "zd-caller-CANARY-zz22";
const NEW: &str = "glpat-NEW-CANARY-zz33";
const OLD_TRIGGER: &str = "OLDTRIGGER-CANARY-zz44";
const WEBHOOK: &str = "01EJFTSCC78X5V07NPY2MHR00M";

fn env_with_instance(server: &MockServer) -> Env {
    let env = Env::new();
    env.write(
        ".config/tokrot/config.toml",
        &format!(
            "[zendesk.instances.zd]\nurl = \"{}\"\nlabel = \"Zendesk Test\"\n",
            server.uri()
        ),
    );
    env
}

fn run(env: &Env, server: &MockServer, args: &[&str]) -> std::process::Output {
    env.tokrot()
        .env("GITLAB_TOKEN", GITLAB_CALLER)
        .env("ZENDESK_EMAIL", "ops@example.com")
        .env("ZENDESK_API_TOKEN", ZD_CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes", "-v"])
        .args(args)
        .output()
        .unwrap()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

/// A stored resource: `before` until a `Patch` sharing the flag is answered, `after` from then.
struct Stored {
    patched: std::sync::Arc<std::sync::atomic::AtomicBool>,
    before: Value,
    after: Value,
}

impl wiremock::Respond for Stored {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let now = if self.patched.load(std::sync::atomic::Ordering::SeqCst) {
            &self.after
        } else {
            &self.before
        };
        ResponseTemplate::new(200).set_body_json(now)
    }
}

/// A PATCH answered 204, which flips its `Stored` resource.
struct Patch(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl wiremock::Respond for Patch {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        ResponseTemplate::new(204)
    }
}

async fn mount_pat_rotation(server: &MockServer) {
    let token = json!({"id": 42, "name": "zendesk", "active": true, "created_at": format!("{}T00:00:00Z", day(-60)), "expires_at": day(10)});
    mount_caller(server).await;
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token.clone()))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 43, "name": "zendesk", "token": NEW, "expires_at": "2027-03-01"}),
        ))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/self"))
        .and(header("PRIVATE-TOKEN", NEW))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_gitlab_token_goes_into_a_zendesk_app_setting_and_a_webhook_credential() {
    let server = MockServer::start().await;
    mount_pat_rotation(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/apps/installations/360001.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 360001, "app_id": 9, "settings": {"name": "GitLab Sync", "gitlab_url": "https://gitlab.com"}})))
        .mount(&server)
        .await;
    // The app's parameters: api_token is secure, so the installation never shows it.
    Mock::given(method("GET"))
        .and(path("/api/v2/apps/9.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"app": {"id": 9, "name": "GitLab Sync",
            "parameters": [{"name": "gitlab_url", "secure": false}, {"name": "api_token", "secure": true}]}})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/apps/installations/360001.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 360001})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/webhooks/{WEBHOOK}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"webhook": {"id": WEBHOOK, "name": "to gitlab",
            "endpoint": format!("{}/api/v4/projects/77/hooks/zendesk", server.uri()), "http_method": "POST", "request_format": "json", "status": "active",
            "authentication": {"type": "bearer_token", "add_position": "header"}}})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/v2/webhooks/{WEBHOOK}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let env = env_with_instance(&server);
    let out = run(
        &env,
        &server,
        &[
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "zendesk-app:zd:360001:api_token",
            "--apply-to",
            &format!("zendesk-webhook:zd:{WEBHOOK}"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("`api_token` is a secure parameter of GitLab Sync: written, never shown, so it cannot be read back"),
        "{err}"
    );
    assert!(err.contains("a secure setting: not readable"), "{err}");
    assert!(!err.contains("typo"), "{err}");
    let reqs = requests(&server).await;
    let put = reqs.iter().find(|r| r.method.as_str() == "PUT").unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&put.body).unwrap(),
        json!({"settings": {"api_token": NEW}}),
        "exactly one setting"
    );
    let patch = reqs.iter().find(|r| r.method.as_str() == "PATCH").unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&patch.body).unwrap(),
        json!({"webhook": {"authentication": {"type": "bearer_token", "add_position": "header", "data": {"token": NEW}}}}),
        "only authentication, its type kept"
    );
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn a_trigger_for_a_zendesk_webhook_is_named_by_its_link_and_replaces_the_token_in_its_endpoint()
 {
    let server = MockServer::start().await;
    let uri = server.uri();
    let endpoint = |token: &str| {
        format!(
            "{uri}/api/v4/projects/77/trigger/pipeline?token={token}&ref=main&variables%5BSOURCE%5D=zendesk"
        )
    };
    let link = format!(
        "{}/admin/apps-integrations/webhooks/webhooks/{WEBHOOK}/details",
        server.uri()
    );
    mount_caller(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers/9"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 9, "description": "old", "token": OLD_TRIGGER})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers"))
        .and(body_json(json!({"description": link})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": 10, "description": link, "token": NEW})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers/9"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    // The webhook as Zendesk keeps it: the old endpoint until the PATCH, the new one after.
    let patched = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/webhooks/{WEBHOOK}")))
        .respond_with(Stored {
            patched: patched.clone(),
            before: json!({"webhook": {"id": WEBHOOK, "name": "start pipeline", "endpoint": endpoint(OLD_TRIGGER)}}),
            after: json!({"webhook": {"id": WEBHOOK, "name": "start pipeline", "endpoint": endpoint(NEW)}}),
        })
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/v2/webhooks/{WEBHOOK}")))
        .and(body_json(json!({"webhook": {"endpoint": endpoint(NEW)}})))
        .respond_with(Patch(patched))
        .expect(1)
        .mount(&server)
        .await;
    let env = env_with_instance(&server);
    let spec = format!("zendesk-webhook:zd:{WEBHOOK}");
    let out = run(
        &env,
        &server,
        &[
            "rotate",
            "gitlab-trigger",
            "--project",
            "grp/proj",
            "--trigger-id",
            "9",
            "--for",
            &spec,
            "--apply-to",
            &spec,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("token=[hidden]&ref=main"),
        "the endpoint is shown masked: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("read back: holds the new token"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        writes(&server).await,
        [
            "POST /api/v4/projects/grp%2Fproj/triggers".to_owned(),
            format!("PATCH /api/v2/webhooks/{WEBHOOK}"),
            "DELETE /api/v4/projects/grp%2Fproj/triggers/9".to_owned(),
        ],
        "new trigger, then the webhook, then the old trigger"
    );
    assert_no_canary(&env, &[&out]);
}

/// A Zendesk whose OAuth client 223443 has token 900, a create call that makes 901 (sent once),
/// and a GitLab variable that takes it; the variable's write and the old token's revoke are
/// each expected `finished` times.
async fn mount_oauth(server: &MockServer, granted: &[&str], finished: u64) {
    let created = json!({"token": {"id": 901, "client_id": 223443, "token": NEW, "scopes": ["tickets:read", "users:write"]}});
    mount_oauth_creating(server, granted, created, finished).await;
}

/// As `mount_oauth`, the create call answering `created`.
async fn mount_oauth_creating(
    server: &MockServer,
    granted: &[&str],
    created: Value,
    finished: u64,
) {
    Mock::given(path("/api/v2/users/me"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"user": {"id": 5, "email": "ops@example.com", "role": "admin"}}),
            ),
        )
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/oauth/tokens"))
        .and(query_param("client_id", "223443"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tokens": [{"id": 900, "client_id": 223443, "token": "af3345kdj3", "scopes": ["tickets:read", "users:write"]}], "meta": {"has_more": false}})))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/oauth/tokens"))
        .and(body_json(
            json!({"token": {"client_id": 223443, "scopes": ["tickets:read", "users:write"]}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(created))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/oauth/tokens/current.json"))
        .and(header("authorization", format!("Bearer {NEW}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"token": {"id": 901, "scopes": granted}})),
        )
        .mount(server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v2/oauth/tokens/900"))
        .respond_with(ResponseTemplate::new(204))
        .expect(finished)
        .mount(server)
        .await;
    let variable = |value: &str| json!({"key": "ZENDESK_TOKEN", "value": value, "masked": true, "protected": false, "hidden": false, "raw": false, "environment_scope": "*"});
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/ZENDESK_TOKEN"))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable("old-CANARY-value")))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/ZENDESK_TOKEN"))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable(NEW)))
        .expect(finished)
        .mount(server)
        .await;
}

#[tokio::test]
async fn zendesk_oauth_creates_applies_verifies_and_revokes_the_old_token_last() {
    let server = MockServer::start().await;
    mount_oauth(&server, &["users:write", "tickets:read"], 1).await;
    let env = env_with_instance(&server);
    let out = run(
        &env,
        &server,
        &[
            "rotate",
            "zendesk-oauth",
            "--instance",
            "zd",
            "--client-id",
            "223443",
            "--apply-to",
            "gitlab-ci-var:grp/proj:ZENDESK_TOKEN",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The old token found in the client's list is named, not a placeholder.
    let err = stderr(&out);
    assert!(err.contains("Revoke the old token 900"), "{err}");
    assert!(!err.contains("<old-token-id>"), "{err}");
    let watched = [
        "POST /api/v2/oauth/tokens",
        "GET /api/v2/oauth/tokens/current.json",
        "PUT /api/v4/projects/grp%2Fproj/variables/ZENDESK_TOKEN",
        "DELETE /api/v2/oauth/tokens/900",
    ];
    let order: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .filter(|r| watched.contains(&r.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            "POST /api/v2/oauth/tokens",
            "GET /api/v2/oauth/tokens/current.json",
            "PUT /api/v4/projects/grp%2Fproj/variables/ZENDESK_TOKEN",
            "DELETE /api/v2/oauth/tokens/900",
        ],
        "create, verify, apply, then revoke the old token"
    );
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn a_scope_mismatch_stops_before_anything_is_applied() {
    let server = MockServer::start().await;
    mount_oauth(&server, &["read"], 0).await;
    let env = env_with_instance(&server);
    let out = run(
        &env,
        &server,
        &[
            "rotate",
            "zendesk-oauth",
            "--instance",
            "zd",
            "--client-id",
            "223443",
            "--apply-to",
            "gitlab-ci-var:grp/proj:ZENDESK_TOKEN",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "scope mismatch: asked for [tickets:read users:write], Zendesk granted [read]"
        ),
        "{err}"
    );
    assert_eq!(
        writes(&server).await,
        ["POST /api/v2/oauth/tokens"],
        "nothing applied, the old token kept"
    );
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn a_pasted_api_token_answered_by_the_anonymous_user_is_refused_and_nothing_is_applied() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/users/me"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"user": {"id": null, "name": "Anonymous user", "email": "invalid@example.com"}}),
        ))
        .mount(&server)
        .await;
    mount_caller(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/ZENDESK_TOKEN"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"key": "ZENDESK_TOKEN", "value": "x", "environment_scope": "*"}),
            ),
        )
        .mount(&server)
        .await;
    let env = env_with_instance(&server);
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", GITLAB_CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes"])
        .args([
            "rotate",
            "zendesk-api",
            "--instance",
            "zd",
            "--email",
            "ops@example.com",
            "--token-stdin",
            "--approve",
            "add-token-button",
        ])
        .args(["--apply-to", "gitlab-ci-var:grp/proj:ZENDESK_TOKEN"])
        .write_stdin("zd-pasted-CANARY-zz55\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("the new token is not verified: Zendesk answered as an anonymous user; nothing was applied"), "{err}");
    assert!(writes(&server).await.is_empty(), "nothing applied");
    assert!(
        !err.contains("Delete the old token, now"),
        "no deletion is suggested without a replacement: {err}"
    );
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn interactively_the_app_installation_is_picked_and_the_pasted_token_never_shows() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/apps/installations.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"installations": [
            {"id": 111, "app_id": 1, "enabled": true, "settings": {"name": "Other App"}},
            {"id": 222, "app_id": 2, "enabled": true, "settings": {"name": "GitLab Sync", "api_token": "shown-setting"}}]})))
        .mount(&server)
        .await;
    // A setting that is not secure is shown: read before the write, and read back after it.
    Mock::given(method("GET"))
        .and(path("/api/v2/apps/installations/222.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 222, "settings": {"name": "GitLab Sync", "api_token": "x"}}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/apps/installations/222.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 222, "settings": {"name": "GitLab Sync", "api_token": "zd-typed-CANARY-zz66"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/apps/installations/222.json"))
        .and(body_json(
            json!({"settings": {"api_token": "zd-typed-CANARY-zz66"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 222})))
        .expect(1)
        .mount(&server)
        .await;
    let env = env_with_instance(&server);
    let args = [
        "apply",
        "zendesk-app",
        "--instance",
        "zd",
        "--setting",
        "api_token",
    ];
    let vars = [
        ("ZENDESK_EMAIL", "ops@example.com"),
        ("ZENDESK_API_TOKEN", ZD_CALLER),
    ];
    let mut pty = crate::common::Pty::spawn_with(&env, &args, &vars);
    pty.answer("GitLab Sync (installation 222)", "\x1b[B");
    pty.answer("> GitLab Sync", "\r");
    pty.answer("Token to apply (hidden)", "zd-typed-CANARY-zz66\r");
    pty.answer("Go ahead and change things", "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    // Lines are fitted to the terminal: the words, whatever the breaks.
    let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("`api_token` written, no other setting sent; read back: holds the new value"),
        "{screen}"
    );
    assert!(!screen.contains("CANARY"), "the token was shown:\n{screen}");
}

#[tokio::test]
async fn a_webhook_without_a_token_or_without_its_user_name_is_refused_before_any_write() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/webhooks/01NONE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"webhook": {"id": "01NONE", "name": "plain", "endpoint": "https://example.com/in?ref=main"}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/webhooks/01BASIC"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"webhook": {"id": "01BASIC", "name": "basic", "endpoint": "https://example.com/in",
            "authentication": {"type": "basic_auth", "add_position": "header"}}})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v2/webhooks/01BASIC"))
        .and(body_json(
            json!({"webhook": {"authentication": {"type": "basic_auth", "add_position": "header",
            "data": {"username": "svc-zendesk", "password": "zd-new-CANARY-zz77"}}}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let env = env_with_instance(&server);
    let apply = |id: &str, extra: &[&str]| {
        env.tokrot()
            .env("ZENDESK_OAUTH_TOKEN", ZD_CALLER)
            .args([
                "--yes",
                "apply",
                "zendesk-webhook",
                "--instance",
                "zd",
                "--webhook-id",
                id,
                "--token-stdin",
            ])
            .args(extra)
            .write_stdin("zd-new-CANARY-zz77\n")
            .output()
            .unwrap()
    };
    let out = apply("01NONE", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has neither a token in its endpoint URL nor an authentication"),
        "{}",
        stderr(&out)
    );
    let out = apply("01BASIC", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Zendesk's answer does not show its user name: give --username"),
        "{}",
        stderr(&out)
    );
    assert!(writes(&server).await.is_empty());
    let out = apply("01BASIC", &["--username", "svc-zendesk"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(writes(&server).await, ["PATCH /api/v2/webhooks/01BASIC"]);
    assert_no_canary(&env, &[&out]);

    // Zendesk shows a basic_auth's user name (`data.username`): it is kept without being asked.
    Mock::given(method("GET"))
        .and(path("/api/v2/webhooks/01SHOWN"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"webhook": {"id": "01SHOWN", "name": "basic", "endpoint": "https://example.com/in",
            "authentication": {"type": "basic_auth", "data": {"username": "svc-shown"}, "add_position": "header"}}})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v2/webhooks/01SHOWN"))
        .and(body_json(
            json!({"webhook": {"authentication": {"type": "basic_auth", "add_position": "header",
            "data": {"username": "svc-shown", "password": "zd-new-CANARY-zz77"}}}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let out = apply("01SHOWN", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn a_resumed_oauth_rotation_still_revokes_the_old_token_it_found_before() {
    let server = MockServer::start().await;
    mount_oauth(&server, &["users:write", "tickets:read"], 1).await;
    Mock::given(method("PUT"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/ZENDESK_TOKEN"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"message": "down"})))
        .with_priority(1)
        .up_to_n_times(6)
        .expect(6)
        .mount(&server)
        .await;
    let env = env_with_instance(&server);
    let args = [
        "--http-timeout",
        "1",
        "rotate",
        "zendesk-oauth",
        "--instance",
        "zd",
        "--client-id",
        "223443",
        "--apply-to",
        "gitlab-ci-var:grp/proj:ZENDESK_TOKEN",
    ];
    let first = run(&env, &server, &args);
    assert_eq!(first.status.code(), Some(3), "{}", stderr(&first));
    assert!(
        !writes(&server)
            .await
            .contains(&"DELETE /api/v2/oauth/tokens/900".to_owned()),
        "the old token is kept while a target lacks the new one"
    );
    // The resumed run skips the list call that found token 900; the journal remembers it.
    let resumed = run(&env, &server, &["resume"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let w = writes(&server).await;
    assert_eq!(
        w.iter()
            .filter(|r| *r == "POST /api/v2/oauth/tokens")
            .count(),
        1
    );
    assert_eq!(
        w.last().unwrap(),
        "DELETE /api/v2/oauth/tokens/900",
        "{w:?}"
    );
    assert_no_canary(&env, &[&resumed]);
}

/// "Write it anyway?" asked by an action's check (the installation does not show the setting),
/// before anything changes: Ctrl-C there writes nothing; a yes writes it.
#[tokio::test]
async fn an_interrupted_question_inside_an_action_never_leads_to_a_write() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/users/me"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"user": {"id": 5, "email": "ops@example.com", "role": "admin"}}),
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/apps/installations/333.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 333, "settings": {"name": "GitLab Sync"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/apps/installations/333.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 333})))
        .expect(1)
        .mount(&server)
        .await;
    let env = env_with_instance(&server);
    let args = [
        "apply",
        "zendesk-app",
        "--instance",
        "zd",
        "--installation-id",
        "333",
        "--setting",
        "api_token",
    ];
    let vars = [
        ("ZENDESK_EMAIL", "ops@example.com"),
        ("ZENDESK_API_TOKEN", ZD_CALLER),
    ];
    let mut pty = crate::common::Pty::spawn_with(&env, &args, &vars);
    pty.answer("Write the new token into it anyway?", "\x03");
    let (code, screen) = pty.finish();
    assert_eq!(code, 130, "{screen}");
    assert!(writes(&server).await.is_empty(), "{screen}");

    let mut pty = crate::common::Pty::spawn_with(&env, &args, &vars);
    pty.answer("Write the new token into it anyway?", "y");
    pty.answer("Token to apply (hidden)", "zd-typed-CANARY-zz77\r");
    pty.answer("Go ahead and change things", "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(
        writes(&server).await,
        ["PUT /api/v2/apps/installations/333.json"]
    );
    assert!(!screen.contains("CANARY"), "the token was shown:\n{screen}");
}

#[tokio::test]
async fn a_target_typed_at_the_prompt_finds_its_credentials_as_apply_to_does() {
    let server = MockServer::start().await;
    mount_oauth(&server, &["users:write", "tickets:read"], 1).await;
    let env = env_with_instance(&server);
    let uri = server.uri();
    let args = [
        "--gitlab-url",
        uri.as_str(),
        "rotate",
        "zendesk-oauth",
        "--instance",
        "zd",
        "--client-id",
        "223443",
    ];
    let vars = [
        ("GITLAB_TOKEN", GITLAB_CALLER),
        ("ZENDESK_EMAIL", "ops@example.com"),
        ("ZENDESK_API_TOKEN", ZD_CALLER),
    ];
    let mut pty = crate::common::Pty::spawn_with(&env, &args, &vars);
    pty.answer(
        "Where does the new token go?",
        "gitlab-ci-var:grp/proj:ZENDESK_TOKEN\r",
    );
    pty.answer("Another target?", "\r");
    pty.answer("Go ahead and change things", "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("no GitLab credential"), "{screen}");
    assert!(
        writes(&server)
            .await
            .contains(&"PUT /api/v4/projects/grp%2Fproj/variables/ZENDESK_TOKEN".to_owned()),
        "{screen}"
    );
    crate::common::assert_no_piece("screen", &screen, &[GITLAB_CALLER, ZD_CALLER, NEW]);
}

/// An OAuth rotation whose new token goes nowhere yet.
const KEPT_OAUTH: [&str; 7] = [
    "rotate",
    "zendesk-oauth",
    "--instance",
    "zd",
    "--client-id",
    "223443",
    "--keep",
];

#[tokio::test]
async fn a_kept_run_that_did_not_finish_still_puts_off_the_revoke_when_resumed() {
    let server = MockServer::start().await;
    // The new token's check fails once: the run stops after the token was made and kept.
    Mock::given(method("GET"))
        .and(path("/api/v2/oauth/tokens/current.json"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": "Couldn't authenticate you"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_oauth(&server, &["users:write", "tickets:read"], 1).await;
    let env = env_with_instance(&server);
    let first = run(&env, &server, &KEPT_OAUTH);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let id = env.latest_run();
    // Resumed, it checks the new token again, and the old one stays: nothing holds the new one.
    let resumed = run(&env, &server, &["resume", &id]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        !writes(&server)
            .await
            .contains(&"DELETE /api/v2/oauth/tokens/900".to_owned()),
        "{}",
        stderr(&resumed)
    );
    assert!(
        stderr(&resumed).contains("left for later"),
        "{}",
        stderr(&resumed)
    );
    // Resumed again, once the new token is in place, it revokes the old one.
    let applied = run(
        &env,
        &server,
        &[
            "apply",
            "gitlab-ci-var",
            "--project",
            "grp/proj",
            "--key",
            "ZENDESK_TOKEN",
            "--from",
            &id,
        ],
    );
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    let retired = run(&env, &server, &["resume", &id]);
    assert_eq!(retired.status.code(), Some(0), "{}", stderr(&retired));
    let deletes = writes(&server)
        .await
        .iter()
        .filter(|w| *w == "DELETE /api/v2/oauth/tokens/900")
        .count();
    assert_eq!(deletes, 1);
    for out in [&first, &resumed, &retired] {
        assert_no_canary(&env, &[out]);
    }
}

#[tokio::test]
async fn a_run_is_resumed_only_where_it_began() {
    let server = MockServer::start().await;
    mount_oauth(&server, &["users:write", "tickets:read"], 0).await;
    let env = env_with_instance(&server);
    let first = run(&env, &server, &KEPT_OAUTH);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let id = env.latest_run();
    // The instance now points elsewhere: the resume sends nothing there.
    let tripwire = crate::common::Tripwire::new();
    env.write(
        ".config/tokrot/config.toml",
        &format!(
            "[zendesk.instances.zd]\nurl = \"{}\"\nlabel = \"Zendesk Test\"\n",
            tripwire.url()
        ),
    );
    for dry in [true, false] {
        let mut cmd = env.tokrot();
        cmd.env("ZENDESK_OAUTH_TOKEN", ZD_CALLER)
            .env("ZENDESK_INSTANCE", "zd")
            .arg("--yes");
        if dry {
            cmd.arg("--dry-run");
        }
        let out = cmd.args(["resume", &id]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("a resume goes where the run began"),
            "{}",
            stderr(&out)
        );
        assert_no_canary(&env, &[&out]);
    }
    assert!(!tripwire.tripped(), "nothing goes to the other instance");
}

#[tokio::test]
async fn a_webhook_re_pointed_at_another_host_never_receives_a_gitlab_token() {
    let server = MockServer::start().await;
    mount_pat_rotation_refused(&server).await;
    // One webhook carries a trigger token to another host in its URL; one sends its bearer
    // credential there.
    let away = "01AWAYAWAYAWAYAWAYAWAYAWAY";
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/webhooks/{WEBHOOK}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"webhook": {"id": WEBHOOK, "name": "to gitlab",
            "endpoint": "https://attacker.example/collect?token=glptt-0ldCANARYzz99&ref=main"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/webhooks/{away}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"webhook": {"id": away, "name": "sync",
            "endpoint": "https://Attacker.Example/api/v4/user", "http_method": "POST", "request_format": "json",
            "authentication": {"type": "bearer_token", "add_position": "header"}}})))
        .mount(&server)
        .await;
    let env = env_with_instance(&server);
    for hook in [WEBHOOK, away] {
        let spec = format!("zendesk-webhook:zd:{hook}");
        let out = run(
            &env,
            &server,
            &[
                "rotate",
                "gitlab-pat",
                "--token-id",
                "42",
                "--apply-to",
                &spec,
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "webhook {hook} sends the token to attacker.example, not to GitLab (127.0.0.1)"
            )),
            "{err}"
        );
        assert!(err.contains("allow_host = \"attacker.example\""), "{err}");
        // The same refusal in a dry run's checks.
        let dry = run(
            &env,
            &server,
            &[
                "--dry-run",
                "rotate",
                "gitlab-pat",
                "--token-id",
                "42",
                "--apply-to",
                &spec,
            ],
        );
        assert_eq!(dry.status.code(), Some(2), "{}", stderr(&dry));
        assert_no_canary(&env, &[&out]);
    }
    // A token given to `apply` (no GitLab call in the run, so no GitLab client) is held to
    // the same rule: GitLab's host is the configured one.
    let pasted = "glptt-PASTEDCANARY0123456789";
    let applied = env
        .tokrot()
        .env("ZENDESK_EMAIL", "ops@example.com")
        .env("ZENDESK_API_TOKEN", ZD_CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes"])
        .args([
            "apply",
            "zendesk-webhook",
            "--instance",
            "zd",
            "--webhook-id",
            away,
            "--token-stdin",
        ])
        .write_stdin(format!("{pasted}\n"))
        .output()
        .unwrap();
    assert_eq!(applied.status.code(), Some(2), "{}", stderr(&applied));
    assert!(
        stderr(&applied).contains("sends the token to attacker.example, not to GitLab (127.0.0.1)"),
        "{}",
        stderr(&applied)
    );
    crate::common::scan(&env, &[&applied], &[pasted]);
    let reqs = requests(&server).await;
    assert!(
        reqs.iter().all(|r| r.method.as_str() == "GET"),
        "nothing but reads: {:?}",
        reqs.iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect::<Vec<_>>()
    );
}

/// The source of a PAT rotation that preflight must stop before: its rotate call answers 500
/// and is expected never.
async fn mount_pat_rotation_refused(server: &MockServer) {
    let token = json!({"id": 42, "name": "zendesk", "active": true, "created_at": format!("{}T00:00:00Z", day(-60)), "expires_at": day(10)});
    mount_caller(server).await;
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_created_token_cut_to_its_first_characters_is_never_kept_or_applied() {
    let server = MockServer::start().await;
    // The create answer has no `full_token`, and its `token` is the 10-character cut a list
    // shows: the token exists, its value is not there.
    let cut = json!({"token": {"id": 902, "client_id": 223443, "token": "5e1b6f0c3a", "scopes": ["tickets:read", "users:write"]}});
    mount_oauth_creating(&server, &["users:write", "tickets:read"], cut, 0).await;
    let env = env_with_instance(&server);
    let out = run(
        &env,
        &server,
        &[
            "rotate",
            "zendesk-oauth",
            "--instance",
            "zd",
            "--client-id",
            "223443",
            "--apply-to",
            "gitlab-ci-var:grp/proj:ZENDESK_TOKEN",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "Zendesk made OAuth token 902, but its answer holds only the first characters of it"
        ),
        "{err}"
    );
    assert!(!err.contains("nothing was changed"), "{err}");
    let writes: Vec<String> = requests(&server)
        .await
        .iter()
        .filter(|r| r.method.as_str() != "GET")
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    // Made, and nothing after it: no write of the cut value, no revoke of the old token.
    assert_eq!(writes, ["POST /api/v2/oauth/tokens"]);
    assert_no_canary(&env, &[&out]);
}

/// An installation whose PUT replaces the settings with those sent, as a Zendesk that does not
/// merge would: every setting not sent is gone.
#[derive(Clone)]
struct Replacing(std::sync::Arc<std::sync::Mutex<Value>>);

impl wiremock::Respond for Replacing {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut now = self.0.lock().unwrap();
        if request.method.as_str() == "PUT" {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            now["settings"] = body["settings"].clone();
        }
        ResponseTemplate::new(200).set_body_json(now.clone())
    }
}

#[tokio::test]
async fn an_app_write_that_drops_the_other_settings_fails_the_target_naming_them() {
    let server = MockServer::start().await;
    mount_pat_rotation(&server).await;
    let app = Replacing(std::sync::Arc::new(std::sync::Mutex::new(json!({
        "id": 360001, "app_id": 9,
        "settings": {"name": "GitLab Sync", "gitlab_url": "https://gitlab.com", "api_token": "old-shown-value",
            "signing_key": "CANARYsigningKEY0123456789abcdefghijklmn"}}))));
    Mock::given(path("/api/v2/apps/installations/360001.json"))
        .and(method("GET"))
        .respond_with(app.clone())
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/apps/installations/360001.json"))
        .and(method("PUT"))
        .respond_with(app.clone())
        .expect(1)
        .mount(&server)
        .await;
    let env = env_with_instance(&server);
    let out = run(
        &env,
        &server,
        &[
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "zendesk-app:zd:360001:api_token",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    // What each was is said, and journaled, unless it may be a secret.
    let flat = err.split_whitespace().collect::<Vec<_>>().join(" ");
    let said = "other settings changed or vanished with it: gitlab_url (was \"https://gitlab.com\"), name (was \"GitLab Sync\"), signing_key (its value is not kept: it may be a secret)";
    assert!(flat.contains(said), "{err}");
    let id = env.latest_run();
    let journal = env
        .tokrot()
        .args(["history", &id, "--output", "json"])
        .output()
        .unwrap();
    assert!(
        stdout(&journal).contains("gitlab_url (was \\\"https://gitlab.com\\\")"),
        "{}",
        stdout(&journal)
    );
    assert_no_canary(&env, &[&out]);
    assert_no_canary(&env, &[&journal]);
}

/// `tokrot --output json rotate zendesk-oauth` of client 223443 into a CI/CD variable.
fn rotate_oauth_json(env: &Env, server: &MockServer) -> std::process::Output {
    run(
        env,
        server,
        &[
            "--output",
            "json",
            "rotate",
            "zendesk-oauth",
            "--instance",
            "zd",
            "--client-id",
            "223443",
            "--apply-to",
            "gitlab-ci-var:grp/proj:ZENDESK_TOKEN",
        ],
    )
}

#[tokio::test]
async fn an_expiring_oauth_tokens_lifetime_is_kept_said_with_its_consumers_and_its_refresh_token_dropped()
 {
    const REFRESH: &str = "zdrefresh-CANARY-zz55-0123456789abcdef";
    let server = MockServer::start().await;
    // Zendesk issues a refresh token with every new OAuth token and may give the access token a
    // lifetime of its own.
    let expires = format!("{}T08:00:00Z", day(45));
    let created = json!({"token": {"id": 901, "client_id": 223443, "token": "glpat-NEW-", "full_token": NEW,
        "scopes": ["tickets:read", "users:write"], "expires_at": expires, "refresh_token": REFRESH,
        "refresh_token_expires_at": format!("{}T08:00:00Z", day(75))}});
    mount_oauth_creating(&server, &["users:write", "tickets:read"], created, 1).await;
    let env = env_with_instance(&server);
    let out = rotate_oauth_json(&env, &server);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let doc = crate::common::json_doc(&out);
    assert_eq!(doc["source"]["expires_at"], day(45), "{doc}");
    assert_eq!(doc["source"]["refresh_token"], true, "{doc}");
    let warned = format!(
        "the new token expires on {}, in 45 days, as the vendor set it: gitlab-ci-var:grp/proj:ZENDESK_TOKEN stop working then",
        day(45)
    );
    assert!(
        doc["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains(&warned)),
        "{doc}"
    );
    assert!(
        err.contains("Zendesk issued a refresh token with it, which is not kept or applied"),
        "{err}"
    );
    // The journal keeps both, and `history ID` says them.
    let id = env.latest_run();
    let shown = env.tokrot().args(["history", &id]).output().unwrap();
    let text = stdout(&shown);
    assert!(
        text.contains(&format!(
            "id 901, expires {} (the vendor's lifetime)",
            day(45)
        )),
        "{text}"
    );
    assert!(
        text.contains("issued with the new token; not kept or applied"),
        "{text}"
    );
    let json_out = env
        .tokrot()
        .args(["history", &id, "--output", "json"])
        .output()
        .unwrap();
    let history = crate::common::json_doc(&json_out);
    assert_eq!(history["run"]["expires_at"], day(45), "{history}");
    assert_eq!(history["run"]["refresh_token"], true, "{history}");
    crate::common::scan(&env, &[&out, &shown, &json_out], &[NEW, REFRESH]);
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn an_oauth_token_without_a_lifetime_warns_of_none() {
    let server = MockServer::start().await;
    mount_oauth(&server, &["users:write", "tickets:read"], 1).await;
    let env = env_with_instance(&server);
    let out = rotate_oauth_json(&env, &server);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let doc = crate::common::json_doc(&out);
    assert_eq!(doc["source"]["expires_at"], Value::Null, "{doc}");
    assert_eq!(doc["source"]["refresh_token"], false, "{doc}");
    assert!(!doc.to_string().contains("as the vendor set it"), "{doc}");
    assert!(!err.contains("refresh token"), "{err}");
}
