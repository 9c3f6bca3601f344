//! Adversarial data sets for the exact separation kernels' property tests
//! (tests/prune.rs, tests/quant.rs): each built from a seed, with random
//! labels unless the shape fixes them.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A kind of adversarial data set, built from a seed.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// Uniform in a box.
    Random,
    /// Few distinct points, repeated under several labels (many pairs at 0).
    Duplicates,
    /// Small integer coordinates: many pairs at exactly the same distance.
    Ties,
    /// Equal in every coordinate but the last ones, which differ slightly.
    LastCoordinates,
    /// Spread far apart, with one close pair of different labels.
    OneClosePair,
    /// Coordinates of scales 1 and 1000, alternating.
    Scales,
    /// Near a line (one dominant direction), far from the origin.
    Line,
    /// One column a thousand times as spread as the others.
    OneWideColumn,
    /// Half the columns constant.
    ConstantColumns,
    /// Far from the origin (1e6) with a small spread.
    Offset,
    /// Points equal after a coarse quantization (the spread below the step
    /// in all but one column, whose values are shared) that still differ.
    SameIntegers,
    /// Isotropic clusters, one per label (the benchmark's blobs).
    Blobs,
}

/// `n` points in `d` dimensions of `shape` with labels below `classes`.
pub fn build(shape: Shape, seed: u64, n: usize, d: usize, classes: u32) -> (Array2<f64>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut labels: Vec<u32> = (0..n).map(|_| rng.gen_range(0..classes)).collect();
    let points = match shape {
        Shape::Random => Array2::from_shape_fn((n, d), |_| rng.gen_range(-1.0..1.0)),
        Shape::Duplicates => {
            let distinct: Vec<f64> = (0..3 * d).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let pick: Vec<usize> = (0..n).map(|_| rng.gen_range(0..3)).collect();
            Array2::from_shape_fn((n, d), |(i, k)| distinct[pick[i] * d + k])
        }
        Shape::Ties => Array2::from_shape_fn((n, d), |_| f64::from(rng.gen_range(0..3))),
        Shape::LastCoordinates => {
            let base: Vec<f64> = (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect();
            Array2::from_shape_fn((n, d), |(_, k)| {
                if k + 2 >= d {
                    base[k] + rng.gen_range(-1e-9..1e-9)
                } else {
                    base[k]
                }
            })
        }
        Shape::OneClosePair => {
            let mut points = Array2::from_shape_fn((n, d), |(i, k)| {
                100.0 * i as f64
                    + if k == 0 {
                        0.0
                    } else {
                        rng.gen_range(-1.0..1.0)
                    }
            });
            // Point 1 next to point n - 1 (far in every sketch coordinate
            // order but the exact one).
            let close: Vec<f64> = points.row(n - 1).iter().map(|x| x + 1e-3).collect();
            points.row_mut(1).assign(&ndarray::Array1::from(close));
            labels[1] = 0;
            labels[n - 1] = 1;
            points
        }
        Shape::Scales => Array2::from_shape_fn((n, d), |(_, k)| {
            rng.gen_range(-1.0..1.0) * if k % 2 == 0 { 1000.0 } else { 1.0 }
        }),
        Shape::Line => {
            let direction: Vec<f64> = (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect();
            Array2::from_shape_fn((n, d), |(i, k)| {
                1e6 + direction[k] * (i % 17) as f64 + 1e-3 * rng.gen_range(-1.0..1.0)
            })
        }
        Shape::OneWideColumn => Array2::from_shape_fn((n, d), |(_, k)| {
            rng.gen_range(-1.0..1.0) * if k == d / 2 { 1000.0 } else { 1.0 }
        }),
        Shape::ConstantColumns => Array2::from_shape_fn((n, d), |(_, k)| {
            if k % 2 == 0 {
                0.25 * k as f64
            } else {
                rng.gen_range(-1.0..1.0)
            }
        }),
        Shape::Offset => Array2::from_shape_fn((n, d), |_| 1e6 + rng.gen_range(0.0..1e-3)),
        Shape::SameIntegers => {
            let wide: Vec<f64> = (0..n).map(|i| 1000.0 * (i % 2) as f64).collect();
            Array2::from_shape_fn((n, d), |(i, k)| {
                if k == 0 {
                    wide[i]
                } else {
                    rng.gen_range(0.0..1e-3)
                }
            })
        }
        Shape::Blobs => {
            let centres: Vec<f64> = (0..classes as usize * d)
                .map(|_| rng.gen_range(0.0..1.0))
                .collect();
            Array2::from_shape_fn((n, d), |(i, k)| {
                let noise: f64 = (0..4).map(|_| rng.gen_range(-0.5..0.5)).sum();
                centres[labels[i] as usize * d + k] + 0.5 * noise
            })
        }
    };
    (points, labels)
}
