//! Condensation: a score network that keeps scores only for *prototypes*,
//! points whose scores alone give every data point its label on its whole
//! ball (specs/construction.md section 5C).
//!
//! Prototype p *covers* point i (same label) at projected radius r and
//! margin g when, for every point j of another label,
//!
//! ```text
//! min over ||z - z_i||_2 <= r of  s_p(z) - s_j(z)
//!     = <z_p - z_j, z_i> - (|z_p|^2 - |z_j|^2)/2 - r |z_p - z_j|  >=  g.
//! ```
//!
//! The left side is exact: `s_p - s_j` is affine in z, and the smallest
//! value of an affine function over an l2 ball is its value at the centre
//! less the radius times its gradient's l2 norm. Every point covers itself
//! (the margin lemma, section 4), so a cover always exists. Competitors are
//! *all* points of other labels, a superset of the prototypes the network
//! keeps, so the margin holds against the kept ones whatever is chosen.
//!
//! [`cover`] finds, per label, a small set of prototypes by the greedy set
//! cover (the prototype covering the most uncovered points first). The test
//! of a pair (p, i) needs only the competitors j with
//! `|z_p - z_j| < rho + sqrt(rho^2 + 2 g)`, `rho = r + |z_i - z_p|`: for the
//! others `<z_p - z_j, z_i - z_p> >= -|z_p - z_j| |z_i - z_p|` gives the
//! margin `n (n/2 - rho) >= g` with `n = |z_p - z_j|`. Competitors are
//! visited nearest first, so a pair that fails usually fails at once. The
//! work is O(N^2 m) for the distances from each p, in parallel over p.
//!
//! [`condense`] runs the cover for a planned score network with a margin
//! its rounding check tolerates, and keeps it only when the condensed
//! network passes that check.

use super::projection::Candidate;
use super::score_fit::{ScoreFit, ROUNDING_SAFETY};
use crate::ir::stages::Covering;
use ndarray::ArrayView2;
use rayon::prelude::*;

/// Most points `condense = auto` condenses (the cover's work grows as
/// N^2 m); above, every point keeps its score.
pub const MAX_POINTS: usize = 5_000;

/// For each point, the point whose score covers it (itself for a
/// prototype): per label, a greedy cover of the label's points by the
/// balls each candidate prototype certifies with margin at least `margin`
/// at projected radius `radius` against every point of another label.
///
/// `points` are the projected points z (N x m), `labels` their classes.
/// `None` when the inputs do not fit together or the figures are not
/// positive and finite.
pub fn cover(
    points: ArrayView2<f64>,
    labels: &[u32],
    radius: f64,
    margin: f64,
) -> Option<Vec<usize>> {
    let n = points.nrows();
    if labels.len() != n || !(radius >= 0.0 && radius.is_finite()) {
        return None;
    }
    if !(margin > 0.0 && margin.is_finite()) {
        return None;
    }
    let rows: Vec<Vec<f64>> = points.rows().into_iter().map(|r| r.to_vec()).collect();
    let squares: Vec<f64> = rows.iter().map(|r| dot(r, r)).collect();
    // covered_by[p]: the points of p's label that p covers (p included).
    let covered_by: Vec<Vec<u32>> = (0..n)
        .into_par_iter()
        .map(|p| covered_by_one(&rows, &squares, labels, p, radius, margin))
        .collect();
    let classes = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut covering: Vec<usize> = (0..n).collect();
    for class in 0..classes as u32 {
        let members: Vec<usize> = (0..n).filter(|&i| labels[i] == class).collect();
        greedy(&members, &covered_by, &mut covering);
    }
    Some(covering)
}

