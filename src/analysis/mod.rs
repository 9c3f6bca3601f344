//! Analyses of a data set that the checker and the compiler share.

pub mod report;
pub mod rounding;
pub mod separation;
