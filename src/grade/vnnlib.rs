//! A small VNN-LIB 1.0 reader for grading: the property a counterexample is
//! checked against.
//!
//! Accepted: `;` comments, `(declare-const X_i Real)` and
//! `(declare-const Y_j Real)`, and `(assert F)` where `F` is `(and F ...)`,
//! `(or F ...)` or a comparison `(OP A B)` with `OP` one of `<=`, `>=`, `<`,
//! `>`, `=` and `A`, `B` declared variables or decimal numbers. This covers
//! every file robmem writes (specs/vnnlib.md) and the usual VNN-COMP
//! properties; anything else (arithmetic terms, `let`, other sorts) is
//! refused with the place named.
//!
//! An assertion that mentions only inputs (`X_i`) constrains the input
//! region; one that mentions an output (`Y_j`) is part of the output
//! property. A point `(x, y)` satisfies the file when every assertion holds
//! (the file states the *negation* of the property the network should have,
//! so satisfying it makes `x` a counterexample).

use super::io_error;
use crate::diagnostics::SpecError;
use crate::verify::interval::{sub_down, sub_up};

/// A variable: input `X_i` or output `Y_j`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    /// Input `X_i`.
    X(usize),
    /// Output `Y_j`.
    Y(usize),
}

/// An operand of a comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Term {
    /// A declared variable.
    Var(Var),
    /// A number (the decimal read as the nearest `f64`).
    Num(f64),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `=`
    Eq,
}

/// A boolean formula over comparisons.
#[derive(Clone, Debug, PartialEq)]
pub enum Formula {
    /// `(OP A B)`.
    Atom(Cmp, Term, Term),
    /// `(and ...)`: every part holds.
    And(Vec<Formula>),
    /// `(or ...)`: some part holds.
    Or(Vec<Formula>),
}

/// A three-valued truth: decided either way, or not decided by the bounds
/// at hand (interval evaluation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tri {
    /// Holds.
    True,
    /// Does not hold.
    False,
    /// The bounds do not decide.
    Unknown,
}

impl Tri {
    fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }

    fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }
}

impl Formula {
    /// Evaluates the formula given each operand as an interval `[lo, hi]`
    /// holding its value: a comparison is true when it holds for every pair
    /// of values in the intervals, false when it holds for none, unknown
    /// otherwise. With point intervals the answer is exact.
    pub fn eval(&self, value: &dyn Fn(&Term) -> (f64, f64)) -> Tri {
        match self {
            Formula::And(parts) => parts
                .iter()
                .fold(Tri::True, |acc, f| acc.and(f.eval(value))),
            Formula::Or(parts) => parts
                .iter()
                .fold(Tri::False, |acc, f| acc.or(f.eval(value))),
            Formula::Atom(cmp, a, b) => {
                let (alo, ahi) = value(a);
                let (blo, bhi) = value(b);
                // d = a - b lies in [dlo, dhi] (outward rounded).
                let dlo = sub_down(alo, bhi);
                let dhi = sub_up(ahi, blo);
                let decide = |always: bool, never: bool| {
                    if always {
                        Tri::True
                    } else if never {
                        Tri::False
                    } else {
                        Tri::Unknown
                    }
                };
                match cmp {
                    Cmp::Ge => decide(dlo >= 0.0, dhi < 0.0),
                    Cmp::Gt => decide(dlo > 0.0, dhi <= 0.0),
                    Cmp::Le => decide(dhi <= 0.0, dlo > 0.0),
                    Cmp::Lt => decide(dhi < 0.0, dlo >= 0.0),
                    Cmp::Eq => decide(dlo == 0.0 && dhi == 0.0, dlo > 0.0 || dhi < 0.0),
                }
            }
        }
    }

    /// Whether the formula mentions an output variable.
    fn mentions_output(&self) -> bool {
        match self {
            Formula::And(parts) | Formula::Or(parts) => parts.iter().any(Formula::mentions_output),
            Formula::Atom(_, a, b) => [a, b].iter().any(|t| matches!(t, Term::Var(Var::Y(_)))),
        }
    }
}

