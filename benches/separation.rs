//! Criterion benchmarks of the exact separation kernels.
//!
//! Run with `cargo bench --bench separation`. Sample sizes are small so the
//! whole run takes a few minutes on two cores.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::analysis::separation::{separation, separation_brute_force};
use robmem::norm::Norm;
use std::hint::black_box;
use std::time::Duration;

/// N points uniform in [0,1]^d with labels uniform in 0..classes.
fn data(n: usize, d: usize, classes: u32) -> (Array2<f64>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let points = Array2::from_shape_fn((n, d), |_| rng.gen::<f64>());
    let labels = (0..n).map(|_| rng.gen_range(0..classes)).collect();
    (points, labels)
}

const NORMS: [Norm; 3] = [Norm::L1, Norm::L2, Norm::Linf];

fn bench_large(c: &mut Criterion) {
    let mut group = c.benchmark_group("separation_20000x100");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let (points, labels) = data(20_000, 100, 10);
    for norm in NORMS {
        group.bench_with_input(BenchmarkId::from_parameter(norm), &norm, |b, &norm| {
            b.iter(|| separation(black_box(points.view()), &labels, norm))
        });
    }
    group.finish();
}

fn bench_small(c: &mut Criterion) {
    let mut group = c.benchmark_group("separation_2000x64");
    group.sample_size(10);
    let (points, labels) = data(2_000, 64, 10);
    for norm in NORMS {
        group.bench_with_input(BenchmarkId::from_parameter(norm), &norm, |b, &norm| {
            b.iter(|| separation(black_box(points.view()), &labels, norm))
        });
    }
    group.finish();
}

fn bench_brute_force(c: &mut Criterion) {
    let mut group = c.benchmark_group("brute_force_2000x64");
    group.sample_size(10);
    let (points, labels) = data(2_000, 64, 10);
    for norm in NORMS {
        group.bench_with_input(BenchmarkId::from_parameter(norm), &norm, |b, &norm| {
            b.iter(|| separation_brute_force(black_box(points.view()), &labels, norm))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_small, bench_brute_force, bench_large);
criterion_main!(benches);
