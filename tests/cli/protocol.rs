//! The guarantees of the rotation protocol (DESIGN.md, "What the protocol guarantees"), each
//! through the real binary at the edge where it used to break: no target, a redirect, a 401,
//! a signal or SIGKILL during the one-shot call, a second process, `--dry-run` on every
//! command, a checklist interrupted, a keyring that refuses the token, `--self`.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{
    Env, Pty, assert_no_canary, assert_no_canary_in, count, stderr, stdout, writes,
};
use crate::stand_in::{
    CALLER, NEW, ROTATE, mount_caller, mount_variable_writes, pat_gitlab, rotated, token,
    variable_answer,
};

/// The caller, token 42 and its rotation (answered by `rotate`, sent once), the new token's
/// check, the variables of `grp/proj` (never written: a test that writes one mounts its own
/// answer, or uses `gitlab_applying`), and trigger 55 of `grp/proj`.
async fn gitlab(rotate: impl wiremock::Respond + 'static) -> MockServer {
    gitlab_rotating(rotate, 1, 0).await
}

/// As `gitlab`, the new token written once into a variable of `grp/proj`.
async fn gitlab_applying(rotate: impl wiremock::Respond + 'static) -> MockServer {
    gitlab_rotating(rotate, 1, 1).await
}

/// As `gitlab`, for a run that stops before its rotate call: the call must never come.
async fn gitlab_unrotated() -> MockServer {
    gitlab_rotating(rotated(), 0, 0).await
}

async fn gitlab_rotating(
    rotate: impl wiremock::Respond + 'static,
    rotations: u64,
    writes: u64,
) -> MockServer {
    let server = pat_gitlab(rotate, rotations).await;
    Mock::given(path("/api/v4/personal_access_tokens/self"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(43)))
        .mount(&server)
        .await;
    mount_variable_writes(&server, writes).await;
    Mock::given(path("/api/v4/projects/grp%2Fproj/triggers/55"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 55, "description": "ci", "token": "abcd"})),
        )
        .mount(&server)
        .await;
    server
}

fn tokrot(env: &Env, server: &MockServer) -> assert_cmd::Command {
    let mut cmd = env.tokrot();
    cmd.env("GITLAB_TOKEN", CALLER)
        .args(["--gitlab-url", &server.uri()]);
    cmd
}

/// The binary in the background, as a second process or one to signal.
fn spawn(env: &Env, server: &MockServer, args: &[&str]) -> Child {
    env.process()
        .env("GITLAB_TOKEN", CALLER)
        .args(["--gitlab-url", &server.uri()])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

async fn wait_for(server: &MockServer, m: &str, p: &str) {
    let started = Instant::now();
    while count(server, m, p).await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{m} {p} never came"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every journal under the state dir.
fn journals(env: &Env) -> Vec<Value> {
    let dir = env.path().join(".local/state/tokrot/rotations");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut all: Vec<Value> = entries
        .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
        .collect();
    all.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    all
}

fn the_journal(env: &Env) -> Value {
    let all = journals(env);
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().unwrap()
}

/// The journal of run `id`, among others.
fn journal_of(env: &Env, id: &str) -> Value {
    journals(env)
        .into_iter()
        .find(|j| j["id"] == id)
        .unwrap_or_else(|| panic!("no journal {id}"))
}

fn step<'a>(j: &'a Value, action: &str) -> &'a Value {
    j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"] == action)
        .unwrap_or_else(|| panic!("no step {action} in {j}"))
}

