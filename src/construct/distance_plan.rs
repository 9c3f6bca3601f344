//! Planning a distance network (specs/construction.md section 8) for a
//! given arithmetic: the map, the radius and the running minima per class,
//! chosen so that the network is certified in that arithmetic the first
//! time (the rounding model is an input, not a check after the build).
//!
//! For l1 and l_inf the map is the identity (K = d, q = p), less the
//! coordinates constant on the data (a selection): `r = sigma` and
//! `delta'_q = delta_p`, so every radius below the limit is reachable up to
//! the rounding allowance of [`distance_rounding`], which is first order in
//! the coordinates. For l_inf a smaller selection (a greedy cover of the
//! differently-labelled pairs, [`super::selection`]) keeps `r = sigma` with
//! `delta'_inf` the exact separation on the kept coordinates: it replaces
//! the identity when it certifies a fixed radius with fewer parameters,
//! or, for `radius = max`, when the identity does not fit the budgets. For l2 it is unit directions along the closest pairs'
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

use super::arithmetic::Arithmetic;
use super::directions::{pair_directions, MAX_POINTS as DIRECTIONS_MAX_POINTS};
use super::distances::distance_separation;
use super::plan::{PlanError, Request};
use super::selection::{cover_pairs, MAX_POINTS as SELECTION_MAX_POINTS};
use crate::analysis::rounding::{distance_rounding, row_sizes, DistanceRounding, RowSize};
use crate::ir::stages::DistanceNorm;
use crate::norm::Norm;
use crate::pipeline::ONNX_MAX_BYTES;
use crate::spec::{Budget, OutputKind, RadiusSpec};
use ndarray::{s, Array1, Array2, ArrayView2, Axis};

/// `radius = max` certifies this fraction of the largest radius the map
/// certifies in the arithmetic (which already leaves twice the planned
/// rounding allowance): unlike the score construction's margin, which
/// vanishes quadratically, the distance margin is linear in the radius.
pub const MAX_FRACTION_DISTANCES: f64 = 0.999;

