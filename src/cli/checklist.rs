//! How a plan reads: the numbered checklist of `show` and `--dry-run`, their JSON forms (the
//! report of CLI.md for a dry run), and the lines that describe a step as a run shows it.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::engine::plan::{Plan, PlanStep, WalkKind};
use crate::runbook::{Origin, RunbookKind};

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
        lines.push(format!("  {}: {}", it.label, it.text));
    }
    if let WalkKind::Gate { id, question, stop } = &step.walk {
        lines.push(format!("question: {question}"));
        lines.push(format!(
            "a human answers it; unattended: --approve {id}[=EVIDENCE]"
        ));
        lines.push(format!("if no: {stop}"));
    }
    if let WalkKind::Capture { prompt, .. } = &step.walk {
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
        (None, crate::model::Vendor::GitLab) => {
            let _ = writeln!(s, "GitLab: {}", plan.gitlab_url);
        }
        (None, _) => {}
    }
    if let Some(summary) = &rb.summary {
        let _ = writeln!(s);
        // One paragraph per blank-line-separated block: the page is fitted to the terminal.
        let paragraphs: Vec<String> = summary
            .trim()
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let _ = writeln!(s, "{}", paragraphs.join("\n\n"));
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
    if plan.runbook.kind == RunbookKind::Rotate {
        let _ = writeln!(s);
        if plan.targets.is_empty() {
            let _ = writeln!(s, "Targets: none given (--apply-to SPEC, repeatable)");
        } else {
            let _ = writeln!(s, "Targets:");
            let spec_w = plan.targets.iter().map(|t| t.spec.len()).max().unwrap_or(0);
            for t in &plan.targets {
                let _ = writeln!(s, "  {:<spec_w$}  {}", t.spec, ui.dim(&t.description));
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

/// The runbook a plan walks, as JSON documents give it.
pub fn runbook_json(plan: &Plan) -> Value {
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

/// A step of a plan, as JSON documents give it.
pub fn step_json(step: &PlanStep) -> Value {
    let mut v = serde_json::to_value(step).unwrap_or(Value::Null);
    // The report's `call` is one line, as in CLI.md (null for a step that makes none); the
    // details go beside it.
    v["call"] = Value::Null;
    match &step.walk {
        WalkKind::Gate { id, question, stop } => {
            v["gate"] = json!({"id": id, "question": question, "stop": stop});
        }
        WalkKind::Capture { id, prompt } => v["capture"] = json!({"id": id, "prompt": prompt}),
        WalkKind::Manual | WalkKind::Action { .. } => {}
    }
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