#[tokio::test]
async fn no_target_no_rotation_and_the_error_names_apply_to_and_keep() {
    let server = gitlab_unrotated().await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args(["--yes", "rotate", "gitlab-pat", "--token-id", "42"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("no target"), "{err}");
    assert!(
        err.contains("--apply-to") && err.contains("--keep"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    // A trigger rotation with nowhere to go never deletes the old trigger either.
    let trigger = tokrot(&env, &server)
        .args([
            "--yes",
            "rotate",
            "gitlab-trigger",
            "--project",
            "grp/proj",
            "--trigger-id",
            "55",
        ])
        .output()
        .unwrap();
    assert_eq!(trigger.status.code(), Some(2), "{}", stderr(&trigger));
    assert!(
        writes(&server).await.is_empty(),
        "{:?}",
        writes(&server).await
    );
    assert!(journals(&env).is_empty(), "refused before it started");
}

#[tokio::test]
async fn keep_leaves_the_token_in_the_keyring_for_apply_from_and_history_says_kept() {
    let server = gitlab_applying(rotated()).await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args([
            "--yes",
            "--output",
            "json",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--keep",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = crate::common::json_doc(&out);
    assert_eq!(report["status"], "kept");
    assert_eq!(report["schema_version"], 1);
    let id = report["rotation_id"].as_str().unwrap().to_owned();
    let j = the_journal(&env);
    assert_eq!(j["status"], "kept");
    assert_eq!(j["stashed"], true);
    let history = tokrot(&env, &server).arg("history").output().unwrap();
    let line = stdout(&history)
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap()
        .to_owned();
    assert!(line.contains("kept"), "{line}");
    let apply = tokrot(&env, &server)
        .args([
            "--yes",
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
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    let put = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.method.as_str() == "PUT")
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&put.body).unwrap()["value"],
        NEW
    );
    assert_eq!(count(&server, "POST", ROTATE).await, 1);
    // Applied once, the kept run says so, and resume ends it: asked, or with --yes.
    let history = tokrot(&env, &server).arg("history").output().unwrap();
    assert!(
        stdout(&history).contains("kept, applied to 1 target"),
        "{}",
        stdout(&history)
    );
    let unasked = tokrot(&env, &server)
        .args(["resume", &id])
        .output()
        .unwrap();
    assert_eq!(unasked.status.code(), Some(2), "{}", stderr(&unasked));
    assert!(
        stderr(&unasked).contains(&format!("`tokrot resume {id} --yes`")),
        "{}",
        stderr(&unasked)
    );
    assert_eq!(journal_of(&env, &id)["status"], "kept");
    let ended = tokrot(&env, &server)
        .args(["--yes", "resume", &id])
        .output()
        .unwrap();
    assert_eq!(ended.status.code(), Some(0), "{}", stderr(&ended));
    let j = journal_of(&env, &id);
    assert_eq!(j["status"], "done");
    assert_eq!(j["stashed"], false);
    let audit =
        std::fs::read_to_string(env.path().join(".local/state/tokrot/audit.jsonl")).unwrap();
    assert!(
        audit
            .lines()
            .any(|l| l.contains(&id) && l.contains("\"outcome\":\"done\"")),
        "{audit}"
    );
    // Its token is no longer kept: nothing can be applied from it.
    let again = tokrot(&env, &server)
        .args([
            "--yes",
            "apply",
            "gitlab-ci-var",
            "--project",
            "grp/proj",
            "--key",
            "K_2",
            "--from",
            &id,
        ])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert_no_canary(&env, &[&out, &apply, &ended]);
}

#[tokio::test]
async fn a_redirect_answering_the_rotate_call_is_not_followed_and_is_outcome_unknown() {
    // A same-origin 307 to the rotate URL itself: following it would rotate twice.
    let server2 = gitlab(|req: &Request| {
        let mut to = req.url.clone();
        to.set_query(Some("again=1"));
        ResponseTemplate::new(307).insert_header("Location", to.as_str())
    })
    .await;
    let env = Env::new();
    let out = tokrot(&env, &server2)
        .args([
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(
        count(&server2, "POST", ROTATE).await,
        1,
        "a same-origin 307 is not followed: the one-shot call is sent once"
    );
    let err = stderr(&out);
    assert!(err.contains("answered with a redirect"), "{err}");
    assert!(!err.contains("nothing was changed"), "{err}");
    assert_eq!(the_journal(&env)["status"], "unknown");
}

#[tokio::test]
async fn a_401_on_the_rotate_call_is_possibly_revoked_never_nothing_changed() {
    let server =
        gitlab(ResponseTemplate::new(401).set_body_json(json!({"message": "401 Unauthorized"})))
            .await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args([
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("reuse detection"), "{err}");
    assert!(!err.contains("nothing was changed"), "{err}");
    let again = tokrot(&env, &server)
        .args(["--yes", "resume"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(5), "{}", stderr(&again));
    assert_eq!(count(&server, "POST", ROTATE).await, 1);
}

#[tokio::test]
async fn sigint_during_the_rotate_call_is_held_until_the_new_token_is_journaled_and_kept() {
    let server = gitlab_applying(rotated().set_delay(Duration::from_millis(1500))).await;
    let env = Env::new();
    let child = spawn(
        &env,
        &server,
        &[
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_1",
        ],
    );
    wait_for(&server, "POST", ROTATE).await;
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("interrupt received"), "{err}");
    assert_eq!(count(&server, "POST", ROTATE).await, 1);
    assert!(
        writes(&server).await.iter().all(|w| !w.starts_with("PUT")),
        "stopped before the writes"
    );
    let j = the_journal(&env);
    assert_eq!(step(&j, "gitlab.rotate_personal_token")["status"], "done");
    assert_eq!(j["stashed"], true);
    assert_eq!(j["status"], "incomplete");

    let resumed = tokrot(&env, &server)
        .args(["--yes", "resume"])
        .output()
        .unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert_eq!(count(&server, "POST", ROTATE).await, 1, "never again");
    assert_eq!(the_journal(&env)["status"], "done");
    assert_no_canary_in(&env, &[&err, &stderr(&resumed)]);
}

#[tokio::test]
async fn sigkill_during_the_rotate_call_is_outcome_unknown_to_resume_and_history() {
    let server = gitlab(rotated().set_delay(Duration::from_secs(10))).await;
    let env = Env::new();
    let mut child = spawn(
        &env,
        &server,
        &[
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_1",
        ],
    );
    wait_for(&server, "POST", ROTATE).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let j = the_journal(&env);
    assert_eq!(
        step(&j, "gitlab.rotate_personal_token")["status"],
        "running"
    );
    let history = tokrot(&env, &server).arg("history").output().unwrap();
    assert!(stdout(&history).contains("unknown"), "{}", stdout(&history));
    let resumed = tokrot(&env, &server)
        .args(["--yes", "resume"])
        .output()
        .unwrap();
    assert_eq!(resumed.status.code(), Some(5), "{}", stderr(&resumed));
    let err = stderr(&resumed);
    assert!(err.contains("is unknown"), "{err}");
    assert!(err.contains("do NOT rotate the old token again"), "{err}");
    assert!(!err.contains("nothing was changed"), "{err}");
    assert_eq!(count(&server, "POST", ROTATE).await, 1);
}

#[tokio::test]
async fn a_second_run_on_the_same_token_is_refused_and_names_the_first() {
    let server = gitlab_applying(rotated().set_delay(Duration::from_millis(1500))).await;
    let env = Env::new();
    let args = [
        "--yes",
        "rotate",
        "gitlab-pat",
        "--token-id",
        "42",
        "--apply-to",
        "gitlab-ci-var:grp/proj:K_1",
    ];
    let first = spawn(&env, &server, &args);
    wait_for(&server, "POST", ROTATE).await;
    let second = tokrot(&env, &server).args(args).output().unwrap();
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    let first_id = the_journal(&env)["id"].as_str().unwrap().to_owned();
    let err = stderr(&second);
    assert!(err.contains("another tokrot run holds the lock"), "{err}");
    assert!(err.contains(&first_id), "names the run: {err}");
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(count(&server, "POST", ROTATE).await, 1);
    assert_eq!(journals(&env).len(), 1, "the second run never started");
}

#[tokio::test]
async fn two_spellings_of_one_token_meet_on_one_lock_before_the_rotate_call() {
    let server = gitlab_applying(rotated().set_delay(Duration::from_millis(1500))).await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([token(42)])))
        .mount(&server)
        .await;
    let env = Env::new();
    let first = spawn(
        &env,
        &server,
        &[
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_1",
        ],
    );
    wait_for(&server, "POST", ROTATE).await;
    // By name, the same token: its preflight finds id 42, and the lock on it is held.
    let second = tokrot(&env, &server)
        .args([
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-name",
            "t",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_2",
        ])
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    let err = stderr(&second);
    assert!(err.contains("gitlab-token:42"), "{err}");
    assert!(err.contains("was not sent"), "{err}");
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(count(&server, "POST", ROTATE).await, 1);
    let second_journal = journals(&env)
        .into_iter()
        .find(|j| j["params"].to_string().contains("token_name"))
        .unwrap();
    assert_eq!(second_journal["status"], "failed", "{second_journal}");
    assert!(
        !second_journal["steps"]
            .to_string()
            .contains("rotate_personal_token"),
        "the refused call is not even journaled as started"
    );
}

#[tokio::test]
async fn a_terminal_that_goes_away_during_the_rotate_call_does_not_stop_the_rotation() {
    use std::io::BufRead;
    let server = gitlab_applying(rotated().set_delay(Duration::from_millis(800))).await;
    let env = Env::new();
    let mut child = spawn(
        &env,
        &server,
        &[
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_1",
        ],
    );
    // Read stderr until the rotate step is announced, then close it (a `| tee` that died).
    let stderr_pipe = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr_pipe).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("Rotate the token") {
            break;
        }
    }
    drop(lines);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(count(&server, "POST", ROTATE).await, 1);
    assert_eq!(
        count(&server, "PUT", "/api/v4/projects/grp%2Fproj/variables/K_1").await,
        1,
        "the target got the token although nobody read the status lines"
    );
    assert_eq!(the_journal(&env)["status"], "done");
}

#[tokio::test]
async fn dry_run_changes_nothing_on_resume_and_auth() {
    let server = gitlab(rotated()).await;
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "down"})))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args([
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let before = the_journal(&env);
    let sent = server.received_requests().await.unwrap().len();
    let dry = tokrot(&env, &server)
        .args(["--yes", "--dry-run", "resume"])
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(stdout(&dry).contains("would carry out"), "{}", stdout(&dry));
    assert!(
        stdout(&dry).contains("gitlab-ci-var:grp/proj:K_1"),
        "{}",
        stdout(&dry)
    );
    assert_eq!(server.received_requests().await.unwrap().len(), sent);
    assert_eq!(the_journal(&env), before, "the journal is untouched");

    let login = tokrot(&env, &server)
        .args(["--dry-run", "auth", "login", "gitlab", "--token-stdin"])
        .write_stdin("glpat-x-CANARY\n")
        .output()
        .unwrap();
    assert_eq!(login.status.code(), Some(2), "{}", stderr(&login));
    let logout = tokrot(&env, &server)
        .args(["--dry-run", "auth", "logout", "gitlab"])
        .output()
        .unwrap();
    assert_eq!(logout.status.code(), Some(0), "{}", stderr(&logout));
    assert!(stdout(&logout).contains("Dry run"), "{}", stdout(&logout));
}

#[tokio::test]
async fn a_keyring_that_refuses_the_new_token_is_said_loudly_and_resume_says_it_was_never_kept() {
    // The kernel keyring takes at most 32767 bytes in a key: the probe passes, this token does not.
    let huge = format!("glpat-HUGE-CANARY-{}", "x".repeat(40_000));
    let server =
        gitlab(ResponseTemplate::new(200).set_body_json(
            json!({"id": 43, "name": "t", "token": huge, "expires_at": "2027-03-01"}),
        ))
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/K_1"))
        .respond_with(|req: &Request| {
            let sent: Value = serde_json::from_slice(&req.body).unwrap();
            ResponseTemplate::new(200).set_body_json(json!({"key": "K_1", "value": sent["value"],
                "variable_type": "env_var", "protected": false, "masked": false, "hidden": false,
                "raw": false, "environment_scope": "*"}))
        })
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/K_2"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "403 Forbidden"})))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args([
            "--yes",
            "-v",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_1",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_2",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("NOT KEPT"), "{err}");
    assert!(err.contains("NOT kept anywhere"), "{err}");
    assert!(
        err.contains("Targets: 1 applied (1 verified), 1 failed"),
        "{err}"
    );
    assert!(
        err.contains("gitlab-ci-var:grp/proj:K_1  applied, verified: yes"),
        "{err}"
    );
    assert!(!err.contains("it was not lost"), "{err}");
    let j = the_journal(&env);
    assert_eq!(j["stashed"], false);
    assert!(j["stash_error"].is_string(), "{j}");
    let resumed = tokrot(&env, &server)
        .args(["--yes", "resume"])
        .output()
        .unwrap();
    assert_eq!(resumed.status.code(), Some(1), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains("never kept: the keyring refused it"),
        "{}",
        stderr(&resumed)
    );
    assert_eq!(count(&server, "POST", ROTATE).await, 1);
    assert_no_canary_in(&env, &[&stdout(&out), &err, &stderr(&resumed)]);
}

