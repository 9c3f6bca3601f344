//! Counterexample files and their check against the instance's box and
//! network.
//!
//! # Accepted files
//!
//! - the VNN-COMP text format: optionally a first word `sat` (or
//!   `violated`), then `(` followed by `(X_i v)` for every input and
//!   optionally `(Y_j v)` for outputs, then `)`; whitespace and line breaks
//!   anywhere between tokens, `;` comments. This is what the VNN-COMP 2022
//!   scoring reads (ChristopherBrix/vnncomp2022_results
//!   SCORING/counterexamples.py: line breaks become spaces, the outer
//!   parentheses are removed, each `(NAME VALUE)` pair is read, X and Y
//!   indices in order). Here the X's may come in any order but each input
//!   must be given exactly once. Values are decimal or scientific numbers.
//! - robmem's own JSON counterexample (`counterexamples/NAME_unsafe_K.json`):
//!   an object whose `input` is the array of input values (`output`, if
//!   present, is read as the claimed Y values).
//!
//! # The check
//!
//! - **box**: every input-only assertion of the `.vnnlib` file must hold at
//!   `x` exactly (the decimals as the nearest `f64`; robmem's bounds are
//!   float32 values, so a float32 input inside is inside exactly). No
//!   tolerance: VNN-COMP's scoring allows 1e-4 (settings.py
//!   `COUNTEREXAMPLE_TOL`); a point outside by less is reported as such.
//! - **model precision**: the network as stored, evaluated in its element
//!   type: for float32 models the input is rounded to float32 and every
//!   product and sum is a float32 operation, summed in weight order then
//!   the bias added (a runtime may sum in another order and differ in the
//!   last bits); float64 models likewise in f64.
//! - **real**: the network's real-arithmetic output on the stored weights
//!   at the decimal input, enclosed in intervals with outward rounding
//!   ([`crate::verify::interval`]); the output assertions are decided on the
//!   enclosure when it decides them. When it does not (an output within a
//!   few ulps of a threshold), the plain f64 evaluation is reported instead
//!   and marked so.
//!
//! A counterexample *checks out* when it is inside the box and the output
//! assertions hold (the property is violated) in the model's precision or in
//! real arithmetic (or, real being undecided, in f64).

use super::io_error;
use super::vnnlib::{Property, Term, Tri, Var};
use crate::diagnostics::SpecError;
use crate::verify::interval::{dot, Interval};
use crate::verify::model::{Element, Model};

/// VNN-COMP's tolerance on the box and on the claimed outputs
/// (ChristopherBrix/vnncomp2022_results SCORING/settings.py).
pub const VNNCOMP_TOLERANCE: f64 = 1e-4;

/// A counterexample read from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Counterexample {
    /// The input `x`, one value per declared input.
    pub input: Vec<f64>,
    /// The outputs the verifier claims, if it gave them.
    pub output: Option<Vec<f64>>,
}

/// Reads a counterexample with `inputs` inputs from `text` (the file
/// `name`): robmem's JSON when it starts with `{`, the VNN-COMP text format
/// otherwise.
pub fn parse_counterexample(
    name: &str,
    text: &str,
    inputs: usize,
) -> Result<Counterexample, SpecError> {
    if text.trim_start().starts_with('{') {
        return parse_json(name, text, inputs);
    }
    let err = |span: (usize, usize), message: String| {
        io_error(name, text, span, "here", message).with_help(
            "a counterexample file is `((X_0 v) (X_1 v) ... (Y_0 v) ...)` (VNN-COMP), optionally after \
             a first line `sat`, or robmem's JSON with an `input` array",
        )
    };
    // Tokens with offsets (the VNN-LIB reader's tokenizer; comments skipped).
    let tokens = super::vnnlib::tokens_with_offsets(text);
    let mut pos = 0;
    if let Some((w, _)) = tokens.first() {
        if w.eq_ignore_ascii_case("sat") || w.eq_ignore_ascii_case("violated") {
            pos = 1;
        }
    }
    let end = (text.len().saturating_sub(1), 1);
    let expect = |pos: usize, want: &str| -> Result<(), SpecError> {
        match tokens.get(pos) {
            Some((t, _)) if *t == want => Ok(()),
            Some((t, at)) => Err(err(
                (*at, t.len()),
                format!("expected `{want}`, found `{t}`"),
            )),
            None => Err(err(end, format!("expected `{want}`, the file ends"))),
        }
    };
    expect(pos, "(")?;
    pos += 1;
    let mut xs: Vec<Option<f64>> = vec![None; inputs];
    let mut ys: Vec<(usize, f64)> = Vec::new();
    loop {
        match tokens.get(pos) {
            Some((")", _)) => {
                pos += 1;
                break;
            }
            Some(("(", _)) => {}
            Some((t, at)) => {
                return Err(err(
                    (*at, t.len()),
                    format!("expected `(NAME VALUE)` or `)`, found `{t}`"),
                ))
            }
            None => return Err(err(end, "the list is never closed with `)`".into())),
        }
        let (Some((var, vat)), Some((num, nat))) = (tokens.get(pos + 1), tokens.get(pos + 2))
        else {
            return Err(err(
                end,
                "the file ends inside a `(NAME VALUE)` pair".into(),
            ));
        };
        let value = match num.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                return Err(err(
                    (*nat, num.len()),
                    format!("`{num}` is not a finite number"),
                ))
            }
        };
        let index = |rest: &str| rest.parse::<usize>().ok();
        if let Some(i) = var.strip_prefix("X_").and_then(index) {
            if i >= inputs {
                return Err(err(
                    (*vat, var.len()),
                    format!("`{var}`: the property has {inputs} inputs"),
                ));
            }
            if xs[i].replace(value).is_some() {
                return Err(err((*vat, var.len()), format!("`{var}` is given twice")));
            }
        } else if let Some(j) = var.strip_prefix("Y_").and_then(index) {
            ys.push((j, value));
        } else {
            return Err(err((*vat, var.len()), format!("`{var}` is not X_i or Y_j")));
        }
        expect(pos + 3, ")")?;
        pos += 4;
    }
    if let Some((t, at)) = tokens.get(pos) {
        return Err(err(
            (*at, t.len()),
            format!("unexpected `{t}` after the counterexample"),
        ));
    }
    if let Some(i) = xs.iter().position(Option::is_none) {
        return Err(err(
            end,
            format!("X_{i} is not given (the property has {inputs} inputs)"),
        ));
    }
    ys.sort_by_key(|(j, _)| *j);
    let output = (!ys.is_empty()).then(|| ys.iter().map(|(_, v)| *v).collect());
    Ok(Counterexample {
        input: xs.into_iter().map(|x| x.unwrap_or(0.0)).collect(),
        output,
    })
}

