//! Gadget recognition: reads the network's weights, layer by layer, and
//! confirms that every neuron is the gadget its role names
//! (specs/construction.md sections 4 and 5A). It never calls the construction.
//!
//! The pass interprets each neuron symbolically, as a function of the first
//! layer's output `u` (the *projected coordinates*):
//! - `Coord(k)`: `u_k`, the first layer's neuron k or an exact copy of it
//!   (a row that is exactly `e_k` with bias 0);
//! - `Max(n)`: the maximum of a set of *scores* (affine functions of `u`,
//!   the leaves of node n);
//! - `Gap(x, m)`: `relu(Max(x) - Max(m))`.
//!
//! A row is first rewritten into a canonical form: an affine function of
//! `u` plus terms `c * Max(n)` and `c * Gap(x, m)`; then every pair
//! `c * Max(m) + c * Gap(x, m)` becomes `c * Max(x ∪ m)`, the identity
//! `a + relu(b - a) = max(a, b)` of section 5A, which holds in real
//! arithmetic with no condition. The role then says which form the row must
//! have. A ReLU applied to a `Max` is the identity only where the maximum is
//! non-negative: the pass records the leaves that must be non-negative on
//! every ball ([`Structure::nonneg_leaves`]) for the caller to check per point.
//!
//! Floating point: for each unit roundoff the pass bounds how far a
//! neuron's computed value can be from its symbolic value evaluated at the
//! *computed* first-layer output (the caller widens the balls by the first
//! layer's own error). A dot product of n non-zero terms (bias included)
//! has error at most `gamma_n * sum |w| |v|` in any summation order; ReLU
//! does not increase errors; and a pair `A + relu(X - M)` whose `A` and `M`
//! are the same real expression of the previous layer has error
//! `max(e_M, e_X) + rnd(A)`, since `max` is 1-Lipschitz in each argument
//! jointly. Without that sharing the errors add (sound, but they double per
//! layer). The per-layer rule still adds `rnd(A)` per layer; where every
//! carried accumulator row is exactly `1 x A + 1 x q` (or `1 x A`), bias 0,
//! and each comparison subtracts exactly those neurons, the running maximum
//! errs by at most its largest entered error plus `2 u M` at any depth
//! (specs/construction.md section 6.1), and the smaller bound is kept.

use super::interval::{add_up, div_up, gamma, mul_up, sub_down};
use super::model::Model;
use std::collections::HashMap;

/// Index of a node of the max trees.
pub type NodeId = usize;

/// A score: an affine function `<weight, u> + bias` of the projected coordinates.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// Coefficients, one per projected coordinate.
    pub weight: Vec<f64>,
    /// Constant term.
    pub bias: f64,
    /// The output (label index) whose maximum contains this score.
    pub label: Option<usize>,
    /// `[layer, neuron]` of the neuron that introduced it.
    pub introduced_by: [usize; 2],
}

/// What the network computes, as recognised from its weights.
#[derive(Clone, Debug)]
pub struct Structure {
    /// Number of projected coordinates m (rows of the first layer).
    pub m: usize,
    /// The scores.
    pub leaves: Vec<Leaf>,
    /// `[layer, neuron]` -> the score that neuron introduced.
    pub leaf_of_neuron: HashMap<[usize; 2], usize>,
    /// Scores that must be >= 0 on every ball (ReLUs of accumulators rely on it).
    pub nonneg_leaves: Vec<usize>,
    /// Output scale alpha: `out_c = alpha * max(scores of c) + beta_c`.
    pub output_scale: f64,
    /// beta_c.
    pub output_bias: Vec<f64>,
    /// Per unit roundoff given to [`recognise`], per output: error bound.
    pub output_error: Vec<Vec<f64>>,
    /// The label gadget (section 5B), for a network with one label output.
    pub label: Option<LabelGadget>,
}

/// `coeff * max(scores)` in a step row.
#[derive(Clone, Debug)]
pub struct MaxTerm {
    /// The coefficient (kappa or -kappa).
    pub coeff: f64,
    /// The scores whose maximum it is.
    pub leaves: Vec<usize>,
    /// Per unit roundoff: bound on `|coeff| |computed max - max|`.
    pub err: Vec<f64>,
}

/// The two step neurons closing one group: `relu(X + bias[part])` with
/// `X = kappa G - kappa B + <affine, u>`, identical rows but for the bias.
#[derive(Clone, Debug)]
pub struct StepPair {
    /// Layer of the pair.
    pub layer: usize,
    /// The class of the group it closes.
    pub class: usize,
    /// Neurons of parts 0 and 1.
    pub neurons: [usize; 2],
    /// `kappa G` when G is a maximum of the previous layer; `None` when the
    /// group's only score is computed in `affine` (and the bias).
    pub group: Option<MaxTerm>,
    /// `-kappa B`, B the best score of the previous layer.
    pub best: MaxTerm,
    /// Coefficients on the projected coordinates.
    pub affine: Vec<f64>,
    /// Biases of parts 0 and 1.
    pub bias: [f64; 2],
    /// Per part, per unit roundoff: the row's rounding bound.
    pub rnd: [Vec<f64>; 2],
}

/// A row reading the label register: a carry `l0` (part 0), a half of a
/// write `l1`, `l2` (parts 1, 2) or the output (part 3).
#[derive(Clone, Debug)]
pub struct RegisterRow {
    /// `[layer, neuron]`.
    pub at: [usize; 2],
    /// 0, 1, 2 or 3 (output).
    pub part: u8,
    /// The register it reads: previous-layer neurons and coefficients
    /// (negated in the row for part 2).
    pub register: Vec<(usize, f64)>,
    /// Y for a write (the row has `-Y h0 + Y h1` of the previous layer's
    /// step pair); 0 otherwise.
    pub reach: f64,
    /// The row's bias.
    pub bias: f64,
}

/// The label gadget as recognised: step pairs and register rows in layer order.
#[derive(Clone, Debug, Default)]
pub struct LabelGadget {
    /// Step pairs, in layer order.
    pub steps: Vec<StepPair>,
    /// Register rows, in layer order; the output row is last.
    pub rows: Vec<RegisterRow>,
    /// The scores of the group closed without a step (the first best score).
    pub first_group: Vec<usize>,
}

/// A neuron that is not the gadget its role names.
#[derive(Clone, Debug, thiserror::Error, PartialEq)]
#[error("layer {layer}, neuron {neuron} (role `{role}`): {message}")]
pub struct GadgetError {
    /// 0-based layer.
    pub layer: usize,
    /// 0-based neuron in the layer.
    pub neuron: usize,
    /// The role the certificate gives it.
    pub role: String,
    /// What the weights show instead.
    pub message: String,
}

