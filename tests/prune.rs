//! The pruned separation sweep agrees exactly (value and pair, ties to the
//! smallest (i, j)) with the brute-force reference, on random and
//! adversarial data, for every norm.

mod support;

use ndarray::Array2;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::analysis::separation::{
    separation, separation_brute_force, separation_pruned, PRUNE_MIN_POINTS,
};
use robmem::norm::Norm;
use support::shapes::{build, Shape};

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

const SHAPES: [Shape; 7] = [
    Shape::Random,
    Shape::Duplicates,
    Shape::Ties,
    Shape::LastCoordinates,
    Shape::OneClosePair,
    Shape::Scales,
    Shape::Line,
];

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
