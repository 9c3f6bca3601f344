//! Strict inputs (issue #13, items 3 and 5): `robmem verify` refuses
//! certificates with unknown fields or out-of-range values and ONNX files
//! that onnx.checker refuses (exit 2, naming the file, the JSON path or the
//! node, and the value); `robmem compile` tries every network, writes those
//! that compile, and reports each failure (and a JSON line per network with
//! `--json`).

mod support;

use onnx_protobuf::{Message, ModelProto};
use robmem::backend::onnx::read_onnx;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use support::robmem_in;

const XOR: &str = "dataset xor {
    [0, 0] -> 0
    [1, 1] -> 0
    [0, 1] -> 1
    [1, 0] -> 1
}
";

/// A folder with `spec.rmem` (XOR, one network `net`) compiled to `net.onnx`
/// and `net.cert.json`.
struct Compiled {
    dir: tempfile::TempDir,
}

impl Compiled {
    fn new() -> Compiled {
        let dir = tempfile::tempdir().unwrap();
        let spec = format!(
            "{XOR}
network net {{
    data   = xor
    norm   = l2
    radius = 0.5 of limit
}}

emit net {{
    onnx        = \"net.onnx\"
    certificate = \"net.cert.json\"
}}
"
        );
        std::fs::write(dir.path().join("spec.rmem"), spec).unwrap();
        let out = robmem_in(dir.path(), &["compile", "spec.rmem"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        Compiled { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn certificate(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.path("net.cert.json")).unwrap()).unwrap()
    }

    /// Writes `cert` as `NAME` and runs `robmem verify NAME`.
    fn verify_json(&self, name: &str, cert: &Value) -> Output {
        std::fs::write(self.path(name), serde_json::to_string_pretty(cert).unwrap()).unwrap();
        self.run(&["verify", name])
    }

    fn run(&self, args: &[&str]) -> Output {
        robmem_in(self.dir.path(), args)
    }

    fn model(&self) -> ModelProto {
        ModelProto::parse_from_bytes(&std::fs::read(self.path("net.onnx")).unwrap()).unwrap()
    }

    /// Writes `model` as `bad.onnx`, points a copy of the certificate at it
    /// (with its hash) and runs `robmem verify bad.cert.json`.
    fn verify_model(&self, model: &ModelProto) -> Output {
        let bytes = model.write_to_bytes().unwrap();
        std::fs::write(self.path("bad.onnx"), &bytes).unwrap();
        let mut cert = self.certificate();
        cert["model"]["path"] = "bad.onnx".into();
        cert["model"]["sha256"] = robmem::verify::certificate::sha256_hex(&bytes).into();
        self.verify_json("bad.cert.json", &cert)
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit code `code`, no panic, and every needle in standard error.
fn expect(out: &Output, code: i32, needles: &[&str]) {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "robmem panicked:\n{err}");
    assert_eq!(out.status.code(), Some(code), "exit code; stderr:\n{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in standard error:\n{err}");
    }
}

#[test]
fn the_compiled_certificate_verifies() {
    let c = Compiled::new();
    expect(&c.run(&["verify", "net.cert.json"]), 0, &[]);
}

#[test]
fn out_of_range_certificate_values_exit_2_naming_path_and_value() {
    let c = Compiled::new();
    let base = c.certificate();
    type Change = fn(&mut Value);
    let cases: Vec<(Change, &str)> = vec![
        (
            |v| v["radius"] = 0.into(),
            "cert.json: radius: 0 is not a radius (it must be positive and finite)",
        ),
        (
            |v| v["radius"] = (-0.25).into(),
            "cert.json: radius: -0.25 is not a radius (it must be positive and finite)",
        ),
        (
            |v| v["data"]["points"] = 0.into(),
            "cert.json: data.points: 0 points",
        ),
        (
            |v| v["data"]["dim"] = 0.into(),
            "cert.json: data.dim: 0 is not a dimension",
        ),
        (
            |v| v["projection"]["m"] = 1_000_000_000_000_u64.into(),
            "cert.json: projection.m: 1000000000000 rows is more than any first layer can have (at most 2^32)",
        ),
        (
            |v| v["projection"]["norm_bound"] = (-1.5).into(),
            "cert.json: projection.norm_bound: -1.5 is not a bound (it must be non-negative and finite)",
        ),
        (
            |v| v["separation"]["delta_prime"] = (-0.5).into(),
            "cert.json: separation.delta_prime: -0.5 is not a bound",
        ),
        (
            |v| v["rounding"]["float32"]["unit"] = 1e-7.into(),
            "cert.json: rounding.float32.unit: 0.0000001 is not the unit roundoff of float32 (it is 2^-24)",
        ),
        (
            |v| v["rounding"]["float64"]["unit"] = f64::powi(2.0, -24).into(),
            "cert.json: rounding.float64.unit: 0.00000005960464477539063 is not the unit roundoff of float64 (it is 2^-53)",
        ),
        (
            |v| v["format"] = "robmem-certificate/2".into(),
            "cert.json: format: `robmem-certificate/2` is not `robmem-certificate/1`",
        ),
        (
            |v| v["construction"] = "voronoi".into(),
            "cert.json: construction: `voronoi` is not a construction",
        ),
        (
            |v| v["distance_norm"] = "l1".into(),
            "cert.json: distance_norm: `l1` given without",
        ),
        (
            |v| v["extra"] = 1.into(),
            "cert.json: extra: unknown field `extra`",
        ),
        (
            |v| v["output"]["foo"] = true.into(),
            "cert.json: output.foo: unknown field `foo`, expected one of `kind`, `labels`, `tolerance`",
        ),
        (
            // A nested unknown field whose name is a top-level field.
            |v| v["projection"]["radius"] = 1.into(),
            "cert.json: projection.radius: unknown field `radius`",
        ),
        (
            |v| v["rounding"]["float32"]["slack"] = 0.into(),
            "cert.json: rounding.float32.slack: unknown field `slack`",
        ),
    ];
    for (k, (change, message)) in cases.into_iter().enumerate() {
        let mut cert = base.clone();
        change(&mut cert);
        let out = c.verify_json(&format!("case{k}.cert.json"), &cert);
        let message = message.replacen("cert.json", &format!("case{k}.cert.json"), 1);
        expect(&out, 2, &[&message]);
    }
}

#[test]
fn yaml_certificates_go_through_the_same_checks() {
    let c = Compiled::new();
    let base = c.certificate();
    // The unchanged certificate as YAML holds.
    std::fs::write(
        c.path("ok.cert.yaml"),
        serde_yaml::to_string(&base).unwrap(),
    )
    .unwrap();
    expect(&c.run(&["verify", "ok.cert.yaml"]), 0, &[]);

    let mut cert = base.clone();
    cert["radius"] = 0.into();
    std::fs::write(c.path("r.cert.yaml"), serde_yaml::to_string(&cert).unwrap()).unwrap();
    expect(
        &c.run(&["verify", "r.cert.yaml"]),
        2,
        &["r.cert.yaml: radius: 0 is not a radius (it must be positive and finite)"],
    );

    // YAML can say NaN, which JSON cannot: a NaN margin is refused.
    let mut cert = base.clone();
    cert["points"]["margin"]["float32"][1] = "NAN_HERE".into();
    let text = serde_yaml::to_string(&cert)
        .unwrap()
        .replace("NAN_HERE", ".nan");
    assert!(text.contains(".nan"));
    std::fs::write(c.path("nan.cert.yaml"), text).unwrap();
    expect(
        &c.run(&["verify", "nan.cert.yaml"]),
        2,
        &["nan.cert.yaml: points.margin.float32[1]: NaN is not a bound"],
    );

    // And an infinite radius.
    let mut cert = base.clone();
    cert["radius"] = "INF_HERE".into();
    let text = serde_yaml::to_string(&cert)
        .unwrap()
        .replace("INF_HERE", ".inf");
    std::fs::write(c.path("inf.cert.yaml"), text).unwrap();
    expect(
        &c.run(&["verify", "inf.cert.yaml"]),
        2,
        &["inf.cert.yaml: radius: inf is not a radius (it must be positive and finite)"],
    );

    let mut cert = base;
    cert["data"]["color"] = "red".into();
    std::fs::write(c.path("u.cert.yaml"), serde_yaml::to_string(&cert).unwrap()).unwrap();
    expect(
        &c.run(&["verify", "u.cert.yaml"]),
        2,
        &["u.cert.yaml: data.color: unknown field `color`"],
    );
}

#[test]
fn onnx_files_that_onnx_checker_refuses_exit_2_with_the_file_and_reason() {
    let c = Compiled::new();
    // The untouched model, through the same path, holds.
    expect(&c.verify_model(&c.model()), 0, &[]);

    // The default opset domain imported twice ("" and "ai.onnx" are one domain).
    let mut model = c.model();
    let mut again = model.opset_import[0].clone();
    again.domain = "ai.onnx".into();
    model.opset_import.push(again);
    let out = c.verify_model(&model);
    expect(
        &out,
        2,
        &[
            "cannot read the model bad.onnx",
            "the opset domain `ai.onnx` is imported twice",
        ],
    );
    let err = read_onnx(&model.write_to_bytes().unwrap()).unwrap_err();
    assert!(err.to_string().contains("imported twice"), "{err}");

    // A custom domain imported twice.
    let mut model = c.model();
    let mut custom = model.opset_import[0].clone();
    custom.domain = "com.example".into();
    model.opset_import.push(custom.clone());
    model.opset_import.push(custom);
    expect(
        &c.verify_model(&model),
        2,
        &[
            "bad.onnx",
            "the opset domain `com.example` is imported twice",
        ],
    );
    assert!(read_onnx(&model.write_to_bytes().unwrap()).is_err());

    // A Gemm node with the same attribute twice.
    let mut model = c.model();
    let graph = model.graph.as_mut().unwrap();
    let gemm = graph
        .node
        .iter_mut()
        .find(|n| n.op_type == "Gemm")
        .expect("robmem writes Gemm nodes");
    let mut alpha = onnx_protobuf::AttributeProto::new();
    alpha.name = "alpha".into();
    alpha.f = 1.0;
    alpha.type_ = onnx_protobuf::attribute_proto::AttributeType::FLOAT.into();
    gemm.attribute.push(alpha.clone());
    gemm.attribute.push(alpha);
    expect(
        &c.verify_model(&model),
        2,
        &["bad.onnx", "(Gemm): attribute `alpha` is given twice"],
    );
    let err = read_onnx(&model.write_to_bytes().unwrap()).unwrap_err();
    assert!(
        err.to_string().contains("attribute `alpha` is given twice"),
        "{err}"
    );

    // An operator neither reader knows.
    let mut model = c.model();
    let graph = model.graph.as_mut().unwrap();
    let relu = graph
        .node
        .iter_mut()
        .find(|n| n.op_type == "Relu")
        .expect("robmem writes Relu nodes");
    relu.op_type = "Sigmoid".into();
    expect(
        &c.verify_model(&model),
        2,
        &["bad.onnx", "operator `Sigmoid` is not supported"],
    );
    assert!(read_onnx(&model.write_to_bytes().unwrap()).is_err());

    // An attribute on Relu (which has none).
    let mut model = c.model();
    let graph = model.graph.as_mut().unwrap();
    let relu = graph.node.iter_mut().find(|n| n.op_type == "Relu").unwrap();
    let mut a = onnx_protobuf::AttributeProto::new();
    a.name = "alpha".into();
    a.type_ = onnx_protobuf::attribute_proto::AttributeType::FLOAT.into();
    relu.attribute.push(a);
    expect(
        &c.verify_model(&model),
        2,
        &["bad.onnx", "(Relu): unexpected attribute `alpha`"],
    );
    let err = read_onnx(&model.write_to_bytes().unwrap()).unwrap_err();
    assert!(
        err.to_string().contains("unexpected attribute `alpha`"),
        "{err}"
    );
}

/// A spec with three networks `first`, `second`, `third` on XOR, each
/// writing NAME.onnx and NAME.cert.json; `second`'s body lines are given.
fn three_networks(second: &str) -> String {
    let mut spec = XOR.to_string();
    for (name, body) in [
        ("first", "norm = l2\n    radius = 0.5 of limit"),
        ("second", second),
        ("third", "norm = linf\n    radius = 0.5 of limit"),
    ] {
        spec += &format!("\nnetwork {name} {{\n    data = xor\n    {body}\n}}\n");
    }
    for name in ["first", "second", "third"] {
        spec += &format!(
            "\nemit {name} {{\n    onnx = \"{name}.onnx\"\n    certificate = \"{name}.cert.json\"\n}}\n"
        );
    }
    spec
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn written(dir: &Path, name: &str) -> bool {
    dir.join(format!("{name}.onnx")).exists() && dir.join(format!("{name}.cert.json")).exists()
}

fn nothing_of(dir: &Path, name: &str) {
    for ext in ["onnx", "cert.json"] {
        assert!(!dir.join(format!("{name}.{ext}")).exists(), "{name}.{ext}");
    }
    // No temporary left behind either.
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !file.contains(name) || !file.starts_with('.'),
            "{file} left behind"
        );
    }
}

#[test]
fn compile_keeps_going_after_a_radius_at_the_limit() {
    // Line 17 of the spec is `    radius = 1 of limit`; the value starts at column 14.
    let spec = three_networks("norm = l2\n    radius = 1 of limit");
    assert_eq!(spec.lines().nth(16), Some("    radius = 1 of limit"));
    for json in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("spec.rmem"), &spec).unwrap();
        let args: &[&str] = if json {
            &["compile", "spec.rmem", "--json"]
        } else {
            &["compile", "spec.rmem"]
        };
        let out = robmem_in(dir.path(), args);
        expect(
            &out,
            1,
            &["is not below the limit 0.5", "[spec.rmem:17:14]"],
        );
        assert!(written(dir.path(), "first"));
        nothing_of(dir.path(), "second");
        assert!(written(dir.path(), "third"));
        // Both written networks verify.
        for name in ["first", "third"] {
            let cert = format!("{name}.cert.json");
            expect(&robmem_in(dir.path(), &["verify", &cert]), 0, &[]);
        }
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if json {
            let lines = json_lines(&out);
            assert_eq!(lines.len(), 3, "{stdout}");
            assert_eq!(lines[0]["network"], "first");
            assert!(lines[0]["radius"].is_number(), "{}", lines[0]);
            assert_eq!(lines[0]["written"][0], "first.onnx");
            assert_eq!(
                lines[1],
                serde_json::json!({
                    "network": "second",
                    "error": {
                        "kind": "radius",
                        "message": "radius 1 of limit = 0.5 is not below the limit 0.5 in l2: no function can robustly memorize these points",
                        "place": "spec.rmem:17:14",
                    }
                })
            );
            assert_eq!(lines[2]["network"], "third");
            assert_eq!(lines[2]["written"][1], "third.cert.json");
        } else {
            assert!(stdout.contains("network first"), "{stdout}");
            assert!(stdout.contains("network third"), "{stdout}");
            assert!(!stdout.contains("network second"), "{stdout}");
        }
    }
}

