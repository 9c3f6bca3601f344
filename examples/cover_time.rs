//! Time of the condensation cover (specs/construction.md section 5C) on
//! blobs, projected by pca, at 0.5 of the limit with margin gamma / 8:
//!
//! ```text
//! cargo run --release --example cover_time -- POINTS DIM M [SPREAD]
//! ```
//!
//! Prints one line: points, m, delta', prototypes, largest class's
//! prototypes, the cover's seconds.

use robmem::construct::condense::cover;
use robmem::construct::projection::pca;
use robmem::data::generators::Generator;
use robmem::norm::Norm;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |k: usize, default: f64| -> f64 {
        args.get(k).and_then(|a| a.parse().ok()).unwrap_or(default)
    };
    let (points, dim, m) = (number(0, 10_000.0), number(1, 64.0), number(2, 24.0));
    let spread = number(3, 0.5);
    let data = Generator::Blobs {
        points: points as usize,
        dim: dim as usize,
        labels: 10,
        spread,
        seed: 1,
    }
    .generate()
    .expect("blobs");
    let projection = pca(&data, m as usize, Norm::L2).expect("pca");
    let projected = projection.project(&data);
    let delta = projected.delta;
    let radius = 0.5 * delta / 2.0;
    let margin = delta * (delta / 2.0 - radius) / 8.0;
    let started = Instant::now();
    let covering = cover(projected.points.view(), &data.labels, radius, margin).expect("cover");
    let seconds = started.elapsed().as_secs_f64();
    let mut per_class = vec![
        0usize;
        data.labels
            .iter()
            .map(|&l| l as usize + 1)
            .max()
            .unwrap_or(0)
    ];
    for (i, &p) in covering.iter().enumerate() {
        if i == p {
            per_class[data.labels[i] as usize] += 1;
        }
    }
    println!(
        "points {} m {} delta' {delta:.6} prototypes {} largest {} cover {seconds:.2} s",
        data.len(),
        projection.m(),
        per_class.iter().sum::<usize>(),
        per_class.iter().max().unwrap_or(&0),
    );
}
