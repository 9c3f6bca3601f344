//! `robmem check` end to end: the examples, `--json`, exit codes, and the
//! language reference's examples being the files under `examples/`.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::examples;

fn robmem(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_robmem"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run robmem")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_spec(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.rmem");
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

#[test]
fn check_every_example_passes() {
    let files = examples();
    for required in ["xor", "wine", "blobs", "label", "tour"] {
        assert!(
            files.iter().any(|f| f.file_stem().unwrap() == required),
            "examples/{required}.rmem is missing"
        );
    }
    for f in files {
        let out = robmem(&["check", f.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}:\n{}{}",
            f.display(),
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains("separation"), "{}", f.display());
    }
}

#[test]
fn check_json_has_the_documented_keys() {
    let out = robmem(&["check", "examples/tour.rmem", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one object per network");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    for key in [
        "network", "points", "dim", "labels", "norm", "delta", "limit", "radius",
    ] {
        assert!(v.get(key).is_some(), "missing key {key} in {v}");
    }
    assert_eq!(v["network"], "xor_net");
    assert_eq!(v["points"], 4);
    assert_eq!(v["dim"], 2);
    assert_eq!(v["labels"], 2);
    assert_eq!(v["norm"], "l2");
    assert_eq!(v["delta"], 1.0);
    assert_eq!(v["limit"], 0.5);
    assert!((v["radius"].as_f64().unwrap() - 0.45).abs() < 1e-12);
}

#[test]
fn check_json_radius_max_is_a_string() {
    let out = robmem(&["check", "examples/blobs.rmem", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["radius"], "max");
    assert_eq!(v["points"], 500);
    assert_eq!(v["dim"], 64);
    assert_eq!(v["labels"], 10);
}

#[test]
fn check_xor_l2_reports_delta_one_and_limit_half() {
    let out = robmem(&["check", "examples/xor.rmem"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("delta = 1 between point 0"), "{stdout}");
    assert!(stdout.contains("delta/2 = 0.5"), "{stdout}");
    assert!(stdout.contains("line 4 of examples/xor.rmem"), "{stdout}");
}

#[test]
fn check_radius_at_the_limit_fails_and_names_the_pair() {
    let (_dir, path) = temp_spec(
        "dataset xor {\n [0, 0] -> 0\n [1, 1] -> 0\n [0, 1] -> 1\n [1, 0] -> 1\n}\n\
         network n {\n  data = xor\n  radius = 1 of limit\n}\n",
    );
    let out = robmem(&["check", &path]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    for needle in [
        "radius 1 of limit = 0.5 is not below the limit 0.5",
        "no function can robustly memorize",
        "point 0 (line 2",
        "point 2 (line 4",
        &format!("{path}:9:12"),
    ] {
        assert!(stderr.contains(needle), "expected {needle:?} in:\n{stderr}");
    }
}

#[test]
fn check_invalid_spec_exits_1_and_unreadable_file_exits_2() {
    let (_dir, path) = temp_spec("network n { data = nothing }");
    let out = robmem(&["check", &path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains(&format!("{path}:1:20")));

    let out = robmem(&["check", "no/such/spec.rmem"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read spec file"));

    let (_dir, path) = temp_spec("dataset d = csv(\"missing.csv\", label = 0)");
    let out = robmem(&["check", &path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("missing.csv"));

    let out = robmem(&["check"]);
    assert_eq!(out.status.code(), Some(2), "usage error");
    let out = robmem(&["chek", "examples/xor.rmem"]);
    assert_eq!(out.status.code(), Some(2), "unknown subcommand");
}

#[test]
fn check_warning_for_a_single_label_keeps_exit_0() {
    let (_dir, path) = temp_spec("dataset d { [0] -> a [1] -> a }\nnetwork n { data = d }");
    let out = robmem(&["check", &path]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("would be a constant"), "{stderr}");
    assert!(stderr.contains(&format!("{path}:2:20")), "{stderr}");
}

#[test]
fn check_help_teaches_commands_and_exit_codes() {
    let out = robmem(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for needle in [
        "check",
        "Exit codes",
        "robmem check examples/xor.rmem",
        "dataset xor",
    ] {
        assert!(help.contains(needle), "expected {needle:?} in:\n{help}");
    }
    let out = robmem(&["check", "--help"]);
    let help = text(&out.stdout);
    for needle in ["--json", "delta_p/2", "Exit codes"] {
        assert!(help.contains(needle), "expected {needle:?} in:\n{help}");
    }
}

/// Every ```rmem block of specs/language.md is preceded by
/// `<!-- example: examples/NAME.rmem -->` and equals that file.
#[test]
fn check_language_reference_examples_are_the_example_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("specs/language.md")).unwrap();
    let lines: Vec<&str> = doc.lines().collect();
    let mut blocks = 0;
    let mut named = std::collections::BTreeSet::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "```rmem" {
            let marker = lines[..i]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .copied()
                .unwrap_or("");
            let file = marker
                .trim()
                .strip_prefix("<!-- example: ")
                .and_then(|m| m.strip_suffix(" -->"))
                .unwrap_or_else(|| panic!("line {}: rmem block without an example marker", i + 1));
            let end = i
                + 1
                + lines[i + 1..]
                    .iter()
                    .position(|l| l.trim() == "```")
                    .unwrap();
            let block = lines[i + 1..end].join("\n");
            let on_disk =
                std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(
                block.trim_end(),
                on_disk.trim_end(),
                "{file} differs from its block"
            );
            named.insert(file.to_string());
            blocks += 1;
            i = end;
        }
        i += 1;
    }
    assert!(blocks >= 5, "the reference should show the examples");
    for f in examples() {
        let rel = format!("examples/{}", f.file_name().unwrap().to_str().unwrap());
        assert!(
            named.contains(&rel),
            "{rel} is not shown in specs/language.md"
        );
    }
}

#[test]
fn check_reports_what_each_construction_reaches() {
    // linf on the XOR square: delta_inf = delta_2 = 1, the identity map's
    // score route reaches delta_2 / (2 sqrt 2), 1/sqrt(2) = 0.7071 of the
    // limit 1/2, less the gap rounding needs (the margin vanishes at the
    // supremum): a relative 1e-15 in float64, about 2e-5 in float32;
    // distances reach nearly the whole limit.
    let (_dir, path) = temp_spec(
        "dataset g { [0, 0] -> 0  [1, 0] -> 1  [0, 1] -> 1  [1, 1] -> 0 }\n\
         network n { data = g  norm = linf }\n",
    );
    let out = robmem(&["check", &path, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let reach = v["reach"].as_array().expect("reach is a list");
    let scores = reach
        .iter()
        .find(|r| r["construction"] == "scores")
        .unwrap();
    let ratio = |arithmetic: &str| scores[arithmetic].as_f64().unwrap();
    assert!(
        (ratio("float64") - 0.5f64.sqrt()).abs() < 1e-6,
        "{}",
        ratio("float64")
    );
    assert!(ratio("float32") < ratio("float64") && ratio("float32") > 0.7070);
    assert_eq!(scores["exact"], false);
    let distances = reach
        .iter()
        .find(|r| r["construction"] == "distances")
        .unwrap();
    let f32 = distances["float32"].as_f64().unwrap();
    let f64 = distances["float64"].as_f64().unwrap();
    assert!(f32 > 0.999 && f32 < 1.0, "{f32}");
    assert!(f64 >= f32 && f64 < 1.0, "{f64}");
    assert_eq!(distances["exact"], true);
    // The text report has the same lines.
    let out = robmem(&["check", &path]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("reach       scores     float32 0.7070"),
        "{stdout}"
    );
    assert!(stdout.contains("distances  float32 0.99"), "{stdout}");
    // l(3) has no distance construction.
    let (_dir, path) =
        temp_spec("dataset g { [0, 0] -> 0  [1, 0] -> 1 }\nnetwork n { data = g  norm = l(3) }\n");
    let out = robmem(&["check", &path, "--json"]);
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let reach = v["reach"].as_array().unwrap();
    assert_eq!(reach.len(), 1);
    assert_eq!(reach[0]["construction"], "scores");
}

#[test]
fn check_counts_float32_rounding_in_the_score_estimate() {
    // 300 points in [20000, 20001]^2, three labels: delta is a few 1e-3,
    // so float32 inputs near 20000 (spacing 2e-3) leave the score network
    // little or no margin, while in float64 the identity map reaches the
    // limit.
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("a,b,label\n");
    for i in 0..300u32 {
        let (x, y) = (
            (f64::from(i) * 0.618_034) % 1.0,
            (f64::from(i) * 0.414_214) % 1.0,
        );
        csv += &format!("{:.6},{:.6},{}\n", 20000.0 + x, 20000.0 + y, i % 3);
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let path = dir.path().join("spec.rmem");
    std::fs::write(
        &path,
        "dataset t = csv(\"t.csv\", label = \"label\")\nnetwork n { data = t  norm = l2 }\n",
    )
    .unwrap();
    let out = robmem(&["check", path.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let scores = v["reach"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["construction"] == "scores")
        .unwrap()
        .clone();
    let (f32, f64) = (
        scores["float32"].as_f64().unwrap(),
        scores["float64"].as_f64().unwrap(),
    );
    assert!(f32 < 0.5 * f64, "float32 {f32}, float64 {f64}");
    assert!(f64 > 0.999, "{f64}");
    assert!(
        scores["how"].as_str().unwrap().contains("rounding counted"),
        "{scores}"
    );
}
