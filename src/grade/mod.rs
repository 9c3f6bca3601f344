//! `robmem grade`: a verifier's answers on an instance folder
//! (specs/vnnlib.md), compared with the known ones.
//!
//! [`results`] reads the verifier's results CSV (VNN-COMP format) and the
//! folder's `expected.csv` and `instances.csv`; [`vnnlib`] reads a property
//! file; [`counterexample`] reads a counterexample and checks it against the
//! property's box and the ONNX network (read by the checker's own reader,
//! [`crate::verify::model`]), in the model's precision and in real
//! arithmetic. [`grade`] puts them together and [`judge`] decides each
//! instance's [`Verdict`]. Nothing here depends on the construction: the
//! grader sees only the files.

pub mod counterexample;
pub mod results;
pub mod vnnlib;

use crate::diagnostics::{Category, SpecError};
use crate::verify::model::{read_model_file, Model};
use counterexample::{check, parse_counterexample, Check};
use results::{
    match_instance, normalise, parse_expected, parse_instances, parse_results, Answer, Expected,
    Instance,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use vnnlib::{parse_property, Property};

/// An input error at `span` of the file `name` whose text is `text`
/// (exit code 2).
pub(crate) fn io_error(
    name: &str,
    text: &str,
    span: (usize, usize),
    label: impl Into<String>,
    message: impl Into<String>,
) -> SpecError {
    SpecError::at(name, text, span.into(), label, message).with_category(Category::Io)
}

/// An input error without a place (a file that cannot be read).
fn unreadable(path: &Path, e: &std::io::Error, help: &str) -> SpecError {
    SpecError::new(format!("cannot read {}: {e}", path.display()))
        .with_category(Category::Io)
        .with_help(help.to_string())
}

/// How an instance's answer is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The answer agrees with the known one (and its counterexample, if
    /// given, checks out).
    Correct,
    /// `unsat` on a planted instance, `sat` on a robust one, or a
    /// counterexample outside the box or not violating the property.
    Wrong,
    /// The verifier answered `unknown`.
    Unknown,
    /// The verifier timed out.
    Timeout,
    /// The verifier reported an error.
    Error,
    /// No row of the results names the instance.
    Missing,
    /// The known answer is `unknown` and nothing decides the answer given.
    Unchecked,
}

impl Verdict {
    /// The word printed in the table: `correct`, `WRONG`, `unknown`,
    /// `timeout`, `error`, `missing`, `unchecked`.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Correct => "correct",
            Verdict::Wrong => "WRONG",
            Verdict::Unknown => "unknown",
            Verdict::Timeout => "timeout",
            Verdict::Error => "error",
            Verdict::Missing => "missing",
            Verdict::Unchecked => "unchecked",
        }
    }

    /// Every verdict, in the order totals are printed.
    pub const ALL: [Verdict; 7] = [
        Verdict::Correct,
        Verdict::Wrong,
        Verdict::Unknown,
        Verdict::Timeout,
        Verdict::Error,
        Verdict::Missing,
        Verdict::Unchecked,
    ];
}

/// One instance's grade.
#[derive(Clone, Debug)]
pub struct Graded {
    /// The property file, relative to the folder (as in `expected.csv`).
    pub instance: String,
    /// The known answer.
    pub expected: Expected,
    /// The verifier's answer (`None` when missing).
    pub answer: Option<Answer>,
    /// The verdict.
    pub verdict: Verdict,
    /// The results row's line number.
    pub line: Option<usize>,
    /// `prepare_time` in seconds.
    pub prepare_time: Option<f64>,
    /// `run_time` in seconds.
    pub run_time: Option<f64>,
    /// The counterexample file that was checked and the check.
    pub counterexample: Option<(PathBuf, Check)>,
    /// Why: a short explanation (may be empty).
    pub note: String,
}

