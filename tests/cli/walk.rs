//! The walk, through a real pseudo-terminal: confirmations, gates, hidden captures, the gate
//! stop (exit 4) with its clean-up; and the errors without a terminal or with --yes.

use crate::common::{Env, Pty, fixture, stderr, stdout};

#[test]
fn a_confirmed_walk_of_the_oauth_integration_is_done() {
    let env = Env::new();
    let mut pty = Pty::spawn(
        &env,
        &["run", "zendesk-oauth-integration", "--instance", "global"],
    );
    pty.answer("Zendesk Global? [y/n]", "y");
    pty.answer("Done? [y/n]", "y"); // remove Okta
    pty.answer("Done? [y/n]", "y"); // log in
    pty.answer("Done? [y/n]", "y"); // start the flow
    pty.answer("request? [y/n]", "y");
    pty.answer("Done? [y/n]", "y"); // allow
    pty.answer("Done? [y/n]", "y"); // log out
    pty.answer("Done? [y/n]", "y"); // restore Okta
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    // Lines are fitted to the terminal: the words, whatever the breaks.
    let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Done: all 8 steps of zendesk-oauth-integration (run "),
        "{screen}"
    );
    assert!(
        screen.contains("https://gitlab.zendesk.com/admin/people/team/members"),
        "{screen}"
    );
}

