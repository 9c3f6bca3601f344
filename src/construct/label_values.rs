//! Whether the label gadget's values fit a floating-point precision
//! (specs/construction.md section 5B, issue #12).
//!
//! An `output = label` network carries its label values in its weights: the
//! register `L` holds the internal value `c = v - v_min + 1` of a label `v`
//! (named labels: class index + 1), every write subtracts the previous
//! group's value from the current one, and the output layer adds
//! `c_last - shift` back. In float32 a value such as 20000001 (above 2^24) or
//! 1 + 1e-7 is not representable, so the stored network would output another
//! label. [`check_label_values`] refuses such networks before anything is
//! built, naming the value, its nearest representable neighbour, the
//! precision's resolution at that size and the tolerance
//! `t = min(1/2, half the smallest gap between labels)` of the VNN-LIB
//! label properties (specs/vnnlib.md).
//!
//! The conditions, for every class g in group order (ascending values):
//! 1. the user's value `v_g` is a number of the precision;
//! 2. the carried value `c_g` is a number of the precision;
//! 3. the difference `c_{g-1} - c_g` of consecutive values is exact in
//!    binary64 and a number of the precision (so a write on the register
//!    is exact);
//! 4. `c_g - shift`, the output it produces, is within `t / 4` of `v_g`.
//!
//! They are what the construction needs to have a chance; the certificate's
//! checker (if any) still bounds the output's error from the stored weights.

use super::assemble::internal_values;
use crate::data::{Dataset, LabelValue};
use crate::spec::Precision;

/// A label value the precision cannot carry.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct LabelPrecisionError {
    /// `float32` or `float64`.
    pub precision: &'static str,
    /// The user's label value concerned.
    pub label: String,
    /// The number that is not representable (the label, a carried value or
    /// a difference of two carried values).
    pub value: f64,
    /// What `value` is.
    pub what: Quantity,
    /// The nearest number of the precision.
    pub nearest: f64,
    /// The spacing of the precision's numbers at `value`'s size.
    pub resolution: f64,
    /// The output tolerance t of the label properties.
    pub tolerance: f64,
}

/// Which stored number a [`LabelPrecisionError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// The user's label value itself (it is the network's output).
    Label,
    /// The value `v - v_min + 1` the label register carries.
    Carried,
    /// The difference between two consecutive carried values.
    Step,
    /// The output `c - shift` recomputed from the carried value.
    Output,
}

impl LabelPrecisionError {
    fn describe(&self) -> String {
        let p = self.precision;
        let what = match self.what {
            Quantity::Label => format!("label value {} is not a {p} number", self.label),
            Quantity::Carried => format!(
                "the label gadget carries label {} as {}, which is not a {p} number",
                self.label, self.value
            ),
            Quantity::Step => format!(
                "the step {} from the previous label value to label {} is not a {p} number",
                self.value, self.label
            ),
            Quantity::Output => format!(
                "label {} comes out as {} after its shift in float64",
                self.label, self.nearest
            ),
        };
        format!(
            "{what} (nearest {p}: {}; {p} resolves steps of {} at this size), so the label output could miss its label by more than the tolerance {} of the label properties (half the smallest gap between labels, at most 1/2)",
            self.nearest,
            figure(self.resolution),
            self.tolerance
        )
    }
}

/// A short figure: plain for ordinary sizes, scientific otherwise.
fn figure(x: f64) -> String {
    if (1e-3..1e7).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:.3e}")
    }
}

/// The tolerance `t = min(1/2, half the smallest gap between label values)`.
pub fn label_tolerance(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .windows(2)
        .map(|w| (w[1] - w[0]) / 2.0)
        .fold(0.5, f64::min)
}

/// `x` rounded to the precision (to nearest).
fn round_to(precision: Precision, x: f64) -> f64 {
    match precision {
        Precision::F32 => x as f32 as f64,
        Precision::F64 => x,
    }
}

/// Spacing of the precision's numbers at `x`'s size (one unit in the last place).
fn resolution(precision: Precision, x: f64) -> f64 {
    match precision {
        Precision::F32 => {
            let y = (x as f32).abs();
            let next = f32::from_bits(y.to_bits() + 1);
            (next - y) as f64
        }
        Precision::F64 => {
            let y = x.abs();
            f64::from_bits(y.to_bits() + 1) - y
        }
    }
}

/// `a - b` if exact in binary64 (TwoSum error term is zero).
fn exact_difference(a: f64, b: f64) -> Option<f64> {
    let s = a - b;
    let bb = s - a;
    let err = (a - (s - bb)) + (-b - bb);
    (err == 0.0 && s.is_finite()).then_some(s)
}

