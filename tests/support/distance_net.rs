//! A test-only builder of distance networks (specs/certificate.md 10.1),
//! written independently of the compiler: map V = I with a shift t, every
//! data point a centre, slots dealt round-robin per class, one centre per
//! slot per layer (pipelined), a min tree per class, outputs
//! `beta_c - alpha R_c`. Used by the verifier's unit tests (through
//! `#[path]`) and by tests/verify_distances.rs. Depends on std only.
#![allow(dead_code, clippy::needless_range_loop)]

use std::collections::HashMap;

/// One affine layer, rows over the previous layer.
#[derive(Clone, Debug)]
pub struct RawLayer {
    /// out x in.
    pub weight: Vec<Vec<f64>>,
    /// out.
    pub bias: Vec<f64>,
    /// ReLU after the layer.
    pub relu: bool,
}

/// A built network and its roles.
#[derive(Clone, Debug)]
pub struct Net {
    /// Layers, input first.
    pub layers: Vec<RawLayer>,
    /// Space-separated roles per layer (the certificate's `layers`).
    pub roles: Vec<String>,
    /// d.
    pub input_dim: usize,
    /// Centres (one per data point, in data order).
    pub centres: Vec<Vec<f64>>,
}

/// What to build.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Data points.
    pub points: Vec<Vec<f64>>,
    /// Class of each point.
    pub labels: Vec<usize>,
    /// Number of classes (outputs).
    pub classes: usize,
    /// true: l_inf distances; false: l1.
    pub linf: bool,
    /// Slots per class (at most the class size).
    pub slots: usize,
    /// The map's shift t (u = x + t).
    pub shift: Vec<f64>,
    /// alpha > 0.
    pub alpha: f64,
    /// beta_c.
    pub beta: Vec<f64>,
    /// Round centres to binary32 (for float32 models).
    pub round32: bool,
}

type Row = Vec<(String, f64)>;

fn leaf(j: usize, l: usize, k: usize) -> String {
    if l < k {
        format!("p{j}.{l}")
    } else {
        format!("n{j}.{}", l - k)
    }
}

/// Widths of the max-tree levels over 2K leaves (level 0 first).
pub fn tree_widths(k: usize) -> Vec<usize> {
    let mut widths = vec![2 * k];
    while *widths.last().unwrap() > 1 {
        let w = widths.last().unwrap().div_ceil(2);
        widths.push(w);
    }
    widths
}

/// Value (t, i) of centre j's tree, as role names with coefficient +1.
fn node(j: usize, t: usize, i: usize, k: usize, widths: &[usize]) -> Vec<String> {
    if t == 0 {
        return vec![leaf(j, i, k)];
    }
    let mut names = vec![format!("g{j}.{t}.{i}")];
    if 2 * i + 1 < widths[t - 1] {
        names.push(format!("e{j}.{t}.{i}"));
    }
    names
}

