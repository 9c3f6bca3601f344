//! Section 5A: running maxima per class, merged by max trees, as logits.
//!
//! A slot's running maximum `A` meets one new point j per layer through the
//! comparison neuron `q = relu(s_j(u) - A)`; the next layer holds
//! `A' = relu(A + q) = max(A, s_j(u))`. This is the exact gadget
//! `max(a, b) = a + relu(b - a)`, valid because `a >= 0` (a slot starts from
//! a score that is >= 1 on every ball, and its maximum never decreases). Slots of one class are then merged pairwise by the same gadget.

use super::{Affine, Lowering};
use crate::ir::layers::{Activation, Role};
use crate::ir::stages::Slot;

/// A slot's running maximum, as an expression over the current layer.
struct Running {
    value: Affine,
    next: usize,
}

pub(super) fn lower(lowering: &mut Lowering<'_>, slots: &[Slot], classes: usize) {
    let mut running: Vec<Running> = Vec::with_capacity(slots.len());
    // First gadget layer: A = s_{p0}(u), and the first comparison.
    let mut layer = lowering.hidden_layer(slots.iter().any(|s| s.points.len() > 2));
    for slot in slots {
        let first = lowering.score(slot.points[0]);
        let accumulator = layer.carry(&first, accumulator(slot));
        let value = match slot.points.get(1) {
            Some(&j) => {
                let q = layer.push(lowering.score(j).plus(-1.0, &first), comparison(slot, j));
                accumulator.plus(1.0, &Affine::neuron(q))
            }
            None => accumulator,
        };
        let next = slot.points.len().min(2);
        running.push(Running { value, next });
    }
    lowering.emit(layer, Activation::Relu);

    while running
        .iter()
        .zip(slots)
        .any(|(r, s)| r.next < s.points.len())
    {
        let keep_u = running
            .iter()
            .zip(slots)
            .any(|(r, s)| r.next + 1 < s.points.len());
        let mut layer = lowering.hidden_layer(keep_u);
        for (r, slot) in running.iter_mut().zip(slots) {
            let carried = layer.carry(&r.value, accumulator(slot));
            r.value = match slot.points.get(r.next) {
                Some(&j) => {
                    let q = layer.push(lowering.score(j).plus(-1.0, &r.value), comparison(slot, j));
                    r.next += 1;
                    carried.plus(1.0, &Affine::neuron(q))
                }
                None => carried,
            };
        }
        lowering.emit(layer, Activation::Relu);
    }

    // Max trees: merge the slots of each class pairwise, one level per layer.
    let mut per_class: Vec<Vec<Affine>> = vec![Vec::new(); classes];
    for (r, slot) in running.into_iter().zip(slots) {
        per_class[slot.class as usize].push(r.value);
    }
    while per_class.iter().any(|values| values.len() > 1) {
        let mut layer = lowering.hidden_layer(false);
        for (class, values) in per_class.iter_mut().enumerate() {
            let class = class as u32;
            let merged = values
                .chunks(2)
                .enumerate()
                .map(|(slot, pair)| {
                    let a = layer.carry(&pair[0], Role::Accumulator { class, slot });
                    match pair.get(1) {
                        Some(b) => {
                            let d =
                                layer.push(b.plus(-1.0, &pair[0]), Role::MaxMerge { class, slot });
                            a.plus(1.0, &Affine::neuron(d))
                        }
                        None => a,
                    }
                })
                .collect();
            *values = merged;
        }
        lowering.emit(layer, Activation::Relu);
    }

    let scale = lowering.program.output.scale;
    let mut layer = lowering.hidden_layer(false);
    for (index, values) in per_class.iter().enumerate() {
        layer.push(values[0].scaled(scale, 0.0), Role::Output { index });
    }
    lowering.emit(layer, Activation::Identity);
}

fn accumulator(slot: &Slot) -> Role {
    Role::Accumulator {
        class: slot.class,
        slot: slot.slot,
    }
}

fn comparison(slot: &Slot, point: usize) -> Role {
    Role::Comparison {
        point,
        class: slot.class,
        slot: slot.slot,
    }
}
