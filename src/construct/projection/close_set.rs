//! Deciding the l_2 pca search over m from one list of close pairs.
//!
//! The pca maps are nested: the map to m' > m keeps the m rows of the map
//! to m and adds more, so in exact arithmetic every projected distance can
//! only grow with m, and for p = 2 the bound `||U||_{2->2}` is 1 (to
//! rounding) at every m. Enumerate once, at some `m_low`, every
//! differently-labelled pair whose projected distance is at most a cutoff
//! `E` ([`close_pairs`]). A pair left out is farther than `E` at `m_low`,
//! so farther than `E` (less rounding) at every m >= `m_low`. Hence, for
//! every m >= `m_low` and every threshold `t <= B` (`B`, the [`CloseSet`]'s
//! `bound`, is `E` less a relative [`ROUNDING_SLACK`] and an absolute
//! [`ABSOLUTE_SLACK`] times the largest centred norm of a data point):
//!
//! - the map to m fails to certify a radius whose threshold
//!   `2 sigma ||U||_{2->2}` is `t` exactly when a listed pair is within `t`
//!   under it ([`super::Projection::certifies`]);
//! - when the smallest listed distance under it is at most `B`, that pair
//!   and distance are exactly what [`separation`] of all the projected
//!   points returns (same value, same tie-break to the smallest (i, j)).
//!
//! (The threshold is that of specs/construction.md section 3: a map certifies
//! sigma when `2 sigma ||U||_{p->2} < delta'`.) One enumeration (the cost
//! of one projected separation) therefore
//! decides every m of the search, and of a later search at a larger radius
//! (the planner's second search, which asks whether real arithmetic
//! certifies what the network's arithmetic did not), for the price of
//! distances between listed pairs. Only the chosen map is projected in
//! full. [`CloseSet::cutoff`] enumerates with [`HEADROOM`] above the
//! threshold for that later search.

use super::strategies::PcaBasis;
use super::{Candidate, Projected, Projection};
use crate::analysis::separation::{close_pairs, separation, ClosePair};
use crate::data::Dataset;
use crate::norm::Norm;
use ndarray::{Array2, Axis};
use std::cell::{OnceCell, Ref, RefCell};
use std::collections::HashMap;

/// Relative room enumerated above the search's threshold, so that a later
/// search at a radius up to 10% larger is decided by the same list.
pub const HEADROOM: f64 = 0.1;

/// Relative slack between the enumeration's cutoff and the bound the list
/// is trusted to: far above the rounding of a projected distance computed
/// at two m or two ways (about `(d + m) eps`), far below any margin the
/// search cares about.
pub const ROUNDING_SLACK: f64 = 1e-6;

/// Absolute slack per unit of the largest centred data norm: covers the
/// rounding of a projected coordinate computed in two ways (at most about
/// `d eps` times that norm per coordinate).
pub const ABSOLUTE_SLACK: f64 = 1e-9;

/// The smallest m a list is made at: [`close_pairs`] needs dimension 16.
pub const MIN_M: usize = 16;

/// Most pairs an enumeration may keep (24 bytes each) before it gives up
/// and the search falls back to full evaluations.
pub const CLOSE_PAIR_CAP: usize = 1 << 22;

/// Every pair within `bound` under any pca map to m >= `m_low`.
#[derive(Clone, Debug)]
pub struct CloseSet {
    /// The smallest m the list decides.
    pub m_low: usize,
    /// Every m below `m_low` fails to certify `sigma` (and so every larger
    /// radius).
    pub sigma: f64,
    /// Every differently-labelled pair within `bound` under a pca map to
    /// m >= `m_low` is listed.
    pub bound: f64,
    /// The listed pairs, closest (at `m_low`) first.
    pub pairs: Vec<ClosePair>,
}

/// What the list says about one map.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// A listed pair is within the threshold: the map fails.
    Fails((usize, usize)),
    /// No listed pair is within the threshold: the map certifies.
    Certifies,
    /// The threshold is above the list's bound: the list cannot tell.
    Unknown,
}

