//! Diagnostics that point into a spec file: [`SpecError`].
//!
//! Every stage that can fail because of something the user wrote (parser,
//! resolver, checker, compiler) reports a [`SpecError`]: a message, the spec
//! file's text, a primary labelled span, optional secondary spans, a help hint
//! and a severity. It implements [`miette::Diagnostic`], so it renders with
//! `file:line:column` and an excerpt of the spec:
//!
//! ```
//! use robmem::diagnostics::SpecError;
//! let text = "network n { nrom = l2 }";
//! let err = SpecError::new("unknown key `nrom`")
//!     .with_source("n.rmem", text)
//!     .with_label((12, 4), "not a network key")
//!     .with_help("did you mean `norm`?");
//! let shown = err.render();
//! assert!(shown.contains("n.rmem:1:13"));
//! assert!(shown.contains("did you mean `norm`?"));
//! ```
//!
//! Later stages holding a resolved [`Program`] use [`Program::error_at`].

use crate::spec::Program;
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity,
    SourceCode, SourceSpan,
};
use std::fmt;
use std::path::Path;

/// What kind of failure a [`SpecError`] is, which decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// The spec is invalid, or a check on it failed (exit code 1).
    Spec,
    /// A file (the spec itself, or a data file) cannot be read (exit code 2).
    Io,
}

/// A diagnostic about a spec file. See the module documentation.
#[derive(Debug, Clone)]
pub struct SpecError {
    inner: Box<Inner>,
}

/// The contents of a [`SpecError`] (boxed: errors travel in `Result`s).
#[derive(Debug, Clone)]
struct Inner {
    message: String,
    severity: Severity,
    category: Category,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    related: Vec<SpecError>,
    kind: Option<&'static str>,
}

impl SpecError {
    /// An error at `span` of the source `name` (the spec's text), labelled.
    pub fn at(
        name: impl AsRef<str>,
        text: impl Into<String>,
        span: SourceSpan,
        label: impl Into<String>,
        message: impl Into<String>,
    ) -> SpecError {
        SpecError::new(message)
            .with_source(name, text)
            .with_label(span, label)
    }

    /// An error with a message and nothing else yet; add a source, labels
    /// and a help hint with the `with_*` methods.
    pub fn new(message: impl Into<String>) -> SpecError {
        SpecError {
            inner: Box::new(Inner {
                message: message.into(),
                severity: Severity::Error,
                category: Category::Spec,
                source: None,
                labels: Vec::new(),
                help: None,
                related: Vec::new(),
                kind: None,
            }),
        }
    }

    /// A warning (the run goes on; it is printed but does not change the exit code).
    pub fn warning(message: impl Into<String>) -> SpecError {
        let mut err = SpecError::new(message);
        err.inner.severity = Severity::Warning;
        err
    }

    /// Attaches the spec file (its name as shown in messages, and its text).
    ///
    /// A lone `\r` (old Mac line endings) is shown as a line break, as
    /// [`LineIndex`] counts it, so that the `file:line:column` header and the
    /// excerpt agree; byte offsets are unchanged.
    pub fn with_source(mut self, name: impl AsRef<str>, text: impl Into<String>) -> SpecError {
        let mut text: String = text.into();
        if text.contains('\r') {
            text = lone_cr_as_lf(&text);
        }
        self.inner.source = Some(NamedSource::new(name, text).with_language("robmem"));
        self
    }

    /// Adds a labelled span. The first label added is the primary one.
    pub fn with_label(
        mut self,
        span: impl Into<SourceSpan>,
        label: impl Into<String>,
    ) -> SpecError {
        let span = span.into();
        let labeled = if self.inner.labels.is_empty() {
            LabeledSpan::new_primary_with_span(Some(label.into()), span)
        } else {
            LabeledSpan::new_with_span(Some(label.into()), span)
        };
        self.inner.labels.push(labeled);
        self
    }

