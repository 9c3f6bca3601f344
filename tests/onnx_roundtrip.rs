//! The ONNX writer's format, determinism and round trip through the reader.

use ndarray::{array, Array1, Array2};
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::tensor_shape_proto::dimension::Value as Dim;
use onnx_protobuf::type_proto::Value as TypeValue;
use onnx_protobuf::{Message, ModelProto, ValueInfoProto};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::backend::onnx::{
    read_onnx, read_onnx_file, save_onnx, write_onnx, write_onnx_to, OnnxError, OnnxOptions,
};
use robmem::ir::layers::{Activation, Dense, LayerNetwork, Role};
use robmem::spec::{OutputKind, Precision};
use std::collections::HashSet;

/// A random network mixing ReLU and identity hidden layers.
fn network(seed: u64, dims: &[usize]) -> LayerNetwork {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let layers = dims
        .windows(2)
        .enumerate()
        .map(|(k, w)| {
            let last = k + 2 == dims.len();
            Dense {
                weight: Array2::from_shape_fn((w[1], w[0]), |_| rng.gen_range(-1.0..1.0)),
                bias: Array1::from_shape_fn(w[1], |_| rng.gen_range(-1.0..1.0)),
                activation: if last || k % 3 == 2 {
                    Activation::Identity
                } else {
                    Activation::Relu
                },
                roles: if last {
                    (0..w[1]).map(|index| Role::Output { index }).collect()
                } else {
                    vec![Role::Projected { coordinate: 0 }; w[1]]
                },
            }
        })
        .collect();
    LayerNetwork {
        input_dim: dims[0],
        layers,
    }
}

fn options(precision: Precision) -> OnnxOptions {
    OnnxOptions {
        precision,
        output: OutputKind::Logits,
        metadata: vec![
            ("robmem.version".into(), "0.1.0".into()),
            ("robmem.spec_hash".into(), "abc123".into()),
            ("robmem.norm".into(), "l2".into()),
            ("robmem.radius".into(), "0.25".into()),
            ("robmem.labels".into(), "[\"cat\",\"dog\"]".into()),
        ],
        graph_name: "toy".into(),
    }
}

/// `net` with roles forgotten (what the reader gives back).
fn without_roles(net: &LayerNetwork) -> LayerNetwork {
    let mut net = net.clone();
    for layer in &mut net.layers {
        layer.roles = vec![Role::Unknown; layer.outputs()];
    }
    net
}

fn shape_of(value: &ValueInfoProto) -> (i32, Vec<Dim>) {
    let Some(TypeValue::TensorType(tensor)) = value.type_.as_ref().unwrap().value.as_ref() else {
        panic!("not a tensor type");
    };
    let dims = tensor
        .shape
        .as_ref()
        .unwrap()
        .dim
        .iter()
        .map(|d| d.value.clone().unwrap())
        .collect();
    (tensor.elem_type, dims)
}

#[test]
fn f64_round_trip_is_exact() {
    let net = network(1, &[5, 7, 7, 7, 4, 3]);
    let bytes = write_onnx(&net, &options(Precision::F64)).unwrap();
    let (back, meta) = read_onnx(&bytes).unwrap();
    assert_eq!(back, without_roles(&net));
    assert_eq!(meta.precision, Precision::F64);
    assert_eq!(meta.output_kind, Some(OutputKind::Logits));
    assert_eq!(meta.output_name, "logits");
    assert_eq!(meta.properties, options(Precision::F64).metadata);
    assert_eq!(meta.property("robmem.radius"), Some("0.25"));
    assert_eq!(meta.graph_name, "toy");
    assert_eq!(meta.producer_name, "robmem");
    assert_eq!(meta.producer_version, env!("CARGO_PKG_VERSION"));
    assert_eq!((meta.ir_version, meta.opset_version), (8, Some(13)));
}

