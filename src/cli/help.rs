//! Help pages on the model of `gh` and `glab`. Each command's file says what its flags are; this
//! file adds what every page needs beyond that, in one place so that no page goes without:
//! examples (a test walks the whole tree), `[required]` on the flags a run cannot do without
//! (asked for on a terminal when left out), and the wrapping rules. The global options carry
//! their own heading (`GlobalArgs`), so a page lists the command's own flags first.
//!
//! Prose is written one paragraph per line, so that clap wraps it to the terminal's width;
//! example lines are kept under 60 columns (a long one is continued with `\`), so that they
//! never wrap, not even on a narrow terminal.

use clap::Command;

/// What bare `tokrot` prints: what it does, its commands, a first example and where the rest
/// is, in one screen (gh's manner); `tokrot --help` has the options.
pub fn short() -> String {
    let cmd = super::command();
    let mut text = String::new();
    if let Some(about) = cmd.get_about() {
        text.push_str(&format!("{about}\n\n"));
    }
    text.push_str("Usage: tokrot <COMMAND> [OPTIONS]\n\nCommands:\n");
    let shown: Vec<_> = cmd
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .collect();
    let width = shown.iter().map(|c| c.get_name().len()).max().unwrap_or(0);
    for c in shown {
        let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
        text.push_str(&format!("  {:width$}  {about}\n", c.get_name()));
    }
    text.push_str(
        "\nFirst steps:\n  tokrot list                      what tokrot can rotate\n  tokrot show gitlab-pat           a runbook's checklist, no network\n  tokrot rotate gitlab-pat --dry-run\n\n`tokrot --help` lists the options and exit codes; `tokrot COMMAND --help` says more about a command.\n",
    );
    text
}

