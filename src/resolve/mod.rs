//! From syntax to a resolved [`Program`]: names looked up, keys and values
//! checked, defaults filled in, data paths joined to the spec file's folder.
//!
//! Entry points:
//! - [`load_program`]: read, parse and resolve a spec file;
//! - [`resolve_text`]: the same for text already in memory;
//! - [`load_dataset`]: load one declared data set, turning a
//!   [`crate::data::DataError`] into a [`SpecError`] that points into the spec.
//!
//! The resolver reports every error it finds, not just the first: the
//! returned [`SpecError`] carries the others as related diagnostics.

mod args;
mod datasets;
mod load;
mod networks;
mod sweeps;

pub use load::{data_error, load_dataset};
pub use networks::{EMIT_KEYS, NETWORK_KEYS};
pub use sweeps::{sweep_keys, MAX_COMBINATIONS, POINTS_KEY};

/// The most errors one resolution reports; the others are only counted (a
/// 200 KB spec repeating one mistake gave 4,582 errors, each holding a copy
/// of the spec, and took seconds to print).
pub const MAX_ERRORS: usize = 100;

use crate::diagnostics::{display_name, Category, SpecError};
use crate::spec::Program;
use crate::syntax;
use miette::SourceSpan;
use std::path::{Path, PathBuf};

/// Reads, parses and resolves the spec file at `path`. A file that cannot be
/// read gives an error of category [`Category::Io`].
pub fn load_program(path: &Path) -> Result<Program, SpecError> {
    let bytes = std::fs::read(path).map_err(|e| {
        SpecError::new(format!("cannot read spec file {}: {e}", path.display()))
            .with_category(Category::Io)
            .with_help("check the path; spec files usually end in `.rmem`")
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return Err(invalid_utf8(path, e.as_bytes(), e.utf8_error())),
    };
    resolve_text(path, &text)
}

/// The error for a spec file that is not UTF-8 text, at the first bad byte.
fn invalid_utf8(path: &Path, bytes: &[u8], e: std::str::Utf8Error) -> SpecError {
    let at = e.valid_up_to();
    let shown = String::from_utf8_lossy(bytes).into_owned();
    let (line, column) = crate::diagnostics::LineIndex::new(&shown).line_col(&shown, at);
    SpecError::new(format!(
        "spec file {} is not UTF-8 text: invalid byte 0x{:02x} at line {line}, column {column}",
        path.display(),
        bytes[at]
    ))
    .with_source(display_name(path), shown)
    .with_label(SourceSpan::new(at.into(), '\u{fffd}'.len_utf8()), "not UTF-8")
    .with_category(Category::Io)
    .with_help("save the spec as UTF-8 text (the spec language itself is ASCII; names and strings may be UTF-8)")
}

/// Parses and resolves spec `text`, read from `path` (used for messages and
/// to resolve relative data paths; the file itself is not read).
pub fn resolve_text(path: &Path, text: &str) -> Result<Program, SpecError> {
    let name = display_name(path);
    let file = syntax::parse(&name, text)?;
    if file.datasets.is_empty()
        && file.networks.is_empty()
        && file.emits.is_empty()
        && file.sweeps.is_empty()
    {
        return Err(SpecError::new("the spec declares nothing")
            .with_source(&name, text)
            .with_label(SourceSpan::new(0.into(), 0), "empty spec")
            .with_help(
                "a spec declares data sets, networks and what to emit; see examples/xor.rmem and specs/language.md",
            ));
    }
    let mut cx = Context {
        name,
        text,
        path: path.to_path_buf(),
        dir: path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf),
        errors: Vec::new(),
        unreported: 0,
    };
    let datasets = datasets::resolve(&mut cx, &file.datasets);
    let networks = networks::resolve_networks(&mut cx, &file.networks, &datasets);
    let emits = networks::resolve_emits(&mut cx, &file.emits, &file.networks, &networks);
    let sweeps = sweeps::resolve(&mut cx, &file.sweeps, &file.networks, &networks, &datasets);
    if cx.unreported > 0 {
        let more = SpecError::new(format!(
            "{} more errors not shown (at most {MAX_ERRORS} are reported)",
            cx.unreported
        ))
        .with_help("fix the errors above and run again");
        cx.errors.push(more);
    }
    if let Some(err) = SpecError::combine(std::mem::take(&mut cx.errors)) {
        return Err(err);
    }
    Ok(Program {
        path: path.to_path_buf(),
        source: text.to_string(),
        datasets,
        networks,
        emits,
        sweeps,
    })
}

/// Shared state of one resolution: the spec's text and the errors so far.
pub(crate) struct Context<'a> {
    name: String,
    text: &'a str,
    path: PathBuf,
    dir: Option<PathBuf>,
    errors: Vec<SpecError>,
    /// Errors found past [`MAX_ERRORS`].
    unreported: usize,
}

impl Context<'_> {
    /// An error at `span` (not yet recorded). Once [`MAX_ERRORS`] are
    /// recorded, [`Context::report`] drops further errors, so they do not get
    /// a copy of the spec.
    fn error(
        &self,
        span: SourceSpan,
        label: impl Into<String>,
        message: impl Into<String>,
    ) -> SpecError {
        if self.errors.len() >= MAX_ERRORS {
            return SpecError::new(message);
        }
        SpecError::at(&self.name, self.text, span, label, message)
    }

    /// Reports a name declared twice (`what`: "data set", "network").
    fn report_duplicate(&mut self, what: &str, name: &str, first: SourceSpan, again: SourceSpan) {
        let err = self
            .error(
                again,
                "declared again here",
                format!("{what} `{name}` is declared twice"),
            )
            .with_label(first, "first declared here")
            .with_help(format!("give each {what} its own name"));
        self.report(err);
    }

    /// The text of the spec at `span`, as written.
    fn written(&self, span: SourceSpan) -> &str {
        let start = span.offset().min(self.text.len());
        let end = (start + span.len()).min(self.text.len());
        self.text.get(start..end).unwrap_or("")
    }

    /// How many errors were found so far (reported or only counted).
    fn error_count(&self) -> usize {
        self.errors.len() + self.unreported
    }

    /// Records an error, or counts it once [`MAX_ERRORS`] are recorded.
    fn report(&mut self, err: SpecError) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(err);
        } else {
            self.unreported += 1;
        }
    }

    /// A path from the spec, joined to the spec file's folder.
    fn data_path(&self, written: &str) -> PathBuf {
        match &self.dir {
            Some(dir) => dir.join(written),
            None => PathBuf::from(written),
        }
    }
}
