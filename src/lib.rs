//! robmem: a compiler from labelled data sets to ReLU networks that provably
//! memorize them robustly. (Crate documentation is completed with the pipeline.)

pub mod analysis;
pub mod backend;
pub mod cli;
pub mod construct;
pub mod data;
pub mod diagnostics;
pub mod eval;
pub mod ir;
pub mod lower;
pub mod norm;
pub mod passes;
pub mod resolve;
pub mod spec;
pub mod syntax;
