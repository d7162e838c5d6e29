//! Hardened edges, through the binary: input refused at the door (exit 2, nothing sent),
//! credentials kept to their origin, answers bounded. Each test ends with the canary scan: no
//! secret, and no 8-character piece of one, in any output or file.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Env, Tripwire, scan, stderr, stdout};
use crate::stand_in::mount_caller;

const TOKEN: &str = "glpat-EDGE-CANARY-9f01x";

/// `tokrot apply` of a token into the variable `KEY` of `grp/proj`.
const APPLY_VAR: [&str; 6] = [
    "apply",
    "gitlab-ci-var",
    "--project",
    "grp/proj",
    "--key",
    "KEY",
];

#[test]
fn dot_segments_in_projects_and_groups_are_refused_before_anything_is_sent() {
    let env = Env::new();
    let wire = Tripwire::new();
    let cases: [&[&str]; 5] = [
        &[
            "apply",
            "gitlab-webhook",
            "--project",
            "..",
            "--hook-id",
            "9",
        ],
        &[
            "apply",
            "gitlab-webhook",
            "--project",
            "grp/./proj",
            "--hook-id",
            "9",
        ],
        &[
            "apply",
            "gitlab-ci-var",
            "--group",
            "grp//sub",
            "--key",
            "KEY",
        ],
        &[
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:..:KEY",
        ],
        &[
            "--dry-run",
            "apply",
            "gitlab-webhook",
            "--project",
            "a/..",
            "--hook-id",
            "9",
        ],
    ];
    for args in cases {
        let out = env
            .tokrot()
            .env("GITLAB_TOKEN", TOKEN)
            .args(["--yes", "--gitlab-url", &wire.url()])
            .args(args)
            .write_stdin(format!("{TOKEN}\n"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("path segment") || err.contains("empty path segment"),
            "{args:?}: {err}"
        );
        assert!(!wire.tripped(), "{args:?} sent a request");
        scan(&env, &[&out], &[TOKEN]);
    }
}

#[test]
fn a_run_id_that_is_not_one_is_refused() {
    let env = Env::new();
    let outside = env.write("elsewhere/20261128T093000Z-gitlab-pat-1a2b3c.json", "{}");
    for id in [
        outside.to_str().unwrap(),
        "../elsewhere/20261128T093000Z-gitlab-pat-1a2b3c",
        "latest",
        "20261128T093000Z-gitlab-pat-1a2b3",
    ] {
        let out = env.tokrot().args(["resume", id]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{id}: {}", stderr(&out));
        assert!(stderr(&out).contains("is not a run id"), "{}", stderr(&out));
    }
    // Under --output json, a mistake on the command line is a JSON error document too.
    let out = env
        .tokrot()
        .args(["--output", "json", "resume", "../x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let doc: serde_json::Value = crate::common::json_doc(&out);
    assert_eq!(doc["exit_code"], 2);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is not a run id"),
        "{doc}"
    );
}

#[test]
fn a_token_line_with_anything_but_a_token_is_refused() {
    let env = Env::new();
    let wire = Tripwire::new();
    let long = "a".repeat(5000);
    let huge = "b".repeat(10 * 1024 * 1024);
    let cases: [(&str, &[u8]); 9] = [
        ("control character", b"glpat-abc\0defghij\n"),
        ("byte-order mark", "\u{feff}glpat-abcdefghij\n".as_bytes()),
        ("format character", "glpat-abc\u{200b}defghij\n".as_bytes()),
        ("control character", b"glpat-\x1b[31mabcdefghij\n"),
        ("3 characters", b"abc\n"),
        ("5000 characters", long.as_bytes()),
        ("more than 16 KiB", huge.as_bytes()),
        (
            "second non-empty line",
            b"glpat-abcdefghij\nglpat-klmnopqrst\n",
        ),
        ("not text", b"\xff\xfeglpat-abcdefghij\n"),
    ];
    for (why, input) in cases {
        let out = env
            .tokrot()
            .env("GITLAB_TOKEN", TOKEN)
            .args(["--yes", "--gitlab-url", &wire.url()])
            .args(APPLY_VAR)
            .arg("--token-stdin")
            .write_stdin(input.to_vec())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{why}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{why}: {}", stderr(&out));
        assert!(!wire.tripped(), "{why}: a request was sent");
        scan(
            &env,
            &[&out],
            &[TOKEN, "glpat-abcdefghij", "glpat-klmnopqrst"],
        );
    }
    // An endless stdin is read only as far as the bound.
    let mut cmd = env.process();
    cmd.env("GITLAB_TOKEN", TOKEN)
        .args(["--yes", "--gitlab-url", &wire.url()])
        .args(APPLY_VAR)
        .arg("--token-stdin");
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let out = cmd.stdin(zero).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("more than 16 KiB"),
        "{}",
        stderr(&out)
    );
    assert!(!wire.tripped());
}

#[test]
fn a_parameter_given_twice_in_two_forms_is_refused() {
    let env = Env::new();
    let wire = Tripwire::new();
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", TOKEN)
        .args(["--yes", "--gitlab-url", &wire.url()])
        .args([
            "rotate",
            "gitlab-pat",
            "--token-id",
            "5001",
            "--param",
            "token_id=7",
            "--keep",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--token-id is given twice"),
        "{}",
        stderr(&out)
    );
    assert!(!wire.tripped());
}

#[test]
fn a_url_with_user_info_is_refused_and_never_printed() {
    let env = Env::new();
    let secret_url = format!("https://ops:{TOKEN}@gitlab.example.com");
    let help = env
        .tokrot()
        .env("GITLAB_URL", &secret_url)
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0));
    let used = env
        .tokrot()
        .env("GITLAB_URL", &secret_url)
        .args(["--dry-run", "rotate", "gitlab-pat", "--token-id", "42"])
        .output()
        .unwrap();
    assert_eq!(used.status.code(), Some(2), "{}", stderr(&used));
    assert!(
        stderr(&used).contains("carries a user name or password"),
        "{}",
        stderr(&used)
    );
    let json = env
        .tokrot()
        .args(["--output", "json", "--gitlab-url", &secret_url, "status"])
        .output()
        .unwrap();
    // A URL that does not parse is not printed as given either.
    let unparsable = env
        .tokrot()
        .args([
            "--gitlab-url",
            &format!("https://oauth2:{TOKEN}@gitlab.example.com:99999"),
        ])
        .args(["--dry-run", "rotate", "gitlab-pat", "--token-id", "42"])
        .output()
        .unwrap();
    assert_eq!(unparsable.status.code(), Some(2), "{}", stderr(&unparsable));
    env.write(
        ".config/tokrot/config.toml",
        &format!("[zendesk.instances.x]\nurl = \"https://u:{TOKEN}@x.example.com:99999\"\n"),
    );
    let in_config = env.tokrot().args(["instances"]).output().unwrap();
    assert_eq!(in_config.status.code(), Some(2), "{}", stderr(&in_config));
    std::fs::remove_file(env.path().join(".config/tokrot/config.toml")).unwrap();
    scan(
        &env,
        &[&help, &used, &json, &unparsable, &in_config],
        &[TOKEN],
    );
}

/// A config pointing the instance `fake` at `url`.
fn instance_config(env: &Env, id: &str, url: &str) {
    env.write(
        ".config/tokrot/config.toml",
        &format!("[zendesk.instances.{id}]\nurl = \"{url}\"\n"),
    );
}

const ZD_TOKEN: &str = "zd-EDGE-CANARY-9f02x";

async fn zendesk_me(server: &MockServer) {
    Mock::given(path("/api/v2/users/me"))
        .and(header(
            "authorization",
            "Basic b3BzQGV4YW1wbGUuY29tL3Rva2VuOnpkLUVER0UtQ0FOQVJZLTlmMDJ4",
        ))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"user": {"id": 5, "email": "ops@example.com", "role": "admin"}}),
            ),
        )
        .mount(server)
        .await;
}

