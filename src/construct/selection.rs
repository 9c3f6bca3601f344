//! The distance construction's coordinate selection for l_inf balls
//! (specs/construction.md section 8.2, "l_inf, fewer coordinates").
//!
//! A selection of K coordinates (rows that are unit vectors) keeps
//! `||V||_{inf->inf} = 1`, so the map sends the l_inf ball of radius sigma
//! into the l_inf ball of radius sigma, and the mapped separation is
//! `delta'_inf = min over differently-labelled pairs of max over kept
//! coordinates |x_ik - x_jk|`. A pair is *covered* by a coordinate that
//! separates it by at least the target; a selection covering every pair
//! has `delta'_inf >= target`.
//!
//! [`cover_pairs`] is a greedy set cover done lazily, in batches: scan the
//! differently-labelled pairs (in a fixed shuffled order of the points)
//! for those no kept coordinate covers yet, stopping at [`BATCH`] of them;
//! give each the set of candidate coordinates that cover it (a bitset);
//! add the coordinate covering the most uncovered pairs of the batch until
//! the batch is covered; scan again. Every scan after the first is cheap
//! (a pair is abandoned at the first kept coordinate that covers it), and
//! every round adds at least one coordinate, so there are at most K + 1
//! scans. Memory is O(N d + BATCH d / 64) words.

use ndarray::ArrayView2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Most points the selection handles (each scan visits `N^2 / 2` pairs).
pub const MAX_POINTS: usize = 10_000;

/// Most uncovered pairs one round of the greedy cover looks at.
pub const BATCH: usize = 50_000;

/// Rows of the shuffled order scanned in parallel at a time.
const ROW_BLOCK: usize = 32;

/// A selection of coordinates and whether it covers every pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Cover {
    /// The kept coordinates (column indices of the data), ascending; never
    /// empty when there were candidates.
    pub kept: Vec<usize>,
    /// True when every differently-labelled pair differs by at least the
    /// target in some kept coordinate; false when `max_rows` coordinates
    /// did not suffice or some pair differs by less than the target in
    /// every candidate.
    pub complete: bool,
}

/// Greedy cover of the differently-labelled pairs of `points` (N x d) by
/// coordinates among `candidates`: at most `max_rows` coordinates such that
/// every pair differs by at least `target` in one of them. `None` with
/// more than [`MAX_POINTS`] points, a label per point missing, or a target
/// that is not a positive number.
pub fn cover_pairs(
    points: ArrayView2<f64>,
    labels: &[u32],
    candidates: &[usize],
    target: f64,
    max_rows: usize,
) -> Option<Cover> {
    let n = points.nrows();
    if n > MAX_POINTS
        || labels.len() != n
        || !(target > 0.0 && target.is_finite())
        || candidates.iter().any(|&c| c >= points.ncols())
    {
        return None;
    }
    // Columns as contiguous vectors: the scans read one coordinate of many
    // points at a time.
    let columns: Vec<Vec<f64>> = candidates
        .iter()
        .map(|&c| points.column(c).to_vec())
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(0x5e1ec7));
    let mut kept: Vec<usize> = Vec::new(); // indices into `candidates`
    let complete = loop {
        let batch = uncovered(&columns, labels, &order, &kept, target);
        if batch.is_empty() {
            break true;
        }
        match cover_batch(&columns, &batch, target, max_rows, &mut kept) {
            BatchOutcome::Covered => continue,
            BatchOutcome::Stopped => break false,
        }
    };
    if kept.is_empty() && !candidates.is_empty() {
        kept.push(0);
    }
    let mut kept: Vec<usize> = kept.into_iter().map(|c| candidates[c]).collect();
    kept.sort_unstable();
    Some(Cover { kept, complete })
}

