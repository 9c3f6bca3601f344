//! Hostile inputs (issue #13): every case runs the `robmem` binary on an
//! exact input and checks the exit code and the place the message names.
//! No input may make robmem panic or abort.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A folder with `spec.rmem` and optional data files (bytes).
struct Case {
    dir: tempfile::TempDir,
    spec: PathBuf,
}

fn case(spec: impl AsRef<[u8]>, files: &[(&str, &[u8])]) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.rmem");
    std::fs::write(&path, spec).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    Case { dir, spec: path }
}

impl Case {
    fn run(&self, command: &str, extra: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_robmem"))
            .arg(command)
            .arg(&self.spec)
            .args(extra)
            .arg("--quiet")
            .output()
            .expect("run robmem");
        Run::new(out)
    }

    fn check(&self) -> Run {
        self.run("check", &[])
    }

    /// `spec.rmem:LINE:COL` as messages print it.
    fn at(&self, line: usize, column: usize) -> String {
        format!("{}:{line}:{column}", self.spec.display())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn new(out: Output) -> Run {
        let run = Run {
            code: out.status.code().expect("robmem exits, it is not killed"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !run.stderr.contains("panicked"),
            "robmem panicked:\n{}",
            run.stderr
        );
        run
    }

    fn expect(&self, code: i32, needles: &[&str]) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        for n in needles {
            assert!(
                self.stderr.contains(n),
                "expected {n:?} in standard error:\n{}",
                self.stderr
            );
        }
        self
    }
}

const XOR: &str = "dataset xor {\n  [0, 0] -> 0\n  [1, 1] -> 0\n  [0, 1] -> 1\n  [1, 0] -> 1\n}\n";
const NET: &str = "network n { data = xor norm = l2 radius = 0.5 of limit }\n";

// ------------------------------------------------------------ panics, aborts

#[test]
fn error_past_column_65535_is_printed_without_an_excerpt() {
    let pad = " ".repeat(70_000);
    let c = case(
        format!("{XOR}network n {{ data = xor{pad}nrom = l2 }}\n"),
        &[],
    );
    let column = "network n { data = xor".len() + pad.len() + 1;
    c.check()
        .expect(1, &["unknown key `nrom`", &c.at(7, column), "did you mean"]);
}

#[test]
fn error_on_a_long_line_of_a_related_diagnostic_is_printed_plainly() {
    // Two errors: the second (related) one far to the right.
    let pad = " ".repeat(70_000);
    let c = case(
        format!("{XOR}network n {{ data = nope }}\nnetwork m {{ data = xor{pad}radius = -1 }}\n"),
        &[],
    );
    let run = c.check();
    run.expect(1, &["unknown data set", &c.at(7, 20)]);
    assert!(
        run.stderr.contains(&c.at(8, 32 + pad.len())),
        "{}",
        run.stderr
    );
}

/// A version 1.0 `.npy` header for `descr` and `shape`, with `data` after it.
fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((dict.len() as u16).to_le_bytes());
    bytes.extend(dict.as_bytes());
    bytes.extend(data);
    bytes
}

#[test]
fn npy_header_claiming_a_huge_shape_is_refused_before_allocating() {
    let features = npy("<f8", "(1000000000000, 1000000)", &[0u8; 64]);
    let labels = npy("<i8", "(4,)", &[0u8; 32]);
    let c = case(
        "dataset d = npy(features = \"x.npy\", labels = \"y.npy\")\nnetwork n { data = d }\n",
        &[("x.npy", &features), ("y.npy", &labels)],
    );
    let size = features.len().to_string();
    c.check().expect(
        1,
        &[
            "shape (1000000000000, 1000000)",
            &format!("{size} bytes long"),
            "x.npy",
            &c.at(1, 28),
        ],
    );
}

#[test]
fn npy_labels_header_longer_than_the_file_is_refused() {
    let features = npy("<f8", "(2, 1)", &[0u8; 16]);
    let labels = npy("<i8", "(18446744073709551615,)", &[0u8; 16]);
    let c = case(
        "dataset d = npy(features = \"x.npy\", labels = \"y.npy\")\nnetwork n { data = d }\n",
        &[("x.npy", &features), ("y.npy", &labels)],
    );
    c.check()
        .expect(1, &["shape (18446744073709551615)", "y.npy", &c.at(1, 46)]);
}

