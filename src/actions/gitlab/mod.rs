//! The GitLab actions, by resource; each file holds the specs of its actions next to their code.

pub mod hooks;
pub mod tokens;
pub mod triggers;
pub mod variables;
