//! Condensation of a distance network (specs/construction.md section 8.8):
//! keep as centres only *prototypes*, points whose distance alone gives
//! every point of their label its label on its whole ball.
//!
//! With `y_i` the mapped points, `d_ij = ||y_i - y_j||_q`, r the projected
//! radius and `N_i = min over j of another label of d_ij`, prototype p
//! (same label as i) *covers* i with margin g when
//!
//! ```text
//! d_ip + 2 r + g <= N_i.
//! ```
//!
//! On i's ball every `D_j` is within r of `d_ij` (section 8.4), so the
//! label's running minimum is at most `d_ip + r` and every other label's is
//! at least `N_i - r`: the decision holds with margin g in distance units.
//! Other labels keep fewer centres than all their points, which can only
//! raise `N_i`, so the margin holds whatever is chosen. Every point covers
//! itself (`d_ii = 0`, `N_i >= delta'_q`) whenever `g <= delta'_q - 2 r`.
//!
//! [`Coverer::cover`] picks, per label, prototypes by the greedy set cover of
//! [`super::condense`] (redundant prototypes dropped), then measures the condensed network's real margin,
//! `min_i (min over kept centres of other labels - min over kept centres
//! of i's label) - 2 r`, at least g. The work is O(N^2 K), in parallel
//! over points; the checker needs nothing new (it already takes minima over
//! the centres the network stores, whichever they are).

use super::condense::cover_label;
use crate::ir::stages::DistanceNorm;
use ndarray::ArrayView2;
use rayon::prelude::*;

/// The prototypes of a condensed distance network.
#[derive(Clone, Debug, PartialEq)]
pub struct DistanceCover {
    /// Per point, whether it stays a centre.
    pub kept: Vec<bool>,
    /// The condensed network's real-arithmetic margin in distance units:
    /// on every point's ball, its label's minimum is below every other
    /// label's by at least this much (at least the cover's g).
    pub margin: f64,
}

impl DistanceCover {
    /// How many points stay centres.
    pub fn prototypes(&self) -> usize {
        self.kept.iter().filter(|&&k| k).count()
    }
}

/// The mapped points of a distance network with, for each, the distance
/// N_i to the nearest point of another label: what every cover needs,
/// whatever its margin, computed once.
pub struct Coverer<'a> {
    rows: Vec<Vec<f64>>,
    labels: &'a [u32],
    q: DistanceNorm,
    nearest_other: Vec<f64>,
}

