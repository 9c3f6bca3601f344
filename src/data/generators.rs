//! Seeded, deterministic data generators: `blobs`, `sphere` and `grid`.
//!
//! Each generator's parameters, their defaults and their meaning are listed in
//! [`SIGNATURES`], the one table the resolver checks spec arguments against.

use super::{DataError, Dataset, LabelValue, Provenance};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::fmt;

/// A generator call with every parameter resolved (defaults filled in).
#[derive(Clone, Debug, PartialEq)]
pub enum Generator {
    /// Gaussian clusters: `labels` centres drawn uniformly in the unit cube,
    /// points assigned to centres round-robin, each displaced by N(0, spread^2)
    /// per coordinate; the label is the centre's index.
    Blobs {
        /// Number of points N.
        points: usize,
        /// Dimension d.
        dim: usize,
        /// Number of labels C.
        labels: usize,
        /// Standard deviation of each coordinate around its centre.
        spread: f64,
        /// Seed of the random stream.
        seed: u64,
    },
    /// Points uniform on the unit sphere of R^dim with uniformly random labels.
    Sphere {
        /// Number of points N.
        points: usize,
        /// Dimension d.
        dim: usize,
        /// Number of labels C.
        labels: usize,
        /// Seed of the random stream.
        seed: u64,
    },
    /// The lattice {0, 1/(side-1), ..., 1}^dim with uniformly random labels.
    Grid {
        /// Points per axis.
        side: usize,
        /// Dimension d.
        dim: usize,
        /// Number of labels C.
        labels: usize,
        /// Seed of the random stream.
        seed: u64,
    },
}

/// One parameter of a generator, for the resolver's checks and hints.
#[derive(Clone, Copy, Debug)]
pub struct Parameter {
    /// Name as written in the spec.
    pub name: &'static str,
    /// Default, or `None` when the parameter is required.
    pub default: Option<f64>,
    /// True for integer parameters.
    pub integer: bool,
}

/// A generator's name and parameters.
#[derive(Clone, Copy, Debug)]
pub struct Signature {
    /// Name as written in the spec (`blobs`).
    pub name: &'static str,
    /// Parameters in positional order.
    pub parameters: &'static [Parameter],
}

/// Largest number of points a generator makes (a grid of more is rejected).
pub const MAX_POINTS: usize = 10_000_000;

/// Largest number of coordinates (points x dim) a generator makes: 2 GiB of
/// `f64`.
pub const MAX_ENTRIES: usize = 1 << 28;

impl Generator {
    /// Generates the data set (deterministic for a given seed on every
    /// platform: one ChaCha8 stream seeded with `seed`, read in a fixed
    /// order).
    ///
    /// Errors: [`DataError::BadGenerator`] naming the offending parameter and
    /// the fix (zero points, dimension or labels, `side < 2`, a negative or
    /// non-finite `spread`, or more than [`MAX_POINTS`] points or
    /// [`MAX_ENTRIES`] coordinates).
    pub fn generate(&self) -> Result<Dataset, DataError> {
        self.check()?;
        let (points, labels) = match *self {
            Generator::Blobs {
                points,
                dim,
                labels,
                spread,
                seed,
            } => blobs(points, dim, labels, spread, seed),
            Generator::Sphere {
                points,
                dim,
                labels,
                seed,
            } => sphere(points, dim, labels, seed),
            Generator::Grid {
                side,
                dim,
                labels,
                seed,
            } => grid(side, dim, labels, seed),
        };
        let raw: Vec<LabelValue> = labels
            .iter()
            .map(|&c| LabelValue::Number(f64::from(c)))
            .collect();
        let provenance = Provenance::Generated {
            description: self.to_string(),
        };
        Dataset::from_raw(points, &raw, provenance)
    }

