//! `robmem report`: one self-contained HTML page per spec with the check
//! facts, the compiled networks' summaries, their pictures and their
//! certificates' claims.
//!
//! [`figures`] makes the pictures of one compiled network and of the whole
//! spec from plain figures; [`html`] writes the page. Compiling and writing
//! files is the command line's job (`cli::report`).

pub mod figures;
pub mod html;

use crate::plot::Figure;

/// The page of one spec.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// The spec file, as given on the command line.
    pub spec: String,
    /// One section per network that compiled, in declaration order.
    pub networks: Vec<NetworkSection>,
    /// The networks that did not compile: name and message.
    pub failures: Vec<(String, String)>,
    /// Pictures comparing the spec's networks (two networks or more).
    pub overview: Vec<Figure>,
    /// The pictures of the spec's sweeps: the sweep's network and its
    /// pictures (specs/language.md, "Sweeps").
    pub sweeps: Vec<(String, Vec<Figure>)>,
}

/// What the page says about one compiled network.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkSection {
    /// The network's name.
    pub name: String,
    /// What `robmem check` prints for it.
    pub check: String,
    /// What `robmem compile` prints for it.
    pub summary: String,
    /// The certificate's claims as `(what, value)` rows; empty without one.
    pub claims: Vec<(String, String)>,
    /// The certificate as JSON, when there is one.
    pub certificate_json: Option<String>,
    /// The pictures.
    pub figures: Vec<Figure>,
    /// What could not be shown, and why.
    pub notes: Vec<String>,
}