/// Examples by command path (`""` is `tokrot` itself).
pub(crate) const EXAMPLES: &[(&str, &str)] = &[
    (
        "",
        "# What can tokrot rotate, and how?
tokrot list
tokrot show gitlab-pat

# A checklist that changes nothing
tokrot rotate zendesk-api --instance global --dry-run

# Rotate a token and put it where it is used
tokrot rotate gitlab-pat --token-id 42 \\
    --apply-to gitlab-ci-var:grp/proj:API_TOKEN

# Everything the inventory says is due, unattended
tokrot rotate --due --yes",
    ),
    (
        "list",
        "tokrot list\ntokrot list --actions\ntokrot list --output json",
    ),
    (
        "show",
        "tokrot show gitlab-pat\ntokrot show zendesk-api --instance us-gov",
    ),
    (
        "instances",
        "tokrot instances\ntokrot instances --output json",
    ),
    (
        "rotate",
        "# Rotate an inventory credential: its runbook,
# parameters and targets come from the inventory
tokrot rotate --credential zendesk-sync

# Everything expired or due within 30 days
tokrot rotate --due --within 30 --dry-run",
    ),
    (
        "rotate zendesk-api",
        "tokrot rotate zendesk-api --instance global --dry-run
pass show zd/new | tokrot rotate zendesk-api \\
    --instance global --token-stdin \\
    --apply-to zendesk-app:global:360001:api_token",
    ),
    (
        "rotate zendesk-oauth",
        "tokrot rotate zendesk-oauth --instance global \\
    --client-id 77 --old-token-id 900 \\
    --apply-to gitlab-ci-var:support/zd-sync:ZD_TOKEN",
    ),
    (
        "rotate zendesk-webhook-secret",
        "tokrot rotate zendesk-webhook-secret --instance global \\
    --webhook-id 01HSIGNEDHOOK \\
    --apply-to gitlab-ci-var:relay/app:ZD_SIGNING",
    ),
    (
        "rotate gitlab-pat",
        "tokrot rotate gitlab-pat --token-id 42 --dry-run \\
    --apply-to gitlab-ci-var:grp/proj:API_TOKEN
tokrot rotate gitlab-pat --token-name zd-sync \\
    --apply-to zendesk-app:global:360001:api_token

# The token tokrot itself uses
tokrot rotate gitlab-pat --self",
    ),
    (
        "rotate gitlab-project-token",
        "tokrot rotate gitlab-project-token --project grp/proj \\
    --token-name deploy-bot \\
    --apply-to gitlab-ci-var:grp/proj:DEPLOY_TOKEN",
    ),
    (
        "rotate gitlab-group-token",
        "tokrot rotate gitlab-group-token --group support \\
    --token-id 7 --expires-at 2027-06-30 \\
    --apply-to gitlab-group-ci-var:support:GROUP_TOKEN",
    ),
    (
        "rotate gitlab-trigger",
        "tokrot rotate gitlab-trigger --project grp/proj \\
    --trigger-id 55 --for zendesk-webhook:global:01H8X \\
    --apply-to zendesk-webhook:global:01H8X",
    ),
    (
        "rotate gitlab-trigger-bot",
        "tokrot rotate gitlab-trigger-bot --project grp/proj \\
    --for ci-job:sync-tickets --old-trigger-id 55 \\
    --apply-to gitlab-ci-var:grp/other:TRIGGER_TOKEN",
    ),
    (
        "apply",
        "tokrot apply gitlab-ci-var --project grp/proj \\
    --key API_TOKEN --dry-run
tokrot apply zendesk-app --instance global \\
    --installation-id 360001 --setting api_token \\
    --from 20261128T101500Z-gitlab-pat-1a2b3c",
    ),
    (
        "apply gitlab-ci-var",
        "tokrot apply gitlab-ci-var --project grp/proj \\
    --key API_TOKEN --environment-scope production
tokrot apply gitlab-ci-var --group support --key TOKEN \\
    --from 20261128T101500Z-gitlab-pat-1a2b3c",
    ),
    (
        "apply gitlab-webhook",
        "tokrot apply gitlab-webhook --project grp/proj \\
    --hook-id 12
tokrot apply gitlab-webhook --group support \\
    --hook-id 3 --token-stdin",
    ),
    (
        "apply gitlab-instance-var",
        "tokrot --gitlab-url https://gitlab.example.com \\
    apply gitlab-instance-var --key RELAY --dry-run",
    ),
    (
        "apply zendesk-app",
        "tokrot apply zendesk-app --instance global \\
    --installation-id 360001 --setting api_token",
    ),
    (
        "apply zendesk-webhook",
        "tokrot apply zendesk-webhook --instance us-gov \\
    --webhook-id 01H8X --token-stdin < token.txt",
    ),
    (
        "run",
        "tokrot run zendesk-oauth-integration --instance global
tokrot run zendesk-oauth-integration --dry-run",
    ),
    (
        "resume",
        "# The latest unfinished run
tokrot resume
tokrot resume 20261128T101500Z-gitlab-pat-1a2b3c",
    ),
    (
        "history",
        "tokrot history
tokrot history --runbook gitlab-pat --since 2026-11-01
tokrot history --status incomplete
tokrot history 20261128T101500Z-gitlab-pat-1a2b3c",
    ),
    (
        "auth",
        "tokrot auth login gitlab
tokrot auth login zendesk --instance global
tokrot auth status",
    ),
    (
        "auth login",
        "tokrot auth login gitlab
tokrot auth login zendesk --instance global
tokrot auth login zendesk --instance us-gov \\
    --email ops@example.com",
    ),
    (
        "auth logout",
        "tokrot auth logout gitlab\ntokrot auth logout zendesk --instance global",
    ),
    (
        "auth status",
        "tokrot auth status\ntokrot auth status zendesk --instance us-gov",
    ),
    (
        "status",
        "tokrot status
tokrot status --within 30
# In a scheduled pipeline
tokrot status --check --output json",
    ),
    (
        "inventory",
        "tokrot inventory check
tokrot inventory discover --project support/zd-sync",
    ),
    ("inventory check", "tokrot inventory check"),
    (
        "inventory discover",
        "tokrot inventory discover --project support/zd-sync \\
    --instance global
tokrot inventory discover --group support --write",
    ),
    (
        "completions",
        "# Runbook ids, instances, run ids and more complete
source <(tokrot completions bash)
tokrot completions zsh > ~/.zfunc/_tokrot
tokrot completions fish | source",
    ),
    (
        "man",
        "tokrot man > tokrot.1 && man ./tokrot.1
tokrot man --dir /usr/local/share/man/man1",
    ),
];

