//! The l_2 integer kernel: exact lower bounds from 7-bit quantized points,
//! then the reference distance of every pair the bounds cannot rule out.
//!
//! # The bound
//!
//! With o the per-column minimum of the points and one global step
//! s = R / 127 (R the largest column range), each point gets integer
//! coordinates q_i = clamp(round(fl(x_i - o) / s), 0, 127) and a residual
//! bound e_i >= ||x_i - o - s q_i||_2 (real arithmetic), computed in f64
//! with outward rounding: per coordinate, with t = fl(x - o), p = fl(s q)
//! and w = fl(t - p), |x - o - s q| <= |w| + (v / (1 - v)) (|w| + |t| + p)
//! (v = 2^-53; one rounding each, subtraction exact on underflow, s at
//! least 1e-290 so s q never underflows), summed in squares with a
//! relative margin for the d roundings and an absolute one for squares
//! that underflow. Nothing requires q to be the nearest integer: clamping
//! and rounding only enlarge the residual, which e_i bounds.
//!
//! Then by the triangle inequality, for every pair,
//! ||x_i - x_j|| >= s sqrt(n_ij) - e_i - e_j with
//! n_ij = ||q_i - q_j||^2 = ||q_i||^2 + ||q_j||^2 - 2 <q_i, q_j>, an exact
//! integer (see `kernel`). The reference value r_ij =
//! `Norm::L2.distance(x_i, x_j)` is within a relative theta = (d + 3) v of
//! ||x_i - x_j||, so lo_ij = (s sqrt(n_ij) - e_i - e_j)(1 - theta) <= r_ij,
//! and lo_ij > U exactly when n_ij > ((U / (1 - theta) + e_i + e_j) / s)^2.
//! The kernel compares n_ij with that square computed with a relative
//! margin of 1e-9 (far above the rounding of the few f64 operations) and
//! rounded up to an integer, using the largest e_j of the column group; a
//! pair it keeps is tested again with its own e_j before its reference
//! distance is computed.
//!
//! # Exactness
//!
//! U is always the reference distance of a differently-labelled pair
//! already computed (first from a sample of rows, see [`Quantized::sample`]),
//! so U >= delta; it only shrinks, so a stale U is only less selective. A
//! pair is ruled out only when lo > U, hence r > delta: the minimiser and
//! every pair tied with it get their reference distance, and the minimum of
//! (r, i, j) over the computed pairs is exactly the brute-force answer,
//! whatever the thread scheduling.
//!
//! The kernel gives up (the caller falls back to the Gram kernel) when the
//! data cannot be quantized (non-finite, overflowing, all equal, a step
//! below 1e-290, dimension above [`MAX_DIM`]) or more than
//! [`REFINE_CAP`] pairs need their reference distance.

mod kernel;

use super::order::ClassOrder;
use super::Best;
use crate::norm::Norm;
use kernel::{Tile, MR, NR, STRIP};
use ndarray::ArrayView2;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Whether the CPU runs the VNNI kernel (AVX-512 F, BW and VNNI).
pub(super) fn has_vnni() -> bool {
    kernel::has_vnni()
}

/// Largest padded dimension: keeps ||q_a||^2 + ||q_b||^2 below 2^31.
pub(super) const MAX_DIM: usize = 1 << 16;
/// Rows per parallel task (a multiple of [`MR`]).
const ROW_BLOCK: usize = 16 * MR;
/// Pairs whose reference distance all tasks together may compute before
/// the kernel gives up.
const REFINE_CAP: usize = 1 << 22;
/// Rows of the sample that gives the first upper bound and the estimate.
const SAMPLED_ROWS: usize = 256;
/// Of those, the rows whose nearest partner in the integer distance gives
/// the first upper bound.
const FIRST_ROWS: usize = 64;
/// The kernel is used (when deciding) only if at most this fraction of the
/// sampled pairs survive the bound at the sample's upper bound.
const SURVIVOR_FRACTION: f64 = 1.0 / 256.0;

