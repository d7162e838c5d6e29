//! `tokrot rotate --due [--within DAYS]`: every inventory credential that is expired or due, each
//! as a rotation of its own — its own process, journal and lock, exactly as `rotate --credential
//! NAME --yes` would run it — shown as one plan, confirmed once, run side by side, and told in
//! one report. One failing does not stop the others; the exit code is the worst of them, and at
//! least 1 (FAILED) when a due credential was not rotated for any reason — it needs a human (a
//! manual step, a gate, a paste), its token could not be read, it is expired or revoked beyond
//! what a rotation can mend, or its entry cannot be run — so that a scheduled job is red exactly
//! when someone must act. Each is named with its reason.
//!
//! A process per rotation keeps each one's promises whole: its signals are held around its own
//! one-shot call, and a crash of one cannot take another's token with it.

use serde_json::json;

use super::inventory::load;
use super::{CliError, Ctx, Outcome};
use crate::exit;
use crate::inventory::Credential;
use crate::inventory::status::{Row, State};
use crate::model::Standing;

/// One rotation of the batch, as it ended.
struct Ended {
    name: String,
    code: i32,
    report: Option<serde_json::Value>,
    stderr: String,
    /// Its run, from its report or, when it left none (killed, failed early), its journal.
    run: Option<String>,
    /// Not started: another run rotated it since the plan was shown.
    stale: bool,
}

/// One rotation of the batch as planned: the credential, the `--approve` of its gates, and the
/// id its entry named when the plan was shown (the parameter and its value).
struct Planned {
    name: String,
    approve: Vec<std::ffi::OsString>,
    id: Option<(&'static str, String)>,
}

/// What the batch shares with each of its rotations.
struct Batch<'a> {
    exe: &'a std::path::Path,
    common: &'a [std::ffi::OsString],
    inventory: &'a std::path::Path,
    state_dir: Option<std::path::PathBuf>,
    started: jiff::Timestamp,
    stopped: &'a std::sync::atomic::AtomicBool,
}

impl Batch<'_> {
    /// Checked again just before its turn: the entry still names the token the plan showed.
    /// One rotated since is not rotated again: done when a run of tokrot rotated it to the end
    /// (named), failed when that run did not finish or no run says it rotated it (the entry
    /// was changed by hand: a person should look).
    fn rotated_since(&self, p: &Planned) -> Option<(i32, String)> {
        let (param, planned) = p.id.as_ref()?;
        let now = crate::inventory::param_of(self.inventory, &p.name, param).ok()?;
        if now.as_deref() == Some(planned.as_str()) {
            return None;
        }
        let now = now.unwrap_or_else(|| "(unset)".into());
        let by = self
            .state_dir
            .as_deref()
            .and_then(|dir| crate::engine::history::runs(dir).ok())
            .and_then(|runs| {
                runs.into_iter().rev().find(|(d, _)| {
                    d.credential.as_deref() == Some(p.name.as_str())
                        && d.params.iter().any(|(k, v)| k == param && v == planned)
                })
            });
        Some(match by {
            Some((d, Standing::Done)) => (
                exit::OK,
                format!(
                    "not started: rotated by run {} since the plan was shown ({param} {planned} → {now})",
                    d.id
                ),
            ),
            Some((d, standing)) => (
                exit::FAILED,
                format!(
                    "not started: run {} rotated it since the plan was shown ({param} {planned} → {now}) and is {standing}: `tokrot resume {}` finishes it",
                    d.id, d.id
                ),
            ),
            None => (
                exit::FAILED,
                format!(
                    "not started: its entry changed since the plan was shown ({param} {planned} → {now}), and no run of tokrot says it rotated it: check the entry, then run again"
                ),
            ),
        })
    }

    /// The run a rotation that left no report started, from the journal: the latest of its
    /// credential since the batch began.
    fn run_of(&self, name: &str) -> Option<String> {
        let runs = crate::engine::history::runs(self.state_dir.as_deref()?).ok()?;
        runs.into_iter()
            .rev()
            .find(|(d, _)| d.credential.as_deref() == Some(name) && d.started_at >= self.started)
            .map(|(d, _)| d.id)
    }
}

/// How bad an exit code is, for the batch's own: unknown, interrupted, incomplete, failed,
/// refused, stopped.
fn severity(code: i32) -> u8 {
    match code {
        exit::OK => 0,
        exit::STOPPED => 1,
        exit::USAGE => 2,
        exit::FAILED => 3,
        exit::INCOMPLETE => 4,
        exit::INTERRUPTED => 5,
        _ => 6,
    }
}

