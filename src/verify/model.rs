//! An ONNX reader of its own for the verifier: a graph of affine layers and
//! ReLUs, read according to the ONNX operator specification (not according
//! to what robmem's writer happens to emit).
//!
//! Accepted graphs: one graph input (besides initializers) of shape
//! `[batch, d]`, one graph output, and nodes of the default domain that,
//! followed from the input along the data flow, form a single chain:
//! - `Gemm(x, B, C?)` with `transA = 0`, `transB` 0 or 1, `alpha` and `beta`
//!   (folded into the weights only when that is exact, see below), a bias
//!   `C` of shape `[n]`, `[1, n]` or a broadcast scalar (`[]`, `[1]`,
//!   `[1, 1]`), or no bias;
//! - `MatMul(x, B)`, optionally followed by `Add(_, c)` (either operand
//!   order) with `c` shaped like a Gemm bias;
//! - `Relu(x)` after an affine node (a ReLU of a ReLU changes nothing).
//!
//! `B`, `C` and `c` must be initializers of the model's one element type
//! (`float` or `double`) stored in the file (`float_data`, `double_data` or
//! little-endian `raw_data`; external data is refused). Values are kept
//! exactly: `float` widens to `f64` without rounding.
//!
//! `alpha` and `beta` other than 1 are folded into the weights (bias) only
//! when they are a signed power of two (or zero) and every product is exact
//! in the element type, so the folded layer computes the same real function
//! and rounds exactly like the node: power-of-two scaling commutes with
//! rounding. Anything else is refused rather than approximated.

use ndarray::{Array1, Array2};
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::{DataLocation, DataType};
use onnx_protobuf::tensor_shape_proto::dimension;
use onnx_protobuf::{type_proto, Message, ModelProto, NodeProto, TensorProto, ValueInfoProto};
use std::collections::HashMap;
use std::path::Path;

/// Oldest default-domain opset accepted: Gemm and Add broadcast since opset 7.
const MIN_OPSET: i64 = 7;

/// Element type of the model's tensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Element {
    /// 32-bit `float` (ONNX data type 1).
    F32,
    /// 64-bit `double` (ONNX data type 11).
    F64,
}

impl Element {
    /// The ONNX `TensorProto.DataType` code.
    fn code(self) -> i32 {
        match self {
            Element::F32 => DataType::FLOAT as i32,
            Element::F64 => DataType::DOUBLE as i32,
        }
    }

    /// Whether `x` is a value of this type (exactly).
    fn represents(self, x: f64) -> bool {
        match self {
            Element::F32 => f64::from(x as f32) == x,
            Element::F64 => true,
        }
    }
}

/// One affine layer `y = W x + b`, optionally followed by ReLU. Values are
/// exactly the stored ones (`f32` widened to `f64` exactly).
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// `out x in` weights.
    pub weight: Array2<f64>,
    /// `out` biases.
    pub bias: Array1<f64>,
    /// Whether a ReLU follows the affine map.
    pub relu: bool,
}

/// A model read from ONNX: input dimension, layers, element type, names and
/// metadata properties.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The `d` of the input `[batch, d]`.
    pub input_dim: usize,
    /// The layers, input first; never empty.
    pub layers: Vec<Layer>,
    /// Element type of every initializer (and of input and output).
    pub element: Element,
    /// Name of the graph input.
    pub input_name: String,
    /// Name of the graph output.
    pub output_name: String,
    /// `metadata_props`, in file order.
    pub metadata: Vec<(String, String)>,
}

