//! Resolving `network` and `emit` blocks: keys checked against the
//! language's tables, values parsed, defaults filled in.

use super::args::{self, count, word};
use super::Context;
use crate::diagnostics::suggestion_help;
use crate::norm::Norm;
use crate::spec::{
    Budget, CondenseChoice, ConstructionChoice, DatasetDecl, EmitSpec, NetworkSpec, OutputKind,
    Precision, ProjectionChoice, RadiusSpec,
};
use crate::syntax::ast::{Block, Entry, Value, ValueKind};
use std::collections::BTreeMap;

/// The keys of a `network` block.
pub const NETWORK_KEYS: &[&str] = &[
    "data",
    "norm",
    "radius",
    "width",
    "depth",
    "output",
    "projection",
    "construction",
    "condense",
    "seed",
    "precision",
];

/// The keys of an `emit` block.
pub const EMIT_KEYS: &[&str] = &[
    "onnx",
    "certificate",
    "vnnlib",
    "unsafe",
    "sample",
    "seed",
    "total_timeout",
    "hard",
    "domain",
];

/// Checks a block's keys (unknown and duplicate keys are reported) and
/// returns its entries by key.
fn entries<'b>(
    cx: &mut Context<'_>,
    block: &'b Block,
    kind: &str,
    keys: &[&'static str],
) -> BTreeMap<&'static str, &'b Entry> {
    let mut out: BTreeMap<&'static str, &'b Entry> = BTreeMap::new();
    for entry in &block.entries {
        let Some(key) = keys.iter().find(|k| **k == entry.key.name) else {
            let err = cx
                .error(
                    entry.key.span,
                    format!(
                        "not a{} {kind} key",
                        if kind.starts_with('e') { "n" } else { "" }
                    ),
                    format!(
                        "unknown key `{}` in {kind} `{}`",
                        entry.key.name, block.name.name
                    ),
                )
                .with_help(format!(
                    "{} ({kind} keys: {})",
                    suggestion_help(&entry.key.name, keys.iter().copied()),
                    keys.join(", ")
                ));
            cx.report(err);
            continue;
        };
        if let Some(first) = out.get(key) {
            let err = cx
                .error(
                    entry.key.span,
                    "given again here",
                    format!("key `{key}` is given twice in {kind} `{}`", block.name.name),
                )
                .with_label(first.key.span, "first given here")
                .with_help("each key may appear once per block; remove one of them");
            cx.report(err);
            continue;
        }
        out.insert(key, entry);
    }
    out
}

/// Resolves the `network` blocks against the declared data sets.
pub(crate) fn resolve_networks(
    cx: &mut Context<'_>,
    blocks: &[Block],
    datasets: &[DatasetDecl],
) -> Vec<NetworkSpec> {
    let mut out: Vec<NetworkSpec> = Vec::new();
    let mut seen: Vec<&Block> = Vec::new();
    for block in blocks {
        if let Some(first) = seen.iter().find(|b| b.name.name == block.name.name) {
            cx.report_duplicate(
                "network",
                &block.name.name,
                first.name.span,
                block.name.span,
            );
            continue;
        }
        seen.push(block);
        if let Some(net) = network(cx, block, datasets) {
            out.push(net);
        }
    }
    out
}

