//! The Zendesk clients the team-wide commands read through (`status`, `rotate --due`,
//! `inventory discover`): one for each instance they name where a credential belongs, the
//! environment's going to one named instance only. Apart from those commands, so that each
//! uses it without using the others.

use std::collections::HashMap;

use super::Ctx;
use crate::clients::zendesk::Zendesk;
use crate::engine::credentials::{self, Reach};
use crate::inventory::Inventory;

/// The Zendesk clients of the instances an inventory mentions, where a credential belongs.
pub(crate) fn zendesk_clients(ctx: &Ctx, inv: &Inventory) -> HashMap<String, Zendesk> {
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
/// instance only).
pub(crate) fn clients_of(ctx: &Ctx, ids: &[String]) -> HashMap<String, Zendesk> {
    let mut ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    let reach = if ids.len() == 1 {
        Reach::Named
    } else {
        Reach::Listed
    };
    let mut out = HashMap::new();
    for id in ids {
        let Ok(instance) = ctx.config.instance(id) else {
            continue;
        };
        ctx.warn_repointed(false, [instance]);
        if let Ok(Some((auth, _))) = credentials::zendesk_auth(instance, reach)
            && let Ok(client) =
                Zendesk::new(&instance.url, auth, ctx.ui.redactor().clone(), ctx.policy())
        {
            out.insert(id.to_owned(), client);
        }
    }
    out
}
