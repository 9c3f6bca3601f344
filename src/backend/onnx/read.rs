//! The ONNX reader: a chain of `Gemm` / `MatMul` + `Add` / `Relu` nodes back
//! into a [`LayerNetwork`] (every role [`Role::Unknown`]).
//!
//! Accepted graphs: one (non-initializer) input of shape `[batch, d]`, one
//! output, and nodes in order, each taking the previous node's result:
//! - `Gemm(x, B, C?)` with `transA = 0`, any `transB`, `alpha`, `beta`;
//! - `MatMul(x, B)`, optionally followed by `Add(_, c)` (either operand order);
//! - `Relu(x)`.
//!
//! `B` and `C`/`c` must be initializers (`float` or `double`, raw or typed
//! data, not external); a bias may have shape `[n]`, `[1, n]`, `[1]` or `[]`.
//! Consecutive affine nodes become separate identity layers (run
//! [`crate::passes::fuse_affine`] to merge them); a graph ending in `Relu`
//! gets a final identity layer, since the IR's last layer is affine.

use super::OnnxError;
use crate::ir::layers::{Activation, Dense, LayerNetwork, Role};
use crate::spec::{OutputKind, Precision};
use ndarray::{Array1, Array2};
use onnx_protobuf::tensor_proto::{DataLocation, DataType};
use onnx_protobuf::tensor_shape_proto::dimension;
use onnx_protobuf::{type_proto, Message, ModelProto, NodeProto, TensorProto, ValueInfoProto};
use std::collections::HashMap;
use std::path::Path;

/// Oldest default-domain opset read: Gemm and Add broadcast since opset 7.
const MIN_OPSET: i64 = 7;

/// What the reader learnt about a model besides its layers.
#[derive(Clone, Debug, PartialEq)]
pub struct OnnxMetadata {
    /// Element type of the initializers.
    pub precision: Precision,
    /// Name of the graph output.
    pub output_name: String,
    /// `Logits` for an output named `logits`, `Label` for `label`.
    pub output_kind: Option<OutputKind>,
    /// `metadata_props`, in file order.
    pub properties: Vec<(String, String)>,
    /// The graph's name.
    pub graph_name: String,
    /// `producer_name`.
    pub producer_name: String,
    /// `producer_version`.
    pub producer_version: String,
    /// `ir_version`.
    pub ir_version: i64,
    /// Version of the default-domain opset import, if any.
    pub opset_version: Option<i64>,
}

impl OnnxMetadata {
    /// The value of metadata property `key`, if present.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a model from bytes.
pub fn read_onnx(bytes: &[u8]) -> Result<(LayerNetwork, OnnxMetadata), OnnxError> {
    if deep_groups(bytes, 0) {
        return Err(unsupported(format!(
            "the file nests protobuf groups more than {MAX_GROUP_DEPTH} deep (ONNX uses no groups)"
        )));
    }
    let model = ModelProto::parse_from_bytes(bytes)?;
    // onnx.checker refuses a domain imported twice (`ai.onnx` is the default
    // domain's other name).
    let mut domains: Vec<&str> = Vec::new();
    for o in &model.opset_import {
        let domain = if o.domain == "ai.onnx" {
            ""
        } else {
            o.domain.as_str()
        };
        if domains.contains(&domain) {
            return Err(unsupported(format!(
                "the opset domain `{}` is imported twice",
                if domain.is_empty() { "ai.onnx" } else { domain }
            )));
        }
        domains.push(domain);
    }
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| unsupported("the model has no graph"))?;
    let initializers: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();

    let precision = common_precision(&graph.initializer)?;
    let inputs: Vec<&ValueInfoProto> = graph
        .input
        .iter()
        .filter(|v| !initializers.contains_key(v.name.as_str()))
        .collect();
    let [input] = inputs[..] else {
        return Err(unsupported(format!(
            "the graph has {} inputs (besides initializers), expected 1",
            inputs.len()
        )));
    };
    let [output] = &graph.output[..] else {
        return Err(unsupported(format!(
            "the graph has {} outputs, expected 1",
            graph.output.len()
        )));
    };

