//! `robmem compile FILE.rmem [--network NAME] [--out DIR] [--json] [--emit ir|layers]`:
//! check the spec, compile each network and write the files its `emit`
//! block names.

use super::console::{errln, out, outln};
use super::instances::differently_labelled_pairs;
use super::outputs::{check_outputs, output_path, replaceable_folder, FOLDER_MANIFEST};
use super::print_diagnostic;
use crate::analysis::report::{check_networks, show, NetworkReport, Verdict};
use crate::backend::certificate::{
    make_certificate, relative_path, CertificateError, CertificateRequest,
};
use crate::backend::onnx::{write_onnx, write_onnx_file, OnnxOptions};
use crate::backend::report::layers_report;
use crate::backend::staging::{self, Staging, StagingError};
use crate::backend::vnnlib::{
    default_planted, write_instances_with, Backing, InstanceSet, Outputs, Suite, VnnlibError,
    Written, DEFAULT_TIMEOUT_SECONDS,
};
use crate::construct::plan::PlanError;
use crate::data::Dataset;
use crate::diagnostics::{did_you_mean, display_name, Category, SpecError};
use crate::pipeline::{
    compile_with, CompileError, CompileOptions, Compiled, Phase, Summary, ONNX_MAX_BYTES,
};
use crate::resolve::load_program;
use crate::spec::{Budget, EmitSpec, NetworkSpec, OutputKind, Program, RadiusSpec};
use crate::verify::certificate::{Certificate, Semantics};
use clap::{Args, ValueEnum};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The long help of `robmem compile`.
pub const LONG_ABOUT: &str = "Compile the networks of a spec into ONNX files.\n\n\
For each network: check the spec (as `robmem check` does), choose the
construction (`construction = auto`: inner-product scores, or exact l1 / linf
distances for `norm = l1`, `l2` or `linf`, whichever certifies more in the
spec's precision), a projection and a radius within the width and depth budgets,
build the network of specs/construction.md (projection, scores and running
maxima or label gadget, or distances and running minima), optimise it, and write the files its `emit` block names (ONNX, certificates, VNN-LIB
folders). A summary per network reports
N, d, C, the separation delta_p, the limit delta_p/2, the certified radius and
its ratio to the limit, the projection and its dimension m, the network's
width, depth and parameters, and the seconds spent per phase.

A `certificate = \"FILE\"` entry writes a certificate (specs/certificate.md)
whose claims the compiler computes with the independent checker on the ONNX
file as written; `robmem verify FILE` re-checks it.

A `vnnlib = \"DIR\"` entry writes a folder of known-answer verification
instances (VNN-LIB properties, instances.csv, expected.csv; see `robmem
instances --help` and specs/vnnlib.md), with `unsafe = K` planted ones;
`sample = K`, `seed = S`, `total_timeout = T`, `hard = N` and
`domain = [LO, HI]` cut a benchmark suite from them (specs/vnnlib.md,
\"Suites\").

Output paths in `emit` blocks are relative to the spec file's folder, or to
--out DIR when given. A network's outputs are all or nothing: every file and
folder is written under a temporary name, its certificates are confirmed by
the checker, and only then are they all renamed into place; a failure or an
interrupt leaves the older outputs as they were and no temporary behind.
Every network is tried even when an earlier one fails: a failed network
writes nothing, the others write theirs.";

/// The text after the options in `robmem compile --help`.
pub const AFTER_HELP: &str = "Every network is tried, even after one fails; the exit code is the worst \
of the networks' (2 over 1 over 0). Exit codes: 0 ok; 1 invalid spec, radius not achievable or not \
certifiable within the budgets; 2 unreadable input, unwritable output, or usage error.\n\n\
Examples:\n  robmem compile examples/xor.rmem\n  robmem compile examples/blobs.rmem --json\n  \
robmem compile examples/tour.rmem --network xor_net --emit ir\n  \
robmem compile examples/wine.rmem --out /tmp/wine\n  robmem compile examples/xor.rmem && robmem verify examples/out/xor.cert.json";

/// Arguments of `robmem compile`.
#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The spec file (`.rmem`).
    pub file: PathBuf,
    /// Compile only this network (default: every network in the spec).
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,
    /// Write outputs under DIR instead of the spec file's folder. A network
    /// without an `emit` block is written to DIR/NAME.onnx.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print one JSON object per network and line (JSON Lines), in
    /// declaration order. A network that compiled has the keys network,
    /// points, dim, labels, norm, delta, limit, radius, ratio, construction,
    /// construction_reason, projection, m, width, depth, parameters, seconds
    /// (plus draws, slots_per_label, delta_projected, gamma, written, and
    /// certified_radius and arithmetics from the certificate, null without
    /// one). A network that failed prints {"network": NAME, "error": {"kind",
    /// "message", "place"}}: kind is a short stable word (radius, width,
    /// depth, projection, construction, precision, labels, too-large,
    /// contradictory, certificate, emit, io, assembly), place the spec's
    /// file:line:column (specs/language.md section 4).
    #[arg(long)]
    pub json: bool,
    /// Print an intermediate form instead of writing files: `ir` (the stage
    /// IR with the constants of the construction) or `layers` (layer shapes
    /// and parameter counts).
    #[arg(long, value_enum, value_name = "FORM")]
    pub emit: Option<Listing>,
}

/// What `--emit` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Listing {
    /// The stage IR.
    Ir,
    /// The dense layers.
    Layers,
}

