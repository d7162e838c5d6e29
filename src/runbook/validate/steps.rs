//! A runbook's steps: their fields, their kind (manual, gate, capture, action), an action's
//! arguments checked against its spec (a secret only where the spec takes one), and the
//! templates in their text checked against the parameters and captures in scope.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::Spanned;

use super::{FORMAT_HINT, Result, Scope, Validator, is_snake, param_names, slug};
use crate::actions::{self, Action, ActionSpec, ArgSpec, Service};
use crate::model::Vendor;
use crate::runbook::template::{Template, VarRef};
use crate::runbook::wire::StepWire;
use crate::runbook::{ParamType, Step, StepKind};

impl Validator<'_> {
    pub(super) fn steps(
        &self,
        wires: Vec<Spanned<StepWire>>,
        scope: &Scope<'_>,
    ) -> Result<Vec<Step>> {
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
    pub(super) fn check_step_fields(&self, w: &StepWire, span: &Range<usize>) -> Result<()> {
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
    pub(super) fn step_kind(
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
    pub(super) fn check_conditions(&self, w: &StepWire, scope: &Scope<'_>) -> Result<()> {
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

    pub(super) fn action_step(
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
        if spec.action == Action::TargetsApply && !secrets.contains("token") {
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
    pub(super) fn action_spec(
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
        if spec.service == Service::Api(Vendor::Zendesk) && !scope.has_instance {
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
    pub(super) fn given_args(
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
    pub(super) fn check_secret_arg(
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
    pub(super) fn check_plain_arg(
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

    pub(super) fn template(&self, value: &Spanned<String>) -> Result<Template> {
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
    pub(super) fn text_template(
        &self,
        value: &Spanned<String>,
        scope: &Scope<'_>,
    ) -> Result<Template> {
        let t = self.template(value)?;
        self.check_vars(&t, value, scope)?;
        Ok(t)
    }

    pub(super) fn check_vars(
        &self,
        t: &Template,
        value: &Spanned<String>,
        scope: &Scope<'_>,
    ) -> Result<()> {
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
}