/// Why a file is not a model this verifier understands.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The bytes are not an ONNX protobuf message.
    #[error("not an ONNX model: {0}")]
    Parse(String),
    /// The graph as a whole is not a chain this verifier reads.
    #[error("unsupported graph: {0}")]
    Graph(String),
    /// A node uses an operator outside Gemm, MatMul, Add and Relu.
    #[error("node #{index} `{name}`: operator `{op}` is not supported (expected Gemm, MatMul, Add or Relu)")]
    Operator {
        /// Position of the node in the graph's node list.
        index: usize,
        /// The node's name (or its first output when unnamed).
        name: String,
        /// `domain::op_type` or `op_type`.
        op: String,
    },
    /// A supported node is used in a way this verifier does not accept.
    #[error("node #{index} `{name}` ({op}): {message}")]
    Node {
        /// Position of the node in the graph's node list.
        index: usize,
        /// The node's name (or its first output when unnamed).
        name: String,
        /// Its operator.
        op: String,
        /// What was expected.
        message: String,
    },
    /// An initializer cannot be read.
    #[error("initializer `{name}`: {message}")]
    Tensor {
        /// The initializer's name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads a model from the bytes of an ONNX file.
pub fn read_model(bytes: &[u8]) -> Result<Model, ModelError> {
    let proto =
        ModelProto::parse_from_bytes(bytes).map_err(|e| ModelError::Parse(e.to_string()))?;
    // onnx.checker refuses a domain imported twice (`ai.onnx` is the default
    // domain's other name).
    let mut domains: Vec<&str> = Vec::new();
    for o in &proto.opset_import {
        let domain = if o.domain == "ai.onnx" {
            ""
        } else {
            o.domain.as_str()
        };
        if domains.contains(&domain) {
            return Err(graph(format!(
                "the opset domain `{}` is imported twice",
                if domain.is_empty() { "ai.onnx" } else { domain }
            )));
        }
        domains.push(domain);
    }
    match proto
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
    {
        None => return Err(graph("the model imports no default-domain opset")),
        Some(o) if o.version < MIN_OPSET => {
            return Err(graph(format!(
                "default-domain opset {} predates opset {MIN_OPSET} (broadcasting Gemm and Add)",
                o.version
            )))
        }
        Some(_) => {}
    }
    let g = proto
        .graph
        .as_ref()
        .ok_or_else(|| graph("the model has no graph"))?;
    if !g.sparse_initializer.is_empty() {
        return Err(graph("sparse initializers are not supported"));
    }
    let mut inits: HashMap<&str, &TensorProto> = HashMap::new();
    for t in &g.initializer {
        if inits.insert(t.name.as_str(), t).is_some() {
            return Err(graph(format!("two initializers are named `{}`", t.name)));
        }
    }
    let element = common_element(&g.initializer)?;

    let inputs: Vec<&ValueInfoProto> = g
        .input
        .iter()
        .filter(|v| !inits.contains_key(v.name.as_str()))
        .collect();
    let [input] = inputs[..] else {
        return Err(graph(format!(
            "the graph has {} inputs besides initializers, expected 1",
            inputs.len()
        )));
    };
    let [output] = &g.output[..] else {
        return Err(graph(format!(
            "the graph has {} outputs, expected 1",
            g.output.len()
        )));
    };
    let declared_in = declared_width(input, element, "input")?;
    let declared_out = declared_width(output, element, "output")?;

    // Producers: every value is written once (ONNX graphs are in SSA form).
    let mut produced: HashMap<&str, usize> = HashMap::new();
    for (index, node) in g.node.iter().enumerate() {
        for out in &node.output {
            if out.is_empty() {
                continue;
            }
            if out == &input.name || inits.contains_key(out.as_str()) {
                return Err(graph(format!(
                    "node #{index} overwrites `{out}`, a graph input or initializer"
                )));
            }
            if produced.insert(out.as_str(), index).is_some() {
                return Err(graph(format!("`{out}` is produced by two nodes")));
            }
        }
    }
    // Every operand must be the input, an initializer or some node's output.
    for (index, node) in g.node.iter().enumerate() {
        for name in node.input.iter().filter(|n| !n.is_empty()) {
            if name != &input.name
                && !inits.contains_key(name.as_str())
                && !produced.contains_key(name.as_str())
            {
                return Err(node_error(
                    index,
                    node,
                    format!(
                        "operand `{name}` is not the graph input, an initializer or a node output"
                    ),
                ));
            }
        }
    }

    // Follow the data flow from the input to the output.
    let mut chain = Chain {
        width: declared_in,
        layers: Vec::new(),
        last: Last::Input,
        element,
        inits: &inits,
    };
    // The nodes reading each value, in node order, each once.
    let mut readers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, node) in g.node.iter().enumerate() {
        for name in &node.input {
            let list = readers.entry(name.as_str()).or_default();
            if list.last() != Some(&index) {
                list.push(index);
            }
        }
    }
    let mut current = input.name.clone();
    let mut visited = vec![false; g.node.len()];
    loop {
        let consumers: &[usize] = readers.get(current.as_str()).map_or(&[], Vec::as_slice);
        match *consumers {
            [] if current == output.name => break,
            [] => {
                return Err(graph(format!(
                    "`{current}` is used by no node and is not the graph output `{}`",
                    output.name
                )))
            }
            [_] if current == output.name => {
                return Err(graph(format!(
                    "the graph output `{current}` is also used by a node: only chains are supported"
                )))
            }
            [index] => {
                if visited[index] {
                    return Err(graph(format!("node #{index} is reached twice (a cycle)")));
                }
                visited[index] = true;
                let node = &g.node[index];
                chain.apply(index, node, &current)?;
                current = node.output[0].clone();
            }
            _ => {
                return Err(graph(format!(
                    "`{current}` is used by {} nodes (#{}): only chains are supported",
                    consumers.len(),
                    consumers
                        .iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(", #")
                )))
            }
        }
    }
    if let Some(index) = visited.iter().position(|v| !v) {
        return Err(node_error(
            index,
            &g.node[index],
            "the node is not on the chain from the graph input to the graph output".to_string(),
        ));
    }
    let input_dim = match chain.layers.first() {
        None => return Err(graph("the graph has no affine layer")),
        Some(first) => first.weight.ncols(),
    };
    let outputs = chain.width.unwrap_or(0);
    if let Some(n) = declared_out.filter(|&n| n != outputs) {
        return Err(graph(format!(
            "the output `{}` is declared with {n} columns, the layers give {outputs}",
            output.name
        )));
    }
    Ok(Model {
        input_dim,
        layers: chain.layers,
        element,
        input_name: input.name.clone(),
        output_name: output.name.clone(),
        metadata: proto
            .metadata_props
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect(),
    })
}