/// The points quantized in class order (see the module doc).
pub(super) struct Quantized {
    /// Number of points.
    n: usize,
    /// Padded dimension: a multiple of 4.
    dp: usize,
    /// Row-major bytes, `dp` per point, padded with zero rows to a
    /// multiple of [`MR`].
    rows: Vec<u8>,
    /// Column groups of two strips (see `kernel`), zero-padded to a
    /// multiple of [`NR`] points.
    strips: Vec<u8>,
    /// ||q||^2 per point (0 for padding).
    sq: Vec<i32>,
    /// Residual bounds e per point (0 for padding).
    e: Vec<f64>,
    /// The largest e of each column group.
    e_max: Vec<f64>,
    /// The step s.
    step: f64,
    /// 1 / (1 - theta), rounded up.
    inv_theta: f64,
}

impl Quantized {
    /// Quantizes the points in the order of `order`; `None` when they
    /// cannot be (see the module doc).
    pub(super) fn new(points: ArrayView2<f64>, order: &ClassOrder) -> Option<Quantized> {
        let (n, d) = points.dim();
        let dp = d.div_ceil(4) * 4;
        if n == 0 || d == 0 || dp > MAX_DIM {
            return None;
        }
        let mut lo = vec![f64::INFINITY; d];
        let mut hi = vec![f64::NEG_INFINITY; d];
        for row in points.outer_iter() {
            for ((l, h), &x) in lo.iter_mut().zip(hi.iter_mut()).zip(row) {
                if !x.is_finite() {
                    return None;
                }
                *l = l.min(x);
                *h = h.max(x);
            }
        }
        let range = lo.iter().zip(&hi).map(|(l, h)| h - l).fold(0.0, f64::max);
        let step = range / 127.0;
        if !range.is_finite() || step.is_nan() || step < 1e-290 {
            return None;
        }
        let v = f64::EPSILON / 2.0;
        let df = d as f64;
        let inv = 1.0 / step;
        let rows_len = n.div_ceil(MR) * MR;
        let mut rows = vec![0u8; rows_len * dp];
        let quantized: Vec<Option<(i32, f64)>> = rows
            .par_chunks_mut(dp)
            .take(n)
            .zip(order.original.par_iter())
            .map(|(q, &i)| {
                let mut sq = 0i32;
                let mut sum = 0.0;
                for ((out, &x), &o) in q.iter_mut().zip(points.row(i)).zip(&lo) {
                    let t = x - o;
                    if !t.is_finite() {
                        return None;
                    }
                    let k = (t * inv).round().clamp(0.0, 127.0);
                    let p = step * k;
                    let w = t - p;
                    let b = w.abs() + 2.5 * v * (w.abs() + t.abs() + p);
                    sum += b * b;
                    // k is an integer in 0..=127.
                    let k = k as u8;
                    *out = k;
                    sq += i32::from(k) * i32::from(k);
                }
                let e = (sum * (1.0 + 2.0 * (df + 4.0) * v)).sqrt() * (1.0 + 4.0 * v)
                    + df.sqrt() * 2f64.powi(-500);
                e.is_finite().then_some((sq, e))
            })
            .collect();
        let groups = n.div_ceil(NR);
        let mut sq = vec![0i32; groups * NR];
        let mut e = vec![0.0; groups * NR];
        for (k, found) in quantized.into_iter().enumerate() {
            (sq[k], e[k]) = found?;
        }
        let e_max = e
            .chunks_exact(NR)
            .map(|c| c.iter().copied().fold(0.0, f64::max))
            .collect();
        let mut strips = vec![0u8; groups * NR * dp];
        strips
            .par_chunks_mut(STRIP * dp)
            .enumerate()
            .for_each(|(s, strip)| {
                for lane in 0..STRIP {
                    let point = s * STRIP + lane;
                    if point >= n {
                        break;
                    }
                    let row = &rows[point * dp..][..dp];
                    for (g, quad) in row.chunks_exact(4).enumerate() {
                        strip[g * 64 + lane * 4..][..4].copy_from_slice(quad);
                    }
                }
            });
        let theta = 1.02 * (df + 3.0) * v;
        Some(Quantized {
            n,
            dp,
            rows,
            strips,
            sq,
            e,
            e_max,
            step,
            inv_theta: (1.0 / (1.0 - theta)) * (1.0 + 4.0 * v),
        })
    }