/// Resolves one `network` block (its keys checked, defaults filled in).
pub(crate) fn network(
    cx: &mut Context<'_>,
    block: &Block,
    datasets: &[DatasetDecl],
) -> Option<NetworkSpec> {
    let map = entries(cx, block, "network", NETWORK_KEYS);
    let get = |k: &str| map.get(k).map(|e| &e.value);
    let names: Vec<&str> = datasets.iter().map(|d| d.name.as_str()).collect();

    let data = match get("data") {
        None => {
            let hint = if names.is_empty() {
                "declare a data set with `dataset NAME = ...` and add `data = NAME`".to_string()
            } else {
                format!(
                    "add `data = NAME` where NAME is one of: {}",
                    names.join(", ")
                )
            };
            let err = cx
                .error(
                    block.name.span,
                    "this network has no `data`",
                    format!(
                        "network `{}` does not say which data set to memorize",
                        block.name.name
                    ),
                )
                .with_help(hint);
            cx.report(err);
            None
        }
        Some(v) => match &v.kind {
            ValueKind::Ident(name) => match datasets.iter().position(|d| &d.name == name) {
                Some(i) => Some((i, v.span)),
                None => {
                    let err = cx
                        .error(
                            v.span,
                            "not a declared data set",
                            format!("unknown data set `{name}`"),
                        )
                        .with_help(suggestion_help(name, names.iter().copied()));
                    cx.report(err);
                    None
                }
            },
            other => {
                let err = cx
                    .error(
                        v.span,
                        format!("{} here", other.describe()),
                        "`data` must name a data set",
                    )
                    .with_help(format!("declared data sets: {}", names.join(", ")));
                cx.report(err);
                None
            }
        },
    };
    let norm = get("norm").map_or(Some(Norm::L2), |v| norm(cx, v));
    let (radius, radius_span) = match get("radius") {
        Some(v) => (radius(cx, v), v.span),
        None => (Some(RadiusSpec::Max), block.name.span),
    };
    let width = get("width").map_or(Some(Budget::Auto), |v| budget(cx, v, "width"));
    let depth = get("depth").map_or(Some(Budget::Auto), |v| budget(cx, v, "depth"));
    let output = match get("output") {
        None => Some(OutputKind::Logits),
        Some(v) => word(cx, v, "output", &["logits", "label"]).map(|w| match w {
            "logits" => OutputKind::Logits,
            _ => OutputKind::Label,
        }),
    };
    let projection = match get("projection") {
        None => Some(ProjectionChoice::Auto),
        Some(v) => word(
            cx,
            v,
            "projection",
            &["auto", "identity", "span", "random", "pca"],
        )
        .map(|w| match w {
            "identity" => ProjectionChoice::Identity,
            "span" => ProjectionChoice::Span,
            "random" => ProjectionChoice::Random,
            "pca" => ProjectionChoice::Pca,
            _ => ProjectionChoice::Auto,
        }),
    };
    let (construction, construction_span) = match get("construction") {
        None => (Some(ConstructionChoice::Auto), block.name.span),
        Some(v) => (
            word(cx, v, "construction", &["auto", "scores", "distances"]).map(|w| match w {
                "scores" => ConstructionChoice::Scores,
                "distances" => ConstructionChoice::Distances,
                _ => ConstructionChoice::Auto,
            }),
            v.span,
        ),
    };
    let condense = match get("condense") {
        None => Some(CondenseChoice::Auto),
        Some(v) => word(cx, v, "condense", &["auto", "none"]).map(|w| match w {
            "none" => CondenseChoice::None,
            _ => CondenseChoice::Auto,
        }),
    };
    let seed = get("seed").map_or(Some(0), |v| args::exact_u64(cx, v, "the seed"));
    let precision = match get("precision") {
        None => Some(Precision::F32),
        Some(v) => word(cx, v, "precision", &["f32", "f64"]).map(|w| match w {
            "f64" => Precision::F64,
            _ => Precision::F32,
        }),
    };
    let (data, data_span) = data?;
    Some(NetworkSpec {
        name: block.name.name.clone(),
        span: block.name.span,
        data,
        data_span,
        norm: norm?,
        radius: radius?,
        radius_span,
        width: width?,
        depth: depth?,
        output: output?,
        projection: projection?,
        construction: construction?,
        construction_span,
        condense: condense?,
        seed: seed?,
        precision: precision?,
    })
}

const NORM_HELP: &str = "a norm is `l1`, `l2`, `linf`, or `l(p)` for a real p >= 1 (also `l(inf)`)";

fn norm(cx: &mut Context<'_>, v: &Value) -> Option<Norm> {
    match &v.kind {
        ValueKind::Ident(w) => match w.as_str() {
            "l1" => Some(Norm::L1),
            "l2" => Some(Norm::L2),
            "linf" => Some(Norm::Linf),
            other => {
                // Suggest only what is accepted: `l(p)` for a finite p >= 1,
                // `linf` for `linfinity` and the like.
                let p = other
                    .strip_prefix('l')
                    .and_then(|rest| rest.parse::<f64>().ok().map(|p| (rest, p)));
                let help = match p {
                    Some((_, p)) if p.is_infinite() && p > 0.0 => {
                        format!("did you mean `linf`? ({NORM_HELP})")
                    }
                    Some((p, value)) if value.is_finite() && value >= 1.0 => {
                        format!("did you mean `l({p})`? ({NORM_HELP})")
                    }
                    _ => format!(
                        "{} ({NORM_HELP})",
                        suggestion_help(other, ["l1", "l2", "linf"])
                    ),
                };
                let err = cx
                    .error(v.span, "not a norm", format!("unknown norm `{other}`"))
                    .with_help(help);
                cx.report(err);
                None
            }
        },
        ValueKind::Call(call)
            if call.name.name == "l" && call.args.len() == 1 && call.args[0].key.is_none() =>
        {
            let arg = &call.args[0].value;
            let p = match &arg.kind {
                ValueKind::Number(p) => *p,
                ValueKind::Ident(w) if w == "inf" => f64::INFINITY,
                _ => {
                    let err = cx
                        .error(
                            arg.span,
                            "not an exponent",
                            "the exponent of `l(p)` must be a number or `inf`",
                        )
                        .with_help(NORM_HELP);
                    cx.report(err);
                    return None;
                }
            };
            match Norm::from_p(p) {
                Some(n) => Some(n),
                None => {
                    let err = cx
                        .error(arg.span, "p < 1", format!("l(p) is a norm only for p >= 1, found p = {p}"))
                        .with_help("for p < 1 the triangle inequality fails; use p >= 1, e.g. l(1) or l(1.5)");
                    cx.report(err);
                    None
                }
            }
        }
        _ => {
            let err = cx
                .error(v.span, "not a norm", "expected a norm")
                .with_help(NORM_HELP);
            cx.report(err);
            None
        }
    }
}

