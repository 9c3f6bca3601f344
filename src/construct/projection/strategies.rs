//! The concrete maps of specs/construction.md section 3: identity, data span,
//! seeded Haar-random rows and principal components. Every strategy centres
//! at the data mean `mu` and produces orthonormal rows.

use super::{Projection, ProjectionError, Strategy};
use crate::data::Dataset;
use crate::norm::Norm;
use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// The data mean `mu` (the centre of every strategy).
pub fn data_mean(points: ArrayView2<f64>) -> Array1<f64> {
    points
        .mean_axis(Axis(0))
        .expect("a data set has at least one point")
}

/// `U = I_d`, m = d, centred at the data mean.
pub fn identity(data: &Dataset, norm: Norm) -> Projection {
    let d = data.dim();
    Projection::new(
        Strategy::Identity,
        Array2::eye(d),
        data_mean(data.points.view()),
        norm,
    )
}

/// Relative eigenvalue threshold of [`span`]: eigenvalues of the centred
/// Gram matrix below `max(1e-13, 8 d eps) * lambda_max` are rounding noise
/// (forming the Gram matrix alone perturbs them by about `d eps lambda_max`).
fn span_threshold(d: usize) -> f64 {
    (8.0 * d as f64 * f64::EPSILON).max(1e-13)
}

/// An orthonormal basis of the span of the centred points `x_i - mu`, when
/// N - 1 < d (specs/construction.md section 3): an isometry on the data (every
/// distance between data points is kept) with m = rank <= N - 1. Rows are
/// ordered by decreasing variance (they are the principal directions).
///
/// Errors: [`ProjectionError::SpanNotNeeded`] when N - 1 >= d (use identity),
/// [`ProjectionError::DegenerateData`] when all points coincide.
pub fn span(data: &Dataset, norm: Norm) -> Result<Projection, ProjectionError> {
    let (n, d) = data.points.dim();
    if n > d {
        return Err(ProjectionError::SpanNotNeeded { points: n, dim: d });
    }
    let (mu, _, rows) = gram_directions(data);
    if rows.nrows() == 0 {
        return Err(ProjectionError::DegenerateData);
    }
    Ok(Projection::new(Strategy::Span, rows, mu, norm))
}

/// The principal directions of the centred data through its N x N Gram
/// matrix `X_c X_c^T` (cheap when N is small and d large): for each
/// eigenvalue above a relative threshold, the direction
/// `X_c^T v_k / sqrt(lambda_k)` (a combination of data points, so inside
/// their span), then a QR re-orthonormalisation for accuracy. Returns the
/// mean, the kept eigenvalues (descending) and the rank x d orthonormal
/// rows (possibly none, when all points coincide).
fn gram_directions(data: &Dataset) -> (Array1<f64>, Vec<f64>, Array2<f64>) {
    let (n, d) = data.points.dim();
    let mu = data_mean(data.points.view());
    let centred = &data.points - &mu;
    let gram = centred.dot(&centred.t());
    let (values, vectors) = sorted_eigen(gram.view());
    let lambda_max = values.first().copied().unwrap_or(0.0).max(0.0);
    let cut = lambda_max * span_threshold(d);
    let rank = if lambda_max > 0.0 {
        values
            .iter()
            .take(n.saturating_sub(1))
            .take_while(|&&l| l > cut)
            .count()
    } else {
        0
    };
    // Columns X_c^T v_k / sqrt(lambda_k), k < rank: d x rank.
    let mut basis = centred.t().dot(&vectors.slice(s![.., ..rank]));
    for (k, mut column) in basis.axis_iter_mut(Axis(1)).enumerate() {
        column /= values[k].sqrt();
    }
    let mut rows = orthonormal_rows(basis.view());
    zero_constant_columns(&mut rows, &constant_coordinates(data.points.view()));
    (mu, values[..rank].to_vec(), rows)
}

