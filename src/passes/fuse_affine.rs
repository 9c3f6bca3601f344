//! Affine fusion: an identity layer followed by another layer is one affine
//! map, `W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)`.
//!
//! Criterion: layers `k` (identity, `d -> m`) and `k + 1` (`m -> n`) are
//! merged iff the fused layer has no more parameters than the pair:
//! `n d + n <= (m d + m) + (n m + n)` (see [`fusion_pays`]). A narrow identity
//! layer (a bottleneck, `m` small against `d` and `n`) is kept, since fusing
//! it would multiply the parameter count.

use crate::ir::layers::{Activation, Dense, LayerNetwork};

/// Whether merging an identity layer `first` into `second` does not increase
/// the parameter count (weights plus biases).
pub fn fusion_pays(first: &Dense, second: &Dense) -> bool {
    let fused = second.outputs() * first.inputs() + second.outputs();
    fused <= first.parameters() + second.parameters()
}

/// The single layer computing `second(first(x))`, for an identity `first`;
/// it keeps `second`'s activation and roles.
pub fn fuse_pair(first: &Dense, second: &Dense) -> Dense {
    debug_assert_eq!(first.activation, Activation::Identity);
    Dense {
        weight: second.weight.dot(&first.weight),
        bias: second.weight.dot(&first.bias) + &second.bias,
        activation: second.activation,
        roles: second.roles.clone(),
    }
}

/// Merges every identity layer into its successor where [`fusion_pays`],
/// left to right (a fused layer that is still an identity layer is tried
/// again with the next one). The last layer has no successor and stays.
/// Returns the number of merges.
pub fn fuse_affine(net: &mut LayerNetwork) -> usize {
    let old = std::mem::take(&mut net.layers);
    let mut layers: Vec<Dense> = Vec::with_capacity(old.len());
    let mut fused = 0;
    for layer in old {
        match layers.last_mut() {
            Some(previous)
                if previous.activation == Activation::Identity && fusion_pays(previous, &layer) =>
            {
                *previous = fuse_pair(previous, &layer);
                fused += 1;
            }
            _ => layers.push(layer),
        }
    }
    net.layers = layers;
    fused
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::layers::Role;
    use crate::passes::test_support::*;
    use ndarray::array;

    #[test]
    fn fuses_two_affine_layers_exactly() {
        let net = LayerNetwork {
            input_dim: 2,
            layers: vec![
                Dense {
                    weight: array![[1.0, 2.0], [0.0, -1.0]],
                    bias: array![1.0, 0.5],
                    activation: Activation::Identity,
                    roles: vec![Role::Unknown; 2],
                },
                Dense {
                    weight: array![[3.0, 1.0]],
                    bias: array![-2.0],
                    activation: Activation::Identity,
                    roles: vec![Role::Output { index: 0 }],
                },
            ],
        };
        let mut fused = net.clone();
        assert_eq!(fuse_affine(&mut fused), 1);
        assert_eq!(fused.layers.len(), 1);
        let layer = &fused.layers[0];
        assert_eq!(layer.weight, array![[3.0, 5.0]]);
        assert_eq!(layer.bias, array![3.0 + 0.5 - 2.0]);
        assert_eq!(layer.roles, vec![Role::Output { index: 0 }]);
        fused.validate().unwrap();
    }

    #[test]
    fn keeps_the_function_and_second_activation() {
        let mut rng = rng(3);
        let net = LayerNetwork {
            input_dim: 4,
            layers: vec![
                random_dense(&mut rng, 4, 6, Activation::Relu),
                random_dense(&mut rng, 6, 5, Activation::Identity),
                random_dense(&mut rng, 5, 5, Activation::Identity),
                random_dense(&mut rng, 5, 3, Activation::Relu),
                random_dense(&mut rng, 3, 2, Activation::Identity),
            ],
        };
        let mut fused = net.clone();
        // 6 -> 5 -> 5 -> 3 collapses into one 6 -> 3 ReLU layer.
        assert_eq!(fuse_affine(&mut fused), 2);
        fused.validate().unwrap();
        assert_eq!(fused.layers.len(), 3);
        assert_eq!(fused.layers[1].activation, Activation::Relu);
        assert_eq!(fused.layers[1].weight.dim(), (3, 6));
        assert_same_function(&net, &fused, 11);
    }

    #[test]
    fn keeps_a_bottleneck_that_would_grow_the_network() {
        let mut rng = rng(5);
        // 10 -> 1 identity -> 10: 11 + 20 = 31 parameters; fused 10 -> 10 has 110.
        let net = LayerNetwork {
            input_dim: 10,
            layers: vec![
                random_dense(&mut rng, 10, 1, Activation::Identity),
                random_dense(&mut rng, 1, 10, Activation::Relu),
                random_dense(&mut rng, 10, 2, Activation::Identity),
            ],
        };
        assert!(!fusion_pays(&net.layers[0], &net.layers[1]));
        let mut copy = net.clone();
        assert_eq!(fuse_affine(&mut copy), 0);
        assert_eq!(copy, net);
    }

    #[test]
    fn criterion_boundary_is_inclusive() {
        let mut rng = rng(9);
        // d = 2, m = 1, n = 2: pair 3 + 4 = 7, fused 2*2 + 2 = 6: fuse.
        let a = random_dense(&mut rng, 2, 1, Activation::Identity);
        let b = random_dense(&mut rng, 1, 2, Activation::Identity);
        assert!(fusion_pays(&a, &b));
        // d = 3, m = 1, n = 3: pair 4 + 6 = 10, fused 9 + 3 = 12: keep.
        let a = random_dense(&mut rng, 3, 1, Activation::Identity);
        let b = random_dense(&mut rng, 1, 3, Activation::Identity);
        assert!(!fusion_pays(&a, &b));
        // d = 2, m = 1, n = 3: pair 3 + 6 = 9, fused 6 + 3 = 9: equal, fuse.
        let a = random_dense(&mut rng, 2, 1, Activation::Identity);
        let b = random_dense(&mut rng, 1, 3, Activation::Identity);
        assert!(fusion_pays(&a, &b));
    }

    #[test]
    fn relu_layers_are_not_fused() {
        let mut rng = rng(1);
        let net = LayerNetwork {
            input_dim: 3,
            layers: vec![
                random_dense(&mut rng, 3, 3, Activation::Relu),
                random_dense(&mut rng, 3, 2, Activation::Identity),
            ],
        };
        let mut copy = net.clone();
        assert_eq!(fuse_affine(&mut copy), 0);
        assert_eq!(copy, net);
    }
}