    let mut chain = Chain::new(input.name.clone(), input_width(input)?);
    for node in &graph.node {
        chain.apply(node, &initializers)?;
    }
    if chain.current != output.name {
        return Err(unsupported(format!(
            "the graph output `{}` is not the result of the last node (`{}`)",
            output.name, chain.current
        )));
    }
    let network = chain.finish()?;
    network.validate()?;

    let output_kind = match output.name.as_str() {
        "logits" => Some(OutputKind::Logits),
        "label" => Some(OutputKind::Label),
        _ => None,
    };
    let opset_version = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version);
    let metadata = OnnxMetadata {
        precision,
        output_name: output.name.clone(),
        output_kind,
        properties: model
            .metadata_props
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect(),
        graph_name: graph.name.clone(),
        producer_name: model.producer_name.clone(),
        producer_version: model.producer_version.clone(),
        ir_version: model.ir_version,
        opset_version,
    };
    if let Some(version) = opset_version.filter(|&v| v < MIN_OPSET) {
        return Err(unsupported(format!(
            "default-domain opset {version} predates opset {MIN_OPSET} (Gemm with broadcasting)"
        )));
    }
    Ok((network, metadata))
}

/// The deepest nesting of protobuf groups [`read_onnx`] hands to the
/// protobuf crate, whose version 3.4 skips unknown groups recursively
/// without a limit (RUSTSEC-2024-0437): 1 MB of start-group tags overflowed
/// the stack (found by the fuzzing harness). ONNX itself uses no groups.
pub const MAX_GROUP_DEPTH: usize = 32;

/// Whether `bytes`, read as protobuf wire format from the start, nests
/// start-group tags more than [`MAX_GROUP_DEPTH`] deep, also inside
/// length-delimited fields (read as messages, up to protobuf's 100 levels),
/// before the first byte that is not wire format.
fn deep_groups(bytes: &[u8], level: usize) -> bool {
    let mut i = 0;
    let mut depth = 0usize;
    while i < bytes.len() {
        let Some(tag) = varint(bytes, &mut i) else {
            return false;
        };
        let step = match tag & 7 {
            0 => varint(bytes, &mut i).map(|_| 0),
            1 => Some(8),
            5 => Some(4),
            2 => match varint(bytes, &mut i).and_then(|n| usize::try_from(n).ok()) {
                Some(len) if len <= bytes.len() - i => {
                    if level < 100 && deep_groups(&bytes[i..i + len], level + 1) {
                        return true;
                    }
                    Some(len)
                }
                _ => None,
            },
            3 => {
                depth += 1;
                if depth > MAX_GROUP_DEPTH {
                    return true;
                }
                Some(0)
            }
            4 => depth.checked_sub(1).map(|d| {
                depth = d;
                0
            }),
            _ => None,
        };
        match step {
            Some(n) if tag >> 3 != 0 && n <= bytes.len() - i => i += n,
            _ => return false,
        }
    }
    false
}

