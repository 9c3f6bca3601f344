//! The pruned kernel: a sweep in the order of one sketch coordinate, where
//! a rigorous lower bound from a few sketch coordinates (see `sketch`) rules
//! out most pairs before any full distance is computed.
//!
//! # Exactness
//!
//! U is always the reference distance of some differently-labelled pair
//! already computed, so U >= delta. A pair is ruled out only when its lower
//! bound exceeds the U of that moment, hence its reference distance exceeds
//! delta. Every pair attaining delta (the minimiser and all pairs tied with
//! it) is therefore recomputed with [`Norm::distance`], and the minimum of
//! (distance, i, j) over the recomputed pairs is exactly the brute-force
//! answer, whatever the thread scheduling.
//!
//! # When it pays
//!
//! Before the sweep, [`worth_it`] estimates its cost on a sample of rows
//! (pairs inside the window, pairs surviving the sketch bound at a first
//! upper bound) against the all-pairs kernels. On data with low intrinsic
//! dimension most pairs fall outside the window or fail the bound; on
//! isotropic data (every direction as spread as the leading ones) few do,
//! and the caller keeps the Gram or direct kernel.

use super::sketch::{Sketch, LANES};
use super::Best;
use crate::norm::Norm;
use ndarray::ArrayView2;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Rows of the sweep per parallel task.
const ROWS: usize = 64;
/// Rows sampled by the cost estimate.
const SAMPLED_ROWS: usize = 256;
/// Later neighbours (in key order) tried per point for the first upper bound.
const NEIGHBOURS: usize = 16;
/// Sketch numbers (principal coordinates) for l_2.
pub(super) const PRINCIPAL_K: usize = 24;
/// Sketch coordinates for l_1, l_inf and l_p.
pub(super) const COORDINATE_K: usize = 16;

/// Sketch numbers in the panels of the first, vectorised test.
const PREFIX: usize = 8;

/// The points in key order with everything the sweep reads.
struct Sweep<'a> {
    points: ArrayView2<'a, f64>,
    norm: Norm,
    sketch: Sketch,
    /// `original[t]`: the point at sweep position t.
    original: Vec<usize>,
    /// Labels in sweep order.
    labels: Vec<u32>,
    /// Keys (first sketch numbers) in sweep order.
    keys: Vec<f64>,
    /// Numbers used by the panel test: min(PREFIX, k).
    prefix: usize,
    /// The first `prefix` numbers of each group of [`LANES`] points,
    /// coordinate-major; padding lanes hold infinity.
    panels: Vec<f64>,
}

/// The exact separation by the pruned sweep, or `None` when no sketch can
/// be formed or (with `decide`) the estimate says the all-pairs kernels
/// are faster.
pub(super) fn separation(
    points: ArrayView2<f64>,
    labels: &[u32],
    norm: Norm,
    decide: bool,
) -> Option<Best> {
    let k = match norm {
        Norm::L2 => PRINCIPAL_K,
        _ => COORDINATE_K,
    };
    let sketch = Sketch::new(points, norm, k)?;
    let sweep = Sweep::new(points.view(), labels, norm, sketch);
    let first = sweep.first_upper_bound();
    if decide && !sweep.worth_it(first.value) {
        return None;
    }
    Some(sweep.run(first.value))
}

