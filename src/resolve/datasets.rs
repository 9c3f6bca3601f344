//! Resolving `dataset` declarations into [`DatasetDecl`]s: inline points,
//! `csv(...)`, `npy(...)` and the generators of [`generators::SIGNATURES`].

use super::args::{self, bind};
use super::Context;
use crate::data::generators::{self, Generator};
use crate::data::{ColumnRef, DataSource, InlinePoint, LabelValue};
use crate::diagnostics::suggestion_help;
use crate::spec::{DatasetDecl, SourceSpans};
use crate::syntax::ast::{Call, DatasetBody, DatasetItem, Label, Point, ValueKind};
use std::collections::BTreeMap;

/// The names a data source call can have.
fn source_names() -> Vec<&'static str> {
    let mut names = vec!["csv", "npy"];
    names.extend(generators::SIGNATURES.iter().map(|s| s.name));
    names
}

/// Resolves every declaration; rejected ones are reported and left out
/// (a duplicate name keeps the first declaration).
pub(crate) fn resolve(cx: &mut Context<'_>, items: &[DatasetItem]) -> Vec<DatasetDecl> {
    let mut out: Vec<DatasetDecl> = Vec::new();
    let mut seen: Vec<&DatasetItem> = Vec::new();
    for item in items {
        if let Some(first) = seen.iter().find(|d| d.name.name == item.name.name) {
            cx.report_duplicate("data set", &item.name.name, first.name.span, item.name.span);
            continue;
        }
        seen.push(item);
        let resolved = match &item.body {
            DatasetBody::Inline { points, span } => inline(cx, item, points, *span),
            DatasetBody::Call(call) => call_source(cx, call),
        };
        if let Some((source, source_spans)) = resolved {
            out.push(DatasetDecl {
                name: item.name.name.clone(),
                span: item.name.span,
                source,
                source_spans,
            });
        } else {
            // Keep the name so networks using it do not get a second,
            // misleading "unknown data set" error: a placeholder that is never
            // returned (resolution fails as an error was reported).
            out.push(DatasetDecl {
                name: item.name.name.clone(),
                span: item.name.span,
                source: DataSource::Inline {
                    file: cx.path.clone(),
                    points: Vec::new(),
                },
                source_spans: SourceSpans {
                    whole: item.span,
                    paths: Vec::new(),
                    label: None,
                },
            });
        }
    }
    out
}

fn label_value(label: &Label) -> LabelValue {
    match label {
        Label::Number(x) => LabelValue::Number(*x),
        Label::Ident(s) | Label::Str(s) => LabelValue::Name(s.clone()),
    }
}

fn inline(
    cx: &mut Context<'_>,
    item: &DatasetItem,
    points: &[Point],
    span: miette::SourceSpan,
) -> Option<(DataSource, SourceSpans)> {
    let Some(first) = points.first() else {
        let err = cx
            .error(
                span,
                "no points here",
                format!("data set `{}` has no points", item.name.name),
            )
            .with_help("write one point per entry, for example `[0, 1] -> 1`");
        cx.report(err);
        return None;
    };
    let mut ok = true;
    if first.coords.is_empty() {
        let err = cx
            .error(
                first.vector_span,
                "no coordinates",
                "a point needs at least one coordinate",
            )
            .with_help("write the coordinates between the brackets, for example `[0, 1] -> 1`");
        cx.report(err);
        return None;
    }
    let dim = first.coords.len();
    for p in &points[1..] {
        if p.coords.len() != dim {
            let err = cx
                .error(
                    p.vector_span,
                    format!("this point has dimension {}", p.coords.len()),
                    format!(
                        "points of data set `{}` have different dimensions ({} and {})",
                        item.name.name,
                        dim,
                        p.coords.len()
                    ),
                )
                .with_label(
                    first.vector_span,
                    format!("the first point has dimension {dim}"),
                )
                .with_help(format!(
                    "every point of a data set needs the same number of coordinates \
                     (line {} has {dim}, line {} has {})",
                    first.line,
                    p.line,
                    p.coords.len()
                ));
            cx.report(err);
            ok = false;
        }
    }
    let number = points.iter().find(|p| matches!(p.label, Label::Number(_)));
    let name = points.iter().find(|p| !matches!(p.label, Label::Number(_)));
    if let (Some(n), Some(s)) = (number, name) {
        let (earlier, later) = if n.line <= s.line { (n, s) } else { (s, n) };
        let err = cx
            .error(
                later.span,
                "this label is of the other kind",
                format!(
                    "the labels of data set `{}` mix numbers and names",
                    item.name.name
                ),
            )
            .with_label(earlier.span, "this label is of one kind")
            .with_help(
                "use numbers for every label, or names (words or quoted strings) for every label",
            );
        cx.report(err);
        ok = false;
    }
    if !ok {
        return None;
    }
    let points = points
        .iter()
        .map(|p| InlinePoint {
            coords: p.coords.clone(),
            label: label_value(&p.label),
            line: p.line,
        })
        .collect();
    Some((
        DataSource::Inline {
            file: cx.path.clone(),
            points,
        },
        SourceSpans {
            whole: span,
            paths: Vec::new(),
            label: None,
        },
    ))
}

fn call_source(cx: &mut Context<'_>, call: &Call) -> Option<(DataSource, SourceSpans)> {
    match call.name.name.as_str() {
        "csv" => csv(cx, call),
        "npy" => npy(cx, call),
        name => match generators::SIGNATURES.iter().find(|s| s.name == name) {
            Some(sig) => generator(cx, call, sig),
            None => {
                let names = source_names();
                let err = cx
                    .error(
                        call.name.span,
                        "unknown data source",
                        format!("unknown data source `{name}`"),
                    )
                    .with_help(format!(
                        "{} (data sources: {})",
                        suggestion_help(name, names.iter().copied()),
                        names.join(", ")
                    ));
                cx.report(err);
                None
            }
        },
    }
}

