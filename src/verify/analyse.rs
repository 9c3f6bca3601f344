//! Everything a certificate claims, recomputed from the model's weights and
//! the data (specs/construction.md section 6). [`Analysis::new`] does the work
//! that does not depend on the radius (gadget recognition, separation of
//! the scores); [`Analysis::at_radius`] evaluates every claim at one radius.
//!
//! The argument, for a point x_i of label y and any input x in its ball:
//! 1. the first layer `u = relu(W x + beta)` is exact: every pre-activation
//!    is >= 0 on the ball (per coordinate, `c_ik - sigma ||W_k||_q >= 0`);
//!    so `u` lies in the l2 ball of radius `r = sigma P` around the centre
//!    `c_i = W x_i + beta`, P an upper bound on `||W||_{p->2}`;
//!    computed in floating point, `u` moves by at most `E_i` more;
//! 2. the gadgets (module [`super::gadgets`]) make output c equal to
//!    `alpha max_{j in S_c} s_j(u) + beta_c`, up to a rounding error;
//! 3. every score is `s_j(u) = <w_j, u - t> - |w_j|^2/2 + S + eps_j` for the
//!    certificate's t and S, with eps_j computed here; hence for the point's
//!    own score o (of label y) and any score j of another label,
//!    `s_o - s_j >= D (D/2 - rho) - (eps_max - eps_o)` where D is a lower
//!    bound on `|w_o - w_j|` and `rho = |c_i - t - w_o| + r + E_i + (error
//!    of c_i)` bounds `|u - t - w_o|`;
//! 4. so `out_y - out_c >= alpha (D (D/2 - rho) - deps) + beta_y - beta_c - err_y - err_c`,
//!    the point's margin. For a point whose own score lies away from its
//!    centre (a condensed network's covered points), `s_o - s_j` is bounded
//!    exactly instead, as an affine function over the ball
//!    ([`super::cover`]); the larger of the two bounds is used. A claim holds when every margin
//!    is > 0 and every ReLU the gadgets rely on is exact.

use super::certificate::Semantics;
use super::cover;
use super::gadgets::{recognise, Frame, GadgetError, Leaf, Role, Structure};
use super::interval::{gamma, sqrt_up, Interval};
use super::label::{distance, output_range, Arithmetic, Ball};
use super::model::Model;
use super::scores::nearest_other_label;
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// An l_p norm, p in [1, inf].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PNorm {
    /// The exponent; `f64::INFINITY` for l_inf.
    pub p: f64,
}

impl PNorm {
    /// Parses `l1`, `l2`, `linf`, `l(3)` or `l(2.5)`.
    pub fn parse(text: &str) -> Option<PNorm> {
        let p = match text {
            "l1" => 1.0,
            "l2" => 2.0,
            "linf" => f64::INFINITY,
            _ => text
                .strip_prefix("l(")?
                .strip_suffix(')')?
                .trim()
                .parse()
                .ok()?,
        };
        (p >= 1.0).then_some(PNorm { p })
    }

    /// An upper bound on the dual norm `||row||_q`, 1/p + 1/q = 1.
    pub fn dual_up(self, row: &[f64]) -> f64 {
        let n = row.len() + 2;
        let up = 1.0 + gamma(n + 4, f64::EPSILON);
        if self.p == 1.0 {
            row.iter().fold(0.0, |a: f64, &x| a.max(x.abs()))
        } else if self.p.is_infinite() {
            row.iter().map(|x| x.abs()).sum::<f64>() * up
        } else if self.p == 2.0 {
            sqrt_up(row.iter().map(|x| x * x).sum::<f64>() * up)
        } else {
            // Dual exponent q = p / (p - 1); powf is not correctly rounded:
            // widen by a generous relative margin.
            let q = self.p / (self.p - 1.0);
            let largest = row.iter().fold(0.0, |a: f64, &x| a.max(x.abs()));
            if largest == 0.0 {
                return 0.0;
            }
            let sum: f64 = row.iter().map(|x| (x.abs() / largest).powf(q)).sum();
            largest * sum.powf(1.0 / q) * (1.0 + 1e-12 + up - 1.0)
        }
    }
}

