//! Resolving `sweep` blocks: each names a declared network and lists values
//! for some of its keys (and `points`, a subsample's size). Every listed
//! value is checked by the network block's own resolver
//! ([`super::networks::network`]) on the network's block with that one
//! entry replaced, so a bad value is reported at its list element with the
//! network block's message; then every combination is resolved the same
//! way, all of its entries replaced.

use super::args;
use super::networks::{network, NETWORK_KEYS};
use super::Context;
use crate::diagnostics::suggestion_help;
use crate::spec::{Combination, DatasetDecl, NetworkSpec, SweepAxis, SweepSpec, SweptValue};
use crate::syntax::ast::{Block, Entry, Ident, Value, ValueKind};

/// The key of a `sweep` block that is not a network key: a subsample's size.
pub const POINTS_KEY: &str = "points";

/// The keys of a `sweep` block: every network key ([`NETWORK_KEYS`]) and
/// [`POINTS_KEY`].
pub fn sweep_keys() -> impl Iterator<Item = &'static str> + Clone {
    NETWORK_KEYS.iter().copied().chain([POINTS_KEY])
}

/// The most combinations one sweep may have.
pub const MAX_COMBINATIONS: usize = 10_000;

/// One swept key as written: its name and its values (a single value is a
/// list of one).
struct WrittenAxis<'b> {
    key: &'b Ident,
    values: Vec<&'b Value>,
}

/// Resolves the `sweep` blocks against the declared network blocks
/// (`declared`) and those that resolved (`networks`).
pub(crate) fn resolve(
    cx: &mut Context<'_>,
    blocks: &[Block],
    declared: &[Block],
    networks: &[NetworkSpec],
    datasets: &[DatasetDecl],
) -> Vec<SweepSpec> {
    let mut out = Vec::new();
    let mut seen: Vec<&Block> = Vec::new();
    for block in blocks {
        if let Some(first) = seen.iter().find(|b| b.name.name == block.name.name) {
            cx.report_duplicate("sweep", &block.name.name, first.name.span, block.name.span);
            continue;
        }
        seen.push(block);
        let Some(base) = declared.iter().find(|b| b.name.name == block.name.name) else {
            let names = declared.iter().map(|b| b.name.name.as_str());
            let err = cx
                .error(
                    block.name.span,
                    "not a declared network",
                    format!("`sweep` names unknown network `{}`", block.name.name),
                )
                .with_help(suggestion_help(&block.name.name, names));
            cx.report(err);
            continue;
        };
        let axes = axes(cx, block);
        // A network that failed to resolve was reported already.
        let Some(index) = networks.iter().position(|n| n.name == block.name.name) else {
            continue;
        };
        let Some(axes) = axes else { continue };
        if let Some(sweep) = sweep(cx, block, base, index, &axes, datasets) {
            out.push(sweep);
        }
    }
    out
}

/// The block's swept keys, checked: known, given once, not empty.
fn axes<'b>(cx: &mut Context<'_>, block: &'b Block) -> Option<Vec<WrittenAxis<'b>>> {
    let before = cx.error_count();
    let mut axes: Vec<WrittenAxis<'b>> = Vec::new();
    for entry in &block.entries {
        let key = &entry.key;
        if !sweep_keys().any(|k| k == key.name) {
            let err = cx
                .error(
                    key.span,
                    "not a sweep key",
                    format!("unknown key `{}` in sweep `{}`", key.name, block.name.name),
                )
                .with_help(format!(
                    "{} (sweep keys: {})",
                    suggestion_help(&key.name, sweep_keys()),
                    sweep_keys().collect::<Vec<_>>().join(", ")
                ));
            cx.report(err);
            continue;
        }
        if let Some(first) = axes.iter().find(|a| a.key.name == key.name) {
            let err = cx
                .error(
                    key.span,
                    "given again here",
                    format!(
                        "key `{}` is given twice in sweep `{}`",
                        key.name, block.name.name
                    ),
                )
                .with_label(first.key.span, "first given here")
                .with_help("list every value of a key once: `width = [16, 32, 64]`");
            cx.report(err);
            continue;
        }
        let values: Vec<&Value> = match &entry.value.kind {
            ValueKind::List(items) => items.iter().collect(),
            _ => vec![&entry.value],
        };
        if values.is_empty() {
            let err = cx
                .error(
                    entry.value.span,
                    "an empty list",
                    format!(
                        "`{}` in sweep `{}` lists no value",
                        key.name, block.name.name
                    ),
                )
                .with_help(format!(
                    "list at least one value, e.g. `{} = [{}]`, or remove the key",
                    key.name,
                    example(&key.name)
                ));
            cx.report(err);
            continue;
        }
        axes.push(WrittenAxis { key, values });
    }
    (cx.error_count() == before).then_some(axes)
}

