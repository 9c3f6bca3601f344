//! The verifier's own ONNX reader (`robmem::verify::model`): models written
//! by robmem read back to the same function, hand-built models in the other
//! forms the ONNX spec allows, and clear refusals.

mod support;

use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::{DataLocation, DataType};
use onnx_protobuf::{NodeProto, StringStringEntryProto, TensorProto};
use robmem::analysis::separation::separation;
use robmem::backend::onnx::{read_onnx, write_onnx, OnnxOptions};
use robmem::eval::evaluate_point;
use robmem::norm::Norm;
use robmem::pipeline::compile;
use robmem::spec::{OutputKind, Precision, ProjectionChoice, RadiusSpec};
use robmem::verify::model::{read_model, read_model_file, Element, Model, ModelError};
use support::onnx_build::{
    doubles, float_model, floats, model_bytes, node, raw_floats, with_attributes,
};
use support::{random_data, spec};

/// `|a - b| <= 1e-6 max(1, |a|, |b|)` entrywise.
fn assert_close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (x, y) in a.iter().zip(b) {
        let scale = 1f64.max(x.abs()).max(y.abs());
        assert!((x - y).abs() <= 1e-6 * scale, "{what}: {a:?} vs {b:?}");
    }
}

#[test]
fn compiled_networks_read_back_to_the_same_function() {
    let cases = [(41, 30, 3, 3, Norm::L2), (42, 25, 4, 2, Norm::Linf)];
    for (seed, n, d, c, norm) in cases {
        let data = random_data(seed, n, d, c, false);
        let sep = separation(data.points.view(), &data.labels, norm);
        for output in [OutputKind::Logits, OutputKind::Label] {
            let s = spec(
                norm,
                RadiusSpec::OfLimit(0.4),
                output,
                ProjectionChoice::Auto,
            );
            let compiled = compile(&data, &s, &sep).unwrap();
            for precision in [Precision::F32, Precision::F64] {
                let options = OnnxOptions {
                    precision,
                    output,
                    metadata: vec![("robmem.norm".into(), "l2".into())],
                    graph_name: "g".into(),
                };
                let bytes = write_onnx(&compiled.network, &options).unwrap();
                let model = read_model(&bytes).unwrap();
                let what = format!("seed {seed} {output:?} {precision:?}");
                assert_eq!(model.input_dim, d, "{what}");
                assert_eq!(model.input_name, "input");
                let want_name = if output == OutputKind::Logits {
                    "logits"
                } else {
                    "label"
                };
                assert_eq!(model.output_name, want_name);
                assert_eq!(model.property("robmem.norm"), Some("l2"));
                assert_eq!(model.layers.len(), compiled.network.layers.len(), "{what}");
                assert!(model.layers[..model.layers.len() - 1]
                    .iter()
                    .all(|l| l.relu));
                assert!(!model.layers.last().unwrap().relu);
                // The compiler's own reader is the reference for the stored
                // (possibly f32-rounded) weights.
                let (stored, _) = read_onnx(&bytes).unwrap();
                for i in 0..data.len() {
                    let x = data.points.row(i).to_vec();
                    let got = model.evaluate_f64(&x);
                    assert_eq!(got.len(), model.outputs());
                    assert_close(&got, &evaluate_point(&stored, &x), &what);
                    match precision {
                        Precision::F64 => {
                            assert_eq!(model.element, Element::F64);
                            assert_close(&got, &evaluate_point(&compiled.network, &x), &what);
                        }
                        Precision::F32 => assert_eq!(model.element, Element::F32),
                    }
                }
            }
        }
    }
}

