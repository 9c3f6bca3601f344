//! ONNX back end: [`write_onnx`] / [`save_onnx`] turn a [`LayerNetwork`] into
//! an ONNX model, [`read_onnx`] / [`read_onnx_file`] read one back.
//!
//! The model written is a chain of `Gemm` (weights stored `[out, in]`,
//! `transB = 1`) and `Relu` nodes from the input `input` (`[batch, d]`, with a
//! symbolic `batch`) to the output `logits` (`[batch, C]`) or `label`
//! (`[batch, 1]`); IR version 8, opset 13, all weights inside the file.
//!
//! [`LayerNetwork`]: crate::ir::layers::LayerNetwork

mod encode;
mod read;
mod write;

pub use read::{read_onnx, read_onnx_file, OnnxMetadata};
pub use write::{save_onnx, write_onnx, write_onnx_file, write_onnx_to};

use crate::ir::layers::LayerError;
use crate::spec::{OutputKind, Precision};

/// ONNX IR version written.
pub const IR_VERSION: i64 = 8;
/// Default-domain opset version written.
pub const OPSET_VERSION: i64 = 13;
/// Name of the graph input.
pub const INPUT_NAME: &str = "input";
/// Name of the symbolic batch dimension.
pub const BATCH_DIM: &str = "batch";

/// Name of the graph output for an output kind.
pub fn output_name(kind: OutputKind) -> &'static str {
    match kind {
        OutputKind::Logits => "logits",
        OutputKind::Label => "label",
    }
}

/// How to write a model.
#[derive(Clone, Debug, PartialEq)]
pub struct OnnxOptions {
    /// Element type of weights, input and output (`float` or `double`).
    pub precision: Precision,
    /// Output tensor `logits` (`[batch, C]`) or `label` (`[batch, 1]`).
    pub output: OutputKind,
    /// Model metadata (`metadata_props`), written in this order: robmem's
    /// version, spec hash, norm, radius, label names, ... (caller's choice).
    pub metadata: Vec<(String, String)>,
    /// The graph's name.
    pub graph_name: String,
}

impl Default for OnnxOptions {
    fn default() -> Self {
        OnnxOptions {
            precision: Precision::F32,
            output: OutputKind::Logits,
            metadata: Vec::new(),
            graph_name: "robmem".to_string(),
        }
    }
}

/// Why a model could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// The network breaks a layer-IR invariant.
    #[error("invalid network: {0}")]
    InvalidNetwork(#[from] LayerError),
    /// A `label` output needs exactly one output neuron.
    #[error("a `label` output needs 1 output neuron, the network has {outputs}")]
    LabelOutputWidth {
        /// Outputs of the network.
        outputs: usize,
    },
    /// A parameter overflows `f32`.
    #[error("layer {layer} has a parameter too large for float32")]
    F32Overflow {
        /// 0-based layer index.
        layer: usize,
    },
    /// The model would exceed protobuf's 2 GiB limit on one message
    /// (checked before anything is written).
    #[error("the ONNX model would take {bytes} bytes, above protobuf's limit of 2 GiB (2147483647 bytes) for one file with its weights inside: make the network smaller (a larger width budget makes it shallower), use fewer points, or `precision = f32`")]
    TooLarge {
        /// Size of the encoding.
        bytes: u64,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing to a stream failed.
    #[error("write failed: {0}")]
    Write(#[from] std::io::Error),
    /// The bytes are not a protobuf `ModelProto`.
    #[error("not an ONNX model: {0}")]
    Decode(#[from] protobuf::Error),
    /// A node whose operator (or domain) the reader does not handle.
    #[error("node `{node}`: unsupported operator `{op}` (supported: Gemm, MatMul, Add, Relu)")]
    UnsupportedOp {
        /// The node's name (or its output's name if unnamed).
        node: String,
        /// Its `op_type` (with its domain if not the default one).
        op: String,
    },
    /// A model the reader understands in principle but not in this form.
    #[error("{0}")]
    Unsupported(String),
}