/// Decides the verdict of `answer` on an instance whose known answer is
/// `expected`, given the check of its counterexample when one was given.
pub fn judge(expected: Expected, answer: Answer, cex: Option<&Check>) -> (Verdict, String) {
    match answer {
        Answer::Timeout => return (Verdict::Timeout, String::new()),
        Answer::Unknown => return (Verdict::Unknown, String::new()),
        Answer::Error => return (Verdict::Error, String::new()),
        Answer::Unsat => {
            return match expected {
                Expected::Unsat => (Verdict::Correct, String::new()),
                Expected::Sat => (
                    Verdict::Wrong,
                    "unsound: unsat on a planted instance, which has a counterexample (counterexamples/)".into(),
                ),
                Expected::Unknown => (Verdict::Unchecked, "the answer is not known".into()),
            }
        }
        Answer::Sat => {}
    }
    let Some(c) = cex else {
        return match expected {
            Expected::Sat => (
                Verdict::Correct,
                "no counterexample given, so none checked".into(),
            ),
            Expected::Unsat => (
                Verdict::Wrong,
                "sat on a certified robust instance (no counterexample given)".into(),
            ),
            Expected::Unknown => (Verdict::Unchecked, "no counterexample given".into()),
        };
    };
    if let Some(outside) = &c.outside {
        let near = if outside_by(outside) <= counterexample::VNNCOMP_TOLERANCE {
            " (within VNN-COMP's tolerance 1e-4, which robmem does not allow)"
        } else {
            ""
        };
        return (
            Verdict::Wrong,
            format!("counterexample outside the box: {outside}{near}"),
        );
    }
    if !c.checks_out() {
        return (
            Verdict::Wrong,
            format!(
                "counterexample does not violate the property ({})",
                c.summary()
            ),
        );
    }
    match expected {
        Expected::Sat | Expected::Unknown => (
            Verdict::Correct,
            format!("counterexample checks out ({})", c.summary()),
        ),
        Expected::Unsat => (
            Verdict::Wrong,
            format!(
                "sat on a certified robust instance, YET ITS COUNTEREXAMPLE CHECKS OUT ({}): \
                 this contradicts robmem's claim; please report it",
                c.summary()
            ),
        ),
    }
}

/// The distance `by D` at the end of a box description (infinite if none).
fn outside_by(description: &str) -> f64 {
    description
        .rsplit(" by ")
        .next()
        .and_then(|d| d.parse().ok())
        .unwrap_or(f64::INFINITY)
}

/// Reads a text file, naming it in the error.
fn read_text(path: &Path, help: &str) -> Result<String, SpecError> {
    std::fs::read_to_string(path).map_err(|e| unreadable(path, &e, help))
}

