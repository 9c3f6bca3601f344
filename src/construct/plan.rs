//! Planning: from the spec's radius and budgets to the concrete choices of
//! the construction — the projection (strategy and projected dimension m),
//! the radius sigma, and the number of accumulators per class.
//!
//! The width and depth of the network follow from these choices by the
//! formulas below (upper bounds on what lowering produces):
//! - logits (section 5A), k accumulators per class: width `m + 2 S(k)` with
//!   `S(k) = sum_c min(k, N_c)`, depth `1 + max(1, L - 1) + ceil(log2 k') + 1`
//!   where `L` is the longest slot and `k'` the most slots of one class;
//! - label (section 5B): width at most `m + LABEL_OVERHEAD`; the depth grows
//!   with N and does not depend on the width.
//!
//! k is the most that fit a width budget; otherwise the number, within the
//! depth budget, that gives the fewest hidden weights
//! ([`smallest_network_slots`]).
//!
//! `radius = max` takes [`MAX_FRACTION`] of the supremum `sigma_max` that the
//! chosen projection certifies: at `sigma_max` itself the margin gamma is 0.
//!
//! The planner knows the arithmetic the network will be evaluated in
//! ([`Request::arithmetic`]): a candidate is accepted only when the network
//! it builds is certified in it once rounding is counted
//! ([`super::score_fit`]), so compile builds once. For a fixed radius the
//! projection search looks for the narrowest map whose network fits; for
//! `radius = max` the radius is the largest the chosen map's network
//! certifies in the arithmetic, up to [`MAX_FRACTION`] of `sigma_max`.

use super::arithmetic::Arithmetic;
use super::condense::condense;
use super::projection::{
    best_for_width, identity, pca, random, smallest_m_for_radius_with, span, Candidate, Considered,
    ProjectionError, SearchMemory,
};
use super::score_fit::ScoreFit;
use crate::data::Dataset;
use crate::ir::stages::Covering;
use crate::norm::Norm;
use crate::spec::{Budget, CondenseChoice, OutputKind, ProjectionChoice, RadiusSpec};

/// `radius = max` certifies this fraction of the projection's `sigma_max`.
pub const MAX_FRACTION: f64 = 0.99;

/// Extra neurons of the label gadget beyond the m projected coordinates:
/// two step neurons, the best-score increase, the best score, two label
/// halves, an accumulator and a comparison of the running group, and one
/// finished group waiting for its step.
pub const LABEL_OVERHEAD: usize = 9;

/// What to plan for.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The data set.
    pub data: &'a Dataset,
    /// The perturbation norm.
    pub norm: Norm,
    /// delta_p, the exact separation of the data in `norm`.
    pub delta: f64,
    /// The radius as the spec asks for it.
    pub radius: RadiusSpec,
    /// Width budget.
    pub width: Budget,
    /// Depth budget.
    pub depth: Budget,
    /// Logits or label.
    pub output: OutputKind,
    /// Projection strategy.
    pub projection: ProjectionChoice,
    /// Seed for random projections.
    pub seed: u64,
    /// The arithmetic the network must be certified in.
    pub arithmetic: Arithmetic,
    /// Whether a score network may keep scores for prototypes only.
    pub condense: CondenseChoice,
    /// What earlier plans for the same data and norm learnt (the PCA basis,
    /// close pairs), to reuse and fill; `None`: nothing kept.
    pub memory: Option<&'a SearchMemory<'a>>,
}

/// The planner's choices.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The projection with the projected data and its `sigma_max`.
    pub candidate: Candidate,
    /// The radius sigma to certify (`< candidate.sigma_max`).
    pub radius: f64,
    /// Accumulators per class (logits; 1 for label).
    pub slots_per_class: usize,
    /// Strategies compared when the choice was `auto` at a fixed m (for reports).
    pub considered: Vec<Considered>,
    /// Condensed networks: per point, the prototype whose score covers it
    /// ([`super::condense`]); `None`: every point keeps its score.
    pub covering: Option<Covering>,
}

impl Plan {
    /// Points that keep a score, per class.
    pub fn scored_sizes(&self, data: &Dataset) -> Vec<usize> {
        match &self.covering {
            Some(covering) => covering.sizes(&data.labels, data.classes.len()),
            None => data.class_sizes(),
        }
    }
}

