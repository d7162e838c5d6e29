//! The rate budget through the real binary, against a GitLab stand-in that counts every request
//! to the host in fixed windows aligned to the clock, as GitLab's Rack::Attack does, and answers
//! 429 past its limit, with GitLab's rate headers on every answer or (gitlab.com's default) only
//! on a 429.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::assert_no_canary;
use crate::common::{Env, stderr};
use crate::faults::{journal, puts, rotate_args};
use crate::stand_in::{CALLER, rotated, token, variable, variable_answer};
use tokrot::exit;

/// How many variables the run writes.
const TARGETS: usize = 20;

/// The stand-in's answer to every request of a PAT rotation into `grp/proj`'s variables.
fn answer(req: &Request) -> ResponseTemplate {
    let p = req.url.path();
    let ok = |body| ResponseTemplate::new(200).set_body_json(body);
    match (req.method.as_str(), p) {
        (_, "/api/v4/user") => ok(json!({"id": 1, "username": "ops"})),
        ("POST", "/api/v4/personal_access_tokens/42/rotate") => rotated(),
        (_, "/api/v4/personal_access_tokens/42") => ok(token(42)),
        (_, "/api/v4/personal_access_tokens/self") => ok(token(43)),
        (_, "/api/v4/projects/grp%2Fproj/variables") => ok(json!(
            (0..TARGETS)
                .map(|i| variable(&format!("K{i}"), "old-CANARY-ff03"))
                .collect::<Vec<_>>()
        )),
        _ if p.starts_with("/api/v4/projects/grp%2Fproj/variables/") => variable_answer(req),
        _ => ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not Found"})),
    }
}

/// A limit of `limit` requests in each clock second over every path of the host.
struct Windowed {
    limit: usize,
    /// Whether unthrottled answers carry the rate headers.
    headers: bool,
    window: Mutex<(u64, usize)>,
    refused: Arc<AtomicUsize>,
}

impl Respond for Windowed {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut w = self.window.lock().unwrap();
        if w.0 != now {
            *w = (now, 0);
        }
        w.1 += 1;
        let rate = |t: ResponseTemplate| {
            t.insert_header("RateLimit-Name", "throttle_authenticated_api")
                .insert_header("RateLimit-Limit", (self.limit * 60).to_string().as_str())
                .insert_header("RateLimit-Observed", w.1.to_string().as_str())
                .insert_header(
                    "RateLimit-Remaining",
                    self.limit.saturating_sub(w.1).to_string().as_str(),
                )
                .insert_header("RateLimit-Reset", (now + 1).to_string().as_str())
        };
        if w.1 > self.limit {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return rate(ResponseTemplate::new(429))
                .insert_header("Retry-After", "1")
                .set_body_string("Retry later");
        }
        let ok = answer(req).set_delay(Duration::from_millis(20));
        if self.headers { rate(ok) } else { ok }
    }
}

/// A stand-in allowing `limit` requests a second; the count of its 429 answers.
async fn limited(limit: usize, headers: bool) -> (MockServer, Arc<AtomicUsize>) {
    let server = MockServer::start().await;
    let refused = Arc::new(AtomicUsize::new(0));
    Mock::given(wiremock::matchers::any())
        .respond_with(Windowed {
            limit,
            headers,
            window: Mutex::new((0, 0)),
            refused: refused.clone(),
        })
        .mount(&server)
        .await;
    (server, refused)
}

fn keys() -> Vec<String> {
    (0..TARGETS).map(|i| format!("K{i}")).collect()
}

/// `tokrot rotate gitlab-pat` into every variable, unattended, with `config` as its config file.
fn run(env: &Env, server: &MockServer, config: &str) -> std::process::Output {
    let config = env.write("config.toml", config);
    let keys = keys();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    env.tokrot()
        .env("GITLAB_TOKEN", CALLER)
        .arg("--config")
        .arg(&config)
        .args([
            "--gitlab-url",
            &server.uri(),
            "--yes",
            "-v",
            "--concurrency",
            "8",
        ])
        .args(rotate_args(&keys))
        .output()
        .unwrap()
}

#[tokio::test]
async fn with_gitlabs_headers_on_every_answer_a_run_past_the_limit_meets_no_429() {
    let (server, refused) = limited(6, true).await;
    let env = Env::new();
    let out = run(&env, &server, "");
    assert_eq!(out.status.code(), Some(exit::OK), "{}", stderr(&out));
    assert_eq!(refused.load(Ordering::Relaxed), 0, "{}", stderr(&out));
    assert_eq!(puts(&server).await.len(), TARGETS);
    assert_eq!(journal(&env)["status"], "done");
    assert_no_canary(&env, &[&out]);
}

