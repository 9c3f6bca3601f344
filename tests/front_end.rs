//! Front end: parsing, resolution and the diagnostics of every error the
//! resolver and the checker report (rendered text and `file:line:column`).

use robmem::analysis::report::{check_program, Verdict};
use robmem::data::{ColumnRef, DataSource, LabelValue};
use robmem::diagnostics::{Category, SpecError};
use robmem::norm::Norm;
use robmem::resolve::{load_program, resolve_text};
use robmem::spec::{Budget, OutputKind, Precision, Program, ProjectionChoice, RadiusSpec};
use std::path::{Path, PathBuf};

/// A spec written to a temporary folder (with optional data files).
struct Spec {
    dir: tempfile::TempDir,
    path: PathBuf,
}

fn spec(text: &str) -> Spec {
    spec_with_files(text, &[])
}

fn spec_with_files(text: &str, files: &[(&str, &str)]) -> Spec {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.rmem");
    std::fs::write(&path, text).unwrap();
    for (name, content) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    Spec { dir, path }
}

impl Spec {
    fn load(&self) -> Result<Program, SpecError> {
        load_program(&self.path)
    }

    /// The rendered error of a spec that must fail to resolve.
    fn error(&self) -> String {
        match self.load() {
            Ok(_) => panic!("the spec should be rejected"),
            Err(e) => e.render(),
        }
    }

    /// `spec.rmem:LINE:COL` as the renderer prints it.
    fn at(&self, line: usize, col: usize) -> String {
        format!("{}:{line}:{col}", self.path.display())
    }

    /// The rendered error of a spec that resolves but fails to load its data.
    fn load_error(&self) -> SpecError {
        let program = self.load().expect("the spec itself is valid");
        check_program(&program).expect_err("loading should fail")
    }
}

fn assert_contains(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(
            haystack.contains(n),
            "expected {n:?} in the message:\n{haystack}"
        );
    }
}

const XOR: &str =
    "dataset xor {\n    [0, 0] -> 0\n    [1, 1] -> 0\n    [0, 1] -> 1\n    [1, 0] -> 1\n}\n";

fn program(text: &str) -> Program {
    resolve_text(Path::new("t.rmem"), text).unwrap_or_else(|e| panic!("{}", e.render()))
}

// ---------------------------------------------------------------- parsing

#[test]
fn front_one_line_and_multi_line_networks_are_the_same() {
    let one = program(&format!(
        "{XOR}network n {{ data = xor  norm = linf radius = 0.3 width = 8 seed = 2 }}"
    ));
    let many = program(&format!(
        "{XOR}network n {{\n  data = xor\n  norm = linf\n  radius = 0.3\n  width = 8\n  seed = 2\n}}\n"
    ));
    let key = |p: &Program| {
        let n = &p.networks[0];
        format!(
            "{} {} {:?} {:?} {:?} {:?} {:?} {} {:?} {:?}",
            n.name,
            n.data,
            n.norm,
            n.radius,
            n.width,
            n.depth,
            n.output,
            n.seed,
            n.projection,
            n.precision
        )
    };
    assert_eq!(key(&one), key(&many));
    assert_eq!(one.networks[0].norm, Norm::Linf);
    assert_eq!(one.networks[0].width, Budget::AtMost(8));
}

#[test]
fn front_comments_are_ignored_anywhere() {
    let p = program(
        "// leading comment\n/* block\n comment */ dataset d { [0] -> 0 // after a point\n [1 /* inside */] -> 1 }\n\
         network n { /* c */ data = d // trailing\n }",
    );
    assert_eq!(p.datasets.len(), 1);
    assert_eq!(p.networks[0].data, 0);
}

#[test]
fn front_labels_may_be_numbers_names_or_strings() {
    let p = program(
        "dataset a { [0] -> cat [1] -> \"red wine\" }\ndataset b { [0] -> -1.5 [1] -> 2e0 }",
    );
    let DataSource::Inline { points, .. } = &p.datasets[0].source else {
        panic!("inline")
    };
    assert_eq!(points[0].label, LabelValue::Name("cat".into()));
    assert_eq!(points[1].label, LabelValue::Name("red wine".into()));
    assert_eq!(points[1].line, 1);
    let DataSource::Inline { points, .. } = &p.datasets[1].source else {
        panic!("inline")
    };
    assert_eq!(points[0].label, LabelValue::Number(-1.5));
    assert_eq!(points[1].label, LabelValue::Number(2.0));
}

