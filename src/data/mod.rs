//! Labelled data sets: where they come from ([`DataSource`]), what they are
//! once loaded ([`Dataset`]), and the errors loading can raise ([`DataError`]).
//!
//! Invariants of a [`Dataset`] (every constructor establishes them; every
//! later stage relies on them):
//! - `points` is N x d with N >= 1 and d >= 1, every entry finite;
//! - `labels[i]` is the class index of point i, `labels.len() == N`, and
//!   every index is `< classes.len()`;
//! - class indices follow the language's rule: numeric labels in ascending
//!   order (so integer labels 0..C-1 are their own index), names in order of
//!   first appearance; a data set never mixes numbers and names.

pub mod csv;
pub mod generators;
pub mod npy;

use ndarray::Array2;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

/// One label as the user wrote it. Serialises as a JSON number (an integer
/// when the value is integral) or a string.
#[derive(Clone, Debug, PartialEq)]
pub enum LabelValue {
    /// A numeric label such as `0`, `3` or `-1.5`.
    Number(f64),
    /// A named label: an identifier (`cat`) or a quoted string (`"red wine"`).
    Name(String),
}

impl Serialize for LabelValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        match self {
            LabelValue::Number(x) if x.fract() == 0.0 && x.abs() <= EXACT => {
                serializer.serialize_i64(*x as i64)
            }
            LabelValue::Number(x) => serializer.serialize_f64(*x),
            LabelValue::Name(s) => serializer.serialize_str(s),
        }
    }
}

impl fmt::Display for LabelValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelValue::Number(x) => write!(f, "{x}"),
            LabelValue::Name(s) => write!(f, "{s}"),
        }
    }
}

/// The mapping from class index (the order of logits) to the user's label.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Classes {
    /// `values[c]` is the label of class index `c`.
    pub values: Vec<LabelValue>,
}

impl Classes {
    /// Number of distinct labels C.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when there are no classes (never the case for a loaded data set).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// True when every label is a number.
    pub fn numeric(&self) -> bool {
        self.values
            .iter()
            .all(|v| matches!(v, LabelValue::Number(_)))
    }
}

/// Where each point of a data set was read from, for messages that name a
/// point by its source line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Provenance {
    /// Points written inline in the spec file; `lines[i]` is the 1-based line
    /// of point i in `file`.
    Inline {
        /// The spec file.
        file: PathBuf,
        /// 1-based line of each point.
        lines: Vec<usize>,
    },
    /// Rows of a CSV file; `lines[i]` is the 1-based line of point i.
    Csv {
        /// The CSV file as resolved (relative to the spec file's folder).
        file: PathBuf,
        /// 1-based line of each point.
        lines: Vec<usize>,
    },
    /// Rows of a pair of `.npy` files.
    Npy {
        /// The features file.
        features: PathBuf,
        /// `rows[i]` is the 0-based row of point i in the files (a
        /// subsample's); `None` when point i is row i.
        rows: Option<Vec<usize>>,
    },
    /// Made by a seeded generator; `description` repeats its call.
    Generated {
        /// For example `blobs(points = 2000, dim = 64, labels = 10, spread = 0.05, seed = 1)`.
        description: String,
    },
}

impl Provenance {
    /// Where point `index` (0-based) came from, for a message:
    /// "line 4 of xor.rmem", "line 12 of data/wine.csv", "row 7 of x.npy",
    /// or `None` for generated data.
    pub fn describe(&self, index: usize) -> Option<String> {
        match self {
            Provenance::Inline { file, lines } | Provenance::Csv { file, lines } => lines
                .get(index)
                .map(|line| format!("line {line} of {}", file.display())),
            Provenance::Npy { features, rows } => {
                let row = match rows {
                    Some(rows) => *rows.get(index)?,
                    None => index,
                };
                Some(format!("row {row} of {}", features.display()))
            }
            Provenance::Generated { .. } => None,
        }
    }
}

/// A loaded, validated, labelled data set. See the module doc for invariants.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// N x d matrix of points, one row per point.
    pub points: Array2<f64>,
    /// Class index of each point.
    pub labels: Vec<u32>,
    /// Class index -> user label.
    pub classes: Classes,
    /// Where each point came from.
    pub provenance: Provenance,
}

