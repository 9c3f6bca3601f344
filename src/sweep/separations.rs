//! The separations a sweep needs, each computed once.
//!
//! A combination's separation depends only on its data set, its norm and
//! its `points` subsample (N and the seed that draws it); every other swept
//! key (width, projection, radius, ...) reuses it. [`Separations::compute`]
//! computes each distinct one once, before the combinations are compiled
//! in parallel: on large data the separation is the costliest step of a
//! compile, and a width x projection sweep would otherwise repeat it in
//! every row.

use crate::analysis::separation::{separation, Separation};
use crate::data::Dataset;
use crate::norm::Norm;
use crate::spec::{Combination, SweepSpec};
use crate::sweep::subsample::subsample;
use std::time::Instant;

/// What a combination's separation depends on.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Key {
    /// Index of the data set.
    data: usize,
    /// The network's norm.
    norm: Norm,
    /// The `points` subsample: N and the seed, `None` for all points.
    points: Option<(usize, u64)>,
}

impl Key {
    fn of(combination: &Combination) -> Key {
        let net = &combination.network;
        Key {
            data: net.data,
            norm: net.norm,
            points: combination.points.map(|(n, _)| (n, net.seed)),
        }
    }
}

/// One computed separation and the wall-clock seconds it took.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Computed {
    /// delta_p and its pair, as [`separation`] returns them.
    pub separation: Separation,
    /// Seconds spent computing it (once, however many rows share it).
    pub seconds: f64,
}

/// The distinct separations of one sweep's combinations.
#[derive(Debug, Default)]
pub struct Separations {
    entries: Vec<(Key, Computed)>,
}

impl Separations {
    /// Computes the separation of every distinct (data set, norm, subsample)
    /// among `sweep`'s combinations, in order of first appearance. A
    /// combination whose subsample cannot be drawn is skipped: its row
    /// reports that error itself.
    pub fn compute(sweep: &SweepSpec, datasets: &[Dataset]) -> Separations {
        let mut entries: Vec<(Key, Computed)> = Vec::new();
        for combination in &sweep.combinations {
            let key = Key::of(combination);
            if entries.iter().any(|(k, _)| *k == key) {
                continue;
            }
            let Some(full) = datasets.get(key.data) else {
                continue;
            };
            let started = Instant::now();
            let drawn;
            let data = match key.points {
                None => full,
                Some((n, seed)) => match subsample(full, "", n, seed) {
                    Ok(d) => {
                        drawn = d;
                        &drawn
                    }
                    Err(_) => continue,
                },
            };
            let _phase = crate::progress::phase("separation", None);
            let separation = separation(data.points.view(), &data.labels, key.norm);
            let seconds = started.elapsed().as_secs_f64();
            entries.push((
                key,
                Computed {
                    separation,
                    seconds,
                },
            ));
        }
        Separations { entries }
    }

    /// The separation of `combination`'s data, norm and subsample, when
    /// [`Separations::compute`] computed it.
    pub fn get(&self, combination: &Combination) -> Option<Computed> {
        let key = Key::of(combination);
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, computed)| *computed)
    }
}
