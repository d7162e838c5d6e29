//! The fault suite: rotations that are interrupted or half fail, against the real binary. After
//! each, no canary secret appears in stdout, stderr (at -vvv), or any file under HOME (which holds
//! the state dir), and the journal says what happened.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{Env, assert_no_canary, count, day, stderr, stdout};
use crate::stand_in::{
    CALLER, NEW, OLD_VALUE, mount_caller, mount_variables, pat_gitlab, rotated, token, variable,
    variable_answer,
};

const KEYS: [&str; 5] = ["K_1", "K_2", "K_3", "K_4", "K_5"];

/// The caller, the token 42, its rotation (sent once), and the variables of `grp/proj` (read
/// one by one).
async fn gitlab(rotate: ResponseTemplate) -> MockServer {
    gitlab_rotating(rotate, 1).await
}

/// As `gitlab`, where a check fails first: the rotate call must never come.
async fn gitlab_unrotated() -> MockServer {
    gitlab_rotating(rotated(), 0).await
}

async fn gitlab_rotating(rotate: ResponseTemplate, rotations: u64) -> MockServer {
    let server = pat_gitlab(rotate, rotations).await;
    // Five targets in one project or more are read with one list call.
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/variables"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(
                KEYS.iter()
                    .map(|k| variable(k, OLD_VALUE))
                    .collect::<Vec<_>>()
            )))
        .mount(&server)
        .await;
    server
}

