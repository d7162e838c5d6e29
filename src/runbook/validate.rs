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
use crate::actions::{self, ActionSpec, ArgSpec, Phase, Service, TARGETS_APPLY, TARGETS_PREFLIGHT};
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
        let id = self.runbook_id(&meta.id, &origin)?;
        let kind = self.runbook_kind(&meta.kind)?;
        let service = self.service_kind(&meta.service)?;
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

    /// The runbook's id, which must be a CLI id and, for a file, the file's name.
    fn runbook_id(&self, field: &Spanned<String>, origin: &Origin) -> Result<String> {
        let id = field.get_ref().clone();
        if !is_cli_id(&id) {
            return self.err(
                field.span(),
                format!("runbook id `{id}` must be lowercase letters, digits and dashes"),
                Some("for example `gitlab-pat`".into()),
            );
        }
        if let Origin::File(path) = origin {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if stem != id {
                return self.err(
                    field.span(),
                    format!("runbook id `{id}` does not match its file name `{stem}.toml`"),
                    Some(format!(
                        "rename the file to `{id}.toml` or the id to `{stem}`"
                    )),
                );
            }
        }
        Ok(id)
    }

    /// The runbook's `kind` field, read.
    fn runbook_kind(&self, field: &Spanned<String>) -> Result<RunbookKind> {
        match field.get_ref().as_str() {
            "rotate" => Ok(RunbookKind::Rotate),
            "apply" => Ok(RunbookKind::Apply),
            "checklist" => Ok(RunbookKind::Checklist),
            other => self.err(
                field.span(),
                format!("unknown runbook kind `{other}`"),
                Some("use `rotate`, `apply` or `checklist`".into()),
            ),
        }
    }

    /// The runbook's `service` field, read.
    fn service_kind(&self, field: &Spanned<String>) -> Result<ServiceKind> {
        match field.get_ref().as_str() {
            "gitlab" => Ok(ServiceKind::GitLab),
            "zendesk" => Ok(ServiceKind::Zendesk),
            other => self.err(
                field.span(),
                format!("unknown service `{other}`"),
                Some("use `gitlab` or `zendesk`".into()),
            ),
        }
    }

    fn params(&self, wires: Vec<Spanned<ParamWire>>) -> Result<Vec<Param>> {
        let mut out: Vec<Param> = Vec::new();
        let mut groups: BTreeMap<String, (Range<usize>, usize)> = BTreeMap::new();
        for spanned in wires {
            let span = spanned.span();
            let p = spanned.into_inner();
            let param = self.param(span, p, &out, &mut groups)?;
            out.push(param);
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

    /// One `[[params]]` table, checked against those `declared` before it; counts the members
    /// of its `one-of` group in `groups`.
    fn param(
        &self,
        span: Range<usize>,
        p: ParamWire,
        declared: &[Param],
        groups: &mut BTreeMap<String, (Range<usize>, usize)>,
    ) -> Result<Param> {
        let name = p.name.get_ref().clone();
        if !is_snake(&name) {
            return self.err(
                p.name.span(),
                format!("parameter name `{name}` must be snake_case"),
                Some("for example `token_id`".into()),
            );
        }
        if declared.iter().any(|q| q.name == name) {
            return self.err(
                p.name.span(),
                format!("parameter `{name}` is declared twice"),
                None,
            );
        }
        let ty = self.param_type(&p)?;
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
                    Some(
                        "the group itself is required: exactly one of its parameters must be given"
                            .into(),
                    ),
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
        let flag = self.param_flag(&p, &name)?;
        if p.prompt.get_ref().trim().is_empty() {
            return self.err(
                span,
                format!("parameter `{name}` has an empty prompt"),
                None,
            );
        }
        Ok(Param {
            name,
            prompt: p.prompt.into_inner(),
            ty,
            required: p.required,
            default: p.default.map(Spanned::into_inner),
            one_of: p.one_of.map(Spanned::into_inner),
            flag,
            unset: p.unset.map(Spanned::into_inner),
        })
    }

    /// A parameter's `type` (with its `choices`), read.
    fn param_type(&self, p: &ParamWire) -> Result<ParamType> {
        Ok(match (p.ty.get_ref().as_str(), &p.choices) {
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
            ("segment", None) => ParamType::Segment,
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
                    Some("use string, integer, segment, token-id, date, instance, project, group, choice or flag".into()),
                );
            }
        })
    }

    /// A parameter's command-line flag: the one it names, or `--name-with-dashes`.
    fn param_flag(&self, p: &ParamWire, name: &str) -> Result<String> {
        match &p.flag {
            Some(f) if f.get_ref().starts_with("--") && f.get_ref().len() > 2 => {
                Ok(f.get_ref().clone())
            }
            Some(f) => self.err(
                f.span(),
                format!("flag `{}` must start with `--`", f.get_ref()),
                None,
            ),
            None => Ok(format!("--{}", name.replace('_', "-"))),
        }
    }

    fn steps(&self, wires: Vec<Spanned<StepWire>>, scope: &Scope<'_>) -> Result<Vec<Step>> {
        let mut secrets: BTreeSet<String> = BTreeSet::new();
        let mut out = Vec::new();
        for spanned in wires {
            let span = spanned.span();
            let w = spanned.into_inner();
            self.check_step_fields(&w, &span)?;
            let title = self.text_template(&w.title, scope)?;
            let text = w
                .text
                .as_ref()
                .map(|t| self.text_template(t, scope))
                .transpose()?;
            let kind = self.step_kind(&w, &span, scope, &mut secrets)?;
            self.check_conditions(&w, scope)?;
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

    /// Refuses an unknown step kind, and any field that does not belong to the step's kind.
    fn check_step_fields(&self, w: &StepWire, span: &Range<usize>) -> Result<()> {
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
        Ok(())
    }

    /// What a step (whose kind and fields are already checked) does; `secrets` holds the
    /// secrets set by earlier steps and gains the one this step sets.
    fn step_kind(
        &self,
        w: &StepWire,
        span: &Range<usize>,
        scope: &Scope<'_>,
        secrets: &mut BTreeSet<String>,
    ) -> Result<StepKind> {
        let step_kind = w.kind.get_ref().as_str();
        let missing = |field: &str| {
            self.error_at(
                span.start,
                format!("a {step_kind} step needs `{field}`"),
                Some(FORMAT_HINT.into()),
            )
        };
        Ok(match step_kind {
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
            _ => self.action_step(w, span.clone(), scope, secrets)?,
        })
    }

    /// Refuses a `when` or `unless` that names no parameter.
    fn check_conditions(&self, w: &StepWire, scope: &Scope<'_>) -> Result<()> {
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
        Ok(())
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
        let spec = self.action_spec(name, scope)?;
        let given = self.given_args(w, spec, &span)?;
        let mut args = Vec::new();
        for arg in spec.args {
            let Some(value) = given.get(arg.name) else {
                continue;
            };
            let template = self.template(value)?;
            if arg.kind.is_secret() {
                self.check_secret_arg(spec, arg, value, &template, secrets)?;
            } else {
                self.check_plain_arg(spec, arg, value, &template, scope)?;
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

    /// The registry entry an action step names; a Zendesk action needs the `instance` parameter.
    fn action_spec(
        &self,
        name: &Spanned<String>,
        scope: &Scope<'_>,
    ) -> Result<&'static ActionSpec> {
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
        Ok(spec)
    }

    /// The step's `args`, once every one is known to the action and every required one is given.
    fn given_args(
        &self,
        w: &StepWire,
        spec: &ActionSpec,
        span: &Range<usize>,
    ) -> Result<BTreeMap<String, Spanned<String>>> {
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
                span.clone(),
                format!(
                    "action `{}` needs argument(s): {}",
                    spec.name,
                    missing.join(", ")
                ),
                Some("add them under `args`, e.g. args = { project = \"{param.project}\" }".into()),
            );
        }
        Ok(given)
    }

    /// An argument that takes a secret: exactly one `{secret.NAME}` that an earlier step set.
    fn check_secret_arg(
        &self,
        spec: &ActionSpec,
        arg: &ArgSpec,
        value: &Spanned<String>,
        template: &Template,
        secrets: &BTreeSet<String>,
    ) -> Result<()> {
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
                Some("write it as \"{secret.token}\" (or the id of an earlier capture)".into()),
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
        Ok(())
    }

    /// An argument that takes no secret: it may not contain one, and its variables must exist.
    fn check_plain_arg(
        &self,
        spec: &ActionSpec,
        arg: &ArgSpec,
        value: &Spanned<String>,
        template: &Template,
        scope: &Scope<'_>,
    ) -> Result<()> {
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
        self.check_vars(template, value, scope)
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
        match kind {
            RunbookKind::Rotate => self.check_rotate_shape(id, steps, span),
            RunbookKind::Apply | RunbookKind::Checklist => {
                self.check_other_shape(id, kind, steps, span)
            }
        }
    }

    /// A rotate runbook sets the new token and has one `targets.apply` step, after any
    /// `targets.preflight`.
    fn check_rotate_shape(&self, id: &str, steps: &[Step], span: Range<usize>) -> Result<()> {
        let sets_token = steps.iter().any(|s| match &s.kind {
            StepKind::Capture { id, .. } => id == "token",
            StepKind::Action { spec, .. } => spec.yields == Some("token"),
            _ => false,
        });
        if !sets_token {
            return self.err(
                span,
                format!("rotate runbook `{id}` never sets the new token"),
                Some("add a rotate/create action, or a capture step with id = \"token\"".into()),
            );
        }
        // The new token is kept in the keyring before anything else is done with it: a
        // `tokrot.stash` step right after the step that makes it says where it is, and keeps a
        // pasted one.
        let made = steps.iter().position(|s| match &s.kind {
            StepKind::Capture { id, .. } => id == "token",
            StepKind::Action { spec, .. } => spec.yields == Some("token"),
            _ => false,
        });
        let stash = action_position(steps, "tokrot.stash");
        if !matches!((made, stash), (Some(m), Some(st)) if st > m) {
            return self.err(
                span,
                format!("rotate runbook `{id}` has no `tokrot.stash` step after the step that makes the new token"),
                Some("add a step with action = \"tokrot.stash\" and args = { token = \"{secret.token}\" } right after it".into()),
            );
        }
        if action_count(steps, TARGETS_APPLY) != 1 || action_count(steps, TARGETS_PREFLIGHT) > 1 {
            return self.err(
                span,
                format!("rotate runbook `{id}` needs exactly one `targets.apply` step (and at most one `targets.preflight`)"),
                Some("`targets.apply` is where the new token goes into the --apply-to targets".into()),
            );
        }
        if let (Some(pre), Some(apply)) = (
            action_position(steps, TARGETS_PREFLIGHT),
            action_position(steps, TARGETS_APPLY),
        ) && pre > apply
        {
            return self.err(
                span,
                "`targets.preflight` must come before `targets.apply`",
                None,
            );
        }
        Ok(())
    }

    /// An apply or checklist runbook has no `targets.*` step; an apply runbook captures the token.
    fn check_other_shape(
        &self,
        id: &str,
        kind: RunbookKind,
        steps: &[Step],
        span: Range<usize>,
    ) -> Result<()> {
        if action_count(steps, TARGETS_APPLY) + action_count(steps, TARGETS_PREFLIGHT) > 0 {
            return self.err(
                span,
                format!(
                    "`targets.*` steps belong in rotate runbooks only (`{id}` is {})",
                    kind.as_str()
                ),
                None,
            );
        }
        // A one-shot call makes a token only a rotation keeps safe (keyring, journal, locks).
        if let Some(spec) = steps.iter().find_map(|s| match &s.kind {
            StepKind::Action { spec, .. } if spec.phase == Phase::Rotate => Some(spec),
            _ => None,
        }) {
            return self.err(
                span,
                format!(
                    "`{}` makes a new token and belongs in a rotate runbook (`{id}` is {})",
                    spec.name,
                    kind.as_str()
                ),
                Some("only a rotation keeps a new token in the keyring and journals its one-shot call".into()),
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
        Ok(())
    }
}

/// Where the first step that carries out the action `name` is.
fn action_position(steps: &[Step], name: &str) -> Option<usize> {
    steps
        .iter()
        .position(|s| s.action().is_some_and(|a| a.name == name))
}

/// How many steps carry out the action `name`.
fn action_count(steps: &[Step], name: &str) -> usize {
    steps
        .iter()
        .filter(|s| s.action().is_some_and(|a| a.name == name))
        .count()
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
        ParamType::Segment => {
            let ok = (1..=255).contains(&value.len())
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(
                    "must be 1 to 255 letters, digits, `-` and `_` (it goes into a URL path)"
                        .into(),
                );
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

/// A GitLab project or group: a numeric id or a path like `group/sub/project`. A segment of
/// dots only (`.`, `..`) is refused: a URL parser resolves it even percent-encoded, so
/// `/projects/../hooks/9` would reach GitLab's admin `/hooks/9`.
pub fn check_namespace_path(value: &str) -> std::result::Result<(), String> {
    let numeric = !value.is_empty() && value.chars().all(|c| c.is_ascii_digit());
    if numeric {
        return Ok(());
    }
    for seg in value.split('/') {
        if seg.is_empty() {
            return Err(
                "has an empty path segment; a path is like group/sub/project, without a leading, trailing or double `/`".into(),
            );
        }
        if seg.chars().all(|c| c == '.') {
            return Err(format!(
                "has the path segment `{seg}`; a path is like group/sub/project, each part a name"
            ));
        }
        if !seg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err("must be a numeric id or a path like group/sub/project".into());
        }
    }
    Ok(())
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
