//! `operator_norm_bound` is a valid upper bound on ||U||_{p->2}, and tight
//! where specs/construction.md section 3 says it is exact.

mod projection_support;

use ndarray::{Array1, Array2};
use projection_support::{gaussian, orthonormality_error, rng};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use robmem::construct::projection::{operator_norm_bound, spectral_norm_bound};
use robmem::norm::Norm;

/// A random point on the unit l_p sphere: a Gaussian (or sparse, or sign)
/// direction scaled to ||v||_p = 1.
fn unit_p(d: usize, norm: Norm, kind: usize, r: &mut ChaCha8Rng) -> Array1<f64> {
    let mut v: Array1<f64> = match kind % 3 {
        0 => Array1::from_shape_simple_fn(d, || r.sample(StandardNormal)),
        1 => {
            // Sparse: a few coordinates.
            let mut v = Array1::zeros(d);
            for _ in 0..3 {
                v[r.gen_range(0..d)] = r.sample(StandardNormal);
            }
            v
        }
        _ => Array1::from_shape_simple_fn(d, || if r.gen::<bool>() { 1.0 } else { -1.0 }),
    };
    if v.iter().all(|&x| x == 0.0) {
        v[0] = 1.0;
    }
    let len = norm.length(v.as_slice().unwrap());
    v / len
}

fn norms() -> [Norm; 5] {
    [Norm::L1, Norm::L2, Norm::Lp(3.0), Norm::Lp(1.5), Norm::Linf]
}

#[test]
fn bounds_are_never_exceeded_by_sampled_vectors() {
    let mut r = rng(7);
    for &(m, d) in &[(1, 5), (3, 3), (4, 20), (12, 40), (30, 8)] {
        let u = gaussian(m, d, &mut r);
        for norm in norms() {
            let bound = operator_norm_bound(u.view(), norm);
            assert!(bound.is_finite() && bound > 0.0);
            for trial in 0..3000 {
                let v = unit_p(d, norm, trial, &mut r);
                let uv = u.dot(&v);
                let len = uv.dot(&uv).sqrt();
                assert!(
                    len <= bound,
                    "{norm}: ||Uv|| = {len} > bound {bound} (m = {m}, d = {d})"
                );
            }
        }
    }
}

#[test]
fn zero_columns_sharpen_the_linf_and_lp_bounds_soundly() {
    let mut r = rng(13);
    let mut u = gaussian(4, 30, &mut r);
    for j in 10..30 {
        u.column_mut(j).fill(0.0);
    }
    for norm in norms() {
        let bound = operator_norm_bound(u.view(), norm);
        for trial in 0..3000 {
            let v = unit_p(30, norm, trial, &mut r);
            let uv = u.dot(&v);
            assert!(uv.dot(&uv).sqrt() <= bound, "{norm}");
        }
    }
    // l_inf: sqrt(10) ||U||_2, not sqrt(30) ||U||_2.
    let spectral = spectral_norm_bound(u.view());
    let linf = operator_norm_bound(u.view(), Norm::Linf);
    assert!(linf <= 10f64.sqrt() * spectral * (1.0 + 1e-12));
}

#[test]
fn l1_bound_is_attained_by_the_longest_column() {
    let mut r = rng(11);
    let u = gaussian(6, 25, &mut r);
    let bound = operator_norm_bound(u.view(), Norm::L1);
    let longest = u
        .columns()
        .into_iter()
        .map(|c| c.dot(&c).sqrt())
        .fold(0.0f64, f64::max);
    assert!(bound >= longest);
    assert!((bound - longest) / longest < 1e-13, "{bound} vs {longest}");
}

#[test]
fn l2_bound_is_nearly_attained_by_the_top_singular_vector() {
    let mut r = rng(12);
    for &(m, d) in &[(5, 30), (30, 5), (10, 10)] {
        let u = gaussian(m, d, &mut r);
        let bound = spectral_norm_bound(u.view());
        assert_eq!(bound, operator_norm_bound(u.view(), Norm::L2));
        // Power iteration on U^T U.
        let gram = u.t().dot(&u);
        let mut v = Array1::from_elem(d, 1.0);
        for _ in 0..2000 {
            let w = gram.dot(&v);
            v = &w / w.dot(&w).sqrt();
        }
        let uv = u.dot(&v);
        let attained = uv.dot(&uv).sqrt();
        assert!(attained <= bound);
        assert!(
            (bound - attained) / attained < 1e-9,
            "{bound} vs {attained} (m = {m}, d = {d})"
        );
    }
}

#[test]
fn orthonormal_rows_have_spectral_bound_one() {
    // Rows of a rotation: U U^T = I.
    let theta: f64 = 0.3;
    let u = Array2::from_shape_vec(
        (2, 3),
        vec![
            theta.cos(),
            theta.sin(),
            0.0,
            -theta.sin(),
            theta.cos(),
            0.0,
        ],
    )
    .unwrap();
    assert!(orthonormality_error(&u) < 1e-15);
    let b = operator_norm_bound(u.view(), Norm::L2);
    assert!((1.0..1.0 + 1e-12).contains(&b), "{b}");
    // The third column is zero, so only s = 2 coordinates matter.
    // l_inf: min(sqrt(2) * 1, sum of column norms = 2) = sqrt(2).
    let b = operator_norm_bound(u.view(), Norm::Linf);
    assert!(
        (2f64.sqrt()..2f64.sqrt() * (1.0 + 1e-12)).contains(&b),
        "{b}"
    );
    // l(4): 2^(1/4).
    let b = operator_norm_bound(u.view(), Norm::Lp(4.0));
    let expected = 2f64.powf(0.25);
    assert!((expected..expected * (1.0 + 1e-12)).contains(&b), "{b}");
    // Without a zero column, d = 3 counts: sqrt(3).
    let mut w = u.clone();
    w[[1, 2]] = 1e-3;
    let b = operator_norm_bound(w.view(), Norm::Linf);
    assert!(b > 3f64.sqrt() && b < 3f64.sqrt() * 1.001, "{b}");
}

#[test]
fn linf_bound_uses_the_column_sum_when_it_is_smaller() {
    // One row e_1 in d = 100: sqrt(d) ||U||_2 = 10, column sum = 1 (exact).
    let mut u = Array2::zeros((1, 100));
    u[[0, 0]] = 1.0;
    let b = operator_norm_bound(u.view(), Norm::Linf);
    assert!((1.0..1.0 + 1e-12).contains(&b), "{b}");
}

#[test]
fn empty_and_zero_matrices_have_bound_zero() {
    let u = Array2::<f64>::zeros((3, 4));
    for norm in norms() {
        let b = operator_norm_bound(u.view(), norm);
        assert!((0.0..1e-300).contains(&b), "{norm}: {b}");
    }
}
