//! (module resolve: being written.)
