//! `tokrot status [--within DAYS] [--check]`: every token of the inventory and every one the
//! vendors list that it does not name, soonest expiry first; `--check` exits 1 when anything is
//! expired or due, for a scheduled pipeline.

use std::collections::HashMap;

use serde_json::json;

use super::inventory::load;
use super::{CliError, Ctx, Outcome};
use crate::clients::zendesk::Zendesk;
use crate::engine::credentials::{self, Reach};
use crate::engine::inventory::{Credential, Inventory};
use crate::engine::plan::{Mode, WalkKind, resolve};
use crate::engine::status::{self, Place, Report, Vendors};
use crate::engine::{protocol, session};

/// Arguments of `tokrot status`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "States: expired, due (expires within the window), ok, no-expiry, unlisted \
(the vendors list it, the inventory does not), unknown (could not be read).\n\nIn a scheduled \
pipeline: `tokrot status --check` (exit 1 when anything is expired or due)."
)]
pub struct StatusArgs {
    /// A token is due when it expires within DAYS [default: the inventory's rotate_before_days].
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(0..=365))]
    pub within: Option<u32>,
    /// Exit 1 when anything is expired or due.
    #[arg(long)]
    pub check: bool,
}

/// Whether a credential's rotation needs no human: no manual step, no gate that `--approve`
/// does not pass, no paste.
pub(crate) fn unattended(ctx: &Ctx, c: &Credential) -> bool {
    let Some(runbook) = ctx.catalogue.get(&c.runbook) else {
        return false;
    };
    let Ok(plan) = resolve(
        runbook,
        &super::inventory::params_of(c),
        &c.targets,
        Mode::Resolve,
        &ctx.config,
        &ctx.catalogue,
    ) else {
        return false;
    };
    plan.missing.is_empty()
        && !plan.steps.iter().any(|s| match s.walk {
            WalkKind::Manual => true,
            // A gate passed with `--approve GATE_ID` needs no one at the terminal.
            WalkKind::Gate { ref id, .. } => !ctx.global.approve.iter().any(|a| a.gate == *id),
            WalkKind::Capture { .. } => s.target_index.is_none(),
            _ => false,
        })
}

/// The Zendesk clients of the instances an inventory mentions, where a credential belongs.
pub(crate) fn zendesk_clients(ctx: &Ctx, inv: &Inventory) -> HashMap<String, Zendesk> {
    let ids: Vec<String> = inv
        .credentials
        .iter()
        .flat_map(|c| {
            c.param("instance")
                .into_iter()
                .chain(c.targets.iter().filter_map(|t| match t {
                    crate::engine::target::TargetSpec::ZendeskApp { instance, .. }
                    | crate::engine::target::TargetSpec::ZendeskWebhook { instance, .. } => {
                        Some(instance.as_str())
                    }
                    _ => None,
                }))
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

/// Every token the inventory names or the vendors list, read side by side (with a bar on a
/// terminal), and the window that makes one due: what `status` shows and `rotate --due` acts on.
pub(crate) async fn read_all(
    ctx: &mut Ctx,
    inv: &Inventory,
    within: Option<u32>,
    command: &str,
) -> (Report, u32) {
    let unattended: HashMap<String, bool> = inv
        .credentials
        .iter()
        .map(|c| (c.name.clone(), unattended(ctx, c)))
        .collect();
    ctx.warn_repointed(true, []);
    let gitlab = session::gitlab_client(command, &ctx.config, ctx.ui.redactor(), ctx.policy()).ok();
    let zendesk = zendesk_clients(ctx, inv);
    let vendors = Vendors {
        gitlab: gitlab.as_ref(),
        zendesk: &zendesk,
    };
    let due_days = within.unwrap_or(inv.rotate_before_days);
    let concurrency = usize::from(ctx.global.concurrency);
    let progress = ctx.ui.progress(0, "reading the tokens");
    let report = status::status(
        inv,
        &unattended,
        &vendors,
        (protocol::today(), due_days),
        concurrency,
        &progress,
    )
    .await;
    ctx.ui.end_progress(progress);
    (report, due_days)
}

/// Shows the status.
pub async fn run(ctx: &mut Ctx, args: &StatusArgs) -> Result<Outcome, CliError> {
    let inv = load(ctx)?;
    let (report, due_days) = read_all(ctx, &inv, args.within, "tokrot status").await;
    if ctx.json() {
        ctx.print_json(&report_json(&report, due_days))?;
    } else {
        let text = report_text(&report, due_days);
        ctx.ui.page(&text)?;
    }
    let unread = report
        .rows
        .iter()
        .filter(|r| r.state == status::State::Unknown)
        .count();
    if args.check && (report.needs_rotation() || unread > 0) {
        let n = report
            .rows
            .iter()
            .filter(|r| matches!(r.state, status::State::Expired | status::State::Due))
            .count();
        // A token that could not be read may be the one expiring: a check does not pass it.
        let mut err = CliError::usage(format!(
            "{n} token(s) expired or due for rotation, {unread} could not be read"
        ))
        .hint("`tokrot rotate --due` rotates them; `tokrot rotate --credential NAME` one of them; the table says why a token could not be read");
        err.code = crate::exit::FAILED;
        err.reported = ctx.json();
        return Err(err);
    }
    Ok(Outcome::Done)
}

fn report_json(report: &Report, due_days: u32) -> serde_json::Value {
    let rows: Vec<_> = report
        .rows
        .iter()
        .map(|r| {
            let (mut project, mut group, mut instance) = (None, None, None);
            match &r.place {
                Place::Project(p) => project = Some(p),
                Place::Group(g) => group = Some(g),
                Place::Zendesk(i) => instance = Some(i),
                Place::GitLab | Place::Unknown => {}
            }
            json!({"name": r.name, "kind": r.kind, "service": r.place.service(), "instance": instance,
                   "project": project, "group": group, "where": r.place.to_string(), "id": r.id,
                   "expires": r.expires.map(|d| d.to_string()), "days_left": r.days_left,
                   "last_used": r.last_used, "consumers": r.consumers, "state": r.state.as_str(),
                   "unattended": r.unattended, "note": r.note})
        })
        .collect();
    json!({"due_within_days": due_days, "tokens": rows, "notes": report.notes})
}

fn report_text(report: &Report, due_days: u32) -> String {
    let header = [
        "NAME",
        "KIND",
        "WHERE",
        "EXPIRES",
        "DAYS",
        "LAST USED",
        "STATE",
        "UNATTENDED",
        "CONSUMERS",
    ];
    let mut table: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for r in &report.rows {
        let state = match &r.note {
            Some(note) => format!("{} ({note})", r.state.as_str()),
            None => r.state.as_str().to_owned(),
        };
        table.push(vec![
            crate::text::one_line(&r.name),
            r.kind.clone(),
            r.place.to_string(),
            r.expires.map_or_else(|| "-".into(), |d| d.to_string()),
            r.days_left.map_or_else(|| "-".into(), |d| d.to_string()),
            r.last_used.clone().unwrap_or_else(|| "-".into()),
            state,
            r.unattended
                .map_or_else(|| "-".into(), |u| if u { "yes" } else { "no" }.into()),
            if r.consumers.is_empty() {
                "-".into()
            } else {
                r.consumers.join(", ")
            },
        ]);
    }
    let mut out = crate::text::table(&table);
    out.push_str(&format!("due: expires within {due_days} days\n"));
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}
