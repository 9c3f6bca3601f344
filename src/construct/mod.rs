//! (module construct: being written.)