#[test]
fn front_numbers_take_every_form() {
    let p = program("dataset a { [1, -2, 3.5, .25, -1e-3, 2.5E+2] -> 0 }");
    let DataSource::Inline { points, .. } = &p.datasets[0].source else {
        panic!("inline")
    };
    assert_eq!(points[0].coords, vec![1.0, -2.0, 3.5, 0.25, -0.001, 250.0]);
}

#[test]
fn front_defaults_are_filled_in() {
    let p = program(&format!(
        "{XOR}network n {{ data = xor }}\nemit n {{ onnx = \"o/n.onnx\" }}"
    ));
    let n = &p.networks[0];
    assert_eq!(n.norm, Norm::L2);
    assert_eq!(n.radius, RadiusSpec::Max);
    assert_eq!(n.width, Budget::Auto);
    assert_eq!(n.depth, Budget::Auto);
    assert_eq!(n.output, OutputKind::Logits);
    assert_eq!(n.projection, ProjectionChoice::Auto);
    assert_eq!(n.seed, 0);
    assert_eq!(n.precision, Precision::F32);
    let e = &p.emits[0];
    assert_eq!(e.onnx.as_deref(), Some(Path::new("o/n.onnx")));
    assert_eq!(e.certificate, None);
    assert_eq!(e.unsafe_instances, None);
}

#[test]
fn front_every_value_form_resolves() {
    let p = program(&format!(
        "{XOR}network a {{ data = xor norm = l(3) radius = 0.9 of limit width = 16 depth = 40 \
         output = label projection = pca seed = 7 precision = f64 }}\n\
         network b {{ data = xor norm = l(inf) radius = max }}\n\
         network c {{ data = xor norm = l(1) radius = 0.35 }}\n\
         emit a {{ onnx = \"a.onnx\" certificate = \"a.json\" vnnlib = \"a-vnn\" unsafe = 3 }}"
    ));
    let a = &p.networks[0];
    assert_eq!(a.norm, Norm::Lp(3.0));
    assert_eq!(a.radius, RadiusSpec::OfLimit(0.9));
    assert_eq!(a.depth, Budget::AtMost(40));
    assert_eq!(a.output, OutputKind::Label);
    assert_eq!(a.projection, ProjectionChoice::Pca);
    assert_eq!(a.seed, 7);
    assert_eq!(a.precision, Precision::F64);
    assert_eq!(p.networks[1].norm, Norm::Linf);
    assert_eq!(p.networks[2].norm, Norm::L1);
    assert_eq!(p.networks[2].radius, RadiusSpec::Absolute(0.35));
    assert_eq!(p.emits[0].unsafe_instances, Some(3));
    assert_eq!(p.emits[0].vnnlib.as_deref(), Some(Path::new("a-vnn")));
}

#[test]
fn front_data_paths_are_relative_to_the_spec_folder() {
    let p = resolve_text(
        Path::new("some/dir/s.rmem"),
        "dataset w = csv(\"data/w.csv\", label = 2, header = false, delimiter = \";\")\n\
         dataset v = npy(features = \"x.npy\", labels = \"y.npy\")",
    )
    .unwrap();
    assert_eq!(
        p.datasets[0].source,
        DataSource::Csv {
            path: PathBuf::from("some/dir/data/w.csv"),
            label: ColumnRef::Index(2),
            header: false,
            delimiter: b';',
        }
    );
    assert_eq!(
        p.datasets[1].source,
        DataSource::Npy {
            features: PathBuf::from("some/dir/x.npy"),
            labels: PathBuf::from("some/dir/y.npy"),
        }
    );
}

