//! Stage 1 of the construction: a separation-preserving linear map
//! (specs/construction.md section 3).
//!
//! A [`Projection`] is a matrix `U` (m x d) and a centre `mu` (the data mean).
//! Projected points are `z_i = U (x_i - mu)`. The map certifies a radius
//! `sigma` for the network's l_p norm when
//!
//! ```text
//! 2 * sigma * ||U||_{p->2} < delta'
//! ```
//!
//! where `delta'` is the exact l_2 separation of the projected points
//! ([`Projected::delta`], measured on the data, never estimated) and
//! `||U||_{p->2}` is bounded from above by [`operator_norm_bound`]. The
//! largest radius a map certifies is `sigma_max = delta' / (2 ||U||_{p->2})`.
//!
//! Submodules:
//! - [`bound`]: upper bounds on `||U||_{p->2}`;
//! - [`strategies`]: the concrete maps (identity, data span, random, PCA);
//! - [`choose`]: picking a map for a width budget or a radius;
//! - [`close_set`]: deciding the l_2 pca search from one list of close pairs.

pub mod bound;
pub mod choose;
pub mod close_set;
pub mod strategies;

pub use bound::{operator_norm_bound, spectral_norm_bound};
pub use choose::{
    best_for_width, random_until, smallest_m_for_radius, smallest_m_for_radius_with, Candidate,
    Choice, Considered, DEFAULT_MAX_DRAWS,
};
pub use close_set::SearchMemory;
pub use strategies::{identity, pca, random, span, PcaBasis};

use crate::analysis::separation::separation;
use crate::data::Dataset;
use crate::norm::Norm;
use crate::spec::ProjectionChoice;
use ndarray::{s, Array1, Array2, ArrayView2};
use rayon::prelude::*;
use std::fmt;

/// A concrete projection strategy (specs/construction.md section 3); `Auto` of
/// [`ProjectionChoice`] is resolved to one of these by [`choose`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// `U = I_d` (m = d).
    Identity,
    /// An orthonormal basis of the centred data's span (needs N - 1 < d).
    Span,
    /// The first m rows of a seeded Haar-random orthogonal matrix.
    Random,
    /// The top-m principal directions of the centred data.
    Pca,
}

impl Strategy {
    /// All strategies, simplest first (the tie-break order of [`choose`]).
    pub const ALL: [Strategy; 4] = [
        Strategy::Identity,
        Strategy::Span,
        Strategy::Pca,
        Strategy::Random,
    ];

