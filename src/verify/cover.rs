//! The exact score margin of a point over its ball (specs/certificate.md
//! section 5, step 9, "covered points"), for points whose named score lies
//! away from their own centre: a condensed network's points covered by a
//! prototype (specs/construction.md section 5C), or a point that borrows
//! a near-duplicate's score.
//!
//! For the point's own score o and a score j of another label,
//! `s_o(u) - s_j(u) = <w_o - w_j, u> + b_o - b_j` is affine in u, so over
//! the l2 ball `|u - c_i| <= rho` its smallest value is exactly
//! `<w_o - w_j, c_i> + b_o - b_j - rho |w_o - w_j|` (the worst case of a
//! linear function over an l2 ball is the radius times its gradient's l2
//! norm). Each competitor j gives a *line* `v_j - rho n_j`, with `v_j`
//! rounded down and `n_j` up from the stored weights; the margin is the
//! smallest line at the point's rho. Nothing is assumed of the scores but
//! their weights: no shift, offset or separation enters.

use super::gadgets::Leaf;
use super::interval::{gamma, sqrt_up};

const DOUBLE: f64 = f64::EPSILON / 2.0;

/// The lines of point i's own score `own` against every score of another
/// label than `label`, at the point's first-layer centre `centre`, keeping
/// only those that can be the smallest for some `rho` in `[0, rho_max]`.
///
/// A line j is the smallest at some rho <= rho_max only if
/// `v_j - rho_max n_j <= min_k v_k` (its value at rho_max is below the
/// envelope's largest value, which is at rho = 0), so the rest are dropped
/// without changing the minimum anywhere in the range.
pub fn lines(
    leaves: &[Leaf],
    own: usize,
    label: usize,
    centre: &[f64],
    rho_max: f64,
) -> Vec<(f64, f64)> {
    let o = &leaves[own];
    let m = centre.len();
    let all: Vec<(f64, f64)> = leaves
        .iter()
        .filter(|leaf| leaf.label != Some(label))
        .map(|leaf| {
            let mut value = o.bias - leaf.bias;
            let mut size = o.bias.abs() + leaf.bias.abs();
            let mut square = 0.0;
            for ((a, b), c) in o.weight.iter().zip(&leaf.weight).zip(centre) {
                let g = a - b;
                value += g * c;
                size += (g * c).abs();
                square += g * g;
            }
            // The difference g rounds once (relative u), the dot product
            // of m + 2 terms within gamma_{m+2} of its terms' magnitudes.
            let error = gamma(m + 3, DOUBLE) * size * (1.0 + 1e-9);
            let norm = sqrt_up(square * (1.0 + gamma(2 * m + 4, DOUBLE))) * (1.0 + 4.0 * DOUBLE);
            (value - error, norm)
        })
        .collect();
    let top = all.iter().map(|l| l.0).fold(f64::INFINITY, f64::min);
    all.into_iter()
        // Kept unless surely above (a NaN from 0 * inf keeps the line).
        .filter(|&(v, n)| {
            let low = v - rho_max * n;
            let low = low - 1e-9 * (v.abs() + rho_max * n);
            low.is_nan() || low <= top
        })
        .collect()
}

/// A lower bound on the smallest line at `rho` (`+inf` without lines),
/// and the magnitude of the terms it combined (for the caller's rounding).
pub fn smallest(lines: &[(f64, f64)], rho: f64) -> (f64, f64) {
    lines
        .iter()
        .map(|&(v, n)| {
            let size = v.abs() + rho * n;
            // Two roundings of terms of at most `size`.
            (v - rho * n - 3.0 * DOUBLE * size, size)
        })
        .fold((f64::INFINITY, 0.0), |(low, size), (l, s)| {
            (low.min(l), size.max(s))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn leaf(weight: Vec<f64>, bias: f64, label: usize) -> Leaf {
        Leaf {
            weight,
            bias,
            label: Some(label),
            introduced_by: [0, 0],
        }
    }

    /// The bound is below the sampled minimum and close to it (the
    /// minimiser of each line is on the sphere, which samples approach).
    #[test]
    fn the_bound_is_the_minimum_over_the_ball() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let m = 3;
        let leaves: Vec<Leaf> = (0..12)
            .map(|j| {
                let w: Vec<f64> = (0..m).map(|_| rng.gen_range(-2.0..2.0)).collect();
                leaf(w, rng.gen_range(-1.0..1.0), j % 3)
            })
            .collect();
        let centre = vec![0.3, -0.2, 0.5];
        for rho in [0.0, 0.1, 0.7] {
            let kept = lines(&leaves, 0, 0, &centre, 1.0);
            let (bound, _) = smallest(&kept, rho);
            // The true minimum: for each competitor, the value at the
            // point of the sphere against its gradient.
            let truth = leaves
                .iter()
                .filter(|l| l.label != Some(0))
                .map(|l| {
                    let g: Vec<f64> = leaves[0]
                        .weight
                        .iter()
                        .zip(&l.weight)
                        .map(|(a, b)| a - b)
                        .collect();
                    let n = g.iter().map(|x| x * x).sum::<f64>().sqrt();
                    let u: Vec<f64> = centre
                        .iter()
                        .zip(&g)
                        .map(|(c, gk)| c - if n > 0.0 { rho * gk / n } else { 0.0 })
                        .collect();
                    g.iter().zip(&u).map(|(a, b)| a * b).sum::<f64>() + leaves[0].bias - l.bias
                })
                .fold(f64::INFINITY, f64::min);
            assert!(bound <= truth, "rho {rho}: bound {bound} above {truth}");
            assert!(
                bound >= truth - 1e-9,
                "rho {rho}: bound {bound} far below {truth}"
            );
        }
    }

    #[test]
    fn pruning_keeps_the_minimum_for_every_radius_in_range() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let m = 4;
        let leaves: Vec<Leaf> = (0..200)
            .map(|j| {
                let w: Vec<f64> = (0..m).map(|_| rng.gen_range(-3.0..3.0)).collect();
                leaf(w, rng.gen_range(-5.0..5.0), j % 4)
            })
            .collect();
        let centre = vec![1.0, 0.5, -0.5, 2.0];
        let kept = lines(&leaves, 0, 0, &centre, 2.0);
        let all = lines(&leaves, 0, 0, &centre, f64::INFINITY);
        assert!(kept.len() < all.len());
        for rho in [0.0, 0.5, 1.3, 2.0] {
            assert_eq!(smallest(&kept, rho).0, smallest(&all, rho).0, "rho {rho}");
        }
    }
}
