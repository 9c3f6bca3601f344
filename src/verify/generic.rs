//! The generic check of issue #4 (item 5): for one data point, bound the
//! network over the whole closed l_p ball around it and confirm its label,
//! without recognising any gadget of the construction.
//!
//! Method, in real arithmetic with outward rounding ([`super::interval`]):
//! - The region is covered by boxes inside `[x - r, x + r]^d` (which holds
//!   the ball for every p). A box is dropped only when its nearest point to
//!   `x` is provably farther than `r` in l_p, so the kept boxes cover the
//!   ball.
//! - On a box, each first-layer pre-activation `w_k . y + b_k` is bounded
//!   twice, over the box (exact per coordinate) and over the ball
//!   (`w_k . x + b_k +- r ||w_k||_q`, q the dual exponent), and the
//!   intersection of the two is kept: both enclose the values on the part of
//!   the ball inside the box. The remaining layers are interval bound
//!   propagation.
//! - When the output bounds do not settle the target, the box is split in
//!   half along its widest side, until every box is settled ([`Verdict::Held`])
//!   or `max_boxes` boxes have been examined ([`Verdict::Unknown`]).
//! - Candidate points (the data point, a projected-gradient attack from it,
//!   and each examined box's centre scaled into the ball) are evaluated in
//!   plain `f64`; one that misses the target by more than `1e-9` relative
//!   (and is provably inside the ball) is returned as [`Verdict::Failed`].
//!
//! `Held` is only ever returned from the rigorous bounds. For p other than
//! 1, 2 and infinity the norms use `f64::powf`, assumed accurate to a
//! relative `1e-12` (libm's `pow` is within about one ulp, `2.2e-16`); every
//! other step is rigorously rounded.

use super::interval::{
    add_down, add_up, div_down, div_up, dot, mul_down, mul_up, sqrt_up, sub_down, sub_up, Interval,
};
use super::model::Model;
use std::collections::VecDeque;

/// Relative slack granted to `powf` (see the module doc).
const POWF_SLACK: f64 = 1e-12;

/// Relative margin by which a candidate must miss the target to count as a
/// counterexample (plain `f64` evaluation is not rigorous).
const CLEAR_MARGIN: f64 = 1e-9;

/// What the network must give on the ball.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// Output `label_index` is strictly the largest.
    Logits {
        /// The index of the output that must win.
        label_index: usize,
    },
    /// The single output lies strictly within `1/2` of `value`.
    Label {
        /// The label's value.
        value: f64,
    },
}

/// The outcome of [`generic_check`] for one point.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Proven: every point of the ball meets the target.
    Held,
    /// A point of the ball that misses the target (in plain `f64`
    /// evaluation, by a clear margin).
    Failed {
        /// The point, inside the closed ball.
        counterexample: Vec<f64>,
        /// The network's output there.
        output: Vec<f64>,
    },
    /// Neither proven nor refuted within the budget (or the request is
    /// malformed: layers whose shapes do not chain, a point of the wrong
    /// dimension, p < 1, a negative or non-finite radius, a target the
    /// model's outputs cannot meet).
    Unknown,
}

/// Budgets of [`generic_check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenericOptions {
    /// Boxes examined per point before giving up.
    pub max_boxes: usize,
}

impl Default for GenericOptions {
    fn default() -> Self {
        GenericOptions { max_boxes: 4096 }
    }
}

