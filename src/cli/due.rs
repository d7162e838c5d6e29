//! `tokrot rotate --due [--within DAYS]`: every inventory credential that is expired or due, each
//! as a rotation of its own — its own process, journal and lock, exactly as `rotate --credential
//! NAME --yes` would run it — shown as one plan, confirmed once, run side by side, and told in
//! one report. One failing does not stop the others; the exit code is the worst of them. A
//! credential whose rotation needs a human (a manual step, a gate, a paste) is listed as skipped:
//! `rotate --credential NAME` runs it on a terminal.
//!
//! A process per rotation keeps each one's promises whole: its signals are held around its own
//! one-shot call, and a crash of one cannot take another's token with it.

use serde_json::json;

use super::inventory::load;
use super::{CliError, Ctx, Outcome};
use crate::engine::inventory::Credential;
use crate::engine::status::{Row, State};
use crate::exit;

/// One rotation of the batch, as it ended.
struct Ended {
    name: String,
    code: i32,
    report: Option<serde_json::Value>,
    stderr: String,
}

/// How bad an exit code is, for the batch's own: unknown, incomplete, failed, refused, stopped.
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
    for a in &g.approve {
        let evidence = a
            .evidence
            .as_ref()
            .map(|e| format!("={e}"))
            .unwrap_or_default();
        pair("--approve", format!("{}{evidence}", a.gate).into());
    }
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

