//! Output discipline: results on stdout, prompts, progress and status on stderr, all of it
//! through one `Ui` that redacts registered secrets. A closed pipe is a quiet exit.

use std::io::{self, Write};

use crate::secret::Redactor;

/// The one way tokrot writes to the terminal.
pub struct Ui {
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    redactor: Redactor,
    color: bool,
    quiet: bool,
}

impl Ui {
    /// A `Ui` on the process's stdout and stderr.
    pub fn stdio(redactor: Redactor, color: bool, quiet: bool) -> Self {
        Self::new(
            Box::new(io::stdout()),
            Box::new(io::stderr()),
            redactor,
            color,
            quiet,
        )
    }

    /// A `Ui` on any writers (tests).
    pub fn new(
        out: Box<dyn Write>,
        err: Box<dyn Write>,
        redactor: Redactor,
        color: bool,
        quiet: bool,
    ) -> Self {
        Self {
            out,
            err,
            redactor,
            color,
            quiet,
        }
    }

    /// Whether colours are on.
    pub fn color(&self) -> bool {
        self.color
    }

    /// The redactor this output goes through.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Writes a result to stdout.
    pub fn out(&mut self, text: &str) -> io::Result<()> {
        let text = self.redactor.redact(text);
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }

    /// Writes a status line to stderr (suppressed by `-q`).
    pub fn status(&mut self, text: &str) -> io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        self.error(text)
    }

    /// Writes an error or warning line to stderr (never suppressed). A stderr that went away
    /// (a closed pipe) is not a reason to stop: a rotation half done is worse than a status line
    /// nobody reads, so that error is dropped; stdout's is not.
    pub fn error(&mut self, text: &str) -> io::Result<()> {
        let text = self.redactor.redact(text);
        let written = self.err.write_all(text.as_bytes()).and_then(|()| {
            if text.ends_with('\n') {
                Ok(())
            } else {
                self.err.write_all(b"\n")
            }
        });
        match written.and_then(|()| self.err.flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }

    /// Bold text when colours are on.
    pub fn bold(&self, text: &str) -> String {
        if self.color {
            console::style(text).bold().to_string()
        } else {
            text.to_owned()
        }
    }

    /// Dimmed text when colours are on.
    pub fn dim(&self, text: &str) -> String {
        if self.color {
            console::style(text).dim().to_string()
        } else {
            text.to_owned()
        }
    }

    /// Warning-coloured text when colours are on.
    pub fn warn(&self, text: &str) -> String {
        if self.color {
            console::style(text).yellow().to_string()
        } else {
            text.to_owned()
        }
    }
}

/// A line to stderr from outside the run's `Ui` (the signal listener), for fixed text that holds
/// no value.
pub fn raw_status(text: &str) {
    let mut err = io::stderr();
    let _ = writeln!(err, "{text}");
}