#[tokio::test]
async fn zendesk_environment_credentials_go_only_where_they_belong() {
    let server = MockServer::start().await;
    zendesk_me(&server).await;
    let env = Env::new();
    let wire = Tripwire::new();
    instance_config(&env, "fake", &wire.url());
    let zendesk_env = |cmd: &mut assert_cmd::Command| {
        cmd.env("ZENDESK_EMAIL", "ops@example.com")
            .env("ZENDESK_API_TOKEN", ZD_TOKEN);
    };
    // Without ZENDESK_INSTANCE, `auth status` tries them nowhere, and says so.
    let mut cmd = env.tokrot();
    zendesk_env(&mut cmd);
    let status = cmd.args(["auth", "status", "zendesk"]).output().unwrap();
    // So no instance has a credential: exit 1, as for nothing logged in.
    assert_eq!(status.status.code(), Some(1), "{}", stderr(&status));
    assert!(
        stderr(&status).contains("no credential for any Zendesk instance"),
        "{}",
        stderr(&status)
    );
    assert!(
        stderr(&status).contains("belong to no instance"),
        "{}",
        stdout(&status)
    );
    assert!(
        !wire.tripped(),
        "the credential went to an instance it does not belong to"
    );

    // ZENDESK_INSTANCE names the one they belong to: only that one is tried.
    instance_config(&env, "real", &server.uri());
    let mut cmd = env.tokrot();
    zendesk_env(&mut cmd);
    let status = cmd
        .env("ZENDESK_INSTANCE", server.uri())
        .args(["auth", "status", "zendesk", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let v: serde_json::Value = crate::common::json_doc(&status);
    let rows = v["credentials"].as_array().unwrap();
    let tried: Vec<_> = rows.iter().filter(|r| r["source"] != "none").collect();
    assert_eq!(tried.len(), 1, "{v:#}");
    assert_eq!(tried[0]["service"], "zendesk");
    assert_eq!(tried[0]["instance"], "real");
    assert_eq!(tried[0]["works"], true);
    assert_eq!(
        tried[0]["expires"],
        "2027-04-30 (Zendesk turns every API token off)"
    );
    scan(&env, &[&status], &[ZD_TOKEN]);
}

#[tokio::test]
async fn a_stored_credential_stays_with_its_origin_when_the_instance_is_re_pointed() {
    let server = MockServer::start().await;
    zendesk_me(&server).await;
    let env = Env::new();
    instance_config(&env, "moving", &server.uri());
    let login = env
        .tokrot()
        .args(["auth", "login", "zendesk", "--instance", "moving"])
        .args(["--email", "ops@example.com", "--token-stdin"])
        .write_stdin(format!("{ZD_TOKEN}\n"))
        .output()
        .unwrap();
    assert_eq!(login.status.code(), Some(0), "{}", stderr(&login));
    let account = format!("zendesk:{}", server.uri());
    assert!(
        stderr(&login).contains(&format!("tokrot/{account}")),
        "{}",
        stderr(&login)
    );

    // Re-pointed: the stored credential is not found for the new origin, and nothing is sent.
    let wire = Tripwire::new();
    instance_config(&env, "moving", &wire.url());
    let out = env
        .tokrot()
        .args(["--yes", "apply", "zendesk-app", "--instance", "moving"])
        .args([
            "--installation-id",
            "360001",
            "--setting",
            "api_token",
            "--token-stdin",
        ])
        .write_stdin(format!("{TOKEN}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no Zendesk credential is set for it"),
        "{}",
        stderr(&out)
    );
    assert!(
        !wire.tripped(),
        "the stored credential followed the instance elsewhere"
    );

    // Pointed back, it is found again; then it is removed.
    instance_config(&env, "moving", &server.uri());
    let status = env
        .tokrot()
        .args(["auth", "status", "zendesk", "--instance", "moving"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    assert!(
        stdout(&status).starts_with(&format!(
            "zendesk moving\t{}\tkeyring\tworks, as ",
            server.uri()
        )),
        "{}",
        stdout(&status)
    );
    let logout = env
        .tokrot()
        .args(["auth", "logout", "zendesk", "--instance", "moving"])
        .output()
        .unwrap();
    assert_eq!(logout.status.code(), Some(0), "{}", stderr(&logout));
    scan(&env, &[&login, &out, &status, &logout], &[ZD_TOKEN, TOKEN]);
}

#[test]
fn a_config_that_re_points_a_built_in_warns_each_time_it_is_used() {
    let env = Env::new();
    let file = env.write(
        ".config/tokrot/config.toml",
        "[gitlab]\nurl = \"https://gitlab.example.com\"\n[zendesk.instances.global]\nurl = \"https://evil.example.com\"\n",
    );
    for _ in 0..2 {
        let out = env
            .tokrot()
            .args(["--dry-run", "rotate", "zendesk-api", "--instance", "global"])
            .args(["--name", "x", "--email", "ops@example.com"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "warning: the built-in instance `global` is https://evil.example.com by the config file {}",
                file.display()
            )),
            "{err}"
        );
        assert_eq!(
            err.matches("warning: the built-in instance").count(),
            1,
            "{err}"
        );
    }
    let gitlab = env
        .tokrot()
        .args(["--dry-run", "rotate", "gitlab-pat", "--token-id", "42"])
        .output()
        .unwrap();
    assert!(
        stderr(&gitlab)
            .contains("warning: GitLab is https://gitlab.example.com by the config file"),
        "{}",
        stderr(&gitlab)
    );
    assert!(
        !stderr(&gitlab).contains("built-in instance"),
        "{}",
        stderr(&gitlab)
    );
}

/// A server that answers every request with a chunked JSON body that never ends, and counts
/// the bytes it managed to send.
fn endless_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = sent.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = format!("10000\r\n{}\r\n", "[".repeat(0x10000));
                // At most 64 MiB: far past the bound, and a test that ends even if it is not kept.
                for _ in 0..1024 {
                    if stream.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                    counter.fetch_add(0x10000, Ordering::Relaxed);
                }
            });
        }
    });
    (url, sent)
}

