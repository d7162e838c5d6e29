//! Group webhooks (Premium) and instance-level CI/CD variables (administrators of a
//! self-managed GitLab) as consumers, end to end through the real binary against a local GitLab
//! that answers as GitLab documents.

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{Env, day, scan, stderr, stdout};

const CALLER: &str = "glpat-caller-CANARY-cn01";
const NEW: &str = "glpat-NEWTOKEN-CANARY-cn02";
const OLD_VALUE: &str = "relay-old-CANARY-cn03";

const GROUP_HOOK: &str = "/api/v4/groups/grp%2Fsub/hooks/9";
const INSTANCE_VAR: &str = "/api/v4/admin/ci/variables/RELAY_TOKEN";
const HOOK_URL: &str = "https://relay.example.com/gitlab";

/// An instance variable as GitLab shows it: no environment scope, never hidden.
fn instance_variable(value: &str) -> Value {
    json!({"key": "RELAY_TOKEN", "value": value, "variable_type": "env_var", "protected": true,
           "masked": true, "raw": false, "description": "relay"})
}

fn token(id: u64) -> Value {
    json!({"id": id, "name": "relay", "revoked": false, "active": true,
           "created_at": format!("{}T10:00:00.000Z", day(-60)), "expires_at": day(20),
           "scopes": ["api"], "user_id": 1})
}

/// The caller, a personal access token that rotates once, and the new token's check.
async fn gitlab() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .and(header("PRIVATE-TOKEN", CALLER))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 1, "username": "root"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/self"))
        .and(header("PRIVATE-TOKEN", NEW))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(43)))
        .mount(&server)
        .await;
    server
}

/// The rotate call, expected `times`.
async fn rotate_call(server: &MockServer, times: u64) {
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .and(header("PRIVATE-TOKEN", CALLER))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 43, "name": "relay",
            "active": true, "revoked": false, "expires_at": day(80), "token": NEW})),
        )
        .expect(times)
        .mount(server)
        .await;
}

/// The group webhook, read once; its write expected `writes` times.
async fn group_hook(server: &MockServer, writes: u64) {
    let hook = json!({"id": 9, "url": HOOK_URL, "group_id": 5, "push_events": true});
    Mock::given(method("GET"))
        .and(path(GROUP_HOOK))
        .respond_with(ResponseTemplate::new(200).set_body_json(hook.clone()))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path(GROUP_HOOK))
        .and(body_json(json!({"url": HOOK_URL, "token": NEW})))
        .respond_with(ResponseTemplate::new(200).set_body_json(hook))
        .expect(writes)
        .mount(server)
        .await;
}

