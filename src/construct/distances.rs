//! Assembling a distance program (specs/construction.md section 8): the
//! first layer `u = relu(V (x - mu) + t)`, one centre `c_j = y_j + t` per
//! data point, running minima of `D_j(u) = ||u - c_j||_q` per class and
//! logits `-scale * min_j D_j`, or (`output = label`) the label gadget of
//! section 5B on the class minima with `kappa = 2 / (delta'_q - 2 r)`.

use super::assemble::{label_chain, shift_for, AssemblyError};
use super::condense_distances::DistanceCover;
use crate::data::Dataset;
use crate::ir::stages::{
    Construction, DistanceNorm, DistanceStage, OutputStage, ProjectionStage, Slot, StageProgram,
};
use crate::norm::Norm;
use crate::spec::OutputKind;
use ndarray::{Array1, Array2};

/// Everything [`assemble_distances`] needs besides the data.
#[derive(Clone, Debug)]
pub struct DistanceAssembly<'a> {
    /// The data set being memorized.
    pub data: &'a Dataset,
    /// The perturbation norm p.
    pub norm: Norm,
    /// The distance norm q.
    pub distance_norm: DistanceNorm,
    /// The radius sigma to certify.
    pub radius: f64,
    /// Name of the map's strategy.
    pub strategy: &'a str,
    /// V, K x d.
    pub matrix: &'a Array2<f64>,
    /// mu, length d.
    pub centre: &'a Array1<f64>,
    /// An upper bound on ||V||_{p->q}.
    pub norm_bound: f64,
    /// y_i = V (x_i - mu), N x K.
    pub mapped: &'a Array2<f64>,
    /// delta'_q, the separation of the mapped points in q.
    pub delta_prime: f64,
    /// Running minima per class (at least 1).
    pub slots_per_class: usize,
    /// Logits or label.
    pub output: OutputKind,
    /// A condensed network (section 8.8): only the cover's prototypes are
    /// centres, and the margin is the cover's; `None`: every point.
    pub condensed: Option<&'a DistanceCover>,
}

/// Builds the distance program for the given map and radius.
pub fn assemble_distances(a: &DistanceAssembly<'_>) -> Result<StageProgram, AssemblyError> {
    let r = a.radius * a.norm_bound;
    if 2.0 * r >= a.delta_prime {
        return Err(AssemblyError::RadiusTooLarge {
            radius: a.radius,
            two_r: 2.0 * r,
            delta_prime: a.delta_prime,
        });
    }
    // Every coordinate of a ball's image moves by at most r (q = inf) or by
    // at most r in total (q = 1): a shift of 1 + r above the lowest mapped
    // coordinate keeps u >= 1 on every ball, so the first ReLU is exact.
    let shift = shift_for(a.mapped, r);
    let centres = a.mapped + &shift;
    let classes = a.data.classes.len();
    let kept = a.condensed.map(|c| c.kept.as_slice());
    let slots = deal_slots(a.data, a.slots_per_class, kept);
    let margin = match a.condensed {
        Some(c) => c.margin.min(a.delta_prime - 2.0 * r),
        None => a.delta_prime - 2.0 * r,
    };
    let (label, output) = match a.output {
        OutputKind::Logits => (
            None,
            OutputStage {
                kind: OutputKind::Logits,
                scale: 1.0 / margin,
                label_shift: 0.0,
                outputs: classes,
            },
        ),
        OutputKind::Label => {
            let by_class = (0..classes)
                .map(|class| {
                    slots
                        .iter()
                        .filter(|s| s.class as usize == class)
                        .flat_map(|s| s.points.iter().copied())
                        .collect()
                })
                .collect();
            let (chain, output) = label_chain(a.data, by_class, margin);
            (Some(chain), output)
        }
    };
    Ok(StageProgram {
        input_dim: a.data.dim(),
        norm: a.norm,
        radius: a.radius,
        projection: ProjectionStage {
            strategy: a.strategy.to_string(),
            matrix: a.matrix.clone(),
            centre: a.centre.clone(),
            shift,
            norm_bound: a.norm_bound,
            projected_radius: r,
        },
        construction: Construction::Distances(DistanceStage {
            norm: a.distance_norm,
            centres,
            delta_prime: a.delta_prime,
            margin,
            classes,
            slots_per_class: a.slots_per_class.max(1),
            slots,
            label,
        }),
        output,
    })
}

/// Class c's centres (its points, or those `kept` marks) dealt round-robin
/// to `min(k, N_c)` slots, in data order.
fn deal_slots(data: &Dataset, k: usize, kept: Option<&[bool]>) -> Vec<Slot> {
    let k = k.max(1);
    let mut by_class = vec![Vec::new(); data.classes.len()];
    for (i, &label) in data.labels.iter().enumerate() {
        if kept.is_none_or(|kept| kept[i]) {
            by_class[label as usize].push(i);
        }
    }
    let mut slots = Vec::new();
    for (class, points) in by_class.into_iter().enumerate() {
        let count = k.min(points.len());
        for slot in 0..count {
            slots.push(Slot {
                class: class as u32,
                slot,
                points: points.iter().skip(slot).step_by(count).copied().collect(),
            });
        }
    }
    slots
}

/// The separation of `mapped` (N x K) in q over differently-labelled pairs
/// (the exact kernels of [`crate::analysis::separation`]).
pub fn distance_separation(mapped: &Array2<f64>, labels: &[u32], q: DistanceNorm) -> f64 {
    let norm = match q {
        DistanceNorm::L1 => Norm::L1,
        DistanceNorm::Linf => Norm::Linf,
    };
    crate::analysis::separation::separation(mapped.view(), labels, norm).delta
}
