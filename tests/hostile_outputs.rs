//! Sweeps, reports and condensation on a table shaped like users' raw data:
//! one feature in the thousands beside features below one, a constant
//! column, exact duplicate rows, and labels at and above 2^24 (16777216 and
//! 16777217 are the same number in float32; 20000001 is not a float32).
//! Every network must still certify, every label must come back as written,
//! and a sweep must compute each (data, norm) separation once.

mod support;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::path::Path;
use support::{robmem_in, text};

/// The labels: 2^24, 2^24 + 1 (equal in float32) and 20,000,001.
const LABELS: [u64; 3] = [16_777_216, 16_777_217, 20_000_001];

/// A CSV table: per label 25 points around a centre whose first feature
/// is in the thousands (clusters 300 apart there) and whose other features
/// are below one (clusters 0.4 apart), a constant column, then six exact
/// duplicates of earlier rows (same label).
fn hostile_table() -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut rows: Vec<(Vec<f64>, u64)> = Vec::new();
    for (k, &label) in LABELS.iter().enumerate() {
        for _ in 0..25 {
            let row = vec![
                2000.0 + 300.0 * k as f64 + rng.gen_range(-20.0..20.0),
                0.4 * k as f64 + rng.gen_range(-0.05..0.05),
                7.25,
                rng.gen_range(-0.001..0.001),
            ];
            rows.push((row, label));
        }
    }
    for i in [0, 7, 26, 40, 51, 74] {
        rows.push(rows[i].clone());
    }
    let mut table = String::from("big,small,constant,tiny,label\n");
    for (row, label) in rows {
        let cells: Vec<String> = row.iter().map(|x| format!("{x}")).collect();
        table += &format!("{},{label}\n", cells.join(","));
    }
    table
}

/// A folder holding `table.csv` and `spec.rmem` (the data set `t` and
/// `body`).
fn folder(body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("table.csv"), hostile_table()).unwrap();
    std::fs::write(
        dir.path().join("spec.rmem"),
        format!("dataset t = csv(\"table.csv\", label = \"label\")\n{body}"),
    )
    .unwrap();
    dir
}

/// Runs robmem in `dir` and checks it exits 0.
fn run_ok(dir: &Path, args: &[&str]) -> String {
    let out = robmem_in(dir, args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// The seconds of phase `name` in a row or summary.
fn phase_seconds(row: &Value, name: &str) -> f64 {
    row["seconds"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("no phase {name} in {row}"))
}

#[test]
fn a_sweep_over_norms_and_condensation_certifies_every_row_and_shares_separations() {
    let dir = folder(
        "network net { data = t  radius = 0.5 of limit  seed = 2 }\n\
         sweep net { norm = [l2, linf, l1]  condense = [auto, none] }\n",
    );
    let stdout = run_ok(dir.path(), &["sweep", "spec.rmem", "--json"]);
    let rows: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 6);
    for row in &rows {
        assert!(row.get("error").is_none(), "row failed: {row}");
        assert_eq!(row["points"], 81);
        assert_eq!(row["labels"], 3, "2^24 and 2^24 + 1 stay two labels");
        let certified = row["certified_radius"].as_f64().unwrap();
        let radius = row["radius"].as_f64().unwrap();
        assert!(certified >= radius * (1.0 - 1e-12), "{row}");
        // The first feature dominates every distance: delta is hundreds.
        assert!(row["delta"].as_f64().unwrap() > 100.0, "{row}");
    }
    // Rows of one norm share one separation: the same delta and the very
    // same time (it was computed once); different norms differ.
    for norm in ["l2", "linf", "l1"] {
        let of_norm: Vec<&Value> = rows.iter().filter(|r| r["norm"] == norm).collect();
        assert_eq!(of_norm.len(), 2, "{norm}");
        assert_eq!(of_norm[0]["delta"], of_norm[1]["delta"]);
        assert_eq!(
            phase_seconds(of_norm[0], "separation").to_bits(),
            phase_seconds(of_norm[1], "separation").to_bits(),
            "{norm}: the separation is computed once for both rows"
        );
    }
}

#[test]
fn condensation_on_duplicates_and_large_labels_certifies_and_covers_the_duplicates() {
    let spec = |condense: &str| {
        format!(
            "network net {{ data = t  norm = l2  radius = 0.5 of limit  condense = {condense} }}\n\
             emit net {{ onnx = \"net.onnx\"  certificate = \"net.cert.json\" }}\n"
        )
    };
    let full = folder(&spec("none"));
    let full_summary: Value =
        serde_json::from_str(&run_ok(full.path(), &["compile", "spec.rmem", "--json"])).unwrap();
    let condensed = folder(&spec("auto"));
    let summary: Value = serde_json::from_str(&run_ok(
        condensed.path(),
        &["compile", "spec.rmem", "--json"],
    ))
    .unwrap();
    assert_eq!(summary["radius"], full_summary["radius"]);
    assert!(
        summary["depth"].as_u64().unwrap() < full_summary["depth"].as_u64().unwrap(),
        "three tight clusters condense: {} vs {}",
        summary["depth"],
        full_summary["depth"]
    );
    let cert_path = condensed.path().join("net.cert.json");
    let (code, failed, _) = support::verify_claims(&cert_path);
    assert_eq!(code, 0, "verify: {failed:?}");
    let cert: Value = serde_json::from_str(&std::fs::read_to_string(&cert_path).unwrap()).unwrap();
    let prototype: Vec<u64> = cert["points"]["prototype"]
        .as_array()
        .expect("a condensed certificate")
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    // Rows 75..81 duplicate rows 0, 7, 26, 40, 51, 74: each pair shares
    // its prototype.
    for (duplicate, original) in (75..81).zip([0, 7, 26, 40, 51, 74]) {
        assert_eq!(prototype[duplicate], prototype[original]);
    }
    let text = std::fs::read_to_string(&cert_path).unwrap();
    for label in LABELS {
        assert!(text.contains(&label.to_string()), "label {label} kept");
    }
}

#[test]
fn a_report_names_every_large_label_as_written() {
    let dir = folder("network net { data = t  norm = linf  radius = 0.5 of limit }\n");
    run_ok(dir.path(), &["report", "spec.rmem"]);
    let page = std::fs::read_to_string(dir.path().join("spec.report.html")).unwrap();
    for label in LABELS {
        assert!(
            page.contains(&label.to_string()),
            "label {label} on the page"
        );
    }
    assert!(
        !page.contains("1.6777216e7") && !page.contains("16777216.0"),
        "labels are not printed as floats"
    );
}
