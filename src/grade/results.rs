//! Reading a verifier's results file (the VNN-COMP results CSV) and an
//! instance folder's `expected.csv` and `instances.csv`.
//!
//! # The results CSV
//!
//! One row per instance, as the VNN-COMP scripts write it (e.g.
//! `acasxu,./benchmarks/acasxu/onnx/N.onnx,./benchmarks/acasxu/vnnlib/prop_1.vnnlib,25.9,unsat,8.9`
//! in ChristopherBrix/vnncomp2022_results, `*/results.csv`):
//!
//! ```text
//! benchmark,onnx,vnnlib,prepare_time,result,run_time[,counterexample]
//! ```
//!
//! - no header; a first row whose fifth field is `result` (or first field
//!   `benchmark`) is taken as a header and skipped. Blank lines and lines
//!   starting with `#` are skipped. Fields are trimmed; a field wrapped in
//!   double quotes loses them (no other CSV quoting is read).
//! - `result` is matched case-insensitively. `sat` and `violated` mean a
//!   counterexample exists; `unsat` and `holds` that the property holds
//!   (`holds`/`violated` are the VNN-COMP 2021 result words,
//!   stanleybak/vnncomp2021 README.md; the 2022 scoring maps `unsat` to
//!   `holds` and `sat` to `violated`, ChristopherBrix/vnncomp2022_results
//!   SCORING/settings.py `CSV_SUBSTITUTIONS`). `timeout`,
//!   `run_instance_timeout` and `prepare_instance_timeout` are timeouts;
//!   `unknown`, `no_result_in_file`, `error_nonmaximal` and
//!   `prepare_instance_error_*` are unknown; `error` and `error_exit_code_*`
//!   are errors (the same substitutions).
//! - `prepare_time` and `run_time` are seconds (non-negative numbers, or
//!   empty).
//! - an optional seventh field is the path of the counterexample file for
//!   this row, relative to the results file's folder.

use super::io_error;
use crate::diagnostics::SpecError;

/// A verifier's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A counterexample exists (`sat`, `violated`).
    Sat,
    /// The property holds (`unsat`, `holds`).
    Unsat,
    /// The verifier ran out of time.
    Timeout,
    /// The verifier gave no answer.
    Unknown,
    /// The verifier failed.
    Error,
}

impl Answer {
    /// The canonical word: `sat`, `unsat`, `timeout`, `unknown`, `error`.
    pub fn word(self) -> &'static str {
        match self {
            Answer::Sat => "sat",
            Answer::Unsat => "unsat",
            Answer::Timeout => "timeout",
            Answer::Unknown => "unknown",
            Answer::Error => "error",
        }
    }

    /// Reads a result word (see the module documentation).
    pub fn parse(word: &str) -> Option<Answer> {
        let w = word.trim().to_ascii_lowercase();
        Some(match w.as_str() {
            "sat" | "violated" => Answer::Sat,
            "unsat" | "holds" => Answer::Unsat,
            "timeout" | "run_instance_timeout" | "prepare_instance_timeout" => Answer::Timeout,
            "unknown" | "no_result_in_file" | "error_nonmaximal" => Answer::Unknown,
            "error" => Answer::Error,
            _ if w.starts_with("prepare_instance_error_") => Answer::Unknown,
            _ if w.starts_with("error_exit_code_") => Answer::Error,
            _ => return None,
        })
    }
}

/// A field's text and its byte range in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The trimmed text (surrounding double quotes removed).
    pub text: String,
    /// Byte offset in the file.
    pub at: usize,
    /// Length in bytes (at least 1, so that a label shows).
    pub len: usize,
}