impl<'a> Coverer<'a> {
    /// The mapped points `mapped` (N x K) with labels `labels`, measured in
    /// `q`; `None` when the two do not fit together.
    pub fn new(mapped: ArrayView2<f64>, labels: &'a [u32], q: DistanceNorm) -> Option<Self> {
        let n = mapped.nrows();
        if labels.len() != n {
            return None;
        }
        let rows: Vec<Vec<f64>> = mapped.rows().into_iter().map(|r| r.to_vec()).collect();
        let mut coverer = Coverer {
            rows,
            labels,
            q,
            nearest_other: Vec::new(),
        };
        coverer.nearest_other = (0..n)
            .into_par_iter()
            .map(|i| {
                (0..n)
                    .filter(|&j| labels[j] != labels[i])
                    .map(|j| coverer.distance(i, j))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        Some(coverer)
    }

    fn distance(&self, i: usize, j: usize) -> f64 {
        let (a, b) = (&self.rows[i], &self.rows[j]);
        self.q.length(a.iter().zip(b).map(|(x, y)| x - y))
    }

    /// The cover at projected radius `radius` and margin `margin`, or
    /// `None` when it keeps every point or a figure is not positive and
    /// finite.
    pub fn cover(&self, radius: f64, margin: f64) -> Option<DistanceCover> {
        if !(radius >= 0.0 && radius.is_finite() && margin > 0.0 && margin.is_finite()) {
            return None;
        }
        let (n, labels) = (self.rows.len(), self.labels);
        // Largest distance from i to a prototype that covers it.
        let reach: Vec<f64> = self
            .nearest_other
            .iter()
            .map(|nearest| nearest - 2.0 * radius - margin)
            .collect();
        let covered_by: Vec<Vec<u32>> = (0..n)
            .into_par_iter()
            .map(|p| {
                (0..n)
                    .filter(|&i| {
                        labels[i] == labels[p] && (i == p || self.distance(i, p) <= reach[i])
                    })
                    .map(|i| i as u32)
                    .collect()
            })
            .collect();
        let classes = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
        let mut covering: Vec<usize> = (0..n).collect();
        for class in 0..classes as u32 {
            let members: Vec<usize> = (0..n).filter(|&i| labels[i] == class).collect();
            // Candidates are the label's points; sets are indexed by point.
            cover_label(&members, &members, &covered_by, |p| p, &mut covering)?;
        }
        let kept: Vec<bool> = covering.iter().enumerate().map(|(i, &p)| i == p).collect();
        if kept.iter().all(|&k| k) {
            return None;
        }
        let achieved = (0..n)
            .into_par_iter()
            .map(|i| {
                let (mut own, mut other) = (f64::INFINITY, f64::INFINITY);
                for j in (0..n).filter(|&j| kept[j]) {
                    let d = self.distance(i, j);
                    if labels[j] == labels[i] {
                        own = own.min(d);
                    } else {
                        other = other.min(d);
                    }
                }
                other - own - 2.0 * radius
            })
            .reduce(|| f64::INFINITY, f64::min);
        (achieved.is_finite() && achieved >= margin * (1.0 - 1e-12)).then_some(DistanceCover {
            kept,
            margin: achieved,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// One cover of `mapped` with labels `labels` at projected radius `radius`
    /// and margin `margin` ([`Coverer::cover`]).
    fn cover(
        mapped: ArrayView2<f64>,
        labels: &[u32],
        q: DistanceNorm,
        radius: f64,
        margin: f64,
    ) -> Option<DistanceCover> {
        Coverer::new(mapped, labels, q)?.cover(radius, margin)
    }

    /// Tight clusters, one label each, far apart, plus duplicates.
    fn clusters(seed: u64, q: DistanceNorm) -> (Array2<f64>, Vec<u32>, f64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for (k, centre) in [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]]
            .iter()
            .enumerate()
        {
            for _ in 0..20 {
                rows.push([
                    centre[0] + rng.gen_range(-1.0..1.0),
                    centre[1] + rng.gen_range(-1.0..1.0),
                ]);
                labels.push((k % 3) as u32);
            }
        }
        rows.push(rows[3]);
        labels.push(labels[3]);
        let points = Array2::from_shape_fn((rows.len(), 2), |(i, k)| rows[i][k]);
        let mut delta = f64::INFINITY;
        for i in 0..rows.len() {
            for j in 0..rows.len() {
                if labels[i] != labels[j] {
                    let d = q.length((0..2).map(|k| points[(i, k)] - points[(j, k)]));
                    delta = delta.min(d);
                }
            }
        }
        (points, labels, delta)
    }

    #[test]
    fn every_point_keeps_its_margin_against_the_kept_centres() {
        for q in [DistanceNorm::L1, DistanceNorm::Linf] {
            let (points, labels, delta) = clusters(4, q);
            let r = 0.25 * delta;
            let g = 0.1 * (delta - 2.0 * r);
            let found = cover(points.view(), &labels, q, r, g).expect("clusters condense");
            assert!(
                found.prototypes() < points.nrows() / 4,
                "{}",
                found.prototypes()
            );
            assert!(found.margin >= g * (1.0 - 1e-12));
            // The claim, recomputed by brute force: every label keeps a
            // centre, and every point's own minimum beats every other
            // label's minimum by the margin after the radius on both sides.
            for i in 0..points.nrows() {
                let d = |j: usize| q.length((0..2).map(|k| points[(i, k)] - points[(j, k)]));
                let own = (0..points.nrows())
                    .filter(|&j| found.kept[j] && labels[j] == labels[i])
                    .map(d)
                    .fold(f64::INFINITY, f64::min);
                let other = (0..points.nrows())
                    .filter(|&j| found.kept[j] && labels[j] != labels[i])
                    .map(d)
                    .fold(f64::INFINITY, f64::min);
                assert!(own.is_finite(), "label {} keeps a centre", labels[i]);
                assert!(
                    other - own - 2.0 * r >= found.margin * (1.0 - 1e-9),
                    "point {i}"
                );
            }
        }
    }

    #[test]
    fn nothing_to_leave_out_and_bad_figures_give_none() {
        let (points, labels, delta) = clusters(5, DistanceNorm::Linf);
        let r = 0.25 * delta;
        // One point per label: nothing to leave out.
        let pair = Array2::from_shape_vec((2, 2), vec![0.0, 0.0, 4.0, 0.0]).unwrap();
        assert_eq!(
            cover(pair.view(), &[0, 1], DistanceNorm::Linf, 1.0, 0.5),
            None
        );
        assert_eq!(
            cover(points.view(), &labels, DistanceNorm::Linf, r, 0.0),
            None
        );
        assert_eq!(
            cover(points.view(), &labels, DistanceNorm::Linf, f64::NAN, 1.0),
            None
        );
        assert_eq!(
            cover(points.view(), &labels[1..], DistanceNorm::Linf, r, 1.0),
            None
        );
    }
}
