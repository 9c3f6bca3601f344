//! Template recognition for distance networks (specs/certificate.md 10.1):
//! every neuron's row is rebuilt from its role and the roles of the
//! previous layer, and the stored row must equal it exactly. The free
//! constants (the map V, b; the centres from the `p`/`n` biases; alpha and
//! the beta_c) are read from the weights. The result is the list of
//! running-minimum steps the bounds of [`super::bounds`] walk, per point.

use super::roles::DistanceRole;
use super::{DistanceNorm, TemplateError};
use crate::verify::gadgets::{register_layer, RegisterRow, RegisterTrack};
use crate::verify::model::Model;
use ndarray::{Array2, ArrayView1};
use std::collections::{BTreeMap, HashMap};

/// A centre: `c_j` read from its `p` biases, and its class.
#[derive(Clone, Debug, PartialEq)]
pub struct Centre {
    /// The `j` of its roles.
    pub id: usize,
    /// `c_j`, K values.
    pub coords: Vec<f64>,
    /// The class (output) of the slot it ends in.
    pub class: usize,
}

/// One step of a running minimum, in layer order. Slot *instances* are
/// numbered globally (`slot`): a min-tree level makes new instances.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// First appearance: `a = relu(D_j)` for centre index `centre`;
    /// `terms` non-zero weights in the row.
    Start {
        /// Slot instance.
        slot: usize,
        /// Index into [`Template::centres`].
        centre: usize,
        /// Non-zero weights of the `a` row.
        terms: usize,
    },
    /// `a = relu(R)`, `q = relu(R - D_j)`: the slot's value becomes `a - q`.
    Compare {
        /// Slot instance.
        slot: usize,
        /// Index into [`Template::centres`].
        centre: usize,
        /// Non-zero weights of the `q` row.
        terms: usize,
    },
    /// `a = relu(R)` with no comparison.
    Carry {
        /// Slot instance.
        slot: usize,
    },
    /// A min-tree level: `m = relu(R_left)`, `x = relu(R_left - R_right)`.
    Merge {
        /// The new slot instance.
        slot: usize,
        /// The instance read by `m`.
        left: usize,
        /// The instance `x` subtracts, when the merge exists.
        right: Option<usize>,
        /// Non-zero weights of the `x` row.
        terms: usize,
    },
}

/// One step pair of the label gadget (specs/certificate.md section 10.1):
/// `h_p = relu(kappa (B - R) + bias_p)`, B the best minimum of the
/// previous layer and R the running value of the class it closes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChainStep {
    /// The layer of the pair.
    pub layer: usize,
    /// The class it closes.
    pub class: usize,
    /// The slot instance whose value R it reads.
    pub slot: usize,
    /// kappa > 0.
    pub kappa: f64,
    /// Biases of parts 0 and 1 (part 0's is larger).
    pub bias: [f64; 2],
    /// Non-zero terms of a step row, its bias included.
    pub terms: usize,
    /// Non-zero weights of the `i` row, when the layer carries the best on
    /// (`b` and `i`); `None` after the last step.
    pub gap_terms: Option<usize>,
}

/// The label gadget of a distance network: the class closed first (its
/// slot instance read by the first `b`), the step pairs in layer order and
/// the register rows (output last).
#[derive(Clone, Debug)]
pub struct Chain {
    /// The first class and the slot instance the first `b` reads.
    pub first: (usize, usize),
    /// Step pairs, in layer order.
    pub steps: Vec<ChainStep>,
    /// Register rows, in layer order; the output row is last.
    pub rows: Vec<RegisterRow>,
}

/// A recognised distance network.
#[derive(Clone, Debug)]
pub struct Template {
    /// The distance norm q.
    pub distance: DistanceNorm,
    /// K, rows of the map.
    pub k: usize,
    /// V (K x d), in map-coordinate order.
    pub map: Array2<f64>,
    /// b (K), in map-coordinate order.
    pub offset: Vec<f64>,
    /// The centres, in order of first appearance.
    pub centres: Vec<Centre>,
    /// Running-minimum steps, in layer order.
    pub steps: Vec<Step>,
    /// Number of slot instances.
    pub slots: usize,
    /// Class of each slot instance.
    pub slot_class: Vec<usize>,
    /// Number of classes (logits: outputs; label: classes the chain closes).
    pub classes: usize,
    /// Per output c: the slot instance it reads and the number of non-zero
    /// weights of its row (bias included when non-zero); empty for label.
    pub outputs: Vec<(usize, usize)>,
    /// `output = label`: the label gadget on the class minima.
    pub chain: Option<Chain>,
    /// alpha > 0: `out_c = beta_c - alpha R_c`.
    pub alpha: f64,
    /// beta_c.
    pub beta: Vec<f64>,
    /// Number of layers.
    pub depth: usize,
    /// Levels of each centre's max tree (0 for l1).
    pub levels: usize,
}

/// A tree level's nodes: the `g` neuron and the `e` neuron when the merge exists.
type Nodes = Vec<(usize, Option<usize>)>;

/// One half per coordinate: its neuron and bias, once seen.
type Halves = Vec<Option<(usize, f64)>>;

/// A node's `g` and `e` neurons, as they are found in a layer.
type NodeParts = BTreeMap<usize, (Option<usize>, Option<usize>)>;

/// A running value over one layer: its neurons (coefficient +1 or -1).
#[derive(Clone, Debug)]
struct Slot {
    id: usize,
    terms: Vec<(usize, f64)>,
}

