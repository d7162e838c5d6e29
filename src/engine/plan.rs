//! Plan: a runbook, its parameter values and its targets resolved into the numbered list of
//! steps that `show` and `--dry-run` print and the walk carries out. Resolving reads no secret
//! and changes nothing; values that are not known yet stay visible as `<placeholders>`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::actions::{Action, ActionSpec, ArgKind, Phase, Service};
use crate::config::{Config, ConfigError, Instance, display_url};
use crate::inventory::naming::{ConsumerError, trigger_description};
use crate::inventory::target::TargetSpec;
use crate::model::Vendor;
use crate::runbook::template::{Template, VarRef, placeholder};
use crate::runbook::validate::check_value;
use crate::runbook::{Catalogue, Param, ParamType, Runbook, RunbookKind, Step, StepKind};

/// Why a plan cannot be made: always bad input, so nothing was changed (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A value does not fit its parameter.
    #[error("{flag} `{value}`: {reason}")]
    BadValue {
        /// The flag that gave it.
        flag: String,
        /// The value.
        value: String,
        /// What is expected.
        reason: String,
    },
    /// A `--param NAME=…` the runbook does not declare.
    #[error("runbook `{runbook}` has no parameter `{name}`; its parameters: {known}")]
    UnknownParam {
        /// The runbook.
        runbook: String,
        /// The name given.
        name: String,
        /// Declared names.
        known: String,
    },
    /// More than one alternative of a one-of group.
    #[error("give only one of {flags}")]
    Conflict {
        /// The alternatives given.
        flags: String,
    },
    /// An unknown instance.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A bad `--for`.
    #[error(transparent)]
    Consumer(#[from] ConsumerError),
    /// `--apply-to` on a runbook that makes no token.
    #[error("--apply-to only goes with `tokrot rotate`: runbook `{runbook}` is a {kind} runbook")]
    TargetsNotAllowed {
        /// The runbook.
        runbook: String,
        /// Its kind.
        kind: String,
    },
    /// A target whose apply runbook is missing or not an apply runbook (an override broke it).
    #[error("target `{spec}` needs the apply runbook `{runbook}`, which {problem}")]
    TargetRunbook {
        /// The target.
        spec: String,
        /// The runbook it needs.
        runbook: String,
        /// What is wrong.
        problem: String,
    },
    /// A parameter given twice (as its flag and as `--param`, say): which one was meant is
    /// not known.
    #[error("{flag} is given twice (as {flag} or --param {name}); give it once")]
    DuplicateParam {
        /// The parameter.
        name: String,
        /// Its flag.
        flag: String,
    },
    /// A target given twice.
    #[error("target `{spec}` is given twice")]
    DuplicateTarget {
        /// The target.
        spec: String,
    },
}

/// How much is known: `Show` lists every alternative; `Resolve` uses the values given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `tokrot show`: no values, every conditional step listed with its condition.
    Show,
    /// `--dry-run` and runs: the given values, only the steps they select.
    Resolve,
}

/// What the walk does at a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkKind {
    /// Confirm a manual instruction.
    Manual,
    /// Ask; "no" stops.
    Gate {
        /// The id `--approve` names.
        id: String,
        /// The question.
        question: String,
        /// Said on "no".
        stop: String,
    },
    /// Read a hidden value.
    Capture {
        /// The secret's name.
        id: String,
        /// The prompt.
        prompt: String,
    },
    /// Carry out a registry action.
    Action {
        /// The action.
        name: &'static str,
    },
}

pub use crate::actions::ArgValue;

/// An API call as the checklist shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Call {
    /// HTTP method.
    pub method: &'static str,
    /// Full URL with the values known so far.
    pub url: String,
    /// Body fields sent (secrets named, never shown).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sends: Vec<String>,
    /// The credential, when it is not the tool's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
}

impl Call {
    /// `METHOD URL`, as in the JSON report.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.url)
    }
}

/// An action as a plan shows it: by its name.
fn action_name<S: serde::Serializer>(
    action: &Option<&'static ActionSpec>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match action {
        Some(a) => s.serialize_str(a.name),
        None => s.serialize_none(),
    }
}

