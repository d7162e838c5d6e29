//! tokrot rotates GitLab and Zendesk API tokens and puts the new token into place, walking the
//! operator through the handbook's runbooks and never showing a secret.
//!
//! The module map, top to bottom; a module imports only from the layers below it (a test in
//! this file checks it):
//!
//! - `cli` — clap definitions, one file per command: flags become an engine request; the
//!   engine's events and reports are rendered as text (`reporter`, `checklist`) or JSON
//!   (`document`). No journal, keyring or client code.
//! - `engine` — the rotation protocol in one place (`protocol`: start, walk, conclude, and its
//!   `runner` that journals each step; `resume`: reopening a run), the walk of a plan (`walk`,
//!   its fan-out over targets in `walk::fanout`), plans (`plan`, `learned`), signals
//!   (`interrupt`), the actions and the keeper it works through (`seams`), what a run is given
//!   and the clients and keeper it makes (`session`), the tool's credentials (`credentials`,
//!   `auth`, `pick`), prompts (`prompt`) and past runs (`history`). It tells what happens as
//!   typed events (`report`) and shows nothing itself.
//! - `inventory` — what a team has: the inventory file, the kinds of token and of consumer
//!   (`source`, `target`), where each token stands (`status`) and discovery (`discover`,
//!   `naming`). It reads through the clients; it never rotates, prompts or journals.
//! - `runbook` — TOML wire types, validation into domain types, the embedded catalogue;
//!   `actions` — one enum of typed actions, each action's spec and code side by side by
//!   vendor; actions call clients and return results or questions: they never prompt and never
//!   journal.
//! - `clients` — the HTTP policy every call shares (`http`) and one function per endpoint
//!   (`gitlab`, `zendesk`).
//! - `model` — the protocol's vocabulary (vendors, runbook and step kinds, phases,
//!   verification, how a run, a step and a target stand, a token's identity), below `state`,
//!   which journals it as it is.
//! - `secret` (secret values, redaction, the keyring), `state` (journal, audit log, locks),
//!   `config` (instances and URLs), and the small shared `ui` (with its `pager` and its
//!   `table` writer), `tally` (a count of work side by side, which cli shows), `terminal` (what a prompt changes, put back on a signal), `text`,
//!   `logging`, `exit`.

pub mod actions;
pub mod cli;
pub mod clients;
pub mod config;
pub mod engine;
pub mod exit;
pub mod inventory;
pub mod logging;
pub mod model;
pub mod pager;
pub mod runbook;
pub mod secret;
pub mod state;
pub mod table;
pub mod tally;
pub mod terminal;
pub mod text;
pub mod ui;

pub use cli::{Cli, CliError, Outcome};

/// Runs a parsed command line. `main` turns the result into the exit code.
pub async fn run(cli: Cli) -> Result<Outcome, CliError> {
    cli::dispatch(cli).await
}

#[cfg(test)]
mod layering {
    //! No module imports one above it.

    use std::path::Path;

