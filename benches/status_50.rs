//! `tokrot status` over an inventory of 50 credentials (project access tokens) on 20 projects,
//! against a local GitLab that adds 20 ms to every answer: wall time against the requests it
//! strictly needs, one after another, divided by the concurrency (8).
//!
//! Run with `cargo bench --bench status_50`. Figure to reach (README): at most 2 × that.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

mod common;

use std::time::Instant;

const CREDENTIALS: usize = 50;
const PROJECTS: usize = 20;
const CONCURRENCY: usize = 8;

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(common::gitlab());
    let home = tempfile::tempdir().unwrap();
    let mut inventory = String::from("[defaults]\nrotate_before_days = 14\n");
    for i in 0..CREDENTIALS {
        let p = i % PROJECTS;
        inventory.push_str(&format!(
            "\n[[credential]]\nname = \"c{i}\"\nrunbook = \"gitlab-project-token\"\nparams = {{ project = \"bench/p{p}\", token_id = \"{}\" }}\ntargets = [\"gitlab-ci-var:bench/p{p}:K{i}\"]\n",
            1000 + i
        ));
    }
    let file = home.path().join("tokrot.toml");
    std::fs::write(&file, inventory).unwrap();
    let mut best = f64::MAX;
    let mut requests = 0;
    for _ in 0..5 {
        let before = rt
            .block_on(server.received_requests())
            .unwrap_or_default()
            .len();
        let started = Instant::now();
        let out = common::tokrot(home.path(), &server)
            .arg("--inventory")
            .arg(&file)
            .args([
                "--concurrency",
                &CONCURRENCY.to_string(),
                "status",
                "--output",
                "json",
            ])
            .output()
            .unwrap();
        best = best.min(started.elapsed().as_secs_f64());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        requests = rt
            .block_on(server.received_requests())
            .unwrap_or_default()
            .len()
            - before;
    }
    // Every request is a round trip that must be made: one per credential, and the three
    // lists of each project and of the caller.
    let needed = requests as f64 * common::DELAY.as_secs_f64() / CONCURRENCY as f64;
    println!("status_50: {CREDENTIALS} credentials on {PROJECTS} projects, {requests} requests");
    println!(
        "  wall time (best of 5): {:.0} ms; strictly needed at concurrency {CONCURRENCY}: {:.0} ms; ratio {:.2} (goal ≤ 2)",
        best * 1000.0,
        needed * 1000.0,
        best / needed
    );
}
