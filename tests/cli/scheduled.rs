//! The scheduled job as a team runs it: the README's pipeline scripts, run as written by a shell
//! in a CI job's environment (no terminal, no HOME credentials unless logged in, the inventory
//! in the working directory), judged by their exit codes alone, under every way tokrot can be
//! given its credentials. The vendors' stand-in keeps state: a rotated token is revoked, its
//! successor is what later reads find.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{Env, day, scan, stderr};

const CALLER: &str = "glpat-ci-CANARY-sj01";
const ZD_API: &str = "zdapiCANARYsj02xyz";
const ZD_OAUTH: &str = "zdoauthCANARYsj03xy";
const ZD_EMAIL: &str = "ops@example.com";

/// One GitLab access token or Zendesk OAuth token as the vendor keeps it.
#[derive(Clone)]
struct Token {
    value: String,
    expires: Option<String>,
    active: bool,
    client: Option<u64>,
    /// The user who made it (Zendesk: the user it acts as).
    user: u64,
}

/// The Zendesk user tokrot's credential is.
const ZD_USER: u64 = 5;

/// What GitLab and Zendesk hold: tokens by id, variables by path, and every write.
#[derive(Default)]
struct World {
    pats: BTreeMap<u64, Token>,
    oauth: BTreeMap<u64, Token>,
    variables: BTreeMap<String, Value>,
    writes: Vec<String>,
    /// Refresh tokens issued with new OAuth tokens (never kept by tokrot).
    refresh: Vec<String>,
    next: u64,
    /// Writes to these paths hang (a process can be killed while it waits).
    slow: Vec<String>,
    /// Writes to these paths fail (a 500: not carried out, not tried again).
    broken: Vec<String>,
}

impl World {
    fn new_value(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}NEWCANARYsj{:02}x", self.next)
    }
}

/// The stand-in: GitLab under `/api/v4`, the `support` Zendesk instance under `/api/v2`.
#[derive(Clone)]
struct Vendors(Arc<Mutex<World>>);

fn pat_json(id: u64, t: &Token) -> Value {
    json!({"id": id, "name": format!("token {id}"), "active": t.active, "revoked": !t.active,
           "created_at": format!("{}T10:00:00Z", day(-60)), "expires_at": t.expires,
           "scopes": ["api"], "user_id": 1, "last_used_at": null})
}

fn oauth_json(id: u64, t: &Token) -> Value {
    json!({"id": id, "client_id": t.client, "user_id": t.user, "token": &t.value[..10], "scopes": ["read"],
           "created_at": format!("{}T10:00:00Z", day(-60)),
           "expires_at": t.expires.as_ref().map(|d| format!("{d}T00:00:00Z")), "used_at": null})
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not Found"}))
}

