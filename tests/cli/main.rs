//! End-to-end tests of the `tokrot` binary: every command run as an operator would, in a
//! hermetic environment (empty HOME, no credentials, no network).

#![allow(clippy::unwrap_used)]

mod common;

mod auth;
mod catalogue;
mod config;
mod consumers;
mod dry_run;
mod edges;
mod faults;
mod gitlab_client;
mod gitlab_e2e;
mod inventory;
mod json;
mod next_steps;
mod protocol;
mod rate;
mod runbook_errors;
mod scheduled;
mod signing;
mod stand_in;
mod targets;
mod ux;
mod walk;
mod zendesk_client;
mod zendesk_e2e;
