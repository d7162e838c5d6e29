//! A broken runbook is refused with its file, line, column and what to change, and every
//! command exits 2 until it is fixed: it is never silently skipped.

use crate::common::{Env, fixture, stderr};

/// (fixture, line:column, what the message says, what the help says)
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "toml-syntax",
        "10:22",
        "invalid basic string",
        "the runbook format is described in runbooks/README.md",
    ),
    (
        "unknown-step-kind",
        "13:8",
        "unknown step kind `script`",
        "use `manual`, `capture`, `gate` or `action`",
    ),
    (
        "unknown-action",
        "11:10",
        "unknown action `gitlab.rotate_personal_tokn`",
        "did you mean `gitlab.rotate_personal_token`",
    ),
    (
        "missing-field",
        "8:1",
        "missing field `title`",
        "add the field",
    ),
    (
        "secret-in-text",
        "17:19",
        "`{secret.token}` would put a secret into text",
        "a secret only goes into an action argument that takes one",
    ),
    (
        "secret-in-plain-argument",
        "24:54",
        "argument `description` of `gitlab.create_trigger` does not take a secret",
        "this action takes no secret",
    ),
    (
        "unknown-field",
        "11:1",
        "unknown field `colour`",
        "remove or rename it",
    ),
    (
        "unknown-parameter",
        "10:15",
        "`{param.projcet}` names no parameter",
        "declared parameters",
    ),
    (
        "misplaced-field",
        "11:10",
        "`action` does not belong in a manual step",
        "a manual step takes",
    ),
    (
        "no-stash",
        "1:1",
        "has no `tokrot.stash` step after the step that makes the new token",
        "add a step with action = \"tokrot.stash\"",
    ),
    (
        "one-shot-outside-rotation",
        "1:1",
        "`gitlab.create_trigger` makes a new token and belongs in a rotate runbook",
        "only a rotation keeps a new token in the keyring",
    ),
];

#[test]
fn each_kind_of_broken_runbook_is_located_and_explained() {
    let env = Env::new();
    for (case, at, message, help) in CASES {
        let dir = fixture(&format!("bad/{case}"));
        let out = env
            .tokrot()
            .arg("--runbooks")
            .arg(&dir)
            .arg("list")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{case}");
        let err = stderr(&out);
        let file = dir.join("broken.toml");
        let located = format!("{}:{at}: ", file.display());
        assert!(
            err.contains(&located),
            "{case}: expected `{located}` in\n{err}"
        );
        assert!(
            err.contains(message),
            "{case}: expected `{message}` in\n{err}"
        );
        assert!(
            err.contains(&format!("help: {help}")),
            "{case}: expected help `{help}` in\n{err}"
        );
        assert!(out.stdout.is_empty(), "{case}: nothing is listed");
    }
}

#[test]
fn a_broken_runbook_stops_every_command() {
    let env = Env::new();
    let dir = fixture("bad/unknown-action");
    for args in [
        vec!["list"],
        vec!["instances"],
        vec!["show", "gitlab-pat"],
        vec!["rotate", "zendesk-api", "--instance", "global", "--dry-run"],
    ] {
        let out = env
            .tokrot()
            .arg("--runbooks")
            .arg(&dir)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains("unknown action"), "{args:?}");
    }
    // The completion script and the manual read no runbook: they are still there to help.
    for args in [vec!["completions", "bash"], vec!["man"]] {
        let out = env
            .tokrot()
            .arg("--runbooks")
            .arg(&dir)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
}

#[test]
fn a_missing_runbooks_dir_is_an_error() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args(["--runbooks", "/nonexistent/runbooks", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read the runbooks directory /nonexistent/runbooks"));
}