/// One numbered step of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanStep {
    /// 1-based number.
    pub n: usize,
    /// Manual, gate, capture or action.
    pub kind: crate::model::StepType,
    /// One line.
    pub title: String,
    /// More text, rendered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The text for each known instance, when the instance is not chosen yet.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_instance: Vec<InstanceText>,
    /// The action, as its spec (shown by its name).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "action_name"
    )]
    pub action: Option<&'static ActionSpec>,
    /// The API call, for actions that make one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<Call>,
    /// The protocol phase of an action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// Runs even after a gate stopped the run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cleanup: bool,
    /// When the step applies, if it depends on a parameter not known yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// The target this step belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The handbook's words for it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub handbook: Vec<String>,
    /// What the walk does.
    #[serde(skip)]
    pub walk: WalkKind,
    /// The action's arguments.
    #[serde(skip)]
    pub args: Vec<(String, ArgValue)>,
    /// Which target (index into `Plan::targets`) the step belongs to.
    #[serde(skip)]
    pub target_index: Option<usize>,
    /// The Zendesk instance of the step's runbook, when it has one.
    #[serde(skip)]
    pub instance: Option<Instance>,
}

impl PlanStep {
    /// An argument's value: `None` when the step has no such argument.
    pub fn arg(&self, name: &str) -> Option<&ArgValue> {
        crate::actions::arg(&self.args, name)
    }

    /// An argument known now, as text.
    pub fn text_arg(&self, name: &str) -> Option<&str> {
        crate::actions::text_arg(&self.args, name)
    }

    /// The action this step carries out, with its arguments.
    pub fn invocation(&self) -> Option<crate::actions::Invocation> {
        let spec = self.action?;
        Some(crate::actions::Invocation {
            action: spec.action,
            args: self.args.clone(),
            target_index: self.target_index,
            instance: self.instance.clone(),
        })
    }

    /// The protocol phase of an action step.
    pub fn action_phase(&self) -> Option<Phase> {
        self.action.map(|a| a.phase)
    }
}

/// A step's text for one instance.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceText {
    /// The instance's id.
    pub instance: String,
    /// Its label.
    pub label: String,
    /// The text with its values.
    pub text: String,
}

/// A parameter as the checklist shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ParamView {
    /// Its name.
    pub name: String,
    /// The flag that gives it.
    pub flag: String,
    /// Its value, when known.
    pub value: Option<String>,
    /// Where the value came from, or what happens without one.
    pub note: String,
    /// Whether a run needs it.
    pub required: bool,
}

/// A target as the checklist shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetView {
    /// The canonical spec.
    pub spec: String,
    /// One line.
    pub description: String,
    /// The apply runbook.
    pub runbook: String,
    /// `gitlab` or `zendesk`.
    pub service: &'static str,
    /// The Zendesk instance, for a Zendesk target.
    pub instance: Option<String>,
}

/// A parameter the run still needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The parameter to ask for (the first of a one-of group).
    pub param: Param,
    /// The flags that would give it.
    pub flags: Vec<String>,
}

/// A resolved runbook.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The runbook.
    pub runbook: Runbook,
    /// GitLab base URL.
    pub gitlab_url: String,
    /// The instance, when chosen.
    pub instance: Option<Instance>,
    /// Parameter values, including defaults and derived ones.
    pub values: BTreeMap<String, String>,
    /// Parameters as shown.
    pub params: Vec<ParamView>,
    /// Notices, rendered.
    pub notices: Vec<String>,
    /// Targets.
    pub targets: Vec<TargetView>,
    /// The numbered steps.
    pub steps: Vec<PlanStep>,
    /// What the run still needs.
    pub missing: Vec<Missing>,
}

/// One runbook with its values: the source, or one target.
struct Section<'a> {
    runbook: &'a Runbook,
    values: BTreeMap<String, String>,
    instance: Option<Instance>,
    mode: Mode,
    target: Option<(usize, String)>,
    gitlab_url: String,
}