/// The global options a child run must share with this one.
fn forwarded(ctx: &Ctx) -> Vec<std::ffi::OsString> {
    let g = &ctx.global;
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    let mut pair = |flag: &str, value: std::ffi::OsString| {
        args.push(flag.into());
        args.push(value);
    };
    if let Some(p) = &g.config {
        pair("--config", p.into());
    }
    if let Some(p) = &g.runbooks {
        pair("--runbooks", p.into());
    }
    if let Some(p) = &g.inventory {
        pair("--inventory", p.into());
    }
    if let Some(p) = &g.state_dir {
        pair("--state-dir", p.into());
    }
    if let Some(u) = &g.gitlab_url {
        pair("--gitlab-url", u.into());
    }
    pair("--concurrency", g.concurrency.to_string().into());
    pair("--http-timeout", g.http_timeout.to_string().into());
    pair("--max-wait", g.max_wait.to_string().into());
    for _ in 0..g.verbose {
        args.push("-v".into());
    }
    if g.quiet {
        args.push("-q".into());
    }
    if g.no_color {
        args.push("--no-color".into());
    }
    args
}

/// The `--approve` options of this batch that name one of `gates`.
fn approvals(ctx: &Ctx, gates: &[String]) -> Vec<std::ffi::OsString> {
    let mut args = Vec::new();
    for a in ctx
        .global
        .approve
        .iter()
        .filter(|a| gates.contains(&a.gate))
    {
        let evidence = a
            .evidence
            .as_ref()
            .map(|e| format!("={e}"))
            .unwrap_or_default();
        args.push("--approve".into());
        args.push(format!("{}{evidence}", a.gate).into());
    }
    args
}

/// Runs `tokrot … --yes --output json rotate --credential NAME` and waits for it; after an
/// interrupt, a rotation not started yet is not started; nor is one rotated since the plan.
async fn rotate_one(batch: &Batch<'_>, p: Planned) -> Ended {
    let ended = |code, stderr: String, stale| Ended {
        name: p.name.clone(),
        code,
        report: None,
        stderr,
        run: None,
        stale,
    };
    if batch.stopped.load(std::sync::atomic::Ordering::SeqCst) {
        return ended(
            exit::STOPPED,
            "not started: interrupted before its turn".into(),
            false,
        );
    }
    if let Some((code, why)) = batch.rotated_since(&p) {
        return ended(code, why, true);
    }
    let out = tokio::process::Command::new(batch.exe)
        .args(batch.common)
        .args(&p.approve)
        .args([
            "--yes",
            "--output",
            "json",
            "rotate",
            "--credential",
            &p.name,
        ])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(false)
        .output()
        .await;
    match out {
        Ok(out) => {
            let report: Option<serde_json::Value> = serde_json::from_slice(&out.stdout).ok();
            let run = report
                .as_ref()
                .and_then(|r| r["rotation_id"].as_str())
                .map(str::to_owned)
                .or_else(|| batch.run_of(&p.name));
            Ended {
                name: p.name.clone(),
                // Ended by a signal (killed): interrupted, a documented code.
                code: out.status.code().unwrap_or(exit::INTERRUPTED),
                report,
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                run,
                stale: false,
            }
        }
        Err(e) => ended(
            exit::FAILED,
            format!("cannot start the rotation: {e}"),
            false,
        ),
    }
}

/// A due credential that the batch does not rotate, and why.
struct NotRun<'a> {
    row: &'a Row,
    /// Needs a human at a terminal (the rest need a fix first).
    human: bool,
    reason: String,
}

/// Kinds whose rotation is a call on the old token: once it has expired, GitLab refuses it.
fn rotated_in_place(kind: &str) -> bool {
    crate::inventory::source::of(kind).is_some_and(|k| k.rotated_in_place)
}

