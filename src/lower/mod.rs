//! Lowering: from the stage IR ([`StageProgram`]) to dense layers
//! ([`LayerNetwork`]).
//!
//! Layer 1 is the projection `u = relu(U x + t - U mu)`. Every later hidden
//! layer starts with a copy of `u` (neurons `0..m`) for as long as some score
//! or distance is still to be computed, followed by the construction's gadget
//! neurons (`logits` for section 5A, `label` for section 5B, `distances` for
//! section 8). The last layer is affine and produces the outputs.
//!
//! Lowering does not optimise: neurons that turn out constant or unused are
//! left to the passes.

mod affine;
mod distances;
mod label;
mod logits;

pub use affine::{Affine, LayerBuilder};

use crate::ir::layers::{Activation, Dense, LayerNetwork, Role};
use crate::ir::stages::{Construction, Reduction, ScoreStage, StageProgram};

/// Lowers a stage program to dense layers.
pub fn lower(program: &StageProgram) -> LayerNetwork {
    let mut lowering = Lowering {
        program,
        layers: vec![projection_layer(program)],
    };
    match &program.construction {
        Construction::Scores { reduction, .. } => match reduction {
            Reduction::RunningMax { slots, classes, .. } => {
                logits::lower(&mut lowering, slots, *classes)
            }
            Reduction::LabelGroups {
                groups,
                kappa,
                reach,
            } => label::lower(&mut lowering, groups, *kappa, *reach),
            Reduction::Constant => lowering.constant_output(),
        },
        Construction::Distances(stage) => distances::lower(&mut lowering, stage),
    }
    let network = LayerNetwork {
        input_dim: program.input_dim,
        layers: lowering.layers,
    };
    debug_assert_eq!(network.validate(), Ok(()));
    network
}

/// Layer 1: `u = relu(U x + (t - U mu))` (specs/construction.md section 4, "First layer").
fn projection_layer(program: &StageProgram) -> Dense {
    let p = &program.projection;
    let bias = &p.shift - &p.matrix.dot(&p.centre);
    Dense {
        weight: p.matrix.clone(),
        bias,
        activation: Activation::Relu,
        roles: (0..p.m())
            .map(|coordinate| Role::Projected { coordinate })
            .collect(),
    }
}

/// Lowering in progress: the layers emitted so far.
struct Lowering<'a> {
    program: &'a StageProgram,
    layers: Vec<Dense>,
}