impl Dataset {
    /// Number of points N.
    pub fn len(&self) -> usize {
        self.points.nrows()
    }

    /// True when there are no points (never the case for a loaded data set).
    pub fn is_empty(&self) -> bool {
        self.points.nrows() == 0
    }

    /// Dimension d.
    pub fn dim(&self) -> usize {
        self.points.ncols()
    }

    /// Number of points of each class, indexed by class index.
    pub fn class_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.classes.len()];
        for &l in &self.labels {
            sizes[l as usize] += 1;
        }
        sizes
    }

    /// Builds a data set from points and raw labels, assigning class indices
    /// by the language's rule (numbers ascending, names by first appearance).
    ///
    /// Errors: no points, zero dimension, a non-finite coordinate (naming the
    /// point), or labels mixing numbers and names.
    pub fn from_raw(
        points: Array2<f64>,
        raw_labels: &[LabelValue],
        provenance: Provenance,
    ) -> Result<Dataset, DataError> {
        assert_eq!(points.nrows(), raw_labels.len(), "one label per point");
        if points.nrows() == 0 {
            return Err(DataError::Empty);
        }
        if points.ncols() == 0 {
            return Err(DataError::ZeroDimension);
        }
        for (i, row) in points.outer_iter().enumerate() {
            if let Some(k) = row.iter().position(|x| !x.is_finite()) {
                return Err(DataError::NonFinite {
                    point: i,
                    coordinate: k,
                    place: provenance.describe(i),
                });
            }
        }
        let numeric = raw_labels
            .iter()
            .filter(|v| matches!(v, LabelValue::Number(_)))
            .count();
        if numeric != 0 && numeric != raw_labels.len() {
            let first_name = raw_labels
                .iter()
                .position(|v| matches!(v, LabelValue::Name(_)))
                .expect("some label is a name");
            let first_number = raw_labels
                .iter()
                .position(|v| matches!(v, LabelValue::Number(_)))
                .expect("some label is a number");
            return Err(DataError::MixedLabels {
                number_point: first_number,
                name_point: first_name,
                number_place: provenance.describe(first_number),
                name_place: provenance.describe(first_name),
            });
        }
        let mut values: Vec<LabelValue> = Vec::new();
        if numeric > 0 {
            let mut nums: Vec<f64> = raw_labels
                .iter()
                .map(|v| match v {
                    LabelValue::Number(x) => without_negative_zero(*x),
                    LabelValue::Name(_) => unreachable!(),
                })
                .collect();
            if let Some(i) = nums.iter().position(|x| !x.is_finite()) {
                return Err(DataError::NonFiniteLabel {
                    point: i,
                    place: provenance.describe(i),
                });
            }
            nums.sort_by(|a, b| a.total_cmp(b));
            nums.dedup();
            values.extend(nums.into_iter().map(LabelValue::Number));
            let labels = raw_labels.iter().map(|v| class_index(&values, v)).collect();
            return Ok(Dataset {
                points,
                labels,
                classes: Classes { values },
                provenance,
            });
        }
        // Names: a map from name to class index, so that many distinct names
        // cost linear time, not quadratic.
        let mut index: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let mut labels = Vec::with_capacity(raw_labels.len());
        for v in raw_labels {
            let LabelValue::Name(name) = v else {
                unreachable!("labels are all names here")
            };
            let next = index.len() as u32;
            let class = *index.entry(name.as_str()).or_insert_with(|| {
                values.push(v.clone());
                next
            });
            labels.push(class);
        }
        Ok(Dataset {
            points,
            labels,
            classes: Classes { values },
            provenance,
        })
    }
}

/// The label value with `-0` read as `0`: the two compare equal, so they are
/// one class (sorting by `total_cmp` and deduplicating by `==` would otherwise
/// keep a class list the lookup by `total_cmp` cannot find `0` in).
fn without_negative_zero(x: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else {
        x
    }
}

/// The class index of numeric label `v` in the sorted numeric `values`.
fn class_index(values: &[LabelValue], v: &LabelValue) -> u32 {
    let LabelValue::Number(x) = v else {
        unreachable!("numeric labels only")
    };
    let index = values
        .binary_search_by(|probe| match probe {
            LabelValue::Number(y) => y.total_cmp(&without_negative_zero(*x)),
            LabelValue::Name(_) => unreachable!("numeric classes only"),
        })
        .expect("every label is a class");
    index as u32
}

