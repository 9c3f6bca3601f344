//! Certificates on the edge cases of issue #12 (items 2 and 3): float64
//! networks of every projection, data with constant features at
//! `radius = max`, duplicate points, and a single label.
//!
//! Every case compiles through the command line and ends in exactly one of
//! two outcomes: a certificate that `robmem verify` confirms and whose ONNX
//! file, run by tract in its own precision, gives every data point and every
//! probe of its ball the point's label; or a refusal (exit 1) whose message
//! names the cause and the fix.

mod support;

use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::norm::Norm;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn robmem() -> Command {
    Command::new(env!("CARGO_BIN_EXE_robmem"))
}

/// A data set as CSV: feature rows and their labels (as written).
struct Csv {
    rows: Vec<Vec<f64>>,
    labels: Vec<String>,
}

impl Csv {
    fn text(&self) -> String {
        let d = self.rows[0].len();
        let mut text: String = (0..d).map(|k| format!("x{k},")).collect::<String>() + "label\n";
        for (row, label) in self.rows.iter().zip(&self.labels) {
            for x in row {
                text += &format!("{x},");
            }
            text += &format!("{label}\n");
        }
        text
    }

    fn points(&self) -> Array2<f64> {
        Array2::from_shape_fn((self.rows.len(), self.rows[0].len()), |(i, k)| {
            self.rows[i][k]
        })
    }
}

/// `n` points in `[0, 1]^d` (column 0 scaled by 1000), labels cycling through `labels`.
fn random_csv(seed: u64, n: usize, d: usize, labels: &[&str]) -> Csv {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows = (0..n)
        .map(|_| {
            (0..d)
                .map(|k| {
                    let x: f64 = rng.gen_range(0.0..1.0);
                    if k == 0 {
                        x * 1000.0
                    } else {
                        x
                    }
                })
                .collect()
        })
        .collect();
    let labels = (0..n)
        .map(|i| labels[i % labels.len()].to_string())
        .collect();
    Csv { rows, labels }
}

/// What `robmem compile` did.
struct Outcome {
    dir: tempfile::TempDir,
    code: i32,
    stderr: String,
}

impl Outcome {
    fn cert(&self) -> PathBuf {
        self.dir.path().join("net.cert.json")
    }
}

/// Writes the data and a spec around `network` (the body of a network
/// block) and compiles it with an ONNX file and a certificate.
fn compile(csv: &Csv, network: &str) -> Outcome {
    compile_emitting(
        csv,
        network,
        "onnx = \"net.onnx\"  certificate = \"net.cert.json\"",
    )
}

