//! How a plan reads: the numbered checklist of `show` and `--dry-run`, and their JSON forms
//! (the report of CLI.md for a dry run).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::plan::{Plan, PlanStep};
use crate::runbook::Origin;
use crate::ui::Ui;

/// The lines that describe one step under its title (indented by the caller).
pub fn step_details(step: &PlanStep, ui: &Ui) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(c) = &step.condition {
        lines.push(ui.dim(&format!("({c})")));
    }
    if let Some(t) = &step.target {
        lines.push(format!("target: {t}"));
    }
    if let Some(text) = &step.text {
        lines.extend(text.lines().map(str::to_owned));
    }
    for it in &step.per_instance {
        lines.push(format!("  {}: {}", it.instance, it.text));
    }
    if let super::plan::WalkKind::Gate { id, question, stop } = &step.walk {
        lines.push(format!("question: {question}"));
        lines.push(format!(
            "a human answers it; unattended: --approve {id}[=EVIDENCE]"
        ));
        lines.push(format!("if no: {stop}"));
    }
    if let super::plan::WalkKind::Capture { prompt, .. } = &step.walk {
        lines.push(format!("asks for: {prompt} (hidden, never shown)"));
    }
    if let Some(call) = &step.call {
        lines.push(ui.bold(&call.line()));
        if !call.sends.is_empty() {
            lines.push(format!("  sends {}", call.sends.join(", ")));
        }
        if let Some(auth) = &call.auth {
            lines.push(format!("  {auth}"));
        }
    }
    if step.cleanup {
        lines.push("clean-up: still done when a gate stops the run".into());
    }
    for h in &step.handbook {
        lines.push(ui.dim(&format!("handbook: {h}")));
    }
    lines
}

/// The step's title line: `  3. [action] Title`.
pub fn step_title(step: &PlanStep, width: usize, ui: &Ui) -> String {
    format!(
        "{:>width$}. [{}] {}",
        step.n,
        step.kind,
        ui.bold(&step.title)
    )
}

/// A step in one line: `[kind] Title (target)`, with its call when it makes one.
pub fn one_line(step: &PlanStep) -> String {
    let mut line = format!("[{}] {}", step.kind, step.title);
    if let Some(t) = &step.target {
        line.push_str(&format!(" ({t})"));
    }
    if let Some(call) = &step.call {
        line.push_str(&format!(": {}", call.line()));
    }
    line
}

/// The full checklist as text.
pub fn checklist(plan: &Plan, ui: &Ui, dry_run: bool) -> String {
    let mut s = String::new();
    write_header(&mut s, plan, ui, dry_run);
    write_params(&mut s, plan, ui);
    write_targets(&mut s, plan, ui);
    write_steps(&mut s, plan, ui);
    if dry_run {
        write_missing(&mut s, plan);
    }
    s
}

/// The checklist's head: the dry-run warning, the runbook, where it talks to, its summary and
/// notices.
fn write_header(s: &mut String, plan: &Plan, ui: &Ui, dry_run: bool) {
    let rb = &plan.runbook;
    if dry_run {
        let _ = writeln!(
            s,
            "{}",
            ui.warn(
                "Dry run: nothing is changed and no token to apply is read. A run would do this:"
            )
        );
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "{}", ui.bold(&rb.title));
    let _ = writeln!(
        s,
        "runbook {} ({}, {})",
        rb.id,
        rb.kind.as_str(),
        rb.service.as_str()
    );
    let _ = writeln!(s, "handbook: {}", rb.section);
    if let Origin::File(p) = &rb.origin {
        let _ = writeln!(s, "from: {}", p.display());
    }
    match (&plan.instance, rb.service) {
        (Some(i), _) => {
            let _ = writeln!(s, "instance: {} ({})", i.label, i.admin_url());
        }
        (None, crate::runbook::ServiceKind::GitLab) => {
            let _ = writeln!(s, "GitLab: {}", plan.gitlab_url);
        }
        (None, _) => {}
    }
    if let Some(summary) = &rb.summary {
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", summary.trim());
    }
    for n in &plan.notices {
        let _ = writeln!(s);
        let _ = writeln!(s, "{} {n}", ui.warn("NOTE:"));
    }
}

