//! What an operator meets around a rotation, through the real binary: help pages (snapshots at
//! 60 and 120 columns), the manual page, dynamic completions, the live progress of a fan-out
//! (on a pseudo-terminal) and its summary, and `history` with its filters and `history ID`.

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{Env, Pty, assert_no_piece, day, scan, stderr, stdout};
use crate::stand_in::mount_caller;

const CALLER: &str = "glpat-caller-CANARY-ux01";
const NEW: &str = "glpat-NEW-CANARY-ux02";
const NEWER: &str = "glpat-NEWER-CANARY-ux03";

/// The help pages a snapshot keeps, at 60 and at 120 columns.
const PAGES: &[&[&str]] = &[
    &["--help"],
    &["rotate", "--help"],
    &["rotate", "gitlab-pat", "--help"],
    &["apply", "gitlab-ci-var", "-h"],
    &["history", "--help"],
];

#[test]
fn help_pages_list_own_flags_first_mark_required_ones_and_fit_the_terminal() {
    let env = Env::new();
    for width in [60, 120] {
        for page in PAGES {
            let out = env
                .tokrot()
                .env("COLUMNS", width.to_string())
                .args(*page)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            let text = stdout(&out);
            for line in text.lines() {
                assert!(
                    line.chars().count() <= width,
                    "{page:?} at {width} columns: {line:?} is wider"
                );
            }
            let own = text.find("\nOptions:").expect("an Options heading");
            let global = text
                .find("\nGlobal options:")
                .expect("a Global options heading");
            assert!(own < global, "{page:?}: own options come first\n{text}");
            assert!(
                !text[own..global].contains("--state-dir"),
                "{page:?}: a global flag among the command's own\n{text}"
            );
            assert!(
                text.contains("\nExamples:\n"),
                "{page:?}: no examples\n{text}"
            );
            let words: Vec<&str> = page
                .iter()
                .copied()
                .filter(|a| !a.starts_with('-'))
                .collect();
            let name = format!("help-tokrot {}-{width}", words.join(" "))
                .trim()
                .replace(' ', "-")
                .replace("--", "-");
            insta::assert_snapshot!(name, text);
        }
    }
    let out = env
        .tokrot()
        .args(["rotate", "zendesk-api", "--help"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("The Zendesk instance (see `tokrot instances`) [required]"),
        "{text}"
    );
    assert!(text.contains("A flag marked [required]"), "{text}");
}

#[test]
fn lists_and_checklists_are_fitted_to_the_terminal_without_breaking_a_word() {
    let env = Env::new();
    for width in [60, 120] {
        for page in [&["list"][..], &["show", "gitlab-pat"], &["instances"]] {
            let out = env
                .tokrot()
                .env("COLUMNS", width.to_string())
                .args(page)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            let text = stdout(&out);
            // A table keeps a row a line; its URLs are never cut, so a row of a URL wider than
            // the terminal overflows rather than wraps. Anything else: only a word longer than
            // the line (a URL) may stick out, alone on its line.
            let table = page == ["instances"];
            for line in text.lines() {
                let alone = line.split_whitespace().count() == 1;
                let url_row = table && line.contains("https://");
                assert!(
                    line.chars().count() <= width || alone || url_row,
                    "{page:?} at {width} columns: {line:?}"
                );
            }
            let name = format!("page-{}-{width}", page.join("-"));
            insta::assert_snapshot!(name, text);
        }
    }
    // Piped without COLUMNS, nothing is broken: a script reads whole lines.
    let out = env.tokrot().arg("list").output().unwrap();
    assert!(
        stdout(&out)
            .lines()
            .all(|l| l.contains("rotate") || l.contains("apply") || l.contains("checklist"))
    );
}

#[test]
fn the_manual_page_is_made_from_the_same_definition_as_help() {
    let env = Env::new();
    // A broken config file is no reason to withhold the manual.
    let out = env
        .tokrot()
        .env("TOKROT_CONFIG", env.path().join("missing.toml"))
        .env("GITLAB_URL", "not a url")
        .arg("man")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.contains(".TH tokrot 1"), "{page}");
    assert!(page.contains("GLOBAL OPTIONS"), "{page}");
    assert!(
        page.contains("tokrot rotate gitlab\\-pat \\-\\-token\\-id 42"),
        "{page}"
    );
    // The sections a manual page has, under their own names.
    for heading in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH EXAMPLES"] {
        assert!(page.contains(heading), "{heading}: {page}");
    }
    assert!(!page.contains("EXTRA"), "{page}");
    assert!(page.contains("GITLAB_TOKEN"), "{page}");
    let dir = env.path().join("man1");
    std::fs::create_dir_all(&dir).unwrap();
    let out = env
        .tokrot()
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sub = std::fs::read_to_string(dir.join("tokrot-rotate-gitlab-pat.1")).unwrap();
    assert!(
        sub.contains("[required: this, \\-\\-token\\-name or \\-\\-self]"),
        "{sub}"
    );
    assert!(
        sub.contains(".SH EXAMPLES") && !sub.contains("EXTRA"),
        "{sub}"
    );
}

