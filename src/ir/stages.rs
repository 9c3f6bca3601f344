//! The stage IR: what a compiled network means, with the constants of the
//! lemmas it rests on (specs/construction.md).
//!
//! A [`StageProgram`] is a first stage shared by every construction, then a
//! [`Construction`] (one variant per kind of network), then an output stage:
//! 1. [`ProjectionStage`]: `u = relu(U (x - mu) + t)`, where the shift `t` makes
//!    every coordinate of `u` at least 1 on every projected ball, so the ReLU
//!    is the identity there and `u = z + t` with `z = U (x - mu)`;
//! 2. [`Construction::Scores`] (sections 4-5): one score per data point,
//!    `s_j(u) = <z_j, u> + c_j`, equal to `<z_j, z> - ||z_j||^2 / 2 + S` on
//!    the balls, reduced by running maxima per label (5A) or label groups
//!    with a step gadget (5B); or [`Construction::Distances`] (section 8):
//!    the exact l1 or l_inf distance from `u` to every stored centre, reduced
//!    by running minima per label;
//! 3. [`OutputStage`]: the final affine scaling.
//!
//! Invariants (established by `construct`, relied on by `lower`):
//! - `projection.matrix` is m x d, `projection.centre` and the input have
//!   length d, `projection.shift` and every score or distance centre have
//!   length m;
//! - scores: `2 * projected_radius < delta_prime`, so `gamma > 0`;
//!   distances: `2 * projected_radius < delta_prime` in the distance norm,
//!   so `margin > 0`;
//! - every data point appears in exactly one slot (logits) or group (label),
//!   and the slot's or group's class is the point's class; in a condensed
//!   network (scores: [`Covering`]; distances: section 8.8) only the
//!   prototypes do, each once, and every class keeps at least one;
//! - scores: the first point of every slot or group has a score of at least
//!   1 on every ball, so every running maximum (which never decreases) passes
//!   a ReLU unchanged; other scores only enter through `relu(s_j - A)`;
//! - distances: distances are never negative, so a running minimum (which
//!   starts from a distance) passes a ReLU unchanged.

use crate::norm::Norm;
use crate::spec::OutputKind;
use ndarray::{Array1, Array2};
use std::fmt::{self, Write as _};

/// A compiled network as meaning. See the module doc for invariants.
#[derive(Clone, Debug)]
pub struct StageProgram {
    /// Input dimension d.
    pub input_dim: usize,
    /// The perturbation norm the network is built for.
    pub norm: Norm,
    /// The radius sigma in that norm.
    pub radius: f64,
    /// Stage 1.
    pub projection: ProjectionStage,
    /// Stages 2 and 3: what the construction computes from `u`.
    pub construction: Construction,
    /// The final stage.
    pub output: OutputStage,
}

/// The kind of network: how the first stage's `u` becomes the label.
#[derive(Clone, Debug)]
pub enum Construction {
    /// Scores and their reduction (sections 4-5).
    Scores {
        /// One score per data point.
        scores: ScoreStage,
        /// How scores become an output.
        reduction: Reduction,
    },
    /// Exact distances and running minima (section 8).
    Distances(DistanceStage),
}

/// The norm in which the distance construction measures distances after
/// its map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DistanceNorm {
    /// `sum_k |u_k - c_jk|`: the halves are summed.
    L1,
    /// `max_k |u_k - c_jk|`: the halves go through a max tree.
    Linf,
}

impl DistanceNorm {
    /// `l1` or `linf`, as in specs and certificates.
    pub fn name(self) -> &'static str {
        match self {
            DistanceNorm::L1 => "l1",
            DistanceNorm::Linf => "linf",
        }
    }

    /// The norm of a vector.
    pub fn length(self, v: impl Iterator<Item = f64>) -> f64 {
        match self {
            DistanceNorm::L1 => v.map(f64::abs).sum(),
            DistanceNorm::Linf => v.fold(0.0, |m, x| m.max(x.abs())),
        }
    }
}

