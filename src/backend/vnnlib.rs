//! VNN-LIB back end: known-answer verification instances (specs/vnnlib.md,
//! specs/construction.md section 7).
//!
//! [`write_instances`] writes, for one compiled network, a folder in the
//! layout of the annual verification competition (VNN-COMP):
//!
//! - `onnx/NAME.onnx`: the network (weights inside the file, opset 13);
//! - `vnnlib/NAME_point_I.vnnlib`: one *robust* property per data point, the
//!   box around the point at the certified radius (the exact ball for l_inf,
//!   the inscribed box of half-width `radius * d^(-1/p)` for other norms),
//!   whose known answer is `unsat`;
//! - `vnnlib/NAME_unsafe_K.vnnlib`: *planted* properties around the closest
//!   differently-labelled pairs (x_i, x_j), whose known answer is `sat`
//!   without ties (specs/construction.md section 9): the box of half-width
//!   rho = delta - sigma_c around x_i holds a witness in the certified ball
//!   of x_j, written with the certificate's margins of x_j in
//!   `counterexamples/NAME_unsafe_K.json`;
//! - `instances.csv` (`onnx,vnnlib,timeout` per line, no header) and
//!   `expected.csv` (`vnnlib,answer` per line).
//!
//! Every bound is a float32 value written as the shortest decimal that reads
//! back as that value, rounded inward for robust boxes (the written box lies
//! inside the certified region) and outward for planted ones (the box still
//! contains the counterexample); see [`round_inward`] and [`round_outward`].
//!
//! The caller builds the folder under a temporary sibling name and renames
//! it into place once complete, with its certificate ([`crate::backend::staging`]),
//! so an interrupted run never leaves a half-written folder, and an existing
//! folder is replaced only by a complete one.

use crate::data::LabelValue;
use crate::eval::evaluate_point;
use crate::ir::layers::LayerNetwork;
use crate::norm::Norm;
use crate::spec::{OutputKind, Precision};
use crate::verify::interval::{add_up, mul_down, mul_up, sqrt_up, sub_up};
use ndarray::ArrayView2;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// Default per-instance timeout written to `instances.csv`, in seconds.
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 60;

/// What the network outputs, as the properties need it.
#[derive(Clone, Debug, PartialEq)]
pub enum Outputs {
    /// `C` logits; the predicted class is the argmax.
    Logits {
        /// Number of classes C (outputs `Y_0 .. Y_{C-1}`).
        classes: usize,
    },
    /// One output `Y_0` equal to the label's value.
    Label {
        /// `values[c]`: the value the network outputs for class index `c`
        /// (the label itself for numeric labels, the class index for names).
        values: Vec<f64>,
        /// The property is `|Y_0 - value| < tolerance`: 1/2, or half the
        /// smallest gap between two label values when that is smaller.
        tolerance: f64,
    },
}

impl Outputs {
    /// The outputs of a network with this output kind and these labels
    /// (class-index order).
    pub fn new(kind: OutputKind, labels: &[LabelValue]) -> Outputs {
        match kind {
            OutputKind::Logits => Outputs::Logits {
                classes: labels.len(),
            },
            OutputKind::Label => {
                let numeric = labels.iter().all(|l| matches!(l, LabelValue::Number(_)));
                let values: Vec<f64> = labels
                    .iter()
                    .enumerate()
                    .map(|(c, l)| match l {
                        LabelValue::Number(x) if numeric => *x,
                        _ => c as f64,
                    })
                    .collect();
                let mut sorted = values.clone();
                sorted.sort_by(f64::total_cmp);
                let gap = sorted
                    .windows(2)
                    .map(|w| w[1] - w[0])
                    .fold(f64::INFINITY, f64::min);
                Outputs::Label {
                    values,
                    tolerance: (gap / 2.0).min(0.5),
                }
            }
        }
    }

    /// Whether `output` (the network's output at a point) violates the
    /// property "the output is class `class`": some other logit is at least
    /// the class's logit, or the label output is at least `tolerance` away
    /// from the class's value. Ties count as violations, as in the VNN-LIB
    /// files (`>=`).
    pub fn violates(&self, output: &[f64], class: usize) -> bool {
        match self {
            Outputs::Logits { .. } => output
                .iter()
                .enumerate()
                .any(|(c, &y)| c != class && y >= output[class]),
            Outputs::Label { values, tolerance } => (output[0] - values[class]).abs() >= *tolerance,
        }
    }
}

/// Everything [`write_instances`] needs for one network.
#[derive(Clone, Debug)]
pub struct InstanceSet<'a> {
    /// The network's name: prefix of every file name.
    pub name: String,
    /// The data points, N x d.
    pub points: ArrayView2<'a, f64>,
    /// The class index of each point.
    pub labels: &'a [u32],
    /// What the network outputs.
    pub outputs: Outputs,
    /// The perturbation norm.
    pub norm: Norm,
    /// The certified radius sigma (robust boxes are built from it).
    pub radius: f64,
    /// The network, to evaluate it at counterexamples.
    pub network: &'a LayerNetwork,
    /// The element type of the ONNX file: with `F32` the network is
    /// evaluated with its weights rounded to float32, as a verifier reads them.
    pub precision: Precision,
    /// The ONNX file's bytes, copied to `onnx/NAME.onnx`.
    pub onnx: &'a [u8],
    /// How many planted (not robust) instances to write (`unsafe = K`).
    pub planted: usize,
    /// Timeout per instance written to `instances.csv`, in seconds (unless
    /// `suite.total_timeout` sets it).
    pub timeout_seconds: u32,
    /// Sampling, time budget, hard-band instances and input domain.
    pub suite: Suite,
}

/// How a benchmark suite is cut from the instances (specs/vnnlib.md,
/// "Suites"): all defaults write every robust instance, `planted` planted
/// ones and nothing else.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Suite {
    /// `--sample K`: exactly K instances in all (robust + planted + hard);
    /// the robust ones are drawn from the data points with `seed`.
    pub sample: Option<usize>,
    /// Seed of the draws (robust points of a sample, points of hard
    /// instances).
    pub seed: u64,
    /// `--total-timeout T`: the per-instance timeout is
    /// [`timeout_for_budget`] of T and the number of instances.
    pub total_timeout: Option<u64>,
    /// `--hard N`: instances in the band between the certified radius and
    /// delta_p - sigma_c, answer `unknown`.
    pub hard: usize,
    /// `domain = [lo, hi]`: every coordinate of every box is clipped to
    /// it, and planted witnesses lie in it.
    pub domain: Option<(f64, f64)>,
}

