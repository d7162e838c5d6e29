//! Turns a runbook file into a checked `Runbook`, or into an error that names the file, line and
//! column and says what to change. A broken runbook is never skipped: every command refuses to
//! start (exit 2) until it is fixed.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use toml::Spanned;

use super::wire::{MetaWire, ParamWire, RunbookFileWire};
use super::{Origin, Param, ParamType, Runbook, RunbookKind, Vendor};

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

mod shape;
mod steps;
mod values;

pub use values::{check_namespace_path, check_value};

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
        if service == Vendor::Zendesk && !has_instance {
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
    fn service_kind(&self, field: &Spanned<String>) -> Result<Vendor> {
        match field.get_ref().as_str() {
            "gitlab" => Ok(Vendor::GitLab),
            "zendesk" => Ok(Vendor::Zendesk),
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

/// A gate's id when the runbook names none: its title in lower case, words joined by `-`.
fn slug(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}
