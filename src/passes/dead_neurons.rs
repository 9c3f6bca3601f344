//! Dead and constant hidden neurons.
//!
//! For a hidden neuron `j` of layer `k` (any layer but the last):
//! - *dead*: its column in layer `k + 1`'s weight is all zero, so no one reads
//!   it; delete it (its weight row, bias entry and role, and that column);
//! - *constant*: its incoming weight row is all zero, so it always equals
//!   `act(b_j)` (`relu(b_j)` or `b_j`); fold that value into the next layer,
//!   `b_{k+1} += W_{k+1}[:, j] * act(b_j)`, then delete it like a dead one.
//!
//! Output neurons (the last layer) and input columns of layer 0 are never
//! removed. A constant accumulator is kept: it starts a running maximum
//! (its score is constant when its point is the projection's centre), and
//! certificates name it as the gadget that introduces that point's score. A hidden layer is never emptied: if every neuron of a layer is
//! removable, the first one is kept unchanged (not folded), which keeps every
//! layer at least one neuron wide for the back ends and makes a second call
//! a no-op.

use crate::ir::layers::{Activation, Dense, LayerNetwork, Role};
use ndarray::Axis;

/// The constant value of a neuron with a zero incoming row and bias `bias`.
fn constant_value(activation: Activation, bias: f64) -> f64 {
    match activation {
        Activation::Relu => bias.max(0.0),
        Activation::Identity => bias,
    }
}

/// Removes dead neurons and folds constant ones in every hidden layer, first
/// to last (so that constants propagate forward in one call). Returns the
/// number of neurons deleted. Call it again (or use
/// [`crate::passes::run_default`]) until it returns 0 to remove neurons that
/// became dead through later deletions.
pub fn remove_dead_neurons(net: &mut LayerNetwork) -> usize {
    let mut removed = 0;
    for k in 0..net.layers.len().saturating_sub(1) {
        let (head, tail) = net.layers.split_at_mut(k + 1);
        removed += prune_between(&mut head[k], &mut tail[0]);
    }
    removed
}

/// What becomes of a hidden neuron.
#[derive(Clone, Copy, PartialEq)]
enum Fate {
    /// It stays.
    Keep,
    /// Nobody reads it: delete it.
    Dead,
    /// It always equals this value: fold it into the next bias, delete it.
    Constant(f64),
}