impl wiremock::Respond for Vendors {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut w = self.0.lock().unwrap();
        let path = req.url.path().to_owned();
        let method = req.method.as_str().to_owned();
        let header = |name: &str| {
            req.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        if method != "GET" {
            w.writes.push(format!("{method} {path}"));
        }
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        if path.starts_with("/api/v4/") {
            // GitLab: the caller's token, or a token it made, authenticates.
            let token = header("private-token");
            let live_pat = w
                .pats
                .iter()
                .find(|(_, t)| t.active && t.value == token)
                .map(|(id, _)| *id);
            // The caller's own token is one of them (id 1): rotated, it stops working.
            let Some(caller) = live_pat else {
                return ResponseTemplate::new(401)
                    .set_body_json(json!({"message": "401 Unauthorized"}));
            };
            return match (method.as_str(), &segs[2..]) {
                ("GET", ["user"]) => {
                    ResponseTemplate::new(200).set_body_json(json!({"id": 1, "username": "ci"}))
                }
                ("GET", ["personal_access_tokens", "self"]) => {
                    ResponseTemplate::new(200).set_body_json(pat_json(caller, &w.pats[&caller]))
                }
                ("GET", ["personal_access_tokens"]) => {
                    // As some GitLab versions do: `state=active` ignored, `active` said per row.
                    let list: Vec<Value> = w.pats.iter().map(|(id, t)| pat_json(*id, t)).collect();
                    ResponseTemplate::new(200).set_body_json(list)
                }
                ("GET", ["personal_access_tokens", id]) => match id
                    .parse()
                    .ok()
                    .and_then(|id| w.pats.get(&id).map(|t| (id, t)))
                {
                    Some((id, t)) => ResponseTemplate::new(200).set_body_json(pat_json(id, t)),
                    None => not_found(),
                },
                ("POST", ["personal_access_tokens", id, "rotate"]) => {
                    let id = match *id {
                        "self" => Some(caller),
                        other => other.parse::<u64>().ok(),
                    };
                    let Some(id) = id.filter(|id| w.pats.get(id).is_some_and(|t| t.active)) else {
                        return ResponseTemplate::new(400).set_body_json(
                            json!({"message": "400 Bad request - Token not active"}),
                        );
                    };
                    let sent: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                    w.pats.get_mut(&id).unwrap().active = false;
                    let value = w.new_value("glpat-");
                    let new_id = id + 5000;
                    let expires = sent["expires_at"]
                        .as_str()
                        .map(str::to_owned)
                        .or_else(|| Some(day(30)));
                    w.pats.insert(
                        new_id,
                        Token {
                            value: value.clone(),
                            expires: expires.clone(),
                            active: true,
                            client: None,
                            user: ZD_USER,
                        },
                    );
                    ResponseTemplate::new(200)
                        .set_body_json(json!({"id": new_id, "name": format!("token {new_id}"),
                        "active": true, "revoked": false, "expires_at": expires, "token": value}))
                }
                ("GET", ["projects", _, "access_tokens" | "triggers"]) => {
                    ResponseTemplate::new(200).set_body_json(json!([]))
                }
                ("GET", ["projects", _, "variables", _]) => match w.variables.get(&path) {
                    Some(v) => ResponseTemplate::new(200).set_body_json(v.clone()),
                    None => not_found(),
                },
                ("PUT", ["projects", _, "variables", _]) => {
                    let Some(old) = w.variables.get(&path).cloned() else {
                        return not_found();
                    };
                    if w.broken.contains(&path) {
                        return ResponseTemplate::new(500)
                            .set_body_json(json!({"message": "500 Internal Server Error"}));
                    }
                    let sent: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                    let mut now = old;
                    for (k, v) in sent.as_object().into_iter().flatten() {
                        now[k] = v.clone();
                    }
                    w.variables.insert(path.clone(), now.clone());
                    let answer = ResponseTemplate::new(200).set_body_json(now);
                    match w.slow.contains(&path) {
                        true => answer.set_delay(std::time::Duration::from_secs(30)),
                        false => answer,
                    }
                }
                _ => not_found(),
            };
        }
        // Zendesk: the email + API token, or an OAuth token (the caller's or one it made).
        let auth = header("authorization");
        let bearer = auth.strip_prefix("Bearer ").map(str::to_owned);
        let caller_ok = auth == base64_like::basic(&format!("{ZD_EMAIL}/token:{ZD_API}"))
            || bearer.as_deref() == Some(ZD_OAUTH);
        let made = bearer
            .as_ref()
            .and_then(|b| w.oauth.iter().find(|(_, t)| t.active && t.value == *b))
            .map(|(id, _)| *id);
        if !caller_ok && made.is_none() {
            return ResponseTemplate::new(401)
                .set_body_json(json!({"error": "Couldn't authenticate you"}));
        }
        match (method.as_str(), &segs[2..]) {
            ("GET", ["users", "me"]) => ResponseTemplate::new(200)
                .set_body_json(json!({"user": {"id": 5, "email": ZD_EMAIL, "role": "admin"}})),
            ("GET", ["oauth", "tokens", "current.json"]) => match made {
                Some(id) => ResponseTemplate::new(200)
                    .set_body_json(json!({"token": oauth_json(id, &w.oauth[&id])})),
                None => ResponseTemplate::new(200)
                    .set_body_json(json!({"token": {"id": 800, "scopes": ["read", "write"]}})),
            },
            ("GET", ["oauth", "tokens"]) => {
                let client: Option<u64> = req
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "client_id")
                    .and_then(|(_, v)| v.parse().ok());
                // As Zendesk: the caller's own tokens, every user's with `all=true`.
                let all = req
                    .url
                    .query_pairs()
                    .any(|(k, v)| k == "all" && v == "true");
                let list: Vec<Value> = w
                    .oauth
                    .iter()
                    .filter(|(_, t)| all || t.user == ZD_USER)
                    .filter(|(_, t)| t.active && (client.is_none() || t.client == client))
                    .map(|(id, t)| oauth_json(*id, t))
                    .collect();
                ResponseTemplate::new(200)
                    .set_body_json(json!({"tokens": list, "meta": {"has_more": false}}))
            }
            ("POST", ["oauth", "tokens"]) => {
                let sent: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                let client = sent["token"]["client_id"].as_u64();
                let value = w.new_value("zdoauth");
                let id = 9000 + w.next;
                let t = Token {
                    value: value.clone(),
                    expires: None,
                    active: true,
                    client,
                    user: ZD_USER,
                };
                let mut answer = oauth_json(id, &t);
                answer["full_token"] = json!(value);
                // Zendesk issues a refresh token with every new OAuth token: a secret too.
                let refresh = w.new_value("zdrefresh");
                answer["refresh_token"] = json!(refresh);
                w.refresh.push(refresh);
                w.oauth.insert(id, t);
                ResponseTemplate::new(201).set_body_json(json!({"token": answer}))
            }
            ("DELETE", ["oauth", "tokens", id]) => {
                match id.parse().ok().and_then(|id: u64| w.oauth.get_mut(&id)) {
                    Some(t) => {
                        t.active = false;
                        ResponseTemplate::new(204)
                    }
                    None => not_found(),
                }
            }
            _ => not_found(),
        }
    }
}

/// HTTP basic credentials, as a client sends them.
mod base64_like {
    pub(super) fn basic(user_pass: &str) -> String {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = user_pass.as_bytes();
        let mut out = String::from("Basic ");
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

/// How the job is given its credentials.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// `tokrot auth login` beforehand: the OS keyring.
    Keyring,
    /// `GITLAB_TOKEN`, `ZENDESK_INSTANCE`, `ZENDESK_EMAIL` + `ZENDESK_API_TOKEN`.
    EnvApiToken,
    /// `GITLAB_TOKEN`, `ZENDESK_INSTANCE`, `ZENDESK_OAUTH_TOKEN`.
    EnvOAuth,
}

const INVENTORY: &str = r#"# The support team's tokens; reviewed like code.
[defaults]
rotate_before_days = 14

[[credential]]
name = "zd-sync"
runbook = "gitlab-pat"
params = { token_id = "42" }
targets = ["gitlab-ci-var:support/zd-sync:API_TOKEN"]

[[credential]]
name = "triage"
runbook = "gitlab-pat"
params = { token_id = "43" }
targets = ["gitlab-ci-var:support/triage:GITLAB_TOKEN"]

[[credential]]
name = "support-oauth"
runbook = "zendesk-oauth"
# the colleague's token: its successor acts as the ops user, on purpose
params = { instance = "support", client_id = "223443", old_token_id = "900", as_caller = "yes" }
targets = ["gitlab-ci-var:support/zd-sync:ZENDESK_TOKEN"]
"#;

/// The README's pipeline: each job's script lines, as a shell runs them.
fn readme_jobs() -> BTreeMap<String, Vec<String>> {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let start = readme
        .find("```yaml\ntoken-rotate:")
        .expect("the README's scheduled job");
    let block = &readme[start + 8..];
    let block = &block[..block.find("```").unwrap()];
    let mut jobs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (mut job, mut in_script) = (String::new(), false);
    for line in block.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            job = line.trim_end_matches(':').to_owned();
            in_script = false;
        } else if line.trim() == "script:" {
            in_script = true;
        } else if in_script && line.trim_start().starts_with("- ") {
            let command = line.trim_start()[2..].to_owned();
            // The binary under test is on PATH already.
            if !command.starts_with("cargo install") {
                jobs.entry(job.clone()).or_default().push(command);
            }
        } else if !line.starts_with("    ") {
            in_script = false;
        }
    }
    jobs
}

