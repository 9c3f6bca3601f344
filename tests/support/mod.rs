//! Helpers shared by the compile tests: random data sets, network specs,
//! probes inside each ball (surface, extreme points, worst directions), the
//! expected decision of each probe, and tract.
//!
//! Each test crate uses a different subset, hence `allow(dead_code)`.
#![allow(dead_code)]

pub mod onnx_build;
pub mod shapes;

use ndarray::{Array1, Array2, ArrayView1};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use robmem::data::{Dataset, LabelValue, Provenance};
use robmem::ir::stages::Construction;
use robmem::norm::Norm;
use robmem::pipeline::Compiled;
use robmem::spec::{
    Budget, CondenseChoice, ConstructionChoice, NetworkSpec, OutputKind, Precision,
    ProjectionChoice, RadiusSpec,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tract_onnx::prelude::*;

/// `n` uniform points in `[-1, 1]^d` with `labels` classes, numeric
/// (`0, 1, ...`) or named (`class0, class1, ...`).
pub fn random_data(seed: u64, n: usize, d: usize, labels: usize, named: bool) -> Dataset {
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

/// A network spec with automatic budgets, seed 3 and float32 precision.
pub fn spec(
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
        construction: ConstructionChoice::Scores,
        construction_span: (0, 0).into(),
        condense: CondenseChoice::Auto,
        seed: 3,
        precision: Precision::F32,
    }
}

/// A vector of l_p length `length` in direction `v`.
pub fn scaled_to(norm: Norm, v: Array1<f64>, length: f64) -> Array1<f64> {
    let current = norm.length(v.as_slice().unwrap());
    assert!(current > 0.0, "a zero direction cannot be scaled");
    v * (length / current)
}

/// The centre and extreme and surface points of the closed l_p ball of
/// radius sigma around x: random surface points, linf corners, l1 vertices
/// `x +- sigma e_k`.
pub fn probes(
    norm: Norm,
    x: ArrayView1<f64>,
    sigma: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<Array1<f64>> {
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

/// The two worst directions from point `i`, scaled to the radius: towards
/// the nearest differently-labelled point in input space, and `U^T (z_j -
/// z_i)` towards the nearest differently-labelled projected centre. Empty
/// with a single label.
pub fn worst_probes(data: &Dataset, compiled: &Compiled, norm: Norm, i: usize) -> Vec<Array1<f64>> {
    let sigma = compiled.program.radius;
    let u = &compiled.program.projection.matrix;
    let z = match &compiled.program.construction {
        Construction::Scores { scores, .. } => &scores.centres,
        Construction::Distances(stage) => &stage.centres,
    };
    let x = data.points.row(i);
    let others: Vec<usize> = (0..data.len())
        .filter(|&j| data.labels[j] != data.labels[i])
        .collect();
    let mut out = Vec::new();
    let distance = |j: usize| {
        norm.distance(
            data.points.row(j).as_slice().unwrap(),
            x.as_slice().unwrap(),
        )
    };
    if let Some(&nearest) = others
        .iter()
        .min_by(|&&a, &&b| distance(a).total_cmp(&distance(b)))
    {
        out.push(&x + &scaled_to(norm, &data.points.row(nearest) - &x, sigma));
    }
    let projected = |j: usize| (&z.row(j) - &z.row(i)).mapv(|v| v * v).sum();
    if let Some(&nearest) = others
        .iter()
        .min_by(|&&a, &&b| projected(a).total_cmp(&projected(b)))
    {
        let towards = u.t().dot(&(&z.row(nearest) - &z.row(i)));
        out.push(&x + &scaled_to(norm, towards, sigma));
    }
    out
}

/// Every probe of every ball as rows of one batch, with the index of the
/// data point whose ball each row lies in.
pub fn all_probes(
    data: &Dataset,
    compiled: &Compiled,
    norm: Norm,
    seed: u64,
) -> (Array2<f64>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sigma = compiled.program.radius;
    let mut rows = Vec::new();
    let mut owners = Vec::new();
    for i in 0..data.len() {
        let mut ball = probes(norm, data.points.row(i), sigma, &mut rng);
        ball.extend(worst_probes(data, compiled, norm, i));
        for p in ball {
            // Every probe lies in the closed ball (up to rounding).
            let dist = norm.distance(
                p.as_slice().unwrap(),
                data.points.row(i).as_slice().unwrap(),
            );
            assert!(dist <= sigma * (1.0 + 1e-12), "probe at {dist} > {sigma}");
            rows.push(p);
            owners.push(i);
        }
    }
    let inputs = Array2::from_shape_fn((rows.len(), data.dim()), |(r, k)| rows[r][k]);
    (inputs, owners)
}

/// The value the network must produce at point `i`: the class index for
/// logits (argmax) and for named labels, the numeric label otherwise.
pub fn expected(data: &Dataset, output: OutputKind, i: usize) -> f64 {
    let class = data.labels[i] as usize;
    match (output, &data.classes.values[class]) {
        (OutputKind::Label, LabelValue::Number(v)) => *v,
        _ => class as f64,
    }
}

/// Index of the largest entry (the first one on ties).
pub fn argmax(row: ArrayView1<f64>) -> usize {
    let best = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    row.iter().position(|&v| v == best).unwrap()
}

/// Smallest gap between the right logit and the best other logit, over rows
/// (negative when some row is misclassified).
pub fn logit_margin(outputs: &Array2<f64>, want: impl Fn(usize) -> usize) -> f64 {
    outputs
        .rows()
        .into_iter()
        .enumerate()
        .map(|(r, row)| {
            let c = want(r);
            let other = row
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != c)
                .map(|(_, &v)| v)
                .fold(f64::NEG_INFINITY, f64::max);
            row[c] - other
        })
        .fold(f64::INFINITY, f64::min)
}

/// Runs ONNX `bytes` in tract on a float32 batch with the concrete shape
/// `[batch, d]`.
pub fn tract_run_f32(bytes: &[u8], input: &Array2<f64>) -> Array2<f64> {
    let (batch, d) = input.dim();
    let model = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .expect("tract reads the model")
        .with_input_fact(0, f32::fact([batch, d]).into())
        .expect("input fact")
        .into_optimized()
        .expect("tract optimises the model")
        .into_runnable()
        .expect("runnable");
    let data: Vec<f32> = input.iter().map(|&v| v as f32).collect();
    let tensor = Tensor::from_shape(&[batch, d], &data).unwrap();
    let outputs = model
        .run(tvec!(tensor.into()))
        .expect("tract runs the model");
    let out = &outputs[0];
    let shape = out.shape().to_vec();
    assert_eq!(shape.len(), 2, "output rank");
    assert_eq!(shape[0], batch, "output batch");
    let values: Vec<f64> = out
        .to_plain_array_view::<f32>()
        .unwrap()
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    Array2::from_shape_vec((shape[0], shape[1]), values).unwrap()
}

/// Every `examples/*.rmem`, sorted.
pub fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rmem"))
        .collect();
    files.sort();
    files
}

/// Process output as text (invalid UTF-8 replaced).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the robmem binary with `args` in `dir` (colours off).
pub fn robmem_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_robmem"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run robmem")
}