/// Why no network meets the request. Every variant carries the figures a
/// user needs to change the spec.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    /// sigma >= delta_p / 2: no function at all memorizes robustly.
    #[error("radius {radius} is not below the limit delta/2 = {limit}")]
    RadiusAtLimit {
        /// The requested radius.
        radius: f64,
        /// delta_p / 2.
        limit: f64,
    },
    /// A single label: no two points differ in label, so there is no limit
    /// delta/2 for `radius = max` or `F of limit` to refer to.
    #[error(
        "every point has the same label, so there is no limit delta/2 for this radius to refer to"
    )]
    NoLimit,
    /// The radius is below the limit but the construction cannot certify it
    /// within the width budget.
    #[error("{}", not_certified(*radius, *width, *best_radius, *smallest_width))]
    RadiusNotCertified {
        /// The requested radius.
        radius: f64,
        /// The width budget, if any.
        width: Option<usize>,
        /// The supremum of the radii the budget (or any width) certifies.
        best_radius: f64,
        /// The smallest width that certifies `radius`, if any.
        smallest_width: Option<usize>,
    },
    /// The width budget leaves no room for the projected coordinates.
    #[error("width {width} is too small: this network needs at least {needed}")]
    WidthTooSmall {
        /// The budget.
        width: usize,
        /// The smallest width that works.
        needed: usize,
    },
    /// No network of this kind fits the depth budget.
    #[error("depth {depth} is too small: the shallowest network needs depth {needed}{}",
        width.map(|w| format!(" (at width {w})")).unwrap_or_default())]
    DepthTooSmall {
        /// The budget.
        depth: usize,
        /// The smallest depth that works.
        needed: usize,
        /// The width of that shallowest network, when the width decides it.
        width: Option<usize>,
    },
    /// The radius is certified in real arithmetic, but rounding in the
    /// network's arithmetic could exceed the margin at it (or, for
    /// `radius = max`, at every radius): either construction.
    #[error("{}", not_in_arithmetic(*radius, precision, *best_radius, *smallest_width))]
    NotInArithmetic {
        /// The requested radius (`None` for `radius = max`).
        radius: Option<f64>,
        /// `float32` or `float64`.
        precision: &'static str,
        /// The radius `radius = max` certifies in this arithmetic within
        /// the budgets (0 when none).
        best_radius: f64,
        /// The smallest width whose network certifies the radius in this
        /// arithmetic, when a width budget is set and one does.
        smallest_width: Option<usize>,
    },
    /// The projection strategy does not apply (for example span with N - 1 >= d).
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    /// `construction = distances` with a norm whose balls the distance
    /// construction does not measure exactly.
    #[error("construction = distances builds l1, l2 and linf networks, not {norm}")]
    DistancesNeedPolyhedralNorm {
        /// The network's norm.
        norm: String,
    },
    /// The l2 distance map keeps every differently-labelled pair in memory.
    #[error("construction = distances maps l2 balls for at most {max} points, and the data has {points}")]
    DirectionsTooManyPoints {
        /// N.
        points: usize,
        /// The most it handles.
        max: usize,
    },
    /// The identity map does not fit the budgets, and the l_inf coordinate
    /// selection that would narrow the network handles fewer points.
    #[error("the identity map does not fit the width or depth budget, and the linf coordinate selection that would narrow the network handles at most {max} points (the data has {points}): raise `width` or `depth`, or use construction = scores")]
    SelectionTooManyPoints {
        /// N.
        points: usize,
        /// The most it handles.
        max: usize,
    },
}

fn not_certified(
    radius: f64,
    width: Option<usize>,
    best_radius: f64,
    smallest_width: Option<usize>,
) -> String {
    match (width, smallest_width) {
        (Some(w), Some(needed)) => format!(
            "radius {radius} cannot be certified within width {w}: the largest radius width {w} \
             certifies is {best_radius}; width {needed} certifies {radius}"
        ),
        (Some(w), None) => format!(
            "radius {radius} cannot be certified within width {w}: the largest radius width {w} \
             certifies is {best_radius}, and no width certifies {radius} with this construction"
        ),
        (None, _) => format!(
            "radius {radius} cannot be certified at any width: the largest radius this \
             construction certifies for these points is {best_radius}"
        ),
    }
}

fn not_in_arithmetic(
    radius: Option<f64>,
    precision: &str,
    best_radius: f64,
    smallest_width: Option<usize>,
) -> String {
    let cause = format!("{precision} rounding could exceed the network's margin");
    let wider = smallest_width
        .map(|w| format!("; width {w} certifies it in {precision}"))
        .unwrap_or_default();
    let message = match radius {
        Some(radius) if best_radius > 0.0 => format!(
            "radius {radius} is certified in real arithmetic but not in {precision}: {cause}; \
             the largest radius it certifies in {precision} within the budgets is {best_radius}"
        ),
        Some(radius) => format!(
            "radius {radius} is certified in real arithmetic but not in {precision}: {cause} at every radius"
        ),
        None => format!("no radius is certified in {precision}: {cause} at every radius"),
    };
    message + &wider
}

