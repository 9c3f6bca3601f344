//! The compiled network gives every data point its label on its whole ball:
//! random data sets (several N, d, C), every norm, both outputs, every
//! projection strategy; probes at extreme points of each ball, on its
//! surface, and in the worst directions (towards the nearest
//! differently-labelled point, in input space and through the projection).

use ndarray::{Array1, Array2, ArrayView1};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::analysis::separation::separation;
use robmem::data::{Dataset, LabelValue, Provenance};
use robmem::eval::evaluate;
use robmem::norm::Norm;
use robmem::pipeline::{compile, Compiled};
use robmem::spec::{Budget, NetworkSpec, OutputKind, Precision, ProjectionChoice, RadiusSpec};

fn random_data(seed: u64, n: usize, d: usize, labels: usize, named: bool) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let points = Array2::from_shape_fn((n, d), |_| rng.gen_range(-1.0..1.0));
    let raw: Vec<LabelValue> = (0..n)
        .map(|i| {
            let c = (i * 7) % labels; // a permutation of 0..labels when gcd(7, labels) = 1
            if named {
                LabelValue::Name(format!("class{c}"))
            } else {
                LabelValue::Number(c as f64)
            }
        })
        .collect();
    let provenance = Provenance::Generated {
        description: format!("random({seed})"),
    };
    Dataset::from_raw(points, &raw, provenance).unwrap()
}

fn spec(
    norm: Norm,
    radius: RadiusSpec,
    output: OutputKind,
    projection: ProjectionChoice,
) -> NetworkSpec {
    NetworkSpec {
        name: "test".into(),
        span: (0, 0).into(),
        data: 0,
        data_span: (0, 0).into(),
        norm,
        radius,
        radius_span: (0, 0).into(),
        width: Budget::Auto,
        depth: Budget::Auto,
        output,
        projection,
        seed: 3,
        precision: Precision::F32,
    }
}

/// A vector of l_p length `length` in direction `v`.
fn scaled_to(norm: Norm, v: Array1<f64>, length: f64) -> Array1<f64> {
    let current = norm.length(v.as_slice().unwrap());
    v * (length / current)
}

/// Extreme and surface points of the closed l_p ball of radius sigma around x.
fn probes(norm: Norm, x: ArrayView1<f64>, sigma: f64, rng: &mut ChaCha8Rng) -> Vec<Array1<f64>> {
    let d = x.len();
    let mut out = vec![x.to_owned()];
    for _ in 0..6 {
        let v: Array1<f64> = Array1::from_shape_fn(d, |_| rng.gen_range(-1.0..1.0));
        out.push(&x + &scaled_to(norm, v, sigma));
    }
    match norm {
        Norm::Linf => {
            for _ in 0..6 {
                let corner: Array1<f64> =
                    Array1::from_shape_fn(d, |_| if rng.gen_bool(0.5) { sigma } else { -sigma });
                out.push(&x + &corner);
            }
        }
        Norm::L1 => {
            for k in 0..d.min(6) {
                for sign in [-1.0, 1.0] {
                    let mut y = x.to_owned();
                    y[k] += sign * sigma;
                    out.push(y);
                }
            }
        }
        _ => {}
    }
    out
}

/// The network's decision at each row: argmax for logits, the value for label.
fn decisions(compiled: &Compiled, inputs: &Array2<f64>) -> Vec<f64> {
    let y = evaluate(&compiled.network, inputs.view());
    y.rows()
        .into_iter()
        .map(|row| match compiled.program.output.kind {
            OutputKind::Logits => {
                let best = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                row.iter().position(|&v| v == best).unwrap() as f64
            }
            OutputKind::Label => row[0],
        })
        .collect()
}

fn expected(data: &Dataset, output: OutputKind, i: usize) -> f64 {
    let class = data.labels[i] as usize;
    match (output, &data.classes.values[class]) {
        (OutputKind::Label, LabelValue::Number(v)) => *v,
        _ => class as f64,
    }
}

fn assert_robust(data: &Dataset, compiled: &Compiled, norm: Norm, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sigma = compiled.program.radius;
    let u = &compiled.program.projection.matrix;
    let z = &compiled.program.scores.centres;
    for i in 0..data.len() {
        let x = data.points.row(i);
        let mut all = probes(norm, x, sigma, &mut rng);
        let others = (0..data.len()).filter(|&j| data.labels[j] != data.labels[i]);
        let nearest_input = others
            .clone()
            .min_by(|&a, &b| {
                let da = norm.distance(
                    data.points.row(a).as_slice().unwrap(),
                    x.as_slice().unwrap(),
                );
                let db = norm.distance(
                    data.points.row(b).as_slice().unwrap(),
                    x.as_slice().unwrap(),
                );
                da.total_cmp(&db)
            })
            .unwrap();
        all.push(&x + &scaled_to(norm, &data.points.row(nearest_input) - &x, sigma));
        let nearest_projected = others
            .min_by(|&a, &b| {
                let da = (&z.row(a) - &z.row(i)).mapv(|v| v * v).sum();
                let db = (&z.row(b) - &z.row(i)).mapv(|v| v * v).sum();
                da.total_cmp(&db)
            })
            .unwrap();
        let towards = u.t().dot(&(&z.row(nearest_projected) - &z.row(i)));
        all.push(&x + &scaled_to(norm, towards, sigma));
        let inputs = Array2::from_shape_fn((all.len(), data.dim()), |(r, k)| all[r][k]);
        let want = expected(data, compiled.program.output.kind, i);
        for (r, got) in decisions(compiled, &inputs).into_iter().enumerate() {
            assert_eq!(
                got, want,
                "point {i}, probe {r}: network says {got}, label {want}"
            );
        }
    }
}

