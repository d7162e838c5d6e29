//! The Zendesk clients the team-wide commands read through (`status`, `rotate --due`,
//! `inventory discover`): one for each instance they name where a credential belongs, the
//! environment's going to one named instance only. Apart from those commands, so that each
//! uses it without using the others.

use super::Ctx;
use crate::engine::session::{self, ZendeskClients};
use crate::inventory::Inventory;

/// The Zendesk clients of the instances an inventory mentions, where a credential belongs.
pub(crate) fn zendesk_clients(ctx: &Ctx, inv: &Inventory) -> ZendeskClients {
    let ids: Vec<String> = inv
        .credentials
        .iter()
        .flat_map(|c| {
            c.param("instance")
                .into_iter()
                .chain(c.targets.iter().filter_map(|t| t.instance()))
        })
        .map(str::to_owned)
        .collect();
    clients_of(ctx, &ids)
}

/// The Zendesk clients of these instances, where a credential belongs (the environment's to one
/// instance only); a config file that re-points one is said first.
pub(crate) fn clients_of(ctx: &Ctx, ids: &[String]) -> ZendeskClients {
    let mut named: Vec<&String> = ids.iter().collect();
    named.sort_unstable();
    named.dedup();
    ctx.warn_repointed(
        false,
        named.iter().filter_map(|id| ctx.config.instance(id).ok()),
    );
    session::zendesk_clients(&ctx.config, ids, ctx.ui.redactor(), ctx.policy())
}
