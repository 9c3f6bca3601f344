//! The check report: for every network of a resolved [`Program`], the data
//! set's size, dimension and classes, its separation delta_p in the network's
//! norm with the pair attaining it, the hard limit delta_p / 2, and whether the
//! requested radius is below that limit (specs/construction.md section 1).
//!
//! Shared by `robmem check` and the compiler (which must refuse the same
//! specs). Separations are computed once per (data set, norm) pair.

use crate::analysis::separation::{separation, Separation};
use crate::data::{Dataset, LabelValue, Provenance};
use crate::diagnostics::SpecError;
use crate::norm::Norm;
use crate::resolve::load_dataset;
use crate::spec::{NetworkSpec, Program, RadiusSpec};
use serde_json::json;

/// One point of the witness pair, described for messages.
#[derive(Clone, Debug, PartialEq)]
pub struct PairPoint {
    /// 0-based index in the data set.
    pub index: usize,
    /// Its label.
    pub label: LabelValue,
    /// Where it came from ("line 4 of xor.rmem"), when known.
    pub place: Option<String>,
}

impl std::fmt::Display for PairPoint {
    /// `point 0 (line 3 of xor.rmem, label 0)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.place {
            Some(place) => write!(f, "point {} ({place}, label {})", self.index, self.label),
            None => write!(f, "point {} (label {})", self.index, self.label),
        }
    }
}

/// What the check concluded about one network.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The radius is below the limit (or `max` with a positive limit).
    Ok,
    /// Every point has the same label: any radius works, the network is a constant.
    SingleLabel,
    /// Two identical points carry different labels (delta = 0).
    Contradictory,
    /// The requested radius (absolute value given) is at or above the limit.
    RadiusTooLarge {
        /// The requested radius in the network's norm.
        sigma: f64,
    },
}

/// The report on one network.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkReport {
    /// Index into [`Program::networks`].
    pub network: usize,
    /// The network's name.
    pub name: String,
    /// The data set's name.
    pub dataset: String,
    /// Number of points N.
    pub points: usize,
    /// Dimension d.
    pub dim: usize,
    /// Each class's label and number of points, in class-index order.
    pub class_sizes: Vec<(LabelValue, usize)>,
    /// The network's norm.
    pub norm: Norm,
    /// delta_p (infinite with a single label).
    pub delta: f64,
    /// delta_p / 2.
    pub limit: f64,
    /// The requested radius as written.
    pub radius: RadiusSpec,
    /// The witness pair, when there are two labels or more.
    pub pair: Option<(PairPoint, PairPoint)>,
    /// The conclusion.
    pub verdict: Verdict,
}

impl NetworkReport {
    /// The separation this report describes (delta and the pair's indices),
    /// as [`crate::pipeline::compile`] takes it.
    pub fn separation(&self) -> Separation {
        Separation {
            delta: self.delta,
            pair: self.pair.as_ref().map(|(a, b)| (a.index, b.index)),
        }
    }

    /// The requested radius as an absolute value, when it is known before
    /// compiling (`max` is decided by the compiler).
    pub fn sigma(&self) -> Option<f64> {
        match self.radius {
            RadiusSpec::Max => None,
            RadiusSpec::Absolute(r) => Some(r),
            RadiusSpec::OfLimit(f) => Some(f * self.limit),
        }
    }

    /// True when the check passes for this network.
    pub fn passes(&self) -> bool {
        matches!(self.verdict, Verdict::Ok | Verdict::SingleLabel)
    }

    /// The JSON object printed by `check --json`. Keys: `network, points,
    /// dim, labels, norm, delta, limit, radius` and the extras `dataset,
    /// class_sizes, pair, ok`. `delta` and `limit` are `null` when there is a
    /// single label; `radius` is a number, or `"max"`.
    pub fn to_json(&self) -> serde_json::Value {
        let finite = |x: f64| if x.is_finite() { json!(x) } else { json!(null) };
        let radius = match self.sigma() {
            Some(s) => json!(s),
            None => json!("max"),
        };
        let pair = self.pair.as_ref().map(|(a, b)| {
            json!([
                {"index": a.index, "label": a.label, "place": a.place},
                {"index": b.index, "label": b.label, "place": b.place},
            ])
        });
        json!({
            "network": self.name,
            "dataset": self.dataset,
            "points": self.points,
            "dim": self.dim,
            "labels": self.class_sizes.len(),
            "class_sizes": self.class_sizes.iter()
                .map(|(label, size)| json!({"label": label, "size": size}))
                .collect::<Vec<_>>(),
            "norm": self.norm.to_string(),
            "delta": finite(self.delta),
            "limit": finite(self.limit),
            "radius": radius,
            "pair": pair,
            "ok": self.passes(),
        })
    }
}