/// Resolves `runbook` with the `given` values (`(param name, value)`) and `targets`.
pub fn resolve(
    runbook: &Runbook,
    given: &[(String, String)],
    targets: &[TargetSpec],
    mode: Mode,
    config: &Config,
    catalogue: &Catalogue,
) -> Result<Plan, PlanError> {
    if !targets.is_empty() && runbook.kind != RunbookKind::Rotate {
        return Err(PlanError::TargetsNotAllowed {
            runbook: runbook.id.clone(),
            kind: runbook.kind.as_str().into(),
        });
    }
    let source = section(runbook, given, mode, config, None)?;
    let (target_sections, target_views) = resolve_targets(targets, config, catalogue)?;
    let steps = plan_steps(runbook, &source, &target_sections, config);
    let params = runbook
        .params
        .iter()
        .map(|p| ParamView {
            name: p.name.clone(),
            flag: p.flag.clone(),
            value: source.values.get(&p.name).cloned(),
            note: source.note(p, given),
            required: p.required,
        })
        .collect();
    let notices = runbook.notices.iter().map(|t| source.text(t)).collect();
    let missing = source.missing();
    Ok(Plan {
        runbook: runbook.clone(),
        gitlab_url: display_url(&config.gitlab_url),
        instance: source.instance.clone(),
        values: source.values.clone(),
        params,
        notices,
        targets: target_views,
        steps,
        missing,
    })
}

/// Each `--apply-to` target resolved with its apply runbook, and as the checklist shows it.
fn resolve_targets<'c>(
    targets: &[TargetSpec],
    config: &Config,
    catalogue: &'c Catalogue,
) -> Result<(Vec<Section<'c>>, Vec<TargetView>), PlanError> {
    let mut target_sections = Vec::new();
    let mut target_views = Vec::new();
    for spec in targets {
        let text = spec.to_string();
        if target_views.iter().any(|t: &TargetView| t.spec == text) {
            return Err(PlanError::DuplicateTarget { spec: text });
        }
        let apply = catalogue
            .get(spec.runbook_id())
            .ok_or_else(|| PlanError::TargetRunbook {
                spec: text.clone(),
                runbook: spec.runbook_id().into(),
                problem: "is not in the catalogue".into(),
            })?;
        if apply.kind != RunbookKind::Apply {
            return Err(PlanError::TargetRunbook {
                spec: text,
                runbook: apply.id.clone(),
                problem: format!("is a {} runbook, not an apply runbook", apply.kind.as_str()),
            });
        }
        let params: Vec<(String, String)> = spec
            .params()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let index = target_sections.len();
        target_sections.push(section(
            apply,
            &params,
            Mode::Resolve,
            config,
            Some((index, text.clone())),
        )?);
        target_views.push(TargetView {
            spec: text,
            description: spec.describe(),
            runbook: apply.id.clone(),
            service: spec.service(),
            instance: spec.instance().map(str::to_owned),
        });
    }
    Ok((target_sections, target_views))
}

/// The numbered steps: the source runbook's, with the targets' steps in place of its
/// `targets.preflight` and `targets.apply` steps when targets are given.
fn plan_steps(
    runbook: &Runbook,
    source: &Section<'_>,
    target_sections: &[Section<'_>],
    config: &Config,
) -> Vec<PlanStep> {
    let mut steps: Vec<PlanStep> = Vec::new();
    for step in &runbook.steps {
        let Some(condition) = source.include(step) else {
            continue;
        };
        match step.action().map(|a| a.action) {
            Some(Action::TargetsPreflight) if !target_sections.is_empty() => {
                steps.extend(target_steps(target_sections, true, config));
            }
            Some(Action::TargetsApply) if !target_sections.is_empty() => {
                steps.extend(target_steps(target_sections, false, config));
            }
            _ => steps.push(source.render(step, condition, config)),
        }
    }
    for (i, s) in steps.iter_mut().enumerate() {
        s.n = i + 1;
    }
    steps
}

/// The targets' preflight steps (`preflight`), or all their other steps but the capture of
/// the token, which the rotation hands over instead.
fn target_steps(
    target_sections: &[Section<'_>],
    preflight: bool,
    config: &Config,
) -> Vec<PlanStep> {
    let mut steps = Vec::new();
    for t in target_sections {
        for s in &t.runbook.steps {
            let wanted = if preflight {
                is_preflight(s)
            } else {
                let token_capture =
                    matches!(&s.kind, StepKind::Capture { id, .. } if id == "token");
                !is_preflight(s) && !token_capture
            };
            if wanted && let Some(c) = t.include(s) {
                steps.push(t.render(s, c, config));
            }
        }
    }
    steps
}

fn is_preflight(step: &Step) -> bool {
    step.action().is_some_and(|a| a.phase == Phase::Preflight)
}

fn section<'a>(
    runbook: &'a Runbook,
    given: &[(String, String)],
    mode: Mode,
    config: &Config,
    target: Option<(usize, String)>,
) -> Result<Section<'a>, PlanError> {
    let mut values = given_values(runbook, given)?;
    check_one_of(runbook, &values)?;
    for p in &runbook.params {
        if let (Some(d), false) = (&p.default, values.contains_key(&p.name)) {
            values.insert(p.name.clone(), d.clone());
        }
    }
    if !values.contains_key("description")
        && runbook.param("description").is_some()
        && let Some(consumer) = values.get("consumer")
    {
        let description = trigger_description(consumer, config)?;
        values.insert("description".into(), description);
    }
    let instance = match values.get("instance") {
        Some(id) => Some(config.instance(id)?.clone()),
        None => None,
    };
    Ok(Section {
        runbook,
        values,
        instance,
        mode,
        target,
        gitlab_url: display_url(&config.gitlab_url),
    })
}