/// Runs `compile` and returns the exit code: the worst of the networks'
/// (2 over 1 over 0). Every selected network is tried, even after one fails.
pub fn run(args: &CompileArgs) -> i32 {
    let mut worst = 0;
    match compile_all(args, &mut worst) {
        Ok(()) => worst,
        Err(e) => {
            print_diagnostic(&e);
            worst.max(e.exit_code())
        }
    }
}

/// Compiles every selected network; `worst` is raised to the exit code of
/// each network that fails (each failure is printed, and with `--json`
/// printed as an error line, as it happens). An error before any network is
/// tried (unreadable or invalid spec, colliding outputs) is returned.
fn compile_all(args: &CompileArgs, worst_code: &mut i32) -> Result<(), SpecError> {
    let writes = match (&args.emit, &args.out) {
        (Some(_), _) => OnnxWrites::Never,
        (None, Some(_)) => OnnxWrites::Always,
        (None, None) => OnnxWrites::AsEmitted,
    };
    let worst = std::cell::Cell::new(*worst_code);
    let result = for_each_compiled(
        &args.file,
        args.network.as_deref(),
        writes,
        |program, selected| match args.emit {
            Some(_) => Ok(()),
            None => check_outputs(program, selected, args.out.as_deref()),
        },
        |_, _, _| Ok(()),
        |program, index, compiled, data, report| {
            match args.emit {
                Some(Listing::Ir) => {
                    out!("{}", compiled.program);
                    return Ok(());
                }
                Some(Listing::Layers) => {
                    out!("{}", layers_report(&compiled.network));
                    return Ok(());
                }
                None => {}
            }
            let write_started = Instant::now();
            let emitted = write_outputs(program, index, compiled, data, args.out.as_deref())
                .map_err(|e| at_emit_block(program, index, args.out.as_deref(), e))?;
            compiled.summary.seconds.push(Phase {
                phase: "write",
                seconds: write_started.elapsed().as_secs_f64(),
            });
            if args.json {
                outln!("{}", summary_json(&compiled.summary, &emitted));
            } else {
                out!("{}", summary_text(&compiled.summary, report, &emitted));
            }
            Ok(())
        },
        |program, index, error| {
            print_diagnostic(&error);
            worst.set(worst.get().max(error.exit_code()));
            if args.json {
                outln!("{}", error_json(program, index, &error));
            }
        },
    );
    *worst_code = worst.get();
    result.map(|_| ())
}

/// A spec and its data sets as [`for_each_compiled`] loaded them.
pub(crate) struct Loaded {
    /// The resolved spec.
    pub(crate) program: Program,
    /// Its data sets, indexed like [`Program::datasets`].
    pub(crate) datasets: Vec<Dataset>,
}

/// Whether a command will write each network as ONNX (so that a network too
/// large for an ONNX file is refused before it is lowered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnnxWrites {
    /// Nothing is written (`--emit ir|layers`).
    Never,
    /// Every network is written (`--out DIR`, `robmem instances`).
    Always,
    /// The networks whose `emit` blocks name an ONNX file or a VNN-LIB folder.
    AsEmitted,
}

/// Loads and checks the spec `file`, compiles the network `network` (or every
/// network) and calls `f` with each compiled network, in order of
/// declaration. `check_outputs` sees the program and the selected networks
/// before anything is compiled (to refuse outputs that would collide or
/// destroy an input); `check_network` sees each network and its data
/// before that network is compiled (an error there fails the network
/// without compiling it). A network that fails (its check, its compilation, or
/// `f`) is passed to `failed` with its error and the next one is tried;
/// errors before any network is tried (unreadable or invalid spec, unknown
/// `network`, refused outputs, unreadable data) are returned. On success
/// the loaded spec and data sets are handed back, for work that follows
/// (the sweeps of `robmem report`).
pub(crate) fn for_each_compiled(
    file: &Path,
    network: Option<&str>,
    writes: OnnxWrites,
    check_outputs: impl FnOnce(&Program, &[usize]) -> Result<(), SpecError>,
    mut check_network: impl FnMut(&Program, usize, &Dataset) -> Result<(), SpecError>,
    mut f: impl FnMut(&Program, usize, &mut Compiled, &Dataset, &NetworkReport) -> Result<(), SpecError>,
    mut failed: impl FnMut(&Program, usize, SpecError),
) -> Result<Loaded, SpecError> {
    let started = Instant::now();
    let program = load_program(file)?;
    let selected = select(&program, network)?;
    check_outputs(&program, &selected)?;
    let outcome = check_networks(&program, &selected)?;
    let load_seconds = started.elapsed().as_secs_f64();
    for d in outcome.diagnostics.iter().filter(|d| d.is_warning()) {
        print_diagnostic(d);
    }
    for (report, diagnostic) in outcome.reports.iter().zip(&outcome.network_diagnostics) {
        let index = report.network;
        let net = &program.networks[index];
        if !report.passes() {
            failed(
                &program,
                index,
                check_failure(&program, net, report, diagnostic.as_ref()),
            );
            continue;
        }
        let data = &outcome.datasets[net.data];
        if let Err(e) = check_network(&program, index, data) {
            failed(&program, index, e);
            continue;
        }
        let separation = report.separation();
        // Refuse an ONNX file protobuf cannot hold before lowering it.
        let writes_onnx = match writes {
            OnnxWrites::Never => false,
            OnnxWrites::Always => true,
            OnnxWrites::AsEmitted => program
                .emits
                .iter()
                .any(|e| e.network == index && (e.onnx.is_some() || e.vnnlib.is_some())),
        };
        let options = CompileOptions {
            max_onnx_bytes: writes_onnx.then_some(ONNX_MAX_BYTES),
        };
        let mut compiled = match compile_with(data, net, &separation, &options) {
            Ok(c) => c,
            Err(e) => {
                failed(&program, index, compile_error(&program, net, report, e));
                continue;
            }
        };
        compiled.summary.seconds.insert(
            0,
            Phase {
                phase: "load",
                seconds: load_seconds,
            },
        );
        if let Err(e) = f(&program, index, &mut compiled, data, report) {
            failed(&program, index, e);
        }
    }
    Ok(Loaded {
        program,
        datasets: outcome.datasets,
    })
}