#[test]
fn f32_round_trip_equals_rounded_weights() {
    let net = network(2, &[4, 6, 6, 2]);
    let bytes = write_onnx(&net, &options(Precision::F32)).unwrap();
    let (back, meta) = read_onnx(&bytes).unwrap();
    assert_eq!(meta.precision, Precision::F32);
    let mut rounded = without_roles(&net);
    for layer in &mut rounded.layers {
        layer.weight.mapv_inplace(|w| f64::from(w as f32));
        layer.bias.mapv_inplace(|b| f64::from(b as f32));
    }
    assert_eq!(back, rounded);
    assert_ne!(back, without_roles(&net), "f32 must actually round");
}

#[test]
fn writes_are_byte_identical_and_canonical() {
    let net = network(3, &[3, 5, 5, 5, 2]);
    let first = write_onnx(&net, &options(Precision::F32)).unwrap();
    let second = write_onnx(&net.clone(), &options(Precision::F32)).unwrap();
    assert_eq!(first, second);
    let mut streamed = Vec::new();
    write_onnx_to(&net, &options(Precision::F32), &mut streamed).unwrap();
    assert_eq!(first, streamed);
    // The hand-streamed weights encode exactly as protobuf would encode the model.
    let model = ModelProto::parse_from_bytes(&first).unwrap();
    assert_eq!(model.write_to_bytes().unwrap(), first);
}

#[test]
fn model_structure_follows_the_contract() {
    let net = network(4, &[6, 8, 8, 8, 3]);
    let bytes = write_onnx(&net, &options(Precision::F32)).unwrap();
    let model = ModelProto::parse_from_bytes(&bytes).unwrap();
    assert_eq!(model.ir_version, 8);
    assert_eq!(model.producer_name, "robmem");
    assert_eq!(model.opset_import.len(), 1);
    assert_eq!(
        (
            model.opset_import[0].domain.as_str(),
            model.opset_import[0].version
        ),
        ("", 13)
    );
    let graph = model.graph.as_ref().unwrap();

    // Nodes: only Gemm (transB = 1) and Relu, one Relu per ReLU layer.
    let relus = net
        .layers
        .iter()
        .filter(|l| l.activation == Activation::Relu)
        .count();
    assert_eq!(graph.node.len(), net.layers.len() + relus);
    for node in &graph.node {
        match node.op_type.as_str() {
            "Gemm" => {
                assert_eq!(node.attribute.len(), 1);
                assert_eq!(
                    (node.attribute[0].name.as_str(), node.attribute[0].i),
                    ("transB", 1)
                );
            }
            "Relu" => assert!(node.attribute.is_empty()),
            op => panic!("unexpected op {op}"),
        }
    }
    assert_eq!(graph.node[0].name, "layer0.gemm");
    assert_eq!(
        graph.node[0].input,
        vec!["input", "layer0.weight", "layer0.bias"]
    );
    assert_eq!(graph.node[1].name, "layer0.relu");
    assert_eq!(graph.node.last().unwrap().output, vec!["logits"]);
    let names: HashSet<&str> = graph.node.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names.len(), graph.node.len(), "node names are unique");
    let outputs: HashSet<&str> = graph.node.iter().map(|n| n.output[0].as_str()).collect();
    assert_eq!(outputs.len(), graph.node.len(), "tensor names are unique");

    // Initializers: raw little-endian data, [out, in] weights and 1-D biases.
    assert_eq!(graph.initializer.len(), 2 * net.layers.len());
    let init_names: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(init_names.len(), graph.initializer.len());
    for (k, layer) in net.layers.iter().enumerate() {
        let weight = &graph.initializer[2 * k];
        let bias = &graph.initializer[2 * k + 1];
        assert_eq!(weight.name, format!("layer{k}.weight"));
        assert_eq!(bias.name, format!("layer{k}.bias"));
        assert_eq!(
            weight.dims,
            vec![layer.outputs() as i64, layer.inputs() as i64]
        );
        assert_eq!(bias.dims, vec![layer.outputs() as i64]);
        for tensor in [weight, bias] {
            assert_eq!(tensor.data_type, DataType::FLOAT as i32);
            assert!(tensor.float_data.is_empty() && tensor.external_data.is_empty());
        }
        assert_eq!(weight.raw_data.len(), 4 * layer.weight.len());
        let w01 = f32::from_le_bytes(weight.raw_data[4..8].try_into().unwrap());
        assert_eq!(w01, layer.weight[[0, 1]] as f32);
    }

    // Input and output: [batch, d] and [batch, C] with a symbolic batch.
    assert_eq!(graph.input.len(), 1);
    assert_eq!(graph.input[0].name, "input");
    let batch = Dim::DimParam("batch".into());
    assert_eq!(
        shape_of(&graph.input[0]),
        (
            DataType::FLOAT as i32,
            vec![batch.clone(), Dim::DimValue(6)]
        )
    );
    assert_eq!(graph.output.len(), 1);
    assert_eq!(graph.output[0].name, "logits");
    assert_eq!(
        shape_of(&graph.output[0]),
        (DataType::FLOAT as i32, vec![batch, Dim::DimValue(3)])
    );
    let keys: Vec<&str> = model
        .metadata_props
        .iter()
        .map(|p| p.key.as_str())
        .collect();
    assert_eq!(keys[0], "robmem.version");
    assert_eq!(keys.len(), 5);
}

