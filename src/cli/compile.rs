//! `robmem compile FILE.rmem [--network NAME] [--out DIR] [--json] [--emit ir|layers]`:
//! check the spec, compile each network and write the files its `emit`
//! block names.

use super::print_diagnostic;
use crate::analysis::report::{check_networks, show, NetworkReport};
use crate::backend::certificate::{
    make_certificate, save_certificate, CertificateError, CertificateRequest,
};
use crate::backend::onnx::{save_onnx, write_onnx, OnnxOptions};
use crate::backend::report::layers_report;
use crate::backend::vnnlib::{
    write_instances, InstanceSet, Outputs, VnnlibError, Written, DEFAULT_TIMEOUT_SECONDS,
};
use crate::construct::plan::PlanError;
use crate::data::Dataset;
use crate::diagnostics::{did_you_mean, display_name, Category, SpecError};
use crate::pipeline::{
    compile_with, CompileError, CompileOptions, Compiled, Phase, Summary, ONNX_MAX_BYTES,
};
use crate::resolve::load_program;
use crate::spec::{EmitSpec, NetworkSpec, OutputKind, Program, RadiusSpec};
use crate::verify::certificate::{Certificate, Semantics};
use clap::{Args, ValueEnum};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The long help of `robmem compile`.
pub const LONG_ABOUT: &str = "Compile the networks of a spec into ONNX files.\n\n\
For each network: check the spec (as `robmem check` does), choose a projection
and a radius within the width and depth budgets, build the network of
construction.md (projection, scores, running maxima or label gadget), optimise
it, and write the files its `emit` block names (ONNX, certificates, VNN-LIB
folders). A summary per network reports
N, d, C, the separation delta_p, the limit delta_p/2, the certified radius and
its ratio to the limit, the projection and its dimension m, the network's
width, depth and parameters, and the seconds spent per phase.

A `certificate = \"FILE\"` entry writes a certificate (specs/certificate.md)
whose claims the compiler computes with the independent checker on the ONNX
file as written; `robmem verify FILE` re-checks it.

A `vnnlib = \"DIR\"` entry writes a folder of known-answer verification
instances (VNN-LIB properties, instances.csv, expected.csv; see `robmem
instances --help` and specs/vnnlib.md), with `unsafe = K` planted ones.

Output paths in `emit` blocks are relative to the spec file's folder, or to
--out DIR when given. Files are written to a temporary name and renamed, so
an interrupted run leaves no half-written file.";

/// The text after the options in `robmem compile --help`.
pub const AFTER_HELP: &str = "Exit codes: 0 ok; 1 invalid spec, radius not achievable or not certifiable \
within the budgets; 2 unreadable input, unwritable output, or usage error.\n\n\
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
    /// Print one JSON object per network and line (JSON Lines) with the keys
    /// network, points, dim, labels, norm, delta, limit, radius, ratio,
    /// projection, m, width, depth, parameters, seconds (plus draws,
    /// slots_per_label, delta_projected, gamma, written).
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

/// Runs `compile` and returns the exit code.
pub fn run(args: &CompileArgs) -> i32 {
    match compile_all(args) {
        Ok(()) => 0,
        Err(e) => {
            print_diagnostic(&e);
            e.exit_code()
        }
    }
}