/// The error of a network whose check fails (`report` does not pass): its
/// diagnostic, with the kind `compile --json` reports.
pub(crate) fn check_failure(
    program: &Program,
    net: &NetworkSpec,
    report: &NetworkReport,
    diagnostic: Option<&SpecError>,
) -> SpecError {
    let error = match diagnostic {
        Some(d) if !d.is_warning() => d.clone(),
        _ => program.error_at(
            net.span,
            "this network",
            format!("network `{}` cannot be compiled", net.name),
        ),
    };
    let kind = match report.verdict {
        Verdict::RadiusTooLarge { .. } => "radius",
        Verdict::Contradictory => "contradictory",
        Verdict::Ok | Verdict::SingleLabel => "check",
    };
    error.with_kind(kind)
}

/// An error of writing network `index`'s outputs that points at no part of
/// the spec (an unwritable path), pointed at the emit block that names the
/// path (the network's first emit block when none does).
fn at_emit_block(program: &Program, index: usize, out: Option<&Path>, e: SpecError) -> SpecError {
    if e.place().is_some() {
        return e;
    }
    let emits: Vec<&EmitSpec> = program
        .emits
        .iter()
        .filter(|m| m.network == index)
        .collect();
    let names = |m: &EmitSpec| {
        [&m.onnx, &m.certificate, &m.vnnlib]
            .into_iter()
            .flatten()
            .any(|p| {
                let shown = output_path(program, p, out);
                e.message().contains(&shown.display().to_string())
                    || std::path::absolute(&shown)
                        .is_ok_and(|a| e.message().contains(&a.display().to_string()))
            })
    };
    let Some(emit) = emits.iter().find(|m| names(m)).or(emits.first()) else {
        return e;
    };
    e.with_source(display_name(&program.path), program.source.clone())
        .with_label(emit.span, "this emit block")
}

/// The `--json` line of a network that failed: `{"network": NAME, "error":
/// {"kind", "message", "place"}}`. `place` is the spec's `file:line:column`
/// the error points at (the network's declaration when the error points at
/// no part of the spec).
fn error_json(program: &Program, index: usize, error: &SpecError) -> serde_json::Value {
    let (kind, message, place) = error_fields(program, index, error);
    serde_json::json!({
        "network": program.networks[index].name,
        "error": {
            "kind": kind,
            "message": message,
            "place": place,
        }
    })
}

/// The `kind`, `message` and `place` of network `index`'s error in
/// `compile --json`: `place` is the declaration's when the error points at
/// no part of the spec.
pub(crate) fn error_fields(
    program: &Program,
    index: usize,
    error: &SpecError,
) -> (&'static str, String, Option<String>) {
    let net = &program.networks[index];
    let place = error.place().or_else(|| {
        program
            .error_at(net.span, "this network", String::new())
            .place()
    });
    let kind = error.kind().unwrap_or(match error.category() {
        Category::Io => "io",
        Category::Spec => "spec",
    });
    (kind, error.message().to_string(), place)
}

/// The indices of the networks to compile.
fn select(program: &Program, name: Option<&str>) -> Result<Vec<usize>, SpecError> {
    let Some(name) = name else {
        return Ok((0..program.networks.len()).collect());
    };
    match program.networks.iter().position(|n| n.name == name) {
        Some(index) => Ok(vec![index]),
        None => {
            let names = program.networks.iter().map(|n| n.name.as_str());
            let err = SpecError::new(format!(
                "{} has no network `{name}`",
                display_name(&program.path)
            ));
            let hint = match did_you_mean(name, names.clone()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("the networks are: {}", names.collect::<Vec<_>>().join(", ")),
            };
            Err(err.with_help(hint))
        }
    }
}