impl CloseSet {
    /// The cutoff to enumerate with for a search whose threshold at
    /// `m_low` is `threshold`.
    pub fn cutoff(threshold: f64) -> f64 {
        threshold * (1.0 + HEADROOM)
    }

    /// Enumerates the pairs within `cutoff` of `projected` (`data` under
    /// the pca map `projection` to `m_low`, every smaller m failing at
    /// `sigma`); `None` when [`close_pairs`] gives up.
    pub fn enumerate(
        data: &Dataset,
        projection: &Projection,
        projected: &Array2<f64>,
        sigma: f64,
        cutoff: f64,
    ) -> Option<CloseSet> {
        let pairs = close_pairs(projected.view(), &data.labels, cutoff, CLOSE_PAIR_CAP)?;
        let widest = data
            .points
            .outer_iter()
            .map(|x| {
                let c = &x - &projection.centre;
                c.dot(&c)
            })
            .fold(0.0f64, f64::max)
            .sqrt();
        Some(CloseSet {
            m_low: projection.m(),
            sigma,
            bound: cutoff / (1.0 + ROUNDING_SLACK) - ABSOLUTE_SLACK * widest,
            pairs,
        })
    }

    /// Whether the list decides a search at radius `sigma` (every m below
    /// `m_low` is then known to fail).
    pub fn applies_to(&self, sigma: f64) -> bool {
        sigma >= self.sigma
    }

    /// The verdict on `projection` (the map to m >= `m_low` of `basis`,
    /// the basis of `data` the list was made with) at radius `sigma`.
    pub fn verdict(
        &self,
        data: &Dataset,
        basis: &PcaBasis,
        projection: &Projection,
        sigma: f64,
        listed: &ListedPoints,
    ) -> Verdict {
        let threshold = threshold(projection, sigma);
        // A NaN threshold cannot be decided either.
        if threshold.is_nan() || threshold > self.bound {
            return Verdict::Unknown;
        }
        let m = projection.m();
        let Some(z) = listed.projected(data, basis, m) else {
            return Verdict::Unknown;
        };
        let distance = |(i, j): (usize, usize)| {
            let row = |k: usize| &z.row(listed.rows[&k]).to_slice().expect("contiguous")[..m];
            Norm::L2.distance(row(i), row(j))
        };
        let closest = self
            .pairs
            .iter()
            .map(|p| (distance(p.pair), p.pair))
            .filter(|&(r, _)| r <= threshold)
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        match closest {
            Some((_, pair)) => Verdict::Fails(pair),
            None => Verdict::Certifies,
        }
    }

    /// The [`Candidate`] of `projection` (a pca map to m >= `m_low`): the
    /// data projected in full, and `delta'` with its pair from the list
    /// when the closest listed pair is within `bound`, else from a full
    /// separation. The same candidate as [`Candidate::evaluate`].
    pub fn candidate(&self, projection: Projection, data: &Dataset) -> Candidate {
        let points = projection.transform(data.points.view());
        let closest = self
            .pairs
            .iter()
            .map(|p| (row_distance(&points, p.pair), p.pair))
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            .filter(|&(r, _)| r <= self.bound);
        let (delta, pair) = match closest {
            Some((r, pair)) => (r, Some(pair)),
            None => {
                let found = separation(points.view(), &data.labels, Norm::L2);
                (found.delta, found.pair)
            }
        };
        let projected = Projected {
            points,
            delta,
            pair,
        };
        let sigma_max = projection.sigma_max(&projected);
        Candidate {
            projection,
            projected,
            sigma_max,
        }
    }
}

/// The threshold `projection` must exceed to certify `sigma`, as
/// [`Projection::certifies`] computes it.
pub fn threshold(projection: &Projection, sigma: f64) -> f64 {
    2.0 * sigma * projection.norm_bound * (1.0 + 4.0 * f64::EPSILON)
}