/// The float32 values inside the domain `[lo, hi]`: `[ceil_f32(lo),
/// floor_f32(hi)]` (None: no domain, the whole line).
fn domain_f32(domain: Option<(f64, f64)>) -> Option<(f32, f32)> {
    domain.map(|(lo, hi)| (ceil_f32(lo), floor_f32(hi)))
}

/// Robust (and hard) bounds clipped to the domain: the intersection, whose
/// float32 reading lies in both the box and the domain; None when empty.
fn clip(bounds: (f32, f32), domain: Option<(f32, f32)>) -> Option<(f32, f32)> {
    let (lo, hi) = match domain {
        Some((dlo, dhi)) => (bounds.0.max(dlo), bounds.1.min(dhi)),
        None => bounds,
    };
    (lo <= hi).then_some((lo, hi))
}

/// The comment line saying how a box was clipped.
fn domain_comment(domain: Option<(f64, f64)>) -> String {
    match domain {
        Some((lo, hi)) => format!(
            "; clipped to the input domain [{lo}, {hi}] (every coordinate; its ends rounded inward\n\
             ; to float32 values): the region is the part of the box inside the domain.\n"
        ),
        None => String::new(),
    }
}

/// The per-instance timeout that makes `instances` instances fit a total
/// budget of `total` seconds: `floor(total / instances)` seconds each, so
/// that their sum is at most `total`; `None` when `total < instances` (each
/// instance needs at least one second).
///
/// This is how a VNN-COMP benchmark is sized: an instance is "input +
/// property + neural network model, as well as a timeout" (VNN-COMP 2026
/// rules, `github.com/VNN-COMP/vnncomp2026`, rules.md, terminology), the
/// timeout being the third column of the benchmark's `instances.csv`, and
/// the competition bounds the sum of a benchmark's instance timeouts by a
/// total per benchmark, so a benchmark author divides a total budget among
/// the instances (see also the VNN-COMP 2022 rules meeting slides: "benchmarks,
/// which are collections of instances (specific network / specification /
/// timeout in seconds)").
pub fn timeout_for_budget(total: u64, instances: usize) -> Option<u32> {
    if instances == 0 {
        return Some(u32::try_from(total.max(1)).unwrap_or(u32::MAX));
    }
    let per = total / instances as u64;
    (per >= 1).then(|| u32::try_from(per).unwrap_or(u32::MAX))
}

/// The number of planted instances in a sample of `k` when none is asked
/// for: round(k / 4), halves rounded up.
pub fn default_planted(k: usize) -> usize {
    k / 4 + usize::from(k % 4 >= 2)
}

/// `k` distinct indices below `n`, in increasing order, drawn with the
/// ChaCha8 stream `stream` keyed by `SHA-256("robmem/instances/sample" ||
/// seed)` (a partial Fisher-Yates shuffle; platform-independent). `k <= n`.
pub fn sample_indices(seed: u64, stream: u64, n: usize, k: usize) -> Vec<usize> {
    use rand::{RngCore, SeedableRng};
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"robmem/instances/sample");
    hasher.update(seed.to_le_bytes());
    let key: [u8; 32] = hasher.finalize().into();
    let mut rng = rand_chacha::ChaCha8Rng::from_seed(key);
    rng.set_stream(stream);
    let k = k.min(n);
    let mut all: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + (rng.next_u64() % (n - i) as u64) as usize;
        all.swap(i, j);
    }
    let mut chosen = all[..k].to_vec();
    chosen.sort_unstable();
    chosen
}

/// What [`write_instances`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    /// The folder.
    pub dir: PathBuf,
    /// Robust instances (answer `unsat`).
    pub robust: usize,
    /// Planted instances (answer `sat`).
    pub planted: usize,
    /// Planted instances asked for but not written (fewer differently
    /// labelled pairs than asked for, or pairs whose witness cannot be
    /// placed in float32 inside the certified ball).
    pub planted_missing: usize,
    /// Hard-band instances (answer `unknown`).
    pub hard: usize,
    /// The timeout written for each instance, in seconds.
    pub timeout_seconds: u32,
}

impl Written {
    /// Total number of instances.
    pub fn instances(&self) -> usize {
        self.robust + self.planted + self.hard
    }
}

/// Why the instances cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum VnnlibError {
    /// A file or folder cannot be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: io::Error,
    },
    /// The certified radius is not a positive finite number.
    #[error("the certified radius {0} is not a positive finite number: no robust box to write")]
    Radius(f64),
    /// The folder's certificate could not be made (the message says why).
    #[error("{0}")]
    Certificate(String),
    /// The suite asked for cannot be cut from the instances (a sample
    /// larger than what exists, a budget below one second per instance).
    #[error("{0}")]
    Suite(String),
}

/// What backs the label of a planted witness: a certificate's margins.
#[derive(Clone, Debug, PartialEq)]
pub struct Backing {
    /// The file the claims come from, relative to the folder
    /// (`NAME.cert.json`).
    pub source: String,
    /// The certified radius sigma_c the margins hold on.
    pub radius: f64,
    /// Per certified arithmetic (`real`, `float32`, `float64`), a lower
    /// bound on each data point's margin `out[y] - max other out` over its
    /// closed ball of radius `radius`.
    pub margins: Vec<(String, Vec<f64>)>,
}

impl Backing {
    /// The backing of a certificate written as `source`: its radius and the
    /// margins of every arithmetic it claims (none when it claims none).
    pub fn from_certificate(
        certificate: &crate::verify::certificate::Certificate,
        source: &str,
    ) -> Backing {
        let margins = certificate
            .points
            .margin
            .iter()
            .filter(|(s, _)| certificate.semantics.contains(*s))
            .map(|(s, m)| (s.name().to_string(), m.clone()))
            .collect();
        Backing {
            source: source.to_string(),
            radius: certificate.radius,
            margins,
        }
    }
}

