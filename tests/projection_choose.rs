//! Choosing projections: resampling random maps, PCA against random on
//! clustered data (specs/construction.md section 3), the best map for a width and
//! the narrowest map for a radius.

mod projection_support;

use ndarray::array;
use projection_support::{blobs, dataset, random_labelled};
use robmem::analysis::separation::separation;
use robmem::construct::projection::{
    best_for_width, pca, random, random_until, smallest_m_for_radius, Candidate, ProjectionError,
    Strategy,
};
use robmem::norm::Norm;
use robmem::spec::ProjectionChoice;

/// Two points at distance 1 along e_1 in R^8: a random unit row u keeps
/// distance |u_1|, which exceeds 0.3 (needed for radius 0.15) for only
/// some draws.
fn two_points() -> robmem::data::Dataset {
    let mut points = ndarray::Array2::zeros((2, 8));
    points[[1, 0]] = 1.0;
    dataset(points, &[0, 1])
}

#[test]
fn random_until_counts_the_draws_it_needed() {
    let data = two_points();
    let radius = 0.15;
    let mut saw_resampling = false;
    for seed in 0..40 {
        // The first certifying draw, found by hand.
        let first = (0..64u64).find(|&draw| {
            let p = random(&data, 1, seed, draw, Norm::L2).unwrap();
            p.certifies(&p.project(&data), radius)
        });
        match random_until(&data, 1, seed, Norm::L2, radius, 64) {
            Ok(c) => {
                let first = first.expect("a certifying draw exists");
                assert_eq!(c.projection.draws as u64, first + 1);
                assert!(2.0 * radius * c.projection.norm_bound < c.projected.delta);
                assert!(c.certifies(radius));
                saw_resampling |= first >= 1;
            }
            Err(_) => assert_eq!(first, None),
        }
    }
    assert!(saw_resampling, "some seed needs more than one draw");
    // An impossible radius: every draw fails, and the error says so.
    let err = random_until(&data, 1, 0, Norm::L2, 0.6, 5).unwrap_err();
    match err {
        ProjectionError::NoCertifyingDraw {
            draws,
            best_sigma_max,
            ..
        } => {
            assert_eq!(draws, 5);
            assert!(best_sigma_max < 0.5);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn pca_certifies_more_than_random_on_clusters() {
    // 8 Gaussian clusters in d = 64: the centres span 7 directions, which
    // PCA finds; a random map to m = 7 keeps only about sqrt(7/64) of the
    // distances.
    let data = blobs(400, 64, 8, 0.03, 21);
    let m = 7;
    let p = Candidate::evaluate(pca(&data, m, Norm::L2).unwrap(), &data);
    for draw in 0..5 {
        let r = Candidate::evaluate(random(&data, m, 5, draw, Norm::L2).unwrap(), &data);
        eprintln!(
            "m = {m}: pca sigma_max {:.4}, random draw {draw} {:.4}",
            p.sigma_max, r.sigma_max
        );
        assert!(
            p.sigma_max > 1.5 * r.sigma_max,
            "pca {} vs random {}",
            p.sigma_max,
            r.sigma_max
        );
    }
    // And PCA keeps most of the geometric limit delta_2 / 2.
    let delta2 = separation(data.points.view(), &data.labels, Norm::L2).delta;
    assert!(p.sigma_max > 0.5 * delta2 / 2.0);
}

#[test]
fn best_for_width_picks_the_largest_radius_and_lists_the_rest() {
    let data = blobs(300, 32, 6, 0.03, 22);
    let choice = best_for_width(&data, Norm::L2, 5, 1, None).unwrap();
    let kinds: Vec<Strategy> = choice.considered.iter().map(|c| c.strategy).collect();
    assert_eq!(kinds, vec![Strategy::Pca, Strategy::Random]);
    let top = choice
        .considered
        .iter()
        .map(|c| c.sigma_max)
        .fold(0.0f64, f64::max);
    assert_eq!(choice.best.sigma_max, top);
    assert_eq!(choice.best.projection.strategy, Strategy::Pca);

    // m >= d with few points: identity, span, pca and random all apply; at
    // p = 2 span ties with identity (both keep delta_2) and is narrower.
    let small = random_labelled(10, 12, 2, 23);
    let choice = best_for_width(&small, Norm::L2, 12, 1, None).unwrap();
    let kinds: Vec<Strategy> = choice.considered.iter().map(|c| c.strategy).collect();
    assert_eq!(
        kinds,
        vec![
            Strategy::Identity,
            Strategy::Span,
            Strategy::Pca,
            Strategy::Random
        ]
    );
    assert_eq!(choice.best.projection.strategy, Strategy::Span);
    assert_eq!(choice.best.projection.m(), 9);

    // m > d: identity only (no span: N - 1 >= d).
    let wide = random_labelled(30, 3, 2, 24);
    let choice = best_for_width(&wide, Norm::Linf, 10, 1, None).unwrap();
    assert_eq!(choice.considered.len(), 1);
    assert_eq!(choice.best.projection.strategy, Strategy::Identity);
    assert!(best_for_width(&wide, Norm::L2, 0, 1, None).is_err());
}

#[test]
fn best_for_width_resamples_random_when_a_radius_is_needed() {
    let data = two_points();
    let choice = best_for_width(&data, Norm::L2, 1, 3, Some(0.15)).unwrap();
    let random = choice
        .considered
        .iter()
        .find(|c| c.strategy == Strategy::Random)
        .unwrap();
    assert!(random.draws >= 1);
    // Span (rank 1) and PCA's first direction are e_1 itself: distance 1,
    // sigma_max 1/2; the tie goes to the simpler span.
    let pca = choice
        .considered
        .iter()
        .find(|c| c.strategy == Strategy::Pca)
        .unwrap();
    assert!((pca.sigma_max - 0.5).abs() < 1e-12);
    assert_eq!(choice.best.projection.strategy, Strategy::Span);
    assert!((choice.best.sigma_max - 0.5).abs() < 1e-12);
}

#[test]
fn smallest_m_certifies_and_one_less_does_not() {
    let data = blobs(300, 24, 6, 0.05, 31);
    // Aim between the radii certified at m = 3 and m = 4 (p = 2, nested
    // PCA maps: sigma_max(m) is nondecreasing).
    let at = |m| Candidate::evaluate(pca(&data, m, Norm::L2).unwrap(), &data).sigma_max;
    let (s3, s4) = (at(3), at(4));
    assert!(s3 < s4, "{s3} {s4}");
    let sigma = 0.5 * (s3 + s4);
    let found = smallest_m_for_radius(&data, Norm::L2, ProjectionChoice::Pca, sigma, 0, 24)
        .expect("m = 4 certifies");
    assert_eq!(found.projection.m(), 4);
    assert!(found.certifies(sigma));

    // The same for every target radius along the curve.
    for m in 1..=10 {
        let sigma = 0.999 * at(m);
        let found =
            smallest_m_for_radius(&data, Norm::L2, ProjectionChoice::Pca, sigma, 0, 24).unwrap();
        let k = found.projection.m();
        assert!(found.certifies(sigma));
        assert!(k <= m);
        if k > 1 {
            let below = Candidate::evaluate(pca(&data, k - 1, Norm::L2).unwrap(), &data);
            assert!(!below.certifies(sigma), "m = {} also certifies", k - 1);
        }
    }

    // Beyond the geometric limit nothing certifies.
    let delta2 = separation(data.points.view(), &data.labels, Norm::L2).delta;
    for choice in [
        ProjectionChoice::Auto,
        ProjectionChoice::Pca,
        ProjectionChoice::Random,
        ProjectionChoice::Identity,
    ] {
        assert!(smallest_m_for_radius(&data, Norm::L2, choice, delta2 / 2.0, 0, 24).is_none());
    }
}

#[test]
fn smallest_m_for_radius_with_random_and_auto() {
    let data = blobs(200, 16, 4, 0.05, 32);
    let sigma = 0.2 * separation(data.points.view(), &data.labels, Norm::L2).delta / 2.0;
    let r = smallest_m_for_radius(&data, Norm::L2, ProjectionChoice::Random, sigma, 7, 16)
        .expect("some m certifies a fifth of the limit");
    assert_eq!(r.projection.strategy, Strategy::Random);
    assert!(r.certifies(sigma));
    let auto = smallest_m_for_radius(&data, Norm::L2, ProjectionChoice::Auto, sigma, 7, 16)
        .expect("auto finds one too");
    assert!(auto.certifies(sigma));
    assert!(auto.projection.m() <= r.projection.m());

    // Identity: m = d, only when allowed.
    let id =
        smallest_m_for_radius(&data, Norm::L2, ProjectionChoice::Identity, sigma, 7, 16).unwrap();
    assert_eq!(id.projection.strategy, Strategy::Identity);
    assert!(
        smallest_m_for_radius(&data, Norm::L2, ProjectionChoice::Identity, sigma, 7, 15).is_none()
    );
    // Span does not apply with N - 1 >= d.
    assert!(smallest_m_for_radius(&data, Norm::L2, ProjectionChoice::Span, sigma, 7, 16).is_none());
    let few = dataset(array![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], &[0, 1]);
    let s = smallest_m_for_radius(&few, Norm::L1, ProjectionChoice::Span, 0.1, 0, 3).unwrap();
    assert_eq!(
        (s.projection.strategy, s.projection.m()),
        (Strategy::Span, 1)
    );
}