#[test]
fn the_scope_gate_stops_with_exit_4_and_the_okta_requirement_is_still_restored() {
    let env = Env::new();
    let mut pty = Pty::spawn(
        &env,
        &["run", "zendesk-oauth-integration", "--instance", "us-gov"],
    );
    pty.answer("Zendesk US Government? [y/n]", "y");
    pty.answer("Done? [y/n]", "y");
    pty.answer("Done? [y/n]", "y");
    pty.answer("Done? [y/n]", "y");
    pty.answer("request? [y/n]", "n");
    pty.expect("Clean-up steps still to do");
    pty.answer("Done? [y/n]", "y"); // log out
    pty.expect("Restore the Okta login requirement");
    pty.answer("Done? [y/n]", "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 4, "{screen}");
    assert!(
        screen.contains("Stopped at step 5 (Check the requested scopes)"),
        "{screen}"
    );
    assert!(screen.contains("STOP"), "{screen}");
    assert!(
        screen.contains("Not done:\r\n  6. Allow the authorization"),
        "{screen}"
    );
    assert!(
        screen.contains(
            "Clean-up done:\r\n  7. Log out as the integration user\r\n  8. Restore the Okta"
        ),
        "{screen}"
    );
}

#[test]
fn a_pasted_token_is_never_echoed() {
    let env = Env::new();
    let canary = "glpat-CANARY-7f3a9c1e55d0b2";
    let dir = fixture("override");
    let dir = dir.to_str().unwrap();
    let mut pty = Pty::spawn(&env, &["--runbooks", dir, "run", "capture-demo"]);
    pty.answer("Done? [y/n]", "y");
    pty.answer("The token (hidden)", &format!("{canary}\r"));
    pty.answer("Did the paste go well? [y/n]", "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains(&format!("captured ({} characters, hidden)", canary.len())),
        "{screen}"
    );
    assert!(!screen.contains(canary), "the token was shown:\n{screen}");
    assert!(
        !screen.contains("CANARY"),
        "part of the token was shown:\n{screen}"
    );
}

#[test]
fn without_a_terminal_the_error_names_the_flags() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args(["run", "zendesk-oauth-integration", "--instance", "global"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("there is no terminal to ask on"), "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = env
        .tokrot()
        .args(["run", "zendesk-oauth-integration"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("missing --instance (Zendesk instance)"),
        "{err}"
    );

    let dir = fixture("override");
    let out = env
        .tokrot()
        .arg("--runbooks")
        .arg(&dir)
        .args(["run", "capture-demo"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--token-stdin"), "{}", stderr(&out));
}

#[test]
fn yes_with_a_missing_value_names_the_flag() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args(["run", "zendesk-oauth-integration", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("missing --instance"), "{err}");
    assert!(err.contains("--yes asks for nothing"), "{err}");
    assert!(err.contains("hint: pass --instance"), "{err}");
}

#[test]
fn yes_confirms_but_never_passes_a_gate_only_approve_does_and_it_is_kept() {
    let env = Env::new();
    let args = [
        "run",
        "zendesk-oauth-integration",
        "--instance",
        "global",
        "--yes",
        "--output",
        "json",
    ];
    let refused = env.tokrot().args(args).output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains("gate `access-request` needs a human decision"),
        "{err}"
    );
    assert!(err.contains("--approve access-request=EVIDENCE"), "{err}");
    assert!(
        !env.path().join(".local/state/tokrot/rotations").exists(),
        "refused before it started"
    );

    // One gate approved is not enough: the other is still a human's.
    let one = env
        .tokrot()
        .args(args)
        .args(["--approve", "access-request=https://access.example/1"])
        .output()
        .unwrap();
    assert_eq!(one.status.code(), Some(2), "{}", stderr(&one));
    assert!(
        stderr(&one).contains("gate `scopes-approved`"),
        "{}",
        stderr(&one)
    );
    let typo = env
        .tokrot()
        .args(args)
        .args(["--approve", "scopes-aproved"])
        .output()
        .unwrap();
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        stderr(&typo).contains("its gates: access-request, scopes-approved"),
        "{}",
        stderr(&typo)
    );

    let out = env
        .tokrot()
        .env("USER", "alice")
        .args(args)
        .args([
            "--approve",
            "access-request=https://access.example/1",
            "--approve",
            "scopes-approved=https://access.example/1#scopes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = crate::common::json_doc(&out);
    assert_eq!(v["status"], "done");
    assert_eq!(v["steps"].as_array().unwrap().len(), 8);
    let audit =
        std::fs::read_to_string(env.path().join(".local/state/tokrot/audit.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(line["runbook"], "zendesk-oauth-integration");
    assert_eq!(line["approvals"][1]["gate"], "scopes-approved");
    assert_eq!(
        line["approvals"][1]["evidence"],
        "https://access.example/1#scopes"
    );
    // Who approved is the process's user, not what $USER claims ("alice").
    let me = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    assert_eq!(
        line["approvals"][1]["by"],
        String::from_utf8_lossy(&me.stdout).trim()
    );
    // The manual steps say who confirmed them.
    let dir = env.path().join(".local/state/tokrot/rotations");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let journal: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let okta = &journal["steps"][1];
    assert!(
        okta["title"].as_str().unwrap().contains("Remove the Okta"),
        "{journal}"
    );
    assert_eq!(okta["message"], "confirmed by --yes, not by a person");
    assert_eq!(
        journal["steps"][0]["message"],
        format!(
            "approved with --approve by {}",
            String::from_utf8_lossy(&me.stdout).trim()
        )
    );
    let history = env.tokrot().arg("history").output().unwrap();
    assert!(
        stdout(&history).contains("zendesk-oauth-integration"),
        "a checklist run is in the history: {}",
        stdout(&history)
    );
}

#[test]
fn yes_reads_a_capture_from_stdin_and_never_shows_it() {
    let env = Env::new();
    let canary = "zd-CANARY-4b1c9e02aa";
    let dir = fixture("override");
    let out = env
        .tokrot()
        .arg("--runbooks")
        .arg(&dir)
        .args([
            "run",
            "capture-demo",
            "--yes",
            "--approve",
            "paste-ok",
            "--token-stdin",
            "-v",
        ])
        .write_stdin(format!("{canary}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("captured (20 characters, hidden)"),
        "{}",
        stderr(&out)
    );
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains("CANARY"), "{text}");
    }
    for f in env.files() {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains("CANARY"), "{}: {text}", f.display());
    }

    let out = env
        .tokrot()
        .arg("--runbooks")
        .arg(&dir)
        .args(["run", "capture-demo", "--yes", "--token-stdin"])
        .write_stdin("\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("stdin has no token"));

    let out = env
        .tokrot()
        .arg("--runbooks")
        .arg(&dir)
        .args(["run", "capture-demo", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("pass the token on stdin with --token-stdin"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn approve_evidence_is_one_line_of_text_never_a_token() {
    let env = Env::new();
    let held = "Xq7vCANARYwk01zzT";
    let args = [
        "run",
        "zendesk-oauth-integration",
        "--instance",
        "global",
        "--yes",
        "--approve",
        "scopes-approved=https://access.example/1",
    ];
    let pasted = "glpat-PASTED-CANARY-wk02";
    for (evidence, said) in [
        (format!("access-request={pasted}"), "looks like a token"),
        (
            "access-request=https://access.example/1\nscopes-approved by mallory".to_owned(),
            "line break",
        ),
        (
            format!("access-request={}", "x".repeat(513)),
            "longer than 512",
        ),
        // A token pasted where the gate id goes is refused without being repeated.
        (pasted.to_owned(), "a gate id is lower-case letters"),
        (
            format!("access-request=https://access.example/{held}"),
            "holds a credential tokrot is given",
        ),
    ] {
        let out = env
            .tokrot()
            .env("GITLAB_TOKEN", held)
            .args(args)
            .args(["--approve", &evidence])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(said), "{said}: {}", stderr(&out));
        crate::common::scan(&env, &[&out], &[pasted, held]);
    }
    // Nothing started: no journal, no audit line, no history.
    assert!(!env.path().join(".local/state/tokrot").exists());
}
