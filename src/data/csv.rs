//! CSV data sources: one point per row, the label in one column, every other
//! column a coordinate.
//!
//! Fields are trimmed, empty or whitespace-only lines are skipped, and every
//! row must have as many fields as the first row (the header when there is
//! one).

use super::{ColumnRef, DataError, Dataset, LabelValue, Provenance};
use ndarray::Array2;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
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
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let mut input = BufReader::with_capacity(1 << 16, file);
    // A UTF-8 byte-order mark is not part of the first column's name.
    let bom = input
        .fill_buf()
        .map_err(|e| unreadable(e.to_string()))?
        .starts_with(b"\xEF\xBB\xBF");
    if bom {
        input.consume(3);
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .trim(::csv::Trim::All)
        .from_reader(LineTracker::new(input));

    let mut record = ::csv::StringRecord::new();
    let mut next_row = || -> Result<Option<(usize, ::csv::StringRecord)>, DataError> {
        loop {
            let more = reader.read_record(&mut record).map_err(|e| {
                let byte = match e.kind() {
                    ::csv::ErrorKind::Utf8 { pos: Some(pos), .. } => Some(pos.byte()),
                    _ => e.position().map(::csv::Position::byte),
                };
                let line = byte.map(|b| reader.get_mut().line_of(b));
                unreadable(csv_reason(&e, line))
            })?;
            if !more {
                return Ok(None);
            }
            if record.len() == 1 && record[0].is_empty() {
                continue;
            }
            let line = record
                .position()
                .map_or(0, |p| reader.get_mut().line_of(p.byte()));
            return Ok(Some((line, std::mem::take(&mut record))));
        }
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

/// The file as the `csv` reader reads it, remembering where each run of
/// non-blank text starts and on which line, for the bytes read ahead and not
/// yet asked about. A record's byte offset then gives its line, counting
/// only `\n` as a line end, without the whole file in memory: the memory
/// is bounded by the reader's buffer, not by the file.
struct LineTracker<R> {
    inner: R,
    /// Offset of the next byte to be read.
    offset: u64,
    /// 1-based line of the next byte.
    line: usize,
    /// The last byte read was ASCII whitespace (or nothing was read yet).
    after_space: bool,
    /// `(offset, line)` of each non-whitespace byte that follows whitespace,
    /// in order, from the last query on.
    starts: VecDeque<(u64, usize)>,
}

impl<R: Read> LineTracker<R> {
    fn new(inner: R) -> LineTracker<R> {
        LineTracker {
            inner,
            offset: 0,
            line: 1,
            after_space: true,
            starts: VecDeque::new(),
        }
    }

    /// The line of the first non-whitespace byte at or after `byte` (a
    /// record's offset may point at blank lines before it). Queries must
    /// come in increasing order of `byte`.
    fn line_of(&mut self, byte: u64) -> usize {
        while self
            .starts
            .front()
            .is_some_and(|&(offset, _)| offset < byte)
        {
            self.starts.pop_front();
        }
        self.starts.front().map_or(self.line, |&(_, line)| line)
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line += 1;
            }
            let space = b.is_ascii_whitespace();
            if self.after_space && !space {
                self.starts.push_back((self.offset, self.line));
            }
            self.after_space = space;
            self.offset += 1;
        }
        Ok(n)
    }
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