#[test]
fn an_answer_that_never_ends_is_cut_off_at_the_bound_with_an_error() {
    let env = Env::new();
    let (url, sent) = endless_server();
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", TOKEN)
        .args(["--gitlab-url", &url, "auth", "status", "gitlab"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("the answer is larger than 8 MiB"),
        "{}",
        stdout(&out)
    );
    // Not read on: what the server got out is near the bound (socket buffers aside).
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent < 32 * 1024 * 1024, "{sent} bytes were read");
    scan(&env, &[&out], &[TOKEN]);
}

/// Answers every page of a list with one token that is not the one looked for, and a link to
/// the next page, for ever.
struct EndlessPages {
    base: String,
}

impl wiremock::Respond for EndlessPages {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let page: u64 = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1);
        let next = format!(
            "<{}/api/v4/personal_access_tokens?page={}&per_page=100>; rel=\"next\"",
            self.base,
            page + 1
        );
        ResponseTemplate::new(200)
            .insert_header("link", next.as_str())
            .set_body_json(json!([{"id": page, "name": format!("other-{page}"), "active": true}]))
    }
}

#[tokio::test]
async fn an_endless_list_is_an_error_not_a_missing_token() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v4/personal_access_tokens"))
        .and(method("GET"))
        .respond_with(EndlessPages { base: server.uri() })
        .mount(&server)
        .await;
    mount_caller(&server).await;
    let env = Env::new();
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", TOKEN)
        .args(["--yes", "--gitlab-url", &server.uri()])
        .args([
            "rotate",
            "gitlab-pat",
            "--token-name",
            "zendesk-sync",
            "--keep",
        ])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("the list goes on past 200 pages"), "{err}");
    assert!(!err.contains("no active personal access token"), "{err}");
    let writes = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() != "GET")
        .count();
    assert_eq!(writes, 0);
    scan(&env, &[&out], &[TOKEN]);
}