/// Checks that `model` meets `target` on the closed l_p ball of radius
/// `radius` around `point` (p = 1, 2, infinity or any real p >= 1).
pub fn generic_check(
    model: &Model,
    point: &[f64],
    target: &Target,
    p: f64,
    radius: f64,
    options: &GenericOptions,
) -> Verdict {
    let Some(first) = model.layers.first() else {
        return Verdict::Unknown;
    };
    let mut width = model.input_dim;
    let shapes_chain = model.layers.iter().all(|layer| {
        let fits = layer.weight.ncols() == width && layer.bias.len() == layer.weight.nrows();
        width = layer.weight.nrows();
        fits
    });
    let well_formed = shapes_chain
        && point.len() == model.input_dim
        && point.iter().all(|x| x.is_finite())
        && p >= 1.0
        && radius >= 0.0
        && radius.is_finite()
        && match *target {
            Target::Logits { label_index } => label_index < model.outputs(),
            Target::Label { value } => model.outputs() == 1 && value.is_finite(),
        };
    if !well_formed {
        return Verdict::Unknown;
    }
    let ball = Ball {
        centre: point,
        p,
        radius,
    };

    // Candidates first: the point itself and an attack from it.
    for candidate in std::iter::once(point.to_vec()).chain(attack(model, &ball, target)) {
        if let Some(verdict) = refute(model, &ball, target, candidate) {
            return verdict;
        }
    }

    // First-layer pre-activations over the whole ball.
    let centre: Vec<Interval> = point.iter().map(|&x| Interval::point(x)).collect();
    let over_ball: Vec<Interval> = first
        .weight
        .rows()
        .into_iter()
        .zip(&first.bias)
        .map(|(row, &b)| {
            let w = row_slice(&row);
            let c = dot(&w, &centre, b);
            let spread = mul_up(radius, dual_norm_up(&w, p));
            Interval {
                lo: sub_down(c.lo, spread),
                hi: add_up(c.hi, spread),
            }
        })
        .collect();

    let start: Vec<Interval> = point
        .iter()
        .map(|&x| Interval {
            lo: sub_down(x, radius),
            hi: add_up(x, radius),
        })
        .collect();
    let mut queue = VecDeque::from([start]);
    let mut examined = 0usize;
    while let Some(cell) = queue.pop_front() {
        if ball.misses(&cell) {
            continue;
        }
        if examined >= options.max_boxes {
            return Verdict::Unknown;
        }
        examined += 1;
        if settles(model, &cell, &over_ball, target) {
            continue;
        }
        let mid: Vec<f64> = cell.iter().map(Interval::mid).collect();
        if let Some(verdict) = refute(model, &ball, target, mid) {
            return verdict;
        }
        let Some((left, right)) = split(&cell) else {
            return Verdict::Unknown; // cannot be split further
        };
        queue.push_back(left);
        queue.push_back(right);
    }
    Verdict::Held
}

/// The closed l_p ball of `radius` around `centre`.
struct Ball<'a> {
    centre: &'a [f64],
    p: f64,
    radius: f64,
}

impl Ball<'_> {
    /// True only when no point of `cell` lies in the ball (rigorous).
    fn misses(&self, cell: &[Interval]) -> bool {
        // Lower bounds of the per-coordinate distances of the nearest point.
        let gaps: Vec<f64> = cell
            .iter()
            .zip(self.centre)
            .map(|(c, &x)| {
                if x < c.lo {
                    sub_down(c.lo, x)
                } else if x > c.hi {
                    sub_down(x, c.hi)
                } else {
                    0.0
                }
            })
            .collect();
        ratio_power_sum(&gaps, self.p, self.radius, false) > 1.0
    }

    /// True only when `y` provably lies in the closed ball.
    fn holds(&self, y: &[f64]) -> bool {
        let gaps: Vec<f64> = y
            .iter()
            .zip(self.centre)
            .map(|(&y, &x)| sub_up(y, x).max(sub_up(x, y)))
            .collect();
        ratio_power_sum(&gaps, self.p, self.radius, true) <= 1.0
    }

    /// `y` moved towards the centre until it lies in the ball, if that
    /// can be shown in a few steps.
    fn pull_in(&self, mut y: Vec<f64>) -> Option<Vec<f64>> {
        if self.p == f64::INFINITY {
            for (v, &x) in y.iter_mut().zip(self.centre) {
                // sub_up(x, r) <= x <= add_down(x, r): a valid range.
                *v = v.clamp(sub_up(x, self.radius), add_down(x, self.radius));
            }
        } else {
            let length = lp_length(
                &y.iter()
                    .zip(self.centre)
                    .map(|(a, b)| a - b)
                    .collect::<Vec<_>>(),
                self.p,
            );
            if length > self.radius {
                let t = self.radius / length;
                for (v, &x) in y.iter_mut().zip(self.centre) {
                    *v = x + (*v - x) * t;
                }
            }
        }
        for _ in 0..8 {
            if self.holds(&y) {
                return Some(y);
            }
            for (v, &x) in y.iter_mut().zip(self.centre) {
                *v = x + (*v - x) * (1.0 - 1e-9);
            }
        }
        None
    }
}

/// A directed-rounding binary operation of [`super::interval`].
type Op = fn(f64, f64) -> f64;

