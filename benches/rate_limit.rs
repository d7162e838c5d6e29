//! 300 writes against a GitLab that allows 100 requests per second in fixed one-second windows
//! and says so as GitLab does (`RateLimit-Remaining`, `RateLimit-Reset`; 429 with `Retry-After`
//! past the limit): how many answers were 429, and the wall time against the 3 s that the limit
//! allows.
//!
//! Run with `cargo bench --bench rate_limit`. Figures to reach (README): 0 answers 429, wall
//! time ≤ 1.1 × 3 s.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const WRITES: usize = 300;
const PER_SECOND: usize = 100;
const NEW: &str = "glpat-bench-new-token-0123456789";

/// A fixed-window limit over every request to the host (the window is shared by every path),
/// GitLab's headers on every answer.
struct Limited {
    window: Arc<Mutex<(u64, usize)>>,
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
        let reset = (now + 1).to_string();
        if w.1 > PER_SECOND {
            REFUSED.fetch_add(1, Ordering::Relaxed);
            return ResponseTemplate::new(429)
                .insert_header("RateLimit-Remaining", "0")
                .insert_header("RateLimit-Reset", reset.as_str())
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"message": "Retry later"}));
        }
        ResponseTemplate::new(200)
            .insert_header("RateLimit-Limit", PER_SECOND.to_string().as_str())
            .insert_header("RateLimit-Remaining", left.to_string().as_str())
            .insert_header("RateLimit-Reset", reset.as_str())
            .set_body_json((self.body)(req))
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

static REFUSED: AtomicUsize = AtomicUsize::new(0);

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let window = Arc::new(Mutex::new((0, 0)));
    let limited = |body| Limited {
        window: window.clone(),
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
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITLAB_TOKEN", "glpat-bench-caller-0123456789")
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
    let allowed = requests as f64 / PER_SECOND as f64;
    println!("rate_limit: {WRITES} writes, {requests} requests at {PER_SECOND}/s");
    println!("  answered 429: {}", REFUSED.load(Ordering::Relaxed));
    println!(
        "  wall time: {:.2} s; the limit allows {allowed:.2} s; ratio {:.2} (goal ≤ 1.10)",
        wall.as_secs_f64(),
        wall.as_secs_f64() / allowed
    );
}
