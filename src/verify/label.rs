//! Bounds on the output of a label network (specs/construction.md section 5B)
//! over each data point's ball, from the gadget [`super::gadgets`]
//! recognised in the weights.
//!
//! For a point x_i of class y, with the computed first-layer output `u`
//! in the l2 ball `|u - c_i| <= rho_i` (the analysis' ball, first-layer
//! rounding included), each step pair is `h_p = relu(X + bias_p)` with
//! `X = kappa G - kappa B + <a, u>` exactly at the computed inputs, and
//! `delta = bias_0 - bias_1 > 0`:
//! - **own step** (class y): `G >= s_o` for one score o of G (the point's
//!   own score when G holds it) and `B = max_b s_b`, so
//!   `X >= min_b lower(kappa s_o - kappa s_b + <a, u>)` minus the computed
//!   maxima's errors; when `X + bias_1` minus its rounding is >= 0 both
//!   neurons are active and `h_0 - h_1 = delta` up to both roundings;
//! - **later steps** (and every step when y's group is closed without one):
//!   `B >= s_own`, so `X <= max_g upper(kappa s_g - kappa s_own + <a, u>)`
//!   plus errors; when `X + bias_0` plus its rounding is <= 0 both neurons
//!   are exactly 0;
//! - **earlier steps**: `h_0 - h_1` lies between `min(0, delta - e)` and
//!   `max(0, delta + e)` whatever X (ReLU is monotone and 1-Lipschitz).
//!
//! Each affine function of `u` is bounded over the ball exactly (its value
//! at the centre, computed with outward rounding, plus or minus its
//! gradient's l2 norm times the radius). The register rows are then
//! evaluated in interval arithmetic, neuron by neuron, with each row's
//! rounding `gamma_n (sum |w| |v| + |bias|)` added: the output's interval
//! contains every computed output on the ball, in the arithmetic examined.

use super::gadgets::{LabelGadget, Leaf, RegisterRow, StepPair};
use super::interval::{gamma, sqrt_up, Interval};
use std::collections::HashMap;

const DOUBLE: f64 = f64::EPSILON / 2.0;

/// The region of one point: computed first-layer outputs lie within
/// `radius` (l2) of `centre`.
pub struct Ball<'a> {
    /// c_i, computed in binary64 (its error is inside `radius`).
    pub centre: &'a [f64],
    /// rho_i.
    pub radius: f64,
}

/// The arithmetic examined: unit roundoff and its index in the gadget's
/// per-unit error vectors (`None` for real arithmetic).
#[derive(Clone, Copy)]
pub struct Arithmetic {
    /// u (0 for real arithmetic).
    pub unit: f64,
    /// Index into the recognised error bounds.
    pub index: Option<usize>,
}

/// A sum `sum_t k_t s_{j_t}(u) + <a, u> + b`, bounded over the ball.
fn affine_range(
    terms: &[(f64, &Leaf)],
    affine: &[f64],
    bias: f64,
    leaf_at_centre: &dyn Fn(&Leaf) -> Interval,
    ball: &Ball<'_>,
) -> Interval {
    // Value at the centre.
    let mut value = Interval::point(bias);
    let mut plain = 0.0;
    let mut size = 0.0;
    for (k, &c) in affine.iter().zip(ball.centre) {
        plain += k * c;
        size += (k * c).abs();
    }
    let e = gamma(affine.len() + 1, DOUBLE) * size * (1.0 + 1e-9);
    value = value + Interval::new(plain - e, plain + e);
    for &(k, leaf) in terms {
        value = value + leaf_at_centre(leaf).scale(k);
    }
    // Gradient norm, with the rounding of its coordinates.
    let mut square = 0.0;
    for (c, &a) in affine.iter().enumerate() {
        let mut g = a;
        let mut mag = a.abs();
        for &(k, leaf) in terms {
            g += k * leaf.weight[c];
            mag += (k * leaf.weight[c]).abs();
        }
        let bound = g.abs() + gamma(2 * terms.len() + 2, DOUBLE) * mag * (1.0 + 1e-9);
        square += bound * bound;
    }
    let norm = sqrt_up(square * (1.0 + gamma(affine.len() + 2, DOUBLE)));
    let spread = norm * ball.radius * (1.0 + 4.0 * DOUBLE);
    value + Interval::new(-spread, spread)
}

/// `h_0 - h_1` of a step pair and upper bounds on `|h_0|`, `|h_1|`.
pub(crate) struct StepValue {
    h: Interval,
    magnitude: [f64; 2],
}

