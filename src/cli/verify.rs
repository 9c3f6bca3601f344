//! `robmem verify CERT [--model ONNX] [--data SPEC-or-CSV]`: check a
//! certificate against the ONNX file and the data, recomputing every claim
//! (crate::verify). Exit 0 when every claim holds, 1 when one fails, 2 when
//! an input cannot be read.

use super::console::{errln, out, outln};
use crate::data::{self, ColumnRef, Dataset};
use crate::diagnostics::SpecError;
use crate::resolve::{load_dataset, load_program};
use crate::verify::analyse::PNorm;
use crate::verify::certificate::{sha256_hex, Certificate};
use crate::verify::check::{verify, Data, Verification};
use crate::verify::generic::{generic_check, GenericOptions, Target, Verdict};
use crate::verify::model::{read_model, Model};
use clap::Args;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// The long help of `robmem verify`.
pub const LONG_ABOUT: &str = "Check a certificate written by `robmem compile`.

Reads the certificate (JSON, or YAML for .yaml/.yml), the ONNX file and the
data it names (paths are relative to the certificate's folder; --model and
--data override them), and recomputes every claim from the weights and the
data, without calling the compiler: the files' hashes; that every neuron is
the gadget the certificate names (checked from its row of weights); the
projection's norm bound; the separation delta' of the scores; 2r < delta';
that every ReLU the gadgets rely on is exact on every ball; and, for each
arithmetic the certificate claims (real, float32, float64), every data
point's margin after rounding. Each claim is printed with `held` or `FAILED`
and what was compared. specs/certificate.md describes the checks.";

/// The text after the options in `robmem verify --help`.
pub const AFTER_HELP: &str =
    "Exit codes: 0 every claim holds; 1 a claim fails; 2 an input cannot be read, or usage error;
3 (--generic only) some point is unknown and none failed.

Examples:
  robmem compile examples/xor.rmem && robmem verify examples/out/xor.cert.json
  robmem verify cert.json --model other.onnx --data spec.rmem
  robmem verify cert.json --json
  robmem verify examples/out/xor.cert.json --generic";

/// Arguments of `robmem verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The certificate (`.json`, or `.yaml`/`.yml`).
    pub certificate: PathBuf,
    /// The ONNX file (default: the certificate's `model.path`).
    #[arg(long, value_name = "ONNX")]
    pub model: Option<PathBuf>,
    /// The data: a spec file (`.rmem`, its network named in the certificate
    /// gives the data set) or a CSV file whose last column is the label
    /// (default: the certificate's `data.path`).
    #[arg(long, value_name = "SPEC-or-CSV")]
    pub data: Option<PathBuf>,
    /// Print the claims as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Instead of recognising gadgets, bound the network over each data
    /// point's ball by interval propagation with box splitting (real
    /// arithmetic). Answers held, failed (with a counterexample) or unknown
    /// per point; meant for small networks. Exit 3 when some point is
    /// unknown and none failed.
    #[arg(long)]
    pub generic: bool,
    /// Box budget per point for --generic.
    #[arg(long, value_name = "N", default_value_t = 4096, requires = "generic")]
    pub max_boxes: usize,
}

