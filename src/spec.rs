//! The resolved spec: what a `.rmem` file asks for once names are resolved,
//! defaults filled in and values checked. Produced by [`crate::resolve`],
//! consumed by `check`, `compile`, `sweep` and the back ends.
//!
//! Spans ([`miette::SourceSpan`]) are kept so that later phases (analysis,
//! construction) can still point into the spec when they fail.

use crate::data::DataSource;
use crate::norm::Norm;
use miette::SourceSpan;
use std::path::PathBuf;

/// A whole spec file, resolved.
#[derive(Clone, Debug)]
pub struct Program {
    /// The spec file's path as given on the command line.
    pub path: PathBuf,
    /// The spec file's text (for diagnostics).
    pub source: String,
    /// Data sets in order of declaration.
    pub datasets: Vec<DatasetDecl>,
    /// Networks in order of declaration.
    pub networks: Vec<NetworkSpec>,
    /// Emit blocks in order of declaration.
    pub emits: Vec<EmitSpec>,
    /// Sweep blocks in order of declaration (`robmem sweep`).
    pub sweeps: Vec<SweepSpec>,
}

/// `dataset NAME = SOURCE` or `dataset NAME { points }`.
#[derive(Clone, Debug)]
pub struct DatasetDecl {
    /// The data set's name.
    pub name: String,
    /// Where the name is declared.
    pub span: SourceSpan,
    /// Where its points come from.
    pub source: DataSource,
    /// Spans of the source in the spec, for data-loading errors.
    pub source_spans: SourceSpans,
}

/// Where a data set's source is written in the spec, so that errors raised
/// while loading the data can point at the right place.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceSpans {
    /// The whole source: the inline block or the call.
    pub whole: SourceSpan,
    /// Each path argument (csv: the file; npy: features, then labels).
    pub paths: Vec<SourceSpan>,
    /// The `label = ...` argument of `csv(...)`, when given.
    pub label: Option<SourceSpan>,
}

/// How the radius is asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RadiusSpec {
    /// `max`: the largest radius the chosen width certifies.
    Max,
    /// An absolute radius in the network's norm.
    Absolute(f64),
    /// `f of limit`: f * delta_p / 2, with 0 < f.
    OfLimit(f64),
}

/// A width or depth budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// Let the compiler choose.
    Auto,
    /// At most this many.
    AtMost(usize),
}

/// What the network outputs (specs/construction.md section 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// C outputs whose argmax is the label.
    Logits,
    /// One output equal to the label.
    Label,
}

/// How to choose the projection U (specs/construction.md section 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectionChoice {
    /// The strategy that certifies the largest radius at the width budget.
    Auto,
    /// U = I (m = d).
    Identity,
    /// Orthonormal basis of the centred data's span (needs N - 1 < d).
    Span,
    /// Seeded Haar-random orthonormal rows.
    Random,
    /// Top principal components.
    Pca,
}

/// Which construction builds the network (specs/construction.md sections 4-5
/// and 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstructionChoice {
    /// The one that certifies the requested radius (or the largest radius,
    /// for `radius = max`) in the spec's precision; the smaller network on a tie.
    Auto,
    /// Inner-product scores after a projection (sections 3-5).
    Scores,
    /// Exact l1 / l_inf distances to every stored centre (section 8); only
    /// for `norm = l1` or `norm = linf`.
    Distances,
}

/// Whether a network keeps a score (or a centre) for every data point or only for
/// prototypes that cover the others (specs/construction.md sections 5C and 8.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CondenseChoice {
    /// Prototypes when they certify the planned radius in the spec's
    /// precision (either construction, at most
    /// `crate::construct::condense::MAX_POINTS` points); otherwise every point.
    Auto,
    /// One score (or centre) per data point.
    None,
}

/// Floating-point type of the ONNX weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// float32 (default).
    F32,
    /// float64 (`precision = f64`).
    F64,
}