/// The data hash (specs/certificate.md section 4) of the first data set of
/// the spec at `spec`, as a certificate states it, and its number of points.
pub fn spec_data_hash(spec: &Path) -> (String, usize) {
    let program = robmem::resolve::load_program(spec).unwrap();
    let data = robmem::resolve::load_dataset(&program, 0).unwrap();
    let labels: Vec<serde_json::Value> = data
        .labels
        .iter()
        .map(|&l| serde_json::to_value(&data.classes.values[l as usize]).unwrap())
        .collect();
    let hash = robmem::verify::certificate::data_sha256(data.points.view(), &labels);
    (hash, data.len())
}

/// Runs `robmem verify --json CERT`: the exit code, the names of the
/// failed claims and the report (exit code 2: the message on stderr as
/// the only "claim", and no report).
pub fn verify_claims(cert: &Path) -> (i32, Vec<String>, serde_json::Value) {
    let out = robmem_in(
        Path::new("."),
        &["verify", "--json", cert.to_str().unwrap()],
    );
    let code = out.status.code().unwrap();
    if code == 2 {
        return (2, vec![text(&out.stderr)], serde_json::Value::Null);
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    let failed = report["claims"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["held"] == false)
        .map(|c| c["claim"].as_str().unwrap().to_string())
        .collect();
    (code, failed, report)
}

/// `points` as a CSV table with columns `x0`, `x1`, ... and `label`.
pub fn labelled_csv(points: &Array2<f64>, labels: &[u32]) -> String {
    let names: Vec<String> = (0..points.ncols()).map(|k| format!("x{k}")).collect();
    let mut text = format!("{},label\n", names.join(","));
    for (row, label) in points.rows().into_iter().zip(labels) {
        let cells: Vec<String> = row.iter().map(|x| x.to_string()).collect();
        text += &format!("{},{label}\n", cells.join(","));
    }
    text
}