/// What the shell gets for the word at `index` of `words` (bash's protocol).
fn complete(env: &Env, vars: &[(&str, &str)], index: usize, words: &[&str]) -> Vec<String> {
    let out = env
        .tokrot()
        .env("TOKROT_COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", index.to_string())
        .env("_CLAP_IFS", "\n")
        .envs(vars.iter().copied())
        .arg("--")
        .args(words)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out).lines().map(str::to_owned).collect()
}

#[test]
fn completions_offer_what_only_tokrot_knows() {
    let env = Env::new();
    let config = env.write(
        "c/config.toml",
        "[zendesk.instances.staging]\nurl = \"https://example-staging.zendesk.com\"\nlabel = \"Zendesk Staging\"\n",
    );
    let config = config.to_str().unwrap();
    let runbooks = complete(&env, &[], 2, &["tokrot", "show", "gitlab-t"]);
    assert_eq!(runbooks, ["gitlab-trigger", "gitlab-trigger-bot"]);
    let instances = complete(
        &env,
        &[("TOKROT_CONFIG", config)],
        4,
        &["tokrot", "rotate", "zendesk-api", "--instance", "st"],
    );
    assert_eq!(instances, ["staging"]);
    let forms = complete(
        &env,
        &[],
        4,
        &["tokrot", "rotate", "gitlab-pat", "--apply-to", "zendesk-w"],
    );
    assert_eq!(forms, ["zendesk-webhook:"]);
    let forms = complete(
        &env,
        &[("TOKROT_CONFIG", config)],
        4,
        &[
            "tokrot",
            "rotate",
            "gitlab-pat",
            "--apply-to",
            "zendesk-app:s",
        ],
    );
    assert_eq!(forms, ["zendesk-app:staging:"]);
    let inventory = crate::common::fixture("inventory/team.toml");
    let names = complete(
        &env,
        &[("TOKROT_INVENTORY", inventory.to_str().unwrap())],
        3,
        &["tokrot", "rotate", "--credential", "zendesk-"],
    );
    assert_eq!(names, ["zendesk-sync"]);
    // A completion variable left in the environment changes nothing: the command runs.
    for var in ["COMPLETE", "TOKROT_COMPLETE"] {
        for value in ["bash", "1"] {
            let out = env
                .tokrot()
                .env(var, value)
                .args(["list"])
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{var}={value}: {}",
                stderr(&out)
            );
            assert!(
                stdout(&out).contains("gitlab-pat"),
                "{var}={value}: {}",
                stdout(&out)
            );
        }
    }
    // The script a shell loads calls the binary back.
    let out = env.tokrot().args(["completions", "bash"]).output().unwrap();
    assert!(
        stdout(&out).contains("_CLAP_COMPLETE_INDEX"),
        "{}",
        stdout(&out)
    );
}