impl<'a> Sweep<'a> {
    /// Sorts the points by their key (ties by index) and the sketch with them.
    fn new(points: ArrayView2<'a, f64>, labels: &[u32], norm: Norm, sketch: Sketch) -> Self {
        let n = points.nrows();
        let mut original: Vec<usize> = (0..n).collect();
        original.sort_by(|&a, &b| {
            sketch.row(a)[0]
                .total_cmp(&sketch.row(b)[0])
                .then(a.cmp(&b))
        });
        let k = sketch.k;
        let mut z = Vec::with_capacity(n * k);
        for &i in &original {
            z.extend_from_slice(sketch.row(i));
        }
        let s = original.iter().map(|&i| sketch.s[i]).collect();
        let sketch = Sketch { z, s, ..sketch };
        let prefix = PREFIX.min(k);
        let mut panels = vec![f64::INFINITY; n.div_ceil(LANES) * prefix * LANES];
        for t in 0..n {
            let (g, l) = (t / LANES, t % LANES);
            for (c, &x) in sketch.row(t)[..prefix].iter().enumerate() {
                panels[(g * prefix + c) * LANES + l] = x;
            }
        }
        Sweep {
            points,
            norm,
            keys: (0..n).map(|t| sketch.row(t)[0]).collect(),
            labels: original.iter().map(|&i| labels[i]).collect(),
            sketch,
            original,
            prefix,
            panels,
        }
    }

    /// The panel of group `g` (sweep positions g LANES ..).
    fn panel(&self, g: usize) -> &[f64] {
        let size = self.prefix * LANES;
        &self.panels[g * size..(g + 1) * size]
    }

    fn n(&self) -> usize {
        self.original.len()
    }

    fn key(&self, t: usize) -> f64 {
        self.keys[t]
    }

    fn label(&self, t: usize) -> u32 {
        self.labels[t]
    }

    /// The reference distance of sweep positions a and b, with their
    /// original pair (i < j).
    fn exact(&self, a: usize, b: usize) -> (f64, (usize, usize)) {
        let (i, j) = (self.original[a], self.original[b]);
        let (xi, xj) = (self.points.row(i), self.points.row(j));
        let value = match (xi.as_slice(), xj.as_slice()) {
            (Some(xi), Some(xj)) => self.norm.distance(xi, xj),
            _ => self.norm.distance(&xi.to_vec(), &xj.to_vec()),
        };
        (value, (i.min(j), i.max(j)))
    }

    /// A first upper bound: for every point, of its next [`NEIGHBOURS`] in
    /// key order with another label, the one nearest by the sketch, exactly.
    fn first_upper_bound(&self) -> Best {
        let n = self.n();
        (0..n)
            .into_par_iter()
            .with_min_len(1024)
            .filter_map(|a| {
                let za = self.sketch.row(a);
                let partner = (a + 1..(a + 1 + NEIGHBOURS).min(n))
                    .filter(|&b| self.label(b) != self.label(a))
                    .map(|b| {
                        let zb = self.sketch.row(b);
                        let gap: f64 = za.iter().zip(zb).map(|(x, y)| (x - y) * (x - y)).sum();
                        (gap, b)
                    })
                    .min_by(|x, y| x.0.total_cmp(&y.0))?;
                let (value, pair) = self.exact(a, partner.1);
                Some(Best {
                    value,
                    pair: Some(pair),
                })
            })
            .reduce(|| Best::NONE, Best::merge)
    }

    /// Whether the sweep, estimated on [`SAMPLED_ROWS`] evenly spaced rows
    /// at the first upper bound, costs less than half the all-pairs kernel.
    /// Costs in rough cycles per pair: a panel test 2 (vectorised), a full
    /// sketch test k, a recheck 4 d (a dependent chain of adds; 40 d with
    /// `powf`), an all-pairs pair d / 16 for the f32 Gram kernel (l_2) and
    /// d / 4 for the direct kernel.
    fn worth_it(&self, upper: f64) -> bool {
        let n = self.n();
        let d = self.points.ncols() as f64;
        let rows = n.min(SAMPLED_ROWS);
        let (mut window, mut tested, mut survivors) = (0u64, 0u64, 0u64);
        for r in 0..rows {
            let a = r * n / rows;
            let limits = self.sketch.limits(upper, self.sketch.s[a]);
            let za = self.sketch.row(a);
            for b in a + 1..n {
                if self.key(b) - self.key(a) > limits.window {
                    break;
                }
                window += 1;
                let zb = self.sketch.row(b);
                if self.label(b) == self.label(a)
                    || self
                        .sketch
                        .exceeds(&za[..self.prefix], &zb[..self.prefix], limits.cut)
                {
                    continue;
                }
                tested += 1;
                if !self.sketch.exceeds(za, zb, limits.cut) {
                    survivors += 1;
                }
            }
        }
        let scale = n as f64 / rows as f64;
        let (recheck, all_pairs) = match self.norm {
            Norm::L2 => (4.0 * d, d / 16.0),
            Norm::Lp(_) => (40.0 * d, d),
            _ => (4.0 * d, d / 4.0),
        };
        let k = self.sketch.k as f64;
        let sweep = scale * (2.0 * window as f64 + k * tested as f64 + recheck * survivors as f64)
            + 2.0 * n as f64 * d * k;
        let pairs = n as f64 * n as f64 / 2.0;
        sweep < 0.5 * pairs * all_pairs
    }

