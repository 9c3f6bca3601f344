//! A text table of a network's layers (`robmem compile --emit layers`).

use crate::ir::layers::{Activation, LayerNetwork, Role};
use std::fmt::Write;

/// Short name of a role's kind, for summaries.
pub fn role_kind(role: &Role) -> &'static str {
    match role {
        Role::Projected { .. } => "projected",
        Role::Accumulator { .. } => "accumulator",
        Role::Comparison { .. } => "comparison",
        Role::MaxMerge { .. } => "max-merge",
        Role::Step { .. } => "step",
        Role::Best => "best",
        Role::BestIncrease => "best-increase",
        Role::Label { .. } => "label",
        Role::DistanceHalf { .. } => "distance-half",
        Role::TreeCarry { .. } => "tree-carry",
        Role::TreeMerge { .. } => "tree-merge",
        Role::MinCarry { .. } => "min-carry",
        Role::MinMerge { .. } => "min-merge",
        Role::Unknown => "unknown",
        Role::Output { .. } => "output",
    }
}

/// Counts of each role kind among `roles`, as `"3 projected, 2 comparison"`,
/// kinds in order of first appearance.
pub fn role_summary(roles: &[Role]) -> String {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for role in roles {
        let kind = role_kind(role);
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind, 1)),
        }
    }
    counts
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line per layer (index, inputs -> outputs, activation, parameters,
/// role counts), then a summary line with depth, width and total parameters.
pub fn layers_report(net: &LayerNetwork) -> String {
    let index_width = net.layers.len().saturating_sub(1).to_string().len();
    let mut out = String::new();
    for (k, layer) in net.layers.iter().enumerate() {
        let activation = match layer.activation {
            Activation::Relu => "relu",
            Activation::Identity => "identity",
        };
        let _ = writeln!(
            out,
            "layer {k:>index_width$}: {:>6} -> {:<6} {activation:<8} {:>10} params  [{}]",
            layer.inputs(),
            layer.outputs(),
            layer.parameters(),
            role_summary(&layer.roles)
        );
    }
    let _ = writeln!(
        out,
        "total: input {}, outputs {}, depth {}, width {}, {} parameters",
        net.input_dim,
        net.output_dim(),
        net.depth(),
        net.width(),
        net.parameters()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::layers::Dense;
    use ndarray::{Array1, Array2};

    #[test]
    fn one_line_per_layer_and_a_summary() {
        let net = LayerNetwork {
            input_dim: 3,
            layers: vec![
                Dense {
                    weight: Array2::zeros((4, 3)),
                    bias: Array1::zeros(4),
                    activation: Activation::Relu,
                    roles: vec![
                        Role::Projected { coordinate: 0 },
                        Role::Projected { coordinate: 1 },
                        Role::Comparison {
                            point: 0,
                            class: 1,
                            slot: 0,
                        },
                        Role::Projected { coordinate: 2 },
                    ],
                },
                Dense {
                    weight: Array2::zeros((2, 4)),
                    bias: Array1::zeros(2),
                    activation: Activation::Identity,
                    roles: vec![Role::Output { index: 0 }, Role::Output { index: 1 }],
                },
            ],
        };
        let report = layers_report(&net);
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0].starts_with("layer 0:      3 -> 4      relu"),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains(" 16 params"));
        assert!(lines[0].ends_with("[3 projected, 1 comparison]"));
        assert!(lines[1].contains("identity"));
        assert!(lines[1].ends_with("[2 output]"));
        assert_eq!(
            lines[2],
            "total: input 3, outputs 2, depth 2, width 4, 26 parameters"
        );
    }
}
