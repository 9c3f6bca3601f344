//! Section 8: exact distances to every centre, running minima per class,
//! slots merged by min trees, and logits `-scale * min`
//! (specs/certificate.md section 10.1 is the layout, neuron by neuron).
//!
//! Each slot is a pipeline that starts one centre per layer:
//! - the layer that starts centre j holds its 2K halves `relu(u_k - c_jk)`
//!   and `relu(c_jk - u_k)` (reading the carried `u`);
//! - l1: `D_j`, the sum of the halves, is ready over that layer;
//!   l_inf: the halves go up a max tree, one level per layer, each node
//!   `g + e` with `g = relu(left)` and `e = relu(right - left)`
//!   (`max(a, b) = a + relu(b - a)` for `a >= 0`), and `D_j` is the root;
//! - the layer after `D_j` is ready updates the slot's running minimum
//!   `R`: `a = relu(R)` and `q = relu(R - D_j)`, so that the next value
//!   is `a - q = min(R, D_j)` (the slot's first centre sets `a = relu(D_j)`).
//!
//! Distances are never negative, so every carry through a ReLU is exact.
//!
//! `output = label` ends with the label gadget of section 5B on the class
//! minima (scores `-M_c`, specs/construction.md 8.3): one layer carries
//! the first class's minimum as the best `B`, then one layer per further
//! class c holds the step pair on `gap = B - M_c`, `relu(gap)` and `B`
//! (`B <- B - relu(B - M_c) = min(B, M_c)`), the register write of the
//! previous step, and the minima still to be closed; a last layer writes
//! the last step, and the output is the register less the label shift.

use super::label::{advance_register, close_group, emit_label_output};
use super::{Affine, LayerBuilder, Lowering};
use crate::ir::layers::{Activation, Role};
use crate::ir::stages::{DistanceNorm, DistanceStage, LabelChain, Slot};
use std::collections::VecDeque;

/// A centre on its way through a slot's pipeline.
enum Stage {
    /// Node values of one max-tree level (level 0: the halves), over the
    /// current layer.
    Tree {
        point: usize,
        level: usize,
        values: Vec<Affine>,
    },
    /// `D_j` over the current layer, to be compared in the next one.
    Ready { point: usize, distance: Affine },
}

/// One slot's pipeline.
struct Pipeline<'a> {
    slot: &'a Slot,
    next: usize,
    in_flight: VecDeque<Stage>,
    running: Option<Affine>,
}

impl Pipeline<'_> {
    fn busy(&self) -> bool {
        self.next < self.slot.points.len() || !self.in_flight.is_empty()
    }
}

pub(super) fn lower(lowering: &mut Lowering<'_>, stage: &DistanceStage) {
    let mut pipelines: Vec<Pipeline<'_>> = stage
        .slots
        .iter()
        .map(|slot| Pipeline {
            slot,
            next: 0,
            in_flight: VecDeque::new(),
            running: None,
        })
        .collect();
    while pipelines.iter().any(Pipeline::busy) {
        // `u` must reach the next layer if a centre starts there.
        let keep_u = pipelines.iter().any(|p| p.next + 1 < p.slot.points.len());
        let mut layer = lowering.hidden_layer(keep_u);
        for pipeline in &mut pipelines {
            step(lowering, stage, pipeline, &mut layer);
        }
        lowering.emit(layer, Activation::Relu);
    }
    let mut per_class: Vec<Vec<Affine>> = vec![Vec::new(); stage.classes];
    for pipeline in pipelines {
        let running = pipeline
            .running
            .expect("every slot has at least one centre");
        per_class[pipeline.slot.class as usize].push(running);
    }
    merge_slots(lowering, &mut per_class);
    if let Some(chain) = &stage.label {
        let minima = per_class
            .into_iter()
            .map(|mut v| v.swap_remove(0))
            .collect();
        return label_chain(lowering, minima, chain);
    }
    let scale = lowering.program.output.scale;
    let mut layer = LayerBuilder::new();
    for (index, values) in per_class.iter().enumerate() {
        layer.push(values[0].scaled(-scale, 0.0), Role::Output { index });
    }
    lowering.emit(layer, Activation::Identity);
}

/// The label gadget on the class minima `minima[c]` (over the current
/// layer), groups closed in `chain`'s order.
fn label_chain(lowering: &mut Lowering<'_>, mut minima: Vec<Affine>, chain: &LabelChain) {
    let Some((first, rest)) = chain.groups.split_first() else {
        return;
    };
    let carry_open = |layer: &mut LayerBuilder, minima: &mut [Affine], open: &[u32]| {
        for &class in open {
            let value = &mut minima[class as usize];
            *value = layer.carry(value, Role::Accumulator { class, slot: 0 });
        }
    };
    let mut open: Vec<u32> = rest.iter().map(|g| g.class).collect();
    let mut layer = lowering.hidden_layer(false);
    let mut best = layer.carry(&minima[first.class as usize], Role::Best);
    carry_open(&mut layer, &mut minima, &open);
    lowering.emit(layer, Activation::Relu);
    let mut label = Affine::constant(first.value);
    let mut pending = None;
    for group in rest {
        open.retain(|&c| c != group.class);
        let mut layer = lowering.hidden_layer(false);
        let minimum = minima[group.class as usize].clone();
        let (next, step) = close_group(&mut layer, &best, &minimum, -1.0, chain.kappa, group.class);
        label = advance_register(&mut layer, &label, pending.take(), chain.reach);
        pending = Some((group.value, step));
        best = next;
        carry_open(&mut layer, &mut minima, &open);
        lowering.emit(layer, Activation::Relu);
    }
    if pending.is_some() {
        let mut layer = lowering.hidden_layer(false);
        label = advance_register(&mut layer, &label, pending, chain.reach);
        lowering.emit(layer, Activation::Relu);
    }
    emit_label_output(lowering, &label);
}