    /// The largest integer distance a pair with residual bounds `e_a` and
    /// `e_b` can have without its lower bound exceeding `upper` (an upper
    /// bound of it, as a real number).
    fn cutoff(&self, upper: f64, e_a: f64, e_b: f64) -> f64 {
        let root = (upper * self.inv_theta + e_a + e_b) / self.step;
        root * root * (1.0 + 1e-9)
    }

    /// [`Quantized::cutoff`] as a kernel threshold: n above it rules the
    /// pair out.
    fn threshold(&self, upper: f64, e_a: f64, e_b: f64) -> i32 {
        let t = self.cutoff(upper, e_a, e_b).ceil();
        if t < f64::from(i32::MAX) {
            // 0 <= t < 2^31, an integer.
            t as i32
        } else {
            i32::MAX
        }
    }

    /// Runs the kernel over the rows `bytes` (row r at sorted position
    /// `pos[r]`, [`MR`] rows per tile, zero-padded) against every column
    /// group holding one of their partners, handing each partner whose
    /// integer distance is at most the visitor's threshold to the visitor.
    fn sweep<V: Visitor>(&self, bytes: &[u8], pos: &[usize], order: &ClassOrder, v: &mut V) {
        let Some(first) = pos.iter().map(|&a| order.later[a]).min() else {
            return;
        };
        let dp = self.dp;
        let group_bytes = NR * dp;
        let mut out = [[0i32; NR]; MR];
        for group in first / NR..self.n.div_ceil(NR) {
            if v.stop() {
                return;
            }
            let c0 = group * NR;
            for (t, tile_pos) in pos.chunks(MR).enumerate() {
                let later_min = tile_pos.iter().map(|&a| order.later[a]).min().unwrap_or(0);
                if later_min >= c0 + NR {
                    continue;
                }
                let mut thresholds = [-1i32; MR];
                let mut sq_rows = [0i32; MR];
                for (r, &a) in tile_pos.iter().enumerate() {
                    thresholds[r] = v.threshold(self, a, group);
                    sq_rows[r] = self.sq[a];
                }
                let tile = Tile {
                    rows: &bytes[t * MR * dp..][..MR * dp],
                    sq_rows,
                    thresholds,
                    panel: &self.strips[group * group_bytes..][..group_bytes],
                    sq_cols: &self.sq[c0..c0 + NR],
                    dp,
                };
                let masks = kernel::tile(&tile, v.simd(), &mut out);
                for (r, &a) in tile_pos.iter().enumerate() {
                    let mut mask = masks[r] & lanes(order.later[a], self.n, c0);
                    while mask != 0 {
                        let c = mask.trailing_zeros() as usize;
                        mask &= mask - 1;
                        v.visit(self, a, c0 + c, out[r][c]);
                    }
                }
            }
        }
    }

    /// The bytes of the rows at sorted positions `pos`, zero-padded to a
    /// multiple of [`MR`] rows.
    fn gather(&self, pos: &[usize]) -> Vec<u8> {
        let dp = self.dp;
        let mut bytes = vec![0u8; pos.len().div_ceil(MR) * MR * dp];
        for (out, &a) in bytes.chunks_exact_mut(dp).zip(pos) {
            out.copy_from_slice(&self.rows[a * dp..][..dp]);
        }
        bytes
    }
}

/// Bits c of the lanes c0 + c that are partners of a row whose partners
/// start at `later` (and are points: below `n`).
fn lanes(later: usize, n: usize, c0: usize) -> u32 {
    let from = later.saturating_sub(c0).min(NR);
    let to = n.saturating_sub(c0).min(NR);
    if from >= to {
        return 0;
    }
    let below = |k: usize| if k >= 32 { u32::MAX } else { (1u32 << k) - 1 };
    below(to) & !below(from)
}

/// What a sweep does with the pairs the kernel keeps.
trait Visitor {
    /// The kernel threshold for row `a` against column group `group`.
    fn threshold(&self, q: &Quantized, a: usize, group: usize) -> i32;
    /// Whether to use the VNNI kernel (when the CPU has it).
    fn simd(&self) -> bool;
    /// Sorted positions a < b, with integer distance n.
    fn visit(&mut self, q: &Quantized, a: usize, b: usize, n: i32);
    /// Whether to abandon the sweep.
    fn stop(&self) -> bool {
        false
    }
}

