//! Condensation (specs/construction.md section 5C): a score network that
//! keeps scores only for prototypes certifies the same radius as the full
//! one at a smaller depth, tract agrees with the labels at every point and
//! at probes in the balls, `robmem verify` confirms its certificate, and
//! every tampering with the covering claims is rejected.

mod support;

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::backend::onnx::{read_onnx, write_onnx, OnnxOptions};
use robmem::norm::Norm;
use robmem::verify::certificate::sha256_hex;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Cluster centres and their labels: label 0 twice, on both sides of
/// label 1, so that a prototype of label 0 cannot cover the other cluster.
const CLUSTERS: [([f64; 3], u32); 4] = [
    ([0.0, 0.0, 0.0], 0),
    ([12.0, 0.0, 0.0], 0),
    ([6.0, 0.0, 0.0], 1),
    ([0.0, 6.0, 0.0], 2),
];

/// 30 points per cluster within 0.3 of its centre, then exact duplicates
/// and near-duplicates (1e-7 apart) of some of them.
fn clusters() -> (Array2<f64>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for (centre, label) in CLUSTERS {
        for _ in 0..30 {
            rows.push(centre.map(|c| c + rng.gen_range(-0.3..0.3)));
            labels.push(label);
        }
    }
    for k in 0..6 {
        let i = 17 * k + 3;
        let mut row = rows[i];
        if k % 2 == 1 {
            row[0] += 1e-7;
        }
        rows.push(row);
        labels.push(labels[i]);
    }
    let points = Array2::from_shape_fn((rows.len(), 3), |(i, k)| rows[i][k]);
    (points, labels)
}

/// A spec compiled with `robmem compile --json` in its own folder.
struct Compiled {
    dir: tempfile::TempDir,
    summary: Value,
}

impl Compiled {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn cert_path(&self) -> PathBuf {
        self.path("net.cert.json")
    }
    fn certificate(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.cert_path()).unwrap()).unwrap()
    }
    fn write_certificate(&self, cert: &Value) {
        std::fs::write(
            self.cert_path(),
            serde_json::to_string_pretty(cert).unwrap(),
        )
        .unwrap();
    }
    /// Rewrites the data hash to the current spec's data.
    fn rehash_data(&self) {
        let (hash, _) = support::spec_data_hash(&self.path("spec.rmem"));
        let mut cert = self.certificate();
        cert["data"]["sha256"] = hash.into();
        self.write_certificate(&cert);
    }
}

fn compile(csv: &str, condense: &str) -> Compiled {
    compile_with(csv, &format!("condense = {condense}"))
}

