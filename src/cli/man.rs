//! `tokrot man`: the manual pages, made from the same definition as `--help` (so they never
//! disagree with it): `tokrot.1` on stdout, or one page per command into a directory.

use std::path::PathBuf;

use super::{CliError, Outcome};
use crate::ui::Ui;

/// Arguments of `tokrot man`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Without --dir, the page of tokrot itself goes to stdout. With --dir, every command gets its page (tokrot-rotate-gitlab-pat.1 and so on), written into DIR."
)]
pub struct ManArgs {
    /// Write every command's page into DIR instead.
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
}

/// Prints or writes the pages. They need no configuration: a broken config file does not keep
/// them away.
pub fn run(ui: &mut Ui, args: &ManArgs) -> Result<Outcome, CliError> {
    let cmd = super::help::command();
    match &args.dir {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .map_err(|e| CliError::usage(format!("cannot render the page: {e}")))?;
            ui.out(&String::from_utf8_lossy(&buf))?;
        }
        Some(dir) => {
            let failed = |e: std::io::Error| {
                CliError::usage(format!(
                    "cannot write the pages into {}: {e}",
                    dir.display()
                ))
            };
            // Made in a fresh directory of our own inside DIR, then renamed into place: a
            // rename replaces a link planted at a page's name instead of writing through it.
            let fresh = tempfile::Builder::new()
                .prefix(".tokrot-man-")
                .tempdir_in(dir)
                .map_err(failed)?;
            clap_mangen::generate_to(cmd, fresh.path()).map_err(failed)?;
            for entry in std::fs::read_dir(fresh.path()).map_err(failed)? {
                let entry = entry.map_err(failed)?;
                std::fs::rename(entry.path(), dir.join(entry.file_name())).map_err(failed)?;
            }
            let line = format!("Manual pages written into {}.", dir.display());
            ui.status(&line)?;
        }
    }
    Ok(Outcome::Done)
}