#[test]
fn front_generator_arguments_by_position_and_name() {
    use robmem::data::generators::Generator;
    let p = program("dataset g = blobs(100, 8, labels = 3)\ndataset s = sphere(points = 5, dim = 2, seed = 4)\ndataset q = grid(3)");
    assert_eq!(
        p.datasets[0].source,
        DataSource::Generator(Generator::Blobs {
            points: 100,
            dim: 8,
            labels: 3,
            spread: 0.05,
            seed: 0
        })
    );
    assert_eq!(
        p.datasets[1].source,
        DataSource::Generator(Generator::Sphere {
            points: 5,
            dim: 2,
            labels: 2,
            seed: 4
        })
    );
    assert_eq!(
        p.datasets[2].source,
        DataSource::Generator(Generator::Grid {
            side: 3,
            dim: 2,
            labels: 2,
            seed: 0
        })
    );
}

// ---------------------------------------------------------- syntax errors

#[test]
fn front_parse_errors_say_what_was_expected() {
    let s = spec("network n {\n  data = \n}\n");
    let shown = s.error();
    assert_contains(&shown, &["syntax error: expected", "a value", &s.at(3, 1)]);
}

#[test]
fn front_parse_error_on_a_bad_point() {
    let s = spec("dataset d {\n  [0, 1] 1\n}\n");
    let shown = s.error();
    assert_contains(&shown, &["syntax error", "`->`", &s.at(2, 10)]);
}

#[test]
fn front_non_finite_numbers_are_rejected() {
    let s = spec("dataset d {\n  [0, 1e999] -> 1\n}\n");
    let shown = s.error();
    assert_contains(&shown, &["`1e999`", "not a finite number", &s.at(2, 7)]);
}

// ------------------------------------------------------------ name errors

#[test]
fn front_unknown_data_set_has_a_suggestion() {
    let s = spec(&format!("{XOR}network n {{ data = xro }}"));
    let shown = s.error();
    assert_contains(
        &shown,
        &[
            "unknown data set `xro`",
            "did you mean `xor`?",
            &s.at(7, 20),
        ],
    );
}

#[test]
fn front_duplicate_data_set_names_both_places() {
    let s = spec("dataset a { [0] -> 0 }\ndataset a { [1] -> 1 }\n");
    let shown = s.error();
    assert_contains(
        &shown,
        &[
            "data set `a` is declared twice",
            "first declared here",
            &s.at(2, 9),
        ],
    );
}

#[test]
fn front_duplicate_network_names() {
    let s = spec(&format!(
        "{XOR}network n {{ data = xor }}\nnetwork n {{ data = xor }}"
    ));
    let shown = s.error();
    assert_contains(&shown, &["network `n` is declared twice", &s.at(8, 9)]);
}

#[test]
fn front_emit_of_unknown_network() {
    let s = spec(&format!(
        "{XOR}network xor_net {{ data = xor }}\nemit xor_nte {{ onnx = \"a.onnx\" }}"
    ));
    let shown = s.error();
    assert_contains(
        &shown,
        &[
            "unknown network `xor_nte`",
            "did you mean `xor_net`?",
            &s.at(8, 6),
        ],
    );
}

#[test]
fn front_unknown_key_has_a_suggestion() {
    let s = spec(&format!("{XOR}network n {{\n  data = xor\n  nrom = l2\n}}"));
    let shown = s.error();
    assert_contains(
        &shown,
        &["unknown key `nrom`", "did you mean `norm`?", &s.at(9, 3)],
    );
}

#[test]
fn front_unknown_emit_key_has_a_suggestion() {
    let s = spec(&format!(
        "{XOR}network n {{ data = xor }}\nemit n {{ onx = \"a.onnx\" }}"
    ));
    let shown = s.error();
    assert_contains(
        &shown,
        &["unknown key `onx`", "did you mean `onnx`?", &s.at(8, 10)],
    );
}

#[test]
fn front_unknown_value_has_a_suggestion() {
    let s = spec(&format!(
        "{XOR}network n {{\n  data = xor\n  output = logit\n}}"
    ));
    let shown = s.error();
    assert_contains(
        &shown,
        &[
            "unknown output `logit`",
            "did you mean `logits`?",
            &s.at(9, 12),
        ],
    );
    let s = spec(&format!("{XOR}network n {{\n  data = xor\n  norm = l3\n}}"));
    assert_contains(
        &s.error(),
        &["unknown norm `l3`", "did you mean `l(3)`?", &s.at(9, 10)],
    );
}

