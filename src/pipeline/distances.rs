//! The distance pipeline (specs/construction.md section 8): plan for the
//! spec's arithmetic -> assemble -> lower -> passes. The plan leaves room
//! for rounding before anything is built, so there is no rebuild loop.

use super::{
    lower_and_optimise, request, summarise, Built, CompileError, CompileOptions, Compiled,
    NetworkPlan, Phase, ONNX_MAX_BYTES,
};
use crate::analysis::rounding::rounding_check;
use crate::analysis::separation::Separation;
use crate::construct::arithmetic::Arithmetic;
use crate::construct::distance_plan::{plan_distances, DistancePlan};
use crate::construct::distances::{assemble_distances, DistanceAssembly};
use crate::construct::label_values::check_label_values;
use crate::construct::plan::PlanError;
use crate::data::Dataset;
use crate::spec::{NetworkSpec, OutputKind, Precision};
use std::time::Instant;

/// Plans a distance network for `spec` in the spec's precision.
pub(super) fn plan_for(
    data: &Dataset,
    spec: &NetworkSpec,
    separation: &Separation,
) -> Result<DistancePlan, PlanError> {
    plan_distances(&request(data, spec, separation, None))
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
    let program = assemble_distances(&DistanceAssembly {
        data,
        norm: spec.norm,
        distance_norm: plan.norm,
        radius: plan.radius,
        strategy: plan.strategy,
        matrix: &plan.map.to_matrix(),
        centre: &plan.centre,
        norm_bound: plan.norm_bound,
        mapped: &plan.map.apply(data.points.view(), &plan.centre),
        delta_prime: plan.delta_prime,
        slots_per_class: plan.slots_per_class,
        output: spec.output,
    })?;
    phase.finish();
    lap("assemble");
    let network = lower_and_optimise(&program, &mut lap);
    let largest_coordinate = data.points.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let rounding = rounding_check(
        &program,
        network.depth(),
        largest_coordinate + plan.radius,
        unit,
    );
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