/// Which of the point's steps this is.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Phase {
    /// A step before the point's own class's.
    Before,
    /// The step closing the point's own class.
    Own,
    /// A step after it.
    After,
}

fn step_value(
    step: &StepPair,
    leaves: &[Leaf],
    own: usize,
    phase: Phase,
    arithmetic: Arithmetic,
    leaf_at_centre: &dyn Fn(&Leaf) -> Interval,
    ball: &Ball<'_>,
) -> Result<StepValue, String> {
    let pick = |ids: &[usize]| if ids.contains(&own) { own } else { ids[0] };
    let at = |i: Option<usize>, v: &[f64]| i.map_or(0.0, |i| v[i]);
    let term_error = at(arithmetic.index, &step.best.err)
        + step
            .group
            .as_ref()
            .map_or(0.0, |g| at(arithmetic.index, &g.err));
    let rnd = [
        at(arithmetic.index, &step.rnd[0]),
        at(arithmetic.index, &step.rnd[1]),
    ];
    let k = -step.best.coeff;
    let b_star = &leaves[pick(&step.best.leaves)];
    // Upper bound of X (for every phase: magnitudes, and h = 0 after).
    let upper = match &step.group {
        Some(g) => g
            .leaves
            .iter()
            .map(|&j| {
                affine_range(
                    &[(g.coeff, &leaves[j]), (-k, b_star)],
                    &step.affine,
                    0.0,
                    leaf_at_centre,
                    ball,
                )
                .hi
            })
            .fold(f64::NEG_INFINITY, f64::max),
        None => affine_range(&[(-k, b_star)], &step.affine, 0.0, leaf_at_centre, ball).hi,
    } + term_error;
    let own_lower = || match &step.group {
        Some(g) => {
            let g_star = &leaves[pick(&g.leaves)];
            step.best
                .leaves
                .iter()
                .map(|&j| {
                    affine_range(
                        &[(g.coeff, g_star), (-k, &leaves[j])],
                        &step.affine,
                        0.0,
                        leaf_at_centre,
                        ball,
                    )
                    .lo
                })
                .fold(f64::INFINITY, f64::min)
        }
        None => step
            .best
            .leaves
            .iter()
            .map(|&j| {
                affine_range(&[(-k, &leaves[j])], &step.affine, 0.0, leaf_at_centre, ball).lo
            })
            .fold(f64::INFINITY, f64::min),
    } - term_error;
    step_decision(
        StepBounds {
            class: step.class,
            layer: step.layer,
            bias: step.bias,
            rnd,
            upper,
        },
        phase,
        own_lower,
    )
}

/// What decides a step pair `h_p = relu(X + bias_p)` on a ball: the class
/// it closes, its layer, the biases, each row's rounding bound and an upper
/// bound on X.
pub(crate) struct StepBounds {
    /// The class the pair closes.
    pub class: usize,
    /// Its layer.
    pub layer: usize,
    /// Biases of parts 0 and 1.
    pub bias: [f64; 2],
    /// Rounding bounds of the two rows.
    pub rnd: [f64; 2],
    /// An upper bound on X.
    pub upper: f64,
}

/// `h_0 - h_1` for a step in `phase` (specs/certificate.md section 9):
/// after the own step both neurons must be exactly 0; at the own step
/// (`lower` gives a lower bound on X) both must be active, so `h_0 - h_1`
/// is `bias_0 - bias_1` up to both roundings; before it anything between
/// 0 and that.
pub(crate) fn step_decision(
    b: StepBounds,
    phase: Phase,
    lower: impl FnOnce() -> f64,
) -> Result<StepValue, String> {
    let StepBounds {
        class,
        layer,
        bias,
        rnd,
        upper,
    } = b;
    let delta = Interval::point(bias[0]) - Interval::point(bias[1]);
    let top = [
        (Interval::point(upper) + Interval::point(bias[0])).hi + rnd[0],
        (Interval::point(upper) + Interval::point(bias[1])).hi + rnd[1],
    ];
    let magnitude = [top[0].max(0.0), top[1].max(0.0)];
    let e = rnd[0] + rnd[1];
    match phase {
        Phase::After => {
            if top[0] <= 0.0 && top[1] <= 0.0 {
                Ok(StepValue {
                    h: Interval::point(0.0),
                    magnitude: [0.0, 0.0],
                })
            } else {
                Err(format!(
                    "the step closing class {class} (layer {layer}) may fire on the ball: kappa (G - B) - 1/2 may reach {}",
                    top[0]
                ))
            }
        }
        Phase::Own => {
            let bottom = (Interval::point(lower()) + Interval::point(bias[1])).lo - rnd[1];
            if bottom >= 0.0 {
                Ok(StepValue {
                    h: delta + Interval::new(-e, e),
                    magnitude,
                })
            } else {
                Err(format!(
                    "the step closing the point's own class {class} (layer {layer}) may not reach 1: kappa (G - B) - 3/2 may be as low as {bottom}"
                ))
            }
        }
        Phase::Before => Ok(StepValue {
            h: Interval::new((delta.lo - e).min(0.0), (delta.hi + e).max(0.0)),
            magnitude,
        }),
    }
}

