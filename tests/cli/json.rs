//! `--output json` as a contract: every command's document follows `schema/tokrot.schema.json`
//! (the other tests check the documents of the runs they make the same way, through
//! `common::json_doc`), carries `schema_version`, keeps `service` and `instance` apart, and an
//! error is a document too.

use serde_json::Value;

use crate::common::{Env, IDS, day, json_doc, stderr, validate};

fn json(env: &Env, args: &[&str]) -> (Option<i32>, Value) {
    let out = env
        .tokrot()
        .args(["--output", "json"])
        .args(args)
        .output()
        .unwrap();
    (out.status.code(), json_doc(&out))
}

#[test]
fn every_command_that_needs_no_vendor_prints_a_document_of_the_schema() {
    let env = Env::new();
    let (code, list) = json(&env, &["list"]);
    assert_eq!(code, Some(0));
    assert_eq!(list["schema_version"], 1);
    assert_eq!(list["runbooks"].as_array().unwrap().len(), IDS.len());
    let (_, actions) = json(&env, &["list", "--actions"]);
    assert!(!actions["actions"].as_array().unwrap().is_empty());
    let (_, instances) = json(&env, &["instances"]);
    assert_eq!(instances["zendesk"][0]["id"], "global");
    for id in IDS {
        let (code, show) = json(&env, &["show", id]);
        assert_eq!(code, Some(0), "{id}");
        assert!(
            show["steps"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s.get("call").is_some()),
            "{id}: every step has a call, null when it makes none"
        );
    }
    let (_, shown) = json(&env, &["show", "zendesk-api"]);
    let per = &shown["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["per_instance"].is_array())
        .unwrap()["per_instance"][0];
    assert_eq!(per["instance"], "global");
    assert_eq!(per["label"], "Zendesk Global");
    let gate = shown["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "gate")
        .unwrap();
    assert_eq!(gate["gate"]["id"], "add-token-button");

    let (code, dry) = json(
        &env,
        &[
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--dry-run",
            "--apply-to",
            "gitlab-ci-var:grp/proj:API_TOKEN",
            "--apply-to",
            "zendesk-app:global:360001:api_token",
        ],
    );
    assert_eq!(code, Some(0));
    assert_eq!(dry["status"], "dry-run");
    assert_eq!(dry["exit_code"], 0);
    assert_eq!(dry["source"]["service"], "gitlab");
    assert_eq!(dry["targets"][0]["service"], "gitlab");
    assert_eq!(dry["targets"][0]["instance"], Value::Null);
    assert_eq!(dry["targets"][1]["service"], "zendesk");
    assert_eq!(dry["targets"][1]["instance"], "global");
    assert!(
        dry["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["outcome"] == "not-run")
    );
    for args in [
        &["rotate", "zendesk-api", "--instance", "global", "--dry-run"][..],
        &[
            "rotate",
            "zendesk-oauth",
            "--instance",
            "us-gov",
            "--client-id",
            "7",
            "--dry-run",
        ],
        &[
            "rotate",
            "gitlab-trigger",
            "--project",
            "a/b",
            "--trigger-id",
            "5",
            "--dry-run",
        ],
        &[
            "apply",
            "zendesk-webhook",
            "--instance",
            "global",
            "--webhook-id",
            "01H8X",
            "--dry-run",
        ],
        &[
            "run",
            "zendesk-oauth-integration",
            "--instance",
            "global",
            "--dry-run",
        ],
    ] {
        let (code, _) = json(&env, args);
        assert_eq!(code, Some(0), "{args:?}");
    }
    let (_, history) = json(&env, &["history"]);
    assert_eq!(history["runs"], Value::Array(Vec::new()));
    let (_, logout) = json(&env, &["auth", "logout", "gitlab", "--dry-run"]);
    assert_eq!(logout["operation"], "logout");
    assert_eq!(logout["removed"], false);
    // Asked about one instance with no credential: shown, and exit 1 (not logged in).
    let (code, status) = json(&env, &["auth", "status", "zendesk", "--instance", "global"]);
    assert_eq!(code, Some(1));
    assert_eq!(status["credentials"][0]["service"], "zendesk");
    assert_eq!(status["credentials"][0]["instance"], "global");
}

#[test]
fn errors_are_documents_of_the_schema_too() {
    let env = Env::new();
    for (args, code) in [
        (&["show", "gitlab-patt"][..], 2),
        (
            &["rotate", "gitlab-pat", "--token-id", "42", "--yes"][..],
            2,
        ),
        (&["history", "--since", "soon"][..], 2),
        (&["resume"][..], 2),
        (&["status"][..], 2),
    ] {
        let out = env
            .tokrot()
            .args(["--output", "json"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        let doc = json_doc(&out);
        assert_eq!(doc["exit_code"], code, "{args:?}");
        assert!(doc["error"]["message"].is_string(), "{args:?}");
    }
}

#[test]
fn the_schema_refuses_what_a_script_could_not_rely_on() {
    let env = Env::new();
    let (_, dry) = json(
        &env,
        &[
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--keep",
            "--dry-run",
        ],
    );
    // Each of these would break a script: the schema says so, so a test that checks a document
    // against it fails when the code prints one.
    type Break = (&'static str, fn(&mut Value));
    let breaks: [Break; 4] = [
        ("no version", |d| {
            d.as_object_mut().unwrap().remove("schema_version");
        }),
        ("an outcome nobody knows", |d| {
            d["steps"][0]["outcome"] = "fine".into()
        }),
        ("service and instance joined", |d| {
            d["source"]["service"] = "zendesk global".into()
        }),
        ("an error as a bare string", |d| {
            d["error"] = "failed".into()
        }),
    ];
    for (what, f) in breaks {
        let mut doc = dry.clone();
        f(&mut doc);
        assert!(validate(&doc).is_err(), "the schema lets through {what}");
    }
}

#[tokio::test]
async fn a_login_a_run_its_history_and_a_logout_are_documents_of_the_schema() {
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    const LOGIN: &str = "glpat-LOGIN-CANARY-js01";
    const NEW: &str = "glpat-NEW-CANARY-js02";
    let server = MockServer::start().await;
    caller_and_token_42(&server).await;
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 43, "name": "t", "token": NEW, "expires_at": "2027-03-01"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/self"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pat(43)))
        .mount(&server)
        .await;
    let env = Env::new();
    let uri = server.uri();
    let tokrot = |args: &[&str], stdin: &str| {
        env.tokrot()
            .args(["--gitlab-url", &uri, "--output", "json"])
            .args(args)
            .write_stdin(stdin.to_owned())
            .output()
            .unwrap()
    };
    let login = tokrot(
        &["auth", "login", "gitlab", "--token-stdin"],
        &format!("{LOGIN}\n"),
    );
    assert_eq!(login.status.code(), Some(0), "{}", stderr(&login));
    assert_eq!(json_doc(&login)["user"], "ops");
    let run = tokrot(
        &[
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--keep",
        ],
        "",
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json_doc(&run);
    assert_eq!(report["status"], "kept");
    assert_eq!(report["source"]["new_id"], 43);
    let steps = report["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["outcome"] == "done"), "{report:#}");
    let id = report["rotation_id"].as_str().unwrap().to_owned();
    let resumed = tokrot(&["resume", &id], "");
    assert_eq!(json_doc(&resumed)["status"], "kept");
    let history = tokrot(&["history", &id], "");
    let run_doc = json_doc(&history);
    assert_eq!(run_doc["run"]["params"]["token_id"], "42");
    assert!(run_doc["run"].get("memo").is_none());
    let logout = tokrot(&["auth", "logout", "gitlab"], "");
    assert_eq!(json_doc(&logout)["removed"], true);
    crate::common::scan(
        &env,
        &[&login, &run, &resumed, &history, &logout],
        &[LOGIN, NEW],
    );
}

#[tokio::test]
async fn an_inventory_that_cannot_take_the_new_id_is_exit_1_with_what_to_write_by_hand() {
    use serde_json::json;
    use wiremock::matchers::{method, path, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    const CALLER: &str = "glpat-caller-CANARY-js03";
    const NEW: &str = "glpat-NEW-CANARY-js04";
    let server = MockServer::start().await;
    let env = Env::new();
    let inventory = env.write(
        "tokrot.toml",
        "[[credential]]\nname = \"zd-sync\"\nrunbook = \"gitlab-pat\"\nparams = { token_id = \"42\" }\ntargets = [\"gitlab-ci-var:grp/proj:K\"]\n",
    );
    caller_and_token_42(&server).await;
    // While the rotation runs, someone renames the credential in the file.
    let file = inventory.clone();
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .respond_with(move |_: &wiremock::Request| {
            let text = std::fs::read_to_string(&file).unwrap();
            std::fs::write(&file, text.replace("zd-sync", "renamed")).unwrap();
            ResponseTemplate::new(200).set_body_json(
                json!({"id": 43, "name": "t", "token": NEW, "expires_at": "2027-03-01"}),
            )
        })
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/self"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pat(43)))
        .mount(&server)
        .await;
    let variable = |value: &str| {
        json!({"key": "K", "value": value, "variable_type": "env_var", "protected": false, "masked": false,
               "hidden": false, "raw": false, "environment_scope": "*"})
    };
    Mock::given(method("GET"))
        .and(path_regex("^/api/v4/projects/grp%2Fproj/variables/K$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable("old-CANARY-js05")))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/K"))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable(NEW)))
        .expect(1)
        .mount(&server)
        .await;
    let out = env
        .unattended_on(&server.uri(), CALLER)
        .args(["--output", "json", "--inventory"])
        .arg(&inventory)
        .args(["rotate", "--credential", "zd-sync"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json_doc(&out);
    assert_eq!(report["status"], "done", "the rotation itself finished");
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["inventory_update"]["ok"], false);
    let hint = report["error"]["hint"].as_str().unwrap();
    assert!(hint.contains("token_id = \"43\""), "{hint}");
    crate::common::scan(&env, &[&out], &[CALLER, NEW, "old-CANARY-js05"]);
}

/// A personal access token as GitLab lists it.
fn pat(id: u64) -> Value {
    serde_json::json!({"id": id, "name": "t", "active": true, "revoked": false,
        "created_at": format!("{}T00:00:00Z", day(-60)), "expires_at": day(10), "scopes": ["api"],
        "user_id": 1, "last_used_at": null})
}

/// The caller, and token 42 as its check reads it.
async fn caller_and_token_42(server: &wiremock::MockServer) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    Mock::given(path("/api/v4/user"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": 1, "username": "ops"})),
        )
        .mount(server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pat(42)))
        .mount(server)
        .await;
}

#[tokio::test]
async fn jq_picks_from_the_document_and_a_bad_expression_stops_before_anything_is_sent() {
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let env = Env::new();
    // --jq implies --output json; strings come out as their text, other values as JSON.
    let out = env
        .tokrot()
        .args([
            "list",
            "--jq",
            ".runbooks[] | select(.kind == \"apply\") | .id",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        crate::common::stdout(&out),
        "zendesk-app\nzendesk-webhook\ngitlab-ci-var\ngitlab-webhook\ngitlab-instance-var\n"
    );
    let out = env
        .tokrot()
        .args(["history", "--output", "json", "--jq", ".runs | length"])
        .output()
        .unwrap();
    assert_eq!(crate::common::stdout(&out), "0\n");

    // A mistake in the expression is a usage error before anything runs: no request at all,
    // and stdout stays the filter's (empty).
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", "glpat-caller-CANARY-js01")
        .args([
            "--gitlab-url",
            &server.uri(),
            "--yes",
            "--jq",
            ".source | .new_id[",
        ])
        .args(["rotate", "gitlab-pat", "--token-id", "42"])
        .args(["--apply-to", "gitlab-ci-var:grp/proj:K"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--jq `.source | .new_id[` is not a jq expression: expected closing bracket"),
        "{err}"
    );
    assert_eq!(crate::common::stdout(&out), "");
    assert!(server.received_requests().await.unwrap().is_empty());
    // The environment, where tokrot's credentials are, is out of the filter's reach.
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", "glpat-jq-CANARY-js02-abcdef")
        .args(["list", "--jq", "env.GITLAB_TOKEN"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    crate::common::scan(&env, &[&out], &["glpat-jq-CANARY-js02-abcdef"]);
    // An error while filtering is exit 2 too.
    let out = env
        .tokrot()
        .args(["list", "--jq", ".runbooks | error(\"no such field\")"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such field"), "{}", stderr(&out));
}
