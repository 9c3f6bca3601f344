//! The claims of a certificate, checked one by one against the model and
//! the data ([`verify`]), and the same computation used to *make* a
//! certificate's claims ([`Claims::compute`]).

use super::analyse::{Analysis, AnalysisError, AtRadius, Inputs, PNorm};
use super::certificate::{data_sha256, Certificate, RoundingClaim, Semantics};
use super::distances::claims::{distance_claims, verify_distances};
use super::distances::DistanceNorm;
use super::gadgets::parse_roles;
use super::model::{Element, Model};
use ndarray::ArrayView2;
use serde::Serialize;

/// One claim and whether it held.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Claim {
    /// Short name, e.g. `margins (float32)`.
    pub claim: String,
    /// Whether it held.
    pub held: bool,
    /// What was compared.
    pub detail: String,
}

/// The outcome of checking a certificate.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Verification {
    /// Every claim, in checking order.
    pub claims: Vec<Claim>,
}

impl Verification {
    /// Whether every claim held.
    pub fn holds(&self) -> bool {
        !self.claims.is_empty() && self.claims.iter().all(|c| c.held)
    }

    /// Records one claim; returns `held`.
    pub(crate) fn push(&mut self, claim: &str, held: bool, detail: impl Into<String>) -> bool {
        self.claims.push(Claim {
            claim: claim.to_string(),
            held,
            detail: detail.into(),
        });
        held
    }
}

/// The data a certificate is about, as loaded.
pub struct Data<'a> {
    /// N x d points.
    pub points: ArrayView2<'a, f64>,
    /// Each point's label, as the JSON value the certificate lists.
    pub labels: &'a [serde_json::Value],
}

/// The floating-point semantics examined for a model's element type.
pub fn float_semantics(model: &Model) -> Vec<Semantics> {
    match model.element {
        Element::F32 => vec![Semantics::Float32, Semantics::Float64],
        Element::F64 => vec![Semantics::Float64],
    }
}

/// Label index of each point, by position in the certificate's label list.
pub(crate) fn label_indices(
    labels: &[serde_json::Value],
    names: &[serde_json::Value],
) -> Result<Vec<usize>, String> {
    labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            names.iter().position(|n| n == label).ok_or_else(|| {
                format!("point {i} has label {label}, which is not among the certificate's labels")
            })
        })
        .collect()
}

