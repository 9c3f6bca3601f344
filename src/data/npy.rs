//! `.npy` data sources: an N x d float array of features and a length-N
//! integer array of labels.

use super::{DataError, Dataset, LabelValue, Provenance};
use ndarray::{Array1, Array2, ArrayBase, Dimension};
use ndarray_npy::{ReadNpyError, ReadNpyExt, ReadableElement};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Loads N x d features (float32 or float64, C or Fortran order) and N
/// integer labels (any of i8, i16, i32, i64, u8, u16, u32, u64).
///
/// Errors: [`DataError::Unreadable`] when a file cannot be read,
/// [`DataError::BadNpy`] naming the problem (dtype, number of dimensions,
/// length mismatch, truncated data), and the errors of [`Dataset::from_raw`].
pub fn load(features: &Path, labels: &Path) -> Result<Dataset, DataError> {
    let points = read_features(features)?;
    let raw = read_labels(labels)?;
    if raw.len() != points.nrows() {
        return Err(bad(
            labels,
            format!(
                "has {} labels but {} has {} rows",
                raw.len(),
                features.display(),
                points.nrows()
            ),
        ));
    }
    let provenance = Provenance::Npy {
        features: features.to_path_buf(),
        rows: None,
    };
    Dataset::from_raw(points, &raw, provenance)
}

fn bad(path: &Path, reason: String) -> DataError {
    DataError::BadNpy {
        path: path.to_path_buf(),
        reason,
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The outcome of trying one element type: `Ok(None)` when the file holds a
/// different dtype (try the next), `Err` for any other problem.
fn try_read<A, D>(
    path: &Path,
    bytes: &[u8],
    what: &str,
) -> Result<Option<ArrayBase<ndarray::OwnedRepr<A>, D>>, DataError>
where
    A: ReadableElement,
    D: Dimension,
{
    match ArrayBase::<ndarray::OwnedRepr<A>, D>::read_npy(bytes) {
        Ok(array) => Ok(Some(array)),
        Err(ReadNpyError::WrongDescriptor(_)) => Ok(None),
        Err(ReadNpyError::WrongNdim(expected, found)) => Err(bad(
            path,
            format!(
                "{what} must be a {}-dimensional array, found {found} dimensions",
                expected.unwrap_or(D::NDIM.unwrap_or(0))
            ),
        )),
        Err(ReadNpyError::Io(e)) => Err(bad(path, format!("cannot read {what}: {e}"))),
        Err(other) => Err(bad(path, format!("invalid .npy file for {what}: {other}"))),
    }
}

/// The dtype descriptor in the header, for messages about unsupported types.
fn descriptor(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
    text.find("'descr':")
        .and_then(|at| {
            let rest = &text[at + 8..];
            let start = rest.find('\'')? + 1;
            let end = start + rest[start..].find('\'')?;
            Some(rest[start..end].to_string())
        })
        .unwrap_or_else(|| "an unknown dtype".into())
}

/// The shape and element size a `.npy` header declares, and where its data
/// starts, or `None` when the header cannot be read (the reader then reports
/// the problem).
fn header_shape(bytes: &[u8]) -> Option<(Vec<u64>, u64, usize)> {
    let (start, end) = header_extent(bytes)?;
    let header = std::str::from_utf8(bytes.get(start..end)?).ok()?;
    let after = &header[header.find("'shape'")? + 7..];
    let open = after.find('(')? + 1;
    let close = open + after[open..].find(')')?;
    let shape = after[open..close]
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.trim_end_matches('L').parse::<u64>().ok())
        .collect::<Option<Vec<u64>>>()?;
    let item = descriptor(bytes)
        .trim_start_matches(['<', '>', '|', '='])
        .trim_start_matches(char::is_alphabetic)
        .parse::<u64>()
        .unwrap_or(1)
        .max(1);
    Some((shape, item, end))
}

/// Where the header text starts and ends, as its length field says, or
/// `None` when the file does not start like a `.npy` file.
fn header_extent(bytes: &[u8]) -> Option<(usize, usize)> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return None;
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        _ => (
            u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?) as usize,
            12,
        ),
    };
    Some((start, start.checked_add(len)?))
}

