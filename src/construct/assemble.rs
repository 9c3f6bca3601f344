//! Assembling a [`StageProgram`] from a chosen projection: the constants of
//! the first layer (section 4, "First layer"), the scores and the margin
//! lemma (section 4), and the reduction (section 5).

use crate::data::{Dataset, LabelValue};
use crate::ir::stages::{
    Construction, Covering, Group, LabelChain, OutputStage, ProjectionStage, Reduction, ScoreStage,
    Slot, StageProgram,
};
use crate::norm::Norm;
use crate::spec::OutputKind;
use ndarray::{Array1, Array2, Axis};

/// Everything [`assemble`] needs besides the data.
#[derive(Clone, Debug)]
pub struct Assembly<'a> {
    /// The data set being memorized.
    pub data: &'a Dataset,
    /// The perturbation norm.
    pub norm: Norm,
    /// The radius sigma to certify.
    pub radius: f64,
    /// Name of the projection strategy.
    pub strategy: &'a str,
    /// U, m x d.
    pub matrix: &'a Array2<f64>,
    /// mu, length d.
    pub centre: &'a Array1<f64>,
    /// An upper bound on ||U||_{p->2}.
    pub norm_bound: f64,
    /// z_i = U (x_i - mu), N x m.
    pub projected: &'a Array2<f64>,
    /// delta', the l2 separation of the projected points.
    pub delta_prime: f64,
    /// Logits or label.
    pub output: OutputKind,
    /// Running maxima per class (logits only; at least 1).
    pub slots_per_class: usize,
    /// Condensed networks: which point's score covers each point
    /// ([`super::condense`]). Only prototypes get a score, and gamma is at
    /// most the cover's margin. `None`: every point has its own.
    pub covering: Option<&'a Covering>,
}

/// Why a stage program cannot be assembled.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AssemblyError {
    /// `2 r >= delta'`: the projected balls of two differently-labelled
    /// points touch, so the margin lemma gives nothing.
    #[error(
        "the projection does not certify radius {radius}: 2 r = {two_r} >= delta' = {delta_prime}"
    )]
    RadiusTooLarge {
        /// sigma.
        radius: f64,
        /// 2 sigma ||U||.
        two_r: f64,
        /// delta'.
        delta_prime: f64,
    },
}

/// Builds the stage program for the given projection and radius.
///
/// With one label the program is the constant network (any radius holds).
pub fn assemble(a: &Assembly<'_>) -> Result<StageProgram, AssemblyError> {
    let classes = a.data.classes.len();
    let r = a.radius * a.norm_bound;
    if classes >= 2 && 2.0 * r >= a.delta_prime {
        return Err(AssemblyError::RadiusTooLarge {
            radius: a.radius,
            two_r: 2.0 * r,
            delta_prime: a.delta_prime,
        });
    }
    let projection = projection_stage(a, r);
    let lemma = a.delta_prime * (a.delta_prime / 2.0 - r);
    let gamma = a.covering.map_or(lemma, |c| lemma.min(c.margin));
    let by_class = points_by_class(a);
    let (reduction, output) = if classes < 2 {
        constant_reduction(a)
    } else {
        match a.output {
            OutputKind::Logits => running_max(a, by_class, gamma),
            OutputKind::Label => label_groups(a, by_class, gamma),
        }
    };
    let scores = score_stage(a, &projection.shift, r, gamma, &leading_points(&reduction));
    Ok(StageProgram {
        input_dim: a.data.dim(),
        norm: a.norm,
        radius: a.radius,
        projection,
        construction: Construction::Scores { scores, reduction },
        output,
    })
}

/// `t_k = 1 + r - min_i z_ik`: on the ball around z_i every coordinate of
/// `z + t` is at least `z_ik - r + t_k >= 1`.
fn projection_stage(a: &Assembly<'_>, r: f64) -> ProjectionStage {
    let shift = shift_for(a.projected, r);
    ProjectionStage {
        strategy: a.strategy.to_string(),
        matrix: a.matrix.clone(),
        centre: a.centre.clone(),
        shift,
        norm_bound: a.norm_bound,
        projected_radius: r,
    }
}