/// Reads a model from an ONNX file.
pub fn read_model_file(path: &Path) -> Result<Model, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.display().to_string(),
        source,
    })?;
    read_model(&bytes)
}

impl Model {
    /// The network's output at `x`, in plain (round-to-nearest) `f64`
    /// arithmetic: for tests and for checking counterexamples, not a bound.
    ///
    /// # Panics
    /// If `x.len() != self.input_dim`.
    pub fn evaluate_f64(&self, x: &[f64]) -> Vec<f64> {
        assert_eq!(x.len(), self.input_dim, "input of the wrong length");
        self.forward(
            x.to_vec(),
            |row, b, v| row.iter().zip(v).fold(b, |s, (w, x)| s + w * x),
            |y| y.max(0.0),
        )
    }

    /// The network's output in float32 arithmetic: the input rounded to
    /// float32, each product and sum rounded to float32, in weight order,
    /// then the bias added (one summation order among those a runtime may
    /// use; not a bound).
    ///
    /// # Panics
    /// If `x.len() != self.input_dim`.
    pub fn evaluate_f32(&self, x: &[f64]) -> Vec<f64> {
        assert_eq!(x.len(), self.input_dim, "input of the wrong length");
        let out = self.forward(
            x.iter().map(|&a| a as f32).collect(),
            |row, b, v| {
                let acc = row
                    .iter()
                    .zip(v)
                    .fold(0.0f32, |s, (&w, &a)| s + (w as f32) * a);
                acc + b as f32
            },
            |y| y.max(0.0),
        );
        out.into_iter().map(f64::from).collect()
    }

