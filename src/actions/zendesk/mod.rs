//! The Zendesk actions, by resource; each file holds the specs of its actions next to their code.

pub mod apps;
pub mod oauth;
pub mod signing;
pub mod users;
pub mod webhooks;
