//! Criterion benchmarks of the independent checker (issue #6): the score
//! separation kernel and a whole `verify` on the digits shape (1797 points,
//! 64 dimensions, 10 labels, l2, radius 0.5 of the limit), from the ONNX
//! bytes, the data and the certificate.
//!
//! Run with `cargo bench --bench verify`. The 60000 x 784 case is measured
//! by running `robmem verify` (see BENCHMARKS.md).

use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use robmem::analysis::report::check_program;
use robmem::analysis::separation::Separation;
use robmem::backend::certificate::{make_certificate, CertificateRequest};
use robmem::backend::onnx::{save_onnx, OnnxOptions};
use robmem::pipeline::compile;
use robmem::resolve::resolve_text;
use robmem::verify::certificate::sha256_hex;
use robmem::verify::check::{verify, Data};
use robmem::verify::model::read_model;
use robmem::verify::scores::nearest_other_label;
use std::hint::black_box;
use std::path::Path;

const DIGITS: &str = "
dataset digits = blobs(points = 1797, dim = 64, labels = 10, spread = 0.5, seed = 1)
network digits_net {
    data   = digits
    norm   = l2
    radius = 0.5 of limit
}
";

fn score_separation(c: &mut Criterion) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let (n, m) = (4000, 32);
    let weights = Array2::from_shape_fn((n, m), |_| rng.gen_range(-1.0..1.0));
    let labels: Vec<usize> = (0..n).map(|i| i % 10).collect();
    c.bench_function("verify/score_separation_4000x32", |b| {
        b.iter(|| black_box(nearest_other_label(weights.view(), &labels)))
    });
}

fn verify_digits(c: &mut Criterion) {
    let program = resolve_text(Path::new("digits.rmem"), DIGITS).expect("spec resolves");
    let outcome = check_program(&program).expect("data loads");
    let report = &outcome.reports[0];
    let data = &outcome.datasets[0];
    let separation = Separation {
        delta: report.delta,
        pair: report.pair.as_ref().map(|(a, b)| (a.index, b.index)),
    };
    let compiled = compile(data, &program.networks[0], &separation).expect("compiles");
    let dir = tempfile::tempdir().expect("temporary folder");
    let onnx = dir.path().join("net.onnx");
    save_onnx(&compiled.network, &OnnxOptions::default(), &onnx).expect("writes");
    let cert = make_certificate(&CertificateRequest {
        network: "digits_net",
        program: &compiled.program,
        layers: &compiled.network,
        data,
        spec_path: Path::new("digits.rmem"),
        onnx_path: &onnx,
        certificate_path: &dir.path().join("net.cert.json"),
        search_up_to: None,
    })
    .expect("certifies")
    .certificate;
    let bytes = std::fs::read(&onnx).expect("reads");
    let labels: Vec<serde_json::Value> = data
        .labels
        .iter()
        .map(|&l| serde_json::to_value(&data.classes.values[l as usize]).expect("label"))
        .collect();
    c.bench_function("verify/digits_end_to_end", |b| {
        b.iter(|| {
            let model = read_model(&bytes).expect("model");
            let data = Data {
                points: data.points.view(),
                labels: &labels,
            };
            let outcome = verify(&cert, &model, &sha256_hex(&bytes), &data);
            assert!(outcome.holds());
            black_box(outcome)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = score_separation, verify_digits
}
criterion_main!(benches);