    /// Modules and the ones they must never name.
    const RULES: &[(&str, &[&str])] = &[
        // cli turns flags into requests and renders what comes back: it keeps no journal, no
        // keyring entry and makes no client (the engine's session does).
        (
            "cli",
            &["crate::clients", "crate::state", "crate::secret::stash"],
        ),
        // The engine reports what happens; cli shows it.
        (
            "engine",
            &["crate::cli", "crate::ui", "crate::table", "crate::pager"],
        ),
        // The inventory describes; the engine rotates what it describes.
        (
            "inventory",
            &[
                "crate::cli",
                "crate::engine",
                "crate::ui",
                "crate::table",
                "crate::pager",
            ],
        ),
        // Actions never prompt, journal or keep tokens: the engine does.
        (
            "actions",
            &[
                "crate::cli",
                "crate::engine",
                "crate::state",
                "crate::secret::stash",
            ],
        ),
        ("runbook", &["crate::cli", "crate::engine"]),
        (
            "clients",
            &[
                "crate::cli",
                "crate::engine",
                "crate::actions",
                "crate::runbook",
                "crate::state",
            ],
        ),
        (
            "secret",
            &[
                "crate::cli",
                "crate::engine",
                "crate::actions",
                "crate::runbook",
                "crate::clients",
                "crate::state",
            ],
        ),
        (
            "model.rs",
            &[
                "crate::cli",
                "crate::engine",
                "crate::inventory",
                "crate::actions",
                "crate::runbook",
                "crate::clients",
                "crate::state",
            ],
        ),
        (
            "state",
            &[
                "crate::cli",
                "crate::engine",
                "crate::actions",
                "crate::runbook",
                "crate::clients",
            ],
        ),
        (
            "config.rs",
            &[
                "crate::cli",
                "crate::engine",
                "crate::actions",
                "crate::runbook",
                "crate::clients",
                "crate::state",
            ],
        ),
    ];