/// `t_k = 1 + r - min_i z_ik` for the mapped points `projected` (N x m) and
/// a per-coordinate reach r of the balls: every coordinate of `z + t` is at
/// least 1 on every ball.
pub(crate) fn shift_for(projected: &Array2<f64>, r: f64) -> Array1<f64> {
    projected
        .axis_iter(Axis(1))
        .map(|column| 1.0 + r - column.iter().copied().fold(f64::INFINITY, f64::min))
        .collect()
}

/// Scores `s_j(u) = <z_j, u> + c_j` with `c_j = -<z_j, t> - ||z_j||^2/2 + S`
/// (section 4). On the ball around z_i, `||z|| <= R + r` with
/// `R = max_i ||z_i||`, so `s_j >= -||z_j|| (R + r) - ||z_j||^2/2 + S`.
/// Only the score a running maximum starts from passes a ReLU as itself
/// (later points enter through `relu(s_j - A)`, and `A` never decreases), so
/// `S = 1 + max over leading points j of (||z_j|| (R + r) + ||z_j||^2/2)`
/// makes every running maximum >= 1. Leading points are the smallest-norm
/// points of their slots, which keeps S, and with it every magnitude the
/// rounding bound depends on, small.
fn score_stage(
    a: &Assembly<'_>,
    shift: &Array1<f64>,
    r: f64,
    gamma: f64,
    leading: &[usize],
) -> ScoreStage {
    let z = a.projected;
    let squared: Array1<f64> = z.map_axis(Axis(1), |row| row.dot(&row));
    let reach = squared.iter().copied().fold(0.0, f64::max).sqrt() + r;
    let offset = 1.0
        + leading
            .iter()
            .map(|&j| squared[j].sqrt() * reach + squared[j] / 2.0)
            .fold(0.0, f64::max);
    let offsets = on_grid(&(&(-z.dot(shift)) - &(&squared / 2.0) + offset));
    let mut centres = z.clone();
    for mut column in centres.columns_mut() {
        let snapped = on_grid(&column.to_owned());
        column.assign(&snapped);
    }
    ScoreStage {
        centres,
        offsets,
        offset,
        delta_prime: a.delta_prime,
        gamma,
        covering: a.covering.cloned(),
    }
}

/// `values` rounded to the nearest multiples of one power of two `g` with
/// every `|value| / g <= 2^50`, so that the difference of two of them, and
/// that difference plus either one, are exact in f64. A comparison neuron
/// of the first gadget layer stores `s_j - s_p` (weights and bias) and the
/// checker recovers `s_j` by adding `s_p` back: it must add up exactly in
/// every precision, f64 included. The change is at most `2^-51` of the
/// largest value, well inside the margins (the checker measures the
/// scores as stored).
fn on_grid(values: &Array1<f64>) -> Array1<f64> {
    let top = values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    if top == 0.0 || !top.is_finite() {
        return values.clone();
    }
    // 2^e >= top, g = 2^(e - 50).
    let e = top.log2().ceil() as i32 + 1;
    let g = 2f64.powi(e - 50);
    if g == 0.0 || !g.is_finite() {
        return values.clone();
    }
    values.mapv(|v| (v / g).round() * g)
}

/// The point each running maximum starts from.
fn leading_points(reduction: &Reduction) -> Vec<usize> {
    match reduction {
        Reduction::RunningMax { slots, .. } => slots.iter().map(|s| s.points[0]).collect(),
        Reduction::LabelGroups { groups, .. } => groups.iter().map(|g| g.points[0]).collect(),
        Reduction::Constant => Vec::new(),
    }
}

/// Points of each class that keep a score (the prototypes of a condensed
/// network), nearest to the projected centre first (ties in data order),
/// so that every slot starts from a small score offset.
fn points_by_class(a: &Assembly<'_>) -> Vec<Vec<usize>> {
    let norms: Vec<f64> = a.projected.rows().into_iter().map(|z| z.dot(&z)).collect();
    let mut by_class = vec![Vec::new(); a.data.classes.len()];
    for (i, &label) in a.data.labels.iter().enumerate() {
        by_class[label as usize].push(i);
    }
    if let Some(covering) = a.covering {
        for points in &mut by_class {
            points.retain(|&i| covering.is_prototype(i));
        }
    }
    for points in &mut by_class {
        points.sort_by(|&i, &j| norms[i].total_cmp(&norms[j]).then(i.cmp(&j)));
    }
    by_class
}