/// Keeps, for each row, the partner with the smallest integer distance.
struct Nearest {
    simd: bool,
    /// Per sorted position: the smallest (n, b) found (`i32::MAX` if none).
    best: Vec<(i32, usize)>,
}

impl Visitor for Nearest {
    fn threshold(&self, _: &Quantized, a: usize, _: usize) -> i32 {
        self.best[a].0
    }
    fn simd(&self) -> bool {
        self.simd
    }
    fn visit(&mut self, _: &Quantized, a: usize, b: usize, n: i32) {
        self.best[a] = self.best[a].min((n, b));
    }
}

/// What every task of a scan shares.
struct Shared<'a> {
    points: ArrayView2<'a, f64>,
    order: &'a ClassOrder,
    /// The smallest reference distance found by any task (f64 bits).
    upper: AtomicU64,
    /// Pairs whose reference distance was computed.
    refined: AtomicUsize,
    /// Whether a task gave up.
    abort: AtomicBool,
    /// The most pairs that may be refined.
    cap: usize,
    simd: bool,
    /// Whether reference distances lower U (else U is a fixed cutoff and
    /// the pairs within it are kept).
    tighten: bool,
}

/// Computes the reference distance of every pair its own residual bounds
/// do not rule out; keeps the best.
struct Refiner<'a, 'b> {
    shared: &'b Shared<'a>,
    best: Best,
    /// Pairs this task refined.
    refined: usize,
    /// With a fixed cutoff: the pairs within it (distance, i, j).
    kept: Vec<(f64, usize, usize)>,
}

impl<'a, 'b> Refiner<'a, 'b> {
    fn new(shared: &'b Shared<'a>) -> Self {
        Refiner {
            shared,
            best: Best::NONE,
            refined: 0,
            kept: Vec::new(),
        }
    }
}

impl Refiner<'_, '_> {
    /// The current upper bound U.
    fn upper(&self) -> f64 {
        self.best
            .value
            .min(f64::from_bits(self.shared.upper.load(Ordering::Relaxed)))
    }
}

impl Visitor for Refiner<'_, '_> {
    fn threshold(&self, q: &Quantized, a: usize, group: usize) -> i32 {
        q.threshold(self.upper(), q.e[a], q.e_max[group])
    }
    fn simd(&self) -> bool {
        self.shared.simd
    }
    fn visit(&mut self, q: &Quantized, a: usize, b: usize, n: i32) {
        if self.shared.abort.load(Ordering::Relaxed) {
            return;
        }
        if f64::from(n) > q.cutoff(self.upper(), q.e[a], q.e[b]) {
            return;
        }
        self.refined += 1;
        if self.shared.refined.fetch_add(1, Ordering::Relaxed) >= self.shared.cap {
            self.shared.abort.store(true, Ordering::Relaxed);
            return;
        }
        let pair = self.shared.order.pair(a, b);
        let value = reference_distance(self.shared.points, pair);
        if !self.shared.tighten {
            if value <= self.upper() {
                self.kept.push((value, pair.0, pair.1));
            }
            return;
        }
        if self.best.improved_by(value, pair) {
            self.best = Best {
                value,
                pair: Some(pair),
            };
            // Non-negative floats order like their bit patterns.
            self.shared
                .upper
                .fetch_min(value.to_bits(), Ordering::Relaxed);
        }
    }
    fn stop(&self) -> bool {
        self.shared.abort.load(Ordering::Relaxed)
    }
}

/// `Norm::L2.distance` between two rows of `points`.
fn reference_distance(points: ArrayView2<f64>, (i, j): (usize, usize)) -> f64 {
    let (xi, xj) = (points.row(i), points.row(j));
    match (xi.as_slice(), xj.as_slice()) {
        (Some(xi), Some(xj)) => Norm::L2.distance(xi, xj),
        _ => Norm::L2.distance(&xi.to_vec(), &xj.to_vec()),
    }
}

/// How [`separation`] runs.
#[derive(Clone, Copy, Debug)]
pub(super) struct Options {
    /// Give up when the sample says the kernel would not pay.
    pub decide: bool,
    /// Use the VNNI kernel when the CPU has it (else the portable one).
    pub simd: bool,
    /// The most pairs that may get their reference distance.
    pub cap: usize,
}