/// Refuses a header longer than the file, or whose shape needs more bytes
/// than the file holds, before anything is allocated for it (a 200-byte
/// file may claim a 4 GB header or an array of 10^18 elements).
fn check_size(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    if let Some((start, end)) = header_extent(bytes) {
        if end > bytes.len() {
            return Err(bad(
                path,
                format!(
                    "the header claims {} bytes of header text, but the file is {} bytes long: \
                     the file is truncated or its header is wrong",
                    end - start,
                    bytes.len()
                ),
            ));
        }
    }
    let Some((shape, item, data_start)) = header_shape(bytes) else {
        return Ok(());
    };
    let needed = shape.iter().try_fold(item, |acc, &n| acc.checked_mul(n));
    let available = bytes.len().saturating_sub(data_start) as u64;
    if needed.is_none_or(|n| n > available) {
        let shown: Vec<String> = shape.iter().map(u64::to_string).collect();
        let needed = needed.map_or("more than 2^64".to_string(), |n| n.to_string());
        return Err(bad(
            path,
            format!(
                "the header claims shape ({}) of {item}-byte elements, which needs {needed} bytes of data, \
                 but the file is {} bytes long ({available} bytes after the header): the file is truncated or its header is wrong",
                shown.join(", "),
                bytes.len()
            ),
        ));
    }
    Ok(())
}

fn read_features(path: &Path) -> Result<Array2<f64>, DataError> {
    if let Some(a) = little_endian_c_order(path) {
        return Ok(a);
    }
    let bytes = read_bytes(path)?;
    check_size(path, &bytes)?;
    let what = "the features";
    if let Some(a) = try_read::<f64, ndarray::Ix2>(path, &bytes, what)? {
        return Ok(standard(a));
    }
    if let Some(a) = try_read::<f32, ndarray::Ix2>(path, &bytes, what)? {
        return Ok(standard(a.mapv(f64::from)));
    }
    Err(bad(
        path,
        format!(
            "features must be float32 or float64 (little- or big-endian), found dtype {}",
            descriptor(&bytes)
        ),
    ))
}

/// The common case read fast: a two-dimensional little-endian float64 or
/// float32 array in C order whose data is exactly as long as its shape
/// needs, streamed from the file into the result through one small buffer
/// (the whole-file path touches three times the memory: at 60,000 x 784,
/// 1.2 s against 0.3 s on the benchmark machine, where fresh pages are
/// slow). `None` for anything else, and on any read error: the general
/// reader then reads or reports the file.
fn little_endian_c_order(path: &Path) -> Option<Array2<f64>> {
    const HEAD: usize = 4096;
    const BLOCK: usize = 1 << 20;
    let mut file = std::fs::File::open(path).ok()?;
    let length = usize::try_from(file.metadata().ok()?.len()).ok()?;
    let mut head = vec![0u8; HEAD.min(length)];
    file.read_exact(&mut head).ok()?;
    let (start, end) = header_extent(&head)?;
    let header = std::str::from_utf8(head.get(start..end)?).ok()?;
    if !header.contains("'fortran_order': False") {
        return None;
    }
    let (shape, _, data_start) = header_shape(&head)?;
    let [rows, cols] = shape[..] else {
        return None;
    };
    let (rows, cols) = (usize::try_from(rows).ok()?, usize::try_from(cols).ok()?);
    let count = rows.checked_mul(cols)?;
    let item = match descriptor(&head).as_str() {
        "<f8" => 8,
        "<f4" => 4,
        _ => return None,
    };
    if length.checked_sub(data_start)? != count.checked_mul(item)? {
        return None;
    }
    file.seek(SeekFrom::Start(data_start as u64)).ok()?;
    let mut values: Vec<f64> = Vec::with_capacity(count);
    // A whole number of items per read.
    let mut block = vec![0u8; BLOCK - BLOCK % item];
    let mut left = count * item;
    while left > 0 {
        let chunk_length = left.min(block.len());
        let chunk = &mut block[..chunk_length];
        file.read_exact(chunk).ok()?;
        left -= chunk.len();
        if item == 8 {
            values.extend(
                chunk
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))),
            );
        } else {
            values.extend(
                chunk
                    .chunks_exact(4)
                    .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes")))),
            );
        }
    }
    // The file grew while it was read: let the general reader decide.
    if file.read(&mut [0u8]).ok()? != 0 {
        return None;
    }
    Array2::from_shape_vec((rows, cols), values).ok()
}