/// The per-point and global quantities at one radius.
#[derive(Clone, Debug)]
pub struct AtRadius {
    /// The radius sigma.
    pub radius: f64,
    /// r = sigma P.
    pub projected_radius: f64,
    /// delta' (delta'/2 - r).
    pub gamma: f64,
    /// Whether every first-layer ReLU is exact on every ball.
    pub first_layer_exact: Option<String>,
    /// Per semantics: the margins, the largest first-layer error, the largest
    /// output error, and the first failed ReLU obligation (if any).
    pub semantics: Vec<SemanticsResult>,
}

/// What holds in one arithmetic.
#[derive(Clone, Debug)]
pub struct SemanticsResult {
    /// Which arithmetic.
    pub semantics: Semantics,
    /// Per point, a lower bound on `out[label] - max other out`.
    pub margins: Vec<f64>,
    /// Largest l2 error of the first layer over all balls.
    pub first_layer_error: f64,
    /// Largest output error.
    pub output_error: f64,
    /// A score the gadgets need non-negative that may be negative somewhere.
    pub negative_accumulator: Option<String>,
    /// Label networks: per point, an upper bound on `|output - label value|`
    /// over the ball (infinite where a step cannot be bounded); the margins
    /// are then `tolerance - distance`. Empty for logits networks.
    pub distances: Vec<f64>,
    /// Label networks: why the first point that could not be bounded was not.
    pub unbounded: Option<String>,
}

impl SemanticsResult {
    /// Whether every margin is positive and every ReLU obligation holds.
    pub fn holds(&self) -> bool {
        self.negative_accumulator.is_none() && self.margins.iter().all(|&m| m > 0.0)
    }
}

/// Radius-independent analysis of a model against data.
#[derive(Debug)]
pub struct Analysis {
    /// Recognised gadgets.
    pub structure: Structure,
    /// The certified arithmetics examined: real, and the floating-point ones.
    pub semantics: Vec<Semantics>,
    /// Projection bound P >= ||W||_{p->2}, recomputed.
    pub norm_bound: f64,
    /// Per score, lower bound on the distance to the nearest other-label score.
    pub nearest: Vec<f64>,
    /// min of `nearest`.
    pub delta_prime: f64,
    /// Per point: its own score.
    pub own: Vec<usize>,
    /// Per point: its label index.
    pub labels: Vec<usize>,
    /// Per point (rows, N x m): the computed first-layer pre-activation
    /// at its data point, `W x_i + beta`.
    centres: Array2<f64>,
    /// Per point (N x m): a bound on the error of `centres`.
    centre_error: Array2<f64>,
    /// Per point (N x m): the computed `|W| |x_i|`.
    abs_products: Array2<f64>,
    /// Per first-layer neuron k: the least `centres - centre_error` over
    /// the points, so that `at_radius` tests a neuron in O(1) and walks
    /// its points only to name one that fails.
    lowest_centre: Vec<f64>,
    /// Per accumulator score (`structure.nonneg_leaves`, rows) and point
    /// (columns): a lower bound on the score at the point's centre, and the
    /// score's l2 norm (the slope over a ball).
    accumulator_floors: (Array2<f64>, Vec<f64>),
    row_l1: Vec<f64>,
    row_dual: Vec<f64>,
    row_nnz: Vec<usize>,
    bias: Vec<f64>,
    eps_lo: Vec<f64>,
    eps_hi_max: f64,
    /// Per point: an upper bound on `|c_i - t - w_o|` (its distance to its
    /// own score's centre), and the l2 norm of its centre's error.
    per_point: Vec<(f64, f64)>,
    /// Per point whose own score lies away from its centre (section 5C):
    /// the exact lines of [`cover::lines`]; `None` for the others.
    lines: Vec<Option<Vec<(f64, f64)>>>,
    norm: PNorm,
    max_radius: f64,
    /// Label networks: each label index's value, and the tolerance t.
    label_values: Option<(Vec<f64>, f64)>,
}

/// Why the analysis could not even be set up.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// A neuron is not the gadget its role names.
    #[error("gadgets: {0}")]
    Gadget(#[from] GadgetError),
    /// Inputs that do not fit together.
    #[error("{0}")]
    Mismatch(String),
}

