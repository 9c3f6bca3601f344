//! CSV loader: good files, header and label choices, and every error with
//! its line.

use robmem::data::{csv, ColumnRef, DataError, LabelValue, Provenance};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn header_and_label_by_name_with_trimmed_fields_and_blank_lines() {
    let path = fixture("wine_small.csv");
    let ds = csv::load(&path, &ColumnRef::Name("kind".into()), true, b',').unwrap();
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.dim(), 2);
    assert_eq!(ds.points.row(0).to_vec(), vec![13.2, 1.78]);
    assert_eq!(ds.points.row(2).to_vec(), vec![14.1, 1.9]);
    assert_eq!(ds.labels, vec![0, 1, 0]);
    assert_eq!(
        ds.classes.values,
        vec![
            LabelValue::Name("red".into()),
            LabelValue::Name("white".into())
        ]
    );
    // Line 3 is blank: the second point is on line 4.
    assert_eq!(
        ds.provenance,
        Provenance::Csv {
            file: path.clone(),
            lines: vec![2, 4, 5]
        }
    );
    // The same column by index.
    let by_index = csv::load(&path, &ColumnRef::Index(2), true, b',').unwrap();
    assert_eq!(by_index.points, ds.points);
    assert_eq!(by_index.labels, ds.labels);
}

#[test]
fn no_header_with_another_delimiter_and_numeric_labels() {
    let path = fixture("xor_noheader.csv");
    let ds = csv::load(&path, &ColumnRef::Index(2), false, b';').unwrap();
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.labels, vec![1, 0, 0]);
    assert_eq!(
        ds.classes.values,
        vec![LabelValue::Number(0.0), LabelValue::Number(1.0)]
    );
    assert_eq!(
        ds.provenance.describe(2).unwrap(),
        format!("line 4 of {}", path.display())
    );
    // Label in the first column: the remaining columns are the features.
    let ds = csv::load(&path, &ColumnRef::Index(0), false, b';').unwrap();
    assert_eq!(ds.points.row(0).to_vec(), vec![1.0, 1.0]);
}

#[test]
fn field_count_mismatch_names_the_line() {
    let path = fixture("bad_fields.csv");
    let err = csv::load(&path, &ColumnRef::Name("label".into()), true, b',').unwrap_err();
    assert_eq!(
        err,
        DataError::CsvFieldCount {
            path,
            line: 3,
            expected: 3,
            found: 2
        }
    );
}

#[test]
fn non_number_names_line_column_and_header() {
    let path = fixture("bad_number.csv");
    let err = csv::load(&path, &ColumnRef::Index(2), true, b',').unwrap_err();
    assert_eq!(
        err,
        DataError::CsvNotANumber {
            path,
            line: 5,
            column: 1,
            header: "y".into(),
            value: "abc".into()
        }
    );
}