/// Grades the results file `results` against the instance folder `dir`,
/// looking for counterexample files in `counterexamples` when given (see
/// [`find_counterexample`]). Returns one grade per instance of
/// `expected.csv`, in its order.
///
/// # Errors
/// Bad input (exit code 2): a missing or malformed file, a row naming no
/// instance, a second row for the same instance, a row whose network is not
/// the instance's, a counterexample file that cannot be read.
pub fn grade(
    dir: &Path,
    results: &Path,
    counterexamples: Option<&Path>,
) -> Result<Vec<Graded>, SpecError> {
    const FOLDER: &str = "DIR must be an instance folder written by `robmem compile` (emit vnnlib) or `robmem instances`";
    let expected_path = dir.join("expected.csv");
    let mut instances = parse_expected(
        &expected_path.display().to_string(),
        &read_text(&expected_path, FOLDER)?,
    )?;
    let instances_path = dir.join("instances.csv");
    let listed = parse_instances(
        &instances_path.display().to_string(),
        &read_text(&instances_path, FOLDER)?,
    )?;
    for inst in &mut instances {
        let key = normalise(&inst.vnnlib);
        inst.onnx = listed
            .iter()
            .find(|(v, _)| normalise(v) == key)
            .map(|(_, o)| o.clone());
    }
    let name = results.display().to_string();
    let text = read_text(results, "pass the verifier's results CSV")?;
    let rows = parse_results(&name, &text)?;
    let base = results.parent().unwrap_or(Path::new("")).to_path_buf();

    let mut row_of: Vec<Option<usize>> = vec![None; instances.len()];
    for (r, row) in rows.iter().enumerate() {
        let Some(k) = match_instance(&row.vnnlib.text, &instances) else {
            return Err(io_error(
                &name,
                &text,
                (row.vnnlib.at, row.vnnlib.len),
                "not an instance of this folder",
                format!(
                    "line {} of {name}: `{}` is not an instance listed in {}",
                    row.line,
                    row.vnnlib.text,
                    expected_path.display()
                ),
            )
            .with_help("the vnnlib field must name a property file of expected.csv (relative to DIR, or a path ending in it); grade the results against the folder they were run on"));
        };
        if let Some(first) = row_of[k] {
            return Err(io_error(
                &name,
                &text,
                (row.vnnlib.at, row.vnnlib.len),
                "second row",
                format!(
                    "line {} of {name}: `{}` already has a row (line {})",
                    row.line, instances[k].vnnlib, rows[first].line
                ),
            )
            .with_help("give one row per instance"));
        }
        if let Some(onnx) = &instances[k].onnx {
            let file = |s: &str| {
                normalise(s)
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            };
            if file(onnx) != file(&row.onnx.text) {
                return Err(io_error(
                    &name,
                    &text,
                    (row.onnx.at, row.onnx.len),
                    "another network",
                    format!(
                        "line {} of {name}: the network `{}` is not the instance's `{onnx}` (instances.csv)",
                        row.line, row.onnx.text
                    ),
                )
                .with_help("each row's onnx field names the network of its instance, as instances.csv does"));
            }
        }
        row_of[k] = Some(r);
    }

    let mut properties: HashMap<String, Property> = HashMap::new();
    let mut models: HashMap<String, Model> = HashMap::new();
    let mut out = Vec::with_capacity(instances.len());
    for (k, inst) in instances.iter().enumerate() {
        let Some(r) = row_of[k] else {
            out.push(Graded {
                instance: inst.vnnlib.clone(),
                expected: inst.expected,
                answer: None,
                verdict: Verdict::Missing,
                line: None,
                prepare_time: None,
                run_time: None,
                counterexample: None,
                note: "no row in the results".into(),
            });
            continue;
        };
        let row = &rows[r];
        let mut checked = None;
        if row.answer == Answer::Sat {
            let file = match &row.counterexample {
                Some(field) => {
                    let p = base.join(&field.text);
                    if !p.is_file() {
                        return Err(io_error(
                            &name,
                            &text,
                            (field.at, field.len),
                            "no such file",
                            format!("line {} of {name}: the counterexample file {} does not exist", row.line, p.display()),
                        )
                        .with_help("the seventh field is a counterexample file, relative to the results file's folder"));
                    }
                    Some(p)
                }
                None => counterexamples.and_then(|d| find_counterexample(d, inst, &row.onnx.text)),
            };
            if let Some(file) = file {
                let check = check_file(dir, inst, &file, &mut properties, &mut models)?;
                checked = Some((file, check));
            }
        }
        let (verdict, note) = judge(inst.expected, row.answer, checked.as_ref().map(|(_, c)| c));
        let mut note = note;
        if let Some((_, c)) = &checked {
            if let Some(d) = c
                .claimed_difference
                .filter(|d| *d > counterexample::VNNCOMP_TOLERANCE)
            {
                note += &format!("; the file's Y values differ from the network's outputs by {d}");
            }
        }
        out.push(Graded {
            instance: inst.vnnlib.clone(),
            expected: inst.expected,
            answer: Some(row.answer),
            verdict,
            line: Some(row.line),
            prepare_time: row.prepare_time,
            run_time: row.run_time,
            counterexample: checked,
            note,
        });
    }
    Ok(out)
}

