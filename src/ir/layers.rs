//! The layer IR: a feedforward network as a chain of dense layers.
//!
//! Invariants (checked by [`LayerNetwork::validate`], kept by every pass):
//! - `layers` is non-empty; `layers[0].weight` has `input_dim` columns and
//!   `layers[k + 1].weight` has as many columns as `layers[k].weight` has rows;
//! - each layer's `bias` and `roles` have one entry per row of its weight;
//! - the last layer has [`Activation::Identity`] (outputs are affine);
//! - every weight and bias is finite.
//!
//! Weights are kept in `f64`; the ONNX back end rounds them to the spec's
//! precision. Each neuron carries a [`Role`] naming the gadget it belongs to,
//! so that reports and certificates can say what every neuron is for.

use ndarray::{Array1, Array2};
use serde::Serialize;

/// What follows a layer's affine map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Activation {
    /// max(0, .) elementwise.
    Relu,
    /// No activation (the affine output is passed on as is).
    Identity,
}

/// Which gadget a neuron belongs to (specs/construction.md sections 3-5).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Role {
    /// Projected coordinate k: `u_k = (U (x - mu))_k + t_k`, or a carried copy of it.
    Projected {
        /// Coordinate index in 0..m.
        coordinate: usize,
    },
    /// Running maximum of the scores of one class (one of `slots` per class).
    Accumulator {
        /// Class index.
        class: u32,
        /// Which of the class's accumulators.
        slot: usize,
    },
    /// `relu(s_j(u) - A)`: how much point j's score exceeds an accumulator.
    Comparison {
        /// Data point j.
        point: usize,
        /// Its class.
        class: u32,
        /// The accumulator slot it is compared with.
        slot: usize,
    },
    /// `relu(b - a)` in a max tree merging accumulators of one class.
    MaxMerge {
        /// Class index.
        class: u32,
        /// Which accumulator the merge feeds.
        slot: usize,
    },
    /// A step neuron of the label gadget (`relu(kappa Delta - 1/2)` or `- 3/2`).
    Step {
        /// The group (class) being closed.
        class: u32,
        /// 0 for the `- 1/2` neuron, 1 for the `- 3/2` neuron.
        part: u8,
    },
    /// Best score of the groups closed so far (label gadget).
    Best,
    /// `relu(G - B)`: how much a group's maximum exceeds the best so far.
    BestIncrease,
    /// The current label value (label gadget), possibly in two halves.
    Label {
        /// 0 for the value itself, 1 and 2 for the two halves of an update.
        part: u8,
    },
    /// Distance construction: one half of `|u_k - c_jk|` for centre j,
    /// `relu(u_k - c_jk)` (`positive`) or `relu(c_jk - u_k)`.
    DistanceHalf {
        /// The centre (data point) j.
        point: usize,
        /// The coordinate k of the map's output.
        coordinate: usize,
        /// Which half.
        positive: bool,
    },
    /// Distance construction, l_inf: `relu(v)` carrying the left child of
    /// node `node` of level `level` in the max tree of centre j's halves.
    TreeCarry {
        /// The centre j.
        point: usize,
        /// Tree level (1 = the level above the halves).
        level: usize,
        /// Node index within the level.
        node: usize,
    },
    /// Distance construction, l_inf: `relu(right - left)`, the merge of node
    /// `node` of level `level` in the max tree of centre j's halves.
    TreeMerge {
        /// The centre j.
        point: usize,
        /// Tree level.
        level: usize,
        /// Node index within the level.
        node: usize,
    },
    /// Distance construction: `relu(R)` carrying running minimum `2 slot` of a
    /// class into a level of the min tree that merges a class's slots.
    MinCarry {
        /// Class index.
        class: u32,
        /// Slot index after the merge.
        slot: usize,
    },
    /// Distance construction: `relu(R_a - R_b)`, merging running minima
    /// `2 slot` and `2 slot + 1` of a class (value `carry - merge`).
    MinMerge {
        /// Class index.
        class: u32,
        /// Slot index after the merge.
        slot: usize,
    },
    /// A neuron of a network read back from a file, whose role is not recorded.
    Unknown,
    /// An output of the network.
    Output {
        /// Output index.
        index: usize,
    },
}