/// Runs `robmem verify` and returns the exit code.
pub fn run(args: &VerifyArgs) -> i32 {
    let certificate = match Certificate::read(&args.certificate) {
        Ok(c) => c,
        Err(e) => {
            return unreadable(
                &e.to_string(),
                "pass a certificate written by `robmem compile`",
            )
        }
    };
    let base = args
        .certificate
        .parent()
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let model_path = args
        .model
        .clone()
        .unwrap_or_else(|| base.join(&certificate.model.path));
    let data_path = args
        .data
        .clone()
        .unwrap_or_else(|| base.join(&certificate.data.path));
    // The model and the data are read at the same time (each is one
    // thread's work): model errors are still reported first.
    let (model, dataset) = rayon::join(
        || read_and_hash(&model_path),
        || load_data(&data_path, &certificate.data.network),
    );
    let (model, model_sha256) = match model {
        Ok(read) => read,
        Err((message, help)) => return unreadable(&message, help),
    };
    let dataset = match dataset {
        Ok(d) => d,
        Err(e) => {
            super::print_diagnostic(&e);
            return 2;
        }
    };
    let labels: Vec<serde_json::Value> = dataset
        .labels
        .iter()
        .map(|&l| {
            serde_json::to_value(&dataset.classes.values[l as usize]).expect("labels serialise")
        })
        .collect();
    let data = Data {
        points: dataset.points.view(),
        labels: &labels,
    };
    if args.generic {
        return run_generic(args, &certificate, &model, &model_sha256, &data);
    }
    let checking = crate::progress::phase("checking the claims", None);
    let outcome = verify(&certificate, &model, &model_sha256, &data);
    checking.finish();
    if args.json {
        let value = serde_json::json!({
            "certificate": args.certificate.display().to_string(),
            "held": outcome.holds(),
            "claims": outcome.claims,
        });
        outln!("{value}");
    } else {
        out!("{}", report(&args.certificate, &certificate, &outcome));
    }
    if outcome.holds() {
        0
    } else {
        1
    }
}

/// The model at `path` and the SHA-256 of its bytes, or the message and the
/// help of an unreadable model.
fn read_and_hash(path: &Path) -> Result<(Model, String), (String, &'static str)> {
    let bytes = std::fs::read(path).map_err(|e| {
        (
            format!("cannot read the model {}: {e}", path.display()),
            "pass the ONNX file with --model",
        )
    })?;
    let reading = crate::progress::phase("reading the model", None);
    let (model, sha256) = rayon::join(|| read_model(&bytes), || sha256_hex(&bytes));
    reading.finish();
    let model = model.map_err(|e| {
        (
            format!("cannot read the model {}: {e}", path.display()),
            "robmem verify reads chains of Gemm/MatMul+Add and Relu nodes",
        )
    })?;
    Ok((model, sha256))
}

/// `--generic`: per point, held / failed / unknown by bound propagation.
fn run_generic(
    args: &VerifyArgs,
    cert: &Certificate,
    model: &Model,
    model_sha256: &str,
    data: &Data<'_>,
) -> i32 {
    let hash_ok = model_sha256 == cert.model.sha256;
    let Some(norm) = PNorm::parse(&cert.norm) else {
        return unreadable(
            &format!("norm `{}` is not l1, l2, linf or l(p)", cert.norm),
            "fix the certificate's norm",
        );
    };
    let options = GenericOptions {
        max_boxes: args.max_boxes,
    };
    let labels: Vec<Option<usize>> = data
        .labels
        .iter()
        .map(|l| cert.output.labels.iter().position(|n| n == l))
        .collect();
    // A label certificate's network has one output, near the label's value.
    let values = (cert.output.kind == "label").then(|| cert.output.label_values());
    let target = |label_index: usize| match &values {
        Some(values) => Target::Label {
            value: values[label_index],
        },
        None => Target::Logits { label_index },
    };
    let bounding = crate::progress::phase("bounding every ball", Some(data.points.nrows() as u64));
    let verdicts: Vec<Verdict> = (0..data.points.nrows())
        .into_par_iter()
        .map(|i| match labels[i] {
            Some(label_index) => generic_check(
                model,
                data.points.row(i).as_slice().expect("rows are contiguous"),
                &target(label_index),
                norm.p,
                cert.radius,
                &options,
            ),
            None => Verdict::Unknown,
        })
        .inspect(|_| bounding.inc(1))
        .collect();
    bounding.finish();
    let held = verdicts
        .iter()
        .filter(|v| matches!(v, Verdict::Held))
        .count();
    let failed: Vec<usize> = (0..verdicts.len())
        .filter(|&i| matches!(verdicts[i], Verdict::Failed { .. }))
        .collect();
    let unknown = verdicts.len() - held - failed.len();
    if args.json {
        let points: Vec<serde_json::Value> = verdicts
            .iter()
            .map(|v| match v {
                Verdict::Held => serde_json::json!({"verdict": "held"}),
                Verdict::Unknown => serde_json::json!({"verdict": "unknown"}),
                Verdict::Failed {
                    counterexample,
                    output,
                } => serde_json::json!({
                    "verdict": "failed", "counterexample": counterexample, "output": output
                }),
            })
            .collect();
        outln!(
            "{}",
            serde_json::json!({"model_hash_matches": hash_ok, "held": held, "failed": failed.len(), "unknown": unknown, "points": points})
        );
    } else {
        outln!(
            "generic check of {} (model hash {}), radius {} in {}: {held} held, {} failed, {unknown} unknown of {} points",
            args.certificate.display(),
            if hash_ok { "matches" } else { "DOES NOT match" },
            cert.radius,
            cert.norm,
            failed.len(),
            verdicts.len()
        );
        for &i in failed.iter().take(10) {
            if let Verdict::Failed {
                counterexample,
                output,
            } = &verdicts[i]
            {
                outln!("  point {i}: FAILED at {counterexample:?}, outputs {output:?}");
            }
        }
    }
    if !hash_ok || !failed.is_empty() {
        1
    } else if unknown > 0 {
        3
    } else {
        0
    }
}