/// A compile error as a diagnostic pointing at the part of the spec to change.
pub(crate) fn compile_error(
    program: &Program,
    net: &NetworkSpec,
    report: &NetworkReport,
    e: CompileError,
) -> SpecError {
    let message = format!("cannot compile network `{}`: {e}", net.name);
    let kind = compile_error_kind(&e);
    let error = match e {
        CompileError::Plan(PlanError::RadiusNotCertified {
            best_radius,
            smallest_width,
            ..
        }) => {
            let mut help = format!(
                "ask for a radius below {} ({} of the limit), or `radius = max`",
                show(best_radius),
                show(best_radius / report.limit)
            );
            if let Some(w) = smallest_width {
                help += &format!(", or raise `width` to {w}");
            }
            program
                .error_at(net.radius_span, "this radius", message)
                .with_help(help)
        }
        CompileError::Plan(PlanError::RadiusAtLimit { limit, .. }) => program
            .error_at(net.radius_span, "this radius", message)
            .with_help(format!(
                "no function robustly memorizes these points at a radius of delta/2 = {} or more",
                show(limit)
            )),
        CompileError::Plan(PlanError::NoLimit) => program
            .error_at(net.radius_span, "this radius", message)
            .with_help("write an absolute radius, e.g. `radius = 1`: the network is a constant, robust at every radius"),
        CompileError::Plan(PlanError::WidthTooSmall { needed, .. }) => program
            .error_at(net.span, "this network", message)
            .with_help(format!("raise `width` to at least {needed}")),
        CompileError::Plan(PlanError::DepthTooSmall { needed, .. })
        | CompileError::TooDeep { depth: needed, .. } => program
            .error_at(net.span, "this network", message)
            .with_help(format!("raise `depth` to at least {needed}")),
        CompileError::Plan(PlanError::Projection(_)) => program
            .error_at(net.span, "this network", message)
            .with_help("choose another `projection` (auto picks one that applies)"),
        CompileError::Plan(PlanError::NotInArithmetic {
            radius,
            precision,
            best_radius,
            smallest_width,
        }) => {
            let mut fixes = Vec::new();
            if best_radius > 0.0 {
                fixes.push(format!(
                    "ask for a radius up to {} ({} of the limit), or `radius = max`",
                    show(best_radius),
                    show(best_radius / report.limit)
                ));
            }
            match (smallest_width, radius, net.width) {
                (Some(w), _, _) => fixes.push(format!("raise `width` to {w}")),
                // `radius = max` searched no other width: name the lever.
                (None, None, Budget::AtMost(_)) => fixes.push(
                    "raise `width` (a larger m separates the projected points more, so rounding matters less)"
                        .to_string(),
                ),
                _ => {}
            }
            if precision == "float32" {
                fixes.push("use `precision = f64`".to_string());
            }
            // `auto` has tried distances already.
            if crate::construct::distance_plan::distance_norm_for(net.norm).is_some()
                && net.construction == crate::spec::ConstructionChoice::Scores
            {
                fixes.push(
                    "use `construction = distances` (its rounding error does not grow with the data's scale)"
                        .to_string(),
                );
            }
            program
                .error_at(net.radius_span, "this radius", message)
                .with_help(fixes.join("; or "))
        }
        CompileError::Precision { precision, .. } => {
            let fix = if precision == "float32" {
                "use `precision = f64`, a smaller radius, or a larger width (a larger m separates the projected points more)"
            } else {
                "use a smaller radius or a larger width (a larger m separates the projected points more)"
            };
            program
                .error_at(net.span, "this network", message)
                .with_help(fix)
        }
        CompileError::TooLarge {
            width,
            precision,
            smallest,
            ..
        } => {
            let mut fixes = vec![match (net.output, net.radius) {
                (OutputKind::Label, _) => {
                    "use `output = logits` (the label output needs about one layer per point; the logits network's depth shrinks with width)".to_string()
                }
                (_, RadiusSpec::Max) => format!(
                    "lower `width` below {width} (`radius = max` uses the whole budget)"
                ),
                // Weights grow with width past the smallest network, so
                // a wider one is no fix once the planner has chosen it.
                _ if smallest => "ask for a smaller radius (a smaller m): this is already the smallest network the construction builds for this radius".to_string(),
                _ => "remove the `width` and `depth` budgets (with `width = auto` the planner takes the network with the fewest weights) or ask for a smaller radius (a smaller m)".to_string(),
            }];
            fixes.push("compile fewer points".to_string());
            if precision == "float64" {
                fixes.push("use `precision = f32` (half the bytes)".to_string());
            }
            program
                .error_at(net.span, "this network", message)
                .with_help(format!("{}; nothing was written", fixes.join(", or ")))
        }
        CompileError::Plan(PlanError::DirectionsTooManyPoints { .. }) => program
            .error_at(net.construction_span, "this construction", message)
            .with_help("use `construction = scores` (or `auto`), or `norm = l1` / `norm = linf`"),
        CompileError::Plan(PlanError::SelectionTooManyPoints { .. }) => program
            .error_at(net.construction_span, "this construction", message)
            .with_help("use `construction = scores` (or `auto`), or raise `width` / `depth`"),
        CompileError::Plan(PlanError::DistancesNeedPolyhedralNorm { .. }) => program
            .error_at(net.construction_span, "this construction", message)
            .with_help("use `construction = scores` (or `auto`) for this norm, or `norm = l1` / `norm = linf`"),
        CompileError::Assembly(_) => program.error_at(net.span, "this network", message),
        CompileError::LabelValues(e) => {
            let fix = if e.precision == "float32" {
                "use `precision = f64` (float64 carries these label values), or `output = logits` (one output per label, no label value in the weights)"
            } else {
                "use `output = logits` (one output per label, no label value in the weights), or relabel the classes with values closer in size"
            };
            program
                .error_at(net.span, "this network", message)
                .with_help(fix)
        }
    };
    error.with_kind(kind)
}