#[test]
fn label_output_needs_one_neuron() {
    let mut opts = options(Precision::F32);
    opts.output = OutputKind::Label;
    let two = network(5, &[3, 4, 2]);
    assert!(matches!(
        write_onnx(&two, &opts),
        Err(OnnxError::LabelOutputWidth { outputs: 2 })
    ));
    let one = network(5, &[3, 4, 1]);
    let bytes = write_onnx(&one, &opts).unwrap();
    let (_, meta) = read_onnx(&bytes).unwrap();
    assert_eq!(meta.output_name, "label");
    assert_eq!(meta.output_kind, Some(OutputKind::Label));
}

#[test]
fn invalid_or_unrepresentable_networks_are_refused() {
    let mut net = network(6, &[2, 3, 1]);
    net.layers[0].weight[[0, 0]] = 1e300;
    assert!(matches!(
        write_onnx(&net, &options(Precision::F32)),
        Err(OnnxError::F32Overflow { layer: 0 })
    ));
    assert!(write_onnx(&net, &options(Precision::F64)).is_ok());
    net.layers[1].activation = Activation::Relu;
    assert!(matches!(
        write_onnx(&net, &options(Precision::F64)),
        Err(OnnxError::InvalidNetwork(_))
    ));
}

#[test]
fn save_is_atomic_and_matches_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.onnx");
    let net = network(7, &[3, 4, 4, 2]);
    std::fs::write(&path, b"old contents").unwrap();
    save_onnx(&net, &options(Precision::F32), &path).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        write_onnx(&net, &options(Precision::F32)).unwrap()
    );
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "no temporary file left behind");
    let (back, _) = read_onnx_file(&path).unwrap();
    assert_eq!(back.depth(), 3);

    let missing = dir.path().join("no-such-dir").join("net.onnx");
    let error = save_onnx(&net, &options(Precision::F32), &missing).unwrap_err();
    assert!(matches!(error, OnnxError::Io { .. }), "{error}");
    assert!(error.to_string().contains("no-such-dir"));
}

#[test]
fn garbage_is_not_a_model() {
    assert!(read_onnx(b"\xff\xff\xff\xff not protobuf").is_err());
    assert!(read_onnx_file(std::path::Path::new("/no/such/file.onnx")).is_err());
}

#[test]
fn single_layer_network() {
    let net = LayerNetwork {
        input_dim: 2,
        layers: vec![Dense {
            weight: array![[1.0, -1.0]],
            bias: array![0.5],
            activation: Activation::Identity,
            roles: vec![Role::Output { index: 0 }],
        }],
    };
    let bytes = write_onnx(&net, &options(Precision::F64)).unwrap();
    let (back, _) = read_onnx(&bytes).unwrap();
    assert_eq!(back, without_roles(&net));
}
