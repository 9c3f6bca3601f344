//! Back ends: what robmem writes out from the layer IR.
//!
//! - [`onnx`]: the network as an ONNX model (`Gemm` and `Relu` nodes), and a
//!   reader for such models;
//! - [`report`]: a human-readable table of layers (`--emit layers`);
//! - [`vnnlib`]: known-answer verification instances (VNN-LIB properties,
//!   `instances.csv`, `expected.csv`);
//! - [`staging`]: all-or-nothing writes of one network's outputs.

pub mod certificate;
pub mod onnx;
pub mod report;
pub mod staging;
pub mod vnnlib;

pub use onnx::{read_onnx, read_onnx_file, save_onnx, write_onnx, OnnxError, OnnxOptions};
pub use report::layers_report;