/// One row of the results file.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// 1-based line number.
    pub line: usize,
    /// The `onnx` field.
    pub onnx: Field,
    /// The `vnnlib` field.
    pub vnnlib: Field,
    /// `prepare_time` in seconds, if given.
    pub prepare_time: Option<f64>,
    /// The answer.
    pub answer: Answer,
    /// The `result` field as written.
    pub result: Field,
    /// `run_time` in seconds, if given.
    pub run_time: Option<f64>,
    /// The seventh field (a counterexample file), if given and non-empty.
    pub counterexample: Option<Field>,
}

/// Splits `line` (starting at byte `start` of the file) at commas.
fn fields(line: &str, start: usize) -> Vec<Field> {
    let mut out = Vec::new();
    let mut offset = 0;
    for raw in line.split(',') {
        let lead = raw.len() - raw.trim_start().len();
        let mut text = raw.trim();
        let mut at = start + offset + lead;
        if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
            text = &text[1..text.len() - 1];
            at += 1;
        }
        out.push(Field {
            text: text.to_string(),
            at,
            len: text.len().max(1),
        });
        offset += raw.len() + 1;
    }
    out
}

/// The lines of `text` that hold data: (1-based line number, byte offset,
/// line without its line ending).
fn data_lines(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut offset = 0;
    text.split('\n').enumerate().filter_map(move |(i, raw)| {
        let mut start = offset;
        offset += raw.len() + 1;
        let mut line = raw.strip_suffix('\r').unwrap_or(raw);
        // A byte-order mark (spreadsheet exports) is not part of the data.
        if let Some(rest) = line.strip_prefix('\u{feff}') {
            start += '\u{feff}'.len_utf8();
            line = rest;
        }
        let t = line.trim();
        (!t.is_empty() && !t.starts_with('#')).then_some((i + 1, start, line))
    })
}

/// Reads a results file (text `text`, shown as `name`).
pub fn parse_results(name: &str, text: &str) -> Result<Vec<Row>, SpecError> {
    const FORMAT: &str = "each row is `benchmark,onnx,vnnlib,prepare_time,result,run_time` \
        (VNN-COMP results CSV), optionally followed by `,COUNTEREXAMPLE_FILE`";
    let mut rows = Vec::new();
    let mut first = true;
    for (line, start, body) in data_lines(text) {
        let f = fields(body, start);
        if first {
            first = false;
            let header = f
                .first()
                .is_some_and(|x| x.text.eq_ignore_ascii_case("benchmark"))
                || f.get(4)
                    .is_some_and(|x| x.text.eq_ignore_ascii_case("result"));
            if header {
                continue;
            }
        }
        if f.len() < 6 || f.len() > 7 {
            let span = if f.len() > 7 {
                (f[7].at - 1, body.len() - (f[7].at - 1 - start))
            } else {
                (start, body.len().max(1))
            };
            return Err(io_error(
                name,
                text,
                span,
                format!("{} fields", f.len()),
                format!(
                    "line {line} of {name} has {} comma-separated fields, expected 6 (or 7)",
                    f.len()
                ),
            )
            .with_help(FORMAT));
        }
        let time = |field: &Field, what: &str| -> Result<Option<f64>, SpecError> {
            if field.text.is_empty() {
                return Ok(None);
            }
            match field.text.parse::<f64>() {
                Ok(t) if t.is_finite() && t >= 0.0 => Ok(Some(t)),
                _ => Err(io_error(
                    name,
                    text,
                    (field.at, field.len),
                    "not a number of seconds",
                    format!(
                        "line {line} of {name}: {what} `{}` is not a number of seconds",
                        field.text
                    ),
                )
                .with_help(format!(
                    "{what} is a non-negative number of seconds, e.g. 1.25; {FORMAT}"
                ))),
            }
        };
        let prepare_time = time(&f[3], "prepare_time")?;
        let run_time = time(&f[5], "run_time")?;
        let Some(answer) = Answer::parse(&f[4].text) else {
            return Err(io_error(
                name,
                text,
                (f[4].at, f[4].len),
                "unknown result",
                format!(
                    "line {line} of {name}: result `{}` is not a verifier answer",
                    f[4].text
                ),
            )
            .with_help(
                "the result (fifth field) is one of sat, unsat, timeout, unknown, error \
                 (or the VNN-COMP words holds, violated, run_instance_timeout, ...)",
            ));
        };
        for (k, what) in [(1, "onnx"), (2, "vnnlib")] {
            if f[k].text.is_empty() {
                return Err(io_error(
                    name,
                    text,
                    (f[k].at, 1),
                    "empty",
                    format!("line {line} of {name}: the {what} field is empty"),
                )
                .with_help(FORMAT));
            }
        }
        let counterexample = f.get(6).filter(|c| !c.text.is_empty()).cloned();
        rows.push(Row {
            line,
            onnx: f[1].clone(),
            vnnlib: f[2].clone(),
            prepare_time,
            answer,
            result: f[4].clone(),
            run_time,
            counterexample,
        });
    }
    Ok(rows)
}

