//! Lower-bound sketches for the pruned kernel: a few numbers per point from
//! which a rigorous lower bound on every pair's reference distance
//! (`Norm::distance`) follows, with the rounding of every step accounted for.
//!
//! Two kinds (specs/construction.md section 1, "Pruned search"):
//!
//! - **Principal coordinates** (l_2): z_i = fl(P fl(x_i - mu)) for k nearly
//!   orthonormal rows P (leading principal directions of a sample of the
//!   points). For real vectors, ||P w|| <= ||P||_2 ||w||, so with
//!   w = x_i - x_j, c_i = fl(x_i - mu), s_i >= ||c_i||, u = 2^-53:
//!   - ||(c_i - c_j) - w|| <= 2u (s_i + s_j) (one rounding per coordinate);
//!   - ||z_i - P c_i|| <= g s_i with g = gamma_d ||P||_F (any summation
//!     order of the products, fused or not);
//!   - the computed sum of squares `acc` of z_i - z_j satisfies
//!     sqrt(acc) (1 - e_k) <= ||z_i - z_j||, e_k = 1.02 (k + 2) u;
//!   - the reference value r_ij >= ||w|| (1 - theta), theta = 1.02 (d + 3) u
//!     (as in the Gram kernel).
//!
//!   Hence r_ij > U whenever sqrt(acc) > T_ij =
//!   ((U / (1 - theta) + 2u (s_i + s_j)) pn + g (s_i + s_j)) / (1 - e_k), with
//!   pn >= ||P||_2 from Gershgorin's bound on the computed P P^T widened by
//!   its rounding.
//! - **Coordinates** (l_1, l_inf, l_p): z_i = k chosen coordinates of x_i,
//!   copied exactly. Each term fl(|x_ik - x_jk|) (and its `powf`) is the very
//!   value the reference sums, so: l_inf's partial maximum is a lower bound
//!   as it stands; l_1's partial sum is below the reference sum up to the
//!   relative rounding of both sums, 1.02 (d + k) u; l_p adds `powf`'s
//!   error with the 1e-9 margin of the direct kernel.
//!
//! Every kind also bounds one coordinate alone (the first, the sweep key):
//! a pair whose keys differ by more than [`Sketch::limits`]' window is ruled
//! out with all later pairs in key order.

use crate::norm::Norm;
use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// u = 2^-53, the unit roundoff of f64.
const U64: f64 = f64::EPSILON / 2.0;
/// Rows of the sample the principal directions come from.
const SAMPLE_ROWS: usize = 1024;
/// Subspace iterations for the principal directions.
const ITERATIONS: usize = 6;
/// Extra directions carried by the subspace iteration.
const OVERSAMPLE: usize = 8;
/// Points projected at a time (bounds the centred f64 copy).
const PROJECT_ROWS: usize = 1024;

/// How a sketch's coordinates combine into a bound.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    /// Principal coordinates for l_2 (sum of squares).
    Principal {
        /// pn >= ||P||_2.
        pn: f64,
        /// g = gamma_d ||P||_F.
        g: f64,
        /// e_k, the rounding of the sum of squares.
        e_k: f64,
        /// theta, the rounding of the reference distance.
        theta: f64,
    },
    /// Coordinates for l_1 (sum of absolute differences).
    L1 { shrink: f64 },
    /// Coordinates for l_inf (maximum of absolute differences).
    Linf,
    /// Coordinates for l_p (sum of powers).
    Lp { p: f64, shrink: f64 },
}

/// k numbers per point, in the order of `points` (row-major), their sweep
/// keys (the first number), and the per-point norms s_i the principal
/// kind needs.
pub(super) struct Sketch {
    /// Numbers per point.
    pub k: usize,
    /// Row-major n x k.
    pub z: Vec<f64>,
    /// s_i >= ||fl(x_i - mu)|| (principal kind; zeros otherwise).
    pub s: Vec<f64>,
    /// The largest s_i.
    pub s_max: f64,
    /// The bound's kind.
    pub kind: Kind,
}

