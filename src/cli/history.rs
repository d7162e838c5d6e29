//! `tokrot history [ID]`: past runs from the journal (rotations, applies, checklists), no
//! secrets. Without an id, a table with a header, filtered by runbook, standing and start; with
//! one, that run in full: its steps, targets, outcome, the token it made and what became of it
//! (a later run that rotated it again), and who ran it.

use serde_json::json;

use super::execute::state_dir;
use super::{CliError, Ctx, Outcome};
use crate::engine::history::{self, Query, Run};
use crate::engine::protocol::JournalData;
use crate::engine::protocol::TargetStatus;
use crate::model::Standing;

/// Arguments of `tokrot history`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Statuses: done, kept (the token waits in the keyring for apply --from), incomplete (resume finishes), failed, unknown (the rotate call's answer was lost), aborted, stopped (nothing changed), running, interrupted (the process died; resume goes on)."
)]
pub struct HistoryArgs {
    /// Show this run in full: steps, targets, outcome, successor, who.
    #[arg(value_parser = super::resume::run_id)]
    pub id: Option<String>,
    /// Only runs of this runbook (see `tokrot list`).
    #[arg(long, value_name = "RUNBOOK", conflicts_with = "id")]
    pub runbook: Option<String>,
    /// Only runs that stand so.
    #[arg(long, value_name = "STATUS", conflicts_with = "id")]
    pub status: Option<Standing>,
    /// Only runs started at or after this: a date (2026-11-01), a time (RFC 3339) or an age
    /// (7d, 12h).
    #[arg(long, value_name = "WHEN", conflicts_with = "id", value_parser = since)]
    pub since: Option<jiff::Timestamp>,
    /// Only runs of this inventory credential (rotate --credential, --due).
    #[arg(long, value_name = "NAME", conflicts_with = "id")]
    pub credential: Option<String>,
    /// At most this many runs in the table, the newest (--output json lists every matching
    /// run, oldest first).
    #[arg(long, short = 'L', value_name = "N", default_value_t = 20, conflicts_with = "id",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
}

/// `--since`: a date (midnight UTC), a timestamp, or an age back from now.
fn since(s: &str) -> Result<jiff::Timestamp, String> {
    let s = s.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        return format!("{d}T00:00:00Z")
            .parse::<jiff::Timestamp>()
            .map_err(|e| e.to_string());
    }
    let age = |digits: &str, unit: i64| -> Option<jiff::Timestamp> {
        let n: i64 = digits.parse().ok()?;
        let secs = n.checked_mul(unit)?;
        jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_secs(secs))
            .ok()
    };
    let back = match s.char_indices().last() {
        Some((i, 'd')) => age(&s[..i], 86_400),
        Some((i, 'h')) => age(&s[..i], 3_600),
        Some((i, 'm')) => age(&s[..i], 60),
        _ => None,
    };
    back.ok_or_else(|| {
        format!("`{s}` is not a date (2026-11-01), a time (2026-11-01T09:30:00Z) or an age (7d, 12h, 30m)")
    })
}

/// How a run stands, in words: a kept run says where its token was put so far.
fn shown_standing(all: &[Run], j: &JournalData, standing: Standing) -> String {
    match (standing, history::applied_count(all, &j.id)) {
        (Standing::Kept, 0) => "kept".into(),
        (Standing::Kept, 1) => "kept, applied to 1 target".into(),
        (Standing::Kept, n) => format!("kept, applied to {n} targets"),
        (s, _) => s.as_str().to_owned(),
    }
}

