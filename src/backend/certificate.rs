//! The certificate back end: writes the certificate of a compiled network
//! (specs/certificate.md).
//!
//! Its claims are not taken from the construction: they are computed by the
//! independent checker ([`crate::verify::check::Claims::compute`]) on the
//! ONNX file as written to disk and on the data, so a certificate only ever
//! claims what `robmem verify` will confirm. The construction contributes
//! only what the checker cannot guess: the role of each neuron, each point's
//! score neuron, the shift t and the score offset S.

use crate::data::Dataset;
use crate::ir::layers::{LayerNetwork, Role};
use crate::ir::stages::{
    Construction, DistanceNorm as StageDistanceNorm, DistanceStage, Reduction, ScoreStage,
    StageProgram,
};
use crate::verify::analyse::PNorm;
use crate::verify::certificate::{
    data_sha256, sha256_hex, Certificate, DataRef, FileRef, OutputClaim, PointClaims,
    ProjectionClaim, SeparationClaim, FORMAT,
};
use crate::verify::check::{ClaimRequest, Claims, Data};
use crate::verify::distances::DistanceNorm;
use crate::verify::model::read_model;
use crate::verify::model::Model;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Why no certificate could be made.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// The network's kind is not covered by certificates yet.
    #[error("{0}")]
    Unsupported(String),
    /// The ONNX file could not be read back.
    #[error("cannot read back {path}: {reason}")]
    Model {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The checker rejected the network (a compiler bug).
    #[error("the checker rejects the compiled network: {0}")]
    Rejected(String),
    /// The data admits no certificate; the message names the cause and the fix.
    #[error("{0}")]
    Refused(String),
    /// Writing failed.
    #[error("cannot write {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Everything [`make_certificate`] needs.
pub struct CertificateRequest<'a> {
    /// Network name.
    pub network: &'a str,
    /// The stage program.
    pub program: &'a StageProgram,
    /// The layers as written (roles are read from them).
    pub layers: &'a LayerNetwork,
    /// The data.
    pub data: &'a Dataset,
    /// The spec file (the data's source for `verify`).
    pub spec_path: &'a Path,
    /// The ONNX file written.
    pub onnx_path: &'a Path,
    /// Where the certificate goes.
    pub certificate_path: &'a Path,
    /// For `radius = max`: the largest radius worth trying; the certificate
    /// then states the largest radius the checker confirms.
    pub search_up_to: Option<f64>,
}

/// What was certified.
#[derive(Clone, Debug)]
pub struct Certified {
    /// The certificate.
    pub certificate: Certificate,
    /// Semantics examined but not claimed, with the reason.
    pub not_claimed: Vec<(String, String)>,
}

/// The role of a neuron in the certificate's notation.
fn role_name(role: &Role) -> Option<String> {
    Some(match role {
        Role::Projected { coordinate } => format!("u{coordinate}"),
        Role::Accumulator { class, slot } => format!("a{class}.{slot}"),
        Role::Comparison { point, class, slot } => format!("q{point}@{class}.{slot}"),
        Role::MaxMerge { class, slot } => format!("x{class}.{slot}"),
        Role::Output { index } => format!("o{index}"),
        Role::Best => "b".to_string(),
        Role::BestIncrease => "i".to_string(),
        Role::Step { class, part } => format!("h{class}.{part}"),
        Role::Label { part } => format!("l{part}"),
        Role::DistanceHalf {
            point,
            coordinate,
            positive,
        } => format!("{}{point}.{coordinate}", if *positive { 'p' } else { 'n' }),
        Role::TreeCarry { point, level, node } => format!("g{point}.{level}.{node}"),
        Role::TreeMerge { point, level, node } => format!("e{point}.{level}.{node}"),
        Role::MinCarry { class, slot } => format!("m{class}.{slot}"),
        Role::MinMerge { class, slot } => format!("x{class}.{slot}"),
        Role::Unknown => return None,
    })
}