impl Options {
    /// As [`super::separation`] runs it.
    pub(super) fn deciding() -> Options {
        Options {
            decide: true,
            simd: true,
            cap: REFINE_CAP,
        }
    }
}

/// The exact l_2 separation by the integer kernel, or `None` when the data
/// cannot be quantized, the sample says the kernel would not pay (with
/// `decide`) or more than `cap` pairs need their reference distance.
/// Needs at least one pair of different labels.
pub(super) fn separation(
    points: ArrayView2<f64>,
    order: &ClassOrder,
    options: Options,
) -> Option<Best> {
    let q = Quantized::new(points, order)?;
    let n = q.n;
    let active = order.later.partition_point(|&l| l < n);
    let shared = Shared {
        points: points.view(),
        order,
        upper: AtomicU64::new(f64::INFINITY.to_bits()),
        refined: AtomicUsize::new(0),
        abort: AtomicBool::new(false),
        cap: options.cap,
        simd: options.simd,
        tighten: true,
    };
    let first = q.sample(&shared, active, options.decide)?;
    let best = q
        .scan(&shared, active, |refiner| refiner.best)
        .into_iter()
        .fold(Best::NONE, Best::merge);
    if shared.abort.load(Ordering::Relaxed) {
        return None;
    }
    Some(first.merge(best))
}

impl Quantized {
    /// Sweeps the first `active` rows (every row with a partner) in
    /// parallel blocks of [`ROW_BLOCK`], each with its own [`Refiner`], and
    /// returns what `take` keeps of each block's refiner, in block order.
    fn scan<T: Send>(
        &self,
        shared: &Shared,
        active: usize,
        take: impl Fn(Refiner) -> T + Sync,
    ) -> Vec<T> {
        crate::progress::work(active as u64);
        (0..active.div_ceil(ROW_BLOCK))
            .into_par_iter()
            .map(|block| {
                let rows = block * ROW_BLOCK..((block + 1) * ROW_BLOCK).min(active);
                let pos: Vec<usize> = rows.clone().collect();
                let mut refiner = Refiner::new(shared);
                self.sweep(
                    &self.rows[rows.start * self.dp..],
                    &pos,
                    shared.order,
                    &mut refiner,
                );
                crate::progress::tick(rows.len() as u64);
                take(refiner)
            })
            .collect()
    }

    /// The first upper bound and the estimate, from [`SAMPLED_ROWS`]
    /// evenly spaced rows: when tightening, the reference distance of each
    /// of [`FIRST_ROWS`] of them to its nearest partner in the integer
    /// distance sets U; then every sampled pair the bound keeps at U is
    /// refined. Returns the best pair found; `None` when (with `decide`)
    /// more than [`SURVIVOR_FRACTION`] of the sampled pairs survive, or the
    /// refinements exceed the cap.
    fn sample(&self, shared: &Shared, active: usize, decide: bool) -> Option<Best> {
        let order = shared.order;
        let m = active.min(SAMPLED_ROWS);
        let pos: Vec<usize> = (0..m).map(|k| k * active / m).collect();
        let mut best = Best::NONE;
        if shared.tighten {
            let few: Vec<usize> = pos
                .iter()
                .step_by(m.div_ceil(FIRST_ROWS).max(1))
                .copied()
                .collect();
            let mut nearest = Nearest {
                simd: shared.simd,
                best: vec![(i32::MAX, 0); self.n],
            };
            self.sweep(&self.gather(&few), &few, order, &mut nearest);
            for &a in &few {
                let (n, b) = nearest.best[a];
                if n == i32::MAX && b == 0 {
                    continue;
                }
                let pair = order.pair(a, b);
                let value = reference_distance(shared.points, pair);
                if best.improved_by(value, pair) {
                    best = Best {
                        value,
                        pair: Some(pair),
                    };
                }
            }
            shared
                .upper
                .fetch_min(best.value.to_bits(), Ordering::Relaxed);
        }
        let sampled: u64 = pos.iter().map(|&a| (self.n - order.later[a]) as u64).sum();
        let results: Vec<(Best, usize)> = pos
            .par_chunks(8 * MR)
            .map(|chunk| {
                let mut refiner = Refiner::new(shared);
                self.sweep(&self.gather(chunk), chunk, order, &mut refiner);
                (refiner.best, refiner.refined)
            })
            .collect();
        let mut survivors = 0;
        for (found, refined) in results {
            best = best.merge(found);
            survivors += refined;
        }
        if shared.abort.load(Ordering::Relaxed)
            || (decide && survivors as f64 > SURVIVOR_FRACTION * sampled as f64)
        {
            return None;
        }
        Some(best)
    }
}

