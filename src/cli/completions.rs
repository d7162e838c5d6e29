//! Shell completion: `tokrot completions SHELL` prints a script that asks the binary itself for
//! candidates as the operator types (clap_complete's environment protocol, under tokrot's own
//! variable `TOKROT_COMPLETE`: a generic `COMPLETE` left in an environment must never turn a
//! rotation into a printed script), so that values only known at run time complete too:
//! runbook ids, instance names, run ids from the journal, the inventory's credential names and
//! `--apply-to` forms.
//!
//! A completer sees only the word being typed, not the rest of the line: it finds the config,
//! runbooks, state dir and inventory the way a command would without flags (the environment,
//! then the defaults). A completer never fails: whatever it cannot read completes nothing. None
//! of them reads a secret or sends anything.

use std::ffi::OsStr;

use clap::Command;
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};

use super::{CliError, Outcome};
use crate::config::{Config, default_state_dir};
use crate::inventory::target::spec_forms;
use crate::runbook::Catalogue;
use crate::ui::Ui;

/// A shell.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
    /// Elvish.
    Elvish,
    /// PowerShell.
    Powershell,
}

/// Arguments of `tokrot completions`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The script calls tokrot as you type (TOKROT_COMPLETE=SHELL tokrot -- WORDS), so it completes what only tokrot knows: runbook ids, instances, run ids, credential names and --apply-to forms. Load it anew in each shell (as in the examples) so that it always matches the installed tokrot."
)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: Shell,
}

/// Prints the script. It needs no configuration: a broken config file does not keep it away.
pub fn run(ui: &mut Ui, args: &CompletionsArgs) -> Result<Outcome, CliError> {
    let bin = std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(str::to_owned))
        .unwrap_or_else(|| "tokrot".to_owned());
    let shell: &dyn EnvCompleter = match args.shell {
        Shell::Bash => &Bash,
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
        Shell::Elvish => &Elvish,
        Shell::Powershell => &Powershell,
    };
    if let Shell::Bash = args.shell {
        ui.out(&bash_script(&bin))?;
        return Ok(Outcome::Done);
    }
    let mut buf = Vec::new();
    shell
        .write_registration(VAR, "tokrot", "tokrot", &bin, &mut buf)
        .map_err(|e| CliError::usage(format!("cannot write the script: {e}")))?;
    ui.out(&String::from_utf8_lossy(&buf))?;
    Ok(Outcome::Done)
}

/// The bash script: clap's protocol, with the standard handling of `:`. Bash splits a word at
/// each character of `COMP_WORDBREAKS` (`:` among them), so `--apply-to zendesk-app:gl` reaches
/// a completer as `zendesk-app`, `:`, `gl`; the pieces that touch in the line are joined again
/// before tokrot is asked (as bash-completion's `_get_comp_words_by_ref -n :` does), and each
/// candidate loses what comes before the last `:`, which bash keeps in place
/// (`__ltrim_colon_completions`).
fn bash_script(bin: &str) -> String {
    let quoted = format!("'{}'", bin.replace('\'', r"'\''"));
    BASH.replace("@BIN@", &quoted)
}