/// A parsed property file.
#[derive(Clone, Debug, PartialEq)]
pub struct Property {
    /// Number of declared inputs `X_0 .. X_{d-1}`.
    pub inputs: usize,
    /// Number of declared outputs.
    pub outputs: usize,
    /// Assertions on inputs only: the input region.
    pub input_asserts: Vec<Formula>,
    /// Assertions that mention an output: the (negated) output property.
    pub output_asserts: Vec<Formula>,
    /// Per input, the box `[lo, hi]` read from top-level simple bounds
    /// (`(>= X_i c)`, `(<= X_i c)` and their mirror images); infinite where
    /// the file gives none. For reports; membership is decided by
    /// [`Property::input_asserts`].
    pub bounds: Vec<(f64, f64)>,
}

/// A token with its byte range.
#[derive(Clone, Debug)]
enum Tok<'a> {
    Open(usize),
    Close(usize),
    Atom(&'a str, usize),
}

/// An s-expression with the byte offset where it starts and its length.
#[derive(Clone, Debug)]
enum Sexp<'a> {
    Atom(&'a str, usize),
    List(Vec<Sexp<'a>>, usize, usize),
}

impl Sexp<'_> {
    fn span(&self) -> (usize, usize) {
        match self {
            Sexp::Atom(a, at) => (*at, a.len().max(1)),
            Sexp::List(_, at, len) => (*at, *len),
        }
    }
}

/// The tokens of `text` (parentheses and atoms; `;` comments skipped), each
/// with its byte offset: `(` and `)` are tokens of their own.
pub(super) fn tokens_with_offsets(text: &str) -> Vec<(&str, usize)> {
    tokenize(text)
        .into_iter()
        .map(|token| match token {
            Tok::Open(at) => ("(", at),
            Tok::Close(at) => (")", at),
            Tok::Atom(atom, at) => (atom, at),
        })
        .collect()
}

fn tokenize(text: &str) -> Vec<Tok<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b';' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' => {
                out.push(Tok::Open(i));
                i += 1;
            }
            b')' => {
                out.push(Tok::Close(i));
                i += 1;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                let start = i;
                while i < bytes.len()
                    && !bytes[i].is_ascii_whitespace()
                    && !matches!(bytes[i], b'(' | b')' | b';')
                {
                    i += 1;
                }
                out.push(Tok::Atom(&text[start..i], start));
            }
        }
    }
    out
}

/// Reads the property in `text` (the file's contents), shown as `name` in
/// errors.
pub fn parse_property(name: &str, text: &str) -> Result<Property, SpecError> {
    let err = |span: (usize, usize), label: &str, message: String| {
        io_error(name, text, span, label, message).with_help(
            "robmem grade reads VNN-LIB 1.0 as robmem writes it: declare-const of X_i and Y_j, \
             and asserts of and/or over comparisons of variables and numbers",
        )
    };
    let tokens = tokenize(text);
    let mut pos = 0;
    let mut forms = Vec::new();
    while pos < tokens.len() {
        forms.push(
            read_sexp(&tokens, &mut pos, text.len()).map_err(|(span, m)| err(span, "here", m))?,
        );
    }
    let mut inputs = 0;
    let mut outputs = 0;
    let mut input_asserts = Vec::new();
    let mut output_asserts = Vec::new();
    for form in &forms {
        let Sexp::List(items, ..) = form else {
            return Err(err(
                form.span(),
                "not a command",
                "expected `(declare-const ...)` or `(assert ...)`".into(),
            ));
        };
        match items.first() {
            Some(Sexp::Atom("declare-const", _)) => {
                let [_, Sexp::Atom(var, at), Sexp::Atom(sort, sort_at)] = &items[..] else {
                    return Err(err(
                        form.span(),
                        "here",
                        "expected `(declare-const NAME Real)`".into(),
                    ));
                };
                if *sort != "Real" {
                    return Err(err(
                        (*sort_at, sort.len()),
                        "sort",
                        format!("sort `{sort}`, expected Real"),
                    ));
                }
                match parse_var(var) {
                    Some(Var::X(i)) if i == inputs => inputs += 1,
                    Some(Var::Y(j)) if j == outputs => outputs += 1,
                    _ => {
                        return Err(err(
                            (*at, var.len()),
                            "this name",
                            format!("`{var}`: variables must be X_0, X_1, ... and Y_0, Y_1, ..., declared in order"),
                        ))
                    }
                }
            }
            Some(Sexp::Atom("assert", _)) => {
                let [_, body] = &items[..] else {
                    return Err(err(
                        form.span(),
                        "here",
                        "expected `(assert FORMULA)`".into(),
                    ));
                };
                let f = formula(body, inputs, outputs).map_err(|(span, m)| err(span, "here", m))?;
                if f.mentions_output() {
                    output_asserts.push(f);
                } else {
                    input_asserts.push(f);
                }
            }
            _ => {
                return Err(err(
                    form.span(),
                    "not a command",
                    "expected `(declare-const ...)` or `(assert ...)`".into(),
                ));
            }
        }
    }
    let mut bounds = vec![(f64::NEG_INFINITY, f64::INFINITY); inputs];
    let mut add_bound = |f: &Formula| {
        if let Formula::Atom(cmp, a, b) = f {
            let (i, c, cmp) = match (a, b) {
                (Term::Var(Var::X(i)), Term::Num(c)) => (*i, *c, *cmp),
                (Term::Num(c), Term::Var(Var::X(i))) => (
                    *i,
                    *c,
                    match cmp {
                        Cmp::Le => Cmp::Ge,
                        Cmp::Ge => Cmp::Le,
                        Cmp::Lt => Cmp::Gt,
                        Cmp::Gt => Cmp::Lt,
                        Cmp::Eq => Cmp::Eq,
                    },
                ),
                _ => return,
            };
            let b = &mut bounds[i];
            if matches!(cmp, Cmp::Ge | Cmp::Gt | Cmp::Eq) {
                b.0 = b.0.max(c);
            }
            if matches!(cmp, Cmp::Le | Cmp::Lt | Cmp::Eq) {
                b.1 = b.1.min(c);
            }
        }
    };
    for f in &input_asserts {
        match f {
            Formula::And(parts) => parts.iter().for_each(&mut add_bound),
            f => add_bound(f),
        }
    }
    Ok(Property {
        inputs,
        outputs,
        input_asserts,
        output_asserts,
        bounds,
    })
}

