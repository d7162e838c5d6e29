//! Errors that say what to do next, through the real binary: what was wrong, what tokrot knows
//! that helps (the successor of a rotated token, the keys that exist, the full path form), and
//! no doubled vendor message; and no `<placeholder>` in a live run.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Env, Pty, assert_no_piece, day, scan, stderr};
use crate::stand_in::mount_caller;

const CALLER: &str = "glpat-caller-CANARY-ns01";
const NEW: &str = "glpat-NEW-CANARY-ns02";
const VALUE: &str = "value-CANARY-ns03";
const ZD: &str = "zd-oauth-CANARY-ns04";

async fn caller(server: &MockServer) {
    mount_caller(server).await;
}

fn token(id: u64, active: bool) -> serde_json::Value {
    json!({"id": id, "name": "zd sync", "revoked": !active, "active": active,
           "created_at": format!("{}T10:00:00.000Z", day(-60)), "expires_at": day(10), "scopes": ["api"],
           "user_id": 1, "last_used_at": null})
}

/// Token 42's rotate call (once) into `new_id`, and the new token's own check.
async fn rotation_of_42(server: &MockServer, new_id: u64) {
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": new_id, "name": "zd sync", "token": NEW, "expires_at": "2027-06-01"}),
        ))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/self"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(new_id, true)))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_project_named_without_its_group_is_said_once_with_the_full_form() {
    let server = MockServer::start().await;
    caller(&server).await;
    Mock::given(path("/api/v4/projects/zd-sync/access_tokens/42"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "404 Project Not Found"})),
        )
        .mount(&server)
        .await;
    let env = Env::new();
    let out = env
        .unattended_on(&server.uri(), CALLER)
        .args(["rotate", "gitlab-project-token", "--project", "zd-sync"])
        .args(["--token-id", "42", "--keep"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("404 Project Not Found"), "{err}");
    assert!(
        !err.contains("Not Found 404"),
        "the message is doubled:\n{err}"
    );
    assert!(err.contains("`GROUP/zd-sync`"), "{err}");
    scan(&env, &[&out], &[CALLER]);
}

#[tokio::test]
async fn rotating_a_rotated_token_names_its_successor_from_the_journal() {
    let server = MockServer::start().await;
    caller(&server).await;
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42, true)))
        // The check, and the re-read just before the rotate call.
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42, false)))
        .mount(&server)
        .await;
    rotation_of_42(&server, 5001).await;
    let env = Env::new();
    let rotate = || {
        env.unattended_on(&server.uri(), CALLER)
            .args(["rotate", "gitlab-pat", "--token-id", "42", "--keep"])
            .output()
            .unwrap()
    };
    let first = rotate();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let again = rotate();
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    let err = stderr(&again);
    assert!(err.contains("was rotated by run "), "{err}");
    assert!(err.contains("its successor is 5001"), "{err}");
    assert!(err.contains("--token-id 5001"), "{err}");

    // On another GitLab, token 42 is another token: the journal of this one says nothing of it.
    let other = MockServer::start().await;
    caller(&other).await;
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42, false)))
        .mount(&other)
        .await;
    let elsewhere = env
        .unattended_on(&other.uri(), CALLER)
        .args(["rotate", "gitlab-pat", "--token-id", "42", "--keep"])
        .output()
        .unwrap();
    assert_eq!(elsewhere.status.code(), Some(2), "{}", stderr(&elsewhere));
    let err = stderr(&elsewhere);
    assert!(err.contains("is not active"), "{err}");
    assert!(
        !err.contains("5001"),
        "a successor from another GitLab: {err}"
    );
    scan(&env, &[&first, &again, &elsewhere], &[CALLER, NEW]);
}

