//! `robmem grade DIR RESULTS [--counterexamples DIR] [--json]`: a
//! verifier's answers on an instance folder compared with the known ones
//! (crate::grade). Exit 0 when no answer is wrong, 1 when one is, 2 on bad
//! input.

use super::console::{out, outln};
use super::print_diagnostic;
use crate::grade::{grade, Graded, Verdict};
use clap::Args;
use std::path::PathBuf;

/// The long help of `robmem grade`.
pub const LONG_ABOUT: &str = "\
Grade a verifier's answers on an instance folder written by `robmem compile`
(emit vnnlib) or `robmem instances`, whose answers are known: expected.csv
says `unsat` for the robust instances and `sat` for the planted ones.

RESULTS is the verifier's results in the VNN-COMP results CSV format, one row
per instance, no header needed:

  benchmark,onnx,vnnlib,prepare_time,result,run_time[,counterexample]
  robmem,onnx/net.onnx,vnnlib/net_point_0.vnnlib,0.1,unsat,1.9
  robmem,onnx/net.onnx,vnnlib/net_unsafe_0.vnnlib,0.1,sat,0.4

result is sat, unsat, timeout, unknown or error (any case; `holds` and
`violated` are read as unsat and sat, as VNN-COMP 2021 wrote them, and the
VNN-COMP scoring's words such as run_instance_timeout are accepted). The
vnnlib path may be relative to DIR or end in such a path
(./benchmarks/robmem/vnnlib/net_point_0.vnnlib). A header row, blank lines
and `#` lines are skipped.

Where a row answers sat, its counterexample is checked when one is given:
as a seventh field (a file relative to RESULTS' folder), or in the folder
--counterexamples as STEM.counterexample, ONNXSTEM_STEM.counterexample or
STEM.json (STEM: the property file's name without .vnnlib). A file holds
`((X_0 v) (X_1 v) ... (Y_0 v) ...)` (the VNN-COMP format, optionally after
a line `sat`) or robmem's JSON (its `input` array). The input must lie in the
property's box exactly, and the network (DIR/onnx) must violate the property
there, evaluated in the model's precision (float32 as stored) or in real
arithmetic on the stored weights (interval-enclosed).

Verdicts: correct; WRONG (unsat on a planted instance, sat on a robust one,
a counterexample outside the box or one that does not violate the property);
unknown, timeout, error (the verifier's own); missing (no row). A sat on a
planted instance without a counterexample is correct, with a note. See
specs/vnnlib.md, \"Grading\".";

/// The examples and exit codes of `robmem grade`.
pub const AFTER_HELP: &str = "\
Exit codes: 0 no wrong answer (timeouts, unknowns and missing rows included);
1 some answer is WRONG; 2 bad input (a missing file, a malformed results
file, with its line and column, a row naming no instance of DIR), or usage
error.

Examples:
  robmem instances examples/tour.rmem --unsafe 2
  robmem grade examples/out/xor-vnnlib marabou.csv
  robmem grade DIR results.csv --counterexamples ce/ --json";

/// Arguments of `robmem grade`.
#[derive(Debug, Args)]
pub struct GradeArgs {
    /// The instance folder (holding expected.csv, instances.csv, onnx/ and
    /// vnnlib/).
    pub dir: PathBuf,
    /// The verifier's results CSV.
    pub results: PathBuf,
    /// A folder of counterexample files named after the instances (see
    /// above).
    #[arg(long, value_name = "DIR")]
    pub counterexamples: Option<PathBuf>,
    /// Print one JSON object per instance and a last `totals` object, one
    /// per line (JSON Lines), instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `robmem grade` and returns the exit code.
pub fn run(args: &GradeArgs) -> i32 {
    let graded = match grade(&args.dir, &args.results, args.counterexamples.as_deref()) {
        Ok(g) => g,
        Err(e) => {
            print_diagnostic(&e);
            return 2;
        }
    };
    if args.json {
        for g in &graded {
            outln!("{}", instance_json(g));
        }
        outln!("{}", serde_json::json!({ "totals": totals_json(&graded) }));
    } else {
        out!("{}", table(&graded));
    }
    if graded.iter().any(|g| g.verdict == Verdict::Wrong) {
        1
    } else {
        0
    }
}

fn seconds(t: Option<f64>) -> String {
    t.map_or("-".to_string(), |t| format!("{t:.2}"))
}

/// The text table: one line per instance, then the totals.
fn table(graded: &[Graded]) -> String {
    let name = |g: &Graded| {
        let file = g.instance.rsplit('/').next().unwrap_or(&g.instance);
        file.strip_suffix(".vnnlib").unwrap_or(file).to_string()
    };
    let width = graded
        .iter()
        .map(|g| name(g).len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut s = format!(
        "{:<width$}  {:<8}  {:<8}  {:<9}  {:>8}  {:>8}  note\n",
        "instance", "expected", "answer", "verdict", "prepare", "run"
    );
    for g in graded {
        let line = format!(
            "{:<width$}  {:<8}  {:<8}  {:<9}  {:>8}  {:>8}  {}",
            name(g),
            g.expected.word(),
            g.answer.map_or("-", |a| a.word()),
            g.verdict.word(),
            seconds(g.prepare_time),
            seconds(g.run_time),
            g.note
        );
        s += line.trim_end();
        s.push('\n');
    }
    let counts: Vec<String> = Verdict::ALL
        .iter()
        .filter_map(|v| {
            let n = graded.iter().filter(|g| g.verdict == *v).count();
            (n > 0 || matches!(v, Verdict::Correct | Verdict::Wrong))
                .then(|| format!("{n} {}", v.word()))
        })
        .collect();
    let run: f64 = graded.iter().filter_map(|g| g.run_time).sum();
    let prepare: f64 = graded.iter().filter_map(|g| g.prepare_time).sum();
    s += &format!(
        "{} instances: {}; prepare {prepare:.2} s, run {run:.2} s\n",
        graded.len(),
        counts.join(", ")
    );
    s
}

fn instance_json(g: &Graded) -> serde_json::Value {
    let cex = g.counterexample.as_ref().map(|(file, c)| {
        let word = |t: crate::grade::vnnlib::Tri| match t {
            crate::grade::vnnlib::Tri::True => "violated",
            crate::grade::vnnlib::Tri::False => "holds",
            crate::grade::vnnlib::Tri::Unknown => "undecided",
        };
        serde_json::json!({
            "file": file.display().to_string(),
            "inside_box": c.outside.is_none(),
            "outside": c.outside,
            "checks_out": c.checks_out(),
            "precision": c.precision,
            "model": word(c.model.violated),
            "real": word(c.real.violated),
            "f64": word(c.f64.violated),
            "outputs_model": c.model.outputs,
            "outputs_f64": c.f64.outputs,
            "claimed_difference": c.claimed_difference,
        })
    });
    serde_json::json!({
        "instance": g.instance,
        "expected": g.expected.word(),
        "answer": g.answer.map(|a| a.word()),
        "verdict": g.verdict.word(),
        "line": g.line,
        "prepare_time": g.prepare_time,
        "run_time": g.run_time,
        "counterexample": cex,
        "note": g.note,
    })
}

fn totals_json(graded: &[Graded]) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("instances".into(), graded.len().into());
    for v in Verdict::ALL {
        let key = v.word().to_ascii_lowercase();
        m.insert(key, graded.iter().filter(|g| g.verdict == v).count().into());
    }
    m.insert(
        "prepare_time".into(),
        graded
            .iter()
            .filter_map(|g| g.prepare_time)
            .sum::<f64>()
            .into(),
    );
    m.insert(
        "run_time".into(),
        graded.iter().filter_map(|g| g.run_time).sum::<f64>().into(),
    );
    serde_json::Value::Object(m)
}