type ParseFail = ((usize, usize), String);

fn read_sexp<'a>(tokens: &[Tok<'a>], pos: &mut usize, end: usize) -> Result<Sexp<'a>, ParseFail> {
    match &tokens[*pos] {
        Tok::Atom(a, at) => {
            *pos += 1;
            Ok(Sexp::Atom(a, *at))
        }
        Tok::Close(at) => Err(((*at, 1), "unbalanced `)`".into())),
        Tok::Open(start) => {
            *pos += 1;
            let mut items = Vec::new();
            loop {
                match tokens.get(*pos) {
                    None => {
                        return Err((
                            (*start, 1),
                            format!("`(` is never closed (the file ends at byte {end})"),
                        ))
                    }
                    Some(Tok::Close(at)) => {
                        *pos += 1;
                        return Ok(Sexp::List(items, *start, at + 1 - start));
                    }
                    Some(_) => items.push(read_sexp(tokens, pos, end)?),
                }
            }
        }
    }
}

fn parse_var(name: &str) -> Option<Var> {
    let index = |rest: &str| -> Option<usize> {
        (!rest.is_empty()
            && rest.bytes().all(|b| b.is_ascii_digit())
            && (rest == "0" || !rest.starts_with('0')))
        .then(|| rest.parse().ok())
        .flatten()
    };
    if let Some(rest) = name.strip_prefix("X_") {
        index(rest).map(Var::X)
    } else if let Some(rest) = name.strip_prefix("Y_") {
        index(rest).map(Var::Y)
    } else {
        None
    }
}

fn formula(s: &Sexp<'_>, inputs: usize, outputs: usize) -> Result<Formula, ParseFail> {
    let Sexp::List(items, ..) = s else {
        return Err((
            s.span(),
            "expected a formula `(and ...)`, `(or ...)` or `(OP A B)`".into(),
        ));
    };
    let Some(Sexp::Atom(head, _)) = items.first() else {
        return Err((
            s.span(),
            "expected a formula `(and ...)`, `(or ...)` or `(OP A B)`".into(),
        ));
    };
    let cmp = match *head {
        "and" | "or" => {
            let parts = items[1..]
                .iter()
                .map(|p| formula(p, inputs, outputs))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(if *head == "and" {
                Formula::And(parts)
            } else {
                Formula::Or(parts)
            });
        }
        "<=" => Cmp::Le,
        ">=" => Cmp::Ge,
        "<" => Cmp::Lt,
        ">" => Cmp::Gt,
        "=" => Cmp::Eq,
        other => {
            return Err((
                items[0].span(),
                format!("`{other}` is not supported (expected and, or, <=, >=, <, >, =)"),
            ))
        }
    };
    let [_, a, b] = &items[..] else {
        return Err((s.span(), "a comparison takes two operands".into()));
    };
    Ok(Formula::Atom(
        cmp,
        term(a, inputs, outputs)?,
        term(b, inputs, outputs)?,
    ))
}

