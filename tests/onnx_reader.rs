//! The ONNX reader on models robmem did not write: MatMul + Add, Gemm with
//! transB = 0, alpha and beta, typed (non-raw) data, and clear errors.

mod support;

use ndarray::array;
use robmem::backend::onnx::{read_onnx, OnnxError};
use robmem::eval::evaluate;
use robmem::ir::layers::{Activation, Role};
use robmem::spec::Precision;
use support::onnx_build::{float_model, floats, node, with_attributes};

#[test]
fn reads_matmul_add_relu_and_general_gemm() {
    // h = relu(x B1 + c1) with B1 [in=2, out=3] (MatMul layout);
    // y = 2 * h B2 + 0.5 * c2 via Gemm with transB = 0, then a ReLU on y.
    let bytes = float_model(
        vec![
            node("mm", "MatMul", &["x", "B1"], "t"),
            node("add", "Add", &["c1", "t"], "u"),
            node("r", "Relu", &["u"], "h"),
            with_attributes(
                node("g", "Gemm", &["h", "B2", "c2"], "z"),
                &[("alpha", 2.0), ("beta", 0.5)],
                &[],
            ),
            node("r2", "Relu", &["z"], "y"),
        ],
        vec![
            floats("B1", &[2, 3], &[1.0, 0.0, -1.0, 0.0, 1.0, 2.0]),
            floats("c1", &[3], &[0.0, -1.0, 1.0]),
            floats("B2", &[3, 1], &[1.0, -1.0, 0.5]),
            floats("c2", &[], &[4.0]),
        ],
        2,
        ("y", 1),
    );
    let (net, meta) = read_onnx(&bytes).unwrap();
    assert_eq!(meta.precision, Precision::F32);
    assert_eq!(meta.output_kind, None);
    assert_eq!(meta.output_name, "y");
    assert_eq!(net.input_dim, 2);
    // Layers: MatMul+Add+Relu, Gemm+Relu, and a final identity layer.
    assert_eq!(net.depth(), 3);
    assert_eq!(
        net.layers[0].weight,
        array![[1.0, 0.0], [0.0, 1.0], [-1.0, 2.0]]
    );
    assert_eq!(net.layers[0].bias, array![0.0, -1.0, 1.0]);
    assert_eq!(net.layers[1].weight, array![[2.0, -2.0, 1.0]]);
    assert_eq!(net.layers[1].bias, array![2.0]);
    assert_eq!(net.layers[1].activation, Activation::Relu);
    assert_eq!(net.layers[2].weight, array![[1.0]]);
    assert!(net
        .layers
        .iter()
        .all(|l| l.roles.iter().all(|r| *r == Role::Unknown)));
    // x = (1, 2): h = relu(1, 1, 4) = (1, 1, 4); z = 2 (1 - 1 + 2) + 2 = 6.
    // x = (3, -2): h = relu(3, -3, -6) = (3, 0, 0); z = 6 + 2 = 8.
    // x = (-3, 0): h = relu(-3, -1, 4) = (0, 0, 4); z = 4 + 2 = 6.
    let y = evaluate(&net, array![[1.0, 2.0], [3.0, -2.0], [-3.0, 0.0]].view());
    assert_eq!(y, array![[6.0], [8.0], [6.0]]);
}

#[test]
fn a_relu_on_the_input_becomes_an_identity_weight_layer() {
    let bytes = float_model(
        vec![
            node("r", "Relu", &["x"], "h"),
            node("g", "Gemm", &["h", "W", "b"], "y"),
        ],
        vec![
            floats("W", &[2, 1], &[1.0, -1.0]),
            floats("b", &[1, 1], &[0.5]),
        ],
        2,
        ("y", 1),
    );
    let (net, _) = read_onnx(&bytes).unwrap();
    assert_eq!(net.depth(), 2);
    let y = evaluate(&net, array![[2.0, -3.0], [-1.0, 4.0]].view());
    assert_eq!(y, array![[2.5], [-3.5]]);
}

