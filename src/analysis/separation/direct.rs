//! The direct kernel: every differently-labelled pair accumulated with the
//! same operations, in the same order, as [`Norm::distance`], so each value
//! is bit-for-bit the reference value and no recheck is needed.
//!
//! Speed comes from
//! - visiting only pairs of different classes (points regrouped by class);
//! - SIMD across partners: each row meets [`LANES`] partners at once, stored
//!   coordinate-major in panels, while every single pair still sums its
//!   coordinates sequentially (the reference order);
//! - for general l_p, a cheap l_1 (p < 2) or l_2 (p > 2) pass first:
//!   Hoelder's inequality turns the best l_p distance into a radius outside
//!   which no pair can win,
//!   so few pairs pay for `powf`;
//! - early exit: after every [`CHUNK`] coordinates, a panel is abandoned when
//!   all its partial sums exceed the best distance found so far (partial sums
//!   of non-negative terms never decrease, so the pair cannot win);
//! - cache tiles of panels reused by a block of [`ROWS`] rows, blocks spread
//!   over all cores by rayon, and a shared atomic best to tighten the
//!   early exit across threads.

use super::order::ClassOrder;
use super::Best;
use crate::norm::Norm;
use ndarray::ArrayView2;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Partners processed together by one row.
const LANES: usize = 8;
/// Coordinates between two early-exit checks.
const CHUNK: usize = 8;
/// Rows per parallel task.
const ROWS: usize = 16;
/// Bytes of panels per cache tile.
const TILE_BYTES: usize = 192 * 1024;

/// How one norm accumulates a pair, mirroring [`Norm::distance`].
trait Metric: Copy + Send + Sync {
    /// Adds coordinate difference `x - y` to the accumulator.
    fn step(self, acc: f64, x: f64, y: f64) -> f64;
    /// The distance from a complete accumulator.
    fn finish(self, acc: f64) -> f64;
    /// A bound such that any accumulator strictly above it finishes to a
    /// distance strictly above `best`.
    fn cutoff(self, best: f64) -> f64;
    /// For norms whose terms are expensive: a cheap norm and c > 0 with
    /// c ||v||_cheap <= ||v||_p for every v of dimension `d`, to discard
    /// pairs with a cheap pass first.
    fn prefilter(self, _d: usize) -> Option<Prefilter> {
        None
    }
}

/// A cheap lower bound for an expensive norm: the cheap norm times a factor.
#[derive(Clone, Copy)]
enum Prefilter {
    L1(f64),
    L2(f64),
}

#[derive(Clone, Copy)]
struct L1;
#[derive(Clone, Copy)]
struct L2;
#[derive(Clone, Copy)]
struct Linf;
#[derive(Clone, Copy)]
struct Lp(f64);

impl Metric for L1 {
    #[inline(always)]
    fn step(self, acc: f64, x: f64, y: f64) -> f64 {
        acc + (x - y).abs()
    }
    fn finish(self, acc: f64) -> f64 {
        acc
    }
    fn cutoff(self, best: f64) -> f64 {
        best
    }
}

impl Metric for L2 {
    #[inline(always)]
    fn step(self, acc: f64, x: f64, y: f64) -> f64 {
        acc + (x - y) * (x - y)
    }
    fn finish(self, acc: f64) -> f64 {
        acc.sqrt()
    }
    /// sqrt is correctly rounded and monotone: an accumulator above
    /// best^2 (1 + 1e-12) has a root above best (1 + 4e-13) before rounding,
    /// hence strictly above `best` after.
    fn cutoff(self, best: f64) -> f64 {
        best * best * (1.0 + 1e-12)
    }
}

impl Metric for Linf {
    #[inline(always)]
    fn step(self, acc: f64, x: f64, y: f64) -> f64 {
        acc.max((x - y).abs())
    }
    fn finish(self, acc: f64) -> f64 {
        acc
    }
    fn cutoff(self, best: f64) -> f64 {
        best
    }
}

