//! Standard output and standard error that tolerate a closed pipe.
//!
//! `robmem check SPEC | head -1` closes the pipe after one line, and Rust's
//! `print!` panics when a write then fails. The subcommands print through
//! [`out!`] and [`outln!`] instead, which write with [`write_stdout`]: a
//! closed pipe ends the process quietly with status 141 (128 + SIGPIPE, what
//! a shell reports for a program stopped by a closed pipe), after removing
//! any output temporaries still being written, as an interrupt does.
//! Messages for standard error go through [`errln!`] and [`write_stderr`],
//! which drop a message its reader is no longer there to read.

use std::fmt;
use std::io::{ErrorKind, Write};

/// The exit status after standard output was closed by its reader.
pub const CLOSED_PIPE_STATUS: i32 = 141;

/// Writes to standard output and flushes; see the module documentation for
/// what happens when the reader has gone. Any other write error is reported
/// on standard error once and then ignored, as `print!` cannot report it.
pub fn write_stdout(args: fmt::Arguments<'_>) {
    crate::backend::staging::yield_to_interrupt();
    let mut stdout = std::io::stdout().lock();
    let result = stdout.write_fmt(args).and_then(|()| stdout.flush());
    match result {
        Ok(()) => {}
        Err(err) if err.kind() == ErrorKind::BrokenPipe => {
            crate::backend::staging::remove_live_temporaries();
            std::process::exit(CLOSED_PIPE_STATUS);
        }
        Err(err) => eprintln!("warning: cannot write to standard output: {err}"),
    }
}

/// `print!` through [`write_stdout`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::console::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` through [`write_stdout`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::console::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes a message to standard error, ignoring a closed or failing stream
/// (there is nowhere left to report that).
pub fn write_stderr(args: fmt::Arguments<'_>) {
    crate::backend::staging::yield_to_interrupt();
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_fmt(args);
}

/// `eprintln!` through [`write_stderr`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::console::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};
