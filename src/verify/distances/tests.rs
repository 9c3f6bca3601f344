//! Distance networks built by hand (tests/support/distance_net.rs, written
//! independently of the compiler), checked against brute-force forward
//! passes and tampered with.

use super::*;
use crate::verify::model::{Element, Layer, Model};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[path = "../../../tests/support/distance_net.rs"]
mod net;

fn to_model(net: &net::Net, element: Element) -> Model {
    let layers = net
        .layers
        .iter()
        .map(|l| {
            let rows = l.weight.len();
            let cols = l.weight[0].len();
            let flat: Vec<f64> = l.weight.iter().flatten().cloned().collect();
            Layer {
                weight: Array2::from_shape_vec((rows, cols), flat).unwrap(),
                bias: Array1::from(l.bias.clone()),
                relu: l.relu,
            }
        })
        .collect();
    Model {
        input_dim: net.input_dim,
        layers,
        element,
        input_name: "x".into(),
        output_name: "y".into(),
        metadata: Vec::new(),
    }
}

/// Brute-force l_q distance.
fn dist(a: &[f64], b: &[f64], linf: bool) -> f64 {
    let gaps = a.iter().zip(b).map(|(x, y)| (x - y).abs());
    if linf {
        gaps.fold(0.0, f64::max)
    } else {
        gaps.sum()
    }
}

/// Smallest distance between points of different labels.
fn delta(points: &[Vec<f64>], labels: &[usize], linf: bool) -> f64 {
    let mut best = f64::INFINITY;
    for i in 0..points.len() {
        for j in 0..i {
            if labels[i] != labels[j] {
                best = best.min(dist(&points[i], &points[j], linf));
            }
        }
    }
    best
}

struct Case {
    points: Vec<Vec<f64>>,
    labels: Vec<usize>,
    plan: net::Plan,
    limit: f64,
}

/// Random data (`big`: column 0 in the thousands), V = I, u >= 1 on every
/// ball up to the limit.
fn case(
    seed: u64,
    n: usize,
    k: usize,
    classes: usize,
    linf: bool,
    slots: usize,
    big: bool,
) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let round = |x: f64| f64::from(x as f32);
    let points: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            (0..k)
                .map(|c| {
                    if big && c == 0 {
                        round(2000.0 + rng.gen_range(0.0..5.0))
                    } else {
                        round(rng.gen_range(0.0..10.0))
                    }
                })
                .collect()
        })
        .collect();
    let mut labels: Vec<usize> = (0..n).map(|i| i % classes).collect();
    // Shuffle the labels a little, keeping every class present.
    for label in labels.iter_mut().skip(classes) {
        *label = rng.gen_range(0..classes);
    }
    let limit = delta(&points, &labels, linf) / 2.0;
    assert!(limit > 0.0);
    let shift: Vec<f64> = (0..k)
        .map(|c| {
            let low = points.iter().map(|x| x[c]).fold(f64::INFINITY, f64::min);
            round(1.0 + limit - low).max(1.0 + limit - low + 1.0)
        })
        .collect();
    let plan = net::Plan {
        points: points.clone(),
        labels: labels.clone(),
        classes,
        linf,
        slots,
        shift,
        alpha: 0.5,
        beta: vec![0.75; classes],
        round32: true,
    };
    Case {
        points,
        labels,
        plan,
        limit,
    }
}