/// A GitLab with the caller, token 42 (rotated into 5001) and 5001 (into 6002), and a project
/// with `n` variables `V_0`… that take any value, written `puts` times in all.
async fn gitlab(n: usize, delay_ms: u64, puts: u64) -> MockServer {
    let server = MockServer::start().await;
    mount_caller(&server).await;
    for (old, new, value) in [(42, 5001, NEW), (5001, 6002, NEWER)] {
        Mock::given(method("GET"))
            .and(path(format!("/api/v4/personal_access_tokens/{old}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(token(old)))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/api/v4/personal_access_tokens/{old}/rotate")))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"id": new, "name": "zd sync", "token": value, "expires_at": "2027-06-01"}),
            ))
            .expect(0..=1)
            .mount(&server)
            .await;
    }
    Mock::given(path("/api/v4/personal_access_tokens/self"))
        .and(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token(5001)))
        .mount(&server)
        .await;
    let listed: Vec<Value> = (0..n)
        .map(|i| json!({"key": format!("V_{i}"), "value": "old-CANARY-ux09", "variable_type": "env_var",
            "protected": false, "masked": false, "hidden": false, "raw": false, "environment_scope": "*"}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fproj/variables"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listed))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(
            "^/api/v4/projects/grp%2Fproj/variables/V_[0-9]+$",
        ))
        .respond_with(|req: &Request| {
            let key = req
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            ResponseTemplate::new(200).set_body_json(json!({"key": key, "value": "old-CANARY-ux09",
                "variable_type": "env_var", "protected": false, "masked": false, "hidden": false,
                "raw": false, "environment_scope": "*"}))
        })
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(
            "^/api/v4/projects/grp%2Fproj/variables/V_[0-9]+$",
        ))
        .respond_with(move |req: &Request| {
            let key = req
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            ResponseTemplate::new(200)
                .set_body_json(json!({"key": key, "value": body["value"], "masked": false,
                    "hidden": false, "environment_scope": "*"}))
                .set_delay(std::time::Duration::from_millis(delay_ms))
        })
        .expect(puts)
        .mount(&server)
        .await;
    server
}

fn token(id: u64) -> Value {
    json!({"id": id, "name": "zd sync", "revoked": false, "active": true, "created_at": format!("{}T10:00:00.000Z", day(-60)),
           "expires_at": day(10), "scopes": ["api"], "user_id": 1, "last_used_at": format!("{}T08:00:00Z", day(-2))})
}

/// `rotate gitlab-pat --token-id ID` into `n` variables.
fn rotate_args(server: &MockServer, id: &str, n: usize) -> Vec<String> {
    let mut args: Vec<String> = ["--gitlab-url", &server.uri(), "--concurrency", "1"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    args.extend(["rotate", "gitlab-pat", "--token-id", id].map(str::to_owned));
    for i in 0..n {
        args.push("--apply-to".into());
        args.push(format!("gitlab-ci-var:grp/proj:V_{i}"));
    }
    args
}

#[tokio::test]
async fn a_fan_out_shows_a_live_bar_on_a_terminal_and_one_summary_line() {
    let server = gitlab(30, 40, 30).await;
    let env = Env::new();
    let args = rotate_args(&server, "42", 30);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut pty = Pty::spawn_with(&env, &args, &[("GITLAB_TOKEN", CALLER)]);
    pty.answer("Go ahead and change things", "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("Steps 36-95 of 95: writing the new token into 30 targets"),
        "{screen}"
    );
    assert!(
        screen.contains("writing the new token ["),
        "no bar:\n{screen}"
    );
    assert!(screen.contains("/30 ("), "no count:\n{screen}");
    assert!(screen.contains("30 applied, 0 failed in "), "{screen}");
    assert!(
        screen.contains("Targets: 30 applied (30 verified), 0 failed"),
        "{screen}"
    );
    assert!(
        !screen.contains("ok: gitlab-ci-var:grp/proj:V_"),
        "{screen}"
    );
    assert_no_piece("screen", &screen, &[CALLER, NEW]);
}

#[tokio::test]
async fn piped_there_is_no_bar_and_with_v_every_target_has_its_line() {
    let server = gitlab(12, 0, 12).await;
    let env = Env::new();
    let args = rotate_args(&server, "42", 12);
    let out = env
        .tokrot()
        .env("GITLAB_TOKEN", CALLER)
        .args(["--yes", "-v"])
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains('\u{1b}') && !err.contains('\r'), "{err}");
    assert!(!err.contains("writing the new token ["), "{err}");
    assert!(err.contains("12 applied, 0 failed in "), "{err}");
    // A line for each target's check and one for each write.
    assert_eq!(
        err.matches("   ok: gitlab-ci-var:grp/proj:V_").count(),
        24,
        "{err}"
    );
    assert_eq!(err.matches("  applied, verified: yes").count(), 12, "{err}");
    scan(&env, &[&out], &[CALLER, NEW]);
}