    /// Sets the help hint printed under the excerpt.
    pub fn with_help(mut self, help: impl Into<String>) -> SpecError {
        self.inner.help = Some(help.into());
        self
    }

    /// Sets the category (and so the exit code).
    pub fn with_category(mut self, category: Category) -> SpecError {
        self.inner.category = category;
        self
    }

    /// Sets the kind: a short stable word naming what failed (`radius`,
    /// `width`, `io`, ...), printed by `compile --json`.
    pub fn with_kind(mut self, kind: &'static str) -> SpecError {
        self.inner.kind = Some(kind);
        self
    }

    /// The kind set by [`SpecError::with_kind`], if any.
    pub fn kind(&self) -> Option<&'static str> {
        self.inner.kind
    }

    /// `file:line:column` of the primary label, when the error has a source
    /// and a label (the place the header of [`SpecError::render`] shows).
    pub fn place(&self) -> Option<String> {
        let source = self.inner.source.as_ref()?;
        let label = self.inner.labels.first()?;
        let text = source.inner().as_str();
        let (line, column) = LineIndex::new(text).line_col(text, label.offset());
        Some(format!("{}:{line}:{column}", source.name()))
    }

    /// Attaches further diagnostics reported together with this one.
    pub fn with_related(mut self, related: Vec<SpecError>) -> SpecError {
        self.inner.related.extend(related);
        self
    }

    /// Combines several errors into one (the first, with the others related),
    /// or `None` when the list is empty.
    pub fn combine(mut errors: Vec<SpecError>) -> Option<SpecError> {
        if errors.is_empty() {
            return None;
        }
        let first = errors.remove(0);
        Some(first.with_related(errors))
    }

    /// The one-line message.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The help hint, if any.
    pub fn help_text(&self) -> Option<&str> {
        self.inner.help.as_deref()
    }

    /// The category.
    pub fn category(&self) -> Category {
        self.inner.category
    }

    /// True for warnings.
    pub fn is_warning(&self) -> bool {
        self.inner.severity == Severity::Warning
    }

    /// The labelled spans, primary first.
    pub fn labels_list(&self) -> &[LabeledSpan] {
        &self.inner.labels
    }

    /// The related diagnostics.
    pub fn related_list(&self) -> &[SpecError] {
        &self.inner.related
    }

    /// The process exit code for this failure: 2 for unreadable files, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self.inner.category {
            Category::Spec => 1,
            Category::Io => 2,
        }
    }

    /// Renders the diagnostic as plain text (unicode, no colours), with
    /// `[file:line:column]` headers and an excerpt of the spec. Used by the
    /// command line and by tests.
    ///
    /// When a label sits on a line longer than [`MAX_EXCERPT_LINE`] bytes
    /// (miette cannot pad past column 65535, and such an excerpt is
    /// unreadable anyway) or outside the source, the whole diagnostic is
    /// rendered by [`SpecError::render_plain`] instead.
    pub fn render(&self) -> String {
        if self.needs_plain() {
            return self.render_plain();
        }
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_context_lines(1);
        let mut out = String::new();
        match handler.render_report(&mut out, self) {
            Ok(()) => out,
            Err(_) => self.render_plain(),
        }
    }

    /// True when this diagnostic or a related one has a label that miette
    /// should not render (see [`SpecError::render`]).
    fn needs_plain(&self) -> bool {
        let own = match &self.inner.source {
            Some(source) => {
                let text = source.inner().as_str();
                self.inner.labels.iter().any(|label| {
                    let start = label.offset();
                    let end = start.saturating_add(label.len());
                    [start, end].into_iter().any(|at| {
                        at > text.len()
                            || !text.is_char_boundary(at)
                            || line_range(text, at).len() > MAX_EXCERPT_LINE
                    })
                })
            }
            None => false,
        };
        own || self.inner.related.iter().any(SpecError::needs_plain)
    }

    /// Renders the diagnostic without an excerpt: the severity and message,
    /// then `--> file:line:column` and the label for each labelled span, the
    /// help, and the related diagnostics the same way.
    pub fn render_plain(&self) -> String {
        let mut out = String::new();
        self.write_plain(&mut out);
        out
    }

    fn write_plain(&self, out: &mut String) {
        use std::fmt::Write as _;
        let kind = if self.is_warning() {
            "warning"
        } else {
            "error"
        };
        let _ = writeln!(out, "{kind}: {}", self.inner.message);
        if let Some(source) = &self.inner.source {
            let text = source.inner().as_str();
            let index = LineIndex::new(text);
            for label in &self.inner.labels {
                let (line, column) = index.line_col(text, label.offset());
                let _ = write!(out, "  --> {}:{line}:{column}", source.name());
                match label.label() {
                    Some(l) => {
                        let _ = writeln!(out, ": {}", visible(l));
                    }
                    None => out.push('\n'),
                }
            }
        }
        if let Some(help) = &self.inner.help {
            let _ = writeln!(out, "  help: {help}");
        }
        for related in &self.inner.related {
            related.write_plain(out);
        }
    }
}

