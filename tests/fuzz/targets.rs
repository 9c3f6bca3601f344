//! The five targets: the spec front end (parser, resolver, inline data, the
//! error printer), the CSV and NPY loaders, the certificate reader and the
//! ONNX reader. Loaders that take paths get their input through files in a
//! per-process temporary folder.

use crate::engine::Target;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use robmem::data::{ColumnRef, DataSource};
use std::path::PathBuf;

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "spec",
        run: spec,
        dictionary: &[
            SPEC_WORDS,
            robmem::resolve::NETWORK_KEYS,
            robmem::resolve::EMIT_KEYS,
        ],
        generate: Some(generate_spec),
    },
    Target {
        name: "csv",
        run: csv,
        dictionary: &[CSV_WORDS],
        generate: None,
    },
    Target {
        name: "npy",
        run: npy,
        dictionary: &[NPY_WORDS],
        generate: None,
    },
    Target {
        name: "certificate",
        run: certificate,
        dictionary: &[CERT_WORDS],
        generate: None,
    },
    Target {
        name: "onnx",
        run: onnx,
        dictionary: &[ONNX_WORDS],
        generate: None,
    },
];

/// A file named `name` in this process's temporary folder (in memory, under
/// `/dev/shm`, when there is one: writing to a busy disk would dominate).
fn scratch(name: &str) -> PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("robmem-fuzz")
            .tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("a temporary folder")
    })
    .path()
    .join(name)
}

/// Removes the temporary folder (a static is never dropped, so `main` calls
/// this before it returns).
pub fn remove_scratch() {
    let _ = std::fs::remove_dir_all(scratch(""));
}

/// Writes `bytes` to the scratch file `name` and returns its path.
fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch(name);
    std::fs::write(&path, bytes).expect("writing a scratch file");
    path
}

/// The outcome of a loader: "ok" and its size, or the error's message
/// (without the temporary folder's name, so that runs are repeatable).
fn outcome<T, E: std::fmt::Display>(r: Result<T, E>, ok: impl Fn(&T) -> String) -> String {
    match r {
        Ok(v) => format!("ok {}", ok(&v)),
        Err(e) => without_scratch(format!("err {e}")),
    }
}

/// `message` with the temporary folder's path removed.
fn without_scratch(message: String) -> String {
    let dir = scratch("");
    message.replace(dir.to_string_lossy().as_ref(), "")
}

/// Spec text -> parse -> resolve -> inline data sets loaded, as `robmem
/// check` does (generated and file data sets are not loaded: a generator's
/// size is what the spec asks for, files do not exist here); every error is
/// rendered with the fancy printer.
fn spec(input: &[u8]) -> String {
    let path = scratch("spec.rmem");
    let Ok(text) = std::str::from_utf8(input) else {
        // load_program's path for a file that is not UTF-8.
        let path = write("spec.rmem", input);
        return match robmem::resolve::load_program(&path) {
            Ok(_) => "ok non-utf8".into(),
            Err(e) => format!("err {}", e.render().len().min(1)),
        };
    };
    match robmem::resolve::resolve_text(&path, text) {
        Ok(program) => {
            let mut out = String::from("ok");
            for (i, decl) in program.datasets.iter().enumerate() {
                if let DataSource::Inline { .. } = decl.source {
                    match robmem::resolve::load_dataset(&program, i) {
                        Ok(d) => out.push_str(&format!(" {}", d.len())),
                        Err(e) => {
                            out.push_str(&without_scratch(format!(" {} {}", e, e.render().len())))
                        }
                    }
                }
            }
            out
        }
        Err(e) => without_scratch(format!("err {} {}", e, e.render().len())),
    }
}

/// The CSV loader under three option sets (header and label by index, no
/// header and `;`, header and label by name).
fn csv(input: &[u8]) -> String {
    let path = write("data.csv", input);
    let options = [
        (ColumnRef::Index(0), true, b','),
        (ColumnRef::Index(1), false, b';'),
        (ColumnRef::Name("kind".into()), true, b','),
    ];
    let mut out = String::new();
    for (label, header, delimiter) in &options {
        let r = robmem::data::csv::load(&path, label, *header, *delimiter);
        out.push_str(&outcome(r, |d| format!("{}x{}", d.len(), d.dim())));
        out.push('|');
    }
    out
}