/// Builds the certificate (does not write it).
pub fn make_certificate(request: &CertificateRequest<'_>) -> Result<Certified, CertificateError> {
    let unsupported = |m: &str| Err(CertificateError::Unsupported(m.to_string()));
    // Each slot's or group's first point: its score is introduced by the
    // slot's accumulator in layer 1 (logits), or by the group's first
    // accumulator, its increase or the first best score (label).
    let (scores, reduction) = match &request.program.construction {
        Construction::Scores { scores, reduction } => (scores, reduction),
        Construction::Distances(stage) => return distance_certificate(request, stage),
    };
    let (slots, groups) = match reduction {
        Reduction::RunningMax { slots, .. } => (slots.as_slice(), &[][..]),
        Reduction::LabelGroups { groups, .. } => (&[][..], groups.as_slice()),
        Reduction::Constant => return Err(CertificateError::Refused(single_label(request.data))),
    };
    let coordinates = coordinate_numbers(request.layers)?;
    let label = !groups.is_empty();
    let group_of = |class: u32| groups.iter().find(|g| g.class == class);
    let mut layers = Vec::with_capacity(request.layers.layers.len());
    let n = request.data.len();
    let mut own: Vec<Option<[usize; 2]>> = vec![None; n];
    let mut first_best = true;
    for (l, layer) in request.layers.layers.iter().enumerate() {
        let mut names = Vec::with_capacity(layer.roles.len());
        let closing = layer.roles.iter().find_map(|r| match r {
            Role::Step { class, .. } => Some(*class),
            _ => None,
        });
        for (neuron, role) in layer.roles.iter().enumerate() {
            let renumbered;
            let role = match role {
                Role::Projected { coordinate } => {
                    let Some(&coordinate) = coordinates.get(coordinate) else {
                        return Err(CertificateError::Rejected(format!(
                            "layer {l}, neuron {neuron} copies coordinate {coordinate}, which the first layer does not compute"
                        )));
                    };
                    renumbered = Role::Projected { coordinate };
                    &renumbered
                }
                other => other,
            };
            let Some(name) = role_name(role) else {
                return unsupported(
                    "the network has neurons of a gadget certificates do not cover",
                );
            };
            names.push(name);
            match role {
                Role::Comparison { point, .. } => own[*point] = Some([l, neuron]),
                Role::Accumulator { class, slot } if l == 1 && !label => {
                    if let Some(s) = slots.iter().find(|s| s.class == *class && s.slot == *slot) {
                        own[s.points[0]] = Some([l, neuron]);
                    }
                }
                Role::Accumulator { class, .. } if label => {
                    if let Some(g) = group_of(*class) {
                        own[g.points[0]].get_or_insert([l, neuron]);
                    }
                }
                Role::BestIncrease => {
                    if let Some(g) = closing.and_then(group_of).filter(|g| g.points.len() == 1) {
                        own[g.points[0]] = Some([l, neuron]);
                    }
                }
                Role::Step { class, part: 0 } => {
                    if let Some(g) = group_of(*class).filter(|g| g.points.len() == 1) {
                        own[g.points[0]].get_or_insert([l, neuron]);
                    }
                }
                Role::Best if first_best => {
                    first_best = false;
                    if let Some(g) = groups.first().filter(|g| g.points.len() == 1) {
                        own[g.points[0]] = Some([l, neuron]);
                    }
                }
                _ => {}
            }
        }
        layers.push(names.join(" "));
    }
    let (own, prototype) = covered_score_neurons(own, scores);
    let own = borrow_score_neurons(own, scores, &request.data.labels)?;
    let prototype = prototype.map(|p| prototypes_of(&p, &own));
    let back = ReadBack::new(request)?;
    let data = back.data(request);
    let program = request.program;
    let (norm_text, norm) = norm_of(program)?;
    // The shift of the coordinates the first layer still computes (the
    // passes delete coordinates no score reads, e.g. a constant feature's).
    let mut shift = vec![0.0; coordinates.len()];
    for (&original, &position) in &coordinates {
        shift[position] = program.projection.shift[original];
    }
    let output = OutputClaim {
        kind: if label { "label" } else { "logits" }.to_string(),
        labels: back.label_names.clone(),
        tolerance: None,
    };
    let values = output.label_values();
    let claims = Claims::compute(
        &back.model,
        &data,
        &back.label_names,
        &ClaimRequest {
            layers: &layers,
            own_scores: &own,
            norm,
            radius: program.radius,
            search_up_to: request.search_up_to,
            shift: &shift,
            score_offset: scores.offset,
            label_values: label.then_some(values.as_slice()),
            distance_norm: None,
        },
    )
    .map_err(CertificateError::Rejected)?;
    Ok(finish(
        request,
        &back,
        norm_text,
        claims,
        Parts {
            output,
            construction: None,
            m: shift.len(),
            shift,
            score_offset: scores.offset,
            layers,
            score: own,
            prototype,
            label,
        },
    ))
}

