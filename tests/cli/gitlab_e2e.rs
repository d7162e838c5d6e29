//! GitLab rotations end to end: the real binary against a local GitLab, with `--yes`, for each
//! of the five GitLab sources with one CI/CD variable and one webhook as targets.

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{Env, assert_no_canary, day, stderr, stdout, writes};
use crate::stand_in::mount_caller;

const CALLER: &str = "glpat-caller-CANARY-aaaa1111";
const NEW: &str = "glpat-NEWTOKEN-CANARY-bbbb2222";
const BOT: &str = "glpat-BOTTOKEN-CANARY-cccc3333";

const VAR_PATH: &str = "/api/v4/projects/grp%2Fproj/variables/API_TOKEN";
const HOOK_PATH: &str = "/api/v4/projects/grp%2Fproj/hooks/7";
const TARGETS: [&str; 4] = [
    "--apply-to",
    "gitlab-ci-var:grp/proj:API_TOKEN",
    "--apply-to",
    "gitlab-webhook:grp/proj:7",
];

fn variable(value: &str) -> Value {
    json!({"key": "API_TOKEN", "value": value, "variable_type": "env_var", "protected": true,
           "masked": true, "hidden": false, "raw": false, "environment_scope": "*", "description": null})
}

fn token(id: u64, name: &str) -> Value {
    json!({"id": id, "name": name, "revoked": false, "active": true, "created_at": format!("{}T10:00:00.000Z", day(-60)),
           "expires_at": day(31), "scopes": ["api"], "user_id": 1, "last_used_at": format!("{}T08:00:00Z", day(-2))})
}

/// The caller, the two targets, and the writes they expect.
async fn gitlab_with_targets() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .and(header("PRIVATE-TOKEN", CALLER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1, "username": "ops"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(VAR_PATH))
        .and(query_param("filter[environment_scope]", "*"))
        .and(header("PRIVATE-TOKEN", CALLER))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable("old-value-CANARY-dddd")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(VAR_PATH))
        .and(query_param("filter[environment_scope]", "*"))
        .and(header("PRIVATE-TOKEN", CALLER))
        .and(body_json(
            json!({"value": NEW, "variable_type": "env_var", "protected": true, "masked": true,
                              "raw": false}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable(NEW)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 7, "url": "https://hooks.example.com/gitlab", "push_events": true}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(HOOK_PATH))
        .and(body_json(
            json!({"url": "https://hooks.example.com/gitlab", "token": NEW}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 7, "url": "https://hooks.example.com/gitlab", "push_events": true}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    server
}

/// Runs the binary against the server, with the caller's token in the environment.
fn run(env: &Env, server: &MockServer, args: &[&str]) -> std::process::Output {
    env.tokrot()
        .env("GITLAB_TOKEN", CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes", "-v"])
        .args(args)
        .args(TARGETS)
        .output()
        .unwrap()
}

fn assert_targets_done(out: &std::process::Output) {
    let err = stderr(out);
    assert!(
        err.contains("gitlab-ci-var:grp/proj:API_TOKEN  applied, verified: yes"),
        "{err}"
    );
    assert!(
        err.contains("gitlab-webhook:grp/proj:7         applied, verified: not-readable"),
        "{err}"
    );
}

#[tokio::test]
async fn gitlab_pat_rotation_applies_the_new_token_to_a_variable_and_a_webhook() {
    let server = gitlab_with_targets().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42, "zendesk sync")))
        // In preflight, and again under the lock just before the rotate call.
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .and(header("PRIVATE-TOKEN", CALLER))
        .and(body_json(json!({"expires_at": "2027-03-31"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 43, "name": "zendesk sync", "active": true, "revoked": false, "expires_at": "2027-03-31", "token": NEW})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/self"))
        .and(header("PRIVATE-TOKEN", NEW))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(43, "zendesk sync")))
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    let out = run(
        &env,
        &server,
        &[
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--expires-at",
            "2027-03-31",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_targets_done(&out);
    assert!(
        stderr(&out).contains("New token: id 43, expires 2027-03-31 (never shown)."),
        "{}",
        stderr(&out)
    );
    assert_writes(
        &server,
        &["POST /api/v4/personal_access_tokens/42/rotate"],
        &[],
    )
    .await;
    assert_no_canary(&env, &[&out]);
}

/// The server received exactly these writes: `before` in order, then the two target writes in
/// any order (targets run side by side), then `after` in order. Nothing else was written.
async fn assert_writes(server: &MockServer, before: &[&str], after: &[&str]) {
    let got = writes(server).await;
    let n = before.len();
    assert!(got.len() == n + 2 + after.len(), "writes: {got:#?}");
    assert_eq!(&got[..n], before, "writes: {got:#?}");
    let mut middle = got[n..n + 2].to_vec();
    middle.sort();
    assert_eq!(
        middle,
        [format!("PUT {HOOK_PATH}"), format!("PUT {VAR_PATH}")],
        "writes: {got:#?}"
    );
    assert_eq!(&got[n + 2..], after, "writes: {got:#?}");
}

async fn mount_bot_free_sources(server: &MockServer, owner_path: &str, verify_path: &str) {
    Mock::given(method("GET"))
        .and(path(format!("{owner_path}/access_tokens/12")))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(12, "deploy")))
        // In preflight, and again under the lock just before the rotate call.
        .expect(2)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{owner_path}/access_tokens/12/rotate")))
        .and(header("PRIVATE-TOKEN", CALLER))
        // GitLab answers with the expiry it was sent.
        .respond_with(|req: &Request| {
            let sent: Value = serde_json::from_slice(&req.body).unwrap();
            ResponseTemplate::new(201).set_body_json(json!({"id": 13, "name": "deploy", "active": true, "expires_at": sent["expires_at"], "token": NEW}))
        })
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(verify_path))
        .and(header("PRIVATE-TOKEN", NEW))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 99})))
        .expect(1)
        .mount(server)
        .await;
}

