//! The ONNX writer.
//!
//! Everything but the weights is built with the generated `onnx_protobuf`
//! types; initializers' `raw_data` is streamed straight from the network's
//! arrays into the output (see [`super::encode`]), so writing a model with
//! tens of millions of parameters copies each weight once. Fields are emitted
//! in the order `onnx.proto` declares them, as protobuf libraries do, so the
//! bytes are exactly what rust-protobuf produces for the whole model (a test
//! checks this), and the same network and options always give the same bytes.

use super::encode::{len_field_overhead, write_len_field_header};
use super::{
    output_name, OnnxError, OnnxOptions, BATCH_DIM, INPUT_NAME, IR_VERSION, OPSET_VERSION,
};
use crate::ir::layers::{Activation, LayerNetwork};
use crate::spec::{OutputKind, Precision};
use ndarray::ArrayView1;
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::type_proto::{self, Tensor as TensorType};
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// `ModelProto.graph`.
const MODEL_GRAPH_FIELD: u32 = 7;
/// `GraphProto.initializer`.
const GRAPH_INITIALIZER_FIELD: u32 = 5;
/// `TensorProto.raw_data`.
const TENSOR_RAW_DATA_FIELD: u32 = 9;

/// ONNX element type of a precision.
fn data_type(precision: Precision) -> DataType {
    match precision {
        Precision::F32 => DataType::FLOAT,
        Precision::F64 => DataType::DOUBLE,
    }
}

/// Bytes per element of a precision.
fn element_size(precision: Precision) -> usize {
    match precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    }
}

/// protobuf's limit on one message (2 GiB - 1 bytes): no reader accepts
/// a larger ONNX file with its weights inside.
const MAX_MODEL_BYTES: u64 = (1 << 31) - 1;

/// One initializer: its encoded header fields and where its data comes from.
struct Initializer<'a> {
    /// `dims`, `data_type` and `name`, encoded.
    head: Vec<u8>,
    /// The values, in row-major order.
    values: Values<'a>,
    /// Number of values.
    count: usize,
}

/// The source of an initializer's values.
enum Values<'a> {
    /// A weight matrix, written row-major (`[out, in]`).
    Matrix(ndarray::ArrayView2<'a, f64>),
    /// A bias vector.
    Vector(ArrayView1<'a, f64>),
}

impl Initializer<'_> {
    /// Length of `raw_data`.
    fn data_len(&self, precision: Precision) -> usize {
        self.count * element_size(precision)
    }

    /// Length of the encoded `TensorProto`.
    fn message_len(&self, precision: Precision) -> usize {
        let data = self.data_len(precision);
        self.head.len() + len_field_overhead(TENSOR_RAW_DATA_FIELD, data) + data
    }

    /// Length of the `GraphProto.initializer` field holding it.
    fn field_len(&self, precision: Precision) -> usize {
        let message = self.message_len(precision);
        len_field_overhead(GRAPH_INITIALIZER_FIELD, message) + message
    }
}

/// A model ready to be written: small parts encoded, weights borrowed.
struct Plan<'a> {
    precision: Precision,
    /// `ModelProto` IR version, opset import and producer.
    model_head: Vec<u8>,
    /// `GraphProto` nodes and name.
    graph_head: Vec<u8>,
    initializers: Vec<Initializer<'a>>,
    /// `GraphProto` input and output.
    graph_tail: Vec<u8>,
    /// `ModelProto` metadata properties.
    model_tail: Vec<u8>,
}