const RADIUS_HELP: &str =
    "the radius is `max`, a positive number such as 0.35, or `F of limit` with 0 < F < 1 (e.g. `0.9 of limit`)";

fn radius(cx: &mut Context<'_>, v: &Value) -> Option<RadiusSpec> {
    match &v.kind {
        ValueKind::Ident(w) if w == "max" => Some(RadiusSpec::Max),
        ValueKind::Number(r) if *r > 0.0 => Some(RadiusSpec::Absolute(*r)),
        ValueKind::Number(r) => {
            let err = cx
                .error(
                    v.span,
                    "not positive",
                    format!("the radius must be positive, found {r}"),
                )
                .with_help(RADIUS_HELP);
            cx.report(err);
            None
        }
        ValueKind::OfLimit { factor, word } => {
            if word.name != "limit" {
                let err = cx
                    .error(
                        word.span,
                        "expected `limit`",
                        format!("unknown word `{}` after `of`", word.name),
                    )
                    .with_help(RADIUS_HELP);
                cx.report(err);
                None
            } else if *factor <= 0.0 {
                let err = cx
                    .error(
                        v.span,
                        "not positive",
                        format!("the radius must be positive, found {factor} of limit"),
                    )
                    .with_help(RADIUS_HELP);
                cx.report(err);
                None
            } else {
                Some(RadiusSpec::OfLimit(*factor))
            }
        }
        ValueKind::Ident(w) => {
            let err = cx
                .error(v.span, "not a radius", format!("unknown radius `{w}`"))
                .with_help(format!("{} ({RADIUS_HELP})", suggestion_help(w, ["max"])));
            cx.report(err);
            None
        }
        other => {
            let err = cx
                .error(
                    v.span,
                    format!("{} here", other.describe()),
                    "expected a radius",
                )
                .with_help(RADIUS_HELP);
            cx.report(err);
            None
        }
    }
}

fn budget(cx: &mut Context<'_>, v: &Value, what: &str) -> Option<Budget> {
    match &v.kind {
        ValueKind::Ident(w) if w == "auto" => Some(Budget::Auto),
        ValueKind::Number(x) if args::is_count(*x) && *x >= 1.0 => {
            Some(Budget::AtMost(*x as usize))
        }
        ValueKind::Ident(w) => {
            let err = cx
                .error(
                    v.span,
                    format!("not a {what}"),
                    format!("unknown {what} `{w}`"),
                )
                .with_help(format!(
                    "{} (the {what} is `auto` or a positive integer)",
                    suggestion_help(w, ["auto"])
                ));
            cx.report(err);
            None
        }
        _ => {
            let err = cx
                .error(
                    v.span,
                    format!("not a {what}"),
                    format!("the {what} must be `auto` or a positive integer"),
                )
                .with_help(format!("for example {what} = auto or {what} = 16"));
            cx.report(err);
            None
        }
    }
}