#[tokio::test]
async fn an_error_that_echoes_the_token_shows_no_piece_of_it() {
    let server = MockServer::start().await;
    let applied = "glpat-APPLIED-CANARY-77aa1";
    let variable = json!({"key": "KEY", "value": "old-value-xyz", "masked": false, "protected": false,
                          "hidden": false, "raw": false, "environment_scope": "*"});
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/KEY"))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable))
        .mount(&server)
        .await;
    let echo = format!("{}{applied}", "x".repeat(280));
    Mock::given(method("PUT"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/KEY"))
        .respond_with(ResponseTemplate::new(400).set_body_string(echo))
        .expect(2)
        .mount(&server)
        .await;
    let env = Env::new();
    let mut outs = Vec::new();
    for format in ["text", "json"] {
        let out = env
            .tokrot()
            .env("GITLAB_TOKEN", TOKEN)
            .args(["--yes", "--output", format, "--gitlab-url", &server.uri()])
            .args(APPLY_VAR)
            .arg("--token-stdin")
            .write_stdin(format!("{applied}\n"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("xxxx") || stdout(&out).contains("xxxx"),
            "the vendor's message is shown: {}",
            stderr(&out)
        );
        outs.push(out);
    }
    scan(&env, &outs.iter().collect::<Vec<_>>(), &[TOKEN, applied]);
}

#[tokio::test]
async fn a_cursor_naming_another_host_is_followed_here_and_the_credential_stays() {
    let server = MockServer::start().await;
    let wire = Tripwire::new();
    zendesk_me(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/oauth/tokens"))
        .and(wiremock::matchers::query_param("page[after]", "cursor-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "tokens": [{"id": 902, "client_id": 223443, "token": "af3345kdj3", "scopes": ["read"]}],
            "meta": {"has_more": false}
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/oauth/tokens"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "tokens": [{"id": 900, "client_id": 223443, "token": "bf3345kdj3", "scopes": ["read"]}],
            "meta": {"has_more": true},
            "links": {"next": format!("{}/api/v2/oauth/tokens?client_id=223443&page%5Bafter%5D=cursor-2&page%5Bsize%5D=100", wire.url())}
        })))
        .with_priority(2)
        .mount(&server)
        .await;
    let env = Env::new();
    instance_config(&env, "zd", &server.uri());
    let out = env
        .tokrot()
        .env("ZENDESK_EMAIL", "ops@example.com")
        .env("ZENDESK_API_TOKEN", ZD_TOKEN)
        .args(["--dry-run", "rotate", "zendesk-oauth", "--instance", "zd"])
        .args(["--client-id", "223443", "--old-token-id", "902"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        !wire.tripped(),
        "the credential went to the host the cursor named"
    );
    let pages = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/v2/oauth/tokens")
        .count();
    assert_eq!(pages, 2, "page 2 was read on the configured origin");
    scan(&env, &[&out], &[ZD_TOKEN]);
}

/// A GitLab that takes a project variable: `GET` shows it, `PUT` writes it.
async fn variable_server() -> MockServer {
    let server = MockServer::start().await;
    let variable = json!({"key": "KEY", "value": "old-value-xyz", "masked": false, "protected": false,
                          "hidden": false, "raw": false, "environment_scope": "*"});
    Mock::given(path("/api/v4/projects/grp%2Fproj/variables/KEY"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable))
        .mount(&server)
        .await;
    server
}

fn apply_variable(env: &Env, server: &MockServer, state: &std::path::Path) -> std::process::Output {
    env.tokrot()
        .env("GITLAB_TOKEN", TOKEN)
        .args(["--yes", "--gitlab-url", &server.uri()])
        .arg("--state-dir")
        .arg(state)
        .args(APPLY_VAR)
        .arg("--token-stdin")
        .write_stdin("glpat-APPLIED-value-0001\n")
        .output()
        .unwrap()
}

async fn puts(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .count()
}

#[tokio::test]
async fn a_state_dir_that_others_can_change_is_refused_before_anything_is_sent() {
    use std::os::unix::fs::PermissionsExt;
    let server = variable_server().await;
    let env = Env::new();

    // Writable by others (a shared /tmp-like dir): refused, and left as it was.
    let shared = env.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let out = apply_variable(&env, &server, &shared);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("others can write to the directory (mode 1777)"),
        "{}",
        stderr(&out)
    );
    let mode = std::fs::metadata(&shared).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o1777, "the directory was changed");

    // Owned by another user: refused.
    let theirs = env.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let out = apply_variable(&env, &server, &theirs);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("belongs to another user (uid 65534"),
        "{}",
        stderr(&out)
    );
    assert_eq!(puts(&server).await, 0, "a write was sent");
}