/// Checks every claim of `cert` against `model` (whose file hashes to
/// `model_sha256`) and `data`.
pub fn verify(
    cert: &Certificate,
    model: &Model,
    model_sha256: &str,
    data: &Data<'_>,
) -> Verification {
    let mut v = Verification::default();
    v.push(
        "model file",
        model_sha256 == cert.model.sha256,
        format!(
            "sha256 {model_sha256}, certificate says {}",
            cert.model.sha256
        ),
    );
    let (n, d) = data.points.dim();
    let hash = data_sha256(data.points, data.labels);
    v.push(
        "data",
        hash == cert.data.sha256 && n == cert.data.points && d == cert.data.dim,
        format!(
            "{n} points of dimension {d}, sha256 {hash}; certificate says {} x {}, {}",
            cert.data.points, cert.data.dim, cert.data.sha256
        ),
    );
    let Some(norm) = PNorm::parse(&cert.norm) else {
        v.push(
            "norm",
            false,
            format!("`{}` is not l1, l2, linf or l(p)", cert.norm),
        );
        return v;
    };
    let label_values = (cert.output.kind == "label").then(|| cert.output.label_values());
    let convention = match cert.output.kind.as_str() {
        "logits" => model.outputs() == cert.output.labels.len(),
        "label" => model.outputs() == 1 && cert.output.labels.len() >= 2,
        _ => false,
    };
    if !v.push(
        "output convention",
        convention,
        format!(
            "`{}` with {} labels; the model has {} outputs",
            cert.output.kind,
            cert.output.labels.len(),
            model.outputs()
        ),
    ) {
        return v;
    }
    let labels = match label_indices(data.labels, &cert.output.labels) {
        Ok(l) => l,
        Err(e) => {
            v.push("labels", false, e);
            return v;
        }
    };
    if !(cert.radius.is_finite() && cert.radius >= 0.0) {
        v.push("radius", false, format!("{} is not a radius", cert.radius));
        return v;
    }
    // Distance networks (section 10) have a checker of their own; a
    // certificate without these fields is a score network, checked below.
    if cert.construction.is_some() || cert.distance_norm.is_some() {
        verify_distances(&mut v, cert, model, data, &labels, norm);
        return v;
    }
    let roles = match parse_roles(&cert.layers) {
        Ok(r) => r,
        Err(e) => {
            v.push("gadgets", false, e.to_string());
            return v;
        }
    };
    let floats = float_semantics(model);
    let inputs = Inputs {
        model,
        roles: &roles,
        points: data.points.view(),
        labels: &labels,
        own_scores: &cert.points.score,
        norm,
        max_radius: cert.radius,
        shift: &cert.projection.shift,
        score_offset: cert.projection.score_offset,
        float_semantics: &floats,
        label_values: label_values.as_deref(),
    };
    let analysis = match Analysis::new(&inputs) {
        Ok(a) => a,
        Err(AnalysisError::Gadget(e)) => {
            v.push("gadgets", false, e.to_string());
            return v;
        }
        Err(AnalysisError::Mismatch(e)) => {
            v.push("points and scores", false, e);
            return v;
        }
    };
    let recognised = match &analysis.structure.label {
        Some(gadget) => format!(
            "{} layers recognised: {} scores in running maxima, {} groups closed by steps, {} label-register rows",
            model.layers.len(),
            analysis.structure.leaves.len(),
            gadget.steps.len(),
            gadget.rows.len()
        ),
        None => format!(
            "{} layers recognised: {} scores in running maxima, outputs alpha max + beta with alpha = {}",
            model.layers.len(),
            analysis.structure.leaves.len(),
            analysis.structure.output_scale
        ),
    };
    v.push("gadgets", true, recognised);
    if let Some(prototype) = &cert.points.prototype {
        check_prototypes(&mut v, prototype, &cert.points.score, &labels);
    }
    if let Some(t) = analysis.label_tolerance() {
        check_tolerance(&mut v, cert, t);
    }
    let at = analysis.at_radius(cert.radius);
    check_claims(&mut v, cert, &analysis, &at);
    v
}

/// The `prototypes` claim of a condensed network (specs/certificate.md
/// section 3.2): every point's prototype has its label, is its own
/// prototype, and the point names its prototype's score neuron, which no
/// other prototype names. Whether the prototype's score covers the point's
/// ball is the margins claim's business.
fn check_prototypes(
    v: &mut Verification,
    prototype: &[usize],
    score: &[[usize; 2]],
    labels: &[usize],
) {
    let mut owners: std::collections::HashMap<[usize; 2], usize> = Default::default();
    let length = (prototype.len() != labels.len()).then(|| {
        format!(
            "{} prototype indices for {} points",
            prototype.len(),
            labels.len()
        )
    });
    let problem = length.or_else(|| (0..prototype.len()).find_map(|i| {
        let p = *prototype.get(i)?;
        if p >= labels.len() || i >= score.len() || p >= score.len() {
            return Some(format!("point {i}: prototype {p} is not a data point with a score"));
        }
        if labels[p] != labels[i] {
            return Some(format!(
                "point {i} has label index {}, its prototype {p} has label index {}",
                labels[i], labels[p]
            ));
        }
        if prototype[p] != p {
            return Some(format!(
                "point {i} names point {p} as its prototype, but point {p} has no score neuron of its own (its prototype is point {})",
                prototype[p]
            ));
        }
        if score[i] != score[p] {
            return Some(format!(
                "point {i} names prototype {p}, whose score is introduced at layer {}, neuron {}, but its own score at layer {}, neuron {}",
                score[p][0], score[p][1], score[i][0], score[i][1]
            ));
        }
        if i == p {
            if let Some(other) = owners.insert(score[p], p) {
                return Some(format!(
                    "prototypes {other} and {p} name the same score neuron (layer {}, neuron {})",
                    score[p][0], score[p][1]
                ));
            }
        }
        None
    }));
    let count = prototype
        .iter()
        .enumerate()
        .filter(|(i, p)| i == *p)
        .count();
    v.push(
        "prototypes",
        problem.is_none(),
        problem.unwrap_or_else(|| {
            format!(
                "{count} prototypes of the points' own labels, each with a score neuron of its own, cover the {} points",
                prototype.len()
            )
        }),
    );
}