#[test]
fn front_duplicate_keys_name_both() {
    let s = spec(&format!(
        "{XOR}network n {{\n  data = xor\n  seed = 1\n  seed = 2\n}}"
    ));
    let shown = s.error();
    assert_contains(
        &shown,
        &[
            "key `seed` is given twice",
            "first given here",
            &s.at(10, 3),
        ],
    );
}

#[test]
fn front_network_without_data() {
    let s = spec(&format!("{XOR}network lonely {{ norm = l2 }}"));
    let shown = s.error();
    assert_contains(
        &shown,
        &[
            "`lonely` does not say which data set",
            "data = NAME",
            "xor",
            &s.at(7, 9),
        ],
    );
}

#[test]
fn front_unknown_data_source_and_generator_arguments() {
    let s = spec("dataset a = blob(points = 3, dim = 2)");
    assert_contains(
        &s.error(),
        &[
            "unknown data source `blob`",
            "did you mean `blobs`?",
            &s.at(1, 13),
        ],
    );
    let s = spec("dataset a = blobs(points = 3, dmi = 2)");
    assert_contains(
        &s.error(),
        &["has no argument `dmi`", "did you mean `dim`?", &s.at(1, 31)],
    );
    let s = spec("dataset a = blobs(points = 3)");
    assert_contains(&s.error(), &["needs the argument `dim`", &s.at(1, 13)]);
    let s = spec("dataset a = blobs(points = 2.5, dim = 2)");
    assert_contains(
        &s.error(),
        &["must be a non-negative integer", &s.at(1, 28)],
    );
}

#[test]
fn front_all_errors_are_reported_together() {
    let s = spec(&format!(
        "{XOR}network n {{ data = xor nrom = l2 seeed = 1 }}"
    ));
    let shown = s.error();
    assert_contains(&shown, &["`nrom`", "`seeed`"]);
}

// ---------------------------------------------------------- value errors

#[test]
fn front_points_of_different_dimensions_name_both() {
    let s = spec("dataset d {\n  [0, 0] -> 0\n  [1, 1] -> 1\n  [1, 0, 2] -> 1\n}\n");
    let shown = s.error();
    assert_contains(
        &shown,
        &[
            "different dimensions (2 and 3)",
            "the first point has dimension 2",
            "this point has dimension 3",
            &s.at(4, 3),
        ],
    );
}

#[test]
fn front_empty_inline_data_set_is_rejected() {
    let s = spec("dataset d {\n}\n");
    assert_contains(&s.error(), &["data set `d` has no points", &s.at(1, 11)]);
    let s = spec("dataset d { [] -> 1 }");
    assert_contains(&s.error(), &["at least one coordinate", &s.at(1, 13)]);
}

#[test]
fn front_misspelt_keyword_gets_a_hint() {
    let s = spec("dataset d { [0] -> 0 }\nnetwrk n { data = d }");
    // The message itself: the rendering wraps it (five keywords long).
    let message = s.load().expect_err("rejected").message().to_string();
    assert!(message.contains("found `netwrk`"), "{message}");
    assert_contains(&s.error(), &["did you mean `network`?", &s.at(2, 1)]);
}

#[test]
fn front_a_keyword_running_into_letters_is_named_whole() {
    // `datasett` fails after `dataset`, inside the word: the message names
    // the word, the label starts where it starts, and a hint follows.
    for prefix in ["", "\u{feff}"] {
        let s = spec(&format!("{prefix}datasett d = 1\n"));
        let message = s.load().expect_err("rejected").message().to_string();
        assert!(message.contains("`datasett`"), "{message}");
        let shown = s.error();
        assert_contains(&shown, &["did you mean `dataset`?", "unknown keyword"]);
        if prefix.is_empty() {
            assert_contains(&shown, &[&s.at(1, 1)]);
        }
    }
}

#[test]
fn front_expected_lists_never_show_the_byte_order_mark() {
    // The grammar counts U+FEFF as white space; it is not something the
    // user is expected to type.
    for text in [
        "dataset d = csv(\"x.csv\" label = \"label\")\n",
        "network n { data = d norm = l2 ",
    ] {
        let message = spec(text)
            .load()
            .expect_err("rejected")
            .message()
            .to_string();
        assert!(message.starts_with("syntax error: expected"), "{message}");
        assert!(!message.contains('\u{feff}'), "{message:?}");
    }
    let message = spec("dataset d = csv(\"x.csv\" label = \"label\")\n")
        .load()
        .expect_err("rejected")
        .message()
        .to_string();
    assert_eq!(message, "syntax error: expected `)` or `,`, found `label`");
}

