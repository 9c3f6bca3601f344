//! Criterion benchmarks of `robmem compile` on the digits shape (issue #3):
//! 1797 points in 64 dimensions, 10 labels, l2, radius 0.5 of the limit.
//!
//! Run with `cargo bench --bench compile`. Groups:
//! - `compile_digits/end_to_end`: what `robmem compile` does — resolve the
//!   spec, generate the data, exact separation, plan, assemble, lower,
//!   passes, encode ONNX (to memory; the command writes the same bytes to a
//!   file);
//! - `compile_digits/pipeline`: [`robmem::pipeline::compile`] alone (plan,
//!   assemble, lower, passes) on data loaded once;
//! - `compile_digits/plan`: the search over m alone, per projection strategy.
//!
//! The 60000 x 784 case takes tens of seconds per run and is measured by
//! `scripts/bench_compile.sh mnist` instead.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use robmem::analysis::report::check_program;
use robmem::analysis::separation::Separation;
use robmem::backend::onnx::{write_onnx, OnnxOptions};
use robmem::construct::plan::{plan, Request};
use robmem::pipeline::compile;
use robmem::resolve::resolve_text;
use robmem::spec::{Program, ProjectionChoice};
use std::hint::black_box;
use std::path::Path;

/// The benchmark spec: the digits shape as overlapping blobs (see
/// BENCHMARKS.md for the choice of spread).
const DIGITS: &str = "
dataset digits = blobs(points = 1797, dim = 64, labels = 10, spread = 0.5, seed = 1)
network digits_net {
    data   = digits
    norm   = l2
    radius = 0.5 of limit
}
";

fn program() -> Program {
    resolve_text(Path::new("digits.rmem"), DIGITS).expect("the benchmark spec resolves")
}

/// Everything `robmem compile` does for the spec, but writing to memory.
fn end_to_end() -> usize {
    let program = program();
    let outcome = check_program(&program).expect("the data loads");
    let net = &program.networks[0];
    let report = &outcome.reports[0];
    let separation = Separation {
        delta: report.delta,
        pair: report.pair.as_ref().map(|(a, b)| (a.index, b.index)),
    };
    let compiled = compile(&outcome.datasets[net.data], net, &separation).expect("compiles");
    let options = OnnxOptions {
        precision: net.precision,
        output: net.output,
        ..OnnxOptions::default()
    };
    write_onnx(&compiled.network, &options)
        .expect("encodes")
        .len()
}

fn bench_digits(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile_digits");
    group.sample_size(10);
    group.bench_function("end_to_end", |b| b.iter(|| black_box(end_to_end())));

    let program = program();
    let outcome = check_program(&program).expect("the data loads");
    let net = &program.networks[0];
    let data = &outcome.datasets[net.data];
    let report = &outcome.reports[0];
    let separation = Separation {
        delta: report.delta,
        pair: report.pair.as_ref().map(|(a, b)| (a.index, b.index)),
    };
    group.bench_function("pipeline", |b| {
        b.iter(|| compile(black_box(data), net, &separation).expect("compiles"))
    });
    for projection in [
        ProjectionChoice::Auto,
        ProjectionChoice::Pca,
        ProjectionChoice::Random,
    ] {
        let request = Request {
            data,
            norm: net.norm,
            delta: separation.delta,
            radius: net.radius,
            width: net.width,
            depth: net.depth,
            output: net.output,
            projection,
            seed: net.seed,
            arithmetic: robmem::construct::arithmetic::Arithmetic::of(net.precision),
            condense: net.condense,
            memory: None,
        };
        group.bench_with_input(
            BenchmarkId::new("plan", format!("{projection:?}").to_lowercase()),
            &request,
            |b, request| b.iter(|| plan(black_box(request)).expect("plans")),
        );
    }
    group.finish();
}

criterion_group!(benches, bench_digits);
criterion_main!(benches);