/// `Norm::L2.distance` between rows i and j.
fn row_distance(points: &Array2<f64>, (i, j): (usize, usize)) -> f64 {
    let row = |k: usize| points.row(k).to_slice().expect("rows are contiguous");
    Norm::L2.distance(row(i), row(j))
}

/// The data points that occur in a [`CloseSet`] and their pca coordinates,
/// computed for more m as verdicts need them (the maps are nested: the map
/// to m is the first m coordinates of any larger one).
#[derive(Debug)]
pub struct ListedPoints {
    /// The listed data indices, in order of first appearance.
    order: Vec<usize>,
    /// Position of each listed data index in `order`.
    rows: HashMap<usize, usize>,
    /// The listed points (rows in `order`) under the widest pca map
    /// computed so far.
    projected: RefCell<Option<Array2<f64>>>,
}

impl ListedPoints {
    /// The data points of `set`'s pairs.
    pub fn new(set: &CloseSet) -> ListedPoints {
        let mut order = Vec::new();
        let mut rows = HashMap::new();
        for p in &set.pairs {
            for k in [p.pair.0, p.pair.1] {
                rows.entry(k).or_insert_with(|| {
                    order.push(k);
                    order.len() - 1
                });
            }
        }
        ListedPoints {
            order,
            rows,
            projected: RefCell::new(None),
        }
    }

    /// The listed points of `data` under a pca map of `basis` (the data's)
    /// to at least m coordinates (doubling the width computed so far when
    /// it is short); `None` when the basis has no such map.
    fn projected(
        &self,
        data: &Dataset,
        basis: &PcaBasis,
        m: usize,
    ) -> Option<Ref<'_, Array2<f64>>> {
        let known = self.projected.borrow().as_ref().map_or(0, |z| z.ncols());
        if known < m {
            let wider = m.max(2 * known).min(data.dim());
            let map = basis.projection(wider, Norm::L2).ok()?;
            let points = data.points.select(Axis(0), &self.order);
            *self.projected.borrow_mut() = Some(map.transform(points.view()));
        }
        Ref::filter_map(self.projected.borrow(), Option::as_ref).ok()
    }
}

/// What a search keeps for a later search on the same data and norm: the
/// PCA basis and the close pairs of its maps.
#[derive(Debug)]
pub struct SearchMemory<'a> {
    data: &'a Dataset,
    norm: Norm,
    basis: OnceCell<PcaBasis>,
    close: RefCell<Option<(CloseSet, ListedPoints)>>,
}

impl<'a> SearchMemory<'a> {
    /// Empty memory for searches on `data` in `norm`.
    pub fn new(data: &'a Dataset, norm: Norm) -> Self {
        SearchMemory {
            data,
            norm,
            basis: OnceCell::new(),
            close: RefCell::new(None),
        }
    }

    /// True when this memory was made for `data` (the same data set, not
    /// an equal copy) and `norm`.
    pub fn is_for(&self, data: &Dataset, norm: Norm) -> bool {
        std::ptr::eq(self.data, data) && self.norm == norm
    }

    /// The PCA basis of the data, computed on first use.
    pub fn basis(&self) -> &PcaBasis {
        self.basis.get_or_init(|| PcaBasis::new(self.data))
    }

    /// The remembered close set, if it decides a search at `sigma`.
    pub fn close_set_for(&self, sigma: f64) -> Option<Ref<'_, (CloseSet, ListedPoints)>> {
        Ref::filter_map(self.close.borrow(), |c| {
            c.as_ref().filter(|(set, _)| set.applies_to(sigma))
        })
        .ok()
    }

    /// Remembers `set` for later searches.
    pub fn remember(&self, set: CloseSet) {
        let listed = ListedPoints::new(&set);
        *self.close.borrow_mut() = Some((set, listed));
    }
}
