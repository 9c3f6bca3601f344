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
    pub fn with_source(mut self, name: impl AsRef<str>, text: impl Into<String>) -> SpecError {
        self.inner.source = Some(NamedSource::new(name, text.into()).with_language("robmem"));
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
    pub fn render(&self) -> String {
        render_diagnostic(self)
    }
}

/// Renders any diagnostic as plain text (unicode, no colours).
pub fn render_diagnostic(diagnostic: &dyn Diagnostic) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .with_context_lines(1);
    let mut out = String::new();
    handler
        .render_report(&mut out, diagnostic)
        .expect("rendering to a String cannot fail");
    out
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

/// The closest candidate to `word`, for a "did you mean" hint, or `None`
/// when nothing is close.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    candidates
        .into_iter()
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
    fn suggestions_pick_the_closest_word() {
        assert_eq!(
            did_you_mean("nrom", ["norm", "data", "radius"]),
            Some("norm".into())
        );
        assert_eq!(did_you_mean("zzzzzz", ["norm", "data"]), None);
        assert!(suggestion_help("zzzzzz", ["a", "b"]).contains("`a`, `b`"));
    }
}
