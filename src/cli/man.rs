//! `tokrot man`: the manual pages, made from the same definition as `--help` (so they never
//! disagree with it): `tokrot.1` on stdout, or one page per command into a directory.

use std::path::{Path, PathBuf};

use super::{CliError, Outcome};
use crate::ui::Ui;

/// Arguments of `tokrot man`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Without --dir, the page of tokrot itself goes to stdout. With --dir, every command gets its page (tokrot-rotate-gitlab-pat.1 and so on), written into DIR."
)]
pub struct ManArgs {
    /// Write every command's page into DIR instead.
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
}

/// Prints or writes the pages. They need no configuration: a broken config file does not keep
/// them away.
pub fn run(ui: &mut Ui, args: &ManArgs) -> Result<Outcome, CliError> {
    let mut cmd = super::command().disable_help_subcommand(true);
    cmd.build();
    match &args.dir {
        None => {
            let page = render(&cmd, true)
                .map_err(|e| CliError::usage(format!("cannot render the page: {e}")))?;
            ui.out(&String::from_utf8_lossy(&page))?;
        }
        Some(dir) => {
            let failed = |e: std::io::Error| {
                CliError::usage(format!(
                    "cannot write the pages into {}: {e}",
                    dir.display()
                ))
            };
            // Made in a fresh directory of our own inside DIR, then renamed into place: a
            // rename replaces a link planted at a page's name instead of writing through it.
            let fresh = tempfile::Builder::new()
                .prefix(".tokrot-man-")
                .tempdir_in(dir)
                .map_err(failed)?;
            write_pages(&cmd, fresh.path(), true).map_err(failed)?;
            for entry in std::fs::read_dir(fresh.path()).map_err(failed)? {
                let entry = entry.map_err(failed)?;
                std::fs::rename(entry.path(), dir.join(entry.file_name())).map_err(failed)?;
            }
            let line = format!("Manual pages written into {}.", dir.display());
            ui.status(&line)?;
        }
    }
    Ok(Outcome::Done)
}

/// The page of `cmd` and of every command under it, into `dir` (`tokrot-rotate-gitlab-pat.1`).
fn write_pages(cmd: &clap::Command, dir: &Path, top: bool) -> std::io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, false)?;
    }
    let name = format!("{}.1", cmd.get_display_name().unwrap_or(cmd.get_name()));
    std::fs::write(dir.join(name), render(cmd, top)?)
}

/// One page: clap's sections (so it never disagrees with `--help`), then what a manual page
/// has under its own headings: for tokrot itself EXIT STATUS, ENVIRONMENT and EXAMPLES; for a
/// command its notes and examples.
fn render(cmd: &clap::Command, top: bool) -> std::io::Result<Vec<u8>> {
    use clap_mangen::roff::{Roff, bold, roman};
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    if cmd.get_long_about().or(cmd.get_about()).is_some() {
        man.render_description_section(&mut page)?;
    }
    man.render_options_section(&mut page)?;
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut page)?;
    }
    let mut roff = Roff::default();
    let paragraphs = |roff: &mut Roff, text: &str| {
        for line in text.lines() {
            match line.trim() {
                "" => roff.control("PP", []),
                l => roff.text([roman(l)]),
            };
        }
    };
    let after = cmd
        .get_after_help()
        .map(ToString::to_string)
        .unwrap_or_default();
    // The examples, kept apart from the notes before them.
    let (notes, examples) = match after.split_once("Examples:\n") {
        Some((notes, examples)) => (notes.to_owned(), Some(examples.to_owned())),
        None => (after.clone(), None),
    };
    if top {
        roff.control("SH", ["EXIT STATUS"]);
        for (code, meaning) in crate::exit::MEANINGS {
            roff.control("TP", []);
            roff.text([bold(code.to_string())]);
            roff.text([roman(*meaning)]);
        }
        roff.control("PP", []);
        roff.text([roman(super::SCHEDULED)]);
        roff.control("SH", ["ENVIRONMENT"]);
        for (name, meaning) in ENVIRONMENT {
            roff.control("TP", []);
            roff.text([bold(*name)]);
            roff.text([roman(*meaning)]);
        }
        roff.control("SH", ["NOTES"]);
        roff.text([roman(super::NEVER_SHOWN)]);
    } else if !notes.trim().is_empty() {
        roff.control("SH", ["NOTES"]);
        paragraphs(&mut roff, notes.trim());
    }
    if let Some(examples) = examples {
        roff.control("SH", ["EXAMPLES"]);
        roff.control("nf", []);
        for line in examples.lines() {
            roff.text([roman(line.trim_start_matches("  "))]);
        }
        roff.control("fi", []);
    }
    roff.to_writer(&mut page)?;
    man.render_version_section(&mut page)?;
    Ok(page)
}

