//! Optimisation passes on the layer IR.
//!
//! Every pass takes a `&mut LayerNetwork`, keeps the function it computes
//! (up to floating-point rounding), keeps [`LayerNetwork::validate`] true,
//! and returns how many rewrites it made, so that [`run_default`] can iterate
//! to a fixed point.
//!
//! - [`fuse_affine::fuse_affine`]: merge an identity layer into the next one
//!   when that does not increase the parameter count;
//! - [`dead_neurons::remove_dead_neurons`]: delete hidden neurons nobody reads
//!   and fold constant hidden neurons into the next layer's bias.

use crate::ir::layers::LayerNetwork;

pub mod dead_neurons;
pub mod fuse_affine;

pub use dead_neurons::remove_dead_neurons;
pub use fuse_affine::fuse_affine;

/// What [`run_default`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassStats {
    /// Pairs of layers merged by [`fuse_affine()`].
    pub fused: usize,
    /// Hidden neurons deleted by [`remove_dead_neurons`].
    pub removed_neurons: usize,
    /// Rounds until nothing changed (the last round changes nothing).
    pub rounds: usize,
}

/// Runs the default pipeline to a fixed point: dead and constant neuron
/// removal (which can make layers cheaper to fuse), then affine fusion
/// (which can expose new zero rows and columns), until neither changes
/// anything. Terminates because every rewrite removes a layer or a neuron.
pub fn run_default(net: &mut LayerNetwork) -> PassStats {
    let mut stats = PassStats::default();
    loop {
        stats.rounds += 1;
        let removed = remove_dead_neurons(net);
        check(net, "remove_dead_neurons");
        let fused = fuse_affine(net);
        check(net, "fuse_affine");
        stats.removed_neurons += removed;
        stats.fused += fused;
        if removed == 0 && fused == 0 {
            return stats;
        }
    }
}

/// In debug builds (and tests), asserts that a pass kept the IR invariants.
fn check(net: &LayerNetwork, pass: &str) {
    if cfg!(debug_assertions) {
        if let Err(error) = net.validate() {
            panic!("pass {pass} broke the layer IR: {error}");
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Small random networks and a function-equality check for pass tests.

    use crate::eval::evaluate;
    use crate::ir::layers::{Activation, Dense, LayerNetwork, Role};
    use ndarray::{Array1, Array2};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A dense layer with uniform weights in [-1, 1].
    pub fn random_dense(
        rng: &mut ChaCha8Rng,
        inputs: usize,
        outputs: usize,
        activation: Activation,
    ) -> Dense {
        Dense {
            weight: Array2::from_shape_fn((outputs, inputs), |_| rng.gen_range(-1.0..1.0)),
            bias: Array1::from_shape_fn(outputs, |_| rng.gen_range(-1.0..1.0)),
            activation,
            roles: vec![Role::Unknown; outputs],
        }
    }

    /// A seeded random generator.
    pub fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    /// Asserts that `a` and `b` agree on 200 random inputs in [-3, 3]^d.
    pub fn assert_same_function(a: &LayerNetwork, b: &LayerNetwork, seed: u64) {
        assert_eq!(a.input_dim, b.input_dim);
        let mut rng = rng(seed);
        let x = Array2::from_shape_fn((200, a.input_dim), |_| rng.gen_range(-3.0..3.0));
        let (ya, yb) = (evaluate(a, x.view()), evaluate(b, x.view()));
        assert_eq!(ya.dim(), yb.dim());
        for (p, q) in ya.iter().zip(yb.iter()) {
            assert!(
                (p - q).abs() <= 1e-9 * (1.0 + p.abs()),
                "outputs differ: {p} vs {q}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::ir::layers::{Activation, LayerNetwork};

    #[test]
    fn default_pipeline_reaches_a_fixed_point_and_keeps_the_function() {
        let mut rng = rng(7);
        // 3 -> 4 relu -> 2 identity -> 5 identity -> 4 relu -> 2 out.
        let mut layers = vec![
            random_dense(&mut rng, 3, 4, Activation::Relu),
            random_dense(&mut rng, 4, 2, Activation::Identity),
            random_dense(&mut rng, 2, 5, Activation::Identity),
            random_dense(&mut rng, 5, 4, Activation::Relu),
            random_dense(&mut rng, 4, 2, Activation::Identity),
        ];
        // Neuron 1 of layer 0 is read by nobody; neuron 2 of layer 3 is constant.
        layers[1].weight.column_mut(1).fill(0.0);
        layers[3].weight.row_mut(2).fill(0.0);
        layers[3].bias[2] = 0.5;
        let original = LayerNetwork {
            input_dim: 3,
            layers,
        };
        let mut net = original.clone();
        let stats = run_default(&mut net);
        net.validate().unwrap();
        assert_same_function(&original, &net, 1);
        assert_eq!(stats.removed_neurons, 2);
        // After removal: 3 -> 3 relu, 3 -> 2 id, 2 -> 5 id, 5 -> 3 relu, 3 -> 2.
        // 3 -> 2 -> 5 costs 8 + 15 = 23 parameters, fused 3 -> 5 costs 20:
        // fused. 3 -> 5 -> 3 costs 20 + 18 = 38, fused 3 -> 3 costs 12: fused.
        assert_eq!(stats.fused, 2);
        let shapes: Vec<(usize, usize)> = net
            .layers
            .iter()
            .map(|l| (l.inputs(), l.outputs()))
            .collect();
        assert_eq!(shapes, vec![(3, 3), (3, 3), (3, 2)]);
        // A second run changes nothing.
        let again = run_default(&mut net);
        assert_eq!(
            (again.fused, again.removed_neurons, again.rounds),
            (0, 0, 1)
        );
    }
}