#[test]
fn compile_keeps_going_after_a_compile_error_and_reports_its_kind() {
    // `second` passes the check but its width is too small to compile.
    let spec = three_networks("norm = l2\n    radius = 0.5 of limit\n    width = 1");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spec.rmem"), &spec).unwrap();
    let out = robmem_in(dir.path(), &["compile", "spec.rmem", "--json"]);
    expect(&out, 1, &["width 1 is too small", "[spec.rmem:14:9]"]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["network"], "second");
    assert_eq!(lines[1]["error"]["kind"], "width");
    assert_eq!(lines[1]["error"]["place"], "spec.rmem:14:9");
    assert!(lines[1]["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("cannot compile network `second`: width 1 is too small"));
    assert!(written(dir.path(), "first"));
    nothing_of(dir.path(), "second");
    assert!(written(dir.path(), "third"));
}

#[test]
fn the_exit_code_is_the_worst_network_s() {
    // `second` fails with 1 (radius), `third` with 2 (its ONNX path is
    // under a regular file): exit 2, `first` still written.
    let spec = three_networks("norm = l2\n    radius = 1 of limit")
        .replace("onnx = \"third.onnx\"", "onnx = \"afile/third.onnx\"");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spec.rmem"), &spec).unwrap();
    std::fs::write(dir.path().join("afile"), b"a user's file\n").unwrap();
    let out = robmem_in(dir.path(), &["compile", "spec.rmem", "--json"]);
    // The message names the full path and the emit block that names it.
    let full = dir.path().canonicalize().unwrap().join("afile/third.onnx");
    let emit_line = spec.lines().position(|l| l == "emit third {").unwrap() + 1;
    expect(
        &out,
        2,
        &[
            &format!("cannot write {}: Not a directory", full.display()),
            &format!("[spec.rmem:{emit_line}:1]"),
        ],
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["network"], "first");
    assert_eq!(lines[1]["error"]["kind"], "radius");
    assert_eq!(lines[2]["network"], "third");
    assert_eq!(lines[2]["error"]["kind"], "io");
    assert_eq!(
        lines[2]["error"]["place"],
        format!("spec.rmem:{emit_line}:1")
    );
    assert!(written(dir.path(), "first"));
    nothing_of(dir.path(), "second");
    assert!(!dir.path().join("third.cert.json").exists());
    assert_eq!(
        std::fs::read(dir.path().join("afile")).unwrap(),
        b"a user's file\n"
    );
}

#[test]
fn a_spec_that_compiles_exits_0_with_one_line_per_network() {
    let spec = three_networks("norm = l1\n    radius = 0.5 of limit");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spec.rmem"), &spec).unwrap();
    let out = robmem_in(dir.path(), &["compile", "spec.rmem", "--json"]);
    expect(&out, 0, &[]);
    let lines = json_lines(&out);
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l["network"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["first", "second", "third"]);
    assert!(lines.iter().all(|l| l.get("error").is_none()));
}