/// Section 8: `D_j(u) = ||u - c_j||_q` for every stored centre, a running
/// minimum per slot, slots of a class merged by a min tree, and either
/// `logit_c = -scale * min_{j of class c} D_j` or (`label`) the label
/// gadget of section 5B on the scores `-M_c`.
#[derive(Clone, Debug)]
pub struct DistanceStage {
    /// q.
    pub norm: DistanceNorm,
    /// c_j = y_j + t, N x m, so that `D_j(u) = ||y - y_j||_q` on the balls
    /// (every point's; only those in [`DistanceStage::slots`] are built).
    pub centres: Array2<f64>,
    /// delta'_q: the exact separation of the mapped points in q.
    pub delta_prime: f64,
    /// The real-arithmetic margin between the nearest centre of the point's
    /// label and any other label's, on every ball: `delta'_q - 2 r` when
    /// every point is a centre, the cover's margin (section 8.8) when only
    /// prototypes are.
    pub margin: f64,
    /// Number of classes C.
    pub classes: usize,
    /// Running minima per class (at most; a small class gets fewer).
    pub slots_per_class: usize,
    /// Every slot, grouped by class in class order.
    pub slots: Vec<Slot>,
    /// `output = label`: the chain over the class minima (section 8.3, last
    /// paragraph), with `kappa = 2 / margin`; `None` for logits.
    pub label: Option<LabelChain>,
}

/// The label gadget's constants (section 5B): groups closed in order, a
/// step of slope `kappa` writing the group's value into the register.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelChain {
    /// Groups in processing order (one per class; the distance
    /// construction uses only their class and value).
    pub groups: Vec<Group>,
    /// kappa = 2 / margin: h = 0 below margin/4, h = 1 above 3 margin/4.
    pub kappa: f64,
    /// Y' > 2 (largest value - smallest value): big enough that a step of
    /// (nearly) 1 clears the old label for any pair of values.
    pub reach: f64,
}

impl StageProgram {
    /// The score stage, for a score network.
    pub fn scores(&self) -> Option<&ScoreStage> {
        match &self.construction {
            Construction::Scores { scores, .. } => Some(scores),
            Construction::Distances(_) => None,
        }
    }

    /// The separation of the mapped points, in the construction's own
    /// norm (l2 for scores, q for distances).
    pub fn delta_prime(&self) -> f64 {
        match &self.construction {
            Construction::Scores { scores, .. } => scores.delta_prime,
            Construction::Distances(d) => d.delta_prime,
        }
    }

    /// The real-arithmetic margin: gamma (score units) or `delta'_q - 2 r`
    /// (distance units).
    pub fn margin(&self) -> f64 {
        match &self.construction {
            Construction::Scores { scores, .. } => scores.gamma,
            Construction::Distances(d) => d.margin,
        }
    }

    /// `scores` or `distances`.
    pub fn kind(&self) -> &'static str {
        match &self.construction {
            Construction::Scores { .. } => "scores",
            Construction::Distances(_) => "distances",
        }
    }
}

/// Stage 1: `u = relu(U (x - mu) + t)` (specs/construction.md section 3).
#[derive(Clone, Debug)]
pub struct ProjectionStage {
    /// Name of the strategy that chose U (`identity`, `span`, `random`, `pca`).
    pub strategy: String,
    /// U, m x d.
    pub matrix: Array2<f64>,
    /// mu, the data mean, length d.
    pub centre: Array1<f64>,
    /// t, length m: `t_k = 1 + r - min_i z_ik`, so `u_k >= 1` on every ball.
    pub shift: Array1<f64>,
    /// An upper bound on ||U||_{p->2} (scores) or ||U||_{p->q} (distances).
    pub norm_bound: f64,
    /// r = sigma * norm_bound: every ball maps into the l2 (scores) or l_q
    /// (distances) ball of radius r around its projected centre.
    pub projected_radius: f64,
}

impl ProjectionStage {
    /// Projected dimension m.
    pub fn m(&self) -> usize {
        self.matrix.nrows()
    }
}

/// Stage 2: scores `s_j(u) = <z_j, u> + c_j` (specs/construction.md section 4).
#[derive(Clone, Debug)]
pub struct ScoreStage {
    /// z_j, the projected data points, N x m.
    pub centres: Array2<f64>,
    /// c_j = -<z_j, t> - ||z_j||^2 / 2 + S, length N.
    pub offsets: Array1<f64>,
    /// S: makes the score of every slot's or group's first point at least 1
    /// on every ball.
    pub offset: f64,
    /// delta': the exact l2 separation of the projected points.
    pub delta_prime: f64,
    /// gamma = delta' (delta'/2 - r): the margin lemma's lower bound on
    /// `s_i(z) - s_j(z)` for `y_j != y_i` on the ball around `z_i`; for a
    /// condensed network, the smaller of that and the cover's margin.
    pub gamma: f64,
    /// Condensed networks (section 5C): which prototype covers each point.
    /// Only prototypes appear in slots or groups; gamma is then at most
    /// the cover's margin. `None`: every point is its own prototype.
    pub covering: Option<Covering>,
}