/// Checks the conditions of the module doc for the data's labels.
pub fn check_label_values(data: &Dataset, precision: Precision) -> Result<(), LabelPrecisionError> {
    let name = match precision {
        Precision::F32 => "float32",
        Precision::F64 => "float64",
    };
    let (carried, shift) = internal_values(data);
    let users: Vec<f64> = data
        .classes
        .values
        .iter()
        .enumerate()
        .map(|(c, v)| match v {
            LabelValue::Number(x) => *x,
            LabelValue::Name(_) => c as f64,
        })
        .collect();
    let tolerance = label_tolerance(&users);
    let fail = |label: &LabelValue, value: f64, what: Quantity, nearest: f64| {
        Err(LabelPrecisionError {
            precision: name,
            label: label.to_string(),
            value,
            what,
            nearest,
            resolution: resolution(precision, value),
            tolerance,
        })
    };
    let mut previous: Option<f64> = None;
    for (g, label) in data.classes.values.iter().enumerate() {
        let (v, c) = (users[g], carried[g]);
        if round_to(precision, c) != c {
            return fail(label, c, Quantity::Carried, round_to(precision, c));
        }
        if round_to(precision, v) != v {
            return fail(label, v, Quantity::Label, round_to(precision, v));
        }
        if let Some(p) = previous {
            match exact_difference(p, c) {
                Some(step) if round_to(precision, step) == step => {}
                Some(step) => return fail(label, step, Quantity::Step, round_to(precision, step)),
                None => return fail(label, p - c, Quantity::Step, p - c),
            }
        }
        let out = c - shift;
        if (out - v).abs() >= tolerance / 4.0 || out.is_nan() {
            return fail(label, v, Quantity::Output, out);
        }
        previous = Some(c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Provenance;
    use ndarray::Array2;

    fn data(labels: &[f64]) -> Dataset {
        let raw: Vec<LabelValue> = labels.iter().map(|&v| LabelValue::Number(v)).collect();
        let points = Array2::from_shape_fn((labels.len(), 1), |(i, _)| i as f64);
        let provenance = Provenance::Generated {
            description: "test".into(),
        };
        Dataset::from_raw(points, &raw, provenance).unwrap()
    }

    #[test]
    fn small_integers_fit_float32() {
        let d = data(&[0.0, 1.0, 2.0, 9.0, -3.0]);
        assert_eq!(check_label_values(&d, Precision::F32), Ok(()));
        assert_eq!(label_tolerance(&[0.0, 1.0, 2.0]), 0.5);
        assert_eq!(label_tolerance(&[0.0, 0.5]), 0.25);
    }

    #[test]
    fn labels_above_two_to_the_24_are_refused_in_float32_only() {
        let d = data(&[20000001.0, 20000002.0, 20000003.0]);
        let e = check_label_values(&d, Precision::F32).unwrap_err();
        assert_eq!(e.what, Quantity::Label);
        assert_eq!(e.value, 20000001.0);
        assert_eq!(e.resolution, 2.0);
        assert_eq!(e.tolerance, 0.5);
        let text = e.to_string();
        assert!(
            text.contains("20000001") && text.contains("float32"),
            "{text}"
        );
        assert_eq!(check_label_values(&d, Precision::F64), Ok(()));
    }

    #[test]
    fn tiny_gaps_are_refused_in_float32_and_fit_float64() {
        let d = data(&[0.0, 1e-7, 2e-7]);
        let e = check_label_values(&d, Precision::F32).unwrap_err();
        // The register carries 1 + 1e-7, finer than float32's step near 1.
        assert_eq!(e.what, Quantity::Carried);
        assert_eq!(e.resolution, f32::EPSILON as f64);
        assert_eq!(e.tolerance, 5e-8);
        assert_eq!(check_label_values(&d, Precision::F64), Ok(()));
        // Representable labels whose carried values are not.
        let d = data(&[0.0, 2f64.powi(-30), 2f64.powi(-29)]);
        let e = check_label_values(&d, Precision::F32).unwrap_err();
        assert_eq!(e.what, Quantity::Carried);
        assert!(e.resolution > 2f64.powi(-30));
    }

    #[test]
    fn gaps_lost_even_in_float64_are_refused() {
        let d = data(&[-1e300, 0.0, 1e-300]);
        let e = check_label_values(&d, Precision::F64).unwrap_err();
        assert!(matches!(e.what, Quantity::Output | Quantity::Step), "{e}");
    }
}