/// The longest line (in bytes) shown as an excerpt; a diagnostic with a
/// label on a longer line is rendered by [`SpecError::render_plain`].
pub const MAX_EXCERPT_LINE: usize = 4096;

/// The byte range of the line of `text` holding byte `at` (without its
/// line break). Only `\n` ends a line here ([`SpecError::with_source`] turns
/// lone `\r`s into `\n`s), so a line is never shorter than miette's.
fn line_range(text: &str, at: usize) -> std::ops::Range<usize> {
    let at = at.min(text.len());
    let bytes = text.as_bytes();
    let first = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let last = bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| at + i);
    first..last
}

/// `text` with every `\r` not followed by `\n` replaced by `\n` (same length).
fn lone_cr_as_lf(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if c == '\r' && bytes.get(i + 1) != Some(&b'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` with control characters (NUL, a byte-order mark, ...) shown as
/// escapes (`\u{0}`, `\u{feff}`) so that they are visible in messages.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || c == '\u{feff}' || c == '\u{200b}' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// The start of every line of a text, for line and column lookups in
/// logarithmic time (so that reporting the line of each of N points is not
/// quadratic). Lines end at `\n`, `\r\n` or a lone `\r`, as in the
/// excerpts miette prints.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the lines of `text` (one pass).
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts }
    }

    /// The 1-based line of byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }

    /// The 1-based line and column (in characters) of byte `offset` of
    /// `text`, the text this index was built from. Time: logarithmic in the
    /// number of lines plus the length of the line up to `offset`.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line(offset);
        let start = self.starts[line - 1];
        let column = text
            .as_bytes()
            .get(start..offset)
            .map_or(0, |b| b.iter().filter(|&&c| (c & 0xC0) != 0x80).count());
        (line, column + 1)
    }
}

/// Renders any diagnostic as plain text (unicode, no colours).
/// A diagnostic miette cannot render is shown by its message alone.
pub fn render_diagnostic(diagnostic: &dyn Diagnostic) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .with_context_lines(1);
    let mut out = String::new();
    match handler.render_report(&mut out, diagnostic) {
        Ok(()) => out,
        Err(_) => format!("error: {diagnostic}\n"),
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)
    }
}

impl std::error::Error for SpecError {}

impl Diagnostic for SpecError {
    fn severity(&self) -> Option<Severity> {
        Some(self.inner.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.inner.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.inner.source.is_none() || self.inner.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.inner.labels.iter().cloned()))
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.inner.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.inner.related.iter().map(|e| e as &dyn Diagnostic),
            ))
        }
    }
}

/// The longest word (in bytes) a "did you mean" hint is computed for: string
/// distances take time proportional to the product of the lengths, and a
/// name this long is no typo of a short one.
pub const MAX_SUGGEST_LEN: usize = 64;