/// The credentials to rotate now, and every other one that needs a person, with why.
fn due<'a>(rows: &'a [Row], creds: &'a [Credential]) -> (Vec<&'a Row>, Vec<NotRun<'a>>) {
    let mut run = Vec::new();
    let mut not_run = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r.unattended.is_some() && creds.iter().any(|c| c.name == r.name))
    {
        let name = crate::text::one_line(&r.name);
        let (human, reason) = match (&r.plan_error, r.state) {
            (Some(e), _) => (
                false,
                format!("its inventory entry cannot be run: {}", crate::text::one_line(e)),
            ),
            (None, State::Unknown) => (
                false,
                format!(
                    "not read: {}",
                    crate::text::one_line(r.note.as_deref().unwrap_or("unknown"))
                ),
            ),
            (None, State::Revoked) => (
                true,
                "revoked or inactive at the vendor: a rotation cannot replace it; make a new token by hand and put it in place with `tokrot apply TARGET --token-stdin`".into(),
            ),
            (None, State::Expired) if rotated_in_place(&r.kind) => (
                true,
                "expired: GitLab rotates only a token that still works; make a new token by hand and put it in place with `tokrot apply TARGET --token-stdin`".into(),
            ),
            (None, State::Expired | State::Due) if r.unattended == Some(false) => (
                true,
                format!(
                    "needs a human (a manual step, a gate or a paste): `tokrot rotate --credential {name}` on a terminal"
                ),
            ),
            (None, State::Expired | State::Due) => {
                run.push(r);
                continue;
            }
            _ => continue,
        };
        not_run.push(NotRun {
            row: r,
            human,
            reason,
        });
    }
    (run, not_run)
}

/// The batch's plan: a table of what is rotated, then a line for each credential that is not.
fn plan_text(
    run: &[&Row],
    not_run: &[NotRun<'_>],
    due_days: u32,
    layout: crate::table::Layout,
) -> String {
    use crate::table::{Kind::Free, Kind::Key, Table};
    let mut out = format!(
        "{} credential(s) expired or due (within {due_days} days), each rotated as its own run:\n",
        run.len()
    );
    let mut table = Table::new(&[
        ("NAME", Free),
        ("KIND", Key),
        ("EXPIRES", Key),
        ("DAYS", Key),
        ("TARGETS", Free),
    ]);
    for r in run {
        table.row(vec![
            crate::text::one_line(&r.name),
            r.kind.clone(),
            r.expires.map_or_else(|| "-".into(), |d| d.to_string()),
            r.days_left.map_or_else(|| "-".into(), |d| d.to_string()),
            r.consumers.join(", "),
        ]);
    }
    if !table.is_empty() {
        out.push_str(&table.render(layout));
    }
    for n in not_run {
        let word = if n.human { "skipped" } else { "not rotated" };
        out.push_str(&format!(
            "  {word}: {} ({}) {}\n",
            crate::text::one_line(&n.row.name),
            n.row.kind,
            n.reason
        ));
    }
    out
}

/// Rotates every due credential.
pub async fn run(ctx: &mut Ctx, within: Option<u32>) -> Result<Outcome, CliError> {
    let inv = load(ctx)?;
    let (report, due_days) =
        super::status::read_all(ctx, &inv, within, "tokrot rotate --due").await;
    let concurrency = usize::from(ctx.global.concurrency);
    let (run, not_run) = due(&report.rows, &inv.credentials);
    let plan = plan_text(&run, &not_run, due_days, ctx.status_table_layout());
    ctx.ui.status(&plan)?;
    let mut doc = plan_json(ctx.global.dry_run, due_days, &run, &not_run);
    if ctx.global.dry_run {
        if ctx.json() {
            ctx.print_json(&doc)?;
        }
        return Ok(Outcome::Done);
    }
    if run.is_empty() {
        return report_batch(ctx, &[], &not_run, doc);
    }
    confirm(ctx, run.len())?;
    let stopped = wait_on_interrupt();
    let exe = std::env::current_exe()
        .map_err(|e| CliError::usage(format!("cannot find tokrot's own binary: {e}")))?;
    let common = forwarded(ctx);
    let (own, others) = planned(ctx, &inv, &run).await;
    let batch = Batch {
        exe: &exe,
        common: &common,
        inventory: &inv.path,
        state_dir: super::execute::state_dir(ctx).ok(),
        started: jiff::Timestamp::now(),
        stopped: &stopped,
    };
    let progress = ctx.ui.progress(own.len() + others.len(), "rotating");
    let mut ended: Vec<Ended> = {
        use futures_util::StreamExt;
        futures_util::stream::iter(others)
            .map(|p| rotate_one(&batch, p))
            .buffer_unordered(concurrency.max(1))
            .inspect(|_| progress.inc())
            .collect()
            .await
    };
    // The token tokrot authenticates with is rotated alone and last: the runs beside it would
    // call with a token that stops working mid-run (and a 401 on a rotate call is an unknown
    // outcome). The runs after it read the new one from the keyring.
    for p in own {
        ended.push(rotate_one(&batch, p).await);
        progress.inc();
    }
    ctx.ui.end_progress(progress);
    doc["rotations"] = json!(ended.iter().map(ended_json).collect::<Vec<_>>());
    report_batch(ctx, &ended, &not_run, doc)
}

/// The batch's document: what was due, and (filled in later) how each rotation ended.
fn plan_json(
    dry_run: bool,
    due_days: u32,
    run: &[&Row],
    not_run: &[NotRun<'_>],
) -> serde_json::Value {
    let names = |rows: &[&Row]| rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    let skipped: Vec<&Row> = not_run.iter().filter(|n| n.human).map(|n| n.row).collect();
    let unread: Vec<_> = not_run
        .iter()
        .filter(|n| n.row.state == State::Unknown && n.row.plan_error.is_none())
        .map(|n| json!({"name": n.row.name, "kind": n.row.kind, "note": n.row.note}))
        .collect();
    let not_rotated: Vec<_> = not_run
        .iter()
        .map(|n| json!({"name": n.row.name, "kind": n.row.kind, "reason": n.reason}))
        .collect();
    json!({"dry_run": dry_run, "due_within_days": due_days,
        "due": names(run), "skipped": names(&skipped), "unread": unread,
        "not_rotated": not_rotated, "rotations": [], "exit_code": exit::OK})
}

/// A signal reaches every run of the batch (one process group): each stops at its own safe
/// point, and this process waits for them, to tell how each ended. It takes Ctrl-C from here on
/// (the confirmation may have started the prompt's fallback, which would otherwise end it at
/// once); the flag says that no further rotation may start.
fn wait_on_interrupt() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    crate::terminal::sigint_taken();
    let stopped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stopped.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            crate::terminal::raw_status(
                "interrupt: no further rotation starts; each one running stops at its next safe point, and they are waited for",
            );
        }
    });
    stopped
}