/// The `kind` of a compile error in `compile --json`: a short stable word
/// per variant.
fn compile_error_kind(e: &CompileError) -> &'static str {
    match e {
        CompileError::Plan(
            PlanError::RadiusAtLimit { .. }
            | PlanError::NoLimit
            | PlanError::RadiusNotCertified { .. },
        ) => "radius",
        CompileError::Plan(PlanError::WidthTooSmall { .. }) => "width",
        CompileError::Plan(PlanError::DepthTooSmall { .. }) | CompileError::TooDeep { .. } => {
            "depth"
        }
        CompileError::Plan(PlanError::Projection(_)) => "projection",
        CompileError::Plan(
            PlanError::DistancesNeedPolyhedralNorm { .. }
            | PlanError::DirectionsTooManyPoints { .. }
            | PlanError::SelectionTooManyPoints { .. },
        ) => "construction",
        CompileError::Precision { .. } | CompileError::Plan(PlanError::NotInArithmetic { .. }) => {
            "precision"
        }
        CompileError::TooLarge { .. } => "too-large",
        CompileError::LabelValues(_) => "labels",
        CompileError::Assembly(_) => "assembly",
    }
}

/// What [`write_outputs`] wrote for one network.
pub(crate) struct Emitted {
    /// The files and folders, in the order they were staged.
    pub(crate) written: Vec<PathBuf>,
    /// The certificate's radius and claimed arithmetics, when one was written.
    pub(crate) certified: Option<(f64, Vec<Semantics>)>,
}

/// Writes the files the network's `emit` blocks name and returns their
/// paths. All or nothing: every ONNX file, certificate and VNN-LIB folder of
/// the network is written under a temporary name, each certificate is
/// confirmed by the checker on the ONNX bytes as written, and only then are
/// they all renamed into place ([`Staging`]). On any failure nothing of this
/// network is left behind, and its older outputs stay as they were.
fn write_outputs(
    program: &Program,
    index: usize,
    compiled: &Compiled,
    data: &Dataset,
    out: Option<&Path>,
) -> Result<Emitted, SpecError> {
    let net = &program.networks[index];
    let emits: Vec<&EmitSpec> = program
        .emits
        .iter()
        .filter(|e| e.network == index)
        .collect();
    for emit in &emits {
        if emit.certificate.is_some() && emit.onnx.is_none() {
            return Err(program
                .error_at(
                    emit.span,
                    "this emit block",
                    "a certificate is about an ONNX file, and this `emit` block writes none"
                        .to_string(),
                )
                .with_help("add `onnx = \"NAME.onnx\"` to the same emit block")
                .with_kind("emit"));
        }
    }
    let mut onnx_paths: Vec<PathBuf> = emits
        .iter()
        .filter_map(|e| e.onnx.as_deref())
        .map(|p| output_path(program, p, out))
        .collect();
    if emits.is_empty() {
        match out {
            Some(dir) => onnx_paths.push(dir.join(format!("{}.onnx", net.name))),
            None => crate::progress::note(&format!(
                "network `{}` has no `emit` block: nothing written (add `emit {} {{ onnx = \"{}.onnx\" }}` or pass --out DIR)",
                net.name, net.name, net.name
            )),
        }
    }
    let mut staging = Staging::new();
    let mut certified = None;
    let options = onnx_options(program, net, compiled, data);
    for path in &onnx_paths {
        let temporary = staging.file(path).map_err(staging_error)?;
        write_onnx_file(&compiled.network, &options, &temporary)
            .map_err(|e| write_error(path, &e.to_string()))?;
    }
    for emit in &emits {
        let (Some(cert_path), Some(onnx_path)) = (&emit.certificate, &emit.onnx) else {
            continue;
        };
        let cert_path = output_path(program, cert_path, out);
        let onnx_path = output_path(program, onnx_path, out);
        let onnx_temporary = staging
            .temporary_of(&onnx_path)
            .expect("every emitted ONNX file is staged above")
            .to_path_buf();
        let cert_temporary = staging.file(&cert_path).map_err(staging_error)?;
        let model = StagedModel {
            bytes_at: &onnx_temporary,
            named: &onnx_path,
        };
        let why = match certify(
            program,
            index,
            compiled,
            data,
            model,
            &cert_path,
            &cert_temporary,
        )? {
            Ok(c) => {
                announce(&net.name, &c, &cert_path);
                certified.get_or_insert((c.radius, c.semantics.clone()));
                continue;
            }
            Err(why) => why,
        };
        return Err(program
                .error_at(
                    emit.span,
                    "this emit block",
                    format!(
                        "no certificate can be made for network `{}`: {why}",
                        net.name
                    ),
                )
                .with_help(format!(
                    "remove `certificate` from this emit block to write the ONNX file alone; nothing was written for `{}`",
                    net.name
                ))
                .with_kind("certificate"));
    }
    for emit in &emits {
        if let Some(dir) = &emit.vnnlib {
            let dir = output_path(program, dir, out);
            // No more planted instances than differently-labelled pairs
            // (the same bound as `robmem instances --unsafe`).
            let pairs = differently_labelled_pairs(&data.class_sizes());
            let planted = emit
                .unsafe_instances
                .or(emit.sample.map(default_planted))
                .unwrap_or(0);
            let suite = Suite {
                sample: emit.sample,
                seed: emit.seed,
                total_timeout: emit.total_timeout,
                hard: emit.hard,
                domain: emit.domain.map(|(d, _)| d),
            };
            if let Some((domain, span)) = emit.domain {
                check_domain(program, data, domain, Some(span))?;
            }
            write_vnnlib(
                &mut staging,
                program,
                index,
                compiled,
                data,
                &dir,
                planted.min(pairs),
                DEFAULT_TIMEOUT_SECONDS,
                suite,
            )
            .map_err(|e| place_at(program, emit.span, e))?;
        }
    }
    let written = staging.commit().map_err(staging_error)?;
    Ok(Emitted { written, certified })
}