#[tokio::test]
async fn without_headers_the_configured_limit_paces_the_run_and_no_429_is_met() {
    // gitlab.com's default: rate headers only on a 429. Without a limit to pace by, the run
    // meets the stand-in's limit (and waits out its refusals): what the config changes below.
    let (server, refused) = limited(6, false).await;
    let env = Env::new();
    let out = run(&env, &server, "");
    assert_eq!(out.status.code(), Some(exit::OK), "{}", stderr(&out));
    assert!(refused.load(Ordering::Relaxed) > 0, "a burst is refused");

    let (server, refused) = limited(6, false).await;
    let env = Env::new();
    let started = Instant::now();
    let out = run(&env, &server, "[gitlab]\nrequests_per_minute = 300\n");
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(exit::OK), "{}", stderr(&out));
    assert_eq!(refused.load(Ordering::Relaxed), 0, "{}", stderr(&out));
    let requests = server.received_requests().await.unwrap().len();
    // 300 a minute, 98 % of it: one call every 204 ms.
    let paced = Duration::from_millis(200) * (requests as u32 - 1);
    assert!(took >= paced, "{requests} requests in {took:?}");
    assert_eq!(puts(&server).await.len(), TARGETS);
    assert_no_canary(&env, &[&out]);
}

/// A GitLab whose every variable write is refused with `Retry-After: secs`, `times` times; the
/// refusals it must have sent, `refused`.
async fn refusing_writes(secs: u64, times: u64, refused: impl Into<wiremock::Times>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("PUT"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", secs.to_string().as_str())
                .set_body_string("Retry later"),
        )
        .up_to_n_times(times)
        .expect(refused)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_wait_past_max_wait_fails_its_target_at_once_and_a_shorter_one_is_honoured_and_said_once()
{
    // gitlab.com may ask for an hour: past the default --max-wait of 15 minutes, each write
    // fails at once, sent once, and says why.
    // The targets side by side (--concurrency 8) may each be sent before the first refusal is
    // seen; no more.
    let server = refusing_writes(3600, TARGETS as u64, 1..=8).await;
    let env = Env::new();
    let out = run(&env, &server, "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(exit::INCOMPLETE), "{err}");
    assert!(
        err.contains("the rate limit asks for a wait of 3600 s, longer than --max-wait (900 s); the vendor did not carry the call out"),
        "{err}"
    );
    // The first refusal holds the host for an hour: the writes sent with it are not sent again,
    // and the rest are not sent at all.
    let sent = puts(&server).await;
    let once: std::collections::BTreeSet<_> = sent.iter().collect();
    assert_eq!(
        once.len(),
        sent.len(),
        "each write sent at most once: {sent:?}"
    );
    assert!(sent.len() < TARGETS, "{sent:?}");
    assert!(
        err.contains("longer than --max-wait (900 s); the call was not sent"),
        "{err}"
    );
    assert_eq!(journal(&env)["status"], "incomplete");
    assert_no_canary(&env, &[&out]);

    // A wait within --max-wait holds every call to the host, and is said once.
    let server = refusing_writes(3, 4, 4).await;
    let env = Env::new();
    let started = Instant::now();
    let out = run(&env, &server, "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(exit::OK), "{err}");
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(
        err.matches("the rate limit asks for a wait of 3 s; waiting")
            .count(),
        1,
        "{err}"
    );
    assert_eq!(puts(&server).await.len(), TARGETS + 4);
    assert_no_canary(&env, &[&out]);

    // --max-wait below the vendor's wait: refused at once.
    let server = refusing_writes(3, TARGETS as u64, 1).await;
    let env = Env::new();
    let config = env.write("config.toml", "");
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", CALLER)
        .arg("--config")
        .arg(&config)
        .args(["--gitlab-url", &server.uri(), "--yes", "--max-wait", "2"])
        .args(rotate_args(&["K0"]))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(exit::INCOMPLETE), "{err}");
    assert!(err.contains("longer than --max-wait (2 s)"), "{err}");
}

#[test]
fn a_limit_of_zero_requests_a_minute_is_refused_with_its_place() {
    let env = Env::new();
    let config = env.write("config.toml", "[gitlab]\nrequests_per_minute = 0\n");
    let out = env
        .tokrot()
        .arg("--config")
        .arg(&config)
        .arg("instances")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(exit::USAGE), "{err}");
    assert!(
        err.contains("config.toml:2:") && err.contains("requests_per_minute must be at least 1"),
        "{err}"
    );
}