fn check_claims(v: &mut Verification, cert: &Certificate, analysis: &Analysis, at: &AtRadius) {
    v.push(
        "projection bound",
        analysis.norm_bound <= cert.projection.norm_bound,
        format!(
            "||W||_{{{}->2}} <= {} recomputed; certificate says {}",
            cert.norm, analysis.norm_bound, cert.projection.norm_bound
        ),
    );
    v.push(
        "first layer exact",
        at.first_layer_exact.is_none(),
        at.first_layer_exact
            .clone()
            .unwrap_or_else(|| "every first-layer pre-activation is >= 0 on every ball".into()),
    );
    v.push(
        "delta'",
        analysis.delta_prime >= cert.separation.delta_prime,
        format!(
            "scores of different labels are >= {} apart; certificate says {}",
            analysis.delta_prime, cert.separation.delta_prime
        ),
    );
    v.push(
        "2r < delta'",
        at.projected_radius <= cert.separation.projected_radius
            && 2.0 * at.projected_radius < analysis.delta_prime
            && at.gamma >= cert.separation.gamma
            && at.gamma > 0.0,
        format!(
            "r = {} (certificate {}), gamma = {} (certificate {})",
            at.projected_radius, cert.separation.projected_radius, at.gamma, cert.separation.gamma
        ),
    );
    if cert.semantics.is_empty() {
        v.push("semantics", false, "the certificate claims no semantics");
    }
    for &sem in &cert.semantics {
        let name = sem.name();
        let Some(result) = at.semantics.iter().find(|s| s.semantics == sem) else {
            v.push(
                &format!("margins ({name})"),
                false,
                "this model's element type cannot be evaluated in that arithmetic",
            );
            continue;
        };
        if let Some(reason) = &result.negative_accumulator {
            v.push(&format!("accumulators ({name})"), false, reason.clone());
        } else {
            v.push(
                &format!("accumulators ({name})"),
                true,
                "every running maximum's first score is >= 0 on every ball",
            );
        }
        if let Some(t) = analysis.label_tolerance() {
            check_distances(
                v,
                cert,
                &analysis.labels,
                &LabelDistances {
                    semantics: result.semantics,
                    distances: &result.distances,
                    unbounded: result.unbounded.as_deref(),
                },
                t,
            );
            continue;
        }
        let claimed = cert.points.margin.get(&sem);
        let bad = match claimed {
            None => Some("the certificate lists no margins".to_string()),
            Some(c) if c.len() != result.margins.len() => Some(format!(
                "{} margins for {} points",
                c.len(),
                result.margins.len()
            )),
            Some(c) => c
                .iter()
                .zip(&result.margins)
                .enumerate()
                .find(|(_, (&claim, &got))| !(got > 0.0 && got >= claim))
                .map(|(i, (claim, got))| {
                    format!(
                        "point {i} (label {}): margin {got} recomputed, certificate says {claim}",
                        cert.output.labels[analysis.labels[i]]
                    )
                }),
        };
        let least = result.margins.iter().cloned().fold(f64::INFINITY, f64::min);
        v.push(
            &format!("margins ({name})"),
            bad.is_none(),
            bad.unwrap_or_else(|| format!("every point's margin holds; the smallest is {least}")),
        );
        if sem != Semantics::Real {
            let claim = cert.rounding.get(&sem);
            let held = claim.is_some_and(|c| {
                c.first_layer >= result.first_layer_error && c.output >= result.output_error
            });
            v.push(
                &format!("rounding ({name})"),
                held,
                format!(
                    "first layer <= {}, outputs <= {}; certificate says {}",
                    result.first_layer_error,
                    result.output_error,
                    claim.map_or("nothing".to_string(), |c| format!(
                        "{} and {}",
                        c.first_layer, c.output
                    ))
                ),
            );
        }
    }
}

/// The `tolerance` claim of a label network: `0 < output.tolerance <= t`.
pub(crate) fn check_tolerance(v: &mut Verification, cert: &Certificate, t: f64) {
    let claimed = cert.output.tolerance;
    v.push(
        "tolerance",
        claimed.is_some_and(|c| c <= t && c > 0.0),
        format!(
            "t = {t} recomputed from the label values; certificate says {}",
            claimed.map_or("nothing".to_string(), |c| c.to_string())
        ),
    );
}