pub(crate) async fn mount_verify(server: &MockServer, delay: Duration) {
    Mock::given(path("/api/v4/personal_access_tokens/self"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(delay)
                .set_body_json(token(43)),
        )
        .mount(server)
        .await;
}

pub(crate) fn tokrot(env: &Env, server: &MockServer) -> assert_cmd::Command {
    let mut cmd = env.tokrot();
    cmd.env("GITLAB_TOKEN", CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes", "-vvv"]);
    cmd
}

pub(crate) fn rotate_args(keys: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["rotate", "gitlab-pat", "--token-id", "42"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for k in keys {
        args.push("--apply-to".into());
        args.push(format!("gitlab-ci-var:grp/proj:{k}"));
    }
    args
}

/// The one journal of a rotation (standalone applies have journals of their own).
pub(crate) fn journal(env: &Env) -> Value {
    let dir = env.path().join(".local/state/tokrot/rotations");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let j: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            j["kind"] == "rotate"
        })
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap()
}

pub(crate) async fn puts(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .map(|r| {
            r.url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_lost_rotate_answer_is_outcome_unknown_and_never_repeated() {
    let server = gitlab(rotated().set_delay(Duration::from_secs(4))).await;
    let env = Env::new();
    let args = rotate_args(&["K_1"]);
    let out = tokrot(&env, &server)
        .args(["--http-timeout", "1"])
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("the outcome is unknown"), "{err}");
    assert!(
        err.contains("do NOT run the rotation again with the old token"),
        "{err}"
    );
    assert_eq!(
        count(&server, "POST", "/api/v4/personal_access_tokens/42/rotate").await,
        1
    );
    let j = journal(&env);
    assert_eq!(j["status"], "unknown");
    let rotate = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"] == "gitlab.rotate_personal_token")
        .unwrap();
    assert_eq!(rotate["status"], "unknown");
    // resume refuses: the rotate call is never made again
    let again = tokrot(&env, &server).arg("resume").output().unwrap();
    assert_eq!(again.status.code(), Some(5));
    assert_eq!(
        count(&server, "POST", "/api/v4/personal_access_tokens/42/rotate").await,
        1
    );
    assert_no_canary(&env, &[&out, &again]);
}

#[tokio::test]
async fn two_failing_targets_leave_an_incomplete_rotation_that_resume_finishes() {
    let server = gitlab(rotated()).await;
    mount_verify(&server, Duration::ZERO).await;
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/K_[24]$"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"message": "500 Internal Server Error"})),
        )
        // K_2 and K_4, once each: a 500 to a write is not retried blindly.
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(
            "^/api/v4/projects/grp%2Fproj/variables/K_[135]$",
        ))
        .respond_with(variable_answer)
        // K_1, K_3 and K_5, then K_1 again by `apply --from`.
        .expect(4)
        .mount(&server)
        .await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args(rotate_args(&KEYS))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("Incomplete: 2 of 5 target(s) were not updated."),
        "{err}"
    );
    let mut written = puts(&server).await;
    written.sort();
    assert_eq!(
        written,
        ["K_1", "K_2", "K_3", "K_4", "K_5"],
        "each target written once"
    );
    let j = journal(&env);
    assert_eq!(j["status"], "incomplete");
    assert_eq!(j["stashed"], true);
    let statuses: Vec<&str> = j["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["applied", "failed", "applied", "failed", "applied"]
    );
    let id = j["id"].as_str().unwrap().to_owned();

    // What a resume would do, as a document: the failed targets, the steps done and left.
    let plan = tokrot(&env, &server)
        .args(["--output", "json", "--dry-run", "resume", &id])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let plan = crate::common::json_doc(&plan);
    assert_eq!(plan["rotation_id"], id.as_str());
    assert_eq!(plan["resume"]["journal_status"], "incomplete");
    let targets: Vec<&str> = plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        ["applied", "failed", "applied", "failed", "applied"]
    );
    let outcomes: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"].as_str().unwrap())
        .collect();
    assert!(
        outcomes.contains(&"done") && outcomes.contains(&"failed"),
        "{outcomes:?}"
    );

    // While the rotation is unfinished its token can be applied elsewhere by id, unseen.
    let from = tokrot(&env, &server)
        .args([
            "apply",
            "gitlab-ci-var",
            "--project",
            "grp/proj",
            "--key",
            "K_1",
            "--from",
            &id,
        ])
        .output()
        .unwrap();
    assert_eq!(from.status.code(), Some(0), "{}", stderr(&from));
    let last_put = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .rev()
        .find(|r| r.method.as_str() == "PUT")
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&last_put.body).unwrap()["value"],
        NEW
    );

    // The server recovers: resume applies exactly the two.
    // What was expected of the first run is checked before the stand-in is reset.
    server.verify().await;
    server.reset().await;
    mount_variables(&server, 2).await;
    let resumed = tokrot(&env, &server)
        .args(["resume", &id])
        .output()
        .unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let mut written = puts(&server).await;
    written.sort();
    assert_eq!(written, ["K_2", "K_4"], "only the two that failed");
    assert_eq!(
        count(&server, "POST", "/api/v4/personal_access_tokens/42/rotate").await,
        0
    );
    let j = journal(&env);
    assert_eq!(j["status"], "done");
    assert_eq!(
        j["stashed"], false,
        "the stash is removed once the rotation has finished"
    );
    let statuses: Vec<&str> = j["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["applied"; 5]);
    let gone = tokrot(&env, &server)
        .args([
            "apply",
            "gitlab-ci-var",
            "--project",
            "grp/proj",
            "--key",
            "K_1",
            "--from",
            &id,
        ])
        .output()
        .unwrap();
    assert_eq!(
        gone.status.code(),
        Some(2),
        "a finished rotation keeps no token: {}",
        stderr(&gone)
    );
    let done = tokrot(&env, &server)
        .args(["resume", &id])
        .output()
        .unwrap();
    assert!(
        stderr(&done).contains("has already finished"),
        "{}",
        stderr(&done)
    );
    let history = tokrot(&env, &server).arg("history").output().unwrap();
    assert!(
        stdout(&history).contains(&id) && stdout(&history).contains("done"),
        "{}",
        stdout(&history)
    );
    let audit =
        std::fs::read_to_string(env.path().join(".local/state/tokrot/audit.jsonl")).unwrap();
    let outcomes: Vec<String> = audit
        .lines()
        .map(|l| {
            let v = serde_json::from_str::<Value>(l).unwrap();
            format!(
                "{} {}",
                v["runbook"].as_str().unwrap(),
                v["outcome"].as_str().unwrap()
            )
        })
        .collect();
    // The standalone `apply --from` is a run of its own, audited too.
    assert_eq!(
        outcomes,
        [
            "gitlab-pat incomplete",
            "gitlab-ci-var done",
            "gitlab-pat done"
        ]
    );
    assert_no_canary(&env, &[&out, &from, &resumed, &gone, &done, &history]);
}

