//! Whether a score network is certified in its arithmetic, decided by the
//! planner before anything is built (specs/construction.md section 6).
//!
//! The rounding bound of a score network ([`rounding_check`]) depends on
//! the constants [`assemble`] derives from the plan (the shift, the score
//! offsets and S, the projected centres) and on the lowered depth. All of
//! these follow from the candidate projection, the radius and the number of
//! accumulators, and assembling costs O(N m), far less than the projected
//! separation that evaluating a candidate costs. So the planner assembles
//! the stage program it would build, bounds its rounding with the same
//! check compile applies to the built network, and uses the depth formula
//! of [`super::plan`], an upper bound on the lowered depth, so that a plan
//! this module accepts passes compile's check the first time; it keeps a
//! factor [`ROUNDING_SAFETY`] so that the certificate's checker, whose
//! bounds are computed differently, confirms float32 too.

use super::arithmetic::Arithmetic;
use super::assemble::{assemble, Assembly};
use super::plan::logits_depth;
use super::projection::Candidate;
use crate::analysis::rounding::{rounding_check, RoundingCheck};
use crate::data::Dataset;
use crate::ir::stages::{Covering, StageProgram};
use crate::norm::Norm;
use crate::spec::OutputKind;

/// How much larger than compile's rounding bound the margin must be for
/// the planner to accept a network.
///
/// Compile's check is an estimate computed in f64 from the stage program's
/// constants; the certificate's checker recomputes every bound from the
/// stored float32 weights with outward rounding and its own magnitude
/// bounds. A network planned where the checker's bound exceeds the margin
/// is certified in real arithmetic and float64 only. On rounding-limited
/// score networks (300-1,000 close pairs in 3 to 16 dimensions, logits and
/// label, l2 and linf; BENCHMARKS.md, "The planner knows its arithmetic")
/// the checker confirmed float32 for every network planned at the edge of
/// the estimate (factor 1); 1.1 keeps a little room for data unlike those.
/// tests/plan_arithmetic.rs checks the float32 claim on four of them.
pub const ROUNDING_SAFETY: f64 = 1.1;

/// Bisection steps of [`ScoreFit::largest_radius`] at most.
const BISECTION_STEPS: usize = 60;

/// The relative width at which [`ScoreFit::largest_radius`] stops.
const BISECTION_TOLERANCE: f64 = 1e-6;

/// Decides, for one data set, norm, output and arithmetic, which radii a
/// score candidate's network certifies once rounding is counted.
pub struct ScoreFit<'a> {
    data: &'a Dataset,
    norm: Norm,
    output: OutputKind,
    arithmetic: Arithmetic,
    /// `max |x_k|` over the data.
    largest_coordinate: f64,
}

impl<'a> ScoreFit<'a> {
    /// The fit for score networks of `data` in `norm` with `output`,
    /// evaluated in `arithmetic`.
    pub fn new(data: &'a Dataset, norm: Norm, output: OutputKind, arithmetic: Arithmetic) -> Self {
        let largest_coordinate = data.points.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        ScoreFit {
            data,
            norm,
            output,
            arithmetic,
            largest_coordinate,
        }
    }

    /// The data the fit is for.
    pub fn data(&self) -> &'a Dataset {
        self.data
    }

    /// The stage program compile builds for `candidate` at radius `sigma`
    /// with `slots_per_class` accumulators; `None` when the candidate does
    /// not certify `sigma` even in real arithmetic.
    pub fn program(
        &self,
        candidate: &Candidate,
        slots_per_class: usize,
        sigma: f64,
    ) -> Option<StageProgram> {
        self.program_covered(candidate, slots_per_class, sigma, None)
    }

    /// [`Self::program`] with scores only for the prototypes of `covering`
    /// (per point, the point whose score covers it; [`super::condense`]).
    pub fn program_covered(
        &self,
        candidate: &Candidate,
        slots_per_class: usize,
        sigma: f64,
        covering: Option<&Covering>,
    ) -> Option<StageProgram> {
        let projection = &candidate.projection;
        assemble(&Assembly {
            data: self.data,
            norm: self.norm,
            radius: sigma,
            strategy: projection.strategy.name(),
            matrix: &projection.matrix,
            centre: &projection.centre,
            norm_bound: projection.norm_bound,
            projected: &candidate.projected.points,
            delta_prime: candidate.projected.delta,
            output: self.output,
            slots_per_class,
            covering,
        })
        .ok()
    }

    /// The rounding check of the network at radius `sigma` when it has
    /// `depth` layers.
    pub fn check_program(&self, program: &StageProgram, depth: usize) -> RoundingCheck {
        rounding_check(
            program,
            depth,
            self.largest_coordinate + program.radius,
            self.arithmetic.unit,
        )
    }

    /// True when the network of `candidate` at `sigma` with
    /// `slots_per_class` accumulators is certified in the arithmetic:
    /// `sigma` is below the candidate's real-arithmetic supremum and
    /// [`ROUNDING_SAFETY`] times the rounding bound, at the planned depth,
    /// is below what the margin tolerates.
    pub fn fits(&self, candidate: &Candidate, slots_per_class: usize, sigma: f64) -> bool {
        if !(sigma >= 0.0 && candidate.certifies(sigma)) {
            return false;
        }
        self.program(candidate, slots_per_class, sigma)
            .is_some_and(|program| {
                let check =
                    self.check_program(&program, self.planned_depth(&program, slots_per_class));
                ROUNDING_SAFETY * check.bound < check.limit
            })
    }

    /// The largest radius at most `top` that [`Self::fits`] accepts (to a
    /// relative 1e-6, by bisection, and exactly `top` when `top` fits);
    /// `None` when no positive radius does.
    pub fn largest_radius(
        &self,
        candidate: &Candidate,
        slots_per_class: usize,
        top: f64,
    ) -> Option<f64> {
        let fits = |sigma: f64| self.fits(candidate, slots_per_class, sigma);
        if fits(top) {
            return Some(top);
        }
        // Invariant: `lo` fits (or is 0), `hi` does not.
        let (mut lo, mut hi) = (0.0, top);
        for _ in 0..BISECTION_STEPS {
            if hi - lo <= BISECTION_TOLERANCE * hi {
                break;
            }
            let mid = lo + (hi - lo) / 2.0;
            if fits(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        (lo > 0.0).then_some(lo)
    }

    /// The depth the rounding check counts for `program`: the plan's
    /// formula for logits (an upper bound on the lowered depth), the
    /// number of scored points plus 2 for the label output.
    pub fn planned_depth(&self, program: &StageProgram, slots_per_class: usize) -> usize {
        let sizes = scored_sizes(program, self.data);
        match self.output {
            OutputKind::Logits => logits_depth(&sizes, slots_per_class),
            OutputKind::Label => sizes.iter().sum::<usize>() + 2,
        }
    }
}

/// Points with a score of their own, per class: the class sizes, or the
/// prototypes per class for a condensed program.
pub fn scored_sizes(program: &StageProgram, data: &Dataset) -> Vec<usize> {
    match program.scores().and_then(|s| s.covering.as_ref()) {
        Some(covering) => covering.sizes(&data.labels, data.classes.len()),
        None => data.class_sizes(),
    }
}
