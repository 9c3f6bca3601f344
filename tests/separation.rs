//! The fast separation agrees exactly (value and pair) with the brute-force
//! reference.

use ndarray::{s, Array2, ShapeBuilder};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::analysis::separation::{separation, separation_brute_force, Separation};
use robmem::norm::Norm;

const NORMS: [Norm; 4] = [Norm::L1, Norm::L2, Norm::Lp(3.0), Norm::Linf];

fn random_set(
    seed: u64,
    n: usize,
    d: usize,
    classes: u32,
    centre: f64,
    scale: f64,
) -> (Array2<f64>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let points = Array2::from_shape_fn((n, d), |_| centre + scale * rng.gen_range(-1.0..1.0));
    let labels = (0..n).map(|_| rng.gen_range(0..classes)).collect();
    (points, labels)
}

fn check(points: &Array2<f64>, labels: &[u32], norm: Norm) -> Separation {
    let fast = separation(points.view(), labels, norm);
    let reference = separation_brute_force(points.view(), labels, norm);
    assert_eq!(
        fast,
        reference,
        "norm {norm}, n {}, d {}",
        points.nrows(),
        points.ncols()
    );
    if let Some((i, j)) = fast.pair {
        assert!(i < j && labels[i] != labels[j]);
        let xi = points.row(i).to_vec();
        let xj = points.row(j).to_vec();
        assert_eq!(norm.distance(&xi, &xj), fast.delta);
    }
    fast
}

#[test]
fn random_sets_match_the_reference() {
    for seed in 0..3 {
        for &d in &[1, 2, 7, 33] {
            for &classes in &[2, 3, 10] {
                let (points, labels) =
                    random_set(seed, 150 + 50 * seed as usize, d, classes, 0.0, 1.0);
                for norm in NORMS {
                    check(&points, &labels, norm);
                }
            }
        }
    }
}

#[test]
fn far_from_origin_with_tiny_separation() {
    for seed in 0..3 {
        for &d in &[2, 7, 33, 100] {
            let (points, labels) = random_set(seed, 300, d, 3, 1e4, 1e-2);
            for norm in NORMS {
                check(&points, &labels, norm);
            }
        }
    }
}

#[test]
fn duplicates_with_different_labels_give_zero() {
    for &d in &[1, 7, 33] {
        let (mut points, mut labels) = random_set(5, 200, d, 3, 0.0, 1.0);
        // Copy point 10 onto 150 and 40 onto 90, with different labels.
        for (from, to) in [(40, 90), (10, 150)] {
            let row = points.row(from).to_owned();
            points.row_mut(to).assign(&row);
            labels[to] = (labels[from] + 1) % 3;
        }
        for norm in NORMS {
            let s = check(&points, &labels, norm);
            assert_eq!(s.delta, 0.0);
            assert_eq!(s.pair, Some((10, 150)));
        }
    }
}

#[test]
fn many_duplicates_and_ties() {
    // A grid has many tied minimal pairs: the smallest (i, j) must win.
    for &d in &[1, 2, 3, 20] {
        let n = 240;
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let points = Array2::from_shape_fn((n, d), |_| rng.gen_range(0..3) as f64);
        let labels: Vec<u32> = (0..n).map(|_| rng.gen_range(0..2)).collect();
        for norm in NORMS {
            check(&points, &labels, norm);
        }
    }
}

#[test]
fn one_label_has_no_pair() {
    let (points, _) = random_set(1, 50, 4, 1, 0.0, 1.0);
    let labels = vec![7; 50];
    for norm in NORMS {
        let s = check(&points, &labels, norm);
        assert_eq!(
            s,
            Separation {
                delta: f64::INFINITY,
                pair: None
            }
        );
    }
    let single = Array2::<f64>::zeros((1, 3));
    assert_eq!(separation(single.view(), &[0], Norm::L2).pair, None);
}

#[test]
fn larger_set_uses_every_kernel_path() {
    // Big enough for several tiles and parallel tasks.
    let (points, labels) = random_set(11, 1500, 40, 10, 3.0, 1.0);
    for norm in [Norm::L1, Norm::L2, Norm::Linf] {
        check(&points, &labels, norm);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn matches_reference_on_arbitrary_sets(
        seed in any::<u64>(),
        n in 2usize..120,
        d in prop::sample::select(vec![1usize, 2, 7, 16, 33]),
        classes in 2u32..5,
        centre in prop::sample::select(vec![0.0, 1.0, 1e4]),
        scale in prop::sample::select(vec![1e-3, 1.0, 100.0]),
        p in prop::sample::select(vec![1.0, 1.5, 2.0, 3.0, 7.0, f64::INFINITY]),
    ) {
        let (points, labels) = random_set(seed, n, d, classes, centre, scale);
        let norm = Norm::from_p(p).unwrap();
        let fast = separation(points.view(), &labels, norm);
        prop_assert_eq!(fast, separation_brute_force(points.view(), &labels, norm));
    }
}

#[test]
fn large_norms_with_close_pairs_stress_the_gram_bounds() {
    // Centring cannot help: the points lie on a sphere of radius 1e4, and a
    // few differently-labelled pairs are only 1e-3 to 1e-2 apart.
    for &d in &[16, 33, 100] {
        let (mut points, mut labels) = random_set(21, 400, d, 4, 0.0, 1.0);
        for mut row in points.outer_iter_mut() {
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            row.mapv_inplace(|v| v / norm * 1e4);
        }
        for (k, (from, to)) in [(3, 200), (50, 350), (120, 121)].into_iter().enumerate() {
            let mut row = points.row(from).to_owned();
            row[k] += 1e-3 * (k + 1) as f64;
            points.row_mut(to).assign(&row);
            labels[to] = (labels[from] + 1) % 4;
        }
        for norm in NORMS {
            let s = check(&points, &labels, norm);
            assert_eq!(s.pair, Some((3, 200)), "{norm}");
        }
    }
}

#[test]
fn non_contiguous_views_give_the_same_result() {
    for &d in &[3, 40] {
        let (points, labels) = random_set(4, 300, d, 3, 0.0, 1.0);
        // The same matrix stored column-major, and a strided view of a wider one.
        let mut fortran = Array2::<f64>::zeros((300, d).f());
        fortran.assign(&points);
        let mut wide = Array2::<f64>::zeros((300, 2 * d));
        wide.slice_mut(s![.., ..;2]).assign(&points);
        for norm in NORMS {
            let reference = separation_brute_force(points.view(), &labels, norm);
            assert_eq!(separation(fortran.view(), &labels, norm), reference);
            assert_eq!(
                separation(wide.slice(s![.., ..;2]), &labels, norm),
                reference
            );
        }
    }
}
