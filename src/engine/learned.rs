//! What earlier steps learned, put into the plan's lines as a run shows them.

use std::collections::BTreeMap;

use super::plan::Plan;
use crate::runbook::template::{VarRef, placeholder};

/// A line of the plan as a run shows it. The plan was resolved before the walk, so a value
/// that only a step learns (the token found by name, the old token picked from a list, the
/// expiry the rotate call sends) is a `<placeholder>` in it: here it holds the value learned
/// so far, or else the runbook's words for where it will come from (`unset`). A run never
/// shows `<…>`. The plan itself is left as it is: the journal keeps its titles, and `resume`
/// compares them.
pub fn with_learned(plan: &Plan, learned: &BTreeMap<String, String>, line: &str) -> String {
    let mut out = line.to_owned();
    for p in &plan.runbook.params {
        let var = VarRef {
            namespace: "param".into(),
            name: p.name.clone(),
            field: None,
            offset: 0,
        };
        let marker = format!("<{}>", placeholder(&var));
        if !out.contains(&marker) {
            continue;
        }
        let value = match (learned.get(&p.name), &p.unset) {
            (Some(v), _) => v.clone(),
            (None, Some(unset)) => format!("({unset})"),
            (None, None) => format!("(the {} a step before finds)", p.name.replace('_', " ")),
        };
        out = out.replace(&marker, &value);
    }
    out
}