impl clap::ValueEnum for Standing {
    fn value_variants<'a>() -> &'a [Self] {
        &Standing::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

/// Lists runs, newest first (at most `--limit`), or shows one.
pub fn run(ctx: &mut Ctx, args: &HistoryArgs) -> Result<Outcome, CliError> {
    let dir = state_dir(ctx)?;
    let all = history::runs(&dir).map_err(|e| CliError::usage(e.to_string()))?;
    if let Some(id) = &args.id {
        return show(ctx, &all, id);
    }
    let query = Query {
        runbook: args.runbook.clone(),
        standing: args.status,
        since: args.since,
        credential: args.credential.clone(),
    };
    let chosen: Vec<&Run> = all.iter().filter(|r| query.selects(r)).collect();
    if let Some(r) = &args.runbook
        && ctx.catalogue.get(r).is_none()
        && chosen.is_empty()
    {
        let ids = ctx.catalogue.ids();
        let err = CliError::usage(format!("no runbook `{r}`, and no run of one"));
        return Err(match crate::text::closest(r, ids).first() {
            Some(near) => err.hint(format!("did you mean `{near}`? `tokrot list` lists them")),
            None => err.hint("`tokrot list` lists the runbooks"),
        });
    }
    // The document lists every matching run, oldest first: a script's `.runs[-1]` is the
    // latest.
    if ctx.json() {
        let items: Vec<_> = chosen
            .iter()
            .map(|(j, standing)| run_json(ctx, j, *standing))
            .collect();
        ctx.print_json(&json!({"runs": items}))?;
        return Ok(Outcome::Done);
    }
    // The table lists the newest first, as gh does: the run just made is on top.
    let matching = chosen.len();
    let chosen: Vec<_> = chosen.into_iter().rev().take(args.limit as usize).collect();
    if chosen.is_empty() {
        let line = match all.is_empty() {
            true => format!("No runs in {} yet.", dir.join("rotations").display()),
            false => format!("No run matches ({} in all).", all.len()),
        };
        ctx.ui.status(&line)?;
        return Ok(Outcome::Done);
    }
    let table = runs_table(&all, &chosen);
    ctx.ui.table(&table.render(ctx.table_layout()))?;
    if matching > chosen.len() {
        ctx.ui.status(&format!(
            "The newest {} of {matching} runs; --limit N shows more.",
            chosen.len()
        ))?;
    }
    Ok(Outcome::Done)
}

/// The runs, a row each, in the order given.
fn runs_table(all: &[Run], chosen: &[&Run]) -> crate::table::Table {
    use crate::table::{Kind::Free, Kind::Key, Table};
    let mut table = Table::new(&[
        ("ID", Key),
        ("STARTED", Key),
        ("RUNBOOK", Key),
        ("STATUS", Free),
        ("TARGETS", Key),
        ("SOURCE", Free),
    ]);
    for (j, standing) in chosen {
        let applied = j
            .targets
            .iter()
            .filter(|t| t.status == TargetStatus::Applied)
            .count();
        table.row(vec![
            j.id.clone(),
            to_the_second(j.started_at),
            j.runbook.clone(),
            shown_standing(all, j, *standing),
            format!("{applied}/{}", j.targets.len()),
            crate::text::one_line(&j.source()),
        ]);
    }
    table
}

/// One run in full.
fn show(ctx: &mut Ctx, all: &[Run], id: &str) -> Result<Outcome, CliError> {
    let Some((j, standing)) = all.iter().find(|(j, _)| j.id == id) else {
        return Err(CliError::usage(format!("no run `{id}` in the journal"))
            .hint("`tokrot history` lists the runs and their ids"));
    };
    let later = crate::engine::lineage::rotated_again(all, j);
    if ctx.json() {
        let doc = run_detail_json(ctx, j, *standing, &later);
        ctx.print_json(&json!({"run": doc}))?;
        return Ok(Outcome::Done);
    }
    let rows = summary_rows(all, j, *standing, &later);
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in &rows {
        out.push_str(&format!("{k:<w$}  {v}\n"));
    }
    out.push_str(&steps_text(j));
    out.push_str(&targets_text(j));
    ctx.ui.page(&out)?;
    Ok(Outcome::Done)
}

/// `history ID --output json`: the run as the list shows it, and everything the journal keeps.
fn run_detail_json(
    ctx: &Ctx,
    j: &JournalData,
    standing: Standing,
    later: &[&JournalData],
) -> serde_json::Value {
    let mut doc = run_json(ctx, j, standing);
    doc["journal_status"] = json!(j.status.as_str());
    doc["expires_at"] = json!(j.expires_at);
    doc["refresh_token"] = json!(j.memo.contains_key("refresh_token"));
    doc["identity_change"] = json!(j.memo.get("identity_change"));
    doc["stash_error"] = json!(j.stash_error);
    doc["keep"] = json!(j.keep);
    doc["self_account"] = json!(j.self_account);
    doc["steps"] = json!(j.steps);
    doc["approvals"] = json!(j.approvals);
    doc["rotated_again"] = json!(
        later
            .iter()
            .map(|r| json!({"run": r.id, "new_id": r.new_id, "status": r.status.as_str()}))
            .collect::<Vec<_>>()
    );
    doc
}

/// The run's summary, a fact a row: what ran, when, by whom, and what it made.
fn summary_rows(
    all: &[Run],
    j: &JournalData,
    standing: Standing,
    later: &[&JournalData],
) -> Vec<(&'static str, String)> {
    let mut rows: Vec<(&str, String)> = vec![
        ("Run", j.id.clone()),
        ("Runbook", format!("{} ({})", j.runbook, j.kind.as_str())),
        ("Status", shown_standing(all, j, standing)),
        ("Started", to_the_second(j.started_at)),
        ("Updated", to_the_second(j.updated_at)),
        (
            "Who",
            j.operator
                .clone()
                .unwrap_or_else(|| "not recorded".to_owned()),
        ),
    ];
    if let Some(i) = &j.instance {
        rows.push(("Instance", i.clone()));
    }
    if let Some(c) = &j.credential {
        rows.push(("Credential", format!("{c} (inventory)")));
    }
    if !j.source().is_empty() {
        rows.push(("Source", j.source()));
    }
    rows.extend(new_token_rows(j));
    for r in later {
        let what = match r.new_id {
            Some(n) => format!(
                "rotated again by run {} ({}): id {n}",
                r.id,
                r.status.as_str()
            ),
            None => format!("rotated again by run {} ({})", r.id, r.status.as_str()),
        };
        rows.push(("Successor", what));
    }
    if j.stashed {
        rows.push((
            "Keyring",
            format!("the new token waits as tokrot/pending:{}", j.id),
        ));
    }
    for a in &j.approvals {
        let evidence = a
            .evidence
            .as_ref()
            .map(|e| format!(", evidence: {e}"))
            .unwrap_or_default();
        let by = a.by.as_deref().unwrap_or("someone");
        rows.push((
            "Approved",
            format!("{} by {by} at {}{evidence}", a.gate, to_the_second(a.at)),
        ));
    }
    rows
}

/// What the run made: the new token's id and expiry, a refresh token that came with it, whom
/// it acts as.
fn new_token_rows(j: &JournalData) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    if let Some(n) = j.new_id {
        let expires = j
            .expires_at
            .as_ref()
            .map(|e| match j.memo.contains_key("vendor_expiry") {
                true => format!(", expires {e} (the vendor's lifetime)"),
                false => format!(", expires {e}"),
            })
            .unwrap_or_default();
        rows.push(("New token", format!("id {n}{expires} (never shown)")));
        if j.memo.contains_key("refresh_token") {
            rows.push((
                "Refresh token",
                "issued with the new token; not kept or applied".to_owned(),
            ));
        }
    }
    if let Some(change) = j.memo.get("identity_change") {
        rows.push(("Acts as", change.clone()));
    }
    rows
}

/// The run's steps, a line each with how it ended.
fn steps_text(j: &JournalData) -> String {
    let mut out = String::from("\nSteps:\n");
    if j.steps.is_empty() {
        out.push_str("  none was started\n");
    }
    for s in &j.steps {
        let message = s
            .message
            .as_ref()
            .filter(|m| !m.is_empty())
            .map(|m| format!(": {}", crate::text::one_line(m)))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:>2}. {:<8} {}{message}\n",
            s.n,
            s.status.as_str(),
            crate::text::one_line(&s.title)
        ));
    }
    out
}

