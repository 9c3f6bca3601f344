//! Condensation: a score network that keeps scores only for *prototypes*,
//! points whose scores alone give every data point its label on its whole
//! ball (specs/construction.md section 5C).
//!
//! Prototype p *covers* point i (same label) at projected radius r and
//! margin g against a set of competitors when, for every competitor j (a
//! point of another label),
//!
//! ```text
//! min over ||z - z_i||_2 <= r of  s_p(z) - s_j(z)
//!     = <z_p - z_j, z_i> - (|z_p|^2 - |z_j|^2)/2 - r |z_p - z_j|  >=  g.
//! ```
//!
//! The left side is exact: `s_p - s_j` is affine in z, and the smallest
//! value of an affine function over an l2 ball is its value at the centre
//! less the radius times its gradient's l2 norm. Every point covers itself
//! (the margin lemma, section 4), so a cover always exists. Only the scores
//! the network keeps compete, so the competitors need only include the
//! prototypes of other labels.
//!
//! [`cover`] works in rounds. Round 0 tests every candidate against *all*
//! points of other labels; round t + 1 takes round t's prototypes K_t as
//! both the candidates and the competitors. Its prototypes form a subset of
//! K_t, so its tests held against a superset of the prototypes it keeps:
//! sound whatever it picks, and the sets only grow as the competitors thin
//! out (the same tests, fewer of them), so every point stays coverable.
//! Per label and round: a greedy set cover (the candidate covering the most
//! uncovered points first), then every prototype whose points the others
//! also cover dropped, smallest first. The test of a pair (p, i) needs only
//! the competitors j with `|z_p - z_j| < rho + sqrt(rho^2 + 2 g)`,
//! `rho = r + |z_i - z_p|`: for the others
//! `<z_p - z_j, z_i - z_p> >= -|z_p - z_j| |z_i - z_p|` gives the margin
//! `n (n/2 - rho) >= g` with `n = |z_p - z_j|`. The 64 nearest
//! competitors are visited first, nearest first, so a pair that fails
//! usually fails at once; only they are sorted. The work is O(N^2 m) for
//! round 0's distances from each p, in parallel over p; later rounds have
//! only K_t as candidates and competitors.
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

/// How many of the nearest competitors [`cover`] sorts (the rest it
/// tests in any order).
const SORTED: usize = 64;

/// Most rounds of [`cover`]; it also stops after a round that drops
/// under 1% of its candidates.
pub const MAX_ROUNDS: usize = 8;

/// For each point, the point whose score covers it (itself for a
/// prototype): per label, a small set of prototypes each of whose balls it
/// certifies with margin at least `margin` at projected radius `radius`
/// against every *prototype* of another label.
///
/// Round 0 takes every point as a candidate and as a competitor; each
/// later round takes the previous round's prototypes as both, so the
/// competitors are a superset of the prototypes the round keeps and its
/// cover holds against them (module documentation). Per label and round:
/// a greedy set cover, then the redundant prototypes dropped.
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
    let geometry = Geometry {
        rows: &rows,
        squares: &squares,
        labels,
        radius,
        margin,
    };
    let classes = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let members: Vec<Vec<usize>> = (0..classes as u32)
        .map(|class| (0..n).filter(|&i| labels[i] == class).collect())
        .collect();
    let mut covering: Vec<usize> = (0..n).collect();
    let mut kept: Vec<usize> = (0..n).collect();
    for _ in 0..MAX_ROUNDS {
        let Some(next) = round(&geometry, &members, &kept) else {
            break;
        };
        let prototypes: Vec<usize> = (0..n).filter(|&i| next[i] == i).collect();
        covering = next;
        // Stop when a round drops under 1% of its candidates: later rounds
        // would cost nearly as much as this one for little.
        if 100 * (kept.len() - prototypes.len()) < kept.len() {
            break;
        }
        kept = prototypes;
    }
    Some(covering)
}

/// The projected points and the figures a cover is tested at.
struct Geometry<'a> {
    rows: &'a [Vec<f64>],
    squares: &'a [f64],
    labels: &'a [u32],
    radius: f64,
    margin: f64,
}

