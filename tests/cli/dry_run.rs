//! `--dry-run`: the resolved checklist and the calls a run would make, with no credentials, no
//! network and nothing changed.

use crate::common::{Env, Tripwire, stderr, stdout};

#[test]
fn zendesk_api_dry_run_needs_nothing_and_shows_the_retirement() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args(["rotate", "zendesk-api", "--instance", "global", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("https://gitlab.zendesk.com/admin"), "{text}");
    assert!(
        !text.contains("gitlab1707170878"),
        "only the chosen instance's links"
    );
    // Zendesk's own deadlines for API tokens, fixed dates of the vendor's, not of the clock.
    assert!(text.contains("2026-10-27") && text.contains("2027-04-30"));
    assert!(text.contains("tokrot rotate zendesk-oauth --instance global"));
    let add = text.find("Add API token").unwrap();
    let delete = text.find("Delete the old token").unwrap();
    assert!(
        add < delete,
        "the new token is added before the old one is deleted"
    );
    assert!(text.contains("GET https://gitlab.zendesk.com/api/v2/users/me"));
    assert!(
        env.files().is_empty(),
        "a dry run writes nothing: {:?}",
        env.files()
    );
}

#[test]
fn another_instance_shows_its_own_url() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args([
            "rotate",
            "zendesk-api",
            "--instance",
            "us-gov-sandbox",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("https://gitlabfederalsupport1585318082.zendesk.com/admin"));
    assert!(!text.contains("https://gitlab.zendesk.com"));
}

#[test]
fn an_unknown_instance_lists_the_known_ones() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args([
            "rotate",
            "zendesk-api",
            "--instance",
            "staging",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown Zendesk instance `staging`"), "{err}");
    assert!(
        err.contains("global, global-sandbox, us-gov, us-gov-sandbox"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn gitlab_pat_dry_run_lists_the_rotate_call_and_the_variable_update_and_connects_nowhere() {
    let env = Env::new();
    let wire = Tripwire::new();
    let out = env
        .tokrot()
        .args([
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--apply-to",
            "gitlab-ci-var:grp/proj:API_TOKEN",
            "--dry-run",
        ])
        .args(["--gitlab-url", &wire.url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let base = format!("{}/api/v4", wire.url());
    let rotate = text
        .find(&format!("POST {base}/personal_access_tokens/42/rotate"))
        .expect("rotate call");
    let check = text
        .find(&format!(
            "GET {base}/projects/grp%2Fproj/variables/API_TOKEN?filter[environment_scope]=*"
        ))
        .expect("variable check");
    let update = text
        .find(&format!(
            "PUT {base}/projects/grp%2Fproj/variables/API_TOKEN?filter[environment_scope]=*"
        ))
        .expect("variable update");
    assert!(
        check < rotate && rotate < update,
        "targets are checked before the rotate call, written after"
    );
    assert!(text.contains("sends value=(the new token)"));
    assert!(text.contains(
        "gitlab-ci-var:grp/proj:API_TOKEN  CI/CD variable API_TOKEN of project grp/proj (scope *)"
    ));
    assert!(text.contains("The read-only checks were not run"), "{text}");
    assert!(
        !wire.tripped(),
        "without credentials a dry run makes no connection"
    );
    assert!(env.files().is_empty());
}

#[test]
fn dry_run_json_is_the_report() {
    let env = Env::new();
    // An expiry an operator would give: ahead of today, whatever today is.
    let expires = crate::common::day(200);
    let out = env
        .tokrot()
        .args([
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--expires-at",
            &expires,
        ])
        .args([
            "--apply-to",
            "gitlab-ci-var:grp/proj:API_TOKEN",
            "--apply-to",
            "gitlab-webhook:grp/proj:7",
        ])
        .args(["--dry-run", "--output", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = crate::common::json_doc(&out);
    assert_eq!(v["status"], "dry-run");
    assert_eq!(v["runbook"], "gitlab-pat");
    assert_eq!(v["rotation_id"], serde_json::Value::Null);
    assert_eq!(v["source"]["kind"], "gitlab-pat");
    assert_eq!(v["source"]["id"], 42);
    assert_eq!(v["source"]["expires_at"], expires.as_str());
    let targets = v["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0]["spec"], "gitlab-ci-var:grp/proj:API_TOKEN");
    assert_eq!(targets[0]["status"], "pending");
    let calls: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["call"].as_str())
        .collect();
    assert!(calls.contains(&"POST https://gitlab.com/api/v4/personal_access_tokens/42/rotate"));
    assert!(calls.contains(&"PUT https://gitlab.com/api/v4/projects/grp%2Fproj/hooks/7"));
    let rotate = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"] == "gitlab.rotate_personal_token")
        .unwrap();
    assert_eq!(rotate["sends"][0], format!("expires_at={expires}"));
}

#[test]
fn missing_values_are_placeholders_in_a_dry_run_and_named_at_the_end() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args(["rotate", "gitlab-project-token", "--dry-run"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "POST https://gitlab.com/api/v4/projects/<project>/access_tokens/<token-id>/rotate"
        ),
        "{text}"
    );
    assert!(text.contains("A run also needs:"));
    assert!(text.contains("--project"));
    assert!(text.contains("--token-id or --token-name"));
}

#[test]
fn trigger_for_a_zendesk_webhook_is_named_by_its_admin_center_link() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args([
            "rotate",
            "gitlab-trigger",
            "--project",
            "grp/proj",
            "--trigger-id",
            "9",
        ])
        .args(["--for", "zendesk-webhook:global:01EJFTSCC78X5V07NPY2MHR00M"])
        .args([
            "--apply-to",
            "zendesk-webhook:global:01EJFTSCC78X5V07NPY2MHR00M",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let link = "https://gitlab.zendesk.com/admin/apps-integrations/webhooks/webhooks/01EJFTSCC78X5V07NPY2MHR00M/details";
    assert!(
        text.contains(&format!("sends description={link}")),
        "{text}"
    );
    let create = text
        .find("POST https://gitlab.com/api/v4/projects/grp%2Fproj/triggers")
        .unwrap();
    let patch = text
        .find("PATCH https://gitlab.zendesk.com/api/v2/webhooks/01EJFTSCC78X5V07NPY2MHR00M")
        .unwrap();
    let delete = text
        .find("DELETE https://gitlab.com/api/v4/projects/grp%2Fproj/triggers/9")
        .unwrap();
    assert!(
        create < patch && patch < delete,
        "new trigger, then the webhook, then the old trigger goes"
    );
}

#[test]
fn a_zendesk_run_without_a_credential_stops_before_any_call() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args([
            "rotate",
            "zendesk-oauth",
            "--instance",
            "global",
            "--client-id",
            "5",
            "--yes",
        ])
        .env("ZENDESK_EMAIL", "ops@example.com")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("calls the Zendesk API of `global` and no Zendesk credential is set for it; nothing was changed"),
        "{err}"
    );
    assert!(
        err.contains("ZENDESK_OAUTH_TOKEN, or ZENDESK_EMAIL and ZENDESK_API_TOKEN"),
        "{err}"
    );
}

#[test]
fn a_gitlab_run_without_a_credential_stops_before_any_call() {
    let env = Env::new();
    let wire = Tripwire::new();
    let out = env
        .tokrot()
        .args([
            "rotate",
            "gitlab-pat",
            "--token-id",
            "42",
            "--yes",
            "--gitlab-url",
            &wire.url(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no GitLab credential belongs to it; nothing was changed"),
        "{err}"
    );
    assert!(!wire.tripped());
}
