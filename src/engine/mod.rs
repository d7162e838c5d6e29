//! The engine: resolves a runbook into a plan, renders it as a checklist, and walks the
//! operator through it with a `Prompter`.

pub mod auth;
pub mod credentials;
pub mod interrupt;
pub mod naming;
pub mod pick;
pub mod plan;
pub mod prompt;
pub mod protocol;
pub mod render;
pub mod resume;
pub mod seams;
pub mod session;
pub mod target;
pub mod walk;

#[cfg(test)]
mod tests;