/// What each due entry named when the plan was shown (`inv` was read for it): tokrot's own
/// token (however the inventory names it: `self`, its id, its name) apart from the others.
async fn planned(
    ctx: &Ctx,
    inv: &crate::inventory::Inventory,
    run: &[&Row],
) -> (Vec<Planned>, Vec<Planned>) {
    let own_id = match crate::engine::session::gitlab_client(
        "tokrot rotate --due",
        &ctx.config,
        ctx.ui.redactor(),
        ctx.policy(),
    ) {
        Ok(gitlab) => gitlab.personal_token("self").await.ok().map(|t| t.id),
        Err(_) => None,
    };
    let mut own: Vec<Planned> = Vec::new();
    let mut others: Vec<Planned> = Vec::new();
    for r in run {
        let Some(c) = inv.credentials.iter().find(|c| c.name == r.name) else {
            continue;
        };
        let planned = Planned {
            name: c.name.clone(),
            approve: approvals(ctx, &super::status::gates(ctx, c)),
            id: crate::inventory::source::of(&c.runbook)
                .and_then(|k| k.id_param)
                .and_then(|p| c.param(p).map(|v| (p, v.to_owned()))),
        };
        let is_own = planned.id.as_ref().is_some_and(|(_, v)| v == "self")
            || (c.runbook == crate::inventory::source::GITLAB_PAT.runbook
                && own_id.is_some()
                && r.id == own_id);
        match is_own {
            true => own.push(planned),
            false => others.push(planned),
        }
    }
    (own, others)
}

/// One rotation as the batch's document lists it; one that left no report says why on its
/// stderr: its error lines, or (never started) its one line.
fn ended_json(e: &Ended) -> serde_json::Value {
    let error = e.report.is_none().then(|| {
        let said: Vec<&str> = e
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:") || l.trim_start().starts_with("hint:"))
            .collect();
        match said.is_empty() {
            true => e.stderr.trim().to_owned(),
            false => said.join("\n"),
        }
    });
    json!({"credential": e.name, "exit_code": e.code, "run": e.run, "report": e.report, "error": error})
}