/// A role, parsed from the certificate's notation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// `u{k}`: projected coordinate k.
    Coord(usize),
    /// `a{c}.{s}`: accumulator s of class c.
    Accumulator(usize, usize),
    /// `q{j}@{c}.{s}`: comparison of point j with accumulator s of class c.
    Comparison(usize, usize, usize),
    /// `x{c}.{s}`: max merge feeding accumulator s of class c.
    Merge(usize, usize),
    /// `o{i}`: output i.
    Output(usize),
    /// `b`: the best score of the label groups closed so far (section 5B).
    Best,
    /// `i`: `relu(G - B)`, how much a closed group's maximum beats the best.
    Increase,
    /// `h{c}.{part}`: step neuron `part` (0 or 1) closing the group of class c.
    Step(usize, u8),
    /// `l{part}`: the label register: 0 a carried value, 1 and 2 the two
    /// halves of a write.
    Register(u8),
}

impl Role {
    /// Parses `u3`, `a1.0`, `q17@1.0`, `x1.0`, `o2`.
    pub fn parse(text: &str) -> Option<Role> {
        let (kind, rest) = text.split_at_checked(1)?;
        let pair = |s: &str| -> Option<(usize, usize)> {
            let (a, b) = s.split_once('.')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        };
        match kind {
            "u" => Some(Role::Coord(rest.parse().ok()?)),
            "a" => pair(rest).map(|(c, s)| Role::Accumulator(c, s)),
            "x" => pair(rest).map(|(c, s)| Role::Merge(c, s)),
            "o" => Some(Role::Output(rest.parse().ok()?)),
            "b" if rest.is_empty() => Some(Role::Best),
            "i" if rest.is_empty() => Some(Role::Increase),
            "h" => {
                pair(rest).and_then(|(c, part)| (part <= 1).then_some(Role::Step(c, part as u8)))
            }
            "l" => match rest {
                "0" => Some(Role::Register(0)),
                "1" => Some(Role::Register(1)),
                "2" => Some(Role::Register(2)),
                _ => None,
            },
            "q" => {
                let (j, cs) = rest.split_once('@')?;
                let (c, s) = pair(cs)?;
                Some(Role::Comparison(j.parse().ok()?, c, s))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Role::Coord(k) => write!(f, "u{k}"),
            Role::Accumulator(c, s) => write!(f, "a{c}.{s}"),
            Role::Comparison(j, c, s) => write!(f, "q{j}@{c}.{s}"),
            Role::Merge(c, s) => write!(f, "x{c}.{s}"),
            Role::Output(i) => write!(f, "o{i}"),
            Role::Best => write!(f, "b"),
            Role::Increase => write!(f, "i"),
            Role::Step(c, part) => write!(f, "h{c}.{part}"),
            Role::Register(part) => write!(f, "l{part}"),
        }
    }
}

/// Parses a certificate's `layers` list.
pub fn parse_roles(layers: &[String]) -> Result<Vec<Vec<Role>>, GadgetError> {
    layers
        .iter()
        .enumerate()
        .map(|(layer, line)| {
            line.split_whitespace()
                .enumerate()
                .map(|(neuron, word)| {
                    Role::parse(word).ok_or_else(|| GadgetError {
                        layer,
                        neuron,
                        role: word.to_string(),
                        message:
                            "not a role (expected u{k}, a{c}.{s}, q{j}@{c}.{s}, x{c}.{s}, o{i}, b, i, h{c}.{0|1} or l{0|1|2})"
                                .into(),
                    })
                })
                .collect()
        })
        .collect()
}

/// The neuron-level identity of a real expression: sorted `(neuron, coefficient bits)`.
type Key = Vec<(usize, u64)>;

#[derive(Clone, Debug)]
enum Node {
    Leaf(usize),
    Join(NodeId, NodeId),
}

#[derive(Clone, Debug)]
enum Meaning {
    Coord(usize),
    Max(NodeId),
    Gap {
        x: NodeId,
        m: NodeId,
        /// The previous layer's expression whose value played `M`.
        m_key: Key,
        /// Error of that expression.
        e_m: Vec<f64>,
        /// Error of `X` plus this neuron's rounding.
        e_x: Vec<f64>,
    },
    /// A step or register neuron of the label gadget: its value is bounded
    /// per point by [`super::label`], not symbolically.
    Opaque,
}

#[derive(Clone, Debug)]
struct Neuron {
    meaning: Meaning,
    /// Upper bound on |symbolic value| over the region.
    mag: f64,
    /// Per unit: |computed - symbolic| bound.
    err: Vec<f64>,
    /// Max neurons: error of the pre-activation expression, and its key.
    pre_err: Vec<f64>,
    pre_key: Key,
    /// Max neurons: this neuron's own rounding.
    rnd: Vec<f64>,
    /// Accumulators whose row is exactly `1 x T` for a carried maximum T of
    /// the previous layer (one or two neurons of weight 1, nothing else,
    /// bias 0): per unit, the largest error of a value that entered T's
    /// running maximum (specs/construction.md section 6.1). `None` for any
    /// other neuron.
    chain: Option<Vec<f64>>,
}

#[derive(Clone, Debug)]
struct Term {
    coeff: f64,
    /// `Max` or `Gap` (coordinates go to the affine part).
    kind: Meaning,
    err: Vec<f64>,
    key: Key,
    /// `Max` terms that are the value T of a confirmed running maximum
    /// (section 6.1): per unit, the largest error of a value that entered it.
    chain: Option<Vec<f64>>,
}

/// A row in canonical form.
#[derive(Clone, Debug)]
struct Form {
    affine: Vec<f64>,
    bias: f64,
    terms: Vec<Term>,
    /// Whether the affine part was computed exactly.
    exact: bool,
    /// Per unit: this neuron's rounding bound.
    rnd: Vec<f64>,
    /// Upper bound on the sum of `|w| |v|` and `|bias|` over the region.
    total: f64,
    /// Non-zero weights and bias of the row.
    nonzeros: usize,
}

impl Form {
    fn affine_is_zero(&self) -> bool {
        self.affine.iter().all(|&a| a == 0.0)
    }
}

/// `a + b` if exact in f64 (checked with the TwoSum error term).
fn exact_add(a: f64, b: f64) -> Option<f64> {
    let s = a + b;
    let bb = s - a;
    let err = (a - (s - bb)) + (b - bb);
    (err == 0.0 && s.is_finite()).then_some(s)
}

/// Upper bound of a sum of non-negative terms computed naively.
fn sum_up(values: impl Iterator<Item = f64>) -> f64 {
    let mut n = 0usize;
    let mut s = 0.0;
    for v in values {
        s += v;
        n += 1;
    }
    s * (1.0 + gamma(n + 1, f64::EPSILON))
}

/// The frame of the margin lemma: scores are `<w, u - t> - |w|^2/2 + S + eps`,
/// and every computed first-layer output satisfies `|u - t| <= reach`.
/// It gives tighter magnitude bounds than the coordinates alone.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// t.
    pub shift: &'a [f64],
    /// S.
    pub offset: f64,
    /// Upper bound on `|u - t|_2` over every ball.
    pub reach: f64,
}

