//! `robmem compile` end to end, running the binary: the files it writes and
//! their ONNX metadata (specs/onnx.md), `--json` keys and values, `--emit ir`
//! and `--emit layers` (print, write nothing), `--network` with a hint,
//! radii beyond the width budget or at the limit (exit 1, naming the figures
//! to change), unwritable outputs (exit 2, no partial file), notes about
//! the certificate not written yet, `--help`, and byte-identical files across runs.

use robmem::backend::onnx::read_onnx_file;
use robmem::eval::evaluate_point;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tract_onnx::prelude::Framework;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs robmem from the crate root with `args`.
fn robmem(args: &[&str]) -> Output {
    robmem_with_env(args, &[])
}

fn robmem_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_robmem"));
    command
        .args(args)
        .current_dir(manifest_dir())
        .env("NO_COLOR", "1");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run robmem")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// stderr with miette's wrapping and box-drawing undone: one line, single
/// spaces, so that phrases and figures can be searched for.
fn flat_stderr(out: &Output) -> String {
    text(&out.stderr)
        .replace(['│', '·', '╭', '╰', '─', '┬'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("robmem exited normally")
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Every file under `dir`, recursively, relative to it.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Writes `text` to `NAME.rmem` in a fresh temporary folder.
fn temp_spec(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.rmem"));
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// The JSON lines robmem printed.
fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn compile_xor_writes_the_onnx_file_with_the_documented_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let out = robmem(&["compile", "examples/xor.rmem", "--out", s(dir.path())]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    // The ONNX file and its certificate, nothing else (no temporary file).
    assert_eq!(
        files_under(dir.path()),
        vec![
            PathBuf::from("out/xor.cert.json"),
            PathBuf::from("out/xor.onnx")
        ]
    );
    let path = dir.path().join("out/xor.onnx");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("network xor_net"), "{stdout}");
    assert!(
        stdout.contains(s(&path)),
        "summary names the file: {stdout}"
    );

    let (net, meta) = read_onnx_file(&path).unwrap();
    assert_eq!(meta.ir_version, 8);
    assert_eq!(meta.opset_version, Some(13));
    assert_eq!(meta.output_name, "logits");
    assert_eq!(meta.producer_name, "robmem");
    assert_eq!(meta.producer_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(meta.graph_name, "xor_net");
    assert_eq!(
        meta.precision,
        robmem::spec::Precision::F32,
        "float by default"
    );
    let keys: Vec<&str> = meta.properties.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "robmem.version",
            "robmem.network",
            "robmem.spec_sha256",
            "robmem.norm",
            "robmem.radius",
            "robmem.output",
            "robmem.labels"
        ]
    );
    let spec_bytes = std::fs::read(manifest_dir().join("examples/xor.rmem")).unwrap();
    let sha: String = Sha256::digest(&spec_bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        meta.property("robmem.version"),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(meta.property("robmem.network"), Some("xor_net"));
    assert_eq!(meta.property("robmem.spec_sha256"), Some(sha.as_str()));
    assert_eq!(meta.property("robmem.norm"), Some("l2"));
    // The radius round-trips to the f64 the compiler used: 0.9 of 1/2.
    let radius: f64 = meta.property("robmem.radius").unwrap().parse().unwrap();
    assert_eq!(radius, 0.9 * 0.5);
    assert_eq!(meta.property("robmem.output"), Some("logits"));
    let labels: serde_json::Value =
        serde_json::from_str(meta.property("robmem.labels").unwrap()).unwrap();
    assert_eq!(
        labels.to_string(),
        "[0,1]",
        "integral labels are written as integers"
    );

    // The network read back is XOR.
    assert_eq!(net.input_dim, 2);
    for (x, label) in [
        ([0.0, 0.0], 0),
        ([1.0, 1.0], 0),
        ([0.0, 1.0], 1),
        ([1.0, 0.0], 1),
    ] {
        let y = evaluate_point(&net, &x);
        assert_eq!(y.len(), 2);
        let other = 1 - label;
        assert!(y[label] > y[other], "{x:?}: logits {y:?}");
    }

    // Input and output names as tract sees them.
    let model = tract_onnx::onnx().model_for_path(&path).unwrap();
    let input = model.input_outlets().unwrap()[0];
    assert_eq!(model.node(input.node).name, "input");
    let output = model.output_outlets().unwrap()[0];
    assert_eq!(model.outlet_label(output), Some("logits"));
}

#[test]
fn json_prints_one_object_per_network_with_the_documented_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = robmem(&[
        "compile",
        "examples/xor.rmem",
        "--json",
        "--out",
        s(dir.path()),
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let v = &lines[0];
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    let documented = [
        "network",
        "points",
        "dim",
        "labels",
        "norm",
        "delta",
        "limit",
        "radius",
        "ratio",
        "construction",
        "construction_reason",
        "projection",
        "m",
        "width",
        "depth",
        "parameters",
        "seconds",
    ];
    let extras = [
        "draws",
        "slots_per_label",
        "delta_projected",
        "gamma",
        "rounding_bound",
        "rounding_limit",
        "written",
        "certified_radius",
        "arithmetics",
    ];
    let expected: BTreeSet<&str> = documented.iter().chain(&extras).copied().collect();
    assert_eq!(keys, expected);
    assert_eq!(v["network"], "xor_net");
    assert_eq!(v["points"], 4);
    assert_eq!(v["dim"], 2);
    assert_eq!(v["labels"], 2);
    assert_eq!(v["norm"], "l2");
    assert_eq!(v["delta"].as_f64(), Some(1.0));
    assert_eq!(v["limit"].as_f64(), Some(0.5));
    let radius = v["radius"].as_f64().unwrap();
    assert!((radius - 0.45).abs() < 1e-12, "radius {radius}");
    let ratio = v["ratio"].as_f64().unwrap();
    assert!((ratio - 0.9).abs() < 1e-12, "ratio {ratio}");
    assert!(v["m"].as_u64().unwrap() >= 1);
    for key in ["width", "depth", "parameters"] {
        assert!(v[key].as_u64().unwrap() >= 1, "{key}: {}", v[key]);
    }
    let phases = v["seconds"].as_object().unwrap();
    for phase in ["load", "projection", "assemble", "lower", "passes", "write"] {
        let t = phases[phase].as_f64().unwrap();
        assert!(t >= 0.0, "{phase}: {t}");
    }
    let written = dir.path().join("out/xor.onnx");
    let certificate = dir.path().join("out/xor.cert.json");
    assert_eq!(
        v["written"],
        serde_json::json!([s(&written), s(&certificate)])
    );
    assert!(written.is_file());

    // One line per network, in declaration order.
    let dir = tempfile::tempdir().unwrap();
    let out = robmem(&[
        "compile",
        "examples/generators.rmem",
        "--json",
        "--out",
        s(dir.path()),
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let names: Vec<String> = json_lines(&out)
        .iter()
        .map(|v| v["network"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["cloud_l1", "cloud_linf", "sphere_net", "grid_net"]);
    // Networks without an emit block go to DIR/NAME.onnx.
    assert_eq!(
        files_under(dir.path()),
        [
            "cloud_l1.onnx",
            "cloud_linf.onnx",
            "grid_net.onnx",
            "sphere_net.onnx"
        ]
        .map(PathBuf::from)
    );
}

#[test]
fn emit_ir_and_emit_layers_print_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = robmem(&[
        "compile",
        "examples/xor.rmem",
        "--out",
        s(dir.path()),
        "--emit",
        "ir",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let ir = text(&out.stdout);
    for needle in ["stage projection", "stage scores", "gamma", "delta'"] {
        assert!(ir.contains(needle), "no `{needle}` in:\n{ir}");
    }
    assert!(!ir.contains("wrote"), "{ir}");

    let out = robmem(&[
        "compile",
        "examples/xor.rmem",
        "--out",
        s(dir.path()),
        "--emit",
        "layers",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let layers = text(&out.stdout);
    let layer_lines: Vec<&str> = layers.lines().filter(|l| l.starts_with("layer ")).collect();
    assert!(!layer_lines.is_empty(), "{layers}");
    assert!(layer_lines.last().unwrap().contains("identity"), "{layers}");
    let total = layers.lines().last().unwrap();
    assert!(
        total.starts_with("total:") && total.contains(&format!("depth {}", layer_lines.len())),
        "{layers}"
    );
    assert!(
        files_under(dir.path()).is_empty(),
        "{:?}",
        files_under(dir.path())
    );
}

#[test]
fn unknown_network_exits_1_with_a_hint_naming_existing_networks() {
    let out = robmem(&[
        "compile",
        "examples/generators.rmem",
        "--network",
        "cloud_l2",
    ]);
    assert_eq!(code(&out), 1);
    let err = flat_stderr(&out);
    assert!(err.contains("no network `cloud_l2`"), "{err}");
    assert!(err.contains("did you mean `cloud_l1`?"), "{err}");

    let out = robmem(&["compile", "examples/xor.rmem", "--network", "nope"]);
    assert_eq!(code(&out), 1);
    let err = flat_stderr(&out);
    assert!(err.contains("no network `nope`"), "{err}");
    assert!(err.contains("xor_net"), "names the existing network: {err}");

    // --network selects one network.
    let dir = tempfile::tempdir().unwrap();
    let out = robmem(&[
        "compile",
        "examples/generators.rmem",
        "--network",
        "grid_net",
        "--json",
        "--out",
        s(dir.path()),
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(json_lines(&out).len(), 1);
    assert_eq!(files_under(dir.path()), [PathBuf::from("grid_net.onnx")]);
}

/// 200 blobs in 16 dimensions with a width budget of 14 and `pca`.
fn budget_spec(radius: &str, width: usize) -> String {
    format!(
        "dataset cloud = blobs(points = 200, dim = 16, labels = 4, spread = 0.3, seed = 41)\n\
         network cloud_net {{\n    data = cloud\n    norm = l2\n    radius = {radius}\n    \
         width = {width}\n    projection = pca\n}}\n"
    )
}

#[test]
fn radius_beyond_the_width_budget_exits_1_naming_the_best_radius_and_the_width_needed() {
    // The supremum that width 14 certifies, from the library.
    let (_spec_dir, path) = temp_spec("budget", &budget_spec("max", 14));
    let dir = tempfile::tempdir().unwrap();
    let program = robmem::resolve::load_program(&path).unwrap();
    let outcome = robmem::analysis::report::check_program(&program).unwrap();
    let report = &outcome.reports[0];
    let sep = robmem::analysis::separation::Separation {
        delta: report.delta,
        pair: report.pair.as_ref().map(|(a, b)| (a.index, b.index)),
    };
    let net = &program.networks[0];
    let compiled = robmem::pipeline::compile(&outcome.datasets[net.data], net, &sep).unwrap();
    assert!(compiled.summary.width <= 14);
    let supremum = compiled.plan.scores().unwrap().candidate.sigma_max;
    let radius = supremum * 1.01;
    assert!(
        radius < report.limit,
        "the test needs a radius below the limit"
    );

    let (_dir, path) = temp_spec("over", &budget_spec(&format!("{radius}"), 14));
    let out = robmem(&["compile", s(&path), "--out", s(dir.path())]);
    assert_eq!(code(&out), 1, "{}", text(&out.stderr));
    let err = flat_stderr(&out);
    assert!(err.contains("within width 14"), "{err}");
    assert!(
        err.contains(&format!(
            "the largest radius width 14 certifies is {supremum}"
        )),
        "names the largest certifiable radius {supremum}: {err}"
    );
    // "...; width W certifies RADIUS", and W does certify it.
    let tail = format!(" certifies {radius}");
    let at = err
        .find(&tail)
        .unwrap_or_else(|| panic!("no `{tail}` in {err}"));
    let width: usize = err[..at]
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no width before `{tail}` in {err}"));
    assert!(width > 14, "{err}");
    assert!(err.contains(&format!("raise `width` to {width}")), "{err}");
    assert!(files_under(dir.path()).is_empty());

    let (_dir, path) = temp_spec("wider", &budget_spec(&format!("{radius}"), width));
    let out = robmem(&["compile", s(&path), "--json", "--out", s(dir.path())]);
    assert_eq!(code(&out), 0, "width {width}: {}", text(&out.stderr));
    let v = &json_lines(&out)[0];
    assert_eq!(v["radius"].as_f64(), Some(radius));
    assert!(v["width"].as_u64().unwrap() <= width as u64);
}

#[test]
fn radius_at_the_limit_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let (_spec_dir, path) = temp_spec("limit", &budget_spec("1 of limit", 14));
    let out = robmem(&["compile", s(&path), "--out", s(dir.path())]);
    assert_eq!(code(&out), 1, "{}", text(&out.stderr));
    let err = flat_stderr(&out);
    assert!(err.contains("not below the limit"), "{err}");
    assert!(files_under(dir.path()).is_empty());
}

#[test]
fn unwritable_output_exits_2_and_leaves_no_partial_file() {
    // --out under a regular file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "not a folder").unwrap();
    let out = robmem(&[
        "compile",
        "examples/xor.rmem",
        "--out",
        s(&file.join("sub")),
    ]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(
        flat_stderr(&out).contains("cannot write"),
        "{}",
        flat_stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder");
    assert_eq!(files_under(dir.path()), [PathBuf::from("file")]);

    // The target name is taken by a folder: the rename fails, and no
    // temporary file is left next to it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("out/xor.onnx")).unwrap();
    let out = robmem(&["compile", "examples/xor.rmem", "--out", s(dir.path())]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(
        flat_stderr(&out).contains("cannot write"),
        "{}",
        flat_stderr(&out)
    );
    assert!(
        files_under(dir.path()).is_empty(),
        "{:?}",
        files_under(dir.path())
    );
}

#[test]
fn certificates_are_announced_and_vnnlib_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = robmem(&["compile", "examples/tour.rmem", "--out", s(dir.path())]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let err = flat_stderr(&out);
    let announced = format!(
        "certificate for `xor_net` ({}): radius 0.45 (l2), holds in real, float32, float64",
        dir.path().join("out/xor.cert.json").display()
    );
    assert!(err.contains(&announced), "{err}");
    // One note per certificate written: each names its own file.
    let stderr = text(&out.stderr);
    let notes: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("note: certificate for"))
        .collect();
    let distinct: BTreeSet<&&str> = notes.iter().collect();
    assert_eq!(distinct.len(), notes.len(), "{notes:?}");
    assert!(!err.contains("not written"), "{err}");
    let files = files_under(dir.path());
    assert!(files.contains(&PathBuf::from("out/xor.onnx")), "{files:?}");
    assert!(
        files.contains(&PathBuf::from("out/xor.cert.json")),
        "{files:?}"
    );
    assert!(
        files.contains(&PathBuf::from("out/xor-vnnlib/instances.csv")),
        "{files:?}"
    );
    assert!(
        text(&out.stdout).contains("xor-vnnlib"),
        "the summary names the folder"
    );
}

#[test]
fn compile_help_mentions_exit_codes_and_examples() {
    let out = robmem(&["compile", "--help"]);
    assert_eq!(code(&out), 0);
    let help = text(&out.stdout);
    assert!(help.contains("Exit codes"), "{help}");
    assert!(
        help.contains("0 ok") && help.contains("1 invalid spec") && help.contains("2 unreadable"),
        "{help}"
    );
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("robmem compile examples/xor.rmem"), "{help}");
    for option in ["--network", "--out", "--json", "--emit"] {
        assert!(help.contains(option), "{option}: {help}");
    }
}

/// 120 blobs in 32 dimensions with a random projection.
fn random_spec(seed: u64) -> String {
    format!(
        "dataset cloud = blobs(points = 120, dim = 32, labels = 3, spread = 0.05, seed = 9)\n\
         network cloud_net {{\n    data = cloud\n    norm = l2\n    radius = 0.2 of limit\n    \
         projection = random\n    seed = {seed}\n}}\n\
         emit cloud_net {{ onnx = \"cloud.onnx\" }}\n"
    )
}

/// Compiles `spec` into a fresh folder and returns the bytes of `cloud.onnx`.
fn compile_bytes(spec: &Path, threads: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = robmem_with_env(
        &["compile", s(spec), "--out", s(dir.path())],
        &[("RAYON_NUM_THREADS", threads)],
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    std::fs::read(dir.path().join("cloud.onnx")).unwrap()
}

#[test]
fn same_spec_and_seed_give_byte_identical_files_and_another_seed_another_network() {
    let (_d5, seed5) = temp_spec("seed", &random_spec(5));
    let first = compile_bytes(&seed5, "1");
    let second = compile_bytes(&seed5, "2");
    assert!(first == second, "two runs of one spec differ");

    let (_d6, seed6) = temp_spec("seed", &random_spec(6));
    let other = compile_bytes(&seed6, "2");
    // The spec hash differs anyway; the network itself must differ too.
    let (a, _) = robmem::backend::onnx::read_onnx(&first).unwrap();
    let (b, _) = robmem::backend::onnx::read_onnx(&other).unwrap();
    assert!(
        a.layers[0].weight != b.layers[0].weight,
        "seeds 5 and 6 give the same projection"
    );
    assert!(first != other);

    // A deterministic strategy (pca) is byte-identical too.
    let pca = random_spec(5).replace("projection = random", "projection = pca");
    let (_dp, pca) = temp_spec("pca", &pca);
    let first = compile_bytes(&pca, "1");
    let second = compile_bytes(&pca, "2");
    assert!(first == second, "two runs of a pca spec differ");
}

#[test]
fn every_example_compiles_to_byte_identical_files_across_runs() {
    let dir = manifest_dir().join("examples");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rmem"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 7);
    for spec in specs {
        let runs: Vec<Vec<(PathBuf, Vec<u8>)>> = ["1", "2"]
            .iter()
            .map(|threads| {
                let out_dir = tempfile::tempdir().unwrap();
                let out = robmem_with_env(
                    &["compile", s(&spec), "--out", s(out_dir.path())],
                    &[("RAYON_NUM_THREADS", threads)],
                );
                assert_eq!(code(&out), 0, "{}: {}", spec.display(), text(&out.stderr));
                files_under(out_dir.path())
                    .into_iter()
                    .map(|f| {
                        let bytes = std::fs::read(out_dir.path().join(&f)).unwrap();
                        (f, bytes)
                    })
                    .collect()
            })
            .collect();
        assert!(!runs[0].is_empty(), "{}: nothing written", spec.display());
        assert!(runs[0] == runs[1], "{}: two runs differ", spec.display());
    }
}

#[test]
fn label_output_with_named_labels_and_f64_is_described_in_the_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let out = robmem(&["compile", "examples/label.rmem", "--out", s(dir.path())]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let (net, meta) = read_onnx_file(&dir.path().join("out/shapes.onnx")).unwrap();
    assert_eq!(meta.output_name, "label");
    assert_eq!(meta.precision, robmem::spec::Precision::F64);
    assert_eq!(meta.graph_name, "shape_net");
    assert_eq!(meta.property("robmem.output"), Some("label"));
    assert_eq!(meta.property("robmem.norm"), Some("l(3)"));
    assert_eq!(meta.property("robmem.radius"), Some("0.25"));
    let labels: serde_json::Value =
        serde_json::from_str(meta.property("robmem.labels").unwrap()).unwrap();
    assert_eq!(
        labels,
        serde_json::json!(["circle", "square", "long triangle"])
    );
    // The output is the class index in that order.
    for (x, class) in [
        ([0.0, 0.0, 0.0], 0.0),
        ([1.0, 0.0, 0.5], 1.0),
        ([0.0, 1.0, 1.0], 2.0),
        ([1.0, 1.0, 0.0], 0.0),
    ] {
        assert_eq!(evaluate_point(&net, &x), vec![class], "{x:?}");
    }
}

#[test]
fn unreadable_spec_and_usage_errors_exit_2() {
    let out = robmem(&["compile", "no/such/spec.rmem"]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(
        flat_stderr(&out).contains("cannot read spec file"),
        "{}",
        flat_stderr(&out)
    );
    let out = robmem(&["compile", "examples/xor.rmem", "--emit", "onnx"]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn a_network_without_emit_block_and_without_out_writes_nothing_and_says_so() {
    // grid_net has no emit block; without --out nothing may be written next
    // to the spec.
    let (dir, path) = temp_spec(
        "grid",
        "dataset grid = grid(side = 5, dim = 2, labels = 2, seed = 2)\n\
         network grid_net { data = grid norm = linf radius = 0.08 }\n",
    );
    let out = robmem(&["compile", s(&path)]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let err = flat_stderr(&out);
    assert!(
        err.contains("network `grid_net` has no `emit` block: nothing written"),
        "{err}"
    );
    assert!(err.contains("--out DIR"), "{err}");
    assert_eq!(files_under(dir.path()), [PathBuf::from("grid.rmem")]);
    assert!(text(&out.stdout).contains("network grid_net"));
}

/// Runs robmem with standard output and standard error piped, closes the
/// ends named by `close_stdout` / `close_stderr` before it writes anything,
/// and returns its exit status and what it wrote to the other stream.
fn run_with_closed(args: &[&str], close_stdout: bool, close_stderr: bool) -> (i32, String) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_robmem"))
        .args(args)
        .current_dir(manifest_dir())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run robmem");
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    if close_stdout {
        drop(stdout.take());
    }
    if close_stderr {
        drop(stderr.take());
    }
    let mut other = String::new();
    if let Some(mut pipe) = stdout {
        pipe.read_to_string(&mut other)
            .expect("read standard output");
    } else if let Some(mut pipe) = stderr {
        pipe.read_to_string(&mut other)
            .expect("read standard error");
    }
    let status = child.wait().expect("wait for robmem");
    (status.code().unwrap_or(-1), other)
}

#[test]
fn a_closed_stdout_ends_quietly_with_status_141_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    for args in [
        vec!["check", "examples/tour.rmem"],
        vec!["check", "examples/xor.rmem", "--json"],
        vec!["compile", "examples/xor.rmem", "--out", out, "--quiet"],
    ] {
        let (status, stderr) = run_with_closed(&args, true, false);
        assert_eq!(status, 141, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_closed_stderr_does_not_stop_compile() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (status, stdout) =
        run_with_closed(&["compile", "examples/xor.rmem", "--out", out], false, true);
    assert_eq!(status, 0, "{stdout}");
    assert!(stdout.contains("xor_net"), "{stdout}");
    assert!(dir.path().join("out/xor.cert.json").is_file());
}

#[test]
fn radius_max_beyond_float32_at_a_width_budget_names_width_and_precision() {
    let spec = |width: usize| {
        format!(
            "dataset blobs = blobs(points = 400, dim = 32, labels = 5, spread = 0.3, seed = 2)\n\
             network net {{ data = blobs  norm = l2  radius = max  width = {width}  seed = 1  projection = pca }}\n"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let (_narrow_dir, narrow) = temp_spec("narrow", &spec(12));
    let out = robmem(&["compile", s(&narrow), "--out", s(dir.path())]);
    assert_eq!(code(&out), 1, "{}", text(&out.stderr));
    let err = flat_stderr(&out);
    assert!(err.contains("no radius is certified in float32"), "{err}");
    assert!(err.contains("raise `width`"), "{err}");
    assert!(err.contains("use `precision = f64`"), "{err}");
    // Both fixes do what the help says.
    let (_wide_dir, wide) = temp_spec("wide", &spec(16));
    let out = robmem(&["compile", s(&wide), "--out", s(dir.path())]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let (_f64_dir, in_f64) = temp_spec(
        "f64",
        &spec(12).replace("projection = pca", "projection = pca  precision = f64"),
    );
    let out = robmem(&["compile", s(&in_f64), "--out", s(dir.path())]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
}