impl<'a> Plan<'a> {
    fn new(net: &'a LayerNetwork, options: &OnnxOptions) -> Result<Self, OnnxError> {
        net.validate()?;
        if options.output == OutputKind::Label && net.output_dim() != 1 {
            return Err(OnnxError::LabelOutputWidth {
                outputs: net.output_dim(),
            });
        }
        if options.precision == Precision::F32 {
            check_f32_range(net)?;
        }
        let elem = data_type(options.precision);
        let output = output_name(options.output);

        let model_head = ModelProto {
            ir_version: IR_VERSION,
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: OPSET_VERSION,
                ..Default::default()
            }],
            producer_name: "robmem".to_string(),
            producer_version: env!("CARGO_PKG_VERSION").to_string(),
            ..Default::default()
        }
        .write_to_bytes()?;

        let graph_head = GraphProto {
            node: nodes(net, output),
            name: options.graph_name.clone(),
            ..Default::default()
        }
        .write_to_bytes()?;

        let mut initializers = Vec::with_capacity(2 * net.layers.len());
        for (k, layer) in net.layers.iter().enumerate() {
            let weight = TensorProto {
                dims: vec![layer.outputs() as i64, layer.inputs() as i64],
                data_type: elem as i32,
                name: format!("layer{k}.weight"),
                ..Default::default()
            };
            initializers.push(Initializer {
                head: weight.write_to_bytes()?,
                values: Values::Matrix(layer.weight.view()),
                count: layer.weight.len(),
            });
            let bias = TensorProto {
                dims: vec![layer.outputs() as i64],
                data_type: elem as i32,
                name: format!("layer{k}.bias"),
                ..Default::default()
            };
            initializers.push(Initializer {
                head: bias.write_to_bytes()?,
                values: Values::Vector(layer.bias.view()),
                count: layer.bias.len(),
            });
        }

        let graph_tail = GraphProto {
            input: vec![value_info(INPUT_NAME, elem, net.input_dim)],
            output: vec![value_info(output, elem, net.output_dim())],
            ..Default::default()
        }
        .write_to_bytes()?;

        let model_tail = ModelProto {
            metadata_props: options
                .metadata
                .iter()
                .map(|(key, value)| StringStringEntryProto {
                    key: key.clone(),
                    value: value.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .write_to_bytes()?;

        Ok(Plan {
            precision: options.precision,
            model_head,
            graph_head,
            initializers,
            graph_tail,
            model_tail,
        })
    }

    /// Length of the encoded `GraphProto`.
    fn graph_len(&self) -> usize {
        let initializers: usize = self
            .initializers
            .iter()
            .map(|init| init.field_len(self.precision))
            .sum();
        self.graph_head.len() + initializers + self.graph_tail.len()
    }

    /// Length of the whole file.
    fn total_len(&self) -> usize {
        let graph = self.graph_len();
        self.model_head.len()
            + len_field_overhead(MODEL_GRAPH_FIELD, graph)
            + graph
            + self.model_tail.len()
    }

    /// Fails with [`OnnxError::TooLarge`] above protobuf's 2 GiB limit.
    fn within_limit(self) -> Result<Self, OnnxError> {
        let bytes = self.total_len() as u64;
        if bytes > MAX_MODEL_BYTES {
            return Err(OnnxError::TooLarge { bytes });
        }
        Ok(self)
    }

    /// Writes the model.
    fn write(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&self.model_head)?;
        write_len_field_header(out, MODEL_GRAPH_FIELD, self.graph_len())?;
        out.write_all(&self.graph_head)?;
        for init in &self.initializers {
            write_len_field_header(
                out,
                GRAPH_INITIALIZER_FIELD,
                init.message_len(self.precision),
            )?;
            out.write_all(&init.head)?;
            write_len_field_header(out, TENSOR_RAW_DATA_FIELD, init.data_len(self.precision))?;
            match &init.values {
                Values::Matrix(m) => write_raw(out, m.iter().copied(), self.precision)?,
                Values::Vector(v) => write_raw(out, v.iter().copied(), self.precision)?,
            }
            crate::progress::tick(init.field_len(self.precision) as u64);
        }
        out.write_all(&self.graph_tail)?;
        out.write_all(&self.model_tail)
    }
}

/// Fails if a parameter rounds to an infinite `f32`.
fn check_f32_range(net: &LayerNetwork) -> Result<(), OnnxError> {
    for (layer, dense) in net.layers.iter().enumerate() {
        let fits = dense
            .weight
            .iter()
            .chain(dense.bias.iter())
            .all(|&x| (x as f32).is_finite());
        if !fits {
            return Err(OnnxError::F32Overflow { layer });
        }
    }
    Ok(())
}

