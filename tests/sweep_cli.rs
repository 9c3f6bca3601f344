//! `robmem sweep` end to end: the tables it writes (CSV and JSON Lines),
//! each row equal to a single `robmem compile --json` of the network block
//! with the row's keys, the seeded `points` subsample, determinism, failed
//! combinations as rows, errors that name their place, refusal to
//! replace a file robmem did not write, and the pictures drawn from the
//! table.

mod support;

use serde_json::Value;
use std::path::Path;
use support::{robmem_in, text};

/// The data and network every test sweeps (small: the tests take seconds).
const BASE: &str = "\
dataset b = blobs(points = 120, dim = 16, labels = 4, spread = 0.3, seed = 5)
network net {
    data   = b
    radius = max
    width  = 24
    seed   = 1
}
";

/// Writes `spec` as `dir/spec.rmem`.
fn write_spec(dir: &Path, spec: &str) {
    std::fs::write(dir.join("spec.rmem"), spec).unwrap();
}

/// Runs `robmem sweep spec.rmem ARGS` in `dir` and checks it succeeds.
fn sweep_ok(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["sweep", "spec.rmem"];
    all.extend_from_slice(args);
    let out = robmem_in(dir, &all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// The JSON Lines of a table.
fn rows(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A row without its timings (which differ between runs).
fn untimed(mut row: Value) -> Value {
    let object = row.as_object_mut().unwrap();
    object.remove("seconds");
    object.remove("total_seconds");
    row
}

#[test]
fn sweep_rows_equal_single_compiles_of_the_same_blocks() {
    let dir = tempfile::tempdir().unwrap();
    write_spec(
        dir.path(),
        &format!("{BASE}sweep net {{ width = [16, 24]  projection = [pca, random] }}\n"),
    );
    let stdout = sweep_ok(dir.path(), &["--json"]);
    let out = dir.path().join("out");
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "net.csv",
            "net.jsonl",
            "net.ratio-width.png",
            "net.ratio-width.svg"
        ],
        "no temporary is left"
    );
    let table = rows(&out.join("net.jsonl"));
    let printed: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(printed, table, "--json prints the rows of NAME.jsonl");
    assert_eq!(table.len(), 4);
    // The first key varies slowest.
    let order: Vec<(i64, &str)> = table
        .iter()
        .map(|r| {
            (
                r["swept"]["width"].as_i64().unwrap(),
                r["swept"]["projection"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [(16, "pca"), (16, "random"), (24, "pca"), (24, "random")]
    );
    let csv = std::fs::read_to_string(out.join("net.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("sweep,row,swept_width,swept_projection,network,points,"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 5, "a header and one line per row");
    for (k, row) in table.iter().enumerate() {
        assert_eq!(row["row"], k);
        assert!(row.get("error").is_none(), "{row}");
        let width = row["swept"]["width"].as_i64().unwrap();
        let projection = row["swept"]["projection"].as_str().unwrap();
        // The equivalent network block, compiled alone with a certificate.
        let single = tempfile::tempdir().unwrap();
        let block = BASE.replace("width  = 24", &format!("width = {width}"));
        write_spec(
            single.path(),
            &format!(
                "{}    projection = {projection}\n}}\nemit net {{ onnx = \"n.onnx\"  certificate = \"n.cert.json\" }}\n",
                block.trim_end().trim_end_matches('}')
            ),
        );
        let compiled = robmem_in(single.path(), &["compile", "spec.rmem", "--json"]);
        assert_eq!(
            compiled.status.code(),
            Some(0),
            "{}",
            text(&compiled.stderr)
        );
        let compiled: Value = serde_json::from_str(text(&compiled.stdout).trim()).unwrap();
        for key in [
            "points",
            "labels",
            "delta",
            "limit",
            "radius",
            "ratio",
            "certified_radius",
            "arithmetics",
            "construction",
            "projection",
            "m",
            "width",
            "depth",
            "parameters",
        ] {
            assert_eq!(row[key], compiled[key], "row {k}, key {key}");
        }
        // The CSV line says the same.
        let fields: Vec<&str> = lines[k + 1].split(',').collect();
        assert_eq!(fields[2], width.to_string());
        assert_eq!(fields[3], projection);
        assert_eq!(
            fields[13].parse::<f64>().unwrap(),
            row["certified_radius"].as_f64().unwrap()
        );
        assert_eq!(fields[17], row["m"].to_string());
    }
}

#[test]
fn sweep_is_deterministic_and_replaces_its_own_tables() {
    let dir = tempfile::tempdir().unwrap();
    write_spec(
        dir.path(),
        &format!("{BASE}sweep net {{ projection = [pca, random]  seed = [1, 2] }}\n"),
    );
    sweep_ok(dir.path(), &["--out", "tables"]);
    let first: Vec<Value> = rows(&dir.path().join("tables/net.jsonl"))
        .into_iter()
        .map(untimed)
        .collect();
    sweep_ok(dir.path(), &["--out", "tables"]);
    let second: Vec<Value> = rows(&dir.path().join("tables/net.jsonl"))
        .into_iter()
        .map(untimed)
        .collect();
    assert_eq!(first, second);
    assert_eq!(first.len(), 4);
}

#[test]
fn points_subsamples_are_seeded_and_nested() {
    let dir = tempfile::tempdir().unwrap();
    write_spec(
        dir.path(),
        &format!("{BASE}sweep net {{\n    points = [30, 60, 120, 500]\n    seed = [1, 2]\n}}\n"),
    );
    sweep_ok(dir.path(), &[]);
    let table = rows(&dir.path().join("out/net.jsonl"));
    assert_eq!(table.len(), 8);
    for row in &table[..6] {
        assert!(row.get("error").is_none(), "{row}");
        assert_eq!(row["points"], row["swept"]["points"], "{row}");
    }
    // 120 points are the whole data set, whatever the seed.
    assert_eq!(table[4]["delta"], table[5]["delta"]);
    // Nested subsamples: more points, a separation no larger.
    for seed in 0..2 {
        let deltas: Vec<f64> = (0..3)
            .map(|i| table[2 * i + seed]["delta"].as_f64().unwrap())
            .collect();
        assert!(
            deltas[0] >= deltas[1] && deltas[1] >= deltas[2],
            "{deltas:?}"
        );
    }
    // 500 points of 120: a row with its error, pointing at the 500.
    for row in &table[6..] {
        assert_eq!(row["error"]["kind"], "points", "{row}");
        assert!(
            row["error"]["message"]
                .as_str()
                .unwrap()
                .contains("`points = 500` asks for more points than data set `b` has (120)"),
            "{row}"
        );
        assert_eq!(row["error"]["place"], "spec.rmem:9:28");
    }
    // The same subsample again (the seed decides the points).
    sweep_ok(dir.path(), &[]);
    let again = rows(&dir.path().join("out/net.jsonl"));
    for (a, b) in table.iter().zip(&again) {
        assert_eq!(a["delta"], b["delta"]);
        assert_eq!(a["radius"], b["radius"]);
    }
    // Another seed draws other points.
    assert_ne!(table[0]["delta"], table[1]["delta"]);
}

#[test]
fn failed_combinations_are_rows_with_their_error() {
    let dir = tempfile::tempdir().unwrap();
    write_spec(
        dir.path(),
        &format!("{BASE}sweep net {{ width = [3, 24] }}\n"),
    );
    let stdout = sweep_ok(dir.path(), &[]);
    assert!(stdout.contains("error (width)"), "{stdout}");
    let table = rows(&dir.path().join("out/net.jsonl"));
    assert_eq!(table[0]["error"]["kind"], "width", "{}", table[0]);
    assert!(table[1].get("error").is_none());
    let csv = std::fs::read_to_string(dir.path().join("out/net.csv")).unwrap();
    assert!(csv.lines().nth(1).unwrap().contains(",width,"), "{csv}");
}

/// Runs a spec that must fail to resolve and returns its standard error.
fn resolve_error(sweep: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    write_spec(dir.path(), &format!("{BASE}{sweep}"));
    let out = robmem_in(dir.path(), &["sweep", "spec.rmem"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!dir.path().join("out").exists(), "nothing is written");
    text(&out.stderr)
}

#[test]
fn sweep_errors_name_their_place() {
    let err = resolve_error("sweep nett { width = [16] }\n");
    assert!(
        err.contains("`sweep` names unknown network `nett`"),
        "{err}"
    );
    assert!(err.contains("spec.rmem:8:7"), "{err}");
    assert!(err.contains("did you mean `net`?"), "{err}");

    let err = resolve_error("sweep net {\n    projection = [pca, pcaa]\n}\n");
    assert!(err.contains("unknown projection `pcaa`"), "{err}");
    assert!(err.contains("spec.rmem:9:24"), "{err}");
    assert!(err.contains("did you mean `pca`?"), "{err}");

    let err = resolve_error("sweep net {\n    width = [16, 0]\n}\n");
    assert!(
        err.contains("the width must be `auto` or a positive integer"),
        "{err}"
    );
    assert!(err.contains("spec.rmem:9:18"), "{err}");

    let err = resolve_error("sweep net {\n    width = []\n}\n");
    assert!(
        err.contains("`width` in sweep `net` lists no value"),
        "{err}"
    );
    assert!(err.contains("spec.rmem:9:13"), "{err}");

    let err = resolve_error("sweep net {\n    widht = [16]\n}\n");
    assert!(err.contains("unknown key `widht` in sweep `net`"), "{err}");
    assert!(err.contains("did you mean `width`?"), "{err}");

    let err = resolve_error("sweep net {\n    points = [10, 2.5]\n}\n");
    assert!(
        err.contains("`points` must be a non-negative integer"),
        "{err}"
    );
    assert!(err.contains("spec.rmem:9:19"), "{err}");
}

#[test]
fn a_table_robmem_did_not_write_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    write_spec(dir.path(), &format!("{BASE}sweep net {{ width = [24] }}\n"));
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/net.csv"), "my notes\n").unwrap();
    let out = robmem_in(dir.path(), &["sweep", "spec.rmem"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("robmem did not write"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/net.csv")).unwrap(),
        "my notes\n"
    );
    assert!(!dir.path().join("out/net.jsonl").exists());
}

#[test]
fn a_spec_without_sweeps_and_the_domain_interval() {
    let dir = tempfile::tempdir().unwrap();
    write_spec(dir.path(), BASE);
    let out = robmem_in(dir.path(), &["sweep", "spec.rmem"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("has no `sweep` block"));
    // `domain` is a list of two numbers; three are refused at the value.
    write_spec(
        dir.path(),
        &format!("{BASE}emit net {{ vnnlib = \"v\"  domain = [0, 1, 2] }}\n"),
    );
    let out = robmem_in(dir.path(), &["check", "spec.rmem"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("the domain must be an interval [lo, hi]"),
        "{err}"
    );
    assert!(err.contains("a list of 3 values here"), "{err}");
}

#[test]
fn sweep_help_teaches() {
    let out = robmem_in(Path::new(env!("CARGO_MANIFEST_DIR")), &["sweep", "--help"]);
    let help = text(&out.stdout);
    for needle in [
        "sweep digits_net",
        "points",
        "NAME.csv",
        "NAME.jsonl",
        "--out",
        "Exit codes",
    ] {
        assert!(help.contains(needle), "expected {needle:?} in:\n{help}");
    }
}

#[test]
fn norm_radius_and_construction_are_swept_like_network_keys() {
    let dir = tempfile::tempdir().unwrap();
    write_spec(
        dir.path(),
        &format!(
            "{BASE}sweep net {{\n    norm = [l1, linf]\n    construction = [scores, distances]\n    radius = [0.5 of limit, 0.99 of limit]\n    width = auto\n}}\n"
        ),
    );
    sweep_ok(dir.path(), &[]);
    let table = rows(&dir.path().join("out/net.jsonl"));
    assert_eq!(table.len(), 8);
    let mut compiled = 0;
    for row in &table {
        let swept = &row["swept"];
        if let Some(error) = row.get("error") {
            // Only scores may fail in l1 and linf (it reaches a fraction
            // of the limit); the row says so at the swept radius.
            assert_eq!(swept["construction"], "scores", "{row}");
            assert_eq!(error["kind"], "radius", "{row}");
            assert!(
                error["place"]
                    .as_str()
                    .unwrap()
                    .starts_with("spec.rmem:11:"),
                "{row}"
            );
            continue;
        }
        compiled += 1;
        assert_eq!(swept["width"], "auto", "a single value is a list of one");
        assert_eq!(row["norm"], swept["norm"], "{row}");
        assert_eq!(row["construction"], swept["construction"], "{row}");
        let fraction = if swept["radius"] == "0.5 of limit" {
            0.5
        } else {
            0.99
        };
        let ratio = row["ratio"].as_f64().unwrap();
        assert!((ratio - fraction).abs() < 1e-9, "{row}");
        assert!(row["certified_radius"].as_f64().unwrap() > 0.0, "{row}");
    }
    assert!(compiled >= 4, "every distances row compiles");
}

#[test]
fn a_sweep_of_too_many_combinations_is_refused() {
    let seeds: Vec<String> = (0..101).map(|s| s.to_string()).collect();
    let widths: Vec<String> = (1..=100).map(|w| w.to_string()).collect();
    let err = resolve_error(&format!(
        "sweep net {{ seed = [{}]  width = [{}] }}\n",
        seeds.join(", "),
        widths.join(", ")
    ));
    assert!(
        err.contains("sweep `net` has 101 x 100 combinations, more than 10000"),
        "{err}"
    );
}

/// The centres `(cx, cy)` of the series markers (radius-3 circles) of an
/// SVG chart, in document order.
fn markers(svg: &str) -> Vec<(f64, f64)> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    doc.descendants()
        .filter(|n| n.has_tag_name("circle") && n.attribute("r") == Some("3"))
        .map(|n| {
            let at = |a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
            (at("cx"), at("cy"))
        })
        .collect()
}

#[test]
fn pictures_draw_the_tables_values_and_are_never_a_users_file() {
    let dir = tempfile::tempdir().unwrap();
    write_spec(
        dir.path(),
        &format!(
            "{BASE}sweep net {{ width = [16, 24, 32]  projection = [pca, random]  points = [60, 120] }}\n"
        ),
    );
    sweep_ok(dir.path(), &[]);
    let out = dir.path().join("out");
    let table = rows(&out.join("net.jsonl"));
    assert_eq!(table.len(), 12);
    let svg = |kind: &str| std::fs::read_to_string(out.join(format!("net.{kind}.svg"))).unwrap();
    for (kind, title) in [
        ("ratio-width", "Certified ratio against width"),
        ("ratio-points", "Certified ratio against N"),
        ("size-points", "Width and depth against N"),
    ] {
        let text = svg(kind);
        assert!(
            text.starts_with("<!-- robmem sweep picture -->\n"),
            "{kind}"
        );
        let doc = roxmltree::Document::parse(&text).unwrap();
        let titles: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("title"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(titles, [title], "{kind}");
    }
    // Ratio against width: one curve per projection and N, each point a row.
    let ratio_width = svg("ratio-width");
    for label in [
        "projection = pca, points = 60",
        "projection = random, points = 120",
    ] {
        assert!(ratio_width.contains(label), "legend {label}");
    }
    let compiled: Vec<&Value> = table.iter().filter(|r| r.get("error").is_none()).collect();
    let drawn = markers(&ratio_width);
    assert_eq!(drawn.len(), compiled.len(), "one marker per compiled row");
    // The markers are the rows: y falls linearly as the certified ratio
    // rises, x rises linearly with the width (plotters rounds to pixels).
    let ratio = |r: &Value| r["certified_radius"].as_f64().unwrap() / r["limit"].as_f64().unwrap();
    let width = |r: &Value| r["width"].as_f64().unwrap();
    let linear = |pixels: Vec<f64>, values: Vec<f64>, falling: bool| {
        let (mut pixels, mut values) = (pixels, values);
        pixels.sort_by(f64::total_cmp);
        values.sort_by(f64::total_cmp);
        if falling {
            values.reverse();
        }
        let (p0, p1) = (pixels[0], pixels[pixels.len() - 1]);
        let (v0, v1) = (values[0], values[values.len() - 1]);
        assert!(p0 < p1 && v0 != v1, "the markers spread out");
        for (p, v) in pixels.iter().zip(&values) {
            let expected = p0 + (v - v0) / (v1 - v0) * (p1 - p0);
            assert!((p - expected).abs() < 1.5, "marker at {p}, value {v}");
        }
    };
    linear(
        drawn.iter().map(|p| p.1).collect(),
        compiled.iter().map(|r| ratio(r)).collect(),
        true,
    );
    linear(
        drawn.iter().map(|p| p.0).collect(),
        compiled.iter().map(|r| width(r)).collect(),
        false,
    );
    // Each picture has a PNG copy, marked as robmem's.
    for kind in ["ratio-width", "ratio-points", "size-points"] {
        let png = std::fs::read(out.join(format!("net.{kind}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{kind}");
        assert!(
            png.windows(19).any(|w| w == b"tEXtSoftware\0robmem"),
            "{kind}"
        );
    }
    // A user's file where a picture goes is refused and left alone.
    std::fs::write(out.join("net.ratio-points.png"), b"\x89PNG\r\n\x1a\nmine").unwrap();
    let refused = robmem_in(dir.path(), &["sweep", "spec.rmem"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert_eq!(
        std::fs::read(out.join("net.ratio-points.png")).unwrap(),
        b"\x89PNG\r\n\x1a\nmine"
    );
    std::fs::remove_file(out.join("net.ratio-points.png")).unwrap();
    std::fs::write(out.join("net.size-points.svg"), "<svg>mine</svg>\n").unwrap();
    let refused = robmem_in(dir.path(), &["sweep", "spec.rmem"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert_eq!(svg("size-points"), "<svg>mine</svg>\n");
}
