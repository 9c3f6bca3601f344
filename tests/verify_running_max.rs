//! The running maximum's rounding bound (specs/construction.md section 6.1,
//! specs/certificate.md section 6) against brute force.
//!
//! Each test builds a running-maximum network by hand (the layout of
//! `src/lower/logits.rs`), evaluates it in float32 with adversarial
//! summation orders for every dot product (index order, largest term first,
//! smallest first, a shuffle, and the exact sum rounded once, as a fused
//! multiply-add chain or a wider accumulator gives), and compares the result
//! with the exact maximum of the scores. The data live on a grid (inputs and
//! weights multiples of 2^-10 with 14 significant bits, constants multiples of
//! 2^-12, every value below 2^12) on which every exact value the tests need
//! is a multiple of 2^-20 below 2^13, so binary64 holds it exactly: the
//! reference maximum and the observed roundings are exact.
//!
//! Checked: the theorem itself (`|T_L - F_L| <= E + 2 u M` with the observed
//! entered errors E, at every depth), the checker's bound (the output's
//! error bound of `recognise`), that this bound does not grow with depth,
//! and that a carried row which is not exactly `1 x A + 1 x q` (here with a
//! cancelling pair of coordinate weights, the same function in real
//! arithmetic) makes the checker fall back to the per-layer count.

use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::verify::gadgets::{parse_roles, recognise};
use robmem::verify::model::{Element, Layer, Model};

/// Unit roundoff of float32.
const U32: f64 = 1.0 / (1u64 << 24) as f64;

/// Projected dimension of the test networks.
const M: usize = 3;

/// Inputs lie in `[0, X_MAX)`.
const X_MAX: f64 = 16.0;

/// A score `<w, u> + c`, every number a float32 on the grid.
#[derive(Clone, Debug)]
struct Score {
    w: Vec<f64>,
    c: f64,
}

impl Score {
    fn at(&self, x: &[f64]) -> f64 {
        self.w.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + self.c
    }
}

/// How the comparison order of a chain's scores is arranged.
#[derive(Clone, Copy, Debug)]
enum Family {
    Random,
    Increasing,
    Decreasing,
    Alternating,
    NearTies,
}

const FAMILIES: [Family; 5] = [
    Family::Random,
    Family::Increasing,
    Family::Decreasing,
    Family::Alternating,
    Family::NearTies,
];

/// Scale of the scores: weights below `weight`, constants near `base`.
#[derive(Clone, Copy, Debug)]
struct Scale {
    weight: f64,
    base: f64,
}

const SCALES: [Scale; 2] = [
    Scale {
        weight: 1.0,
        base: 64.0,
    },
    Scale {
        weight: 16.0,
        base: 1000.0,
    },
];

fn grid(rng: &mut ChaCha8Rng, below: f64, step: f64) -> f64 {
    let steps = (below / step) as i64;
    rng.gen_range(-steps + 1..steps) as f64 * step
}

/// `n` scores of one family. Every score is >= base - M X_MAX weight > 0 on
/// the inputs, so the chain's first score passes its ReLU unchanged.
fn scores(rng: &mut ChaCha8Rng, family: Family, scale: Scale, n: usize) -> Vec<Score> {
    let w_step = 1.0 / 1024.0;
    let c_step = 1.0 / 4096.0;
    let shared: Vec<f64> = (0..M).map(|_| grid(rng, scale.weight, w_step)).collect();
    (0..n)
        .map(|index: usize| {
            let j = index as f64;
            let (w, c) = match family {
                Family::Random => (
                    (0..M).map(|_| grid(rng, scale.weight, w_step)).collect(),
                    scale.base + grid(rng, 8.0, c_step),
                ),
                // The same weights: the order of the constants is the order
                // of the scores at every input.
                Family::Increasing => (shared.clone(), scale.base + j * c_step),
                Family::Decreasing => (shared.clone(), scale.base - j * c_step),
                Family::Alternating => {
                    let sign = if index.is_multiple_of(2) { 1.0 } else { -1.0 };
                    (shared.clone(), scale.base + sign * j * c_step)
                }
                Family::NearTies => (
                    shared
                        .iter()
                        .map(|w| w + rng.gen_range(-1i64..=1) as f64 * w_step)
                        .collect(),
                    scale.base + rng.gen_range(0i64..3) as f64 * c_step,
                ),
            };
            Score { w, c }
        })
        .collect()
}

