//! Per-point margins of a distance network (specs/certificate.md 10.2,
//! 10.3), in one pass over the centres and one walk of the running-minimum
//! steps, for every arithmetic at once.
//!
//! Notation for one point i and unit roundoff u (0 for real arithmetic):
//! `d_j = ||ubar_i - c_j||_q` (enclosed), `r' = r + ||E1_i||_q`, and
//! `D~_j` the exact value of centre j's distance expression on the
//! *computed* neurons that hold it (the 2K halves for l1, the tree's root
//! `g + e` for l_inf). Then:
//! - `D_j(u^) in [max(0, d_j - r'), d_j + r']` for the computed first-layer
//!   output u^ (triangle inequality);
//! - each half `relu(fl(u^_k - c_jk))` has relative error u (one
//!   subtraction; the other half of the pair is exactly 0), so l1:
//!   `D~_j = D_j(u^) (1 +- u)`; l_inf: each tree level adds one rounding of
//!   its carry and one of its merge row (`max` is non-expansive), so
//!   `|D~_j - D_j(u^)| <= rho D_j^hi` with rho from [`tree_factor`];
//! - the row that reads `D~_j` (the slot's first `a`, or a `q`) adds its
//!   own rounding `gamma_n (sum of |terms|)`, all terms being ReLU outputs;
//!   `X_j = D~_j - e_j` is what the running minimum compares;
//! - running minimum (specs/construction.md 6.1 adapted to minima): with
//!   `A = fl(a - q) = R + eta` and `B = fl(R - D~ + e)`, the new value
//!   `relu(A) - relu(B)` lies in `[min(R, X) + eta, max(0, min(R, X) +
//!   eta)]`, and `eta` is exactly 0 unless the slot's previous layer had a
//!   non-zero `q` (adding exact zeros is exact in every order, FMA
//!   included). Lower bound: `R >= min(Z_start, min_j X_j) - 2 u M` over a
//!   run of comparisons, M bounding `|R|` (after an update R is the new
//!   `X + eta`; one more `eta` follows; nothing more until the next
//!   update). Upper bound: propagated layer by layer, `hi <- min(hi, X^hi) +
//!   u |R|` after a layer with a comparison: near-ties can make R creep
//!   up by one `eta` per update, so the upper side is *not* the 2uM bound
//!   of specs/construction.md 6.1; its `|R|` is the running minimum itself,
//!   small once the nearest centre has been compared, so the bound stays
//!   first order;
//! - min tree: one rounding per level (the `x` row's and the `m` carry's);
//! - output `beta_c - alpha R_c`: its own dot product's rounding.

use super::template::{Chain, Step};
use super::{DistanceAnalysis, DistanceNorm, DOUBLE};
use crate::verify::certificate::Semantics;
use crate::verify::interval::Interval;
use crate::verify::interval::{add_down, add_up, div_up, gamma, mul_down, mul_up, sub_down};
use crate::verify::label::{distance, phases, register_range, step_decision, StepBounds};
use std::collections::HashMap;

/// One point's result in one arithmetic.
#[derive(Clone, Debug)]
pub struct PointBound {
    /// Lower bound on `out[y] - max_{c != y} out[c]` over the ball.
    pub margin: f64,
    /// `||E1_i||_q`.
    pub first_layer: f64,
    /// Largest output rounding bound (0 for a label network).
    pub output: f64,
    /// Label networks: an upper bound on `|out - v_y|` over the ball
    /// (`+inf` when a step may misfire); 0 for logits.
    pub distance: f64,
    /// Label networks: why the distance is infinite.
    pub unbounded: Option<String>,
}

/// Bounds on one slot instance's running value R (for one point).
#[derive(Clone, Copy, Debug, Default)]
struct SlotState {
    /// Lower bound on R at the start of the current run of comparisons.
    lo_start: f64,
    /// Minimum of the run's `X_j` lower bounds.
    z_min: f64,
    /// Upper bound on R.
    hi: f64,
    /// Whether R's representation has a second term (q or x), so that the
    /// next row reading R may round (`eta != 0`).
    pending: bool,
}

/// Per-thread buffers, allocated once per thread, not per pair.
pub struct Scratch {
    /// Per centre: lower and upper bound of `||ubar_i - c_j||_q`.
    dist: Vec<(f64, f64)>,
    /// Per class: the largest upper bound of a centre's distance.
    class_max: Vec<f64>,
    /// Per class: M (bounds |R|, |a| + |q| <= 4 M) and the bound on -R.
    class_mag: Vec<(f64, f64)>,
    /// Per slot instance.
    slots: Vec<SlotState>,
    /// Per output: (lo, hi) of R_c and its rounding.
    outputs: Vec<(f64, f64, f64)>,
}