/// The points of p's label that p covers, ascending (p itself always).
fn covered_by_one(
    rows: &[Vec<f64>],
    squares: &[f64],
    labels: &[u32],
    p: usize,
    radius: f64,
    margin: f64,
) -> Vec<u32> {
    let zp = &rows[p];
    // Competitors nearest first: (|z_p - z_j|, j).
    let mut others: Vec<(f64, usize)> = (0..rows.len())
        .filter(|&j| labels[j] != labels[p])
        .map(|j| (distance(zp, &rows[j]), j))
        .collect();
    others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut covered = Vec::new();
    for (i, zi) in rows.iter().enumerate() {
        if labels[i] != labels[p] {
            continue;
        }
        if i == p {
            covered.push(i as u32);
            continue;
        }
        let rho = radius + distance(zi, zp);
        let reach = rho + (rho * rho + 2.0 * margin).sqrt();
        let holds = others
            .iter()
            .take_while(|&&(n, _)| n < reach)
            .all(|&(n, j)| {
                let zj = &rows[j];
                let inner: f64 = zp
                    .iter()
                    .zip(zj)
                    .zip(zi)
                    .map(|((a, b), c)| (a - b) * c)
                    .sum();
                inner - (squares[p] - squares[j]) / 2.0 - radius * n >= margin
            });
        if holds {
            covered.push(i as u32);
        }
    }
    covered
}