/// One layer of one slot: compare the ready centre, move the tree up a
/// level, start the next centre.
fn step(
    lowering: &Lowering<'_>,
    stage: &DistanceStage,
    pipeline: &mut Pipeline<'_>,
    layer: &mut LayerBuilder,
) {
    let (class, slot) = (pipeline.slot.class, pipeline.slot.slot);
    let accumulator = Role::Accumulator { class, slot };
    let ready = match pipeline.in_flight.front() {
        Some(Stage::Ready { .. }) => match pipeline.in_flight.pop_front() {
            Some(Stage::Ready { point, distance }) => Some((point, distance)),
            _ => None,
        },
        _ => None,
    };
    pipeline.running = match (pipeline.running.take(), ready) {
        (None, Some((_, distance))) => Some(layer.carry(&distance, accumulator)),
        (Some(running), Some((point, distance))) => {
            let a = layer.carry(&running, accumulator);
            let q = layer.push(
                running.plus(-1.0, &distance),
                Role::Comparison { point, class, slot },
            );
            Some(a.plus(-1.0, &Affine::neuron(q)))
        }
        (Some(running), None) => Some(layer.carry(&running, accumulator)),
        (None, None) => None,
    };
    for flight in pipeline.in_flight.iter_mut() {
        if let Stage::Tree {
            point,
            level,
            values,
        } = flight
        {
            let next = tree_level(layer, *point, *level + 1, values);
            *flight = if next.len() == 1 {
                Stage::Ready {
                    point: *point,
                    distance: next.into_iter().next().expect("one node"),
                }
            } else {
                Stage::Tree {
                    point: *point,
                    level: *level + 1,
                    values: next,
                }
            };
        }
    }
    if let Some(&point) = pipeline.slot.points.get(pipeline.next) {
        pipeline.next += 1;
        let halves = halves(lowering, stage, layer, point);
        pipeline.in_flight.push_back(match stage.norm {
            DistanceNorm::L1 => Stage::Ready {
                point,
                distance: halves
                    .iter()
                    .fold(Affine::constant(0.0), |sum, h| sum.plus(1.0, h)),
            },
            DistanceNorm::Linf => Stage::Tree {
                point,
                level: 0,
                values: halves,
            },
        });
    }
}

/// The 2K halves of centre `point`: `relu(u_k - c_k)` for k in 0..K, then
/// `relu(c_k - u_k)`, reading the carried `u` (neurons `0..K` of the
/// previous layer).
fn halves(
    lowering: &Lowering<'_>,
    stage: &DistanceStage,
    layer: &mut LayerBuilder,
    point: usize,
) -> Vec<Affine> {
    let centre = stage.centres.row(point);
    let k_count = lowering.m();
    let mut values = Vec::with_capacity(2 * k_count);
    for positive in [true, false] {
        for (coordinate, &c) in centre.iter().enumerate() {
            let sign = if positive { 1.0 } else { -1.0 };
            let neuron = layer.push(
                Affine {
                    terms: vec![(coordinate, sign)],
                    constant: -sign * c,
                },
                Role::DistanceHalf {
                    point,
                    coordinate,
                    positive,
                },
            );
            values.push(Affine::neuron(neuron));
        }
    }
    values
}

/// One level of centre `point`'s max tree: node i of `level` is the max of
/// nodes 2i and 2i + 1 below.
fn tree_level(
    layer: &mut LayerBuilder,
    point: usize,
    level: usize,
    below: &[Affine],
) -> Vec<Affine> {
    below
        .chunks(2)
        .enumerate()
        .map(|(node, pair)| {
            let g = layer.carry(&pair[0], Role::TreeCarry { point, level, node });
            match pair.get(1) {
                Some(right) => {
                    let e = layer.push(
                        right.plus(-1.0, &pair[0]),
                        Role::TreeMerge { point, level, node },
                    );
                    g.plus(1.0, &Affine::neuron(e))
                }
                None => g,
            }
        })
        .collect()
}

/// Min trees: merge the running minima of each class pairwise, one level
/// per layer, until one per class is left.
fn merge_slots(lowering: &mut Lowering<'_>, per_class: &mut [Vec<Affine>]) {
    while per_class.iter().any(|values| values.len() > 1) {
        let mut layer = LayerBuilder::new();
        for (class, values) in per_class.iter_mut().enumerate() {
            let class = class as u32;
            if values.len() == 1 {
                values[0] = layer.carry(&values[0], Role::Accumulator { class, slot: 0 });
                continue;
            }
            let merged = values
                .chunks(2)
                .enumerate()
                .map(|(slot, pair)| {
                    let m = layer.carry(&pair[0], Role::MinCarry { class, slot });
                    match pair.get(1) {
                        Some(b) => {
                            let x = layer.push(
                                b.scaled(-1.0, 0.0).plus(1.0, &pair[0]),
                                Role::MinMerge { class, slot },
                            );
                            m.plus(-1.0, &Affine::neuron(x))
                        }
                        None => m,
                    }
                })
                .collect();
            *values = merged;
        }
        lowering.emit(layer, Activation::Relu);
    }
}