/// The known answer of an instance (`expected.csv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// A counterexample exists (planted instances).
    Sat,
    /// The property holds (robust instances).
    Unsat,
    /// Not known (instances in the hard band between the certified radius
    /// and the limit).
    Unknown,
}

impl Expected {
    /// `sat`, `unsat` or `unknown`.
    pub fn word(self) -> &'static str {
        match self {
            Expected::Sat => "sat",
            Expected::Unsat => "unsat",
            Expected::Unknown => "unknown",
        }
    }
}

/// One line of `expected.csv`: a property file (relative to the folder) and
/// its known answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// The `.vnnlib` path relative to the folder.
    pub vnnlib: String,
    /// The known answer.
    pub expected: Expected,
    /// The `.onnx` path relative to the folder (from `instances.csv`).
    pub onnx: Option<String>,
}

/// Reads `expected.csv` (`vnnlib,answer` per line).
pub fn parse_expected(name: &str, text: &str) -> Result<Vec<Instance>, SpecError> {
    let mut out: Vec<Instance> = Vec::new();
    for (line, start, body) in data_lines(text) {
        let f = fields(body, start);
        let bad = |span: (usize, usize), message: String| {
            io_error(name, text, span, "here", message)
                .with_help("expected.csv has one `vnnlib_path,answer` line per instance, answer sat, unsat or unknown")
        };
        if f.len() != 2 {
            return Err(bad(
                (start, body.len().max(1)),
                format!("line {line} of {name} has {} fields, expected 2", f.len()),
            ));
        }
        let expected = match f[1].text.to_ascii_lowercase().as_str() {
            "sat" => Expected::Sat,
            "unsat" => Expected::Unsat,
            "unknown" => Expected::Unknown,
            other => {
                return Err(bad(
                    (f[1].at, f[1].len),
                    format!("line {line} of {name}: answer `{other}` is not sat, unsat or unknown"),
                ))
            }
        };
        if out.iter().any(|i| i.vnnlib == f[0].text) {
            return Err(bad(
                (f[0].at, f[0].len),
                format!("line {line} of {name}: `{}` is listed twice", f[0].text),
            ));
        }
        out.push(Instance {
            vnnlib: f[0].text.clone(),
            expected,
            onnx: None,
        });
    }
    Ok(out)
}

/// Reads `instances.csv` (`onnx,vnnlib,timeout` per line) into `(vnnlib,
/// onnx)` pairs.
pub fn parse_instances(name: &str, text: &str) -> Result<Vec<(String, String)>, SpecError> {
    let mut out = Vec::new();
    for (line, start, body) in data_lines(text) {
        let f = fields(body, start);
        if f.len() < 2 {
            return Err(io_error(
                name,
                text,
                (start, body.len().max(1)),
                "here",
                format!(
                    "line {line} of {name} has {} fields, expected `onnx,vnnlib,timeout`",
                    f.len()
                ),
            ));
        }
        out.push((f[1].text.clone(), f[0].text.clone()));
    }
    Ok(out)
}