/// Reads a base-128 varint at `*i`, advancing `*i`; `None` when truncated
/// or longer than 10 bytes.
fn varint(bytes: &[u8], i: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in 0..10 {
        let byte = *bytes.get(*i)?;
        *i += 1;
        value |= u64::from(byte & 0x7f) << (7 * shift);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Reads a model from a file.
pub fn read_onnx_file(path: &Path) -> Result<(LayerNetwork, OnnxMetadata), OnnxError> {
    let bytes = std::fs::read(path).map_err(|source| OnnxError::Io {
        path: path.display().to_string(),
        source,
    })?;
    read_onnx(&bytes)
}

fn unsupported(message: impl Into<String>) -> OnnxError {
    OnnxError::Unsupported(message.into())
}

/// The precision shared by all initializers (`F32` for a model without any).
fn common_precision(initializers: &[TensorProto]) -> Result<Precision, OnnxError> {
    let mut precision = None;
    for tensor in initializers {
        let this = tensor_precision(tensor)?;
        if precision.is_some_and(|p| p != this) {
            return Err(unsupported("initializers mix float and double"));
        }
        precision = Some(this);
    }
    Ok(precision.unwrap_or(Precision::F32))
}

fn tensor_precision(tensor: &TensorProto) -> Result<Precision, OnnxError> {
    match tensor.data_type {
        t if t == DataType::FLOAT as i32 => Ok(Precision::F32),
        t if t == DataType::DOUBLE as i32 => Ok(Precision::F64),
        other => Err(unsupported(format!(
            "initializer `{}` has element type {other}, expected float (1) or double (11)",
            tensor.name
        ))),
    }
}

/// The static `d` of an input `[batch, d]`, if declared.
fn input_width(input: &ValueInfoProto) -> Result<Option<usize>, OnnxError> {
    let Some(type_proto::Value::TensorType(tensor)) =
        input.type_.as_ref().and_then(|t| t.value.as_ref())
    else {
        return Ok(None);
    };
    let Some(shape) = tensor.shape.as_ref() else {
        return Ok(None);
    };
    if shape.dim.len() != 2 {
        return Err(unsupported(format!(
            "input `{}` has rank {}, expected [batch, d]",
            input.name,
            shape.dim.len()
        )));
    }
    match shape.dim[1].value {
        Some(dimension::Value::DimValue(d)) if d > 0 => Ok(Some(d as usize)),
        _ => Ok(None),
    }
}

/// The values of an initializer, as `f64`, with its dimensions.
fn tensor_values(tensor: &TensorProto) -> Result<(Vec<usize>, Vec<f64>), OnnxError> {
    if tensor.data_location.value() == DataLocation::EXTERNAL as i32
        || !tensor.external_data.is_empty()
    {
        return Err(unsupported(format!(
            "initializer `{}` uses external data",
            tensor.name
        )));
    }
    let dims = tensor
        .dims
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            unsupported(format!(
                "initializer `{}` has a negative dimension",
                tensor.name
            ))
        })?;
    // Dimensions whose product overflows cannot match any data.
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            unsupported(format!(
                "initializer `{}` has shape {:?}, more values than any file holds",
                tensor.name, dims
            ))
        })?;
    let precision = tensor_precision(tensor)?;
    let size = match precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    };
    if !tensor.raw_data.len().is_multiple_of(size) {
        return Err(unsupported(format!(
            "initializer `{}`: raw_data of {} bytes is not a whole number of {size}-byte values",
            tensor.name,
            tensor.raw_data.len()
        )));
    }
    let values: Vec<f64> = match (precision, tensor.raw_data.is_empty()) {
        (Precision::F32, false) => tensor
            .raw_data
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
            .collect(),
        (Precision::F64, false) => tensor
            .raw_data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect(),
        (Precision::F32, true) => tensor.float_data.iter().map(|&x| f64::from(x)).collect(),
        (Precision::F64, true) => tensor.double_data.clone(),
    };
    if values.len() != count {
        return Err(unsupported(format!(
            "initializer `{}` has {} values for shape {:?}",
            tensor.name,
            values.len(),
            dims
        )));
    }
    Ok((dims, values))
}

/// An affine map not yet closed by an activation.
struct Pending {
    weight: Array2<f64>,
    bias: Array1<f64>,
}

/// The network being rebuilt, node by node.
struct Chain {
    /// Name of the tensor the next node must consume.
    current: String,
    /// Width of `current`, once known.
    width: Option<usize>,
    input_dim: Option<usize>,
    layers: Vec<Dense>,
    pending: Option<Pending>,
}

impl Chain {
    fn new(input: String, input_dim: Option<usize>) -> Self {
        Chain {
            current: input,
            width: input_dim,
            input_dim,
            layers: Vec::new(),
            pending: None,
        }
    }

    /// Closes the pending affine map (if any) as a layer with `activation`.
    fn close(&mut self, activation: Activation) {
        if let Some(Pending { weight, bias }) = self.pending.take() {
            let n = bias.len();
            self.layers.push(Dense {
                weight,
                bias,
                activation,
                roles: vec![Role::Unknown; n],
            });
        }
    }

    /// The width of `current`, which must be known for this node.
    fn known_width(&self, node: &NodeProto) -> Result<usize, OnnxError> {
        self.width.ok_or_else(|| {
            unsupported(format!(
                "node `{}`: the input width is unknown (declare the input shape)",
                node_id(node)
            ))
        })
    }

