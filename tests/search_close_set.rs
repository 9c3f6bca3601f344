//! The l_2 pca search decided by one list of close pairs
//! (`construct::projection::close_set`) returns what a plain scan over m
//! returns, and the candidate it builds without a projected separation is
//! bit for bit the one `Candidate::evaluate` builds. The list itself is
//! exactly the set of pairs a scan of all pairs keeps.

mod projection_support;

use projection_support::{blobs, dataset, gaussian, rng};
use robmem::analysis::separation::{close_pairs, separation, ClosePair};
use robmem::construct::projection::{pca, smallest_m_for_radius_with, Candidate, SearchMemory};
use robmem::data::Dataset;
use robmem::norm::Norm;
use robmem::spec::ProjectionChoice;

/// Every differently-labelled pair within `cutoff`, one at a time.
fn close_pairs_by_scan(data: &Dataset, cutoff: f64) -> Vec<ClosePair> {
    let n = data.len();
    let row = |i: usize| data.points.row(i).to_vec();
    let mut found = Vec::new();
    for i in 0..n {
        for j in (i + 1)..n {
            if data.labels[i] == data.labels[j] {
                continue;
            }
            let distance = Norm::L2.distance(&row(i), &row(j));
            if distance <= cutoff {
                found.push(ClosePair {
                    distance,
                    pair: (i, j),
                });
            }
        }
    }
    found.sort_by(|a, b| a.distance.total_cmp(&b.distance).then(a.pair.cmp(&b.pair)));
    found
}

#[test]
fn close_pairs_are_exactly_the_pairs_within_the_cutoff() {
    let mut r = rng(4);
    let points = gaussian(500, 20, &mut r);
    let labels: Vec<u32> = (0..500).map(|i| (i % 3) as u32).collect();
    let data = dataset(points, &labels);
    let delta = separation(data.points.view(), &data.labels, Norm::L2).delta;
    for factor in [0.99, 1.0, 1.1, 1.5] {
        let cutoff = factor * delta;
        let fast = close_pairs(data.points.view(), &data.labels, cutoff, usize::MAX)
            .expect("the Gram kernel applies at d = 20");
        assert_eq!(fast, close_pairs_by_scan(&data, cutoff), "factor {factor}");
        assert_eq!(fast.is_empty(), factor < 1.0);
    }
    // More pairs than the cap: no list, rather than a partial one.
    assert!(close_pairs(data.points.view(), &data.labels, 2.0 * delta, 10).is_none());
    // Below dimension 16 the Gram kernel does not apply.
    let narrow = dataset(gaussian(50, 8, &mut r), &labels[..50]);
    assert!(close_pairs(narrow.points.view(), &narrow.labels, 1.0, usize::MAX).is_none());
}

/// The smallest m in 1..=limit whose pca map certifies `sigma`, by scanning.
fn pca_scan(data: &Dataset, sigma: f64, limit: usize) -> Option<usize> {
    (1..=limit)
        .find(|&m| Candidate::evaluate(pca(data, m, Norm::L2).unwrap(), data).certifies(sigma))
}

fn search(data: &Dataset, sigma: f64, memory: &SearchMemory<'_>) -> Option<Candidate> {
    smallest_m_for_radius_with(
        data,
        Norm::L2,
        ProjectionChoice::Pca,
        sigma,
        0,
        48,
        memory,
        &|_| true,
    )
}

/// The candidate equals the one a full evaluation of the same map gives.
fn assert_same_as_evaluated(data: &Dataset, found: &Candidate) {
    let m = found.projection.m();
    let evaluated = Candidate::evaluate(pca(data, m, Norm::L2).unwrap(), data);
    assert_eq!(
        found.projected.delta.to_bits(),
        evaluated.projected.delta.to_bits()
    );
    assert_eq!(found.projected.pair, evaluated.projected.pair);
    assert_eq!(found.projected.points, evaluated.projected.points);
    assert_eq!(found.sigma_max.to_bits(), evaluated.sigma_max.to_bits());
}

#[test]
fn a_list_decides_the_search_as_a_scan_would() {
    // N = 9000 >= 8192: the refuter's sample rules out m below 16, so the
    // list is made (at m_low > 16) and decides every m.
    let data = blobs(9000, 48, 8, 0.8, 11);
    let delta = separation(data.points.view(), &data.labels, Norm::L2).delta;
    for fraction in [0.5, 0.7, 0.85] {
        let sigma = fraction * delta / 2.0;
        let memory = SearchMemory::new(&data, Norm::L2);
        let found = search(&data, sigma, &memory).expect("some m <= 48 certifies");
        let list = memory.close_set_for(sigma).expect("the list was made");
        assert!(list.0.m_low >= 16 && list.0.m_low <= found.projection.m());
        assert_eq!(
            Some(found.projection.m()),
            pca_scan(&data, sigma, 48),
            "{fraction}"
        );
        assert_same_as_evaluated(&data, &found);
    }
}

#[test]
fn a_remembered_list_decides_a_larger_radius_and_only_that() {
    let data = blobs(9000, 48, 8, 0.8, 11);
    let delta = separation(data.points.view(), &data.labels, Norm::L2).delta;
    let sigma = 0.6 * delta / 2.0;
    let memory = SearchMemory::new(&data, Norm::L2);
    search(&data, sigma, &memory).expect("certified");
    // 4% larger (what the rounding rebuild asks for), within the list's
    // headroom; 30% larger, beyond it (the search evaluates again); and
    // smaller, which the list cannot decide (m below m_low may certify).
    for factor in [1.04, 1.3, 0.8] {
        let larger = factor * sigma;
        assert_eq!(memory.close_set_for(larger).is_some(), factor > 1.0);
        let found = search(&data, larger, &memory);
        assert_eq!(
            found.as_ref().map(|c| c.projection.m()),
            pca_scan(&data, larger, 48),
            "factor {factor}"
        );
        if let Some(c) = &found {
            assert!(c.certifies(larger));
            assert_same_as_evaluated(&data, c);
        }
    }
}

#[test]
fn a_memory_for_other_data_is_ignored() {
    let data = blobs(9000, 48, 8, 0.8, 11);
    let other = blobs(9000, 48, 8, 0.8, 12);
    let delta = separation(data.points.view(), &data.labels, Norm::L2).delta;
    let sigma = 0.6 * delta / 2.0;
    let memory = SearchMemory::new(&other, Norm::L2);
    let found = search(&data, sigma, &memory).expect("certified");
    assert!(memory.close_set_for(sigma).is_none());
    assert_eq!(Some(found.projection.m()), pca_scan(&data, sigma, 48));
}
