//! The stage IR (written with the construction).
