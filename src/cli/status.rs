//! `tokrot status [--within DAYS] [--check]`: every token of the inventory and every one the
//! vendors list that it does not name, soonest expiry first; `--check` exits 1 when anything
//! needs a person (expired, due, revoked, not read, an entry that cannot be run, a rotation
//! left unfinished), for a scheduled pipeline.

use std::collections::HashMap;

use serde_json::json;

use super::inventory::load;
use super::{CliError, Ctx, Outcome};
use crate::engine::plan::{Mode, Plan, WalkKind, resolve};
use crate::engine::{protocol, session};
use crate::inventory::status::{self, Place, Report, State, Vendors};
use crate::inventory::{Credential, Inventory};
use crate::table::{Layout, Table};
use crate::ui::Ui;

/// Arguments of `tokrot status`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "States: expired, due (expires within the window), ok, no-expiry, unlisted \
(the vendors list it, the inventory does not), revoked (revoked or inactive at the vendor before \
its expiry), unknown (could not be read).\n\nIn a scheduled pipeline: `tokrot status --check` \
exits 1 while anything needs a person: a token expired, due, revoked or not read, an inventory \
entry that cannot be run, or a rotation that made a token and did not finish (`tokrot resume \
ID`)."
)]
pub struct StatusArgs {
    /// A token is due when it expires within DAYS [default: the inventory's rotate_before_days].
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(0..=365))]
    pub within: Option<u32>,
    /// Exit 1 when anything needs a person (expired, due, revoked, not read, an entry that
    /// cannot be run, an unfinished rotation).
    #[arg(long)]
    pub check: bool,
}

/// Whether a credential's rotation needs no human (no manual step, no gate that `--approve`
/// does not pass, no paste), or why its entry cannot be run at all (an unknown runbook, a
/// parameter it lacks or does not take): an error to fix, never "needs a human".
pub(crate) fn unattended(ctx: &Ctx, c: &Credential) -> Result<bool, String> {
    let plan = plan_of(ctx, c)?;
    Ok(!plan.steps.iter().any(|s| match s.walk {
        WalkKind::Manual => true,
        // A gate passed with `--approve GATE_ID` needs no one at the terminal.
        WalkKind::Gate { ref id, .. } => !ctx.global.approve.iter().any(|a| a.gate == *id),
        WalkKind::Capture { .. } => s.target_index.is_none(),
        _ => false,
    }))
}

/// A credential's plan, as `rotate --credential NAME` makes it; an error says what its entry
/// must fix.
fn plan_of(ctx: &Ctx, c: &Credential) -> Result<Plan, String> {
    let runbook = ctx
        .catalogue
        .get(&c.runbook)
        .ok_or_else(|| format!("no runbook `{}`", c.runbook))?;
    let plan = resolve(
        runbook,
        &super::inventory::params_of(c, &ctx.catalogue),
        &c.targets,
        Mode::Resolve,
        &ctx.config,
        &ctx.catalogue,
    )
    .map_err(|e| e.to_string())?;
    match plan.missing.first() {
        Some(m) => Err(format!(
            "needs {} ({}) in its params",
            m.param.name, m.param.prompt
        )),
        None => Ok(plan),
    }
}

