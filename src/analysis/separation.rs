//! Exact separation: the minimum l_p distance between differently-labelled
//! points (specs/construction.md section 1), with the pair that attains it.
//!
//! [`separation`] returns exactly what [`separation_brute_force`] returns:
//! the smallest value of `norm.distance(x_i, x_j)` over pairs with different
//! labels, and among pairs attaining it the lexicographically smallest
//! (i, j), i < j. The result therefore never depends on thread scheduling.
//!
//! Two kernels do the work:
//! - `direct`: blocked, parallel scans that accumulate every pair in the
//!   same order and with the same operations as [`Norm::distance`], so each
//!   value is bit-for-bit the reference value; pairs are abandoned as soon as
//!   a partial sum proves them worse than the best pair found so far.
//! - `gram` (l_2, moderate and large dimension): squared distances from an
//!   f32 Gram matrix of centred points, with rigorous error bounds; every
//!   pair whose lower bound does not exceed the smallest upper bound is
//!   recomputed exactly with [`Norm::distance`]. Falls back to `direct`
//!   when the bounds are too loose to prune.
//! - `prune` (tried first from [`PRUNE_MIN_POINTS`] points on): a sweep in
//!   the order of one coordinate of a small sketch (leading principal
//!   coordinates for l_2, chosen coordinates for the other norms) whose
//!   rigorous lower bounds rule most pairs out before any full distance is
//!   computed; used when an estimate on a sample says it beats the kernels
//!   above (data of low intrinsic dimension), which otherwise run as before.
//! - `quant` (l_2, from [`QUANT_MIN_POINTS`] points and dimension 16 on, on
//!   CPUs with AVX-512 VNNI; tried after `prune`): exact integer squared
//!   distances between 7-bit quantized points give rigorous lower bounds,
//!   four times as many per instruction as the f32 Gram kernel; every pair
//!   they do not rule out is recomputed with [`Norm::distance`]. Used when
//!   a sample says few pairs survive the bounds (quantization error small
//!   against the spread of distances), else the Gram kernel runs.

mod direct;
mod gram;
mod order;
mod prune;
mod quant;
mod sketch;

use crate::norm::Norm;
use ndarray::ArrayView2;

/// The separation of a labelled point set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Separation {
    /// delta_p: min ||x_i - x_j||_p over pairs with different labels
    /// (`f64::INFINITY` when every point has the same label).
    pub delta: f64,
    /// A pair (i, j), i < j, attaining it, or `None` with fewer than two labels.
    pub pair: Option<(usize, usize)>,
}

/// Reference implementation: every differently-labelled pair, one at a time.
/// Ties are broken towards the lexicographically smallest (i, j).
pub fn separation_brute_force(points: ArrayView2<f64>, labels: &[u32], norm: Norm) -> Separation {
    let mut best = Separation {
        delta: f64::INFINITY,
        pair: None,
    };
    let n = points.nrows();
    for i in 0..n {
        let xi = points.row(i);
        let xi = xi.as_slice().expect("rows are contiguous");
        for j in (i + 1)..n {
            if labels[i] == labels[j] {
                continue;
            }
            let xj = points.row(j);
            let d = norm.distance(xi, xj.as_slice().expect("rows are contiguous"));
            if d < best.delta {
                best = Separation {
                    delta: d,
                    pair: Some((i, j)),
                };
            }
        }
    }
    best
}

/// Smallest dimension for which l_2 uses the Gram-matrix kernel.
const GRAM_MIN_DIM: usize = 16;

/// Fewest points for which [`separation`] tries the pruned sweep.
pub const PRUNE_MIN_POINTS: usize = 4096;

/// Fewest points for which [`separation`] tries the integer kernel.
pub const QUANT_MIN_POINTS: usize = 4096;

/// The exact separation: the same result as [`separation_brute_force`]
/// (value and pair, ties to the smallest (i, j)), computed with blocked,
/// parallel kernels in O(N d) memory.
///
/// Panics when `labels.len() != points.nrows()`.
pub fn separation(points: ArrayView2<f64>, labels: &[u32], norm: Norm) -> Separation {
    assert_eq!(points.nrows(), labels.len(), "one label per point");
    let order = order::ClassOrder::new(labels);
    if order.later.first().is_none_or(|&l| l == order.len()) {
        // Fewer than two labels (or no points): no pair counts.
        return Separation {
            delta: f64::INFINITY,
            pair: None,
        };
    }
    if points.ncols() == 0 {
        // Every distance is 0: the reference scan is as good as any.
        return separation_brute_force(points, labels, norm);
    }
    if points.nrows() >= PRUNE_MIN_POINTS {
        if let Some(best) = prune::separation(points, labels, norm, true) {
            return Separation {
                delta: best.value,
                pair: best.pair,
            };
        }
    }
    if matches!(norm, Norm::L2)
        && points.ncols() >= GRAM_MIN_DIM
        && points.nrows() >= QUANT_MIN_POINTS
        && quant::has_vnni()
    {
        if let Some(best) = quant::separation(points, &order, quant::Options::deciding()) {
            return Separation {
                delta: best.value,
                pair: best.pair,
            };
        }
    }
    let best = match norm {
        Norm::L2 if points.ncols() >= GRAM_MIN_DIM => gram::separation(points, &order)
            .unwrap_or_else(|| direct::separation(points, &order, norm)),
        _ => direct::separation(points, &order, norm),
    };
    Separation {
        delta: best.value,
        pair: best.pair,
    }
}

