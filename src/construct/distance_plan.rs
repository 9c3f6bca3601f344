//! Planning a distance network (specs/construction.md section 8) for a
//! given arithmetic: the map, the radius and the running minima per class,
//! chosen so that the network is certified in that arithmetic the first
//! time (the rounding model is an input, not a check after the build).
//!
//! For l1 and l_inf the map is the identity (K = d, q = p), less the
//! coordinates constant on the data (a selection): `r = sigma` and
//! `delta'_q = delta_p`, so every radius below the limit is reachable up to
//! the rounding allowance of [`distance_rounding`], which is first order in
//! the coordinates. For l2 it is unit directions along the closest pairs'
//! differences ([`super::directions`], q = inf): `r = sigma`, and
//! `delta'_inf` grows towards `delta_2` with the number of rows.
//!
//! Shape, with k running minima per class, `L` the longest slot and
//! `T = ceil(log2 2K)` max-tree levels (l_inf only, 0 for l1):
//! - width at most `K + sum_c min(k, N_c) * (2K + 2 + tree(K))`, `tree(K)`
//!   the max-tree neurons in flight (l_inf); label: at least C + 5;
//! - depth `1 + (L + 1 + T) + ceil(log2 k') + 1`, k' the most slots of one
//!   class.
//!
//! Parameters grow with k (dense layers cost width^2), so the planner takes
//! the fewest slots the depth budget allows.

use super::directions::{pair_directions, MAX_POINTS as DIRECTIONS_MAX_POINTS};
use super::distances::distance_separation;
use super::plan::{PlanError, Request};
use crate::analysis::rounding::{distance_rounding, DistanceRounding};
use crate::ir::stages::DistanceNorm;
use crate::norm::Norm;
use crate::spec::{Budget, OutputKind, RadiusSpec};
use ndarray::{Array1, Array2, Axis};

/// `radius = max` certifies this fraction of the largest radius the map
/// certifies in the arithmetic (which already leaves twice the planned
/// rounding allowance): unlike the score construction's margin, which
/// vanishes quadratically, the distance margin is linear in the radius.
pub const MAX_FRACTION_DISTANCES: f64 = 0.999;

/// The arithmetic the network must be certified in: its unit roundoff
/// (`2^-24` for float32, `2^-53` for float64).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arithmetic {
    /// Unit roundoff u.
    pub unit: f64,
}

/// The planner's choices for a distance network.
#[derive(Clone, Debug)]
pub struct DistancePlan {
    /// q.
    pub norm: DistanceNorm,
    /// The map's strategy: `identity`, `selection` when coordinates
    /// constant on the data are left out, or `directions` (l2).
    pub strategy: &'static str,
    /// V, K x d.
    pub matrix: Array2<f64>,
    /// mu, the data mean.
    pub centre: Array1<f64>,
    /// y_i = V (x_i - mu), N x K.
    pub mapped: Array2<f64>,
    /// ||V||_{p->q}.
    pub norm_bound: f64,
    /// delta'_q.
    pub delta_prime: f64,
    /// The radius sigma to certify.
    pub radius: f64,
    /// The largest radius this map certifies in the arithmetic.
    pub sigma_max: f64,
    /// The rounding allowance the radius leaves room for (distance units).
    pub rounding: f64,
    /// Running minima per class.
    pub slots_per_class: usize,
    /// Logits or label (the label gadget's layers and its rounding).
    pub output: OutputKind,
}

impl DistancePlan {
    /// K.
    pub fn k(&self) -> usize {
        self.matrix.nrows()
    }
}

/// The distance norm q the construction uses for balls of `norm`, if it
/// builds them: l1 and l_inf balls are measured exactly (q = p, a coordinate
/// selection), l2 balls through unit directions (q = inf, section 8).
pub fn distance_norm_for(norm: Norm) -> Option<DistanceNorm> {
    match norm {
        Norm::L1 => Some(DistanceNorm::L1),
        Norm::Linf | Norm::L2 => Some(DistanceNorm::Linf),
        _ => None,
    }
}

/// Most unit directions the l2 map uses.
pub const MAX_DIRECTIONS: usize = 48;

