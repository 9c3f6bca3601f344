//! `robmem verify`: an independent checker of compiled networks (issue #4).
//!
//! The verifier reads files (the ONNX model, the data, the certificate) and
//! shares no code with the compiler: nothing here calls into `construct`,
//! `lower`, `passes`, `backend`, `eval` or `analysis`, so a bug there cannot
//! hide itself by being repeated here. It has its own ONNX reader
//! ([`model`]), its own outward-rounded interval arithmetic ([`interval`]) and
//! a check that needs no knowledge of the construction ([`generic`]).

pub mod generic;
pub mod interval;
pub mod model;
