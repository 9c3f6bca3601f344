//! Compiling one network: plan -> assemble -> lower -> passes, timed per
//! phase. The input is a loaded data set, its separation and the network's
//! resolved spec; the output is the stage program, the optimised layer
//! network and a [`Summary`] for reports. Reading specs and writing files is
//! the caller's job (`cli`).
//!
//! [`compile_with`] first decides the construction (`construction = auto`
//! compares what each certifies, [`choose`]), then runs the score pipeline
//! (this module) or the distance pipeline ([`distances`]).

mod choose;
mod distances;

use crate::analysis::rounding::RoundingCheck;
use crate::analysis::separation::Separation;
use crate::construct::arithmetic::Arithmetic;
use crate::construct::assemble::{assemble, Assembly, AssemblyError};
use crate::construct::distance_plan::DistancePlan;
use crate::construct::label_values::{check_label_values, LabelPrecisionError};
use crate::construct::plan::{
    hidden_layer_weights, logits_depth, overhead, plan, Plan, PlanError, Request,
};
use crate::construct::projection::SearchMemory;
use crate::construct::score_fit::ScoreFit;
use crate::data::Dataset;
use crate::ir::layers::LayerNetwork;
use crate::ir::stages::StageProgram;
use crate::lower::lower;
use crate::passes;
use crate::spec::{Budget, NetworkSpec, OutputKind, Precision};
use serde::Serialize;
use std::time::Instant;

/// A compiled network and what was decided on the way.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The stage program (what the network means).
    pub program: StageProgram,
    /// The optimised dense layers (what it is).
    pub network: LayerNetwork,
    /// The planner's choices.
    pub plan: NetworkPlan,
    /// Figures for reports.
    pub summary: Summary,
}

/// The planner's choices, per construction.
#[derive(Clone, Debug)]
pub enum NetworkPlan {
    /// A score network's projection, radius and accumulators.
    Scores(Plan),
    /// A distance network's map, radius and running minima.
    Distances(DistancePlan),
}

impl NetworkPlan {
    /// The score plan, for a score network.
    pub fn scores(&self) -> Option<&Plan> {
        match self {
            NetworkPlan::Scores(plan) => Some(plan),
            NetworkPlan::Distances(_) => None,
        }
    }
}

/// Seconds spent in one phase.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Phase {
    /// Phase name (`separation`, `projection`, `assemble`, `lower`, `passes`, ...).
    pub phase: &'static str,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The figures `robmem compile` prints (and `--json` emits with these keys).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Network name.
    pub network: String,
    /// N.
    pub points: usize,
    /// d.
    pub dim: usize,
    /// C.
    pub labels: usize,
    /// The norm, as spelled in specs.
    pub norm: String,
    /// delta_p (None when there is one label: infinite).
    pub delta: Option<f64>,
    /// delta_p / 2.
    pub limit: Option<f64>,
    /// The certified radius sigma (None when infinite: one label).
    pub radius: Option<f64>,
    /// sigma / limit.
    pub ratio: Option<f64>,
    /// The construction: `scores` or `distances`.
    pub construction: String,
    /// Why it was chosen (`construction = auto`) or that the spec asked for it.
    pub construction_reason: String,
    /// Projection strategy.
    pub projection: String,
    /// Projected dimension.
    pub m: usize,
    /// Random draws it took (1 for deterministic strategies).
    pub draws: usize,
    /// Accumulators per label (logits).
    pub slots_per_label: usize,
    /// Largest hidden layer.
    pub width: usize,
    /// Number of affine layers.
    pub depth: usize,
    /// Weights plus biases.
    pub parameters: usize,
    /// delta', the separation of the projected points (l2 for scores, the
    /// distance norm for distances).
    pub delta_projected: f64,
    /// The real-arithmetic margin: gamma (score units) for scores,
    /// `delta'_q - 2 r` (distance units) for distances.
    pub gamma: f64,
    /// Bound on the rounding error of any running maximum at the spec's
    /// precision, in score units (see [`crate::analysis::rounding`]).
    pub rounding_bound: f64,
    /// What that error must stay below for every decision to hold.
    pub rounding_limit: f64,
    /// Seconds per phase, in order (serialised as an object `{phase: seconds}`).
    #[serde(serialize_with = "phases_as_map")]
    pub seconds: Vec<Phase>,
}

