//! Separation of the score vectors: for every score `w_a`, a rigorous lower
//! bound on its l2 distance to the nearest score of another label
//! (specs/construction.md section 6, item 3). O(L^2 m) work, O(L m) memory.
//!
//! Method: squared distances are estimated from a float32 Gram matrix,
//! `|a - b|^2 = |a|^2 + |b|^2 - 2 <a, b>`, with a rigorous bound on the
//! estimate's error (`kappa |a| |b|` for the inner product, from rounding the
//! inputs to float32 and the float32 dot product of m terms, plus the
//! float64 additions). Each unordered pair is estimated once and informs
//! both of its rows. Every pair whose lower bound does not exceed the
//! smallest upper bound of one of its rows is then recomputed directly in float64,
//! `sum (a_k - b_k)^2`, and rounded down. The result is never above the
//! true distance.

use super::interval::{gamma, sqrt_down};
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

const ROW_BLOCK: usize = 512;
const COLUMN_BLOCK: usize = 2048;
/// Pairs tested together, without branches, before any is looked at.
const CHUNK: usize = 16;

/// For each row of `weights` (L x m), a lower bound on the l2 distance to
/// the nearest row with a different label (`f64::INFINITY` if none).
pub fn nearest_other_label(weights: ArrayView2<f64>, labels: &[usize]) -> Vec<f64> {
    let (rows, m) = weights.dim();
    assert_eq!(rows, labels.len(), "one label per score");
    let single = f64::powi(2.0, -24);
    let double = f64::EPSILON / 2.0;
    // |<a,b> - fl32(<a32,b32>)| <= kappa |a| |b|.
    let kappa = (2.0 * single + single * single + gamma(m.max(1), single) * (1.0 + single).powi(2))
        * (1.0 + 1e-6);
    let squares: Vec<f64> = weights
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|x| x * x).sum::<f64>())
        .collect();
    // Upper bounds on |a|, from the f64 sum of squares.
    let lengths: Vec<f64> = squares
        .iter()
        .map(|&s| (s * (1.0 + gamma(m + 2, double))).sqrt() * (1.0 + 4.0 * double))
        .collect();
    // Twice a bound on every pair's error term, for a cheap first test per
    // pair (see the skip test below): error(a, b) <= 2 kappa L^2 +
    // 4 u (2 S + 2 |fl(<a, b>)|) with L, S the largest length and square,
    // and |fl(<a, b>)| <= (1 + kappa) L^2.
    let longest = lengths.iter().copied().fold(0.0, f64::max);
    let largest_square = squares.iter().copied().fold(0.0, f64::max);
    let slack = 2.0
        * (2.0 * kappa * longest * longest
            + 4.0 * double * (2.0 * largest_square + 2.0 * (1.0 + kappa) * longest * longest));
    let single_weights: Array2<f32> = weights.mapv(|x| x as f32);
    // The right-hand operand of every product, m x L in C order: the GEMM
    // packs it from contiguous rows.
    let single_columns: Array2<f32> = single_weights.t().as_standard_layout().into_owned();
    let pairs = PairTest {
        squares: &squares,
        lengths: &lengths,
        labels,
        kappa,
        double,
        slack,
        best: (0..rows)
            .map(|_| AtomicU64::new(f64::INFINITY.to_bits()))
            .collect(),
    };
    let blocks: Vec<usize> = (0..rows).step_by(ROW_BLOCK).collect();
    let found: Vec<Vec<(usize, usize, f64)>> = blocks
        .par_iter()
        .map(|&start| {
            let end = (start + ROW_BLOCK).min(rows);
            let block = single_weights.slice(s![start..end, ..]);
            let mut candidates: Vec<(usize, usize, f64)> = Vec::new();
            let mut prune_at = 4096;
            let mut gram = Array2::<f32>::zeros((end - start, COLUMN_BLOCK));
            for cstart in (start..rows).step_by(COLUMN_BLOCK) {
                let cend = (cstart + COLUMN_BLOCK).min(rows);
                let mut g = gram.slice_mut(s![.., ..cend - cstart]);
                general_mat_mul(
                    1.0,
                    &block,
                    &single_columns.slice(s![.., cstart..cend]),
                    0.0,
                    &mut g,
                );
                // best + slack of the block's columns, read once: a best
                // only decreases, so a value read earlier is still an upper
                // bound and the skip test stays sound with it.
                let column_skip: Vec<f64> =
                    (cstart..cend).map(|b| pairs.best_of(b) + slack).collect();
                for (local, a) in (start..end).enumerate() {
                    let first = cstart.max(a + 1);
                    if first < cend {
                        let row = &g.row(local).to_slice().expect("contiguous")[first - cstart..];
                        let skip = &column_skip[first - cstart..];
                        pairs.scan_row(a, first, row, skip, &mut candidates);
                    }
                }
                if candidates.len() > prune_at {
                    candidates.retain(|&(a, b, lower)| pairs.may_be_nearest(a, b, lower));
                    prune_at = (2 * candidates.len()).max(4096);
                }
            }
            candidates
        })
        .collect();
    // Every pair that may be the nearest of one of its rows, by the final
    // bests (a set that does not depend on scheduling), recomputed exactly.
    let exact: Vec<(usize, usize, f64)> = found
        .into_par_iter()
        .flatten()
        .filter(|&(a, b, lower)| pairs.may_be_nearest(a, b, lower))
        .map(|(a, b, _)| (a, b, exact_distance_lower(weights, a, b)))
        .collect();
    let mut out = vec![f64::INFINITY; rows];
    for (a, b, distance) in exact {
        out[a] = out[a].min(distance);
        out[b] = out[b].min(distance);
    }
    out
}

