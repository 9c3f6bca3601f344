//! The compiler's rounding bound (`robmem::analysis::rounding`) is never
//! exceeded by the error actually observed: on random data sets, every norm,
//! logits output, float32 evaluation (robmem's evaluator, weights and every
//! intermediate rounded to f32) differs from float64 evaluation by at most the
//! bound, in score units (a logit is `scale` times a running maximum), on every
//! data point and probe. And a spec the bound refuses names float32.

mod support;

use robmem::analysis::separation::separation;
use robmem::eval::{evaluate, evaluate_f32};
use robmem::norm::Norm;
use robmem::pipeline::compile;
use robmem::spec::{NetworkSpec, OutputKind, ProjectionChoice, RadiusSpec};
use support::{all_probes, random_data, spec};

#[test]
fn observed_float32_error_stays_within_the_bound() {
    for (seed, n, d, c) in [(301, 80, 3, 2), (302, 120, 5, 4), (303, 60, 12, 3)] {
        let data = random_data(seed, n, d, c, false);
        for norm in [Norm::L1, Norm::L2, Norm::Linf, Norm::Lp(3.0)] {
            let sep = separation(data.points.view(), &data.labels, norm);
            let s = spec(
                norm,
                RadiusSpec::Max,
                OutputKind::Logits,
                ProjectionChoice::Auto,
            );
            let compiled = compile(&data, &s, &sep).unwrap();
            let (probes, _) = all_probes(&data, &compiled, norm, seed);
            let exact = evaluate(&compiled.network, probes.view());
            let rounded = evaluate_f32(&compiled.network, probes.view());
            let scale = compiled.program.output.scale;
            let observed = exact
                .iter()
                .zip(rounded.iter())
                .map(|(a, b)| (a - f64::from(*b)).abs() / scale)
                .fold(0.0, f64::max);
            let bound = compiled.summary.rounding_bound;
            assert!(
                observed <= bound,
                "seed {seed} {norm}: observed {observed:e} > bound {bound:e}"
            );
            assert!(observed > 0.0, "f32 evaluation should round somewhere");
        }
    }
}

#[test]
fn refused_precision_names_float32_and_the_figures() {
    // 2000 points on a line: delta' is tiny next to the spread of the data.
    let data = random_data(8, 2000, 1, 2, false);
    let sep = separation(data.points.view(), &data.labels, Norm::L2);
    let s = spec(
        Norm::L2,
        RadiusSpec::OfLimit(0.5),
        OutputKind::Logits,
        ProjectionChoice::Auto,
    );
    // The planner knows the arithmetic: it refuses before building, and
    // says that real arithmetic would certify the radius.
    let err = compile(&data, &s, &sep).unwrap_err().to_string();
    assert!(
        err.contains("is certified in real arithmetic but not in float32"),
        "{err}"
    );
    assert!(
        err.contains("float32 rounding could exceed the network's margin"),
        "{err}"
    );
}

#[test]
fn the_bound_does_not_grow_with_depth() {
    // The same points repeated four times (same labels): the same
    // separation, projection and scores, four times the running maxima's
    // depth. Section 6.1 makes the bound depth-free; one rounding per layer
    // would multiply its depth term by about four.
    use robmem::data::{Dataset, LabelValue, Provenance};
    let base = random_data(41, 150, 3, 2, false);
    let times = 4;
    let points = ndarray::concatenate(ndarray::Axis(0), &vec![base.points.view(); times]).unwrap();
    let raw: Vec<LabelValue> = (0..times)
        .flat_map(|_| base.labels.iter())
        .map(|&l| base.classes.values[l as usize].clone())
        .collect();
    let repeated = Dataset::from_raw(
        points,
        &raw,
        Provenance::Generated {
            description: "repeated".into(),
        },
    )
    .unwrap();
    // Every point keeps its score: condensation would cover the repeats.
    let s = NetworkSpec {
        condense: robmem::spec::CondenseChoice::None,
        ..spec(
            Norm::L2,
            RadiusSpec::OfLimit(0.5),
            OutputKind::Logits,
            ProjectionChoice::Identity,
        )
    };
    let compile_one = |data: &Dataset| {
        let sep = separation(data.points.view(), &data.labels, Norm::L2);
        compile(data, &s, &sep).unwrap()
    };
    let (shallow, deep) = (compile_one(&base), compile_one(&repeated));
    assert!(
        deep.network.depth() >= 3 * shallow.network.depth(),
        "depths {} and {}",
        shallow.network.depth(),
        deep.network.depth()
    );
    let (a, b) = (shallow.summary.rounding_bound, deep.summary.rounding_bound);
    assert!(
        (b - a).abs() <= 1e-12 * a,
        "depth {}: {a:e}, depth {}: {b:e}",
        shallow.network.depth(),
        deep.network.depth()
    );
}