/// Chooses the map, the radius and the slots of a distance network for
/// `request`, certified in `arithmetic`.
pub fn plan_distances(
    request: &Request<'_>,
    arithmetic: Arithmetic,
) -> Result<DistancePlan, PlanError> {
    let norm = distance_norm_for(request.norm).ok_or(PlanError::DistancesNeedPolyhedralNorm {
        norm: request.norm.to_string(),
    })?;
    let data = request.data;
    let sizes = data.class_sizes();
    if sizes.len() < 2 {
        return Err(PlanError::NoLimit);
    }
    let limit = request.delta / 2.0;
    let centre = data
        .points
        .mean_axis(Axis(0))
        .unwrap_or_else(|| Array1::zeros(data.dim()));
    let centred = &data.points - &centre;
    let (matrix, strategy) = match request.norm {
        Norm::L2 => {
            // Directions until every pair differs enough in some row: for
            // a fixed radius 2 sigma with room for rounding, for `max`
            // nearly delta_2.
            let target = match request.radius {
                RadiusSpec::Max => 0.98 * request.delta,
                RadiusSpec::Absolute(sigma) => (2.05 * sigma).min(request.delta),
                RadiusSpec::OfLimit(fraction) => {
                    (1.025 * fraction * request.delta).min(request.delta)
                }
            };
            let found = pair_directions(centred.view(), &data.labels, target, MAX_DIRECTIONS)
                .ok_or(PlanError::DirectionsTooManyPoints {
                    points: data.len(),
                    max: DIRECTIONS_MAX_POINTS,
                })?;
            (found.matrix, "directions")
        }
        _ => {
            // A coordinate constant on the data separates nothing: leave it
            // out (a selection keeps ||V||_{p->q} = 1 and every distance
            // between data points).
            let kept: Vec<usize> = (0..data.dim())
                .filter(|&k| {
                    let column = data.points.column(k);
                    column.iter().any(|&x| x != column[0])
                })
                .collect();
            let matrix = Array2::from_shape_fn((kept.len(), data.dim()), |(row, k)| {
                if kept[row] == k {
                    1.0
                } else {
                    0.0
                }
            });
            let strategy = if kept.len() == data.dim() {
                "identity"
            } else {
                "selection"
            };
            (matrix, strategy)
        }
    };
    let kept = matrix.nrows();
    let mapped = centred.dot(&matrix.t());
    let delta_prime = if strategy == "directions" {
        distance_separation(&mapped, &data.labels, norm)
    } else {
        // A selection drops only coordinates constant on the data, so the
        // mapped pairs' distances are the data's: delta_p, less the
        // rounding of the centring (each coordinate of x - mu is within
        // one f64 rounding of its value, K of them in l1).
        let reach = mapped.iter().fold(0.0f64, |m, y| m.max(y.abs()));
        let terms = match norm {
            DistanceNorm::L1 => kept as f64,
            DistanceNorm::Linf => 1.0,
        };
        request.delta - 4.0 * f64::EPSILON * reach * terms
    };
    // ||V||_{p->q}: 1 for a selection (p = q); the largest row l2 norm for
    // directions (p = 2, q = inf).
    let norm_bound = matrix
        .rows()
        .into_iter()
        .map(|row| row.dot(&row).sqrt())
        .fold(0.0f64, f64::max)
        .max(if strategy == "directions" { 0.0 } else { 1.0 });
    let slots_per_class = choose_slots(request, &sizes, kept, norm)?;
    // The allowance at the largest radius the map could reach bounds it at
    // every smaller radius (magnitudes grow with the radius).
    let largest_coordinate = data.points.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let reach = delta_prime / 2.0;
    let shift = mapped
        .axis_iter(Axis(1))
        .map(|column| 1.0 + reach - column.iter().copied().fold(f64::INFINITY, f64::min))
        .collect::<Array1<f64>>();
    let bias = &shift - &matrix.dot(&centre);
    let centres = &mapped + &shift;
    let rounding = distance_rounding(&DistanceRounding {
        matrix: &matrix,
        bias: &bias,
        centres: &centres,
        norm,
        input_bound: largest_coordinate + reach,
        projected_radius: reach,
        slots_per_class,
        unit: arithmetic.unit,
        label: (request.output == OutputKind::Label).then_some(sizes.len()),
    });
    let sigma_max = ((delta_prime - rounding) / (2.0 * norm_bound)).min(limit);
    let radius = match request.radius {
        RadiusSpec::Max => MAX_FRACTION_DISTANCES * sigma_max,
        RadiusSpec::Absolute(sigma) => sigma,
        RadiusSpec::OfLimit(fraction) => fraction * limit,
    };
    if radius >= limit {
        return Err(PlanError::RadiusAtLimit { radius, limit });
    }
    if sigma_max <= 0.0 || radius >= sigma_max {
        return Err(PlanError::RadiusNotCertified {
            radius,
            width: None,
            best_radius: sigma_max.max(0.0),
            smallest_width: None,
        });
    }
    Ok(DistancePlan {
        norm,
        strategy,
        matrix,
        centre,
        mapped,
        norm_bound,
        delta_prime,
        radius,
        sigma_max,
        rounding,
        slots_per_class,
        output: request.output,
    })
}