/// What rules a pair out, for a row with norm bound `s_a` and upper bound U.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    /// A pair whose accumulator exceeds this has reference distance > U.
    pub cut: f64,
    /// A pair whose keys differ (computed b - a) by more than this has
    /// reference distance > U.
    pub window: f64,
}

impl Sketch {
    /// The sketch for `norm` with at most `k` numbers per point, or `None`
    /// when none can be formed (no coordinates, p above 1e6, overflow).
    pub fn new(points: ArrayView2<f64>, norm: Norm, k: usize) -> Option<Sketch> {
        let (n, d) = points.dim();
        if n == 0 || d == 0 || k == 0 {
            return None;
        }
        let k = k.min(d);
        match norm {
            Norm::L2 => principal(points, k),
            Norm::L1 => Some(coordinates(
                points,
                k,
                Kind::L1 {
                    shrink: 1.0 - 1.02 * (d + k + 2) as f64 * U64,
                },
            )),
            Norm::Linf => Some(coordinates(points, k, Kind::Linf)),
            Norm::Lp(p) if p <= 1e6 => Some(coordinates(
                points,
                k,
                Kind::Lp {
                    p,
                    shrink: 1.0 - 1.02 * (d + k + 2) as f64 * U64,
                },
            )),
            Norm::Lp(_) => None,
        }
    }

    /// The numbers of point `i`.
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.z[i * self.k..(i + 1) * self.k]
    }

    /// The cut and window for a row with norm bound `s_a` against the upper
    /// bound `upper` (infinite when nothing is known yet).
    pub fn limits(&self, upper: f64, s_a: f64) -> Limits {
        if upper.is_infinite() {
            return Limits {
                cut: f64::INFINITY,
                window: f64::INFINITY,
            };
        }
        match self.kind {
            Kind::Principal { pn, g, e_k, theta } => {
                let both = s_a + self.s_max;
                let t = ((upper / (1.0 - theta) + 2.0 * U64 * both) * pn + g * both) / (1.0 - e_k)
                    * (1.0 + 1e-10);
                Limits {
                    cut: t * t * (1.0 + 1e-10),
                    window: t * (1.0 + 1e-10),
                }
            }
            Kind::L1 { shrink } => {
                let cut = upper / shrink * (1.0 + 1e-12);
                Limits { cut, window: cut }
            }
            Kind::Linf => Limits {
                cut: upper,
                window: upper,
            },
            Kind::Lp { p, shrink } => Limits {
                cut: upper.powf(p) * (1.0 + 1e-9) / shrink,
                window: upper * (1.0 + 1e-8),
            },
        }
    }

    /// True when the accumulator of points `a` and `b` exceeds `cut`
    /// (checked every eight numbers: partial accumulators never decrease).
    #[inline(always)]
    pub fn exceeds(&self, a: &[f64], b: &[f64], cut: f64) -> bool {
        match self.kind {
            Kind::Principal { .. } => accumulate(a, b, cut, |acc, t| acc + t * t),
            Kind::L1 { .. } => accumulate(a, b, cut, |acc, t| acc + t.abs()),
            Kind::Linf => accumulate(a, b, cut, |acc, t| acc.max(t.abs())),
            Kind::Lp { p, .. } => accumulate(a, b, cut, |acc, t| acc + t.abs().powf(p)),
        }
    }
}

impl Sketch {
    /// The accumulators of point numbers `a` against [`LANES`] points at
    /// once over their first `a.len()` numbers, `panel` holding those
    /// numbers coordinate-major (`panel[c * LANES + l]`). Each lane adds its
    /// terms in the order [`Sketch::exceeds`] does, so a lane above a cut
    /// proves that pair's full accumulator above it too.
    #[inline(always)]
    pub fn lanes(&self, a: &[f64], panel: &[f64]) -> [f64; LANES] {
        match self.kind {
            Kind::Principal { .. } => lanes(a, panel, |acc, t| acc + t * t),
            Kind::L1 { .. } => lanes(a, panel, |acc, t| acc + t.abs()),
            Kind::Linf => lanes(a, panel, |acc, t| acc.max(t.abs())),
            Kind::Lp { p, .. } => lanes(a, panel, |acc, t| acc + t.abs().powf(p)),
        }
    }
}

