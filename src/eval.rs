//! Reference evaluator for the layer IR.
//!
//! [`evaluate`] runs a [`LayerNetwork`] in `f64` on a batch of inputs (one
//! row per point), one matrix product per layer. [`evaluate_f32`] simulates
//! float32 inference: weights, biases, the input and every intermediate value
//! are rounded to `f32` (as onnxruntime or tract would do with an `f32`
//! model; the order of summation inside a dot product may still differ).
//! For repeated `f32` evaluation, convert once with [`F32Network::new`].

use crate::ir::layers::{Activation, LayerNetwork};
use ndarray::{Array1, Array2, ArrayView2, Axis, LinalgScalar};

/// Applies `activation(x . weight^T + bias)` to a batch `x` (batch x in).
fn dense_forward<T>(
    x: ArrayView2<T>,
    weight: ArrayView2<T>,
    bias: &Array1<T>,
    activation: Activation,
) -> Array2<T>
where
    T: LinalgScalar + PartialOrd + std::ops::AddAssign,
{
    let mut z = x.dot(&weight.t());
    z += &bias.view().insert_axis(Axis(0));
    if activation == Activation::Relu {
        let zero = T::zero();
        z.mapv_inplace(|v| if v > zero { v } else { zero });
    }
    z
}

/// Panics with a clear message when the batch does not have `input_dim` columns.
fn check_input_width(input_dim: usize, columns: usize) {
    assert_eq!(
        columns, input_dim,
        "input batch has {columns} columns but the network takes {input_dim} inputs"
    );
}

/// Evaluates `net` in `f64` on a batch (`batch x input_dim`), giving
/// `batch x output_dim`.
///
/// # Panics
/// If `input` does not have `net.input_dim` columns.
pub fn evaluate(net: &LayerNetwork, input: ArrayView2<f64>) -> Array2<f64> {
    check_input_width(net.input_dim, input.ncols());
    let mut x = input.to_owned();
    for layer in &net.layers {
        x = dense_forward(x.view(), layer.weight.view(), &layer.bias, layer.activation);
    }
    x
}

/// Evaluates `net` on a single point.
///
/// # Panics
/// If `point` does not have `net.input_dim` entries.
pub fn evaluate_point(net: &LayerNetwork, point: &[f64]) -> Vec<f64> {
    let input = ArrayView2::from_shape((1, point.len()), point).expect("a row is a 1 x n matrix");
    evaluate(net, input).into_raw_vec_and_offset().0
}

/// A network's parameters rounded to `f32`, for simulated float32 inference.
#[derive(Clone, Debug)]
pub struct F32Network {
    input_dim: usize,
    layers: Vec<F32Dense>,
}

/// One layer of an [`F32Network`].
#[derive(Clone, Debug)]
struct F32Dense {
    weight: Array2<f32>,
    bias: Array1<f32>,
    activation: Activation,
}

impl F32Network {
    /// Rounds every weight and bias of `net` to the nearest `f32`.
    pub fn new(net: &LayerNetwork) -> Self {
        let layers = net
            .layers
            .iter()
            .map(|layer| F32Dense {
                weight: layer.weight.mapv(|w| w as f32),
                bias: layer.bias.mapv(|b| b as f32),
                activation: layer.activation,
            })
            .collect();
        F32Network {
            input_dim: net.input_dim,
            layers,
        }
    }

    /// Evaluates on a batch (`batch x input_dim`); the input is rounded to
    /// `f32` first and all arithmetic is in `f32`.
    ///
    /// # Panics
    /// If `input` does not have `input_dim` columns.
    pub fn evaluate(&self, input: ArrayView2<f64>) -> Array2<f32> {
        check_input_width(self.input_dim, input.ncols());
        let mut x = input.mapv(|v| v as f32);
        for layer in &self.layers {
            x = dense_forward(x.view(), layer.weight.view(), &layer.bias, layer.activation);
        }
        x
    }
}

/// Evaluates `net` as a float32 model would: weights, biases, input and all
/// intermediates rounded to `f32`. Converts the weights on every call; use
/// [`F32Network`] to evaluate many batches.
///
/// # Panics
/// If `input` does not have `net.input_dim` columns.
pub fn evaluate_f32(net: &LayerNetwork, input: ArrayView2<f64>) -> Array2<f32> {
    F32Network::new(net).evaluate(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::layers::{Dense, Role};
    use ndarray::array;

    fn small() -> LayerNetwork {
        // h = relu([[1, -1], [2, 0.5]] x + [0, -1]); y = [1, -2] h + 0.25
        LayerNetwork {
            input_dim: 2,
            layers: vec![
                Dense {
                    weight: array![[1.0, -1.0], [2.0, 0.5]],
                    bias: array![0.0, -1.0],
                    activation: Activation::Relu,
                    roles: vec![Role::Unknown; 2],
                },
                Dense {
                    weight: array![[1.0, -2.0]],
                    bias: array![0.25],
                    activation: Activation::Identity,
                    roles: vec![Role::Output { index: 0 }],
                },
            ],
        }
    }

    #[test]
    fn matches_hand_computation() {
        let net = small();
        let x = array![[1.0, 2.0], [3.0, 1.0], [0.0, 0.0]];
        // (1,2): h = relu(-1, 2+1-1=2) = (0, 2); y = -4 + 0.25 = -3.75
        // (3,1): h = relu(2, 6+0.5-1=5.5) = (2, 5.5); y = 2 - 11 + 0.25 = -8.75
        // (0,0): h = relu(0, -1) = (0, 0); y = 0.25
        let y = evaluate(&net, x.view());
        assert_eq!(y, array![[-3.75], [-8.75], [0.25]]);
        assert_eq!(evaluate_point(&net, &[1.0, 2.0]), vec![-3.75]);
    }

    #[test]
    fn f32_rounds_parameters_and_intermediates() {
        let mut net = small();
        // 1 + 2^-30 is not an f32: the f32 evaluator must lose it.
        net.layers[1].bias[0] = 1.0 + 2f64.powi(-30);
        let x = array![[0.0, 0.0]];
        assert_eq!(evaluate(&net, x.view())[[0, 0]], 1.0 + 2f64.powi(-30));
        assert_eq!(evaluate_f32(&net, x.view())[[0, 0]], 1.0f32);
        let y = evaluate_f32(&net, array![[3.0, 1.0]].view());
        assert_eq!(y, array![[-9.0f32 + 1.0]]);
    }

    #[test]
    #[should_panic(expected = "input batch has 3 columns")]
    fn rejects_wrong_input_width() {
        evaluate(&small(), Array2::zeros((1, 3)).view());
    }
}
