//! Output discipline: results on stdout, prompts, progress and status on stderr, all of it
//! through one `Ui` that redacts registered secrets and lets no control sequence from a vendor's
//! text act on the terminal (only tokrot's own colour codes pass). A closed pipe is never a
//! panic and never changes the exit code: output to it is dropped.
//!
//! A fan-out (a hundred targets, a batch of rotations, a long list of reads) shows a live bar on
//! a terminal; piped, under `-q` or `--output json` there is none, only the summary line. While
//! a bar is up, every line the `Ui` writes suspends it, so lines and bar never mix.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::secret::Redactor;

/// The one way tokrot writes to the terminal.
pub struct Ui {
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    redactor: Redactor,
    /// Colour on stdout, and on stderr: each stream is coloured only where it is seen.
    color: (bool, bool),
    quiet: bool,
    /// Live progress bars may be drawn (stderr is a terminal, text output, not `-q`).
    live: bool,
    /// `-v`: every target's line, not only the failures and the summary.
    verbose: bool,
    /// The bar that is up, if any.
    bar: Option<indicatif::ProgressBar>,
    /// The width pages of text are fitted to (`page`), when known.
    width: Option<usize>,
    /// stdout was closed by its reader.
    out_closed: bool,
    /// Long pages go through it (stdout is a terminal, text output, no `--no-pager`).
    pager: Option<crate::pager::Pager>,
    /// The width lines on stderr are fitted to, when it is a terminal.
    err_width: Option<usize>,
}

/// A live bar for `total` things being done side by side, and the time they took. Dropped
/// without `Ui::end_progress` (an early return), it still takes the bar down.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress {
    /// How many things there are, once that is known.
    pub fn set_total(&self, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
        }
    }

    /// One more done.
    pub fn inc(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Runs `f` (a prompt) with the bar off the screen.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => suspending(bar, f),
            None => f(),
        }
    }
}

impl Ui {
    /// A `Ui` on the process's stdout and stderr.
    pub fn stdio(redactor: Redactor, color: (bool, bool), quiet: bool) -> Self {
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
        color: (bool, bool),
        quiet: bool,
    ) -> Self {
        Self {
            out,
            err,
            redactor,
            color,
            quiet,
            live: false,
            verbose: false,
            bar: None,
            width: None,
            out_closed: false,
            pager: None,
            err_width: None,
        }
    }

    /// Fits pages of text (`page`) to `width` columns.
    pub fn with_width(mut self, width: Option<usize>) -> Self {
        self.width = width.filter(|w| *w >= 20);
        self
    }

    /// Writes a table already laid out for its width (`table::Table`): never re-wrapped, paged
    /// like any page.
    pub fn table(&mut self, text: &str) -> io::Result<()> {
        if let Some(pager) = self.pager.as_ref().filter(|p| p.wants(text)) {
            let shown = self.redactor.redact(text);
            let shown = for_stream(&shown, self.color.0);
            let _ = self.out.flush();
            if pager.show(&shown)? {
                return Ok(());
            }
        }
        self.out(text)
    }

    /// Fits lines on stderr to `width` columns, between words (a terminal's own wrapping cuts
    /// words and commands to copy in two).
    pub fn with_err_width(mut self, width: Option<usize>) -> Self {
        self.err_width = width.filter(|w| *w >= 20);
        self
    }

    /// Pages longer than the terminal go through `pager`.
    pub fn with_pager(mut self, pager: Option<crate::pager::Pager>) -> Self {
        self.pager = pager;
        self
    }

    /// Writes text for people to stdout (a list, a checklist, a table), fitted to the terminal:
    /// long lines are broken between words, not where the terminal would cut them. A page
    /// longer than the terminal goes through the pager, when there is one.
    pub fn page(&mut self, text: &str) -> io::Result<()> {
        let text = match self.width {
            Some(w) => crate::text::fit(text, w),
            None => text.to_owned(),
        };
        self.table(&text)
    }

    /// Allows live bars (`live`, for a terminal) and per-item lines (`verbose`, for `-v`).
    pub fn with_progress(mut self, live: bool, verbose: bool) -> Self {
        self.live = live && !self.quiet;
        self.verbose = verbose;
        self
    }

    /// Starts a bar for `total` things, labelled `what`; drawn only where live bars may be.
    pub fn progress(&mut self, total: usize, what: &str) -> Progress {
        let bar = self.live.then(|| {
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} ({elapsed})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stderr(),
            )
            .with_style(style)
            .with_message(what.to_owned());
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        self.bar.clone_from(&bar);
        *live_bar() = bar.clone();
        Progress {
            bar,
            started: Instant::now(),
        }
    }

    /// Takes the bar down; how long the work took.
    pub fn end_progress(&mut self, progress: Progress) -> Duration {
        self.bar_down();
        progress.started.elapsed()
    }