    /// The sweep on both cores from the upper bound `upper`.
    fn run(&self, upper: f64) -> Best {
        let n = self.n();
        let shared = AtomicU64::new(upper.to_bits());
        let blocks = n.div_ceil(ROWS);
        crate::progress::work(n as u64);
        (0..blocks)
            .into_par_iter()
            .map(|block| {
                let rows = block * ROWS..((block + 1) * ROWS).min(n);
                let best = self.rows(rows.clone(), &shared);
                crate::progress::tick(rows.len() as u64);
                best
            })
            .reduce(|| Best::NONE, Best::merge)
    }

    /// Every pair (a, b), a in `rows`, b > a, not ruled out by the shared
    /// upper bound, recomputed exactly; the best of them. Later points are
    /// taken a panel of [`LANES`] at a time: the panel test on the first
    /// numbers, then the full sketch test, then the reference distance.
    fn rows(&self, rows: std::ops::Range<usize>, shared: &AtomicU64) -> Best {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX, checked just above.
            return unsafe { self.rows_avx(rows, shared) };
        }
        self.rows_body(rows, shared)
    }

    /// [`Sweep::rows`] with 256-bit vectors (plain IEEE operations, never
    /// fused: the same values as without).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    unsafe fn rows_avx(&self, rows: std::ops::Range<usize>, shared: &AtomicU64) -> Best {
        self.rows_body(rows, shared)
    }

    #[inline(always)]
    fn rows_body(&self, rows: std::ops::Range<usize>, shared: &AtomicU64) -> Best {
        let n = self.n();
        let mut best = Best::NONE;
        for a in rows {
            let upper = best
                .value
                .min(f64::from_bits(shared.load(Ordering::Relaxed)));
            let s_a = self.sketch.s[a];
            let mut limits = self.sketch.limits(upper, s_a);
            let (key, label, za) = (self.key(a), self.label(a), self.sketch.row(a));
            for g in (a + 1) / LANES..n.div_ceil(LANES) {
                let base = g * LANES;
                if base > a && self.key(base) - key > limits.window {
                    break;
                }
                let acc = self.sketch.lanes(&za[..self.prefix], self.panel(g));
                if acc.iter().all(|&lane| lane > limits.cut) {
                    continue;
                }
                for (l, &lane) in acc.iter().enumerate() {
                    let b = base + l;
                    if lane > limits.cut
                        || b <= a
                        || b >= n
                        || self.label(b) == label
                        || self.sketch.exceeds(za, self.sketch.row(b), limits.cut)
                    {
                        continue;
                    }
                    let (value, pair) = self.exact(a, b);
                    if best.improved_by(value, pair) {
                        best = Best {
                            value,
                            pair: Some(pair),
                        };
                        // Non-negative floats order like their bit patterns.
                        shared.fetch_min(value.to_bits(), Ordering::Relaxed);
                        limits = self.sketch.limits(best.value.min(upper), s_a);
                    }
                }
            }
        }
        best
    }
}