    /// Runs the layers on `input`: `row(weights, bias, previous values)`
    /// computes one neuron's affine value and `relu` applies the activation
    /// on the layers that have one. The evaluators of every arithmetic
    /// (f64, f32, intervals) share it.
    pub fn forward<T>(
        &self,
        input: Vec<T>,
        row: impl Fn(ndarray::ArrayView1<f64>, f64, &[T]) -> T,
        relu: impl Fn(T) -> T,
    ) -> Vec<T> {
        let mut v = input;
        for layer in &self.layers {
            v = layer
                .weight
                .rows()
                .into_iter()
                .zip(&layer.bias)
                .map(|(weights, &b)| {
                    let y = row(weights, b, &v);
                    if layer.relu {
                        relu(y)
                    } else {
                        y
                    }
                })
                .collect();
        }
        v
    }

    /// Number of outputs (rows of the last layer).
    pub fn outputs(&self) -> usize {
        self.layers
            .last()
            .map_or(self.input_dim, |l| l.weight.nrows())
    }

    /// The value of metadata property `key`, if present.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn graph(message: impl Into<String>) -> ModelError {
    ModelError::Graph(message.into())
}

/// A node's name, or its first output when unnamed.
fn node_name(node: &NodeProto) -> String {
    if node.name.is_empty() {
        node.output.first().cloned().unwrap_or_default()
    } else {
        node.name.clone()
    }
}

fn node_error(index: usize, node: &NodeProto, message: String) -> ModelError {
    ModelError::Node {
        index,
        name: node_name(node),
        op: node.op_type.clone(),
        message,
    }
}

fn tensor_error(tensor: &TensorProto, message: String) -> ModelError {
    ModelError::Tensor {
        name: tensor.name.clone(),
        message,
    }
}

/// The element type shared by all initializers (`F32` for none).
fn common_element(initializers: &[TensorProto]) -> Result<Element, ModelError> {
    let mut found: Option<Element> = None;
    for t in initializers {
        let this = match t.data_type {
            x if x == DataType::FLOAT as i32 => Element::F32,
            x if x == DataType::DOUBLE as i32 => Element::F64,
            other => {
                return Err(tensor_error(
                    t,
                    format!("element type {other}, expected float (1) or double (11)"),
                ))
            }
        };
        if found.is_some_and(|e| e != this) {
            return Err(graph("initializers mix float and double"));
        }
        found = Some(this);
    }
    Ok(found.unwrap_or(Element::F32))
}

/// The static width `n` of a value declared `[batch, n]` (None when not
/// declared); checks the rank and the element type.
fn declared_width(
    value: &ValueInfoProto,
    element: Element,
    what: &str,
) -> Result<Option<usize>, ModelError> {
    let Some(type_proto::Value::TensorType(tensor)) =
        value.type_.as_ref().and_then(|t| t.value.as_ref())
    else {
        return Ok(None);
    };
    if tensor.elem_type != 0 && tensor.elem_type != element.code() {
        return Err(graph(format!(
            "{what} `{}` has element type {}, the initializers {} ({element:?})",
            value.name,
            tensor.elem_type,
            element.code()
        )));
    }
    let Some(shape) = tensor.shape.as_ref() else {
        return Ok(None);
    };
    if shape.dim.len() != 2 {
        return Err(graph(format!(
            "{what} `{}` has rank {}, expected [batch, n]",
            value.name,
            shape.dim.len()
        )));
    }
    match shape.dim[1].value {
        Some(dimension::Value::DimValue(n)) if n > 0 => Ok(usize::try_from(n).ok()),
        Some(dimension::Value::DimValue(n)) => {
            Err(graph(format!("{what} `{}` has {n} columns", value.name)))
        }
        _ => Ok(None),
    }
}

