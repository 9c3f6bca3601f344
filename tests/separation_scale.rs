//! Timings at the sizes the compiler meets (ignored by default: run with
//! `cargo test --release --test separation_scale -- --ignored --nocapture`).
//! Each also checks the reported pair against `Norm::distance`.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::analysis::separation::separation;
use robmem::data::generators::Generator;
use robmem::norm::Norm;
use std::time::Instant;

fn timed(name: &str, points: &Array2<f64>, labels: &[u32], norm: Norm) {
    let start = Instant::now();
    let s = separation(points.view(), labels, norm);
    let elapsed = start.elapsed();
    let (i, j) = s.pair.expect("several labels");
    let (xi, xj) = (points.row(i).to_vec(), points.row(j).to_vec());
    assert_eq!(norm.distance(&xi, &xj), s.delta);
    assert_ne!(labels[i], labels[j]);
    println!(
        "{name} {norm}: delta = {} at {:?} in {elapsed:.2?}",
        s.delta, s.pair
    );
}

fn uniform(n: usize, d: usize, classes: u32) -> (Array2<f64>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let points = Array2::from_shape_fn((n, d), |_| rng.gen::<f64>());
    let labels = (0..n).map(|_| rng.gen_range(0..classes)).collect();
    (points, labels)
}

#[test]
#[ignore = "timing: run in release"]
fn uniform_20000_by_100_every_norm() {
    let (points, labels) = uniform(20_000, 100, 10);
    for norm in [Norm::L1, Norm::L2, Norm::Linf, Norm::Lp(1.5), Norm::Lp(3.0)] {
        timed("uniform 20000x100", &points, &labels, norm);
    }
}

#[test]
#[ignore = "timing: run in release"]
fn projected_60000_by_20_l2() {
    let (points, labels) = uniform(60_000, 20, 10);
    timed("uniform 60000x20", &points, &labels, Norm::L2);
}

#[test]
#[ignore = "timing: run in release"]
fn mnist_sized_blobs_l2() {
    let start = Instant::now();
    let ds = Generator::Blobs {
        points: 60_000,
        dim: 784,
        labels: 10,
        spread: 0.05,
        seed: 1,
    }
    .generate()
    .unwrap();
    println!("blobs 60000x784 generated in {:.2?}", start.elapsed());
    timed("blobs 60000x784", &ds.points, &ds.labels, Norm::L2);
    let (points, labels) = uniform(60_000, 784, 10);
    timed("uniform 60000x784", &points, &labels, Norm::L2);
}
