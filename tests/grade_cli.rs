//! `robmem grade` end to end: a real instance folder made by `robmem
//! compile` (`vnnlib = "DIR"`, `unsafe = 2`), results files written by hand,
//! and the verdicts, notes and exit codes they must give: all correct (0),
//! an unsound `unsat` on a planted instance (1), a `sat` on a robust instance
//! (1), robmem's own witness as a VNN-COMP counterexample (correct), the
//! same moved outside the box (WRONG), a point of the box the network
//! classifies correctly (WRONG), timeouts and unknowns (counted, 0), a
//! malformed results file (2, line named) and a row naming no instance (2).

mod support;

use support::text;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

fn robmem(args: &[&str], cwd: &Path) -> Output {
    support::robmem_in(cwd, args)
}

const SPEC: &str = "dataset pts {
    [0, 0, 0] -> 0
    [1, 0, 0] -> 1
    [0, 1, 0.3] -> 2
    [1, 1, 1] -> 0
    [0.5, 0.2, 0.9] -> 1
    [0.2, 0.7, 0.6] -> 2
}
network net { data = pts norm = linf radius = 0.5 of limit }
emit net { onnx = \"out/net.onnx\" vnnlib = \"out/net-vnnlib\" unsafe = 2 }
";

/// The compiled folder, shared by every test (compiled once per run under
/// cargo's per-target temporary folder, replacing the last run's; tests only
/// read it and write their own files elsewhere).
fn folder() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grade_cli");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("s.rmem"), SPEC).unwrap();
        let out = robmem(&["compile", "s.rmem"], &dir);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(dir.join("out/net-vnnlib/expected.csv").is_file());
        dir
    })
}

/// The instance folder.
fn instances() -> PathBuf {
    folder().join("out/net-vnnlib")
}

/// `(vnnlib path, expected answer)` from expected.csv.
fn expected() -> Vec<(String, String)> {
    std::fs::read_to_string(instances().join("expected.csv"))
        .unwrap()
        .lines()
        .map(|l| {
            let (v, a) = l.split_once(',').unwrap();
            (v.to_string(), a.to_string())
        })
        .collect()
}

/// A results file in a fresh folder: one row per `(vnnlib, result)`.
fn results(rows: &[(String, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = String::new();
    for (v, r) in rows {
        s += &format!("robmem,onnx/net.onnx,{v},0.25,{r},1.5\n");
    }
    let path = dir.path().join("results.csv");
    std::fs::write(&path, s).unwrap();
    (dir, path)
}

/// The rows a perfect verifier gives.
fn perfect() -> Vec<(String, &'static str)> {
    expected()
        .into_iter()
        .map(|(v, a)| (v, if a == "sat" { "sat" } else { "unsat" }))
        .collect()
}

fn grade(results: &Path, extra: &[&str]) -> Output {
    let dir = instances();
    let mut args = vec!["grade", dir.to_str().unwrap(), results.to_str().unwrap()];
    args.extend_from_slice(extra);
    robmem(&args, folder())
}

/// The table line of the instance whose stem is `stem`.
fn line_of<'a>(table: &'a str, stem: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(stem))
        .unwrap_or_else(|| panic!("no line for {stem} in\n{table}"))
}

/// The witness of planted instance `k` (robmem's JSON `input`).
fn witness(k: usize) -> Vec<f64> {
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(instances().join(format!("counterexamples/net_unsafe_{k}.json")))
            .unwrap(),
    )
    .unwrap();
    json["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// `(lo, hi)` per input of a property file.
fn bounds(vnnlib: &str) -> Vec<(f64, f64)> {
    let src = std::fs::read_to_string(instances().join(vnnlib)).unwrap();
    let value = |rest: &str| -> f64 {
        let number = rest.split_whitespace().nth(1).unwrap();
        number.trim_end_matches(')').parse().unwrap()
    };
    let mut lo = Vec::new();
    let mut hi = Vec::new();
    for l in src.lines() {
        if let Some(rest) = l.strip_prefix("(assert (>= X_") {
            lo.push(value(rest));
        } else if let Some(rest) = l.strip_prefix("(assert (<= X_") {
            hi.push(value(rest));
        }
    }
    lo.into_iter().zip(hi).collect()
}

/// A VNN-COMP counterexample file's text for input `x` (no outputs).
fn vnncomp_text(x: &[f64]) -> String {
    let mut s = String::from("sat\n(");
    for (i, v) in x.iter().enumerate() {
        s += &format!("(X_{i} {v:?})\n");
    }
    s + ")\n"
}

#[test]
fn all_correct_answers_exit_0_with_every_instance_counted() {
    let (_d, path) = results(&perfect());
    let out = grade(&path, &[]);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}{}", text(&out.stderr));
    let n = expected().len();
    assert_eq!(n, 8, "6 robust and 2 planted instances");
    assert!(
        table.contains(&format!("{n} instances: {n} correct, 0 WRONG")),
        "{table}"
    );
    let l = line_of(&table, "net_point_3");
    assert!(
        l.contains("unsat") && l.contains("correct") && l.contains("0.25") && l.contains("1.50"),
        "{l}"
    );
    // A sat on a planted instance without a counterexample: correct, noted.
    let l = line_of(&table, "net_unsafe_1");
    assert!(
        l.contains("correct") && l.contains("no counterexample"),
        "{l}"
    );
}

