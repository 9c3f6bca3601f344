//! The distance construction (specs/construction.md section 8) on hostile
//! tables: one feature in the thousands that varies by units, the others
//! small integers, a constant column, same-label duplicate rows, labels like
//! 20000001. In l1 and linf it reaches `radius = max` at 0.98 of the limit
//! or more in float32 (where the score construction cannot), and float32
//! runs in tract give every data point and every probe of its ball
//! (random surface points, linf corners, l1 vertices, towards the nearest
//! other-label point) its label.

mod support;

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::analysis::separation::separation;
use robmem::backend::onnx::{write_onnx, OnnxOptions};
use robmem::data::{Dataset, LabelValue, Provenance};
use robmem::ir::stages::Construction;
use robmem::norm::Norm;
use robmem::pipeline::{compile, CompileError, Compiled};
use robmem::spec::{
    Budget, CondenseChoice, ConstructionChoice, OutputKind, Precision, ProjectionChoice, RadiusSpec,
};
use robmem::verify::certificate::Semantics;
use std::collections::HashMap;
use support::{all_probes, argmax, spec, tract_run_f32};

/// A raw table: column 0 in [1500, 1550) by units, columns 1.. small
/// integers, the last column constant 7, every fifth row a duplicate of an
/// earlier row with the same label; rows equal to an earlier row of another
/// label are dropped (they could not be memorized at any radius).
fn raw_table(seed: u64, n: usize, d: usize) -> Dataset {
    raw_table_labelled(seed, n, d, &[20000001.0, 20000002.0, 7.0])
}

/// [`raw_table`] with the label values `values`.
fn raw_table_labelled(seed: u64, n: usize, d: usize, values: &[f64]) -> Dataset {
    assert!(d >= 3);
    table(seed, n, d, "raw table", |rng| {
        let mut row = vec![1500.0 + rng.gen_range(0..50) as f64];
        row.extend((1..d - 1).map(|_| rng.gen_range(0..6) as f64));
        row.push(7.0);
        (row, values[rng.gen_range(0..values.len())])
    })
}

/// `n` rows of dimension `d`: `fresh` makes a row and its label, every
/// fifth row repeats an earlier row with its label, and a row equal to an
/// earlier row of another label is drawn again.
fn table(
    seed: u64,
    n: usize,
    d: usize,
    name: &str,
    mut fresh: impl FnMut(&mut ChaCha8Rng) -> (Vec<f64>, f64),
) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut labels: Vec<f64> = Vec::new();
    let mut seen: HashMap<Vec<u64>, f64> = HashMap::new();
    while rows.len() < n {
        let (row, label) = if rows.len() % 5 == 4 {
            let i = rng.gen_range(0..rows.len());
            (rows[i].clone(), labels[i])
        } else {
            fresh(&mut rng)
        };
        let key: Vec<u64> = row.iter().map(|v| v.to_bits()).collect();
        match seen.get(&key) {
            Some(&l) if l != label => continue,
            _ => {
                seen.insert(key, label);
            }
        }
        rows.push(row);
        labels.push(label);
    }
    let points = Array2::from_shape_fn((n, d), |(i, k)| rows[i][k]);
    let raw: Vec<LabelValue> = labels.into_iter().map(LabelValue::Number).collect();
    let provenance = Provenance::Generated {
        description: format!("{name} {seed}"),
    };
    Dataset::from_raw(points, &raw, provenance).unwrap()
}

fn compile_with(
    data: &Dataset,
    norm: Norm,
    radius: RadiusSpec,
    construction: ConstructionChoice,
) -> Result<Compiled, CompileError> {
    compile_output(data, norm, radius, construction, OutputKind::Logits)
}

/// The label output, for short.
const LABEL: OutputKind = OutputKind::Label;

/// A label network at `radius = max`.
fn label_at_max(
    data: &Dataset,
    norm: Norm,
    c: ConstructionChoice,
) -> Result<Compiled, CompileError> {
    compile_output(data, norm, RadiusSpec::Max, c, LABEL)
}