    /// Rejects impossible or unreasonably large requests.
    fn check(&self) -> Result<(), DataError> {
        let name = self.name();
        let fail = |msg: String| Err(DataError::BadGenerator(format!("{name}: {msg}")));
        let (points, dim, labels) = match *self {
            Generator::Blobs {
                points,
                dim,
                labels,
                spread,
                ..
            } => {
                if !(spread.is_finite() && spread >= 0.0) {
                    return fail(format!(
                        "spread = {spread} must be a finite number >= 0 (for example spread = 0.05)"
                    ));
                }
                (Some(points), dim, labels)
            }
            Generator::Sphere {
                points,
                dim,
                labels,
                ..
            } => (Some(points), dim, labels),
            Generator::Grid {
                side, dim, labels, ..
            } => {
                if side < 2 {
                    return fail(format!(
                        "side = {side} must be at least 2 (the lattice needs both 0 and 1 on each axis)"
                    ));
                }
                (None, dim, labels)
            }
        };
        if points == Some(0) {
            return fail("points = 0: ask for at least one point".into());
        }
        if dim == 0 {
            return fail("dim = 0: the dimension must be at least 1".into());
        }
        if u32::try_from(labels).is_err() {
            return fail(format!(
                "labels = {labels} is too many: at most {}",
                u32::MAX
            ));
        }
        if labels == 0 {
            return fail("labels = 0: ask for at least one label (two to separate)".into());
        }
        let count = match (points, self) {
            (Some(n), _) => Some(n),
            (None, Generator::Grid { side, dim, .. }) => {
                u32::try_from(*dim).ok().and_then(|d| side.checked_pow(d))
            }
            (None, _) => unreachable!("only grids derive their point count"),
        };
        match count {
            Some(n) if n <= MAX_POINTS => {}
            _ => {
                let what = match self {
                    Generator::Grid { side, dim, .. } => format!(
                        "side^dim = {side}^{dim} points is more than {MAX_POINTS}: lower side or dim"
                    ),
                    _ => format!("points = {} is more than {MAX_POINTS}", points.unwrap_or(0)),
                };
                return fail(what);
            }
        }
        let n = count.expect("checked above");
        if n.checked_mul(dim).is_none_or(|e| e > MAX_ENTRIES) {
            return fail(format!(
                "{n} points x dim = {dim} is more than {MAX_ENTRIES} coordinates: lower points or dim"
            ));
        }
        Ok(())
    }

    /// The generator's name as written in a spec.
    pub fn name(&self) -> &'static str {
        match self {
            Generator::Blobs { .. } => "blobs",
            Generator::Sphere { .. } => "sphere",
            Generator::Grid { .. } => "grid",
        }
    }
}

impl fmt::Display for Generator {
    /// The call with every parameter, as in a spec:
    /// `blobs(points = 2000, dim = 64, labels = 10, spread = 0.05, seed = 1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Generator::Blobs {
                points,
                dim,
                labels,
                spread,
                seed,
            } => write!(
                f,
                "blobs(points = {points}, dim = {dim}, labels = {labels}, spread = {spread}, seed = {seed})"
            ),
            Generator::Sphere {
                points,
                dim,
                labels,
                seed,
            } => write!(
                f,
                "sphere(points = {points}, dim = {dim}, labels = {labels}, seed = {seed})"
            ),
            Generator::Grid {
                side,
                dim,
                labels,
                seed,
            } => write!(
                f,
                "grid(side = {side}, dim = {dim}, labels = {labels}, seed = {seed})"
            ),
        }
    }
}

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Centres uniform in [0,1]^dim (drawn first), then the points row by row.
fn blobs(
    points: usize,
    dim: usize,
    labels: usize,
    spread: f64,
    seed: u64,
) -> (Array2<f64>, Vec<u32>) {
    let mut rng = rng(seed);
    let mut centres = Array2::<f64>::zeros((labels.min(points), dim));
    centres.iter_mut().for_each(|c| *c = rng.gen::<f64>());
    let mut x = Array2::<f64>::zeros((points, dim));
    let mut ys = Vec::with_capacity(points);
    for (i, mut row) in x.outer_iter_mut().enumerate() {
        let c = i % labels;
        let centre = centres.row(c);
        for (v, &m) in row.iter_mut().zip(centre.iter()) {
            let z: f64 = rng.sample(StandardNormal);
            *v = m + spread * z;
        }
        ys.push(c as u32);
    }
    (x, ys)
}