/// As [`compile`], with the emit block's keys `emit`.
fn compile_emitting(csv: &Csv, network: &str, emit: &str) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.csv"), csv.text()).unwrap();
    let spec = format!(
        "dataset d = csv(\"data.csv\", label = \"label\")\n\
         network net {{\n    data = d\n{network}\n}}\n\
         emit net {{ {emit} }}\n"
    );
    std::fs::write(dir.path().join("spec.rmem"), spec).unwrap();
    let out = robmem()
        .args(["compile", "spec.rmem"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    Outcome {
        dir,
        code: out.status.code().unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

/// Runs ONNX `bytes` on `input`: float32 models in tract, float64 models
/// (which tract 0.23 does not optimise) by a plain f64 forward pass over the
/// layers read back from the file.
fn tract_run(bytes: &[u8], input: &Array2<f64>, double: bool) -> Array2<f64> {
    if !double {
        return support::tract_run_f32(bytes, input);
    }
    let (net, _) = robmem::backend::onnx::read_onnx(bytes).expect("the model reads back");
    let mut values = input.t().to_owned();
    for layer in &net.layers {
        let mut next = layer.weight.dot(&values);
        for (mut row, &b) in next.rows_mut().into_iter().zip(&layer.bias) {
            row.mapv_inplace(|v| {
                let v = v + b;
                match layer.activation {
                    robmem::ir::layers::Activation::Relu => v.max(0.0),
                    robmem::ir::layers::Activation::Identity => v,
                }
            });
        }
        values = next;
    }
    values.t().to_owned()
}

/// The norm of a certificate's `norm` text.
fn norm_of(text: &str) -> Norm {
    match text {
        "l1" => Norm::L1,
        "l2" => Norm::L2,
        "linf" => Norm::Linf,
        other => panic!("unexpected norm {other}"),
    }
}

/// The compile succeeded, `verify` confirms the certificate, and tract gives
/// every data point and every probe of its ball the point's label. Returns
/// the certificate.
fn assert_certified(csv: &Csv, outcome: &Outcome, double: bool) -> Value {
    assert_eq!(outcome.code, 0, "compile failed: {}", outcome.stderr);
    let cert_path = outcome.cert();
    assert!(cert_path.exists(), "no certificate: {}", outcome.stderr);
    let out = robmem()
        .args(["verify", "--json"])
        .arg(&cert_path)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "verify rejects the certificate: {report} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cert: Value = serde_json::from_str(&std::fs::read_to_string(&cert_path).unwrap()).unwrap();
    let names: Vec<String> = cert["output"]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let norm = norm_of(cert["norm"].as_str().unwrap());
    let radius = cert["radius"].as_f64().unwrap();
    assert!(radius > 0.0, "radius {radius}");
    let points = csv.points();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut rows: Vec<Array1<f64>> = Vec::new();
    let mut owners = Vec::new();
    for i in 0..points.nrows() {
        // The probes lie on the sphere: shrink them a little inside the
        // ball, since the radius is certified for the closed ball in real
        // arithmetic and the probe's own coordinates are rounded.
        for p in support::probes(norm, points.row(i), radius * (1.0 - 1e-9), &mut rng) {
            rows.push(p);
            owners.push(i);
        }
    }
    let batch = Array2::from_shape_fn((rows.len(), points.ncols()), |(r, k)| rows[r][k]);
    let bytes = std::fs::read(outcome.dir.path().join("net.onnx")).unwrap();
    let outputs = tract_run(&bytes, &batch, double);
    for (r, &i) in owners.iter().enumerate() {
        let want = names
            .iter()
            .position(|n| {
                *n == csv.labels[i]
                    || n.parse::<f64>().ok() == csv.labels[i].parse::<f64>().ok()
                        && n.parse::<f64>().is_ok()
            })
            .unwrap_or_else(|| panic!("label {} not in {names:?}", csv.labels[i]));
        let got = support::argmax(outputs.row(r));
        assert_eq!(
            got,
            want,
            "probe {r} of point {i}: output {} instead of {want} ({:?})",
            got,
            outputs.row(r)
        );
    }
    cert
}

/// The compile failed with exit 1, wrote no certificate, and its message
/// contains every one of `words`.
fn assert_refused(outcome: &Outcome, words: &[&str]) {
    assert_eq!(outcome.code, 1, "expected a refusal: {}", outcome.stderr);
    assert!(!outcome.cert().exists(), "a certificate was written");
    let flat = outcome
        .stderr
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let flat = flat.replace(" │ ", " ").replace("│ ", "");
    for word in words {
        assert!(
            flat.contains(word),
            "the message does not name `{word}`: {}",
            outcome.stderr
        );
    }
    assert!(
        !flat.contains("writable"),
        "a refusal is not an I/O error: {}",
        outcome.stderr
    );
}

fn body(norm: &str, radius: &str, projection: &str, precision: &str) -> String {
    format!(
        "    norm = {norm}\n    radius = {radius}\n    projection = {projection}\n    precision = {precision}"
    )
}

#[test]
fn float64_certificates_verify_for_every_projection() {
    let csv = random_csv(1, 60, 6, &["0", "1", "2"]);
    for projection in ["identity", "pca", "random", "auto"] {
        for (norm, radius) in [("l2", "0.5 of limit"), ("l1", "max"), ("linf", "max")] {
            let outcome = compile(&csv, &body(norm, radius, projection, "f64"));
            let cert = assert_certified(&csv, &outcome, true);
            assert_eq!(cert["semantics"].as_array().unwrap().len(), 2, "{cert}");
            assert!(
                cert["semantics"].to_string().contains("float64"),
                "{projection} {norm}: {}",
                cert["semantics"]
            );
        }
    }
}

#[test]
fn float64_span_certificates_verify_when_span_applies() {
    // Span needs N - 1 < d.
    let csv = random_csv(2, 8, 12, &["a", "b"]);
    for (norm, radius) in [("l2", "0.5 of limit"), ("l2", "max"), ("l1", "max")] {
        let outcome = compile(&csv, &body(norm, radius, "span", "f64"));
        let cert = assert_certified(&csv, &outcome, true);
        assert_eq!(cert["projection"]["strategy"], "span");
    }
}

#[test]
fn span_on_too_many_points_is_refused_naming_the_projection() {
    let csv = random_csv(3, 60, 6, &["0", "1", "2"]);
    let outcome = compile(&csv, &body("l2", "0.5 of limit", "span", "f64"));
    assert_refused(
        &outcome,
        &[
            "span projection needs fewer points",
            "N = 60, d = 6",
            "projection",
        ],
    );
    assert!(
        !outcome.stderr.contains("radius below 0"),
        "{}",
        outcome.stderr
    );
}

/// 8x8-image-like data: pixel values 0..16 with three constant pixels
/// (two at 0, one at 5) in every image.
fn digits(seed: u64) -> Csv {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows = (0..45)
        .map(|_| {
            (0..16)
                .map(|k| match k {
                    0 | 15 => 0.0,
                    7 => 5.0,
                    _ => f64::from(rng.gen_range(0..17u32)),
                })
                .collect()
        })
        .collect();
    let labels = (0..45)
        .map(|i| ["3", "8", "9"][i % 3].to_string())
        .collect();
    Csv { rows, labels }
}

#[test]
fn constant_features_certify_at_radius_max() {
    let csv = digits(4);
    for precision in ["f32", "f64"] {
        for norm in ["l2", "l1", "linf"] {
            let outcome = compile(&csv, &body(norm, "max", "identity", precision));
            let cert = assert_certified(&csv, &outcome, precision == "f64");
            // The passes drop the constant pixels' coordinates: the
            // certificate describes the narrower first layer.
            let m = cert["projection"]["m"].as_u64().unwrap();
            assert_eq!(m, 13, "{norm} {precision}: m = {m}");
            assert_eq!(cert["projection"]["shift"].as_array().unwrap().len(), 13);
        }
        for projection in ["auto", "pca", "random"] {
            let outcome = compile(&csv, &body("l2", "max", projection, precision));
            assert_certified(&csv, &outcome, precision == "f64");
        }
    }
}

/// Random points with exact duplicates of several points (including the
/// first), one point repeated four times, and a pair that differs only in a
/// column that is constant elsewhere; labels are large numbers.
fn duplicates(seed: u64) -> Csv {
    let mut base = random_csv(seed, 30, 3, &["20000001", "-3"]);
    for row in &mut base.rows {
        row[2] = 7.5;
    }
    for i in [0, 1, 5, 5, 5, 12] {
        base.rows.push(base.rows[i].clone());
        base.labels.push(base.labels[i].clone());
    }
    let mut twin = base.rows[3].clone();
    twin[2] = 8.5;
    base.rows.push(twin);
    base.labels.push(base.labels[3].clone());
    base
}

#[test]
fn duplicates_certify_in_every_norm_and_projection() {
    let csv = duplicates(5);
    for norm in ["l2", "l1", "linf"] {
        for radius in ["max", "0.5 of limit"] {
            for projection in ["identity", "pca", "auto"] {
                let outcome = compile(&csv, &body(norm, radius, projection, "f64"));
                assert_certified(&csv, &outcome, true);
            }
        }
    }
}

#[test]
fn duplicates_certify_in_float32_on_unit_scale_data() {
    let mut csv = duplicates(6);
    for row in &mut csv.rows {
        row[0] /= 1000.0;
    }
    for norm in ["l2", "linf"] {
        for projection in ["identity", "random"] {
            let outcome = compile(&csv, &body(norm, "max", projection, "f32"));
            assert_certified(&csv, &outcome, false);
        }
    }
}

#[test]
fn duplicates_with_different_labels_are_refused_naming_both_points() {
    let mut csv = random_csv(7, 10, 2, &["0", "1"]);
    csv.rows.push(csv.rows[4].clone());
    csv.labels.push("1".into());
    assert_eq!(csv.labels[4], "0");
    let outcome = compile(&csv, &body("l2", "max", "auto", "f64"));
    assert_refused(&outcome, &["point 4", "point 10", "relabel"]);
}

#[test]
fn a_single_label_refuses_the_certificate_naming_the_cause() {
    let csv = random_csv(8, 10, 2, &["7"]);
    for norm in ["l2", "l1", "linf"] {
        let outcome = compile(&csv, &body(norm, "1.0", "auto", "f64"));
        assert_refused(
            &outcome,
            &[
                "every point has label 7",
                "at least two labels",
                "remove `certificate",
            ],
        );
        // All or nothing: without its certificate the network is not
        // written either.
        assert!(!outcome.dir.path().join("net.onnx").exists());
    }
}

#[test]
fn a_single_label_with_a_relative_radius_is_refused_naming_the_fix() {
    let csv = random_csv(9, 10, 2, &["7"]);
    for radius in ["max", "0.5 of limit"] {
        let outcome = compile(&csv, &body("l2", radius, "auto", "f32"));
        assert_refused(&outcome, &["same label", "no limit", "absolute radius"]);
        assert!(!outcome.stderr.contains("NaN"), "{}", outcome.stderr);
    }
}

#[test]
fn a_single_label_network_is_the_constant() {
    let csv = random_csv(10, 10, 2, &["7"]);
    let outcome = compile_emitting(
        &csv,
        &body("l2", "1.0", "auto", "f64"),
        "onnx = \"net.onnx\"",
    );
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    let bytes = std::fs::read(outcome.dir.path().join("net.onnx")).unwrap();
    let mut inputs = csv.points();
    inputs.row_mut(0).fill(1e6);
    let outputs = tract_run(&bytes, &inputs, true);
    assert_eq!(outputs.ncols(), 1);
    let first = outputs[[0, 0]];
    assert!(outputs.iter().all(|&v| v == first), "{outputs:?}");
}
