//! `robmem report SPEC [--network NAME] [--out FILE.html]`: compile the
//! spec's networks as `robmem compile` does and write one self-contained
//! HTML page with the check facts, the summaries, the pictures and the
//! certificates' claims (src/report).

use super::check::{reach_text, text_report};
use super::compile::{
    for_each_compiled, onnx_options, staging_error, summary_text, Emitted, Loaded, OnnxWrites,
};
use super::console::errln;
use super::outputs::check_report_output;
use super::print_diagnostic;
use super::sweep::compile_rows;
use crate::analysis::report::{show, NetworkReport};
use crate::backend::certificate::{
    make_certificate, CertificateError, CertificateRequest, Certified,
};
use crate::backend::onnx::write_onnx_file;
use crate::backend::staging::{self, Staging};
use crate::construct::reach::reach;
use crate::data::Dataset;
use crate::diagnostics::{Category, SpecError};
use crate::pipeline::{Compiled, Summary};
use crate::plot::Figure;
use crate::report::figures::{decision_regions, margin_histogram, overview, RegionRequest};
use crate::report::html::render;
use crate::report::{NetworkSection, Report};
use crate::spec::Program;
use crate::sweep::pictures;
use clap::Args;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// The long help of `robmem report`.
pub const LONG_ABOUT: &str =
    "Compile the networks of a spec and write one self-contained HTML page about them.\n\n\
For each network the page shows what `robmem check` prints, what `robmem
compile` prints, the claims of the network's certificate (made as `compile`
makes it, by the independent checker, on an ONNX file written to a temporary
place and removed again) and pictures: the decision regions with the data
points and their certified l_p balls (the data's plane for 2-D data, else a
2-D slice through the closest pair's first point) and a histogram of the
certified per-point margins. A spec with two networks or more also gets the
certified ratio against width and against N, and width and depth against N.

The page needs no network access: pictures are SVG inside the page (data:
URIs), there is no script, and its Content-Security-Policy forbids fetching
anything. Nothing else is written: the spec's `emit` blocks are ignored.";

/// The text after the options in `robmem report --help`.
pub const AFTER_HELP: &str = "Exit codes: 0 ok; 1 a network could not be compiled (the page shows why); \
2 unreadable input, unwritable output, or usage error.\n\n\
Examples:\n  robmem report examples/xor.rmem\n  robmem report examples/tour.rmem --out /tmp/tour.html";

/// Arguments of `robmem report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The spec file (`.rmem`).
    pub file: PathBuf,
    /// Report only this network (default: every network in the spec).
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,
    /// Where to write the page (default: the spec's name with `.report.html`,
    /// beside it). An existing file is replaced only when robmem wrote it.
    #[arg(long, value_name = "FILE.html")]
    pub out: Option<PathBuf>,
}

/// Runs `report` and returns the exit code.
pub fn run(args: &ReportArgs) -> i32 {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.file.with_extension("report.html"));
    let worst = std::cell::Cell::new(0);
    let report = RefCell::new(Report {
        spec: args.file.display().to_string(),
        ..Report::default()
    });
    let summaries = RefCell::new(Vec::<(String, Summary)>::new());
    let result = for_each_compiled(
        &args.file,
        args.network.as_deref(),
        OnnxWrites::Always,
        |program, _| check_report_output(program, &out),
        |_, _, _| Ok(()),
        |program, index, compiled, data, check| {
            let section = network_section(program, index, compiled, data, check, &out)?;
            report.borrow_mut().networks.push(section);
            summaries
                .borrow_mut()
                .push((check.dataset.clone(), compiled.summary.clone()));
            Ok(())
        },
        |program, index, error| {
            print_diagnostic(&error);
            worst.set(worst.get().max(error.exit_code()));
            report
                .borrow_mut()
                .failures
                .push((program.networks[index].name.clone(), error.render_plain()));
        },
    );
    let loaded = match result {
        Ok(loaded) => loaded,
        Err(e) => {
            print_diagnostic(&e);
            return e.exit_code();
        }
    };
    let mut report = report.into_inner();
    let summaries = summaries.into_inner();
    if summaries.len() >= 2 {
        match overview(&summaries) {
            Ok(figures) => report.overview = figures,
            Err(e) => errln!("warning: {e}"),
        }
    }
    match sweep_figures(&loaded, args.network.as_deref()) {
        Ok(sweeps) => report.sweeps = sweeps,
        Err(e) => {
            print_diagnostic(&e);
            worst.set(worst.get().max(e.exit_code()));
        }
    }
    match write_page(&out, &render(&report)) {
        Ok(()) => {
            crate::progress::note(&format!("wrote {}", out.display()));
            worst.get()
        }
        Err(e) => {
            print_diagnostic(&e);
            worst.get().max(e.exit_code())
        }
    }
}