/// One planted (not robust) instance (specs/construction.md section 9): a
/// differently-labelled pair (x_i, x_j), the property "label y_i on the box
/// of half-width rho = delta - sigma_c around x_i", and its witness
/// x* = x_j + sigma_c (x_i - x_j) / ||x_i - x_j||, which lies in the
/// certified ball of x_j, so the network gives it label y_j.
#[derive(Clone, Debug, PartialEq)]
pub struct Planted {
    /// The pair (i, j), i < j.
    pub pair: (usize, usize),
    /// ||x_i - x_j||_p.
    pub distance: f64,
    /// The point the property is about (i).
    pub point: usize,
    /// The point whose certified ball holds the witness (j).
    pub centre: usize,
    /// rho = delta - sigma_c, rounded up: the half-width of the box around
    /// `point` (before rounding its bounds outward).
    pub half_width: f64,
    /// The witness: float32 values, in the closed ball of radius sigma_c
    /// around x_j (checked with outward-rounded arithmetic).
    pub witness: Vec<f64>,
    /// An upper bound on ||witness - x_j||_p (at most sigma_c).
    pub witness_distance: f64,
    /// The network's output at the witness (f64 arithmetic on the weights
    /// as stored in the ONNX file).
    pub output: Vec<f64>,
    /// The network's output at the witness in robmem's simulated float32
    /// evaluation (for float32 models; the f64 one otherwise).
    pub output_model_precision: Vec<f64>,
}

/// How far `output` gives class `class`: `out[class] - max other out` for
/// logits, `tolerance - |Y_0 - value|` for a label output. Positive exactly
/// when the property "the output is class `class`" holds.
pub fn class_margin(outputs: &Outputs, output: &[f64], class: usize) -> f64 {
    match outputs {
        Outputs::Logits { .. } => {
            let other = output
                .iter()
                .enumerate()
                .filter(|&(c, _)| c != class)
                .fold(f64::NEG_INFINITY, |m, (_, &y)| m.max(y));
            output[class] - other
        }
        Outputs::Label { values, tolerance } => tolerance - (output[0] - values[class]).abs(),
    }
}

/// |a - b| rounded up.
fn abs_diff_up(a: f64, b: f64) -> f64 {
    if a >= b {
        sub_up(a, b)
    } else {
        sub_up(b, a)
    }
}

/// The relative error allowed for `f64::powf` in [`within_ball`] (l(p) only):
/// libm's pow is accurate to about one ulp (2^-52); 2^-40 leaves room.
const POW_SLACK: f64 = 1.0 / (1u64 << 40) as f64;

/// `x^p` rounded up (x >= 0), trusting powf to [`POW_SLACK`].
fn pow_up(x: f64, p: f64) -> f64 {
    mul_up(x.powf(p), 1.0 + POW_SLACK).next_up()
}

/// `x^p` rounded down (x >= 0), trusting powf to [`POW_SLACK`].
fn pow_down(x: f64, p: f64) -> f64 {
    mul_down(x.powf(p), 1.0 - POW_SLACK).next_down().max(0.0)
}

/// An upper bound on ||a - b||_p, and whether ||a - b||_p <= `radius` is
/// proved. Every operation is rounded outward (crate::verify::interval), so
/// the answer is exact for l1, l2 and l_inf: a `true` is a proof in real
/// arithmetic. For l(p) the powers are computed with powf, whose relative
/// error is taken to be below 2^-40 (and the comparison is made between
/// p-th powers, so no 1/p is rounded).
pub fn within_ball(a: &[f64], b: &[f64], norm: Norm, radius: f64) -> (f64, bool) {
    let diffs = a.iter().zip(b).map(|(&x, &y)| abs_diff_up(x, y));
    let bound = match norm {
        Norm::Linf => diffs.fold(0.0, f64::max),
        Norm::L1 => diffs.fold(0.0, add_up),
        Norm::L2 => sqrt_up(diffs.fold(0.0, |s, d| add_up(s, mul_up(d, d)))),
        Norm::Lp(p) => {
            let sum = diffs.fold(0.0, |s, d| add_up(s, pow_up(d, p)));
            let proved = sum <= pow_down(radius, p);
            return (pow_up(sum, 1.0 / p).max(sum.powf(1.0 / p)), proved);
        }
    };
    (bound, bound <= radius)
}

/// The float32 value next to `target` on the side of `towards` (the largest
/// float32 <= target when towards <= target, else the smallest >= target).
fn round_towards(target: f64, towards: f64) -> f64 {
    if towards <= target {
        floor_f32(target) as f64
    } else {
        ceil_f32(target) as f64
    }
}

/// The witness of specs/construction.md section 9: x_j + s (x_i - x_j) /
/// ||x_i - x_j|| with s as close to `sigma` from below as float32 rounding
/// allows, each coordinate a float32 value rounded towards x_j, proved
/// (by [`within_ball`]) to lie in the closed ball of radius `sigma` around
/// x_j. Tries s = sigma (1 - 2^-k) for k = 24, 20, .., 4, then 1/2, 1/4 and
/// 0; `None` when not even x_j's own float32 rounding is in the ball (a
/// radius below the float32 spacing of the data), or when the pair
/// coincides. Returns the witness and the bound on its distance.
pub fn witness(xi: &[f64], xj: &[f64], norm: Norm, sigma: f64) -> Option<(Vec<f64>, f64)> {
    witness_in(xi, xj, norm, sigma, None)
}

/// [`witness`] inside the domain `[lo, hi]`: each coordinate is also
/// moved into the domain's float32 values (`[ceil_f32(lo), floor_f32(hi)]`)
/// before the ball is checked; `None` when no shrink works.
pub fn witness_in(
    xi: &[f64],
    xj: &[f64],
    norm: Norm,
    sigma: f64,
    domain: Option<(f64, f64)>,
) -> Option<(Vec<f64>, f64)> {
    let inside = domain_f32(domain);
    let distance = norm.distance(xi, xj);
    if !(distance.is_finite() && distance > 0.0 && sigma.is_finite() && sigma > 0.0) {
        return None;
    }
    let mut shrinks: Vec<f64> = (1..=6).map(|k| 1.0 - 2f64.powi(-28 + 4 * k)).collect();
    shrinks.extend([0.5, 0.25, 0.0]);
    shrinks.into_iter().find_map(|f| {
        let s = sigma * f / distance;
        let x: Vec<f64> = xi
            .iter()
            .zip(xj)
            .map(|(&a, &b)| {
                let t = b + s * (a - b);
                if t.is_finite() && (t as f32).is_finite() {
                    let v = round_towards(t, b);
                    match inside {
                        Some((lo, hi)) if lo <= hi => v.clamp(lo as f64, hi as f64),
                        Some(_) => f64::NAN,
                        None => v,
                    }
                } else {
                    f64::NAN
                }
            })
            .collect();
        if x.iter().any(|v| v.is_nan()) {
            return None;
        }
        let (bound, inside) = within_ball(&x, xj, norm, sigma);
        inside.then_some((x, bound))
    })
}

