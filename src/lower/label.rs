//! Section 5B: a single output equal to the label, width independent of C.
//!
//! Groups (the points of one class each) are maximised one after another with
//! the running-max gadget of section 5A. When group g's maximum `G` is known,
//! it is *closed* in two layers:
//! - step: `h1 = relu(kappa (G - B) - 1/2)`, `h2 = relu(kappa (G - B) - 3/2)`,
//!   `h = h1 - h2` (0 when `G - B <= gamma/4`, 1 when `G - B >= 3 gamma/4`),
//!   and `B <- B + relu(G - B)`, the best score so far;
//! - write: `p1 = relu(L - c - Y' h)`, `p2 = relu(c - L - Y' h)`,
//!   `L <- c + p1 - p2`: L becomes the group's value `c` when `h = 1` (both
//!   ReLUs are 0 because `|L - c| < Y'`) and is unchanged when `h = 0`.
//!
//! On the ball around a point of class t: at t's group `G - B >= gamma`, so
//! `L = c_t`; at every later group `G - B <= -gamma`, so L stays. The first
//! group needs no step: `B = G` and `L = c`. A group of one point needs no
//! running maximum: its `G` is the score itself, computed at its step.
//!
//! One layer advances one running maximum, one step and one write, so the
//! depth is about the number of points plus a few layers, and the width is
//! m + 7 at most.

use super::{Affine, LayerBuilder, Lowering};
use crate::ir::layers::{Activation, Role};
use crate::ir::stages::Group;
use std::collections::VecDeque;

/// A group whose running maximum is in progress.
struct Running {
    group: usize,
    value: Affine,
    next: usize,
}

/// Everything the gadget tracks, as expressions over the current layer.
struct State {
    /// Groups `0..closed` have had their step.
    closed: usize,
    /// Groups of two or more points below `started` have started their running maximum.
    started: usize,
    running: Option<Running>,
    /// Maxima of groups that are complete but not yet closed, in group order.
    finished: VecDeque<(usize, Affine)>,
    best: Option<Affine>,
    label: Affine,
    /// The value and the step `h` of the group whose write comes next.
    pending_write: Option<(f64, Affine)>,
}

/// Where the maximum of the group being closed comes from.
enum Close {
    /// A one-point group: its score, computed now.
    Singleton(usize),
    /// The front of the finished queue.
    Finished(usize),
}

/// Which running maximum advances in a layer.
struct Step {
    group: usize,
    starting: bool,
}

/// Suffix tables so each layer's plan costs O(1) even with one group per point.
struct Lookahead {
    /// `multi_from[g]`: some group at index >= g has two or more points.
    multi_from: Vec<bool>,
    /// `single_from[g]`: some group at index >= g has exactly one point.
    single_from: Vec<bool>,
}

impl Lookahead {
    fn new(groups: &[Group]) -> Lookahead {
        let n = groups.len();
        let mut multi_from = vec![false; n + 1];
        let mut single_from = vec![false; n + 1];
        for g in (0..n).rev() {
            let single = groups[g].points.len() == 1;
            multi_from[g] = multi_from[g + 1] || !single;
            single_from[g] = single_from[g + 1] || single;
        }
        Lookahead {
            multi_from,
            single_from,
        }
    }

    /// The first group at index >= g with two or more points.
    fn next_multi(&self, groups: &[Group], mut g: usize) -> Option<usize> {
        while g < groups.len() && self.multi_from[g] {
            if groups[g].points.len() > 1 {
                return Some(g);
            }
            g += 1;
        }
        None
    }
}

