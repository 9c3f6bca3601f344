//! The search over m with refutations (close pairs, and a sample for
//! N >= 8192) returns the smallest certifying m, as a plain scan over m
//! does: refutations only skip evaluations that would fail.

mod projection_support;

use projection_support::blobs;
use robmem::analysis::separation::separation;
use robmem::construct::projection::{pca, random_until, smallest_m_for_radius, Candidate};
use robmem::data::Dataset;
use robmem::norm::Norm;
use robmem::spec::ProjectionChoice;

/// The smallest m in 1..=limit whose pca map certifies `sigma`, by scanning.
fn pca_scan(data: &Dataset, norm: Norm, sigma: f64, limit: usize) -> Option<usize> {
    (1..=limit).find(|&m| Candidate::evaluate(pca(data, m, norm).unwrap(), data).certifies(sigma))
}

/// The smallest m whose first 4 random draws include one certifying `sigma`.
fn random_scan(data: &Dataset, sigma: f64, seed: u64, limit: usize) -> Option<usize> {
    (1..=limit).find(|&m| random_until(data, m, seed, Norm::L2, sigma, 4).is_ok())
}

#[test]
fn pca_search_with_sample_matches_a_scan() {
    // N = 9000 >= 8192: the refuter's sample is used.
    let data = blobs(9000, 24, 6, 0.3, 11);
    let delta = separation(data.points.view(), &data.labels, Norm::L2).delta;
    for fraction in [0.3, 0.5, 0.7] {
        let sigma = fraction * delta / 2.0;
        let expected = pca_scan(&data, Norm::L2, sigma, 24);
        let found = smallest_m_for_radius(&data, Norm::L2, ProjectionChoice::Pca, sigma, 0, 24)
            .map(|c| c.projection.m());
        assert_eq!(found, expected, "fraction {fraction}");
        assert!(expected.is_some());
    }
}

#[test]
fn small_searches_match_scans_for_every_strategy_and_norm() {
    let data = blobs(600, 16, 5, 0.4, 3);
    for norm in [Norm::L2, Norm::L1, Norm::Linf] {
        let delta = separation(data.points.view(), &data.labels, norm).delta;
        for fraction in [0.2, 0.5, 0.8] {
            let sigma = fraction * delta / 2.0;
            let pca_m = smallest_m_for_radius(&data, norm, ProjectionChoice::Pca, sigma, 5, 16)
                .map(|c| c.projection.m());
            if norm == Norm::L2 {
                // Monotone: the search finds the smallest m exactly.
                assert_eq!(pca_m, pca_scan(&data, norm, sigma, 16), "{norm} {fraction}");
                let random_m =
                    smallest_m_for_radius(&data, norm, ProjectionChoice::Random, sigma, 5, 16)
                        .map(|c| c.projection.m());
                assert_eq!(random_m, random_scan(&data, sigma, 5, 16), "{fraction}");
                let auto = smallest_m_for_radius(&data, norm, ProjectionChoice::Auto, sigma, 5, 16);
                let smallest = [pca_m, random_m].into_iter().flatten().min();
                assert_eq!(auto.map(|c| c.projection.m()), smallest, "{fraction}");
            }
            if let Some(c) = smallest_m_for_radius(&data, norm, ProjectionChoice::Pca, sigma, 5, 16)
            {
                assert!(c.certifies(sigma));
            }
        }
    }
}
