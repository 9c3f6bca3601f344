//! The certification scan (issue: "every network compile writes is
//! certified"): random, deliberately awkward data sets (features whose
//! scales differ by 1000x, duplicated rows, constant columns, large or
//! closely spaced label values, one label) in every norm, both outputs, both
//! precisions and every projection, at radii from 0.5 of the limit to
//! `max`, compiled by the `robmem` binary with an emit block that asks for
//! an ONNX file and a certificate.
//!
//! Exactly two outcomes are allowed:
//! - exit 0, both files written, and `robmem verify` confirms every claim of
//!   the certificate (exit 0);
//! - exit 1 (the request cannot be met: the message names the network),
//!   and nothing written.
//!
//! Anything else (exit 2, a panic's 101, an ONNX file without its
//! certificate, a certificate `verify` rejects) fails the test. The cases
//! are drawn from a fixed seed so a failure reproduces; `CERTIFY_SCAN_CASES`
//! sets how many (default 48, which CI runs).

mod support;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Output;

fn robmem(args: &[&str], dir: &Path) -> Output {
    support::robmem_in(dir, args)
}

/// One random case: a CSV data set and a spec, with a description for
/// failure messages.
struct Case {
    csv: String,
    spec: String,
    about: String,
}

fn draw(rng: &mut ChaCha8Rng, index: usize) -> Case {
    let n = [6, 12, 25, 40, 80][rng.gen_range(0..5)];
    let d = [1, 2, 3, 5, 8, 13][rng.gen_range(0..6)];
    let classes = [1, 2, 2, 3, 4, 7][rng.gen_range(0..6)];
    let labels: Vec<String> = match rng.gen_range(0..6) {
        0 => (0..classes).map(|c| (20_000_001 + c).to_string()).collect(),
        1 => (0..classes).map(|c| format!("{}e-7", c)).collect(),
        2 => (0..classes).map(|c| format!("class_{c}")).collect(),
        3 => (0..classes).map(|c| format!("-{}", c)).collect(),
        _ => (0..classes).map(|c| c.to_string()).collect(),
    };
    // Per-column scale (1e-2 to 1e3), some columns constant.
    let scales: Vec<f64> = (0..d).map(|_| 10f64.powi(rng.gen_range(-2..4))).collect();
    let constant: Vec<bool> = (0..d).map(|_| d > 1 && rng.gen_bool(0.2)).collect();
    let integer = rng.gen_bool(0.25);
    let mut rows: Vec<(Vec<f64>, usize)> = Vec::new();
    for _ in 0..n {
        let x: Vec<f64> = (0..d)
            .map(|k| {
                if constant[k] {
                    scales[k]
                } else if integer {
                    (rng.gen_range(-1.0..1.0) * scales[k] * 10.0).round()
                } else {
                    rng.gen_range(-1.0..1.0) * scales[k]
                }
            })
            .collect();
        rows.push((x, rng.gen_range(0..classes)));
    }
    // Duplicated rows with the same label.
    for _ in 0..rng.gen_range(0..3) {
        let row = rows[rng.gen_range(0..rows.len())].clone();
        rows.push(row);
    }
    // Drop exact duplicates with different labels (delta = 0 cannot be
    // memorized: that is a separate, already reported error).
    let mut kept: Vec<(Vec<f64>, usize)> = Vec::new();
    for row in rows {
        if !kept.iter().any(|k| k.0 == row.0 && k.1 != row.1) {
            kept.push(row);
        }
    }
    let mut csv = String::new();
    let header: Vec<String> = (0..d).map(|k| format!("f{k}")).collect();
    let _ = writeln!(csv, "{},label", header.join(","));
    for (x, c) in &kept {
        let cells: Vec<String> = x.iter().map(|v| format!("{v}")).collect();
        let _ = writeln!(csv, "{},{}", cells.join(","), labels[*c]);
    }
    let norm = ["l1", "l2", "linf", "l(3)"][rng.gen_range(0..4)];
    let output = ["logits", "label"][rng.gen_range(0..2)];
    let precision = ["f32", "f64"][rng.gen_range(0..2)];
    let projection = ["auto", "pca", "random", "span", "identity"][rng.gen_range(0..5)];
    let radius = ["max", "0.5 of limit", "0.7 of limit", "0.9 of limit"][rng.gen_range(0..4)];
    let spec = format!(
        "dataset d = csv(\"data.csv\", label = \"label\")\n\
         network net {{ data = d  norm = {norm}  radius = {radius}  output = {output}  precision = {precision}  projection = {projection} }}\n\
         emit net {{ onnx = \"out/net.onnx\"  certificate = \"out/net.cert.json\" }}\n"
    );
    let about = format!(
        "case {index}: N = {}, d = {d}, C = {classes}, labels {:?}, integer {integer}, constant {constant:?}, {norm}, {radius}, {output}, {precision}, {projection}",
        kept.len(),
        &labels[..classes.min(3)],
    );
    Case { csv, spec, about }
}

#[test]
fn every_certificate_compile_writes_is_confirmed_by_verify() {
    let cases: usize = std::env::var("CERTIFY_SCAN_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    let mut rng = ChaCha8Rng::seed_from_u64(20261204);
    let mut certified = 0;
    let mut refused = 0;
    let mut failures = Vec::new();
    for index in 0..cases {
        let case = draw(&mut rng, index);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.csv"), &case.csv).unwrap();
        std::fs::write(dir.path().join("s.rmem"), &case.spec).unwrap();
        let out = robmem(&["-q", "compile", "s.rmem"], dir.path());
        let onnx = dir.path().join("out/net.onnx");
        let cert = dir.path().join("out/net.cert.json");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        match out.status.code() {
            Some(0) => {
                if !(onnx.exists() && cert.exists()) {
                    failures.push(format!("{}: exit 0 without both files", case.about));
                    continue;
                }
                let verified = robmem(&["-q", "verify", "out/net.cert.json"], dir.path());
                if verified.status.code() != Some(0) {
                    failures.push(format!(
                        "{}: verify rejects the certificate compile wrote:\n{}{}",
                        case.about,
                        String::from_utf8_lossy(&verified.stdout),
                        String::from_utf8_lossy(&verified.stderr)
                    ));
                    continue;
                }
                certified += 1;
            }
            Some(1) => {
                if onnx.exists() || cert.exists() {
                    failures.push(format!("{}: exit 1 but files were written", case.about));
                    continue;
                }
                if !stderr.contains("net") {
                    failures.push(format!(
                        "{}: the refusal does not name the network:\n{stderr}",
                        case.about
                    ));
                    continue;
                }
                refused += 1;
            }
            other => failures.push(format!("{}: exit {other:?}:\n{stderr}", case.about)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The scan must exercise certificates, not only refusals.
    assert!(
        certified >= cases / 3,
        "only {certified} of {cases} cases certified ({refused} refused)"
    );
}
