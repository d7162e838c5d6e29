//! Zendesk webhook signing secrets as a kind of token, end to end: the real binary against a
//! local server that answers as a Zendesk instance (`/api/v2`, the webhook and its secret, as
//! the webhooks API documents them) and as GitLab (`/api/v4`, the receiver's CI/CD variable).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{Env, requests, scan, stderr, stdout};
use crate::stand_in::mount_caller;

const GITLAB_CALLER: &str = "glpat-caller-CANARY-sg01";
const ZD_CALLER: &str = "zd-caller-CANARY-sg02";
const OLD_SECRET: &str = "b2xkLXNpZ25pbmctc2VjcmV0LUNBTkFSWS1zZzAz";
const NEW_SECRET: &str = "bmV3LXNpZ25pbmctc2VjcmV0LUNBTkFSWS1zZzA0";
const HOOK: &str = "01HSIGNEDHOOK";
const SECRET_PATH: &str = "/api/v2/webhooks/01HSIGNEDHOOK/signing_secret";
const VAR_PATH: &str = "/api/v4/projects/relay%2Fapp/variables/ZD_SIGNING_SECRET";

/// The webhook's signing secret as Zendesk keeps it: a GET shows it, a POST resets it (the
/// old one stops at once) and answers 201, with the new secret in the body or without a body.
struct Secret {
    current: Arc<Mutex<String>>,
    answer_with_secret: bool,
}

fn secret_doc(secret: &str) -> Value {
    json!({"signing_secret": {"algorithm": "sha256", "secret": secret}})
}

impl wiremock::Respond for Secret {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut current = self.current.lock().unwrap();
        if req.method.as_str() == "POST" {
            *current = NEW_SECRET.to_owned();
            return match self.answer_with_secret {
                true => ResponseTemplate::new(201).set_body_json(secret_doc(NEW_SECRET)),
                false => ResponseTemplate::new(201),
            };
        }
        ResponseTemplate::new(200).set_body_json(secret_doc(&current))
    }
}

fn webhook(external_source: Value) -> Value {
    json!({"webhook": {"id": HOOK, "name": "ticket events to relay", "status": "active",
        "endpoint": "https://relay.example.com/zendesk", "http_method": "POST",
        "request_format": "json", "subscriptions": ["conditional_ticket_events"],
        "external_source": external_source}})
}

fn variable(value: &str) -> Value {
    json!({"key": "ZD_SIGNING_SECRET", "value": value, "variable_type": "env_var",
           "protected": true, "masked": true, "hidden": false, "raw": false,
           "environment_scope": "*"})
}

/// The caller on both sides, the webhook, and its secret, reset `resets` times; returns the
/// secret as Zendesk holds it.
async fn server(
    answer_with_secret: bool,
    external_source: Value,
    resets: u64,
) -> (MockServer, Arc<Mutex<String>>) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/me"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"user": {"id": 5, "email": "ops@example.com", "role": "admin"}}),
            ),
        )
        .mount(&server)
        .await;
    mount_caller(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/webhooks/{HOOK}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(webhook(external_source)))
        .mount(&server)
        .await;
    let current = Arc::new(Mutex::new(OLD_SECRET.to_owned()));
    Mock::given(path(SECRET_PATH))
        .and(method("GET"))
        .respond_with(Secret {
            current: current.clone(),
            answer_with_secret,
        })
        .mount(&server)
        .await;
    Mock::given(path(SECRET_PATH))
        .and(method("POST"))
        .respond_with(Secret {
            current: current.clone(),
            answer_with_secret,
        })
        .expect(resets)
        .mount(&server)
        .await;
    (server, current)
}

/// The receiver's variable: read in preflight, written once with the new secret.
async fn receiver(server: &MockServer, writes: u64) {
    Mock::given(method("GET"))
        .and(path(VAR_PATH))
        .and(query_param("filter[environment_scope]", "*"))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable(OLD_SECRET)))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path(VAR_PATH))
        .and(body_json(
            json!({"value": NEW_SECRET, "variable_type": "env_var",
                              "protected": true, "masked": true, "raw": false}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable(NEW_SECRET)))
        .expect(writes)
        .mount(server)
        .await;
}

fn env_with_instance(server: &MockServer) -> Env {
    let env = Env::new();
    env.write(
        ".config/tokrot/config.toml",
        &format!("[zendesk.instances.zd]\nurl = \"{}\"\n", server.uri()),
    );
    env
}

fn tokrot(env: &Env, server: &MockServer, args: &[&str]) -> std::process::Output {
    env.tokrot()
        .env("GITLAB_TOKEN", GITLAB_CALLER)
        .env("ZENDESK_EMAIL", "ops@example.com")
        .env("ZENDESK_API_TOKEN", ZD_CALLER)
        .env("ZENDESK_INSTANCE", "zd")
        .args(["--gitlab-url", &server.uri()])
        .args(args)
        .output()
        .unwrap()
}

const ROTATE: [&str; 8] = [
    "rotate",
    "zendesk-webhook-secret",
    "--instance",
    "zd",
    "--webhook-id",
    HOOK,
    "--apply-to",
    "gitlab-ci-var:relay/app:ZD_SIGNING_SECRET",
];

const SECRETS: [&str; 4] = [GITLAB_CALLER, ZD_CALLER, OLD_SECRET, NEW_SECRET];