/// Prunes the neurons of `layer` against their reader `next`; returns how
/// many were deleted.
fn prune_between(layer: &mut Dense, next: &mut Dense) -> usize {
    let n = layer.outputs();
    let mut fates: Vec<Fate> = (0..n)
        .map(|j| {
            if next.weight.column(j).iter().all(|&w| w == 0.0) {
                Fate::Dead
            } else if layer.weight.row(j).iter().all(|&w| w == 0.0)
                && !matches!(layer.roles[j], Role::Accumulator { .. })
            {
                Fate::Constant(constant_value(layer.activation, layer.bias[j]))
            } else {
                Fate::Keep
            }
        })
        .collect();
    if fates.iter().all(|&f| f != Fate::Keep) {
        // Never empty a layer: neuron 0 stays as it is (unfolded), so that
        // the next call sees the same layer and reports no change.
        fates[0] = Fate::Keep;
    }
    let keep: Vec<usize> = (0..n).filter(|&j| fates[j] == Fate::Keep).collect();
    if keep.len() == n {
        return 0;
    }
    for (j, fate) in fates.iter().enumerate() {
        if let Fate::Constant(value) = *fate {
            if value != 0.0 {
                next.bias.scaled_add(value, &next.weight.column(j));
            }
        }
    }
    layer.weight = layer.weight.select(Axis(0), &keep);
    layer.bias = layer.bias.select(Axis(0), &keep);
    layer.roles = keep.iter().map(|&j| layer.roles[j].clone()).collect();
    next.weight = next.weight.select(Axis(1), &keep);
    n - keep.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::test_support::*;
    use ndarray::array;

    fn roles(n: usize) -> Vec<Role> {
        (0..n)
            .map(|coordinate| Role::Projected { coordinate })
            .collect()
    }

    #[test]
    fn removes_an_unread_neuron_and_keeps_roles_aligned() {
        let net = LayerNetwork {
            input_dim: 2,
            layers: vec![
                Dense {
                    weight: array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                    bias: array![0.0, 1.0, 2.0],
                    activation: Activation::Relu,
                    roles: roles(3),
                },
                Dense {
                    weight: array![[1.0, 0.0, 2.0], [-1.0, 0.0, 1.0]],
                    bias: array![0.0, 0.5],
                    activation: Activation::Identity,
                    roles: vec![Role::Output { index: 0 }, Role::Output { index: 1 }],
                },
            ],
        };
        let mut pruned = net.clone();
        assert_eq!(remove_dead_neurons(&mut pruned), 1);
        pruned.validate().unwrap();
        assert_eq!(pruned.layers[0].weight, array![[1.0, 0.0], [1.0, 1.0]]);
        assert_eq!(pruned.layers[0].bias, array![0.0, 2.0]);
        assert_eq!(
            pruned.layers[0].roles,
            vec![
                Role::Projected { coordinate: 0 },
                Role::Projected { coordinate: 2 }
            ]
        );
        assert_eq!(pruned.layers[1].weight, array![[1.0, 2.0], [-1.0, 1.0]]);
        assert_same_function(&net, &pruned, 2);
    }

    #[test]
    fn folds_constant_relu_and_identity_neurons() {
        let mut rng = rng(4);
        let mut layers = vec![
            random_dense(&mut rng, 3, 4, Activation::Relu),
            random_dense(&mut rng, 4, 3, Activation::Identity),
            random_dense(&mut rng, 3, 2, Activation::Identity),
        ];
        // Layer 0: neuron 1 is relu(0.7) = 0.7, neuron 3 is relu(-0.4) = 0.
        layers[0].weight.row_mut(1).fill(0.0);
        layers[0].bias[1] = 0.7;
        layers[0].weight.row_mut(3).fill(0.0);
        layers[0].bias[3] = -0.4;
        // Layer 1 (identity): neuron 0 is the constant -1.5.
        layers[1].weight.row_mut(0).fill(0.0);
        layers[1].bias[0] = -1.5;
        let net = LayerNetwork {
            input_dim: 3,
            layers,
        };
        let mut pruned = net.clone();
        assert_eq!(remove_dead_neurons(&mut pruned), 3);
        pruned.validate().unwrap();
        assert_eq!(pruned.layers[0].weight.dim(), (2, 3));
        assert_eq!(pruned.layers[1].weight.dim(), (2, 2));
        assert_eq!(pruned.layers[2].weight.dim(), (2, 2));
        assert_same_function(&net, &pruned, 3);
    }

    #[test]
    fn keeps_a_constant_accumulator() {
        let mut rng = rng(5);
        let mut layers = vec![
            random_dense(&mut rng, 2, 3, Activation::Relu),
            random_dense(&mut rng, 3, 2, Activation::Identity),
        ];
        layers[0].weight.row_mut(1).fill(0.0);
        layers[0].bias[1] = 2.0;
        layers[0].roles[1] = Role::Accumulator { class: 0, slot: 0 };
        let mut net = LayerNetwork {
            input_dim: 2,
            layers,
        };
        assert_eq!(remove_dead_neurons(&mut net), 0);
        assert_eq!(net.layers[0].outputs(), 3);
    }

    #[test]
    fn never_touches_outputs_or_inputs() {
        let mut rng = rng(8);
        let mut layers = vec![
            random_dense(&mut rng, 3, 2, Activation::Relu),
            random_dense(&mut rng, 2, 3, Activation::Identity),
        ];
        // Input column 1 is unused and output 2 is constant: both stay.
        layers[0].weight.column_mut(1).fill(0.0);
        layers[1].weight.row_mut(2).fill(0.0);
        let net = LayerNetwork {
            input_dim: 3,
            layers,
        };
        let mut pruned = net.clone();
        assert_eq!(remove_dead_neurons(&mut pruned), 0);
        assert_eq!(pruned, net);
    }

    #[test]
    fn a_fully_constant_layer_keeps_its_first_neuron() {
        let mut rng = rng(6);
        let mut layers = vec![
            random_dense(&mut rng, 2, 3, Activation::Relu),
            random_dense(&mut rng, 3, 2, Activation::Identity),
        ];
        // Every hidden neuron is constant: the network is constant.
        layers[0].weight.fill(0.0);
        layers[0].bias = array![0.5, -1.0, 2.0];
        let net = LayerNetwork {
            input_dim: 2,
            layers,
        };
        let mut pruned = net.clone();
        assert_eq!(remove_dead_neurons(&mut pruned), 2);
        pruned.validate().unwrap();
        // Neuron 0 (relu(0.5)) stays as it was; neuron 2 (2.0) is folded.
        assert_eq!(pruned.layers[0].outputs(), 1);
        assert_eq!(pruned.layers[0].bias, array![0.5]);
        assert_eq!(
            pruned.layers[1].weight.column(0),
            net.layers[1].weight.column(0)
        );
        assert_same_function(&net, &pruned, 4);
        // Already minimal: a second call changes nothing.
        let copy = pruned.clone();
        assert_eq!(remove_dead_neurons(&mut pruned), 0);
        assert_eq!(pruned, copy);
    }

    #[test]
    fn a_fully_dead_layer_is_stable() {
        let mut rng = rng(12);
        let mut layers = vec![
            random_dense(&mut rng, 2, 3, Activation::Relu),
            random_dense(&mut rng, 3, 3, Activation::Relu),
            random_dense(&mut rng, 3, 1, Activation::Identity),
        ];
        // The output ignores layer 1 entirely.
        layers[2].weight.fill(0.0);
        let net = LayerNetwork {
            input_dim: 2,
            layers,
        };
        let mut pruned = net.clone();
        assert_eq!(remove_dead_neurons(&mut pruned), 2);
        assert_eq!(pruned.layers[1].outputs(), 1);
        assert_same_function(&net, &pruned, 7);
        let copy = pruned.clone();
        assert_eq!(remove_dead_neurons(&mut pruned), 0);
        assert_eq!(pruned, copy);
    }

    #[test]
    fn dead_neurons_cascade_backwards_over_calls() {
        let mut rng = rng(10);
        let mut layers = vec![
            random_dense(&mut rng, 2, 3, Activation::Relu),
            random_dense(&mut rng, 3, 3, Activation::Relu),
            random_dense(&mut rng, 3, 1, Activation::Identity),
        ];
        // Layer 1 neuron 2 is unread; it is the only reader of layer 0 neuron 0.
        layers[2].weight[[0, 2]] = 0.0;
        layers[1].weight.column_mut(0).fill(0.0);
        layers[1].weight[[2, 0]] = 1.0;
        let net = LayerNetwork {
            input_dim: 2,
            layers,
        };
        let mut pruned = net.clone();
        assert_eq!(remove_dead_neurons(&mut pruned), 1);
        assert_eq!(remove_dead_neurons(&mut pruned), 1);
        assert_eq!(remove_dead_neurons(&mut pruned), 0);
        assert_eq!(pruned.layers[0].outputs(), 2);
        assert_eq!(pruned.layers[1].outputs(), 2);
        assert_same_function(&net, &pruned, 5);
    }
}