/// The `k` closest differently-labelled pairs in `norm`, sorted by distance
/// then (i, j), with their distances. Brute force over all N(N-1)/2 pairs,
/// in parallel: O(N^2 d) time, O(N k) memory.
pub fn closest_pairs(
    points: ArrayView2<f64>,
    labels: &[u32],
    norm: Norm,
    k: usize,
) -> Vec<((usize, usize), f64)> {
    if k == 0 {
        return Vec::new();
    }
    let n = points.nrows();
    let key = |a: &((usize, usize), f64), b: &((usize, usize), f64)| {
        a.1.total_cmp(&b.1).then(a.0.cmp(&b.0))
    };
    let mut all: Vec<((usize, usize), f64)> = (0..n)
        .into_par_iter()
        .flat_map_iter(|i| {
            let xi = points.row(i).to_vec();
            let mut best: Vec<((usize, usize), f64)> = ((i + 1)..n)
                .filter(|&j| labels[i] != labels[j])
                .map(|j| ((i, j), norm.distance(&xi, &points.row(j).to_vec())))
                .collect();
            best.sort_by(key);
            best.truncate(k);
            best
        })
        .collect();
    all.sort_by(key);
    all.truncate(k);
    all
}

/// The network as a verifier reads the ONNX file: with `F32` precision every
/// weight and bias rounded to float32 (kept as f64 for exact-ish evaluation).
fn as_stored(net: &LayerNetwork, precision: Precision) -> LayerNetwork {
    let mut net = net.clone();
    if precision == Precision::F32 {
        for layer in &mut net.layers {
            layer.weight.mapv_inplace(|w| w as f32 as f64);
            layer.bias.mapv_inplace(|b| b as f32 as f64);
        }
    }
    net
}

/// The planted instances of `set` (specs/construction.md section 9): its
/// `planted` closest pairs (i, j), each with the property of x_i at
/// half-width rho = delta - sigma_c and the witness in the certified ball of
/// x_j. `sigma` is the certified radius (the certificate's when there is
/// one). Pairs without a witness (see [`witness`]) are left out.
pub fn planted_instances(set: &InstanceSet, sigma: f64) -> Vec<Planted> {
    let stored = as_stored(set.network, set.precision);
    let f32_net = crate::eval::F32Network::new(set.network);
    closest_pairs(set.points, set.labels, set.norm, set.planted)
        .into_iter()
        .filter_map(|((i, j), distance)| {
            let xi = set.points.row(i).to_vec();
            let xj = set.points.row(j).to_vec();
            let (witness, witness_distance) =
                witness_in(&xi, &xj, set.norm, sigma, set.suite.domain)?;
            let output = evaluate_point(&stored, &witness);
            let output_model_precision = match set.precision {
                Precision::F32 => {
                    let row = ndarray::ArrayView2::from_shape((1, witness.len()), &witness)
                        .expect("a row is a 1 x n matrix");
                    f32_net.evaluate(row).iter().map(|&v| v as f64).collect()
                }
                Precision::F64 => output.clone(),
            };
            Some(Planted {
                pair: (i, j),
                distance,
                point: i,
                centre: j,
                half_width: sub_up(distance, sigma).max(0.0),
                witness,
                witness_distance,
                output,
                output_model_precision,
            })
        })
        .collect()
}

/// The next f32 above `x` (`x` finite).
fn f32_up(x: f32) -> f32 {
    if x == 0.0 {
        return f32::from_bits(1);
    }
    let bits = x.to_bits();
    f32::from_bits(if x > 0.0 { bits + 1 } else { bits - 1 })
}

/// The next f32 below `x` (`x` finite).
fn f32_down(x: f32) -> f32 {
    -f32_up(-x)
}

/// The smallest f32 that is >= `y` (as an f64), `y` finite.
fn ceil_f32(y: f64) -> f32 {
    let f = y as f32;
    if (f as f64) < y {
        f32_up(f)
    } else {
        f
    }
}

/// The largest f32 that is <= `y` (as an f64), `y` finite.
fn floor_f32(y: f64) -> f32 {
    let f = y as f32;
    if (f as f64) > y {
        f32_down(f)
    } else {
        f
    }
}

/// The bounds `[lo, hi]` of a robust box around coordinate `x` with
/// half-width `h`, rounded inward to float32 values: `x - h <= lo` and
/// `hi <= x + h` in real arithmetic, even though `x - h` and `x + h` are
/// computed in f64 (the f64 results are first moved one f64 step inward to
/// cover their rounding error). `lo <= hi` unless `h` is below the float32
/// spacing at `x`, in which case `None`.
pub fn round_inward(x: f64, h: f64) -> Option<(f32, f32)> {
    let lo = ceil_f32((x - h).next_up());
    let hi = floor_f32((x + h).next_down());
    (lo <= hi).then_some((lo, hi))
}

/// The bounds `[lo, hi]` of a planted box around coordinate `x` with
/// half-width `h`, rounded outward to float32 values, and widened if needed
/// to contain `m` (the counterexample's coordinate): `lo <= min(x - h, m)`
/// and `hi >= max(x + h, m)`.
pub fn round_outward(x: f64, h: f64, m: f64) -> (f32, f32) {
    let lo = floor_f32((x - h).next_down().min(m));
    let hi = ceil_f32((x + h).next_up().max(m));
    (lo, hi)
}

/// A float32 value as the shortest decimal that reads back as the same f64
/// (and hence the same f32), always with a decimal point and never with an
/// exponent (SMT-LIB decimals have none).
pub fn decimal(x: f32) -> String {
    let mut s = format!("{}", x as f64);
    if !s.contains('.') {
        s.push_str(".0");
    }
    s
}

/// A real threshold rounded to a float32 value away from (`outward`) or
/// towards the class value `centre`, written as a decimal.
fn threshold(value: f64, centre: f64, outward: bool) -> String {
    let above = value > centre;
    let f = if above == outward {
        ceil_f32(value.next_up())
    } else {
        floor_f32(value.next_down())
    };
    decimal(f)
}

/// The negated output property for a point of class `class`: the
/// assertion(s) that say "the network does not output class `class`".
/// `robust` chooses the rounding of label thresholds (outward for robust
/// instances, so the negation is no larger than the real one).
fn negated_output(outputs: &Outputs, class: usize, robust: bool) -> String {
    match outputs {
        Outputs::Logits { classes } => {
            let others: Vec<usize> = (0..*classes).filter(|&c| c != class).collect();
            if others.len() == 1 {
                format!("(assert (>= Y_{} Y_{class}))\n", others[0])
            } else {
                let mut s = String::from("(assert (or\n");
                for c in others {
                    let _ = writeln!(s, "    (and (>= Y_{c} Y_{class}))");
                }
                s + "))\n"
            }
        }
        Outputs::Label { values, tolerance } => {
            let v = values[class];
            format!(
                "(assert (or\n    (and (<= Y_0 {}))\n    (and (>= Y_0 {}))\n))\n",
                threshold(v - tolerance, v, robust),
                threshold(v + tolerance, v, robust),
            )
        }
    }
}