#[test]
fn front_mixed_label_kinds_are_rejected() {
    let s = spec("dataset d {\n  [0] -> 0\n  [1] -> one\n}\n");
    assert_contains(&s.error(), &["mix numbers and names", &s.at(3, 3)]);
}

#[test]
fn front_p_below_one_is_rejected() {
    let s = spec(&format!(
        "{XOR}network n {{\n  data = xor\n  norm = l(0.5)\n}}"
    ));
    assert_contains(&s.error(), &["only for p >= 1", "p = 0.5", &s.at(9, 12)]);
}

#[test]
fn front_non_positive_radius_is_rejected() {
    for (radius, col) in [("0 of limit", 12), ("-0.1", 12), ("0", 12)] {
        let s = spec(&format!(
            "{XOR}network n {{\n  data = xor\n  radius = {radius}\n}}"
        ));
        let shown = s.error();
        assert_contains(&shown, &["the radius must be positive", &s.at(9, col)]);
    }
    let s = spec(&format!(
        "{XOR}network n {{\n  data = xor\n  radius = 0.5 of limt\n}}"
    ));
    assert_contains(
        &s.error(),
        &["unknown word `limt` after `of`", &s.at(9, 19)],
    );
}

#[test]
fn front_unreadable_spec_is_an_io_error() {
    let err = load_program(Path::new("/definitely/not/here.rmem")).unwrap_err();
    assert_eq!(err.category(), Category::Io);
    assert_eq!(err.exit_code(), 2);
}

// ------------------------------------------------------ data loading errors

#[test]
fn front_missing_data_file_points_at_the_path() {
    let s = spec("dataset w = csv(\n  \"nope/w.csv\", label = \"target\")\n");
    let err = s.load_error();
    assert_eq!(err.exit_code(), 2);
    let shown = err.render();
    assert_contains(&shown, &["cannot read", "nope/w.csv", &s.at(2, 3)]);
}

#[test]
fn front_csv_row_with_wrong_field_count_names_the_data_line() {
    let s = spec_with_files(
        "\ndataset w = csv(\"d.csv\", label = \"y\")\n",
        &[("d.csv", "a,b,y\n1,2,0\n3,4\n")],
    );
    let shown = s.load_error().render();
    assert_contains(&shown, &["d.csv:3", "expected 3", &s.at(2, 13)]);
}

#[test]
fn front_csv_non_numeric_value_names_the_data_line() {
    let s = spec_with_files(
        "dataset w = csv(\"d.csv\", label = \"y\")\n",
        &[("d.csv", "a,b,y\n1,2,0\n3,4,1\n5,x,0\n")],
    );
    let shown = s.load_error().render();
    assert_contains(&shown, &["d.csv:4", "\"x\"", &s.at(1, 13)]);
}

#[test]
fn front_csv_missing_label_column_has_a_suggestion() {
    let s = spec_with_files(
        "dataset w = csv(\"d.csv\", label = \"targte\")\n",
        &[("d.csv", "a,b,target\n1,2,0\n3,4,1\n")],
    );
    let shown = s.load_error().render();
    assert_contains(&shown, &["targte", "did you mean `target`?", &s.at(1, 34)]);
    drop(s.dir);
}

// ---------------------------------------------------------- check outcome

#[test]
fn front_a_single_label_is_only_a_warning() {
    let s = spec("dataset d { [0] -> 1 [1] -> 1 }\nnetwork n { data = d radius = 3 }");
    let program = s.load().unwrap();
    let outcome = check_program(&program).unwrap();
    assert!(outcome.passes());
    assert_eq!(outcome.reports[0].verdict, Verdict::SingleLabel);
    assert_eq!(outcome.diagnostics.len(), 1);
    assert!(outcome.diagnostics[0].is_warning());
    assert_contains(
        &outcome.diagnostics[0].render(),
        &["same label", "constant", &s.at(2, 20)],
    );
}