/// A path as written in a CSV file, normalised for matching: `\` becomes
/// `/` and leading `./` are removed.
pub fn normalise(path: &str) -> String {
    let mut p = path.replace('\\', "/");
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.to_string();
    }
    p
}

/// The index of the instance a results row's vnnlib path names: the same
/// path (relative to the folder), else the one path it ends with (after a
/// `/`, as in `benchmarks/NAME/vnnlib/F.vnnlib`), else the one instance with
/// the same file name.
pub fn match_instance(path: &str, instances: &[Instance]) -> Option<usize> {
    let p = normalise(path);
    let names: Vec<String> = instances.iter().map(|i| normalise(&i.vnnlib)).collect();
    if let Some(k) = names.iter().position(|n| *n == p) {
        return Some(k);
    }
    let unique = |hits: Vec<usize>| (hits.len() == 1).then(|| hits[0]);
    let suffix: Vec<usize> = (0..names.len())
        .filter(|&k| p.ends_with(&format!("/{}", names[k])))
        .collect();
    if !suffix.is_empty() {
        return unique(suffix);
    }
    let file = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
    unique(
        (0..names.len())
            .filter(|&k| file(&names[k]) == file(&p))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_with_header_case_and_whitespace() {
        let text = "benchmark,onnx,vnnlib,prepare_time,result,run_time\n\
                    b, onnx/n.onnx ,vnnlib/a.vnnlib,0.5, UNSAT ,1.5\r\n\n\
                    b,onnx/n.onnx,vnnlib/b.vnnlib,,Violated,2,ce/b.counterexample\n\
                    b,onnx/n.onnx,vnnlib/c.vnnlib,0,run_instance_timeout,60\n";
        let rows = parse_results("r.csv", &format!("\u{feff}{text}")).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].onnx.text, "onnx/n.onnx");
        assert_eq!(rows[0].answer, Answer::Unsat);
        assert_eq!(rows[0].prepare_time, Some(0.5));
        assert_eq!(rows[1].answer, Answer::Sat);
        assert_eq!(rows[1].prepare_time, None);
        assert_eq!(
            rows[1].counterexample.as_ref().unwrap().text,
            "ce/b.counterexample"
        );
        assert_eq!(rows[2].answer, Answer::Timeout);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse_results(
            "r.csv",
            "b,o.onnx,v.vnnlib,0.1,sat,1\nb,o.onnx,v.vnnlib,zero,sat,1\n",
        )
        .unwrap_err();
        assert_eq!(e.place().as_deref(), Some("r.csv:2:19"));
        let e = parse_results("r.csv", "b,o.onnx,v.vnnlib,0.1,maybe,1\n").unwrap_err();
        assert_eq!(e.place().as_deref(), Some("r.csv:1:23"));
        assert!(e.message().contains("maybe"));
        let e = parse_results("r.csv", "b,o.onnx,v.vnnlib,sat\n").unwrap_err();
        assert!(
            e.message().contains("4 comma-separated fields"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn rows_match_instances_by_path_suffix_or_file_name() {
        let inst = |v: &str| Instance {
            vnnlib: v.into(),
            expected: Expected::Sat,
            onnx: None,
        };
        let list = vec![
            inst("vnnlib/n_point_0.vnnlib"),
            inst("vnnlib/n_point_1.vnnlib"),
        ];
        assert_eq!(match_instance("./vnnlib/n_point_1.vnnlib", &list), Some(1));
        assert_eq!(
            match_instance("benchmarks/x/vnnlib/n_point_0.vnnlib", &list),
            Some(0)
        );
        assert_eq!(
            match_instance("/abs/elsewhere/n_point_1.vnnlib", &list),
            Some(1)
        );
        assert_eq!(match_instance("vnnlib/n_point_2.vnnlib", &list), None);
    }
}