/// A staging error (an output that cannot be written) as a diagnostic.
pub(crate) fn staging_error(e: StagingError) -> SpecError {
    write_error(&e.path, &e.source.to_string())
}

fn note(message: &str) {
    crate::progress::note(message);
}

/// The ONNX options of a network: its precision, output, metadata and name.
pub(crate) fn onnx_options(
    program: &Program,
    net: &NetworkSpec,
    compiled: &Compiled,
    data: &Dataset,
) -> OnnxOptions {
    OnnxOptions {
        precision: net.precision,
        output: net.output,
        metadata: metadata(program, net, compiled, data),
        graph_name: net.name.clone(),
    }
}

/// An ONNX file being written: its bytes are at `bytes_at` (a temporary
/// name) and it will be renamed to `named`, the path the certificate records.
#[derive(Clone, Copy)]
pub(crate) struct StagedModel<'a> {
    /// Where the bytes are.
    pub(crate) bytes_at: &'a Path,
    /// The path the certificate records.
    pub(crate) named: &'a Path,
}

/// Makes the certificate of network `index` about `model`
/// (specs/certificate.md), to be renamed to `cert_path`, writes it to
/// `cert_temporary`. `Ok(Err(why))` for a
/// network certificates do not cover (nothing written).
pub(crate) fn certify(
    program: &Program,
    index: usize,
    compiled: &Compiled,
    data: &Dataset,
    model: StagedModel<'_>,
    cert_path: &Path,
    cert_temporary: &Path,
) -> Result<Result<Certificate, String>, SpecError> {
    let net = &program.networks[index];
    let request = CertificateRequest {
        network: &net.name,
        program: &compiled.program,
        layers: &compiled.network,
        data,
        spec_path: &program.path,
        onnx_path: model.bytes_at,
        certificate_path: cert_path,
        // One certified radius per network: the certificate states the
        // radius the summary, the ONNX metadata and the instances use.
        search_up_to: None,
    };
    let certifying = crate::progress::phase("certificate", None);
    let certified = make_certificate(&request);
    certifying.finish();
    let mut certified = match certified {
        Ok(c) => c,
        Err(CertificateError::Unsupported(why)) => return Ok(Err(why)),
        Err(CertificateError::Rejected(why)) => {
            return Err(SpecError::new(format!(
                "the checker does not confirm the network robmem compiled for `{}`: {why}",
                net.name
            ))
            .with_help(format!(
                "this is a defect of robmem: please report it with the spec; nothing was written for `{}`",
                net.name
            )).with_kind("certificate"))
        }
        Err(CertificateError::Refused(why)) => {
            return Err(program
                .error_at(
                    net.span,
                    "this network",
                    format!("no certificate for `{}`: {why}", net.name),
                )
                .with_help(format!(
                    "nothing was written for `{}`: without `certificate` in its emit block the ONNX file alone is written",
                    net.name
                )).with_kind("certificate"))
        }
        Err(e @ CertificateError::Io { .. }) => return Err(write_error(cert_path, &e.to_string())),
        Err(e) => {
            return Err(SpecError::new(format!(
                "internal error: the certificate of `{}` was not written: {e}",
                net.name
            ))
            .with_help(format!(
                "this is a robmem bug, please report it with the spec and the data; nothing was written for `{}`",
                net.name
            )).with_kind("certificate"))
        }
    };
    let base = cert_path.parent().unwrap_or(Path::new(""));
    certified.certificate.model.path = relative_path(base, model.named);
    for (semantics, why) in &certified.not_claimed {
        errln!(
            "warning: network `{}`: the certificate does not claim {semantics} evaluation: {why}",
            net.name
        );
    }
    staging::guarded(|| std::fs::write(cert_temporary, certified.certificate.to_json()))
        .map_err(|e| write_error(cert_path, &e.to_string()))?;
    Ok(Ok(certified.certificate))
}

/// The `note:` line saying what the certificate `c` of network `name`
/// claims, written at `path`.
fn announce(name: &str, c: &Certificate, path: &Path) {
    let names: Vec<&str> = c.semantics.iter().map(|s| s.name()).collect();
    note(&format!(
        "certificate for `{name}` ({}): radius {} ({}), holds in {}",
        path.display(),
        show(c.radius),
        c.norm,
        if names.is_empty() {
            "no arithmetic".to_string()
        } else {
            names.join(", ")
        }
    ));
}

