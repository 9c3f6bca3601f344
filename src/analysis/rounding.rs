//! A bound on the floating-point error of a compiled network, gadget by
//! gadget (specs/construction.md section 6), used by `compile` to refuse a
//! precision whose rounding could exceed the network's margin.
//!
//! The bound follows the structure of the construction rather than
//! propagating errors neuron by neuron (which would double at every
//! running-max layer, since `A' = A + relu(s - A)` reads `A` twice):
//!
//! 1. Projection: `u = relu(U x + b)` with `|x_k| <= X`, evaluated with unit
//!    roundoff `u` and `g_n = n u / (1 - n u)`, has error
//!    `e_k <= (g_{d+1} + u) (|U_k| X + |b_k|)` in coordinate k (weights rounded
//!    too). Copies of `u` (weight 1, bias 0) are exact. The computed `u` is
//!    the exact `u` of the projected point `z + eps` with `||eps||_2 <= E_u =
//!    ||e||_2`, the same for every score: rounding in the projection only
//!    moves the point, so the margin lemma holds with `r + E_u` in place of
//!    `r`, giving `gamma_eff = delta' (delta'/2 - r - E_u)` (and `e_k < 1`
//!    keeps the first layer's ReLUs, which are >= 1 on the balls, active).
//! 2. A score, or a comparison `s_j(u) - V`, read from the computed `u` in
//!    one dot product of at most m + 3 terms, has error
//!    `e_s <= (g_{m+3} + u) (||z_j||_1 M_u + |c_j| + 2 M_s)`, where `M_u` and
//!    `M_s` bound `|u_k|` and every score on the (widened) balls.
//! 3. A running maximum `V' = A' + q'` with `A' = fl(A + q)` and
//!    `q' = relu(fl(s - A - q))` equals `max(V, s + eta) + delta` with
//!    `|eta| <= e_s` and `|delta| <= u M_s`. Since A never decreases and
//!    `delta = 0` whenever the previous comparison was 0, the error stays
//!    within `e_s + 2 u M_s` at any depth (specs/construction.md section
//!    6.1), not `e_s + L u M_s` as max's Lipschitz bound alone gives after
//!    L layers. Max-tree levels add one rounding each; the label gadget's
//!    best score is a second running maximum over the groups' maxima. The
//!    check keeps the smaller of this and the per-layer count.
//! 4. Decisions, with `gamma_eff` for gamma: logits stay right when
//!    `2 e_V < gamma` (every logit is a
//!    running maximum, scaled alike); the label gadget's step
//!    `h = relu(kappa D - 1/2) - relu(kappa D - 3/2)` stays 1 when the real
//!    `kappa D >= 2` and 0 when it is `<= -2` as long as the error of
//!    `D = G - B` (at most `2 e_V`) times `kappa = 2 / gamma` is below 1/2,
//!    i.e. `e_V < gamma / 8`; then `kappa e_V` is small enough that the
//!    rounding of `h` itself is negligible, and the label register holds
//!    small integers exactly.
//!
//! Weights of +-1 and 0 are exact in every format, and copies (one term of
//! weight 1, no bias) are exact, so a value is rounded at most once per
//! layer. This is the compiler's own check, not a
//! certificate: it is computed in `f64` without directed rounding and trusts
//! the stage program's constants. The certificate checker recomputes
//! everything from the weights.

use crate::ir::stages::{Construction, DistanceNorm, Reduction, ScoreStage, StageProgram};
use ndarray::{Array1, Array2};

/// Unit roundoff of float32.
pub const F32_UNIT_ROUNDOFF: f64 = 1.0 / (1u64 << 24) as f64;

/// Unit roundoff of float64.
pub const F64_UNIT_ROUNDOFF: f64 = 1.0 / (1u64 << 53) as f64;

/// The outcome of [`rounding_check`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoundingCheck {
    /// Bound on the error of any running maximum (score units).
    pub bound: f64,
    /// `E_u`: how far the projection's rounding can move the projected point.
    pub widening: f64,
    /// The decisions tolerate `gamma_eff / share` (2 for logits, 8 for label).
    pub share: f64,
    /// What the bound must stay below for every decision to hold: a share of
    /// the margin left once the projection's rounding has widened the balls.
    pub limit: f64,
}

