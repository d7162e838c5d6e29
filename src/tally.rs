//! The count of work done side by side (targets written, tokens read), as the layer doing the
//! work tells it. Whoever shows it (`cli`: a live bar on a terminal, nothing when piped) gives
//! one; the layers that count name no terminal.

/// A count of things ended, out of a total.
pub trait Tally: Send + Sync {
    /// How many things there are, once that is known.
    fn set_total(&self, total: usize);
    /// One more thing ended.
    fn inc(&self);
    /// Runs `f` (a prompt) with the count off the screen.
    fn suspend(&self, f: &mut dyn FnMut());
}

/// A tally that shows nothing (the engine's tests).
#[cfg(test)]
#[derive(Debug, Default)]
pub struct NoTally;

#[cfg(test)]
impl Tally for NoTally {
    fn set_total(&self, _total: usize) {}
    fn inc(&self) {}
    fn suspend(&self, f: &mut dyn FnMut()) {
        f()
    }
}