pub(super) fn lower(lowering: &mut Lowering<'_>, groups: &[Group], kappa: f64, reach: f64) {
    let ahead = Lookahead::new(groups);
    let mut state = State {
        closed: 0,
        started: 0,
        running: None,
        finished: VecDeque::new(),
        best: None,
        label: Affine::constant(groups[0].value),
        pending_write: None,
    };
    while state.closed < groups.len() || state.pending_write.is_some() {
        let close = plan_close(groups, &state);
        let step = plan_step(groups, &ahead, &state, close.as_ref());
        let keep_u = needs_u_after(groups, &ahead, &state, close.is_some(), step.as_ref());
        let mut layer = lowering.hidden_layer(keep_u);

        // Close a group: compare its maximum with the best so far.
        let maximum = match close {
            Some(Close::Singleton(g)) => Some((g, lowering.score(groups[g].points[0]))),
            Some(Close::Finished(g)) => state
                .finished
                .pop_front()
                .inspect(|f| debug_assert_eq!(f.0, g)),
            None => None,
        };
        let mut new_pending = None;
        let new_best = match (maximum, &state.best) {
            (Some((g, maximum)), None) => {
                state.label = Affine::constant(groups[g].value);
                state.closed = g + 1;
                Some(layer.carry(&maximum, Role::Best))
            }
            (Some((g, maximum)), Some(best)) => {
                let (best, step) =
                    close_group(&mut layer, best, &maximum, 1.0, kappa, groups[g].class);
                new_pending = Some((groups[g].value, step));
                state.closed = g + 1;
                Some(best)
            }
            (None, Some(best)) => Some(layer.carry(best, Role::Best)),
            (None, None) => None,
        };

        // Write the label of the group stepped in the previous layer.
        state.label = advance_register(&mut layer, &state.label, state.pending_write.take(), reach);
        state.pending_write = new_pending;
        state.best = new_best;

        // Carry maxima still waiting for their step.
        for (g, maximum) in state.finished.iter_mut() {
            *maximum = layer.carry(maximum, accumulator(groups[*g].class));
        }
        // Advance one running maximum.
        if let Some(step) = step {
            advance(lowering, groups, &mut state, &mut layer, step);
        }
        lowering.emit(layer, Activation::Relu);
    }

    emit_label_output(lowering, &state.label);
}

/// Closes a group in `layer` against the best value so far: with
/// `gap = sign (value - best)` (`sign` 1 for maxima of scores, -1 for
/// minima of distances, whose scores are `-M`), the step pair
/// `relu(kappa gap - 1/2)`, `relu(kappa gap - 3/2)`, the increase
/// `relu(gap)` and the carried best. Returns the new best
/// (`best + sign relu(gap)`, the larger score) and the step `h = h_0 - h_1`.
pub(super) fn close_group(
    layer: &mut LayerBuilder,
    best: &Affine,
    value: &Affine,
    sign: f64,
    kappa: f64,
    class: u32,
) -> (Affine, Affine) {
    let gap = value.plus(-1.0, best).scaled(sign, 0.0);
    let h1 = layer.push(gap.scaled(kappa, -0.5), Role::Step { class, part: 0 });
    let h2 = layer.push(gap.scaled(kappa, -1.5), Role::Step { class, part: 1 });
    let increase = layer.push(gap, Role::BestIncrease);
    let carried = layer.carry(best, Role::Best);
    let step = Affine::neuron(h1).plus(-1.0, &Affine::neuron(h2));
    (carried.plus(sign, &Affine::neuron(increase)), step)
}

/// The label register over `layer`: the write of the group stepped in the
/// previous layer (`pending`: its value and step), `L <- c + relu(L - c -
/// Y h) - relu(c - L - Y h)`, or a carry of `label` (a constant, before the
/// first write, costs no neuron).
pub(super) fn advance_register(
    layer: &mut LayerBuilder,
    label: &Affine,
    pending: Option<(f64, Affine)>,
    reach: f64,
) -> Affine {
    match pending {
        Some((value, step)) => {
            let down = label.scaled(1.0, -value).plus(-reach, &step);
            let up = label.scaled(-1.0, value).plus(-reach, &step);
            let p1 = layer.push(down, Role::Label { part: 1 });
            let p2 = layer.push(up, Role::Label { part: 2 });
            Affine::neuron(p1)
                .plus(-1.0, &Affine::neuron(p2))
                .scaled(1.0, value)
        }
        None if label.terms.is_empty() => label.clone(),
        None => layer.carry(label, Role::Label { part: 0 }),
    }
}

