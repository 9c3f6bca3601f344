//! (module passes: being written.)