/// The body of the one request to `path`.
async fn body_of(server: &MockServer, p: &str) -> Value {
    let reqs = server.received_requests().await.unwrap_or_default();
    let r = reqs
        .iter()
        .find(|r| r.url.path() == p)
        .unwrap_or_else(|| panic!("no request to {p}"));
    serde_json::from_slice(&r.body).unwrap()
}

#[tokio::test]
async fn gitlab_project_token_rotation_keeps_the_old_lifetime() {
    let server = gitlab_with_targets().await;
    mount_bot_free_sources(
        &server,
        "/api/v4/projects/grp%2Fproj",
        "/api/v4/projects/grp%2Fproj",
    )
    .await;
    let env = Env::new();
    let out = run(
        &env,
        &server,
        &[
            "rotate",
            "gitlab-project-token",
            "--project",
            "grp/proj",
            "--token-id",
            "12",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_targets_done(&out);
    assert_writes(
        &server,
        &["POST /api/v4/projects/grp%2Fproj/access_tokens/12/rotate"],
        &[],
    )
    .await;
    // The old token lived 91 days (60 ago to 31 ahead): 91 days, counted again from today.
    let expected = day(91);
    let body = body_of(
        &server,
        "/api/v4/projects/grp%2Fproj/access_tokens/12/rotate",
    )
    .await;
    assert_eq!(body, json!({"expires_at": expected}));
    assert!(stderr(&out).contains(&format!("expires {expected}")));
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn gitlab_group_token_rotation_applies_the_new_token() {
    let server = gitlab_with_targets().await;
    mount_bot_free_sources(
        &server,
        "/api/v4/groups/grp%2Fsub",
        "/api/v4/groups/grp%2Fsub",
    )
    .await;
    let env = Env::new();
    let out = run(
        &env,
        &server,
        &[
            "rotate",
            "gitlab-group-token",
            "--group",
            "grp/sub",
            "--token-id",
            "12",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_writes(
        &server,
        &["POST /api/v4/groups/grp%2Fsub/access_tokens/12/rotate"],
        &[],
    )
    .await;
    let report: Value = crate::common::json_doc(&out);
    assert_eq!(report["status"], "done");
    assert_eq!(report["source"]["new_id"], 13);
    assert_eq!(report["targets"][0]["status"], "applied");
    assert_eq!(report["targets"][0]["verified"], "yes");
    assert_eq!(report["targets"][1]["verified"], "not-readable");
    assert!(
        report["rotation_id"]
            .as_str()
            .unwrap()
            .contains("gitlab-group-token")
    );
    assert_no_canary(&env, &[&out]);
}

async fn mount_old_trigger(server: &MockServer, deletes: u64) {
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers/9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 9, "description": "deploy-docs", "token": "a1b2", "last_used": null}),
        ))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers/9"))
        .respond_with(ResponseTemplate::new(204))
        .expect(deletes)
        .mount(server)
        .await;
}

#[tokio::test]
async fn gitlab_trigger_is_created_applied_and_the_old_one_deleted_last() {
    let server = gitlab_with_targets().await;
    mount_old_trigger(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers"))
        .and(header("PRIVATE-TOKEN", CALLER))
        .and(body_json(json!({"description": "deploy-docs"})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": 10, "description": "deploy-docs", "token": NEW})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
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
            "ci-job:deploy-docs",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_targets_done(&out);
    assert_writes(
        &server,
        &["POST /api/v4/projects/grp%2Fproj/triggers"],
        &["DELETE /api/v4/projects/grp%2Fproj/triggers/9"],
    )
    .await;
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn with_keep_the_old_trigger_is_left_in_place_for_after_the_apply() {
    let server = MockServer::start().await;
    mount_caller(&server).await;
    mount_old_trigger(&server, 0).await;
    Mock::given(method("POST"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": 10, "description": "deploy-docs", "token": NEW})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    // The checklist says so before anything is run.
    let dry = env
        .tokrot()
        .args([
            "rotate",
            "gitlab-trigger",
            "--project",
            "grp/proj",
            "--trigger-id",
            "9",
        ])
        .args(["--for", "ci-job:deploy-docs", "--keep", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("With --keep, these wait for `tokrot resume ID`"),
        "{}",
        stdout(&dry)
    );
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes"])
        .args([
            "rotate",
            "gitlab-trigger",
            "--project",
            "grp/proj",
            "--trigger-id",
            "9",
        ])
        .args(["--for", "ci-job:deploy-docs", "--keep"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("Kept: the new token waits in the OS keyring"),
        "{err}"
    );
    assert!(err.contains("Left for after that"), "{err}");
    assert!(err.contains("Delete the old trigger 9"), "{err}");
    assert_eq!(
        writes(&server).await,
        ["POST /api/v4/projects/grp%2Fproj/triggers"],
        "only the new trigger is made; the old one stays"
    );
    let id = env.latest_run();
    let run = env
        .tokrot()
        .args(["--output", "json", "history", &id])
        .output()
        .unwrap();
    let run = crate::common::json_doc(&run);
    assert_eq!(run["run"]["status"], "kept");
    let last = run["run"]["steps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["status"], "skipped", "{run:#}");
    assert!(
        err.contains(&format!("`tokrot resume {id}` carries them out")),
        "{err}"
    );

    // Once the new token is in place, resume retires the old trigger, once.
    // What was expected of the first run is checked before the stand-in is reset.
    server.verify().await;
    server.reset().await;
    mount_caller(&server).await;
    // GitLab no longer has it (an earlier attempt's answer was lost): gone is what was wanted.
    Mock::given(method("DELETE"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers/9"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not found"})))
        .expect(1)
        .mount(&server)
        .await;
    let resume = || {
        env.tokrot()
            .env("GITLAB_TOKEN", CALLER)
            .args(["--gitlab-url", &server.uri(), "--yes", "resume", &id])
            .output()
            .unwrap()
    };
    // Not before the new token is somewhere: the old one is all its consumers have.
    let early = resume();
    assert_eq!(early.status.code(), Some(2), "{}", stderr(&early));
    assert!(
        stderr(&early).contains(&format!("no `tokrot apply … --from {id}` has put")),
        "{}",
        stderr(&early)
    );
    assert!(
        writes(&server).await.is_empty(),
        "nothing is sent before the token is in place"
    );
    Mock::given(method("GET"))
        .and(path(VAR_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable("old-value-CANARY-dddd")))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(VAR_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable(NEW)))
        .expect(1)
        .mount(&server)
        .await;
    let applied = env
        .tokrot()
        .env("GITLAB_TOKEN", CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes"])
        .args([
            "apply",
            "gitlab-ci-var",
            "--project",
            "grp/proj",
            "--key",
            "API_TOKEN",
        ])
        .args(["--from", &id])
        .output()
        .unwrap();
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    let resumed = resume();
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains("left the old token's retirement for now"),
        "{}",
        stderr(&resumed)
    );
    assert!(
        stderr(&resumed).contains("trigger 9 is gone already"),
        "{}",
        stderr(&resumed)
    );
    assert_eq!(
        writes(&server).await,
        [
            format!("PUT {VAR_PATH}"),
            "DELETE /api/v4/projects/grp%2Fproj/triggers/9".to_owned()
        ]
    );
    // Applied once and retired: the kept run is over, its keyring copy gone.
    assert!(
        stderr(&resumed).contains(&format!("Run {id} is done: its new token is in place")),
        "{}",
        stderr(&resumed)
    );
    let history = env
        .tokrot()
        .args(["--output", "json", "history", &id])
        .output()
        .unwrap();
    let doc = crate::common::json_doc(&history);
    assert_eq!(doc["run"]["status"], "done", "{doc:#}");
    // The keyring copy is gone: nothing can be applied from the run any more.
    let from_gone = env
        .tokrot()
        .env("GITLAB_TOKEN", CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes"])
        .args([
            "apply",
            "gitlab-ci-var",
            "--project",
            "grp/proj",
            "--key",
            "API_TOKEN",
        ])
        .args(["--from", &id])
        .output()
        .unwrap();
    assert_eq!(from_gone.status.code(), Some(2), "{}", stderr(&from_gone));
    let again = resume();
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("has already finished"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        writes(&server).await.len(),
        2,
        "the old trigger is deleted once"
    );
    assert_no_canary(&env, &[&out]);
    assert_no_canary(&env, &[&resumed]);
}

#[tokio::test]
async fn gitlab_trigger_bot_creates_its_token_and_acts_as_the_bot() {
    let server = gitlab_with_targets().await;
    // The old trigger was made as the previous bot (user 301); its Maintainer token is revoked
    // once the trigger is gone, and the new bot's (user 302) is kept.
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers/9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 9, "description": "deploy-docs", "token": "a1b2", "last_used": null, "owner": {"id": 301, "username": "project_88_bot_1"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers/9"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/access_tokens"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 50, "name": "pipeline-trigger-bot", "user_id": 301, "active": true, "revoked": false, "scopes": ["api"], "access_level": 40},
            {"id": 55, "name": "pipeline-trigger-bot", "user_id": 302, "active": true, "revoked": false, "scopes": ["api"], "access_level": 40},
        ])))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v4/projects/grp%2Fproj/access_tokens/50"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/projects/grp%2Fproj/access_tokens"))
        .and(header("PRIVATE-TOKEN", CALLER))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 55, "name": "pipeline-trigger-bot", "token": BOT, "expires_at": "2027-11-28", "access_level": 40})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers"))
        .and(header("PRIVATE-TOKEN", BOT))
        .and(body_json(
            json!({"description": "Zendesk Global - GitLab Sync"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": 10, "description": "Zendesk Global - GitLab Sync", "token": NEW}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    let out = run(
        &env,
        &server,
        &[
            "rotate",
            "gitlab-trigger-bot",
            "--project",
            "grp/proj",
            "--for",
            "zendesk-app:global:GitLab Sync",
            "--old-trigger-id",
            "9",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_targets_done(&out);
    assert_writes(
        &server,
        &[
            "POST /api/v4/projects/grp%2Fproj/access_tokens",
            "POST /api/v4/projects/grp%2Fproj/triggers",
        ],
        &[
            "DELETE /api/v4/projects/grp%2Fproj/triggers/9",
            "DELETE /api/v4/projects/grp%2Fproj/access_tokens/50",
        ],
    )
    .await;
    assert!(
        stderr(&out).contains("the previous bot's project access token revoked: 50"),
        "{}",
        stderr(&out)
    );
    let body = body_of(&server, "/api/v4/projects/grp%2Fproj/access_tokens").await;
    assert_eq!(body["name"], "pipeline-trigger-bot");
    assert_eq!(body["scopes"], json!(["api"]));
    assert_eq!(body["access_level"], 40);
    assert!(body["expires_at"].is_string(), "expires_at is always sent");
    assert_no_canary(&env, &[&out]);
}

/// A GitLab whose rotate call answers `status`: the call must be made exactly once.
async fn rotate_answers(status: u16) -> MockServer {
    let server = gitlab_with_targets_unchecked().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42, "t")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("retry-after", "1")
                .set_body_string(if status == 429 { "Retry later" } else { "" }),
        )
        .expect(1)
        .mount(&server)
        .await;
    server
}

/// The targets' reads, without write expectations (for runs that must not get that far).
async fn gitlab_with_targets_unchecked() -> MockServer {
    let server = MockServer::start().await;
    mount_caller(&server).await;
    Mock::given(method("GET"))
        .and(path(VAR_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable("old-value-CANARY-dddd")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(HOOK_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 7, "url": "https://hooks.example.com/gitlab"})),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_rotate_call_is_made_once_even_when_it_gets_500_or_429() {
    let env = Env::new();
    let server = rotate_answers(500).await;
    let out = run(&env, &server, &["rotate", "gitlab-pat", "--token-id", "42"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("the outcome is unknown"), "{err}");
    assert!(
        err.contains("do NOT run the rotation again with the old token"),
        "{err}"
    );
    assert_eq!(
        writes(&server).await,
        ["POST /api/v4/personal_access_tokens/42/rotate"]
    );

    let server = rotate_answers(429).await;
    let out = run(&env, &server, &["rotate", "gitlab-pat", "--token-id", "42"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("429"), "{}", stderr(&out));
    assert_eq!(
        writes(&server).await,
        ["POST /api/v4/personal_access_tokens/42/rotate"]
    );
}

#[tokio::test]
async fn a_missing_or_unwritable_target_stops_in_preflight_before_the_rotate_call() {
    for (status, body) in [
        (404, json!({"message": "404 Variable Not Found"})),
        (403, json!({"message": "403 Forbidden"})),
    ] {
        let server = MockServer::start().await;
        mount_caller(&server).await;
        Mock::given(method("GET"))
            .and(path("/api/v4/personal_access_tokens/42"))
            .respond_with(ResponseTemplate::new(200).set_body_json(token(42, "t")))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(VAR_PATH))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(HOOK_PATH))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": 7, "url": "https://hooks.example.com/gitlab"})),
            )
            .mount(&server)
            .await;
        let env = Env::new();
        let out = run(&env, &server, &["rotate", "gitlab-pat", "--token-id", "42"]);
        assert_eq!(out.status.code(), Some(2), "{status}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("preflight failed, nothing was changed"),
            "{err}"
        );
        assert!(err.contains("gitlab-ci-var:grp/proj:API_TOKEN"), "{err}");
        assert!(err.contains(&status.to_string()), "{err}");
        assert!(writes(&server).await.is_empty(), "no rotate call, no write");
    }
}

#[tokio::test]
async fn a_value_a_masked_variable_cannot_hold_is_refused_before_it_is_written() {
    let server = gitlab_with_targets_unchecked().await;
    mount_old_trigger(&server, 0).await;
    Mock::given(method("POST"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": 10, "description": "x", "token": "glptt-0123456789#abcdef"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(HOOK_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 7, "url": "https://hooks.example.com/gitlab"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
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
            "--description",
            "x",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "not written to API_TOKEN: a masked variable's value may only hold letters, digits and @ _ - : + . ~ = /"
        ),
        "{err}"
    );
    assert!(
        err.contains("Incomplete: 1 of 2 target(s) were not updated."),
        "{err}"
    );
    assert!(
        err.contains("not done: 10. Delete the old trigger 9"),
        "{err}"
    );
    let got = writes(&server).await;
    assert!(
        !got.iter()
            .any(|w| w.starts_with("PUT /api/v4/projects/grp%2Fproj/variables")),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|w| w.starts_with("DELETE")),
        "the old trigger is kept: {got:?}"
    );
    assert!(!err.contains("0123456789#abcdef"));
}

#[tokio::test]
async fn a_cross_origin_redirect_never_carries_the_credential() {
    let other = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&other)
        .await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .respond_with(
            ResponseTemplate::new(301)
                .insert_header("location", format!("{}/api/v4/user", other.uri()).as_str()),
        )
        .mount(&server)
        .await;
    let env = Env::new();
    let out = run(&env, &server, &["rotate", "gitlab-pat", "--token-id", "42"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("redirected to another origin"),
        "{}",
        stderr(&out)
    );
    assert!(
        other
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn apply_gitlab_ci_var_and_webhook_on_their_own_read_the_token_from_stdin() {
    let server = gitlab_with_targets().await;
    let env = Env::new();
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes"])
        .args([
            "apply",
            "gitlab-ci-var",
            "--project",
            "grp/proj",
            "--key",
            "API_TOKEN",
            "--token-stdin",
        ])
        .write_stdin(format!("{NEW}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("read back: holds the new value"),
        "{}",
        stderr(&out)
    );
    let out2 = env
        .tokrot()
        .env("GITLAB_TOKEN", CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes", "--output", "json"])
        .args([
            "apply",
            "gitlab-webhook",
            "--project",
            "grp/proj",
            "--hook-id",
            "7",
            "--token-stdin",
        ])
        .write_stdin(format!("{NEW}\n"))
        .output()
        .unwrap();
    assert_eq!(out2.status.code(), Some(0), "{}", stderr(&out2));
    let report: Value = crate::common::json_doc(&out2);
    assert_eq!(report["status"], "done");
    // The one place an apply writes is its target, applied, and every step is done.
    assert_eq!(report["targets"][0]["spec"], "gitlab-webhook:grp/proj:7");
    assert_eq!(report["targets"][0]["status"], "applied");
    let steps = report["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["outcome"] == "done"), "{report:#}");
    let got = writes(&server).await;
    assert_eq!(got, [format!("PUT {VAR_PATH}"), format!("PUT {HOOK_PATH}")]);
    assert_no_canary(&env, &[&out]);
    assert_no_canary(&env, &[&out2]);
}

#[tokio::test]
async fn many_variables_of_one_project_are_read_with_one_list_call() {
    let keys = ["A_1", "A_2", "A_3", "A_4", "A_5"];
    let listed = |n: usize| -> Value {
        json!(keys[..n].iter().map(|k| json!({"key": k, "value": "old-CANARY-eeee", "variable_type": "env_var",
            "protected": false, "masked": false, "hidden": false, "raw": false, "environment_scope": "*"})).collect::<Vec<_>>())
    };
    let mut args: Vec<String> = ["rotate", "gitlab-pat", "--token-id", "42"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for k in keys {
        args.push("--apply-to".into());
        args.push(format!("gitlab-ci-var:grp/proj:{k}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for (listed_n, expected_exit) in [(4, 2), (5, 0)] {
        // A variable missing from the list stops the run before the rotate call.
        let sent = u64::from(expected_exit == 0);
        let server = MockServer::start().await;
        mount_caller(&server).await;
        Mock::given(path("/api/v4/personal_access_tokens/42"))
            .and(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(token(42, "t")))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v4/projects/grp%2Fproj/variables"))
            .respond_with(ResponseTemplate::new(200).set_body_json(listed(listed_n)))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/v4/personal_access_tokens/42/rotate"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"id": 43, "name": "t", "token": NEW, "expires_at": "2027-01-01"}),
            ))
            .expect(sent)
            .mount(&server)
            .await;
        Mock::given(path("/api/v4/personal_access_tokens/self"))
            .and(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(token(43, "t")))
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(wiremock::matchers::path_regex("^/api/v4/projects/grp%2Fproj/variables/A_[0-9]$"))
            .respond_with(|req: &Request| {
                let key = req.url.path().rsplit('/').next().unwrap().to_owned();
                ResponseTemplate::new(200).set_body_json(json!({"key": key, "value": NEW, "masked": false, "hidden": false, "environment_scope": "*"}))
            })
            .expect(5 * sent)
            .mount(&server)
            .await;
        let env = Env::new();
        let out = env
            .tokrot()
            .env("GITLAB_TOKEN", CALLER)
            .args(["--gitlab-url", &server.uri(), "--yes"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(expected_exit), "{}", stderr(&out));
        let got = writes(&server).await;
        if expected_exit == 2 {
            assert!(
                stderr(&out)
                    .contains("no variable A_5 with environment scope * in project grp/proj"),
                "{}",
                stderr(&out)
            );
            assert!(got.is_empty(), "{got:?}");
        } else {
            assert_eq!(got.len(), 6, "{got:?}");
            let reads = server
                .received_requests()
                .await
                .unwrap()
                .iter()
                .filter(|r| r.url.path().contains("/variables/") && r.method.as_str() == "GET")
                .count();
            assert_eq!(
                reads, 0,
                "no per-variable reads: the list and the writes' answers are enough"
            );
        }
        assert_no_canary(&env, &[&out]);
    }
}

#[tokio::test]
async fn interactively_the_token_is_picked_from_the_list_gitlab_returns() {
    let server = gitlab_with_targets().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens"))
        .and(query_param("state", "active"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([token(41, "old ci"), token(42, "zendesk sync")])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42, "zendesk sync")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 43, "name": "zendesk sync", "token": NEW, "expires_at": "2027-03-01"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/self"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(43, "zendesk sync")))
        .mount(&server)
        .await;
    let env = Env::new();
    let uri = server.uri();
    let args = ["--gitlab-url", uri.as_str(), "rotate", "gitlab-pat"];
    let mut pty = crate::common::Pty::spawn_with(&env, &args, &[("GITLAB_TOKEN", CALLER)]);
    pty.answer(
        &format!(
            "zendesk sync (id 42) · expires {} · last used {}",
            day(31),
            day(-2)
        ),
        "\x1b[B",
    );
    pty.answer("> zendesk sync", "\r");
    // "Where does the token go?": a bad spec is refused with the right form, then two good ones.
    pty.answer("Where does the new token go?", "gitlab-ci-var:grp/proj\r");
    pty.expect("expected gitlab-ci-var:PROJECT:KEY[@SCOPE]");
    std::thread::sleep(std::time::Duration::from_millis(150));
    for _ in 0.."gitlab-ci-var:grp/proj".len() {
        pty.send("\x7f");
    }
    pty.send("gitlab-ci-var:grp/proj:API_TOKEN\r");
    pty.answer("Another target?", "gitlab-webhook:grp/proj:7\r");
    pty.answer("Another target?", "\r");
    // Fitted to the terminal between words: the prompt's last line ends the question.
    pty.answer("revoked at once)? [y/n]", "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("Done: all 10 steps of gitlab-pat (run "),
        "{screen}"
    );
    assert!(!screen.contains("CANARY"), "{screen}");
    assert_writes(
        &server,
        &["POST /api/v4/personal_access_tokens/42/rotate"],
        &[],
    )
    .await;
}

#[tokio::test]
async fn a_dry_run_with_credentials_runs_the_read_only_checks_and_writes_nothing() {
    let server = gitlab_with_targets_unchecked().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42, "zendesk sync")))
        .mount(&server)
        .await;
    let env = Env::new();
    let out = run(
        &env,
        &server,
        &["rotate", "gitlab-pat", "--token-id", "42", "--dry-run"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Read-only checks, with the credentials found:"),
        "{text}"
    );
    assert!(
        text.contains(
            "ok      2. Check that token 42 exists and is active: \"zendesk sync\" (id 42)"
        ),
        "{text}"
    );
    assert!(
        text.contains("ok      3. gitlab-ci-var:grp/proj:API_TOKEN:"),
        "{text}"
    );
    assert!(writes(&server).await.is_empty(), "a dry run writes nothing");
    assert!(env.files().is_empty(), "and keeps no journal");

    // A target that is not there: the dry run says so, and exits 2 like the run would.
    let server = gitlab_with_targets_unchecked().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42, "zendesk sync")))
        .mount(&server)
        .await;
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", CALLER)
        .args([
            "--gitlab-url",
            &server.uri(),
            "--dry-run",
            "--output",
            "json",
        ])
        .args([
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-webhook:grp/proj:8",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let report: Value = crate::common::json_doc(&out);
    assert_eq!(report["status"], "dry-run");
    let failed: Vec<&Value> = report["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{report:#}");
    assert!(
        failed[0]["check"]
            .as_str()
            .unwrap()
            .starts_with("gitlab-webhook:grp/proj:8")
    );
    assert!(writes(&server).await.is_empty());
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn a_masked_raw_variable_takes_any_character_but_white_space() {
    // A pasted value with characters a masked, expanded variable refuses.
    let pasted = "zd#Raw$CANARY!9876";
    for (raw, code) in [(true, 0), (false, 2)] {
        let server = MockServer::start().await;
        let mut var = variable("old-value-raw1");
        var["raw"] = json!(raw);
        Mock::given(method("GET"))
            .and(path(VAR_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(var.clone()))
            .mount(&server)
            .await;
        let mut written = var.clone();
        written["value"] = json!(pasted);
        Mock::given(method("PUT"))
            .and(path(VAR_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(written))
            .expect(u64::from(raw))
            .mount(&server)
            .await;
        let env = Env::new();
        let out = env
            .unattended_on(&server.uri(), CALLER)
            .args([
                "apply",
                "gitlab-ci-var",
                "--project",
                "grp/proj",
                "--key",
                "API_TOKEN",
                "--token-stdin",
            ])
            .write_stdin(format!("{pasted}\n"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "raw {raw}: {}", stderr(&out));
        if !raw {
            assert!(
                stderr(&out).contains("may only hold letters, digits and"),
                "{}",
                stderr(&out)
            );
        }
        crate::common::scan(&env, &[&out], &[pasted, CALLER]);
    }
}
