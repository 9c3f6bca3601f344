//! `robmem compile` writes certificates that `robmem verify` confirms, and
//! every tampered file is rejected by recomputation, naming the claim.
//!
//! Each tampering test rewrites the certificate's hashes to match the
//! tampered files, so the rejection must come from recomputing the claims;
//! `hash_mismatch_alone_is_reported` checks the hashes on their own.

mod support;

use robmem::backend::onnx::{read_onnx, write_onnx, OnnxOptions};
use robmem::verify::certificate::sha256_hex;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn robmem() -> Command {
    Command::new(env!("CARGO_BIN_EXE_robmem"))
}

/// A compiled spec in its own folder.
struct Compiled {
    dir: tempfile::TempDir,
    cert: PathBuf,
}

impl Compiled {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn certificate(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(&self.cert).unwrap()).unwrap()
    }
    fn write_certificate(&self, cert: &Value) {
        std::fs::write(&self.cert, serde_json::to_string_pretty(cert).unwrap()).unwrap();
    }
    /// Rewrites the model hash to the current ONNX file.
    fn rehash_model(&self) {
        let mut cert = self.certificate();
        let bytes = std::fs::read(self.path("net.onnx")).unwrap();
        cert["model"]["sha256"] = sha256_hex(&bytes).into();
        self.write_certificate(&cert);
    }
    /// Rewrites the data hash (and counts) to the current spec's data.
    fn rehash_data(&self) {
        let (hash, points) = support::spec_data_hash(&self.path("spec.rmem"));
        let mut cert = self.certificate();
        cert["data"]["sha256"] = hash.into();
        cert["data"]["points"] = points.into();
        self.write_certificate(&cert);
    }
}

/// Writes `csv` (a data file, label in column `label`) and a spec around
/// `network` (the body of a network block), and compiles it.
fn compile(csv: &str, network: &str) -> Compiled {
    compile_emitting(
        csv,
        network,
        "onnx = \"net.onnx\"  certificate = \"net.cert.json\"",
        "net.cert.json",
    )
}