/// Neurons one slot holds in a layer at most: 2K halves, the accumulator
/// and the comparison, and (l_inf) the max-tree levels in flight.
pub fn slot_width(k: usize, norm: DistanceNorm) -> usize {
    let tree = match norm {
        DistanceNorm::L1 => 0,
        DistanceNorm::Linf => {
            let mut nodes = 2 * k;
            let mut neurons = 0;
            while nodes > 1 {
                neurons += nodes;
                nodes = nodes.div_ceil(2);
            }
            neurons
        }
    };
    2 * k + 2 + tree
}

/// Width and depth (affine layers) of a distance network with `slots`
/// running minima per class. The label gadget adds one layer per class and
/// one for the last write; its layers hold at most the other classes'
/// minima and six neurons (step pair, increase, best, a write's halves).
pub fn distance_shape(
    sizes: &[usize],
    k: usize,
    norm: DistanceNorm,
    slots: usize,
    output: OutputKind,
) -> (usize, usize) {
    let slots = slots.max(1);
    let total: usize = sizes.iter().map(|&n| n.min(slots)).sum();
    let running = k + total * slot_width(k, norm);
    let (width, label) = match output {
        OutputKind::Logits => (running, 0),
        OutputKind::Label => (running.max(sizes.len() + 5), sizes.len() + 1),
    };
    let longest = sizes.iter().map(|&n| n.div_ceil(slots)).max().unwrap_or(1);
    let most = sizes.iter().map(|&n| n.min(slots)).max().unwrap_or(1);
    let levels = match norm {
        DistanceNorm::L1 => 0,
        DistanceNorm::Linf => ceil_log2(2 * k),
    };
    let depth = 1 + (longest + 1 + levels) + ceil_log2(most) + label + 1;
    (width, depth)
}

fn ceil_log2(n: usize) -> usize {
    let mut levels = 0;
    while (1usize << levels) < n {
        levels += 1;
    }
    levels
}

/// The fewest running minima per class that meet the depth budget within
/// the width budget.
fn choose_slots(
    request: &Request<'_>,
    sizes: &[usize],
    k: usize,
    norm: DistanceNorm,
) -> Result<usize, PlanError> {
    let largest = sizes.iter().copied().max().unwrap_or(1);
    let slots = match request.depth {
        Budget::AtMost(depth) => {
            let shallowest = distance_shape(sizes, k, norm, largest, request.output).1;
            if shallowest > depth {
                return Err(PlanError::DepthTooSmall {
                    depth,
                    needed: shallowest,
                    width: Some(distance_shape(sizes, k, norm, largest, request.output).0),
                });
            }
            // Depth falls as slots grow: the first that fits.
            let mut lo = 1;
            let mut hi = largest;
            while lo < hi {
                let mid = (lo + hi) / 2;
                if distance_shape(sizes, k, norm, mid, request.output).1 <= depth {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            lo
        }
        _ => 1,
    };
    if let Budget::AtMost(width) = request.width {
        let needed = distance_shape(sizes, k, norm, slots, request.output).0;
        if needed > width {
            return Err(PlanError::WidthTooSmall { width, needed });
        }
    }
    Ok(slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_width_counts_the_tree_in_flight() {
        // K = 2: 4 halves, tree levels of 4 and 2 neurons.
        assert_eq!(slot_width(2, DistanceNorm::Linf), 4 + 2 + 4 + 2);
        assert_eq!(slot_width(2, DistanceNorm::L1), 4 + 2);
        // K = 3: 6 halves -> 6, 4 (3 nodes: 2 pairs... 3 -> 2 -> 1).
        assert_eq!(slot_width(3, DistanceNorm::Linf), 6 + 2 + 6 + 3 + 2);
    }

    #[test]
    fn depth_falls_and_width_grows_with_slots() {
        let sizes = [40, 30];
        let (w1, d1) = distance_shape(&sizes, 3, DistanceNorm::L1, 1, OutputKind::Logits);
        let (w4, d4) = distance_shape(&sizes, 3, DistanceNorm::L1, 4, OutputKind::Logits);
        assert_eq!(d1, 1 + 41 + 1);
        assert_eq!(d4, 1 + 11 + 2 + 1);
        // The label gadget: one layer per class and the last write.
        let (wl, dl) = distance_shape(&sizes, 3, DistanceNorm::L1, 1, OutputKind::Label);
        assert_eq!((wl, dl), (w1, d1 + 3));
        assert!(w4 > w1);
    }
}
