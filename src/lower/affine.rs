//! Affine expressions over the neurons of one layer, and a builder that turns
//! a list of `relu(expression)` neurons into a [`Dense`] layer.
//!
//! Lowering keeps every quantity of a gadget (an accumulator's value, the best
//! score so far, the label register) as an [`Affine`] expression over the
//! current layer's neurons. A new layer is a list of neurons, each the ReLU
//! (or identity) of such an expression; after it, each quantity is rewritten
//! as an expression over the new layer's neurons.

use crate::ir::layers::{Activation, Dense, Role};
use ndarray::{Array1, Array2};

/// `sum_k coefficient_k * neuron_k + constant` over one layer's neurons.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Affine {
    /// (neuron index, coefficient) pairs; an index may repeat (they add up).
    pub terms: Vec<(usize, f64)>,
    /// The constant term.
    pub constant: f64,
}

impl Affine {
    /// The constant `c`.
    pub fn constant(c: f64) -> Affine {
        Affine {
            terms: Vec::new(),
            constant: c,
        }
    }

    /// The value of neuron `k`.
    pub fn neuron(k: usize) -> Affine {
        Affine {
            terms: vec![(k, 1.0)],
            constant: 0.0,
        }
    }

    /// `self + factor * other`.
    pub fn plus(&self, factor: f64, other: &Affine) -> Affine {
        let mut terms = self.terms.clone();
        terms.extend(other.terms.iter().map(|&(k, w)| (k, factor * w)));
        Affine {
            terms,
            constant: self.constant + factor * other.constant,
        }
    }

    /// `factor * self + shift`.
    pub fn scaled(&self, factor: f64, shift: f64) -> Affine {
        Affine {
            terms: self.terms.iter().map(|&(k, w)| (k, factor * w)).collect(),
            constant: factor * self.constant + shift,
        }
    }
}

/// Neurons of one layer under construction.
#[derive(Debug, Default)]
pub struct LayerBuilder {
    rows: Vec<(Affine, Role)>,
}

impl LayerBuilder {
    /// An empty layer.
    pub fn new() -> LayerBuilder {
        LayerBuilder::default()
    }

    /// Adds a neuron computing `expression` (before the activation) and
    /// returns its index in the new layer.
    pub fn push(&mut self, expression: Affine, role: Role) -> usize {
        self.rows.push((expression, role));
        self.rows.len() - 1
    }

    /// Adds a neuron that carries a non-negative quantity through the ReLU
    /// and returns the quantity rewritten over the new layer.
    pub fn carry(&mut self, quantity: &Affine, role: Role) -> Affine {
        Affine::neuron(self.push(quantity.clone(), role))
    }

    /// Number of neurons so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when no neuron has been added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The dense layer reading `inputs` neurons of the previous layer.
    pub fn finish(self, inputs: usize, activation: Activation) -> Dense {
        let mut weight = Array2::zeros((self.rows.len(), inputs));
        let mut bias = Array1::zeros(self.rows.len());
        let mut roles = Vec::with_capacity(self.rows.len());
        for (row, (expression, role)) in self.rows.into_iter().enumerate() {
            for (k, w) in expression.terms {
                weight[[row, k]] += w;
            }
            bias[row] = expression.constant;
            roles.push(role);
        }
        Dense {
            weight,
            bias,
            activation,
            roles,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_adds_repeated_terms_and_keeps_roles() {
        let mut layer = LayerBuilder::new();
        let a = Affine::neuron(0)
            .plus(2.0, &Affine::neuron(0))
            .scaled(1.0, 0.5);
        layer.push(a, Role::Best);
        let carried = layer.carry(&Affine::neuron(1), Role::Label { part: 0 });
        assert_eq!(carried, Affine::neuron(1));
        let dense = layer.finish(2, Activation::Relu);
        assert_eq!(dense.weight, ndarray::array![[3.0, 0.0], [0.0, 1.0]]);
        assert_eq!(dense.bias, ndarray::array![0.5, 0.0]);
        assert_eq!(dense.roles, vec![Role::Best, Role::Label { part: 0 }]);
    }
}
