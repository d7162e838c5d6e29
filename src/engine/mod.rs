//! The engine: the rotation protocol (`protocol`: start, walk, conclude, with its `runner` that
//! journals each step; `resume`: reopening a run; `interrupt`: signals; `seams`: the actions and
//! the keeper it works through), the walk of a plan's steps (`walk`, with its fan-out over
//! targets), plans (`plan`, and `learned`: what steps learned, put into the plan's lines), what
//! a run tells as it goes (`report`: typed events that cli renders), what a run is given and the
//! clients and keeper it makes (`session`), the tool's credentials (`credentials`, `auth`), pick
//! lists (`pick`), prompts (`prompt`) and past runs as the journal tells them (`history`). The
//! kinds of token and consumer it works with, the inventory, status and discovery are
//! `inventory`'s.

pub mod auth;
pub mod credentials;
pub mod history;
pub mod interrupt;
pub mod learned;
pub mod lineage;
pub mod outcome;
pub mod pick;
pub mod plan;
pub mod prompt;
pub mod protocol;
pub mod report;
pub mod resume;
pub mod seams;
pub mod session;
pub mod walk;

#[cfg(test)]
mod tests;
