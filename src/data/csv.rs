//! CSV data sources: one point per row, the label in one column, every other
//! column a coordinate.
//!
//! Fields are trimmed, empty or whitespace-only lines are skipped, and every
//! row must have as many fields as the first row (the header when there is
//! one).

use super::{ColumnRef, DataError, Dataset, LabelValue, Provenance};
use ndarray::Array2;
use std::path::Path;

/// Loads a CSV file: one point per row, the label in column `label`.
///
/// A label field that parses as a number becomes [`LabelValue::Number`],
/// anything else [`LabelValue::Name`] (a column mixing both is rejected by
/// [`Dataset::from_raw`]). Feature fields must parse as `f64`.
///
/// Errors: [`DataError::Unreadable`] (missing file, I/O or UTF-8 problem),
/// [`DataError::NoSuchColumn`] (label column out of range, unknown name, or a
/// name without a header), [`DataError::CsvFieldCount`],
/// [`DataError::CsvNotANumber`], and the errors of [`Dataset::from_raw`].
pub fn load(
    path: &Path,
    label: &ColumnRef,
    header: bool,
    delimiter: u8,
) -> Result<Dataset, DataError> {
    let unreadable = |reason: String| DataError::Unreadable {
        path: path.to_path_buf(),
        reason,
    };
    let mut bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    // A UTF-8 byte-order mark is not part of the first column's name.
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    // The `csv` crate's line counter skips blank lines; count them from the
    // record's byte offset instead.
    let line_starts: Vec<usize> = std::iter::once(0).chain(memchr_lines(&bytes)).collect();
    // A record's offset may point at blank lines before it: skip whitespace.
    let line_of = |byte: usize| {
        let first = bytes[byte.min(bytes.len())..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(bytes.len(), |k| byte + k);
        line_starts.partition_point(|&start| start <= first)
    };
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .trim(::csv::Trim::All)
        .from_reader(bytes.as_slice());

    let mut records = reader.records();
    let mut next_row = || -> Result<Option<(usize, ::csv::StringRecord)>, DataError> {
        for result in records.by_ref() {
            let record = result.map_err(|e| {
                let line = match e.kind() {
                    ::csv::ErrorKind::Utf8 { pos: Some(pos), .. } => {
                        Some(line_of(pos.byte() as usize))
                    }
                    _ => e.position().map(|p| line_of(p.byte() as usize)),
                };
                unreadable(csv_reason(&e, line))
            })?;
            if record.len() == 1 && record[0].is_empty() {
                continue;
            }
            let line = record.position().map_or(0, |p| line_of(p.byte() as usize));
            return Ok(Some((line, record)));
        }
        Ok(None)
    };

    let names: Option<Vec<String>> = if header {
        match next_row()? {
            Some((_, record)) => Some(record.iter().map(str::to_string).collect()),
            None => return Err(DataError::Empty),
        }
    } else {
        None
    };
    let mut pending = None;
    let expected = match &names {
        Some(names) => names.len(),
        None => match next_row()? {
            Some((line, record)) => {
                let n = record.len();
                pending = Some((line, record));
                n
            }
            None => return Err(DataError::Empty),
        },
    };
    let label_column = resolve_column(path, label, names.as_deref(), expected)?;
    let header_of = |column: usize| match &names {
        Some(names) if !names[column].is_empty() => names[column].clone(),
        _ => format!("column {column}"),
    };

    let dim = expected - 1;
    let mut values: Vec<f64> = Vec::new();
    let mut labels: Vec<LabelValue> = Vec::new();
    let mut lines: Vec<usize> = Vec::new();
    while let Some((line, record)) = match pending.take() {
        Some(row) => Some(row),
        None => next_row()?,
    } {
        if record.len() != expected {
            return Err(DataError::CsvFieldCount {
                path: path.to_path_buf(),
                line,
                expected,
                found: record.len(),
            });
        }
        for (column, field) in record.iter().enumerate() {
            if column == label_column {
                if field.is_empty() {
                    return Err(DataError::CsvEmptyLabel {
                        path: path.to_path_buf(),
                        line,
                        column,
                    });
                }
                labels.push(parse_label(field));
            } else {
                let x = field.parse::<f64>().map_err(|_| DataError::CsvNotANumber {
                    path: path.to_path_buf(),
                    line,
                    column,
                    header: header_of(column),
                    value: field.to_string(),
                })?;
                values.push(x);
            }
        }
        lines.push(line);
    }
    if labels.is_empty() {
        return Err(DataError::Empty);
    }
    let points = Array2::from_shape_vec((labels.len(), dim), values)
        .expect("every row contributes `dim` values");
    let provenance = Provenance::Csv {
        file: path.to_path_buf(),
        lines,
    };
    Dataset::from_raw(points, &labels, provenance)
}

/// A label field: a number when it parses as one, a name otherwise.
fn parse_label(field: &str) -> LabelValue {
    match field.parse::<f64>() {
        Ok(x) => LabelValue::Number(x),
        Err(_) => LabelValue::Name(field.to_string()),
    }
}

/// The 0-based index of the label column, or [`DataError::NoSuchColumn`].
fn resolve_column(
    path: &Path,
    label: &ColumnRef,
    names: Option<&[String]>,
    columns: usize,
) -> Result<usize, DataError> {
    let available = match names {
        Some(names) => names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{i}: {}", crate::diagnostics::visible(n)))
            .collect::<Vec<_>>()
            .join(", "),
        None => format!("0 to {} (the file has no header)", columns - 1),
    };
    let no_such = |wanted: String, suggestion: Option<String>| DataError::NoSuchColumn {
        path: path.to_path_buf(),
        wanted,
        available: available.clone(),
        suggestion,
    };
    match (label, names) {
        (ColumnRef::Index(i), _) if *i < columns => Ok(*i),
        (ColumnRef::Index(i), _) => Err(no_such(format!("{i}"), None)),
        (ColumnRef::Name(name), Some(names)) => {
            let columns: Vec<usize> = (0..names.len()).filter(|&i| &names[i] == name).collect();
            match columns[..] {
                [i] => Ok(i),
                [] => Err(no_such(format!("{name:?}"), closest(name, names))),
                _ => Err(DataError::DuplicateColumn {
                    path: path.to_path_buf(),
                    name: name.clone(),
                    columns,
                }),
            }
        }
        (ColumnRef::Name(name), None) => Err(DataError::NoSuchColumn {
            path: path.to_path_buf(),
            wanted: format!("{name:?} (columns have no names with header = false)"),
            available,
            suggestion: None,
        }),
    }
}

/// The existing name closest to `wanted`, when it is close enough to be a
/// plausible typo.
/// Names longer than [`crate::diagnostics::MAX_SUGGEST_LEN`] are not
/// compared (the distance costs the product of the lengths).
fn closest(wanted: &str, names: &[String]) -> Option<String> {
    use crate::diagnostics::MAX_SUGGEST_LEN;
    if wanted.len() > MAX_SUGGEST_LEN {
        return None;
    }
    names
        .iter()
        .filter(|n| n.len() <= MAX_SUGGEST_LEN)
        .map(|n| (strsim::normalized_damerau_levenshtein(wanted, n), n))
        .filter(|(score, _)| *score >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n.clone())
        .or_else(|| {
            names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(wanted))
                .cloned()
        })
}

/// Byte offsets where lines 2, 3, ... start.
fn memchr_lines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .map(|(i, _)| i + 1)
}

/// The reason of a `csv` error, with its 1-based line when known.
fn csv_reason(err: &::csv::Error, line: Option<usize>) -> String {
    let at = line.map_or(String::new(), |l| format!("line {l}: "));
    match err.kind() {
        ::csv::ErrorKind::Io(io) => format!("{at}{io}"),
        ::csv::ErrorKind::Utf8 { err, .. } => format!(
            "{at}column {} is not valid UTF-8 text (at byte {} of the field); is this a binary file rather than a CSV file?",
            err.field(),
            err.valid_up_to()
        ),
        _ => format!("{at}{err}"),
    }
}
