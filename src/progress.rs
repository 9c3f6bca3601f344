//! Progress bars on standard error for phases that can take more than a
//! second (data loading and separation, the projection search, lowering,
//! ONNX writing).
//!
//! The display is process-global so that the construction's mathematical
//! APIs need no extra parameter: the command line calls [`set_quiet`] once,
//! a phase owner (the CLI or the pipeline) opens a [`Phase`], and inner
//! loops (the separation kernels, the writer) report work with [`work`] and
//! [`tick`], which do nothing when no phase is open.
//!
//! Nothing is drawn when standard error is not a terminal
//! ([`std::io::IsTerminal`]) or after `set_quiet(true)` (the global
//! `--quiet` flag), so piped and captured output never contains bar
//! characters. [`note`] prints `note:` lines unless quiet; errors are never
//! routed through this module and are always printed.
//!
//! ```
//! let phase = robmem::progress::phase("lower", Some(3));
//! for _ in 0..3 {
//!     robmem::progress::tick(1); // or phase.inc(1)
//! }
//! phase.finish();
//! ```

use crate::cli::console::errln;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::Cell;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

static QUIET: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// True on a thread inside [`hidden`]: its phases draw nothing.
    static HIDDEN: Cell<bool> = const { Cell::new(false) };
}
/// The bar of the innermost open phase (bars are cheap `Arc` handles).
static CURRENT: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Silences (or re-enables) bars and [`note`] lines for the whole process.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// True after `set_quiet(true)`.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// True when bars are drawn: not quiet and standard error is a terminal.
pub fn enabled() -> bool {
    !is_quiet() && std::io::stderr().is_terminal()
}

/// Prints `note: MESSAGE` to standard error unless quiet (above any bar).
pub fn note(message: &str) {
    if is_quiet() {
        return;
    }
    let line = format!("note: {message}");
    match current() {
        Some(bar) => bar.suspend(|| errln!("{line}")),
        None => errln!("{line}"),
    }
}

fn current() -> Option<ProgressBar> {
    CURRENT.lock().ok().and_then(|c| c.clone())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {prefix:>12} [{elapsed_precise}] {wide_bar} {percent:>3}% {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix:>12} [{elapsed_precise}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// An open phase: a bar (with a known amount of work) or a spinner, shown
/// until [`Phase::finish`] or drop. Hidden when [`enabled`] is false; every
/// method is then a no-op.
#[derive(Debug)]
pub struct Phase {
    bar: Option<ProgressBar>,
    /// The phase that was current when this one opened.
    outer: Option<ProgressBar>,
    /// Whether this phase is the target of [`tick`] and [`work`] (false
    /// for a [`counter`]).
    current: bool,
}

/// Opens a phase named `name` with `total` units of work (`None`: a spinner
/// until [`work`] or [`Phase::set_length`] gives a total) and makes it the
/// target of [`tick`] and [`work`] until it finishes. Phases nest: the
/// inner one replaces the outer one on screen until it finishes.
pub fn phase(name: &str, total: Option<u64>) -> Phase {
    let mut slot = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    let outer = slot.clone();
    if !enabled() || HIDDEN.get() {
        return Phase {
            bar: None,
            outer,
            current: true,
        };
    }
    if let Some(o) = &outer {
        o.set_draw_target(ProgressDrawTarget::hidden());
    }
    let bar = match total {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr())
            .with_style(bar_style()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
            .with_style(spinner_style()),
    };
    bar.set_prefix(name.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    *slot = Some(bar.clone());
    Phase {
        bar: Some(bar),
        outer,
        current: true,
    }
}

/// A bar named `name` counting `total` items done by several threads at
/// once (with [`Phase::inc`]), such as a sweep's combinations: unlike a
/// [`phase`] it never becomes the target of [`tick`] and [`work`], so the
/// work inside each item does not move it. Hidden when [`enabled`] is false.
pub fn counter(name: &str, total: u64) -> Phase {
    let bar = enabled().then(|| {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(bar_style());
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    Phase {
        bar,
        outer: None,
        current: false,
    }
}

/// Runs `f` with every [`phase`] it opens on this thread hidden (not drawn,
/// not current): for work run on several threads at once, whose progress
/// a [`counter`] shows instead.
pub fn hidden<T>(f: impl FnOnce() -> T) -> T {
    /// Restores the thread's flag, also when `f` unwinds.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            HIDDEN.set(self.0);
        }
    }
    let _restore = Restore(HIDDEN.replace(true));
    f()
}

impl Phase {
    /// Advances the bar by `n` units.
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Sets the amount of work (turns a spinner into a bar) and restarts
    /// the position at 0.
    pub fn set_length(&self, total: u64) {
        if let Some(b) = &self.bar {
            start_work(b, total);
        }
    }

    /// Shows `message` after the bar (e.g. the dimension being tried).
    pub fn set_message(&self, message: impl Into<String>) {
        if let Some(b) = &self.bar {
            b.set_message(message.into());
        }
    }

    /// Removes the bar from the screen and restores the enclosing phase.
    pub fn finish(self) {
        drop(self);
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        let Some(bar) = self.bar.take() else {
            return;
        };
        bar.finish_and_clear();
        if !self.current {
            return;
        }
        let mut slot = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = &self.outer {
            o.set_draw_target(ProgressDrawTarget::stderr());
        }
        *slot = self.outer.take();
    }
}

fn start_work(bar: &ProgressBar, total: u64) {
    bar.set_style(bar_style());
    bar.set_length(total);
    bar.set_position(0);
}

/// Announces `total` units of work to the current phase (its bar restarts
/// at 0 of `total`); a kernel calls this before its [`tick`]s. No-op when
/// no phase is open or bars are hidden.
pub fn work(total: u64) {
    if let Some(b) = current() {
        start_work(&b, total);
    }
}

/// Shows `message` after the current phase's bar (e.g. the dimension the
/// projection search is trying). No-op when no phase is open.
pub fn message(message: &str) {
    if let Some(b) = current() {
        b.set_message(message.to_string());
    }
}

/// Advances the current phase by `n` units (callable from any thread).
/// No-op when no phase is open or bars are hidden.
pub fn tick(n: u64) {
    if let Some(b) = current() {
        b.inc(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_phases_are_no_ops() {
        // Test runs capture standard error (not a terminal): nothing is drawn
        // and nothing becomes current.
        set_quiet(true);
        assert!(!enabled());
        let p = phase("test", Some(10));
        tick(3);
        work(5);
        p.inc(1);
        p.set_message("m = 3");
        assert!(p.bar.is_none());
        p.finish();
        set_quiet(false);
        assert!(!is_quiet());
    }
}
