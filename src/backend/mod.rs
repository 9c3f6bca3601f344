//! (module backend: being written.)