/// The pair test's shared state: the rows' squares and length bounds, the
/// error constants and, per row, the smallest upper bound found so far on
/// its squared distance to another label.
struct PairTest<'a> {
    squares: &'a [f64],
    lengths: &'a [f64],
    labels: &'a [usize],
    /// `|<a,b> - fl32(<a32,b32>)| <= kappa |a| |b|`.
    kappa: f64,
    /// float64's unit roundoff.
    double: f64,
    /// Twice a bound on every pair's error term.
    slack: f64,
    /// best[a]: the smallest upper bound found so far on |w_a - w_b|^2
    /// over other-label b, as f64 bits (non-negative floats order like
    /// their bits). Shared by every task: each unordered pair is visited
    /// once, by the task of its first row, and informs both rows.
    best: Vec<AtomicU64>,
}

impl PairTest<'_> {
    fn best_of(&self, a: usize) -> f64 {
        f64::from_bits(self.best[a].load(Ordering::Relaxed))
    }

    fn lower_best(&self, a: usize, upper: f64) {
        self.best[a].fetch_min(upper.max(0.0).to_bits(), Ordering::Relaxed);
    }

    /// Whether a pair with this lower bound may be the nearest of one of
    /// its rows, by the bests as they stand.
    fn may_be_nearest(&self, a: usize, b: usize, lower: f64) -> bool {
        lower <= self.best_of(a) || lower <= self.best_of(b)
    }

    /// Tests row a against rows `first..` (`row`: their float32 products
    /// with a; `column_skip`: their best + slack, read earlier), lowering
    /// both rows' bests and keeping the pairs that may be a nearest.
    ///
    /// A pair whose estimate exceeds best + slack for both of its rows has
    /// lower > best (it is neither row's nearest) and upper > best (it
    /// lowers neither best): it is skipped. The slack is twice any pair's
    /// error, so the rounding of this test itself does not matter.
    fn scan_row(
        &self,
        a: usize,
        first: usize,
        row: &[f32],
        column_skip: &[f64],
        candidates: &mut Vec<(usize, usize, f64)>,
    ) {
        let (na, la, label) = (self.squares[a], self.lengths[a], self.labels[a]);
        let column_squares = &self.squares[first..first + row.len()];
        let mut best_a = self.best_of(a);
        let mut row_skip = best_a + self.slack;
        for chunk in (0..row.len()).step_by(CHUNK) {
            let chunk = chunk..(chunk + CHUNK).min(row.len());
            // The skip test over a whole chunk, without branches
            // (vectorized); most chunks have no pair to look at.
            let any = column_squares[chunk.clone()]
                .iter()
                .zip(&row[chunk.clone()])
                .zip(&column_skip[chunk.clone()])
                .fold(false, |any, ((&square, &dot), &skip)| {
                    // Not skipped (a NaN estimate included).
                    let skipped = squared_distance(na, square, dot) > row_skip.max(skip);
                    any | !skipped
                });
            if !any {
                continue;
            }
            for j in chunk {
                let (b, dot) = (first + j, f64::from(row[j]));
                let estimate = squared_distance(na, column_squares[j], row[j]);
                if estimate > row_skip.max(column_skip[j]) || self.labels[b] == label {
                    continue;
                }
                let error = 2.0 * self.kappa * la * self.lengths[b]
                    + 4.0 * self.double * (na + self.squares[b] + 2.0 * dot.abs());
                let lower = estimate - error;
                let upper = estimate + error;
                if upper < best_a {
                    best_a = upper;
                    row_skip = best_a + self.slack;
                    self.lower_best(a, upper);
                }
                if upper < self.best_of(b) {
                    self.lower_best(b, upper);
                }
                if lower <= best_a || lower <= self.best_of(b) {
                    candidates.push((a, b, lower));
                }
            }
        }
    }
}