/// An example list for `key`, for hints.
fn example(key: &str) -> &'static str {
    match key {
        "width" | "depth" => "16, 32, 64",
        "projection" => "pca, random",
        "norm" => "l1, l2, linf",
        "radius" => "0.5 of limit, max",
        "construction" => "scores, distances",
        "seed" => "0, 1, 2",
        "output" => "logits, label",
        "precision" => "f32, f64",
        "points" => "100, 200, 400",
        _ => "NAME",
    }
}

/// Checks every value of every axis, then resolves every combination.
fn sweep(
    cx: &mut Context<'_>,
    block: &Block,
    base: &Block,
    index: usize,
    axes: &[WrittenAxis<'_>],
    datasets: &[DatasetDecl],
) -> Option<SweepSpec> {
    let before = cx.error_count();
    for axis in axes {
        for value in &axis.values {
            if axis.key.name == POINTS_KEY {
                points(cx, value);
            } else {
                // The network's own resolver, on its block with this value.
                network(cx, &replaced(base, &[(axis.key, value)]), datasets);
            }
        }
    }
    if cx.error_count() > before {
        return None;
    }
    let total = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
        .filter(|&n| n <= MAX_COMBINATIONS);
    let Some(total) = total else {
        let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
        let err = cx
            .error(
                block.name.span,
                "too many combinations",
                format!(
                    "sweep `{}` has {} combinations, more than {MAX_COMBINATIONS}",
                    block.name.name,
                    sizes.join(" x ")
                ),
            )
            .with_help("list fewer values, or split the sweep over several spec files");
        cx.report(err);
        return None;
    };
    let mut combinations = Vec::with_capacity(total);
    for k in 0..total {
        let values = digits(k, axes);
        let chosen: Vec<(&Ident, &Value)> = axes
            .iter()
            .zip(&values)
            .filter(|(a, _)| a.key.name != POINTS_KEY)
            .map(|(a, &v)| (a.key, a.values[v]))
            .collect();
        let spec = network(cx, &replaced(base, &chosen), datasets)?;
        let points = axes
            .iter()
            .zip(&values)
            .find(|(a, _)| a.key.name == POINTS_KEY)
            .and_then(|(a, &v)| points(cx, a.values[v]).map(|n| (n, a.values[v].span)));
        combinations.push(Combination {
            network: spec,
            points,
            values,
        });
    }
    Some(SweepSpec {
        name: block.name.name.clone(),
        span: block.name.span,
        network: index,
        axes: axes
            .iter()
            .map(|a| SweepAxis {
                key: a.key.name.clone(),
                values: a
                    .values
                    .iter()
                    .map(|v| SweptValue {
                        text: cx.written(v.span).to_string(),
                        number: match v.kind {
                            ValueKind::Number(x) => Some(x),
                            _ => None,
                        },
                        span: v.span,
                    })
                    .collect(),
            })
            .collect(),
        combinations,
    })
}

/// Combination `k`'s value index on each axis: the last axis varies fastest.
fn digits(mut k: usize, axes: &[WrittenAxis<'_>]) -> Vec<usize> {
    let mut values = vec![0; axes.len()];
    for (slot, axis) in values.iter_mut().zip(axes).rev() {
        *slot = k % axis.values.len();
        k /= axis.values.len();
    }
    values
}

/// `points = N`: a positive count.
fn points(cx: &mut Context<'_>, value: &Value) -> Option<usize> {
    let n = args::count(cx, value, "`points`")?;
    if n == 0 {
        let err = cx
            .error(value.span, "no points", "`points = 0` compiles no point")
            .with_help("a subsample needs at least one point, e.g. `points = [100, 200, 400]`");
        cx.report(err);
        return None;
    }
    usize::try_from(n).ok()
}

/// The network block `base` with the entries of `chosen` in place of its
/// own (added when it has none), each keyed by the sweep's key so that the
/// network resolver points at the sweep for a value it rejects.
fn replaced(base: &Block, chosen: &[(&Ident, &Value)]) -> Block {
    let mut entries: Vec<Entry> = base
        .entries
        .iter()
        .filter(|e| !chosen.iter().any(|(k, _)| k.name == e.key.name))
        .cloned()
        .collect();
    entries.extend(chosen.iter().map(|(key, value)| Entry {
        key: (*key).clone(),
        value: (*value).clone(),
    }));
    Block {
        name: base.name.clone(),
        entries,
        span: base.span,
    }
}