fn compile_all(args: &CompileArgs) -> Result<(), SpecError> {
    let writes = match (&args.emit, &args.out) {
        (Some(_), _) => OnnxWrites::Never,
        (None, Some(_)) => OnnxWrites::Always,
        (None, None) => OnnxWrites::AsEmitted,
    };
    for_each_compiled(
        &args.file,
        args.network.as_deref(),
        writes,
        |program, index, compiled, data, report| {
            match args.emit {
                Some(Listing::Ir) => {
                    print!("{}", compiled.program);
                    return Ok(());
                }
                Some(Listing::Layers) => {
                    print!("{}", layers_report(&compiled.network));
                    return Ok(());
                }
                None => {}
            }
            let write_started = Instant::now();
            let written = write_outputs(program, index, compiled, data, args.out.as_deref())?;
            compiled.summary.seconds.push(Phase {
                phase: "write",
                seconds: write_started.elapsed().as_secs_f64(),
            });
            if args.json {
                println!("{}", summary_json(&compiled.summary, &written));
            } else {
                print!("{}", summary_text(&compiled.summary, report, &written));
            }
            Ok(())
        },
    )
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
/// declaration. Errors (invalid spec, radius not certifiable) stop at the
/// first network that fails, before any is compiled when the check fails.
pub(crate) fn for_each_compiled(
    file: &Path,
    network: Option<&str>,
    writes: OnnxWrites,
    mut f: impl FnMut(&Program, usize, &mut Compiled, &Dataset, &NetworkReport) -> Result<(), SpecError>,
) -> Result<(), SpecError> {
    let started = Instant::now();
    let program = load_program(file)?;
    let selected = select(&program, network)?;
    let outcome = check_networks(&program, &selected)?;
    let load_seconds = started.elapsed().as_secs_f64();
    for d in &outcome.diagnostics {
        print_diagnostic(d);
    }
    if let Some(report) = outcome.reports.iter().find(|r| !r.passes()) {
        return Err(SpecError::new(format!(
            "network `{}` cannot be compiled: see the error above",
            report.name
        )));
    }
    for report in &outcome.reports {
        let index = report.network;
        let net = &program.networks[index];
        let data = &outcome.datasets[net.data];
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
        let mut compiled = compile_with(data, net, &separation, &options)
            .map_err(|e| compile_error(&program, net, report, e))?;
        compiled.summary.seconds.insert(
            0,
            Phase {
                phase: "load",
                seconds: load_seconds,
            },
        );
        f(&program, index, &mut compiled, data, report)?;
    }
    Ok(())
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
fn compile_error(
    program: &Program,
    net: &NetworkSpec,
    report: &NetworkReport,
    e: CompileError,
) -> SpecError {
    let message = format!("cannot compile network `{}`: {e}", net.name);
    match e {
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
            width, precision, ..
        } => {
            let mut fixes = vec![match (net.output, net.radius) {
                (OutputKind::Label, _) => {
                    "use `output = logits` (the label output needs about one layer per point; the logits network's depth shrinks with width)".to_string()
                }
                (_, RadiusSpec::Max) => format!(
                    "lower `width` below {width} (`radius = max` uses the whole budget)"
                ),
                _ => format!(
                    "raise `width` above {width} (a wider network is shallower) or ask for a smaller radius (a smaller m)"
                ),
            }];
            fixes.push("compile fewer points".to_string());
            if precision == "float64" {
                fixes.push("use `precision = f32` (half the bytes)".to_string());
            }
            program
                .error_at(net.span, "this network", message)
                .with_help(format!("{}; nothing was written", fixes.join(", or ")))
        }
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
    }
}

/// Where an `emit` path goes: as resolved, or re-rooted under `--out DIR`.
fn output_path(program: &Program, path: &Path, out: Option<&Path>) -> PathBuf {
    let Some(out) = out else {
        return path.to_path_buf();
    };
    let spec_dir = program.path.parent().unwrap_or(Path::new(""));
    match path.strip_prefix(spec_dir) {
        Ok(relative) => out.join(relative),
        Err(_) => out.join(path.file_name().unwrap_or(path.as_os_str())),
    }
}

/// Writes the files the network's `emit` blocks name and returns their paths.
fn write_outputs(
    program: &Program,
    index: usize,
    compiled: &Compiled,
    data: &Dataset,
    out: Option<&Path>,
) -> Result<Vec<PathBuf>, SpecError> {
    let net = &program.networks[index];
    let emits: Vec<&EmitSpec> = program
        .emits
        .iter()
        .filter(|e| e.network == index)
        .collect();
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
    let options = onnx_options(program, net, compiled, data);
    for path in &onnx_paths {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| write_error(parent, &e.to_string()))?;
        }
        save_onnx(&compiled.network, &options, path)
            .map_err(|e| write_error(path, &e.to_string()))?;
    }
    let mut written = onnx_paths;
    for emit in &emits {
        let Some(cert_path) = &emit.certificate else {
            continue;
        };
        let cert_path = output_path(program, cert_path, out);
        let Some(onnx_path) = emit.onnx.as_deref().map(|p| output_path(program, p, out)) else {
            return Err(program
                .error_at(
                    emit.span,
                    "this emit block",
                    "a certificate is about an ONNX file, and this `emit` block writes none"
                        .to_string(),
                )
                .with_help("add `onnx = \"NAME.onnx\"` to the same emit block"));
        };
        if let Some(parent) = cert_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| write_error(parent, &e.to_string()))?;
        }
        let search_up_to = matches!(net.radius, RadiusSpec::Max).then(|| {
            let p = &compiled.program;
            p.scores.delta_prime / (2.0 * p.projection.norm_bound) * 1.01
        });
        if certify(
            program,
            index,
            compiled,
            data,
            &onnx_path,
            &cert_path,
            search_up_to,
        )?
        .is_some()
        {
            written.push(cert_path);
        }
    }
    for emit in &emits {
        if let Some(dir) = &emit.vnnlib {
            let dir = output_path(program, dir, out);
            let w = write_vnnlib(
                program,
                index,
                compiled,
                data,
                &dir,
                emit.unsafe_instances,
                DEFAULT_TIMEOUT_SECONDS,
            )?;
            written.push(w.dir);
        }
    }
    Ok(written)
}