/// Separates the features file from the labels file in an NPY input.
pub const NPY_SPLIT: &[u8] = b"#LABELS#";

/// The NPY loader: the input is `FEATURES #LABELS# LABELS` (without the
/// marker, the same bytes are both files).
fn npy(input: &[u8]) -> String {
    let (features, labels) = match input.windows(NPY_SPLIT.len()).position(|w| w == NPY_SPLIT) {
        Some(at) => (&input[..at], &input[at + NPY_SPLIT.len()..]),
        None => (input, input),
    };
    let f = write("x.npy", features);
    let l = write("y.npy", labels);
    outcome(robmem::data::npy::load(&f, &l), |d| {
        format!("{}x{}", d.len(), d.dim())
    })
}

/// The certificate reader `robmem verify` uses: JSON when the input starts
/// with `{` (after white space), YAML otherwise.
fn certificate(input: &[u8]) -> String {
    let json = input.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let path = write(if json { "c.cert.json" } else { "c.cert.yaml" }, input);
    outcome(
        robmem::verify::certificate::Certificate::read(&path),
        |_| String::new(),
    )
}

/// The ONNX reader `robmem verify` uses.
fn onnx(input: &[u8]) -> String {
    outcome(robmem::backend::read_onnx(input), |(net, _)| {
        format!("{}", net.layers.len())
    })
}

/// Tokens of the spec language and values the resolver treats specially
/// (the keys are added from the resolver's lists).
const SPEC_WORDS: &[&str] = &[
    "dataset",
    "network",
    "emit",
    "sweep",
    "points",
    "of",
    "limit",
    "=",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    "->",
    "\"",
    "\\",
    "//",
    "/*",
    "*/",
    "\n",
    " ",
    "\u{feff}",
    "l1",
    "l2",
    "linf",
    "l(",
    "max",
    "label",
    "logits",
    "identity",
    "pca",
    "random",
    "scores",
    "distances",
    "float32",
    "float64",
    "csv(",
    "npy(",
    "blobs(",
    "sphere(",
    "grid(",
    "header",
    "delimiter",
    "features",
    "labels",
    "points",
    "dim",
    "side",
    "spread",
    "auto",
    "true",
    "false",
];
const CSV_WORDS: &[&str] = &[
    ",", ";", "\n", "\r\n", "\r", "\"", "\"\"", " ", "\t", "\u{feff}", "kind", "\0", "\u{fffd}",
];
const NPY_WORDS: &[&str] = &[
    "\u{93}NUMPY",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (",
    "'<f4'",
    "'<i8'",
    "'|u1'",
    "'>f8'",
    "'<c16'",
    "'O'",
    "True",
    "False",
    "(1000000000000, 1000000)",
    "()",
    "(0,)",
    "(2, 2)",
    "(3,)",
    ", ",
    "), }",
    "#LABELS#",
];
const CERT_WORDS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "null",
    "true",
    "false",
    "1e400",
    "-0",
    "\"format\"",
    "\"radius\"",
    "\"norm\"",
    "\"projection\"",
    "\"m\"",
    "\"data\"",
    "\"extra\": 1",
    "\\u0000",
    "\\ud800",
    "---\n",
    "- ",
    "&a ",
    "*a",
    "!!float ",
    ".nan",
    ".inf",
];
const ONNX_WORDS: &[&str] = &[
    "Gemm", "Relu", "MatMul", "Add", "Identity", "ai.onnx", "alpha", "beta", "transA", "transB",
    "robmem", "\u{8}", "\u{12}", "\u{1a}", "\u{22}", "\u{3a}", "\u{42}",
];

/// A random number, often an awkward one.
fn number(rng: &mut ChaCha8Rng) -> String {
    match rng.gen_range(0..6) {
        0 => [
            "1e400",
            "-0",
            "0",
            "1e-400",
            "18446744073709551615",
            "9007199254740993",
            "0.5",
            "-1",
        ][rng.gen_range(0..8)]
        .to_string(),
        1 => format!("{}", rng.gen_range(0..5)),
        2 => format!("{}", rng.gen::<u64>()),
        3 => format!("{}e{}", rng.gen_range(-9..10), rng.gen_range(-400..400)),
        _ => format!("{:.3}", rng.gen_range(-2.0..2.0)),
    }
}