/// The first m rows of a Haar-random orthogonal d x d matrix (specs/construction.md
/// section 3, the paper's choice), seeded by `(seed, draw)`.
///
/// A d x m standard Gaussian matrix `G` is drawn column by column from a
/// ChaCha8 stream whose key is `SHA-256("robmem/projection/random" || seed)`
/// (separated from the data generators' streams) and whose stream number is
/// `draw`; then `G = Q R` (Householder QR), column k of `Q` multiplied by
/// `sign(R_kk)`, and `U = Q^T`. Because `G`'s columns come in order and QR
/// of a prefix of columns is the prefix of the QR, the rows for m are the
/// first m rows of the rows for any larger m (nested maps: the projected
/// separation can only grow with m).
///
/// Errors: m = 0 or m > d.
pub fn random(
    data: &Dataset,
    m: usize,
    seed: u64,
    draw: u64,
    norm: Norm,
) -> Result<Projection, ProjectionError> {
    let d = data.dim();
    check_width(m, d)?;
    let mut rng = random_stream(seed, draw);
    let entries: Vec<f64> = (0..d * m).map(|_| rng.sample(StandardNormal)).collect();
    let gaussian = DMatrix::from_vec(d, m, entries); // column-major: column k is entries[k d ..]
    let qr = gaussian.clone().qr();
    let q = qr.q();
    let mut matrix = Array2::zeros((m, d));
    for k in 0..m {
        // R_kk = <q_k, g_k>; its sign fixes the column's sign whatever the
        // library's Householder convention.
        let r_kk = q.column(k).dot(&gaussian.column(k));
        let sign = if r_kk < 0.0 { -1.0 } else { 1.0 };
        for i in 0..d {
            matrix[[k, i]] = sign * q[(i, k)];
        }
    }
    let mut projection = Projection::new(
        Strategy::Random,
        matrix,
        data_mean(data.points.view()),
        norm,
    );
    projection.draws = usize::try_from(draw).map_or(usize::MAX, |d| d.saturating_add(1));
    Ok(projection)
}

/// The ChaCha8 stream of [`random`].
fn random_stream(seed: u64, draw: u64) -> ChaCha8Rng {
    let mut hasher = Sha256::new();
    hasher.update(b"robmem/projection/random");
    hasher.update(seed.to_le_bytes());
    let key: [u8; 32] = hasher.finalize().into();
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(draw);
    rng
}

/// The principal directions of a data set, computed once and sliced for any
/// m ([`PcaBasis::projection`]).
#[derive(Clone, Debug)]
pub struct PcaBasis {
    /// The data mean.
    pub centre: Array1<f64>,
    /// Eigenvalues of `X_c^T X_c` (N times the covariance), descending, one
    /// per row of `directions`.
    pub variances: Vec<f64>,
    /// k x d orthonormal rows, row j the j-th principal direction with its
    /// largest-magnitude entry positive (the first such entry on ties).
    /// k = d when N > d (all directions); k = the data's rank when N <= d
    /// (the directions of nonzero variance; [`PcaBasis::projection`]
    /// completes them when more are asked for).
    pub directions: Array2<f64>,
    /// Which coordinates are constant over the data.
    constant: Vec<bool>,
}

impl PcaBasis {
    /// The principal directions of the centred data.
    ///
    /// When N > d: eigen-decomposition of the d x d scatter matrix
    /// `X_c^T X_c`, formed by blocked matrix products on both cores without
    /// materialising `X_c`; cost O(N d^2) + O(d^3). When N <= d: through the
    /// N x N Gram matrix, as [`span`] does; cost O(N^2 d) + O(N^3).
    pub fn new(data: &Dataset) -> PcaBasis {
        let (n, d) = data.points.dim();
        let (centre, variances, mut directions) = if n > d {
            let mu = data_mean(data.points.view());
            let scatter = centred_scatter(data.points.view(), mu.view());
            let (values, vectors) = sorted_eigen(scatter.view());
            (mu, values, vectors.reversed_axes())
        } else {
            gram_directions(data)
        };
        for row in directions.axis_iter_mut(Axis(0)) {
            largest_entry_positive(row);
        }
        PcaBasis {
            centre,
            variances,
            directions,
            constant: constant_coordinates(data.points.view()),
        }
    }