/// A `network` block with defaults filled in.
#[derive(Clone, Debug)]
pub struct NetworkSpec {
    /// The network's name.
    pub name: String,
    /// Where the name is declared.
    pub span: SourceSpan,
    /// Index into [`Program::datasets`].
    pub data: usize,
    /// Span of the `data = ...` value.
    pub data_span: SourceSpan,
    /// Default l2.
    pub norm: Norm,
    /// Default `max`.
    pub radius: RadiusSpec,
    /// Span of the `radius = ...` value, or of the network's name when defaulted.
    pub radius_span: SourceSpan,
    /// Default auto.
    pub width: Budget,
    /// Default auto.
    pub depth: Budget,
    /// Default logits.
    pub output: OutputKind,
    /// Default auto.
    pub projection: ProjectionChoice,
    /// Default auto.
    pub construction: ConstructionChoice,
    /// Span of the `construction = ...` value, or of the network's name when defaulted.
    pub construction_span: SourceSpan,
    /// Default auto.
    pub condense: CondenseChoice,
    /// Default 0.
    pub seed: u64,
    /// Default f32.
    pub precision: Precision,
}

/// An `emit NETWORK { ... }` block. Paths are relative to the spec file's
/// folder (already joined by the resolver).
#[derive(Clone, Debug)]
pub struct EmitSpec {
    /// Index into [`Program::networks`].
    pub network: usize,
    /// Where the block is.
    pub span: SourceSpan,
    /// `onnx = "..."`.
    pub onnx: Option<PathBuf>,
    /// `certificate = "..."`.
    pub certificate: Option<PathBuf>,
    /// `vnnlib = "DIR"`.
    pub vnnlib: Option<PathBuf>,
    /// `unsafe = K`: planted not-robust instances (`None`: not given; 0,
    /// or round(K/4) of a `sample`).
    pub unsafe_instances: Option<usize>,
    /// `sample = K`: exactly K instances (specs/vnnlib.md, "Suites").
    pub sample: Option<usize>,
    /// `seed = S`: the seed of the sample's draws (default 0).
    pub seed: u64,
    /// `total_timeout = T`: seconds for the whole suite.
    pub total_timeout: Option<u64>,
    /// `hard = N`: hard-band instances (default 0).
    pub hard: usize,
    /// `domain = [lo, hi]`: the input domain every box is clipped to, and
    /// where the value is written (to point at it when a data point lies
    /// outside).
    pub domain: Option<((f64, f64), SourceSpan)>,
}

/// A `sweep NETWORK { KEY = [v, ...] ... }` block: the network compiled
/// once per combination of the listed values (specs/language.md,
/// "Sweeps"). Every combination is resolved and checked as the network
/// block with those keys would be.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    /// The swept network's name (the table's name).
    pub name: String,
    /// Where the sweep names its network.
    pub span: SourceSpan,
    /// Index into [`Program::networks`] of the swept network.
    pub network: usize,
    /// The swept keys in the order written, each with its values.
    pub axes: Vec<SweepAxis>,
    /// Every combination, the first axis varying slowest (nested loops in
    /// the order the keys are written).
    pub combinations: Vec<Combination>,
}

/// One swept key and its values.
#[derive(Clone, Debug)]
pub struct SweepAxis {
    /// The key (`width`, `projection`, ..., or `points`).
    pub key: String,
    /// Its values in the order written.
    pub values: Vec<SweptValue>,
}

/// One value of a swept key, as written.
#[derive(Clone, Debug, PartialEq)]
pub struct SweptValue {
    /// The spec's text of the value (`24`, `pca`, `0.5 of limit`, `l(3)`).
    pub text: String,
    /// The value when it is a plain number.
    pub number: Option<f64>,
    /// Where it is written.
    pub span: SourceSpan,
}

/// One combination of a sweep.
#[derive(Clone, Debug)]
pub struct Combination {
    /// The network block with the combination's keys, resolved.
    pub network: NetworkSpec,
    /// `points = N`: compile on a seeded subsample of N points (see
    /// [`crate::sweep::subsample`]), with where N is written.
    pub points: Option<(usize, SourceSpan)>,
    /// Per axis, the index of this combination's value.
    pub values: Vec<usize>,
}
