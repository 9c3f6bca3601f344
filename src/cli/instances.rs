//! `robmem instances FILE.rmem [--network NAME] [--out DIR] [--unsafe K]
//! [--timeout SECONDS]`: compile each network and write its VNN-LIB
//! instance folder (specs/vnnlib.md), with one summary line per network.

use super::compile::{check_domain, for_each_compiled, staging_error, write_vnnlib, OnnxWrites};
use super::console::{errln, outln};
use super::print_diagnostic;
use crate::backend::staging::Staging;
use crate::backend::vnnlib::{default_planted, Suite, DEFAULT_TIMEOUT_SECONDS};
use crate::diagnostics::SpecError;
use crate::spec::Program;
use clap::Args;
use std::path::{Path, PathBuf};

/// The long help of `robmem instances`.
pub const LONG_ABOUT: &str = "\
Compile every network of a spec and write, for each, a folder of
known-answer verification instances in the layout of the annual neural
network verification competition (VNN-COMP):

  DIR/onnx/NAME.onnx                  the network (weights inside, opset 13)
  DIR/vnnlib/NAME_point_I.vnnlib      one robust property per data point: the
                                      box around the point at the certified
                                      radius; known answer unsat
  DIR/vnnlib/NAME_unsafe_K.vnnlib     planted not-robust properties around the
                                      K closest differently-labelled pairs;
                                      known answer sat
  DIR/counterexamples/NAME_unsafe_K.json   the witness (in the certified ball
                                      of the pair's other point), its
                                      certified margin and the output there
  DIR/instances.csv                   onnx,vnnlib,timeout per line, no header
  DIR/expected.csv                    vnnlib,answer (unsat or sat) per line

For l_inf networks the box is exactly the certified ball; for other norms it
is the box inscribed in the ball (a weaker, sound property), as each file's
comment header says. Bounds are float32 values, rounded inward for robust
boxes and outward for planted ones. See specs/vnnlib.md.

DIR is the `vnnlib` path of the network's emit block (and `unsafe = K` there
sets K), else out/NAME-vnnlib next to the spec; with --out DIR, folders are
placed under DIR instead. A folder is written under a temporary name and
replaces the old one only when complete.

Suites for a verifier (specs/vnnlib.md, \"Suites\"; each flag also an emit
key, the flag winning):
  --sample K          exactly K instances: P planted (--unsafe, else
                      round(K/4)), H hard (--hard), and K - P - H robust
                      ones at data points drawn with --seed; file names keep
                      the point's index; the same seed writes the same bytes
  --total-timeout T   each instance gets floor(T / instances) seconds in
                      instances.csv, so the suite fits T (the way VNN-COMP
                      benchmarks are sized); at least 1 s each
  --hard N            NAME_hard_K.vnnlib: boxes at radii evenly spaced
                      between the certified radius sigma and delta_p -
                      sigma_c, where neither the certificate nor a planted
                      witness decides the answer: expected.csv says unknown,
                      and robmem grade counts answers there as unchecked
  --domain LO,HI      every box clipped to [LO, HI] (e.g. 0,1 for pixels);
                      planted witnesses lie inside; it must contain every
                      data point (an error names the point, its line and
                      the coordinate otherwise)

One line per network is printed:
  NAME: N instances (R robust, P planted[, H hard]) in DIR[; T s each, ...]";

/// The examples and exit codes of `robmem instances`.
pub const AFTER_HELP: &str = "\
Exit codes: 0 ok; 1 invalid spec, radius not certifiable, or a suite the
data cannot give (a sample larger than the instances that exist, less than
a second per instance); 2 unreadable input, unwritable output, or usage
error (--sample 0, --timeout with --total-timeout).

Examples:
  robmem instances examples/tour.rmem
  robmem instances my.rmem --out /tmp/bench --unsafe 3 --timeout 30
  robmem instances digits.rmem --sample 100 --seed 1 --hard 10 --total-timeout 3600
  robmem instances digits.rmem --sample 100 --domain 0,16
  Marabou /tmp/bench/xor_net-vnnlib/onnx/xor_net.onnx \\
          /tmp/bench/xor_net-vnnlib/vnnlib/xor_net_point_0.vnnlib";