#[tokio::test]
async fn a_run_killed_after_the_rotate_call_is_finished_by_resume() {
    let server = gitlab(rotated()).await;
    mount_verify(&server, Duration::from_secs(20)).await;
    let env = Env::new();
    let args = rotate_args(&["K_1", "K_2"]);
    let mut child = env
        .process()
        .env("GITLAB_TOKEN", CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes"])
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The verify call comes after the rotate call and the stash: wait for it, then kill.
    let started = Instant::now();
    while count(&server, "GET", "/api/v4/personal_access_tokens/self").await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the run never got to verify"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(puts(&server).await.is_empty(), "killed before the targets");
    assert_eq!(journal(&env)["status"], "running");

    // What was expected of the first run is checked before the stand-in is reset.
    server.verify().await;
    server.reset().await;
    mount_verify(&server, Duration::ZERO).await;
    mount_variables(&server, 2).await;
    let resumed = tokrot(&env, &server).arg("resume").output().unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let mut written = puts(&server).await;
    written.sort();
    assert_eq!(written, ["K_1", "K_2"]);
    assert_eq!(
        count(&server, "POST", "/api/v4/personal_access_tokens/42/rotate").await,
        0
    );
    assert_eq!(journal(&env)["status"], "done");
    assert_no_canary(&env, &[&resumed]);
}

#[tokio::test]
async fn a_429_storm_on_every_target_is_waited_out() {
    let server = gitlab(rotated()).await;
    mount_verify(&server, Duration::ZERO).await;
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string("Retry later"),
        )
        .up_to_n_times(5)
        .expect(5)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/"))
        .respond_with(variable_answer)
        .expect(5)
        .mount(&server)
        .await;
    let env = Env::new();
    let started = Instant::now();
    let out = tokrot(&env, &server)
        .args(rotate_args(&KEYS))
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After was honoured ({took:?})"
    );
    assert!(took < Duration::from_secs(30), "bounded ({took:?})");
    assert_eq!(
        puts(&server).await.len(),
        10,
        "each target: one 429, then the write"
    );
    let err = stderr(&out);
    assert!(
        err.contains("429 Too Many Requests; trying again in 1.0 s"),
        "the wait is logged at -v: {err}"
    );
    assert!(
        err.contains("DEBUG") && err.contains("answer"),
        "requests are logged at -vv: {err}"
    );
    assert_eq!(journal(&env)["status"], "done");
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn bad_answers_are_clear_errors_and_lose_nothing() {
    // An HTML page where a target's JSON should be: preflight fails, nothing is changed.
    let server = gitlab_unrotated().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/hooks/7"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("<!DOCTYPE html><html><body>Sign in</body></html>"),
        )
        .mount(&server)
        .await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args(rotate_args(&[]))
        .args(["--apply-to", "gitlab-webhook:grp/proj:7"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("an HTML page instead of JSON"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        count(&server, "POST", "/api/v4/personal_access_tokens/42/rotate").await,
        0
    );

    // Malformed JSON where a token should be described: the same, nothing changed.
    let server = gitlab_unrotated().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/hooks/7"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"id\": 7, \"url\": "))
        .mount(&server)
        .await;
    let out = tokrot(&env, &server)
        .args(rotate_args(&[]))
        .args(["--apply-to", "gitlab-webhook:grp/proj:7"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not the JSON expected"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        count(&server, "POST", "/api/v4/personal_access_tokens/42/rotate").await,
        0
    );

    // An empty answer to a write: the target fails, the token stays in the keyring for resume.
    let server = gitlab(rotated()).await;
    mount_verify(&server, Duration::ZERO).await;
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/K_1$"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    // A write whose first answer times out: retried (PUT is idempotent), then applied.
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/K_2$"))
        .respond_with(variable_answer_delayed)
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/K_2$"))
        .respond_with(variable_answer)
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args(["--http-timeout", "1"])
        .args(rotate_args(&["K_1", "K_2"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("gitlab-ci-var:grp/proj:K_1: PUT")
            && err.contains("unexpected answer: an empty body"),
        "{err}"
    );
    assert!(
        err.contains("gitlab-ci-var:grp/proj:K_2  applied, verified: yes"),
        "{err}"
    );
    assert!(
        err.contains("is kept in the OS keyring as tokrot/pending:"),
        "{err}"
    );
    assert_no_canary(&env, &[&out]);
}

fn variable_answer_delayed(req: &Request) -> ResponseTemplate {
    variable_answer(req).set_delay(Duration::from_secs(3))
}

#[tokio::test]
async fn an_error_body_that_echoes_the_token_shows_it_nowhere() {
    let server = gitlab(rotated()).await;
    mount_verify(&server, Duration::ZERO).await;
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/K_1$"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(
                json!({"message": {"value": [format!("{NEW} is not a valid value")]}}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args(rotate_args(&["K_1"]))
        .args(["--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report: Value = crate::common::json_doc(&out);
    assert_eq!(report["status"], "incomplete");
    let error = report["targets"][0]["error"].as_str().unwrap();
    assert!(error.contains("[redacted] is not a valid value"), "{error}");
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn a_lost_create_trigger_answer_is_recovered_by_the_description_just_sent() {
    let server = MockServer::start().await;
    mount_caller(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers/9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 9, "description": "deploy", "token": "OLD-TRIGGER-CANARY-ff04"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_delay(Duration::from_secs(3))
                .set_body_json(json!({"id": 10, "description": "deploy", "token": NEW})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 9, "description": "deploy", "token": "OLD-TRIGGER-CANARY-ff04"},
            {"id": 8, "description": "deploy", "token": "a1b2"},
            {"id": 10, "description": "deploy", "token": NEW}])))
        .mount(&server)
        .await;
    mount_variables(&server, 1).await;
    Mock::given(method("DELETE"))
        .and(path("/api/v4/projects/grp%2Fproj/triggers/9"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args([
            "--http-timeout",
            "1",
            "rotate",
            "gitlab-trigger",
            "--project",
            "grp/proj",
            "--trigger-id",
            "9",
        ])
        .args(["--apply-to", "gitlab-ci-var:grp/proj:K_1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "the answer was lost, but the new trigger (id 10) was found by its description"
        ),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("gitlab-ci-var:grp/proj:K_1  applied, verified: yes"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        count(&server, "POST", "/api/v4/projects/grp%2Fproj/triggers").await,
        1,
        "never created twice"
    );
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn a_lost_oauth_token_answer_is_unknown_names_what_appeared_and_is_never_sent_again() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/users/me"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"user": {"id": 5, "email": "ops@example.com"}})),
        )
        .mount(&server)
        .await;
    let listed = |ids: &[u64]| {
        json!({"tokens": ids.iter().map(|id| json!({"id": id, "client_id": 7, "token": "abcdefghij", "scopes": ["read"]})).collect::<Vec<_>>(),
               "meta": {"has_more": false}})
    };
    Mock::given(method("GET"))
        .and(path("/api/v2/oauth/tokens"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listed(&[900])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/oauth/tokens"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listed(&[900, 950])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/oauth/tokens"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_delay(Duration::from_secs(3))
                .set_body_json(
                    json!({"token": {"id": 950, "token": "LOST-CANARY-ff05", "scopes": ["read"]}}),
                ),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/oauth/tokens"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"token": {"id": 951, "full_token": NEW, "token": "glpat-NEW-", "scopes": ["read"]}})))
        .expect(0).mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex("^/api/v2/oauth/tokens/(950|900)$"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/oauth/tokens/current.json"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"token": {"id": 951, "scopes": ["read"]}})),
        )
        .mount(&server)
        .await;
    let env = Env::new();
    env.write(
        ".config/tokrot/config.toml",
        &format!("[zendesk.instances.zd]\nurl = \"{}\"\n", server.uri()),
    );
    let out = env
        .tokrot()
        .env("ZENDESK_OAUTH_TOKEN", "zd-caller-CANARY-ff06")
        .args([
            "--yes",
            "-vvv",
            "--http-timeout",
            "1",
            "rotate",
            "zendesk-oauth",
            "--instance",
            "zd",
            "--client-id",
            "7",
            "--keep",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("client 7 now has token(s) 950 that were not there before the call"),
        "{err}"
    );
    assert!(err.contains("the call is not sent again"), "{err}");
    let order: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() != "GET")
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        order,
        ["POST /api/v2/oauth/tokens"],
        "one create call, nothing revoked"
    );
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn ctrl_c_during_the_writes_leaves_a_journal_that_resume_finishes() {
    use std::os::unix::process::ExitStatusExt;
    let server = gitlab(rotated()).await;
    mount_verify(&server, Duration::ZERO).await;
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/"))
        .respond_with(|req: &Request| variable_answer(req).set_delay(Duration::from_secs(20)))
        .expect(2)
        .mount(&server)
        .await;
    let env = Env::new();
    let mut child = env
        .process()
        .env("GITLAB_TOKEN", CALLER)
        .args(["--gitlab-url", &server.uri(), "--yes"])
        .args(rotate_args(&["K_1", "K_2"]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while puts(&server).await.len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the run never got to the writes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.signal() == Some(2) || status.code() == Some(130),
        "{status:?}"
    );
    // The signal is journaled: rotated and kept, so the rotation is incomplete, not "running".
    assert_eq!(journal(&env)["status"], "incomplete");

    // What was expected of the first run is checked before the stand-in is reset.
    server.verify().await;
    server.reset().await;
    mount_verify(&server, Duration::ZERO).await;
    mount_variables(&server, 2).await;
    let resumed = tokrot(&env, &server).arg("resume").output().unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let mut written = puts(&server).await;
    written.sort();
    assert_eq!(
        written,
        ["K_1", "K_2"],
        "the writes that never got an answer are made again (same value)"
    );
    assert_eq!(
        count(&server, "POST", "/api/v4/personal_access_tokens/42/rotate").await,
        0
    );
    assert_eq!(journal(&env)["status"], "done");
    assert_no_canary(&env, &[&resumed]);
}

#[tokio::test]
async fn a_rotate_answer_without_a_whole_token_is_never_kept_or_applied_and_says_what_was_done() {
    // The rotate call was carried out (the old token is revoked), but the answer's token is a
    // cut: nothing is kept or applied, and the run says how to get a value.
    let cut = ResponseTemplate::new(200)
        .set_body_json(json!({"id": 43, "name": "t", "token": "glpat-cut", "expires_at": day(90)}));
    let server = gitlab(cut).await;
    mount_verify(&server, Duration::ZERO).await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args(rotate_args(&KEYS))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(tokrot::exit::FAILED), "{err}");
    assert!(
        err.contains("the vendor made token 43, but its answer holds no whole token"),
        "{err}"
    );
    assert!(
        err.contains("the rotate call revoked the old token, so its consumers stop working: rotate token 43 again (--token-id 43)"),
        "{err}"
    );
    assert!(!err.contains("nothing was changed"), "{err}");
    assert!(puts(&server).await.is_empty(), "nothing applied");
    assert_eq!(
        count(&server, "POST", "/api/v4/personal_access_tokens/42/rotate").await,
        1
    );
    // The journal keeps the call as sent: resume never calls it "nothing was changed" nor
    // sends it again.
    let resumed = tokrot(&env, &server).arg("resume").output().unwrap();
    assert_eq!(resumed.status.code(), Some(tokrot::exit::UNKNOWN));
    assert!(
        stderr(&resumed).contains("the call is never made again"),
        "{}",
        stderr(&resumed)
    );
    assert!(
        !stderr(&resumed).contains("nothing was changed"),
        "{}",
        stderr(&resumed)
    );
    assert_eq!(
        count(&server, "POST", "/api/v4/personal_access_tokens/42/rotate").await,
        1
    );
    crate::common::scan(&env, &[&out, &resumed], &["glpat-cut", CALLER]);
}