/// The dimensions and values of an initializer, exactly, as `f64`.
fn tensor_values(t: &TensorProto, element: Element) -> Result<(Vec<usize>, Vec<f64>), ModelError> {
    if t.data_location.value() == DataLocation::EXTERNAL as i32 || !t.external_data.is_empty() {
        return Err(tensor_error(
            t,
            "uses external data; only weights stored in the file are read".to_string(),
        ));
    }
    if t.segment.is_some() {
        return Err(tensor_error(t, "is a segment of a tensor".to_string()));
    }
    let dims = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|_| tensor_error(t, format!("negative dimension in {:?}", t.dims)))?;
    let count = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| tensor_error(t, format!("shape {dims:?} is too large")))?;
    let typed = match element {
        Element::F32 => t.float_data.len(),
        Element::F64 => t.double_data.len(),
    };
    if !t.raw_data.is_empty() && typed > 0 {
        return Err(tensor_error(
            t,
            "has both raw_data and typed data".to_string(),
        ));
    }
    let values: Vec<f64> = if t.raw_data.is_empty() {
        match element {
            Element::F32 => t.float_data.iter().map(|&x| f64::from(x)).collect(),
            Element::F64 => t.double_data.clone(),
        }
    } else {
        let size = match element {
            Element::F32 => 4,
            Element::F64 => 8,
        };
        if t.raw_data.len() != count.saturating_mul(size) {
            return Err(tensor_error(
                t,
                format!(
                    "raw_data has {} bytes, shape {dims:?} needs {}",
                    t.raw_data.len(),
                    count.saturating_mul(size)
                ),
            ));
        }
        match element {
            Element::F32 => t
                .raw_data
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
            Element::F64 => t
                .raw_data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        }
    };
    if values.len() != count {
        return Err(tensor_error(
            t,
            format!("{} values for shape {dims:?}", values.len()),
        ));
    }
    if let Some(bad) = values.iter().find(|x| !x.is_finite()) {
        return Err(tensor_error(t, format!("holds the non-finite value {bad}")));
    }
    Ok((dims, values))
}

/// What the chain's current value is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    /// The graph input.
    Input,
    /// A MatMul's result, which an `Add` may still give a bias.
    MatMul,
    /// A Gemm's or an Add's result.
    Affine,
    /// A ReLU's result.
    Relu,
}

/// The layers read so far.
struct Chain<'a> {
    /// Width of the current value, once known.
    width: Option<usize>,
    layers: Vec<Layer>,
    last: Last,
    element: Element,
    inits: &'a HashMap<&'a str, &'a TensorProto>,
}

