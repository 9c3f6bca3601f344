//! The strategies of specs/construction.md section 3: orthonormal rows, the span's
//! isometry on the data, identity's exact separation, random determinism,
//! PCA's ordering and sign convention.

mod projection_support;

use ndarray::{s, Array2};
use projection_support::{blobs, dataset, gaussian, orthonormality_error, random_labelled, rng};
use robmem::analysis::separation::separation;
use robmem::construct::projection::{
    identity, pca, random, span, PcaBasis, ProjectionError, Strategy,
};
use robmem::norm::Norm;

fn pairwise(points: &Array2<f64>) -> Vec<f64> {
    let n = points.nrows();
    let mut out = Vec::new();
    for i in 0..n {
        for j in (i + 1)..n {
            let diff = &points.row(i) - &points.row(j);
            out.push(diff.dot(&diff).sqrt());
        }
    }
    out
}

#[test]
fn rows_are_orthonormal_for_span_random_and_pca() {
    let data = random_labelled(12, 30, 3, 1);
    let s = span(&data, Norm::L2).unwrap();
    assert_eq!(s.m(), 11);
    assert!(orthonormality_error(&s.matrix) < 1e-10);
    for m in [1, 5, 30] {
        let r = random(&data, m, 42, 0, Norm::L2).unwrap();
        assert_eq!(r.m(), m);
        assert!(orthonormality_error(&r.matrix) < 1e-10);
        // m = 30 > rank 11: the extra directions are still orthonormal.
        let p = pca(&data, m, Norm::L2).unwrap();
        assert_eq!(p.m(), m);
        assert!(orthonormality_error(&p.matrix) < 1e-10);
        for proj in [&r, &p] {
            assert!((1.0..1.0 + 1e-9).contains(&proj.norm_bound));
        }
    }
}

#[test]
fn span_is_an_isometry_on_the_data() {
    let data = random_labelled(15, 40, 4, 2);
    let s = span(&data, Norm::L2).unwrap();
    let projected = s.project(&data);
    let before = pairwise(&data.points);
    let after = pairwise(&projected.points);
    for (a, b) in before.iter().zip(&after) {
        assert!((a - b).abs() <= 1e-9 * a, "{a} vs {b}");
    }
    let delta = separation(data.points.view(), &data.labels, Norm::L2).delta;
    assert!((projected.delta - delta).abs() <= 1e-9 * delta);
    assert_eq!(s.strategy, Strategy::Span);
    assert_eq!(s.draws, 1);
}