/// Per-layer rows of the test network, with the certificate's roles.
struct Net {
    model: Model,
    roles: Vec<String>,
}

/// The network: class 0 is a running maximum over `chain` (first score in
/// layer 1, one comparison per layer after), class 1 one score carried to
/// the output; the outputs are `1 x max + 0`. With `cancel`, every carried
/// accumulator row also reads `+1 x u0 - 1 x (a second copy of u0)`: the
/// same function in real arithmetic, but not the row section 6.1 needs.
fn network(chain: &[Score], other: &Score, cancel: bool) -> Net {
    let n = chain.len();
    assert!(n >= 2);
    let mut layers = Vec::new();
    let mut roles = Vec::new();
    // Layer 0: u = relu(x).
    layers.push(Layer {
        weight: Array2::eye(M),
        bias: Array1::zeros(M),
        relu: true,
    });
    roles.push(
        (0..M)
            .map(|k| format!("u{k}"))
            .collect::<Vec<_>>()
            .join(" "),
    );
    // Hidden layers 1..n-1: u copies (and a duplicate of u0 from layer 1
    // on, when cancelling), a0.0, q@0.0 (while points remain), a1.0.
    // Previous layer's indices: u at 0..M, then (dup), then a, q, b.
    let mut prev_width = M;
    let mut prev_dup: Option<usize> = None;
    let mut prev_a: Option<usize> = None;
    let mut prev_q: Option<usize> = None;
    let mut prev_b: Option<usize> = None;
    for l in 1..n {
        let mut rows: Vec<(Vec<f64>, f64, String)> = Vec::new();
        let copy = |k: usize| {
            let mut r = vec![0.0; prev_width];
            r[k] = 1.0;
            r
        };
        for k in 0..M {
            rows.push((copy(k), 0.0, format!("u{k}")));
        }
        let dup = cancel.then(|| {
            rows.push((copy(0), 0.0, "u0".into()));
            rows.len() - 1
        });
        let score_row = |s: &Score, minus: &[usize]| {
            let mut r = vec![0.0; prev_width];
            r[..M].copy_from_slice(&s.w);
            for &i in minus {
                r[i] = -1.0;
            }
            (r, s.c)
        };
        let (a, q) = if l == 1 {
            let (r, c) = score_row(&chain[0], &[]);
            rows.push((r, c, "a0.0".into()));
            let w: Vec<f64> = chain[1]
                .w
                .iter()
                .zip(&chain[0].w)
                .map(|(a, b)| a - b)
                .collect();
            let c = chain[1].c - chain[0].c;
            let mut r = vec![0.0; prev_width];
            r[..M].copy_from_slice(&w);
            rows.push((r, c, "q1@0.0".into()));
            (rows.len() - 2, rows.len() - 1)
        } else {
            let (pa, pq) = (prev_a.unwrap(), prev_q.unwrap());
            let mut r = vec![0.0; prev_width];
            r[pa] = 1.0;
            r[pq] = 1.0;
            if let Some(d) = prev_dup {
                r[0] = 1.0;
                r[d] = -1.0;
            }
            rows.push((r, 0.0, "a0.0".into()));
            let (r, c) = score_row(&chain[l], &[pa, pq]);
            rows.push((r, c, format!("q{l}@0.0")));
            (rows.len() - 2, rows.len() - 1)
        };
        let b = if l == 1 {
            let (r, c) = score_row(other, &[]);
            rows.push((r, c, "a1.0".into()));
            rows.len() - 1
        } else {
            let mut r = vec![0.0; prev_width];
            r[prev_b.unwrap()] = 1.0;
            rows.push((r, 0.0, "a1.0".into()));
            rows.len() - 1
        };
        let width = rows.len();
        let mut weight = Array2::zeros((width, prev_width));
        let mut bias = Array1::zeros(width);
        for (i, (r, c, _)) in rows.iter().enumerate() {
            weight.row_mut(i).assign(&Array1::from(r.clone()));
            bias[i] = *c;
        }
        layers.push(Layer {
            weight,
            bias,
            relu: true,
        });
        roles.push(
            rows.iter()
                .map(|(_, _, role)| role.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        );
        prev_width = width;
        prev_dup = dup;
        (prev_a, prev_q, prev_b) = (Some(a), Some(q), Some(b));
    }
    // Output: o0 = a + q, o1 = b.
    let mut weight = Array2::zeros((2, prev_width));
    weight[[0, prev_a.unwrap()]] = 1.0;
    weight[[0, prev_q.unwrap()]] = 1.0;
    weight[[1, prev_b.unwrap()]] = 1.0;
    layers.push(Layer {
        weight,
        bias: Array1::zeros(2),
        relu: false,
    });
    roles.push("o0 o1".into());
    Net {
        model: Model {
            input_dim: M,
            layers,
            element: Element::F32,
            input_name: "x".into(),
            output_name: "y".into(),
            metadata: Vec::new(),
        },
        roles,
    }
}

/// The checker's float32 error bounds on outputs 0 and 1 (`recognise`'s).
fn checker_bounds(net: &Net) -> [f64; 2] {
    let roles = parse_roles(&net.roles).expect("roles parse");
    let structure =
        recognise(&net.model, &roles, &[X_MAX; M], None, &[U32]).expect("gadgets recognised");
    [structure.output_error[0][0], structure.output_error[1][0]]
}

/// The checker's float32 error bound on output 0.
fn checker_bound(net: &Net) -> f64 {
    checker_bounds(net)[0]
}

/// The exact maximum of `chain` at `x`.
fn exact_max(chain: &[Score], x: &[f64]) -> f64 {
    chain.iter().map(|s| s.at(x)).fold(f64::MIN, f64::max)
}

/// A chain of `n` scores of `family` and one score of class 1, with the
/// random stream that made them.
fn case(seed: u64, family: Family, scale: Scale, n: usize) -> (ChaCha8Rng, Vec<Score>, Score) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let chain = scores(&mut rng, family, scale, n);
    let other = scores(&mut rng, Family::Random, scale, 1).remove(0);
    (rng, chain, other)
}