struct Pipeline {
    server: MockServer,
    world: Vendors,
    env: Env,
    source: Source,
}

impl Pipeline {
    async fn new(source: Source) -> Self {
        Self::with(source, INVENTORY).await
    }

    async fn with(source: Source, inventory: &str) -> Self {
        let server = MockServer::start().await;
        let world = Vendors(Arc::new(Mutex::new(World::default())));
        {
            let mut w = world.0.lock().unwrap();
            let pat = |v: &str, days| Token {
                value: v.into(),
                expires: Some(day(days)),
                active: true,
                client: None,
                user: ZD_USER,
            };
            w.pats.insert(1, pat(CALLER, 300));
            w.pats.insert(42, pat("glpat-old42CANARYsj04", 5));
            w.pats.insert(43, pat("glpat-old43CANARYsj05", 200));
            w.oauth.insert(
                900,
                Token {
                    value: "zdoldoauthCANARYsj06".into(),
                    expires: Some(day(3)),
                    active: true,
                    client: Some(223443),
                    // Made by a colleague: listed only with `all=true`.
                    user: 6,
                },
            );
            for (project, key) in [
                ("zd-sync", "API_TOKEN"),
                ("triage", "GITLAB_TOKEN"),
                ("zd-sync", "ZENDESK_TOKEN"),
            ] {
                w.variables.insert(
                    format!("/api/v4/projects/support%2F{project}/variables/{key}"),
                    json!({"key": key, "value": "old-value-sj07", "variable_type": "env_var", "protected": true,
                           "masked": true, "hidden": false, "raw": false, "environment_scope": "*"}),
                );
            }
        }
        Mock::given(any())
            .respond_with(world.clone())
            .mount(&server)
            .await;
        let env = Env::new();
        env.write(
            ".config/tokrot/config.toml",
            &format!("[zendesk.instances.support]\nurl = \"{}\"\n", server.uri()),
        );
        env.write("repo/tokrot.toml", inventory);
        let p = Self {
            server,
            world,
            env,
            source,
        };
        if let Source::Keyring = source {
            p.login();
        }
        p
    }

    fn login(&self) {
        for (args, secret) in [
            (vec!["auth", "login", "gitlab", "--token-stdin"], CALLER),
            (
                vec![
                    "auth",
                    "login",
                    "zendesk",
                    "--instance",
                    "support",
                    "--email",
                    ZD_EMAIL,
                    "--token-stdin",
                ],
                ZD_API,
            ),
        ] {
            let out = self
                .env
                .tokrot()
                .env("GITLAB_URL", self.server.uri())
                .args(&args)
                .write_stdin(format!("{secret}\n"))
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        }
    }

    /// One job's script, run by `sh -e` in the repository's checkout, as a CI runner does:
    /// its exit code, and what it printed.
    fn job(&self, script: &[String]) -> std::process::Output {
        let bin = std::path::Path::new(env!("CARGO_BIN_EXE_tokrot"))
            .parent()
            .unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut sh = self.env.command("sh");
        sh.current_dir(self.env.path().join("repo"))
            .env("PATH", path)
            .env("CI", "true")
            .env("GITLAB_CI", "true")
            .env("CI_PIPELINE_SOURCE", "schedule")
            .env("GITLAB_URL", self.server.uri())
            .stdin(std::process::Stdio::null());
        match self.source {
            Source::Keyring => {}
            Source::EnvApiToken => {
                sh.env("GITLAB_TOKEN", CALLER)
                    .env("ZENDESK_INSTANCE", "support")
                    .env("ZENDESK_EMAIL", ZD_EMAIL)
                    .env("ZENDESK_API_TOKEN", ZD_API);
            }
            Source::EnvOAuth => {
                sh.env("GITLAB_TOKEN", CALLER)
                    .env("ZENDESK_INSTANCE", "support")
                    .env("ZENDESK_OAUTH_TOKEN", ZD_OAUTH);
            }
        }
        sh.args(["-ec", &script.join("\n")]).output().unwrap()
    }

    fn writes(&self) -> Vec<String> {
        self.world.0.lock().unwrap().writes.clone()
    }

    fn secrets(&self) -> Vec<String> {
        let w = self.world.0.lock().unwrap();
        let mut all = vec![CALLER.to_owned(), ZD_API.to_owned(), ZD_OAUTH.to_owned()];
        all.extend(w.pats.values().map(|t| t.value.clone()));
        all.extend(w.oauth.values().map(|t| t.value.clone()));
        all.extend(w.refresh.iter().cloned());
        all
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        if let Source::Keyring = self.source {
            for args in [
                vec!["auth", "logout", "gitlab"],
                vec!["auth", "logout", "zendesk", "--instance", "support"],
            ] {
                let _ = self
                    .env
                    .tokrot()
                    .env("GITLAB_URL", self.server.uri())
                    .args(&args)
                    .output();
            }
        }
    }
}