/// Writes values little-endian at the given precision, through a small buffer.
fn write_raw(
    out: &mut impl Write,
    values: impl Iterator<Item = f64>,
    precision: Precision,
) -> io::Result<()> {
    const CHUNK: usize = 8192;
    let mut buf = Vec::with_capacity(CHUNK + 8);
    for x in values {
        match precision {
            Precision::F32 => buf.extend_from_slice(&(x as f32).to_le_bytes()),
            Precision::F64 => buf.extend_from_slice(&x.to_le_bytes()),
        }
        if buf.len() >= CHUNK {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)
}

/// The `Gemm` (and `Relu`) nodes of every layer, in order.
fn nodes(net: &LayerNetwork, output: &str) -> Vec<NodeProto> {
    let last = net.layers.len() - 1;
    let mut nodes = Vec::with_capacity(2 * net.layers.len());
    let mut current = INPUT_NAME.to_string();
    for (k, layer) in net.layers.iter().enumerate() {
        let result = if k == last {
            output.to_string()
        } else {
            format!("layer{k}.out")
        };
        let relu = layer.activation == Activation::Relu;
        let linear = if relu {
            format!("layer{k}.linear")
        } else {
            result.clone()
        };
        nodes.push(NodeProto {
            input: vec![
                current,
                format!("layer{k}.weight"),
                format!("layer{k}.bias"),
            ],
            output: vec![linear.clone()],
            name: format!("layer{k}.gemm"),
            op_type: "Gemm".to_string(),
            attribute: vec![AttributeProto {
                name: "transB".to_string(),
                type_: AttributeType::INT.into(),
                i: 1,
                ..Default::default()
            }],
            ..Default::default()
        });
        if relu {
            nodes.push(NodeProto {
                input: vec![linear],
                output: vec![result.clone()],
                name: format!("layer{k}.relu"),
                op_type: "Relu".to_string(),
                ..Default::default()
            });
        }
        current = result;
    }
    nodes
}

/// A `[batch, width]` tensor value of element type `elem`.
fn value_info(name: &str, elem: DataType, width: usize) -> ValueInfoProto {
    let dims = vec![
        Dimension {
            value: Some(dimension::Value::DimParam(BATCH_DIM.to_string())),
            ..Default::default()
        },
        Dimension {
            value: Some(dimension::Value::DimValue(width as i64)),
            ..Default::default()
        },
    ];
    ValueInfoProto {
        name: name.to_string(),
        type_: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(TensorType {
                elem_type: elem as i32,
                shape: Some(TensorShapeProto {
                    dim: dims,
                    ..Default::default()
                })
                .into(),
                ..Default::default()
            })),
            ..Default::default()
        })
        .into(),
        ..Default::default()
    }
}

/// Encodes `net` as an ONNX model in memory.
///
/// Fails if the network is invalid, if a `label` output is asked for a network
/// without exactly one output, or if an `f32` model would overflow.
pub fn write_onnx(net: &LayerNetwork, options: &OnnxOptions) -> Result<Vec<u8>, OnnxError> {
    let plan = Plan::new(net, options)?.within_limit()?;
    let mut out = Vec::with_capacity(plan.total_len());
    plan.write(&mut out)?;
    debug_assert_eq!(out.len(), plan.total_len());
    Ok(out)
}

/// Streams the ONNX encoding of `net` to `out` (no in-memory copy of the file).
pub fn write_onnx_to(
    net: &LayerNetwork,
    options: &OnnxOptions,
    out: &mut impl Write,
) -> Result<(), OnnxError> {
    Plan::new(net, options)?.within_limit()?.write(out)?;
    Ok(())
}

/// Writes `net` to `path` atomically: to a temporary file in the same folder,
/// synced, then renamed over `path`, so that `path` never holds a partial
/// model. The temporary file is removed on failure.
pub fn save_onnx(net: &LayerNetwork, options: &OnnxOptions, path: &Path) -> Result<(), OnnxError> {
    let io_error = |source| OnnxError::Io {
        path: path.display().to_string(),
        source,
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| io_error(io::Error::other("the path has no file name")))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let result = write_onnx_file(net, options, &temp)
        .and_then(|()| std::fs::rename(&temp, path).map_err(io_error));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Writes `net` to the file `path` (created or truncated) and syncs it, with
/// a progress bar. Not atomic: for a path that is itself a temporary name
/// (see `backend::staging`); [`save_onnx`] is the atomic form.
pub fn write_onnx_file(
    net: &LayerNetwork,
    options: &OnnxOptions,
    path: &Path,
) -> Result<(), OnnxError> {
    let plan = Plan::new(net, options)?.within_limit()?;
    let _phase = crate::progress::phase("write onnx", Some(plan.total_len() as u64));
    let io_error = |source| OnnxError::Io {
        path: path.display().to_string(),
        source,
    };
    crate::backend::staging::guarded(|| {
        let file = std::fs::File::create(path)?;
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        plan.write(&mut writer)?;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    })
    .map_err(io_error)
}