fn history(env: &Env, args: &[&str]) -> std::process::Output {
    env.tokrot().arg("history").args(args).output().unwrap()
}

#[tokio::test]
async fn history_has_a_header_filters_and_one_run_in_full_with_its_successor() {
    let server = gitlab(1, 0, 3).await;
    let env = Env::new();
    let mut ids = Vec::new();
    for old in ["42", "5001"] {
        let args = rotate_args(&server, old, 1);
        let out = env
            .tokrot()
            .env("GITLAB_TOKEN", CALLER)
            .arg("--yes")
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        // A block of one target is one step, and says so.
        let err = stderr(&out);
        assert!(err.contains("Step 3 of 8: checking 1 target\n"), "{err}");
        assert!(!err.contains("Steps 3-3"), "{err}");
        let json = history(&env, &["--output", "json"]);
        let doc: Value = crate::common::json_doc(&json);
        assert_eq!(doc["schema_version"], 1);
        // The document lists every run, oldest first.
        ids.push(doc["runs"][ids.len()]["id"].as_str().unwrap().to_owned());
        scan(&env, &[&out], &[CALLER, NEW, NEWER]);
    }
    // A run of another runbook: the filters must tell it apart.
    let applied = env
        .unattended_on(&server.uri(), CALLER)
        .args([
            "apply",
            "gitlab-ci-var",
            "--project",
            "grp/proj",
            "--key",
            "V_0",
        ])
        .arg("--token-stdin")
        .write_stdin(format!("{NEWER}\n"))
        .output()
        .unwrap();
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    // On a terminal (a width): a header, the columns fitted.
    let wide = env
        .tokrot()
        .env("COLUMNS", "160")
        .arg("history")
        .output()
        .unwrap();
    let table = stdout(&wide);
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("ID ") && header.contains("  STARTED  "),
        "{table}"
    );
    assert!(header.trim_end().ends_with("SOURCE"), "{table}");
    assert_eq!(lines.count(), 3, "{table}");
    // Piped: a run a line, tab-separated, newest first.
    let table = stdout(&history(&env, &[]));
    assert_eq!(table.lines().count(), 3, "{table}");
    let newest = table.lines().next().unwrap();
    assert!(
        newest.contains("\tgitlab-ci-var\t"),
        "newest first:\n{table}"
    );
    let two = history(&env, &["--limit", "2"]);
    assert_eq!(stdout(&two).lines().count(), 2, "{}", stdout(&two));
    assert!(
        stderr(&two).contains("The newest 2 of 3 runs; --limit N shows more."),
        "{}",
        stderr(&two)
    );

    let one = |args: &[&str]| -> Vec<String> {
        let out = history(&env, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        stdout(&out).lines().map(str::to_owned).collect()
    };
    assert_eq!(one(&["--runbook", "gitlab-pat"]).len(), 2);
    let applies = one(&["--runbook", "gitlab-ci-var"]);
    assert_eq!(applies.len(), 1, "{applies:?}");
    assert!(applies[0].contains("gitlab-ci-var"), "{applies:?}");
    assert_eq!(one(&["--status", "done"]).len(), 3);
    assert_eq!(one(&["--since", "7d"]).len(), 3);
    assert_eq!(one(&["--since", "30m"]).len(), 3);
    let none = history(&env, &["--since", "2999-01-01"]);
    assert_eq!(none.status.code(), Some(0));
    assert!(
        stderr(&none).contains("No run matches (3 in all)."),
        "{}",
        stderr(&none)
    );
    assert!(stdout(&none).is_empty());
    assert!(one(&["--status", "failed"]).is_empty());
    assert!(one(&["--credential", "zd-bot"]).is_empty());
    let typo = history(&env, &["--runbook", "gitlab-patt"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        stderr(&typo).contains("did you mean `gitlab-pat`?"),
        "{}",
        stderr(&typo)
    );
    let bad = history(&env, &["--since", "last tuesday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("is not a date (2026-11-01)"),
        "{}",
        stderr(&bad)
    );

    let first = history(&env, &[&ids[0]]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let text = stdout(&first);
    for want in [
        format!("Run        {}", ids[0]),
        "Runbook    gitlab-pat (rotate)".to_owned(),
        "Status     done".to_owned(),
        "Source     token_id=42".to_owned(),
        "New token  id 5001, expires 2027-06-01 (never shown)".to_owned(),
        format!("Successor  rotated again by run {} (done): id 6002", ids[1]),
        "Steps:".to_owned(),
        "gitlab-ci-var:grp/proj:V_0  applied, verified: yes".to_owned(),
    ] {
        assert!(text.contains(&want), "{want:?} missing:\n{text}");
    }
    assert!(text.contains("Who        "), "{text}");
    let json = history(&env, &[&ids[0], "--output", "json"]);
    let doc: Value = crate::common::json_doc(&json);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["run"]["new_id"], 5001);
    assert_eq!(doc["run"]["rotated_again"][0]["new_id"], 6002);
    let unknown = history(&env, &["20200101T000000Z-gitlab-pat-abcdef"]);
    assert_eq!(unknown.status.code(), Some(2));

    // Completion knows the runs, newest first.
    let runs = complete(&env, &[], 2, &["tokrot", "resume", "2"]);
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert_eq!(runs[1..], [ids[1].clone(), ids[0].clone()]);
}

#[tokio::test]
async fn reading_tokens_and_a_due_batch_show_their_bars_on_a_terminal() {
    let server = gitlab(1, 0, 1).await;
    let env = Env::new();
    let inventory = env.write(
        "tokrot.toml",
        "[[credential]]\nname = \"zd-sync\"\nrunbook = \"gitlab-pat\"\nparams = { token_id = \"42\" }\ntargets = [\"gitlab-ci-var:grp/proj:V_0\"]\n",
    );
    let uri = server.uri();
    let inventory = inventory.to_str().unwrap();
    let common = ["--gitlab-url", uri.as_str(), "--inventory", inventory];
    let vars = [("GITLAB_TOKEN", CALLER)];
    let args: Vec<&str> = common.iter().copied().chain(["status"]).collect();
    let (code, screen) = Pty::spawn_with(&env, &args, &vars).finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("reading the tokens ["), "no bar:\n{screen}");
    assert!(screen.contains("zd-sync"), "{screen}");
    let args: Vec<&str> = common
        .iter()
        .copied()
        .chain(["--yes", "rotate", "--due"])
        .collect();
    let (code, screen) = Pty::spawn_with(&env, &args, &vars).finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("rotating ["), "no bar:\n{screen}");
    assert_no_piece("screen", &screen, &[CALLER, NEW]);
}