/// Gaussian vectors normalised to length 1 (redrawn in the measure-zero case
/// of a zero vector), then one uniform label per point.
fn sphere(points: usize, dim: usize, labels: usize, seed: u64) -> (Array2<f64>, Vec<u32>) {
    let mut rng = rng(seed);
    let mut x = Array2::<f64>::zeros((points, dim));
    for mut row in x.outer_iter_mut() {
        loop {
            row.iter_mut().for_each(|v| *v = rng.sample(StandardNormal));
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                row.iter_mut().for_each(|v| *v /= norm);
                break;
            }
        }
    }
    let ys = uniform_labels(&mut rng, points, labels);
    (x, ys)
}

/// The lattice in row-major order (last coordinate fastest), then one
/// uniform label per point.
fn grid(side: usize, dim: usize, labels: usize, seed: u64) -> (Array2<f64>, Vec<u32>) {
    let mut rng = rng(seed);
    let points = side.pow(dim as u32);
    let step = (side - 1) as f64;
    let mut x = Array2::<f64>::zeros((points, dim));
    for (i, mut row) in x.outer_iter_mut().enumerate() {
        let mut rest = i;
        for v in row.iter_mut().rev() {
            *v = (rest % side) as f64 / step;
            rest /= side;
        }
    }
    let ys = uniform_labels(&mut rng, points, labels);
    (x, ys)
}

fn uniform_labels(rng: &mut ChaCha8Rng, points: usize, labels: usize) -> Vec<u32> {
    (0..points)
        .map(|_| rng.gen_range(0..labels as u64) as u32)
        .collect()
}

const fn required(name: &'static str) -> Parameter {
    Parameter {
        name,
        default: None,
        integer: true,
    }
}

const fn integer(name: &'static str, default: f64) -> Parameter {
    Parameter {
        name,
        default: Some(default),
        integer: true,
    }
}

/// Every generator the language knows, with its parameters in positional
/// order. The resolver checks calls against this table (unknown names get a
/// "did you mean" hint, missing required parameters an error) and then calls
/// [`Generator::from_values`].
pub const SIGNATURES: &[Signature] = &[
    Signature {
        name: "blobs",
        parameters: &[
            required("points"),
            required("dim"),
            integer("labels", 2.0),
            Parameter {
                name: "spread",
                default: Some(0.05),
                integer: false,
            },
            integer("seed", 0.0),
        ],
    },
    Signature {
        name: "sphere",
        parameters: &[
            required("points"),
            required("dim"),
            integer("labels", 2.0),
            integer("seed", 0.0),
        ],
    },
    Signature {
        name: "grid",
        parameters: &[
            required("side"),
            integer("dim", 2.0),
            integer("labels", 2.0),
            integer("seed", 0.0),
        ],
    },
];

impl Generator {
    /// Builds a generator from a call the resolver has checked against
    /// [`SIGNATURES`]: `name` is a known generator and `values` holds every
    /// parameter of its signature (defaults filled in), integers where the
    /// signature says so.
    pub fn from_values(name: &str, values: &std::collections::BTreeMap<&str, f64>) -> Generator {
        let int = |key: &str| values[key] as usize;
        let seed = values["seed"] as u64;
        match name {
            "blobs" => Generator::Blobs {
                points: int("points"),
                dim: int("dim"),
                labels: int("labels"),
                spread: values["spread"],
                seed,
            },
            "sphere" => Generator::Sphere {
                points: int("points"),
                dim: int("dim"),
                labels: int("labels"),
                seed,
            },
            "grid" => Generator::Grid {
                side: int("side"),
                dim: int("dim"),
                labels: int("labels"),
                seed,
            },
            other => panic!("unknown generator {other}: the resolver checks names first"),
        }
    }
}