struct Pass<'a> {
    units: &'a [f64],
    coord_mag: &'a [f64],
    frame: Option<Frame<'a>>,
    nodes: Vec<Node>,
    node_mag: Vec<f64>,
    /// Per node, an upper bound on its real value over every ball (at most
    /// its magnitude bound; tighter for scores, whose value is at most
    /// `|w| reach - |w|^2 / 2 + S + eps`).
    node_upper: Vec<f64>,
    node_nonneg: Vec<bool>,
    joins: HashMap<(NodeId, NodeId), NodeId>,
    leaves: Vec<Leaf>,
    leaf_of_neuron: HashMap<[usize; 2], usize>,
    nonneg_leaves: Vec<usize>,
}

impl Pass<'_> {
    fn zeros(&self) -> Vec<f64> {
        vec![0.0; self.units.len()]
    }

    fn leaf(&mut self, weight: Vec<f64>, bias: f64, at: [usize; 2]) -> NodeId {
        let mut mag = sum_up(
            weight
                .iter()
                .zip(self.coord_mag)
                .map(|(w, u)| w.abs() * u)
                .chain(std::iter::once(bias.abs())),
        );
        let mut upper = mag;
        if let Some(frame) = self.frame {
            // |s| <= |w| |u - t| + |w|^2/2 + |S| + |eps|, eps = b + <w, t> + |w|^2/2 - S.
            let square: f64 = weight.iter().map(|w| w * w).sum();
            let dot: f64 = weight.iter().zip(frame.shift).map(|(w, t)| w * t).sum();
            let size: f64 = weight
                .iter()
                .zip(frame.shift)
                .map(|(w, t)| (w * t).abs())
                .sum::<f64>()
                + square
                + bias.abs()
                + frame.offset.abs();
            let eps = (bias + dot + square / 2.0 - frame.offset).abs()
                + gamma(2 * weight.len() + 4, f64::EPSILON) * size;
            let nominal = sum_up(
                [
                    square.sqrt() * frame.reach,
                    square / 2.0,
                    frame.offset.abs(),
                    eps,
                ]
                .into_iter(),
            ) * (1.0 + 1e-9);
            mag = mag.min(nominal);
            // s = <w, u - t> - |w|^2/2 + S + eps <= |w| reach - |w|^2/2 + S + |eps|:
            // the positive terms rounded up, the subtracted one down.
            let above =
                sum_up([square.sqrt() * frame.reach, frame.offset.max(0.0), eps].into_iter())
                    * (1.0 + 1e-9);
            let below = (square / 2.0 - frame.offset.min(0.0)) * (1.0 - 1e-9);
            upper = mag.min(above - below);
        }
        let id = self.leaves.len();
        self.leaves.push(Leaf {
            weight,
            bias,
            label: None,
            introduced_by: at,
        });
        self.leaf_of_neuron.insert(at, id);
        self.nodes.push(Node::Leaf(id));
        self.node_mag.push(mag);
        self.node_upper.push(upper);
        self.node_nonneg.push(false);
        self.nodes.len() - 1
    }

    /// A bound on `|value|` of node `node` over every ball: for a maximum
    /// known to be >= 0, its upper bound (the value lies in [0, upper]),
    /// else its magnitude bound.
    fn value_bound(&self, node: NodeId) -> f64 {
        if self.node_nonneg[node] {
            self.node_upper[node].max(0.0).min(self.node_mag[node])
        } else {
            self.node_mag[node]
        }
    }

    fn join(&mut self, m: NodeId, x: NodeId) -> NodeId {
        if let Some(&id) = self.joins.get(&(m, x)) {
            return id;
        }
        self.nodes.push(Node::Join(m, x));
        self.node_mag.push(self.node_mag[m].max(self.node_mag[x]));
        self.node_upper
            .push(self.node_upper[m].max(self.node_upper[x]));
        self.node_nonneg
            .push(self.node_nonneg[m] || self.node_nonneg[x]);
        let id = self.nodes.len() - 1;
        self.joins.insert((m, x), id);
        id
    }

    /// Canonical form of row `row` of a layer over `prev`.
    fn form(
        &mut self,
        row: ndarray::ArrayView1<f64>,
        bias: f64,
        prev: &[Neuron],
        m: usize,
    ) -> Form {
        let mut affine = vec![0.0; m];
        let mut exact = true;
        let mut terms: Vec<Term> = Vec::new();
        let mut magnitude = vec![bias.abs()];
        let mut count = usize::from(bias != 0.0);
        for (index, &w) in row.iter().enumerate() {
            if w == 0.0 {
                continue;
            }
            count += 1;
            let p = &prev[index];
            magnitude.push(w.abs() * (p.mag + p.err.iter().cloned().fold(0.0, f64::max)));
            let key = vec![(index, w.to_bits())];
            match &p.meaning {
                Meaning::Coord(k) => match exact_add(affine[*k], w) {
                    Some(s) => affine[*k] = s,
                    None => exact = false,
                },
                Meaning::Max(_) | Meaning::Gap { .. } | Meaning::Opaque => terms.push(Term {
                    coeff: w,
                    kind: p.meaning.clone(),
                    err: p.err.iter().map(|e| w.abs() * e).collect(),
                    key,
                    chain: p.chain.clone(),
                }),
            }
        }
        let total = sum_up(magnitude.into_iter());
        let rnd = self
            .units
            .iter()
            .map(|&u| {
                if u == 0.0 {
                    0.0
                } else {
                    gamma(count, u) * total
                }
            })
            .collect();
        let mut form = Form {
            affine,
            bias,
            terms,
            exact,
            rnd,
            total,
            nonzeros: count,
        };
        self.pair_up(&mut form, prev);
        // A sum of two values rounds once: its error is at most u |result|,
        // and the result of `A + relu(X - A)` is a maximum whose size is known.
        if count == 2 && bias == 0.0 && form.affine_is_zero() {
            if let [term] = form.terms.as_slice() {
                if let Meaning::Max(node) = term.kind {
                    let worst = term.err.iter().cloned().fold(0.0, f64::max);
                    let size = term.coeff.abs() * self.value_bound(node) + worst;
                    for (r, &u) in form.rnd.iter_mut().zip(self.units) {
                        *r = r.min(u * size * (1.0 + 1e-9));
                    }
                }
            }
        }
        form
    }

    /// Rewrites `c Max(m) + c Gap(x, m)` into `c Max(x ∪ m)` until no pair is left.
    fn pair_up(&mut self, form: &mut Form, prev: &[Neuron]) {
        loop {
            let mut found = None;
            'search: for (g, gap) in form.terms.iter().enumerate() {
                let Meaning::Gap { m, .. } = &gap.kind else {
                    continue;
                };
                for (a, acc) in form.terms.iter().enumerate() {
                    if let Meaning::Max(node) = acc.kind {
                        if node == *m && acc.coeff == gap.coeff && acc.key.len() == 1 {
                            found = Some((a, g));
                            break 'search;
                        }
                    }
                }
            }
            let Some((a, g)) = found else { return };
            let (acc, gap) = (form.terms[a].clone(), form.terms[g].clone());
            let Meaning::Gap {
                x,
                m,
                m_key,
                e_m,
                e_x,
            } = gap.kind
            else {
                unreachable!("g indexes a gap term")
            };
            // The accumulator neuron of the pair (its key has one entry).
            let acc_neuron = &prev[acc.key[0].0];
            let shared = acc_neuron.pre_key == m_key;
            let c = acc.coeff.abs();
            let node = self.join(m, x);
            // Section 6.1: when the accumulator's row was exactly 1 x (the
            // previous pair) and the gap compared with that same pair, T =
            // A + relu(X - M) continues a running maximum, whose error stays
            // within the largest entered error plus 2 u M at any depth.
            let chain: Option<Vec<f64>> = match &acc_neuron.chain {
                Some(entered) if shared => {
                    Some(entered.iter().zip(&e_x).map(|(a, b)| a.max(*b)).collect())
                }
                _ => None,
            };
            let tight = chain
                .as_ref()
                .map(|entered| self.chain_bound(node, entered));
            let err = (0..self.units.len())
                .map(|i| {
                    let unshared = if shared {
                        0.0
                    } else {
                        acc_neuron.pre_err[i] + e_m[i]
                    };
                    let per_layer = e_m[i].max(e_x[i]) + acc_neuron.rnd[i] + unshared;
                    let bound = tight.as_ref().map_or(per_layer, |t| per_layer.min(t[i]));
                    c * bound
                })
                .collect();
            let mut key: Key = acc.key.iter().chain(&gap.key).cloned().collect();
            key.sort_unstable();
            let merged = Term {
                coeff: acc.coeff,
                kind: Meaning::Max(node),
                err,
                key,
                chain,
            };
            let (first, second) = (a.min(g), a.max(g));
            form.terms.remove(second);
            form.terms.remove(first);
            form.terms.push(merged);
        }
    }
}

