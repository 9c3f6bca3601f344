//! The typed syntax tree of a spec file. Every node carries its byte span in
//! the spec text ([`SourceSpan`]) so that later phases can point at it.

use miette::SourceSpan;

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is.
    pub span: SourceSpan,
}

/// A whole spec file: its items in order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct File {
    /// `dataset` declarations.
    pub datasets: Vec<DatasetItem>,
    /// `network` blocks.
    pub networks: Vec<Block>,
    /// `emit` blocks.
    pub emits: Vec<Block>,
    /// `sweep` blocks.
    pub sweeps: Vec<Block>,
}

/// `dataset NAME { points }` or `dataset NAME = call(...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetItem {
    /// The data set's name.
    pub name: Ident,
    /// Its definition.
    pub body: DatasetBody,
    /// The whole declaration.
    pub span: SourceSpan,
}

/// What follows a data set's name.
#[derive(Clone, Debug, PartialEq)]
pub enum DatasetBody {
    /// `{ [x, y] -> label ... }`.
    Inline {
        /// The points in order.
        points: Vec<Point>,
        /// The braces and everything between them.
        span: SourceSpan,
    },
    /// `= csv(...)`, `= npy(...)`, `= blobs(...)`, ...
    Call(Call),
}

/// One inline point `[x, y, ...] -> label`.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Coordinates.
    pub coords: Vec<f64>,
    /// Span of the `[...]` vector.
    pub vector_span: SourceSpan,
    /// The label.
    pub label: Label,
    /// The whole point.
    pub span: SourceSpan,
    /// 1-based line of the point in the spec.
    pub line: usize,
}

/// A label as written.
#[derive(Clone, Debug, PartialEq)]
pub enum Label {
    /// `0`, `-1.5`.
    Number(f64),
    /// `cat`.
    Ident(String),
    /// `"red wine"`.
    Str(String),
}

/// `name(arg, key = value, ...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The function's name.
    pub name: Ident,
    /// Arguments in order.
    pub args: Vec<Argument>,
    /// The whole call.
    pub span: SourceSpan,
}

/// One argument of a call: positional (`key` is `None`) or named.
#[derive(Clone, Debug, PartialEq)]
pub struct Argument {
    /// `key =`, when named.
    pub key: Option<Ident>,
    /// The value.
    pub value: Value,
}

/// A `network NAME { ... }`, `emit NAME { ... }` or `sweep NAME { ... }` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The name after the keyword.
    pub name: Ident,
    /// `key = value` entries in order (duplicates are kept; the resolver rejects them).
    pub entries: Vec<Entry>,
    /// The whole block, keyword included.
    pub span: SourceSpan,
}

/// `key = value` in a block.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key.
    pub key: Ident,
    /// The value.
    pub value: Value,
}

/// A value with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// What it is.
    pub kind: ValueKind,
    /// Where it is.
    pub span: SourceSpan,
}

/// The kinds of value.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    /// A finite number (the parser rejects `1e999`).
    Number(f64),
    /// A quoted string, escapes resolved.
    Str(String),
    /// A bare word: `l2`, `auto`, `max`, `xor`.
    Ident(String),
    /// `l(3)`, `csv(...)`.
    Call(Call),
    /// `[v, v, ...]`: a list of values, none of them a list (a sweep's
    /// values; `domain = [0, 1]` is a list of two numbers). May be empty:
    /// the resolver reports that where it matters.
    List(Vec<Value>),
    /// `0.9 of limit`: the factor and the word after `of`.
    OfLimit {
        /// The factor.
        factor: f64,
        /// The word after `of` (the resolver requires `limit`).
        word: Ident,
    },
}

impl ValueKind {
    /// A short description for messages: "a number", "a string", ...
    pub fn describe(&self) -> &'static str {
        match self {
            ValueKind::Number(_) => "a number",
            ValueKind::Str(_) => "a string",
            ValueKind::Ident(_) => "a word",
            ValueKind::Call(_) => "a call",
            ValueKind::OfLimit { .. } => "a fraction of the limit",
            ValueKind::List(_) => "a list",
        }
    }
}
