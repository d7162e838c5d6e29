//! Ctrl-C and SIGTERM during a run. Outside a one-shot call, a signal ends the run at once, but
//! first the journal says how it ended and the operator is told what is left (the clean-up
//! steps still to do, `tokrot resume ID`); the process then dies by the signal, as it would have
//! without tokrot's handler, so that the shell restores the terminal (a hidden prompt turns echo
//! off). During a one-shot call (rotate, create) the signal is held: the call's answer, or its
//! loss, is journaled and the new token stashed first, then the run stops at the next step.

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What a run does with a signal that arrives outside a hold: journal and tell. It runs once.
pub type OnSignal = Box<dyn FnOnce(i32) + Send>;

#[derive(Default)]
struct Inner {
    holds: AtomicUsize,
    pending: AtomicI32,
    on_signal: Mutex<Option<OnSignal>>,
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
        self.inner.holds.fetch_sub(1, Ordering::SeqCst);
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

    /// Holds signals until the returned guard is dropped.
    pub fn hold(&self) -> Hold {
        self.inner.holds.fetch_add(1, Ordering::SeqCst);
        Hold {
            inner: self.inner.clone(),
        }
    }

    /// A signal that arrived while held, not acted on yet.
    pub fn pending(&self) -> Option<i32> {
        match self.inner.pending.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }

    /// Sets what a signal outside a hold does before the process ends.
    pub fn on_signal(&self, f: OnSignal) {
        *self
            .inner
            .on_signal
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(f);
    }

    /// Takes the signal handling for a stop the run reports itself (an interrupted prompt): the
    /// listener then only ends the process, and says nothing twice.
    pub fn take_on_signal(&self) -> Option<OnSignal> {
        self.inner
            .on_signal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

fn handle(inner: &Inner, sig: i32) {
    if inner.holds.load(Ordering::SeqCst) > 0 {
        inner.pending.store(sig, Ordering::SeqCst);
        crate::ui::raw_status(
            "interrupt received: the call in flight cannot be taken back; its answer is journaled and the new token kept first, then the run stops",
        );
        return;
    }
    let f = inner
        .on_signal
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    // Without one, the run is already reporting this stop itself (a prompt saw Ctrl-C).
    if let Some(f) = f {
        f(sig);
        die(sig);
    }
}

/// Ends the process by the signal, as if no handler had been installed.
pub fn die(sig: i32) -> ! {
    #[cfg(unix)]
    {
        let _ = signal_hook::low_level::emulate_default_handler(sig);
    }
    std::process::exit(128 + sig)
}