/// Points a panel of [`Sketch::lanes`] holds.
pub(super) const LANES: usize = 8;

#[inline(always)]
fn lanes(a: &[f64], panel: &[f64], step: impl Fn(f64, f64) -> f64) -> [f64; LANES] {
    let mut acc = [0.0; LANES];
    for (&x, col) in a.iter().zip(panel.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] = step(acc[l], x - col[l]);
        }
    }
    acc
}

/// True when the accumulated terms of `a - b` exceed `cut`, checked every
/// eight coordinates.
#[inline(always)]
fn accumulate(a: &[f64], b: &[f64], cut: f64, step: impl Fn(f64, f64) -> f64) -> bool {
    let mut acc = 0.0;
    for (xs, ys) in a.chunks(8).zip(b.chunks(8)) {
        for (&x, &y) in xs.iter().zip(ys) {
            acc = step(acc, x - y);
        }
        if acc > cut {
            return true;
        }
    }
    false
}

/// The `k` coordinates of largest variance (on a sample), copied exactly,
/// the largest first.
fn coordinates(points: ArrayView2<f64>, k: usize, kind: Kind) -> Sketch {
    let (n, d) = points.dim();
    let sample = sample_rows(points);
    let mean = sample.mean_axis(Axis(0)).expect("a non-empty sample");
    let mut spread: Vec<(f64, usize)> = (0..d)
        .map(|c| {
            let v = sample
                .column(c)
                .iter()
                .map(|x| (x - mean[c]) * (x - mean[c]))
                .sum::<f64>();
            (if v.is_finite() { v } else { 0.0 }, c)
        })
        .collect();
    spread.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    let chosen: Vec<usize> = spread[..k].iter().map(|&(_, c)| c).collect();
    let mut z = Vec::with_capacity(n * k);
    for row in points.outer_iter() {
        z.extend(chosen.iter().map(|&c| row[c]));
    }
    Sketch {
        k,
        z,
        s: vec![0.0; n],
        s_max: 0.0,
        kind,
    }
}

/// Up to [`SAMPLE_ROWS`] evenly spaced rows.
fn sample_rows(points: ArrayView2<f64>) -> Array2<f64> {
    let n = points.nrows();
    let m = n.min(SAMPLE_ROWS);
    Array2::from_shape_fn((m, points.ncols()), |(r, c)| points[[r * n / m, c]])
}

