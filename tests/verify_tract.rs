//! The float32 claim of a certificate checked against real float32
//! evaluation: a deep network (5,000 points) run by tract on every data point
//! and on probes inside the balls. Every logit gap tract computes is at least
//! the float32 margin the certificate states for that point.

mod support;

use ndarray::Array2;
use robmem::analysis::separation::separation;
use robmem::backend::certificate::{make_certificate, CertificateRequest, Certified};
use robmem::backend::onnx::{save_onnx, OnnxOptions};
use robmem::data::Dataset;
use robmem::norm::Norm;
use robmem::pipeline::{compile, Compiled};
use robmem::spec::{Budget, OutputKind, Precision, ProjectionChoice, RadiusSpec};
use robmem::verify::certificate::Semantics;
use std::path::Path;
use support::{all_probes, random_data, spec, tract_run_f32};

/// The certificate of `compiled`, written as float32 ONNX to `onnx`.
fn certify(compiled: &Compiled, data: &Dataset, onnx: &Path) -> Certified {
    make_certificate(&CertificateRequest {
        network: "test",
        program: &compiled.program,
        layers: &compiled.network,
        data,
        spec_path: Path::new("spec.rmem"),
        onnx_path: onnx,
        certificate_path: &onnx.with_extension("cert.json"),
        search_up_to: None,
    })
    .unwrap()
}

