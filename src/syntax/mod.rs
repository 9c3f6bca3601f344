//! The surface syntax of `.rmem` spec files: the pest grammar
//! (`grammar/robmem.pest`), a typed AST with spans ([`ast`]) and the parser
//! turning text into it ([`parser::parse`]). Names, keys and values are
//! checked later, by [`crate::resolve`].

pub mod ast;
pub mod parser;

pub use parser::parse;