/// The values a layer holds, for building the next layer's rows.
#[derive(Default)]
struct Values {
    /// Map coordinate k -> neuron.
    coords: HashMap<usize, usize>,
    /// Centre id -> its 2K halves (leaf order: `p` then `n`).
    halves: HashMap<usize, Vec<usize>>,
    /// Centre id -> (level, nodes (g, e)).
    nodes: HashMap<usize, (usize, Nodes)>,
    /// Centre id -> the neurons whose sum is D_j over this layer.
    distance: BTreeMap<usize, Vec<usize>>,
    /// Neuron -> the centre whose distance it is part of.
    owner: HashMap<usize, usize>,
    /// (class, slot) -> running value.
    slots: BTreeMap<(usize, usize), Slot>,
    /// Label: the best minimum B over this layer (`b`, or `b - i`).
    best: Option<Vec<(usize, f64)>>,
    /// Role names, for messages.
    names: Vec<String>,
}

impl Values {
    /// Neurons of value `(level, index)` of centre j's tree over this layer.
    fn node(&self, j: usize, level: usize, index: usize) -> Option<Vec<usize>> {
        if level == 0 {
            return self
                .halves
                .get(&j)
                .and_then(|h| h.get(index))
                .map(|&n| vec![n]);
        }
        let (at, nodes) = self.nodes.get(&j)?;
        if *at != level {
            return None;
        }
        let &(g, e) = nodes.get(index)?;
        Some(std::iter::once(g).chain(e).collect())
    }

    /// The number of nodes of centre j's tree at `level` over this layer.
    fn level_width(&self, j: usize, level: usize, k: usize) -> Option<usize> {
        if level == 0 {
            return self.halves.contains_key(&j).then_some(2 * k);
        }
        self.nodes
            .get(&j)
            .filter(|(at, _)| *at == level)
            .map(|(_, n)| n.len())
    }
}

fn neuron_error(
    layer: usize,
    neuron: usize,
    role: &DistanceRole,
    message: String,
) -> TemplateError {
    TemplateError::Neuron {
        layer,
        neuron,
        role: role.to_string(),
        message,
    }
}

/// Compares a stored row and bias with the expected ones; `bias: None`
/// leaves the bias free.
fn compare_row(
    stored: ArrayView1<f64>,
    stored_bias: f64,
    expected: &[f64],
    bias: Option<f64>,
    prev: &Values,
) -> Result<(), String> {
    for (index, (&w, &e)) in stored.iter().zip(expected).enumerate() {
        if w != e {
            let name = prev.names.get(index).map_or("?", String::as_str);
            return Err(format!(
                "weight {w} on neuron {index} (`{name}`) of the previous layer, expected {e}"
            ));
        }
    }
    if let Some(b) = bias {
        if stored_bias != b {
            return Err(format!("bias {stored_bias}, expected {b}"));
        }
    }
    Ok(())
}

