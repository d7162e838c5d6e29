//! Instances, the config file and the URL rule.

use crate::common::{Env, stderr, stdout};

#[test]
fn instances_lists_the_four_and_gitlab() {
    let env = Env::new();
    let out = env.tokrot().arg("instances").output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    for (id, label, url) in [
        (
            "global",
            "Zendesk Global",
            "https://gitlab.zendesk.com/admin",
        ),
        (
            "global-sandbox",
            "Zendesk Global Sandbox",
            "https://gitlab1707170878.zendesk.com/admin",
        ),
        (
            "us-gov",
            "Zendesk US Government",
            "https://gitlab-federal-support.zendesk.com/admin",
        ),
        (
            "us-gov-sandbox",
            "Zendesk US Government Sandbox",
            "https://gitlabfederalsupport1585318082.zendesk.com/admin",
        ),
    ] {
        // Piped: a row a line, its values tab-separated.
        let line = text
            .lines()
            .find(|l| l.split('\t').next() == Some(id))
            .unwrap();
        assert_eq!(
            line,
            format!("{id}\tzendesk\t{label}\t{url}\tbuilt-in"),
            "{text}"
        );
    }
    assert!(
        text.starts_with("gitlab\tgitlab\tGitLab\thttps://gitlab.com\tbuilt-in\n"),
        "{text}"
    );
}

#[test]
fn the_default_config_file_adds_an_instance_used_by_rotations() {
    let env = Env::new();
    env.write(
        ".config/tokrot/config.toml",
        "[gitlab]\nurl = \"https://gitlab.example.com/\"\n\n[zendesk.instances.staging]\nurl = \"https://example-staging.zendesk.com\"\nlabel = \"Zendesk Staging\"\n",
    );
    let out = env
        .tokrot()
        .args(["instances", "--output", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = crate::common::json_doc(&out);
    assert_eq!(v["gitlab"]["url"], "https://gitlab.example.com");
    let staging = v["zendesk"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "staging")
        .unwrap();
    assert_eq!(staging["source"], "config");
    let out = env
        .tokrot()
        .args([
            "rotate",
            "gitlab-trigger",
            "--project",
            "1",
            "--trigger-id",
            "2",
            "--for",
            "zendesk-app:staging:Sync",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains("sends description=Zendesk Staging - Sync"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("POST https://gitlab.example.com/api/v4/projects/1/triggers"));
}

#[test]
fn http_to_a_host_that_is_not_loopback_is_refused() {
    let env = Env::new();
    let out = env
        .tokrot()
        .args(["--gitlab-url", "http://gitlab.example.com", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not loopback; use https://"),
        "{}",
        stderr(&out)
    );

    let cfg = env.write(
        "bad.toml",
        "[zendesk.instances.evil]\nurl = \"http://10.1.2.3\"\n",
    );
    let out = env
        .tokrot()
        .arg("--config")
        .arg(&cfg)
        .arg("instances")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("zendesk.instances.evil.url") && err.contains("not loopback"),
        "{err}"
    );

    let out = env
        .tokrot()
        .env("GITLAB_URL", "http://127.0.0.1:8080")
        .arg("instances")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "loopback http is allowed: {}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("gitlab\tgitlab\tGitLab\thttp://127.0.0.1:8080\t"));
}

#[test]
fn a_broken_config_file_is_located() {
    let env = Env::new();
    let cfg = env.write(
        "c.toml",
        "[gitlab]\nurl = \"https://x.example\"\ncolour = true\n",
    );
    let out = env
        .tokrot()
        .env("TOKROT_CONFIG", &cfg)
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("c.toml:3:1"), "{err}");
    assert!(err.contains("unknown field `colour`"), "{err}");
    let out = env
        .tokrot()
        .args(["--config", "/nonexistent/tokrot.toml", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read the config file /nonexistent/tokrot.toml"));
}