impl RoundingCheck {
    /// True when rounding cannot change a decision.
    pub fn fits(&self) -> bool {
        self.bound < self.limit
    }

    /// The gap `delta'/2 - r` (projected units) the decisions need:
    /// `gamma_eff = delta' (delta'/2 - r - E_u) > share * bound` holds when
    /// `delta'/2 - r > E_u + share * bound / delta'`.
    pub fn needed_gap(&self, delta_prime: f64) -> f64 {
        self.widening + self.share * self.bound / delta_prime
    }
}

fn growth(n: usize, unit: f64) -> f64 {
    let n = n as f64;
    n * unit / (1.0 - n * unit)
}

/// Bounds the rounding error of the network `program` lowers to, evaluated
/// with unit roundoff `unit`, for inputs with `|x_k| <= input_bound` in the
/// balls, when the lowered network has `depth` layers.
pub fn rounding_check(
    program: &StageProgram,
    depth: usize,
    input_bound: f64,
    unit: f64,
) -> RoundingCheck {
    match &program.construction {
        Construction::Scores { scores, reduction } => {
            score_rounding(program, scores, reduction, depth, input_bound, unit)
        }
        Construction::Distances(stage) => {
            let centre_ranges: Vec<(f64, f64)> = stage
                .centres
                .columns()
                .into_iter()
                .map(|column| {
                    column
                        .iter()
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &c| {
                            (lo.min(c), hi.max(c))
                        })
                })
                .collect();
            let bound = distance_rounding(&DistanceRounding {
                rows: &row_sizes(&program.projection.matrix),
                bias: &(&program.projection.shift
                    - &program.projection.matrix.dot(&program.projection.centre)),
                centre_ranges: &centre_ranges,
                norm: stage.norm,
                input_bound,
                projected_radius: program.projection.projected_radius,
                slots_per_class: stage.slots_per_class,
                unit,
                label: stage.label.as_ref().map(|chain| chain.groups.len()),
            });
            RoundingCheck {
                bound,
                widening: 0.0,
                share: 1.0,
                limit: stage.margin,
            }
        }
    }
}

/// [`rounding_check`] for a score network.
fn score_rounding(
    program: &StageProgram,
    scores: &ScoreStage,
    reduction: &Reduction,
    depth: usize,
    input_bound: f64,
    unit: f64,
) -> RoundingCheck {
    let projection = &program.projection;
    let (m, d) = projection.matrix.dim();

    // 1. Projection layer: per-coordinate errors, their l2 norm widens r.
    let bias = &projection.shift - &projection.matrix.dot(&projection.centre);
    let coordinate_errors: Vec<f64> = projection
        .matrix
        .rows()
        .into_iter()
        .zip(&bias)
        .map(|(row, b)| {
            let size = row.iter().map(|w| w.abs()).sum::<f64>() * input_bound + b.abs();
            (growth(d + 1, unit) + unit) * size
        })
        .collect();
    let projection_error = coordinate_errors.iter().map(|e| e * e).sum::<f64>().sqrt();
    let widest = coordinate_errors.iter().copied().fold(0.0, f64::max);
    let r = projection.projected_radius + projection_error;
    let lemma = scores.delta_prime * (scores.delta_prime / 2.0 - r);
    // A condensed network (section 5C) has its cover's margin on balls of
    // the cover's radius, which must contain the widened balls.
    let gamma = match &scores.covering {
        Some(c) if r <= c.radius * (1.0 + 1e-12) => lemma.min(c.margin),
        Some(_) => 0.0,
        None => lemma,
    };

    // Magnitudes on the widened balls: u_k <= t_k + max_i z_ik + r; every
    // score s_j(z) <= ||z_j|| (R + r) - ||z_j||^2 / 2 + S <= S + (R + r)^2 / 2.
    let mut projected: f64 = 1.0;
    for (k, column) in scores.centres.columns().into_iter().enumerate() {
        let top = column.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        projected = projected.max(projection.shift[k] + top + r);
    }
    let reach = scores
        .centres
        .rows()
        .into_iter()
        .fold(0.0f64, |acc, row| acc.max(row.dot(&row).sqrt()));
    let score_bound = scores.offset + (reach + r).powi(2) / 2.0;

    // 2. The worst score or comparison, from the computed u.
    let score_error = scores
        .centres
        .rows()
        .into_iter()
        .zip(&scores.offsets)
        .map(|(row, c)| {
            let l1 = row.iter().map(|z| z.abs()).sum::<f64>();
            (growth(m + 3, unit) + unit) * (l1 * projected + c.abs() + 2.0 * score_bound)
        })
        .fold(0.0, f64::max);

    // 3. Running maxima. Counted per layer, one rounding of a value <= M_s
    // per layer (a generous count: the network's depth), plus the output
    // layer's scaling and two-term sum. Counted as in section 6.1, a running
    // maximum errs by at most its largest entered error plus `2 u M_s` at
    // any depth; a max-tree level enters another running maximum and adds
    // one rounding; the label gadget's best score B is a running maximum
    // whose entered values are the groups' maxima G (each within the
    // slot bound) compared in a four-term row. Both counts bound the same
    // error; the smaller is kept.
    let per_layer = score_error + (depth as f64 + 3.0) * unit * score_bound;
    let tight = score_error + tight_running_max(reduction, unit, score_bound);
    let bound = per_layer.min(tight);

    // 4. What the decisions tolerate (nothing when the widened balls touch
    // or the first layer's ReLUs could switch off).
    let share = match reduction {
        Reduction::LabelGroups { .. } => 8.0,
        _ => 2.0,
    };
    let limit = match reduction {
        Reduction::Constant => f64::INFINITY,
        _ if gamma <= 0.0 || widest >= 1.0 => 0.0,
        _ => gamma / share,
    };
    RoundingCheck {
        bound,
        widening: projection_error,
        share,
        limit,
    }
}

