//! Distance networks (specs/certificate.md section 10, specs/construction.md
//! section 8): recognition of the template and per-point margins with
//! rounding accounted for. Shares no code with the construction.
//!
//! The argument, for a point x_i of class y and any input x with
//! `||x - x_i||_p <= sigma`:
//! 1. the first layer `u = relu(V x + b)` is exact: every pre-activation
//!    is at least 0 on the ball (`ubar_ik - sigma ||V_k||_{p*} >= 0`, with
//!    `ubar_i = V x_i + b` enclosed rigorously); so `u` lies in the l_q ball
//!    of radius `r = sigma ||V||_{p->q}` around `ubar_i`; computed in
//!    floating point it moves by at most `||E1_i||_q` more (`r' = r +
//!    ||E1_i||_q`), and everything after the first layer is analysed at the
//!    *computed* first-layer output;
//! 2. the template ([`template`]) makes every later neuron an exact gadget:
//!    the halves `relu(u_k - c_jk)`, `relu(c_jk - u_k)` sum to `|u_k - c_jk|`;
//!    l1: `D_j` is their sum; l_inf: a complete max tree `a + relu(b - a)`
//!    over them (`a >= 0` because every neuron is a ReLU); the running
//!    minimum `R <- relu(R) - relu(R - D_j)` is `min(R, D_j)` for `R >= 0`;
//!    a min tree merges a class's slots the same way; output
//!    `c = beta_c - alpha min_{j of c} D_j`;
//! 3. by the triangle inequality `D_j(u)` lies within `r'` of
//!    `||ubar_i - c_j||_q`, so `out_y - out_c >= beta_y - beta_c + alpha
//!    (min_{j of c} ||ubar_i - c_j||_q - min_{j of y} ||ubar_i - c_j||_q -
//!    2 r')` before rounding;
//! 4. the rounding after the first layer ([`bounds`]) is bounded per point
//!    and first order in the magnitudes (no product of two coordinates):
//!    a lower bound on every other class's running minimum and an upper
//!    bound on the own class's, then each output's own rounding.
//!
//! A claim holds when the first layer is exact and every margin is > 0.
//!
//! A label network (`output = label`) ends with the gadget of section 9 on
//! the class minima instead of outputs: the best minimum `B` is one more
//! running minimum over the classes' values in closing order, each step
//! pair `relu(kappa (B - R_c) + bias)` is decided on the ball from the
//! bounds of step 4 (the own class's step fires, later ones stay 0), and
//! the register rows are evaluated in interval arithmetic; the margin is
//! then `tolerance - |out - v_y|`.

mod bounds;
pub mod claims;
pub mod roles;
pub mod template;
#[cfg(test)]
mod tests;

use super::analyse::{label_tolerance, PNorm};
use super::certificate::Semantics;
use super::interval::{add_up, gamma, mul_up, sub_down, Interval};
use super::model::Model;
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
pub use roles::{parse_distance_roles, DistanceRole};
pub use template::{recognise, Template};

/// The norm q in which a distance network measures distances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DistanceNorm {
    /// l1: `D_j` is the sum of the halves.
    L1,
    /// l_inf: `D_j` is the root of a max tree over the halves.
    Linf,
}

impl DistanceNorm {
    /// Parses `l1` or `linf` (the certificate's `distance_norm`).
    pub fn parse(text: &str) -> Option<DistanceNorm> {
        match text {
            "l1" => Some(DistanceNorm::L1),
            "linf" => Some(DistanceNorm::Linf),
            _ => None,
        }
    }

    /// The name used in certificates.
    pub fn name(self) -> &'static str {
        match self {
            DistanceNorm::L1 => "l1",
            DistanceNorm::Linf => "linf",
        }
    }
}

/// A neuron (or the network) that is not the template of section 10.1.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TemplateError {
    /// One neuron's row or bias.
    #[error("layer {layer}, neuron {neuron} (role `{role}`): {message}")]
    Neuron {
        /// 0-based layer.
        layer: usize,
        /// 0-based neuron in the layer.
        neuron: usize,
        /// The role the certificate gives it.
        role: String,
        /// What was expected.
        message: String,
    },
    /// The network as a whole.
    #[error("{0}")]
    Network(String),
}

/// Why a distance analysis could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DistanceError {
    /// The weights are not the template.
    #[error("template: {0}")]
    Template(#[from] TemplateError),
    /// Inputs that do not fit together.
    #[error("{0}")]
    Mismatch(String),
}

/// Binary64 unit roundoff.
const DOUBLE: f64 = f64::EPSILON / 2.0;

