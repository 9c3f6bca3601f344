//! Condensed distance networks (specs/construction.md section 8.8): only
//! prototypes stay centres; the network certifies the same radius as the
//! full one at a smaller size, `robmem verify` confirms it from the weights
//! alone, tract gives every point and probe its label, and moving a point
//! away from its prototype (the data changed, the hash updated) is
//! rejected.

mod support;

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::norm::Norm;
use serde_json::Value;
use std::path::Path;

/// Four tight clusters in 3 dimensions (labels 0, 1, 2, 0), 25 points
/// each, plus exact duplicates of four points.
fn clusters() -> (Array2<f64>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(29);
    let centres = [
        ([0.0, 0.0, 0.0], 0),
        ([9.0, 0.0, 0.0], 1),
        ([0.0, 9.0, 0.0], 2),
        ([9.0, 9.0, 0.0], 0),
    ];
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for (centre, label) in centres {
        for _ in 0..25 {
            rows.push(centre.map(|c: f64| c + rng.gen_range(-0.5..0.5)));
            labels.push(label);
        }
    }
    for i in [2, 30, 61, 99] {
        rows.push(rows[i]);
        labels.push(labels[i]);
    }
    let points = Array2::from_shape_fn((rows.len(), 3), |(i, k)| rows[i][k]);
    (points, labels)
}

/// Compiles the clusters as a distance network in `norm` with `condense`
/// into `dir` (ONNX and certificate) and returns `compile --json`.
fn compile(dir: &Path, data: &str, norm: &str, condense: &str) -> Value {
    std::fs::write(dir.join("data.csv"), data).unwrap();
    let spec = format!(
        "dataset d = csv(\"data.csv\", label = \"label\")\n\
         network net {{ data = d  norm = {norm}  radius = 0.5 of limit  \
         construction = distances  condense = {condense} }}\n\
         emit net {{ onnx = \"net.onnx\"  certificate = \"net.cert.json\" }}\n"
    );
    std::fs::write(dir.join("spec.rmem"), spec).unwrap();
    let out = support::robmem_in(dir, &["compile", "spec.rmem", "--json"]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn condensed_distance_networks_are_smaller_certify_the_same_radius_and_verify() {
    let (points, labels) = clusters();
    let data = support::labelled_csv(&points, &labels);
    for (norm, p) in [("linf", Norm::Linf), ("l1", Norm::L1)] {
        let small_dir = tempfile::tempdir().unwrap();
        let full_dir = tempfile::tempdir().unwrap();
        let small = compile(small_dir.path(), &data, norm, "auto");
        let full = compile(full_dir.path(), &data, norm, "none");
        assert_eq!(small["construction"], "distances");
        assert_eq!(small["radius"], full["radius"], "{norm}");
        assert_eq!(
            small["certified_radius"], full["certified_radius"],
            "{norm}"
        );
        assert!(
            small["parameters"].as_u64() < full["parameters"].as_u64(),
            "{norm}: {} vs {}",
            small["parameters"],
            full["parameters"]
        );
        assert!(small["depth"].as_u64() < full["depth"].as_u64(), "{norm}");
        for dir in [&small_dir, &full_dir] {
            let (code, failed, _) = support::verify_claims(&dir.path().join("net.cert.json"));
            assert_eq!((code, failed), (0, Vec::new()), "{norm}");
        }
        // tract: every point and probes inside its certified ball.
        let radius = small["certified_radius"].as_f64().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let mut inputs = Vec::new();
        let mut want = Vec::new();
        for (i, row) in points.rows().into_iter().enumerate() {
            inputs.push(row.to_owned());
            want.push(labels[i] as usize);
            for probe in support::probes(p, row, radius * 0.999, &mut rng) {
                inputs.push(probe);
                want.push(labels[i] as usize);
            }
        }
        let input = Array2::from_shape_fn((inputs.len(), 3), |(i, k)| inputs[i][k]);
        let bytes = std::fs::read(small_dir.path().join("net.onnx")).unwrap();
        let outputs = support::tract_run_f32(&bytes, &input);
        for (k, row) in outputs.rows().into_iter().enumerate() {
            assert_eq!(support::argmax(row), want[k], "{norm}: input {k}");
        }
    }
}

#[test]
fn a_point_moved_away_from_its_prototype_is_rejected() {
    let (mut points, labels) = clusters();
    let dir = tempfile::tempdir().unwrap();
    let summary = compile(
        dir.path(),
        &support::labelled_csv(&points, &labels),
        "linf",
        "auto",
    );
    let full_depth = {
        let other = tempfile::tempdir().unwrap();
        compile(
            other.path(),
            &support::labelled_csv(&points, &labels),
            "linf",
            "none",
        )["depth"]
            .clone()
    };
    assert!(summary["depth"].as_u64() < full_depth.as_u64());
    let cert_path = dir.path().join("net.cert.json");
    assert_eq!(support::verify_claims(&cert_path).0, 0);
    // Point 5 (label 0, first cluster) moved to the middle between the
    // clusters of labels 0 and 1: no kept centre of label 0 is near it, the
    // network is unchanged, so its margin cannot hold any more. The data
    // hash is updated so that only the margin can catch it.
    points[(5, 0)] = 4.4;
    std::fs::write(
        dir.path().join("data.csv"),
        support::labelled_csv(&points, &labels),
    )
    .unwrap();
    let (hash, _) = support::spec_data_hash(&dir.path().join("spec.rmem"));
    let mut cert: Value =
        serde_json::from_str(&std::fs::read_to_string(&cert_path).unwrap()).unwrap();
    cert["data"]["sha256"] = hash.into();
    std::fs::write(&cert_path, serde_json::to_string_pretty(&cert).unwrap()).unwrap();
    let (code, failed, _) = support::verify_claims(&cert_path);
    assert_eq!(code, 1, "expected a rejection, failed: {failed:?}");
    assert!(
        failed.iter().any(|f| f.starts_with("margins")),
        "the margins claim fails: {failed:?}"
    );
}
