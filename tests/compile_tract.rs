//! Compiled networks, written as float32 ONNX and run in tract, give every
//! data point its label on its whole ball: every network of every
//! `examples/*.rmem`, and random data sets (several N, d, C; norms l1, l2,
//! linf, l(3); logits and label outputs). Probes: the points themselves,
//! random points on each ball's surface, linf corners, l1 vertices, and the
//! worst directions (towards the nearest differently-labelled point, in input
//! space and through the projection). robmem's float32 evaluator agrees with
//! tract on all of them, and the float64 evaluator gives integer labels
//! exactly.

mod support;

use ndarray::Array2;
use robmem::analysis::report::check_program;
use robmem::analysis::separation::{separation, Separation};
use robmem::backend::onnx::{write_onnx, OnnxOptions};
use robmem::data::{Dataset, LabelValue};
use robmem::eval::{evaluate, evaluate_f32};
use robmem::norm::Norm;
use robmem::pipeline::{compile, Compiled};
use robmem::resolve::load_program;
use robmem::spec::{OutputKind, Precision, ProjectionChoice, RadiusSpec};
use std::path::{Path, PathBuf};
use support::{all_probes, argmax, expected, logit_margin, random_data, spec, tract_run_f32};

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rmem"))
        .collect();
    files.sort();
    files
}

/// Largest |a - b| / (1 + max |b| in its row): tract and our evaluator sum
/// in different orders, so compare against the row's scale.
fn max_scaled_error(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.rows()
        .into_iter()
        .zip(b.rows())
        .map(|(ra, rb)| {
            let scale = 1.0 + rb.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            ra.iter()
                .zip(rb.iter())
                .map(|(x, y)| (x - y).abs() / scale)
                .fold(0.0, f64::max)
        })
        .fold(0.0, f64::max)
}

/// Writes `compiled` as float32 ONNX, runs every probe in tract and checks
/// the decisions and the agreement with robmem's float32 evaluator. Returns
/// the smallest float32 margin (logit gap, or 0.5 - |label error|).
fn check_in_tract(data: &Dataset, compiled: &Compiled, norm: Norm, seed: u64, what: &str) -> f64 {
    let output = compiled.program.output.kind;
    let options = OnnxOptions {
        precision: Precision::F32,
        output,
        ..OnnxOptions::default()
    };
    let bytes = write_onnx(&compiled.network, &options).unwrap();
    let (inputs, owners) = all_probes(data, compiled, norm, seed);
    let theirs = tract_run_f32(&bytes, &inputs);
    let ours = evaluate_f32(&compiled.network, inputs.view()).mapv(f64::from);
    let outputs = match output {
        OutputKind::Logits => data.classes.len(),
        OutputKind::Label => 1,
    };
    assert_eq!(
        theirs.dim(),
        (inputs.nrows(), outputs),
        "{what}: output shape"
    );
    let scale = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    eprintln!("{what}: largest |output| in tract {scale:e}");
    let err = max_scaled_error(&theirs, &ours);
    assert!(
        err < 1e-5,
        "{what}: tract vs float32 evaluator differ by {err}"
    );
    let want = |r: usize| expected(data, output, owners[r]);
    match output {
        OutputKind::Logits => {
            for (r, row) in theirs.rows().into_iter().enumerate() {
                let got = argmax(row);
                assert_eq!(
                    got as f64,
                    want(r),
                    "{what}: point {}, probe row {r}: tract says class {got}, logits {row}",
                    owners[r]
                );
            }
            // Our evaluator decides the same way.
            for (r, row) in ours.rows().into_iter().enumerate() {
                assert_eq!(argmax(row) as f64, want(r), "{what}: evaluator, row {r}");
            }
            logit_margin(&theirs, |r| want(r) as usize)
        }
        OutputKind::Label => {
            let mut margin = f64::INFINITY;
            for (r, row) in theirs.rows().into_iter().enumerate() {
                let error = (row[0] - want(r)).abs();
                assert!(
                    error < 0.5,
                    "{what}: point {}, probe row {r}: tract says {}, label {}",
                    owners[r],
                    row[0],
                    want(r)
                );
                assert!(
                    (ours[[r, 0]] - want(r)).abs() < 0.5,
                    "{what}: evaluator, row {r}"
                );
                margin = margin.min(0.5 - error);
            }
            margin
        }
    }
}

