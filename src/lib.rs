//! robmem: a compiler from labelled data sets to ReLU networks that provably
//! memorize them robustly.
//!
//! A spec (`.rmem`, see `specs/language.md`) names a data set, an l_p norm, a
//! radius and budgets. robmem builds a network that gives every data point its
//! label on the whole closed l_p ball of that radius around it, following
//! `specs/construction.md` (Egosi, Yehudai and Shamir, COLT 2025): a linear
//! projection that keeps differently-labelled balls apart (section 3), one
//! score per data point whose maximum names the label (section 4), and a
//! narrow, deep reduction of the scores to logits or to the label itself
//! (section 5).
//!
//! # Pipeline
//!
//! Each stage is a module with one job; data flows front to back:
//!
//! | stage | module | input | output |
//! |---|---|---|---|
//! | parse | [`syntax`] | spec text | AST with spans |
//! | resolve | [`resolve`] | AST | [`spec::Program`] (names bound, defaults filled) |
//! | load | [`data`] | [`data::DataSource`] | [`data::Dataset`] |
//! | analyse | [`analysis`] | data set, norm | separation delta_p and its witness pair |
//! | plan | [`construct::plan`] | data, budgets, radius | projection, m, sigma, accumulators |
//! | construct | [`construct::assemble`] | plan | [`ir::stages::StageProgram`] |
//! | lower | [`lower`] | stage program | [`ir::layers::LayerNetwork`] |
//! | optimise | [`passes`] | layer network | smaller equivalent layer network |
//! | emit | [`backend`] | layer network | ONNX file, certificate, reports |
//! | check | [`verify`] | ONNX file, data, certificate | each claim held or failed |
//!
//! [`verify`] shares no code with the stages above it except the front end
//! (to load the data a certificate names): it re-reads the ONNX file with
//! its own reader and recognises the gadgets from the weights.
//! [`pipeline`] runs plan -> passes for one network; [`cli`] reads files,
//! runs the pipeline and writes outputs; [`sweep`] holds the rows of a
//! `sweep` block's table (one compiled combination of values each).
//! [`plot`] draws pictures (SVG) from plain figures and [`report`] puts
//! them, with the check facts, summaries and certificate claims, on
//! `robmem report`'s HTML page. Errors that point into a spec go
//! through [`diagnostics::SpecError`] (miette, with file:line:column).
//!
//! # The two IRs
//!
//! The stage IR ([`ir::stages`]) says what the network means: the projection
//! `U`, its centre and shift, the scores `s_j(u) = <z_j, u> + c_j` with the
//! offset `S`, the projected separation `delta'`, the margin
//! `gamma = delta' (delta'/2 - r)`, and how scores are reduced. Its
//! invariants: `2 r < delta'` (so `gamma > 0`), every point belongs to exactly
//! one slot or group of its own class, and the score each slot or group starts
//! from (its smallest-norm point) is at least 1 on every ball, so running
//! maxima, which never decrease, pass ReLUs unchanged.
//!
//! The layer IR ([`ir::layers`]) says what the network is: dense layers
//! `activation(W x + b)` in `f64`, the last one affine, each neuron tagged
//! with the [`ir::layers::Role`] of the gadget it implements. Lowering keeps
//! every gadget quantity as an affine expression over the current layer
//! ([`lower::Affine`]), so a gadget is a short schedule of neurons; the passes
//! only ever shrink the network without changing the function it computes.

pub mod analysis;
pub mod backend;
pub mod cli;
pub mod construct;
pub mod data;
pub mod diagnostics;
pub mod eval;
pub mod grade;
pub mod ir;
pub mod lower;
pub mod norm;
pub mod passes;
pub mod pipeline;
pub mod plot;
pub mod progress;
pub mod report;
pub mod resolve;
pub mod spec;
pub mod sweep;
pub mod syntax;
pub mod verify;