/// The pictures of the spec's sweeps (of network `network` only, when
/// given): each combination compiled and certified as `robmem sweep` does,
/// with its ONNX files staged in the system's temporary folder.
fn sweep_figures(
    loaded: &Loaded,
    network: Option<&str>,
) -> Result<Vec<(String, Vec<Figure>)>, SpecError> {
    let program = &loaded.program;
    let sweeps: Vec<_> = program
        .sweeps
        .iter()
        .filter(|s| network.is_none_or(|n| s.name == n))
        .collect();
    if sweeps.is_empty() {
        return Ok(Vec::new());
    }
    let scratch = std::env::temp_dir();
    let mut figures = Vec::new();
    for sweep in sweeps {
        let rows = compile_rows(program, sweep, &loaded.datasets, &scratch);
        let drawn = pictures::kinds(sweep)
            .into_iter()
            .map(|kind| pictures::draw(kind, &rows))
            .collect::<Result<Vec<Figure>, _>>()
            .map_err(|e| SpecError::new(e.to_string()))?;
        figures.push((sweep.name.clone(), drawn));
    }
    Ok(figures)
}

/// Writes `page` to `out` through a staged temporary.
fn write_page(out: &Path, page: &str) -> Result<(), SpecError> {
    let mut staging = Staging::new();
    let temporary = staging.file(out).map_err(staging_error)?;
    staging::guarded(|| std::fs::write(&temporary, page)).map_err(|e| {
        SpecError::new(format!("cannot write {}: {e}", out.display()))
            .with_category(Category::Io)
            .with_help(
                "check that the folder is writable, or choose another file with --out FILE.html",
            )
    })?;
    staging.commit().map_err(staging_error)?;
    Ok(())
}

/// The page's section on network `index`.
fn network_section(
    program: &Program,
    index: usize,
    compiled: &Compiled,
    data: &Dataset,
    check: &NetworkReport,
    out: &Path,
) -> Result<NetworkSection, SpecError> {
    let net = &program.networks[index];
    let mut section = NetworkSection {
        name: net.name.clone(),
        check: text_report(check) + &reach_text(&reach(data, net.norm, check.delta, net.output)),
        ..NetworkSection::default()
    };
    let certified = match certify(program, index, compiled, data, out)? {
        Ok(c) => Some(c),
        Err(why) => {
            section.notes.push(format!("No certificate: {why}"));
            None
        }
    };
    let certificate = certified.as_ref().map(|c| &c.certificate);
    let emitted = Emitted {
        written: Vec::new(),
        certified: certificate.map(|c| (c.radius, c.semantics.clone())),
    };
    section.summary = timeless(&summary_text(&compiled.summary, check, &emitted));
    if let Some(c) = &certified {
        section.claims = claims(c);
        section.certificate_json = Some(c.certificate.to_json());
    }
    let plot_error = |e: crate::plot::PlotError| SpecError::new(e.to_string()).with_kind("plot");
    let regions = decision_regions(&RegionRequest {
        name: &net.name,
        network: &compiled.network,
        output: net.output,
        data,
        norm: net.norm,
        radius: certificate.map(|c| c.radius).or(compiled.summary.radius),
        centre: check.pair.as_ref().map_or(0, |(a, _)| a.index),
    })
    .map_err(plot_error)?;
    let margins = match certificate {
        Some(c) => margin_histogram(&net.name, c).map_err(plot_error)?,
        None => Err("no certificate, so no certified margins".into()),
    };
    for picture in [regions, margins] {
        match picture {
            Ok(figure) => section.figures.push(figure),
            Err(why) => section.notes.push(why),
        }
    }
    Ok(section)
}