/// Flags a run cannot do without, by command path: `(arg id, marker)`. Left out, each is asked
/// for on a terminal; with --yes or without a terminal, the run is refused before it starts.
pub(crate) const REQUIRED: &[(&str, &str, &str)] = &[
    ("rotate zendesk-api", "instance", "[required]"),
    ("rotate zendesk-api", "email", "[required]"),
    ("rotate zendesk-oauth", "instance", "[required]"),
    ("rotate zendesk-oauth", "client_id", "[required]"),
    ("rotate zendesk-webhook-secret", "instance", "[required]"),
    ("rotate zendesk-webhook-secret", "webhook_id", "[required]"),
    (
        "rotate gitlab-pat",
        "token_id",
        "[required: this, --token-name or --self]",
    ),
    (
        "rotate gitlab-pat",
        "token_name",
        "[required: this, --token-id or --self]",
    ),
    ("rotate gitlab-project-token", "project", "[required]"),
    (
        "rotate gitlab-project-token",
        "token_id",
        "[required: this or --token-name]",
    ),
    (
        "rotate gitlab-project-token",
        "token_name",
        "[required: this or --token-id]",
    ),
    ("rotate gitlab-group-token", "group", "[required]"),
    (
        "rotate gitlab-group-token",
        "token_id",
        "[required: this or --token-name]",
    ),
    (
        "rotate gitlab-group-token",
        "token_name",
        "[required: this or --token-id]",
    ),
    ("rotate gitlab-trigger", "project", "[required]"),
    ("rotate gitlab-trigger", "trigger_id", "[required]"),
    ("rotate gitlab-trigger-bot", "project", "[required]"),
    (
        "apply gitlab-ci-var",
        "project",
        "[required: this or --group]",
    ),
    (
        "apply gitlab-ci-var",
        "group",
        "[required: this or --project]",
    ),
    ("apply gitlab-ci-var", "key", "[required]"),
    (
        "apply gitlab-webhook",
        "project",
        "[required: this or --group]",
    ),
    (
        "apply gitlab-webhook",
        "group",
        "[required: this or --project]",
    ),
    ("apply gitlab-webhook", "hook_id", "[required]"),
    ("apply gitlab-instance-var", "key", "[required]"),
    ("apply zendesk-app", "instance", "[required]"),
    ("apply zendesk-app", "installation_id", "[required]"),
    ("apply zendesk-app", "setting", "[required]"),
    ("apply zendesk-webhook", "instance", "[required]"),
    ("apply zendesk-webhook", "webhook_id", "[required]"),
];

/// What a page with required markers says about them.
const REQUIRED_NOTE: &str = "A flag marked [required] that is left out is asked for on a terminal; with --yes, or without a terminal, the run is refused before anything is sent.";

/// The page of `cmd` (at `path`) and of every command under it.
pub(crate) fn decorate(cmd: Command, path: &str) -> Command {
    let mut cmd = cmd;
    let mut marked = false;
    for (_, id, marker) in REQUIRED.iter().filter(|(p, _, _)| *p == path) {
        marked = true;
        cmd = cmd.mut_arg(*id, |arg| {
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            let arg = arg.help(format!("{help} {marker}"));
            match arg.get_long_help().map(ToString::to_string) {
                Some(long) => arg.long_help(format!("{long} {marker}")),
                None => arg,
            }
        });
    }
    let mut after = cmd
        .get_after_help()
        .map(ToString::to_string)
        .unwrap_or_default();
    if marked {
        push_paragraph(&mut after, REQUIRED_NOTE);
    }
    if let Some((_, examples)) = EXAMPLES.iter().find(|(p, _)| *p == path) {
        let indented: Vec<String> = examples
            .lines()
            .map(|l| match l {
                "" => String::new(),
                l => format!("  {l}"),
            })
            .collect();
        push_paragraph(&mut after, &format!("Examples:\n{}", indented.join("\n")));
    }
    if !after.is_empty() {
        cmd = cmd.after_help(after);
    }
    cmd.mut_subcommands(|sub| {
        let name = sub.get_name().to_owned();
        let path = match path {
            "" => name,
            p => format!("{p} {name}"),
        };
        decorate(sub, &path)
    })
}