/// The phases of a point's steps in closing order: `Before` up to its own
/// class's step, `Own` there, `After` later (every step `After` when the
/// class is the one closed without a step).
pub(crate) fn phases(classes: impl Iterator<Item = usize> + Clone, own: usize) -> Vec<Phase> {
    let mut phase = if classes.clone().any(|c| c == own) {
        Phase::Before
    } else {
        Phase::After
    };
    classes
        .map(|c| {
            if c == own {
                phase = Phase::After;
                Phase::Own
            } else {
                phase
            }
        })
        .collect()
}

/// An interval holding the computed output of the label network on the
/// ball of a point whose own score is leaf `own` and whose class is `class`.
pub fn output_range(
    gadget: &LabelGadget,
    leaves: &[Leaf],
    own: usize,
    class: usize,
    ball: &Ball<'_>,
    arithmetic: Arithmetic,
) -> Result<Interval, String> {
    // Scores at the centre, with the rounding of their evaluation.
    let leaf_at_centre = |leaf: &Leaf| {
        let mut value = leaf.bias;
        let mut size = leaf.bias.abs();
        for (w, c) in leaf.weight.iter().zip(ball.centre) {
            value += w * c;
            size += (w * c).abs();
        }
        let e = gamma(leaf.weight.len() + 1, DOUBLE) * size * (1.0 + 1e-9);
        Interval::new(value - e, value + e)
    };
    let mut steps: HashMap<usize, StepValue> = HashMap::new();
    let phases = phases(gadget.steps.iter().map(|s| s.class), class);
    for (step, &this) in gadget.steps.iter().zip(&phases) {
        steps.insert(
            step.layer,
            step_value(step, leaves, own, this, arithmetic, &leaf_at_centre, ball)?,
        );
    }
    register_range(&gadget.rows, &steps, arithmetic.unit)
}

/// Evaluates the register rows in interval arithmetic (outward rounding),
/// each with its rounding `gamma_n (sum |w| |v| + |bias|)` in unit `unit`
/// added, from the first write to the output; `steps` maps a step pair's
/// layer to its value, read by the write of the next layer.
pub(crate) fn register_range(
    rows: &[RegisterRow],
    steps: &HashMap<usize, StepValue>,
    unit: f64,
) -> Result<Interval, String> {
    let mut values: HashMap<[usize; 2], Interval> = HashMap::new();
    let mut output = None;
    for row in rows {
        let [l, n] = row.at;
        let sign = if row.part == 2 { -1.0 } else { 1.0 };
        let mut value = Interval::point(row.bias);
        let mut size = row.bias.abs();
        let mut count = usize::from(row.bias != 0.0);
        for &(i, c) in &row.register {
            let v = values
                .get(&[l.wrapping_sub(1), i])
                .copied()
                .ok_or_else(|| format!("layer {l}: the register neuron {i} was not bounded"))?;
            value = value + v.scale(sign * c);
            size += c.abs() * v.lo.abs().max(v.hi.abs());
            count += 1;
        }
        if row.reach > 0.0 {
            let step = steps
                .get(&l.wrapping_sub(1))
                .ok_or_else(|| format!("layer {l}: a write without a step"))?;
            value = value - step.h.scale(row.reach);
            size += row.reach * (step.magnitude[0] + step.magnitude[1]);
            count += 2;
        }
        let e = if unit == 0.0 {
            0.0
        } else {
            gamma(count.max(1), unit) * size * (1.0 + 1e-9)
        };
        value = value + Interval::new(-e, e);
        if row.part == 3 {
            output = Some(value);
        } else {
            values.insert([l, n], value.relu());
        }
    }
    output.ok_or_else(|| "the network has no output row".to_string())
}

/// Upper bound on `|x - v|` over the interval.
pub fn distance(range: Interval, v: f64) -> f64 {
    (Interval::point(range.hi) - Interval::point(v))
        .hi
        .max((Interval::point(v) - Interval::point(range.lo)).hi)
}
