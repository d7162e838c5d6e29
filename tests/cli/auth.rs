//! `tokrot auth` with the real OS keyring (the kernel keyring on Linux), across separate
//! processes: login, status, a rotation that uses the kept credential, logout.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Env, day, stderr, stdout};

const LOGIN: &str = "glpat-LOGIN-CANARY-aa01";
const NEW: &str = "glpat-NEW-CANARY-aa02";

#[tokio::test]
async fn login_status_rotate_with_the_kept_credential_then_logout() {
    let server = MockServer::start().await;
    let token = json!({"id": 42, "name": "t", "active": true, "created_at": format!("{}T00:00:00Z", day(-60)), "expires_at": day(10)});
    Mock::given(path("/api/v4/user"))
        .and(header("PRIVATE-TOKEN", LOGIN))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1, "username": "ops"})))
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/user"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "401 Unauthorized"})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/42"))
        .and(header("PRIVATE-TOKEN", LOGIN))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token.clone()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .and(header("PRIVATE-TOKEN", LOGIN))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 43, "name": "t", "token": NEW, "expires_at": "2027-03-01"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/self"))
        .and(header("PRIVATE-TOKEN", LOGIN))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 7, "name": "tokrot", "active": true, "scopes": ["api", "self_rotate"],
            "expires_at": "2027-01-31"
        })))
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/personal_access_tokens/self"))
        .and(header("PRIVATE-TOKEN", NEW))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token))
        .mount(&server)
        .await;
    let env = Env::new();
    let tokrot = || {
        let mut cmd = env.tokrot();
        cmd.args(["--gitlab-url", &server.uri()]);
        cmd
    };
    let account = format!("gitlab:{}", server.uri());

    // A token that does not work is not kept.
    let bad = tokrot()
        .args(["auth", "login", "gitlab", "--token-stdin"])
        .write_stdin("glpat-BAD-CANARY-aa03\n")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("the token does not work, so it was not kept"),
        "{}",
        stderr(&bad)
    );

    let login = tokrot()
        .args(["auth", "login", "gitlab", "--token-stdin"])
        .write_stdin(format!("{LOGIN}\n"))
        .output()
        .unwrap();
    assert_eq!(login.status.code(), Some(0), "{}", stderr(&login));
    assert!(
        stderr(&login).contains(&format!(
            "as ops; the token is in the OS keyring as tokrot/{account}"
        )),
        "{}",
        stderr(&login)
    );

    let status = tokrot()
        .args(["auth", "status", "gitlab"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let text = stdout(&status);
    assert!(text.contains("\tkeyring\tworks, as ops\t"), "{text}");
    // Piped: one row, its full values tab-separated, no header.
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("gitlab\thttp://"), "{text}");
    assert!(text.ends_with("\t2027-01-31\tapi, self_rotate\n"), "{text}");
    // On a terminal (COLUMNS stands for one): a header, and no line wider than the terminal.
    let narrow = tokrot()
        .env("COLUMNS", "80")
        .args(["auth", "status", "gitlab"])
        .output()
        .unwrap();
    assert_eq!(narrow.status.code(), Some(0), "{}", stderr(&narrow));
    let shown = stdout(&narrow);
    assert!(shown.starts_with("FOR "), "{shown}");
    assert!(shown.contains("works, as ops"), "{shown}");
    assert!(shown.lines().all(|l| l.chars().count() <= 80), "{shown}");

    let rotated = tokrot()
        .args([
            "--yes",
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--expires-at",
            "2027-03-01",
            "--keep",
        ])
        .output()
        .unwrap();
    assert_eq!(rotated.status.code(), Some(0), "{}", stderr(&rotated));

    // The environment wins over the keyring.
    let env_status = tokrot()
        .env("GITLAB_TOKEN", "glpat-ENV-CANARY-aa04")
        .args(["auth", "status", "gitlab", "--output", "json"])
        .output()
        .unwrap();
    // A credential that was tried and does not work: exit 1, and the JSON says which.
    assert_eq!(env_status.status.code(), Some(1), "{}", stderr(&env_status));
    let v: serde_json::Value = crate::common::json_doc(&env_status);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["credentials"][0]["source"], "environment (GITLAB_TOKEN)");
    assert_eq!(v["credentials"][0]["works"], false);

    let logout = tokrot()
        .args(["auth", "logout", "gitlab"])
        .output()
        .unwrap();
    assert_eq!(logout.status.code(), Some(0));
    assert!(
        stderr(&logout).contains(&format!("Removed tokrot/{account}")),
        "{}",
        stderr(&logout)
    );
    let after = tokrot()
        .args(["auth", "status", "gitlab"])
        .output()
        .unwrap();
    assert!(
        stdout(&after).contains("\tnone\tdoes not work: no credential\t"),
        "{}",
        stdout(&after)
    );
    let refused = tokrot()
        .args(["--yes", "rotate", "gitlab-pat", "--token-id", "42"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("tokrot auth login gitlab"),
        "{}",
        stderr(&refused)
    );

    for out in [
        &bad,
        &login,
        &status,
        &rotated,
        &env_status,
        &logout,
        &after,
        &refused,
    ] {
        assert!(
            !stdout(out).contains("CANARY") && !stderr(out).contains("CANARY"),
            "{}{}",
            stdout(out),
            stderr(out)
        );
    }
    for f in env.files() {
        assert!(
            !String::from_utf8_lossy(&std::fs::read(&f).unwrap()).contains("CANARY"),
            "{}",
            f.display()
        );
    }
}

#[tokio::test]
async fn a_zendesk_credential_answered_by_the_anonymous_user_is_not_kept() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/users/me"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"user": {"id": null, "name": "Anonymous user"}})),
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
        .args([
            "auth",
            "login",
            "zendesk",
            "--instance",
            "zd",
            "--email",
            "ops@example.com",
            "--token-stdin",
        ])
        .write_stdin("zd-CANARY-aa05\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Zendesk answered as an anonymous user"),
        "{}",
        stderr(&out)
    );
    let status = env
        .tokrot()
        .args(["auth", "status", "zendesk", "--instance", "zd"])
        .output()
        .unwrap();
    assert!(
        stdout(&status).contains("\tnone\tdoes not work: no credential\t"),
        "{}",
        stdout(&status)
    );
    assert!(!stderr(&out).contains("CANARY"));
}

#[test]
fn auth_status_shows_only_what_is_logged_in_and_fails_when_nothing_is() {
    let env = Env::new();
    let out = env.tokrot().args(["auth", "status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("no credential for GitLab or any Zendesk instance"),
        "{err}"
    );
    assert!(err.contains("tokrot auth login"), "{err}");
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    // One credential: only its host is listed, not the six without one.
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", "glpat-auth-CANARY-st01")
        .args(["--gitlab-url", "http://127.0.0.1:1", "auth", "status"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.starts_with("gitlab\t"), "{text}");
    assert!(!text.contains("zendesk"), "{text}");
    // And one line names the instances without one.
    assert!(
        stderr(&out).contains("no credential for: global, global-sandbox, us-gov, us-gov-sandbox"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1), "it does not work: {text}");
    crate::common::scan(&env, &[&out], &["glpat-auth-CANARY-st01"]);
}
