//! Certificates of `output = label` networks (specs/construction.md section 5B,
//! specs/certificate.md section 7): compile writes them, verify confirms
//! them, every label-gadget role tampered in the ONNX file is rejected by
//! name, labels float32 cannot carry are refused with the figure and the
//! fix, and tract's float32 outputs stay within the certified distances.
//!
//! Tampering tests rewrite the certificate's hashes to match the tampered
//! files, so a rejection comes from recomputing the claims.

mod support;

use robmem::analysis::separation::separation;
use robmem::backend::certificate::{make_certificate, CertificateRequest};
use robmem::backend::onnx::{read_onnx, save_onnx, write_onnx, OnnxOptions};
use robmem::norm::Norm;
use robmem::pipeline::compile;
use robmem::spec::{OutputKind, ProjectionChoice, RadiusSpec};
use robmem::verify::certificate::{sha256_hex, Semantics};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{all_probes, expected, random_data, spec, tract_run_f32};

fn robmem() -> Command {
    Command::new(env!("CARGO_BIN_EXE_robmem"))
}

/// A spec and its data in a folder of their own.
struct Folder {
    dir: tempfile::TempDir,
}

impl Folder {
    /// Writes `csv` (label column `label`) and a label network with `body`.
    fn new(csv: &str, body: &str) -> Folder {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.csv"), csv).unwrap();
        let spec = format!(
            "dataset d = csv(\"data.csv\", label = \"label\")\n\
             network net {{\n    data = d\n    output = label\n{body}\n}}\n\
             emit net {{ onnx = \"net.onnx\"  certificate = \"net.cert.json\" }}\n"
        );
        std::fs::write(dir.path().join("spec.rmem"), spec).unwrap();
        Folder { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn compile(&self) -> Output {
        robmem()
            .args(["compile", "spec.rmem"])
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }
    /// Compiles and asserts that a certificate was written.
    fn compiled(self) -> Folder {
        let out = self.compile();
        assert!(
            out.status.success() && self.path("net.cert.json").exists(),
            "compile failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self
    }
    fn certificate(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.path("net.cert.json")).unwrap()).unwrap()
    }
    fn write_certificate(&self, cert: &Value) {
        std::fs::write(
            self.path("net.cert.json"),
            serde_json::to_string_pretty(cert).unwrap(),
        )
        .unwrap();
    }
    /// Runs `verify --json`: exit code and the names of the failed claims.
    fn verify(&self) -> (i32, Vec<String>, String) {
        let out = robmem()
            .args(["verify", "--json"])
            .arg(self.path("net.cert.json"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let failed = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|r| r["claims"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter(|c| c["held"] == false)
            .map(|c| c["claim"].as_str().unwrap().to_string())
            .collect();
        (out.status.code().unwrap(), failed, text)
    }
    fn assert_holds(&self) {
        let (code, failed, text) = self.verify();
        assert_eq!(code, 0, "failed {failed:?}: {text}");
    }
    fn assert_rejected(&self, claims: &[&str]) {
        let (code, failed, text) = self.verify();
        assert_eq!(code, 1, "expected a rejection: {text}");
        assert!(
            failed
                .iter()
                .any(|f| claims.iter().any(|c| f.starts_with(c))),
            "expected one of {claims:?} to fail, failed: {failed:?}"
        );
    }
    /// Edits the ONNX layers and rewrites the model hash.
    fn tamper_model(&self, change: impl FnOnce(&mut robmem::ir::layers::LayerNetwork)) {
        let path = self.path("net.onnx");
        let (mut net, _) = read_onnx(&std::fs::read(&path).unwrap()).unwrap();
        change(&mut net);
        let options = OnnxOptions {
            output: OutputKind::Label,
            ..OnnxOptions::default()
        };
        std::fs::write(&path, write_onnx(&net, &options).unwrap()).unwrap();
        let mut cert = self.certificate();
        cert["model"]["sha256"] = sha256_hex(&std::fs::read(&path).unwrap()).into();
        self.write_certificate(&cert);
    }
    /// Rewrites the data hash to the spec's current data.
    fn rehash_data(&self) {
        let (hash, _) = support::spec_data_hash(&self.path("spec.rmem"));
        let mut cert = self.certificate();
        cert["data"]["sha256"] = hash.into();
        self.write_certificate(&cert);
    }
    /// `[layer, neuron]` of every neuron whose certificate role is `role`.
    fn neurons(&self, role: &str) -> Vec<[usize; 2]> {
        let cert = self.certificate();
        let mut found = Vec::new();
        for (l, line) in cert["layers"].as_array().unwrap().iter().enumerate() {
            for (n, word) in line.as_str().unwrap().split_whitespace().enumerate() {
                if word == role || (role.ends_with('.') && word.starts_with(role)) {
                    found.push([l, n]);
                }
            }
        }
        found
    }
}

/// `n` random points in `[-1, 1]^d`, labels `values[i % len]`, as CSV.
fn csv(seed: u64, n: usize, d: usize, values: &[&str]) -> String {
    let data = random_data(seed, n, d, 2, false);
    let mut text: String = (0..d).map(|k| format!("x{k},")).collect::<String>() + "label\n";
    for i in 0..n {
        for k in 0..d {
            text += &format!("{},", data.points[[i, k]]);
        }
        text += &format!("{}\n", values[(i * 7) % values.len()]);
    }
    text
}

const BODY: &str = "    norm = l2\n    radius = 0.5 of limit";

/// A float32 network with labels 0..3 and groups of several points.
fn small() -> Folder {
    Folder::new(&csv(21, 24, 3, &["0", "1", "2", "3"]), BODY).compiled()
}

#[test]
fn label_certificates_verify_in_every_norm() {
    for (seed, norm) in [(1, "l1"), (2, "l2"), (3, "linf"), (4, "l(3)")] {
        let body = format!("    norm = {norm}\n    radius = 0.5 of limit");
        let folder = Folder::new(&csv(seed, 30, 3, &["0", "1", "2", "5", "-4"]), &body).compiled();
        folder.assert_holds();
        let cert = folder.certificate();
        assert_eq!(cert["output"]["kind"], "label", "{norm}");
        assert_eq!(cert["output"]["tolerance"], 0.5, "{norm}");
        let distances = cert["points"]["distance"]["float32"].as_array().unwrap();
        assert_eq!(distances.len(), 30);
        assert!(distances.iter().all(|d| d.as_f64().unwrap() < 0.5));
    }
}

#[test]
fn one_point_groups_and_named_labels_verify() {
    // Every class a single point: steps read new scores, not maxima.
    let text = "x,y,label\n0,0,a\n3,0,b\n0,3,c\n3,3,d\n6,1,e\n";
    Folder::new(text, BODY).compiled().assert_holds();
}

#[test]
fn big_labels_are_refused_in_float32_with_the_figure_and_certified_in_float64() {
    let values = ["20000001", "20000002", "20000003"];
    let folder = Folder::new(&csv(5, 18, 2, &values), BODY);
    let out = folder.compile();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    for part in [
        "20000001",
        "float32",
        "steps of 2",
        "precision = f64",
        "output = logits",
    ] {
        assert!(text.contains(part), "missing `{part}` in {text}");
    }
    assert!(!folder.path("net.onnx").exists(), "nothing may be written");
    let body = format!("{BODY}\n    precision = f64");
    let folder = Folder::new(&csv(5, 18, 2, &values), &body).compiled();
    folder.assert_holds();
    assert_eq!(
        folder.certificate()["semantics"],
        serde_json::json!(["real", "float64"])
    );
}

#[test]
fn tiny_gaps_are_refused_in_float32_and_certified_in_float64() {
    let values = ["0", "0.0000001", "0.0000002"];
    let folder = Folder::new(&csv(6, 18, 2, &values), BODY);
    let out = folder.compile();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    for part in [
        "1.0000001",
        "float32",
        "1.192e-7",
        "0.00000005",
        "precision = f64",
    ] {
        assert!(text.contains(part), "missing `{part}` in {text}");
    }
    let body = format!("{BODY}\n    precision = f64");
    let folder = Folder::new(&csv(6, 18, 2, &values), &body).compiled();
    folder.assert_holds();
    let cert = folder.certificate();
    assert_eq!(cert["output"]["tolerance"], 5e-8);
    let distances = cert["points"]["distance"]["float64"].as_array().unwrap();
    assert!(distances.iter().all(|d| d.as_f64().unwrap() < 5e-8));
}

/// Negates the row of the first neuron with `role` (weights and bias).
fn negate(folder: &Folder, role: &str) {
    let [l, n] = *folder
        .neurons(role)
        .first()
        .unwrap_or_else(|| panic!("no neuron `{role}`"));
    folder.tamper_model(|net| {
        let layer = &mut net.layers[l];
        layer.weight.row_mut(n).mapv_inplace(|w| -w);
        layer.bias[n] = -layer.bias[n];
    });
}

#[test]
fn every_label_gadget_role_tampered_is_rejected() {
    for role in ["b", "i", "h1.", "l0", "l1", "l2", "o0"] {
        let folder = small();
        assert!(
            !folder.neurons(role).is_empty(),
            "the network has no `{role}`"
        );
        negate(&folder, role);
        folder.assert_rejected(&["gadgets", "distances"]);
    }
}

#[test]
fn one_step_part_changed_is_rejected() {
    for part in ["h1.0", "h1.1"] {
        let folder = small();
        let [l, n] = folder.neurons(part)[0];
        folder.tamper_model(|net| net.layers[l].weight.row_mut(n).mapv_inplace(|w| w * 0.5));
        folder.assert_rejected(&["gadgets"]);
    }
}

#[test]
fn steps_that_fire_early_are_rejected_by_the_distances() {
    let folder = small();
    let steps = folder.neurons("h1.");
    assert_eq!(steps.len(), 2);
    folder.tamper_model(|net| {
        // Both parts of class 1's step move up together: the rows stay
        // identical, but the step fires on balls of other classes.
        for &[l, n] in &steps {
            net.layers[l].bias[n] += 1e6;
        }
    });
    folder.assert_rejected(&["distances"]);
}

#[test]
fn shifted_output_is_rejected_by_the_distances() {
    let folder = small();
    let [l, n] = folder.neurons("o0")[0];
    folder.tamper_model(|net| net.layers[l].bias[n] += 0.75);
    folder.assert_rejected(&["distances"]);
}

#[test]
fn changed_label_value_radius_or_point_is_rejected() {
    // A label value: the data names 7 where the certificate says 3.
    let folder = small();
    let text = std::fs::read_to_string(folder.path("data.csv")).unwrap();
    std::fs::write(folder.path("data.csv"), text.replace(",3\n", ",7\n")).unwrap();
    folder.rehash_data();
    folder.assert_rejected(&["labels", "points and scores"]);
    // The radius, raised to the limit.
    let folder = small();
    let mut cert = folder.certificate();
    cert["radius"] = (cert["radius"].as_f64().unwrap() * 2.0).into();
    folder.write_certificate(&cert);
    folder.assert_rejected(&["2r < delta'", "distances", "first layer exact"]);
    // A claimed distance below the recomputed one.
    let folder = small();
    let mut cert = folder.certificate();
    cert["points"]["distance"]["real"][0] = (-1.0).into();
    folder.write_certificate(&cert);
    folder.assert_rejected(&["distances (real)"]);
    // A data point moved next to a point of another label.
    let folder = small();
    let text = std::fs::read_to_string(folder.path("data.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let other = lines[2].rsplit_once(',').unwrap().0.to_string();
    let label = lines[1].rsplit_once(',').unwrap().1.to_string();
    lines[1] = format!("{other},{label}");
    std::fs::write(folder.path("data.csv"), lines.join("\n") + "\n").unwrap();
    folder.rehash_data();
    let (code, _, text) = folder.verify();
    assert_eq!(code, 1, "{text}");
}

#[test]
fn float32_outputs_stay_within_the_certified_distances_in_tract() {
    let norm = Norm::L2;
    // (Features a factor 20 apart in scale already make compile refuse
    // float32 for this data, on the scores' rounding.)
    let data = random_data(9, 300, 4, 5, false);
    let net = spec(
        norm,
        RadiusSpec::OfLimit(0.5),
        OutputKind::Label,
        ProjectionChoice::Auto,
    );
    let sep = separation(data.points.view(), &data.labels, norm);
    let compiled = compile(&data, &net, &sep).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let onnx = dir.path().join("net.onnx");
    let options = OnnxOptions {
        output: OutputKind::Label,
        ..OnnxOptions::default()
    };
    save_onnx(&compiled.network, &options, &onnx).unwrap();
    let certified = make_certificate(&CertificateRequest {
        network: "test",
        program: &compiled.program,
        layers: &compiled.network,
        data: &data,
        spec_path: Path::new("spec.rmem"),
        onnx_path: &onnx,
        certificate_path: &onnx.with_extension("cert.json"),
        search_up_to: None,
    })
    .unwrap();
    let cert = certified.certificate;
    assert!(
        cert.semantics.contains(&Semantics::Float32),
        "float32 not certified: {:?}",
        certified.not_claimed
    );
    let distances = &cert.points.distance[&Semantics::Float32];
    let (probes, owners) = all_probes(&data, &compiled, norm, 4);
    let rows = data.len() + owners.len();
    let inputs = ndarray::Array2::from_shape_fn((rows, data.dim()), |(r, k)| {
        if r < data.len() {
            data.points[[r, k]]
        } else {
            probes[[r - data.len(), k]]
        }
    });
    let owner = |r: usize| {
        if r < data.len() {
            r
        } else {
            owners[r - data.len()]
        }
    };
    let outputs = tract_run_f32(&std::fs::read(&onnx).unwrap(), &inputs);
    for (r, row) in outputs.rows().into_iter().enumerate() {
        let i = owner(r);
        let want = expected(&data, OutputKind::Label, i);
        let off = (row[0] - want).abs();
        assert!(
            off <= distances[i],
            "row {r} (point {i}): tract outputs {} for label {want}, beyond the certified {}",
            row[0],
            distances[i]
        );
    }
}

/// A label distance network (specs/construction.md 8.3, certificate.md 10)
/// on points with a column in the thousands, labels -3, 5 and 12.
fn distance_folder(norm: &str) -> Folder {
    let mut text = String::from("big,x,y,label\n");
    let data = random_data(31, 30, 2, 2, false);
    for i in 0..30 {
        let big = 1500 + (i * 37) % 50;
        let label = ["-3", "5", "12"][(i * 7) % 3];
        text += &format!(
            "{big},{},{},{label}\n",
            data.points[[i, 0]],
            data.points[[i, 1]]
        );
    }
    let body =
        format!("    norm = {norm}\n    radius = 0.9 of limit\n    construction = distances");
    Folder::new(&text, &body).compiled()
}

#[test]
fn distance_label_certificates_verify_in_l1_and_linf() {
    for norm in ["l1", "linf"] {
        let folder = distance_folder(norm);
        folder.assert_holds();
        let cert = folder.certificate();
        assert_eq!(cert["construction"], "distances", "{norm}");
        assert_eq!(cert["output"]["kind"], "label", "{norm}");
        let distances = cert["points"]["distance"]["float32"].as_array().unwrap();
        assert_eq!(distances.len(), 30);
        assert!(distances.iter().all(|d| d.as_f64().unwrap() < 0.5));
        assert_eq!(folder.neurons("h1.").len(), 2, "{norm}");
        assert_eq!(folder.neurons("b").len(), 2, "{norm}");
    }
}

#[test]
fn distance_label_gadget_tampered_is_rejected() {
    // One step part's weights: the pair's rows differ.
    let folder = distance_folder("linf");
    let [l, n] = folder.neurons("h1.0")[0];
    folder.tamper_model(|net| net.layers[l].weight.row_mut(n).mapv_inplace(|w| w * 0.5));
    folder.assert_rejected(&["gadgets"]);
    // kappa halved on both parts: still a step pair, but the own step no
    // longer reaches 1 on the closest pair's balls.
    let folder = distance_folder("linf");
    let steps = folder.neurons("h2.");
    folder.tamper_model(|net| {
        for &[l, n] in &steps {
            net.layers[l].weight.row_mut(n).mapv_inplace(|w| w * 0.5);
        }
    });
    folder.assert_rejected(&["distances"]);
    // A write's biases moved together: the register gets another value.
    let folder = distance_folder("l1");
    let [l1, n1] = folder.neurons("l1")[0];
    let [l2, n2] = folder.neurons("l2")[0];
    folder.tamper_model(|net| {
        net.layers[l1].bias[n1] += 1.0;
        net.layers[l2].bias[n2] -= 1.0;
    });
    folder.assert_rejected(&["distances"]);
    // The output's bias.
    let folder = distance_folder("l1");
    let [l, n] = folder.neurons("o0")[0];
    folder.tamper_model(|net| net.layers[l].bias[n] += 0.75);
    folder.assert_rejected(&["distances"]);
    // b, i and a write half negated.
    for role in ["b", "i", "l1", "l2"] {
        let folder = distance_folder("linf");
        negate(&folder, role);
        folder.assert_rejected(&["gadgets", "distances"]);
    }
}

#[test]
fn distance_label_with_a_flipped_data_label_is_rejected() {
    let folder = distance_folder("linf");
    let text = std::fs::read_to_string(folder.path("data.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let (row, label) = lines[1].rsplit_once(',').unwrap();
    let other = if label == "5" { "12" } else { "5" };
    lines[1] = format!("{row},{other}");
    std::fs::write(folder.path("data.csv"), lines.join("\n") + "\n").unwrap();
    folder.rehash_data();
    folder.assert_rejected(&["distances"]);
}
