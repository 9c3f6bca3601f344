//! `robmem sweep FILE.rmem [--network NAME] [--out DIR] [--json]`: compile
//! every combination of every `sweep` block (specs/language.md, "Sweeps")
//! on both cores and write each sweep's table, `DIR/NAME.csv` and
//! `DIR/NAME.jsonl`, through the staging module (all or nothing).
//!
//! Each combination goes through what `robmem compile` does for a network
//! block with those keys: the same check ([`report_on`]), the same
//! pipeline ([`compile_with`]), the same errors ([`compile_error`]), and
//! the same certificate, made by the checker on the ONNX bytes written to
//! a staged temporary that is removed afterwards.

use super::compile::{
    certify, check_failure, compile_error, error_fields, onnx_options, staging_error, write_error,
    StagedModel,
};
use super::console::outln;
use super::outputs::{inputs, normalised};
use super::print_diagnostic;
use crate::analysis::report::{check_networks, report_on};
use crate::analysis::separation::separation;
use crate::backend::onnx::write_onnx_file;
use crate::backend::staging::{self, Staging};
use crate::data::Dataset;
use crate::diagnostics::{did_you_mean, display_name, Category, SpecError};
use crate::pipeline::{compile_with, CompileOptions, Phase, ONNX_MAX_BYTES};
use crate::resolve::load_program;
use crate::spec::{Combination, Program, SweepSpec};
use crate::sweep::pictures;
use crate::sweep::separations::{Computed, Separations};
use crate::sweep::subsample::subsample;
use crate::sweep::table::{self, made_by_robmem};
use crate::sweep::{Failure, Outcome, Row};
use clap::Args;
use rayon::prelude::*;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The long help of `robmem sweep`.
pub const LONG_ABOUT: &str = "Compile every combination of a spec's sweeps and write a table.

A `sweep` block names a network and lists values for any of its keys, and
for `points` (compile on a seeded subsample of N points):

    sweep digits_net {
        width      = [24, 32, 48, 64]
        projection = [pca, random]
        points     = [500, 1797]
    }