    /// The top-m principal directions as a projection. When m exceeds the
    /// number of stored directions (only when N <= d and m > rank), the
    /// extra rows complete them orthonormally (directions of zero variance):
    /// a QR of the stored rows followed by the coordinate axes least covered
    /// by them. Errors: m = 0 or m > d.
    pub fn projection(&self, m: usize, norm: Norm) -> Result<Projection, ProjectionError> {
        let (k, d) = self.directions.dim();
        check_width(m, d)?;
        let mut matrix = if m <= k {
            self.directions.slice(s![..m, ..]).to_owned()
        } else {
            // Coordinate axes by increasing squared length of their
            // projection onto the stored rows (column norms of the rows).
            let mut axes: Vec<(f64, usize)> = self
                .directions
                .axis_iter(Axis(1))
                .map(|c| c.dot(&c))
                .zip(0..d)
                .collect();
            axes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut columns = Array2::zeros((d, m));
            columns.slice_mut(s![.., ..k]).assign(&self.directions.t());
            for (j, &(_, axis)) in axes.iter().take(m - k).enumerate() {
                columns[[axis, k + j]] = 1.0;
            }
            let mut rows = orthonormal_rows(columns.view());
            for row in rows.axis_iter_mut(Axis(0)).skip(k) {
                largest_entry_positive(row);
            }
            rows
        };
        zero_constant_columns(&mut matrix, &self.constant);
        Ok(Projection::new(
            Strategy::Pca,
            matrix,
            self.centre.clone(),
            norm,
        ))
    }
}

/// Largest column norm [`zero_constant_columns`] treats as rounding noise.
const DEAD_COLUMN: f64 = 1e-12;

/// Sets to exactly zero the columns of `rows` (k x d) that belong to
/// `constant` coordinates (constant over the data) and that the rows barely touch
/// (column norm <= 1e-12: rounding noise, since the centred data is zero
/// there). The projected data is unchanged in exact arithmetic, rows stay
/// orthonormal to about 1e-12, and the norm bounds for p > 2 shrink from
/// `d` to the number of live columns ([`super::operator_norm_bound`]):
/// perturbations of a constant feature (a dead pixel) are then ignored.
/// Columns with more weight (directions of zero variance that PCA needs
/// beyond the rank) are kept.
fn zero_constant_columns(rows: &mut Array2<f64>, constant: &[bool]) {
    for (mut column, &constant) in rows.axis_iter_mut(Axis(1)).zip(constant) {
        if constant && column.dot(&column).sqrt() <= DEAD_COLUMN {
            column.fill(0.0);
        }
    }
}

/// For each coordinate, whether every data point has the same value there.
fn constant_coordinates(points: ArrayView2<f64>) -> Vec<bool> {
    let first = points.row(0);
    (0..points.ncols())
        .map(|j| points.column(j).iter().all(|&x| x == first[j]))
        .collect()
}

/// The sign convention of PCA directions: flip `row` so that its
/// largest-magnitude entry (the first on ties) is positive.
fn largest_entry_positive(mut row: ndarray::ArrayViewMut1<f64>) {
    let mut best = 0.0f64;
    let mut sign = 1.0;
    for &x in row.iter() {
        if x.abs() > best {
            best = x.abs();
            sign = x.signum();
        }
    }
    row *= sign;
}

/// The top-m principal directions of the centred data (specs/construction.md
/// section 3). Errors: m = 0 or m > d.
pub fn pca(data: &Dataset, m: usize, norm: Norm) -> Result<Projection, ProjectionError> {
    check_width(m, data.dim())?;
    PcaBasis::new(data).projection(m, norm)
}

fn check_width(m: usize, d: usize) -> Result<(), ProjectionError> {
    if m == 0 {
        Err(ProjectionError::ZeroWidth)
    } else if m > d {
        Err(ProjectionError::WidthTooLarge { m, dim: d })
    } else {
        Ok(())
    }
}