#[tokio::test]
async fn self_rotation_puts_the_new_token_into_the_kept_credential() {
    let server = MockServer::start().await;
    let account = format!("gitlab:{}", server.uri());
    for (who, id) in [(CALLER, 42), (NEW, 43)] {
        Mock::given(path("/api/v4/user"))
            .and(header("PRIVATE-TOKEN", who))
            .and(method("GET"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"id": 1, "username": "ops"})),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v4/personal_access_tokens/self"))
            .and(header("PRIVATE-TOKEN", who))
            .respond_with(ResponseTemplate::new(200).set_body_json(token(id)))
            .mount(&server)
            .await;
    }
    Mock::given(path("/api/v4/user"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "401 Unauthorized"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/self/rotate"))
        .and(header("PRIVATE-TOKEN", CALLER))
        .respond_with(rotated())
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    let tokrot = || {
        let mut cmd = env.tokrot();
        cmd.args(["--gitlab-url", &server.uri()]);
        cmd
    };
    // From the environment, tokrot cannot update it: a target or --keep is needed.
    let from_env = tokrot()
        .env("GITLAB_TOKEN", CALLER)
        .args(["--yes", "rotate", "gitlab-pat", "--self"])
        .output()
        .unwrap();
    assert_eq!(from_env.status.code(), Some(2), "{}", stderr(&from_env));
    assert!(
        stderr(&from_env).contains("GITLAB_TOKEN"),
        "{}",
        stderr(&from_env)
    );

    let login = tokrot()
        .args(["auth", "login", "gitlab", "--token-stdin"])
        .write_stdin(format!("{CALLER}\n"))
        .output()
        .unwrap();
    assert_eq!(login.status.code(), Some(0), "{}", stderr(&login));
    let rotated = tokrot()
        .args(["--yes", "rotate", "gitlab-pat", "--self"])
        .output()
        .unwrap();
    assert_eq!(rotated.status.code(), Some(0), "{}", stderr(&rotated));
    assert!(
        stderr(&rotated).contains(&format!(
            "keyring tokrot/{account}) now holds the new token"
        )),
        "{}",
        stderr(&rotated)
    );
    // The next run works with the new token.
    let status = tokrot()
        .args(["auth", "status", "gitlab"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    assert!(
        stdout(&status).contains("works, as ops"),
        "{}",
        stdout(&status)
    );
    let logout = tokrot()
        .args(["auth", "logout", "gitlab"])
        .output()
        .unwrap();
    assert_eq!(logout.status.code(), Some(0), "{}", stderr(&logout));
    assert_no_canary(&env, &[&rotated, &status, &from_env]);
}

#[test]
fn ctrl_c_in_a_checklist_reminds_the_clean_up_and_resume_continues_where_it_stopped() {
    let env = Env::new();
    let mut pty = Pty::spawn(
        &env,
        &["run", "zendesk-oauth-integration", "--instance", "global"],
    );
    pty.answer("Zendesk Global? [y/n]", "y");
    pty.answer("Done? [y/n]", "y"); // Okta requirement removed
    pty.expect("Log in as the integration user");
    pty.answer("Done? [y/n]", "\x03");
    let (code, screen) = pty.finish();
    assert_eq!(code, 130, "{screen}");
    // Lines are fitted to the terminal: the words, whatever the breaks.
    let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("clean-up still to do by hand"), "{screen}");
    assert!(
        flat.contains("Restore the Okta login requirement"),
        "{screen}"
    );
    let j = the_journal(&env);
    assert_eq!(j["kind"], "checklist");
    assert_eq!(j["status"], "aborted");
    let id = j["id"].as_str().unwrap().to_owned();
    let history = env.tokrot().arg("history").output().unwrap();
    assert!(stdout(&history).contains(&id), "{}", stdout(&history));

    let mut pty = Pty::spawn(&env, &["resume", &id]);
    pty.expect("Step 1 of 8: done before");
    pty.expect("Step 2 of 8: done before");
    for _ in 3..=4 {
        pty.answer("Done? [y/n]", "y");
    }
    pty.answer("request? [y/n]", "y");
    for _ in 6..=8 {
        pty.answer("Done? [y/n]", "y");
    }
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(the_journal(&env)["status"], "done");
}

/// `tokrot rotate gitlab-pat` of token 42 into `grp/proj`'s variables `keys`, on a terminal.
fn rotation_on_a_terminal(env: &Env, server: &MockServer, keys: &[&str]) -> Pty {
    let uri = server.uri();
    let mut args = vec![
        "--gitlab-url",
        uri.as_str(),
        "rotate",
        "gitlab-pat",
        "--token-id",
        "42",
    ];
    let specs: Vec<String> = keys
        .iter()
        .map(|k| format!("gitlab-ci-var:grp/proj:{k}"))
        .collect();
    for spec in &specs {
        args.extend(["--apply-to", spec.as_str()]);
    }
    Pty::spawn_with(env, &args, &[("GITLAB_TOKEN", CALLER)])
}

#[tokio::test]
async fn a_rotation_stopped_at_the_first_go_ahead_is_stopped_not_running() {
    let server = gitlab_unrotated().await;
    let env = Env::new();
    let mut pty = rotation_on_a_terminal(&env, &server, &["K_1"]);
    pty.answer("Go ahead and change things", "n");
    let (code, screen) = pty.finish();
    assert_eq!(code, 4, "{screen}");
    assert_eq!(the_journal(&env)["status"], "stopped");
    assert_eq!(count(&server, "POST", ROTATE).await, 0);
}

#[tokio::test]
async fn ctrl_c_at_the_go_ahead_restores_the_terminal_and_says_only_that_nothing_started() {
    let server = gitlab_unrotated().await;
    let env = Env::new();
    let mut pty = rotation_on_a_terminal(&env, &server, &["K_1", "K_2"]);
    pty.answer("Go ahead and change things", "\x03");
    let (code, screen) = pty.finish();
    assert_eq!(code, 130, "{screen}");
    assert_eq!(count(&server, "POST", ROTATE).await, 0);
    let after = screen
        .rsplit_once("Go ahead and change things")
        .map(|(_, after)| after)
        .unwrap_or_default();
    // The line is ended and the cursor shown before anything else is printed.
    let first = after.find('\n').unwrap_or(after.len());
    assert!(
        after.contains("\u{1b}[?25h"),
        "the cursor stays hidden: {after:?}"
    );
    assert!(
        !after[..first].contains("Targets") && !after[..first].contains("error"),
        "printed on the prompt's line: {after:?}"
    );
    // Nothing started: no summary of targets that were never touched.
    assert!(!after.contains("Targets: 0 applied"), "{after}");
    assert!(after.contains("nothing was changed"), "{after}");
}

#[tokio::test]
async fn two_resumes_of_one_run_at_once_write_each_target_once() {
    let server = gitlab(rotated()).await;
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "down"})))
        .with_priority(1)
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/"))
        .respond_with(|req: &Request| variable_answer(req).set_delay(Duration::from_millis(1500)))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args([
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let id = the_journal(&env)["id"].as_str().unwrap().to_owned();
    let first = spawn(&env, &server, &["--yes", "resume", &id]);
    let started = Instant::now();
    while count(&server, "PUT", "/api/v4/projects/grp%2Fproj/variables/K_1").await < 2 {
        assert!(started.elapsed() < Duration::from_secs(20), "no write");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = tokrot(&env, &server)
        .args(["--yes", "resume", &id])
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains(&format!("resume of {id}")),
        "names the resume that holds it: {}",
        stderr(&second)
    );
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        count(&server, "PUT", "/api/v4/projects/grp%2Fproj/variables/K_1").await,
        2,
        "once in the run, once in the one resume"
    );
    let audit =
        std::fs::read_to_string(env.path().join(".local/state/tokrot/audit.jsonl")).unwrap();
    let outcomes: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["outcome"].clone())
        .collect();
    assert_eq!(outcomes, [json!("incomplete"), json!("done")]);
}