/// The number of outputs.
fn output_count(outputs: &Outputs) -> usize {
    match outputs {
        Outputs::Logits { classes } => *classes,
        Outputs::Label { .. } => 1,
    }
}

/// Declarations of `X_0..X_{d-1}` and `Y_0..Y_{k-1}`.
fn declarations(d: usize, k: usize) -> String {
    let mut s = String::new();
    for i in 0..d {
        let _ = writeln!(s, "(declare-const X_{i} Real)");
    }
    s.push('\n');
    for j in 0..k {
        let _ = writeln!(s, "(declare-const Y_{j} Real)");
    }
    s.push('\n');
    s
}

/// Input bounds as assertions.
fn input_bounds(bounds: &[(f32, f32)]) -> String {
    let mut s = String::new();
    for (i, (lo, hi)) in bounds.iter().enumerate() {
        let _ = writeln!(s, "(assert (>= X_{i} {}))", decimal(*lo));
        let _ = writeln!(s, "(assert (<= X_{i} {}))", decimal(*hi));
    }
    s.push('\n');
    s
}

/// The half-width of the box written for a robust instance: the radius for
/// l_inf, the inscribed box's `radius * d^(-1/p)` otherwise.
pub fn robust_half_width(norm: Norm, radius: f64, d: usize) -> f64 {
    match norm {
        Norm::Linf => radius,
        _ => radius * (d as f64).powf(-1.0 / norm.p()),
    }
}

/// How the label of class `c` is shown in comments.
fn class_text(outputs: &Outputs, c: usize) -> String {
    match outputs {
        Outputs::Logits { .. } => format!("class index {c} (output Y_{c})"),
        Outputs::Label { values, tolerance } => format!(
            "class index {c}, label output {} (property: |Y_0 - {}| < {})",
            values[c], values[c], tolerance
        ),
    }
}

/// The box of half-width `half` around point `i`, rounded inward and
/// clipped to the domain.
fn inward_box(set: &InstanceSet, i: usize, half: f64) -> Result<Vec<(f32, f32)>, VnnlibError> {
    let domain = domain_f32(set.suite.domain);
    set.points
        .row(i)
        .iter()
        .map(|&x| {
            round_inward(x, half)
                .and_then(|b| clip(b, domain))
                .ok_or(VnnlibError::Radius(half))
        })
        .collect()
}

/// The text of the robust property of point `i`.
fn robust_file(set: &InstanceSet, i: usize, half: f64) -> Result<String, VnnlibError> {
    let class = set.labels[i] as usize;
    let bounds = inward_box(set, i, half)?;
    let mut s = format!(
        "; robmem {}: network {}, robust instance for data point {i}, {}\n\
         ; expected answer: unsat (the network was compiled to be robust here)\n",
        env!("CARGO_PKG_VERSION"),
        set.name,
        class_text(&set.outputs, class)
    );
    match set.norm {
        Norm::Linf => {
            let _ = writeln!(
                s,
                "; input region: the l_inf ball of radius {} around the point (exactly this box),\n\
                 ; with bounds rounded inward to float32 values",
                set.radius
            );
        }
        norm => {
            let _ = writeln!(
                s,
                "; input region: the box INSCRIBED in the {norm} ball of radius {} (half-width\n\
                 ; radius * d^(-1/p) = {half}), bounds rounded inward to float32 values.\n\
                 ; This is NOT the {norm} ball: it is a smaller region, so this property is\n\
                 ; sound but weaker than the certified robustness.",
                set.radius
            );
        }
    }
    s += &robust_body(set, class, &bounds);
    Ok(s)
}

/// The part of a robust or hard property after its header comments: the
/// domain note, the declarations, the box and the negated output.
fn robust_body(set: &InstanceSet, class: usize, bounds: &[(f32, f32)]) -> String {
    let mut s = domain_comment(set.suite.domain);
    s += "; the assertion on Y is the negation of \"the label's output wins\"\n\n";
    s += &declarations(set.points.ncols(), output_count(&set.outputs));
    s += &input_bounds(bounds);
    s += &negated_output(&set.outputs, class, true);
    s
}

/// What backs a witness's label, as written in the files.
fn backed_by(set: &InstanceSet, backing: Option<&Backing>) -> String {
    match backing {
        Some(b) => format!(
            "the certificate {} (each point's margin over its ball of radius {})",
            b.source, b.radius
        ),
        None => match set.outputs {
            Outputs::Label { .. } => {
                "the construction (specs/construction.md section 5B) at the compiled radius; \
                 label-output networks have no certificate yet, so no margin is certified"
                    .to_string()
            }
            Outputs::Logits { .. } => {
                "no certificate claim (the checker certified no arithmetic); \
                 the witness lies in the compiled radius"
                    .to_string()
            }
        },
    }
}

/// The text of a planted property and its bounds.
fn planted_file(set: &InstanceSet, p: &Planted, sigma: f64, backing: Option<&Backing>) -> String {
    let d = set.points.ncols();
    let class = set.labels[p.point] as usize;
    let other = set.labels[p.centre] as usize;
    let half = p.half_width;
    let bounds: Vec<(f32, f32)> = set
        .points
        .row(p.point)
        .iter()
        .zip(&p.witness)
        .map(|(&x, &m)| {
            let b = round_outward(x, half, m);
            // The witness lies in the domain's float32 values, so the
            // clipped box still holds it.
            clip(b, domain_f32(set.suite.domain)).unwrap_or(b)
        })
        .collect();
    let (i, j) = (p.point, p.centre);
    let mut s = format!(
        "; robmem {}: network {}, PLANTED not-robust instance for data point {i}, {}\n\
         ; expected answer: sat\n\
         ; points {i} and {j} have different labels and are delta = {} apart in {}. The witness\n\
         ; x* = x_{j} + sigma_c (x_{i} - x_{j}) / delta (counterexamples/), with float32 coordinates,\n\
         ; lies in the certified ball of radius sigma_c = {sigma} around point {j}, where the\n\
         ; network gives {}, with the margin written beside the witness: no tie.\n\
         ; Backed by: {}.\n\
         ; Input region: the box of half-width rho = delta - sigma_c = {half} around point {i},\n\
         ; widened to contain x*, bounds rounded outward to float32 values. It contains the\n\
         ; {} ball of radius rho and is not the ball.\n",
        env!("CARGO_PKG_VERSION"),
        set.name,
        class_text(&set.outputs, class),
        p.distance,
        set.norm,
        class_text(&set.outputs, other),
        backed_by(set, backing),
        set.norm,
    );
    s += &domain_comment(set.suite.domain);
    s += "; the assertion on Y is the negation of \"the label's output wins\"\n\n";
    s += &declarations(d, output_count(&set.outputs));
    s += &input_bounds(&bounds);
    s += &negated_output(&set.outputs, class, false);
    s
}