/// Evaluates `net` at `trials` random inputs in every fixed order and
/// asserts output 0 within `bound` of the exact maximum, and, with
/// `theorem`, section 6.1's claim with the observed errors at every layer.
fn assert_within(
    net: &Net,
    chain: &[Score],
    rng: &mut ChaCha8Rng,
    trials: usize,
    bound: f64,
    theorem: bool,
) {
    for trial in 0..trials {
        let x = input(rng);
        for order in ORDERS {
            let run = evaluate(net, chain, &x, Some(order), rng);
            let what = format!("trial {trial}, {order:?}");
            if theorem {
                assert_theorem(&run, &what);
            }
            let error = (run.outputs[0] - exact_max(chain, &x)).abs();
            assert!(error <= bound, "{what}: error {error:e} above {bound:e}");
        }
    }
}

/// How a dot product is summed in float32.
#[derive(Clone, Copy, Debug)]
enum Order {
    /// Index order, the bias last.
    Natural,
    /// Largest magnitude first.
    LargestFirst,
    /// Smallest magnitude first.
    SmallestFirst,
    /// A random order.
    Shuffled,
    /// The exact sum of the exact products, rounded once.
    RoundedOnce,
}

const ORDERS: [Order; 5] = [
    Order::Natural,
    Order::LargestFirst,
    Order::SmallestFirst,
    Order::Shuffled,
    Order::RoundedOnce,
];

/// `fl32(<row, inputs> + bias)` summed in `order`.
fn dot32(row: &[f64], inputs: &[f32], bias: f64, order: Order, rng: &mut ChaCha8Rng) -> f32 {
    if let Order::RoundedOnce = order {
        // Products of two float32 numbers are exact in binary64, and on the
        // test grid so is their sum.
        let exact: f64 = row
            .iter()
            .zip(inputs)
            .map(|(w, x)| w * f64::from(*x))
            .sum::<f64>()
            + bias;
        return exact as f32;
    }
    let mut terms: Vec<f32> = row
        .iter()
        .zip(inputs)
        .map(|(w, x)| (*w as f32) * x)
        .collect();
    terms.push(bias as f32);
    match order {
        Order::LargestFirst => terms.sort_by(|a, b| b.abs().total_cmp(&a.abs())),
        Order::SmallestFirst => terms.sort_by(|a, b| a.abs().total_cmp(&b.abs())),
        Order::Shuffled => terms.shuffle(rng),
        Order::Natural | Order::RoundedOnce => {}
    }
    terms.into_iter().fold(0.0f32, |s, t| s + t)
}