/// Radius-independent analysis of a distance network against data.
#[derive(Debug)]
pub struct DistanceAnalysis {
    /// The recognised network.
    pub template: Template,
    /// The input norm p.
    pub norm: PNorm,
    /// An upper bound on `||V||_{p->q}`.
    pub norm_bound: f64,
    /// A lower bound on the smallest l_q distance between centres of
    /// different classes (informative: the margins do not use it).
    pub delta_prime: f64,
    /// Class (output index) of each point.
    pub labels: Vec<usize>,
    /// Label networks: each label index's value and the tolerance t.
    pub label_values: Option<(Vec<f64>, f64)>,
    /// The arithmetics examined: real, then the model's floating-point ones.
    pub semantics: Vec<Semantics>,
    /// Per map row: an upper bound on `||V_k||_{p*}`.
    row_dual: Vec<f64>,
    /// Per map row: non-zero weights.
    row_nnz: Vec<usize>,
    /// N x K enclosures of `ubar_i = V x_i + b`.
    ubar_lo: Array2<f64>,
    ubar_hi: Array2<f64>,
    /// N x K upper bounds on `sum_l |V_kl| |x_il|`.
    abs_products: Array2<f64>,
    /// Centres, row-major (one row of K per centre).
    centre_coords: Vec<f64>,
    /// Class of each centre.
    centre_class: Vec<usize>,
}

/// Everything claimed at one radius.
#[derive(Clone, Debug)]
pub struct DistanceClaims {
    /// sigma.
    pub radius: f64,
    /// r >= sigma ||V||_{p->q}.
    pub projected_radius: f64,
    /// `delta' - 2 r` (rounded down; informative).
    pub gamma: f64,
    /// Why the first layer may not be exact on some ball, if so.
    pub first_layer_exact: Option<String>,
    /// Per arithmetic: margins and rounding bounds.
    pub semantics: Vec<DistanceSemantics>,
}

/// What holds in one arithmetic.
#[derive(Clone, Debug)]
pub struct DistanceSemantics {
    /// The arithmetic.
    pub semantics: Semantics,
    /// Per point, a lower bound on `out[y_i] - max_{c != y_i} out[c]` over the ball.
    pub margins: Vec<f64>,
    /// Largest `||E1_i||_q` (the first layer's rounding in the distance norm).
    pub first_layer_error: f64,
    /// Largest rounding bound of an output row.
    pub output_error: f64,
    /// Label networks: per point, an upper bound on `|out - v_i|` over the
    /// ball (the margins are then `tolerance - distance`); empty for logits.
    pub distances: Vec<f64>,
    /// Label networks: why some distance is infinite.
    pub unbounded: Option<String>,
    /// The first point whose margin is not > 0, with its margin.
    pub failure: Option<String>,
}

impl DistanceSemantics {
    /// Whether every margin is > 0.
    pub fn holds(&self) -> bool {
        self.failure.is_none()
    }
}

impl DistanceClaims {
    /// Whether the first layer is exact and every semantics in `wanted` holds.
    pub fn holds(&self, wanted: &[Semantics]) -> bool {
        self.first_layer_exact.is_none()
            && self
                .semantics
                .iter()
                .filter(|s| wanted.contains(&s.semantics))
                .all(DistanceSemantics::holds)
    }
}

/// An upper bound on `sum of |x|` over `values`, computed naively.
fn abs_sum_up(values: impl Iterator<Item = f64>) -> f64 {
    let mut n = 0usize;
    let mut s = 0.0;
    for v in values {
        s += v.abs();
        n += 1;
    }
    mul_up(s, 1.0 + gamma(n + 2, DOUBLE))
}

