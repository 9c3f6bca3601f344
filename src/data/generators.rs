//! Seeded, deterministic data generators: `blobs`, `sphere` and `grid`.
//!
//! Each generator's parameters, their defaults and their meaning are listed in
//! [`SIGNATURES`], the one table the resolver checks spec arguments against.

use super::{DataError, Dataset};

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

impl Generator {
    /// Generates the data set (deterministic for a given seed).
    pub fn generate(&self) -> Result<Dataset, DataError> {
        todo!("data helper")
    }
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