#[test]
fn unsupported_ops_are_named() {
    let bytes = float_model(
        vec![
            node("g", "Gemm", &["x", "W"], "t"),
            node("squash", "Sigmoid", &["t"], "y"),
        ],
        vec![floats("W", &[2, 1], &[1.0, 1.0])],
        2,
        ("y", 1),
    );
    let error = read_onnx(&bytes).unwrap_err();
    assert!(
        matches!(&error, OnnxError::UnsupportedOp { node, op } if node == "squash" && op == "Sigmoid"),
        "{error}"
    );
    assert!(error.to_string().contains("`squash`"));
    assert!(error.to_string().contains("`Sigmoid`"));
}

#[test]
fn non_chains_and_non_constant_operands_are_refused() {
    // The Gemm does not read the previous result.
    let bytes = float_model(
        vec![
            node("r", "Relu", &["x"], "h"),
            node("g", "Gemm", &["x", "W"], "y"),
        ],
        vec![floats("W", &[1, 2], &[1.0, 1.0])],
        2,
        ("y", 1),
    );
    let error = read_onnx(&bytes).unwrap_err().to_string();
    assert!(
        error.contains("node `g`") && error.contains("chains"),
        "{error}"
    );
    // The weight is not an initializer.
    let bytes = float_model(
        vec![node("g", "Gemm", &["x", "W"], "y")],
        vec![],
        2,
        ("y", 1),
    );
    let error = read_onnx(&bytes).unwrap_err().to_string();
    assert!(error.contains("`W` is not an initializer"), "{error}");
    // transA = 1.
    let bytes = float_model(
        vec![with_attributes(
            node("g", "Gemm", &["x", "W"], "y"),
            &[],
            &[("transA", 1)],
        )],
        vec![floats("W", &[2, 1], &[1.0, 1.0])],
        2,
        ("y", 1),
    );
    let error = read_onnx(&bytes).unwrap_err().to_string();
    assert!(error.contains("transA"), "{error}");
    // Shapes that do not chain.
    let bytes = float_model(
        vec![node("g", "Gemm", &["x", "W"], "y")],
        vec![floats("W", &[3, 1], &[1.0, 1.0, 1.0])],
        2,
        ("y", 1),
    );
    let error = read_onnx(&bytes).unwrap_err().to_string();
    assert!(error.contains("takes 3 inputs but receives 2"), "{error}");
}

/// Found by the fuzzing harness (tests/fuzz): an initializer whose
/// dimensions multiply past `usize::MAX` made the reader panic (multiply with
/// overflow). It is an error naming the initializer.
#[test]
fn initializer_dimensions_whose_product_overflows_are_refused() {
    let bytes = include_bytes!("fixtures/fuzz/onnx_dims_overflow.onnx");
    let error = read_onnx(bytes).unwrap_err();
    assert!(
        matches!(&error, OnnxError::Unsupported(m) if m.contains("more values than any file holds")),
        "{error}"
    );
}

/// Found by the fuzzing harness (tests/fuzz, a stack overflow of the onnx
/// target, seed 2): protobuf 3.4 skips unknown groups recursively without a
/// limit (RUSTSEC-2024-0437), so a file of nested start-group tags overflowed
/// the stack. Nesting past `MAX_GROUP_DEPTH` is refused before parsing. The
/// input is 1,000,000 start-group tags of field 9 (which overflowed an 8 MB
/// stack; the fuzzer's own input was not saved: a stack overflow aborts
/// first).
#[test]
fn deeply_nested_protobuf_groups_are_refused() {
    let bytes = vec![0x4Bu8; 1_000_000];
    let error = read_onnx(&bytes).unwrap_err();
    assert!(
        matches!(&error, OnnxError::Unsupported(m) if m.contains("nests protobuf groups more than 32 deep")),
        "{error}"
    );
}