#[test]
fn span_handles_rank_deficient_data() {
    // 10 points in a 3-dimensional affine subspace of R^20.
    let mut r = rng(3);
    let coeffs = gaussian(10, 3, &mut r);
    let basis = gaussian(3, 20, &mut r);
    let offset = gaussian(1, 20, &mut r);
    let points = coeffs.dot(&basis) + offset.row(0);
    let data = dataset(points, &[0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    let s = span(&data, Norm::L2).unwrap();
    assert_eq!(s.m(), 3);
    assert!(orthonormality_error(&s.matrix) < 1e-10);
    let projected = s.project(&data);
    for (a, b) in pairwise(&data.points)
        .iter()
        .zip(&pairwise(&projected.points))
    {
        assert!((a - b).abs() <= 1e-9 * a, "{a} vs {b}");
    }
}

#[test]
fn span_refuses_when_it_cannot_help_and_on_coincident_points() {
    let data = random_labelled(11, 10, 2, 4);
    assert_eq!(
        span(&data, Norm::L2).unwrap_err(),
        ProjectionError::SpanNotNeeded {
            points: 11,
            dim: 10
        }
    );
    let same = dataset(Array2::from_elem((3, 5), 0.25), &[0, 1, 0]);
    assert_eq!(
        span(&same, Norm::L2).unwrap_err(),
        ProjectionError::DegenerateData
    );
}

#[test]
fn identity_keeps_the_l2_separation_and_certifies_half_of_it() {
    let data = random_labelled(40, 6, 3, 5);
    let delta2 = separation(data.points.view(), &data.labels, Norm::L2).delta;
    let id = identity(&data, Norm::L2);
    assert_eq!(id.m(), 6);
    assert_eq!(id.norm_bound, 1.0);
    let projected = id.project(&data);
    assert!((projected.delta - delta2).abs() <= 1e-12 * delta2);
    let sigma = id.sigma_max(&projected);
    assert!(sigma <= delta2 / 2.0 * (1.0 + 1e-12));
    assert!(sigma >= delta2 / 2.0 * (1.0 - 1e-12));
    // The centre is the data mean.
    let mean = data.points.mean_axis(ndarray::Axis(0)).unwrap();
    assert_eq!(id.centre, mean);
    // l_inf: ||I||_{inf->2} = sqrt(d).
    let id_inf = identity(&data, Norm::Linf);
    assert!((6f64.sqrt()..6f64.sqrt() * (1.0 + 1e-12)).contains(&id_inf.norm_bound));
}

#[test]
fn random_is_deterministic_per_seed_and_draw() {
    let data = random_labelled(20, 16, 2, 6);
    let a = random(&data, 5, 9, 0, Norm::L2).unwrap();
    let b = random(&data, 5, 9, 0, Norm::L2).unwrap();
    assert_eq!(a.matrix, b.matrix, "same seed, same U bit for bit");
    let c = random(&data, 5, 10, 0, Norm::L2).unwrap();
    assert_ne!(a.matrix, c.matrix, "different seed");
    let e = random(&data, 5, 9, 1, Norm::L2).unwrap();
    assert_ne!(a.matrix, e.matrix, "different draw");
    assert_eq!((a.draws, e.draws), (1, 2));
    // Nested: the rows for m = 3 are the first rows for m = 5.
    let small = random(&data, 3, 9, 0, Norm::L2).unwrap();
    let diff = &small.matrix - &a.matrix.slice(s![..3, ..]);
    assert!(diff.iter().all(|x| x.abs() < 1e-12));
    assert_eq!(
        random(&data, 17, 9, 0, Norm::L2).unwrap_err(),
        ProjectionError::WidthTooLarge { m: 17, dim: 16 }
    );
    assert_eq!(
        random(&data, 0, 9, 0, Norm::L2).unwrap_err(),
        ProjectionError::ZeroWidth
    );
}

#[test]
fn pca_orders_directions_by_variance_with_a_sign_convention() {
    // Variance along coordinate k is about (k + 1)^2.
    let mut r = rng(8);
    let mut points = gaussian(500, 4, &mut r);
    for k in 0..4 {
        points.column_mut(k).mapv_inplace(|x| x * (k + 1) as f64);
    }
    let data = dataset(points, &vec![0; 500]);
    let basis = PcaBasis::new(&data);
    assert!(basis.variances.windows(2).all(|w| w[0] >= w[1]));
    for (k, row) in basis.directions.outer_iter().enumerate() {
        // Direction k is close to the coordinate axis 3 - k, sign positive.
        let axis = 3 - k;
        assert!(row[axis] > 0.95, "{row}");
        let largest = row.iter().fold(0.0f64, |a, &b| a.max(b.abs()));
        assert_eq!(largest, row[axis]);
    }
    let p = pca(&data, 2, Norm::L2).unwrap();
    assert_eq!(p.matrix, basis.directions.slice(s![..2, ..]));
}

#[test]
fn projected_points_are_u_times_centred_points() {
    let data = blobs(2500, 12, 3, 0.1, 9); // more than one projection block
    let p = pca(&data, 4, Norm::L1).unwrap();
    let z = p.transform(data.points.view());
    let expected = (&data.points - &p.centre).dot(&p.matrix.t());
    let err = (&z - &expected).iter().fold(0.0f64, |a, &b| a.max(b.abs()));
    assert!(err < 1e-12, "{err}");
}

#[test]
fn pca_directions_are_eigenvectors_of_the_scatter_matrix_on_both_routes() {
    // N > d: the d x d scatter route; N <= d: the Gram route.
    for &(n, d) in &[(60, 10), (12, 40)] {
        let data = random_labelled(n, d, 2, 40 + n as u64);
        let basis = PcaBasis::new(&data);
        let centred = &data.points - &basis.centre;
        let scatter = centred.t().dot(&centred);
        let k = basis.directions.nrows();
        assert_eq!(k, d.min(n - 1), "n = {n}, d = {d}");
        assert_eq!(basis.variances.len(), k);
        for (j, row) in basis.directions.outer_iter().enumerate() {
            let image = scatter.dot(&row);
            let residual = &image - &(&row * basis.variances[j]);
            let scale = basis.variances[0];
            assert!(
                residual.iter().all(|x| x.abs() < 1e-9 * scale),
                "n = {n}, d = {d}, direction {j}"
            );
        }
        // On the Gram route the top rank directions span the data: the same
        // rows as span, up to sign.
        if n <= d {
            let s = span(&data, Norm::L2).unwrap();
            let p = pca(&data, s.m(), Norm::L2).unwrap();
            for (a, b) in s.matrix.outer_iter().zip(p.matrix.outer_iter()) {
                assert!((a.dot(&b).abs() - 1.0).abs() < 1e-9);
            }
            // And beyond the rank the completion stays orthonormal.
            let full = pca(&data, d, Norm::L2).unwrap();
            assert!(orthonormality_error(&full.matrix) < 1e-10);
        }
    }
}

#[test]
fn rounding_to_f32_keeps_a_valid_bound_for_the_rounded_matrix() {
    let data = blobs(200, 20, 3, 0.1, 50);
    for norm in [Norm::L1, Norm::L2, Norm::Linf, Norm::Lp(3.0)] {
        let p = pca(&data, 6, norm).unwrap();
        let q = p.rounded_to_f32();
        assert!(q.matrix.iter().all(|&x| x == x as f32 as f64));
        assert!(q.centre.iter().all(|&x| x == x as f32 as f64));
        assert_eq!(
            q.norm_bound,
            robmem::construct::projection::operator_norm_bound(q.matrix.view(), norm)
        );
        assert!((q.norm_bound - p.norm_bound).abs() < 1e-6 * p.norm_bound);
        assert_eq!((q.strategy, q.draws), (p.strategy, p.draws));
    }
    let id = identity(&data, Norm::L2).rounded_to_f32();
    assert_eq!(id.norm_bound, 1.0);
}

#[test]
fn constant_coordinates_get_exactly_zero_columns_and_sharper_bounds() {
    // d = 10, coordinates 7, 8, 9 constant (a "dead pixel" and two more).
    let mut r = rng(60);
    let mut points = gaussian(200, 10, &mut r);
    for (j, value) in [(7, 0.0), (8, 0.3), (9, -1.7)] {
        points.column_mut(j).fill(value);
    }
    let labels: Vec<u32> = (0..200).map(|i| (i % 3) as u32).collect();
    let data = dataset(points.clone(), &labels);
    let p = pca(&data, 3, Norm::Linf).unwrap();
    for j in 7..10 {
        assert!(p.matrix.column(j).iter().all(|&x| x == 0.0), "column {j}");
    }
    assert!(orthonormality_error(&p.matrix) < 1e-10);
    // sqrt(7) instead of sqrt(10).
    let s7 = 7f64.sqrt();
    assert!(
        (s7..s7 * (1.0 + 1e-9)).contains(&p.norm_bound),
        "{}",
        p.norm_bound
    );
    let p4 = pca(&data, 3, Norm::Lp(4.0)).unwrap();
    let e = 7f64.powf(0.25);
    assert!((e..e * (1.0 + 1e-9)).contains(&p4.norm_bound));
    // The full rotation keeps every column (it needs the dead axes).
    let full = pca(&data, 10, Norm::L2).unwrap();
    assert!(orthonormality_error(&full.matrix) < 1e-10);
    assert!(full
        .matrix
        .columns()
        .into_iter()
        .all(|c| c.iter().any(|&x| x != 0.0)));

    // Span with N <= d: dead columns zeroed, still an isometry.
    let few = dataset(points.slice(s![..6, ..]).to_owned(), &labels[..6]);
    let sp = span(&few, Norm::Linf).unwrap();
    assert!(sp.matrix.slice(s![.., 7..]).iter().all(|&x| x == 0.0));
    let projected = sp.project(&few);
    for (a, b) in pairwise(&few.points)
        .iter()
        .zip(&pairwise(&projected.points))
    {
        assert!((a - b).abs() <= 1e-9 * a, "{a} vs {b}");
    }
}

#[test]
fn the_bound_follows_the_matrix_not_the_strategy_label() {
    use ndarray::{array, Array1};
    use robmem::construct::projection::{operator_norm_bound, Projection};
    let scaled = array![[2.0, 0.0], [0.0, 1.0]];
    let p = Projection::new(
        Strategy::Identity,
        scaled.clone(),
        Array1::zeros(2),
        Norm::L2,
    );
    assert_eq!(p.norm_bound, operator_norm_bound(scaled.view(), Norm::L2));
    assert!(p.norm_bound >= 2.0);
}