    /// Starts a new affine map `x -> weight x + bias` (closing any pending one
    /// as an identity layer).
    fn push_affine(
        &mut self,
        node: &NodeProto,
        weight: Array2<f64>,
        bias: Array1<f64>,
    ) -> Result<(), OnnxError> {
        let width = self.width.unwrap_or(weight.ncols());
        if weight.ncols() != width {
            return Err(unsupported(format!(
                "node `{}`: weight takes {} inputs but receives {width}",
                node_id(node),
                weight.ncols()
            )));
        }
        self.input_dim.get_or_insert(width);
        self.close(Activation::Identity);
        self.width = Some(weight.nrows());
        self.pending = Some(Pending { weight, bias });
        Ok(())
    }

    fn apply(
        &mut self,
        node: &NodeProto,
        inits: &HashMap<&str, &TensorProto>,
    ) -> Result<(), OnnxError> {
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(OnnxError::UnsupportedOp {
                node: node_id(node),
                op: format!("{}::{}", node.domain, node.op_type),
            });
        }
        for (k, a) in node.attribute.iter().enumerate() {
            if node.attribute[..k].iter().any(|b| b.name == a.name) {
                return Err(unsupported(format!(
                    "node `{}`: attribute `{}` is given twice",
                    node_id(node),
                    a.name
                )));
            }
        }
        if node.op_type != "Gemm" {
            if let Some(a) = node.attribute.first() {
                return Err(unsupported(format!(
                    "node `{}` ({}): unexpected attribute `{}`",
                    node_id(node),
                    node.op_type,
                    a.name
                )));
            }
        }
        let [result] = &node.output[..] else {
            return Err(unsupported(format!(
                "node `{}` has {} outputs, expected 1",
                node_id(node),
                node.output.len()
            )));
        };
        match node.op_type.as_str() {
            "Gemm" => self.gemm(node, inits)?,
            "MatMul" => {
                let [a, b] = &node.input[..] else {
                    return Err(arity(node, 2));
                };
                self.expect_current(node, a)?;
                let (dims, values) = tensor_values(initializer(node, inits, b)?)?;
                let [k, n] = dims[..] else {
                    return Err(unsupported(format!(
                        "node `{}`: `{b}` is not a matrix",
                        node_id(node)
                    )));
                };
                let b = Array2::from_shape_vec((k, n), values).expect("checked count");
                self.push_affine(node, b.t().to_owned(), Array1::zeros(n))?;
            }
            "Add" => {
                let [a, b] = &node.input[..] else {
                    return Err(arity(node, 2));
                };
                let constant = if *a == self.current {
                    b
                } else if *b == self.current {
                    a
                } else {
                    return Err(self.not_chained(node));
                };
                let width = self.known_width(node)?;
                let (dims, values) = tensor_values(initializer(node, inits, constant)?)?;
                let c = broadcast_bias(node, &dims, values, width)?;
                match &mut self.pending {
                    Some(pending) => pending.bias += &c,
                    None => self.push_affine(node, Array2::eye(width), c)?,
                }
            }
            "Relu" => {
                let [a] = &node.input[..] else {
                    return Err(arity(node, 1));
                };
                self.expect_current(node, a)?;
                if self.pending.is_some() {
                    self.close(Activation::Relu);
                } else if self
                    .layers
                    .last()
                    .is_none_or(|l| l.activation != Activation::Relu)
                {
                    // A ReLU on the input: an identity-weight ReLU layer.
                    let width = self.known_width(node)?;
                    self.input_dim.get_or_insert(width);
                    self.layers.push(Dense {
                        weight: Array2::eye(width),
                        bias: Array1::zeros(width),
                        activation: Activation::Relu,
                        roles: vec![Role::Unknown; width],
                    });
                } // else relu(relu(x)) = relu(x): nothing to add.
            }
            op => {
                return Err(OnnxError::UnsupportedOp {
                    node: node_id(node),
                    op: op.to_string(),
                })
            }
        }
        self.current = result.clone();
        Ok(())
    }

    fn gemm(
        &mut self,
        node: &NodeProto,
        inits: &HashMap<&str, &TensorProto>,
    ) -> Result<(), OnnxError> {
        let (a, b, c) = match &node.input[..] {
            [a, b] => (a, b, None),
            [a, b, c] if c.is_empty() => (a, b, None),
            [a, b, c] => (a, b, Some(c)),
            _ => return Err(arity(node, 3)),
        };
        self.expect_current(node, a)?;
        let mut alpha = 1.0;
        let mut beta = 1.0;
        let mut trans_b = false;
        for attribute in &node.attribute {
            match attribute.name.as_str() {
                "alpha" => alpha = f64::from(attribute.f),
                "beta" => beta = f64::from(attribute.f),
                "transA" if attribute.i != 0 => {
                    return Err(unsupported(format!(
                        "node `{}`: Gemm with transA = 1 is not a layer",
                        node_id(node)
                    )))
                }
                "transA" => {}
                "transB" => trans_b = attribute.i != 0,
                other => {
                    return Err(unsupported(format!(
                        "node `{}`: unknown Gemm attribute `{other}`",
                        node_id(node)
                    )))
                }
            }
        }
        let (dims, values) = tensor_values(initializer(node, inits, b)?)?;
        let [rows, cols] = dims[..] else {
            return Err(unsupported(format!(
                "node `{}`: `{b}` is not a matrix",
                node_id(node)
            )));
        };
        let b = Array2::from_shape_vec((rows, cols), values).expect("checked count");
        let mut weight = if trans_b { b } else { b.t().to_owned() };
        if alpha != 1.0 {
            weight *= alpha;
        }
        let n = weight.nrows();
        let bias = match c {
            None => Array1::zeros(n),
            Some(c) => {
                let (dims, values) = tensor_values(initializer(node, inits, c)?)?;
                broadcast_bias(node, &dims, values, n)? * beta
            }
        };
        self.push_affine(node, weight, bias)
    }

    fn expect_current(&self, node: &NodeProto, input: &str) -> Result<(), OnnxError> {
        if input == self.current {
            Ok(())
        } else {
            Err(self.not_chained(node))
        }
    }

    fn not_chained(&self, node: &NodeProto) -> OnnxError {
        unsupported(format!(
            "node `{}` ({}) does not take `{}`, the previous result: only chains are supported",
            node_id(node),
            node.op_type,
            self.current
        ))
    }

    fn finish(mut self) -> Result<LayerNetwork, OnnxError> {
        self.close(Activation::Identity);
        let input_dim = self
            .input_dim
            .ok_or_else(|| unsupported("the graph has no layer"))?;
        if self
            .layers
            .last()
            .is_some_and(|l| l.activation == Activation::Relu)
        {
            let width = self.width.expect("known after a layer");
            self.layers.push(Dense {
                weight: Array2::eye(width),
                bias: Array1::zeros(width),
                activation: Activation::Identity,
                roles: vec![Role::Unknown; width],
            });
        }
        Ok(LayerNetwork {
            input_dim,
            layers: self.layers,
        })
    }
}