fn compile_output(
    data: &Dataset,
    norm: Norm,
    radius: RadiusSpec,
    construction: ConstructionChoice,
    output: OutputKind,
) -> Result<Compiled, CompileError> {
    let mut spec = spec(norm, radius, output, ProjectionChoice::Auto);
    spec.construction = construction;
    // Every point a centre: these tests compare built shapes with the
    // planner's (condensed distance networks: tests/condense_distances.rs).
    spec.condense = CondenseChoice::None;
    if data.classes.values.iter().any(|v| match v {
        LabelValue::Number(x) => x.abs() >= 16777216.0,
        LabelValue::Name(_) => false,
    }) && output == OutputKind::Label
    {
        spec.precision = Precision::F64;
    }
    let sep = separation(data.points.view(), &data.labels, norm);
    compile(data, &spec, &sep)
}

/// The network as a float32 ONNX file.
fn f32_onnx(compiled: &Compiled, output: OutputKind) -> Vec<u8> {
    let options = OnnxOptions {
        precision: Precision::F32,
        output,
        ..OnnxOptions::default()
    };
    write_onnx(&compiled.network, &options).unwrap()
}

/// Runs every probe of every ball in tract (float32) and returns the
/// number of probes; panics on the first wrong label.
fn check_in_tract(data: &Dataset, compiled: &Compiled, norm: Norm, seed: u64) -> usize {
    let bytes = f32_onnx(compiled, OutputKind::Logits);
    let (inputs, owners) = all_probes(data, compiled, norm, seed);
    let outputs = tract_run_f32(&bytes, &inputs);
    for (row, &i) in outputs.rows().into_iter().zip(&owners) {
        assert_eq!(
            argmax(row),
            data.labels[i] as usize,
            "a probe of point {i}'s ball: logits {row}"
        );
    }
    owners.len()
}

#[test]
fn raw_tables_reach_the_limit_in_float32_in_l1_and_linf() {
    for (seed, n, d) in [(1, 150, 4), (2, 300, 6)] {
        let data = raw_table(seed, n, d);
        for norm in [Norm::L1, Norm::Linf] {
            let compiled =
                compile_with(&data, norm, RadiusSpec::Max, ConstructionChoice::Distances)
                    .unwrap_or_else(|e| panic!("seed {seed}, {norm}: {e}"));
            assert!(matches!(
                compiled.program.construction,
                Construction::Distances(_)
            ));
            let ratio = compiled.summary.ratio.unwrap();
            assert!(ratio >= 0.98, "seed {seed}, {norm}: ratio {ratio}");
            // The constant column is left out of the map.
            assert_eq!(compiled.summary.projection, "selection");
            assert_eq!(compiled.summary.m, d - 1);
            let probes = check_in_tract(&data, &compiled, norm, seed);
            assert!(probes > n * 8, "{probes} probes");
        }
    }
}

#[test]
fn fixed_radii_close_to_the_limit_compile_and_hold() {
    let data = raw_table(3, 200, 5);
    for (norm, fraction) in [(Norm::L1, 0.9), (Norm::Linf, 0.95)] {
        let compiled = compile_with(
            &data,
            norm,
            RadiusSpec::OfLimit(fraction),
            ConstructionChoice::Distances,
        )
        .unwrap();
        assert!((compiled.summary.ratio.unwrap() - fraction).abs() < 1e-12);
        check_in_tract(&data, &compiled, norm, 3);
    }
}

#[test]
fn auto_picks_distances_where_they_certify_more() {
    let data = raw_table(4, 120, 4);
    for norm in [Norm::L1, Norm::Linf] {
        let auto = compile_with(&data, norm, RadiusSpec::Max, ConstructionChoice::Auto).unwrap();
        let distances =
            compile_with(&data, norm, RadiusSpec::Max, ConstructionChoice::Distances).unwrap();
        let radius = auto.summary.radius.unwrap();
        assert!(radius >= distances.summary.radius.unwrap(), "{norm}");
        match compile_with(&data, norm, RadiusSpec::Max, ConstructionChoice::Scores) {
            Ok(scores) if scores.summary.radius.unwrap() >= radius => {
                assert_eq!(auto.summary.construction, "scores", "{norm}")
            }
            _ => {
                assert_eq!(auto.summary.construction, "distances", "{norm}");
                assert!(
                    auto.summary.construction_reason.contains("certifies"),
                    "{}",
                    auto.summary.construction_reason
                );
            }
        }
    }
    // l(3) has no distance construction: auto builds scores and says why.
    let data = support::random_data(5, 40, 3, 2, false);
    let l3 = compile_with(
        &data,
        Norm::Lp(3.0),
        RadiusSpec::Max,
        ConstructionChoice::Auto,
    )
    .unwrap();
    assert_eq!(l3.summary.construction, "scores");
    assert!(l3.summary.construction_reason.contains("l(3)"));
}

