//! The compiled network gives every data point its label on its whole ball:
//! random data sets (several N, d, C), every norm, both outputs, every
//! projection strategy; probes at extreme points of each ball, on its
//! surface, and in the worst directions (towards the nearest
//! differently-labelled point, in input space and through the projection).

mod support;

use robmem::analysis::separation::separation;
use robmem::data::Dataset;
use robmem::eval::evaluate;
use robmem::norm::Norm;
use robmem::pipeline::{compile, Compiled};
use robmem::spec::{Budget, OutputKind, ProjectionChoice, RadiusSpec};
use support::{all_probes, argmax, expected, random_data, spec};

/// Every probe of every ball gets the label of its point in float64.
fn assert_robust(data: &Dataset, compiled: &Compiled, norm: Norm, seed: u64) {
    let (inputs, owners) = all_probes(data, compiled, norm, seed);
    let y = evaluate(&compiled.network, inputs.view());
    let kind = compiled.program.output.kind;
    for (r, row) in y.rows().into_iter().enumerate() {
        let i = owners[r];
        let got = match kind {
            OutputKind::Logits => argmax(row) as f64,
            OutputKind::Label => row[0],
        };
        let want = expected(data, kind, i);
        assert_eq!(
            got, want,
            "point {i}, probe row {r}: network says {got}, label {want}"
        );
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
    let supremum = at_max.plan.scores().unwrap().candidate.sigma_max;
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

/// `width = auto` with many projected coordinates per class takes several
/// accumulators per class when that makes the network smaller: fewer
/// parameters and layers than one accumulator (the narrowest network at the
/// same m), the same radius, and every probe still right.
#[test]
fn auto_width_takes_the_accumulators_of_the_smallest_network() {
    let (n, d, classes) = (240, 24, 2);
    let data = random_data(31, n, d, classes, false);
    let sep = separation(data.points.view(), &data.labels, Norm::L2);
    let auto = spec(
        Norm::L2,
        RadiusSpec::OfLimit(0.5),
        OutputKind::Logits,
        ProjectionChoice::Identity,
    );
    let smallest = compile(&data, &auto, &sep).unwrap();
    let mut narrow_spec = auto.clone();
    narrow_spec.width = Budget::AtMost(d + 2 * classes);
    let narrow = compile(&data, &narrow_spec, &sep).unwrap();
    let (s, w) = (&smallest.summary, &narrow.summary);
    assert_eq!((s.m, w.m), (d, d));
    assert_eq!(w.slots_per_label, 1);
    assert!(s.slots_per_label > 1, "auto kept one accumulator");
    assert_eq!(s.width, d + 2 * classes * s.slots_per_label);
    assert!(
        s.parameters < w.parameters && s.depth < w.depth,
        "auto: {} parameters, depth {}; one accumulator: {}, depth {}",
        s.parameters,
        s.depth,
        w.parameters,
        w.depth
    );
    assert_eq!(s.radius, w.radius);
    assert_robust(&data, &smallest, Norm::L2, 31);
}