/// `sum (g_k / radius)^p` (the largest ratio for p = infinity), rounded
/// downwards (`upward == false`, for lower bounds `gaps`) or upwards: a value
/// `> 1` or `<= 1` then shows that `||gaps||_p` exceeds, or stays within,
/// `radius`. For `radius == 0`: `+inf` if a gap is positive, else `0`. Once a
/// single ratio exceeds 1 (so does the norm) that ratio is returned.
fn ratio_power_sum(gaps: &[f64], p: f64, radius: f64, upward: bool) -> f64 {
    if radius == 0.0 {
        return if gaps.iter().any(|&g| g > 0.0) {
            f64::INFINITY
        } else {
            0.0
        };
    }
    let (div, mul, add, slack): (Op, Op, Op, f64) = if upward {
        (div_up, mul_up, add_up, 1.0 + POWF_SLACK)
    } else {
        (div_down, mul_down, add_down, 1.0 - POWF_SLACK)
    };
    let ratios: Vec<f64> = gaps.iter().map(|&g| div(g, radius)).collect();
    let largest = ratios.iter().fold(0.0f64, |m, &t| m.max(t));
    if p == f64::INFINITY || largest > 1.0 {
        return largest;
    }
    ratios.iter().fold(0.0, |sum, &t| {
        let term = if p == 1.0 || t == 0.0 || t == 1.0 {
            t // t^1, 0^p and 1^p are exact
        } else if p == 2.0 {
            mul(t, t)
        } else {
            mul(t.powf(p), slack)
        };
        add(sum, term)
    })
}

/// An upper bound of `||w||_q`, `1/p + 1/q = 1`.
fn dual_norm_up(w: &[f64], p: f64) -> f64 {
    let largest = w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if p == 1.0 || largest == 0.0 {
        largest
    } else if p == f64::INFINITY {
        w.iter().fold(0.0, |s, x| add_up(s, x.abs()))
    } else if p == 2.0 {
        sqrt_up(w.iter().fold(0.0, |s, &x| add_up(s, mul_up(x, x))))
    } else {
        // ||w||_q = m (sum (|w_k| / m)^q)^(1/q) with m the largest entry.
        // Every ratio is <= 1, so a smaller exponent q' <= q gives larger
        // terms; the sum S is >= 1, so a larger root exponent e >= 1/q'
        // gives a larger root.
        let q = div_down(p, sub_up(p, 1.0));
        let power_up = |base: f64, exponent: f64| {
            if base == 0.0 || base == 1.0 {
                base // exact
            } else {
                mul_up(base.powf(exponent), 1.0 + POWF_SLACK)
            }
        };
        let sum = w
            .iter()
            .fold(0.0, |s, x| add_up(s, power_up(div_up(x.abs(), largest), q)));
        let root = power_up(sum, div_up(1.0, q));
        mul_up(largest, root)
    }
}

/// `||v||_p` in plain arithmetic (for steering candidates, not bounds).
fn lp_length(v: &[f64], p: f64) -> f64 {
    if p == f64::INFINITY {
        v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
    } else {
        v.iter().map(|x| x.abs().powf(p)).sum::<f64>().powf(1.0 / p)
    }
}

/// A neuron's weights as one slice (copied only for a non-row-major matrix).
fn row_slice<'a, 'b>(row: &'b ndarray::ArrayView1<'a, f64>) -> std::borrow::Cow<'b, [f64]> {
    match row.as_slice() {
        Some(slice) => std::borrow::Cow::Borrowed(slice),
        None => std::borrow::Cow::Owned(row.to_vec()),
    }
}

/// Whether the interval bounds settle `target` on the part of the ball in `cell`.
fn settles(model: &Model, cell: &[Interval], over_ball: &[Interval], target: &Target) -> bool {
    let mut values: Vec<Interval> = Vec::with_capacity(over_ball.len());
    for (k, layer) in model.layers.iter().enumerate() {
        let mut next = Vec::with_capacity(layer.bias.len());
        for (j, (row, &b)) in layer.weight.rows().into_iter().zip(&layer.bias).enumerate() {
            let w = row_slice(&row);
            let mut y = dot(&w, if k == 0 { cell } else { &values }, b);
            if k == 0 {
                let ball = over_ball[j];
                let (lo, hi) = (y.lo.max(ball.lo), y.hi.min(ball.hi));
                if lo > hi {
                    // Both enclosures are sound: the cell holds no point of the ball.
                    return true;
                }
                y = Interval { lo, hi };
            }
            next.push(if layer.relu { y.relu() } else { y });
        }
        values = next;
    }
    match *target {
        Target::Logits { label_index } => {
            let own = values[label_index].lo;
            values
                .iter()
                .enumerate()
                .all(|(k, v)| k == label_index || v.hi < own)
        }
        Target::Label { value } => {
            let [out] = values[..] else {
                return false;
            };
            out.lo > add_up(value, -0.5) && out.hi < add_down(value, 0.5)
        }
    }
}