/// The counterexample file of a planted instance (JSON).
fn counterexample_json(
    set: &InstanceSet,
    p: &Planted,
    sigma: f64,
    backing: Option<&Backing>,
) -> String {
    let mut margins = serde_json::Map::new();
    if let Some(b) = backing {
        for (semantics, m) in &b.margins {
            margins.insert(semantics.clone(), m[p.centre].into());
        }
    }
    let centre_class = set.labels[p.centre] as usize;
    let (witness_value, tolerance) = match &set.outputs {
        Outputs::Label { values, tolerance } => (Some(values[centre_class]), Some(*tolerance)),
        Outputs::Logits { .. } => (None, None),
    };
    let value = serde_json::json!({
        "network": set.name,
        "pair": [p.pair.0, p.pair.1],
        "distance": p.distance,
        "point": p.point,
        "label": set.labels[p.point],
        "half_width": p.half_width,
        "witness_of": p.centre,
        "witness_label": centre_class,
        "witness_value": witness_value,
        "tolerance": tolerance,
        "certified_radius": sigma,
        "witness_distance": p.witness_distance,
        "margin": margins,
        "backed_by": backed_by(set, backing),
        "evaluated_margin": {
            "f64": class_margin(&set.outputs, &p.output, centre_class),
            "model_precision": class_margin(&set.outputs, &p.output_model_precision, centre_class),
        },
        "input": p.witness,
        "output": p.output,
    });
    serde_json::to_string_pretty(&value).expect("JSON serialises") + "\n"
}

/// Inputs at which `reference.json` records the network's outputs: every
/// data point, then one probe per point (the corner `x + h s` of its robust
/// box with signs `s_c = (-1)^(i + c)`), then the planted witnesses.
pub fn reference_inputs(set: &InstanceSet, half: f64, planted: &[Planted]) -> Vec<Vec<f64>> {
    let mut inputs: Vec<Vec<f64>> = set.points.rows().into_iter().map(|r| r.to_vec()).collect();
    for (i, row) in set.points.rows().into_iter().enumerate() {
        inputs.push(
            row.iter()
                .enumerate()
                .map(|(c, x)| if (i + c) % 2 == 0 { x + half } else { x - half })
                .collect(),
        );
    }
    inputs.extend(planted.iter().map(|p| p.witness.clone()));
    inputs
}

/// `reference.json`: robmem's evaluator at [`reference_inputs`], in f64 on
/// the weights as stored and in simulated float32 (for float32 models), so
/// that a runtime can be compared with it.
fn reference_json(set: &InstanceSet, half: f64, planted: &[Planted]) -> String {
    let inputs = reference_inputs(set, half, planted);
    let d = set.points.ncols();
    let flat: Vec<f64> = inputs.iter().flatten().copied().collect();
    let batch = ndarray::Array2::from_shape_vec((inputs.len(), d), flat).expect("rows of length d");
    let stored = as_stored(set.network, set.precision);
    let f64_out = crate::eval::evaluate(&stored, batch.view());
    let rows = |a: &ndarray::Array2<f64>| -> Vec<Vec<f64>> {
        a.rows().into_iter().map(|r| r.to_vec()).collect()
    };
    let f32_out = match set.precision {
        Precision::F32 => {
            rows(&crate::eval::evaluate_f32(set.network, batch.view()).mapv(f64::from))
        }
        Precision::F64 => rows(&f64_out),
    };
    let value = serde_json::json!({
        "network": set.name,
        "precision": match set.precision { Precision::F32 => "float32", Precision::F64 => "float64" },
        "points": set.points.nrows(),
        "probes": set.points.nrows(),
        "witnesses": planted.len(),
        "inputs": inputs,
        "outputs_f64": rows(&f64_out),
        "outputs_model_precision": f32_out,
    });
    serde_json::to_string(&value).expect("JSON serialises") + "\n"
}

/// Writes a file, naming it in the error.
fn write_file(path: &Path, text: impl AsRef<[u8]>) -> Result<(), VnnlibError> {
    crate::backend::staging::guarded(|| std::fs::write(path, text))
        .map_err(|source| io_error(path, source))
}