/// The certificate of network `index` (made as `robmem compile` makes it,
/// on an ONNX file staged in the temporary folder and removed afterwards),
/// or why it has none.
fn certify(
    program: &Program,
    index: usize,
    compiled: &Compiled,
    data: &Dataset,
    out: &Path,
) -> Result<Result<Certified, String>, SpecError> {
    let net = &program.networks[index];
    let mut scratch = Staging::new();
    let model = std::env::temp_dir().join(format!("robmem-report-{}.onnx", net.name));
    let temporary = scratch.file(&model).map_err(staging_error)?;
    write_onnx_file(
        &compiled.network,
        &onnx_options(program, net, compiled, data),
        &temporary,
    )
    .map_err(|e| SpecError::new(e.to_string()).with_category(Category::Io))?;
    let certificate_path = out.with_file_name(format!("{}.cert.json", net.name));
    let made = make_certificate(&CertificateRequest {
        network: &net.name,
        program: &compiled.program,
        layers: &compiled.network,
        data,
        spec_path: &program.path,
        onnx_path: &temporary,
        certificate_path: &certificate_path,
        search_up_to: None,
    });
    drop(scratch);
    match made {
        Ok(mut c) => {
            // The ONNX file is gone: name it as `--out DIR` would write it.
            c.certificate.model.path = format!("{}.onnx", net.name);
            Ok(Ok(c))
        }
        Err(CertificateError::Unsupported(why) | CertificateError::Refused(why)) => Ok(Err(why)),
        Err(e) => Err(SpecError::new(format!(
            "the checker does not confirm the network robmem compiled for `{}`: {e}",
            net.name
        ))
        .with_help("this is a defect of robmem: please report it with the spec")
        .with_kind("certificate")),
    }
}

/// The certificate's claims as rows of the page.
fn claims(c: &Certified) -> Vec<(String, String)> {
    let cert = &c.certificate;
    let names: Vec<&str> = cert.semantics.iter().map(|s| s.name()).collect();
    let mut rows = vec![
        (
            "radius".to_string(),
            format!("{} in {}", show(cert.radius), cert.norm),
        ),
        (
            "holds in".to_string(),
            if names.is_empty() {
                "no arithmetic".to_string()
            } else {
                names.join(", ")
            },
        ),
        (
            "construction".to_string(),
            cert.construction
                .clone()
                .unwrap_or_else(|| "scores".to_string()),
        ),
        ("output".to_string(), cert.output.kind.clone()),
        (
            "data".to_string(),
            format!("{} points of dimension {}", cert.data.points, cert.data.dim),
        ),
        (
            "separation".to_string(),
            format!(
                "delta' = {}, projected radius {}, gamma = {}",
                show(cert.separation.delta_prime),
                show(cert.separation.projected_radius),
                show(cert.separation.gamma)
            ),
        ),
    ];
    for (semantics, margins) in &cert.points.margin {
        let least = margins.iter().copied().fold(f64::INFINITY, f64::min);
        if !margins.is_empty() {
            rows.push((
                format!("smallest margin ({})", semantics.name()),
                show(least),
            ));
        }
    }
    for (semantics, distances) in &cert.points.distance {
        let most = distances.iter().copied().fold(0.0, f64::max);
        rows.push((
            format!("largest output distance ({})", semantics.name()),
            format!(
                "{} (tolerance {})",
                show(most),
                cert.output.tolerance.map_or("none".into(), show)
            ),
        ));
    }
    for (semantics, why) in &c.not_claimed {
        rows.push((format!("not claimed: {semantics}"), why.clone()));
    }
    rows
}

/// `compile`'s summary without its timings, so that the page is the same
/// on every run.
fn timeless(summary: &str) -> String {
    summary
        .lines()
        .filter(|line| !line.trim_start().starts_with("seconds "))
        .map(|line| match line.find(": compiled in ") {
            Some(at) if line.ends_with(" s") => &line[..at],
            _ => line,
        })
        .fold(String::new(), |out, line| out + line + "\n")
}