/// The parameters, one a line with their values and notes, when the runbook has any.
fn write_params(s: &mut String, plan: &Plan, ui: &Ui) {
    if !plan.params.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Parameters:");
        let flag_w = plan.params.iter().map(|p| p.flag.len()).max().unwrap_or(0);
        for p in &plan.params {
            let value = p.value.clone().unwrap_or_else(|| "-".into());
            let _ = writeln!(
                s,
                "  {:<flag_w$}  {value}  {}",
                p.flag,
                ui.dim(&format!("({})", p.note))
            );
        }
    }
}

/// The targets of a rotate runbook, or that none are given.
fn write_targets(s: &mut String, plan: &Plan, ui: &Ui) {
    if plan.runbook.kind == crate::runbook::RunbookKind::Rotate {
        let _ = writeln!(s);
        if plan.targets.is_empty() {
            let _ = writeln!(s, "Targets: none given (--apply-to SPEC, repeatable)");
        } else {
            let _ = writeln!(s, "Targets:");
            for t in &plan.targets {
                let _ = writeln!(s, "  {}  {}", t.spec, ui.dim(&t.description));
            }
        }
    }
}

/// The numbered steps, each with its details indented under its title.
fn write_steps(s: &mut String, plan: &Plan, ui: &Ui) {
    let _ = writeln!(s);
    let _ = writeln!(s, "Steps:");
    let width = plan.steps.len().to_string().len() + 2;
    for step in &plan.steps {
        let _ = writeln!(s, "{}", step_title(step, width, ui));
        for line in step_details(step, ui) {
            let _ = writeln!(s, "{:width$}  {line}", "");
        }
    }
}

/// What a run still needs, when anything.
fn write_missing(s: &mut String, plan: &Plan) {
    if !plan.missing.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "A run also needs:");
        for m in &plan.missing {
            let _ = writeln!(
                s,
                "  {}  ({}; asked for on a terminal)",
                m.flags.join(" or "),
                m.param.prompt
            );
        }
    }
}

fn runbook_json(plan: &Plan) -> Value {
    let rb = &plan.runbook;
    json!({
        "id": rb.id,
        "kind": rb.kind.as_str(),
        "title": rb.title,
        "service": rb.service.as_str(),
        "section": rb.section,
        "summary": rb.summary.as_deref().map(str::trim),
        "origin": rb.origin.to_string(),
        "notices": plan.notices,
        "params": plan.params,
    })
}

/// `tokrot show --output json`.
pub fn show_json(plan: &Plan) -> Value {
    let mut v = runbook_json(plan);
    v["steps"] = json!(plan.steps.iter().map(step_json).collect::<Vec<_>>());
    v
}

fn step_json(step: &PlanStep) -> Value {
    let mut v = serde_json::to_value(step).unwrap_or(Value::Null);
    // The report's `call` is one line, as in CLI.md; the details go beside it.
    if let Some(call) = &step.call {
        v["call"] = json!(call.line());
        if !call.sends.is_empty() {
            v["sends"] = json!(call.sends);
        }
        if let Some(auth) = &call.auth {
            v["auth"] = json!(auth);
        }
    }
    v
}

/// The JSON report of a dry run (CLI.md), with the runbook and what a run still needs.
pub fn dry_run_report(plan: &Plan) -> Value {
    let source_id = [
        "token_id",
        "trigger_id",
        "client_id",
        "installation_id",
        "hook_id",
        "webhook_id",
    ]
    .iter()
    .find_map(|k| plan.values.get(*k))
    .map(|v| v.parse::<u64>().map_or_else(|_| json!(v), |n| json!(n)));
    json!({
        "rotation_id": null,
        "runbook": plan.runbook.id,
        "status": "dry-run",
        "source": {
            "kind": plan.runbook.id,
            "id": source_id,
            "instance": plan.instance.as_ref().map(|i| i.id.clone()),
            "expires_at": plan.values.get("expires_at"),
            "params": plan.values,
        },
        "targets": plan.targets.iter().map(|t| json!({
            "spec": t.spec,
            "description": t.description,
            "runbook": t.runbook,
            "status": "pending",
            "verified": null,
            "error": null,
        })).collect::<Vec<_>>(),
        "steps": plan.steps.iter().map(step_json).collect::<Vec<_>>(),
        "notices": plan.notices,
        "missing": plan.missing.iter().map(|m| json!({"param": m.param.name, "flags": m.flags})).collect::<Vec<_>>(),
        "runbook_info": runbook_json(plan),
    })
}