/// One dense layer: `y = activation(weight . x + bias)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// out x in.
    pub weight: Array2<f64>,
    /// One entry per output neuron.
    pub bias: Array1<f64>,
    /// ReLU or identity.
    pub activation: Activation,
    /// One role per output neuron.
    pub roles: Vec<Role>,
}

impl Dense {
    /// Number of output neurons.
    pub fn outputs(&self) -> usize {
        self.weight.nrows()
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.weight.ncols()
    }

    /// Weights plus biases.
    pub fn parameters(&self) -> usize {
        self.weight.len() + self.bias.len()
    }
}

/// A whole network in the layer IR. See the module doc for invariants.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNetwork {
    /// Dimension d of the input.
    pub input_dim: usize,
    /// The layers, first to last.
    pub layers: Vec<Dense>,
}

/// A broken invariant of the layer IR.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LayerError {
    /// The network has no layer.
    #[error("the network has no layer")]
    NoLayers,
    /// Layer `layer` does not take as many inputs as the previous one gives.
    #[error("layer {layer} takes {found} inputs but receives {expected}")]
    ShapeMismatch {
        /// 0-based layer index.
        layer: usize,
        /// What the previous layer (or the input) provides.
        expected: usize,
        /// What this layer's weight expects.
        found: usize,
    },
    /// Bias or roles of the wrong length.
    #[error("layer {layer} has {rows} neurons but {what} has {len} entries")]
    LengthMismatch {
        /// 0-based layer index.
        layer: usize,
        /// Rows of the weight.
        rows: usize,
        /// `bias` or `roles`.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// The last layer applies a ReLU.
    #[error("the last layer must be affine (no ReLU)")]
    ReluOutput,
    /// A NaN or infinite parameter.
    #[error("layer {layer} has a non-finite parameter")]
    NonFinite {
        /// 0-based layer index.
        layer: usize,
    },
}

impl LayerNetwork {
    /// Checks the invariants in the module doc.
    pub fn validate(&self) -> Result<(), LayerError> {
        let last = self.layers.last().ok_or(LayerError::NoLayers)?;
        if last.activation == Activation::Relu {
            return Err(LayerError::ReluOutput);
        }
        let mut expected = self.input_dim;
        for (index, layer) in self.layers.iter().enumerate() {
            if layer.inputs() != expected {
                return Err(LayerError::ShapeMismatch {
                    layer: index,
                    expected,
                    found: layer.inputs(),
                });
            }
            let rows = layer.outputs();
            for (what, len) in [("bias", layer.bias.len()), ("roles", layer.roles.len())] {
                if len != rows {
                    return Err(LayerError::LengthMismatch {
                        layer: index,
                        rows,
                        what,
                        len,
                    });
                }
            }
            let finite = layer
                .weight
                .iter()
                .chain(layer.bias.iter())
                .all(|x| x.is_finite());
            if !finite {
                return Err(LayerError::NonFinite { layer: index });
            }
            expected = rows;
        }
        Ok(())
    }

    /// Number of outputs.
    pub fn output_dim(&self) -> usize {
        self.layers.last().map_or(self.input_dim, Dense::outputs)
    }

    /// Number of affine layers.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// Largest hidden layer (every layer but the last); 0 for one layer.
    pub fn width(&self) -> usize {
        let hidden = self.layers.len().saturating_sub(1);
        self.layers[..hidden]
            .iter()
            .map(Dense::outputs)
            .max()
            .unwrap_or(0)
    }

    /// Total weights plus biases.
    pub fn parameters(&self) -> usize {
        self.layers.iter().map(Dense::parameters).sum()
    }
}