impl DistanceAnalysis {
    /// Recognises the template in `model` with the certificate's `layers`
    /// and prepares the per-point bounds. `labels` are output (label)
    /// indices; `float_semantics` the floating-point arithmetics to
    /// examine; `label_values` each label's value for a label network
    /// (`None` for logits).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: &Model,
        layers: &[String],
        points: ArrayView2<'_, f64>,
        labels: &[usize],
        norm: PNorm,
        distance: DistanceNorm,
        float_semantics: &[Semantics],
        label_values: Option<&[f64]>,
    ) -> Result<DistanceAnalysis, DistanceError> {
        let (n, d) = points.dim();
        if model.input_dim != d {
            return Err(DistanceError::Mismatch(format!(
                "the model takes {} inputs, the data has dimension {d}",
                model.input_dim
            )));
        }
        if labels.len() != n {
            return Err(DistanceError::Mismatch(format!(
                "{} labels for {n} points",
                labels.len()
            )));
        }
        let roles = parse_distance_roles(layers)?;
        let template = recognise(model, &roles, distance)?;
        let classes = template.classes;
        if classes < 2 {
            return Err(DistanceError::Mismatch(
                "a certificate needs at least two outputs (labels)".into(),
            ));
        }
        let label_values = match (&template.chain, label_values) {
            (None, None) => None,
            (Some(_), Some(values)) if values.len() == classes => {
                Some((values.to_vec(), label_tolerance(values)))
            }
            (Some(_), Some(values)) => {
                return Err(DistanceError::Mismatch(format!(
                    "the label gadget closes {classes} classes, the certificate names {} labels",
                    values.len()
                )))
            }
            (Some(_), None) => {
                return Err(DistanceError::Mismatch(
                    "the network has the label gadget (b), the certificate's output is logits"
                        .into(),
                ))
            }
            (None, Some(_)) => {
                return Err(DistanceError::Mismatch(
                    "the certificate's output is a label, the network has no label gadget (b)"
                        .into(),
                ))
            }
        };
        if let Some(i) = labels.iter().position(|&y| y >= classes) {
            return Err(DistanceError::Mismatch(format!(
                "point {i} has label index {}, the network has {classes} outputs",
                labels[i]
            )));
        }
        let k = template.k;
        let rows: Vec<Vec<f64>> = template
            .map
            .rows()
            .into_iter()
            .map(|r| r.to_vec())
            .collect();
        let row_dual: Vec<f64> = rows.iter().map(|r| norm.dual_up(r)).collect();
        let row_nnz: Vec<usize> = rows
            .iter()
            .map(|r| r.iter().filter(|&&x| x != 0.0).count())
            .collect();
        let norm_bound = match distance {
            DistanceNorm::Linf => row_dual.iter().cloned().fold(0.0, f64::max),
            DistanceNorm::L1 if norm.p == 1.0 => (0..d)
                .map(|l| abs_sum_up(template.map.column(l).iter().cloned()))
                .fold(0.0, f64::max),
            DistanceNorm::L1 => row_dual.iter().fold(0.0, |a, &x| add_up(a, x)),
        };
        let mut ubar_lo = Array2::zeros((n, k));
        let mut ubar_hi = Array2::zeros((n, k));
        let mut abs_products = Array2::zeros((n, k));
        let xs_all: Vec<Vec<Interval>> = points
            .rows()
            .into_iter()
            .map(|x| x.iter().map(|&v| Interval::point(v)).collect())
            .collect();
        for (i, xs) in xs_all.iter().enumerate() {
            for c in 0..k {
                let u = super::interval::dot(&rows[c], xs, template.offset[c]);
                ubar_lo[[i, c]] = u.lo;
                ubar_hi[[i, c]] = u.hi;
                abs_products[[i, c]] = abs_sum_up(rows[c].iter().zip(xs).map(|(w, x)| w * x.lo));
            }
        }
        let centre_coords: Vec<f64> = template
            .centres
            .iter()
            .flat_map(|c| c.coords.iter().cloned())
            .collect();
        let centre_class: Vec<usize> = template.centres.iter().map(|c| c.class).collect();
        let delta_prime = separation(&centre_coords, &centre_class, k, distance);
        let mut semantics = vec![Semantics::Real];
        semantics.extend_from_slice(float_semantics);
        Ok(DistanceAnalysis {
            template,
            norm,
            norm_bound,
            delta_prime,
            labels: labels.to_vec(),
            label_values,
            semantics,
            row_dual,
            row_nnz,
            ubar_lo,
            ubar_hi,
            abs_products,
            centre_coords,
            centre_class,
        })
    }

    /// r: an upper bound on `sigma ||V||_{p->q}`.
    pub fn projected_radius(&self, sigma: f64) -> f64 {
        mul_up(sigma, self.norm_bound)
    }

    /// The first ball on which a first-layer pre-activation may be negative.
    fn first_layer_exact(&self, sigma: f64) -> Option<String> {
        let (n, k) = self.ubar_lo.dim();
        (0..n)
            .flat_map(|i| (0..k).map(move |c| (i, c)))
            .find(|&(i, c)| {
                let low = sub_down(self.ubar_lo[[i, c]], mul_up(sigma, self.row_dual[c]));
                low < 0.0 || low.is_nan()
            })
            .map(|(i, c)| {
                format!("first-layer neuron u{c} may be negative on the ball of point {i}")
            })
    }

    /// Every claim at radius `sigma`.
    pub fn at_radius(&self, sigma: f64) -> DistanceClaims {
        let r = self.projected_radius(sigma);
        let n = self.labels.len();
        let per_point: Vec<Vec<bounds::PointBound>> = (0..n)
            .into_par_iter()
            .map_init(
                || bounds::Scratch::new(self),
                |scratch, i| bounds::point(self, scratch, i, sigma, r, &self.semantics),
            )
            .collect();
        let semantics = self
            .semantics
            .iter()
            .enumerate()
            .map(|(s, &sem)| {
                let margins: Vec<f64> = per_point.iter().map(|p| p[s].margin).collect();
                let label = self.label_values.is_some();
                let distances: Vec<f64> = if label {
                    per_point.iter().map(|p| p[s].distance).collect()
                } else {
                    Vec::new()
                };
                let unbounded = per_point.iter().find_map(|p| p[s].unbounded.clone());
                let failure = margins
                    .iter()
                    .position(|m| *m <= 0.0 || m.is_nan())
                    .map(|i| match (&per_point[i][s].unbounded, label) {
                        (Some(why), _) => why.clone(),
                        (None, true) => format!(
                            "point {i}: its output may be {} from its label, not below the tolerance",
                            distances[i]
                        ),
                        (None, false) => format!(
                            "point {i} (output {}): margin {} after rounding",
                            self.labels[i], margins[i]
                        ),
                    });
                DistanceSemantics {
                    semantics: sem,
                    first_layer_error: per_point
                        .iter()
                        .map(|p| p[s].first_layer)
                        .fold(0.0, f64::max),
                    output_error: per_point.iter().map(|p| p[s].output).fold(0.0, f64::max),
                    margins,
                    distances,
                    unbounded,
                    failure,
                }
            })
            .collect();
        DistanceClaims {
            radius: sigma,
            projected_radius: r,
            gamma: sub_down(self.delta_prime, mul_up(2.0, r)),
            first_layer_exact: self.first_layer_exact(sigma),
            semantics,
        }
    }

    /// Whether the first layer is exact and every margin of `wanted` is > 0
    /// at `sigma` (stops at the first failing point).
    pub fn holds_at(&self, sigma: f64, wanted: &[Semantics]) -> bool {
        if self.first_layer_exact(sigma).is_some() {
            return false;
        }
        let r = self.projected_radius(sigma);
        (0..self.labels.len())
            .into_par_iter()
            .map_init(
                || bounds::Scratch::new(self),
                |scratch, i| {
                    bounds::point(self, scratch, i, sigma, r, wanted)
                        .iter()
                        .all(|p| p.margin > 0.0)
                },
            )
            .all(|held| held)
    }

    /// The largest radius in `[low, high]` at which every semantics of
    /// `wanted` holds (bisection, at most 40 steps), or `None` if none does
    /// at `low`.
    pub fn largest_radius(&self, low: f64, high: f64, wanted: &[Semantics]) -> Option<f64> {
        if !self.holds_at(low, wanted) {
            return None;
        }
        if high <= low || self.holds_at(high, wanted) {
            return Some(high.max(low));
        }
        let (mut good, mut bad) = (low, high);
        // Relative precision 1e-9 is enough: a search's result is lowered
        // by 1e-6 before it is claimed.
        for _ in 0..40 {
            let mid = good + (bad - good) / 2.0;
            if mid <= good || mid >= bad || bad - good <= 1e-9 * bad {
                break;
            }
            if self.holds_at(mid, wanted) {
                good = mid;
            } else {
                bad = mid;
            }
        }
        Some(good)
    }
}

/// A lower bound on the smallest l_q distance between centres of different
/// classes (`+inf` when all centres share a class).
fn separation(coords: &[f64], class: &[usize], k: usize, distance: DistanceNorm) -> f64 {
    let count = class.len();
    let shrink = 1.0 - gamma(k + 3, DOUBLE);
    (0..count)
        .into_par_iter()
        .map(|a| {
            let ca = &coords[a * k..(a + 1) * k];
            let mut best = f64::INFINITY;
            for b in a + 1..count {
                if class[a] == class[b] {
                    continue;
                }
                let cb = &coords[b * k..(b + 1) * k];
                let mut d = 0.0f64;
                for (x, y) in ca.iter().zip(cb) {
                    let gap = (x - y).abs();
                    d = match distance {
                        DistanceNorm::L1 => d + gap,
                        DistanceNorm::Linf => d.max(gap),
                    };
                }
                best = best.min(d);
            }
            best
        })
        .reduce(|| f64::INFINITY, f64::min)
        * shrink
}
