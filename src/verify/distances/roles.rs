//! The role notation of distance networks (specs/certificate.md section
//! 10.1): `u{k}`, `p{j}.{k}`, `n{j}.{k}`, `g{j}.{t}.{i}`, `e{j}.{t}.{i}`,
//! `a{c}.{s}`, `q{j}@{c}.{s}`, `m{c}.{s}`, `x{c}.{s}` and `o{c}`; label
//! networks add the gadget of section 9: `b`, `i`, `h{c}.{0|1}` and
//! `l{0|1|2}`.

use super::TemplateError;

/// The role of one neuron of a distance network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DistanceRole {
    /// `u{k}`: map coordinate k (the first layer's row k, or a copy of it).
    Coord(usize),
    /// `p{j}.{k}`: `relu(u_k - c_jk)`.
    Pos(usize, usize),
    /// `n{j}.{k}`: `relu(c_jk - u_k)`.
    Neg(usize, usize),
    /// `g{j}.{t}.{i}`: carries node `(t-1, 2i)` of centre j's max tree.
    TreeCarry(usize, usize, usize),
    /// `e{j}.{t}.{i}`: `relu(node (t-1, 2i+1) - node (t-1, 2i))`.
    TreeMerge(usize, usize, usize),
    /// `a{c}.{s}`: the running minimum of slot s of class c.
    Acc(usize, usize),
    /// `q{j}@{c}.{s}`: `relu(R - D_j)` for slot s of class c.
    Cmp(usize, usize, usize),
    /// `m{c}.{s}`: carries slot 2s of class c into a min-tree level.
    MinCarry(usize, usize),
    /// `x{c}.{s}`: `relu(R_{2s} - R_{2s+1})` of class c.
    MinMerge(usize, usize),
    /// `o{c}`: output (logit) c, or (label) `o0`, the label.
    Out(usize),
    /// `b`: label: the best (smallest) class minimum closed so far.
    Best,
    /// `i`: label: `relu(B - R_c)` for the class closed in this layer.
    Gap,
    /// `h{c}.{part}`: label: step neuron `part` (0 or 1) closing class c.
    Step(usize, u8),
    /// `l{part}`: label: the register carried (0) or a half of a write (1, 2).
    Register(u8),
}

/// A decimal number without sign or superfluous leading zero.
fn number(text: &str) -> Option<usize> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// `a.b` as two numbers.
fn pair(text: &str) -> Option<(usize, usize)> {
    let (a, b) = text.split_once('.')?;
    Some((number(a)?, number(b)?))
}

/// `a.b.c` as three numbers.
fn triple(text: &str) -> Option<(usize, usize, usize)> {
    let (a, rest) = text.split_once('.')?;
    let (b, c) = pair(rest)?;
    Some((number(a)?, b, c))
}

impl DistanceRole {
    /// Parses one role word, e.g. `p3.1`, `g0.2.1`, `q7@1.0`; `None` when
    /// the word is not in the notation.
    pub fn parse(text: &str) -> Option<DistanceRole> {
        let (kind, rest) = text.split_at_checked(1)?;
        match kind {
            "u" => number(rest).map(DistanceRole::Coord),
            "p" => pair(rest).map(|(j, k)| DistanceRole::Pos(j, k)),
            "n" => pair(rest).map(|(j, k)| DistanceRole::Neg(j, k)),
            "g" => triple(rest).map(|(j, t, i)| DistanceRole::TreeCarry(j, t, i)),
            "e" => triple(rest).map(|(j, t, i)| DistanceRole::TreeMerge(j, t, i)),
            "a" => pair(rest).map(|(c, s)| DistanceRole::Acc(c, s)),
            "m" => pair(rest).map(|(c, s)| DistanceRole::MinCarry(c, s)),
            "x" => pair(rest).map(|(c, s)| DistanceRole::MinMerge(c, s)),
            "o" => number(rest).map(DistanceRole::Out),
            "b" if rest.is_empty() => Some(DistanceRole::Best),
            "i" if rest.is_empty() => Some(DistanceRole::Gap),
            "h" => pair(rest).and_then(|(c, part)| match part {
                0 | 1 => Some(DistanceRole::Step(c, part as u8)),
                _ => None,
            }),
            "l" => match rest {
                "0" => Some(DistanceRole::Register(0)),
                "1" => Some(DistanceRole::Register(1)),
                "2" => Some(DistanceRole::Register(2)),
                _ => None,
            },
            "q" => {
                let (j, slot) = rest.split_once('@')?;
                let (c, s) = pair(slot)?;
                Some(DistanceRole::Cmp(number(j)?, c, s))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for DistanceRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            DistanceRole::Coord(k) => write!(f, "u{k}"),
            DistanceRole::Pos(j, k) => write!(f, "p{j}.{k}"),
            DistanceRole::Neg(j, k) => write!(f, "n{j}.{k}"),
            DistanceRole::TreeCarry(j, t, i) => write!(f, "g{j}.{t}.{i}"),
            DistanceRole::TreeMerge(j, t, i) => write!(f, "e{j}.{t}.{i}"),
            DistanceRole::Acc(c, s) => write!(f, "a{c}.{s}"),
            DistanceRole::Cmp(j, c, s) => write!(f, "q{j}@{c}.{s}"),
            DistanceRole::MinCarry(c, s) => write!(f, "m{c}.{s}"),
            DistanceRole::MinMerge(c, s) => write!(f, "x{c}.{s}"),
            DistanceRole::Out(c) => write!(f, "o{c}"),
            DistanceRole::Best => write!(f, "b"),
            DistanceRole::Gap => write!(f, "i"),
            DistanceRole::Step(c, part) => write!(f, "h{c}.{part}"),
            DistanceRole::Register(part) => write!(f, "l{part}"),
        }
    }
}

/// Parses a certificate's `layers` list in the distance notation.
pub fn parse_distance_roles(layers: &[String]) -> Result<Vec<Vec<DistanceRole>>, TemplateError> {
    layers
        .iter()
        .enumerate()
        .map(|(layer, line)| {
            line.split_whitespace()
                .enumerate()
                .map(|(neuron, word)| {
                    DistanceRole::parse(word).ok_or_else(|| TemplateError::Neuron {
                        layer,
                        neuron,
                        role: word.to_string(),
                        message: "not a distance role (expected u{k}, p{j}.{k}, n{j}.{k}, g{j}.{t}.{i}, e{j}.{t}.{i}, a{c}.{s}, q{j}@{c}.{s}, m{c}.{s}, x{c}.{s}, o{c}, b, i, h{c}.{0|1} or l{0|1|2})".into(),
                    })
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_and_junk_is_refused() {
        for word in [
            "u0", "u12", "p3.1", "n0.5", "g2.1.0", "e2.3.1", "a1.0", "q17@1.2", "m0.1", "x3.0",
            "o2", "b", "i", "h0.1", "h3.0", "l0", "l2",
        ] {
            let role = DistanceRole::parse(word).expect(word);
            assert_eq!(role.to_string(), word);
        }
        for word in [
            "", "u", "u-1", "u+1", "u01", "p3", "p3.1.2", "g1.2", "q1@2", "q@1.2", "o", "b0",
            "h0.2", "h0", "l3", "l", "i1", "a1.x", "x1..2",
        ] {
            assert_eq!(DistanceRole::parse(word), None, "{word}");
        }
        let err = parse_distance_roles(&["u0 u1".into(), "p0.0 zz".into()]).unwrap_err();
        assert!(
            matches!(
                err,
                TemplateError::Neuron {
                    layer: 1,
                    neuron: 1,
                    ..
                }
            ),
            "{err}"
        );
    }
}
