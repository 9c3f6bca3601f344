//! Criterion benchmarks of the kernels behind `robmem compile` (issue #6),
//! each small enough for `cargo bench --bench kernels -- --quick`:
//! - `kernels/projected_separation`: a random projection to m = 16 of a
//!   4000 x 100 blobs set, projecting and computing the exact separation of
//!   the projected points (`Projection::project`, the unit of the search
//!   over m);
//! - `kernels/lower`: [`robmem::lower::lower`] of the digits-shape network
//!   (1797 x 64, l2, radius 0.5 of limit: 181 layers);
//! - `kernels/onnx_write_sink` / `onnx_write_vec`: encoding that network as
//!   ONNX, streamed to `io::sink()` and into a `Vec<u8>`.
//!
//! The exact separation for p = 1, 2, inf has its own bench
//! (`benches/separation.rs`); the whole compile is in `benches/compile.rs`.

use criterion::{criterion_group, criterion_main, Criterion};
use robmem::analysis::report::check_program;
use robmem::backend::onnx::{write_onnx, write_onnx_to, OnnxOptions};
use robmem::construct::projection::random;
use robmem::lower::lower;
use robmem::norm::Norm;
use robmem::pipeline::compile;
use robmem::resolve::resolve_text;
use std::hint::black_box;
use std::path::Path;

const SPEC: &str = "
dataset digits = blobs(points = 1797, dim = 64, labels = 10, spread = 0.5, seed = 1)
dataset cloud = blobs(points = 4000, dim = 100, labels = 10, spread = 0.5, seed = 2)
network digits_net {
    data   = digits
    norm   = l2
    radius = 0.5 of limit
}
";

fn bench_kernels(c: &mut Criterion) {
    let program = resolve_text(Path::new("kernels.rmem"), SPEC).expect("the spec resolves");
    let outcome = check_program(&program).expect("the data loads");
    let mut group = c.benchmark_group("kernels");
    group.sample_size(10);

    let cloud = &outcome.datasets[1];
    let projection = random(cloud, 16, 1, 0, Norm::L2).expect("m <= d");
    group.bench_function("projected_separation", |b| {
        b.iter(|| black_box(projection.project(black_box(cloud)).delta))
    });

    let net = &program.networks[0];
    let report = &outcome.reports[0];
    let separation = report.separation();
    let compiled = compile(&outcome.datasets[net.data], net, &separation).expect("compiles");
    group.bench_function("lower", |b| {
        b.iter(|| black_box(lower(black_box(&compiled.program)).depth()))
    });
    let options = OnnxOptions {
        precision: net.precision,
        output: net.output,
        ..OnnxOptions::default()
    };
    group.bench_function("onnx_write_sink", |b| {
        b.iter(|| write_onnx_to(black_box(&compiled.network), &options, &mut std::io::sink()))
    });
    group.bench_function("onnx_write_vec", |b| {
        b.iter(|| black_box(write_onnx(black_box(&compiled.network), &options).map(|v| v.len())))
    });
    group.finish();
}

criterion_group!(benches, bench_kernels);
criterion_main!(benches);