/// The certificate of a distance network (specs/certificate.md section 10):
/// the roles, and the claims the checker computes; no shift, score offset
/// or score neurons (each point's margin is taken over every centre).
fn distance_certificate(
    request: &CertificateRequest<'_>,
    stage: &DistanceStage,
) -> Result<Certified, CertificateError> {
    let layers = request
        .layers
        .layers
        .iter()
        .map(|layer| {
            layer
                .roles
                .iter()
                .map(role_name)
                .collect::<Option<Vec<_>>>()
                .map(|names| names.join(" "))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            CertificateError::Unsupported(
                "the network has neurons of a gadget certificates do not cover".into(),
            )
        })?;
    let back = ReadBack::new(request)?;
    let data = back.data(request);
    let (norm_text, norm) = norm_of(request.program)?;
    let q = match stage.norm {
        StageDistanceNorm::L1 => DistanceNorm::L1,
        StageDistanceNorm::Linf => DistanceNorm::Linf,
    };
    let label = stage.label.is_some();
    let output = OutputClaim {
        kind: if label { "label" } else { "logits" }.to_string(),
        labels: back.label_names.clone(),
        tolerance: None,
    };
    let values = output.label_values();
    let claims = Claims::compute(
        &back.model,
        &data,
        &back.label_names,
        &ClaimRequest {
            layers: &layers,
            own_scores: &[],
            norm,
            radius: request.program.radius,
            search_up_to: request.search_up_to,
            shift: &[],
            score_offset: 0.0,
            label_values: label.then_some(values.as_slice()),
            distance_norm: Some(q),
        },
    )
    .map_err(CertificateError::Rejected)?;
    Ok(finish(
        request,
        &back,
        norm_text,
        claims,
        Parts {
            output,
            construction: Some((q.name().to_string(), "distances".to_string())),
            m: request.program.projection.m(),
            shift: Vec::new(),
            score_offset: 0.0,
            layers,
            score: Vec::new(),
            prototype: None,
            label,
        },
    ))
}

/// The model as written, read back by the checker's own reader, and the
/// data's labels as the certificate names them.
struct ReadBack {
    model: Model,
    model_sha256: String,
    label_names: Vec<serde_json::Value>,
    labels: Vec<serde_json::Value>,
}

impl ReadBack {
    fn new(request: &CertificateRequest<'_>) -> Result<ReadBack, CertificateError> {
        let bytes = std::fs::read(request.onnx_path).map_err(|e| CertificateError::Model {
            path: request.onnx_path.display().to_string(),
            reason: e.to_string(),
        })?;
        let model = read_model(&bytes).map_err(|e| CertificateError::Model {
            path: request.onnx_path.display().to_string(),
            reason: e.to_string(),
        })?;
        // The file's bytes are not needed once hashed and parsed: free them
        // before the analysis, the peak of a large compile.
        let model_sha256 = sha256_hex(&bytes);
        drop(bytes);
        let label_names: Vec<serde_json::Value> = request
            .data
            .classes
            .values
            .iter()
            .map(|v| serde_json::to_value(v).expect("labels serialise"))
            .collect();
        let labels = request
            .data
            .labels
            .iter()
            .map(|&l| label_names[l as usize].clone())
            .collect();
        Ok(ReadBack {
            model,
            model_sha256,
            label_names,
            labels,
        })
    }