/// Arguments of `robmem instances`.
#[derive(Debug, Args)]
pub struct InstancesArgs {
    /// The spec file (`.rmem`).
    pub file: PathBuf,
    /// Only this network (default: every network in the spec).
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,
    /// Write the folders under DIR (as `DIR/FOLDER`, FOLDER being the folder's own name) instead of where
    /// the spec puts them.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Number of planted not-robust instances per network (default: the
    /// emit block's `unsafe`, else 0).
    #[arg(long = "unsafe", value_name = "K")]
    pub planted: Option<usize>,
    /// Timeout per instance written to instances.csv, in seconds.
    /// At least 1 (a zero timeout would make every instance time out).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT_SECONDS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub timeout: u32,
    /// Write exactly K instances: P planted (--unsafe, else the emit
    /// block's `unsafe`, else round(K/4)), H hard (--hard) and K - P - H
    /// robust ones at data points drawn with --seed (default: the emit
    /// block's `sample`, else every point).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub sample: Option<u64>,
    /// Seed of the sample's draws and of the hard instances' points: the
    /// same seed writes the same files (default: the emit block's `seed`,
    /// else 0).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Total time budget of the suite, in seconds: every instance gets
    /// floor(T / number of instances) seconds in instances.csv, so the
    /// timeouts add up to at most T (replaces --timeout; at least one
    /// second per instance).
    #[arg(long, value_name = "T", conflicts_with = "timeout")]
    pub total_timeout: Option<u64>,
    /// Number of hard-band instances, answer `unknown`: boxes at radii
    /// evenly spaced strictly between the certified radius and
    /// delta_p - sigma_c (default: the emit block's `hard`, else 0).
    #[arg(long, value_name = "N")]
    pub hard: Option<usize>,
    /// Input domain LO,HI for every coordinate (e.g. 0,1 for pixels): every
    /// box is clipped to it and planted witnesses lie in it; it must contain
    /// every data point (default: the emit block's `domain`, else none).
    #[arg(long, value_name = "LO,HI", value_parser = parse_domain, allow_hyphen_values = true)]
    pub domain: Option<(f64, f64)>,
}

/// Parses `--domain LO,HI`: two finite numbers, LO < HI.
fn parse_domain(s: &str) -> Result<(f64, f64), String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let [lo, hi] = parts[..] else {
        return Err(format!("expected LO,HI such as 0,1, found `{s}`"));
    };
    let num = |t: &str| -> Result<f64, String> {
        t.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("`{t}` is not a finite number"))
    };
    let (lo, hi) = (num(lo)?, num(hi)?);
    if lo < hi {
        Ok((lo, hi))
    } else {
        Err(format!(
            "the domain [{lo}, {hi}] is empty: LO must be below HI"
        ))
    }
}

/// Runs `instances` and returns the exit code.
pub fn run(args: &InstancesArgs) -> i32 {
    let mut worst = 0;
    match write_all(args, &mut worst) {
        Ok(()) => worst,
        Err(e) => {
            print_diagnostic(&e);
            worst.max(e.exit_code())
        }
    }
}

