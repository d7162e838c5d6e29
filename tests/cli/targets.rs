//! `--apply-to` specs: every form is accepted and shown, every bad one says the right form.

use crate::common::{Env, stderr, stdout};

#[test]
fn every_form_is_accepted_and_resolved_to_its_calls() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args(["rotate", "gitlab-pat", "--token-id", "42", "--dry-run"])
        .args(["--apply-to", "gitlab-ci-var:grp/proj:API_TOKEN"])
        .args(["--apply-to", "gitlab-ci-var:17:DEPLOY_TOKEN@production"])
        .args([
            "--apply-to",
            "gitlab-group-ci-var:grp/sub:GROUP_TOKEN@review/*",
        ])
        .args(["--apply-to", "gitlab-webhook:grp/proj:7"])
        .args(["--apply-to", "zendesk-app:global:360001:api_token"])
        .args([
            "--apply-to",
            "zendesk-webhook:us-gov:01EJFTSCC78X5V07NPY2MHR00M",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for call in [
        "PUT https://gitlab.com/api/v4/projects/grp%2Fproj/variables/API_TOKEN?filter[environment_scope]=*",
        "PUT https://gitlab.com/api/v4/projects/17/variables/DEPLOY_TOKEN?filter[environment_scope]=production",
        "PUT https://gitlab.com/api/v4/groups/grp%2Fsub/variables/GROUP_TOKEN?filter[environment_scope]=review/*",
        "PUT https://gitlab.com/api/v4/projects/grp%2Fproj/hooks/7",
        "PUT https://gitlab.zendesk.com/api/v2/apps/installations/360001.json",
        "PATCH https://gitlab-federal-support.zendesk.com/api/v2/webhooks/01EJFTSCC78X5V07NPY2MHR00M",
    ] {
        assert!(text.contains(call), "missing {call}\n{text}");
    }
    assert!(text.contains("sends setting=api_token, value=(the new token)"));
}

#[test]
fn each_bad_form_is_refused_with_the_right_form() {
    let env = Env::new();
    for (spec, reason, form) in [
        (
            "gitlab-ci-var:grp/proj",
            "needs 2 non-empty part(s)",
            "gitlab-ci-var:PROJECT:KEY[@SCOPE]",
        ),
        (
            "gitlab-ci-var:grp/proj:API-TOKEN",
            "variable key `API-TOKEN`",
            "gitlab-ci-var:PROJECT:KEY[@SCOPE]",
        ),
        (
            "gitlab-group-ci-var:grp:KEY@",
            "scope after `@` is empty",
            "gitlab-group-ci-var:GROUP:KEY[@SCOPE]",
        ),
        (
            "gitlab-webhook:grp/proj:seven",
            "hook id `seven` must be a number",
            "gitlab-webhook:PROJECT:HOOK_ID",
        ),
        (
            "zendesk-app:global:360001",
            "needs 3 non-empty part(s)",
            "zendesk-app:INSTANCE:INSTALLATION_ID:SETTING",
        ),
        (
            "zendesk-webhook:global:01EJ/../x",
            "webhook id",
            "zendesk-webhook:INSTANCE:WEBHOOK_ID",
        ),
        (
            "slack-channel:ops",
            "unknown target kind `slack-channel`",
            "gitlab-ci-var:PROJECT:KEY[@SCOPE]",
        ),
    ] {
        let out = env
            .tokrot()
            .args([
                "rotate",
                "gitlab-pat",
                "--token-id",
                "1",
                "--dry-run",
                "--apply-to",
                spec,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{spec}");
        let err = stderr(&out);
        assert!(err.contains(reason), "{spec}: {err}");
        assert!(err.contains(form), "{spec}: {err}");
    }
}

#[test]
fn a_target_on_an_unknown_instance_is_refused() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args([
            "rotate",
            "gitlab-pat",
            "--token-id",
            "1",
            "--dry-run",
            "--apply-to",
            "zendesk-app:nowhere:1:x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown Zendesk instance `nowhere`"));
}

#[test]
fn bad_flag_values_name_the_flag() {
    let env = Env::new();
    for (args, expected) in [
        (
            vec!["rotate", "gitlab-pat", "--token-id", "forty-two"],
            "--token-id `forty-two`: must be a token id",
        ),
        (
            vec![
                "rotate",
                "gitlab-pat",
                "--token-id",
                "1",
                "--expires-at",
                "31/12/2027",
            ],
            "--expires-at `31/12/2027`: must be a date written YYYY-MM-DD",
        ),
        (
            vec![
                "rotate",
                "gitlab-trigger",
                "--project",
                "a b",
                "--trigger-id",
                "1",
            ],
            "--project `a b`: must be a numeric id or a path",
        ),
        (
            vec![
                "rotate",
                "gitlab-trigger",
                "--project",
                "p",
                "--trigger-id",
                "1",
                "--for",
                "slack:x",
            ],
            "--for `slack:x`: unknown kind `slack`",
        ),
        (
            vec![
                "rotate",
                "gitlab-pat",
                "--token-name",
                "x",
                "--param",
                "token_id=1",
            ],
            "give only one of --token-id, --token-name",
        ),
        (
            vec!["rotate", "gitlab-pat", "--param", "colour=red"],
            "runbook `gitlab-pat` has no parameter `colour`",
        ),
    ] {
        let out = env.tokrot().args(&args).arg("--dry-run").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn apply_to_only_goes_with_rotate() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args([
            "run",
            "zendesk-oauth-integration",
            "--instance",
            "global",
            "--dry-run",
            "--apply-to",
            "gitlab-webhook:p:1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--apply-to only goes with `tokrot rotate`"));
}

#[test]
fn concurrency_is_bounded_to_a_sane_range() {
    let env = Env::new();
    for bad in ["0", "65", "many"] {
        let out = env
            .tokrot()
            .args(["--concurrency", bad, "list"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains("--concurrency"), "{}", stderr(&out));
    }
    let out = env
        .tokrot()
        .env("TOKROT_CONCURRENCY", "16")
        .arg("list")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
