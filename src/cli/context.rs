//! What every command needs: the configuration, the runbook catalogue and the output.

use std::io::IsTerminal;

use super::{CliError, GlobalArgs, OutputFormat};
use crate::config::Config;
use crate::runbook::Catalogue;
use crate::secret::Redactor;
use crate::ui::Ui;

/// The version of every JSON document's shape, as `schema/tokrot.schema.json` describes it:
/// from this version on, a change that could break a script that reads a document raises it.
pub const SCHEMA_VERSION: u32 = 1;

/// Whether output to a stream that `is_terminal` (or not) is coloured: never under
/// `--no-color`, `--output json` or a `NO_COLOR` with any value (no-color.org); always under a
/// `CLICOLOR_FORCE` other than `0`; else on a terminal that is not `TERM=dumb`.
pub fn colour(global: &GlobalArgs, is_terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if global.no_color || global.output == OutputFormat::Json || set("NO_COLOR").is_some() {
        return false;
    }
    if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    is_terminal && std::env::var_os("TERM").is_some_and(|t| t != "dumb")
}

/// The pager long pages go through: on a terminal, for text output, unless `--no-pager`.
fn pager(global: &GlobalArgs) -> Option<crate::pager::Pager> {
    let term = console::Term::stdout();
    if global.no_pager || global.output == OutputFormat::Json || !term.is_term() {
        return None;
    }
    let (rows, _) = term.size_checked()?;
    let command = crate::pager::command_from_env()?;
    Some(crate::pager::Pager::new(command, usize::from(rows)))
}

/// The width text pages are fitted to: the terminal's, when stdout is one; else `COLUMNS` when
/// set (as `--help` does); none for JSON or a pipe without `COLUMNS`.
fn page_width(global: &GlobalArgs) -> Option<usize> {
    if global.output == OutputFormat::Json {
        return None;
    }
    let term = console::Term::stdout();
    if term.is_term() {
        return term.size_checked().map(|(_, cols)| usize::from(cols));
    }
    std::env::var("COLUMNS").ok()?.trim().parse().ok()
}

/// The context of one command.
pub struct Ctx {
    /// Global options.
    pub global: GlobalArgs,
    /// Instances and URLs.
    pub config: Config,
    /// The runbooks.
    pub catalogue: Catalogue,
    /// Output.
    pub ui: Ui,
    /// Warnings already given in this command.
    warned: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// `--jq`, compiled before anything runs.
    jq: Option<super::jq::Jq>,
}

impl Ctx {
    /// Loads configuration and runbooks. A broken runbook or config file stops every command.
    pub fn new(global: GlobalArgs) -> Result<Self, CliError> {
        let jq = global
            .jq
            .as_deref()
            .map(super::jq::Jq::compile)
            .transpose()?;
        // Each stream by itself: `tokrot show X > file` on a terminal writes no colour codes.
        let color_out = colour(&global, std::io::stdout().is_terminal());
        let color_err = colour(&global, std::io::stderr().is_terminal());
        console::set_colors_enabled(color_out || color_err);
        console::set_colors_enabled_stderr(color_err);
        let live = global.output == OutputFormat::Text
            && std::io::stderr().is_terminal()
            && std::env::var_os("TERM").is_some_and(|t| t != "dumb");
        let ui = Ui::stdio(Redactor::default(), (color_out, color_err), global.quiet)
            .with_progress(live, global.verbose > 0)
            .with_width(page_width(&global))
            .with_err_width(crate::terminal::stderr_width())
            .with_pager(pager(&global));
        let mut config = Config::load(global.config.as_deref())?;
        if let Some(url) = &global.gitlab_url {
            config.set_gitlab_url(url)?;
        }
        crate::engine::session::pace_hosts(&config);
        let dir = global
            .runbooks
            .clone()
            .or_else(|| config.runbooks_dir.clone());
        let catalogue = Catalogue::load(dir.as_deref())?;
        Ok(Self {
            global,
            config,
            catalogue,
            ui,
            warned: std::sync::Mutex::default(),
            jq,
        })
    }

