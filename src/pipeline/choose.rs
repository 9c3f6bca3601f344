//! `construction = auto | scores | distances`: which construction builds a
//! network, and why.
//!
//! `auto` uses distances only where they apply (`norm = l1`, `l2` or `linf`,
//! either output, two labels or more, and no `projection` named: a
//! named projection is a score construction's choice) and compares, in the
//! spec's precision:
//! - `radius = max`: the radius each construction certifies; the larger wins;
//! - a fixed radius: the construction that certifies it; when both do, the
//!   one with fewer parameters.
//!
//! The distance plan is cheap (a separation and a closed-form rounding
//! allowance); distances are not considered when their ONNX file would pass
//! protobuf's 2 GiB limit (they are wide: dense layers cost width^2).

use super::distances::{compile_planned, estimated_bytes, plan_for, planned_shape};
use super::{compile_scores, CompileError, CompileOptions, Compiled, ONNX_MAX_BYTES};
use crate::analysis::separation::Separation;
use crate::construct::distance_plan::distance_norm_for;
use crate::data::Dataset;
use crate::spec::{ConstructionChoice, NetworkSpec, ProjectionChoice, RadiusSpec};
use std::time::Instant;

/// Compiles `spec` with the construction it names, or the one `auto` picks.
pub(super) fn compile_chosen(
    data: &Dataset,
    spec: &NetworkSpec,
    separation: &Separation,
    options: &CompileOptions,
) -> Result<Compiled, CompileError> {
    match spec.construction {
        ConstructionChoice::Scores => with_reason(
            compile_scores(data, spec, separation, options),
            "asked for (construction = scores)".into(),
        ),
        ConstructionChoice::Distances => {
            let clock = Instant::now();
            let plan = plan_for(data, spec, separation)?;
            with_reason(
                compile_planned(
                    data,
                    spec,
                    separation,
                    plan,
                    options,
                    clock.elapsed().as_secs_f64(),
                ),
                "asked for (construction = distances)".into(),
            )
        }
        ConstructionChoice::Auto => auto(data, spec, separation, options),
    }
}

fn auto(
    data: &Dataset,
    spec: &NetworkSpec,
    separation: &Separation,
    options: &CompileOptions,
) -> Result<Compiled, CompileError> {
    let applies = distance_norm_for(spec.norm).is_some()
        && data.classes.len() >= 2
        && spec.projection == ProjectionChoice::Auto;
    if !applies {
        let why = if data.classes.len() < 2 {
            "one label".to_string()
        } else if spec.projection != ProjectionChoice::Auto {
            "the spec names a projection, which only scores use".to_string()
        } else {
            format!("the only construction for norm {}", spec.norm)
        };
        return with_reason(compile_scores(data, spec, separation, options), why);
    }
    let clock = Instant::now();
    let planned = plan_for(data, spec, separation);
    let planning = clock.elapsed().as_secs_f64();
    let scores = compile_scores(data, spec, separation, options);
    let plan = match planned {
        Ok(plan) => plan,
        Err(distance_error) => {
            return with_reason(scores, format!("distances do not apply: {distance_error}"))
        }
    };
    let bytes = estimated_bytes(data, spec, &plan);
    if bytes > ONNX_MAX_BYTES {
        return with_reason(
            scores,
            format!(
                "distances would need an ONNX file of about {:.1} GiB",
                bytes as f64 / (1u64 << 30) as f64
            ),
        );
    }
    let scores = match scores {
        Ok(scores) => scores,
        Err(score_error) => {
            return with_reason(
                compile_planned(data, spec, separation, plan, options, planning),
                format!("scores do not certify it: {score_error}"),
            )
        }
    };
    let score_radius = scores.summary.radius.unwrap_or(0.0);
    let distance_radius = plan.radius;
    let (width, depth) = planned_shape(data, &plan);
    let distance_parameters = width * (width + 1) * depth.saturating_sub(1);
    let pick_distances = match spec.radius {
        RadiusSpec::Max if distance_radius > score_radius * (1.0 + 1e-9) => true,
        RadiusSpec::Max if score_radius > distance_radius * (1.0 + 1e-9) => false,
        _ => distance_parameters < scores.summary.parameters,
    };
    let ratio = |r: f64| separation.delta / 2.0 > 0.0 && r.is_finite();
    let describe = |r: f64| {
        if ratio(r) {
            format!("{:.4} of the limit", r / (separation.delta / 2.0))
        } else {
            format!("{r}")
        }
    };
    if pick_distances {
        let why = match spec.radius {
            RadiusSpec::Max => format!(
                "certifies {} where scores certify {}",
                describe(distance_radius),
                describe(score_radius)
            ),
            _ => format!(
                "fewer parameters (about {distance_parameters} against {})",
                scores.summary.parameters
            ),
        };
        drop(scores);
        with_reason(
            compile_planned(data, spec, separation, plan, options, planning),
            why,
        )
    } else {
        let why = match spec.radius {
            RadiusSpec::Max if score_radius > distance_radius * (1.0 + 1e-9) => format!(
                "certifies {} where distances certify {}",
                describe(score_radius),
                describe(distance_radius)
            ),
            _ => format!(
                "fewer parameters ({} against about {distance_parameters} for distances)",
                scores.summary.parameters
            ),
        };
        with_reason(Ok(scores), why)
    }
}

/// Records why the construction was chosen in the summary.
fn with_reason(
    compiled: Result<Compiled, CompileError>,
    reason: String,
) -> Result<Compiled, CompileError> {
    compiled.map(|mut c| {
        c.summary.construction_reason = reason;
        c
    })
}