/// The folder, the number of planted instances and the suite for network
/// `index`: from its emit block, else `out/NAME-vnnlib` beside the spec;
/// re-rooted under `--out`; each flag overrides its emit key.
fn target(program: &Program, index: usize, args: &InstancesArgs) -> (PathBuf, usize, Suite) {
    let net = &program.networks[index];
    let emit = program
        .emits
        .iter()
        .find(|e| e.network == index && e.vnnlib.is_some());
    let spec_dir = program.path.parent().unwrap_or(Path::new(""));
    let dir = match emit.and_then(|e| e.vnnlib.clone()) {
        Some(dir) => dir,
        None => spec_dir.join("out").join(format!("{}-vnnlib", net.name)),
    };
    let dir = match &args.out {
        Some(out) => out.join(dir.file_name().unwrap_or(dir.as_os_str())),
        None => dir,
    };
    let sample = args
        .sample
        .map(|k| usize::try_from(k).unwrap_or(usize::MAX))
        .or(emit.and_then(|e| e.sample));
    let planted = args
        .planted
        .or(emit.and_then(|e| e.unsafe_instances))
        .or(sample.map(default_planted))
        .unwrap_or(0);
    let suite = Suite {
        sample,
        seed: args.seed.or(emit.map(|e| e.seed)).unwrap_or(0),
        total_timeout: args.total_timeout.or(emit.and_then(|e| e.total_timeout)),
        hard: args.hard.or(emit.map(|e| e.hard)).unwrap_or(0),
        domain: args.domain.or(emit.and_then(|e| e.domain.map(|(d, _)| d))),
    };
    (dir, planted, suite)
}

/// Writes the instances of every selected network; a network that fails is
/// reported, raises `worst` to its exit code, and the next one is tried.
fn write_all(args: &InstancesArgs, worst: &mut i32) -> Result<(), SpecError> {
    for_each_compiled(
        &args.file,
        args.network.as_deref(),
        OnnxWrites::Always,
        |_, _| Ok(()),
        // The domain must hold every data point: checked before compiling.
        |program, index, data| {
            let (_, _, suite) = target(program, index, args);
            match suite.domain {
                Some(domain) => {
                    // The flag has no place in the spec; the emit key has.
                    let span = match args.domain {
                        Some(_) => None,
                        None => program
                            .emits
                            .iter()
                            .find(|e| e.network == index && e.vnnlib.is_some())
                            .and_then(|e| e.domain.map(|(_, s)| s)),
                    };
                    check_domain(program, data, domain, span)
                }
                None => Ok(()),
            }
        },
        |program, index, compiled, data, _report| {
            let (dir, asked, suite) = target(program, index, args);
            // More planted instances than differently-labelled pairs cannot
            // be written: bound K by what exists before any work is sized by it.
            let pairs = differently_labelled_pairs(&data.class_sizes());
            let planted = asked.min(pairs);
            if planted < asked {
                errln!(
                    "warning: network `{}`: {asked} planted instances asked for, but the data has only {pairs} differently-labelled pairs; writing {pairs}",
                    program.networks[index].name
                );
            }
            let mut staging = Staging::new();
            let w = write_vnnlib(
                &mut staging,
                program,
                index,
                compiled,
                data,
                &dir,
                planted,
                args.timeout,
                suite.clone(),
            )?;
            staging.commit().map_err(staging_error)?;
            let hard = if w.hard > 0 {
                format!(", {} hard", w.hard)
            } else {
                String::new()
            };
            let budget = match suite.total_timeout {
                Some(total) => format!(
                    "; {} s each, {} s of a {total} s budget",
                    w.timeout_seconds,
                    u64::from(w.timeout_seconds) * w.instances() as u64
                ),
                None => String::new(),
            };
            outln!(
                "{}: {} instances ({} robust, {} planted{hard}) in {}{budget}",
                program.networks[index].name,
                w.instances(),
                w.robust,
                w.planted,
                w.dir.display()
            );
            Ok(())
        },
        |_, _, error| {
            print_diagnostic(&error);
            *worst = (*worst).max(error.exit_code());
        },
    )
    .map(|_| ())
}

/// The number of unordered pairs of points with different labels, given the
/// size of each class (saturating at `usize::MAX`).
pub fn differently_labelled_pairs(class_sizes: &[usize]) -> usize {
    let n: u128 = class_sizes.iter().map(|&c| c as u128).sum();
    let same: u128 = class_sizes
        .iter()
        .map(|&c| c as u128 * (c as u128).saturating_sub(1) / 2)
        .sum();
    let all = n * n.saturating_sub(1) / 2;
    usize::try_from(all - same).unwrap_or(usize::MAX)
}
