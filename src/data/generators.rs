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
