//! Ctrl-C and SIGTERM during a run. Outside a one-shot call, a signal ends the run at once, but
//! first the journal says how it ended and the operator is told what is left (the clean-up
//! steps still to do, `tokrot resume ID`); the process then dies by the signal, as it would have
//! without tokrot's handler, so that the shell restores the terminal (a hidden prompt turns echo
//! off). During a one-shot call (rotate, create) the signal is held: the call's answer, or its
//! loss, is journaled and the new token stashed first, then the run stops at the next step.
//! Holding and concluding exclude each other: once a signal has started to conclude the run, no
//! one-shot call may start.

use std::sync::{Arc, Mutex};

/// What a run does with a signal that arrives outside a hold: journal and tell. It runs once.
pub type OnSignal = Box<dyn FnOnce(i32) + Send>;

#[derive(Default)]
struct State {
    holds: usize,
    pending: Option<i32>,
    concluding: bool,
    /// Signals seen after the run took its own report back.
    unhandled: usize,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    on_signal: Mutex<Option<OnSignal>>,
}

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The run's view of SIGINT and SIGTERM. Cheap to clone.
#[derive(Clone, Default)]
pub struct Interrupts {
    inner: Arc<Inner>,
}

/// While alive, signals are held (recorded, not acted on).
pub struct Hold {
    inner: Arc<Inner>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        let mut st = self.inner.state();
        st.holds = st.holds.saturating_sub(1);
    }
}

/// SIGINT's number, for the exit code of an interrupt seen by a prompt.
pub const SIGINT: i32 = 2;

impl Interrupts {
    /// Starts listening for SIGINT and SIGTERM (needs a tokio runtime). From here on the signals
    /// no longer end the process by themselves: this listener does.
    pub fn install() -> Self {
        let me = Self::default();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            if let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) {
                let inner = me.inner.clone();
                crate::terminal::run_listens();
                tokio::spawn(async move {
                    loop {
                        let sig = tokio::select! {
                            _ = int.recv() => SIGINT,
                            _ = term.recv() => 15,
                        };
                        handle(&inner, sig);
                    }
                });
            }
        }
        me
    }

    /// Holds signals until the returned guard is dropped; `None` when a signal is already
    /// concluding the run (no one-shot call may start then).
    pub fn try_hold(&self) -> Option<Hold> {
        let mut st = self.inner.state();
        if st.concluding {
            return None;
        }
        st.holds += 1;
        Some(Hold {
            inner: self.inner.clone(),
        })
    }

    /// Whether a signal is concluding the run (or the run its own end): nothing more is sent.
    pub fn concluding(&self) -> bool {
        self.inner.state().concluding
    }

    /// A signal that arrived while held, not acted on yet.
    pub fn pending(&self) -> Option<i32> {
        self.inner.state().pending
    }

    /// Sets what a signal outside a hold does before the process ends.
    pub fn on_signal(&self, f: OnSignal) {
        *self
            .inner
            .on_signal
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(f);
    }

    /// Claims the run's end for the run itself (it reports its own stop): from here a signal
    /// only ends the process. `false` when a signal claimed it first: the listener is journaling
    /// this end and will end the process. One or the other, never both.
    pub fn claim_end(&self) -> bool {
        {
            let mut st = self.inner.state();
            if st.concluding {
                return false;
            }
            st.concluding = true;
        }
        drop(
            self.inner
                .on_signal
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
        true
    }
}

fn handle(inner: &Inner, sig: i32) {
    {
        let mut st = inner.state();
        if st.holds > 0 {
            st.pending = Some(sig);
            drop(st);
            crate::terminal::raw_status(
                "interrupt received: the call in flight cannot be taken back; its answer is journaled and the new token kept first, then the run stops",
            );
            return;
        }
        if st.concluding {
            // The run is reporting its own end (a prompt saw Ctrl-C, or the run is over): a
            // second signal ends the process even so, in case that end hangs.
            st.unhandled += 1;
            if st.unhandled > 1 {
                drop(st);
                crate::terminal::restore_if_prompting();
                die(sig);
            }
            return;
        }
        st.concluding = true;
    }
    // A prompt in line mode (a hidden paste) is left as it found the terminal before anything
    // is said; only here, where the run ends (a held signal leaves the prompt as it is).
    crate::terminal::restore_if_prompting();
    let f = inner
        .on_signal
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    if let Some(f) = f {
        f(sig);
    }
    die(sig);
}

/// Ends the process by the signal, as if no handler had been installed.
pub fn die(sig: i32) -> ! {
    crate::terminal::before_dying();
    #[cfg(unix)]
    {
        let _ = signal_hook::low_level::emulate_default_handler(sig);
    }
    std::process::exit(128 + sig)
}
