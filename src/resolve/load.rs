//! Loading a declared data set, with [`DataError`]s turned into
//! [`SpecError`]s that point at the data set's source in the spec (the path
//! string, the label argument or the whole source) and keep the data file's
//! own line in the message.

use crate::data::{self, DataError, DataSource, Dataset};
use crate::diagnostics::{Category, SpecError};
use crate::spec::{DatasetDecl, Program};
use std::path::Path;

/// Loads data set `index` of `program` (see [`crate::data::load`]).
pub fn load_dataset(program: &Program, index: usize) -> Result<Dataset, SpecError> {
    let decl = &program.datasets[index];
    data::load(&decl.source).map_err(|e| data_error(program, decl, e))
}

/// The span of the path argument that names `path`, or the whole source.
fn path_span(decl: &DatasetDecl, path: &Path) -> miette::SourceSpan {
    let index = match &decl.source {
        DataSource::Csv { .. } => Some(0),
        DataSource::Npy { features, labels } => {
            if features == path {
                Some(0)
            } else if labels == path {
                Some(1)
            } else {
                None
            }
        }
        _ => None,
    };
    index
        .and_then(|i| decl.source_spans.paths.get(i).copied())
        .unwrap_or(decl.source_spans.whole)
}

/// Turns a loading error into a diagnostic at the data set's source.
pub fn data_error(program: &Program, decl: &DatasetDecl, e: DataError) -> SpecError {
    let whole = decl.source_spans.whole;
    let here = format!("while loading data set `{}`", decl.name);
    let message = e.to_string();
    match &e {
        DataError::Unreadable { path, .. } => program
            .error_at(path_span(decl, path), "cannot read this file", message)
            .with_category(Category::Io)
            .with_help(format!(
                "data paths are relative to the folder of the spec file ({}); it resolved to {}",
                program
                    .path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or(".".to_string(), |p| p.display().to_string()),
                path.display()
            )),
        DataError::CsvFieldCount {
            path,
            line,
            expected,
            found,
        } => program
            .error_at(whole, format!("{}:{line} is read here", path.display()), format!("{message} ({here})"))
            .with_help(format!(
                "every row of a CSV file needs the same number of fields: line {line} of {} has {found}, the first row has {expected}",
                path.display()
            )),
        DataError::CsvEmptyLabel { path, line, .. } => program
            .error_at(whole, format!("{}:{line} is read here", path.display()), format!("{message} ({here})"))
            .with_help("every row needs a label; remove the row or fill in its label"),
        DataError::CsvNotANumber { path, line, .. } => program
            .error_at(whole, format!("{}:{line} is read here", path.display()), format!("{message} ({here})"))
            .with_help("every column except the label column must hold numbers"),
        DataError::NoSuchColumn {
            suggestion,
            available,
            ..
        } => {
            let span = decl.source_spans.label.unwrap_or(whole);
            let help = match suggestion {
                Some(s) => format!("did you mean `{s}`? (columns: {available})"),
                None => format!("the columns are: {available}"),
            };
            program
                .error_at(span, "no such column", message)
                .with_help(help)
        }
        DataError::DuplicateColumn { .. } => {
            let span = decl.source_spans.label.unwrap_or(whole);
            program
                .error_at(span, "names several columns", message)
                .with_help("rename the columns in the header so that the label column's name is unique, or give the label as a 0-based column index")
        }
        DataError::BadNpy { path, .. } => program
            .error_at(path_span(decl, path), "unsupported array", message)
            .with_help("features must be a 2-D float32/float64 array, labels a 1-D integer array of the same length"),
        DataError::NonFinite { .. } | DataError::NonFiniteLabel { .. } => program
            .error_at(whole, here, message)
            .with_help("every coordinate and numeric label must be finite (no NaN or infinity)"),
        DataError::MixedLabels { .. } => program
            .error_at(whole, here, message)
            .with_help("use numbers for every label, or names for every label"),
        DataError::Empty | DataError::ZeroDimension | DataError::BadGenerator(_) => {
            program.error_at(whole, here, message)
        }
    }
}
