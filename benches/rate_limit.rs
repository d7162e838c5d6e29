//! 300 writes against a GitLab that allows 100 requests per second in fixed one-second windows
//! aligned to the clock, as Rack::Attack counts them, and takes 20 ms to answer: how many
//! answers were 429, and the wall time against the time the limit allows. Two cases:
//!
//! - `headers`: GitLab's rate headers on every answer (`RateLimit-Limit` normalised per minute,
//!   `-Observed`, `-Remaining`, `-Reset` a Unix time); goal 0 answers 429, ≤ 1.10 × the limit.
//! - `config`: the headers only on a 429 (gitlab.com's default), the limit given in the config
//!   (`[gitlab] requests_per_minute = 6000`); goal 0 answers 429, ≤ 1.15 ×.
//!
//! Run with `cargo bench --bench rate_limit`; figures in the README.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const WRITES: usize = 300;
const PER_SECOND: usize = 100;
const NEW: &str = "glpat-bench-new-token-0123456789";
const LATENCY: Duration = Duration::from_millis(20);

/// A fixed-window limit over every request to the host (the window is shared by every path),
/// GitLab's headers on every answer.
struct Limited {
    window: Arc<Mutex<(u64, usize)>>,
    refused: Arc<AtomicUsize>,
    /// Whether unthrottled answers carry the rate headers.
    headers: bool,
    body: fn(&Request) -> serde_json::Value,
}

impl Respond for Limited {
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
        let left = PER_SECOND.saturating_sub(w.1);
        let rate = |t: ResponseTemplate| {
            t.insert_header("RateLimit-Name", "throttle_authenticated_api")
                .insert_header("RateLimit-Limit", (PER_SECOND * 60).to_string().as_str())
                .insert_header("RateLimit-Observed", w.1.to_string().as_str())
                .insert_header("RateLimit-Remaining", left.to_string().as_str())
                .insert_header("RateLimit-Reset", (now + 1).to_string().as_str())
        };
        if w.1 > PER_SECOND {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return rate(ResponseTemplate::new(429))
                .insert_header("Retry-After", "1")
                .set_body_string("Retry later")
                .set_delay(LATENCY);
        }
        let ok = ResponseTemplate::new(200)
            .set_body_json((self.body)(req))
            .set_delay(LATENCY);
        if self.headers { rate(ok) } else { ok }
    }
}

fn variable(req: &Request) -> serde_json::Value {
    let key = req.url.path().rsplit('/').next().unwrap_or("X").to_owned();
    let value = if req.method.as_str() == "PUT" {
        NEW
    } else {
        "old-value-0123456789"
    };
    json!({"key": key, "value": value, "variable_type": "env_var", "protected": false,
           "masked": true, "hidden": false, "raw": false, "environment_scope": "*"})
}

fn variables(_: &Request) -> serde_json::Value {
    json!(
        (0..WRITES)
            .map(
                |i| json!({"key": format!("K{i}"), "value": "old-value-0123456789",
        "variable_type": "env_var", "protected": false, "masked": true, "hidden": false,
        "raw": false, "environment_scope": "*"})
            )
            .collect::<Vec<_>>()
    )
}

fn token(_: &Request) -> serde_json::Value {
    json!({"id": 42, "name": "bench", "active": true, "revoked": false,
           "created_at": "2026-09-01T00:00:00Z", "expires_at": "2026-12-01"})
}

fn user(_: &Request) -> serde_json::Value {
    json!({"id": 1, "username": "bench"})
}

fn rotated(_: &Request) -> serde_json::Value {
    json!({"id": 43, "name": "bench", "token": NEW, "expires_at": "2027-03-01"})
}

/// One case: what was measured.
struct Figures {
    refused: usize,
    requests: usize,
    wall: Duration,
}

fn run(rt: &tokio::runtime::Runtime, headers: bool) -> Figures {
    let window = Arc::new(Mutex::new((0, 0)));
    let refused = Arc::new(AtomicUsize::new(0));
    let limited = |body| Limited {
        window: window.clone(),
        refused: refused.clone(),
        headers,
        body,
    };
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        for (p, body) in [
            ("/api/v4/user", user as fn(&Request) -> serde_json::Value),
            ("/api/v4/personal_access_tokens/42", token),
            ("/api/v4/personal_access_tokens/self", token),
        ] {
            Mock::given(method("GET"))
                .and(path(p))
                .respond_with(limited(body))
                .mount(&server)
                .await;
        }
        Mock::given(method("POST"))
            .and(path("/api/v4/personal_access_tokens/42/rotate"))
            .respond_with(limited(rotated))
            .mount(&server)
            .await;
        Mock::given(path_regex(r"^/api/v4/projects/[^/]+/variables$"))
            .respond_with(limited(variables))
            .mount(&server)
            .await;
        Mock::given(path_regex(r"^/api/v4/projects/[^/]+/variables/[^/]+$"))
            .respond_with(limited(variable))
            .mount(&server)
            .await;
        server
    });
    let bin = env!("CARGO_BIN_EXE_tokrot");
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    let limit = if headers {
        String::new()
    } else {
        format!("[gitlab]\nrequests_per_minute = {}\n", PER_SECOND * 60)
    };
    std::fs::write(&config, limit).unwrap();
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITLAB_TOKEN", "glpat-bench-caller-0123456789")
        .arg("--config")
        .arg(&config)
        .args([
            "--yes",
            "--gitlab-url",
            &server.uri(),
            "--concurrency",
            "16",
        ])
        .args(["rotate", "gitlab-pat", "--token-id", "42"]);
    for i in 0..WRITES {
        cmd.arg("--apply-to")
            .arg(format!("gitlab-ci-var:grp/proj:K{i}"));
    }
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let wall = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = rt
        .block_on(server.received_requests())
        .unwrap_or_default()
        .len();
    Figures {
        refused: refused.load(Ordering::Relaxed),
        requests,
        wall,
    }
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for (case, headers, goal) in [("headers", true, 1.10), ("config", false, 1.15)] {
        let f = run(&rt, headers);
        let allowed = f.requests as f64 / PER_SECOND as f64;
        println!(
            "rate_limit/{case}: {WRITES} writes, {} requests at {PER_SECOND}/s, {} ms an answer",
            f.requests,
            LATENCY.as_millis()
        );
        println!("  answered 429: {} (goal 0)", f.refused);
        println!(
            "  wall time: {:.2} s; the limit allows {allowed:.2} s; ratio {:.2} (goal ≤ {goal:.2})",
            f.wall.as_secs_f64(),
            f.wall.as_secs_f64() / allowed
        );
    }
}
