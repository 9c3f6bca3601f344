//! The fuzzing harness (issue 13): five targets, a committed corpus under
//! `tests/fuzz/TARGET/`, byte-level mutations plus a generator for the spec
//! language, and three detectors: panics, hangs (an input running more than
//! 10 s) and allocations above 1 GiB.
//!
//! `cargo test` runs the smoke run (every seed plus a fixed number of
//! mutations per target, deterministic). `scripts/fuzz.sh` runs longer:
//!
//! ```text
//! cargo test --test fuzz -- run TARGET|all SECONDS [SEED]
//! cargo test --test fuzz -- repro TARGET FILE
//! ```
//!
//! A failing input is saved under `tests/fuzz/TARGET/crashes/` with the
//! command that runs it again. A stack overflow aborts before anything is
//! saved: re-run the seed with `ROBMEM_FUZZ_LAST=FILE`, which writes each
//! input to FILE before running it.
//!
//! Why a self-contained harness rather than cargo-afl or cargo-fuzz:
//! cargo-fuzz needs a nightly toolchain (this machine has stable 1.95 only);
//! cargo-afl needs AFL++ compiled and every run built with its
//! instrumentation, heavy on a 2-core machine shared with other builds, and
//! it cannot run inside `cargo test` for CI. This harness needs only crates
//! already in Cargo.lock (rand_chacha, tempfile), runs as an ordinary test,
//! and is deterministic for a seed. Without coverage instrumentation its
//! feedback is coarse: an input whose outcome (error message without
//! numbers and quoted text) is new joins the corpus.

mod alloc;
mod engine;
mod targets;

use engine::{execute, fuzz, Budget, Target};
use std::time::Duration;
use targets::TARGETS;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// Generated or mutated inputs per target in the smoke run.
const SMOKE_INPUTS: u64 = 5_000;

/// The targets `which` names (`all` or one name).
fn chosen(which: &str) -> Vec<&'static Target> {
    let out: Vec<&Target> = TARGETS
        .iter()
        .filter(|t| which == "all" || t.name == which)
        .collect();
    if out.is_empty() {
        let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
        eprintln!("unknown target `{which}`: one of all, {}", names.join(", "));
        std::process::exit(2);
    }
    out
}

/// Runs `targets` within `budget` each and prints a line per target;
/// returns whether none panicked.
fn run_all(targets: &[&Target], seed: u64, budget: impl Fn() -> Budget, verbose: bool) -> bool {
    let mut clean = true;
    for t in targets {
        let s = fuzz(t, seed, budget(), verbose);
        println!(
            "fuzz {}: {} execs in {:.1} s ({:.0}/s), corpus {}, outcomes {}, panics {}",
            t.name,
            s.execs,
            s.elapsed.as_secs_f64(),
            s.execs as f64 / s.elapsed.as_secs_f64().max(1e-9),
            s.corpus,
            s.outcomes,
            s.panics
        );
        clean &= s.panics == 0;
    }
    clean
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let clean = match words.as_slice() {
        ["run", which, seconds, rest @ ..] => {
            let seconds: u64 = seconds.parse().expect("SECONDS: a whole number");
            let seed: u64 = rest
                .first()
                .map_or(0, |s| s.parse().expect("SEED: a whole number"));
            run_all(
                &chosen(which),
                seed,
                || Budget::Time(Duration::from_secs(seconds)),
                true,
            )
        }
        ["repro", which, file] => {
            let target = chosen(which)[0];
            let input = std::fs::read(file).expect("reading the input");
            match execute(target, &input) {
                Ok(outcome) => {
                    println!("no panic: {outcome}");
                    true
                }
                Err(message) => {
                    println!("panic: {message}");
                    false
                }
            }
        }
        ["--list", ..] => {
            println!("fuzz_smoke: test");
            return;
        }
        // `cargo test` (with or without a filter or libtest options): the smoke run.
        _ => {
            println!("fuzz smoke: every seed plus {SMOKE_INPUTS} inputs per target");
            run_all(&chosen("all"), 0, || Budget::Inputs(SMOKE_INPUTS), false)
        }
    };
    targets::remove_scratch();
    if !clean {
        std::process::exit(1);
    }
}
