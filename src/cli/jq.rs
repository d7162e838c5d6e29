//! `--jq EXPR`: a JSON document filtered by a jq expression before it is printed, so that a
//! scheduled job can pick one field without another tool (as gh's `--jq` does). The expression
//! is compiled when the command line is read, before anything is sent: a mistake in it is a
//! usage error (exit 2) that never follows a rotation. jq's semantics come from the jaq
//! crates; each result is printed on a line of its own, a string as its text (as `jq -r`
//! prints it), anything else as one line of JSON.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;

use super::CliError;

/// jq's filters that read outside the document: the environment (`env`, where tokrot's
/// credentials are) and further input. (`debug` and `stderr` print the document's own values,
/// which hold no secret; the standard definitions need them.)
const OUTSIDE: &[&str] = &["env", "input", "inputs", "input_filename"];

/// The data a filter runs on: jq values, nothing else.
type Data = data::JustLut<Val>;

/// A compiled `--jq` expression.
pub struct Jq {
    filter: jaq_core::compile::Filter<jaq_core::Native<Data>>,
}

impl std::fmt::Debug for Jq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jq")
    }
}

impl Jq {
    /// Compiles `expr`, or says what is wrong with it and where.
    pub fn compile(expr: &str) -> Result<Self, CliError> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        // Filters that read the world (the environment holds tokrot's own credentials) or
        // write around the output are not there: only the document can be filtered.
        let funs = jaq_core::funs::<Data>()
            .chain(jaq_std::funs::<Data>())
            .chain(jaq_json::funs::<Data>())
            .filter(|(name, _, _)| !OUTSIDE.contains(name));
        let arena = Arena::default();
        let program = File {
            code: expr,
            path: (),
        };
        let modules = Loader::new(defs)
            .load(&arena, program)
            .map_err(|errs| bad(expr, load_error(errs)))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| {
                let undefined: Vec<String> = errs
                    .into_iter()
                    .flat_map(|(_, e)| e)
                    .map(|(name, what)| format!("undefined {} `{name}`", what.as_str()))
                    .collect();
                bad(expr, undefined.join(", "))
            })?;
        Ok(Self { filter })
    }

    /// What the expression makes of `doc`: each result on a line of its own.
    pub fn apply(&self, doc: &serde_json::Value) -> Result<String, CliError> {
        let input = jaq_json::read::parse_single(doc.to_string().as_bytes())
            .map_err(|e| CliError::usage(format!("--jq: the document cannot be read: {e}")))?;
        let ctx = Ctx::<Data>::new(&self.filter.lut, Vars::new([]));
        let mut out = String::new();
        for result in self.filter.id.run((ctx, input)).map(unwrap_valr) {
            match result {
                Ok(Val::TStr(s)) => out.push_str(&String::from_utf8_lossy(&s)),
                Ok(v) => out.push_str(&v.to_string()),
                Err(e) => return Err(CliError::usage(format!("--jq: {e}"))),
            }
            out.push('\n');
        }
        Ok(out)
    }
}

/// A load error (lexing, parsing) in words: what was expected, and the text where it was not.
fn load_error(errs: jaq_core::load::Errors<&str, ()>) -> String {
    use jaq_core::load::Error;
    let near = |rest: &str| {
        let rest: String = rest.chars().take(20).collect();
        match rest.is_empty() {
            true => "at the end".to_owned(),
            false => format!("at `{rest}`"),
        }
    };
    let mut said = Vec::new();
    for (_, e) in errs {
        match e {
            Error::Io(io) => {
                said.extend(io.into_iter().map(|(path, why)| format!("{path}: {why}")))
            }
            Error::Lex(lex) => said.extend(
                lex.into_iter()
                    .map(|(expect, rest)| format!("expected {} {}", expect.as_str(), near(rest))),
            ),
            Error::Parse(parse) => said.extend(
                parse
                    .into_iter()
                    .map(|(expect, rest)| format!("expected {} {}", expect.as_str(), near(rest))),
            ),
        }
    }
    said.join("; ")
}

fn bad(expr: &str, why: String) -> CliError {
    CliError::usage(format!("--jq `{expr}` is not a jq expression: {why}"))
        .hint("see https://jqlang.org/manual/ for the language")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_picked_strings_raw_and_values_as_json() {
        let doc = json!({"tokens": [{"name": "a", "days": 3}, {"name": "b", "days": null}]});
        let jq = Jq::compile(".tokens[] | .name").unwrap();
        assert_eq!(jq.apply(&doc).unwrap(), "a\nb\n");
        let jq = Jq::compile("[.tokens[] | select(.days != null)] | length").unwrap();
        assert_eq!(jq.apply(&doc).unwrap(), "1\n");
        let jq = Jq::compile(".tokens[0]").unwrap();
        assert_eq!(jq.apply(&doc).unwrap(), "{\"days\":3,\"name\":\"a\"}\n");
    }

    #[test]
    fn a_bad_expression_is_a_usage_error_saying_where() {
        let e = Jq::compile(".tokens[").unwrap_err();
        assert_eq!(e.code, crate::exit::USAGE);
        assert!(
            e.message.contains("is not a jq expression"),
            "{}",
            e.message
        );
        let e = Jq::compile("nosuchfunction").unwrap_err();
        assert!(e.message.contains("nosuchfunction"), "{}", e.message);
        // The environment, where tokrot's own credentials are, is out of reach.
        for outside in ["env.GITLAB_TOKEN", "$ENV.GITLAB_TOKEN", "input", "[inputs]"] {
            let e = Jq::compile(outside).unwrap_err();
            assert!(
                e.message.contains("is not a jq expression"),
                "{outside}: {}",
                e.message
            );
        }
        let jq = Jq::compile(".a | error(\"boom\")").unwrap();
        let e = jq.apply(&json!({"a": 1})).unwrap_err();
        assert!(e.message.contains("boom"), "{}", e.message);
    }
}