impl Scratch {
    /// Buffers sized for `analysis`.
    pub fn new(analysis: &DistanceAnalysis) -> Scratch {
        let classes = analysis.template.classes;
        Scratch {
            dist: vec![(0.0, 0.0); analysis.centre_class.len()],
            class_max: vec![0.0; classes],
            class_mag: vec![(0.0, 0.0); classes],
            slots: vec![SlotState::default(); analysis.template.slots],
            outputs: vec![(0.0, 0.0, 0.0); classes],
        }
    }
}

/// rho with `|D~_j - D_j(u^)| <= rho D_j^hi`: l1 `u`; l_inf, per level,
/// `rho <- (1 + c) rho + c` with `c = u + 4 gamma_4 (1 + u)` (the carry's
/// two-term sum and the merge row's at most four terms, each at most the
/// level's magnitude `D^hi (1 + rho)`).
fn tree_factor(distance: DistanceNorm, levels: usize, u: f64) -> f64 {
    match distance {
        DistanceNorm::L1 => u,
        DistanceNorm::Linf => {
            let c = add_up(u, mul_up(mul_up(4.0, gamma(4, u)), 1.0 + u));
            let mut rho = u;
            for _ in 0..levels {
                rho = add_up(mul_up(add_up(1.0, c), rho), c);
            }
            rho
        }
    }
}

/// Fills `scratch.dist` with enclosures of `||ubar_i - c_j||_q` (tight loop,
/// plain binary64 widened by `gamma_{K+3}`: one rounding per subtraction,
/// K - 1 per sum, one for the widening) and `class_max` with each class's
/// largest upper bound.
fn distances(analysis: &DistanceAnalysis, scratch: &mut Scratch, i: usize) {
    let k = analysis.template.k;
    let lo_u = analysis.ubar_lo.row(i);
    let hi_u = analysis.ubar_hi.row(i);
    let lo_u = lo_u.as_slice().expect("standard layout");
    let hi_u = hi_u.as_slice().expect("standard layout");
    let g = gamma(k + 3, DOUBLE);
    let (down, up) = (1.0 - g, 1.0 + g);
    let linf = analysis.template.distance == DistanceNorm::Linf;
    scratch.class_max.fill(0.0);
    for (j, c) in analysis.centre_coords.chunks_exact(k).enumerate() {
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for ((&a, &b), &x) in lo_u.iter().zip(hi_u).zip(c) {
            let (a, b) = (a - x, b - x);
            let near = if a > 0.0 {
                a
            } else if b < 0.0 {
                -b
            } else {
                0.0
            };
            let far = (-a).max(b);
            if linf {
                lo = lo.max(near);
                hi = hi.max(far);
            } else {
                lo += near;
                hi += far;
            }
        }
        let bound = (lo * down, hi * up);
        scratch.dist[j] = bound;
        let class = analysis.centre_class[j];
        scratch.class_max[class] = scratch.class_max[class].max(bound.1);
    }
}

/// The margins of point `i` at radius `sigma` (`r` its projected radius)
/// in each arithmetic of `semantics`.
pub fn point(
    analysis: &DistanceAnalysis,
    scratch: &mut Scratch,
    i: usize,
    sigma: f64,
    r: f64,
    semantics: &[Semantics],
) -> Vec<PointBound> {
    distances(analysis, scratch, i);
    semantics
        .iter()
        .map(|&sem| in_arithmetic(analysis, scratch, i, sigma, r, sem.unit()))
        .collect()
}

/// `||E1_i||_q`: the first layer's rounding, `gamma_{nnz+1} (sum |V_kl|
/// |x_l| + |b_k|)` per row over the ball (`sum |V_kl| |x_l| <= sum |V_kl|
/// |x_il| + sigma ||V_k||_{p*}`), plus an absolute term for products that
/// may underflow; `+inf` when a magnitude is not far from overflow.
fn first_layer_error(analysis: &DistanceAnalysis, i: usize, sigma: f64, u: f64) -> f64 {
    if u == 0.0 {
        return 0.0;
    }
    let tiny = if u > DOUBLE {
        f64::from(f32::from_bits(1)) // smallest binary32 subnormal
    } else {
        f64::from_bits(1)
    };
    let t = &analysis.template;
    let mut total = 0.0f64;
    for c in 0..t.k {
        let size = add_up(
            add_up(
                analysis.abs_products[[i, c]],
                mul_up(sigma, analysis.row_dual[c]),
            ),
            t.offset[c].abs(),
        );
        if size.is_nan() || size >= 1e30 {
            // Far from overflow or no bound (section 2).
            return f64::INFINITY;
        }
        let nnz = analysis.row_nnz[c];
        let e = add_up(mul_up(gamma(nnz + 1, u), size), mul_up(nnz as f64, tiny));
        total = match t.distance {
            DistanceNorm::L1 => add_up(total, e),
            DistanceNorm::Linf => total.max(e),
        };
    }
    total
}