/// Greedy set cover of `members` (one label's points) by the sets
/// `covered_by[p]`, p among `members`: the set covering the most uncovered
/// points first (the lowest index on ties); each chosen set's point is a
/// prototype, and every other member is assigned the first chosen
/// prototype that covers it.
pub(super) fn greedy(members: &[usize], covered_by: &[Vec<u32>], covering: &mut [usize]) {
    let mut open: std::collections::HashSet<usize> = members.iter().copied().collect();
    // covers[i]: the candidates whose set contains i.
    let mut covers: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
    let mut counts: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    for &p in members {
        counts.insert(p, covered_by[p].len());
        for &i in &covered_by[p] {
            covers.entry(i as usize).or_default().push(p);
        }
    }
    while !open.is_empty() {
        let Some((&best, _)) = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))) else {
            break;
        };
        counts.remove(&best);
        // A chosen prototype keeps its score even when an earlier one
        // covers it: the points it covers now rely on it.
        covering[best] = best;
        for &i in &covered_by[best] {
            let i = i as usize;
            if open.remove(&i) {
                covering[i] = best;
                for p in covers.get(&i).into_iter().flatten() {
                    if let Some(c) = counts.get_mut(p) {
                        *c -= 1;
                    }
                }
            }
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// The smallest cover margin tried, as a fraction of gamma_eff: a
/// smaller margin steepens the output (logits scale 1/g, label slope
/// 2/g), which makes the network harder for other verifiers' bounds.
pub const SMALLEST_MARGIN: f64 = 0.125;

/// How much larger than the rounding bound (times the planner's safety
/// factor and the decisions' share) the cover's margin is first tried.
pub const MARGIN_HEADROOM: f64 = 4.0;

/// The cover of a planned score network (`candidate` at radius `sigma`
/// with `slots` accumulators per class), when condensing keeps the network
/// certified in the fit's arithmetic and leaves out at least one point:
///
/// 1. the full network's rounding check gives `E_u`, how far the first
///    layer's rounding moves a projected point, and the bound B on a
///    running maximum's rounding;
/// 2. [`cover`] at radius `r + E_u` with margin
///    `g = min(gamma_eff, max(MARGIN_HEADROOM * ROUNDING_SAFETY * share * B,
///    SMALLEST_MARGIN * gamma_eff))`,
///    `gamma_eff = delta' (delta'/2 - r - E_u)` the margin every point has
///    in the full network (section 6): the decisions need only a margin
///    that rounding cannot eat, and a smaller margin lets a prototype
///    cover more points;
/// 3. the condensed network (gamma = g) must pass the rounding check at
///    its own (smaller) depth with the planner's safety factor; if it does
///    not, the cover with margin gamma_eff is tried.
///
/// `None`: every point keeps its score (more than [`MAX_POINTS`] points,
/// one label, nothing to leave out, or no condensed network passes).
pub fn condense(
    fit: &ScoreFit<'_>,
    candidate: &Candidate,
    slots: usize,
    sigma: f64,
) -> Option<Covering> {
    let data = fit.data();
    if data.len() > MAX_POINTS || data.classes.len() < 2 {
        return None;
    }
    let full = fit.program(candidate, slots, sigma)?;
    let check = fit.check_program(&full, fit.planned_depth(&full, slots));
    let radius = full.projection.projected_radius + check.widening;
    let delta = candidate.projected.delta;
    let widest = delta * (delta / 2.0 - radius);
    let smallest = (MARGIN_HEADROOM * ROUNDING_SAFETY * check.share * check.bound)
        .max(widest * SMALLEST_MARGIN)
        .min(widest);
    let mut margins = vec![smallest];
    if smallest < widest {
        margins.push(widest);
    }
    margins.into_iter().find_map(|margin| {
        let prototype = cover(
            candidate.projected.points.view(),
            &data.labels,
            radius,
            margin,
        )?;
        if prototype.iter().enumerate().all(|(i, &p)| i == p) {
            return None;
        }
        let covering = Covering {
            prototype,
            radius,
            margin,
        };
        let condensed = fit.program_covered(candidate, slots, sigma, Some(&covering))?;
        let check = fit.check_program(&condensed, fit.planned_depth(&condensed, slots));
        (ROUNDING_SAFETY * check.bound < check.limit).then_some(covering)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The exact margin of p on i's ball against every other-label point.
    fn exact(points: &Array2<f64>, labels: &[u32], p: usize, i: usize, r: f64) -> f64 {
        let row = |k: usize| points.row(k).to_vec();
        let (zp, zi) = (row(p), row(i));
        (0..points.nrows())
            .filter(|&j| labels[j] != labels[p])
            .map(|j| {
                let zj = row(j);
                let a: Vec<f64> = zp.iter().zip(&zj).map(|(x, y)| x - y).collect();
                dot(&a, &zi) - (dot(&zp, &zp) - dot(&zj, &zj)) / 2.0 - r * dot(&a, &a).sqrt()
            })
            .fold(f64::INFINITY, f64::min)
    }

    fn clusters(seed: u64, n: usize, m: usize, spread: f64) -> (Array2<f64>, Vec<u32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let labels: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
        let points = Array2::from_shape_fn((n, m), |(i, k)| {
            let centre = if k == (i % 3) { 4.0 } else { 0.0 };
            centre + spread * rng.gen_range(-1.0..1.0)
        });
        (points, labels)
    }

    #[test]
    fn every_point_is_covered_by_a_prototype_of_its_label_with_the_margin() {
        for (seed, spread) in [(1, 0.3), (2, 1.0), (3, 1.8)] {
            let (points, labels) = clusters(seed, 150, 4, spread);
            let delta = crate::analysis::separation::separation(
                points.view(),
                &labels,
                crate::norm::Norm::L2,
            )
            .delta;
            let r = 0.3 * delta / 2.0;
            let margin = delta * (delta / 2.0 - r);
            let covering = cover(points.view(), &labels, r, margin).unwrap();
            for (i, &p) in covering.iter().enumerate() {
                assert_eq!(labels[i], labels[p]);
                assert_eq!(
                    covering[p], p,
                    "point {i}'s prototype {p} is not a prototype"
                );
                // A prototype of the closest pair meets the margin with
                // equality, up to rounding.
                let got = exact(&points, &labels, p, i, r);
                assert!(
                    got >= margin * (1.0 - 1e-12),
                    "seed {seed}, point {i}, prototype {p}: {got} < {margin}"
                );
            }
            let prototypes = covering.iter().enumerate().filter(|(i, p)| i == *p).count();
            if spread < 1.0 {
                assert!(prototypes < 30, "{prototypes} prototypes on tight clusters");
            }
        }
    }

    #[test]
    fn duplicates_are_covered_and_bad_inputs_refused() {
        let points =
            Array2::from_shape_vec((4, 2), vec![0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 3.0, 0.0]).unwrap();
        let labels = [0, 0, 1, 1];
        let covering = cover(points.view(), &labels, 0.5, 3.0 * (1.5 - 0.5)).unwrap();
        assert_eq!(covering, vec![0, 0, 2, 2]);
        assert!(cover(points.view(), &labels[..3], 0.5, 1.0).is_none());
        assert!(cover(points.view(), &labels, 0.5, 0.0).is_none());
        assert!(cover(points.view(), &labels, f64::NAN, 1.0).is_none());
    }
}