/// protobuf's limit on one serialized message, so on a whole ONNX file
/// with its weights inside: 2 GiB - 1 bytes.
pub const ONNX_MAX_BYTES: u64 = (1 << 31) - 1;

/// Options of [`compile_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CompileOptions {
    /// Refuse, before lowering, a network whose ONNX file is estimated
    /// above this many bytes ([`estimated_onnx_bytes`]); `None`: no limit
    /// (nothing will be written as ONNX).
    pub max_onnx_bytes: Option<u64>,
}

/// The size of the ONNX file of the network `plan` builds for `spec`,
/// estimated from the planned width and depth before anything is lowered:
/// every layer counted as a dense `width x width` layer with biases, at the
/// spec's precision, plus 200 bytes of nodes and names per layer. Within a
/// few percent of the real size for the logits output (the hidden layers
/// are nearly full), an overestimate for the label output.
pub fn estimated_onnx_bytes(data: &Dataset, spec: &NetworkSpec, plan: &NetworkPlan) -> u64 {
    match plan {
        NetworkPlan::Scores(plan) => estimated_score_bytes(data, spec, plan),
        NetworkPlan::Distances(plan) => distances::estimated_bytes(data, spec, plan),
    }
}

/// [`estimated_onnx_bytes`] for a score network.
fn estimated_score_bytes(data: &Dataset, spec: &NetworkSpec, plan: &Plan) -> u64 {
    let (width, depth) = planned_shape(data, spec, plan);
    let m = plan.candidate.projection.m() as u64;
    let element = match spec.precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    };
    let first = (data.dim() as u64 + 1) * m;
    let rest = u64::try_from(hidden_layer_weights(width, depth)).unwrap_or(u64::MAX);
    (first.saturating_add(rest))
        .saturating_mul(element)
        .saturating_add(200 * depth as u64)
}

/// The width and depth of the network `plan` builds for `spec`, before
/// lowering (the depth of the label output is an upper bound).
fn planned_shape(data: &Dataset, spec: &NetworkSpec, plan: &Plan) -> (usize, usize) {
    let sizes = plan.scored_sizes(data);
    let width = plan.candidate.projection.m() + overhead(spec.output, &sizes, plan.slots_per_class);
    let depth = match spec.output {
        OutputKind::Logits => logits_depth(&sizes, plan.slots_per_class),
        OutputKind::Label => sizes.iter().sum::<usize>() + 2,
    };
    (width, depth)
}

