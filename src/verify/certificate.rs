//! The certificate file format (specs/certificate.md): what `compile` writes
//! and `verify` reads. Versioned JSON; `.yaml`/`.yml` files are read as YAML
//! with the same fields.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// The value of the `format` field this version writes and reads.
pub const FORMAT: &str = "robmem-certificate/1";

/// An arithmetic in which the network's outputs are claimed correct.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Semantics {
    /// Exact real arithmetic on the stored weights.
    Real,
    /// IEEE float32 evaluation, any summation order (FMA allowed).
    Float32,
    /// IEEE float64 evaluation, any summation order (FMA allowed).
    Float64,
}

impl Semantics {
    /// Unit roundoff u (0 for real arithmetic).
    pub fn unit(self) -> f64 {
        match self {
            Semantics::Real => 0.0,
            Semantics::Float32 => f64::powi(2.0, -24),
            Semantics::Float64 => f64::powi(2.0, -53),
        }
    }

    /// The name used in the file.
    pub fn name(self) -> &'static str {
        match self {
            Semantics::Real => "real",
            Semantics::Float32 => "float32",
            Semantics::Float64 => "float64",
        }
    }

    /// All three, in file order.
    pub const ALL: [Semantics; 3] = [Semantics::Real, Semantics::Float32, Semantics::Float64];
}

/// A certificate. Every field is described in specs/certificate.md.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// Always [`FORMAT`].
    pub format: String,
    /// The program that wrote it, e.g. `robmem 0.1.0`.
    pub producer: String,
    /// The network's name in the spec.
    pub network: String,
    /// `l1`, `l2`, `linf` or `l(p)`.
    pub norm: String,
    /// `distances` for a distance network (specs/certificate.md section
    /// 10); absent for a score network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub construction: Option<String>,
    /// Distance networks: the norm q of the distances, `l1` or `linf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_norm: Option<String>,
    /// The certified radius sigma, in that norm.
    pub radius: f64,
    /// The arithmetics for which every claim holds.
    pub semantics: Vec<Semantics>,
    /// The output convention.
    pub output: OutputClaim,
    /// The ONNX file.
    pub model: FileRef,
    /// The data the claims are about.
    pub data: DataRef,
    /// Stage 1 (specs/construction.md section 3).
    pub projection: ProjectionClaim,
    /// Stage 2 (section 4).
    pub separation: SeparationClaim,
    /// Per claimed floating-point semantics: the rounding bounds used.
    pub rounding: BTreeMap<Semantics, RoundingClaim>,
    /// Per layer, the role of each neuron, space-separated (see the spec).
    pub layers: Vec<String>,
    /// Per data point claims.
    pub points: PointClaims,
}

/// The output convention.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputClaim {
    /// `logits`: output c is the score of `labels[c]`, argmax is the label;
    /// `label`: one output, within `points.distance` of the point's label value.
    pub kind: String,
    /// The user's label values, in output order (`label`: in class order).
    pub labels: Vec<serde_json::Value>,
    /// `label` only: the tolerance t = min(1/2, half the smallest gap
    /// between label values) every distance stays below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
}

impl OutputClaim {
    /// The value a label network outputs for each label: the number itself,
    /// or the class index for a named label.
    pub fn label_values(&self) -> Vec<f64> {
        self.labels
            .iter()
            .enumerate()
            .map(|(c, v)| v.as_f64().unwrap_or(c as f64))
            .collect()
    }
}

/// A file the certificate is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileRef {
    /// Path relative to the certificate's folder.
    pub path: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
}

/// The data the claims are about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataRef {
    /// The spec file, relative to the certificate's folder.
    pub path: String,
    /// The network whose `data` is meant.
    pub network: String,
    /// [`data_sha256`] of the points and labels.
    pub sha256: String,
    /// Number of points N.
    pub points: usize,
    /// Dimension d.
    pub dim: usize,
}

/// Stage 1: the first layer is `u = relu(U x + beta)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectionClaim {
    /// How U was chosen (informative only).
    pub strategy: String,
    /// m, the number of rows of U.
    pub m: usize,
    /// An upper bound on ||U||_{p->2}, recomputable from the first layer.
    pub norm_bound: f64,
    /// The shift t in `s_j(u) = <w_j, u - t> - |w_j|^2/2 + S + eps_j`.
    pub shift: Vec<f64>,
    /// The score offset S in the same formula.
    pub score_offset: f64,
}

/// Stage 2: separation of the score vectors and the margin lemma.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeparationClaim {
    /// A lower bound on the l2 distance between score vectors of different labels.
    pub delta_prime: f64,
    /// r = radius * norm_bound.
    pub projected_radius: f64,
    /// delta' (delta'/2 - r).
    pub gamma: f64,
}

/// The rounding bounds of one floating-point semantics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundingClaim {
    /// Unit roundoff u.
    pub unit: f64,
    /// Largest l2 error of the first layer's output over all balls.
    pub first_layer: f64,
    /// Largest error of an output over all balls.
    pub output: f64,
}

/// Claims per data point, in data order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointClaims {
    /// `[layer, neuron]` of the neuron that introduces the point's score.
    pub score: Vec<[usize; 2]>,
    /// Per semantics, a lower bound on `out[label] - max other out` over the
    /// ball (logits); for a label network, on `tolerance - distance`.
    pub margin: BTreeMap<Semantics, Vec<f64>>,
    /// Label networks: per semantics, an upper bound on `|out - label value|`
    /// over the ball.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub distance: BTreeMap<Semantics, Vec<f64>>,
}

/// Why a certificate file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// I/O.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Not a certificate.
    #[error("{path} is not a robmem certificate: {reason}")]
    Syntax {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl Certificate {
    /// Reads a certificate from JSON, or YAML when the file name ends in
    /// `.yaml` or `.yml`.
    pub fn read(path: &Path) -> Result<Certificate, CertificateError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CertificateError::Io {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        let syntax = |reason: String| CertificateError::Syntax {
            path: shown.clone(),
            reason,
        };
        let cert: Certificate = if yaml {
            serde_yaml::from_str(&text).map_err(|e| syntax(e.to_string()))?
        } else {
            serde_json::from_str(&text).map_err(|e| syntax(e.to_string()))?
        };
        if cert.format != FORMAT {
            return Err(syntax(format!(
                "format `{}` is not `{FORMAT}` (this robmem reads version 1)",
                cert.format
            )));
        }
        Ok(cert)
    }

    /// The certificate as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("certificates serialise")
    }
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The data hash: SHA-256 of `robmem-data/1`, N and d (u64 little-endian),
/// every coordinate (f64 little-endian, row-major), then each point's label
/// as JSON followed by a newline.
pub fn data_sha256(points: ndarray::ArrayView2<f64>, labels: &[serde_json::Value]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"robmem-data/1");
    hash.update((points.nrows() as u64).to_le_bytes());
    hash.update((points.ncols() as u64).to_le_bytes());
    for x in points.iter() {
        hash.update(x.to_le_bytes());
    }
    for label in labels {
        hash.update(label.to_string().as_bytes());
        hash.update(b"\n");
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