#[test]
fn a_closed_pipe_is_never_a_panic_and_keeps_the_exit_code() {
    // `| true` closes the pipe before tokrot writes: every write to stdout and stderr fails.
    let env = Env::new();
    let bin = env!("CARGO_BIN_EXE_tokrot");
    for (args, code) in [
        // The credential does not work: 1, whether anyone reads the output or not.
        ("--gitlab-url http://127.0.0.1:1 auth status", 1),
        (
            "--gitlab-url http://127.0.0.1:1 --output json auth status",
            1,
        ),
        ("list", 0),
        ("show gitlab-pat", 0),
        ("rotate gitlab-pat --dry-run", 0),
        ("no-such-command", 2),
        ("--output json history", 0),
    ] {
        let script = format!(
            "GITLAB_TOKEN=glpat-bad-CANARY-ux09 '{bin}' {args} 2>&1 | true; echo \"exit=${{PIPESTATUS[0]}}\""
        );
        let out = env.command("bash").args(["-c", &script]).output().unwrap();
        let said = stdout(&out);
        assert_eq!(
            said.trim(),
            format!("exit={code}"),
            "{args}: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("panicked"), "{args}");
    }
}

#[test]
fn colour_is_decided_for_each_stream_where_it_is_seen() {
    let env = Env::new();
    let bin = env!("CARGO_BIN_EXE_tokrot");
    let file = env.path().join("show.txt");
    // On a terminal: stdout to a file has no colour code, stderr on the terminal has them.
    let script = format!(
        "'{bin}' show gitlab-pat > '{}'; '{bin}' show nope-not-a-runbook; echo done",
        file.display()
    );
    let mut pty = Pty::spawn_program(&env, "sh", &["-c", &script], &[("NO_COLOR", "")]);
    pty.expect("done");
    let (_, screen) = pty.finish();
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        saved.contains("Rotate a GitLab personal access token"),
        "{saved}"
    );
    assert!(
        !saved.contains('\u{1b}'),
        "colour codes in a file: {saved:?}"
    );
    assert!(
        screen.contains("\u{1b}[31merror:\u{1b}[0m"),
        "errors are red on a terminal: {screen:?}"
    );
    // The same on the terminal's stdout is styled.
    let mut pty = Pty::spawn_with(&env, &["show", "gitlab-pat"], &[("NO_COLOR", "")]);
    pty.expect("Rotate a GitLab personal access token");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0);
    assert!(screen.contains("\u{1b}[1m"), "{screen:?}");
    // NO_COLOR with any value turns it off, 0 included.
    let mut pty = Pty::spawn_with(&env, &["show", "gitlab-pat"], &[("NO_COLOR", "0")]);
    pty.expect("Rotate a GitLab personal access token");
    let (_, screen) = pty.finish();
    assert!(!screen.contains("\u{1b}[1m"), "{screen:?}");
}