/// Recognises the template of section 10.1 in `model` with `roles`.
pub fn recognise(
    model: &Model,
    roles: &[Vec<DistanceRole>],
    distance: DistanceNorm,
) -> Result<Template, TemplateError> {
    let layers = &model.layers;
    let net = |m: String| TemplateError::Network(m);
    if roles.len() != layers.len() {
        return Err(net(format!(
            "the certificate lists roles for {} layers, the model has {}",
            roles.len(),
            layers.len()
        )));
    }
    if layers.len() < 3 {
        return Err(net(format!(
            "a distance network has at least 3 layers (map, halves, output); the model has {}",
            layers.len()
        )));
    }
    for (l, (layer, r)) in layers.iter().zip(roles).enumerate() {
        if r.len() != layer.weight.nrows() {
            return Err(net(format!(
                "layer {l} has {} neurons, the certificate names {} roles",
                layer.weight.nrows(),
                r.len()
            )));
        }
        let last = l + 1 == layers.len();
        if layer.relu == last {
            return Err(net(format!(
                "layer {l} {} a ReLU; every hidden layer has one and the output layer none",
                if layer.relu { "has" } else { "lacks" }
            )));
        }
    }
    // Layer 0: the map.
    let first = &layers[0];
    let k = first.weight.nrows();
    let mut order = vec![usize::MAX; k];
    let mut values = Values::default();
    for (neuron, role) in roles[0].iter().enumerate() {
        match *role {
            DistanceRole::Coord(c) if c < k && order[c] == usize::MAX => {
                order[c] = neuron;
                values.coords.insert(c, neuron);
            }
            _ => {
                return Err(neuron_error(
                    0,
                    neuron,
                    role,
                    format!("layer 0 must hold u0 .. u{} once each", k - 1),
                ))
            }
        }
    }
    values.names = roles[0].iter().map(ToString::to_string).collect();
    let map = Array2::from_shape_fn((k, model.input_dim), |(c, l)| first.weight[[order[c], l]]);
    let offset: Vec<f64> = order.iter().map(|&n| first.bias[n]).collect();
    let levels = match distance {
        DistanceNorm::L1 => 0,
        DistanceNorm::Linf => {
            let (mut width, mut t) = (2 * k, 0);
            while width > 1 {
                width = width.div_ceil(2);
                t += 1;
            }
            t
        }
    };

    let mut centre_index: HashMap<usize, usize> = HashMap::new();
    let mut centres: Vec<Centre> = Vec::new();
    let mut consumed: Vec<bool> = Vec::new();
    let mut steps = Vec::new();
    let mut slot_class: Vec<usize> = Vec::new();
    let mut slot_centres: Vec<Vec<usize>> = Vec::new();
    let mut alpha: Option<f64> = None;
    let mut beta: Vec<Option<f64>> = Vec::new();
    let mut outputs: Vec<Option<(usize, usize)>> = Vec::new();
    let mut expected: Vec<f64> = Vec::new();
    let label_mode = roles.iter().flatten().any(|r| *r == DistanceRole::Best);
    let mut registers = RegisterTrack::default();
    let mut first_close: Option<(usize, usize)> = None;
    let mut chain_steps: Vec<ChainStep> = Vec::new();

    for l in 1..layers.len() {
        let layer = &layers[l];
        let last = l + 1 == layers.len();
        let prev = values;
        let mut cur = Values {
            names: roles[l].iter().map(ToString::to_string).collect(),
            ..Values::default()
        };
        // Per centre: its p and n neurons (and biases) in this layer.
        let mut halves: BTreeMap<usize, (Halves, Halves)> = BTreeMap::new();
        let mut tree: BTreeMap<(usize, usize), NodeParts> = BTreeMap::new();
        let mut accs: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        let mut cmps: BTreeMap<(usize, usize), (usize, usize, usize)> = BTreeMap::new();
        let mut mins: BTreeMap<(usize, usize), (Option<usize>, Option<usize>)> = BTreeMap::new();
        let mut firsts: BTreeMap<(usize, usize), (usize, usize)> = BTreeMap::new();
        let mut eaten: BTreeMap<usize, (usize, DistanceRole)> = BTreeMap::new();
        // Label gadget: `b`, `i`, the step pair (neuron, class, part,
        // kappa) and the register rows (neuron, part).
        let mut best_neuron: Option<usize> = None;
        let mut gap_neuron: Option<usize> = None;
        let mut pair: Vec<(usize, usize, u8, f64)> = Vec::new();
        let mut register_rows: Vec<(usize, u8)> = Vec::new();
        // The class whose only slot the first `b` reads.
        let mut opened: Option<(usize, usize)> = None;
        for (neuron, role) in roles[l].iter().enumerate() {
            let fail = |m: String| neuron_error(l, neuron, role, m);
            let row = layer.weight.row(neuron);
            let stored_bias = layer.bias[neuron];
            expected.clear();
            expected.resize(row.len(), 0.0);
            let dup = || fail("the role appears twice in the layer".into());
            let slot_of = |c: usize, s: usize| {
                prev.slots.get(&(c, s)).ok_or_else(|| {
                    fail(format!(
                        "slot a{c}.{s} has no running value in the previous layer"
                    ))
                })
            };
            let mut distance_of = |j: usize,
                                   what: DistanceRole|
             -> Result<Vec<usize>, TemplateError> {
                let d = prev.distance.get(&j).ok_or_else(|| {
                    fail(format!(
                        "the previous layer does not hold the complete distance D_{j}"
                    ))
                })?;
                if let Some((other, r)) = eaten.insert(j, (neuron, what)) {
                    return Err(fail(format!(
                        "D_{j} is already read by neuron {other} (`{r}`): a centre is in one slot only"
                    )));
                }
                Ok(d.clone())
            };
            let mut bias = Some(0.0);
            let mut terms = 0usize;
            if last != matches!(role, DistanceRole::Out(_)) {
                return Err(fail(if last {
                    "the last layer holds only outputs o{c}".into()
                } else {
                    "an output outside the last layer".into()
                }));
            }
            match *role {
                DistanceRole::Out(c) if label_mode => {
                    if c != 0 {
                        return Err(fail("a label network has one output, o0".into()));
                    }
                    register_rows.push((neuron, 3));
                    continue;
                }
                DistanceRole::Register(part) => {
                    if !label_mode {
                        return Err(fail("a register neuron in a network without b".into()));
                    }
                    register_rows.push((neuron, part));
                    continue;
                }
                DistanceRole::Gap => {
                    if gap_neuron.replace(neuron).is_some() {
                        return Err(dup());
                    }
                    // Checked below, once the layer's step pair is known.
                    continue;
                }
                DistanceRole::Best => {
                    if best_neuron.replace(neuron).is_some() {
                        return Err(dup());
                    }
                    let terms = match &prev.best {
                        Some(terms) => terms.clone(),
                        None => {
                            let first = row.iter().position(|&w| w != 0.0);
                            let (&(c, s), slot) = prev
                                .slots
                                .iter()
                                .find(|(_, slot)| slot.terms.iter().any(|t| Some(t.0) == first))
                                .ok_or_else(|| {
                                    fail("the first b must read the running minimum of one class; its first non-zero weight is on none".into())
                                })?;
                            only_slot(&prev, c, s).map_err(&fail)?;
                            opened = Some((c, slot.id));
                            slot.terms.clone()
                        }
                    };
                    for (n, coeff) in terms {
                        expected[n] = coeff;
                    }
                }
                DistanceRole::Step(c, part) => {
                    let best = prev.best.as_ref().ok_or_else(|| {
                        fail("a step needs the best minimum b of the previous layer".into())
                    })?;
                    let slot = prev
                        .slots
                        .iter()
                        .find(|((cc, _), _)| *cc == c)
                        .map(|(&(_, s), _)| s)
                        .ok_or_else(|| {
                            fail(format!(
                                "class {c} has no running minimum in the previous layer"
                            ))
                        })?;
                    let slot = only_slot(&prev, c, slot).map_err(&fail)?;
                    let (b, coeff) = best[0];
                    let kappa = row[b] / coeff;
                    if !(kappa > 0.0 && kappa.is_finite()) {
                        return Err(fail(format!(
                            "weight {} on `{}`: expected kappa > 0 times the best minimum",
                            row[b], prev.names[b]
                        )));
                    }
                    for &(n, co) in best {
                        expected[n] = kappa * co;
                    }
                    for &(n, co) in &slot.terms {
                        expected[n] = -kappa * co;
                    }
                    pair.push((neuron, c, part, kappa));
                    bias = None;
                }
                DistanceRole::Out(c) => {
                    let class: Vec<&Slot> = prev
                        .slots
                        .iter()
                        .filter(|((cc, _), _)| *cc == c)
                        .map(|(_, s)| s)
                        .collect();
                    let [slot] = class[..] else {
                        return Err(fail(format!(
                            "class {c} has {} running minima in the previous layer, expected exactly one",
                            class.len()
                        )));
                    };
                    let (first, _) = slot.terms[0];
                    let a = -row[first];
                    if !(a > 0.0 && a.is_finite()) {
                        return Err(fail(format!(
                            "weight {} on `{}`: expected -alpha with alpha > 0",
                            row[first], prev.names[first]
                        )));
                    }
                    if let Some(other) = alpha.filter(|&x| x != a) {
                        return Err(fail(format!(
                            "alpha {a} differs from the other outputs' {other}"
                        )));
                    }
                    alpha = Some(a);
                    for &(n, coeff) in &slot.terms {
                        expected[n] = -a * coeff;
                    }
                    if c >= outputs.len() {
                        outputs.resize(c + 1, None);
                        beta.resize(c + 1, None);
                    }
                    if outputs[c].is_some() {
                        return Err(dup());
                    }
                    terms = slot.terms.len() + usize::from(stored_bias != 0.0);
                    outputs[c] = Some((slot.id, terms));
                    beta[c] = Some(stored_bias);
                    bias = None;
                }
                DistanceRole::Coord(c) => {
                    let &n = prev
                        .coords
                        .get(&c)
                        .ok_or_else(|| fail(format!("the previous layer has no u{c} to carry")))?;
                    expected[n] = 1.0;
                    if cur.coords.insert(c, neuron).is_some() {
                        return Err(dup());
                    }
                }
                DistanceRole::Pos(j, c) | DistanceRole::Neg(j, c) => {
                    let positive = matches!(role, DistanceRole::Pos(..));
                    if c >= k {
                        return Err(fail(format!("coordinate {c}, the map has {k}")));
                    }
                    let &n = prev
                        .coords
                        .get(&c)
                        .ok_or_else(|| fail(format!("the previous layer has no u{c} to read")))?;
                    expected[n] = if positive { 1.0 } else { -1.0 };
                    let entry = halves
                        .entry(j)
                        .or_insert_with(|| (vec![None; k], vec![None; k]));
                    let side = if positive { &mut entry.0 } else { &mut entry.1 };
                    if side[c].is_some() {
                        return Err(dup());
                    }
                    side[c] = Some((neuron, stored_bias));
                    bias = None;
                }
                DistanceRole::TreeCarry(j, t, i) | DistanceRole::TreeMerge(j, t, i) => {
                    let carry = matches!(role, DistanceRole::TreeCarry(..));
                    if distance != DistanceNorm::Linf {
                        return Err(fail("a max-tree neuron in an l1 network".into()));
                    }
                    if t == 0 {
                        return Err(fail("tree levels start at 1".into()));
                    }
                    let width = prev.level_width(j, t - 1, k).ok_or_else(|| {
                        fail(format!(
                            "the previous layer does not hold level {} of centre {j}'s tree",
                            t - 1
                        ))
                    })?;
                    let left = prev.node(j, t - 1, 2 * i).ok_or_else(|| {
                        fail(format!("node ({}, {}) does not exist", t - 1, 2 * i))
                    })?;
                    if carry {
                        for n in left {
                            expected[n] = 1.0;
                        }
                    } else {
                        if 2 * i + 1 >= width {
                            return Err(fail(format!(
                                "node ({}, {}) does not exist: level {} has {width} nodes",
                                t - 1,
                                2 * i + 1,
                                t - 1
                            )));
                        }
                        let right = prev.node(j, t - 1, 2 * i + 1).expect("width checked");
                        for n in right {
                            expected[n] = 1.0;
                        }
                        for n in left {
                            expected[n] = -1.0;
                        }
                    }
                    let entry = tree.entry((j, t)).or_default().entry(i).or_default();
                    let place = if carry { &mut entry.0 } else { &mut entry.1 };
                    if place.replace(neuron).is_some() {
                        return Err(dup());
                    }
                }
                DistanceRole::Acc(c, s) => {
                    if accs.insert((c, s), neuron).is_some() {
                        return Err(dup());
                    }
                    if let Some(slot) = prev.slots.get(&(c, s)) {
                        for &(n, coeff) in &slot.terms {
                            expected[n] = coeff;
                        }
                    } else {
                        // First appearance: the row must be D_j of the
                        // centre whose neuron carries the first weight.
                        let j = row
                            .iter()
                            .position(|&w| w != 0.0)
                            .and_then(|n| prev.owner.get(&n).copied())
                            .ok_or_else(|| {
                                fail("a new slot must read D_j of one centre j; its first non-zero weight is on no distance neuron".to_string())
                            })?;
                        for n in distance_of(j, *role)? {
                            expected[n] = 1.0;
                        }
                        firsts.insert((c, s), (j, row.iter().filter(|&&w| w != 0.0).count()));
                    }
                }
                DistanceRole::Cmp(j, c, s) => {
                    let slot = slot_of(c, s)?;
                    for &(n, coeff) in &slot.terms {
                        expected[n] = coeff;
                    }
                    for n in distance_of(j, *role)? {
                        expected[n] = -1.0;
                    }
                    if cmps.insert((c, s), (neuron, j, 0)).is_some() {
                        return Err(fail(format!(
                            "a second comparison for slot a{c}.{s} in one layer"
                        )));
                    }
                }
                DistanceRole::MinCarry(c, s) | DistanceRole::MinMerge(c, s) => {
                    let carry = matches!(role, DistanceRole::MinCarry(..));
                    let left = slot_of(c, 2 * s)?;
                    for &(n, coeff) in &left.terms {
                        expected[n] = coeff;
                    }
                    if !carry {
                        let right = slot_of(c, 2 * s + 1)?;
                        for &(n, coeff) in &right.terms {
                            expected[n] -= coeff;
                        }
                    }
                    let entry = mins.entry((c, s)).or_default();
                    let place = if carry { &mut entry.0 } else { &mut entry.1 };
                    if place.replace(neuron).is_some() {
                        return Err(dup());
                    }
                }
            }
            compare_row(row, stored_bias, &expected, bias, &prev).map_err(fail)?;
            terms = terms.max(row.iter().filter(|&&w| w != 0.0).count());
            if let DistanceRole::Cmp(_, c, s) = *role {
                if let Some(entry) = cmps.get_mut(&(c, s)) {
                    entry.2 = terms;
                }
            }
        }
        // The label gadget's layer: its step pair, `i`, `b` and register.
        let closing = label_layer(
            &LabelLayer {
                l,
                layer,
                roles: &roles[l],
                prev: &prev,
                best: best_neuron,
                gap: gap_neuron,
                pair: &pair,
            },
            &mut expected,
        )?;
        let closed_class = match (opened, &closing) {
            (Some(open), None) if first_close.is_none() => {
                first_close = Some(open);
                Some(open.0)
            }
            (None, Some(step)) => Some(step.class),
            (None, None) => None,
            _ => {
                return Err(TemplateError::Network(format!(
                    "layer {l}: the first b and a step pair in one layer"
                )))
            }
        };
        if label_mode {
            let step_pair = closing
                .as_ref()
                .map(|s| (s.class, [pair_neuron(&pair, 0), pair_neuron(&pair, 1)]));
            register_layer(&mut registers, l, layer, &register_rows, step_pair).map_err(
                |(n, e)| TemplateError::Neuron {
                    layer: l,
                    neuron: n,
                    role: roles[l].get(n).map_or(String::new(), ToString::to_string),
                    message: e,
                },
            )?;
        }
        cur.best = best_neuron.map(|b| {
            let mut terms = vec![(b, 1.0)];
            terms.extend(gap_neuron.map(|i| (i, -1.0)));
            terms
        });
        chain_steps.extend(closing);
        let at = |neuron: usize| -> TemplateError {
            TemplateError::Neuron {
                layer: l,
                neuron,
                role: cur.names[neuron].clone(),
                message: String::new(),
            }
        };
        let with = |e: TemplateError, m: String| match e {
            TemplateError::Neuron {
                layer,
                neuron,
                role,
                ..
            } => TemplateError::Neuron {
                layer,
                neuron,
                role,
                message: m,
            },
            other => other,
        };
        // Halves: all 2K of a centre, bit-identical constants.
        for (j, (pos, neg)) in halves {
            if centre_index.contains_key(&j) {
                let n = pos.iter().chain(&neg).flatten().next().expect("one half").0;
                return Err(with(
                    at(n),
                    format!("centre {j}'s halves already appeared in an earlier layer"),
                ));
            }
            let mut coords = Vec::with_capacity(k);
            let mut leaves = Vec::with_capacity(2 * k);
            for c in 0..k {
                let (Some((pn, pb)), Some((nn, nb))) = (pos[c], neg[c]) else {
                    let n = pos.iter().chain(&neg).flatten().next().expect("one half").0;
                    return Err(with(
                        at(n),
                        format!("centre {j} lacks p{j}.{c} or n{j}.{c} in this layer: its halves must cover all {k} coordinates in one layer"),
                    ));
                };
                if nb != -pb {
                    return Err(with(
                        at(nn),
                        format!(
                            "bias {nb}, expected {} (minus the bias of p{j}.{c}, neuron {pn})",
                            -pb
                        ),
                    ));
                }
                coords.push(-pb);
                leaves.push(pn);
            }
            leaves.extend(neg.iter().map(|h| h.expect("checked").0));
            for &n in &leaves {
                cur.owner.insert(n, j);
            }
            if distance == DistanceNorm::L1 {
                cur.distance.insert(j, leaves.clone());
            }
            cur.halves.insert(j, leaves);
            centre_index.insert(j, centres.len());
            centres.push(Centre {
                id: j,
                coords,
                class: usize::MAX,
            });
            consumed.push(false);
        }
        // Tree levels: complete.
        let mut tree_centres: BTreeMap<usize, usize> = BTreeMap::new();
        for ((j, t), nodes) in tree {
            if tree_centres.insert(j, t).is_some() {
                let n = nodes.values().find_map(|(g, e)| g.or(*e)).expect("a node");
                return Err(with(
                    at(n),
                    format!("centre {j} has two tree levels in one layer"),
                ));
            }
            let width = prev.level_width(j, t - 1, k).expect("checked per neuron");
            let count = width.div_ceil(2);
            let mut list = Vec::with_capacity(count);
            for i in 0..count {
                let (g, e) = nodes.get(&i).copied().unwrap_or((None, None));
                let any = nodes.values().find_map(|(g, e)| g.or(*e)).expect("a node");
                let Some(g) = g else {
                    return Err(with(at(any), format!("level {t} of centre {j}'s tree lacks g{j}.{t}.{i}: the tree must be complete")));
                };
                if (2 * i + 1 < width) != e.is_some() {
                    return Err(with(at(g), format!("level {t} of centre {j}'s tree lacks e{j}.{t}.{i}: the tree must be complete")));
                }
                list.push((g, e));
            }
            if let Some((&i, &(g, e))) = nodes.iter().find(|(&i, _)| i >= count) {
                return Err(with(
                    at(g.or(e).expect("a node")),
                    format!("node {i} of level {t}: the level has {count} nodes"),
                ));
            }
            for &(g, e) in &list {
                cur.owner.insert(g, j);
                if let Some(e) = e {
                    cur.owner.insert(e, j);
                }
            }
            if count == 1 {
                let (g, e) = list[0];
                cur.distance
                    .insert(j, std::iter::once(g).chain(e).collect());
            }
            cur.nodes.insert(j, (t, list));
        }
        // Everything of the previous layer's trees and distances goes on.
        let first_neuron = |prev_neurons: &[usize]| prev_neurons.first().copied().unwrap_or(0);
        for (&j, (t, nodes)) in &prev.nodes {
            if nodes.len() > 1 && tree_centres.get(&j) != Some(&(t + 1)) {
                return Err(TemplateError::Neuron {
                    layer: l - 1,
                    neuron: nodes[0].0,
                    role: prev.names[nodes[0].0].clone(),
                    message: format!("level {t} of centre {j}'s tree is not continued in the next layer: the tree must be complete"),
                });
            }
        }
        if distance == DistanceNorm::Linf {
            for (&j, leaves) in &prev.halves {
                if tree_centres.get(&j) != Some(&1) {
                    return Err(TemplateError::Neuron {
                        layer: l - 1,
                        neuron: leaves[0],
                        role: prev.names[leaves[0]].clone(),
                        message: format!("centre {j}'s halves are not merged by level 1 of its tree in the next layer"),
                    });
                }
            }
        }
        for (&j, neurons) in &prev.distance {
            if !eaten.contains_key(&j) {
                let n = first_neuron(neurons);
                return Err(TemplateError::Neuron {
                    layer: l - 1,
                    neuron: n,
                    role: prev.names[n].clone(),
                    message: format!("D_{j} is complete here but no a or q of the next layer reads it: every centre must be in a slot"),
                });
            }
        }
        // Running minima, per class.
        let mut classes: BTreeMap<usize, (bool, bool)> = BTreeMap::new(); // (a/q, min tree)
        for &(c, _) in accs.keys().chain(cmps.keys()) {
            classes.entry(c).or_default().0 = true;
        }
        for &(c, _) in mins.keys() {
            classes.entry(c).or_default().1 = true;
        }
        for &(c, _) in prev.slots.keys() {
            classes.entry(c).or_default();
        }
        for (&(c, s), &(neuron, _, _)) in &cmps {
            if !accs.contains_key(&(c, s)) {
                return Err(with(
                    at(neuron),
                    format!(
                        "no a{c}.{s} in this layer: a comparison comes with its slot's accumulator"
                    ),
                ));
            }
        }
        if last {
            let read: std::collections::HashSet<usize> =
                outputs.iter().flatten().map(|o| o.0).collect();
            if let Some(((c, s), slot)) =
                prev.slots.iter().find(|(_, slot)| !read.contains(&slot.id))
            {
                let n = slot.terms[0].0;
                return Err(TemplateError::Neuron {
                    layer: l - 1,
                    neuron: n,
                    role: prev.names[n].clone(),
                    message: format!(
                        "slot ({c}, {s}) reaches the output layer but no output reads it"
                    ),
                });
            }
        }
        for (c, (aq, tree_level)) in classes {
            if last {
                continue;
            }
            if Some(c) == closed_class {
                if aq || tree_level {
                    return Err(TemplateError::Network(format!(
                        "layer {l}: class {c} is closed by the label gadget and carried on in one layer"
                    )));
                }
                continue;
            }
            let before: Vec<(usize, &Slot)> = prev
                .slots
                .iter()
                .filter(|((cc, _), _)| *cc == c)
                .map(|(&(_, s), slot)| (s, slot))
                .collect();
            if aq && tree_level {
                let n = mins
                    .iter()
                    .filter(|((cc, _), _)| *cc == c)
                    .find_map(|(_, (m, x))| m.or(*x))
                    .expect("a min neuron");
                return Err(with(
                    at(n),
                    format!("class {c} has both accumulators and a min-tree level in one layer"),
                ));
            }
            if tree_level {
                let count = before.len();
                if before.iter().enumerate().any(|(i, (s, _))| i != *s) {
                    let n = mins
                        .values()
                        .find_map(|(m, x)| m.or(*x))
                        .expect("a min neuron");
                    return Err(with(at(n), format!("the slots of class {c} before a min-tree level must be numbered 0 .. {}", count.saturating_sub(1))));
                }
                let after = count.div_ceil(2);
                for s in 0..after {
                    let (m, x) = mins.get(&(c, s)).copied().unwrap_or((None, None));
                    let any = mins
                        .values()
                        .find_map(|(m, x)| m.or(*x))
                        .expect("a min neuron");
                    let Some(m) = m else {
                        return Err(with(
                            at(any),
                            format!("the min-tree level of class {c} lacks m{c}.{s}"),
                        ));
                    };
                    if (2 * s + 1 < count) != x.is_some() {
                        return Err(with(at(m), format!("the min-tree level of class {c} lacks x{c}.{s} (merging slots {} and {})", 2 * s, 2 * s + 1)));
                    }
                    let left = before[2 * s].1;
                    let right = x.map(|_| before[2 * s + 1].1);
                    let id = slot_class.len();
                    slot_class.push(c);
                    let mut set = std::mem::take(&mut slot_centres[left.id]);
                    if let Some(r) = right {
                        set.append(&mut std::mem::take(&mut slot_centres[r.id]));
                    }
                    slot_centres.push(set);
                    let terms = x.map_or(1, |x| {
                        layer.weight.row(x).iter().filter(|&&w| w != 0.0).count()
                    });
                    steps.push(Step::Merge {
                        slot: id,
                        left: left.id,
                        right: right.map(|r| r.id),
                        terms,
                    });
                    let mut value = vec![(m, 1.0)];
                    value.extend(x.map(|x| (x, -1.0)));
                    cur.slots.insert((c, s), Slot { id, terms: value });
                }
                if let Some((&(_, s), (m, x))) =
                    mins.iter().find(|((cc, s), _)| *cc == c && *s >= after)
                {
                    return Err(with(
                        at(m.or(*x).expect("one")),
                        format!("slot {s} of class {c}: the min-tree level makes {after} slots"),
                    ));
                }
                continue;
            }
            // a/q layer: every slot carried, new ones started.
            for (s, slot) in &before {
                if !accs.contains_key(&(c, *s)) {
                    let n = slot.terms[0].0;
                    return Err(TemplateError::Neuron {
                        layer: l - 1,
                        neuron: n,
                        role: prev.names[n].clone(),
                        message: format!("slot ({c}, {s}) is not carried into layer {l} (no a{c}.{s}): a running minimum cannot be dropped"),
                    });
                }
            }
            for (&(cc, s), &a) in accs.range((c, 0)..=(c, usize::MAX)) {
                debug_assert_eq!(cc, c);
                let mut value = vec![(a, 1.0)];
                let id = match prev.slots.get(&(c, s)) {
                    Some(slot) => {
                        match cmps.get(&(c, s)) {
                            Some(&(q, j, terms)) => {
                                let centre = centre_index[&j];
                                consumed[centre] = true;
                                slot_centres[slot.id].push(centre);
                                value.push((q, -1.0));
                                steps.push(Step::Compare {
                                    slot: slot.id,
                                    centre,
                                    terms,
                                });
                            }
                            None => steps.push(Step::Carry { slot: slot.id }),
                        }
                        slot.id
                    }
                    None => {
                        let (j, terms) = firsts[&(c, s)];
                        let centre = centre_index[&j];
                        consumed[centre] = true;
                        let id = slot_class.len();
                        slot_class.push(c);
                        slot_centres.push(vec![centre]);
                        steps.push(Step::Start {
                            slot: id,
                            centre,
                            terms,
                        });
                        id
                    }
                };
                cur.slots.insert((c, s), Slot { id, terms: value });
            }
        }
        values = cur;
    }
    // Outputs.
    let last = layers.len() - 1;
    let (classes, chain) = if label_mode {
        let first =
            first_close.ok_or_else(|| net("the label network has no best minimum b".into()))?;
        if registers.rows.last().map(|r| r.part) != Some(3) {
            return Err(net("the output o0 must read the label register".into()));
        }
        let closes: Vec<(usize, usize)> = std::iter::once(first)
            .chain(chain_steps.iter().map(|s| (s.class, s.slot)))
            .collect();
        let classes = closes.len();
        let mut seen = vec![false; classes];
        for &(c, slot) in &closes {
            if c >= classes || std::mem::replace(&mut seen[c], true) {
                return Err(net(format!(
                    "the label gadget closes class {c} out of {classes} classes: each of 0 .. {} once",
                    classes - 1
                )));
            }
            for &centre in &slot_centres[slot] {
                centres[centre].class = c;
            }
        }
        let chain = Chain {
            first,
            steps: chain_steps,
            rows: registers.rows,
        };
        (classes, Some(chain))
    } else {
        if outputs.len() != layers[last].weight.nrows() {
            return Err(net(format!(
                "the output layer has {} neurons but names outputs up to o{}",
                layers[last].weight.nrows(),
                outputs.len().saturating_sub(1)
            )));
        }
        for (c, o) in outputs.iter().enumerate() {
            let (slot, _) = o.ok_or_else(|| net(format!("no output o{c}")))?;
            for &centre in &slot_centres[slot] {
                centres[centre].class = c;
            }
        }
        (outputs.len(), None)
    };
    let outputs: Vec<(usize, usize)> = outputs.into_iter().flatten().collect();
    let beta: Vec<f64> = beta.into_iter().flatten().collect();
    if let Some(centre) = centres.iter().position(|c| c.class == usize::MAX) {
        return Err(net(format!(
            "centre {} is in no slot that an output reads",
            centres[centre].id
        )));
    }
    debug_assert!(consumed.iter().all(|&c| c));
    Ok(Template {
        distance,
        k,
        map,
        offset,
        centres,
        steps,
        slots: slot_class.len(),
        slot_class,
        classes,
        outputs,
        chain,
        alpha: alpha.unwrap_or(1.0),
        beta,
        depth: layers.len(),
        levels,
    })
}

