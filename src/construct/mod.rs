//! The construction: from a data set and a norm to the stage IR
//! (construction.md sections 3-5).
//!
//! - [`projection`]: stage 1, the separation-preserving linear map (section 3);
//! - [`plan`]: choosing the projected dimension, the strategy, the radius and
//!   the number of accumulators from the spec's budgets;
//! - [`assemble`]: the constants of the scores and gadgets (sections 4-5).

pub mod assemble;
pub mod plan;
pub mod projection;