#[test]
fn long_output_on_a_terminal_goes_through_the_pager_and_never_when_piped() {
    let env = Env::new();
    let paged = env.path().join("paged.txt");
    let pager = format!("cat > '{}'", paged.display());
    // A checklist longer than the terminal: paged.
    let pty = Pty::spawn_with(
        &env,
        &["show", "gitlab-pat"],
        &[("TOKROT_PAGER", pager.as_str())],
    );
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    let text = std::fs::read_to_string(&paged).unwrap_or_default();
    assert!(
        text.contains("Rotate a GitLab personal access token"),
        "{text}"
    );
    assert!(
        !screen.contains("Rotate a GitLab personal access token"),
        "{screen}"
    );
    std::fs::remove_file(&paged).unwrap();
    // PAGER is used when TOKROT_PAGER is not set.
    let pty = Pty::spawn_with(&env, &["show", "gitlab-pat"], &[("PAGER", pager.as_str())]);
    pty.finish();
    assert!(paged.exists(), "PAGER was not used");
    std::fs::remove_file(&paged).unwrap();
    // --no-pager, --output json, a short page, an empty TOKROT_PAGER: never.
    for (args, vars) in [
        (&["--no-pager", "show", "gitlab-pat"][..], pager.as_str()),
        (
            &["--output", "json", "show", "gitlab-pat"][..],
            pager.as_str(),
        ),
        (&["list"][..], pager.as_str()),
        (&["show", "gitlab-pat"][..], ""),
    ] {
        let pty = Pty::spawn_with(&env, args, &[("TOKROT_PAGER", vars)]);
        let (code, screen) = pty.finish();
        assert_eq!(code, 0, "{args:?}");
        assert!(!paged.exists(), "{args:?} was paged");
        assert!(!screen.is_empty(), "{args:?}");
    }
    // Piped: never.
    let out = env
        .tokrot()
        .env("TOKROT_PAGER", &pager)
        .args(["show", "gitlab-pat"])
        .output()
        .unwrap();
    assert!(stdout(&out).contains("Rotate a GitLab personal access token"));
    assert!(!paged.exists());
}

#[test]
fn bare_tokrot_prints_the_short_help_and_succeeds() {
    let env = Env::new();
    let out = env.tokrot().output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("Rotate GitLab and Zendesk API tokens"),
        "{text}"
    );
    assert!(
        text.contains("  rotate       Make a new token and put it into place"),
        "{text}"
    );
    assert!(text.contains("`tokrot --help` lists the options"), "{text}");
    assert!(!text.contains("--http-timeout"), "short: {text}");
    assert!(text.lines().count() <= 30, "{text}");
}