/// The principal sketch with `k <= d` directions; `None` when the data
/// overflow.
fn principal(points: ArrayView2<f64>, k: usize) -> Option<Sketch> {
    let (n, d) = points.dim();
    let mean = points.mean_axis(Axis(0))?;
    if mean.iter().any(|m| !m.is_finite()) {
        return None;
    }
    // Without spread in the sample, the first k coordinate axes (exactly
    // orthonormal rows) still give valid bounds.
    let p = directions(points, mean.view(), k)
        .unwrap_or_else(|| Array2::from_shape_fn((k, d), |(r, c)| f64::from(u8::from(r == c))));
    let k = p.nrows();
    let gamma_d = 1.02 * d as f64 * U64 / (1.0 - d as f64 * U64);
    let row_norms: Vec<f64> = p
        .outer_iter()
        .map(|r| r.iter().map(|x| x * x).sum::<f64>().sqrt() * (1.0 + 1e-9))
        .collect();
    let fro = row_norms.iter().map(|r| r * r).sum::<f64>().sqrt() * (1.0 + 1e-9);
    // Gershgorin on P P^T, each entry widened by its rounding.
    let pp = p.dot(&p.t());
    let lambda = (0..k)
        .map(|i| {
            (0..k)
                .map(|j| pp[[i, j]].abs() + gamma_d * row_norms[i] * row_norms[j])
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let pn = lambda.sqrt() * (1.0 + 1e-9);
    let mut z = vec![0.0; n * k];
    let mut s = Vec::with_capacity(n);
    let pt = p.t();
    for start in (0..n).step_by(PROJECT_ROWS) {
        let end = (start + PROJECT_ROWS).min(n);
        let mut centred = points.slice(s![start..end, ..]).to_owned();
        for mut row in centred.outer_iter_mut() {
            row.zip_mut_with(&mean, |x, &m| *x -= m);
            s.push(row.iter().map(|x| x * x).sum::<f64>().sqrt() * (1.0 + 1e-6));
        }
        let mut out =
            ndarray::ArrayViewMut2::from_shape((end - start, k), &mut z[start * k..end * k])
                .expect("the block's shape");
        general_mat_mul(1.0, &centred, &pt, 0.0, &mut out);
    }
    let s_max = s.iter().copied().fold(0.0, f64::max);
    if !s_max.is_finite() || z.iter().any(|x| !x.is_finite()) || !pn.is_finite() {
        return None;
    }
    Some(Sketch {
        k,
        z,
        s,
        s_max,
        kind: Kind::Principal {
            pn: pn.max(1.0),
            g: gamma_d * fro,
            e_k: 1.02 * (k + 2) as f64 * U64,
            theta: 1.02 * (d + 3) as f64 * U64,
        },
    })
}

/// Up to `k` leading principal directions of a sample of the centred
/// points, as nearly orthonormal rows, the largest variance first
/// (subspace iteration from a seeded start, then Rayleigh-Ritz). Any rows
/// would give valid bounds; these give tight ones.
fn directions(
    points: ArrayView2<f64>,
    mean: ndarray::ArrayView1<f64>,
    k: usize,
) -> Option<Array2<f64>> {
    let d = points.ncols();
    let mut sample = sample_rows(points);
    for mut row in sample.outer_iter_mut() {
        row -= &mean;
    }
    let q = (k + OVERSAMPLE).min(d);
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    let mut v = Array2::from_shape_fn((d, q), |_| rng.gen_range(-1.0..1.0));
    for _ in 0..ITERATIONS {
        v = orthonormal_columns(&v)?;
        v = sample.t().dot(&sample.dot(&v));
    }
    v = orthonormal_columns(&v)?;
    // Rank-deficient samples leave fewer columns.
    let (q, k) = (v.ncols(), k.min(v.ncols()));
    let y = sample.dot(&v);
    let b = y.t().dot(&y);
    let eigen = SymmetricEigen::new(DMatrix::from_fn(q, q, |i, j| b[[i, j]]));
    let mut by_value: Vec<usize> = (0..q).collect();
    by_value.sort_by(|&x, &y| eigen.eigenvalues[y].total_cmp(&eigen.eigenvalues[x]));
    let rotation = Array2::from_shape_fn((q, k), |(i, c)| eigen.eigenvectors[(i, by_value[c])]);
    let top = orthonormal_columns(&v.dot(&rotation))?;
    Some(top.t().to_owned())
}

/// Modified Gram-Schmidt, twice; columns left with no length (rank
/// deficiency) are dropped. `None` when none is left or the input is not
/// finite.
fn orthonormal_columns(a: &Array2<f64>) -> Option<Array2<f64>> {
    let mut kept: Vec<Vec<f64>> = Vec::new();
    for col in a.columns() {
        let mut v = col.to_vec();
        let start: f64 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if !start.is_finite() {
            return None;
        }
        for _ in 0..2 {
            for q in &kept {
                let dot: f64 = v.iter().zip(q).map(|(x, y)| x * y).sum();
                v.iter_mut().zip(q).for_each(|(x, y)| *x -= dot * y);
            }
        }
        let len: f64 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if len > 1e-10 * start && len > 0.0 {
            v.iter_mut().for_each(|x| *x /= len);
            kept.push(v);
        }
    }
    if kept.is_empty() {
        return None;
    }
    let rows = a.nrows();
    Some(Array2::from_shape_fn((rows, kept.len()), |(i, c)| {
        kept[c][i]
    }))
}