/// Resolves the `emit` blocks against the resolved networks.
pub(crate) fn resolve_emits(
    cx: &mut Context<'_>,
    blocks: &[Block],
    declared: &[Block],
    networks: &[NetworkSpec],
) -> Vec<EmitSpec> {
    let names: Vec<&str> = declared.iter().map(|n| n.name.name.as_str()).collect();
    let mut out = Vec::new();
    for block in blocks {
        let map = entries(cx, block, "emit", EMIT_KEYS);
        let network = networks.iter().position(|n| n.name == block.name.name);
        // A declared network that failed to resolve was already reported.
        if network.is_none() && !names.contains(&block.name.name.as_str()) {
            let err = cx
                .error(
                    block.name.span,
                    "not a declared network",
                    format!("`emit` names unknown network `{}`", block.name.name),
                )
                .with_help(suggestion_help(&block.name.name, names.iter().copied()));
            cx.report(err);
        }
        let mut path = |key: &str| -> Option<Option<std::path::PathBuf>> {
            match map.get(key) {
                None => Some(None),
                Some(e) => args::string(cx, &e.value, &format!("the {key} output path"))
                    .map(|p| Some(cx.data_path(p))),
            }
        };
        let onnx = path("onnx");
        let certificate = path("certificate");
        let vnnlib = path("vnnlib");
        // The instance keys: each a count, each needs `vnnlib` in the block.
        let mut suite_count = |key: &str, what: &str| -> Option<Option<u64>> {
            match map.get(key) {
                None => Some(None),
                Some(e) => {
                    let n = if key == "seed" {
                        args::exact_u64(cx, &e.value, what)
                    } else {
                        count(cx, &e.value, what)
                    };
                    if n.is_some() && !map.contains_key("vnnlib") {
                        // Instances are written only into a VNN-LIB folder.
                        let err = cx
                            .error(
                                e.key.span,
                                "without `vnnlib`",
                                format!(
                                    "`{key}` in the emit block of `{}` has no effect without `vnnlib`",
                                    block.name.name
                                ),
                            )
                            .with_help(format!(
                                "add `vnnlib = \"out/NAME-vnnlib\"` to write the instances, or remove `{key}`"
                            ));
                        cx.report(err);
                        None
                    } else {
                        n.map(Some)
                    }
                }
            }
        };
        let unsafe_instances = suite_count("unsafe", "`unsafe`");
        let sample = suite_count("sample", "`sample`");
        let seed = suite_count("seed", "`seed`");
        let total_timeout = suite_count("total_timeout", "`total_timeout`");
        let hard = suite_count("hard", "`hard`");
        let domain = match map.get("domain") {
            None => Some(None),
            Some(e) => match interval(&e.value) {
                Some((lo, hi)) if lo < hi && map.contains_key("vnnlib") => {
                    Some(Some(((lo, hi), e.value.span)))
                }
                Some((lo, hi)) if lo < hi => {
                    let err = cx
                        .error(
                            e.key.span,
                            "without `vnnlib`",
                            format!(
                                "`domain` in the emit block of `{}` has no effect without `vnnlib`",
                                block.name.name
                            ),
                        )
                        .with_help(
                            "add `vnnlib = \"out/NAME-vnnlib\"` to write the instances, or remove `domain`",
                        );
                    cx.report(err);
                    None
                }
                Some((lo, hi)) => {
                    let err = cx
                        .error(
                            e.value.span,
                            "an empty interval",
                            format!("the domain [{lo}, {hi}] is empty: its low end must be below its high end"),
                        )
                        .with_help("for example domain = [0, 1] (pixels)");
                    cx.report(err);
                    None
                }
                None => {
                    let found = match &e.value.kind {
                        ValueKind::List(items) => format!("a list of {} values", items.len()),
                        other => other.describe().to_string(),
                    };
                    let err = cx
                        .error(
                            e.value.span,
                            format!("{found} here"),
                            "the domain must be an interval [lo, hi]",
                        )
                        .with_help("for example domain = [0, 1]: every coordinate between 0 and 1 (two numbers)");
                    cx.report(err);
                    None
                }
            },
        };
        if let (Some(Some(0)), Some(e)) = (&sample, map.get("sample")) {
            let err = cx
                .error(
                    e.value.span,
                    "an empty sample",
                    "`sample = 0` writes no instance",
                )
                .with_help("sample at least one instance, or remove `sample` to write them all");
            cx.report(err);
        }
        if let (
            Some(network),
            Some(onnx),
            Some(certificate),
            Some(vnnlib),
            Some(unsafe_instances),
            Some(sample),
            Some(seed),
            Some(total_timeout),
            Some(hard),
            Some(domain),
        ) = (
            network,
            onnx,
            certificate,
            vnnlib,
            unsafe_instances,
            sample,
            seed,
            total_timeout,
            hard,
            domain,
        ) {
            out.push(EmitSpec {
                network,
                span: block.span,
                onnx,
                certificate,
                vnnlib,
                unsafe_instances: unsafe_instances.map(|n| n as usize),
                sample: sample.map(|n| n as usize),
                seed: seed.unwrap_or(0),
                total_timeout,
                hard: hard.unwrap_or(0) as usize,
                domain,
            });
        }
    }
    out
}

/// The two ends of an interval `[lo, hi]`: a list of exactly two numbers.
fn interval(value: &Value) -> Option<(f64, f64)> {
    match &value.kind {
        ValueKind::List(items) => match items.as_slice() {
            [Value {
                kind: ValueKind::Number(lo),
                ..
            }, Value {
                kind: ValueKind::Number(hi),
                ..
            }] => Some((*lo, *hi)),
            _ => None,
        },
        _ => None,
    }
}
