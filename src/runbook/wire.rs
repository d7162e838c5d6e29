//! The TOML shape of a runbook file, exactly as written. Everything is checked and turned into
//! the domain types of `runbook` by `validate`; spans are kept so that errors point at the line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A whole runbook file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunbookFileWire {
    /// `[runbook]`: what it is.
    pub runbook: Spanned<MetaWire>,
    /// `[[params]]`: the values it needs.
    #[serde(default)]
    pub params: Vec<Spanned<ParamWire>>,
    /// `[[steps]]`: what to do, in order.
    #[serde(default)]
    pub steps: Vec<Spanned<StepWire>>,
}

/// `[runbook]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MetaWire {
    /// Unique id; the file is named after it.
    pub id: Spanned<String>,
    /// `rotate`, `apply` or `checklist`.
    pub kind: Spanned<String>,
    /// One line for `tokrot list`.
    pub title: Spanned<String>,
    /// `gitlab` or `zendesk`.
    pub service: Spanned<String>,
    /// The handbook section it implements.
    pub section: Spanned<String>,
    /// A paragraph for `tokrot show`.
    pub summary: Option<Spanned<String>>,
    /// Warnings shown before the steps (and at the start of a run).
    #[serde(default)]
    pub notices: Vec<Spanned<String>>,
}

/// `[[params]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ParamWire {
    /// snake_case name; the flag is `--name-with-dashes` unless `flag` says otherwise.
    pub name: Spanned<String>,
    /// The question asked when the value is missing.
    pub prompt: Spanned<String>,
    /// `string`, `integer`, `date`, `instance`, `project`, `group`, `choice`, `flag`.
    #[serde(rename = "type")]
    pub ty: Spanned<String>,
    /// Whether the run needs it.
    #[serde(default)]
    pub required: bool,
    /// The allowed values of a `choice`.
    pub choices: Option<Spanned<Vec<String>>>,
    /// The value used when it is not given.
    pub default: Option<Spanned<String>>,
    /// Exactly one parameter of the same group must be given.
    pub one_of: Option<Spanned<String>>,
    /// The command-line flag, when it is not derived from the name.
    pub flag: Option<Spanned<String>>,
    /// What happens when it is left out, shown by the checklist.
    pub unset: Option<Spanned<String>>,
}

/// `[[steps]]`: one flat table for every kind, so that a misplaced field gets a precise error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StepWire {
    /// `manual`, `capture`, `gate` or `action`.
    pub kind: Spanned<String>,
    /// One line saying what the step does.
    pub title: Spanned<String>,
    /// More text for the operator (manual steps: the instruction).
    pub text: Option<Spanned<String>>,
    /// `capture`: the name of the captured secret (`token` for the token being applied);
    /// `gate`: the id that `--approve ID` names.
    pub id: Option<Spanned<String>>,
    /// `capture`: the hidden prompt.
    pub prompt: Option<Spanned<String>>,
    /// `gate`: the yes/no question.
    pub question: Option<Spanned<String>>,
    /// `gate`: what the operator is told when the answer is no.
    pub stop: Option<Spanned<String>>,
    /// `action`: the registry entry.
    pub action: Option<Spanned<String>>,
    /// `action`: its arguments, as templates.
    pub args: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// Still runs when a gate has stopped the run.
    #[serde(default)]
    pub cleanup: bool,
    /// Only when this parameter is given.
    pub when: Option<Spanned<String>>,
    /// Only when this parameter is not given.
    pub unless: Option<Spanned<String>>,
    /// The handbook's own words for what this step covers.
    #[serde(default)]
    pub handbook: Vec<Spanned<String>>,
}
