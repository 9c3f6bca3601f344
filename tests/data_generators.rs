//! Generators: determinism, shapes, labels and rejected requests.

use robmem::data::generators::Generator;
use robmem::data::{DataError, Provenance};

fn blobs(points: usize, dim: usize, labels: usize, spread: f64, seed: u64) -> Generator {
    Generator::Blobs {
        points,
        dim,
        labels,
        spread,
        seed,
    }
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let gens = [
        blobs(50, 4, 3, 0.1, 7),
        Generator::Sphere {
            points: 50,
            dim: 5,
            labels: 4,
            seed: 7,
        },
        Generator::Grid {
            side: 4,
            dim: 3,
            labels: 3,
            seed: 7,
        },
    ];
    for g in gens {
        let a = g.generate().unwrap();
        let b = g.generate().unwrap();
        assert_eq!(a.points, b.points);
        assert_eq!(a.labels, b.labels);
        let other = match g.clone() {
            Generator::Blobs {
                points,
                dim,
                labels,
                spread,
                ..
            } => blobs(points, dim, labels, spread, 8),
            Generator::Sphere {
                points,
                dim,
                labels,
                ..
            } => Generator::Sphere {
                points,
                dim,
                labels,
                seed: 8,
            },
            Generator::Grid {
                side, dim, labels, ..
            } => Generator::Grid {
                side,
                dim,
                labels,
                seed: 8,
            },
        };
        let c = other.generate().unwrap();
        assert!(a.points != c.points || a.labels != c.labels, "{g}");
    }
}

#[test]
fn blobs_shape_labels_and_description() {
    let ds = blobs(10, 3, 4, 0.0, 1).generate().unwrap();
    assert_eq!((ds.len(), ds.dim()), (10, 3));
    assert_eq!(
        ds.labels,
        (0..10).map(|i| (i % 4) as u32).collect::<Vec<_>>()
    );
    // spread 0: every point sits on its centre, inside the unit cube.
    assert_eq!(ds.points.row(0), ds.points.row(4));
    assert!(ds.points.iter().all(|&x| (0.0..1.0).contains(&x)));
    assert_eq!(
        ds.provenance,
        Provenance::Generated {
            description: "blobs(points = 10, dim = 3, labels = 4, spread = 0, seed = 1)".into()
        }
    );
}

#[test]
fn sphere_points_have_unit_length() {
    let ds = Generator::Sphere {
        points: 100,
        dim: 6,
        labels: 3,
        seed: 2,
    }
    .generate()
    .unwrap();
    assert_eq!((ds.len(), ds.dim()), (100, 6));
    for row in ds.points.outer_iter() {
        let n = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((n - 1.0).abs() < 1e-12);
    }
    assert_eq!(ds.classes.len(), 3);
}

#[test]
fn grid_is_the_lattice_in_row_major_order() {
    let ds = Generator::Grid {
        side: 3,
        dim: 2,
        labels: 2,
        seed: 0,
    }
    .generate()
    .unwrap();
    assert_eq!((ds.len(), ds.dim()), (9, 2));
    assert_eq!(ds.points.row(0).to_vec(), vec![0.0, 0.0]);
    assert_eq!(ds.points.row(1).to_vec(), vec![0.0, 0.5]);
    assert_eq!(ds.points.row(5).to_vec(), vec![0.5, 1.0]);
    assert_eq!(ds.points.row(8).to_vec(), vec![1.0, 1.0]);
    assert!(ds.labels.iter().all(|&l| l < 2));
}

#[test]
fn impossible_requests_name_the_parameter() {
    let cases: Vec<(Generator, &str)> = vec![
        (blobs(0, 2, 2, 0.1, 0), "points = 0"),
        (blobs(5, 0, 2, 0.1, 0), "dim = 0"),
        (blobs(5, 2, 0, 0.1, 0), "labels = 0"),
        (blobs(5, 2, 2, -1.0, 0), "spread"),
        (blobs(5, 2, 2, f64::NAN, 0), "spread"),
        (
            Generator::Grid {
                side: 1,
                dim: 2,
                labels: 2,
                seed: 0,
            },
            "side = 1",
        ),
        (
            Generator::Grid {
                side: 10,
                dim: 8,
                labels: 2,
                seed: 0,
            },
            "side^dim",
        ),
        (
            Generator::Grid {
                side: 2,
                dim: 100,
                labels: 2,
                seed: 0,
            },
            "side^dim",
        ),
        (blobs(100_000, 100_000, 2, 0.1, 0), "coordinates"),
    ];
    for (g, needle) in cases {
        match g.generate() {
            Err(DataError::BadGenerator(msg)) => assert!(msg.contains(needle), "{msg}"),
            other => panic!("{g}: unexpected {other:?}"),
        }
    }
}

#[test]
fn mnist_sized_blobs_are_fast() {
    let start = std::time::Instant::now();
    let ds = blobs(60_000, 784, 10, 0.05, 3).generate().unwrap();
    assert_eq!((ds.len(), ds.dim()), (60_000, 784));
    // Generous: debug-profile builds are slower than release.
    assert!(
        start.elapsed().as_secs_f64() < 20.0,
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn streams_are_pinned() {
    // Golden bit patterns: a change here changes every generated data set
    // (and would show a platform-dependent stream).
    let bits =
        |ds: &robmem::data::Dataset| ds.points.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let ds = blobs(4, 2, 2, 0.05, 1).generate().unwrap();
    assert_eq!(
        bits(&ds),
        vec![
            4600621467721199056,
            4593222476718546538,
            4603459209168807988,
            4595266430268549534,
            4602689356549409055,
            4594281545038748614,
            4603523844776658618,
            4597290716704835697
        ]
    );
    let ds = Generator::Sphere {
        points: 3,
        dim: 2,
        labels: 3,
        seed: 1,
    }
    .generate()
    .unwrap();
    assert_eq!(
        bits(&ds),
        vec![
            13818456065850746340,
            13830432198210606342,
            4598777627928436451,
            13830185069141927692,
            13824227652684683495,
            4606435194672278444
        ]
    );
    assert_eq!(ds.labels, vec![1, 0, 2]);
}