/// The planner's choices for a distance network.
#[derive(Clone, Debug)]
pub struct DistancePlan {
    /// q.
    pub norm: DistanceNorm,
    /// The map's strategy: `identity`, `selection` when coordinates are
    /// left out (constant on the data, or not in an l_inf cover), or
    /// `directions` (l2).
    pub strategy: &'static str,
    /// V, K x d, held as indices for a selection: a wide table's identity
    /// is never built densely unless the network is built.
    pub map: DistanceMap,
    /// mu, the data mean.
    pub centre: Array1<f64>,
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
        self.map.rows()
    }

    /// The planned shape for data with class sizes `sizes` and dimension `dim`.
    pub fn shape(&self, dim: usize, sizes: &[usize]) -> Shape {
        Shape::new(
            dim,
            sizes,
            self.k(),
            self.norm,
            self.slots_per_class,
            self.output,
        )
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
/// `request`, certified in the request's arithmetic.
///
/// For l_inf the map is the identity (less the constant coordinates) or a
/// greedy cover selection ([`super::selection`]): the selection when it
/// certifies a fixed radius with fewer parameters, or, for `radius = max`,
/// when the identity does not fit the width or depth budget or
/// protobuf's 2 GiB limit (then the highest target, [`SELECTION_TOP`] or
/// below, that a selection within the budgets covers).
pub fn plan_distances(request: &Request<'_>) -> Result<DistancePlan, PlanError> {
    let norm = distance_norm_for(request.norm).ok_or(PlanError::DistancesNeedPolyhedralNorm {
        norm: request.norm.to_string(),
    })?;
    let data = request.data;
    let sizes = data.class_sizes();
    if sizes.len() < 2 {
        return Err(PlanError::NoLimit);
    }
    let centre = data
        .points
        .mean_axis(Axis(0))
        .unwrap_or_else(|| Array1::zeros(data.dim()));
    let planner = Planner {
        request,
        arithmetic: request.arithmetic,
        norm,
        sizes,
        centre,
    };
    if request.norm == Norm::L2 {
        // Directions until every pair differs enough in some row: for a
        // fixed radius 2 sigma with room for rounding, for `max` nearly
        // delta_2.
        let target = match request.radius {
            RadiusSpec::Max => 0.98 * request.delta,
            RadiusSpec::Absolute(sigma) => (2.05 * sigma).min(request.delta),
            RadiusSpec::OfLimit(fraction) => (1.025 * fraction * request.delta).min(request.delta),
        };
        // Directions depend on differences of points only: no centring.
        let found = pair_directions(data.points.view(), &data.labels, target, MAX_DIRECTIONS)
            .ok_or(PlanError::DirectionsTooManyPoints {
                points: data.len(),
                max: DIRECTIONS_MAX_POINTS,
            })?;
        return planner.finish(DistanceMap::Dense(found.matrix), "directions");
    }
    // A coordinate constant on the data separates nothing: leave it out (a
    // selection keeps ||V||_{p->q} = 1 and every distance between data
    // points).
    let kept: Vec<usize> = (0..data.dim())
        .filter(|&k| {
            let column = data.points.column(k);
            column.iter().any(|&x| x != column[0])
        })
        .collect();
    let strategy = if kept.len() == data.dim() {
        "identity"
    } else {
        "selection"
    };
    let identity = planner.finish(planner.selection(&kept), strategy);
    if norm == DistanceNorm::Linf {
        if let Some(selected) = planner.linf_selection(&kept, &identity) {
            return selected;
        }
    }
    identity
}

/// The target, as a fraction of delta_inf, that `radius = max` first tries
/// for an l_inf selection when the identity map does not fit: every
/// differently-labelled pair must differ by the target in a kept
/// coordinate, and the certified radius is then about the target's
/// fraction of the limit (0.98 or more here).
pub const SELECTION_TOP: f64 = 0.985;

/// When no selection within the budgets covers [`SELECTION_TOP`],
/// `radius = max` bisects the target below it this many times (to within
/// `0.985 / 64` of delta_inf) and keeps the highest that a selection
/// covers.
pub const SELECTION_STEPS: usize = 6;

/// The map V of a distance plan.
#[derive(Clone, Debug, PartialEq)]
pub enum DistanceMap {
    /// Row r is the unit vector of coordinate `columns[r]` of `dim`: the
    /// identity, less some coordinates. Kept as indices, so that planning
    /// on a table with tens of thousands of columns never allocates a
    /// d x d matrix.
    Selection {
        /// The kept coordinates, increasing.
        columns: Vec<usize>,
        /// d.
        dim: usize,
    },
    /// Dense rows (unit directions for l2 balls), K x d.
    Dense(Array2<f64>),
}

impl DistanceMap {
    /// K, the number of rows.
    pub fn rows(&self) -> usize {
        match self {
            DistanceMap::Selection { columns, .. } => columns.len(),
            DistanceMap::Dense(matrix) => matrix.nrows(),
        }
    }

    /// V as a dense K x d matrix (the first layer's weights).
    pub fn to_matrix(&self) -> Array2<f64> {
        match self {
            DistanceMap::Selection { columns, dim } => {
                let mut matrix = Array2::zeros((columns.len(), *dim));
                for (row, &k) in columns.iter().enumerate() {
                    matrix[[row, k]] = 1.0;
                }
                matrix
            }
            DistanceMap::Dense(matrix) => matrix.clone(),
        }
    }

    /// The images `y_i = V (x_i - mu)` of `points`, N x K, without a
    /// centred copy of them: a selection picks columns (the same values as
    /// centring first), a dense map is applied block by block.
    pub fn apply(&self, points: ArrayView2<'_, f64>, centre: &Array1<f64>) -> Array2<f64> {
        match self {
            DistanceMap::Selection { columns, .. } => {
                let mut mapped = points.select(Axis(1), columns);
                mapped -= &centre.select(Axis(0), columns);
                mapped
            }
            DistanceMap::Dense(matrix) => {
                let mut mapped = Array2::zeros((points.nrows(), matrix.nrows()));
                let block_rows = (MAP_BLOCK_FLOATS / points.ncols().max(1)).clamp(1, 1024);
                for start in (0..points.nrows()).step_by(block_rows) {
                    let end = (start + block_rows).min(points.nrows());
                    let centred = &points.slice(s![start..end, ..]) - centre;
                    mapped
                        .slice_mut(s![start..end, ..])
                        .assign(&centred.dot(&matrix.t()));
                }
                mapped
            }
        }
    }

    /// V v.
    fn image(&self, v: &Array1<f64>) -> Array1<f64> {
        match self {
            DistanceMap::Selection { columns, .. } => v.select(Axis(0), columns),
            DistanceMap::Dense(matrix) => matrix.dot(v),
        }
    }

    /// Each row's non-zero terms and l1 norm, for the rounding allowance.
    fn row_sizes(&self) -> Vec<RowSize> {
        match self {
            DistanceMap::Selection { columns, .. } => {
                vec![RowSize { terms: 1, l1: 1.0 }; columns.len()]
            }
            DistanceMap::Dense(matrix) => row_sizes(matrix),
        }
    }

    /// ||V||_{p->q}: 1 for a selection (p = q); the largest row l2 norm for
    /// directions (p = 2, q = inf).
    fn norm_bound(&self) -> f64 {
        match self {
            DistanceMap::Selection { .. } => 1.0,
            DistanceMap::Dense(matrix) => matrix
                .rows()
                .into_iter()
                .map(|row| row.dot(&row).sqrt())
                .fold(0.0f64, f64::max),
        }
    }
}

/// Centred coordinates per block (8 MiB of f64; at most 1,024 rows) when a
/// dense map is applied, so that no centred copy of the data set, nor a
/// large part of a wide one, is made.
const MAP_BLOCK_FLOATS: usize = 1 << 20;

/// What every candidate map of one request shares.
struct Planner<'r, 'a> {
    request: &'r Request<'a>,
    arithmetic: Arithmetic,
    norm: DistanceNorm,
    sizes: Vec<usize>,
    centre: Array1<f64>,
}

impl Planner<'_, '_> {
    /// The selection of the coordinates `kept`.
    fn selection(&self, kept: &[usize]) -> DistanceMap {
        DistanceMap::Selection {
            columns: kept.to_vec(),
            dim: self.request.data.dim(),
        }
    }

    /// Per kept coordinate, the least and largest `x_k - mu_k` over the
    /// data: [`column_ranges`] of the selection's images, without them.
    fn selection_ranges(&self, kept: &[usize]) -> Vec<(f64, f64)> {
        let points = &self.request.data.points;
        kept.iter()
            .map(|&k| {
                let (lo, hi) = extremes(points.column(k).iter().copied());
                (lo - self.centre[k], hi - self.centre[k])
            })
            .collect()
    }

    /// The plan with map `map`: its separation, slots, rounding allowance
    /// and radius.
    fn finish(&self, map: DistanceMap, strategy: &'static str) -> Result<DistancePlan, PlanError> {
        let request = self.request;
        let data = request.data;
        let norm = self.norm;
        let limit = request.delta / 2.0;
        let kept = map.rows();
        let (delta_prime, ranges) = match &map {
            DistanceMap::Selection { columns, .. }
                if kept == data.dim() - constant_columns(data) =>
            {
                // Only coordinates constant on the data are dropped, so
                // the mapped pairs' distances are the data's: delta_p, less
                // the rounding of the centring (each coordinate of x - mu
                // is within one f64 rounding of its value, K of them in
                // l1). Nothing is mapped: a wide table is not copied.
                let ranges = self.selection_ranges(columns);
                let reach = ranges
                    .iter()
                    .fold(0.0f64, |m, &(lo, hi)| m.max(lo.abs()).max(hi.abs()));
                let terms = match norm {
                    DistanceNorm::L1 => kept as f64,
                    DistanceNorm::Linf => 1.0,
                };
                (request.delta - 4.0 * f64::EPSILON * reach * terms, ranges)
            }
            _ => {
                // Directions or a cover selection (few rows): the exact
                // separation of the mapped points.
                let mapped = map.apply(data.points.view(), &self.centre);
                let delta_prime = distance_separation(&mapped, &data.labels, norm);
                (delta_prime, column_ranges(&mapped))
            }
        };
        let norm_bound = map.norm_bound();
        let slots_per_class = choose_slots(request, &self.sizes, kept, norm)?;
        let rounding = self.allowance(&map, &ranges, delta_prime, slots_per_class);
        let sigma_max = ((delta_prime - rounding) / (2.0 * norm_bound)).min(limit);
        let radius = match request.radius {
            RadiusSpec::Max => MAX_FRACTION_DISTANCES * sigma_max,
            RadiusSpec::Absolute(sigma) => sigma,
            RadiusSpec::OfLimit(fraction) => fraction * limit,
        };
        if radius >= limit {
            return Err(PlanError::RadiusAtLimit { radius, limit });
        }
        // Real arithmetic certifies every radius below delta' / (2 ||V||);
        // below that, rounding is what refuses.
        let real_sigma_max = (delta_prime / (2.0 * norm_bound)).min(limit);
        // (A NaN sigma_max counts as "no room".)
        let certified_with_rounding = match request.radius {
            RadiusSpec::Max => sigma_max > 0.0,
            _ => radius < sigma_max,
        };
        let certified_in_real = match request.radius {
            RadiusSpec::Max => real_sigma_max > 0.0,
            _ => radius < real_sigma_max,
        };
        let rounding_refuses = certified_in_real && !certified_with_rounding;
        if rounding_refuses {
            return Err(PlanError::NotInArithmetic {
                radius: (request.radius != RadiusSpec::Max).then_some(radius),
                precision: self.arithmetic.name(),
                best_radius: if sigma_max > 0.0 {
                    MAX_FRACTION_DISTANCES * sigma_max
                } else {
                    0.0
                },
                smallest_width: None,
            });
        }
        if sigma_max.is_nan() || sigma_max <= 0.0 || radius >= sigma_max {
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
            map,
            centre: self.centre.clone(),
            norm_bound,
            delta_prime,
            radius,
            sigma_max,
            rounding,
            slots_per_class,
            output: request.output,
        })
    }

    /// The rounding allowance of the map (distance units), whose images of
    /// the data span `ranges` per row, at the largest radius it could
    /// reach: it bounds the allowance at every smaller radius (magnitudes
    /// grow with the radius).
    fn allowance(
        &self,
        map: &DistanceMap,
        ranges: &[(f64, f64)],
        delta_prime: f64,
        slots_per_class: usize,
    ) -> f64 {
        let largest_coordinate = self
            .request
            .data
            .points
            .iter()
            .fold(0.0f64, |m, x| m.max(x.abs()));
        let reach = delta_prime / 2.0;
        let shift = ranges
            .iter()
            .map(|&(lo, _)| 1.0 + reach - lo)
            .collect::<Array1<f64>>();
        let bias = &shift - &map.image(&self.centre);
        let centre_ranges: Vec<(f64, f64)> = ranges
            .iter()
            .zip(&shift)
            .map(|(&(lo, hi), t)| (lo + t, hi + t))
            .collect();
        distance_rounding(&DistanceRounding {
            rows: &map.row_sizes(),
            bias: &bias,
            centre_ranges: &centre_ranges,
            norm: self.norm,
            input_bound: largest_coordinate + reach,
            projected_radius: reach,
            slots_per_class,
            unit: self.arithmetic.unit,
            label: (self.request.output == OutputKind::Label).then_some(self.sizes.len()),
        })
    }

    /// Whether a network with a map of `k` rows fits the depth and width
    /// budgets and protobuf's limit, and its estimated parameters.
    fn fits(&self, k: usize) -> Option<u64> {
        let slots = choose_slots(self.request, &self.sizes, k, self.norm).ok()?;
        let shape = Shape::new(
            self.request.data.dim(),
            &self.sizes,
            k,
            self.norm,
            slots,
            self.request.output,
        );
        (shape.bytes(self.arithmetic.element_bytes()) <= ONNX_MAX_BYTES).then(|| shape.parameters())
    }

    /// The l_inf cover selection to use instead of `identity` (the
    /// identity or constant-free selection over `kept`), if any; `None`
    /// keeps `identity`.
    fn linf_selection(
        &self,
        kept: &[usize],
        identity: &Result<DistancePlan, PlanError>,
    ) -> Option<Result<DistancePlan, PlanError>> {
        let request = self.request;
        let data = request.data;
        if kept.len() < 2 {
            return None;
        }
        if data.len() > SELECTION_MAX_POINTS {
            // The identity's own error, unless a selection was the way out.
            return match identity {
                Err(PlanError::WidthTooSmall { .. } | PlanError::DepthTooSmall { .. }) => {
                    Some(Err(PlanError::SelectionTooManyPoints {
                        points: data.len(),
                        max: SELECTION_MAX_POINTS,
                    }))
                }
                _ => None,
            };
        }
        // The most rows within the budgets (fewer rows: narrower, and the
        // max trees are shallower).
        self.fits(1)?;
        let (mut lo, mut hi) = (1, kept.len() - 1);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if self.fits(mid).is_some() {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let max_rows = lo;
        let identity_parameters = identity.as_ref().ok().and_then(|plan| self.fits(plan.k()));
        let select = |target: f64| {
            let cover = cover_pairs(data.points.view(), &data.labels, kept, target, max_rows)?;
            Some((
                cover.complete,
                self.finish(self.selection(&cover.kept), "selection"),
            ))
        };
        match request.radius {
            RadiusSpec::Max => {
                if identity_parameters.is_some() {
                    return None;
                }
                // The highest target a cover within `max_rows` reaches: the
                // top one, else a bisection below it.
                let attempt = |fraction: f64| match select(fraction * request.delta)? {
                    (true, Ok(plan)) => Some(plan),
                    _ => None,
                };
                if let Some(plan) = attempt(SELECTION_TOP) {
                    return Some(Ok(plan));
                }
                let (mut lo, mut hi, mut best) = (0.0, SELECTION_TOP, None);
                for _ in 0..SELECTION_STEPS {
                    let mid = (lo + hi) / 2.0;
                    match attempt(mid) {
                        Some(plan) => {
                            lo = mid;
                            best = Some(plan);
                        }
                        None => hi = mid,
                    }
                }
                best.map(Ok)
            }
            RadiusSpec::Absolute(_) | RadiusSpec::OfLimit(_) => {
                // Room for the identity's rounding, which bounds the
                // selection's (fewer rows, the same coordinates).
                let allowance = match identity {
                    Ok(plan) => plan.rounding,
                    Err(_) => {
                        let ranges = self.selection_ranges(kept);
                        let largest = self.sizes.iter().copied().max().unwrap_or(1);
                        self.allowance(&self.selection(kept), &ranges, request.delta, largest)
                    }
                };
                let sigma = match request.radius {
                    RadiusSpec::Absolute(sigma) => sigma,
                    RadiusSpec::OfLimit(fraction) => fraction * request.delta / 2.0,
                    RadiusSpec::Max => return None,
                };
                let target = 2.0 * sigma + 2.0 * allowance;
                if target.is_nan() || target >= request.delta {
                    return None;
                }
                let (_, selected) = select(target)?;
                match (selected, identity_parameters) {
                    (Ok(plan), Some(parameters)) => self
                        .fits(plan.k())
                        .is_some_and(|p| p < parameters)
                        .then_some(Ok(plan)),
                    (Ok(plan), None) => Some(Ok(plan)),
                    // The identity's own error, unless the selection was
                    // the way out of a budget.
                    (Err(error), None) if identity.is_err() => Some(Err(error)),
                    _ => None,
                }
            }
        }
    }
}

/// Number of coordinates constant on the data.
fn constant_columns(data: &crate::data::Dataset) -> usize {
    (0..data.dim())
        .filter(|&k| {
            let column = data.points.column(k);
            column.iter().all(|&x| x == column[0])
        })
        .count()
}

/// The planned shape of a distance network, for size estimates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    /// d, the input dimension.
    pub dim: usize,
    /// K, the map's rows.
    pub k: usize,
    /// Width ([`distance_shape`]).
    pub width: usize,
    /// Depth ([`distance_shape`]).
    pub depth: usize,
}