fn in_arithmetic(
    analysis: &DistanceAnalysis,
    scratch: &mut Scratch,
    i: usize,
    sigma: f64,
    r: f64,
    u: f64,
) -> PointBound {
    let t = &analysis.template;
    let e1 = first_layer_error(analysis, i, sigma, u);
    let r1 = add_up(r, e1);
    let rho = tree_factor(t.distance, t.levels, u);
    let one_rho = add_up(1.0, rho);
    // D~_j bounds from d_j.
    let tilde = |(lo, hi): (f64, f64)| -> (f64, f64) {
        let dh = mul_up(add_up(hi, r1), one_rho);
        let dl = sub_down(sub_down(lo, r1).max(0.0), mul_up(rho, add_up(hi, r1)));
        (dl.max(0.0), dh)
    };
    // Magnitudes per class: every |R| of the class's slots is at most
    // M = Dx (1 + E) G / (1 - (4 E + 8 gamma_4 depth) G), with E the
    // largest row's gamma, G >= (1 + u)^depth; then |a| + |q| <= 4 M.
    // gamma_n for every row length the template can have (2K + 2 at most).
    let table: Vec<f64> = (0..=2 * t.k + 8).map(|n| gamma(n, u)).collect();
    let gamma = |n: usize| table.get(n).copied().unwrap_or_else(|| gamma(n, u));
    let depth = t.depth;
    let big_e = gamma(2 * t.k + 4);
    let g4 = gamma(4);
    let growth = div_up(1.0, sub_down(1.0, mul_up(depth as f64, u)));
    let shrink = sub_down(
        1.0,
        mul_up(
            add_up(mul_up(4.0, big_e), mul_up(8.0 * depth as f64, g4)),
            growth,
        ),
    );
    for c in 0..t.classes {
        let dx = mul_up(add_up(scratch.class_max[c], r1), one_rho);
        let m = if u == 0.0 {
            dx
        } else if shrink > 0.0 {
            div_up(mul_up(mul_up(dx, add_up(1.0, big_e)), growth), shrink)
        } else {
            f64::INFINITY
        };
        // -R <= 2 u M + E (4 M + Dx): the slot's lower bounds below.
        let neg = add_up(
            mul_up(2.0 * u, m),
            mul_up(big_e, add_up(mul_up(4.0, m), dx)),
        );
        scratch.class_mag[c] = (m, neg);
    }
    let finish = |s: &SlotState, m: f64| -> f64 {
        let um = mul_up(u, m);
        sub_down(s.lo_start, um).min(sub_down(s.z_min, mul_up(2.0, um)))
    };
    // The template confirmed each `a` row is exactly +1 on the slot's `a`,
    // -1 on its `q` (or +1 on `m`, -1 on `x`), bias 0, every other weight
    // exactly 0, and each `q` row is that minus exactly the distance's
    // neurons: only then is `fl(a - q)` a single rounding that vanishes when
    // q = 0, which the running-minimum bound below relies on.
    for step in &t.steps {
        match *step {
            Step::Start {
                slot,
                centre,
                terms,
            } => {
                let (dl, dh) = tilde(scratch.dist[centre]);
                let e = mul_up(gamma(terms), dh);
                scratch.slots[slot] = SlotState {
                    lo_start: sub_down(dl, e).max(0.0),
                    z_min: f64::INFINITY,
                    hi: add_up(dh, e),
                    pending: false,
                };
            }
            Step::Carry { slot } => {
                let (_, neg) = scratch.class_mag[t.slot_class[slot]];
                let s = &mut scratch.slots[slot];
                if s.pending {
                    let eta = mul_up(u, s.hi.max(neg));
                    s.hi = add_up(s.hi, eta).max(0.0);
                    s.pending = false;
                }
            }
            Step::Compare {
                slot,
                centre,
                terms,
            } => {
                let (m, neg) = scratch.class_mag[t.slot_class[slot]];
                let (dl, dh) = tilde(scratch.dist[centre]);
                let e = mul_up(gamma(terms), add_up(mul_up(4.0, m), dh));
                let s = &mut scratch.slots[slot];
                let eta = if s.pending {
                    mul_up(u, s.hi.max(neg))
                } else {
                    0.0
                };
                s.hi = add_up(s.hi.min(add_up(dh, e)), eta).max(0.0);
                s.z_min = s.z_min.min(sub_down(dl, e));
                s.pending = true;
            }
            Step::Merge {
                slot,
                left,
                right,
                terms,
            } => {
                let (m, neg) = scratch.class_mag[t.slot_class[slot]];
                let a = scratch.slots[left];
                let lo_a = finish(&a, m);
                let eta = if a.pending {
                    mul_up(u, a.hi.max(neg))
                } else {
                    0.0
                };
                let state = match right {
                    Some(b) => {
                        let b = scratch.slots[b];
                        let e = mul_up(gamma(terms), mul_up(8.0, m));
                        SlotState {
                            lo_start: sub_down(lo_a.min(sub_down(finish(&b, m), e)), eta),
                            z_min: f64::INFINITY,
                            hi: add_up(a.hi.min(add_up(b.hi, e)), eta).max(0.0),
                            pending: true,
                        }
                    }
                    None => SlotState {
                        lo_start: sub_down(lo_a, eta).max(0.0),
                        z_min: f64::INFINITY,
                        hi: add_up(a.hi, eta).max(0.0),
                        pending: false,
                    },
                };
                scratch.slots[slot] = state;
            }
        }
    }
    let tiny = if u > DOUBLE {
        f64::from(f32::from_bits(1)) // smallest binary32 subnormal
    } else {
        f64::from_bits(1)
    };
    if let Some(chain) = &t.chain {
        return label_bound(analysis, scratch, i, chain, u, e1, &finish);
    }
    let mut output = 0.0f64;
    // Magnitudes far from overflow (section 2 leaves overflow outside the
    // rounding model): otherwise no bound is claimed.
    let mut in_range = true;
    for (c, &(slot, terms)) in t.outputs.iter().enumerate() {
        let (m, _) = scratch.class_mag[c];
        let s = scratch.slots[slot];
        let size = add_up(mul_up(t.alpha, mul_up(4.0, m)), t.beta[c].abs());
        in_range &= size < 1e30;
        // The output's products may underflow: one subnormal each.
        let e = add_up(mul_up(gamma(terms), size), mul_up(terms as f64, tiny));
        let e = if u == 0.0 { 0.0 } else { e };
        output = output.max(e);
        scratch.outputs[c] = (finish(&s, m), s.hi, e);
    }
    let y = analysis.labels[i];
    let (_, hi_y, e_y) = scratch.outputs[y];
    let mut margin = f64::INFINITY;
    for (c, &(lo_c, _, e_c)) in scratch.outputs.iter().enumerate() {
        if c == y {
            continue;
        }
        let gap = sub_down(t.beta[y], t.beta[c]);
        let core = mul_down(t.alpha, sub_down(lo_c, hi_y));
        let value = sub_down(sub_down(add_down(gap, core), e_y), e_c);
        margin = margin.min(value);
    }
    if margin.is_nan() || (u > 0.0 && !in_range) {
        margin = f64::NEG_INFINITY;
    }
    PointBound {
        margin,
        first_layer: e1,
        output,
        distance: 0.0,
        unbounded: None,
    }
}