/// The size of one row of a first layer, as its rounding depends on it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowSize {
    /// Non-zero weights (the bias is one more term).
    pub terms: usize,
    /// The sum of the weights' magnitudes.
    pub l1: f64,
}

/// The [`RowSize`] of every row of `matrix`.
pub fn row_sizes(matrix: &Array2<f64>) -> Vec<RowSize> {
    matrix
        .rows()
        .into_iter()
        .map(|row| RowSize {
            terms: row.iter().filter(|w| **w != 0.0).count(),
            l1: row.iter().map(|w| w.abs()).sum(),
        })
        .collect()
}

/// The part of a running maximum's error bound that is not the entered
/// error (specs/construction.md section 6.1), for values at most
/// `score_bound`: `2 u M` per running maximum; per max-tree level the
/// merge row's rounding `g_4 2 M` (it enters the other maximum) and one
/// carry `u M`; for the label gadget the best score's own chain,
/// whose entered values (a group's maximum compared in a four-term row)
/// add `g_4 2 M`; plus `3 u M` for the output row, as the per-layer count.
fn tight_running_max(reduction: &Reduction, unit: f64, score_bound: f64) -> f64 {
    let chain = 2.0 * unit * score_bound;
    let output = 3.0 * unit * score_bound;
    match reduction {
        Reduction::RunningMax { slots, classes, .. } => {
            let most = (0..*classes)
                .map(|c| slots.iter().filter(|s| s.class as usize == c).count())
                .max()
                .unwrap_or(1);
            let level = (growth(4, unit) * 2.0 + unit) * score_bound;
            chain + ceil_log2(most) as f64 * level + output
        }
        Reduction::LabelGroups { .. } => {
            chain + (growth(4, unit) * 2.0 * score_bound + chain) + output
        }
        Reduction::Constant => 0.0,
    }
}

/// What [`distance_rounding`] needs: the first layer, the centres (as they
/// will be stored) and the shape of the reduction.
#[derive(Clone, Copy, Debug)]
pub struct DistanceRounding<'a> {
    /// Each row of V, K x d, by its size.
    pub rows: &'a [RowSize],
    /// The first layer's bias `t - V mu`.
    pub bias: &'a Array1<f64>,
    /// Per coordinate k, the least and largest stored centre c_jk.
    pub centre_ranges: &'a [(f64, f64)],
    /// q.
    pub norm: DistanceNorm,
    /// A bound on `|x_l|` over every ball.
    pub input_bound: f64,
    /// r = sigma ||V||_{p->q}.
    pub projected_radius: f64,
    /// Running minima per class (the min tree's depth).
    pub slots_per_class: usize,
    /// Unit roundoff.
    pub unit: f64,
    /// `output = label`: the number of classes the label gadget closes.
    pub label: Option<usize>,
}