#[tokio::test]
async fn an_audit_log_that_is_a_link_is_not_followed_and_a_loose_one_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let server = variable_server().await;
    let env = Env::new();
    let state = env.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let victim = env.write("victim.txt", "untouched\n");
    std::os::unix::fs::symlink(&victim, state.join("audit.jsonl")).unwrap();
    let out = apply_variable(&env, &server, &state);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a symbolic link, which tokrot does not follow"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched\n");
    assert_eq!(puts(&server).await, 0, "a write was sent");

    // A plain audit log left 0644 is set back to 0600, and the line is appended; the audit
    // log's user is the process's, whatever $USER says.
    std::fs::remove_file(state.join("audit.jsonl")).unwrap();
    std::fs::write(state.join("audit.jsonl"), "").unwrap();
    std::fs::set_permissions(
        state.join("audit.jsonl"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let server = MockServer::start().await;
    let variable = |value: &str| {
        json!({"key": "KEY", "value": value, "masked": false, "protected": false,
               "hidden": false, "raw": false, "environment_scope": "*"})
    };
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/variables/KEY"))
        .respond_with(ResponseTemplate::new(200).set_body_json(variable("old-value-xyz")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/projects/grp%2Fproj/variables/KEY"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(variable("glpat-APPLIED-value-0001")),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(path("/api/v4/projects/grp%2Fproj/variables/KEY"))
        .and(method("PUT"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(variable("glpat-APPLIED-value-0001")),
        )
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    let out = env
        .tokrot()
        .env("USER", "someone-else")
        .env("GITLAB_TOKEN", TOKEN)
        .args(["--yes", "--gitlab-url", &server.uri()])
        .arg("--state-dir")
        .arg(&state)
        .args(APPLY_VAR)
        .arg("--token-stdin")
        .write_stdin("glpat-APPLIED-value-0001\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mode = std::fs::metadata(state.join("audit.jsonl"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let audit = std::fs::read_to_string(state.join("audit.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(audit.lines().next().unwrap()).unwrap();
    let me = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    assert_eq!(line["os_user"], String::from_utf8_lossy(&me.stdout).trim());
    scan(&env, &[&out], &[TOKEN, "glpat-APPLIED-value-0001"]);
}

/// A TLS server (openssl's `s_server`) whose certificate, for the names in `san`, is signed by
/// a private CA that nothing trusts unless `SSL_CERT_FILE` names `ca`; killed when dropped.
struct PrivateTls {
    child: std::process::Child,
    port: u16,
    ca: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl PrivateTls {
    fn start(san: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        let openssl = |args: &[&str]| {
            let status = std::process::Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .stderr(std::process::Stdio::null())
                .status()
                .expect("openssl is installed (.ci/run installs it)");
            assert!(status.success(), "openssl {args:?}");
        };
        std::fs::write(
            at("ext.cnf"),
            format!("subjectAltName={san}\nbasicConstraints=CA:FALSE\n"),
        )
        .unwrap();
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ]);
        openssl(&[
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=leaf", "-keyout", "leaf.key",
            "-out", "leaf.csr",
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "leaf.pem",
        ]);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-cert", "leaf.pem", "-key", "leaf.key"])
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self {
            child,
            port,
            ca: at("ca.pem"),
            _dir: dir,
        }
    }
}

impl Drop for PrivateTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_tls_failure_says_what_failed_and_where() {
    let env = Env::new();
    let status = |server: &PrivateTls, trust: bool| {
        let url = format!("https://127.0.0.1:{}", server.port);
        let mut cmd = env.tokrot();
        if trust {
            cmd.env("SSL_CERT_FILE", &server.ca);
        }
        let out = cmd
            .env("GITLAB_TOKEN", TOKEN)
            .args(["--gitlab-url", &url, "auth", "status", "gitlab"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        scan(&env, &[&out], &[TOKEN]);
        (url, stdout(&out))
    };
    let untrusted = PrivateTls::start("IP:127.0.0.1");
    let (url, text) = status(&untrusted, false);
    assert!(
        text.contains(&format!("GET {url}/api/v4/user: TLS: the server's certificate is not signed by an authority this machine trusts")),
        "{text}"
    );
    let elsewhere = PrivateTls::start("DNS:gitlab.example.com");
    let (url, text) = status(&elsewhere, true);
    assert!(
        text.contains(&format!(
            "GET {url}/api/v4/user: TLS: the server's certificate is not valid for this host name"
        )),
        "{text}"
    );
    assert!(!text.contains("cannot connect"), "{text}");
}

#[tokio::test]
async fn an_endpoint_that_does_not_hold_the_new_token_when_read_back_fails_the_target() {
    let server = MockServer::start().await;
    let endpoint = |token: &str| {
        format!("https://gitlab.com/api/v4/projects/77/trigger/pipeline?token={token}&ref=main")
    };
    // Zendesk keeps answering with the old endpoint: the write did not take.
    Mock::given(method("GET"))
        .and(path("/api/v2/webhooks/01STALE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"webhook": {
            "id": "01STALE", "name": "start pipeline", "endpoint": endpoint("OLDTRIGGER-EDGE-77ab")}})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v2/webhooks/01STALE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let env = Env::new();
    instance_config(&env, "zd", &server.uri());
    let new = "NEWTRIGGER-EDGE-77ac";
    let out = env
        .tokrot()
        .env("ZENDESK_OAUTH_TOKEN", ZD_TOKEN)
        .args(["--yes", "apply", "zendesk-webhook", "--instance", "zd"])
        .args(["--webhook-id", "01STALE", "--token-stdin"])
        .write_stdin(format!("{new}\n"))
        .output()
        .unwrap();
    // The write was sent: exit 1, and the run does not say "nothing was changed".
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("its endpoint read back does not hold the new token"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("nothing was changed"),
        "{}",
        stderr(&out)
    );
    scan(&env, &[&out], &[ZD_TOKEN, new, "OLDTRIGGER-EDGE-77ab"]);
}

#[tokio::test]
async fn a_masked_variable_that_cannot_hold_the_token_is_refused_in_preflight() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v4/projects/grp%2Fproj/variables/KEY"))
        .and(method("GET")).respond_with(ResponseTemplate::new(200).set_body_json(json!({"key": "KEY", "value": "old-value-xyz",
            "masked": true, "protected": false, "hidden": false, "raw": false, "environment_scope": "*"})))
        .mount(&server)
        .await;
    let env = Env::new();
    let unmaskable = "glpat-abc!defghij";
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", TOKEN)
        .args(["--yes", "--gitlab-url", &server.uri()])
        .args(APPLY_VAR)
        .arg("--token-stdin")
        .write_stdin(format!("{unmaskable}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("KEY is masked, and the token given cannot go into it"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("Step 1 of"), "{}", stderr(&out));
    assert_eq!(puts(&server).await, 0);
    scan(&env, &[&out], &[TOKEN, unmaskable]);
}

#[tokio::test]
async fn a_scope_filter_that_is_not_honoured_is_refused_rather_than_guessed() {
    let server = MockServer::start().await;
    // A GitLab that ignores filter[environment_scope] and answers with the key's `*` scope.
    Mock::given(path("/api/v4/projects/grp%2Fproj/variables/KEY"))
        .and(method("GET")).respond_with(ResponseTemplate::new(200).set_body_json(json!({"key": "KEY", "value": "old-value-xyz",
            "masked": false, "protected": false, "hidden": false, "raw": false, "environment_scope": "*"})))
        .mount(&server)
        .await;
    let env = Env::new();
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", TOKEN)
        .args(["--yes", "--gitlab-url", &server.uri()])
        .args(APPLY_VAR)
        .args(["--environment-scope", "production", "--token-stdin"])
        .write_stdin("glpat-APPLIED-value-0002\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("it did not honour the scope filter"),
        "{}",
        stderr(&out)
    );
    assert_eq!(puts(&server).await, 0);
    scan(&env, &[&out], &[TOKEN, "glpat-APPLIED-value-0002"]);
}

#[test]
fn environment_credentials_follow_no_config_file_and_go_to_one_instance_only() {
    let env = Env::new();
    let (a, b) = (Tripwire::new(), Tripwire::new());
    env.write(
        ".config/tokrot/config.toml",
        &format!(
            "[zendesk.instances.a]\nurl = \"{}\"\n[zendesk.instances.b]\nurl = \"{}\"\n",
            a.url(),
            b.url()
        ),
    );
    // A plan on two instances: the environment's credential belongs to neither.
    let out = env
        .tokrot()
        .env("ZENDESK_OAUTH_TOKEN", ZD_TOKEN)
        .args(["--yes", "rotate", "zendesk-oauth", "--instance", "a"])
        .args(["--client-id", "1", "--old-token-id", "2"])
        .args(["--apply-to", "zendesk-webhook:b:01ABC"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("set ZENDESK_INSTANCE"),
        "{}",
        stderr(&out)
    );
    assert!(!a.tripped() && !b.tripped(), "the credential went out");

    // A config file that points GitLab elsewhere does not take GITLAB_TOKEN along.
    let gitlab = Tripwire::new();
    env.write(
        ".config/tokrot/config.toml",
        &format!("[gitlab]\nurl = \"{}\"\n", gitlab.url()),
    );
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", TOKEN)
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
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("set GITLAB_URL={}", gitlab.url())),
        "{}",
        stderr(&out)
    );
    assert!(!gitlab.tripped(), "GITLAB_TOKEN followed the config file");

    // Nor does ZENDESK_INSTANCE given as the id of a built-in the config re-points.
    let global = Tripwire::new();
    env.write(
        ".config/tokrot/config.toml",
        &format!("[zendesk.instances.global]\nurl = \"{}\"\n", global.url()),
    );
    let out = env
        .tokrot()
        .env("ZENDESK_OAUTH_TOKEN", ZD_TOKEN)
        .env("ZENDESK_INSTANCE", "global")
        .args(["auth", "status", "zendesk"])
        .output()
        .unwrap();
    // The credential belongs to no instance there is: nothing is logged in.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no credential for any Zendesk instance"),
        "{}",
        stderr(&out)
    );
    assert!(
        !global.tripped(),
        "the credential followed the re-pointed id"
    );
    scan(&env, &[&out], &[ZD_TOKEN, TOKEN]);
}

#[test]
fn keys_and_webhook_ids_that_are_not_one_path_segment_are_refused() {
    let env = Env::new();
    let wire = Tripwire::new();
    instance_config(&env, "zd", &wire.url());
    let cases: [&[&str]; 4] = [
        &[
            "apply",
            "gitlab-ci-var",
            "--project",
            "grp/proj",
            "--key",
            "a/../b",
        ],
        &[
            "apply",
            "gitlab-ci-var",
            "--project",
            "grp/proj",
            "--key",
            "%2e%2e",
        ],
        &[
            "apply",
            "zendesk-webhook",
            "--instance",
            "zd",
            "--webhook-id",
            "1/../../users/me",
        ],
        &[
            "--dry-run",
            "apply",
            "gitlab-ci-var",
            "--project",
            "grp/proj",
            "--key",
            "..",
        ],
    ];
    for args in cases {
        let out = env
            .tokrot()
            .env("GITLAB_TOKEN", TOKEN)
            .env("ZENDESK_OAUTH_TOKEN", ZD_TOKEN)
            .args(["--yes", "--gitlab-url", &wire.url()])
            .args(args)
            .arg("--token-stdin")
            .write_stdin("glpat-APPLIED-value-0003\n")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("it goes into a URL path"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!wire.tripped(), "{args:?} sent a request");
        scan(
            &env,
            &[&out],
            &[TOKEN, ZD_TOKEN, "glpat-APPLIED-value-0003"],
        );
    }
}

#[tokio::test]
async fn a_state_dir_that_is_a_link_or_under_a_dir_anyone_can_change_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let server = variable_server().await;
    let env = Env::new();
    let real = env.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755)).unwrap();
    let link = env.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = apply_variable(&env, &server, &link);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("a symbolic link"), "{}", stderr(&out));
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755, "the directory behind the link was changed");
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);

    let open = env.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = apply_variable(&env, &server, &open.join("tokrot"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("can be written to by anyone"),
        "{}",
        stderr(&out)
    );
    assert_eq!(puts(&server).await, 0);
}