#[test]
fn unknown_column_name_suggests_the_closest() {
    let path = fixture("bad_number.csv");
    let err = csv::load(&path, &ColumnRef::Name("lable".into()), true, b',').unwrap_err();
    match err {
        DataError::NoSuchColumn {
            wanted,
            available,
            suggestion,
            ..
        } => {
            assert!(wanted.contains("lable"));
            assert!(available.contains("label"), "{available}");
            assert_eq!(suggestion.as_deref(), Some("label"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn column_index_out_of_range_and_name_without_header() {
    let path = fixture("xor_noheader.csv");
    let err = csv::load(&path, &ColumnRef::Index(3), false, b';').unwrap_err();
    assert!(
        matches!(&err, DataError::NoSuchColumn { wanted, available, .. }
            if wanted == "3" && available.contains("0 to 2")),
        "{err:?}"
    );
    let err = csv::load(&path, &ColumnRef::Name("label".into()), false, b';').unwrap_err();
    assert!(
        matches!(&err, DataError::NoSuchColumn { wanted, .. } if wanted.contains("header = false")),
        "{err:?}"
    );
}

#[test]
fn missing_file_is_unreadable() {
    let path = fixture("does_not_exist.csv");
    let err = csv::load(&path, &ColumnRef::Index(0), true, b',').unwrap_err();
    assert!(matches!(err, DataError::Unreadable { path: p, .. } if p == path));
}

#[test]
fn mixed_labels_are_reported_with_their_lines() {
    let path = fixture("mixed_labels.csv");
    let err = csv::load(&path, &ColumnRef::Name("label".into()), true, b',').unwrap_err();
    match err {
        DataError::MixedLabels {
            number_place,
            name_place,
            ..
        } => {
            assert_eq!(
                number_place.unwrap(),
                format!("line 2 of {}", path.display())
            );
            assert_eq!(name_place.unwrap(), format!("line 3 of {}", path.display()));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn header_only_file_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.csv");
    std::fs::write(&path, "x,y,label\n\n").unwrap();
    let err = csv::load(&path, &ColumnRef::Index(2), true, b',').unwrap_err();
    assert_eq!(err, DataError::Empty);
}

#[test]
fn crlf_and_whitespace_only_lines_keep_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crlf.csv");
    std::fs::write(&path, "x,label\r\n0,a\r\n   \r\n\r\n1,b\r\n2\r\n").unwrap();
    let err = csv::load(&path, &ColumnRef::Index(1), true, b',').unwrap_err();
    assert!(
        matches!(err, DataError::CsvFieldCount { line: 6, .. }),
        "{err:?}"
    );
    std::fs::write(&path, "x,label\r\n0,a\r\n   \r\n\r\n1,b\r\n").unwrap();
    let ds = csv::load(&path, &ColumnRef::Index(1), true, b',').unwrap();
    assert_eq!(
        ds.provenance.describe(1).unwrap(),
        format!("line 5 of {}", path.display())
    );
}

#[test]
fn a_row_of_empty_fields_is_not_a_blank_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty_fields.csv");
    std::fs::write(&path, "x,label\n0,a\n,\n").unwrap();
    let err = csv::load(&path, &ColumnRef::Index(1), true, b',').unwrap_err();
    assert!(
        matches!(&err, DataError::CsvNotANumber { line: 3, column: 0, value, .. } if value.is_empty()),
        "{err:?}"
    );
}

#[test]
fn negative_zero_and_zero_labels_are_one_class() {
    let dir = std::env::temp_dir().join(format!("robmem-negzero-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("zeros.csv");
    std::fs::write(&path, "x,y\n0,-0\n1,0\n2,1\n").unwrap();
    let ds = csv::load(&path, &ColumnRef::Name("y".into()), true, b',').unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(ds.labels, vec![0, 0, 1]);
    assert_eq!(
        ds.classes.values,
        vec![LabelValue::Number(0.0), LabelValue::Number(1.0)]
    );
    // The class is +0, so the label output never shows a negative zero.
    assert!(matches!(ds.classes.values[0], LabelValue::Number(x) if x.is_sign_positive()));
}

/// The file is read in chunks (streamed, not loaded whole); line numbers
/// stay exact across chunk boundaries, blank lines and quoted fields that
/// span lines, for every row of a file much larger than one chunk.
#[test]
fn line_numbers_stay_exact_across_chunks_of_a_large_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.csv");
    let mut text = String::from("x,y,label\n");
    let mut line = 1;
    let mut expected_lines = Vec::new();
    for i in 0..60_000 {
        if i % 997 == 0 {
            text.push_str("\n   \n");
            line += 2;
        }
        line += 1;
        expected_lines.push(line);
        if i % 1_231 == 0 {
            // A quoted label spanning two lines: the row starts on `line`.
            text.push_str(&format!("{i}, {}.5 ,\"class\n{}\"\n", i % 7, i % 3));
            line += 1;
        } else {
            text.push_str(&format!("{i}, {}.5 ,class{}\n", i % 7, i % 3));
        }
    }
    std::fs::write(&path, &text).unwrap();
    let ds = csv::load(&path, &ColumnRef::Name("label".into()), true, b',').unwrap();
    assert_eq!(ds.points.nrows(), 60_000);
    let Provenance::Csv { lines, .. } = &ds.provenance else {
        panic!("CSV provenance expected");
    };
    assert_eq!(lines, &expected_lines);

    // A bad row near the end is reported on its own line.
    text.push_str("1,2\n");
    std::fs::write(&path, &text).unwrap();
    let err = csv::load(&path, &ColumnRef::Name("label".into()), true, b',').unwrap_err();
    assert!(
        matches!(err, DataError::CsvFieldCount { line: l, .. } if l == line + 1),
        "{err:?}"
    );
}