/// Inputs of [`Analysis::new`].
pub struct Inputs<'a> {
    /// The model.
    pub model: &'a Model,
    /// Roles per layer.
    pub roles: &'a [Vec<Role>],
    /// Data points, N x d.
    pub points: ArrayView2<'a, f64>,
    /// Label index per point.
    pub labels: &'a [usize],
    /// `[layer, neuron]` of each point's own score.
    pub own_scores: &'a [[usize; 2]],
    /// The norm.
    pub norm: PNorm,
    /// The largest radius that will be asked of [`Analysis::at_radius`]
    /// (magnitude bounds are computed for it).
    pub max_radius: f64,
    /// The certificate's t.
    pub shift: &'a [f64],
    /// The certificate's S.
    pub score_offset: f64,
    /// Floating-point semantics to examine besides real arithmetic.
    pub float_semantics: &'a [Semantics],
    /// For a label network: the numeric value of each label index (the
    /// output each class must produce). `None` for a logits network.
    pub label_values: Option<&'a [f64]>,
}

const DOUBLE: f64 = f64::EPSILON / 2.0;

/// A point whose own score's centre lies farther than this fraction of
/// that score's separation from the point's own centre is *covered*: its
/// margin is also bounded exactly ([`cover`]).
const COVERED: f64 = 1e-4;

/// `own` of a label network's point whose group's only score is computed
/// inside its step (no neuron introduces it).
const NO_SCORE: usize = usize::MAX;