/// Builds the network of `plan`.
pub fn build(plan: &Plan) -> Net {
    let d = plan.points[0].len();
    let k = d;
    let round = |x: f64| if plan.round32 { f64::from(x as f32) } else { x };
    let centres: Vec<Vec<f64>> = plan
        .points
        .iter()
        .map(|x| {
            x.iter()
                .zip(&plan.shift)
                .map(|(a, t)| round(a + t))
                .collect()
        })
        .collect();
    // Slots: class c's points dealt round-robin.
    let mut lists: Vec<((usize, usize), Vec<usize>)> = Vec::new();
    for c in 0..plan.classes {
        let members: Vec<usize> = (0..plan.points.len())
            .filter(|&i| plan.labels[i] == c)
            .collect();
        let count = plan.slots.min(members.len()).max(1);
        for s in 0..count {
            let list: Vec<usize> = members.iter().skip(s).step_by(count).cloned().collect();
            assert!(!list.is_empty(), "class {c} has no points");
            lists.push(((c, s), list));
        }
    }
    let widths = tree_widths(k);
    let levels = if plan.linf { widths.len() - 1 } else { 0 };
    let maxlen = lists.iter().map(|(_, l)| l.len()).max().unwrap();
    let distance_names = |j: usize| -> Vec<String> {
        if plan.linf {
            node(j, levels, 0, k, &widths)
        } else {
            (0..2 * k).map(|l| leaf(j, l, k)).collect()
        }
    };
    let mut layers: Vec<Vec<(String, Row, f64)>> = Vec::new();
    let mut slot_value: HashMap<(usize, usize), Row> = HashMap::new();
    for l in 1..=maxlen + levels + 1 {
        let mut neurons: Vec<(String, Row, f64)> = Vec::new();
        if l < maxlen {
            for c in 0..k {
                neurons.push((format!("u{c}"), vec![(format!("u{c}"), 1.0)], 0.0));
            }
        }
        for (_, list) in &lists {
            if let Some(&j) = list.get(l - 1) {
                for c in 0..k {
                    let cj = centres[j][c];
                    neurons.push((format!("p{j}.{c}"), vec![(format!("u{c}"), 1.0)], -cj));
                    neurons.push((format!("n{j}.{c}"), vec![(format!("u{c}"), -1.0)], cj));
                }
            }
            for t in 1..=levels {
                let Some(r) = (l - 1).checked_sub(t) else {
                    continue;
                };
                let Some(&j) = list.get(r) else { continue };
                for i in 0..widths[t] {
                    let left = node(j, t - 1, 2 * i, k, &widths);
                    neurons.push((
                        format!("g{j}.{t}.{i}"),
                        left.iter().map(|n| (n.clone(), 1.0)).collect(),
                        0.0,
                    ));
                    if 2 * i + 1 < widths[t - 1] {
                        let right = node(j, t - 1, 2 * i + 1, k, &widths);
                        let mut row: Row = right.iter().map(|n| (n.clone(), 1.0)).collect();
                        row.extend(left.iter().map(|n| (n.clone(), -1.0)));
                        neurons.push((format!("e{j}.{t}.{i}"), row, 0.0));
                    }
                }
            }
        }
        let mut next: HashMap<(usize, usize), Row> = HashMap::new();
        for (&(c, s), list) in lists.iter().map(|(cs, l)| (cs, l)) {
            let Some(r) = l.checked_sub(levels + 2) else {
                continue;
            };
            let a = format!("a{c}.{s}");
            if r == 0 {
                let j = list[0];
                let row = distance_names(j).into_iter().map(|n| (n, 1.0)).collect();
                neurons.push((a.clone(), row, 0.0));
                next.insert((c, s), vec![(a, 1.0)]);
            } else {
                let value = slot_value[&(c, s)].clone();
                neurons.push((a.clone(), value.clone(), 0.0));
                let mut now = vec![(a, 1.0)];
                if let Some(&j) = list.get(r) {
                    let q = format!("q{j}@{c}.{s}");
                    let mut row = value;
                    row.extend(distance_names(j).into_iter().map(|n| (n, -1.0)));
                    neurons.push((q.clone(), row, 0.0));
                    now.push((q, -1.0));
                }
                next.insert((c, s), now);
            }
        }
        slot_value = next;
        layers.push(neurons);
    }
    // Min tree.
    let mut counts: Vec<usize> = (0..plan.classes)
        .map(|c| lists.iter().filter(|((cc, _), _)| *cc == c).count())
        .collect();
    while counts.iter().any(|&n| n > 1) {
        let mut neurons = Vec::new();
        let mut next = HashMap::new();
        for c in 0..plan.classes {
            if counts[c] == 1 {
                let a = format!("a{c}.0");
                neurons.push((a.clone(), slot_value[&(c, 0)].clone(), 0.0));
                next.insert((c, 0), vec![(a, 1.0)]);
                continue;
            }
            let after = counts[c].div_ceil(2);
            for s in 0..after {
                let left = slot_value[&(c, 2 * s)].clone();
                let m = format!("m{c}.{s}");
                neurons.push((m.clone(), left.clone(), 0.0));
                let mut now = vec![(m, 1.0)];
                if 2 * s + 1 < counts[c] {
                    let x = format!("x{c}.{s}");
                    let mut row = left;
                    row.extend(
                        slot_value[&(c, 2 * s + 1)]
                            .iter()
                            .map(|(n, w)| (n.clone(), -w)),
                    );
                    neurons.push((x.clone(), row, 0.0));
                    now.push((x, -1.0));
                }
                next.insert((c, s), now);
            }
            counts[c] = after;
        }
        slot_value = next;
        layers.push(neurons);
    }
    let outputs: Vec<(String, Row, f64)> = (0..plan.classes)
        .map(|c| {
            let row = slot_value[&(c, 0)]
                .iter()
                .map(|(n, w)| (n.clone(), -plan.alpha * w))
                .collect();
            (format!("o{c}"), row, plan.beta[c])
        })
        .collect();
    layers.push(outputs);
    // Dense layers.
    let mut raw = vec![RawLayer {
        weight: (0..k)
            .map(|a| (0..d).map(|b| if a == b { 1.0 } else { 0.0 }).collect())
            .collect(),
        bias: plan.shift.clone(),
        relu: true,
    }];
    let mut roles = vec![(0..k)
        .map(|c| format!("u{c}"))
        .collect::<Vec<_>>()
        .join(" ")];
    let mut prev: HashMap<String, usize> = (0..k).map(|c| (format!("u{c}"), c)).collect();
    let total = layers.len();
    for (index, neurons) in layers.into_iter().enumerate() {
        let width = prev.len();
        let mut weight = Vec::new();
        let mut bias = Vec::new();
        for (name, row, b) in &neurons {
            let mut dense = vec![0.0; width];
            for (n, w) in row {
                let at = *prev
                    .get(n)
                    .unwrap_or_else(|| panic!("{name} reads {n}, not in the previous layer"));
                dense[at] += w;
            }
            weight.push(dense);
            bias.push(*b);
        }
        roles.push(
            neurons
                .iter()
                .map(|n| n.0.clone())
                .collect::<Vec<_>>()
                .join(" "),
        );
        prev = neurons
            .iter()
            .enumerate()
            .map(|(i, n)| (n.0.clone(), i))
            .collect();
        raw.push(RawLayer {
            weight,
            bias,
            relu: index + 1 < total,
        });
    }
    Net {
        layers: raw,
        roles,
        input_dim: d,
        centres,
    }
}
