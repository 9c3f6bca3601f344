//! Exact separation: the minimum l_p distance between differently-labelled
//! points (construction.md section 1), with the pair that attains it.

use crate::norm::Norm;
use ndarray::ArrayView2;

/// The separation of a labelled point set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Separation {
    /// delta_p: min ||x_i - x_j||_p over pairs with different labels
    /// (`f64::INFINITY` when every point has the same label).
    pub delta: f64,
    /// A pair (i, j), i < j, attaining it, or `None` with fewer than two labels.
    pub pair: Option<(usize, usize)>,
}

/// Reference implementation: every differently-labelled pair, one at a time.
/// Ties are broken towards the lexicographically smallest (i, j).
pub fn separation_brute_force(points: ArrayView2<f64>, labels: &[u32], norm: Norm) -> Separation {
    let mut best = Separation {
        delta: f64::INFINITY,
        pair: None,
    };
    let n = points.nrows();
    for i in 0..n {
        let xi = points.row(i);
        let xi = xi.as_slice().expect("rows are contiguous");
        for j in (i + 1)..n {
            if labels[i] == labels[j] {
                continue;
            }
            let xj = points.row(j);
            let d = norm.distance(xi, xj.as_slice().expect("rows are contiguous"));
            if d < best.delta {
                best = Separation {
                    delta: d,
                    pair: Some((i, j)),
                };
            }
        }
    }
    best
}

/// The exact separation (the fast, blocked, parallel kernel replaces this body).
pub fn separation(points: ArrayView2<f64>, labels: &[u32], norm: Norm) -> Separation {
    separation_brute_force(points, labels, norm)
}