/// The estimate `|a|^2 + |b|^2 - 2 <a, b>` of `|a - b|^2` from the
/// squares and the float32 product, the same bits in the skip test and in
/// the pair test.
#[inline(always)]
fn squared_distance(square_a: f64, square_b: f64, dot: f32) -> f64 {
    square_a + square_b - 2.0 * f64::from(dot)
}

/// A lower bound on `|w_a - w_b|_2`, computed directly in float64.
fn exact_distance_lower(weights: ArrayView2<f64>, a: usize, b: usize) -> f64 {
    let (ra, rb) = (weights.row(a), weights.row(b));
    let sum: f64 = ra
        .iter()
        .zip(rb.iter())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    let m = ra.len();
    // Each difference and square rounds once, the sum m - 1 times.
    let factor = 1.0 - gamma(m + 4, f64::EPSILON / 2.0);
    sqrt_down((sum * factor).next_down().max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn brute(weights: ArrayView2<f64>, labels: &[usize]) -> Vec<f64> {
        (0..weights.nrows())
            .map(|a| {
                (0..weights.nrows())
                    .filter(|&b| labels[b] != labels[a])
                    .map(|b| {
                        weights
                            .row(a)
                            .iter()
                            .zip(weights.row(b))
                            .map(|(x, y)| (x - y) * (x - y))
                            .sum::<f64>()
                            .sqrt()
                    })
                    .fold(f64::INFINITY, f64::min)
            })
            .collect()
    }

    #[test]
    fn lower_bounds_are_tight_and_never_above_the_truth() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // 2600 rows: several column blocks, and pairs across tasks.
        for &(n, m, offset) in &[(50, 3, 0.0), (700, 8, 0.0), (300, 5, 1e4), (2600, 4, 0.0)] {
            let weights = Array2::from_shape_fn((n, m), |_| offset + rng.gen_range(-1.0..1.0));
            let labels: Vec<usize> = (0..n).map(|_| rng.gen_range(0..3)).collect();
            let fast = nearest_other_label(weights.view(), &labels);
            let slow = brute(weights.view(), &labels);
            for (f, s) in fast.iter().zip(&slow) {
                assert!(*f <= *s, "bound {f} above the distance {s}");
                assert!(*f >= s * (1.0 - 1e-12), "bound {f} far below {s}");
            }
        }
    }

    /// Rows of very different lengths, some nearly equal across labels: the
    /// first test per pair (estimate against best + slack) must not drop
    /// the nearest pair of any row.
    #[test]
    fn mixed_scales_and_near_ties_keep_the_nearest_pair() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let (n, m) = (900, 7);
        let mut weights = Array2::from_shape_fn((n, m), |(i, _)| {
            let scale = 10f64.powi((i % 7) as i32 - 3);
            scale * rng.gen_range(-1.0..1.0)
        });
        for i in (0..n).step_by(9) {
            let row = weights.row(i).to_owned();
            let mut twin = weights.row_mut((i + 1) % n);
            twin.assign(&row);
            twin[0] += 1e-7;
        }
        let labels: Vec<usize> = (0..n).map(|i| i % 4).collect();
        let fast = nearest_other_label(weights.view(), &labels);
        let slow = brute(weights.view(), &labels);
        for (a, (f, s)) in fast.iter().zip(&slow).enumerate() {
            assert!(*f <= *s, "row {a}: bound {f} above the distance {s}");
            assert!(
                *f >= s * (1.0 - 1e-9) - 1e-12,
                "row {a}: bound {f} far below {s}"
            );
        }
    }

    #[test]
    fn one_label_has_no_neighbour() {
        let weights = Array2::from_shape_fn((4, 2), |(i, j)| (i + j) as f64);
        let bounds = nearest_other_label(weights.view(), &[1, 1, 1, 1]);
        assert!(bounds.iter().all(|b| b.is_infinite()));
    }
}