async fn scheduled_job_under(source: Source) {
    let jobs = readme_jobs();
    let (rotate, check) = (&jobs["token-rotate"], &jobs["token-status"]);
    assert!(
        rotate.iter().any(|l| l.contains("rotate --due")),
        "{jobs:?}"
    );
    assert!(
        check.iter().any(|l| l.contains("status --check")),
        "{jobs:?}"
    );
    let p = Pipeline::new(source).await;
    let mut outputs = Vec::new();

    // Two tokens are due: the check is red, and nothing was written.
    let red = p.job(check);
    assert_eq!(red.status.code(), Some(1), "{source:?}: {}", stderr(&red));
    assert!(p.writes().is_empty(), "{source:?}: {:?}", p.writes());
    outputs.push(red);

    // The rotation job rotates both, each once, and is green.
    let rotated = p.job(rotate);
    assert_eq!(
        rotated.status.code(),
        Some(0),
        "{source:?}: {}",
        stderr(&rotated)
    );
    let writes = p.writes();
    let once = |call: &str| writes.iter().filter(|w| *w == call).count();
    assert_eq!(
        once("POST /api/v4/personal_access_tokens/42/rotate"),
        1,
        "{writes:?}"
    );
    assert_eq!(once("POST /api/v2/oauth/tokens"), 1, "{writes:?}");
    assert_eq!(once("DELETE /api/v2/oauth/tokens/900"), 1, "{writes:?}");
    assert!(
        !writes.iter().any(|w| w.contains("/43/")),
        "triage is not due: {writes:?}"
    );
    {
        let w = p.world.0.lock().unwrap();
        let var = |project: &str, key: &str| {
            w.variables[&format!("/api/v4/projects/support%2F{project}/variables/{key}")]["value"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            var("zd-sync", "API_TOKEN"),
            w.pats[&5042].value,
            "{source:?}"
        );
        let new_oauth = w
            .oauth
            .values()
            .find(|t| t.active && t.client == Some(223443))
            .unwrap();
        assert_eq!(
            var("zd-sync", "ZENDESK_TOKEN"),
            new_oauth.value,
            "{source:?}"
        );
        assert_eq!(var("triage", "GITLAB_TOKEN"), "old-value-sj07");
    }
    let inventory = std::fs::read_to_string(p.env.path().join("repo/tokrot.toml")).unwrap();
    assert!(inventory.contains("token_id = \"5042\""), "{inventory}");
    assert!(!inventory.contains("old_token_id = \"900\""), "{inventory}");
    outputs.push(rotated);

    // The revoked token is nobody's to rotate: not shown as an unlisted one.
    let rows = p.tokrot(&["status", "--output", "json"]);
    let doc = crate::common::json_doc(&rows);
    assert!(
        doc["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != 42),
        "{doc:#}"
    );
    outputs.push(rows);
    // Now nothing needs a person: the check is green, and a second rotation job changes nothing.
    let green = p.job(check);
    assert_eq!(
        green.status.code(),
        Some(0),
        "{source:?}: {}",
        stderr(&green)
    );
    let before = p.writes().len();
    let again = p.job(rotate);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{source:?}: {}",
        stderr(&again)
    );
    assert_eq!(p.writes().len(), before, "{:?}", p.writes());
    outputs.extend([green, again]);
    let secrets = p.secrets();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    scan(&p.env, &outputs.iter().collect::<Vec<_>>(), &secrets);
}

#[tokio::test]
async fn the_readme_scheduled_job_is_red_while_anything_is_due_and_green_once_rotated() {
    for source in [Source::EnvApiToken, Source::EnvOAuth, Source::Keyring] {
        scheduled_job_under(source).await;
    }
}

impl Pipeline {
    /// `tokrot ARGS` in the checkout, with the job's credentials.
    fn tokrot(&self, args: &[&str]) -> std::process::Output {
        let line: Vec<String> = std::iter::once("tokrot".to_owned())
            .chain(args.iter().map(|a| format!("'{a}'")))
            .collect();
        self.job(&[line.join(" ")])
    }
}

#[tokio::test]
async fn two_credentials_feeding_one_target_are_refused_before_anything_changes() {
    let shared = r#"[[credential]]
name = "zd-sync"
runbook = "gitlab-pat"
params = { token_id = "42" }
targets = ["gitlab-ci-var:support/zd-sync:API_TOKEN"]

[[credential]]
name = "second-sync"
runbook = "gitlab-pat"
params = { token_id = "43" }
targets = ["gitlab-ci-var:support/triage:GITLAB_TOKEN", "gitlab-ci-var:Support/ZD-Sync:API_TOKEN"]
"#;
    let p = Pipeline::with(Source::EnvApiToken, shared).await;
    // Both are due: either rotation alone would leave the other's new token nowhere.
    p.world.0.lock().unwrap().pats.get_mut(&43).unwrap().expires = Some(day(4));
    for args in [
        &["inventory", "check"][..],
        &["rotate", "--due", "--yes"],
        &["status"],
    ] {
        let out = p.tokrot(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let said = stderr(&out);
        assert!(
            // GitLab finds a project whatever the case of its path: one variable, two spellings.
            said.contains("target `gitlab-ci-var:Support/ZD-Sync:API_TOKEN` is written by both `zd-sync` and `second-sync`"),
            "{args:?}: {said}"
        );
        assert!(said.contains("tokrot.toml:"), "where in the file: {said}");
    }
    assert!(p.writes().is_empty(), "{:?}", p.writes());
}

#[tokio::test]
async fn a_target_another_credential_writes_cannot_be_added_on_the_command_line() {
    let p = Pipeline::new(Source::EnvApiToken).await;
    let out = p.tokrot(&[
        "--yes",
        "rotate",
        "--credential",
        "zd-sync",
        "--apply-to",
        "gitlab-ci-var:support/triage:GITLAB_TOKEN",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is written by credential `triage` of the inventory"),
        "{}",
        stderr(&out)
    );
    assert!(p.writes().is_empty(), "{:?}", p.writes());
}

#[tokio::test]
async fn a_token_revoked_at_the_vendor_fails_the_check_and_is_named_not_rotated() {
    let p = Pipeline::new(Source::EnvOAuth).await;
    // triage's token is revoked months before it would expire.
    p.world.0.lock().unwrap().pats.get_mut(&43).unwrap().active = false;
    let status = p.tokrot(&["status", "--output", "json"]);
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let doc = crate::common::json_doc(&status);
    let row = doc["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "triage")
        .unwrap()
        .clone();
    assert_eq!(row["state"], "revoked", "{doc:#}");
    let check = p.tokrot(&["status", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert!(
        stderr(&check).contains("1 revoked or inactive at the vendor"),
        "{}",
        stderr(&check)
    );
    // The batch rotates what it can, and is red for the one it cannot mend.
    let batch = p.tokrot(&["rotate", "--due", "--yes", "--output", "json"]);
    assert_eq!(batch.status.code(), Some(1), "{}", stderr(&batch));
    let doc = crate::common::json_doc(&batch);
    let not: Vec<&Value> = doc["not_rotated"].as_array().unwrap().iter().collect();
    assert_eq!(not.len(), 1, "{doc:#}");
    assert_eq!(not[0]["name"], "triage");
    assert!(
        not[0]["reason"].as_str().unwrap().contains("revoked"),
        "{doc:#}"
    );
    assert_eq!(doc["rotations"].as_array().unwrap().len(), 2, "{doc:#}");
    assert!(
        !p.writes().iter().any(|w| w.contains("/43/")),
        "{:?}",
        p.writes()
    );
}

#[tokio::test]
async fn a_rotation_killed_after_its_rotate_call_keeps_the_check_red_until_resume_finishes_it_and_the_inventory()
 {
    let p = Pipeline::new(Source::EnvApiToken).await;
    let var = "/api/v4/projects/support%2Fzd-sync/variables/API_TOKEN".to_owned();
    p.world.0.lock().unwrap().slow.push(var.clone());
    let mut child = p
        .env
        .process()
        .current_dir(p.env.path().join("repo"))
        .env("GITLAB_URL", p.server.uri())
        .env("GITLAB_TOKEN", CALLER)
        .args(["--yes", "rotate", "--credential", "zd-sync"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed while its one write waits: the token is rotated, the variable not yet written.
    for _ in 0..200 {
        if p.writes().contains(&format!("PUT {var}")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        p.writes().contains(&format!("PUT {var}")),
        "{:?}",
        p.writes()
    );
    child.kill().unwrap();
    child.wait().unwrap();
    p.world.0.lock().unwrap().slow.clear();

    let status = p.tokrot(&["status", "--output", "json"]);
    let doc = crate::common::json_doc(&status);
    let unfinished = doc["unfinished"].as_array().unwrap();
    assert_eq!(unfinished.len(), 1, "{doc:#}");
    assert_eq!(unfinished[0]["credential"], "zd-sync");
    let id = unfinished[0]["id"].as_str().unwrap().to_owned();
    // The README's way to find what needs finishing finds it, killed as it was.
    let listed = p.tokrot(&["history", "--status", "incomplete"]);
    assert!(
        crate::common::stdout(&listed).contains(&id),
        "{}",
        crate::common::stdout(&listed)
    );
    let check = p.tokrot(&["status", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert!(
        stderr(&check).contains(&format!("1 rotation(s) not finished: `tokrot resume {id}`")),
        "{}",
        stderr(&check)
    );

    // resume, from the checkout as a person would run it, finishes the run and the inventory.
    let resumed = p.tokrot(&["--yes", "resume", &id]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let inventory = std::fs::read_to_string(p.env.path().join("repo/tokrot.toml")).unwrap();
    assert!(
        inventory.contains("params = { token_id = \"5042\" }"),
        "{inventory}"
    );
    let status = p.tokrot(&["status", "--output", "json"]);
    let doc = crate::common::json_doc(&status);
    assert!(doc["unfinished"].as_array().unwrap().is_empty(), "{doc:#}");
    let row = doc["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "zd-sync")
        .unwrap()
        .clone();
    assert_eq!(row["id"], 5042, "{doc:#}");
    assert_eq!(row["state"], "ok", "{doc:#}");
    assert_eq!(
        p.writes()
            .iter()
            .filter(|w| w.ends_with("/42/rotate"))
            .count(),
        1
    );
    let secrets = p.secrets();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    scan(&p.env, &[&check, &resumed, &status], &secrets);
}

#[tokio::test]
async fn a_vendor_that_refuses_connections_is_named_at_once_not_retried() {
    let p = Pipeline::new(Source::EnvApiToken).await;
    // A port nothing listens on: every connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let gone = format!("http://{closed}");
    let out = p
        .env
        .process()
        .current_dir(p.env.path().join("repo"))
        .env("GITLAB_URL", &gone)
        .env("GITLAB_TOKEN", CALLER)
        .args(["-v", "inventory", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let said = format!("{}{}", crate::common::stdout(&out), stderr(&out));
    assert!(
        said.contains(&format!("{gone}/api/v4/"))
            && said.contains("cannot connect (connection refused)"),
        "{said}"
    );
    // Said once per call, never "trying again".
    assert!(!said.contains("trying again"), "{said}");
}

#[tokio::test]
async fn a_plan_confirmed_after_another_batch_rotated_its_tokens_rotates_nothing_again() {
    let p = Pipeline::new(Source::EnvApiToken).await;
    let inventory = p.env.path().join("repo/tokrot.toml");
    let inventory = inventory.to_str().unwrap();
    let uri = p.server.uri();
    let vars = [
        ("GITLAB_URL", uri.as_str()),
        ("GITLAB_TOKEN", CALLER),
        ("ZENDESK_INSTANCE", "support"),
        ("ZENDESK_EMAIL", ZD_EMAIL),
        ("ZENDESK_API_TOKEN", ZD_API),
    ];
    // An operator's plan waits at its question ...
    let mut slow = crate::common::Pty::spawn_with(
        &p.env,
        &["--inventory", inventory, "rotate", "--due"],
        &vars,
    );
    slow.expect("Rotate these 2 credential(s)?");
    // ... while the scheduled job rotates both.
    let job = p.tokrot(&["rotate", "--due", "--yes"]);
    assert_eq!(job.status.code(), Some(0), "{}", stderr(&job));
    let rotations = |w: &[String]| {
        w.iter()
            .filter(|c| c.ends_with("/rotate") || *c == "POST /api/v2/oauth/tokens")
            .count()
    };
    assert_eq!(rotations(&p.writes()), 2, "{:?}", p.writes());
    // The plan, confirmed now, is checked again: nothing is rotated twice, no fresh token
    // revoked, and the operator is told who did it.
    std::thread::sleep(std::time::Duration::from_millis(150));
    slow.send("y");
    let (code, screen) = slow.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(rotations(&p.writes()), 2, "{:?}", p.writes());
    assert_eq!(
        p.writes()
            .iter()
            .filter(|w| w.starts_with("DELETE"))
            .count(),
        1,
        "{:?}",
        p.writes()
    );
    assert!(screen.contains("not started: rotated by run "), "{screen}");
    assert!(screen.contains("token_id 42 → 5042"), "{screen}");
    assert!(screen.contains("old_token_id 900 → "), "{screen}");
}

#[tokio::test]
async fn the_token_tokrot_runs_with_is_rotated_alone_and_last_and_the_runs_after_it_use_the_new_one()
 {
    let inventory = format!(
        "{INVENTORY}\n[[credential]]\nname = \"tokrot-own\"\nrunbook = \"gitlab-pat\"\nparams = {{ token_id = \"self\" }}\ntargets = [\"gitlab-ci-var:support/own:GITLAB_TOKEN\"]\n"
    );
    let p = Pipeline::with(Source::Keyring, &inventory).await;
    {
        let mut w = p.world.0.lock().unwrap();
        // tokrot's own token is due, like two others.
        w.pats.get_mut(&1).unwrap().expires = Some(day(6));
        let mut own =
            w.variables["/api/v4/projects/support%2Ftriage/variables/GITLAB_TOKEN"].clone();
        own["value"] = json!("old-value-sj08");
        w.variables.insert(
            "/api/v4/projects/support%2Fown/variables/GITLAB_TOKEN".into(),
            own,
        );
    }
    let jobs = readme_jobs();
    let out = p.job(&jobs["token-rotate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let writes = p.writes();
    let own = writes
        .iter()
        .position(|w| w == "POST /api/v4/personal_access_tokens/self/rotate")
        .unwrap_or_else(|| panic!("{writes:?}"));
    // Every other rotation, and every write of theirs, came before it.
    for other in [
        "POST /api/v4/personal_access_tokens/42/rotate",
        "POST /api/v2/oauth/tokens",
        "DELETE /api/v2/oauth/tokens/900",
        "PUT /api/v4/projects/support%2Fzd-sync/variables/API_TOKEN",
    ] {
        let at = writes
            .iter()
            .position(|w| w == other)
            .unwrap_or_else(|| panic!("{other}: {writes:?}"));
        assert!(at < own, "{other} after tokrot's own rotation: {writes:?}");
    }
    // The keyring credential holds the new token: the next job authenticates with it, and
    // nothing is due any more.
    let check = p.job(&jobs["token-status"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let w = p.world.0.lock().unwrap();
    assert!(!w.pats[&1].active);
    assert_eq!(
        w.variables["/api/v4/projects/support%2Fown/variables/GITLAB_TOKEN"]["value"],
        json!(w.pats[&5001].value)
    );
}

/// One credential of a generated inventory: when its token expires (days from today), which
/// of the pool's variables it feeds, and whether it is tokrot's own token.
#[derive(Debug, Clone)]
struct Generated {
    expires: i64,
    targets: Vec<usize>,
    own: bool,
}

/// The variables a generated inventory's targets are drawn from; the last is tokrot's own.
const POOL: usize = 13;

fn generated() -> impl proptest::strategy::Strategy<Value = Vec<Generated>> {
    use proptest::prelude::*;
    let one = (
        prop::sample::select(vec![-3i64, 4, 9, 40, 200]),
        prop::collection::btree_set(0usize..POOL - 1, 1..=2),
    )
        .prop_map(|(expires, targets)| Generated {
            expires,
            targets: targets.into_iter().collect(),
            own: false,
        });
    // Half the inventories give each credential targets of its own (a team's usual file), half
    // draw them from the pool, where two credentials often meet on one.
    (
        prop::collection::vec(one, 1..=12),
        any::<bool>(),
        any::<bool>(),
        4i64..12,
    )
        .prop_map(|(mut creds, apart, own, own_expires)| {
            if apart {
                for (i, c) in creds.iter_mut().enumerate() {
                    c.targets = vec![i];
                }
            }
            if own {
                creds.push(Generated {
                    expires: own_expires,
                    targets: vec![POOL - 1],
                    own: true,
                });
            }
            creds
        })
}

/// The promise of a batch, for any inventory: `rotate --due --yes` refuses before any change,
/// or leaves every target holding the newest token of the credential that names it, each due
/// token rotated once, and no new token in no target.
fn batch_keeps_every_token(
    creds: &[Generated],
) -> Result<(), proptest::test_runner::TestCaseError> {
    use proptest::prop_assert;
    use proptest::prop_assert_eq;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut text = String::new();
    for (i, c) in creds.iter().enumerate() {
        let id = if c.own {
            "self".to_owned()
        } else {
            (100 + i).to_string()
        };
        let targets: Vec<String> = c
            .targets
            .iter()
            .map(|t| format!("\"gitlab-ci-var:support/pool:V{t}\""))
            .collect();
        text.push_str(&format!(
            "[[credential]]\nname = \"c{i}\"\nrunbook = \"gitlab-pat\"\nparams = {{ token_id = \"{id}\" }}\ntargets = [{}]\n\n",
            targets.join(", ")
        ));
    }
    let p = rt.block_on(Pipeline::with(Source::Keyring, &text));
    {
        let mut w = p.world.0.lock().unwrap();
        for (i, c) in creds.iter().enumerate() {
            let id = if c.own { 1 } else { 100 + i as u64 };
            w.pats.insert(
                id,
                Token {
                    value: if c.own {
                        CALLER.into()
                    } else {
                        format!("glpat-old{id}CANARYpp")
                    },
                    expires: Some(day(c.expires)),
                    active: true,
                    client: None,
                    user: ZD_USER,
                },
            );
        }
        for t in 0..POOL {
            w.variables.insert(
                format!("/api/v4/projects/support%2Fpool/variables/V{t}"),
                json!({"key": format!("V{t}"), "value": "old-value-pp", "variable_type": "env_var",
                       "masked": false, "hidden": false, "raw": false, "environment_scope": "*"}),
            );
        }
    }
    let out = p.tokrot(&["rotate", "--due", "--yes"]);
    let w = p.world.0.lock().unwrap();
    let shared = (0..POOL).any(|t| creds.iter().filter(|c| c.targets.contains(&t)).count() > 1);
    if shared {
        prop_assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        prop_assert!(w.writes.is_empty(), "{:?}", w.writes);
        return Ok(());
    }
    let var = |t: usize| {
        w.variables[&format!("/api/v4/projects/support%2Fpool/variables/V{t}")]["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (i, c) in creds.iter().enumerate() {
        let id = if c.own { 1 } else { 100 + i as u64 };
        let rotations = w
            .writes
            .iter()
            .filter(|x| {
                **x == format!("POST /api/v4/personal_access_tokens/{id}/rotate")
                    || (c.own && *x == "POST /api/v4/personal_access_tokens/self/rotate")
            })
            .count();
        let due = (1..=14).contains(&c.expires);
        prop_assert_eq!(
            rotations,
            usize::from(due),
            "c{} {:?}: {:?}\n{}",
            i,
            c,
            w.writes,
            stderr(&out)
        );
        for t in &c.targets {
            let want = match due {
                true => w.pats[&(id + 5000)].value.clone(),
                false => "old-value-pp".to_owned(),
            };
            prop_assert_eq!(var(*t), want, "c{} target V{}: {}", i, t, stderr(&out));
        }
    }
    // No new token is in no target.
    for (id, t) in &w.pats {
        if *id > 5000 {
            prop_assert!((0..POOL).any(|v| var(v) == t.value), "token {} lost", id);
        }
    }
    let expired = creds.iter().any(|c| c.expires <= 0);
    prop_assert_eq!(
        out.status.code(),
        Some(i32::from(expired)),
        "{}",
        stderr(&out)
    );
    Ok(())
}

#[test]
fn any_batch_refuses_before_a_change_or_leaves_every_target_with_its_newest_token() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&generated(), |creds| batch_keeps_every_token(&creds))
        .unwrap();
}

#[tokio::test]
async fn a_journal_that_cannot_be_read_keeps_the_check_red() {
    let p = Pipeline::new(Source::EnvOAuth).await;
    let jobs = readme_jobs();
    let rotated = p.job(&jobs["token-rotate"]);
    assert_eq!(rotated.status.code(), Some(0), "{}", stderr(&rotated));
    assert_eq!(p.job(&jobs["token-status"]).status.code(), Some(0));
    // A journal cut short (a full disk): it may be a rotation left unfinished.
    let dir = p.env.path().join(".local/state/tokrot/rotations");
    let cut = dir.join("20261201T000000Z-gitlab-pat-abcdef.json");
    std::fs::write(&cut, "{\"id\": \"20261201T0").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cut, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let red = p.job(&jobs["token-status"]);
    assert_eq!(red.status.code(), Some(1), "{}", stderr(&red));
    assert!(
        stderr(&red).contains("journal(s) could not be read"),
        "{}",
        stderr(&red)
    );
}

#[tokio::test]
async fn an_approval_reaches_only_the_rotations_whose_runbook_has_that_gate() {
    // A team's own runbook: gitlab-pat with an owner's sign-off first.
    let embedded = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/gitlab-pat.toml"),
    )
    .unwrap();
    // The same id overrides the embedded runbook: every gitlab-pat credential is gated now,
    // the zendesk-oauth one is not.
    let gated = embedded
        .replacen(
            "[[steps]]",
            "[[steps]]\nkind = \"gate\"\nid = \"owner-signoff\"\ntitle = \"Owner sign-off\"\nquestion = \"Has the owner signed off?\"\nstop = \"Ask the owner.\"\n\n[[steps]]",
            1,
        );
    let p = Pipeline::new(Source::EnvApiToken).await;
    p.env.write("runbooks/gitlab-pat.toml", &gated);
    let dir = p.env.path().join("runbooks");
    let dir = dir.to_str().unwrap();
    let out = p.tokrot(&[
        "--runbooks",
        dir,
        "--output",
        "json",
        "rotate",
        "--due",
        "--yes",
        "--approve",
        "owner-signoff=https://tickets.example/42",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = crate::common::json_doc(&out);
    let rotations = doc["rotations"].as_array().unwrap();
    assert_eq!(rotations.len(), 2, "{doc:#}");
    assert!(rotations.iter().all(|r| r["exit_code"] == 0), "{doc:#}");
    // The gated one kept its evidence; the other was never given it.
    let journals = p.env.path().join(".local/state/tokrot/rotations");
    let mut approved = 0;
    for f in std::fs::read_dir(journals).unwrap() {
        let j: Value = serde_json::from_slice(&std::fs::read(f.unwrap().path()).unwrap()).unwrap();
        let gated = j["runbook"] == "gitlab-pat";
        let approvals = j["approvals"].as_array().map_or(0, Vec::len);
        assert_eq!(approvals, usize::from(gated), "{j:#}");
        approved += approvals;
    }
    assert_eq!(approved, 1);
}

#[tokio::test]
async fn rotating_its_own_token_from_the_environment_says_which_variable_is_stale_and_where_the_new_token_is()
 {
    let inventory = format!(
        "{INVENTORY}\n[[credential]]\nname = \"tokrot-own\"\nrunbook = \"gitlab-pat\"\nparams = {{ token_id = \"self\" }}\ntargets = [\"gitlab-ci-var:support/own:GITLAB_TOKEN\"]\n"
    );
    let p = Pipeline::with(Source::EnvApiToken, &inventory).await;
    {
        let mut w = p.world.0.lock().unwrap();
        w.pats.get_mut(&1).unwrap().expires = Some(day(6));
        let own = w.variables["/api/v4/projects/support%2Ftriage/variables/GITLAB_TOKEN"].clone();
        w.variables.insert(
            "/api/v4/projects/support%2Fown/variables/GITLAB_TOKEN".into(),
            own,
        );
    }
    let jobs = readme_jobs();
    let out = p.tokrot(&["rotate", "--due", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = format!("{}{}", crate::common::stdout(&out), stderr(&out));
    assert!(
        said.contains("GITLAB_TOKEN is stale")
            && said.contains("gitlab-ci-var:support/own:GITLAB_TOKEN"),
        "{said}"
    );
    // The job's next run, still with the old GITLAB_TOKEN, is red rather than green.
    let next = p.job(&jobs["token-status"]);
    assert_eq!(next.status.code(), Some(1), "{}", stderr(&next));
}

#[tokio::test]
async fn a_new_oauth_token_that_would_act_as_another_user_is_refused_unless_the_entry_says_so() {
    // The same team, but the entry does not say the new token may act as the caller.
    let inventory = INVENTORY.replace(", as_caller = \"yes\"", "");
    let p = Pipeline::with(Source::EnvApiToken, &inventory).await;
    let out = p.tokrot(&["--yes", "rotate", "--credential", "support-oauth"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("OAuth token 900 acts as user 6, and a new token would act as you (user 5)"),
        "{}",
        stderr(&out)
    );
    assert!(
        !p.writes().iter().any(|w| w.starts_with("POST")),
        "{:?}",
        p.writes()
    );
    // With it (the team's inventory), the change is made, said and journaled.
    let p = Pipeline::new(Source::EnvApiToken).await;
    let out = p.tokrot(&["--yes", "rotate", "--credential", "support-oauth"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the new token acts as you (user 5), not as user 6 like token 900"),
        "{}",
        stderr(&out)
    );
    let dir = p.env.path().join(".local/state/tokrot/rotations");
    let journal: Value = serde_json::from_slice(
        &std::fs::read(
            std::fs::read_dir(dir)
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path(),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(
        journal["memo"]["identity_change"]
            .as_str()
            .is_some_and(|c| c.contains("user 5")),
        "{journal:#}"
    );
}

#[tokio::test]
async fn a_due_batch_that_did_not_finish_names_each_run_and_the_command_to_look_at_it() {
    let p = Pipeline::new(Source::EnvApiToken).await;
    p.world
        .0
        .lock()
        .unwrap()
        .broken
        .push("/api/v4/projects/support%2Fzd-sync/variables/API_TOKEN".into());
    let out = p.tokrot(&["rotate", "--due", "--yes"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    // history --credential finds the credential's run.
    let listed = p.tokrot(&["history", "--credential", "zd-sync", "--jq", ".runs[].id"]);
    let id = crate::common::stdout(&listed).trim().to_owned();
    assert!(id.contains("-gitlab-pat-"), "{id}");
    assert!(
        err.contains(&format!(
            "1 of 2 rotation(s) did not finish: zd-sync (run {id})"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("hint: `tokrot history {id}` says what happened")),
        "{err}"
    );
    let secrets = p.secrets();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    scan(&p.env, &[&out], &secrets);
}

#[tokio::test]
async fn ctrl_c_during_a_confirmed_batch_leaves_the_batch_to_wait_for_its_rotations() {
    // On a terminal: the plan is confirmed, then Ctrl-C while a rotation writes its target.
    // The batch process is not ended by the prompt's signal handling: it says no further
    // rotation starts and waits for the running one, which stops at its safe point.
    let p = Pipeline::new(Source::EnvApiToken).await;
    let var = "/api/v4/projects/support%2Fzd-sync/variables/API_TOKEN".to_owned();
    p.world.0.lock().unwrap().slow.push(var.clone());
    let inventory = p.env.path().join("repo/tokrot.toml");
    let inventory = inventory.to_str().unwrap();
    let uri = p.server.uri();
    let vars = [
        ("GITLAB_URL", uri.as_str()),
        ("GITLAB_TOKEN", CALLER),
        ("ZENDESK_INSTANCE", "support"),
        ("ZENDESK_EMAIL", ZD_EMAIL),
        ("ZENDESK_API_TOKEN", ZD_API),
    ];
    let mut pty = crate::common::Pty::spawn_with(
        &p.env,
        &[
            "--inventory",
            inventory,
            "--concurrency",
            "1",
            "rotate",
            "--due",
        ],
        &vars,
    );
    pty.answer("Rotate these 2 credential(s)?", "y");
    for _ in 0..200 {
        if p.writes().contains(&format!("PUT {var}")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        p.writes().contains(&format!("PUT {var}")),
        "{:?}",
        p.writes()
    );
    pty.send("\x03");
    let (code, screen) = pty.finish();
    assert!(
        screen.contains("interrupt: no further rotation starts"),
        "{screen}"
    );
    // It waited, and told how each ended: the finished one done, the interrupted one not.
    assert!(screen.contains("Rotations:"), "{screen}");
    assert!(screen.contains("done     support-oauth"), "{screen}");
    assert!(screen.contains("zd-sync  (run "), "{screen}");
    assert_eq!(code, 130, "{screen}");
    p.world.0.lock().unwrap().slow.clear();
}