#[test]
fn an_unsat_on_a_planted_instance_is_wrong_and_exits_1() {
    let mut rows = perfect();
    let k = rows
        .iter()
        .position(|(v, _)| v.ends_with("net_unsafe_0.vnnlib"))
        .unwrap();
    rows[k].1 = "holds"; // the VNN-COMP 2021 word for unsat
    let (_d, path) = results(&rows);
    let out = grade(&path, &[]);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{table}");
    let l = line_of(&table, "net_unsafe_0");
    assert!(l.contains("WRONG") && l.contains("unsound"), "{l}");
    assert!(table.contains("7 correct, 1 WRONG"), "{table}");
}

#[test]
fn a_sat_on_a_robust_instance_is_wrong_and_exits_1() {
    let mut rows = perfect();
    rows[2].1 = "SAT";
    let (_d, path) = results(&rows);
    let out = grade(&path, &[]);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{table}");
    let l = line_of(&table, "net_point_2");
    assert!(l.contains("WRONG") && l.contains("certified robust"), "{l}");
}

#[test]
fn robmem_own_witness_checks_out_as_a_vnncomp_counterexample() {
    let (d, path) = results(&perfect());
    let ce = d.path().join("ce");
    std::fs::create_dir(&ce).unwrap();
    std::fs::write(
        ce.join("net_unsafe_0.counterexample"),
        vnncomp_text(&witness(0)),
    )
    .unwrap();
    // robmem's JSON file is read as well.
    std::fs::copy(
        instances().join("counterexamples/net_unsafe_1.json"),
        ce.join("net_unsafe_1.json"),
    )
    .unwrap();
    let out = grade(&path, &["--counterexamples", ce.to_str().unwrap()]);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}{}", text(&out.stderr));
    for stem in ["net_unsafe_0", "net_unsafe_1"] {
        let l = line_of(&table, stem);
        assert!(
            l.contains("correct")
                && l.contains("counterexample checks out (float32: violated; real: violated)"),
            "{l}"
        );
    }
    // The same through the seventh field, and in JSON.
    let rows: String = perfect()
        .iter()
        .map(|(v, r)| {
            let extra = if v.ends_with("net_unsafe_0.vnnlib") {
                ",ce/net_unsafe_0.counterexample"
            } else {
                ""
            };
            format!("robmem,onnx/net.onnx,{v},0.25,{r},1.5{extra}\n")
        })
        .collect();
    std::fs::write(&path, rows).unwrap();
    let out = grade(&path, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 9, "8 instances and the totals");
    let planted = lines
        .iter()
        .find(|v| v["instance"] == "vnnlib/net_unsafe_0.vnnlib")
        .unwrap();
    assert_eq!(planted["verdict"], "correct");
    assert_eq!(planted["counterexample"]["inside_box"], true);
    assert_eq!(planted["counterexample"]["checks_out"], true);
    assert_eq!(planted["counterexample"]["model"], "violated");
    assert_eq!(planted["counterexample"]["real"], "violated");
    let totals = &lines[8]["totals"];
    assert_eq!(totals["instances"], 8);
    assert_eq!(totals["correct"], 8);
    assert_eq!(totals["wrong"], 0);
    assert_eq!(totals["run_time"], 12.0);
}