Each combination (the first key varies slowest) is checked and compiled
exactly as `robmem compile` compiles the network block with those keys,
certified by the checker, and becomes one row of DIR/NAME.csv and
DIR/NAME.jsonl (NAME: the network's): the swept values, then what
`compile --json` reports (N, d, labels, delta, limit, radius, ratio,
construction, projection, m, width, depth, parameters, seconds) with the
certified radius and arithmetics. A combination that fails (a width too
small for the radius, more points than the data set has) is a row with the
error's kind and message, not an abort. The subsample of `points = N` is
the first N points of a permutation drawn with the combination's `seed`
(the network's unless swept), so the subsamples of one seed are nested.

Combinations run on every core; the tables are written when every row is
done, under temporary names renamed into place (a failure or an interrupt
leaves the older tables as they were). No ONNX file or certificate is kept.";

/// The text after the options in `robmem sweep --help`.
pub const AFTER_HELP: &str = "Exit codes: 0 the tables were written (rows may hold errors); 1 invalid \
spec or no sweep; 2 unreadable input, unwritable or refused table, or usage error.\n\n\
Examples:\n  robmem sweep examples/sweep.rmem\n  robmem sweep examples/sweep.rmem --json --out /tmp/sweeps\n  \
robmem sweep spec.rmem --network digits_net";

/// Arguments of `robmem sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The spec file (`.rmem`).
    pub file: PathBuf,
    /// Run only the sweep of this network (default: every sweep).
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,
    /// Write the tables NAME.csv and NAME.jsonl in DIR (default: the folder
    /// `out` beside the spec, where the examples' emit blocks write).
    /// robmem replaces only tables it wrote.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print each row as a JSON object on standard output (JSON Lines, the
    /// lines of NAME.jsonl) instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `sweep` and returns the exit code.
pub fn run(args: &SweepArgs) -> i32 {
    match sweep_all(args) {
        Ok(()) => 0,
        Err(e) => {
            print_diagnostic(&e);
            e.exit_code()
        }
    }
}

/// The folder the tables go to: `--out DIR`, or `out` beside the spec.
pub fn table_folder(spec: &Path, out: Option<&Path>) -> PathBuf {
    match out {
        Some(dir) => dir.to_path_buf(),
        None => spec
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("out"), |p| p.join("out")),
    }
}

fn sweep_all(args: &SweepArgs) -> Result<(), SpecError> {
    let program = load_program(&args.file)?;
    let selected = select(&program, args.network.as_deref())?;
    let dir = table_folder(&program.path, args.out.as_deref());
    for sweep in &selected {
        check_table(&program, sweep, &dir)?;
    }
    let datasets = check_networks(&program, &[])?.datasets;
    for sweep in selected {
        let rows = run_sweep(&program, sweep, &datasets, &dir)?;
        for row in &rows {
            if args.json {
                outln!("{}", row.to_json());
            } else {
                outln!("{}", table::text_line(row));
            }
        }
    }
    Ok(())
}

/// The sweeps to run: every one, or the one of network `name`.
fn select<'p>(program: &'p Program, name: Option<&str>) -> Result<Vec<&'p SweepSpec>, SpecError> {
    let file = display_name(&program.path);
    if program.sweeps.is_empty() {
        return Err(SpecError::new(format!("{file} has no `sweep` block"))
            .with_help("add one naming a network and listing values, e.g. `sweep NET { width = [16, 32]  projection = [pca, random] }` (specs/language.md, \"Sweeps\")"));
    }
    let Some(name) = name else {
        return Ok(program.sweeps.iter().collect());
    };
    match program.sweeps.iter().find(|s| s.name == name) {
        Some(sweep) => Ok(vec![sweep]),
        None => {
            let names = program.sweeps.iter().map(|s| s.name.as_str());
            let help = match did_you_mean(name, names.clone()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("the sweeps are: {}", names.collect::<Vec<_>>().join(", ")),
            };
            Err(
                SpecError::new(format!("{file} has no sweep of network `{name}`"))
                    .with_category(Category::Io)
                    .with_help(help),
            )
        }
    }
}

/// The table files of `sweep` in `dir`.
fn table_paths(sweep: &SweepSpec, dir: &Path) -> [PathBuf; 2] {
    [
        dir.join(format!("{}.csv", sweep.name)),
        dir.join(format!("{}.jsonl", sweep.name)),
    ]
}

/// The pictures of `sweep` (`NETWORK.KIND.svg` and `.png` in `dir`) and
/// their kinds.
fn picture_paths(sweep: &SweepSpec, dir: &Path) -> Vec<(pictures::Kind, PathBuf)> {
    pictures::kinds(sweep)
        .into_iter()
        .flat_map(|kind| {
            ["svg", "png"].map(|ext| {
                let name = format!("{}.{}.{ext}", sweep.name, kind.suffix());
                (kind, dir.join(name))
            })
        })
        .collect()
}

/// Refuses (exit 2, at the sweep) a table path that is an input of the
/// run, or where something robmem did not write is.
fn check_table(program: &Program, sweep: &SweepSpec, dir: &Path) -> Result<(), SpecError> {
    let inputs: Vec<PathBuf> = inputs(program).iter().map(|p| normalised(p)).collect();
    let pictures = picture_paths(sweep, dir).into_iter().map(|(_, p)| p);
    for path in table_paths(sweep, dir).into_iter().chain(pictures) {
        let problem = if inputs.contains(&normalised(&path)) {
            Some("it is an input of the run (the spec or a data file)")
        } else if !made_by_robmem(&path) {
            Some("a file or folder is there that robmem did not write")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(program
                .error_at(
                    sweep.span,
                    "this sweep",
                    format!("cannot write the table {}: {problem}", path.display()),
                )
                .with_help("robmem replaces only tables it wrote: choose another folder with --out DIR, or move the file away yourself")
                .with_category(Category::Io));
        }
    }
    Ok(())
}