/// Which column of a CSV file holds the label.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnRef {
    /// By header name (requires `header = true`).
    Name(String),
    /// By 0-based index.
    Index(usize),
}

/// A data set's source, as resolved from the spec (paths already made
/// relative to the spec file's folder). Produced by `resolve`, consumed by
/// [`load`].
#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    /// Points written in the spec: coordinates, label, 1-based spec line.
    Inline {
        /// The spec file, for provenance.
        file: PathBuf,
        /// The points in order of appearance.
        points: Vec<InlinePoint>,
    },
    /// `csv(path, label = ..., header = ..., delimiter = ...)`.
    Csv {
        /// Path of the CSV file.
        path: PathBuf,
        /// Label column.
        label: ColumnRef,
        /// Whether the first line is a header (default true).
        header: bool,
        /// Field delimiter (default `,`).
        delimiter: u8,
    },
    /// `npy(features = "x.npy", labels = "y.npy")`.
    Npy {
        /// N x d float32 or float64 array.
        features: PathBuf,
        /// N integer labels.
        labels: PathBuf,
    },
    /// One of the seeded generators.
    Generator(generators::Generator),
}

/// One inline point: `[0, 1] -> 1` on line 5.
#[derive(Clone, Debug, PartialEq)]
pub struct InlinePoint {
    /// Coordinates.
    pub coords: Vec<f64>,
    /// Label as written.
    pub label: LabelValue,
    /// 1-based line in the spec file.
    pub line: usize,
}

/// Everything that can go wrong while loading data. Each variant names the
/// place (file, line, point) so the front end can attach it to the spec's
/// span and print a hint.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DataError {
    /// A file could not be opened or read.
    #[error("cannot read {}: {reason}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// A CSV row with a different number of fields from the first row.
    #[error("{}:{line}: row has {found} fields, expected {expected}", path.display())]
    CsvFieldCount {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// Fields in the first row.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// A CSV feature field that is not a number.
    #[error("{}:{line}: column {column} ({header}) is not a number: {value:?}", path.display())]
    CsvNotANumber {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 0-based column.
        column: usize,
        /// Header name or `column N`.
        header: String,
        /// The text found.
        value: String,
    },
    /// The label column does not exist.
    #[error("{}: no label column {wanted}; columns are: {available}", path.display())]
    NoSuchColumn {
        /// The CSV file.
        path: PathBuf,
        /// The column asked for.
        wanted: String,
        /// The columns that exist.
        available: String,
        /// The closest existing column name, for a "did you mean" hint.
        suggestion: Option<String>,
    },
    /// An empty label field.
    #[error("{}:{line}: the label (column {column}) is empty", path.display())]
    CsvEmptyLabel {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 0-based label column.
        column: usize,
    },
    /// The label column's name is the header of several columns.
    #[error("{}: the label column {name:?} is the header of columns {}", path.display(), columns.iter().map(usize::to_string).collect::<Vec<_>>().join(" and "))]
    DuplicateColumn {
        /// The CSV file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The 0-based columns with that header.
        columns: Vec<usize>,
    },
    /// An `.npy` file of an unsupported type or shape.
    #[error("{}: {reason}", path.display())]
    BadNpy {
        /// The file.
        path: PathBuf,
        /// What is wrong (dtype, shape, length mismatch).
        reason: String,
    },
    /// No points at all.
    #[error("the data set has no points")]
    Empty,
    /// Points with zero coordinates.
    #[error("the points have dimension 0")]
    ZeroDimension,
    /// A NaN or infinite coordinate.
    #[error("point {point} has a non-finite coordinate {coordinate}{}", place.as_ref().map(|p| format!(" ({p})")).unwrap_or_default())]
    NonFinite {
        /// 0-based point index.
        point: usize,
        /// 0-based coordinate.
        coordinate: usize,
        /// Source line, when known.
        place: Option<String>,
    },
    /// A NaN or infinite numeric label.
    #[error("point {point} has a non-finite label{}", place.as_ref().map(|p| format!(" ({p})")).unwrap_or_default())]
    NonFiniteLabel {
        /// 0-based point index.
        point: usize,
        /// Source line, when known.
        place: Option<String>,
    },
    /// Labels that mix numbers and names.
    #[error("labels mix numbers (point {number_point}{}) and names (point {name_point}{})",
        number_place.as_ref().map(|p| format!(", {p}")).unwrap_or_default(),
        name_place.as_ref().map(|p| format!(", {p}")).unwrap_or_default())]
    MixedLabels {
        /// A point with a numeric label.
        number_point: usize,
        /// A point with a named label.
        name_point: usize,
        /// Its source line, when known.
        number_place: Option<String>,
        /// Its source line, when known.
        name_place: Option<String>,
    },
    /// A generator asked for something impossible (for example zero points).
    #[error("{0}")]
    BadGenerator(String),
}