impl Metric for Lp {
    #[inline(always)]
    fn step(self, acc: f64, x: f64, y: f64) -> f64 {
        acc + (x - y).abs().powf(self.0)
    }
    fn finish(self, acc: f64) -> f64 {
        acc.powf(1.0 / self.0)
    }
    /// `powf` is accurate to about an ulp: a sum larger by a relative 1e-9
    /// has a p-th root larger by about 1e-9 / p, far above rounding for any
    /// p below 1e6. Larger p (never sensible: use linf) disables the exit.
    fn cutoff(self, best: f64) -> f64 {
        if self.0 > 1e6 {
            f64::INFINITY
        } else {
            best.powf(self.0) * (1.0 + 1e-9)
        }
    }
    /// Hoelder: ||v||_p >= d^(1/p - 1) ||v||_1 for p < 2 and
    /// ||v||_p >= d^(1/p - 1/2) ||v||_2 for p > 2. For vectors with similar
    /// entries both are within a constant factor, independent of d.
    fn prefilter(self, d: usize) -> Option<Prefilter> {
        let (p, d) = (self.0, d as f64);
        Some(if p < 2.0 {
            Prefilter::L1(d.powf(1.0 / p - 1.0))
        } else {
            Prefilter::L2(d.powf(1.0 / p - 0.5))
        })
    }
}

/// The exact separation over the pairs `order` marks as differently
/// labelled, ties to the smallest original (i, j).
pub(super) fn separation(points: ArrayView2<f64>, order: &ClassOrder, norm: Norm) -> Best {
    match norm {
        Norm::L1 => run(points, order, L1),
        Norm::L2 => run(points, order, L2),
        Norm::Linf => run(points, order, Linf),
        Norm::Lp(p) => run(points, order, Lp(p)),
    }
}

/// Coordinate-major panels of [`LANES`] points each, in class order: the
/// only copy of the data the kernel keeps.
struct Layout {
    d: usize,
    n: usize,
    panels: Vec<f64>,
}

impl Layout {
    fn new(points: ArrayView2<f64>, order: &ClassOrder) -> Layout {
        let (n, d) = (order.len(), points.ncols());
        let groups = n.div_ceil(LANES);
        let mut panels = vec![0.0; groups * d * LANES];
        for (b, &i) in order.original.iter().enumerate() {
            let (g, l) = (b / LANES, b % LANES);
            let panel = &mut panels[g * d * LANES..(g + 1) * d * LANES];
            for (k, &x) in points.row(i).iter().enumerate() {
                panel[k * LANES + l] = x;
            }
        }
        Layout { d, n, panels }
    }

    /// Copies the point at sorted position `a` into `out` (length d).
    fn row_into(&self, a: usize, out: &mut [f64]) {
        let panel = self.panel(a / LANES);
        for (o, col) in out.iter_mut().zip(panel.chunks_exact(LANES)) {
            *o = col[a % LANES];
        }
    }

    fn panel(&self, g: usize) -> &[f64] {
        &self.panels[g * self.d * LANES..(g + 1) * self.d * LANES]
    }
}

fn run<M: Metric>(points: ArrayView2<f64>, order: &ClassOrder, metric: M) -> Best {
    let layout = Layout::new(points, order);
    // Rows of the last class have no later partners.
    let active = order.later.partition_point(|&l| l < layout.n);
    let shared = AtomicU64::new(f64::INFINITY.to_bits());
    // Progress in pairs (rows times later columns; see crate::progress).
    let block_rows = |block: usize| block * ROWS..((block + 1) * ROWS).min(active);
    let work =
        |rows: std::ops::Range<usize>| (rows.len() * (layout.n - order.later[rows.start])) as u64;
    let blocks = active.div_ceil(ROWS);
    crate::progress::work((0..blocks).map(|b| work(block_rows(b))).sum());
    (0..blocks)
        .into_par_iter()
        .map(|block| {
            let rows = block_rows(block);
            let best = scan_block(&layout, order, metric, rows.clone(), &shared);
            crate::progress::tick(work(rows));
            best
        })
        .reduce(|| Best::NONE, Best::merge)
}

/// Scans one block of rows, with 256-bit vectors when the CPU has AVX
/// (plain IEEE adds, subtractions, products and maxima, never fused: the
/// values are the same as without).
fn scan_block<M: Metric>(
    layout: &Layout,
    order: &ClassOrder,
    metric: M,
    rows: std::ops::Range<usize>,
    shared: &AtomicU64,
) -> Best {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, checked just above.
        return unsafe { scan_block_avx(layout, order, metric, rows, shared) };
    }
    scan_block_body(layout, order, metric, rows, shared)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn scan_block_avx<M: Metric>(
    layout: &Layout,
    order: &ClassOrder,
    metric: M,
    rows: std::ops::Range<usize>,
    shared: &AtomicU64,
) -> Best {
    scan_block_body(layout, order, metric, rows, shared)
}