/// A condensed score network's cover (specs/construction.md section 5C).
#[derive(Clone, Debug, PartialEq)]
pub struct Covering {
    /// Per data point, the point whose score covers it (itself for a
    /// prototype).
    pub prototype: Vec<usize>,
    /// The projected radius (r plus an allowance for the first layer's
    /// rounding) of the balls the cover was computed on.
    pub radius: f64,
    /// On the ball of that radius around every point, its prototype's
    /// score beats every score of another label by at least this much.
    pub margin: f64,
}

impl Covering {
    /// True when point i keeps a score of its own.
    pub fn is_prototype(&self, i: usize) -> bool {
        self.prototype.get(i) == Some(&i)
    }

    /// Prototypes per class, for `labels` (class indices) over `classes`.
    pub fn sizes(&self, labels: &[u32], classes: usize) -> Vec<usize> {
        let mut sizes = vec![0; classes];
        for (i, &label) in labels.iter().enumerate() {
            if self.is_prototype(i) {
                sizes[label as usize] += 1;
            }
        }
        sizes
    }
}

/// The points one running maximum goes through, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    /// The class whose scores it maximises.
    pub class: u32,
    /// Which of the class's accumulators (0-based).
    pub slot: usize,
    /// Data point indices, in the order they are compared.
    pub points: Vec<usize>,
}

/// The points of one class in the label gadget.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Class index.
    pub class: u32,
    /// Internal label value `c'` carried by the gadget (>= 1).
    pub value: f64,
    /// Data point indices, in the order they are compared.
    pub points: Vec<usize>,
}

/// Stage 3: from scores to an output (specs/construction.md section 5).
#[derive(Clone, Debug)]
pub enum Reduction {
    /// 5A: `logit_c = max_{j of class c} s_j`, computed by `slots_per_class`
    /// running maxima per class merged by a max tree.
    RunningMax {
        /// Number of classes C.
        classes: usize,
        /// Accumulators per class (at most; a small class gets fewer).
        slots_per_class: usize,
        /// Every slot, grouped by class in class order.
        slots: Vec<Slot>,
    },
    /// 5B: groups closed in order; a step gadget with slope `kappa` writes the
    /// group's value into the label register when the group's maximum beats
    /// the best earlier score.
    LabelGroups {
        /// Groups in processing order.
        groups: Vec<Group>,
        /// kappa = 2 / gamma: h = 0 below gamma/4, h = 1 above 3 gamma/4.
        kappa: f64,
        /// Y' > 2 (largest value - smallest value): big enough that a step
        /// of (nearly) 1 clears the old label for any pair of values.
        reach: f64,
    },
    /// Fewer than two labels: the network is the constant class 0.
    Constant,
}

/// Stage 4: the final affine map.
#[derive(Clone, Debug)]
pub struct OutputStage {
    /// Logits or label.
    pub kind: OutputKind,
    /// Logits: every running maximum is multiplied by `scale`, so the
    /// certified margin `gamma * scale` is at least 1. Label: 1.
    pub scale: f64,
    /// Label: subtracted from the internal value (`output = L - shift`), so
    /// the output equals the user's label value (or class index). Logits: 0.
    pub label_shift: f64,
    /// Number of outputs (C for logits, 1 for label).
    pub outputs: usize,
}

impl fmt::Display for StageProgram {
    /// A readable summary for `robmem compile --emit ir`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.projection;
        let target = match &self.construction {
            Construction::Scores { .. } => "2",
            Construction::Distances(d) => d.norm.name(),
        };
        writeln!(f, "stage projection  // specs/construction.md section 3")?;
        writeln!(f, "    strategy     {}", p.strategy)?;
        writeln!(f, "    U            {} x {}", p.m(), self.input_dim)?;
        writeln!(
            f,
            "    ||U||_p->{target}   <= {:.6e}   (norm {})",
            p.norm_bound, self.norm
        )?;
        writeln!(f, "    sigma        {:.6e}", self.radius)?;
        writeln!(
            f,
            "    r            {:.6e}   (sigma * ||U||)",
            p.projected_radius
        )?;
        writeln!(
            f,
            "    u = relu(U (x - mu) + t),  min t = {:.4e}, max t = {:.4e}",
            min(&p.shift),
            max(&p.shift)
        )?;
        match &self.construction {
            Construction::Scores { scores, reduction } => {
                fmt_scores(f, scores)?;
                fmt_reduction(f, reduction)?;
            }
            Construction::Distances(d) => fmt_distances(f, d)?,
        }
        let o = &self.output;
        writeln!(f, "stage output")?;
        match (o.kind, &self.construction) {
            (OutputKind::Logits, Construction::Scores { scores, .. }) => {
                writeln!(
                    f,
                    "    logits[{}] = {:.6e} * running max",
                    o.outputs, o.scale
                )?;
                writeln!(f, "    certified margin {:.6e}", o.scale * scores.gamma)
            }
            (OutputKind::Logits, Construction::Distances(d)) => {
                writeln!(
                    f,
                    "    logits[{}] = -{:.6e} * running min",
                    o.outputs, o.scale
                )?;
                writeln!(f, "    certified margin {:.6e}", o.scale * d.margin)
            }
            (OutputKind::Label, _) => writeln!(f, "    label = L - {}", o.label_shift),
        }
    }
}

