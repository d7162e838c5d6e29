//! Long output on a terminal goes through a pager, as git's and gh's does: `TOKROT_PAGER`, else
//! `PAGER`, else `less -FRX` (which quits at once when the text fits, keeps colours, and leaves
//! the text on the screen). Never when stdout is not a terminal, under `--output json` or
//! `--no-pager`; a pager set to nothing or to `cat` is none. A pager that cannot be started is
//! no error: the text is written as it would have been.
//!
//! While the pager runs, Ctrl-C belongs to it (less uses it to stop a search): tokrot waits for
//! it instead of dying under it and leaving the terminal to a half-closed pager. The catch stays
//! until the process ends (signal-hook cannot give the default back); paging is a command's
//! last output, after its work, and never happens during a rotation.

use std::io::{self, Write};
use std::process::{Command, Stdio};

/// A pager command, and the terminal height from which text goes through it.
#[derive(Debug, Clone)]
pub struct Pager {
    command: String,
    rows: usize,
}

/// The pager the environment names: `TOKROT_PAGER` (even empty), else `PAGER`, else
/// `less -FRX`; none when it is empty or `cat`.
pub fn command_from_env() -> Option<String> {
    let named = std::env::var("TOKROT_PAGER")
        .or_else(|_| std::env::var("PAGER"))
        .unwrap_or_else(|_| "less -FRX".to_owned());
    let named = named.trim().to_owned();
    (!named.is_empty() && named != "cat").then_some(named)
}

impl Pager {
    /// A pager running `command` for text of `rows` lines or more.
    pub fn new(command: String, rows: usize) -> Self {
        Self { command, rows }
    }

    /// Whether `text` is long enough to page.
    pub fn wants(&self, text: &str) -> bool {
        text.lines().count() >= self.rows
    }

    /// Shows `text` (already made safe for the terminal) in the pager. `Ok(false)` when the
    /// pager could not be started, and nothing was shown.
    pub fn show(&self, text: &str) -> io::Result<bool> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(&self.command).stdin(Stdio::piped());
        // less without options of its own behaves as `less -FRX`.
        if std::env::var_os("LESS").is_none() {
            cmd.env("LESS", "FRX");
        }
        let Ok(mut child) = cmd.spawn() else {
            return Ok(false);
        };
        let quiet_interrupts = ignore_interrupts();
        // A pager the operator quit early closes its end: that is no error. Any other failure
        // to write is said once the pager has ended (it is always waited for).
        let written = match child.stdin.take() {
            Some(mut stdin) => match stdin.write_all(text.as_bytes()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e),
                _ => Ok(()),
            },
            None => Ok(()),
        };
        let waited = child.wait();
        drop(quiet_interrupts);
        written?;
        // The shell could not find or run the pager (127, 126): nothing was shown, and the
        // text is written as it would have been.
        Ok(!matches!(waited?.code(), Some(126 | 127)))
    }
}

/// Ctrl-C is caught (and dropped) until this is dropped.
#[cfg(unix)]
struct Interrupts(Vec<signal_hook::SigId>);

#[cfg(unix)]
impl Drop for Interrupts {
    fn drop(&mut self) {
        crate::terminal::paging(false);
        for id in self.0.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

#[cfg(not(unix))]
fn ignore_interrupts() {}

#[cfg(unix)]
fn ignore_interrupts() -> Interrupts {
    crate::terminal::paging(true);
    let caught = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ids = [signal_hook::consts::SIGINT, signal_hook::consts::SIGQUIT]
        .into_iter()
        .filter_map(|sig| signal_hook::flag::register(sig, caught.clone()).ok())
        .collect();
    Interrupts(ids)
}