#[inline(always)]
fn scan_block_body<M: Metric>(
    layout: &Layout,
    order: &ClassOrder,
    metric: M,
    rows: std::ops::Range<usize>,
    shared: &AtomicU64,
) -> Best {
    let (n, d) = (layout.n, layout.d);
    let groups = n.div_ceil(LANES);
    let tile = (TILE_BYTES / (d * LANES * 8)).max(1);
    let mut best = Best::NONE;
    let prefilter = metric.prefilter(d);
    // Relative rounding of the cheap pass and of the factor, with room to spare.
    let margin = 4.0 * (d as f64 + 8.0) * f64::EPSILON + 1e-12;
    let mut block_rows = vec![0.0; rows.len() * d];
    for (a, out) in rows.clone().zip(block_rows.chunks_exact_mut(d)) {
        layout.row_into(a, out);
    }
    // The first row has the smallest class, hence the earliest partners.
    let first_group = order.later[rows.start] / LANES;
    for tile_start in (first_group..groups).step_by(tile) {
        let tile_end = (tile_start + tile).min(groups);
        let seen = f64::from_bits(shared.load(Ordering::Relaxed));
        let mut cutoff = metric.cutoff(best.value.min(seen));
        for (a, xi) in rows.clone().zip(block_rows.chunks_exact(d)) {
            let first = order.later[a];
            for g in tile_start.max(first / LANES)..tile_end {
                let base = g * LANES;
                let live = |l: usize| base + l >= first && base + l < n;
                let mut init = [0.0; LANES];
                for (l, v) in init.iter_mut().enumerate() {
                    if !live(l) {
                        *v = f64::INFINITY;
                    }
                }
                let panel = layout.panel(g);
                if let Some(filter) = prefilter {
                    // ||v||_cheap > best / factor proves ||v||_p > best.
                    let radius = best.value.min(seen);
                    let cheap = match filter {
                        Prefilter::L1(c) => {
                            let cut = L1.cutoff(radius / c) * (1.0 + margin);
                            accumulate(L1, xi, panel, init, cut).map(|a| (a, cut))
                        }
                        Prefilter::L2(c) => {
                            let cut = L2.cutoff(radius / c) * (1.0 + margin);
                            accumulate(L2, xi, panel, init, cut).map(|a| (a, cut))
                        }
                    };
                    let Some((acc, cut)) = cheap else {
                        continue;
                    };
                    for (v, &a) in init.iter_mut().zip(&acc) {
                        if a > cut {
                            *v = f64::INFINITY;
                        }
                    }
                }
                let Some(acc) = accumulate(metric, xi, panel, init, cutoff) else {
                    continue;
                };
                for (l, &s) in acc.iter().enumerate() {
                    if !live(l) {
                        continue;
                    }
                    let value = metric.finish(s);
                    let pair = order.pair(a, base + l);
                    if best.improved_by(value, pair) {
                        best = Best {
                            value,
                            pair: Some(pair),
                        };
                        cutoff = metric.cutoff(best.value.min(seen));
                    }
                }
            }
        }
        if best.value < seen {
            // Non-negative floats order like their bit patterns.
            shared.fetch_min(best.value.to_bits(), Ordering::Relaxed);
        }
    }
    best
}

/// Accumulates one row against one panel; `None` once every lane's partial
/// sum exceeds `cutoff`.
#[inline(always)]
fn accumulate<M: Metric>(
    metric: M,
    xi: &[f64],
    panel: &[f64],
    mut acc: [f64; LANES],
    cutoff: f64,
) -> Option<[f64; LANES]> {
    for (xs, cols) in xi.chunks(CHUNK).zip(panel.chunks(CHUNK * LANES)) {
        for (&x, col) in xs.iter().zip(cols.chunks_exact(LANES)) {
            let col: &[f64; LANES] = col.try_into().expect("panel columns hold LANES values");
            for l in 0..LANES {
                acc[l] = metric.step(acc[l], x, col[l]);
            }
        }
        if acc.iter().all(|&s| s > cutoff) {
            return None;
        }
    }
    Some(acc)
}