const BASH: &str = r#"
_clap_complete_tokrot() {
    local IFS=$'\013'
    local _CLAP_COMPLETE_COMP_TYPE=${COMP_TYPE}
    if compopt +o nospace 2> /dev/null; then
        local _CLAP_COMPLETE_SPACE=false
    else
        local _CLAP_COMPLETE_SPACE=true
    fi
    # The words as typed: pieces bash split at a `:` are joined again where nothing separates
    # them in the line.
    local line="${COMP_LINE:0:COMP_POINT}" words=() w i glued last
    for ((i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++)); do
        w="${COMP_WORDS[i]}"
        if ((i == COMP_CWORD)) && [[ "${BASH_VERSINFO[0]}" -ge 4 && $w != ":" ]]; then
            w="$2"
        fi
        glued=false
        if [[ $line =~ ^[[:space:]]+ ]]; then
            line="${line:${#BASH_REMATCH[0]}}"
        elif ((i > 0)); then
            glued=true
        fi
        line="${line:${#w}}"
        last=$((${#words[@]} - 1))
        if [[ $glued == true ]] && ((last >= 0)) && [[ $w == :* || ${words[last]} == *: ]]; then
            words[last]+="$w"
        else
            words+=("$w")
        fi
    done
    local cword=$((${#words[@]} - 1))
    COMPREPLY=( $(         _CLAP_IFS="$IFS"         _CLAP_COMPLETE_INDEX="$cword"         _CLAP_COMPLETE_COMP_TYPE="$_CLAP_COMPLETE_COMP_TYPE"         _CLAP_COMPLETE_SPACE="$_CLAP_COMPLETE_SPACE"         TOKROT_COMPLETE="bash"         @BIN@ -- "${words[@]}"     ) )
    if [[ $? != 0 ]]; then
        unset COMPREPLY
        return
    fi
    # Bash keeps what comes before the last `:` of the word in place: a candidate is only
    # what follows it.
    local cur="${words[cword]}"
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local kept="${cur%"${cur##*:}"}" k
        for k in "${!COMPREPLY[@]}"; do
            COMPREPLY[k]="${COMPREPLY[k]#"$kept"}"
        done
    fi
    if [[ $_CLAP_COMPLETE_SPACE == false ]] && [[ "${COMPREPLY-}" =~ [=/:]$ ]]; then
        compopt -o nospace
    fi
}
if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -o nospace -o bashdefault -o nosort -F _clap_complete_tokrot tokrot
else
    complete -o nospace -o bashdefault -F _clap_complete_tokrot tokrot
fi
"#;

/// The variable a completion request comes in.
const VAR: &str = "TOKROT_COMPLETE";

/// Answers a completion request (`TOKROT_COMPLETE=SHELL tokrot -- WORDS`, the script's own
/// form) and exits; does nothing otherwise, whatever the environment holds: a variable left set
/// never turns a command into a printed script. Called first thing in `main`, before any thread.
pub fn answer_if_asked() {
    if std::env::args_os().nth(1).as_deref() != Some(OsStr::new("--")) {
        return;
    }
    clap_complete::CompleteEnv::with_factory(super::command)
        .var(VAR)
        .bin("tokrot")
        .complete();
}

/// The completers, by argument id, on every command that has such an argument.
pub(crate) fn attach(cmd: Command) -> Command {
    let cmd = cmd.mut_args(|arg| {
        let completer: Option<fn(&OsStr) -> Vec<CompletionCandidate>> = match arg.get_id().as_str()
        {
            "instance" => Some(instances),
            "runbook" => Some(runbooks),
            "id" | "from" => Some(run_ids),
            "credential" => Some(credentials),
            "apply_to" => Some(targets),
            _ => None,
        };
        match completer {
            Some(f) => arg.add(ArgValueCompleter::new(f)),
            None => arg,
        }
    });
    cmd.mut_subcommands(attach)
}

fn typed_prefix(current: &OsStr) -> String {
    current.to_string_lossy().into_owned()
}

fn config() -> Option<Config> {
    let explicit = std::env::var_os("TOKROT_CONFIG").map(std::path::PathBuf::from);
    let mut config = Config::load(explicit.as_deref()).ok()?;
    if let Ok(url) = std::env::var("GITLAB_URL") {
        config.set_gitlab_url(&url).ok()?;
    }
    Some(config)
}

fn catalogue() -> Option<Catalogue> {
    let dir = std::env::var_os("TOKROT_RUNBOOKS")
        .map(std::path::PathBuf::from)
        .or_else(|| config().and_then(|c| c.runbooks_dir));
    Catalogue::load(dir.as_deref()).ok()
}

/// Zendesk instance ids, with their labels.
fn instances(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = typed_prefix(current);
    let Some(config) = config() else {
        return Vec::new();
    };
    config
        .ordered_instances()
        .into_iter()
        .filter(|i| i.id.starts_with(&current))
        .map(|i| CompletionCandidate::new(&i.id).help(Some(i.label.clone().into())))
        .collect()
}

/// Runbook ids, with their titles.
fn runbooks(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = typed_prefix(current);
    let Some(catalogue) = catalogue() else {
        return Vec::new();
    };
    catalogue
        .iter()
        .filter(|r| r.id.starts_with(&current))
        .map(|r| CompletionCandidate::new(&r.id).help(Some(r.title.clone().into())))
        .collect()
}

/// Run ids from the journal, newest first, with their runbook and standing.
fn run_ids(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = typed_prefix(current);
    let dir = std::env::var_os("TOKROT_STATE_DIR")
        .map(std::path::PathBuf::from)
        .or_else(default_state_dir);
    let Some(runs) = dir.and_then(|d| crate::engine::history::runs(&d).ok()) else {
        return Vec::new();
    };
    runs.iter()
        .rev()
        .filter(|(j, _)| j.id.starts_with(&current))
        .map(|(j, standing)| {
            CompletionCandidate::new(&j.id).help(Some(format!("{} {standing}", j.runbook).into()))
        })
        .collect()
}

/// The inventory's credential names, with their runbooks.
fn credentials(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = typed_prefix(current);
    let Some(inventory) = inventory() else {
        return Vec::new();
    };
    inventory
        .credentials
        .iter()
        .filter(|c| c.name.starts_with(&current))
        .map(|c| CompletionCandidate::new(&c.name).help(Some(c.runbook.clone().into())))
        .collect()
}

fn inventory() -> Option<crate::inventory::Inventory> {
    let explicit = std::env::var_os("TOKROT_INVENTORY").map(std::path::PathBuf::from);
    crate::inventory::load(explicit.as_deref(), &catalogue()?).ok()
}

/// `--apply-to` forms: the kinds (`gitlab-ci-var:`…), then a Zendesk kind's instances, and the
/// targets the inventory already names.
fn targets(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = typed_prefix(current);
    let mut out: Vec<CompletionCandidate> = Vec::new();
    let kinds = spec_forms().filter_map(|(form, what)| {
        let kind = form.split(':').next()?;
        Some((kind, form, what))
    });
    match current.split_once(':') {
        None => {
            for (kind, form, what) in kinds.filter(|(k, _, _)| k.starts_with(&current)) {
                out.push(
                    CompletionCandidate::new(format!("{kind}:"))
                        .help(Some(format!("{form}: {what}").into())),
                );
            }
        }
        Some((kind, rest)) if kind.starts_with("zendesk-") && !rest.contains(':') => {
            for c in instances(OsStr::new(rest)) {
                let id = c.get_value().to_string_lossy().into_owned();
                out.push(CompletionCandidate::new(format!("{kind}:{id}:")));
            }
        }
        Some(_) => {}
    }
    if let Some(inventory) = inventory() {
        let mut known: Vec<String> = inventory
            .credentials
            .iter()
            .flat_map(|c| c.targets.iter().map(ToString::to_string))
            .filter(|t| t.starts_with(&current))
            .collect();
        known.sort();
        known.dedup();
        out.extend(
            known
                .into_iter()
                .map(|t| CompletionCandidate::new(t).help(Some("in the inventory".into()))),
        );
    }
    out
}