/// Section 5A: class c's points dealt round-robin to `min(k, N_c)` slots.
fn running_max(
    a: &Assembly<'_>,
    by_class: Vec<Vec<usize>>,
    gamma: f64,
) -> (Reduction, OutputStage) {
    let k = a.slots_per_class.max(1);
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
    let classes = a.data.classes.len();
    let reduction = Reduction::RunningMax {
        classes,
        slots_per_class: k,
        slots,
    };
    let output = OutputStage {
        kind: OutputKind::Logits,
        scale: 1.0 / gamma,
        label_shift: 0.0,
        outputs: classes,
    };
    (reduction, output)
}

/// The label values the gadget carries: at least 1, so they pass ReLUs.
/// Numeric labels keep their spacing (`v - v_min + 1`); named labels carry
/// their class index plus 1. Returns the values and the output shift.
pub(crate) fn internal_values(data: &Dataset) -> (Vec<f64>, f64) {
    if data.classes.numeric() {
        let numbers: Vec<f64> = data
            .classes
            .values
            .iter()
            .map(|v| match v {
                LabelValue::Number(x) => *x,
                LabelValue::Name(_) => unreachable!("numeric classes"),
            })
            .collect();
        let lowest = numbers.iter().copied().fold(f64::INFINITY, f64::min);
        (
            numbers.iter().map(|v| v - lowest + 1.0).collect(),
            1.0 - lowest,
        )
    } else {
        ((1..=data.classes.len()).map(|c| c as f64).collect(), 1.0)
    }
}

/// Section 5B: one group per class, closed in class order.
fn label_groups(
    a: &Assembly<'_>,
    by_class: Vec<Vec<usize>>,
    gamma: f64,
) -> (Reduction, OutputStage) {
    let (chain, output) = label_chain(a.data, by_class, gamma);
    let reduction = Reduction::LabelGroups {
        groups: chain.groups,
        kappa: chain.kappa,
        reach: chain.reach,
    };
    (reduction, output)
}

/// The label gadget's constants for either construction (sections 5B and
/// 8.3): one group per class in class order carrying its internal value,
/// `kappa = 2 / margin` (the step is 0 below `margin / 4` and 1 above
/// `3 margin / 4`), the reach `Y' = 2 (largest value - 1) + 2`, and the
/// output stage that subtracts the label shift.
pub(crate) fn label_chain(
    data: &Dataset,
    by_class: Vec<Vec<usize>>,
    margin: f64,
) -> (LabelChain, OutputStage) {
    let (values, label_shift) = internal_values(data);
    let highest = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let groups = by_class
        .into_iter()
        .enumerate()
        .map(|(class, points)| Group {
            class: class as u32,
            value: values[class],
            points,
        })
        .collect();
    let chain = LabelChain {
        groups,
        kappa: 2.0 / margin,
        reach: 2.0 * (highest - 1.0) + 2.0,
    };
    let output = OutputStage {
        kind: OutputKind::Label,
        scale: 1.0,
        label_shift,
        outputs: 1,
    };
    (chain, output)
}

/// One label: class 0 everywhere.
fn constant_reduction(a: &Assembly<'_>) -> (Reduction, OutputStage) {
    let output = match a.output {
        OutputKind::Logits => OutputStage {
            kind: OutputKind::Logits,
            scale: 1.0,
            label_shift: 0.0,
            outputs: 1,
        },
        OutputKind::Label => {
            let (values, shift) = internal_values(a.data);
            OutputStage {
                kind: OutputKind::Label,
                scale: 1.0,
                // The constant output is `-label_shift`, so store `-value`.
                label_shift: -(values[0] - shift),
                outputs: 1,
            }
        }
    };
    (Reduction::Constant, output)
}