/// The pruned sweep alone, whatever its estimated cost and the number of
/// points: the same result as [`separation_brute_force`]. `None` only when
/// no sketch can be formed (no coordinates, l_p with p above 1e6, data
/// overflowing). For tests and benchmarks; [`separation`]
/// chooses the kernel.
///
/// Panics when `labels.len() != points.nrows()`.
pub fn separation_pruned(
    points: ArrayView2<f64>,
    labels: &[u32],
    norm: Norm,
) -> Option<Separation> {
    assert_eq!(points.nrows(), labels.len(), "one label per point");
    let best = prune::separation(points, labels, norm, false)?;
    Some(Separation {
        delta: best.value,
        pair: best.pair,
    })
}

/// The integer dot product [`separation_quantized`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegerDot {
    /// AVX-512 VNNI when the CPU has it (see [`vnni_available`]), else
    /// [`IntegerDot::Portable`].
    Vnni,
    /// Scalar integer arithmetic: the same integers on every CPU.
    Portable,
}

/// Whether the CPU runs the AVX-512 VNNI integer kernel.
pub fn vnni_available() -> bool {
    quant::has_vnni()
}

/// The l_2 integer kernel alone, whatever the estimate of its cost and the
/// number of points: the same result as [`separation_brute_force`] with
/// [`Norm::L2`]. `None` when the data cannot be quantized (non-finite or
/// overflowing values, all points equal, dimension above 65,536, a step
/// below 1e-290) or more than `cap` pairs need their reference distance.
/// For tests and benchmarks; [`separation`] chooses the kernel.
///
/// Panics when `labels.len() != points.nrows()`.
pub fn separation_quantized(
    points: ArrayView2<f64>,
    labels: &[u32],
    dot: IntegerDot,
    cap: usize,
) -> Option<Separation> {
    assert_eq!(points.nrows(), labels.len(), "one label per point");
    let order = order::ClassOrder::new(labels);
    if order.later.first().is_none_or(|&l| l == order.len()) {
        return Some(Separation {
            delta: f64::INFINITY,
            pair: None,
        });
    }
    let options = quant::Options {
        decide: false,
        simd: dot == IntegerDot::Vnni,
        cap,
    };
    let best = quant::separation(points, &order, options)?;
    Some(Separation {
        delta: best.value,
        pair: best.pair,
    })
}

/// A differently-labelled pair and its distance (`Norm::L2.distance`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClosePair {
    /// The reference distance between the two points.
    pub distance: f64,
    /// The pair (i, j), i < j.
    pub pair: (usize, usize),
}

/// Every differently-labelled pair whose l_2 distance (`Norm::L2.distance`,
/// as [`separation`] and [`separation_brute_force`] compute it) is at most
/// `cutoff`, sorted by (distance, i, j): the same pairs and values a scan of
/// all pairs would keep. The cost is that of [`separation`]; its memory
/// O(N d + cap). The integer kernel runs when [`separation`] would try it
/// and a sample says its bounds prune, else the Gram kernel.
///
/// `None` when the Gram kernel does not apply (dimension below 16, data
/// overflowing f32) or more than `cap` pairs survive its bounds at once.
pub fn close_pairs(
    points: ArrayView2<f64>,
    labels: &[u32],
    cutoff: f64,
    cap: usize,
) -> Option<Vec<ClosePair>> {
    assert_eq!(points.nrows(), labels.len(), "one label per point");
    if points.ncols() < GRAM_MIN_DIM {
        return None;
    }
    let order = order::ClassOrder::new(labels);
    if order.later.first().is_none_or(|&l| l == order.len()) {
        return Some(Vec::new());
    }
    let quantized = (points.nrows() >= QUANT_MIN_POINTS && quant::has_vnni())
        .then(|| quant::close_pairs(points, &order, cutoff, cap, true))
        .flatten();
    let found = match quantized {
        Some(found) => found,
        None => gram::close_pairs(points, &order, cutoff, cap)?,
    };
    Some(
        found
            .into_iter()
            .map(|(distance, i, j)| ClosePair {
                distance,
                pair: (i, j),
            })
            .collect(),
    )
}

/// A pair and its distance, ordered by (distance, i, j): the order in which
/// the brute-force scan prefers pairs.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Best {
    value: f64,
    pair: Option<(usize, usize)>,
}

impl Best {
    const NONE: Best = Best {
        value: f64::INFINITY,
        pair: None,
    };

    /// True when (value, pair) comes before `self`.
    fn improved_by(&self, value: f64, pair: (usize, usize)) -> bool {
        match self.pair {
            None => true,
            Some(p) => value < self.value || (value == self.value && pair < p),
        }
    }

    /// Keeps the better of the two.
    fn merge(self, other: Best) -> Best {
        match other.pair {
            Some(p) if self.improved_by(other.value, p) => other,
            _ => self,
        }
    }
}
