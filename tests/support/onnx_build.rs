//! Hand-built ONNX models for the reader tests: value infos, tensors in each
//! storage, nodes with attributes, and whole models as bytes.

use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::type_proto::{self, Tensor as TensorType};
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

/// A `[batch, width]` tensor value of element type `element`.
pub fn value(name: &str, width: i64, element: DataType) -> ValueInfoProto {
    let dims = [
        dimension::Value::DimParam("batch".into()),
        dimension::Value::DimValue(width),
    ]
    .into_iter()
    .map(|v| Dimension {
        value: Some(v),
        ..Default::default()
    })
    .collect();
    let tensor = TensorType {
        elem_type: element as i32,
        shape: Some(TensorShapeProto {
            dim: dims,
            ..Default::default()
        })
        .into(),
        ..Default::default()
    };
    ValueInfoProto {
        name: name.into(),
        type_: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(tensor)),
            ..Default::default()
        })
        .into(),
        ..Default::default()
    }
}

/// A float tensor in `float_data`.
pub fn floats(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::FLOAT as i32,
        float_data: data.to_vec(),
        ..Default::default()
    }
}

/// The same tensor in little-endian `raw_data`.
pub fn raw_floats(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::FLOAT as i32,
        raw_data: data.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// A double tensor in `double_data`.
pub fn doubles(name: &str, dims: &[i64], data: &[f64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::DOUBLE as i32,
        double_data: data.to_vec(),
        ..Default::default()
    }
}

/// A node with one output and no attributes.
pub fn node(name: &str, op: &str, inputs: &[&str], output: &str) -> NodeProto {
    NodeProto {
        name: name.into(),
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        ..Default::default()
    }
}

/// `node` with float and integer attributes.
pub fn with_attributes(node: NodeProto, floats: &[(&str, f32)], ints: &[(&str, i64)]) -> NodeProto {
    let mut attribute: Vec<AttributeProto> = floats
        .iter()
        .map(|&(name, f)| AttributeProto {
            name: name.into(),
            type_: AttributeType::FLOAT.into(),
            f,
            ..Default::default()
        })
        .collect();
    attribute.extend(ints.iter().map(|&(name, i)| AttributeProto {
        name: name.into(),
        type_: AttributeType::INT.into(),
        i,
        ..Default::default()
    }));
    NodeProto { attribute, ..node }
}

/// An opset-13 model with input `x` of width `d` and output `out` (name,
/// width), both of element type `element`, and one metadata entry.
pub fn model_bytes(
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    d: i64,
    out: (&str, i64),
    element: DataType,
) -> Vec<u8> {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            version: 13,
            ..Default::default()
        }],
        metadata_props: vec![StringStringEntryProto {
            key: "k".into(),
            value: "v".into(),
            ..Default::default()
        }],
        graph: Some(GraphProto {
            node: nodes,
            initializer: inits,
            input: vec![value("x", d, element)],
            output: vec![value(out.0, out.1, element)],
            ..Default::default()
        })
        .into(),
        ..Default::default()
    }
    .write_to_bytes()
    .unwrap()
}

/// `model_bytes` with float32 input and output.
pub fn float_model(
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    d: i64,
    out: (&str, i64),
) -> Vec<u8> {
    model_bytes(nodes, inits, d, out, DataType::FLOAT)
}