fn parse_json(name: &str, text: &str, inputs: usize) -> Result<Counterexample, SpecError> {
    let whole = (0, 1);
    let fail = |m: String| {
        io_error(name, text, whole, "this file", m).with_help(
            "robmem's JSON counterexample has an `input` array of numbers, one per input",
        )
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| fail(format!("not JSON: {e}")))?;
    let numbers = |v: &serde_json::Value| -> Option<Vec<f64>> {
        v.as_array()?
            .iter()
            .map(serde_json::Value::as_f64)
            .collect()
    };
    let input = value
        .get("input")
        .and_then(numbers)
        .ok_or_else(|| fail(format!("{name} has no `input` array of numbers")))?;
    if input.len() != inputs {
        return Err(fail(format!(
            "`input` has {} values, the property has {inputs} inputs",
            input.len()
        )));
    }
    Ok(Counterexample {
        input,
        output: value.get("output").and_then(numbers),
    })
}

/// Outcome of evaluating the output assertions in one arithmetic.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Whether the output assertions hold (the property is violated).
    pub violated: Tri,
    /// The outputs (for intervals, the midpoints).
    pub outputs: Vec<f64>,
}

/// The result of checking a counterexample.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// `None` when `x` is in the box, else a description of the first
    /// input bound it breaks.
    pub outside: Option<String>,
    /// The name of the model's arithmetic (`float32` or `float64`).
    pub precision: &'static str,
    /// Evaluation in the model's precision.
    pub model: Evaluation,
    /// Evaluation in real arithmetic (interval enclosure).
    pub real: Evaluation,
    /// Plain f64 evaluation, consulted when `real` is undecided.
    pub f64: Evaluation,
    /// The largest difference between the claimed outputs and the
    /// network's (model-precision or f64, whichever is closer), when outputs
    /// were claimed.
    pub claimed_difference: Option<f64>,
}

impl Check {
    /// Whether the counterexample is in the box and violates the property
    /// in the model's precision or in real arithmetic (see the module doc).
    pub fn checks_out(&self) -> bool {
        self.outside.is_none() && (self.violated_in_model() || self.violated_in_real())
    }

    /// Violated in the model's precision.
    pub fn violated_in_model(&self) -> bool {
        self.model.violated == Tri::True
    }

    /// Violated in real arithmetic (proved), or, undecided there, in f64.
    pub fn violated_in_real(&self) -> bool {
        match self.real.violated {
            Tri::True => true,
            Tri::False => false,
            Tri::Unknown => self.f64.violated == Tri::True,
        }
    }

    /// One phrase per arithmetic, e.g. `float32: violated; real: holds`.
    pub fn summary(&self) -> String {
        let word = |t: Tri| match t {
            Tri::True => "violated",
            Tri::False => "holds",
            Tri::Unknown => "undecided",
        };
        let real = match self.real.violated {
            Tri::Unknown => format!("real: undecided, f64: {}", word(self.f64.violated)),
            t => format!("real: {}", word(t)),
        };
        format!("{}: {}; {real}", self.precision, word(self.model.violated))
    }
}

