//! The score planner takes the arithmetic as an input (issue 11, item 3):
//! on data whose scale makes float32 rounding matter, the plan it returns
//! is certified in the spec's precision the first time (compile never
//! reports a failed rounding check after building), `radius = max` gets
//! the largest radius the chosen map certifies in that arithmetic, and a
//! fixed radius gets the narrowest map whose network fits it.

mod support;

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::analysis::separation::separation;
use robmem::construct::arithmetic::Arithmetic;
use robmem::construct::plan::{PlanError, MAX_FRACTION};
use robmem::construct::score_fit::ScoreFit;
use robmem::data::{Dataset, LabelValue, Provenance};
use robmem::norm::Norm;
use robmem::pipeline::{compile, CompileError, Compiled, NetworkPlan};
use robmem::spec::{OutputKind, Precision, ProjectionChoice, RadiusSpec};
use support::spec;

/// `n` points in `d` dimensions whose coordinate k lies in
/// `[offset, offset + scale^k)` (so the columns differ in scale by
/// `scale^(d-1)` and sit far from the origin), three labels.
fn scaled(seed: u64, n: usize, d: usize, scale: f64, offset: f64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let points = Array2::from_shape_fn((n, d), |(_, k)| {
        offset + rng.gen_range(0.0..1.0) * scale.powi(k as i32)
    });
    let raw: Vec<LabelValue> = (0..n).map(|i| LabelValue::Number((i % 3) as f64)).collect();
    let provenance = Provenance::Generated {
        description: format!("scaled({seed}, {scale})"),
    };
    Dataset::from_raw(points, &raw, provenance).unwrap()
}

/// Data sets from harmless to hopeless for float32 scores.
fn tables() -> Vec<(String, Dataset)> {
    let mut out = Vec::new();
    for (seed, n, d, scale, offset) in [
        (1, 150, 3, 1.0, 0.0),
        (2, 200, 4, 8.0, 0.0),
        (3, 200, 3, 30.0, 100.0),
        (4, 300, 2, 1.0, 2000.0),
        (5, 120, 5, 4.0, 500.0),
    ] {
        out.push((
            format!("scaled({seed}, n {n}, d {d}, scale {scale}, offset {offset})"),
            scaled(seed, n, d, scale, offset),
        ));
    }
    out
}

fn compile_scores(
    data: &Dataset,
    norm: Norm,
    radius: RadiusSpec,
    output: OutputKind,
    precision: Precision,
) -> Result<Compiled, CompileError> {
    let sep = separation(data.points.view(), &data.labels, norm);
    let mut s = spec(norm, radius, output, ProjectionChoice::Auto);
    s.precision = precision;
    compile(data, &s, &sep)
}

fn arithmetic(precision: Precision) -> Arithmetic {
    Arithmetic::of(precision)
}

#[test]
fn radius_max_is_the_largest_radius_the_map_certifies_in_the_arithmetic() {
    let mut limited = 0;
    let mut refused = 0;
    for (name, data) in tables() {
        for norm in [Norm::L2, Norm::Linf] {
            for output in [OutputKind::Logits, OutputKind::Label] {
                let mut radii = Vec::new();
                for precision in [Precision::F32, Precision::F64] {
                    let what = format!("{name} {norm} {output:?} {precision:?}");
                    let compiled =
                        match compile_scores(&data, norm, RadiusSpec::Max, output, precision) {
                            Ok(c) => c,
                            Err(CompileError::Plan(PlanError::NotInArithmetic {
                                radius: None,
                                ..
                            })) => {
                                refused += 1;
                                radii.push(0.0);
                                continue;
                            }
                            Err(e) => panic!("{what}: {e}"),
                        };
                    let summary = &compiled.summary;
                    assert!(
                        summary.rounding_bound < summary.rounding_limit,
                        "{what}: the built network's rounding check fails"
                    );
                    let NetworkPlan::Scores(plan) = &compiled.plan else {
                        panic!("{what}: not a score plan")
                    };
                    let fit = ScoreFit::new(&data, norm, output, arithmetic(precision));
                    let top = MAX_FRACTION * plan.candidate.sigma_max;
                    assert!(plan.radius <= top, "{what}");
                    assert!(
                        fit.fits(&plan.candidate, plan.slots_per_class, plan.radius),
                        "{what}"
                    );
                    if plan.radius < top * (1.0 - 1e-9) {
                        // Rounding decided the radius: 0.1 % more does not fit.
                        limited += 1;
                        assert!(
                            !fit.fits(&plan.candidate, plan.slots_per_class, plan.radius * 1.001),
                            "{what}: radius {} is not the largest that fits",
                            plan.radius
                        );
                    }
                    radii.push(plan.radius);
                }
                assert!(
                    radii[1] >= radii[0],
                    "{name} {norm} {output:?}: float64 certifies less than float32 ({radii:?})"
                );
            }
        }
    }
    // The tables are chosen so that rounding decides some radii and makes
    // some refusals; the assertions above must have had work to do.
    assert!(
        limited >= 3,
        "only {limited} radii were limited by rounding"
    );
    assert!(refused >= 1, "no table was refused in float32");
}