/// The array in C order: itself when it is (no copy), else a C-order copy
/// (Fortran-order files load as transposed layouts).
fn standard(a: Array2<f64>) -> Array2<f64> {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    }
}

fn read_labels(path: &Path) -> Result<Vec<LabelValue>, DataError> {
    let bytes = read_bytes(path)?;
    check_size(path, &bytes)?;
    macro_rules! attempt {
        ($($t:ty),*) => {
            $(
                if let Some(a) = try_read::<$t, ndarray::Ix1>(path, &bytes, "the labels")? {
                    return integer_labels(path, a);
                }
            )*
        };
    }
    attempt!(i64, i32, u8, i16, i8, u16, u32, u64);
    Err(bad(
        path,
        format!(
            "labels must be integers (int8..int64 or uint8..uint64), found dtype {}",
            descriptor(&bytes)
        ),
    ))
}

/// Integer labels as numbers; values beyond 2^53 cannot be told apart as
/// `f64` and are rejected.
fn integer_labels<T>(path: &Path, a: Array1<T>) -> Result<Vec<LabelValue>, DataError>
where
    T: Copy + TryInto<i128>,
{
    const EXACT: i128 = 1 << 53;
    a.iter()
        .enumerate()
        .map(|(i, &v)| {
            let Ok(v) = v.try_into() else {
                unreachable!("every supported integer type fits in i128")
            };
            let v: i128 = v;
            if v.abs() > EXACT {
                Err(bad(
                    path,
                    format!("label {v} of row {i} is too large (labels must be below 2^53)"),
                ))
            } else {
                Ok(LabelValue::Number(v as f64))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray_npy::WriteNpyExt;

    fn npy<A: ndarray_npy::WritableElement>(array: &Array2<A>) -> Vec<u8> {
        let mut bytes = Vec::new();
        array.write_npy(&mut bytes).unwrap();
        bytes
    }

    fn fast(bytes: &[u8]) -> Option<Array2<f64>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        std::fs::write(&path, bytes).unwrap();
        little_endian_c_order(&path)
    }

    /// The fast path decodes every value exactly as the general reader,
    /// across several of its blocks.
    #[test]
    fn fast_path_agrees_with_the_general_reader() {
        let specials = [0.0, -0.0, 1e-310, -2.5e300, f64::MAX, 1.0 / 3.0, 7.0];
        let wide = Array2::from_shape_fn((70_001, 5), |(i, k)| {
            specials[(i + k) % 7] * (i * 5 + k + 1) as f64
        });
        let bytes = npy(&wide);
        let general = Array2::<f64>::read_npy(&bytes[..]).unwrap();
        let fast_wide = fast(&bytes).expect("C-order float64 takes the fast path");
        assert_eq!(fast_wide.shape(), general.shape());
        assert!(fast_wide
            .iter()
            .zip(&general)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        let narrow = wide.mapv(|x| x as f32);
        let bytes = npy(&narrow);
        let general = Array2::<f32>::read_npy(&bytes[..]).unwrap().mapv(f64::from);
        let fast_narrow = fast(&bytes).expect("C-order float32 takes the fast path");
        assert!(fast_narrow
            .iter()
            .zip(&general)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    /// Fortran order, a truncated or over-long file, and other dtypes and
    /// ranks are left to the general reader (which reads or reports them).
    #[test]
    fn fast_path_declines_what_it_does_not_read() {
        let a = Array2::from_shape_fn((3, 4), |(i, k)| (i * 4 + k) as f64);
        let bytes = npy(&a);
        let (c_order, fortran_order) = (b"'fortran_order': False", b"'fortran_order': True ");
        let at = bytes
            .windows(c_order.len())
            .position(|w| w == c_order)
            .expect("a C-order header");
        let mut fortran = bytes.clone();
        fortran[at..at + c_order.len()].copy_from_slice(fortran_order);
        assert!(fast(&fortran).is_none());
        assert!(fast(&bytes).is_some());
        assert!(fast(&bytes[..bytes.len() - 1]).is_none());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(fast(&longer).is_none());
        assert!(fast(&npy(&a.mapv(|x| x as i32))).is_none());
        let mut one_dimensional = Vec::new();
        ndarray::Array1::from(vec![1.0f64, 2.0])
            .write_npy(&mut one_dimensional)
            .unwrap();
        assert!(fast(&one_dimensional).is_none());
        assert!(fast(b"\x93NUMPY").is_none());
    }
}