fn push_paragraph(text: &mut String, paragraph: &str) {
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(paragraph);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::CommandFactory;

    /// Every command path named here exists, every required marker names a flag of its
    /// command, and no example line wraps on a 60-column terminal.
    #[test]
    fn every_table_row_names_a_real_command_and_flag() {
        let cmd = Cli::command();
        let find = |path: &str| -> Option<Command> {
            let mut c = cmd.clone();
            for name in path.split_whitespace() {
                c = c.find_subcommand(name)?.clone();
            }
            Some(c)
        };
        for (path, examples) in EXAMPLES {
            assert!(find(path).is_some(), "no command `{path}`");
            for line in examples.lines() {
                assert!(line.len() + 2 <= 58, "`{line}` wraps at 60 columns");
            }
        }
        for (path, id, _) in REQUIRED {
            let c = find(path).unwrap_or_else(|| panic!("no command `{path}`"));
            assert!(
                c.get_arguments().any(|a| a.get_id() == *id),
                "`{path}` has no flag `{id}`"
            );
        }
    }

    /// Every example is a command line the definition accepts (a renamed flag fails here, not
    /// in front of an operator).
    #[test]
    fn every_example_parses() {
        for (path, examples) in EXAMPLES {
            let joined = examples.replace("\\\n", " ");
            for line in joined
                .lines()
                .filter(|l| l.contains("tokrot ") && !l.trim_start().starts_with('#'))
            {
                let from = line.find("tokrot ").unwrap_or(0);
                let words: Vec<&str> = line[from..]
                    .split_whitespace()
                    .take_while(|w| !["|", "<", ">", "&&", ")"].contains(w))
                    .collect();
                let words: Vec<&str> = words.into_iter().map(|w| w.trim_end_matches(')')).collect();
                if let Err(e) = super::super::command().try_get_matches_from(&words) {
                    panic!("`{path}` example `{line}` does not parse: {e}");
                }
            }
        }
    }

    /// The flags marked required are the runbooks' required parameters (and their one-of
    /// groups): the marks cannot drift from what a run asks for.
    #[test]
    fn required_marks_follow_the_runbooks() {
        let catalogue = crate::runbook::Catalogue::load(None).unwrap();
        let cmd = Cli::command();
        let mut compared = 0;
        for verb in ["rotate", "apply"] {
            let Some(group) = cmd.find_subcommand(verb) else {
                continue;
            };
            for sub in group.get_subcommands() {
                let Some(runbook) = catalogue.get(sub.get_name()) else {
                    continue;
                };
                let path = format!("{verb} {}", sub.get_name());
                for p in &runbook.params {
                    let has_flag = sub.get_arguments().any(|a| a.get_id() == p.name.as_str());
                    let needed = p.required || p.one_of.is_some();
                    let marked = REQUIRED
                        .iter()
                        .any(|(rp, id, _)| *rp == path && *id == p.name);
                    if has_flag && p.name != "self_" {
                        assert_eq!(
                            needed, marked,
                            "`{path}` --{}: required {needed}, marked {marked}",
                            p.name
                        );
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 20, "only {compared} flags compared");
    }

    /// Every page (but clap's own `help`) has examples.
    #[test]
    fn every_command_page_has_examples() {
        fn walk(cmd: &Command, path: &str, missing: &mut Vec<String>) {
            if !EXAMPLES.iter().any(|(p, _)| *p == path) {
                missing.push(path.to_owned());
            }
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                let p = match path {
                    "" => sub.get_name().to_owned(),
                    p => format!("{p} {}", sub.get_name()),
                };
                walk(sub, &p, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "pages without examples: {missing:?}");
    }
}