#[test]
fn a_fixed_radius_gets_a_network_certified_in_its_arithmetic_the_first_time() {
    let mut wider = 0;
    for (name, data) in tables() {
        for norm in [Norm::L2, Norm::L1] {
            for fraction in [0.2, 0.5, 0.8] {
                let mut widths = Vec::new();
                for precision in [Precision::F64, Precision::F32] {
                    let what = format!("{name} {norm} {fraction} {precision:?}");
                    match compile_scores(
                        &data,
                        norm,
                        RadiusSpec::OfLimit(fraction),
                        OutputKind::Logits,
                        precision,
                    ) {
                        Ok(compiled) => {
                            let summary = &compiled.summary;
                            assert!(summary.rounding_bound < summary.rounding_limit, "{what}");
                            widths.push(Some(compiled.summary.m));
                        }
                        Err(CompileError::Plan(
                            PlanError::NotInArithmetic { .. }
                            | PlanError::RadiusNotCertified { .. },
                        )) => widths.push(None),
                        Err(e) => panic!("{what}: {e}"),
                    }
                }
                if let [Some(m64), Some(m32)] = widths[..] {
                    assert!(
                        m32 >= m64,
                        "{name} {norm} {fraction}: m {m32} in f32 < {m64} in f64"
                    );
                    if m32 > m64 {
                        wider += 1;
                    }
                }
                if widths[0].is_none() {
                    assert!(
                        widths[1].is_none(),
                        "{name} {norm} {fraction}: f32 certifies what f64 does not"
                    );
                }
            }
        }
    }
    assert!(wider >= 1, "float32 never needed a wider map than float64");
}

#[test]
fn a_radius_only_real_arithmetic_certifies_is_refused_with_the_radius_float32_reaches() {
    let data = scaled(4, 300, 2, 1.0, 2000.0);
    let sep = separation(data.points.view(), &data.labels, Norm::L2);
    let mut s = spec(
        Norm::L2,
        RadiusSpec::OfLimit(0.9),
        OutputKind::Logits,
        ProjectionChoice::Auto,
    );
    let err = compile(&data, &s, &sep).unwrap_err();
    let CompileError::Plan(PlanError::NotInArithmetic {
        radius,
        precision,
        best_radius,
        ..
    }) = &err
    else {
        panic!("{err}")
    };
    assert_eq!(*precision, "float32");
    assert_eq!(*radius, Some(0.9 * sep.delta / 2.0));
    assert!(err.to_string().contains("not in float32"), "{err}");
    // What the message offers is what `radius = max` builds.
    s.radius = RadiusSpec::Max;
    let at_max = compile(&data, &s, &sep)
        .map(|c| c.summary.radius.unwrap_or(0.0))
        .unwrap_or(0.0);
    assert_eq!(*best_radius, at_max);
    // float64 certifies it.
    s.radius = RadiusSpec::OfLimit(0.9);
    s.precision = Precision::F64;
    assert!(compile(&data, &s, &sep).is_ok());
}

#[test]
fn the_distance_planner_names_rounding_when_only_real_arithmetic_certifies() {
    // Inputs near 20,000 (float32 spacing 2e-3) with a separation of a few
    // 1e-3: no linf radius survives float32 rounding, every one below the
    // limit is certified in float64.
    let data = scaled(6, 300, 2, 1.0, 20000.0);
    let sep = separation(data.points.view(), &data.labels, Norm::Linf);
    let mut s = spec(
        Norm::Linf,
        RadiusSpec::Max,
        OutputKind::Logits,
        ProjectionChoice::Auto,
    );
    s.construction = robmem::spec::ConstructionChoice::Distances;
    let err = compile(&data, &s, &sep).unwrap_err();
    assert!(
        matches!(
            &err,
            CompileError::Plan(PlanError::NotInArithmetic {
                radius: None,
                precision: "float32",
                ..
            })
        ),
        "{err}"
    );
    s.radius = RadiusSpec::OfLimit(0.5);
    let err = compile(&data, &s, &sep).unwrap_err();
    assert!(
        matches!(
            &err,
            CompileError::Plan(PlanError::NotInArithmetic {
                radius: Some(_),
                ..
            })
        ),
        "{err}"
    );
    s.precision = Precision::F64;
    assert!(compile(&data, &s, &sep).is_ok());
}