/// One float32 evaluation: the outputs, and per layer l >= 1 the value
/// `T_l = a + q` of the chain, the observed rounding of its comparison
/// (computed minus exact pre-activation) and the exact maximum so far.
struct Run {
    outputs: Vec<f64>,
    /// `(T_l, e_l, F_l)` for l = 1..n-1.
    trace: Vec<(f64, f64, f64)>,
}

fn evaluate(
    net: &Net,
    chain: &[Score],
    x: &[f64],
    order: Option<Order>,
    rng: &mut ChaCha8Rng,
) -> Run {
    let mut values: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let mut trace = Vec::new();
    let last = net.model.layers.len() - 1;
    for (l, layer) in net.model.layers.iter().enumerate() {
        let roles: Vec<&str> = net.roles[l].split_whitespace().collect();
        let mut next = Vec::with_capacity(layer.weight.nrows());
        let mut comparison_error = 0.0;
        for (i, row) in layer.weight.rows().into_iter().enumerate() {
            let row: Vec<f64> = row.to_vec();
            let order = order.unwrap_or_else(|| ORDERS[rng.gen_range(0..ORDERS.len())]);
            let computed = dot32(&row, &values, layer.bias[i], order, rng);
            if roles[i].starts_with('q') {
                let exact = row
                    .iter()
                    .zip(&values)
                    .map(|(w, v)| w * f64::from(*v))
                    .sum::<f64>()
                    + layer.bias[i];
                comparison_error = f64::from(computed) - exact;
            }
            next.push(if layer.relu {
                computed.max(0.0)
            } else {
                computed
            });
        }
        if (1..last).contains(&l) {
            let a = roles.iter().position(|r| *r == "a0.0").unwrap();
            let q = roles.iter().position(|r| r.starts_with('q')).unwrap();
            let t = f64::from(next[a]) + f64::from(next[q]);
            let f = exact_max(&chain[..=l], x);
            trace.push((t, comparison_error, f));
        }
        values = next;
    }
    Run {
        outputs: values.into_iter().map(f64::from).collect(),
        trace,
    }
}

/// Random grid inputs in `[0, X_MAX)^M`.
fn input(rng: &mut ChaCha8Rng) -> Vec<f64> {
    (0..M)
        .map(|_| rng.gen_range(0..(X_MAX as i64 * 1024)) as f64 / 1024.0)
        .collect()
}

/// Section 6.1's claim on one evaluation, with the observed errors: at
/// every depth L, `|T_L - F_L| <= E_L + 2 u max_{l <= L} T_l`, E_L the
/// largest observed entered error so far (the start's `|T_1 - F_1|`
/// included).
fn assert_theorem(run: &Run, what: &str) {
    let (t1, _, f1) = run.trace[0];
    let mut entered = (t1 - f1).abs();
    let mut top: f64 = t1;
    for (l, &(t, e, f)) in run.trace.iter().enumerate().skip(1) {
        entered = entered.max(e.abs());
        top = top.max(t);
        let bound = entered + 2.0 * U32 * top;
        assert!(
            (t - f).abs() <= bound,
            "{what}, layer {}: |T - F| = {:e} > E + 2uM = {bound:e}",
            l + 1,
            (t - f).abs()
        );
    }
}

#[test]
fn running_maxima_stay_within_the_depth_free_bound_in_every_summation_order() {
    let mut rng = ChaCha8Rng::seed_from_u64(61);
    for family in FAMILIES {
        for scale in SCALES {
            let chain = scores(&mut rng, family, scale, 120);
            let other = scores(&mut rng, Family::Random, scale, 1).remove(0);
            let net = network(&chain, &other, false);
            let [bound, other_bound] = checker_bounds(&net);
            assert!(bound.is_finite() && bound > 0.0);
            for trial in 0..6 {
                let x = input(&mut rng);
                let exact = exact_max(&chain, &x);
                let orders = ORDERS.iter().map(|&o| Some(o)).chain([None]);
                for order in orders {
                    let run = evaluate(&net, &chain, &x, order, &mut rng);
                    let what = format!("{family:?} {scale:?} trial {trial} order {order:?}");
                    assert_theorem(&run, &what);
                    let error = (run.outputs[0] - exact).abs();
                    assert!(
                        error <= bound,
                        "{what}: output error {error:e} above the checker's bound {bound:e}"
                    );
                    let other_error = (run.outputs[1] - other.at(&x)).abs();
                    assert!(other_error <= other_bound, "{what}: class 1");
                }
            }
        }
    }
}

