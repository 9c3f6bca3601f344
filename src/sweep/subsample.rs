//! The seeded subsample of a `points = N` sweep value: the first N points
//! of a seeded permutation of the data set, kept in the data set's order.
//!
//! The permutation is a Fisher-Yates shuffle of `0..len` driven by ChaCha8
//! seeded with the combination's `seed` (platform-independent), so the
//! subsamples of one seed are nested: the 100 points are among the 200.
//! N equal to the data set's size gives the whole data set, unchanged.

use crate::data::{DataError, Dataset, LabelValue, Provenance};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Why a subsample cannot be drawn.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SubsampleError {
    /// More points were asked for than the data set has.
    #[error("`points = {asked}` asks for more points than data set `{dataset}` has ({available})")]
    TooMany {
        /// N asked for.
        asked: usize,
        /// The data set's size.
        available: usize,
        /// Its name.
        dataset: String,
    },
    /// The subsample is not a valid data set (never for a valid one).
    #[error(transparent)]
    Data(#[from] DataError),
}

/// The indices of the subsample of `n` of `len` points drawn with `seed`,
/// ascending. `n <= len`.
pub fn indices(len: usize, n: usize, seed: u64) -> Vec<usize> {
    debug_assert!(n <= len);
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    order.truncate(n);
    order.sort_unstable();
    order
}

/// The subsample of `n` points of `data` (named `name`) drawn with `seed`.
/// Class indices follow the language's rule on the subsample (a label no
/// drawn point carries is not a class of it). Points keep their source
/// lines, or their rows in a `.npy` file.
pub fn subsample(
    data: &Dataset,
    name: &str,
    n: usize,
    seed: u64,
) -> Result<Dataset, SubsampleError> {
    if n > data.len() {
        return Err(SubsampleError::TooMany {
            asked: n,
            available: data.len(),
            dataset: name.to_string(),
        });
    }
    if n == data.len() {
        return Ok(data.clone());
    }
    let chosen = indices(data.len(), n, seed);
    let points = data.points.select(ndarray::Axis(0), &chosen);
    let labels: Vec<LabelValue> = chosen
        .iter()
        .map(|&i| data.classes.values[data.labels[i] as usize].clone())
        .collect();
    let provenance = match &data.provenance {
        Provenance::Inline { file, lines } => Provenance::Inline {
            file: file.clone(),
            lines: chosen.iter().map(|&i| lines[i]).collect(),
        },
        Provenance::Csv { file, lines } => Provenance::Csv {
            file: file.clone(),
            lines: chosen.iter().map(|&i| lines[i]).collect(),
        },
        Provenance::Npy { features, rows } => Provenance::Npy {
            features: features.clone(),
            rows: Some(
                chosen
                    .iter()
                    .map(|&i| rows.as_ref().map_or(i, |rows| rows[i]))
                    .collect(),
            ),
        },
        Provenance::Generated { description } => Provenance::Generated {
            description: format!("{n} points of {description} drawn with seed {seed}"),
        },
    };
    Ok(Dataset::from_raw(points, &labels, provenance)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn data(n: usize) -> Dataset {
        let points = Array2::from_shape_fn((n, 2), |(i, j)| (i * 2 + j) as f64);
        let labels: Vec<LabelValue> = (0..n).map(|i| LabelValue::Number((i % 3) as f64)).collect();
        let lines = (0..n).map(|i| i + 10).collect();
        let provenance = Provenance::Csv {
            file: "d.csv".into(),
            lines,
        };
        Dataset::from_raw(points, &labels, provenance).unwrap()
    }

    #[test]
    fn subsamples_are_seeded_nested_and_keep_their_lines() {
        let d = data(50);
        let a = indices(50, 10, 7);
        assert_eq!(a, indices(50, 10, 7), "same seed, same points");
        assert_ne!(a, indices(50, 10, 8), "another seed draws others");
        let b = indices(50, 20, 7);
        assert!(
            a.iter().all(|i| b.contains(i)),
            "10 of seed 7 are among its 20"
        );
        let s = subsample(&d, "d", 10, 7).unwrap();
        assert_eq!(s.len(), 10);
        for (row, &i) in a.iter().enumerate() {
            assert_eq!(s.points.row(row), d.points.row(i));
            assert_eq!(
                s.provenance.describe(row),
                Some(format!("line {} of d.csv", i + 10))
            );
        }
    }

    #[test]
    fn npy_subsamples_keep_their_rows_even_when_drawn_twice() {
        let mut d = data(50);
        d.provenance = Provenance::Npy {
            features: "x.npy".into(),
            rows: None,
        };
        let outer = subsample(&d, "d", 20, 7).unwrap();
        let inner = subsample(&outer, "d", 5, 3).unwrap();
        let outer_rows = indices(50, 20, 7);
        for (point, &i) in indices(20, 5, 3).iter().enumerate() {
            let row = outer_rows[i];
            assert_eq!(inner.points.row(point), d.points.row(row));
            assert_eq!(
                inner.provenance.describe(point),
                Some(format!("row {row} of x.npy"))
            );
        }
    }

    #[test]
    fn the_whole_set_is_itself_and_more_is_an_error() {
        let d = data(5);
        assert_eq!(subsample(&d, "d", 5, 3).unwrap().points, d.points);
        assert_eq!(
            subsample(&d, "d", 6, 3).unwrap_err().to_string(),
            "`points = 6` asks for more points than data set `d` has (5)"
        );
    }
}