fn io_error(path: &Path, source: io::Error) -> VnnlibError {
    VnnlibError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes the instance folder for `set` into `root`, an existing empty
/// folder, without a certificate: the planted witnesses are backed by the
/// construction only. See [`write_instances_with`].
pub fn write_instances(root: &Path, set: &InstanceSet) -> Result<Written, VnnlibError> {
    write_instances_with(root, set, |_| Ok(None))
}

/// Writes the instance folder for `set` into `root`, an existing empty
/// folder (layout in the module doc and specs/vnnlib.md). Callers build it
/// under a temporary name and rename it into place when it is complete
/// (`backend::staging`), so no half-written folder is ever visible.
/// `certify` is called with `root` once its ONNX copy is written; it may
/// write the folder's certificate there and returns what it certifies,
/// which backs the planted witnesses (their radius and margins).
pub fn write_instances_with(
    root: &Path,
    set: &InstanceSet,
    certify: impl FnOnce(&Path) -> Result<Option<Backing>, VnnlibError>,
) -> Result<Written, VnnlibError> {
    fill(root, set, set.points.nrows(), set.points.ncols(), certify)
}

/// The evenly spaced radii of `count` hard-band instances strictly inside
/// `(lower, upper)`: `lower + (upper - lower) k / (count + 1)`, k = 1 ..
/// count.
pub fn hard_radii(lower: f64, upper: f64, count: usize) -> Vec<f64> {
    (1..=count)
        .map(|k| lower + (upper - lower) * k as f64 / (count + 1) as f64)
        .collect()
}

/// The hard-band instances of `set`: `(point, radius)` pairs, the radii
/// [`hard_radii`] of the band `(radius, delta_p - sigma)` (empty when the
/// data has no differently-labelled pair), the points drawn with the suite's
/// seed (stream 1 of [`sample_indices`]; distinct while there are enough,
/// then taken again in turn).
/// Also returns the top of the band, `delta_p - sigma`.
pub fn hard_instances(set: &InstanceSet, sigma: f64) -> (Vec<(usize, f64)>, f64) {
    let count = set.suite.hard;
    if count == 0 {
        return (Vec::new(), 0.0);
    }
    let Some(&(_, delta)) = closest_pairs(set.points, set.labels, set.norm, 1).first() else {
        return (Vec::new(), 0.0);
    };
    let n = set.points.nrows();
    let points = sample_indices(set.suite.seed, 1, n, count.min(n));
    let upper = delta - sigma;
    let hard = hard_radii(set.radius, upper, count)
        .into_iter()
        .enumerate()
        .map(|(k, r)| (points[k % points.len()], r))
        .collect();
    (hard, upper)
}

/// The text of the hard-band property of point `i` at radius `r`: the
/// robust property's box at radius `r` (inscribed box for l1, l2, l(p)),
/// rounded inward; answer unknown.
fn hard_file(
    set: &InstanceSet,
    i: usize,
    r: f64,
    sigma: f64,
    upper: f64,
) -> Result<String, VnnlibError> {
    let d = set.points.ncols();
    let class = set.labels[i] as usize;
    let half = robust_half_width(set.norm, r, d);
    let bounds = inward_box(set, i, half)?;
    let mut s = format!(
        "; robmem {}: network {}, HARD-BAND instance for data point {i}, {}\n\
         ; expected answer: unknown (nobody knows it in advance)\n\
         ; radius r = {r}, between the certified radius {} (robust instances: unsat) and\n\
         ; delta_p - sigma_c = {upper} (sigma_c = {sigma}; at or beyond it a ball reaches the\n\
         ; certified ball of a differently-labelled point: planted instances, sat).\n",
        env!("CARGO_PKG_VERSION"),
        set.name,
        class_text(&set.outputs, class),
        set.radius,
    );
    match set.norm {
        Norm::Linf => {
            s +=
                "; input region: the l_inf ball of radius r around the point (exactly this box),\n\
                  ; with bounds rounded inward to float32 values\n";
        }
        norm => {
            let _ = writeln!(
                s,
                "; input region: the box INSCRIBED in the {norm} ball of radius r (half-width\n\
                 ; r * d^(-1/p) = {half}), bounds rounded inward to float32 values."
            );
        }
    }
    s += &robust_body(set, class, &bounds);
    Ok(s)
}

/// Writes everything into `root` (a fresh folder).
fn fill(
    root: &Path,
    set: &InstanceSet,
    n: usize,
    d: usize,
    certify: impl FnOnce(&Path) -> Result<Option<Backing>, VnnlibError>,
) -> Result<Written, VnnlibError> {
    if !(set.radius.is_finite() && set.radius > 0.0) {
        return Err(VnnlibError::Radius(set.radius));
    }
    let suite = &set.suite;
    if let Some(k) = suite.sample {
        if set.planted + suite.hard > k {
            return Err(VnnlibError::Suite(format!(
                "a sample of {k} instances cannot hold {} planted and {} hard ones",
                set.planted, suite.hard
            )));
        }
    }
    for sub in ["onnx", "vnnlib", "counterexamples"] {
        let p = root.join(sub);
        crate::backend::staging::guarded(|| std::fs::create_dir_all(&p))
            .map_err(|e| io_error(&p, e))?;
    }
    let onnx_rel = format!("onnx/{}.onnx", set.name);
    write_file(&root.join(&onnx_rel), set.onnx)?;
    let backing = certify(root)?.filter(|b| !b.margins.is_empty());
    // The witnesses stay in the radius both the compiler and the certificate
    // vouch for.
    let sigma = backing
        .as_ref()
        .map_or(set.radius, |b| b.radius.min(set.radius));
    let half = robust_half_width(set.norm, set.radius, d);
    let width = n.saturating_sub(1).to_string().len();
    let competitors =
        output_count(&set.outputs) > 1 || matches!(set.outputs, Outputs::Label { .. });
    let planted = planted_instances(set, sigma);
    let (hard, upper) = if competitors {
        hard_instances(set, sigma)
    } else {
        (Vec::new(), 0.0)
    };
    // The robust points: all of them, or a sample that fills K (planted
    // instances that could not be placed are replaced by robust ones).
    let robust_points: Vec<usize> = match (competitors, suite.sample) {
        (false, _) => Vec::new(),
        (true, None) => (0..n).collect(),
        (true, Some(k)) => {
            let want = k - planted.len() - hard.len();
            if want > n {
                return Err(VnnlibError::Suite(format!(
                    "a sample of {k} instances needs {want} robust ones besides {} planted and {} hard, but the data has {n} points: at most {} instances exist",
                    planted.len(),
                    hard.len(),
                    n + planted.len() + hard.len()
                )));
            }
            sample_indices(suite.seed, 0, n, want)
        }
    };
    let count = robust_points.len() + planted.len() + hard.len();
    let timeout = match suite.total_timeout {
        None => set.timeout_seconds,
        Some(total) => timeout_for_budget(total, count).ok_or_else(|| {
            VnnlibError::Suite(format!(
                "a total timeout of {total} s cannot give {count} instances one second each: give at least {count} s, or sample fewer instances"
            ))
        })?,
    };
    let mut instances = String::new();
    let mut expected = String::new();
    for &i in &robust_points {
        let rel = format!("vnnlib/{}_point_{i:0width$}.vnnlib", set.name);
        write_file(&root.join(&rel), robust_file(set, i, half)?)?;
        let _ = writeln!(instances, "{onnx_rel},{rel},{timeout}");
        let _ = writeln!(expected, "{rel},unsat");
    }
    let kwidth = set.planted.saturating_sub(1).to_string().len();
    for (k, p) in planted.iter().enumerate() {
        let stem = format!("{}_unsafe_{k:0kwidth$}", set.name);
        let rel = format!("vnnlib/{stem}.vnnlib");
        write_file(
            &root.join(&rel),
            planted_file(set, p, sigma, backing.as_ref()),
        )?;
        write_file(
            &root.join(format!("counterexamples/{stem}.json")),
            counterexample_json(set, p, sigma, backing.as_ref()),
        )?;
        let _ = writeln!(instances, "{onnx_rel},{rel},{timeout}");
        let _ = writeln!(expected, "{rel},sat");
    }
    let hwidth = hard.len().saturating_sub(1).to_string().len();
    for (k, &(i, r)) in hard.iter().enumerate() {
        let rel = format!("vnnlib/{}_hard_{k:0hwidth$}.vnnlib", set.name);
        write_file(&root.join(&rel), hard_file(set, i, r, sigma, upper)?)?;
        let _ = writeln!(instances, "{onnx_rel},{rel},{timeout}");
        let _ = writeln!(expected, "{rel},unknown");
    }
    write_file(
        &root.join("reference.json"),
        reference_json(set, half, &planted),
    )?;
    write_file(&root.join("instances.csv"), instances)?;
    write_file(&root.join("expected.csv"), expected)?;
    Ok(Written {
        dir: root.to_path_buf(),
        robust: robust_points.len(),
        planted: planted.len(),
        planted_missing: set.planted - planted.len(),
        hard: hard.len(),
        timeout_seconds: timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_have_a_point_and_no_exponent() {
        assert_eq!(decimal(1.0), "1.0");
        assert_eq!(decimal(-2.0), "-2.0");
        assert_eq!(decimal(0.5), "0.5");
        assert!(!decimal(1e-30).contains('e'));
        assert!(!decimal(3e30).contains('e'));
    }

    #[test]
    fn label_tolerance_is_half_the_smallest_gap_at_most_one_half() {
        let labels = [LabelValue::Number(0.0), LabelValue::Number(0.4)];
        let o = Outputs::new(OutputKind::Label, &labels);
        assert_eq!(
            o,
            Outputs::Label {
                values: vec![0.0, 0.4],
                tolerance: 0.2
            }
        );
        let named = [LabelValue::Name("a".into()), LabelValue::Name("b".into())];
        let o = Outputs::new(OutputKind::Label, &named);
        assert_eq!(
            o,
            Outputs::Label {
                values: vec![0.0, 1.0],
                tolerance: 0.5
            }
        );
    }

    #[test]
    fn violations_count_ties() {
        let o = Outputs::Logits { classes: 3 };
        assert!(o.violates(&[1.0, 1.0, 0.0], 0));
        assert!(!o.violates(&[2.0, 1.0, 0.0], 0));
        assert!(o.violates(&[2.0, 1.0, 0.0], 1));
    }

    #[test]
    fn witnesses_are_float32_and_inside_the_ball_in_every_norm() {
        let xi = [1000.0, 0.3, -2.0];
        let xj = [1000.7, 0.1, -2.0];
        for norm in [Norm::Linf, Norm::L1, Norm::L2, Norm::Lp(3.0)] {
            let delta = norm.distance(&xi, &xj);
            let sigma = delta * 0.37;
            let (w, bound) = witness(&xi, &xj, norm, sigma).expect("a witness");
            assert!(w.iter().all(|&v| v as f32 as f64 == v), "{w:?}");
            assert!(bound <= sigma, "{norm}: {bound} > {sigma}");
            assert!(within_ball(&w, &xj, norm, sigma).1);
            // close to the boundary: far from x_j, about delta - sigma from x_i
            assert!(norm.distance(&w, &xj) > sigma * 0.999, "{norm}");
            assert!(norm.distance(&w, &xi) < (delta - sigma) * 1.001, "{norm}");
        }
    }

    #[test]
    fn a_radius_below_the_float32_spacing_has_no_witness() {
        // at 1000.1 the float32 spacing is 6e-5, and x_j itself is no float32
        let xi = [1000.1 + 1e-9];
        let xj = [1000.1];
        assert_eq!(witness(&xi, &xj, Norm::Linf, 1e-10), None);
        // coincident points, infinite or zero radii: none, and no panic
        assert_eq!(witness(&xj, &xj, Norm::L2, 1.0), None);
        assert_eq!(witness(&xi, &xj, Norm::L2, f64::INFINITY), None);
        assert_eq!(witness(&xi, &xj, Norm::L2, 0.0), None);
        assert_eq!(witness(&[f64::MAX], &[-f64::MAX], Norm::L1, 1e300), None);
    }

    #[test]
    fn within_ball_is_exact_at_the_boundary() {
        // |0.1 - 0.3| in f64 is not 0.2 exactly: the outward rounding decides
        let (_, inside) = within_ball(&[0.5], &[0.25], Norm::Linf, 0.25);
        assert!(inside, "exactly on the boundary counts as inside");
        let (_, inside) = within_ball(&[0.5], &[0.25], Norm::Linf, 0.25f64.next_down());
        assert!(!inside);
        let (_, inside) = within_ball(&[3.0, 4.0], &[0.0, 0.0], Norm::L2, 5.0);
        assert!(inside);
        let (_, inside) = within_ball(&[3.0, 4.0], &[0.0, 0.0], Norm::L2, 5.0f64.next_down());
        assert!(!inside);
        let (_, inside) = within_ball(&[1.0, 1.0], &[0.0, 0.0], Norm::L1, 2.0f64.next_down());
        assert!(!inside);
    }

    #[test]
    fn class_margins_measure_the_distance_to_a_violation() {
        let o = Outputs::Logits { classes: 3 };
        assert_eq!(class_margin(&o, &[3.0, 1.0, 2.5], 0), 0.5);
        assert_eq!(class_margin(&o, &[3.0, 1.0, 2.5], 1), -2.0);
        let l = Outputs::Label {
            values: vec![0.0, 1.0],
            tolerance: 0.5,
        };
        assert_eq!(class_margin(&l, &[0.875], 1), 0.375);
        assert!(class_margin(&l, &[0.875], 0) < 0.0);
    }

    #[test]
    fn suites_round_budgets_ratios_and_draws_as_documented() {
        assert_eq!(timeout_for_budget(3600, 100), Some(36));
        assert_eq!(timeout_for_budget(100, 12), Some(8));
        assert_eq!(timeout_for_budget(9, 10), None);
        assert_eq!(timeout_for_budget(10, 10), Some(1));
        assert_eq!(
            [0, 1, 2, 3, 4, 6, 10, 100].map(default_planted),
            [0, 0, 1, 1, 1, 2, 3, 25]
        );
        let a = sample_indices(7, 0, 50, 10);
        assert_eq!(a, sample_indices(7, 0, 50, 10));
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0] < w[1]) && a[9] < 50);
        assert_ne!(a, sample_indices(8, 0, 50, 10));
        assert_ne!(a, sample_indices(7, 1, 50, 10));
        assert_eq!(sample_indices(7, 0, 5, 5), vec![0, 1, 2, 3, 4]);
        let r = hard_radii(1.0, 2.0, 3);
        assert_eq!(r, vec![1.25, 1.5, 1.75]);
    }
}