/// Runs `tokrot … --yes --output json rotate --credential NAME` and waits for it; after an
/// interrupt, a rotation not started yet is not started.
async fn rotate_one(
    exe: &std::path::Path,
    common: &[std::ffi::OsString],
    name: String,
    stopped: &std::sync::atomic::AtomicBool,
) -> Ended {
    if stopped.load(std::sync::atomic::Ordering::SeqCst) {
        return Ended {
            name,
            code: exit::STOPPED,
            report: None,
            stderr: "not started: interrupted before its turn".into(),
        };
    }
    let out = tokio::process::Command::new(exe)
        .args(common)
        .args(["--yes", "--output", "json", "rotate", "--credential", &name])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(false)
        .output()
        .await;
    match out {
        Ok(out) => Ended {
            name,
            code: out.status.code().unwrap_or(exit::INTERRUPTED),
            report: serde_json::from_slice(&out.stdout).ok(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        Err(e) => Ended {
            name,
            code: exit::FAILED,
            report: None,
            stderr: format!("cannot start the rotation: {e}"),
        },
    }
}

/// The due credentials, the ones that can run unattended first.
fn due<'a>(rows: &'a [Row], creds: &'a [Credential]) -> (Vec<&'a Row>, Vec<&'a Row>) {
    let listed = |r: &&Row| {
        r.unattended.is_some()
            && matches!(r.state, State::Expired | State::Due)
            && creds.iter().any(|c| c.name == r.name)
    };
    rows.iter()
        .filter(listed)
        .partition(|r| r.unattended == Some(true))
}

fn plan_text(run: &[&Row], skipped: &[&Row], due_days: u32) -> String {
    let mut out = format!(
        "{} credential(s) expired or due (within {due_days} days), each rotated as its own run:\n",
        run.len()
    );
    for r in run {
        out.push_str(&format!(
            "  {}  {}  {} ({} days) → {}\n",
            r.name,
            r.kind,
            r.expires.map_or_else(|| "-".into(), |d| d.to_string()),
            r.days_left.unwrap_or_default(),
            r.consumers.join(", ")
        ));
    }
    for r in skipped {
        out.push_str(&format!(
            "  skipped: {} ({}) needs a human (a manual step, a gate or a paste): `tokrot rotate --credential {}`\n",
            r.name, r.kind, r.name
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
    let (run, skipped) = due(&report.rows, &inv.credentials);
    let mut plan = plan_text(&run, &skipped, due_days);
    // A credential whose token could not be read may be due too: said, not guessed.
    for r in report
        .rows
        .iter()
        .filter(|r| r.state == State::Unknown && r.unattended.is_some())
    {
        plan.push_str(&format!(
            "  not read: {} ({}): {}\n",
            crate::text::one_line(&r.name),
            r.kind,
            r.note.as_deref().unwrap_or("unknown")
        ));
    }
    ctx.ui.status(&plan)?;
    let names = |rows: &[&Row]| rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    let unread: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.state == State::Unknown && r.unattended.is_some())
        .map(|r| json!({"name": r.name, "kind": r.kind, "note": r.note}))
        .collect();
    // The batch's document: what was due, and (below) how each rotation ended.
    let mut doc = json!({"dry_run": ctx.global.dry_run, "due_within_days": due_days,
        "due": names(&run), "skipped": names(&skipped), "unread": unread,
        "rotations": [], "exit_code": exit::OK});
    if ctx.global.dry_run || run.is_empty() {
        if ctx.json() {
            ctx.print_json(&doc)?;
        }
        return Ok(Outcome::Done);
    }
    confirm(ctx, run.len())?;
    // A signal reaches every run of the batch (one process group): each stops at its own safe
    // point. This process waits for them, to tell how each ended.
    let stopped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stopped.clone();
    let _waiting = tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            crate::ui::raw_status(
                "interrupt: no further rotation starts; each one running stops at its next safe point, and they are waited for",
            );
        }
    });
    let exe = std::env::current_exe()
        .map_err(|e| CliError::usage(format!("cannot find tokrot's own binary: {e}")))?;
    let common = forwarded(ctx);
    let names: Vec<String> = run.iter().map(|r| r.name.clone()).collect();
    let progress = ctx.ui.progress(names.len(), "rotating");
    let ended: Vec<Ended> = {
        use futures_util::StreamExt;
        futures_util::stream::iter(names)
            .map(|name| rotate_one(&exe, &common, name, &stopped))
            .buffer_unordered(concurrency.max(1))
            .inspect(|_| progress.inc())
            .collect()
            .await
    };
    ctx.ui.end_progress(progress);
    doc["rotations"] = json!(
        ended
            .iter()
            .map(|e| {
                // A rotation that left no report says why on its stderr: its error lines.
                let error = e.report.is_none().then(|| {
                    let said: Vec<&str> = e
                        .stderr
                        .lines()
                        .filter(|l| l.starts_with("error:") || l.trim_start().starts_with("hint:"))
                        .collect();
                    // A rotation that never started says why in a line of its own.
                    match said.is_empty() {
                        true => e.stderr.trim().to_owned(),
                        false => said.join("\n"),
                    }
                });
                json!({"credential": e.name, "exit_code": e.code, "report": e.report, "error": error})
            })
            .collect::<Vec<_>>()
    );
    report_batch(ctx, &ended, &skipped, doc)
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

/// The one report of the batch, and its exit code: the worst of the rotations'.
fn report_batch(
    ctx: &mut Ctx,
    ended: &[Ended],
    skipped: &[&Row],
    mut doc: serde_json::Value,
) -> Result<Outcome, CliError> {
    let worst = ended
        .iter()
        .map(|e| e.code)
        .max_by_key(|c| severity(*c))
        .unwrap_or(exit::OK);
    if ctx.json() {
        doc["exit_code"] = json!(worst);
        ctx.print_json(&doc)?;
    } else {
        let mut out = String::from("Rotations:\n");
        for e in ended {
            let status = e
                .report
                .as_ref()
                .and_then(|r| r["status"].as_str())
                .unwrap_or("failed");
            let id = e
                .report
                .as_ref()
                .and_then(|r| r["rotation_id"].as_str())
                .unwrap_or("-");
            out.push_str(&format!(
                "  {:<8} {}  (run {id}, exit {})\n",
                status, e.name, e.code
            ));
            if e.code != exit::OK {
                let said = e.stderr.lines().filter(|l| {
                    l.starts_with("error") || l.starts_with("warning") || l.contains("hint:")
                });
                for line in said {
                    out.push_str(&format!("           {}\n", line.trim()));
                }
            }
        }
        for r in skipped {
            out.push_str(&format!("  skipped  {}  (needs a human)\n", r.name));
        }
        ctx.ui.page(&out)?;
    }
    match worst {
        exit::OK => Ok(Outcome::Done),
        code => Err(CliError {
            code,
            message: format!(
                "{} of {} rotation(s) did not finish; each one's `tokrot history ID` says what happened",
                ended.iter().filter(|e| e.code != exit::OK).count(),
                ended.len()
            ),
            hint: None,
            quiet: false,
            reported: ctx.json(),
        }),
    }
}
