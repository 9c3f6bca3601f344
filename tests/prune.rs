//! The pruned separation sweep agrees exactly (value and pair, ties to the
//! smallest (i, j)) with the brute-force reference, on random and
//! adversarial data, for every norm.

use ndarray::Array2;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::analysis::separation::{
    separation, separation_brute_force, separation_pruned, PRUNE_MIN_POINTS,
};
use robmem::norm::Norm;

const NORMS: [Norm; 6] = [
    Norm::L1,
    Norm::L2,
    Norm::Linf,
    Norm::Lp(1.5),
    Norm::Lp(3.0),
    Norm::Lp(2.7),
];

/// Asserts that the pruned sweep gives the brute-force value and pair.
fn agrees(points: &Array2<f64>, labels: &[u32], norm: Norm) {
    let pruned = separation_pruned(points.view(), labels, norm).expect("a sketch");
    let reference = separation_brute_force(points.view(), labels, norm);
    assert_eq!(
        (pruned.delta.to_bits(), pruned.pair),
        (reference.delta.to_bits(), reference.pair),
        "{norm}: pruned {pruned:?}, reference {reference:?}"
    );
}

/// A kind of adversarial data set, built from a seed.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// Uniform in a box.
    Random,
    /// Few distinct points, repeated under several labels (many pairs at 0).
    Duplicates,
    /// Small integer coordinates: many pairs at the same distance.
    Ties,
    /// Equal in every coordinate but the last ones, which differ slightly.
    LastCoordinates,
    /// Spread far apart, with one close pair of different labels.
    OneClosePair,
    /// Coordinates of scales 1 and 1000, alternating.
    Scales,
    /// Near a line (one dominant direction), far from the origin.
    Line,
}

const SHAPES: [Shape; 7] = [
    Shape::Random,
    Shape::Duplicates,
    Shape::Ties,
    Shape::LastCoordinates,
    Shape::OneClosePair,
    Shape::Scales,
    Shape::Line,
];

fn build(shape: Shape, seed: u64, n: usize, d: usize, classes: u32) -> (Array2<f64>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels: Vec<u32> = (0..n).map(|_| rng.gen_range(0..classes)).collect();
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
    };
    let mut labels = labels;
    if let Shape::OneClosePair = shape {
        labels[1] = 0;
        labels[n - 1] = 1;
    }
    (points, labels)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn pruned_sweep_matches_brute_force(
        seed in any::<u64>(),
        shape in 0..SHAPES.len(),
        n in 2usize..48,
        d in 1usize..40,
        classes in 2u32..5,
    ) {
        let (points, labels) = build(SHAPES[shape], seed, n, d, classes);
        for norm in NORMS {
            agrees(&points, &labels, norm);
        }
    }
}

#[test]
fn every_shape_and_norm_at_a_fixed_size() {
    for (s, shape) in SHAPES.into_iter().enumerate() {
        for (n, d) in [(60, 3), (60, 30), (200, 50)] {
            let (points, labels) = build(shape, s as u64, n, d, 3);
            for norm in NORMS {
                agrees(&points, &labels, norm);
            }
        }
    }
}

#[test]
fn a_single_label_has_no_pair() {
    let (points, _) = build(Shape::Random, 3, 30, 5, 2);
    for norm in NORMS {
        let s = separation_pruned(points.view(), &[7; 30], norm).unwrap();
        assert_eq!((s.delta, s.pair), (f64::INFINITY, None));
    }
}

/// Clustered data of low intrinsic dimension, above the size from which
/// [`separation`] tries the sweep: the chosen kernel and the forced sweep
/// both give the brute-force answer.
#[test]
fn separation_with_the_sweep_matches_brute_force_on_clustered_data() {
    let (n, d, latent) = (PRUNE_MIN_POINTS + 500, 24, 3);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mix = Array2::from_shape_fn((latent, d), |_| rng.gen_range(-1.0..1.0));
    let codes = Array2::from_shape_fn((n, latent), |_| rng.gen_range(-10.0..10.0));
    let noise = Array2::from_shape_fn((n, d), |_| rng.gen_range(-0.01..0.01));
    let points = codes.dot(&mix) + noise;
    let labels: Vec<u32> = (0..n).map(|_| rng.gen_range(0..4)).collect();
    for norm in [Norm::L2, Norm::Linf] {
        let reference = separation_brute_force(points.view(), &labels, norm);
        let chosen = separation(points.view(), &labels, norm);
        assert_eq!(
            (chosen.delta, chosen.pair),
            (reference.delta, reference.pair)
        );
        agrees(&points, &labels, norm);
    }
}

#[test]
fn identical_points_under_two_labels_are_at_distance_zero() {
    let points = Array2::from_elem((5, 4), 2.5);
    for norm in NORMS {
        agrees(&points, &[0, 1, 0, 1, 1], norm);
    }
}

#[test]
fn p_above_a_million_has_no_sketch() {
    let (points, labels) = build(Shape::Random, 1, 10, 3, 2);
    assert!(separation_pruned(points.view(), &labels, Norm::Lp(2e6)).is_none());
}