/// The key of a term list: the neuron entries of the terms with the given sign, sign removed.
fn key_of(terms: &[&Term]) -> Key {
    let mut key: Key = terms
        .iter()
        .flat_map(|t| t.key.iter())
        .map(|&(i, bits)| (i, f64::from_bits(bits).abs().to_bits()))
        .collect();
    key.sort_unstable();
    key
}

/// An output: its maximum's node, alpha, beta and error bounds.
type OutputForm = (NodeId, f64, f64, Vec<f64>);

/// What a role check found wrong, before it is placed at a neuron.
type RoleResult<T> = Result<T, String>;

impl Pass<'_> {
    fn exact_neuron(&self, meaning: Meaning, mag: f64) -> Neuron {
        Neuron {
            meaning,
            mag,
            err: self.zeros(),
            pre_err: self.zeros(),
            pre_key: Vec::new(),
            rnd: self.zeros(),
            chain: None,
        }
    }

    fn leaf_id(&self, node: NodeId) -> usize {
        match self.nodes[node] {
            Node::Leaf(i) => i,
            Node::Join(..) => unreachable!("leaf() makes leaves"),
        }
    }

    /// `a{c}.{s}`: a new score that must be >= 0 on every ball, or
    /// exactly 1 x (a running maximum that is known to be >= 0).
    fn accumulator(&mut self, form: &Form, at: [usize; 2]) -> RoleResult<Neuron> {
        if form.terms.is_empty() {
            if !form.exact {
                return Err("its score's coefficients do not add up exactly".into());
            }
            let node = self.leaf(form.affine.clone(), form.bias, at);
            let leaf = self.leaf_id(node);
            self.nonneg_leaves.push(leaf);
            self.node_nonneg[node] = true;
            return Ok(Neuron {
                meaning: Meaning::Max(node),
                mag: self.value_bound(node),
                err: form.rnd.clone(),
                pre_err: self.zeros(),
                pre_key: Vec::new(),
                rnd: form.rnd.clone(),
                chain: None,
            });
        }
        let [term] = form.terms.as_slice() else {
            return Err("an accumulator must carry one running maximum".into());
        };
        let Meaning::Max(node) = term.kind else {
            return Err("an accumulator must carry a maximum, not a comparison".into());
        };
        if term.coeff != 1.0 || !form.affine_is_zero() || form.bias != 0.0 {
            return Err(
                "an accumulator must be 1 x (a running maximum), with no other input and bias 0"
                    .into(),
            );
        }
        if !self.node_nonneg[node] {
            return Err(
                "no score of this maximum is known to be non-negative, so the ReLU may change it"
                    .into(),
            );
        }
        let mut err: Vec<f64> = term.err.iter().zip(&form.rnd).map(|(e, r)| e + r).collect();
        // Section 6.1 needs the row to be exactly 1 x A (+ 1 x q): every
        // other weight an exact zero, so that any summation order, FMA
        // included, computes fl(A + q), and A never decreases.
        let chain = (form.nonzeros == term.key.len()).then(|| {
            let entered: Vec<f64> = match &term.chain {
                Some(entered) => entered
                    .iter()
                    .zip(&term.err)
                    .map(|(a, b)| a.min(*b))
                    .collect(),
                None => term.err.clone(),
            };
            for (e, t) in err.iter_mut().zip(self.chain_bound(node, &entered)) {
                *e = e.min(t);
            }
            entered
        });
        Ok(Neuron {
            meaning: Meaning::Max(node),
            mag: self.value_bound(node),
            err,
            pre_err: term.err.clone(),
            pre_key: key_of(&[term]),
            rnd: form.rnd.clone(),
            chain,
        })
    }

    /// Per unit u, the error bound of section 6.1 for a running maximum
    /// over `node` whose entered values err by at most `entered`:
    /// `E + 2 u M` with `M = (|F| + E) / (1 - 2 u)`, F the node's maximum.
    /// Every computed value T of the chain is >= 0 and at most
    /// `F + E + 2 u max(T so far)`, so M bounds them all (by induction).
    /// The unit is raised by 1e-6 relative, which also covers a two-term
    /// sum rounded twice (through a wider format first).
    fn chain_bound(&self, node: NodeId, entered: &[f64]) -> Vec<f64> {
        self.units
            .iter()
            .zip(entered)
            .map(|(&u, &e)| {
                if u == 0.0 {
                    return e;
                }
                let u = mul_up(u, 1.0 + 1e-6);
                let twice = mul_up(2.0, u);
                let top = div_up(add_up(self.value_bound(node), e), sub_down(1.0, twice));
                add_up(e, mul_up(twice, top))
            })
            .collect()
    }

    /// `u{k}` after the first layer: exactly 1 x u_k, bias 0.
    fn carried(
        &self,
        row: ndarray::ArrayView1<f64>,
        bias: f64,
        prev: &[Neuron],
        k: usize,
    ) -> RoleResult<Neuron> {
        let mut entries = row.into_iter().enumerate().filter(|(_, &w)| w != 0.0);
        let copy = match (entries.next(), entries.next()) {
            (Some((i, &w)), None) => {
                w == 1.0 && matches!(prev[i].meaning, Meaning::Coord(c) if c == k)
            }
            _ => false,
        };
        if !copy || bias != 0.0 {
            return Err(format!(
                "a carried coordinate must be exactly 1 x u{k}, bias 0"
            ));
        }
        Ok(self.exact_neuron(Meaning::Coord(k), self.coord_mag[k]))
    }

    /// `q{j}@{c}.{s}`: (a new score) - 1 x (the running maximum of the
    /// accumulator `acc`, whose form is `acc_form`).
    fn comparison(
        &mut self,
        form: &Form,
        acc_form: &Form,
        acc_node: NodeId,
        at: [usize; 2],
    ) -> RoleResult<Neuron> {
        let (weight, bias, m_key, e_m) = if form.terms.is_empty() {
            // M is the accumulator's own score: X = row + M.
            if !acc_form.terms.is_empty() {
                return Err("the row does not subtract the accumulator's running maximum".into());
            }
            let weight: Option<Vec<f64>> = form
                .affine
                .iter()
                .zip(&acc_form.affine)
                .map(|(&a, &b)| exact_add(a, b))
                .collect();
            let (Some(weight), Some(bias)) = (weight, exact_add(form.bias, acc_form.bias)) else {
                return Err("the score's coefficients do not add up exactly".into());
            };
            (weight, bias, Vec::new(), self.zeros())
        } else {
            let [term] = form.terms.as_slice() else {
                return Err("a comparison must subtract one running maximum".into());
            };
            if !matches!(term.kind, Meaning::Max(node) if node == acc_node) || term.coeff != -1.0 {
                return Err(
                    "a comparison must be (score) - 1 x (the accumulator's running maximum)".into(),
                );
            }
            (
                form.affine.clone(),
                form.bias,
                key_of(&[term]),
                term.err.clone(),
            )
        };
        if !form.exact {
            return Err("the score's coefficients do not add up exactly".into());
        }
        let x = self.leaf(weight, bias, at);
        Ok(self.gap(x, acc_node, m_key, e_m, form.rnd.clone(), form))
    }

    /// `x{c}.{s}`: 1 x (a maximum) - 1 x (the accumulator's maximum), bias 0.
    fn merge(&mut self, form: &Form, acc_node: NodeId) -> RoleResult<Neuron> {
        let plus: Vec<&Term> = form.terms.iter().filter(|t| t.coeff == 1.0).collect();
        let minus: Vec<&Term> = form.terms.iter().filter(|t| t.coeff == -1.0).collect();
        let shape_ok = form.terms.len() == 2
            && plus.len() == 1
            && minus.len() == 1
            && form.affine_is_zero()
            && form.bias == 0.0
            && matches!(minus[0].kind, Meaning::Max(node) if node == acc_node);
        let x = match plus.first().map(|t| &t.kind) {
            Some(Meaning::Max(x)) if shape_ok => *x,
            _ => {
                return Err(
                    "a merge must be 1 x (a maximum) - 1 x (the accumulator's maximum), bias 0"
                        .into(),
                )
            }
        };
        let e_x = plus[0]
            .err
            .iter()
            .zip(&form.rnd)
            .map(|(e, r)| e + r)
            .collect();
        Ok(self.gap(x, acc_node, key_of(&minus), minus[0].err.clone(), e_x, form))
    }

    fn gap(
        &self,
        x: NodeId,
        m: NodeId,
        m_key: Key,
        e_m: Vec<f64>,
        e_x: Vec<f64>,
        form: &Form,
    ) -> Neuron {
        // relu(X - M) lies in [0, |X - M|]; when M is known to be >= 0 on
        // every ball (a running maximum over a score the accumulator
        // obligation makes non-negative), it also lies in [0, max(X, 0)],
        // and X is at most its upper bound. Every hidden layer has a ReLU
        // (check_shapes), so this is the neuron's value, and semantics
        // whose obligation fails claim nothing.
        let mag = if self.node_nonneg[m] {
            self.node_upper[x].max(0.0).min(self.node_mag[x])
        } else {
            self.node_mag[x] + self.node_mag[m]
        };
        Neuron {
            mag,
            err: e_m.iter().zip(&e_x).map(|(a, b)| a + b).collect(),
            meaning: Meaning::Gap {
                x,
                m,
                m_key,
                e_m,
                e_x,
            },
            pre_err: self.zeros(),
            pre_key: Vec::new(),
            rnd: form.rnd.clone(),
            chain: None,
        }
    }

    /// `o{i}`: alpha x (one maximum) + beta, alpha > 0.
    fn output(&self, form: &Form) -> RoleResult<OutputForm> {
        match form.terms.as_slice() {
            [term] if form.affine_is_zero() && term.coeff > 0.0 => match term.kind {
                Meaning::Max(node) => {
                    let err = term.err.iter().zip(&form.rnd).map(|(e, r)| e + r).collect();
                    Ok((node, term.coeff, form.bias, err))
                }
                Meaning::Gap { .. } | Meaning::Coord(_) | Meaning::Opaque => {
                    Err("an output must be alpha x (one maximum) + beta".into())
                }
            },
            _ => Err("an output must be alpha x (one maximum) + beta with alpha > 0".into()),
        }
    }

    /// Labels every score by the output whose maximum contains it.
    fn label_leaves(&mut self, roots: &[(NodeId, usize)]) -> Result<(), GadgetError> {
        for &(root, label) in roots {
            let mut stack = vec![root];
            let mut visited = std::collections::HashSet::new();
            while let Some(node) = stack.pop() {
                if !visited.insert(node) {
                    continue;
                }
                match self.nodes[node] {
                    Node::Join(a, b) => stack.extend([a, b]),
                    Node::Leaf(leaf) => match self.leaves[leaf].label {
                        Some(other) if other != label => {
                            let [layer, neuron] = self.leaves[leaf].introduced_by;
                            return Err(GadgetError {
                                layer,
                                neuron,
                                role: String::new(),
                                message: format!("this score reaches labels {other} and {label}"),
                            });
                        }
                        _ => self.leaves[leaf].label = Some(label),
                    },
                }
            }
        }
        Ok(())
    }
}

