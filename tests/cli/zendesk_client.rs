//! The Zendesk client against a local server that answers as Zendesk documents (§Z2–Z6),
//! including the anonymous `users/me`, its error shapes, rate limits and cursor pagination.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokrot::clients::http::RetryPolicy;
use tokrot::clients::zendesk::{Auth, WebhookCredential, Zendesk};
use tokrot::secret::Redactor;
use url::Url;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API_TOKEN: &str = "zd-api-CANARY-1234";

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

fn client(server: &MockServer) -> Zendesk {
    Zendesk::new(
        &Url::parse(&server.uri()).unwrap(),
        Auth::ApiToken {
            email: "ops@example.com".into(),
            token: SecretString::from(API_TOKEN),
        },
        Redactor::default(),
        fast(),
    )
    .unwrap()
}

fn status(e: &tokrot::clients::http::ApiError) -> u16 {
    e.status().map_or(0, |s| s.as_u16())
}

#[tokio::test]
async fn users_me_with_basic_auth_and_the_anonymous_answer() {
    let server = MockServer::start().await;
    // base64("ops@example.com/token:zd-api-CANARY-1234")
    let basic = format!(
        "Basic {}",
        "b3BzQGV4YW1wbGUuY29tL3Rva2VuOnpkLWFwaS1DQU5BUlktMTIzNA=="
    );
    Mock::given(path("/api/v2/users/me"))
        .and(header("authorization", basic.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"user": {"id": 35436, "email": "ops@example.com", "role": "admin", "name": "Ops"}})))
        .expect(1)
        .mount(&server)
        .await;
    let me = client(&server).me().await.unwrap();
    assert!(me.authenticated());
    assert_eq!(me.email.as_deref(), Some("ops@example.com"));

    let server = MockServer::start().await;
    Mock::given(path("/api/v2/users/me"))
        .and(method("GET")).respond_with(ResponseTemplate::new(200).set_body_json(json!({"user": {"id": null, "name": "Anonymous user", "email": "invalid@example.com", "role": "end-user"}})))
        .mount(&server)
        .await;
    let me = client(&server).me().await.unwrap();
    assert!(
        !me.authenticated(),
        "an anonymous answer is not an authenticated user"
    );

    let server = MockServer::start().await;
    Mock::given(path("/api/v2/users/me"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": "Couldn't authenticate you"})),
        )
        .mount(&server)
        .await;
    let e = client(&server).me().await.unwrap_err();
    assert_eq!(status(&e), 401);
    assert!(e.to_string().contains("Couldn't authenticate you"));
    assert!(!e.to_string().contains(API_TOKEN));
}

#[tokio::test]
async fn installations_list_get_and_write_one_setting() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/apps/installations.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"installations": [
            {"id": 360001, "app_id": 11, "product": "support", "enabled": true, "settings": {"name": "GitLab Sync", "title": "GitLab Sync", "project_id": "12"}},
            {"id": 360002, "app_id": 12, "enabled": false, "settings": {"title": "Other"}}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/apps/installations/404.json"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": "RecordNotFound", "description": "Not found"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/apps/installations/360001.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 360001, "app_id": 11, "settings": {"name": "GitLab Sync", "project_id": "12"}})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/apps/installations/360001.json"))
        .and(body_json(
            json!({"settings": {"api_token": "glpat-NEW-CANARY"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 360001})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/apps/installations/360002.json"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({"error": "RecordInvalid", "description": "Record validation errors",
            "details": {"settings": [{"description": "Settings: api_token is too long", "error": "InvalidValue"}]}})))
        .expect(1).mount(&server)
        .await;
    let zd = client(&server);
    let all = zd.installations().await.unwrap();
    assert_eq!(
        all.iter()
            .map(|i| (i.id, i.name.as_str(), i.enabled))
            .collect::<Vec<_>>(),
        [(360001, "GitLab Sync", true), (360002, "Other", false)]
    );
    let one = zd.installation(360001).await.unwrap();
    assert_eq!(one.settings, ["name", "project_id"]);
    assert_eq!(status(&zd.installation(404).await.err().unwrap()), 404);
    zd.update_installation_setting(360001, "api_token", &SecretString::from("glpat-NEW-CANARY"))
        .await
        .unwrap();
    let e = zd
        .update_installation_setting(360002, "api_token", &SecretString::from("x"))
        .await
        .unwrap_err();
    assert_eq!(status(&e), 422);
    assert!(
        e.to_string()
            .contains("RecordInvalid: Record validation errors"),
        "{e}"
    );
    assert!(e.to_string().contains("api_token is too long"), "{e}");
}

