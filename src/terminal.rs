//! The terminal a prompt changes, and the signals that arrive while it is changed.
//!
//! A pick list or a yes/no reads keys in raw mode, where Ctrl-C is a key that dialoguer reports.
//! A hidden paste or a typed value reads a line, where Ctrl-C is SIGINT, and a hidden paste has
//! turned echo off. Whoever ends the process on that signal (a run's listener, which journals
//! first, or the signal's default outside a run) must find the terminal as the prompt found it:
//! echo on, the cursor shown, the prompt's line ended. A handler may only set a flag, so the
//! work is done on a thread of its own (or by the run's listener), never in the handler.
//!
//! It also has the few raw writes made outside a `Ui` (a signal listener's last words) and the
//! terminal's width, which the engine's prompts fit their lists to: the engine shows nothing
//! else itself.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// A prompt is on the screen.
static PROMPTING: AtomicBool = AtomicBool::new(false);
/// A listener of the process's own takes SIGINT (set once, for good).
static INT_TAKEN: AtomicBool = AtomicBool::new(false);
/// A listener of the process's own takes SIGTERM (set once, for good).
static TERM_TAKEN: AtomicBool = AtomicBool::new(false);
/// A pager has the terminal: Ctrl-C is its own.
static PAGING: AtomicBool = AtomicBool::new(false);
/// The terminal before the first prompt changed it.
#[cfg(unix)]
static BEFORE: OnceLock<rustix::termios::Termios> = OnceLock::new();
/// Held while the terminal is being restored.
static RESTORING: std::sync::Mutex<()> = std::sync::Mutex::new(());
/// Whether the thread that ends the process on a signal outside a run was started (by the
/// first prompt).
static FALLBACK: OnceLock<()> = OnceLock::new();

/// While alive, a prompt is on the screen.
pub struct Prompting(());

impl Prompting {
    /// Marks a prompt as shown, remembering the terminal as it is before the first one.
    pub fn start() -> Self {
        #[cfg(unix)]
        if BEFORE.get().is_none()
            && let Ok(t) = rustix::termios::tcgetattr(std::io::stdin())
        {
            let _ = BEFORE.set(t);
        }
        if !(INT_TAKEN.load(Ordering::SeqCst) && TERM_TAKEN.load(Ordering::SeqCst)) {
            FALLBACK.get_or_init(start_fallback);
        }
        PROMPTING.store(true, Ordering::SeqCst);
        Self(())
    }
}

impl Drop for Prompting {
    fn drop(&mut self) {
        PROMPTING.store(false, Ordering::SeqCst);
    }
}

/// A run's listener takes SIGINT and SIGTERM from here on.
pub fn run_listens() {
    INT_TAKEN.store(true, Ordering::SeqCst);
    TERM_TAKEN.store(true, Ordering::SeqCst);
}

/// A listener of the process's own takes SIGINT from here on (a `--due` batch, which waits for
/// its rotations); SIGTERM keeps its default.
pub fn sigint_taken() {
    INT_TAKEN.store(true, Ordering::SeqCst);
}

/// A pager has the terminal (`true`) or has given it back.
pub fn paging(on: bool) {
    PAGING.store(on, Ordering::SeqCst);
}

/// When a prompt is on the screen: puts the terminal back as it was before (echo on), shows the
/// cursor and ends the prompt's line. Once per prompt.
pub fn restore_if_prompting() {
    // Whoever restores holds this until the line is ended, so that a signal's thread that
    // finds it done cannot end the process half-way through.
    let _restoring = RESTORING.lock().unwrap_or_else(|p| p.into_inner());
    if !PROMPTING.swap(false, Ordering::SeqCst) {
        return;
    }
    #[cfg(unix)]
    if let Some(t) = BEFORE.get() {
        let _ =
            rustix::termios::tcsetattr(std::io::stdin(), rustix::termios::OptionalActions::Now, t);
    }
    let mut err = std::io::stderr();
    let _ = err.write_all(b"\x1b[?25h\r\n").and_then(|()| err.flush());
}

/// The last thing before the process dies by a signal, once a prompt was shown: the terminal
/// as it was before the first prompt, set twice around a short pause. A prompt's read sets raw
/// mode again for each key, so a read that began between a restore and the death would
/// otherwise leave the terminal raw and silent; by the second setting that read is waiting.
pub fn before_dying() {
    #[cfg(unix)]
    if let Some(t) = BEFORE.get() {
        let set = || {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                t,
            );
        };
        set();
        std::thread::sleep(std::time::Duration::from_millis(30));
        set();
    }
}

/// Outside a run, a signal ends the process by its default, after the terminal is restored.
/// (Registering a handler at all takes the default away for good, so this thread stays.)
#[cfg(unix)]
fn start_fallback() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                // A listener of the process's own takes what it took; a pager takes Ctrl-C (it
                // is its own), never a SIGTERM.
                let taken = match sig {
                    SIGINT => INT_TAKEN.load(Ordering::SeqCst) || PAGING.load(Ordering::SeqCst),
                    _ => TERM_TAKEN.load(Ordering::SeqCst),
                };
                if taken {
                    continue;
                }
                restore_if_prompting();
                before_dying();
                let _ = signal_hook::low_level::emulate_default_handler(sig);
                std::process::exit(128 + sig);
            }
        });
}

#[cfg(not(unix))]
fn start_fallback() {}

/// The width of the terminal stderr is, if it is one.
pub fn stderr_width() -> Option<usize> {
    let term = console::Term::stderr();
    if !term.is_term() {
        return None;
    }
    term.size_checked().map(|(_, cols)| usize::from(cols))
}

/// Leaves the terminal as a prompt found it, before anything else is printed after Ctrl-C: the
/// cursor shown again (a pick list hides it) and the prompt's line ended.
pub fn restore_terminal() {
    let term = console::Term::stderr();
    if term.is_term() {
        let _ = term.show_cursor();
        let _ = term.write_line("");
    }
}

/// A line to stderr from outside the run's `Ui` (the signal listener, the process's last
/// words), for text already made safe. A closed stderr is not an error: the process ends with
/// the code it would have had.
pub fn raw_status(text: &str) {
    let mut err = std::io::stderr();
    let _ = writeln!(err, "{text}");
}
