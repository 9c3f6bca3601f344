//! The two levels of robmem's intermediate representation.
//!
//! - [`stages`]: what the network *means* — projection, scores, reduction,
//!   output — with the constants of the lemmas in `specs/construction.md`.
//! - [`layers`]: what the network *is* — a chain of dense affine layers, each
//!   followed by a ReLU or not. Lowering goes from the first to the second;
//!   passes and back ends work on the second.

pub mod layers;
pub mod stages;