    fn data<'a>(&'a self, request: &'a CertificateRequest<'_>) -> Data<'a> {
        Data {
            points: request.data.points.view(),
            labels: &self.labels,
        }
    }
}

/// The network's norm as the certificate spells it and as the checker reads it.
fn norm_of(program: &StageProgram) -> Result<(String, PNorm), CertificateError> {
    let text = program.norm.to_string();
    let norm =
        PNorm::parse(&text).ok_or_else(|| CertificateError::Unsupported(format!("norm {text}")))?;
    Ok((text, norm))
}

/// What differs between the constructions' certificates.
struct Parts {
    output: OutputClaim,
    /// `(distance norm, "distances")` for a distance network.
    construction: Option<(String, String)>,
    m: usize,
    shift: Vec<f64>,
    score_offset: f64,
    layers: Vec<String>,
    score: Vec<[usize; 2]>,
    prototype: Option<Vec<usize>>,
    label: bool,
}

/// The certificate stating `claims`.
fn finish(
    request: &CertificateRequest<'_>,
    back: &ReadBack,
    norm_text: String,
    claims: Claims,
    parts: Parts,
) -> Certified {
    let base = request
        .certificate_path
        .parent()
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let (distance_norm, construction) = parts.construction.unzip();
    let certificate = Certificate {
        format: FORMAT.to_string(),
        producer: format!("robmem {}", env!("CARGO_PKG_VERSION")),
        network: request.network.to_string(),
        norm: norm_text,
        construction,
        distance_norm,
        radius: claims.radius,
        semantics: claims.semantics.clone(),
        output: OutputClaim {
            tolerance: claims.tolerance,
            ..parts.output
        },
        model: FileRef {
            path: relative_path(&base, request.onnx_path),
            sha256: back.model_sha256.clone(),
        },
        data: DataRef {
            path: relative_path(&base, request.spec_path),
            network: request.network.to_string(),
            sha256: data_sha256(request.data.points.view(), &back.labels),
            points: request.data.len(),
            dim: request.data.dim(),
        },
        projection: ProjectionClaim {
            strategy: request.program.projection.strategy.clone(),
            m: parts.m,
            norm_bound: claims.norm_bound,
            shift: parts.shift,
            score_offset: parts.score_offset,
        },
        separation: SeparationClaim {
            delta_prime: claims.delta_prime,
            projected_radius: claims.projected_radius,
            gamma: claims.gamma,
        },
        rounding: claims.rounding.iter().cloned().collect(),
        layers: parts.layers,
        points: PointClaims {
            score: parts.score,
            prototype: parts.prototype,
            margin: if parts.label {
                BTreeMap::new()
            } else {
                claims.margins.iter().cloned().collect::<BTreeMap<_, _>>()
            },
            distance: claims.distances.iter().cloned().collect(),
        },
    };
    Certified {
        certificate,
        not_claimed: claims
            .not_claimed
            .iter()
            .map(|(s, why)| (s.name().to_string(), why.clone()))
            .collect(),
    }
}

/// The refusal for a single-label data set: the network is constant, and a
/// certificate (specs/certificate.md) compares a point's output with the
/// other labels', of which there are none.
fn single_label(data: &Dataset) -> String {
    let label = data.classes.values.first().map_or("?".to_string(), |v| {
        serde_json::to_string(v).expect("labels serialise")
    });
    format!(
        "every point has label {label}: the network is the constant {label}, robust at every radius, and a certificate needs at least two labels to compare; remove `certificate = ...` from the emit block, or add points of another label"
    )
}

/// Maps each first-layer coordinate (as the construction numbers it) to the
/// position of its neuron in the first layer as written. The passes delete
/// first-layer neurons no score reads (a feature constant on the data gives
/// a zero coordinate in every score), so the written layer may be narrower
/// than the projection.
fn coordinate_numbers(layers: &LayerNetwork) -> Result<BTreeMap<usize, usize>, CertificateError> {
    let first = layers
        .layers
        .first()
        .ok_or_else(|| CertificateError::Rejected("the network has no layers".into()))?;
    first
        .roles
        .iter()
        .enumerate()
        .map(|(position, role)| match role {
            Role::Projected { coordinate } => Ok((*coordinate, position)),
            _ => Err(CertificateError::Rejected(format!(
                "first-layer neuron {position} is not a projected coordinate"
            ))),
        })
        .collect()
}