fn fail(
    layer: usize,
    neuron: usize,
    role: impl ToString,
    message: impl Into<String>,
) -> GadgetError {
    GadgetError {
        layer,
        neuron,
        role: role.to_string(),
        message: message.into(),
    }
}

/// Checks that the roles match the layers' shapes and activations.
fn check_shapes(model: &Model, roles: &[Vec<Role>]) -> Result<(), GadgetError> {
    if roles.len() != model.layers.len() || model.layers.len() < 2 {
        return Err(fail(
            0,
            0,
            "",
            format!(
                "the certificate names roles for {} layers, the model has {}",
                roles.len(),
                model.layers.len()
            ),
        ));
    }
    let last = model.layers.len() - 1;
    for (l, (layer, names)) in model.layers.iter().zip(roles).enumerate() {
        if layer.weight.nrows() != names.len() {
            return Err(fail(
                l,
                0,
                "",
                format!(
                    "the certificate names {} roles, the layer has {} neurons",
                    names.len(),
                    layer.weight.nrows()
                ),
            ));
        }
        if layer.relu != (l < last) {
            let what = if l < last {
                "every layer but the last must be followed by ReLU"
            } else {
                "the output layer must not have a ReLU"
            };
            return Err(fail(l, 0, "", what));
        }
    }
    Ok(())
}