#[test]
fn a_counterexample_outside_the_box_is_wrong() {
    let (d, path) = results(&perfect());
    let ce = d.path().join("ce");
    std::fs::create_dir(&ce).unwrap();
    let (_, hi) = bounds("vnnlib/net_unsafe_0.vnnlib")[0];
    let mut x = witness(0);
    x[0] = hi + 0.25;
    std::fs::write(ce.join("net_unsafe_0.counterexample"), vnncomp_text(&x)).unwrap();
    let out = grade(&path, &["--counterexamples", ce.to_str().unwrap()]);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{table}{}", text(&out.stderr));
    let l = line_of(&table, "net_unsafe_0");
    assert!(
        l.contains("WRONG") && l.contains("outside the box") && l.contains("X_0"),
        "{l}"
    );
    // Just outside (one float32 step above the bound) is outside too.
    x[0] = f64::from((hi as f32).next_up());
    std::fs::write(ce.join("net_unsafe_0.counterexample"), vnncomp_text(&x)).unwrap();
    let out = grade(&path, &["--counterexamples", ce.to_str().unwrap()]);
    let l = text(&out.stdout);
    assert!(
        line_of(&l, "net_unsafe_0").contains("within VNN-COMP's tolerance"),
        "{l}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_counterexample_the_network_classifies_correctly_is_wrong() {
    // The planted box is centred on a data point (specs/vnnlib.md): that
    // point is in the box, and the network gives it its own label.
    let (d, path) = results(&perfect());
    let ce = d.path().join("ce");
    std::fs::create_dir(&ce).unwrap();
    let b = bounds("vnnlib/net_unsafe_0.vnnlib");
    let centre: Vec<f64> = b
        .iter()
        .map(|(lo, hi)| f64::from(((lo + hi) / 2.0) as f32))
        .collect();
    std::fs::write(
        ce.join("net_unsafe_0.counterexample"),
        vnncomp_text(&centre),
    )
    .unwrap();
    let out = grade(&path, &["--counterexamples", ce.to_str().unwrap()]);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{table}{}", text(&out.stderr));
    let l = line_of(&table, "net_unsafe_0");
    assert!(
        l.contains("WRONG")
            && l.contains("does not violate the property (float32: holds; real: holds)"),
        "{l}"
    );
}

#[test]
fn timeouts_and_unknowns_are_counted_and_exit_0() {
    let mut rows = perfect();
    rows[0].1 = "timeout";
    rows[1].1 = "Unknown";
    rows[2].1 = "run_instance_timeout";
    rows[3].1 = "error_exit_code_3";
    rows.pop(); // the last instance gets no row
    let (_d, path) = results(&rows);
    let out = grade(&path, &[]);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}");
    assert!(
        table.contains("8 instances: 3 correct, 0 WRONG, 1 unknown, 2 timeout, 1 error, 1 missing"),
        "{table}"
    );
    assert!(line_of(&table, "net_point_0").contains("timeout"));
    assert!(line_of(&table, "net_unsafe_1").contains("missing"));
}

#[test]
fn a_header_row_and_paths_ending_in_the_instance_are_accepted() {
    let rows = perfect();
    let mut s = String::from("benchmark,onnx,vnnlib,prepare_time,result,run_time\n");
    for (v, r) in &rows {
        s += &format!(" robmem , ./benchmarks/robmem/onnx/net.onnx , ./benchmarks/robmem/{v} , 0.25 , {r} , 1.5 \n");
    }
    let (d, _) = results(&[]);
    let path = d.path().join("r.csv");
    std::fs::write(&path, s).unwrap();
    let out = grade(&path, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("8 instances: 8 correct"));
}

#[test]
fn a_malformed_results_file_exits_2_naming_the_line() {
    let (d, _) = results(&[]);
    let path = d.path().join("bad.csv");
    std::fs::write(
        &path,
        "robmem,onnx/net.onnx,vnnlib/net_point_0.vnnlib,0.25,unsat,1.5\n\
         robmem,onnx/net.onnx,vnnlib/net_point_1.vnnlib,soon,unsat,1.5\n",
    )
    .unwrap();
    let out = grade(&path, &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert!(err.contains("bad.csv:2:48"), "{err}");
    assert!(
        err.contains("line 2") && err.contains("prepare_time `soon`"),
        "{err}"
    );
    assert!(err.contains("help:"), "{err}");
    // Too few fields.
    std::fs::write(
        &path,
        "robmem,onnx/net.onnx,vnnlib/net_point_0.vnnlib,unsat\n",
    )
    .unwrap();
    let out = grade(&path, &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.csv:1:1") && err.contains("expected 6"),
        "{err}"
    );
    // A result that is no answer.
    std::fs::write(
        &path,
        "robmem,onnx/net.onnx,vnnlib/net_point_0.vnnlib,1,proved,1\n",
    )
    .unwrap();
    let err = text(&grade(&path, &[]).stderr);
    assert!(err.contains("`proved` is not a verifier answer"), "{err}");
}

#[test]
fn a_row_naming_no_instance_exits_2_naming_the_line() {
    let mut rows = perfect();
    rows.push(("vnnlib/net_point_9.vnnlib".to_string(), "unsat"));
    let (_d, path) = results(&rows);
    let out = grade(&path, &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("results.csv:9:22"), "{err}");
    assert!(
        err.contains("line 9") && err.contains("net_point_9.vnnlib"),
        "{err}"
    );
    // A second row for one instance, and a missing folder.
    let mut rows = perfect();
    rows.push(rows[0].clone());
    let (_d, path) = results(&rows);
    let err = text(&grade(&path, &[]).stderr);
    assert!(err.contains("already has a row (line 1)"), "{err}");
    let out = robmem(&["grade", "no-such-dir", path.to_str().unwrap()], folder());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected.csv"));
}

#[test]
fn grade_help_teaches_the_format_and_the_exit_codes() {
    let out = robmem(&["grade", "--help"], folder());
    let help = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    for needle in [
        "benchmark,onnx,vnnlib,prepare_time,result,run_time",
        "Exit codes",
        "robmem grade",
        "--counterexamples",
        "(X_0 v)",
        "holds",
    ] {
        assert!(help.contains(needle), "`{needle}` missing from\n{help}");
    }
    let top = text(&robmem(&["--help"], folder()).stdout);
    assert!(top.contains("grade"), "{top}");
}
