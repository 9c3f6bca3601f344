//! (module lower: being written.)