/// The instance variable, read `reads` times; its write (flags sent back as they were) expected
/// `writes` times.
async fn instance_var(server: &MockServer, reads: u64, writes: u64) {
    Mock::given(method("GET"))
        .and(path(INSTANCE_VAR))
        .and(header("PRIVATE-TOKEN", CALLER))
        .respond_with(ResponseTemplate::new(200).set_body_json(instance_variable(OLD_VALUE)))
        .expect(reads)
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path(INSTANCE_VAR))
        .and(body_json(
            json!({"value": NEW, "variable_type": "env_var", "protected": true,
                              "masked": true, "raw": false}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(instance_variable(NEW)))
        .expect(writes)
        .mount(server)
        .await;
}

fn rotate(env: &Env, server: &MockServer, extra: &[&str]) -> std::process::Output {
    env.tokrot()
        .env("GITLAB_TOKEN", CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes", "-v"])
        .args(["rotate", "gitlab-pat", "--token-id", "42", "--expires-at"])
        .arg(day(80))
        .args(extra)
        .output()
        .unwrap()
}

/// Every request the server received: `METHOD path?query`.
async fn requests(server: &MockServer) -> Vec<String> {
    let all = server.received_requests().await.unwrap_or_default();
    all.iter()
        .map(|r: &Request| match r.url.query() {
            Some(q) => format!("{} {}?{q}", r.method, r.url.path()),
            None => format!("{} {}", r.method, r.url.path()),
        })
        .collect()
}

#[tokio::test]
async fn a_group_webhook_and_an_instance_variable_receive_the_rotated_token() {
    let server = gitlab().await;
    rotate_call(&server, 1).await;
    group_hook(&server, 1).await;
    instance_var(&server, 1, 1).await;
    let env = Env::new();
    let targets = [
        "--apply-to",
        "gitlab-group-webhook:grp/sub:9",
        "--apply-to",
        "gitlab-instance-var:RELAY_TOKEN",
    ];

    // The dry run names both calls and sends nothing.
    let plan = env
        .tokrot()
        .args(["--gitlab-url", &server.uri(), "--dry-run"])
        .args(["rotate", "gitlab-pat", "--token-id", "42"])
        .args(targets)
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let text = stdout(&plan);
    let uri = server.uri();
    assert!(text.contains(&format!("PUT {uri}{GROUP_HOOK}")), "{text}");
    assert!(
        text.contains(&format!("PUT {uri}{INSTANCE_VAR}\n")),
        "{text}"
    );
    assert!(
        text.contains("secret token of webhook 9 of group grp/sub"),
        "{text}"
    );
    assert!(requests(&server).await.is_empty());

    let out = rotate(&env, &server, &targets);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("gitlab-group-webhook:grp/sub:9   applied, verified: not-readable"),
        "{err}"
    );
    assert!(
        err.contains("gitlab-instance-var:RELAY_TOKEN  applied, verified: yes"),
        "{err}"
    );
    // An instance variable has no scope: no filter goes with its calls (a read and a write).
    let sent = requests(&server).await;
    let admin: Vec<&String> = sent.iter().filter(|r| r.contains("/admin/")).collect();
    assert_eq!(admin.len(), 2, "{sent:#?}");
    assert!(admin.iter().all(|r| !r.contains('?')), "{sent:#?}");
    scan(&env, &[&plan, &out], &[CALLER, NEW, OLD_VALUE]);

    // The journal names both targets with their kinds.
    let history = env
        .tokrot()
        .args(["history", "--output", "json"])
        .output()
        .unwrap();
    let doc = crate::common::json_doc(&history);
    let specs: Vec<&str> = doc["runs"][0]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["spec"].as_str())
        .collect();
    assert_eq!(
        specs,
        [
            "gitlab-group-webhook:grp/sub:9",
            "gitlab-instance-var:RELAY_TOKEN"
        ]
    );
}

#[tokio::test]
async fn a_group_without_webhooks_or_a_caller_who_is_no_admin_stops_before_the_rotate() {
    // A group on a tier without group webhooks answers 404; a non-administrator gets 403 on
    // /admin. Each stops the run in preflight: nothing was changed, and the error says why.
    for (kind, spec, at, status, says) in [
        (
            "group webhook",
            "gitlab-group-webhook:grp/sub:9",
            GROUP_HOOK,
            404,
            "group webhooks are a GitLab Premium feature",
        ),
        (
            "instance variable",
            "gitlab-instance-var:RELAY_TOKEN",
            INSTANCE_VAR,
            403,
            "administrators of a self-managed GitLab only",
        ),
    ] {
        let server = gitlab().await;
        rotate_call(&server, 0).await;
        let message = match status {
            404 => "404 Not Found",
            _ => "403 Forbidden",
        };
        Mock::given(method("GET"))
            .and(path(at))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({"message": message})))
            .mount(&server)
            .await;
        let env = Env::new();
        let out = rotate(&env, &server, &["--apply-to", spec]);
        assert_eq!(out.status.code(), Some(2), "{kind}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(says), "{kind}: {err}");
        assert!(err.contains("nothing was changed"), "{kind}: {err}");
        let sent = requests(&server).await;
        assert!(
            sent.iter().all(|r| r.starts_with("GET ")),
            "{kind}: {sent:#?}"
        );
        scan(&env, &[&out], &[CALLER]);
    }
}

