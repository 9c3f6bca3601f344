//! The certificate file format (specs/certificate.md): what `compile` writes
//! and `verify` reads. Versioned JSON; `.yaml`/`.yml` files are read as YAML
//! with the same fields.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// The value of the `format` field this version writes and reads.
pub const FORMAT: &str = "robmem-certificate/1";

/// The largest `projection.m` a certificate may claim (2^32 rows).
pub const MAX_M: u64 = 1 << 32;

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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// Path relative to the certificate's folder.
    pub path: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
}

/// The data the claims are about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct PointClaims {
    /// `[layer, neuron]` of the neuron that introduces the point's score
    /// (its prototype's, in a condensed network).
    pub score: Vec<[usize; 2]>,
    /// Condensed networks (specs/certificate.md section 3.2): per point,
    /// the index of the data point whose score covers it (itself for a
    /// prototype). Absent: every point's score is its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prototype: Option<Vec<usize>>,
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
    /// A certificate whose field holds a value out of its range.
    #[error("{path}: {field}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// The field's JSON path, e.g. `projection.m` or `points.margin.float32[3]`.
        field: String,
        /// Why, naming the value.
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
        let parsed: Result<Certificate, String> = if yaml {
            serde_yaml::from_str(&text).map_err(|e| e.to_string())
        } else {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        };
        let cert = match parsed {
            Ok(cert) => cert,
            Err(reason) => {
                // Name the JSON path of an unknown field.
                let tree: Option<serde_json::Value> = if yaml {
                    serde_yaml::from_str(&text).ok()
                } else {
                    serde_json::from_str(&text).ok()
                };
                // serde_yaml puts the path first (`data: unknown field ...`).
                let unknown = reason
                    .find("unknown field `")
                    .map(|at| reason[at..].to_string());
                let field = unknown
                    .as_deref()
                    .and_then(|u| u.strip_prefix("unknown field `"))
                    .and_then(|rest| rest.split('`').next());
                // serde lists the fields of the struct the key is in.
                let expected: Vec<&str> = reason
                    .split_once("expected ")
                    .map(|(_, rest)| rest.split('`').skip(1).step_by(2).collect())
                    .unwrap_or_default();
                if let (Some(tree), Some(field)) = (tree, field) {
                    if let Some(at) = path_of_key(&tree, field, &expected, "") {
                        return Err(CertificateError::Invalid {
                            path: shown.clone(),
                            field: at,
                            reason: unknown.clone().unwrap_or_default(),
                        });
                    }
                }
                return Err(syntax(reason));
            }
        };
        cert.validate()
            .map_err(|(field, reason)| CertificateError::Invalid {
                path: shown.clone(),
                field,
                reason,
            })?;
        Ok(cert)
    }

    /// Checks that every field holds a value in its range (specs/certificate.md
    /// section 3); the error names the field's JSON path and the value.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |field: &str, reason: String| Err((field.to_string(), reason));
        if self.format != FORMAT {
            return bad(
                "format",
                format!(
                    "`{}` is not `{FORMAT}` (this robmem reads version 1)",
                    self.format
                ),
            );
        }
        if let Some(c) = &self.construction {
            if c != "distances" {
                return bad(
                    "construction",
                    format!("`{c}` is not a construction (only `distances` is written; a score network has no `construction`)"),
                );
            }
            match self.distance_norm.as_deref() {
                Some("l1" | "linf") => {}
                Some(q) => {
                    return bad(
                        "distance_norm",
                        format!("`{q}` is not a distance norm (it must be `l1` or `linf`)"),
                    )
                }
                None => {
                    return bad(
                        "distance_norm",
                        "missing (a distance network names `l1` or `linf`)".to_string(),
                    )
                }
            }
        } else if let Some(q) = &self.distance_norm {
            return bad(
                "distance_norm",
                format!("`{q}` given without `\"construction\": \"distances\"` (a score network has no distance norm)"),
            );
        }
        if !(self.radius.is_finite() && self.radius > 0.0) {
            return bad(
                "radius",
                format!(
                    "{} is not a radius (it must be positive and finite)",
                    self.radius
                ),
            );
        }
        if self.data.points == 0 {
            return bad(
                "data.points",
                "0 points (a certificate is about at least one point)".into(),
            );
        }
        if self.data.dim == 0 {
            return bad(
                "data.dim",
                "0 is not a dimension (it must be at least 1)".into(),
            );
        }
        if self.projection.m as u64 > MAX_M {
            return bad(
                "projection.m",
                format!(
                    "{} rows is more than any first layer can have (at most 2^32)",
                    self.projection.m
                ),
            );
        }
        let nonnegative = |field: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                bad(
                    field,
                    format!("{v} is not a bound (it must be non-negative and finite)"),
                )
            }
        };
        let finite = |field: &str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                bad(field, format!("{v} is not a finite number"))
            }
        };
        nonnegative("projection.norm_bound", self.projection.norm_bound)?;
        for (k, &t) in self.projection.shift.iter().enumerate() {
            finite(&format!("projection.shift[{k}]"), t)?;
        }
        finite("projection.score_offset", self.projection.score_offset)?;
        nonnegative("separation.delta_prime", self.separation.delta_prime)?;
        nonnegative(
            "separation.projected_radius",
            self.separation.projected_radius,
        )?;
        if self.separation.gamma.is_nan() {
            return bad("separation.gamma", "NaN is not a number".into());
        }
        if let Some(t) = self.output.tolerance {
            if !(t.is_finite() && t > 0.0) {
                return bad(
                    "output.tolerance",
                    format!("{t} is not a tolerance (it must be positive and finite)"),
                );
            }
        }
        for (semantics, claim) in &self.rounding {
            let name = semantics.name();
            if *semantics == Semantics::Real {
                return bad(
                    "rounding.real",
                    "real arithmetic has no rounding (only `float32` and `float64` have bounds)"
                        .into(),
                );
            }
            if claim.unit != semantics.unit() {
                return bad(
                    &format!("rounding.{name}.unit"),
                    format!(
                        "{} is not the unit roundoff of {name} (it is 2^{})",
                        claim.unit,
                        if *semantics == Semantics::Float32 {
                            -24
                        } else {
                            -53
                        }
                    ),
                );
            }
            nonnegative(&format!("rounding.{name}.first_layer"), claim.first_layer)?;
            nonnegative(&format!("rounding.{name}.output"), claim.output)?;
        }
        for (what, table) in [
            ("margin", &self.points.margin),
            ("distance", &self.points.distance),
        ] {
            for (semantics, values) in table {
                for (i, v) in values.iter().enumerate() {
                    if v.is_nan() {
                        return bad(
                            &format!("points.{what}.{}[{i}]", semantics.name()),
                            "NaN is not a bound".into(),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// The certificate as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("certificates serialise")
    }
}

/// The JSON path (`a.b[2].c`) of the first object key `key` in `value`, in
/// document order, in an object whose other keys are among `expected` (the
/// fields of the struct serde was reading; any object when empty).
fn path_of_key(
    value: &serde_json::Value,
    key: &str,
    expected: &[&str],
    prefix: &str,
) -> Option<String> {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        serde_json::Value::Object(map) => {
            let fits = expected.is_empty()
                || map
                    .keys()
                    .all(|k| k == key || expected.contains(&k.as_str()));
            if fits && map.contains_key(key) {
                return Some(join(key));
            }
            map.iter()
                .find_map(|(k, v)| path_of_key(v, key, expected, &join(k)))
        }
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| path_of_key(v, key, expected, &format!("{prefix}[{i}]"))),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_of_an_unknown_key_is_found_in_the_struct_serde_was_reading() {
        let tree: serde_json::Value = serde_json::json!({
            "radius": 1,
            "output": {"kind": "logits", "labels": [0, 1], "radius": 2},
            "points": {"score": [[0, 1]], "margin": {"real": [1.0]}},
        });
        let expected = ["kind", "labels", "tolerance"];
        assert_eq!(
            path_of_key(&tree, "radius", &expected, ""),
            Some("output.radius".to_string())
        );
        assert_eq!(
            path_of_key(&tree, "radius", &[], ""),
            Some("radius".to_string())
        );
        assert_eq!(path_of_key(&tree, "absent", &[], ""), None);
    }

    #[test]
    fn the_unit_roundoffs_are_powers_of_two() {
        assert_eq!(Semantics::Float32.unit(), 1.0 / 16_777_216.0);
        assert_eq!(Semantics::Float64.unit(), f64::EPSILON / 2.0);
        assert_eq!(MAX_M, 4_294_967_296);
    }
}
