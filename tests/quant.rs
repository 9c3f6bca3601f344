//! The l_2 integer kernel (quantized lower bounds) agrees exactly (value
//! and pair, ties to the smallest (i, j)) with the brute-force reference on
//! random and adversarial data, with the VNNI and the portable dot product.

mod support;

use ndarray::Array2;
use proptest::prelude::*;
use robmem::analysis::separation::{
    close_pairs, separation, separation_brute_force, separation_quantized, IntegerDot,
    QUANT_MIN_POINTS,
};
use robmem::norm::Norm;
use support::shapes::{build, Shape};

/// Asserts that both dot products give the brute-force value and pair.
fn agrees(points: &Array2<f64>, labels: &[u32]) {
    let reference = separation_brute_force(points.view(), labels, Norm::L2);
    for dot in [IntegerDot::Vnni, IntegerDot::Portable] {
        let Some(found) = separation_quantized(points.view(), labels, dot, usize::MAX) else {
            // Only data that cannot be quantized: every point equal in
            // every coordinate (no step), so delta is 0.
            assert_eq!(reference.delta, 0.0, "{dot:?} gave up");
            continue;
        };
        assert_eq!(
            (found.delta.to_bits(), found.pair),
            (reference.delta.to_bits(), reference.pair),
            "{dot:?}: quantized {found:?}, reference {reference:?}"
        );
    }
}

const SHAPES: [Shape; 9] = [
    Shape::Random,
    Shape::Duplicates,
    Shape::Ties,
    Shape::OneWideColumn,
    Shape::ConstantColumns,
    Shape::Offset,
    Shape::SameIntegers,
    Shape::OneClosePair,
    Shape::Blobs,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn quantized_kernel_matches_brute_force(
        seed in any::<u64>(),
        shape in 0..SHAPES.len(),
        n in 2usize..90,
        d in 1usize..70,
        classes in prop_oneof![Just(2u32), 3u32..6, Just(40u32)],
    ) {
        let (points, labels) = build(SHAPES[shape], seed, n, d, classes);
        agrees(&points, &labels);
    }
}

#[test]
fn every_shape_at_sizes_that_fill_several_tiles_and_blocks() {
    // 230 points: several row blocks of 96, a partial micro-tile of 6 and
    // a partial column group of 32; dimensions below, at and above a
    // multiple of 4 and of 64.
    for (s, shape) in SHAPES.into_iter().enumerate() {
        for (n, d, classes) in [(230, 3, 2), (230, 64, 5), (230, 67, 40), (131, 130, 3)] {
            let (points, labels) = build(shape, s as u64, n, d, classes);
            agrees(&points, &labels);
        }
    }
}

#[test]
fn ties_break_towards_the_smallest_pair() {
    // Points on a grid: many differently-labelled pairs at distance 1.
    let n = 200;
    let points = Array2::from_shape_fn((n, 20), |(i, k)| ((i / 4 + k) % 7) as f64);
    let labels: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
    agrees(&points, &labels);
}

#[test]
fn identical_points_under_two_labels() {
    let mut points = Array2::from_shape_fn((50, 9), |(i, k)| (i * 9 + k) as f64);
    let copy = points.row(7).to_owned();
    points.row_mut(31).assign(&copy);
    let labels: Vec<u32> = (0..50).map(|i| u32::from(i == 31)).collect();
    let found = separation_quantized(points.view(), &labels, IntegerDot::Vnni, usize::MAX).unwrap();
    assert_eq!((found.delta, found.pair), (0.0, Some((7, 31))));
    agrees(&points, &labels);
}

#[test]
fn data_that_cannot_be_quantized_give_up() {
    let labels = [0, 1, 0];
    let mut points = Array2::from_elem((3, 4), 1.0);
    assert!(separation_quantized(points.view(), &labels, IntegerDot::Vnni, 10).is_none());
    points[(1, 2)] = f64::NAN;
    assert!(separation_quantized(points.view(), &labels, IntegerDot::Vnni, 10).is_none());
    points[(1, 2)] = -f64::MAX;
    points[(2, 2)] = f64::MAX;
    assert!(separation_quantized(points.view(), &labels, IntegerDot::Vnni, 10).is_none());
}

#[test]
fn gives_up_when_too_many_pairs_need_their_distance() {
    let (points, labels) = build(Shape::Duplicates, 5, 300, 20, 2);
    assert!(separation_quantized(points.view(), &labels, IntegerDot::Vnni, 100).is_none());
    agrees(&points, &labels);
}

#[test]
fn a_single_label_has_no_pair() {
    let (points, _) = build(Shape::Random, 3, 30, 5, 2);
    let s = separation_quantized(points.view(), &[7; 30], IntegerDot::Vnni, 0).unwrap();
    assert_eq!((s.delta, s.pair), (f64::INFINITY, None));
}

/// Blobs above the size from which [`separation`] tries the integer
/// kernel: the chosen kernel and the forced one give the brute-force
/// answer.
#[test]
fn separation_above_the_threshold_matches_brute_force_on_blobs() {
    let (points, labels) = build(Shape::Blobs, 21, QUANT_MIN_POINTS + 300, 40, 10);
    let reference = separation_brute_force(points.view(), &labels, Norm::L2);
    let chosen = separation(points.view(), &labels, Norm::L2);
    assert_eq!(
        (chosen.delta.to_bits(), chosen.pair),
        (reference.delta.to_bits(), reference.pair)
    );
    let forced =
        separation_quantized(points.view(), &labels, IntegerDot::Vnni, usize::MAX).unwrap();
    assert_eq!(
        (forced.delta.to_bits(), forced.pair),
        (reference.delta.to_bits(), reference.pair)
    );
}

/// [`close_pairs`] above the size from which it tries the integer kernel:
/// exactly the pairs (and values) of a scan of every pair.
#[test]
fn close_pairs_above_the_threshold_match_a_scan_of_every_pair() {
    let (points, labels) = build(Shape::Blobs, 8, QUANT_MIN_POINTS + 100, 24, 10);
    let mut all = Vec::new();
    for i in 0..points.nrows() {
        let xi = points.row(i).to_vec();
        for j in i + 1..points.nrows() {
            if labels[i] != labels[j] {
                let xj = points.row(j).to_vec();
                all.push((Norm::L2.distance(&xi, &xj), i, j));
            }
        }
    }
    all.sort_by(|x, y| x.0.total_cmp(&y.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    let cutoff = all[500].0;
    let found = close_pairs(points.view(), &labels, cutoff, 1 << 20).unwrap();
    let found: Vec<(f64, usize, usize)> = found
        .iter()
        .map(|c| (c.distance, c.pair.0, c.pair.1))
        .collect();
    let expected: Vec<_> = all.into_iter().filter(|x| x.0 <= cutoff).collect();
    assert_eq!(found, expected);
}