/// Assemble, lower and optimise at `radius` (which the plan's projection certifies).
fn build(
    data: &Dataset,
    spec: &NetworkSpec,
    plan: &Plan,
    radius: f64,
    lap: &mut dyn FnMut(&'static str),
) -> Result<(StageProgram, LayerNetwork), CompileError> {
    let projection = &plan.candidate.projection;
    let phase = crate::progress::phase("assemble", None);
    let program = assemble(&Assembly {
        data,
        norm: spec.norm,
        radius,
        strategy: projection.strategy.name(),
        matrix: &projection.matrix,
        centre: &projection.centre,
        norm_bound: projection.norm_bound,
        projected: &plan.candidate.projected.points,
        delta_prime: plan.candidate.projected.delta,
        output: spec.output,
        slots_per_class: plan.slots_per_class,
        covering: plan.covering.as_ref(),
    })?;
    phase.finish();
    lap("assemble");
    let network = lower_and_optimise(&program, lap);
    Ok((program, network))
}

/// Lowers `program` and runs the default passes, timing both phases.
fn lower_and_optimise(program: &StageProgram, lap: &mut dyn FnMut(&'static str)) -> LayerNetwork {
    let phase = crate::progress::phase("lower", None);
    let mut network = lower(program);
    phase.finish();
    lap("lower");
    let phase = crate::progress::phase("passes", None);
    passes::run_default(&mut network);
    phase.finish();
    lap("passes");
    network
}

fn phases_as_map<S: serde::Serializer>(phases: &[Phase], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(phases.iter().map(|p| (p.phase, p.seconds)))
}

/// Why a network could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The request cannot be met (see [`PlanError`]).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The plan's projection does not certify its radius (a planner bug).
    #[error(transparent)]
    Assembly(#[from] AssemblyError),
    /// Rounding at the spec's precision could exceed the built network's
    /// margin (specs/construction.md section 6). The planner checks the
    /// same bound before building ([`PlanError::NotInArithmetic`]), so this
    /// is a planner bug, refused rather than certified.
    #[error("{precision} rounding could move a score by up to {bound:.3e}, but the margin only tolerates {limit:.3e} (gamma = {gamma:.3e}): the data are too dense for {precision} at this radius")]
    Precision {
        /// `float32` or `float64`.
        precision: &'static str,
        /// The rounding bound.
        bound: f64,
        /// What it must stay below.
        limit: f64,
        /// The real-arithmetic score margin.
        gamma: f64,
    },
    /// The ONNX file would exceed [`CompileOptions::max_onnx_bytes`]
    /// (protobuf's 2 GiB limit), found before lowering.
    #[error("its ONNX file would take about {:.2} GiB (width {width}, depth {depth}, at {precision}), above protobuf's limit of 2 GiB for one ONNX file", *bytes as f64 / (1u64 << 30) as f64)]
    TooLarge {
        /// Estimated bytes ([`estimated_onnx_bytes`]).
        bytes: u64,
        /// Planned width.
        width: usize,
        /// Planned depth.
        depth: usize,
        /// `float32` or `float64`.
        precision: &'static str,
        /// Whether the plan is already the network with the fewest weights
        /// the construction builds at its map (no `width` or `depth`
        /// budget moved it), so that only a smaller map, fewer points or a
        /// narrower number type shrink it.
        smallest: bool,
    },
    /// A label value (or a value the label gadget carries) is not a number
    /// of the network's precision, so the output could miss its label by
    /// more than the label properties' tolerance (checked before planning).
    #[error(transparent)]
    LabelValues(#[from] LabelPrecisionError),
    /// The network is deeper than the depth budget (label output).
    #[error("the network has depth {depth}, above the budget {budget}: the label output needs about one layer per point; use `output = logits` (whose depth shrinks with width) or raise `depth`")]
    TooDeep {
        /// Depth of the compiled network.
        depth: usize,
        /// The budget.
        budget: usize,
    },
}

/// Compiles `spec` for `data`, whose separation in `spec.norm` is `separation`.
pub fn compile(
    data: &Dataset,
    spec: &NetworkSpec,
    separation: &Separation,
) -> Result<Compiled, CompileError> {
    compile_with(data, spec, separation, &CompileOptions::default())
}

/// [`compile`] with options (a limit on the ONNX file's size).
pub fn compile_with(
    data: &Dataset,
    spec: &NetworkSpec,
    separation: &Separation,
    options: &CompileOptions,
) -> Result<Compiled, CompileError> {
    choose::compile_chosen(data, spec, separation, options)
}

/// What a summary reads from a built network besides the spec and data.
struct Built<'a> {
    program: &'a StageProgram,
    network: &'a LayerNetwork,
    rounding: &'a RoundingCheck,
    /// Random draws the projection took (1 for deterministic maps).
    draws: usize,
    /// Accumulators or running minima per label.
    slots_per_label: usize,
}

/// The figures `compile` reports for a built network, for either
/// construction (the construction's name, map, radius and margins are read
/// from the stage program).
fn summarise(
    data: &Dataset,
    spec: &NetworkSpec,
    separation: &Separation,
    built: Built<'_>,
    seconds: Vec<Phase>,
) -> Summary {
    let program = built.program;
    let finite = |x: f64| x.is_finite().then_some(x);
    let limit = separation.delta / 2.0;
    Summary {
        network: spec.name.clone(),
        points: data.len(),
        dim: data.dim(),
        labels: data.classes.len(),
        norm: spec.norm.to_string(),
        delta: finite(separation.delta),
        limit: finite(limit),
        radius: finite(program.radius),
        ratio: finite(program.radius / limit),
        construction: program.kind().to_string(),
        construction_reason: String::new(),
        projection: program.projection.strategy.clone(),
        m: program.projection.m(),
        draws: built.draws,
        slots_per_label: built.slots_per_label,
        width: built.network.width(),
        depth: built.network.depth(),
        parameters: built.network.parameters(),
        delta_projected: program.delta_prime(),
        gamma: program.margin(),
        rounding_bound: built.rounding.bound,
        rounding_limit: built.rounding.limit,
        seconds,
    }
}

/// What either planner is asked for `spec`: its budgets, radius and
/// arithmetic, with `memory` for the score planner's projection search.
fn request<'a>(
    data: &'a Dataset,
    spec: &NetworkSpec,
    separation: &Separation,
    memory: Option<&'a SearchMemory<'a>>,
) -> Request<'a> {
    Request {
        data,
        norm: spec.norm,
        delta: separation.delta,
        radius: spec.radius,
        width: spec.width,
        depth: spec.depth,
        output: spec.output,
        projection: spec.projection,
        seed: spec.seed,
        arithmetic: Arithmetic::of(spec.precision),
        condense: spec.condense,
        memory,
    }
}