#[tokio::test]
async fn a_missing_variable_lists_the_keys_that_exist_and_never_their_values() {
    let server = MockServer::start().await;
    caller(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/API_TOKN"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "404 Variable Not Found"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/variables"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"key": "API_TOKEN", "value": VALUE, "environment_scope": "*", "masked": false, "hidden": false},
            {"key": "OTHER", "value": VALUE, "environment_scope": "*", "masked": false, "hidden": false},
        ])))
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
            "API_TOKN",
        ])
        .arg("--token-stdin")
        .write_stdin(format!("{NEW}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("API_TOKEN"), "{err}");
    assert!(err.contains("OTHER"), "{err}");
    scan(&env, &[&out], &[CALLER, NEW, VALUE]);
}

#[test]
fn an_empty_paste_says_why_it_is_asked_again() {
    let env = Env::new();
    let canary = "glpat-CANARY-ns05x9";
    let dir = crate::common::fixture("override");
    let mut pty = Pty::spawn(
        &env,
        &["--runbooks", dir.to_str().unwrap(), "run", "capture-demo"],
    );
    pty.answer("Done? [y/n]", "y");
    pty.answer("The token (hidden)", "\r");
    pty.expect("empty: paste the token, or Ctrl-C to stop");
    std::thread::sleep(std::time::Duration::from_millis(150));
    pty.send(&format!("{canary}\r"));
    pty.answer("Did the paste go well? [y/n]", "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert_no_piece("screen", &screen, &[canary]);
}

/// A config whose `zd` instance is the stand-in.
fn zendesk_config(env: &Env, server: &MockServer) -> String {
    let text = format!(
        "[zendesk.instances.zd]\nurl = \"{}\"\nlabel = \"Zendesk Stand-in\"\n",
        server.uri()
    );
    env.write("c/config.toml", &text)
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_zendesk_login_without_instance_offers_the_pick_list_rotate_does() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/users/me"))
        .and(header("authorization", format!("Bearer {ZD}").as_str()))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"user": {"id": 7, "email": "ops@example.com", "role": "admin"}}),
            ),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/oauth/tokens/current.json"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"token": {"id": 3, "scopes": ["read", "write"], "expires_at": null}}),
        ))
        .mount(&server)
        .await;
    let env = Env::new();
    let config = zendesk_config(&env, &server);
    let mut pty = Pty::spawn(&env, &["--config", &config, "auth", "login", "zendesk"]);
    pty.expect("Zendesk Global (global)");
    // The configured instance is listed after the built-in ones.
    for _ in 0..4 {
        pty.send("\x1b[B");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    pty.answer("Zendesk Stand-in (zd)", "\r");
    pty.answer("Which Zendesk credential?", "\r");
    pty.answer("(hidden)", &format!("{ZD}\r"));
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("Logged in to zd"), "{screen}");
    assert_no_piece("screen", &screen, &[ZD]);
    let logout = env
        .tokrot()
        .args([
            "--config",
            &config,
            "auth",
            "logout",
            "zendesk",
            "--instance",
            "zd",
        ])
        .output()
        .unwrap();
    assert_eq!(logout.status.code(), Some(0), "{}", stderr(&logout));
    // Without a terminal, the error says where the ids are.
    let out = env
        .tokrot()
        .args(["auth", "login", "zendesk"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("tokrot instances"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn a_refused_zendesk_login_says_what_it_was_sent_as() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/users/me"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": "Couldn't authenticate you"})),
        )
        .mount(&server)
        .await;
    let env = Env::new();
    let config = zendesk_config(&env, &server);
    let login = |extra: &[&str]| {
        env.tokrot()
            .args([
                "--config",
                &config,
                "auth",
                "login",
                "zendesk",
                "--instance",
                "zd",
            ])
            .arg("--token-stdin")
            .args(extra)
            .write_stdin(format!("{ZD}\n"))
            .output()
            .unwrap()
    };
    let bearer = login(&[]);
    assert_eq!(bearer.status.code(), Some(2), "{}", stderr(&bearer));
    let err = stderr(&bearer);
    let admin = format!(
        "{}/admin/apps-integrations/apis/zendesk-api/oauth_clients",
        server.uri()
    );
    assert!(err.contains("with the scopes `read` and `write`"), "{err}");
    assert!(err.contains(&admin), "{err}");
    assert!(
        err.contains("sent as an OAuth access token (Bearer)"),
        "{err}"
    );
    assert!(err.contains("--email"), "{err}");
    let basic = login(&["--email", "ops@example.com"]);
    assert_eq!(basic.status.code(), Some(2), "{}", stderr(&basic));
    assert!(
        stderr(&basic).contains("must be a verified user of this instance"),
        "{}",
        stderr(&basic)
    );
    scan(&env, &[&bearer, &basic], &[ZD]);
}

#[tokio::test]
async fn a_live_run_shows_values_not_placeholders() {
    let server = MockServer::start().await;
    caller(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([token(42, true)])))
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42, true)))
        .mount(&server)
        .await;
    rotation_of_42(&server, 43).await;
    let env = Env::new();
    let out = env
        .unattended_on(&server.uri(), CALLER)
        .args(["rotate", "gitlab-pat", "--token-name", "zd sync", "--keep"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("personal_access_tokens/42/rotate"), "{err}");
    assert!(err.contains("sends expires_at=20"), "{err}");
    for placeholder in ["<token-id>", "<expires-at>", "<token-name>"] {
        assert!(!err.contains(placeholder), "{placeholder} in:\n{err}");
    }
    scan(&env, &[&out], &[CALLER, NEW]);
}

#[tokio::test]
async fn a_gitlab_login_says_which_token_to_create_and_where() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v4/user"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "401 Unauthorized"})),
        )
        .mount(&server)
        .await;
    let env = Env::new();
    let out = env
        .tokrot()
        .args([
            "--gitlab-url",
            &server.uri(),
            "auth",
            "login",
            "gitlab",
            "--token-stdin",
        ])
        .write_stdin(format!("{CALLER}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the scopes `api` (every GitLab step) and `self_rotate`"),
        "{err}"
    );
    let page = format!("{}/-/user_settings/personal_access_tokens", server.uri());
    assert!(err.contains(&page), "{err}");
    assert!(!err.contains("401 Unauthorized 401"), "{err}");
    scan(&env, &[&out], &[CALLER]);
}

