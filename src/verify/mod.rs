//! `robmem verify`: an independent checker of certificates.
//!
//! It reads files (the ONNX model, the data, the certificate) and recomputes
//! every claim from the weights and the data. It shares no code with the
//! construction (`construct`, `lower`, `passes`, `backend`, `eval`,
//! `analysis`): the model is read by its own ONNX reader ([`model`]), the
//! gadgets are recognised from the weights ([`gadgets`]), the separation of
//! the scores is recomputed ([`scores`]) and the margins are bounded with
//! rounding accounted for ([`analyse`], using [`interval`]; points covered
//! by another point's score through [`cover`]). Only the front
//! end (spec parsing and data loading) is shared, to read the data the
//! certificate names. [`generic`] is a second check that recognises no
//! gadget: bound propagation over each ball. specs/certificate.md is the
//! normative description.

pub mod analyse;
pub mod certificate;
pub mod check;
pub mod cover;
pub mod distances;
pub mod gadgets;
pub mod generic;
pub mod interval;
pub mod label;
pub mod model;
pub mod scores;