#[tokio::test]
async fn a_token_rotated_by_someone_else_since_the_checks_is_not_rotated_again() {
    let server = MockServer::start().await;
    mount_caller(&server).await;
    // Active at the checks; rotated by another run by the time of the call.
    let mut revoked = token(42);
    revoked["active"] = json!(false);
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(revoked))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(ROTATE))
        .respond_with(rotated())
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(path_regex("^/api/v4/projects/grp%2Fproj/variables/"))
        .and(method("GET"))
        .respond_with(variable_answer)
        .mount(&server)
        .await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args([
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("no longer active"), "{err}");
    assert!(err.contains("the rotate call was not sent"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
}

#[tokio::test]
async fn a_kept_rotation_finished_by_resume_still_keeps_its_token() {
    // As `gitlab`, but the new token's check fails once (the run stops after the stash).
    let server = pat_gitlab(rotated(), 1).await;
    Mock::given(path("/api/v4/personal_access_tokens/self"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "down"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/self"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(43)))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/"))
        .respond_with(variable_answer)
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args([
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--keep",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("kept in the OS keyring"),
        "{}",
        stderr(&out)
    );
    let id = the_journal(&env)["id"].as_str().unwrap().to_owned();
    let resumed = tokrot(&env, &server)
        .args(["--yes", "resume", &id])
        .output()
        .unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let j = the_journal(&env);
    assert_eq!(j["status"], "kept", "{j}");
    assert_eq!(j["stashed"], true, "the token has nowhere else to be");
    // …and is still there for `apply --from`.
    let apply = tokrot(&env, &server)
        .args([
            "--yes",
            "apply",
            "gitlab-ci-var",
            "--project",
            "grp/proj",
            "--key",
            "K_9",
            "--from",
            &id,
        ])
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    assert_eq!(count(&server, "POST", ROTATE).await, 1);
}

#[test]
fn keep_and_no_stash_together_are_refused() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args([
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--keep",
            "--no-stash",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--no-stash"), "{}", stderr(&out));
}

#[test]
fn enter_at_where_does_the_new_token_go_is_no_target_and_connects_nowhere() {
    let env = Env::new();
    let tripwire = crate::common::Tripwire::new();
    let url = tripwire.url();
    let mut pty = Pty::spawn_with(
        &env,
        &[
            "--gitlab-url",
            &url,
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
        ],
        &[("GITLAB_TOKEN", CALLER)],
    );
    pty.answer("Where does the new token go?", "\r");
    let (code, screen) = pty.finish();
    assert_eq!(code, 2, "{screen}");
    assert!(screen.contains("no target"), "{screen}");
    assert!(screen.contains("--keep"), "{screen}");
    assert!(!tripwire.tripped(), "nothing was sent");
    assert!(journals(&env).is_empty());
}

#[tokio::test]
async fn with_output_json_an_error_is_one_json_document_too() {
    let server =
        gitlab(ResponseTemplate::new(401).set_body_json(json!({"message": "401 Unauthorized"})))
            .await;
    let env = Env::new();
    // Refused before it starts: the error document.
    let refused = tokrot(&env, &server)
        .args([
            "--yes",
            "--output",
            "json",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let doc: Value = crate::common::json_doc(&refused);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["exit_code"], 2);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no target"),
        "{doc}"
    );
    assert!(
        doc["error"]["hint"].as_str().unwrap().contains("--keep"),
        "{doc}"
    );
    // A run that fails: its report, with the error in it, and nothing after it.
    let failed = tokrot(&env, &server)
        .args([
            "--yes",
            "--output",
            "json",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_1",
        ])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(5), "{}", stderr(&failed));
    let report: Value = crate::common::json_doc(&failed);
    assert_eq!(report["status"], "unknown");
    assert!(
        report["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reuse detection")
    );
}

#[tokio::test]
async fn a_target_that_fails_its_check_on_resume_is_a_failed_target_not_nothing_changed() {
    let server = gitlab(rotated()).await;
    Mock::given(method("PUT"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "down"})))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    let out = tokrot(&env, &server)
        .args([
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:K_1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // Before the resume, the variable was deleted.
    // What was expected of the first run is checked before the stand-in is reset.
    server.verify().await;
    server.reset().await;
    Mock::given(path_regex("^/api/v4/projects/grp%2Fproj/variables/"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "404 Variable Not Found"})),
        )
        .mount(&server)
        .await;
    let resumed = tokrot(&env, &server)
        .args(["--yes", "resume"])
        .output()
        .unwrap();
    assert_eq!(resumed.status.code(), Some(3), "{}", stderr(&resumed));
    let err = stderr(&resumed);
    assert!(!err.contains("nothing was changed"), "{err}");
    assert!(err.contains("K_1"), "{err}");
    assert!(err.contains("kept in the OS keyring"), "{err}");
    assert_eq!(the_journal(&env)["status"], "incomplete");
}