/// Rows per block of [`centred_scatter`].
const SCATTER_BLOCK: usize = 1024;
/// Contiguous row groups of [`centred_scatter`], one partial sum each: a
/// fixed number, so the summation order (and the result, bit for bit) does
/// not depend on the number of threads.
const SCATTER_GROUPS: usize = 8;

/// Column tiles of [`centred_scatter`]: only the tiles on and above the
/// diagonal are multiplied (10 of 16 for 4 tiles), the rest mirrored.
const SCATTER_TILES: usize = 4;

/// `X_c^T X_c` for `X_c = X - mu`, without materialising `X_c`: rows are
/// centred block by block and multiplied with ndarray's matrix product,
/// upper tiles only (the result is exactly symmetric).
fn centred_scatter(points: ArrayView2<f64>, mu: ArrayView1<f64>) -> Array2<f64> {
    let (n, d) = points.dim();
    let group_len = n.div_ceil(SCATTER_GROUPS).max(1);
    let tile = d.div_ceil(SCATTER_TILES).max(1);
    let tiles: Vec<(usize, usize)> = (0..d)
        .step_by(tile)
        .map(|a| (a, (a + tile).min(d)))
        .collect();
    let partials: Vec<Array2<f64>> = (0..SCATTER_GROUPS)
        .into_par_iter()
        .map(|g| {
            let mut acc = Array2::<f64>::zeros((d, d));
            let (start, end) = ((g * group_len).min(n), ((g + 1) * group_len).min(n));
            let mut row = start;
            while row < end {
                let stop = (row + SCATTER_BLOCK).min(end);
                let block = &points.slice(s![row..stop, ..]) - &mu;
                for (i, &(a0, a1)) in tiles.iter().enumerate() {
                    for &(b0, b1) in &tiles[i..] {
                        let left = block.slice(s![.., a0..a1]);
                        let right = block.slice(s![.., b0..b1]);
                        let mut out = acc.slice_mut(s![a0..a1, b0..b1]);
                        ndarray::linalg::general_mat_mul(1.0, &left.t(), &right, 1.0, &mut out);
                    }
                }
                row = stop;
            }
            acc
        })
        .collect();
    let mut total = Array2::zeros((d, d));
    for p in &partials {
        total += p;
    }
    // Mirror: tiles below the diagonal from those above; on diagonal tiles
    // average the two triangles so the matrix is exactly symmetric.
    for i in 0..d {
        for j in 0..i {
            let same_tile = i / tile == j / tile;
            let v = if same_tile {
                0.5 * (total[[i, j]] + total[[j, i]])
            } else {
                total[[j, i]]
            };
            total[[i, j]] = v;
            total[[j, i]] = v;
        }
    }
    total
}

/// Eigenvalues (descending) and eigenvectors (as columns, same order) of a
/// symmetric matrix.
fn sorted_eigen(a: ArrayView2<f64>) -> (Vec<f64>, Array2<f64>) {
    let k = a.nrows();
    let eig = SymmetricEigen::new(DMatrix::from_fn(k, k, |i, j| a[[i, j]]));
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&i, &j| {
        eig.eigenvalues[j]
            .total_cmp(&eig.eigenvalues[i])
            .then(i.cmp(&j))
    });
    let values = order.iter().map(|&i| eig.eigenvalues[i]).collect();
    let vectors = Array2::from_shape_fn((k, k), |(r, c)| eig.eigenvectors[(r, order[c])]);
    (values, vectors)
}

/// Orthonormal rows spanning the columns of `basis` (d x r, full column
/// rank), via QR; column k's sign follows `R_kk` so each row stays close to
/// the corresponding input column.
fn orthonormal_rows(basis: ArrayView2<f64>) -> Array2<f64> {
    let (d, r) = basis.dim();
    let b = DMatrix::from_fn(d, r, |i, j| basis[[i, j]]);
    let q = b.clone().qr().q();
    let mut rows = Array2::zeros((r, d));
    for k in 0..r {
        let sign = if q.column(k).dot(&b.column(k)) < 0.0 {
            -1.0
        } else {
            1.0
        };
        for i in 0..d {
            rows[[k, i]] = sign * q[(i, k)];
        }
    }
    rows
}