/// Stages the VNN-LIB instance folder `dir` of network `index`
/// (specs/vnnlib.md) with `planted` not-robust instances, and its
/// certificate, in `staging`: the folder appears at `dir` when the staging
/// is committed, complete with its certificate, or not at all.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_vnnlib(
    staging: &mut Staging,
    program: &Program,
    index: usize,
    compiled: &Compiled,
    data: &Dataset,
    dir: &Path,
    planted: usize,
    timeout_seconds: u32,
    suite: Suite,
) -> Result<Written, SpecError> {
    let net = &program.networks[index];
    let options = onnx_options(program, net, compiled, data);
    let onnx =
        write_onnx(&compiled.network, &options).map_err(|e| write_error(dir, &e.to_string()))?;
    let set = InstanceSet {
        name: net.name.clone(),
        points: data.points.view(),
        labels: &data.labels,
        outputs: Outputs::new(net.output, &data.classes.values),
        norm: net.norm,
        radius: compiled.program.radius,
        network: &compiled.network,
        precision: net.precision,
        onnx: &onnx,
        planted,
        timeout_seconds,
        suite,
    };
    replaceable_folder(dir).map_err(|why| {
        write_error(dir, &why).with_help(
            "robmem replaces only folders it made: choose another folder, or move this one away yourself",
        )
    })?;
    let temporary = staging.folder(dir).map_err(staging_error)?;
    let manifest = serde_json::json!({
        "made_by": format!("robmem {}", env!("CARGO_PKG_VERSION")),
        "network": net.name,
        "about": "robmem replaces this folder on its next run; it refuses to replace a folder without this file",
    });
    staging::guarded(|| std::fs::write(temporary.join(FOLDER_MANIFEST), format!("{manifest:#}\n")))
        .map_err(|e| write_error(dir, &e.to_string()))?;
    // The folder's certificate of its own ONNX copy, at the instances'
    // radius, is made inside the folder being built (a sibling of `dir`, so
    // every relative path it records is the one it will have inside `dir`);
    // its margins back the planted witnesses (specs/construction.md), and
    // the robust instances' answer (`unsat`) rests on its real-arithmetic
    // claim, checked by `robmem verify DIR/NAME.cert.json`.
    let mut failure = None;
    let mut real = true;
    let written = write_instances_with(&temporary, &set, |root| {
        let onnx_copy = root.join("onnx").join(format!("{}.onnx", net.name));
        let cert_name = format!("{}.cert.json", net.name);
        let cert_path = root.join(&cert_name);
        let model = StagedModel {
            bytes_at: &onnx_copy,
            named: &onnx_copy,
        };
        match certify(
            program, index, compiled, data, model, &cert_path, &cert_path,
        ) {
            Ok(Ok(c)) => {
                announce(&net.name, &c, &dir.join(&cert_name));
                real = c.semantics.contains(&Semantics::Real);
                Ok(Some(Backing::from_certificate(&c, &cert_name)))
            }
            Ok(Err(why)) => {
                note(&format!(
                    "no certificate written in {} for `{}`: {why}",
                    dir.display(),
                    net.name
                ));
                Ok(None)
            }
            Err(e) => {
                let message = e.to_string();
                failure = Some(e);
                Err(VnnlibError::Certificate(message))
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let written = written.map_err(|e| match e {
        VnnlibError::Io { path, source } => write_error(Path::new(&path), &source.to_string()),
        VnnlibError::Suite(why) => SpecError::new(format!(
            "cannot write the VNN-LIB suite of network `{}` to {}: {why}",
            net.name,
            dir.display()
        ))
        .with_help("change `sample`, `unsafe`, `hard` or `total_timeout` (or --sample, --unsafe, --hard, --total-timeout)")
        .with_kind("emit"),
        e @ (VnnlibError::Radius(_) | VnnlibError::Certificate(_)) => SpecError::new(format!(
            "cannot write VNN-LIB instances of network `{}` to {}: {e}",
            net.name,
            dir.display()
        ))
        .with_help("a data set with one label has no robustness property to verify: remove `vnnlib` from its emit block"),
    })?;
    if written.planted_missing > 0 {
        note(&format!(
            "network `{}`: `unsafe = {planted}` asks for more planted instances than there are differently-labelled pairs with a float32 witness in the certified ball; wrote {}",
            net.name, written.planted
        ));
    }
    if !real {
        errln!(
            "warning: network `{}`: the checker does not confirm the robust instances in {} (no real-arithmetic claim): do not rely on their `unsat` answers",
            net.name,
            dir.display()
        );
    }
    Ok(Written {
        dir: dir.to_path_buf(),
        ..written
    })
}

/// An output that cannot be written, named by its full path (exit 2).
pub(crate) fn write_error(path: &Path, reason: &str) -> SpecError {
    // The full path: a relative one depends on the folder robmem ran in.
    let full = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    SpecError::new(format!("cannot write {}: {reason}", full.display()))
        .with_category(Category::Io)
        .with_help("check that the folder is writable, or choose another place with --out DIR")
}

/// The ONNX metadata properties (specs/onnx.md).
fn metadata(
    program: &Program,
    net: &NetworkSpec,
    compiled: &Compiled,
    data: &Dataset,
) -> Vec<(String, String)> {
    let labels = serde_json::to_string(&data.classes.values).expect("labels serialise");
    let hash = Sha256::digest(program.source.as_bytes());
    let output = match net.output {
        OutputKind::Logits => "logits",
        OutputKind::Label => "label",
    };
    vec![
        ("robmem.version".into(), env!("CARGO_PKG_VERSION").into()),
        ("robmem.network".into(), net.name.clone()),
        ("robmem.spec_sha256".into(), hex(&hash)),
        ("robmem.norm".into(), net.norm.to_string()),
        (
            "robmem.radius".into(),
            format!("{}", compiled.program.radius),
        ),
        ("robmem.output".into(), output.into()),
        ("robmem.labels".into(), labels),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `--json` line: the summary plus the files written, and the
/// certificate's radius and arithmetics (`null` without a certificate).
fn summary_json(summary: &Summary, emitted: &Emitted) -> serde_json::Value {
    let mut value = serde_json::to_value(summary).expect("summary serialises");
    value["written"] = emitted
        .written
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .into();
    let (radius, arithmetics) = match &emitted.certified {
        Some((radius, semantics)) => (
            serde_json::json!(radius),
            serde_json::json!(semantics.iter().map(|s| s.name()).collect::<Vec<_>>()),
        ),
        None => (serde_json::Value::Null, serde_json::Value::Null),
    };
    value["certified_radius"] = radius;
    value["arithmetics"] = arithmetics;
    value
}

pub(crate) fn summary_text(s: &Summary, report: &NetworkReport, emitted: &Emitted) -> String {
    let opt = |x: Option<f64>| x.map_or("infinite".to_string(), show);
    let total: f64 = s.seconds.iter().map(|p| p.seconds).sum();
    let phases: Vec<String> = s
        .seconds
        .iter()
        .map(|p| format!("{} {:.3}", p.phase, p.seconds))
        .collect();
    let mut out = format!(
        "network {} (data {}): compiled in {total:.3} s\n\
         \x20 data        {} points, dimension {}, {} labels\n\
         \x20 separation  delta = {} ({}), limit delta/2 = {}\n\
         \x20 radius      {} = {} of the limit\n\
         \x20 construction {} ({})\n\
         \x20 projection  {}, m = {}{}\n\
         \x20 network     width {}, depth {}, {} parameters\n\
         \x20 seconds     {}\n",
        s.network,
        report.dataset,
        s.points,
        s.dim,
        s.labels,
        opt(s.delta),
        s.norm,
        opt(s.limit),
        opt(s.radius),
        opt(s.ratio),
        s.construction,
        s.construction_reason,
        s.projection,
        s.m,
        if s.draws > 1 {
            format!(" ({} random draws)", s.draws)
        } else {
            String::new()
        },
        s.width,
        s.depth,
        s.parameters,
        phases.join(", "),
    );
    if let Some((radius, semantics)) = &emitted.certified {
        let names: Vec<&str> = semantics.iter().map(|s| s.name()).collect();
        out += &format!(
            "  certified   radius {} in {}\n",
            show(*radius),
            if names.is_empty() {
                "no arithmetic".to_string()
            } else {
                names.join(", ")
            }
        );
    }
    for path in &emitted.written {
        out += &format!("  wrote       {}\n", path.display());
    }
    out
}

/// A suite error (kind `emit`, no place yet) pointed at the emit block
/// that asked for the suite; other errors unchanged.
fn place_at(program: &Program, span: miette::SourceSpan, e: SpecError) -> SpecError {
    if e.kind() != Some("emit") || !e.labels_list().is_empty() {
        return e;
    }
    let mut placed = program.error_at(span, "this emit block", e.message().to_string());
    if let Some(help) = e.help_text() {
        placed = placed.with_help(help.to_string());
    }
    placed.with_kind("emit")
}

/// Checks that the input domain `[lo, hi]` contains every coordinate of
/// every data point (the robust boxes are clipped to it around the points):
/// an error (kind `emit`, exit 1) names the first point outside, where it
/// comes from, the coordinate and its value, at `span` (the emit block's
/// `domain`) when there is one.
pub(crate) fn check_domain(
    program: &Program,
    data: &Dataset,
    (lo, hi): (f64, f64),
    span: Option<miette::SourceSpan>,
) -> Result<(), SpecError> {
    let mut outside = data
        .points
        .rows()
        .into_iter()
        .enumerate()
        .flat_map(|(i, row)| {
            row.iter()
                .enumerate()
                .filter(|&(_, &v)| !(lo <= v && v <= hi))
                .map(move |(c, &v)| (i, c, v))
                .collect::<Vec<_>>()
        });
    let Some((i, c, v)) = outside.next() else {
        return Ok(());
    };
    let more = outside.count();
    let place = data
        .provenance
        .describe(i)
        .map_or(String::new(), |p| format!(" ({p})"));
    let others = if more > 0 {
        format!(", and {more} more coordinates are outside it")
    } else {
        String::new()
    };
    let message = format!(
        "data point {i}{place} has coordinate {c} = {v}, outside the domain [{lo}, {hi}]{others}"
    );
    let (min, max) = data
        .points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let help = format!(
        "the domain must contain every data point (the data's coordinates range over [{min}, {max}]): widen it, or fix the point"
    );
    let error = match span {
        Some(span) => program.error_at(span, "does not contain every data point", message),
        None => SpecError::new(message),
    };
    Err(error.with_help(help).with_kind("emit"))
}
