//! `.npy` loader: round trips through ndarray-npy and the errors.

use ndarray::{array, Array1, Array2, ShapeBuilder};
use ndarray_npy::write_npy;
use robmem::data::{npy, DataError, LabelValue, Provenance};

fn sample() -> Array2<f64> {
    array![
        [0.0, 1.5, -2.0],
        [3.25, 4.0, 5.0],
        [6.0, -7.5, 8.0],
        [9.0, 10.0, 11.0]
    ]
}

#[test]
fn f64_features_and_i64_labels_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (fx, fy) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
    write_npy(&fx, &sample()).unwrap();
    write_npy(&fy, &Array1::<i64>::from(vec![2, 0, 2, 1])).unwrap();
    let ds = npy::load(&fx, &fy).unwrap();
    assert_eq!(ds.points, sample());
    assert_eq!(ds.labels, vec![2, 0, 2, 1]);
    assert_eq!(ds.classes.values[2], LabelValue::Number(2.0));
    assert_eq!(
        ds.provenance,
        Provenance::Npy {
            features: fx.clone(),
            rows: None,
        }
    );
    assert_eq!(
        ds.provenance.describe(3).unwrap(),
        format!("row 3 of {}", fx.display())
    );
}

#[test]
fn f32_features_and_i32_and_u8_labels_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (fx, fy) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
    write_npy(&fx, &sample().mapv(|v| v as f32)).unwrap();
    write_npy(&fy, &Array1::<i32>::from(vec![-1, 5, 5, -1])).unwrap();
    let ds = npy::load(&fx, &fy).unwrap();
    assert_eq!(ds.points, sample());
    assert_eq!(ds.labels, vec![0, 1, 1, 0]);
    write_npy(&fy, &Array1::<u8>::from(vec![0, 1, 0, 1])).unwrap();
    assert_eq!(npy::load(&fx, &fy).unwrap().labels, vec![0, 1, 0, 1]);
}

#[test]
fn fortran_order_features_load_row_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let (fx, fy) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
    let mut f = Array2::<f64>::zeros((4, 3).f());
    f.assign(&sample());
    write_npy(&fx, &f).unwrap();
    write_npy(&fy, &Array1::<i64>::zeros(4)).unwrap();
    assert_eq!(npy::load(&fx, &fy).unwrap().points, sample());
}

#[test]
fn errors_name_dtype_shape_and_length() {
    let dir = tempfile::tempdir().unwrap();
    let (fx, fy) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
    write_npy(&fx, &sample()).unwrap();

    write_npy(&fy, &Array1::<i64>::zeros(3)).unwrap();
    let err = npy::load(&fx, &fy).unwrap_err();
    assert!(
        matches!(&err, DataError::BadNpy { path, reason } if path == &fy && reason.contains("3 labels") && reason.contains("4 rows")),
        "{err}"
    );

    write_npy(&fy, &Array1::<f64>::zeros(4)).unwrap();
    let err = npy::load(&fx, &fy).unwrap_err();
    assert!(
        matches!(&err, DataError::BadNpy { reason, .. } if reason.contains("integers") && reason.contains("<f8")),
        "{err}"
    );

    write_npy(&fy, &Array2::<i64>::zeros((4, 1))).unwrap();
    let err = npy::load(&fx, &fy).unwrap_err();
    assert!(
        matches!(&err, DataError::BadNpy { reason, .. } if reason.contains("1-dimensional") && reason.contains("found 2")),
        "{err}"
    );

    write_npy(&fy, &Array1::<i64>::zeros(4)).unwrap();
    write_npy(&fx, &Array2::<i32>::zeros((4, 2))).unwrap();
    let err = npy::load(&fx, &fy).unwrap_err();
    assert!(
        matches!(&err, DataError::BadNpy { path, reason } if path == &fx && reason.contains("float") && reason.contains("<i4")),
        "{err}"
    );

    std::fs::write(&fx, b"not an npy file").unwrap();
    assert!(matches!(
        npy::load(&fx, &fy).unwrap_err(),
        DataError::BadNpy { .. }
    ));

    let missing = dir.path().join("missing.npy");
    assert!(matches!(
        npy::load(&missing, &fy).unwrap_err(),
        DataError::Unreadable { .. }
    ));
}

/// Found by the fuzzing harness (tests/fuzz): a 133-byte version-2 file whose
/// header-length field claims 1,685,782,646 bytes made the reader allocate
/// them. It is refused before any allocation, naming both lengths.
#[test]
fn a_header_length_past_the_end_of_the_file_is_refused() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz/npy_header_length_4g.npy");
    let err = npy::load(&path, &path).unwrap_err();
    assert!(
        matches!(&err, DataError::BadNpy { path: p, reason } if p == &path
            && reason.contains("1685782646 bytes of header text")
            && reason.contains("the file is 133 bytes long")),
        "{err}"
    );
}
