//! What each construction can reach on a data set, before compiling
//! (`robmem check`): the largest radius it certifies in float32 and in
//! float64, or a bound on it.
//!
//! - distances (l1, l2 and linf): the planner's own supremum for each
//!   arithmetic ([`plan_distances`]), the radius `radius = max` certifies
//!   0.999 of; it needs only a separation and the closed-form rounding
//!   allowance;
//! - scores: the reach of the l2 route with the identity map,
//!   `delta_2 / (2 ||I||_{p->2})` (specs/construction.md section 3). On
//!   data of at most [`MAX_COORDINATES_FOR_ROUNDING`] coordinates (N d)
//!   the planner's rounding check ([`super::score_fit`]) then gives the
//!   largest radius that map certifies in each arithmetic; above, the
//!   real-arithmetic figure is given for both, which rounding only lowers.
//!   Another projection may reach more or less (compile searches them), so
//!   it is an estimate, not a promise.

use super::arithmetic::Arithmetic;
use super::distance_plan::{distance_norm_for, plan_distances, DistancePlan};
use super::plan::{Request, MAX_FRACTION};
use super::projection::{identity, Candidate, Projected};
use super::score_fit::ScoreFit;
use crate::analysis::separation::separation;
use crate::data::Dataset;
use crate::norm::Norm;
use crate::spec::{Budget, OutputKind, ProjectionChoice, RadiusSpec};

/// Above this many points the score estimate for l1, linf and `l(p)`
/// (which needs a separation in l2 besides the network's own) is skipped.
pub const MAX_POINTS_FOR_ESTIMATE: usize = 20_000;

/// Above this many coordinates (N d) the score estimate does not count
/// rounding (each bisection step assembles the identity map's scores, O(N d)).
pub const MAX_COORDINATES_FOR_ROUNDING: usize = 4_000_000;

/// One construction's reach, as a fraction of the limit delta_p / 2.
#[derive(Clone, Debug, PartialEq)]
pub struct Reach {
    /// `scores` or `distances`.
    pub construction: &'static str,
    /// In float32 (None: not computed).
    pub float32: Option<f64>,
    /// In float64.
    pub float64: Option<f64>,
    /// True when the figures are what compile certifies (up to the
    /// `radius = max` fraction), false when they are estimates.
    pub exact: bool,
    /// How the figures were obtained.
    pub how: String,
}

/// The reach of each construction that applies to `data` in `norm`, whose
/// separation is `delta` (two labels or more), for the network's `output`
/// (the distance label gadget leaves more room for rounding).
pub fn reach(data: &Dataset, norm: Norm, delta: f64, output: OutputKind) -> Vec<Reach> {
    let limit = delta / 2.0;
    let mut out = Vec::new();
    if data.classes.len() < 2 || limit.is_nan() || limit <= 0.0 || !limit.is_finite() {
        return out;
    }
    // The estimate for scores needs delta_2: a second separation for the
    // other norms, skipped on large data (check's main cost).
    let delta_2 = match norm {
        Norm::L2 => Some(delta),
        _ if data.len() <= MAX_POINTS_FOR_ESTIMATE => {
            Some(separation(data.points.view(), &data.labels, Norm::L2).delta)
        }
        _ => None,
    };
    let d = data.dim() as f64;
    let identity_bound = match norm {
        Norm::Linf => d.sqrt(),
        Norm::Lp(p) if p > 2.0 => d.powf(0.5 - 1.0 / p),
        _ => 1.0,
    };
    let scores = delta_2.map(|delta_2| (delta_2 / (2.0 * identity_bound) / limit).min(1.0));
    let counted = match delta_2 {
        Some(delta_2) if data.len() * data.dim() <= MAX_COORDINATES_FOR_ROUNDING => {
            let candidate = identity_candidate(data, norm, delta_2);
            let at = |arithmetic: Arithmetic| {
                let fit = ScoreFit::new(data, norm, output, arithmetic);
                // The supremum, as for distances (`radius = max` takes at
                // most MAX_FRACTION of it).
                let top = candidate.sigma_max * (1.0 - 1e-9);
                fit.largest_radius(&candidate, 1, top)
                    .map_or(0.0, |radius| (radius / limit).min(1.0))
            };
            Some((at(Arithmetic::FLOAT32), at(Arithmetic::FLOAT64)))
        }
        _ => None,
    };
    out.push(match (scores, counted) {
        (_, Some((float32, float64))) => Reach {
            construction: "scores",
            float32: Some(float32),
            float64: Some(float64),
            exact: false,
            how: format!(
                "estimate: identity map, rounding counted; radius = max takes up to {MAX_FRACTION} of it"
            ),
        },
        (Some(real), None) => Reach {
            construction: "scores",
            float32: Some(real),
            float64: Some(real),
            exact: false,
            how: format!(
                "estimate: identity map, real arithmetic (rounding is counted up to {MAX_COORDINATES_FOR_ROUNDING} coordinates)"
            ),
        },
        (None, None) => Reach {
            construction: "scores",
            float32: None,
            float64: None,
            exact: false,
            how: format!(
                "not estimated above {MAX_POINTS_FOR_ESTIMATE} points (an l2 separation); compile reports it"
            ),
        },
    });
    if distance_norm_for(norm).is_some() {
        let at = |arithmetic: Arithmetic| {
            plan_distances(&Request {
                data,
                norm,
                delta,
                radius: RadiusSpec::Max,
                width: Budget::Auto,
                depth: Budget::Auto,
                output,
                projection: ProjectionChoice::Identity,
                seed: 0,
                arithmetic,
                condense: crate::spec::CondenseChoice::None,
                memory: None,
            })
        };
        let (float32, float64) = (at(Arithmetic::FLOAT32), at(Arithmetic::FLOAT64));
        let ratio =
            |plan: &Result<DistancePlan, _>| plan.as_ref().ok().map(|p| p.sigma_max / limit);
        let how = match &float32 {
            Err(e) => format!("not planned: {e}"),
            Ok(plan) => format!(
                "planned: {}; radius = max takes 0.999 of it",
                match plan.strategy {
                    "directions" => format!("{} unit directions", plan.k()),
                    "selection" => format!("a selection of {} coordinates", plan.k()),
                    _ => "identity map".to_string(),
                }
            ),
        };
        out.push(Reach {
            construction: "distances",
            float32: ratio(&float32),
            float64: ratio(&float64),
            exact: true,
            how,
        });
    }
    out
}

/// The identity map's candidate, with the data's own l2 separation
/// `delta_2` as delta' (the centred points' separation differs from it only
/// by rounding; an estimate does not pay for a second separation).
fn identity_candidate(data: &Dataset, norm: Norm, delta_2: f64) -> Candidate {
    let projection = identity(data, norm);
    let projected = Projected {
        points: projection.transform(data.points.view()),
        delta: delta_2,
        pair: None,
    };
    let sigma_max = projection.sigma_max(&projected);
    Candidate {
        projection,
        projected,
        sigma_max,
    }
}
