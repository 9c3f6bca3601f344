//! The l_2 Gram kernel: approximate squared distances from f32 matrix
//! products, then an exact recheck of every pair the rounding could hide.
//!
//! # The recheck
//!
//! The points are centred on their mean mu (distances do not change, and
//! the Gram identity no longer cancels catastrophically for data far from
//! the origin) and rounded to f32: a_i = fl32(fl64(x_i - mu)). For a pair
//! with f64 norms n_i = ||a_i||^2 and f32 product G_ij = fl(<a_i, a_j>), the
//! kernel computes g_ij = (n_i + n_j) - 2 G_ij in f64 and bounds, with
//! s_i >= ||a_i|| (also >= ||x_i - mu||), u = 2^-24 and v = 2^-53:
//!
//! - |g_ij - ||a_i - a_j||^2| <= E_ij = 2 gamma_d s_i s_j + eta (s_i^2 + s_j^2)
//!   (+ an absolute term for f32 underflow), gamma_d = d u / (1 - d u) for
//!   the f32 dot product in any summation order, eta covering the f64 norms
//!   and the final subtraction;
//! - | ||a_i - a_j|| - ||x_i - x_j|| | <= eps_ij = kappa (s_i + s_j), kappa
//!   about u + 2v for the two roundings of each coordinate;
//! - the reference value r_ij = `Norm::L2.distance(x_i, x_j)` is within a
//!   relative theta = (d + 3) v of ||x_i - x_j||.
//!
//! Hence lo_ij = (sqrt(max(g - E, 0)) - eps)(1 - theta) <= r_ij <=
//! (sqrt(g + E) + eps)(1 + theta) = hi_ij. Each constant carries a 1-2 %
//! margin, far more than the f64 rounding of these formulas themselves.
//!
//! Let U = min hi_ij over differently-labelled pairs. The pair P minimising
//! (r, i, j) has lo_P <= r_P <= r_Q <= hi_Q for every Q, so lo_P <= U, and so
//! does every pair tied with P. Every pair with lo <= U is therefore kept as a
//! candidate (a cheap per-tile test on g with the tile's largest s discards
//! the rest) and recomputed with `Norm::distance`; the minimum of
//! (r, i, j) over the candidates is exactly the brute-force answer, whatever
//! the thread scheduling.
//!
//! When the bounds are too loose to prune (more than [`CANDIDATE_CAP`]
//! candidates held at once, for example with massive duplication across labels)
//! or the centred data overflow f32, the kernel gives up and the caller falls
//! back to the direct kernel.

