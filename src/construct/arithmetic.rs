//! The arithmetic a network must be certified in: an input of both
//! planners (scores, [`super::plan`]; distances, [`super::distance_plan`]),
//! which choose the map and the radius so that the network they return is
//! certified in it the first time (specs/construction.md section 6).

use crate::analysis::rounding::{F32_UNIT_ROUNDOFF, F64_UNIT_ROUNDOFF};
use crate::spec::Precision;

/// The arithmetic a network is evaluated in, by its unit roundoff
/// (`2^-24` for float32, `2^-53` for float64).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arithmetic {
    /// Unit roundoff u.
    pub unit: f64,
}

impl Arithmetic {
    /// IEEE binary32.
    pub const FLOAT32: Arithmetic = Arithmetic {
        unit: F32_UNIT_ROUNDOFF,
    };

    /// IEEE binary64.
    pub const FLOAT64: Arithmetic = Arithmetic {
        unit: F64_UNIT_ROUNDOFF,
    };

    /// The arithmetic of a spec's `precision`.
    pub fn of(precision: Precision) -> Arithmetic {
        match precision {
            Precision::F32 => Arithmetic::FLOAT32,
            Precision::F64 => Arithmetic::FLOAT64,
        }
    }

    /// `float32` when u is float32's roundoff or coarser, else `float64`
    /// (the names messages and reports use).
    pub fn name(&self) -> &'static str {
        if self.unit >= F32_UNIT_ROUNDOFF {
            "float32"
        } else {
            "float64"
        }
    }

    /// Bytes per stored number: 4 for float32 (u = 2^-24), 8 for
    /// anything finer.
    pub fn element_bytes(&self) -> u64 {
        if self.unit >= F32_UNIT_ROUNDOFF {
            4
        } else {
            8
        }
    }
}