impl Chain<'_> {
    /// Reads node `node` (#`index`), whose operand `current` is the chain's value.
    fn apply(&mut self, index: usize, node: &NodeProto, current: &str) -> Result<(), ModelError> {
        let fail = |message: String| node_error(index, node, message);
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(ModelError::Operator {
                index,
                name: node_name(node),
                op: format!("{}::{}", node.domain, node.op_type),
            });
        }
        if !matches!(node.op_type.as_str(), "Gemm" | "MatMul" | "Add" | "Relu") {
            return Err(ModelError::Operator {
                index,
                name: node_name(node),
                op: node.op_type.clone(),
            });
        }
        if node.output.len() != 1 || node.output[0].is_empty() {
            return Err(fail(format!("{} outputs, expected 1", node.output.len())));
        }
        for (k, a) in node.attribute.iter().enumerate() {
            if node.attribute[..k].iter().any(|b| b.name == a.name) {
                return Err(fail(format!("attribute `{}` is given twice", a.name)));
            }
        }
        let operands: Vec<&str> = node.input.iter().map(String::as_str).collect();
        let uses = operands.iter().filter(|&&o| o == current).count();
        if uses != 1 {
            return Err(fail(format!(
                "uses `{current}` {uses} times, expected once"
            )));
        }
        match node.op_type.as_str() {
            "Gemm" => self.gemm(node, &operands, current, &fail),
            "MatMul" => {
                let [a, b] = operands[..] else {
                    return Err(fail(format!("{} inputs, expected 2", operands.len())));
                };
                if a != current {
                    return Err(fail(format!(
                        "`{current}` must be the first operand (x W with W an initializer)"
                    )));
                }
                no_attributes(node, &fail)?;
                let (rows, cols, values) = self.matrix(b, &fail)?;
                let w = Array2::from_shape_vec((rows, cols), values)
                    .map_err(|e| fail(e.to_string()))?;
                self.push(w.t().to_owned(), Array1::zeros(cols), &fail)?;
                self.last = Last::MatMul;
                Ok(())
            }
            "Add" => {
                let [a, b] = operands[..] else {
                    return Err(fail(format!("{} inputs, expected 2", operands.len())));
                };
                if self.last != Last::MatMul {
                    return Err(fail(
                        "an Add must directly follow a MatMul (as its bias)".to_string(),
                    ));
                }
                no_attributes(node, &fail)?;
                let constant = if a == current { b } else { a };
                let width = self.width.unwrap_or(0);
                let bias = self.bias(constant, width, &fail)?;
                let layer = self
                    .layers
                    .last_mut()
                    .ok_or_else(|| fail("no layer".into()))?;
                layer.bias = bias;
                self.last = Last::Affine;
                Ok(())
            }
            _ => {
                if operands.len() != 1 {
                    return Err(fail(format!("{} inputs, expected 1", operands.len())));
                }
                no_attributes(node, &fail)?;
                match self.last {
                    Last::Input => Err(fail(
                        "a Relu must follow an affine node (Gemm, MatMul or Add)".to_string(),
                    )),
                    Last::Relu => Ok(()), // relu(relu(x)) = relu(x)
                    Last::MatMul | Last::Affine => {
                        if let Some(layer) = self.layers.last_mut() {
                            layer.relu = true;
                        }
                        self.last = Last::Relu;
                        Ok(())
                    }
                }
            }
        }
    }

    fn gemm(
        &mut self,
        node: &NodeProto,
        operands: &[&str],
        current: &str,
        fail: &dyn Fn(String) -> ModelError,
    ) -> Result<(), ModelError> {
        let (a, b, c) = match operands {
            [a, b] => (*a, *b, None),
            [a, b, ""] => (*a, *b, None),
            [a, b, c] => (*a, *b, Some(*c)),
            _ => return Err(fail(format!("{} inputs, expected 2 or 3", operands.len()))),
        };
        if a != current {
            return Err(fail(format!(
                "`{current}` must be the first operand A (B and C are initializers)"
            )));
        }
        let mut alpha = 1.0;
        let mut beta = 1.0;
        let mut trans_b = false;
        for attribute in &node.attribute {
            let expected = match attribute.name.as_str() {
                "alpha" | "beta" => AttributeType::FLOAT,
                _ => AttributeType::INT,
            };
            if attribute.type_.enum_value() != Ok(expected) || !attribute.ref_attr_name.is_empty() {
                return Err(fail(format!(
                    "attribute `{}` must be a literal {expected:?}",
                    attribute.name
                )));
            }
            match attribute.name.as_str() {
                "alpha" => alpha = f64::from(attribute.f),
                "beta" => beta = f64::from(attribute.f),
                "transA" if attribute.i != 0 => {
                    return Err(fail(format!(
                        "transA = {}: the input [batch, in] must not be transposed (expected 0)",
                        attribute.i
                    )))
                }
                "transA" => {}
                "transB" => match attribute.i {
                    0 => trans_b = false,
                    1 => trans_b = true,
                    other => return Err(fail(format!("transB = {other}, expected 0 or 1"))),
                },
                other => return Err(fail(format!("unknown Gemm attribute `{other}`"))),
            }
        }
        let (rows, cols, values) = self.matrix(b, fail)?;
        let b_matrix =
            Array2::from_shape_vec((rows, cols), values).map_err(|e| fail(e.to_string()))?;
        let mut weight = if trans_b {
            b_matrix
        } else {
            b_matrix.t().to_owned()
        };
        self.fold(&mut weight, alpha, "alpha", fail)?;
        let n = weight.nrows();
        let mut bias = match c {
            None => Array1::zeros(n),
            Some(c) => self.bias(c, n, fail)?,
        };
        self.fold(&mut bias, beta, "beta", fail)?;
        self.push(weight, bias, fail)?;
        self.last = Last::Affine;
        Ok(())
    }

    /// Multiplies `values` by `factor` when that is exact (see the module doc).
    fn fold<D: ndarray::Dimension>(
        &self,
        values: &mut ndarray::Array<f64, D>,
        factor: f64,
        what: &str,
        fail: &dyn Fn(String) -> ModelError,
    ) -> Result<(), ModelError> {
        if factor == 1.0 {
            return Ok(());
        }
        let power_of_two = factor == 0.0 || {
            let m = factor.abs();
            m.is_finite() && m.to_bits() & ((1u64 << 52) - 1) == 0 && m >= f64::MIN_POSITIVE
        };
        if !power_of_two {
            return Err(fail(format!(
                "{what} = {factor} is not a power of two: folding it into the weights would round; refused"
            )));
        }
        for v in values.iter_mut() {
            let scaled = *v * factor;
            // Exact iff dividing back recovers the value and the element type holds it.
            if !(scaled.is_finite() && (factor == 0.0 || scaled / factor == *v))
                || !self.element.represents(scaled)
            {
                return Err(fail(format!(
                    "{what} = {factor} times the stored value {v} is not exact in {:?}; refused",
                    self.element
                )));
            }
            *v = scaled;
        }
        Ok(())
    }

    /// A 2-D initializer `name`: rows, columns, row-major values.
    fn matrix(
        &self,
        name: &str,
        fail: &dyn Fn(String) -> ModelError,
    ) -> Result<(usize, usize, Vec<f64>), ModelError> {
        let t = self.initializer(name, fail)?;
        let (dims, values) = tensor_values(t, self.element)?;
        match dims[..] {
            [rows, cols] => Ok((rows, cols, values)),
            _ => Err(fail(format!(
                "the weight `{name}` has shape {dims:?}, expected a matrix"
            ))),
        }
    }

    /// A bias initializer broadcast to length `n`.
    fn bias(
        &self,
        name: &str,
        n: usize,
        fail: &dyn Fn(String) -> ModelError,
    ) -> Result<Array1<f64>, ModelError> {
        let t = self.initializer(name, fail)?;
        let (dims, values) = tensor_values(t, self.element)?;
        match dims[..] {
            [m] | [1, m] if m == n => Ok(Array1::from(values)),
            [] | [1] | [1, 1] => Ok(Array1::from_elem(n, values[0])),
            _ => Err(fail(format!(
                "the bias `{name}` has shape {dims:?}, which does not broadcast to [batch, {n}] (expected [{n}] or [1, {n}])"
            ))),
        }
    }

    fn initializer(
        &self,
        name: &str,
        fail: &dyn Fn(String) -> ModelError,
    ) -> Result<&TensorProto, ModelError> {
        self.inits.get(name).copied().ok_or_else(|| {
            fail(format!(
                "operand `{name}` is not an initializer (weights must be constants)"
            ))
        })
    }

    /// Appends the layer `x -> weight x + bias`, checking that it chains.
    fn push(
        &mut self,
        weight: Array2<f64>,
        bias: Array1<f64>,
        fail: &dyn Fn(String) -> ModelError,
    ) -> Result<(), ModelError> {
        if let Some(width) = self.width.filter(|&w| w != weight.ncols()) {
            return Err(fail(format!(
                "the weight takes {} inputs, the previous value has {width}",
                weight.ncols()
            )));
        }
        self.width = Some(weight.nrows());
        self.layers.push(Layer {
            // Row-major, so that each neuron's weights are one slice.
            weight: weight.as_standard_layout().into_owned(),
            bias,
            relu: false,
        });
        Ok(())
    }
}

/// Refuses attributes on nodes that have none.
fn no_attributes(node: &NodeProto, fail: &dyn Fn(String) -> ModelError) -> Result<(), ModelError> {
    match node.attribute.first() {
        Some(a) => Err(fail(format!("unexpected attribute `{}`", a.name))),
        None => Ok(()),
    }
}
