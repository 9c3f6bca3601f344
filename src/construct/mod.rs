//! The construction: from a data set and a norm to the stage IR
//! (specs/construction.md sections 3-5).
//!
//! - [`arithmetic`]: the arithmetic a network is certified in, an input of
//!   both planners;
//! - [`projection`]: stage 1, the separation-preserving linear map (section 3);
//! - [`plan`]: choosing the projected dimension, the strategy, the radius and
//!   the number of accumulators from the spec's budgets;
//! - [`score_fit`]: whether a score plan is certified in its arithmetic
//!   (the planner's rounding check, before anything is built);
//! - [`condense`]: prototypes that cover the other points, so that only
//!   they keep a score (section 5C);
//! - [`assemble`]: the constants of the scores and gadgets (sections 4-5);
//! - [`distance_plan`]: the map, radius and slots of a distance network,
//!   planned for the arithmetic it must be certified in (section 8);
//! - [`directions`]: the distance construction's map for l2 balls;
//! - [`selection`]: its coordinate selection for l_inf balls (a greedy
//!   cover of the differently-labelled pairs);
//! - [`distances`]: the constants of the distance construction (section 8);
//! - [`condense_distances`]: prototypes that stay centres of a distance
//!   network (section 8.8);
//! - [`reach`]: what each construction reaches on a data set, for `check`;
//! - [`label_values`]: whether the label gadget's values fit the network's
//!   floating-point precision (section 5B).

pub mod arithmetic;
pub mod assemble;
pub mod condense;
pub mod condense_distances;
pub mod directions;
pub mod distance_plan;
pub mod distances;
pub mod label_values;
pub mod plan;
pub mod projection;
pub mod reach;
pub mod score_fit;
pub mod selection;
