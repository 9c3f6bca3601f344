//! Benchmark suites cut from robmem's instances (specs/vnnlib.md,
//! "Suites"; issue 14, item 4): `--sample K --seed S` writes exactly K
//! instances at a stated ratio, byte-identical for one seed;
//! `--total-timeout T` sizes the timeouts of instances.csv to fit T;
//! `--hard N` writes hard-band instances marked `unknown`, which
//! `robmem grade` counts as unchecked; the emit keys do the same; and the
//! errors name what exists, with their exit codes and places.

mod support;

use support::text;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

fn robmem(args: &[&str], cwd: &Path) -> Output {
    support::robmem_in(cwd, args)
}

/// Standard error with the renderer's line wrapping undone.
fn err_text(out: &Output) -> String {
    text(&out.stderr)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// 40 points in 4 dimensions, 3 labels, l_inf.
const SPEC: &str = "dataset b = blobs(points = 40, dim = 4, labels = 3, spread = 0.05, seed = 1)
network n { data = b norm = linf radius = 0.5 of limit }
emit n { vnnlib = \"out/n-vnnlib\" }
";

fn setup(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.rmem"), spec).unwrap();
    dir
}

fn instances(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["instances", "s.rmem"];
    args.extend_from_slice(extra);
    robmem(&args, dir)
}

fn lines(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// Every file under `root`, relative path -> bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// The input box of a property file: (lo, hi) per input.
fn input_box(path: &Path) -> Vec<(f64, f64)> {
    let src = std::fs::read_to_string(path).unwrap();
    let mut lo = BTreeMap::new();
    let mut hi = BTreeMap::new();
    for line in src.lines() {
        let t: Vec<&str> = line
            .trim_start_matches("(assert (")
            .trim_end_matches("))")
            .split_whitespace()
            .collect();
        if !line.starts_with("(assert (") || t.len() != 3 || !t[1].starts_with("X_") {
            continue;
        }
        let i: usize = t[1][2..].parse().unwrap();
        let v: f64 = t[2].parse().unwrap();
        match t[0] {
            ">=" => lo.insert(i, v),
            "<=" => hi.insert(i, v),
            _ => None,
        };
    }
    lo.keys().map(|i| (lo[i], hi[i])).collect()
}

/// The data points, by `robmem check`'s neighbour: read from the instance
/// folder's reference.json (its first N inputs are the data points).
fn data_points(folder: &Path) -> Vec<Vec<f64>> {
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("reference.json")).unwrap())
            .unwrap();
    let n = r["points"].as_u64().unwrap() as usize;
    r["inputs"].as_array().unwrap()[..n]
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn a_sample_has_exactly_k_instances_a_quarter_planted_and_keeps_point_indices() {
    let dir = setup(SPEC);
    let out = instances(dir.path(), &["--sample", "10", "--seed", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let folder = dir.path().join("out/n-vnnlib");
    let inst = lines(&folder.join("instances.csv"));
    let exp = lines(&folder.join("expected.csv"));
    assert_eq!(inst.len(), 10);
    assert_eq!(exp.len(), 10);
    // round(10 / 4) = 3 planted, the rest robust, in the order of the spec
    let answers: Vec<&str> = exp.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(answers.iter().filter(|a| **a == "sat").count(), 3);
    assert_eq!(answers.iter().filter(|a| **a == "unsat").count(), 7);
    // the same files, in the same order, in both lists, and no other file
    let listed: Vec<&str> = inst.iter().map(|r| r[1].as_str()).collect();
    let expected: Vec<&str> = exp.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(listed, expected);
    let mut on_disk: Vec<String> = std::fs::read_dir(folder.join("vnnlib"))
        .unwrap()
        .map(|e| format!("vnnlib/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    on_disk.sort();
    let mut sorted: Vec<String> = listed.iter().map(|s| s.to_string()).collect();
    sorted.sort();
    assert_eq!(on_disk, sorted);
    // robust files keep the point's index (two digits for 40 points), and
    // the file is that point's property
    let mut indices = Vec::new();
    for rel in listed.iter().filter(|r| r.contains("_point_")) {
        let idx = &rel["vnnlib/n_point_".len()..rel.len() - ".vnnlib".len()];
        assert_eq!(idx.len(), 2, "{rel}");
        let i: usize = idx.parse().unwrap();
        let src = std::fs::read_to_string(folder.join(rel)).unwrap();
        assert!(src.contains(&format!("robust instance for data point {i},")));
        indices.push(i);
    }
    assert!(indices.windows(2).all(|w| w[0] < w[1]), "{indices:?}");
    assert!(text(&out.stdout).contains("n: 10 instances (7 robust, 3 planted) in"));

    // --unsafe sets the planted count inside the sample
    let out = instances(dir.path(), &["--sample", "10", "--unsafe", "0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exp = lines(&folder.join("expected.csv"));
    assert_eq!(exp.len(), 10);
    assert!(exp.iter().all(|r| r[1] == "unsat"));
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_other_points() {
    let dir = setup(SPEC);
    let run = |seed: &str, out: &str| {
        let o = instances(
            dir.path(),
            &["--sample", "9", "--seed", seed, "--hard", "2", "--out", out],
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        tree(&dir.path().join(out).join("n-vnnlib"))
    };
    let a = run("11", "a");
    let b = run("11", "b");
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(v == &b[k], "{} differs between two runs", k.display());
    }
    let c = run("12", "c");
    let points = |t: &BTreeMap<PathBuf, Vec<u8>>| -> Vec<PathBuf> {
        t.keys()
            .filter(|p| p.to_string_lossy().contains("_point_"))
            .cloned()
            .collect()
    };
    assert_ne!(
        points(&a),
        points(&c),
        "seeds 11 and 12 drew the same points"
    );
    assert_eq!(points(&a).len(), points(&c).len());
}

#[test]
fn a_sample_larger_than_what_exists_names_the_number_available() {
    let dir = setup(SPEC);
    // 100 = 25 planted + 75 robust, but there are 40 points
    let out = instances(dir.path(), &["--sample", "100"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = err_text(&out);
    assert!(err.contains("the data has 40 points"), "{err}");
    assert!(err.contains("at most 65 instances exist"), "{err}");
    assert!(!dir.path().join("out/n-vnnlib").exists());
    // more planted and hard than the sample holds
    let out = instances(
        dir.path(),
        &["--sample", "4", "--unsafe", "3", "--hard", "2"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(err_text(&out).contains("a sample of 4 instances cannot hold 3 planted and 2 hard"));
    // a sample of 0 is a usage error
    let out = instances(dir.path(), &["--sample", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_total_budget_sets_timeouts_that_add_up_to_at_most_the_budget() {
    let dir = setup(SPEC);
    let out = instances(dir.path(), &["--sample", "12", "--total-timeout", "100"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let inst = lines(&dir.path().join("out/n-vnnlib/instances.csv"));
    assert_eq!(inst.len(), 12);
    let timeouts: Vec<u64> = inst.iter().map(|r| r[2].parse().unwrap()).collect();
    assert!(
        timeouts.iter().all(|&t| t == 8),
        "floor(100 / 12) = 8: {timeouts:?}"
    );
    assert!(timeouts.iter().sum::<u64>() <= 100);
    assert!(text(&out.stdout).contains("; 8 s each, 96 s of a 100 s budget"));
    // without a sample: every point and the planted ones share the budget
    let out = instances(dir.path(), &["--total-timeout", "3600", "--unsafe", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let inst = lines(&dir.path().join("out/n-vnnlib/instances.csv"));
    assert_eq!(inst.len(), 42);
    assert!(inst.iter().all(|r| r[2] == "85"), "floor(3600 / 42) = 85");
    // less than a second per instance
    let out = instances(dir.path(), &["--sample", "10", "--total-timeout", "9"]);
    assert_eq!(out.status.code(), Some(1));
    let err = err_text(&out);
    assert!(
        err.contains("a total timeout of 9 s cannot give 10 instances one second each"),
        "{err}"
    );
    // --timeout and --total-timeout exclude each other
    let out = instances(dir.path(), &["--timeout", "5", "--total-timeout", "100"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_digits_shaped_suite_fits_an_hour() {
    // the shape of the 8x8 digits (64 coordinates, 10 labels), fewer points
    let dir = setup(
        "dataset d = blobs(points = 300, dim = 64, labels = 10, spread = 0.05, seed = 4)
network digits { data = d norm = linf radius = 0.5 of limit }
",
    );
    let out = instances(
        dir.path(),
        &["--sample", "100", "--seed", "1", "--total-timeout", "3600"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let inst = lines(&dir.path().join("out/digits-vnnlib/instances.csv"));
    assert_eq!(inst.len(), 100);
    let total: u64 = inst.iter().map(|r| r[2].parse::<u64>().unwrap()).sum();
    assert!(total <= 3600, "{total}");
    assert_eq!(total, 3600);
}

#[test]
fn hard_instances_lie_in_the_band_are_unknown_and_graded_unchecked() {
    let dir = setup(SPEC);
    let out = instances(
        dir.path(),
        &["--hard", "3", "--sample", "6", "--unsafe", "1"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("n: 6 instances (2 robust, 1 planted, 3 hard)"));
    let folder = dir.path().join("out/n-vnnlib");
    let exp = lines(&folder.join("expected.csv"));
    let hard: Vec<&Vec<String>> = exp.iter().filter(|r| r[0].contains("_hard_")).collect();
    let names: Vec<&str> = hard.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names,
        [
            "vnnlib/n_hard_0.vnnlib",
            "vnnlib/n_hard_1.vnnlib",
            "vnnlib/n_hard_2.vnnlib"
        ]
    );
    assert!(hard.iter().all(|r| r[1] == "unknown"));
    // the band: sigma (the certificate's radius) < r < delta_p - sigma, in
    // l_inf the box is the ball, so its half-width is r (up to float32)
    let cert: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("n.cert.json")).unwrap())
            .unwrap();
    let sigma = cert["radius"].as_f64().unwrap();
    let check = robmem(&["check", "s.rmem", "--json"], dir.path());
    let facts: serde_json::Value = serde_json::from_str(text(&check.stdout).trim()).unwrap();
    let delta = facts["delta"].as_f64().unwrap();
    let points = data_points(&folder);
    let mut radii = Vec::new();
    for name in &names {
        let path = folder.join(name);
        let src = std::fs::read_to_string(&path).unwrap();
        let i: usize = src
            .split("data point ")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(src.contains("expected answer: unknown"));
        let b = input_box(&path);
        let r = b
            .iter()
            .zip(&points[i])
            .map(|(&(lo, hi), &x)| (x - lo).max(hi - x))
            .fold(0.0, f64::max);
        // inside the ball of radius r: every bound within r of the point
        assert!(
            r > sigma * 1.01 && r < delta - sigma,
            "{r} not in ({sigma}, {})",
            delta - sigma
        );
        radii.push(r);
    }
    // evenly spaced: r_k = sigma + (delta - 2 sigma) (k + 1) / 4
    for (k, r) in radii.iter().enumerate() {
        let want = sigma + (delta - 2.0 * sigma) * (k + 1) as f64 / 4.0;
        assert!((r - want).abs() < 1e-5 * want, "{k}: {r} vs {want}");
    }
    // robmem grade: any answer on a hard instance is unchecked, not wrong
    let results = dir.path().join("results.csv");
    std::fs::write(
        &results,
        "robmem,onnx/n.onnx,vnnlib/n_hard_0.vnnlib,0.1,unsat,1.0\n\
         robmem,onnx/n.onnx,vnnlib/n_hard_1.vnnlib,0.1,sat,1.0\n\
         robmem,onnx/n.onnx,vnnlib/n_hard_2.vnnlib,0.1,timeout,60\n",
    )
    .unwrap();
    let graded = robmem(
        &[
            "grade",
            folder.to_str().unwrap(),
            results.to_str().unwrap(),
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(graded.status.code(), Some(0), "{}", text(&graded.stderr));
    let rows: Vec<serde_json::Value> = text(&graded.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let verdict = |stem: &str| {
        rows.iter()
            .find(|r| r["instance"] == format!("vnnlib/{stem}.vnnlib"))
            .map(|r| r["verdict"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(verdict("n_hard_0"), "unchecked");
    assert_eq!(verdict("n_hard_1"), "unchecked");
    assert_eq!(verdict("n_hard_2"), "timeout");
}

#[test]
fn the_emit_block_keys_cut_the_same_suite() {
    let spec = "dataset b = blobs(points = 40, dim = 4, labels = 3, spread = 0.05, seed = 1)
network n { data = b norm = linf radius = 0.5 of limit }
emit n { vnnlib = \"out/n-vnnlib\" sample = 9 seed = 11 hard = 2 total_timeout = 90 }
";
    let dir = setup(spec);
    let out = robmem(&["compile", "s.rmem"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let from_emit = tree(&dir.path().join("out/n-vnnlib"));
    let inst = lines(&dir.path().join("out/n-vnnlib/instances.csv"));
    assert_eq!(inst.len(), 9);
    assert!(inst.iter().all(|r| r[2] == "10"));
    // the same as the flags on a spec without the keys
    let dir2 = setup(SPEC);
    let out = instances(
        dir2.path(),
        &[
            "--sample",
            "9",
            "--seed",
            "11",
            "--hard",
            "2",
            "--total-timeout",
            "90",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let from_flags = tree(&dir2.path().join("out/n-vnnlib"));
    for (k, v) in &from_emit {
        if k.extension().is_some_and(|e| e == "vnnlib" || e == "csv") {
            assert!(v == &from_flags[k], "{}", k.display());
        }
    }
    assert_eq!(from_emit.len(), from_flags.len());
}

#[test]
fn suite_keys_without_vnnlib_and_impossible_samples_are_errors_with_places() {
    let dir = setup(
        "dataset b = blobs(points = 40, dim = 4, labels = 3, spread = 0.05, seed = 1)
network n { data = b norm = linf radius = 0.5 of limit }
emit n { onnx = \"o.onnx\" sample = 9 }
",
    );
    let out = robmem(&["check", "s.rmem"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = err_text(&out);
    assert!(
        err.contains("`sample` in the emit block of `n` has no effect without `vnnlib`"),
        "{err}"
    );
    assert!(err.contains("s.rmem:3:"), "{err}");
    let dir = setup(
        "dataset b = blobs(points = 40, dim = 4, labels = 3, spread = 0.05, seed = 1)
network n { data = b norm = linf radius = 0.5 of limit }
emit n { vnnlib = \"out/v\" sample = 0 }
",
    );
    let out = robmem(&["check", "s.rmem"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(err_text(&out).contains("`sample = 0` writes no instance"));
    let dir = setup(
        "dataset b = blobs(points = 40, dim = 4, labels = 3, spread = 0.05, seed = 1)
network n { data = b norm = linf radius = 0.5 of limit }
emit n { vnnlib = \"out/v\" sample = 100 }
",
    );
    let out = robmem(&["compile", "s.rmem", "--json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let line: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(line["error"]["kind"], "emit");
    assert!(line["error"]["place"]
        .as_str()
        .unwrap()
        .starts_with("s.rmem:3:"));
    assert!(line["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 65 instances exist"));
    assert!(!dir.path().join("out/v").exists());
}

#[test]
fn instances_help_teaches_the_suite_flags() {
    let dir = tempfile::tempdir().unwrap();
    let help = text(&robmem(&["instances", "--help"], dir.path()).stdout);
    for needle in [
        "--sample <K>",
        "--seed <S>",
        "--total-timeout <T>",
        "--hard <N>",
        "--domain <LO,HI>",
        "round(K/4)",
        "floor(T / instances)",
        "NAME_hard_K.vnnlib",
        "unchecked",
        "--sample 100 --seed 1 --hard 10 --total-timeout 3600",
    ] {
        assert!(help.contains(needle), "help mentions {needle}: {help}");
    }
}

/// XOR in [0, 1]^2 at 0.9 of the limit: every robust box pokes out of
/// the unit square.
const XOR_DOMAIN: &str = "dataset xor {
    [0, 0] -> 0
    [1, 1] -> 0
    [0, 1] -> 1
    [1, 0] -> 1
}
network x { data = xor norm = linf radius = 0.9 of limit }
emit x { vnnlib = \"out/x\" unsafe = 2 hard = 2 domain = [0, 1] }
";

#[test]
fn boxes_are_clipped_to_the_domain_and_witnesses_lie_inside_it() {
    let dir = setup(XOR_DOMAIN);
    let out = robmem(&["compile", "s.rmem"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let folder = dir.path().join("out/x");
    let exp = lines(&folder.join("expected.csv"));
    assert_eq!(exp.len(), 8, "4 robust, 2 planted, 2 hard");
    let points = data_points(&folder);
    let mut touched = 0;
    for row in &exp {
        let b = input_box(&folder.join(&row[0]));
        assert_eq!(b.len(), 2);
        for &(lo, hi) in &b {
            assert!(
                0.0 <= lo && lo <= hi && hi <= 1.0,
                "{}: [{lo}, {hi}]",
                row[0]
            );
            touched += usize::from(lo == 0.0 || hi == 1.0);
        }
        let src = std::fs::read_to_string(folder.join(&row[0])).unwrap();
        assert!(
            src.contains("clipped to the input domain [0, 1]"),
            "{}",
            row[0]
        );
    }
    assert!(touched >= 8, "the boxes reach the domain's sides");
    // a robust box is the ball around its point intersected with the square
    let b = input_box(&folder.join("vnnlib/x_point_0.vnnlib"));
    assert_eq!(b[0].0, 0.0);
    assert!((b[0].1 - 0.45).abs() < 1e-7 && points[0] == [0.0, 0.0]);
    // the planted witnesses lie in the domain and in their (clipped) boxes
    for k in 0..2 {
        let cex: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(folder.join(format!("counterexamples/x_unsafe_{k}.json")))
                .unwrap(),
        )
        .unwrap();
        let w: Vec<f64> = cex["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let b = input_box(&folder.join(format!("vnnlib/x_unsafe_{k}.vnnlib")));
        for (c, (&v, &(lo, hi))) in w.iter().zip(&b).enumerate() {
            assert!((0.0..=1.0).contains(&v), "witness {k} coordinate {c} = {v}");
            assert!(
                lo <= v && v <= hi,
                "witness {k} coordinate {c} outside its box"
            );
        }
    }
    // robmem grade checks the witnesses against the clipped boxes: correct
    let results = dir.path().join("r.csv");
    std::fs::write(
        &results,
        "robmem,onnx/x.onnx,vnnlib/x_unsafe_0.vnnlib,0,sat,1,out/x/counterexamples/x_unsafe_0.json\n\
         robmem,onnx/x.onnx,vnnlib/x_unsafe_1.vnnlib,0,sat,1,out/x/counterexamples/x_unsafe_1.json\n",
    )
    .unwrap();
    let graded = robmem(&["grade", "out/x", "r.csv", "--json"], dir.path());
    assert_eq!(graded.status.code(), Some(0), "{}", text(&graded.stdout));
    let rows: Vec<serde_json::Value> = text(&graded.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for r in rows.iter().filter(|r| r["expected"] == "sat") {
        assert_eq!(r["verdict"], "correct", "{r}");
        assert_eq!(r["counterexample"]["inside_box"], true, "{r}");
    }
}

#[test]
fn the_domain_flag_clips_like_the_key_and_a_point_outside_is_an_error_with_its_place() {
    // --domain on a spec without the key writes the same boxes
    let dir = setup(&XOR_DOMAIN.replace(" domain = [0, 1]", ""));
    let out = instances(dir.path(), &["--domain", "0,1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let with_flag = tree(&dir.path().join("out/x/vnnlib"));
    let dir2 = setup(XOR_DOMAIN);
    let out = instances(dir2.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(with_flag, tree(&dir2.path().join("out/x/vnnlib")));

    // a domain that misses a point: the point, its line and coordinate
    let dir = setup(&XOR_DOMAIN.replace("domain = [0, 1]", "domain = [0, 0.5]"));
    let out = robmem(&["compile", "s.rmem"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = err_text(&out);
    assert!(
        err.contains(
            "data point 1 (line 3 of s.rmem) has coordinate 0 = 1, outside the domain [0, 0.5]"
        ),
        "{err}"
    );
    assert!(err.contains("[s.rmem:8:56]"), "the domain's place: {err}");
    assert!(!dir.path().join("out/x").exists(), "nothing written");
    let out = robmem(&["compile", "s.rmem", "--json"], dir.path());
    let line: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(line["error"]["kind"], "emit");
    // the flag: same message, no place in the spec
    let dir = setup(&XOR_DOMAIN.replace(" domain = [0, 1]", ""));
    let out = instances(dir.path(), &["--domain=-1,0.5"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err_text(&out).contains("has coordinate 0 = 1, outside the domain [-1, 0.5]"));
    // ... found before compiling: a network that could not be compiled
    // (width 1) still gets the domain's error, not the compiler's.
    let narrow = setup(
        &XOR_DOMAIN
            .replace(" domain = [0, 1]", "")
            .replace("radius = 0.9 of limit", "radius = 0.9 of limit width = 1"),
    );
    let out = instances(narrow.path(), &["--domain=-1,0.5"]);
    assert_eq!(out.status.code(), Some(1));
    let err = err_text(&out);
    assert!(err.contains("outside the domain [-1, 0.5]"), "{err}");
    assert!(!err.contains("width"), "not compiled: {err}");
    let out = instances(dir.path(), &["--domain", "1,0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is empty"));

    // the key: an interval, not empty, with `vnnlib`
    for (bad, says) in [
        ("domain = [1, 0]", "the domain [1, 0] is empty"),
        ("domain = 1", "the domain must be an interval [lo, hi]"),
    ] {
        let dir = setup(&XOR_DOMAIN.replace("domain = [0, 1]", bad));
        let out = robmem(&["check", "s.rmem"], dir.path());
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(err_text(&out).contains(says), "{bad}: {}", err_text(&out));
    }
    let dir = setup(&XOR_DOMAIN.replace(
        "vnnlib = \"out/x\" unsafe = 2 hard = 2 ",
        "onnx = \"x.onnx\" ",
    ));
    let out = robmem(&["check", "s.rmem"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err_text(&out).contains("`domain` in the emit block of `x` has no effect without `vnnlib`")
    );
}