#[tokio::test]
async fn webhooks_follow_the_cursor_to_the_second_page_and_patch_one_field() {
    let server = MockServer::start().await;
    let next = format!(
        "{}/api/v2/webhooks?page[size]=100&page[after]=abc",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/api/v2/webhooks"))
        .and(query_param("page[after]", "abc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"webhooks": [
            {"id": "01B", "name": "b", "endpoint": "https://b.example.com", "http_method": "POST", "status": "active"}],
            "meta": {"has_more": false, "after_cursor": null}, "links": {"next": null}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/webhooks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"webhooks": [
            {"id": "01A", "name": "a", "endpoint": "https://gitlab.com/api/v4/projects/1/trigger/pipeline?token=OLD&ref=main", "http_method": "POST", "status": "active"}],
            "meta": {"has_more": true, "after_cursor": "abc"}, "links": {"next": next}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/webhooks/01C"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"webhook": {"id": "01C", "name": "c",
            "endpoint": "https://c.example.com/in", "authentication": {"type": "basic_auth", "add_position": "header"}}})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v2/webhooks/01A"))
        .and(body_json(json!({"webhook": {"endpoint": "https://gitlab.com/api/v4/projects/1/trigger/pipeline?token=NEW&ref=main"}})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v2/webhooks/01C"))
        .and(body_json(
            json!({"webhook": {"authentication": {"type": "basic_auth", "add_position": "header",
            "data": {"username": "zendesk", "password": "NEW-CANARY"}}}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v2/webhooks/01D"))
        .and(body_json(
            json!({"webhook": {"authentication": {"type": "api_key", "add_position": "header",
            "data": {"name": "X-Api-Key", "value": "NEW-CANARY"}}}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v2/webhooks/01E"))
        .and(body_json(
            json!({"webhook": {"authentication": {"type": "bearer_token", "add_position": "header",
            "data": {"token": "NEW-CANARY"}}}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let zd = client(&server);
    let all = zd.webhooks().await.unwrap();
    assert_eq!(
        all.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        ["01A", "01B"]
    );
    let c = zd.webhook("01C").await.unwrap();
    let auth = c.authentication.unwrap();
    assert_eq!(
        (auth.kind.as_str(), auth.add_position.as_str()),
        ("basic_auth", "header")
    );
    let new = SecretString::from("NEW-CANARY");
    zd.patch_webhook_endpoint(
        "01A",
        &SecretString::from(
            "https://gitlab.com/api/v4/projects/1/trigger/pipeline?token=NEW&ref=main",
        ),
    )
    .await
    .unwrap();
    zd.patch_webhook_authentication(
        "01C",
        &WebhookCredential::Basic {
            username: "zendesk".into(),
            password: new.clone(),
        },
        "header",
    )
    .await
    .unwrap();
    zd.patch_webhook_authentication(
        "01D",
        &WebhookCredential::ApiKey {
            name: "X-Api-Key".into(),
            value: new.clone(),
        },
        "header",
    )
    .await
    .unwrap();
    zd.patch_webhook_authentication("01E", &WebhookCredential::Bearer(new), "header")
        .await
        .unwrap();
}

#[tokio::test]
async fn oauth_clients_tokens_create_current_and_revoke() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/oauth/clients"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"clients": [{"id": 223443, "name": "GitLab Sync", "identifier": "gitlab_sync"}],
            "meta": {"has_more": false}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/oauth/tokens"))
        .and(query_param("client_id", "223443"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tokens": [
            {"id": 1, "client_id": 223443, "token": "af3345kdj3", "scopes": ["read"], "created_at": "2026-01-01T00:00:00Z"}],
            "meta": {"has_more": false}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/oauth/tokens"))
        .and(body_json(json!({"token": {"client_id": 223443, "scopes": ["tickets:read", "users:write"]}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"token": {"id": 2, "client_id": 223443, "token": "abcdefghij",
            "full_token": "abcdefghij-FULL-CANARY-0987", "scopes": ["tickets:read", "users:write"]}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/oauth/tokens/current.json"))
        .and(header(
            "authorization",
            "Bearer abcdefghij-FULL-CANARY-0987",
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"token": {"id": 2, "scopes": ["users:write", "tickets:read"]}}),
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v2/oauth/tokens/1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let zd = client(&server);
    assert_eq!(
        zd.oauth_clients().await.unwrap()[0].identifier,
        "gitlab_sync"
    );
    let tokens = zd.oauth_tokens(223443).await.unwrap();
    assert_eq!(
        (tokens[0].id, tokens[0].scopes.clone()),
        (1, vec!["read".to_owned()])
    );
    let new = zd
        .create_oauth_token(223443, &["tickets:read".into(), "users:write".into()])
        .await
        .unwrap();
    assert_eq!(
        new.token.expose_secret(),
        "abcdefghij-FULL-CANARY-0987",
        "full_token wins over the cut token"
    );
    let current = zd
        .with_auth(Auth::OAuth(new.token))
        .current_oauth_token()
        .await
        .unwrap();
    assert_eq!(current.id, 2);
    zd.revoke_oauth_token(1).await.unwrap();
}

#[tokio::test]
async fn a_plain_text_429_is_waited_out() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/users/me"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string("Number of allowed API requests per minute exceeded"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"user": {"id": 1}})))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    assert!(client(&server).me().await.unwrap().authenticated());
    assert!(started.elapsed() >= Duration::from_secs(1));
}