#[tokio::test]
async fn the_new_signing_secret_goes_to_its_receiver_in_the_same_run() {
    // Each way Zendesk may answer the reset: with the secret, or 201 without a body (the secret
    // is then read). Either way the reset is sent once and the receiver gets the new secret.
    for answer_with_secret in [true, false] {
        let (server, current) = server(answer_with_secret, Value::Null, 1).await;
        receiver(&server, 1).await;
        let env = env_with_instance(&server);

        // The dry run says the old secret stops at once and writes nothing.
        let mut dry = vec!["--dry-run"];
        dry.extend(ROTATE);
        let plan = tokrot(&env, &server, &dry);
        assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
        let text = stdout(&plan);
        assert!(
            text.contains("The old signing secret stops at once"),
            "{text}"
        );
        assert!(
            text.contains(&format!("POST {}{SECRET_PATH}", server.uri())),
            "{text}"
        );
        assert!(
            requests(&server)
                .await
                .iter()
                .all(|r| r.starts_with("GET "))
        );

        let mut run = vec!["--yes", "-v"];
        run.extend(ROTATE);
        let out = tokrot(&env, &server, &run);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("gitlab-ci-var:relay/app:ZD_SIGNING_SECRET  applied, verified: yes"),
            "{err}"
        );
        assert!(
            err.contains("Zendesk signs webhook 01HSIGNEDHOOK's requests with the new secret"),
            "{err}"
        );
        assert_eq!(*current.lock().unwrap(), NEW_SECRET);
        let requests = requests(&server).await;
        let posts: Vec<&String> = requests.iter().filter(|r| r.starts_with("POST ")).collect();
        assert_eq!(posts, [&format!("POST {SECRET_PATH}")], "{requests:#?}");
        // Read after the reset only when its answer did not hold the secret; then once more to
        // compare.
        let reads = requests
            .iter()
            .filter(|r| **r == format!("GET {SECRET_PATH}"))
            .count();
        assert_eq!(
            reads,
            if answer_with_secret { 1 } else { 2 },
            "{requests:#?}"
        );
        scan(&env, &[&plan, &out], &SECRETS);

        // The run is journaled, done.
        let history = tokrot(&env, &server, &["history", "--output", "json"]);
        let doc = crate::common::json_doc(&history);
        assert_eq!(doc["runs"][0]["runbook"], "zendesk-webhook-secret");
        assert_eq!(doc["runs"][0]["status"], "done");
        scan(&env, &[&history], &SECRETS);
    }
}

#[tokio::test]
async fn a_webhook_made_by_an_app_is_refused_before_anything_changes() {
    let (server, current) = server(true, json!({"data": {"installation_id": 1}}), 0).await;
    receiver(&server, 0).await;
    let env = env_with_instance(&server);
    let mut run = vec!["--yes"];
    run.extend(ROTATE);
    let out = tokrot(&env, &server, &run);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("was made by a Zendesk app"),
        "{}",
        stderr(&out)
    );
    assert_eq!(*current.lock().unwrap(), OLD_SECRET);
    assert!(
        requests(&server)
            .await
            .iter()
            .all(|r| r.starts_with("GET "))
    );
    scan(&env, &[&out], &SECRETS);
}

#[tokio::test]
async fn a_reset_zendesk_refuses_says_why_and_is_not_sent_again() {
    // Zendesk's refusal answers the reset (it takes priority): the builder's never does.
    let (server, current) = server(true, Value::Null, 0).await;
    Mock::given(method("POST"))
        .and(path(SECRET_PATH))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"errors": [{"code": "Forbidden", "title": "Forbidden"}]})),
        )
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    receiver(&server, 0).await;
    let env = env_with_instance(&server);
    let mut run = vec!["--yes"];
    run.extend(ROTATE);
    let out = tokrot(&env, &server, &run);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Zendesk did not reset webhook 01HSIGNEDHOOK's signing secret"),
        "{}",
        stderr(&out)
    );
    assert_eq!(*current.lock().unwrap(), OLD_SECRET);
    scan(&env, &[&out], &SECRETS);
}

#[tokio::test]
async fn status_knows_a_signing_secret_credential() {
    let (server, _) = server(true, Value::Null, 0).await;
    let env = env_with_instance(&server);
    let inventory = env.write(
        "team/tokrot.toml",
        &format!(
            r#"[[credential]]
name = "relay-signing"
runbook = "zendesk-webhook-secret"
params = {{ instance = "zd", webhook_id = "{HOOK}" }}
targets = ["gitlab-ci-var:relay/app:ZD_SIGNING_SECRET"]
"#
        ),
    );
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", GITLAB_CALLER)
        .env("ZENDESK_EMAIL", "ops@example.com")
        .env("ZENDESK_API_TOKEN", ZD_CALLER)
        .env("ZENDESK_INSTANCE", "zd")
        .env("TOKROT_INVENTORY", &inventory)
        .args(["--gitlab-url", &server.uri(), "status", "--output", "json"])
        .output()
        .unwrap();
    let doc = crate::common::json_doc(&out);
    let row = &doc["tokens"][0];
    assert_eq!(row["name"], "relay-signing", "{doc:#}");
    assert_eq!(row["kind"], "zendesk-webhook-secret");
    // A signing secret does not expire, and its webhook is there.
    assert_eq!(row["expires"], Value::Null, "{doc:#}");
    assert_eq!(row["state"], "no-expiry", "{doc:#}");
    assert_eq!(
        row["consumers"],
        json!(["gitlab-ci-var:relay/app:ZD_SIGNING_SECRET"])
    );
    scan(&env, &[&out], &SECRETS);
}