/// As [`compile`], with the body of the emit block and the certificate path.
fn compile_emitting(csv: &str, network: &str, emit: &str, cert: &str) -> Compiled {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.csv"), csv).unwrap();
    let spec = format!(
        "dataset d = csv(\"data.csv\", label = \"label\")\n\
         network net {{\n    data = d\n{network}\n}}\n\
         emit net {{ {emit} }}\n"
    );
    std::fs::write(dir.path().join("spec.rmem"), spec).unwrap();
    let out = robmem()
        .args(["compile", "spec.rmem"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "compile failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cert = dir.path().join(cert);
    assert!(cert.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    Compiled { dir, cert }
}

/// `n` random points of dimension `d`, `labels` classes, as CSV text.
fn random_csv(seed: u64, n: usize, d: usize, labels: usize) -> String {
    let data = support::random_data(seed, n, d, labels, false);
    let mut text: String = (0..d).map(|k| format!("x{k},")).collect::<String>() + "label\n";
    for i in 0..n {
        for k in 0..d {
            text += &format!("{},", data.points[[i, k]]);
        }
        text += &format!("{}\n", data.labels[i]);
    }
    text
}

/// Runs `robmem verify --json` and returns (exit code, failed claim names).
fn verify(cert: &Path) -> (i32, Vec<String>, Value) {
    support::verify_claims(cert)
}

fn assert_holds(compiled: &Compiled) {
    let (code, failed, report) = verify(&compiled.cert);
    assert_eq!(code, 0, "failed claims {failed:?}: {report}");
}

fn assert_rejected(compiled: &Compiled, claims: &[&str]) {
    let (code, failed, report) = verify(&compiled.cert);
    assert_eq!(code, 1, "expected a rejection: {report}");
    assert!(
        failed
            .iter()
            .any(|f| claims.iter().any(|c| f.starts_with(c))),
        "expected one of {claims:?} to fail, failed: {failed:?}"
    );
}

/// Reads net.onnx, lets `change` edit its layers, writes it back (f32).
fn tamper_model(compiled: &Compiled, change: impl FnOnce(&mut robmem::ir::layers::LayerNetwork)) {
    let path = compiled.path("net.onnx");
    let (mut net, _) = read_onnx(&std::fs::read(&path).unwrap()).unwrap();
    change(&mut net);
    let bytes = write_onnx(&net, &OnnxOptions::default()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    compiled.rehash_model();
}

const DEEP: &str = "    norm = l2\n    radius = 0.5 of limit\n    width = 14";

fn deep() -> Compiled {
    compile(&random_csv(11, 60, 5, 3), DEEP)
}

#[test]
fn every_example_certificate_verifies() {
    let out_dir = tempfile::tempdir().unwrap();
    let mut certificates = 0;
    for example in support::examples() {
        let status = robmem()
            .args(["compile"])
            .arg(&example)
            .arg("--out")
            .arg(out_dir.path())
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", example.display());
    }
    for entry in std::fs::read_dir(out_dir.path().join("out")).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".cert.json") {
            let (code, failed, _) = verify(&path);
            assert_eq!(code, 0, "{}: {failed:?}", path.display());
            certificates += 1;
        }
    }
    assert!(
        certificates >= 4,
        "only {certificates} certificates written"
    );
}

#[test]
fn random_data_sets_verify_in_every_norm() {
    for (seed, norm, radius) in [
        (1, "l2", "max"),
        (2, "l1", "0.3 of limit"),
        (3, "linf", "0.2 of limit"),
        (4, "l(3)", "0.2 of limit"),
        (5, "l2", "0.9 of limit"),
    ] {
        let compiled = compile(
            &random_csv(seed, 40, 4, 3),
            &format!("    norm = {norm}\n    radius = {radius}"),
        );
        let cert = compiled.certificate();
        assert_eq!(cert["semantics"][0], "real", "{norm}");
        assert_holds(&compiled);
    }
}

#[test]
fn yaml_certificates_are_read_too() {
    let compiled = deep();
    let cert = compiled.certificate();
    let yaml = compiled.path("net.cert.yaml");
    std::fs::write(&yaml, serde_yaml::to_string(&cert).unwrap()).unwrap();
    let (code, failed, _) = verify(&yaml);
    assert_eq!(code, 0, "{failed:?}");
}

#[test]
fn hash_mismatch_alone_is_reported() {
    let compiled = deep();
    let mut cert = compiled.certificate();
    cert["model"]["sha256"] = "00".repeat(32).into();
    compiled.write_certificate(&cert);
    let (code, failed, _) = verify(&compiled.cert);
    assert_eq!((code, failed), (1, vec!["model file".to_string()]));

    let mut cert = compiled.certificate();
    compiled.rehash_model();
    cert["data"]["sha256"] = "11".repeat(32).into();
    cert["model"] = compiled.certificate()["model"].clone();
    compiled.write_certificate(&cert);
    let (code, failed, _) = verify(&compiled.cert);
    assert_eq!((code, failed), (1, vec!["data".to_string()]));
}

#[test]
fn negated_neuron_is_rejected() {
    let compiled = deep();
    tamper_model(&compiled, |net| {
        let mut row = net.layers[2].weight.row_mut(5);
        row.mapv_inplace(|w| -w);
        net.layers[2].bias[5] = -net.layers[2].bias[5];
    });
    assert_rejected(&compiled, &["gadgets"]);
}

#[test]
fn bias_moving_a_decision_is_rejected() {
    let compiled = deep();
    // The logits' scale makes every certified margin >= 1: a shift of 5
    // moves decisions.
    tamper_model(&compiled, |net| {
        let last = net.layers.len() - 1;
        net.layers[last].bias[0] += 5.0;
    });
    assert_rejected(&compiled, &["margins"]);
}

#[test]
fn one_ulp_in_a_carried_coordinate_is_rejected() {
    // A carried coordinate must be exactly 1 x u_k; one unit in the last
    // place makes it another neuron than the gadget claims.
    let compiled = deep();
    tamper_model(&compiled, |net| {
        let layer = &mut net.layers[2];
        let (neuron, input) = (0..layer.weight.nrows())
            .flat_map(|n| (0..layer.weight.ncols()).map(move |i| (n, i)))
            .find(|&(n, i)| layer.weight[[n, i]] == 1.0 && layer.bias[n] == 0.0)
            .expect("a carried coordinate");
        layer.weight[[neuron, input]] = f64::from((1.0f32).next_up());
    });
    assert_rejected(&compiled, &["gadgets"]);
}

#[test]
fn one_ulp_in_a_score_is_judged_by_recomputed_margins() {
    // A score weight one ulp off is still a score, so the gadget claim
    // holds; the verifier must then judge the network by the margins it
    // recomputes from the changed weights. Here the last comparison of
    // layer 1 (a score of one of the points) has every weight moved one
    // float32 ulp towards zero. That lowers the recomputed margins below
    // the ones the certificate states (they carry a relative slack of only
    // 1e-9), so the outcome is a rejection by the margin claims, in every
    // arithmetic, and by nothing else: the gadgets, delta' and 2r < delta'
    // still hold.
    let compiled = deep();
    tamper_model(&compiled, |net| {
        let layer = &mut net.layers[1];
        for w in layer.weight.row_mut(layer.weight.nrows() - 1).iter_mut() {
            let x = *w as f32;
            if x != 0.0 && x.abs() != 1.0 {
                *w = f64::from(if x > 0.0 { x.next_down() } else { x.next_up() });
            }
        }
    });
    let (code, failed, report) = verify(&compiled.cert);
    assert_eq!(code, 1, "{report}");
    assert!(!failed.is_empty());
    assert!(
        failed.iter().all(|f| f.starts_with("margins")),
        "a one-ulp score change may only fail the recomputed margins: {failed:?}"
    );
    let claims = report["claims"].as_array().unwrap();
    let held = |name: &str| {
        let named: Vec<&Value> = claims
            .iter()
            .filter(|c| c["claim"].as_str().unwrap().starts_with(name))
            .collect();
        !named.is_empty() && named.iter().all(|c| c["held"] == true)
    };
    assert!(held("gadgets") && held("delta'") && held("2r"), "{report}");
}

/// The first carried accumulator row `1 x a + 1 x q` (exactly two weights,
/// both 1, bias 0) after layer 1: (layer, neuron, the two inputs).
fn carried_accumulator(net: &robmem::ir::layers::LayerNetwork) -> (usize, usize, [usize; 2]) {
    for (l, layer) in net.layers.iter().enumerate().skip(2) {
        for n in 0..layer.weight.nrows() {
            let inputs: Vec<usize> = (0..layer.weight.ncols())
                .filter(|&i| layer.weight[[n, i]] != 0.0)
                .collect();
            if let [a, q] = inputs[..] {
                if layer.weight[[n, a]] == 1.0
                    && layer.weight[[n, q]] == 1.0
                    && layer.bias[n] == 0.0
                {
                    return (l, n, [a, q]);
                }
            }
        }
    }
    panic!("no carried accumulator");
}

#[test]
fn a_carried_running_maximum_off_by_one_ulp_or_biased_is_rejected() {
    // Section 6.1's depth-free rounding bound holds only for carried rows
    // exactly (1, 1) with bias 0; a row (1, 1 + ulp) or a tiny bias is not
    // the gadget at all, so the checker refuses it rather than apply either
    // rounding rule.
    for tamper in 0..2 {
        let compiled = deep();
        tamper_model(&compiled, |net| {
            let (l, n, [_, q]) = carried_accumulator(net);
            match tamper {
                0 => net.layers[l].weight[[n, q]] = f64::from((1.0f32).next_up()),
                _ => net.layers[l].bias[n] = f64::from(f32::EPSILON),
            }
        });
        assert_rejected(&compiled, &["gadgets"]);
    }
}

#[test]
fn a_running_maximum_starting_below_zero_is_rejected_on_accumulators() {
    // The first score of every running maximum must be >= 0 on every ball
    // (it passes a ReLU as the accumulator's start). Lowering the biases of
    // the second layer's scores (every neuron there that is not a carried
    // coordinate) by far more than any score makes them negative.
    let compiled = deep();
    tamper_model(&compiled, |net| {
        let layer = &mut net.layers[1];
        for n in 0..layer.bias.len() {
            let row = layer.weight.row(n);
            let carried = row.iter().filter(|&&w| w != 0.0).count() == 1
                && row.iter().any(|&w| w == 1.0)
                && layer.bias[n] == 0.0;
            if !carried {
                layer.bias[n] -= 1e4;
            }
        }
    });
    let (code, failed, report) = verify(&compiled.cert);
    assert_eq!(code, 1, "expected a rejection: {report}");
    assert!(
        failed.iter().any(|f| f.starts_with("accumulators")),
        "the accumulators claim should fail, failed: {failed:?}"
    );
}

#[test]
fn a_first_layer_neuron_negative_on_one_ball_is_rejected_and_names_the_point() {
    // Every first-layer pre-activation must be >= 0 on every ball. Lower
    // neuron 0's bias until it dips below zero on the ball of the point
    // where it is least: the checker names neuron 0 and the first point
    // (in data order) whose ball reaches below zero.
    let data = support::random_data(41, 40, 4, 3, false);
    let compiled = compile(
        &random_csv(41, 40, 4, 3),
        "    norm = linf\n    radius = 0.5 of limit",
    );
    assert_holds(&compiled);
    let radius = compiled.certificate()["radius"].as_f64().unwrap();
    let mut named = None;
    tamper_model(&compiled, |net| {
        let layer = &mut net.layers[0];
        let row = layer.weight.row(0).to_owned();
        // How far the neuron falls on an l_inf ball: the l1 norm of its row.
        let slope = radius * row.iter().map(|w| w.abs()).sum::<f64>();
        let centres: Vec<f64> = data
            .points
            .rows()
            .into_iter()
            .map(|x| x.dot(&row) + layer.bias[0])
            .collect();
        let least = centres.iter().copied().fold(f64::INFINITY, f64::min);
        // Afterwards the least centre is slope / 2 above zero, its ball
        // reaches slope / 2 below.
        let shift = least - slope / 2.0;
        layer.bias[0] -= shift;
        let lowest_after = |c: f64| c - shift - slope;
        assert!(
            centres
                .iter()
                .all(|&c| lowest_after(c).abs() > 1e-3 * slope),
            "no point may sit at the threshold (pick another seed)"
        );
        named = centres.iter().position(|&c| lowest_after(c) < 0.0);
    });
    let (code, failed, report) = verify(&compiled.cert);
    assert_eq!(code, 1, "expected a rejection: {report}");
    assert!(
        failed.contains(&"first layer exact".to_string()),
        "{failed:?}"
    );
    let detail = report["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["claim"] == "first layer exact")
        .map(|c| c["detail"].as_str().unwrap().to_string())
        .unwrap();
    assert_eq!(
        detail,
        format!(
            "first-layer neuron 0 may be negative on the ball of point {}",
            named.unwrap()
        )
    );
}

#[test]
fn raised_radius_is_rejected() {
    // radius = max: the certificate states the largest radius the checker
    // confirms, so 1% more fails.
    let compiled = compile(&random_csv(21, 50, 4, 3), "    norm = l2\n    radius = max");
    assert_holds(&compiled);
    let mut cert = compiled.certificate();
    let radius = cert["radius"].as_f64().unwrap();
    cert["radius"] = (radius * 1.01).into();
    compiled.write_certificate(&cert);
    assert_rejected(
        &compiled,
        &["margins", "2r < delta'", "first layer", "accumulators"],
    );
}

#[test]
fn changed_norm_is_rejected() {
    let compiled = compile(
        &random_csv(31, 40, 6, 3),
        "    norm = l2\n    radius = 0.8 of limit",
    );
    let mut cert = compiled.certificate();
    cert["norm"] = "linf".into();
    compiled.write_certificate(&cert);
    assert_rejected(&compiled, &["margins", "2r < delta'", "projection bound"]);
}

/// Edits line `line` (0-based, after the header) of the data file.
fn tamper_data(compiled: &Compiled, edit: impl FnOnce(&mut Vec<String>)) {
    let path = compiled.path("data.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    edit(&mut lines);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    compiled.rehash_data();
}

/// Changes the first point's label (0 <-> another).
fn flip_first_label(lines: &mut [String]) {
    let mut fields: Vec<String> = lines[1].split(',').map(String::from).collect();
    let last = fields.len() - 1;
    fields[last] = if fields[last] == "0" {
        "1".into()
    } else {
        "0".into()
    };
    lines[1] = fields.join(",");
}

#[test]
fn changed_label_is_rejected() {
    let compiled = deep();
    tamper_data(&compiled, |lines| flip_first_label(lines));
    assert_rejected(&compiled, &["points and scores"]);
}

#[test]
fn moved_point_is_rejected() {
    let compiled = deep();
    // Move point 0 onto point 1's position (point 1 has another label).
    tamper_data(&compiled, |lines| {
        let target: Vec<String> = lines[2].split(',').map(String::from).collect();
        let mut fields: Vec<String> = lines[1].split(',').map(String::from).collect();
        let last = fields.len() - 1;
        fields[..last].clone_from_slice(&target[..last]);
        lines[1] = fields.join(",");
    });
    assert_rejected(&compiled, &["margins"]);
}

#[test]
fn removed_point_is_rejected() {
    let compiled = deep();
    tamper_data(&compiled, |lines| {
        lines.remove(3);
    });
    assert_rejected(&compiled, &["points and scores"]);
}

#[test]
fn swapped_layers_are_rejected() {
    let compiled = deep();
    tamper_model(&compiled, |net| {
        assert!(net.layers.len() > 5, "the test needs a deep network");
        net.layers.swap(2, 3);
    });
    // Two running-max layers have the same shape, and swapped they are still
    // running maxima: but each point's score now sits where the certificate
    // says another point's score is, so its recomputed margin fails (or the
    // rows no longer chain, and the gadgets fail).
    assert_rejected(&compiled, &["gadgets", "margins"]);
}

#[test]
fn another_specs_model_is_rejected() {
    let compiled = deep();
    let other = compile(&random_csv(12, 60, 5, 3), DEEP);
    std::fs::copy(other.path("net.onnx"), compiled.path("net.onnx")).unwrap();
    compiled.rehash_model();
    assert_rejected(
        &compiled,
        &["gadgets", "points and scores", "margins", "first layer"],
    );
}

#[test]
fn unreadable_inputs_exit_with_2() {
    let compiled = deep();
    std::fs::remove_file(compiled.path("net.onnx")).unwrap();
    assert_eq!(verify(&compiled.cert).0, 2);
    let (code, message, _) = verify(Path::new("/nonexistent/cert.json"));
    assert_eq!(code, 2);
    assert!(message[0].contains("cannot read"), "{message:?}");
}

fn generic(cert: &Path) -> (i32, String) {
    let out = robmem()
        .args(["verify", "--generic"])
        .arg(cert)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[test]
fn generic_check_confirms_small_networks_and_never_a_false_held() {
    let xor = "x,y,label\n0,0,0\n1,1,0\n0,1,1\n1,0,1\n";
    let compiled = compile(xor, "    norm = linf\n    radius = 0.5 of limit");
    let (code, text) = generic(&compiled.cert);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("4 held, 0 failed, 0 unknown"), "{text}");
    // Beyond delta/2 the balls of two labels meet: no network is robust.
    let mut cert = compiled.certificate();
    cert["radius"] = 0.51.into(); // linf separation of xor is 1
    compiled.write_certificate(&cert);
    let (code, text) = generic(&compiled.cert);
    assert!(code == 1 || code == 3, "exit {code}: {text}");
    assert!(!text.contains("4 held"), "{text}");
}

#[test]
fn vnnlib_folders_carry_a_certificate_of_their_robust_instances() {
    let compiled = compile_emitting(
        &random_csv(41, 30, 3, 3),
        "    norm = linf\n    radius = 0.4 of limit",
        "vnnlib = \"inst\"",
        "inst/net.cert.json",
    );
    let cert = compiled.cert.clone();
    let (code, failed, report) = verify(&cert);
    assert_eq!(code, 0, "{failed:?} {report}");
    // The certificate is about the folder's own ONNX copy, at the radius of
    // the robust instances.
    let cert: Value = serde_json::from_str(&std::fs::read_to_string(&cert).unwrap()).unwrap();
    assert_eq!(cert["model"]["path"], "onnx/net.onnx");
    assert!(cert["semantics"]
        .as_array()
        .unwrap()
        .contains(&"real".into()));
}

#[test]
fn data_and_model_can_be_given_on_the_command_line() {
    let compiled = deep();
    // Move the files away from where the certificate says they are.
    let elsewhere = tempfile::tempdir().unwrap();
    let model = elsewhere.path().join("moved.onnx");
    let data = elsewhere.path().join("moved.csv");
    std::fs::rename(compiled.path("net.onnx"), &model).unwrap();
    std::fs::copy(compiled.path("data.csv"), &data).unwrap();
    std::fs::remove_file(compiled.path("spec.rmem")).unwrap();
    assert_eq!(verify(&compiled.cert).0, 2, "the named files are gone");
    let out = robmem()
        .args(["verify", "--json", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg(&compiled.cert)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_point_at_the_projection_centre_keeps_its_accumulator() {
    // The 5 x 5 grid's mean is a data point: its score is constant, and the
    // accumulator that starts with it must stay for the certificate.
    let mut csv = String::from("x,y,label\n");
    for i in 0..25 {
        csv += &format!("{},{},{}\n", i % 5, i / 5, (i * 7 / 3) % 2);
    }
    let compiled = compile(
        &csv,
        "    norm = linf\n    radius = 0.2 of limit\n    projection = identity",
    );
    assert_holds(&compiled);
}

#[test]
fn a_certificate_without_an_onnx_file_is_an_error_at_the_emit_block() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.csv"), random_csv(51, 12, 2, 2)).unwrap();
    std::fs::write(
        dir.path().join("spec.rmem"),
        "dataset d = csv(\"data.csv\", label = \"label\")\n\
         network net { data = d  norm = l2  radius = 0.5 of limit }\n\
         emit net { certificate = \"net.cert.json\" }\n",
    )
    .unwrap();
    let out = robmem()
        .args(["compile", "spec.rmem"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("spec.rmem:3:"),
        "the message names the emit block's line: {err}"
    );
    assert!(err.contains("add `onnx"), "{err}");
    assert!(!dir.path().join("net.cert.json").exists());
}

/// A distance network (specs/certificate.md section 10), written by compile.
fn distances(norm: &str) -> Compiled {
    let compiled = compile(
        &random_csv(41, 45, 3, 3),
        &format!("    norm = {norm}\n    radius = max\n    construction = distances"),
    );
    let cert = compiled.certificate();
    assert_eq!(cert["construction"], "distances");
    assert_eq!(cert["distance_norm"], norm);
    compiled
}

#[test]
fn distance_certificates_verify_in_every_arithmetic() {
    for norm in ["l1", "linf"] {
        let compiled = distances(norm);
        let cert = compiled.certificate();
        assert_eq!(
            cert["semantics"],
            serde_json::json!(["real", "float32", "float64"]),
            "{norm}"
        );
        assert_holds(&compiled);
    }
}

#[test]
fn distance_certificates_reject_a_changed_weight_radius_label_or_point() {
    for norm in ["l1", "linf"] {
        // A centre's half moved by one float32 ulp: p and n no longer match.
        let compiled = distances(norm);
        tamper_model(&compiled, |net| {
            let layer = &mut net.layers[1];
            let neuron = (0..layer.bias.len())
                .find(|&n| layer.bias[n] != 0.0)
                .expect("a half with a centre");
            layer.bias[neuron] = f64::from((layer.bias[neuron] as f32).next_up());
        });
        assert_rejected(&compiled, &["gadgets"]);

        // A running minimum's carried row changed.
        let compiled = distances(norm);
        tamper_model(&compiled, |net| {
            let last = net.layers.len() - 2;
            net.layers[last].weight[[0, 0]] += 0.5;
        });
        assert_rejected(&compiled, &["gadgets"]);

        // An output's bias moves decisions.
        let compiled = distances(norm);
        tamper_model(&compiled, |net| {
            let last = net.layers.len() - 1;
            net.layers[last].bias[0] += 5.0;
        });
        assert_rejected(&compiled, &["margins"]);

        // The radius raised to the limit.
        let compiled = distances(norm);
        let mut cert = compiled.certificate();
        let radius = cert["radius"].as_f64().unwrap();
        cert["radius"] = (radius * 1.01).into();
        compiled.write_certificate(&cert);
        assert_rejected(&compiled, &["margins", "radius", "first layer"]);

        // A label changed, the data hash updated.
        let compiled = distances(norm);
        tamper_data(&compiled, |lines| flip_first_label(lines));
        assert_rejected(&compiled, &["margins"]);

        // A point moved onto another label's point.
        let compiled = distances(norm);
        tamper_data(&compiled, |lines| {
            let (i, j) = (1..lines.len())
                .flat_map(|i| (1..lines.len()).map(move |j| (i, j)))
                .find(|&(i, j)| lines[i].rsplit(',').next() != lines[j].rsplit(',').next())
                .unwrap();
            let target: Vec<String> = lines[j].split(',').map(String::from).collect();
            let mut fields: Vec<String> = lines[i].split(',').map(String::from).collect();
            let last = fields.len() - 1;
            fields[..last].clone_from_slice(&target[..last]);
            lines[i] = fields.join(",");
        });
        assert_rejected(&compiled, &["margins"]);
    }
}

#[test]
fn a_score_certificate_claiming_distances_is_rejected() {
    let compiled = deep();
    let mut cert = compiled.certificate();
    cert["construction"] = "distances".into();
    cert["distance_norm"] = "linf".into();
    compiled.write_certificate(&cert);
    let (code, failed, report) = verify(&compiled.cert);
    assert_eq!(code, 1, "{report}");
    assert!(!failed.is_empty());
}

/// The coordinates an l_inf selection keeps: the column of each layer-0
/// row's only non-zero weight.
fn kept_coordinates(compiled: &Compiled) -> Vec<usize> {
    let (net, _) = read_onnx(&std::fs::read(compiled.path("net.onnx")).unwrap()).unwrap();
    net.layers[0]
        .weight
        .rows()
        .into_iter()
        .map(|row| {
            assert_eq!(row.iter().filter(|&&w| w != 0.0).count(), 1, "{row}");
            row.iter().position(|&w| w == 1.0).unwrap()
        })
        .collect()
}

#[test]
fn linf_selection_certificates_verify_and_reject_a_wider_row_or_a_hidden_pair() {
    let selection = || {
        compile(
            &random_csv(61, 90, 64, 3),
            "    norm = linf\n    radius = 0.5 of limit\n    construction = distances",
        )
    };
    let compiled = selection();
    let cert = compiled.certificate();
    assert_eq!(cert["construction"], "distances");
    // ||V||_{inf->inf} = 1, rounded up.
    let bound = cert["projection"]["norm_bound"].as_f64().unwrap();
    assert!((1.0..1.0 + 1e-6).contains(&bound), "{bound}");
    let kept = kept_coordinates(&compiled);
    assert!(kept.len() < 32, "K = {}", kept.len());
    assert_eq!(cert["projection"]["m"], kept.len());
    assert_eq!(
        cert["semantics"],
        serde_json::json!(["real", "float32", "float64"])
    );
    assert_holds(&compiled);

    // A kept row that also reads a dropped coordinate: ||V||_{inf->inf}
    // grows past the certificate's bound of 1.
    let compiled = selection();
    tamper_model(&compiled, |net| {
        let weight = &mut net.layers[0].weight;
        let dropped = (0..weight.ncols())
            .find(|&k| weight[[0, k]] == 0.0)
            .unwrap();
        weight[[0, dropped]] = 0.5;
    });
    assert_rejected(&compiled, &["projection bound"]);

    // A point moved onto another label's point in the kept coordinates
    // only (it still differs from it in the dropped ones): the network
    // cannot tell them apart, and the margins see it.
    let compiled = selection();
    let kept = kept_coordinates(&compiled);
    tamper_data(&compiled, |lines| {
        let label = |line: &String| line.rsplit(',').next().unwrap().to_string();
        let j = (2..lines.len())
            .find(|&j| label(&lines[j]) != label(&lines[1]))
            .unwrap();
        let source: Vec<String> = lines[j].split(',').map(String::from).collect();
        let mut fields: Vec<String> = lines[1].split(',').map(String::from).collect();
        for &k in &kept {
            fields[k] = source[k].clone();
        }
        assert_ne!(fields[..64], source[..64], "a dropped coordinate differs");
        lines[1] = fields.join(",");
    });
    assert_rejected(&compiled, &["margins"]);
}