/// A step row as recognised: the group's maximum (its node and term, or
/// `None` for a new score), the best score's term and the affine part.
type StepShape = (Option<(NodeId, MaxTerm)>, MaxTerm, Vec<f64>);

/// The accumulator key of the label gadget's best score.
const BEST: (usize, usize) = (usize::MAX, 0);

/// What the label gadget's recognition carries from one layer to the next.
#[derive(Default)]
struct LabelTrack {
    /// The best score `b` of the layer being read (the maximum its step
    /// subtracts), when the layer keeps one.
    best: Option<NodeId>,
    /// The register and the previous layer's step pair.
    registers: RegisterTrack,
    /// The first best score: the maximum of the group closed without a step.
    first: Option<NodeId>,
    /// Groups closed by a step: their maximum and class.
    closes: Vec<(NodeId, usize)>,
    gadget: LabelGadget,
}

impl Pass<'_> {
    /// An opaque neuron whose value is bounded by its row's magnitude.
    fn opaque(&self, form: &Form) -> Neuron {
        let worst = form.rnd.iter().cloned().fold(0.0, f64::max);
        Neuron {
            meaning: Meaning::Opaque,
            mag: (form.total + worst) * (1.0 + 1e-9),
            err: self.zeros(),
            pre_err: self.zeros(),
            pre_key: Vec::new(),
            rnd: self.zeros(),
            chain: None,
        }
    }

    /// The leaves under a node.
    fn leaves_of(&self, node: NodeId) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![node];
        let mut visited = std::collections::HashSet::new();
        while let Some(n) = stack.pop() {
            if !visited.insert(n) {
                continue;
            }
            match self.nodes[n] {
                Node::Join(a, b) => stack.extend([a, b]),
                Node::Leaf(leaf) => out.push(leaf),
            }
        }
        out.sort_unstable();
        out
    }

    /// `h{c}.0`, `h{c}.1`: identical rows `kappa G - kappa B + bias`, where
    /// B is the previous layer's best score and G the group's maximum (a
    /// maximum of the previous layer, or a new score in the affine part; B
    /// is the maximum the layer's `b` carries on, when it has one);
    /// part 0's bias exceeds part 1's.
    fn step_pair(
        &self,
        layer: &super::model::Layer,
        neurons: [usize; 2],
        forms: &[Form],
        best: Option<NodeId>,
    ) -> RoleResult<StepShape> {
        let [n0, n1] = neurons;
        if layer.weight.row(n0) != layer.weight.row(n1) {
            return Err("the two step neurons of a group must have identical weights".into());
        }
        if layer.bias[n0] <= layer.bias[n1] || layer.bias[n0].is_nan() {
            return Err("the bias of step part 0 must exceed that of part 1".into());
        }
        let form = &forms[n0];
        let mut group = None;
        let mut best_term = None;
        for term in &form.terms {
            let Meaning::Max(node) = term.kind else {
                return Err("a step reads maxima and projected coordinates only".into());
            };
            let max = MaxTerm {
                coeff: term.coeff,
                leaves: self.leaves_of(node),
                err: term.err.clone(),
            };
            if term.coeff < 0.0 && best.is_none_or(|b| b == node) && best_term.is_none() {
                best_term = Some(max);
            } else if term.coeff > 0.0 && group.is_none() {
                group = Some((node, max));
            } else {
                return Err(
                    "a step must be kappa x (the group's maximum) - kappa x (the best score b) + bias"
                        .into(),
                );
            }
        }
        let Some(best_term) = best_term else {
            return Err("a step must subtract the best score b".into());
        };
        match &group {
            Some((_, g)) if g.coeff != -best_term.coeff || !form.affine_is_zero() => Err(
                "a step must weigh the group's maximum and the best score by kappa and -kappa, with no other input"
                    .into(),
            ),
            None if form.affine_is_zero() || !form.exact => {
                Err("a step without a maximum must compute a new score exactly".into())
            }
            _ => Ok((group, best_term, form.affine.clone())),
        }
    }
}

/// The label register as one layer leaves it to the next (section 5B): the
/// register as a combination of the layer's neurons, the layer's step pair
/// and the rows read so far. Shared by score and distance networks.
#[derive(Clone, Debug, Default)]
pub struct RegisterTrack {
    /// The label register as a combination of the previous layer's neurons.
    pub register: Vec<(usize, f64)>,
    /// The previous layer's step pair: its class and neurons (parts 0, 1).
    pub steps: Option<(usize, [usize; 2])>,
    /// Register rows, in layer order.
    pub rows: Vec<RegisterRow>,
}

/// A register row (`l0`, `l1`, `l2` or the output, part 3): `sign x (the
/// register)`, and for the halves of a write `- Y h0 + Y h1` with the
/// previous layer's step pair, Y > 0. Returns Y (0 for a carry or output).
fn register_row(row: ndarray::ArrayView1<f64>, track: &RegisterTrack, part: u8) -> RoleResult<f64> {
    let sign = if part == 2 { -1.0 } else { 1.0 };
    let write = part == 1 || part == 2;
    let mut reach = None;
    let mut seen = 0;
    for (i, &w) in row.iter().enumerate() {
        if w == 0.0 {
            continue;
        }
        if let Some(&(_, c)) = track.register.iter().find(|(n, _)| *n == i) {
            if w != sign * c {
                return Err(format!(
                    "reads the label register with weight {w} where the gadget needs {}",
                    sign * c
                ));
            }
            seen += 1;
            continue;
        }
        let step = track
            .steps
            .filter(|_| write)
            .and_then(|(_, [h0, h1])| [(h0, -1.0), (h1, 1.0)].into_iter().find(|s| s.0 == i));
        let Some((_, direction)) = step else {
            return Err(format!(
                "reads neuron {i} of the previous layer, which is neither the label register nor (for a write) its step"
            ));
        };
        let y = w * direction;
        if y <= 0.0 || y.is_nan() || reach.is_some_and(|r| r != y) {
            return Err("a write must weigh the steps by -Y and +Y with one Y > 0".into());
        }
        reach = Some(y);
    }
    if seen != track.register.len() {
        return Err("does not read the whole label register".into());
    }
    match (write, reach) {
        (true, Some(y)) if track.steps.is_some() => Ok(y),
        (true, _) => Err("a write must read both step neurons of the previous layer".into()),
        (false, _) => Ok(0.0),
    }
}