/// Runs every combination of `sweep` on both cores, writes its tables and
/// returns its rows, in order.
fn run_sweep(
    program: &Program,
    sweep: &SweepSpec,
    datasets: &[Dataset],
    dir: &Path,
) -> Result<Vec<Row>, SpecError> {
    let mut staging = Staging::new();
    let [csv_path, jsonl_path] = table_paths(sweep, dir);
    // Staged first: the folder exists before the combinations stage their
    // temporary ONNX files in it.
    let csv_temporary = staging.file(&csv_path).map_err(staging_error)?;
    let jsonl_temporary = staging.file(&jsonl_path).map_err(staging_error)?;
    let mut picture_temporaries = Vec::new();
    for (kind, path) in picture_paths(sweep, dir) {
        let temporary = staging.file(&path).map_err(staging_error)?;
        picture_temporaries.push((kind, path, temporary));
    }
    let total = sweep.combinations.len();
    let rows = compile_rows(program, sweep, datasets, dir);
    let write = |temporary: &Path, path: &Path, text: Vec<u8>| {
        staging::guarded(|| std::fs::write(temporary, text))
            .map_err(|e| write_error(path, &e.to_string()))
    };
    write(&csv_temporary, &csv_path, table::csv(&rows).into_bytes())?;
    write(
        &jsonl_temporary,
        &jsonl_path,
        table::jsonl(&rows).into_bytes(),
    )?;
    for (kind, path, temporary) in picture_temporaries {
        let drawn = pictures::draw(kind, &rows).and_then(|figure| {
            if path.extension().is_some_and(|e| e == "png") {
                crate::plot::png::rasterise_marked(&figure.svg)
            } else {
                Ok(figure.svg.into_bytes())
            }
        });
        let bytes = drawn.map_err(|e| write_error(&path, &e.to_string()))?;
        write(&temporary, &path, bytes)?;
    }
    let written = staging.commit().map_err(staging_error)?;
    let failed = rows.iter().filter(|r| r.outcome.is_err()).count();
    crate::progress::note(&format!(
        "sweep `{}`: {total} combinations ({failed} failed), wrote {}",
        sweep.name,
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(rows)
}

/// Compiles and certifies every combination of `sweep` on every core, with
/// a progress bar, and returns the rows in order. The certificates are made
/// on ONNX files staged in `dir` and removed.
pub(crate) fn compile_rows(
    program: &Program,
    sweep: &SweepSpec,
    datasets: &[Dataset],
    dir: &Path,
) -> Vec<Row> {
    let separations = Separations::compute(sweep, datasets);
    let total = sweep.combinations.len() as u64;
    let bar = crate::progress::counter(&format!("sweep {}", sweep.name), total);
    let rows = sweep
        .combinations
        .par_iter()
        .enumerate()
        .map(|(k, combination)| {
            let row = crate::progress::hidden(|| {
                run_combination(program, sweep, k, combination, datasets, &separations, dir)
            });
            bar.inc(1);
            row
        })
        .collect();
    bar.finish();
    rows
}

/// Compiles combination `k` of `sweep` and makes its row.
fn run_combination(
    program: &Program,
    sweep: &SweepSpec,
    k: usize,
    combination: &Combination,
    datasets: &[Dataset],
    separations: &Separations,
    dir: &Path,
) -> Row {
    let started = Instant::now();
    let net = &combination.network;
    let full = &datasets[net.data];
    let data: Result<Cow<'_, Dataset>, SpecError> = match combination.points {
        None => Ok(Cow::Borrowed(full)),
        Some((n, span)) => subsample(full, &program.datasets[net.data].name, n, net.seed)
            .map(Cow::Owned)
            .map_err(|e| {
                program
                    .error_at(span, "this number of points", e.to_string())
                    .with_help(format!(
                        "list at most {} points, the size of the data set",
                        full.len()
                    ))
                    .with_kind("points")
            }),
    };
    let points = data.as_ref().ok().map(|d| d.len());
    let outcome = data.and_then(|data| {
        let computed = separations.get(combination).unwrap_or_else(|| {
            // Every subsample that can be drawn was computed up front; this
            // is only a safety net.
            let started = Instant::now();
            let separation = separation(data.points.view(), &data.labels, net.norm);
            Computed {
                separation,
                seconds: started.elapsed().as_secs_f64(),
            }
        });
        compile_row(program, sweep, k, combination, &data, computed, dir)
    });
    Row {
        sweep: sweep.name.clone(),
        row: k,
        values: sweep
            .axes
            .iter()
            .zip(&combination.values)
            .map(|(axis, &v)| (axis.key.clone(), axis.values[v].clone()))
            .collect(),
        network: net.clone(),
        points,
        outcome: outcome.map_err(|e| {
            let (kind, message, place) = error_fields(program, sweep.network, &e);
            Failure {
                kind: kind.to_string(),
                message,
                place,
            }
        }),
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Checks, compiles and certifies one combination on `data`, whose
/// separation is `computed`, as `robmem compile` does a network block. The
/// row's `separation` phase is the time that separation took to compute
/// (once for every row that shares it).
fn compile_row(
    program: &Program,
    sweep: &SweepSpec,
    k: usize,
    combination: &Combination,
    data: &Dataset,
    computed: Computed,
    dir: &Path,
) -> Result<Outcome, SpecError> {
    let net = &combination.network;
    let (report, diagnostic) = report_on(program, sweep.network, net, data, computed.separation);
    if !report.passes() {
        return Err(check_failure(program, net, &report, diagnostic.as_ref()));
    }
    let separation_seconds = computed.seconds;
    let options = CompileOptions {
        max_onnx_bytes: Some(ONNX_MAX_BYTES),
    };
    let mut compiled = compile_with(data, net, &report.separation(), &options)
        .map_err(|e| compile_error(program, net, &report, e))?;
    compiled.summary.seconds.insert(
        0,
        Phase {
            phase: "separation",
            seconds: separation_seconds,
        },
    );
    // The certificate, made by the checker on the ONNX bytes in a staged
    // temporary that is never committed (dropped: removed).
    let certifying = Instant::now();
    let mut scratch = Staging::new();
    let onnx_path = dir.join(format!("{}.row{k}.onnx", sweep.name));
    let cert_path = dir.join(format!("{}.row{k}.cert.json", sweep.name));
    let onnx_temporary = scratch.file(&onnx_path).map_err(staging_error)?;
    let cert_temporary = scratch.file(&cert_path).map_err(staging_error)?;
    let options = onnx_options(program, net, &compiled, data);
    write_onnx_file(&compiled.network, &options, &onnx_temporary)
        .map_err(|e| write_error(&onnx_temporary, &e.to_string()))?;
    let model = StagedModel {
        bytes_at: &onnx_temporary,
        named: &onnx_path,
    };
    let certified = certify(
        program,
        sweep.network,
        &compiled,
        data,
        model,
        &cert_path,
        &cert_temporary,
    )?;
    drop(scratch);
    compiled.summary.seconds.push(Phase {
        phase: "certificate",
        seconds: certifying.elapsed().as_secs_f64(),
    });
    let (certified_radius, arithmetics) = match certified {
        Ok(c) => (
            Some(c.radius),
            c.semantics.iter().map(|s| s.name().to_string()).collect(),
        ),
        Err(_) => (None, Vec::new()),
    };
    Ok(Outcome {
        summary: compiled.summary,
        certified_radius,
        arithmetics,
    })
}