#[test]
fn distances_refuse_norms_they_do_not_measure() {
    let data = support::random_data(6, 30, 3, 2, false);
    let err = compile_with(
        &data,
        Norm::Lp(3.0),
        RadiusSpec::Max,
        ConstructionChoice::Distances,
    )
    .map(|c| c.summary.construction)
    .expect_err("l(3) is refused");
    assert!(err.to_string().contains("l1, l2 and linf"), "{err}");
}

#[test]
fn slots_trade_width_for_depth_within_the_budget() {
    let data = raw_table(7, 160, 4);
    let mut narrow_spec = spec(
        Norm::Linf,
        RadiusSpec::OfLimit(0.9),
        OutputKind::Logits,
        ProjectionChoice::Auto,
    );
    narrow_spec.construction = ConstructionChoice::Distances;
    // Every point a centre: the built shape is the planned one.
    narrow_spec.condense = CondenseChoice::None;
    let sep = separation(data.points.view(), &data.labels, Norm::Linf);
    let narrow = compile(&data, &narrow_spec, &sep).unwrap();
    let mut shallow_spec = narrow_spec.clone();
    shallow_spec.depth = Budget::AtMost(narrow.summary.depth / 3);
    let shallow = compile(&data, &shallow_spec, &sep).unwrap();
    assert!(shallow.summary.depth <= narrow.summary.depth / 3);
    assert!(shallow.summary.width > narrow.summary.width);
    assert!(shallow.summary.slots_per_label > 1);
    check_in_tract(&data, &shallow, Norm::Linf, 7);
    // The planned shape is what lowering builds.
    let sizes = data.class_sizes();
    for compiled in [&narrow, &shallow] {
        let k = compiled.summary.slots_per_label;
        let (width, depth) = robmem::construct::distance_plan::distance_shape(
            &sizes,
            data.dim(),
            robmem::ir::stages::DistanceNorm::Linf,
            k,
            OutputKind::Logits,
        );
        assert!(compiled.summary.width <= width);
        assert_eq!(compiled.summary.depth, depth);
    }
}

#[test]
fn l2_raw_tables_compile_in_float32_through_unit_directions() {
    // Reals in the small columns: the score construction's float32 rounding
    // grows with (R / delta)^2, the distance construction's only with R.
    let data = raw_table(8, 200, 5);
    for fraction in [0.5, 0.9] {
        let compiled = compile_with(
            &data,
            Norm::L2,
            RadiusSpec::OfLimit(fraction),
            ConstructionChoice::Distances,
        )
        .unwrap();
        assert_eq!(compiled.summary.projection, "directions");
        // Unit rows: r = sigma, so the map needs delta'_inf > 2 sigma.
        assert!(compiled.summary.delta_projected > 2.0 * compiled.summary.radius.unwrap());
        check_in_tract(&data, &compiled, Norm::L2, 8);
    }
    let best = compile_with(
        &data,
        Norm::L2,
        RadiusSpec::Max,
        ConstructionChoice::Distances,
    )
    .unwrap();
    assert!(
        best.summary.ratio.unwrap() > 0.9,
        "{:?}",
        best.summary.ratio
    );
}