#[test]
fn front_identical_points_with_different_labels() {
    let s = spec("dataset d {\n [0, 1] -> 0\n [0, 1] -> 1\n}\nnetwork n { data = d }");
    let program = s.load().unwrap();
    let outcome = check_program(&program).unwrap();
    assert!(!outcome.passes());
    assert_eq!(outcome.reports[0].delta, 0.0);
    assert_contains(
        &outcome.diagnostics[0].render(),
        &["same point twice", "line 2", "line 3", &s.at(5, 20)],
    );
}

#[test]
fn front_radius_at_the_limit_fails_and_names_the_pair() {
    let s = spec(&format!(
        "{XOR}network n {{\n  data = xor\n  radius = 0.5\n}}"
    ));
    let program = s.load().unwrap();
    let outcome = check_program(&program).unwrap();
    assert!(!outcome.passes());
    let r = &outcome.reports[0];
    assert_eq!((r.delta, r.limit), (1.0, 0.5));
    let shown = outcome.diagnostics[0].render();
    assert_contains(
        &shown,
        &[
            "not below the limit 0.5",
            "point 0 (line 2",
            "point 2 (line 4",
            &s.at(9, 12),
        ],
    );
}

#[test]
fn front_separation_is_per_norm() {
    let p = program(&format!(
        "{XOR}network a {{ data = xor norm = l1 }}\nnetwork b {{ data = xor norm = linf radius = 0.49 }}"
    ));
    let outcome = check_program(&p).unwrap();
    assert_eq!(outcome.reports[0].delta, 1.0);
    assert_eq!(outcome.reports[1].limit, 0.5);
    assert!(outcome.passes());
}

/// Found by the fuzzing harness (tests/fuzz): a 220 KB spec repeating four
/// keys 1,145 times gave 4,582 errors, each holding a copy of the spec (1 GB
/// in all), and took more than 10 s to resolve and print on a loaded machine.
/// At most `MAX_ERRORS` are reported, then a count of the others.
#[test]
fn errors_past_the_limit_are_counted_not_kept() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz/spec_4581_errors.rmem");
    let err = robmem::resolve::load_program(&path).unwrap_err();
    let related = err.related_list();
    assert_eq!(related.len(), robmem::resolve::MAX_ERRORS);
    assert_eq!(
        related.last().unwrap().message(),
        "4482 more errors not shown (at most 100 are reported)"
    );
    let shown = err.render();
    assert!(shown.contains("4482 more errors not shown"), "{shown}");
    // Each shown error names the key in its message and in its label.
    assert!(
        shown.matches("is given twice").count() <= 2 * 100,
        "{shown}"
    );
}

/// Found by the fuzzing harness (tests/fuzz): a number glued to a name right
/// after a byte-order mark (`\u{feff}1in`, `=\u{feff}19915885767674labelof`)
/// panicked in the parser's error path (a byte index inside the 3-byte mark).
/// The error points at the word, which starts after the mark.
#[test]
fn a_glued_number_after_a_multibyte_character_is_an_error() {
    for (file, word) in [
        (
            "spec_bom_before_glued_number_1.rmem",
            "`1in` is not a number",
        ),
        (
            "spec_bom_before_glued_number_2.rmem",
            "`19915885767674labelof` is not a number",
        ),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/fuzz")
            .join(file);
        let err = load_program(&path).unwrap_err();
        assert!(err.message().contains(word), "{file}: {}", err.message());
        let _ = err.render();
    }
}

/// Found by a hand-written probe while triaging the fuzzing runs: 5,000 nested calls
/// (`dataset d = f(f(f(...)))`, 20 KB) overflowed the stack and aborted.
/// Calls nest at most `MAX_NESTING` deep; the error points at the first `(`
/// past the limit.
#[test]
fn calls_nested_too_deep_are_an_error() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz/spec_nested_5000.rmem");
    let err = load_program(&path).unwrap_err();
    assert_eq!(err.message(), "calls are nested more than 64 deep");
    assert_eq!(err.place().unwrap().rsplit_once(':').unwrap().1, "142");
    let _ = err.render();
    let ok = format!("dataset d = {}{}", "f(".repeat(64), ")".repeat(64));
    let err = resolve_text(Path::new("x.rmem"), &ok).unwrap_err();
    assert!(
        err.message().contains("unknown data source"),
        "{}",
        err.message()
    );
}
