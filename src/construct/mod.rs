//! The construction: from a data set and a norm to the stage IR (construction.md sections 3-5).

pub mod projection;