/// One round of [`cover`]: candidates and competitors are `kept`
/// (ascending); the prototypes it picks are among them. `None` when some
/// point is covered by no candidate (cannot happen when `kept` is the
/// previous round's prototypes, whose tests held against a superset).
fn round(geometry: &Geometry<'_>, members: &[Vec<usize>], kept: &[usize]) -> Option<Vec<usize>> {
    let n = geometry.rows.len();
    // sets[k]: the points of kept[k]'s label that kept[k] covers.
    let sets: Vec<Vec<u32>> = kept
        .par_iter()
        .map(|&p| covered_by_one(geometry, kept, p))
        .collect();
    let mut covering: Vec<usize> = (0..n).collect();
    for (class, members) in members.iter().enumerate() {
        let candidates: Vec<usize> = (0..kept.len())
            .filter(|&k| geometry.labels[kept[k]] as usize == class)
            .collect();
        cover_label(members, &candidates, &sets, |k| kept[k], &mut covering)?;
    }
    Some(covering)
}

/// One label's cover: the greedy set cover of `members` by the sets of
/// `candidates` ([`greedy`]) without redundant sets, then each member
/// assigned the first remaining prototype (greedy order) whose set holds
/// it; a prototype covers itself. `point(k)` is candidate k's point;
/// `covering` gets each member's prototype. `None` when some member is in
/// no chosen set.
pub(super) fn cover_label(
    members: &[usize],
    candidates: &[usize],
    sets: &[Vec<u32>],
    point: impl Fn(usize) -> usize,
    covering: &mut [usize],
) -> Option<()> {
    let n = covering.len();
    let chosen = greedy(members, candidates, sets, n)?;
    let chosen = without_redundant(chosen, sets, n);
    let mut assigned = vec![false; n];
    for &k in &chosen {
        covering[point(k)] = point(k);
        assigned[point(k)] = true;
    }
    for &k in &chosen {
        for &i in &sets[k] {
            let i = i as usize;
            if !assigned[i] {
                assigned[i] = true;
                covering[i] = point(k);
            }
        }
    }
    members.iter().all(|&i| assigned[i]).then_some(())
}

/// The points of p's label that p covers against the points of `kept`
/// of another label, ascending (p itself always).
fn covered_by_one(geometry: &Geometry<'_>, kept: &[usize], p: usize) -> Vec<u32> {
    let Geometry {
        rows,
        squares,
        labels,
        radius,
        margin,
    } = *geometry;
    let zp = &rows[p];
    // Competitors (|z_p - z_j|, j): the nearest SORTED first and in order
    // (a failing pair usually fails on one of them), the rest after them
    // in any order. Every competitor within reach is tested either way.
    let mut others: Vec<(f64, usize)> = kept
        .iter()
        .filter(|&&j| labels[j] != labels[p])
        .map(|&j| (distance(zp, &rows[j]), j))
        .collect();
    let order = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    let head = SORTED.min(others.len());
    if head < others.len() {
        others.select_nth_unstable_by(head, order);
    }
    others[..head].sort_by(order);
    let (near, far) = others.split_at(head);
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
        let test = |&(n, j): &(f64, usize)| {
            let zj = &rows[j];
            let inner: f64 = zp
                .iter()
                .zip(zj)
                .zip(zi)
                .map(|((a, b), c)| (a - b) * c)
                .sum();
            inner - (squares[p] - squares[j]) / 2.0 - radius * n >= margin
        };
        let holds = near.iter().take_while(|&&(n, _)| n < reach).all(test)
            && far.iter().filter(|&&(n, _)| n < reach).all(test);
        if holds {
            covered.push(i as u32);
        }
    }
    covered
}

/// Greedy set cover of `members` (one label's points) by the sets
/// `sets[k]`, k among `candidates`: the set covering the most uncovered
/// points first (the lowest index on ties), in the order chosen. `None`
/// when some member is in no candidate's set.
fn greedy(
    members: &[usize],
    candidates: &[usize],
    sets: &[Vec<u32>],
    n: usize,
) -> Option<Vec<usize>> {
    let mut open = vec![false; n];
    for &i in members {
        open[i] = true;
    }
    let mut remaining = members.len();
    // holders[i]: the candidates whose set contains i.
    let mut holders: Vec<Vec<usize>> = vec![Vec::new(); n];
    // gain[k]: how many open points candidate k's set holds.
    let mut gain = vec![0usize; sets.len()];
    for &k in candidates {
        for &i in &sets[k] {
            holders[i as usize].push(k);
            gain[k] += usize::from(open[i as usize]);
        }
    }
    let mut chosen = Vec::new();
    while remaining > 0 {
        let best = candidates
            .iter()
            .copied()
            .filter(|&k| gain[k] > 0)
            .max_by(|&a, &b| gain[a].cmp(&gain[b]).then(b.cmp(&a)))?;
        chosen.push(best);
        for &i in &sets[best] {
            let i = i as usize;
            if open[i] {
                open[i] = false;
                remaining -= 1;
                for &k in &holders[i] {
                    gain[k] -= 1;
                }
            }
        }
    }
    Some(chosen)
}