/// A bound, in distance units, on how much rounding can shrink the margin
/// `delta'_q - 2 r` of a distance network (specs/construction.md section 8):
/// the network decides right in this arithmetic when `delta'_q - 2 r`
/// exceeds it. It is twice (own and other label) a bound on one logit's
/// error, itself the sum of:
/// - the first layer's rounding and the storing of its weights, which move
///   `u` by a vector whose q-norm widens every ball (a distance is
///   1-Lipschitz in q);
/// - the storing of the centres;
/// - the distance itself: every half carries one relative rounding; l1 sums
///   2K halves inside the comparison row (`gamma_{2K+2}` of the terms'
///   sizes); l_inf adds one rounding per max-tree level;
/// - the running minimum: the comparison's rounding plus `2 u M` whatever
///   the depth (section 6.1, with `M` the largest distance), one rounding
///   per min-tree level, and the output's two-term row.
///
/// Every quantity is first order in the coordinates: no `(R / delta)^2`.
/// The result is doubled for safety: this is the compiler's plan; the
/// checker recomputes the bound rigorously from the stored weights.
///
/// The label gadget (section 5B on the minima, `kappa = 2 / margin`) needs
/// kappa times the error of a gap `B - M_c` below 1/2, i.e. that error below
/// a quarter of the margin: the gap holds two minima's errors, plus the
/// running best's rounding (one relative rounding per class closed) and the
/// step row's, so the bound is four times that sum, doubled.
pub fn distance_rounding(inputs: &DistanceRounding<'_>) -> f64 {
    let u = inputs.unit;
    let k_count = inputs.rows.len();
    let q = |v: &[f64]| inputs.norm.length(v.iter().copied());
    // First layer: computed error and the storing of V and b.
    // A dot product's rounding counts only its non-zero terms (adding an
    // exact zero is exact), so the identity map's rows have two.
    let first: Vec<f64> = inputs
        .rows
        .iter()
        .zip(inputs.bias)
        .map(|(row, b)| {
            let size = row.l1 * inputs.input_bound + b.abs();
            (growth(row.terms + 1, u) + 2.0 * u) * size
        })
        .collect();
    let widening = q(&first);
    // Storing the centres.
    let largest_centre: Vec<f64> = inputs
        .centre_ranges
        .iter()
        .map(|&(lo, hi)| u * lo.abs().max(hi.abs()))
        .collect();
    let stored = q(&largest_centre);
    // The largest distance any neuron holds on any ball.
    let spread: Vec<f64> = inputs
        .centre_ranges
        .iter()
        .map(|&(lo, hi)| hi - lo)
        .collect();
    let largest = q(&spread) + 2.0 * (inputs.projected_radius + widening + stored);
    let halves = u * largest;
    let distance = match inputs.norm {
        DistanceNorm::L1 => growth(2 * k_count + 2, u) * 3.0 * largest,
        DistanceNorm::Linf => {
            let levels = ceil_log2(2 * k_count) as f64;
            (levels * 2.0 + 4.0) * growth(4, u) * largest
        }
    };
    let running = 2.0 * u * largest;
    let tree = ceil_log2(inputs.slots_per_class) as f64 * growth(4, u) * 2.0 * largest;
    let output = growth(2, u) * 2.0 * largest;
    let minimum = widening + stored + halves + distance + running + tree;
    match inputs.label {
        None => 2.0 * 2.0 * (minimum + output),
        Some(classes) => {
            let best = (classes as f64 + 2.0) * 2.0 * u * largest;
            let step = growth(8, u) * 16.0 * largest;
            2.0 * 4.0 * (2.0 * minimum + best + step)
        }
    }
}

fn ceil_log2(n: usize) -> usize {
    let mut levels = 0;
    while (1usize << levels) < n {
        levels += 1;
    }
    levels
}