#[tokio::test]
async fn apply_to_an_instance_variable_keeps_its_flags_and_refuses_what_masking_cannot_hold() {
    let server = gitlab().await;
    // Read by each apply; written by the first only.
    instance_var(&server, 2, 1).await;
    let env = Env::new();
    let apply = |value: &str| {
        env.tokrot()
            .env("GITLAB_TOKEN", CALLER)
            .args(["--gitlab-url", &server.uri(), "--yes"])
            .args(["apply", "gitlab-instance-var", "--key", "RELAY_TOKEN"])
            .arg("--token-stdin")
            .write_stdin(format!("{value}\n"))
            .output()
            .unwrap()
    };
    let out = apply(NEW);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("read back: holds the new value"),
        "{}",
        stderr(&out)
    );
    // A value a masked variable cannot hold (`#` and `$`) is refused before any write: the one
    // write above is all the server got.
    let before = server.received_requests().await.unwrap_or_default().len();
    let refused = apply("relay#new$CANARYcn04xx");
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("RELAY_TOKEN is masked"),
        "{}",
        stderr(&refused)
    );
    let sent = requests(&server).await;
    assert!(
        sent[before..].iter().all(|r| r.starts_with("GET ")),
        "{sent:#?}"
    );
    scan(
        &env,
        &[&out, &refused],
        &[CALLER, NEW, OLD_VALUE, "relay#new$CANARYcn04xx"],
    );
}

#[tokio::test]
async fn the_inventory_and_status_know_both_kinds() {
    let server = gitlab().await;
    let env = Env::new();
    let inventory = env.write(
        "team/tokrot.toml",
        r#"[[credential]]
name = "relay-bot"
runbook = "gitlab-pat"
params = { token_id = "42" }
targets = ["gitlab-group-webhook:Grp/Sub:9", "gitlab-instance-var:RELAY_TOKEN"]

[[credential]]
name = "relay-copy"
runbook = "gitlab-pat"
params = { token_id = "77" }
targets = ["gitlab-group-webhook:grp/sub:9"]
"#,
    );
    let run = |args: &[&str]| {
        env.tokrot()
            .env("GITLAB_TOKEN", CALLER)
            .env("TOKROT_INVENTORY", &inventory)
            .args(["--gitlab-url", &server.uri()])
            .args(args)
            .output()
            .unwrap()
    };
    // One webhook written by two credentials, whatever the case of the group's path: the
    // check says so (one of them would overwrite the other's token).
    let check = run(&["inventory", "check"]);
    assert_eq!(check.status.code(), Some(2), "{}", stderr(&check));
    assert!(
        stderr(&check).contains(
            "`gitlab-group-webhook:grp/sub:9` is written by both `relay-bot` and `relay-copy`"
        ),
        "{}",
        stderr(&check)
    );
    let text = std::fs::read_to_string(&inventory).unwrap();
    let (first, _) = text.split_once("\n\n").unwrap();
    // (The stand-in finds the group by its path as written here.)
    let first = first.replace("Grp/Sub", "grp/sub");
    std::fs::write(&inventory, format!("{first}\n")).unwrap();
    // The check reads each target once, as a rotation's preflight would, and writes nothing.
    group_hook(&server, 0).await;
    instance_var(&server, 1, 0).await;
    let check = run(&["inventory", "check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    let status = run(&["status", "--output", "json"]);
    let doc = crate::common::json_doc(&status);
    let relay = doc["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "relay-bot")
        .unwrap();
    assert_eq!(
        relay["consumers"],
        json!([
            "gitlab-group-webhook:grp/sub:9",
            "gitlab-instance-var:RELAY_TOKEN"
        ])
    );
    assert_eq!(relay["expires"], json!(day(20)));
    scan(&env, &[&check, &status], &[CALLER]);
}
