//! Text to [`crate::syntax::ast::File`]: runs the pest grammar, then lowers its parse tree
//! to the typed AST. Pest errors become [`SpecError`]s with a span and a
//! readable "expected ..." message; number literals that overflow to
//! infinity (`1e999`) are rejected here.

use super::ast::{
    Argument, Block, Call, DatasetBody, DatasetItem, Entry, File, Ident, Label, Point, Value,
    ValueKind,
};
use crate::diagnostics::{LineIndex, SpecError};
use miette::SourceSpan;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser as _;

/// The deepest nesting of calls a spec may have. The parser, the lowering
/// and the AST's drop all recurse once per level: 5,000 nested `f(` in a
/// 10 KB spec overflowed the stack (found by a hand-written probe while
/// triaging the fuzzing runs).
pub const MAX_NESTING: usize = 64;

/// The byte offset of the first `(` nested deeper than [`MAX_NESTING`],
/// outside strings and comments, if any.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Skip the string (a backslash escapes the next byte).
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !bytes[i..].starts_with(b"*/") {
                    i += 1;
                }
                i += 1;
            }
            b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The pest parser generated from `grammar/robmem.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/robmem.pest"]
pub struct RmemParser;

/// Parses a spec. `name` is the file name shown in diagnostics.
pub fn parse(name: &str, text: &str) -> Result<File, SpecError> {
    if let Some(at) = too_deep(text) {
        return Err(
            SpecError::new(format!("calls are nested more than {MAX_NESTING} deep"))
                .with_source(name, text)
                .with_label(SourceSpan::new(at.into(), 1), "too deep")
                .with_help(
                    "a spec nests calls only a few levels (`csv(...)`, `l(1.5)`, `random(m = 8)`)",
                ),
        );
    }
    // A valid spec parses without tracking attempts (pest's default; the
    // tracking costs a third of the parse time); an invalid one is parsed
    // again recording the tokens tried at the furthest position, for
    // "expected `->`". The switch is process-wide and only ever turned on,
    // so a parse on another thread never loses its detail.
    let mut pairs = match RmemParser::parse(Rule::file, text) {
        Ok(pairs) => pairs,
        Err(_) => {
            pest::set_error_detail(true);
            match RmemParser::parse(Rule::file, text) {
                Ok(pairs) => pairs,
                Err(e) => return Err(pest_error(name, text, e)),
            }
        }
    };
    let lower = Lower {
        name,
        text,
        lines: LineIndex::new(text),
    };
    lower.file(pairs.next().expect("the grammar yields one `file`"))
}

/// The children of `pair` without keyword tokens.
fn children<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner().filter(|p| {
        !matches!(
            p.as_rule(),
            Rule::kw_dataset | Rule::kw_network | Rule::kw_emit | Rule::kw_sweep | Rule::kw_of
        )
    })
}

fn span_of(pair: &Pair<'_, Rule>) -> SourceSpan {
    let s = pair.as_span();
    SourceSpan::new(s.start().into(), s.end() - s.start())
}

/// A readable name for a rule in "expected ..." messages.
fn rule_name(rule: &Rule) -> String {
    match rule {
        Rule::EOI => "end of file",
        Rule::ident => "a name",
        Rule::number => "a number",
        Rule::string => "a quoted string",
        Rule::dataset | Rule::kw_dataset => "`dataset`",
        Rule::network | Rule::kw_network => "`network`",
        Rule::emit | Rule::kw_emit => "`emit`",
        Rule::sweep | Rule::kw_sweep => "`sweep`",
        Rule::list => "a list `[v, ...]`",
        Rule::list_item => "a list element",
        Rule::kw_of => "`of`",
        Rule::inline_block => "`{`",
        Rule::point => "a point `[x, ...] -> label`",
        Rule::vector => "`[`",
        Rule::label => "a label",
        Rule::block => "`{`",
        Rule::entry => "`key = value`",
        Rule::call => "a call `name(...)`",
        Rule::argument | Rule::named_arg => "an argument",
        Rule::value => "a value",
        Rule::of_limit => "`F of limit`",
        _ => "something else",
    }
    .to_string()
}

fn pest_error(name: &str, text: &str, e: pest::error::Error<Rule>) -> SpecError {
    let (mut start, mut end) = match e.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, t)) => (s, t),
    };
    // Literal tokens tried further than the furthest rule (pest reports
    // rules only): `[0, 1] 1` should say "expected `->`" after the vector.
    let mut tokens: Vec<String> = Vec::new();
    if let Some(attempts) = e.parse_attempts() {
        if attempts.max_position > start {
            start = attempts.max_position;
            end = start;
        }
        if attempts.max_position == start {
            tokens = attempts
                .expected_tokens()
                .iter()
                .map(|t| t.to_string())
                // Character classes and the first characters of numbers,
                // names and strings are noise next to "a number", "a name".
                .filter(|t| !is_noise_token(t))
                .map(|t| format!("`{t}`"))
                .collect();
        }
    }
    // A number running into a letter or `_` (`0x10`, `1_000`, `2abc`): point
    // at the whole word, which starts at the number.
    let glued = start > 0
        && text[start..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && text[..start].ends_with(|c: char| c.is_ascii_digit() || c == '.');
    if glued {
        // The word starts after the last other character, which may be
        // several bytes long (a byte-order mark, a letter with an accent).
        let begin = text[..start]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word_end = start
            + text[start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(text.len() - start);
        let word = &text[begin..word_end];
        return SpecError::new(format!("syntax error: `{word}` is not a number"))
            .with_source(name, text)
            .with_label(
                SourceSpan::new(begin.into(), word_end - begin),
                "not a number",
            )
            .with_help(
                "numbers are decimal, such as 16, 1000, -0.5 or 1.5e3: no `0x` or `0b` prefix, \
                 no `_` between digits, no letters after them",
            );
    }
    // A keyword running into more letters (`datasett`, `0.5 off limit`)
    // fails inside the word, after the keyword: name the whole word.
    let word_start = text[..start]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_ascii_alphanumeric() || c == '_')
        .last()
        .map_or(start, |(i, _)| i);
    let message = match &e.variant {
        ErrorVariant::ParsingError {
            positives,
            negatives,
        } => {
            let mut expected: Vec<String> =
                if tokens.is_empty() || e.location == InputLocation::Pos(start) {
                    positives.iter().map(rule_name).collect()
                } else {
                    Vec::new()
                };
            expected.extend(tokens);
            expected.retain(|x| x != "something else");
            let mut seen = std::collections::HashSet::new();
            expected.retain(|x| seen.insert(x.clone()));
            let word: String = text[word_start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .collect();
            let found = if word.is_empty() {
                text[start..]
                    .chars()
                    .next()
                    .map_or("end of file".to_string(), |c| {
                        format!("`{}`", crate::diagnostics::visible(&c.to_string()))
                    })
            } else {
                format!("`{word}`")
            };
            if expected.is_empty() {
                let unexpected: Vec<String> = negatives.iter().map(rule_name).collect();
                if unexpected.is_empty() {
                    format!("syntax error: unexpected {found}")
                } else {
                    format!("syntax error: unexpected {}", unexpected.join(", "))
                }
            } else {
                format!(
                    "syntax error: expected {}, found {found}",
                    join_or(&expected)
                )
            }
        }
        ErrorVariant::CustomError { message } => format!("syntax error: {message}"),
    };
    // A misspelt keyword at the top level gets a "did you mean".
    let word: String = text[word_start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    // Only a word where an item may start, and not the key of a stray
    // `key = value` entry (`data = xor` after a closing brace).
    let before =
        text[..word_start].trim_end_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let at_item_start = before.is_empty() || before.ends_with('}');
    let is_entry = text[word_start + word.len()..]
        .trim_start()
        .starts_with('=');
    let keyword_hint = if word.is_empty() || !at_item_start || is_entry {
        None
    } else {
        crate::diagnostics::did_you_mean(&word, ["dataset", "network", "emit", "sweep"])
    };
    if let Some(k) = keyword_hint {
        return SpecError::new(message)
            .with_source(name, text)
            .with_label(
                SourceSpan::new(word_start.into(), word.len()),
                "unknown keyword",
            )
            .with_help(format!("did you mean `{k}`?"));
    }
    SpecError::new(message)
        .with_source(name, text)
        .with_label(SourceSpan::new(start.into(), end - start), "here")
        .with_help(
            "a spec is a list of `dataset NAME = source`, `dataset NAME { [x, y] -> label ... }`, \
             `network NAME { key = value ... }`, `emit NAME { key = value ... }` and \
             `sweep NAME { key = [value, ...] ... }`; \
             see specs/language.md",
        )
}

/// Character classes and the first characters of numbers, names and strings
/// are noise next to "a number" or "a name" in an "expected ..." list.
fn is_noise_token(t: &str) -> bool {
    // The byte-order mark is white space to the grammar, not to `trim`.
    t.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .is_empty()
        || (t.len() > 2 && t.contains(".."))
        || matches!(
            t,
            "\"" | "-" | "." | "_" | "e" | "E" | "+" | "//" | "/*" | "BUILTIN_RULE"
        )
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

struct Lower<'a> {
    name: &'a str,
    text: &'a str,
    /// Line starts, so that each point's line is found in logarithmic time
    /// (pest's `line_col` scans from the start: quadratic over N points).
    lines: LineIndex,
}

impl Lower<'_> {
    fn file(&self, pair: Pair<'_, Rule>) -> Result<File, SpecError> {
        let mut file = File::default();
        for item in pair.into_inner() {
            match item.as_rule() {
                Rule::dataset => file.datasets.push(self.dataset(item)?),
                Rule::network => file.networks.push(self.block(item)?),
                Rule::emit => file.emits.push(self.block(item)?),
                Rule::sweep => file.sweeps.push(self.block(item)?),
                Rule::EOI => {}
                other => unreachable!("unexpected {other:?} at top level"),
            }
        }
        Ok(file)
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: span_of(&pair),
        }
    }

    fn number(&self, pair: Pair<'_, Rule>) -> Result<f64, SpecError> {
        let x: f64 = pair
            .as_str()
            .parse()
            .expect("the grammar only accepts valid numbers");
        if x.is_finite() {
            Ok(x)
        } else {
            Err(SpecError::new(format!(
                "the number `{}` is too large to be represented",
                pair.as_str()
            ))
            .with_source(self.name, self.text)
            .with_label(span_of(&pair), "not a finite number")
            .with_help("numbers must be finite double-precision values (at most about 1.8e308)"))
        }
    }

    /// The text of a quoted string with its escapes (`\n`, `\t`, `\r`,
    /// `\0`, `\\`, `\"`) replaced; any other escape is an error at it.
    fn string(&self, pair: Pair<'_, Rule>) -> Result<String, SpecError> {
        let raw = pair.as_str();
        let base = pair.as_span().start() + 1;
        let inner = &raw[1..raw.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.char_indices();
        while let Some((_, c)) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, '0')) => out.push('\0'),
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '"')) => out.push('"'),
                    Some((at, other)) => {
                        let shown = crate::diagnostics::visible(&other.to_string());
                        return Err(SpecError::new(format!(
                            "unknown escape `\\{shown}` in a string"
                        ))
                        .with_source(self.name, self.text)
                        .with_label(
                            SourceSpan::new((base + at - 1).into(), 1 + other.len_utf8()),
                            "not an escape",
                        )
                        .with_help(
                            "the escapes are \\n, \\t, \\r, \\0, \\\\ and \\\"; \
                             write \\\\ for a backslash",
                        ));
                    }
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        Ok(out)
    }

    fn dataset(&self, pair: Pair<'_, Rule>) -> Result<DatasetItem, SpecError> {
        let span = span_of(&pair);
        let mut inner = children(pair);
        let name = self.ident(inner.next().expect("dataset name"));
        let body = inner.next().expect("dataset body");
        let body = match body.as_rule() {
            Rule::inline_block => {
                let block_span = span_of(&body);
                let points = body
                    .into_inner()
                    .map(|p| self.point(p))
                    .collect::<Result<_, _>>()?;
                DatasetBody::Inline {
                    points,
                    span: block_span,
                }
            }
            Rule::call => DatasetBody::Call(self.call(body)?),
            other => unreachable!("unexpected {other:?} in dataset"),
        };
        Ok(DatasetItem { name, body, span })
    }

    fn point(&self, pair: Pair<'_, Rule>) -> Result<Point, SpecError> {
        let span = span_of(&pair);
        let line = self.lines.line(pair.as_span().start());
        let mut inner = pair.into_inner();
        let vector = inner.next().expect("point vector");
        let vector_span = span_of(&vector);
        let coords = vector
            .into_inner()
            .map(|n| self.number(n))
            .collect::<Result<_, _>>()?;
        let label_pair = inner
            .next()
            .expect("point label")
            .into_inner()
            .next()
            .expect("label content");
        let label = match label_pair.as_rule() {
            Rule::number => Label::Number(self.number(label_pair)?),
            Rule::string => Label::Str(self.string(label_pair)?),
            Rule::ident => Label::Ident(label_pair.as_str().to_string()),
            other => unreachable!("unexpected {other:?} in label"),
        };
        Ok(Point {
            coords,
            vector_span,
            label,
            span,
            line,
        })
    }

    fn block(&self, pair: Pair<'_, Rule>) -> Result<Block, SpecError> {
        let span = span_of(&pair);
        let mut inner = children(pair);
        let name = self.ident(inner.next().expect("block name"));
        let entries = inner
            .next()
            .expect("block body")
            .into_inner()
            .map(|entry| {
                let mut kv = entry.into_inner();
                let key = self.ident(kv.next().expect("entry key"));
                let value = self.value(kv.next().expect("entry value"))?;
                Ok(Entry { key, value })
            })
            .collect::<Result<_, SpecError>>()?;
        Ok(Block {
            name,
            entries,
            span,
        })
    }

    fn call(&self, pair: Pair<'_, Rule>) -> Result<Call, SpecError> {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("call name"));
        let args = inner
            .map(|arg| {
                let a = arg.into_inner().next().expect("argument content");
                match a.as_rule() {
                    Rule::named_arg => {
                        let mut kv = a.into_inner();
                        let key = self.ident(kv.next().expect("argument name"));
                        let value = self.value(kv.next().expect("argument value"))?;
                        Ok(Argument {
                            key: Some(key),
                            value,
                        })
                    }
                    Rule::value => Ok(Argument {
                        key: None,
                        value: self.value(a)?,
                    }),
                    other => unreachable!("unexpected {other:?} in argument"),
                }
            })
            .collect::<Result<_, SpecError>>()?;
        Ok(Call { name, args, span })
    }

    /// A `value` or a `list_item` (the same alternatives but a list).
    fn value(&self, pair: Pair<'_, Rule>) -> Result<Value, SpecError> {
        let span = span_of(&pair);
        let v = pair.into_inner().next().expect("value content");
        let kind = match v.as_rule() {
            Rule::number => ValueKind::Number(self.number(v)?),
            Rule::string => ValueKind::Str(self.string(v)?),
            Rule::ident => ValueKind::Ident(v.as_str().to_string()),
            Rule::call => ValueKind::Call(self.call(v)?),
            Rule::list => ValueKind::List(
                v.into_inner()
                    .map(|item| self.value(item))
                    .collect::<Result<_, _>>()?,
            ),
            Rule::of_limit => {
                let mut inner = children(v);
                let factor = self.number(inner.next().expect("factor"))?;
                let word = self.ident(inner.next().expect("`limit`"));
                ValueKind::OfLimit { factor, word }
            }
            other => unreachable!("unexpected {other:?} in value"),
        };
        Ok(Value { kind, span })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_points_calls_and_blocks() {
        let f = parse(
            "t.rmem",
            "dataset a { [0, 1.5e1] -> x [-1, .5] -> \"y z\" }\n\
             dataset b = blobs(10, dim = 3)\n\
             network n { data = a norm = l(3) radius = 0.5 of limit }\n\
             emit n { onnx = \"o.onnx\" }",
        )
        .unwrap();
        let DatasetBody::Inline { points, .. } = &f.datasets[0].body else {
            panic!()
        };
        assert_eq!(points[0].coords, vec![0.0, 15.0]);
        assert_eq!(points[1].label, Label::Str("y z".into()));
        assert_eq!(points[0].label, Label::Ident("x".into()));
        let DatasetBody::Call(c) = &f.datasets[1].body else {
            panic!()
        };
        assert_eq!(c.args.len(), 2);
        assert!(c.args[0].key.is_none());
        assert_eq!(f.networks[0].entries.len(), 3);
        assert!(matches!(
            f.networks[0].entries[2].value.kind,
            ValueKind::OfLimit { factor: 0.5, .. }
        ));
        assert_eq!(f.emits.len(), 1);
    }

    #[test]
    fn lists_hold_any_value_but_a_list() {
        let f = parse(
            "t.rmem",
            "sweep n { width = [16, 32,]  radius = [max, 0.5 of limit]  norm = [l(3)]  x = [] }\n\
             emit n { domain = [0, 1] }",
        )
        .unwrap();
        let kinds: Vec<&ValueKind> = f.sweeps[0].entries.iter().map(|e| &e.value.kind).collect();
        let ValueKind::List(widths) = kinds[0] else {
            panic!("{kinds:?}")
        };
        assert_eq!(widths.len(), 2);
        assert_eq!(widths[1].kind, ValueKind::Number(32.0));
        let ValueKind::List(radii) = kinds[1] else {
            panic!("{kinds:?}")
        };
        assert!(matches!(
            radii[1].kind,
            ValueKind::OfLimit { factor: 0.5, .. }
        ));
        assert!(matches!(kinds[2], ValueKind::List(v) if matches!(v[0].kind, ValueKind::Call(_))));
        assert_eq!(kinds[3], &ValueKind::List(Vec::new()));
        assert!(matches!(&f.emits[0].entries[0].value.kind, ValueKind::List(v) if v.len() == 2));
        // Lists do not nest.
        let err = parse("t.rmem", "sweep n { width = [[16]] }").unwrap_err();
        assert!(err.message().contains("syntax error"), "{}", err.message());
    }

    #[test]
    fn keyword_prefixes_are_not_keywords() {
        // `offset` must not be read as `of fset`.
        let f = parse("t.rmem", "network n { seed = 7 offset = 1 }").unwrap();
        assert_eq!(f.networks[0].entries.len(), 2);
    }
}