impl Analysis {
    /// Recognises the gadgets and separates the scores.
    pub fn new(inputs: &Inputs<'_>) -> Result<Analysis, AnalysisError> {
        let model = inputs.model;
        let (n, d) = inputs.points.dim();
        if model.input_dim != d {
            return Err(AnalysisError::Mismatch(format!(
                "the model takes {} inputs, the data has dimension {d}",
                model.input_dim
            )));
        }
        if inputs.labels.len() != n || inputs.own_scores.len() != n {
            return Err(AnalysisError::Mismatch(format!(
                "the certificate has claims for {} points, the data has {n}",
                inputs.own_scores.len()
            )));
        }
        let first = &model.layers[0];
        let m = first.weight.nrows();
        if inputs.shift.len() != m {
            return Err(AnalysisError::Mismatch(format!(
                "the shift t has {} entries, the first layer has {m} neurons",
                inputs.shift.len()
            )));
        }
        let w = &first.weight;
        let bias: Vec<f64> = first.bias.to_vec();
        // Centres c_i = W x_i + beta (one row per point, N x m), with
        // |error| <= gamma (|W||x| + |beta|).
        let mut centres = inputs.points.dot(&w.t());
        let abs_w = w.mapv(f64::abs);
        let abs_products = inputs.points.mapv(f64::abs).dot(&abs_w.t());
        let g = gamma(d + 2, DOUBLE);
        let mut centre_error = Array2::<f64>::zeros((n, m));
        for i in 0..n {
            for k in 0..m {
                centres[[i, k]] += bias[k];
                centre_error[[i, k]] =
                    // The computed sum of |W||x| is itself within gamma of the true one.
                    g * (abs_products[[i, k]] * (1.0 + g) + bias[k].abs()) * (1.0 + 4.0 * DOUBLE)
                        + f64::MIN_POSITIVE;
            }
        }
        let mut lowest_centre = vec![f64::INFINITY; m];
        for (centre, error) in centres.rows().into_iter().zip(centre_error.rows()) {
            for ((lowest, &c), &e) in lowest_centre.iter_mut().zip(&centre).zip(&error) {
                *lowest = lowest.min(c - e);
            }
        }
        let rows: Vec<Vec<f64>> = w.rows().into_iter().map(|r| r.to_vec()).collect();
        let row_l1: Vec<f64> = rows
            .iter()
            .map(|r| r.iter().map(|x| x.abs()).sum::<f64>() * (1.0 + gamma(d + 1, DOUBLE)))
            .collect();
        let row_dual: Vec<f64> = rows.iter().map(|r| inputs.norm.dual_up(r)).collect();
        let row_nnz: Vec<usize> = rows
            .iter()
            .map(|r| r.iter().filter(|&&x| x != 0.0).count())
            .collect();
        let point_inf: Vec<f64> = inputs
            .points
            .rows()
            .into_iter()
            .map(|r| r.iter().fold(0.0, |a: f64, &x| a.max(x.abs())))
            .collect();
        let norm_bound = projection_bound(w.view(), inputs.norm);

        // Magnitudes of the computed first-layer outputs over every ball.
        let units: Vec<f64> = inputs.float_semantics.iter().map(|s| s.unit()).collect();
        let worst_unit = units.iter().cloned().fold(0.0, f64::max);
        let sigma = inputs.max_radius;
        let coord_mag: Vec<f64> = (0..m)
            .map(|k| {
                let top = (0..n)
                    .map(|i| centres[[i, k]] + centre_error[[i, k]])
                    .fold(0.0, f64::max);
                let rounding = gamma(row_nnz[k] + 1, worst_unit.max(DOUBLE))
                    * (row_l1[k] * (point_inf.iter().cloned().fold(0.0, f64::max) + sigma)
                        + bias[k].abs());
                (top + sigma * row_dual[k] + rounding) * (1.0 + 1e-12)
            })
            .collect();
        // |u - t| over every ball: centre distance, radius, rounding.
        let worst_first_error = (0..n)
            .map(|i| {
                (0..m)
                    .map(|k| {
                        let e = gamma(row_nnz[k] + 1, worst_unit.max(DOUBLE))
                            * (abs_products[[i, k]] + sigma * row_l1[k] + bias[k].abs());
                        e * e
                    })
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        let reach = (0..n)
            .map(|i| {
                (0..m)
                    .map(|k| {
                        let gap = (centres[[i, k]] - inputs.shift[k]).abs() + centre_error[[i, k]];
                        gap * gap
                    })
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        let reach = (sqrt_up(reach * 1.000001)
            + sigma * norm_bound
            + sqrt_up(worst_first_error * 1.000001))
            * (1.0 + 1e-9);
        let frame = Frame {
            shift: inputs.shift,
            offset: inputs.score_offset,
            reach,
        };
        let mut structure = recognise(model, inputs.roles, &coord_mag, Some(frame), &units)?;
        let label_values = match (&structure.label, inputs.label_values) {
            (Some(gadget), Some(values)) => {
                // The group closed without a step is the one class no step names.
                let closed: std::collections::HashSet<usize> =
                    gadget.steps.iter().map(|s| s.class).collect();
                let open: Vec<usize> = (0..values.len()).filter(|c| !closed.contains(c)).collect();
                let [first] = open.as_slice() else {
                    return Err(AnalysisError::Mismatch(format!(
                        "the steps close {} of the {} labels; exactly one label must be closed without a step",
                        closed.len(),
                        values.len()
                    )));
                };
                for &leaf in &gadget.first_group {
                    if structure.leaves[leaf].label.is_some_and(|l| l != *first) {
                        return Err(AnalysisError::Mismatch(format!(
                            "the score introduced at layer {}, neuron {} belongs to two groups",
                            structure.leaves[leaf].introduced_by[0],
                            structure.leaves[leaf].introduced_by[1]
                        )));
                    }
                    structure.leaves[leaf].label = Some(*first);
                }
                Some((values.to_vec(), label_tolerance(values)))
            }
            (None, None) => None,
            (Some(_), None) => {
                return Err(AnalysisError::Mismatch(
                    "the model has the label gadget but the certificate is about logits".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(AnalysisError::Mismatch(
                    "the certificate is about a label output but the model has no label gadget"
                        .into(),
                ))
            }
        };
        if label_values.is_none() && structure.output_bias.len() < 2 {
            return Err(AnalysisError::Mismatch(
                "a certificate needs at least two outputs (labels)".into(),
            ));
        }
        let mut own = Vec::with_capacity(n);
        for (i, at) in inputs.own_scores.iter().enumerate() {
            // A label network's last group may have a one-point group whose
            // score only appears inside its step: the point then names
            // its group's step neuron h{c}.0 and has no score of its own.
            let own_step = structure.label.as_ref().is_some_and(|g| {
                g.steps.iter().any(|s| {
                    [s.layer, s.neurons[0]] == *at
                        && s.class == inputs.labels[i]
                        && s.group.is_none()
                })
            });
            if own_step {
                own.push(NO_SCORE);
                continue;
            }
            let Some(&leaf) = structure.leaf_of_neuron.get(at) else {
                return Err(AnalysisError::Mismatch(format!(
                    "point {i}: layer {}, neuron {} introduces no score",
                    at[0], at[1]
                )));
            };
            if structure.leaves[leaf].label != Some(inputs.labels[i]) {
                return Err(AnalysisError::Mismatch(format!(
                    "point {i} has label index {}, but its score (layer {}, neuron {}) feeds output {}",
                    inputs.labels[i],
                    at[0],
                    at[1],
                    structure.leaves[leaf]
                        .label
                        .map_or("none".to_string(), |l| l.to_string())
                )));
            }
            own.push(leaf);
        }
        // Per point: error of the centre (l2) and distance to its own score.
        let per_point: Vec<(f64, f64)> = (0..n)
            .into_par_iter()
            .map(|i| {
                // A point with no score of its own (label networks) uses 0:
                // its distance is not used, only the centre's error.
                let own = structure.leaves.get(own[i]);
                let mut dist = 0.0;
                let mut cerr = 0.0;
                for k in 0..m {
                    let e = centre_error[[i, k]];
                    let shifted = centres[[i, k]] - inputs.shift[k];
                    let gap = shifted - own.map_or(0.0, |o| o.weight[k]);
                    let diff = gap.abs() + e + 2.0 * DOUBLE * (shifted.abs() + gap.abs());
                    dist += diff * diff;
                    cerr += e * e;
                }
                let up = 1.0 + gamma(2 * m + 4, DOUBLE);
                (sqrt_up(dist * up), sqrt_up(cerr * up))
            })
            .collect();
        let weights = Array2::from_shape_fn((structure.leaves.len(), m), |(a, k)| {
            structure.leaves[a].weight[k]
        });
        let leaf_labels: Vec<usize> = structure
            .leaves
            .iter()
            .map(|l| l.label.unwrap_or(usize::MAX))
            .collect();
        let nearest = nearest_other_label(weights.view(), &leaf_labels);
        let delta_prime = nearest.iter().cloned().fold(f64::INFINITY, f64::min);
        // eps_j = b_j + <w_j, t> + |w_j|^2 / 2 - S, as an interval.
        let (eps_lo, eps_hi): (Vec<f64>, Vec<f64>) = structure
            .leaves
            .iter()
            .map(|leaf| {
                let mut value = leaf.bias - inputs.score_offset;
                let mut size = leaf.bias.abs() + inputs.score_offset.abs();
                for (wk, tk) in leaf.weight.iter().zip(inputs.shift) {
                    value += wk * tk + wk * wk / 2.0;
                    size += (wk * tk).abs() + wk * wk / 2.0;
                }
                let e = gamma(2 * m + 4, DOUBLE) * size * (1.0 + 1e-9);
                (value - e, value + e)
            })
            .unzip();
        let eps_hi_max = eps_hi.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        // Covered points (logits): the exact lines, for every radius up to
        // `max_radius` and every semantics examined.
        let r_max = sigma * norm_bound * (1.0 + 4.0 * DOUBLE);
        let lines: Vec<Option<Vec<(f64, f64)>>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let leaf = *own.get(i)?;
                let d = nearest.get(leaf).copied().filter(|d| d.is_finite())?;
                if inputs.label_values.is_some() || per_point[i].0 <= COVERED * d {
                    return None;
                }
                let first: f64 = (0..m)
                    .map(|k| {
                        let e = gamma(row_nnz[k] + 1, worst_unit)
                            * (abs_products[[i, k]] + sigma * row_l1[k] + bias[k].abs())
                            * (1.0 + 1e-9);
                        e * e
                    })
                    .sum();
                let rho_max =
                    (r_max + sqrt_up(first * (1.0 + 1e-9)) + per_point[i].1) * (1.0 + 1e-6);
                let centre: Vec<f64> = centres.row(i).to_vec();
                Some(cover::lines(
                    &structure.leaves,
                    leaf,
                    inputs.labels[i],
                    &centre,
                    rho_max,
                ))
            })
            .collect();
        let mut semantics = vec![Semantics::Real];
        semantics.extend_from_slice(inputs.float_semantics);
        let accumulator_floors = accumulator_floors(&structure, &centres);
        Ok(Analysis {
            structure,
            semantics,
            norm_bound,
            nearest,
            delta_prime,
            own,
            labels: inputs.labels.to_vec(),
            accumulator_floors,
            centres,
            centre_error,
            abs_products,
            lowest_centre,
            row_l1,
            row_dual,
            row_nnz,
            bias,
            eps_lo,
            eps_hi_max,
            per_point,
            lines,
            norm: inputs.norm,
            max_radius: inputs.max_radius,
            label_values,
        })
    }

    /// Every claim at radius `sigma` (at most the `max_radius` given to [`Analysis::new`]).
    pub fn at_radius(&self, sigma: f64) -> AtRadius {
        assert!(
            sigma <= self.max_radius,
            "radius above the analysed maximum"
        );
        let (n, m) = self.centres.dim();
        let r = sigma * self.norm_bound * (1.0 + 4.0 * DOUBLE);
        let gamma_lemma = self.delta_prime * (self.delta_prime / 2.0 - r);
        // 1. First-layer ReLUs are exact. Rounding is monotone, so
        // `lowest - slope < 0` exactly when some point's
        // `centre - error - slope < 0`; that point is named.
        let first_layer_exact = (0..m)
            .find(|&k| self.lowest_centre[k] - self.first_layer_slope(k, sigma) < 0.0)
            .map(|k| {
                let i = (0..n)
                    .find(|&i| {
                        self.centres[[i, k]]
                            - self.centre_error[[i, k]]
                            - self.first_layer_slope(k, sigma)
                            < 0.0
                    })
                    .expect("the least value fails, so some point does");
                format!("first-layer neuron {k} may be negative on the ball of point {i}")
            });
        let semantics = self
            .semantics
            .iter()
            .enumerate()
            .map(|(index, &sem)| self.semantics_at(sem, index, sigma, r, &self.per_point))
            .collect();
        AtRadius {
            radius: sigma,
            projected_radius: r,
            gamma: gamma_lemma,
            first_layer_exact,
            semantics,
        }
    }

    /// How far first-layer neuron k can fall below its centre's value on
    /// a ball of radius `sigma` (the dual norm of its row, rounded up).
    fn first_layer_slope(&self, k: usize, sigma: f64) -> f64 {
        sigma * self.row_dual[k] * (1.0 + 4.0 * DOUBLE)
    }

    fn semantics_at(
        &self,
        sem: Semantics,
        index: usize,
        sigma: f64,
        r: f64,
        per_point: &[(f64, f64)],
    ) -> SemanticsResult {
        let n = self.centres.nrows();
        let unit = sem.unit();
        // First-layer rounding, per point (l2 over coordinates).
        let row_gamma: Vec<f64> = self
            .row_nnz
            .iter()
            .map(|&nnz| gamma(nnz + 1, unit))
            .collect();
        let first_error: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|i| {
                if unit == 0.0 {
                    return 0.0;
                }
                let mut sum = 0.0;
                for (k, products) in self.abs_products.row(i).iter().enumerate() {
                    let e = row_gamma[k]
                        * (products + sigma * self.row_l1[k] + self.bias[k].abs())
                        * (1.0 + 1e-9);
                    sum += e * e;
                }
                sqrt_up(sum * (1.0 + 1e-9))
            })
            .collect();
        let output_errors: Vec<f64> = if index == 0 {
            vec![0.0; self.structure.output_bias.len()]
        } else {
            self.structure
                .output_error
                .iter()
                .map(|e| e[index - 1])
                .collect()
        };
        let alpha = self.structure.output_scale;
        let betas = &self.structure.output_bias;
        // Accumulator obligations: every such score >= 0 on every (widened) ball.
        let (floors, norms) = &self.accumulator_floors;
        let accumulators = self.structure.nonneg_leaves.iter().zip(floors.rows());
        let negative_accumulator = accumulators.zip(norms).find_map(|((&leaf, floor), norm)| {
            let score = &self.structure.leaves[leaf];
            floor.iter().enumerate().find_map(|(i, floor)| {
                let radius = r + first_error[i] + per_point[i].1;
                let lower = floor - norm * radius * (1.0 + 1e-12);
                (lower < 0.0).then(|| {
                    let [l, neuron] = score.introduced_by;
                    format!("the score introduced at layer {l}, neuron {neuron} may be negative on the ball of point {i}")
                })
            })
        });
        let margins: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|i| {
                let y = self.labels[i];
                let own = self.own[i];
                if own == NO_SCORE || self.label_values.is_some() {
                    return f64::INFINITY;
                }
                let d = self.nearest[own];
                let rho = (per_point[i].0 + r + first_error[i]) * (1.0 + 1e-12);
                let deps = self.eps_hi_max - self.eps_lo[own];
                let (mut core, mut size) = if d.is_infinite() {
                    (f64::INFINITY, 0.0)
                } else {
                    (
                        d * (d / 2.0 - rho) - deps,
                        d * d / 2.0 + d * rho + deps.abs(),
                    )
                };
                if let Some(lines) = &self.lines[i] {
                    let ball = (r + first_error[i] + per_point[i].1) * (1.0 + 1e-12);
                    let (exact, exact_size) = cover::smallest(lines, ball);
                    if exact > core {
                        (core, size) = (exact, exact_size);
                    }
                }
                let others = (0..betas.len()).filter(|&c| c != y);
                let beta_gap = others
                    .clone()
                    .map(|c| betas[y] - betas[c])
                    .fold(f64::INFINITY, f64::min);
                let err_other = others.map(|c| output_errors[c]).fold(0.0, f64::max);
                let margin = alpha * core + beta_gap - output_errors[y] - err_other;
                // Round the final combination down.
                margin - 1e-12 * (alpha * size + beta_gap.abs()).abs()
            })
            .collect();
        let (margins, distances, unbounded) = match &self.label_values {
            None => (margins, Vec::new(), None),
            Some((values, tolerance)) => {
                let arithmetic = Arithmetic {
                    unit,
                    index: index.checked_sub(1),
                };
                let found: Vec<Result<f64, String>> = (0..n)
                    .into_par_iter()
                    .map(|i| {
                        self.label_distance(
                            i,
                            values,
                            r + first_error[i] + per_point[i].1,
                            arithmetic,
                        )
                    })
                    .collect();
                let unbounded = found
                    .iter()
                    .enumerate()
                    .find_map(|(i, f)| f.as_ref().err().map(|e| format!("point {i}: {e}")));
                let distances: Vec<f64> = found
                    .into_iter()
                    .map(|f| f.unwrap_or(f64::INFINITY))
                    .collect();
                let margins = distances
                    .iter()
                    .map(|&d| (Interval::point(*tolerance) - Interval::point(d)).lo)
                    .collect();
                (margins, distances, unbounded)
            }
        };
        SemanticsResult {
            semantics: sem,
            margins,
            first_layer_error: first_error.iter().cloned().fold(0.0, f64::max),
            output_error: output_errors.iter().cloned().fold(0.0, f64::max),
            negative_accumulator,
            distances,
            unbounded,
        }
    }

    /// The largest radius in `[low, max_radius]` at which every claim of
    /// `wanted` holds (bisection, 40 steps: relative precision 1e-12), or `None` if none does at `low`.
    pub fn largest_radius(&self, low: f64, wanted: &[Semantics]) -> Option<f64> {
        let holds = |sigma: f64| {
            let at = self.at_radius(sigma);
            at.first_layer_exact.is_none()
                && at
                    .semantics
                    .iter()
                    .filter(|s| wanted.contains(&s.semantics))
                    .all(SemanticsResult::holds)
        };
        if !holds(low) {
            return None;
        }
        let (mut good, mut bad) = (low, self.max_radius);
        if holds(bad) {
            return Some(bad);
        }
        for _ in 0..40 {
            let mid = good + (bad - good) / 2.0;
            if mid <= good || mid >= bad {
                break;
            }
            if holds(mid) {
                good = mid;
            } else {
                bad = mid;
            }
        }
        Some(good)
    }

    /// The norm the analysis is for.
    pub fn norm(&self) -> PNorm {
        self.norm
    }

    /// Label networks: the tolerance t the distances must stay below.
    pub fn label_tolerance(&self) -> Option<f64> {
        self.label_values.as_ref().map(|(_, t)| *t)
    }

    /// Label networks: an upper bound on `|output - value|` over the ball of
    /// point i, whose computed first-layer outputs lie within `radius` of its centre.
    fn label_distance(
        &self,
        i: usize,
        values: &[f64],
        radius: f64,
        arithmetic: Arithmetic,
    ) -> Result<f64, String> {
        let gadget = self.structure.label.as_ref().ok_or("no label gadget")?;
        let centre: Vec<f64> = self.centres.row(i).to_vec();
        let ball = Ball {
            centre: &centre,
            radius: radius * (1.0 + 1e-12),
        };
        let class = self.labels[i];
        let range = output_range(
            gadget,
            &self.structure.leaves,
            self.own[i],
            class,
            &ball,
            arithmetic,
        )?;
        Ok(distance(range, values[class]))
    }
}

/// An upper bound on `||W||_{p->2}` (specs/construction.md section 3), computed
/// with rounding accounted for. For l2 (and the other norms' use of the
/// spectral norm): `||W||_2^2 = lambda_max(W W^T) <= min(||G||_F, 1 + ||G - I||_F)`.
pub fn projection_bound(w: ArrayView2<f64>, norm: PNorm) -> f64 {
    let (m, d) = w.dim();
    let g = w.dot(&w.t());
    let err_factor = gamma(d + 1, DOUBLE);
    let diag_norms: Vec<f64> = (0..m).map(|k| g[[k, k]]).collect();
    let mut frob = 0.0;
    let mut off_identity = 0.0;
    for a in 0..m {
        for b in 0..m {
            // |G_ab| <= sqrt(G_aa G_bb) by Cauchy-Schwarz: a bound on the sum of |products|.
            let slack = err_factor * (diag_norms[a] * diag_norms[b]).sqrt() * (1.0 + 1e-9) * 1.01;
            let entry = g[[a, b]].abs() + slack;
            frob += entry * entry;
            let shifted = (g[[a, b]] - if a == b { 1.0 } else { 0.0 }).abs() + slack;
            off_identity += shifted * shifted;
        }
    }
    let up = 1.0 + gamma(2 * m * m + 4, DOUBLE);
    let spectral_sq = sqrt_up(frob * up).min(1.0 + sqrt_up(off_identity * up));
    let spectral = sqrt_up(spectral_sq * (1.0 + 4.0 * DOUBLE));
    let columns = (0..d)
        .filter(|&j| w.column(j).iter().any(|&x| x != 0.0))
        .count() as f64;
    let bound = if norm.p == 1.0 {
        (0..d)
            .map(|j| sqrt_up(w.column(j).iter().map(|x| x * x).sum::<f64>() * up))
            .fold(0.0, f64::max)
    } else if norm.p.is_infinite() {
        let column_sum: f64 = (0..d)
            .map(|j| sqrt_up(w.column(j).iter().map(|x| x * x).sum::<f64>() * up))
            .sum::<f64>()
            * (1.0 + gamma(d + 1, DOUBLE));
        (sqrt_up(columns) * spectral).min(column_sum)
    } else if norm.p <= 2.0 {
        spectral
    } else {
        columns.powf(0.5 - 1.0 / norm.p) * (1.0 + 1e-12) * spectral
    };
    bound * (1.0 + 8.0 * DOUBLE)
}

/// The tolerance of the label properties (specs/vnnlib.md):
/// `t = min(1/2, half the smallest gap between label values)`, rounded down.
pub fn label_tolerance(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .windows(2)
        .map(|w| (Interval::point(w[1]) - Interval::point(w[0])).lo / 2.0)
        .fold(0.5, f64::min)
}

/// [`Analysis::accumulator_floors`]: for every accumulator score `w . u + b`
/// and centre c_i, `fl(w . c_i + b) - gamma_{m+2} |fl(|w| . |c_i| + |b|)|`
/// (any summation order is within gamma_{m+2} of the m + 1 terms'
/// magnitudes; the factor 1 + 1e-9 covers the magnitude's own rounding),
/// from two matrix products; and each score's l2 norm, rounded up.
fn accumulator_floors(structure: &Structure, centres: &Array2<f64>) -> (Array2<f64>, Vec<f64>) {
    let m = centres.ncols();
    let leaves: Vec<&Leaf> = structure
        .nonneg_leaves
        .iter()
        .map(|&leaf| &structure.leaves[leaf])
        .collect();
    let weights = Array2::from_shape_fn((leaves.len(), m), |(l, k)| leaves[l].weight[k]);
    let mut values = weights.dot(&centres.t());
    let magnitudes = weights.mapv(f64::abs).dot(&centres.mapv(f64::abs).t());
    let g = gamma(m + 2, DOUBLE) * (1.0 + 1e-9);
    for (l, (mut value, magnitude)) in values
        .rows_mut()
        .into_iter()
        .zip(magnitudes.rows())
        .enumerate()
    {
        let bias = leaves[l].bias;
        for (v, mag) in value.iter_mut().zip(magnitude) {
            *v = (*v + bias) - g * (mag + bias.abs());
        }
    }
    let norms = leaves
        .iter()
        .map(|leaf| sqrt_up(leaf.weight.iter().map(|w| w * w).sum::<f64>() * (1.0 + 1e-12)))
        .collect();
    (values, norms)
}