/// Asks once, on a terminal, unless `--yes`.
fn confirm(ctx: &Ctx, n: usize) -> Result<(), CliError> {
    if ctx.global.yes {
        return Ok(());
    }
    if !ctx.interactive() {
        return Err(CliError::usage(
            "`tokrot rotate --due` asks before it rotates, and there is no terminal to ask on; nothing was changed",
        )
        .hint("pass --yes (credentials that need a human are then skipped)"));
    }
    use crate::engine::prompt::{Prompter, TerminalPrompter};
    let yes = TerminalPrompter::new(ctx.ui.color())
        .confirm(&format!("Rotate these {n} credential(s)?"))
        .map_err(|e| CliError::usage(format!("no answer: {e}; nothing was changed")))?;
    if yes {
        Ok(())
    } else {
        let mut err = CliError::usage("stopped before anything was changed");
        err.code = exit::STOPPED;
        Err(err)
    }
}

/// The one report of the batch, and its exit code: the worst of the rotations', and at least 1
/// when a due credential was not rotated.
fn report_batch(
    ctx: &mut Ctx,
    ended: &[Ended],
    not_run: &[NotRun<'_>],
    mut doc: serde_json::Value,
) -> Result<Outcome, CliError> {
    let worst = ended
        .iter()
        .map(|e| e.code)
        .chain((!not_run.is_empty()).then_some(exit::FAILED))
        .max_by_key(|c| severity(*c))
        .unwrap_or(exit::OK);
    if ctx.json() {
        doc["exit_code"] = json!(worst);
        ctx.print_json(&doc)?;
    } else {
        ctx.ui.page(&batch_text(ended, not_run))?;
    }
    if worst == exit::OK {
        return Ok(Outcome::Done);
    }
    let (message, hint) = batch_error(ended, not_run);
    Err(CliError {
        code: worst,
        message,
        hint,
        quiet: false,
        reported: ctx.json(),
    })
}

/// The batch as text: each rotation with how it ended and what it said the operator must act
/// on, then each due credential that was not rotated.
fn batch_text(ended: &[Ended], not_run: &[NotRun<'_>]) -> String {
    let mut out = String::from("Rotations:\n");
    for e in ended {
        let status = match (&e.report, e.stale) {
            (_, true) => "skipped",
            (Some(r), _) => r["status"].as_str().unwrap_or("failed"),
            (None, _) if e.code == exit::INTERRUPTED => "killed",
            (None, _) => "failed",
        };
        let id = e.run.as_deref().unwrap_or("none started");
        out.push_str(&format!(
            "  {:<8} {}  (run {id}, exit {})\n",
            status, e.name, e.code
        ));
        if e.stale {
            out.push_str(&format!("           {}\n", e.stderr.trim()));
        }
        // What a rotation says that the operator must act on, even when it went well (an
        // environment credential left stale by rotating tokrot's own token).
        for line in e.stderr.lines().filter(|l| l.starts_with("NOTE:")) {
            out.push_str(&format!("           {}\n", line.trim()));
        }
        if e.code != exit::OK {
            let said = e.stderr.lines().filter(|l| {
                l.starts_with("error") || l.starts_with("warning") || l.contains("hint:")
            });
            for line in said {
                out.push_str(&format!("           {}\n", line.trim()));
            }
        }
    }
    for n in not_run {
        let word = if n.human { "skipped" } else { "not rotated" };
        out.push_str(&format!(
            "  {word}  {}: {}\n",
            crate::text::one_line(&n.row.name),
            n.reason
        ));
    }
    out
}

/// Why the batch did not end well, and the command to copy for the first rotation that did not
/// finish.
fn batch_error(ended: &[Ended], not_run: &[NotRun<'_>]) -> (String, Option<String>) {
    let failed: Vec<&Ended> = ended.iter().filter(|e| e.code != exit::OK).collect();
    let mut said = Vec::new();
    let mut hint = None;
    if !failed.is_empty() {
        let runs: Vec<String> = failed
            .iter()
            .map(|e| match &e.run {
                Some(id) => format!("{} (run {id})", e.name),
                None => format!("{} (no run started)", e.name),
            })
            .collect();
        said.push(format!(
            "{} of {} rotation(s) did not finish: {}",
            failed.len(),
            ended.len(),
            runs.join(", ")
        ));
        hint = failed
            .iter()
            .find_map(|e| e.run.as_ref())
            .map(|id| format!("`tokrot history {id}` says what happened"));
    }
    if !not_run.is_empty() {
        said.push(format!(
            "{} due credential(s) not rotated: {}",
            not_run.len(),
            not_run
                .iter()
                .map(|n| crate::text::one_line(&n.row.name))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    (said.join("; "), hint)
}