/// How far `output` misses `target` (positive: missed), and the scale the
/// margin is relative to.
fn violation(output: &[f64], target: &Target) -> (f64, f64) {
    let scale = output.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    match *target {
        Target::Logits { label_index } => {
            let best_other = output
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != label_index)
                .fold(f64::NEG_INFINITY, |m, (_, &v)| m.max(v));
            (best_other - output[label_index], scale)
        }
        Target::Label { value } => ((output[0] - value).abs() - 0.5, scale.max(value.abs())),
    }
}

/// `Failed` at `candidate` (moved into the ball) when it clearly misses.
fn refute(model: &Model, ball: &Ball, target: &Target, candidate: Vec<f64>) -> Option<Verdict> {
    let candidate = ball.pull_in(candidate)?;
    let output = model.evaluate_f64(&candidate);
    let (miss, scale) = violation(&output, target);
    (miss.is_finite() && miss > CLEAR_MARGIN * scale).then_some(Verdict::Failed {
        counterexample: candidate,
        output,
    })
}

/// The gradient (in `x`) of the violation of `target`, with the
/// network's piecewise-linear pieces at `x`.
fn violation_gradient(model: &Model, x: &[f64], target: &Target) -> Vec<f64> {
    let mut activations = vec![x.to_vec()];
    let mut masks = Vec::with_capacity(model.layers.len());
    for layer in &model.layers {
        let input = activations.last().map_or(&[][..], Vec::as_slice);
        let pre: Vec<f64> = layer
            .weight
            .rows()
            .into_iter()
            .zip(&layer.bias)
            .map(|(row, &b)| row.iter().zip(input).fold(b, |s, (w, v)| s + w * v))
            .collect();
        let mask: Vec<bool> = pre.iter().map(|&v| !layer.relu || v > 0.0).collect();
        let out = pre
            .iter()
            .zip(&mask)
            .map(|(&v, &m)| if m { v } else { 0.0 })
            .collect();
        masks.push(mask);
        activations.push(out);
    }
    let output = activations.last().map_or(&[][..], Vec::as_slice);
    let mut grad = vec![0.0; output.len()];
    match *target {
        Target::Logits { label_index } => {
            let other = (0..output.len())
                .filter(|&k| k != label_index)
                .max_by(|&a, &b| output[a].total_cmp(&output[b]));
            if let Some(other) = other {
                grad[other] = 1.0;
                grad[label_index] = -1.0;
            }
        }
        Target::Label { value } => grad[0] = if output[0] >= value { 1.0 } else { -1.0 },
    }
    for (layer, mask) in model.layers.iter().zip(&masks).rev() {
        let masked: Vec<f64> = grad
            .iter()
            .zip(mask)
            .map(|(&g, &m)| if m { g } else { 0.0 })
            .collect();
        let mut back = vec![0.0; layer.weight.ncols()];
        for (row, &g) in layer.weight.rows().into_iter().zip(&masked) {
            if g != 0.0 {
                for (b, &w) in back.iter_mut().zip(row.iter()) {
                    *b += w * g;
                }
            }
        }
        grad = back;
    }
    grad
}

/// Candidates from projected gradient ascent on the violation, from the
/// centre: the steepest l_p step of shrinking length, kept in the ball.
fn attack(model: &Model, ball: &Ball, target: &Target) -> Vec<Vec<f64>> {
    const STEPS: usize = 24;
    let mut out = Vec::new();
    if ball.radius == 0.0 {
        return out;
    }
    let mut x = ball.centre.to_vec();
    for step in 0..STEPS {
        let g = violation_gradient(model, &x, target);
        let length = ball.radius
            * if step == 0 {
                1.0
            } else {
                0.5f64.powi(step as i32 / 4)
            };
        let Some(delta) = steepest(&g, ball.p, length) else {
            break;
        };
        let y: Vec<f64> = x.iter().zip(&delta).map(|(a, d)| a + d).collect();
        match ball.pull_in(y) {
            Some(y) => {
                out.push(y.clone());
                x = y;
            }
            None => break,
        }
    }
    out
}

