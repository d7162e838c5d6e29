//! tokrot rotates GitLab and Zendesk API tokens and puts the new token into place, walking the
//! operator through the handbook's runbooks and never showing a secret.
//!
//! The module map, top to bottom; a module imports only from the layers below it (a test in
//! this file checks it):
//!
//! - `cli` — clap definitions, one file per command: flags become an engine request; the
//!   engine's report is rendered as text or JSON. No journal, keyring or client code.
//! - `engine` — the rotation protocol in one place (`protocol`: start, walk, conclude;
//!   `resume`: reopening a run), the walk of a plan (`walk`), plans (`plan`), signals
//!   (`interrupt`), the actions and the keeper it works through (`seams`), the tool's
//!   credentials and clients (`credentials`, `session`, `auth`, `pick`), prompts (`prompt`)
//!   and checklists (`render`).
//! - `inventory` — what a team has: the inventory file, the kinds of token and of consumer
//!   (`source`, `target`), where each token stands (`status`) and discovery (`discover`,
//!   `naming`). It reads through the clients; it never rotates, prompts or journals.
//! - `runbook` — TOML wire types, validation into domain types, the embedded catalogue;
//!   `actions` — one enum of typed actions, each action's spec and code side by side by
//!   vendor; actions call clients and return results or questions: they never prompt and never
//!   journal.
//! - `clients` — the HTTP policy every call shares (`http`) and one function per endpoint
//!   (`gitlab`, `zendesk`).
//! - `model` — the protocol's vocabulary (phases, verification), below `state`, which journals
//!   it as it is.
//! - `secret` (secret values, redaction, the keyring), `state` (journal, audit log, locks),
//!   `config` (instances and URLs), and the small shared `ui` (with its `pager` and its
//!   `table` writer), `terminal` (what a prompt changes, put back on a signal), `text`,
//!   `logging`, `exit`.

pub mod actions;
pub mod cli;
pub mod clients;
pub mod config;
pub mod engine;
pub mod exit;
pub mod inventory;
pub mod logging;
pub mod model;
pub mod pager;
pub mod runbook;
pub mod secret;
pub mod state;
pub mod table;
pub mod terminal;
pub mod text;
pub mod ui;

pub use cli::{Cli, CliError, Outcome};

/// Runs a parsed command line. `main` turns the result into the exit code.
pub async fn run(cli: Cli) -> Result<Outcome, CliError> {
    cli::dispatch(cli).await
}

#[cfg(test)]
mod layering {
    //! No module imports one above it.

    use std::path::Path;

    /// Modules and the ones they must never name.
    const RULES: &[(&str, &[&str])] = &[
        ("engine", &["crate::cli"]),
        // The inventory describes; the engine rotates what it describes.
        ("inventory", &["crate::cli", "crate::engine"]),
        // Actions never prompt, journal or keep tokens: the engine does.
        (
            "actions",
            &[
                "crate::cli",
                "crate::engine",
                "crate::state",
                "crate::secret::stash",
            ],
        ),
        ("runbook", &["crate::cli", "crate::engine"]),
        (
            "clients",
            &[
                "crate::cli",
                "crate::engine",
                "crate::actions",
                "crate::runbook",
                "crate::state",
            ],
        ),
        (
            "secret",
            &[
                "crate::cli",
                "crate::engine",
                "crate::actions",
                "crate::runbook",
                "crate::clients",
                "crate::state",
            ],
        ),
        (
            "model.rs",
            &[
                "crate::cli",
                "crate::engine",
                "crate::inventory",
                "crate::actions",
                "crate::runbook",
                "crate::clients",
                "crate::state",
            ],
        ),
        (
            "state",
            &[
                "crate::cli",
                "crate::engine",
                "crate::actions",
                "crate::runbook",
                "crate::clients",
            ],
        ),
        (
            "config.rs",
            &[
                "crate::cli",
                "crate::engine",
                "crate::actions",
                "crate::runbook",
                "crate::clients",
                "crate::state",
            ],
        ),
    ];

    fn sources(path: &Path, out: &mut Vec<std::path::PathBuf>) {
        if path.is_dir() {
            for e in std::fs::read_dir(path).into_iter().flatten().flatten() {
                sources(&e.path(), out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_path_buf());
        }
    }

    /// Whether `text` names the module `name` (`crate::cli`, not `crate::clients`).
    fn names(text: &str, name: &str) -> bool {
        text.match_indices(name).any(|(at, _)| {
            !text[at + name.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    }

    #[test]
    fn no_module_imports_one_above_it() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut broken = Vec::new();
        for (module, forbidden) in RULES {
            let mut files = Vec::new();
            sources(&src.join(module), &mut files);
            assert!(!files.is_empty(), "no sources for {module}");
            for f in files {
                let text = std::fs::read_to_string(&f).unwrap_or_default();
                for name in *forbidden {
                    if names(&text, name) {
                        broken.push(format!("{} names {name}", f.display()));
                    }
                }
            }
        }
        assert!(broken.is_empty(), "{broken:#?}");
    }
}