/// A label network's recomputed distances in one arithmetic.
pub(crate) struct LabelDistances<'a> {
    /// The arithmetic.
    pub semantics: Semantics,
    /// Per point, an upper bound on `|out - v_i|` over the ball.
    pub distances: &'a [f64],
    /// Why some distance is infinite.
    pub unbounded: Option<&'a str>,
}

/// Label networks: every point's claimed distance is at least the
/// recomputed one and below the tolerance.
pub(crate) fn check_distances(
    v: &mut Verification,
    cert: &Certificate,
    labels: &[usize],
    result: &LabelDistances<'_>,
    tolerance: f64,
) {
    let name = result.semantics.name();
    let claimed = cert.points.distance.get(&result.semantics);
    let t = cert.output.tolerance.unwrap_or(0.0).min(tolerance);
    let bad = match claimed {
        None => Some("the certificate lists no distances".to_string()),
        Some(c) if c.len() != result.distances.len() => Some(format!(
            "{} distances for {} points",
            c.len(),
            result.distances.len()
        )),
        Some(c) => c
            .iter()
            .zip(result.distances)
            .enumerate()
            .find(|(_, (&claim, &got))| !(got <= claim && claim < t))
            .map(|(i, (claim, got))| {
                let why = if got.is_infinite() {
                    result.unbounded.unwrap_or_default().to_string()
                } else {
                    format!("distance {got} recomputed")
                };
                format!(
                    "point {i} (label {}): {why}; certificate says {claim}, tolerance {t}",
                    cert.output.labels[labels[i]]
                )
            }),
    };
    let most = result.distances.iter().cloned().fold(0.0, f64::max);
    v.push(
        &format!("distances ({name})"),
        bad.is_none(),
        bad.unwrap_or_else(|| {
            format!("every point's output stays within its distance of its label; the largest is {most}, below t = {t}")
        }),
    );
}

/// The claims `compile` writes, computed by the same analysis `verify` runs.
#[derive(Clone, Debug)]
pub struct Claims {
    /// Certified radius.
    pub radius: f64,
    /// Semantics for which everything holds.
    pub semantics: Vec<Semantics>,
    /// Recomputed projection bound.
    pub norm_bound: f64,
    /// Recomputed delta'.
    pub delta_prime: f64,
    /// r.
    pub projected_radius: f64,
    /// gamma.
    pub gamma: f64,
    /// Rounding bounds per floating-point semantics claimed.
    pub rounding: Vec<(Semantics, RoundingClaim)>,
    /// Margins per semantics claimed.
    pub margins: Vec<(Semantics, Vec<f64>)>,
    /// Label networks: distances per semantics claimed.
    pub distances: Vec<(Semantics, Vec<f64>)>,
    /// Label networks: the tolerance t.
    pub tolerance: Option<f64>,
    /// Why a semantics examined does not hold, for the user.
    pub not_claimed: Vec<(Semantics, String)>,
}

/// What [`Claims::compute`] needs besides the model and data.
pub struct ClaimRequest<'a> {
    /// Roles per layer, in the certificate's notation.
    pub layers: &'a [String],
    /// Each point's own score neuron.
    pub own_scores: &'a [[usize; 2]],
    /// The norm.
    pub norm: PNorm,
    /// The radius to certify, or the lower end of the search.
    pub radius: f64,
    /// `Some(upper)`: certify the largest radius in `[radius, upper]` at
    /// which the model's native semantics holds.
    pub search_up_to: Option<f64>,
    /// t.
    pub shift: &'a [f64],
    /// S.
    pub score_offset: f64,
    /// Label networks: each label's value (see [`Inputs::label_values`]).
    pub label_values: Option<&'a [f64]>,
    /// `Some(q)` for a distance network (specs/certificate.md section 10,
    /// `construction = distances`): then `own_scores`, `shift` and
    /// `score_offset` are not used (pass empty slices and 0).
    /// `None` for a score network.
    pub distance_norm: Option<DistanceNorm>,
}

