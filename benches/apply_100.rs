//! One token applied to 100 CI/CD variables on a local GitLab that adds 20 ms to every answer:
//! wall time, requests, peak memory of the `tokrot` process, and the ratio to the 100 × 20 ms
//! that one-at-a-time writes would take. Then `tokrot --version` start-up time.
//!
//! Run with `cargo bench --bench apply_100`. Figures to reach (README): ratio ≤ 0.25, at most 3
//! requests per target, peak memory under 50 MB, start-up in a few milliseconds.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TARGETS: usize = 100;
const DELAY: Duration = Duration::from_millis(20);
const NEW: &str = "glpat-bench-new-token-0123456789";

/// Answers a variable read or write with the variable named in the path.
struct VariableAnswer {
    written: bool,
}

impl Respond for VariableAnswer {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let key = req.url.path().rsplit('/').next().unwrap_or("X").to_owned();
        let value = if self.written {
            NEW
        } else {
            "old-value-0123456789"
        };
        ResponseTemplate::new(200)
            .set_delay(DELAY)
            .set_body_json(json!({
            "key": key, "value": value, "variable_type": "env_var", "protected": false,
            "masked": true, "hidden": false, "raw": false, "environment_scope": "*"}))
    }
}

/// The largest resident set of any child waited for so far (KiB on Linux).
fn peak_rss_kib() -> i64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map_or(0, |u| u.max_rss())
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        let ok = |body: serde_json::Value| ResponseTemplate::new(200).set_delay(DELAY).set_body_json(body);
        Mock::given(path("/api/v4/user")).respond_with(ok(json!({"id": 1, "username": "bench"}))).mount(&server).await;
        let token = json!({"id": 42, "name": "bench", "active": true, "revoked": false,
                           "created_at": "2026-09-01T00:00:00Z", "expires_at": "2026-12-01"});
        Mock::given(path("/api/v4/personal_access_tokens/42")).respond_with(ok(token.clone())).mount(&server).await;
        Mock::given(path("/api/v4/personal_access_tokens/self")).respond_with(ok(token)).mount(&server).await;
        Mock::given(method("POST"))
            .and(path("/api/v4/personal_access_tokens/42/rotate"))
            .respond_with(ok(json!({"id": 43, "name": "bench", "token": NEW, "expires_at": "2027-03-01"})))
            .mount(&server)
            .await;
        let all: Vec<serde_json::Value> = (0..TARGETS)
            .map(|i| json!({"key": format!("VAR_{i}"), "value": "old-value-0123456789", "variable_type": "env_var",
                            "protected": false, "masked": true, "hidden": false, "raw": false, "environment_scope": "*"}))
            .collect();
        Mock::given(method("GET")).and(path("/api/v4/projects/bench/variables")).respond_with(ok(json!(all))).mount(&server).await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/api/v4/projects/bench/variables/"))
            .respond_with(VariableAnswer { written: false })
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path_regex(r"^/api/v4/projects/bench/variables/"))
            .respond_with(VariableAnswer { written: true })
            .mount(&server)
            .await;
        server
    });

    let bin = env!("CARGO_BIN_EXE_tokrot");
    let state = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("HOME", state.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITLAB_TOKEN", "glpat-bench-caller-0123456789")
        .args([
            "--gitlab-url",
            &server.uri(),
            "--yes",
            "-q",
            "--output",
            "json",
        ])
        .args(["rotate", "gitlab-pat", "--token-id", "42"]);
    for i in 0..TARGETS {
        cmd.args(["--apply-to", &format!("gitlab-ci-var:bench:VAR_{i}")]);
    }
    let started = Instant::now();
    let out = cmd.output().expect("run tokrot");
    let wall = started.elapsed();
    assert!(
        out.status.success(),
        "tokrot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let applied = report["targets"]
        .as_array()
        .map_or(0, |t| t.iter().filter(|t| t["verified"] == "yes").count());
    assert_eq!(applied, TARGETS, "every variable written and read back");
    let requests = rt
        .block_on(server.received_requests())
        .map_or(0, |r| r.len());
    let rss = peak_rss_kib();
    let serial = DELAY * TARGETS as u32;

    let mut startup: Vec<Duration> = (0..50)
        .map(|_| {
            let t = Instant::now();
            let ok = Command::new(bin)
                .arg("--version")
                .output()
                .expect("version")
                .status
                .success();
            assert!(ok);
            t.elapsed()
        })
        .collect();
    startup.sort();

    println!(
        "apply_100: one token into {TARGETS} CI/CD variables, {} ms added to every answer",
        DELAY.as_millis()
    );
    println!(
        "  wall time          {:>8.1} ms",
        wall.as_secs_f64() * 1000.0
    );
    println!(
        "  one-at-a-time      {:>8.1} ms  ({TARGETS} x {} ms)",
        serial.as_secs_f64() * 1000.0,
        DELAY.as_millis()
    );
    println!(
        "  ratio              {:>8.3}     (target <= 0.25)",
        wall.as_secs_f64() / serial.as_secs_f64()
    );
    println!(
        "  requests           {requests:>8}     ({:.2} per target; target <= 3)",
        requests as f64 / TARGETS as f64
    );
    println!(
        "  peak memory        {:>8.1} MB  (target < 50 MB)",
        rss as f64 / 1024.0
    );
    println!(
        "  `tokrot --version` {:>8.2} ms  (median of 50)",
        startup[25].as_secs_f64() * 1000.0
    );
}