#[test]
fn construction_errors_name_the_spec_line_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let spec = "dataset d { [0, 0] -> 0  [1, 0] -> 1  [0, 1] -> 1 }\n\
                network n {\n    data = d\n    norm = l(3)\n    construction = distances\n}\n";
    std::fs::write(dir.path().join("spec.rmem"), spec).unwrap();
    let out = support::robmem_in(dir.path(), &["compile", "spec.rmem"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("spec.rmem:5:20"), "{stderr}");
    assert!(stderr.contains("l1, l2 and linf"), "{stderr}");
    assert!(stderr.contains("construction = scores"), "{stderr}");

    let spec = "dataset d { [0, 0] -> 0  [1, 0] -> 1 }\n\
                network n { data = d  construction = distance }\n";
    std::fs::write(dir.path().join("spec.rmem"), spec).unwrap();
    let out = support::robmem_in(dir.path(), &["compile", "spec.rmem"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("spec.rmem:2:38"), "{stderr}");
    assert!(stderr.contains("distances"), "{stderr}");
}

/// Every data point and every probe of its ball (random surface points,
/// linf corners, l1 vertices, towards the nearest other-label point), as
/// one batch, with the point each row belongs to.
fn points_and_probes(
    data: &Dataset,
    compiled: &Compiled,
    norm: Norm,
    seed: u64,
) -> (Array2<f64>, Vec<usize>) {
    let (probes, owners) = all_probes(data, compiled, norm, seed);
    let rows = data.len() + owners.len();
    let inputs = Array2::from_shape_fn((rows, data.dim()), |(r, k)| {
        if r < data.len() {
            data.points[[r, k]]
        } else {
            probes[[r - data.len(), k]]
        }
    });
    let owners = (0..data.len()).chain(owners).collect();
    (inputs, owners)
}

/// The certificate `compile` would write for a label network in
/// `precision`: every semantics it claims, and the largest certified
/// distance between an output and its label in `semantics`.
fn certify_label(
    data: &Dataset,
    compiled: &Compiled,
    precision: Precision,
    semantics: robmem::verify::certificate::Semantics,
) -> (Vec<robmem::verify::certificate::Semantics>, f64) {
    let dir = tempfile::tempdir().unwrap();
    let onnx = dir.path().join("net.onnx");
    let options = OnnxOptions {
        precision,
        output: OutputKind::Label,
        ..OnnxOptions::default()
    };
    robmem::backend::onnx::save_onnx(&compiled.network, &options, &onnx).unwrap();
    let certified = robmem::backend::certificate::make_certificate(
        &robmem::backend::certificate::CertificateRequest {
            network: "test",
            program: &compiled.program,
            layers: &compiled.network,
            data,
            spec_path: std::path::Path::new("spec.rmem"),
            onnx_path: &onnx,
            certificate_path: &onnx.with_extension("cert.json"),
            search_up_to: None,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let cert = certified.certificate;
    assert_eq!(cert.output.kind, "label");
    assert_eq!(cert.construction.as_deref(), Some("distances"));
    let most = cert
        .points
        .distance
        .get(&semantics)
        .unwrap_or_else(|| panic!("{semantics:?} not certified: {:?}", certified.not_claimed))
        .iter()
        .cloned()
        .fold(0.0, f64::max);
    (cert.semantics, most)
}

/// Asserts that every output row is exactly its point's label value.
fn assert_exact_labels(data: &Dataset, outputs: &Array2<f64>, owners: &[usize], what: &str) {
    for (row, &i) in outputs.rows().into_iter().zip(owners) {
        let want = support::expected(data, OutputKind::Label, i);
        assert_eq!(row[0], want, "{what}: a probe of point {i}'s ball");
    }
}

#[test]
fn label_distance_networks_output_the_exact_label_on_every_ball_in_tract() {
    // Hostile raw data: a column in the thousands, small integers, a
    // constant column, duplicate rows, negative labels.
    let data = raw_table_labelled(11, 120, 4, &[-3.0, 5.0, 12.0, 40.0]);
    for norm in [Norm::L1, Norm::Linf] {
        for radius in [RadiusSpec::Max, RadiusSpec::OfLimit(0.9)] {
            let compiled =
                compile_output(&data, norm, radius, ConstructionChoice::Distances, LABEL)
                    .unwrap_or_else(|e| panic!("{norm}: {e}"));
            let Construction::Distances(stage) = &compiled.program.construction else {
                panic!("{norm}: not a distance network");
            };
            let chain = stage.label.as_ref().expect("a label chain");
            assert_eq!(chain.groups.len(), 4);
            assert_eq!(chain.kappa, 2.0 / stage.margin);
            assert_eq!(compiled.network.output_dim(), 1);
            if radius == RadiusSpec::Max {
                // The label gadget needs a quarter of the margin for its
                // gaps' rounding: a little below the logits' 0.98.
                let ratio = compiled.summary.ratio.unwrap();
                assert!(ratio >= 0.95, "{norm}: ratio {ratio}");
            }
            let bytes = f32_onnx(&compiled, OutputKind::Label);
            let (inputs, owners) = points_and_probes(&data, &compiled, norm, 11);
            assert!(owners.len() > 120 * 8, "{} probes", owners.len());
            let outputs = tract_run_f32(&bytes, &inputs);
            assert_exact_labels(&data, &outputs, &owners, &format!("{norm} float32"));
            // The checker certifies it in float32, as compile planned.
            let (_, most) = certify_label(&data, &compiled, Precision::F32, Semantics::Float32);
            assert!(most < 0.5, "{norm}: distance {most}");
        }
    }
}

#[test]
fn big_labels_in_float64_and_the_label_tail_costs_a_layer_per_class() {
    let data = raw_table_labelled(12, 90, 5, &[20000001.0, -3.0, 7.0]);
    for norm in [Norm::L1, Norm::Linf] {
        let label = label_at_max(&data, norm, ConstructionChoice::Distances)
            .unwrap_or_else(|e| panic!("{norm}: {e}"));
        let (inputs, owners) = points_and_probes(&data, &label, norm, 12);
        let outputs = robmem::eval::evaluate(&label.network, inputs.view());
        assert_exact_labels(&data, &outputs, &owners, &format!("{norm} float64"));
        let (claimed, most) = certify_label(&data, &label, Precision::F64, Semantics::Float64);
        assert_eq!(claimed, [Semantics::Real, Semantics::Float64], "{norm}");
        assert!(most < 0.5, "{norm}: distance {most}");
        // float32 cannot carry 20000001: refused with the fix.
        let mut spec32 = spec(
            norm,
            RadiusSpec::Max,
            OutputKind::Label,
            ProjectionChoice::Auto,
        );
        spec32.construction = ConstructionChoice::Distances;
        let sep = separation(data.points.view(), &data.labels, norm);
        let err = compile(&data, &spec32, &sep)
            .map(|c| c.summary.depth)
            .expect_err("float32 cannot carry 20000001");
        assert!(err.to_string().contains("not a float32 number"), "{err}");
        // The same data as logits: the label tail adds C + 1 layers.
        let logits =
            compile_with(&data, norm, RadiusSpec::Max, ConstructionChoice::Distances).unwrap();
        assert_eq!(label.summary.depth, logits.summary.depth + 3 + 1, "{norm}");
        let sizes = data.class_sizes();
        let (width, depth) = robmem::construct::distance_plan::distance_shape(
            &sizes,
            label.summary.m,
            match norm {
                Norm::L1 => robmem::ir::stages::DistanceNorm::L1,
                _ => robmem::ir::stages::DistanceNorm::Linf,
            },
            1,
            OutputKind::Label,
        );
        assert_eq!(label.summary.depth, depth);
        assert!(label.summary.width <= width);
    }
}

#[test]
fn auto_considers_distances_for_label_output() {
    let data = raw_table_labelled(13, 120, 4, &[-3.0, 5.0, 12.0]);
    for norm in [Norm::L1, Norm::Linf] {
        let auto = label_at_max(&data, norm, ConstructionChoice::Auto).unwrap();
        assert!(
            !auto.summary.construction_reason.contains("output = label"),
            "{}",
            auto.summary.construction_reason
        );
        // On raw tables the distances certify more.
        assert_eq!(auto.summary.construction, "distances", "{norm}");
        assert!(auto.summary.construction_reason.contains("certifies"));
    }
}

/// A wide raw table: column 0 in [1500, 1550) by units, then reals in
/// [0, 10) (two decimals) and small integers 0..5 in turn, the last column
/// constant 7, duplicates as in [`table`].
fn wide_table(seed: u64, n: usize, d: usize) -> Dataset {
    table(seed, n, d, "wide table", |rng| {
        let mut row = vec![1500.0 + rng.gen_range(0..50) as f64];
        row.extend((1..d - 1).map(|k| {
            if k % 2 == 1 {
                (rng.gen_range(0.0..10.0f64) * 100.0).round() / 100.0
            } else {
                rng.gen_range(0..6) as f64
            }
        }));
        row.push(7.0);
        (row, rng.gen_range(0..3) as f64)
    })
}

/// The parameters of the l_inf distance network over every non-constant
/// coordinate (the identity map less the constant column).
fn identity_parameters(data: &Dataset, slots: usize) -> u64 {
    robmem::construct::distance_plan::Shape::new(
        data.dim(),
        &data.class_sizes(),
        data.dim() - 1,
        robmem::ir::stages::DistanceNorm::Linf,
        slots,
        OutputKind::Logits,
    )
    .parameters()
}

/// The l_inf separation of the data on the kept coordinates of a
/// selection (read from the stage program's matrix), by brute force.
fn separation_on_selection(data: &Dataset, compiled: &Compiled) -> f64 {
    let matrix = &compiled.program.projection.matrix;
    let kept: Vec<usize> = matrix
        .rows()
        .into_iter()
        .map(|row| {
            // A selection row is one unit vector.
            assert_eq!(row.iter().filter(|&&w| w != 0.0).count(), 1);
            row.iter().position(|&w| w == 1.0).unwrap()
        })
        .collect();
    let mut smallest = f64::INFINITY;
    for i in 0..data.len() {
        for j in i + 1..data.len() {
            if data.labels[i] != data.labels[j] {
                let gap = kept
                    .iter()
                    .map(|&k| (data.points[[i, k]] - data.points[[j, k]]).abs())
                    .fold(0.0, f64::max);
                smallest = smallest.min(gap);
            }
        }
    }
    smallest
}

#[test]
fn linf_selections_narrow_wide_tables_at_a_fixed_radius() {
    for (seed, n, d) in [(11, 150, 64), (12, 120, 200)] {
        let data = wide_table(seed, n, d);
        let compiled = compile_with(
            &data,
            Norm::Linf,
            RadiusSpec::OfLimit(0.5),
            ConstructionChoice::Distances,
        )
        .unwrap_or_else(|e| panic!("d = {d}: {e}"));
        let summary = &compiled.summary;
        assert_eq!(summary.projection, "selection", "d = {d}");
        assert!(summary.m <= (d - 1) / 2, "d = {d}: K = {}", summary.m);
        assert!((summary.ratio.unwrap() - 0.5).abs() < 1e-12);
        let identity = identity_parameters(&data, summary.slots_per_label);
        assert!(
            (summary.parameters as u64) * 4 < identity,
            "d = {d}: {} parameters against {identity} for the identity",
            summary.parameters
        );
        // delta'_inf is the exact separation on the kept coordinates (up to
        // the centring's rounding), and it leaves room for 2 sigma.
        let exact = separation_on_selection(&data, &compiled);
        assert!(
            (summary.delta_projected - exact).abs() <= 1e-9 * exact,
            "{} against {exact}",
            summary.delta_projected
        );
        assert!(summary.delta_projected > 2.0 * summary.radius.unwrap());
        let probes = check_in_tract(&data, &compiled, Norm::Linf, seed);
        assert!(probes > n * 8, "{probes} probes");
    }
}

#[test]
fn a_width_budget_below_the_identity_gets_a_selection_at_radius_max() {
    let data = wide_table(13, 120, 64);
    let identity = compile_with(
        &data,
        Norm::Linf,
        RadiusSpec::Max,
        ConstructionChoice::Distances,
    )
    .unwrap();
    // Radius max keeps every non-constant coordinate when it fits.
    assert_eq!(identity.summary.m, data.dim() - 1);
    let mut narrow = spec(
        Norm::Linf,
        RadiusSpec::Max,
        OutputKind::Logits,
        ProjectionChoice::Auto,
    );
    narrow.construction = ConstructionChoice::Distances;
    narrow.width = Budget::AtMost(identity.summary.width / 3);
    let sep = separation(data.points.view(), &data.labels, Norm::Linf);
    let compiled = compile(&data, &narrow, &sep).unwrap();
    assert_eq!(compiled.summary.projection, "selection");
    assert!(compiled.summary.width <= identity.summary.width / 3);
    assert!(compiled.summary.parameters * 4 < identity.summary.parameters);
    let ratio = compiled.summary.ratio.unwrap();
    assert!(ratio > 0.4, "ratio {ratio}");
    check_in_tract(&data, &compiled, Norm::Linf, 13);
    // A budget no selection fits is refused with the width needed.
    narrow.width = Budget::AtMost(5);
    let err = compile(&data, &narrow, &sep)
        .map(|c| c.summary.width)
        .expect_err("width 5 fits no distance network");
    assert!(err.to_string().contains("width 5"), "{err}");
}