/// The output layer of a label network: the register less the label shift.
pub(super) fn emit_label_output(lowering: &mut Lowering<'_>, label: &Affine) {
    let shift = lowering.program.output.label_shift;
    let mut layer = lowering.hidden_layer(false);
    layer.push(label.scaled(1.0, -shift), Role::Output { index: 0 });
    lowering.emit(layer, Activation::Identity);
}

fn plan_close(groups: &[Group], state: &State) -> Option<Close> {
    let g = state.closed;
    if g >= groups.len() {
        None
    } else if groups[g].points.len() == 1 {
        Some(Close::Singleton(g))
    } else if state.finished.front().map(|f| f.0) == Some(g) {
        Some(Close::Finished(g))
    } else {
        None
    }
}

/// The running maximum to advance. A new one starts only when no finished
/// maximum would still be waiting after this layer, so at most one waits at
/// any time and the width stays within `m + LABEL_OVERHEAD`.
fn plan_step(
    groups: &[Group],
    ahead: &Lookahead,
    state: &State,
    close: Option<&Close>,
) -> Option<Step> {
    if let Some(running) = &state.running {
        return Some(Step {
            group: running.group,
            starting: false,
        });
    }
    let waiting_after =
        state.finished.len() - usize::from(matches!(close, Some(Close::Finished(_))));
    if waiting_after > 0 {
        return None;
    }
    ahead.next_multi(groups, state.started).map(|group| Step {
        group,
        starting: true,
    })
}

/// Whether a layer after this one still computes a score (and so needs `u`).
fn needs_u_after(
    groups: &[Group],
    ahead: &Lookahead,
    state: &State,
    closing: bool,
    step: Option<&Step>,
) -> bool {
    let closed_after = state.closed + usize::from(closing);
    let (running_after, started_after) = match step {
        Some(step) => {
            let next_after = match (&state.running, step.starting) {
                (Some(running), false) => running.next + 1,
                _ => 2,
            };
            (next_after < groups[step.group].points.len(), step.group + 1)
        }
        None => (false, state.started),
    };
    running_after || ahead.multi_from[started_after] || ahead.single_from[closed_after]
}

/// One layer of the running maximum of `step.group` (section 5A's gadget).
fn advance(
    lowering: &Lowering<'_>,
    groups: &[Group],
    state: &mut State,
    layer: &mut LayerBuilder,
    step: Step,
) {
    let group = &groups[step.group];
    let class = group.class;
    let (value, next) = if step.starting {
        state.started = step.group + 1;
        let first = lowering.score(group.points[0]);
        let accumulator_value = layer.carry(&first, accumulator(class));
        let j = group.points[1];
        let q = layer.push(lowering.score(j).plus(-1.0, &first), comparison(class, j));
        (accumulator_value.plus(1.0, &Affine::neuron(q)), 2)
    } else {
        let running = state.running.take().expect("a running maximum to advance");
        let carried = layer.carry(&running.value, accumulator(class));
        let j = group.points[running.next];
        let q = layer.push(
            lowering.score(j).plus(-1.0, &running.value),
            comparison(class, j),
        );
        (carried.plus(1.0, &Affine::neuron(q)), running.next + 1)
    };
    if next < group.points.len() {
        state.running = Some(Running {
            group: step.group,
            value,
            next,
        });
    } else {
        state.finished.push_back((step.group, value));
    }
}

fn accumulator(class: u32) -> Role {
    Role::Accumulator { class, slot: 0 }
}

fn comparison(class: u32, point: usize) -> Role {
    Role::Comparison {
        point,
        class,
        slot: 0,
    }
}
