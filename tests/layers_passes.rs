//! The default passes on a deep network: same function, smaller network,
//! invariants kept, outputs and inputs untouched.

use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::eval::{evaluate, F32Network};
use robmem::ir::layers::{Activation, Dense, LayerNetwork, Role};
use robmem::passes::run_default;

/// A deep network of width `width` whose every fourth hidden layer is an
/// identity layer, with planted dead and constant neurons.
fn deep_network(seed: u64, d: usize, width: usize, depth: usize) -> LayerNetwork {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut layers: Vec<Dense> = Vec::with_capacity(depth);
    let mut inputs = d;
    for k in 0..depth {
        let last = k + 1 == depth;
        let n = if last { 3 } else { width };
        // Scaled so that values neither blow up nor vanish over many layers.
        let scale = (3.0 / inputs as f64).sqrt();
        let activation = if last || k % 4 == 3 {
            Activation::Identity
        } else {
            Activation::Relu
        };
        layers.push(Dense {
            weight: Array2::from_shape_fn((n, inputs), |_| rng.gen_range(-scale..scale)),
            bias: Array1::from_shape_fn(n, |_| rng.gen_range(0.0..0.2)),
            activation,
            roles: if last {
                (0..n).map(|index| Role::Output { index }).collect()
            } else {
                vec![Role::Unknown; n]
            },
        });
        inputs = n;
    }
    for k in (5..depth - 1).step_by(7) {
        let j = k % width;
        // Neuron j of layer k is read by nobody ...
        layers[k + 1].weight.column_mut(j).fill(0.0);
        // ... and neuron j + 1 of layer k - 1 is the constant 0.3.
        let c = (j + 1) % width;
        layers[k - 1].weight.row_mut(c).fill(0.0);
        layers[k - 1].bias[c] = 0.3;
    }
    let net = LayerNetwork {
        input_dim: d,
        layers,
    };
    net.validate().unwrap();
    net
}

#[test]
fn default_passes_keep_the_function_of_a_deep_network() {
    let original = deep_network(1, 10, 24, 400);
    let mut net = original.clone();
    let stats = run_default(&mut net);
    net.validate().unwrap();
    eprintln!(
        "{stats:?} depth {} -> {}, parameters {} -> {}",
        original.depth(),
        net.depth(),
        original.parameters(),
        net.parameters()
    );
    // 57 planted dead neurons and 57 planted constant neurons.
    assert_eq!(stats.removed_neurons, 2 * 57, "{stats:?}");
    // The 99 hidden identity layers (24 -> 24) fuse into the next ReLU layer.
    assert_eq!(stats.fused, 99, "{stats:?}");
    assert!(net.depth() < original.depth());
    assert!(net.parameters() < original.parameters());
    assert_eq!(net.input_dim, original.input_dim);
    assert_eq!(net.output_dim(), original.output_dim());
    assert_eq!(
        net.layers.last().unwrap().roles,
        original.layers.last().unwrap().roles
    );

    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let x = Array2::from_shape_fn((2000, 10), |_| rng.gen_range(-2.0..2.0));
    let before = evaluate(&original, x.view());
    let after = evaluate(&net, x.view());
    let scale = before.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 1e-3, "a degenerate test network");
    let err = before
        .iter()
        .zip(after.iter())
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        err <= 1e-9 * (1.0 + scale),
        "max error {err}, scale {scale}"
    );

    // The f32 simulation of the optimised network stays close as well.
    let f32_after = F32Network::new(&net).evaluate(x.view());
    let err32 = before
        .iter()
        .zip(f32_after.iter())
        .fold(0.0f64, |m, (a, &b)| m.max((a - f64::from(b)).abs()));
    assert!(err32 <= 1e-3 * (1.0 + scale), "f32 error {err32}");

    // A fixed point: running again changes nothing.
    let copy = net.clone();
    let again = run_default(&mut net);
    assert_eq!((again.fused, again.removed_neurons), (0, 0));
    assert_eq!(net, copy);
}

mod properties {
    use super::{evaluate, run_default, Activation, Dense, LayerNetwork, Role};
    use ndarray::{Array1, Array2};
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A small random network: widths, activations, and weights of which
    /// about 40% are exactly zero (so that dead and constant neurons occur).
    fn arb_network() -> impl Strategy<Value = LayerNetwork> {
        (
            1usize..5,
            prop::collection::vec(1usize..6, 2..7),
            prop::collection::vec(any::<bool>(), 6),
            any::<u64>(),
        )
            .prop_map(|(d, widths, relu, seed)| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut inputs = d;
                let depth = widths.len();
                let layers = widths
                    .iter()
                    .enumerate()
                    .map(|(k, &n)| {
                        let last = k + 1 == depth;
                        let mut value = || {
                            if rng.gen_bool(0.4) {
                                0.0
                            } else {
                                rng.gen_range(-1.0..1.0)
                            }
                        };
                        let layer = Dense {
                            weight: Array2::from_shape_fn((n, inputs), |_| value()),
                            bias: Array1::from_shape_fn(n, |_| value()),
                            activation: if relu[k] && !last {
                                Activation::Relu
                            } else {
                                Activation::Identity
                            },
                            roles: (0..n).map(|index| Role::Output { index }).collect(),
                        };
                        inputs = n;
                        layer
                    })
                    .collect();
                LayerNetwork {
                    input_dim: d,
                    layers,
                }
            })
    }

    proptest! {
        #[test]
        fn passes_preserve_function_and_interface(original in arb_network()) {
            let mut net = original.clone();
            run_default(&mut net);
            prop_assert!(net.validate().is_ok());
            prop_assert_eq!(net.input_dim, original.input_dim);
            prop_assert_eq!(net.output_dim(), original.output_dim());
            prop_assert!(net.parameters() <= original.parameters());
            prop_assert!(net.layers.iter().all(|l| l.outputs() >= 1));
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            let x = Array2::from_shape_fn((64, original.input_dim), |_| rng.gen_range(-3.0..3.0));
            let (a, b) = (evaluate(&original, x.view()), evaluate(&net, x.view()));
            for (p, q) in a.iter().zip(b.iter()) {
                prop_assert!((p - q).abs() <= 1e-9 * (1.0 + p.abs()), "{} vs {}", p, q);
            }
            let again = run_default(&mut net);
            prop_assert_eq!((again.fused, again.removed_neurons), (0, 0));
        }
    }
}