/// The closest candidate to `word`, for a "did you mean" hint, or `None`
/// when nothing is close. Words and candidates longer than
/// [`MAX_SUGGEST_LEN`] are not compared (so the hint costs bounded time).
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    if word.len() > MAX_SUGGEST_LEN {
        return None;
    }
    candidates
        .into_iter()
        .filter(|c| c.len() <= MAX_SUGGEST_LEN)
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, c)| *score >= 0.75 || strsim::levenshtein(word, c) <= 2)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

/// A help text: "did you mean `x`?" when something is close, otherwise the
/// list of what is allowed.
pub fn suggestion_help<'a, I>(word: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    match did_you_mean(word, candidates.clone()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => {
            let all: Vec<String> = candidates.into_iter().map(|c| format!("`{c}`")).collect();
            if all.is_empty() {
                "nothing of that kind is declared".to_string()
            } else {
                format!("expected one of {}", all.join(", "))
            }
        }
    }
}

/// The name of a spec file as shown in messages.
pub fn display_name(path: &Path) -> String {
    path.display().to_string()
}

impl Program {
    /// An error pointing into this program's spec file at `span`, for stages
    /// after resolution (analysis, construction). Add a help hint with
    /// [`SpecError::with_help`].
    pub fn error_at(
        &self,
        span: SourceSpan,
        label: impl Into<String>,
        message: impl Into<String>,
    ) -> SpecError {
        SpecError::at(
            display_name(&self.path),
            self.source.clone(),
            span,
            label,
            message,
        )
    }

    /// A warning pointing into this program's spec file at `span`.
    pub fn warning_at(
        &self,
        span: SourceSpan,
        label: impl Into<String>,
        message: impl Into<String>,
    ) -> SpecError {
        SpecError::warning(message)
            .with_source(display_name(&self.path), self.source.clone())
            .with_label(span, label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_shows_file_line_and_column() {
        let text = "dataset a {\n  [0] -> 1\n}\nnetwork n { nrom = l2 }\n";
        let offset = text.find("nrom").unwrap();
        let err = SpecError::new("unknown key")
            .with_source("x.rmem", text)
            .with_label((offset, 4), "here")
            .with_help("did you mean `norm`?");
        let shown = err.render();
        assert!(shown.contains("x.rmem:4:13"), "{shown}");
        assert!(shown.contains("here"), "{shown}");
    }

    #[test]
    fn line_index_counts_lf_crlf_and_lone_cr() {
        let text = "ab\ncd\r\nef\rgh";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 0), (1, 1));
        assert_eq!(index.line_col(text, 4), (2, 2));
        assert_eq!(index.line_col(text, 7), (3, 1));
        assert_eq!(index.line_col(text, 10), (4, 1));
        assert_eq!(index.line_col(text, 999), (4, 3));
    }

    #[test]
    fn label_far_right_renders_plainly_and_out_of_range_does_not_panic() {
        let text = format!("{}x", " ".repeat(70_000));
        let err = SpecError::new("bad")
            .with_source("f.rmem", text.clone())
            .with_label((70_000, 1), "here");
        assert!(err.render().contains("f.rmem:1:70001: here"));
        let outside = SpecError::new("bad")
            .with_source("f.rmem", "ab")
            .with_label((10, 5), "past the end");
        assert!(outside.render().contains("f.rmem:1:3"));
        assert_eq!(visible("a\u{feff}\0b"), "a\\u{feff}\\u{0}b");
    }

    #[test]
    fn long_words_get_no_suggestion() {
        let long = "n".repeat(MAX_SUGGEST_LEN + 1);
        assert_eq!(did_you_mean(&long, ["norm"]), None);
    }

    #[test]
    fn suggestions_pick_the_closest_word() {
        assert_eq!(
            did_you_mean("nrom", ["norm", "data", "radius"]),
            Some("norm".into())
        );
        assert_eq!(did_you_mean("zzzzzz", ["norm", "data"]), None);
        assert!(suggestion_help("zzzzzz", ["a", "b"]).contains("`a`, `b`"));
    }
}
