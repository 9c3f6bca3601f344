//! Checking values and call arguments: binding positional and named
//! arguments to parameters, and reading numbers, integers, strings and words
//! with precise errors.

use super::Context;
use crate::diagnostics::suggestion_help;
use crate::syntax::ast::{Call, Value, ValueKind};
use std::collections::BTreeMap;

/// Binds the arguments of `call` to `params` (in positional order): the i-th
/// positional argument goes to the i-th parameter, named ones by name.
/// Unknown names, duplicates and surplus positional arguments are reported;
/// `None` when any argument was rejected.
pub(crate) fn bind<'c>(
    cx: &mut Context<'_>,
    call: &'c Call,
    params: &[&'static str],
) -> Option<BTreeMap<&'static str, &'c Value>> {
    let mut bound: BTreeMap<&'static str, &'c Value> = BTreeMap::new();
    let mut ok = true;
    let what = &call.name.name;
    for (position, arg) in call.args.iter().enumerate() {
        let param = match &arg.key {
            Some(key) => match params.iter().find(|p| **p == key.name) {
                Some(p) => *p,
                None => {
                    let err = cx
                        .error(
                            key.span,
                            "unknown argument",
                            format!("`{what}` has no argument `{}`", key.name),
                        )
                        .with_help(suggestion_help(&key.name, params.iter().copied()));
                    cx.report(err);
                    ok = false;
                    continue;
                }
            },
            None => match params.get(position) {
                Some(p) => *p,
                None => {
                    let err = cx
                        .error(
                            arg.value.span,
                            "surplus argument",
                            format!(
                                "`{what}` takes at most {} positional arguments",
                                params.len()
                            ),
                        )
                        .with_help(format!(
                            "its arguments, in order, are: {}",
                            params.join(", ")
                        ));
                    cx.report(err);
                    ok = false;
                    continue;
                }
            },
        };
        if let Some(previous) = bound.get(param) {
            let err = cx
                .error(
                    arg.value.span,
                    "given again here",
                    format!("argument `{param}` of `{what}` is given twice"),
                )
                .with_label(previous.span, "first given here")
                .with_help("remove one of them");
            cx.report(err);
            ok = false;
            continue;
        }
        bound.insert(param, &arg.value);
    }
    ok.then_some(bound)
}

/// A string value, or a reported error naming `what` is expected.
pub(crate) fn string<'v>(cx: &mut Context<'_>, value: &'v Value, what: &str) -> Option<&'v str> {
    match &value.kind {
        ValueKind::Str(s) => Some(s),
        other => {
            let err = cx
                .error(
                    value.span,
                    format!("{} here", other.describe()),
                    format!("expected {what} (a quoted string)"),
                )
                .with_help("write it in double quotes, for example \"data/points.csv\"");
            cx.report(err);
            None
        }
    }
}

/// A number value.
pub(crate) fn number(cx: &mut Context<'_>, value: &Value, what: &str) -> Option<f64> {
    match &value.kind {
        ValueKind::Number(x) => Some(*x),
        other => {
            let err = cx.error(
                value.span,
                format!("{} here", other.describe()),
                format!("expected {what} (a number)"),
            );
            cx.report(err);
            None
        }
    }
}

/// True when `x` is a non-negative integer small enough to be exact.
pub(crate) fn is_count(x: f64) -> bool {
    x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_992.0
}

/// A non-negative integer value, exact up to 2^53 (the message quotes the
/// number as written).
pub(crate) fn count(cx: &mut Context<'_>, value: &Value, what: &str) -> Option<u64> {
    let x = number(cx, value, what)?;
    if is_count(x) {
        Some(x as u64)
    } else {
        let written = cx.written(value.span).to_string();
        let help = if x.fract() == 0.0 && x > 0.0 {
            "integers here are exact only up to 2^53 = 9007199254740992".to_string()
        } else {
            "write a whole number such as 0, 7 or 2000".to_string()
        };
        let err = cx
            .error(
                value.span,
                "not a non-negative integer",
                format!("{what} must be a non-negative integer, found {written}"),
            )
            .with_help(help);
        cx.report(err);
        None
    }
}

/// A non-negative integer read exactly from its text, up to `u64::MAX`
/// (seeds): `9007199254740993` is that number, not the nearest double.
/// A value written with a fraction or an exponent must be an exact count
/// (see [`count`]).
pub(crate) fn exact_u64(cx: &mut Context<'_>, value: &Value, what: &str) -> Option<u64> {
    let written = cx.written(value.span).to_string();
    if !matches!(value.kind, ValueKind::Number(_))
        || written.is_empty()
        || !written.bytes().all(|b| b.is_ascii_digit())
    {
        return count(cx, value, what);
    }
    match written.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            let err = cx
                .error(
                    value.span,
                    "larger than 2^64 - 1",
                    format!("{what} must be at most 18446744073709551615, found {written}"),
                )
                .with_help("write a whole number from 0 to 18446744073709551615");
            cx.report(err);
            None
        }
    }
}

/// A bare word among `choices`, with a "did you mean" hint otherwise.
pub(crate) fn word<'v>(
    cx: &mut Context<'_>,
    value: &'v Value,
    what: &str,
    choices: &[&str],
) -> Option<&'v str> {
    let allowed = choices
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match &value.kind {
        ValueKind::Ident(w) if choices.contains(&w.as_str()) => Some(w),
        ValueKind::Ident(w) | ValueKind::Str(w) => {
            let err = cx
                .error(
                    value.span,
                    format!("not a valid {what}"),
                    format!("unknown {what} `{w}`"),
                )
                .with_help(format!(
                    "{} ({what} is one of {allowed})",
                    suggestion_help(w, choices.iter().copied())
                ));
            cx.report(err);
            None
        }
        other => {
            let err = cx
                .error(
                    value.span,
                    format!("{} here", other.describe()),
                    format!("expected a {what}"),
                )
                .with_help(format!("{what} is one of {allowed}"));
            cx.report(err);
            None
        }
    }
}