    /// The spelling used in spec files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Identity => "identity",
            Strategy::Span => "span",
            Strategy::Random => "random",
            Strategy::Pca => "pca",
        }
    }

    /// The strategy a spec asked for, or `None` for `auto`.
    pub fn from_choice(choice: ProjectionChoice) -> Option<Strategy> {
        match choice {
            ProjectionChoice::Auto => None,
            ProjectionChoice::Identity => Some(Strategy::Identity),
            ProjectionChoice::Span => Some(Strategy::Span),
            ProjectionChoice::Random => Some(Strategy::Random),
            ProjectionChoice::Pca => Some(Strategy::Pca),
        }
    }

    /// Rank in the tie-break order (0 = simplest).
    pub(crate) fn simplicity(self) -> usize {
        Strategy::ALL
            .iter()
            .position(|&s| s == self)
            .expect("every strategy is listed")
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a projection could not be built.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProjectionError {
    /// The data-span strategy only helps when N - 1 < d.
    #[error("the span projection needs fewer points than dimensions plus one (N = {points}, d = {dim}); use identity")]
    SpanNotNeeded {
        /// N.
        points: usize,
        /// d.
        dim: usize,
    },
    /// Every point is the same point: the centred data spans nothing.
    #[error("all points coincide: the centred data has rank 0")]
    DegenerateData,
    /// A projected dimension of zero.
    #[error("the projected dimension m must be at least 1")]
    ZeroWidth,
    /// A projected dimension larger than the data's.
    #[error("the projected dimension m = {m} exceeds the data dimension d = {dim}")]
    WidthTooLarge {
        /// m asked for.
        m: usize,
        /// d.
        dim: usize,
    },
    /// No random draw certified the radius asked for.
    #[error("no random projection to m = {m} certified radius {radius} in {draws} draws (best sigma_max {best_sigma_max})")]
    NoCertifyingDraw {
        /// The projected dimension.
        m: usize,
        /// The radius asked for.
        radius: f64,
        /// Draws tried.
        draws: usize,
        /// The largest radius any draw certified.
        best_sigma_max: f64,
    },
}

/// A linear map `x -> U (x - mu)` (specs/construction.md section 3).
#[derive(Clone, Debug)]
pub struct Projection {
    /// How `matrix` was obtained.
    pub strategy: Strategy,
    /// `U`, m x d. Rows are orthonormal (to rounding) for every strategy
    /// (identity: `I_d`). Fields are public for reading; after changing
    /// `matrix`, rebuild with [`Projection::new`] so `norm_bound` follows.
    pub matrix: Array2<f64>,
    /// `mu`, length d: the mean of the data points (for every strategy, so
    /// that later score constants stay small).
    pub centre: Array1<f64>,
    /// A valid upper bound on `||U||_{p->2}` for the norm the projection was
    /// built for ([`operator_norm_bound`]).
    pub norm_bound: f64,
    /// The norm `norm_bound` refers to.
    pub norm: Norm,
    /// Random draws consumed to reach this map: for [`Strategy::Random`] the
    /// draw index plus one (the draw index is `draws - 1`); 1 otherwise.
    pub draws: usize,
}

/// The data after projection, with its exact projected separation.
#[derive(Clone, Debug)]
pub struct Projected {
    /// `z_i = U (x_i - mu)`, N x m, as computed in f64 (centre first, then
    /// multiply).
    pub points: Array2<f64>,
    /// `delta'`: the exact minimum l_2 distance between differently-labelled
    /// `z_i` (`f64::INFINITY` with a single label).
    pub delta: f64,
    /// A pair attaining `delta'`, or `None` with a single label.
    pub pair: Option<(usize, usize)>,
}

/// Rows per block when projecting; fixed so that results do not depend on
/// the number of threads.
const PROJECT_BLOCK: usize = 1024;

impl Projection {
    /// Assembles a projection, computing its norm bound for `norm` from the
    /// matrix itself (the strategy is only a label: a matrix that is exactly
    /// `I_d` gets the exact bounds of section 3 without an
    /// eigen-decomposition, any other matrix [`operator_norm_bound`]).
    pub fn new(strategy: Strategy, matrix: Array2<f64>, centre: Array1<f64>, norm: Norm) -> Self {
        assert_eq!(
            matrix.ncols(),
            centre.len(),
            "U is m x d and mu has length d"
        );
        let is_identity = matrix.is_square()
            && matrix
                .indexed_iter()
                .all(|((i, j), &x)| x == if i == j { 1.0 } else { 0.0 });
        let norm_bound = if is_identity {
            // ||I||_2 = 1, unit columns, d of them.
            let d = matrix.ncols();
            bound::bound_from_parts(norm, d, 1.0, 1.0, d as f64)
        } else {
            operator_norm_bound(matrix.view(), norm)
        };
        Projection {
            strategy,
            matrix,
            centre,
            norm_bound,
            norm,
            draws: 1,
        }
    }

    /// The same map with `U` and `mu` rounded to the nearest float32 values
    /// and the norm bound recomputed for the rounded `U`. A network stored in
    /// float32 applies this map, not the f64 one: measure `delta'` and the
    /// bound on it (specs/construction.md section 6) before certifying float32
    /// weights. Rows stay orthonormal to about 1e-7.
    pub fn rounded_to_f32(&self) -> Projection {
        let round = |x: &f64| *x as f32 as f64;
        let matrix = self.matrix.map(round);
        let centre = self.centre.map(round);
        let mut rounded = Projection::new(self.strategy, matrix, centre, self.norm);
        rounded.draws = self.draws;
        rounded
    }

    /// The projected dimension m.
    pub fn m(&self) -> usize {
        self.matrix.nrows()
    }

    /// The input dimension d.
    pub fn d(&self) -> usize {
        self.matrix.ncols()
    }

    /// `U (x_i - mu)` for every row `x_i` of `points` (N x d -> N x m).
    /// Blocked and parallel; deterministic (every output row is computed
    /// the same way whatever the thread count).
    pub fn transform(&self, points: ArrayView2<f64>) -> Array2<f64> {
        assert_eq!(points.ncols(), self.d(), "points have dimension d");
        let n = points.nrows();
        let ut = self.matrix.t();
        let starts: Vec<usize> = (0..n).step_by(PROJECT_BLOCK).collect();
        let blocks: Vec<Array2<f64>> = starts
            .par_iter()
            .map(|&start| {
                let end = (start + PROJECT_BLOCK).min(n);
                let centred = &points.slice(s![start..end, ..]) - &self.centre;
                match self.strategy {
                    Strategy::Identity => centred,
                    _ => centred.dot(&ut),
                }
            })
            .collect();
        let mut out = Array2::zeros((n, self.m()));
        for (&start, block) in starts.iter().zip(&blocks) {
            out.slice_mut(s![start..start + block.nrows(), ..])
                .assign(block);
        }
        out
    }

    /// Projects the data and measures the exact projected l_2 separation
    /// `delta'` (specs/construction.md section 3).
    pub fn project(&self, data: &Dataset) -> Projected {
        let points = self.transform(data.points.view());
        let sep = separation(points.view(), &data.labels, Norm::L2);
        Projected {
            points,
            delta: sep.delta,
            pair: sep.pair,
        }
    }

    /// `sigma_max = delta' / (2 ||U||_{p->2})`, rounded down: every radius
    /// strictly below it is certified ([`Projection::certifies`]).
    pub fn sigma_max(&self, projected: &Projected) -> f64 {
        if self.norm_bound == 0.0 {
            return if projected.delta > 0.0 {
                f64::INFINITY
            } else {
                0.0
            };
        }
        projected.delta / (2.0 * self.norm_bound) * (1.0 - 4.0 * f64::EPSILON)
    }

    /// The condition of specs/construction.md section 3: `2 r < delta'` with
    /// `r = sigma * norm_bound`, the product rounded up so that a `true`
    /// answer holds in real arithmetic.
    pub fn certifies(&self, projected: &Projected, sigma: f64) -> bool {
        2.0 * sigma * self.norm_bound * (1.0 + 4.0 * f64::EPSILON) < projected.delta
    }
}