/// The outcome of checking a program.
#[derive(Debug)]
pub struct CheckOutcome {
    /// The loaded data sets, indexed like [`Program::datasets`].
    pub datasets: Vec<Dataset>,
    /// One report per checked network, in declaration order.
    pub reports: Vec<NetworkReport>,
    /// Warnings and errors about the networks (see [`SpecError::is_warning`]).
    pub diagnostics: Vec<SpecError>,
    /// Per report (same order), its diagnostic, if any.
    pub network_diagnostics: Vec<Option<SpecError>>,
}

impl CheckOutcome {
    /// True when no diagnostic is an error.
    pub fn passes(&self) -> bool {
        self.diagnostics.iter().all(SpecError::is_warning)
    }
}

/// Loads every data set of `program` and checks every network. Fails when a
/// data set cannot be loaded (all loading errors are reported together).
pub fn check_program(program: &Program) -> Result<CheckOutcome, SpecError> {
    let all: Vec<usize> = (0..program.networks.len()).collect();
    check_networks(program, &all)
}

/// Like [`check_program`], but computes separations and reports only for the
/// networks at the given indices (in that order).
pub fn check_networks(program: &Program, networks: &[usize]) -> Result<CheckOutcome, SpecError> {
    let mut datasets = Vec::new();
    let mut errors = Vec::new();
    for i in 0..program.datasets.len() {
        let _phase = crate::progress::phase("load data", None);
        match load_dataset(program, i) {
            Ok(d) => datasets.push(d),
            Err(e) => errors.push(e),
        }
    }
    if let Some(err) = SpecError::combine(errors) {
        return Err(err);
    }
    let mut cache: Vec<(usize, Norm, Separation)> = Vec::new();
    let mut reports = Vec::new();
    let mut diagnostics = Vec::new();
    let mut network_diagnostics = Vec::new();
    for &index in networks {
        let net = &program.networks[index];
        let data = &datasets[net.data];
        let sep = match cache
            .iter()
            .find(|(d, n, _)| *d == net.data && *n == net.norm)
        {
            Some((_, _, s)) => *s,
            None => {
                let _phase = crate::progress::phase("separation", None);
                let s = separation(data.points.view(), &data.labels, net.norm);
                cache.push((net.data, net.norm, s));
                s
            }
        };
        let (report, diagnostic) = report_on(program, index, net, data, sep);
        diagnostics.extend(diagnostic.clone());
        network_diagnostics.push(diagnostic);
        reports.push(report);
    }
    Ok(CheckOutcome {
        datasets,
        reports,
        diagnostics,
        network_diagnostics,
    })
}

/// The report on network `net` (declared at `index` of the program) for
/// `data`, whose separation in the network's norm is `sep`, with its
/// diagnostic, as [`check_networks`] makes them: `net` and `data` may
/// differ from the declared ones (a sweep's combination and subsample).
pub fn report_on(
    program: &Program,
    index: usize,
    net: &NetworkSpec,
    data: &Dataset,
    sep: Separation,
) -> (NetworkReport, Option<SpecError>) {
    let report = network_report(program, index, net, data, sep);
    let diagnostic = diagnose(program, net, data, &report);
    (report, diagnostic)
}

fn network_report(
    program: &Program,
    index: usize,
    net: &NetworkSpec,
    data: &Dataset,
    sep: Separation,
) -> NetworkReport {
    let class_sizes = data
        .classes
        .values
        .iter()
        .cloned()
        .zip(data.class_sizes())
        .collect();
    let describe = |i: usize| PairPoint {
        index: i,
        label: data.classes.values[data.labels[i] as usize].clone(),
        place: data.provenance.describe(i),
    };
    let pair = sep.pair.map(|(i, j)| (describe(i), describe(j)));
    let limit = sep.delta / 2.0;
    let mut report = NetworkReport {
        network: index,
        name: net.name.clone(),
        dataset: program.datasets[net.data].name.clone(),
        points: data.len(),
        dim: data.dim(),
        class_sizes,
        norm: net.norm,
        delta: sep.delta,
        limit,
        radius: net.radius,
        pair,
        verdict: Verdict::Ok,
    };
    report.verdict = if sep.pair.is_none() {
        Verdict::SingleLabel
    } else if sep.delta == 0.0 {
        Verdict::Contradictory
    } else {
        match report.sigma() {
            Some(sigma) if sigma >= limit => Verdict::RadiusTooLarge { sigma },
            _ => Verdict::Ok,
        }
    };
    report
}