    fn sources(path: &Path, out: &mut Vec<std::path::PathBuf>) {
        if path.is_dir() {
            for e in std::fs::read_dir(path).into_iter().flatten().flatten() {
                sources(&e.path(), out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_path_buf());
        }
    }

    /// Whether `text` names the module `name` (`crate::cli`, not `crate::clients`).
    fn names(text: &str, name: &str) -> bool {
        text.match_indices(name).any(|(at, _)| {
            !text[at + name.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    }

    #[test]
    fn no_module_imports_one_above_it() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut broken = Vec::new();
        for (module, forbidden) in RULES {
            let mut files = Vec::new();
            sources(&src.join(module), &mut files);
            assert!(!files.is_empty(), "no sources for {module}");
            for f in files {
                let text = std::fs::read_to_string(&f).unwrap_or_default();
                for name in *forbidden {
                    if names(&text, name) {
                        broken.push(format!("{} names {name}", f.display()));
                    }
                }
            }
        }
        assert!(broken.is_empty(), "{broken:#?}");
    }

    /// A module's path from its file: `src/cli/due.rs` is `cli::due`, `src/clients/http/mod.rs`
    /// is `clients::http`.
    fn module_of(src: &Path, file: &Path) -> Vec<String> {
        let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts
            .last()
            .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
        {
            parts.pop();
        }
        parts
    }

    /// The paths a file names (`crate::a::b`, `super::x`), without its unit tests.
    fn named_paths(module: &[String], is_mod: bool, text: &str) -> Vec<Vec<String>> {
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
        let mut out = Vec::new();
        for (prefix, base) in [
            ("crate::", Vec::new()),
            ("super::", {
                let mut parent = module.to_vec();
                if !is_mod || !parent.is_empty() {
                    parent.pop();
                }
                parent
            }),
        ] {
            for (at, _) in text.match_indices(prefix) {
                let rest = &text[at + prefix.len()..];
                let path: Vec<String> = rest
                    .split("::")
                    .map(|p| {
                        p.chars()
                            .take_while(|c| {
                                c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit()
                            })
                            .collect::<String>()
                    })
                    .take_while(|p| !p.is_empty())
                    .collect();
                let mut full = base.clone();
                full.extend(path);
                out.push(full);
            }
        }
        out
    }

    /// The lines of a source file before its test module.
    fn before_tests(text: &str) -> Vec<&str> {
        let lines: Vec<&str> = text.lines().collect();
        let end = (0..lines.len())
            .find(|&i| {
                lines[i].trim() == "#[cfg(test)]"
                    && lines
                        .get(i + 1)
                        .is_some_and(|l| l.trim_start().starts_with("mod "))
            })
            .unwrap_or(lines.len());
        lines[..end].to_vec()
    }

    /// How many lines a function that starts at `lines[i]` has, up to the brace that closes it
    /// at its own indent; `None` for a line that opens no function body.
    fn function_length(lines: &[&str], i: usize) -> Option<usize> {
        let line = lines[i];
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let mut rest = body;
        for prefix in [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "const ",
            "async ",
            "unsafe ",
        ] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        if !rest.starts_with("fn ") || body.ends_with('}') {
            return None;
        }
        // A signature that ends in `;` before any `{` is a declaration (a trait's), no body.
        let opens = lines[i..]
            .iter()
            .map(|l| l.trim_end())
            .find(|l| l.ends_with('{') || l.ends_with(';'))?;
        if opens.ends_with(';') {
            return None;
        }
        let close = format!("{indent}}}");
        (i + 1..lines.len())
            .find(|&j| lines[j] == close)
            .map(|j| j - i + 1)
    }

    /// Each file reads as one concern and each function as one step: no file has more than 800
    /// lines of code (comments, blank lines and its tests aside), no function more than 80.
    #[test]
    fn files_and_functions_stay_small() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let mut too_big = Vec::new();
        let mut functions = 0;
        // A `tests.rs` is a test module of its own (`#[cfg(test)] mod tests;`).
        for f in files.iter().filter(|f| !f.ends_with("tests.rs")) {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let lines = before_tests(&text);
            let code = lines
                .iter()
                .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
                .count();
            if code > 800 {
                too_big.push(format!("{}: {code} lines of code", f.display()));
            }
            for i in 0..lines.len() {
                let Some(n) = function_length(&lines, i) else {
                    continue;
                };
                functions += 1;
                if n > 80 {
                    too_big.push(format!(
                        "{}:{}: a function of {n} lines",
                        f.display(),
                        i + 1
                    ));
                }
            }
        }
        assert!(too_big.is_empty(), "{too_big:#?}");
        assert!(functions > 500, "only {functions} functions seen");
    }

    /// No two modules of one parent use each other, directly or round a longer loop: each
    /// layer reads as a stack, and a change to one module cannot come back to it.
    #[test]
    fn no_module_cycles() {
        use std::collections::{BTreeMap, BTreeSet};
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
        let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
        for f in &files {
            let m = module_of(&src, f);
            let is_mod = f.file_name().is_some_and(|n| n == "mod.rs");
            let text = std::fs::read_to_string(f).unwrap_or_default();
            for path in named_paths(&m, is_mod, &text) {
                let Some(target) = (1..=path.len())
                    .rev()
                    .map(|k| path[..k].to_vec())
                    .find(|p| modules.contains(p))
                else {
                    continue;
                };
                // The two siblings under their nearest common parent.
                let common = m.iter().zip(&target).take_while(|(a, b)| a == b).count();
                if common < m.len() && common < target.len() {
                    edges
                        .entry(m[..=common].to_vec())
                        .or_default()
                        .insert(target[..=common].to_vec());
                }
            }
        }
        // Depth-first: a module met again on the current path closes a cycle.
        fn visit(
            at: &Vec<String>,
            edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
            path: &mut Vec<Vec<String>>,
            done: &mut BTreeSet<Vec<String>>,
            cycles: &mut Vec<String>,
        ) {
            if let Some(i) = path.iter().position(|p| p == at) {
                let names: Vec<String> = path[i..].iter().map(|p| p.join("::")).collect();
                cycles.push(format!("{} -> {}", names.join(" -> "), at.join("::")));
                return;
            }
            if !done.insert(at.clone()) {
                return;
            }
            path.push(at.clone());
            for next in edges.get(at).into_iter().flatten() {
                visit(next, edges, path, done, cycles);
            }
            path.pop();
        }
        let mut cycles = Vec::new();
        let mut done = BTreeSet::new();
        for m in edges.keys() {
            visit(m, &edges, &mut Vec::new(), &mut done, &mut cycles);
        }
        assert!(cycles.is_empty(), "{cycles:#?}");
        assert!(edges.len() > 20, "only {} modules seen", edges.len());
    }
}