impl Shape {
    /// The shape with `k` rows and `slots` running minima per class, for
    /// `output`.
    pub fn new(
        dim: usize,
        sizes: &[usize],
        k: usize,
        norm: DistanceNorm,
        slots: usize,
        output: OutputKind,
    ) -> Shape {
        let (width, depth) = distance_shape(sizes, k, norm, slots, output);
        Shape {
            dim,
            k,
            width,
            depth,
        }
    }

    /// Weights plus biases, every layer after the first counted as a dense
    /// `width x width` layer.
    pub fn parameters(&self) -> u64 {
        let (width, depth) = (self.width as u64, self.depth as u64);
        let first = (self.dim as u64 + 1) * self.k as u64;
        first + depth.saturating_sub(1) * width * (width + 1)
    }

    /// The ONNX file's size with `element` bytes per number, plus 200
    /// bytes of nodes and names per layer.
    pub fn bytes(&self, element: u64) -> u64 {
        self.parameters()
            .saturating_mul(element)
            .saturating_add(200 * self.depth as u64)
    }
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

/// Per column of `mapped`, its least and largest entry.
fn column_ranges(mapped: &Array2<f64>) -> Vec<(f64, f64)> {
    mapped
        .columns()
        .into_iter()
        .map(|column| extremes(column.iter().copied()))
        .collect()
}

/// The least and largest of `values` (infinite for none).
fn extremes(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    })
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