#[test]
fn man_dir_writes_its_pages_without_following_a_planted_link() {
    let env = Env::new();
    let victim = env.write("victim.txt", "keep me\n");
    let dir = env.path().join("man");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("tokrot.1")).unwrap();
    let out = env
        .tokrot()
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    let page = std::fs::symlink_metadata(dir.join("tokrot.1")).unwrap();
    assert!(page.is_file(), "the link was replaced by the page");
    assert!(dir.join("tokrot-rotate.1").is_file());
    // Nothing of the work directory is left behind.
    assert!(
        std::fs::read_dir(&dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with('.'))
    );
}

#[test]
fn one_corrupt_journal_does_not_hide_the_other_runs() {
    let env = Env::new();
    // A checklist run leaves a journal; a second file is cut short.
    let out = env
        .tokrot()
        .args([
            "--yes",
            "run",
            "zendesk-oauth-integration",
            "--instance",
            "global",
            "--approve",
            "access-request=https://access.example/1",
            "--approve",
            "scopes-approved=https://access.example/1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let broken = env
        .path()
        .join(".local/state/tokrot/rotations/20261201T000000Z-gitlab-pat-abcdef.json");
    std::fs::write(&broken, "{\"id\": \"20261201T0").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&broken, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let history = env.tokrot().arg("history").output().unwrap();
    assert_eq!(history.status.code(), Some(0), "{}", stderr(&history));
    assert!(
        stdout(&history).contains("zendesk-oauth-integration"),
        "{}",
        stdout(&history)
    );
    assert!(
        stderr(&history).contains("a journal was passed over"),
        "{}",
        stderr(&history)
    );
}
