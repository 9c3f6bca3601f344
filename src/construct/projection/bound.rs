//! Upper bounds on `||U||_{p->2} = max ||U v||_2 over ||v||_p <= 1`
//! (specs/construction.md section 3).
//!
//! A certificate rests on these numbers, so every one is a valid UPPER bound
//! in real arithmetic: each floating-point step is followed by an explicit,
//! documented inflation that covers its rounding error.

use crate::norm::Norm;
use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{ArrayView2, Axis};

const EPS: f64 = f64::EPSILON;

/// An upper bound on `||U||_{p->2}` for the l_p `norm` (specs/construction.md
/// section 3):
/// - p = 2: the spectral norm `||U||_2` ([`spectral_norm_bound`]);
/// - p = 1: the largest column l_2 norm (exact up to rounding);
/// - p = inf: `min(sqrt(s) ||U||_2, sum of column l_2 norms)`;
/// - other p: `max(1, s^(1/2 - 1/p)) ||U||_2`;
///
/// where `s <= d` is the number of columns of `U` with a nonzero entry (the
/// section's d, sharpened: `U v` only reads the coordinates of v in those
/// columns, and `||v_S||_2 <= |S|^(1/2 - 1/p) ||v||_p` for p >= 2). With no
/// zero column, s = d and these are the formulas of section 3 verbatim.
///
/// `U` is m x d. Returns 0 for an empty matrix.
pub fn operator_norm_bound(u: ArrayView2<f64>, norm: Norm) -> f64 {
    let (m, d) = u.dim();
    if m == 0 || d == 0 {
        return 0.0;
    }
    // Column l_2 norms: a sum of m squares has relative error at most
    // gamma_m ~ m eps, the square root halves it and adds eps; (m + 4) eps
    // covers both.
    let column_norms: Vec<f64> = u
        .axis_iter(Axis(1))
        .map(|c| c.dot(&c).sqrt() * (1.0 + (m as f64 + 4.0) * EPS))
        .collect();
    let max_column = column_norms.iter().fold(0.0f64, |a, &b| a.max(b));
    // Summing d non-negative numbers: relative error at most (d + 2) eps.
    let sum_columns = column_norms.iter().sum::<f64>() * (1.0 + (d as f64 + 2.0) * EPS);
    // Columns with a nonzero entry (tested on the entries: a tiny entry can
    // square to zero).
    let support = u
        .axis_iter(Axis(1))
        .filter(|c| c.iter().any(|&x| x != 0.0))
        .count();
    let spectral = match norm {
        // Not needed for p = 1 (the column bound is exact).
        Norm::L1 => f64::INFINITY,
        _ => spectral_norm_bound(u),
    };
    bound_from_parts(norm, support, spectral, max_column, sum_columns)
}

/// Combines upper bounds on the spectral norm, the largest column norm and
/// the sum of column norms of a matrix with `support` nonzero columns into
/// the bound of [`operator_norm_bound`] for `norm`. The inputs must already be upper
/// bounds; the only rounding added here (a square root, a power, a product)
/// is covered by a few ulps of inflation.
pub(crate) fn bound_from_parts(
    norm: Norm,
    support: usize,
    spectral: f64,
    max_column: f64,
    sum_columns: f64,
) -> f64 {
    let s = support as f64;
    match norm {
        // ||U v||_2 = ||sum_j v_j u_j||_2 <= sum_j |v_j| ||u_j||_2 <= max_j ||u_j|| ||v||_1,
        // attained at the unit vector of the longest column.
        Norm::L1 => max_column,
        Norm::L2 => spectral,
        // ||U v||_2 = ||U v_S||_2 <= ||U||_2 ||v_S||_2 <= ||U||_2 sqrt(s) ||v||_inf,
        // and ||U v||_2 <= sum_j |v_j| ||u_j||_2.
        Norm::Linf => (s.sqrt() * spectral * (1.0 + 4.0 * EPS)).min(sum_columns),
        // For p <= 2, ||v_S||_2 <= ||v||_p; for p > 2,
        // ||v_S||_2 <= s^(1/2 - 1/p) ||v||_p.
        Norm::Lp(p) => {
            let factor = if p <= 2.0 {
                1.0
            } else {
                s.powf(0.5 - 1.0 / p).max(1.0) * (1.0 + 8.0 * EPS)
            };
            factor * spectral * (1.0 + 2.0 * EPS)
        }
    }
}

/// An upper bound on the spectral norm `||U||_2` (largest singular value).
///
/// Computed as `sqrt(lambda_max(G))` with `G = U U^T` (or `U^T U`, whichever
/// is smaller, k x k), by nalgebra's symmetric eigen-decomposition, then
/// inflated to be safe:
/// - forming `G` in floating point perturbs it by `E` with
///   `|E| <= gamma_n |U| |U|^T` entrywise (n = the inner dimension), so
///   `||E||_2 <= gamma_n ||U||_F^2`;
/// - the symmetric QR algorithm is backward stable: the computed eigenvalues
///   are exact for `G + F` with `||F||_2 <= c(k) eps ||G||_2`, where `c(k)`
///   is a modest polynomial in k; we allow `c(k) = 8 k^2 + 16`, far above the
///   constants observed in practice;
/// - `||G||_2 <= trace(G) = ||U||_F^2`.
///
/// Hence `lambda_max(G) <= lambda_hat + (2 n + 8 k^2 + 16) eps ||U||_F^2`,
/// and also `lambda_max(G) <= ||U||_F^2`. For orthonormal rows (m = 20,
/// d = 784) the inflation is about 1e-11 relative: tight, yet safe.
pub fn spectral_norm_bound(u: ArrayView2<f64>) -> f64 {
    let (m, d) = u.dim();
    if m == 0 || d == 0 {
        return 0.0;
    }
    let (gram, inner) = if m <= d {
        (u.dot(&u.t()), d)
    } else {
        (u.t().dot(&u), m)
    };
    let k = gram.nrows();
    // ||U||_F^2 as a sum of m d squares: relative error at most (m d + 2) eps.
    let frobenius_sq = u.iter().map(|x| x * x).sum::<f64>() * (1.0 + ((m * d) as f64 + 2.0) * EPS);
    let matrix = DMatrix::from_fn(k, k, |i, j| gram[[i, j]]);
    let lambda_hat = SymmetricEigen::new(matrix)
        .eigenvalues
        .iter()
        .fold(0.0f64, |a, &b| a.max(b));
    let slack = (2.0 * inner as f64 + 8.0 * (k * k) as f64 + 16.0) * EPS * frobenius_sq;
    let lambda = (lambda_hat + slack).min(frobenius_sq);
    // sqrt is correctly rounded; one more ulp makes it an upper bound.
    lambda.sqrt() * (1.0 + 2.0 * EPS)
}