fn fmt_scores(f: &mut fmt::Formatter<'_>, s: &ScoreStage) -> fmt::Result {
    writeln!(f, "stage scores  // specs/construction.md section 4")?;
    writeln!(f, "    points       {}", s.centres.nrows())?;
    writeln!(f, "    s_j(u)       <z_j, u> + c_j")?;
    writeln!(f, "    S            {:.6e}", s.offset)?;
    writeln!(f, "    delta'       {:.6e}", s.delta_prime)?;
    writeln!(
        f,
        "    gamma        {:.6e}   (delta' (delta'/2 - r))",
        s.gamma
    )
}

fn fmt_reduction(f: &mut fmt::Formatter<'_>, reduction: &Reduction) -> fmt::Result {
    match reduction {
        Reduction::RunningMax {
            classes,
            slots_per_class,
            slots,
        } => {
            writeln!(
                f,
                "stage reduction running-max  // specs/construction.md section 5A"
            )?;
            writeln!(f, "    classes      {classes}")?;
            writeln!(f, "    slots/class  {slots_per_class}")?;
            writeln!(f, "    slot sizes  {}", slot_sizes(slots))
        }
        Reduction::LabelGroups {
            groups,
            kappa,
            reach,
        } => fmt_chain(
            f,
            &LabelChain {
                groups: groups.clone(),
                kappa: *kappa,
                reach: *reach,
            },
            "gamma",
        ),
        Reduction::Constant => writeln!(f, "stage reduction constant  // one label"),
    }
}

fn fmt_distances(f: &mut fmt::Formatter<'_>, d: &DistanceStage) -> fmt::Result {
    writeln!(f, "stage distances  // specs/construction.md section 8")?;
    writeln!(f, "    centres      {}", d.centres.nrows())?;
    writeln!(f, "    D_j(u)       ||u - c_j||_{}", d.norm.name())?;
    writeln!(f, "    delta'       {:.6e}", d.delta_prime)?;
    writeln!(f, "    margin       {:.6e}   (delta' - 2 r)", d.margin)?;
    writeln!(
        f,
        "stage reduction running-min  // specs/construction.md section 8"
    )?;
    writeln!(f, "    classes      {}", d.classes)?;
    writeln!(f, "    slots/class  {}", d.slots_per_class)?;
    writeln!(f, "    slot sizes  {}", slot_sizes(&d.slots))?;
    match &d.label {
        Some(chain) => fmt_chain(f, chain, "margin"),
        None => Ok(()),
    }
}

/// The label gadget's groups and constants (`gap` names what kappa divides).
fn fmt_chain(f: &mut fmt::Formatter<'_>, chain: &LabelChain, gap: &str) -> fmt::Result {
    writeln!(
        f,
        "stage reduction label-groups  // specs/construction.md section 5B"
    )?;
    writeln!(f, "    kappa        {:.6e}   (2 / {gap})", chain.kappa)?;
    writeln!(f, "    reach Y'     {}", chain.reach)?;
    for g in &chain.groups {
        writeln!(
            f,
            "    group c{}  value {}  points {}",
            g.class,
            g.value,
            g.points.len()
        )?;
    }
    Ok(())
}

fn slot_sizes(slots: &[Slot]) -> String {
    let mut line = String::new();
    for slot in slots {
        let _ = write!(line, " c{}.{}:{}", slot.class, slot.slot, slot.points.len());
    }
    line
}

fn min(v: &Array1<f64>) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &Array1<f64>) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}