/// Every differently-labelled pair (i, j), i < j, whose reference distance
/// is at most `cutoff`, with that distance, sorted by (distance, i, j): the
/// contract of the Gram kernel's `close_pairs`. `None` when the data cannot
/// be quantized, (with `decide`) a sample says more than
/// [`SURVIVOR_FRACTION`] of the pairs survive the bound, more than [`REFINE_CAP`] (or `cap`) pairs need their
/// reference distance, or more than `cap` pairs are within the cutoff.
pub(super) fn close_pairs(
    points: ArrayView2<f64>,
    order: &ClassOrder,
    cutoff: f64,
    cap: usize,
    decide: bool,
) -> Option<Vec<(f64, usize, usize)>> {
    if cutoff.is_nan() {
        return None;
    }
    let q = Quantized::new(points, order)?;
    let n = q.n;
    let active = order.later.partition_point(|&l| l < n);
    let shared = Shared {
        points: points.view(),
        order,
        upper: AtomicU64::new(cutoff.max(0.0).to_bits()),
        refined: AtomicUsize::new(0),
        abort: AtomicBool::new(false),
        cap: REFINE_CAP.max(cap),
        simd: true,
        tighten: false,
    };
    if decide {
        q.sample(&shared, active, true)?;
    }
    shared.refined.store(0, Ordering::Relaxed);
    let found = q.scan(&shared, active, |refiner| refiner.kept);
    let total: usize = found.iter().map(Vec::len).sum();
    if shared.abort.load(Ordering::Relaxed) || total > cap {
        return None;
    }
    let mut close: Vec<(f64, usize, usize)> = found.into_iter().flatten().collect();
    close.sort_by(|x, y| x.0.total_cmp(&y.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    Some(close)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_cover_partners_below_n() {
        assert_eq!(lanes(0, 100, 0), u32::MAX);
        assert_eq!(lanes(5, 100, 0), u32::MAX << 5);
        assert_eq!(lanes(0, 3, 0), 0b111);
        assert_eq!(lanes(40, 100, 0), 0);
        assert_eq!(lanes(33, 40, 32), 0b1111_1110);
    }

    #[test]
    fn close_pairs_are_those_of_a_scan_of_every_pair() {
        let (n, d) = (150, 21);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let points = ndarray::Array2::from_shape_fn((n, d), |(_, k)| next() * (1 + k % 3) as f64);
        let labels: Vec<u32> = (0..n).map(|i| [0, 1, 1, 2, 3][i % 5]).collect();
        let order = ClassOrder::new(&labels);
        let mut all = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                if labels[i] != labels[j] {
                    all.push((reference_distance(points.view(), (i, j)), i, j));
                }
            }
        }
        all.sort_by(|x, y| x.0.total_cmp(&y.0).then((x.1, x.2).cmp(&(y.1, y.2))));
        for k in [0, 10, 100] {
            let cutoff = all[k].0;
            let expected: Vec<_> = all.iter().copied().filter(|x| x.0 <= cutoff).collect();
            let found = close_pairs(points.view(), &order, cutoff, usize::MAX, false).unwrap();
            assert_eq!(found, expected);
        }
        assert!(close_pairs(points.view(), &order, all[100].0, 50, false).is_none());
    }

    #[test]
    fn thresholds_saturate_and_round_up() {
        let points = ndarray::array![[0.0, 0.0], [127.0, 1.0]];
        let order = ClassOrder::new(&[0, 1]);
        let q = Quantized::new(points.view(), &order).unwrap();
        assert_eq!(q.step, 1.0);
        assert_eq!(q.threshold(f64::INFINITY, 0.0, 0.0), i32::MAX);
        assert!(q.threshold(3.0, 0.0, 0.0) >= 9);
        assert_eq!(q.sq[..2], [0, 127 * 127 + 1]);
    }
}