/// The step of l_p length `length` that increases `g . delta` the most.
fn steepest(g: &[f64], p: f64, length: f64) -> Option<Vec<f64>> {
    if g.iter().all(|&v| v == 0.0) || g.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let delta: Vec<f64> = if p == f64::INFINITY {
        g.iter().map(|&v| length * v.signum()).collect()
    } else if p == 1.0 {
        let k = (0..g.len()).max_by(|&a, &b| g[a].abs().total_cmp(&g[b].abs()))?;
        (0..g.len())
            .map(|j| if j == k { length * g[k].signum() } else { 0.0 })
            .collect()
    } else {
        let q = p / (p - 1.0);
        let raw: Vec<f64> = g
            .iter()
            .map(|&v| v.signum() * v.abs().powf(q - 1.0))
            .collect();
        let norm = lp_length(&raw, p);
        if !(norm > 0.0 && norm.is_finite()) {
            return None;
        }
        raw.iter().map(|&v| v * length / norm).collect()
    };
    Some(delta)
}

/// `cell` halved along its widest side; `None` when it cannot shrink.
fn split(cell: &[Interval]) -> Option<(Vec<Interval>, Vec<Interval>)> {
    let k = (0..cell.len()).max_by(|&a, &b| cell[a].width().total_cmp(&cell[b].width()))?;
    let c = cell[k];
    let mid = c.mid();
    if !(c.lo < mid && mid < c.hi) {
        return None;
    }
    let mut left = cell.to_vec();
    let mut right = cell.to_vec();
    left[k] = Interval { lo: c.lo, hi: mid };
    right[k] = Interval { lo: mid, hi: c.hi };
    Some((left, right))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dual_norms_bound_from_above() {
        let w = [3.0, -4.0, 0.0];
        assert_eq!(dual_norm_up(&w, 1.0), 4.0);
        assert_eq!(dual_norm_up(&w, 2.0), 5.0);
        assert_eq!(dual_norm_up(&w, f64::INFINITY), 7.0);
        // p = 3: q = 3/2, ||w||_{3/2} = (3^1.5 + 4^1.5)^(2/3).
        let exact = (3f64.powf(1.5) + 8.0).powf(2.0 / 3.0);
        let bound = dual_norm_up(&w, 3.0);
        assert!(
            bound >= exact && bound <= exact * (1.0 + 1e-9),
            "{bound} {exact}"
        );
        assert_eq!(dual_norm_up(&[0.0, 0.0], 3.0), 0.0);
    }

    #[test]
    fn balls_and_boxes() {
        let centre = [0.0, 0.0];
        for p in [1.0, 1.5, 2.0, f64::INFINITY] {
            let ball = Ball {
                centre: &centre,
                p,
                radius: 1.0,
            };
            // The box [0.8, 1] x [0.8, 1] meets the l_inf ball only.
            let cell = [Interval::new(0.8, 1.0), Interval::new(0.8, 1.0)];
            assert_eq!(ball.misses(&cell), p != f64::INFINITY, "p = {p}");
            // A box holding the centre always meets it.
            assert!(!ball.misses(&[Interval::new(-0.1, 0.1), Interval::new(0.5, 2.0)]));
            assert!(ball.holds(&[1.0, 0.0]));
            assert_eq!(ball.holds(&[1.0, 1e-9]), p == f64::INFINITY, "p = {p}");
            let pulled = ball.pull_in(vec![3.0, -4.0]).unwrap();
            assert!(lp_length(&pulled, p) <= 1.0 && pulled[0] > 0.0 && pulled[1] < 0.0);
        }
        let point = Ball {
            centre: &centre,
            p: 2.0,
            radius: 0.0,
        };
        assert!(point.holds(&[0.0, 0.0]) && !point.holds(&[0.0, 1e-300]));
        assert!(point.misses(&[Interval::new(1e-300, 1.0), Interval::new(-1.0, 1.0)]));
    }

    #[test]
    fn steepest_steps_have_the_right_length() {
        let g = [1.0, -2.0];
        for p in [1.0, 2.0, 3.0, f64::INFINITY] {
            let d = steepest(&g, p, 0.5).unwrap();
            assert!((lp_length(&d, p) - 0.5).abs() < 1e-12, "p = {p}: {d:?}");
            assert!(d[0] * g[0] + d[1] * g[1] > 0.0);
        }
        assert!(steepest(&[0.0, 0.0], 2.0, 1.0).is_none());
    }
}