/// The score pipeline (specs/construction.md sections 3-5). The planner
/// takes the spec's arithmetic and returns a plan whose network is
/// certified in it, so the network is built once; the rounding check after
/// the build confirms the planner's (with the lowered depth, at most the
/// planned one).
fn compile_scores(
    data: &Dataset,
    spec: &NetworkSpec,
    separation: &Separation,
    options: &CompileOptions,
) -> Result<Compiled, CompileError> {
    let mut seconds = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |phase: &'static str, seconds: &mut Vec<Phase>| {
        seconds.push(Phase {
            phase,
            seconds: clock.elapsed().as_secs_f64(),
        });
        clock = Instant::now();
    };
    if spec.output == OutputKind::Label {
        check_label_values(data, spec.precision)?;
    }
    let arithmetic = Arithmetic::of(spec.precision);
    let memory = SearchMemory::new(data, spec.norm);
    let phase = crate::progress::phase("projection", None);
    let plan = plan(&request(data, spec, separation, Some(&memory)))?;
    phase.finish();
    lap("projection", &mut seconds);
    let precision = arithmetic.name();
    if let Some(limit) = options.max_onnx_bytes {
        let bytes = estimated_score_bytes(data, spec, &plan);
        if bytes > limit {
            let (width, depth) = planned_shape(data, spec, &plan);
            return Err(CompileError::TooLarge {
                bytes,
                width,
                depth,
                precision,
                // width = auto takes the accumulators of the smallest
                // network within the depth budget (plan.rs).
                smallest: spec.width == Budget::Auto && spec.depth == Budget::Auto,
            });
        }
    }
    let (program, network) = build(data, spec, &plan, plan.radius, &mut |phase| {
        lap(phase, &mut seconds)
    })?;
    if let (Budget::AtMost(budget), OutputKind::Label) = (spec.depth, spec.output) {
        if network.depth() > budget {
            return Err(CompileError::TooDeep {
                depth: network.depth(),
                budget,
            });
        }
    }
    let fit = ScoreFit::new(data, spec.norm, spec.output, arithmetic);
    let rounding = fit.check_program(&program, network.depth());
    lap("rounding", &mut seconds);
    if !rounding.fits() {
        return Err(CompileError::Precision {
            precision,
            bound: rounding.bound,
            limit: rounding.limit,
            gamma: program.margin(),
        });
    }
    let summary = summarise(
        data,
        spec,
        separation,
        Built {
            program: &program,
            network: &network,
            rounding: &rounding,
            draws: plan.candidate.projection.draws,
            slots_per_label: plan.slots_per_class,
        },
        seconds,
    );
    Ok(Compiled {
        program,
        network,
        plan: NetworkPlan::Scores(plan),
        summary,
    })
}
