//! The one user-facing error: a message, a hint and an exit code, made from the typed errors of
//! the layers below.

use std::fmt;
use std::io;

use crate::config::ConfigError;
use crate::engine::plan::PlanError;
use crate::engine::prompt::PromptError;
use crate::engine::walk::WalkError;
use crate::exit;
use crate::inventory::naming::ConsumerError;
use crate::runbook::catalogue::CatalogueError;

/// An error as the operator reads it.
#[derive(Debug)]
pub struct CliError {
    /// Exit code (see `exit`).
    pub code: i32,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// Print nothing (a closed pipe).
    pub quiet: bool,
    /// The JSON report already says it (`--output json`): no second document.
    pub reported: bool,
}

impl CliError {
    /// Bad input: nothing was changed (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: exit::USAGE,
            message: message.into(),
            hint: None,
            quiet: false,
            reported: false,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A copy with message and hint redacted.
    pub fn clone_redacted(&self, redactor: &crate::secret::Redactor) -> Self {
        Self {
            code: self.code,
            message: redactor.redact(&self.message),
            hint: self.hint.as_deref().map(|h| redactor.redact(h)),
            quiet: self.quiet,
            reported: self.reported,
        }
    }

    /// Rewrites message and hint (redaction).
    pub fn map_text(mut self, f: impl Fn(&str) -> String) -> Self {
        self.message = f(&self.message);
        self.hint = self.hint.as_deref().map(&f);
        self
    }
}

impl CliError {
    /// The error as `--output json` prints it (CLI.md): one document on stdout.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "schema_version": super::context::SCHEMA_VERSION,
            "error": self.error_json(),
            "exit_code": self.code,
        })
    }

    /// The `error` of a JSON document: `{message, hint}`.
    pub fn error_json(&self) -> serde_json::Value {
        serde_json::json!({"message": self.message, "hint": self.hint})
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        let hint = match &e {
            ConfigError::UnknownInstance { .. } => Some(
                "`tokrot instances` lists them; add one under [zendesk.instances.ID] in the config file",
            ),
            _ => None,
        };
        let err = CliError::usage(e.to_string());
        match hint {
            Some(h) => err.hint(h),
            None => err,
        }
    }
}

impl From<CatalogueError> for CliError {
    fn from(e: CatalogueError) -> Self {
        CliError::usage(e.to_string())
            .hint("fix the runbook, or leave out --runbooks / TOKROT_RUNBOOKS; a broken runbook is never skipped")
    }
}

impl From<PlanError> for CliError {
    fn from(e: PlanError) -> Self {
        CliError::usage(e.to_string())
    }
}

impl From<ConsumerError> for CliError {
    fn from(e: ConsumerError) -> Self {
        CliError::usage(e.to_string())
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        Self {
            code: if e.kind() == io::ErrorKind::BrokenPipe {
                exit::OK
            } else {
                exit::FAILED
            },
            quiet: e.kind() == io::ErrorKind::BrokenPipe,
            reported: false,
            message: format!("cannot write output: {e}"),
            hint: None,
        }
    }
}

/// "; clean-up still to do by hand: step 7 (…), step 8 (…)", or nothing.
fn pending_text(cleanup_pending: &[(usize, String)]) -> String {
    if cleanup_pending.is_empty() {
        return String::new();
    }
    format!(
        "; clean-up still to do by hand: {}",
        cleanup_pending
            .iter()
            .map(|(n, t)| format!("step {n} ({t})"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A question at step `at` got no answer.
fn prompt_error(at: usize, source: PromptError, pending: &str) -> CliError {
    let (code, message) = match source {
        PromptError::Interrupted => (
            exit::INTERRUPTED,
            format!("interrupted at step {at}; nothing after it was done{pending}"),
        ),
        PromptError::NotATerminal => (
            exit::USAGE,
            format!("step {at} needs an answer and there is no terminal to ask on{pending}"),
        ),
        PromptError::Unattended { what, how } => (
            exit::USAGE,
            format!("step {at}: {what} cannot be answered with --yes: {how}{pending}"),
        ),
        PromptError::Io(io) => (
            exit::FAILED,
            format!("step {at}: terminal error: {io}{pending}"),
        ),
    };
    CliError {
        code,
        message,
        hint: None,
        quiet: false,
        reported: false,
    }
}

/// A step failed (or was refused): exit 1 when something had changed before it, else 2.
fn step_error(message: String, changed: bool) -> CliError {
    CliError {
        code: if changed { exit::FAILED } else { exit::USAGE },
        message,
        hint: Some(if changed {
            "what was done before this step stays done; the report above says what changed".into()
        } else {
            "nothing was changed".into()
        }),
        quiet: false,
        reported: false,
    }
}

impl From<WalkError> for CliError {
    fn from(e: WalkError) -> Self {
        match e {
            WalkError::Prompt {
                at,
                source,
                cleanup_pending,
            } => prompt_error(at, source, &pending_text(&cleanup_pending)),
            WalkError::Interrupted {
                ref cleanup_pending,
                ..
            } => Self {
                code: exit::INTERRUPTED,
                message: format!("{e}{}", pending_text(cleanup_pending)),
                hint: None,
                quiet: false,
                reported: false,
            },
            WalkError::Io(io) => io.into(),
            WalkError::Preflight { .. } => CliError::usage(e.to_string()).hint(
                "fix what it names (a target that cannot be fixed now can be left out) and run again; `--dry-run` runs the same checks and changes nothing",
            ),
            WalkError::Unverified { .. } => CliError::usage(e.to_string()),
            WalkError::Failed { changed, .. } => {
                let mut err = step_error(e.to_string(), changed);
                err.code = exit::FAILED;
                err
            }
            WalkError::Refused { changed, .. } => step_error(e.to_string(), changed),
            WalkError::Unknown { .. } => Self {
                code: exit::UNKNOWN,
                message: e.to_string(),
                hint: Some(
                    "do NOT run the rotation again with the old token: GitLab would revoke the whole token family. \
                     List the tokens with your admin credential (`GET /personal_access_tokens?state=active`, or the project's or group's \
                     access tokens) to see whether a new one was made, and rotate that one with the admin credential"
                        .into(),
                ),
                quiet: false,
                reported: false,
            },
        }
    }
}

/// An inventory that cannot be read, with where its format is described when there is none.
pub(crate) fn inventory_error(e: crate::inventory::InventoryError) -> CliError {
    let err = CliError::usage(e.to_string());
    match e {
        crate::inventory::InventoryError::Missing => {
            err.hint("the inventory's format: README.md, \"Keeping track of tokens\"")
        }
        _ => err,
    }
}