/// The environment variables tokrot reads, and what for (a test holds it to the flags').
pub(crate) const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "GITLAB_TOKEN",
        "tokrot's own GitLab credential (wins over the keyring).",
    ),
    ("GITLAB_URL", "GitLab's base URL, as --gitlab-url."),
    (
        "ZENDESK_OAUTH_TOKEN",
        "tokrot's own Zendesk credential, an OAuth token, for the instance ZENDESK_INSTANCE names.",
    ),
    (
        "ZENDESK_EMAIL",
        "With ZENDESK_API_TOKEN: tokrot's own Zendesk credential as email and API token.",
    ),
    ("ZENDESK_API_TOKEN", "With ZENDESK_EMAIL: see there."),
    (
        "ZENDESK_INSTANCE",
        "The instance (id or URL) the Zendesk environment credential belongs to; without it, only an instance a command names gets it.",
    ),
    ("TOKROT_CONFIG", "The configuration file, as --config."),
    ("TOKROT_RUNBOOKS", "Extra runbooks, as --runbooks."),
    ("TOKROT_INVENTORY", "The inventory, as --inventory."),
    ("TOKROT_STATE_DIR", "Journal and audit log, as --state-dir."),
    ("TOKROT_CONCURRENCY", "Targets at once, as --concurrency."),
    (
        "TOKROT_HTTP_TIMEOUT",
        "Seconds one request may take, as --http-timeout.",
    ),
    (
        "TOKROT_MAX_WAIT",
        "The longest wait for a vendor's rate limit, as --max-wait.",
    ),
    (
        "TOKROT_PAGER",
        "The pager for long output on a terminal; empty or cat: none.",
    ),
    (
        "PAGER",
        "The pager when TOKROT_PAGER is not set (else less -FRX).",
    ),
    ("NO_COLOR", "Any non-empty value: no colour."),
    (
        "CLICOLOR_FORCE",
        "Any value but 0: colour even when not on a terminal.",
    ),
    (
        "XDG_CONFIG_HOME",
        "Where config.toml and inventory.toml are looked for (tokrot/ below it; else ~/.config).",
    ),
    (
        "XDG_STATE_HOME",
        "Where the journal and the audit log go (tokrot/ below it; else ~/.local/state).",
    ),
    (
        "COLUMNS",
        "The width text and tables are fitted to when stdout is not a terminal (set, a table keeps its terminal layout).",
    ),
    ("TERM", "dumb: no colour."),
    (
        "LESS",
        "Options of less; when unset, tokrot runs the pager with LESS=FRX.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_a_flag_reads_is_in_the_environment_section() {
        let cmd = crate::cli::command();
        let mut seen = Vec::new();
        let mut all = vec![cmd];
        while let Some(c) = all.pop() {
            for arg in c.get_arguments() {
                if let Some(env) = arg.get_env() {
                    seen.push(env.to_string_lossy().into_owned());
                }
            }
            all.extend(c.get_subcommands().cloned());
        }
        assert!(seen.contains(&"TOKROT_MAX_WAIT".to_owned()), "{seen:?}");
        for env in seen {
            assert!(
                ENVIRONMENT.iter().any(|(name, _)| *name == env),
                "{env} is read by a flag but not in ENVIRONMENT"
            );
        }
    }

    #[test]
    fn the_page_has_exit_status_and_environment_and_no_extra() {
        let mut cmd = crate::cli::command().disable_help_subcommand(true);
        cmd.build();
        let page = String::from_utf8(render(&cmd, true).unwrap()).unwrap();
        for heading in [
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SH EXAMPLES",
            ".SH OPTIONS",
        ] {
            assert!(page.contains(heading), "{heading} missing:\n{page}");
        }
        assert!(!page.contains("EXTRA"), "{page}");
        assert!(page.contains("outcome unknown"), "{page}");
        assert!(page.contains("CLICOLOR_FORCE"), "{page}");
    }
}