/// `chosen` without redundant sets: in order of size (smallest first,
/// then index), a set all of whose points another remaining set also
/// covers is dropped. Dropping only lowers how often a point is covered,
/// so a set kept once stays needed; the rest keep their greedy order.
fn without_redundant(chosen: Vec<usize>, sets: &[Vec<u32>], n: usize) -> Vec<usize> {
    let mut times = vec![0usize; n];
    for &k in &chosen {
        for &i in &sets[k] {
            times[i as usize] += 1;
        }
    }
    let mut order = chosen.clone();
    order.sort_by_key(|&k| (sets[k].len(), k));
    let mut dropped = vec![false; sets.len()];
    for k in order {
        if sets[k].iter().all(|&i| times[i as usize] >= 2) {
            dropped[k] = true;
            for &i in &sets[k] {
                times[i as usize] -= 1;
            }
        }
    }
    chosen.into_iter().filter(|&k| !dropped[k]).collect()
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

    /// The exact margin of p on i's ball against every point of another
    /// label that `covering` makes a prototype.
    fn exact(
        points: &Array2<f64>,
        labels: &[u32],
        covering: &[usize],
        p: usize,
        i: usize,
        r: f64,
    ) -> f64 {
        let row = |k: usize| points.row(k).to_vec();
        let (zp, zi) = (row(p), row(i));
        (0..points.nrows())
            .filter(|&j| labels[j] != labels[p] && covering[j] == j)
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
                let got = exact(&points, &labels, &covering, p, i, r);
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

    /// At a small margin the rounds keep fewer prototypes than round 0's
    /// cover against every point, each point's prototype covers it against
    /// the other labels' prototypes, and no prototype is redundant: each
    /// has a point no other prototype of its label covers (against every
    /// point of another label, a superset of the last round's competitors,
    /// so covering less).
    #[test]
    fn the_rounds_drop_prototypes_and_keep_none_redundant() {
        let mut fewer = 0;
        for (seed, spread) in [(4, 1.2), (5, 1.6), (6, 2.0)] {
            let (points, labels) = clusters(seed, 240, 4, spread);
            let delta = crate::analysis::separation::separation(
                points.view(),
                &labels,
                crate::norm::Norm::L2,
            )
            .delta;
            let r = 0.5 * delta / 2.0;
            let margin = delta * (delta / 2.0 - r) / 8.0;
            let covering = cover(points.view(), &labels, r, margin).unwrap();
            let rows: Vec<Vec<f64>> = points.rows().into_iter().map(|r| r.to_vec()).collect();
            let squares: Vec<f64> = rows.iter().map(|r| dot(r, r)).collect();
            let geometry = Geometry {
                rows: &rows,
                squares: &squares,
                labels: &labels,
                radius: r,
                margin,
            };
            let members: Vec<Vec<usize>> = (0..3)
                .map(|c| (0..labels.len()).filter(|&i| labels[i] == c).collect())
                .collect();
            let all: Vec<usize> = (0..labels.len()).collect();
            let first = round(&geometry, &members, &all).unwrap();
            let count = |c: &[usize]| c.iter().enumerate().filter(|(i, p)| i == *p).count();
            assert!(count(&covering) <= count(&first), "seed {seed}");
            fewer += usize::from(count(&covering) < count(&first));
            let prototypes: Vec<usize> = (0..labels.len()).filter(|&i| covering[i] == i).collect();
            for (i, &p) in covering.iter().enumerate() {
                let got = exact(&points, &labels, &covering, p, i, r);
                assert!(got >= margin * (1.0 - 1e-12), "seed {seed}, point {i}");
            }
            for &p in &prototypes {
                let needed = members[labels[p] as usize].iter().any(|&i| {
                    prototypes
                        .iter()
                        .filter(|&&q| q != p && labels[q] == labels[p])
                        .all(|&q| exact(&points, &labels, &all, q, i, r) < margin)
                });
                assert!(needed, "seed {seed}: prototype {p} is redundant");
            }
        }
        assert!(fewer > 0, "the rounds never dropped a prototype");
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