    /// Forgets the bar that is up: lines are written plainly again (the `Progress` itself
    /// clears it from the screen when dropped).
    pub fn bar_down(&mut self) {
        self.bar = None;
        *live_bar() = None;
    }

    /// A line for one item of a fan-out: shown with `-v` only (failures go through `error`).
    pub fn detail(&mut self, text: &str) -> io::Result<()> {
        match self.verbose {
            true => self.status(text),
            false => Ok(()),
        }
    }

    /// Whether colours are on where prompts go (stderr).
    pub fn color(&self) -> bool {
        self.color.1
    }

    /// Whether text is styled at all: on either stream (a stream without colour has the codes
    /// taken out as it is written).
    fn styled(&self) -> bool {
        self.color.0 || self.color.1
    }

    /// The redactor this output goes through.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Writes a result to stdout. A stdout that went away (`| head`) is not a reason to stop or
    /// to change the exit code: the command carries on to the end it would have had, and its
    /// later output is dropped.
    pub fn out(&mut self, text: &str) -> io::Result<()> {
        if self.out_closed {
            return Ok(());
        }
        let text = self.redactor.redact(text);
        let text = for_stream(&text, self.color.0);
        match self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
        {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.out_closed = true;
                Ok(())
            }
            other => other,
        }
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
        let text = match self.err_width {
            Some(w) => crate::text::fit(&text, w),
            None => text,
        };
        let text = for_stream(&text, self.color.1);
        let err = &mut self.err;
        let mut write = || {
            err.write_all(text.as_bytes())
                .and_then(|()| match text.ends_with('\n') {
                    true => Ok(()),
                    false => err.write_all(b"\n"),
                })
                .and_then(|()| err.flush())
        };
        // A bar taken down by an early return is finished: nothing to suspend.
        let written = match self.bar.as_ref().filter(|b| !b.is_finished()) {
            Some(bar) => bar.suspend(write),
            None => write(),
        };
        match written {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }

    /// Bold text when colours are on.
    pub fn bold(&self, text: &str) -> String {
        if self.styled() {
            console::style(text).bold().to_string()
        } else {
            text.to_owned()
        }
    }

    /// Dimmed text when colours are on.
    pub fn dim(&self, text: &str) -> String {
        if self.styled() {
            console::style(text).dim().to_string()
        } else {
            text.to_owned()
        }
    }

    /// Alarm-coloured (red) text when colours are on: an error, an expired or revoked token.
    pub fn alarm(&self, text: &str) -> String {
        if self.styled() {
            console::style(text).red().to_string()
        } else {
            text.to_owned()
        }
    }

    /// Warning-coloured text when colours are on.
    pub fn warn(&self, text: &str) -> String {
        if self.styled() {
            console::style(text).yellow().to_string()
        } else {
            text.to_owned()
        }
    }
}

/// Text as a stream gets it: with tokrot's colour codes where the stream is coloured, without
/// them where it is not, and in both cases unable to act on the terminal.
fn for_stream(text: &str, colour: bool) -> std::borrow::Cow<'_, str> {
    match colour {
        true => crate::text::terminal_safe(text, true),
        false => std::borrow::Cow::Owned(
            crate::text::terminal_safe(&crate::text::without_colour(text), false).into_owned(),
        ),
    }
}

/// The bar that is up, for writers outside the `Ui` (logs: a retry's warning) to suspend.
fn live_bar() -> std::sync::MutexGuard<'static, Option<indicatif::ProgressBar>> {
    static BAR: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);
    BAR.lock().unwrap_or_else(|p| p.into_inner())
}

thread_local! {
    /// Whether this thread runs inside a bar's `suspend` (a prompt): the bar is off the screen
    /// already, and suspending it again would wait on the bar's own lock.
    static SUSPENDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with the bar off the screen, marking the thread as such.
fn suspending<R>(bar: &indicatif::ProgressBar, f: impl FnOnce() -> R) -> R {
    bar.suspend(|| {
        SUSPENDED.with(|s| s.set(true));
        let r = f();
        SUSPENDED.with(|s| s.set(false));
        r
    })
}

/// Runs `write` (a log line to stderr) with the live bar, if any, off the screen: a line never
/// leaves a stale copy of the bar behind it.
pub fn with_bar_suspended<R>(write: impl FnOnce() -> R) -> R {
    if SUSPENDED.with(std::cell::Cell::get) {
        return write();
    }
    let bar = live_bar().clone();
    match bar.filter(|b| !b.is_finished()) {
        Some(bar) => suspending(&bar, write),
        None => write(),
    }
}

/// A line to stdout from outside the run's `Ui` (a JSON error document), ignoring a closed
/// stdout as `terminal::raw_status` does.
pub fn raw_out(text: &str) {
    let mut out = io::stdout();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}