/// Up to [`BATCH`] differently-labelled pairs (i, j) that no kept column
/// separates by `target`, in the order of `order`'s rows.
fn uncovered(
    columns: &[Vec<f64>],
    labels: &[u32],
    order: &[usize],
    kept: &[usize],
    target: f64,
) -> Vec<(u32, u32)> {
    let n = order.len();
    let covered = |i: usize, j: usize| {
        kept.iter()
            .any(|&c| (columns[c][i] - columns[c][j]).abs() >= target)
    };
    let mut batch = Vec::new();
    // Each unordered pair once: from the row that comes first in `order`.
    let positions: Vec<usize> = (0..n).collect();
    for block in positions.chunks(ROW_BLOCK) {
        let found: Vec<Vec<(u32, u32)>> = block
            .par_iter()
            .map(|&a| {
                let i = order[a];
                let mut pairs = Vec::new();
                for &j in &order[a + 1..] {
                    if labels[i] == labels[j] || covered(i, j) {
                        continue;
                    }
                    pairs.push((i as u32, j as u32));
                    if pairs.len() >= BATCH {
                        break;
                    }
                }
                pairs
            })
            .collect();
        for pairs in found {
            let room = BATCH - batch.len();
            batch.extend(pairs.into_iter().take(room));
            if batch.len() >= BATCH {
                return batch;
            }
        }
    }
    batch
}

/// How a batch ended.
enum BatchOutcome {
    /// Every pair of the batch is covered.
    Covered,
    /// The row limit was reached, or a pair cannot be covered at all.
    Stopped,
}