impl Lowering<'_> {
    /// Projected dimension m (the copy of `u` occupies neurons `0..m`).
    fn m(&self) -> usize {
        self.program.projection.m()
    }

    /// Score of data point `j`, `s_j(u) = <z_j, u> + c_j`, over the current
    /// layer. Valid only while the current layer carries `u` in `0..m`.
    fn score(&self, j: usize) -> Affine {
        let scores = self.scores();
        Affine {
            terms: scores.centres.row(j).iter().copied().enumerate().collect(),
            constant: scores.offsets[j],
        }
    }

    /// The score stage (score networks only).
    fn scores(&self) -> &ScoreStage {
        self.program
            .scores()
            .expect("score gadgets are lowered only for score networks")
    }

    /// Starts a hidden layer, copying `u` into neurons `0..m` when `keep_u`.
    fn hidden_layer(&self, keep_u: bool) -> LayerBuilder {
        let mut layer = LayerBuilder::new();
        if keep_u {
            for coordinate in 0..self.m() {
                layer.push(Affine::neuron(coordinate), Role::Projected { coordinate });
            }
        }
        layer
    }

    /// Appends a finished layer.
    fn emit(&mut self, layer: LayerBuilder, activation: Activation) {
        let inputs = self
            .layers
            .last()
            .map_or(self.program.input_dim, Dense::outputs);
        self.layers.push(layer.finish(inputs, activation));
    }

    /// The output layer of a one-label network: the constant class 0 (logits)
    /// or its value (label).
    fn constant_output(&mut self) {
        let output = &self.program.output;
        let mut layer = LayerBuilder::new();
        for index in 0..output.outputs {
            layer.push(
                Affine::constant(-output.label_shift),
                Role::Output { index },
            );
        }
        self.emit(layer, Activation::Identity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::separation::separation;
    use crate::construct::assemble::{assemble, Assembly};
    use crate::data::{Dataset, LabelValue, Provenance};
    use crate::norm::Norm;
    use crate::spec::OutputKind;
    use ndarray::{Array1, Array2, Axis};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Plain f64 forward pass (the tests of `eval` cover the real evaluator).
    fn forward(net: &LayerNetwork, x: &Array1<f64>) -> Array1<f64> {
        let mut h = x.clone();
        for layer in &net.layers {
            h = layer.weight.dot(&h) + &layer.bias;
            if layer.activation == Activation::Relu {
                h.mapv_inplace(|v| v.max(0.0));
            }
        }
        h
    }

    fn random_data(seed: u64, n: usize, d: usize, labels: u32) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let points = Array2::from_shape_fn((n, d), |_| rng.gen_range(-1.0..1.0));
        let raw: Vec<LabelValue> = (0..n)
            .map(|i| LabelValue::Number(((i as u32) % labels) as f64 * 2.0 - 3.0))
            .collect();
        let provenance = Provenance::Generated {
            description: "test".into(),
        };
        Dataset::from_raw(points, &raw, provenance).unwrap()
    }

    /// Identity projection at `fraction` of the largest certified l2 radius.
    fn compile(
        data: &Dataset,
        output: OutputKind,
        slots: usize,
        fraction: f64,
    ) -> (StageProgram, LayerNetwork) {
        let d = data.dim();
        let centre = data.points.mean_axis(Axis(0)).unwrap();
        let projected = &data.points - &centre;
        let delta = separation(projected.view(), &data.labels, Norm::L2).delta;
        let matrix = Array2::eye(d);
        let program = assemble(&Assembly {
            data,
            norm: Norm::L2,
            radius: fraction * delta / 2.0,
            strategy: "identity",
            matrix: &matrix,
            centre: &centre,
            norm_bound: 1.0,
            projected: &projected,
            delta_prime: delta,
            output,
            slots_per_class: slots,
            covering: None,
        })
        .unwrap();
        let net = lower(&program);
        (program, net)
    }

    fn decide(program: &StageProgram, y: &Array1<f64>) -> f64 {
        match program.output.kind {
            OutputKind::Logits => {
                let best = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                y.iter().position(|&v| v == best).unwrap() as f64
            }
            OutputKind::Label => y[0],
        }
    }

    fn expected(data: &Dataset, output: OutputKind, i: usize) -> f64 {
        match output {
            OutputKind::Logits => data.labels[i] as f64,
            OutputKind::Label => match &data.classes.values[data.labels[i] as usize] {
                LabelValue::Number(v) => *v,
                LabelValue::Name(_) => data.labels[i] as f64,
            },
        }
    }

    /// Every point, random points of its ball's surface, and the worst
    /// direction (towards the nearest differently-labelled point) keep the label.
    fn assert_robust(data: &Dataset, program: &StageProgram, net: &LayerNetwork, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let sigma = program.radius;
        for i in 0..data.len() {
            let x = data.points.row(i).to_owned();
            let want = expected(data, program.output.kind, i);
            let mut probes = vec![x.clone()];
            for _ in 0..8 {
                let v: Array1<f64> =
                    Array1::from_shape_fn(data.dim(), |_| rng.gen_range(-1.0..1.0));
                let norm = v.dot(&v).sqrt();
                probes.push(&x + &(v * (sigma / norm)));
            }
            let nearest = (0..data.len())
                .filter(|&j| data.labels[j] != data.labels[i])
                .min_by(|&a, &b| {
                    let da = (&data.points.row(a) - &x).mapv(|v| v * v).sum();
                    let db = (&data.points.row(b) - &x).mapv(|v| v * v).sum();
                    da.total_cmp(&db)
                })
                .unwrap();
            let towards = &data.points.row(nearest) - &x;
            let norm = towards.dot(&towards).sqrt();
            probes.push(&x + &(towards * (sigma / norm)));
            for probe in probes {
                let y = forward(net, &probe);
                let got = decide(program, &y);
                if program.output.kind == OutputKind::Label {
                    assert_eq!(got, want, "point {i}: label output must be exact");
                } else {
                    assert_eq!(got, want, "point {i}: logits {y}");
                    let true_logit = y[want as usize];
                    let margin = y
                        .iter()
                        .enumerate()
                        .filter(|&(c, _)| c != want as usize)
                        .map(|(_, &v)| true_logit - v)
                        .fold(f64::INFINITY, f64::min);
                    assert!(margin >= 1.0 - 1e-9, "point {i}: margin {margin} < 1");
                }
            }
        }
    }

    #[test]
    fn running_max_memorizes_random_data_robustly() {
        for (seed, n, d, c, slots) in [
            (1, 40, 3, 2, 1),
            (2, 60, 5, 4, 1),
            (3, 90, 4, 3, 3),
            (4, 50, 2, 5, 8),
        ] {
            let data = random_data(seed, n, d, c);
            let (program, net) = compile(&data, OutputKind::Logits, slots, 0.9);
            assert_eq!(net.validate(), Ok(()));
            assert_eq!(net.output_dim(), c as usize);
            assert_robust(&data, &program, &net, seed);
        }
    }

    #[test]
    fn label_groups_output_the_label_exactly() {
        for (seed, n, d, c) in [(5, 40, 3, 2), (6, 60, 4, 5), (7, 30, 3, 30)] {
            let data = random_data(seed, n, d, c);
            let (program, net) = compile(&data, OutputKind::Label, 1, 0.9);
            assert_eq!(net.validate(), Ok(()));
            assert_eq!(net.output_dim(), 1);
            assert!(net.width() <= d + 7, "width {} for m = {d}", net.width());
            assert_robust(&data, &program, &net, seed);
        }
    }

    #[test]
    fn label_width_stays_bounded_when_one_point_groups_delay_closes() {
        // Class sizes alternate long runs of one-point classes with two-point
        // classes, which finish faster than the closes can take them.
        let sizes = [3, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 3, 2, 2, 1];
        let raw: Vec<LabelValue> = sizes
            .iter()
            .enumerate()
            .flat_map(|(c, &n)| std::iter::repeat_n(LabelValue::Number(c as f64), n))
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let points = Array2::from_shape_fn((raw.len(), 3), |_| rng.gen_range(-1.0..1.0));
        let provenance = Provenance::Generated {
            description: "test".into(),
        };
        let data = Dataset::from_raw(points, &raw, provenance).unwrap();
        let (program, net) = compile(&data, OutputKind::Label, 1, 0.9);
        let bound = 3 + crate::construct::plan::LABEL_OVERHEAD;
        assert!(net.width() <= bound, "width {} > {bound}", net.width());
        assert_robust(&data, &program, &net, 12);
    }

    #[test]
    fn slots_trade_width_for_depth() {
        let data = random_data(9, 120, 3, 2);
        let (_, narrow) = compile(&data, OutputKind::Logits, 1, 0.5);
        let (_, wide) = compile(&data, OutputKind::Logits, 4, 0.5);
        assert_eq!(narrow.width(), 3 + 2 * 2);
        assert_eq!(wide.width(), 3 + 2 * 2 * 4);
        assert!(
            wide.depth() < narrow.depth() / 2,
            "{} vs {}",
            wide.depth(),
            narrow.depth()
        );
    }

    #[test]
    fn distance_label_chain_outputs_the_label_exactly_on_linf_balls() {
        use crate::construct::distances::{assemble_distances, DistanceAssembly};
        use crate::ir::stages::DistanceNorm;
        for (seed, n, d, c, slots) in [(13, 40, 3, 2, 1), (14, 60, 3, 4, 3), (15, 12, 2, 12, 1)] {
            let data = random_data(seed, n, d, c);
            let centre = data.points.mean_axis(Axis(0)).unwrap();
            let mapped = &data.points - &centre;
            let delta = separation(mapped.view(), &data.labels, Norm::Linf).delta;
            let matrix = Array2::eye(d);
            let program = assemble_distances(&DistanceAssembly {
                data: &data,
                norm: Norm::Linf,
                distance_norm: DistanceNorm::Linf,
                radius: 0.95 * delta / 2.0,
                strategy: "identity",
                matrix: &matrix,
                centre: &centre,
                norm_bound: 1.0,
                mapped: &mapped,
                delta_prime: delta,
                slots_per_class: slots,
                output: OutputKind::Label,
                condensed: None,
            })
            .unwrap();
            let net = lower(&program);
            assert_eq!(net.validate(), Ok(()));
            assert_eq!(net.output_dim(), 1);
            // The chain: one best carry, one step pair per further class.
            let steps = net
                .layers
                .iter()
                .flat_map(|l| &l.roles)
                .filter(|r| matches!(r, Role::Step { part: 0, .. }))
                .count();
            assert_eq!(steps, c as usize - 1);
            // l2 probes of length sigma lie in the linf ball; so do corners.
            assert_robust(&data, &program, &net, seed);
            let sigma = program.radius;
            for i in 0..data.len() {
                for corner in 0..(1usize << d) {
                    let x = Array1::from_shape_fn(d, |k| {
                        let sign = if corner >> k & 1 == 1 { 1.0 } else { -1.0 };
                        data.points[[i, k]] + sign * sigma
                    });
                    let y = forward(&net, &x);
                    assert_eq!(y[0], expected(&data, OutputKind::Label, i), "point {i}");
                }
            }
        }
    }
}
