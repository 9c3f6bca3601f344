//! (module syntax: being written.)