/// As [`compile`], with `keys` (network keys besides data, norm, radius and
/// projection) in the network block.
fn compile_with(csv: &str, keys: &str) -> Compiled {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.csv"), csv).unwrap();
    let spec = format!(
        "dataset d = csv(\"data.csv\", label = \"label\")\n\
         network net {{\n    data = d\n    norm = l2\n    radius = 0.5 of limit\n    \
         projection = identity\n    {keys}\n}}\n\
         emit net {{ onnx = \"net.onnx\"  certificate = \"net.cert.json\" }}\n"
    );
    std::fs::write(dir.path().join("spec.rmem"), spec).unwrap();
    let out = support::robmem_in(dir.path(), &["compile", "spec.rmem", "--json"]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    let summary = serde_json::from_slice(&out.stdout).unwrap();
    Compiled { dir, summary }
}

/// `robmem verify --json`: exit code and the failed claims.
fn verify(cert: &Path) -> (i32, Vec<String>) {
    let (code, failed, _) = support::verify_claims(cert);
    (code, failed)
}

fn assert_rejected(compiled: &Compiled, claims: &[&str]) {
    let (code, failed) = verify(&compiled.cert_path());
    assert_eq!(code, 1, "expected a rejection, failed: {failed:?}");
    assert!(
        failed
            .iter()
            .any(|f| claims.iter().any(|c| f.starts_with(c))),
        "expected one of {claims:?} to fail, failed: {failed:?}"
    );
}

fn prototypes(cert: &Value) -> Vec<usize> {
    cert["points"]["prototype"]
        .as_array()
        .expect("a condensed certificate lists prototypes")
        .iter()
        .map(|p| p.as_u64().unwrap() as usize)
        .collect()
}

fn condensed() -> Compiled {
    let (points, labels) = clusters();
    compile(&support::labelled_csv(&points, &labels), "auto")
}

#[test]
fn condensed_and_full_networks_certify_the_same_radius_and_verify() {
    let (points, labels) = clusters();
    let text = support::labelled_csv(&points, &labels);
    let small = compile(&text, "auto");
    let full = compile(&text, "none");
    for compiled in [&small, &full] {
        assert_eq!(verify(&compiled.cert_path()), (0, Vec::new()));
    }
    let figure = |c: &Compiled, key: &str| c.summary[key].as_f64().unwrap();
    assert_eq!(
        figure(&small, "certified_radius"),
        figure(&full, "certified_radius")
    );
    assert!(figure(&small, "depth") < figure(&full, "depth"));
    assert!(figure(&small, "parameters") < figure(&full, "parameters"));
    assert!(full.certificate()["points"].get("prototype").is_none());
    let prototype = prototypes(&small.certificate());
    let kept = prototype
        .iter()
        .enumerate()
        .filter(|(i, p)| i == *p)
        .count();
    assert!(kept < labels.len() / 4, "{kept} prototypes");
    for (i, &p) in prototype.iter().enumerate() {
        assert_eq!(labels[i], labels[p], "point {i}");
        assert_eq!(prototype[p], p, "point {i}'s prototype {p}");
    }
    // The duplicates (the last six points) are covered, not scored.
    let first = points.nrows() - 6;
    for (i, &p) in prototype.iter().enumerate().skip(first) {
        assert_ne!(p, i, "duplicate {i} has a score of its own");
    }
}

#[test]
fn tract_gives_every_point_and_probe_its_label() {
    let (points, labels) = clusters();
    let compiled = compile(&support::labelled_csv(&points, &labels), "auto");
    let radius = compiled.summary["certified_radius"].as_f64().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut probes = Vec::new();
    let mut want = Vec::new();
    for (i, row) in points.rows().into_iter().enumerate() {
        for probe in support::probes(Norm::L2, row, radius * 0.999, &mut rng) {
            probes.push(probe);
            want.push(labels[i] as usize);
        }
    }
    let input = Array2::from_shape_fn((probes.len(), 3), |(i, k)| probes[i][k]);
    let bytes = std::fs::read(compiled.path("net.onnx")).unwrap();
    let outputs = support::tract_run_f32(&bytes, &input);
    for (p, row) in outputs.rows().into_iter().enumerate() {
        assert_eq!(support::argmax(row), want[p], "probe {p}: {:?}", probes[p]);
    }
}

#[test]
fn a_prototype_that_does_not_cover_the_point_is_rejected() {
    let compiled = condensed();
    let mut cert = compiled.certificate();
    let prototype = prototypes(&cert);
    // Point 0 is in label 0's cluster at the origin; a prototype of the
    // cluster at x = 12 (points 30..60) has the same label, but label 1's
    // cluster lies between them.
    let far = (30..60).find(|&p| prototype[p] == p).unwrap();
    cert["points"]["prototype"][0] = far.into();
    cert["points"]["score"][0] = cert["points"]["score"][far].clone();
    compiled.write_certificate(&cert);
    assert_rejected(&compiled, &["margins"]);
}

#[test]
fn prototype_indices_that_contradict_the_scores_or_labels_are_rejected() {
    // A prototype of another label (with its score neuron).
    let compiled = condensed();
    let mut cert = compiled.certificate();
    let prototype = prototypes(&cert);
    let other = (60..90).find(|&p| prototype[p] == p).unwrap();
    cert["points"]["prototype"][0] = other.into();
    cert["points"]["score"][0] = cert["points"]["score"][other].clone();
    compiled.write_certificate(&cert);
    assert_rejected(&compiled, &["prototypes", "points and scores"]);

    // A covered point named as a prototype: it has no score neuron.
    let compiled = condensed();
    let mut cert = compiled.certificate();
    let prototype = prototypes(&cert);
    let covered = (1..30).find(|&i| prototype[i] != i).unwrap();
    let target = (1..30).find(|&i| i != covered).unwrap();
    cert["points"]["prototype"][target] = covered.into();
    compiled.write_certificate(&cert);
    assert_rejected(&compiled, &["prototypes"]);

    // The prototype index changed, the score neuron not.
    let compiled = condensed();
    let mut cert = compiled.certificate();
    let prototype = prototypes(&cert);
    let covered = (0..30).find(|&i| prototype[i] != i).unwrap();
    let own = prototype[covered];
    let another = (30..60).find(|&p| prototype[p] == p && p != own).unwrap();
    cert["points"]["prototype"][covered] = another.into();
    compiled.write_certificate(&cert);
    assert_rejected(&compiled, &["prototypes"]);

    // An index past the data.
    let compiled = condensed();
    let mut cert = compiled.certificate();
    cert["points"]["prototype"][0] = 100_000.into();
    compiled.write_certificate(&cert);
    assert_rejected(&compiled, &["prototypes"]);
}

#[test]
fn a_changed_prototype_score_is_rejected() {
    let compiled = condensed();
    let cert = compiled.certificate();
    let prototype = prototypes(&cert);
    // The prototype covering the most points of the origin cluster.
    let p = (0..30)
        .max_by_key(|&p| prototype.iter().filter(|&&q| q == p).count())
        .unwrap();
    let [layer, neuron] = [0, 1].map(|k| cert["points"]["score"][p][k].as_u64().unwrap() as usize);
    let path = compiled.path("net.onnx");
    let (mut net, _) = read_onnx(&std::fs::read(&path).unwrap()).unwrap();
    // Move the score's centre towards label 1's cluster along x.
    net.layers[layer].weight[[neuron, 0]] += 5.0;
    std::fs::write(&path, write_onnx(&net, &OnnxOptions::default()).unwrap()).unwrap();
    let mut cert = cert;
    cert["model"]["sha256"] = sha256_hex(&std::fs::read(&path).unwrap()).into();
    compiled.write_certificate(&cert);
    assert_rejected(
        &compiled,
        &["margins", "delta'", "2r < delta'", "accumulators"],
    );
}

#[test]
fn moved_points_changed_labels_and_a_larger_radius_are_rejected() {
    let (points, labels) = clusters();
    // A covered point moved 2 units towards label 1's cluster: within the
    // limit (the clusters are 6 apart) but off its prototype's ball.
    let compiled = condensed();
    let prototype = prototypes(&compiled.certificate());
    let covered = (0..30).find(|&i| prototype[i] != i).unwrap();
    let mut moved = points.clone();
    moved[[covered, 0]] += 2.0;
    std::fs::write(
        compiled.path("data.csv"),
        support::labelled_csv(&moved, &labels),
    )
    .unwrap();
    compiled.rehash_data();
    assert_rejected(&compiled, &["margins"]);

    // A covered point's label changed.
    let compiled = condensed();
    let mut relabelled = labels.clone();
    relabelled[covered] = 1;
    std::fs::write(
        compiled.path("data.csv"),
        support::labelled_csv(&points, &relabelled),
    )
    .unwrap();
    compiled.rehash_data();
    assert_rejected(&compiled, &["prototypes", "margins", "points and scores"]);

    // A radius near the limit.
    let compiled = condensed();
    let mut cert = compiled.certificate();
    let radius = cert["radius"].as_f64().unwrap();
    cert["radius"] = (radius * 1.9).into();
    compiled.write_certificate(&cert);
    assert_rejected(&compiled, &["margins", "2r < delta'", "first layer exact"]);
}

#[test]
fn label_networks_condense_and_verify() {
    let (points, labels) = clusters();
    let text = support::labelled_csv(&points, &labels);
    let small = compile_with(&text, "condense = auto  output = label");
    let full = compile_with(&text, "condense = none  output = label");
    for compiled in [&small, &full] {
        assert_eq!(verify(&compiled.cert_path()), (0, Vec::new()));
    }
    let figure = |c: &Compiled, key: &str| c.summary[key].as_f64().unwrap();
    assert!(figure(&small, "depth") < figure(&full, "depth"));
    let prototype = prototypes(&small.certificate());
    assert!(prototype.iter().enumerate().any(|(i, &p)| i != p));
    // A covered point named with a prototype of another label.
    let mut cert = small.certificate();
    let covered = (0..30).find(|&i| prototype[i] != i).unwrap();
    let other = (60..90).find(|&p| prototype[p] == p).unwrap();
    cert["points"]["prototype"][covered] = other.into();
    cert["points"]["score"][covered] = cert["points"]["score"][other].clone();
    small.write_certificate(&cert);
    assert_rejected(&small, &["prototypes", "points and scores"]);
}