/// Slot `(c, s)` of the previous layer, which must be class c's only one
/// (the label gadget reads a class's minimum once its min tree is done).
fn only_slot(prev: &Values, c: usize, s: usize) -> Result<&Slot, String> {
    let count = prev.slots.keys().filter(|(cc, _)| *cc == c).count();
    match prev.slots.get(&(c, s)) {
        Some(slot) if count == 1 => Ok(slot),
        _ => Err(format!(
            "class {c} has {count} running minima in the previous layer; the label gadget reads a class's only one"
        )),
    }
}

/// The neuron of part `part` of a layer's step pair.
fn pair_neuron(pair: &[(usize, usize, u8, f64)], part: u8) -> usize {
    pair.iter().find(|p| p.2 == part).map_or(0, |p| p.0)
}

/// What [`label_layer`] reads of one layer.
struct LabelLayer<'a> {
    l: usize,
    layer: &'a crate::verify::model::Layer,
    roles: &'a [DistanceRole],
    prev: &'a Values,
    best: Option<usize>,
    gap: Option<usize>,
    pair: &'a [(usize, usize, u8, f64)],
}

/// The label gadget's neurons of one layer besides the register: its step
/// pair (identical rows `kappa B - kappa R_c`, part 0's bias larger), the
/// `i` row `B - R_c` (bias 0), and where `b` may appear: the first `b`
/// alone, later ones only with a step and its `i`.
fn label_layer(
    x: &LabelLayer<'_>,
    expected: &mut Vec<f64>,
) -> Result<Option<ChainStep>, TemplateError> {
    let err = |n: usize, m: &str| TemplateError::Neuron {
        layer: x.l,
        neuron: n,
        role: x.roles.get(n).map_or(String::new(), ToString::to_string),
        message: m.to_string(),
    };
    let nnz = |n: usize| x.layer.weight.row(n).iter().filter(|&&w| w != 0.0).count();
    let mut step = match *x.pair {
        [] => None,
        [(n0, c0, 0, kappa), (n1, c1, 1, _)] | [(n1, c1, 1, _), (n0, c0, 0, kappa)] => {
            if c0 != c1 {
                return Err(err(
                    n1,
                    "the two step neurons of a pair must close one class",
                ));
            }
            if x.layer.weight.row(n0) != x.layer.weight.row(n1) {
                return Err(err(
                    n1,
                    "the two step neurons of a class must have identical weights",
                ));
            }
            let bias = [x.layer.bias[n0], x.layer.bias[n1]];
            if bias[0] <= bias[1] || !bias[1].is_finite() || !bias[0].is_finite() {
                return Err(err(
                    n0,
                    "the bias of step part 0 must exceed that of part 1",
                ));
            }
            let slot = x
                .prev
                .slots
                .iter()
                .find(|((c, _), _)| *c == c0)
                .map(|(_, slot)| slot.id)
                .ok_or_else(|| err(n0, "the class has no running minimum"))?;
            Some(ChainStep {
                layer: x.l,
                class: c0,
                slot,
                kappa,
                bias,
                terms: nnz(n0) + 1,
                gap_terms: None,
            })
        }
        _ => {
            return Err(err(
                x.pair[0].0,
                "a layer closes at most one class, with steps h{c}.0 and h{c}.1",
            ))
        }
    };
    match (x.gap, step.as_mut(), x.prev.best.as_ref()) {
        (Some(i), Some(st), Some(best)) => {
            let class = x
                .prev
                .slots
                .iter()
                .find(|((c, _), _)| *c == st.class)
                .map(|(_, slot)| slot)
                .ok_or_else(|| err(i, "the class has no running minimum"))?;
            expected.clear();
            expected.resize(x.layer.weight.ncols(), 0.0);
            for &(n, co) in best {
                expected[n] += co;
            }
            for &(n, co) in &class.terms {
                expected[n] -= co;
            }
            compare_row(
                x.layer.weight.row(i),
                x.layer.bias[i],
                expected,
                Some(0.0),
                x.prev,
            )
            .map_err(|m| err(i, &m))?;
            st.gap_terms = Some(nnz(i));
        }
        (Some(i), _, _) => return Err(err(i, "an i without the step pair of its class")),
        _ => {}
    }
    match (x.best, x.gap) {
        (Some(b), _) if x.prev.best.is_some() && step.is_none() => Err(err(
            b,
            "after the first b, b is carried only by a layer that closes a class",
        )),
        (Some(b), None) if step.is_some() => Err(err(
            b,
            "a layer that closes a class and keeps b needs the class's i",
        )),
        (None, Some(i)) => Err(err(i, "an i without b")),
        _ => Ok(step),
    }
}