/// A random string literal, with escapes.
fn string(rng: &mut ChaCha8Rng) -> String {
    let parts = [
        "out/x.onnx",
        "a.csv",
        "\\n",
        "\\\"",
        "\\q",
        "\\\\",
        "é",
        "../",
        "",
        "/tmp",
        "x.npy",
        "..",
    ];
    let mut s = String::from("\"");
    for _ in 0..rng.gen_range(0..4) {
        s.push_str(parts[rng.gen_range(0..parts.len())]);
    }
    s.push('"');
    s
}

/// A random name, mostly one the resolver knows.
fn name(rng: &mut ChaCha8Rng) -> String {
    const NAMES: &[&str] = &[
        "d",
        "n",
        "x",
        "l1",
        "l2",
        "linf",
        "max",
        "label",
        "logits",
        "pca",
        "identity",
        "random",
        "auto",
        "limit",
        "float32",
        "float64",
        "scores",
        "distances",
        "_",
        "dd",
    ];
    if rng.gen_bool(0.05) {
        "a".repeat(rng.gen_range(1..3000))
    } else {
        NAMES[rng.gen_range(0..NAMES.len())].to_string()
    }
}

/// A random value: number, string, name, `N of limit` or a call.
fn value(rng: &mut ChaCha8Rng, depth: u32) -> String {
    match rng.gen_range(0..6) {
        0 => number(rng),
        1 => string(rng),
        2 => name(rng),
        3 => format!("{} of {}", number(rng), name(rng)),
        _ if depth < 3 => {
            const CALLS: &[&str] = &[
                "csv", "npy", "blobs", "sphere", "grid", "l", "random", "pca", "f",
            ];
            let mut s = format!("{}(", CALLS[rng.gen_range(0..CALLS.len())]);
            for i in 0..rng.gen_range(0..5) {
                if i > 0 {
                    s.push_str(", ");
                }
                if rng.gen_bool(0.5) {
                    s.push_str(&format!(
                        "{} = ",
                        SPEC_WORDS[rng.gen_range(0..SPEC_WORDS.len())]
                    ));
                }
                s.push_str(&value(rng, depth + 1));
            }
            s.push(')');
            s
        }
        _ => number(rng),
    }
}

/// A random spec built from the grammar: data sets (inline or calls),
/// networks, emit and sweep blocks with known and unknown keys.
fn generate_spec(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut s = String::new();
    for _ in 0..rng.gen_range(1..6) {
        match rng.gen_range(0..4) {
            0 => {
                s.push_str(&format!("dataset {} ", name(rng)));
                if rng.gen_bool(0.5) {
                    s.push_str(&format!("= {}\n", value(rng, 1)));
                } else {
                    s.push_str("{\n");
                    let dim = rng.gen_range(0..4);
                    for _ in 0..rng.gen_range(0..8) {
                        let d = if rng.gen_bool(0.9) { dim } else { dim + 1 };
                        let coords: Vec<String> = (0..d).map(|_| number(rng)).collect();
                        let label = match rng.gen_range(0..3) {
                            0 => number(rng),
                            1 => string(rng),
                            _ => name(rng),
                        };
                        s.push_str(&format!("  [{}] -> {label}\n", coords.join(", ")));
                    }
                    s.push_str("}\n");
                }
            }
            kind => {
                let (keyword, keys): (&str, Vec<&str>) = match kind {
                    1 => ("network", robmem::resolve::NETWORK_KEYS.to_vec()),
                    2 => ("emit", robmem::resolve::EMIT_KEYS.to_vec()),
                    _ => ("sweep", robmem::resolve::sweep_keys().collect()),
                };
                s.push_str(&format!("{keyword} {} {{\n", name(rng)));
                for _ in 0..rng.gen_range(0..7) {
                    let key = if rng.gen_bool(0.9) {
                        keys[rng.gen_range(0..keys.len())].to_string()
                    } else {
                        name(rng)
                    };
                    // Lists: a sweep's values, the emit block's `domain`.
                    let v = if rng.gen_bool(0.3) {
                        let items: Vec<String> =
                            (0..rng.gen_range(0..4)).map(|_| value(rng, 1)).collect();
                        format!("[{}]", items.join(", "))
                    } else {
                        value(rng, 0)
                    };
                    s.push_str(&format!("  {key} = {v}\n"));
                }
                s.push_str("}\n");
            }
        }
    }
    s.into_bytes()
}
