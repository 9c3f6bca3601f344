//! VNN-LIB back end: known-answer verification instances (specs/vnnlib.md,
//! construction.md section 7).
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
//!   differently-labelled pairs, whose known answer is `sat`, with the
//!   counterexample in `counterexamples/NAME_unsafe_K.json`;
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
    /// Timeout per instance written to `instances.csv`, in seconds.
    pub timeout_seconds: u32,
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
    /// labelled pairs than asked for).
    pub planted_missing: usize,
}

impl Written {
    /// Total number of instances.
    pub fn instances(&self) -> usize {
        self.robust + self.planted
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
}

/// One planted (not robust) instance: a differently-labelled pair, the side
/// whose property fails at the midpoint, and the network's output there.
#[derive(Clone, Debug, PartialEq)]
pub struct Planted {
    /// The pair (i, j), i < j.
    pub pair: (usize, usize),
    /// ||x_i - x_j||_p.
    pub distance: f64,
    /// The point (i or j) the property is about.
    pub point: usize,
    /// The midpoint (x_i + x_j) / 2, computed in f64.
    pub midpoint: Vec<f64>,
    /// The network's output at the midpoint (f64 arithmetic on the weights
    /// as stored in the ONNX file).
    pub output: Vec<f64>,
    /// True when the properties of both points fail at the midpoint (for
    /// example an exact tie of logits): `point` is then i.
    pub both_fail: bool,
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

/// The planted instances of `set`: its `planted` closest pairs, each with the
/// side whose property fails at the midpoint.
pub fn planted_instances(set: &InstanceSet) -> Vec<Planted> {
    let stored = as_stored(set.network, set.precision);
    closest_pairs(set.points, set.labels, set.norm, set.planted)
        .into_iter()
        .map(|((i, j), distance)| {
            let midpoint: Vec<f64> = set
                .points
                .row(i)
                .iter()
                .zip(set.points.row(j).iter())
                .map(|(a, b)| a / 2.0 + b / 2.0)
                .collect();
            let output = evaluate_point(&stored, &midpoint);
            let fails_i = set.outputs.violates(&output, set.labels[i] as usize);
            let fails_j = set.outputs.violates(&output, set.labels[j] as usize);
            Planted {
                pair: (i, j),
                distance,
                point: if fails_i { i } else { j },
                midpoint,
                output,
                both_fail: fails_i && fails_j,
            }
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

/// The text of the robust property of point `i`.
fn robust_file(set: &InstanceSet, i: usize, half: f64) -> Result<String, VnnlibError> {
    let d = set.points.ncols();
    let class = set.labels[i] as usize;
    let bounds: Vec<(f32, f32)> = set
        .points
        .row(i)
        .iter()
        .map(|&x| round_inward(x, half).ok_or(VnnlibError::Radius(half)))
        .collect::<Result<_, _>>()?;
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
    s += "; the assertion on Y is the negation of \"the label's output wins\"\n\n";
    s += &declarations(d, output_count(&set.outputs));
    s += &input_bounds(&bounds);
    s += &negated_output(&set.outputs, class, true);
    Ok(s)
}

/// The text of a planted property and its bounds.
fn planted_file(set: &InstanceSet, p: &Planted) -> String {
    let d = set.points.ncols();
    let class = set.labels[p.point] as usize;
    let half = p.distance / 2.0;
    let bounds: Vec<(f32, f32)> = set
        .points
        .row(p.point)
        .iter()
        .zip(&p.midpoint)
        .map(|(&x, &m)| round_outward(x, half, m))
        .collect();
    let (i, j) = p.pair;
    let mut s = format!(
        "; robmem {}: network {}, PLANTED not-robust instance for data point {}, {}\n\
         ; expected answer: sat\n\
         ; points {i} and {j} have different labels and are {} apart in {}; their midpoint\n\
         ; lies in this box, and the network's output there violates the property\n\
         ; (counterexample in counterexamples/). The box has half-width {half} (half the\n\
         ; pair's distance), rounded outward to float32 values; it contains the {} ball\n\
         ; of that radius and is not the ball.\n",
        env!("CARGO_PKG_VERSION"),
        set.name,
        p.point,
        class_text(&set.outputs, class),
        p.distance,
        set.norm,
        set.norm,
    );
    if p.both_fail {
        s += "; at the midpoint the properties of both points fail (a tie): either side is sat\n";
    }
    s += "; the assertion on Y is the negation of \"the label's output wins\"\n\n";
    s += &declarations(d, output_count(&set.outputs));
    s += &input_bounds(&bounds);
    s += &negated_output(&set.outputs, class, false);
    s
}

/// The counterexample file of a planted instance (JSON).
fn counterexample_json(set: &InstanceSet, p: &Planted) -> String {
    let value = serde_json::json!({
        "network": set.name,
        "pair": [p.pair.0, p.pair.1],
        "distance": p.distance,
        "point": p.point,
        "label": set.labels[p.point],
        "both_fail": p.both_fail,
        "input": p.midpoint,
        "output": p.output,
    });
    serde_json::to_string_pretty(&value).expect("JSON serialises") + "\n"
}

/// Inputs at which `reference.json` records the network's outputs: every
/// data point, then one probe per point (the corner `x + h s` of its robust
/// box with signs `s_c = (-1)^(i + c)`), then the planted midpoints.
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
    inputs.extend(planted.iter().map(|p| p.midpoint.clone()));
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
        "midpoints": planted.len(),
        "inputs": inputs,
        "outputs_f64": rows(&f64_out),
        "outputs_model_precision": f32_out,
    });
    serde_json::to_string(&value).expect("JSON serialises") + "\n"
}

/// Writes a file, naming it in the error.
fn write_file(path: &Path, text: impl AsRef<[u8]>) -> Result<(), VnnlibError> {
    std::fs::write(path, text).map_err(|source| io_error(path, source))
}

fn io_error(path: &Path, source: io::Error) -> VnnlibError {
    VnnlibError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes the instance folder for `set` into `root`, an existing empty
/// folder (layout in the module doc and specs/vnnlib.md). Callers build it
/// under a temporary name and rename it into place when it is complete
/// (`backend::staging`), so no half-written folder is ever visible.
pub fn write_instances(root: &Path, set: &InstanceSet) -> Result<Written, VnnlibError> {
    fill(root, set, set.points.nrows(), set.points.ncols())
}

/// Writes everything into `root` (a fresh folder).
fn fill(root: &Path, set: &InstanceSet, n: usize, d: usize) -> Result<Written, VnnlibError> {
    if !(set.radius.is_finite() && set.radius > 0.0) {
        return Err(VnnlibError::Radius(set.radius));
    }
    for sub in ["onnx", "vnnlib", "counterexamples"] {
        let p = root.join(sub);
        std::fs::create_dir_all(&p).map_err(|e| io_error(&p, e))?;
    }
    let onnx_rel = format!("onnx/{}.onnx", set.name);
    write_file(&root.join(&onnx_rel), set.onnx)?;
    let mut instances = String::new();
    let mut expected = String::new();
    let half = robust_half_width(set.norm, set.radius, d);
    let width = n.saturating_sub(1).to_string().len();
    let mut robust = 0;
    let competitors =
        output_count(&set.outputs) > 1 || matches!(set.outputs, Outputs::Label { .. });
    if competitors {
        for i in 0..n {
            let rel = format!("vnnlib/{}_point_{i:0width$}.vnnlib", set.name);
            write_file(&root.join(&rel), robust_file(set, i, half)?)?;
            let _ = writeln!(instances, "{onnx_rel},{rel},{}", set.timeout_seconds);
            let _ = writeln!(expected, "{rel},unsat");
            robust += 1;
        }
    }
    let planted = planted_instances(set);
    let kwidth = set.planted.saturating_sub(1).to_string().len();
    for (k, p) in planted.iter().enumerate() {
        let stem = format!("{}_unsafe_{k:0kwidth$}", set.name);
        let rel = format!("vnnlib/{stem}.vnnlib");
        write_file(&root.join(&rel), planted_file(set, p))?;
        write_file(
            &root.join(format!("counterexamples/{stem}.json")),
            counterexample_json(set, p),
        )?;
        let _ = writeln!(instances, "{onnx_rel},{rel},{}", set.timeout_seconds);
        let _ = writeln!(expected, "{rel},sat");
    }
    write_file(
        &root.join("reference.json"),
        reference_json(set, half, &planted),
    )?;
    write_file(&root.join("instances.csv"), instances)?;
    write_file(&root.join("expected.csv"), expected)?;
    Ok(Written {
        dir: root.to_path_buf(),
        robust,
        planted: planted.len(),
        planted_missing: set.planted - planted.len(),
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
}