/// Completes `line` in bash as bash splits it (at each `:` of `COMP_WORDBREAKS`), through the
/// script `tokrot completions bash` prints; the candidates bash would insert at the cursor.
fn bash_complete(env: &Env, line: &str) -> Vec<String> {
    let bin = env!("CARGO_BIN_EXE_tokrot");
    let script = format!(
        r#"source <('{bin}' completions bash)
line='{line}'
read -ra spaced <<< "$line"
COMP_WORDS=()
for w in "${{spaced[@]}}"; do
    while [[ $w == *:* ]]; do
        [[ -n ${{w%%:*}} ]] && COMP_WORDS+=("${{w%%:*}}")
        COMP_WORDS+=(":")
        w="${{w#*:}}"
    done
    [[ -n $w ]] && COMP_WORDS+=("$w")
done
[[ $line == *' ' ]] && COMP_WORDS+=("")
COMP_LINE="$line"; COMP_POINT=${{#line}}; COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
cur="${{COMP_WORDS[COMP_CWORD]}}"; [[ $cur == ":" ]] && cur=""
_clap_complete_tokrot tokrot "$cur" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#
    );
    let out = env.command("bash").args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completion_survives_the_colons_of_a_target_spec() {
    let env = Env::new();
    // After a colon, bash inserts only what follows it: the candidates are the instances.
    let after = bash_complete(&env, "tokrot rotate gitlab-pat --apply-to zendesk-app:");
    assert_eq!(
        after,
        ["global:", "global-sandbox:", "us-gov:", "us-gov-sandbox:"],
        "{after:?}"
    );
    let partial = bash_complete(&env, "tokrot rotate gitlab-pat --apply-to zendesk-app:us");
    assert_eq!(partial, ["us-gov:", "us-gov-sandbox:"], "{partial:?}");
    // Before any colon, the forms themselves.
    let forms = bash_complete(&env, "tokrot rotate gitlab-pat --apply-to zendesk-");
    assert_eq!(forms, ["zendesk-app:", "zendesk-webhook:"], "{forms:?}");
    // And the words after a spec are found again (the spec is one word, not three).
    let next = bash_complete(
        &env,
        "tokrot rotate gitlab-pat --apply-to zendesk-app:global:1:x --dry",
    );
    assert_eq!(next, ["--dry-run"], "{next:?}");
}

#[test]
fn fish_completes_the_same_forms() {
    // fish keeps a spec one word; .ci/run installs it (TOKROT_TEST_SHELLS=required there).
    let required = std::env::var_os("TOKROT_TEST_SHELLS").is_some();
    let env = Env::new();
    let bin = env!("CARGO_BIN_EXE_tokrot");
    let complete = |line: &str| {
        let script = format!("'{bin}' completions fish | source; complete -C '{line}'");
        env.command("fish").args(["-c", &script]).output()
    };
    let out = match complete("tokrot rotate gitlab-pat --apply-to zendesk-app:") {
        Ok(out) => out,
        Err(e) if !required => {
            eprintln!("fish is not installed ({e}): skipped; .ci/run installs it");
            return;
        }
        Err(e) => panic!("fish is needed here: {e}"),
    };
    let got: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        got,
        [
            "zendesk-app:global:",
            "zendesk-app:global-sandbox:",
            "zendesk-app:us-gov:",
            "zendesk-app:us-gov-sandbox:"
        ],
        "{}",
        stderr(&out)
    );
}

#[test]
fn zsh_completes_the_same_forms() {
    // zsh, interactive on a pseudo-terminal with its completion system, as a user has it.
    // .ci/run installs it (TOKROT_TEST_SHELLS=required there).
    let required = std::env::var_os("TOKROT_TEST_SHELLS").is_some();
    let env = Env::new();
    if let Err(e) = env.command("zsh").args(["-fc", "true"]).output() {
        assert!(!required, "zsh is needed here: {e}");
        eprintln!("zsh is not installed ({e}): skipped; .ci/run installs it");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_tokrot");
    std::fs::write(
        env.path().join(".zshrc"),
        format!(
            "autoload -Uz compinit && compinit -u -D\nsource <('{bin}' completions zsh)\nPROMPT='%% '\n"
        ),
    )
    .unwrap();
    let zdotdir = env.path().to_string_lossy().into_owned();
    let mut pty = Pty::spawn_program(&env, "zsh", &["-i"], &[("ZDOTDIR", &zdotdir)]);
    pty.expect("% ");
    // Ambiguous: every instance is listed, each whole with its colons.
    pty.send("tokrot rotate gitlab-pat --apply-to zendesk-app:\t");
    pty.expect("us-gov-sandbox:");
    // One match: the line gets it whole, once.
    pty.send("\x15tokrot rotate gitlab-pat --apply-to zendesk-app:us-gov-s\t");
    std::thread::sleep(std::time::Duration::from_millis(500));
    pty.send("\x01echo \n");
    // What the shell ran (echo): the whole spec, once.
    pty.expect("tokrot rotate gitlab-pat --apply-to zendesk-app:us-gov-sandbox:\r\n");
    pty.send("exit\n");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("zendesk-app:global-sandbox:"), "{screen}");
    assert!(!screen.contains("zendesk-app:zendesk-app"), "{screen}");
}

#[test]
fn ctrl_c_at_every_kind_of_prompt_gives_the_terminal_back() {
    // A shell runs tokrot three times and, after each Ctrl-C, says the exit code and whether
    // the terminal echoes: a hidden paste (echo off while it asks), a typed value and a pick
    // list (the cursor hidden while it shows).
    let env = Env::new();
    let bin = env!("CARGO_BIN_EXE_tokrot");
    // (A Ctrl-C pressed again, on a loaded machine, must not stop the check itself.)
    let after =
        "echo \"exit=$?\"; (trap '' INT; stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\{0,1\\}echo')";
    let script = format!(
        "stty echo; trap 'true' INT; '{bin}' auth login gitlab; {after}; '{bin}' apply gitlab-ci-var; {after}; '{bin}' rotate zendesk-api; {after}"
    );
    let mut pty = Pty::spawn_program(
        &env,
        "sh",
        &["-c", &script],
        &[
            ("GITLAB_TOKEN", CALLER),
            ("GITLAB_URL", "http://127.0.0.1:1"),
        ],
    );
    for prompt in ["(hidden): ", "Project (numeric id", "Zendesk instance:"] {
        // Interrupted (130), the cursor shown, the line ended, and echo on again.
        pty.press_until(prompt, "\x03", "\x1b[?25h");
        pty.expect("\nexit=130\r\necho\r\n");
    }
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("-echo"), "{screen}");
    assert_no_piece("screen", &screen, &[CALLER]);
}

/// What a terminal of `cols` columns shows after `bytes` were written to it.
fn screen_of(bytes: &str, cols: u16) -> String {
    let size = |n: u16| std::num::NonZeroU16::new(n).unwrap();
    let mut parser = vt100::Parser::new(size(200), size(cols), 0);
    parser.process(bytes.as_bytes());
    parser.screen().contents()
}

#[tokio::test]
async fn a_long_prompt_on_a_narrow_terminal_is_wrapped_between_words_and_shown_once() {
    let server = gitlab(1, 0, 0).await;
    let env = Env::new();
    let bin = env!("CARGO_BIN_EXE_tokrot");
    let uri = server.uri();
    let script = format!(
        "{}; exec '{bin}' --gitlab-url {uri} rotate gitlab-pat --token-id 42 --apply-to gitlab-ci-var:grp/proj:V_0",
        crate::common::sized(60, 200)
    );
    let mut pty = Pty::spawn_program(&env, "sh", &["-c", &script], &[("GITLAB_TOKEN", CALLER)]);
    pty.answer("Go ahead and change things", "n");
    let (code, raw) = pty.finish();
    assert_eq!(code, 4, "{raw}");
    let shown = screen_of(&raw, 60);
    // Once on the screen, no copy left above the answer, no word cut by the terminal.
    assert_eq!(
        shown.matches("Go ahead and change things").count(),
        1,
        "{shown}"
    );
    for line in shown.lines() {
        // Only a word longer than the line (a URL) may stick out, alone on its line.
        let alone = line.split_whitespace().count() == 1;
        assert!(line.chars().count() <= 60 || alone, "{line:?}");
    }
    assert!(
        shown
            .lines()
            .any(|l| l.ends_with("at once)? no") && l.chars().count() <= 60),
        "the prompt's end is on its answer's line: {shown}"
    );
    let whole_words = shown
        .lines()
        .all(|l| !l.ends_with("revo") && !l.ends_with("chan"));
    assert!(whole_words, "{shown}");
}

#[test]
fn a_pager_that_cannot_be_started_loses_no_output() {
    let env = Env::new();
    let pty = Pty::spawn_with(
        &env,
        &["show", "gitlab-pat"],
        &[("TOKROT_PAGER", "no-such-pager-anywhere")],
    );
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("Rotate a GitLab personal access token"),
        "{screen}"
    );
}