fn term(s: &Sexp<'_>, inputs: usize, outputs: usize) -> Result<Term, ParseFail> {
    let Sexp::Atom(a, _) = s else {
        return Err((
            s.span(),
            "expected a variable or a number (arithmetic terms are not supported)".into(),
        ));
    };
    if let Some(v) = parse_var(a) {
        return match v {
            Var::X(i) if i < inputs => Ok(Term::Var(v)),
            Var::Y(j) if j < outputs => Ok(Term::Var(v)),
            _ => Err((s.span(), format!("`{a}` is not declared"))),
        };
    }
    match a.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Term::Num(x)),
        _ => Err((
            s.span(),
            format!("`{a}` is neither a declared variable nor a number"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "; comment\n(declare-const X_0 Real)\n(declare-const X_1 Real)\n\
        (declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(declare-const Y_2 Real)\n\
        (assert (>= X_0 -0.5))\n(assert (<= X_0 0.5))\n(assert (<= 0.25 X_1))\n(assert (<= X_1 1.0))\n\
        (assert (or\n    (and (>= Y_1 Y_0))\n    (and (>= Y_2 Y_0))\n))\n";

    fn point<'a>(values: &'a [f64], ys: &'a [f64]) -> impl Fn(&Term) -> (f64, f64) + 'a {
        move |t| match t {
            Term::Num(c) => (*c, *c),
            Term::Var(Var::X(i)) => (values[*i], values[*i]),
            Term::Var(Var::Y(j)) => (ys[*j], ys[*j]),
        }
    }

    #[test]
    fn reads_bounds_and_the_output_disjunction() {
        let p = parse_property("p.vnnlib", FILE).unwrap();
        assert_eq!((p.inputs, p.outputs), (2, 3));
        assert_eq!(p.bounds, vec![(-0.5, 0.5), (0.25, 1.0)]);
        assert_eq!(p.input_asserts.len(), 4);
        assert_eq!(p.output_asserts.len(), 1);
        let out = &p.output_asserts[0];
        // Y_0 wins: the negated property is false; a tie counts as violation.
        assert_eq!(out.eval(&point(&[0.0, 0.5], &[1.0, 0.0, 0.5])), Tri::False);
        assert_eq!(out.eval(&point(&[0.0, 0.5], &[1.0, 0.0, 1.0])), Tri::True);
        // Intervals that straddle: undecided.
        let wide = |t: &Term| match t {
            Term::Var(Var::Y(0)) => (0.9, 1.1),
            _ => (1.0, 1.0),
        };
        assert_eq!(out.eval(&wide), Tri::Unknown);
        let inside = p
            .input_asserts
            .iter()
            .all(|f| f.eval(&point(&[0.5, 0.25], &[])) == Tri::True);
        assert!(inside);
        let outside = p
            .input_asserts
            .iter()
            .any(|f| f.eval(&point(&[0.5000001, 0.25], &[])) == Tri::False);
        assert!(outside);
    }

    #[test]
    fn errors_name_the_place() {
        let bad = "(declare-const X_0 Real)\n(assert (>= X_1 0.0))\n";
        let e = parse_property("bad.vnnlib", bad).unwrap_err();
        assert_eq!(
            e.place().as_deref(),
            Some("bad.vnnlib:2:13"),
            "{}",
            e.render()
        );
        let unclosed = "(declare-const X_0 Real)\n(assert (>= X_0 0.0)\n";
        assert!(parse_property("u.vnnlib", unclosed).is_err());
        let arith =
            "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (>= (+ Y_0 X_0) 0.0))\n";
        assert!(parse_property("a.vnnlib", arith)
            .unwrap_err()
            .message()
            .contains("arithmetic"));
    }
}