/// The values given, each checked against its parameter; a flag given as `false` is left out.
fn given_values(
    runbook: &Runbook,
    given: &[(String, String)],
) -> Result<BTreeMap<String, String>, PlanError> {
    let mut values = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for (name, value) in given {
        let Some(param) = runbook.param(name) else {
            return Err(PlanError::UnknownParam {
                runbook: runbook.id.clone(),
                name: name.clone(),
                known: runbook
                    .params
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        check_value(&param.ty, value).map_err(|reason| PlanError::BadValue {
            flag: param.flag.clone(),
            value: value.clone(),
            reason,
        })?;
        if !seen.insert(name.as_str()) {
            return Err(PlanError::DuplicateParam {
                name: name.clone(),
                flag: param.flag.clone(),
            });
        }
        if param.ty == ParamType::Flag && value == "false" {
            continue;
        }
        values.insert(name.clone(), value.clone());
    }
    Ok(values)
}

/// Refuses more than one given alternative of a `one-of` group.
fn check_one_of(runbook: &Runbook, values: &BTreeMap<String, String>) -> Result<(), PlanError> {
    let mut groups: BTreeMap<&str, Vec<&Param>> = BTreeMap::new();
    for p in &runbook.params {
        if let Some(g) = &p.one_of {
            groups.entry(g).or_default().push(p);
        }
    }
    for members in groups.values() {
        let set: Vec<&&Param> = members
            .iter()
            .filter(|p| values.contains_key(&p.name))
            .collect();
        if set.len() > 1 {
            return Err(PlanError::Conflict {
                flags: set
                    .iter()
                    .map(|p| p.flag.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(())
}

impl Section<'_> {
    /// Whether a parameter's value is still open: `show`, or an alternative not chosen yet.
    fn open(&self, name: &str) -> bool {
        if self.values.contains_key(name) {
            return false;
        }
        match self.mode {
            Mode::Show => true,
            Mode::Resolve => {
                self.runbook
                    .param(name)
                    .and_then(|p| p.one_of.as_ref())
                    .is_some_and(|g| {
                        !self.runbook.params.iter().any(|q| {
                            q.one_of.as_ref() == Some(g) && self.values.contains_key(&q.name)
                        })
                    })
            }
        }
    }

    fn flag(&self, name: &str) -> String {
        self.runbook
            .param(name)
            .map_or_else(|| name.to_owned(), |p| p.flag.clone())
    }

    /// `None`: the step is left out. `Some(condition)`: it is in, with a condition when open.
    fn include(&self, step: &Step) -> Option<Option<String>> {
        let mut condition = None;
        if let Some(p) = &step.when {
            if self.open(p) {
                condition = Some(format!("only with {}", self.flag(p)));
            } else if !self.values.contains_key(p) {
                return None;
            }
        }
        if let Some(p) = &step.unless {
            if self.open(p) {
                condition = Some(format!("only without {}", self.flag(p)));
            } else if self.values.contains_key(p) {
                return None;
            }
        }
        Some(condition)
    }

    fn lookup(&self, v: &VarRef, instance: Option<&Instance>) -> Option<String> {
        let gitlab_url = &self.gitlab_url;
        match v.namespace.as_str() {
            "param" => {
                let value = self.values.get(&v.name)?;
                match v.field.as_deref() {
                    None => Some(value.clone()),
                    Some(_) => {
                        let ty = self.runbook.param(&v.name).map(|p| p.ty.clone());
                        Some(match ty {
                            Some(ParamType::Group) => format!("{gitlab_url}/groups/{value}"),
                            _ if value.chars().all(|c| c.is_ascii_digit()) => {
                                format!("{gitlab_url}/projects/{value}")
                            }
                            _ => format!("{gitlab_url}/{value}"),
                        })
                    }
                }
            }
            "instance" => {
                let i = instance?;
                Some(match v.name.as_str() {
                    "id" => i.id.clone(),
                    "label" => i.label.clone(),
                    "url" => display_url(&i.url),
                    _ => i.admin_url(),
                })
            }
            "gitlab" => Some(gitlab_url.clone()),
            // Secrets never reach text; in arguments they are named, never shown.
            "secret" if v.name == "token" => Some("(the new token)".into()),
            "secret" => Some(format!("(secret `{}`)", v.name)),
            _ => None,
        }
    }

    fn text(&self, t: &Template) -> String {
        t.render(|v| self.lookup(v, self.instance.as_ref()))
    }

    fn render(&self, step: &Step, condition: Option<String>, config: &Config) -> PlanStep {
        let title = self.text(&step.title);
        let text = step.text.as_ref().map(|t| self.text(t));
        let per_instance = self.per_instance(step, config);
        let args = self.arg_values(step);
        let (walk, action, call, phase) = match &step.kind {
            StepKind::Manual => (WalkKind::Manual, None, None, None),
            StepKind::Gate { id, question, stop } => (
                WalkKind::Gate {
                    id: id.clone(),
                    question: self.text(question),
                    stop: stop.clone(),
                },
                None,
                None,
                None,
            ),
            StepKind::Capture { id, prompt } => (
                WalkKind::Capture {
                    id: id.clone(),
                    prompt: prompt.clone(),
                },
                None,
                None,
                None,
            ),
            StepKind::Action { spec, args } => (
                WalkKind::Action { name: spec.name },
                Some(*spec),
                self.call(spec, args),
                Some(spec.phase),
            ),
        };
        let text = match (text, step.action()) {
            (None, Some(spec)) if spec.is_targets() => {
                Some("for each target given with --apply-to (none given)".into())
            }
            (text, _) => text,
        };
        PlanStep {
            n: 0,
            kind: step.kind.step_type(),
            title,
            text,
            per_instance,
            action,
            call,
            phase,
            cleanup: step.cleanup,
            condition,
            target: self.target.as_ref().map(|(_, spec)| spec.clone()),
            handbook: step.handbook.clone(),
            walk,
            args,
            target_index: self.target.as_ref().map(|(i, _)| *i),
            instance: self.instance.clone(),
        }
    }

    /// The step's text for every known instance, when it names the instance and none is chosen.
    fn per_instance(&self, step: &Step, config: &Config) -> Vec<InstanceText> {
        match (&step.text, &self.instance) {
            (Some(t), None) if t.vars().any(|v| v.namespace == "instance") => config
                .ordered_instances()
                .into_iter()
                .map(|i| InstanceText {
                    instance: i.id.clone(),
                    label: i.label.clone(),
                    text: t.render(|v| self.lookup(v, Some(i))),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// An action step's arguments with the values known so far.
    fn arg_values(&self, step: &Step) -> Vec<(String, ArgValue)> {
        match &step.kind {
            StepKind::Action { args, .. } => args
                .iter()
                .map(|(name, t)| (name.clone(), self.arg_value(t)))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn arg_value(&self, t: &Template) -> ArgValue {
        let vars: Vec<&VarRef> = t.vars().collect();
        if let [v] = vars.as_slice()
            && v.namespace == "secret"
        {
            return ArgValue::Secret(v.name.clone());
        }
        let mut complete = true;
        let out = t.render(|v| {
            let r = self.lookup(v, self.instance.as_ref());
            complete &= r.is_some();
            r
        });
        if complete {
            ArgValue::Text(out)
        } else {
            ArgValue::Missing
        }
    }

    fn call(&self, spec: &ActionSpec, args: &[(String, Template)]) -> Option<Call> {
        let base = match spec.service {
            Service::Local => return None,
            Service::Api(Vendor::GitLab) => format!("{}/api/v4", self.gitlab_url),
            Service::Api(Vendor::Zendesk) => self
                .instance
                .as_ref()
                .map_or_else(|| "<instance URL>".to_owned(), |i| display_url(&i.url)),
        };
        let path = self.call_path(spec, args);
        let mut query = Vec::new();
        let mut sends = Vec::new();
        let mut auth = None;
        let mut user = None;
        for a in spec.args {
            let Some(t) = template_arg(args, a.name) else {
                continue;
            };
            let wire = a.wire.unwrap_or(a.name);
            match a.kind {
                ArgKind::Path | ArgKind::Check => {}
                ArgKind::Query => {
                    if let Some(value) = self.known(t) {
                        query.push(format!("{wire}={value}"));
                    } else if self.open_in(t) {
                        query.push(format!("{wire}={}", self.text(t)));
                    }
                }
                ArgKind::Body => {
                    if self.known(t).is_some() || self.open_in(t) || self.has_unset_note(t) {
                        sends.push(format!("{wire}={}", self.text(t)));
                    }
                }
                ArgKind::SecretBody => sends.push(format!("{wire}={}", self.text(t))),
                ArgKind::Credential => auth = Some(self.text(t)),
                ArgKind::CredentialUser => user = Some(self.text(t)),
            }
        }
        let auth = auth.map(|secret| match user {
            Some(user) => format!("credential: {user}/token and {secret}"),
            None => format!("credential: {secret}"),
        });
        let mut url = format!("{base}{path}");
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        Some(Call {
            method: spec.method(),
            url,
            sends,
            auth,
        })
    }

    /// The action's path with its path arguments filled in, or `<placeholders>` where open.
    /// The path a dry run shows, from the same route the request is built from: each
    /// segment known now, percent-encoded as the request sends it, else a `<placeholder>`.
    fn call_path(&self, spec: &ActionSpec, args: &[(String, Template)]) -> String {
        let Some(route) = spec.route else {
            return String::new();
        };
        route.render(
            |name| match template_arg(args, name).and_then(|t| self.known(t)) {
                Some(value) => encode_segment(&value),
                None => {
                    let shown = template_arg(args, name).map_or_else(
                        || name.replace('_', "-"),
                        |t| {
                            t.vars()
                                .next()
                                .map_or_else(|| name.replace('_', "-"), placeholder)
                        },
                    );
                    format!("<{shown}>")
                }
            },
        )
    }

    /// A value with every variable known; `None` when some part is still open.
    fn known(&self, t: &Template) -> Option<String> {
        let mut complete = true;
        let out = t.render(|v| {
            let r = self.lookup(v, self.instance.as_ref());
            complete &= r.is_some();
            r
        });
        complete.then_some(out)
    }

    /// Whether a template depends on a parameter that is still open (shown with a placeholder).
    fn open_in(&self, t: &Template) -> bool {
        t.vars()
            .any(|v| v.namespace == "param" && self.open(&v.name))
    }

    /// Whether a template depends on a parameter that has a documented fallback (e.g. `expires_at`).
    fn has_unset_note(&self, t: &Template) -> bool {
        t.vars().any(|v| {
            v.namespace == "param"
                && self
                    .runbook
                    .param(&v.name)
                    .is_some_and(|p| p.unset.is_some() || p.required)
        })
    }

    fn note(&self, p: &Param, given: &[(String, String)]) -> String {
        let was_given = given.iter().any(|(n, _)| *n == p.name);
        match (self.values.get(&p.name), was_given) {
            (Some(_), true) => format!("from {}", p.flag),
            (Some(_), false) if p.default.as_ref() == self.values.get(&p.name) => "default".into(),
            (Some(_), false) => "derived".into(),
            (None, _) => {
                let mut note = match &p.unset {
                    Some(u) => format!("not given: {u}"),
                    None if p.required => "required: asked for when run".into(),
                    None => "not given".into(),
                };
                if let Some(g) = &p.one_of {
                    let flags: Vec<&str> = self
                        .runbook
                        .params
                        .iter()
                        .filter(|q| q.one_of.as_ref() == Some(g))
                        .map(|q| q.flag.as_str())
                        .collect();
                    note = format!("one of {} is required", flags.join(", "));
                }
                note
            }
        }
    }

    fn missing(&self) -> Vec<Missing> {
        let mut out = Vec::new();
        let mut seen_groups = Vec::new();
        for p in &self.runbook.params {
            if self.values.contains_key(&p.name) {
                continue;
            }
            if p.required {
                out.push(Missing {
                    param: p.clone(),
                    flags: vec![p.flag.clone()],
                });
            } else if let Some(g) = &p.one_of {
                if seen_groups.contains(&g) || !self.open(&p.name) {
                    continue;
                }
                seen_groups.push(g);
                out.push(Missing {
                    param: p.clone(),
                    flags: self
                        .runbook
                        .params
                        .iter()
                        .filter(|q| q.one_of.as_ref() == Some(g))
                        .map(|q| q.flag.clone())
                        .collect(),
                });
            }
        }
        out
    }
}

/// The template an action step gives for the argument `name`.
fn template_arg<'t>(args: &'t [(String, Template)], name: &str) -> Option<&'t Template> {
    args.iter().find(|(n, _)| n == name).map(|(_, t)| t)
}

pub use crate::clients::encode_segment;

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(
        id: &str,
        given: &[(&str, &str)],
        targets: &[&str],
        mode: Mode,
    ) -> Result<Plan, PlanError> {
        let catalogue = Catalogue::embedded().unwrap();
        let config = Config::built_in();
        let given: Vec<(String, String)> = given
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        let targets: Vec<TargetSpec> = targets.iter().map(|t| t.parse().unwrap()).collect();
        resolve(
            catalogue.get(id).unwrap(),
            &given,
            &targets,
            mode,
            &config,
            &catalogue,
        )
    }

    fn calls(p: &Plan) -> Vec<String> {
        p.steps
            .iter()
            .filter_map(|s| s.call.as_ref().map(Call::line))
            .collect()
    }

    #[test]
    fn rotate_with_a_target_puts_target_checks_before_the_rotate_call() {
        let p = plan(
            "gitlab-pat",
            &[("token_id", "42")],
            &["gitlab-ci-var:grp/proj:API_TOKEN"],
            Mode::Resolve,
        )
        .unwrap();
        assert_eq!(
            calls(&p),
            [
                "GET https://gitlab.com/api/v4/user",
                "GET https://gitlab.com/api/v4/personal_access_tokens/42",
                "GET https://gitlab.com/api/v4/projects/grp%2Fproj/variables/API_TOKEN?filter[environment_scope]=*",
                "POST https://gitlab.com/api/v4/personal_access_tokens/42/rotate",
                "GET https://gitlab.com/api/v4/personal_access_tokens/self",
                "PUT https://gitlab.com/api/v4/projects/grp%2Fproj/variables/API_TOKEN?filter[environment_scope]=*",
                "GET https://gitlab.com/api/v4/projects/grp%2Fproj/variables/API_TOKEN?filter[environment_scope]=*",
            ]
        );
        let put = p
            .steps
            .iter()
            .find(|s| s.call.as_ref().is_some_and(|c| c.method == "PUT"))
            .unwrap();
        assert_eq!(put.call.as_ref().unwrap().sends, ["value=(the new token)"]);
        assert_eq!(
            put.target.as_deref(),
            Some("gitlab-ci-var:grp/proj:API_TOKEN")
        );
        assert!(
            p.steps
                .iter()
                .all(|s| s.kind != crate::model::StepType::Capture),
            "the target's own capture is skipped"
        );
        assert!(p.missing.is_empty());
    }

    #[test]
    fn alternatives_are_shown_with_their_condition_until_one_is_chosen() {
        let open = plan("gitlab-pat", &[], &[], Mode::Resolve).unwrap();
        let conditions: Vec<_> = open
            .steps
            .iter()
            .filter_map(|s| s.condition.clone())
            .collect();
        assert_eq!(
            conditions,
            ["only with --token-name", "only without --token-name"]
        );
        assert_eq!(open.missing.len(), 1);
        assert_eq!(open.missing[0].flags, ["--token-id", "--token-name"]);
        let by_name = plan(
            "gitlab-pat",
            &[("token_name", "ci bot")],
            &[],
            Mode::Resolve,
        )
        .unwrap();
        assert!(
            calls(&by_name).contains(
                &"GET https://gitlab.com/api/v4/personal_access_tokens?search=ci bot&state=active"
                    .to_owned()
            )
        );
        assert!(calls(&by_name).contains(
            &"POST https://gitlab.com/api/v4/personal_access_tokens/<token-id>/rotate".to_owned()
        ));
        assert!(by_name.steps.iter().all(|s| s.condition.is_none()));
    }

    #[test]
    fn bad_values_and_conflicts_are_refused() {
        let err = plan("gitlab-pat", &[("token_id", "abc")], &[], Mode::Resolve)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--token-id `abc`"), "{err}");
        let err = plan(
            "gitlab-pat",
            &[("token_id", "1"), ("token_name", "x")],
            &[],
            Mode::Resolve,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "give only one of --token-id, --token-name");
        let err = plan(
            "zendesk-api",
            &[("instance", "nowhere")],
            &[],
            Mode::Resolve,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("known instances: global, global-sandbox, us-gov, us-gov-sandbox"),
            "{err}"
        );
        let err = plan(
            "zendesk-app",
            &[("instance", "global")],
            &["gitlab-webhook:p:1"],
            Mode::Resolve,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--apply-to only goes with `tokrot rotate`"),
            "{err}"
        );
        let err = plan(
            "gitlab-pat",
            &[("token_id", "1")],
            &["gitlab-webhook:p:1", "gitlab-webhook:p:1"],
            Mode::Resolve,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("given twice"), "{err}");
    }

    #[test]
    fn trigger_description_follows_the_naming_rule() {
        let p = plan(
            "gitlab-trigger",
            &[
                ("project", "grp/proj"),
                ("trigger_id", "5"),
                ("consumer", "zendesk-app:global:GitLab Sync"),
            ],
            &[],
            Mode::Resolve,
        )
        .unwrap();
        let create = p
            .steps
            .iter()
            .find(|s| {
                s.action
                    .is_some_and(|a| a.action == Action::GitlabCreateTrigger)
            })
            .unwrap();
        assert_eq!(
            create.title,
            "Create the new trigger \"Zendesk Global - GitLab Sync\""
        );
        assert_eq!(
            create.call.as_ref().unwrap().sends,
            ["description=Zendesk Global - GitLab Sync"]
        );
        // the old trigger is deleted last
        assert_eq!(
            p.steps.last().unwrap().action.map(|a| a.action),
            Some(Action::GitlabDeleteTrigger)
        );
    }

    #[test]
    fn instance_links_are_listed_for_every_instance_until_one_is_chosen() {
        let shown = plan("zendesk-api", &[], &[], Mode::Show).unwrap();
        let first = &shown.steps[0];
        assert_eq!(first.text.as_deref(), Some("<instance admin URL>"));
        let links: Vec<&str> = first.per_instance.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            links,
            [
                "https://gitlab.zendesk.com/admin",
                "https://gitlab1707170878.zendesk.com/admin",
                "https://gitlab-federal-support.zendesk.com/admin",
                "https://gitlabfederalsupport1585318082.zendesk.com/admin",
            ]
        );
        let chosen = plan(
            "zendesk-api",
            &[("instance", "us-gov-sandbox")],
            &[],
            Mode::Resolve,
        )
        .unwrap();
        assert_eq!(
            chosen.steps[0].text.as_deref(),
            Some("https://gitlabfederalsupport1585318082.zendesk.com/admin")
        );
        assert!(chosen.steps[0].per_instance.is_empty());
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(encode_segment("grp/sub/proj"), "grp%2Fsub%2Fproj");
        assert_eq!(encode_segment("a b&c"), "a%20b%26c");
        assert_eq!(encode_segment("API_TOKEN-1.x~"), "API_TOKEN-1.x~");
    }
}
