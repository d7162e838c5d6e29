//! What a team has: the inventory file (`file`, re-exported here), the kinds of token and of
//! consumer (`source`, `target`), where each token stands (`status`) and what the vendors list
//! that the inventory does not name yet (`discover`, with the handbook's naming rule in
//! `naming`). Below the engine, which rotates what this describes; above the clients it reads
//! through. It never rotates, prompts or journals.

mod file;

pub mod discover;
pub mod naming;
pub mod source;
pub mod status;
pub mod target;

pub use file::*;
