//! The pictures of a sweep's table (specs/language.md, "Sweeps"): the
//! certified ratio against the width when `width` is swept, and the
//! certified ratio and the width and depth against N when `points` is.
//!
//! One curve per combination of the other swept keys (`projection = pca`,
//! `projection = random`, ...); failed rows are left out. Which pictures a
//! sweep gets depends only on its keys ([`kinds`]), so their files are
//! known before anything is compiled.

use super::Row;
use crate::plot::curves::{
    line_chart, ratio_against_points, ratio_against_width, size_against_points, TheoryCurve,
};
use crate::plot::theory::rate_shape_beside;
use crate::plot::{Curve, Figure, PlotError};
use crate::spec::SweepSpec;

/// The first line of every SVG file a sweep writes: it tells a picture
/// robmem made (and may replace) from a user's file.
pub const MARKER: &str = "<!-- robmem sweep picture -->";

/// A picture a sweep can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Certified ratio against the compiled width (`width` swept).
    RatioAgainstWidth,
    /// Certified ratio against N (`points` swept).
    RatioAgainstPoints,
    /// Width and depth against N (`points` swept).
    SizeAgainstPoints,
}

impl Kind {
    /// The file name's suffix: `NETWORK.SUFFIX.svg`.
    pub fn suffix(self) -> &'static str {
        match self {
            Kind::RatioAgainstWidth => "ratio-width",
            Kind::RatioAgainstPoints => "ratio-points",
            Kind::SizeAgainstPoints => "size-points",
        }
    }

    /// The swept key on the x axis.
    fn axis(self) -> &'static str {
        match self {
            Kind::RatioAgainstWidth => "width",
            Kind::RatioAgainstPoints | Kind::SizeAgainstPoints => "points",
        }
    }
}

/// The pictures `sweep` gets, from its swept keys alone.
pub fn kinds(sweep: &SweepSpec) -> Vec<Kind> {
    let swept = |key: &str| sweep.axes.iter().any(|a| a.key == key);
    let mut kinds = Vec::new();
    if swept("width") {
        kinds.push(Kind::RatioAgainstWidth);
    }
    if swept("points") {
        kinds.extend([Kind::RatioAgainstPoints, Kind::SizeAgainstPoints]);
    }
    kinds
}

/// Draws picture `kind` of `rows` (one sweep's), as SVG text starting with
/// [`MARKER`].
pub fn draw(kind: Kind, rows: &[Row]) -> Result<Figure, PlotError> {
    let ratio = |r: &Row| r.ratio();
    let mut figure = match kind {
        Kind::RatioAgainstWidth => {
            let curves = curves(
                rows,
                kind.axis(),
                &|r| Some(r.summary()?.width as f64),
                &ratio,
            );
            let theory = theory(rows, &curves);
            line_chart(&ratio_against_width(curves, theory))?
        }
        Kind::RatioAgainstPoints => {
            let curves = curves(rows, kind.axis(), &|r| r.points.map(|n| n as f64), &ratio);
            line_chart(&ratio_against_points(curves, None))?
        }
        Kind::SizeAgainstPoints => {
            let n = |r: &Row| r.points.map(|n| n as f64);
            let sized = [("width", true), ("depth", false)]
                .into_iter()
                .flat_map(|(what, width)| {
                    let size = move |r: &Row| {
                        let s = r.summary()?;
                        Some(if width { s.width } else { s.depth } as f64)
                    };
                    curves(rows, kind.axis(), &n, &size)
                        .into_iter()
                        .map(move |c| Curve {
                            label: format!("{what}, {}", c.label),
                            points: c.points,
                        })
                })
                .collect();
            line_chart(&size_against_points(sized))?
        }
    };
    figure.svg = format!("{MARKER}\n{}", figure.svg);
    Ok(figure)
}

/// One curve per combination of the swept keys other than `axis` (and
/// other than `points` for a width chart, which names N in the label
/// instead), through the rows where `x` and `y` are known, sorted by x.
fn curves(
    rows: &[Row],
    axis: &str,
    x: &dyn Fn(&Row) -> Option<f64>,
    y: &dyn Fn(&Row) -> Option<f64>,
) -> Vec<Curve> {
    let label = |r: &Row| {
        let others: Vec<String> = r
            .values
            .iter()
            .filter(|(k, _)| k != axis)
            .map(|(k, v)| format!("{k} = {}", v.text))
            .collect();
        if others.is_empty() {
            r.network.name.clone()
        } else {
            others.join(", ")
        }
    };
    let mut curves: Vec<Curve> = Vec::new();
    for row in rows {
        let (Some(x), Some(y)) = (x(row), y(row)) else {
            continue;
        };
        let label = label(row);
        match curves.iter_mut().find(|c| c.label == label) {
            Some(curve) => curve.points.push((x, y)),
            None => curves.push(Curve {
                label,
                points: vec![(x, y)],
            }),
        }
    }
    for curve in &mut curves {
        curve.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    curves
}

/// The shape of the theory's l2 rate over the widths drawn, when every
/// compiled row is an l2 network on the same N points (the rate is stated
/// for l2, at one N and d).
fn theory(rows: &[Row], curves: &[Curve]) -> Option<TheoryCurve> {
    let summaries: Vec<_> = rows.iter().filter_map(Row::summary).collect();
    let first = summaries.first()?;
    let comparable = summaries
        .iter()
        .all(|s| s.norm == "l2" && s.points == first.points && s.dim == first.dim);
    if !comparable {
        return None;
    }
    rate_shape_beside(curves, first.points, first.dim)
}