/// The label gadget on the class minima (specs/certificate.md 10.3, label):
/// the best minimum B is a running minimum over the classes' running
/// values in closing order, each step pair's X = kappa (B - R_c) is
/// bounded from the slots' bounds, decided as in section 9, and the
/// register rows are evaluated in interval arithmetic.
fn label_bound(
    analysis: &DistanceAnalysis,
    scratch: &Scratch,
    i: usize,
    chain: &Chain,
    u: f64,
    e1: f64,
    finish: &dyn Fn(&SlotState, f64) -> f64,
) -> PointBound {
    let t = &analysis.template;
    let y = analysis.labels[i];
    let tiny = if u > DOUBLE {
        f64::from(f32::from_bits(1)) // smallest binary32 subnormal
    } else {
        f64::from_bits(1)
    };
    let fail = |why: String| PointBound {
        margin: f64::NEG_INFINITY,
        first_layer: e1,
        output: 0.0,
        distance: f64::INFINITY,
        unbounded: Some(why),
    };
    let Some((values, tolerance)) = &analysis.label_values else {
        return fail("a label network needs the labels' values".into());
    };
    // Bounds on the running value R the gadget reads, per slot instance:
    // (lo, hi, M).
    let read = |slot: usize| {
        let (m, _) = scratch.class_mag[t.slot_class[slot]];
        let s = &scratch.slots[slot];
        (finish(s, m), s.hi, m)
    };
    // B = b - i over the layer; `bi` bounds b + i (both ReLU outputs):
    // b = relu(fl(B')) <= |B'| (1 + u) and i = relu(fl(B' - R)) <= |B'| +
    // |R| + its rounding, B' the previous B, |R| <= M, a + q <= 4 M.
    let eta = |lo: f64, hi: f64| mul_up(u, lo.abs().max(hi.abs()));
    let (lo_f, hi_f, _) = read(chain.first.1);
    let e = eta(lo_f, hi_f);
    let (mut b_lo, mut b_hi) = (sub_down(lo_f, e).max(0.0), add_up(hi_f, e).max(0.0));
    let mut bi = b_hi;
    let phases = phases(chain.steps.iter().map(|s| s.class), y);
    let mut steps = HashMap::new();
    for (step, &phase) in chain.steps.iter().zip(&phases) {
        let (lo_c, hi_c, m_c) = read(step.slot);
        // The terms of a step row or the i row: b, i and the class's
        // running value's neurons.
        let terms_size = add_up(bi, mul_up(4.0, m_c));
        let size = mul_up(step.kappa, terms_size);
        let rnd = [0, 1].map(|p| {
            if u == 0.0 {
                0.0
            } else {
                // Products that may underflow: one subnormal each.
                add_up(
                    mul_up(gamma(step.terms, u), add_up(size, step.bias[p].abs())),
                    mul_up(step.terms as f64, tiny),
                )
            }
        });
        let x = (span(b_lo, b_hi) - span(lo_c, hi_c)).scale(step.kappa);
        let value = step_decision(
            StepBounds {
                class: step.class,
                layer: step.layer,
                bias: step.bias,
                rnd,
                upper: if x.hi.is_nan() { f64::INFINITY } else { x.hi },
            },
            phase,
            || {
                if x.lo.is_nan() {
                    f64::NEG_INFINITY
                } else {
                    x.lo
                }
            },
        );
        match value {
            Ok(v) => steps.insert(step.layer, v),
            Err(why) => return fail(format!("point {i}: {why}")),
        };
        if let Some(terms) = step.gap_terms {
            // i = relu(fl(B - R_c)) with error e_i; b = relu(fl(B)) with eta:
            // the new B is in [min(B, X) - eta, max(0, min(B, X) + eta)],
            // X = R_c -+ e_i.
            let e_i = if u == 0.0 {
                0.0
            } else {
                add_up(
                    mul_up(gamma(terms, u), terms_size),
                    mul_up(terms as f64, tiny),
                )
            };
            let b_mag = b_lo.abs().max(b_hi.abs());
            let e = eta(b_lo, b_hi);
            b_lo = sub_down(b_lo.min(sub_down(lo_c, e_i)), e);
            b_hi = add_up(b_hi.min(add_up(hi_c, e_i)), e).max(0.0);
            bi = add_up(add_up(mul_up(b_mag, 2.0 + u), m_c), e_i);
        }
    }
    if !(b_lo.is_finite() && b_hi.is_finite() && bi < 1e30) {
        return fail(format!("point {i}: the best minimum is not bounded"));
    }
    let range = match register_range(&chain.rows, &steps, u) {
        Ok(range) => range,
        Err(why) => return fail(format!("point {i}: {why}")),
    };
    let distance = distance(range, values[y]);
    let margin = (Interval::point(*tolerance) - Interval::point(distance)).lo;
    PointBound {
        margin: if margin.is_nan() {
            f64::NEG_INFINITY
        } else {
            margin
        },
        first_layer: e1,
        output: 0.0,
        distance: if distance.is_nan() {
            f64::INFINITY
        } else {
            distance
        },
        unbounded: None,
    }
}

/// An interval holding every value between two bounds computed apart:
/// a NaN end is unbounded on its side, and bounds that cross (no value
/// satisfies both) give their hull, which is still sound.
fn span(lo: f64, hi: f64) -> Interval {
    let lo = if lo.is_nan() { f64::NEG_INFINITY } else { lo };
    let hi = if hi.is_nan() { f64::INFINITY } else { hi };
    Interval::new(lo.min(hi), hi.max(lo))
}
