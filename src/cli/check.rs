//! `robmem check FILE.rmem [--json]`: parse and resolve the spec, load every
//! data set, and report per network the data's separation delta_p, the limit
//! delta_p / 2 and whether the requested radius is below it.

use super::console::{out, outln};
use super::print_diagnostic;
use crate::analysis::report::{check_program, show, NetworkReport};
use crate::construct::reach::{reach, Reach};
use crate::resolve::load_program;
use crate::spec::RadiusSpec;
use clap::Args;
use std::path::PathBuf;

/// The long help of `robmem check`.
pub const LONG_ABOUT: &str = "Check a spec without compiling it.

Parses and resolves FILE (every error is reported with its file:line:column),
loads every data set, and prints for each network: the number of points N, the
dimension d, the labels and their class sizes, the separation delta_p (the
smallest l_p distance between differently-labelled points) with the pair that
attains it, the limit delta_p/2, and whether the requested radius is below the
limit. No function at all can robustly memorize the data at a radius of
delta_p/2 or more, so such a spec fails the check.

It also says what each construction reaches, as a fraction of the limit, in
float32 and float64: the distance construction (l1, l2, linf) exactly as
`radius = max` plans it, the score construction as an estimate (the identity
map in real arithmetic; compile searches projections and bounds rounding).";

/// The text after the options in `robmem check --help`.
pub const AFTER_HELP: &str =
    "Exit codes: 0 ok; 1 invalid spec or failed check; 2 unreadable file or usage error.

Examples:
  robmem check examples/xor.rmem
  robmem check examples/blobs.rmem --json";

/// Arguments of `robmem check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The spec file (`.rmem`).
    pub file: PathBuf,
    /// Print one JSON object per network, one per line (JSON Lines), instead
    /// of the text report. Keys: network, points, dim, labels, norm, delta,
    /// limit, radius (plus dataset, class_sizes, pair, ok, and reach: per
    /// construction, float32, float64, exact, how). Diagnostics still
    /// go to standard error.
    #[arg(long)]
    pub json: bool,
}

/// Runs `check` and returns the exit code.
pub fn run(args: &CheckArgs) -> i32 {
    let program = match load_program(&args.file) {
        Ok(p) => p,
        Err(e) => {
            print_diagnostic(&e);
            return e.exit_code();
        }
    };
    let outcome = match check_program(&program) {
        Ok(o) => o,
        Err(e) => {
            print_diagnostic(&e);
            return e.exit_code();
        }
    };
    if program.networks.is_empty() {
        crate::progress::note(&format!(
            "{} declares no network; its {} data set(s) load correctly",
            args.file.display(),
            program.datasets.len()
        ));
    }
    for report in &outcome.reports {
        let net = &program.networks[report.network];
        let reaches = reach(
            &outcome.datasets[net.data],
            net.norm,
            report.delta,
            net.output,
        );
        if args.json {
            let mut value = report.to_json();
            value["reach"] = reaches
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "construction": r.construction,
                        "float32": r.float32,
                        "float64": r.float64,
                        "exact": r.exact,
                        "how": r.how,
                    })
                })
                .collect::<Vec<_>>()
                .into();
            outln!("{value}");
        } else {
            out!("{}{}", text_report(report), reach_text(&reaches));
        }
    }
    for d in &outcome.diagnostics {
        print_diagnostic(d);
    }
    if outcome.passes() {
        0
    } else {
        1
    }
}

/// The `reach` lines: per construction, the fraction of the limit it
/// certifies in float32 and float64.
pub(crate) fn reach_text(reaches: &[Reach]) -> String {
    let fraction = |x: Option<f64>| x.map_or("none".to_string(), |x| format!("{x:.6}"));
    let mut out = String::new();
    for (i, r) in reaches.iter().enumerate() {
        out += &format!(
            "  {}{:<10} float32 {} / float64 {} of the limit ({})\n",
            if i == 0 {
                "reach       "
            } else {
                "            "
            },
            r.construction,
            fraction(r.float32),
            fraction(r.float64),
            r.how
        );
    }
    out
}

/// The human-readable report on one network.
pub fn text_report(r: &NetworkReport) -> String {
    const MAX_CLASSES: usize = 12;
    let mut classes: Vec<String> = r
        .class_sizes
        .iter()
        .take(MAX_CLASSES)
        .map(|(label, n)| format!("{label} ({n} point{})", if *n == 1 { "" } else { "s" }))
        .collect();
    if r.class_sizes.len() > MAX_CLASSES {
        classes.push(format!("... {} more", r.class_sizes.len() - MAX_CLASSES));
    }
    let mut out = format!(
        "network {} (data {}, norm {})\n  points      {}\n  dimension   {}\n  labels      {}: {}\n",
        r.name,
        r.dataset,
        r.norm,
        r.points,
        r.dim,
        r.class_sizes.len(),
        classes.join(", ")
    );
    match &r.pair {
        Some((a, b)) => {
            out += &format!(
                "  separation  delta = {} between {a} and {b}\n  limit       delta/2 = {}\n",
                show(r.delta),
                show(r.limit)
            );
        }
        None => out += "  separation  none: a single label (the network would be a constant)\n",
    }
    let radius = match r.radius {
        RadiusSpec::Max => "max".to_string(),
        RadiusSpec::Absolute(x) => show(x),
        RadiusSpec::OfLimit(f) => format!("{} of limit = {}", show(f), show(f * r.limit)),
    };
    let verdict = if r.passes() {
        "ok, below the limit"
    } else {
        "NOT below the limit"
    };
    out += &format!("  radius      {radius}: {verdict}\n");
    out
}