/// The register rows of layer `l` (`registers`: neuron and part), checked
/// against `track` (the previous layer's register and step pair) and
/// recorded; `track.register` becomes the register over layer `l`, and
/// `steps` (this layer's step pair, if any) is what the next layer's
/// write must read. Errors name the neuron.
pub fn register_layer(
    track: &mut RegisterTrack,
    l: usize,
    layer: &super::model::Layer,
    registers: &[(usize, u8)],
    steps: Option<(usize, [usize; 2])>,
) -> Result<(), (usize, String)> {
    let mut write: [Option<(usize, f64, f64)>; 2] = [None, None];
    let mut carry = None;
    for &(n, part) in registers {
        let reach = register_row(layer.weight.row(n), track, part).map_err(|e| (n, e))?;
        let row = RegisterRow {
            at: [l, n],
            part,
            register: track.register.clone(),
            reach,
            bias: layer.bias[n],
        };
        match part {
            1 | 2 if write[usize::from(part - 1)].is_none() => {
                write[usize::from(part - 1)] = Some((n, reach, layer.bias[n]))
            }
            0 | 3 if carry.is_none() => carry = Some(n),
            _ => return Err((n, "a second register neuron of this part".into())),
        }
        track.rows.push(row);
    }
    let register = match (write, carry) {
        ([Some((n1, y1, b1)), Some((n2, y2, b2))], None) => {
            if y1 != y2 || b2 != -b1 {
                return Err((
                    n2,
                    "the halves of a write must share Y and have opposite biases".into(),
                ));
            }
            vec![(n1, 1.0), (n2, -1.0)]
        }
        ([None, None], Some(n)) => vec![(n, 1.0)],
        ([None, None], None) if track.register.is_empty() && track.steps.is_none() => Vec::new(),
        ([None, None], None) => {
            return Err((
                0,
                "the label register (or the write of the previous layer's step) is not carried into this layer".into(),
            ))
        }
        _ => {
            return Err((
                0,
                "a layer must write the register (l1 and l2) or carry it (l0), not both or half".into(),
            ))
        }
    };
    if track.steps.is_some() && write[0].is_none() {
        return Err((
            0,
            "the step pair of the previous layer is not followed by a write".into(),
        ));
    }
    track.register = register;
    track.steps = steps;
    Ok(())
}

