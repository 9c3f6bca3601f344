//! TEMPORARY stand-in for the independent ONNX reader (replaced on merge).

use ndarray::{Array1, Array2};
use std::path::Path;

/// Element type of the model's tensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Element {
    /// float32.
    F32,
    /// float64.
    F64,
}

/// One affine layer.
#[derive(Clone, Debug)]
pub struct Layer {
    /// out x in.
    pub weight: Array2<f64>,
    /// Bias.
    pub bias: Array1<f64>,
    /// Whether ReLU follows.
    pub relu: bool,
}

/// A model read from ONNX.
#[derive(Clone, Debug)]
pub struct Model {
    /// Input dimension.
    pub input_dim: usize,
    /// Layers.
    pub layers: Vec<Layer>,
    /// Element type.
    pub element: Element,
    /// Input name.
    pub input_name: String,
    /// Output name.
    pub output_name: String,
    /// Metadata.
    pub metadata: Vec<(String, String)>,
}

/// Read error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ModelError(String);

/// Reads a model.
pub fn read_model(bytes: &[u8]) -> Result<Model, ModelError> {
    let (net, meta) =
        crate::backend::onnx::read_onnx(bytes).map_err(|e| ModelError(e.to_string()))?;
    Ok(Model {
        input_dim: net.input_dim,
        layers: net
            .layers
            .into_iter()
            .map(|l| Layer {
                relu: l.activation == crate::ir::layers::Activation::Relu,
                weight: l.weight,
                bias: l.bias,
            })
            .collect(),
        element: match meta.precision {
            crate::spec::Precision::F32 => Element::F32,
            crate::spec::Precision::F64 => Element::F64,
        },
        input_name: "input".into(),
        output_name: meta.output_name,
        metadata: meta.properties,
    })
}

/// Reads a model file.
pub fn read_model_file(path: &Path) -> Result<Model, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError(e.to_string()))?;
    read_model(&bytes)
}

impl Model {
    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |l| l.weight.nrows())
    }
}