#[test]
fn an_api_token_rotation_without_an_email_is_refused_before_the_token_is_made_by_hand() {
    let tripwire = crate::common::Tripwire::new();
    let env = Env::new();
    let config = env.write(
        "c/config.toml",
        &format!(
            "[zendesk.instances.zd]\nurl = \"{}\"\nlabel = \"Zendesk Stand-in\"\n",
            tripwire.url()
        ),
    );
    let out = env
        .tokrot()
        .env("ZENDESK_OAUTH_TOKEN", ZD)
        .env("ZENDESK_INSTANCE", "zd")
        .args(["--config", config.to_str().unwrap(), "--yes"])
        .args(["rotate", "zendesk-api", "--instance", "zd", "--token-stdin"])
        .args(["--apply-to", "zendesk-app:zd:1:api_token"])
        .write_stdin("zd-CANARY-ns06-abcdef\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("--email"), "{err}");
    assert!(err.contains("ZENDESK_EMAIL"), "{err}");
    assert!(
        !tripwire.tripped(),
        "nothing is sent before every value is there"
    );
    scan(&env, &[&out], &[ZD, "zd-CANARY-ns06-abcdef"]);
}

#[tokio::test]
async fn a_refused_check_says_what_the_credential_needs_and_how_to_check_again() {
    let server = MockServer::start().await;
    caller(&server).await;
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42, true)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/API_TOKEN"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "403 Forbidden"})))
        .mount(&server)
        .await;
    let env = Env::new();
    let out = env
        .unattended_on(&server.uri(), CALLER)
        .args(["rotate", "gitlab-pat", "--token-id", "42"])
        .args(["--apply-to", "gitlab-ci-var:grp/proj:API_TOKEN"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("the Maintainer role on the project"), "{err}");
    assert!(err.contains("`--dry-run` runs the same checks"), "{err}");
    assert!(!err.contains("403 Forbidden 403"), "{err}");
    scan(&env, &[&out], &[CALLER]);
}

#[tokio::test]
async fn a_vendor_answer_cannot_act_on_the_terminal() {
    let server = MockServer::start().await;
    caller(&server).await;
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(42, true)))
        .mount(&server)
        .await;
    // A title change, a bell, a screen clear and a carriage return, in an error's message.
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/API_TOKEN"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"message": "404 \u{1b}]0;pwned\u{7}\u{1b}[2J\rVariable Not Found"}),
        ))
        .mount(&server)
        .await;
    let env = Env::new();
    let out = env
        .unattended_on(&server.uri(), CALLER)
        .args(["rotate", "gitlab-pat", "--token-id", "42"])
        .args(["--apply-to", "gitlab-ci-var:grp/proj:API_TOKEN"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !stream.iter().any(|b| [0x1b, 0x07, b'\r'].contains(b)),
            "a control character reached the terminal: {:?}",
            String::from_utf8_lossy(stream)
        );
    }
    assert!(
        stderr(&out).contains("Variable Not Found"),
        "{}",
        stderr(&out)
    );
    // The target that failed its check is failed in the report, as in the JSON one.
    assert!(
        stderr(&out).contains("Targets: 0 applied, 1 failed\n"),
        "{}",
        stderr(&out)
    );
    scan(&env, &[&out], &[CALLER]);
}

#[tokio::test]
async fn a_pick_list_shows_a_vendor_name_as_text() {
    let server = MockServer::start().await;
    caller(&server).await;
    let mut hostile = token(42, true);
    hostile["name"] = json!("zd sync\u{1b}]0;pwned\u{7}\u{1b}[2J");
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([hostile])))
        .mount(&server)
        .await;
    let env = Env::new();
    let uri = server.uri();
    let args = ["--gitlab-url", uri.as_str(), "rotate", "gitlab-pat"];
    let mut pty = Pty::spawn_with(&env, &args, &[("GITLAB_TOKEN", CALLER)]);
    pty.expect("(id 42)");
    std::thread::sleep(std::time::Duration::from_millis(150));
    pty.send("\x03");
    let (_, screen) = pty.finish();
    assert!(screen.contains("zd sync\\u{1b}]0;pwned"), "{screen}");
    assert!(
        !screen.contains("\u{1b}]0;pwned"),
        "the vendor's title change reached the terminal"
    );
    assert!(
        !screen.contains("\u{1b}[2J"),
        "the vendor's screen clear reached the terminal"
    );
    assert_no_piece("screen", &screen, &[CALLER]);
}