#[test]
fn reads_a_file_and_reports_missing_files() {
    let data = random_data(43, 12, 2, 2, false);
    let sep = separation(data.points.view(), &data.labels, Norm::L2);
    let s = spec(
        Norm::L2,
        RadiusSpec::OfLimit(0.5),
        OutputKind::Logits,
        ProjectionChoice::Auto,
    );
    let compiled = compile(&data, &s, &sep).unwrap();
    let bytes = write_onnx(&compiled.network, &OnnxOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.onnx");
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(read_model_file(&path).unwrap(), read_model(&bytes).unwrap());
    let missing = read_model_file(&dir.path().join("none.onnx")).unwrap_err();
    assert!(matches!(missing, ModelError::Io { .. }));
    assert!(missing.to_string().contains("none.onnx"), "{missing}");
    let garbage = read_model(b"\xff\xff\xff not protobuf").unwrap_err();
    assert!(
        garbage.to_string().starts_with("not an ONNX model"),
        "{garbage}"
    );
}

// ---- hand-built models ----

/// `y = relu(x B1 + c1)` (MatMul + Add), then Gemm(transB = 0, alpha = 2, beta = 0.5).
fn mixed_model(b1: TensorProto) -> Vec<u8> {
    float_model(
        vec![
            node("mm", "MatMul", &["x", "B1"], "t"),
            node("add", "Add", &["c1", "t"], "u"),
            node("r", "Relu", &["u"], "h"),
            with_attributes(
                node("g", "Gemm", &["h", "B2", "c2"], "y"),
                &[("alpha", 2.0), ("beta", 0.5)],
                &[("transB", 0)],
            ),
        ],
        vec![
            b1,
            floats("c1", &[3], &[0.0, -1.0, 1.0]),
            floats("B2", &[3, 1], &[1.0, -1.0, 0.5]),
            floats("c2", &[1, 1], &[4.0]),
        ],
        2,
        ("y", 1),
    )
}

#[test]
fn reads_matmul_add_and_gemm_with_trans_b_0_and_exact_alpha() {
    let b1 = [1.0, 0.0, -1.0, 0.0, 1.0, 2.0];
    let model = read_model(&mixed_model(floats("B1", &[2, 3], &b1))).unwrap();
    assert_eq!(model.input_dim, 2);
    assert_eq!(model.outputs(), 1);
    assert_eq!(model.element, Element::F32);
    assert_eq!(model.output_name, "y");
    assert_eq!(model.metadata, vec![("k".to_string(), "v".to_string())]);
    assert_eq!(model.layers.len(), 2);
    let first = &model.layers[0];
    // MatMul's B is [in, out]: the layer weight is its transpose.
    assert_eq!(
        first.weight,
        ndarray::array![[1.0, 0.0], [0.0, 1.0], [-1.0, 2.0]]
    );
    assert_eq!(first.bias, ndarray::array![0.0, -1.0, 1.0]);
    assert!(first.relu);
    assert!(first.weight.is_standard_layout());
    let second = &model.layers[1];
    assert_eq!(second.weight, ndarray::array![[2.0, -2.0, 1.0]]);
    assert_eq!(second.bias, ndarray::array![2.0]);
    assert!(!second.relu);
    // x = (1, 2): h = relu(1, 1, 4) = (1, 1, 4); y = 2 (1 - 1 + 2) + 2 = 6.
    assert_eq!(model.evaluate_f64(&[1.0, 2.0]), vec![6.0]);
    // raw_data holds the same values as float_data.
    let raw = read_model(&mixed_model(raw_floats("B1", &[2, 3], &b1))).unwrap();
    assert_eq!(raw, model);
}

#[test]
fn reads_double_models_and_gemm_without_bias() {
    let bytes = model_bytes(
        vec![
            with_attributes(node("g0", "Gemm", &["x", "W0"], "a"), &[], &[("transB", 1)]),
            node("r", "Relu", &["a"], "b"),
            node("r again", "Relu", &["b"], "c"),
            with_attributes(
                node("g1", "Gemm", &["c", "W1", ""], "out"),
                &[],
                &[("transB", 1)],
            ),
        ],
        vec![
            doubles("W0", &[2, 1], &[0.1, -0.3]),
            doubles("W1", &[1, 2], &[1.0, 1.0]),
        ],
        1,
        ("out", 1),
        DataType::DOUBLE,
    );
    let model = read_model(&bytes).unwrap();
    assert_eq!(model.element, Element::F64);
    assert_eq!(model.layers[0].weight, ndarray::array![[0.1], [-0.3]]);
    assert_eq!(model.layers[0].bias, ndarray::array![0.0, 0.0]);
    assert!(model.layers[0].relu);
    assert_eq!(model.evaluate_f64(&[2.0]), vec![0.2]);
    assert_eq!(model.evaluate_f64(&[-1.0]), vec![0.3]);
}

/// The error of reading `bytes`, as text.
fn refusal(bytes: &[u8]) -> String {
    match read_model(bytes) {
        Ok(model) => panic!("accepted: {model:?}"),
        Err(e) => e.to_string(),
    }
}

fn one_gemm(gemm: NodeProto, inits: Vec<TensorProto>) -> Vec<u8> {
    float_model(vec![gemm], inits, 2, ("y", 1))
}

fn w() -> TensorProto {
    floats("W", &[1, 2], &[1.0, 3.0])
}

#[test]
fn refuses_unsupported_operators() {
    let bytes = float_model(
        vec![
            node("conv0", "Conv", &["x", "W"], "t"),
            node("r", "Relu", &["t"], "y"),
        ],
        vec![w()],
        2,
        ("y", 1),
    );
    assert_eq!(
        refusal(&bytes),
        "node #0 `conv0`: operator `Conv` is not supported (expected Gemm, MatMul, Add or Relu)"
    );
}

#[test]
fn refuses_alpha_that_would_round() {
    let gemm = with_attributes(
        node("g", "Gemm", &["x", "W"], "y"),
        &[("alpha", 0.1)],
        &[("transB", 1)],
    );
    let text = refusal(&one_gemm(gemm, vec![w()]));
    assert!(
        text.starts_with("node #0 `g` (Gemm): alpha = 0.10000000149011612 is not a power of two"),
        "{text}"
    );
    // A power of two whose product leaves float32's range is refused too.
    let gemm = with_attributes(
        node("g", "Gemm", &["x", "W"], "y"),
        &[("alpha", 2f32.powi(-140))],
        &[("transB", 1)],
    );
    let tiny = floats("W", &[1, 2], &[1.5f32 * 2f32.powi(-10), 1.0]);
    let text = refusal(&one_gemm(gemm, vec![tiny]));
    assert!(text.contains("is not exact in F32; refused"), "{text}");
    // beta is held to the same rule.
    let gemm = with_attributes(
        node("g", "Gemm", &["x", "W", "c"], "y"),
        &[("beta", 3.0)],
        &[("transB", 1)],
    );
    let text = refusal(&one_gemm(gemm, vec![w(), floats("c", &[1], &[1.0])]));
    assert!(text.contains("beta = 3 is not a power of two"), "{text}");
}

#[test]
fn refuses_external_data() {
    let external = TensorProto {
        data_location: DataLocation::EXTERNAL.into(),
        external_data: vec![StringStringEntryProto {
            key: "location".into(),
            value: "weights.bin".into(),
            ..Default::default()
        }],
        float_data: Vec::new(),
        ..w()
    };
    let gemm = with_attributes(node("g", "Gemm", &["x", "W"], "y"), &[], &[("transB", 1)]);
    assert_eq!(
        refusal(&one_gemm(gemm, vec![external])),
        "initializer `W`: uses external data; only weights stored in the file are read"
    );
}

#[test]
fn refuses_a_dangling_operand() {
    let gemm = with_attributes(
        node("g", "Gemm", &["x", "W", "missing"], "y"),
        &[],
        &[("transB", 1)],
    );
    assert_eq!(
        refusal(&one_gemm(gemm, vec![w()])),
        "node #0 `g` (Gemm): operand `missing` is not the graph input, an initializer or a node output"
    );
}

#[test]
fn refuses_shapes_that_do_not_chain_and_other_graphs() {
    // The weight takes 3 inputs, the input has 2.
    let gemm = with_attributes(node("g", "Gemm", &["x", "W"], "y"), &[], &[("transB", 1)]);
    let text = refusal(&one_gemm(
        gemm,
        vec![floats("W", &[1, 3], &[1.0, 2.0, 3.0])],
    ));
    assert_eq!(
        text,
        "node #0 `g` (Gemm): the weight takes 3 inputs, the previous value has 2"
    );
    // transA = 1.
    let gemm = with_attributes(
        node("g", "Gemm", &["x", "W"], "y"),
        &[],
        &[("transA", 1), ("transB", 1)],
    );
    let text = refusal(&one_gemm(gemm, vec![w()]));
    assert!(text.contains("transA = 1"), "{text}");
    // An attribute of the wrong type (an INT alpha would read as 0).
    let mut gemm = with_attributes(node("g", "Gemm", &["x", "W"], "y"), &[], &[("alpha", 3)]);
    gemm.attribute[0].type_ = AttributeType::INT.into();
    let text = refusal(&one_gemm(gemm, vec![w()]));
    assert_eq!(
        text,
        "node #0 `g` (Gemm): attribute `alpha` must be a literal FLOAT"
    );
    // A bias that does not broadcast.
    let gemm = with_attributes(
        node("g", "Gemm", &["x", "W", "c"], "y"),
        &[],
        &[("transB", 1)],
    );
    let text = refusal(&one_gemm(gemm, vec![w(), floats("c", &[2], &[1.0, 2.0])]));
    assert!(text.contains("the bias `c` has shape [2]"), "{text}");
    // A node off the chain.
    let bytes = float_model(
        vec![
            with_attributes(node("g", "Gemm", &["x", "W"], "y"), &[], &[("transB", 1)]),
            node("stray", "Relu", &["elsewhere"], "z"),
            node("source", "Relu", &["z"], "elsewhere"),
        ],
        vec![w()],
        2,
        ("y", 1),
    );
    let text = refusal(&bytes);
    assert!(text.contains("is not on the chain"), "{text}");
    // A branch: the input feeds two nodes.
    let bytes = float_model(
        vec![
            with_attributes(node("a", "Gemm", &["x", "W"], "y"), &[], &[("transB", 1)]),
            with_attributes(node("b", "Gemm", &["x", "W"], "z"), &[], &[("transB", 1)]),
        ],
        vec![w()],
        2,
        ("y", 1),
    );
    assert!(refusal(&bytes).contains("only chains are supported"));
    // One node reading a value twice is one reader, not a branch: it is
    // refused for what it computes.
    let bytes = float_model(
        vec![
            with_attributes(node("g", "Gemm", &["x", "W"], "y"), &[], &[("transB", 1)]),
            node("twice", "Add", &["y", "y"], "z"),
        ],
        vec![w()],
        2,
        ("z", 1),
    );
    let text = refusal(&bytes);
    assert!(!text.contains("only chains are supported"), "{text}");
    assert!(text.contains("node #1 `twice` (Add)"), "{text}");
    // The graph output read by another node (listed first).
    let bytes = float_model(
        vec![
            node("r1", "Relu", &["y"], "z"),
            with_attributes(node("g", "Gemm", &["x", "W"], "y"), &[], &[("transB", 1)]),
        ],
        vec![w()],
        2,
        ("y", 1),
    );
    assert!(refusal(&bytes).contains("the graph output `y` is also used by a node"));
    // An Add that is not a MatMul's bias, and a Relu on the input.
    let bytes = float_model(
        vec![node("add", "Add", &["x", "W"], "y")],
        vec![w()],
        2,
        ("y", 2),
    );
    assert!(refusal(&bytes).contains("an Add must directly follow a MatMul"));
    let bytes = float_model(vec![node("r", "Relu", &["x"], "y")], vec![], 2, ("y", 2));
    assert!(refusal(&bytes).contains("a Relu must follow an affine node"));
    // A declared output width that the layers do not give.
    let gemm = with_attributes(node("g", "Gemm", &["x", "W"], "y"), &[], &[("transB", 1)]);
    let bytes = float_model(vec![gemm], vec![w()], 2, ("y", 4));
    assert!(refusal(&bytes).contains("declared with 4 columns, the layers give 1"));
    // Mixed element types.
    let gemm = with_attributes(
        node("g", "Gemm", &["x", "W", "c"], "y"),
        &[],
        &[("transB", 1)],
    );
    let text = refusal(&one_gemm(gemm, vec![w(), doubles("c", &[1], &[1.0])]));
    assert!(text.contains("initializers mix float and double"), "{text}");
}

/// A model read and evaluated: a check that [`Model`] is a plain value.
#[test]
fn models_compare_and_clone() {
    let model = read_model(&mixed_model(floats("B1", &[2, 3], &[1.0; 6]))).unwrap();
    let copy: Model = model.clone();
    assert_eq!(copy, model);
}