fn missing(cx: &mut Context<'_>, call: &Call, param: &str, example: &str) {
    let err = cx
        .error(
            call.span,
            format!("`{param}` is missing"),
            format!("`{}` needs the argument `{param}`", call.name.name),
        )
        .with_help(format!("for example: {example}"));
    cx.report(err);
}

fn csv(cx: &mut Context<'_>, call: &Call) -> Option<(DataSource, SourceSpans)> {
    const EXAMPLE: &str = "csv(\"data/wine.csv\", label = \"target\")";
    let bound = bind(cx, call, &["path", "label", "header", "delimiter"])?;
    let path = match bound.get("path") {
        Some(v) => args::string(cx, v, "the CSV file's path").map(|p| (cx.data_path(p), v.span)),
        None => {
            missing(cx, call, "path", EXAMPLE);
            None
        }
    };
    let label = match bound.get("label") {
        Some(v) => {
            match &v.kind {
                ValueKind::Str(s) => Some((ColumnRef::Name(s.clone()), v.span)),
                ValueKind::Number(x) if args::is_count(*x) => {
                    Some((ColumnRef::Index(*x as usize), v.span))
                }
                _ => {
                    let err = cx
                    .error(v.span, "not a column", "`label` must be a column name (a quoted string) or a 0-based column index")
                    .with_help("for example label = \"target\" or label = 4");
                    cx.report(err);
                    None
                }
            }
        }
        None => {
            missing(cx, call, "label", EXAMPLE);
            None
        }
    };
    let header = match bound.get("header") {
        Some(v) => args::word(cx, v, "header flag", &["true", "false"]).map(|w| w == "true"),
        None => Some(true),
    };
    let delimiter = match bound.get("delimiter") {
        Some(v) => match args::string(cx, v, "the delimiter") {
            Some(s) if s.len() == 1 && !is_forbidden_delimiter(s.as_bytes()[0]) => {
                Some(s.as_bytes()[0])
            }
            Some(s) if s.len() == 1 => {
                let err = cx
                    .error(
                        v.span,
                        "cannot separate fields",
                        format!(
                            "the delimiter `{}` cannot separate CSV fields",
                            s.escape_default()
                        ),
                    )
                    .with_help(
                        "line breaks end rows, `\"` quotes fields, and digits, `.`, `-`, `+` \
                         are parts of numbers; use for example delimiter = \",\", \";\" or \"\\t\"",
                    );
                cx.report(err);
                None
            }
            Some(_) => {
                let err = cx
                    .error(
                        v.span,
                        "not one character",
                        "the delimiter must be a single ASCII character",
                    )
                    .with_help("for example delimiter = \";\" or delimiter = \"\\t\"");
                cx.report(err);
                None
            }
            None => None,
        },
        None => Some(b','),
    };
    let (Some((path, path_span)), Some((label, label_span)), Some(header), Some(delimiter)) =
        (path, label, header, delimiter)
    else {
        return None;
    };
    Some((
        DataSource::Csv {
            path,
            label,
            header,
            delimiter,
        },
        SourceSpans {
            whole: call.span,
            paths: vec![path_span],
            label: Some(label_span),
        },
    ))
}

/// Delimiters the CSV reader cannot split numeric fields on.
fn is_forbidden_delimiter(b: u8) -> bool {
    matches!(b, b'\n' | b'\r' | b'"' | b'.' | b'-' | b'+') || b.is_ascii_digit()
}

fn npy(cx: &mut Context<'_>, call: &Call) -> Option<(DataSource, SourceSpans)> {
    const EXAMPLE: &str = "npy(features = \"x.npy\", labels = \"y.npy\")";
    let bound = bind(cx, call, &["features", "labels"])?;
    let mut files = Vec::new();
    for param in ["features", "labels"] {
        match bound.get(param) {
            Some(v) => {
                if let Some(p) = args::string(cx, v, &format!("the {param} file's path")) {
                    files.push((cx.data_path(p), v.span));
                }
            }
            None => missing(cx, call, param, EXAMPLE),
        }
    }
    let [(features, fspan), (labels, lspan)] = <[_; 2]>::try_from(files).ok()?;
    Some((
        DataSource::Npy { features, labels },
        SourceSpans {
            whole: call.span,
            paths: vec![fspan, lspan],
            label: None,
        },
    ))
}

fn generator(
    cx: &mut Context<'_>,
    call: &Call,
    sig: &generators::Signature,
) -> Option<(DataSource, SourceSpans)> {
    let names: Vec<&'static str> = sig.parameters.iter().map(|p| p.name).collect();
    let bound = bind(cx, call, &names)?;
    let mut values: BTreeMap<&str, f64> = BTreeMap::new();
    let mut ok = true;
    for param in sig.parameters {
        let value = match bound.get(param.name) {
            Some(v) if param.integer => {
                args::count(cx, v, &format!("`{}`", param.name)).map(|n| n as f64)
            }
            Some(v) => args::number(cx, v, &format!("`{}`", param.name)),
            None => match param.default {
                Some(d) => Some(d),
                None => {
                    let example = format!(
                        "{}({})",
                        sig.name,
                        sig.parameters
                            .iter()
                            .filter(|p| p.default.is_none())
                            .map(|p| format!("{} = 10", p.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    missing(cx, call, param.name, &example);
                    None
                }
            },
        };
        match value {
            Some(x) => {
                values.insert(param.name, x);
            }
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    Some((
        DataSource::Generator(Generator::from_values(sig.name, &values)),
        SourceSpans {
            whole: call.span,
            paths: Vec::new(),
            label: None,
        },
    ))
}
