//! The audit log: one JSON line per rotation outcome in `<state dir>/audit.jsonl` — when, who
//! (the OS user and the vendor users the credentials belong to), what, where, and how it ended.
//! No secret, no hash of one.

use std::path::Path;

use serde::Serialize;

use super::{StateError, append_line};
use crate::secret::Redactor;

/// One outcome.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// When (RFC 3339).
    pub at: jiff::Timestamp,
    /// The rotation id.
    pub rotation_id: String,
    /// The OS user.
    pub os_user: Option<String>,
    /// The GitLab user of the tool's credential.
    pub gitlab_user: Option<String>,
    /// The Zendesk user of the tool's credential.
    pub zendesk_user: Option<String>,
    /// The runbook.
    pub runbook: String,
    /// The Zendesk instance.
    pub instance: Option<String>,
    /// The source's identifying parameters.
    pub source: String,
    /// The new token's id.
    pub new_id: Option<u64>,
    /// The targets' specs.
    pub targets: Vec<String>,
    /// done, kept, incomplete, failed, unknown, aborted, stopped.
    pub outcome: String,
    /// Gates passed unattended: who, when, with what evidence.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<super::journal::ApprovalRecord>,
}

/// Opens the audit log (creating it) as an append would, without writing: a link, a file that
/// is not plain or a looser mode is found before a run starts, not at its end.
pub fn prepare(state_dir: &Path) -> Result<(), StateError> {
    super::ensure_dir(state_dir)?;
    let mut options = super::private_options();
    options.append(true).create(true);
    super::open_private(&state_dir.join("audit.jsonl"), &options).map(drop)
}

/// Appends a record.
pub fn append(
    state_dir: &Path,
    record: &AuditRecord,
    redactor: &Redactor,
) -> Result<(), StateError> {
    let line = serde_json::to_string(record).map_err(|e| StateError::Corrupt {
        path: state_dir.join("audit.jsonl"),
        message: e.to_string(),
    })?;
    append_line(&state_dir.join("audit.jsonl"), &redactor.redact(&line))
}

/// The OS user running tokrot, from the process's effective uid (not from `$USER`, which any
/// caller can set): the account's name, else `uid N`.
pub fn os_user() -> Option<String> {
    #[cfg(unix)]
    {
        let uid = uzers::get_effective_uid();
        Some(uzers::get_user_by_uid(uid).map_or_else(
            || format!("uid {uid}"),
            |u| u.name().to_string_lossy().into_owned(),
        ))
    }
    #[cfg(not(unix))]
    {
        std::env::var("USERNAME").ok().filter(|u| !u.is_empty())
    }
}