/// `pairs` points in [0, 10]^8, each with a partner of the other label at
/// l2 distance `gap` in a random direction: R / delta about 10 / gap.
fn pairs_csv(seed: u64, pairs: usize, gap: f64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut csv = String::from("x0,x1,x2,x3,x4,x5,x6,x7,label\n");
    for _ in 0..pairs {
        let p: Vec<f64> = (0..8).map(|_| rng.gen_range(0.0..10.0)).collect();
        let d: Vec<f64> = (0..8).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let n = d.iter().map(|x| x * x).sum::<f64>().sqrt();
        let q: Vec<f64> = p.iter().zip(&d).map(|(a, b)| a + gap * b / n).collect();
        for (point, label) in [(p, 0), (q, 1)] {
            let row: Vec<String> = point.iter().map(|x| format!("{x:.6}")).collect();
            csv += &format!("{},{label}\n", row.join(","));
        }
    }
    csv
}

/// `n` points in [0, scale]^d (label 0), each with a partner at l2
/// distance `gap` labelled 1 or 2 at random.
fn wide_csv(seed: u64, n: usize, d: usize, gap: f64, scale: f64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let header: Vec<String> = (0..d).map(|k| format!("x{k}")).collect();
    let mut csv = format!("{},label\n", header.join(","));
    for _ in 0..n {
        let p: Vec<f64> = (0..d).map(|_| rng.gen_range(0.0..scale)).collect();
        let v: Vec<f64> = (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let q: Vec<f64> = p.iter().zip(&v).map(|(a, b)| a + gap * b / norm).collect();
        let other = if rng.gen_bool(0.5) { 1 } else { 2 };
        for (point, label) in [(p, 0), (q, other)] {
            let row: Vec<String> = point.iter().map(|x| format!("{x:.6}")).collect();
            csv += &format!("{},{label}\n", row.join(","));
        }
    }
    csv
}

#[test]
fn certificates_of_rounding_limited_networks_claim_float32() {
    // The planner keeps ROUNDING_SAFETY between its estimate and the
    // margin so that the checker, whose bounds are computed from the stored
    // float32 weights, confirms float32 at the radius the planner chose.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pairs.csv"), pairs_csv(5, 600, 0.2)).unwrap();
    // Three labels, 16 dimensions: the label network needs a factor above
    // 1.5 between compile's estimate and the margin.
    std::fs::write(dir.path().join("wide.csv"), wide_csv(3, 500, 16, 0.5, 20.0)).unwrap();
    std::fs::write(
        dir.path().join("pairs.rmem"),
        "dataset pairs = csv(\"pairs.csv\", label = \"label\")\n\
         network logits { data = pairs  norm = l2  radius = max  construction = scores }\n\
         network label { data = pairs  norm = l2  radius = max  construction = scores  output = label }\n\
         dataset wide = csv(\"wide.csv\", label = \"label\")\n\
         network wide_label { data = wide  norm = l2  radius = max  construction = scores  output = label }\n\
         network wide_linf { data = wide  norm = linf  radius = max  construction = scores }\n\
         emit logits { onnx = \"logits.onnx\"  certificate = \"logits.cert.json\" }\n\
         emit label { onnx = \"label.onnx\"  certificate = \"label.cert.json\" }\n\
         emit wide_label { onnx = \"wide_label.onnx\"  certificate = \"wide_label.cert.json\" }\n\
         emit wide_linf { onnx = \"wide_linf.onnx\"  certificate = \"wide_linf.cert.json\" }\n",
    )
    .unwrap();
    let out = support::robmem_in(dir.path(), &["-q", "compile", "pairs.rmem", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("does not claim"), "{stderr}");
    let summaries: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for summary in &summaries {
        // Rounding, not the 0.99 cap, decided these radii.
        let ratio = summary["ratio"].as_f64().unwrap();
        assert!(ratio < 0.985, "{summary}");
        let name = summary["network"].as_str().unwrap();
        let certificate: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("{name}.cert.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            certificate["semantics"],
            serde_json::json!(["real", "float32", "float64"]),
            "{name}"
        );
        let verified = support::robmem_in(dir.path(), &["verify", &format!("{name}.cert.json")]);
        assert_eq!(verified.status.code(), Some(0), "{name}");
    }
    assert_eq!(summaries.len(), 4);
}