/// The counterexample file for `instance` in the folder `dir`, if any:
/// `STEM.counterexample`, `ONNXSTEM_STEM.counterexample` (VNN-COMP's naming,
/// network and property stems joined by `_`) or `STEM.json` (robmem's own),
/// where `STEM` is the property file's name without `.vnnlib`.
pub fn find_counterexample(dir: &Path, instance: &Instance, onnx: &str) -> Option<PathBuf> {
    let stem = |p: &str| {
        let file = normalise(p)
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        file.rsplit_once('.')
            .map_or(file.clone(), |(s, _)| s.to_string())
    };
    let v = stem(&instance.vnnlib);
    let o = stem(instance.onnx.as_deref().unwrap_or(onnx));
    [
        format!("{v}.counterexample"),
        format!("{o}_{v}.counterexample"),
        format!("{v}.json"),
    ]
    .into_iter()
    .map(|f| dir.join(f))
    .find(|p| p.is_file())
}

/// Reads and checks one counterexample file.
fn check_file(
    dir: &Path,
    inst: &Instance,
    file: &Path,
    properties: &mut HashMap<String, Property>,
    models: &mut HashMap<String, Model>,
) -> Result<Check, SpecError> {
    if !properties.contains_key(&inst.vnnlib) {
        let p = dir.join(&inst.vnnlib);
        let text = read_text(&p, "the instance's property file is missing from DIR")?;
        properties.insert(
            inst.vnnlib.clone(),
            parse_property(&p.display().to_string(), &text)?,
        );
    }
    let property = &properties[&inst.vnnlib];
    let onnx = inst.onnx.clone().ok_or_else(|| {
        SpecError::new(format!(
            "{} is not listed in instances.csv, so its network is unknown",
            inst.vnnlib
        ))
        .with_category(Category::Io)
        .with_help("instances.csv names each instance's onnx file")
    })?;
    if !models.contains_key(&onnx) {
        let p = dir.join(&onnx);
        let model = read_model_file(&p).map_err(|e| {
            SpecError::new(format!("cannot read the network {}: {e}", p.display()))
                .with_category(Category::Io)
                .with_help("robmem grade reads chains of Gemm/MatMul+Add and Relu nodes, as robmem writes them")
        })?;
        models.insert(onnx.clone(), model);
    }
    let model = &models[&onnx];
    let text = read_text(file, "pass a readable counterexample file")?;
    let cex = parse_counterexample(&file.display().to_string(), &text, property.inputs)?;
    check(&cex, property, model).map_err(|m| {
        SpecError::new(format!("{} and {onnx}: {m}", inst.vnnlib)).with_category(Category::Io)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_judged_against_the_known_ones() {
        assert_eq!(
            judge(Expected::Unsat, Answer::Unsat, None).0,
            Verdict::Correct
        );
        assert_eq!(judge(Expected::Sat, Answer::Unsat, None).0, Verdict::Wrong);
        assert_eq!(judge(Expected::Unsat, Answer::Sat, None).0, Verdict::Wrong);
        let (v, note) = judge(Expected::Sat, Answer::Sat, None);
        assert_eq!(v, Verdict::Correct);
        assert!(note.contains("no counterexample"));
        assert_eq!(
            judge(Expected::Sat, Answer::Timeout, None).0,
            Verdict::Timeout
        );
        assert_eq!(
            judge(Expected::Unsat, Answer::Unknown, None).0,
            Verdict::Unknown
        );
        assert_eq!(
            judge(Expected::Unsat, Answer::Error, None).0,
            Verdict::Error
        );
        assert_eq!(
            judge(Expected::Unknown, Answer::Unsat, None).0,
            Verdict::Unchecked
        );
        assert_eq!(
            outside_by("X_0 = 1 is above its upper bound 0.5 by 0.5"),
            0.5
        );
    }
}
