//! The ONNX size estimate made before lowering (`estimated_onnx_bytes`) and
//! the refusal of networks above a size limit (`CompileOptions`), which
//! `robmem compile` sets to protobuf's 2 GiB when it will write ONNX.

use robmem::analysis::report::check_program;
use robmem::backend::onnx::{write_onnx, OnnxOptions};
use robmem::pipeline::{compile, compile_with, estimated_onnx_bytes, CompileError, CompileOptions};
use robmem::resolve::resolve_text;
use std::path::Path;

const SPEC: &str = "
dataset cloud = blobs(points = 600, dim = 30, labels = 5, spread = 0.5, seed = 4)
network logits_net { data = cloud  norm = l2  radius = 0.5 of limit }
network wide_net { data = cloud  norm = l2  radius = 0.5 of limit  precision = f64 }
network label_net { data = cloud  norm = l2  radius = 0.5 of limit  output = label }
";

#[test]
fn estimate_is_close_to_the_written_size_and_the_limit_refuses() {
    let program = resolve_text(Path::new("size.rmem"), SPEC).expect("resolves");
    let outcome = check_program(&program).expect("loads");
    for (index, net) in program.networks.iter().enumerate() {
        let data = &outcome.datasets[net.data];
        let report = &outcome.reports[index];
        let separation = report.separation();
        let compiled = compile(data, net, &separation).expect("compiles");
        let bytes = write_onnx(
            &compiled.network,
            &OnnxOptions {
                precision: net.precision,
                output: net.output,
                ..OnnxOptions::default()
            },
        )
        .expect("encodes")
        .len() as f64;
        let estimate = estimated_onnx_bytes(data, net, &compiled.plan) as f64;
        // Never below the real size by more than the small parts (names,
        // metadata); close to it for logits, whose hidden layers are full.
        assert!(
            estimate >= 0.9 * bytes,
            "{}: {estimate} vs {bytes}",
            net.name
        );
        if net.name != "label_net" {
            assert!(
                estimate <= 1.5 * bytes,
                "{}: {estimate} vs {bytes}",
                net.name
            );
        }

        let limit = (estimate as u64) - 1;
        let refused = compile_with(
            data,
            net,
            &separation,
            &CompileOptions {
                max_onnx_bytes: Some(limit),
            },
        );
        match refused {
            Err(e @ CompileError::TooLarge { .. }) => {
                let text = e.to_string();
                assert!(text.contains("GiB") && text.contains("2 GiB"), "{text}");
                assert!(text.contains("width") && text.contains("depth"), "{text}");
            }
            other => panic!("{}: expected TooLarge, got {other:?}", net.name),
        }
        let accepted = compile_with(
            data,
            net,
            &separation,
            &CompileOptions {
                max_onnx_bytes: Some(estimate as u64),
            },
        );
        assert!(accepted.is_ok(), "{}", net.name);
    }
}

/// A label network over 8000 points at width 200 and f64 is about 2.4 GiB:
/// `robmem compile` refuses it before lowering, names the size and the
/// fixes, and writes nothing.
#[test]
fn compile_refuses_an_onnx_file_over_2_gib() {
    let (dir, stderr) = refused_compile(
        "dataset big = blobs(points = 8000, dim = 200, labels = 10, spread = 0.5, seed = 1)
network big_net {
    data = big  norm = l2  radius = max  width = 200  output = label  precision = f64
}
emit big_net { onnx = \"big.onnx\" }
",
    );
    for phrase in [
        "cannot compile network `big_net`",
        "GiB (width 200, depth 8002, at float64), above protobuf's limit of 2 GiB",
        "use `output = logits`",
        "`precision = f32`",
        "nothing was written",
    ] {
        assert!(stderr.contains(phrase), "{phrase:?} not in {stderr}");
    }
    assert!(!dir.path().join("big.onnx").exists());
}

/// Writes `spec` to a temporary folder and runs `robmem compile` on it,
/// which must exit with 1; returns the folder and standard error with
/// miette's wrapping and box drawing undone (one line, single spaces).
fn refused_compile(spec: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.rmem");
    std::fs::write(&path, spec).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_robmem"))
        .arg("compile")
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr)
        .replace(['│', '·', '╭', '╰', '─', '┬'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    (dir, stderr)
}

/// A refusal says whether the planner's network is already the smallest
/// the construction builds (then a wider network is no fix, and the help
/// does not offer one): with no budgets, or for a distance network with
/// only a width budget (it takes one running minimum per class anyway),
/// yes; with a width budget on scores, or a depth budget, no.
#[test]
fn a_refusal_says_whether_a_budget_made_the_network_larger() {
    let spec = "
dataset cloud = blobs(points = 300, dim = 12, labels = 3, spread = 0.5, seed = 4)
network scores_auto { data = cloud  norm = l2  radius = 0.5 of limit  construction = scores }
network scores_width { data = cloud  norm = l2  radius = 0.5 of limit  construction = scores  width = 40 }
network scores_depth { data = cloud  norm = l2  radius = 0.5 of limit  construction = scores  depth = 60 }
network distances_auto { data = cloud  norm = linf  radius = 0.5 of limit  construction = distances }
network distances_width { data = cloud  norm = linf  radius = 0.5 of limit  construction = distances  width = 5000 }
network distances_depth { data = cloud  norm = linf  radius = 0.5 of limit  construction = distances  depth = 60 }
";
    let program = resolve_text(Path::new("refuse.rmem"), spec).expect("resolves");
    let outcome = check_program(&program).expect("loads");
    for (index, net) in program.networks.iter().enumerate() {
        let data = &outcome.datasets[net.data];
        let separation = outcome.reports[index].separation();
        let refused = compile_with(
            data,
            net,
            &separation,
            &CompileOptions {
                max_onnx_bytes: Some(1),
            },
        );
        let expected = !net.name.ends_with("_width") && !net.name.ends_with("_depth")
            || net.name == "distances_width";
        match refused {
            Err(CompileError::TooLarge { smallest, .. }) => {
                assert_eq!(smallest, expected, "{}", net.name)
            }
            other => panic!("{}: expected TooLarge, got {other:?}", net.name),
        }
    }
}

/// A distance network over 20,000 points is several GiB whatever the width
/// budget (it takes one running minimum per class): the help does not
/// tell the user to raise the width they already gave, and nothing is
/// written.
#[test]
fn compile_refusing_the_smallest_network_does_not_offer_a_wider_one() {
    let (dir, stderr) = refused_compile(
        "dataset big = blobs(points = 20000, dim = 20, labels = 5, spread = 0.5, seed = 1)
network big_net {
    data = big  norm = linf  radius = 0.5 of limit  construction = distances  width = 5000
}
emit big_net { onnx = \"big.onnx\" }
",
    );
    for phrase in [
        "above protobuf's limit of 2 GiB",
        "ask for a smaller radius",
        "already the smallest network",
        "compile fewer points",
        "nothing was written",
    ] {
        assert!(stderr.contains(phrase), "{phrase:?} not in {stderr}");
    }
    assert!(!stderr.contains("raise `width`"), "{stderr}");
    assert!(!dir.path().join("big.onnx").exists());
}