fn unreadable(message: &str, help: &str) -> i32 {
    errln!("error: {message}\n  help: {help}");
    2
}

/// Loads the data: the named network's data set of a spec, or a CSV file.
fn load_data(path: &Path, network: &str) -> Result<Dataset, SpecError> {
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        return load_csv(path);
    }
    let program = load_program(path)?;
    let Some(net) = program.networks.iter().find(|n| n.name == network) else {
        return Err(SpecError::new(format!(
            "{} has no network `{network}` (the certificate's data.network)",
            path.display()
        ))
        .with_category(crate::diagnostics::Category::Io)
        .with_help("pass the spec the certificate was compiled from with --data"));
    };
    load_dataset(&program, net.data)
}

/// A CSV file with the label in the last column and a header if the first
/// line does not parse as numbers.
fn load_csv(path: &Path) -> Result<Dataset, SpecError> {
    let io = |reason: String| {
        SpecError::new(format!("cannot read data {}: {reason}", path.display()))
            .with_category(crate::diagnostics::Category::Io)
    };
    let text = std::fs::read_to_string(path).map_err(|e| io(e.to_string()))?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let fields: Vec<&str> = first.split(',').collect();
    let header = fields[..fields.len().saturating_sub(1)]
        .iter()
        .any(|f| f.trim().parse::<f64>().is_err());
    let label = ColumnRef::Index(fields.len().saturating_sub(1));
    data::csv::load(path, &label, header, b',').map_err(|e| io(e.to_string()))
}

/// The text report.
fn report(path: &Path, cert: &Certificate, outcome: &Verification) -> String {
    let semantics: Vec<&str> = cert.semantics.iter().map(|s| s.name()).collect();
    let mut out = format!(
        "certificate {}: network {}, norm {}, radius {}, claims {}\n",
        path.display(),
        cert.network,
        cert.norm,
        cert.radius,
        if semantics.is_empty() {
            "nothing".to_string()
        } else {
            semantics.join(", ")
        }
    );
    for claim in &outcome.claims {
        out += &format!(
            "  {:<7} {:<24} {}\n",
            if claim.held { "held" } else { "FAILED" },
            claim.claim,
            claim.detail
        );
    }
    let failed = outcome.claims.iter().filter(|c| !c.held).count();
    out += &if failed == 0 && outcome.holds() {
        format!("all {} claims hold\n", outcome.claims.len())
    } else {
        format!("{failed} of {} claims FAILED\n", outcome.claims.len())
    };
    out
}