// ------------------------------------------------------------------- time

#[test]
fn many_inline_points_keep_their_lines() {
    // Not a timing test (see BENCHMARKS.md): the line of each point is still
    // right when the line index replaces pest's scan from the start.
    let mut spec = String::from("dataset d {\n");
    for i in 0..3000 {
        spec.push_str(&format!("  [{i}, {}] -> {}\n", i % 7, i % 2));
    }
    spec.push_str("  [1, 2, 3] -> 0\n}\nnetwork n { data = d }\n");
    let c = case(&spec, &[]);
    c.check().expect(
        1,
        &[
            "different dimensions",
            "3002 │   [1, 2, 3] -> 0",
            &c.at(3002, 3),
            &c.at(2, 3),
        ],
    );
}

#[test]
fn did_you_mean_on_a_100000_character_name_lists_the_choices() {
    let name = "a".repeat(100_000);
    let c = case(format!("{XOR}network n {{ data = {name} }}\n"), &[]);
    c.check().expect(
        1,
        &["unknown data set", "expected one of `xor`", &c.at(7, 20)],
    );
}

#[test]
fn unsafe_beyond_the_pairs_that_exist_is_bounded() {
    let c = case(format!("{XOR}{NET}"), &[]);
    let out = c.path("out");
    let run = c.run(
        "instances",
        &[
            "--unsafe",
            "18446744073709551615",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    run.expect(0, &["only 4 differently-labelled pairs"]);
    assert!(run.stdout.contains("4 planted"), "{}", run.stdout);
}

#[test]
fn zero_timeout_is_a_usage_error() {
    let c = case(format!("{XOR}{NET}"), &[]);
    c.run("instances", &["--timeout", "0"])
        .expect(2, &["--timeout"]);
}

// ------------------------------------------------------- silent acceptance

#[test]
fn unknown_string_escape_is_an_error_at_the_escape() {
    let c = case(format!("{XOR}{NET}emit n {{ onnx = \"a\\qb\" }}\n"), &[]);
    c.check().expect(1, &["unknown escape `\\q`", &c.at(8, 19)]);
}

#[test]
fn seed_past_u64_max_is_refused_as_written() {
    let c = case(
        format!("{XOR}network n {{ data = xor seed = 18446744073709551616 }}\n"),
        &[],
    );
    c.check()
        .expect(1, &["found 18446744073709551616", &c.at(7, 31)]);
}

#[test]
fn seed_with_an_exponent_past_2_53_is_refused_as_written() {
    let c = case(
        format!("{XOR}network n {{ data = xor seed = 1e17 }}\n"),
        &[],
    );
    c.check().expect(1, &["found 1e17", &c.at(7, 31)]);
}

#[test]
fn duplicate_label_column_in_the_header_is_an_error() {
    let c = case(
        "dataset d = csv(\"d.csv\", label = \"y\")\nnetwork n { data = d }\n",
        &[("d.csv", b"x,y,y\n0,0,1\n1,1,0\n")],
    );
    c.check()
        .expect(1, &["\"y\" is the header of columns 1 and 2", &c.at(1, 34)]);
}

#[test]
fn unsafe_without_vnnlib_is_an_error() {
    let c = case(
        format!("{XOR}{NET}emit n {{ onnx = \"o.onnx\" unsafe = 3 }}\n"),
        &[],
    );
    c.check()
        .expect(1, &["no effect without `vnnlib`", &c.at(8, 26)]);
}

#[test]
fn empty_spec_is_an_error() {
    let c = case("// nothing here\n", &[]);
    c.check().expect(1, &["declares nothing", &c.at(1, 1)]);
    case("", &[]).check().expect(1, &["declares nothing"]);
}

#[test]
fn newline_and_quote_delimiters_are_refused() {
    for (delimiter, column) in [("\\n", 49), ("\\\"", 49), ("5", 49)] {
        let c = case(
            format!(
                "dataset d = csv(\"d.csv\", label = 0, delimiter = \"{delimiter}\")\nnetwork n {{ data = d }}\n"
            ),
            &[("d.csv", b"0,1\n1,0\n")],
        );
        c.check()
            .expect(1, &["cannot separate CSV fields", &c.at(1, column)]);
    }
}

#[test]
fn hex_and_underscore_numbers_are_errors_where_written() {
    for number in ["0x10", "1_000"] {
        let c = case(
            format!("{XOR}network n {{ data = xor seed = {number} }}\n"),
            &[],
        );
        c.check().expect(1, &[&c.at(7, 31), number]);
    }
}

#[test]
fn linfinity_suggests_linf_not_an_invalid_norm() {
    let c = case(
        format!("{XOR}network n {{ data = xor norm = linfinity }}\n"),
        &[],
    );
    let run = c.check();
    run.expect(
        1,
        &[
            "unknown norm `linfinity`",
            "did you mean `linf`?",
            &c.at(7, 31),
        ],
    );
    assert!(!run.stderr.contains("l(infinity)"), "{}", run.stderr);
}

// ------------------------------------------------------- places in messages

#[test]
fn invalid_utf8_in_a_spec_names_line_and_column() {
    let mut bytes = XOR.as_bytes().to_vec();
    bytes.extend(b"network n { data = \xff }\n");
    let c = case(bytes, &[]);
    c.check()
        .expect(2, &["not UTF-8", "line 7, column 20", &c.at(7, 20)]);
}

#[test]
fn binary_csv_names_the_line() {
    let c = case(
        "dataset d = csv(\"d.csv\", label = 0, header = false)\nnetwork n { data = d }\n",
        &[("d.csv", b"0,1\n1,0\n0,\xff\xfe\x00\x01\n")],
    );
    c.check()
        .expect(2, &["line 3: column 1 is not valid UTF-8", "binary file"]);
}

#[test]
fn control_bytes_in_csv_headers_are_shown_escaped() {
    let c = case(
        "dataset d = csv(\"d.csv\", label = \"y\")\nnetwork n { data = d }\n",
        &[("d.csv", b"a\x01b,z\n0,1\n")],
    );
    c.check().expect(1, &["0: a\\u{1}b", &c.at(1, 34)]);
}

#[test]
fn csv_byte_order_mark_is_not_part_of_the_first_name() {
    let c = case(
        "dataset d = csv(\"d.csv\", label = \"y\")\nnetwork n { data = d }\n",
        &[("d.csv", b"\xEF\xBB\xBFy,x\n0,0\n1,1\n")],
    );
    c.check().expect(0, &[]);
}

#[test]
fn mixed_and_empty_csv_labels_name_their_lines() {
    let mixed = case(
        "dataset d = csv(\"d.csv\", label = \"y\")\nnetwork n { data = d }\n",
        &[("d.csv", b"x,y\n0,1\n1,cat\n")],
    );
    mixed.check().expect(
        1,
        &[
            "(point 0, line 2 of",
            "and names (point 1, line 3 of",
            &mixed.at(1, 13),
        ],
    );
    let empty = case(
        "dataset d = csv(\"d.csv\", label = \"y\")\nnetwork n { data = d }\n",
        &[("d.csv", b"x,y\n0,1\n1,\n")],
    );
    empty.check().expect(
        1,
        &[&format!(
            "{}:3: the label (column 1) is empty",
            empty.path("d.csv").display()
        )],
    );
}

#[test]
fn nul_byte_in_a_spec_is_shown_escaped_and_a_bom_is_white_space() {
    let c = case(format!("{XOR}network n {{ data = xor \0 }}\n"), &[]);
    c.check().expect(1, &["`\\u{0}`", &c.at(7, 24)]);
    let bom = case(format!("\u{feff}{XOR}{NET}"), &[]);
    bom.check().expect(0, &[]);
}

#[test]
fn cr_only_line_endings_give_one_line_number() {
    let text = format!("{XOR}network n {{ data = xor nrom = l2 }}\n").replace('\n', "\r");
    let c = case(text, &[]);
    let run = c.check();
    run.expect(1, &["unknown key `nrom`", &c.at(7, 24)]);
    assert!(run.stderr.contains(" 7 │ network n"), "{}", run.stderr);
}

#[test]
fn seeds_above_2_53_are_exact_up_to_u64_max() {
    for seed in [9_007_199_254_740_993u64, u64::MAX] {
        let text = format!("{XOR}network n {{ data = xor seed = {seed} }}\n");
        let program = robmem::resolve::resolve_text(std::path::Path::new("t.rmem"), &text)
            .unwrap_or_else(|e| panic!("{}", e.render()));
        assert_eq!(program.networks[0].seed, seed);
    }
}
