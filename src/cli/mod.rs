//! The `robmem` command line: one [`Command`] variant and one module per
//! subcommand. To add a subcommand, add a variant holding its `Args` struct
//! and a match arm in [`run`].

pub mod check;
pub mod compile;
pub mod console;
pub mod grade;
pub mod instances;
pub mod outputs;
pub mod report;
pub mod sweep;
pub mod verify;

use crate::diagnostics::SpecError;
use clap::{Parser, Subcommand};

const LONG_ABOUT: &str = "\
robmem compiles a short declarative spec (a labelled data set, an l_p norm, a
radius, a width budget, files to emit) into a ReLU network that provably
classifies every data point correctly on the whole l_p ball of that radius
around it.

A spec file (`.rmem`) declares data sets, networks and what to emit:

    dataset xor {
        [0, 0] -> 0
        [1, 1] -> 0
        [0, 1] -> 1
        [1, 0] -> 1
    }
    network xor_net { data = xor  norm = l2  radius = 0.9 of limit }

The language is described in specs/language.md.";

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  the spec is invalid, or a check failed (e.g. the radius is not below the limit)
  2  a file cannot be read (the spec or a data file), or the command line is wrong
  130  interrupted (SIGINT, SIGTERM, SIGHUP); unfinished outputs are removed
  141  standard output was closed by its reader (e.g. piped into `head`)

Examples:
  robmem check examples/xor.rmem           report separation, limit and radius
  robmem check examples/wine.rmem --json   the same as JSON Lines
  robmem compile examples/xor.rmem         write the ONNX files the spec emits
  robmem compile examples/blobs.rmem --emit layers
  robmem verify examples/out/xor.cert.json  check a certificate from the files alone
  robmem instances examples/tour.rmem      write VNN-LIB instances for verifiers
  robmem grade DIR results.csv             grade a verifier's answers on those instances
  robmem sweep examples/sweep.rmem         compile every combination of a sweep into a table";

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "robmem", version, about = "Compile labelled data into provably robust ReLU networks", long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    /// No progress bars and no `note:` lines on standard error; errors and
    /// warnings are still printed. (Bars are also hidden when standard error
    /// is not a terminal.)
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a spec: parse it, load its data and report, per network, the
    /// separation of the data and whether the radius asked for is possible.
    #[command(long_about = check::LONG_ABOUT, after_help = check::AFTER_HELP)]
    Check(check::CheckArgs),
    /// Compile the networks of a spec into ONNX files, with a summary of the
    /// certified radius, the projection and the network's size.
    #[command(long_about = compile::LONG_ABOUT, after_help = compile::AFTER_HELP)]
    Compile(compile::CompileArgs),
    /// Check a certificate against its ONNX file and data, recomputing every
    /// claim from the weights (independently of the compiler).
    #[command(long_about = verify::LONG_ABOUT, after_help = verify::AFTER_HELP)]
    Verify(verify::VerifyArgs),
    /// Compile the networks of a spec and write known-answer verification
    /// instances (ONNX, VNN-LIB properties, instances.csv, expected.csv).
    #[command(long_about = instances::LONG_ABOUT, after_help = instances::AFTER_HELP)]
    Instances(instances::InstancesArgs),
    /// Grade a verifier's answers (a VNN-COMP results CSV) on an instance
    /// folder against the known answers, checking its counterexamples.
    #[command(long_about = grade::LONG_ABOUT, after_help = grade::AFTER_HELP)]
    Grade(grade::GradeArgs),
    /// Compile every combination of the values a `sweep` block lists for a
    /// network's keys and write a table (CSV and JSON Lines) of the results.
    #[command(long_about = sweep::LONG_ABOUT, after_help = sweep::AFTER_HELP)]
    Sweep(sweep::SweepArgs),
    /// Compile the networks of a spec and write one self-contained HTML
    /// page: check facts, summaries, pictures and certificate claims.
    #[command(long_about = report::LONG_ABOUT, after_help = report::AFTER_HELP)]
    Report(report::ReportArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    run(Cli::parse())
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: Cli) -> i32 {
    crate::progress::set_quiet(cli.quiet);
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Compile(args) => compile::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Instances(args) => instances::run(&args),
        Command::Grade(args) => grade::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Report(args) => report::run(&args),
    }
}

/// Prints a diagnostic (and its related ones) to standard error.
pub fn print_diagnostic(err: &SpecError) {
    console::write_stderr(format_args!("{}", err.render()));
}
