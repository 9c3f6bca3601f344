//! The distance construction's map for l2 balls (specs/construction.md
//! section 8, "Choices of V"): unit-norm rows along the differences of the
//! closest differently-labelled pairs.
//!
//! Any V with unit-l2-norm rows maps an l2 ball of radius sigma into the
//! l_inf ball of radius sigma (`||V||_{2->inf}` is the largest row norm),
//! and a row along `x_i - x_j` keeps that pair's l2 distance exactly in
//! l_inf. Rows are added greedily for the pair whose mapped l_inf distance
//! is currently smallest (ties: the closer pair in l2), until every
//! differently-labelled pair differs by at least the target in some row.

use ndarray::{Array1, Array2, ArrayView2};

/// Largest number of points for which the pairs are kept in memory
/// (`N^2 / 2` distances).
pub const MAX_POINTS: usize = 4000;

/// The rows found and the l_inf separation they give.
#[derive(Clone, Debug)]
pub struct Directions {
    /// K x d, unit l2 norm rows.
    pub matrix: Array2<f64>,
    /// min over differently-labelled pairs of `max_k |<v_k, x_i - x_j>|`.
    pub delta_inf: f64,
}

/// Greedy unit directions until the mapped l_inf separation reaches
/// `target` or `max_rows` rows are used. `None` with more than
/// [`MAX_POINTS`] points or fewer than two labels.
pub fn pair_directions(
    points: ArrayView2<f64>,
    labels: &[u32],
    target: f64,
    max_rows: usize,
) -> Option<Directions> {
    let n = points.nrows();
    if n > MAX_POINTS {
        return None;
    }
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut l2: Vec<f64> = Vec::new();
    for i in 0..n {
        for j in (i + 1)..n {
            if labels[i] != labels[j] {
                pairs.push((i as u32, j as u32));
                let d = points
                    .row(i)
                    .iter()
                    .zip(points.row(j))
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt();
                l2.push(d);
            }
        }
    }
    if pairs.is_empty() {
        return None;
    }
    let mut best = vec![0.0f64; pairs.len()];
    let mut rows: Vec<Array1<f64>> = Vec::new();
    loop {
        let worst = (0..pairs.len())
            .min_by(|&a, &b| best[a].total_cmp(&best[b]).then(l2[a].total_cmp(&l2[b])))
            .expect("pairs is not empty");
        if best[worst] >= target || rows.len() >= max_rows || l2[worst] == 0.0 {
            break;
        }
        let (i, j) = (pairs[worst].0 as usize, pairs[worst].1 as usize);
        let row = (&points.row(i) - &points.row(j)) / l2[worst];
        let projected = points.dot(&row);
        for (value, &(a, b)) in best.iter_mut().zip(&pairs) {
            let gap = (projected[a as usize] - projected[b as usize]).abs();
            if gap > *value {
                *value = gap;
            }
        }
        rows.push(row);
    }
    let d = points.ncols();
    let matrix = Array2::from_shape_fn((rows.len(), d), |(k, l)| rows[k][l]);
    let delta_inf = if rows.is_empty() {
        0.0
    } else {
        best.iter().copied().fold(f64::INFINITY, f64::min)
    };
    Some(Directions { matrix, delta_inf })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn one_pair_needs_one_row_that_keeps_its_distance() {
        let points = array![[0.0, 0.0], [3.0, 4.0]];
        let found = pair_directions(points.view(), &[0, 1], 5.0, 4).unwrap();
        assert_eq!(found.matrix.nrows(), 1);
        assert!((found.delta_inf - 5.0).abs() < 1e-12);
        let norm: f64 = found.matrix.row(0).iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rows_are_added_until_every_pair_is_separated() {
        // XOR: two directions are needed for every pair to differ by 1.
        let points = array![[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]];
        let labels = [0, 0, 1, 1];
        let found = pair_directions(points.view(), &labels, 0.7, 8).unwrap();
        assert!(found.delta_inf >= 0.7, "{}", found.delta_inf);
        // Brute force: the claimed separation is the real one.
        let mapped = points.dot(&found.matrix.t());
        let mut smallest = f64::INFINITY;
        for i in 0..4 {
            for j in 0..4 {
                if labels[i] != labels[j] {
                    let gap = (0..mapped.ncols())
                        .map(|k| (mapped[[i, k]] - mapped[[j, k]]).abs())
                        .fold(0.0, f64::max);
                    smallest = smallest.min(gap);
                }
            }
        }
        assert!((smallest - found.delta_inf).abs() < 1e-12);
    }
}
