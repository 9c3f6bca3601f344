//! The distance pipeline (specs/construction.md section 8): plan for the
//! spec's arithmetic -> assemble -> lower -> passes. The plan leaves room
//! for rounding before anything is built, so there is no rebuild loop.

use super::{
    lower_and_optimise, request, summarise, Built, CompileError, CompileOptions, Compiled,
    NetworkPlan, Phase, ONNX_MAX_BYTES,
};
use crate::analysis::rounding::rounding_check;
use crate::analysis::rounding::RoundingCheck;
use crate::analysis::separation::Separation;
use crate::construct::arithmetic::Arithmetic;
use crate::construct::condense::{MARGIN_HEADROOM, MAX_POINTS, SMALLEST_MARGIN};
use crate::construct::condense_distances::Coverer;
use crate::construct::distance_plan::{plan_distances, DistancePlan};
use crate::construct::distances::{assemble_distances, DistanceAssembly};
use crate::construct::label_values::check_label_values;
use crate::construct::plan::PlanError;
use crate::data::Dataset;
use crate::ir::layers::LayerNetwork;
use crate::ir::stages::{Construction, StageProgram};
use crate::spec::{Budget, CondenseChoice, NetworkSpec, OutputKind, Precision};
use std::time::Instant;

/// Plans a distance network for `spec` in the spec's precision.
pub(super) fn plan_for(
    data: &Dataset,
    spec: &NetworkSpec,
    separation: &Separation,
) -> Result<DistancePlan, PlanError> {
    plan_distances(&request(data, spec, separation, None))
}

/// The condensed distance network (specs/construction.md section 8.8) and
/// its rounding check, when a cover leaves points out and the condensed
/// network is certified in the arithmetic of unit roundoff `unit`: the
/// cover's margin is first the larger of `MARGIN_HEADROOM` times the full
/// network's rounding bound and `SMALLEST_MARGIN` of its margin, then half
/// its margin. `None`: every point stays a centre (more than `MAX_POINTS`
/// points, one class, nothing to leave out, or no condensed network passes).
fn condense(
    full: &StageProgram,
    assembly: &DistanceAssembly<'_>,
    input_bound: f64,
    unit: f64,
) -> Option<(StageProgram, LayerNetwork, RoundingCheck)> {
    let Construction::Distances(stage) = &full.construction else {
        return None;
    };
    let data = assembly.data;
    if data.len() > MAX_POINTS || data.classes.len() < 2 {
        return None;
    }
    let r = full.projection.projected_radius;
    let widest = stage.margin;
    // The full network's rounding bound (a distance network's does not
    // depend on the depth, so nothing needs building).
    let bound = rounding_check(full, 0, input_bound, unit).bound;
    let smallest = (MARGIN_HEADROOM * bound)
        .max(SMALLEST_MARGIN * widest)
        .min(widest / 2.0);
    let mut margins = vec![smallest];
    if smallest < widest / 2.0 {
        margins.push(widest / 2.0);
    }
    let coverer = Coverer::new(assembly.mapped.view(), &data.labels, stage.norm)?;
    margins.into_iter().find_map(|margin| {
        let cover = coverer.cover(r, margin)?;
        let program = assemble_distances(&DistanceAssembly {
            condensed: Some(&cover),
            ..assembly.clone()
        })
        .ok()?;
        let network = lower_and_optimise(&program, &mut |_| {});
        let rounding = rounding_check(&program, network.depth(), input_bound, unit);
        rounding.fits().then_some((program, network, rounding))
    })
}

/// The ONNX file's size, estimated from the planned shape as for score
/// networks (every layer a dense `width x width` layer).
pub(super) fn estimated_bytes(data: &Dataset, spec: &NetworkSpec, plan: &DistancePlan) -> u64 {
    let element = match spec.precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    };
    plan.shape(data.dim(), &data.class_sizes()).bytes(element)
}

/// Planned width and depth.
pub(super) fn planned_shape(data: &Dataset, plan: &DistancePlan) -> (usize, usize) {
    let shape = plan.shape(data.dim(), &data.class_sizes());
    (shape.width, shape.depth)
}

/// Builds the network `plan` describes.
pub(super) fn compile_planned(
    data: &Dataset,
    spec: &NetworkSpec,
    separation: &Separation,
    plan: DistancePlan,
    options: &CompileOptions,
    planning_seconds: f64,
) -> Result<Compiled, CompileError> {
    if spec.output == OutputKind::Label {
        check_label_values(data, spec.precision)?;
    }
    let arithmetic = Arithmetic::of(spec.precision);
    let (precision, unit) = (arithmetic.name(), arithmetic.unit);
    // Distance networks are wide (dense layers cost width^2): refuse one
    // whose file would pass protobuf's limit even when nothing is written,
    // before lowering allocates it.
    let limit = options.max_onnx_bytes.unwrap_or(ONNX_MAX_BYTES);
    {
        let bytes = estimated_bytes(data, spec, &plan);
        if bytes > limit {
            let (width, depth) = planned_shape(data, &plan);
            return Err(CompileError::TooLarge {
                bytes,
                width,
                depth,
                precision,
                // One running minimum per class unless a depth budget asks
                // for more (distance_plan.rs): a width budget adds none.
                smallest: spec.depth == Budget::Auto,
            });
        }
    }
    let mut seconds = vec![Phase {
        phase: "plan",
        seconds: planning_seconds,
    }];
    let mut clock = Instant::now();
    let mut lap = |phase: &'static str| {
        seconds.push(Phase {
            phase,
            seconds: clock.elapsed().as_secs_f64(),
        });
        clock = Instant::now();
    };
    let phase = crate::progress::phase("assemble", None);
    let matrix = plan.map.to_matrix();
    let mapped = plan.map.apply(data.points.view(), &plan.centre);
    let assembly = DistanceAssembly {
        data,
        norm: spec.norm,
        distance_norm: plan.norm,
        radius: plan.radius,
        strategy: plan.strategy,
        matrix: &matrix,
        centre: &plan.centre,
        norm_bound: plan.norm_bound,
        mapped: &mapped,
        delta_prime: plan.delta_prime,
        slots_per_class: plan.slots_per_class,
        output: spec.output,
        condensed: None,
    };
    let full = assemble_distances(&assembly)?;
    phase.finish();
    lap("assemble");
    let largest_coordinate = data.points.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let input_bound = largest_coordinate + plan.radius;
    let condensed = match spec.condense {
        CondenseChoice::Auto => condense(&full, &assembly, input_bound, unit),
        CondenseChoice::None => None,
    };
    let (program, network, rounding) = match condensed {
        Some(built) => {
            lap("condense");
            built
        }
        None => {
            let network = lower_and_optimise(&full, &mut lap);
            let rounding = rounding_check(&full, network.depth(), input_bound, unit);
            (full, network, rounding)
        }
    };
    let summary = summarise(
        data,
        spec,
        separation,
        Built {
            program: &program,
            network: &network,
            rounding: &rounding,
            draws: 1,
            slots_per_label: plan.slots_per_class,
        },
        seconds,
    );
    Ok(Compiled {
        program,
        network,
        plan: NetworkPlan::Distances(plan),
        summary,
    })
}