fn analyse(case: &Case, net: &net::Net, p: f64) -> DistanceAnalysis {
    let model = to_model(net, Element::F32);
    let n = case.points.len();
    let flat: Vec<f64> = case.points.iter().flatten().cloned().collect();
    let points = Array2::from_shape_vec((n, net.input_dim), flat).unwrap();
    let q = if case.plan.linf {
        DistanceNorm::Linf
    } else {
        DistanceNorm::L1
    };
    DistanceAnalysis::new(
        &model,
        &net.roles,
        points.view(),
        &case.labels,
        PNorm { p },
        q,
        &[Semantics::Float32, Semantics::Float64],
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn gap(out: &[f64], y: usize) -> f64 {
    let other = out
        .iter()
        .enumerate()
        .filter(|(c, _)| *c != y)
        .map(|(_, &v)| v)
        .fold(f64::NEG_INFINITY, f64::max);
    out[y] - other
}

/// Probe points in the l_p ball (p = 1 or inf) of `x` of radius `sigma`,
/// binary32 values: random, vertices, and the step towards `towards`.
fn probes(
    x: &[f64],
    sigma: f64,
    linf: bool,
    towards: &[f64],
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<f64>> {
    let d = x.len();
    let mut dirs: Vec<Vec<f64>> = Vec::new();
    let step: Vec<f64> = x.iter().zip(towards).map(|(a, b)| b - a).collect();
    if linf {
        dirs.push(step.iter().map(|s| s.signum()).collect());
        for _ in 0..6 {
            dirs.push((0..d).map(|_| rng.gen_range(-1.0..1.0)).collect());
            dirs.push(
                (0..d)
                    .map(|_| if rng.gen_bool(0.5) { 1.0 } else { -1.0 })
                    .collect(),
            );
        }
    } else {
        let norm: f64 = step.iter().map(|s| s.abs()).sum();
        dirs.push(step.iter().map(|s| s / norm).collect());
        for _ in 0..6 {
            let raw: Vec<f64> = (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let norm: f64 = raw.iter().map(|s| s.abs()).sum();
            dirs.push(raw.iter().map(|s| s / norm).collect());
            let mut vertex = vec![0.0; d];
            vertex[rng.gen_range(0..d)] = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
            dirs.push(vertex);
        }
    }
    dirs.iter()
        .filter_map(|dir| {
            for shrink in [1.0, 1.0 - 1e-6, 1.0 - 1e-4] {
                let p: Vec<f64> = x
                    .iter()
                    .zip(dir)
                    .map(|(a, s)| f64::from((a + sigma * shrink * s) as f32))
                    .collect();
                if dist(&p, x, linf) <= sigma {
                    return Some(p);
                }
            }
            None
        })
        .collect()
}

/// Binary32 forward pass; `order`: 0 as stored, 1 largest magnitude first,
/// 2 smallest first (the bias is one of the terms).
fn forward32(model: &Model, x: &[f64], order: u8) -> Vec<f64> {
    let mut v: Vec<f32> = x.iter().map(|&a| a as f32).collect();
    for layer in &model.layers {
        v = layer
            .weight
            .rows()
            .into_iter()
            .zip(&layer.bias)
            .map(|(row, &b)| {
                let mut terms: Vec<f32> = row
                    .iter()
                    .zip(&v)
                    .filter(|(w, _)| **w != 0.0)
                    .map(|(&w, &a)| w as f32 * a)
                    .collect();
                terms.push(b as f32);
                match order {
                    1 => terms.sort_by(|a, b| b.abs().total_cmp(&a.abs())),
                    2 => terms.sort_by(|a, b| a.abs().total_cmp(&b.abs())),
                    _ => {}
                }
                let s = terms.iter().fold(0.0f32, |s, t| s + t);
                if layer.relu {
                    s.max(0.0)
                } else {
                    s
                }
            })
            .collect();
    }
    v.into_iter().map(f64::from).collect()
}

/// The nearest point of another label.
fn nearest_other(case: &Case, i: usize, linf: bool) -> usize {
    (0..case.points.len())
        .filter(|&j| case.labels[j] != case.labels[i])
        .min_by(|&a, &b| {
            dist(&case.points[i], &case.points[a], linf).total_cmp(&dist(
                &case.points[i],
                &case.points[b],
                linf,
            ))
        })
        .unwrap()
}

#[test]
fn real_margins_hold_near_the_limit_and_are_tight() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for linf in [false, true] {
        for k in 2..=6 {
            for slots in [1, 2, 3] {
                let c = case(k as u64 * 7 + slots as u64, 14, k, 3, linf, slots, false);
                let net = net::build(&c.plan);
                let a = analyse(&c, &net, if linf { f64::INFINITY } else { 1.0 });
                let sigma = 0.9 * c.limit;
                let claims = a.at_radius(sigma);
                assert!(
                    claims.holds(&[Semantics::Real]),
                    "linf {linf} k {k}: {:?}",
                    claims.semantics[0].failure
                );
                assert!(claims.holds(&[Semantics::Float64, Semantics::Float32]));
                let model = to_model(&net, Element::F32);
                let real = &claims.semantics[0].margins;
                let double = &claims.semantics[2].margins;
                let mut tight = 0;
                for i in 0..c.points.len() {
                    let y = c.labels[i];
                    let j = nearest_other(&c, i, linf);
                    for (index, probe) in probes(&c.points[i], sigma, linf, &c.points[j], &mut rng)
                        .iter()
                        .enumerate()
                    {
                        let g = gap(&model.evaluate_f64(probe), y);
                        let scale = 1e-9 * (1.0 + real[i].abs());
                        assert!(
                            g >= real[i] - scale,
                            "point {i}: gap {g} < real margin {}",
                            real[i]
                        );
                        assert!(
                            g >= double[i],
                            "point {i}: f64 gap {g} < float64 margin {}",
                            double[i]
                        );
                        // The step towards the nearest other point realises the bound.
                        if index == 0 && (g - real[i]).abs() <= 1e-6 * (1.0 + real[i].abs()) {
                            tight += 1;
                        }
                    }
                    assert!(real[i] > 0.0);
                }
                assert!(tight > 0, "no probe reaches the claimed real margin");
                // The smallest margin is alpha (delta - 2 sigma) up to beta.
                assert!(a.delta_prime <= 2.0 * c.limit * (1.0 + 1e-6));
            }
        }
    }
}

#[test]
fn float32_holds_on_mixed_scales_and_brute_force_stays_above_the_bound() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for linf in [false, true] {
        for (k, slots) in [(2, 1), (4, 2), (5, 3), (6, 2)] {
            let c = case(31 + k as u64, 16, k, 2, linf, slots, true);
            let net = net::build(&c.plan);
            let a = analyse(&c, &net, if linf { f64::INFINITY } else { 1.0 });
            let sigma = 0.95 * c.limit;
            let claims = a.at_radius(sigma);
            assert!(claims.first_layer_exact.is_none());
            let f32s = &claims.semantics[1];
            assert!(f32s.holds(), "linf {linf} k {k}: {:?}", f32s.failure);
            let real = &claims.semantics[0].margins;
            for (i, (&m, &r)) in f32s.margins.iter().zip(real).enumerate() {
                assert!(m <= r, "point {i}: float32 margin above the real one");
                // First order: the loss is far below the margin itself.
                assert!(
                    r - m < 0.2 * r,
                    "point {i}: rounding {} of margin {r}",
                    r - m
                );
            }
            let model = to_model(&net, Element::F32);
            for i in 0..c.points.len() {
                let y = c.labels[i];
                let j = nearest_other(&c, i, linf);
                for probe in probes(&c.points[i], sigma, linf, &c.points[j], &mut rng) {
                    for order in 0..3 {
                        let g = gap(&forward32(&model, &probe, order), y);
                        assert!(
                            g >= f32s.margins[i],
                            "point {i}, order {order}: float32 gap {g} below the bound {}",
                            f32s.margins[i]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn radius_label_and_point_changes_are_caught() {
    for linf in [false, true] {
        let c = case(3, 12, 3, 2, linf, 2, false);
        let net = net::build(&c.plan);
        let p = if linf { f64::INFINITY } else { 1.0 };
        let a = analyse(&c, &net, p);
        let sems = [Semantics::Real, Semantics::Float32];
        assert!(a.at_radius(0.99 * c.limit).holds(&sems));
        // Beyond the geometric limit no network holds.
        assert!(!a.at_radius(1.001 * c.limit).holds(&[Semantics::Real]));
        let largest = a
            .largest_radius(0.5 * c.limit, 2.0 * c.limit, &sems)
            .unwrap();
        assert!(
            largest > 0.99 * c.limit && largest < c.limit,
            "{largest} vs {}",
            c.limit
        );
        // A changed label: the point's nearest centre is of another class.
        let mut labels = c.labels.clone();
        labels[0] = 1 - labels[0];
        let changed = Case {
            labels,
            points: c.points.clone(),
            plan: c.plan.clone(),
            limit: c.limit,
        };
        let claims = analyse(&changed, &net, p).at_radius(0.5 * c.limit);
        assert!(claims.semantics[0].margins[0] < 0.0);
        assert!(!claims.holds(&[Semantics::Real]));
        // A moved point: margins shrink by alpha times the move (own distance).
        let mut moved = Case {
            labels: c.labels.clone(),
            points: c.points.clone(),
            plan: c.plan.clone(),
            limit: c.limit,
        };
        moved.points[1][0] += 0.1 * c.limit;
        let before = a.at_radius(0.5 * c.limit).semantics[0].margins[1];
        let after = analyse(&moved, &net, p).at_radius(0.5 * c.limit).semantics[0].margins[1];
        assert!(
            after < before - 0.5 * 0.1 * c.limit * 0.99,
            "{after} vs {before}"
        );
        // Moved onto a point of another label: fails.
        let j = nearest_other(&c, 1, linf);
        moved.points[1] = c.points[j].clone();
        let claims = analyse(&moved, &net, p).at_radius(0.1 * c.limit);
        assert!(claims.semantics[0].margins[1] <= 0.0);
    }
}

/// The network of a small case, as a model to tamper with.
fn small(linf: bool) -> (Case, net::Net) {
    let c = case(11, 10, 3, 3, linf, 2, false);
    let net = net::build(&c.plan);
    (c, net)
}

/// The first neuron (layer >= `from`) whose role starts with `prefix`.
fn find(net: &net::Net, prefix: char, from: usize) -> (usize, usize) {
    for (l, line) in net.roles.iter().enumerate().skip(from) {
        if let Some(n) = line.split_whitespace().position(|r| r.starts_with(prefix)) {
            return (l, n);
        }
    }
    panic!("no role {prefix}");
}

fn try_analyse(c: &Case, net: &net::Net) -> Result<DistanceAnalysis, DistanceError> {
    let model = to_model(net, Element::F32);
    let n = c.points.len();
    let flat: Vec<f64> = c.points.iter().flatten().cloned().collect();
    let points = Array2::from_shape_vec((n, net.input_dim), flat).unwrap();
    let q = if c.plan.linf {
        DistanceNorm::Linf
    } else {
        DistanceNorm::L1
    };
    DistanceAnalysis::new(
        &model,
        &net.roles,
        points.view(),
        &c.labels,
        PNorm {
            p: if c.plan.linf { f64::INFINITY } else { 1.0 },
        },
        q,
        &[Semantics::Float32],
        None,
    )
}

fn rejected_at(c: &Case, net: &net::Net, at: (usize, usize)) {
    match try_analyse(c, net) {
        Err(DistanceError::Template(TemplateError::Neuron { layer, neuron, .. })) => {
            assert_eq!((layer, neuron), at, "rejected elsewhere");
        }
        Err(other) => panic!("rejected for another reason: {other}"),
        Ok(_) => panic!("tampering at {at:?} accepted"),
    }
}

#[test]
fn tampering_with_any_fixed_weight_is_rejected() {
    for linf in [false, true] {
        let (c, net) = small(linf);
        try_analyse(&c, &net).unwrap();
        let kinds: &[char] = if linf {
            &['u', 'p', 'n', 'g', 'e', 'a', 'q', 'm', 'x']
        } else {
            &['u', 'p', 'n', 'a', 'q', 'm', 'x']
        };
        for &kind in kinds {
            let (l, neuron) = find(&net, kind, 1);
            // A non-zero weight nudged, a zero weight made non-zero.
            let row = &net.layers[l].weight[neuron];
            let nonzero = row.iter().position(|&w| w != 0.0).unwrap();
            let zero = row.iter().position(|&w| w == 0.0).unwrap();
            for (col, delta) in [(nonzero, 1e-3), (zero, 1e-3)] {
                let mut bad = net.clone();
                bad.layers[l].weight[neuron][col] += delta;
                rejected_at(&c, &bad, (l, neuron));
            }
            // Fixed biases: everything but p/n (checked as a pair below).
            if !matches!(kind, 'p' | 'n') {
                let mut bad = net.clone();
                bad.layers[l].bias[neuron] += 0.5;
                rejected_at(&c, &bad, (l, neuron));
            }
        }
        // One output's alpha alone.
        let last = net.layers.len() - 1;
        let mut bad = net.clone();
        let col = bad.layers[last].weight[1]
            .iter()
            .position(|&w| w != 0.0)
            .unwrap();
        bad.layers[last].weight[1][col] *= 1.5;
        assert!(try_analyse(&c, &bad).is_err());
        // p's constant without n's.
        let (l, p) = find(&net, 'p', 1);
        let mut bad = net.clone();
        bad.layers[l].bias[p] += 1e-3;
        assert!(matches!(
            try_analyse(&c, &bad),
            Err(DistanceError::Template(_))
        ));
        // Two roles swapped.
        let mut bad = net.clone();
        let mut words: Vec<&str> = net.roles[l].split_whitespace().collect();
        words.swap(0, 1);
        bad.roles[l] = words.join(" ");
        assert!(try_analyse(&c, &bad).is_err());
        // A missing layer of roles.
        let mut bad = net.clone();
        bad.roles.pop();
        assert!(try_analyse(&c, &bad).is_err());
    }
}

#[test]
fn free_constants_move_the_margins() {
    for linf in [false, true] {
        let (c, net) = small(linf);
        let sigma = 0.5 * c.limit;
        let base = try_analyse(&c, &net).unwrap();
        let before = base.at_radius(sigma);
        let real = |a: &DistanceAnalysis| a.at_radius(sigma).semantics[0].margins.clone();
        // V: a larger entry raises the norm bound (r) and lowers margins.
        let mut scaled = net.clone();
        scaled.layers[0].weight[0][0] = 1.25;
        let a = try_analyse(&c, &scaled).unwrap();
        assert!((a.norm_bound - 1.25).abs() < 1e-9, "{}", a.norm_bound);
        assert_ne!(real(&a), before.semantics[0].margins);
        // b: a first-layer bias pushed down breaks first-layer exactness.
        let mut low = net.clone();
        low.layers[0].bias[0] = -1e4;
        let a = try_analyse(&c, &low).unwrap();
        assert!(a.at_radius(sigma).first_layer_exact.is_some());
        // beta: raising beta_0 raises the margin of class-0 points by as much.
        let last = net.layers.len() - 1;
        let mut raised = net.clone();
        raised.layers[last].bias[0] += 1.0;
        let after = real(&try_analyse(&c, &raised).unwrap());
        for (i, (x, y)) in after.iter().zip(&before.semantics[0].margins).enumerate() {
            if c.labels[i] == 0 {
                assert!((x - y - 1.0).abs() < 1e-9, "point {i}: {x} vs {y}");
            } else {
                assert!(x <= y, "point {i}: {x} vs {y}");
            }
        }
        assert!(after
            .iter()
            .zip(&before.semantics[0].margins)
            .any(|(x, y)| x < y));
        // alpha for every output: margins minus the beta part scale with it.
        let mut doubled = net.clone();
        for row in doubled.layers[last].weight.iter_mut() {
            for w in row.iter_mut() {
                *w *= 2.0;
            }
        }
        let a = try_analyse(&c, &doubled).unwrap();
        assert_eq!(a.template.alpha, 2.0 * base.template.alpha);
        // A centre moved consistently in p and n: accepted, read back, and
        // moved onto a point of another class, that point's margin fails.
        let (l, _) = find(&net, 'p', 1);
        let words: Vec<&str> = net.roles[l].split_whitespace().collect();
        let j: usize = words.iter().find(|w| w.starts_with('p')).unwrap()[1..]
            .split('.')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let other = (0..c.points.len())
            .find(|&i| c.labels[i] != c.labels[j])
            .unwrap();
        let mut moved = net.clone();
        for kk in 0..3 {
            let pn = words
                .iter()
                .position(|w| *w == format!("p{j}.{kk}"))
                .unwrap();
            let nn = words
                .iter()
                .position(|w| *w == format!("n{j}.{kk}"))
                .unwrap();
            moved.layers[l].bias[pn] = -net.centres[other][kk];
            moved.layers[l].bias[nn] = net.centres[other][kk];
        }
        let a = try_analyse(&c, &moved).unwrap();
        let centre = a.template.centres.iter().find(|x| x.id == j).unwrap();
        assert_eq!(centre.coords, net.centres[other]);
        let claims = a.at_radius(sigma);
        assert!(claims.semantics[0].margins[other] <= 0.0);
        assert!(!claims.holds(&[Semantics::Real]));
    }
}
