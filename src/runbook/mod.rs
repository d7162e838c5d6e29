//! Runbooks: the handbook's procedures as data. TOML files parse into `wire` types, `validate`
//! turns them into the checked types below (or a located error), and `catalogue` holds the
//! embedded set plus any overrides from `--runbooks DIR`.

pub mod catalogue;
pub mod template;
pub mod validate;
pub mod wire;

use std::fmt;
use std::path::PathBuf;

use crate::actions::ActionSpec;
pub use catalogue::Catalogue;
use template::Template;

pub use crate::model::{RunbookKind, StepType, Vendor};

/// Where a runbook came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Built into the binary.
    Embedded,
    /// Loaded from a file (`--runbooks DIR`), overriding or adding to the embedded set.
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Embedded => f.write_str("embedded"),
            Origin::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The type of a parameter's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamType {
    /// Any single-line text.
    String,
    /// A non-negative whole number (ids).
    Integer,
    /// An id or name that goes into a URL path as one segment (a CI/CD variable key, a Zendesk
    /// webhook id): letters, digits, `-` and `_`.
    Segment,
    /// A GitLab token id, or `self` for the token making the call.
    TokenId,
    /// `YYYY-MM-DD`.
    Date,
    /// A Zendesk instance id.
    Instance,
    /// A GitLab project: numeric id or `group/sub/project`.
    Project,
    /// A GitLab group: numeric id or `group/sub`.
    Group,
    /// One of a fixed list.
    Choice(Vec<String>),
    /// Present or not (`--self`).
    Flag,
}

impl ParamType {
    /// The word used in runbooks.
    pub fn as_str(&self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Segment => "segment",
            ParamType::TokenId => "token-id",
            ParamType::Date => "date",
            ParamType::Instance => "instance",
            ParamType::Project => "project",
            ParamType::Group => "group",
            ParamType::Choice(_) => "choice",
            ParamType::Flag => "flag",
        }
    }
}

/// A value the runbook needs from the operator (flag, prompt or default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// snake_case name, used as `{param.NAME}`.
    pub name: String,
    /// The question asked when it is missing.
    pub prompt: String,
    /// Its type.
    pub ty: ParamType,
    /// Whether the run needs it.
    pub required: bool,
    /// Used when not given.
    pub default: Option<String>,
    /// Exactly one parameter of this group must be given.
    pub one_of: Option<String>,
    /// The command-line flag that gives it, e.g. `--token-id`.
    pub flag: String,
    /// What happens when it is left out.
    pub unset: Option<String>,
}

/// What a step is.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// Text the operator carries out and confirms.
    Manual,
    /// A value the operator pastes, read hidden, kept as a secret.
    Capture {
        /// The secret's name (`{secret.ID}`).
        id: String,
        /// The hidden prompt.
        prompt: String,
    },
    /// A yes/no question; "no" stops the run.
    Gate {
        /// The gate's id, for `--approve ID` (the runbook's `id`, else its title as a slug).
        id: String,
        /// The question.
        question: Template,
        /// Said when the answer is no.
        stop: String,
    },
    /// A call from the action registry.
    Action {
        /// The registry entry.
        spec: &'static ActionSpec,
        /// Its arguments, in the registry's order.
        args: Vec<(String, Template)>,
    },
}

impl StepKind {
    /// Its type, without what it holds.
    pub fn step_type(&self) -> StepType {
        match self {
            StepKind::Manual => StepType::Manual,
            StepKind::Capture { .. } => StepType::Capture,
            StepKind::Gate { .. } => StepType::Gate,
            StepKind::Action { .. } => StepType::Action,
        }
    }

    /// `manual`, `capture`, `gate` or `action`.
    pub fn as_str(&self) -> &'static str {
        self.step_type().as_str()
    }
}

/// One step of a runbook.
#[derive(Debug, Clone)]
pub struct Step {
    /// What it is.
    pub kind: StepKind,
    /// One line.
    pub title: Template,
    /// More text.
    pub text: Option<Template>,
    /// Still runs after a gate has stopped the run.
    pub cleanup: bool,
    /// Only when this parameter is given.
    pub when: Option<String>,
    /// Only when this parameter is not given.
    pub unless: Option<String>,
    /// The handbook's words for what it covers.
    pub handbook: Vec<String>,
}

impl Step {
    /// The action this step names, if it is an action step.
    pub fn action(&self) -> Option<&'static ActionSpec> {
        match &self.kind {
            StepKind::Action { spec, .. } => Some(spec),
            _ => None,
        }
    }
}

/// A validated runbook.
#[derive(Debug, Clone)]
pub struct Runbook {
    /// Unique id (`gitlab-pat`).
    pub id: String,
    /// What it does.
    pub kind: RunbookKind,
    /// One line.
    pub title: String,
    /// The vendor.
    pub service: Vendor,
    /// The handbook section it implements.
    pub section: String,
    /// A paragraph.
    pub summary: Option<String>,
    /// Warnings shown before the steps.
    pub notices: Vec<Template>,
    /// Parameters.
    pub params: Vec<Param>,
    /// Steps, in order.
    pub steps: Vec<Step>,
    /// Embedded or a file.
    pub origin: Origin,
}

impl Runbook {
    /// Looks up a parameter.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}
