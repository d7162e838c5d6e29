//! Turns a runbook file into a checked `Runbook`, or into an error that names the file, line and
//! column and says what to change. A broken runbook is never skipped: every command refuses to
//! start (exit 2) until it is fixed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use toml::Spanned;

use super::template::{Template, VarRef};
use super::wire::{MetaWire, ParamWire, RunbookFileWire, StepWire};
use super::{Origin, Param, ParamType, Runbook, RunbookKind, ServiceKind, Step, StepKind};
use crate::actions::{self, Service, TARGETS_APPLY, TARGETS_PREFLIGHT};
use crate::config::{is_cli_id, line_col};

/// A runbook that cannot be used, located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunbookError {
    /// The file as shown to the operator.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to change.
    pub hint: Option<String>,
}

impl fmt::Display for RunbookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  help: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RunbookError {}

const FORMAT_HINT: &str = "the runbook format is described in runbooks/README.md";

/// Parses and validates one runbook file. `file` is how errors name it.
pub fn parse_runbook(
    file: &str,
    src: &str,
    origin: Origin,
) -> std::result::Result<Runbook, RunbookError> {
    let v = Validator { file, src };
    let wire: RunbookFileWire = toml::from_str(src).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        let message = e.message().trim().to_owned();
        let hint = if message.starts_with("missing field") {
            Some(format!("add the field; {FORMAT_HINT}"))
        } else if message.starts_with("unknown field") {
            Some(format!("remove or rename it; {FORMAT_HINT}"))
        } else {
            Some(FORMAT_HINT.to_owned())
        };
        v.error_at(at, message, hint)
    })?;
    v.runbook(wire, origin)
}

struct Validator<'a> {
    file: &'a str,
    src: &'a str,
}

type Result<T> = std::result::Result<T, RunbookError>;

struct Scope<'r> {
    params: &'r [Param],
    has_instance: bool,
}

