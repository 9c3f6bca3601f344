//! The claims of a distance certificate (specs/certificate.md 10.2):
//! checked one by one ([`verify_distances`]) and computed for `compile`
//! ([`distance_claims`]) by the same analysis.

use super::{DistanceAnalysis, DistanceNorm};
use crate::verify::analyse::PNorm;
use crate::verify::certificate::{Certificate, RoundingClaim, Semantics};
use crate::verify::check::{
    above, below, check_distances, check_tolerance, float_semantics, label_indices, ClaimRequest,
    Claims, Data, LabelDistances, Verification,
};
use crate::verify::model::Model;

/// Checks a distance certificate's claims (after the file, data, output
/// convention, label and radius checks of [`crate::verify::check::verify`]).
pub(crate) fn verify_distances(
    v: &mut Verification,
    cert: &Certificate,
    model: &Model,
    data: &Data<'_>,
    labels: &[usize],
    norm: PNorm,
) {
    let q = match (cert.construction.as_deref(), cert.distance_norm.as_deref()) {
        (Some("distances"), Some(text)) => DistanceNorm::parse(text),
        _ => None,
    };
    let Some(q) = q else {
        v.push(
            "construction",
            false,
            format!(
                "construction {:?} with distance_norm {:?}: expected `distances` with `l1` or `linf`",
                cert.construction, cert.distance_norm
            ),
        );
        return;
    };
    let label = cert.output.kind == "label";
    let layout = cert.projection.shift.is_empty()
        && cert.projection.score_offset == 0.0
        && cert.points.score.is_empty();
    if !v.push(
        "distance layout",
        layout,
        format!(
            "{} shift entries, score offset {}, {} score neurons; a distance certificate has no shift, offset 0 and no score neurons",
            cert.projection.shift.len(),
            cert.projection.score_offset,
            cert.points.score.len()
        ),
    ) {
        return;
    }
    let floats = float_semantics(model);
    let values = cert.output.label_values();
    let analysis = match DistanceAnalysis::new(
        model,
        &cert.layers,
        data.points.view(),
        labels,
        norm,
        q,
        &floats,
        label.then_some(values.as_slice()),
    ) {
        Ok(a) => a,
        Err(e) => {
            v.push("gadgets", false, e.to_string());
            return;
        }
    };
    let t = &analysis.template;
    if !v.push(
        "gadgets",
        t.k == cert.projection.m,
        format!(
            "{} layers recognised: a map of {} rows (certificate: m = {}), {} centres in {} running minima, {} distances, {}",
            model.layers.len(),
            t.k,
            cert.projection.m,
            t.centres.len(),
            t.steps.iter().filter(|s| matches!(s, super::template::Step::Start { .. })).count(),
            q.name(),
            match &t.chain {
                Some(chain) => format!(
                    "the label gadget closing {} classes ({} steps)",
                    t.classes,
                    chain.steps.len()
                ),
                None => format!("outputs beta - alpha min with alpha = {}", t.alpha),
            }
        ),
    ) {
        return;
    }
    if let Some((_, t)) = &analysis.label_values {
        check_tolerance(v, cert, *t);
    }
    let at = analysis.at_radius(cert.radius);
    v.push(
        "projection bound",
        analysis.norm_bound <= cert.projection.norm_bound,
        format!(
            "||V||_{{{}->{}}} <= {} recomputed; certificate says {}",
            cert.norm,
            q.name(),
            analysis.norm_bound,
            cert.projection.norm_bound
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
            "centres of different classes are >= {} apart in {}; certificate says {}",
            analysis.delta_prime,
            q.name(),
            cert.separation.delta_prime
        ),
    );
    v.push(
        "projected radius",
        at.projected_radius <= cert.separation.projected_radius
            && at.gamma >= cert.separation.gamma,
        format!(
            "r = {} (certificate {}), delta' - 2r = {} (certificate {})",
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
        if let Some((_, t)) = &analysis.label_values {
            check_distances(
                v,
                cert,
                labels,
                &LabelDistances {
                    semantics: sem,
                    distances: &result.distances,
                    unbounded: result.unbounded.as_deref(),
                },
                *t,
            );
            continue;
        }
        let bad = match cert.points.margin.get(&sem) {
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
                        cert.output.labels[labels[i]]
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
                    "first layer <= {}, outputs <= {} (distance norm); certificate says {}",
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

/// [`Claims::compute`] for a distance network.
pub(crate) fn distance_claims(
    model: &Model,
    data: &Data<'_>,
    label_names: &[serde_json::Value],
    request: &ClaimRequest<'_>,
    q: DistanceNorm,
) -> Result<Claims, String> {
    let labels = label_indices(data.labels, label_names)?;
    let floats = float_semantics(model);
    let analysis = DistanceAnalysis::new(
        model,
        request.layers,
        data.points.view(),
        &labels,
        request.norm,
        q,
        &floats,
        request.label_values,
    )
    .map_err(|e| e.to_string())?;
    let native = [Semantics::Real, floats[0]];
    let radius = match request.search_up_to {
        Some(upper) => analysis
            .largest_radius(request.radius, upper.max(request.radius), &native)
            .map_or(request.radius, |r| (r * (1.0 - 1e-6)).max(request.radius)),
        None => request.radius,
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
        tolerance: analysis.label_values.as_ref().map(|(_, t)| *t),
        not_claimed: Vec::new(),
    };
    for result in &at.semantics {
        if let Some(why) = at.first_layer_exact.clone().or(result.failure.clone()) {
            claims.not_claimed.push((result.semantics, why));
            continue;
        }
        claims.semantics.push(result.semantics);
        claims.margins.push((
            result.semantics,
            result.margins.iter().map(|&m| below(m)).collect(),
        ));
        if claims.tolerance.is_some() {
            claims.distances.push((
                result.semantics,
                result.distances.iter().map(|&d| above(d)).collect(),
            ));
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