fn note(message: &str) {
    crate::progress::note(message);
}

/// The ONNX options of a network: its precision, output, metadata and name.
fn onnx_options(
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

/// Writes the certificate of network `index` about the ONNX file
/// `onnx_path` to `cert_path` (specs/certificate.md), announcing what it
/// claims; `None` (with a note) for networks certificates do not cover.
fn certify(
    program: &Program,
    index: usize,
    compiled: &Compiled,
    data: &Dataset,
    onnx_path: &Path,
    cert_path: &Path,
    search_up_to: Option<f64>,
) -> Result<Option<Certificate>, SpecError> {
    let net = &program.networks[index];
    let request = CertificateRequest {
        network: &net.name,
        program: &compiled.program,
        layers: &compiled.network,
        data,
        spec_path: &program.path,
        onnx_path,
        certificate_path: cert_path,
        search_up_to,
    };
    let certifying = crate::progress::phase("certificate", None);
    let certified = make_certificate(&request);
    certifying.finish();
    let certified = match certified {
        Ok(c) => c,
        Err(CertificateError::Unsupported(why)) => {
            note(&format!(
                "no certificate written for `{}` ({}): {why}",
                net.name,
                cert_path.display()
            ));
            return Ok(None);
        }
        Err(e) => return Err(write_error(cert_path, &e.to_string())),
    };
    for (semantics, why) in &certified.not_claimed {
        eprintln!(
            "warning: network `{}`: the certificate does not claim {semantics} evaluation: {why}",
            net.name
        );
    }
    save_certificate(&certified.certificate, cert_path)
        .map_err(|e| write_error(cert_path, &e.to_string()))?;
    let c = certified.certificate;
    let names: Vec<&str> = c.semantics.iter().map(|s| s.name()).collect();
    note(&format!(
        "certificate for `{}`: radius {} ({}), holds in {}",
        net.name,
        show(c.radius),
        c.norm,
        if names.is_empty() {
            "no arithmetic".to_string()
        } else {
            names.join(", ")
        }
    ));
    Ok(Some(c))
}

/// Writes the VNN-LIB instance folder `dir` of network `index`
/// (specs/vnnlib.md) with `planted` not-robust instances.
pub(crate) fn write_vnnlib(
    program: &Program,
    index: usize,
    compiled: &Compiled,
    data: &Dataset,
    dir: &Path,
    planted: usize,
    timeout_seconds: u32,
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
    };
    let written = write_instances(dir, &set).map_err(|e| match e {
        VnnlibError::Io { path, source } => write_error(Path::new(&path), &source.to_string()),
        e @ VnnlibError::Radius(_) => SpecError::new(format!(
            "cannot write VNN-LIB instances of network `{}` to {}: {e}",
            net.name,
            dir.display()
        ))
        .with_help("a data set with one label has no robustness property to verify: remove `vnnlib` from its emit block"),
    })?;
    if written.planted_missing > 0 {
        note(&format!(
            "network `{}`: `unsafe = {planted}` asks for more planted instances than there are differently-labelled pairs; wrote {}",
            net.name, written.planted
        ));
    }
    // The robust instances' answer (`unsat`) rests on the real-arithmetic
    // claim: the folder gets a certificate of its own ONNX copy at the
    // instances' radius, checked by `robmem verify DIR/NAME.cert.json`.
    let onnx_copy = dir.join("onnx").join(format!("{}.onnx", net.name));
    let cert_path = dir.join(format!("{}.cert.json", net.name));
    if let Some(cert) = certify(program, index, compiled, data, &onnx_copy, &cert_path, None)? {
        if !cert.semantics.contains(&Semantics::Real) {
            eprintln!(
                "warning: network `{}`: the checker does not confirm the robust instances in {} (no real-arithmetic claim): do not rely on their `unsat` answers",
                net.name,
                dir.display()
            );
        }
    }
    Ok(written)
}

fn write_error(path: &Path, reason: &str) -> SpecError {
    SpecError::new(format!("cannot write {}: {reason}", path.display()))
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

/// The `--json` line: the summary plus the files written.
fn summary_json(summary: &Summary, written: &[PathBuf]) -> serde_json::Value {
    let mut value = serde_json::to_value(summary).expect("summary serialises");
    value["written"] = written
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .into();
    value
}

/// The human-readable summary of one network.
fn summary_text(s: &Summary, report: &NetworkReport, written: &[PathBuf]) -> String {
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
    for path in written {
        out += &format!("  wrote       {}\n", path.display());
    }
    out
}
