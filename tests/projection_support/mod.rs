//! Shared helpers for the projection tests: small seeded data sets.
#![allow(dead_code)]

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use robmem::data::{Dataset, LabelValue, Provenance};

/// A data set from points and integer labels.
pub fn dataset(points: Array2<f64>, labels: &[u32]) -> Dataset {
    let raw: Vec<LabelValue> = labels
        .iter()
        .map(|&l| LabelValue::Number(l as f64))
        .collect();
    Dataset::from_raw(
        points,
        &raw,
        Provenance::Generated {
            description: "test".into(),
        },
    )
    .expect("valid test data")
}

/// A seeded stream for tests.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// An n x d matrix of standard Gaussians.
pub fn gaussian(n: usize, d: usize, rng: &mut ChaCha8Rng) -> Array2<f64> {
    Array2::from_shape_simple_fn((n, d), || rng.sample(StandardNormal))
}

/// Gaussian clusters: `labels` centres uniform in the unit cube, points
/// assigned round-robin, each coordinate displaced by N(0, spread^2).
pub fn blobs(n: usize, d: usize, labels: usize, spread: f64, seed: u64) -> Dataset {
    let mut r = rng(seed);
    let centres = Array2::from_shape_simple_fn((labels, d), || r.gen::<f64>());
    let mut points = Array2::zeros((n, d));
    let mut ys = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % labels;
        for k in 0..d {
            let noise: f64 = r.sample(StandardNormal);
            points[[i, k]] = centres[[c, k]] + spread * noise;
        }
        ys.push(c as u32);
    }
    dataset(points, &ys)
}

/// Random points with uniformly random labels among `labels`.
pub fn random_labelled(n: usize, d: usize, labels: u32, seed: u64) -> Dataset {
    let mut r = rng(seed);
    let points = gaussian(n, d, &mut r);
    let ys: Vec<u32> = (0..n).map(|_| r.gen_range(0..labels)).collect();
    dataset(points, &ys)
}

/// Largest |(A A^T - I)_{ij}|.
pub fn orthonormality_error(a: &Array2<f64>) -> f64 {
    let g = a.dot(&a.t());
    let mut worst = 0.0f64;
    for ((i, j), &v) in g.indexed_iter() {
        let target = if i == j { 1.0 } else { 0.0 };
        worst = worst.max((v - target).abs());
    }
    worst
}
