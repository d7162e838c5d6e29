//! `tokrot rotate --due --yes` over 20 due credentials with 5 targets each, against a local
//! GitLab that adds 20 ms to every answer, and the same 20 rotations run one after another
//! (`rotate --credential NAME --yes` each): the ratio of the two wall times.
//!
//! Run with `cargo bench --bench due_20`. Figure to reach (README): ratio ≤ 0.3.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

mod common;

use std::time::Instant;

const CREDENTIALS: usize = 20;
const TARGETS: usize = 5;

fn inventory() -> String {
    let mut text = String::from("[defaults]\nrotate_before_days = 14\n");
    for i in 0..CREDENTIALS {
        let targets: Vec<String> = (0..TARGETS)
            .map(|k| format!("\"gitlab-ci-var:bench/p{i}:K{k}\""))
            .collect();
        text.push_str(&format!(
            "\n[[credential]]\nname = \"c{i}\"\nrunbook = \"gitlab-pat\"\nparams = {{ token_id = \"{}\" }}\ntargets = [{}]\n",
            2000 + i,
            targets.join(", ")
        ));
    }
    text
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(common::gitlab());
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("tokrot.toml");

    std::fs::write(&file, inventory()).unwrap();
    let started = Instant::now();
    for i in 0..CREDENTIALS {
        let out = common::tokrot(home.path(), &server)
            .arg("--inventory")
            .arg(&file)
            .args(["--yes", "rotate", "--credential", &format!("c{i}")])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let one_by_one = started.elapsed().as_secs_f64();

    std::fs::write(&file, inventory()).unwrap();
    let started = Instant::now();
    let out = common::tokrot(home.path(), &server)
        .arg("--inventory")
        .arg(&file)
        .args(["--yes", "rotate", "--due"])
        .output()
        .unwrap();
    let batch = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated = String::from_utf8_lossy(&out.stdout)
        .matches("done ")
        .count();
    assert_eq!(
        rotated,
        CREDENTIALS,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    println!("due_20: {CREDENTIALS} due credentials, {TARGETS} targets each");
    println!("  one after another: {:.2} s", one_by_one);
    println!(
        "  rotate --due: {:.2} s; ratio {:.2} (goal ≤ 0.3)",
        batch,
        batch / one_by_one
    );
}