/// The gates of a credential's rotation: a `--due` child is given only the `--approve` of its
/// own gates (one batch's approvals are no error for a runbook that has no such gate).
pub(crate) fn gates(ctx: &Ctx, c: &Credential) -> Vec<String> {
    plan_of(ctx, c)
        .map(|p| {
            p.steps
                .iter()
                .filter_map(|s| match &s.walk {
                    WalkKind::Gate { id, .. } => Some(id.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every token the inventory names or the vendors list, read side by side (with a bar on a
/// terminal), and the window that makes one due: what `status` shows and `rotate --due` acts on.
pub(crate) async fn read_all(
    ctx: &mut Ctx,
    inv: &Inventory,
    within: Option<u32>,
    command: &str,
) -> (Report, u32) {
    let unattended: HashMap<String, Result<bool, String>> = inv
        .credentials
        .iter()
        .map(|c| (c.name.clone(), unattended(ctx, c)))
        .collect();
    ctx.warn_repointed(true, []);
    let gitlab = session::gitlab_client(command, &ctx.config, ctx.ui.redactor(), ctx.policy()).ok();
    let zendesk = super::vendors::zendesk_clients(ctx, inv);
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

/// A rotation that made a new token and did not finish: its consumers may hold a dead token.
pub(crate) struct Unfinished {
    id: String,
    runbook: String,
    credential: Option<String>,
    standing: crate::model::Standing,
}

/// The rotations whose targets may not hold their new token; a journal that cannot be read is
/// said as a note, not passed.
fn unfinished(ctx: &Ctx) -> (Vec<Unfinished>, Option<String>) {
    let found = super::execute::state_dir(ctx)
        .map_err(|e| e.message)
        .and_then(|dir| {
            crate::engine::history::unfinished_rotations(&dir).map_err(|e| e.to_string())
        });
    match found {
        Ok((runs, unread)) => (
            runs.into_iter()
                .map(|(d, standing)| Unfinished {
                    id: d.id,
                    runbook: d.runbook,
                    credential: d.credential,
                    standing,
                })
                .collect(),
            // A journal that cannot be read may be a rotation left unfinished.
            (!unread.is_empty()).then(|| {
                format!(
                    "{} journal(s) could not be read, and any may be a rotation left unfinished: {}",
                    unread.len(),
                    unread
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }),
        ),
        Err(e) => (
            Vec::new(),
            Some(format!("the journal could not be read: {e}")),
        ),
    }
}

/// Shows the status.
pub async fn run(ctx: &mut Ctx, args: &StatusArgs) -> Result<Outcome, CliError> {
    let inv = load(ctx)?;
    let (mut report, due_days) = read_all(ctx, &inv, args.within, "tokrot status").await;
    let (runs, journal_note) = unfinished(ctx);
    report.notes.extend(journal_note.clone());
    if ctx.json() {
        ctx.print_json(&report_json(&report, due_days, &runs))?;
    } else {
        let layout = ctx.table_layout();
        let (table, said) = report_text(&report, due_days, &runs, &ctx.ui, layout);
        ctx.ui.table(&table)?;
        for line in said {
            ctx.ui.status(&line)?;
        }
    }
    if !args.check {
        return Ok(Outcome::Done);
    }
    // Everything a person must act on fails the check: a scheduled job is red exactly then.
    let count =
        |f: &dyn Fn(&status::Row) -> bool| report.needing_a_person().filter(|r| f(r)).count();
    let due = count(&|r| matches!(r.state, State::Expired | State::Due));
    let revoked = count(&|r| r.state == State::Revoked);
    let unread = count(&|r| r.state == State::Unknown);
    let broken = count(&|r| r.plan_error.is_some());
    let mut said = Vec::new();
    if due > 0 {
        said.push(format!("{due} token(s) expired or due for rotation"));
    }
    if revoked > 0 {
        said.push(format!("{revoked} revoked or inactive at the vendor"));
    }
    if unread > 0 {
        said.push(format!("{unread} could not be read"));
    }
    if broken > 0 {
        said.push(format!("{broken} inventory entr(y/ies) that cannot be run"));
    }
    if !runs.is_empty() {
        said.push(format!(
            "{} rotation(s) not finished: {}",
            runs.len(),
            runs.iter()
                .map(|r| format!("`tokrot resume {}`", r.id))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(note) = journal_note {
        said.push(note);
    }
    if said.is_empty() {
        return Ok(Outcome::Done);
    }
    let mut err = CliError::usage(said.join("; "))
        .hint("`tokrot rotate --due` rotates what is due; `tokrot rotate --credential NAME` one of them; the table says why a token could not be read or an entry cannot be run");
    err.code = crate::exit::FAILED;
    err.reported = ctx.json();
    Err(err)
}

fn report_json(report: &Report, due_days: u32, runs: &[Unfinished]) -> serde_json::Value {
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
                   "unattended": r.unattended, "note": r.note, "plan_error": r.plan_error,
                   "relays": r.relays.iter().map(|(spec, host)| json!({"spec": spec, "host": host})).collect::<Vec<_>>()})
        })
        .collect();
    let runs: Vec<_> = runs
        .iter()
        .map(|r| json!({"id": r.id, "runbook": r.runbook, "credential": r.credential, "standing": r.standing}))
        .collect();
    json!({"due_within_days": due_days, "tokens": rows, "notes": report.notes, "unfinished": runs})
}

/// The table of tokens (stdout), and what is said about it: the due window, unfinished runs and
/// notes (stderr, so that a piped table is rows only).
fn report_text(
    report: &Report,
    due_days: u32,
    runs: &[Unfinished],
    ui: &Ui,
    layout: Layout,
) -> (String, Vec<String>) {
    use crate::table::Kind::{Extra, Free, Key};
    let mut table = Table::new(&[
        ("NAME", Free),
        ("KIND", Key),
        ("WHERE", Free),
        ("EXPIRES", Key),
        ("DAYS", Key),
        ("LAST USED", Extra),
        ("STATE", Free),
        ("UNATTENDED", Extra),
        ("CONSUMERS", Free),
    ]);
    for r in &report.rows {
        // What needs acting on stands out where colour is seen: due yellow, dead red.
        let word = match r.state {
            State::Due => ui.warn(r.state.as_str()),
            State::Expired | State::Revoked => ui.alarm(r.state.as_str()),
            _ => r.state.as_str().to_owned(),
        };
        let mut state = match &r.note {
            Some(note) => format!("{word} ({note})"),
            None => word,
        };
        if let Some(e) = &r.plan_error {
            state.push_str(&format!(
                " (entry cannot be run: {})",
                crate::text::one_line(e)
            ));
        }
        table.row(vec![
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
                // A consumer allowed to carry the token to another host says so.
                r.consumers
                    .iter()
                    .map(|c| match r.relays.iter().find(|(spec, _)| spec == c) {
                        Some((_, host)) => format!("{c} (via {host})"),
                        None => c.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ]);
    }
    let mut said = vec![format!("due: expires within {due_days} days")];
    for r in runs {
        said.push(format!(
            "unfinished: run {} ({}{}) is {}: its targets may not hold its new token; `tokrot resume {}` finishes it",
            r.id,
            r.runbook,
            r.credential
                .as_deref()
                .map(|c| format!(", credential {}", crate::text::one_line(c)))
                .unwrap_or_default(),
            r.standing,
            r.id
        ));
    }
    for note in &report.notes {
        said.push(format!("note: {note}"));
    }
    (table.render(layout), said)
}
