//! `tokrot completions SHELL`: a completion script on stdout.

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, CliError, Ctx, Outcome};

/// Arguments of `tokrot completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: Shell,
}

/// Prints the script.
pub fn run(ctx: &mut Ctx, args: &CompletionsArgs) -> Result<Outcome, CliError> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "tokrot", &mut buf);
    ctx.ui.out(&String::from_utf8_lossy(&buf))?;
    Ok(Outcome::Done)
}
