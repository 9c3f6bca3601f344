//! The l_p norms robmem supports and the distances they induce.
//!
//! A [`Norm`] is fixed per network (`norm = l1 | l2 | linf | l(p)`). The
//! variants `L1`, `L2` and `Linf` are kept separate from the general
//! `Lp(p)` so that the common cases get exact, fast kernels; [`Norm::from_p`]
//! normalises `l(1)`, `l(2)` and `l(inf)` to them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An l_p norm with p in [1, inf].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Norm {
    /// Sum of absolute values.
    L1,
    /// Euclidean norm.
    L2,
    /// Largest absolute value.
    Linf,
    /// General l_p with finite p > 1 and p != 2 (see [`Norm::from_p`]).
    Lp(f64),
}

impl Norm {
    /// The norm for exponent `p`, or `None` when `p < 1` or `p` is NaN.
    /// `p = 1`, `2` and `+inf` give the dedicated variants.
    pub fn from_p(p: f64) -> Option<Norm> {
        if p.is_nan() || p < 1.0 {
            None
        } else if p == 1.0 {
            Some(Norm::L1)
        } else if p == 2.0 {
            Some(Norm::L2)
        } else if p.is_infinite() {
            Some(Norm::Linf)
        } else {
            Some(Norm::Lp(p))
        }
    }

    /// The exponent p (`f64::INFINITY` for l_inf).
    pub fn p(self) -> f64 {
        match self {
            Norm::L1 => 1.0,
            Norm::L2 => 2.0,
            Norm::Linf => f64::INFINITY,
            Norm::Lp(p) => p,
        }
    }

    /// The dual exponent q with 1/p + 1/q = 1.
    pub fn dual_exponent(self) -> f64 {
        match self {
            Norm::L1 => f64::INFINITY,
            Norm::L2 => 2.0,
            Norm::Linf => 1.0,
            Norm::Lp(p) => p / (p - 1.0),
        }
    }

    /// ||v||_p.
    pub fn length(self, v: &[f64]) -> f64 {
        match self {
            Norm::L1 => v.iter().map(|x| x.abs()).sum(),
            Norm::L2 => v.iter().map(|x| x * x).sum::<f64>().sqrt(),
            Norm::Linf => v.iter().fold(0.0, |m, x| m.max(x.abs())),
            Norm::Lp(p) => v.iter().map(|x| x.abs().powf(p)).sum::<f64>().powf(1.0 / p),
        }
    }

    /// ||a - b||_p. Panics in debug builds when the lengths differ.
    pub fn distance(self, a: &[f64], b: &[f64]) -> f64 {
        debug_assert_eq!(a.len(), b.len());
        match self {
            Norm::L1 => a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum(),
            Norm::L2 => a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                .sqrt(),
            Norm::Linf => a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs())),
            Norm::Lp(p) => a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs().powf(p))
                .sum::<f64>()
                .powf(1.0 / p),
        }
    }
}

impl fmt::Display for Norm {
    /// The spelling used in spec files: `l1`, `l2`, `linf`, `l(3)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Norm::L1 => write!(f, "l1"),
            Norm::L2 => write!(f, "l2"),
            Norm::Linf => write!(f, "linf"),
            Norm::Lp(p) => write!(f, "l({p})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_p_normalises_special_exponents() {
        assert_eq!(Norm::from_p(1.0), Some(Norm::L1));
        assert_eq!(Norm::from_p(2.0), Some(Norm::L2));
        assert_eq!(Norm::from_p(f64::INFINITY), Some(Norm::Linf));
        assert_eq!(Norm::from_p(3.0), Some(Norm::Lp(3.0)));
        assert_eq!(Norm::from_p(0.5), None);
        assert_eq!(Norm::from_p(f64::NAN), None);
    }

    #[test]
    fn distances_match_hand_computation() {
        let a = [0.0, 0.0];
        let b = [3.0, -4.0];
        assert_eq!(Norm::L1.distance(&a, &b), 7.0);
        assert_eq!(Norm::L2.distance(&a, &b), 5.0);
        assert_eq!(Norm::Linf.distance(&a, &b), 4.0);
        let l3 = Norm::Lp(3.0).distance(&a, &b);
        assert!((l3 - (27.0f64 + 64.0).powf(1.0 / 3.0)).abs() < 1e-12);
        assert_eq!(Norm::Lp(3.0).dual_exponent(), 1.5);
    }
}