/// A bias of shape `[n]`, `[1, n]`, `[1]` or `[]`, as a vector of length `n`.
fn broadcast_bias(
    node: &NodeProto,
    dims: &[usize],
    values: Vec<f64>,
    n: usize,
) -> Result<Array1<f64>, OnnxError> {
    match (dims, values.len()) {
        ([m], _) | ([1, m], _) if *m == n => Ok(Array1::from(values)),
        ([], 1) | ([1], 1) | ([1, 1], 1) => Ok(Array1::from_elem(n, values[0])),
        _ => Err(unsupported(format!(
            "node `{}`: bias of shape {dims:?} does not broadcast to [batch, {n}]",
            node_id(node)
        ))),
    }
}

fn initializer<'a>(
    node: &NodeProto,
    inits: &HashMap<&str, &'a TensorProto>,
    name: &str,
) -> Result<&'a TensorProto, OnnxError> {
    inits.get(name).copied().ok_or_else(|| {
        unsupported(format!(
            "node `{}` ({}): operand `{name}` is not an initializer",
            node_id(node),
            node.op_type
        ))
    })
}

fn arity(node: &NodeProto, expected: usize) -> OnnxError {
    unsupported(format!(
        "node `{}` ({}) has {} inputs, expected {expected}",
        node_id(node),
        node.op_type,
        node.input.len()
    ))
}

/// A node's name, or its first output if unnamed.
fn node_id(node: &NodeProto) -> String {
    if !node.name.is_empty() {
        node.name.clone()
    } else {
        node.output
            .first()
            .cloned()
            .unwrap_or_else(|| "?".to_string())
    }
}