/// Greedy set cover of `batch`: adds to `kept` (indices into `columns`)
/// the column covering the most uncovered pairs until all are covered.
fn cover_batch(
    columns: &[Vec<f64>],
    batch: &[(u32, u32)],
    target: f64,
    max_rows: usize,
    kept: &mut Vec<usize>,
) -> BatchOutcome {
    let words = columns.len().div_ceil(64);
    // Which columns cover each pair, as a bitset of `words` words.
    let sets: Vec<u64> = batch
        .par_iter()
        .flat_map_iter(|&(i, j)| {
            let (i, j) = (i as usize, j as usize);
            let mut set = vec![0u64; words];
            for (c, column) in columns.iter().enumerate() {
                if (column[i] - column[j]).abs() >= target {
                    set[c / 64] |= 1 << (c % 64);
                }
            }
            set
        })
        .collect();
    let mut counts = vec![0usize; columns.len()];
    for set in sets.chunks(words) {
        if set.iter().all(|&w| w == 0) {
            // Closer than the target in every candidate column.
            return BatchOutcome::Stopped;
        }
        for_each_bit(set, |c| counts[c] += 1);
    }
    let mut open = vec![true; batch.len()];
    let mut left = batch.len();
    while left > 0 {
        if kept.len() >= max_rows {
            return BatchOutcome::Stopped;
        }
        // The column covering the most open pairs (the first on ties).
        let best = (0..columns.len())
            .max_by(|&a, &b| counts[a].cmp(&counts[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        if counts.get(best).copied().unwrap_or(0) == 0 {
            return BatchOutcome::Stopped;
        }
        kept.push(best);
        for (p, set) in sets.chunks(words).enumerate() {
            if open[p] && set[best / 64] & (1 << (best % 64)) != 0 {
                open[p] = false;
                left -= 1;
                for_each_bit(set, |c| counts[c] -= 1);
            }
        }
    }
    BatchOutcome::Covered
}

/// Calls `f` with the index of every set bit of `set`.
fn for_each_bit(set: &[u64], mut f: impl FnMut(usize)) {
    for (w, &word) in set.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            f(w * 64 + bits.trailing_zeros() as usize);
            bits &= bits - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::Rng;

    /// Brute force: every differently-labelled pair differs by at least
    /// `target` in a kept coordinate.
    fn covers(points: &Array2<f64>, labels: &[u32], kept: &[usize], target: f64) -> bool {
        let n = points.nrows();
        (0..n).all(|i| {
            (i + 1..n).all(|j| {
                labels[i] == labels[j]
                    || kept
                        .iter()
                        .any(|&k| (points[[i, k]] - points[[j, k]]).abs() >= target)
            })
        })
    }

    /// Hostile data: one column in the thousands by units, reals, small
    /// integers, a constant column, duplicates of the same label.
    fn hostile(seed: u64, n: usize, d: usize) -> (Array2<f64>, Vec<u32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut points = Array2::from_shape_fn((n, d), |(_, k)| match k % 4 {
            0 => 1500.0 + rng.gen_range(0..50) as f64,
            1 => rng.gen_range(0.0..10.0),
            2 => rng.gen_range(0..6) as f64,
            _ => 7.0,
        });
        let mut labels: Vec<u32> = (0..n).map(|_| rng.gen_range(0..3)).collect();
        for i in (5..n).step_by(5) {
            let row = points.row(i - 3).to_owned();
            points.row_mut(i).assign(&row);
            labels[i] = labels[i - 3];
        }
        (points, labels)
    }

    #[test]
    fn every_pair_is_covered_by_a_kept_coordinate() {
        for (seed, n, d) in [(1, 120, 16), (2, 200, 40), (3, 60, 9)] {
            let (points, labels) = hostile(seed, n, d);
            let candidates: Vec<usize> = (0..d).filter(|k| k % 4 != 3).collect();
            for target in [0.5, 1.0, 2.0] {
                let cover = cover_pairs(points.view(), &labels, &candidates, target, d).unwrap();
                let possible = covers(&points, &labels, &candidates, target);
                assert_eq!(cover.complete, possible, "seed {seed}, target {target}");
                if cover.complete {
                    assert!(covers(&points, &labels, &cover.kept, target));
                    assert!(cover.kept.len() < candidates.len(), "{:?}", cover.kept);
                }
                assert!(cover.kept.iter().all(|k| candidates.contains(k)));
                assert!(cover.kept.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }

    #[test]
    fn the_row_limit_and_uncoverable_pairs_stop_the_cover() {
        let (points, labels) = hostile(4, 150, 24);
        let candidates: Vec<usize> = (0..24).collect();
        let full = cover_pairs(points.view(), &labels, &candidates, 1.0, 24).unwrap();
        assert!(full.complete && full.kept.len() > 1);
        let short = cover_pairs(points.view(), &labels, &candidates, 1.0, 1).unwrap();
        assert!(!short.complete);
        assert_eq!(short.kept.len(), 1);
        // Two points of different labels 0.5 apart everywhere: no cover at 1.
        let points = Array2::from_shape_vec((2, 2), vec![0.0, 0.0, 0.5, 0.5]).unwrap();
        let cover = cover_pairs(points.view(), &[0, 1], &[0, 1], 1.0, 2).unwrap();
        assert!(!cover.complete);
        assert_eq!(cover.kept.len(), 1);
        // Bad requests are refused, not panicked on.
        assert!(cover_pairs(points.view(), &[0, 1], &[0, 5], 1.0, 2).is_none());
        assert!(cover_pairs(points.view(), &[0, 1], &[0, 1], f64::NAN, 2).is_none());
        assert!(cover_pairs(points.view(), &[0], &[0, 1], 1.0, 2).is_none());
    }

    #[test]
    fn batches_smaller_than_the_pairs_still_cover_them_all() {
        // More than BATCH differently-labelled pairs.
        let (points, labels) = hostile(5, 400, 12);
        let candidates: Vec<usize> = (0..12).filter(|k| k % 4 != 3).collect();
        let cover = cover_pairs(points.view(), &labels, &candidates, 1.0, 12).unwrap();
        assert_eq!(cover.complete, covers(&points, &labels, &candidates, 1.0));
        if cover.complete {
            assert!(covers(&points, &labels, &cover.kept, 1.0));
        }
    }
}
