//! `list`, `show`, `completions` and overrides: every runbook is there, loads and renders.

use crate::common::{Env, IDS, fixture, stderr, stdout};

#[test]
fn list_shows_every_runbook_in_the_handbook_order() {
    let env = Env::new();
    let out = env.tokrot().arg("list").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let ids: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(ids, IDS);
    // Piped: tab-separated full values, a runbook a line.
    assert!(stdout(&out).contains(
        "zendesk-oauth-integration\tchecklist\tIntegrate a new OAuth application into Zendesk"
    ));
}

#[test]
fn list_json_parses_and_names_kind_and_service() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args(["list", "--output", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = crate::common::json_doc(&out);
    let items = v["runbooks"].as_array().unwrap();
    assert_eq!(items.len(), IDS.len());
    let pat = items.iter().find(|i| i["id"] == "gitlab-pat").unwrap();
    assert_eq!(pat["kind"], "rotate");
    assert_eq!(pat["service"], "gitlab");
    assert_eq!(pat["origin"], "embedded");
}

#[test]
fn every_runbook_shows_its_numbered_checklist() {
    let env = Env::new();
    for id in IDS {
        let out = env.tokrot().args(["show", id]).output().unwrap();
        assert!(out.status.success(), "{id}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains(&format!("runbook {id} (")), "{id}");
        let numbers: Vec<usize> = text
            .lines()
            .filter_map(|l| {
                l.trim_start()
                    .split_once(". [")
                    .and_then(|(n, _)| n.parse().ok())
            })
            .collect();
        assert!(!numbers.is_empty(), "{id}: no numbered steps");
        assert_eq!(
            numbers,
            (1..=numbers.len()).collect::<Vec<_>>(),
            "{id}: steps numbered 1..n"
        );
        insta::assert_snapshot!(format!("show-{id}"), text);
    }
}

#[test]
fn every_runbook_shows_as_json() {
    let env = Env::new();
    for id in IDS {
        let out = env
            .tokrot()
            .args(["show", id, "--output", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{id}");
        let v: serde_json::Value = crate::common::json_doc(&out);
        assert_eq!(v["id"], id);
        let steps = v["steps"].as_array().unwrap();
        assert!(!steps.is_empty());
        for (i, s) in steps.iter().enumerate() {
            assert_eq!(s["n"], i + 1, "{id}");
            assert!(["manual", "action", "capture", "gate"].contains(&s["kind"].as_str().unwrap()));
        }
    }
}

/// Every step of the handbook page, by runbook, in the page's order unless PROCEDURES.md says
/// why not (the `false` rows).
const HANDBOOK: &[(&str, bool, &[&str])] = &[
    (
        "zendesk-api",
        false,
        &[
            "Navigate to the admin panel for the Zendesk instance in question",
            "Go to the Zendesk API option on the sidebar (under Apps and integrations > APIs)",
            "Locate the existing entry for the token and delete it",
            "Click the `Add API token` button at the top-right of the page",
            "Enter an appropriate name (normally the link to the project using it)",
            "Copy the API token generated",
            "Put the token into place where needed",
        ],
    ),
    (
        "gitlab-pat",
        true,
        &[
            "Login to the gitlab.com user the token will be created from",
            "Navigate to the personal access tokens page",
            "Sort through the list of existing tokens to locate the one you need to rotate",
            "Click the swirling arrows (if you hover over it, it says `Rotate`) next to the correct token",
            "Copy the API token generated",
            "Put the token into place where needed",
        ],
    ),
    (
        "gitlab-project-token",
        true,
        &[
            "Navigate to the project itself",
            "Go to the `Access tokens` page (under Settings)",
            "Sort through the list of existing tokens to locate the one you need to rotate",
            "Click the swirling arrows",
            "Copy the API token generated",
            "Put the token into place where needed",
        ],
    ),
    (
        "gitlab-trigger",
        false,
        &[
            "Login to the gitlab.com user the token will be created by",
            "Navigate to the project itself",
            "Go to the `CI/CD` page (under Settings)",
            "Expand the `Pipeline trigger tokens` section",
            "Sort through the list of existing tokens to locate the one you need to rotate",
            "Delete the existing token",
            "Click the `Add new token` button",
            "Enter an appropriate name",
            "Copy the API token generated",
            "Put the token into place where needed",
        ],
    ),
    (
        "gitlab-trigger-bot",
        true,
        &[
            "Create a project access token for the project in question",
            "Make note of the project's ID number",
            "Use that API token to create a pipeline trigger token via the gitlab.com API",
            "APPROPRIATE_DESCRIPTION_HERE is an appropriate description",
            "Copy the API token generated",
            "Put the token into place where needed",
        ],
    ),
    (
        "zendesk-app",
        true,
        &[
            "Navigate to the admin panel for the Zendesk instance in question",
            "Go to the Zendesk Support apps option on the sidebar (under Apps and integrations > Apps)",
            "Locate the app in question and click on it",
            "Locate the field that needs the API token in question",
            "Put the token into that field (NOTE: Do not populate or edit any other fields)",
            "Click the blue `Update` button at the bottom of the page",
        ],
    ),
    (
        "zendesk-webhook",
        true,
        &[
            "Navigate to the admin panel for the Zendesk instance in question",
            "Go to the Webhooks option on the sidebar (under Apps and integrations > Actions and webhooks)",
            "Locate the webhook in question",
            "Click the 3 vertical dots to the far-right of the webhook in question",
            "Click the `Edit` option",
            "Click the `Next` link at the bottom-right of the page",
            "Replace the old token with the new token where needed",
            "Click the blue `Update` button at the bottom-right of the page",
        ],
    ),
    (
        "gitlab-ci-var",
        true,
        &[
            "Navigate to the project itself",
            "Go to the `CI/CD` page (under Settings)",
            "Expand the `Variables` section",
            "Sort through the list of existing variables to locate the one you need to replace",
            "Click the pencil icon at the far-right of the variable",
            "Put the new token in the `Value` field",
            "Click the blue `Save changes` button",
        ],
    ),
    (
        "gitlab-webhook",
        true,
        &[
            "Navigate to the project itself",
            "Go to the `Webhooks` page (under Settings)",
            "Locate the webhook in question and copy all relevant information from it",
            "Delete the webhook in question",
            "Re-create the webhook using the relevant information and the new token",
        ],
    ),
    (
        "zendesk-oauth-integration",
        true,
        &[
            "Adding an OAuth integration requires Owner access to Zendesk.",
            "After an access request is approved",
            "Remove the Okta login requirement for the integration user",
            "Log in as the integration user",
            "Perform the OAuth flow as directed by the application.",
            "Verify the scopes requested are documented and approved in the access request. If they are not, STOP.",
            "Log out as the integration user",
            "Restore Okta login requirements for the integration user.",
        ],
    ),
];

#[test]
fn every_handbook_step_is_in_its_runbook_in_order() {
    let env = Env::new();
    for (id, ordered, steps) in HANDBOOK {
        let out = env.tokrot().args(["show", id]).output().unwrap();
        let text = stdout(&out);
        let mut last = 0;
        for step in *steps {
            let at = text
                .find(step)
                .unwrap_or_else(|| panic!("{id}: handbook step missing: {step}\n{text}"));
            if *ordered {
                assert!(at >= last, "{id}: `{step}` is out of the handbook's order");
            }
            last = at;
        }
    }
}

#[test]
fn zendesk_api_adds_the_new_token_before_deleting_the_old_one() {
    let env = Env::new();
    let text = stdout(&env.tokrot().args(["show", "zendesk-api"]).output().unwrap());
    let add = text.find("Click `Add API token`").unwrap();
    let capture = text.find("[capture] Paste the new token").unwrap();
    let apply = text.find("Put the new token into every target").unwrap();
    let delete = text.find("[manual] Delete the old token").unwrap();
    assert!(add < capture && capture < apply && apply < delete);
    for link in [
        "https://gitlab.zendesk.com/admin",
        "https://gitlab1707170878.zendesk.com/admin",
        "https://gitlab-federal-support.zendesk.com/admin",
        "https://gitlabfederalsupport1585318082.zendesk.com/admin",
    ] {
        assert!(text.contains(link), "{link}");
    }
}

#[test]
fn show_unknown_runbook_suggests_the_closest() {
    let env = Env::new();
    let out = env.tokrot().args(["show", "gitlab-pta"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown runbook `gitlab-pta`"), "{err}");
    assert!(err.contains("did you mean `gitlab-pat`?"), "{err}");
}

#[test]
fn a_runbooks_dir_overrides_by_id_and_adds_new_ones() {
    let env = Env::new();
    let dir = fixture("override");
    let out = env
        .tokrot()
        .args(["--runbooks"])
        .arg(&dir)
        .arg("list")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("gitlab-pat\trotate\tRotate a personal access token (team variant)"),
        "{text}"
    );
    assert!(text.contains("capture-demo"), "{text}");
    assert_eq!(text.lines().count(), IDS.len() + 1);
    // and the environment variable does the same
    let out = env
        .tokrot()
        .env("TOKROT_RUNBOOKS", &dir)
        .args(["show", "gitlab-pat"])
        .output()
        .unwrap();
    assert!(stdout(&out).contains("team variant"));
    assert!(stdout(&out).contains("from: "));
}

#[test]
fn completions_are_printed_for_bash() {
    let env = Env::new();
    let out = env.tokrot().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    // The script asks the binary for candidates as the operator types (`ux` tests what it gets).
    assert!(text.contains("_clap_complete_tokrot()"), "{text}");
    assert!(text.contains("TOKROT_COMPLETE=\"bash\""), "{text}");
}

#[test]
fn list_actions_shows_the_registry() {
    let env = Env::new();
    let out = env.tokrot().args(["list", "--actions"]).output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("gitlab.rotate_personal_token"));
    assert!(stdout(&out).contains("POST /personal_access_tokens/{token_id}/rotate"));
}