/// With integer labels (numbers that are integers, or named labels whose
/// value is the class index), the float64 label output is exact.
fn check_label_exact_f64(data: &Dataset, compiled: &Compiled, norm: Norm, seed: u64, what: &str) {
    assert_eq!(compiled.program.output.kind, OutputKind::Label);
    let (inputs, owners) = all_probes(data, compiled, norm, seed);
    let y = evaluate(&compiled.network, inputs.view());
    for (r, &i) in owners.iter().enumerate() {
        let want = expected(data, OutputKind::Label, i);
        assert_eq!(want.fract(), 0.0, "{what}: test needs integer labels");
        assert_eq!(
            y[[r, 0]],
            want,
            "{what}: point {i}, probe row {r}: float64 label output is not exact"
        );
    }
}

#[test]
fn every_example_network_is_robust_in_tract() {
    let mut networks = 0;
    for path in examples() {
        let program = load_program(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = check_program(&program).unwrap();
        for (index, net) in program.networks.iter().enumerate() {
            let report = &outcome.reports[index];
            assert!(report.passes(), "{}: {}", path.display(), net.name);
            let data = &outcome.datasets[net.data];
            let sep = Separation {
                delta: report.delta,
                pair: report.pair.as_ref().map(|(a, b)| (a.index, b.index)),
            };
            let what = format!("{} {}", path.display(), net.name);
            let compiled = compile(data, net, &sep).unwrap_or_else(|e| panic!("{what}: {e}"));
            let margin = check_in_tract(data, &compiled, net.norm, 7, &what);
            eprintln!(
                "{what}: smallest float32 margin {margin:e}, gamma {:e}",
                compiled.summary.gamma
            );
            assert!(margin > 0.0, "{what}: margin {margin}");
            let integer_labels = data.classes.values.iter().all(|v| match v {
                LabelValue::Number(x) => x.fract() == 0.0,
                LabelValue::Name(_) => true,
            });
            if net.output == OutputKind::Label && integer_labels {
                check_label_exact_f64(data, &compiled, net.norm, 7, &what);
            }
            networks += 1;
        }
    }
    // xor, tour, label, wine, csv_options, blobs and the four of generators.
    assert!(networks >= 10, "only {networks} example networks compiled");
}

#[test]
fn random_data_sets_are_robust_in_tract_for_every_norm_and_output() {
    let norms = [Norm::L1, Norm::L2, Norm::Linf, Norm::Lp(3.0)];
    // (seed, N, d, C, named labels, radius)
    let cases = [
        (101, 40, 3, 2, false, RadiusSpec::Max),
        (102, 60, 6, 3, false, RadiusSpec::OfLimit(0.5)),
        (103, 30, 10, 5, true, RadiusSpec::Max),
    ];
    for (seed, n, d, c, named, radius) in cases {
        let data = random_data(seed, n, d, c, named);
        assert_eq!(data.classes.len(), c);
        for norm in norms {
            let sep = separation(data.points.view(), &data.labels, norm);
            for output in [OutputKind::Logits, OutputKind::Label] {
                let what = format!("N={n} d={d} C={c} {norm} {output:?} {radius:?}");
                let s = spec(norm, radius, output, ProjectionChoice::Auto);
                let compiled = compile(&data, &s, &sep).unwrap_or_else(|e| panic!("{what}: {e}"));
                let margin = check_in_tract(&data, &compiled, norm, seed, &what);
                eprintln!(
                    "{what}: smallest float32 margin {margin:e}, gamma {:e}",
                    compiled.summary.gamma
                );
                assert!(margin > 0.0, "{what}: margin {margin}");
            }
        }
    }
}

#[test]
fn integer_label_output_is_exact_in_float64() {
    let norms = [Norm::L1, Norm::L2, Norm::Linf, Norm::Lp(3.0)];
    for (seed, n, d, c, named) in [(201, 50, 4, 3, false), (202, 25, 7, 6, true)] {
        let data = random_data(seed, n, d, c, named);
        for norm in norms {
            let sep = separation(data.points.view(), &data.labels, norm);
            for radius in [RadiusSpec::Max, RadiusSpec::OfLimit(0.3)] {
                let what = format!("N={n} d={d} C={c} {norm} {radius:?}");
                let s = spec(norm, radius, OutputKind::Label, ProjectionChoice::Auto);
                let compiled = compile(&data, &s, &sep).unwrap_or_else(|e| panic!("{what}: {e}"));
                check_label_exact_f64(&data, &compiled, norm, seed, &what);
            }
        }
    }
}