/// The run's targets, a line each with where it stands.
fn targets_text(j: &JournalData) -> String {
    if j.targets.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nTargets:\n");
    for t in &j.targets {
        let verified = t
            .verified
            .as_ref()
            .map(|v| format!(", verified: {}", v.as_str()))
            .unwrap_or_default();
        let error = t
            .error
            .as_ref()
            .map(|e| format!(" ({})", crate::text::one_line(e)))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}  {}{verified}{error}\n",
            t.spec,
            t.status.as_str()
        ));
    }
    out
}

/// A run as `history --output json` shows it: what the journal says, named field by field (the
/// journal's own form is not a contract), no secret.
fn run_json(ctx: &Ctx, j: &JournalData, standing: Standing) -> serde_json::Value {
    let service = ctx.catalogue.get(&j.runbook).map(|r| r.service.as_str());
    let params: serde_json::Map<String, serde_json::Value> = j
        .params
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let targets: Vec<_> = j
        .targets
        .iter()
        .map(|t| {
            let spec = t.spec.parse::<crate::inventory::target::TargetSpec>().ok();
            json!({
                "spec": t.spec,
                "service": spec.as_ref().map(|s| s.service()),
                "instance": spec.as_ref().and_then(|s| s.instance()),
                "status": t.status.as_str(),
                "verified": t.verified,
                "error": t.error,
                "failed_step": t.failed_step,
            })
        })
        .collect();
    json!({
        "id": j.id, "kind": j.kind, "runbook": j.runbook, "service": service, "instance": j.instance,
        "params": params, "source": j.source(), "status": standing, "started_at": j.started_at,
        "updated_at": j.updated_at, "new_id": j.new_id, "stashed": j.stashed, "credential": j.credential,
        "operator": j.operator, "targets": targets,
    })
}

/// A time to the second, as the table shows it.
fn to_the_second(at: jiff::Timestamp) -> String {
    at.round(jiff::Unit::Second).unwrap_or(at).to_string()
}