/// Recognises the gadgets of a logits network (section 5A) or a label
/// network (section 5B; [`Structure::label`]).
///
/// `coord_mag[k]` bounds `|u_k|` (computed first-layer output) over every
/// ball; `frame`, when given, tightens the bounds on the scores; `units`
/// lists the unit roundoffs for which to bound errors.
pub fn recognise(
    model: &Model,
    roles: &[Vec<Role>],
    coord_mag: &[f64],
    frame: Option<Frame<'_>>,
    units: &[f64],
) -> Result<Structure, GadgetError> {
    check_shapes(model, roles)?;
    let m = model.layers[0].weight.nrows();
    if coord_mag.len() != m {
        return Err(fail(
            0,
            0,
            "",
            "coordinate bounds do not match the first layer",
        ));
    }
    let mut pass = Pass {
        units,
        coord_mag,
        frame,
        nodes: Vec::new(),
        node_mag: Vec::new(),
        node_upper: Vec::new(),
        node_nonneg: Vec::new(),
        joins: HashMap::new(),
        leaves: Vec::new(),
        leaf_of_neuron: HashMap::new(),
        nonneg_leaves: Vec::new(),
    };
    let label_mode = roles.iter().flatten().any(|r| {
        matches!(
            r,
            Role::Best | Role::Increase | Role::Step(..) | Role::Register(_)
        )
    });
    let mut track = LabelTrack::default();
    // Layer 0: the projection, neuron k is u_k.
    let mut prev: Vec<Neuron> = Vec::with_capacity(m);
    for (k, role) in roles[0].iter().enumerate() {
        if *role != Role::Coord(k) {
            return Err(fail(
                0,
                k,
                role,
                format!("neuron {k} of the first layer must be `u{k}`"),
            ));
        }
        prev.push(pass.exact_neuron(Meaning::Coord(k), coord_mag[k]));
    }
    let last = model.layers.len() - 1;
    let mut outputs: Vec<Option<OutputForm>> = vec![None; roles[last].len()];
    for (l, layer) in model.layers.iter().enumerate().skip(1) {
        let names = &roles[l];
        let forms: Vec<Form> = (0..names.len())
            .map(|n| pass.form(layer.weight.row(n), layer.bias[n], &prev, m))
            .collect();
        let mut next: Vec<Option<Neuron>> = vec![None; names.len()];
        // Accumulators (and the best score) first: comparisons, merges and
        // increases refer to them.
        let mut accumulators: HashMap<(usize, usize), (usize, NodeId)> = HashMap::new();
        for (n, role) in names.iter().enumerate() {
            let key = match role {
                Role::Accumulator(c, s) => (*c, *s),
                Role::Best => BEST,
                _ => continue,
            };
            let neuron = pass
                .accumulator(&forms[n], [l, n])
                .map_err(|e| fail(l, n, role, e))?;
            let Meaning::Max(node) = neuron.meaning else {
                unreachable!("accumulators are maxima")
            };
            if accumulators.insert(key, (n, node)).is_some() {
                return Err(fail(
                    l,
                    n,
                    role,
                    "a second accumulator of this class and slot (or a second best score)",
                ));
            }
            if key == BEST && track.first.is_none() {
                track.first = Some(node);
            }
            next[n] = Some(neuron);
        }
        let accumulator = |c: &usize, s: &usize| {
            accumulators
                .get(&(*c, *s))
                .copied()
                .ok_or_else(|| match (*c, *s) {
                    BEST => "no best score b in this layer".to_string(),
                    _ => format!("no accumulator a{c}.{s} in this layer"),
                })
        };
        let mut steps: Vec<(usize, usize, u8)> = Vec::new();
        let mut registers: Vec<(usize, u8)> = Vec::new();
        let mut increase = None;
        for (n, role) in names.iter().enumerate() {
            let form = &forms[n];
            let neuron = match role {
                Role::Accumulator(..) | Role::Best => continue,
                Role::Output(i) if l == last && label_mode => {
                    if *i != 0 || names.len() != 1 {
                        return Err(fail(l, n, role, "a label network has one output, o0"));
                    }
                    registers.push((n, 3));
                    continue;
                }
                Role::Output(i) if l == last => {
                    let output = pass.output(form).map_err(|e| fail(l, n, role, e))?;
                    match outputs.get_mut(*i) {
                        Some(slot @ None) => *slot = Some(output),
                        _ => {
                            return Err(fail(
                                l,
                                n,
                                role,
                                format!("output {i} is named twice or out of range"),
                            ))
                        }
                    }
                    continue;
                }
                _ if l == last => Err("the last layer holds outputs only".to_string()),
                Role::Output(_) => Err("outputs belong to the last layer".to_string()),
                Role::Coord(k) => pass.carried(layer.weight.row(n), layer.bias[n], &prev, *k),
                Role::Comparison(_, c, s) => accumulator(c, s)
                    .and_then(|(acc, node)| pass.comparison(form, &forms[acc], node, [l, n])),
                Role::Merge(c, s) => accumulator(c, s).and_then(|(_, node)| pass.merge(form, node)),
                Role::Increase => accumulator(&BEST.0, &BEST.1).and_then(|(acc, node)| {
                    if increase.is_some() {
                        return Err("a second increase in one layer".to_string());
                    }
                    let neuron = if form.terms.len() == 2 {
                        pass.merge(form, node)
                    } else {
                        pass.comparison(form, &forms[acc], node, [l, n])
                    }?;
                    if let Meaning::Gap { x, .. } = neuron.meaning {
                        increase = Some(x);
                    }
                    Ok(neuron)
                }),
                Role::Step(c, part) => {
                    steps.push((n, *c, *part));
                    Ok(pass.opaque(form))
                }
                Role::Register(part) => {
                    registers.push((n, *part));
                    Ok(pass.opaque(form))
                }
            }
            .map_err(|e| fail(l, n, role, e))?;
            next[n] = Some(neuron);
        }
        if label_mode {
            // The step subtracts the best score this layer's `b` carries on.
            track.best = accumulators.get(&BEST).map(|&(_, node)| node);
            label_layer(
                &pass, &mut track, l, layer, names, &forms, &steps, &registers, increase,
            )?;
        }
        if l < last {
            prev = next
                .into_iter()
                .map(|neuron| neuron.expect("every hidden neuron was interpreted"))
                .collect();
        }
    }
    if label_mode {
        let first = track
            .first
            .ok_or_else(|| fail(0, 0, "", "the label network has no best score b"))?;
        pass.label_leaves(&track.closes)?;
        track.gadget.first_group = pass.leaves_of(first);
        track.gadget.rows = std::mem::take(&mut track.registers.rows);
        if track.gadget.rows.last().map(|r| r.part) != Some(3) {
            return Err(fail(
                last,
                0,
                "",
                "the output o0 must read the label register",
            ));
        }
        let bias = track.gadget.rows.last().map_or(0.0, |r| r.bias);
        return Ok(Structure {
            m,
            leaves: pass.leaves,
            leaf_of_neuron: pass.leaf_of_neuron,
            nonneg_leaves: pass.nonneg_leaves,
            output_scale: 1.0,
            output_bias: vec![bias],
            output_error: vec![vec![0.0; units.len()]],
            label: Some(track.gadget),
        });
    }
    let outputs: Vec<OutputForm> = outputs
        .into_iter()
        .enumerate()
        .map(|(i, o)| o.ok_or_else(|| fail(last, i, "", format!("output {i} is missing"))))
        .collect::<Result<_, _>>()?;
    let scale = outputs[0].1;
    if outputs.iter().any(|o| o.1 != scale) {
        return Err(fail(
            last,
            0,
            "",
            "the outputs do not share one scale alpha",
        ));
    }
    let roots: Vec<(NodeId, usize)> = outputs.iter().enumerate().map(|(c, o)| (o.0, c)).collect();
    pass.label_leaves(&roots)?;
    Ok(Structure {
        m,
        leaves: pass.leaves,
        leaf_of_neuron: pass.leaf_of_neuron,
        nonneg_leaves: pass.nonneg_leaves,
        output_scale: scale,
        output_bias: outputs.iter().map(|o| o.2).collect(),
        output_error: outputs.iter().map(|o| o.3.clone()).collect(),
        label: None,
    })
}

/// The label gadget's neurons of layer `l`: its step pair (if any) and its
/// register rows, checked against what the previous layer left in `track`.
#[allow(clippy::too_many_arguments)]
fn label_layer(
    pass: &Pass<'_>,
    track: &mut LabelTrack,
    l: usize,
    layer: &super::model::Layer,
    names: &[Role],
    forms: &[Form],
    steps: &[(usize, usize, u8)],
    registers: &[(usize, u8)],
    increase: Option<NodeId>,
) -> Result<(), GadgetError> {
    // The step pair closing a group.
    let pair = match steps {
        [] => None,
        [(n0, c0, 0), (n1, c1, 1)] | [(n1, c1, 1), (n0, c0, 0)] if c0 == c1 => {
            let (group, best, affine) = pass
                .step_pair(layer, [*n0, *n1], forms, track.best)
                .map_err(|e| fail(l, *n0, &names[*n0], e))?;
            // The group's scores: the increase's maximum, or the step's
            // (the last group's increase is unused, and may be gone).
            match (increase, &group) {
                (Some(x), _) | (None, &Some((x, _))) => track.closes.push((x, *c0)),
                (None, None) => {}
            }
            let group = group.map(|(_, g)| g);
            track.gadget.steps.push(StepPair {
                layer: l,
                class: *c0,
                neurons: [*n0, *n1],
                group,
                best,
                affine,
                bias: [layer.bias[*n0], layer.bias[*n1]],
                rnd: [forms[*n0].rnd.clone(), forms[*n1].rnd.clone()],
            });
            Some((*c0, [*n0, *n1]))
        }
        _ => {
            let n = steps[0].0;
            return Err(fail(
                l,
                n,
                &names[n],
                "a layer closes at most one group, with steps h{c}.0 and h{c}.1",
            ));
        }
    };
    // Register rows read the previous layer's register and step pair.
    register_layer(&mut track.registers, l, layer, registers, pair).map_err(|(n, e)| {
        fail(
            l,
            n,
            names
                .get(n)
                .map_or(String::new(), ToString::to_string)
                .as_str(),
            e,
        )
    })?;
    if increase.is_some() && track.registers.steps.is_none() {
        return Err(fail(
            l,
            0,
            "",
            "an increase i without the steps of its group",
        ));
    }
    Ok(())
}