#[test]
fn every_norm_and_output_memorizes_robustly() {
    let norms = [Norm::L1, Norm::L2, Norm::Linf, Norm::Lp(3.0)];
    let cases = [(11, 60, 4, 2), (12, 80, 6, 3), (13, 50, 3, 5)];
    for (seed, n, d, c) in cases {
        let data = random_data(seed, n, d, c, false);
        for norm in norms {
            let delta = separation(data.points.view(), &data.labels, norm).delta;
            let sep = separation(data.points.view(), &data.labels, norm);
            assert_eq!(sep.delta, delta);
            for output in [OutputKind::Logits, OutputKind::Label] {
                let s = spec(norm, RadiusSpec::Max, output, ProjectionChoice::Auto);
                let compiled = compile(&data, &s, &sep).unwrap();
                assert!(compiled.summary.ratio.unwrap() > 0.0);
                assert_robust(&data, &compiled, norm, seed);
            }
        }
    }
}

#[test]
fn every_projection_strategy_memorizes_robustly() {
    // N - 1 < d so that span applies too.
    let data = random_data(21, 12, 20, 3, true);
    let sep = separation(data.points.view(), &data.labels, Norm::L2);
    for projection in [
        ProjectionChoice::Identity,
        ProjectionChoice::Span,
        ProjectionChoice::Random,
        ProjectionChoice::Pca,
        ProjectionChoice::Auto,
    ] {
        for output in [OutputKind::Logits, OutputKind::Label] {
            let s = spec(Norm::L2, RadiusSpec::OfLimit(0.3), output, projection);
            let compiled = compile(&data, &s, &sep)
                .unwrap_or_else(|e| panic!("{projection:?} {output:?}: {e}"));
            assert_robust(&data, &compiled, Norm::L2, 21);
        }
    }
}

#[test]
fn one_label_per_point_works_with_label_output() {
    let data = random_data(31, 40, 5, 40, false);
    assert_eq!(data.classes.len(), 40);
    let sep = separation(data.points.view(), &data.labels, Norm::L2);
    let s = spec(
        Norm::L2,
        RadiusSpec::OfLimit(0.5),
        OutputKind::Label,
        ProjectionChoice::Auto,
    );
    let compiled = compile(&data, &s, &sep).unwrap();
    assert!(compiled.summary.width <= compiled.summary.m + robmem::construct::plan::LABEL_OVERHEAD);
    assert_robust(&data, &compiled, Norm::L2, 31);
}

#[test]
fn width_budget_is_respected_and_radius_beyond_it_is_an_error_naming_both_figures() {
    let data = random_data(41, 200, 16, 4, false);
    let sep = separation(data.points.view(), &data.labels, Norm::L2);
    let mut s = spec(
        Norm::L2,
        RadiusSpec::Max,
        OutputKind::Logits,
        ProjectionChoice::Pca,
    );
    s.width = Budget::AtMost(14);
    let at_max = compile(&data, &s, &sep).unwrap();
    assert!(at_max.summary.width <= 14);
    let supremum = at_max.plan.candidate.sigma_max;
    s.radius = RadiusSpec::Absolute(supremum * 1.01);
    let err = compile(&data, &s, &sep).unwrap_err().to_string();
    assert!(err.contains("within width 14"), "{err}");
    assert!(err.contains(&format!("{supremum}")), "{err}");
    assert!(err.contains("width") && err.contains("certifies"), "{err}");
}

#[test]
fn wider_budget_gives_a_shallower_logits_network() {
    let data = random_data(51, 300, 6, 3, false);
    let sep = separation(data.points.view(), &data.labels, Norm::L2);
    let mut s = spec(
        Norm::L2,
        RadiusSpec::OfLimit(0.2),
        OutputKind::Logits,
        ProjectionChoice::Pca,
    );
    s.width = Budget::AtMost(12);
    let narrow = compile(&data, &s, &sep).unwrap();
    s.width = Budget::AtMost(60);
    let wide = compile(&data, &s, &sep).unwrap();
    assert!(wide.summary.width <= 60 && narrow.summary.width <= 12);
    assert!(
        wide.summary.depth * 3 < narrow.summary.depth,
        "{} vs {}",
        wide.summary.depth,
        narrow.summary.depth
    );
    assert_robust(&data, &wide, Norm::L2, 51);
}

#[test]
fn depth_budget_is_met_or_rejected_with_the_needed_depth() {
    let data = random_data(61, 120, 5, 2, false);
    let sep = separation(data.points.view(), &data.labels, Norm::L2);
    let mut s = spec(
        Norm::L2,
        RadiusSpec::OfLimit(0.2),
        OutputKind::Logits,
        ProjectionChoice::Pca,
    );
    s.depth = Budget::AtMost(12);
    let compiled = compile(&data, &s, &sep).unwrap();
    assert!(
        compiled.summary.depth <= 12,
        "depth {}",
        compiled.summary.depth
    );
    assert_robust(&data, &compiled, Norm::L2, 61);
    s.depth = Budget::AtMost(2);
    let err = compile(&data, &s, &sep).unwrap_err().to_string();
    assert!(err.contains("depth 2 is too small"), "{err}");
}