/// A condensed network's points left out of the slots take their
/// prototype's score neuron (specs/construction.md section 5C). Returns
/// the neurons and, for a condensed network, each prototype's own neuron
/// (`None` when the passes deleted it; [`borrow_score_neurons`] then
/// finds one).
#[allow(clippy::type_complexity)]
fn covered_score_neurons(
    mut own: Vec<Option<[usize; 2]>>,
    scores: &ScoreStage,
) -> (Vec<Option<[usize; 2]>>, Option<Vec<Option<[usize; 2]>>>) {
    let Some(covering) = &scores.covering else {
        return (own, None);
    };
    let introduced = own.clone();
    for (i, &p) in covering.prototype.iter().enumerate() {
        if own[i].is_none() {
            own[i] = own[p];
        }
    }
    (own, Some(introduced))
}

/// The `points.prototype` field: per point, the point that introduced the
/// score neuron it names (the lowest index when several name it and none
/// introduced it, e.g. a prototype whose neuron the passes deleted).
fn prototypes_of(introduced: &[Option<[usize; 2]>], score: &[[usize; 2]]) -> Vec<usize> {
    let mut owner: BTreeMap<[usize; 2], usize> = BTreeMap::new();
    for (i, neuron) in introduced.iter().enumerate() {
        if let Some(neuron) = neuron {
            owner.entry(*neuron).or_insert(i);
        }
    }
    for (i, neuron) in score.iter().enumerate() {
        owner.entry(*neuron).or_insert(i);
    }
    score.iter().map(|neuron| owner[neuron]).collect()
}

/// Each point's score neuron. A point whose comparison neuron the passes
/// deleted (its score equals the slot's first score exactly, e.g. a
/// duplicate of that point, or one differing only in a feature the
/// projection drops) is given the score neuron of the point of its label
/// whose projected point is nearest to its own (the same point for exact
/// duplicates). The checker then bounds its margin against that score, so
/// the choice can only make a claim smaller, never wrong.
fn borrow_score_neurons(
    own: Vec<Option<[usize; 2]>>,
    scores: &ScoreStage,
    labels: &[u32],
) -> Result<Vec<[usize; 2]>, CertificateError> {
    if own.iter().all(Option::is_some) {
        return Ok(own.into_iter().flatten().collect());
    }
    let centres = &scores.centres;
    let key = |i: usize| -> (u32, Vec<u64>) {
        (
            labels[i],
            centres.row(i).iter().map(|x| x.to_bits()).collect(),
        )
    };
    // Exact duplicates (in the projection) first, by hash: no quadratic scan.
    let mut exact = std::collections::HashMap::new();
    for (i, o) in own.iter().enumerate() {
        if let Some(o) = o {
            exact.entry(key(i)).or_insert(*o);
        }
    }
    (0..own.len())
        .map(|i| {
            if let Some(o) = own[i] {
                return Ok(o);
            }
            if let Some(&o) = exact.get(&key(i)) {
                return Ok(o);
            }
            let distance = |j: usize| -> f64 {
                centres
                    .row(i)
                    .iter()
                    .zip(centres.row(j))
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum()
            };
            (0..own.len())
                .filter(|&j| labels[j] == labels[i] && own[j].is_some())
                .min_by(|&a, &b| distance(a).total_cmp(&distance(b)).then(a.cmp(&b)))
                .and_then(|j| own[j])
                .ok_or_else(|| {
                    CertificateError::Rejected(format!(
                        "point {i} has no score neuron, and no point of its label has one"
                    ))
                })
        })
        .collect()
}

/// `to` relative to folder `from` (both made absolute first), with `/` separators.
pub fn relative_path(from: &Path, to: &Path) -> String {
    let absolute = |p: &Path| -> PathBuf {
        let p = if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        };
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    let (from, to) = (absolute(from), absolute(to));
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_string(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().to_string()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}