/// Checks counterexample `cex` against the property and the model.
///
/// # Errors
/// When the property and the model do not agree on the number of inputs or
/// outputs (a message for the caller to place).
pub fn check(cex: &Counterexample, property: &Property, model: &Model) -> Result<Check, String> {
    if property.inputs != model.input_dim || property.outputs != model.outputs() {
        return Err(format!(
            "the property declares {} inputs and {} outputs, the network has {} and {}",
            property.inputs,
            property.outputs,
            model.input_dim,
            model.outputs()
        ));
    }
    let x = &cex.input;
    let at_x = |t: &Term| match t {
        Term::Num(c) => (*c, *c),
        Term::Var(Var::X(i)) => (x[*i], x[*i]),
        Term::Var(Var::Y(_)) => (f64::NEG_INFINITY, f64::INFINITY),
    };
    let outside = property
        .input_asserts
        .iter()
        .any(|f| f.eval(&at_x) != Tri::True)
        .then(|| describe_outside(x, &property.bounds));
    let judge = |lo: &[f64], hi: &[f64]| -> Tri {
        let value = |t: &Term| match t {
            Term::Num(c) => (*c, *c),
            Term::Var(Var::X(i)) => (x[*i], x[*i]),
            Term::Var(Var::Y(j)) => (lo[*j], hi[*j]),
        };
        property
            .output_asserts
            .iter()
            .fold(Tri::True, |acc, f| match (acc, f.eval(&value)) {
                (Tri::False, _) | (_, Tri::False) => Tri::False,
                (Tri::True, Tri::True) => Tri::True,
                _ => Tri::Unknown,
            })
    };
    let point = |ys: Vec<f64>| Evaluation {
        violated: judge(&ys, &ys),
        outputs: ys,
    };
    let (precision, model_out) = match model.element {
        Element::F32 => ("float32", model.evaluate_f32(x)),
        Element::F64 => ("float64", model.evaluate_f64(x)),
    };
    let f64_out = model.evaluate_f64(x);
    // The claimed outputs may come from either arithmetic: the closer one.
    let distance = |ys: &[f64], zs: &[f64]| {
        if ys.len() != zs.len() {
            return f64::INFINITY;
        }
        ys.iter()
            .zip(zs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    let claimed_difference = cex
        .output
        .as_ref()
        .map(|ys| distance(ys, &model_out).min(distance(ys, &f64_out)));
    let enclosure = evaluate_real(model, x);
    let lo: Vec<f64> = enclosure.iter().map(|i| i.lo).collect();
    let hi: Vec<f64> = enclosure.iter().map(|i| i.hi).collect();
    let real = Evaluation {
        violated: judge(&lo, &hi),
        outputs: enclosure.iter().map(Interval::mid).collect(),
    };
    Ok(Check {
        outside,
        precision,
        model: point(model_out),
        real,
        f64: point(f64_out),
        claimed_difference,
    })
}

/// The first bound `x` breaks, e.g. `X_2 = 0.75 is above its upper bound
/// 0.7 by 0.05`.
fn describe_outside(x: &[f64], bounds: &[(f64, f64)]) -> String {
    for (i, (&v, &(lo, hi))) in x.iter().zip(bounds).enumerate() {
        if v < lo {
            return format!("X_{i} = {v} is below its lower bound {lo} by {}", lo - v);
        }
        if v > hi {
            return format!("X_{i} = {v} is above its upper bound {hi} by {}", v - hi);
        }
    }
    "an input assertion of the property does not hold".to_string()
}

/// Intervals holding the network's real-arithmetic output at the exact
/// decimal input whose nearest `f64` values are `x`: each input is widened
/// by one ulp each side (the decimal lies within half an ulp), then every
/// layer is bounded with outward rounding.
pub fn evaluate_real(model: &Model, x: &[f64]) -> Vec<Interval> {
    model.forward(
        x.iter()
            .map(|&a| Interval::new(a.next_down(), a.next_up()))
            .collect(),
        |row, b, v| dot(row.as_slice().expect("weights are row-major"), v, b),
        Interval::relu,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_vnncomp_text_format() {
        let text = "sat\n((X_1 0.5)\n (X_0 -1e-3)\n (Y_0 1.0) (Y_1 2))\n";
        let c = parse_counterexample("c.counterexample", text, 2).unwrap();
        assert_eq!(c.input, vec![-1e-3, 0.5]);
        assert_eq!(c.output, Some(vec![1.0, 2.0]));
        let missing = parse_counterexample("c", "((X_0 1.0))", 2).unwrap_err();
        assert!(
            missing.message().contains("X_1 is not given"),
            "{}",
            missing.message()
        );
        let bad = parse_counterexample("c", "((X_0 one) (X_1 2.0))", 2).unwrap_err();
        assert_eq!(bad.place().as_deref(), Some("c:1:7"));
        let json = parse_counterexample("c.json", "{\"input\": [1.0, 2.5], \"output\": [0.0]}", 2)
            .unwrap();
        assert_eq!(json.input, vec![1.0, 2.5]);
    }
}