    /// How tables are laid out: fitted to the width pages are fitted to (the terminal's, or
    /// `COLUMNS` when set, as for `--help`), else tab-separated full values.
    pub fn table_layout(&self) -> crate::table::Layout {
        match page_width(&self.global) {
            Some(width) => crate::table::Layout::Terminal(width),
            None => crate::table::Layout::Piped,
        }
    }

    /// How a table on stderr (a plan to confirm) is laid out: fitted to the terminal stderr
    /// is, else whole, with its header, for the log a job keeps.
    pub fn status_table_layout(&self) -> crate::table::Layout {
        crate::table::Layout::Terminal(crate::terminal::stderr_width().unwrap_or(usize::MAX))
    }

    /// Whether prompts can be shown: stdin and stderr are both terminals.
    pub fn interactive(&self) -> bool {
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    /// The HTTP policy of this run.
    pub fn policy(&self) -> crate::engine::session::Policy {
        crate::engine::session::policy(
            std::time::Duration::from_secs(self.global.http_timeout),
            std::time::Duration::from_secs(self.global.max_wait),
        )
    }

    /// How the walk runs: targets side by side, `--concurrency` at a time.
    pub fn walk_options(&self) -> crate::engine::walk::WalkOptions {
        crate::engine::walk::WalkOptions {
            concurrency: usize::from(self.global.concurrency),
            approvals: self.global.approve.clone(),
            ..Default::default()
        }
    }

    /// Warns on stderr, naming the file, when a config file points GitLab (`gitlab`) or a
    /// built-in instance somewhere other than its built-in URL: a credential meant for the real
    /// one must not go there unnoticed. Once per thing per command.
    pub fn warn_repointed<'a>(
        &self,
        gitlab: bool,
        instances: impl IntoIterator<Item = &'a crate::config::Instance>,
    ) {
        use crate::config::display_url;
        let mut lines = Vec::new();
        if gitlab && let Some(file) = &self.config.gitlab_repointed_by {
            lines.push(format!(
                "GitLab is {} by the config file {}, not {}",
                display_url(&self.config.gitlab_url),
                file.display(),
                crate::config::DEFAULT_GITLAB_URL
            ));
        }
        for i in instances {
            if let Some(file) = &i.repointed_by {
                lines.push(format!(
                    "the built-in instance `{}` is {} by the config file {}",
                    i.id,
                    display_url(&i.url),
                    file.display()
                ));
            }
        }
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        for line in lines {
            if warned.insert(line.clone()) {
                crate::terminal::raw_status(&self.ui.warn(&format!("warning: {line}")));
            }
        }
    }

    /// Asks which Zendesk instance, from the configured ones in `tokrot instances` order.
    pub fn pick_instance(
        &self,
        prompter: &mut dyn crate::engine::prompt::Prompter,
        prompt: &str,
    ) -> Result<String, crate::engine::prompt::PromptError> {
        let instances = self.config.ordered_instances();
        let items: Vec<String> = instances
            .iter()
            .map(|i| format!("{} ({})", i.label, i.id))
            .collect();
        prompter
            .select(prompt, &items)
            .map(|k| instances[k].id.clone())
    }

    /// Whether JSON was asked for.
    pub fn json(&self) -> bool {
        self.global.output == OutputFormat::Json
    }

    /// Prints a JSON document on stdout: always an object, always with `schema_version`
    /// (`schema/tokrot.schema.json` describes every document).
    pub fn print_json(&mut self, value: &serde_json::Value) -> Result<(), CliError> {
        let mut value = value.clone();
        match value.as_object_mut() {
            Some(doc) => {
                doc.insert("schema_version".into(), serde_json::json!(SCHEMA_VERSION));
            }
            None => return Err(CliError::usage("a JSON document must be an object")),
        }
        let text = match &self.jq {
            Some(jq) => jq.apply(&value)?,
            None => {
                let text = serde_json::to_string_pretty(&value)
                    .map_err(|e| CliError::usage(e.to_string()))?;
                format!("{text}\n")
            }
        };
        self.ui.out(&text)?;
        Ok(())
    }
}