use super::order::ClassOrder;
use super::Best;
use crate::norm::Norm;
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Rows per parallel task (one Gram tile's height), at most.
const ROW_BLOCK: usize = 256;
/// f32 values a task's row block may hold: fewer rows than [`ROW_BLOCK`]
/// for very wide data (8 MiB).
const ROW_FLOATS: usize = 1 << 21;
/// Columns per Gram tile.
const COL_BLOCK: usize = 512;
/// f32 values a column panel may hold (64 MiB): the scan converts this many
/// centred coordinates at a time, so the kernel never holds an f32 copy of
/// the whole data set.
const PANEL_FLOATS: usize = 1 << 24;
/// Candidates all tasks together may hold after pruning before the kernel
/// gives up (24 bytes each).
const CANDIDATE_CAP: usize = 1 << 22;

/// Error constants for dimension d (see the module doc).
#[derive(Clone, Copy)]
struct Bounds {
    gamma: f64,
    eta: f64,
    kappa: f64,
    theta: f64,
    /// Absolute slack for f32 underflow in the products.
    tiny_e: f64,
    /// Absolute slack for f32 underflow of the coordinates.
    tiny_eps: f64,
}

impl Bounds {
    fn new(d: usize) -> Option<Bounds> {
        let u = f64::from(f32::EPSILON) / 2.0;
        let v = f64::EPSILON / 2.0;
        let d = d as f64;
        if d * u >= 0.25 {
            return None;
        }
        let min_sub = f64::from(f32::from_bits(1)); // 2^-149
        Some(Bounds {
            gamma: 1.02 * d * u / (1.0 - d * u),
            eta: 2.02 * (d + 4.0) * v,
            kappa: 1.02 * (u + 2.0 * v),
            theta: 1.02 * (d + 3.0) * v,
            tiny_e: 4.0 * d * min_sub,
            tiny_eps: 2.0 * d.sqrt() * min_sub,
        })
    }

    fn e(&self, si: f64, sj: f64) -> f64 {
        2.0 * self.gamma * si * sj + self.eta * (si * si + sj * sj) + self.tiny_e
    }

    fn eps(&self, si: f64, sj: f64) -> f64 {
        self.kappa * (si + sj) + self.tiny_eps
    }

    /// (lo, hi) bounds of the reference distance given g.
    fn range(&self, g: f64, si: f64, sj: f64) -> (f64, f64) {
        let (e, eps) = (self.e(si, sj), self.eps(si, sj));
        let lo = ((g - e).max(0.0).sqrt() - eps).max(0.0) * (1.0 - self.theta);
        let hi = ((g + e).max(0.0).sqrt() + eps) * (1.0 + self.theta);
        (lo, hi)
    }

    /// Largest g whose pair can have lo <= `upper` when every s is at most
    /// `si` (rows) or `sj` (columns).
    fn g_cutoff(&self, upper: f64, si: f64, sj: f64) -> f64 {
        let root = upper / (1.0 - self.theta) + self.eps(si, sj);
        (root * root + self.e(si, sj)) * (1.0 + 1e-9)
    }
}

/// The centring of the points: their mean, the f64 squared norms of the
/// centred f32 points in class order, and upper bounds s on their norms.
///
/// The centred f32 points themselves are never stored whole: a scan
/// converts the rows and columns it multiplies, panel by panel (see
/// [`PANEL_FLOATS`]), so the kernel's memory is a constant beside the data.
/// The conversion is deterministic, so every block holds exactly the values
/// whose norms are in `sq`.
struct Centred {
    mean: Vec<f64>,
    sq: Vec<f64>,
    s: Vec<f64>,
}

impl Centred {
    /// `None` when the data are empty or a centred coordinate overflows f32.
    fn new(points: ArrayView2<f64>, order: &ClassOrder) -> Option<Centred> {
        let mean = points.mean_axis(ndarray::Axis(0))?.to_vec();
        let mut sq = Vec::with_capacity(order.len());
        for &i in &order.original {
            let mut sum = 0.0;
            for (&x, &m) in points.row(i).iter().zip(&mean) {
                let c = x - m;
                if c.abs() > 1e38 {
                    return None;
                }
                let c = f64::from(c as f32);
                sum += c * c;
            }
            sq.push(sum);
        }
        let s = sq
            .iter()
            .map(|q| q.sqrt() * (1.0 + 1.0 / 1048576.0))
            .collect();
        Some(Centred { mean, sq, s })
    }

    /// The centred f32 points at sorted positions `range`, one per row.
    fn block(
        &self,
        points: ArrayView2<f64>,
        order: &ClassOrder,
        range: std::ops::Range<usize>,
    ) -> Array2<f32> {
        let mut a = Array2::<f32>::zeros((range.len(), points.ncols()));
        for (mut row, &i) in a.outer_iter_mut().zip(&order.original[range]) {
            for ((o, &x), &m) in row.iter_mut().zip(points.row(i)).zip(&self.mean) {
                *o = (x - m) as f32;
            }
        }
        a
    }
}

/// Shared give-up state: the candidates held by all tasks.
struct Limits {
    abort: AtomicBool,
    held: AtomicUsize,
    cap: usize,
}

impl Limits {
    /// Records that a task now holds `now` candidates (it last reported
    /// `reported`); false, and the abort flag set, when the total exceeds the
    /// cap.
    fn report(&self, reported: &mut usize, now: usize) -> bool {
        if now >= *reported {
            self.held.fetch_add(now - *reported, Ordering::Relaxed);
        } else {
            self.held.fetch_sub(*reported - now, Ordering::Relaxed);
        }
        *reported = now;
        if self.held.load(Ordering::Relaxed) > self.cap {
            self.abort.store(true, Ordering::Relaxed);
        }
        !self.abort.load(Ordering::Relaxed)
    }
}

/// A pair that may attain the minimum: its lower bound and sorted positions.
type Candidate = (f64, usize, usize);

/// The exact l_2 separation, or `None` when the bounds cannot prune.
pub(super) fn separation(points: ArrayView2<f64>, order: &ClassOrder) -> Option<Best> {
    separation_with_cap(points, order, CANDIDATE_CAP)
}

/// [`separation`] with a given candidate cap.
fn separation_with_cap(points: ArrayView2<f64>, order: &ClassOrder, cap: usize) -> Option<Best> {
    let (found, upper) = scan(points, order, cap, Cutoff::Tightening, None)?;
    let mut best = Best::NONE;
    for &(lo, a, b) in &found {
        if lo <= upper {
            let pair = order.pair(a, b);
            let value = reference_distance(points, pair);
            if best.improved_by(value, pair) {
                best = Best {
                    value,
                    pair: Some(pair),
                };
            }
        }
    }
    Some(best)
}

/// Every differently-labelled pair (i, j), i < j, whose reference distance
/// (`Norm::L2.distance`) is at most `cutoff`, with that distance, sorted by
/// (distance, i, j); `None` when more than `cap` pairs survive the bounds
/// (or the bounds cannot be formed). Pairs left out have a lower bound, and
/// so a reference distance, above `cutoff`.
pub(super) fn close_pairs(
    points: ArrayView2<f64>,
    order: &ClassOrder,
    cutoff: f64,
    cap: usize,
) -> Option<Vec<(f64, usize, usize)>> {
    let (found, _) = scan(points, order, cap, Cutoff::Fixed(cutoff), None)?;
    let mut close: Vec<(f64, usize, usize)> = found
        .iter()
        .filter_map(|&(_, a, b)| {
            let pair = order.pair(a, b);
            let value = reference_distance(points, pair);
            (value <= cutoff).then_some((value, pair.0, pair.1))
        })
        .collect();
    close.sort_by(|x, y| x.0.total_cmp(&y.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    Some(close)
}

/// `Norm::L2.distance` between two rows of `points`.
fn reference_distance(points: ArrayView2<f64>, (i, j): (usize, usize)) -> f64 {
    let (xi, xj) = (points.row(i), points.row(j));
    match (xi.as_slice(), xj.as_slice()) {
        (Some(xi), Some(xj)) => Norm::L2.distance(xi, xj),
        _ => Norm::L2.distance(&xi.to_vec(), &xj.to_vec()),
    }
}

/// Which pairs a scan keeps.
#[derive(Clone, Copy)]
enum Cutoff {
    /// Those whose lower bound is at most the smallest upper bound seen (the
    /// candidates for the minimum).
    Tightening,
    /// Those whose lower bound is at most this value.
    Fixed(f64),
}

/// Scans every differently-labelled pair on both cores and returns the
/// candidates the cutoff keeps (lower bound, sorted positions) with the
/// final upper bound; `None` when the bounds cannot be formed or more than
/// `cap` candidates are held at once.
///
/// The columns (sorted positions) are taken in panels of at most
/// [`PANEL_FLOATS`] f32 values; for each panel, blocks of rows run in
/// parallel against it.
fn scan(
    points: ArrayView2<f64>,
    order: &ClassOrder,
    cap: usize,
    cutoff: Cutoff,
    tiling: Option<Tiling>,
) -> Option<(Vec<Candidate>, f64)> {
    let n = order.len();
    let d = points.ncols().max(1);
    let bounds = Bounds::new(points.ncols())?;
    let centred = Centred::new(points, order)?;
    let active = order.later.partition_point(|&l| l < n);
    let start = match cutoff {
        Cutoff::Tightening => f64::INFINITY,
        Cutoff::Fixed(value) => value,
    };
    let upper = AtomicU64::new(start.to_bits());
    let limits = Limits {
        abort: AtomicBool::new(false),
        held: AtomicUsize::new(0),
        cap,
    };
    let scan = Scan {
        points: points.view(),
        c: &centred,
        order,
        bounds: &bounds,
        shared: &upper,
        limits: &limits,
        tighten: matches!(cutoff, Cutoff::Tightening),
    };
    // Progress in pairs scanned (see crate::progress).
    let pairs = |rows: std::ops::Range<usize>, cols: std::ops::Range<usize>| -> u64 {
        rows.map(|a| cols.end.saturating_sub(order.later[a].max(cols.start)) as u64)
            .sum()
    };
    crate::progress::work(pairs(0..active, 0..n));
    let Tiling {
        row_block,
        panel_width,
    } = tiling.unwrap_or_else(|| Tiling::for_dimension(d));
    let first_column = order.later.first().copied().unwrap_or(n);
    let mut found: Vec<Candidate> = Vec::new();
    for p0 in (first_column..n).step_by(panel_width) {
        let p1 = (p0 + panel_width).min(n);
        // Rows with a partner in the panel: a prefix, as `later` grows.
        let rows_end = order.later.partition_point(|&l| l < p1).min(active);
        let panel = centred.block(points, order, p0..p1);
        let blocks = rows_end.div_ceil(row_block);
        let results: Vec<Vec<Candidate>> = (0..blocks)
            .into_par_iter()
            .map(|block| {
                let rows = block * row_block..((block + 1) * row_block).min(rows_end);
                let kept = scan.rows(rows.clone(), panel.view(), p0);
                crate::progress::tick(pairs(rows, p0..p1));
                kept
            })
            .collect();
        if limits.abort.load(Ordering::Relaxed) {
            return None;
        }
        found.extend(results.into_iter().flatten());
    }
    let upper = f64::from_bits(upper.load(Ordering::Relaxed));
    found.retain(|&(lo, _, _)| lo <= upper);
    Some((found, upper))
}

/// How a scan cuts the pairs into parallel work.
#[derive(Clone, Copy)]
struct Tiling {
    /// Rows per parallel task.
    row_block: usize,
    /// Columns per panel.
    panel_width: usize,
}

impl Tiling {
    /// The tiling that keeps the f32 blocks within [`ROW_FLOATS`] and
    /// [`PANEL_FLOATS`] (but at least 16 rows and columns).
    fn for_dimension(d: usize) -> Tiling {
        Tiling {
            row_block: (ROW_FLOATS / d).clamp(16, ROW_BLOCK),
            panel_width: (PANEL_FLOATS / d).max(16),
        }
    }
}

/// What every row block of a scan shares.
struct Scan<'a> {
    points: ArrayView2<'a, f64>,
    c: &'a Centred,
    order: &'a ClassOrder,
    bounds: &'a Bounds,
    /// The smallest upper bound found by any task (the fixed cutoff when
    /// not tightening).
    shared: &'a AtomicU64,
    limits: &'a Limits,
    /// Whether upper bounds of pairs lower the cutoff.
    tighten: bool,
}

impl Scan<'_> {
    /// The candidates among the pairs of sorted rows `rows` and the sorted
    /// columns of `panel`, whose first row is sorted position `p0`.
    fn rows(
        &self,
        rows: std::ops::Range<usize>,
        panel: ArrayView2<f32>,
        p0: usize,
    ) -> Vec<Candidate> {
        let Scan {
            points,
            c,
            order,
            bounds,
            shared,
            limits,
            tighten,
        } = *self;
        let p1 = p0 + panel.nrows();
        let mut tile = Array2::<f32>::zeros((rows.len(), COL_BLOCK));
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut prune_at = 4096;
        let mut reported = 0;
        let mut upper = f64::INFINITY;
        let a_rows = c.block(points, order, rows.clone());
        let s_rows = rows.clone().map(|r| c.s[r]).fold(0.0, f64::max);
        let first = order.later[rows.start].max(p0);
        for c0 in (first..p1).step_by(COL_BLOCK) {
            if limits.abort.load(Ordering::Relaxed) {
                return Vec::new();
            }
            let c1 = (c0 + COL_BLOCK).min(p1);
            let mut g_tile = tile.slice_mut(s![.., ..c1 - c0]);
            general_mat_mul(
                1.0,
                &a_rows,
                &panel.slice(s![c0 - p0..c1 - p0, ..]).t(),
                0.0,
                &mut g_tile,
            );
            let s_cols = c.s[c0..c1].iter().copied().fold(0.0, f64::max);
            upper = upper.min(f64::from_bits(shared.load(Ordering::Relaxed)));
            let mut cutoff = bounds.g_cutoff(upper, s_rows, s_cols);
            for (ia, a) in rows.clone().enumerate() {
                let b0 = c0.max(order.later[a]);
                if b0 >= c1 {
                    continue;
                }
                let sq_a = c.sq[a];
                let products =
                    &g_tile.row(ia).to_slice().expect("tile rows are contiguous")[b0 - c0..c1 - c0];
                for (b, &p) in (b0..c1).zip(products) {
                    let g = (sq_a + c.sq[b]) - 2.0 * f64::from(p);
                    if g > cutoff {
                        continue;
                    }
                    let (lo, hi) = bounds.range(g, c.s[a], c.s[b]);
                    if tighten && hi < upper {
                        upper = hi;
                        cutoff = bounds.g_cutoff(upper, s_rows, s_cols);
                    }
                    if lo <= upper {
                        candidates.push((lo, a, b));
                    }
                }
            }
            shared.fetch_min(upper.to_bits(), Ordering::Relaxed);
            if candidates.len() > prune_at {
                let upper_now = upper.min(f64::from_bits(shared.load(Ordering::Relaxed)));
                candidates.retain(|&(lo, _, _)| lo <= upper_now);
                prune_at = (2 * candidates.len()).max(4096);
            }
            if !limits.report(&mut reported, candidates.len()) {
                return Vec::new();
            }
        }
        let upper_now = upper.min(f64::from_bits(shared.load(Ordering::Relaxed)));
        candidates.retain(|&(lo, _, _)| lo <= upper_now);
        limits.report(&mut reported, candidates.len());
        candidates
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::separation::separation_brute_force;

    /// Two distinct points repeated with alternating labels: thousands of
    /// pairs at distance 0.
    fn duplicated(n: usize, d: usize) -> (Array2<f64>, Vec<u32>) {
        let points = Array2::from_shape_fn((n, d), |(i, k)| ((i % 3 == 0) as usize + k) as f64);
        let labels = (0..n).map(|i| (i % 2) as u32).collect();
        (points, labels)
    }

    #[test]
    fn gives_up_when_candidates_exceed_the_cap() {
        let (points, labels) = duplicated(600, 20);
        let order = ClassOrder::new(&labels);
        assert!(separation_with_cap(points.view(), &order, 1000).is_none());
        let best = separation_with_cap(points.view(), &order, usize::MAX).unwrap();
        let reference = separation_brute_force(points.view(), &labels, Norm::L2);
        assert_eq!((best.value, best.pair), (reference.delta, reference.pair));
    }

    #[test]
    fn small_panels_and_row_blocks_give_the_brute_force_answer() {
        // Four classes of uneven sizes, coordinates of mixed scale, and
        // panels and row blocks that do not divide the class boundaries.
        let (n, d) = (203, 7);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let points = Array2::from_shape_fn((n, d), |(_, k)| next() * 10f64.powi(k as i32 % 4));
        let labels: Vec<u32> = (0..n).map(|i| [0, 0, 1, 2, 2, 2, 3][i % 7]).collect();
        let order = ClassOrder::new(&labels);
        let reference = separation_brute_force(points.view(), &labels, Norm::L2);
        for (row_block, panel_width) in [(1, 1), (3, 5), (16, 17), (64, 1000)] {
            let tiling = Tiling {
                row_block,
                panel_width,
            };
            let (found, upper) = scan(
                points.view(),
                &order,
                usize::MAX,
                Cutoff::Tightening,
                Some(tiling),
            )
            .unwrap();
            let best = found
                .iter()
                .filter(|c| c.0 <= upper)
                .map(|&(_, a, b)| {
                    let pair = order.pair(a, b);
                    (reference_distance(points.view(), pair), pair)
                })
                .min_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)))
                .unwrap();
            assert_eq!((best.0, Some(best.1)), (reference.delta, reference.pair));
            // A fixed cutoff keeps every pair at or below it, whatever the
            // tiling: here the 60th smallest differently-labelled distance.
            let mut all = Vec::new();
            for i in 0..n {
                for j in i + 1..n {
                    if labels[i] != labels[j] {
                        all.push((reference_distance(points.view(), (i, j)), (i, j)));
                    }
                }
            }
            all.sort_by(|x, y| x.0.total_cmp(&y.0));
            let cutoff = all[59].0;
            let mut expected: Vec<(usize, usize)> =
                all.iter().filter(|x| x.0 <= cutoff).map(|x| x.1).collect();
            expected.sort();
            let (kept, _) = scan(
                points.view(),
                &order,
                usize::MAX,
                Cutoff::Fixed(cutoff),
                Some(tiling),
            )
            .unwrap();
            let mut close: Vec<(usize, usize)> = kept
                .iter()
                .map(|&(_, a, b)| order.pair(a, b))
                .filter(|&pair| reference_distance(points.view(), pair) <= cutoff)
                .collect();
            close.sort();
            assert!(expected.len() >= 60);
            assert_eq!(close, expected, "tiling {row_block} x {panel_width}");
        }
    }

    #[test]
    fn bounds_contain_the_reference_distance() {
        let b = Bounds::new(50).unwrap();
        let (lo, hi) = b.range(4.0, 10.0, 10.0);
        assert!(lo < 2.0 && 2.0 < hi);
        assert!(b.g_cutoff(hi, 10.0, 10.0) >= 4.0);
        assert!(Bounds::new(1 << 23).is_none());
    }
}