/// Formats a number for people: integers as such, otherwise 6 significant digits.
pub fn show(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{x}");
    }
    let a = x.abs();
    if (1e-4..1e9).contains(&a) {
        let digits = (5 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.digits$}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        format!("{x:.5e}")
    }
}

/// The span of the text on 1-based `line` of `source`, without its
/// indentation and trailing comment-free whitespace.
fn line_span(source: &str, line: usize) -> Option<miette::SourceSpan> {
    let start: usize = source
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let text = source[start..].lines().next()?;
    let indent = text.len() - text.trim_start().len();
    Some(miette::SourceSpan::new(
        (start + indent).into(),
        text.trim().len(),
    ))
}

/// Labels the pair's points in the spec when they were written inline in it.
fn label_inline_pair(
    program: &Program,
    data: &Dataset,
    r: &NetworkReport,
    err: SpecError,
) -> SpecError {
    let (Provenance::Inline { file, lines }, Some((a, b))) = (&data.provenance, &r.pair) else {
        return err;
    };
    if file != &program.path {
        return err;
    }
    let mut err = err;
    for p in [a, b] {
        if let Some(span) = lines
            .get(p.index)
            .and_then(|&l| line_span(&program.source, l))
        {
            err = err.with_label(span, format!("point {}, label {}", p.index, p.label));
        }
    }
    err
}

fn diagnose(
    program: &Program,
    net: &NetworkSpec,
    data: &Dataset,
    r: &NetworkReport,
) -> Option<SpecError> {
    let err = diagnose_network(program, net, r)?;
    if err.is_warning() {
        Some(err)
    } else {
        Some(label_inline_pair(program, data, r, err))
    }
}

fn diagnose_network(program: &Program, net: &NetworkSpec, r: &NetworkReport) -> Option<SpecError> {
    let pair = r.pair.as_ref();
    match &r.verdict {
        Verdict::Ok => None,
        Verdict::SingleLabel => Some(
            program
                .warning_at(net.data_span, "a single label", format!(
                    "every point of data set `{}` has the same label: network `{}` would be a constant",
                    r.dataset, r.name
                ))
                .with_help("robust memorization needs at least two labels to be meaningful; any radius is achieved by the constant function"),
        ),
        Verdict::Contradictory => {
            let (a, b) = pair.expect("two labels");
            Some(
                program
                    .error_at(net.data_span, "contains identical points with different labels", format!(
                        "data set `{}` contains the same point twice with different labels: {a} and {b}",
                        r.dataset
                    ))
                    .with_help("the separation delta is 0, so no function (network or not) can memorize these points; remove or relabel one of them"),
            )
        }
        Verdict::RadiusTooLarge { sigma } => {
            let (a, b) = pair.expect("two labels");
            let written = match r.radius {
                RadiusSpec::OfLimit(f) => format!("{} of limit = {}", show(f), show(*sigma)),
                _ => show(*sigma),
            };
            Some(
                program
                    .error_at(net.radius_span, format!("at or above the limit delta/2 = {}", show(r.limit)), format!(
                        "radius {written} is not below the limit {} in {}: no function can robustly memorize these points",
                        show(r.limit), r.norm
                    ))
                    .with_help(format!(
                        "{a} and {b} are at {} distance delta = {}; closed balls of radius {} >= delta/2 around them intersect, \
                         and a point in both would need both labels. Ask for a radius below {}, e.g. `radius = 0.9 of limit`",
                        r.norm, show(r.delta), show(*sigma), show(r.limit)
                    )),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{line_span, show};

    #[test]
    fn line_spans_skip_indentation() {
        let src = "a\n  bc d \nlast";
        assert_eq!(line_span(src, 2), Some((4, 4).into()));
        assert_eq!(line_span(src, 3), Some((10, 4).into()));
        assert_eq!(line_span(src, 9), None);
    }

    #[test]
    fn numbers_are_shown_briefly() {
        assert_eq!(show(1.0), "1");
        assert_eq!(show(0.5), "0.5");
        assert_eq!(show(0.1 + 0.2), "0.3");
        assert_eq!(show(f64::INFINITY), "inf");
    }
}