#[test]
fn near_ties_that_update_every_layer_do_not_accumulate() {
    // Increasing scores one grid step apart at large magnitude: every
    // comparison updates, so every layer rounds (eta != 0); the exact max is
    // the last score. The error must stay within the observed bound.
    let (mut rng, chain, other) = case(7, Family::Increasing, SCALES[1], 300);
    let net = network(&chain, &other, false);
    assert_within(&net, &chain, &mut rng, 20, checker_bound(&net), true);
}

#[test]
fn the_checkers_bound_does_not_grow_with_depth() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let scale = SCALES[1];
    // The same 20 scores cycled to 80 and to 400 comparisons: the same
    // entered values, five times the depth. (The bound settles within the
    // first few dozen layers: an entered error grows with the magnitudes
    // the comparison reads, which include the running maximum's own error
    // bound, to a fixed point.)
    let short = scores(&mut rng, Family::Random, scale, 20);
    let cycled = |n: usize| -> Vec<Score> { short.iter().cycle().take(n).cloned().collect() };
    let (long, short) = (cycled(400), cycled(80));
    let other = scores(&mut rng, Family::Random, scale, 1).remove(0);
    let deep = checker_bound(&network(&long, &other, false));
    let shallow = checker_bound(&network(&short, &other, false));
    assert!(
        deep <= shallow * (1.0 + 1e-9),
        "400 layers: {deep:e}, 80 layers: {shallow:e}"
    );
    // The per-layer count (the fallback) grows about linearly.
    let deep_fallback = checker_bound(&network(&long, &other, true));
    let shallow_fallback = checker_bound(&network(&short, &other, true));
    assert!(
        deep_fallback > 4.0 * shallow_fallback,
        "fallback: 400 layers {deep_fallback:e}, 80 layers {shallow_fallback:e}"
    );
}

#[test]
fn a_carried_row_that_is_not_exactly_one_one_falls_back_to_the_per_layer_count() {
    // `+1 x u0 - 1 x u0'` in every carried accumulator row is the same
    // function in real arithmetic, but the computed sum need not be
    // fl(a + q) any more: the checker must not use section 6.1 there. Its
    // bound is then the per-layer one, larger, and still holds.
    let (mut rng, chain, other) = case(17, Family::NearTies, SCALES[1], 150);
    let exact_rows = checker_bound(&network(&chain, &other, false));
    let tampered = network(&chain, &other, true);
    let fallback = checker_bound(&tampered);
    assert!(
        fallback > 3.0 * exact_rows,
        "tampered rows {fallback:e} vs exact rows {exact_rows:e}"
    );
    assert_within(&tampered, &chain, &mut rng, 10, fallback, false);
}

#[test]
fn a_carried_row_with_a_bias_or_a_weight_off_one_is_not_a_running_maximum() {
    let (_, chain, other) = case(5, Family::Random, SCALES[0], 6);
    let roles_of = |net: &Net| parse_roles(&net.roles).unwrap();
    // Layer 3's a0.0 reads layer 2's a0.0 and q: weight (1, 1 + 2^-20), then bias 2^-20.
    let carried = |net: &Net| {
        let roles: Vec<&str> = net.roles[3].split_whitespace().collect();
        roles.iter().position(|r| *r == "a0.0").unwrap()
    };
    let mut off_one = network(&chain, &other, false);
    let n = carried(&off_one);
    let q = {
        let roles: Vec<&str> = off_one.roles[2].split_whitespace().collect();
        roles.iter().position(|r| r.starts_with('q')).unwrap()
    };
    off_one.model.layers[3].weight[[n, q]] = 1.0 + 1.0 / (1u64 << 20) as f64;
    let error = recognise(
        &off_one.model,
        &roles_of(&off_one),
        &[X_MAX; M],
        None,
        &[U32],
    )
    .expect_err("a weight off 1 is not the gadget");
    assert_eq!((error.layer, error.neuron), (3, n));
    let mut biased = network(&chain, &other, false);
    biased.model.layers[3].bias[n] = 1.0 / (1u64 << 20) as f64;
    let error = recognise(&biased.model, &roles_of(&biased), &[X_MAX; M], None, &[U32])
        .expect_err("a bias is not the gadget");
    assert_eq!((error.layer, error.neuron), (3, n));
}
