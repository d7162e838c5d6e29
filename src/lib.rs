//! tokrot rotates GitLab and Zendesk API tokens and puts the new token into place, walking the
//! operator through the handbook's runbooks and never showing a secret.
//!
//! Layers run one way: `cli` → `engine` → `runbook`, `actions` → `config`, `secret`.

pub mod actions;
pub mod cli;
pub mod clients;
pub mod config;
pub mod engine;
pub mod exit;
pub mod logging;
pub mod runbook;
pub mod secret;
pub mod state;
pub mod text;
pub mod ui;

pub use cli::{Cli, CliError, Outcome};

/// Runs a parsed command line. `main` turns the result into the exit code.
pub async fn run(cli: Cli) -> Result<Outcome, CliError> {
    cli::dispatch(cli).await
}