/// Loads a data source. Paths in `source` are used as given (the resolver
/// has already joined them to the spec file's folder).
pub fn load(source: &DataSource) -> Result<Dataset, DataError> {
    match source {
        DataSource::Inline { file, points } => load_inline(file, points),
        DataSource::Csv {
            path,
            label,
            header,
            delimiter,
        } => csv::load(path, label, *header, *delimiter),
        DataSource::Npy { features, labels } => npy::load(features, labels),
        DataSource::Generator(g) => g.generate(),
    }
}

fn load_inline(file: &std::path::Path, points: &[InlinePoint]) -> Result<Dataset, DataError> {
    let dim = points.first().map_or(0, |p| p.coords.len());
    let mut matrix = Array2::zeros((points.len(), dim));
    for (i, p) in points.iter().enumerate() {
        assert_eq!(
            p.coords.len(),
            dim,
            "the resolver rejects inline points of different dimension"
        );
        for (k, &x) in p.coords.iter().enumerate() {
            matrix[[i, k]] = x;
        }
    }
    let labels: Vec<LabelValue> = points.iter().map(|p| p.label.clone()).collect();
    let provenance = Provenance::Inline {
        file: file.to_path_buf(),
        lines: points.iter().map(|p| p.line).collect(),
    };
    Dataset::from_raw(matrix, &labels, provenance)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn generated() -> Provenance {
        Provenance::Generated {
            description: "test".into(),
        }
    }

    #[test]
    fn numeric_labels_are_indexed_in_ascending_order() {
        let labels = [3.0, 1.0, 3.0, 2.0].map(LabelValue::Number);
        let ds = Dataset::from_raw(Array2::zeros((4, 1)), &labels, generated()).unwrap();
        assert_eq!(ds.labels, vec![2, 0, 2, 1]);
        assert_eq!(ds.class_sizes(), vec![1, 1, 2]);
    }

    #[test]
    fn named_labels_are_indexed_by_first_appearance() {
        let labels = ["dog", "cat", "dog"].map(|s| LabelValue::Name(s.into()));
        let ds = Dataset::from_raw(Array2::zeros((3, 2)), &labels, generated()).unwrap();
        assert_eq!(ds.labels, vec![0, 1, 0]);
        assert_eq!(ds.classes.values[1], LabelValue::Name("cat".into()));
    }

    #[test]
    fn labels_serialise_as_integers_when_integral() {
        let labels = vec![
            LabelValue::Number(3.0),
            LabelValue::Number(-1.5),
            LabelValue::Name("cat".into()),
        ];
        assert_eq!(serde_json::to_string(&labels).unwrap(), r#"[3,-1.5,"cat"]"#);
    }

    #[test]
    fn mixed_labels_and_non_finite_points_are_rejected() {
        let labels = [LabelValue::Number(0.0), LabelValue::Name("a".into())];
        let err = Dataset::from_raw(Array2::zeros((2, 1)), &labels, generated()).unwrap_err();
        assert!(matches!(
            err,
            DataError::MixedLabels {
                number_point: 0,
                name_point: 1,
                ..
            }
        ));
        let labels = [LabelValue::Number(0.0), LabelValue::Number(1.0)];
        let err = Dataset::from_raw(array![[0.0], [f64::NAN]], &labels, generated()).unwrap_err();
        assert!(matches!(
            err,
            DataError::NonFinite {
                point: 1,
                coordinate: 0,
                ..
            }
        ));
    }
}