impl Validator<'_> {
    fn error_at(&self, offset: usize, message: String, hint: Option<String>) -> RunbookError {
        let (line, column) = line_col(self.src, offset);
        RunbookError {
            file: self.file.to_owned(),
            line,
            column,
            message,
            hint,
        }
    }

    fn err<T>(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Result<T> {
        Err(self.error_at(span.start, message.into(), hint))
    }

    /// The offset of `needle` inside the source text of a spanned value (for errors inside a string).
    fn locate(&self, span: &Range<usize>, needle: &str) -> usize {
        self.src
            .get(span.clone())
            .and_then(|s| s.find(needle))
            .map_or(span.start, |i| span.start + i)
    }

    fn runbook(&self, wire: RunbookFileWire, origin: Origin) -> Result<Runbook> {
        let meta_span = wire.runbook.span();
        let meta: MetaWire = wire.runbook.into_inner();
        let id = meta.id.get_ref().clone();
        if !is_cli_id(&id) {
            return self.err(
                meta.id.span(),
                format!("runbook id `{id}` must be lowercase letters, digits and dashes"),
                Some("for example `gitlab-pat`".into()),
            );
        }
        if let Origin::File(path) = &origin {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if stem != id {
                return self.err(
                    meta.id.span(),
                    format!("runbook id `{id}` does not match its file name `{stem}.toml`"),
                    Some(format!(
                        "rename the file to `{id}.toml` or the id to `{stem}`"
                    )),
                );
            }
        }
        let kind = match meta.kind.get_ref().as_str() {
            "rotate" => RunbookKind::Rotate,
            "apply" => RunbookKind::Apply,
            "checklist" => RunbookKind::Checklist,
            other => {
                return self.err(
                    meta.kind.span(),
                    format!("unknown runbook kind `{other}`"),
                    Some("use `rotate`, `apply` or `checklist`".into()),
                );
            }
        };
        let service = match meta.service.get_ref().as_str() {
            "gitlab" => ServiceKind::GitLab,
            "zendesk" => ServiceKind::Zendesk,
            other => {
                return self.err(
                    meta.service.span(),
                    format!("unknown service `{other}`"),
                    Some("use `gitlab` or `zendesk`".into()),
                );
            }
        };
        for (what, field) in [("title", &meta.title), ("section", &meta.section)] {
            if field.get_ref().trim().is_empty() {
                return self.err(field.span(), format!("`{what}` is empty"), None);
            }
        }
        let params = self.params(wire.params)?;
        let has_instance = params.iter().any(|p| p.ty == ParamType::Instance);
        if service == ServiceKind::Zendesk && !has_instance {
            return self.err(
                meta_span,
                "a zendesk runbook needs an `instance` parameter",
                Some(
                    "add [[params]] name = \"instance\", type = \"instance\", required = true"
                        .into(),
                ),
            );
        }
        let scope = Scope {
            params: &params,
            has_instance,
        };
        let notices = meta
            .notices
            .iter()
            .map(|n| self.text_template(n, &scope))
            .collect::<Result<Vec<_>>>()?;
        if wire.steps.is_empty() {
            return self.err(
                meta_span,
                "the runbook has no steps",
                Some("add at least one [[steps]] table".into()),
            );
        }
        let steps = self.steps(wire.steps, &scope)?;
        self.check_shape(&id, kind, &steps, meta_span)?;
        Ok(Runbook {
            id,
            kind,
            title: meta.title.into_inner(),
            service,
            section: meta.section.into_inner(),
            summary: meta.summary.map(Spanned::into_inner),
            notices,
            params,
            steps,
            origin,
        })
    }

    fn params(&self, wires: Vec<Spanned<ParamWire>>) -> Result<Vec<Param>> {
        let mut out: Vec<Param> = Vec::new();
        let mut groups: BTreeMap<String, (Range<usize>, usize)> = BTreeMap::new();
        for spanned in wires {
            let span = spanned.span();
            let p = spanned.into_inner();
            let name = p.name.get_ref().clone();
            if !is_snake(&name) {
                return self.err(
                    p.name.span(),
                    format!("parameter name `{name}` must be snake_case"),
                    Some("for example `token_id`".into()),
                );
            }
            if out.iter().any(|q| q.name == name) {
                return self.err(
                    p.name.span(),
                    format!("parameter `{name}` is declared twice"),
                    None,
                );
            }
            let ty = match (p.ty.get_ref().as_str(), &p.choices) {
                ("choice", Some(c)) if !c.get_ref().is_empty() => {
                    ParamType::Choice(c.get_ref().clone())
                }
                ("choice", _) => {
                    return self.err(
                        p.ty.span(),
                        "a `choice` parameter needs a non-empty `choices` list",
                        None,
                    );
                }
                (_, Some(c)) => {
                    return self.err(c.span(), "`choices` only goes with type = \"choice\"", None);
                }
                ("string", None) => ParamType::String,
                ("integer", None) => ParamType::Integer,
                ("token-id", None) => ParamType::TokenId,
                ("date", None) => ParamType::Date,
                ("instance", None) => ParamType::Instance,
                ("project", None) => ParamType::Project,
                ("group", None) => ParamType::Group,
                ("flag", None) => ParamType::Flag,
                (other, None) => {
                    return self.err(
                        p.ty.span(),
                        format!("unknown parameter type `{other}`"),
                        Some("use string, integer, token-id, date, instance, project, group, choice or flag".into()),
                    );
                }
            };
            if ty == ParamType::Instance && name != "instance" {
                return self.err(
                    p.name.span(),
                    "the instance parameter must be named `instance`",
                    None,
                );
            }
            if let Some(g) = &p.one_of {
                if p.required {
                    return self.err(
                        g.span(),
                        "a parameter in a `one-of` group cannot also be `required`",
                        Some("the group itself is required: exactly one of its parameters must be given".into()),
                    );
                }
                let entry = groups.entry(g.get_ref().clone()).or_insert((g.span(), 0));
                entry.1 += 1;
            }
            if let Some(d) = &p.default
                && let Err(why) = check_value(&ty, d.get_ref())
            {
                return self.err(d.span(), format!("default `{}`: {why}", d.get_ref()), None);
            }
            let flag = match &p.flag {
                Some(f) if f.get_ref().starts_with("--") && f.get_ref().len() > 2 => {
                    f.get_ref().clone()
                }
                Some(f) => {
                    return self.err(
                        f.span(),
                        format!("flag `{}` must start with `--`", f.get_ref()),
                        None,
                    );
                }
                None => format!("--{}", name.replace('_', "-")),
            };
            if p.prompt.get_ref().trim().is_empty() {
                return self.err(
                    span,
                    format!("parameter `{name}` has an empty prompt"),
                    None,
                );
            }
            out.push(Param {
                name,
                prompt: p.prompt.into_inner(),
                ty,
                required: p.required,
                default: p.default.map(Spanned::into_inner),
                one_of: p.one_of.map(Spanned::into_inner),
                flag,
                unset: p.unset.map(Spanned::into_inner),
            });
        }
        if let Some((group, (span, _))) = groups.iter().find(|(_, (_, n))| *n < 2) {
            return self.err(
                span.clone(),
                format!("`one-of` group `{group}` has a single parameter"),
                Some("make the parameter `required`, or add its alternatives to the group".into()),
            );
        }
        Ok(out)
    }

    fn steps(&self, wires: Vec<Spanned<StepWire>>, scope: &Scope<'_>) -> Result<Vec<Step>> {
        let mut secrets: BTreeSet<String> = BTreeSet::new();
        let mut out = Vec::new();
        for spanned in wires {
            let span = spanned.span();
            let w = spanned.into_inner();
            let step_kind = w.kind.get_ref().as_str();
            let allowed: &[&str] = match step_kind {
                "manual" => &["text", "cleanup"],
                "capture" => &["text", "id", "prompt"],
                "gate" => &["text", "id", "question", "stop"],
                "action" => &["text", "action", "args", "cleanup"],
                other => {
                    return self.err(
                        w.kind.span(),
                        format!("unknown step kind `{other}`"),
                        Some("use `manual`, `capture`, `gate` or `action`".into()),
                    );
                }
            };
            for (field, present, at) in [
                ("text", w.text.is_some(), w.text.as_ref().map(Spanned::span)),
                ("id", w.id.is_some(), w.id.as_ref().map(Spanned::span)),
                (
                    "prompt",
                    w.prompt.is_some(),
                    w.prompt.as_ref().map(Spanned::span),
                ),
                (
                    "question",
                    w.question.is_some(),
                    w.question.as_ref().map(Spanned::span),
                ),
                ("stop", w.stop.is_some(), w.stop.as_ref().map(Spanned::span)),
                (
                    "action",
                    w.action.is_some(),
                    w.action.as_ref().map(Spanned::span),
                ),
                ("args", w.args.is_some(), w.args.as_ref().map(Spanned::span)),
                ("cleanup", w.cleanup, None),
            ] {
                if present && !allowed.contains(&field) {
                    return self.err(
                        at.unwrap_or_else(|| span.clone()),
                        format!("`{field}` does not belong in a {step_kind} step"),
                        Some(format!(
                            "a {step_kind} step takes: title, {}, when, unless, handbook",
                            allowed.join(", ")
                        )),
                    );
                }
            }
            let missing = |field: &str| {
                self.error_at(
                    span.start,
                    format!("a {step_kind} step needs `{field}`"),
                    Some(FORMAT_HINT.into()),
                )
            };
            let title = self.text_template(&w.title, scope)?;
            let text = w
                .text
                .as_ref()
                .map(|t| self.text_template(t, scope))
                .transpose()?;
            let kind = match step_kind {
                "manual" => StepKind::Manual,
                "capture" => {
                    let Some(id_field) = &w.id else {
                        return Err(missing("id"));
                    };
                    let Some(prompt) = &w.prompt else {
                        return Err(missing("prompt"));
                    };
                    let id = id_field.get_ref().clone();
                    if !is_snake(&id) {
                        return self.err(id_field.span(), "a capture id must be snake_case", None);
                    }
                    if !secrets.insert(id.clone()) {
                        return self.err(
                            id_field.span(),
                            format!("secret `{id}` is already set by an earlier step"),
                            None,
                        );
                    }
                    StepKind::Capture {
                        id,
                        prompt: prompt.get_ref().clone(),
                    }
                }
                "gate" => match (&w.question, &w.stop) {
                    (Some(question), Some(stop)) => StepKind::Gate {
                        id: w
                            .id
                            .as_ref()
                            .map_or_else(|| slug(w.title.get_ref()), |i| i.get_ref().clone()),
                        question: self.text_template(question, scope)?,
                        stop: stop.get_ref().clone(),
                    },
                    (None, _) => return Err(missing("question")),
                    (_, None) => return Err(missing("stop")),
                },
                _ => self.action_step(&w, span.clone(), scope, &mut secrets)?,
            };
            for cond in [&w.when, &w.unless].into_iter().flatten() {
                if !scope.params.iter().any(|p| p.name == *cond.get_ref()) {
                    return self.err(
                        cond.span(),
                        format!("`{}` is not a parameter of this runbook", cond.get_ref()),
                        Some(format!(
                            "declared parameters: {}",
                            param_names(scope.params)
                        )),
                    );
                }
            }
            out.push(Step {
                kind,
                title,
                text,
                cleanup: w.cleanup,
                when: w.when.map(Spanned::into_inner),
                unless: w.unless.map(Spanned::into_inner),
                handbook: w.handbook.into_iter().map(Spanned::into_inner).collect(),
            });
        }
        Ok(out)
    }

    fn action_step(
        &self,
        w: &StepWire,
        span: Range<usize>,
        scope: &Scope<'_>,
        secrets: &mut BTreeSet<String>,
    ) -> Result<StepKind> {
        let Some(name) = &w.action else {
            return self.err(span, "an action step needs `action`", None);
        };
        let Some(spec) = actions::lookup(name.get_ref()) else {
            let near = actions::suggest(name.get_ref());
            let hint = if near.is_empty() {
                "`tokrot list --actions` lists the registry".to_owned()
            } else {
                format!(
                    "did you mean {}?",
                    near.iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            };
            return self.err(
                name.span(),
                format!("unknown action `{}`", name.get_ref()),
                Some(hint),
            );
        };
        if spec.service == Service::Zendesk && !scope.has_instance {
            return self.err(
                name.span(),
                format!(
                    "action `{}` talks to Zendesk and needs an `instance` parameter",
                    spec.name
                ),
                None,
            );
        }
        let given: BTreeMap<String, Spanned<String>> = w
            .args
            .as_ref()
            .map(|a| {
                a.get_ref()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for key in given.keys() {
            if spec.arg(key).is_none() {
                let known: Vec<&str> = spec.args.iter().map(|a| a.name).collect();
                let at = self.locate(&w.args.as_ref().map_or(span.clone(), Spanned::span), key);
                return self.err(
                    at..at,
                    format!("action `{}` has no argument `{key}`", spec.name),
                    Some(if known.is_empty() {
                        "this action takes no arguments".into()
                    } else {
                        format!("its arguments: {}", known.join(", "))
                    }),
                );
            }
        }
        let missing: Vec<&str> = spec
            .args
            .iter()
            .filter(|a| a.required && !given.contains_key(a.name))
            .map(|a| a.name)
            .collect();
        if !missing.is_empty() {
            return self.err(
                span,
                format!(
                    "action `{}` needs argument(s): {}",
                    spec.name,
                    missing.join(", ")
                ),
                Some("add them under `args`, e.g. args = { project = \"{param.project}\" }".into()),
            );
        }
        let mut args = Vec::new();
        for arg in spec.args {
            let Some(value) = given.get(arg.name) else {
                continue;
            };
            let template = self.template(value)?;
            if arg.kind.is_secret() {
                let vars: Vec<&VarRef> = template.vars().collect();
                let only_secret =
                    template.parts().len() == 1 && vars.len() == 1 && vars[0].namespace == "secret";
                if !only_secret {
                    return self.err(
                        value.span(),
                        format!(
                            "argument `{}` of `{}` takes a secret and nothing else",
                            arg.name, spec.name
                        ),
                        Some(
                            "write it as \"{secret.token}\" (or the id of an earlier capture)"
                                .into(),
                        ),
                    );
                }
                let name = &vars[0].name;
                if !secrets.contains(name) {
                    let at = self.locate(&value.span(), "{secret.");
                    return self.err(
                        at..at,
                        format!("secret `{name}` is not set by any earlier step"),
                        Some(format!(
                            "capture it first, or use one an earlier step sets ({})",
                            if secrets.is_empty() {
                                "none yet".to_owned()
                            } else {
                                secrets.iter().cloned().collect::<Vec<_>>().join(", ")
                            }
                        )),
                    );
                }
            } else {
                if let Some(v) = template.vars().find(|v| v.namespace == "secret") {
                    let at = self.locate(&value.span(), "{secret.");
                    let takes: Vec<&str> = spec
                        .args
                        .iter()
                        .filter(|a| a.kind.is_secret())
                        .map(|a| a.name)
                        .collect();
                    return self.err(
                        at..at,
                        format!(
                            "argument `{}` of `{}` does not take a secret, and `{{{}}}` would send one in the clear",
                            arg.name,
                            spec.name,
                            v.path()
                        ),
                        Some(if takes.is_empty() {
                            "this action takes no secret".into()
                        } else {
                            format!("only {} take(s) a secret", takes.join(", "))
                        }),
                    );
                }
                self.check_vars(&template, value, scope)?;
            }
            args.push((arg.name.to_owned(), template));
        }
        if spec.name == TARGETS_APPLY && !secrets.contains("token") {
            return self.err(
                name.span(),
                "`targets.apply` comes before any step sets the new token",
                Some(
                    "put it after the rotate/create action or the capture with id = \"token\""
                        .into(),
                ),
            );
        }
        if let Some(y) = spec.yields
            && !secrets.insert(y.to_owned())
        {
            return self.err(
                name.span(),
                format!("secret `{y}` is already set by an earlier step"),
                None,
            );
        }
        Ok(StepKind::Action { spec, args })
    }

    fn template(&self, value: &Spanned<String>) -> Result<Template> {
        Template::parse(value.get_ref()).map_err(|e| {
            let at = self.locate(
                &value.span(),
                &value.get_ref()[e.offset..]
                    .chars()
                    .take(8)
                    .collect::<String>(),
            );
            self.error_at(at, e.message, Some(FORMAT_HINT.into()))
        })
    }

    /// A template that is shown to the operator: it may never contain a secret.
    fn text_template(&self, value: &Spanned<String>, scope: &Scope<'_>) -> Result<Template> {
        let t = self.template(value)?;
        self.check_vars(&t, value, scope)?;
        Ok(t)
    }

    fn check_vars(&self, t: &Template, value: &Spanned<String>, scope: &Scope<'_>) -> Result<()> {
        for v in t.vars() {
            let at = self.locate(&value.span(), &format!("{{{}", v.path()));
            let fail = |message: String, hint: String| Err(self.error_at(at, message, Some(hint)));
            match v.namespace.as_str() {
                "secret" => {
                    return fail(
                        format!("`{{{}}}` would put a secret into text that is shown or sent in the clear", v.path()),
                        "a secret only goes into an action argument that takes one (e.g. `value = \"{secret.token}\"`); remove it from this text".into(),
                    );
                }
                "param" => {
                    let Some(p) = scope.params.iter().find(|p| p.name == v.name) else {
                        return fail(
                            format!("`{{{}}}` names no parameter of this runbook", v.path()),
                            format!("declared parameters: {}", param_names(scope.params)),
                        );
                    };
                    match v.field.as_deref() {
                        None => {}
                        Some("url") if matches!(p.ty, ParamType::Project | ParamType::Group) => {}
                        Some(f) => {
                            return fail(
                                format!(
                                    "`{{{}}}`: a {} parameter has no field `{f}`",
                                    v.path(),
                                    p.ty.as_str()
                                ),
                                "project and group parameters have `.url`; others have no fields"
                                    .into(),
                            );
                        }
                    }
                }
                "instance" => {
                    if !scope.has_instance {
                        return fail(
                            format!("`{{{}}}` needs an `instance` parameter", v.path()),
                            "add [[params]] name = \"instance\", type = \"instance\"".into(),
                        );
                    }
                    if v.field.is_some()
                        || !["id", "label", "url", "admin_url"].contains(&v.name.as_str())
                    {
                        return fail(
                            format!("`{{{}}}` is not an instance value", v.path()),
                            "use instance.id, instance.label, instance.url or instance.admin_url"
                                .into(),
                        );
                    }
                }
                "gitlab" => {
                    if v.name != "url" || v.field.is_some() {
                        return fail(
                            format!("`{{{}}}` is not a GitLab value", v.path()),
                            "use gitlab.url".into(),
                        );
                    }
                }
                other => {
                    return fail(
                        format!("unknown namespace `{other}` in `{{{}}}`", v.path()),
                        "use param.NAME, instance.admin_url, instance.label, gitlab.url".into(),
                    );
                }
            }
        }
        Ok(())
    }

    fn check_shape(
        &self,
        id: &str,
        kind: RunbookKind,
        steps: &[Step],
        span: Range<usize>,
    ) -> Result<()> {
        let position = |name: &str| {
            steps
                .iter()
                .position(|s| s.action().is_some_and(|a| a.name == name))
        };
        let count = |name: &str| {
            steps
                .iter()
                .filter(|s| s.action().is_some_and(|a| a.name == name))
                .count()
        };
        let sets_token = steps.iter().any(|s| match &s.kind {
            StepKind::Capture { id, .. } => id == "token",
            StepKind::Action { spec, .. } => spec.yields == Some("token"),
            _ => false,
        });
        match kind {
            RunbookKind::Rotate => {
                if !sets_token {
                    return self.err(
                        span,
                        format!("rotate runbook `{id}` never sets the new token"),
                        Some(
                            "add a rotate/create action, or a capture step with id = \"token\""
                                .into(),
                        ),
                    );
                }
                if count(TARGETS_APPLY) != 1 || count(TARGETS_PREFLIGHT) > 1 {
                    return self.err(
                        span,
                        format!("rotate runbook `{id}` needs exactly one `targets.apply` step (and at most one `targets.preflight`)"),
                        Some("`targets.apply` is where the new token goes into the --apply-to targets".into()),
                    );
                }
                if let (Some(pre), Some(apply)) =
                    (position(TARGETS_PREFLIGHT), position(TARGETS_APPLY))
                    && pre > apply
                {
                    return self.err(
                        span,
                        "`targets.preflight` must come before `targets.apply`",
                        None,
                    );
                }
            }
            RunbookKind::Apply | RunbookKind::Checklist => {
                if count(TARGETS_APPLY) + count(TARGETS_PREFLIGHT) > 0 {
                    return self.err(
                        span,
                        format!(
                            "`targets.*` steps belong in rotate runbooks only (`{id}` is {})",
                            kind.as_str()
                        ),
                        None,
                    );
                }
                if kind == RunbookKind::Apply
                    && !steps
                        .iter()
                        .any(|s| matches!(&s.kind, StepKind::Capture { id, .. } if id == "token"))
                {
                    return self.err(
                        span,
                        format!("apply runbook `{id}` needs a capture step with id = \"token\""),
                        Some("that step asks for the token when the runbook runs on its own; a rotation skips it and hands over its new token".into()),
                    );
                }
            }
        }
        Ok(())
    }
}

fn param_names(params: &[Param]) -> String {
    if params.is_empty() {
        "none".into()
    } else {
        params
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn is_snake(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a parameter value against its type; the error says what is expected.
pub fn check_value(ty: &ParamType, value: &str) -> std::result::Result<(), String> {
    if value.contains(['\n', '\r']) {
        return Err("must be a single line".into());
    }
    match ty {
        ParamType::String => {
            if value.trim().is_empty() {
                return Err("must not be empty".into());
            }
        }
        ParamType::Integer => {
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_digit()) || value.len() > 18 {
                return Err("must be a whole number such as 42".into());
            }
        }
        ParamType::TokenId => {
            if value != "self" {
                check_value(&ParamType::Integer, value)
                    .map_err(|_| "must be a token id such as 42, or `self`".to_owned())?;
            }
        }
        ParamType::Date => {
            let ok = value.len() == 10 && value.parse::<jiff::civil::Date>().is_ok();
            if !ok {
                return Err("must be a date written YYYY-MM-DD, such as 2027-03-31".into());
            }
        }
        ParamType::Instance => {
            if !is_cli_id(value) {
                return Err("must be an instance id such as `global`".into());
            }
        }
        ParamType::Project | ParamType::Group => check_namespace_path(value)?,
        ParamType::Choice(choices) => {
            if !choices.iter().any(|c| c == value) {
                return Err(format!("must be one of: {}", choices.join(", ")));
            }
        }
        ParamType::Flag => {
            if value != "true" && value != "false" {
                return Err("is a flag: true or false".into());
            }
        }
    }
    Ok(())
}

/// A GitLab project or group: a numeric id or a path like `group/sub/project`.
pub fn check_namespace_path(value: &str) -> std::result::Result<(), String> {
    let numeric = !value.is_empty() && value.chars().all(|c| c.is_ascii_digit());
    let path_ok = !value.is_empty()
        && value.split('/').all(|seg| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
    if numeric || path_ok {
        Ok(())
    } else {
        Err("must be a numeric id or a path like group/sub/project".into())
    }
}

/// A gate's id when the runbook names none: its title in lower case, words joined by `-`.
fn slug(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}