#[test]
fn float32_certificate_agrees_with_tract_on_a_deep_network() {
    let data = random_data(5, 5000, 6, 3, false);
    let norm = Norm::L2;
    let mut net = spec(
        norm,
        RadiusSpec::OfLimit(0.5),
        OutputKind::Logits,
        ProjectionChoice::Auto,
    );
    net.width = Budget::AtMost(16);
    let sep = separation(data.points.view(), &data.labels, norm);
    let compiled = compile(&data, &net, &sep).unwrap();
    assert!(
        compiled.network.layers.len() > 400,
        "the test wants a deep network, got {} layers",
        compiled.network.layers.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let onnx = dir.path().join("net.onnx");
    let cert = certified_in_float32(&compiled, &data, &onnx);
    let margins = &cert.points.margin[&Semantics::Float32];
    tract_gaps_cover_the_margins(&data, &compiled, norm, &onnx, margins, 25);
}

/// Writes `compiled` as float32 ONNX to `onnx` and returns its certificate,
/// which must claim float32.
fn certified_in_float32(
    compiled: &Compiled,
    data: &Dataset,
    onnx: &Path,
) -> robmem::verify::certificate::Certificate {
    save_onnx(&compiled.network, &OnnxOptions::default(), onnx).unwrap();
    let certified = certify(compiled, data, onnx);
    assert!(
        certified
            .certificate
            .semantics
            .contains(&Semantics::Float32),
        "float32 not certified: {:?}",
        certified.not_claimed
    );
    certified.certificate
}

/// Runs tract in float32 on every data point and on the probes of every
/// `every`-th ball, and asserts that every logit gap is at least the
/// certified float32 margin of the ball's point.
fn tract_gaps_cover_the_margins(
    data: &Dataset,
    compiled: &Compiled,
    norm: Norm,
    onnx: &Path,
    margins: &[f64],
    every: usize,
) {
    let (probes, owners) = all_probes(data, compiled, norm, 9);
    let keep: Vec<usize> = (0..owners.len())
        .filter(|&r| owners[r] % every == 0)
        .collect();
    let rows = data.len() + keep.len();
    let inputs = Array2::from_shape_fn((rows, data.dim()), |(r, k)| {
        if r < data.len() {
            data.points[[r, k]]
        } else {
            probes[[keep[r - data.len()], k]]
        }
    });
    let owner = |r: usize| {
        if r < data.len() {
            r
        } else {
            owners[keep[r - data.len()]]
        }
    };
    let bytes = std::fs::read(onnx).unwrap();
    let outputs = tract_run_f32(&bytes, &inputs);
    let mut smallest_slack = f64::INFINITY;
    for (r, row) in outputs.rows().into_iter().enumerate() {
        let i = owner(r);
        let y = data.labels[i] as usize;
        let best_other = (0..row.len())
            .filter(|&c| c != y)
            .map(|c| row[c])
            .fold(f64::NEG_INFINITY, f64::max);
        let gap = row[y] - best_other;
        assert!(
            gap >= margins[i],
            "row {r} (point {i}): tract's logit gap {gap} is below the certified float32 margin {}",
            margins[i]
        );
        smallest_slack = smallest_slack.min(gap - margins[i]);
    }
    eprintln!("{rows} rows checked; smallest gap above the certified margin: {smallest_slack}");
}

/// A network whose radius float32 rounding decides (`radius = max` on
/// close pairs, R / delta about 50): its float32 margins are the tightest
/// the planner and the checker's one-sided magnitude bounds allow
/// (specs/certificate.md section 6), and tract must stay above them.
#[test]
fn rounding_limited_float32_margins_hold_under_tract() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let (pairs, d, gap) = (300, 8, 0.2);
    let mut points = Array2::zeros((2 * pairs, d));
    let mut raw = Vec::new();
    for p in 0..pairs {
        let direction: Vec<f64> = (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let length = direction.iter().map(|x| x * x).sum::<f64>().sqrt();
        for k in 0..d {
            let x = rng.gen_range(0.0..10.0);
            points[[2 * p, k]] = x;
            points[[2 * p + 1, k]] = x + gap * direction[k] / length;
        }
        raw.push(robmem::data::LabelValue::Number(0.0));
        raw.push(robmem::data::LabelValue::Number(1.0));
    }
    let provenance = robmem::data::Provenance::Generated {
        description: "pairs".into(),
    };
    let data = Dataset::from_raw(points, &raw, provenance).unwrap();
    let norm = Norm::L2;
    let net = spec(
        norm,
        RadiusSpec::Max,
        OutputKind::Logits,
        ProjectionChoice::Auto,
    );
    let sep = separation(data.points.view(), &data.labels, norm);
    let compiled = compile(&data, &net, &sep).unwrap();
    let ratio = compiled.summary.ratio.unwrap();
    assert!(
        ratio < 0.985,
        "rounding should decide the radius, got {ratio}"
    );
    let dir = tempfile::tempdir().unwrap();
    let onnx = dir.path().join("net.onnx");
    let cert = certified_in_float32(&compiled, &data, &onnx);
    let margins = &cert.points.margin[&Semantics::Float32];
    let real = &cert.points.margin[&Semantics::Real];
    // The float32 margins are well below the real ones: rounding matters.
    let least = |m: &[f64]| m.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(
        least(margins) < 0.9 * least(real),
        "{} vs {}",
        least(margins),
        least(real)
    );
    tract_gaps_cover_the_margins(&data, &compiled, norm, &onnx, margins, 1);
}

/// Points near 10^4, 10^-2 apart: float32 rounding of the inputs alone is
/// about 10^-3. compile refuses float32 networks for such data; here the
/// network is built for float64 and then written as float32 anyway, so the
/// certificate's own analysis must refuse the float32 claim (or make one
/// that tract confirms on probes).
#[test]
fn far_from_the_origin_no_false_float32_claim() {
    let n = 200;
    let mut data = random_data(8, n, 3, 2, false);
    for i in 0..n {
        for k in 0..3 {
            data.points[[i, k]] = 1e4 + 1e-2 * (i as f64) + 1e-3 * data.points[[i, k]];
        }
        data.labels[i] = (i % 2) as u32;
    }
    let norm = Norm::L2;
    let sep = separation(data.points.view(), &data.labels, norm);
    let mut certified_runs = 0;
    for fraction in [0.5, 0.1, 0.01] {
        let mut net = spec(
            norm,
            RadiusSpec::OfLimit(fraction),
            OutputKind::Logits,
            ProjectionChoice::Auto,
        );
        net.precision = Precision::F64;
        let compiled = match compile(&data, &net, &sep) {
            Ok(c) => c,
            Err(e) => {
                // Refusing is a correct answer.
                eprintln!("{fraction} of the limit: refused: {e}");
                assert!(e.to_string().contains("float32"), "{e}");
                continue;
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let onnx = dir.path().join("net.onnx");
        save_onnx(&compiled.network, &OnnxOptions::default(), &onnx).unwrap();
        let certified = certify(&compiled, &data, &onnx);
        certified_runs += 1;
        let cert = certified.certificate;
        eprintln!(
            "{fraction} of the limit: claims {:?}; not claimed {:?}",
            cert.semantics, certified.not_claimed
        );
        assert!(cert.semantics.contains(&Semantics::Real));
        let (probes, owners) = probes_inside(&data, cert.radius * 0.999);
        // The float64 claim, against float64 evaluation of the stored weights.
        let model = robmem::verify::model::read_model_file(&onnx).unwrap();
        if let Some(margins) = cert.points.margin.get(&Semantics::Float64) {
            for (r, probe) in probes.rows().into_iter().enumerate() {
                let out = model.evaluate_f64(probe.as_slice().unwrap());
                let (i, y) = (owners[r], data.labels[owners[r]] as usize);
                let gap = out[y] - out[1 - y];
                assert!(
                    gap >= margins[i],
                    "probe {r} of point {i}: float64 gap {gap} < certified {}",
                    margins[i]
                );
            }
        }
        let Some(margins) = cert.points.margin.get(&Semantics::Float32) else {
            continue;
        };
        let outputs = tract_run_f32(&std::fs::read(&onnx).unwrap(), &probes);
        for (r, row) in outputs.rows().into_iter().enumerate() {
            let i = owners[r];
            let y = data.labels[i] as usize;
            let gap = row[y] - row[1 - y];
            assert!(
                gap >= margins[i],
                "probe {r} of point {i}: gap {gap} < certified {}",
                margins[i]
            );
        }
    }
    assert!(
        certified_runs > 0,
        "no radius compiled: the certificate path is untested"
    );
}

/// Per point: the point, and the point moved by `length` (l2) towards each
/// of its two neighbours in the data order and along each axis.
fn probes_inside(data: &robmem::data::Dataset, length: f64) -> (Array2<f64>, Vec<usize>) {
    let (n, d) = data.points.dim();
    let mut rows = Vec::new();
    let mut owners = Vec::new();
    for i in 0..n {
        let x = data.points.row(i).to_owned();
        rows.push(x.clone());
        owners.push(i);
        let mut directions: Vec<ndarray::Array1<f64>> = [i.wrapping_sub(1), i + 1]
            .into_iter()
            .filter(|&j| j < n)
            .map(|j| &data.points.row(j) - &x)
            .collect();
        for k in 0..d {
            let mut e = ndarray::Array1::zeros(d);
            e[k] = 1.0;
            directions.push(e.clone());
            directions.push(-e);
        }
        for v in directions {
            let norm = v.dot(&v).sqrt();
            rows.push(&x + &(v * (length / norm)));
            owners.push(i);
        }
    }
    let inputs = Array2::from_shape_fn((rows.len(), d), |(r, k)| rows[r][k]);
    (inputs, owners)
}