impl Claims {
    /// Runs the analysis and keeps what holds.
    pub fn compute(
        model: &Model,
        data: &Data<'_>,
        label_names: &[serde_json::Value],
        request: &ClaimRequest<'_>,
    ) -> Result<Claims, String> {
        if let Some(q) = request.distance_norm {
            return distance_claims(model, data, label_names, request, q);
        }
        let labels = label_indices(data.labels, label_names)?;
        let roles = parse_roles(request.layers).map_err(|e| e.to_string())?;
        let floats = float_semantics(model);
        let max_radius = request
            .search_up_to
            .unwrap_or(request.radius)
            .max(request.radius);
        let inputs = Inputs {
            model,
            roles: &roles,
            points: data.points.view(),
            labels: &labels,
            own_scores: request.own_scores,
            norm: request.norm,
            max_radius,
            shift: request.shift,
            score_offset: request.score_offset,
            float_semantics: &floats,
            label_values: request.label_values,
        };
        let analysis = Analysis::new(&inputs).map_err(|e| e.to_string())?;
        let native = [Semantics::Real, floats[0]];
        // Claims are stated with a relative slack of SLACK against the
        // analysis' own figures, so that a recomputation whose last bits
        // differ (summation order in matrix products) still confirms them.
        let radius = match request.search_up_to {
            Some(_) => analysis
                .largest_radius(request.radius, &native)
                .map_or(request.radius, |r| (r * (1.0 - 1e-6)).max(request.radius)),
            None => request.radius,
        };
        // `verify` analyses the certificate's radius as the largest one
        // (magnitude bounds depend on it): after a search, redo the analysis
        // exactly so, so that every figure claimed is the figure `verify`
        // recomputes, not one from a wider analysis.
        let analysis = if radius == max_radius {
            analysis
        } else {
            Analysis::new(&Inputs {
                max_radius: radius,
                ..inputs
            })
            .map_err(|e| e.to_string())?
        };
        let at = analysis.at_radius(radius);
        let mut claims = Claims {
            radius,
            semantics: Vec::new(),
            norm_bound: above(analysis.norm_bound),
            delta_prime: below(analysis.delta_prime),
            projected_radius: above(at.projected_radius),
            gamma: below(at.gamma),
            rounding: Vec::new(),
            margins: Vec::new(),
            distances: Vec::new(),
            tolerance: analysis.label_tolerance(),
            not_claimed: Vec::new(),
        };
        for result in &at.semantics {
            let why = if let Some(reason) = &at.first_layer_exact {
                Some(reason.clone())
            } else if let Some(reason) = &result.negative_accumulator {
                Some(reason.clone())
            } else if let Some(reason) = &result.unbounded {
                Some(reason.clone())
            } else if let Some((i, d)) = claims.tolerance.and_then(|t| {
                result
                    .distances
                    .iter()
                    .enumerate()
                    .find(|(_, &d)| above(d) >= t || d.is_nan())
            }) {
                Some(format!(
                    "point {i}: its output may be {d} from its label, not below the tolerance"
                ))
            } else {
                result
                    .margins
                    .iter()
                    .enumerate()
                    .find(|(_, &m)| m <= 0.0)
                    .map(|(i, m)| match result.distances.get(i) {
                        Some(d) => format!(
                            "point {i}: its output may be {d} from its label, not below the tolerance"
                        ),
                        None => format!("point {i}: margin {m} after rounding"),
                    })
            };
            if let Some(why) = why {
                claims.not_claimed.push((result.semantics, why));
                continue;
            }
            claims.semantics.push(result.semantics);
            let margins = result.margins.iter().map(|&m| below(m)).collect();
            claims.margins.push((result.semantics, margins));
            if claims.tolerance.is_some() {
                let distances = result.distances.iter().map(|&d| above(d)).collect();
                claims.distances.push((result.semantics, distances));
            }
            if result.semantics != Semantics::Real {
                claims.rounding.push((
                    result.semantics,
                    RoundingClaim {
                        unit: result.semantics.unit(),
                        first_layer: above(result.first_layer_error),
                        output: above(result.output_error),
                    },
                ));
            }
        }
        Ok(claims)
    }
}

/// Relative slack between a claim and the analysis that made it.
const SLACK: f64 = 1e-9;

/// A claimed upper bound: `x` plus the slack.
pub(crate) fn above(x: f64) -> f64 {
    x + SLACK * x.abs()
}

/// A claimed lower bound: `x` minus the slack.
pub(crate) fn below(x: f64) -> f64 {
    x - SLACK * x.abs()
}