/// Chooses the projection, the radius and the accumulators for `request`.
pub fn plan(request: &Request<'_>) -> Result<Plan, PlanError> {
    let sizes = request.data.class_sizes();
    let limit = request.delta / 2.0;
    let target = match request.radius {
        RadiusSpec::Max => None,
        RadiusSpec::Absolute(sigma) => Some(sigma),
        RadiusSpec::OfLimit(fraction) => Some(fraction * limit),
    };
    if sizes.len() < 2 && !matches!(request.radius, RadiusSpec::Absolute(_)) {
        return Err(PlanError::NoLimit);
    }
    if let Some(sigma) = target {
        if sigma >= limit {
            return Err(PlanError::RadiusAtLimit {
                radius: sigma,
                limit,
            });
        }
    }
    let fewest_slots = fewest_slots(request, &sizes)?;
    let overhead = overhead(request.output, &sizes, fewest_slots);
    let m_cap = match request.width {
        Budget::Auto => request.data.dim(),
        Budget::AtMost(width) => {
            width
                .checked_sub(overhead)
                .filter(|&m| m >= 1)
                .ok_or(PlanError::WidthTooSmall {
                    width,
                    needed: overhead + 1,
                })?
        }
    };
    // More accumulators make the network shallower; a width budget takes
    // as many as fit beside the m projected coordinates, `width = auto` the
    // number that makes the network smallest.
    let slots_for = |m: usize| match (request.output, request.width) {
        (OutputKind::Logits, Budget::AtMost(width)) => widest_slots(&sizes, m, width, fewest_slots),
        (OutputKind::Logits, Budget::Auto) => {
            smallest_network_slots(&sizes, m, fewest_slots, request.depth)
        }
        _ => fewest_slots,
    };
    let fit = ScoreFit::new(
        request.data,
        request.norm,
        request.output,
        request.arithmetic,
    );
    // The largest radius up to `radius = max`'s that `candidate` certifies
    // in the arithmetic.
    let largest_in_arithmetic = |candidate: &Candidate| {
        let slots = slots_for(candidate.projection.m());
        fit.largest_radius(candidate, slots, MAX_FRACTION * candidate.sigma_max)
    };
    let (candidate, considered, radius) = match target {
        Some(sigma) => {
            let fits = |c: &Candidate| fit.fits(c, slots_for(c.projection.m()), sigma);
            match narrowest_for(request, sigma, m_cap, overhead, &fits) {
                Ok(candidate) => (candidate, Vec::new(), sigma),
                Err(PlanError::RadiusNotCertified { smallest_width, .. }) => {
                    // Rounding is the cause only when real arithmetic
                    // certifies sigma within the budget.
                    narrowest_for(request, sigma, m_cap, overhead, &|_| true)?;
                    let best = best_at(request, m_cap)?.0;
                    return Err(PlanError::NotInArithmetic {
                        radius: Some(sigma),
                        precision: request.arithmetic.name(),
                        best_radius: largest_in_arithmetic(&best).unwrap_or(0.0),
                        smallest_width,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        None => {
            let (candidate, considered) = best_at(request, m_cap)?;
            let radius = largest_in_arithmetic(&candidate).ok_or(PlanError::NotInArithmetic {
                radius: None,
                precision: request.arithmetic.name(),
                best_radius: 0.0,
                smallest_width: None,
            })?;
            (candidate, considered, radius)
        }
    };
    let slots_per_class = slots_for(candidate.projection.m());
    // Section 5C: at the same radius and accumulators, prototypes only
    // when the condensed network passes the same rounding check.
    let covering = match request.condense {
        CondenseChoice::Auto => condense(&fit, &candidate, slots_per_class, radius),
        CondenseChoice::None => None,
    };
    Ok(Plan {
        candidate,
        radius,
        slots_per_class,
        considered,
        covering,
    })
}

/// Hidden neurons beyond the m projected coordinates.
pub fn overhead(output: OutputKind, sizes: &[usize], slots_per_class: usize) -> usize {
    match output {
        OutputKind::Logits => 2 * sizes.iter().map(|&n| n.min(slots_per_class)).sum::<usize>(),
        OutputKind::Label => LABEL_OVERHEAD,
    }
}

/// Depth of the logits network with `k` accumulators per class.
pub fn logits_depth(sizes: &[usize], k: usize) -> usize {
    let longest = sizes
        .iter()
        .map(|&n| n.div_ceil(n.min(k).max(1)))
        .max()
        .unwrap_or(1);
    let tree = sizes
        .iter()
        .map(|&n| ceil_log2(n.min(k)))
        .max()
        .unwrap_or(0);
    1 + longest.saturating_sub(1).max(1) + tree + 1
}

fn ceil_log2(n: usize) -> usize {
    if n <= 1 {
        0
    } else {
        (usize::BITS - (n - 1).leading_zeros()) as usize
    }
}

/// The fewest accumulators per class that meet the depth budget (1 without
/// one). The label gadget has one accumulator; its depth is checked after
/// lowering.
fn fewest_slots(request: &Request<'_>, sizes: &[usize]) -> Result<usize, PlanError> {
    let (Budget::AtMost(depth), OutputKind::Logits) = (request.depth, request.output) else {
        return Ok(1);
    };
    let largest = sizes.iter().copied().max().unwrap_or(1);
    if let Some(k) = (1..=largest).find(|&k| logits_depth(sizes, k) <= depth) {
        return Ok(k);
    }
    let needed = (1..=largest)
        .map(|k| logits_depth(sizes, k))
        .min()
        .expect("at least one class");
    Err(PlanError::DepthTooSmall {
        depth,
        needed,
        width: None,
    })
}

/// The most accumulators per class that fit the width budget at projected
/// dimension m (more accumulators make the network shallower).
fn widest_slots(sizes: &[usize], m: usize, width: usize, fewest: usize) -> usize {
    let largest = sizes.iter().copied().max().unwrap_or(1);
    (fewest..=largest)
        .take_while(|&k| m + overhead(OutputKind::Logits, sizes, k) <= width)
        .last()
        .unwrap_or(fewest)
}

/// The accumulators per class, at least `fewest` and within the depth
/// budget, that give the logits network at projected dimension m the fewest
/// hidden weights ([`hidden_weights`]); the smallest such number on ties.
///
/// A layer carries the m coordinates beside two neurons per accumulator, so
/// k accumulators cost about `(L / k) (m + 2 C k)^2` weights for classes of
/// L points: the best k is near `m / (2 C)`. When m is at most about three
/// times the number of classes, one accumulator per class is smallest.
pub fn smallest_network_slots(sizes: &[usize], m: usize, fewest: usize, depth: Budget) -> usize {
    let largest = sizes.iter().copied().max().unwrap_or(1);
    let within_depth = |k: &usize| match depth {
        Budget::AtMost(depth) => logits_depth(sizes, *k) <= depth,
        Budget::Auto => true,
    };
    (fewest..=largest.max(fewest))
        .filter(within_depth)
        .min_by_key(|&k| (hidden_weights(sizes, m, k), k))
        .unwrap_or(fewest)
}

/// Weights and biases of the logits network's hidden-to-hidden layers
/// with k accumulators per class at projected dimension m, as the planner
/// estimates them: every layer after the first as wide as the widest
/// (width `m + overhead`, depth [`logits_depth`]).
pub fn hidden_weights(sizes: &[usize], m: usize, k: usize) -> u128 {
    let width = m + overhead(OutputKind::Logits, sizes, k);
    hidden_layer_weights(width, logits_depth(sizes, k))
}

/// Weights and biases of the layers after the first of a network `depth`
/// layers deep whose every layer after the first is `width` wide:
/// `(depth - 1) width (width + 1)`.
pub fn hidden_layer_weights(width: usize, depth: usize) -> u128 {
    let (width, depth) = (width as u128, depth as u128);
    depth.saturating_sub(1) * width * (width + 1)
}

/// The candidate of the requested strategy at projected dimension at most
/// `m_cap` that certifies the largest radius.
fn best_at(request: &Request<'_>, m_cap: usize) -> Result<(Candidate, Vec<Considered>), PlanError> {
    let Request {
        data, norm, seed, ..
    } = *request;
    let d = data.dim();
    let single = |projection| Candidate::evaluate(projection, data);
    let candidate = match request.projection {
        ProjectionChoice::Auto => {
            let choice = best_for_width(data, norm, m_cap, seed, None)?;
            return Ok((choice.best, choice.considered));
        }
        ProjectionChoice::Identity if m_cap < d => {
            return Err(PlanError::WidthTooSmall {
                width: m_cap,
                needed: d,
            })
        }
        ProjectionChoice::Identity => single(identity(data, norm)),
        ProjectionChoice::Span => {
            let projection = span(data, norm)?;
            if projection.m() > m_cap {
                return Err(PlanError::WidthTooSmall {
                    width: m_cap,
                    needed: projection.m(),
                });
            }
            single(projection)
        }
        ProjectionChoice::Pca => single(pca(data, m_cap.min(d), norm)?),
        ProjectionChoice::Random => single(random(data, m_cap.min(d), seed, 0, norm)?),
    };
    Ok((candidate, Vec::new()))
}

/// The narrowest candidate that certifies `sigma` within `m_cap` and that
/// `accept` accepts (the network fits the arithmetic), or an error naming
/// the best radius at `m_cap` and the smallest width that would certify
/// `sigma`.
fn narrowest_for(
    request: &Request<'_>,
    sigma: f64,
    m_cap: usize,
    overhead: usize,
    accept: &dyn Fn(&Candidate) -> bool,
) -> Result<Candidate, PlanError> {
    let Request {
        data, norm, seed, ..
    } = *request;
    let own;
    let memory = match request.memory {
        Some(memory) => memory,
        None => {
            own = SearchMemory::new(data, norm);
            &own
        }
    };
    let search = |m_max: usize| {
        smallest_m_for_radius_with(
            data,
            norm,
            request.projection,
            sigma,
            seed,
            m_max,
            memory,
            accept,
        )
    };
    if let Some(candidate) = search(m_cap) {
        return Ok(candidate);
    }
    // A strategy that does not apply (span with N - 1 >= d, identity in a
    // width below d) is the cause to report, not a best radius of 0.
    let best_radius = best_at(request, m_cap)?.0.sigma_max;
    let budget = match request.width {
        Budget::AtMost(width) => Some(width),
        Budget::Auto => None,
    };
    let smallest_width = match budget {
        Some(_) => {
            let widest = data.dim().max(m_cap);
            search(widest).map(|c| c.projection.m() + overhead)
        }
        None => None,
    };
    Err(PlanError::RadiusNotCertified {
        radius: sigma,
        width: budget,
        best_radius,
        smallest_width,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The k that the brute-force minimum of [`hidden_weights`] picks, for
    /// comparison with the closed-form guide `m / (2 C)`.
    fn brute_best(sizes: &[usize], m: usize) -> usize {
        let largest = *sizes.iter().max().unwrap();
        (1..=largest)
            .min_by_key(|&k| (hidden_weights(sizes, m, k), k))
            .unwrap()
    }

    #[test]
    fn few_coordinates_per_class_keep_one_accumulator() {
        // Digits at 0.5 of the limit: m = 13, ten classes near 180 points.
        let sizes = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];
        assert_eq!(smallest_network_slots(&sizes, 13, 1, Budget::Auto), 1);
        assert_eq!(smallest_network_slots(&[50, 50, 50], 4, 1, Budget::Auto), 1);
    }

    #[test]
    fn many_coordinates_per_class_take_the_smallest_network() {
        // The 60,000 x 784 bench shape: m = 113, ten classes of 6,000.
        let sizes = [6000; 10];
        let k = smallest_network_slots(&sizes, 113, 1, Budget::Auto);
        assert_eq!(k, brute_best(&sizes, 113));
        assert!((4..=8).contains(&k), "k = {k}, m / 2C = 5.65");
        let (one, best) = (
            hidden_weights(&sizes, 113, 1),
            hidden_weights(&sizes, 113, k),
        );
        assert!(
            10 * best < 6 * one,
            "{best} weights at k = {k}, {one} at k = 1"
        );
        // Uneven classes: still the brute-force minimum.
        let uneven = [3, 900, 40, 2500];
        let k = smallest_network_slots(&uneven, 60, 1, Budget::Auto);
        assert_eq!(k, brute_best(&uneven, 60));
        assert!(k > 1);
    }

    #[test]
    fn depth_budget_and_fewest_bound_the_choice() {
        let sizes = [6000; 10];
        // The depth budget's fewest accumulators is a lower bound.
        let fewest = (1..).find(|&k| logits_depth(&sizes, k) <= 300).unwrap();
        let k = smallest_network_slots(&sizes, 113, fewest, Budget::AtMost(300));
        assert!(k >= fewest && logits_depth(&sizes, k) <= 300);
        // Small m: the budget, not the size, decides.
        let k = smallest_network_slots(&sizes, 4, fewest, Budget::AtMost(300));
        assert_eq!(k, fewest);
        // A class smaller than fewest: fewest is still returned.
        assert_eq!(smallest_network_slots(&[2, 3], 50, 7, Budget::Auto), 7);
    }
}
